/* Executor speed: inputs per second of vqf_exec_run for each target, over its seed corpus and
 * over generated programs, without a fuzzing engine (the engine's own cost is measured apart,
 * with an empty target under the same engine). Also prints a digest of every verdict and trace
 * hash, so that a change meant to be pure speed can be checked to change no behaviour.
 *
 * Usage: exec_speed [--json] [--target NAME] [--corpus DIR] [--runs N] [--iters N] [--gen N]
 *   --corpus DIR  folder holding one sub-folder of binary seeds per target (DIR/TARGET/NAME.bin)
 *   --runs N      timed repetitions; the median is reported (default 5)
 *   --iters N     inputs per repetition (default 20000): the corpus is cycled
 *   --gen N       generated programs per target (seeds 1..N, default 256)
 * Meant for a release build. Rates are per CPU second of this thread (one core, steady on a
 * busy machine). Timing is not part of the deterministic path, so this is not a test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/exec.h"
#include "harness/generate.h"

#define MAX_SEEDS 256u
#define MAX_RUNS 31u

struct input {
    uint8_t *data;
    size_t len;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The seeds of one target, sorted by name (so the digest does not depend on readdir order). */
static unsigned load_seeds(const char *dir, const char *target, struct input *in)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, target);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    char *names[MAX_SEEDS];
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SEEDS) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".bin") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        char fp[1280];
        snprintf(fp, sizeof(fp), "%s/%s", path, names[i]);
        free(names[i]);
        FILE *f = fopen(fp, "rb");
        if (!f)
            continue;
        uint8_t buf[1 << 16];
        size_t len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        in[k].data = malloc(len ? len : 1);
        memcpy(in[k].data, buf, len);
        in[k].len = len;
        k++;
    }
    return k;
}

/* Median inputs per CPU second over `runs` repetitions of `iters` inputs. */
static double rate(struct vqf_exec *x, const struct input *in, unsigned n, unsigned runs, unsigned iters)
{
    double r[MAX_RUNS];
    struct vqf_result res;
    for (unsigned k = 0; k < runs; k++) {
        double t0 = cpu_now();
        for (unsigned i = 0; i < iters; i++)
            vqf_exec_run(x, in[i % n].data, in[i % n].len, &res);
        double dt = cpu_now() - t0;
        r[k] = dt > 0 ? iters / dt : 0;
    }
    qsort(r, runs, sizeof(r[0]), cmp_double);
    return r[runs / 2];
}

/* Verdicts and trace hashes of every input, folded (order matters). */
static uint64_t digest(struct vqf_exec *x, const struct input *in, unsigned n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    struct vqf_result res;
    for (unsigned i = 0; i < n; i++) {
        vqf_exec_run(x, in[i].data, in[i].len, &res);
        h = (h ^ res.trace_hash ^ ((uint64_t)res.verdict << 56) ^ res.clause) * 0x100000001b3ull;
    }
    return h;
}

int main(int argc, char **argv)
{
    const char *only = NULL, *corpus = "corpus";
    unsigned runs = 5, iters = 20000, ngen = 256;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--target") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--corpus") && i + 1 < argc)
            corpus = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--gen") && i + 1 < argc)
            ngen = (unsigned)strtoul(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: exec_speed [--json] [--target NAME] [--corpus DIR] [--runs N] [--iters N] "
                            "[--gen N]\n");
            return 2;
        }
    }
    if (runs < 1)
        runs = 1;
    if (runs > MAX_RUNS)
        runs = MAX_RUNS;
    if (iters < 1)
        iters = 1;
    if (ngen > MAX_SEEDS)
        ngen = MAX_SEEDS;

    static struct input seeds[MAX_SEEDS], gen[MAX_SEEDS];
    static uint8_t enc[1 << 16];
    static struct vqf_program prog;
    if (json)
        printf("{\"runs\": %u, \"iters\": %u, \"targets\": [", runs, iters);
    int first = 1;
    for (unsigned ti = 0; ti < vqf_target_count(); ti++) {
        const struct vqf_target *t = vqf_target_at(ti);
        if (only && strcmp(only, t->name))
            continue;
        struct vqf_exec *x = vqf_exec_new(t);
        if (!x)
            continue;
        unsigned ns = load_seeds(corpus, t->name, seeds);
        for (unsigned g = 0; g < ngen; g++) {
            vqf_prog_generate_masked(&prog, g + 1, t->roles, t->device_id, vqf_target_op_mask(t));
            size_t len = vqf_prog_encode(&prog, enc, sizeof(enc));
            gen[g].data = malloc(len ? len : 1);
            memcpy(gen[g].data, enc, len);
            gen[g].len = len;
        }
        uint64_t ds = ns ? digest(x, seeds, ns) : 0, dg = ngen ? digest(x, gen, ngen) : 0;
        double rs = ns ? rate(x, seeds, ns, runs, iters) : 0;
        double rg = ngen ? rate(x, gen, ngen, runs, iters) : 0;
        if (json)
            printf("%s\n  {\"target\": \"%s\", \"seeds\": %u, \"seed_exec_per_s\": %.0f, \"seed_digest\": \"%016llx\", "
                   "\"generated\": %u, \"gen_exec_per_s\": %.0f, \"gen_digest\": \"%016llx\"}",
                   first ? "" : ",", t->name, ns, rs, (unsigned long long)ds, ngen, rg, (unsigned long long)dg);
        else
            printf("%-16s seeds %3u %9.0f exec/s  digest %016llx   generated %3u %9.0f exec/s  digest %016llx\n",
                   t->name, ns, rs, (unsigned long long)ds, ngen, rg, (unsigned long long)dg);
        fflush(stdout);
        first = 0;
        for (unsigned i = 0; i < ns; i++)
            free(seeds[i].data);
        for (unsigned g = 0; g < ngen; g++)
            free(gen[g].data);
        vqf_exec_free(x);
    }
    if (json)
        printf("\n]}\n");
    return 0;
}
