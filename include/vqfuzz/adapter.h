/* Adapter interface: how a device or a driver is plugged into vqfuzz.
 *
 * A device is a virtio-mmio register file (read/write by offset and size) plus a poll
 * function, given a platform handle for DMA and for raising its interrupt line.
 * A driver is given an MMIO handle to the device, DMA and a DMA allocator, and exposes
 * probe, submit-workload, interrupt, control and remove.
 * The built-in reference devices and drivers are plugged in through exactly this interface. */
#ifndef VQFUZZ_ADAPTER_H
#define VQFUZZ_ADAPTER_H

#include <stdint.h>

#include "vqfuzz/dma.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- devices ---- */

struct vqf_device_platform {
    struct vqf_dma dma;                 /* device-side DMA into guest memory */
    void (*irq)(void *irq_ctx);         /* the device's interrupt line went up (InterruptStatus != 0) */
    void *irq_ctx;
};

struct vqf_device_params {
    uint64_t features[2]; /* feature bits the harness lets the device offer (AND-ed with what it supports) */
    uint16_t num_queues;  /* 0 = device default */
    uint16_t queue_size_max; /* 0 = device default */
    uint32_t seed;        /* for device-side data (rng bytes, disk pattern) */
    uint32_t flags;       /* reserved, 0 */
};

struct vqf_device_adapter {
    const char *name;      /* "blk", "mydev": target names are <name>_device, ... */
    uint32_t device_id;    /* virtio device ID (spec 5) */
    void *(*create)(const struct vqf_device_platform *plat, const struct vqf_device_params *params);
    void (*destroy)(void *dev);
    uint32_t (*mmio_read)(void *dev, uint32_t offset, unsigned size);
    void (*mmio_write)(void *dev, uint32_t offset, unsigned size, uint32_t value);
    /* Do pending work (process kicked queues, deliver rx...) up to `budget` units; return the
     * units done, 0 when idle. */
    int (*poll)(void *dev, unsigned budget);
};

/* ---- drivers ---- */

struct vqf_driver_platform {
    struct vqf_dma dma;                 /* driver-side DMA into guest memory */
    uint32_t (*mmio_read)(void *mmio_ctx, uint32_t offset, unsigned size);
    void (*mmio_write)(void *mmio_ctx, uint32_t offset, unsigned size, uint32_t value);
    void *mmio_ctx;
    /* Guest memory for rings and buffers: returns a GPA, or 0 when out of memory. Freed all at
     * once when the instance is destroyed. */
    uint64_t (*dma_alloc)(void *alloc_ctx, uint64_t size, uint64_t align);
    void *alloc_ctx;
};

struct vqf_driver_params {
    uint64_t features[2]; /* feature bits the driver may accept (AND-ed with what it knows) */
    uint16_t queue_size;  /* 0 = min(QueueSizeMax, 256) */
    uint16_t num_queues;  /* 0 = driver default */
    uint32_t seed;        /* workload data patterns */
    uint32_t flags;       /* VQF_DRV_F_* */
};
#define VQF_DRV_F_INDIRECT 1u /* use indirect descriptors when negotiated */

/* One unit of workload, interpreted per device type:
 *   blk:     kind 0 write+read-back (arg0 sector, arg1 sectors), 1 read, 2 flush, 3 discard,
 *            4 write-zeroes, 5 get-id
 *   net:     kind 0 send a frame (arg0 length) on pair `queue`, 1 refill rx buffers
 *   console: kind 0 write arg0 bytes (echoed back), 1 refill rx
 *   rng:     kind 0 request arg0 bytes */
struct vqf_workload_op {
    uint32_t kind;
    uint32_t queue;
    uint32_t arg0, arg1;
    uint64_t seed;
};

/* control() requests: lifecycle in mid-traffic */
enum vqf_driver_ctl {
    VQF_CTL_RESET = 0,       /* reset the device and initialise again */
    VQF_CTL_QUEUE_RESET = 1, /* arg = queue: reset and re-enable one queue (VIRTIO_F_RING_RESET) */
    VQF_CTL_CONFIG = 2,      /* re-read the device configuration (generation loop) */
};

struct vqf_driver_adapter {
    const char *name;
    uint32_t device_id;
    void *(*create)(const struct vqf_driver_platform *plat, const struct vqf_driver_params *params);
    void (*destroy)(void *drv);
    /* Initialise the device (spec 3.1.1). 0 = DRIVER_OK set and queues live; <0 = gave up
     * (the driver set FAILED or found no usable device). */
    int (*probe)(void *drv);
    /* Submit one workload unit. 0 = submitted, 1 = no room now, <0 = not possible. */
    int (*submit)(void *drv, const struct vqf_workload_op *op);
    /* The interrupt line is up: handle it (ack, reclaim used buffers, verify data). Returns
     * the number of requests completed. */
    int (*interrupt)(void *drv);
    int (*control)(void *drv, unsigned request, uint32_t arg);
    /* Requests submitted and not yet completed. */
    unsigned (*inflight)(void *drv);
    /* End-to-end data errors seen so far (read-back mismatch, bad echo, ...). */
    unsigned (*data_errors)(void *drv);
    /* Clean teardown: reset the device (spec 3.3), reclaim everything. */
    void (*remove)(void *drv);
};

#ifdef __cplusplus
}
#endif
#endif
