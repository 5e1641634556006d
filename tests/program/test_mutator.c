/* The structure-aware mutator (DESIGN.md "The input: a program": "insert, delete,
 * duplicate, splice, tweak a field toward interesting values such as queue size, 0,
 * 0xffff, wrap boundaries"): every output decodes to a canonical program within max_size,
 * inserted ops come from the target's roles, the boundary values and every symbolic
 * address selector are proposed, crossover splices its parents' ops, and all of it is
 * deterministic for a seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/generate.h"
#include "harness/mutator.h"
#include "tests/check.h"
#include "tests/program/prog_util.h"

#define BUFCAP 8192
static uint8_t buf[BUFCAP], enc[BUFCAP];
static struct vqf_program P, Q;

/* bytes are the canonical encoding of some program */
static int is_canonical(const uint8_t *b, size_t n)
{
    if (n < VQF_PROG_HEADER_SIZE || (n - VQF_PROG_HEADER_SIZE) % VQF_PROG_OP_SIZE)
        return 0;
    vqf_prog_decode(&Q, b, n);
    size_t m = vqf_prog_encode(&Q, enc, sizeof(enc));
    return m == n && !memcmp(enc, b, n);
}

static int ops_in_roles(const struct vqf_program *p, unsigned roles)
{
    for (uint32_t i = 0; i < p->nops; i++)
        if (!(vqf_op_table[p->ops[i].kind].roles & roles))
            return 0;
    return 1;
}

/* 10^5 mutations of random inputs under every max_size class: the output fits, decodes
 * canonically, and is not the input unchanged (a wasted execution) in almost all cases. */
static void test_outputs_valid(void)
{
    static const size_t max_sizes[] = {0, 1, 31, 32, 33, 47, 48, 64, 100, 1000, VQF_PROG_MAX_SIZE, BUFCAP};
    uint64_t s = 42;
    unsigned too_big = 0, not_canon = 0, unchanged = 0, structured = 0;
    static uint8_t before[BUFCAP];
    for (int it = 0; it < 100000; it++) {
        size_t max = max_sizes[tr_below(&s, sizeof(max_sizes) / sizeof(max_sizes[0]))];
        size_t size = max ? tr_below(&s, (uint32_t)max + 1) : 0;
        if (it % 3 == 0 && max >= 32) { /* a canonical program as the engine's corpus holds */
            tr_program(&P, &s, (uint32_t)((max - 32) / 16 < 64 ? (max - 32) / 16 : 64));
            size = vqf_prog_encode(&P, buf, max);
        } else {
            for (size_t i = 0; i < size; i++)
                buf[i] = (uint8_t)tr_next(&s);
        }
        memcpy(before, buf, size);
        unsigned roles = 1 + tr_below(&s, 7);
        size_t out = vqf_mutate(buf, size, max, tr_next(&s), roles);
        if (out > max)
            too_big++;
        if (max >= VQF_PROG_HEADER_SIZE) {
            structured++;
            if (!is_canonical(buf, out))
                not_canon++;
            if (out == size && !memcmp(buf, before, size))
                unchanged++;
        }
    }
    CHECK_EQ(too_big, 0);
    CHECK_EQ(not_canon, 0);
    CHECK(unchanged * 100 < structured); /* under 1% */
    printf("mutate: %u unchanged of %u structured\n", unchanged, structured);
}

/* Chains of mutations from an empty program under one role never leave the role's op set. */
static void test_roles(void)
{
    static const unsigned role_sets[] = {VQF_ROLE_LDRV, VQF_ROLE_LDEV, VQF_ROLE_WORK, VQF_ROLE_LDEV | VQF_ROLE_WORK};
    for (size_t ri = 0; ri < sizeof(role_sets) / sizeof(role_sets[0]); ri++) {
        unsigned roles = role_sets[ri];
        memset(&P, 0, sizeof(P));
        size_t size = vqf_prog_encode(&P, buf, BUFCAP);
        unsigned outside = 0;
        uint32_t most = 0;
        for (int it = 0; it < 5000; it++) {
            size = vqf_mutate(buf, size, VQF_PROG_MAX_SIZE, 1000u * ri + (unsigned)it, roles);
            vqf_prog_decode(&P, buf, size);
            if (!ops_in_roles(&P, roles))
                outside++;
            if (P.nops > most)
                most = P.nops;
        }
        CHECK_EQ(outside, 0);
        CHECK(most >= 32); /* the chain grows programs, not only edits them */
    }
    /* roles 0 means any */
    memset(&P, 0, sizeof(P));
    unsigned seen = 0;
    size_t size = vqf_prog_encode(&P, buf, BUFCAP);
    for (int it = 0; it < 3000; it++) {
        size = vqf_mutate(buf, size, VQF_PROG_MAX_SIZE, (unsigned)it, 0);
        vqf_prog_decode(&P, buf, size);
        for (uint32_t i = 0; i < P.nops; i++)
            seen |= vqf_op_table[P.ops[i].kind].roles;
    }
    CHECK_EQ(seen, VQF_ROLE_ANY);
}

static void test_deterministic(void)
{
    uint64_t s = 9;
    static uint8_t a[BUFCAP], b[BUFCAP];
    unsigned differ = 0, same_seed_differs = 0;
    for (int it = 0; it < 2000; it++) {
        tr_program(&P, &s, 20);
        size_t n = vqf_prog_encode(&P, a, BUFCAP);
        memcpy(b, a, n);
        uint64_t seed = tr_next(&s);
        size_t na = vqf_mutate(a, n, BUFCAP, seed, VQF_ROLE_ANY);
        size_t nb = vqf_mutate(b, n, BUFCAP, seed, VQF_ROLE_ANY);
        if (na != nb || memcmp(a, b, na))
            same_seed_differs++;
        vqf_prog_encode(&P, b, BUFCAP); /* the same input again, another seed */
        nb = vqf_mutate(b, n, BUFCAP, seed + 1, VQF_ROLE_ANY);
        if (na != nb || memcmp(a, b, na))
            differ++;
    }
    CHECK_EQ(same_seed_differs, 0);
    CHECK(differ > 1800); /* another seed, another mutation */
}

/* The field and header edits propose the boundary values and every address selector. */
static void test_interesting_values(void)
{
    /* a small program with one op of every kind */
    memset(&P, 0, sizeof(P));
    P.h.qsize = 64;
    P.nops = VQF_OP_COUNT;
    for (unsigned k = 0; k < VQF_OP_COUNT; k++)
        P.ops[k].kind = (uint8_t)k;
    size_t n0 = vqf_prog_encode(&P, enc, BUFCAP);
    static uint8_t start[BUFCAP];
    memcpy(start, enc, n0);
    unsigned sel_seen = 0, qsizes_seen = 0, b_seen = 0, a_seen = 0;
    unsigned packed_toggled = 0, grew = 0, shrank = 0, feat_changed = 0;
    static const uint16_t want_qsizes[] = {1, 2, 3, 255, 256, 257, 32768, 0};
    static const uint32_t want_b[] = {0, 1, 0xffff, 0x8000, 0x80000000u, 0xffffffffu, 63, 64, 65};
    static const uint16_t want_a[] = {0, 1, 0xffff, 0x8000, 63, 64, 65};
    for (int it = 0; it < 40000; it++) {
        memcpy(buf, start, n0);
        size_t n = vqf_mutate(buf, n0, BUFCAP, (uint64_t)it * 7919u, VQF_ROLE_ANY);
        vqf_prog_decode(&Q, buf, n);
        if (Q.nops > P.nops)
            grew++;
        if (Q.nops < P.nops)
            shrank++;
        if ((Q.h.format_flags ^ P.h.format_flags) & VQF_PF_PACKED)
            packed_toggled++;
        if (Q.h.features_offered != P.h.features_offered || Q.h.features_accepted != P.h.features_accepted)
            feat_changed++;
        for (size_t i = 0; i < sizeof(want_qsizes) / sizeof(want_qsizes[0]); i++)
            if (Q.h.qsize == want_qsizes[i])
                qsizes_seen |= 1u << i;
        for (uint32_t i = 0; i < Q.nops; i++) {
            const struct vqf_op *op = &Q.ops[i];
            if (op->kind == VQF_OP_DRV_DESC_RAW && op->c && (op->c >> 56) < VQF_ADDR_COUNT)
                sel_seen |= 1u << (op->c >> 56);
            if (op->kind == VQF_OP_DRV_DESC_RAW && op->c == 0)
                sel_seen |= 1u; /* abs:0 */
            for (size_t j = 0; j < sizeof(want_b) / sizeof(want_b[0]); j++)
                if ((vqf_op_table[op->kind].fields & VQF_F_B) && op->b == want_b[j])
                    b_seen |= 1u << j;
            for (size_t j = 0; j < sizeof(want_a) / sizeof(want_a[0]); j++)
                if ((vqf_op_table[op->kind].fields & VQF_F_A) && op->a == want_a[j])
                    a_seen |= 1u << j;
        }
    }
    CHECK_EQ(sel_seen, (1u << VQF_ADDR_COUNT) - 1);
    CHECK_EQ(qsizes_seen, (1u << 8) - 1);
    CHECK_EQ(b_seen, (1u << 9) - 1); /* incl. qsize - 1, qsize, qsize + 1 for qsize 64 */
    CHECK_EQ(a_seen, (1u << 7) - 1);
    CHECK(packed_toggled > 100);
    CHECK(grew > 1000 && shrank > 1000);
    CHECK(feat_changed > 100);
}

/* Outputs never exceed a tight max_size, even when the input fills it. */
static void test_tight_max(void)
{
    uint64_t s = 5;
    unsigned bad = 0;
    for (int it = 0; it < 20000; it++) {
        size_t ops = tr_below(&s, 5);
        size_t max = 32 + 16 * ops + tr_below(&s, 16);
        tr_program(&P, &s, (uint32_t)ops);
        P.nops = (uint32_t)ops;
        size_t n = vqf_prog_encode(&P, buf, max);
        size_t out = vqf_mutate(buf, n, max, tr_next(&s), VQF_ROLE_ANY);
        if (out > max || !is_canonical(buf, out) || (out - 32) / 16 > ops)
            bad++;
    }
    CHECK_EQ(bad, 0);
}

/* Crossover: within max_out, canonical, deterministic, and every op of the child is an op of
 * one of its parents. */
static void test_crossover(void)
{
    uint64_t s = 77;
    static struct vqf_program A, B, C;
    static uint8_t a[BUFCAP], b[BUFCAP], out[BUFCAP], out2[BUFCAP];
    unsigned bad = 0, foreign = 0, mixed = 0, nondet = 0;
    for (int it = 0; it < 20000; it++) {
        tr_program(&A, &s, 30);
        tr_program(&B, &s, 30);
        /* parents of distinct op flavours: A's ops have q = 1, B's q = 2 where q is used */
        for (uint32_t i = 0; i < A.nops; i++)
            A.ops[i].kind = VQF_OP_DRV_KICK, A.ops[i].q = 1;
        for (uint32_t i = 0; i < B.nops; i++)
            B.ops[i].kind = VQF_OP_DRV_KICK, B.ops[i].q = 2;
        size_t na = vqf_prog_encode(&A, a, BUFCAP), nb = vqf_prog_encode(&B, b, BUFCAP);
        size_t max = tr_below(&s, 3) ? BUFCAP : 32 + tr_below(&s, 200);
        uint64_t seed = tr_next(&s);
        size_t n = vqf_crossover(a, na, b, nb, out, max, seed);
        size_t n2 = vqf_crossover(a, na, b, nb, out2, max, seed);
        if (n != n2 || memcmp(out, out2, n))
            nondet++;
        if (n > max || !is_canonical(out, n)) {
            bad++;
            continue;
        }
        vqf_prog_decode(&C, out, n);
        unsigned from_a = 0, from_b = 0;
        for (uint32_t i = 0; i < C.nops; i++) {
            from_a += C.ops[i].q == 1;
            from_b += C.ops[i].q == 2;
            if (C.ops[i].kind != VQF_OP_DRV_KICK || (C.ops[i].q != 1 && C.ops[i].q != 2))
                foreign++;
        }
        mixed += from_a && from_b;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(foreign, 0);
    CHECK_EQ(nondet, 0);
    CHECK(mixed > 5000);
    CHECK_EQ(vqf_crossover(a, 40, b, 40, out, 31, 1), 0);
    CHECK_EQ(vqf_crossover(NULL, 0, NULL, 0, out, 32, 1), 32);
}

/* The program-level entry: canonical, within max_ops, role-respecting, deterministic. */
static void test_mutate_program(void)
{
    static struct vqf_program A, B;
    unsigned bad = 0;
    for (uint64_t seed = 0; seed < 5000; seed++) {
        vqf_prog_generate(&A, seed, VQF_ROLE_LDEV, 2);
        if (A.nops > 40)
            A.nops = 40;
        B = A;
        vqf_mutate_program(&A, seed, VQF_ROLE_LDEV, 48);
        vqf_mutate_program(&B, seed, VQF_ROLE_LDEV, 48);
        size_t n = vqf_prog_encode(&A, buf, BUFCAP);
        bad += A.nops > 48 || !ops_in_roles(&A, VQF_ROLE_LDEV) || !prog_equal(&A, &B) || !is_canonical(buf, n);
    }
    CHECK_EQ(bad, 0);
}

/* vqf_op_fill gives canonical ops of the requested kind. */
static void test_op_fill(void)
{
    struct vqf_rng r = {3};
    struct vqf_prog_header h = {0};
    unsigned bad = 0;
    for (int it = 0; it < 10000; it++) {
        struct vqf_op op, c;
        unsigned k = (unsigned)it % VQF_OP_COUNT;
        vqf_op_fill(&op, k, &h, &r);
        P.nops = 1;
        P.ops[0] = op;
        c = op;
        vqf_prog_canonicalize(&P);
        if (op.kind != k || memcmp(&P.ops[0], &c, sizeof(c)))
            bad++;
    }
    CHECK_EQ(bad, 0);
}

/* An op mask narrows the role's op set (a target such as mmio runs only some ops); a mask
 * with nothing of the role is ignored rather than leaving nothing to insert. */
static void test_op_mask(void)
{
    const uint64_t mask = (1ull << VQF_OP_RUN_DEVICE) | (1ull << VQF_OP_DRV_REG_WRITE) |
                          (1ull << VQF_OP_DRV_STATUS) | (1ull << VQF_OP_DRV_NOTIFY_RAW);
    memset(&P, 0, sizeof(P));
    size_t size = vqf_prog_encode(&P, buf, BUFCAP);
    unsigned outside = 0, seen = 0;
    for (int it = 0; it < 3000; it++) {
        size = vqf_mutate_masked(buf, size, VQF_PROG_MAX_SIZE, (unsigned)it, VQF_ROLE_LDRV, mask);
        vqf_prog_decode(&P, buf, size);
        for (uint32_t i = 0; i < P.nops; i++) {
            outside += !((mask >> P.ops[i].kind) & 1);
            seen |= 1u << (P.ops[i].kind == VQF_OP_RUN_DEVICE ? 0 : P.ops[i].kind == VQF_OP_DRV_REG_WRITE ? 1
                                                               : P.ops[i].kind == VQF_OP_DRV_STATUS    ? 2
                                                                                                       : 3);
        }
    }
    CHECK_EQ(outside, 0);
    CHECK_EQ(seen, 15);
    /* the global mask steers vqf_mutate the same way */
    vqf_mutator_op_mask = mask;
    memset(&P, 0, sizeof(P));
    size = vqf_prog_encode(&P, buf, BUFCAP);
    outside = 0;
    for (int it = 0; it < 500; it++) {
        size = vqf_mutate(buf, size, VQF_PROG_MAX_SIZE, (unsigned)it, VQF_ROLE_LDRV);
        vqf_prog_decode(&P, buf, size);
        for (uint32_t i = 0; i < P.nops; i++)
            outside += !((mask >> P.ops[i].kind) & 1);
    }
    vqf_mutator_op_mask = UINT64_MAX;
    CHECK_EQ(outside, 0);
    CHECK(P.nops > 0);
    /* nothing of the role in the mask: the role's whole set */
    memset(&P, 0, sizeof(P));
    size = vqf_prog_encode(&P, buf, BUFCAP);
    for (int it = 0; it < 200; it++)
        size = vqf_mutate_masked(buf, size, VQF_PROG_MAX_SIZE, (unsigned)it, VQF_ROLE_LDEV,
                                 1ull << VQF_OP_DRV_KICK);
    vqf_prog_decode(&P, buf, size);
    CHECK(P.nops > 0 && ops_in_roles(&P, VQF_ROLE_LDEV));
}

int main(void)
{
    test_outputs_valid();
    test_op_mask();
    test_roles();
    test_deterministic();
    test_interesting_values();
    test_tight_max();
    test_crossover();
    test_op_fill();
    test_mutate_program();
    return check_report("test_program_mutator");
}
