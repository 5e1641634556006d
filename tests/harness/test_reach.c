/* Reach: each built-in target gets where it claims, on both ring formats. The counts come
 * from the ring events of the run (the flight recorder's per-kind counters):
 *   device targets: the device pops and pushes chains (2.7.13 / 2.8.21 device side), and a
 *     lie the device must refuse shows up as a device ring error with verdict REJECT;
 *   driver targets: the driver reclaims used buffers (2.7.14 / 2.8.22), and a forged used id
 *     (D-03) shows up as a driver ring error with verdict REJECT;
 *   pairs, negotiation, config, formats: honest traffic completes and the verdict is PASS;
 *   mmio: raw register sequences leave a device that still serves a request. */
#include <stdio.h>

#include "../check.h"
#include "emulator/mem.h"
#include "harness/exec.h"
#include "prog_build.h"
#include "vqfuzz/virtio.h"

static struct vqf_program prog;

static enum vqf_verdict run(const char *target, struct vqf_exec **xp)
{
    const struct vqf_target *t = vqf_target_find(target);
    CHECK(t != NULL);
    if (!t)
        return VQF_CRASH;
    if (!*xp)
        *xp = vqf_exec_new(t);
    CHECK(*xp != NULL);
    if (!*xp)
        return VQF_CRASH;
    struct vqf_result res;
    vqf_exec_run_program(*xp, &prog, &res);
    if (res.verdict == VQF_FAIL || res.verdict == VQF_WEDGED)
        vqf_exec_report(*xp, &res, stderr);
    return res.verdict;
}

static uint32_t count(struct vqf_exec *x, unsigned side, unsigned ev) { return vqf_exec_event_count(x, side, ev); }

/* Honest requests of each device type; the device must pop and push them all (plus the
 * health probe's own request). */
static void device_targets(void)
{
    static const struct {
        const char *name;
        uint8_t type;
        uint32_t min_pops;
    } t[] = {{"blk_device", VIRTIO_ID_BLOCK, 3}, {"net_device", VIRTIO_ID_NET, 3},
             {"console_device", VIRTIO_ID_CONSOLE, 3}, {"rng_device", VIRTIO_ID_RNG, 2}};
    for (unsigned i = 0; i < 4; i++) {
        struct vqf_exec *x = NULL;
        for (unsigned packed = 0; packed < 2; packed++) {
            pb_begin(&prog, packed ? VQF_PF_PACKED : 0, 32, VQF_LIAR_DRIVER, t[i].type);
            if (t[i].type == VIRTIO_ID_BLOCK) {
                pb_op(&prog, VQF_OP_DRV_REQUEST, 0, VIRTIO_BLK_T_OUT, 1, 1024);
                pb_op(&prog, VQF_OP_DRV_REQUEST, 0, VIRTIO_BLK_T_IN, 1, 1024);
                pb_op(&prog, VQF_OP_DRV_KICK, 0, 0, 0, 0);
            } else if (t[i].type == VIRTIO_ID_RNG) {
                pb_op(&prog, VQF_OP_DRV_REQUEST, 0, 0, 0, 64);
                pb_op(&prog, VQF_OP_DRV_KICK, 0, 0, 0, 0);
            } else {
                /* receive buffer on queue 0, transmit on queue 1 (5.1.2, 5.3.2) */
                pb_op(&prog, VQF_OP_DRV_REQUEST, 0, 0, 0, 1526);
                pb_op(&prog, VQF_OP_DRV_KICK, 0, 0, 0, 0);
                pb_op(&prog, VQF_OP_DRV_REQUEST, 1, 0, 0, 60);
                pb_op(&prog, VQF_OP_DRV_KICK, 1, 0, 0, 0);
            }
            pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
            pb_op(&prog, VQF_OP_DRV_RECLAIM, 0, 0, 0, 0);
            pb_op(&prog, VQF_OP_DRV_RECLAIM, 1, 0, 0, 0);
            CHECK_EQ(run(t[i].name, &x), VQF_PASS);
            CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_POP) >= t[i].min_pops);
            CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_PUSH) >= t[i].min_pops);
            CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 1);
            CHECK_EQ(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_ERROR), 0);

            /* A lie of this format: split avail idx far ahead (SPLIT-AVL-01 / D-02), or a packed
             * buffer id out of range (D-10). The device refuses it and stays healthy. */
            pb_begin(&prog, packed ? VQF_PF_PACKED : 0, 16, VQF_LIAR_DRIVER, t[i].type);
            /* a queue the device processes on a kick: transmit for net and console */
            uint8_t lq = (t[i].type == VIRTIO_ID_NET || t[i].type == VIRTIO_ID_CONSOLE) ? 1 : 0;
            if (packed) {
                pb_op(&prog, VQF_OP_DRV_DESC_RAW, lq, 0, 16, VQF_ADDR(VQF_ADDR_BUF, 0));
                pb_op(&prog, VQF_OP_DRV_DESC_FLAGS, lq, 0, 0x7fffu << 16, 0);
                pb_op(&prog, VQF_OP_DRV_AVAIL_IDX, lq, 0x8000, 0, 0);
            } else {
                pb_op(&prog, VQF_OP_DRV_AVAIL_IDX, lq, 1000, 0, 0);
            }
            /* a raw notification: drv_kick would publish the honest avail idx over the lie */
            pb_op(&prog, VQF_OP_DRV_NOTIFY_RAW, 0, 0, lq, 0);
            pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
            CHECK_EQ(run(t[i].name, &x), VQF_REJECT);
            CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_ERROR) >= 1);
        }
        vqf_exec_free(x);
    }
}

static void workload(uint8_t type)
{
    if (type == VIRTIO_ID_BLOCK) {
        pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 0, 3, 2); /* write + read back sectors 3..4 */
        pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 2, 0, 0); /* flush */
    } else if (type == VIRTIO_ID_NET || type == VIRTIO_ID_CONSOLE) {
        pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 1, 0, 0);  /* refill rx */
        pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 0, 64, 0); /* send / write 64 bytes */
    } else {
        pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 0, 32, 0);
    }
    pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
    pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
}

static void driver_targets(void)
{
    static const struct {
        const char *name;
        uint8_t type;
    } t[] = {{"blk_driver", VIRTIO_ID_BLOCK}, {"net_driver", VIRTIO_ID_NET},
             {"console_driver", VIRTIO_ID_CONSOLE}, {"rng_driver", VIRTIO_ID_RNG}};
    for (unsigned i = 0; i < 4; i++) {
        struct vqf_exec *x = NULL;
        for (unsigned packed = 0; packed < 2; packed++) {
            pb_begin(&prog, packed ? VQF_PF_PACKED : 0, 32, VQF_LIAR_DEVICE, t[i].type);
            workload(t[i].type);
            CHECK_EQ(run(t[i].name, &x), VQF_PASS);
            CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 1);
            CHECK_EQ(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_ERROR), 0);

            /* A forged completion naming a buffer that is not outstanding (D-03): the driver
             * must refuse it (ring error) and recover. */
            pb_begin(&prog, packed ? VQF_PF_PACKED : 0, 32, VQF_LIAR_DEVICE, t[i].type);
            workload(t[i].type);
            pb_op(&prog, VQF_OP_DEV_FORGE, 0, 29, 1, 0);
            pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
            CHECK_EQ(run(t[i].name, &x), VQF_REJECT);
            CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_ERROR) >= 1);
        }
        vqf_exec_free(x);
    }
}

static void honest_targets(void)
{
    for (unsigned packed = 0; packed < 2; packed++) {
        unsigned ff = packed ? VQF_PF_PACKED : 0;
        struct vqf_exec *x = NULL;

        pb_begin(&prog, ff, 16, VQF_LIAR_NONE, VIRTIO_ID_BLOCK);
        workload(VIRTIO_ID_BLOCK);
        CHECK_EQ(run("blk_pair", &x), VQF_PASS);
        CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_POP) >= 3);
        CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 3);
        vqf_exec_free(x);
        x = NULL;

        pb_begin(&prog, ff, 64, VQF_LIAR_NONE, VIRTIO_ID_NET);
        workload(VIRTIO_ID_NET);
        CHECK_EQ(run("net_pair", &x), VQF_PASS);
        CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_POP) >= 2);
        CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 2);
        vqf_exec_free(x);
        x = NULL;

        /* negotiation: FEATURES_OK refused (3.1.1 step 6) on the first try (manual start:
         * a device that accepted a feature set should not refuse it later, FEAT-13), then
         * accepted after a reset; a DEVICE_NEEDS_RESET mid-traffic (2.1.2); a queue reset
         * (2.6.1); traffic after all. */
        pb_begin(&prog, ff | VQF_PF_MANUAL, 16, VQF_LIAR_NONE, VIRTIO_ID_BLOCK);
        pb_op(&prog, VQF_OP_DEV_REFUSE_FEATURES, 0, 1, 0, 0);
        pb_op(&prog, VQF_OP_WL_CONTROL, 0, VQF_CTL_RESET, 0, 0);
        pb_op(&prog, VQF_OP_DEV_REFUSE_FEATURES, 0, 0, 0, 0);
        pb_op(&prog, VQF_OP_WL_CONTROL, 0, VQF_CTL_RESET, 0, 0);
        workload(VIRTIO_ID_BLOCK);
        pb_op(&prog, VQF_OP_DEV_NEEDS_RESET, 0, 0, 0, 0);
        pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
        pb_op(&prog, VQF_OP_WL_CONTROL, 0, VQF_CTL_QUEUE_RESET, 0, 0);
        workload(VIRTIO_ID_BLOCK);
        enum vqf_verdict v = run("negotiation", &x);
        CHECK(v == VQF_PASS || v == VQF_REJECT);
        CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 2);
        CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_RESET) >= 2);
        vqf_exec_free(x);
        x = NULL;

        /* config, blk and console: a change with generation bump and notification, and one
         * torn between two config reads of the driver (2.5.1, CFG-02). */
        for (unsigned c = 0; c < 2; c++) {
            uint8_t type = c ? VIRTIO_ID_CONSOLE : VIRTIO_ID_BLOCK;
            pb_begin(&prog, ff, 16, VQF_LIAR_NONE, type);
            workload(type);
            pb_op(&prog, VQF_OP_DEV_CONFIG, 0, 0, 0x40, 0x3);
            pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
            /* torn: blk_size (blk) or cols (console); a torn capacity would also be honest,
             * see the report on BLK-26 */
            pb_op(&prog, VQF_OP_DEV_CONFIG, 0, c ? 0 : VIRTIO_BLK_CFG_BLK_SIZE, c ? 0x41 : 0x200, 0x24);
            pb_op(&prog, VQF_OP_WL_CONTROL, 0, VQF_CTL_CONFIG, 0, 0);
            workload(type);
            CHECK_EQ(run("config", &x), VQF_PASS);
            CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 2);
            CHECK(count(x, VQF_SIDE_DRIVER, VQF_EV_MMIO_READ) >= 10);
        }
        vqf_exec_free(x);
        x = NULL;

        /* mmio: status written out of order, then a half-done initialisation by hand */
        pb_begin(&prog, ff | VQF_PF_MANUAL, 16, VQF_LIAR_DRIVER, VIRTIO_ID_BLOCK);
        pb_op(&prog, VQF_OP_DRV_STATUS, 0, 0, VIRTIO_STATUS_DRIVER_OK, 0);
        pb_op(&prog, VQF_OP_DRV_STATUS, 0, 0, 0, 0);
        pb_op(&prog, VQF_OP_DRV_STATUS, 0, 0, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 0);
        pb_op(&prog, VQF_OP_DRV_FEATURES, 0, 1, 1, 0);
        pb_op(&prog, VQF_OP_DRV_REG_WRITE, 0, VIRTIO_MMIO_QUEUE_READY, 1, 0);
        pb_op(&prog, VQF_OP_DRV_NOTIFY_RAW, 0, 0, 0, 0);
        pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
        v = run("mmio", &x);
        CHECK(v == VQF_PASS || v == VQF_REJECT);
        CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_POP) >= 1); /* the probe's request after it all */
        vqf_exec_free(x);
        x = NULL;
    }

    /* formats: the same workload over split and packed completes the same way */
    struct vqf_exec *x = NULL;
    pb_begin(&prog, 0, 8, VQF_LIAR_NONE, VIRTIO_ID_BLOCK);
    for (unsigned i = 0; i < 6; i++)
        workload(VIRTIO_ID_BLOCK);
    CHECK_EQ(run("formats", &x), VQF_PASS);
    CHECK(count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_PUSH) >= 12);
    vqf_exec_free(x);
}

int main(void)
{
    CHECK_EQ(vqf_target_count(), 14);
    device_targets();
    driver_targets();
    honest_targets();
    return check_report("test_exec_reach");
}
