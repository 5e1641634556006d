/* The two engine faces of the mutator (DESIGN.md "One core, two faces"): libFuzzer's
 * custom mutator and crossover hooks with a 1-in-8 byte-level fallback, and the AFL++
 * custom mutator API with roles from VQF_ROLES. Linked without an engine: this file
 * provides LLVMFuzzerMutate and counts the fallbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/mutator.h"
#include "tests/check.h"
#include "tests/program/prog_util.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2,
                                 uint8_t *out, size_t max_out_size, unsigned int seed);
void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf,
                       size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_description_len);
void afl_custom_deinit(void *data);

/* A stand-in for libFuzzer's byte mutator: flips a byte, sometimes grows the input by an
 * odd amount so that the face has to re-frame it. */
static unsigned fallbacks;
static uint64_t fake_state = 1;
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
    fallbacks++;
    if (size < max_size && tr_below(&fake_state, 2))
        data[size++] = (uint8_t)tr_next(&fake_state);
    if (size)
        data[tr_below(&fake_state, (uint32_t)size)] ^= (uint8_t)(1 + tr_below(&fake_state, 255));
    return size;
}

static struct vqf_program P, Q;
static uint8_t enc[VQF_PROG_MAX_SIZE * 2];

static int is_canonical(const uint8_t *b, size_t n)
{
    if (n < VQF_PROG_HEADER_SIZE || (n - VQF_PROG_HEADER_SIZE) % VQF_PROG_OP_SIZE)
        return 0;
    vqf_prog_decode(&Q, b, n);
    size_t m = vqf_prog_encode(&Q, enc, sizeof(enc));
    return m == n && !memcmp(enc, b, n);
}

static void test_libfuzzer(void)
{
    CHECK_EQ(vqf_mutator_roles, VQF_ROLE_ANY);
    static uint8_t buf[8192];
    uint64_t s = 11;
    unsigned bad = 0;
    fallbacks = 0;
    enum { N = 16000 };
    size_t size = 0;
    for (unsigned seed = 0; seed < N; seed++) {
        size_t max = seed % 5 ? 4096 : 32 + tr_below(&s, 100);
        if (size > max || seed % 64 == 0) {
            tr_program(&P, &s, (uint32_t)((max - 32) / 16 < 20 ? (max - 32) / 16 : 20));
            size = vqf_prog_encode(&P, buf, max);
        }
        size = LLVMFuzzerCustomMutator(buf, size, max, seed);
        bad += size > max || !is_canonical(buf, size);
    }
    CHECK_EQ(bad, 0);
    /* about 1 in 8 calls fall back to the byte mutator */
    CHECK(fallbacks > N / 12 && fallbacks < N / 5);

    /* the executor's roles steer the structured path: from a program of WORK ops, the
     * outputs hold WORK ops only, except where a byte-level fallback hit a kind byte */
    vqf_mutator_roles = VQF_ROLE_WORK;
    memset(&P, 0, sizeof(P));
    P.nops = 4;
    for (uint32_t i = 0; i < P.nops; i++)
        P.ops[i].kind = VQF_OP_WL_SUBMIT;
    static uint8_t start[256];
    size_t n0 = vqf_prog_encode(&P, start, sizeof(start));
    unsigned pure = 0;
    for (unsigned seed = 0; seed < 2000; seed++) {
        memcpy(buf, start, n0);
        size = LLVMFuzzerCustomMutator(buf, n0, 4096, seed);
        vqf_prog_decode(&P, buf, size);
        int ok = 1;
        for (uint32_t i = 0; i < P.nops; i++)
            ok &= (vqf_op_table[P.ops[i].kind].roles & VQF_ROLE_WORK) != 0;
        pure += ok;
    }
    vqf_mutator_roles = VQF_ROLE_ANY;
    CHECK(pure > 2000 * 8 / 10);

    static uint8_t a[512], b2[512], out[512];
    tr_program(&P, &s, 10);
    size_t na = vqf_prog_encode(&P, a, sizeof(a));
    tr_program(&P, &s, 10);
    size_t nb = vqf_prog_encode(&P, b2, sizeof(b2));
    size_t n = LLVMFuzzerCustomCrossOver(a, na, b2, nb, out, sizeof(out), 5);
    CHECK(n && n <= sizeof(out) && is_canonical(out, n));
}

static int all_in_roles(const uint8_t *b, size_t n, unsigned roles)
{
    vqf_prog_decode(&Q, b, n);
    for (uint32_t i = 0; i < Q.nops; i++)
        if (!(vqf_op_table[Q.ops[i].kind].roles & roles))
            return 0;
    return 1;
}

static void test_afl(void)
{
    static uint8_t in[VQF_PROG_MAX_SIZE], add[VQF_PROG_MAX_SIZE];
    uint64_t s = 99;
    /* VQF_ROLES=1: the lying-driver op set only */
    setenv("VQF_ROLES", "1", 1);
    void *m = afl_custom_init(NULL, 1234);
    CHECK(m != NULL);
    CHECK(!strcmp(afl_custom_describe(m, 64), "vqf"));
    memset(&P, 0, sizeof(P));
    size_t size = vqf_prog_encode(&P, in, sizeof(in));
    unsigned bad = 0, outside = 0;
    for (int it = 0; it < 5000; it++) {
        uint8_t *out = NULL;
        size_t max = it % 3 ? VQF_PROG_MAX_SIZE : 100;
        size_t n = afl_custom_fuzz(m, in, size, &out, NULL, 0, max);
        bad += !out || n > max || !is_canonical(out, n);
        outside += !all_in_roles(out, n, VQF_ROLE_LDRV);
        memcpy(in, out, n); /* the next input is this output */
        size = n;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(outside, 0);
    /* with a second input, some outputs are splices; all stay valid */
    bad = 0;
    for (int it = 0; it < 5000; it++) {
        tr_program(&P, &s, 16);
        size_t na = vqf_prog_encode(&P, add, sizeof(add));
        uint8_t *out = NULL;
        size_t max = it % 2 ? 4096 : 64;
        size_t n = afl_custom_fuzz(m, in, size, &out, add, na, max);
        bad += !out || n > max || !is_canonical(out, n);
        memcpy(in, out, n);
        size = n;
    }
    CHECK_EQ(bad, 0);
    /* an input longer than a program: only the program part matters */
    static uint8_t huge[VQF_PROG_MAX_SIZE + 1000];
    memset(huge, 0, sizeof(huge));
    uint8_t *out = NULL;
    size_t n = afl_custom_fuzz(m, huge, sizeof(huge), &out, NULL, 0, sizeof(huge));
    CHECK(n <= VQF_PROG_MAX_SIZE && is_canonical(out, n));
    afl_custom_deinit(m);

    /* an unparsable VQF_ROLES falls back to every role */
    setenv("VQF_ROLES", "lying", 1);
    m = afl_custom_init(NULL, 7);
    memset(&P, 0, sizeof(P));
    size = vqf_prog_encode(&P, in, sizeof(in));
    unsigned seen = 0;
    for (int it = 0; it < 3000; it++) {
        size = afl_custom_fuzz(m, in, size, &out, NULL, 0, VQF_PROG_MAX_SIZE);
        memcpy(in, out, size);
        vqf_prog_decode(&Q, in, size);
        for (uint32_t i = 0; i < Q.nops; i++)
            seen |= vqf_op_table[Q.ops[i].kind].roles;
    }
    CHECK_EQ(seen, VQF_ROLE_ANY);
    afl_custom_deinit(m);

    /* VQF_OP_MASK narrows the op set further: here drv_kick and drv_reclaim only */
    setenv("VQF_ROLES", "1", 1);
    char hex[32];
    snprintf(hex, sizeof(hex), "%llx", (1ull << VQF_OP_DRV_KICK) | (1ull << VQF_OP_DRV_RECLAIM));
    setenv("VQF_OP_MASK", hex, 1);
    m = afl_custom_init(NULL, 8);
    memset(&P, 0, sizeof(P));
    size = vqf_prog_encode(&P, in, sizeof(in));
    unsigned other = 0;
    for (int it = 0; it < 1000; it++) {
        size = afl_custom_fuzz(m, in, size, &out, NULL, 0, VQF_PROG_MAX_SIZE);
        memcpy(in, out, size);
        vqf_prog_decode(&Q, in, size);
        for (uint32_t i = 0; i < Q.nops; i++)
            other += Q.ops[i].kind != VQF_OP_DRV_KICK && Q.ops[i].kind != VQF_OP_DRV_RECLAIM;
    }
    CHECK_EQ(other, 0);
    CHECK(Q.nops > 0);
    afl_custom_deinit(m);
    unsetenv("VQF_OP_MASK");
    unsetenv("VQF_ROLES");
}

int main(void)
{
    test_libfuzzer();
    test_afl();
    return check_report("test_program_faces");
}
