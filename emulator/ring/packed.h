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

struct vqf_packed_drv_slot; /* per buffer id, private to packed.c */

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
int vqf_packed_dev_pop(struct vqf_packed_dev *q, struct vqf_chain *c);
int vqf_packed_dev_push(struct vqf_packed_dev *q, const struct vqf_chain *c, uint32_t written);
void vqf_packed_dev_publish(struct vqf_packed_dev *q);
bool vqf_packed_dev_need_notify(struct vqf_packed_dev *q);
void vqf_packed_dev_set_kick_suppress(struct vqf_packed_dev *q, bool suppress);
bool vqf_packed_dev_pending(struct vqf_packed_dev *q);

/* ---- driver half ---- */
int vqf_packed_drv_init(struct vqf_packed_drv *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg);
void vqf_packed_drv_free(struct vqf_packed_drv *q);
int vqf_packed_drv_add(struct vqf_packed_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                       uint32_t token, unsigned flags);
bool vqf_packed_drv_kick_prepare(struct vqf_packed_drv *q);
uint32_t vqf_packed_drv_notify_value(const struct vqf_packed_drv *q);
int vqf_packed_drv_get_used(struct vqf_packed_drv *q, uint32_t *token, uint32_t *len);
void vqf_packed_drv_disable_cb(struct vqf_packed_drv *q);
bool vqf_packed_drv_enable_cb(struct vqf_packed_drv *q);
bool vqf_packed_drv_has_used(struct vqf_packed_drv *q);
static inline unsigned vqf_packed_drv_num_free(const struct vqf_packed_drv *q) { return q->num_free; }

#endif
