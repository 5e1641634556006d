/* The oracle's packed-ring model (spec 2.8). Ownership per ring slot (D-08): a slot is the
 * driver's until the driver flips the AVAIL/USED bits of the head of a list to its wrap
 * counter, the device's from then until the device writes a used descriptor over it, and
 * the driver's again afterwards. Lists are walked when their head is exposed (2.8.17, 2.8.19)
 * and used descriptors are matched by buffer id (D-10). Buffer ranges, completion and
 * retirement share the split model's per-chain shadow (oracle_split.c), keyed by head slot. */
#include "emulator/oracle/oracle_int.h"

#include <string.h>

enum { PS_FREE = 0, PS_AVAIL = 1, PS_USED = 2, PS_UPEND = 3 /* used mark ahead of the next used slot */ };

#define PF_NEXT VIRTQ_DESC_F_NEXT
#define PF_WRITE VIRTQ_DESC_F_WRITE
#define PF_IND VIRTQ_DESC_F_INDIRECT

static inline bool avail_bit(uint16_t f) { return (f & VIRTQ_DESC_F_AVAIL) != 0; }
static inline bool used_bit(uint16_t f) { return (f & VIRTQ_DESC_F_USED) != 0; }
/* 2.8.1: available for wrap counter w: AVAIL == w and USED != w */
static inline bool is_avail(uint16_t f, bool w) { return avail_bit(f) == w && used_bit(f) != w; }

int vqf_or_packed_enable(struct vqf_oracle *o, struct oq *q)
{
    (void)o;
    uint32_t n = q->num; /* 1..32768, checked by the caller */
    if (vqf_or_q_reserve(q, n) < 0)
        return -1;
    q->size = (uint16_t)n;
    vqf_or_q_ranges(q, 16ull * n, 4, 4);
    vqf_or_q_clear(q); /* PS_FREE is 0 */
    q->nout = 0;
    q->order_head = q->order_len = 0;
    q->p_drv_next = q->p_dev_next = 0;
    q->p_drv_wrap = q->p_dev_wrap = true;
    q->taint_dev = q->taint_drv = false;
    q->kick_owed = q->irq_owed = false;
    q->kick_unwanted = q->irq_unwanted = false;
    q->pub_since_read = q->upub_since_read = false;
    q->net_left = 0;
    q->net_desync = false;
    q->upend = 0;
    q->rlo = UINT64_MAX;
    q->rhi = 0;
    q->spans_ok = true;
    q->live = true;
    return 0;
}

static uint16_t rdf(const struct vqf_oracle *o, const struct oq *q, uint32_t slot)
{
    uint16_t f = 0;
    vqf_or_rd16(o, q->desc + 16u * slot + VIRTQ_PDESC_FLAGS, &f);
    return f;
}

/* The driver exposed the head at p_drv_next: walk and record the list (2.8.17, 2.8.19). */
static void publish_list(struct vqf_oracle *o, struct oq *q)
{
    const unsigned D = VQF_SIDE_DRIVER;
    vqf_or_xport_publish(o, q);
    if (q->taint_drv)
        return; /* the device lied here: the ownership model no longer holds */
    uint32_t size = q->num, h = q->p_drv_next;
    bool seen_w = false;
    uint64_t wcap = 0;
    uint16_t nind = 0, id = 0;
    uint64_t ind_addr = 0;
    uint32_t ind_len = 0;
    uint32_t n = 0;
    for (;;) {
        uint32_t slot = (h + n) % size;
        bool wrap = q->p_drv_wrap ^ (h + n >= size);
        if (n + 1 > size) {
            vqf_or_bad(o, q, VQF_CL_PACK_SG_02, D, h, n + 1, size, "descriptor list longer than the queue size");
            return;
        }
        if (q->pstate[slot] == PS_AVAIL) {
            vqf_or_bad(o, q, VQF_CL_PACK_SG_05, D, h, slot, n + 1,
                       "list runs into a slot the device still owns (head, slot, length)");
            return;
        }
        if (q->owner[slot])
            /* this walk rewrites the shadow of a chain still outstanding (a slot the model
             * gave back early on a lying used descriptor): its recorded span no longer holds */
            q->spans_ok = false;
        uint64_t base = q->desc + 16u * slot, addr = 0;
        uint32_t len = 0;
        uint16_t flags = rdf(o, q, slot);
        vqf_or_rd64(o, base + VIRTQ_PDESC_ADDR, &addr);
        vqf_or_rd32(o, base + VIRTQ_PDESC_LEN, &len);
        if (n > 0 && !is_avail(flags, wrap)) {
            vqf_or_bad(o, q, VQF_CL_PACK_SG_06, D, h, slot, flags, "list head exposed before its later descriptors");
            return;
        }
        n++;
        if (len && !or_feat(q->feat, VIRTIO_F_ACCESS_PLATFORM) && !vqf_or_ptr(o, addr, len)) {
            /* 6.1: without ACCESS_PLATFORM, buffers are guest memory */
            vqf_or_bad(o, q, VQF_CL_RSVD_05, D, h, addr, len, "descriptor addresses memory outside the guest");
            return;
        }
        if (flags & PF_IND) {
            if (!or_feat(q->feat, VIRTIO_F_INDIRECT_DESC)) {
                vqf_or_bad(o, q, VQF_CL_PACK_IND_01, D, h, slot, flags, "INDIRECT without VIRTIO_F_INDIRECT_DESC");
                return;
            }
            if ((flags & PF_NEXT) || n > 1) {
                vqf_or_bad(o, q, VQF_CL_PACK_IND_04, D, h, slot, flags, "INDIRECT inside a NEXT-linked list");
                return;
            }
            if (len == 0 || len % 16) {
                vqf_or_bad(o, q, VQF_CL_D_05, D, h, slot, len, "indirect table length not a multiple of 16");
                return;
            }
            if (len / 16 > size) {
                /* 2.8.19: no more table entries than the device allows (the queue size) */
                vqf_or_bad(o, q, VQF_CL_PACK_IND_03, D, h, len / 16, size, "indirect table longer than the queue size");
                return;
            }
            if (flags & PF_WRITE) {
                /* 2.8.7 (D-11): WRITE on a descriptor with INDIRECT is reserved */
                vqf_or_bad(o, q, VQF_CL_D_11, D, h, slot, flags, "WRITE set on a packed INDIRECT descriptor (reserved)");
                return;
            }
            for (uint32_t i = 0; i < len / 16; i++) {
                uint64_t eb = addr + 16u * i, ea = 0;
                uint32_t el = 0;
                uint16_t ef = 0;
                vqf_or_rd64(o, eb, &ea);
                vqf_or_rd32(o, eb + 8, &el);
                vqf_or_rd16(o, eb + 14, &ef);
                if (ef & ~PF_WRITE) {
                    vqf_or_bad(o, q, VQF_CL_PACK_IND_02, D, h, i, ef, "indirect entry has flags other than WRITE");
                    return;
                }
                uint16_t eid = 0;
                vqf_or_rd16(o, eb + VIRTQ_PDESC_ID, &eid);
                if (eid != 0) {
                    /* 2.8.7 (D-11): the Buffer ID of an indirect-table entry is reserved */
                    vqf_or_bad(o, q, VQF_CL_D_11, D, h, i, eid, "packed indirect entry with a Buffer ID (reserved)");
                    return;
                }
                if (seen_w && !(ef & PF_WRITE)) {
                    vqf_or_bad(o, q, VQF_CL_PACK_SG_03, D, h, i, ef, "device-readable after device-writable (indirect)");
                    return;
                }
                seen_w |= (ef & PF_WRITE) != 0;
                if (ef & PF_WRITE)
                    wcap += el;
                if (nind < OQ_IND_MAX) {
                    struct oseg *s = &q->iseg[(size_t)h * OQ_IND_MAX + nind];
                    s->addr = ea;
                    s->len = el;
                    s->write = (ef & PF_WRITE) ? 1 : 0;
                }
                nind++;
            }
            ind_addr = addr;
            ind_len = len;
            q->dseg[slot].addr = addr;
            q->dseg[slot].len = len;
            q->dseg[slot].write = SEG_IND;
        } else {
            if (seen_w && !(flags & PF_WRITE)) {
                vqf_or_bad(o, q, VQF_CL_PACK_SG_03, D, h, slot, flags, "device-readable after device-writable");
                return;
            }
            seen_w |= (flags & PF_WRITE) != 0;
            if (flags & PF_WRITE)
                wcap += len;
            q->dseg[slot].addr = addr;
            q->dseg[slot].len = len;
            q->dseg[slot].write = (flags & PF_WRITE) ? 1 : 0;
        }
        q->dnext[slot] = (uint16_t)((slot + 1) % size);
        if (!(flags & PF_NEXT)) {
            vqf_or_rd16(o, base + VIRTQ_PDESC_ID, &id);
            break;
        }
    }
    for (uint32_t i = 0; i < q->nout; i++)
        if (q->out_id[i] == id) {
            /* D-10: a buffer id names one outstanding list */
            vqf_or_bad(o, q, VQF_CL_D_10, D, h, id, q->outlist[i], "buffer id already outstanding (head, id, other)");
            return;
        }
    struct ochain *c = &q->ch[h];
    vqf_or_dirty(q, h);
    c->out = 1;
    c->ndesc = (uint16_t)n;
    c->id = id;
    c->nind = nind;
    c->untracked = nind > OQ_IND_MAX;
    c->ind_addr = ind_addr;
    c->ind_len = ind_len;
    c->wcap = wcap;
    c->written = 0;
    c->devbad = 0; /* a verdict on the request this head carried before does not carry over */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t slot = (h + i) % size;
        vqf_or_dirty(q, slot);
        q->pstate[slot] = PS_AVAIL;
        q->owner[slot] = (uint16_t)(h + 1u); /* cleared by vqf_or_retire */
        vqf_or_bbox_add(q, q->dseg[slot].addr, q->dseg[slot].len);
    }
    for (unsigned i = 0; i < nind && i < OQ_IND_MAX; i++)
        vqf_or_bbox_add(q, q->iseg[(size_t)h * OQ_IND_MAX + i].addr, q->iseg[(size_t)h * OQ_IND_MAX + i].len);
    vqf_or_out_add(q, (uint16_t)h);
    if (or_feat(q->feat, VIRTIO_F_IN_ORDER)) {
        q->order[(q->order_head + q->order_len) % size] = (uint16_t)h;
        q->order_len++;
    }
    if (h + n >= size)
        q->p_drv_wrap = !q->p_drv_wrap;
    q->p_drv_next = (uint16_t)((h + n) % size);
    vqf_or_dev_publish(o, q, (unsigned)(q - o->q), (uint16_t)h);
}

static int find_out_id(const struct oq *q, uint16_t id)
{
    for (uint32_t i = 0; i < q->nout; i++)
        if (q->out_id[i] == id)
            return q->outlist[i];
    return -1;
}

/* Process the used descriptor at p_dev_next (2.8.6, D-10): match its buffer id, retire
 * the list (or an IN_ORDER batch) and move past the slots it covered. */
static void take_used(struct vqf_oracle *o, struct oq *q)
{
    const unsigned V = VQF_SIDE_DEVICE;
    uint32_t size = q->num, s = q->p_dev_next;
    uint16_t flags = rdf(o, q, s), id = 0;
    uint32_t len = 0;
    if (avail_bit(flags) != q->p_dev_wrap || used_bit(flags) != q->p_dev_wrap) {
        if (q->pstate[s] == PS_UPEND) {
            q->pstate[s] = PS_AVAIL; /* not a used mark for this lap: nothing was handed back */
            if (q->upend)
                q->upend--;
        }
        return;
    }
    vqf_or_rd16(o, q->desc + 16u * s + VIRTQ_PDESC_ID, &id);
    vqf_or_rd32(o, q->desc + 16u * s + VIRTQ_PDESC_LEN, &len);
    int h = find_out_id(q, id);
    if (h < 0) {
        /* with a driver that may lie, a list published outside the model is possible */
        if (vqf_or_judged(o, VQF_SIDE_DRIVER))
            vqf_or_bad(o, q, VQF_CL_D_03, V, id, s, 0, "used buffer id is not outstanding (id, slot)");
        else
            vqf_or_taint(q, VQF_SIDE_DRIVER);
        return;
    }
    uint32_t adv = 0;
    if (or_feat(q->feat, VIRTIO_F_IN_ORDER)) {
        /* 2.8.8 / D-07: one used descriptor may stand for a batch ending with id */
        uint32_t j = 0;
        while (j < q->order_len && q->order[(q->order_head + j) % size] != (uint16_t)h)
            j++;
        if (j >= q->order_len) {
            vqf_or_bad(o, q, VQF_CL_RSVD_18, V, id, s, 0, "IN_ORDER used id out of order");
            return;
        }
        for (uint32_t k = 0; k < j; k++) {
            uint16_t hh = q->order[q->order_head % size];
            adv += q->ch[hh].ndesc;
            /* D-07: the buffers a batch entry skips count as fully used */
            vqf_or_dev_complete(o, q, (unsigned)(q - o->q), hh, (uint32_t)q->ch[hh].wcap);
            vqf_or_retire(q, hh);
            q->order_head = (q->order_head + 1) % size;
            q->order_len--;
        }
        q->order_head = (q->order_head + 1) % size;
        q->order_len--;
    }
    struct ochain *c = &q->ch[h];
    if ((flags & PF_WRITE) && len > c->wcap)
        /* D-04 (D-18 for the entropy device): len counts bytes written into the writable part */
        vqf_or_bad(o, q, o->setup.device_id == VIRTIO_ID_RNG ? VQF_CL_D_18 : VQF_CL_D_04, V, id, len, c->wcap,
                   "used len exceeds the writable capacity (id, len, capacity)");
    adv += c->ndesc;
    vqf_or_dev_complete(o, q, (unsigned)(q - o->q), (uint16_t)h, (flags & PF_WRITE) ? len : 0);
    vqf_or_retire(q, (uint16_t)h);
    for (uint32_t i = 0; i < adv; i++) {
        uint32_t slot = (s + i) % size;
        if (q->pstate[slot] == PS_UPEND) {
            if (q->upend)
                q->upend--; /* every mark counted once, taken here or at its own turn */
            if (i > 0)
                /* 2.8.12: used descriptors sit at successive list boundaries */
                vqf_or_bad(o, q, VQF_CL_PACK_ORD_02, V, slot, s, adv, "used descriptor written inside another list's slots");
        }
        vqf_or_dirty(q, slot);
        q->pstate[slot] = PS_USED;
    }
    if (s + adv >= size)
        q->p_dev_wrap = !q->p_dev_wrap;
    q->p_dev_next = (uint16_t)((s + adv) % size);
}

/* The device wrote a descriptor's flags at slot s. Used descriptors may be written in any
 * order (2.8.12 PACK-ORD-03: a batch's first one often last): a mark ahead of the next used
 * slot waits until the marks before it arrive. */
static void used_flags_write(struct vqf_oracle *o, struct oq *q, uint32_t s, uint64_t gpa, uint64_t len)
{
    const unsigned V = VQF_SIDE_DEVICE;
    uint16_t flags = rdf(o, q, s);
    if (avail_bit(flags) != used_bit(flags)) {
        if (vqf_or_dev_write_excused(o, q, gpa, len))
            return;
        /* D-08 (2.8.1): the device's flags mark a descriptor used: AVAIL == USED */
        vqf_or_bad(o, q, VQF_CL_D_08, V, s, flags, 0, "device writes descriptor flags that mark it neither used nor free");
        return;
    }
    if (s == q->p_dev_next && q->pstate[s] != PS_AVAIL && q->pstate[s] != PS_UPEND &&
        avail_bit(flags) == q->p_dev_wrap && vqf_or_judged(o, VQF_SIDE_DRIVER)) {
        if (vqf_or_dev_write_excused(o, q, gpa, len))
            return;
        /* a used mark on a slot that was never made available */
        vqf_or_bad(o, q, VQF_CL_PACK_ORD_02, V, s, q->p_dev_next, flags,
                   "used descriptor written to a slot the device does not own");
        return;
    }
    if (s != q->p_dev_next) {
        if (q->pstate[s] != PS_AVAIL) {
            if (!vqf_or_judged(o, VQF_SIDE_DRIVER) || vqf_or_dev_write_excused(o, q, gpa, len)) {
                vqf_or_taint(q, VQF_SIDE_DRIVER);
                return;
            }
            vqf_or_bad(o, q, VQF_CL_PACK_ORD_02, V, s, q->p_dev_next, flags,
                       "used descriptor written to a slot the device does not own");
            return;
        }
        vqf_or_dirty(q, s);
        q->pstate[s] = PS_UPEND;
        q->upend++;
        return;
    }
    take_used(o, q);
    while (q->upend && !q->taint_dev && q->pstate[q->p_dev_next] == PS_UPEND) {
        /* the mark leaves the count and the slot together: take_used may not move past it
         * (an unknown id), and a mark still standing would be counted again */
        q->upend--;
        vqf_or_dirty(q, q->p_dev_next);
        q->pstate[q->p_dev_next] = PS_AVAIL;
        take_used(o, q);
    }
}

/* Forget the used marks written ahead (they never landed): count and slots together. */
static void clear_marks(struct oq *q)
{
    for (uint32_t s = 0; s < q->num && q->upend; s++)
        if (q->pstate[s] == PS_UPEND) {
            vqf_or_dirty(q, s);
            q->pstate[s] = PS_AVAIL;
            q->upend--;
        }
    q->upend = 0;
}

void vqf_or_packed_idle(struct vqf_oracle *o, unsigned qi)
{
    struct oq *q = &o->q[qi];
    if (q->upend && !q->taint_dev) {
        /* 2.8.12: used descriptors fill successive slots: a mark beyond a gap never lands */
        vqf_or_bad(o, q, VQF_CL_PACK_ORD_02, VQF_SIDE_DEVICE, q->upend, q->p_dev_next, 0,
                   "used descriptors left beyond the next used slot at idle (count, next slot)");
        clear_marks(q);
    }
}

/* The rules for one access, by side and kind; compiled four times with constant side and kind
 * (below), as the split model's. */
__attribute__((always_inline)) static inline void packed_access(struct vqf_oracle *o, unsigned qi, unsigned side,
                                                                unsigned kind, uint64_t gpa, uint64_t len)
{
    struct oq *q = &o->q[qi]; /* the caller checked !vqf_or_far(q, gpa, len) */
    uint32_t size = q->num;
    uint64_t end = gpa + len;
    bool plain = len && end > gpa;
    bool in_ring = plain && vqf_or_in(gpa, end, q->r_desc_lo, q->r_desc_hi);
    bool in_drv = plain && vqf_or_in(gpa, end, q->r_drv_lo, q->r_drv_hi);
    bool in_dev = plain && vqf_or_in(gpa, end, q->r_dev_lo, q->r_dev_hi);
    if (side != VQF_SIDE_DRIVER && side != VQF_SIDE_DEVICE)
        return;
    if (in_drv || in_dev) {
        if (kind != VQF_ACC_WRITE) {
            if (side == VQF_SIDE_DRIVER && in_dev && o->drv_need_mb && o->drv_barriers && !q->taint_drv) {
                /* 2.8.21.3.1: a full barrier before reading the device's event suppression */
                vqf_or_bad(o, q, VQF_CL_PACK_PUB_02, VQF_SIDE_DRIVER, gpa, 0, 0,
                           "device event area read with no full barrier after publishing");
                o->drv_need_mb = false;
            }
            return;
        }
        bool own = side == VQF_SIDE_DRIVER ? in_drv : in_dev;
        if (!own) {
            /* D-12: the driver writes the Driver area, the device the Device area. Not judged
             * while any queue is tainted: a lying peer may have pointed a buffer of that queue
             * at this area (cold path: only a wrong-side write gets here). */
            for (unsigned i = 0; i < OQ_MAX; i++)
                if (side == VQF_SIDE_DEVICE ? o->q[i].taint_dev : o->q[i].taint_drv)
                    return;
            vqf_or_bad(o, q, VQF_CL_D_12, side, gpa, len, 0, "write to the other side's event suppression area");
            return;
        }
        /* judge only a write that covers the flags field, by a side whose queue is not tainted:
         * the other bytes of the area may hold what a lying peer left there */
        uint64_t area = side == VQF_SIDE_DRIVER ? q->driver : q->device;
        if (!vqf_or_overlap(gpa, len, area + VIRTQ_PEVENT_FLAGS, 2) ||
            (side == VQF_SIDE_DEVICE ? q->taint_dev : q->taint_drv))
            return;
        uint16_t f = 0;
        vqf_or_rd16(o, area + VIRTQ_PEVENT_FLAGS, &f);
        if (f > RING_EVENT_FLAGS_DESC || (f == RING_EVENT_FLAGS_DESC && !or_feat(q->feat, VIRTIO_F_EVENT_IDX)))
            /* D-12 (2.8.10): flags 0, 1, or 2 with EVENT_IDX; 3 and the upper bits reserved */
            vqf_or_bad(o, q, VQF_CL_D_12, side, f, 0, 0, "event suppression flags value reserved");
        return;
    }
    if (!in_ring) {
        if (kind != VQF_ACC_WRITE) {
            if (side == VQF_SIDE_DEVICE && !q->taint_dev)
                vqf_or_dev_buffer_read(o, q, gpa, len);
            return;
        }
        if (side == VQF_SIDE_DEVICE && !q->taint_dev)
            vqf_or_dev_buffer_write(o, q, gpa, len);
        else if (side == VQF_SIDE_DRIVER && !q->taint_drv)
            vqf_or_drv_buffer_write(o, q, gpa, len);
        return;
    }
    uint64_t first = gpa < q->desc ? 0 : (gpa - q->desc) / 16;
    uint64_t last = (gpa + len - 1 - q->desc) / 16;
    if (last >= size)
        last = size - 1;
    /* A device read of one of this ring's descriptors starts inside the ring, at a field of a
     * slot (addr, len, id or flags: 2.8.13). Any other read that overlaps the ring is not a
     * descriptor read of this queue: e.g. an indirect table a lying driver placed across
     * another queue's ring, which the device follows for that queue. */
    uint64_t field = (gpa - q->desc) % 16;
    bool desc_field_read = gpa >= q->desc && (field == 0 || field == 8 || field == 12 || field == 14);
    for (uint64_t s = first; s <= last; s++) {
        uint64_t fl = q->desc + 16 * s + VIRTQ_PDESC_FLAGS;
        bool flags_hit = vqf_or_overlap(gpa, len, fl, 2);
        if (side == VQF_SIDE_DRIVER && kind == VQF_ACC_WRITE) {
            if (q->taint_drv)
                continue;
            if (q->pstate[s] == PS_AVAIL && vqf_or_judged(o, VQF_SIDE_DEVICE)) {
                /* 2.8.16: the driver leaves a descriptor alone until the device used it */
                vqf_or_bad(o, q, flags_hit ? VQF_CL_PACK_DSC_06 : VQF_CL_PACK_DSC_05, VQF_SIDE_DRIVER, s, gpa, 0,
                           flags_hit ? "driver rewrites the flags of a descriptor it made available"
                                     : "driver modifies a descriptor the device owns");
                return;
            }
            if (flags_hit && s == q->p_drv_next && is_avail(rdf(o, q, (uint32_t)s), q->p_drv_wrap)) {
                if (o->drv_wdirty && o->drv_barriers)
                    /* 2.8.21.1.1: a write barrier before the flags write that exposes a list */
                    vqf_or_bad(o, q, VQF_CL_PACK_PUB_01, VQF_SIDE_DRIVER, s, 0, 0,
                               "head flags written with no write barrier after the list's other writes");
                publish_list(o, q);
                o->drv_need_mb = true;
            } else {
                o->drv_wdirty = true;
            }
        } else if (side == VQF_SIDE_DEVICE && kind == VQF_ACC_WRITE) {
            if (q->taint_dev)
                continue;
            if (q->pstate[s] == PS_USED) {
                if (vqf_or_dev_write_excused(o, q, gpa, len))
                    return;
                /* 2.8.15: after marking a descriptor used, the device leaves it alone */
                vqf_or_bad(o, q, VQF_CL_PACK_DSC_04, VQF_SIDE_DEVICE, s, gpa, 0,
                           "device modifies a descriptor it already marked used");
                return;
            }
            if (flags_hit)
                used_flags_write(o, q, (uint32_t)s, gpa, len);
        } else if (side == VQF_SIDE_DEVICE && !flags_hit && !q->taint_dev && desc_field_read &&
                   (q->pstate[s] == PS_FREE || q->pstate[s] == PS_USED)) {
            uint16_t f = rdf(o, q, (uint32_t)s);
            if (avail_bit(f) == used_bit(f))
                /* 2.8.15: a descriptor is used only once its AVAIL bit shows it available */
                vqf_or_bad(o, q, VQF_CL_PACK_DSC_03, VQF_SIDE_DEVICE, s, f, gpa,
                           "device reads a descriptor that is not available (slot, flags, gpa)");
        }
    }
}

VQF_OR_RULE_SET(packed)

void vqf_or_packed_kick(struct vqf_oracle *o, unsigned qi, uint32_t val)
{
    struct oq *q = &o->q[qi];
    if (!q->live || q->taint_drv || !or_feat(q->feat, VIRTIO_F_NOTIFICATION_DATA))
        return;
    uint16_t off = (uint16_t)((val >> 16) & 0x7fffu);
    bool wrap = (val >> 31) & 1u;
    if (off != q->p_drv_next || wrap != q->p_drv_wrap)
        /* 2.8.16: next_off / next_wrap name the next slot to be made available */
        vqf_or_bad(o, q, VQF_CL_PACK_DSC_07, VQF_SIDE_DRIVER, val, q->p_drv_next, q->p_drv_wrap,
                   "notification data differ from the driver's next slot and wrap (value, next, wrap)");
}
