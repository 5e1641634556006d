/* Flight recorder: see trace.h. */
#include "emulator/oracle/trace.h"

#include <inttypes.h>

void vqf_trace_reset(struct vqf_trace *t)
{
    /* Entries beyond count are never read, so they need no clearing. */
    t->count = 0;
    t->hash = 0xcbf29ce484222325ull;
}

const struct vqf_trace_entry *vqf_trace_at(const struct vqf_trace *t, uint64_t i)
{
    if (i >= t->count || t->count - i > VQF_TRACE_CAP)
        return NULL;
    return &t->e[i & (VQF_TRACE_CAP - 1)];
}

const char *vqf_event_name(unsigned ev)
{
    static const char *const names[VQF_EV_COUNT] = {
        "none", "drv_add", "drv_publish", "drv_kick", "drv_reclaim", "drv_error", "dev_pop", "dev_push",
        "dev_publish", "dev_error", "dev_irq", "mmio_read", "mmio_write", "dev_step", "drv_step", "op", "reset"};
    return ev < VQF_EV_COUNT ? names[ev] : "?";
}

static const char *side_name(unsigned s) { return s == 0 ? "drv" : s == 1 ? "dev" : s == 2 ? "hns" : "?"; }

void vqf_trace_print_tail(const struct vqf_trace *t, FILE *out, unsigned n)
{
    uint64_t kept = t->count < VQF_TRACE_CAP ? t->count : VQF_TRACE_CAP;
    if (n > kept)
        n = (unsigned)kept;
    for (uint64_t i = t->count - n; i < t->count; i++) {
        const struct vqf_trace_entry *e = &t->e[i & (VQF_TRACE_CAP - 1)];
        fprintf(out, "  #%-6" PRIu64 " %s ", i, side_name(e->side));
        switch (e->type) {
        case VQF_TR_ACCESS:
            fprintf(out, "%s 0x%" PRIx64 " +%" PRIu64 "\n", e->kind ? "write" : "read ", e->gpa, e->len);
            break;
        case VQF_TR_EVENT:
            fprintf(out, "%s a=%" PRIu32 " b=%" PRIu32 " c=%" PRIu32 "\n", vqf_event_name(e->kind), e->a, e->b, e->c);
            break;
        case VQF_TR_BARRIER:
            fprintf(out, "barrier %s\n", e->kind == 0 ? "mb" : e->kind == 1 ? "rmb" : "wmb");
            break;
        default:
            fprintf(out, "mmio %s off=0x%03" PRIx32 " val=0x%" PRIx32 " size=%" PRIu32 "\n", e->kind ? "write" : "read ",
                    e->a, e->b, e->c);
            break;
        }
    }
}

static void obs_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    vqf_trace_record_access(ctx, side, kind, gpa, len);
}
static void obs_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    vqf_trace_record_event(ctx, side, ev, a, b, c);
}
static void obs_barrier(void *ctx, unsigned side, unsigned kind) { vqf_trace_record_barrier(ctx, side, kind); }

const struct vqf_observer *vqf_trace_observer(struct vqf_trace *t)
{
    t->obs.access = obs_access;
    t->obs.event = obs_event;
    t->obs.barrier = obs_barrier;
    t->obs.ctx = t;
    return &t->obs;
}
