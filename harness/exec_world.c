/* The executor's world: guest memory, the adapters of the current input, and the transport
 * boundary between them.
 *
 * Every driver-side register access (the reference driver's or the lying driver's) goes
 * through vqf_x_mmio_read / vqf_x_mmio_write: the access is recorded, shown to the oracle
 * with the value the driver actually sees, and forwarded to the device. The lying device's
 * transport lies live here, so that they work for any device adapter (the device itself stays
 * honest; the lie sits on the wire, exactly where a hostile device would put it):
 *   - Status reads OR in DEVICE_NEEDS_RESET (DEV_NEEDS_RESET, spec 2.1.2);
 *   - a Status write with FEATURES_OK is forwarded without it, so it reads back clear
 *     (DEV_REFUSE_FEATURES, spec 3.1.1 step 6);
 *   - InterruptStatus reads OR in extra bits (DEV_IRQ, spec 4.2.2);
 *   - config reads see the lying device's changed bytes and ConfigGeneration is offset by
 *     the number of announced changes (DEV_CONFIG, spec 2.5.1);
 *   - QueueNotify writes of a queue can be swallowed (DEV_DROP).
 * The same writes feed a shadow of the driver's queue setup (QueueSel/Num/Desc/Driver/Device,
 * DriverFeatures), which tells the lying device where the rings are. */
#include <string.h>

#include "emulator/oracle/trace.h"
#include "harness/exec_internal.h"
#include "vqfuzz/virtio.h"

/* ---- observer chain: recorder, lying-device tracking, then the oracle ---- */

static void obs_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    struct vqf_exec *x = ctx;
    const struct vqf_observer *o = x->oracle_obs;
    if (o && o->access)
        o->access(o->ctx, side, kind, gpa, len);
}

static void obs_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    struct vqf_exec *x = ctx;
    vqf_rec_count(&x->rec, side, ev);
    if (ev == VQF_EV_DEV_PUBLISH || ev == VQF_EV_DEV_PUSH)
        vqf_ldev_event(x, side, ev, a, b, c);
    else if (ev == VQF_EV_DRV_PUBLISH)
        vqf_x_driver_activity(x);
    const struct vqf_observer *o = x->oracle_obs;
    if (o && o->event)
        o->event(o->ctx, side, ev, a, b, c);
}

static void obs_barrier(void *ctx, unsigned side, unsigned kind)
{
    struct vqf_exec *x = ctx;
    const struct vqf_observer *o = x->oracle_obs;
    if (o && o->barrier)
        o->barrier(o->ctx, side, kind);
}

/* ---- platform plumbing ---- */

/* The device's interrupt line. vqf_device_irq() (include/vqfuzz/irq.h) reports the raise with
 * its InterruptStatus bits just before it calls here; a device that calls plat->irq directly
 * reported nothing, and the oracle, which judges notifications from those events, would take
 * the interrupt for a lost one. Then the event is emitted here, with the bits the device shows
 * in InterruptStatus (a side-effect-free read, 4.2.2), or a used-buffer notification if it
 * shows none yet. */
static void x_irq(void *ctx)
{
    struct vqf_exec *x = ctx;
    x->irq_line = true;
    const struct vqf_trace *t = vqf_oracle_trace(x->oracle);
    uint64_t n = vqf_trace_count(t);
    const struct vqf_trace_entry *last = n ? vqf_trace_at(t, n - 1) : NULL;
    if (last && last->type == VQF_TR_EVENT && last->kind == VQF_EV_DEV_IRQ && last->side == VQF_SIDE_DEVICE)
        return;
    uint32_t bits = x->dev_ad && x->dev ? x->dev_ad->mmio_read(x->dev, VIRTIO_MMIO_INTERRUPT_STATUS, 4) : 0;
    bits &= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
    vqf_mem_event(&x->mem, VQF_SIDE_DEVICE, VQF_EV_DEV_IRQ, bits ? bits : VIRTIO_MMIO_INT_VRING, 0, 0);
}

uint64_t vqf_x_alloc(void *ctx, uint64_t size, uint64_t align)
{
    struct vqf_exec *x = ctx;
    return vqf_galloc_alloc(&x->galloc, size, align);
}

static void shadow_write(struct vqf_exec *x, uint32_t off, uint32_t val)
{
    struct vqf_shadow_queue *s = x->queue_sel < VQF_X_MAXQ ? &x->sq[x->queue_sel] : NULL;
    switch (off) {
    case VIRTIO_MMIO_QUEUE_SEL: x->queue_sel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: x->drv_features_sel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (x->drv_features_sel < 4) {
            unsigned sh = (x->drv_features_sel & 1) * 32;
            uint64_t *w = &x->drv_features[x->drv_features_sel / 2];
            *w = (*w & ~(0xffffffffull << sh)) | ((uint64_t)val << sh);
        }
        break;
    case VIRTIO_MMIO_QUEUE_NUM: if (s) s->num = (uint16_t)val; break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (s) {
            s->ready = val;
            if (val && s->num > s->bound_num)
                s->bound_num = s->num;
            s->used_slot = 0;      /* packed rings start at slot 0, wrap counter 1 (2.8.1) */
            s->used_wrap = true;
            s->used_known = true;
            s->last_used_idx = 0;
        }
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: if (s) s->desc = (s->desc & ~0xffffffffull) | val; break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (s) s->desc = (s->desc & 0xffffffffull) | ((uint64_t)val << 32); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: if (s) s->driver = (s->driver & ~0xffffffffull) | val; break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: if (s) s->driver = (s->driver & 0xffffffffull) | ((uint64_t)val << 32); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: if (s) s->device = (s->device & ~0xffffffffull) | val; break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: if (s) s->device = (s->device & 0xffffffffull) | ((uint64_t)val << 32); break;
    case VIRTIO_MMIO_QUEUE_RESET:
        if (s && val == 1) {
            s->ready = 0;
            s->used_slot = 0;
            s->used_wrap = true;
            s->last_used_idx = 0;
        }
        break;
    case VIRTIO_MMIO_STATUS:
        x->status_written = val;
        if (val == 0) {
            /* Device reset (2.4): queues are gone; the lying device's status lies end with it. */
            for (unsigned i = 0; i < VQF_X_MAXQ; i++)
                x->sq[i].ready = x->sq[i].bound_num = 0;
            x->lies.needs_reset = false;
        }
        break;
    default: break;
    }
}

static uint32_t cfg_overlay(const struct vqf_exec *x, uint32_t off, unsigned size, uint32_t val)
{
    uint32_t base = off - VIRTIO_MMIO_CONFIG;
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint32_t b = base + i;
        if (b < VQF_X_CFG_OVERLAY && x->lies.cfg_mask[b]) /* 1 changed, 2 changed and fresh */
            val = (val & ~(0xffu << (8 * i))) | ((uint32_t)x->lies.cfg[b] << (8 * i));
    }
    return val;
}

/* Does this read show the driver a notification or config bytes the oracle has not been told
 * about yet (see vqf_x_lie_config_change)? */
static bool reads_fresh(const struct vqf_exec *x, uint32_t off, unsigned size)
{
    if (off == VIRTIO_MMIO_INTERRUPT_STATUS)
        return true;
    if (off < VIRTIO_MMIO_CONFIG)
        return false;
    for (unsigned i = 0; i < size && i < 4; i++) {
        uint32_t b = off - VIRTIO_MMIO_CONFIG + i;
        if (b < VQF_X_CFG_OVERLAY && x->lies.cfg_mask[b] == 2)
            return true;
    }
    return false;
}

uint32_t vqf_x_mmio_read(void *ctx, uint32_t off, unsigned size)
{
    struct vqf_exec *x = ctx;
    if (x->lies.cfg_irq_owed && reads_fresh(x, off, size))
        vqf_x_flush_cfg_irq(x);
    uint32_t val = x->dev_ad->mmio_read(x->dev, off, size);
    /* A judged device's config changes are its state, not lies: they outlive the lies. */
    bool cfg_view = x->lies.on || (x->judged & (1u << VQF_SIDE_DEVICE));
    if (x->lies.on && off == VIRTIO_MMIO_STATUS && x->lies.needs_reset) {
        val |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    } else if (x->lies.on && off == VIRTIO_MMIO_INTERRUPT_STATUS && x->lies.isr_extra) {
        val |= x->lies.isr_extra;
        x->lies.isr_extra = 0;
    } else if (cfg_view && off == VIRTIO_MMIO_CONFIG_GENERATION) {
        val += x->lies.gen_bump;
    } else if (cfg_view && off >= VIRTIO_MMIO_CONFIG && x->lies.cfg_any) {
        val = cfg_overlay(x, off, size, val);
    }
    if (off == VIRTIO_MMIO_STATUS && (val & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
        x->saw_needs_reset = true;
    vqf_rec_count(&x->rec, VQF_SIDE_DRIVER, VQF_EV_MMIO_READ);
    if (x->oracle)
        vqf_oracle_mmio(x->oracle, false, off, size, val);
    /* Tearing (DEV_CONFIG mode bit 2): the change lands between this config read and the next. */
    bool can_notify = (x->status_written & VIRTIO_STATUS_DRIVER_OK) || !(x->judged & (1u << VQF_SIDE_DEVICE));
    if (x->lies.cfg_pending && off >= VIRTIO_MMIO_CONFIG && x->lies.on && can_notify) {
        x->lies.cfg_pending = false;
        vqf_x_lie_config_change(x, x->lies.pend_off, x->lies.pend_val, x->lies.pend_size, x->lies.pend_mode & 3u);
    }
    return val;
}

void vqf_x_mmio_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
    struct vqf_exec *x = ctx;
    /* writel orders the driver's earlier stores before the register write (visibility model) */
    if (x->mem.vis)
        vqf_vis_notify(x->mem.vis, VQF_SIDE_DRIVER);
    vqf_rec_count(&x->rec, VQF_SIDE_DRIVER, VQF_EV_MMIO_WRITE);
    if (x->oracle)
        vqf_oracle_mmio(x->oracle, true, off, size, val);
    if (size == 4)
        shadow_write(x, off, val);
    /* New work for the device: a kick, a status change or a queue (re)enabled. */
    if (off == VIRTIO_MMIO_QUEUE_NOTIFY || off == VIRTIO_MMIO_STATUS || off == VIRTIO_MMIO_QUEUE_READY ||
        off == VIRTIO_MMIO_QUEUE_RESET)
        vqf_x_driver_activity(x);
    if (x->lies.on) {
        if (off == VIRTIO_MMIO_STATUS && x->lies.refuse_features)
            val &= ~VIRTIO_STATUS_FEATURES_OK;
        if (off == VIRTIO_MMIO_QUEUE_NOTIFY) {
            uint32_t q = val & 0xffffu; /* NOTIFICATION_DATA keeps the index in bits 0..15 (2.9) */
            if (q < VQF_X_MAXQ && x->sq[q].drop_kicks) {
                x->sq[q].drop_kicks--;
                return;
            }
        }
    }
    x->dev_ad->mmio_write(x->dev, off, size, val);
}

/* The lying device changes config bytes [off, off+size): mode bit0 = bump ConfigGeneration
 * (the honest way, CFG-08), bit1 = send the configuration change notification (2.5.1). */
void vqf_x_lie_config_change(struct vqf_exec *x, uint32_t off, uint32_t val, uint32_t size, uint32_t mode)
{
    for (uint32_t i = 0; i < size; i++) {
        uint32_t b = off + i;
        if (b >= VQF_X_CFG_OVERLAY)
            break;
        x->lies.cfg[b] = (uint8_t)(val >> (8 * (i & 3)));
        if (!x->lies.cfg_mask[b])
            x->lies.cfg_mask[b] = 1;
        x->lies.cfg_any = true;
    }
    if (mode & 1u)
        x->lies.gen_bump++;
    if ((mode & 2u) && (x->status_written & VIRTIO_STATUS_DRIVER_OK)) {
        /* The line goes up now. The oracle hears of the raise when the driver can first see
         * it or the new bytes: a change that lands between two config reads is otherwise
         * taken for a change after the notification (the capacity check, 5.2.6.2). */
        x->lies.isr_extra |= VIRTIO_MMIO_INT_CONFIG;
        x->irq_line = true;
        x->lies.cfg_irq_owed = true;
        for (uint32_t i = 0; i < size && off + i < VQF_X_CFG_OVERLAY; i++)
            x->lies.cfg_mask[off + i] = 2; /* fresh */
    }
}

/* The owed configuration-notification event goes to the oracle (see above). */
void vqf_x_flush_cfg_irq(struct vqf_exec *x)
{
    if (!x->lies.cfg_irq_owed)
        return;
    x->lies.cfg_irq_owed = false;
    for (unsigned b = 0; b < VQF_X_CFG_OVERLAY; b++)
        if (x->lies.cfg_mask[b] == 2)
            x->lies.cfg_mask[b] = 1;
    vqf_mem_event(&x->mem, VQF_SIDE_DEVICE, VQF_EV_DEV_IRQ, VIRTIO_MMIO_INT_CONFIG, 0, 0);
}


/* The lying device raises its interrupt: the bits show in the next InterruptStatus read and
 * the raise is an event like the device's own (the oracle tracks InterruptStatus from it). */
void vqf_x_lie_irq(struct vqf_exec *x, uint32_t bits)
{
    x->lies.isr_extra |= bits;
    x->irq_line = true;
    vqf_mem_event(&x->mem, VQF_SIDE_DEVICE, VQF_EV_DEV_IRQ, bits, 0, 0);
}

/* ---- symbolic addresses (enum vqf_addr_sel) ---- */

uint64_t vqf_x_resolve(struct vqf_exec *x, unsigned q, uint64_t addr)
{
    unsigned sel = (unsigned)(addr >> 56);
    uint64_t off = addr & 0x00ffffffffffffffull;
    const struct vqf_mem_region *r0 = &x->mem.r[0];
    unsigned nq = x->nqueues ? x->nqueues : 1;
    const struct vqf_shadow_queue *s = &x->sq[q % VQF_X_MAXQ];
    const struct vqf_shadow_queue *o = &x->sq[(q + 1) % nq % VQF_X_MAXQ];
    switch (sel) {
    case VQF_ADDR_BUF: return r0->gpa + VQF_X_BUF_POOL_OFF + off;
    case VQF_ADDR_DESC: return s->desc + off;
    case VQF_ADDR_DRIVER: return s->driver + off;
    case VQF_ADDR_DEVICE: return s->device + off;
    case VQF_ADDR_OTHER_RING: return o->desc + off;
    case VQF_ADDR_HOLE: return r0->gpa + r0->size + off;
    case VQF_ADDR_REGION_END: {
        unsigned ri = (unsigned)((off >> 32) & 3u);
        const struct vqf_mem_region *r = &x->mem.r[ri < x->mem.nregions ? ri : 0];
        return r->gpa + r->size - 1 - (off & 0xffffffffull);
    }
    case VQF_ADDR_WRAP: return (uint64_t)0 - off;
    case VQF_ADDR_IND_POOL: {
        uint64_t pool = 0;
        if (x->have_vdrv && q < VQF_X_MAXQ)
            pool = x->vdrv.q[q].cfg.ind_pool;
        return (pool ? pool : r0->gpa + VQF_X_IND_POOL_OFF) + off;
    }
    case VQF_ADDR_ABS:
    default: return off;
    }
}

/* ---- lifecycle ---- */

int vqf_world_init(struct vqf_exec *x)
{
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, VQF_X_MEM_SIZE);
    if (vqf_mem_init(&x->mem, &l) != 0)
        return -1;
    vqf_galloc_init(&x->galloc, l.r[0].gpa + VQF_X_MEM_SIZE / 2, VQF_X_MEM_SIZE / 2);
    x->ddma = vqf_mem_dma(&x->mem, VQF_SIDE_DRIVER);
    x->vdma = vqf_mem_dma(&x->mem, VQF_SIDE_DEVICE);
    x->oracle = vqf_oracle_new();
    if (!x->oracle)
        return -1;
    x->oracle_obs = vqf_oracle_observer(x->oracle);
    x->obs.access = obs_access;
    x->obs.event = obs_event;
    x->obs.barrier = obs_barrier;
    x->obs.ctx = x;
    return 0;
}

void vqf_world_end(struct vqf_exec *x)
{
    /* Teardown is not part of the trace: the observer is detached first. */
    x->mem.obs = NULL;
    if (x->drv && x->live_drv_ad)
        x->live_drv_ad->destroy(x->drv);
    x->drv = NULL;
    if (x->have_vdrv)
        vqf_vdrv_destroy(&x->vdrv);
    x->have_vdrv = false;
    if (x->dev && x->live_dev_ad)
        x->live_dev_ad->destroy(x->dev);
    x->dev = NULL;
}

void vqf_world_fini(struct vqf_exec *x)
{
    vqf_world_end(x);
    if (x->oracle)
        vqf_oracle_free(x->oracle);
    x->oracle = NULL;
    if (x->blind_oracle)
        vqf_oracle_free(x->blind_oracle);
    x->blind_oracle = NULL;
    vqf_mem_destroy(&x->mem);
}

int vqf_world_begin(struct vqf_exec *x)
{
    vqf_world_end(x);
    vqf_mem_reset(&x->mem);
    vqf_galloc_reset(&x->galloc);
    x->irq_line = false;
    x->queue_sel = 0;
    x->drv_features_sel = 0;
    x->drv_features[0] = x->drv_features[1] = 0;
    x->status_written = 0;
    memset(x->sq, 0, sizeof(x->sq));
    memset(&x->lies, 0, sizeof(x->lies));
    x->lies.on = true;
    x->lied = false;
    x->saw_needs_reset = false;
    x->dev_work_epoch = 0;
    x->wedged = false;
    x->wedge_why[0] = 0;
    x->token = 1;
    x->pool_cur = 0;
    x->push_hash = 0;
    x->pushes = 0;
    x->submit_hash = 0;

    vqf_rec_begin(&x->rec);
    struct vqf_oracle_setup os = {x->judged, x->device_id, &x->mem};
    vqf_oracle_begin(x->oracle, &os);
    x->mem.obs = x->blind ? NULL : &x->obs; /* the formats target's unobserved pass: none */

    const struct vqf_prog_header *h = &x->prog.h;
    struct vqf_device_params dp;
    memset(&dp, 0, sizeof(dp));
    dp.features[0] = x->offered;
    dp.num_queues = 0;
    dp.seed = h->seed;
    struct vqf_device_platform dplat = {x->vdma, x_irq, x};
    x->dev = x->dev_ad->create(&dplat, &dp);
    x->live_dev_ad = x->dev_ad;
    if (!x->dev)
        return -1;

    struct vqf_driver_platform rplat = {x->ddma, vqf_x_mmio_read, vqf_x_mmio_write, x, vqf_x_alloc, x};
    if (x->drv_ad) {
        struct vqf_driver_params rp;
        memset(&rp, 0, sizeof(rp));
        rp.features[0] = x->accepted;
        rp.queue_size = x->qsize;
        rp.num_queues = h->nqueues;
        rp.seed = h->seed;
        rp.flags = (h->format_flags & VQF_PF_INDIRECT) ? VQF_DRV_F_INDIRECT : 0;
        x->drv = x->drv_ad->create(&rplat, &rp);
        x->live_drv_ad = x->drv_ad;
        if (!x->drv)
            return -1;
    } else {
        memset(&x->vdrv, 0, sizeof(x->vdrv));
        if (vqf_vdrv_init(&x->vdrv, &rplat) != 0)
            return -1;
        x->have_vdrv = true;
    }
    return 0;
}

/* ---- stepping ---- */

void vqf_x_driver_activity(struct vqf_exec *x) { x->dev_work_epoch = 0; }

/* Unbounded work per kick: an honest device only consumes what the driver made available
 * (at most the queue size of each queue between two driver actions), plus as much again for
 * work that follows from it (net loopback rx), plus slack. Every queue made ready since the
 * last device reset counts, at the largest size it had: the register writes do not prove the
 * device took a queue down. */
uint64_t vqf_x_work_bound(const struct vqf_exec *x)
{
    uint64_t total = 0;
    for (unsigned q = 0; q < VQF_X_MAXQ; q++)
        total += x->sq[q].ready && x->sq[q].num > x->sq[q].bound_num ? x->sq[q].num : x->sq[q].bound_num;
    return 2 * total + 64;
}

int vqf_x_device_poll(struct vqf_exec *x)
{
    vqf_oracle_device_step(x->oracle, true);
    int work = x->dev_ad->poll(x->dev, VQF_X_POLL_BUDGET);
    vqf_oracle_device_step(x->oracle, false);
    if (work < 0)
        work = 0;
    vqf_rec_harness(x, VQF_EV_DEV_STEP, (uint32_t)work, 0, VQF_X_POLL_BUDGET);
    if (work) {
        vqf_ldev_after_step(x);
        x->dev_work_epoch += (uint64_t)work;
        /* an unobserved pass sees no driver publications (they are events): it is bounded
         * by its ops and the drain instead */
        if (x->dev_work_epoch > 64 && !x->wedged && !x->blind && x->dev_work_epoch > vqf_x_work_bound(x))
            vqf_x_wedge(x, "device keeps working without the driver doing anything (unbounded work per kick)");
    }
    return work;
}

int vqf_x_driver_irq(struct vqf_exec *x)
{
    if (!x->irq_line)
        return 0;
    vqf_x_flush_cfg_irq(x);
    x->irq_line = false;
    int done = 0;
    if (x->drv) {
        done = x->drv_ad->interrupt(x->drv);
        if (done < 0)
            done = 0;
        vqf_rec_harness(x, VQF_EV_DRV_STEP, (uint32_t)done, 0, 0);
    } else if (x->have_vdrv) {
        /* The lying driver acknowledges (it reclaims only when an op says so). */
        vqf_vdrv_ack_interrupt(&x->vdrv);
    }
    return done + 1;
}

int vqf_x_step(struct vqf_exec *x)
{
    int work = vqf_x_device_poll(x);
    work += vqf_x_driver_irq(x);
    return work;
}

bool vqf_x_run_idle(struct vqf_exec *x, unsigned max_steps)
{
    for (unsigned i = 0; i < max_steps && !x->wedged; i++) {
        if (vqf_x_step(x) == 0 && !x->irq_line) {
            vqf_oracle_idle(x->oracle);
            return true;
        }
    }
    return false;
}
