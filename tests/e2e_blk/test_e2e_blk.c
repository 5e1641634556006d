/* End to end: the reference virtio-blk (spec 5.2) and virtio-rng (spec 5.4) devices and drivers
 * in an honest pair world, over split (2.7) and packed (2.8) rings.
 *
 * Usage: e2e_blk_split_none blk|rng split|packed SCENARIO  (one executable; ctest runs it once per
 *        combination, as e2e_<dev>_<format>_<scenario>)
 *   workload scenarios (the ring feature under test): none, indirect, event_idx, in_order,
 *     notif_data, mq (blk only): a random workload runs to completion with every byte checked
 *     by the driver (blk: read-back against its shadow; rng: 1 <= len <= buffer, RNG-03);
 *   ro:          a device offering RO refuses writes and keeps its data (BLK-27);
 *   limits:      requests the driver may not make are not made (BLK-01, BLK-10, RO);
 *   reset:       device reset in mid-traffic, then the workload goes on (3.1, 3.3);
 *   queue_reset: queue reset in mid-traffic (2.6.1, VIRTIO_F_RING_RESET);
 *   lying:       the test forges a used id, used lens (too large; impossible for the request),
 *                and sets DEVICE_NEEDS_RESET: the driver trusts none of it, resets the device
 *                and goes on (D-03, D-04, D-15, RNG-03, 2.1.2, 3.3.1);
 *   raw:         the test plays the driver and puts malformed requests in the ring: the device
 *                answers IOERR/UNSUPP or sets DEVICE_NEEDS_RESET (2.1.2, D-15, 5.2.6.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/devices/blk_internal.h"
#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "emulator/pair.h"
#include "emulator/transport/vdrv.h"
#include "tests/check.h"

#define MEM_SIZE (4u << 20)
#define BLK_BASE_FEATURES                                                                        \
    (VQF_BIT(VIRTIO_F_VERSION_1) | VQF_BIT(VIRTIO_BLK_F_SEG_MAX) | VQF_BIT(VIRTIO_BLK_F_SIZE_MAX) | \
     VQF_BIT(VIRTIO_BLK_F_BLK_SIZE) | VQF_BIT(VIRTIO_BLK_F_FLUSH) | VQF_BIT(VIRTIO_BLK_F_DISCARD) |  \
     VQF_BIT(VIRTIO_BLK_F_WRITE_ZEROES))
#define SECTOR VIRTIO_BLK_SECTOR_SIZE

static uint64_t rng_state = 0x0123456789abcdefull;
static uint64_t rnd(void) /* xorshift64*, fixed seed: the run is deterministic */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

struct env {
    struct vqf_pair p;
    bool is_blk;
    bool packed;
    uint64_t completed;
    uint64_t submitted;
    unsigned expect_errors; /* data errors the test caused on purpose */
};

/* One device poll, then the interrupt (if raised) to the driver. Returns work + completions. */
static int step(struct env *e, unsigned budget)
{
    struct vqf_pair *p = &e->p;
    int work = p->dev_ad->poll(p->dev, budget);
    if (p->irq_line && p->drv) {
        p->irq_line = false;
        int done = p->drv_ad->interrupt(p->drv);
        if (done > 0) {
            e->completed += (unsigned)done;
            work += done;
        }
    }
    return work;
}

/* Run until the driver has nothing in flight. */
static bool drain(struct env *e)
{
    for (int i = 0; i < 100000; i++) {
        if (e->p.drv_ad->inflight(e->p.drv) == 0 && !e->p.irq_line)
            return true;
        step(e, 1 + (unsigned)(rnd() % 16));
    }
    return false;
}

static uint32_t status_reg(struct env *e)
{
    return e->p.dev_ad->mmio_read(e->p.dev, VIRTIO_MMIO_STATUS, 4);
}

/* The device's transport state. Both reference devices start with their struct vqf_vdev
 * (blk_internal.h shows it for blk; rng follows the same layout). */
static struct vqf_vdev *vdev_of(struct env *e)
{
    return (struct vqf_vdev *)e->p.dev;
}

static uint64_t variant_features(const char *v, uint32_t *drv_flags)
{
    *drv_flags = 0;
    if (!strcmp(v, "indirect")) {
        *drv_flags = VQF_DRV_F_INDIRECT;
        return VQF_BIT(VIRTIO_F_INDIRECT_DESC);
    }
    if (!strcmp(v, "event_idx"))
        return VQF_BIT(VIRTIO_F_EVENT_IDX);
    if (!strcmp(v, "in_order"))
        return VQF_BIT(VIRTIO_F_IN_ORDER);
    if (!strcmp(v, "notif_data"))
        return VQF_BIT(VIRTIO_F_NOTIFICATION_DATA);
    if (!strcmp(v, "mq"))
        return VQF_BIT(VIRTIO_BLK_F_MQ);
    return 0;
}

static int env_init(struct env *e, bool is_blk, bool packed, uint64_t dev_feat, uint64_t drv_feat,
                    uint32_t drv_flags, bool with_driver)
{
    memset(e, 0, sizeof(*e));
    e->is_blk = is_blk;
    e->packed = packed;
    uint64_t fmt = packed ? VQF_BIT(VIRTIO_F_RING_PACKED) : 0;
    struct vqf_device_params dp = {{dev_feat | fmt | VQF_BIT(VIRTIO_F_VERSION_1), 0}, 0, 0, 0x5eed, 0};
    /* Packed rings take any size (2.8); an odd one catches index arithmetic that assumes 2^n. */
    struct vqf_driver_params rp = {{drv_feat, 0}, (uint16_t)(packed ? 13 : 16), 0, 0xd00d, drv_flags};
    const struct vqf_device_adapter *dev = is_blk ? &vqf_blk_device : &vqf_rng_device;
    const struct vqf_driver_adapter *drv = is_blk ? &vqf_blk_driver : &vqf_rng_driver;
    if (vqf_pair_init(&e->p, MEM_SIZE, dev, &dp, with_driver ? drv : NULL, &rp) != 0)
        return -1;
    if (with_driver && e->p.drv_ad->probe(e->p.drv) != 0)
        return -1;
    return 0;
}

static struct vqf_workload_op gen_op(const struct env *e)
{
    struct vqf_workload_op op = {0};
    uint64_t r = rnd();
    if (e->is_blk) {
        unsigned k = (unsigned)(r % 100);
        op.kind = k < 35 ? 0 : k < 65 ? 1 : k < 70 ? 2 : k < 80 ? 3 : k < 90 ? 4 : 5;
        op.arg0 = (uint32_t)(rnd() % 64);
        op.arg1 = 1 + (uint32_t)(rnd() % 8);
    } else {
        op.arg0 = 1 + (uint32_t)(rnd() % 300);
    }
    op.queue = (uint32_t)(rnd() % 8);
    op.seed = rnd();
    return op;
}

/* Submit one op, letting the device run while the driver has no room. 0 or the submit error. */
static int submit(struct env *e, const struct vqf_workload_op *op)
{
    for (int tries = 0; tries < 10000; tries++) {
        int rc = e->p.drv_ad->submit(e->p.drv, op);
        if (rc == 0) {
            e->submitted++;
            return 0;
        }
        if (rc < 0)
            return rc;
        step(e, 4);
    }
    return 1;
}

/* n random ops with the device running at random moments. Returns the number refused (<0). */
static unsigned workload(struct env *e, unsigned n)
{
    unsigned refused = 0;
    for (unsigned i = 0; i < n; i++) {
        struct vqf_workload_op op = gen_op(e);
        if (submit(e, &op) != 0)
            refused++;
        if (rnd() % 4 == 0)
            step(e, 1 + (unsigned)(rnd() % 8));
    }
    return refused;
}

static void check_clean(struct env *e, const char *what)
{
    CHECK(drain(e));
    CHECK_EQ(e->p.drv_ad->inflight(e->p.drv), 0);
    CHECK_EQ(e->p.drv_ad->data_errors(e->p.drv), e->expect_errors);
    CHECK_EQ(status_reg(e) & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED), 0);
    CHECK(status_reg(e) & VIRTIO_STATUS_DRIVER_OK);
    if (check_failed)
        fprintf(stderr, "  after %s: submitted %llu completed %llu\n", what, (unsigned long long)e->submitted,
                (unsigned long long)e->completed);
}

/* ---- blk: the driver's read-back check is real ---- */

/* Write [0, 8) through the driver, see the medium change (the write reached the device), then
 * damage one byte of the medium behind the driver's back: the next read must be flagged. */
static void blk_check_is_real(struct env *e)
{
    struct vqf_blk_dev *b = e->p.dev;
    static uint8_t before[8 * SECTOR], after[8 * SECTOR];
    CHECK(vqf_blk_dev_peek(b, 0, before, 8) == 0);
    struct vqf_workload_op w = {0, 0, 0, 8, 0xabcdef};
    CHECK(submit(e, &w) == 0);
    CHECK(drain(e));
    CHECK_EQ(e->p.drv_ad->data_errors(e->p.drv), e->expect_errors);
    CHECK(vqf_blk_dev_peek(b, 0, after, 8) == 0);
    CHECK(memcmp(before, after, sizeof(after)) != 0);
    after[3 * SECTOR + 7] ^= 0x40;
    CHECK(vqf_blk_dev_poke(b, 0, after, 8) == 0);
    struct vqf_workload_op r = {1, 0, 0, 8, 1};
    CHECK(submit(e, &r) == 0);
    CHECK(drain(e));
    CHECK_EQ(e->p.drv_ad->data_errors(e->p.drv), ++e->expect_errors);
}

/* BLK-32: a write-zeroes range reads back as zeroes on the medium itself. The driver maps an
 * op to sector arg0 % (span - n + 1) with n = arg1 sectors (span = 64 here). */
static void blk_check_write_zeroes(struct env *e)
{
    struct vqf_blk_dev *b = e->p.dev;
    struct vqf_workload_op w = {0, 0, 20, 6, 77};
    CHECK(submit(e, &w) == 0);
    CHECK(drain(e));
    struct vqf_workload_op z = {4, 0, 20, 6, 0};
    CHECK(submit(e, &z) == 0);
    CHECK(drain(e));
    static uint8_t buf[6 * SECTOR], zero[6 * SECTOR];
    CHECK(vqf_blk_dev_peek(b, 20, buf, 6) == 0);
    CHECK(memcmp(buf, zero, sizeof(buf)) == 0);
    struct vqf_workload_op r = {1, 0, 20, 6, 0};
    CHECK(submit(e, &r) == 0);
    CHECK(drain(e));
    CHECK_EQ(e->p.drv_ad->data_errors(e->p.drv), e->expect_errors);
}

/* VQF_DRV_F_INDIRECT with INDIRECT_DESC negotiated: the first request really goes through an
 * indirect table (2.7.5.3 / 2.8.19): the ring descriptor carries the INDIRECT flag. */
static void check_first_indirect(struct env *e)
{
    struct vqf_workload_op op = gen_op(e);
    op.kind = e->is_blk ? 1 : 0;
    op.queue = 0;
    CHECK(submit(e, &op) == 0);
    const struct vqf_vdev_queue *q = &vdev_of(e)->q[0];
    const uint8_t *d = vqf_mem_xlate(&e->p.mem, q->desc, 16);
    CHECK(d != NULL);
    if (d) {
        uint16_t flags = vqf_le16(d + (e->packed ? VIRTQ_PDESC_FLAGS : 12));
        CHECK(flags & VIRTQ_DESC_F_INDIRECT);
    }
    CHECK(drain(e));
}

static void scenario_workload(bool is_blk, bool packed, const char *variant)
{
    struct env e;
    uint32_t flags;
    uint64_t vf = variant_features(variant, &flags);
    uint64_t base = is_blk ? BLK_BASE_FEATURES : VQF_BIT(VIRTIO_F_VERSION_1);
    CHECK(env_init(&e, is_blk, packed, base | vf, 0, flags, true) == 0);
    CHECK(status_reg(&e) & VIRTIO_STATUS_DRIVER_OK);
    if (!strcmp(variant, "indirect"))
        check_first_indirect(&e);
    CHECK_EQ(workload(&e, 3000), 0);
    check_clean(&e, "workload");
    CHECK_EQ(e.completed, e.submitted);
    CHECK(e.submitted >= 3000);
    if (is_blk) {
        struct vqf_blk_dev *b = e.p.dev;
        /* Every request was one the device could serve: no IOERR, no UNSUPP, no failure. */
        CHECK(b->stats.ok > 3000);
        CHECK_EQ(b->stats.ioerr, 0);
        CHECK_EQ(b->stats.unsupp, 0);
        CHECK_EQ(b->stats.failed, 0);
        if (!strcmp(variant, "mq"))
            CHECK_EQ(vqf_le16(b->vdev.config + VIRTIO_BLK_CFG_NUM_QUEUES), VQF_BLK_DEFAULT_QUEUES);
        blk_check_write_zeroes(&e);
        blk_check_is_real(&e);
    }
    e.p.drv_ad->remove(e.p.drv);
    CHECK_EQ(status_reg(&e), 0); /* 3.3: removal resets the device */
    vqf_pair_destroy(&e.p);
}

/* BLK-27: RO offered, and a driver that (against BLK-11) does not accept it keeps writing. */
static void scenario_ro(bool packed)
{
    struct env e;
    uint64_t drv = ~VQF_BIT(VIRTIO_BLK_F_RO);
    CHECK(env_init(&e, true, packed, BLK_BASE_FEATURES | VQF_BIT(VIRTIO_BLK_F_RO), drv, 0, true) == 0);
    struct vqf_blk_dev *b = e.p.dev;
    static uint8_t before[64 * SECTOR], after[64 * SECTOR];
    CHECK(vqf_blk_dev_peek(b, 0, before, 64) == 0);
    /* Learn the disk, then write all over it; read-backs check that nothing changed. */
    for (uint32_t s = 0; s < 64; s += 8) {
        struct vqf_workload_op r = {1, 0, s, 8, 0};
        CHECK(submit(&e, &r) == 0);
    }
    CHECK(drain(&e));
    for (uint32_t i = 0; i < 200; i++) {
        struct vqf_workload_op w = {i % 3 == 0 ? 4u : 0u, 0, (uint32_t)(rnd() % 64), 1 + (uint32_t)(rnd() % 8), rnd()};
        CHECK(submit(&e, &w) == 0);
    }
    check_clean(&e, "ro writes");
    CHECK(vqf_blk_dev_peek(b, 0, after, 64) == 0);
    CHECK(memcmp(before, after, sizeof(after)) == 0);
    CHECK(b->stats.ioerr >= 200); /* every write and write-zeroes refused */
    vqf_pair_destroy(&e.p);

    /* A driver that accepts RO (BLK-11) does not even try. */
    CHECK(env_init(&e, true, packed, BLK_BASE_FEATURES | VQF_BIT(VIRTIO_BLK_F_RO), 0, 0, true) == 0);
    b = e.p.dev;
    struct vqf_workload_op w = {0, 0, 0, 1, 1};
    CHECK(e.p.drv_ad->submit(e.p.drv, &w) < 0);
    w.kind = 4;
    CHECK(e.p.drv_ad->submit(e.p.drv, &w) < 0);
    w.kind = 3;
    CHECK(e.p.drv_ad->submit(e.p.drv, &w) < 0);
    w.kind = 1;
    CHECK(e.p.drv_ad->submit(e.p.drv, &w) == 0);
    check_clean(&e, "ro accepted");
    CHECK_EQ(b->stats.ioerr, 0);
    vqf_pair_destroy(&e.p);
}

/* Requests the driver may not make are not made. */
static void scenario_limits(bool packed)
{
    struct env e;
    /* No FLUSH, DISCARD, WRITE_ZEROES offered (BLK-01: no flush without FLUSH; 5.2.6: the other
     * two only when negotiated). */
    uint64_t feat = VQF_BIT(VIRTIO_BLK_F_SEG_MAX) | VQF_BIT(VIRTIO_BLK_F_SIZE_MAX);
    CHECK(env_init(&e, true, packed, feat, 0, 0, true) == 0);
    struct vqf_blk_dev *b = e.p.dev;
    for (unsigned k = 2; k <= 4; k++) {
        struct vqf_workload_op op = {k, 0, 0, 1, 0};
        CHECK(e.p.drv_ad->submit(e.p.drv, &op) < 0);
    }
    CHECK(e.p.drv_ad->submit(e.p.drv, &(struct vqf_workload_op){9, 0, 0, 1, 0}) < 0);
    /* Sectors and sizes far past capacity are folded inside it (BLK-10) and stay multiples of
     * 512 (BLK-14): the device answers every one of them OK. */
    for (unsigned i = 0; i < 500; i++) {
        struct vqf_workload_op op = {(unsigned)(rnd() % 2), (uint32_t)rnd(), (uint32_t)rnd(), (uint32_t)rnd(), rnd()};
        CHECK(submit(&e, &op) == 0);
    }
    check_clean(&e, "limits");
    CHECK_EQ(b->stats.ioerr, 0);
    CHECK_EQ(b->stats.unsupp, 0);
    CHECK(b->stats.ok >= 500);
    vqf_pair_destroy(&e.p);

    /* A queue of 2 descriptors (2.7.5: a chain is never longer than the queue): a 3-descriptor
     * read or write is refused outright rather than waited for, a 2-descriptor flush goes. */
    memset(&e, 0, sizeof(e));
    e.is_blk = true;
    e.packed = packed;
    struct vqf_device_params dp = {{BLK_BASE_FEATURES | (packed ? VQF_BIT(VIRTIO_F_RING_PACKED) : 0), 0}, 0, 0, 1, 0};
    struct vqf_driver_params rp = {{0, 0}, 2, 0, 1, 0};
    CHECK(vqf_pair_init(&e.p, MEM_SIZE, &vqf_blk_device, &dp, &vqf_blk_driver, &rp) == 0);
    CHECK(e.p.drv_ad->probe(e.p.drv) == 0);
    CHECK(e.p.drv_ad->submit(e.p.drv, &(struct vqf_workload_op){0, 0, 0, 1, 0}) < 0);
    CHECK(e.p.drv_ad->submit(e.p.drv, &(struct vqf_workload_op){1, 0, 0, 1, 0}) < 0);
    CHECK(submit(&e, &(struct vqf_workload_op){2, 0, 0, 0, 0}) == 0);
    check_clean(&e, "tiny queue");
    b = e.p.dev;
    CHECK_EQ(b->stats.ok, 1);
    vqf_pair_destroy(&e.p);
}

/* Reset (3.1.1 again, via control) and queue reset (2.6.1) with requests in flight. */
static void scenario_reset(bool is_blk, bool packed, bool queue_reset)
{
    struct env e;
    uint64_t base = is_blk ? BLK_BASE_FEATURES | VQF_BIT(VIRTIO_BLK_F_MQ) : 0;
    CHECK(env_init(&e, is_blk, packed, base | VQF_BIT(VIRTIO_F_RING_RESET), 0, 0, true) == 0);
    for (unsigned round = 0; round < 20; round++) {
        /* Fill the rings without letting the device finish everything. */
        for (unsigned i = 0; i < 12; i++) {
            struct vqf_workload_op op = gen_op(&e);
            if (e.p.drv_ad->submit(e.p.drv, &op) == 0)
                e.submitted++;
        }
        step(&e, 3);
        unsigned before = e.p.drv_ad->inflight(e.p.drv);
        CHECK(before > 0);
        if (queue_reset) {
            uint32_t q = (uint32_t)(rnd() % 4);
            CHECK_EQ(e.p.drv_ad->control(e.p.drv, VQF_CTL_QUEUE_RESET, q), 0);
            CHECK(e.p.drv_ad->inflight(e.p.drv) <= before);
        } else {
            CHECK_EQ(e.p.drv_ad->control(e.p.drv, VQF_CTL_RESET, 0), 0);
            CHECK_EQ(e.p.drv_ad->inflight(e.p.drv), 0); /* everything in flight is gone */
        }
        CHECK(status_reg(&e) & VIRTIO_STATUS_DRIVER_OK);
        CHECK_EQ(workload(&e, 50), 0);
        check_clean(&e, queue_reset ? "queue reset" : "reset");
    }
    CHECK_EQ(e.p.drv_ad->control(e.p.drv, VQF_CTL_CONFIG, 0), 0);
    if (is_blk)
        blk_check_is_real(&e);
    vqf_pair_destroy(&e.p);
}

/* ---- lying: the test edits what the device wrote ---- */

/* Where queue 0's device half writes its next used entry: split, the used ring position;
 * packed, the descriptor slot (2.8.7: a used descriptor takes the place of its buffer's first). */
static uint16_t next_used_pos(struct env *e)
{
    struct vqf_vq_dev *vq = &vdev_of(e)->q[0].vq;
    return e->packed ? vq->u.packed.next_used : vq->u.split.used_published;
}

/* Overwrite the id or the len of the used entry at `pos` of queue 0. */
static void forge_used(struct env *e, uint16_t pos, bool len_field, uint32_t value)
{
    struct vqf_vq_dev *vq = &vdev_of(e)->q[0].vq;
    uint8_t *at;
    if (e->packed) {
        const struct vqf_packed_dev *q = &vq->u.packed;
        uint16_t slot = pos;
        at = vqf_mem_xlate(&e->p.mem, q->cfg.desc + (uint64_t)slot * 16 + (len_field ? VIRTQ_PDESC_LEN : VIRTQ_PDESC_ID),
                           4);
        CHECK(at != NULL);
        if (!at)
            return;
        if (len_field)
            vqf_put_le32(at, value);
        else
            vqf_put_le16(at, (uint16_t)value);
    } else {
        const struct vqf_split_dev *q = &vq->u.split;
        at = vqf_mem_xlate(&e->p.mem, q->cfg.device + VIRTQ_USED_RING(pos & (q->cfg.size - 1)) + (len_field ? 4 : 0), 4);
        CHECK(at != NULL);
        if (at)
            vqf_put_le32(at, value);
    }
}

/* Requests on queue 0, the device completes them, then `lie` spoils what it wrote. */
static void lie_once(struct env *e, int lie)
{
    for (unsigned i = 0; i < 4; i++) {
        struct vqf_workload_op op = gen_op(e);
        op.kind = e->is_blk ? 1 : 0;
        op.queue = 0;
        CHECK(submit(e, &op) == 0);
    }
    uint16_t first = next_used_pos(e);
    e->p.dev_ad->poll(e->p.dev, 64);
    CHECK(e->p.irq_line);
    if (lie == 0)
        forge_used(e, first, false, 0x7fff); /* D-03: an id that was never made available */
    else if (lie == 1)
        forge_used(e, first, true, 1u << 24); /* D-04: more bytes than the buffer holds */
    else if (lie == 2)
        /* Within the buffer, but not an answer the protocol allows (blk: neither data + 1 nor
         * a lone status byte, D-15; rng: no byte at all, RNG-03). The ring cannot tell; the
         * driver can, and resets before it reuses the buffer (3.3.1). */
        forge_used(e, first, true, e->is_blk ? 7 : 0);
    else
        vqf_vdev_set_needs_reset(vdev_of(e)); /* 2.1.2: the device asks for a reset */
    e->expect_errors += lie == 2; /* the driver counts the impossible answer */
    e->p.irq_line = false;
    uint64_t writes = e->p.mmio_writes;
    e->p.drv_ad->interrupt(e->p.drv);
    /* Recovered: a fresh initialisation (3.1.1 writes status, features, the queue registers:
     * far more than the one InterruptACK of a normal interrupt), nothing in flight, no error
     * status left over. */
    CHECK(e->p.mmio_writes - writes > 8);
    CHECK_EQ(e->p.drv_ad->inflight(e->p.drv), 0);
    CHECK(status_reg(e) & VIRTIO_STATUS_DRIVER_OK);
    CHECK_EQ(status_reg(e) & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED), 0);
    CHECK_EQ(workload(e, 200), 0);
    check_clean(e, "lie");
}

static void scenario_lying(bool is_blk, bool packed)
{
    struct env e;
    CHECK(env_init(&e, is_blk, packed, is_blk ? BLK_BASE_FEATURES : 0, 0, 0, true) == 0);
    for (int round = 0; round < 3; round++)
        for (int lie = 0; lie < 4; lie++)
            lie_once(&e, lie);
    if (is_blk)
        blk_check_is_real(&e);
    vqf_pair_destroy(&e.p);
}

/* ---- raw: the test is the driver ---- */

struct raw {
    struct env e;
    struct vqf_vdrv vd;
    uint64_t buf; /* guest scratch for requests */
};

static void raw_init(struct raw *r, bool is_blk, bool packed, uint64_t dev_feat)
{
    CHECK(env_init(&r->e, is_blk, packed, dev_feat, 0, 0, false) == 0);
    struct vqf_driver_platform plat = {vqf_mem_dma(&r->e.p.mem, VQF_SIDE_DRIVER), vqf_pair_mmio_read,
                                       vqf_pair_mmio_write, &r->e.p, vqf_pair_alloc, &r->e.p};
    CHECK(vqf_vdrv_init(&r->vd, &plat) == 0);
    r->buf = vqf_pair_alloc(&r->e.p, 64 * 1024, 64);
    CHECK(r->buf != 0);
}

static void raw_probe(struct raw *r, uint32_t id)
{
    uint64_t want[2] = {~0ull, 0};
    CHECK(vqf_vdrv_negotiate(&r->vd, id, want) == 0);
    CHECK(vqf_vdrv_setup_queue(&r->vd, 0, 16) == 0);
    vqf_vdrv_driver_ok(&r->vd);
    r->e.p.irq_line = false;
}

/* Post a chain on queue 0 and let the device run. Returns 1 with *len when a used entry came
 * back, 0 when none did. */
static int raw_io(struct raw *r, const struct vqf_seg *sg, unsigned nout, unsigned nin, uint32_t *len)
{
    struct vqf_vq_drv *vq = &r->vd.q[0].vq;
    CHECK(vqf_vq_drv_add(vq, sg, nout, nin, 7, 0) >= 0);
    vqf_vdrv_kick(&r->vd, 0);
    for (int i = 0; i < 8; i++)
        r->e.p.dev_ad->poll(r->e.p.dev, 16);
    uint32_t tok = 0;
    int rc = vqf_vq_drv_get_used(vq, &tok, len);
    CHECK(rc >= 0);
    if (rc == 1)
        CHECK_EQ(tok, 7);
    return rc;
}

static uint8_t peek8(struct raw *r, uint64_t gpa)
{
    const uint8_t *p = vqf_mem_xlate(&r->e.p.mem, gpa, 1);
    return p ? *p : 0xee;
}

static void put_hdr(struct raw *r, uint64_t gpa, uint32_t type, uint64_t sector)
{
    uint8_t h[16];
    vqf_put_le32(h, type);
    vqf_put_le32(h + 4, 0);
    vqf_put_le64(h + 8, sector);
    CHECK(vqf_dma_write(&r->vd.plat.dma, gpa, h, 16) == 0);
    CHECK(vqf_dma_write(&r->vd.plat.dma, gpa + 16, "\xff", 1) == 0); /* status poison */
}

/* The device must answer with `status` and used len `want_len`. */
static void expect_status(struct raw *r, const struct vqf_seg *sg, unsigned nout, unsigned nin, uint8_t status,
                          uint32_t want_len, uint64_t status_gpa)
{
    uint32_t len = 0;
    CHECK_EQ(raw_io(r, sg, nout, nin, &len), 1);
    CHECK_EQ(len, want_len);
    CHECK_EQ(peek8(r, status_gpa), status);
    CHECK_EQ(r->e.p.dev_ad->mmio_read(r->e.p.dev, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
}

/* The device must refuse the chain with DEVICE_NEEDS_RESET and a config interrupt (STATUS-07). */
static void expect_needs_reset(struct raw *r, const struct vqf_seg *sg, unsigned nout, unsigned nin, uint32_t id)
{
    uint32_t len = 0;
    CHECK_EQ(raw_io(r, sg, nout, nin, &len), 0);
    uint32_t st = r->e.p.dev_ad->mmio_read(r->e.p.dev, VIRTIO_MMIO_STATUS, 4);
    CHECK(st & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    CHECK(r->e.p.irq_line);
    CHECK(r->e.p.dev_ad->mmio_read(r->e.p.dev, VIRTIO_MMIO_INTERRUPT_STATUS, 4) & VIRTIO_MMIO_INT_CONFIG);
    raw_probe(r, id); /* and it works again after a reset */
}

static void scenario_raw_blk(bool packed)
{
    struct raw r;
    raw_init(&r, true, packed, BLK_BASE_FEATURES | VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    raw_probe(&r, VIRTIO_ID_BLOCK);
    struct vqf_blk_dev *b = r.e.p.dev;
    uint64_t h = r.buf, st = r.buf + 16, data = r.buf + 4096;
    static uint8_t disk[8 * SECTOR];
    uint8_t got[SECTOR];

    /* D-15: header shorter than 16 bytes, no status byte at all: NEEDS_RESET. */
    put_hdr(&r, h, VIRTIO_BLK_T_IN, 0);
    struct vqf_seg short_hdr[2] = {{h, 8, 0}, {st, 1, 1}};
    expect_needs_reset(&r, short_hdr, 1, 1, VIRTIO_ID_BLOCK);
    struct vqf_seg no_status[1] = {{h, 16, 0}};
    expect_needs_reset(&r, no_status, 1, 0, VIRTIO_ID_BLOCK);
    CHECK_EQ(b->stats.failed, 2);

    /* SPLIT-FRM-01: a header in three pieces, data and status in one writable buffer. */
    put_hdr(&r, h, VIRTIO_BLK_T_IN, 5);
    struct vqf_seg frag[4] = {{h, 5, 0}, {h + 5, 7, 0}, {h + 12, 4, 0}, {data, SECTOR + 1, 1}};
    CHECK(vqf_dma_write(&r.vd.plat.dma, data + SECTOR, "\xff", 1) == 0);
    expect_status(&r, frag, 3, 1, VIRTIO_BLK_S_OK, SECTOR + 1, data + SECTOR);
    CHECK(vqf_blk_dev_peek(b, 5, disk, 1) == 0);
    CHECK(vqf_dma_read(&r.vd.plat.dma, data, got, SECTOR) == 0);
    CHECK(memcmp(disk, got, SECTOR) == 0);

    /* 5.2.6: unknown type -> UNSUPP; read past capacity -> IOERR; data not a multiple of 512
     * -> IOERR (BLK-14 is the driver's, the device still answers). Used len 1 (D-15). */
    put_hdr(&r, h, 0xdead, 0);
    struct vqf_seg unk[2] = {{h, 16, 0}, {st, 1, 1}};
    expect_status(&r, unk, 1, 1, VIRTIO_BLK_S_UNSUPP, 1, st);
    put_hdr(&r, h, VIRTIO_BLK_T_IN, VQF_BLK_SECTORS - 1);
    struct vqf_seg past[3] = {{h, 16, 0}, {data, 2 * SECTOR, 1}, {st, 1, 1}};
    expect_status(&r, past, 1, 2, VIRTIO_BLK_S_IOERR, 1, st);
    put_hdr(&r, h, VIRTIO_BLK_T_IN, ~0ull);
    expect_status(&r, past, 1, 2, VIRTIO_BLK_S_IOERR, 1, st);
    put_hdr(&r, h, VIRTIO_BLK_T_OUT, 0);
    struct vqf_seg odd[3] = {{h, 16, 0}, {data, 100, 0}, {st, 1, 1}};
    expect_status(&r, odd, 2, 1, VIRTIO_BLK_S_IOERR, 1, st);

    /* GET_ID: 20 bytes, used len 21 (D-15); a 19-byte area is refused (BLK-16). */
    put_hdr(&r, h, VIRTIO_BLK_T_GET_ID, 0);
    struct vqf_seg id[3] = {{h, 16, 0}, {data, 20, 1}, {st, 1, 1}};
    expect_status(&r, id, 1, 2, VIRTIO_BLK_S_OK, 21, st);
    uint8_t idb[20];
    CHECK(vqf_dma_read(&r.vd.plat.dma, data, idb, 20) == 0);
    CHECK(memcmp(idb, b->id, 20) == 0);
    id[1].len = 19;
    expect_status(&r, id, 1, 2, VIRTIO_BLK_S_IOERR, 1, st);

    /* BLK-29: DISCARD with unmap -> UNSUPP. BLK-28: unknown flag bits -> UNSUPP. Neither
     * touches the medium. A segment past capacity -> IOERR. */
    CHECK(vqf_blk_dev_peek(b, 0, disk, 8) == 0);
    uint8_t seg[16];
    vqf_put_le64(seg, 0);
    vqf_put_le32(seg + 8, 8);
    vqf_put_le32(seg + 12, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
    CHECK(vqf_dma_write(&r.vd.plat.dma, data, seg, 16) == 0);
    put_hdr(&r, h, VIRTIO_BLK_T_DISCARD, 0);
    struct vqf_seg dz[3] = {{h, 16, 0}, {data, 16, 0}, {st, 1, 1}};
    expect_status(&r, dz, 2, 1, VIRTIO_BLK_S_UNSUPP, 1, st);
    vqf_put_le32(seg + 12, 4);
    CHECK(vqf_dma_write(&r.vd.plat.dma, data, seg, 16) == 0);
    put_hdr(&r, h, VIRTIO_BLK_T_WRITE_ZEROES, 0);
    expect_status(&r, dz, 2, 1, VIRTIO_BLK_S_UNSUPP, 1, st);
    static uint8_t now[8 * SECTOR];
    CHECK(vqf_blk_dev_peek(b, 0, now, 8) == 0);
    CHECK(memcmp(disk, now, sizeof(now)) == 0);
    vqf_put_le64(seg, VQF_BLK_SECTORS - 4);
    vqf_put_le32(seg + 12, 0);
    CHECK(vqf_dma_write(&r.vd.plat.dma, data, seg, 16) == 0);
    expect_status(&r, dz, 2, 1, VIRTIO_BLK_S_IOERR, 1, st);
    /* A valid write-zeroes with unmap (BLK-31 lets the device deallocate): zeroes (BLK-32). */
    vqf_put_le64(seg, 2);
    vqf_put_le32(seg + 8, 3);
    vqf_put_le32(seg + 12, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
    CHECK(vqf_dma_write(&r.vd.plat.dma, data, seg, 16) == 0);
    expect_status(&r, dz, 2, 1, VIRTIO_BLK_S_OK, 1, st);
    CHECK(vqf_blk_dev_peek(b, 2, now, 3) == 0);
    unsigned nz = 0;
    for (unsigned i = 0; i < 3 * SECTOR; i++)
        nz += now[i] != 0;
    CHECK_EQ(nz, 0);
    CHECK_EQ(b->stats.failed, 2);
    vqf_vdrv_destroy(&r.vd);
    vqf_pair_destroy(&r.e.p);

    /* BLK-27 at the request level: OUT to a device offering RO, nothing reaches the medium. */
    raw_init(&r, true, packed, BLK_BASE_FEATURES | VQF_BIT(VIRTIO_BLK_F_RO));
    raw_probe(&r, VIRTIO_ID_BLOCK);
    b = r.e.p.dev;
    CHECK(vqf_blk_dev_peek(b, 0, disk, 1) == 0);
    put_hdr(&r, h, VIRTIO_BLK_T_OUT, 0);
    struct vqf_seg wr[3] = {{h, 16, 0}, {data, SECTOR, 0}, {st, 1, 1}};
    expect_status(&r, wr, 2, 1, VIRTIO_BLK_S_IOERR, 1, st);
    CHECK(vqf_blk_dev_peek(b, 0, now, 1) == 0);
    CHECK(memcmp(disk, now, SECTOR) == 0);
    vqf_vdrv_destroy(&r.vd);
    vqf_pair_destroy(&r.e.p);
}

static void scenario_raw_rng(bool packed)
{
    struct raw r;
    raw_init(&r, false, packed, 0);
    raw_probe(&r, VIRTIO_ID_RNG);
    /* RNG-03: each buffer gets 1..size bytes, written from the start of the buffer. */
    uint8_t got[300], again[300];
    struct vqf_seg two[2] = {{r.buf, 100, 1}, {r.buf + 1000, 200, 1}};
    uint32_t len = 0;
    CHECK_EQ(raw_io(&r, two, 0, 2, &len), 1);
    CHECK(len >= 1 && len <= 300);
    CHECK(vqf_dma_read(&r.vd.plat.dma, r.buf, got, 100) == 0);
    CHECK(vqf_dma_read(&r.vd.plat.dma, r.buf + 1000, got + 100, 200) == 0);
    unsigned zero = 0;
    for (unsigned i = 0; i < len; i++)
        zero += got[i] == 0;
    CHECK(zero < len / 8 + 1); /* random bytes, not an untouched buffer */
    /* RNG-01 is the driver's: a readable descriptor leaves the device nothing to answer. */
    struct vqf_seg bad[2] = {{r.buf, 16, 0}, {r.buf + 16, 16, 1}};
    expect_needs_reset(&r, bad, 1, 1, VIRTIO_ID_RNG);
    vqf_vdrv_destroy(&r.vd);
    vqf_pair_destroy(&r.e.p);

    /* Same seed, same bytes: runs are reproducible. */
    raw_init(&r, false, packed, 0);
    raw_probe(&r, VIRTIO_ID_RNG);
    CHECK_EQ(raw_io(&r, two, 0, 2, &len), 1);
    CHECK(vqf_dma_read(&r.vd.plat.dma, r.buf, again, 100) == 0);
    CHECK(vqf_dma_read(&r.vd.plat.dma, r.buf + 1000, again + 100, 200) == 0);
    CHECK(memcmp(got, again, len) == 0);
    vqf_vdrv_destroy(&r.vd);
    vqf_pair_destroy(&r.e.p);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s blk|rng split|packed SCENARIO\n", argv[0]);
        return 2;
    }
    bool is_blk = !strcmp(argv[1], "blk");
    bool packed = !strcmp(argv[2], "packed");
    const char *s = argv[3];
    char name[96];
    snprintf(name, sizeof(name), "e2e %s %s %s", argv[1], argv[2], s);
    if (!strcmp(s, "ro") && is_blk)
        scenario_ro(packed);
    else if (!strcmp(s, "limits") && is_blk)
        scenario_limits(packed);
    else if (!strcmp(s, "reset"))
        scenario_reset(is_blk, packed, false);
    else if (!strcmp(s, "queue_reset"))
        scenario_reset(is_blk, packed, true);
    else if (!strcmp(s, "lying"))
        scenario_lying(is_blk, packed);
    else if (!strcmp(s, "raw"))
        is_blk ? scenario_raw_blk(packed) : scenario_raw_rng(packed);
    else
        scenario_workload(is_blk, packed, s);
    return check_report(name);
}
