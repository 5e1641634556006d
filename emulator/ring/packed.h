/* Packed virtqueue, spec 2.8: both halves, with the same contract as split.h.
 *
 * Device half: walks available descriptors by AVAIL/USED flags against its wrap counter
 * (2.8.1, D-08), NEXT lists and indirect tables (2.8.19), validates everything (queue-size
 * bounded lists, indirect len multiple of 16, no INDIRECT+NEXT, writable after readable,
 * 2^32 total, addresses, buffer id < queue size and not already outstanding), writes one used
 * descriptor per list with its buffer id (D-10), batches with IN_ORDER (2.8.8), and decides
 * notifications from the driver event suppression area (2.8.10: enable, disable, desc).
 * Driver half: buffer-id free list, writes the list tail first and the head flags last
 * (PACK-SG-06), wrap counters, event suppression, NOTIFICATION_DATA next_off/next_wrap.
 * Any queue size 1..32768, not only powers of two. */
#ifndef VQF_PACKED_H
#define VQF_PACKED_H

#include "emulator/ring/ring.h"
#include "emulator/ring/ring_hot.h"

#define VQF_PACKED_NO_ID 0xffffu  /* list terminator: ids are < 32768 */
#define VQF_PACKED_ID_FREE 0u     /* per-id driver state: on the free list */
#define VQF_PACKED_ID_OUT 1u      /* per-id driver state: outstanding at the device */
#define VQF_PDESC_SIZE 16u        /* sizeof(struct pvirtq_desc), 2.8.13 */
#define VQF_PEVENT_FLAGS_MASK 0x3u /* desc_event_flags : 2 (2.8.14) */

/* Available for wrap counter w (2.8.1): AVAIL matches w and USED does not. */
static inline bool vqf_pdesc_is_avail(uint16_t flags, bool w)
{
    return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == (w ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
}

/* Used for wrap counter w (2.8.1): AVAIL and USED both match w. */
static inline bool vqf_pdesc_is_used(uint16_t flags, bool w)
{
    return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == (w ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0);
}

/* The AVAIL/USED pair a driver writes to make a descriptor available in lap w (2.8.1). */
static inline uint16_t vqf_pdesc_avail_bits(bool w) { return w ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED; }

/* The AVAIL/USED pair a device writes to mark a descriptor used in lap w (2.8.1). */
static inline uint16_t vqf_pdesc_used_bits(bool w) { return w ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0; }

struct vqf_packed_dev {
    struct vqf_dma dma;
    struct vqf_ring_cfg cfg;
    uint8_t *desc;        /* descriptor ring */
    uint8_t *drv_event;   /* driver event suppression (driver writes) */
    uint8_t *dev_event;   /* device event suppression (device writes) */
    uint16_t next_avail;  /* next slot to examine */
    bool avail_wrap;      /* device's copy of the driver wrap counter for next_avail */
    uint16_t next_used;   /* next slot to write a used descriptor */
    bool used_wrap;       /* device wrap counter for next_used */
    uint16_t published_used;  /* next_used at the last publish */
    bool published_wrap;
    uint16_t signalled_used;  /* next_used at the last notification decision */
    bool signalled_wrap;
    uint16_t pending;         /* used descriptors written but not yet published */
    uint16_t batch_count;     /* IN_ORDER batch */
    uint16_t batch_ndesc;
    uint16_t batch_last_id;
    uint32_t batch_last_len;
    uint8_t *id_busy;         /* per buffer id: outstanding at the device (bitmap-ish) */
    uint32_t cap;
    bool event_idx, indirect, in_order;
    bool broken;
    bool ready;
    /* private to the ring module: the inline fast paths apply to this queue's shape (no
     * IN_ORDER, 16-bit ring fields 2-aligned on the host); set at init, read with broken
     * and ready as one unit (ring_fast_gate) */
    bool fast;
    uint8_t gate_pad;         /* 0, written only at init (see ring_fast_gate) */
    /* private to packed.c */
    uint32_t *pend;           /* written, unpublished used descriptors: slot | flags word << 16 */
    uint32_t inflight;        /* ring slots popped and not yet pushed (<= size, D-02) */
    uint32_t unsignalled;     /* used slots published since the last notification decision */
    uint16_t written_used;    /* position after the last used descriptor written (maybe unpublished) */
    bool written_wrap;
    uint16_t batch_slot;      /* IN_ORDER: first slot of the open batch */
    bool batch_wrap;
    bool batch_full;          /* IN_ORDER: last buffer of the batch was written completely */
    bool kick_desc;           /* kicks asked for per descriptor (DESC at next_avail) */
    uint8_t buf_region;       /* guest-memory region of the last buffer checked (a hint) */
    uint32_t pend_slots;      /* ring slots covered by the pend[] entries */
};

/* Per buffer id driver state (the "sgs" array of the 2.8.21.3 example, plus what the driver
 * needs to validate the device: writable capacity for D-04, state for D-03). Private to the
 * packed module (packed.c and the inline fast paths below). */
struct vqf_packed_drv_slot {
    uint32_t token;
    uint32_t in_cap;  /* device-writable bytes of the buffer */
    uint16_t ndesc;   /* ring slots the buffer occupies (1 for an indirect table) */
    uint16_t next;    /* free list link while free, avail-order link while outstanding */
    uint8_t state;    /* VQF_PACKED_ID_* */
};

struct vqf_packed_drv {
    struct vqf_dma dma;
    struct vqf_ring_cfg cfg;
    uint8_t *desc;
    uint8_t *drv_event;
    uint8_t *dev_event;
    uint16_t next_avail;      /* next slot to fill */
    bool avail_wrap;          /* driver wrap counter */
    uint16_t published_avail; /* next_avail at the last kick decision */
    bool published_wrap;
    uint16_t last_used;       /* next slot where a used descriptor is expected */
    bool used_wrap;
    uint16_t num_free;        /* free ring slots */
    uint16_t free_id;         /* head of the buffer-id free list */
    uint16_t outstanding;
    uint16_t event_flags_shadow;
    bool event_idx, indirect, in_order;
    bool broken;
    bool ready;
    /* private to the ring module: the inline fast paths apply to this queue's shape (no
     * IN_ORDER, 16-bit ring fields 2-aligned on the host); set at init, read with broken
     * and ready as one unit (ring_fast_gate) */
    bool fast;
    uint8_t gate_pad;         /* 0, written only at init (see ring_fast_gate) */
    uint32_t cap;
    struct vqf_packed_drv_slot *ids;  /* per buffer id: token, slots used, writable capacity, next free */
    /* private to packed.c */
    uint16_t free_tail;       /* buffer-id free list is FIFO: ids come back in completion order */
    uint16_t order_head;      /* IN_ORDER: oldest outstanding id (avail order) */
    uint16_t order_tail;      /* IN_ORDER: newest outstanding id */
    uint16_t batch_end_id;    /* IN_ORDER: id named by the used descriptor of the batch being returned */
    bool in_batch;
    uint32_t batch_last_len;
    uint32_t unkicked;        /* slots made available since the last kick decision */
    uint8_t *ind_host;        /* host view of cfg.ind_pool */
    uint32_t ind_slice;       /* bytes of indirect table per buffer id (multiple of 16) */
};

/* ---- device half ---- */
int vqf_packed_dev_init(struct vqf_packed_dev *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg);
void vqf_packed_dev_free(struct vqf_packed_dev *q);
static inline int vqf_packed_dev_pop(struct vqf_packed_dev *q, struct vqf_chain *c);
static inline int vqf_packed_dev_push(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written);
static inline void vqf_packed_dev_publish(struct vqf_packed_dev *q);
static inline bool vqf_packed_dev_need_notify(struct vqf_packed_dev *q);
void vqf_packed_dev_set_kick_suppress(struct vqf_packed_dev *q, bool suppress);
bool vqf_packed_dev_pending(struct vqf_packed_dev *q);

/* ---- driver half ---- */
int vqf_packed_drv_init(struct vqf_packed_drv *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg);
void vqf_packed_drv_free(struct vqf_packed_drv *q);
static inline int vqf_packed_drv_add(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                                     uint32_t token, unsigned flags);
static inline bool vqf_packed_drv_kick_prepare(struct vqf_packed_drv *q);
uint32_t vqf_packed_drv_notify_value(const struct vqf_packed_drv *q);
static inline int vqf_packed_drv_get_used(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len);
void vqf_packed_drv_disable_cb(struct vqf_packed_drv *q);
bool vqf_packed_drv_enable_cb(struct vqf_packed_drv *q);
bool vqf_packed_drv_has_used(struct vqf_packed_drv *q);
static inline unsigned vqf_packed_drv_num_free(const struct vqf_packed_drv *q) { return q->num_free; }

/* ---- inline fast paths ----
 * As in split.h: each public hot entry is inlined into its caller and, with no observer
 * installed and the common shape (one plain descriptor, a buffer in the region of the
 * previous one, no IN_ORDER), does its work here with the same checks in the same order as
 * the general body in packed.c. Everything else goes to the out-of-line *_slow entry before
 * any state has changed that the general body would not redo the same way; errors go to
 * vqf_packed_*_fail. */
int vqf_packed_dev_pop_slow(struct vqf_packed_dev *q, struct vqf_chain *c);
int vqf_packed_dev_push_slow(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written);
void vqf_packed_dev_publish_slow(struct vqf_packed_dev *q);
bool vqf_packed_dev_need_notify_slow(struct vqf_packed_dev *q);
int vqf_packed_dev_fail(struct vqf_packed_dev *q, int err);
void vqf_packed_dev_kick_event(struct vqf_packed_dev *q);
int vqf_packed_drv_add_slow(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                            uint32_t token, unsigned flags);
bool vqf_packed_drv_kick_prepare_slow(struct vqf_packed_drv *q);
int vqf_packed_drv_get_used_slow(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len);
int vqf_packed_drv_fail(struct vqf_packed_drv *q, int err);

/* Ready, not broken, of the fast shape (no IN_ORDER, aligned), no observer. */
#define VQF_PACKED_FAST(q) (__builtin_expect(ring_fast_gate(&(q)->broken), 1) && !ring_observed(&(q)->dma))

RING_INLINE int vqf_packed_dev_pop(struct vqf_packed_dev *q, struct vqf_chain *c)
{
    if (!VQF_PACKED_FAST(q))
        return vqf_packed_dev_pop_slow(q, c);
    uint16_t slot = q->next_avail;
    bool wrap = q->avail_wrap;
    const uint8_t *d = q->desc + (uint32_t)slot * VQF_PDESC_SIZE;
    uint16_t flags = ring_ld16_aligned(d + VIRTQ_PDESC_FLAGS);
    if (!vqf_pdesc_is_avail(flags, wrap))
        return 0;
    ring_barrier(&q->dma, VQF_BARRIER_RMB, false); /* PACK-DSC-03: body after flags */
    uint64_t addr = ring_rd64(d + VIRTQ_PDESC_ADDR);
    uint32_t len = ring_rd32(d + VIRTQ_PDESC_LEN);
    uint16_t id = ring_rd16(d + VIRTQ_PDESC_ID);
    const struct vqf_mem *m = q->dma.mem;
    unsigned r = q->buf_region;
    /* Any other shape, and a buffer outside the hinted region (valid or not: RSVD-05 is
     * decided there), takes the general body, which re-reads the slot. */
    if ((flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) || c->seg_cap == 0 || r >= m->nregions ||
        !ring_buf_in_region(&m->r[r], addr, len))
        return vqf_packed_dev_pop_slow(q, c);
    const uint16_t size = q->cfg.size;
    if (q->inflight >= size)
        return vqf_packed_dev_fail(q, VQF_ERR_AVAIL_JUMP); /* D-02 */
    if (id >= size || q->id_busy[id])
        return vqf_packed_dev_fail(q, VQF_ERR_PACKED_ID); /* D-10 */
    q->id_busy[id] = 1;
    q->inflight++;
    ring_chain_one(c, id, slot, addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0);
    if (++slot == size) {
        slot = 0;
        wrap = !wrap; /* 2.8.1 */
    }
    q->next_avail = slot;
    q->avail_wrap = wrap;
    if (q->kick_desc)
        vqf_packed_dev_kick_event(q); /* 2.8.10 */
    return 1;
}

RING_INLINE int vqf_packed_dev_push(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written)
{
    const uint16_t size = q->cfg.size;
    if (!VQF_PACKED_FAST(q) || q->pending == size)
        return vqf_packed_dev_push_slow(q, c, written);
    const uint16_t id = c->id, ndesc = c->ndesc;
    /* The caller's own mistakes: they do not break the queue. */
    if (id >= size || !q->id_busy[id] || ndesc == 0 || ndesc > q->inflight || written > c->in_len)
        return -VQF_ERR_INVAL;
    q->id_busy[id] = 0;
    q->inflight -= ndesc;
    uint16_t slot = q->next_used;
    bool wrap = q->used_wrap;
    /* 2.8.4: len = bytes written, the buffer id; addr unused; flags at publish. */
    uint8_t *d = q->desc + (uint32_t)slot * VQF_PDESC_SIZE;
    ring_wr32(d + VIRTQ_PDESC_LEN, written);
    ring_wr16(d + VIRTQ_PDESC_ID, id);
    uint16_t f = (uint16_t)(vqf_pdesc_used_bits(wrap) | (written ? VIRTQ_DESC_F_WRITE : 0)); /* WRITE iff len */
    q->pend[q->pending++] = slot | ((uint32_t)f << 16);
    q->pend_slots += ndesc;
    /* 2.8.6: skip the whole list; ndesc <= inflight <= size, so one step of wrap. */
    uint32_t next = (uint32_t)slot + ndesc;
    if (next >= size) {
        next -= size;
        wrap = !wrap;
    }
    q->written_used = q->next_used = (uint16_t)next;
    q->written_wrap = q->used_wrap = wrap;
    return 0;
}

RING_INLINE void vqf_packed_dev_publish(struct vqf_packed_dev *q)
{
    if (!VQF_PACKED_FAST(q)) {
        vqf_packed_dev_publish_slow(q);
        return;
    }
    /* Fast path: one used descriptor written since the last publish (IN_ORDER batches,
     * batch_count, never get here: the gate excludes IN_ORDER). */
    if (q->pending != 1) {
        vqf_packed_dev_publish_slow(q);
        return;
    }
    ring_barrier(&q->dma, VQF_BARRIER_WMB, false); /* 2.8.21.2: body before flags */
    uint32_t p = q->pend[0];
    ring_st16_aligned(q->desc + (p & 0xffffu) * VQF_PDESC_SIZE + VIRTQ_PDESC_FLAGS, (uint16_t)(p >> 16));
    /* Entries are written contiguously from the published position, so one entry of at most
     * size slots moved it by exactly its slot count (dev_flush's lap distance). */
    q->unsignalled += q->pend_slots;
    q->published_used = q->written_used;
    q->published_wrap = q->written_wrap;
    q->pending = 0;
    q->pend_slots = 0;
}

RING_INLINE bool vqf_packed_dev_need_notify(struct vqf_packed_dev *q)
{
    if (!VQF_PACKED_FAST(q))
        return vqf_packed_dev_need_notify_slow(q);
    if (!q->unsignalled)
        return false; /* nothing published since the last decision */
    /* Used flags visible before the driver's wishes are read (2.8.21.3.1 mirrored). */
    ring_barrier(&q->dma, VQF_BARRIER_MB, false);
    uint16_t flags = ring_ld16_aligned(q->drv_event + VIRTQ_PEVENT_FLAGS) & VQF_PEVENT_FLAGS_MASK;
    if (flags == RING_EVENT_FLAGS_DESC && q->event_idx)
        return vqf_packed_dev_need_notify_slow(q); /* the event position decides (D-12) */
    q->signalled_used = q->published_used;
    q->signalled_wrap = q->published_wrap;
    q->unsignalled = 0;
    /* ENABLE, the reserved value 3, or DESC without EVENT_IDX: notify (never lose one). */
    return flags != RING_EVENT_FLAGS_DISABLE;
}

RING_INLINE int vqf_packed_drv_add(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                                     uint32_t token, unsigned flags)
{
    /* Fast path: exactly one segment (nout <= 1 keeps the sum from wrapping), added
     * directly, with a free slot (which implies a free id); IN_ORDER never passes the gate. */
    if (!VQF_PACKED_FAST(q) || !sg || nout > 1 || nout + nin != 1 || (flags & VQF_ADD_INDIRECT) ||
        q->num_free == 0)
        return vqf_packed_drv_add_slow(q, sg, nout, nin, token, flags);
    uint16_t id = q->free_id;
    q->free_id = q->ids[id].next; /* NO_ID after the tail: the free list keeps it so */
    uint16_t head = q->next_avail;
    bool w = q->avail_wrap;
    uint32_t len = sg[0].len;
    /* One descriptor: it carries the buffer id (2.8.6); its flags go last (PACK-PUB-01). */
    uint8_t *d = q->desc + (uint32_t)head * VQF_PDESC_SIZE;
    ring_wr64(d + VIRTQ_PDESC_ADDR, sg[0].addr);
    ring_wr32(d + VIRTQ_PDESC_LEN, len);
    ring_wr16(d + VIRTQ_PDESC_ID, id);
    ring_barrier(&q->dma, VQF_BARRIER_WMB, false);
    ring_st16_aligned(d + VIRTQ_PDESC_FLAGS, (uint16_t)((nin ? VIRTQ_DESC_F_WRITE : 0) | vqf_pdesc_avail_bits(w)));
    struct vqf_packed_drv_slot *s = &q->ids[id];
    s->token = token;
    s->in_cap = nin ? len : 0;
    s->ndesc = 1;
    s->state = VQF_PACKED_ID_OUT;
    if (++head == q->cfg.size) {
        head = 0;
        w = !w; /* 2.8.1 */
    }
    q->next_avail = head;
    q->avail_wrap = w;
    q->num_free--;
    q->outstanding++;
    q->unkicked++;
    return id;
}

RING_INLINE bool vqf_packed_drv_kick_prepare(struct vqf_packed_drv *q)
{
    if (!VQF_PACKED_FAST(q))
        return vqf_packed_drv_kick_prepare_slow(q);
    if (!q->unkicked)
        return false;
    /* The flags writes must be visible before we read the device's wishes (PACK-PUB-02). */
    ring_barrier(&q->dma, VQF_BARRIER_MB, false);
    uint16_t flags = ring_ld16_aligned(q->dev_event + VIRTQ_PEVENT_FLAGS) & VQF_PEVENT_FLAGS_MASK;
    if (flags == RING_EVENT_FLAGS_DESC && q->event_idx)
        return vqf_packed_drv_kick_prepare_slow(q); /* the event position decides (D-12) */
    q->published_avail = q->next_avail;
    q->published_wrap = q->avail_wrap;
    q->unkicked = 0;
    /* ENABLE, reserved 3, DESC without EVENT_IDX: kick rather than lose one. */
    return flags != RING_EVENT_FLAGS_DISABLE;
}

RING_INLINE int vqf_packed_drv_get_used(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len)
{
    /* Fast path: a used descriptor with buffers in flight (in_batch is only ever set under
     * IN_ORDER, which the gate excludes). */
    if (!VQF_PACKED_FAST(q) || !q->outstanding)
        return vqf_packed_drv_get_used_slow(q, token, len);
    const bool w = q->used_wrap;
    uint16_t slot = q->last_used;
    const uint8_t *d = q->desc + (uint32_t)slot * VQF_PDESC_SIZE;
    uint16_t flags = ring_ld16_aligned(d + VIRTQ_PDESC_FLAGS);
    if (vqf_pdesc_is_avail(flags, w))
        return 0;
    if (!vqf_pdesc_is_used(flags, w))
        return vqf_packed_drv_fail(q, VQF_ERR_USED_FLAGS); /* D-08 */
    ring_barrier(&q->dma, VQF_BARRIER_RMB, false); /* id and len after the flags (2.8.22) */
    uint32_t ulen = ring_rd32(d + VIRTQ_PDESC_LEN);
    uint16_t id = ring_rd16(d + VIRTQ_PDESC_ID);
    const uint16_t size = q->cfg.size;
    if (id >= size)
        return vqf_packed_drv_fail(q, VQF_ERR_USED_ID); /* D-03 */
    struct vqf_packed_drv_slot *s = &q->ids[id];
    if (s->state != VQF_PACKED_ID_OUT)
        return vqf_packed_drv_fail(q, VQF_ERR_USED_ID); /* D-03 */
    if (!(flags & VIRTQ_DESC_F_WRITE))
        ulen = 0; /* 2.8.4 */
    if (ulen > s->in_cap)
        return vqf_packed_drv_fail(q, VQF_ERR_USED_LEN); /* D-04 */
    /* Reclaim, without IN_ORDER (where order_head and order_tail stay NO_ID). */
    *token = s->token;
    *len = ulen;
    /* 2.8.6: skip the buffer's slots; ndesc <= size (checked at add), one step of wrap. */
    uint32_t next = (uint32_t)slot + s->ndesc;
    bool uw = w;
    if (next >= size) {
        next -= size;
        uw = !uw;
    }
    q->last_used = (uint16_t)next;
    q->used_wrap = uw;
    q->num_free = (uint16_t)(q->num_free + s->ndesc);
    q->outstanding--;
    s->state = VQF_PACKED_ID_FREE;
    s->next = VQF_PACKED_NO_ID;
    if (q->free_id == VQF_PACKED_NO_ID)
        q->free_id = id;
    else
        q->ids[q->free_tail].next = id;
    q->free_tail = id;
    return 1;
}

#endif
