/* Standalone replay driver: the main() linked into a target when no fuzzing engine is used.
 * Each argument is a file or a directory (its regular files, sorted by name, recursively);
 * each input is read into a malloc of exactly its size (so that ASan sees any overread) and
 * run once, with one line per input. FAIL and WEDGED abort() inside vqf_fuzz_one, as under
 * an engine, so a failing corpus fails the run. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned long n_inputs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1); /* exactly n bytes (malloc(0) may return NULL) */
    if (!buf || fread(buf, 1, n, f) != n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    /* The name first: if the input aborts, the log says which one. */
    printf("%s: ", path);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, n);
    const struct vqf_result *r = vqf_fuzz_last_result();
    if (r)
        printf("%s ops=%u hash=%016llx%s%s\n", vqf_verdict_name(r->verdict), r->ops_run,
               (unsigned long long)r->trace_hash, r->detail[0] ? " - " : "", r->detail);
    else
        printf("done\n");
    free(buf);
    n_inputs++;
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? run_file(path) : 0;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", hidden files */
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *full = malloc(len);
        snprintf(full, len, "%s/%s", path, names[i]);
        if (run_path(full) != 0)
            rc = -1;
        free(full);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue; /* engine flags (-runs=, -max_len=) are accepted and ignored */
        if (run_path(argv[i]) != 0)
            rc = 2;
    }
    printf("replay: %lu inputs, no FAIL/WEDGED\n", n_inputs);
    return rc;
}
