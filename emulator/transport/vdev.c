/* Device side of the virtio-mmio transport (spec 4.2, version 2): see vdev.h.
 *
 * The register file is a plain switch on the offset. Everything a driver writes is stored
 * as it arrives; rings are only looked at when a queue goes live, which needs QueueReady = 1
 * and DRIVER_OK (STATUS-05, XPORT-M02). A driver that breaks the protocol (wrong access
 * size, unknown offset, queue registers rewritten while the queue is ready, DRIVER_OK
 * without FEATURES_OK) cannot corrupt the device: the access is ignored, or the device
 * enters DEVICE_NEEDS_RESET (2.1.2). */
#include "emulator/transport/vdev.h"

#include <stdlib.h>
#include <string.h>

/* The device is processing queues: DRIVER_OK is set (STATUS-05), no error state needs a
 * reset (2.1.2) and it is not suspended (3.4: DRIVER_OK is clear while suspended). */
static bool running(const struct vqf_vdev *d)
{
    return (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_SUSPEND)) ==
           VIRTIO_STATUS_DRIVER_OK;
}

static void event(const struct vqf_vdev *d, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    vqf_mem_event(d->dma.mem, VQF_SIDE_DEVICE, ev, a, b, c);
}

/* The selected queue, or NULL when QueueSel names a queue that does not exist. */
static struct vqf_vdev_queue *selected(struct vqf_vdev *d)
{
    return d->queue_sel < d->num_queues ? &d->q[d->queue_sel] : NULL;
}

/* Queue registers back to their reset values. QueueSize reads QueueSizeMax again, as the PCI
 * queue_size does after reset (4.1.4.3.1); the mmio table leaves it unspecified. */
static void queue_regs_clear(struct vqf_vdev_queue *vq)
{
    vq->num = vq->num_max;
    vq->ready = 0;
    vq->desc = vq->driver = vq->device = 0;
    vq->kicked = false;
    vq->notify_data = 0;
    vq->live = false; /* host allocations of the vq stay for the next go-live */
}

/* ------------------------------------------------------------------ interrupts, errors */

void vqf_vdev_raise(struct vqf_vdev *d, uint32_t isr_bits)
{
    /* 4.2.2.1: each event stays visible in InterruptStatus until the driver acknowledges it. */
    d->isr |= isr_bits;
    event(d, VQF_EV_DEV_IRQ, isr_bits, d->isr, 0);
    if (d->irq)
        d->irq(d->irq_ctx);
}

/* The configuration change notification, withheld while suspended (3.4: it is sent when
 * the device resumes). */
static void config_notify(struct vqf_vdev *d)
{
    if (d->status & VIRTIO_STATUS_SUSPEND)
        d->config_irq_deferred = true;
    else if (d->status & VIRTIO_STATUS_DRIVER_OK)
        vqf_vdev_raise(d, VIRTIO_MMIO_INT_CONFIG);
}

void vqf_vdev_set_needs_reset(struct vqf_vdev *d)
{
    d->failed_ring = true;
    if (d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return; /* already signalled: one notification per 0 -> 1 transition */
    /* 2.1.2 STATUS-06: the error state is made visible; the queues stop because running()
     * is now false. STATUS-07: with DRIVER_OK, a configuration change notification follows. */
    d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    config_notify(d);
}

void vqf_vdev_fail(struct vqf_vdev *d, uint16_t q, int err)
{
    /* A ring error was already traced by the ring itself, which is then broken; errors the
     * backend found in the payload (or a refused queue setup) are traced here. */
    bool traced = q < d->num_queues && d->q[q].live && vqf_vq_dev_broken(&d->q[q].vq);
    if (!traced)
        event(d, VQF_EV_DEV_ERROR, q, (uint32_t)(err < 0 ? -err : err), 0);
    if (q < d->num_queues)
        d->q[q].live = false;
    vqf_vdev_set_needs_reset(d);
}

/* ------------------------------------------------------------------ queues */

struct vqf_vq_dev *vqf_vdev_vq(struct vqf_vdev *d, uint16_t q)
{
    if (q >= d->num_queues || !d->q[q].live || !running(d) || vqf_vq_dev_broken(&d->q[q].vq))
        return NULL;
    return &d->q[q].vq;
}

void vqf_vdev_used_notify(struct vqf_vdev *d, uint16_t q)
{
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    if (!vq)
        return; /* reset or stopped queues are not notified (RESET-02, VQRST-01) */
    vqf_vq_dev_publish(vq);
    if (vqf_vq_dev_need_notify(vq))
        vqf_vdev_raise(d, VIRTIO_MMIO_INT_VRING);
}

/* Make queue q live from its registers (at DRIVER_OK, or at QueueReady = 1 afterwards). */
static void queue_start(struct vqf_vdev *d, uint16_t q)
{
    struct vqf_vdev_queue *vq = &d->q[q];
    bool packed = vqf_vdev_has(d, VIRTIO_F_RING_PACKED);
    /* 2.7: split sizes are powers of two up to 32768; 2.8: packed takes any size 1..32768.
     * XPORT-M08: the driver must not exceed QueueSizeMax, and the device sized itself for it. */
    uint32_t n = vq->num;
    bool size_ok = n != 0 && n <= vq->num_max &&
                   (packed ? n <= VIRTQ_PACKED_MAX_SIZE : (n <= VIRTQ_SPLIT_MAX_SIZE && (n & (n - 1)) == 0));
    if (!size_ok) {
        vqf_vdev_fail(d, q, VQF_ERR_INVAL);
        return;
    }
    struct vqf_ring_cfg cfg = {
        .format = packed ? VQF_RING_PACKED : VQF_RING_SPLIT,
        .size = (uint16_t)n,
        .index = q,
        .desc = vq->desc,
        .driver = vq->driver,
        .device = vq->device,
        .features = d->dev_features[0] & d->drv_features[0],
        .max_segs = d->seg_cap,
    };
    /* Host arrays survive between go-lives of one format (no allocation per input); a
     * change of format releases them and starts from a zeroed union. */
    if (vq->vq.format != cfg.format) {
        vqf_vq_dev_free(&vq->vq);
        memset(&vq->vq, 0, sizeof(vq->vq));
        vq->vq.format = cfg.format;
    }
    int rc = vqf_vq_dev_init(&vq->vq, &d->dma, &cfg);
    if (rc != 0) {
        vqf_vdev_fail(d, q, rc);
        return;
    }
    /* Packed with EVENT_IDX: ask for a kick at the next descriptor only (2.8.10, D-12), as the
     * split ring keeps avail_event at last_avail: the driver's event arithmetic then decides
     * whether the device hears of new buffers, as it does against a real device. */
    if (packed)
        vqf_vq_dev_set_kick_suppress(&vq->vq, false);
    vq->live = true;
}

/* 2.6.1.1.1 (XPORT-M05..M07): stop executing requests of q, drop its state, and present 0
 * in QueueReady; the reset completes at once, so QueueReset never reads 1. */
static void queue_reset(struct vqf_vdev *d, uint16_t q)
{
    queue_regs_clear(&d->q[q]);
    if (d->ops->queue_reset)
        d->ops->queue_reset(d, q);
    event(d, VQF_EV_RESET, 1, q, 0);
}

/* ------------------------------------------------------------------ status */

/* 2.4.1: a reset returns the device to its initial state and status reads 0 at once
 * (RESET-01); XPORT-M01/M03: InterruptStatus, QueueReady and QueueReset read 0. */
static void device_reset(struct vqf_vdev *d)
{
    d->status = 0;
    d->drv_features[0] = d->drv_features[1] = 0;
    d->dev_features_sel = d->drv_features_sel = 0;
    d->queue_sel = 0;
    for (uint16_t i = 0; i < d->num_queues; i++)
        queue_regs_clear(&d->q[i]);
    d->isr = 0;
    d->failed_ring = false;
    d->features_locked = false;
    d->config_irq_deferred = false;
    if (d->ops->reset)
        d->ops->reset(d);
    event(d, VQF_EV_RESET, 0, 0, 0);
}

/* 2.2.2 FEAT-11: the device refuses a subset it cannot honour by leaving FEATURES_OK clear.
 * Refused: bits that were not offered, no VERSION_1 (a v2 mmio device only speaks the
 * 1.x interface, 6.1), or the backend's own objection. */
static bool features_acceptable(struct vqf_vdev *d)
{
    if ((d->drv_features[0] & ~d->dev_features[0]) || (d->drv_features[1] & ~d->dev_features[1]))
        return false;
    if (!((d->drv_features[0] >> VIRTIO_F_VERSION_1) & 1u))
        return false;
    return !d->ops->features_ok || d->ops->features_ok(d) == 0;
}

/* Enabled queues that are not live yet go live (a failing one stops the rest). */
static void start_ready_queues(struct vqf_vdev *d)
{
    for (uint16_t i = 0; i < d->num_queues && running(d); i++)
        if (d->q[i].ready == 1 && !d->q[i].live)
            queue_start(d, i);
}

/* DRIVER_OK went from 0 to 1 (3.1.1 step 8): enabled queues go live, then the backend. */
static void driver_ok(struct vqf_vdev *d)
{
    start_ready_queues(d);
    if (running(d) && d->ops->driver_ok)
        d->ops->driver_ok(d);
}

static void status_write(struct vqf_vdev *d, uint32_t val)
{
    if (val == 0) {
        device_reset(d);
        return;
    }
    uint32_t old = d->status;
    /* The driver stores what it writes (2.1), except the device-owned bits: NEEDS_RESET is
     * set only by the device and stays until reset; SUSPEND is handled below. */
    uint32_t s = (val & ~(VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_SUSPEND)) |
                 (old & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_SUSPEND));

    if ((s & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        if (features_acceptable(d))
            d->features_locked = true; /* INIT-04: the accepted set is final until reset */
        else
            s &= ~VIRTIO_STATUS_FEATURES_OK; /* FEAT-11: reads back clear */
    }

    /* 3.4: SUSPEND counts only once the device is fully initialised and the feature is
     * negotiated; otherwise the bit is ignored. Suspending is immediate (nothing runs
     * between polls), so the device presents SUSPEND = 1 and DRIVER_OK = 0 at once. */
    bool suspend_ok = vqf_vdev_has(d, VIRTIO_F_SUSPEND) && (old & VIRTIO_STATUS_DRIVER_OK);
    if ((val & VIRTIO_STATUS_SUSPEND) && !(old & VIRTIO_STATUS_SUSPEND) && suspend_ok) {
        d->status = (s & ~VIRTIO_STATUS_DRIVER_OK) | VIRTIO_STATUS_SUSPEND;
        return;
    }
    if ((old & VIRTIO_STATUS_SUSPEND) && (s & VIRTIO_STATUS_DRIVER_OK)) {
        /* 3.4: resume; a configuration change seen while suspended is notified now. */
        d->status = s & ~VIRTIO_STATUS_SUSPEND;
        if (d->config_irq_deferred) {
            d->config_irq_deferred = false;
            config_notify(d);
        }
        start_ready_queues(d); /* live queues kept their state while suspended */
        return;
    }
    d->status = s;

    if ((s & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
        if (!(s & VIRTIO_STATUS_FEATURES_OK)) {
            /* DRIVER_OK without accepted features (INIT-01, INIT-06 broken by the driver):
             * the device cannot know what the driver will do, an error state (2.1.2). */
            vqf_vdev_set_needs_reset(d);
            return;
        }
        driver_ok(d);
    }
}

/* ------------------------------------------------------------------ register file */

/* Writes to QueueSize and the ring addresses of a ready queue are ignored: the driver must
 * not make them (XPORT-M09) and the device keeps using what it was given. */
static struct vqf_vdev_queue *writable_queue(struct vqf_vdev *d)
{
    struct vqf_vdev_queue *vq = selected(d);
    return vq && vq->ready != 1 ? vq : NULL;
}

static void set_lo(uint64_t *r, uint32_t v) { *r = (*r & 0xffffffff00000000ull) | v; }
static void set_hi(uint64_t *r, uint32_t v) { *r = (*r & 0xffffffffull) | ((uint64_t)v << 32); }

static uint32_t feature_window(const uint64_t f[2], uint32_t sel)
{
    /* 4.2.2: window sel holds bits sel*32 .. sel*32+31; windows past bit 127 read 0. */
    return sel < 4 ? (uint32_t)(f[sel / 2] >> (32 * (sel % 2))) : 0;
}

static uint32_t config_read(const struct vqf_vdev *d, uint32_t off, unsigned size)
{
    /* 4.2.2 Config: byte-aligned 8/16/32-bit accesses, little-endian; bytes past the
     * device's config space read 0. */
    if (size != 1 && size != 2 && size != 4)
        return 0;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint32_t o = off + i;
        if (o < d->config_len)
            v |= (uint32_t)d->config[o] << (8 * i);
    }
    return v;
}

static void config_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val)
{
    if (size != 1 && size != 2 && size != 4)
        return;
    if (off >= d->config_len || size > d->config_len - off)
        return; /* outside the config space: ignored */
    if (d->status & VIRTIO_STATUS_SUSPEND)
        return; /* 3.4: config writes are ignored while suspended */
    for (unsigned i = 0; i < size; i++)
        d->config[off + i] = (uint8_t)(val >> (8 * i));
    if (d->ops->config_write)
        d->ops->config_write(d, off, size, val);
}

uint32_t vqf_vdev_mmio_read(struct vqf_vdev *d, uint32_t off, unsigned size)
{
    if (off >= VIRTIO_MMIO_CONFIG)
        return config_read(d, off - VIRTIO_MMIO_CONFIG, size);
    /* 4.2.2.2: control registers are 32-bit wide and aligned; other accesses read 0. */
    if (size != 4)
        return 0;
    struct vqf_vdev_queue *vq = selected(d);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return VIRTIO_MMIO_VERSION_2;
    case VIRTIO_MMIO_DEVICE_ID:
        return d->ops->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VQF_VDEV_VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return feature_window(d->dev_features, d->dev_features_sel);
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        return d->dev_features_sel;
    /* Write-only registers read back what was written: harmless, and handy for tests. */
    case VIRTIO_MMIO_DRIVER_FEATURES:
        return feature_window(d->drv_features, d->drv_features_sel);
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        return d->drv_features_sel;
    case VIRTIO_MMIO_QUEUE_SEL:
        return d->queue_sel;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vq ? vq->num_max : 0; /* 0: the queue does not exist (4.2.2) */
    case VIRTIO_MMIO_QUEUE_NUM:
        return vq ? vq->num : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return vq ? vq->ready : 0; /* "the last value written" (4.2.2) */
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return d->isr;
    case VIRTIO_MMIO_STATUS:
        return d->status;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
        return vq ? (uint32_t)vq->desc : 0;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        return vq ? (uint32_t)(vq->desc >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        return vq ? (uint32_t)vq->driver : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        return vq ? (uint32_t)(vq->driver >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        return vq ? (uint32_t)vq->device : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        return vq ? (uint32_t)(vq->device >> 32) : 0;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
        return 0xffffffffu; /* 4.2.2: no shared memory region: length -1, base all ones */
    case VIRTIO_MMIO_QUEUE_RESET:
        return 0; /* a queue reset completes within the write (XPORT-M03/M04/M07) */
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return d->config_gen;
    default:
        return 0;
    }
}

void vqf_vdev_mmio_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val)
{
    if (off >= VIRTIO_MMIO_CONFIG) {
        config_write(d, off - VIRTIO_MMIO_CONFIG, size, val);
        return;
    }
    if (size != 4)
        return; /* 4.2.2.2: 32-bit accesses only */
    struct vqf_vdev_queue *vq;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        d->dev_features_sel = val;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        /* 3.1.1 step 5 (INIT-04): the accepted set is final once FEATURES_OK was accepted. */
        if (!d->features_locked && !(d->status & VIRTIO_STATUS_FEATURES_OK) && d->drv_features_sel < 4) {
            unsigned sh = 32 * (d->drv_features_sel % 2);
            uint64_t *w = &d->drv_features[d->drv_features_sel / 2];
            *w = (*w & ~(0xffffffffull << sh)) | ((uint64_t)val << sh);
        }
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        d->drv_features_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        d->queue_sel = val;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if ((vq = writable_queue(d)))
            vq->num = val <= 0xffffu ? (uint16_t)val : 0; /* oversized: refused at go-live */
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!(vq = selected(d)))
            break;
        if (val == 1) {
            bool was_ready = vq->ready == 1;
            vq->ready = 1;
            /* A queue enabled after DRIVER_OK (re-enable after a queue reset, 2.6.1.2)
             * goes live at once, from the registers as they are now (VQRST-05). */
            if (!was_ready && running(d))
                queue_start(d, (uint16_t)d->queue_sel);
        } else {
            /* XPORT-M10: the driver stops using the queue; the device stops with it. */
            bool was_active = vq->ready == 1 || vq->live;
            vq->ready = val;
            vq->live = false;
            vq->kicked = false;
            if (was_active && d->ops->queue_reset)
                d->ops->queue_reset(d, (uint16_t)d->queue_sel);
        }
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY: {
        /* 4.2.3.3: the low 16 bits name the queue; with NOTIFICATION_DATA the whole word
         * (vq_index | next_off << 16 | next_wrap << 31, 2.9) is kept for the backend. */
        uint32_t q = val & 0xffffu;
        if (q < d->num_queues) {
            d->q[q].kicked = true;
            if (vqf_vdev_has(d, VIRTIO_F_NOTIFICATION_DATA))
                d->q[q].notify_data = val;
        }
        break;
    }
    case VIRTIO_MMIO_INTERRUPT_ACK:
        d->isr &= ~val;
        break;
    case VIRTIO_MMIO_STATUS:
        status_write(d, val);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
        if ((vq = writable_queue(d)))
            set_lo(&vq->desc, val);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if ((vq = writable_queue(d)))
            set_hi(&vq->desc, val);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        if ((vq = writable_queue(d)))
            set_lo(&vq->driver, val);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if ((vq = writable_queue(d)))
            set_hi(&vq->driver, val);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        if ((vq = writable_queue(d)))
            set_lo(&vq->device, val);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if ((vq = writable_queue(d)))
            set_hi(&vq->device, val);
        break;
    case VIRTIO_MMIO_QUEUE_RESET:
        /* 2.6.1: only with VIRTIO_F_RING_RESET negotiated (FEATURES_OK accepted). */
        if (val == 1 && selected(d) && d->features_locked && vqf_vdev_has(d, VIRTIO_F_RING_RESET))
            queue_reset(d, (uint16_t)d->queue_sel);
        break;
    default:
        break; /* read-only and undefined registers: ignored */
    }
}

/* ------------------------------------------------------------------ poll */

int vqf_vdev_poll(struct vqf_vdev *d, unsigned budget)
{
    unsigned total = 0;
    if (running(d) && d->ops->process) {
        for (uint16_t i = 0; i < d->num_queues && total < budget; i++) {
            struct vqf_vdev_queue *vq = &d->q[i];
            if (!vq->kicked || !vq->live)
                continue;
            vq->kicked = false; /* cleared first: a kick that arrives meanwhile is kept */
            unsigned left = budget - total;
            int n = d->ops->process(d, i, left);
            if (n < 0)
                n = 0;
            if ((unsigned)n >= left && vq->live)
                vq->kicked = true; /* budget used up: more may be waiting, come back */
            total += (unsigned)n < left ? (unsigned)n : left;
            if (!running(d))
                break; /* the backend hit an error: NEEDS_RESET stops everything */
        }
    }
    if (running(d) && d->ops->poll && total < budget) {
        int n = d->ops->poll(d, budget - total);
        if (n > 0)
            total += (unsigned)n;
    }
    d->work += total;
    return (int)total;
}

/* ------------------------------------------------------------------ config */

void vqf_vdev_config_set(struct vqf_vdev *d, uint32_t off, const void *data, uint32_t len, bool notify)
{
    if (off > VQF_VDEV_CONFIG_MAX || len > VQF_VDEV_CONFIG_MAX - off)
        return;
    if (len)
        memcpy(d->config + off, data, len);
    d->config_gen++; /* CFG-08 (4.2.2.1): a reader that straddles this change retries */
    if (notify)
        config_notify(d);
}

/* ------------------------------------------------------------------ lifecycle */

int vqf_vdev_init(struct vqf_vdev *d, const struct vqf_vdev_ops *ops, void *backend, const struct vqf_dma *dma,
                  uint16_t num_queues, uint16_t queue_num_max, const uint64_t features[2], uint32_t config_len,
                  uint32_t seg_cap)
{
    memset(d, 0, sizeof(*d));
    if (!ops || !dma || num_queues > VQF_VDEV_MAX_QUEUES || config_len > VQF_VDEV_CONFIG_MAX)
        return -1;
    d->ops = ops;
    d->backend = backend;
    d->dma = *dma;
    d->num_queues = num_queues;
    /* QueueSizeMax: 0 means "default" here (a device offers at least one slot); sizes past
     * 2^15 are not usable by either ring format (2.7, 2.8). */
    uint16_t qmax = queue_num_max ? queue_num_max : 256;
    if (qmax > VIRTQ_SPLIT_MAX_SIZE)
        qmax = VIRTQ_SPLIT_MAX_SIZE;
    for (uint16_t i = 0; i < num_queues; i++) {
        d->q[i].num_max = qmax;
        queue_regs_clear(&d->q[i]);
    }
    if (features) {
        d->dev_features[0] = features[0];
        d->dev_features[1] = features[1];
    }
    d->dev_features[0] |= VQF_BIT(VIRTIO_F_VERSION_1); /* RSVD-14 */
    d->config_len = config_len;
    if (seg_cap) {
        d->segs = calloc(seg_cap, sizeof(*d->segs));
        if (!d->segs)
            return -1;
    }
    d->seg_cap = seg_cap;
    return 0;
}

void vqf_vdev_destroy(struct vqf_vdev *d)
{
    for (uint16_t i = 0; i < d->num_queues; i++)
        vqf_vq_dev_free(&d->q[i].vq);
    free(d->segs);
    d->segs = NULL;
    d->seg_cap = 0;
}

int vqf_vdev_chain_read(struct vqf_vdev *d, const struct vqf_chain *c, uint32_t off, void *buf, uint32_t len)
{
    uint8_t *out = buf;
    for (unsigned i = 0; i < c->nout && len; i++) {
        const struct vqf_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint32_t n = s->len - off < len ? s->len - off : len;
        if (vqf_dma_read(&d->dma, s->addr + off, out, n) != 0)
            return -1;
        out += n;
        len -= n;
        off = 0;
    }
    return len ? -1 : 0;
}

int vqf_vdev_chain_write(struct vqf_vdev *d, const struct vqf_chain *c, uint32_t off, const void *buf,
                         uint32_t len)
{
    const uint8_t *in = buf;
    for (unsigned i = c->nout; i < c->nseg && len; i++) {
        const struct vqf_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint32_t n = s->len - off < len ? s->len - off : len;
        if (vqf_dma_write(&d->dma, s->addr + off, in, n) != 0)
            return -1;
        in += n;
        len -= n;
        off = 0;
    }
    return len ? -1 : 0;
}

uint32_t vqf_vdev_adapter_mmio_read(void *dev, uint32_t off, unsigned size)
{
    return vqf_vdev_mmio_read(dev, off, size);
}

void vqf_vdev_adapter_mmio_write(void *dev, uint32_t off, unsigned size, uint32_t val)
{
    vqf_vdev_mmio_write(dev, off, size, val);
}

int vqf_vdev_adapter_poll(void *dev, unsigned budget) { return vqf_vdev_poll(dev, budget); }
