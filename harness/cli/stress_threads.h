/* vqfuzz stress TARGET --threads (stress_threads.c): the honest pair of a target on two
 * threads, verified end to end, with the one-thread figure of the same workload. */
#ifndef VQF_CLI_STRESS_THREADS_H
#define VQF_CLI_STRESS_THREADS_H

#include <stdbool.h>
#include <stdint.h>

#include "harness/exec.h"

/* Runs split then packed for half of `seconds` each (0 = 10 s). Returns 0 when every
 * request came back verified and no notification was lost, 1 otherwise, 2 when the target
 * has no honest pair. */
int vqf_stress_threads(const struct vqf_target *t, uint64_t seconds, uint64_t seed, bool json);

#endif
