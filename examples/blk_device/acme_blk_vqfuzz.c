/* The vqfuzz adapter of acme-blk: the whole glue between the device model and the harness
 * (include/vqfuzz/adapter.h). Guest memory comes from the platform's DMA handle, barriers
 * go to vqfuzz/barrier.h so that the harness sees them. */
#include "acme_blk.h"
#include "vqfuzz/vqfuzz.h"

#include <stdlib.h>

struct acme_vqf {
    struct vqf_device_platform plat; /* first: the host callbacks get this as ctx */
    struct acme_blk *blk;
};

static void *h_map(void *ctx, uint64_t gpa, uint64_t len, int writable)
{
    return vqf_dma_map(&((struct acme_vqf *)ctx)->plat.dma, gpa, len, writable);
}

static int h_read(void *ctx, uint64_t gpa, void *buf, uint64_t len)
{
    return vqf_dma_read(&((struct acme_vqf *)ctx)->plat.dma, gpa, buf, len);
}

static int h_write(void *ctx, uint64_t gpa, const void *buf, uint64_t len)
{
    return vqf_dma_write(&((struct acme_vqf *)ctx)->plat.dma, gpa, buf, len);
}

static void h_barrier(void *ctx, int kind)
{
    const struct vqf_dma *d = &((struct acme_vqf *)ctx)->plat.dma;
    if (kind == 1)
        vqf_dma_rmb(d);
    else if (kind == 2)
        vqf_dma_wmb(d);
    else
        vqf_dma_mb(d);
}

static void h_irq(void *ctx, uint32_t bits) { vqf_device_irq(&((struct acme_vqf *)ctx)->plat, bits); }

static void *a_create(const struct vqf_device_platform *plat, const struct vqf_device_params *p)
{
    struct acme_vqf *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->plat = *plat;
    struct acme_blk_host host = {h_map, h_read, h_write, h_barrier, h_irq, a};
    uint64_t mask = p && (p->features[0] | p->features[1]) ? p->features[0] : ~0ull;
    a->blk = acme_blk_new(&host, mask, p ? p->queue_size_max : 0);
    if (!a->blk) {
        free(a);
        return NULL;
    }
    return a;
}

static void a_destroy(void *dev)
{
    struct acme_vqf *a = dev;
    if (a)
        acme_blk_free(a->blk);
    free(a);
}

static uint32_t a_read(void *dev, uint32_t off, unsigned size)
{
    return acme_blk_mmio_read(((struct acme_vqf *)dev)->blk, off, size);
}

static void a_write(void *dev, uint32_t off, unsigned size, uint32_t val)
{
    acme_blk_mmio_write(((struct acme_vqf *)dev)->blk, off, size, val);
}

static int a_poll(void *dev, unsigned budget) { return acme_blk_poll(((struct acme_vqf *)dev)->blk, budget); }

extern const struct vqf_device_adapter acme_blk_device;
const struct vqf_device_adapter acme_blk_device = {
    .name = "acme_blk",
    .device_id = VIRTIO_ID_BLOCK,
    .create = a_create,
    .destroy = a_destroy,
    .mmio_read = a_read,
    .mmio_write = a_write,
    .poll = a_poll,
};
