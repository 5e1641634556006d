/* Runs text programs on the example adapters (examples/rng_device, examples/rng_driver) as
 * built into this executable (clean, or with -DVQF_BUG=N), and checks each verdict:
 *
 *   vis_run device|driver|pair EXPECT FILE.txt...
 *
 * EXPECT is PASS (PASS or REJECT: nothing judged wrong), or a clause ID the verdict must name
 * (several separated by '|': any of them). Prints the executor's report of every run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/exec.h"
#include "harness/exec_internal.h"
#include "harness/program.h"
#include "vqfuzz/adapter.h"

extern const struct vqf_device_adapter acme_rng_device;
extern const struct vqf_driver_adapter tinyrng_driver;
extern const struct vqf_device_adapter vqf_rng_device;
extern const struct vqf_driver_adapter vqf_rng_driver;

static const struct vqf_target t_device = {"acme_rng_device", "acme device under test", 4, VQF_LIAR_DRIVER,
                                           VQF_ROLE_LDRV, 1u << VQF_SIDE_DEVICE, 0, &acme_rng_device, NULL};
static const struct vqf_target t_driver = {"tinyrng_driver", "tinyrng driver under test", 4, VQF_LIAR_DEVICE,
                                           VQF_ROLE_LDEV, 1u << VQF_SIDE_DRIVER, 0, &vqf_rng_device,
                                           &tinyrng_driver};
static const struct vqf_target t_pair = {"acme_tinyrng_pair", "acme device and tinyrng driver", 4, VQF_LIAR_NONE,
                                         VQF_ROLE_WORK, 3u, 0, &acme_rng_device, &tinyrng_driver};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[VQF_PROG_TEXT_MAX];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int matches(const char *expect, const struct vqf_result *r, const char *clause)
{
    if (strcmp(expect, "PASS") == 0)
        return r->verdict == VQF_PASS || r->verdict == VQF_REJECT;
    if (r->verdict != VQF_FAIL || !clause)
        return 0;
    size_t n = strlen(clause);
    for (const char *p = expect; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, clause, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: vis_run device|driver|pair EXPECT FILE.txt...\n");
        return 2;
    }
    const struct vqf_target *t = strcmp(argv[1], "device") == 0   ? &t_device
                                 : strcmp(argv[1], "driver") == 0 ? &t_driver
                                 : strcmp(argv[1], "pair") == 0   ? &t_pair
                                                                  : NULL;
    if (!t) {
        fprintf(stderr, "vis_run: unknown kind %s\n", argv[1]);
        return 2;
    }
    struct vqf_exec *x = vqf_exec_new(t);
    static struct vqf_program p;
    int bad = 0;
    for (int i = 3; i < argc; i++) {
        char err[128];
        const char *text = slurp(argv[i]);
        if (!text || vqf_prog_from_text(&p, text, err, sizeof(err)) != 0) {
            fprintf(stderr, "vis_run: %s: %s\n", argv[i], text ? err : "unreadable");
            return 2;
        }
        struct vqf_result r;
        vqf_exec_run_program(x, &p, &r);
        const struct vqf_clause *cl = r.clause != VQF_CLAUSE_NONE ? vqf_clause_get(r.clause) : NULL;
        int ok = matches(argv[2], &r, cl ? cl->id : NULL);
        printf("%s: %s %s (expected %s)\n", argv[i], ok ? "ok" : "MISMATCH", vqf_verdict_name(r.verdict), argv[2]);
        if (!ok || getenv("VIS_RUN_VERBOSE"))
            vqf_exec_report(x, &r, stdout);
        if (getenv("VIS_RUN_VERBOSE"))
            vqf_rec_print_tail(x, stdout, 1000); /* the whole flight recorder */
        bad |= !ok;
    }
    vqf_exec_free(x);
    return bad;
}
