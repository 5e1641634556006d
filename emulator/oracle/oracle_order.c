/* Ordering checks under the memory-visibility model: see oracle_order.h. */
#include "emulator/oracle/oracle_int.h"
#include "emulator/visibility.h"

#include <string.h>

static bool covers(uint64_t gpa, uint64_t len, uint64_t at, uint64_t n)
{
    return vqf_or_overlap(gpa, len, at, n);
}

void vqf_oracle_order_enable(struct vqf_oracle *o, bool on)
{
    memset(&o->ord, 0, sizeof(o->ord));
    o->ord.on = on;
}

static void split_read(struct vqf_oracle *o, unsigned qi, const struct vqf_vis *v, unsigned side, uint64_t gpa,
                       uint64_t len)
{
    struct oq *q = &o->q[qi];
    uint16_t size = q->size;
    bool event_idx = or_feat(q->feat, VIRTIO_F_EVENT_IDX);
    if (side == VQF_SIDE_DRIVER && !q->taint_drv) {
        if (vqf_vis_load_stale(v, side, gpa, len) &&
            covers(gpa, len, q->device + VIRTQ_USED_RING(0), (uint64_t)VIRTQ_USED_ELEM_SIZE * size))
            /* the element as it was before the device published it: the load was performed
             * ahead of the used->idx load it follows (no read barrier between them) */
            vqf_or_find(o, VQF_CL_SPLIT_UNS_05, side, qi, gpa, q->used_idx,
                        "queue %u: used element at 0x%llx read with its bytes from before used->idx (%u) "
                        "published it: no read barrier after reading used->idx",
                        qi, (unsigned long long)gpa, q->used_idx);
        uint64_t rule = event_idx ? q->device + VIRTQ_AVAIL_EVENT(size) : q->device + VIRTQ_USED_FLAGS;
        if (covers(gpa, len, rule, 2) && vqf_vis_pending_overlaps(v, side, q->driver + VIRTQ_AVAIL_IDX, 2))
            /* 2.7.13.4.1: the kick decision reads the suppression field after the idx is visible */
            vqf_or_find(o, VQF_CL_SPLIT_PUB_02, side, qi, gpa, 0,
                        "queue %u: %s read while the driver's avail idx store is not yet visible to the device "
                        "(no full barrier between them): the kick decision can be lost",
                        qi, event_idx ? "avail_event" : "used->flags");
    } else if (side == VQF_SIDE_DEVICE && !q->taint_dev) {
        uint64_t rule = event_idx ? q->driver + VIRTQ_USED_EVENT(size) : q->driver + VIRTQ_AVAIL_FLAGS;
        if (covers(gpa, len, rule, 2) && vqf_vis_pending_overlaps(v, side, q->device + VIRTQ_USED_IDX, 2))
            /* 2.7.7.2: the interrupt decision reads the suppression field after used->idx is visible */
            vqf_or_find(o, event_idx ? VQF_CL_SPLIT_UNS_10 : VQF_CL_SPLIT_UNS_08, side, qi, gpa, 0,
                        "queue %u: %s read while the device's used idx store is not yet visible to the driver "
                        "(no full barrier between them): the interrupt decision can be lost",
                        qi, event_idx ? "used_event" : "avail->flags");
    }
}

static void packed_read(struct vqf_oracle *o, unsigned qi, const struct vqf_vis *v, unsigned side, uint64_t gpa,
                        uint64_t len)
{
    struct oq *q = &o->q[qi];
    uint64_t ring = (uint64_t)q->size * 16u;
    bool event_idx = or_feat(q->feat, VIRTIO_F_EVENT_IDX);
    if (side == VQF_SIDE_DRIVER && !q->taint_drv) {
        if (covers(gpa, len, q->device, 4) && vqf_vis_pending_overlaps(v, side, q->desc, ring))
            /* 2.8.21.3.1: the device event area is read after the flags that publish */
            vqf_or_find(o, VQF_CL_PACK_PUB_02, side, qi, gpa, 0,
                        "queue %u: device event suppression read while the driver's descriptor stores are not "
                        "yet visible to the device (no full barrier between them)", qi);
    } else if (side == VQF_SIDE_DEVICE && !q->taint_dev) {
        if (covers(gpa, len, q->driver, 4) && vqf_vis_pending_overlaps(v, side, q->desc, ring))
            /* 2.8.10 with 2.7.7.2's barrier: used descriptors visible before the decision */
            vqf_or_find(o, event_idx ? VQF_CL_SPLIT_UNS_10 : VQF_CL_SPLIT_UNS_08, side, qi, gpa, 0,
                        "queue %u: driver event suppression read while the device's used descriptor stores are "
                        "not yet visible to the driver (no full barrier between them)", qi);
    }
}

void vqf_or_order_read(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len)
{
    const struct vqf_vis *v = o->setup.mem ? o->setup.mem->vis : NULL;
    if (!v || side >= 2)
        return;
    for (unsigned k = 0; k < o->nlive; k++) {
        unsigned i = o->live_idx[k];
        if (!o->q[i].live || o->q[i].size == 0)
            continue;
        if (o->q[i].packed)
            packed_read(o, i, v, side, gpa, len);
        else
            split_read(o, i, v, side, gpa, len);
    }
}

/* A driver publication just became visible (its write was judged): remember the event index
 * that rules the kick it may owe. */
void vqf_or_order_write(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len)
{
    for (unsigned k = 0; k < o->nlive; k++) {
        unsigned i = o->live_idx[k];
        struct oq *q = &o->q[i];
        if (i >= VQF_OR_ORDER_MAXQ || !q->live || q->packed || q->size == 0)
            continue;
        if (side == VQF_SIDE_DRIVER && covers(gpa, len, q->driver + VIRTQ_AVAIL_IDX, 2))
            vqf_or_rd16(o, q->device + VIRTQ_AVAIL_EVENT(q->size), &o->ord.kick_ev[i]);
    }
}

void vqf_or_order_idle(struct vqf_oracle *o)
{
    for (unsigned i = 0; i < OQ_MAX && i < VQF_OR_ORDER_MAXQ; i++) {
        struct oq *q = &o->q[i];
        if (!q->live || q->packed || q->size == 0 || !or_feat(q->feat, VIRTIO_F_EVENT_IDX))
            continue;
        uint16_t ev = o->ord.kick_ev[i];
        /* a driver that is resetting the device owes it nothing */
        if (!q->pub_since_read || q->taint_drv || o->reset_written)
            continue;
        if (vqf_need_event(ev, q->avail_idx, q->kick_base))
            /* 2.7.10.1: the publication became visible after the driver's last look at
             * avail_event, and the device's event index asks for the kick never sent */
            vqf_or_find(o, VQF_CL_SPLIT_ANS_06, VQF_SIDE_DRIVER, i, q->avail_idx, ev,
                        "queue %u: avail idx %u visible with no kick decision after it; avail_event %u asks for "
                        "a notification (lost kick)", i, q->avail_idx, ev);
        else
            /* 2.7.13.4.1: neither a kick nor a read of avail_event after the publication: the
             * decision not to kick was taken on a read made before it (the device may have
             * moved avail_event in between) */
            vqf_or_find(o, VQF_CL_SPLIT_PUB_02, VQF_SIDE_DRIVER, i, q->avail_idx, 0,
                        "queue %u: avail idx %u published with neither a kick nor an avail_event read after it: "
                        "the kick decision came before the publication", i, q->avail_idx);
    }
}
