/* Determinism: the same input gives the same verdict and the same trace hash, whether it
 * runs twice in a row, after other inputs on the same executor (nothing leaks from one input
 * to the next: guest memory, adapters, lies and shadows are reset), or on a fresh executor.
 * And the hash does tell runs apart: different programs give different hashes. Inputs are
 * pseudo-random byte strings (fixed-seed splitmix64) on every built-in target. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "harness/exec.h"

static uint64_t rng_state = 0x1234abcd5678ef01ull;

static uint64_t splitmix(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define NINPUTS 12
#define INPUT_MAX 1024

static uint8_t inputs[NINPUTS][INPUT_MAX];
static size_t lens[NINPUTS];

int main(void)
{
    for (unsigned i = 0; i < NINPUTS; i++) {
        lens[i] = 32 + (size_t)(splitmix() % (INPUT_MAX - 32));
        for (size_t j = 0; j < lens[i]; j++)
            inputs[i][j] = (uint8_t)splitmix();
        /* keep the kinds mostly in range so that the ops run rather than wrap around */
        inputs[i][0] &= 7; /* format flags */
    }
    for (unsigned ti = 0; ti < vqf_target_count(); ti++) {
        const struct vqf_target *t = vqf_target_at(ti);
        struct vqf_exec *a = vqf_exec_new(t), *b = vqf_exec_new(t);
        CHECK(a != NULL && b != NULL);
        if (!a || !b)
            continue;
        struct vqf_result first[NINPUTS], r;
        for (unsigned i = 0; i < NINPUTS; i++)
            vqf_exec_run(a, inputs[i], lens[i], &first[i]);
        unsigned distinct = 0;
        for (unsigned i = 0; i < NINPUTS; i++) {
            /* again on the same executor, in reverse order */
            unsigned k = NINPUTS - 1 - i;
            vqf_exec_run(a, inputs[k], lens[k], &r);
            CHECK_EQ(r.verdict, first[k].verdict);
            CHECK(r.trace_hash == first[k].trace_hash);
            /* on a fresh executor */
            vqf_exec_run(b, inputs[k], lens[k], &r);
            CHECK_EQ(r.verdict, first[k].verdict);
            CHECK(r.trace_hash == first[k].trace_hash);
            CHECK_EQ(r.ops_run, first[k].ops_run);
            if (i > 0 && first[i].trace_hash != first[i - 1].trace_hash)
                distinct++;
        }
        if (distinct == 0)
            fprintf(stderr, "%s: every input hashed the same\n", t->name);
        CHECK(distinct > 0);
        vqf_exec_free(a);
        vqf_exec_free(b);
    }
    return check_report("test_exec_determinism");
}
