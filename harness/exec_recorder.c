/* The executor's side of the flight recorder. The trace itself (bounded ring of events and
 * the running hash over the whole input) is the oracle's (emulator/oracle/trace.h): its
 * observer records every access, event, barrier and register access. The executor adds its
 * own events to it (which op runs, device steps) and counts ring events by kind and side,
 * which is what the reach tests and the ops/s figures read. */
#include <string.h>

#include "emulator/oracle/trace.h"
#include "harness/exec_internal.h"

void vqf_rec_begin(struct vqf_recorder *r)
{
    memset(r->counts, 0, sizeof(r->counts));
    memset(r->counts_side, 0, sizeof(r->counts_side));
}

void vqf_rec_count(struct vqf_recorder *r, unsigned side, unsigned ev)
{
    if (ev < VQF_EV_COUNT) {
        r->counts[ev]++;
        if (side < 3)
            r->counts_side[side][ev]++;
    }
}

void vqf_rec_harness(struct vqf_exec *x, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    vqf_rec_count(&x->rec, VQF_SIDE_HARNESS, ev);
    vqf_trace_record_event(vqf_oracle_trace(x->oracle), VQF_SIDE_HARNESS, ev, a, b, c);
}

uint64_t vqf_rec_hash(const struct vqf_exec *x)
{
    return vqf_trace_hash(vqf_oracle_trace(x->oracle));
}

void vqf_rec_print_tail(const struct vqf_exec *x, FILE *out, unsigned max)
{
    const struct vqf_trace *t = vqf_oracle_trace(x->oracle);
    fprintf(out, "  flight recorder: last %u of %llu events\n", max, (unsigned long long)vqf_trace_count(t));
    vqf_trace_print_tail(t, out, max);
}
