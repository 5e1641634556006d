/* The memory-visibility model in the executor: see exec_vis.h and emulator/visibility.h.
 *
 * A program turns the model on by holding a `vis` op (any position): from the input's first
 * access on, the DMA stores of the side under test (and of any adapter side) are buffered and
 * drained at barriers, notifications and the `vis` ops. The oracle's ordering checks
 * (emulator/oracle/oracle_order.c) run for such inputs only, so that a program without the op
 * is judged exactly as before. */
#include "harness/exec_vis.h"

#include <stdlib.h>

#include "emulator/oracle/oracle_order.h"
#include "emulator/visibility.h"
#include "harness/exec_internal.h"

#define VIS_MODE_SIDES 3u
#define VIS_MODE_STALE 4u
#define VIS_MODE_HOLD 8u

static bool wanted(const struct vqf_exec *x)
{
    const struct vqf_target *t = x->t;
    uint64_t mask = vqf_target_op_mask(t);
    if (!(vqf_op_table[VQF_OP_VIS].roles & t->roles) || !((mask >> VQF_OP_VIS) & 1u))
        return false;
    for (uint32_t i = 0; i < x->prog.nops; i++)
        if (x->prog.ops[i].kind == VQF_OP_VIS)
            return true;
    return false;
}

void vqf_x_vis_begin(struct vqf_exec *x)
{
    bool on = wanted(x);
    if (on && !x->vis)
        x->vis = malloc(sizeof(*x->vis));
    if (!x->vis)
        on = false;
    vqf_vis_install(&x->mem, on ? x->vis : NULL);
    vqf_oracle_order_enable(x->oracle, on);
}

/* The rings the other side writes, as the reader sees them (stale mode): the driver reads
 * the used ring (split) or the descriptor ring and device event area (packed); the device
 * reads the available ring (split) or the descriptor ring and driver event area (packed). */
static void watch_rings(struct vqf_exec *x, unsigned side)
{
    struct vqf_vis *v = x->vis;
    vqf_vis_unwatch_all(v, side);
    for (unsigned q = 0; q < VQF_X_MAXQ; q++) {
        const struct vqf_shadow_queue *s = &x->sq[q];
        if (!s->ready || s->num == 0)
            continue;
        if (x->packed) {
            vqf_vis_watch(v, side, s->desc, 16u * s->num);
            vqf_vis_watch(v, side, side == VQF_SIDE_DRIVER ? s->device : s->driver, 4);
        } else if (side == VQF_SIDE_DRIVER) {
            vqf_vis_watch(v, side, s->device, 6u + 8u * s->num);
        } else {
            vqf_vis_watch(v, side, s->driver, 6u + 2u * s->num);
        }
    }
}

void vqf_x_vis_op(struct vqf_exec *x, const struct vqf_op *op)
{
    struct vqf_vis *v = x->mem.vis;
    if (!v)
        return;
    unsigned sides = op->a & VIS_MODE_SIDES ? op->a & VIS_MODE_SIDES : VIS_MODE_SIDES;
    bool stale = (op->a & VIS_MODE_STALE) != 0;
    for (unsigned side = 0; side < 2; side++) {
        if (!((sides >> side) & 1u))
            continue;
        vqf_vis_policy(v, side, op->b, stale);
        if (stale)
            watch_rings(x, side);
        if (!(op->a & VIS_MODE_HOLD))
            vqf_vis_drain(v, side, (unsigned)(op->c > 0xffffu ? 0xffffu : op->c));
    }
}

void vqf_x_vis_end(struct vqf_exec *x)
{
    struct vqf_vis *v = x->mem.vis;
    if (!v)
        return;
    vqf_vis_drain(v, VQF_SIDE_DRIVER, 0);
    vqf_vis_drain(v, VQF_SIDE_DEVICE, 0);
    vqf_vis_install(&x->mem, NULL);
}

void vqf_x_vis_free(struct vqf_exec *x)
{
    free(x->vis);
    x->vis = NULL;
}
