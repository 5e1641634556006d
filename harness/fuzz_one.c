/* The fuzz entry shared by every target file (exec.h): one executor per process, reused for
 * every input; FAIL and WEDGED print the report and abort() so that the engine (libFuzzer,
 * AFL++, the replay driver) keeps the input. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/exec.h"

/* The structure-aware mutator only generates ops of these roles. The mutator (mutator.c)
 * owns the definition; this weak one keeps engines without the custom mutator linking. */
extern unsigned vqf_mutator_roles;
__attribute__((weak)) unsigned vqf_mutator_roles = VQF_ROLE_ANY;

static struct vqf_result last;
static bool have_last;

const struct vqf_result *vqf_fuzz_last_result(void) { return have_last ? &last : NULL; }

int vqf_fuzz_one(const char *target_name, const uint8_t *data, size_t len)
{
    static struct vqf_exec *x;
    static const struct vqf_target *cur;
    static const char *cur_name;
    /* Every input of a target passes the same name literal: look the table up only when the
     * pointer changes (the lookup is a string compare per target, per input). */
    const struct vqf_target *t = target_name == cur_name && cur ? cur : vqf_target_find(target_name);
    if (!t) {
        fprintf(stderr, "vqfuzz: unknown target '%s'\n", target_name);
        abort();
    }
    if (t != cur) {
        vqf_exec_free(x);
        x = vqf_exec_new(t);
        cur = t;
        if (!x) {
            fprintf(stderr, "vqfuzz: cannot create the executor for '%s'\n", target_name);
            abort();
        }
        vqf_mutator_roles = t->roles;
    }
    cur_name = target_name;
    vqf_exec_run(x, data, len, &last);
    have_last = true;
    if (last.verdict == VQF_FAIL || last.verdict == VQF_WEDGED) {
        vqf_exec_report(x, &last, stderr);
        fflush(stderr);
        abort();
    }
    return 0;
}
