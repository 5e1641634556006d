/* vqfuzz stress TARGET: generated programs without an engine. Prints programs/s and ring
 * ops/s, saves every finding (binary and text) with a one-command reproducer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli/cli.h"
#include "harness/cli/stress_threads.h"
#include "harness/exec.h"
#include "harness/generate.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static int save_finding(const char *dir, const char *target, uint64_t seed, const struct vqf_program *p,
                        char *path_out, size_t cap)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -1;
    uint8_t *bin = malloc(VQF_PROG_MAX_SIZE);
    char *text = malloc(1u << 20);
    int rc = -1;
    if (bin && text) {
        size_t n = vqf_prog_encode(p, bin, VQF_PROG_MAX_SIZE);
        snprintf(path_out, cap, "%s/%s-seed-%llu.bin", dir, target, (unsigned long long)seed);
        FILE *f = fopen(path_out, "wb");
        if (f && fwrite(bin, 1, n, f) == n && fclose(f) == 0) {
            char tpath[1200];
            snprintf(tpath, sizeof tpath, "%s/%s-seed-%llu.txt", dir, target, (unsigned long long)seed);
            FILE *t = fopen(tpath, "w");
            if (t && vqf_prog_to_text(p, text, 1u << 20)) {
                fputs(text, t);
                rc = fclose(t) == 0 ? 0 : -1;
            } else if (t) {
                fclose(t);
            }
            if (rc != 0) { /* a full disk leaves no truncated program behind (errno kept for the message) */
                int e = errno;
                remove(tpath);
                remove(path_out);
                errno = e;
            }
        } else if (f) {
            int e = errno;
            fclose(f);
            remove(path_out);
            errno = e;
        }
    }
    free(bin);
    free(text);
    return rc;
}

int cmd_stress(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(
            "usage: vqfuzz stress TARGET [--seconds N] [--count N] [--seed S] [--out DIR] [--json] [--threads]");
    const struct vqf_target *t = vqf_target_find(argv[1]);
    if (!t)
        return cli_usage_error("unknown target '%s' (see: vqfuzz list)", argv[1]);
    uint64_t seconds = 0, count = 0, seed = 1;
    const char *out = "reports/stress";
    bool json = false, threads = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--threads")) {
            threads = true; /* the target's honest pair on two threads (stress_threads.c) */
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage_error("stress: option '%s' needs a value", a);
        uint64_t v = 0;
        if (!strcmp(a, "--out")) {
            out = argv[++i];
            continue;
        }
        if (parse_u64(argv[i + 1], &v) != 0)
            return cli_usage_error("stress: '%s' is not a number for %s", argv[i + 1], a);
        i++;
        if (!strcmp(a, "--seconds"))
            seconds = v;
        else if (!strcmp(a, "--count"))
            count = v;
        else if (!strcmp(a, "--seed"))
            seed = v;
        else
            return cli_usage_error("stress: unknown option '%s'", a);
    }
    if (!seconds && !count)
        seconds = 10;
    if (threads)
        return vqf_stress_threads(t, seconds, seed, json);
    struct vqf_exec *x = vqf_exec_new(t);
    struct vqf_program *p = malloc(sizeof *p);
    if (!x || !p)
        return cli_usage_error("cannot create an executor for %s", t->name);
    uint64_t verdicts[5] = {0}, ring_ops = 0, n = 0, findings = 0;
    double start = now_seconds(), last_progress = start;
    bool tty = isatty(2);
    for (;;) {
        if (count && n >= count)
            break;
        /* The clock is read every 256 programs: it decides only when to stop, never what runs. */
        if (seconds && (n & 255) == 0) {
            double now = now_seconds();
            if (now - start >= (double)seconds)
                break;
            if (now - last_progress >= (tty ? 1.0 : 10.0)) {
                last_progress = now;
                fprintf(stderr, "%s[stress %s] %llu programs, %.0f/s, %llu findings%s", tty ? "\r" : "", t->name,
                        (unsigned long long)n, (double)n / (now - start), (unsigned long long)findings,
                        tty ? "" : "\n");
            }
        }
        uint64_t s = seed + n;
        vqf_prog_generate_masked(p, s, t->roles, t->device_id, vqf_target_op_mask(t));
        struct vqf_result res;
        vqf_exec_run_program(x, p, &res);
        n++;
        ring_ops += res.ring_ops;
        if ((unsigned)res.verdict < 5)
            verdicts[res.verdict]++;
        if (res.verdict == VQF_FAIL || res.verdict == VQF_WEDGED) {
            findings++;
            char path[1200];
            if (tty)
                fputc('\n', stderr);
            if (save_finding(out, t->name, s, p, path, sizeof path) == 0)
                printf("%s %s  %s\n  reproduce: ./vqfuzz run %s %s\n", vqf_verdict_name(res.verdict),
                       res.clause != VQF_CLAUSE_NONE ? vqf_clause_get(res.clause)->id : "", res.detail, t->name,
                       path);
            else
                printf("%s %s  %s (could not save the program under %s: %s)\n", vqf_verdict_name(res.verdict),
                       res.clause != VQF_CLAUSE_NONE ? vqf_clause_get(res.clause)->id : "", res.detail, out,
                       strerror(errno));
            if (findings == 1)
                vqf_exec_report(x, &res, stdout);
        }
    }
    double elapsed = now_seconds() - start;
    if (elapsed <= 0)
        elapsed = 1e-9;
    if (tty && seconds)
        fputc('\n', stderr);
    if (json) {
        printf("{\"target\": \"%s\", \"programs\": %llu, \"seconds\": %.3f, \"programs_per_s\": %.1f, "
               "\"ring_ops_per_s\": %.1f, \"pass\": %llu, \"reject\": %llu, \"fail\": %llu, \"wedged\": %llu, "
               "\"findings\": %llu}\n",
               t->name, (unsigned long long)n, elapsed, (double)n / elapsed, (double)ring_ops / elapsed,
               (unsigned long long)verdicts[VQF_PASS], (unsigned long long)verdicts[VQF_REJECT],
               (unsigned long long)verdicts[VQF_FAIL], (unsigned long long)verdicts[VQF_WEDGED],
               (unsigned long long)findings);
    } else {
        printf("%s: %llu programs in %.1f s: %.0f programs/s, %.0f ring ops/s; %llu PASS, %llu REJECT, %llu FAIL, "
               "%llu WEDGED\n",
               t->name, (unsigned long long)n, elapsed, (double)n / elapsed, (double)ring_ops / elapsed,
               (unsigned long long)verdicts[VQF_PASS], (unsigned long long)verdicts[VQF_REJECT],
               (unsigned long long)verdicts[VQF_FAIL], (unsigned long long)verdicts[VQF_WEDGED]);
    }
    free(p);
    vqf_exec_free(x);
    return findings ? VQF_EXIT_FINDINGS : VQF_EXIT_OK;
}
