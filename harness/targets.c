/* The built-in fuzz targets. Names are stable: CI, OSS-Fuzz, corpus folders and reports use
 * them. Each covers both ring formats (the program header's VQF_PF_PACKED chooses). */
#include <string.h>

#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "harness/exec.h"
#include "vqfuzz/virtio.h"

#define DRV (1u << VQF_SIDE_DRIVER)
#define DEV (1u << VQF_SIDE_DEVICE)
#define OP(k) (1ull << VQF_OP_##k)

/* Op masks: the roles choose the family, the mask narrows it for the special targets. */
#define SCHED (OP(NOP) | OP(RUN_DEVICE) | OP(RUN_DRIVER))
#define ALL_OPS (~0ull)
#define WORK_OPS (SCHED | OP(WL_SUBMIT) | OP(WL_INTERRUPT) | OP(WL_CONTROL))
#define NEGOTIATION_OPS (WORK_OPS | OP(DEV_REFUSE_FEATURES) | OP(DEV_NEEDS_RESET))
#define CONFIG_OPS (WORK_OPS | OP(DEV_CONFIG))
#define MMIO_OPS                                                                                            \
    (SCHED | OP(DRV_REG_WRITE) | OP(DRV_REG_READ) | OP(DRV_STATUS) | OP(DRV_FEATURES) | OP(DRV_CONFIG_WRITE) | \
     OP(DRV_CONFIG_READ) | OP(DRV_DEVICE_RESET) | OP(DRV_QUEUE_RESET) | OP(DRV_REINIT) | OP(DRV_NOTIFY_RAW))

#define DEVICE_TARGET(nm, id, devad, what)                                                                   \
    {"" #nm "_device", "reference " what " device under test; the fuzzer plays a lying driver", id,        \
     VQF_LIAR_DRIVER, VQF_ROLE_LDRV, DEV, 0, &devad, NULL}
#define DRIVER_TARGET(nm, id, devad, drvad, what)                                                            \
    {"" #nm "_driver", "reference " what " driver under test; the fuzzer plays a lying device", id,        \
     VQF_LIAR_DEVICE, VQF_ROLE_LDEV | VQF_ROLE_WORK, DRV, 0, &devad, &drvad}

static const struct vqf_target targets[] = {
    DEVICE_TARGET(blk, VIRTIO_ID_BLOCK, vqf_blk_device, "block"),
    DEVICE_TARGET(net, VIRTIO_ID_NET, vqf_net_device, "network"),
    DEVICE_TARGET(console, VIRTIO_ID_CONSOLE, vqf_console_device, "console"),
    DEVICE_TARGET(rng, VIRTIO_ID_RNG, vqf_rng_device, "entropy"),
    DRIVER_TARGET(blk, VIRTIO_ID_BLOCK, vqf_blk_device, vqf_blk_driver, "block"),
    DRIVER_TARGET(net, VIRTIO_ID_NET, vqf_net_device, vqf_net_driver, "network"),
    DRIVER_TARGET(console, VIRTIO_ID_CONSOLE, vqf_console_device, vqf_console_driver, "console"),
    DRIVER_TARGET(rng, VIRTIO_ID_RNG, vqf_rng_device, vqf_rng_driver, "entropy"),
    {"blk_pair", "honest block pair; the fuzzer chooses workload and schedule, the oracle judges both",
     VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK, DRV | DEV, 0, &vqf_blk_device, &vqf_blk_driver},
    {"net_pair", "honest network pair; the fuzzer chooses workload and schedule, the oracle judges both",
     VIRTIO_ID_NET, VQF_LIAR_NONE, VQF_ROLE_WORK, DRV | DEV, 0, &vqf_net_device, &vqf_net_driver},
    {"negotiation", "block pair: status, feature and reset sequences, FEATURES_OK refusal, NEEDS_RESET",
     VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK | VQF_ROLE_LDEV, DRV | DEV, VQF_T_NEGOTIATION,
     &vqf_blk_device, &vqf_blk_driver},
    {"config", "block or console pair: config reads and writes, device changes, generation tearing",
     VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK | VQF_ROLE_LDEV, DRV | DEV, VQF_T_CONFIG, &vqf_blk_device,
     &vqf_blk_driver},
    {"mmio", "reference block device: raw virtio-mmio register accesses in any order", VIRTIO_ID_BLOCK,
     VQF_LIAR_DRIVER, VQF_ROLE_LDRV, DEV, VQF_T_MMIO, &vqf_blk_device, NULL},
    {"formats", "block or entropy pair: one workload over split and over packed, and unobserved (fast paths)",
     VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK, DRV | DEV, VQF_T_FORMATS, &vqf_blk_device, &vqf_blk_driver},
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

unsigned vqf_target_count(void) { return (unsigned)NTARGETS; }

const struct vqf_target *vqf_target_at(unsigned i) { return i < NTARGETS ? &targets[i] : NULL; }

const struct vqf_target *vqf_target_find(const char *name)
{
    for (unsigned i = 0; i < NTARGETS; i++)
        if (strcmp(targets[i].name, name) == 0)
            return &targets[i];
    return NULL;
}

uint64_t vqf_target_op_mask(const struct vqf_target *t)
{
    if (t->flags & VQF_T_MMIO)
        return MMIO_OPS;
    if (t->flags & VQF_T_NEGOTIATION)
        return NEGOTIATION_OPS;
    if (t->flags & VQF_T_CONFIG)
        return CONFIG_OPS;
    if (t->flags & VQF_T_FORMATS)
        return WORK_OPS;
    return ALL_OPS;
}
