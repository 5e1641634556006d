/* The examples (examples/): a third-party device (acme-rng) and driver (tinyrng) plugged in
 * through adapter.h. Their seeds (the built-in rng corpus, compiled per generated target)
 * must replay with PASS or REJECT only, and hand-written programs check that the user code
 * really does the work: the device serves entropy requests in both ring formats (spec 5.4,
 * 2.7 split, 2.8 packed), refuses a device-readable buffer with DEVICE_NEEDS_RESET (5.4.6.1,
 * 2.1.2) and the driver completes requests against the reference device. */
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

extern const struct vqf_device_adapter acme_rng_device;
extern const struct vqf_driver_adapter tinyrng_driver;

#define DRV (1u << VQF_SIDE_DRIVER)
#define DEV (1u << VQF_SIDE_DEVICE)

/* The descriptors cmake/VqfuzzAdapters.cmake generates for the examples (same fields). */
static const struct vqf_target t_dev = {"acme_rng_device", "", VIRTIO_ID_RNG, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                        DEV, 0, &acme_rng_device, NULL};
static const struct vqf_target t_mmio = {"acme_rng_mmio", "", VIRTIO_ID_RNG, VQF_LIAR_DRIVER, VQF_ROLE_LDRV,
                                         DEV, VQF_T_MMIO, &acme_rng_device, NULL};
static const struct vqf_target t_dneg = {"acme_rng_negotiation", "", VIRTIO_ID_RNG, VQF_LIAR_NONE,
                                         VQF_ROLE_WORK | VQF_ROLE_LDEV, DRV | DEV, VQF_T_NEGOTIATION,
                                         &acme_rng_device, &vqf_rng_driver};
static const struct vqf_target t_dpair = {"acme_rng_pair", "", VIRTIO_ID_RNG, VQF_LIAR_NONE, VQF_ROLE_WORK,
                                          DRV | DEV, 0, &acme_rng_device, &vqf_rng_driver};
static const struct vqf_target t_drv = {"tinyrng_driver", "", VIRTIO_ID_RNG, VQF_LIAR_DEVICE,
                                        VQF_ROLE_LDEV | VQF_ROLE_WORK, DRV, 0, &vqf_rng_device, &tinyrng_driver};
static const struct vqf_target t_rpair = {"tinyrng_pair", "", VIRTIO_ID_RNG, VQF_LIAR_NONE, VQF_ROLE_WORK,
                                          DRV | DEV, 0, &vqf_rng_device, &tinyrng_driver};
static const struct vqf_target t_rneg = {"tinyrng_negotiation", "", VIRTIO_ID_RNG, VQF_LIAR_NONE,
                                         VQF_ROLE_WORK | VQF_ROLE_LDEV, DRV | DEV, VQF_T_NEGOTIATION,
                                         &vqf_rng_device, &tinyrng_driver};

static const struct vqf_target *const all[] = {&t_dev, &t_mmio, &t_dneg, &t_dpair, &t_drv, &t_rpair, &t_rneg};

/* The user device serves honest entropy requests of the fuzzer's driver: every request
 * comes back (the lying driver's reclaims are ring events of the driver side). */
static void device_serves(const char *format)
{
    char text[512];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 16 liar driver device 4\noffered 0 accepted 0 seed 0x15\n"
             "drv_request q=0 type=0 arg=0 len=16\ndrv_request q=0 type=0 arg=0 len=4096\n"
             "drv_request q=0 type=0 arg=0 len=300\nrun_device steps=0\ndrv_reclaim q=0\n",
             format);
    struct vqf_exec *x = vqf_exec_new(&t_dev);
    struct vqf_result r;
    run_text(x, text, &r);
    CHECK_EQ(r.verdict, VQF_PASS);
    /* three requests, then the health probe's one */
    CHECK(vqf_exec_event_count(x, VQF_SIDE_DRIVER, VQF_EV_DRV_RECLAIM) >= 3);
    vqf_exec_free(x);
}

/* A device-readable buffer on the entropy queue breaks 5.4.6.1: the device refuses it with
 * DEVICE_NEEDS_RESET, recovers after a reset, and the verdict is REJECT (the fuzzer lied). */
static void device_refuses_readable(const char *format)
{
    char text[512];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 16 liar driver device 4\noffered 0 accepted 0 seed 0x16\n"
             "drv_add q=0 shape=0x1 len=0x40 flags=0x2\nrun_device steps=0\n",
             format);
    struct vqf_exec *x = vqf_exec_new(&t_dev);
    struct vqf_result r;
    run_text(x, text, &r);
    CHECK_EQ(r.verdict, VQF_REJECT);
    vqf_exec_free(x);
}

/* The user driver completes its requests on the reference device (pushes are the device's
 * ring events) with no data error. */
static void driver_completes(const char *format)
{
    char text[512];
    snprintf(text, sizeof(text),
             "format %s\nqueues 0 size 16 liar none device 4\noffered 0 accepted 0 seed 0x61\n"
             "submit q=0 kind=0 arg0=16 arg1=0\nsubmit q=0 kind=0 arg0=4096 arg1=0\n"
             "submit q=0 kind=0 arg0=100 arg1=0\nrun_device steps=0\nrun_driver steps=1\n",
             format);
    struct vqf_exec *x = vqf_exec_new(&t_rpair);
    struct vqf_result r;
    run_text(x, text, &r);
    CHECK_EQ(r.verdict, VQF_PASS);
    CHECK(vqf_exec_event_count(x, VQF_SIDE_DEVICE, VQF_EV_DEV_PUSH) >= 3);
    vqf_exec_free(x);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_examples CORPUS_ROOT\n");
        return 2;
    }
    unsigned seeds = 0;
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        seeds += replay_dir(all[i], argv[1]);
    CHECK(seeds >= 20); /* the rng seeds, mmio and negotiation seeds of every target */
    device_serves("split");
    device_serves("packed");
    device_refuses_readable("split");
    device_refuses_readable("packed");
    driver_completes("split");
    driver_completes("packed");
    return check_report("test_examples");
}
