/* An honest pair: see pair.h. */
#include "emulator/pair.h"

#include <string.h>

uint32_t vqf_pair_mmio_read(void *pair, uint32_t off, unsigned size)
{
    struct vqf_pair *p = pair;
    p->mmio_reads++;
    return p->dev_ad->mmio_read(p->dev, off, size);
}

void vqf_pair_mmio_write(void *pair, uint32_t off, unsigned size, uint32_t val)
{
    struct vqf_pair *p = pair;
    p->mmio_writes++;
    p->dev_ad->mmio_write(p->dev, off, size, val);
}

void vqf_pair_irq(void *pair)
{
    struct vqf_pair *p = pair;
    p->irq_line = true;
}

uint64_t vqf_pair_alloc(void *pair, uint64_t size, uint64_t align)
{
    struct vqf_pair *p = pair;
    uint64_t gpa = vqf_galloc_alloc(&p->galloc, size, align);
    /* Fresh allocations hold zeroes: memory is reset between runs and the allocator never
     * hands out the same range twice within one. */
    return gpa;
}

static int create_sides(struct vqf_pair *p, const struct vqf_device_params *dev_params,
                        const struct vqf_driver_params *drv_params)
{
    struct vqf_device_platform dplat = {vqf_mem_dma(&p->mem, VQF_SIDE_DEVICE), vqf_pair_irq, p};
    p->dev = p->dev_ad->create(&dplat, dev_params);
    if (!p->dev)
        return -1;
    if (p->drv_ad) {
        struct vqf_driver_platform rplat = {vqf_mem_dma(&p->mem, VQF_SIDE_DRIVER), vqf_pair_mmio_read,
                                            vqf_pair_mmio_write, p, vqf_pair_alloc, p};
        p->drv = p->drv_ad->create(&rplat, drv_params);
        if (!p->drv)
            return -1;
    }
    return 0;
}

static void destroy_sides(struct vqf_pair *p)
{
    if (p->drv && p->drv_ad)
        p->drv_ad->destroy(p->drv);
    if (p->dev)
        p->dev_ad->destroy(p->dev);
    p->drv = NULL;
    p->dev = NULL;
}

int vqf_pair_init(struct vqf_pair *p, uint64_t mem_size, const struct vqf_device_adapter *dev_ad,
                  const struct vqf_device_params *dev_params, const struct vqf_driver_adapter *drv_ad,
                  const struct vqf_driver_params *drv_params)
{
    memset(p, 0, sizeof(*p));
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, mem_size);
    if (vqf_mem_init(&p->mem, &l) != 0)
        return -1;
    vqf_galloc_init(&p->galloc, l.r[0].gpa + mem_size / 2, mem_size / 2);
    p->dev_ad = dev_ad;
    p->drv_ad = drv_ad;
    if (create_sides(p, dev_params, drv_params) != 0) {
        vqf_pair_destroy(p);
        return -1;
    }
    return 0;
}

void vqf_pair_destroy(struct vqf_pair *p)
{
    destroy_sides(p);
    vqf_mem_destroy(&p->mem);
}

int vqf_pair_recreate(struct vqf_pair *p, const struct vqf_device_params *dev_params,
                      const struct vqf_driver_params *drv_params)
{
    destroy_sides(p);
    vqf_mem_reset(&p->mem);
    vqf_galloc_reset(&p->galloc);
    p->irq_line = false;
    return create_sides(p, dev_params, drv_params);
}

int vqf_pair_step(struct vqf_pair *p, unsigned budget)
{
    int work = p->dev_ad->poll(p->dev, budget);
    if (work < 0)
        work = 0;
    if (p->irq_line && p->drv) {
        p->irq_line = false;
        p->irqs++;
        int done = p->drv_ad->interrupt(p->drv);
        if (done > 0)
            work += done;
    }
    return work;
}

int vqf_pair_run(struct vqf_pair *p, unsigned budget, unsigned max_steps)
{
    for (unsigned i = 0; i < max_steps; i++)
        if (vqf_pair_step(p, budget) == 0 && !p->irq_line)
            return (int)i;
    return -1;
}
