/* The block examples (examples/blk_device, examples/blk_driver): a third-party virtio-blk
 * device (acme-blk) and driver (tinyblk) plugged in through adapter.h. Their seeds (the
 * built-in blk corpus, compiled per generated target) must replay with PASS or REJECT only,
 * and hand-written programs check that the user code really does the work: the device
 * stores and returns data in both ring formats, with and without IN_ORDER batching (2.7.9,
 * 2.8.8), and fails a request past capacity with IOERR in its status byte (5.2.6); the driver
 * writes, reads back and identifies the disk on the reference device and recovers from a
 * completion whose status byte the device never wrote. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "emulator/mem.h"
#include "harness/exec.h"
#include "example_replay.h"
#include "vqfuzz/virtio.h"

extern const struct vqf_device_adapter acme_blk_device;
extern const struct vqf_driver_adapter tinyblk_driver;

#define DRV (1u << VQF_SIDE_DRIVER)
#define DEV (1u << VQF_SIDE_DEVICE)
#define WL_LDEV (VQF_ROLE_WORK | VQF_ROLE_LDEV)

/* The descriptors cmake/VqfuzzAdapters.cmake generates for the examples (same fields). */
static const struct vqf_target t_dev = {"acme_blk_device", "", VIRTIO_ID_BLOCK, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                        DEV, 0, &acme_blk_device, NULL};
static const struct vqf_target t_mmio = {"acme_blk_mmio", "", VIRTIO_ID_BLOCK, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                         DEV, VQF_T_MMIO, &acme_blk_device, NULL};
static const struct vqf_target t_dneg = {"acme_blk_negotiation", "", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, WL_LDEV,
                                         DRV | DEV, VQF_T_NEGOTIATION, &acme_blk_device, &vqf_blk_driver};
static const struct vqf_target t_dcfg = {"acme_blk_config", "", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, WL_LDEV,
                                         DRV | DEV, VQF_T_CONFIG, &acme_blk_device, &vqf_blk_driver};
static const struct vqf_target t_dpair = {"acme_blk_pair", "", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK,
                                          DRV | DEV, 0, &acme_blk_device, &vqf_blk_driver};
static const struct vqf_target t_drv = {"tinyblk_driver", "", VIRTIO_ID_BLOCK, VQF_LIAR_DEVICE, WL_LDEV, DRV, 0,
                                        &vqf_blk_device, &tinyblk_driver};
static const struct vqf_target t_rpair = {"tinyblk_pair", "", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK,
                                          DRV | DEV, 0, &vqf_blk_device, &tinyblk_driver};
static const struct vqf_target t_rneg = {"tinyblk_negotiation", "", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, WL_LDEV,
                                         DRV | DEV, VQF_T_NEGOTIATION, &vqf_blk_device, &tinyblk_driver};
static const struct vqf_target t_rcfg = {"tinyblk_config", "", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, WL_LDEV,
                                         DRV | DEV, VQF_T_CONFIG, &vqf_blk_device, &tinyblk_driver};

static const struct vqf_target *const all[] = {&t_dev,  &t_mmio, &t_dneg,  &t_dcfg, &t_dpair,
                                               &t_drv, &t_rpair, &t_rneg, &t_rcfg};

/* The user device in an honest pair with the reference driver, which writes, reads back and
 * compares (an end-to-end data error fails the pair): with IN_ORDER negotiated the device
 * writes one used entry per batch, without it one per request. */
static void device_round_trip(const char *format, int in_order)
{
    char text[768];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 32 liar none device 2\noffered 0 accepted 0x%llx seed 0x31\n"
             "submit q=0 kind=0 arg0=4 arg1=2\nsubmit q=0 kind=0 arg0=20 arg1=4\nsubmit q=0 kind=1 arg0=4 arg1=2\n"
             "submit q=0 kind=5 arg0=0 arg1=0\nsubmit q=0 kind=0 arg0=40 arg1=1\nrun_device steps=0\n"
             "run_driver steps=1\ninterrupt\nrun_device steps=0\nrun_driver steps=1\ninterrupt\n",
             format, in_order ? ~0ull : ~VQF_BIT(VIRTIO_F_IN_ORDER));
    struct vqf_exec *x = vqf_exec_new(&t_dpair);
    struct vqf_result r;
    run_text(x, text, &r);
    if (r.verdict != VQF_PASS)
        vqf_exec_report(x, &r, stderr);
    CHECK_EQ(r.verdict, VQF_PASS);
    /* three writes and their read-backs and a get-id at least (the read may wait behind the
     * write of its sectors) */
    CHECK(vqf_exec_event_count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 7);
    vqf_exec_free(x);
}

/* A read past capacity (64 sectors) from the fuzzer's driver: the device answers it with
 * IOERR in the status byte (5.2.6.2) and stays healthy; nothing is judged against it. */
static void device_fails_past_capacity(const char *format)
{
    char text[512];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 16 liar driver device 2\noffered 0 accepted 0 seed 0x15\n"
             "drv_request q=0 type=0 arg=1000 len=512\nrun_device steps=0\ndrv_reclaim q=0\n",
             format);
    struct vqf_exec *x = vqf_exec_new(&t_dev);
    struct vqf_result r;
    run_text(x, text, &r);
    if (r.verdict == VQF_FAIL || r.verdict == VQF_WEDGED)
        vqf_exec_report(x, &r, stderr);
    CHECK(r.verdict == VQF_PASS || r.verdict == VQF_REJECT);
    CHECK(vqf_exec_event_count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 1);
    vqf_exec_free(x);
}

/* The user driver on the reference device: write + read-back, read, get-id complete with
 * no data error (the reference device's pushes are its ring events). */
static void driver_completes(const char *format)
{
    char text[512];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 32 liar none device 2\noffered 0 accepted 0 seed 0x62\n"
             "submit q=0 kind=0 arg0=3 arg1=2\nsubmit q=0 kind=1 arg0=9 arg1=4\nsubmit q=0 kind=5 arg0=0 arg1=0\n"
             "run_device steps=0\nrun_driver steps=1\ninterrupt\nrun_device steps=0\nrun_driver steps=1\n"
             "interrupt\n",
             format);
    struct vqf_exec *x = vqf_exec_new(&t_rpair);
    struct vqf_result r;
    run_text(x, text, &r);
    if (r.verdict != VQF_PASS)
        vqf_exec_report(x, &r, stderr);
    CHECK_EQ(r.verdict, VQF_PASS);
    CHECK(vqf_exec_event_count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_PUSH) >= 4);
    vqf_exec_free(x);
}

/* The lying device hands back a request it never served: its status byte still holds the
 * driver's 0xff. The driver must not take that for a status (5.2.6): it resets the device
 * and carries on (REJECT, not a crash or a hang). */
static void driver_refuses_unwritten_status(const char *format)
{
    char text[512];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 16 liar device device 2\noffered 0 accepted 0 seed 0x63\n"
             "submit q=0 kind=1 arg0=2 arg1=1\ndev_forge q=0 id=0 len=513\nrun_driver steps=1\ninterrupt\n",
             format);
    struct vqf_exec *x = vqf_exec_new(&t_drv);
    struct vqf_result r;
    run_text(x, text, &r);
    if (r.verdict != VQF_REJECT)
        vqf_exec_report(x, &r, stderr);
    CHECK_EQ(r.verdict, VQF_REJECT);
    vqf_exec_free(x);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_examples_blk CORPUS_ROOT\n");
        return 2;
    }
    unsigned seeds = 0;
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        seeds += replay_dir(all[i], argv[1]);
    CHECK(seeds >= 40); /* the blk device, driver and pair seeds, mmio, negotiation and config */
    device_round_trip("split", 0);
    device_round_trip("split", 1);
    device_round_trip("packed", 0);
    device_round_trip("packed", 1);
    device_fails_past_capacity("split");
    device_fails_past_capacity("packed");
    driver_completes("split");
    driver_completes("packed");
    driver_refuses_unwritten_status("split");
    driver_refuses_unwritten_status("packed");
    return check_report("test_examples_blk");
}
