/* The fuzzer as a device (driver-under-test targets): the reference device of the type does
 * the honest work; the lies are written into guest memory through the device-side DMA handle
 * (so the oracle attributes them to the device, the side that is not judged here), each one
 * bracketed as a device step, or told on the wire (see exec_world.c). The rings are found
 * through the shadow of the driver's queue registers. The op semantics are documented at the
 * top of exec.c. Also here: the workload ops on the driver adapter and the driver's probe. */
#include <string.h>

#include "harness/exec_internal.h"
#include "vqfuzz/virtio.h"

static bool packed_now(const struct vqf_exec *x)
{
    return (x->drv_features[0] >> VIRTIO_F_RING_PACKED) & 1u;
}

static uint16_t qnum(const struct vqf_exec *x, unsigned q)
{
    uint16_t n = x->sq[q].num;
    return n ? n : 1;
}

static void raise_vring(struct vqf_exec *x) { vqf_x_lie_irq(x, VIRTIO_MMIO_INT_VRING); }

static void raw_write(const struct vqf_dma *dma, uint64_t gpa, unsigned size_code, uint64_t v)
{
    switch (size_code & 3u) {
    case 0: { uint8_t b = (uint8_t)v; vqf_dma_write(dma, gpa, &b, 1); break; }
    case 1: vqf_dma_write16(dma, gpa, (uint16_t)v); break;
    case 2: vqf_dma_write32(dma, gpa, (uint32_t)v); break;
    default: vqf_dma_write64(dma, gpa, v); break;
    }
}

/* A used descriptor in packed slot `slot` for wrap `wrap` (2.8.1: AVAIL = USED = wrap). */
static void packed_write_used(struct vqf_exec *x, uint64_t desc, uint16_t slot, bool wrap, uint16_t id, uint32_t len)
{
    uint64_t da = desc + (uint64_t)slot * 16u;
    vqf_dma_write32(&x->vdma, da + VIRTQ_PDESC_LEN, len);
    vqf_dma_write16(&x->vdma, da + VIRTQ_PDESC_ID, id);
    vqf_wmb(&x->vdma); /* fields before flags, as an honest device (2.8.21.2) */
    uint16_t f = wrap ? (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0;
    if (len)
        f |= VIRTQ_DESC_F_WRITE;
    vqf_dma_write16(&x->vdma, da + VIRTQ_PDESC_FLAGS, f);
}

static void forge(struct vqf_exec *x, unsigned q, uint16_t id, uint32_t len)
{
    struct vqf_shadow_queue *s = &x->sq[q];
    uint16_t size = qnum(x, q);
    if (packed_now(x)) {
        packed_write_used(x, s->desc, (uint16_t)(s->used_slot % size), s->used_wrap, id, len);
        if (++s->used_slot >= size) {
            s->used_slot = 0;
            s->used_wrap = !s->used_wrap;
        }
    } else {
        uint16_t u = 0;
        vqf_dma_read16(&x->vdma, s->device + VIRTQ_USED_IDX, &u);
        uint64_t e = s->device + VIRTQ_USED_RING(u % size);
        vqf_dma_write32(&x->vdma, e, id);
        vqf_dma_write32(&x->vdma, e + 4, len);
        vqf_wmb(&x->vdma); /* entry before idx (2.7.8.2, SPLIT-USD-01) */
        vqf_dma_write16(&x->vdma, s->device + VIRTQ_USED_IDX, (uint16_t)(u + 1));
    }
    raise_vring(x);
}

void vqf_ldev_op(struct vqf_exec *x, const struct vqf_op *op)
{
    unsigned nq = x->nqueues ? x->nqueues : 1;
    unsigned q = op->q % nq;
    struct vqf_shadow_queue *s = &x->sq[q];
    uint16_t size = qnum(x, q);
    bool packed = packed_now(x);
    const struct vqf_dma *d = &x->vdma;

    /* Legal device behaviour: the driver must cope, no lie involved. */
    switch (op->kind) {
    case VQF_OP_DEV_NEEDS_RESET:
        /* 2.1.2: set DEVICE_NEEDS_RESET, notify if DRIVER_OK */
        x->lies.needs_reset = true;
        if (x->status_written & VIRTIO_STATUS_DRIVER_OK)
            vqf_x_lie_irq(x, VIRTIO_MMIO_INT_CONFIG);
        return;
    case VQF_OP_DEV_REFUSE_FEATURES: x->lies.refuse_features = op->a != 0; return;
    case VQF_OP_DEV_IRQ:
        /* spurious notifications are allowed (2.7.7.1 / SPLIT-ANS-12) */
        vqf_x_lie_irq(x, op->a & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG));
        return;
    case VQF_OP_DEV_CONFIG: {
        static const unsigned sz[4] = {4, 1, 2, 4};
        uint32_t mode = (uint32_t)op->c;
        /* When the device side is judged the change is the honest one: generation bump
         * (2.5.1, CFG-08) and configuration change notification (2.5.1, BLK-26). */
        if (x->judged & (1u << VQF_SIDE_DEVICE))
            mode |= 3u;
        if (!(mode & 1u))
            x->lied = true;
        uint32_t off = op->a % VQF_X_CFG_OVERLAY;
        uint32_t val = op->b;
        unsigned nbytes = sz[(mode >> 4) & 3u];
        if (x->judged & (1u << VQF_SIDE_DEVICE)) {
            /* ... and only while DRIVER_OK is set, when its notification can go out (a
             * change before it would be a silent capacity change, BLK-26). */
            if (!(x->status_written & VIRTIO_STATUS_DRIVER_OK))
                return;
            /* A judged device only changes what it can stand behind: the lie sits on the wire
             * and the device's own state does not follow, so only informational fields
             * change - blk capacity downwards (5.2.4: the device still serves every sector
             * the driver may now use), console cols / rows (5.3.4). */
            if (x->device_id == VIRTIO_ID_BLOCK) {
                uint32_t lo = x->dev_ad->mmio_read(x->dev, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_CAPACITY, 4);
                uint32_t hi = x->dev_ad->mmio_read(x->dev, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_CAPACITY + 4, 4);
                uint64_t cap = ((uint64_t)hi << 32) | lo;
                /* at least one sector stays: the health probe reads sector 0 */
                uint64_t want = cap > 1 ? 1 + val % cap : cap;
                /* One 32-bit half changes (a & 4: the high one), so that a change landing
                 * between the driver's two reads of the 64-bit field tears it; an untorn
                 * change of the low half sets the high half first, silently. */
                off = VIRTIO_BLK_CFG_CAPACITY + ((op->a & 4u) ? 4u : 0u);
                val = (uint32_t)(off ? want >> 32 : want);
                nbytes = 4;
                if (!(mode & 4u) && !off)
                    vqf_x_lie_config_change(x, 4, (uint32_t)(want >> 32), 4, 0);
            } else if (x->device_id == VIRTIO_ID_CONSOLE) {
                off = (op->a & 2u) ? VIRTIO_CONSOLE_CFG_ROWS : VIRTIO_CONSOLE_CFG_COLS;
                nbytes = 2;
            } else {
                return;
            }
        }
        if (mode & 4u) {
            x->lies.cfg_pending = true;
            x->lies.pend_off = off;
            x->lies.pend_val = val;
            x->lies.pend_size = nbytes;
            x->lies.pend_mode = mode;
        } else {
            vqf_x_lie_config_change(x, off, val, nbytes, mode & 3u);
        }
        return;
    }
    default: break;
    }

    x->lied = true;
    /* forged ring state: the driver is not judged on this queue's shadow until it is set up again */
    vqf_oracle_taint(x->oracle, VQF_SIDE_DEVICE, false);
    vqf_oracle_device_step(x->oracle, true);
    switch (op->kind) {
    case VQF_OP_DEV_USED_RAW:
        if (packed) {
            uint64_t da = s->desc + (uint64_t)(op->a % size) * 16u;
            vqf_dma_write32(d, da + VIRTQ_PDESC_LEN, (uint32_t)op->c);
            vqf_dma_write16(d, da + VIRTQ_PDESC_ID, (uint16_t)op->b);
        } else {
            uint64_t e = s->device + VIRTQ_USED_RING(op->a % size);
            vqf_dma_write32(d, e, op->b);
            vqf_dma_write32(d, e + 4, (uint32_t)op->c);
        }
        break;
    case VQF_OP_DEV_USED_IDX:
        if (packed) {
            uint64_t fa = s->desc + (uint64_t)((op->a & 0x7fffu) % size) * 16u + VIRTQ_PDESC_FLAGS;
            uint16_t f = 0;
            vqf_dma_read16(d, fa, &f);
            f &= (uint16_t)~(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
            if (op->a >> 15)
                f |= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
            vqf_dma_write16(d, fa, f);
        } else {
            vqf_dma_write16(d, s->device + VIRTQ_USED_IDX, op->a);
        }
        raise_vring(x);
        break;
    case VQF_OP_DEV_FORGE: forge(x, q, op->a, op->b); break;
    case VQF_OP_DEV_LEN_BIAS:
        s->len_bias = (int32_t)op->b;
        if (!packed) {
            uint16_t u = 0;
            vqf_dma_read16(d, s->device + VIRTQ_USED_IDX, &u);
            s->last_used_idx = u;
        }
        s->bias_pending = false;
        break;
    case VQF_OP_DEV_DROP: s->drop_kicks++; break;
    case VQF_OP_DEV_EVENT:
        if (packed) {
            vqf_dma_write16(d, s->device + VIRTQ_PEVENT_DESC, (uint16_t)op->b);
            vqf_dma_write16(d, s->device + VIRTQ_PEVENT_FLAGS, op->a);
        } else {
            vqf_dma_write16(d, s->device + VIRTQ_USED_FLAGS, op->a);
            vqf_dma_write16(d, s->device + VIRTQ_AVAIL_EVENT(size), (uint16_t)op->b);
        }
        break;
    case VQF_OP_DEV_RING_RAW: {
        uint64_t base = (op->a & 3u) == 0 ? s->desc : (op->a & 3u) == 1 ? s->driver : s->device;
        if ((op->a & 3u) == 3)
            base = x->mem.r[0].gpa + VQF_X_BUF_POOL_OFF;
        raw_write(d, base + op->b, (op->a >> 2) & 3u, op->c);
        break;
    }
    default: break;
    }
    vqf_oracle_device_step(x->oracle, false);
}

/* Ring events of the device: where the packed used ring stands, and the completions the
 * formats target compares. */
void vqf_ldev_event(struct vqf_exec *x, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    if (side != VQF_SIDE_DEVICE || a >= VQF_X_MAXQ)
        return;
    struct vqf_shadow_queue *s = &x->sq[a];
    if (ev == VQF_EV_DEV_PUSH) {
        /* a sum of mixed (queue, length) pairs: the same completions in another order match */
        uint64_t v = (((uint64_t)a << 32) | c) * 0x9e3779b97f4a7c15ull;
        x->push_hash += v ^ (v >> 31);
        x->pushes++;
        return;
    }
    if (packed_now(x)) {
        if (s->len_bias && !s->bias_pending) {
            s->bias_slot = s->used_slot;
            s->bias_pending = true;
        }
        s->used_slot = (uint16_t)(b & 0x7fffu);
        s->used_wrap = (b >> 15) & 1u;
        s->used_known = true;
    }
}

/* DEV_LEN_BIAS is sticky: every used entry the device publishes afterwards carries the bias
 * (split: all new entries; packed: the first used descriptor of each publish). */
void vqf_ldev_after_step(struct vqf_exec *x)
{
    if (!x->lies.on || x->have_vdrv)
        return;
    bool packed = packed_now(x);
    for (unsigned q = 0; q < x->nqueues && q < VQF_X_MAXQ; q++) {
        struct vqf_shadow_queue *s = &x->sq[q];
        if (!s->len_bias || !s->ready)
            continue;
        uint16_t size = qnum(x, q);
        vqf_oracle_device_step(x->oracle, true);
        if (packed) {
            if (s->bias_pending) {
                uint64_t la = s->desc + (uint64_t)(s->bias_slot % size) * 16u + VIRTQ_PDESC_LEN;
                uint32_t len = 0;
                vqf_dma_read32(&x->vdma, la, &len);
                vqf_dma_write32(&x->vdma, la, len + (uint32_t)s->len_bias);
                s->bias_pending = false;
            }
        } else {
            uint16_t u = 0;
            vqf_dma_read16(&x->vdma, s->device + VIRTQ_USED_IDX, &u);
            uint16_t from = (uint16_t)s->last_used_idx;
            for (uint16_t i = from, n = 0; i != u && n < size; i++, n++) {
                uint64_t la = s->device + VIRTQ_USED_RING(i % size) + 4;
                uint32_t len = 0;
                vqf_dma_read32(&x->vdma, la, &len);
                vqf_dma_write32(&x->vdma, la, len + (uint32_t)s->len_bias);
            }
            s->last_used_idx = u;
        }
        vqf_oracle_device_step(x->oracle, false);
    }
}

/* ---- the driver's workload ---- */

void vqf_wl_op(struct vqf_exec *x, const struct vqf_op *op)
{
    if (!x->drv)
        return;
    switch (op->kind) {
    case VQF_OP_WL_SUBMIT: {
        struct vqf_workload_op w = {op->a, op->q, op->b, (uint32_t)op->c,
                                    ((uint64_t)x->prog.h.seed << 32) | x->cur_op};
        int r = x->drv_ad->submit(x->drv, &w);
        /* what the driver accepted, in order (the formats target compares runs only when
         * both accepted the same workload) */
        x->submit_hash = (x->submit_hash ^ (uint64_t)(uint32_t)(r + 2)) * 0x100000001b3ull;
        break;
    }
    case VQF_OP_WL_INTERRUPT:
        x->irq_line = false;
        x->drv_ad->interrupt(x->drv);
        break;
    case VQF_OP_WL_CONTROL: x->drv_ad->control(x->drv, op->a % 3u, op->b); break;
    default: break;
    }
}

/* ---- the driver's health probe ---- */

static struct vqf_workload_op probe_op(const struct vqf_exec *x)
{
    struct vqf_workload_op w;
    memset(&w, 0, sizeof(w));
    w.seed = 0x70726f6265ull; /* "probe" */
    switch (x->device_id) {
    case VIRTIO_ID_BLOCK: w.kind = 1; w.arg0 = 0; w.arg1 = 1; break; /* read sector 0 */
    case VIRTIO_ID_NET: w.kind = 0; w.arg0 = 64; break;               /* send 64 bytes */
    default: w.kind = 0; w.arg0 = 16; break;                          /* console / rng */
    }
    return w;
}

/* Lies off. What the lying device wrote into its event suppression area stays in guest
 * memory, and the honest device only rewrites it when it changes its mind: ask for every
 * notification again (2.7.10: used flags 0 and avail_event at the current avail idx; 2.8.10:
 * RING_EVENT_FLAGS_ENABLE), as the device would after a reset of its event state. */
static void lies_off(struct vqf_exec *x)
{
    x->lies.on = false;
    bool packed = packed_now(x);
    vqf_oracle_device_step(x->oracle, true);
    for (unsigned q = 0; q < VQF_X_MAXQ; q++) {
        struct vqf_shadow_queue *s = &x->sq[q];
        s->len_bias = 0;
        s->drop_kicks = 0;
        if (!s->ready || !s->device)
            continue;
        if (packed) {
            vqf_dma_write16(&x->vdma, s->device + VIRTQ_PEVENT_FLAGS, RING_EVENT_FLAGS_ENABLE);
        } else {
            uint16_t idx = 0;
            vqf_dma_read16(&x->vdma, s->driver + VIRTQ_AVAIL_IDX, &idx);
            vqf_dma_write16(&x->vdma, s->device + VIRTQ_USED_FLAGS, 0);
            vqf_dma_write16(&x->vdma, s->device + VIRTQ_AVAIL_EVENT(qnum(x, q)), idx);
        }
    }
    vqf_oracle_device_step(x->oracle, false);
}

/* Submit one valid request and run until it completes. 1 = completed, 0 = submitted but not
 * completed within the probe's steps, -1 = the driver did not take it. */
static int probe_attempt(struct vqf_exec *x, const struct vqf_workload_op *w)
{
    unsigned pre = x->drv_ad->inflight(x->drv);
    if (x->drv_ad->submit(x->drv, w) != 0)
        return -1;
    for (unsigned step = 0; step < VQF_X_PROBE_STEPS && !x->wedged; step++) {
        vqf_x_step(x);
        if (x->drv_ad->inflight(x->drv) <= pre)
            return 1;
    }
    return 0;
}

bool vqf_ldev_probe(struct vqf_exec *x)
{
    if (x->lied)
        lies_off(x);
    else
        x->lies.on = false;
    vqf_x_run_idle(x, VQF_X_DRAIN_STEPS);
    if (x->wedged)
        return false;
    struct vqf_workload_op w = probe_op(x);
    int r = probe_attempt(x, &w);
    if (r == 1)
        return true;
    if (x->wedged)
        return false;
    /* An honest device that took the request and never completed it: hung. */
    if (r == 0 && !x->lied) {
        vqf_x_wedge(x, "health probe: a valid workload request never completed on an honest device");
        return false;
    }
    /* The driver refused the request, or the lying device left its own ring state corrupt
     * (a forged used flag hides an available slot from the device itself: no driver can tell
     * that from a slow device). The driver recovers by resetting the device (3.1.1, 2.1.2),
     * as its watchdog would; then one request must complete. */
    x->drv_ad->control(x->drv, VQF_CTL_RESET, 0);
    r = probe_attempt(x, &w);
    if (r == 1)
        return true;
    if (x->wedged)
        return false;
    /* A queue of fewer than 4 entries may hold no request at all (a blk request is three
     * descriptors, 5.2.6): refusing then is no hang. */
    if (r < 0 && x->qsize < 4)
        return true;
    vqf_x_wedge(x, r < 0 ? "health probe: the driver cannot submit a valid request, even after a reset"
                         : "health probe: a valid workload request never completed, even after a reset");
    return false;
}
