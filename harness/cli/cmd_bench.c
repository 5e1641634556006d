/* vqfuzz bench: the benchmark suite. The orchestration (builds, pinning to one core, libFuzzer
 * runs, tables, JSON, plot) is bench/suite, a python3 script of the source tree; this
 * subcommand finds it and hands over its arguments, so that `vqfuzz bench --help` is the
 * suite's own help. The source tree is the one this binary was configured from
 * (VQF_SOURCE_DIR, set by harness/cli/CMakeLists.txt), or VQFUZZ_SOURCE_DIR when set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli/cli.h"

#ifndef VQF_SOURCE_DIR
#define VQF_SOURCE_DIR "."
#endif

int cmd_bench(int argc, char **argv)
{
    const char *src = getenv("VQFUZZ_SOURCE_DIR");
    if (!src || !*src)
        src = VQF_SOURCE_DIR;
    size_t n = strlen(src) + sizeof "/bench/suite";
    char *suite = malloc(n);
    char **args = calloc((size_t)argc + 2, sizeof(char *));
    if (!suite || !args) {
        free(suite);
        free(args);
        return cli_usage_error("bench: out of memory");
    }
    snprintf(suite, n, "%s/bench/suite", src);
    if (access(suite, R_OK) != 0) {
        int err = errno;
        free(args);
        cli_usage_error("bench: cannot read %s: %s (set VQFUZZ_SOURCE_DIR to the vqfuzz source tree)", suite,
                        strerror(err));
        free(suite);
        return VQF_EXIT_USAGE;
    }
    /* argv[0] is "bench"; the suite gets everything after it. */
    args[0] = "python3";
    args[1] = suite;
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    args[argc + 1] = NULL;
    execvp("python3", args);
    int err = errno;
    free(args);
    free(suite);
    return cli_usage_error("bench: cannot run python3: %s", strerror(err));
}
