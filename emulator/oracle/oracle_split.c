/* The oracle's split-ring model (spec 2.7). It decodes the rings from guest memory itself,
 * never from the ring code: when the driver writes avail->idx it walks every newly published
 * chain (validating it, 2.7.5.x) and records ownership - outstanding heads, the descriptor
 * slots and indirect tables they use, their readable and writable byte ranges; when the
 * device writes used->idx it checks every covered used element against that shadow (2.7.8,
 * D-02..D-04, IN_ORDER D-07). Notification obligations (2.7.7.2, 2.7.10.1) are noted when a
 * side reads the suppression field after publishing and checked when both sides are idle. */
#include "emulator/oracle/oracle_int.h"

#include <stdlib.h>
#include <string.h>



/* Ring part ranges (2.7: sizes of the three parts). */
static inline uint64_t desc_len(const struct oq *q) { return VIRTQ_DESC_TABLE_BYTES(q->size); }
static inline uint64_t avail_len(const struct oq *q) { return VIRTQ_AVAIL_BYTES(q->size); }
static inline uint64_t used_len(const struct oq *q) { return VIRTQ_USED_BYTES(q->size); }

void vqf_or_q_ranges(struct oq *q, uint64_t desc_bytes, uint64_t drv_bytes, uint64_t dev_bytes)
{
    const uint64_t base[3] = {q->desc, q->driver, q->device}, bytes[3] = {desc_bytes, drv_bytes, dev_bytes};
    uint64_t lo[3], hi[3];
    q->hull_lo = q->hull_hi = 0;
    bool any = false;
    for (unsigned i = 0; i < 3; i++) {
        /* as vqf_or_overlap: an empty part, or one whose end wraps, overlaps nothing */
        if (bytes[i] && base[i] + bytes[i] > base[i]) {
            lo[i] = base[i];
            hi[i] = base[i] + bytes[i];
            if (!any || lo[i] < q->hull_lo)
                q->hull_lo = lo[i];
            if (!any || hi[i] > q->hull_hi)
                q->hull_hi = hi[i];
            any = true;
        } else {
            lo[i] = hi[i] = 0;
        }
    }
    q->r_desc_lo = lo[0];
    q->r_desc_hi = hi[0];
    q->r_drv_lo = lo[1];
    q->r_drv_hi = hi[1];
    q->r_dev_lo = lo[2];
    q->r_dev_hi = hi[2];
    q->near_lo = q->hull_lo;
    q->near_hi = q->hull_hi;
}

bool vqf_or_split_touches(const struct oq *q, uint64_t gpa, uint64_t len)
{
    uint64_t n = q->live ? q->size : (q->num > 32768 ? 32768 : q->num);
    if (q->packed)
        return vqf_or_overlap(gpa, len, q->desc, n * 16) || vqf_or_overlap(gpa, len, q->driver, 4) ||
               vqf_or_overlap(gpa, len, q->device, 4);
    return vqf_or_overlap(gpa, len, q->desc, VIRTQ_DESC_TABLE_BYTES(n)) ||
           vqf_or_overlap(gpa, len, q->driver, VIRTQ_AVAIL_BYTES(n)) ||
           vqf_or_overlap(gpa, len, q->device, VIRTQ_USED_BYTES(n));
}

void vqf_or_split_free(struct oq *q)
{
    free(q->outlist);
    free(q->out_span);
    free(q->out_id);
    free(q->order);
    free(q->ch);
    free(q->owner);
    free(q->dseg);
    free(q->dnext);
    free(q->iseg);
    free(q->elem_written);
    free(q->elem_late);
    free(q->visit);
    free(q->pstate);
    q->pstate = NULL;
    q->outlist = q->order = q->owner = q->dnext = NULL;
    q->out_span = NULL;
    q->out_id = NULL;
    q->ch = NULL;
    q->dseg = q->iseg = NULL;
    q->elem_written = q->elem_late = NULL;
    q->visit = NULL;
    q->cap = 0;
    q->dirty_n = 0;
}

void vqf_or_split_disable(struct oq *q)
{
    q->live = false;
    q->kick_owed = q->irq_owed = false;
    q->pub_since_read = q->upub_since_read = false;
}

/* Per-queue arrays grow at queue enable only (never per event). */
int vqf_or_q_reserve(struct oq *q, uint32_t n)
{
    if (n <= q->cap)
        return 0;
    vqf_or_split_free(q);
    q->outlist = calloc(n, sizeof(uint16_t));
    q->out_span = calloc(n, sizeof(struct ospan));
    q->out_id = calloc(n, sizeof(uint16_t));
    q->order = calloc(n, sizeof(uint16_t));
    q->ch = calloc(n, sizeof(struct ochain));
    q->owner = calloc(n, sizeof(uint16_t));
    q->dseg = calloc(n, sizeof(struct oseg));
    q->dnext = calloc(n, sizeof(uint16_t));
    q->iseg = calloc((size_t)n * OQ_IND_MAX, sizeof(struct oseg));
    q->elem_written = calloc(n, 1);
    q->elem_late = calloc(n, 1);
    q->visit = calloc(n, sizeof(uint32_t));
    q->pstate = calloc(n, 1);
    if (!q->pstate || !q->outlist || !q->out_span || !q->out_id || !q->order || !q->ch || !q->owner || !q->dseg || !q->dnext || !q->iseg || !q->elem_written ||
        !q->elem_late || !q->visit) {
        vqf_or_split_free(q);
        return -1;
    }
    q->cap = n;
    q->dirty_n = 0; /* calloc: all zero */
    return 0;
}

/* Clear the per-slot arrays where anything was written since the last clear (they are zero
 * beyond q->dirty_n): the state every queue starts from when it goes live. */
void vqf_or_q_clear(struct oq *q)
{
    uint32_t n = q->dirty_n;
    if (n > q->cap)
        n = q->cap;
    memset(q->ch, 0, n * sizeof(struct ochain));
    memset(q->owner, 0, n * sizeof(uint16_t));
    memset(q->elem_written, 0, n);
    memset(q->elem_late, 0, n);
    memset(q->visit, 0, n * sizeof(uint32_t));
    memset(q->pstate, 0, n);
    q->dirty_n = 0;
}

int vqf_or_split_enable(struct vqf_oracle *o, struct oq *q)
{
    uint32_t n = q->num; /* a power of two <= 32768, checked by the caller */
    if (vqf_or_q_reserve(q, n) < 0)
        return -1;
    q->size = (uint16_t)n;
    q->mask = n - 1; /* n is a power of two, and num cannot change while the queue is ready */
    vqf_or_q_ranges(q, desc_len(q), avail_len(q), used_len(q));
    vqf_or_q_clear(q);
    q->stamp = 0;
    q->nout = 0;
    q->order_head = q->order_len = 0;
    q->avail_idx = q->used_idx = 0;
    q->avail_total = q->used_total = 0;
    q->dev_cons = 0;
    q->kick_base = q->irq_base = 0;
    q->kick_dec_base = q->irq_dec_base = 0;
    q->kick_read_other = q->irq_read_other = false;
    q->io_next = 0;
    q->kick_owed = q->irq_owed = false;
    q->kick_unwanted = q->irq_unwanted = false;
    q->pub_since_read = q->upub_since_read = false;
    q->taint_dev = q->taint_drv = false;
    q->fresh_after_reset = q->was_reset;
    q->net_left = 0;
    q->net_desync = false;
    q->rlo = UINT64_MAX;
    q->rhi = 0;
    q->spans_ok = true;
    q->live = true;
    uint16_t uflags = 0;
    if (vqf_or_rd16(o, q->device + VIRTQ_USED_FLAGS, &uflags) && uflags != 0) {
        /* 2.7.10.1: the driver zeroes used->flags when it allocates the used ring */
        vqf_or_find(o, VQF_CL_SPLIT_ANS_01, VQF_SIDE_DRIVER, q->device, uflags, 0,
                    "used->flags is 0x%x at queue enable (used ring 0x%llx)", uflags, (unsigned long long)q->device);
    }
    return 0;
}

/* A side that is not judged broke a rule on this queue: stop judging the other side here
 * (it may be reacting to the lie). A judged side's violation is reported by the caller. */
void vqf_or_taint(struct oq *q, unsigned liar)
{
    if (liar == VQF_SIDE_DRIVER)
        q->taint_dev = true;
    else
        q->taint_drv = true;
}

void vqf_or_bad(struct vqf_oracle *o, struct oq *q, enum vqf_clause_id c, unsigned side, uint64_t v0, uint64_t v1,
                uint64_t v2, const char *what)
{
    unsigned qi = (unsigned)(q - o->q);
    vqf_or_find(o, c, side, v0, v1, v2, "queue %u: %s (0x%llx, 0x%llx, 0x%llx)", qi, what, (unsigned long long)v0,
                (unsigned long long)v1, (unsigned long long)v2);
    vqf_or_taint(q, side);
}

/* ---- publication: walk a chain (2.7.5, 2.7.5.3, 2.7.4.2) ---- */

struct walk {
    uint16_t ndesc, nind;
    uint8_t ind_write;
    uint64_t ind_addr;
    uint32_t ind_len;
    uint64_t wcap;
};

static uint32_t next_stamp(struct oq *q)
{
    if (++q->stamp == 0) {
        memset(q->visit, 0, q->cap * sizeof(uint32_t));
        q->stamp = 1;
    }
    return q->stamp;
}

/* Validate the chain at head; returns true if well-formed (violations are reported). */
static bool walk_chain(struct vqf_oracle *o, struct oq *q, uint16_t head, struct walk *w)
{
    const unsigned D = VQF_SIDE_DRIVER;
    uint32_t size = q->num;
    bool in_order = or_feat(q->feat, VIRTIO_F_IN_ORDER);
    uint32_t stamp = next_stamp(q);
    uint64_t total = 0;
    uint32_t n = 0;
    bool seen_w = false;
    uint32_t slot = head;
    memset(w, 0, sizeof(*w));
    for (;;) {
        if (slot >= size) {
            vqf_or_bad(o, q, VQF_CL_D_05, D, head, slot, size, "next index out of range");
            return false;
        }
        if (q->visit[slot] == stamp) {
            vqf_or_bad(o, q, VQF_CL_SPLIT_DSC_05, D, head, slot, 0, "chain loops back to a descriptor");
            return false;
        }
        vqf_or_dirty(q, slot);
        q->visit[slot] = stamp;
        if (q->owner[slot]) {
            vqf_or_bad(o, q, VQF_CL_CLEAN_02, D, head, slot, q->owner[slot] - 1u,
                "chain reuses a descriptor of an outstanding chain");
            return false;
        }
        uint64_t base = q->desc + 16u * slot, addr = 0;
        uint32_t len = 0;
        uint16_t flags = 0, next = 0;
        const uint8_t *dp = vqf_or_ptr(o, base, 16);
        if (dp) { /* the whole descriptor mapped: decode it in place (2.7.5) */
            addr = vqf_le64(dp);
            len = vqf_le32(dp + 8);
            flags = vqf_le16(dp + 12);
            next = vqf_le16(dp + 14);
        } else {
            vqf_or_rd64(o, base, &addr);
            vqf_or_rd32(o, base + 8, &len);
            vqf_or_rd16(o, base + 12, &flags);
            vqf_or_rd16(o, base + 14, &next);
        }
        w->ndesc++;
        if (len && !or_feat(q->feat, VIRTIO_F_ACCESS_PLATFORM) && !vqf_or_ptr(o, addr, len)) {
            /* 6.1: without ACCESS_PLATFORM, buffers are guest memory */
            vqf_or_bad(o, q, VQF_CL_RSVD_05, D, head, addr, len, "descriptor addresses memory outside the guest");
            return false;
        }
        if (flags & VIRTQ_DESC_F_INDIRECT) {
            if (!or_feat(q->feat, VIRTIO_F_INDIRECT_DESC)) {
                vqf_or_bad(o, q, VQF_CL_SPLIT_IND_01, D, head, slot, flags, "INDIRECT without VIRTIO_F_INDIRECT_DESC");
                return false;
            }
            if (flags & VIRTQ_DESC_F_NEXT) {
                vqf_or_bad(o, q, VQF_CL_SPLIT_IND_04, D, head, slot, flags, "INDIRECT together with NEXT");
                return false;
            }
            if (len == 0 || len % 16) {
                vqf_or_bad(o, q, VQF_CL_D_05, D, head, slot, len, "indirect table length not a multiple of 16");
                return false;
            }
            uint32_t ents = len / 16;
            w->ind_write = (flags & VIRTQ_DESC_F_WRITE) != 0;
            w->ind_addr = addr;
            w->ind_len = len;
            uint32_t i = 0, cnt = 0;
            for (;;) {
                uint64_t eb = addr + 16u * i, ea = 0;
                uint32_t el = 0;
                uint16_t ef = 0, en = 0;
                vqf_or_rd64(o, eb, &ea);
                vqf_or_rd32(o, eb + 8, &el);
                vqf_or_rd16(o, eb + 12, &ef);
                vqf_or_rd16(o, eb + 14, &en);
                if (el && !or_feat(q->feat, VIRTIO_F_ACCESS_PLATFORM) && !vqf_or_ptr(o, ea, el)) {
                    vqf_or_bad(o, q, VQF_CL_RSVD_05, D, head, ea, el, "indirect entry addresses memory outside the guest");
                    return false;
                }
                if (++cnt > ents) {
                    vqf_or_bad(o, q, VQF_CL_SPLIT_DSC_05, D, head, i, ents, "indirect table loops");
                    return false;
                }
                if (++n > size) {
                    vqf_or_bad(o, q, VQF_CL_SPLIT_IND_03, D, head, n, size, "chain has more descriptors than the queue size");
                    return false;
                }
                if (ef & VIRTQ_DESC_F_INDIRECT) {
                    vqf_or_bad(o, q, VQF_CL_SPLIT_IND_02, D, head, i, ef, "INDIRECT inside an indirect table");
                    return false;
                }
                if (seen_w && !(ef & VIRTQ_DESC_F_WRITE)) {
                    vqf_or_bad(o, q, VQF_CL_SPLIT_FRM_03, D, head, i, ef, "device-readable after device-writable (indirect)");
                    return false;
                }
                seen_w |= (ef & VIRTQ_DESC_F_WRITE) != 0;
                total += el;
                if (total > 0xffffffffull) {
                    vqf_or_bad(o, q, VQF_CL_SPLIT_DSC_05, D, head, total, 0, "chain longer than 2^32 bytes");
                    return false;
                }
                if (ef & VIRTQ_DESC_F_WRITE)
                    w->wcap += el;
                if (w->nind < OQ_IND_MAX) {
                    struct oseg *s = &q->iseg[(size_t)head * OQ_IND_MAX + w->nind];
                    s->addr = ea;
                    s->len = el;
                    s->write = (ef & VIRTQ_DESC_F_WRITE) ? 1 : 0;
                }
                w->nind++;
                if (!(ef & VIRTQ_DESC_F_NEXT))
                    break;
                if (en >= ents) {
                    vqf_or_bad(o, q, VQF_CL_D_05, D, head, en, ents, "indirect next out of range");
                    return false;
                }
                if (in_order && en != i + 1) {
                    vqf_or_bad(o, q, VQF_CL_SPLIT_IND_05, D, head, i, en, "IN_ORDER indirect entry does not chain to the next");
                    return false;
                }
                i = en;
            }
            q->dseg[slot].addr = addr;
            q->dseg[slot].len = len;
            q->dseg[slot].write = SEG_IND;
            return true;
        }
        if (++n > size) {
            vqf_or_bad(o, q, VQF_CL_SPLIT_IND_03, D, head, n, size, "chain has more descriptors than the queue size");
            return false;
        }
        if (seen_w && !(flags & VIRTQ_DESC_F_WRITE)) {
            vqf_or_bad(o, q, VQF_CL_SPLIT_FRM_03, D, head, slot, flags, "device-readable after device-writable");
            return false;
        }
        seen_w |= (flags & VIRTQ_DESC_F_WRITE) != 0;
        total += len;
        if (total > 0xffffffffull) {
            vqf_or_bad(o, q, VQF_CL_SPLIT_DSC_05, D, head, total, 0, "chain longer than 2^32 bytes");
            return false;
        }
        if (flags & VIRTQ_DESC_F_WRITE)
            w->wcap += len;
        q->dseg[slot].addr = addr;
        q->dseg[slot].len = len;
        q->dseg[slot].write = (flags & VIRTQ_DESC_F_WRITE) ? 1 : 0;
        q->dnext[slot] = next;
        if (!(flags & VIRTQ_DESC_F_NEXT))
            return true;
        if (in_order && next != ((slot + 1) & q->mask)) {
            vqf_or_bad(o, q, VQF_CL_SPLIT_DSC_06, D, head, slot, next, "IN_ORDER descriptor does not chain to the next slot");
            return false;
        }
        slot = next;
    }
}

void vqf_or_bbox_add(struct oq *q, uint64_t a, uint64_t len)
{
    if (!len)
        return;
    if (a < q->rlo)
        q->rlo = a;
    if (a + len > q->rhi || a + len < a)
        q->rhi = a + len < a ? UINT64_MAX : a + len;
    if (q->rlo < q->near_lo)
        q->near_lo = q->rlo;
    if (q->rhi > q->near_hi)
        q->near_hi = q->rhi;
}

static void publish_chain(struct vqf_oracle *o, struct oq *q, uint16_t head)
{
    if (head >= q->num) {
        vqf_or_bad(o, q, VQF_CL_D_05, VQF_SIDE_DRIVER, head, q->num, 0, "avail ring entry out of range");
        return;
    }
    struct ochain *c = &q->ch[head];
    if (c->out) {
        if (vqf_or_judged(o, VQF_SIDE_DEVICE))
            vqf_or_bad(o, q, VQF_CL_CLEAN_02, VQF_SIDE_DRIVER, head, 0, 0, "head made available again while outstanding");
        else
            vqf_or_taint(q, VQF_SIDE_DEVICE); /* a completion the model missed: stop judging the driver here */
        return;
    }
    bool in_order = or_feat(q->feat, VIRTIO_F_IN_ORDER);
    if (in_order && q->io_next != OQ_NONE && head != q->io_next) {
        /* 2.7.9 (D-07): with IN_ORDER the driver uses descriptors in ring order, from slot 0 */
        vqf_or_bad(o, q, VQF_CL_D_07, VQF_SIDE_DRIVER, head, q->io_next, 0,
                   "IN_ORDER chain does not start at the next descriptor in ring order (head, expected)");
        q->io_next = OQ_NONE;
        return;
    }
    struct walk w;
    if (!walk_chain(o, q, head, &w)) {
        q->io_next = OQ_NONE; /* the ring position is lost with the chain */
        return;
    }
    if (in_order)
        q->io_next = (uint16_t)((head + w.ndesc) & q->mask);
    vqf_or_dirty(q, head);
    c->out = 1;
    c->ind_write = w.ind_write;
    c->ndesc = w.ndesc;
    c->nind = w.nind;
    c->untracked = w.nind > OQ_IND_MAX;
    c->ind_addr = w.ind_addr;
    c->ind_len = w.ind_len;
    c->wcap = w.wcap;
    c->written = 0;
    c->devbad = 0; /* a verdict on the request this head carried before does not carry over */
    uint32_t slot = head;
    for (unsigned d = 0; d < w.ndesc; d++) {
        q->owner[slot] = (uint16_t)(head + 1u);
        vqf_or_bbox_add(q, q->dseg[slot].addr, q->dseg[slot].len);
        slot = q->dnext[slot];
    }
    for (unsigned i = 0; i < w.nind && i < OQ_IND_MAX; i++) {
        const struct oseg *s = &q->iseg[(size_t)head * OQ_IND_MAX + i];
        vqf_or_bbox_add(q, s->addr, s->len);
    }
    vqf_or_out_add(q, head);
    if (or_feat(q->feat, VIRTIO_F_IN_ORDER)) {
        q->order[(q->order_head + q->order_len) & q->mask] = head;
        q->order_len++;
    }
    vqf_or_dev_publish(o, q, (unsigned)(q - o->q), head);
}

static void span_add(uint64_t *lo, uint64_t *hi, const struct oseg *s)
{
    uint64_t end = s->addr + s->len < s->addr ? UINT64_MAX : s->addr + s->len;
    if (s->addr < *lo)
        *lo = s->addr;
    if (end > *hi)
        *hi = end;
}

void vqf_or_out_add(struct oq *q, uint16_t head)
{
    const struct ochain *c = &q->ch[head];
    struct ospan *p = &q->out_span[q->nout];
    p->dlo = p->ilo = UINT64_MAX;
    p->dhi = p->ihi = 0;
    uint32_t slot = head;
    for (unsigned d = 0; d < c->ndesc; d++) {
        span_add(&p->dlo, &p->dhi, &q->dseg[slot]);
        slot = q->dnext[slot];
    }
    for (unsigned e = 0; e < c->nind && e < OQ_IND_MAX; e++)
        span_add(&p->ilo, &p->ihi, &q->iseg[(size_t)head * OQ_IND_MAX + e]);
    q->ch[head].out_pos = (uint16_t)q->nout;
    q->out_id[q->nout] = c->id;
    q->outlist[q->nout++] = head;
}

void vqf_or_retire(struct oq *q, uint16_t head)
{
    struct ochain *c = &q->ch[head];
    if (!c->out)
        return;
    c->out = 0;
    uint32_t slot = head;
    for (unsigned d = 0; d < c->ndesc; d++) {
        q->owner[slot] = 0;
        slot = q->dnext[slot];
    }
    uint16_t last = q->outlist[--q->nout];
    q->outlist[c->out_pos] = last;
    q->out_span[c->out_pos] = q->out_span[q->nout];
    q->out_id[c->out_pos] = q->out_id[q->nout];
    q->ch[last].out_pos = c->out_pos;
    if (q->nout == 0) {
        q->rlo = UINT64_MAX;
        q->rhi = 0;
        q->near_lo = q->hull_lo;
        q->near_hi = q->hull_hi;
    }
}

__attribute__((noinline)) static void avail_publish(struct vqf_oracle *o, struct oq *q)
{
    uint16_t now = 0;
    vqf_or_rd16(o, q->driver + VIRTQ_AVAIL_IDX, &now);
    uint16_t k = (uint16_t)(now - q->avail_idx);
    if (k == 0)
        return;
    if (q->taint_drv) {
        /* the device lied here: the ownership model no longer holds, judge nothing */
        q->avail_idx = now;
        q->avail_total += k;
        return;
    }
    if (o->drv_wdirty && o->drv_barriers)
        /* 2.7.13.3.1: a write barrier between the ring contents and the idx update */
        vqf_or_bad(o, q, VQF_CL_SPLIT_PUB_01, VQF_SIDE_DRIVER, now, 0, 0,
                   "avail idx published with no write barrier after the descriptor / ring writes");
    o->drv_need_mb = true;
    q->kick_unwanted = false;
    if (k > q->num - q->nout) {
        /* 2.7.6.1: idx never moves back, and never past the free entries */
        vqf_or_bad(o, q, VQF_CL_SPLIT_AVL_01, VQF_SIDE_DRIVER, q->avail_idx, now, q->nout,
            "avail idx moves backwards or past the free entries (old, new, outstanding)");
        q->avail_idx = now;
        return;
    }
    vqf_or_xport_publish(o, q);
    for (uint16_t i = 0; i < k; i++) {
        uint16_t head = 0;
        vqf_or_rd16(o, q->driver + VIRTQ_AVAIL_RING((uint16_t)(q->avail_idx + i) & q->mask), &head);
        publish_chain(o, q, head);
    }
    q->avail_idx = now;
    q->pub_since_read = true;
    q->avail_total += k;
    /* the field that rules the driver's notification decision, as it stands now (D-06) */
    q->kick_rule_at_pub = 0;
    if (o->status & VIRTIO_STATUS_DRIVER_OK)
        vqf_or_rd16(o, or_feat(q->feat, VIRTIO_F_EVENT_IDX) ? q->device + VIRTQ_AVAIL_EVENT(q->size)
                                                             : q->device + VIRTQ_USED_FLAGS,
                    &q->kick_rule_at_pub);
    else /* published before DRIVER_OK, when no notification may be sent (INIT-07): not judged */
        q->kick_rule_at_pub = or_feat(q->feat, VIRTIO_F_EVENT_IDX) ? q->avail_idx : VIRTQ_USED_F_NO_NOTIFY;
}

/* ---- completion: used ring (2.7.8) ---- */

/* Writable segment e of chain h (direct ones first, then its indirect table's), or NULL
 * past the end. */
static const struct oseg *wseg_at(const struct oq *q, uint16_t h, unsigned e)
{
    const struct ochain *c = &q->ch[h];
    uint32_t slot = h;
    if (e < c->ndesc) {
        for (unsigned d = 0; d < e; d++)
            slot = q->dnext[slot];
        return &q->dseg[slot];
    }
    e -= c->ndesc;
    if (c->untracked || e >= c->nind)
        return NULL;
    return &q->iseg[(size_t)h * OQ_IND_MAX + e];
}

/* Does a writable segment of chain h overlap a writable segment of another outstanding chain?
 * Then a device write there cannot be credited to one chain (vqf_or_dev_buffer_write credits
 * the chain it touched last), so the bytes counted for h are not a sound bound. Cold path:
 * run only before reporting SPLIT-USD-02. */
static bool shares_writable(const struct oq *q, uint16_t h)
{
    const struct oseg *a;
    for (unsigned i = 0; (a = wseg_at(q, h, i)) != NULL; i++) {
        if (a->write != 1)
            continue;
        for (uint32_t k = 0; k < q->nout; k++) {
            uint16_t g = q->outlist[k];
            if (g == h)
                continue;
            const struct oseg *b;
            for (unsigned j = 0; (b = wseg_at(q, g, j)) != NULL; j++)
                if (b->write == 1 && vqf_or_overlap(a->addr, a->len, b->addr, b->len))
                    return true;
        }
    }
    return false;
}

static void complete_one(struct vqf_oracle *o, struct oq *q, uint32_t id, uint32_t len)
{
    const unsigned V = VQF_SIDE_DEVICE;
    struct ochain *c = &q->ch[id];
    if (len > c->wcap)
        /* D-04; for the entropy device D-18 states the same bound */
        vqf_or_bad(o, q, o->setup.device_id == VIRTIO_ID_RNG ? VQF_CL_D_18 : VQF_CL_D_04, V, id, len, c->wcap,
                   "used len exceeds the writable capacity (id, len, capacity)");
    else if (!c->untracked && c->written > 0 && len > c->written && !shares_writable(q, (uint16_t)id))
        /* 2.7.8.2: len bytes really written into the writable part before publication.
         * Judged only when the device wrote this chain through logged DMA at all: a device
         * writing through raw pointers is invisible here, not guilty; nor when the driver
         * gave another outstanding chain the same memory (the bytes' owner is ambiguous). */
        vqf_or_bad(o, q, VQF_CL_SPLIT_USD_02, V, id, len, c->written, "used len exceeds the bytes written (id, len, written)");
    vqf_or_dev_complete(o, q, (unsigned)(q - o->q), (uint16_t)id, len);
    vqf_or_retire(q, (uint16_t)id);
}

__attribute__((noinline)) static void used_publish(struct vqf_oracle *o, struct oq *q, unsigned qi)
{
    const unsigned V = VQF_SIDE_DEVICE;
    uint16_t now = 0;
    vqf_or_rd16(o, q->device + VIRTQ_USED_IDX, &now);
    uint16_t old = q->used_idx;
    uint16_t k = (uint16_t)(now - old);
    if (k == 0)
        return;
    q->used_idx = now;
    q->upub_since_read = true;
    q->irq_unwanted = false;
    /* the field that rules the device's notification decision, as it stands now (D-06) */
    vqf_or_rd16(o, or_feat(q->feat, VIRTIO_F_EVENT_IDX) ? q->driver + VIRTQ_USED_EVENT(q->size)
                                                         : q->driver + VIRTQ_AVAIL_FLAGS,
                &q->irq_rule_at_pub);
    q->used_total += k;
    bool fresh = q->fresh_after_reset;
    q->fresh_after_reset = false;
    if (q->taint_dev)
        return;
    if (k > q->nout) {
        /* D-02: never more used entries than buffers made available (after a queue reset
         * the count restarts at 0: stale state is VQRST-02) */
        vqf_or_bad(o, q, fresh ? VQF_CL_VQRST_02 : VQF_CL_D_02, V, old, now, q->nout,
            "used idx runs ahead of the outstanding buffers (old, new, outstanding)");
        return;
    }
    bool in_order = or_feat(q->feat, VIRTIO_F_IN_ORDER);
    uint16_t pos = old;
    while (pos != now) {
        uint32_t p = pos & q->mask;
        if (!q->elem_written[p]) {
            /* Written invisibly, or not yet (then SPLIT-USD-01 fires when it is): the shadow
             * cannot follow this queue any further. */
            for (uint16_t r = pos; r != now; r++) {
                if (!q->elem_written[r & q->mask]) {
                    vqf_or_dirty(q, r & q->mask);
                    q->elem_late[r & q->mask] = 1;
                }
            }
            q->taint_dev = q->taint_drv = true;
            return;
        }
        q->elem_written[p] = 0;
        uint32_t id = 0, len = 0;
        vqf_or_rd32(o, q->device + VIRTQ_USED_RING(p), &id);
        vqf_or_rd32(o, q->device + VIRTQ_USED_RING(p) + 4, &len);
        if (id >= q->num || !q->ch[id].out) {
            vqf_or_bad(o, q, VQF_CL_D_03, V, id, pos, 0, "used id is not an outstanding head (id, used position)");
            return;
        }
        if (!in_order) {
            complete_one(o, q, id, len);
            pos++;
            continue;
        }
        /* IN_ORDER (2.7.9 / D-07): one entry may stand for a batch ending with id */
        uint32_t j = 0;
        while (j < q->order_len && q->order[(q->order_head + j) & q->mask] != id)
            j++;
        uint16_t left = (uint16_t)(now - pos);
        if (j >= q->order_len || j + 1u > left) {
            vqf_or_bad(o, q, VQF_CL_RSVD_18, V, id, q->order[q->order_head & q->mask], left,
                "IN_ORDER used id is not the next buffer in avail order (id, expected, entries left)");
            return;
        }
        for (uint32_t s = 0; s < j; s++) {
            uint16_t hh = q->order[q->order_head & q->mask];
            /* D-07: the buffers a batch entry skips count as fully used */
            vqf_or_dev_complete(o, q, qi, hh, (uint32_t)q->ch[hh].wcap);
            vqf_or_retire(q, hh);
            q->order_head = (q->order_head + 1) & q->mask;
            q->order_len--;
        }
        q->order_head = (q->order_head + 1) & q->mask;
        q->order_len--;
        complete_one(o, q, id, len);
        pos = (uint16_t)(pos + j + 1);
    }
    vqf_or_dev_used_end(o, q, qi);
}

/* ---- device writes into buffers and indirect tables ---- */

/* The segment of chain h that wholly contains [gpa, gpa+len), or NULL. The device works on
 * one chain at a time, so the chain it touched last answers most accesses without a scan of
 * every outstanding chain: a range wholly inside one segment of one chain can belong to
 * another chain only if the driver shared memory between chains. */
static const struct oseg *hit_seg(const struct oq *q, uint16_t h, uint64_t gpa, uint64_t len)
{
    if (h >= q->num || !q->ch[h].out || gpa + len < gpa)
        return NULL;
    const struct ochain *c = &q->ch[h];
    uint32_t slot = h;
    for (unsigned d = 0; d < c->ndesc; d++) {
        const struct oseg *s = &q->dseg[slot];
        if (gpa >= s->addr && gpa + len <= s->addr + s->len)
            return s;
        slot = q->dnext[slot];
    }
    if (!c->untracked)
        for (unsigned e = 0; e < c->nind; e++) {
            const struct oseg *s = &q->iseg[(size_t)h * OQ_IND_MAX + e];
            if (gpa >= s->addr && gpa + len <= s->addr + s->len)
                return s;
        }
    return NULL;
}

/* Is [gpa, gpa+len) wholly inside a segment of an outstanding chain, on any live queue, that
 * the device may access this way (want_write: device-writable; else device-readable, an
 * indirect table included)? When the driver gives the same memory to two chains, an access
 * the other chain allows is not the device's fault. Cold path: run only before reporting
 * DSC-01 / DSC-02. */
static bool access_allowed_elsewhere(const struct vqf_oracle *o, uint64_t gpa, uint64_t len, bool want_write)
{
    for (unsigned l = 0; l < o->nlive; l++) {
        const struct oq *q = &o->q[o->live_idx[l]];
        if (q->nout == 0 || gpa >= q->rhi || gpa + len <= q->rlo)
            continue;
        for (uint32_t i = 0; i < q->nout; i++) {
            if (!vqf_or_out_near(q, i, gpa, len))
                continue;
            const struct oseg *s = hit_seg(q, q->outlist[i], gpa, len);
            if (s && (s->write == 1) == want_write)
                return true;
        }
    }
    return false;
}

/* A device write that q's ring rules forbid is the driver's lie, not the device's fault, when
 * a device-writable buffer of an outstanding chain covers it (the driver placed a buffer over
 * this ring, or this ring over a buffer), or when another queue is tainted for the device: a
 * rewritten descriptor there may point the device anywhere, this ring included, and the shadow
 * no longer knows where. q is then tainted too: its memory changed under its rules. Cold path:
 * run only before reporting. */
bool vqf_or_dev_write_excused(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len)
{
    bool excused = access_allowed_elsewhere(o, gpa, len, true);
    for (unsigned i = 0; i < OQ_MAX && !excused; i++)
        excused = &o->q[i] != q && o->q[i].taint_dev;
    if (excused)
        vqf_or_taint(q, VQF_SIDE_DRIVER);
    return excused;
}

void vqf_or_dev_buffer_write(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len)
{
    if (q->nout == 0 || gpa >= q->rhi || gpa + len <= q->rlo)
        return;
    const struct oseg *hs = hit_seg(q, q->hit, gpa, len);
    if (hs && hs->write == 1) {
        q->ch[q->hit].written += len;
        return;
    }
    for (uint32_t i = 0; i < q->nout; i++) {
        if (!vqf_or_out_near(q, i, gpa, len))
            continue;
        uint16_t h = q->outlist[i];
        struct ochain *c = &q->ch[h];
        uint32_t slot = h;
        if (hit_seg(q, h, gpa, len))
            q->hit = h;
        for (unsigned d = 0; d < c->ndesc; d++) {
            const struct oseg *s = &q->dseg[slot];
            if (vqf_or_overlap(gpa, len, s->addr, s->len)) {
                if (s->write == SEG_IND) {
                    if (!q->packed)
                        /* 2.7.5.1; and 2.7.5.3.2: WRITE on the descriptor pointing to the table is
                         * disregarded, a device writing the table then honoured it */
                        vqf_or_bad(o, q, c->ind_write ? VQF_CL_SPLIT_IND_06 : VQF_CL_SPLIT_DSC_04, VQF_SIDE_DEVICE,
                                   gpa, h, s->addr, "device writes an outstanding indirect table (gpa, head, table)");
                    else if (!access_allowed_elsewhere(o, gpa, len, true))
                        /* 2.8.7 (D-11): a packed indirect table is the driver's; WRITE on the
                         * descriptor pointing to it is reserved */
                        vqf_or_bad(o, q, VQF_CL_D_11, VQF_SIDE_DEVICE, gpa, h, s->addr,
                                   "device writes an outstanding packed indirect table (gpa, head, table)");
                    return;
                }
                if (!s->write) {
                    if (!access_allowed_elsewhere(o, gpa, len, true))
                        vqf_or_bad(o, q, q->packed ? VQF_CL_PACK_DSC_01 : VQF_CL_SPLIT_DSC_01, VQF_SIDE_DEVICE, gpa, h, s->addr,
                            "device writes a device-readable buffer (gpa, head, buffer)");
                    return;
                }
                uint64_t lo = gpa > s->addr ? gpa : s->addr;
                uint64_t hi = gpa + len < s->addr + s->len ? gpa + len : s->addr + s->len;
                c->written += hi - lo;
            }
            slot = q->dnext[slot];
        }
        if (c->untracked)
            continue;
        for (unsigned e = 0; e < c->nind; e++) {
            const struct oseg *s = &q->iseg[(size_t)h * OQ_IND_MAX + e];
            if (!vqf_or_overlap(gpa, len, s->addr, s->len))
                continue;
            if (!s->write) {
                if (!access_allowed_elsewhere(o, gpa, len, true))
                    vqf_or_bad(o, q, q->packed ? VQF_CL_PACK_DSC_01 : VQF_CL_SPLIT_DSC_01, VQF_SIDE_DEVICE, gpa, h, s->addr,
                        "device writes a device-readable buffer (gpa, head, buffer)");
                return;
            }
            uint64_t lo = gpa > s->addr ? gpa : s->addr;
            uint64_t hi = gpa + len < s->addr + s->len ? gpa + len : s->addr + s->len;
            c->written += hi - lo;
        }
    }
}

/* The driver writes memory that an outstanding chain owns (3.3.1). */
/* The device reads memory a chain gave it to write (2.7.5.1 / 2.8.15: should not). */
void vqf_or_dev_buffer_read(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len)
{
    if (q->nout == 0 || gpa >= q->rhi || gpa + len <= q->rlo)
        return;
    const struct oseg *hs = hit_seg(q, q->hit, gpa, len);
    if (hs && hs->write == 0)
        return;
    for (uint32_t i = 0; i < q->nout; i++) {
        if (!vqf_or_out_near(q, i, gpa, len))
            continue;
        uint16_t h = q->outlist[i];
        struct ochain *c = &q->ch[h];
        if (hit_seg(q, h, gpa, len))
            q->hit = h;
        if (c->wcap == 0)
            continue;
        uint32_t slot = h;
        for (unsigned d = 0; d < c->ndesc; d++) {
            const struct oseg *s = &q->dseg[slot];
            if (s->write == 1 && vqf_or_overlap(gpa, len, s->addr, s->len)) {
                if (!access_allowed_elsewhere(o, gpa, len, false))
                    vqf_or_bad(o, q, q->packed ? VQF_CL_PACK_DSC_02 : VQF_CL_SPLIT_DSC_02, VQF_SIDE_DEVICE, gpa, h, s->addr,
                               "device reads a device-writable buffer (gpa, head, buffer)");
                return;
            }
            slot = q->dnext[slot];
        }
        for (unsigned e = 0; e < c->nind && e < OQ_IND_MAX; e++) {
            const struct oseg *s = &q->iseg[(size_t)h * OQ_IND_MAX + e];
            if (s->write && vqf_or_overlap(gpa, len, s->addr, s->len)) {
                if (!access_allowed_elsewhere(o, gpa, len, false))
                    vqf_or_bad(o, q, q->packed ? VQF_CL_PACK_DSC_02 : VQF_CL_SPLIT_DSC_02, VQF_SIDE_DEVICE, gpa, h, s->addr,
                               "device reads a device-writable buffer (gpa, head, buffer)");
                return;
            }
        }
    }
}

void vqf_or_drv_buffer_write(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len)
{
    if (q->nout == 0 || gpa >= q->rhi || gpa + len <= q->rlo)
        return;
    for (uint32_t i = 0; i < q->nout; i++) {
        if (!vqf_or_out_near(q, i, gpa, len))
            continue;
        uint16_t h = q->outlist[i];
        struct ochain *c = &q->ch[h];
        uint32_t slot = h;
        for (unsigned d = 0; d < c->ndesc; d++) {
            const struct oseg *s = &q->dseg[slot];
            if (vqf_or_overlap(gpa, len, s->addr, s->len)) {
                vqf_or_bad(o, q, s->write == SEG_IND ? VQF_CL_CLEAN_01 : VQF_CL_CLEAN_02, VQF_SIDE_DRIVER, gpa, h, s->addr,
                    s->write == SEG_IND ? "driver rewrites the indirect table of an outstanding chain"
                                        : "driver writes a buffer of an outstanding chain");
                return;
            }
            slot = q->dnext[slot];
        }
        for (unsigned e = 0; e < c->nind && e < OQ_IND_MAX; e++) {
            const struct oseg *s = &q->iseg[(size_t)h * OQ_IND_MAX + e];
            if (vqf_or_overlap(gpa, len, s->addr, s->len)) {
                vqf_or_bad(o, q, VQF_CL_CLEAN_02, VQF_SIDE_DRIVER, gpa, h, s->addr,
                    "driver writes a buffer of an outstanding chain");
                return;
            }
        }
    }
}

/* ---- access dispatch ---- */

static bool covers(uint64_t gpa, uint64_t len, uint64_t field, unsigned flen)
{
    return vqf_or_overlap(gpa, len, field, flen);
}

/* The rules for one access, by side and kind. Compiled four times with constant side and
 * kind (below), so that each copy holds only its own branch: a small function with few
 * saved registers, reached by a tail call from vqf_or_split_access. */
__attribute__((always_inline)) static inline void split_access(struct vqf_oracle *o, unsigned qi, unsigned side,
                                                               unsigned kind, uint64_t gpa, uint64_t len)
{
    struct oq *q = &o->q[qi]; /* the caller checked !vqf_or_far(q, gpa, len) */
    uint32_t size = q->num;
    uint64_t end = gpa + len;
    bool plain = len && end > gpa;
    bool in_desc = plain && vqf_or_in(gpa, end, q->r_desc_lo, q->r_desc_hi);
    bool in_avail = plain && vqf_or_in(gpa, end, q->r_drv_lo, q->r_drv_hi);
    bool in_used = plain && vqf_or_in(gpa, end, q->r_dev_lo, q->r_dev_hi);
    bool event_idx = or_feat(q->feat, VIRTIO_F_EVENT_IDX);
    if (side == VQF_SIDE_DRIVER) {
        if (kind == VQF_ACC_WRITE) {
            if (in_desc || (in_avail && vqf_or_overlap(gpa, len, q->driver + VIRTQ_AVAIL_RING(0), 2ull * size)))
                o->drv_wdirty = true;
            if (in_desc && !q->taint_drv && vqf_or_judged(o, VQF_SIDE_DEVICE)) {
                uint64_t first = (gpa < q->desc ? 0 : (gpa - q->desc) / 16);
                uint64_t last = (gpa + len - 1 - q->desc) / 16;
                if (last >= size)
                    last = size - 1;
                for (uint64_t s = first; s <= last; s++)
                    if (q->owner[s]) {
                        /* 3.3.1: descriptors of buffers the device owns are not altered */
                        vqf_or_bad(o, q, VQF_CL_CLEAN_01, VQF_SIDE_DRIVER, s, q->owner[s] - 1u, gpa,
                            "driver rewrites a descriptor of an outstanding chain (slot, head, gpa)");
                        break;
                    }
            }
            if (in_avail) {
                if (covers(gpa, len, q->driver + VIRTQ_AVAIL_FLAGS, 2)) {
                    uint16_t f = 0;
                    vqf_or_rd16(o, q->driver + VIRTQ_AVAIL_FLAGS, &f);
                    if (event_idx && f != 0)
                        /* 2.7.7.1: with EVENT_IDX avail->flags is 0 */
                        vqf_or_bad(o, q, VQF_CL_SPLIT_UNS_03, VQF_SIDE_DRIVER, f, 0, 0, "avail->flags not 0 with EVENT_IDX");
                    else if (!event_idx && (f & ~1u))
                        /* 2.7.7.1: without EVENT_IDX avail->flags is 0 or 1 */
                        vqf_or_bad(o, q, VQF_CL_SPLIT_UNS_01, VQF_SIDE_DRIVER, f, 0, 0, "avail->flags not 0 or 1");
                }
                if (covers(gpa, len, q->driver + VIRTQ_AVAIL_IDX, 2))
                    avail_publish(o, q);
            }
            if (in_used && !q->taint_drv)
                /* D-14: the used ring is the device's (the driver zeroes it before enabling) */
                vqf_or_bad(o, q, VQF_CL_D_14, VQF_SIDE_DRIVER, gpa, len, 0, "driver writes the live used ring");
            /* ownership follows the device's completions: with a device that may lie, a
             * completion the model missed would blame the driver for reusing its own memory */
            if (!in_desc && !in_avail && !in_used && !q->taint_drv && vqf_or_judged(o, VQF_SIDE_DEVICE))
                vqf_or_drv_buffer_write(o, q, gpa, len);
        } else if (in_used && !q->taint_drv) {
            uint64_t rs = q->device + VIRTQ_USED_RING(0);
            if (q->used_total < size && gpa >= rs && vqf_or_overlap(gpa, len, rs, 8ull * size) &&
                (gpa - rs) / 8 >= q->used_total) {
                /* 2.7.7.1: the driver does not consume past used->idx (entry never published) */
                vqf_or_bad(o, q, VQF_CL_SPLIT_UNS_05, VQF_SIDE_DRIVER, (gpa - rs) / 8, q->used_idx, 0,
                           "driver reads a used element beyond used->idx (position, used idx)");
                return;
            }
            /* the driver reads the device's suppression field after publishing: its kick
             * decision (2.7.10.1) */
            bool fl = !event_idx && covers(gpa, len, q->device + VIRTQ_USED_FLAGS, 2);
            bool ev_hit = event_idx && covers(gpa, len, q->device + VIRTQ_AVAIL_EVENT(size), 2);
            if (q->pub_since_read && !fl && !ev_hit &&
                covers(gpa, len, q->device + (event_idx ? VIRTQ_USED_FLAGS : VIRTQ_AVAIL_EVENT(size)), 2))
                q->kick_read_other = true; /* the field that does not rule (SPLIT-ANS-02 / -05) */
            if ((fl || ev_hit) && q->pub_since_read && o->drv_need_mb && o->drv_barriers)
                /* 2.7.13.4.1: a full barrier between the idx update and this read */
                vqf_or_bad(o, q, VQF_CL_SPLIT_PUB_02, VQF_SIDE_DRIVER, gpa, q->avail_idx, 0,
                           "suppression field read with no full barrier after publishing");
            if (fl) {
                uint16_t f = 0;
                vqf_or_rd16(o, q->device + VIRTQ_USED_FLAGS, &f);
                bool want = !(f & VIRTQ_USED_F_NO_NOTIFY);
                if (want) {
                    q->kick_unwanted = false;
                    if (q->pub_since_read) {
                        q->kick_owed = true;
                        q->kick_clause = VQF_CL_SPLIT_ANS_04;
                    }
                } else if (q->pub_since_read) {
                    q->kick_unwanted = true;
                }
                q->pub_since_read = false;
                q->kick_read_other = false;
                q->kick_dec_base = q->avail_idx;
            } else if (ev_hit) {
                uint16_t ev = 0;
                vqf_or_rd16(o, q->device + VIRTQ_AVAIL_EVENT(size), &ev);
                if (q->pub_since_read) {
                    bool want = vqf_need_event(ev, q->avail_idx, q->kick_base);
                    if (want) {
                        q->kick_owed = true;
                        q->kick_clause = VQF_CL_SPLIT_ANS_06;
                    }
                    q->kick_unwanted = !want;
                    q->kick_base = q->avail_idx;
                    q->pub_since_read = false;
                    q->kick_read_other = false;
                    q->kick_dec_base = q->avail_idx;
                }
            }
        }
        return;
    }
    if (side != VQF_SIDE_DEVICE)
        return;
    if (kind == VQF_ACC_WRITE) {
        if (in_used) {
            /* used elements: note them, or catch one written after its publication */
            uint64_t rs = q->device + VIRTQ_USED_RING(0);
            if (vqf_or_overlap(gpa, len, rs, 8ull * size)) {
                uint64_t first = gpa < rs ? 0 : (gpa - rs) / 8;
                uint64_t last = (gpa + len - 1 - rs) / 8;
                if (last >= size)
                    last = size - 1;
                for (uint64_t p = first; p <= last; p++) {
                    if (q->elem_late[p]) {
                        q->elem_late[p] = 0;
                        /* 2.7.8.2: the element is written before used->idx covers it */
                        vqf_or_find(o, VQF_CL_SPLIT_USD_01, VQF_SIDE_DEVICE, p, q->used_idx, 0,
                                    "queue %u: used element %llu written after used->idx (%u) published it", qi,
                                    (unsigned long long)p, q->used_idx);
                    } else {
                        vqf_or_dirty(q, (uint32_t)p);
                        q->elem_written[p] = 1;
                    }
                }
            }
            if (covers(gpa, len, q->device + VIRTQ_USED_FLAGS, 2) && !q->taint_dev) {
                uint16_t f = 0;
                vqf_or_rd16(o, q->device + VIRTQ_USED_FLAGS, &f);
                if (event_idx && f != 0)
                    /* 2.7.10.2: with EVENT_IDX used->flags stays 0 */
                    vqf_or_bad(o, q, VQF_CL_SPLIT_ANS_10, VQF_SIDE_DEVICE, f, 0, 0, "used->flags not 0 with EVENT_IDX");
                else if (!event_idx && (f & ~1u))
                    vqf_or_bad(o, q, VQF_CL_SPLIT_ANS_08, VQF_SIDE_DEVICE, f, 0, 0, "used->flags not 0 or 1");
            }
            if (covers(gpa, len, q->device + VIRTQ_USED_IDX, 2))
                used_publish(o, q, qi);
            return;
        }
        if (q->taint_dev)
            return;
        if ((in_desc || in_avail) && vqf_or_dev_write_excused(o, q, gpa, len))
            return;
        if (in_desc) {
            /* 2.7.5.1: the device never writes the descriptor table */
            vqf_or_bad(o, q, VQF_CL_SPLIT_DSC_04, VQF_SIDE_DEVICE, gpa, len, q->desc, "device writes the descriptor table");
            return;
        }
        if (in_avail) {
            vqf_or_bad(o, q, VQF_CL_D_14, VQF_SIDE_DEVICE, gpa, len, q->driver, "device writes the available ring");
            return;
        }
        vqf_or_dev_buffer_write(o, q, gpa, len);
        return;
    }
    {
        uint64_t ra = q->driver + VIRTQ_AVAIL_RING(0);
        if (in_avail && (uint16_t)(q->avail_idx - (uint16_t)q->dev_cons) != 0 &&
            covers(gpa, len, ra + 2ull * (q->dev_cons & q->mask), 2))
            q->dev_cons++; /* the device took the next available entry */
        if (in_avail && !q->taint_dev && q->avail_total < size && gpa >= ra &&
            vqf_or_overlap(gpa, len, ra, 2ull * size) && (gpa - ra) / 2 >= q->avail_total) {
            /* 2.7.10.2: the device does not read past avail->idx, whatever notifications say */
            vqf_or_bad(o, q, VQF_CL_SPLIT_ANS_12, VQF_SIDE_DEVICE, (gpa - ra) / 2, q->avail_idx, 0,
                       "device reads an avail entry beyond avail->idx (position, avail idx)");
            return;
        }
    }
    if (!in_desc && !in_avail && !in_used && !q->taint_dev) {
        vqf_or_dev_buffer_read(o, q, gpa, len);
        return;
    }
    /* device reads of the driver's suppression field after publishing used entries: its
     * notification decision (2.7.7.2) */
    if (in_avail && !q->taint_dev) {
        if (q->upub_since_read &&
            covers(gpa, len, q->driver + (event_idx ? VIRTQ_AVAIL_FLAGS : VIRTQ_USED_EVENT(size)), 2) &&
            !covers(gpa, len, q->driver + (event_idx ? VIRTQ_USED_EVENT(size) : VIRTQ_AVAIL_FLAGS), 2))
            q->irq_read_other = true; /* the field that does not rule (SPLIT-UNS-06 / -09) */
        if (!event_idx && covers(gpa, len, q->driver + VIRTQ_AVAIL_FLAGS, 2)) {
            uint16_t f = 0;
            vqf_or_rd16(o, q->driver + VIRTQ_AVAIL_FLAGS, &f);
            bool want = !(f & VIRTQ_AVAIL_F_NO_INTERRUPT);
            if (want) {
                q->irq_unwanted = false;
                if (q->upub_since_read) {
                    q->irq_owed = true;
                    q->irq_clause = VQF_CL_SPLIT_UNS_08;
                }
            } else if (q->upub_since_read) {
                q->irq_unwanted = true;
            }
            q->upub_since_read = false;
            q->irq_read_other = false;
            q->irq_dec_base = q->used_idx;
        } else if (event_idx && q->upub_since_read && covers(gpa, len, q->driver + VIRTQ_USED_EVENT(size), 2)) {
            uint16_t ev = 0;
            vqf_or_rd16(o, q->driver + VIRTQ_USED_EVENT(size), &ev);
            bool want = vqf_need_event(ev, q->used_idx, q->irq_base);
            if (want) {
                q->irq_owed = true;
                q->irq_clause = VQF_CL_SPLIT_UNS_10;
            }
            q->irq_unwanted = !want;
            q->irq_base = q->used_idx;
            q->upub_since_read = false;
            q->irq_read_other = false;
            q->irq_dec_base = q->used_idx;
        }
    }
}

VQF_OR_RULE_SET(split)

void vqf_or_split_kick(struct vqf_oracle *o, unsigned qi, uint32_t val)
{
    struct oq *q = &o->q[qi];
    if (!q->live)
        return;
    if (or_feat(q->feat, VIRTIO_F_NOTIFICATION_DATA) && !q->taint_drv) {
        uint16_t next = (uint16_t)(val >> 16);
        if (next != q->avail_idx)
            /* 2.9 (D-09): split next_off/next_wrap carry the avail idx */
            vqf_or_bad(o, q, VQF_CL_D_09, VQF_SIDE_DRIVER, val, next, q->avail_idx,
                "notification data next_off/next_wrap differ from the published avail idx (value, next, idx)");
    }
    if (q->kick_unwanted && !q->taint_drv)
        /* 2.7.10.1: no notification when the device asked for none */
        vqf_or_bad(o, q, or_feat(q->feat, VIRTIO_F_EVENT_IDX) ? VQF_CL_SPLIT_ANS_07 : VQF_CL_SPLIT_ANS_03,
                   VQF_SIDE_DRIVER, val, q->avail_idx, 0, "notification sent although the device asked for none");
    /* The driver's "old" index (2.7.10.1, vring_need_event) moves at its decisions, not at
     * kicks; but a kick after publishing with no read of the suppression field (the read
     * failed, or the driver kicks unconditionally) is itself the decision: later entries owe a
     * kick only when avail_event lies past it. */
    if (q->pub_since_read)
        q->kick_base = q->avail_idx;
    q->kick_unwanted = false;
    q->kick_owed = false;
    q->pub_since_read = false;
    q->kick_read_other = false;
    q->kick_dec_base = q->avail_idx;
}

void vqf_or_split_irq(struct vqf_oracle *o)
{
    /* virtio-mmio has one interrupt line: a used-buffer notification covers every queue.
     * (SPLIT-UNS-07/11, "no notification unless asked", are not judged: the device's
     * decision state per queue is not visible through one shared line.) */
    for (unsigned i = 0; i < OQ_MAX; i++) {
        struct oq *q = &o->q[i];
        if (!q->live || q->packed)
            continue;
        q->irq_unwanted = false;
        q->irq_owed = false;
        q->upub_since_read = false;
        q->irq_read_other = false;
        q->irq_dec_base = q->used_idx;
        /* The notification covers every entry published so far, the one at used_event too
         * (2.7.7.2): the next decision owes one only for entries after it. A device may
         * notify without reading used_event (it could not read it, or it always does). */
        q->irq_base = q->used_idx;
    }
}

/* Does the suppression word that rules ask for a notification? With EVENT_IDX it is an event
 * index and the trigger rule is vqf_need_event (D-06); without, a flags word. */
static bool rule_wants(uint16_t rule, bool event_idx, uint16_t now, uint16_t base, uint16_t no_flag)
{
    return event_idx ? vqf_need_event(rule, now, base) != 0 : !(rule & no_flag);
}

/* A side published, then went idle without a notification and without reading the field that
 * rules its decision (used_event at avail->ring[qsz] / avail_event at used->ring[qsz] with
 * EVENT_IDX, D-06; the flags word without), although that field asked for a notification both
 * when it published and now. With EVENT_IDX, a side that read the flags word instead ignored
 * the rule that its low bit does not count (SPLIT-UNS-09 / SPLIT-ANS-05); without EVENT_IDX,
 * one that read the event field instead did not disregard it (SPLIT-UNS-06 / SPLIT-ANS-02).
 * A side that read nothing at all is judged only with EVENT_IDX (D-06): without it the flags
 * rule is SPLIT-UNS-08 / SPLIT-ANS-04, judged at the read. */
static void skipped_decisions(struct vqf_oracle *o, unsigned qi)
{
    struct oq *q = &o->q[qi];
    bool ev = or_feat(q->feat, VIRTIO_F_EVENT_IDX);
    if (!(o->status & VIRTIO_STATUS_DRIVER_OK) || o->reset_written || o->suspending || o->suspended ||
        o->needs_reset_seen || o->nr_signalled)
        return;
    /* under the memory-visibility model the ordering checks judge this case themselves, as
     * a lost kick or interrupt (oracle_order.c) */
    if (o->ord.on && ev)
        return;
    uint16_t now = 0;
    if (q->pub_since_read && !q->kick_owed && !q->taint_drv && (ev || q->kick_read_other)) {
        vqf_or_rd16(o, ev ? q->device + VIRTQ_AVAIL_EVENT(q->size) : q->device + VIRTQ_USED_FLAGS, &now);
        if (rule_wants(q->kick_rule_at_pub, ev, q->avail_idx, q->kick_dec_base, VIRTQ_USED_F_NO_NOTIFY) &&
            rule_wants(now, ev, q->avail_idx, q->kick_dec_base, VIRTQ_USED_F_NO_NOTIFY))
            vqf_or_find(o, ev ? (q->kick_read_other ? VQF_CL_SPLIT_ANS_05 : VQF_CL_D_06) : VQF_CL_SPLIT_ANS_02,
                        VQF_SIDE_DRIVER, qi, q->avail_idx, now,
                        "queue %u: avail idx %u published, %s asks for a notification (0x%x), the driver %s and "
                        "sent none", qi, q->avail_idx, ev ? "avail_event" : "used->flags", now,
                        q->kick_read_other ? (ev ? "read used->flags instead" : "read avail_event instead")
                                           : "did not read it");
        /* judged once per publication */
        q->kick_rule_at_pub = ev ? q->avail_idx : VIRTQ_USED_F_NO_NOTIFY;
    }
    if (q->upub_since_read && !q->irq_owed && !q->taint_dev && (ev || q->irq_read_other)) {
        vqf_or_rd16(o, ev ? q->driver + VIRTQ_USED_EVENT(q->size) : q->driver + VIRTQ_AVAIL_FLAGS, &now);
        if (rule_wants(q->irq_rule_at_pub, ev, q->used_idx, q->irq_dec_base, VIRTQ_AVAIL_F_NO_INTERRUPT) &&
            rule_wants(now, ev, q->used_idx, q->irq_dec_base, VIRTQ_AVAIL_F_NO_INTERRUPT))
            vqf_or_find(o, ev ? (q->irq_read_other ? VQF_CL_SPLIT_UNS_09 : VQF_CL_D_06) : VQF_CL_SPLIT_UNS_06,
                        VQF_SIDE_DEVICE, qi, q->used_idx, now,
                        "queue %u: used idx %u published, %s asks for a notification (0x%x), the device %s and "
                        "sent none", qi, q->used_idx, ev ? "used_event" : "avail->flags", now,
                        q->irq_read_other ? (ev ? "read avail->flags instead" : "read used_event instead")
                                          : "did not read it");
        q->irq_rule_at_pub = ev ? q->used_idx : VIRTQ_AVAIL_F_NO_INTERRUPT;
    }
}

void vqf_or_split_idle(struct vqf_oracle *o, unsigned qi)
{
    struct oq *q = &o->q[qi];
    skipped_decisions(o, qi);
    if (q->kick_owed && !q->taint_drv)
        /* 2.7.10.1: a notification follows the publication before the driver goes idle */
        vqf_or_find(o, q->kick_clause, VQF_SIDE_DRIVER, qi, q->avail_idx, 0,
                    "queue %u: avail idx %u published, the device asked for a notification, none was sent", qi,
                    q->avail_idx);
    if (q->irq_owed && !q->taint_dev)
        /* 2.7.7.2: a used-buffer notification follows before the device goes idle */
        vqf_or_find(o, q->irq_clause, VQF_SIDE_DEVICE, qi, q->used_idx, 0,
                    "queue %u: used idx %u published, the driver asked for a notification, none was sent", qi,
                    q->used_idx);
    q->kick_owed = q->irq_owed = false;
}
