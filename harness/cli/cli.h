/* The vqfuzz command-line tool: shared helpers of the subcommands. */
#ifndef VQF_CLI_H
#define VQF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/program.h"

/* Exit statuses (DESIGN.md "Command line"). */
#define VQF_EXIT_OK 0
#define VQF_EXIT_FINDINGS 1
#define VQF_EXIT_USAGE 2

/* Print "vqfuzz: <message>" to stderr and return VQF_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole regular file (at most max bytes). Returns 0, or -1 with a one-line reason in
 * err (missing, unreadable, not a regular file, too large). *data is malloc'ed (exact size). */
int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len, char *err, size_t errcap);

/* Load a program from a file: the text form when the file starts with '#' or a letter, else
 * the binary form. Returns 0, or -1 with "file:line: reason" in err. */
int cli_load_program(const char *path, struct vqf_program *p, uint8_t **raw, size_t *raw_len, char *err,
                     size_t errcap);

/* Collect the input files under path (a file, or a directory walked recursively in sorted
 * order; symlinks to regular files are followed, other non-regular files are skipped with a
 * note). Calls fn for each; returns the number of files, or -1 with err set. */
typedef int (*cli_file_fn)(void *ctx, const char *path);
int cli_walk_inputs(const char *path, cli_file_fn fn, void *ctx, char *err, size_t errcap);

int cmd_list(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_clauses(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_minimize(int argc, char **argv); /* cmd_minimize.c */
int cmd_bench(int argc, char **argv);    /* cmd_bench.c: execs bench/suite */

#endif
