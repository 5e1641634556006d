/* Build-time seed compiler: text programs (harness/program_text.c form) to binary seeds.
 * Usage: vqf_seedc OUT_DIR IN.txt...  writes OUT_DIR/<basename>.bin for each input.
 * Exit 1 on a parse error, with "file: line N: reason". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/program.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: vqf_seedc OUT_DIR IN.txt...\n");
        return 2;
    }
    static struct vqf_program p;
    static uint8_t bin[VQF_PROG_MAX_SIZE];
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        char *text = slurp(argv[i]);
        char err[160] = "";
        if (!text || vqf_prog_from_text(&p, text, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], text ? err : "cannot read");
            free(text);
            rc = 1;
            continue;
        }
        free(text);
        size_t n = vqf_prog_encode(&p, bin, sizeof(bin));
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        char out[4096];
        size_t bl = strlen(base);
        if (bl > 4 && strcmp(base + bl - 4, ".txt") == 0)
            bl -= 4;
        snprintf(out, sizeof(out), "%s/%.*s.bin", argv[1], (int)bl, base);
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(bin, 1, n, f) != n) {
            fprintf(stderr, "%s: cannot write\n", out);
            rc = 1;
        }
        if (f)
            fclose(f);
    }
    return rc;
}
