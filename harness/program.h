/* A fuzz input is a program: a fixed 32-byte header and a list of 16-byte ops.
 *
 * Binary format (all little-endian):
 *   header: u8 format_flags, u8 nqueues, u16 qsize, u8 liar, u8 device_type, u16 reserved,
 *           u64 features_offered, u64 features_accepted, u32 seed, u32 flags
 *   op:     u8 kind, u8 q, u16 a, u32 b, u64 c
 * Decoding is total: every byte string is a program (a short tail is padded with zeros, a kind
 * byte is taken modulo the number of kinds, at most VQF_PROG_MAX_OPS ops are read). Encoding is
 * canonical: fields an op kind does not use are written as 0, reserved header bits as 0, so
 * that decode(encode(p)) == p and encode(decode(bytes)) is a fixed point after one round.
 * The text form (program_text.c) names every field and round-trips exactly. */
#ifndef VQF_PROGRAM_H
#define VQF_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#define VQF_PROG_HEADER_SIZE 32u
#define VQF_PROG_OP_SIZE 16u
#define VQF_PROG_MAX_OPS 256u
#define VQF_PROG_MAX_SIZE (VQF_PROG_HEADER_SIZE + VQF_PROG_MAX_OPS * VQF_PROG_OP_SIZE)

/* op roles */
#define VQF_ROLE_LDRV 1u
#define VQF_ROLE_LDEV 2u
#define VQF_ROLE_WORK 4u
#define VQF_ROLE_ANY (VQF_ROLE_LDRV | VQF_ROLE_LDEV | VQF_ROLE_WORK)
/* op fields */
#define VQF_F_Q 1u
#define VQF_F_A 2u
#define VQF_F_B 4u
#define VQF_F_C 8u

enum vqf_op_kind {
#define VQF_OP(name, text, roles, fields, qn, an, bn, cn) VQF_OP_##name,
#include "harness/ops.def"
#undef VQF_OP
    VQF_OP_COUNT
};

struct vqf_op_info {
    const char *text;
    unsigned roles;
    unsigned fields;
    const char *field_name[4]; /* q, a, b, c */
};
extern const struct vqf_op_info vqf_op_table[VQF_OP_COUNT];

/* header.format_flags */
#define VQF_PF_PACKED    1u  /* ring format: packed (RING_PACKED offered and accepted) */
#define VQF_PF_INDIRECT  2u  /* builders use indirect descriptors when negotiated */
#define VQF_PF_MANUAL    4u  /* no automatic initialisation: the ops do it */
#define VQF_PF_MASK      7u
/* header.liar */
enum vqf_liar { VQF_LIAR_NONE = 0, VQF_LIAR_DRIVER = 1, VQF_LIAR_DEVICE = 2 };

struct vqf_prog_header {
    uint8_t format_flags;
    uint8_t nqueues;          /* queues to set up (0 = all the device has) */
    uint16_t qsize;           /* queue size the driver programs (0 = default) */
    uint8_t liar;             /* enum vqf_liar; the target may override */
    uint8_t device_type;      /* virtio device ID; the target may override */
    uint64_t features_offered;  /* bits the device may offer (masked by what it supports) */
    uint64_t features_accepted; /* bits the driver may accept */
    uint32_t seed;
    uint32_t flags;           /* reserved, 0 */
};

struct vqf_op {
    uint8_t kind;
    uint8_t q;
    uint16_t a;
    uint32_t b;
    uint64_t c;
};

struct vqf_program {
    struct vqf_prog_header h;
    uint32_t nops;
    struct vqf_op ops[VQF_PROG_MAX_OPS];
};

/* Symbolic addresses: an "addr" operand is selector (bits 63..56) | offset (bits 55..0). */
enum vqf_addr_sel {
    VQF_ADDR_ABS = 0,        /* the offset is the guest-physical address */
    VQF_ADDR_BUF = 1,        /* the data buffer pool + offset */
    VQF_ADDR_DESC = 2,       /* this queue's descriptor area + offset */
    VQF_ADDR_DRIVER = 3,     /* this queue's driver area (avail ring / driver event) + offset */
    VQF_ADDR_DEVICE = 4,     /* this queue's device area (used ring / device event) + offset */
    VQF_ADDR_OTHER_RING = 5, /* the next queue's descriptor area + offset */
    VQF_ADDR_HOLE = 6,       /* inside an unmapped hole + offset */
    VQF_ADDR_REGION_END = 7, /* last byte of region (offset >> 32) & 3, minus (offset & 0xffffffff) */
    VQF_ADDR_WRAP = 8,       /* 2^64 - offset: "addr + len" wraps */
    VQF_ADDR_IND_POOL = 9,   /* the indirect-table pool + offset */
    VQF_ADDR_COUNT
};
#define VQF_ADDR(sel, off) (((uint64_t)(sel) << 56) | ((uint64_t)(off) & 0x00ffffffffffffffull))

/* Codec. decode never fails. encode returns the byte length written (<= cap), or 0 if cap
 * is too small. */
void vqf_prog_decode(struct vqf_program *p, const uint8_t *data, size_t len);
size_t vqf_prog_encode(const struct vqf_program *p, uint8_t *out, size_t cap);
/* Canonicalise in place (zero unused fields, reserved bits). */
void vqf_prog_canonicalize(struct vqf_program *p);

/* Text form. to_text writes a NUL-terminated text (returns length, or 0 if cap too small).
 * from_text parses; on error returns -1 and writes "line N: reason" into err. */
size_t vqf_prog_to_text(const struct vqf_program *p, char *out, size_t cap);
int vqf_prog_from_text(struct vqf_program *p, const char *text, char *err, size_t errcap);
/* A buffer this large holds the text of any program (the worst case is about 19 KiB;
 * tests/program/test_text.c checks the bound). */
#define VQF_PROG_TEXT_MAX 32768u

#endif
