/* Test world for the transport tests: see world.h. */
#include "tests/transport/world.h"

#include <string.h>

/* ---- the loop device backend ---- */

/* Copy the chain's readable bytes into its writable bytes; what is left is zero-filled. */
static int loop_echo(struct vqf_vdev *d, const struct vqf_chain *c)
{
    uint8_t data[4096];
    uint32_t n = 0;
    for (unsigned i = 0; i < c->nout; i++) {
        uint32_t len = c->seg[i].len;
        if (len > sizeof(data) - n)
            len = (uint32_t)sizeof(data) - n;
        if (vqf_dma_read(&d->dma, c->seg[i].addr, data + n, len) != 0)
            return -1;
        n += len;
    }
    uint32_t pos = 0;
    for (unsigned i = c->nout; i < c->nseg; i++) {
        for (uint32_t j = 0; j < c->seg[i].len; j++, pos++) {
            uint8_t b = pos < n ? data[pos] : 0;
            if (vqf_dma_write(&d->dma, c->seg[i].addr + j, &b, 1) != 0)
                return -1;
        }
    }
    return 0;
}

static int loop_process(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    struct tw *w = d->backend;
    w->loop.process_calls++;
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    if (!vq)
        return 0;
    unsigned done = 0;
    while (done < budget) {
        struct vqf_chain c = {.seg = d->segs, .seg_cap = d->seg_cap};
        int r = vqf_vq_dev_pop(vq, &c);
        if (r == 0)
            break;
        if (r < 0) {
            w->loop.last_err = -r;
            vqf_vdev_fail(d, q, -r);
            break;
        }
        if (loop_echo(d, &c) != 0) {
            w->loop.last_err = VQF_ERR_ADDR;
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            break;
        }
        r = vqf_vq_dev_push(vq, &c, c.in_len);
        if (r < 0) {
            w->loop.last_err = -r;
            vqf_vdev_fail(d, q, -r);
            break;
        }
        done++;
        w->loop.processed[q]++;
    }
    if (done)
        vqf_vdev_used_notify(d, q);
    return (int)done;
}

static int loop_features_ok(struct vqf_vdev *d)
{
    struct tw *w = d->backend;
    w->loop.features_ok_calls++;
    if ((d->drv_features[0] & w->loop.refuse_bits[0]) || (d->drv_features[1] & w->loop.refuse_bits[1]))
        return -1;
    return 0;
}

static void loop_config_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val)
{
    struct tw *w = d->backend;
    w->loop.config_writes++;
    w->loop.last_cfg_off = off;
    w->loop.last_cfg_size = size;
    w->loop.last_cfg_val = val;
}

static void loop_driver_ok(struct vqf_vdev *d) { ((struct tw *)d->backend)->loop.driver_oks++; }
static void loop_reset(struct vqf_vdev *d) { ((struct tw *)d->backend)->loop.resets++; }
static void loop_queue_reset(struct vqf_vdev *d, uint16_t q)
{
    (void)q;
    ((struct tw *)d->backend)->loop.queue_resets++;
}

static const struct vqf_vdev_ops loop_ops = {
    .name = "loop",
    .device_id = TW_DEVICE_ID,
    .features_ok = loop_features_ok,
    .config_write = loop_config_write,
    .driver_ok = loop_driver_ok,
    .reset = loop_reset,
    .queue_reset = loop_queue_reset,
    .process = loop_process,
};

/* ---- platform plumbing ---- */

static uint32_t plat_read(void *ctx, uint32_t off, unsigned size)
{
    struct tw *w = ctx;
    w->mmio_reads++;
    if (w->on_read)
        w->on_read(w, off, size);
    if (w->stall_reads && off == w->stall_off) {
        w->stall_reads--;
        w->stall_seen++;
        return w->stall_val;
    }
    if (w->magic_override && off == VIRTIO_MMIO_MAGIC_VALUE)
        return w->magic_override;
    return vqf_vdev_mmio_read(&w->dev, off, size);
}

static void plat_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
    struct tw *w = ctx;
    w->mmio_writes++;
    vqf_vdev_mmio_write(&w->dev, off, size, val);
}

static uint64_t plat_alloc(void *ctx, uint64_t size, uint64_t align)
{
    return vqf_galloc_alloc(&((struct tw *)ctx)->ga, size, align);
}

static void plat_irq(void *ctx) { ((struct tw *)ctx)->irqs++; }

static void obs_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    (void)kind, (void)gpa, (void)len;
    if (side == VQF_SIDE_DEVICE)
        ((struct tw *)ctx)->dev_accesses++;
}

int tw_init(struct tw *w, uint16_t nq, uint16_t qmax, uint64_t f0, uint64_t f1)
{
    memset(w, 0, sizeof(*w));
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1 << 20);
    if (vqf_mem_init(&w->mem, &l) != 0)
        return -1;
    w->obs.access = obs_access;
    w->obs.ctx = w;
    w->mem.obs = &w->obs;
    vqf_galloc_init(&w->ga, l.r[0].gpa + (1 << 19), 1 << 19);
    struct vqf_dma ddma = vqf_mem_dma(&w->mem, VQF_SIDE_DEVICE);
    uint64_t f[2] = {f0, f1};
    if (vqf_vdev_init(&w->dev, &loop_ops, w, &ddma, nq, qmax, f, TW_CONFIG_LEN, 8) != 0)
        return -1;
    w->dev.irq = plat_irq;
    w->dev.irq_ctx = w;
    for (unsigned i = 0; i < TW_CONFIG_LEN; i++)
        w->dev.config[i] = (uint8_t)(0x10 + i);
    struct vqf_driver_platform p = {vqf_mem_dma(&w->mem, VQF_SIDE_DRIVER), plat_read, plat_write, w, plat_alloc, w};
    return vqf_vdrv_init(&w->drv, &p);
}

void tw_fini(struct tw *w)
{
    vqf_vdrv_destroy(&w->drv);
    vqf_vdev_destroy(&w->dev);
    vqf_mem_destroy(&w->mem);
}

uint32_t tw_rd(struct tw *w, uint32_t off) { return vqf_vdrv_read(&w->drv, off); }
void tw_wr(struct tw *w, uint32_t off, uint32_t v) { vqf_vdrv_write(&w->drv, off, v); }

uint32_t tw_rd_sel(struct tw *w, uint32_t q, uint32_t off)
{
    tw_wr(w, VIRTIO_MMIO_QUEUE_SEL, q);
    return tw_rd(w, off);
}

int tw_bring_up(struct tw *w, uint64_t want0, uint64_t want1, uint16_t nq, uint16_t qsize)
{
    uint64_t want[2] = {want0, want1};
    if (vqf_vdrv_negotiate(&w->drv, TW_DEVICE_ID, want) != 0)
        return -1;
    for (uint16_t q = 0; q < nq; q++)
        if (vqf_vdrv_setup_queue(&w->drv, q, qsize) != 0)
            return -1;
    vqf_vdrv_driver_ok(&w->drv);
    return 0;
}

int tw_add(struct tw *w, uint16_t q, uint32_t out, uint32_t in, uint32_t token, uint8_t seed, uint64_t *in_gpa)
{
    struct vqf_seg sg[2];
    unsigned n = 0;
    if (out) {
        uint64_t a = vqf_galloc_alloc(&w->ga, out, 8);
        for (uint32_t i = 0; i < out; i++) {
            uint8_t b = (uint8_t)(seed + i);
            vqf_dma_write(&w->drv.plat.dma, a + i, &b, 1);
        }
        sg[n++] = (struct vqf_seg){a, out, 0};
    }
    if (in) {
        uint64_t a = vqf_galloc_alloc(&w->ga, in, 8);
        if (in_gpa)
            *in_gpa = a;
        sg[n++] = (struct vqf_seg){a, in, 1};
    }
    return vqf_vq_drv_add(&w->drv.q[q].vq, sg, out ? 1u : 0u, in ? 1u : 0u, token, 0);
}
