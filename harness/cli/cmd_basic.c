/* vqfuzz list | run | decode | encode | clauses | explain */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emulator/oracle/clauses.h"
#include "harness/cli/cli.h"
#include "harness/exec.h"

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static const char *liar_name(enum vqf_liar l)
{
    return l == VQF_LIAR_DRIVER ? "driver" : l == VQF_LIAR_DEVICE ? "device" : "none";
}

static const char *judged_name(unsigned judged)
{
    unsigned drv = judged & (1u << VQF_SIDE_DRIVER), dev = judged & (1u << VQF_SIDE_DEVICE);
    return drv && dev ? "both" : drv ? "driver" : dev ? "device" : "none";
}

int cmd_list(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            return cli_usage_error("list: unknown argument '%s'", argv[i]);
    }
    unsigned n = vqf_target_count();
    if (json)
        fputs("[\n", stdout);
    for (unsigned i = 0; i < n; i++) {
        const struct vqf_target *t = vqf_target_at(i);
        if (json) {
            fputs("  {\"name\": ", stdout);
            json_string(stdout, t->name);
            printf(", \"device_id\": %u, \"under_test\": ", t->device_id);
            json_string(stdout, judged_name(t->judged_sides));
            fputs(", \"fuzzer_plays\": ", stdout);
            json_string(stdout, t->liar == VQF_LIAR_NONE ? "workload" : liar_name(t->liar));
            fputs(", \"summary\": ", stdout);
            json_string(stdout, t->summary);
            printf("}%s\n", i + 1 < n ? "," : "");
        } else {
            printf("%-16s %s\n", t->name, t->summary);
        }
    }
    if (json)
        fputs("]\n", stdout);
    return VQF_EXIT_OK;
}

struct run_ctx {
    struct vqf_exec *x;
    const struct vqf_target *t;
    bool quiet;
    unsigned inputs, findings, unreadable;
    unsigned by_verdict[5];
};

static int run_one(void *vctx, const char *path)
{
    struct run_ctx *c = vctx;
    struct vqf_program *p = malloc(sizeof *p);
    if (!p)
        return -1;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    char err[320];
    if (cli_load_program(path, p, &raw, &raw_len, err, sizeof err) != 0) {
        fprintf(stderr, "vqfuzz: %s\n", err);
        c->unreadable++;
        free(p);
        return 0;
    }
    struct vqf_result res;
    /* Replay exactly the bytes an engine would see, so that hashes match the engine's run. */
    vqf_exec_run(c->x, raw, raw_len, &res);
    c->inputs++;
    if ((unsigned)res.verdict < 5)
        c->by_verdict[res.verdict]++;
    bool finding = res.verdict == VQF_FAIL || res.verdict == VQF_WEDGED || res.verdict == VQF_CRASH;
    if (finding)
        c->findings++;
    if (!c->quiet || finding) {
        printf("%-6s %s", vqf_verdict_name(res.verdict), path);
        if (res.verdict == VQF_FAIL && res.clause != VQF_CLAUSE_NONE)
            printf("  %s", vqf_clause_get(res.clause)->id);
        printf("  trace=%016llx\n", (unsigned long long)res.trace_hash);
    }
    if (finding)
        vqf_exec_report(c->x, &res, stdout);
    free(raw);
    free(p);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    if (argc < 3)
        return cli_usage_error("usage: vqfuzz run TARGET PATH... [--quiet]");
    const struct vqf_target *t = vqf_target_find(argv[1]);
    if (!t)
        return cli_usage_error("unknown target '%s' (see: vqfuzz list)", argv[1]);
    struct run_ctx c = {0};
    c.t = t;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--quiet"))
            c.quiet = true;
    c.x = vqf_exec_new(t);
    if (!c.x)
        return cli_usage_error("cannot create an executor for %s", t->name);
    int rc = VQF_EXIT_OK;
    unsigned paths = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--quiet"))
            continue;
        if (argv[i][0] == '-') {
            rc = cli_usage_error("run: unknown option '%s'", argv[i]);
            break;
        }
        paths++;
        char err[320];
        if (cli_walk_inputs(argv[i], run_one, &c, err, sizeof err) < 0) {
            rc = cli_usage_error("%s", err);
            break;
        }
    }
    vqf_exec_free(c.x);
    if (rc != VQF_EXIT_OK)
        return rc;
    if (paths == 0)
        return cli_usage_error("run: no input path given");
    fprintf(stderr, "vqfuzz: %s: %u inputs: %u PASS, %u REJECT, %u FAIL, %u WEDGED%s\n", t->name, c.inputs,
            c.by_verdict[VQF_PASS], c.by_verdict[VQF_REJECT], c.by_verdict[VQF_FAIL], c.by_verdict[VQF_WEDGED],
            c.unreadable ? " (some inputs unreadable)" : "");
    if (c.findings)
        return VQF_EXIT_FINDINGS;
    if (c.unreadable || c.inputs == 0)
        return c.inputs == 0 ? cli_usage_error("run: no readable input") : VQF_EXIT_USAGE;
    return VQF_EXIT_OK;
}

int cmd_decode(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("usage: vqfuzz decode FILE");
    struct vqf_program *p = malloc(sizeof *p);
    char *text = malloc(1u << 20);
    int rc = VQF_EXIT_OK;
    char err[320];
    if (!p || !text) {
        rc = cli_usage_error("out of memory");
    } else if (cli_load_program(argv[1], p, NULL, NULL, err, sizeof err) != 0) {
        rc = cli_usage_error("%s", err);
    } else if (vqf_prog_to_text(p, text, 1u << 20) == 0) {
        rc = cli_usage_error("%s: text form too large", argv[1]);
    } else {
        fputs(text, stdout);
    }
    free(p);
    free(text);
    return rc;
}

int cmd_encode(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] == '-')
            return cli_usage_error("encode: unknown option '%s'", argv[i]);
        else if (!in)
            in = argv[i];
        else
            return cli_usage_error("usage: vqfuzz encode FILE.txt -o FILE");
    }
    if (!in || !out)
        return cli_usage_error("usage: vqfuzz encode FILE.txt -o FILE");
    struct vqf_program *p = malloc(sizeof *p);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    char err[320];
    int rc = VQF_EXIT_OK;
    if (!p)
        return cli_usage_error("out of memory");
    if (cli_load_program(in, p, &raw, &raw_len, err, sizeof err) != 0) {
        rc = cli_usage_error("%s", err);
    } else {
        /* Write to a temporary name, then rename: never leave a half-written program behind. */
        size_t tl = strlen(out) + 16;
        char *tmp = malloc(tl);
        snprintf(tmp, tl, "%s.tmp%d", out, (int)getpid());
        FILE *f = fopen(tmp, "wb");
        uint8_t *bin = malloc(VQF_PROG_MAX_SIZE);
        size_t n = bin ? vqf_prog_encode(p, bin, VQF_PROG_MAX_SIZE) : 0;
        if (!f || !bin || fwrite(bin, 1, n, f) != n || fclose(f) != 0 || rename(tmp, out) != 0) {
            rc = cli_usage_error("%s: cannot write: %s", out, strerror(errno));
            remove(tmp);
        }
        free(bin);
        free(tmp);
    }
    free(raw);
    free(p);
    return rc;
}

int cmd_clauses(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else
            return cli_usage_error("clauses: unknown argument '%s'", argv[i]);
    }
    unsigned impl = 0, total = 0;
    if (json)
        fputs("{\"clauses\": [\n", stdout);
    for (unsigned id = 1; id < VQF_CLAUSE_COUNT; id++) {
        const struct vqf_clause *c = vqf_clause_get((enum vqf_clause_id)id);
        total++;
        impl += c->implemented;
        if (json) {
            fputs("  {\"id\": ", stdout);
            json_string(stdout, c->id);
            fputs(", \"section\": ", stdout);
            json_string(stdout, c->section);
            fputs(", \"side\": ", stdout);
            json_string(stdout, vqf_clause_side_name(c->side));
            fputs(", \"strength\": ", stdout);
            json_string(stdout, vqf_clause_strength_name(c->strength));
            fputs(", \"checkable\": ", stdout);
            json_string(stdout, vqf_clause_chk_name(c->chk));
            printf(", \"implemented\": %s, \"meaning\": ", c->implemented ? "true" : "false");
            json_string(stdout, c->meaning);
            printf("}%s\n", id + 1 < VQF_CLAUSE_COUNT ? "," : "");
        } else {
            printf("%-13s %-10s %-6s %-11s %-6s %s %s\n", c->id, c->section, vqf_clause_side_name(c->side),
                   vqf_clause_strength_name(c->strength), vqf_clause_chk_name(c->chk),
                   c->implemented ? "[checked]" : "[-------]", c->meaning);
        }
    }
    if (json)
        printf("], \"total\": %u, \"implemented\": %u}\n", total, impl);
    else
        printf("%u clauses, %u checked by the oracle\n", total, impl);
    return VQF_EXIT_OK;
}

int cmd_explain(int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("usage: vqfuzz explain CLAUSE   (e.g. SPLIT-DSC-05)");
    enum vqf_clause_id id = vqf_clause_find(argv[1]);
    if (id == VQF_CLAUSE_NONE)
        return cli_usage_error("unknown clause '%s' (see: vqfuzz clauses)", argv[1]);
    const struct vqf_clause *c = vqf_clause_get(id);
    printf("%s  (spec section %s)\n", c->id, c->section);
    printf("  side:      %s\n", vqf_clause_side_name(c->side));
    printf("  strength:  %s\n", vqf_clause_strength_name(c->strength));
    printf("  checkable: %s\n", vqf_clause_chk_name(c->chk));
    printf("  oracle:    %s\n", c->implemented ? "checked at run time" : "not checked");
    printf("  meaning:   %s\n", c->meaning);
    return VQF_EXIT_OK;
}
