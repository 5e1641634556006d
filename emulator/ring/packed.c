/* Packed virtqueue, spec 2.8: see packed.h.
 *
 * Layout of one descriptor slot (2.8.13): le64 addr @0, le32 len @8, le16 id @12, le16 flags @14.
 * Both halves keep positions as (slot, wrap) pairs. For the event-suppression arithmetic a pair
 * becomes a "lap position" in [0, 2 * size): laps with wrap counter 1 (the first lap, 2.8.1)
 * map to slot, laps with wrap counter 0 to slot + size. Distances are then taken modulo
 * 2 * size, which works for any queue size, not only powers of two.
 *
 * Every read or write of a ring part goes through the host pointer translated at init and is
 * logged with vqf_mem_note so that the oracle sees it. Hot paths are compiled with and
 * without observer hooks (ring_hot.h), and the one-descriptor chain has an inline fast path
 * in every step (packed.h); longer lists and indirect tables take the general walk. */
#include "emulator/ring/packed.h"

#include <stdlib.h>
#include <string.h>

#include "emulator/ring/ring_hot.h"

RING_LIVE_LAYOUT_OK(struct vqf_packed_dev);
RING_LIVE_LAYOUT_OK(struct vqf_packed_drv);

#define PDESC_SIZE VQF_PDESC_SIZE
#define PDESC_BODY 14u                 /* addr + len + id: everything before flags */
#define PEVENT_SIZE 4u                 /* sizeof(struct pvirtq_event_suppress), 2.8.14 */
#define PEVENT_OFF_MASK 0x7fffu        /* desc_event_off : 15 (2.8.14) */
#define PEVENT_FLAGS_MASK VQF_PEVENT_FLAGS_MASK
#define NO_ID VQF_PACKED_NO_ID
#define SLOT_STATE_FREE VQF_PACKED_ID_FREE
#define SLOT_STATE_OUT VQF_PACKED_ID_OUT

/* ---------------------------------------------------------------------------------------- */
/* Shared helpers                                                                            */

/* Advance (slot, wrap) by n slots; the wrap counter toggles past the last slot (2.8.1).
 * Tracked by compare, not modulo: queue sizes need not be powers of two. */
static inline void advance(uint16_t *slot, bool *wrap, uint32_t n, uint16_t size)
{
    uint32_t s = (uint32_t)*slot + n;
    while (s >= size) {
        s -= size;
        *wrap = !*wrap;
    }
    *slot = (uint16_t)s;
}

/* (to - from) modulo laps for two lap positions in [0, laps): one compare, no division. */
static inline uint32_t lap_dist(uint32_t to, uint32_t from, uint32_t laps)
{
    uint32_t d = to + laps - from; /* in (0, 2 * laps) */
    return d >= laps ? d - laps : d;
}

static inline uint32_t lap_pos(uint16_t slot, bool wrap, uint16_t size)
{
    return wrap ? slot : (uint32_t)slot + size;
}

/* Did the side move over the event position (off, wrap) of a RING_EVENT_FLAGS_DESC area while
 * going from old_* to new_* over `moved` slots (2.8.10)? That is: was the descriptor at the
 * event position made available / used in this step. An offset outside the ring names no
 * descriptor; we then answer yes, because a spurious notification is harmless and a lost one
 * wedges the peer. So does a step of a full double lap, where positions alias. */
static bool event_crossed(uint16_t event_desc, uint16_t old_slot, bool old_wrap, uint32_t moved,
                          uint16_t size)
{
    uint16_t off = event_desc & PEVENT_OFF_MASK;
    bool ewrap = (event_desc >> 15) & 1u;
    uint32_t laps = 2u * size;
    if (off >= size || moved >= laps)
        return true;
    uint32_t from = lap_pos(old_slot, old_wrap, size);
    uint32_t e = lap_pos(off, ewrap, size);
    return lap_dist(e, from, laps) < moved;
}

/* Shared check of a ring configuration: queue size 1..2^15 (2.8, D-01) and the part
 * alignment of the 2.8.10.1 table (PACK-LAY-01). */
static int cfg_check(const struct vqf_ring_cfg *cfg)
{
    if (cfg->format != VQF_RING_PACKED || cfg->size == 0 || cfg->size > VIRTQ_PACKED_MAX_SIZE)
        return -VQF_ERR_INVAL;
    if (cfg->desc % VIRTQ_PACKED_DESC_ALIGN || cfg->driver % VIRTQ_PACKED_EVENT_ALIGN ||
        cfg->device % VIRTQ_PACKED_EVENT_ALIGN)
        return -VQF_ERR_INVAL;
    return 0;
}

/* Translate the three ring parts once (2.8.10.1 sizes). */
static int xlate_parts(struct vqf_mem *m, const struct vqf_ring_cfg *cfg, uint8_t **desc,
                       uint8_t **drv_event, uint8_t **dev_event)
{
    *desc = vqf_mem_xlate(m, cfg->desc, (uint64_t)cfg->size * PDESC_SIZE);
    *drv_event = vqf_mem_xlate(m, cfg->driver, PEVENT_SIZE);
    *dev_event = vqf_mem_xlate(m, cfg->device, PEVENT_SIZE);
    if (!*desc || !*drv_event || !*dev_event)
        return -VQF_ERR_ADDR;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Device half                                                                               */

static inline uint8_t *dslot(const struct vqf_packed_dev *q, uint16_t slot)
{
    return q->desc + (uint32_t)slot * PDESC_SIZE;
}
static inline uint64_t dslot_gpa(const struct vqf_packed_dev *q, uint16_t slot)
{
    return q->cfg.desc + (uint64_t)slot * PDESC_SIZE;
}

RING_HOT uint16_t dev_read_flags(const struct vqf_packed_dev *q, uint16_t slot, const bool obs)
{
    ring_note(&q->dma, VQF_ACC_READ, dslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2, obs);
    return ring_ld16(dslot(q, slot) + VIRTQ_PDESC_FLAGS);
}

/* Out of line: errors are rare and the hot callers keep a small frame. */
RING_COLD int dev_fail(struct vqf_packed_dev *q, int err)
{
    q->broken = true;
    ring_event(&q->dma, VQF_EV_DEV_ERROR, q->cfg.index, (uint32_t)err, 0, true);
    return -err;
}

int vqf_packed_dev_init(struct vqf_packed_dev *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg)
{
    q->ready = false;
    int err = cfg_check(cfg);
    if (err)
        return err;
    uint8_t *desc, *drv_event, *dev_event;
    err = xlate_parts(dma->mem, cfg, &desc, &drv_event, &dev_event);
    if (err)
        return err;
    if (cfg->size > q->cap) {
        uint8_t *busy = malloc(cfg->size);
        uint32_t *pend = malloc((size_t)cfg->size * sizeof(*pend));
        if (!busy || !pend) {
            free(busy);
            free(pend);
            return -VQF_ERR_NOSPACE;
        }
        free(q->id_busy);
        free(q->pend);
        q->id_busy = busy;
        q->pend = pend;
        q->cap = cfg->size;
    }
    q->dma = *dma;
    q->cfg = *cfg;
    q->desc = desc;
    q->drv_event = drv_event;
    q->dev_event = dev_event;
    /* The device writes used descriptors and its event area through host pointers: mark
     * them dirty so the next memory reset clears them. */
    vqf_mem_mark_dirty(dma->mem, cfg->desc, (uint64_t)cfg->size * PDESC_SIZE);
    vqf_mem_mark_dirty(dma->mem, cfg->device, PEVENT_SIZE);
    memset(q->id_busy, 0, cfg->size);
    /* Both wrap counters start at 1 (2.8.1, D-08). */
    q->next_avail = q->next_used = q->published_used = q->signalled_used = 0;
    q->avail_wrap = q->used_wrap = q->published_wrap = q->signalled_wrap = true;
    q->written_used = 0;
    q->written_wrap = true;
    q->pending = q->batch_count = q->batch_ndesc = q->batch_last_id = q->batch_slot = 0;
    q->batch_last_len = 0;
    q->batch_wrap = true;
    q->batch_full = false;
    q->inflight = q->unsignalled = q->pend_slots = 0;
    q->kick_desc = false; /* the zeroed area reads as ENABLE */
    q->buf_region = 0;
    q->event_idx = vqf_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
    q->indirect = vqf_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC);
    q->in_order = vqf_has_feature(cfg->features, VIRTIO_F_IN_ORDER);
    q->fast = !q->in_order && ring_even((uintptr_t)q->desc, (uintptr_t)q->drv_event, (uintptr_t)q->dev_event);
    q->gate_pad = 0;
    q->broken = false;
    q->ready = true;
    return 0;
}

void vqf_packed_dev_free(struct vqf_packed_dev *q)
{
    free(q->id_busy);
    free(q->pend);
    q->id_busy = NULL;
    q->pend = NULL;
    q->cap = 0;
    q->ready = false;
}

/* State of one chain walk. Segments past the cap are validated but not stored, so that a
 * long chain is told apart from a broken one (same rule as split.c). */
struct walk {
    struct vqf_chain *c;
    uint32_t cap;    /* most segments stored: min(max_segs, seg_cap) */
    uint32_t nseg;   /* segments seen, indirect entries included */
    uint32_t nout;
    uint64_t out, in; /* bytes per direction */
};

/* One element of the chain, validated (2.8.17 / 2.8.18, D-05). */
static int dev_add_seg(struct vqf_packed_dev *q, struct walk *w, uint64_t addr, uint32_t len, bool write)
{
    /* Never more elements than the queue size, table entries included (PACK-SG-02,
     * PACK-IND-03). */
    if (++w->nseg > q->cfg.size)
        return VQF_ERR_CHAIN_LOOP;
    if (!write && w->nseg - 1 > w->nout)
        return VQF_ERR_WRITE_ORDER; /* PACK-SG-03: writable elements come last */
    if (!ring_buf_mapped(q->dma.mem, &q->buf_region, addr, len))
        return VQF_ERR_ADDR; /* RSVD-05: buffers are guest-RAM addresses */
    if (write) {
        w->in += len;
    } else {
        w->out += len;
        w->nout++;
    }
    if (w->nseg <= w->cap) {
        struct vqf_seg *sg = &w->c->seg[w->nseg - 1];
        sg->addr = addr;
        sg->len = len;
        sg->write = write;
    }
    return 0;
}

/* Walk an indirect table (2.8.7, 2.8.19). Only WRITE is meaningful in its entries: the other
 * flags and the Buffer ID are reserved and ignored (2.8.7, D-11) - except INDIRECT, which
 * would ask for a second level that no device can follow safely (rejected as nested). */
static int dev_walk_indirect(struct vqf_packed_dev *q, struct walk *w, uint64_t addr, uint32_t len)
{
    if (len == 0 || len % PDESC_SIZE)
        return VQF_ERR_IND_LEN; /* D-05 */
    uint32_t n = len / PDESC_SIZE;
    if (n > q->cfg.size)
        return VQF_ERR_CHAIN_LOOP; /* PACK-IND-03: not more than the queue size */
    const uint8_t *t = vqf_mem_xlate(q->dma.mem, addr, len);
    if (!t)
        return VQF_ERR_ADDR;
    for (uint32_t i = 0; i < n; i++, t += PDESC_SIZE) {
        ring_note(&q->dma, VQF_ACC_READ, addr + (uint64_t)i * PDESC_SIZE, PDESC_SIZE, true);
        uint16_t f = ring_rd16(t + VIRTQ_PDESC_FLAGS);
        if (f & VIRTQ_DESC_F_INDIRECT)
            return VQF_ERR_IND_NESTED;
        int err = dev_add_seg(q, w, ring_rd64(t + VIRTQ_PDESC_ADDR), ring_rd32(t + VIRTQ_PDESC_LEN),
                              (f & VIRTQ_DESC_F_WRITE) != 0);
        if (err)
            return err;
    }
    return 0;
}

/* DESC mode of the Device Event Suppression area: ask for a kick when the driver makes
 * available the slot we read next (2.8.10). The full barrier orders this store before our
 * next flags load; with the driver's barrier before its event read (PACK-PUB-02) one of the
 * two sides always sees the other, so no kick is lost. */
RING_HOT void dev_write_kick_event(struct vqf_packed_dev *q, const bool obs)
{
    uint16_t ev = (uint16_t)(q->next_avail | ((unsigned)q->avail_wrap << 15));
    ring_st16(q->dev_event + VIRTQ_PEVENT_DESC, ev);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.device + VIRTQ_PEVENT_DESC, 2, obs);
    ring_barrier(&q->dma, VQF_BARRIER_MB, obs);
}

/* The common chain: one plain descriptor at slot, whose flags (already read, after the rmb)
 * make it available. The same checks, in the same order, as the general walk below makes
 * for that shape. */
RING_HOT int dev_pop_one(struct vqf_packed_dev *q, struct vqf_chain *c, uint16_t slot, bool wrap, uint16_t flags,
                         const bool obs)
{
    const uint16_t size = q->cfg.size;
    const uint8_t *d = dslot(q, slot);
    ring_note(&q->dma, VQF_ACC_READ, dslot_gpa(q, slot), PDESC_BODY, obs);
    uint64_t addr = ring_rd64(d + VIRTQ_PDESC_ADDR);
    uint32_t len = ring_rd32(d + VIRTQ_PDESC_LEN);
    uint16_t id = ring_rd16(d + VIRTQ_PDESC_ID);
    if (!ring_buf_mapped(q->dma.mem, &q->buf_region, addr, len))
        return dev_fail(q, VQF_ERR_ADDR); /* RSVD-05 */
    if (q->inflight >= size)
        return dev_fail(q, VQF_ERR_AVAIL_JUMP); /* D-02, see the walk */
    if (id >= size || q->id_busy[id])
        return dev_fail(q, VQF_ERR_PACKED_ID); /* D-10 */
    q->id_busy[id] = 1;
    q->inflight++;
    const uint16_t first = slot;
    if (++slot == size) {
        slot = 0;
        wrap = !wrap; /* 2.8.1 */
    }
    q->next_avail = slot;
    q->avail_wrap = wrap;
    ring_chain_one(c, id, first, addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0);
    if (q->kick_desc)
        dev_write_kick_event(q, obs);
    ring_event(&q->dma, VQF_EV_DEV_POP, q->cfg.index, id, 1, obs);
    return 1;
}

/* Any other list: NEXT lists, indirect tables, a caller without segment room. */
RING_COLD int dev_pop_walk(struct vqf_packed_dev *q, struct vqf_chain *c, uint16_t slot, bool wrap, uint16_t flags)
{
    const uint16_t size = q->cfg.size;
    struct walk w = {c, c->seg_cap, 0, 0, 0, 0};
    if (q->cfg.max_segs && q->cfg.max_segs < w.cap)
        w.cap = q->cfg.max_segs;
    uint16_t ndesc = 0, id = 0;
    const uint16_t first = slot;
    int err;
    for (;;) {
        if (ndesc) {
            /* Every element of a list is made available before its head (PACK-SG-06): a
             * NEXT that leads to a slot not available for our wrap counter points outside
             * what the driver published. */
            flags = dev_read_flags(q, slot, true);
            if (!vqf_pdesc_is_avail(flags, wrap))
                return dev_fail(q, VQF_ERR_NEXT_RANGE);
        }
        const uint8_t *d = dslot(q, slot);
        ring_note(&q->dma, VQF_ACC_READ, dslot_gpa(q, slot), PDESC_BODY, true);
        uint64_t addr = ring_rd64(d + VIRTQ_PDESC_ADDR);
        uint32_t len = ring_rd32(d + VIRTQ_PDESC_LEN);
        id = ring_rd16(d + VIRTQ_PDESC_ID); /* the last one counts (2.8.6, D-10) */
        ndesc++;
        if (flags & VIRTQ_DESC_F_INDIRECT) {
            if (!q->indirect)
                return dev_fail(q, VQF_ERR_IND_FEATURE); /* PACK-IND-01 */
            if ((flags & VIRTQ_DESC_F_NEXT) || ndesc > 1)
                return dev_fail(q, VQF_ERR_IND_NEXT); /* PACK-IND-04, D-10 */
            /* WRITE on the INDIRECT descriptor itself is reserved and ignored (2.8.7). */
            err = dev_walk_indirect(q, &w, addr, len);
        } else {
            err = dev_add_seg(q, &w, addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0);
        }
        if (err)
            return dev_fail(q, err);
        advance(&slot, &wrap, 1, size);
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        if (ndesc == size)
            return dev_fail(q, VQF_ERR_CHAIN_LOOP); /* PACK-SG-02 */
    }
    /* At most 2^32 bytes, each direction within the 32-bit length fields (2.8.4, as
     * SPLIT-DSC-05 for split). */
    if (w.out > UINT32_MAX || w.in > UINT32_MAX || w.out + w.in > ((uint64_t)1 << 32))
        return dev_fail(q, VQF_ERR_CHAIN_LEN);
    if (w.nseg > w.cap)
        return dev_fail(q, VQF_ERR_CHAIN_CAP); /* PACK-SG-01 / PACK-SG-08: the device limit */
    /* At most `size` slots can be device-owned at once (2.8.21.1): more means the driver
     * re-published slots the device has not marked used (PACK-DSC-05, D-02). */
    if (q->inflight + ndesc > size)
        return dev_fail(q, VQF_ERR_AVAIL_JUMP);
    if (id >= size || q->id_busy[id])
        return dev_fail(q, VQF_ERR_PACKED_ID); /* D-10 */
    q->id_busy[id] = 1;
    q->inflight += ndesc;
    q->next_avail = slot;
    q->avail_wrap = wrap;
    c->id = id;
    c->ndesc = ndesc;
    c->slot = first;
    c->nseg = (uint16_t)w.nseg;
    c->nout = (uint16_t)w.nout;
    c->nin = (uint16_t)(w.nseg - w.nout);
    c->out_len = (uint32_t)w.out;
    c->in_len = (uint32_t)w.in;
    /* Keep a per-descriptor kick request pointing at the next slot, as split.c keeps
     * avail_event at last_avail. */
    if (q->kick_desc)
        dev_write_kick_event(q, true);
    ring_event(&q->dma, VQF_EV_DEV_POP, q->cfg.index, id, ndesc, true);
    return 1;
}

RING_HOT int dev_pop(struct vqf_packed_dev *q, struct vqf_chain *c, const bool obs)
{
    uint16_t slot = q->next_avail;
    bool wrap = q->avail_wrap;
    uint16_t flags = dev_read_flags(q, slot, obs);
    if (!vqf_pdesc_is_avail(flags, wrap))
        return 0;
    /* Read addr/len/id only after seeing the flags (2.8.21.1, PACK-DSC-03). */
    ring_barrier(&q->dma, VQF_BARRIER_RMB, obs);
    /* seg_cap 0 leaves no room even for one segment: the walk reports CHAIN_CAP. */
    if (__builtin_expect(!(flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) && c->seg_cap != 0, 1))
        return dev_pop_one(q, c, slot, wrap, flags, obs);
    return dev_pop_walk(q, c, slot, wrap, flags);
}

RING_COLD int dev_pop_observed(struct vqf_packed_dev *q, struct vqf_chain *c)
{
    return dev_pop(q, c, true);
}

RING_COLD int dev_pop_plain(struct vqf_packed_dev *q, struct vqf_chain *c)
{
    return dev_pop(q, c, false);
}

/* The public entry points are inline fast paths in packed.h; they call these out-of-line
 * entries for every other case (not ready, observed, any other shape) and for errors. */
int vqf_packed_dev_fail(struct vqf_packed_dev *q, int err)
{
    return dev_fail(q, err);
}

void vqf_packed_dev_kick_event(struct vqf_packed_dev *q)
{
    dev_write_kick_event(q, false);
}

int vqf_packed_dev_pop_slow(struct vqf_packed_dev *q, struct vqf_chain *c)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? dev_pop_observed(q, c) : dev_pop_plain(q, c);
}

/* Write addr-less body of a used descriptor (2.8.4: addr unused, len = bytes written, id). */
RING_HOT void dev_write_used_body(struct vqf_packed_dev *q, uint16_t slot, uint16_t id, uint32_t len, const bool obs)
{
    uint8_t *d = dslot(q, slot);
    ring_wr32(d + VIRTQ_PDESC_LEN, len);
    ring_wr16(d + VIRTQ_PDESC_ID, id);
    ring_note(&q->dma, VQF_ACC_WRITE, dslot_gpa(q, slot) + VIRTQ_PDESC_LEN, 6, obs);
}

/* A pending used descriptor: its slot, and the flags word that will publish it. */
static inline uint32_t pend_entry(uint16_t slot, bool wrap, uint32_t len)
{
    uint16_t f = (uint16_t)(vqf_pdesc_used_bits(wrap) | (len ? VIRTQ_DESC_F_WRITE : 0)); /* 2.8.4: WRITE iff len */
    return slot | ((uint32_t)f << 16);
}

RING_HOT void dev_store_used_flags(struct vqf_packed_dev *q, uint32_t p, const bool obs)
{
    uint16_t slot = (uint16_t)(p & 0xffffu);
    ring_st16(dslot(q, slot) + VIRTQ_PDESC_FLAGS, (uint16_t)(p >> 16));
    ring_note(&q->dma, VQF_ACC_WRITE, dslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2, obs);
}

/* Make every written used descriptor visible: barrier, then the flags. When several go out
 * together, the first one's flags are written last (2.8.9, D-13): the driver polls only the
 * first (2.8.2), so it never sees a partial set. */
RING_HOT void dev_flush(struct vqf_packed_dev *q, const bool obs)
{
    unsigned n = q->pending;
    if (!n)
        return;
    ring_barrier(&q->dma, VQF_BARRIER_WMB, obs);
    if (n > 1) {
        for (unsigned i = n; --i > 0;)
            dev_store_used_flags(q, q->pend[i], obs);
        ring_barrier(&q->dma, VQF_BARRIER_WMB, obs);
    }
    dev_store_used_flags(q, q->pend[0], obs);
    const uint16_t size = q->cfg.size;
    q->unsignalled += lap_dist(lap_pos(q->written_used, q->written_wrap, size),
                               lap_pos(q->published_used, q->published_wrap, size), 2u * size);
    q->published_used = q->written_used;
    q->published_wrap = q->written_wrap;
    q->pending = 0;
    q->pend_slots = 0;
    ring_event(&q->dma, VQF_EV_DEV_PUBLISH, q->cfg.index,
          (uint32_t)q->published_used | ((uint32_t)q->published_wrap << 15), 0, obs);
}

/* Record one used descriptor at (slot, wrap) covering ndesc slots; flags come at flush. */
RING_HOT void dev_add_used(struct vqf_packed_dev *q, uint16_t slot, bool wrap, uint16_t ndesc, uint16_t id,
                           uint32_t len, const bool obs)
{
    /* pend[] holds at most `size` entries; a peer that makes us complete more than that
     * without a publish in between only costs an early publish. */
    if (__builtin_expect(q->pending == q->cfg.size, 0))
        dev_flush(q, obs);
    dev_write_used_body(q, slot, id, len, obs);
    q->pend[q->pending++] = pend_entry(slot, wrap, len);
    q->pend_slots += ndesc;
    advance(&slot, &wrap, ndesc, q->cfg.size);
    q->written_used = slot;
    q->written_wrap = wrap;
}

/* IN_ORDER: one used descriptor for the whole batch, with the id of its last buffer, at the
 * slot of its first (2.8.8, D-07). */
RING_HOT void dev_close_batch(struct vqf_packed_dev *q, const bool obs)
{
    if (!q->batch_count)
        return;
    dev_add_used(q, q->batch_slot, q->batch_wrap, q->batch_ndesc, q->batch_last_id, q->batch_last_len, obs);
    q->batch_count = 0;
    q->batch_ndesc = 0;
}

RING_HOT int dev_push(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written, const bool obs)
{
    const uint16_t size = q->cfg.size;
    const uint16_t id = c->id, ndesc = c->ndesc;
    /* The caller's own mistakes: they do not break the queue. */
    if (id >= size || !q->id_busy[id] || ndesc == 0 || ndesc > q->inflight || written > c->in_len)
        return -VQF_ERR_INVAL;
    if (q->in_order && c->slot != q->next_used)
        return -VQF_ERR_INVAL; /* IN_ORDER devices use buffers in ring order (RSVD-18) */
    q->id_busy[id] = 0;
    q->inflight -= ndesc;
    if (q->in_order) {
        /* Skipped buffers count as fully written (2.8.8): a buffer written partially must
         * end its batch so the driver learns its exact length. */
        if (q->batch_count && (!q->batch_full || (uint32_t)q->batch_ndesc + ndesc > size))
            dev_close_batch(q, obs);
        if (!q->batch_count) {
            q->batch_slot = q->next_used;
            q->batch_wrap = q->used_wrap;
        }
        q->batch_count++;
        q->batch_ndesc = (uint16_t)(q->batch_ndesc + ndesc);
        q->batch_last_id = id;
        q->batch_last_len = written;
        q->batch_full = written == c->in_len;
    } else {
        dev_add_used(q, q->next_used, q->used_wrap, ndesc, id, written, obs);
    }
    /* The device skips the slots of the whole list (2.8.6, D-10). */
    advance(&q->next_used, &q->used_wrap, ndesc, size);
    ring_event(&q->dma, VQF_EV_DEV_PUSH, q->cfg.index, id, written, obs);
    return 0;
}

RING_COLD int dev_push_observed(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written)
{
    return dev_push(q, c, written, true);
}

RING_COLD int dev_push_plain(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written)
{
    return dev_push(q, c, written, false);
}

int vqf_packed_dev_push_slow(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? dev_push_observed(q, c, written) : dev_push_plain(q, c, written);
}

RING_HOT void dev_publish(struct vqf_packed_dev *q, const bool obs)
{
    dev_close_batch(q, obs);
    dev_flush(q, obs);
}

RING_COLD void dev_publish_observed(struct vqf_packed_dev *q)
{
    dev_publish(q, true);
}

RING_COLD void dev_publish_plain(struct vqf_packed_dev *q)
{
    dev_publish(q, false);
}

void vqf_packed_dev_publish_slow(struct vqf_packed_dev *q)
{
    if (!RING_LIVE(q))
        return;
    if (ring_observed(&q->dma))
        dev_publish_observed(q);
    else
        dev_publish_plain(q);
}

/* Used buffer notification decision from the Driver Event Suppression area (2.8.10, D-12). */
RING_HOT bool dev_need_notify(struct vqf_packed_dev *q, const bool obs)
{
    if (!q->unsignalled)
        return false; /* nothing published since the last decision */
    /* Used flags must be visible before we read the driver's wishes, or a driver that just
     * re-enabled notifications could miss this batch (2.8.21.3.1 mirrored for the device). */
    ring_barrier(&q->dma, VQF_BARRIER_MB, obs);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_PEVENT_FLAGS, 2, obs);
    uint16_t flags = ring_ld16(q->drv_event + VIRTQ_PEVENT_FLAGS) & PEVENT_FLAGS_MASK;
    uint16_t old_slot = q->signalled_used;
    bool old_wrap = q->signalled_wrap;
    uint32_t moved = q->unsignalled;
    q->signalled_used = q->published_used;
    q->signalled_wrap = q->published_wrap;
    q->unsignalled = 0;
    if (flags == RING_EVENT_FLAGS_DISABLE)
        return false;
    if (flags == RING_EVENT_FLAGS_DESC && q->event_idx) {
        ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_PEVENT_DESC, 2, obs);
        uint16_t ev = ring_ld16(q->drv_event + VIRTQ_PEVENT_DESC);
        return event_crossed(ev, old_slot, old_wrap, moved, q->cfg.size);
    }
    /* ENABLE, the reserved value 3, or DESC without EVENT_IDX: notify (never lose one). */
    return true;
}

RING_COLD bool dev_need_notify_observed(struct vqf_packed_dev *q)
{
    return dev_need_notify(q, true);
}

RING_COLD bool dev_need_notify_plain(struct vqf_packed_dev *q)
{
    return dev_need_notify(q, false);
}

bool vqf_packed_dev_need_notify_slow(struct vqf_packed_dev *q)
{
    if (!RING_LIVE(q))
        return false;
    return ring_observed(&q->dma) ? dev_need_notify_observed(q) : dev_need_notify_plain(q);
}

/* Available buffer notification suppression in the Device Event Suppression area (2.8.10). */
void vqf_packed_dev_set_kick_suppress(struct vqf_packed_dev *q, bool suppress)
{
    if (!q->ready || q->broken)
        return;
    uint16_t flags = RING_EVENT_FLAGS_ENABLE;
    q->kick_desc = !suppress && q->event_idx;
    if (suppress) {
        flags = RING_EVENT_FLAGS_DISABLE;
    } else if (q->kick_desc) {
        /* Kick me when the descriptor at next_avail is made available (D-12). */
        flags = RING_EVENT_FLAGS_DESC;
        dev_write_kick_event(q, true);
    }
    ring_st16(q->dev_event + VIRTQ_PEVENT_FLAGS, flags);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.device + VIRTQ_PEVENT_FLAGS, 2, true);
    /* After re-enabling the caller re-checks pending(): order the store before that load. */
    if (!suppress)
        vqf_mb(&q->dma);
}

bool vqf_packed_dev_pending(struct vqf_packed_dev *q)
{
    if (!q->ready || q->broken)
        return false;
    return vqf_pdesc_is_avail(dev_read_flags(q, q->next_avail, true), q->avail_wrap);
}

/* ---------------------------------------------------------------------------------------- */
/* Driver half                                                                               */

static inline uint8_t *rslot(const struct vqf_packed_drv *q, uint16_t slot)
{
    return q->desc + (uint32_t)slot * PDESC_SIZE;
}
static inline uint64_t rslot_gpa(const struct vqf_packed_drv *q, uint16_t slot)
{
    return q->cfg.desc + (uint64_t)slot * PDESC_SIZE;
}

RING_HOT uint16_t drv_read_flags(const struct vqf_packed_drv *q, uint16_t slot, const bool obs)
{
    ring_note(&q->dma, VQF_ACC_READ, rslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2, obs);
    return ring_ld16(rslot(q, slot) + VIRTQ_PDESC_FLAGS);
}

RING_HOT void drv_write_flags(const struct vqf_packed_drv *q, uint16_t slot, uint16_t flags, const bool obs)
{
    ring_st16(rslot(q, slot) + VIRTQ_PDESC_FLAGS, flags);
    ring_note(&q->dma, VQF_ACC_WRITE, rslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2, obs);
}

RING_HOT void drv_write_body(const struct vqf_packed_drv *q, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id,
                             const bool obs)
{
    uint8_t *d = rslot(q, slot);
    ring_wr64(d + VIRTQ_PDESC_ADDR, addr);
    ring_wr32(d + VIRTQ_PDESC_LEN, len);
    ring_wr16(d + VIRTQ_PDESC_ID, id);
    ring_note(&q->dma, VQF_ACC_WRITE, rslot_gpa(q, slot), PDESC_BODY, obs);
}

static void drv_write_event(const struct vqf_packed_drv *q, unsigned off, uint16_t v)
{
    ring_st16(q->drv_event + off, v);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + off, 2, true);
}

/* Out of line: errors are rare and the hot callers keep a small frame. */
RING_COLD int drv_fail(struct vqf_packed_drv *q, int err)
{
    q->broken = true;
    ring_event(&q->dma, VQF_EV_DRV_ERROR, q->cfg.index, (uint32_t)err, 0, true);
    return -err;
}

/* Zero a ring part through guest memory (2.8.13: the descriptor ring starts zeroed). */
static void drv_zero(const struct vqf_packed_drv *q, uint8_t *host, uint64_t gpa, uint64_t len)
{
    vqf_mem_mark_dirty(q->dma.mem, gpa, len);
    memset(host, 0, (size_t)len);
    ring_note(&q->dma, VQF_ACC_WRITE, gpa, len, true);
}

int vqf_packed_drv_init(struct vqf_packed_drv *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg)
{
    q->ready = false;
    int err = cfg_check(cfg);
    if (err)
        return err;
    uint8_t *desc, *drv_event, *dev_event;
    err = xlate_parts(dma->mem, cfg, &desc, &drv_event, &dev_event);
    if (err)
        return err;
    uint8_t *ind_host = NULL;
    uint32_t ind_slice = 0;
    if (vqf_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC) && cfg->ind_pool && cfg->ind_pool_len) {
        /* One table per buffer id; 16-byte multiples keep every table aligned. */
        ind_slice = (cfg->ind_pool_len / cfg->size) & ~(PDESC_SIZE - 1u);
        if (ind_slice) {
            ind_host = vqf_mem_xlate(dma->mem, cfg->ind_pool, (uint64_t)ind_slice * cfg->size);
            if (!ind_host)
                return -VQF_ERR_ADDR;
        }
    }
    if (cfg->size > q->cap) {
        struct vqf_packed_drv_slot *ids = malloc((size_t)cfg->size * sizeof(*ids));
        if (!ids)
            return -VQF_ERR_NOSPACE;
        free(q->ids);
        q->ids = ids;
        q->cap = cfg->size;
    }
    q->dma = *dma;
    q->cfg = *cfg;
    q->desc = desc;
    q->drv_event = drv_event;
    q->dev_event = dev_event;
    q->ind_host = ind_host;
    q->ind_slice = ind_slice;
    drv_zero(q, desc, cfg->desc, (uint64_t)cfg->size * PDESC_SIZE);
    drv_zero(q, drv_event, cfg->driver, PEVENT_SIZE);
    drv_zero(q, dev_event, cfg->device, PEVENT_SIZE);
    if (ind_host && ind_slice)
        vqf_mem_mark_dirty(dma->mem, cfg->ind_pool, (uint64_t)ind_slice * cfg->size);
    for (uint32_t i = 0; i < cfg->size; i++) {
        q->ids[i].next = (uint16_t)(i + 1 < cfg->size ? i + 1 : NO_ID);
        q->ids[i].state = SLOT_STATE_FREE;
    }
    q->free_id = 0;
    q->free_tail = (uint16_t)(cfg->size - 1);
    q->order_head = q->order_tail = NO_ID;
    q->num_free = cfg->size;
    q->outstanding = 0;
    /* Both wrap counters start at 1 (2.8.1, D-08). */
    q->next_avail = q->published_avail = q->last_used = 0;
    q->avail_wrap = q->published_wrap = q->used_wrap = true;
    q->unkicked = 0;
    q->in_batch = false;
    q->batch_end_id = NO_ID;
    q->batch_last_len = 0;
    q->event_flags_shadow = RING_EVENT_FLAGS_ENABLE; /* the zeroed area reads as ENABLE */
    q->event_idx = vqf_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
    q->indirect = ind_host != NULL; /* negotiated and a pool to put tables in */
    q->in_order = vqf_has_feature(cfg->features, VIRTIO_F_IN_ORDER);
    q->fast = !q->in_order && ring_even((uintptr_t)q->desc, (uintptr_t)q->drv_event, (uintptr_t)q->dev_event);
    q->gate_pad = 0;
    q->broken = false;
    q->ready = true;
    return 0;
}

void vqf_packed_drv_free(struct vqf_packed_drv *q)
{
    free(q->ids);
    q->ids = NULL;
    q->cap = 0;
    q->ready = false;
}

RING_HOT int drv_add(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin, uint32_t token,
                     unsigned flags, const bool obs)
{
    const uint16_t size = q->cfg.size;
    if (!sg || nout > size || nin > size || nout + nin == 0)
        return -VQF_ERR_INVAL; /* also keeps nout + nin from wrapping */
    const unsigned n = nout + nin;
    uint64_t out_len = 0, in_cap = 0;
    if (n == 1) {
        /* One element cannot break the length limits below. */
        out_len = nout ? sg[0].len : 0;
        in_cap = nin ? sg[0].len : 0;
    } else {
        for (unsigned i = 0; i < n; i++) {
            if (i < nout)
                out_len += sg[i].len;
            else
                in_cap += sg[i].len;
        }
        /* What the device half accepts (see pop): 32-bit lengths, 2^32 bytes in all. */
        if (out_len > UINT32_MAX || in_cap > UINT32_MAX || out_len + in_cap > ((uint64_t)1 << 32))
            return -VQF_ERR_INVAL;
    }
    const bool ind = (flags & VQF_ADD_INDIRECT) && q->indirect && n <= size &&
                     (uint64_t)n * PDESC_SIZE <= q->ind_slice;
    const unsigned ndesc = ind ? 1u : n;
    if (ndesc > size)
        return -VQF_ERR_INVAL; /* PACK-SG-02: never longer than the queue */
    if (ndesc > q->num_free)
        return -VQF_ERR_NOSPACE; /* PACK-SG-04/05: the whole list must fit first */

    /* A free slot implies a free id: ids outstanding <= slots outstanding. */
    uint16_t id = q->free_id;
    /* The tail of the free list links to NO_ID (set at init and at every reclaim), so taking
     * the last free id empties the list. */
    q->free_id = q->ids[id].next;

    const uint16_t head = q->next_avail;
    const bool head_wrap = q->avail_wrap;
    uint16_t head_flags;
    if (n == 1 && !ind) {
        /* The common list: one descriptor, carrying the Buffer ID (2.8.6). */
        drv_write_body(q, head, sg[0].addr, sg[0].len, id, obs);
        head_flags = (uint16_t)((nin ? VIRTQ_DESC_F_WRITE : 0) | vqf_pdesc_avail_bits(head_wrap));
    } else if (ind) {
        /* Indirect table in this id's slice of the pool (2.8.7): only WRITE is set in its
         * entries (PACK-IND-02) and the reserved Buffer ID is zero. */
        uint64_t tgpa = q->cfg.ind_pool + (uint64_t)id * q->ind_slice;
        uint8_t *t = q->ind_host + (size_t)id * q->ind_slice;
        for (unsigned i = 0; i < n; i++, t += PDESC_SIZE) {
            ring_wr64(t + VIRTQ_PDESC_ADDR, sg[i].addr);
            ring_wr32(t + VIRTQ_PDESC_LEN, sg[i].len);
            ring_wr16(t + VIRTQ_PDESC_ID, 0);
            ring_wr16(t + VIRTQ_PDESC_FLAGS, i >= nout ? VIRTQ_DESC_F_WRITE : 0);
        }
        ring_note(&q->dma, VQF_ACC_WRITE, tgpa, (uint64_t)n * PDESC_SIZE, obs);
        drv_write_body(q, head, tgpa, n * PDESC_SIZE, id, obs);
        head_flags = VIRTQ_DESC_F_INDIRECT | vqf_pdesc_avail_bits(head_wrap);
    } else {
        /* The Buffer ID goes in the last descriptor (2.8.6, D-10). The others get an id no
         * queue can have, so a device reading the id from the wrong element fails loudly. */
        uint16_t slot = head;
        bool w = head_wrap;
        head_flags = 0;
        for (unsigned i = 0; i < n; i++) {
            uint16_t f = (uint16_t)((i >= nout ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
                                    vqf_pdesc_avail_bits(w));
            drv_write_body(q, slot, sg[i].addr, sg[i].len, i + 1 == n ? id : NO_ID, obs);
            /* The tail goes out first, the head last (PACK-SG-06, 2.8.21.1). */
            if (i == 0)
                head_flags = f;
            else
                drv_write_flags(q, slot, f, obs);
            advance(&slot, &w, 1, size);
        }
    }
    /* Descriptor contents before the flags that expose them (PACK-PUB-01, 2.8.21.1.1). */
    ring_barrier(&q->dma, VQF_BARRIER_WMB, obs);
    drv_write_flags(q, head, head_flags, obs);

    struct vqf_packed_drv_slot *s = &q->ids[id];
    s->token = token;
    s->in_cap = (uint32_t)in_cap;
    s->ndesc = (uint16_t)ndesc;
    s->state = SLOT_STATE_OUT;
    if (q->in_order) {
        s->next = NO_ID;
        if (q->order_tail == NO_ID)
            q->order_head = id;
        else
            q->ids[q->order_tail].next = id;
        q->order_tail = id;
    }
    advance(&q->next_avail, &q->avail_wrap, ndesc, size);
    q->num_free = (uint16_t)(q->num_free - ndesc);
    q->outstanding++;
    q->unkicked += ndesc;
    ring_event(&q->dma, VQF_EV_DRV_ADD, q->cfg.index, id, ndesc, obs);
    return id;
}

RING_COLD int drv_add_observed(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                               uint32_t token, unsigned flags)
{
    return drv_add(q, sg, nout, nin, token, flags, true);
}

RING_COLD int drv_add_plain(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                            uint32_t token, unsigned flags)
{
    return drv_add(q, sg, nout, nin, token, flags, false);
}

int vqf_packed_drv_fail(struct vqf_packed_drv *q, int err)
{
    return drv_fail(q, err);
}

int vqf_packed_drv_add_slow(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                            uint32_t token, unsigned flags)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? drv_add_observed(q, sg, nout, nin, token, flags)
                                  : drv_add_plain(q, sg, nout, nin, token, flags);
}

/* Available buffer notification decision from the Device Event Suppression area (2.8.10). */
RING_HOT bool drv_kick_prepare(struct vqf_packed_drv *q, const bool obs)
{
    if (!q->unkicked)
        return false;
    ring_event(&q->dma, VQF_EV_DRV_PUBLISH, q->cfg.index, (uint32_t)q->next_avail | ((uint32_t)q->avail_wrap << 15), 0,
          obs);
    /* The flags writes must be visible before we read the device's wishes (PACK-PUB-02). */
    ring_barrier(&q->dma, VQF_BARRIER_MB, obs);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_PEVENT_FLAGS, 2, obs);
    uint16_t flags = ring_ld16(q->dev_event + VIRTQ_PEVENT_FLAGS) & PEVENT_FLAGS_MASK;
    uint16_t old_slot = q->published_avail;
    bool old_wrap = q->published_wrap;
    uint32_t moved = q->unkicked;
    q->published_avail = q->next_avail;
    q->published_wrap = q->avail_wrap;
    q->unkicked = 0;
    if (flags == RING_EVENT_FLAGS_DISABLE)
        return false;
    if (flags == RING_EVENT_FLAGS_DESC && q->event_idx) {
        ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_PEVENT_DESC, 2, obs);
        uint16_t ev = ring_ld16(q->dev_event + VIRTQ_PEVENT_DESC);
        return event_crossed(ev, old_slot, old_wrap, moved, q->cfg.size);
    }
    return true; /* ENABLE, reserved 3, DESC without EVENT_IDX: kick rather than lose one */
}

RING_COLD bool drv_kick_prepare_observed(struct vqf_packed_drv *q)
{
    return drv_kick_prepare(q, true);
}

RING_COLD bool drv_kick_prepare_plain(struct vqf_packed_drv *q)
{
    return drv_kick_prepare(q, false);
}

bool vqf_packed_drv_kick_prepare_slow(struct vqf_packed_drv *q)
{
    if (!RING_LIVE(q))
        return false;
    return ring_observed(&q->dma) ? drv_kick_prepare_observed(q) : drv_kick_prepare_plain(q);
}

uint32_t vqf_packed_drv_notify_value(const struct vqf_packed_drv *q)
{
    /* PACK-DSC-07: next_off / next_wrap name the next slot not yet made available (2.9). */
    if (vqf_has_feature(q->cfg.features, VIRTIO_F_NOTIFICATION_DATA))
        return vqf_notification_data(q->cfg.index, q->next_avail, q->avail_wrap);
    return q->cfg.index;
}

/* Hand buffer id back to the caller and release its slots. */
RING_HOT void drv_reclaim(struct vqf_packed_drv *q, uint16_t id, uint32_t len, uint32_t *token, uint32_t *len_out,
                          const bool obs)
{
    struct vqf_packed_drv_slot *s = &q->ids[id];
    if (q->in_order) /* reclaims always take the oldest (see get_used) */
        q->order_head = s->next;
    if (q->order_head == NO_ID)
        q->order_tail = NO_ID;
    *token = s->token;
    *len_out = len;
    /* Skip the slots of the whole list (2.8.6) or batch member (2.8.8). */
    advance(&q->last_used, &q->used_wrap, s->ndesc, q->cfg.size);
    q->num_free = (uint16_t)(q->num_free + s->ndesc);
    q->outstanding--;
    s->state = SLOT_STATE_FREE;
    s->next = NO_ID;
    if (q->free_id == NO_ID)
        q->free_id = id;
    else
        q->ids[q->free_tail].next = id;
    q->free_tail = id;
    ring_event(&q->dma, VQF_EV_DRV_RECLAIM, q->cfg.index, id, len, obs);
}

RING_HOT int drv_get_used(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len, const bool obs)
{
    if (q->in_batch) {
        /* IN_ORDER batch: the buffers before the named one were used completely (2.8.8). */
        uint16_t id = q->order_head;
        bool last = id == q->batch_end_id;
        if (last)
            q->in_batch = false;
        drv_reclaim(q, id, last ? q->batch_last_len : q->ids[id].in_cap, token, len, obs);
        return 1;
    }
    const bool w = q->used_wrap;
    const uint16_t slot = q->last_used;
    uint16_t flags = drv_read_flags(q, slot, obs);
    if (!q->outstanding) {
        /* Nothing is in flight, so nothing can be used: a used descriptor here is the
         * device running ahead of what was made available (D-02). */
        if (vqf_pdesc_is_used(flags, w))
            return drv_fail(q, VQF_ERR_USED_IDX);
        return 0;
    }
    if (vqf_pdesc_is_avail(flags, w))
        return 0;
    /* With buffers in flight this slot holds our own available descriptor of lap w or the
     * device's used one; any other AVAIL/USED pair is a device wrap-counter bug (D-08). */
    if (!vqf_pdesc_is_used(flags, w))
        return drv_fail(q, VQF_ERR_USED_FLAGS);
    /* id and len only after the flags (2.8.22 example: read_memory_barrier). */
    ring_barrier(&q->dma, VQF_BARRIER_RMB, obs);
    const uint8_t *d = rslot(q, slot);
    ring_note(&q->dma, VQF_ACC_READ, rslot_gpa(q, slot) + VIRTQ_PDESC_LEN, 6, obs);
    uint32_t ulen = ring_rd32(d + VIRTQ_PDESC_LEN);
    uint16_t id = ring_rd16(d + VIRTQ_PDESC_ID);
    if (id >= q->cfg.size)
        return drv_fail(q, VQF_ERR_USED_ID); /* D-03 */
    if (q->ids[id].state != SLOT_STATE_OUT) {
        /* IN_ORDER: the id must name a buffer from the oldest outstanding one on; any other
         * is out of availability order (RSVD-18, D-07), as in split.c. Otherwise it is
         * simply not outstanding (D-03). */
        return drv_fail(q, q->in_order ? VQF_ERR_USED_ORDER : VQF_ERR_USED_ID);
    }
    /* len is meaningful only with WRITE in the used descriptor (2.8.4, D-04). */
    if (!(flags & VIRTQ_DESC_F_WRITE))
        ulen = 0;
    if (ulen > q->ids[id].in_cap)
        return drv_fail(q, VQF_ERR_USED_LEN);
    if (q->in_order && id != q->order_head) {
        /* A batch from the oldest outstanding buffer up to id (2.8.8, D-07). */
        q->in_batch = true;
        q->batch_end_id = id;
        q->batch_last_len = ulen;
        uint16_t first = q->order_head;
        drv_reclaim(q, first, q->ids[first].in_cap, token, len, obs);
        return 1;
    }
    drv_reclaim(q, id, ulen, token, len, obs);
    return 1;
}

RING_COLD int drv_get_used_observed(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len)
{
    return drv_get_used(q, token, len, true);
}

RING_COLD int drv_get_used_plain(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len)
{
    return drv_get_used(q, token, len, false);
}

int vqf_packed_drv_get_used_slow(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? drv_get_used_observed(q, token, len) : drv_get_used_plain(q, token, len);
}

/* Used buffer notification suppression through the Driver Event Suppression area (2.8.10). */
/* The flags are written every time, not only on change: a harness op may have overwritten
 * the area behind our back, and the store is cheap. */
void vqf_packed_drv_disable_cb(struct vqf_packed_drv *q)
{
    if (!q->ready || q->broken)
        return;
    q->event_flags_shadow = RING_EVENT_FLAGS_DISABLE;
    drv_write_event(q, VIRTQ_PEVENT_FLAGS, RING_EVENT_FLAGS_DISABLE);
}

bool vqf_packed_drv_enable_cb(struct vqf_packed_drv *q)
{
    if (!q->ready || q->broken)
        return true;
    uint16_t want = RING_EVENT_FLAGS_ENABLE;
    if (q->event_idx) {
        /* Notify me when the descriptor at last_used is used (D-12); the offset before the
         * flags that make the device look at it. */
        want = RING_EVENT_FLAGS_DESC;
        drv_write_event(q, VIRTQ_PEVENT_DESC, (uint16_t)(q->last_used | ((unsigned)q->used_wrap << 15)));
        vqf_wmb(&q->dma);
    }
    q->event_flags_shadow = want;
    drv_write_event(q, VIRTQ_PEVENT_FLAGS, want);
    /* Re-check after enabling, or a buffer used meanwhile is never signalled (2.8.22). */
    vqf_mb(&q->dma);
    return !vqf_packed_drv_has_used(q);
}

bool vqf_packed_drv_has_used(struct vqf_packed_drv *q)
{
    if (!q->ready || q->broken)
        return false;
    if (q->in_batch)
        return true;
    return q->outstanding && vqf_pdesc_is_used(drv_read_flags(q, q->last_used, true), q->used_wrap);
}
