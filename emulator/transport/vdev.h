/* Device side of the virtio-mmio transport (spec 4.2, version 2), wrapping any device model.
 *
 * struct vqf_vdev is the register file and the generic device state machine: status
 * (2.1, 3.1), 128-bit feature negotiation through the select windows (2.2), queue registers,
 * QueueReady and QueueReset (2.6.1, VIRTIO_F_RING_RESET), notifications (with
 * NOTIFICATION_DATA), InterruptStatus/ACK, ConfigGeneration and the config window (2.5).
 * A device type (blk, net, console, rng) is a backend: struct vqf_vdev_ops.
 *
 * Kicks are not processed inside the QueueNotify write: they are recorded and handled by
 * vqf_vdev_poll(), so that the harness decides when the device runs. */
#ifndef VQF_VDEV_H
#define VQF_VDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/ring/vq.h"

#define VQF_VDEV_MAX_QUEUES 16
#define VQF_VDEV_CONFIG_MAX 256
#define VQF_VDEV_VENDOR_ID 0x51465156u /* "VQFQ" */

struct vqf_vdev;

struct vqf_vdev_ops {
    const char *name;
    uint32_t device_id;
    /* At the FEATURES_OK write: 0 accepts the driver's choice, -1 refuses it (the bit then
     * reads back clear, FEAT-11). May be NULL (accept). */
    int (*features_ok)(struct vqf_vdev *d);
    /* The driver wrote config bytes [off, off+size) (already stored in d->config). May be NULL. */
    void (*config_write)(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val);
    /* DRIVER_OK was set. May be NULL. */
    void (*driver_ok)(struct vqf_vdev *d);
    /* Device reset (status 0): drop per-run backend state. May be NULL. */
    void (*reset)(struct vqf_vdev *d);
    /* Queue q was reset (QueueReset) or is being re-enabled. May be NULL. */
    void (*queue_reset)(struct vqf_vdev *d, uint16_t q);
    /* Process available buffers of queue q, at most `budget` chains. Returns chains handled.
     * Ring errors: call vqf_vdev_fail(). */
    int (*process)(struct vqf_vdev *d, uint16_t q, unsigned budget);
    /* Work not tied to a kick (net rx delivery from its loopback, console output...). May be NULL. */
    int (*poll)(struct vqf_vdev *d, unsigned budget);
};

struct vqf_vdev_queue {
    uint16_t num;        /* QueueSize */
    uint16_t num_max;    /* QueueSizeMax (0 = queue does not exist) */
    uint32_t ready;      /* QueueReady */
    uint64_t desc, driver, device;
    bool kicked;         /* a notification is pending */
    uint32_t notify_data;
    bool live;           /* vq initialised from the registers (ready and DRIVER_OK) */
    struct vqf_vq_dev vq;
};

struct vqf_vdev {
    const struct vqf_vdev_ops *ops;
    void *backend;                   /* the device type's private state */
    struct vqf_dma dma;              /* device-side DMA */
    void (*irq)(void *irq_ctx);      /* platform interrupt line */
    void *irq_ctx;
    uint32_t status;
    uint64_t dev_features[2];        /* offered, bits 0..127 */
    uint64_t drv_features[2];        /* written by the driver */
    uint32_t dev_features_sel, drv_features_sel;
    uint32_t queue_sel;
    uint16_t num_queues;
    struct vqf_vdev_queue q[VQF_VDEV_MAX_QUEUES];
    uint32_t isr;                    /* InterruptStatus */
    uint32_t config_gen;             /* ConfigGeneration */
    uint32_t config_len;
    uint8_t config[VQF_VDEV_CONFIG_MAX];
    bool failed_ring;                /* a ring error was seen: NEEDS_RESET is set */
    /* scratch for popped chains, shared by backends (single-threaded) */
    struct vqf_seg *segs;
    uint32_t seg_cap;
    uint64_t work;                   /* chains processed since creation */
    /* added by the transport */
    bool features_locked;            /* FEATURES_OK was accepted: DriverFeatures frozen until reset (INIT-04) */
    bool config_irq_deferred;        /* config changed while suspended: notify on resume (3.4) */
};

/* Set up the register file. features = what the device offers (VERSION_1 is added).
 * config_len bytes of d->config are the device-specific config space (the backend fills
 * them after init). seg_cap = scratch segments (also the device's chain cap). Returns 0 or -1. */
int vqf_vdev_init(struct vqf_vdev *d, const struct vqf_vdev_ops *ops, void *backend, const struct vqf_dma *dma,
                  uint16_t num_queues, uint16_t queue_num_max, const uint64_t features[2], uint32_t config_len,
                  uint32_t seg_cap);
void vqf_vdev_destroy(struct vqf_vdev *d);

/* The register file (spec 4.2.2). Wrong sizes and undefined offsets read 0 / are ignored. */
uint32_t vqf_vdev_mmio_read(struct vqf_vdev *d, uint32_t off, unsigned size);
void vqf_vdev_mmio_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val);
/* Handle pending kicks and backend work, at most budget chains. Returns work done. */
int vqf_vdev_poll(struct vqf_vdev *d, unsigned budget);

/* ---- for backends ---- */
static inline bool vqf_vdev_has(const struct vqf_vdev *d, unsigned bit)
{
    /* negotiated = offered & accepted, valid once FEATURES_OK stuck */
    return bit < 128 && ((d->dev_features[bit / 64] & d->drv_features[bit / 64]) >> (bit % 64)) & 1u;
}
/* The live queue q, or NULL (not ready, not DRIVER_OK, broken, or out of range). */
struct vqf_vq_dev *vqf_vdev_vq(struct vqf_vdev *d, uint16_t q);
/* Publish pushed used entries of q and raise the vring interrupt if the driver wants one. */
void vqf_vdev_used_notify(struct vqf_vdev *d, uint16_t q);
/* A ring error on q (err = VQF_ERR_*): stop the queue, set DEVICE_NEEDS_RESET and send the
 * configuration-change notification if DRIVER_OK is set (2.1.2, STATUS-06/07). */
void vqf_vdev_fail(struct vqf_vdev *d, uint16_t q, int err);
/* Set DEVICE_NEEDS_RESET (same notification rule). */
void vqf_vdev_set_needs_reset(struct vqf_vdev *d);
/* Device-side config change: store bytes, bump ConfigGeneration (CFG-08) and, if notify and
 * DRIVER_OK, raise the configuration-change interrupt. */
void vqf_vdev_config_set(struct vqf_vdev *d, uint32_t off, const void *data, uint32_t len, bool notify);
/* Raise InterruptStatus bits and the interrupt line. */
void vqf_vdev_raise(struct vqf_vdev *d, uint32_t isr_bits);
/* Copy len bytes at byte offset off of the device-readable part of chain c into buf, or buf
 * into the device-writable part, through the DMA API. 0, or -1 when the chain is too short or
 * a DMA access faults. */
int vqf_vdev_chain_read(struct vqf_vdev *d, const struct vqf_chain *c, uint32_t off, void *buf, uint32_t len);
int vqf_vdev_chain_write(struct vqf_vdev *d, const struct vqf_chain *c, uint32_t off, const void *buf,
                         uint32_t len);

/* Adapter entry points (include/vqfuzz/adapter.h) for a device whose state struct begins with
 * its struct vqf_vdev: a pointer to a struct is a pointer to its first member (C11 6.7.2.1),
 * so every reference device shares these instead of three casting wrappers of its own. */
uint32_t vqf_vdev_adapter_mmio_read(void *dev, uint32_t off, unsigned size);
void vqf_vdev_adapter_mmio_write(void *dev, uint32_t off, unsigned size, uint32_t val);
int vqf_vdev_adapter_poll(void *dev, unsigned budget);

#endif
