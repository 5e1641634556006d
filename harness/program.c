/* The binary codec of a vqfuzz program (DESIGN.md "The input: a program"; layout in program.h).
 *
 * Decoding is total so that every byte string a fuzz engine produces is a meaningful program;
 * encoding is canonical so that two inputs that run the same program have the same bytes,
 * which keeps the corpus free of duplicates that differ only in ignored bits. */
#include "harness/program.h"

#include <string.h>

/* The role names of ops.def, visible only while the table is expanded. */
#define ANY VQF_ROLE_ANY
#define LDRV VQF_ROLE_LDRV
#define LDEV VQF_ROLE_LDEV
#define WORK VQF_ROLE_WORK
const struct vqf_op_info vqf_op_table[VQF_OP_COUNT] = {
#define VQF_OP(name, text, roles, fields, qn, an, bn, cn) {text, roles, fields, {qn, an, bn, cn}},
#include "harness/ops.def"
#undef VQF_OP
};
#undef ANY
#undef LDRV
#undef LDEV
#undef WORK

/* Header byte offsets (program.h). */
enum {
    HDR_FORMAT = 0,
    HDR_NQUEUES = 1,
    HDR_QSIZE = 2,
    HDR_LIAR = 4,
    HDR_DEVICE = 5,
    HDR_RESERVED = 6,
    HDR_OFFERED = 8,
    HDR_ACCEPTED = 16,
    HDR_SEED = 24,
    HDR_FLAGS = 28,
};
/* Op byte offsets. */
enum { OP_KIND = 0, OP_Q = 1, OP_A = 2, OP_B = 4, OP_C = 8 };

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | ((uint32_t)get16(p + 2) << 16); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32); }
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Per kind, the bits of each field that survive canonicalisation: all of a used field,
 * none of an unused one. A table of masks keeps canon_op branch-free; it runs for every op
 * of every input decoded. */
#define FIELD_MASK(fields, bit, all) (((fields) & (bit)) ? (all) : 0)
static const struct vqf_op op_mask[VQF_OP_COUNT] = {
#define VQF_OP(name, text, roles, fields, qn, an, bn, cn)                                                     \
    {0, FIELD_MASK(fields, VQF_F_Q, 0xffu), FIELD_MASK(fields, VQF_F_A, 0xffffu),                           \
     FIELD_MASK(fields, VQF_F_B, 0xffffffffu), FIELD_MASK(fields, VQF_F_C, UINT64_MAX)},
#include "harness/ops.def"
#undef VQF_OP
};
#undef FIELD_MASK

/* One op in canonical form: a known kind, and only the fields that kind reads. */
static void canon_op(struct vqf_op *op)
{
    op->kind = (uint8_t)(op->kind % VQF_OP_COUNT);
    const struct vqf_op *m = &op_mask[op->kind];
    op->q &= m->q;
    op->a &= m->a;
    op->b &= m->b;
    op->c &= m->c;
}

static void canon_header(struct vqf_prog_header *h)
{
    h->format_flags &= VQF_PF_MASK;
    h->liar = (uint8_t)(h->liar % 3u);
    h->flags = 0;
}

static void get_op(struct vqf_op *op, const uint8_t *src)
{
    op->kind = src[OP_KIND];
    op->q = src[OP_Q];
    op->a = get16(src + OP_A);
    op->b = get32(src + OP_B);
    op->c = get64(src + OP_C);
    canon_op(op);
}

/* struct vqf_op has exactly the wire layout on a little-endian host (no padding, fields in
 * wire order), which lets decode copy the op array instead of assembling it byte by byte. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
_Static_assert(sizeof(struct vqf_op) == VQF_PROG_OP_SIZE, "op layout");
_Static_assert(offsetof(struct vqf_op, a) == OP_A && offsetof(struct vqf_op, b) == OP_B &&
                   offsetof(struct vqf_op, c) == OP_C,
               "op layout");
#define OPS_ARE_WIRE_LAYOUT 1
#else
#define OPS_ARE_WIRE_LAYOUT 0
#endif

void vqf_prog_canonicalize(struct vqf_program *p)
{
    canon_header(&p->h);
    if (p->nops > VQF_PROG_MAX_OPS)
        p->nops = VQF_PROG_MAX_OPS;
    for (uint32_t i = 0; i < p->nops; i++)
        canon_op(&p->ops[i]);
}

void vqf_prog_decode(struct vqf_program *p, const uint8_t *data, size_t len)
{
    /* The header comes from a zero-padded copy so that a short input is still a header. */
    uint8_t hb[VQF_PROG_HEADER_SIZE] = {0};
    if (len) /* data may be NULL when len is 0 */
        memcpy(hb, data, len < sizeof(hb) ? len : sizeof(hb));
    p->h.format_flags = hb[HDR_FORMAT];
    p->h.nqueues = hb[HDR_NQUEUES];
    p->h.qsize = get16(hb + HDR_QSIZE);
    p->h.liar = hb[HDR_LIAR];
    p->h.device_type = hb[HDR_DEVICE];
    p->h.features_offered = get64(hb + HDR_OFFERED);
    p->h.features_accepted = get64(hb + HDR_ACCEPTED);
    p->h.seed = get32(hb + HDR_SEED);
    p->h.flags = get32(hb + HDR_FLAGS);
    canon_header(&p->h);

    size_t body = len > VQF_PROG_HEADER_SIZE ? len - VQF_PROG_HEADER_SIZE : 0;
    size_t n = (body + VQF_PROG_OP_SIZE - 1) / VQF_PROG_OP_SIZE;
    if (n > VQF_PROG_MAX_OPS)
        n = VQF_PROG_MAX_OPS;
    p->nops = (uint32_t)n;
    size_t whole = body / VQF_PROG_OP_SIZE < n ? body / VQF_PROG_OP_SIZE : n;
    if (OPS_ARE_WIRE_LAYOUT) {
        /* Every input the engine runs is decoded: copy the ops in one go where the host
         * layout is the wire layout, then canonicalise. */
        if (whole)
            memcpy(p->ops, data + VQF_PROG_HEADER_SIZE, whole * VQF_PROG_OP_SIZE);
        for (size_t i = 0; i < whole; i++)
            canon_op(&p->ops[i]);
    } else {
        for (size_t i = 0; i < whole; i++)
            get_op(&p->ops[i], data + VQF_PROG_HEADER_SIZE + i * VQF_PROG_OP_SIZE);
    }
    if (whole < n) { /* a short last op reads as if zero-padded */
        uint8_t tail[VQF_PROG_OP_SIZE] = {0};
        memcpy(tail, data + VQF_PROG_HEADER_SIZE + whole * VQF_PROG_OP_SIZE, body - whole * VQF_PROG_OP_SIZE);
        get_op(&p->ops[whole], tail);
    }
}

size_t vqf_prog_encode(const struct vqf_program *p, uint8_t *out, size_t cap)
{
    uint32_t n = p->nops > VQF_PROG_MAX_OPS ? VQF_PROG_MAX_OPS : p->nops;
    size_t len = VQF_PROG_HEADER_SIZE + (size_t)n * VQF_PROG_OP_SIZE;
    if (len > cap)
        return 0;
    /* Encoding canonicalises on the fly: the bytes of p and of canonicalize(p) are the same. */
    struct vqf_prog_header h = p->h;
    canon_header(&h);
    out[HDR_FORMAT] = h.format_flags;
    out[HDR_NQUEUES] = h.nqueues;
    put16(out + HDR_QSIZE, h.qsize);
    out[HDR_LIAR] = h.liar;
    out[HDR_DEVICE] = h.device_type;
    put16(out + HDR_RESERVED, 0);
    put64(out + HDR_OFFERED, h.features_offered);
    put64(out + HDR_ACCEPTED, h.features_accepted);
    put32(out + HDR_SEED, h.seed);
    put32(out + HDR_FLAGS, h.flags);
    for (uint32_t i = 0; i < n; i++) {
        struct vqf_op op = p->ops[i];
        canon_op(&op);
        uint8_t *dst = out + VQF_PROG_HEADER_SIZE + (size_t)i * VQF_PROG_OP_SIZE;
        if (OPS_ARE_WIRE_LAYOUT) {
            memcpy(dst, &op, VQF_PROG_OP_SIZE);
            continue;
        }
        dst[OP_KIND] = op.kind;
        dst[OP_Q] = op.q;
        put16(dst + OP_A, op.a);
        put32(dst + OP_B, op.b);
        put64(dst + OP_C, op.c);
    }
    return len;
}
