/* Reference virtio-rng (entropy) device, spec 5.4: one request queue (5.4.2) of
 * device-writable buffers, each filled with pseudo-random bytes from a seeded generator so that
 * runs are reproducible. No feature bits and no configuration space (5.4.3, 5.4.4). */
#include <stdlib.h>

#include "emulator/devices/devices.h"
#include "emulator/transport/vdev.h"

#define RNG_FEATURES                                                                               \
    (VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |  \
     VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) | \
     VQF_BIT(VIRTIO_F_RING_RESET))
#define RNG_QUEUE_MAX 256u
/* Longest chain the device walks; buffers are bytes, so a few segments are plenty. */
#define RNG_SEG_CAP 64u
/* Bytes delivered per request at most. 5.4.6.2 (RNG-04) lets the device fill less than the
 * buffer; the cap bounds the work a single huge buffer can cost. */
#define RNG_MAX_FILL 4096u

struct rng_dev {
    struct vqf_vdev vdev;
    uint64_t state; /* splitmix64 */
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fill the first n bytes of the chain's writable part, in chain order (2.7.8.2: used len counts
 * bytes from the first writable descriptor). 0, or -1 when a DMA access failed. */
static int fill(struct rng_dev *r, const struct vqf_chain *c, uint32_t n)
{
    uint8_t buf[256];
    uint32_t have = 0, used = 0;
    for (unsigned i = c->nout; i < c->nseg && n; i++) {
        uint64_t addr = c->seg[i].addr;
        uint32_t left = c->seg[i].len < n ? c->seg[i].len : n;
        n -= left;
        while (left) {
            if (used == have) {
                for (unsigned w = 0; w < sizeof(buf) / 8; w++)
                    vqf_put_le64(buf + 8 * w, splitmix64(&r->state));
                have = sizeof(buf);
                used = 0;
            }
            uint32_t k = have - used < left ? have - used : left;
            if (vqf_dma_write(&r->vdev.dma, addr, buf + used, k) != 0)
                return -1;
            addr += k;
            used += k;
            left -= k;
        }
    }
    return 0;
}

static int rng_process(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    struct rng_dev *r = d->backend;
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    if (!vq)
        return 0;
    unsigned done = 0;
    while (done < budget) {
        struct vqf_chain c = {.seg = d->segs, .seg_cap = d->seg_cap};
        int e = vqf_vq_dev_pop(vq, &c);
        if (e == 0)
            break;
        if (e < 0) {
            vqf_vdev_fail(d, q, -e);
            break;
        }
        /* RNG-01 (5.4.6.1): only device-writable buffers. A readable one, or no writable byte to
         * put the one byte RNG-03 demands into, leaves nothing sane to answer: NEEDS_RESET. */
        if (c.nout || c.in_len == 0) {
            vqf_vdev_fail(d, q, VQF_ERR_INVAL);
            break;
        }
        uint32_t n = c.in_len < RNG_MAX_FILL ? c.in_len : RNG_MAX_FILL;
        if (fill(r, &c, n) != 0) {
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            break;
        }
        e = vqf_vq_dev_push(vq, &c, n); /* RNG-03: 1 <= len <= buffer size */
        if (e < 0) {
            vqf_vdev_fail(d, q, -e);
            break;
        }
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, q);
    return (int)done;
}

static const struct vqf_vdev_ops rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .process = rng_process,
};

static void *rng_create(const struct vqf_device_platform *plat, const struct vqf_device_params *params)
{
    static const struct vqf_device_params defaults;
    if (!params)
        params = &defaults;
    struct rng_dev *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    uint64_t feat[2] = {RNG_FEATURES, 0};
    if (params->features[0] | params->features[1])
        feat[0] &= params->features[0];
    uint16_t qmax = params->queue_size_max ? params->queue_size_max : RNG_QUEUE_MAX;
    if (vqf_vdev_init(&r->vdev, &rng_ops, r, &plat->dma, 1, qmax, feat, 0, RNG_SEG_CAP) != 0) {
        free(r);
        return NULL;
    }
    r->vdev.irq = plat->irq;
    r->vdev.irq_ctx = plat->irq_ctx;
    r->state = 0x5eed0000ull ^ ((uint64_t)params->seed << 17);
    return r;
}

static void rng_destroy(void *dev)
{
    struct rng_dev *r = dev;
    if (!r)
        return;
    vqf_vdev_destroy(&r->vdev);
    free(r);
}

const struct vqf_device_adapter vqf_rng_device = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .create = rng_create,
    .destroy = rng_destroy,
    .mmio_read = vqf_vdev_adapter_mmio_read,
    .mmio_write = vqf_vdev_adapter_mmio_write,
    .poll = vqf_vdev_adapter_poll,
};
