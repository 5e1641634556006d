/* Building programs in C for the executor tests: a header, then ops appended one by one.
 * (The text form is tested with the codec; these tests want exact control of each field.) */
#ifndef VQF_TESTS_PROG_BUILD_H
#define VQF_TESTS_PROG_BUILD_H

#include <string.h>

#include "harness/program.h"

static inline void pb_begin(struct vqf_program *p, unsigned format_flags, uint16_t qsize, uint8_t liar,
                            uint8_t device_type)
{
    memset(p, 0, sizeof(*p));
    p->h.format_flags = (uint8_t)format_flags;
    p->h.qsize = qsize;
    p->h.liar = liar;
    p->h.device_type = device_type;
    p->h.seed = 0x5eed;
}

static inline void pb_op(struct vqf_program *p, enum vqf_op_kind kind, uint8_t q, uint16_t a, uint32_t b,
                         uint64_t c)
{
    if (p->nops >= VQF_PROG_MAX_OPS)
        return;
    struct vqf_op *op = &p->ops[p->nops++];
    op->kind = (uint8_t)kind;
    op->q = q;
    op->a = a;
    op->b = b;
    op->c = c;
}

#endif
