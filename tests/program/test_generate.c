/* The stress-mode generator (DESIGN.md "The input: a program": "most ops build valid
 * traffic; a few are explicit violation knobs"): per role it uses only that role's ops,
 * its programs are canonical and deterministic, and they are dominated by the well-formed
 * request -> kick -> run -> reclaim (or submit -> run -> interrupt) cycle. */
#include <stdio.h>
#include <string.h>

#include "harness/generate.h"
#include "harness/mutator.h"
#include "tests/check.h"
#include "tests/program/prog_util.h"
#include "vqfuzz/virtio.h"

static struct vqf_program P, Q;
static uint8_t enc[VQF_PROG_MAX_SIZE];
static char text[VQF_PROG_TEXT_MAX];

static int is_knob(unsigned k)
{
    switch (k) {
    case VQF_OP_DRV_NOTIFY_RAW: case VQF_OP_DRV_DESC_RAW: case VQF_OP_DRV_DESC_FLAGS:
    case VQF_OP_DRV_AVAIL_RAW: case VQF_OP_DRV_AVAIL_IDX: case VQF_OP_DRV_PUBLISH:
    case VQF_OP_DRV_RING_RAW: case VQF_OP_DRV_REG_WRITE: case VQF_OP_DRV_STATUS:
    case VQF_OP_DRV_FEATURES: case VQF_OP_DRV_CONFIG_WRITE:
    case VQF_OP_DEV_USED_RAW: case VQF_OP_DEV_USED_IDX: case VQF_OP_DEV_FORGE:
    case VQF_OP_DEV_LEN_BIAS: case VQF_OP_DEV_DROP: case VQF_OP_DEV_IRQ: case VQF_OP_DEV_CONFIG:
    case VQF_OP_DEV_NEEDS_RESET: case VQF_OP_DEV_EVENT: case VQF_OP_DEV_RING_RAW:
    case VQF_OP_DEV_REFUSE_FEATURES:
        return 1;
    default:
        return 0;
    }
}

static void test_per_role(void)
{
    static const unsigned role_sets[] = {VQF_ROLE_LDRV, VQF_ROLE_LDEV, VQF_ROLE_WORK,
                                         VQF_ROLE_LDEV | VQF_ROLE_WORK, VQF_ROLE_ANY};
    static const uint32_t devices[] = {VIRTIO_ID_NET, VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE, VIRTIO_ID_RNG, 42};
    for (size_t ri = 0; ri < sizeof(role_sets) / sizeof(role_sets[0]); ri++) {
        unsigned roles = role_sets[ri];
        unsigned outside = 0, not_canon = 0, short_prog = 0, bad_hdr = 0, bad_text = 0, nondet = 0;
        unsigned long ops = 0, knobs = 0, cycle_ops = 0;
        for (size_t di = 0; di < sizeof(devices) / sizeof(devices[0]); di++) {
            for (uint64_t seed = 0; seed < 1000; seed++) {
                vqf_prog_generate(&P, seed * 31 + di, roles, devices[di]);
                vqf_prog_generate(&Q, seed * 31 + di, roles, devices[di]);
                nondet += !prog_equal(&P, &Q);
                size_t n = vqf_prog_encode(&P, enc, sizeof(enc));
                vqf_prog_decode(&Q, enc, n);
                not_canon += !prog_equal(&P, &Q);
                short_prog += P.nops < 6;
                bad_hdr += P.h.device_type != (uint8_t)devices[di];
                if (roles == VQF_ROLE_LDRV)
                    bad_hdr += P.h.liar != VQF_LIAR_DRIVER;
                if (roles == VQF_ROLE_LDEV)
                    bad_hdr += P.h.liar != VQF_LIAR_DEVICE;
                if (roles == VQF_ROLE_WORK)
                    bad_hdr += P.h.liar != VQF_LIAR_NONE;
                bad_text += !(vqf_prog_to_text(&P, text, sizeof(text)) && !vqf_prog_from_text(&Q, text, NULL, 0) &&
                              prog_equal(&P, &Q));
                for (uint32_t i = 0; i < P.nops; i++) {
                    unsigned k = P.ops[i].kind;
                    outside += !(vqf_op_table[k].roles & roles);
                    knobs += is_knob(k);
                    cycle_ops += k == VQF_OP_DRV_REQUEST || k == VQF_OP_DRV_ADD || k == VQF_OP_DRV_KICK ||
                                 k == VQF_OP_RUN_DEVICE || k == VQF_OP_DRV_RECLAIM || k == VQF_OP_WL_SUBMIT ||
                                 k == VQF_OP_WL_INTERRUPT;
                }
                ops += P.nops;
            }
        }
        CHECK_EQ(outside, 0);
        CHECK_EQ(not_canon, 0);
        CHECK_EQ(nondet, 0);
        CHECK_EQ(short_prog, 0);
        CHECK_EQ(bad_hdr, 0);
        CHECK_EQ(bad_text, 0);
        CHECK(knobs * 50 < ops);        /* violation knobs are rare: under 2% of ops */
        CHECK(cycle_ops * 10 > ops * 8); /* the well-formed cycle is over 80% of ops */
        if (roles & (VQF_ROLE_LDRV | VQF_ROLE_LDEV))
            CHECK(knobs > 0); /* ... but present */
        printf("roles %u: %lu ops, %lu knobs, %lu in the request cycle\n", roles, ops, knobs, cycle_ops);
    }
}

/* For the driver role every request is kicked and reclaimed on its own queue. */
static void test_ldrv_shape(void)
{
    unsigned bad = 0;
    for (uint64_t seed = 0; seed < 2000; seed++) {
        vqf_prog_generate(&P, seed, VQF_ROLE_LDRV, VIRTIO_ID_NET);
        int open_q = -1;
        for (uint32_t i = 0; i < P.nops; i++) {
            const struct vqf_op *op = &P.ops[i];
            if (op->kind == VQF_OP_DRV_REQUEST || op->kind == VQF_OP_DRV_ADD) {
                if (open_q >= 0 && open_q != op->q)
                    bad++;
                bad += op->q > 1; /* net: receiveq 0, transmitq 1 (spec 5.1.2) */
                open_q = op->q;
            } else if (op->kind == VQF_OP_DRV_KICK) {
                bad += open_q != op->q;
            } else if (op->kind == VQF_OP_DRV_RECLAIM) {
                bad += open_q != op->q;
                open_q = -1;
            }
        }
        bad += open_q != -1;
    }
    CHECK_EQ(bad, 0);
}

/* Block requests carry the request types and lengths of spec 5.2.6. */
static void test_blk_requests(void)
{
    unsigned seen = 0, bad = 0;
    for (uint64_t seed = 0; seed < 500; seed++) {
        vqf_prog_generate(&P, seed, VQF_ROLE_LDRV, VIRTIO_ID_BLOCK);
        for (uint32_t i = 0; i < P.nops; i++) {
            const struct vqf_op *op = &P.ops[i];
            if (op->kind != VQF_OP_DRV_REQUEST)
                continue;
            if (op->a == VIRTIO_BLK_T_IN || op->a == VIRTIO_BLK_T_OUT)
                bad += op->c == 0 || op->c % VIRTIO_BLK_SECTOR_SIZE != 0;
            seen |= 1u << op->a;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK(seen & (1u << VIRTIO_BLK_T_IN));
    CHECK(seen & (1u << VIRTIO_BLK_T_OUT));
    CHECK(seen & (1u << VIRTIO_BLK_T_FLUSH));
    CHECK(seen & (1u << VIRTIO_BLK_T_GET_ID));
}

/* With the mmio target's op mask (no chain ops) the driver traffic is register-level: the
 * initialisation of spec 3.1.1 through the registers of 4.2.2. */
static void test_masked(void)
{
#define K(op) (1ull << VQF_OP_##op)
    const uint64_t mmio = K(NOP) | K(RUN_DEVICE) | K(RUN_DRIVER) | K(DRV_REG_WRITE) | K(DRV_REG_READ) |
                          K(DRV_STATUS) | K(DRV_FEATURES) | K(DRV_CONFIG_WRITE) | K(DRV_CONFIG_READ) |
                          K(DRV_DEVICE_RESET) | K(DRV_QUEUE_RESET) | K(DRV_REINIT) | K(DRV_NOTIFY_RAW);
    const uint64_t negotiation = K(NOP) | K(RUN_DEVICE) | K(RUN_DRIVER) | K(WL_SUBMIT) | K(WL_INTERRUPT) |
                                 K(WL_CONTROL) | K(DEV_REFUSE_FEATURES) | K(DEV_NEEDS_RESET);
#undef K
    unsigned outside = 0, short_prog = 0, driver_ok = 0, queue_ready = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        vqf_prog_generate_masked(&P, seed, VQF_ROLE_LDRV, VIRTIO_ID_BLOCK, mmio);
        short_prog += P.nops < 6;
        for (uint32_t i = 0; i < P.nops; i++) {
            const struct vqf_op *op = &P.ops[i];
            outside += !((mmio >> op->kind) & 1) || !(vqf_op_table[op->kind].roles & VQF_ROLE_LDRV);
            driver_ok += op->kind == VQF_OP_DRV_STATUS && op->b == 0xf;
            queue_ready += op->kind == VQF_OP_DRV_REG_WRITE && op->a == VIRTIO_MMIO_QUEUE_READY && op->b == 1;
        }
        vqf_prog_generate_masked(&P, seed, VQF_ROLE_WORK | VQF_ROLE_LDEV, VIRTIO_ID_BLOCK, negotiation);
        short_prog += P.nops < 6;
        for (uint32_t i = 0; i < P.nops; i++)
            outside += !((negotiation >> P.ops[i].kind) & 1);
    }
    CHECK_EQ(outside, 0);
    CHECK_EQ(short_prog, 0);
    CHECK(driver_ok > 500);
    CHECK(queue_ready > 500);
    /* a mask with nothing usable: an empty program, and the generator still returns */
    vqf_prog_generate_masked(&P, 1, VQF_ROLE_LDRV, VIRTIO_ID_BLOCK, 1ull << VQF_OP_WL_SUBMIT);
    CHECK_EQ(P.nops, 0);
}

int main(void)
{
    test_per_role();
    test_masked();
    test_ldrv_shape();
    test_blk_requests();
    return check_report("test_program_generate");
}
