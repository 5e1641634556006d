/* vqfuzz minimize TARGET FILE [-o OUT] [--budget N]: shrink a finding to the smallest program
 * that reproduces the same verdict and clause; writes OUT.bin and OUT.txt (the text form, its
 * first line a comment naming the clause) ready for corpus/regressions/<target>/. The work is
 * vqf_minimize_to_files() (harness/minimize.c), which adapter targets share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/cli/cli.h"
#include "harness/exec.h"
#include "harness/minimize.h"

int cmd_minimize(int argc, char **argv)
{
    const char *target = NULL, *file = NULL, *outp = NULL;
    unsigned long long budget = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            outp = argv[++i];
        else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
            budget = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] == '-')
            return cli_usage_error("minimize: unknown option '%s'", argv[i]);
        else if (!target)
            target = argv[i];
        else if (!file)
            file = argv[i];
        else
            return cli_usage_error("minimize: unexpected argument '%s'", argv[i]);
    }
    if (!target || !file)
        return cli_usage_error("usage: vqfuzz minimize TARGET FILE [-o OUT] [--budget RUNS]");
    const struct vqf_target *t = vqf_target_find(target);
    if (!t)
        return cli_usage_error("minimize: unknown target '%s' (see: vqfuzz list)", target);

    static struct vqf_program in;
    char err[512];
    if (cli_load_program(file, &in, NULL, NULL, err, sizeof err) != 0)
        return cli_usage_error("%s", err);
    struct vqf_exec *x = vqf_exec_new(t);
    if (!x)
        return cli_usage_error("minimize: cannot create the executor");

    char base[4096];
    if (outp) {
        snprintf(base, sizeof base, "%s", outp);
    } else {
        snprintf(base, sizeof base, "%s", file);
        char *dot = strrchr(base, '.');
        char *slash = strrchr(base, '/');
        if (dot && (!slash || dot > slash))
            *dot = 0;
        strncat(base, ".min", sizeof base - strlen(base) - 1);
    }
    int rc = vqf_minimize_to_files(x, target, &in, budget, base, stdout);
    vqf_exec_free(x);
    return rc == 0 ? VQF_EXIT_OK : VQF_EXIT_USAGE;
}
