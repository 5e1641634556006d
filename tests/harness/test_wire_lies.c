/* The lying device's lies on the wire (exec_world.c), seen through the register file by a
 * scripted driver: DEVICE_NEEDS_RESET in Status (2.1.2), FEATURES_OK that does not stick
 * (3.1.1 step 6), extra InterruptStatus bits (4.2.2), a config change with and without a
 * ConfigGeneration bump (2.5.1), and a change torn between two config reads. The device
 * underneath is the honest reference blk device. */
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "emulator/devices/devices.h"
#include "harness/exec.h"
#include "prog_build.h"
#include "vqfuzz/virtio.h"

/* ---- a scripted driver: control(request) performs one register sequence ---- */
static struct vqf_driver_platform plat;
static uint32_t seen[8];

static void *sd_create(const struct vqf_driver_platform *p, const struct vqf_driver_params *params)
{
    plat = *p;
    memset(seen, 0, sizeof(seen));
    return &plat;
}
static void sd_destroy(void *drv) {}
static int sd_probe(void *drv) { return 0; }
static int sd_submit(void *drv, const struct vqf_workload_op *op) { return 0; }
static int sd_interrupt(void *drv) { return 0; }
static unsigned sd_zero(void *drv) { return 0; }
static void sd_remove(void *drv) {}
static uint32_t rd(uint32_t off) { return plat.mmio_read(plat.mmio_ctx, off, 4); }
static void wr(uint32_t off, uint32_t v) { plat.mmio_write(plat.mmio_ctx, off, 4, v); }

static int sd_control(void *drv, unsigned request, uint32_t arg)
{
    switch (arg) {
    case 0: /* status */
        seen[0] = rd(VIRTIO_MMIO_STATUS);
        break;
    case 1: /* the negotiation up to the FEATURES_OK read-back (3.1.1 steps 1-6) */
        wr(VIRTIO_MMIO_STATUS, 0);
        wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
        wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
        wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
        wr(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
        wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
        wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
        wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
        seen[1] = rd(VIRTIO_MMIO_STATUS);
        break;
    case 2: /* generation, capacity low, capacity high, generation */
        seen[2] = rd(VIRTIO_MMIO_CONFIG_GENERATION);
        seen[3] = rd(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_CAPACITY);
        seen[4] = rd(VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_CAPACITY + 4);
        seen[5] = rd(VIRTIO_MMIO_CONFIG_GENERATION);
        break;
    case 3:
        seen[6] = rd(VIRTIO_MMIO_INTERRUPT_STATUS);
        seen[7] = rd(VIRTIO_MMIO_INTERRUPT_STATUS);
        break;
    }
    return 0;
}

static const struct vqf_driver_adapter scripted = {"scripted", VIRTIO_ID_BLOCK, sd_create, sd_destroy, sd_probe,
                                                   sd_submit, sd_interrupt, sd_control, sd_zero, sd_zero,
                                                   sd_remove};

static struct vqf_program prog;

static void run(const struct vqf_target *t)
{
    struct vqf_exec *x = vqf_exec_new(t);
    CHECK(x != NULL);
    if (!x)
        return;
    struct vqf_result r;
    vqf_exec_run_program(x, &prog, &r);
    vqf_exec_free(x);
}

int main(void)
{
    const struct vqf_target t = {"t_wire", "", VIRTIO_ID_BLOCK, VQF_LIAR_DEVICE, VQF_ROLE_LDEV | VQF_ROLE_WORK,
                                 1u << VQF_SIDE_DRIVER, 0, &vqf_blk_device, &scripted};

    /* NEEDS_RESET shows in Status; without the lie it does not. */
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 0, 0);
    run(&t);
    CHECK_EQ(seen[0] & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
    pb_op(&prog, VQF_OP_DEV_NEEDS_RESET, 0, 0, 0, 0);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 0, 0);
    run(&t);
    CHECK(seen[0] & VIRTIO_STATUS_DEVICE_NEEDS_RESET);

    /* FEATURES_OK sticks with an honest device, and not with the refusing one. */
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 1, 0);
    run(&t);
    CHECK(seen[1] & VIRTIO_STATUS_FEATURES_OK);
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_DEV_REFUSE_FEATURES, 0, 1, 0, 0);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 1, 0);
    run(&t);
    CHECK_EQ(seen[1] & VIRTIO_STATUS_FEATURES_OK, 0);

    /* A spurious interrupt: the bits show in the next InterruptStatus read only. */
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_DEV_IRQ, 0, VIRTIO_MMIO_INT_VRING, 0, 0);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 3, 0);
    run(&t);
    CHECK_EQ(seen[6] & VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(seen[7] & VIRTIO_MMIO_INT_VRING, 0);

    /* Config change of capacity low word: with a generation bump (mode 1) the generation
     * moves; without it (mode 0) only the value does (a CFG-08 lie). */
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 2, 0);
    run(&t);
    uint32_t gen0 = seen[2], cap0 = seen[3];
    CHECK_EQ(seen[2], seen[5]);
    pb_op(&prog, VQF_OP_DEV_CONFIG, 0, 0, cap0 + 7, 0x1);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 2, 0);
    run(&t);
    CHECK_EQ(seen[3], cap0 + 7);
    CHECK_EQ(seen[2], gen0 + 1);
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_DEV_CONFIG, 0, 0, cap0 + 9, 0x0);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 2, 0);
    run(&t);
    CHECK_EQ(seen[3], cap0 + 9);
    CHECK_EQ(seen[2], gen0);

    /* Torn (mode bit 2): the change lands right after the driver's next config read, so the
     * first capacity read is old, the generation read after it has moved (2.5.1: the driver
     * must read again). */
    pb_begin(&prog, VQF_PF_MANUAL, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_DEV_CONFIG, 0, 4, 0x55, 0x5);
    pb_op(&prog, VQF_OP_WL_CONTROL, 0, 0, 2, 0);
    run(&t);
    CHECK_EQ(seen[3], cap0);
    CHECK_EQ(seen[4], 0x55);
    CHECK_EQ(seen[5], seen[2] + 1);
    return check_report("test_exec_wire_lies");
}
