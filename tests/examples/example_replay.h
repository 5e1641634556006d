/* What both example tests do: replay a target's compiled seeds (PASS or REJECT only) and run
 * one program given as text (test_examples.c, test_examples_blk.c). */
#ifndef VQF_TESTS_EXAMPLE_REPLAY_H
#define VQF_TESTS_EXAMPLE_REPLAY_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "harness/exec.h"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Replay every seed of one target: PASS or REJECT only. Returns the number of seeds. */
static unsigned replay_dir(const struct vqf_target *t, const char *root)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", root, t->name);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return 0;
    char *names[64];
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp);
    struct vqf_exec *x = vqf_exec_new(t);
    CHECK(x != NULL);
    for (unsigned i = 0; i < n && x; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        static uint8_t buf[65536];
        size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
        if (f)
            fclose(f);
        struct vqf_result r;
        vqf_exec_run(x, buf, len, &r);
        int ok = r.verdict == VQF_PASS || r.verdict == VQF_REJECT;
        if (!ok) {
            fprintf(stderr, "%s/%s: %s - %s\n", t->name, names[i], vqf_verdict_name(r.verdict), r.detail);
            vqf_exec_report(x, &r, stderr);
        }
        CHECK(ok);
    }
    for (unsigned i = 0; i < n; i++)
        free(names[i]);
    vqf_exec_free(x);
    return n;
}

static void run_text(struct vqf_exec *x, const char *text, struct vqf_result *r)
{
    struct vqf_program p;
    char err[128];
    int rc = vqf_prog_from_text(&p, text, err, sizeof(err));
    CHECK_EQ(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "parse: %s\n", err);
        memset(r, 0, sizeof(*r));
        return;
    }
    vqf_exec_run_program(x, &p, r);
}

#endif
