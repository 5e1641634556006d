/* The verdict pipeline, end to end, with sides that misbehave on purpose:
 *   - a device that never processes its queues: the health probe (one valid request after a
 *     full reset, 3.3.1) never completes -> WEDGED;
 *   - a device that reports work on every poll without the driver doing anything: unbounded
 *     work per kick -> WEDGED;
 *   - a driver that cannot submit anything, even after a reset -> WEDGED;
 *   - a device side that is judged and forges a used id (D-03, 2.7.8) -> FAIL naming the
 *     clause, and the report carries clause, section and the flight recorder's tail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "harness/exec.h"
#include "prog_build.h"
#include "vqfuzz/virtio.h"

static struct vqf_program prog;

/* ---- misbehaving adapters, built on the reference blk ones ---- */

static int lazy_poll(void *dev, unsigned budget) { return 0; }

static int busy_poll(void *dev, unsigned budget)
{
    vqf_blk_device.poll(dev, budget);
    return (int)budget; /* claims work forever */
}

static int refuse_submit(void *drv, const struct vqf_workload_op *op) { return -1; }

static struct vqf_device_adapter lazy_dev, busy_dev;
static struct vqf_driver_adapter refusing_drv;

static struct vqf_result run(const struct vqf_target *t, struct vqf_exec **xp)
{
    struct vqf_result res;
    memset(&res, 0, sizeof(res));
    *xp = vqf_exec_new(t);
    CHECK(*xp != NULL);
    if (*xp)
        vqf_exec_run_program(*xp, &prog, &res);
    return res;
}

static void blk_requests(void)
{
    pb_op(&prog, VQF_OP_DRV_REQUEST, 0, VIRTIO_BLK_T_IN, 0, 512);
    pb_op(&prog, VQF_OP_DRV_KICK, 0, 0, 0, 0);
    pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
}

int main(void)
{
    lazy_dev = vqf_blk_device;
    lazy_dev.poll = lazy_poll;
    busy_dev = vqf_blk_device;
    busy_dev.poll = busy_poll;
    refusing_drv = vqf_blk_driver;
    refusing_drv.submit = refuse_submit;
    struct vqf_exec *x;
    struct vqf_result r;

    /* The reference device passes the same program: the harness is not the problem. */
    const struct vqf_target honest = {"t_honest", "", VIRTIO_ID_BLOCK, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                      1u << VQF_SIDE_DEVICE, 0, &vqf_blk_device, NULL};
    for (unsigned packed = 0; packed < 2; packed++) {
        pb_begin(&prog, packed ? VQF_PF_PACKED : 0, 16, VQF_LIAR_DRIVER, VIRTIO_ID_BLOCK);
        blk_requests();
        r = run(&honest, &x);
        CHECK_EQ(r.verdict, VQF_PASS);
        vqf_exec_free(x);
    }

    const struct vqf_target lazy = {"t_lazy", "", VIRTIO_ID_BLOCK, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                    1u << VQF_SIDE_DEVICE, 0, &lazy_dev, NULL};
    pb_begin(&prog, 0, 16, VQF_LIAR_DRIVER, VIRTIO_ID_BLOCK);
    blk_requests();
    r = run(&lazy, &x);
    CHECK_EQ(r.verdict, VQF_WEDGED);
    CHECK(strstr(r.detail, "health probe") != NULL);
    vqf_exec_free(x);

    const struct vqf_target busy = {"t_busy", "", VIRTIO_ID_BLOCK, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                    1u << VQF_SIDE_DEVICE, 0, &busy_dev, NULL};
    pb_begin(&prog, VQF_PF_PACKED, 16, VQF_LIAR_DRIVER, VIRTIO_ID_BLOCK);
    blk_requests();
    r = run(&busy, &x);
    CHECK_EQ(r.verdict, VQF_WEDGED);
    CHECK(strstr(r.detail, "unbounded") != NULL);
    vqf_exec_free(x);

    const struct vqf_target refusing = {"t_refusing", "", VIRTIO_ID_BLOCK, VQF_LIAR_DEVICE,
                                        VQF_ROLE_LDEV | VQF_ROLE_WORK, 1u << VQF_SIDE_DRIVER, 0,
                                        &vqf_blk_device, &refusing_drv};
    pb_begin(&prog, 0, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 1, 0, 1);
    r = run(&refusing, &x);
    CHECK_EQ(r.verdict, VQF_WEDGED);
    CHECK(strstr(r.detail, "cannot submit") != NULL);
    vqf_exec_free(x);

    /* The fuzzer's device lies but, in this target, the device side is judged: the forged
     * used id is the device's fault (D-03). */
    const struct vqf_target judged = {"t_judged_device", "", VIRTIO_ID_BLOCK, VQF_LIAR_DEVICE,
                                      VQF_ROLE_LDEV | VQF_ROLE_WORK,
                                      (1u << VQF_SIDE_DEVICE) | (1u << VQF_SIDE_DRIVER), 0, &vqf_blk_device,
                                      &vqf_blk_driver};
    pb_begin(&prog, 0, 16, VQF_LIAR_DEVICE, VIRTIO_ID_BLOCK);
    pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 1, 0, 1);
    pb_op(&prog, VQF_OP_DEV_FORGE, 0, 29, 1, 0);
    pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
    r = run(&judged, &x);
    CHECK_EQ(r.verdict, VQF_FAIL);
    CHECK_EQ(r.side, VQF_SIDE_DEVICE);
    CHECK(r.clause != VQF_CLAUSE_NONE);
    const struct vqf_clause *cl = vqf_clause_get(r.clause);
    CHECK(cl && strcmp(cl->id, "D-03") == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    if (x && mf) {
        vqf_exec_report(x, &r, mf);
        fclose(mf);
        CHECK(strstr(buf, "FAIL") != NULL);
        CHECK(strstr(buf, "D-03") != NULL);
        CHECK(strstr(buf, "2.7.8") != NULL);
        CHECK(strstr(buf, "flight recorder") != NULL);
        free(buf);
    }
    vqf_exec_free(x);
    return check_report("test_exec_verdicts");
}
