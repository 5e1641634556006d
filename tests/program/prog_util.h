/* Helpers shared by the program tests: a fixed-seed PRNG, program equality, and random
 * programs that reach every field and every symbolic-address selector. */
#ifndef VQF_TESTS_PROG_UTIL_H
#define VQF_TESTS_PROG_UTIL_H

#include <stdint.h>
#include <string.h>

#include "harness/program.h"

/* xorshift64*: deterministic, no dependency on the code under test. */
static inline uint64_t tr_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static inline uint32_t tr_below(uint64_t *s, uint32_t n) { return (uint32_t)((tr_next(s) >> 33) % n); }

static inline int prog_equal(const struct vqf_program *a, const struct vqf_program *b)
{
    const struct vqf_prog_header *x = &a->h, *y = &b->h;
    if (x->format_flags != y->format_flags || x->nqueues != y->nqueues || x->qsize != y->qsize ||
        x->liar != y->liar || x->device_type != y->device_type || x->features_offered != y->features_offered ||
        x->features_accepted != y->features_accepted || x->seed != y->seed || x->flags != y->flags ||
        a->nops != b->nops)
        return 0;
    for (uint32_t i = 0; i < a->nops; i++) {
        const struct vqf_op *o = &a->ops[i], *q = &b->ops[i];
        if (o->kind != q->kind || o->q != q->q || o->a != q->a || o->b != q->b || o->c != q->c)
            return 0;
    }
    return 1;
}

/* A 64-bit value that is often a boundary rather than uniform noise. */
static inline uint64_t tr_value(uint64_t *s)
{
    switch (tr_below(s, 6)) {
    case 0: return 0;
    case 1: return UINT64_MAX >> tr_below(s, 64);
    case 2: return tr_below(s, 16);
    case 3: /* a symbolic address of any selector, sometimes an unknown one */
        return ((uint64_t)tr_below(s, 12) << 56) | (tr_next(s) >> tr_below(s, 64));
    default: return tr_next(s);
    }
}

/* A random canonical program of up to max_ops ops. */
static inline void tr_program(struct vqf_program *p, uint64_t *s, uint32_t max_ops)
{
    memset(p, 0, sizeof(*p));
    p->h.format_flags = (uint8_t)tr_value(s);
    p->h.nqueues = (uint8_t)tr_value(s);
    p->h.qsize = (uint16_t)tr_value(s);
    p->h.liar = (uint8_t)tr_value(s);
    p->h.device_type = (uint8_t)tr_value(s);
    p->h.features_offered = tr_value(s);
    p->h.features_accepted = tr_value(s);
    p->h.seed = (uint32_t)tr_value(s);
    p->h.flags = (uint32_t)tr_value(s);
    p->nops = tr_below(s, max_ops + 1);
    for (uint32_t i = 0; i < p->nops; i++) {
        struct vqf_op *op = &p->ops[i];
        op->kind = (uint8_t)tr_next(s);
        op->q = (uint8_t)tr_value(s);
        op->a = (uint16_t)tr_value(s);
        op->b = (uint32_t)tr_value(s);
        op->c = tr_value(s);
    }
    vqf_prog_canonicalize(p);
}

#endif
