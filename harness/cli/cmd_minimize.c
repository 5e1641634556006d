/* vqfuzz minimize TARGET FILE [-o OUT] [--budget N]: shrink a finding to the smallest program
 * that reproduces the same verdict and clause; writes OUT.bin and OUT.txt (the text form, its
 * first line a comment naming the clause) ready for corpus/regressions/<target>/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/oracle/clauses.h"
#include "harness/cli/cli.h"
#include "harness/exec.h"
#include "harness/minimize.h"

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || w != len) {
        remove(path); /* a full disk leaves no truncated program that looks like a result */
        return -1;
    }
    return 0;
}

/* "FAIL SPLIT-DSC-05 (2.7.5.2)" or "WEDGED". */
static void finding_name(const struct vqf_result *r, char *buf, size_t cap)
{
    const struct vqf_clause *c = r->clause != VQF_CLAUSE_NONE ? vqf_clause_get(r->clause) : NULL;
    if (c)
        snprintf(buf, cap, "%s %s (%s)", vqf_verdict_name(r->verdict), c->id, c->section);
    else
        snprintf(buf, cap, "%s", vqf_verdict_name(r->verdict));
}

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

    static struct vqf_program in, out;
    static uint8_t bin[VQF_PROG_MAX_SIZE];
    static char text[VQF_PROG_TEXT_MAX + 512];
    char err[512];
    if (cli_load_program(file, &in, NULL, NULL, err, sizeof err) != 0)
        return cli_usage_error("%s", err);
    struct vqf_exec *x = vqf_exec_new(t);
    if (!x)
        return cli_usage_error("minimize: cannot create the executor");
    struct vqf_min_stats st;
    size_t n = 0;
    int rc = vqf_minimize(x, &in, budget, &out, bin, &n, &st);
    char what[160];
    finding_name(&st.result, what, sizeof what);
    if (rc != 0) {
        fprintf(stderr, "vqfuzz: minimize: %s gives %s on %s: no FAIL or WEDGED to keep\n", file, what, target);
        vqf_exec_free(x);
        return VQF_EXIT_USAGE;
    }

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
    /* Strip a trailing .bin / .txt so that -o x.bin and -o x name the same pair. */
    size_t bl = strlen(base);
    if (bl > 4 && (!strcmp(base + bl - 4, ".bin") || !strcmp(base + bl - 4, ".txt")))
        base[bl - 4] = 0;

    int hl = snprintf(text, sizeof text, "# %s: %s, minimized from %u to %u ops; %s\n", target, what, st.ops_before,
                      st.ops_after, st.result.detail);
    if (hl < 0 || (size_t)hl >= sizeof text)
        hl = 0;
    size_t tl = vqf_prog_to_text(&out, text + hl, sizeof text - (size_t)hl);
    char path[4200];
    snprintf(path, sizeof path, "%s.bin", base);
    int werr = write_file(path, bin, n);
    snprintf(path, sizeof path, "%s.txt", base);
    werr |= write_file(path, text, (size_t)hl + tl);
    vqf_exec_free(x);
    if (werr)
        return cli_usage_error("minimize: cannot write %s.bin / %s.txt", base, base);
    printf("%s: %s\n  ops %u -> %u, bytes %zu -> %zu, %llu runs\n  wrote %s.bin and %s.txt\n", target, what,
           st.ops_before, st.ops_after, st.bytes_before, st.bytes_after, (unsigned long long)st.runs, base, base);
    return VQF_EXIT_OK;
}
