/* Packed virtqueue, spec 2.8: see packed.h.
 *
 * Layout of one descriptor slot (2.8.13): le64 addr @0, le32 len @8, le16 id @12, le16 flags @14.
 * Both halves keep positions as (slot, wrap) pairs. For the event-suppression arithmetic a pair
 * becomes a "lap position" in [0, 2 * size): laps with wrap counter 1 (the first lap, 2.8.1)
 * map to slot, laps with wrap counter 0 to slot + size. Distances are then taken modulo
 * 2 * size, which works for any queue size, not only powers of two.
 *
 * Every read or write of a ring part goes through the host pointer translated at init and is
 * logged with vqf_mem_note so that the oracle sees it. */
#include "emulator/ring/packed.h"

#include <stdlib.h>
#include <string.h>

#define PDESC_SIZE 16u                 /* sizeof(struct pvirtq_desc), 2.8.13 */
#define PDESC_BODY 14u                 /* addr + len + id: everything before flags */
#define PEVENT_SIZE 4u                 /* sizeof(struct pvirtq_event_suppress), 2.8.14 */
#define PEVENT_OFF_MASK 0x7fffu        /* desc_event_off : 15 (2.8.14) */
#define PEVENT_FLAGS_MASK 0x3u         /* desc_event_flags : 2 (2.8.14) */
#define NO_ID 0xffffu                  /* list terminator: ids are < 32768 */
#define SLOT_STATE_FREE 0u             /* on the free list */
#define SLOT_STATE_OUT 1u              /* outstanding at the device */

/* Per buffer id driver state (the "sgs" array of the 2.8.21.3 example, plus what the driver
 * needs to validate the device: writable capacity for D-04, state for D-03). */
struct vqf_packed_drv_slot {
    uint32_t token;
    uint32_t in_cap;  /* device-writable bytes of the buffer */
    uint16_t ndesc;   /* ring slots the buffer occupies (1 for an indirect table) */
    uint16_t next;    /* free list link while free, avail-order link while outstanding */
    uint8_t state;    /* SLOT_STATE_* */
};

/* ---------------------------------------------------------------------------------------- */
/* Shared helpers                                                                            */

/* Flags words are polled by the other side (2.8.2): access them as one 16-bit unit so a
 * threaded run never sees a torn value. Rings are 16-aligned (PACK-LAY-01, checked at init)
 * but a custom memory layout may still give an odd host address, hence the fallback. */
static inline uint16_t flags_load(const uint8_t *p)
{
    if (((uintptr_t)p & 1u) == 0) {
        uint16_t v = __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap16(v);
#endif
        return v;
    }
    return vqf_le16(p);
}

static inline void flags_store(uint8_t *p, uint16_t v)
{
    if (((uintptr_t)p & 1u) == 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap16(v);
#endif
        __atomic_store_n((uint16_t *)(void *)p, v, __ATOMIC_RELAXED);
        return;
    }
    vqf_put_le16(p, v);
}

static inline void note(const struct vqf_dma *d, unsigned kind, uint64_t gpa, uint64_t len)
{
    vqf_mem_note(d->mem, d->side, kind, gpa, len);
}

static inline void event(const struct vqf_dma *d, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    vqf_mem_event(d->mem, d->side, ev, a, b, c);
}

/* Available for wrap counter w (2.8.1): AVAIL matches w and USED does not. */
static inline bool desc_is_avail(uint16_t flags, bool w)
{
    return !!(flags & VIRTQ_DESC_F_AVAIL) == w && !!(flags & VIRTQ_DESC_F_USED) != w;
}

/* Used for wrap counter w (2.8.1): AVAIL and USED both match w. */
static inline bool desc_is_used(uint16_t flags, bool w)
{
    return !!(flags & VIRTQ_DESC_F_AVAIL) == w && !!(flags & VIRTQ_DESC_F_USED) == w;
}

/* The AVAIL/USED pair a driver writes to make a descriptor available in lap w (2.8.1). */
static inline uint16_t avail_bits(bool w) { return w ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED; }

/* The AVAIL/USED pair a device writes to mark a descriptor used in lap w (2.8.1). */
static inline uint16_t used_bits(bool w) { return w ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0; }

/* Advance (slot, wrap) by n slots; the wrap counter toggles past the last slot (2.8.1). */
static inline void advance(uint16_t *slot, bool *wrap, uint32_t n, uint16_t size)
{
    uint32_t s = (uint32_t)*slot + n;
    while (s >= size) {
        s -= size;
        *wrap = !*wrap;
    }
    *slot = (uint16_t)s;
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
    return (e + laps - from) % laps < moved;
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

static uint16_t dev_read_flags(const struct vqf_packed_dev *q, uint16_t slot)
{
    note(&q->dma, VQF_ACC_READ, dslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2);
    return flags_load(dslot(q, slot) + VIRTQ_PDESC_FLAGS);
}

static int dev_fail(struct vqf_packed_dev *q, int err)
{
    q->broken = true;
    event(&q->dma, VQF_EV_DEV_ERROR, q->cfg.index, (uint32_t)err, 0);
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
    q->inflight = q->unsignalled = 0;
    q->kick_desc = false; /* the zeroed area reads as ENABLE */
    q->event_idx = vqf_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
    q->indirect = vqf_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC);
    q->in_order = vqf_has_feature(cfg->features, VIRTIO_F_IN_ORDER);
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
static int dev_add_seg(const struct vqf_packed_dev *q, struct walk *w, uint64_t addr, uint32_t len, bool write)
{
    /* Never more elements than the queue size, table entries included (PACK-SG-02,
     * PACK-IND-03). */
    if (++w->nseg > q->cfg.size)
        return VQF_ERR_CHAIN_LOOP;
    if (!write && w->nseg - 1 > w->nout)
        return VQF_ERR_WRITE_ORDER; /* PACK-SG-03: writable elements come last */
    if (!vqf_mem_xlate(q->dma.mem, addr, len))
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
static int dev_walk_indirect(const struct vqf_packed_dev *q, struct walk *w, uint64_t addr, uint32_t len)
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
        note(&q->dma, VQF_ACC_READ, addr + (uint64_t)i * PDESC_SIZE, PDESC_SIZE);
        uint16_t f = vqf_le16(t + VIRTQ_PDESC_FLAGS);
        if (f & VIRTQ_DESC_F_INDIRECT)
            return VQF_ERR_IND_NESTED;
        int err = dev_add_seg(q, w, vqf_le64(t + VIRTQ_PDESC_ADDR), vqf_le32(t + VIRTQ_PDESC_LEN),
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
static void dev_write_kick_event(struct vqf_packed_dev *q)
{
    uint16_t ev = (uint16_t)(q->next_avail | ((unsigned)q->avail_wrap << 15));
    flags_store(q->dev_event + VIRTQ_PEVENT_DESC, ev);
    note(&q->dma, VQF_ACC_WRITE, q->cfg.device + VIRTQ_PEVENT_DESC, 2);
    vqf_mb(&q->dma);
}

int vqf_packed_dev_pop(struct vqf_packed_dev *q, struct vqf_chain *c)
{
    if (!q->ready || q->broken)
        return -VQF_ERR_NOT_READY;
    const uint16_t size = q->cfg.size;
    uint16_t slot = q->next_avail;
    bool wrap = q->avail_wrap;
    uint16_t flags = dev_read_flags(q, slot);
    if (!desc_is_avail(flags, wrap))
        return 0;
    /* Read addr/len/id only after seeing the flags (2.8.21.1, PACK-DSC-03). */
    vqf_rmb(&q->dma);

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
            flags = dev_read_flags(q, slot);
            if (!desc_is_avail(flags, wrap))
                return dev_fail(q, VQF_ERR_NEXT_RANGE);
        }
        const uint8_t *d = dslot(q, slot);
        note(&q->dma, VQF_ACC_READ, dslot_gpa(q, slot), PDESC_BODY);
        uint64_t addr = vqf_le64(d + VIRTQ_PDESC_ADDR);
        uint32_t len = vqf_le32(d + VIRTQ_PDESC_LEN);
        id = vqf_le16(d + VIRTQ_PDESC_ID); /* the last one counts (2.8.6, D-10) */
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
        dev_write_kick_event(q);
    event(&q->dma, VQF_EV_DEV_POP, q->cfg.index, id, ndesc);
    return 1;
}

/* Write addr-less body of a used descriptor (2.8.4: addr unused, len = bytes written, id). */
static void dev_write_used_body(struct vqf_packed_dev *q, uint16_t slot, uint16_t id, uint32_t len)
{
    uint8_t *d = dslot(q, slot);
    vqf_put_le32(d + VIRTQ_PDESC_LEN, len);
    vqf_put_le16(d + VIRTQ_PDESC_ID, id);
    note(&q->dma, VQF_ACC_WRITE, dslot_gpa(q, slot) + VIRTQ_PDESC_LEN, 6);
}

/* Make every written used descriptor visible: barrier, then the flags. When several go out
 * together, the first one's flags are written last (2.8.9, D-13): the driver polls only the
 * first (2.8.2), so it never sees a partial set. */
static void dev_flush(struct vqf_packed_dev *q)
{
    if (!q->pending)
        return;
    vqf_wmb(&q->dma);
    for (unsigned i = q->pending; i-- > 0;) {
        if (i == 0 && q->pending > 1)
            vqf_wmb(&q->dma);
        uint32_t p = q->pend[i];
        uint16_t slot = (uint16_t)(p & 0x7fffu);
        uint16_t f = used_bits((p >> 15) & 1u) | ((p >> 16) & 1u ? VIRTQ_DESC_F_WRITE : 0);
        flags_store(dslot(q, slot) + VIRTQ_PDESC_FLAGS, f);
        note(&q->dma, VQF_ACC_WRITE, dslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2);
    }
    uint32_t from = lap_pos(q->published_used, q->published_wrap, q->cfg.size);
    uint32_t to = lap_pos(q->written_used, q->written_wrap, q->cfg.size);
    q->unsignalled += (to + 2u * q->cfg.size - from) % (2u * q->cfg.size);
    q->published_used = q->written_used;
    q->published_wrap = q->written_wrap;
    q->pending = 0;
    event(&q->dma, VQF_EV_DEV_PUBLISH, q->cfg.index,
          (uint32_t)q->published_used | ((uint32_t)q->published_wrap << 15), 0);
}

/* Record one used descriptor at (slot, wrap) covering ndesc slots; flags come at flush. */
static void dev_add_used(struct vqf_packed_dev *q, uint16_t slot, bool wrap, uint16_t ndesc, uint16_t id, uint32_t len)
{
    /* pend[] holds at most `size` entries; a peer that makes us complete more than that
     * without a publish in between only costs an early publish. */
    if (q->pending == q->cfg.size)
        dev_flush(q);
    dev_write_used_body(q, slot, id, len);
    q->pend[q->pending++] = slot | ((uint32_t)wrap << 15) | ((len ? 1u : 0u) << 16);
    q->written_used = slot;
    q->written_wrap = wrap;
    advance(&q->written_used, &q->written_wrap, ndesc, q->cfg.size);
}

/* IN_ORDER: one used descriptor for the whole batch, with the id of its last buffer, at the
 * slot of its first (2.8.8, D-07). */
static void dev_close_batch(struct vqf_packed_dev *q)
{
    if (!q->batch_count)
        return;
    dev_add_used(q, q->batch_slot, q->batch_wrap, q->batch_ndesc, q->batch_last_id, q->batch_last_len);
    q->batch_count = 0;
    q->batch_ndesc = 0;
}

int vqf_packed_dev_push(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written)
{
    if (!q->ready || q->broken)
        return -VQF_ERR_NOT_READY;
    const uint16_t size = q->cfg.size;
    /* The caller's own mistakes: they do not break the queue. */
    if (c->id >= size || !q->id_busy[c->id] || c->ndesc == 0 || c->ndesc > q->inflight || written > c->in_len)
        return -VQF_ERR_INVAL;
    if (q->in_order && c->slot != q->next_used)
        return -VQF_ERR_INVAL; /* IN_ORDER devices use buffers in ring order (RSVD-18) */
    q->id_busy[c->id] = 0;
    q->inflight -= c->ndesc;
    if (q->in_order) {
        /* Skipped buffers count as fully written (2.8.8): a buffer written partially must
         * end its batch so the driver learns its exact length. */
        if (q->batch_count && (!q->batch_full || (uint32_t)q->batch_ndesc + c->ndesc > size))
            dev_close_batch(q);
        if (!q->batch_count) {
            q->batch_slot = q->next_used;
            q->batch_wrap = q->used_wrap;
        }
        q->batch_count++;
        q->batch_ndesc = (uint16_t)(q->batch_ndesc + c->ndesc);
        q->batch_last_id = c->id;
        q->batch_last_len = written;
        q->batch_full = written == c->in_len;
    } else {
        dev_add_used(q, q->next_used, q->used_wrap, c->ndesc, c->id, written);
    }
    /* The device skips the slots of the whole list (2.8.6, D-10). */
    advance(&q->next_used, &q->used_wrap, c->ndesc, size);
    event(&q->dma, VQF_EV_DEV_PUSH, q->cfg.index, c->id, written);
    return 0;
}

void vqf_packed_dev_publish(struct vqf_packed_dev *q)
{
    if (!q->ready || q->broken)
        return;
    dev_close_batch(q);
    dev_flush(q);
}

/* Used buffer notification decision from the Driver Event Suppression area (2.8.10, D-12). */
bool vqf_packed_dev_need_notify(struct vqf_packed_dev *q)
{
    if (!q->ready || q->broken || !q->unsignalled)
        return false; /* nothing published since the last decision */
    /* Used flags must be visible before we read the driver's wishes, or a driver that just
     * re-enabled notifications could miss this batch (2.8.21.3.1 mirrored for the device). */
    vqf_mb(&q->dma);
    note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_PEVENT_FLAGS, 2);
    uint16_t flags = flags_load(q->drv_event + VIRTQ_PEVENT_FLAGS) & PEVENT_FLAGS_MASK;
    uint16_t old_slot = q->signalled_used;
    bool old_wrap = q->signalled_wrap;
    uint32_t moved = q->unsignalled;
    q->signalled_used = q->published_used;
    q->signalled_wrap = q->published_wrap;
    q->unsignalled = 0;
    if (flags == RING_EVENT_FLAGS_DISABLE)
        return false;
    if (flags == RING_EVENT_FLAGS_DESC && q->event_idx) {
        note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_PEVENT_DESC, 2);
        uint16_t ev = flags_load(q->drv_event + VIRTQ_PEVENT_DESC);
        return event_crossed(ev, old_slot, old_wrap, moved, q->cfg.size);
    }
    /* ENABLE, the reserved value 3, or DESC without EVENT_IDX: notify (never lose one). */
    return true;
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
        dev_write_kick_event(q);
    }
    flags_store(q->dev_event + VIRTQ_PEVENT_FLAGS, flags);
    note(&q->dma, VQF_ACC_WRITE, q->cfg.device + VIRTQ_PEVENT_FLAGS, 2);
    /* After re-enabling the caller re-checks pending(): order the store before that load. */
    if (!suppress)
        vqf_mb(&q->dma);
}

bool vqf_packed_dev_pending(struct vqf_packed_dev *q)
{
    if (!q->ready || q->broken)
        return false;
    return desc_is_avail(dev_read_flags(q, q->next_avail), q->avail_wrap);
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

static uint16_t drv_read_flags(const struct vqf_packed_drv *q, uint16_t slot)
{
    note(&q->dma, VQF_ACC_READ, rslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2);
    return flags_load(rslot(q, slot) + VIRTQ_PDESC_FLAGS);
}

static void drv_write_flags(const struct vqf_packed_drv *q, uint16_t slot, uint16_t flags)
{
    flags_store(rslot(q, slot) + VIRTQ_PDESC_FLAGS, flags);
    note(&q->dma, VQF_ACC_WRITE, rslot_gpa(q, slot) + VIRTQ_PDESC_FLAGS, 2);
}

static void drv_write_body(const struct vqf_packed_drv *q, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id)
{
    uint8_t *d = rslot(q, slot);
    vqf_put_le64(d + VIRTQ_PDESC_ADDR, addr);
    vqf_put_le32(d + VIRTQ_PDESC_LEN, len);
    vqf_put_le16(d + VIRTQ_PDESC_ID, id);
    note(&q->dma, VQF_ACC_WRITE, rslot_gpa(q, slot), PDESC_BODY);
}

static void drv_write_event(const struct vqf_packed_drv *q, unsigned off, uint16_t v)
{
    flags_store(q->drv_event + off, v);
    note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + off, 2);
}

static int drv_fail(struct vqf_packed_drv *q, int err)
{
    q->broken = true;
    event(&q->dma, VQF_EV_DRV_ERROR, q->cfg.index, (uint32_t)err, 0);
    return -err;
}

/* Zero a ring part through guest memory (2.8.13: the descriptor ring starts zeroed). */
static void drv_zero(const struct vqf_packed_drv *q, uint8_t *host, uint64_t gpa, uint64_t len)
{
    vqf_mem_mark_dirty(q->dma.mem, gpa, len);
    memset(host, 0, (size_t)len);
    note(&q->dma, VQF_ACC_WRITE, gpa, len);
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

int vqf_packed_drv_add(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                       uint32_t token, unsigned flags)
{
    if (!q->ready || q->broken)
        return -VQF_ERR_NOT_READY;
    const uint16_t size = q->cfg.size;
    if (!sg || nout > size || nin > size || nout + nin == 0)
        return -VQF_ERR_INVAL; /* also keeps nout + nin from wrapping */
    const unsigned n = nout + nin;
    uint64_t out_len = 0, in_cap = 0;
    for (unsigned i = 0; i < n; i++) {
        if (i < nout)
            out_len += sg[i].len;
        else
            in_cap += sg[i].len;
    }
    /* What the device half accepts (see pop): 32-bit lengths, 2^32 bytes in all. */
    if (out_len > UINT32_MAX || in_cap > UINT32_MAX || out_len + in_cap > ((uint64_t)1 << 32))
        return -VQF_ERR_INVAL;
    const bool ind = (flags & VQF_ADD_INDIRECT) && q->indirect && n <= size &&
                     (uint64_t)n * PDESC_SIZE <= q->ind_slice;
    const unsigned ndesc = ind ? 1u : n;
    if (ndesc > size)
        return -VQF_ERR_INVAL; /* PACK-SG-02: never longer than the queue */
    if (ndesc > q->num_free)
        return -VQF_ERR_NOSPACE; /* PACK-SG-04/05: the whole list must fit first */

    /* A free slot implies a free id: ids outstanding <= slots outstanding. */
    uint16_t id = q->free_id;
    q->free_id = id == q->free_tail ? NO_ID : q->ids[id].next;

    const uint16_t head = q->next_avail;
    const bool head_wrap = q->avail_wrap;
    uint16_t head_flags;
    if (ind) {
        /* Indirect table in this id's slice of the pool (2.8.7): only WRITE is set in its
         * entries (PACK-IND-02) and the reserved Buffer ID is zero. */
        uint64_t tgpa = q->cfg.ind_pool + (uint64_t)id * q->ind_slice;
        uint8_t *t = q->ind_host + (size_t)id * q->ind_slice;
        for (unsigned i = 0; i < n; i++, t += PDESC_SIZE) {
            vqf_put_le64(t + VIRTQ_PDESC_ADDR, sg[i].addr);
            vqf_put_le32(t + VIRTQ_PDESC_LEN, sg[i].len);
            vqf_put_le16(t + VIRTQ_PDESC_ID, 0);
            vqf_put_le16(t + VIRTQ_PDESC_FLAGS, i >= nout ? VIRTQ_DESC_F_WRITE : 0);
        }
        note(&q->dma, VQF_ACC_WRITE, tgpa, (uint64_t)n * PDESC_SIZE);
        drv_write_body(q, head, tgpa, n * PDESC_SIZE, id);
        head_flags = VIRTQ_DESC_F_INDIRECT | avail_bits(head_wrap);
    } else {
        /* The Buffer ID goes in the last descriptor (2.8.6, D-10). The others get an id no
         * queue can have, so a device reading the id from the wrong element fails loudly. */
        uint16_t slot = head;
        bool w = head_wrap;
        head_flags = 0;
        for (unsigned i = 0; i < n; i++) {
            uint16_t f = (uint16_t)((i >= nout ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
                                    avail_bits(w));
            drv_write_body(q, slot, sg[i].addr, sg[i].len, i + 1 == n ? id : NO_ID);
            /* The tail goes out first, the head last (PACK-SG-06, 2.8.21.1). */
            if (i == 0)
                head_flags = f;
            else
                drv_write_flags(q, slot, f);
            advance(&slot, &w, 1, size);
        }
    }
    /* Descriptor contents before the flags that expose them (PACK-PUB-01, 2.8.21.1.1). */
    vqf_wmb(&q->dma);
    drv_write_flags(q, head, head_flags);

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
    event(&q->dma, VQF_EV_DRV_ADD, q->cfg.index, id, ndesc);
    return id;
}

/* Available buffer notification decision from the Device Event Suppression area (2.8.10). */
bool vqf_packed_drv_kick_prepare(struct vqf_packed_drv *q)
{
    if (!q->ready || q->broken || !q->unkicked)
        return false;
    event(&q->dma, VQF_EV_DRV_PUBLISH, q->cfg.index, (uint32_t)q->next_avail | ((uint32_t)q->avail_wrap << 15), 0);
    /* The flags writes must be visible before we read the device's wishes (PACK-PUB-02). */
    vqf_mb(&q->dma);
    note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_PEVENT_FLAGS, 2);
    uint16_t flags = flags_load(q->dev_event + VIRTQ_PEVENT_FLAGS) & PEVENT_FLAGS_MASK;
    uint16_t old_slot = q->published_avail;
    bool old_wrap = q->published_wrap;
    uint32_t moved = q->unkicked;
    q->published_avail = q->next_avail;
    q->published_wrap = q->avail_wrap;
    q->unkicked = 0;
    if (flags == RING_EVENT_FLAGS_DISABLE)
        return false;
    if (flags == RING_EVENT_FLAGS_DESC && q->event_idx) {
        note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_PEVENT_DESC, 2);
        uint16_t ev = flags_load(q->dev_event + VIRTQ_PEVENT_DESC);
        return event_crossed(ev, old_slot, old_wrap, moved, q->cfg.size);
    }
    return true; /* ENABLE, reserved 3, DESC without EVENT_IDX: kick rather than lose one */
}

uint32_t vqf_packed_drv_notify_value(const struct vqf_packed_drv *q)
{
    /* PACK-DSC-07: next_off / next_wrap name the next slot not yet made available (2.9). */
    if (vqf_has_feature(q->cfg.features, VIRTIO_F_NOTIFICATION_DATA))
        return vqf_notification_data(q->cfg.index, q->next_avail, q->avail_wrap);
    return q->cfg.index;
}

/* Hand buffer id back to the caller and release its slots. */
static void drv_reclaim(struct vqf_packed_drv *q, uint16_t id, uint32_t len, uint32_t *token, uint32_t *len_out)
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
    event(&q->dma, VQF_EV_DRV_RECLAIM, q->cfg.index, id, len);
}

int vqf_packed_drv_get_used(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len)
{
    if (!q->ready || q->broken)
        return -VQF_ERR_NOT_READY;
    if (q->in_batch) {
        /* IN_ORDER batch: the buffers before the named one were used completely (2.8.8). */
        uint16_t id = q->order_head;
        bool last = id == q->batch_end_id;
        if (last)
            q->in_batch = false;
        drv_reclaim(q, id, last ? q->batch_last_len : q->ids[id].in_cap, token, len);
        return 1;
    }
    const bool w = q->used_wrap;
    uint16_t flags = drv_read_flags(q, q->last_used);
    if (!q->outstanding) {
        /* Nothing is in flight, so nothing can be used: a used descriptor here is the
         * device running ahead of what was made available (D-02). */
        if (desc_is_used(flags, w))
            return drv_fail(q, VQF_ERR_USED_IDX);
        return 0;
    }
    if (desc_is_avail(flags, w))
        return 0;
    /* With buffers in flight this slot holds our own available descriptor of lap w or the
     * device's used one; any other AVAIL/USED pair is a device wrap-counter bug (D-08). */
    if (!desc_is_used(flags, w))
        return drv_fail(q, VQF_ERR_USED_FLAGS);
    /* id and len only after the flags (2.8.22 example: read_memory_barrier). */
    vqf_rmb(&q->dma);
    const uint8_t *d = rslot(q, q->last_used);
    note(&q->dma, VQF_ACC_READ, rslot_gpa(q, q->last_used) + VIRTQ_PDESC_LEN, 6);
    uint32_t ulen = vqf_le32(d + VIRTQ_PDESC_LEN);
    uint16_t id = vqf_le16(d + VIRTQ_PDESC_ID);
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
        drv_reclaim(q, first, q->ids[first].in_cap, token, len);
        return 1;
    }
    drv_reclaim(q, id, ulen, token, len);
    return 1;
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
    return q->outstanding && desc_is_used(drv_read_flags(q, q->last_used), q->used_wrap);
}
