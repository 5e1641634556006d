/* Format-neutral virtqueue: devices and drivers use this and run unchanged over split
 * (spec 2.7) or packed (spec 2.8) rings. Dispatch is an inlined switch on the format, so the
 * neutral layer costs one predictable branch per call. */
#ifndef VQF_VQ_H
#define VQF_VQ_H

#include <string.h>

#include "emulator/ring/packed.h"
#include "emulator/ring/split.h"

struct vqf_vq_dev {
    enum vqf_ring_format format;
    union {
        struct vqf_split_dev split;
        struct vqf_packed_dev packed;
    } u;
};

struct vqf_vq_drv {
    enum vqf_ring_format format;
    union {
        struct vqf_split_drv split;
        struct vqf_packed_drv packed;
    } u;
};

#define VQF_VQ_IS_PACKED(q) ((q)->format == VQF_RING_PACKED)

/* ---- device half ---- */
/* The struct must be zeroed before its first init. Host arrays are kept across re-inits of
 * the same format; switching formats frees the packed half's arrays first. */
static inline int vqf_vq_dev_init(struct vqf_vq_dev *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg)
{
    if (q->format != cfg->format) {
        if (VQF_VQ_IS_PACKED(q))
            vqf_packed_dev_free(&q->u.packed);
        /* the other format's fields share the union: start from zero */
        memset(&q->u, 0, sizeof(q->u));
    }
    q->format = cfg->format;
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_dev_init(&q->u.packed, dma, cfg) : vqf_split_dev_init(&q->u.split, dma, cfg);
}
/* Release host allocations (only packed keeps some); the struct may be re-initialised. */
static inline void vqf_vq_dev_free(struct vqf_vq_dev *q)
{
    if (VQF_VQ_IS_PACKED(q))
        vqf_packed_dev_free(&q->u.packed);
}
RING_INLINE int vqf_vq_dev_pop(struct vqf_vq_dev *q, struct vqf_chain *c)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_dev_pop(&q->u.packed, c) : vqf_split_dev_pop(&q->u.split, c);
}
RING_INLINE int vqf_vq_dev_push(struct vqf_vq_dev *q, const struct vqf_chain *c, uint32_t written)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_dev_push(&q->u.packed, c, written)
                               : vqf_split_dev_push(&q->u.split, c, written);
}
RING_INLINE void vqf_vq_dev_publish(struct vqf_vq_dev *q)
{
    if (VQF_VQ_IS_PACKED(q))
        vqf_packed_dev_publish(&q->u.packed);
    else
        vqf_split_dev_publish(&q->u.split);
}
RING_INLINE bool vqf_vq_dev_need_notify(struct vqf_vq_dev *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_dev_need_notify(&q->u.packed) : vqf_split_dev_need_notify(&q->u.split);
}
static inline void vqf_vq_dev_set_kick_suppress(struct vqf_vq_dev *q, bool suppress)
{
    if (VQF_VQ_IS_PACKED(q))
        vqf_packed_dev_set_kick_suppress(&q->u.packed, suppress);
    else
        vqf_split_dev_set_kick_suppress(&q->u.split, suppress);
}
static inline bool vqf_vq_dev_pending(struct vqf_vq_dev *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_dev_pending(&q->u.packed) : vqf_split_dev_pending(&q->u.split);
}
static inline bool vqf_vq_dev_broken(const struct vqf_vq_dev *q)
{
    return VQF_VQ_IS_PACKED(q) ? q->u.packed.broken : q->u.split.broken;
}

/* ---- driver half ---- */
static inline int vqf_vq_drv_init(struct vqf_vq_drv *q, const struct vqf_dma *dma, const struct vqf_ring_cfg *cfg)
{
    /* Host arrays are kept across re-inits of the same format; switching formats frees them. */
    if (q->format != cfg->format) {
        if (VQF_VQ_IS_PACKED(q))
            vqf_packed_drv_free(&q->u.packed);
        else
            vqf_split_drv_free(&q->u.split);
        memset(&q->u, 0, sizeof(q->u));
        q->format = cfg->format;
    }
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_init(&q->u.packed, dma, cfg) : vqf_split_drv_init(&q->u.split, dma, cfg);
}
static inline void vqf_vq_drv_free(struct vqf_vq_drv *q)
{
    if (VQF_VQ_IS_PACKED(q))
        vqf_packed_drv_free(&q->u.packed);
    else
        vqf_split_drv_free(&q->u.split);
}
RING_INLINE int vqf_vq_drv_add(struct vqf_vq_drv *q, const struct vqf_seg *sg, unsigned nout, unsigned nin,
                                 uint32_t token, unsigned flags)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_add(&q->u.packed, sg, nout, nin, token, flags)
                               : vqf_split_drv_add(&q->u.split, sg, nout, nin, token, flags);
}
RING_INLINE bool vqf_vq_drv_kick_prepare(struct vqf_vq_drv *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_kick_prepare(&q->u.packed) : vqf_split_drv_kick_prepare(&q->u.split);
}
static inline uint32_t vqf_vq_drv_notify_value(const struct vqf_vq_drv *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_notify_value(&q->u.packed) : vqf_split_drv_notify_value(&q->u.split);
}
RING_INLINE int vqf_vq_drv_get_used(struct vqf_vq_drv *q, uint32_t *token, uint32_t *len)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_get_used(&q->u.packed, token, len)
                               : vqf_split_drv_get_used(&q->u.split, token, len);
}
static inline void vqf_vq_drv_disable_cb(struct vqf_vq_drv *q)
{
    if (VQF_VQ_IS_PACKED(q))
        vqf_packed_drv_disable_cb(&q->u.packed);
    else
        vqf_split_drv_disable_cb(&q->u.split);
}
static inline bool vqf_vq_drv_enable_cb(struct vqf_vq_drv *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_enable_cb(&q->u.packed) : vqf_split_drv_enable_cb(&q->u.split);
}
static inline bool vqf_vq_drv_has_used(struct vqf_vq_drv *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_has_used(&q->u.packed) : vqf_split_drv_has_used(&q->u.split);
}
static inline unsigned vqf_vq_drv_num_free(const struct vqf_vq_drv *q)
{
    return VQF_VQ_IS_PACKED(q) ? vqf_packed_drv_num_free(&q->u.packed) : vqf_split_drv_num_free(&q->u.split);
}
static inline bool vqf_vq_drv_broken(const struct vqf_vq_drv *q)
{
    return VQF_VQ_IS_PACKED(q) ? q->u.packed.broken : q->u.split.broken;
}

#endif
