/* vqfuzz: the command-line tool. `./vqfuzz` at the repository root builds it and runs it;
 * engine-driven subcommands (fuzz, quickstart) are handled by that wrapper script. */
#include "harness/cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vqfuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return VQF_EXIT_USAGE;
}

int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len, char *err, size_t errcap)
{
    struct stat st;
    *data = NULL;
    *len = 0;
    if (stat(path, &st) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s: not a regular file", path);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errcap, "%s: %lld bytes, over the limit of %zu", path, (long long)st.st_size, max);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Exactly the file's size, so that a harness overread is caught by ASan (as libFuzzer does). */
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errcap, "%s: out of memory", path);
        return -1;
    }
    size_t got = n ? fread(buf, 1, n, f) : 0;
    int rd_err = ferror(f);
    fclose(f);
    if (got != n || rd_err) {
        free(buf);
        snprintf(err, errcap, "%s: read error", path);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* The text form starts with a comment or a keyword; binary programs start with the
 * format_flags byte, which is never printable in canonical form... but any byte string is a
 * program, so the caller can force the binary form by name (*.bin). */
static bool looks_like_text(const char *path, const uint8_t *data, size_t len)
{
    size_t pl = strlen(path);
    if (pl > 4 && strcmp(path + pl - 4, ".bin") == 0)
        return false;
    if (pl > 4 && strcmp(path + pl - 4, ".txt") == 0)
        return true;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len && i < 64; i++)
        if (data[i] == 0 || (data[i] < 0x20 && data[i] != '\n' && data[i] != '\r' && data[i] != '\t'))
            return false;
    return data[0] == '#' || (data[0] >= 'a' && data[0] <= 'z');
}

int cli_load_program(const char *path, struct vqf_program *p, uint8_t **raw, size_t *raw_len, char *err,
                     size_t errcap)
{
    /* A text program of 256 ops stays well under 64 KiB; binaries are at most the program size. */
    uint8_t *data;
    size_t len;
    if (cli_read_file(path, 1u << 20, &data, &len, err, errcap) != 0)
        return -1;
    if (looks_like_text(path, data, len)) {
        char *text = malloc(len + 1);
        if (!text) {
            free(data);
            snprintf(err, errcap, "%s: out of memory", path);
            return -1;
        }
        memcpy(text, data, len);
        text[len] = 0;
        char perr[256];
        int rc = vqf_prog_from_text(p, text, perr, sizeof perr);
        free(text);
        if (rc != 0) {
            free(data);
            snprintf(err, errcap, "%s: %s", path, perr);
            return -1;
        }
        free(data);
        /* The binary the text stands for: what engines and the corpus hold. */
        uint8_t *bin = malloc(VQF_PROG_MAX_SIZE);
        if (!bin) {
            snprintf(err, errcap, "%s: out of memory", path);
            return -1;
        }
        size_t n = vqf_prog_encode(p, bin, VQF_PROG_MAX_SIZE);
        if (raw) {
            *raw = bin;
            *raw_len = n;
        } else {
            free(bin);
        }
        return 0;
    }
    if (len > VQF_PROG_MAX_SIZE) {
        free(data);
        snprintf(err, errcap, "%s: %zu bytes, over the program size limit of %u", path, len,
                 (unsigned)VQF_PROG_MAX_SIZE);
        return -1;
    }
    vqf_prog_decode(p, data, len);
    if (raw) {
        *raw = data;
        *raw_len = len;
    } else {
        free(data);
    }
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The directories being walked, innermost first: a directory symlink back to one of them is
 * a loop (skipped), not 32 levels of the same files. */
struct dir_chain {
    dev_t dev;
    ino_t ino;
    const struct dir_chain *up;
};

static int walk(const char *path, cli_file_fn fn, void *ctx, char *err, size_t errcap, int depth,
                const struct dir_chain *up)
{
    struct stat st, lst;
    if (stat(path, &st) != 0) {
        /* Inside a folder, a dangling or looping symlink is skipped like a FIFO: one stale
         * link must not stop the replay of a whole corpus. */
        int stat_errno = errno;
        if (depth > 0 && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
            fprintf(stderr, "vqfuzz: skipping %s: broken symlink (%s)\n", path, strerror(stat_errno));
            return 0;
        }
        snprintf(err, errcap, "%s: %s", path, strerror(stat_errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        int rc = fn(ctx, path);
        return rc < 0 ? rc : 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (depth == 0) {
            snprintf(err, errcap, "%s: not a regular file or directory", path);
            return -1;
        }
        fprintf(stderr, "vqfuzz: skipping %s: not a regular file\n", path);
        return 0;
    }
    for (const struct dir_chain *a = up; a; a = a->up)
        if (a->dev == st.st_dev && a->ino == st.st_ino) {
            fprintf(stderr, "vqfuzz: skipping %s: directory loop\n", path);
            return 0;
        }
    struct dir_chain here = {st.st_dev, st.st_ino, up};
    if (depth > 32) {
        snprintf(err, errcap, "%s: directories nested too deep (symlink loop?)", path);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = 0, cap = 64;
    char **names = malloc(cap * sizeof(char *));
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., and hidden files (editor and engine temporaries) */
        if (n == cap) {
            cap *= 2;
            char **nn = realloc(names, cap * sizeof(char *));
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (!names) {
        snprintf(err, errcap, "%s: out of memory", path);
        return -1;
    }
    qsort(names, n, sizeof(char *), cmp_names);
    int total = 0, rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc >= 0 && names[i]) {
            size_t plen = strlen(path) + strlen(names[i]) + 2;
            char *child = malloc(plen);
            if (child) {
                snprintf(child, plen, "%s/%s", path, names[i]);
                rc = walk(child, fn, ctx, err, errcap, depth + 1, &here);
                if (rc > 0)
                    total += rc;
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc < 0 ? rc : total;
}

int cli_walk_inputs(const char *path, cli_file_fn fn, void *ctx, char *err, size_t errcap)
{
    return walk(path, fn, ctx, err, errcap, 0, NULL);
}

static void usage(FILE *out)
{
    fputs("usage: vqfuzz COMMAND [ARGS]\n"
          "\n"
          "  quickstart                        set up, then a short campaign on the built-in targets\n"
          "  list [--json]                     targets, one line each\n"
          "  run TARGET PATH... [--quiet]      replay files or folders (binary or text programs);\n"
          "                                    one verdict per input, the report of each finding\n"
          "  decode FILE                       binary program -> readable text (stdout)\n"
          "  encode FILE.txt -o FILE           text program -> binary\n"
          "  stress TARGET [--seconds N] [--count N] [--seed S] [--out DIR]\n"
          "                                    generated programs, no engine: programs/s, ring ops/s, findings\n"
          "  clauses [--json]                  the oracle's clause table\n"
          "  explain CLAUSE                    one clause: section, side, strength, meaning\n"
          "  minimize TARGET FILE [-o OUT]     shrink a finding (same verdict and clause): OUT.bin, OUT.txt\n"
          "  fuzz TARGET [--engine libfuzzer|afl] [--seconds N] [--jobs J]\n"
          "                                    fuzz one target with an engine (via ./vqfuzz)\n"
          "  bench [--json] [--quick] [--out DIR]\n"
          "                                    the benchmark suite (bench/suite): ratios, exec/s, table, plot\n"
          "\n"
          "Exit status: 0 nothing found, 1 findings, 2 bad usage or unreadable input.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return cli_usage_error("no command given");
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return VQF_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"list", cmd_list},       {"run", cmd_run},         {"decode", cmd_decode},   {"encode", cmd_encode},
        {"stress", cmd_stress},   {"clauses", cmd_clauses}, {"explain", cmd_explain},
        {"minimize", cmd_minimize}, {"bench", cmd_bench},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmd, cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    if (!strcmp(cmd, "fuzz") || !strcmp(cmd, "quickstart") || !strcmp(cmd, "campaign"))
        return cli_usage_error("'%s' runs through the ./vqfuzz wrapper at the repository root", cmd);
    usage(stderr);
    return cli_usage_error("unknown command '%s'", cmd);
}
