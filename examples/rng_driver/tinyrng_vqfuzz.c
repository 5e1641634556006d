/* The vqfuzz adapter of tinyrng: the whole glue between the driver and the harness
 * (include/vqfuzz/adapter.h). Registers go through the platform's MMIO callbacks, guest
 * memory through its DMA handle, barriers to vqfuzz/barrier.h. */
#include "tinyrng.h"
#include "vqfuzz/vqfuzz.h"

#include <stdlib.h>

struct tiny_vqf {
    struct vqf_driver_platform plat;
    struct tinyrng *t;
};

static uint32_t h_rd(void *c, uint32_t off)
{
    struct tiny_vqf *a = c;
    return a->plat.mmio_read(a->plat.mmio_ctx, off, 4);
}

static void h_wr(void *c, uint32_t off, uint32_t v)
{
    struct tiny_vqf *a = c;
    a->plat.mmio_write(a->plat.mmio_ctx, off, 4, v);
}

static int h_mrd(void *c, uint64_t gpa, void *buf, uint64_t len)
{
    return vqf_dma_read(&((struct tiny_vqf *)c)->plat.dma, gpa, buf, len);
}

static int h_mwr(void *c, uint64_t gpa, const void *buf, uint64_t len)
{
    return vqf_dma_write(&((struct tiny_vqf *)c)->plat.dma, gpa, buf, len);
}

static uint64_t h_alloc(void *c, uint64_t size, uint64_t align)
{
    struct tiny_vqf *a = c;
    return a->plat.dma_alloc(a->plat.alloc_ctx, size, align);
}

static void h_barrier(void *c, int kind)
{
    const struct vqf_dma *d = &((struct tiny_vqf *)c)->plat.dma;
    if (kind == 1)
        vqf_dma_rmb(d);
    else if (kind == 2)
        vqf_dma_wmb(d);
    else
        vqf_dma_mb(d);
}

static void *a_create(const struct vqf_driver_platform *plat, const struct vqf_driver_params *p)
{
    struct tiny_vqf *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->plat = *plat;
    struct tinyrng_host h = {h_rd, h_wr, h_mrd, h_mwr, h_alloc, h_barrier, a};
    a->t = tinyrng_new(&h, p ? p->features[0] : 0, p ? p->queue_size : 0);
    if (!a->t) {
        free(a);
        return NULL;
    }
    return a;
}

static void a_destroy(void *drv)
{
    struct tiny_vqf *a = drv;
    if (a)
        tinyrng_free(a->t);
    free(a);
}

static struct tinyrng *T(void *drv) { return ((struct tiny_vqf *)drv)->t; }
static int a_probe(void *drv) { return tinyrng_probe(T(drv)); }
static int a_interrupt(void *drv) { return tinyrng_interrupt(T(drv)); }
static unsigned a_inflight(void *drv) { return tinyrng_inflight(T(drv)); }
static unsigned a_errors(void *drv) { return tinyrng_errors(T(drv)); }
static void a_remove(void *drv) { tinyrng_remove(T(drv)); }

static int a_submit(void *drv, const struct vqf_workload_op *op)
{
    return op->kind == 0 ? tinyrng_request(T(drv), op->arg0) : -1; /* rng: kind 0 only */
}

static int a_control(void *drv, unsigned req, uint32_t arg)
{
    (void)arg;
    if (req == VQF_CTL_RESET)
        return tinyrng_reset(T(drv));
    if (req == VQF_CTL_QUEUE_RESET)
        return tinyrng_queue_reset(T(drv));
    return 0; /* VQF_CTL_CONFIG: an entropy device has no configuration (5.4.4) */
}

extern const struct vqf_driver_adapter tinyrng_driver;
const struct vqf_driver_adapter tinyrng_driver = {
    .name = "tinyrng",
    .device_id = VIRTIO_ID_RNG,
    .create = a_create,
    .destroy = a_destroy,
    .probe = a_probe,
    .submit = a_submit,
    .interrupt = a_interrupt,
    .control = a_control,
    .inflight = a_inflight,
    .data_errors = a_errors,
    .remove = a_remove,
};
