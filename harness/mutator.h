/* The structure-aware mutator (DESIGN.md "The input: a program"): one core that works on
 * decoded programs — insert, delete, duplicate, move, splice and repeat ops, tweak one field
 * toward a boundary value or a symbolic address, flip bits, tweak the header — and encodes the
 * result canonically. Two thin faces call it: libfuzzer_mutator.c and afl_mutator.c.
 * Everything is deterministic for a given seed. */
#ifndef VQF_MUTATOR_H
#define VQF_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "harness/program.h"

/* The op roles (VQF_ROLE_*) of the running target. The executor sets it before the engine
 * starts mutating; the libFuzzer face reads it. Default VQF_ROLE_ANY. */
extern unsigned vqf_mutator_roles;
/* Optional narrowing within the roles: bit k set = op kind k may be proposed (the target's
 * op mask, vqf_target_op_mask()). Default all ones. A mask that leaves no kind of the
 * roles is ignored. */
extern uint64_t vqf_mutator_op_mask;

/* Mutate the program in data[0, size) in place (data has room for max_size bytes) and return
 * the new size: a canonical encoding of at most max_size bytes whose ops are drawn from the op
 * set of roles. With max_size below a header (32 bytes) only bytes are flipped. */
size_t vqf_mutate(uint8_t *data, size_t size, size_t max_size, uint64_t seed, unsigned roles);

/* Splice the op lists of two programs into out (at most max_out bytes). Returns the size,
 * or 0 when max_out cannot hold a header. */
size_t vqf_crossover(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out, size_t max_out,
                     uint64_t seed);

/* The same core on a decoded program: one to four stacked mutations, at most max_ops ops
 * (clamped to VQF_PROG_MAX_OPS). p stays canonical. */
void vqf_mutate_program(struct vqf_program *p, uint64_t seed, unsigned roles, uint32_t max_ops);
/* The same with an explicit op mask instead of vqf_mutator_op_mask. */
size_t vqf_mutate_masked(uint8_t *data, size_t size, size_t max_size, uint64_t seed, unsigned roles,
                         uint64_t op_mask);

/* A small deterministic generator (splitmix64) shared by the mutator and the generator. */
struct vqf_rng {
    uint64_t s;
};

static inline uint64_t vqf_rng_next(struct vqf_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t vqf_rng_below(struct vqf_rng *r, uint32_t n)
{
    return (uint32_t)(((vqf_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Fill the fields op kind uses with values biased toward the interesting ones (boundaries,
 * queue-size relatives, register offsets, symbolic addresses of every selector); h gives the
 * queue size and queue count they are relative to. The result is canonical. */
void vqf_op_fill(struct vqf_op *op, unsigned kind, const struct vqf_prog_header *h, struct vqf_rng *r);

#endif
