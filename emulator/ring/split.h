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

#include "emulator/ring/ring.h"

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
    /* private to split.c */
    uint32_t mask;            /* size - 1 (size is a power of two); 32 bits: see split.c */
    uint16_t avail_shadow;    /* avail idx last read and validated */
    uint16_t inflight;        /* chains popped and not yet pushed */
    bool batch_last_full;     /* IN_ORDER: the batch's last buffer was written completely */
    bool kick_suppressed;     /* set_kick_suppress(true) in force */
    uint8_t buf_region;       /* guest-memory region of the last buffer checked (a hint) */
};

struct vqf_split_drv_slot; /* per-head driver state, private to split.c */

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
int vqf_split_dev_pop(struct vqf_split_dev *q, struct vqf_chain *c);
/* Record a used entry for c with `written` bytes (not visible until publish). With IN_ORDER
 * consecutive pushes are batched into one used entry (D-07). */
int vqf_split_dev_push(struct vqf_split_dev *q, const struct vqf_chain *c, uint32_t written);
/* Make every pushed entry visible: write barrier, then used idx (SPLIT-USD-01). */
void vqf_split_dev_publish(struct vqf_split_dev *q);
/* After publish: must the device send a used-buffer notification now? (2.7.7.2: flags, or
 * vqf_need_event(used_event, new, old) with EVENT_IDX). Consumes the decision. */
bool vqf_split_dev_need_notify(struct vqf_split_dev *q);
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
int vqf_split_drv_add(struct vqf_split_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                      uint32_t token, unsigned flags);
/* Publish added entries (write barrier, avail idx), then full barrier, then decide whether
 * the device must be notified (used->flags or avail_event with EVENT_IDX, 2.7.10). */
bool vqf_split_drv_kick_prepare(struct vqf_split_drv *q);
/* The value to write to QueueNotify: the queue index, or with NOTIFICATION_DATA the
 * vq_index | next_off | next_wrap word (2.9). */
uint32_t vqf_split_drv_notify_value(const struct vqf_split_drv *q);
/* 1 = a used buffer reclaimed (*token, *len), 0 = none, <0 = -VQF_ERR_* (device lied; the
 * half is broken until re-init). */
int vqf_split_drv_get_used(struct vqf_split_drv *q, uint32_t *token, uint32_t *len);
/* Used-buffer notification suppression (2.7.7.1). enable returns false if used buffers
 * arrived meanwhile (the caller should poll again), like Linux virtqueue_enable_cb. */
void vqf_split_drv_disable_cb(struct vqf_split_drv *q);
bool vqf_split_drv_enable_cb(struct vqf_split_drv *q);
bool vqf_split_drv_has_used(struct vqf_split_drv *q);
static inline unsigned vqf_split_drv_num_free(const struct vqf_split_drv *q) { return q->num_free; }

#endif
