/* The oracle's core: lifecycle, findings, the guest-memory observer and dispatch to the
 * transport (oracle_xport.c) and ring (oracle_split.c) models. See oracle.h.
 *
 * Zero false positives is the rule: every check fires only on what crossed the boundary
 * (register accesses with their values, logged memory accesses, ring events), and a side
 * that is not judged may lie freely - its lies only taint the shadow state of the queue
 * concerned so that the judged side is not blamed for reacting to them. */
#include "emulator/oracle/oracle_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vqf_or_find(struct vqf_oracle *o, enum vqf_clause_id c, unsigned side, uint64_t v0, uint64_t v1,
                 uint64_t v2, const char *fmt, ...)
{
    if ((unsigned)c >= VQF_CLAUSE_COUNT || !o->enabled[c] || !vqf_or_judged(o, side))
        return;
    if (o->nf >= VQF_ORACLE_MAX_FINDINGS)
        return;
    struct vqf_finding *f = &o->f[o->nf++];
    f->clause = c;
    f->side = side;
    f->value[0] = v0;
    f->value[1] = v1;
    f->value[2] = v2;
    f->value[3] = 0;
    f->event_index = vqf_trace_count(&o->trace);
    /* Text only when a finding is recorded: never on the hot path. */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
    va_end(ap);
}

/* ---- lifecycle ---- */

struct vqf_oracle *vqf_oracle_new(void)
{
    struct vqf_oracle *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    for (unsigned i = 0; i < VQF_CLAUSE_COUNT; i++)
        o->enabled[i] = vqf_clause_get((enum vqf_clause_id)i)->implemented;
    o->solo = OQ_MAX; /* no queue live yet (vqf_or_refresh keeps it up to date) */
    vqf_trace_reset(&o->trace);
    return o;
}

void vqf_oracle_free(struct vqf_oracle *o)
{
    if (!o)
        return;
    for (unsigned i = 0; i < OQ_MAX; i++)
        vqf_or_split_free(&o->q[i]);
    free(o);
}

static void dev_access_lifecycle(struct vqf_oracle *o, unsigned side, unsigned kind, uint64_t gpa, uint64_t len);

void vqf_oracle_begin(struct vqf_oracle *o, const struct vqf_oracle_setup *setup)
{
    o->setup = *setup;
    o->rd_gpa = o->rd_size = 0;
    o->rd_host = NULL;
    if (setup->mem && setup->mem->nregions) {
        o->rd_gpa = setup->mem->r[0].gpa;
        o->rd_size = setup->mem->r[0].size;
        o->rd_host = setup->mem->r[0].host;
    }
    o->nf = 0;
    o->pend = false;
    o->in_dev_step = false;
    o->dev_steps = 0;
    o->drv_barriers = 0;
    o->drv_wdirty = o->drv_need_mb = false;
    o->ord.on = false;
    /* transport and config shadow: a few hundred bytes */
    memset(&o->status, 0, offsetof(struct vqf_oracle, q) - offsetof(struct vqf_oracle, status));
    /* 4.2.2.2: the spec gives the feature select registers no initial value: the window the
     * device shows is unknown until the driver writes the select (out of range: not judged) */
    o->dev_feat_sel = o->drv_feat_sel = UINT32_MAX;
    /* Queue shadows: everything but the per-slot arrays, which are re-initialised (for the
     * programmed size only) when a queue goes live. */
    for (unsigned i = 0; i < OQ_MAX; i++) {
        struct oq *q = &o->q[i];
        struct oq keep = *q;
        memset(q, 0, sizeof(*q));
        q->outlist = keep.outlist;
        q->out_span = keep.out_span;
        q->out_id = keep.out_id;
        q->order = keep.order;
        q->ch = keep.ch;
        q->owner = keep.owner;
        q->dseg = keep.dseg;
        q->dnext = keep.dnext;
        q->iseg = keep.iseg;
        q->elem_written = keep.elem_written;
        q->elem_late = keep.elem_late;
        q->visit = keep.visit;
        q->pstate = keep.pstate;
        q->cap = keep.cap;
        q->dirty_n = keep.dirty_n;
    }
    vqf_or_refresh(o);
    vqf_trace_reset(&o->trace);
}

/* ---- observer ---- */

void vqf_or_refresh(struct vqf_oracle *o)
{
    bool quiet = (o->status & VIRTIO_STATUS_DRIVER_OK) && !o->reset_written && !o->suspended;
    o->nlive = 0;
    for (unsigned i = 0; i < o->q_hi; i++) {
        const struct oq *q = &o->q[i];
        if (q->live)
            o->live_idx[o->nlive++] = (uint8_t)i;
        if (q->areas && (!q->live || !q->ready || q->old_valid))
            quiet = false;
    }
    o->lifecycle_quiet = quiet;
    o->solo = o->nlive == 1 ? o->live_idx[0] : OQ_MAX;
}

/* Judge one access against every live queue it concerns. Inline into its two callers (the
 * read path of the observer and the pending-write flush): it runs for every logged access,
 * and most accesses concern one queue. */
__attribute__((always_inline)) static inline void process(struct vqf_oracle *o, unsigned side, unsigned kind,
                                                          uint64_t gpa, uint64_t len)
{
    if (side == VQF_SIDE_DEVICE && !o->lifecycle_quiet)
        dev_access_lifecycle(o, side, kind, gpa, len);
    for (unsigned k = 0; k < o->nlive; k++) {
        unsigned i = o->live_idx[k];
        if (!o->q[i].live || vqf_or_far(&o->q[i], gpa, len))
            continue;
        if (o->q[i].packed)
            vqf_or_packed_access(o, i, side, kind, gpa, len);
        else
            vqf_or_split_access(o, i, side, kind, gpa, len);
    }
}

/* Can an access by side go straight to the rules of the one live queue (o->solo)? Only when
 * process() would do nothing else: exactly one queue live, no lifecycle rule to apply to a
 * device access (lifecycle_quiet), no visibility-model check (ord.on) and a side the ring
 * rules judge. The queue's live flag and vqf_or_far are then tested as process() tests them,
 * so the same rules run with the same arguments, without the loop and the second dispatch. */
static inline bool solo_path(const struct vqf_oracle *o, unsigned side)
{
    return o->solo < OQ_MAX && side <= VQF_SIDE_DEVICE && (side == VQF_SIDE_DRIVER || o->lifecycle_quiet) &&
           !o->ord.on;
}

__attribute__((always_inline)) static inline void solo_access(struct vqf_oracle *o, unsigned side, unsigned kind,
                                                              uint64_t gpa, uint64_t len)
{
    unsigned i = o->solo;
    const struct oq *q = &o->q[i];
    if (!q->live || vqf_or_far(q, gpa, len))
        return;
    (q->packed ? vqf_or_packed_rules : vqf_or_split_rules)[side][kind == VQF_ACC_WRITE](o, i, gpa, len);
}

/* A write (read) on every live queue it concerns, the lifecycle rules and the visibility
 * model: out of line, so that the one-live-queue path keeps a frame-less caller that ends
 * in a tail call. */
__attribute__((noinline)) static void write_general(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len)
{
    process(o, side, VQF_ACC_WRITE, gpa, len);
    if (__builtin_expect(o->ord.on, 0))
        vqf_or_order_write(o, side, gpa, len);
}

__attribute__((noinline)) static void read_general(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len)
{
    process(o, side, VQF_ACC_READ, gpa, len);
    if (__builtin_expect(o->ord.on, 0))
        vqf_or_order_read(o, side, gpa, len);
}

/* Judge the pending write: its bytes are in memory by now. Out of line, so that the observer
 * entries that find nothing pending (most) stay small leaf functions. */
__attribute__((noinline)) static void flush_pending(struct vqf_oracle *o)
{
    o->pend = false;
    if (__builtin_expect(solo_path(o, o->pend_side), 1))
        solo_access(o, o->pend_side, VQF_ACC_WRITE, o->pend_gpa, o->pend_len);
    else
        write_general(o, o->pend_side, o->pend_gpa, o->pend_len);
}

/* Judge the write seen last, if any (every entry into the oracle starts with it). */
static inline void flush(struct vqf_oracle *o)
{
    if (o->pend)
        flush_pending(o);
}

/* A read: judged at once (out of line for the same reason as flush_pending). */
__attribute__((noinline)) static void access_read(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len)
{
    if (__builtin_expect(solo_path(o, side), 1))
        solo_access(o, side, VQF_ACC_READ, gpa, len);
    else
        read_general(o, side, gpa, len);
}

/* The observer entries record the event, judge the pending write (if any), then the event
 * itself. Each is written so that its common path makes no call but a tail call: it then
 * needs no saved registers, and it runs for every record of every observed ring operation.
 * The *_rest functions are the part after the flush, shared by both paths. */
__attribute__((always_inline)) static inline void access_rest(struct vqf_oracle *o, unsigned side, unsigned kind,
                                                              uint64_t gpa, uint64_t len)
{
    if (kind == VQF_ACC_WRITE) {
        o->pend = true;
        o->pend_side = side;
        o->pend_gpa = gpa;
        o->pend_len = len;
    } else {
        access_read(o, side, gpa, len);
    }
}

__attribute__((noinline)) static void access_flushed(struct vqf_oracle *o, unsigned side, unsigned kind,
                                                     uint64_t gpa, uint64_t len)
{
    flush_pending(o);
    access_rest(o, side, kind, gpa, len);
}

static void obs_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    struct vqf_oracle *o = ctx;
    vqf_trace_record_access(&o->trace, side, kind, gpa, len);
    if (__builtin_expect(o->pend, 0))
        access_flushed(o, side, kind, gpa, len);
    else
        access_rest(o, side, kind, gpa, len);
}

/* The rare events the oracle acts on (out of line: most events are only recorded). */
__attribute__((noinline)) static void event_act(struct vqf_oracle *o, unsigned side, unsigned ev, uint32_t a)
{
    if (ev == VQF_EV_DEV_IRQ) {
        vqf_or_xport_irq(o, a);
        if (a & VIRTIO_MMIO_INT_VRING)
            vqf_or_split_irq(o);
    } else if (ev == VQF_EV_DEV_STEP) {
        o->dev_steps++;
        o->status_read_after_step = false;
    } else if (ev == VQF_EV_DEV_ERROR && side == VQF_SIDE_DEVICE && (o->status & VIRTIO_STATUS_DRIVER_OK) &&
               !o->nr_signalled && !o->reset_written) {
        /* 2.1.2: an error state that needs a reset should raise DEVICE_NEEDS_RESET */
        o->dev_err_owed = true;
    }
}

__attribute__((always_inline)) static inline void event_rest(struct vqf_oracle *o, unsigned side, unsigned ev,
                                                             uint32_t a)
{
    if (ev == VQF_EV_DEV_IRQ || ev == VQF_EV_DEV_STEP || ev == VQF_EV_DEV_ERROR)
        event_act(o, side, ev, a);
}

__attribute__((noinline)) static void event_flushed(struct vqf_oracle *o, unsigned side, unsigned ev, uint32_t a)
{
    flush_pending(o);
    event_rest(o, side, ev, a);
}

static void obs_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    struct vqf_oracle *o = ctx;
    vqf_trace_record_event(&o->trace, side, ev, a, b, c);
    if (__builtin_expect(o->pend, 0))
        event_flushed(o, side, ev, a);
    else
        event_rest(o, side, ev, a);
}

__attribute__((always_inline)) static inline void barrier_rest(struct vqf_oracle *o, unsigned side, unsigned kind)
{
    if (side == VQF_SIDE_DRIVER) {
        o->drv_barriers++;
        if (kind == VQF_BARRIER_WMB || kind == VQF_BARRIER_MB)
            o->drv_wdirty = false;
        if (kind == VQF_BARRIER_MB)
            o->drv_need_mb = false;
    }
}

__attribute__((noinline)) static void barrier_flushed(struct vqf_oracle *o, unsigned side, unsigned kind)
{
    flush_pending(o);
    barrier_rest(o, side, kind);
}

static void obs_barrier(void *ctx, unsigned side, unsigned kind)
{
    struct vqf_oracle *o = ctx;
    vqf_trace_record_barrier(&o->trace, side, kind);
    if (__builtin_expect(o->pend, 0))
        barrier_flushed(o, side, kind);
    else
        barrier_rest(o, side, kind);
}

const struct vqf_observer *vqf_oracle_observer(struct vqf_oracle *o)
{
    o->obs.access = obs_access;
    o->obs.event = obs_event;
    o->obs.barrier = obs_barrier;
    o->obs.ctx = o;
    return &o->obs;
}

void vqf_oracle_mmio(struct vqf_oracle *o, bool is_write, uint32_t off, unsigned size, uint32_t val)
{
    vqf_trace_record_mmio(&o->trace, VQF_SIDE_DRIVER, is_write, off, size, val);
    flush(o);
    vqf_or_mmio(o, is_write, off, size, val);
    if (o->queue_sel < OQ_MAX && o->queue_sel >= o->q_hi)
        o->q_hi = o->queue_sel + 1;
    if (is_write || off == VIRTIO_MMIO_STATUS)
        vqf_or_refresh(o);
}

void vqf_oracle_device_step(struct vqf_oracle *o, bool begin)
{
    flush(o);
    o->in_dev_step = begin;
    if (!begin) {
        o->dev_steps++;
        o->status_read_after_step = false;
    }
}

void vqf_oracle_idle(struct vqf_oracle *o)
{
    flush(o);
    if (o->ord.on)
        vqf_or_order_idle(o);
    vqf_or_xport_idle(o);
    for (unsigned i = 0; i < OQ_MAX; i++) {
        if (!o->q[i].live)
            continue;
        if (o->q[i].packed)
            vqf_or_packed_idle(o, i);
        else
            vqf_or_split_idle(o, i);
    }
}

unsigned vqf_oracle_nfindings(const struct vqf_oracle *o)
{
    /* The last write of an input is still pending (its bytes landed after the observer saw
     * it): judge it now. The oracle object itself is never const, so shedding the qualifier
     * of the query is well defined; the interface keeps it because asking changes nothing
     * the caller can see except this deferred verdict. */
    flush((struct vqf_oracle *)o);
    return o->nf;
}

const struct vqf_finding *vqf_oracle_finding(const struct vqf_oracle *o, unsigned i)
{
    return i < o->nf ? &o->f[i] : NULL;
}

void vqf_oracle_enable(struct vqf_oracle *o, enum vqf_clause_id id, bool on)
{
    if ((unsigned)id < VQF_CLAUSE_COUNT)
        o->enabled[id] = on;
}

struct vqf_trace *vqf_oracle_trace(struct vqf_oracle *o) { return &o->trace; }

/* ---- device accesses against the queue and device lifecycle ----
 * Judged only inside a device step: register handlers may legitimately touch a ring while
 * the register write that allows it is being processed. */
static bool old_touches(const struct oq *q, uint64_t gpa, uint64_t len)
{
    struct oq old = *q;
    old.live = false;
    old.desc = q->old_desc;
    old.driver = q->old_driver;
    old.device = q->old_device;
    old.num = q->old_num;
    return vqf_or_split_touches(&old, gpa, len);
}

/* Is the range part of a live queue's rings or of an outstanding buffer's neighbourhood? */
static bool in_any_live(const struct vqf_oracle *o, uint64_t gpa, uint64_t len)
{
    for (unsigned j = 0; j < OQ_MAX; j++) {
        const struct oq *q = &o->q[j];
        if (q->live && (vqf_or_split_touches(q, gpa, len) || (q->nout && gpa < q->rhi && gpa + len > q->rlo)))
            return true;
    }
    return false;
}

static void dev_access_lifecycle(struct vqf_oracle *o, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    if (!o->in_dev_step || o->xport_lied)
        return;
    /* A raw descriptor from a lying driver may point the device at any memory, a queue's old or
     * idle ring included: while any queue is tainted, where the device goes is not its fault. */
    for (unsigned i = 0; i < OQ_MAX; i++)
        if (o->q[i].taint_dev)
            return;
    for (unsigned i = 0; i < OQ_MAX; i++) {
        struct oq *q = &o->q[i];
        if (q->live && q->old_valid && !vqf_or_split_touches(q, gpa, len) && old_touches(q, gpa, len) &&
            !in_any_live(o, gpa, len)) {
            /* 2.6.1.2.1: after re-enabling, the device uses the rewritten configuration */
            vqf_or_find(o, VQF_CL_VQRST_05, side, i, gpa, q->old_desc,
                        "device %s 0x%llx of queue %u's ring from before its reset", kind ? "writes" : "reads",
                        (unsigned long long)gpa, i);
            continue;
        }
        if (!q->areas)
            continue;
        if (!vqf_or_split_touches(q, gpa, len))
            continue;
        /* a ring area also in use by a live queue, or memory now holding an outstanding buffer
         * of one, is that queue's business: only stale ring addresses point here */
        bool other_live = false;
        for (unsigned j = 0; j < OQ_MAX; j++) {
            const struct oq *l = &o->q[j];
            if (j != i && l->live &&
                (vqf_or_split_touches(l, gpa, len) || (l->nout && gpa < l->rhi && gpa + len > l->rlo)))
                other_live = true;
        }
        if (other_live)
            continue;
        if (q->live && o->suspended) {
            /* 3.4.2: no queue access while suspended */
            vqf_or_find(o, VQF_CL_SUSP_09, side, i, gpa, kind, "device %s 0x%llx of queue %u while suspended",
                        kind ? "writes" : "reads", (unsigned long long)gpa, i);
        } else if (!q->ready && o->reset_seen0 && o->reset_written) {
            /* 2.4.1: after reset is reported done, no queue access until re-initialised */
            vqf_or_find(o, VQF_CL_RESET_02, side, i, gpa, kind,
                        "device %s 0x%llx of queue %u after the device reset completed",
                        kind ? "writes" : "reads", (unsigned long long)gpa, i);
        } else if (!q->ready && q->was_reset) {
            /* 2.6.1.1.1: after a queue reset, no access to that queue */
            vqf_or_find(o, VQF_CL_VQRST_01, side, i, gpa, kind,
                        "device %s 0x%llx of queue %u after the driver reset the queue",
                        kind ? "writes" : "reads", (unsigned long long)gpa, i);
        } else if (!q->ready && !o->reset_written) {
            /* 4.2.2.1: never touch a queue whose QueueReady is 0 */
            vqf_or_find(o, VQF_CL_XPORT_M02, side, i, gpa, kind,
                        "device %s 0x%llx of queue %u while QueueReady is 0", kind ? "writes" : "reads",
                        (unsigned long long)gpa, i);
        } else if (q->ready && !(o->status & VIRTIO_STATUS_DRIVER_OK) && !o->reset_written) {
            /* 2.1.2: no buffer consumed before DRIVER_OK */
            vqf_or_find(o, VQF_CL_STATUS_05, side, i, gpa, kind,
                        "device %s 0x%llx of queue %u before DRIVER_OK (status 0x%x)", kind ? "writes" : "reads",
                        (unsigned long long)gpa, i, o->status);
        }
    }
}
