/* Program-level minimization of a finding: the smallest program (fewest ops, smallest field
 * values, shortest encoding) that still gives the same verdict AND the same clause as the
 * original input. Uses the executor directly, so each attempt costs one run (microseconds). */
#ifndef VQF_MINIMIZE_H
#define VQF_MINIMIZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/exec.h"
#include "harness/program.h"

struct vqf_min_stats {
    uint32_t ops_before, ops_after;
    size_t bytes_before, bytes_after;
    uint64_t runs;                /* executor runs spent */
    struct vqf_result result;     /* the verdict and clause that were kept */
};

/* Attempts a minimization may spend before it stops where it is (always a reproducing program). */
#define VQF_MIN_DEFAULT_BUDGET 200000u

/* Minimize `in` against the executor `x`. On success (the input gives FAIL or WEDGED) writes the
 * reduced program to *out, its encoding to bin (cap >= VQF_PROG_MAX_SIZE; *bin_len its length)
 * and returns 0. Returns -1 when the input does not reproduce a FAIL / WEDGED (nothing to keep).
 * Phases, repeated to a fixed point: drop op chunks (halving sizes), simplify header and op
 * fields toward 0 / smaller values, then trim trailing bytes of the encoding (decoding pads a
 * short tail with zeros, so a shorter file can stand for the same program). */
int vqf_minimize(struct vqf_exec *x, const struct vqf_program *in, uint64_t budget, struct vqf_program *out,
                 uint8_t *bin, size_t *bin_len, struct vqf_min_stats *st);

/* vqf_minimize() of `in` on target `target_name`, then BASE.bin (the encoding) and BASE.txt
 * (the text form, its first line a comment naming target, verdict, clause and op counts),
 * ready for corpus/regressions/<target>/. A trailing ".bin" / ".txt" of base is ignored.
 * Prints one summary to msg (NULL: nothing) and a failure to stderr. Returns 0, 1 when the
 * input gives no FAIL or WEDGED (nothing written), -1 when a file cannot be written. Shared
 * by `vqfuzz minimize` (built-in targets) and the VQF_MINIMIZE mode of adapter targets
 * (harness/fuzz_target.c). */
int vqf_minimize_to_files(struct vqf_exec *x, const char *target_name, const struct vqf_program *in,
                          uint64_t budget, const char *base, FILE *msg);

#endif
