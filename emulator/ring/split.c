/* Split virtqueue, spec 2.7: the device half and the driver half (contract in split.h).
 *
 * Both halves translate the three ring parts to host pointers once at init and then touch
 * them with little-endian loads and stores (ring_rd16/ring_wr16...). Since those writes
 * bypass the DMA API, every ring read and write is reported to the observer with
 * vqf_mem_note() so that the oracle and the flight recorder still see it; with no observer
 * that costs one predictable branch (and the common shapes run inline, split.h). Neither
 * half trusts host state of the other: each reads only guest memory, and the side that
 * reads a value written by its peer validates it before use. */
#include "emulator/ring/split.h"

#include <stdlib.h>
#include <string.h>

#include "emulator/ring/ring_hot.h"

RING_LIVE_LAYOUT_OK(struct vqf_split_dev);
RING_LIVE_LAYOUT_OK(struct vqf_split_drv);

#define DESC_ADDR VQF_SDESC_ADDR
#define DESC_LEN VQF_SDESC_LEN
#define DESC_FLAGS VQF_SDESC_FLAGS
#define DESC_NEXT VQF_SDESC_NEXT

/* A compiler-only barrier between updates of neighbouring 16-bit fields: without it the
 * vectoriser turns them into one 32-bit load and store, and that load cannot be forwarded
 * from the 16-bit store another call just made to one of them (a stall per round trip). */
#define NO_STORE_MERGE() __atomic_signal_fence(__ATOMIC_SEQ_CST)
/* For the same reason the queue mask is 32 bits wide: a compiler may widen the load of a
 * 16-bit field that is read on every call to 32 bits, over a neighbour just stored. */

/* Queue size and part alignment: spec 2.7 (power of two <= 32768, D-01) and the 2.7 table
 * "Virtqueue Part Alignment" (SPLIT-LAY-01). */
static int check_cfg(const struct vqf_ring_cfg *cfg)
{
    uint32_t n = cfg->size;
    if (cfg->format != VQF_RING_SPLIT || n == 0 || n > VIRTQ_SPLIT_MAX_SIZE || (n & (n - 1)) != 0)
        return -VQF_ERR_INVAL;
    if (cfg->desc % VIRTQ_DESC_ALIGN || cfg->driver % VIRTQ_AVAIL_ALIGN || cfg->device % VIRTQ_USED_ALIGN)
        return -VQF_ERR_INVAL;
    return 0;
}

/* The three parts with their event fields (2.7: avail 6 + 2*qsz, used 6 + 8*qsz bytes). */
static int map_parts(struct vqf_mem *m, const struct vqf_ring_cfg *cfg, uint8_t **desc, uint8_t **avail,
                     uint8_t **used)
{
    *desc = vqf_mem_xlate(m, cfg->desc, VIRTQ_DESC_TABLE_BYTES(cfg->size));
    *avail = vqf_mem_xlate(m, cfg->driver, VIRTQ_AVAIL_BYTES(cfg->size));
    *used = vqf_mem_xlate(m, cfg->device, VIRTQ_USED_BYTES(cfg->size));
    return (*desc && *avail && *used) ? 0 : -VQF_ERR_ADDR;
}

/* =============================== device half =============================== */

RING_COLD int dev_fail(struct vqf_split_dev *q, int err)
{
    q->broken = true;
    vqf_mem_event(q->dma.mem, q->dma.side, VQF_EV_DEV_ERROR, q->cfg.index, (uint32_t)err, 0);
    return -err;
}

int vqf_split_dev_init(struct vqf_split_dev *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg)
{
    memset(q, 0, sizeof(*q));
    q->dma = *dma;
    q->cfg = *cfg;
    int rc = check_cfg(cfg);
    if (rc == 0)
        rc = map_parts(dma->mem, cfg, &q->desc, &q->avail, &q->used);
    if (rc < 0)
        return rc;
    q->mask = cfg->size - 1u;
    q->event_idx = vqf_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
    q->indirect = vqf_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC);
    q->in_order = vqf_has_feature(cfg->features, VIRTIO_F_IN_ORDER);
    /* The device writes the used ring through its host pointer from now on: mark it once so
     * that the per-input memory reset clears it. */
    vqf_mem_mark_dirty(dma->mem, cfg->device, VIRTQ_USED_BYTES(cfg->size));
    q->fast = !q->in_order && ring_even((uintptr_t)q->avail, (uintptr_t)q->used, 0);
    q->gate_pad = 0;
    q->ready = true;
    return 0;
}

/* Walk the chain at head into c, validating every value read from driver memory. Returns 0
 * or a positive VQF_ERR_*. The walk is bounded by the queue size whatever the driver wrote.
 * Kept out of line so that pop's one-descriptor fast path does not pay for its frame. */
RING_COLD int dev_walk(struct vqf_split_dev *q, uint16_t head, struct vqf_chain *c, const bool obs)
{
    struct vqf_mem *m = q->dma.mem;
    const uint8_t *tbl = q->desc;
    uint64_t tbl_gpa = q->cfg.desc;
    uint32_t tbl_n = q->cfg.size; /* entries of the table being walked */
    uint32_t size = q->cfg.size;
    uint32_t cap = c->seg_cap;
    if (q->cfg.max_segs && q->cfg.max_segs < cap)
        cap = q->cfg.max_segs;
    bool in_table = false, seen_write = false;
    uint32_t idx = head, nseg = 0, nout = 0, ndesc = 0;
    uint64_t out_len = 0, in_len = 0;

    for (;;) {
        const uint8_t *d = tbl + (uint64_t)idx * VIRTQ_DESC_SIZE;
        ring_note(&q->dma, VQF_ACC_READ, tbl_gpa + (uint64_t)idx * VIRTQ_DESC_SIZE, VIRTQ_DESC_SIZE, obs);
        /* Each field is read once: a concurrent driver cannot change a value after its check. */
        uint64_t addr = ring_rd64(d + DESC_ADDR);
        uint32_t len = ring_rd32(d + DESC_LEN);
        uint16_t flags = ring_rd16(d + DESC_FLAGS);
        uint16_t next = ring_rd16(d + DESC_NEXT);
        if (!in_table)
            ndesc++;

        if (flags & VIRTQ_DESC_F_INDIRECT) {
            /* 2.7.5.3.1: one level only, only with the feature, never with NEXT; the table
             * holds len/16 descriptors (D-05). WRITE on this descriptor is ignored
             * (SPLIT-IND-06). It may end a chain of plain descriptors (SPLIT-IND-07). */
            if (in_table)
                return VQF_ERR_IND_NESTED;
            if (!q->indirect)
                return VQF_ERR_IND_FEATURE;
            if (flags & VIRTQ_DESC_F_NEXT)
                return VQF_ERR_IND_NEXT;
            if (len == 0 || len % VIRTQ_DESC_SIZE)
                return VQF_ERR_IND_LEN;
            tbl = vqf_mem_xlate(m, addr, len);
            if (!tbl)
                return VQF_ERR_ADDR;
            tbl_gpa = addr;
            tbl_n = len / VIRTQ_DESC_SIZE;
            in_table = true;
            idx = 0; /* 2.7.5.3: the first indirect descriptor is entry 0 */
            continue;
        }

        /* A chain never holds more descriptors than the queue size, indirect entries
         * included (SPLIT-IND-03); more means the driver built a loop (SPLIT-DSC-05). */
        if (++nseg > size)
            return VQF_ERR_CHAIN_LOOP;
        if (!ring_buf_mapped(m, &q->buf_region, addr, len))
            return VQF_ERR_ADDR;
        bool w = (flags & VIRTQ_DESC_F_WRITE) != 0;
        if (w) {
            seen_write = true;
            in_len += len;
        } else {
            if (seen_write)
                return VQF_ERR_WRITE_ORDER; /* SPLIT-FRM-03 */
            out_len += len;
            nout++;
        }
        /* Past the cap keep validating (to tell a loop from a long chain), store nothing. */
        if (nseg <= cap) {
            struct vqf_seg *s = &c->seg[nseg - 1];
            s->addr = addr;
            s->len = len;
            s->write = w;
        }
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        if (next >= tbl_n)
            return VQF_ERR_NEXT_RANGE; /* D-05 */
        idx = next;
    }

    /* SPLIT-DSC-05: at most 2^32 bytes in total; each direction must fit the u32 fields. */
    if (out_len > UINT32_MAX || in_len > UINT32_MAX || out_len + in_len > ((uint64_t)1 << 32))
        return VQF_ERR_CHAIN_LEN;
    if (nseg > cap)
        return VQF_ERR_CHAIN_CAP; /* SPLIT-FRM-02 permits a cap */
    c->id = head;
    c->ndesc = (uint16_t)ndesc;
    c->nseg = (uint16_t)nseg;
    c->nout = (uint16_t)nout;
    c->nin = (uint16_t)(nseg - nout);
    c->out_len = (uint32_t)out_len;
    c->in_len = (uint32_t)in_len;
    return 0;
}

/* The common chain: one plain descriptor. Same checks as dev_walk for that shape, without
 * the loop machinery; returns -1 for any other shape (and for seg_cap 0) so that dev_walk,
 * which re-reads the descriptor, decides. */
RING_HOT int dev_walk_one(struct vqf_split_dev *q, uint16_t head, struct vqf_chain *c, const bool obs)
{
    const uint8_t *d = q->desc + (uint64_t)head * VIRTQ_DESC_SIZE;
    uint16_t flags = ring_rd16(d + DESC_FLAGS);
    if ((flags & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) || c->seg_cap == 0)
        return -1;
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.desc + (uint64_t)head * VIRTQ_DESC_SIZE, VIRTQ_DESC_SIZE, obs);
    uint64_t addr = ring_rd64(d + DESC_ADDR);
    uint32_t len = ring_rd32(d + DESC_LEN);
    if (!ring_buf_mapped(q->dma.mem, &q->buf_region, addr, len))
        return VQF_ERR_ADDR; /* RSVD-05 */
    bool w = (flags & VIRTQ_DESC_F_WRITE) != 0;
    c->seg[0].addr = addr;
    c->seg[0].len = len;
    c->seg[0].write = w;
    c->id = head;
    c->ndesc = 1;
    c->nseg = 1;
    c->nout = !w;
    c->nin = w;
    c->out_len = w ? 0 : len;
    c->in_len = w ? len : 0;
    return 0;
}

/* With EVENT_IDX, ask for a kick when the driver writes the entry the device reads next
 * (2.7.10). The full barrier orders this store before the next load of avail idx: with the
 * driver's barrier between its idx store and its avail_event load (SPLIT-PUB-02), one of the
 * two sides always sees the other, so no kick is lost. */
RING_HOT void dev_write_avail_event(struct vqf_split_dev *q, uint16_t ev, const bool obs)
{
    uint64_t off = VIRTQ_AVAIL_EVENT(q->cfg.size);
    ring_st16(q->used + off, ev);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.device + off, 2, obs);
    ring_barrier(&q->dma, VQF_BARRIER_MB, obs);
}

RING_HOT int dev_pop(struct vqf_split_dev *q, struct vqf_chain *c, const bool obs)
{
    if (q->last_avail == q->avail_shadow) {
        uint16_t idx = ring_ld16(q->avail + VIRTQ_AVAIL_IDX);
        ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_AVAIL_IDX, 2, obs);
        if (idx == q->last_avail)
            return 0;
        /* SPLIT-AVL-01 / D-02: avail idx never moves backwards, and at most queue-size heads
         * are outstanding: idx - (used idx published) <= size, with last_avail in between. */
        uint16_t ahead = (uint16_t)(idx - q->used_published);
        if (ahead > q->cfg.size || (uint16_t)(idx - q->last_avail) > ahead)
            return dev_fail(q, VQF_ERR_AVAIL_JUMP);
        q->avail_shadow = idx;
        /* 2.7.13.3.1 pairs with this: ring entries and descriptors are read after idx. */
        ring_barrier(&q->dma, VQF_BARRIER_RMB, obs);
    }
    uint16_t pos = q->last_avail & q->mask;
    uint64_t off = VIRTQ_AVAIL_RING(pos);
    uint16_t head = ring_rd16(q->avail + off);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + off, 2, obs);
    if (head >= q->cfg.size)
        return dev_fail(q, VQF_ERR_HEAD_RANGE); /* D-05 */
    int err = dev_walk_one(q, head, c, obs);
    if (err < 0)
        err = dev_walk(q, head, c, obs);
    if (err)
        return dev_fail(q, err);
    c->slot = pos;
    q->last_avail++;
    q->inflight++;
    if (q->event_idx && !q->kick_suppressed)
        dev_write_avail_event(q, q->last_avail, obs);
    ring_event(&q->dma, VQF_EV_DEV_POP, q->cfg.index, head, c->ndesc, obs);
    return 1;
}

RING_COLD int dev_pop_observed(struct vqf_split_dev *q, struct vqf_chain *c)
{
    return dev_pop(q, c, true);
}

RING_COLD int dev_pop_plain(struct vqf_split_dev *q, struct vqf_chain *c)
{
    return dev_pop(q, c, false);
}

/* The public entry points are inline fast paths in split.h; they call these out-of-line
 * entries for every other case (not ready, observed, any other shape) and for errors. */
int vqf_split_dev_fail(struct vqf_split_dev *q, int err)
{
    return dev_fail(q, err);
}

void vqf_split_dev_kick_event(struct vqf_split_dev *q, uint16_t ev)
{
    dev_write_avail_event(q, ev, false);
}

int vqf_split_dev_pop_slow(struct vqf_split_dev *q, struct vqf_chain *c)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? dev_pop_observed(q, c) : dev_pop_plain(q, c);
}

RING_HOT void dev_write_used(struct vqf_split_dev *q, uint16_t used_idx, uint32_t id, uint32_t len, const bool obs)
{
    uint64_t off = VIRTQ_USED_RING(used_idx & q->mask);
    ring_wr32(q->used + off, id);
    ring_wr32(q->used + off + 4, len);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.device + off, VIRTQ_USED_ELEM_SIZE, obs);
}

/* IN_ORDER (2.7.9, D-07): one used entry for the batch, at the ring position of its first
 * buffer, carrying the id of its last. */
RING_HOT void dev_flush_batch(struct vqf_split_dev *q, const bool obs)
{
    dev_write_used(q, q->batch_start, q->batch_last_id, q->batch_last_len, obs);
    q->batch_count = 0;
}

RING_HOT int dev_push(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written, const bool obs)
{
    /* The caller's own mistakes: they do not break the queue. */
    if (c->id >= q->cfg.size || written > c->in_len || q->inflight == 0)
        return -VQF_ERR_INVAL;
    q->inflight--;
    if (q->in_order) {
        /* Skipped buffers count as completely written (2.7.9): a buffer written only in
         * part must end its batch, so that its own len is reported. */
        if (q->batch_count && !q->batch_last_full)
            dev_flush_batch(q, obs);
        if (q->batch_count == 0)
            q->batch_start = q->used_idx;
        q->batch_count++;
        q->batch_last_id = c->id;
        q->batch_last_len = written;
        q->batch_last_full = written == c->in_len;
    } else {
        dev_write_used(q, q->used_idx, c->id, written, obs);
    }
    q->used_idx++;
    ring_event(&q->dma, VQF_EV_DEV_PUSH, q->cfg.index, c->id, written, obs);
    return 0;
}

RING_COLD int dev_push_observed(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written)
{
    return dev_push(q, c, written, true);
}

RING_COLD int dev_push_plain(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written)
{
    return dev_push(q, c, written, false);
}

int vqf_split_dev_push_slow(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? dev_push_observed(q, c, written) : dev_push_plain(q, c, written);
}

RING_HOT void dev_publish(struct vqf_split_dev *q, const bool obs)
{
    if (q->batch_count)
        dev_flush_batch(q, obs);
    if (q->used_idx == q->used_published)
        return;
    /* SPLIT-USD-01 (2.7.8.2): used elements are visible before the idx that covers them. */
    ring_barrier(&q->dma, VQF_BARRIER_WMB, obs);
    ring_st16(q->used + VIRTQ_USED_IDX, q->used_idx);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.device + VIRTQ_USED_IDX, 2, obs);
    q->used_published = q->used_idx;
    ring_event(&q->dma, VQF_EV_DEV_PUBLISH, q->cfg.index, q->used_idx, 0, obs);
}

RING_COLD void dev_publish_observed(struct vqf_split_dev *q)
{
    dev_publish(q, true);
}

RING_COLD void dev_publish_plain(struct vqf_split_dev *q)
{
    dev_publish(q, false);
}

void vqf_split_dev_publish_slow(struct vqf_split_dev *q)
{
    if (!RING_LIVE(q))
        return;
    if (ring_observed(&q->dma))
        dev_publish_observed(q);
    else
        dev_publish_plain(q);
}

RING_HOT bool dev_need_notify(struct vqf_split_dev *q, const bool obs)
{
    uint16_t new_idx = q->used_published, old_idx = q->signalled_used;
    if (new_idx == old_idx)
        return false; /* nothing added since the last decision */
    q->signalled_used = new_idx;
    /* 2.7.7.2: the flags / used_event read must follow the used idx store. */
    ring_barrier(&q->dma, VQF_BARRIER_MB, obs);
    if (q->event_idx) {
        /* Ignore flags (SPLIT-UNS-09); notify iff the idx crossed used_event (SPLIT-UNS-10,
         * D-06), old being the idx at the previous decision so that a batch counts once. */
        uint64_t off = VIRTQ_USED_EVENT(q->cfg.size);
        uint16_t ev = ring_ld16(q->avail + off);
        ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + off, 2, obs);
        return vqf_need_event(ev, new_idx, old_idx);
    }
    /* SPLIT-UNS-07/08: flags 0 -> notify, flags 1 -> do not; used_event ignored (UNS-06). */
    uint16_t flags = ring_ld16(q->avail + VIRTQ_AVAIL_FLAGS);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_AVAIL_FLAGS, 2, obs);
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

RING_COLD bool dev_need_notify_observed(struct vqf_split_dev *q)
{
    return dev_need_notify(q, true);
}

RING_COLD bool dev_need_notify_plain(struct vqf_split_dev *q)
{
    return dev_need_notify(q, false);
}

bool vqf_split_dev_need_notify_slow(struct vqf_split_dev *q)
{
    if (!RING_LIVE(q))
        return false;
    return ring_observed(&q->dma) ? dev_need_notify_observed(q) : dev_need_notify_plain(q);
}

void vqf_split_dev_set_kick_suppress(struct vqf_split_dev *q, bool suppress)
{
    if (!q->ready || q->broken)
        return;
    q->kick_suppressed = suppress;
    if (q->event_idx) {
        /* With EVENT_IDX used->flags stays 0 (SPLIT-ANS-10). avail_event = last_avail asks
         * for a kick at the next entry; one behind it asks for none until the 16-bit idx
         * comes round again. */
        dev_write_avail_event(q, suppress ? (uint16_t)(q->last_avail - 1) : q->last_avail, true);
        return;
    }
    /* Without EVENT_IDX the device writes only 0 or 1 (SPLIT-ANS-08). */
    ring_st16(q->used + VIRTQ_USED_FLAGS, suppress ? VIRTQ_USED_F_NO_NOTIFY : 0);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.device + VIRTQ_USED_FLAGS, 2, true);
    /* After re-enabling the caller re-checks pending(): order the store before that load. */
    if (!suppress)
        ring_barrier(&q->dma, VQF_BARRIER_MB, true);
}

bool vqf_split_dev_pending(struct vqf_split_dev *q)
{
    if (!q->ready || q->broken)
        return false;
    if (q->last_avail != q->avail_shadow)
        return true;
    uint16_t idx = ring_ld16(q->avail + VIRTQ_AVAIL_IDX);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.driver + VIRTQ_AVAIL_IDX, 2, true);
    return idx != q->last_avail;
}

/* =============================== driver half =============================== */

RING_COLD int drv_fail(struct vqf_split_drv *q, int err)
{
    q->broken = true;
    vqf_mem_event(q->dma.mem, q->dma.side, VQF_EV_DRV_ERROR, q->cfg.index, (uint32_t)err, 0);
    return -err;
}

/* Zero one ring part through guest memory: logged and marked for the per-input reset. */
static void drv_zero(struct vqf_split_drv *q, uint8_t *host, uint64_t gpa, uint64_t len)
{
    memset(host, 0, (size_t)len);
    vqf_mem_mark_dirty(q->dma.mem, gpa, len);
    ring_note(&q->dma, VQF_ACC_WRITE, gpa, len, true);
}

int vqf_split_drv_init(struct vqf_split_drv *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg)
{
    q->ready = false;
    q->broken = false;
    int rc = check_cfg(cfg);
    uint8_t *desc = NULL, *avail = NULL, *used = NULL, *ind_host = NULL;
    if (rc == 0)
        rc = map_parts(dma->mem, cfg, &desc, &avail, &used);
    if (rc < 0)
        return rc;
    uint32_t size = cfg->size, slice = 0;
    if (vqf_has_feature(cfg->features, VIRTIO_F_INDIRECT_DESC) && cfg->ind_pool && cfg->ind_pool_len) {
        /* One table per head; 16-byte multiples keep every table aligned like the ring. */
        slice = (cfg->ind_pool_len / size) & ~(VIRTQ_DESC_SIZE - 1);
        if (slice) {
            ind_host = vqf_mem_xlate(dma->mem, cfg->ind_pool, (uint64_t)slice * size);
            if (!ind_host)
                return -VQF_ERR_ADDR;
        }
    }
    /* Host arrays grow only: re-initialising with the same or a smaller size allocates
     * nothing, so a queue reset inside the per-input loop stays malloc-free. */
    if (size > q->cap) {
        free(q->slots);
        free(q->next_free);
        q->slots = malloc(size * sizeof(*q->slots));
        q->next_free = malloc(size * sizeof(*q->next_free));
        if (!q->slots || !q->next_free) {
            free(q->slots);
            free(q->next_free);
            q->slots = NULL;
            q->next_free = NULL;
            q->cap = 0;
            return -VQF_ERR_NOSPACE;
        }
        q->cap = size;
    }
    q->dma = *dma;
    q->cfg = *cfg;
    q->desc = desc;
    q->avail = avail;
    q->used = used;
    q->ind_host = ind_host;
    q->ind_slice = slice;
    q->mask = size - 1u;
    q->event_idx = vqf_has_feature(cfg->features, VIRTIO_F_EVENT_IDX);
    q->indirect = ind_host != NULL;
    q->in_order = vqf_has_feature(cfg->features, VIRTIO_F_IN_ORDER);
    /* SPLIT-ANS-01 (2.7.10.1): used->flags is 0 when the ring is allocated; avail flags and
     * idx start at 0 as the device expects after reset. */
    drv_zero(q, desc, cfg->desc, VIRTQ_DESC_TABLE_BYTES(size));
    drv_zero(q, avail, cfg->driver, VIRTQ_AVAIL_BYTES(size));
    drv_zero(q, used, cfg->device, VIRTQ_USED_BYTES(size));
    memset(q->slots, 0, size * sizeof(*q->slots));
    for (uint32_t i = 0; i < size; i++)
        q->next_free[i] = (uint16_t)((i + 1) & q->mask);
    q->free_head = 0;
    q->num_free = (uint16_t)size; /* <= 32768 */
    q->avail_idx = q->avail_published = q->kicked_idx = 0;
    q->last_used = q->used_shadow = 0;
    q->outstanding = 0;
    q->in_order_next = 0;
    q->batch_end_id = 0;
    q->in_batch = false;
    q->batch_last_len = 0;
    q->fast = !q->in_order && ring_even((uintptr_t)avail, (uintptr_t)used, 0);
    q->gate_pad = 0;
    q->ready = true;
    return 0;
}

void vqf_split_drv_free(struct vqf_split_drv *q)
{
    free(q->slots);
    free(q->next_free);
    q->slots = NULL;
    q->next_free = NULL;
    q->cap = 0;
    q->ready = false;
}

RING_HOT void drv_put_desc(struct vqf_split_drv *q, uint8_t *d, uint64_t gpa, uint64_t addr, uint32_t len,
                            uint16_t flags, uint16_t next, const bool obs)
{
    ring_wr64(d + DESC_ADDR, addr);
    ring_wr32(d + DESC_LEN, len);
    ring_wr16(d + DESC_FLAGS, flags);
    ring_wr16(d + DESC_NEXT, next);
    ring_note(&q->dma, VQF_ACC_WRITE, gpa, VIRTQ_DESC_SIZE, obs);
}

RING_HOT int drv_add(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin, uint32_t token,
                     unsigned flags, const bool obs)
{
    uint32_t size = q->cfg.size;
    /* SPLIT-IND-03: no chain longer than the queue size, indirect or not. */
    if (nout > size || nin > size || nout + nin - 1u >= size) /* also catches 0 segments */
        return -VQF_ERR_INVAL;
    unsigned total = nout + nin;
    uint64_t out_len = 0, in_len = 0;
    if (total == 1) {
        out_len = nout ? sg[0].len : 0;
        in_len = nin ? sg[0].len : 0;
    } else {
        for (unsigned i = 0; i < total; i++) {
            if (i < nout)
                out_len += sg[i].len;
            else
                in_len += sg[i].len;
        }
        /* SPLIT-DSC-05: at most 2^32 bytes per chain. */
        if (out_len > UINT32_MAX || in_len > UINT32_MAX || out_len + in_len > ((uint64_t)1 << 32))
            return -VQF_ERR_INVAL;
    }
    bool ind = (flags & VQF_ADD_INDIRECT) && q->indirect && total * VIRTQ_DESC_SIZE <= q->ind_slice;
    unsigned ndesc = ind ? 1 : total;
    if (ndesc > q->num_free)
        return -VQF_ERR_NOSPACE;

    uint16_t head = q->free_head, last;
    if (total == 1 && !ind) {
        /* The common chain: one descriptor, no NEXT. */
        drv_put_desc(q, q->desc + (uint64_t)head * VIRTQ_DESC_SIZE, q->cfg.desc + (uint64_t)head * VIRTQ_DESC_SIZE,
                     sg[0].addr, sg[0].len, nin ? VIRTQ_DESC_F_WRITE : 0, 0, obs);
        last = head;
        q->free_head = q->in_order ? (uint16_t)((head + 1) & q->mask) : q->next_free[head];
    } else if (ind) {
        /* 2.7.5.3: one table in this head's slice of the pool, entries in order (next = i+1,
         * which also satisfies SPLIT-IND-05 under IN_ORDER). */
        uint64_t tgpa = q->cfg.ind_pool + (uint64_t)head * q->ind_slice;
        uint8_t *t = q->ind_host + (uint64_t)head * q->ind_slice;
        for (unsigned i = 0; i < total; i++) {
            uint16_t f = (uint16_t)((i >= nout ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < total ? VIRTQ_DESC_F_NEXT : 0));
            drv_put_desc(q, t + i * VIRTQ_DESC_SIZE, tgpa + i * VIRTQ_DESC_SIZE, sg[i].addr, sg[i].len, f,
                         (uint16_t)(i + 1 < total ? i + 1 : 0), obs);
        }
        vqf_mem_mark_dirty(q->dma.mem, tgpa, (uint64_t)total * VIRTQ_DESC_SIZE);
        drv_put_desc(q, q->desc + (uint64_t)head * VIRTQ_DESC_SIZE, q->cfg.desc + (uint64_t)head * VIRTQ_DESC_SIZE,
                     tgpa, total * VIRTQ_DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0, obs);
        last = head;
        q->free_head = q->in_order ? (uint16_t)((head + 1) & q->mask) : q->next_free[head];
    } else {
        /* Descriptors from the free list; under IN_ORDER in ring order, the next of slot x
         * being x+1 and 0 after the last slot (SPLIT-DSC-06). */
        uint16_t i = head;
        last = head;
        for (unsigned k = 0; k < total; k++) {
            uint16_t nx = q->in_order ? (uint16_t)((i + 1) & q->mask) : q->next_free[i];
            uint16_t f = (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < total ? VIRTQ_DESC_F_NEXT : 0));
            drv_put_desc(q, q->desc + (uint64_t)i * VIRTQ_DESC_SIZE, q->cfg.desc + (uint64_t)i * VIRTQ_DESC_SIZE,
                         sg[k].addr, sg[k].len, f, k + 1 < total ? nx : 0, obs);
            last = i;
            i = nx;
        }
        q->free_head = i;
    }
    q->num_free = (uint16_t)(q->num_free - ndesc);
    struct vqf_split_drv_slot *s = &q->slots[head];
    s->token = token;
    s->wcap = (uint32_t)in_len;
    s->ndesc = (uint16_t)ndesc;
    s->last = last;
    s->indirect = ind;
    s->busy = 1;
    /* 2.7.13.2: the head goes into the next avail ring entry; idx is written at kick. */
    uint64_t off = VIRTQ_AVAIL_RING(q->avail_idx & q->mask);
    ring_wr16(q->avail + off, head);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + off, 2, obs);
    q->avail_idx++;
    q->outstanding++;
    ring_event(&q->dma, VQF_EV_DRV_ADD, q->cfg.index, head, ndesc, obs);
    return head;
}

RING_COLD int drv_add_observed(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                                uint32_t token, unsigned flags)
{
    return drv_add(q, sg, nout, nin, token, flags, true);
}

RING_COLD int drv_add_plain(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                            uint32_t token, unsigned flags)
{
    return drv_add(q, sg, nout, nin, token, flags, false);
}

int vqf_split_drv_fail(struct vqf_split_drv *q, int err)
{
    return drv_fail(q, err);
}

int vqf_split_drv_add_slow(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                           uint32_t token, unsigned flags)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? drv_add_observed(q, sg, nout, nin, token, flags)
                                  : drv_add_plain(q, sg, nout, nin, token, flags);
}

RING_HOT bool drv_kick_prepare(struct vqf_split_drv *q, const bool obs)
{
    uint16_t new_idx = q->avail_idx, old_idx = q->kicked_idx;
    if (new_idx == old_idx)
        return false; /* nothing added since the last decision */
    /* SPLIT-PUB-01 (2.7.13.3.1): descriptors and ring entries before idx. */
    ring_barrier(&q->dma, VQF_BARRIER_WMB, obs);
    ring_st16(q->avail + VIRTQ_AVAIL_IDX, new_idx);
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + VIRTQ_AVAIL_IDX, 2, obs);
    q->avail_published = new_idx;
    ring_event(&q->dma, VQF_EV_DRV_PUBLISH, q->cfg.index, new_idx, 0, obs);
    /* SPLIT-PUB-02 (2.7.13.4.1): the idx store before the flags / avail_event load. */
    ring_barrier(&q->dma, VQF_BARRIER_MB, obs);
    q->kicked_idx = new_idx; /* not merged with avail_published: see NO_STORE_MERGE */
    if (q->event_idx) {
        /* SPLIT-ANS-05/06: ignore flags; kick iff idx crossed avail_event since the last
         * decision (D-06). */
        uint64_t off = VIRTQ_AVAIL_EVENT(q->cfg.size);
        uint16_t ev = ring_ld16(q->used + off);
        ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + off, 2, obs);
        return vqf_need_event(ev, new_idx, old_idx);
    }
    /* SPLIT-ANS-02..04: flags 0 -> kick, 1 -> do not; avail_event ignored. */
    uint16_t flags = ring_ld16(q->used + VIRTQ_USED_FLAGS);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_USED_FLAGS, 2, obs);
    return !(flags & VIRTQ_USED_F_NO_NOTIFY);
}

RING_COLD bool drv_kick_prepare_observed(struct vqf_split_drv *q)
{
    return drv_kick_prepare(q, true);
}

RING_COLD bool drv_kick_prepare_plain(struct vqf_split_drv *q)
{
    return drv_kick_prepare(q, false);
}

bool vqf_split_drv_kick_prepare_slow(struct vqf_split_drv *q)
{
    if (!RING_LIVE(q))
        return false;
    return ring_observed(&q->dma) ? drv_kick_prepare_observed(q) : drv_kick_prepare_plain(q);
}

uint32_t vqf_split_drv_notify_value(const struct vqf_split_drv *q)
{
    if (!vqf_has_feature(q->cfg.features, VIRTIO_F_NOTIFICATION_DATA))
        return q->cfg.index;
    /* 2.9 (D-09): next_off = avail idx bits 0-14, next_wrap = bit 15 of the published idx,
     * so repeated kicks with nothing new carry identical values. */
    return vqf_notification_data(q->cfg.index, (uint16_t)(q->avail_published & 0x7fffu),
                                 (unsigned)(q->avail_published >> 15));
}

/* Return head to the free descriptors and report it. */
RING_HOT void drv_reclaim(struct vqf_split_drv *q, uint16_t head, uint32_t len, uint32_t *token, uint32_t *lenp,
                           const bool obs)
{
    struct vqf_split_drv_slot *s = &q->slots[head];
    if (q->in_order) {
        /* Under IN_ORDER the free descriptors are the ring range after the outstanding
         * ones: reclaiming in order just moves the start of the outstanding range. */
        q->in_order_next = (uint16_t)((head + s->ndesc) & q->mask);
    } else {
        q->next_free[s->last] = q->free_head;
        q->free_head = head;
    }
    q->num_free = (uint16_t)(q->num_free + s->ndesc);
    s->busy = 0;
    q->outstanding--;
    NO_STORE_MERGE();
    q->last_used++;
    *token = s->token;
    *lenp = len;
    ring_event(&q->dma, VQF_EV_DRV_RECLAIM, q->cfg.index, head, len, obs);
}

RING_HOT int drv_get_used(struct vqf_split_drv *q, uint32_t *token, uint32_t *len, const bool obs)
{
    if (q->in_batch) {
        /* IN_ORDER batch (2.7.9): buffers before the named one were used completely. */
        uint16_t h = q->in_order_next;
        bool last = h == q->batch_end_id;
        if (last)
            q->in_batch = false;
        drv_reclaim(q, h, last ? q->batch_last_len : q->slots[h].wcap, token, len, obs);
        return 1;
    }
    if (q->last_used == q->used_shadow) {
        uint16_t idx = ring_ld16(q->used + VIRTQ_USED_IDX);
        ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_USED_IDX, 2, obs);
        /* D-02: the device cannot publish more entries than buffers are outstanding. */
        if ((uint16_t)(idx - q->last_used) > q->outstanding)
            return drv_fail(q, VQF_ERR_USED_IDX);
        if (idx == q->last_used)
            return 0;
        q->used_shadow = idx;
        /* 2.7.14: read the used elements only after the idx that covers them. */
        ring_barrier(&q->dma, VQF_BARRIER_RMB, obs);
    }
    uint64_t off = VIRTQ_USED_RING(q->last_used & q->mask);
    uint32_t id = ring_rd32(q->used + off);
    uint32_t l = ring_rd32(q->used + off + 4);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + off, VIRTQ_USED_ELEM_SIZE, obs);
    if (id >= q->cfg.size)
        return drv_fail(q, VQF_ERR_USED_ID); /* D-03 */
    if (!q->in_order) {
        if (!q->slots[id].busy)
            return drv_fail(q, VQF_ERR_USED_ID); /* D-03: not outstanding */
        if (l > q->slots[id].wcap)
            return drv_fail(q, VQF_ERR_USED_LEN); /* D-04 */
        drv_reclaim(q, (uint16_t)id, l, token, len, obs);
        return 1;
    }
    /* IN_ORDER (2.7.9, D-07): the entry names the last buffer of a batch that starts at the
     * expected head. The id must lie in the outstanding descriptor range ... */
    uint16_t first = q->in_order_next;
    if ((uint16_t)((id - first) & q->mask) >= (uint16_t)(q->cfg.size - q->num_free))
        return drv_fail(q, VQF_ERR_USED_ORDER);
    /* ... and be a head there (not a descriptor inside a chain). */
    if (!q->slots[id].busy)
        return drv_fail(q, VQF_ERR_USED_ID);
    if (l > q->slots[id].wcap)
        return drv_fail(q, VQF_ERR_USED_LEN);
    /* Batch size: heads from first up to id. Bounded by the outstanding count. */
    unsigned k = 0;
    for (uint16_t h = first; h != id; h = (uint16_t)((h + q->slots[h].ndesc) & q->mask))
        if (++k >= q->outstanding)
            return drv_fail(q, VQF_ERR_USED_ORDER);
    /* The device advanced used idx by the batch size: a batch past it is out of order. */
    if (k + 1 > (uint16_t)(q->used_shadow - q->last_used))
        return drv_fail(q, VQF_ERR_USED_ORDER);
    if (k == 0) {
        drv_reclaim(q, first, l, token, len, obs);
        return 1;
    }
    q->in_batch = true;
    q->batch_end_id = (uint16_t)id;
    q->batch_last_len = l;
    drv_reclaim(q, first, q->slots[first].wcap, token, len, obs);
    return 1;
}

RING_COLD int drv_get_used_observed(struct vqf_split_drv *q, uint32_t *token, uint32_t *len)
{
    return drv_get_used(q, token, len, true);
}

RING_COLD int drv_get_used_plain(struct vqf_split_drv *q, uint32_t *token, uint32_t *len)
{
    return drv_get_used(q, token, len, false);
}

int vqf_split_drv_get_used_slow(struct vqf_split_drv *q, uint32_t *token, uint32_t *len)
{
    if (!RING_LIVE(q))
        return -VQF_ERR_NOT_READY;
    return ring_observed(&q->dma) ? drv_get_used_observed(q, token, len) : drv_get_used_plain(q, token, len);
}

bool vqf_split_drv_has_used(struct vqf_split_drv *q)
{
    if (!q->ready || q->broken)
        return false;
    if (q->in_batch || q->last_used != q->used_shadow)
        return true;
    uint16_t idx = ring_ld16(q->used + VIRTQ_USED_IDX);
    ring_note(&q->dma, VQF_ACC_READ, q->cfg.device + VIRTQ_USED_IDX, 2, true);
    return idx != q->last_used;
}

void vqf_split_drv_disable_cb(struct vqf_split_drv *q)
{
    if (!q->ready || q->broken)
        return;
    if (q->event_idx) {
        /* With EVENT_IDX flags must stay 0 (SPLIT-UNS-03): point used_event one behind the
         * next entry, so the device does not notify until the 16-bit idx comes round. */
        uint64_t off = VIRTQ_USED_EVENT(q->cfg.size);
        ring_st16(q->avail + off, (uint16_t)(q->last_used - 1));
        ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + off, 2, true);
        return;
    }
    ring_st16(q->avail + VIRTQ_AVAIL_FLAGS, VIRTQ_AVAIL_F_NO_INTERRUPT); /* SPLIT-UNS-01/02 */
    ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + VIRTQ_AVAIL_FLAGS, 2, true);
}

bool vqf_split_drv_enable_cb(struct vqf_split_drv *q)
{
    if (!q->ready || q->broken)
        return true;
    if (q->event_idx) {
        /* SPLIT-UNS-04: notify when the device writes the entry this driver reads next. */
        uint64_t off = VIRTQ_USED_EVENT(q->cfg.size);
        ring_st16(q->avail + off, q->last_used);
        ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + off, 2, true);
    } else {
        ring_st16(q->avail + VIRTQ_AVAIL_FLAGS, 0);
        ring_note(&q->dma, VQF_ACC_WRITE, q->cfg.driver + VIRTQ_AVAIL_FLAGS, 2, true);
    }
    /* Pairs with the device's barrier before it reads flags / used_event (2.7.7.2): either
     * it sees the re-enable or this load sees its new used idx. */
    ring_barrier(&q->dma, VQF_BARRIER_MB, true);
    return !vqf_split_drv_has_used(q);
}
