/* The fuzzer as a driver (device-under-test targets): a struct vqf_vdrv for the honest
 * parts (initialisation, the driver halves of the rings), raw guest-memory writes and raw
 * register accesses for the lies. Every guest-memory write goes through the driver-side DMA
 * handle, so the oracle attributes it to the driver (the side that is not judged here).
 * The op semantics are documented at the top of exec.c. */
#include <string.h>

#include "harness/exec_internal.h"
#include "vqfuzz/virtio.h"

static struct vqf_vdrv_queue *live_queue(struct vqf_exec *x, unsigned q)
{
    struct vqf_vdrv_queue *vq = &x->vdrv.q[q];
    return vq->live ? vq : NULL;
}

/* A buffer from the pool: a rolling cursor over 1 MiB, 16-byte aligned, deterministic. */
static uint64_t pool_alloc(struct vqf_exec *x, uint32_t len)
{
    len = (len + 15u) & ~15u;
    if (len > VQF_X_BUF_POOL_LEN)
        len = VQF_X_BUF_POOL_LEN;
    if (x->pool_cur + len > VQF_X_BUF_POOL_LEN) {
        /* The pool wraps: new buffers may overlap ones still outstanding, so a device write can
         * land in memory another chain offers as device-readable. That overlap is this side's
         * doing, not the device's: stop judging the device on the shadow it confuses. */
        x->pool_cur = 0;
        vqf_oracle_taint(x->oracle, VQF_SIDE_DRIVER, false);
    }
    uint64_t gpa = x->mem.r[0].gpa + VQF_X_BUF_POOL_OFF + x->pool_cur;
    x->pool_cur += len;
    return gpa;
}

static unsigned device_queue_count(struct vqf_exec *x)
{
    unsigned n = 0;
    while (n < VQF_X_MAXQ) {
        vqf_x_mmio_write(x, VIRTIO_MMIO_QUEUE_SEL, 4, n);
        if (vqf_x_mmio_read(x, VIRTIO_MMIO_QUEUE_NUM_MAX, 4) == 0)
            break;
        n++;
    }
    return n;
}

static int op_request(struct vqf_exec *x, unsigned q, uint16_t type, uint32_t arg, uint64_t len, uint32_t *token);

/* Honest setup (spec 3.1.1): negotiate, queues, DRIVER_OK. nq_want = 0: the header's queue
 * count (0 = all the device has); else that many (the probe's own need). With `prime`, one
 * request per queue is made available before DRIVER_OK, as a driver filling its receive
 * queues during initialisation does (3.1.1 step 7: only the notification must wait for
 * DRIVER_OK, 2.1.2 INIT-07), and the device runs one step: it must not touch them yet
 * (2.1.2, STATUS-05). */
static int ldrv_setup(struct vqf_exec *x, uint64_t accept, uint16_t qsize, unsigned nq_want, bool prime)
{
    struct vqf_vdrv *d = &x->vdrv;
    uint64_t want[2] = {accept, 0};
    if (vqf_vdrv_negotiate(d, x->device_id, want) != 0)
        return -1;
    unsigned nq = device_queue_count(x);
    unsigned limit = nq_want ? nq_want : x->prog.h.nqueues;
    if (limit && limit < nq)
        nq = limit;
    x->nqueues = (uint16_t)nq;
    d->queue_size = qsize;
    if ((x->prog.h.format_flags & VQF_PF_INDIRECT) && vqf_vdrv_has(d, VIRTIO_F_INDIRECT_DESC))
        d->ind_bytes_per_queue = 16u << 10;
    for (unsigned q = 0; q < nq; q++)
        if (vqf_vdrv_setup_queue(d, (uint16_t)q, qsize) != 0)
            return -1;
    if (prime) {
        for (unsigned q = 0; q < nq; q++)
            if (op_request(x, q, 0, 0, 0, NULL) >= 0)
                vqf_vq_drv_kick_prepare(&d->q[q].vq); /* published, not notified */
        vqf_x_device_poll(x);
    }
    vqf_vdrv_driver_ok(d);
    return 0;
}

int vqf_ldrv_init(struct vqf_exec *x)
{
    if (x->prog.h.format_flags & VQF_PF_MANUAL) {
        /* The ops do everything; queue ops still need to know how many queues exist. */
        unsigned n = device_queue_count(x);
        x->nqueues = (uint16_t)(x->prog.h.nqueues && x->prog.h.nqueues < n ? x->prog.h.nqueues : n);
        return 0;
    }
    return ldrv_setup(x, x->accepted, x->qsize, 0, false);
}

/* ---- chain builders ---- */

static int add_chain(struct vqf_exec *x, unsigned q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                     unsigned flags, uint32_t *token)
{
    struct vqf_vdrv_queue *vq = live_queue(x, q);
    if (!vq)
        return -1;
    uint32_t t = x->token++;
    int r = vqf_vq_drv_add(&vq->vq, sg, nout, nin, t, flags);
    if (r >= 0 && token)
        *token = t;
    return r;
}

static void kick(struct vqf_exec *x, unsigned q, bool force)
{
    struct vqf_vdrv_queue *vq = live_queue(x, q);
    if (!vq)
        return;
    bool need = vqf_vq_drv_kick_prepare(&vq->vq);
    if (need || force)
        vqf_x_mmio_write(x, VIRTIO_MMIO_QUEUE_NOTIFY, 4, vqf_vq_drv_notify_value(&vq->vq));
}

/* DRV_ADD: nout readable then nin writable segments of the given lengths from the pool. */
static void op_add(struct vqf_exec *x, unsigned q, uint16_t shape, uint32_t lens, uint64_t flags)
{
    struct vqf_seg sg[VQF_X_MAX_SEGS];
    unsigned nout = shape & 0xffu, nin = shape >> 8;
    if (nout > VQF_X_MAX_SEGS)
        nout = VQF_X_MAX_SEGS;
    if (nin > VQF_X_MAX_SEGS - nout)
        nin = VQF_X_MAX_SEGS - nout;
    if (nout + nin == 0)
        nout = 1;
    uint32_t out_len = lens & 0xffffu ? lens & 0xffffu : 64u;
    uint32_t in_len = lens >> 16 ? lens >> 16 : 64u;
    for (unsigned i = 0; i < nout + nin; i++) {
        sg[i].len = i < nout ? out_len : in_len;
        sg[i].addr = pool_alloc(x, sg[i].len);
        sg[i].write = i >= nout;
    }
    add_chain(x, q, sg, nout, nin, (flags & 1u) ? VQF_ADD_INDIRECT : 0, NULL);
    if (flags & 2u)
        kick(x, q, true);
}

/* DRV_REQUEST: one well-formed request of the device type (spec 5.x), returns its token. */
static int op_request(struct vqf_exec *x, unsigned q, uint16_t type, uint32_t arg, uint64_t len, uint32_t *token)
{
    struct vqf_seg sg[3];
    unsigned nout = 0, nin = 0;
    uint32_t n = (uint32_t)(len > 65536 ? 65536 : len);
    switch (x->device_id) {
    case VIRTIO_ID_BLOCK: {
        /* 5.2.6: le32 type, le32 reserved, le64 sector; data; u8 status (device-writable). */
        uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE] = {0};
        vqf_put_le32(hdr, type);
        vqf_put_le64(hdr + 8, arg);
        sg[0].addr = pool_alloc(x, sizeof(hdr));
        sg[0].len = sizeof(hdr);
        sg[0].write = 0;
        vqf_dma_write(&x->ddma, sg[0].addr, hdr, sizeof(hdr));
        nout = 1;
        unsigned i = 1;
        if (type == VIRTIO_BLK_T_GET_ID) {
            n = VIRTIO_BLK_ID_BYTES;
        } else if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
            /* one segment descriptor: le64 sector, le32 num_sectors, le32 flags (5.2.6) */
            uint8_t seg[VIRTIO_BLK_DISCARD_SEG_SIZE] = {0};
            vqf_put_le64(seg, arg);
            vqf_put_le32(seg + 8, n / VIRTIO_BLK_SECTOR_SIZE ? n / VIRTIO_BLK_SECTOR_SIZE : 1);
            n = sizeof(seg);
            sg[1].addr = pool_alloc(x, n);
            vqf_dma_write(&x->ddma, sg[1].addr, seg, n);
        } else {
            n = n ? (n + VIRTIO_BLK_SECTOR_SIZE - 1) & ~(VIRTIO_BLK_SECTOR_SIZE - 1) : VIRTIO_BLK_SECTOR_SIZE;
        }
        if (type != VIRTIO_BLK_T_FLUSH) {
            if (!(type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES))
                sg[1].addr = pool_alloc(x, n);
            sg[1].len = n;
            sg[1].write = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
            if (sg[1].write)
                nin++;
            else
                nout++;
            i = 2;
        }
        sg[i].addr = pool_alloc(x, 1);
        sg[i].len = 1;
        sg[i].write = 1;
        nin++;
        break;
    }
    case VIRTIO_ID_NET:
        /* 5.1.2: even queues receive, odd queues transmit (the control queue, if any, is
         * treated like a transmit queue of an 8-byte command). */
        if ((q & 1u) == 0) {
            sg[0].len = n ? n : 1526;
            sg[0].addr = pool_alloc(x, sg[0].len);
            sg[0].write = 1;
            nin = 1;
        } else {
            uint8_t hdr[VIRTIO_NET_HDR_SIZE] = {0};
            sg[0].addr = pool_alloc(x, sizeof(hdr));
            sg[0].len = sizeof(hdr);
            sg[0].write = 0;
            vqf_dma_write(&x->ddma, sg[0].addr, hdr, sizeof(hdr));
            sg[1].len = n ? n : 64;
            sg[1].addr = pool_alloc(x, sg[1].len);
            sg[1].write = 0;
            nout = 2;
        }
        break;
    case VIRTIO_ID_CONSOLE:
        /* 5.3.2: queue 0 receiveq, 1 transmitq, 2/3 control rx/tx, then per-port pairs. */
        if ((q & 1u) == 0) {
            sg[0].len = n ? n : 64;
            sg[0].write = 1;
            nin = 1;
        } else {
            sg[0].len = n ? n : 16;
            sg[0].write = 0;
            nout = 1;
        }
        sg[0].addr = pool_alloc(x, sg[0].len);
        if (q == 3) {
            uint8_t ctl[VIRTIO_CONSOLE_CTRL_SIZE] = {0};
            vqf_put_le16(ctl + 4, type);
            vqf_put_le16(ctl + 6, (uint16_t)arg);
            sg[0].len = sizeof(ctl);
            vqf_dma_write(&x->ddma, sg[0].addr, ctl, sizeof(ctl));
        }
        break;
    default:
        /* rng (5.4) and anything else: one device-writable buffer. */
        sg[0].len = n ? n : 64;
        sg[0].addr = pool_alloc(x, sg[0].len);
        sg[0].write = 1;
        nin = 1;
        break;
    }
    unsigned flags = (x->prog.h.format_flags & VQF_PF_INDIRECT) ? VQF_ADD_INDIRECT : 0;
    return add_chain(x, q, sg, nout, nin, flags, token);
}

/* ---- raw ring writes ---- */

static uint64_t area_base(struct vqf_exec *x, unsigned q, unsigned area)
{
    const struct vqf_shadow_queue *s = &x->sq[q];
    switch (area & 3u) {
    case 0: return s->desc;
    case 1: return s->driver;
    case 2: return s->device;
    default: return x->mem.r[0].gpa + VQF_X_BUF_POOL_OFF;
    }
}

/* A raw little-endian write of 1, 2, 4 or 8 bytes (size code 0..3). */
static void raw_write(const struct vqf_dma *dma, uint64_t gpa, unsigned size_code, uint64_t v)
{
    switch (size_code & 3u) {
    case 0: { uint8_t b = (uint8_t)v; vqf_dma_write(dma, gpa, &b, 1); break; }
    case 1: vqf_dma_write16(dma, gpa, (uint16_t)v); break;
    case 2: vqf_dma_write32(dma, gpa, (uint32_t)v); break;
    default: vqf_dma_write64(dma, gpa, v); break;
    }
}

static uint16_t qnum(const struct vqf_exec *x, unsigned q)
{
    uint16_t n = x->sq[q].num;
    return n ? n : 1;
}

static bool is_packed_now(const struct vqf_exec *x)
{
    return (x->drv_features[0] >> VIRTIO_F_RING_PACKED) & 1u;
}

/* Make packed slot `slot` available in wrap `wrap` (2.8.1: AVAIL = wrap, USED = !wrap),
 * keeping its other flag bits. */
static void packed_mark_avail(struct vqf_exec *x, uint64_t desc, uint16_t slot, bool wrap)
{
    uint64_t fa = desc + (uint64_t)slot * 16u + VIRTQ_PDESC_FLAGS;
    uint16_t f = 0;
    vqf_dma_read16(&x->ddma, fa, &f);
    f &= (uint16_t)~(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
    f |= wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
    vqf_dma_write16(&x->ddma, fa, f);
}

static unsigned reg_size(uint64_t code)
{
    static const unsigned sz[4] = {4, 1, 2, 4};
    return sz[code & 3u];
}

static void reinit(struct vqf_exec *x, uint16_t size, uint64_t features)
{
    uint64_t accept = features ? features | VQF_BIT(VIRTIO_F_VERSION_1) : x->accepted ^ VQF_BIT(VIRTIO_F_RING_PACKED);
    vqf_vdrv_reset(&x->vdrv);
    ldrv_setup(x, accept, size ? size : x->qsize, 0, true);
}

static void ldrv_raw_op(struct vqf_exec *x, const struct vqf_op *op, unsigned q, uint16_t size, bool packed);

void vqf_ldrv_op(struct vqf_exec *x, const struct vqf_op *op)
{
    unsigned nq = x->nqueues ? x->nqueues : 1;
    unsigned q = op->q % nq;
    const struct vqf_dma *d = &x->ddma;
    const struct vqf_shadow_queue *s = &x->sq[q];
    uint16_t size = qnum(x, q);
    bool packed = is_packed_now(x);

    switch (op->kind) {
    case VQF_OP_DRV_ADD: op_add(x, q, op->a, op->b, op->c); return;
    case VQF_OP_DRV_REQUEST: op_request(x, q, op->a, op->b, op->c, NULL); return;
    case VQF_OP_DRV_KICK: kick(x, q, op->a != 0); return;
    case VQF_OP_DRV_RECLAIM: {
        struct vqf_vdrv_queue *vq = live_queue(x, q);
        uint32_t tok, len;
        for (unsigned i = 0; vq && i <= size; i++)
            if (vqf_vq_drv_get_used(&vq->vq, &tok, &len) <= 0)
                break;
        return;
    }
    case VQF_OP_DRV_REG_READ: vqf_x_mmio_read(x, op->a, reg_size(op->c)); return;
    case VQF_OP_DRV_CONFIG_READ: vqf_x_mmio_read(x, VIRTIO_MMIO_CONFIG + (op->a & 0x1ffu), reg_size(op->c)); return;
    case VQF_OP_DRV_DEVICE_RESET: vqf_vdrv_reset(&x->vdrv); return;
    case VQF_OP_DRV_QUEUE_RESET:
        x->vdrv.queue_size = op->a ? op->a : x->qsize;
        vqf_vdrv_queue_reset(&x->vdrv, (uint16_t)q);
        return;
    case VQF_OP_DRV_REINIT: reinit(x, op->a, op->c); return;
    case VQF_OP_DRV_EVENT:
        /* Honest values: split flags 0/1 (2.7.7), packed enable/disable, or desc with
         * EVENT_IDX (2.8.10); anything else is a lie. */
        if (op->a > 1 && !(packed && op->a == RING_EVENT_FLAGS_DESC &&
                           ((x->drv_features[0] >> VIRTIO_F_EVENT_IDX) & 1u)))
            x->lied = true;
        if (packed) {
            vqf_dma_write16(d, s->driver + VIRTQ_PEVENT_DESC, (uint16_t)op->b);
            vqf_dma_write16(d, s->driver + VIRTQ_PEVENT_FLAGS, op->a);
        } else {
            vqf_dma_write16(d, s->driver + VIRTQ_AVAIL_FLAGS, op->a);
            vqf_dma_write16(d, s->driver + VIRTQ_USED_EVENT(size), (uint16_t)op->b);
        }
        return;
    default: break;
    }

    /* Everything below may break a rule of the spec: the lie is the attack. The oracle stops
     * judging the device on state the lie may have made meaningless. */
    x->lied = true;
    ldrv_raw_op(x, op, q, size, packed);
    /* After the write, not before: a raw status 0 resets the oracle's transport model, which
     * must not wipe the taint of the very lie that wrote it. */
    vqf_oracle_taint(x->oracle, VQF_SIDE_DRIVER,
                     op->kind == VQF_OP_DRV_NOTIFY_RAW || op->kind == VQF_OP_DRV_REG_WRITE ||
                         op->kind == VQF_OP_DRV_STATUS || op->kind == VQF_OP_DRV_FEATURES ||
                         op->kind == VQF_OP_DRV_CONFIG_WRITE);
}

/* The rule-breaking half of the lying driver's ops: raw registers and raw ring memory. */
static void ldrv_raw_op(struct vqf_exec *x, const struct vqf_op *op, unsigned q, uint16_t size, bool packed)
{
    const struct vqf_dma *d = &x->ddma;
    const struct vqf_shadow_queue *s = &x->sq[q];
    switch (op->kind) {
    case VQF_OP_DRV_NOTIFY_RAW: vqf_x_mmio_write(x, VIRTIO_MMIO_QUEUE_NOTIFY, 4, op->b); break;
    case VQF_OP_DRV_DESC_RAW: {
        /* addr at +0 and len at +8 in both formats (2.7.5, 2.8.13) */
        uint64_t da = s->desc + (uint64_t)(op->a % size) * 16u;
        vqf_dma_write64(d, da, vqf_x_resolve(x, q, op->c));
        vqf_dma_write32(d, da + 8, op->b);
        break;
    }
    case VQF_OP_DRV_DESC_FLAGS: {
        /* split: flags at +12, next at +14; packed: id at +12, flags at +14 */
        uint64_t da = s->desc + (uint64_t)(op->a % size) * 16u;
        uint16_t flags = (uint16_t)op->b, other = (uint16_t)(op->b >> 16);
        vqf_dma_write16(d, da + 12, packed ? other : flags);
        vqf_dma_write16(d, da + 14, packed ? flags : other);
        break;
    }
    case VQF_OP_DRV_AVAIL_RAW:
        if (packed)
            vqf_dma_write16(d, s->desc + (uint64_t)(op->a % size) * 16u + VIRTQ_PDESC_ID, (uint16_t)op->b);
        else
            vqf_dma_write16(d, s->driver + VIRTQ_AVAIL_RING(op->a % size), (uint16_t)op->b);
        break;
    case VQF_OP_DRV_AVAIL_IDX:
        if (packed)
            packed_mark_avail(x, s->desc, (uint16_t)((op->a & 0x7fffu) % size), (op->a >> 15) & 1u);
        else
            vqf_dma_write16(d, s->driver + VIRTQ_AVAIL_IDX, op->a);
        break;
    case VQF_OP_DRV_PUBLISH:
        if (packed) {
            const struct vqf_vdrv_queue *vq = live_queue(x, q);
            uint16_t slot = vq && vq->vq.format == VQF_RING_PACKED ? vq->vq.u.packed.next_avail : 0;
            bool wrap = vq && vq->vq.format == VQF_RING_PACKED ? vq->vq.u.packed.avail_wrap : true;
            /* at most one ring's worth (and 512) per op: enough to wrap, bounded in cost */
            unsigned count = op->a % (size + 1u) < 512u ? op->a % (size + 1u) : 512u;
            for (unsigned i = 0; i < count; i++) {
                packed_mark_avail(x, s->desc, (uint16_t)(slot % size), wrap);
                if (++slot >= size) {
                    slot = 0;
                    wrap = !wrap;
                }
            }
        } else {
            uint16_t idx = 0;
            vqf_dma_read16(d, s->driver + VIRTQ_AVAIL_IDX, &idx);
            vqf_wmb(d); /* entries before idx, as an honest driver would (2.7.13.3.1) */
            vqf_dma_write16(d, s->driver + VIRTQ_AVAIL_IDX, (uint16_t)(idx + op->a));
        }
        break;
    case VQF_OP_DRV_RING_RAW: raw_write(d, area_base(x, q, op->a) + op->b, (op->a >> 2) & 3u, op->c); break;
    case VQF_OP_DRV_REG_WRITE: vqf_x_mmio_write(x, op->a, reg_size(op->c), op->b); break;
    case VQF_OP_DRV_STATUS: vqf_x_mmio_write(x, VIRTIO_MMIO_STATUS, 4, op->b); break;
    case VQF_OP_DRV_FEATURES:
        vqf_x_mmio_write(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, op->a);
        vqf_x_mmio_write(x, VIRTIO_MMIO_DRIVER_FEATURES, 4, op->b);
        break;
    case VQF_OP_DRV_CONFIG_WRITE:
        vqf_x_mmio_write(x, VIRTIO_MMIO_CONFIG + (op->a & 0x1ffu), reg_size(op->c), op->b);
        break;
    default: break;
    }
}

/* ---- the device's health probe ---- */

static unsigned probe_queue(const struct vqf_exec *x)
{
    /* a queue that completes a request on its own: blk/rng request queue 0, net and console
     * transmit queue 1 (5.1.2, 5.3.2) */
    return (x->device_id == VIRTIO_ID_NET || x->device_id == VIRTIO_ID_CONSOLE) ? 1u : 0u;
}

/* One valid request on queue pq, kicked; true when it completes within the probe's steps.
 * With `final`, a failure is the verdict (WEDGED) and says why. */
static bool probe_request(struct vqf_exec *x, unsigned pq, bool final)
{
    uint32_t token = 0;
    if (op_request(x, pq, VIRTIO_BLK_T_IN, 0, 512, &token) < 0) {
        if (final)
            vqf_x_wedge(x, "health probe: no room for one request in a freshly set up queue");
        return false;
    }
    kick(x, pq, true);
    struct vqf_vdrv_queue *vq = live_queue(x, pq);
    for (unsigned step = 0; step < VQF_X_PROBE_STEPS && vq && !x->wedged; step++) {
        vqf_x_step(x);
        uint32_t tok, len;
        int r;
        while ((r = vqf_vq_drv_get_used(&vq->vq, &tok, &len)) > 0)
            if (tok == token)
                return true;
        if (r < 0) {
            if (final)
                vqf_x_wedge(x, "health probe: the device returned a used entry the driver rejects");
            return false;
        }
        /* the device gave up on the queue (a chain of the program it could not serve) */
        if (!final && x->rec.counts[VQF_EV_DEV_ERROR])
            return false;
    }
    if (final)
        vqf_x_wedge(x, "health probe: a valid request did not complete after a full reset");
    return false;
}

bool vqf_ldrv_probe(struct vqf_exec *x)
{
    struct vqf_vdrv *d = &x->vdrv;
    x->lies.on = false;
    uint32_t status = vqf_x_mmio_read(x, VIRTIO_MMIO_STATUS, 4);
    if (status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        x->saw_needs_reset = true;
    unsigned pq = probe_queue(x);
    /* After an all-honest program (no lie, no device error, DRIVER_OK and the queue live)
     * the request first goes straight to the live queue: the reset below would only repeat
     * the initialisation the program began with. If that does not complete (chains of the
     * program that the device refuses are still queued ahead of it), the full probe runs. */
    bool honest = !x->lied && !x->saw_needs_reset && !x->rec.counts[VQF_EV_DEV_ERROR] &&
                  (status & VIRTIO_STATUS_DRIVER_OK) && pq < x->nqueues && live_queue(x, pq) &&
                  vqf_vq_drv_num_free(&d->q[pq].vq) >= 3;
    if (honest && probe_request(x, pq, false))
        return true;
    if (x->wedged)
        return false;
    /* A full reset (3.3.1 / 2.4): the device drops every ring, so the guest memory of the
     * program's rings can be handed out again. */
    vqf_vdrv_reset(d);
    vqf_galloc_reset(&x->galloc);
    vqf_vdrv_forget_memory(d); /* its kept rings lie in the memory just rewound */
    x->pool_cur = 0;
    /* The program's queue size may be too small for a request (a blk request needs three
     * descriptors): the probe uses the default size. */
    if (ldrv_setup(x, x->accepted, 256, pq + 1, false) != 0) {
        vqf_x_wedge(x, "health probe: the device refused an honest initialisation after a full reset");
        return false;
    }
    if (pq >= x->nqueues)
        pq = 0;
    return probe_request(x, pq, true);
}
