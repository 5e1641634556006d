/* Test world for the transport: guest memory, a test-only "loop" device backend plugged
 * into struct vqf_vdev, and the driver core (struct vqf_vdrv) talking to it through the
 * register functions. The loop device completes every chain by copying its readable bytes
 * into its writable bytes (zero-filling the rest) and reporting the whole writable length. */
#ifndef VQF_TESTS_TRANSPORT_WORLD_H
#define VQF_TESTS_TRANSPORT_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/mem.h"
#include "emulator/transport/vdev.h"
#include "emulator/transport/vdrv.h"

#define TW_DEVICE_ID 0x7e57u /* not a spec device type: the loop device only exists here */
#define TW_CONFIG_LEN 24u

struct tw;

struct tw_loop {
    unsigned processed[VQF_VDEV_MAX_QUEUES]; /* chains completed per queue */
    unsigned process_calls;
    unsigned resets, queue_resets, driver_oks, features_ok_calls, config_writes;
    uint32_t last_cfg_off, last_cfg_val;
    unsigned last_cfg_size;
    uint64_t refuse_bits[2]; /* features_ok() refuses when the driver accepted any of these */
    int last_err;            /* last ring error seen by process() */
};

struct tw {
    struct vqf_mem mem;
    struct vqf_galloc ga;
    struct vqf_vdev dev;
    struct tw_loop loop;
    struct vqf_vdrv drv;
    unsigned irqs;            /* interrupt line raised */
    unsigned mmio_reads, mmio_writes;
    unsigned dev_accesses;    /* device-side guest-memory accesses seen by the observer */
    struct vqf_observer obs;
    /* Called before every driver register read is served (a device changing under the
     * driver's feet). */
    void (*on_read)(struct tw *w, uint32_t off, unsigned size);
    unsigned hook_state;
    uint32_t magic_override; /* nonzero: MagicValue reads this (a device that is not virtio) */
    /* A slow device: the next stall_reads reads of register stall_off return stall_val
     * (a reset or queue reset still in progress). */
    uint32_t stall_off, stall_val;
    unsigned stall_reads, stall_seen;
};

/* nq queues of QueueSizeMax qmax, offered features f (VERSION_1 is added by the device). */
int tw_init(struct tw *w, uint16_t nq, uint16_t qmax, uint64_t f0, uint64_t f1);
void tw_fini(struct tw *w);

/* Register access as the driver does it (through the platform, counted). */
uint32_t tw_rd(struct tw *w, uint32_t off);
void tw_wr(struct tw *w, uint32_t off, uint32_t v);
uint32_t tw_rd_sel(struct tw *w, uint32_t q, uint32_t off); /* QueueSel = q, then read */

/* negotiate + queue 0..nq-1 + DRIVER_OK. want may include RING_PACKED etc. 0 or -1. */
int tw_bring_up(struct tw *w, uint64_t want0, uint64_t want1, uint16_t nq, uint16_t qsize);

/* Driver: one chain of `out` readable bytes (pattern from seed) and `in` writable bytes on
 * queue q; returns the head/id or <0. Buffers come from the guest allocator. */
int tw_add(struct tw *w, uint16_t q, uint32_t out, uint32_t in, uint32_t token, uint8_t seed, uint64_t *in_gpa);

#endif
