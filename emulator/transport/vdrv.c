/* Driver side of the virtio-mmio transport (spec 4.2, version 2): see vdrv.h.
 *
 * Every register access goes through the platform's mmio_read / mmio_write, so the same code
 * drives the reference device, a user's device, or a lying device played by the fuzzer. Any
 * value read from the device is untrusted: waits are bounded and sizes are clamped. */
#include "emulator/transport/vdrv.h"

#include <string.h>

/* Bounded waits: a device that never reports a finished reset (status or QueueReset) or keeps
 * changing ConfigGeneration must not hang the driver. */
#define VDRV_RESET_POLLS 64u
#define VDRV_CONFIG_TRIES 16u

/* Queue size when neither the caller nor vqf_vdrv.queue_size asks for one. */
#define VDRV_DEFAULT_QUEUE_SIZE 256u

/* Net feature bits used only by the dependency table below (spec 5.1.3). */
#define VDRV_NET_F_GUEST_ECN 9
#define VDRV_NET_F_HOST_ECN 13
#define VDRV_NET_F_CTRL_RX 18
#define VDRV_NET_F_CTRL_VLAN 19
#define VDRV_NET_F_GUEST_ANNOUNCE 21
#define VDRV_NET_F_CTRL_MAC_ADDR 23
#define VDRV_NET_F_VQ_NOTF_COAL 52
#define VDRV_NET_F_NOTF_COAL 53
#define VDRV_NET_F_GUEST_USO4 54
#define VDRV_NET_F_GUEST_USO6 55
#define VDRV_NET_F_HOST_USO 56
#define VDRV_NET_F_RSC_EXT 61

/* A feature and what it needs (FEAT-02, 2.2.1). `any`: one of `needs` is enough, else all. */
struct feat_dep {
    uint8_t bit;
    bool any;
    uint64_t needs;
};

/* Spec 5.1.3.1 "Feature bit requirements". The device-independent bits (INDIRECT_DESC,
 * EVENT_IDX, RING_PACKED, IN_ORDER, NOTIFICATION_DATA, RING_RESET ...) have none (6). */
static const struct feat_dep net_deps[] = {
    {VIRTIO_NET_F_GUEST_TSO4, false, VQF_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VIRTIO_NET_F_GUEST_TSO6, false, VQF_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VDRV_NET_F_GUEST_ECN, true, VQF_BIT(VIRTIO_NET_F_GUEST_TSO4) | VQF_BIT(VIRTIO_NET_F_GUEST_TSO6)},
    {VIRTIO_NET_F_GUEST_UFO, false, VQF_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VDRV_NET_F_GUEST_USO4, false, VQF_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VDRV_NET_F_GUEST_USO6, false, VQF_BIT(VIRTIO_NET_F_GUEST_CSUM)},
    {VIRTIO_NET_F_HOST_TSO4, false, VQF_BIT(VIRTIO_NET_F_CSUM)},
    {VIRTIO_NET_F_HOST_TSO6, false, VQF_BIT(VIRTIO_NET_F_CSUM)},
    {VDRV_NET_F_HOST_ECN, true, VQF_BIT(VIRTIO_NET_F_HOST_TSO4) | VQF_BIT(VIRTIO_NET_F_HOST_TSO6)},
    {VIRTIO_NET_F_HOST_UFO, false, VQF_BIT(VIRTIO_NET_F_CSUM)},
    {VDRV_NET_F_HOST_USO, false, VQF_BIT(VIRTIO_NET_F_CSUM)},
    {VDRV_NET_F_CTRL_RX, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VDRV_NET_F_CTRL_VLAN, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VDRV_NET_F_GUEST_ANNOUNCE, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VIRTIO_NET_F_MQ, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VDRV_NET_F_CTRL_MAC_ADDR, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VDRV_NET_F_NOTF_COAL, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VDRV_NET_F_VQ_NOTF_COAL, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
    {VDRV_NET_F_RSC_EXT, true, VQF_BIT(VIRTIO_NET_F_HOST_TSO4) | VQF_BIT(VIRTIO_NET_F_HOST_TSO6)},
    {VIRTIO_NET_F_RSS, false, VQF_BIT(VIRTIO_NET_F_CTRL_VQ)},
};

/* Drop accepted bits whose prerequisites are not accepted, until nothing changes (a
 * dropped bit can be another's prerequisite, e.g. GUEST_ECN after GUEST_TSO4). */
static uint64_t apply_deps(uint64_t acc, const struct feat_dep *deps, unsigned n)
{
    bool changed = true;
    while (changed) {
        changed = false;
        for (unsigned i = 0; i < n; i++) {
            const struct feat_dep *f = &deps[i];
            if (!((acc >> f->bit) & 1u))
                continue;
            bool ok = f->any ? (acc & f->needs) != 0 : (acc & f->needs) == f->needs;
            if (!ok) {
                acc &= ~VQF_BIT(f->bit);
                changed = true;
            }
        }
    }
    return acc;
}

/* ------------------------------------------------------------------ registers */

uint32_t vqf_vdrv_read(struct vqf_vdrv *d, uint32_t off) { return d->plat.mmio_read(d->plat.mmio_ctx, off, 4); }

void vqf_vdrv_write(struct vqf_vdrv *d, uint32_t off, uint32_t v) { d->plat.mmio_write(d->plat.mmio_ctx, off, 4, v); }

static void status_set(struct vqf_vdrv *d, uint32_t s)
{
    d->status = s;
    vqf_vdrv_write(d, VIRTIO_MMIO_STATUS, s);
}

uint64_t vqf_vdrv_alloc(struct vqf_vdrv *d, uint64_t size, uint64_t align)
{
    return d->plat.dma_alloc ? d->plat.dma_alloc(d->plat.alloc_ctx, size, align) : 0;
}

int vqf_vdrv_pool(struct vqf_vdrv *d, uint64_t size, uint64_t align, uint64_t *gpa, const uint8_t **host)
{
    if (!*gpa)
        *gpa = vqf_vdrv_alloc(d, size, align);
    if (*gpa && !*host)
        *host = vqf_dma_map(&d->plat.dma, *gpa, size, 0);
    if (*host)
        return 0;
    vqf_vdrv_fail(d);
    return -1;
}

/* ------------------------------------------------------------------ lifecycle */

int vqf_vdrv_init(struct vqf_vdrv *d, const struct vqf_driver_platform *plat)
{
    memset(d, 0, sizeof(*d));
    if (!plat || !plat->mmio_read || !plat->mmio_write || !plat->dma_alloc)
        return -1;
    d->plat = *plat;
    return 0;
}

void vqf_vdrv_destroy(struct vqf_vdrv *d)
{
    for (unsigned i = 0; i < VQF_VDRV_MAX_QUEUES; i++) {
        vqf_vq_drv_free(&d->q[i].vq);
        d->q[i].live = false;
    }
}

/* Write 0 and wait for status to read 0 (2.4.2 RESET-03, 4.2.2.1). */
static int reset_wait(struct vqf_vdrv *d)
{
    status_set(d, 0);
    for (unsigned i = 0; i < VDRV_RESET_POLLS; i++)
        if (vqf_vdrv_read(d, VIRTIO_MMIO_STATUS) == 0)
            return 0;
    return -1;
}

static void drop_queues(struct vqf_vdrv *d)
{
    /* Ring memory and host arrays are kept for the next setup of the same format. */
    for (unsigned i = 0; i < VQF_VDRV_MAX_QUEUES; i++)
        d->q[i].live = false;
    d->num_queues = 0;
}

void vqf_vdrv_reset(struct vqf_vdrv *d)
{
    (void)reset_wait(d);
    drop_queues(d);
    d->failed = false;
    d->needs_reset = false;
    d->features[0] = d->features[1] = 0;
}

void vqf_vdrv_forget_memory(struct vqf_vdrv *d)
{
    /* Rings kept past a reset (drop_queues) would otherwise overlap new allocations: a
     * driver MUST NOT let two rings share memory (2.7 / 2.8 areas belong to one queue). */
    for (unsigned i = 0; i < VQF_VDRV_MAX_QUEUES; i++) {
        struct vqf_ring_cfg *c = &d->q[i].cfg;
        c->desc = c->driver = c->device = 0;
        c->ind_pool = 0;
        c->ind_pool_len = 0;
        c->size = 0;
    }
}

void vqf_vdrv_fail(struct vqf_vdrv *d)
{
    /* 3.1.1: the driver gives up; STATUS-03 requires a reset before trying again. */
    status_set(d, d->status | VIRTIO_STATUS_FAILED);
    d->failed = true;
}

/* ------------------------------------------------------------------ negotiation */

int vqf_vdrv_negotiate(struct vqf_vdrv *d, uint32_t device_id, const uint64_t want[2])
{
    /* 4.2.3.1.1: check MagicValue and Version first, then DeviceID. A device that fails
     * these is ignored (no further register access); DeviceID 0 is a placeholder. */
    if (vqf_vdrv_read(d, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC ||
        vqf_vdrv_read(d, VIRTIO_MMIO_VERSION) != VIRTIO_MMIO_VERSION_2)
        return -1;
    d->device_id = vqf_vdrv_read(d, VIRTIO_MMIO_DEVICE_ID);
    if (d->device_id == 0)
        return -1;

    /* 3.1.1 steps 1-3. */
    drop_queues(d);
    d->failed = false;
    d->needs_reset = false;
    d->features[0] = d->features[1] = 0;
    if (reset_wait(d) != 0) {
        vqf_vdrv_fail(d);
        return -1;
    }
    status_set(d, VIRTIO_STATUS_ACKNOWLEDGE);
    if (d->device_id != device_id) {
        vqf_vdrv_fail(d); /* a virtio device, but not one this driver knows how to drive */
        return -1;
    }
    status_set(d, d->status | VIRTIO_STATUS_DRIVER);

    /* Step 4: read the 128 offered bits through the select windows (4.2.2). */
    for (uint32_t sel = 0; sel < 4; sel++) {
        vqf_vdrv_write(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
        uint64_t w = vqf_vdrv_read(d, VIRTIO_MMIO_DEVICE_FEATURES);
        if (sel % 2 == 0)
            d->dev_features[sel / 2] = w;
        else
            d->dev_features[sel / 2] |= w << 32;
    }
    /* A 1.x driver needs VERSION_1 (6.1, RSVD-14 on the device side). */
    if (!((d->dev_features[0] >> VIRTIO_F_VERSION_1) & 1u)) {
        vqf_vdrv_fail(d);
        return -1;
    }
    /* FEAT-01: only offered bits; RSVD-01: VERSION_1 whenever offered; FEAT-02: no bit
     * without its prerequisites. */
    uint64_t acc[2] = {d->dev_features[0] & want[0], d->dev_features[1] & want[1]};
    acc[0] |= VQF_BIT(VIRTIO_F_VERSION_1);
    if (d->device_id == VIRTIO_ID_NET)
        acc[0] = apply_deps(acc[0], net_deps, sizeof(net_deps) / sizeof(net_deps[0]));
    for (uint32_t sel = 0; sel < 4; sel++) {
        vqf_vdrv_write(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        vqf_vdrv_write(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(acc[sel / 2] >> (32 * (sel % 2))));
    }

    /* Steps 5-6: FEATURES_OK, then re-read it; if the device refused, stop here (INIT-06). */
    status_set(d, d->status | VIRTIO_STATUS_FEATURES_OK);
    if (!(vqf_vdrv_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        vqf_vdrv_fail(d);
        return -1;
    }
    d->features[0] = acc[0];
    d->features[1] = acc[1];
    return 0;
}

void vqf_vdrv_driver_ok(struct vqf_vdrv *d)
{
    status_set(d, d->status | VIRTIO_STATUS_DRIVER_OK); /* 3.1.1 step 8 */
}

/* ------------------------------------------------------------------ queues */

static uint16_t pow2_floor(uint32_t n)
{
    uint32_t p = 1;
    while (p * 2 <= n)
        p *= 2;
    return (uint16_t)p;
}

/* Guest memory for the three ring parts, with the alignments of 2.7 (split) and 2.8.10 /
 * 2.8.13 (packed). The previous allocation is reused when it is large enough for the same
 * format, so that repeated queue resets do not exhaust the guest allocator. */
static int alloc_ring(struct vqf_vdrv *d, struct vqf_vdrv_queue *vq, enum vqf_ring_format fmt, uint16_t size)
{
    struct vqf_ring_cfg *c = &vq->cfg;
    if (c->desc && c->format == fmt && c->size >= size)
        return 0;
    if (fmt == VQF_RING_PACKED) {
        c->desc = vqf_vdrv_alloc(d, VIRTQ_DESC_TABLE_BYTES(size), VIRTQ_PACKED_DESC_ALIGN);
        c->driver = vqf_vdrv_alloc(d, 4, VIRTQ_PACKED_EVENT_ALIGN);
        c->device = vqf_vdrv_alloc(d, 4, VIRTQ_PACKED_EVENT_ALIGN);
    } else {
        c->desc = vqf_vdrv_alloc(d, VIRTQ_DESC_TABLE_BYTES(size), VIRTQ_DESC_ALIGN);
        c->driver = vqf_vdrv_alloc(d, VIRTQ_AVAIL_BYTES(size), VIRTQ_AVAIL_ALIGN);
        c->device = vqf_vdrv_alloc(d, VIRTQ_USED_BYTES(size), VIRTQ_USED_ALIGN);
    }
    if (!c->desc || !c->driver || !c->device) {
        c->desc = c->driver = c->device = 0;
        return -1;
    }
    c->format = fmt;
    c->size = size;
    return 0;
}

int vqf_vdrv_setup_queue(struct vqf_vdrv *d, uint16_t q, uint16_t size)
{
    if (q >= VQF_VDRV_MAX_QUEUES)
        return -1;
    struct vqf_vdrv_queue *vq = &d->q[q];
    /* 4.2.3.2 steps 1-3: select, check the queue is not in use, read its maximum size. */
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_SEL, q);
    if (vqf_vdrv_read(d, VIRTIO_MMIO_QUEUE_READY) != 0)
        return -1;
    uint32_t max = vqf_vdrv_read(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0)
        return -1; /* the queue is not available */
    bool packed = vqf_vdrv_has(d, VIRTIO_F_RING_PACKED);
    if (max > VIRTQ_SPLIT_MAX_SIZE)
        max = VIRTQ_SPLIT_MAX_SIZE; /* 2.7 / 2.8: no ring is larger, whatever the device says */
    uint32_t n = size ? size : (d->queue_size ? d->queue_size : VDRV_DEFAULT_QUEUE_SIZE);
    if (n > max)
        n = max; /* XPORT-M08 */
    if (!packed)
        n = pow2_floor(n); /* 2.7: split sizes are powers of two */
    enum vqf_ring_format fmt = packed ? VQF_RING_PACKED : VQF_RING_SPLIT;

    /* Step 4: memory (zeroed by the ring's driver-half init, SPLIT-ANS-01). */
    vq->live = false;
    if (alloc_ring(d, vq, fmt, (uint16_t)n) != 0)
        return -1;
    uint64_t ind_pool = 0;
    uint32_t ind_len = 0;
    if (vqf_vdrv_has(d, VIRTIO_F_INDIRECT_DESC) && d->ind_bytes_per_queue > 0) {
        if (vq->cfg.ind_pool && vq->cfg.ind_pool_len >= d->ind_bytes_per_queue)
            ind_pool = vq->cfg.ind_pool; /* reuse, as for the ring */
        else
            ind_pool = vqf_vdrv_alloc(d, d->ind_bytes_per_queue, VIRTQ_DESC_ALIGN);
        if (ind_pool)
            ind_len = d->ind_bytes_per_queue; /* no pool: chains simply go direct */
    }
    vq->cfg.size = (uint16_t)n;
    vq->cfg.index = q;
    vq->cfg.features = d->features[0];
    vq->cfg.ind_pool = ind_pool;
    vq->cfg.ind_pool_len = ind_len;
    vq->cfg.max_segs = 0;
    /* A format change releases the other format's host arrays and starts from zero. */
    if (vq->vq.format != fmt) {
        vqf_vq_drv_free(&vq->vq);
        memset(&vq->vq, 0, sizeof(vq->vq));
        vq->vq.format = fmt;
    }
    if (vqf_vq_drv_init(&vq->vq, &d->plat.dma, &vq->cfg) != 0)
        return -1;

    /* Steps 5-7: size, the three areas, then QueueReady. */
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_NUM, n);
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)vq->cfg.desc);
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(vq->cfg.desc >> 32));
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)vq->cfg.driver);
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(vq->cfg.driver >> 32));
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)vq->cfg.device);
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(vq->cfg.device >> 32));
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_READY, 1);
    vq->live = true;
    if (q >= d->num_queues)
        d->num_queues = (uint16_t)(q + 1);
    return 0;
}

int vqf_vdrv_queue_reset(struct vqf_vdrv *d, uint16_t q)
{
    if (q >= VQF_VDRV_MAX_QUEUES || !vqf_vdrv_has(d, VIRTIO_F_RING_RESET))
        return -1;
    /* 2.6.1.1.2 / 4.2.2.2 (VQRST-03, XPORT-M12): request the reset, and rely on it only
     * once QueueReset reads 0 again. */
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_SEL, q);
    vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_RESET, 1);
    /* Buffers in flight on the old ring are gone; the caller forgets their tokens. */
    d->q[q].live = false;
    bool done = false;
    for (unsigned i = 0; i < VDRV_RESET_POLLS && !done; i++)
        done = vqf_vdrv_read(d, VIRTIO_MMIO_QUEUE_RESET) == 0;
    if (!done)
        return -1;
    /* 2.6.1.2: re-enable like the initial setup, with vqf_vdrv.queue_size if the caller set
     * one (VQRST-05: another size is allowed), else the size used before. */
    uint16_t size = d->queue_size ? d->queue_size : d->q[q].cfg.size;
    return vqf_vdrv_setup_queue(d, q, size);
}

void vqf_vdrv_kick(struct vqf_vdrv *d, uint16_t q)
{
    if (q >= VQF_VDRV_MAX_QUEUES || !d->q[q].live)
        return;
    struct vqf_vq_drv *vq = &d->q[q].vq;
    /* 2.7.13.4 / 2.8.21.3: publish, then notify only if the device wants it; with
     * NOTIFICATION_DATA the value carries next_off / next_wrap (2.9, 4.2.3.3). */
    if (vqf_vq_drv_kick_prepare(vq))
        vqf_vdrv_write(d, VIRTIO_MMIO_QUEUE_NOTIFY, vqf_vq_drv_notify_value(vq));
}

uint32_t vqf_vdrv_ack_interrupt(struct vqf_vdrv *d)
{
    /* 4.2.2.2: undefined InterruptStatus bits are ignored and never written back. */
    uint32_t isr = vqf_vdrv_read(d, VIRTIO_MMIO_INTERRUPT_STATUS) & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    if (isr)
        vqf_vdrv_write(d, VIRTIO_MMIO_INTERRUPT_ACK, isr);
    /* 2.1.2: DEVICE_NEEDS_RESET is announced by a configuration change notification. */
    if ((isr & VIRTIO_MMIO_INT_CONFIG) && (vqf_vdrv_read(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
        d->needs_reset = true;
    return isr;
}

/* ------------------------------------------------------------------ config space */

/* 4.2.2.2: 32-bit accesses for 32/64-bit fields, 16-bit for 16-bit fields, 8-bit for
 * bytes. The field layout is the caller's; the widest naturally aligned access that fits
 * matches it for every virtio config structure. */
static unsigned access_width(uint32_t off, uint32_t left)
{
    if (off % 4 == 0 && left >= 4)
        return 4;
    if (off % 2 == 0 && left >= 2)
        return 2;
    return 1;
}

int vqf_vdrv_config_read(struct vqf_vdrv *d, uint32_t off, void *buf, uint32_t len)
{
    uint8_t *out = buf;
    if (off > UINT32_MAX - VIRTIO_MMIO_CONFIG || len > UINT32_MAX - VIRTIO_MMIO_CONFIG - off)
        return -1; /* would wrap into the control registers */
    /* 2.5.1 CFG-02: generation before, fields, generation after; retry on a mismatch. A
     * device that changes it every time gets a bounded number of tries. */
    for (unsigned t = 0; t < VDRV_CONFIG_TRIES; t++) {
        uint32_t gen = vqf_vdrv_read(d, VIRTIO_MMIO_CONFIG_GENERATION);
        for (uint32_t i = 0; i < len;) {
            unsigned w = access_width(off + i, len - i);
            uint32_t v = d->plat.mmio_read(d->plat.mmio_ctx, VIRTIO_MMIO_CONFIG + off + i, w);
            for (unsigned b = 0; b < w; b++)
                out[i + b] = (uint8_t)(v >> (8 * b));
            i += w;
        }
        if (vqf_vdrv_read(d, VIRTIO_MMIO_CONFIG_GENERATION) == gen)
            return 0;
    }
    return -1;
}

void vqf_vdrv_config_write(struct vqf_vdrv *d, uint32_t off, const void *buf, uint32_t len)
{
    const uint8_t *in = buf;
    if (off > UINT32_MAX - VIRTIO_MMIO_CONFIG || len > UINT32_MAX - VIRTIO_MMIO_CONFIG - off)
        return; /* would wrap into the control registers */
    for (uint32_t i = 0; i < len;) {
        unsigned w = access_width(off + i, len - i);
        uint32_t v = 0;
        for (unsigned b = 0; b < w; b++)
            v |= (uint32_t)in[i + b] << (8 * b);
        d->plat.mmio_write(d->plat.mmio_ctx, VIRTIO_MMIO_CONFIG + off + i, w, v);
        i += w;
    }
}
