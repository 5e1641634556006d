/* Random program generator for the stress mode (see generate.h).
 *
 * A fuzz engine finds deep states by keeping inputs that add coverage; the stress mode has
 * no such feedback, so its programs must be mostly valid on their own: requests that the
 * side under test accepts, kicked, serviced and reclaimed, in transactions that keep the
 * ring turning over (and wrapping). Lifecycle ops come now and then, the explicit
 * violation knobs rarely, so that a stress run spends its time in deep states and still
 * visits the error paths. */
#include "harness/generate.h"

#include <string.h>

#include "harness/mutator.h"
#include "vqfuzz/virtio.h"

struct gen {
    struct vqf_program *p;
    struct vqf_rng *r;
    uint32_t dev;
    unsigned data_queues; /* the device's data queues the workload spreads over */
    uint64_t op_mask;     /* kinds the target runs; others are never emitted */
    int generic_chains;   /* this program mixes drv_add chains into a known device's traffic */
};

/* One transaction in this many carries a violation knob: with about ten transactions per
 * program, most programs stay honest and reach deep states, some probe the error paths. */
#define KNOB_ONE_IN 64

static int allowed(const struct gen *g, unsigned kind)
{
    return kind >= 64 || (int)((g->op_mask >> kind) & 1u); /* the mask names kinds 0..63 */
}

static uint32_t below(struct gen *g, uint32_t n) { return vqf_rng_below(g->r, n); }
static int one_in(struct gen *g, uint32_t n) { return vqf_rng_below(g->r, n) == 0; }
#define PICK(g, table) ((table)[below((g), (uint32_t)(sizeof(table) / sizeof((table)[0])))])

static void add(struct gen *g, unsigned kind, unsigned q, unsigned a, uint32_t b, uint64_t c)
{
    struct vqf_program *p = g->p;
    if (p->nops >= VQF_PROG_MAX_OPS || !allowed(g, kind))
        return;
    struct vqf_op *op = &p->ops[p->nops++];
    op->kind = (uint8_t)kind;
    op->q = (uint8_t)q;
    op->a = (uint16_t)a;
    op->b = b;
    op->c = c;
}

/* One op of kind with fields biased toward boundaries (the mutator's choice of values). */
static void add_knob(struct gen *g, unsigned kind)
{
    struct vqf_program *p = g->p;
    if (p->nops >= VQF_PROG_MAX_OPS || !allowed(g, kind))
        return;
    vqf_op_fill(&p->ops[p->nops++], kind, &p->h, g->r);
}

static unsigned pick_queue(struct gen *g) { return below(g, g->data_queues); }

static void run_device(struct gen *g) { add(g, VQF_OP_RUN_DEVICE, 0, 1 + below(g, 16), 0, 0); }

/* ------------------------------------------------------------ the fuzzer as a driver */

/* A well-formed request of the device's own protocol on queue q (type, arg, len). */
static void drv_request(struct gen *g, unsigned q)
{
    unsigned type = 0, arg = 0, len;
    switch (g->dev) {
    case VIRTIO_ID_BLOCK: { /* spec 5.2.6: type, sector, data length */
        static const uint8_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
                                        VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
                                        VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES};
        type = PICK(g, types);
        arg = below(g, 64);
        if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT)
            len = VIRTIO_BLK_SECTOR_SIZE * (1 + below(g, 8));
        else if (type == VIRTIO_BLK_T_GET_ID)
            len = VIRTIO_BLK_ID_BYTES;
        else if (type == VIRTIO_BLK_T_FLUSH)
            len = 0;
        else
            len = VIRTIO_BLK_DISCARD_SEG_SIZE;
        break;
    }
    case VIRTIO_ID_NET: /* 5.1.6: queue 0 receives, queue 1 transmits; frames up to 1514 bytes */
        len = (q & 1) ? 60 + below(g, 1455) : 1526;
        break;
    case VIRTIO_ID_CONSOLE: /* 5.3.6: receiveq0 / transmitq0 */
        len = (q & 1) ? 1 + below(g, 256) : 64 + below(g, 961);
        break;
    case VIRTIO_ID_RNG: /* 5.4.6: device-writable buffers only */
        len = 1 + below(g, 64);
        break;
    default:
        type = below(g, 4);
        arg = below(g, 16);
        len = 16 + below(g, 4081);
        break;
    }
    add(g, VQF_OP_DRV_REQUEST, q, type, arg, len);
}

/* A generic chain: shape = readable | writable << 8 segments, len = out_len | in_len << 16
 * (harness/exec.c), no flags or indirect (bit 0). */
static void drv_add(struct gen *g, unsigned q)
{
    unsigned nout = 1 + below(g, 3), nin = below(g, 3);
    uint32_t len = (16 + below(g, 4081)) | (nin ? (uint32_t)(16 + below(g, 4081)) << 16 : 0);
    add(g, VQF_OP_DRV_ADD, q, nout | nin << 8, len, one_in(g, 4));
}

static const uint8_t drv_knobs[] = {
    VQF_OP_DRV_NOTIFY_RAW, VQF_OP_DRV_DESC_RAW,  VQF_OP_DRV_DESC_FLAGS, VQF_OP_DRV_AVAIL_RAW,
    VQF_OP_DRV_AVAIL_IDX,  VQF_OP_DRV_PUBLISH,   VQF_OP_DRV_RING_RAW,   VQF_OP_DRV_REG_WRITE,
    VQF_OP_DRV_STATUS,     VQF_OP_DRV_FEATURES,  VQF_OP_DRV_CONFIG_WRITE,
};

static void drv_lifecycle(struct gen *g, unsigned q)
{
    switch (below(g, 5)) {
    case 0: /* queue reset with requests in flight (spec 2.6.1) */
        add(g, VQF_OP_DRV_QUEUE_RESET, q, g->p->h.qsize, 0, 0);
        break;
    case 1: /* device reset, then initialise again, maybe with other features (3.1.1) */
        add(g, VQF_OP_DRV_DEVICE_RESET, 0, 0, 0, 0);
        add(g, VQF_OP_DRV_REINIT, 0, g->p->h.qsize, 0, one_in(g, 2) ? UINT64_MAX : g->p->h.features_accepted);
        break;
    case 2: { /* config space reads (4.2.2), with the generation check of 2.5.1 */
        static const uint8_t sizes[] = {1, 2, 4};
        add(g, VQF_OP_DRV_CONFIG_READ, 0, below(g, 0x20), 0, PICK(g, sizes));
        break;
    }
    case 3:
        add(g, VQF_OP_DRV_REG_READ, 0, VIRTIO_MMIO_INTERRUPT_STATUS, 0, 4);
        break;
    default: /* event suppression: notifications off or on (2.7.7, 2.8.10: honest flags) */
        add(g, VQF_OP_DRV_EVENT, q, below(g, 2), below(g, 16), 0);
        break;
    }
}

static void reg_write(struct gen *g, unsigned offset, uint32_t value)
{
    add(g, VQF_OP_DRV_REG_WRITE, 0, offset, value, 0); /* size code 0: 32 bits (4.2.2) */
}

/* Register-level driver traffic for targets without chain ops (the mmio target). */
static void mmio_transaction(struct gen *g)
{
    unsigned q = pick_queue(g);
    switch (below(g, 8)) {
    case 0: case 1: case 2: { /* initialisation, spec 3.1.1 over the registers of 4.2.2 */
        uint64_t acc = g->p->h.features_accepted;
        add(g, VQF_OP_DRV_STATUS, 0, 0, 0, 0);
        add(g, VQF_OP_DRV_STATUS, 0, 0, VIRTIO_STATUS_ACKNOWLEDGE, 0);
        add(g, VQF_OP_DRV_STATUS, 0, 0, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 0);
        add(g, VQF_OP_DRV_FEATURES, 0, 0, (uint32_t)acc, 0);
        add(g, VQF_OP_DRV_FEATURES, 0, 1, (uint32_t)(acc >> 32) | 1u, 0); /* VERSION_1 = bit 32 */
        add(g, VQF_OP_DRV_STATUS, 0, 0, 0xb, 0);
        add(g, VQF_OP_DRV_REG_READ, 0, VIRTIO_MMIO_STATUS, 0, 0);
        /* one queue (4.2.3.2): select, size, the three areas, ready */
        uint32_t base = 0x20000u + q * 0x4000u;
        reg_write(g, VIRTIO_MMIO_QUEUE_SEL, q);
        add(g, VQF_OP_DRV_REG_READ, 0, VIRTIO_MMIO_QUEUE_NUM_MAX, 0, 0);
        reg_write(g, VIRTIO_MMIO_QUEUE_NUM, g->p->h.qsize ? g->p->h.qsize : 256);
        reg_write(g, VIRTIO_MMIO_QUEUE_DESC_LOW, base);
        reg_write(g, VIRTIO_MMIO_QUEUE_DRIVER_LOW, base + 0x1000u);
        reg_write(g, VIRTIO_MMIO_QUEUE_DEVICE_LOW, base + 0x2000u);
        reg_write(g, VIRTIO_MMIO_QUEUE_READY, 1);
        add(g, VQF_OP_DRV_STATUS, 0, 0, 0xf, 0);
        break;
    }
    case 3: /* notification (4.2.2 QueueNotify) and the device's response */
        add(g, VQF_OP_DRV_NOTIFY_RAW, 0, 0, q, 0);
        run_device(g);
        break;
    case 4: /* interrupt status read and acknowledge */
        add(g, VQF_OP_DRV_REG_READ, 0, VIRTIO_MMIO_INTERRUPT_STATUS, 0, 0);
        reg_write(g, VIRTIO_MMIO_INTERRUPT_ACK, 1 + below(g, 3));
        break;
    case 5: /* config space through the generation counter (2.5.1, 4.2.2) */
        add(g, VQF_OP_DRV_REG_READ, 0, VIRTIO_MMIO_CONFIG_GENERATION, 0, 0);
        add(g, VQF_OP_DRV_CONFIG_READ, 0, below(g, 0x20), 0, below(g, 4));
        add(g, VQF_OP_DRV_REG_READ, 0, VIRTIO_MMIO_CONFIG_GENERATION, 0, 0);
        break;
    case 6: /* lifecycle */
        if (one_in(g, 2))
            add(g, VQF_OP_DRV_QUEUE_RESET, q, g->p->h.qsize, 0, 0);
        else
            add(g, VQF_OP_DRV_DEVICE_RESET, 0, 0, 0, 0);
        break;
    default: { /* a register write anywhere (the target exists for these) */
        static const uint8_t kinds[] = {VQF_OP_DRV_REG_WRITE, VQF_OP_DRV_STATUS, VQF_OP_DRV_FEATURES,
                                        VQF_OP_DRV_CONFIG_WRITE, VQF_OP_DRV_REG_READ};
        add_knob(g, PICK(g, kinds));
        break;
    }
    }
}

/* requests -> kick -> the device runs -> reclaim */
static void drv_transaction(struct gen *g)
{
    if (!allowed(g, VQF_OP_DRV_REQUEST) && !allowed(g, VQF_OP_DRV_ADD)) {
        mmio_transaction(g);
        return;
    }
    unsigned q = pick_queue(g);
    if (one_in(g, 16))
        drv_lifecycle(g, q);
    if (one_in(g, KNOB_ONE_IN))
        add_knob(g, PICK(g, drv_knobs));
    unsigned n = 1 + below(g, 4);
    for (unsigned i = 0; i < n; i++) {
        /* a device's own requests; a generic chain is a protocol error for a known device
         * (refused: REJECT), so only one program in eight mixes them in */
        if (g->dev <= VIRTIO_ID_RNG && g->dev != 0 && (!g->generic_chains || !one_in(g, 8)))
            drv_request(g, q);
        else
            drv_add(g, q);
    }
    add(g, VQF_OP_DRV_KICK, q, one_in(g, 8), 0, 0);
    run_device(g);
    add(g, VQF_OP_DRV_RECLAIM, q, 0, 0, 0);
}

/* ------------------------------------------------------------ the driver's workload */

/* One workload unit (struct vqf_workload_op, include/vqfuzz/adapter.h). */
static void submit(struct gen *g)
{
    unsigned q = 0, kind = 0;
    uint32_t arg0 = 0;
    uint64_t arg1 = 0;
    switch (g->dev) {
    case VIRTIO_ID_BLOCK: { /* write+read-back, read, flush, discard, write-zeroes, get-id */
        static const uint8_t kinds[] = {0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5};
        kind = PICK(g, kinds);
        arg0 = below(g, 128);
        arg1 = 1 + below(g, 8);
        break;
    }
    case VIRTIO_ID_NET: /* send a frame, or refill rx buffers */
        kind = one_in(g, 4);
        arg0 = kind ? 0 : 14 + below(g, 1501);
        break;
    case VIRTIO_ID_CONSOLE: /* write bytes (echoed back), or refill rx */
        kind = one_in(g, 4);
        arg0 = kind ? 0 : 1 + below(g, 512);
        break;
    case VIRTIO_ID_RNG:
        arg0 = 1 + below(g, 256);
        break;
    default:
        kind = below(g, 4);
        arg0 = below(g, 256);
        arg1 = below(g, 8);
        break;
    }
    add(g, VQF_OP_WL_SUBMIT, q, kind, arg0, arg1);
}

static const uint8_t dev_knobs[] = {
    VQF_OP_DEV_USED_RAW, VQF_OP_DEV_USED_IDX,     VQF_OP_DEV_FORGE,           VQF_OP_DEV_LEN_BIAS,
    VQF_OP_DEV_DROP,     VQF_OP_DEV_IRQ,          VQF_OP_DEV_CONFIG,          VQF_OP_DEV_NEEDS_RESET,
    VQF_OP_DEV_EVENT,    VQF_OP_DEV_RING_RAW,     VQF_OP_DEV_REFUSE_FEATURES,
};

/* submit -> the device runs -> interrupt (-> the driver runs). liar_device adds the
 * device-side knobs (LDEV). */
static void workload_transaction(struct gen *g, int liar_device)
{
    if (one_in(g, 16)) /* reset, queue reset or config re-read mid-traffic (enum vqf_driver_ctl) */
        add(g, VQF_OP_WL_CONTROL, 0, below(g, 3), pick_queue(g), 0);
    if (liar_device && one_in(g, KNOB_ONE_IN))
        add_knob(g, PICK(g, dev_knobs));
    unsigned n = 1 + below(g, 4);
    for (unsigned i = 0; i < n; i++)
        submit(g);
    run_device(g);
    add(g, VQF_OP_WL_INTERRUPT, 0, 0, 0, 0);
    if (one_in(g, 4))
        add(g, VQF_OP_RUN_DRIVER, 0, 1 + below(g, 8), 0, 0);
}

/* ------------------------------------------------------------ the program */

static void gen_header(struct gen *g, unsigned roles)
{
    struct vqf_prog_header *h = &g->p->h;
    static const uint8_t optional_features[] = {VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_IN_ORDER,
                                                VIRTIO_F_NOTIFICATION_DATA, VIRTIO_F_RING_RESET};
    static const uint16_t split_sizes[] = {0, 0, 0, 8, 16, 32, 64, 128, 256};
    static const uint16_t packed_sizes[] = {0, 0, 3, 5, 8, 64, 100, 255, 256};
    h->format_flags = (uint8_t)((one_in(g, 2) ? VQF_PF_PACKED : 0) | (one_in(g, 4) ? VQF_PF_INDIRECT : 0));
    h->qsize = (h->format_flags & VQF_PF_PACKED) ? PICK(g, packed_sizes) : PICK(g, split_sizes);
    h->nqueues = one_in(g, 8) ? (uint8_t)(1 + below(g, 2)) : 0;
    unsigned liars[3], n = 0;
    if (roles & VQF_ROLE_LDRV)
        liars[n++] = VQF_LIAR_DRIVER;
    if (roles & VQF_ROLE_LDEV)
        liars[n++] = VQF_LIAR_DEVICE;
    if (roles & VQF_ROLE_WORK)
        liars[n++] = VQF_LIAR_NONE;
    h->liar = (uint8_t)liars[below(g, n)];
    h->device_type = (uint8_t)g->dev;
    /* Everything by default (the sides mask it by what they support), now and then without
     * one optional feature so that both paths of each get exercised. */
    h->features_offered = UINT64_MAX;
    h->features_accepted = UINT64_MAX;
    if (one_in(g, 4))
        h->features_offered &= ~VQF_BIT(PICK(g, optional_features));
    if (one_in(g, 4))
        h->features_accepted &= ~VQF_BIT(PICK(g, optional_features));
    h->seed = (uint32_t)vqf_rng_next(g->r);
}

void vqf_prog_generate(struct vqf_program *p, uint64_t seed, unsigned roles, uint32_t device_id)
{
    vqf_prog_generate_masked(p, seed, roles, device_id, UINT64_MAX);
}

void vqf_prog_generate_masked(struct vqf_program *p, uint64_t seed, unsigned roles, uint32_t device_id,
                              uint64_t op_mask)
{
    struct vqf_rng r = {seed};
    struct gen g = {p, &r, device_id, 1, op_mask, 0};
    roles &= VQF_ROLE_ANY;
    if (!roles)
        roles = VQF_ROLE_ANY;
    if (device_id == VIRTIO_ID_NET || device_id == VIRTIO_ID_CONSOLE)
        g.data_queues = 2; /* receive and transmit */
    memset(&p->h, 0, sizeof(p->h));
    p->nops = 0;
    gen_header(&g, roles);
    g.generic_chains = one_in(&g, 8);

    unsigned role_list[3], nroles = 0;
    for (unsigned bit = VQF_ROLE_LDRV; bit <= VQF_ROLE_WORK; bit <<= 1)
        if (roles & bit)
            role_list[nroles++] = bit;
    /* The longest transaction is 16 ops: stop while a whole one still fits. A mask that
     * drops most ops makes transactions short or empty: the round limit ends the loop. */
    uint32_t target = 32 + below(&g, 97);
    for (unsigned round = 0; p->nops + 16 <= target && round < 4 * target; round++) {
        unsigned role = role_list[below(&g, nroles)];
        if (role == VQF_ROLE_LDRV)
            drv_transaction(&g);
        else
            workload_transaction(&g, role == VQF_ROLE_LDEV);
    }
    vqf_prog_canonicalize(p);
}
