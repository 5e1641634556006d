/* The vqfuzz adapter of tinyblk: the whole glue between the driver and the harness
 * (include/vqfuzz/adapter.h). Registers go through the platform's MMIO callbacks, guest
 * memory through its DMA handle, barriers to vqfuzz/barrier.h. */
#include "tinyblk.h"
#include "vqfuzz/vqfuzz.h"

#include <stdlib.h>

struct tinyblk_vqf {
    struct vqf_driver_platform plat;
    struct tinyblk *t;
};

static uint32_t h_rd(void *c, uint32_t off)
{
    struct tinyblk_vqf *a = c;
    return a->plat.mmio_read(a->plat.mmio_ctx, off, 4);
}

static void h_wr(void *c, uint32_t off, uint32_t v)
{
    struct tinyblk_vqf *a = c;
    a->plat.mmio_write(a->plat.mmio_ctx, off, 4, v);
}

static int h_mrd(void *c, uint64_t gpa, void *buf, uint64_t len)
{
    return vqf_dma_read(&((struct tinyblk_vqf *)c)->plat.dma, gpa, buf, len);
}

static int h_mwr(void *c, uint64_t gpa, const void *buf, uint64_t len)
{
    return vqf_dma_write(&((struct tinyblk_vqf *)c)->plat.dma, gpa, buf, len);
}

static uint64_t h_alloc(void *c, uint64_t size, uint64_t align)
{
    struct tinyblk_vqf *a = c;
    return a->plat.dma_alloc(a->plat.alloc_ctx, size, align);
}

static void h_barrier(void *c, int kind)
{
    const struct vqf_dma *d = &((struct tinyblk_vqf *)c)->plat.dma;
    if (kind == 1)
        vqf_dma_rmb(d);
    else if (kind == 2)
        vqf_dma_wmb(d);
    else
        vqf_dma_mb(d);
}

static void *a_create(const struct vqf_driver_platform *plat, const struct vqf_driver_params *p)
{
    struct tinyblk_vqf *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->plat = *plat;
    struct tinyblk_host h = {h_rd, h_wr, h_mrd, h_mwr, h_alloc, h_barrier, a};
    a->t = tinyblk_new(&h, p ? p->features[0] : 0, p ? p->queue_size : 0);
    if (!a->t) {
        free(a);
        return NULL;
    }
    return a;
}

static void a_destroy(void *drv)
{
    struct tinyblk_vqf *a = drv;
    if (a)
        tinyblk_free(a->t);
    free(a);
}

static struct tinyblk *T(void *drv) { return ((struct tinyblk_vqf *)drv)->t; }
static int a_probe(void *drv) { return tinyblk_probe(T(drv)); }
static int a_interrupt(void *drv) { return tinyblk_interrupt(T(drv)); }
static unsigned a_inflight(void *drv) { return tinyblk_inflight(T(drv)); }
static unsigned a_errors(void *drv) { return tinyblk_errors(T(drv)); }
static void a_remove(void *drv) { tinyblk_remove(T(drv)); }

/* blk workload (adapter.h): 0 write + read-back, 1 read, 5 get-id; tinyblk makes no flush,
 * discard or write-zeroes requests. */
static int a_submit(void *drv, const struct vqf_workload_op *op)
{
    switch (op->kind) {
    case 0: return tinyblk_write_verify(T(drv), op->arg0, op->arg1, op->seed);
    case 1: return tinyblk_read(T(drv), op->arg0, op->arg1);
    case 5: return tinyblk_get_id(T(drv));
    default: return -1;
    }
}

static int a_control(void *drv, unsigned req, uint32_t arg)
{
    (void)arg;
    if (req == VQF_CTL_RESET)
        return tinyblk_reset(T(drv));
    if (req == VQF_CTL_QUEUE_RESET)
        return tinyblk_queue_reset(T(drv));
    return tinyblk_config_changed(T(drv)); /* VQF_CTL_CONFIG */
}

extern const struct vqf_driver_adapter tinyblk_driver;
const struct vqf_driver_adapter tinyblk_driver = {
    .name = "tinyblk",
    .device_id = VIRTIO_ID_BLOCK,
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
