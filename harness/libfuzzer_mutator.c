/* The libFuzzer face of the structure-aware mutator (DESIGN.md "The input: a program").
 * Compiled only into libFuzzer builds: LLVMFuzzerMutate comes from libFuzzer itself. */
#include <stddef.h>
#include <stdint.h>

#include "harness/mutator.h"

/* libFuzzer's own byte-level mutator. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
/* The hooks libFuzzer looks up in the target (declared here since no header has them). */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                                 uint8_t *out, size_t max_out_size, unsigned int seed);

/* 1 in 8 mutations are byte-level: they reach values no structured edit proposes (a byte
 * inside a feature word, half of an address). The result is canonicalised so that the
 * corpus holds canonical programs only. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    struct vqf_rng r = {seed};
    if (vqf_rng_below(&r, 8) == 0) {
        size_t n = LLVMFuzzerMutate(data, size, max_size);
        if (max_size < VQF_PROG_HEADER_SIZE)
            return n;
        struct vqf_program p;
        vqf_prog_decode(&p, data, n);
        /* decoding pads a short last op: drop ops that no longer fit max_size */
        uint32_t room = (uint32_t)((max_size - VQF_PROG_HEADER_SIZE) / VQF_PROG_OP_SIZE);
        if (p.nops > room)
            p.nops = room;
        return vqf_prog_encode(&p, data, max_size);
    }
    return vqf_mutate(data, size, max_size, vqf_rng_next(&r), vqf_mutator_roles);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                                 uint8_t *out, size_t max_out_size, unsigned int seed)
{
    return vqf_crossover(data1, size1, data2, size2, out, max_out_size, seed);
}
