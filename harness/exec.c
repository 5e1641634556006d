/* The executor: one program, one target, one verdict (contract in exec.h).
 *
 * Per input: reset the world (guest memory O(touched), fresh adapters), decode, apply the
 * target's forced liar / device type / format, install the observer (flight recorder, then
 * the oracle), initialise unless VQF_PF_MANUAL, run the ops, drain to idle, judge, probe.
 *
 * Header (harness/program.h), as the executor reads it:
 *   format_flags   PACKED: VIRTIO_F_RING_PACKED is offered and accepted, else it is neither;
 *                  INDIRECT: chains go into indirect tables when negotiated; MANUAL: no
 *                  automatic initialisation.
 *   nqueues        queues the driver sets up (0 = all the device has).
 *   qsize          queue size (0 = 256, at most 32768; split rounds down to a power of two).
 *   features_*     offered / accepted masks, bits 0..63 (0 = everything, except blk's RO
 *                  offer); VERSION_1 is always accepted (3.1.1, spec 6).
 *   liar, device_type: overridden by the target (the config target takes console when
 *                  device_type is 3, else blk).
 * Initialisation: device targets - the fuzzer's driver resets, negotiates features =
 * accepted & offered, sets up the queues and sets DRIVER_OK (3.1.1); driver and pair
 * targets - the reference driver probes.
 *
 * Op semantics. q is taken modulo the number of queues set up. A "size code" is 0..3 for
 * 4, 1, 2, 4 bytes (registers) or 1, 2, 4, 8 bytes (ring writes). Ops whose role the target
 * does not have, or that the target's op mask leaves out, are skipped.
 *   nop
 *   run_device steps   the device polls `steps` times (0 = until idle, at most 64); the
 *                      interrupt line latches but is not delivered.
 *   run_driver steps   deliver a latched interrupt `steps` times (0 = once); the lying
 *                      driver reclaims every live queue instead.
 * The fuzzer as a driver (device targets):
 *   drv_add q shape len flags      well-formed chain: shape = nout | nin << 8 segments (at
 *                      most 32 in all, 0 = one readable), len = out_len | in_len << 16 (0 =
 *                      64 bytes), buffers from the pool; flags bit0 = indirect, bit1 = kick.
 *   drv_request q type arg len     a well-formed request of the device type: blk header
 *                      (type, sector = arg) + data of len bytes (sector-rounded; get-id 20;
 *                      discard / write-zeroes one segment) + status; net even queue: rx
 *                      buffer, odd: tx header + frame; console even: rx buffer, odd: data
 *                      (queue 3: control message event = type, value = arg); rng: a writable
 *                      buffer. len 0 = a type default.
 *   drv_kick q force   publish (kick_prepare) and notify if the ring asks, or always if force.
 *   drv_reclaim q      reclaim used buffers until none (or the ring breaks).
 *   drv_device_reset / drv_queue_reset q size / drv_reinit size features   lifecycle: reset;
 *                      queue reset (2.6.1) with another size; reset and initialise again with
 *                      another size and features (0 = the other ring format), one request per
 *                      queue made available (not notified) before DRIVER_OK and one device
 *                      step before it (3.1.1 step 7 allows that; the device must wait, 2.1.2).
 *   drv_reg_read offset size / drv_config_read offset size   register / config reads.
 *   drv_event q flags event        split: avail flags and used_event; packed: driver event
 *                      suppression flags and desc (2.7.7, 2.8.10). A lie unless flags is an
 *                      honest value (split 0/1; packed 0/1, or 2 with EVENT_IDX).
 *   -- the lies (any of these makes the verdict REJECT rather than PASS) --
 *   drv_notify_raw value           QueueNotify = value.
 *   drv_desc_raw q slot len addr   descriptor slot: addr (symbolic, enum vqf_addr_sel) and len.
 *   drv_desc_flags q slot v        split: flags = v & 0xffff, next = v >> 16; packed: flags =
 *                      v & 0xffff, id = v >> 16.
 *   drv_avail_raw q pos head       split: avail ring[pos] = head; packed: id of slot pos.
 *   drv_avail_idx q idx            split: avail idx; packed: slot idx & 0x7fff made available
 *                      for wrap idx >> 15 (2.8.1: AVAIL = wrap, USED = !wrap).
 *   drv_publish q count            split: avail idx += count; packed: count slots from the
 *                      driver's next slot made available (per wrap) without writing them.
 *   drv_ring_raw q area offset value   area & 3 = desc / driver / device area / buffer pool,
 *                      (area >> 2) & 3 = size code; value written at area + offset.
 *   drv_reg_write offset value size, drv_status value, drv_features select value,
 *   drv_config_write offset value size   raw register writes.
 * The fuzzer as a device (driver targets; the reference device does the honest work):
 *   dev_used_raw q pos id len      split used ring[pos] / packed slot pos: id and len.
 *   dev_used_idx q idx             split used idx; packed: slot idx & 0x7fff marked used for
 *                      wrap idx >> 15; raises the interrupt.
 *   dev_forge q id len             a forged completion published properly (entry, barrier,
 *                      idx / flags) at the device's next used position; raises the interrupt.
 *   dev_len_bias q delta           sticky: every used length published later gets + delta.
 *   dev_drop q                     the device never hears the driver's next notification of q.
 *   dev_irq isr                    the line goes up; the next InterruptStatus read ORs isr.
 *   dev_config offset value mode   change config bytes (mode >> 4 size code): bit0 bump the
 *                      generation, bit1 notify, bit2 only right after the driver's next config
 *                      read (tearing). A judged device always bumps and notifies, and
 *                      changes only informational fields (blk capacity downwards, console
 *                      cols / rows): the change sits on the wire, the device's state stays.
 *   dev_needs_reset                DEVICE_NEEDS_RESET and the configuration notification.
 *   dev_refuse_features on         FEATURES_OK does not stick (3.1.1 step 6).
 *   dev_event q flags event        split used flags and avail_event; packed device event area.
 *   dev_ring_raw q area offset value   as drv_ring_raw, written by the device.
 *   needs_reset, refuse_features, irq and a generation-bumping config change are legal device
 *   behaviour; the others are lies.
 * The workload (driver and pair targets): submit q kind arg0 arg1 -> driver submit(kind,
 * queue, arg0, arg1); interrupt -> driver interrupt(); control request arg -> driver
 * control(request % 3, arg).
 * Memory visibility (exec_vis.c, any target): a program holding `vis mode seed count` runs
 * with the visibility model on from its start: the DMA stores of the driver and the device
 * become visible at their barriers, notifications and these ops (emulator/visibility.h); the
 * op sets the drain order of the sides in mode bits 0-1 (seed 0 = program order), bit 2 lets
 * their loads of the other side's ring be stale until their next rmb / mb, bit 3 only sets
 * the policy, otherwise `count` pending stores (0 = all) become visible now. Every pending
 * store is visible before the drain to idle and the health probe.
 *
 * Verdicts: an oracle finding on a judged side -> FAIL. WEDGED: more device work since the
 * last driver action (kick, publish, status or queue change) than twice the queue sizes plus
 * 64; no idle after 256 polls at the end; or the health probe fails. Health probe, device
 * under test: full reset, honest initialisation, one valid request must complete within 64
 * polls. Driver under test: lies off, one fresh workload request must complete within 64
 * polls; if the driver cannot submit it, or the device lied and it does not complete (a lie
 * can leave the device's own ring state corrupt), the driver resets the device (control
 * reset, as its watchdog would) and the request must then complete. Pair and formats
 * targets: end-to-end data errors of the driver -> FAIL. REJECT when the lying side broke a
 * rule, or the side under test reported a ring error or DEVICE_NEEDS_RESET, and the probe
 * passed; PASS otherwise. Formats: the program runs over split and over packed; when the
 * driver accepted the same workload requests in both runs, the device's completions (queue
 * and length, in any order) must match. Then it runs over each format once more with no
 * observer, so that the ring code takes its inline fast paths where the observed runs took the
 * general bodies: the guest memory after the drain must hold the same bytes (FAIL "fast paths
 * differ" otherwise). The formats target runs the block pair, or the entropy pair when the
 * header's device_type is 4 (its one-buffer requests are the fast paths' shape). */
#include <stdlib.h>
#include <string.h>

#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "harness/exec_fault.h"
#include "harness/exec_vis.h"
#include "harness/exec_internal.h"
#include "vqfuzz/virtio.h"

void vqf_x_wedge(struct vqf_exec *x, const char *why)
{
    if (x->wedged)
        return;
    x->wedged = true;
    snprintf(x->wedge_why, sizeof(x->wedge_why), "%s", why);
}

struct vqf_exec *vqf_exec_new(const struct vqf_target *t)
{
    struct vqf_exec *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->t = t;
    if (vqf_world_init(x) != 0) {
        vqf_exec_free(x);
        return NULL;
    }
    return x;
}

void vqf_exec_free(struct vqf_exec *x)
{
    if (!x)
        return;
    vqf_world_fini(x);
    vqf_x_vis_free(x);
    free(x);
}

uint32_t vqf_exec_event_count(const struct vqf_exec *x, unsigned side, unsigned ev)
{
    if (ev >= VQF_EV_COUNT)
        return 0;
    return side < 3 ? x->rec.counts_side[side][ev] : x->rec.counts[ev];
}

/* The header as this target reads it (see the comment at the top). */
static void prepare(struct vqf_exec *x, int force_packed)
{
    const struct vqf_target *t = x->t;
    const struct vqf_prog_header *h = &x->prog.h;
    x->device_id = t->device_id;
    x->dev_ad = t->device;
    x->drv_ad = t->liar == VQF_LIAR_DRIVER ? NULL : t->driver;
    x->judged = t->judged_sides;
    if ((t->flags & VQF_T_CONFIG) && h->device_type == VIRTIO_ID_CONSOLE && t->device == &vqf_blk_device) {
        /* the built-in config target also runs over console (size and multiport config,
         * 5.3.4); a user's <name>_config target keeps its own device and driver */
        x->device_id = VIRTIO_ID_CONSOLE;
        x->dev_ad = &vqf_console_device;
        x->drv_ad = &vqf_console_driver;
    }
    if ((t->flags & VQF_T_FORMATS) && h->device_type == VIRTIO_ID_RNG && t->device == &vqf_blk_device) {
        /* the built-in formats target also runs over entropy: its one-buffer requests are the
         * shape the ring code's inline fast paths take (emulator/ring/split.h, packed.h) */
        x->device_id = VIRTIO_ID_RNG;
        x->dev_ad = &vqf_rng_device;
        x->drv_ad = &vqf_rng_driver;
    }
    x->packed = force_packed >= 0 ? force_packed != 0 : (h->format_flags & VQF_PF_PACKED) != 0;
    uint64_t packed_bit = VQF_BIT(VIRTIO_F_RING_PACKED);
    /* 0 = everything the device has, except what only takes function away (a read-only
     * disk, 5.2.3): the empty program should exercise the most. */
    uint64_t all = x->device_id == VIRTIO_ID_BLOCK ? ~VQF_BIT(VIRTIO_BLK_F_RO) : ~0ull;
    /* The ring format alone decides RING_PACKED: the header's bit is ignored before the 0 =
     * everything rule, or a header offering only that bit would offer everything over packed
     * and nothing over split, and the formats target would compare two different devices. */
    uint64_t offered = h->features_offered & ~packed_bit, accepted = h->features_accepted & ~packed_bit;
    x->offered = offered ? offered : all;
    x->accepted = accepted ? accepted : ~0ull;
    x->offered = x->packed ? x->offered | packed_bit : x->offered & ~packed_bit;
    x->accepted = x->packed ? x->accepted | packed_bit : x->accepted & ~packed_bit;
    x->accepted |= VQF_BIT(VIRTIO_F_VERSION_1);
    uint32_t qs = h->qsize ? h->qsize : 256u;
    if (qs > VIRTQ_SPLIT_MAX_SIZE)
        qs = VIRTQ_SPLIT_MAX_SIZE;
    /* split sizes are powers of two (2.7); the formats target uses one size for both */
    if (!x->packed || (t->flags & VQF_T_FORMATS))
        while (qs & (qs - 1))
            qs &= qs - 1;
    x->qsize = (uint16_t)qs;
    x->nqueues = h->nqueues < VQF_X_MAXQ ? h->nqueues : VQF_X_MAXQ;
}

/* Only requirements fail an input: MUST, MUST NOT, SHALL and the spec-derived invariants.
 * SHOULD-level findings (recommendations) stay in the report as warnings, unless the
 * environment sets VQF_STRICT=1: then they fail too (bench/bugs uses it for planted bugs whose
 * only symptom is a recommendation broken, e.g. RESET-03). */
static bool strict_mode(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *e = getenv("VQF_STRICT");
        strict = e && e[0] == '1' && e[1] == '\0';
    }
    return strict == 1;
}

static bool is_requirement(enum vqf_clause_id id)
{
    const struct vqf_clause *c = vqf_clause_get(id);
    return c && (c->strength == VQF_CL_MUST || c->strength == VQF_CL_MUST_NOT || c->strength == VQF_CL_SHALL ||
                 c->strength == VQF_CL_INVARIANT ||
                 ((c->strength == VQF_CL_SHOULD || c->strength == VQF_CL_SHOULD_NOT) && strict_mode()));
}

static bool judged_finding(const struct vqf_exec *x, const struct vqf_finding **out)
{
    unsigned n = vqf_oracle_nfindings(x->oracle);
    for (unsigned i = 0; i < n; i++) {
        const struct vqf_finding *f = vqf_oracle_finding(x->oracle, i);
        if (f && f->side < 3 && (x->judged & (1u << f->side)) && is_requirement(f->clause)) {
            *out = f;
            return true;
        }
    }
    return false;
}

static void run_steps(struct vqf_exec *x, const struct vqf_op *op)
{
    if (op->kind == VQF_OP_RUN_DEVICE) {
        unsigned n = op->a ? (op->a < VQF_X_MAX_STEPS ? op->a : VQF_X_MAX_STEPS) : VQF_X_MAX_STEPS;
        for (unsigned i = 0; i < n && !x->wedged; i++)
            if (vqf_x_device_poll(x) == 0 && op->a == 0)
                break;
        return;
    }
    unsigned n = op->a ? (op->a < VQF_X_MAX_STEPS ? op->a : VQF_X_MAX_STEPS) : 1u;
    for (unsigned i = 0; i < n; i++) {
        if (x->have_vdrv) {
            struct vqf_op r = {VQF_OP_DRV_RECLAIM, 0, 0, 0, 0};
            for (unsigned q = 0; q < x->nqueues; q++) {
                r.q = (uint8_t)q;
                vqf_ldrv_op(x, &r);
            }
        }
        vqf_x_driver_irq(x);
    }
}

static void dispatch(struct vqf_exec *x, const struct vqf_op *op)
{
    unsigned k = op->kind;
    if (k == VQF_OP_NOP)
        return;
    if (k == VQF_OP_RUN_DEVICE || k == VQF_OP_RUN_DRIVER) {
        run_steps(x, op);
    } else if (k >= VQF_OP_DRV_ADD && k <= VQF_OP_DRV_REINIT) {
        if (x->have_vdrv) {
            vqf_ldrv_op(x, op);
            vqf_x_driver_activity(x);
        }
    } else if (k >= VQF_OP_DEV_USED_RAW && k <= VQF_OP_DEV_RING_RAW) {
        if (x->drv)
            vqf_ldev_op(x, op);
    } else if (k == VQF_OP_FAULT_AT) {
        vqf_fault_op(x, op);
    } else if (k == VQF_OP_VIS) {
        vqf_x_vis_op(x, op);
    } else {
        vqf_wl_op(x, op);
    }
}

static void set_result(struct vqf_result *res, enum vqf_verdict v, enum vqf_clause_id c, unsigned side,
                       const char *detail)
{
    res->verdict = v;
    res->clause = c;
    res->side = side;
    snprintf(res->detail, sizeof(res->detail), "%s", detail ? detail : "");
}

/* Does the target run this op (its roles and its op mask; unknown kinds never)? */
static bool op_runs(const struct vqf_target *t, uint64_t mask, const struct vqf_op *op)
{
    return op->kind < VQF_OP_COUNT && (vqf_op_table[op->kind].roles & t->roles) && ((mask >> op->kind) & 1u);
}

/* One pass of the program in a fresh world; the verdict goes into res. */
static void run_pass(struct vqf_exec *x, int force_packed, struct vqf_result *res)
{
    const struct vqf_target *t = x->t;
    prepare(x, force_packed);
    memset(res, 0, sizeof(*res));
    x->ops_run = 0;
    if (vqf_world_begin(x) != 0) {
        set_result(res, VQF_REJECT, VQF_CLAUSE_NONE, VQF_SIDE_HARNESS, "the adapter refused to create an instance");
        return;
    }
    vqf_x_vis_begin(x);
    if (x->have_vdrv) {
        vqf_ldrv_init(x);
    } else {
        if (!(x->prog.h.format_flags & VQF_PF_MANUAL))
            x->drv_ad->probe(x->drv);
        /* queues the driver set up, as the lying device sees them */
        x->nqueues = 0;
        for (unsigned q = 0; q < VQF_X_MAXQ; q++)
            if (x->sq[q].ready)
                x->nqueues = (uint16_t)(q + 1);
    }

    /* The negotiation target's device refuses FEATURES_OK when the program says so: that
     * refusal is the harness's doing, so the clauses about accepting a valid feature set
     * (2.2.2 FEAT-10, FEAT-13) are not judged in such a run. */
    uint64_t mask = vqf_target_op_mask(t);
    bool refuses = false;
    for (uint32_t k = 0; k < x->prog.nops; k++)
        if (x->prog.ops[k].kind == VQF_OP_DEV_REFUSE_FEATURES && ((mask >> VQF_OP_DEV_REFUSE_FEATURES) & 1u) &&
            (t->roles & VQF_ROLE_LDEV))
            refuses = true;
    vqf_oracle_enable(x->oracle, VQF_CL_FEAT_10, !refuses);
    vqf_oracle_enable(x->oracle, VQF_CL_FEAT_13, !refuses);
    const struct vqf_finding *f = NULL;
    bool found = false;
    uint32_t i;
    for (i = 0; i < x->prog.nops && !found && !x->wedged; i++) {
        const struct vqf_op *op = &x->prog.ops[i];
        if (!op_runs(t, mask, op))
            continue;
        x->cur_op = i;
        vqf_rec_harness(x, VQF_EV_OP, i, op->kind, 0);
        dispatch(x, op);
        x->ops_run++;
        if (!x->have_vdrv && (op->kind == VQF_OP_WL_CONTROL || op->kind == VQF_OP_RUN_DEVICE)) {
            for (unsigned q = 0; q < VQF_X_MAXQ; q++)
                if (x->sq[q].ready && q + 1 > x->nqueues)
                    x->nqueues = (uint16_t)(q + 1);
        }
        found = judged_finding(x, &f);
    }
    res->ops_run = x->ops_run;
    /* a pending injected fault must not reach the health probe or the next input */
    vqf_fault_disarm(x);
    vqf_x_vis_end(x);
    if (!found)
        found = judged_finding(x, &f);

    if (!found && !x->wedged && !vqf_x_run_idle(x, VQF_X_DRAIN_STEPS))
        vqf_x_wedge(x, "the pair never went idle after the program (unbounded work)");
    if (!found)
        found = judged_finding(x, &f);
    if (t->flags & VQF_T_FORMATS)
        x->drain_digest = vqf_mem_digest(&x->mem);
    if (!found && !x->wedged) {
        if (x->have_vdrv)
            vqf_ldrv_probe(x);
        else
            vqf_ldev_probe(x);
        found = judged_finding(x, &f);
    }

    res->trace_hash = vqf_rec_hash(x);
    res->ring_ops = (uint64_t)x->rec.counts[VQF_EV_DRV_ADD] + x->rec.counts[VQF_EV_DEV_POP] +
                    x->rec.counts[VQF_EV_DEV_PUSH] + x->rec.counts[VQF_EV_DRV_RECLAIM];
    if (found) {
        const struct vqf_clause *cl = vqf_clause_get(f->clause);
        char line[256];
        snprintf(line, sizeof(line), "%s: %s", cl ? cl->id : "?", f->detail);
        set_result(res, VQF_FAIL, f->clause, f->side, line);
        return;
    }
    if (x->wedged) {
        set_result(res, VQF_WEDGED, VQF_CLAUSE_NONE, x->have_vdrv ? VQF_SIDE_DEVICE : VQF_SIDE_DRIVER, x->wedge_why);
        return;
    }
    bool honest_pair = !(t->roles & (VQF_ROLE_LDEV | VQF_ROLE_LDRV));
    /* an injected bus fault (fault_at) legitimately loses data: only an undisturbed pair must agree */
    if (honest_pair && !x->lied && x->drv && x->drv_ad->data_errors(x->drv)) {
        char line[128];
        snprintf(line, sizeof(line), "end-to-end data errors seen by the driver: %u", x->drv_ad->data_errors(x->drv));
        set_result(res, VQF_FAIL, VQF_CLAUSE_NONE, VQF_SIDE_DEVICE, line);
        return;
    }
    unsigned tested = x->have_vdrv ? VQF_SIDE_DEVICE : VQF_SIDE_DRIVER;
    unsigned err_ev = tested == VQF_SIDE_DEVICE ? VQF_EV_DEV_ERROR : VQF_EV_DRV_ERROR;
    bool refused = x->rec.counts_side[tested][err_ev] || (x->have_vdrv && x->saw_needs_reset);
    if (x->lied || refused)
        set_result(res, VQF_REJECT, VQF_CLAUSE_NONE, tested,
                   x->lied ? "the fuzzer's side broke a rule; the side under test stayed healthy"
                           : "the side under test refused the input and recovered");
    else
        set_result(res, VQF_PASS, VQF_CLAUSE_NONE, VQF_SIDE_HARNESS, "");
}

/* formats, the fast paths: the program once more over one format with no observer. The ring
 * code then takes its inline fast paths (emulator/ring/split.h, packed.h) wherever the shape
 * allows, where the observed pass ran the general bodies; the fast paths promise the same
 * checks in the same order with the same results, so the guest memory after the drain must
 * hold the same bytes. The pass runs what run_pass runs up to the drain, minus the recorder
 * and the oracle; bounded by the ops and the drain (no work bound: it needs the events). */
static bool run_blind(struct vqf_exec *x, int force_packed, uint64_t *digest)
{
    const struct vqf_target *t = x->t;
    /* The harness also calls the oracle directly (registers, device steps, idle): a second
     * instance takes those calls, so that the observed pass's findings and flight recorder
     * stay for the report. */
    if (!x->blind_oracle && !(x->blind_oracle = vqf_oracle_new()))
        return false;
    struct vqf_oracle *oracle = x->oracle;
    struct vqf_recorder rec = x->rec;
    x->oracle = x->blind_oracle;
    bool ran = false;
    prepare(x, force_packed);
    x->blind = true;
    if (vqf_world_begin(x) == 0) {
        vqf_x_vis_begin(x);
        if (!(x->prog.h.format_flags & VQF_PF_MANUAL))
            x->drv_ad->probe(x->drv);
        uint64_t mask = vqf_target_op_mask(t);
        for (uint32_t i = 0; i < x->prog.nops; i++) {
            const struct vqf_op *op = &x->prog.ops[i];
            if (!op_runs(t, mask, op))
                continue;
            x->cur_op = i;
            dispatch(x, op);
        }
        vqf_fault_disarm(x);
        vqf_x_vis_end(x);
        vqf_x_run_idle(x, VQF_X_DRAIN_STEPS);
        *digest = vqf_mem_digest(&x->mem);
        ran = true;
    }
    x->blind = false;
    x->oracle = oracle;
    x->rec = rec;
    return ran;
}

/* formats: the same program over split and over packed; what the device did must match. */
static void run_formats(struct vqf_exec *x, struct vqf_result *res)
{
    struct vqf_result r0;
    run_pass(x, 0, &r0);
    uint64_t h0 = x->push_hash, c0 = x->rec.counts[VQF_EV_DRV_RECLAIM], s0 = x->submit_hash;
    uint32_t p0 = x->pushes;
    uint64_t d0 = x->drain_digest;
    x->fmt_blind_ran = false;
    if (r0.verdict == VQF_FAIL || r0.verdict == VQF_WEDGED) {
        *res = r0;
        snprintf(res->detail, sizeof(res->detail), "split: %.240s", r0.detail);
        return;
    }
    run_pass(x, 1, res);
    res->trace_hash = (res->trace_hash ^ r0.trace_hash) * 0x9e3779b97f4a7c15ull + r0.trace_hash;
    res->ops_run += r0.ops_run;
    res->ring_ops += r0.ring_ops;
    x->fmt_result[0] = h0;
    x->fmt_result[1] = x->push_hash;
    x->fmt_completions[0] = (uint32_t)c0;
    x->fmt_completions[1] = x->rec.counts[VQF_EV_DRV_RECLAIM];
    if (res->verdict == VQF_FAIL || res->verdict == VQF_WEDGED) {
        char tmp[sizeof(res->detail)];
        snprintf(tmp, sizeof(tmp), "%s", res->detail);
        snprintf(res->detail, sizeof(res->detail), "packed: %.240s", tmp);
        return;
    }
    /* Under ring pressure the formats may accept different requests (a packed slot is
     * reused only in ring order, 2.8.x; a split descriptor as soon as it is free, 2.7.x):
     * then the runs did different work and are not compared. */
    if (s0 == x->submit_hash && (h0 != x->push_hash || p0 != x->pushes)) {
        char line[200];
        snprintf(line, sizeof(line),
                 "formats differ: split completed %u buffers (hash %016llx), packed %u (hash %016llx)", p0,
                 (unsigned long long)h0, x->pushes, (unsigned long long)x->push_hash);
        set_result(res, VQF_FAIL, VQF_CLAUSE_NONE, VQF_SIDE_DEVICE, line);
        return;
    }
    /* the same program over each format with no observer: the ring code's fast paths */
    x->fmt_digest[0][0] = d0;
    x->fmt_digest[1][0] = x->drain_digest;
    if (!run_blind(x, 0, &x->fmt_digest[0][1]) || !run_blind(x, 1, &x->fmt_digest[1][1]))
        return; /* no memory for the second oracle: the check is skipped, as the report says */
    x->fmt_blind_ran = true;
    for (unsigned f = 0; f < 2; f++) {
        if (x->fmt_digest[f][0] == x->fmt_digest[f][1])
            continue;
        char line[200];
        snprintf(line, sizeof(line),
                 "fast paths differ: %s guest memory after the drain %016llx observed, %016llx unobserved",
                 f ? "packed" : "split", (unsigned long long)x->fmt_digest[f][0],
                 (unsigned long long)x->fmt_digest[f][1]);
        set_result(res, VQF_FAIL, VQF_CLAUSE_NONE, VQF_SIDE_HARNESS, line);
        return;
    }
}

void vqf_exec_run_program(struct vqf_exec *x, const struct vqf_program *p, struct vqf_result *res)
{
    if (p != &x->prog)
        x->prog = *p;
    if (x->t->flags & VQF_T_FORMATS)
        run_formats(x, res);
    else
        run_pass(x, -1, res);
}

void vqf_exec_run(struct vqf_exec *x, const uint8_t *data, size_t len, struct vqf_result *res)
{
    vqf_prog_decode(&x->prog, data, len);
    vqf_exec_run_program(x, &x->prog, res);
}

void vqf_exec_report(const struct vqf_exec *x, const struct vqf_result *res, FILE *out)
{
    static const char *const sides[] = {"driver", "device", "harness"};
    fprintf(out, "vqfuzz: target %s: %s\n", x->t->name, vqf_verdict_name(res->verdict));
    const struct vqf_clause *cl = res->clause != VQF_CLAUSE_NONE ? vqf_clause_get(res->clause) : NULL;
    if (cl)
        fprintf(out, "  clause   %s (spec %s, %s, %s)\n  meaning  %s\n", cl->id, cl->section,
                vqf_clause_side_name(cl->side), vqf_clause_strength_name(cl->strength), cl->meaning);
    fprintf(out, "  side     %s\n", res->side < 3 ? sides[res->side] : "?");
    if (res->detail[0])
        fprintf(out, "  detail   %s\n", res->detail);
    unsigned n = x->oracle ? vqf_oracle_nfindings(x->oracle) : 0;
    for (unsigned i = 0; i < n; i++) {
        const struct vqf_finding *f = vqf_oracle_finding(x->oracle, i);
        const struct vqf_clause *fc = f ? vqf_clause_get(f->clause) : NULL;
        if (f)
            fprintf(out, "  finding  %s by %s at event #%llu: %s [values %llx %llx %llx %llx]\n", fc ? fc->id : "?",
                    f->side < 3 ? sides[f->side] : "?", (unsigned long long)f->event_index, f->detail,
                    (unsigned long long)f->value[0], (unsigned long long)f->value[1],
                    (unsigned long long)f->value[2], (unsigned long long)f->value[3]);
    }
    if (x->t->flags & VQF_T_FORMATS)
        fprintf(out, "  formats  split %016llx / %u completions, packed %016llx / %u completions\n",
                (unsigned long long)x->fmt_result[0], x->fmt_completions[0], (unsigned long long)x->fmt_result[1],
                x->fmt_completions[1]);
    if ((x->t->flags & VQF_T_FORMATS) && x->fmt_blind_ran)
        fprintf(out, "  memory   after the drain, observed / unobserved (fast paths): split %016llx / %016llx, packed "
                     "%016llx / %016llx\n",
                (unsigned long long)x->fmt_digest[0][0], (unsigned long long)x->fmt_digest[0][1],
                (unsigned long long)x->fmt_digest[1][0], (unsigned long long)x->fmt_digest[1][1]);
    fprintf(out, "  ops run  %u, trace hash %016llx\n", res->ops_run, (unsigned long long)res->trace_hash);
    vqf_rec_print_tail(x, out, 48);
}
