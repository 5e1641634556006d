/* The structure-aware mutator core (see mutator.h, DESIGN.md "The input: a program").
 *
 * Byte-level mutation of a program mostly breaks the op framing or lands in fields the op
 * ignores; working on decoded ops keeps every mutation meaningful: each one is an op-level
 * edit (insert, delete, duplicate, move, splice, repeat), a field edit biased toward the
 * values where ring code goes wrong (0, 1, the queue size and its neighbours, 16-bit index
 * wrap, 2^31, all-ones, symbolic addresses that alias the rings or wrap past 2^64), or a
 * header edit (ring format, features, queue size and count). */
#include "harness/mutator.h"

#include <string.h>

#include "vqfuzz/virtio.h"

unsigned vqf_mutator_roles = VQF_ROLE_ANY;
uint64_t vqf_mutator_op_mask = UINT64_MAX;

static const uint64_t width_mask[4] = {0xffu, 0xffffu, 0xffffffffu, UINT64_MAX}; /* q, a, b, c */

static uint64_t rnext(struct vqf_rng *r) { return vqf_rng_next(r); }
static uint32_t below(struct vqf_rng *r, uint32_t n) { return vqf_rng_below(r, n); }
static int one_in(struct vqf_rng *r, uint32_t n) { return vqf_rng_below(r, n) == 0; }
#define PICK(r, table) ((table)[below((r), (uint32_t)(sizeof(table) / sizeof((table)[0])))])

/* The queue size every index is relative to: the header's, or the driver default (256,
 * struct vqf_driver_params) when the header leaves it 0. */
static uint32_t qsize_of(const struct vqf_prog_header *h) { return h->qsize ? h->qsize : 256u; }

/* ------------------------------------------------------------ interesting values */

/* Width-independent boundaries; the caller masks them to the field width, which turns
 * the large ones into the all-ones and sign-bit values of narrower fields. */
static const uint64_t generic_values[] = {
    0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 32, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 4095, 4096,
    0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu,
    0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffff0ull, UINT64_MAX,
};

/* Values relative to the queue size: the last slot, one past it, and the 16-bit index and
 * packed wrap-counter boundaries (spec 2.7.6 free-running idx, 2.8.1 wrap counters). */
static uint64_t qsize_value(struct vqf_rng *r, uint32_t qs)
{
    switch (below(r, 10)) {
    case 0: return qs - 1;
    case 1: return qs;
    case 2: return qs + 1;
    case 3: return 2u * qs;
    case 4: return qs / 2;
    case 5: return 0x10000u - qs;          /* idx about to wrap after one more ring */
    case 6: return (qs - 1) | 0x8000u;     /* packed: last slot with the wrap bit (2.8.10) */
    case 7: return 0x8000u;                /* packed: slot 0, wrap bit set */
    case 8: return 0xffffu;
    default: return below(r, qs);
    }
}

/* Queue sizes that probe the limits (spec 2.7: split sizes are powers of two up to 32768;
 * 2.8: packed sizes need not be) and the common ones. */
static const uint16_t qsize_values[] = {0, 1, 2, 3, 4, 8, 16, 64, 128, 255, 256, 257, 1024, 32767, 32768, 0xffff};

/* virtio-mmio register offsets (spec 4.2.2), misaligned neighbours and the config window. */
static const uint16_t mmio_offsets[] = {
    VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_VENDOR_ID,
    VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_NUM,
    VIRTIO_MMIO_QUEUE_READY, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_INTERRUPT_ACK,
    VIRTIO_MMIO_STATUS, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH, VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
    VIRTIO_MMIO_SHM_SEL, VIRTIO_MMIO_QUEUE_RESET, VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_CONFIG,
    VIRTIO_MMIO_CONFIG + 4, VIRTIO_MMIO_CONFIG + 0x20, 0x002, 0x071, 0x0fe, 0x1ff, 0xfff,
};

/* Access sizes: the executor's size codes 0..3 (4, 1, 2, 4 bytes for registers; 1, 2, 4, 8
 * for ring writes) and a few values beyond them. */
static const uint8_t access_sizes[] = {0, 1, 2, 3, 0, 1, 2, 3, 4, 8, 0xff};

/* Device status values (spec 2.1): each step of 3.1.1, the error bits, and nonsense. */
static const uint8_t status_values[] = {
    0, VIRTIO_STATUS_ACKNOWLEDGE, 3, 0xb, 0xf, VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_FEATURES_OK,
    VIRTIO_STATUS_SUSPEND | 0xf, VIRTIO_STATUS_DEVICE_NEEDS_RESET, VIRTIO_STATUS_FAILED, 0x7, 0xff,
};

/* Feature bits worth toggling: the reserved ones (spec 6) and the low device-type bits. */
static const uint8_t feature_bits[] = {
    VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX,      VIRTIO_F_VERSION_1,        VIRTIO_F_ACCESS_PLATFORM,
    VIRTIO_F_RING_PACKED,   VIRTIO_F_IN_ORDER,       VIRTIO_F_ORDER_PLATFORM,   VIRTIO_F_NOTIFICATION_DATA,
    VIRTIO_F_RING_RESET,    VIRTIO_F_SUSPEND,        0, 1, 2, 5, 6, 9, 11, 12, 13, 14, 15, 16, 17, 22,
};

static uint64_t feature_set(struct vqf_rng *r)
{
    switch (below(r, 5)) {
    case 0: return UINT64_MAX;
    case 1: return 0;
    case 2: return VQF_BIT(VIRTIO_F_VERSION_1);
    case 3: return UINT64_MAX & ~VQF_BIT(PICK(r, feature_bits));
    default: return rnext(r);
    }
}

/* A 32-bit feature window (DeviceFeatures/DriverFeatures select 0 or 1, spec 4.2.2). */
static uint32_t feature_word(struct vqf_rng *r)
{
    uint64_t f = feature_set(r);
    return one_in(r, 2) ? (uint32_t)f : (uint32_t)(f >> 32);
}

/* A symbolic address (enum vqf_addr_sel) of any selector with an offset that lands on a
 * ring entry boundary, just inside or just past an area, or on the edge of a region. */
static uint64_t random_addr(struct vqf_rng *r, uint32_t qs)
{
    unsigned sel = below(r, VQF_ADDR_COUNT);
    uint64_t off;
    if (one_in(r, 64)) /* an unknown selector: the executor must cope */
        return rnext(r);
    switch (sel) {
    case VQF_ADDR_ABS: {
        static const uint64_t abs_values[] = {0, 0x1000, 0x10000, 0x10008, 0x40000000, 0x3ffffff8,
                                              0x00fffffffffff000ull};
        off = one_in(r, 4) ? (rnext(r) & 0xffffffffu) : PICK(r, abs_values);
        break;
    }
    case VQF_ADDR_REGION_END: {
        static const uint32_t minus[] = {0, 1, 2, 3, 7, 8, 15, 16, 511, 4095};
        off = ((uint64_t)below(r, 4) << 32) | PICK(r, minus);
        break;
    }
    case VQF_ADDR_WRAP: {
        static const uint32_t back[] = {1, 2, 8, 16, 512, 4096, 0x10000};
        off = PICK(r, back);
        break;
    }
    case VQF_ADDR_HOLE:
        off = one_in(r, 2) ? 0 : below(r, 0x1000);
        break;
    default:
        switch (below(r, 6)) {
        case 0: off = 0; break;
        case 1: off = (uint64_t)below(r, qs) * 16u; break;     /* a descriptor / entry boundary */
        case 2: off = (uint64_t)qs * 16u; break;               /* one past the descriptor table */
        case 3: off = (uint64_t)qs * 16u - 1u - below(r, 8); break; /* straddles the end */
        case 4: off = PICK(r, generic_values) & 0xffffffu; break;
        default: off = below(r, 0x10000); break;
        }
    }
    return VQF_ADDR(sel, off);
}

/* A queue index: mostly real queues, sometimes the first one past them or far out. */
static uint8_t queue_value(struct vqf_rng *r, const struct vqf_prog_header *h)
{
    unsigned nq = h->nqueues ? h->nqueues : 2u;
    switch (below(r, 8)) {
    case 0: return (uint8_t)nq;
    case 1: return (uint8_t)(one_in(r, 2) ? 0xff : below(r, 256));
    default: return (uint8_t)below(r, nq);
    }
}

/* A value chosen for what this field of this op means; 0 with *have = 0 when nothing is
 * specific and the generic boundaries apply. */
static uint64_t hinted_value(struct vqf_rng *r, unsigned kind, unsigned fi, uint32_t qs, int *have)
{
    *have = 1;
    switch (kind) {
    case VQF_OP_RUN_DEVICE:
    case VQF_OP_RUN_DRIVER: {
        static const uint16_t steps[] = {0, 1, 2, 3, 8, 64, 1000, 0xffff};
        return PICK(r, steps);
    }
    case VQF_OP_DRV_ADD:
        /* shape = readable | writable << 8 segments; len = out_len | in_len << 16 (0 = 64
         * bytes); flags bit0 indirect, bit1 kick */
        if (fi == 1)
            return one_in(r, 8) ? 0x2020u - below(r, 2) : (below(r, 5) | below(r, 5) << 8);
        if (fi == 2)
            return below(r, 4097) | (uint64_t)below(r, 4097) << 16;
        return below(r, 4);
    case VQF_OP_DRV_REQUEST:
        /* type (blk request type, console control event), arg (sector, value), len (0 =
         * the type's default) */
        if (fi == 1)
            return below(r, 16);
        if (fi == 2)
            return one_in(r, 2) ? below(r, 64) : qsize_value(r, qs);
        return one_in(r, 4) ? 0 : VIRTIO_BLK_SECTOR_SIZE * (uint64_t)below(r, 9) + (one_in(r, 4) ? below(r, 512) : 0);
    case VQF_OP_DRV_REG_WRITE:
    case VQF_OP_DRV_REG_READ:
        if (fi == 1)
            return PICK(r, mmio_offsets);
        if (fi == 3)
            return PICK(r, access_sizes);
        if (one_in(r, 2))
            return one_in(r, 2) ? feature_word(r) : PICK(r, status_values);
        break;
    case VQF_OP_DRV_CONFIG_WRITE:
    case VQF_OP_DRV_CONFIG_READ:
    case VQF_OP_DEV_CONFIG:
        if (fi == 1)
            return one_in(r, 4) ? PICK(r, generic_values) & 0xffffu : below(r, 0x40);
        if (fi == 3) /* dev_config mode: bit0 bump generation, bit1 notify, bit2 tear; size << 4 */
            return kind == VQF_OP_DEV_CONFIG ? (below(r, 8) | below(r, 4) << 4) : PICK(r, access_sizes);
        break;
    case VQF_OP_DRV_STATUS:
        return PICK(r, status_values);
    case VQF_OP_DRV_FEATURES:
        return fi == 1 ? below(r, 4) : feature_word(r);
    case VQF_OP_DRV_REINIT:
        return fi == 1 ? PICK(r, qsize_values) : feature_set(r);
    case VQF_OP_DRV_QUEUE_RESET:
        return PICK(r, qsize_values);
    case VQF_OP_DRV_DESC_RAW:
        if (fi == 2) {
            /* len: an indirect table of one entry, of a queue's worth or one past it, or past
             * what a device keeps on its stack (16 bytes per entry, 2.7.5.3.1 / 2.8.19); or a
             * length that passes 2^32 once added to the chain's others (2.7.5: le32 len) */
            switch (below(r, 4)) {
            case 0: return 16u * (1u + below(r, 2u * qs + 2u));
            case 1: return 16u * ((uint64_t)qsize_value(r, qs) & 0xfffu);
            case 2: return 0x100000000ull - 16u * (1u + below(r, 8));
            default: break;
            }
        }
        break;
    case VQF_OP_DRV_DESC_FLAGS: {
        /* flags (low 16 bits) | next (high 16 bits): NEXT/WRITE/INDIRECT and the packed
         * AVAIL/USED bits in every combination (spec 2.7.5, 2.8.1) */
        static const uint16_t flags[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x80, 0x8000, 0x8080, 0x81, 0x8001, 0xffff};
        return PICK(r, flags) | (qsize_value(r, qs) & 0xffffu) << 16;
    }
    case VQF_OP_DRV_EVENT:
    case VQF_OP_DEV_EVENT:
        /* flags: enable/disable/desc (2.8.10) or NO_INTERRUPT / NO_NOTIFY (2.7.7, 2.7.10) */
        return fi == 1 ? below(r, 4) : qsize_value(r, qs);
    case VQF_OP_DRV_RING_RAW:
    case VQF_OP_DEV_RING_RAW:
        if (fi == 1)
            return below(r, 16); /* which area (bits 0-1) and the write size code (bits 2-3) */
        if (fi == 2)
            return one_in(r, 2) ? below(r, 8) : qsize_value(r, qs) & 0xffffu;
        break;
    case VQF_OP_DEV_IRQ:
        return one_in(r, 8) ? 0xff : below(r, 4); /* InterruptStatus bits (4.2.2) */
    case VQF_OP_DEV_REFUSE_FEATURES:
        return below(r, 2);
    case VQF_OP_WL_SUBMIT:
        if (fi == 1)
            return below(r, 6); /* workload kinds (struct vqf_workload_op) */
        if (one_in(r, 2))
            return below(r, 64) + 1;
        break;
    case VQF_OP_WL_CONTROL:
        return fi == 1 ? below(r, 3) : below(r, 4); /* enum vqf_driver_ctl */
    default:
        break;
    }
    *have = 0;
    return 0;
}

static uint64_t field_value(struct vqf_rng *r, unsigned kind, unsigned fi, const struct vqf_prog_header *h)
{
    uint32_t qs = qsize_of(h);
    if (fi == 0)
        return queue_value(r, h);
    if (!strcmp(vqf_op_table[kind].field_name[fi], "addr"))
        return random_addr(r, qs);
    int have;
    uint64_t v = hinted_value(r, kind, fi, qs, &have);
    if (!have || one_in(r, 8)) {
        switch (below(r, 8)) {
        case 0: case 1: case 2: v = PICK(r, generic_values); break;
        case 3: case 4: v = qsize_value(r, qs); break;
        case 5: v = rnext(r); break;
        default: v = below(r, 2u * qs + 1u); break;
        }
    }
    return v & width_mask[fi];
}

void vqf_op_fill(struct vqf_op *op, unsigned kind, const struct vqf_prog_header *h, struct vqf_rng *r)
{
    kind %= VQF_OP_COUNT;
    unsigned f = vqf_op_table[kind].fields;
    memset(op, 0, sizeof(*op));
    op->kind = (uint8_t)kind;
    if (f & VQF_F_Q)
        op->q = (uint8_t)field_value(r, kind, 0, h);
    if (f & VQF_F_A)
        op->a = (uint16_t)field_value(r, kind, 1, h);
    if (f & VQF_F_B)
        op->b = (uint32_t)field_value(r, kind, 2, h);
    if (f & VQF_F_C)
        op->c = field_value(r, kind, 3, h);
}

/* ------------------------------------------------------------ op-level edits */

struct mctx {
    struct vqf_program *p;
    struct vqf_rng *r;
    unsigned roles;
    uint32_t max_ops;
    uint8_t kinds[VQF_OP_COUNT]; /* the op set: kinds of the roles, narrowed by the op mask */
    unsigned nkinds;
};

static unsigned random_kind(struct mctx *m)
{
    /* Now and then reuse a kind already in the program: it is there because it mattered. */
    if (m->p->nops && one_in(m->r, 4)) {
        unsigned k = m->p->ops[below(m->r, m->p->nops)].kind;
        for (unsigned i = 0; i < m->nkinds; i++)
            if (m->kinds[i] == k)
                return k;
    }
    return m->kinds[below(m->r, m->nkinds)];
}

/* Open a gap of n ops at pos (n already fits). */
static void open_gap(struct vqf_program *p, uint32_t pos, uint32_t n)
{
    memmove(&p->ops[pos + n], &p->ops[pos], (p->nops - pos) * sizeof(p->ops[0]));
    p->nops += n;
}

static void close_gap(struct vqf_program *p, uint32_t pos, uint32_t n)
{
    memmove(&p->ops[pos], &p->ops[pos + n], (p->nops - pos - n) * sizeof(p->ops[0]));
    p->nops -= n;
}

/* A run length: mostly 1, sometimes up to 8, never past avail. */
static uint32_t run_len(struct vqf_rng *r, uint32_t avail)
{
    uint32_t n = one_in(r, 2) ? 1 : 1 + below(r, 8);
    return n > avail ? avail : n;
}

static int m_insert(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (p->nops >= m->max_ops)
        return 0;
    unsigned kind = random_kind(m); /* before the gap: it may read any op */
    uint32_t pos = below(m->r, p->nops + 1);
    open_gap(p, pos, 1);
    vqf_op_fill(&p->ops[pos], kind, &p->h, m->r);
    return 1;
}

static int m_replace(struct mctx *m)
{
    if (!m->p->nops)
        return 0;
    struct vqf_op *op = &m->p->ops[below(m->r, m->p->nops)];
    vqf_op_fill(op, random_kind(m), &m->p->h, m->r);
    return 1;
}

static int m_delete(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (!p->nops)
        return 0;
    uint32_t pos = below(m->r, p->nops);
    close_gap(p, pos, run_len(m->r, p->nops - pos));
    return 1;
}

/* Copy the run [src, src + n) to dst (a position in the program before the copy). */
static void copy_run(struct vqf_program *p, uint32_t src, uint32_t n, uint32_t dst)
{
    struct vqf_op tmp[8];
    memcpy(tmp, &p->ops[src], n * sizeof(tmp[0]));
    open_gap(p, dst, n);
    memcpy(&p->ops[dst], tmp, n * sizeof(tmp[0]));
}

/* Duplicate a run of ops right after itself (a second request, a second kick). */
static int m_duplicate(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (!p->nops || p->nops >= m->max_ops)
        return 0;
    uint32_t src = below(m->r, p->nops);
    uint32_t n = run_len(m->r, p->nops - src);
    if (n > m->max_ops - p->nops)
        n = m->max_ops - p->nops;
    copy_run(p, src, n, src + n);
    return 1;
}

/* Copy a run of ops to anywhere in the program (splice within one program). */
static int m_splice(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (!p->nops || p->nops >= m->max_ops)
        return 0;
    uint32_t src = below(m->r, p->nops);
    uint32_t n = run_len(m->r, p->nops - src);
    if (n > m->max_ops - p->nops)
        n = m->max_ops - p->nops;
    copy_run(p, src, n, below(m->r, p->nops + 1));
    return 1;
}

/* Repeat a short run many times: filling a ring, wrapping its 16-bit index or the packed
 * wrap counter takes qsize adds, which single inserts almost never reach. */
static int m_repeat(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (!p->nops || p->nops >= m->max_ops)
        return 0;
    uint32_t src = below(m->r, p->nops);
    uint32_t n = 1 + below(m->r, 4);
    if (n > p->nops - src)
        n = p->nops - src;
    uint32_t times = 2 + below(m->r, 31);
    if (times > (m->max_ops - p->nops) / n)
        times = (m->max_ops - p->nops) / n;
    if (!times)
        return 0;
    /* one gap for all the copies: a memmove per copy would cost O(ops * times) */
    open_gap(p, src + n, n * times);
    for (uint32_t t = 1; t <= times; t++)
        memcpy(&p->ops[src + t * n], &p->ops[src], n * sizeof(p->ops[0]));
    return 1;
}

static int m_swap(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (p->nops < 2)
        return 0;
    uint32_t i = below(m->r, p->nops), j = below(m->r, p->nops);
    struct vqf_op t = p->ops[i];
    p->ops[i] = p->ops[j];
    p->ops[j] = t;
    return i != j;
}

/* Move one op elsewhere: a kick before its add, a reclaim before the device ran. */
static int m_move(struct mctx *m)
{
    struct vqf_program *p = m->p;
    if (p->nops < 2)
        return 0;
    uint32_t i = below(m->r, p->nops);
    struct vqf_op t = p->ops[i];
    close_gap(p, i, 1);
    uint32_t j = below(m->r, p->nops + 1);
    open_gap(p, j, 1);
    p->ops[j] = t;
    return i != j;
}

/* ------------------------------------------------------------ field edits */

/* Pick an op and one field it uses; returns the field index or -1. */
static int pick_field(struct mctx *m, struct vqf_op **opp)
{
    struct vqf_program *p = m->p;
    if (!p->nops)
        return -1;
    struct vqf_op *op = &p->ops[below(m->r, p->nops)];
    unsigned f = vqf_op_table[op->kind].fields;
    if (!f)
        return -1;
    unsigned fi;
    do
        fi = below(m->r, 4);
    while (!(f & (1u << fi)));
    *opp = op;
    return (int)fi;
}

static uint64_t get_field(const struct vqf_op *op, int fi)
{
    return fi == 0 ? op->q : fi == 1 ? op->a : fi == 2 ? op->b : op->c;
}

static void set_field(struct vqf_op *op, int fi, uint64_t v)
{
    switch (fi) {
    case 0: op->q = (uint8_t)v; break;
    case 1: op->a = (uint16_t)v; break;
    case 2: op->b = (uint32_t)v; break;
    default: op->c = v; break;
    }
}

static int m_tweak(struct mctx *m)
{
    struct vqf_op *op;
    int fi = pick_field(m, &op);
    if (fi < 0)
        return 0;
    set_field(op, fi, field_value(m->r, op->kind, (unsigned)fi, &m->p->h));
    return 1;
}

static int m_arith(struct mctx *m)
{
    struct vqf_op *op;
    int fi = pick_field(m, &op);
    if (fi < 0)
        return 0;
    uint64_t v = get_field(op, fi);
    uint64_t d = 1 + below(m->r, one_in(m->r, 2) ? 4 : 32);
    if (fi == 3 && !strcmp(vqf_op_table[op->kind].field_name[3], "addr")) /* keep the selector */
        v = (v & ~0x00ffffffffffffffull) | ((v + (one_in(m->r, 2) ? d : -d)) & 0x00ffffffffffffffull);
    else
        v = one_in(m->r, 2) ? v + d : v - d;
    set_field(op, fi, v & width_mask[fi]);
    return 1;
}

static int m_bitflip(struct mctx *m)
{
    struct vqf_op *op;
    int fi = pick_field(m, &op);
    if (fi < 0)
        return 0;
    static const unsigned width[4] = {8, 16, 32, 64};
    set_field(op, fi, get_field(op, fi) ^ (1ull << below(m->r, width[fi])));
    return 1;
}

/* Another kind for an op, keeping its operands: the same slot and length now written raw,
 * or by the other side. */
static int m_kind(struct mctx *m)
{
    if (!m->p->nops)
        return 0;
    struct vqf_op *op = &m->p->ops[below(m->r, m->p->nops)];
    unsigned old = op->kind;
    unsigned k = m->kinds[below(m->r, m->nkinds)];
    unsigned f = vqf_op_table[k].fields;
    op->kind = (uint8_t)k;
    /* fields the old kind did not use are 0: give the new ones meaningful values */
    struct vqf_op fresh;
    vqf_op_fill(&fresh, k, &m->p->h, m->r);
    unsigned newly = f & ~vqf_op_table[old].fields;
    for (int fi = 0; fi < 4; fi++)
        if (newly & (1u << fi))
            set_field(op, fi, get_field(&fresh, fi));
    return k != old;
}

/* ------------------------------------------------------------ header edits */

static int m_header(struct mctx *m)
{
    struct vqf_prog_header *h = &m->p->h;
    struct vqf_rng *r = m->r;
    switch (below(r, 10)) {
    case 0: case 1:
        h->format_flags ^= VQF_PF_PACKED;
        break;
    case 2:
        h->format_flags ^= one_in(r, 4) ? VQF_PF_MANUAL : VQF_PF_INDIRECT;
        break;
    case 3: case 4:
        h->qsize = PICK(r, qsize_values);
        break;
    case 5: {
        static const uint8_t nq[] = {0, 1, 2, 3, 255};
        h->nqueues = PICK(r, nq);
        break;
    }
    case 6:
        h->features_offered ^= VQF_BIT(one_in(r, 4) ? below(r, 64) : PICK(r, feature_bits));
        break;
    case 7:
        h->features_accepted ^= VQF_BIT(one_in(r, 4) ? below(r, 64) : PICK(r, feature_bits));
        break;
    case 8:
        if (one_in(r, 2))
            h->features_offered = feature_set(r);
        else
            h->features_accepted = feature_set(r);
        break;
    default:
        switch (below(r, 3)) {
        case 0: h->liar = (uint8_t)below(r, 3); break;
        case 1: h->device_type = (uint8_t)(one_in(r, 2) ? below(r, 5) : rnext(r)); break;
        default: h->seed = (uint32_t)rnext(r); break;
        }
    }
    return 1;
}

/* ------------------------------------------------------------ the core */

typedef int (*mutation_fn)(struct mctx *m);

/* Weighted by repetition: field edits and inserts dominate, the rest keep variety. */
static const mutation_fn mutations[] = {
    m_insert, m_insert, m_insert, m_tweak, m_tweak, m_tweak, m_tweak, m_arith, m_bitflip,
    m_delete, m_delete, m_duplicate, m_splice, m_repeat, m_swap, m_move, m_replace, m_kind,
    m_header, m_header,
};

static void init_ctx(struct mctx *m, struct vqf_program *p, struct vqf_rng *r, unsigned roles, uint32_t max_ops,
                     uint64_t op_mask)
{
    m->p = p;
    m->r = r;
    m->roles = (roles & VQF_ROLE_ANY) ? (roles & VQF_ROLE_ANY) : VQF_ROLE_ANY;
    m->max_ops = max_ops > VQF_PROG_MAX_OPS ? VQF_PROG_MAX_OPS : max_ops;
    for (int pass = 0; pass < 2; pass++) { /* pass 1: the mask left nothing, ignore it */
        m->nkinds = 0;
        for (unsigned k = 0; k < VQF_OP_COUNT; k++)
            if ((vqf_op_table[k].roles & m->roles) && (pass || k >= 64 || ((op_mask >> k) & 1u)))
                m->kinds[m->nkinds++] = (uint8_t)k;
        if (m->nkinds)
            break;
    }
    if (p->nops > m->max_ops)
        p->nops = m->max_ops;
}

static void mutate_with(struct mctx *m)
{
    unsigned stack = one_in(m->r, 2) ? 1 : 1 + below(m->r, 4);
    for (unsigned i = 0; i < stack; i++) {
        /* An edit that cannot apply (delete from an empty program) draws again. */
        for (unsigned tries = 0; tries < 8; tries++)
            if (mutations[below(m->r, sizeof(mutations) / sizeof(mutations[0]))](m))
                break;
    }
    vqf_prog_canonicalize(m->p);
}

void vqf_mutate_program(struct vqf_program *p, uint64_t seed, unsigned roles, uint32_t max_ops)
{
    struct vqf_rng r = {seed};
    struct mctx m;
    init_ctx(&m, p, &r, roles, max_ops, vqf_mutator_op_mask);
    mutate_with(&m);
}

/* Below a header there is no structure to work on: flip bytes so the engine still moves. */
static size_t mutate_bytes(uint8_t *data, size_t size, size_t max_size, struct vqf_rng *r)
{
    if (size > max_size)
        size = max_size;
    if (size == 0) {
        if (max_size == 0)
            return 0;
        data[0] = (uint8_t)rnext(r);
        return 1;
    }
    data[below(r, (uint32_t)size)] ^= (uint8_t)(1u << below(r, 8));
    return size;
}

size_t vqf_mutate(uint8_t *data, size_t size, size_t max_size, uint64_t seed, unsigned roles)
{
    return vqf_mutate_masked(data, size, max_size, seed, roles, vqf_mutator_op_mask);
}

size_t vqf_mutate_masked(uint8_t *data, size_t size, size_t max_size, uint64_t seed, unsigned roles,
                         uint64_t op_mask)
{
    struct vqf_rng r = {seed};
    if (max_size < VQF_PROG_HEADER_SIZE)
        return mutate_bytes(data, size, max_size, &r);
    if (size > max_size)
        size = max_size;
    size_t room = (max_size - VQF_PROG_HEADER_SIZE) / VQF_PROG_OP_SIZE;
    uint32_t max_ops = room > VQF_PROG_MAX_OPS ? VQF_PROG_MAX_OPS : (uint32_t)room;

    struct vqf_program p;
    vqf_prog_decode(&p, data, size);
    struct mctx m;
    init_ctx(&m, &p, &r, roles, max_ops, op_mask);
    /* The bytes before mutation: a result equal to them would waste an execution (a swap
     * of equal ops, a tweak to the value already there), so mutate again. A copy is cheaper
     * than a canonical re-encoding, and the corpus holds canonical inputs anyway. */
    uint8_t orig[VQF_PROG_MAX_SIZE];
    size_t orig_len = size < sizeof(orig) ? size : sizeof(orig);
    if (orig_len)
        memcpy(orig, data, orig_len);
    size_t out = 0;
    for (unsigned attempt = 0; attempt < 4; attempt++) {
        mutate_with(&m);
        out = vqf_prog_encode(&p, data, max_size);
        if (out != orig_len || memcmp(data, orig, out) != 0)
            break;
    }
    return out;
}

size_t vqf_crossover(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out, size_t max_out,
                     uint64_t seed)
{
    if (max_out < VQF_PROG_HEADER_SIZE)
        return 0;
    struct vqf_rng r = {seed};
    size_t room = (max_out - VQF_PROG_HEADER_SIZE) / VQF_PROG_OP_SIZE;
    uint32_t max_ops = room > VQF_PROG_MAX_OPS ? VQF_PROG_MAX_OPS : (uint32_t)room;
    struct vqf_program a, b, c;
    vqf_prog_decode(&a, d1, s1);
    vqf_prog_decode(&b, d2, s2);
    c.h = one_in(&r, 4) ? b.h : a.h;
    c.nops = 0;
    switch (below(&r, 3)) {
    case 0: { /* a's head, b's tail */
        uint32_t i = below(&r, a.nops + 1), j = below(&r, b.nops + 1);
        for (uint32_t k = 0; k < i && c.nops < max_ops; k++)
            c.ops[c.nops++] = a.ops[k];
        for (uint32_t k = j; k < b.nops && c.nops < max_ops; k++)
            c.ops[c.nops++] = b.ops[k];
        break;
    }
    case 1: { /* a run of b inserted into a */
        uint32_t i = below(&r, a.nops + 1), j = below(&r, b.nops + 1);
        uint32_t n = b.nops - j;
        if (n > 16)
            n = 1 + below(&r, 16);
        for (uint32_t k = 0; k < i && c.nops < max_ops; k++)
            c.ops[c.nops++] = a.ops[k];
        for (uint32_t k = j; k < j + n && c.nops < max_ops; k++)
            c.ops[c.nops++] = b.ops[k];
        for (uint32_t k = i; k < a.nops && c.nops < max_ops; k++)
            c.ops[c.nops++] = a.ops[k];
        break;
    }
    default: { /* interleave runs of both: two workloads in flight at once */
        uint32_t i = 0, j = 0;
        while ((i < a.nops || j < b.nops) && c.nops < max_ops) {
            uint32_t n = 1 + below(&r, 4);
            const struct vqf_program *src = (j >= b.nops || (i < a.nops && one_in(&r, 2))) ? &a : &b;
            uint32_t *at = src == &a ? &i : &j;
            for (; n && *at < src->nops && c.nops < max_ops; n--)
                c.ops[c.nops++] = src->ops[(*at)++];
        }
        break;
    }
    }
    return vqf_prog_encode(&c, out, max_out);
}
