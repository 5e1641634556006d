/* The binary codec of a program (DESIGN.md "The input: a program", harness/program.h):
 * decoding is total, encoding is canonical, decode(encode(p)) == p for canonical p and
 * encode(decode(b)) is a fixed point of encode∘decode for any bytes b. */
#include <stdlib.h>
#include <string.h>

#include "harness/program.h"
#include "tests/check.h"
#include "tests/program/prog_util.h"

/* The table generated from ops.def agrees with itself: every field an op uses has a name,
 * the others have none, op names are unique, every op belongs to some role. */
static void test_op_table(void)
{
    CHECK(VQF_OP_COUNT >= 37);
    CHECK(!strcmp(vqf_op_table[VQF_OP_NOP].text, "nop"));
    CHECK(!strcmp(vqf_op_table[VQF_OP_DRV_DESC_RAW].field_name[3], "addr"));
    CHECK_EQ(vqf_op_table[VQF_OP_WL_SUBMIT].roles, VQF_ROLE_LDEV | VQF_ROLE_WORK);
    CHECK_EQ(vqf_op_table[VQF_OP_RUN_DEVICE].roles, VQF_ROLE_ANY);
    CHECK_EQ(vqf_op_table[VQF_OP_DRV_ADD].fields, VQF_F_Q | VQF_F_A | VQF_F_B | VQF_F_C);
    for (unsigned k = 0; k < VQF_OP_COUNT; k++) {
        const struct vqf_op_info *in = &vqf_op_table[k];
        CHECK(in->text && in->text[0]);
        CHECK(in->roles && !(in->roles & ~VQF_ROLE_ANY));
        for (unsigned f = 0; f < 4; f++) {
            int used = (in->fields >> f) & 1;
            CHECK_EQ(used, in->field_name[f][0] != '\0');
            for (unsigned g = f + 1; g < 4; g++)
                if (used && ((in->fields >> g) & 1))
                    CHECK(strcmp(in->field_name[f], in->field_name[g]) != 0);
        }
        for (unsigned j = k + 1; j < VQF_OP_COUNT; j++)
            CHECK(strcmp(in->text, vqf_op_table[j].text) != 0);
    }
}

static void test_header_layout(void)
{
    /* u8 format_flags, u8 nqueues, u16 qsize, u8 liar, u8 device_type, u16 reserved,
     * u64 offered, u64 accepted, u32 seed, u32 flags; all little-endian */
    uint8_t b[32];
    for (unsigned i = 0; i < 32; i++)
        b[i] = (uint8_t)(0x10 + i);
    struct vqf_program p;
    vqf_prog_decode(&p, b, sizeof(b));
    CHECK_EQ(p.h.format_flags, 0x10 & VQF_PF_MASK);
    CHECK_EQ(p.h.nqueues, 0x11);
    CHECK_EQ(p.h.qsize, 0x1312);
    CHECK_EQ(p.h.liar, 0x14 % 3);
    CHECK_EQ(p.h.device_type, 0x15);
    CHECK(p.h.features_offered == 0x1f1e1d1c1b1a1918ull);
    CHECK(p.h.features_accepted == 0x2726252423222120ull);
    CHECK_EQ(p.h.seed, 0x2b2a2928);
    CHECK_EQ(p.h.flags, 0); /* reserved */
    CHECK_EQ(p.nops, 0);
    uint8_t e[64];
    CHECK_EQ(vqf_prog_encode(&p, e, sizeof(e)), 32);
    CHECK_EQ(e[0], 0x10 & VQF_PF_MASK);
    CHECK_EQ(e[6], 0); /* reserved u16 written as 0 */
    CHECK_EQ(e[7], 0);
    CHECK(!memcmp(e + 8, b + 8, 20));
    CHECK_EQ(e[28] | e[29] | e[30] | e[31], 0);

    /* a short header reads as if zero-padded */
    uint8_t s[3] = {0xff, 7, 1};
    vqf_prog_decode(&p, s, sizeof(s));
    CHECK_EQ(p.h.format_flags, VQF_PF_MASK);
    CHECK_EQ(p.h.nqueues, 7);
    CHECK_EQ(p.h.qsize, 1);
    CHECK(p.h.features_offered == 0 && p.h.seed == 0);
    vqf_prog_decode(&p, NULL, 0);
    CHECK_EQ(p.nops, 0);
    CHECK_EQ(p.h.qsize, 0);
}

static void test_ops_layout(void)
{
    uint8_t b[32 + 16 + 3] = {0};
    /* op: u8 kind, u8 q, u16 a, u32 b, u64 c */
    uint8_t op[16] = {VQF_OP_DRV_DESC_RAW, 3, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 1, 2, 3, 4, 5, 6, 7, 0x02};
    memcpy(b + 32, op, 16);
    /* a short last op: kind, q and the low byte of a; the rest reads as zero */
    b[48] = (uint8_t)(VQF_OP_COUNT + VQF_OP_DRV_KICK); /* kind is taken modulo the op count */
    b[49] = 9;
    b[50] = 0xaa;
    struct vqf_program p;
    vqf_prog_decode(&p, b, sizeof(b));
    CHECK_EQ(p.nops, 2);
    CHECK_EQ(p.ops[0].kind, VQF_OP_DRV_DESC_RAW);
    CHECK_EQ(p.ops[0].q, 3);
    CHECK_EQ(p.ops[0].a, 0x1234);
    CHECK_EQ(p.ops[0].b, 0x12345678);
    CHECK(p.ops[0].c == 0x0207060504030201ull);
    CHECK_EQ(p.ops[1].kind, VQF_OP_DRV_KICK);
    CHECK_EQ(p.ops[1].q, 9);
    CHECK_EQ(p.ops[1].a, 0xaa);
    CHECK_EQ(p.ops[1].b, 0);
    /* canonical: drv_kick uses q and a only */
    uint8_t full[64] = {0};
    memcpy(full, b, sizeof(b));
    full[51] = 0x11; /* high byte of a */
    full[52] = 0x77; /* b of drv_kick: unused */
    full[60] = 0x66; /* c of drv_kick: unused */
    vqf_prog_decode(&p, full, sizeof(full));
    CHECK_EQ(p.nops, 2);
    CHECK_EQ(p.ops[1].a, 0x11aa);
    CHECK_EQ(p.ops[1].b, 0);
    CHECK(p.ops[1].c == 0);
    uint8_t e[64];
    CHECK_EQ(vqf_prog_encode(&p, e, sizeof(e)), 64);
    CHECK_EQ(e[52], 0);
    CHECK_EQ(e[60], 0);

    /* at most VQF_PROG_MAX_OPS ops are read */
    size_t big = VQF_PROG_HEADER_SIZE + (VQF_PROG_MAX_OPS + 44) * VQF_PROG_OP_SIZE + 5;
    uint8_t *bb = calloc(1, big);
    vqf_prog_decode(&p, bb, big);
    CHECK_EQ(p.nops, VQF_PROG_MAX_OPS);
    free(bb);
    /* 33 bytes: one op of kind 0 (nop) */
    uint8_t one[33] = {0};
    vqf_prog_decode(&p, one, sizeof(one));
    CHECK_EQ(p.nops, 1);
    CHECK_EQ(p.ops[0].kind, VQF_OP_NOP);
}

static void test_encode_capacity(void)
{
    struct vqf_program p;
    memset(&p, 0, sizeof(p));
    p.nops = 3;
    p.ops[1].kind = VQF_OP_DRV_ADD;
    p.ops[1].c = 7;
    uint8_t e[80];
    CHECK_EQ(vqf_prog_encode(&p, e, 79), 0);
    CHECK_EQ(vqf_prog_encode(&p, e, 80), 80);
    CHECK_EQ(vqf_prog_encode(&p, e, 31), 0);
    /* nops beyond the maximum is clamped, never read past ops[] */
    p.nops = 1000;
    uint8_t *big = malloc(VQF_PROG_MAX_SIZE);
    CHECK_EQ(vqf_prog_encode(&p, big, VQF_PROG_MAX_SIZE), VQF_PROG_MAX_SIZE);
    free(big);
}

/* encode of a non-canonical program equals encode of its canonical form */
static void test_encode_canonicalises(void)
{
    uint64_t s = 0x1234567;
    static struct vqf_program p, c;
    static uint8_t e1[VQF_PROG_MAX_SIZE], e2[VQF_PROG_MAX_SIZE];
    for (int it = 0; it < 2000; it++) {
        memset(&p, 0, sizeof(p));
        p.h.format_flags = (uint8_t)tr_next(&s);
        p.h.liar = (uint8_t)tr_next(&s);
        p.h.flags = (uint32_t)tr_next(&s);
        p.nops = tr_below(&s, 20);
        for (uint32_t i = 0; i < p.nops; i++) {
            p.ops[i].kind = (uint8_t)tr_next(&s);
            p.ops[i].q = (uint8_t)tr_next(&s);
            p.ops[i].a = (uint16_t)tr_next(&s);
            p.ops[i].b = (uint32_t)tr_next(&s);
            p.ops[i].c = tr_next(&s);
        }
        c = p;
        vqf_prog_canonicalize(&c);
        size_t n1 = vqf_prog_encode(&p, e1, sizeof(e1));
        size_t n2 = vqf_prog_encode(&c, e2, sizeof(e2));
        CHECK(n1 == n2 && n1 && !memcmp(e1, e2, n1));
        CHECK(c.h.format_flags <= VQF_PF_MASK && c.h.liar < 3 && c.h.flags == 0);
    }
}

/* 10^5 random and truncated byte strings: decode is total, and after one round encode
 * and decode agree (the canonical fixed point). */
static void test_fixed_point(void)
{
    uint64_t s = 0xfeedface;
    enum { N = 100000 };
    static uint8_t buf[VQF_PROG_MAX_SIZE + 64], e1[VQF_PROG_MAX_SIZE], e2[VQF_PROG_MAX_SIZE];
    static struct vqf_program p1, p2;
    unsigned bad = 0, bad_prog = 0;
    for (int it = 0; it < N; it++) {
        size_t len;
        switch (tr_below(&s, 4)) {
        case 0: len = tr_below(&s, 33); break;                 /* inside the header */
        case 1: len = 32 + tr_below(&s, 16 * 8 + 1); break;     /* a few ops, often a short tail */
        case 2: len = tr_below(&s, sizeof(buf) + 1); break;     /* anything, up to past the maximum */
        default: len = 32 + 16 * tr_below(&s, 40); break;       /* whole ops */
        }
        for (size_t i = 0; i < len; i++) /* mostly small bytes so that kinds and fields vary */
            buf[i] = (uint8_t)(tr_below(&s, 4) ? tr_next(&s) : tr_below(&s, 4));
        /* a heap copy of exactly len bytes: ASan catches a read past the input */
        uint8_t *in = malloc(len ? len : 1);
        memcpy(in, buf, len);
        vqf_prog_decode(&p1, in, len);
        free(in);
        size_t n1 = vqf_prog_encode(&p1, e1, sizeof(e1));
        vqf_prog_decode(&p2, e1, n1);
        size_t n2 = vqf_prog_encode(&p2, e2, sizeof(e2));
        if (!prog_equal(&p1, &p2))
            bad_prog++;
        if (n1 == 0 || n1 != n2 || memcmp(e1, e2, n1))
            bad++;
        if (len >= 32 && n1 != 32 + 16 * (size_t)((len - 32 + 15) / 16 > 256 ? 256 : (len - 32 + 15) / 16))
            bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(bad_prog, 0);
}

/* decode(encode(p)) == p for random canonical programs */
static void test_round_trip(void)
{
    uint64_t s = 0xabcdef01;
    static struct vqf_program p, q;
    static uint8_t e[VQF_PROG_MAX_SIZE];
    unsigned bad = 0;
    for (int it = 0; it < 20000; it++) {
        tr_program(&p, &s, it % 10 ? 24 : VQF_PROG_MAX_OPS);
        size_t n = vqf_prog_encode(&p, e, sizeof(e));
        vqf_prog_decode(&q, e, n);
        if (!prog_equal(&p, &q))
            bad++;
    }
    CHECK_EQ(bad, 0);
}

int main(void)
{
    test_op_table();
    test_header_layout();
    test_ops_layout();
    test_encode_capacity();
    test_encode_canonicalises();
    test_fixed_point();
    test_round_trip();
    return check_report("test_program_codec");
}
