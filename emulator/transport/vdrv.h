/* Driver side of the virtio-mmio transport: what every reference driver (and the harness's
 * lying driver) uses to talk to a device through its register file.
 *
 * Implements the chapter-3 initialisation sequence (3.1.1): reset and wait for 0,
 * ACKNOWLEDGE, DRIVER, feature negotiation over the select windows (accept only offered bits,
 * honour dependencies), FEATURES_OK and its re-read, queue setup on either ring format
 * (split when RING_PACKED is not negotiated), DRIVER_OK; config reads with the generation
 * loop (2.5.1, CFG-02); interrupt acknowledge; queue reset and re-enable (2.6.1); reset and
 * teardown (3.3). */
#ifndef VQF_VDRV_H
#define VQF_VDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/ring/vq.h"
#include "vqfuzz/adapter.h"

#define VQF_VDRV_MAX_QUEUES 16

struct vqf_vdrv_queue {
    struct vqf_vq_drv vq;
    struct vqf_ring_cfg cfg;
    bool live;
};

struct vqf_vdrv {
    struct vqf_driver_platform plat;
    uint32_t device_id;
    uint64_t dev_features[2];  /* offered by the device */
    uint64_t features[2];      /* negotiated */
    uint32_t status;           /* last status written */
    uint16_t num_queues;       /* queues set up */
    uint16_t queue_size;       /* requested size (0 = min(max, 256)) */
    struct vqf_vdrv_queue q[VQF_VDRV_MAX_QUEUES];
    bool failed;               /* FAILED was set */
    bool needs_reset;          /* DEVICE_NEEDS_RESET was seen */
    uint32_t ind_bytes_per_queue; /* indirect pool per queue (0 = none) */
};

int vqf_vdrv_init(struct vqf_vdrv *d, const struct vqf_driver_platform *plat);
void vqf_vdrv_destroy(struct vqf_vdrv *d);

uint32_t vqf_vdrv_read(struct vqf_vdrv *d, uint32_t off);          /* 32-bit register read */
void vqf_vdrv_write(struct vqf_vdrv *d, uint32_t off, uint32_t v); /* 32-bit register write */

/* Reset, ACKNOWLEDGE, DRIVER, read the device ID and features, write features = offered &
 * want (minus bits whose prerequisites are missing: FEAT-02), FEATURES_OK and confirm.
 * Returns 0, or -1 after setting FAILED (the device refused, or is not a virtio-mmio v2
 * device of the expected type). */
int vqf_vdrv_negotiate(struct vqf_vdrv *d, uint32_t device_id, const uint64_t want[2]);
/* Allocate and program queue q (size = min(requested, QueueSizeMax), rounded down to a
 * power of two for split), then QueueReady = 1. Returns 0 or -1. */
int vqf_vdrv_setup_queue(struct vqf_vdrv *d, uint16_t q, uint16_t size);
/* Set DRIVER_OK. */
void vqf_vdrv_driver_ok(struct vqf_vdrv *d);
static inline bool vqf_vdrv_has(const struct vqf_vdrv *d, unsigned bit)
{
    return bit < 128 && (d->features[bit / 64] >> (bit % 64)) & 1u;
}
/* Read len bytes of device config at off inside the ConfigGeneration loop. 0 or -1. */
int vqf_vdrv_config_read(struct vqf_vdrv *d, uint32_t off, void *buf, uint32_t len);
void vqf_vdrv_config_write(struct vqf_vdrv *d, uint32_t off, const void *buf, uint32_t len);
/* Publish added buffers of q and notify the device if it wants a kick. */
void vqf_vdrv_kick(struct vqf_vdrv *d, uint16_t q);
/* Read InterruptStatus, acknowledge it, note DEVICE_NEEDS_RESET on a config interrupt.
 * Returns the bits. */
uint32_t vqf_vdrv_ack_interrupt(struct vqf_vdrv *d);
/* Queue reset (2.6.1.1.2): QueueReset = 1, wait for 0, then set the queue up again. */
int vqf_vdrv_queue_reset(struct vqf_vdrv *d, uint16_t q);
/* Device reset: write 0 and wait for 0 (RESET-03); queues are dropped. */
void vqf_vdrv_reset(struct vqf_vdrv *d);
/* Set FAILED (3.1.1 step 8 on fatal errors). */
void vqf_vdrv_fail(struct vqf_vdrv *d);
/* Guest memory from the platform allocator. */
uint64_t vqf_vdrv_alloc(struct vqf_vdrv *d, uint64_t size, uint64_t align);
/* A driver's buffer pool: size bytes of guest memory, allocated once (*gpa stays across
 * probes) and mapped for the driver's own reads (*host). A mapping that fails (an injected
 * bus fault) is tried again at the next call, so failed probes do not use up guest memory.
 * Returns 0, or -1 with the device marked FAILED. */
int vqf_vdrv_pool(struct vqf_vdrv *d, uint64_t size, uint64_t align, uint64_t *gpa, const uint8_t **host);
/* Forget the ring and indirect-pool memory kept for reuse: call after a reset, when the
 * platform allocator was rewound and that memory may be handed out again. */
void vqf_vdrv_forget_memory(struct vqf_vdrv *d);

#endif
