/* Split virtqueue, spec 2.7: both halves.
 *
 * Device half: pops chains from the available ring, validating every value it reads from
 * driver-owned memory (D-05 index ranges, loop/hop limit, indirect table shape, flag mixes,
 * 2^32 total length, addresses inside guest memory, avail idx jumps), and returns a precise
 * -VQF_ERR_* instead of walking on. After an error the half is broken (every later call
 * returns -VQF_ERR_NOT_READY) until re-initialised: the device is expected to set
 * DEVICE_NEEDS_RESET (spec 2.1.2).
 * Driver half: adds chains (direct or indirect), publishes avail idx and decides to kick
 * (flags or EVENT_IDX), reclaims used entries validating what the device wrote (D-02, D-03,
 * D-04, IN_ORDER batches D-07).
 *
 * Ring parts are translated to host pointers once at init; each access to them is logged to
 * the observer (vqf_mem_note) so that the oracle sees it. No allocation per operation. */
#ifndef VQF_SPLIT_H
#define VQF_SPLIT_H

#include "emulator/ring/ring_hot.h"
#include "emulator/ring/ring.h"

/* Descriptor fields, spec 2.7.5: le64 addr, le32 len, le16 flags, le16 next. */
#define VQF_SDESC_ADDR 0u
#define VQF_SDESC_LEN 8u
#define VQF_SDESC_FLAGS 12u
#define VQF_SDESC_NEXT 14u

struct vqf_split_dev {
    struct vqf_dma dma;
    struct vqf_ring_cfg cfg;
    uint8_t *desc;     /* host pointers of the three parts */
    uint8_t *avail;
    uint8_t *used;
    uint16_t last_avail;      /* next avail ring position to consume */
    uint16_t used_idx;        /* next used idx (entries pushed, maybe not yet published) */
    uint16_t used_published;  /* used idx value last written to the ring */
    uint16_t signalled_used;  /* used idx at the last notification decision (EVENT_IDX old) */
    uint16_t batch_start;     /* IN_ORDER: used idx where the unpublished batch starts */
    uint16_t batch_count;     /* IN_ORDER: buffers in the unpublished batch */
    uint16_t batch_last_id;   /* IN_ORDER: id of the last buffer in the batch */
    uint32_t batch_last_len;
    bool event_idx, indirect, in_order;
    bool broken;
    bool ready;
    /* private to the ring module: the inline fast paths apply to this queue's shape (no
     * IN_ORDER, 16-bit ring fields 2-aligned on the host); set at init, read with broken
     * and ready as one unit (ring_fast_gate) */
    bool fast;
    uint8_t gate_pad;         /* 0, written only at init (see ring_fast_gate) */
    /* private to split.c */
    uint32_t mask;            /* size - 1 (size is a power of two); 32 bits: see split.c */
    uint16_t avail_shadow;    /* avail idx last read and validated */
    uint16_t inflight;        /* chains popped and not yet pushed */
    bool batch_last_full;     /* IN_ORDER: the batch's last buffer was written completely */
    bool kick_suppressed;     /* set_kick_suppress(true) in force */
    uint8_t buf_region;       /* guest-memory region of the last buffer checked (a hint) */
};

/* Per-head driver state. Kept on the host so that a device that scribbles on the descriptor
 * table (SPLIT-DSC-04) cannot corrupt the driver's free list. Private to the split module
 * (split.c and the inline fast paths below). */
struct vqf_split_drv_slot {
    uint32_t token;
    uint32_t wcap;    /* device-writable bytes of the chain: the D-04 bound on used len */
    uint16_t ndesc;   /* descriptor-table entries the chain holds (1 when indirect) */
    uint16_t last;    /* last descriptor of the chain, to splice it back into the free list */
    uint8_t indirect;
    uint8_t busy;     /* made available and not yet reclaimed (D-03) */
};

struct vqf_split_drv {
    struct vqf_dma dma;
    struct vqf_ring_cfg cfg;
    uint8_t *desc;
    uint8_t *avail;
    uint8_t *used;
    uint16_t free_head;       /* first free descriptor */
    uint16_t num_free;        /* free descriptors */
    uint16_t avail_idx;       /* next avail idx (added, maybe not yet published) */
    uint16_t avail_published; /* avail idx value last written to the ring */
    uint16_t kicked_idx;      /* avail idx at the last kick decision (EVENT_IDX old) */
    uint16_t last_used;       /* next used ring position to read */
    uint16_t outstanding;     /* heads made available and not yet reclaimed */
    uint16_t in_order_next;   /* IN_ORDER: head expected next */
    uint16_t batch_end_id;    /* IN_ORDER: last id of the batch being returned, if any */
    bool in_batch;
    uint32_t batch_last_len;
    bool event_idx, indirect, in_order;
    bool broken;
    bool ready;
    /* private to the ring module: the inline fast paths apply to this queue's shape (no
     * IN_ORDER, 16-bit ring fields 2-aligned on the host); set at init, read with broken
     * and ready as one unit (ring_fast_gate) */
    bool fast;
    uint8_t gate_pad;         /* 0, written only at init (see ring_fast_gate) */
    uint32_t cap;                     /* entries allocated in slots / next_free */
    struct vqf_split_drv_slot *slots; /* per head: token, chain length, writable capacity */
    uint16_t *next_free;              /* free-list links by descriptor index */
    /* private to split.c */
    uint32_t mask;            /* size - 1; 32 bits: see split.c */
    uint16_t used_shadow;     /* used idx last read and validated */
    uint8_t *ind_host;        /* host view of cfg.ind_pool, NULL when indirect is unusable */
    uint32_t ind_slice;       /* bytes of ind_pool per head, a multiple of 16 */
};

/* ---- device half ---- */
int vqf_split_dev_init(struct vqf_split_dev *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg);
/* 1 = chain delivered in *c, 0 = nothing available, <0 = -VQF_ERR_* (queue now broken). */
static inline int vqf_split_dev_pop(struct vqf_split_dev *q, struct vqf_chain *c);
/* Record a used entry for c with `written` bytes (not visible until publish). With IN_ORDER
 * consecutive pushes are batched into one used entry (D-07). */
static inline int vqf_split_dev_push(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written);
/* Make every pushed entry visible: write barrier, then used idx (SPLIT-USD-01). */
static inline void vqf_split_dev_publish(struct vqf_split_dev *q);
/* After publish: must the device send a used-buffer notification now? (2.7.7.2: flags, or
 * vqf_need_event(used_event, new, old) with EVENT_IDX). Consumes the decision. */
static inline bool vqf_split_dev_need_notify(struct vqf_split_dev *q);
/* Ask the driver not to kick (used->flags NO_NOTIFY, or avail_event with EVENT_IDX), or to
 * kick again (enable). */
void vqf_split_dev_set_kick_suppress(struct vqf_split_dev *q, bool suppress);
/* Is there an available buffer not yet popped? (reads avail idx; no validation) */
bool vqf_split_dev_pending(struct vqf_split_dev *q);

/* ---- driver half ---- */
/* Allocates host arrays when cfg->size exceeds what an earlier init allocated; zeroes the
 * three ring parts (SPLIT-ANS-01: used->flags = 0). */
int vqf_split_drv_init(struct vqf_split_drv *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg);
void vqf_split_drv_free(struct vqf_split_drv *q);
/* Add a chain of nout readable then nin writable segments. Returns the head (>= 0) or
 * -VQF_ERR_NOSPACE / -VQF_ERR_INVAL. Not visible to the device until kick_prepare. */
static inline int vqf_split_drv_add(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                                    uint32_t token, unsigned flags);
/* Publish added entries (write barrier, avail idx), then full barrier, then decide whether
 * the device must be notified (used->flags or avail_event with EVENT_IDX, 2.7.10). */
static inline bool vqf_split_drv_kick_prepare(struct vqf_split_drv *q);
/* The value to write to QueueNotify: the queue index, or with NOTIFICATION_DATA the
 * vq_index | next_off | next_wrap word (2.9). */
uint32_t vqf_split_drv_notify_value(const struct vqf_split_drv *q);
/* 1 = a used buffer reclaimed (*token, *len), 0 = none, <0 = -VQF_ERR_* (device lied; the
 * half is broken until re-init). */
static inline int vqf_split_drv_get_used(struct vqf_split_drv *q, uint32_t *token, uint32_t *len);
/* Used-buffer notification suppression (2.7.7.1). enable returns false if used buffers
 * arrived meanwhile (the caller should poll again), like Linux virtqueue_enable_cb. */
void vqf_split_drv_disable_cb(struct vqf_split_drv *q);
bool vqf_split_drv_enable_cb(struct vqf_split_drv *q);
bool vqf_split_drv_has_used(struct vqf_split_drv *q);
static inline unsigned vqf_split_drv_num_free(const struct vqf_split_drv *q) { return q->num_free; }

/* ---- inline fast paths ----
 * Each public hot entry is inlined into its caller: with no observer installed and the
 * common shape (one plain descriptor, a buffer in the region of the previous one, no
 * IN_ORDER) it does its work here, making the same checks in the same order as the general
 * body in split.c, with the same results. Everything else (not ready, broken, observed,
 * other shapes) goes to the out-of-line *_slow entry before any state has changed that the
 * general body would not redo the same way; errors go to vqf_split_*_fail. */
int vqf_split_dev_pop_slow(struct vqf_split_dev *q, struct vqf_chain *c);
int vqf_split_dev_push_slow(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written);
void vqf_split_dev_publish_slow(struct vqf_split_dev *q);
bool vqf_split_dev_need_notify_slow(struct vqf_split_dev *q);
int vqf_split_dev_fail(struct vqf_split_dev *q, int err);
void vqf_split_dev_kick_event(struct vqf_split_dev *q, uint16_t ev);
int vqf_split_drv_add_slow(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                           uint32_t token, unsigned flags);
bool vqf_split_drv_kick_prepare_slow(struct vqf_split_drv *q);
int vqf_split_drv_get_used_slow(struct vqf_split_drv *q, uint32_t *token, uint32_t *len);
int vqf_split_drv_fail(struct vqf_split_drv *q, int err);

/* Ready, not broken, of the fast shape (no IN_ORDER, aligned), no observer. */
#define VQF_SPLIT_FAST(q) (__builtin_expect(ring_fast_gate(&(q)->broken), 1) && !ring_observed(&(q)->dma))

RING_INLINE int vqf_split_dev_pop(struct vqf_split_dev *q, struct vqf_chain *c)
{
    if (!VQF_SPLIT_FAST(q))
        return vqf_split_dev_pop_slow(q, c);
    uint16_t last = q->last_avail;
    if (last == q->avail_shadow) {
        uint16_t idx = ring_ld16_aligned(q->avail + VIRTQ_AVAIL_IDX);
        if (idx == last)
            return 0;
        uint16_t ahead = (uint16_t)(idx - q->used_published); /* SPLIT-AVL-01 / D-02 */
        if (ahead > q->cfg.size || (uint16_t)(idx - last) > ahead)
            return vqf_split_dev_fail(q, VQF_ERR_AVAIL_JUMP);
        q->avail_shadow = idx;
        ring_barrier(&q->dma, VQF_BARRIER_RMB, false); /* 2.7.13.3.1 */
    }
    uint16_t pos = last & q->mask;
    uint16_t head = ring_rd16(q->avail + VIRTQ_AVAIL_RING(pos));
    if (head >= q->cfg.size)
        return vqf_split_dev_fail(q, VQF_ERR_HEAD_RANGE); /* D-05 */
    const uint8_t *d = q->desc + (uint64_t)head * VIRTQ_DESC_SIZE;
    uint16_t flags = ring_rd16(d + VQF_SDESC_FLAGS);
    uint64_t addr = ring_rd64(d + VQF_SDESC_ADDR);
    uint32_t len = ring_rd32(d + VQF_SDESC_LEN);
    const struct vqf_mem *m = q->dma.mem;
    unsigned r = q->buf_region;
    /* Anything else (and a buffer outside the hinted region, valid or not: RSVD-05 is
     * decided there) takes the general body, which re-reads the ring entry: nothing has
     * changed but the idx shadow. */
    if ((flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) || c->seg_cap == 0 || r >= m->nregions ||
        !ring_buf_in_region(&m->r[r], addr, len))
        return vqf_split_dev_pop_slow(q, c);
    ring_chain_one(c, head, pos, addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0);
    q->last_avail = ++last;
    q->inflight++;
    if (q->event_idx && !q->kick_suppressed)
        vqf_split_dev_kick_event(q, last); /* 2.7.10 */
    return 1;
}

RING_INLINE int vqf_split_dev_push(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written)
{
    if (!VQF_SPLIT_FAST(q))
        return vqf_split_dev_push_slow(q, c, written);
    /* The caller's own mistakes: they do not break the queue. */
    if (c->id >= q->cfg.size || written > c->in_len || q->inflight == 0)
        return -VQF_ERR_INVAL;
    q->inflight--;
    uint8_t *e = q->used + VIRTQ_USED_RING(q->used_idx & q->mask); /* 2.7.8 */
    ring_wr32(e, c->id);
    ring_wr32(e + 4, written);
    q->used_idx++;
    return 0;
}

RING_INLINE void vqf_split_dev_publish(struct vqf_split_dev *q)
{
    if (!VQF_SPLIT_FAST(q)) { /* IN_ORDER batches (batch_count) are the general body's */
        vqf_split_dev_publish_slow(q);
        return;
    }
    uint16_t idx = q->used_idx;
    if (idx == q->used_published)
        return;
    /* SPLIT-USD-01 (2.7.8.2): used elements are visible before the idx that covers them. */
    ring_barrier(&q->dma, VQF_BARRIER_WMB, false);
    ring_st16_aligned(q->used + VIRTQ_USED_IDX, idx);
    q->used_published = idx;
}

RING_INLINE bool vqf_split_dev_need_notify(struct vqf_split_dev *q)
{
    if (!VQF_SPLIT_FAST(q) || q->event_idx)
        return vqf_split_dev_need_notify_slow(q);
    uint16_t new_idx = q->used_published;
    if (new_idx == q->signalled_used)
        return false; /* nothing added since the last decision */
    q->signalled_used = new_idx;
    /* 2.7.7.2: the flags read must follow the used idx store. */
    ring_barrier(&q->dma, VQF_BARRIER_MB, false);
    /* SPLIT-UNS-07/08: flags 0 -> notify, flags 1 -> do not; used_event ignored (UNS-06). */
    return !(ring_ld16_aligned(q->avail + VIRTQ_AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

RING_INLINE int vqf_split_drv_add(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                                    uint32_t token, unsigned flags)
{
    /* Fast path: exactly one segment (nout <= 1 keeps the sum from wrapping), added
     * directly, with a free descriptor. */
    if (!VQF_SPLIT_FAST(q) || nout > 1 || nout + nin != 1 || (flags & VQF_ADD_INDIRECT) || q->num_free == 0)
        return vqf_split_drv_add_slow(q, sg, nout, nin, token, flags);
    uint16_t head = q->free_head;
    uint32_t len = sg[0].len;
    uint8_t *d = q->desc + (uint64_t)head * VIRTQ_DESC_SIZE; /* 2.7.5 */
    ring_wr64(d + VQF_SDESC_ADDR, sg[0].addr);
    ring_wr32(d + VQF_SDESC_LEN, len);
    ring_wr16(d + VQF_SDESC_FLAGS, nin ? VIRTQ_DESC_F_WRITE : 0);
    ring_wr16(d + VQF_SDESC_NEXT, 0);
    q->free_head = q->next_free[head]; /* no IN_ORDER here: the gate */
    q->num_free--;
    struct vqf_split_drv_slot *s = &q->slots[head];
    s->token = token;
    s->wcap = nin ? len : 0;
    s->ndesc = 1;
    s->last = head;
    s->indirect = 0;
    s->busy = 1;
    ring_wr16(q->avail + VIRTQ_AVAIL_RING(q->avail_idx & q->mask), head); /* 2.7.13.2 */
    q->avail_idx++;
    q->outstanding++;
    return head;
}

RING_INLINE bool vqf_split_drv_kick_prepare(struct vqf_split_drv *q)
{
    if (!VQF_SPLIT_FAST(q) || q->event_idx)
        return vqf_split_drv_kick_prepare_slow(q);
    uint16_t new_idx = q->avail_idx;
    if (new_idx == q->kicked_idx)
        return false; /* nothing added since the last decision */
    /* SPLIT-PUB-01 (2.7.13.3.1): descriptors and ring entries before idx. */
    ring_barrier(&q->dma, VQF_BARRIER_WMB, false);
    ring_st16_aligned(q->avail + VIRTQ_AVAIL_IDX, new_idx);
    q->avail_published = new_idx;
    /* SPLIT-PUB-02 (2.7.13.4.1): the idx store before the flags load. */
    ring_barrier(&q->dma, VQF_BARRIER_MB, false);
    q->kicked_idx = new_idx;
    /* SPLIT-ANS-02..04: flags 0 -> kick, 1 -> do not; avail_event ignored. */
    return !(ring_ld16_aligned(q->used + VIRTQ_USED_FLAGS) & VIRTQ_USED_F_NO_NOTIFY);
}

RING_INLINE int vqf_split_drv_get_used(struct vqf_split_drv *q, uint32_t *token, uint32_t *len)
{
    if (!VQF_SPLIT_FAST(q)) /* in_batch is only ever set under IN_ORDER, which the gate excludes */
        return vqf_split_drv_get_used_slow(q, token, len);
    uint16_t last = q->last_used;
    if (last == q->used_shadow) {
        uint16_t idx = ring_ld16_aligned(q->used + VIRTQ_USED_IDX);
        if ((uint16_t)(idx - last) > q->outstanding)
            return vqf_split_drv_fail(q, VQF_ERR_USED_IDX); /* D-02 */
        if (idx == last)
            return 0;
        q->used_shadow = idx;
        ring_barrier(&q->dma, VQF_BARRIER_RMB, false); /* 2.7.14 */
    }
    const uint8_t *e = q->used + VIRTQ_USED_RING(last & q->mask);
    uint32_t id = ring_rd32(e);
    uint32_t l = ring_rd32(e + 4);
    if (id >= q->cfg.size || !q->slots[id].busy)
        return vqf_split_drv_fail(q, VQF_ERR_USED_ID); /* D-03 */
    struct vqf_split_drv_slot *s = &q->slots[id];
    if (l > s->wcap)
        return vqf_split_drv_fail(q, VQF_ERR_USED_LEN); /* D-04 */
    /* Return the chain to the free descriptors. */
    q->next_free[s->last] = q->free_head;
    q->free_head = (uint16_t)id;
    q->num_free = (uint16_t)(q->num_free + s->ndesc);
    s->busy = 0;
    q->outstanding--;
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* NO_STORE_MERGE, see split.c */
    q->last_used = (uint16_t)(last + 1);
    *token = s->token;
    *len = l;
    return 1;
}

#endif
