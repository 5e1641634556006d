/* Device half of the packed ring facing a lying driver (spec 2.8): every validation path of
 * vqf_packed_dev_init / vqf_packed_dev_pop, one test each, with the clause it enforces. The
 * driver side is played by raw descriptor writes through vqf_dma_write. */
#include "tests/packed/fixture.h"

/* Device-only fixture: memory and the device half, ring zeroed as a driver would (2.8.13). */
static void dev_only(struct fx *f, uint16_t size, uint64_t features)
{
    fx_mem(f, size, features, (uint64_t)4 << 20, 1u << 20);
    CHECK_EQ(vqf_packed_dev_init(&f->dev, &f->vdma, &f->cfg), 0);
}

/* After an error the half is broken: every later call refuses (split.h contract). */
static void check_broken(struct fx *f)
{
    CHECK(f->dev.broken);
    CHECK_EQ(vqf_packed_dev_pop(&f->dev, &f->c), -VQF_ERR_NOT_READY);
    CHECK_EQ(vqf_packed_dev_push(&f->dev, &f->c, 0), -VQF_ERR_NOT_READY);
    CHECK(!vqf_packed_dev_pending(&f->dev));
}

/* Spec 2.8 / D-01 queue size 1..2^15, 2.8.10.1 alignment (PACK-LAY-01), RSVD-05 ring parts
 * in guest memory. */
static void test_init_errors(void)
{
    struct fx f;
    fx_mem(&f, 8, 0, 1 << 20, 4096);
    struct vqf_ring_cfg cfg = f.cfg;
    cfg.size = 0;
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_INVAL);
    cfg.size = 32769;
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_INVAL);
    cfg = f.cfg;
    cfg.desc += 8; /* descriptor ring must be 16-aligned */
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_INVAL);
    cfg = f.cfg;
    cfg.driver += 2; /* event areas 4-aligned */
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_INVAL);
    cfg = f.cfg;
    cfg.desc = FX_HOLE;
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_ADDR);
    cfg = f.cfg;
    cfg.desc = FX_MAIN_BASE + (1 << 20) - 64; /* 8 slots = 128 bytes straddle the region end */
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_ADDR);
    cfg = f.cfg;
    cfg.device = FX_HOLE;
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_ADDR);
    cfg = f.cfg;
    cfg.driver = 0xffffffffffff0000ull + 0xf000; /* just past the top region */
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), -VQF_ERR_ADDR);
    CHECK(!f.dev.ready);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_NOT_READY);
    /* A size that is not a power of two is fine for packed (2.8.10.1). */
    cfg = f.cfg;
    cfg.size = 7;
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &cfg), 0);
    fx_fini(&f);
}

/* 2.8.1 / PACK-DSC-03: available only when AVAIL == wrap and USED != wrap. */
static void test_availability(void)
{
    struct fx f;
    dev_only(&f, 4, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 0); /* zeroed ring: nothing */
    fx_raw(&f, 0, f.buf, 16, 0, VIRTQ_DESC_F_USED); /* lap-0 pattern, not for wrap 1 */
    CHECK(!vqf_packed_dev_pending(&f.dev));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 0);
    fx_raw_flags(&f, 0, VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED); /* looks used, not available */
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 0);
    fx_raw_flags(&f, 0, VIRTQ_DESC_F_AVAIL);
    CHECK(vqf_packed_dev_pending(&f.dev));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.id, 0);
    CHECK_EQ(f.c.ndesc, 1);
    CHECK_EQ(f.c.nseg, 1);
    CHECK_EQ(f.c.out_len, 16);
    CHECK(!f.dev.broken);
    fx_fini(&f);
}

/* PACK-SG-02: a NEXT list never exceeds the queue size, so a ring full of NEXT is a loop. */
static void test_chain_loop(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    for (uint16_t s = 7; s < 8; s--) /* tail first, like an honest driver */
        fx_raw(&f, s, f.buf, 16, s, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_CHAIN_LOOP);
    check_broken(&f);
    fx_fini(&f);
}

/* PACK-SG-06: every later element of a list is available when the head is. A NEXT leading to
 * a slot that is not available is rejected, not waited for or read. */
static void test_partial_list(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_raw(&f, 1, f.buf, 16, 1, 0); /* never published */
    fx_raw(&f, 0, f.buf, 16, 0, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_NEXT_RANGE);
    check_broken(&f);
    fx_fini(&f);
}

/* A list crossing the end of the ring continues at slot 0 with the toggled wrap counter
 * (2.8.1); the tail there must carry the lap-0 pattern, the lap-1 pattern is not available. */
static void test_list_wrap_counter(void)
{
    struct fx f;
    dev_only(&f, 2, 0);
    /* consume slot 0 first so the next list starts at slot 1 */
    fx_raw(&f, 0, f.buf, 8, 0, fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 0), 0);
    vqf_packed_dev_publish(&f.dev);
    fx_raw(&f, 0, f.buf + 64, 8, 1, fx_avail(false)); /* tail in lap 1: wrap 0 */
    fx_raw(&f, 1, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.slot, 1);
    CHECK_EQ(f.c.ndesc, 2);
    CHECK_EQ(f.c.id, 1);
    CHECK_EQ(f.seg[1].addr, f.buf + 64);
    CHECK_EQ(f.dev.next_avail, 1);
    CHECK(!f.dev.avail_wrap);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 0), 0);
    vqf_packed_dev_publish(&f.dev);
    fx_fini(&f);

    dev_only(&f, 2, 0);
    fx_raw(&f, 0, f.buf, 8, 0, fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 0), 0);
    vqf_packed_dev_publish(&f.dev);
    fx_raw(&f, 0, f.buf + 64, 8, 1, fx_avail(true)); /* wrong lap for slot 0 now */
    fx_raw(&f, 1, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_NEXT_RANGE);
    fx_fini(&f);
}

/* 2.8.17 / D-05 analogue of SPLIT-DSC-05: the total length of a list stays below 2^32. Every
 * element is inside guest memory; only their sum overflows. */
static void test_chain_len(void)
{
    struct fx f;
    const uint16_t n = 2048;
    const uint32_t blen = 2u << 20; /* 2048 * 2 MiB = 2^32 */
    fx_mem(&f, n, 0, (uint64_t)4 << 20, blen);
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    for (uint16_t s = n; s-- > 0;)
        fx_raw(&f, s, f.buf, blen, 7, (s + 1 < n ? VIRTQ_DESC_F_NEXT : 0) | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_CHAIN_LEN);
    check_broken(&f);
    fx_fini(&f);
    /* one element less is fine: 2^32 - 2 MiB */
    fx_mem(&f, n, 0, (uint64_t)4 << 20, blen);
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    for (uint16_t s = n - 1; s-- > 0;)
        fx_raw(&f, s, f.buf, blen, 7, (s + 2 < n ? VIRTQ_DESC_F_NEXT : 0) | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.nseg, n - 1);
    CHECK_EQ(f.c.out_len, (uint32_t)((uint64_t)(n - 1) * blen));
    fx_fini(&f);
}

/* Publish one indirect descriptor at slot 0 pointing at table t of len bytes. */
static void publish_indirect(struct fx *f, uint64_t t, uint32_t len, uint16_t extra_flags)
{
    fx_raw(f, 0, t, len, 3, VIRTQ_DESC_F_INDIRECT | extra_flags | fx_avail(true));
}

/* D-05 / 2.8.7: an indirect table holds len/16 entries; len 0 or not a multiple of 16 is
 * rejected. */
static void test_ind_len(void)
{
    static const uint32_t bad[] = {0, 8, 24, 33};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fx f;
        dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
        fx_ind_entry(&f, f.cfg.ind_pool, 0, f.buf, 8, 0, 0);
        fx_ind_entry(&f, f.cfg.ind_pool, 1, f.buf, 8, 0, 0);
        fx_ind_entry(&f, f.cfg.ind_pool, 2, f.buf, 8, 0, 0);
        publish_indirect(&f, f.cfg.ind_pool, bad[i], 0);
        CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_IND_LEN);
        check_broken(&f);
        fx_fini(&f);
    }
}

/* PACK-IND-03 / 2.8.17: an indirect table larger than the queue size is refused. */
static void test_ind_too_long(void)
{
    struct fx f;
    dev_only(&f, 4, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    for (unsigned i = 0; i < 5; i++)
        fx_ind_entry(&f, f.cfg.ind_pool, i, f.buf, 8, 0, 0);
    publish_indirect(&f, f.cfg.ind_pool, 5 * 16, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_CHAIN_LOOP);
    fx_fini(&f);
}

/* 2.8.7 (D-11): INDIRECT inside a table would be a second level; refused as nested. */
static void test_ind_nested(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_ind_entry(&f, f.cfg.ind_pool, 0, f.buf, 8, 0, 0);
    fx_ind_entry(&f, f.cfg.ind_pool, 1, f.cfg.ind_pool, 32, 0, VIRTQ_DESC_F_INDIRECT);
    publish_indirect(&f, f.cfg.ind_pool, 32, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_IND_NESTED);
    check_broken(&f);
    fx_fini(&f);
}

/* PACK-IND-04: no INDIRECT together with NEXT, and no INDIRECT element inside a NEXT list
 * (D-10: a list is all-direct or a single indirect). */
static void test_ind_next(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_ind_entry(&f, f.cfg.ind_pool, 0, f.buf, 8, 0, 0);
    fx_raw(&f, 1, f.buf, 8, 1, fx_avail(true));
    publish_indirect(&f, f.cfg.ind_pool, 16, VIRTQ_DESC_F_NEXT);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_IND_NEXT);
    check_broken(&f);
    fx_fini(&f);

    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_ind_entry(&f, f.cfg.ind_pool, 0, f.buf, 8, 0, 0);
    fx_raw(&f, 1, f.cfg.ind_pool, 16, 1, VIRTQ_DESC_F_INDIRECT | fx_avail(true));
    fx_raw(&f, 0, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_IND_NEXT);
    fx_fini(&f);
}

/* PACK-IND-01: INDIRECT only with VIRTIO_F_INDIRECT_DESC negotiated. */
static void test_ind_feature(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_ind_entry(&f, f.cfg.ind_pool, 0, f.buf, 8, 0, 0);
    publish_indirect(&f, f.cfg.ind_pool, 16, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_IND_FEATURE);
    check_broken(&f);
    fx_fini(&f);
}

/* RSVD-05: an indirect table outside guest memory. */
static void test_ind_addr(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    publish_indirect(&f, FX_HOLE, 32, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_ADDR);
    check_broken(&f);
    fx_fini(&f);
}

/* 2.8.7 / D-11: in table entries only WRITE counts; NEXT, AVAIL, USED and the Buffer ID are
 * reserved and ignored (PACK-IND-02 is the driver's rule, not a reason to refuse). WRITE on
 * the INDIRECT descriptor itself is reserved and ignored too. */
static void test_ind_ignored_bits(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    uint64_t t = f.cfg.ind_pool;
    fx_ind_entry(&f, t, 0, f.buf, 10, 0x1234, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL);
    fx_ind_entry(&f, t, 1, f.buf + 100, 20, 0xffff, VIRTQ_DESC_F_USED);
    fx_ind_entry(&f, t, 2, f.buf + 200, 30, 7, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_USED);
    publish_indirect(&f, t, 48, VIRTQ_DESC_F_WRITE);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.id, 3); /* from the ring descriptor, not the table */
    CHECK_EQ(f.c.ndesc, 1);
    CHECK_EQ(f.c.nseg, 3);
    CHECK_EQ(f.c.nout, 2);
    CHECK_EQ(f.c.nin, 1);
    CHECK_EQ(f.c.out_len, 30);
    CHECK_EQ(f.c.in_len, 30);
    CHECK_EQ(f.seg[0].addr, f.buf);
    CHECK_EQ(f.seg[1].addr, f.buf + 100);
    CHECK_EQ(f.seg[2].write, 1);
    CHECK(!f.dev.broken);
    fx_fini(&f);
}

/* PACK-SG-03: device-writable elements come after the readable ones, in a direct list and
 * inside an indirect table. */
static void test_write_order(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_raw(&f, 1, f.buf + 64, 8, 1, fx_avail(true));
    fx_raw(&f, 0, f.buf, 8, 0xffff, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_WRITE_ORDER);
    check_broken(&f);
    fx_fini(&f);

    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_ind_entry(&f, f.cfg.ind_pool, 0, f.buf, 8, 0, VIRTQ_DESC_F_WRITE);
    fx_ind_entry(&f, f.cfg.ind_pool, 1, f.buf + 64, 8, 0, 0);
    publish_indirect(&f, f.cfg.ind_pool, 32, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_WRITE_ORDER);
    fx_fini(&f);
}

/* PACK-SG-01 / PACK-SG-08: the device may limit the elements per list (cfg.max_segs, and
 * the caller's seg_cap). */
static void test_chain_cap(void)
{
    struct fx f;
    fx_mem(&f, 8, 0, 1 << 20, 4096);
    f.cfg.max_segs = 2;
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    fx_raw(&f, 2, f.buf, 8, 0, fx_avail(true));
    fx_raw(&f, 1, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    fx_raw(&f, 0, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_CHAIN_CAP);
    check_broken(&f);
    fx_fini(&f);

    dev_only(&f, 8, 0);
    fx_raw(&f, 1, f.buf, 8, 0, fx_avail(true));
    fx_raw(&f, 0, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    f.c.seg_cap = 1;
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_CHAIN_CAP);
    fx_fini(&f);

    dev_only(&f, 8, 0); /* exactly the cap is fine */
    fx_raw(&f, 1, f.buf, 8, 0, fx_avail(true));
    fx_raw(&f, 0, f.buf, 8, 0xffff, VIRTQ_DESC_F_NEXT | fx_avail(true));
    f.c.seg_cap = 2;
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    fx_fini(&f);
}

/* RSVD-05: buffers lie inside guest memory - not in a hole, not across a region end, not
 * wrapping past 2^64. */
static void test_buffer_addr(void)
{
    const uint64_t top = 0xffffffffffff0000ull;
    const struct {
        uint64_t addr;
        uint32_t len;
    } bad[] = {{FX_HOLE, 8}, {FX_MAIN_BASE + (4 << 20) - 4, 8}, {top + 0xf000 - 8, 16}, {0xfffffffffffffff8ull, 16}};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fx f;
        dev_only(&f, 8, 0);
        fx_raw(&f, 0, bad[i].addr, bad[i].len, 0, fx_avail(true));
        CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_ADDR);
        check_broken(&f);
        fx_fini(&f);
    }
}

/* D-10: the Buffer ID is below the queue size and not already outstanding. */
static void test_packed_id(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_raw(&f, 0, f.buf, 8, 8, fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_PACKED_ID);
    check_broken(&f);
    fx_fini(&f);

    dev_only(&f, 8, 0);
    fx_raw(&f, 0, f.buf, 8, 5, fx_avail(true));
    fx_raw(&f, 1, f.buf, 8, 5, fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.id, 5);
    struct vqf_chain c2 = f.c;
    struct vqf_seg s2[4];
    c2.seg = s2;
    c2.seg_cap = 4;
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &c2), -VQF_ERR_PACKED_ID); /* 5 is still outstanding */
    fx_fini(&f);

    /* once used, the id may come back */
    dev_only(&f, 8, 0);
    fx_raw(&f, 0, f.buf, 8, 5, fx_avail(true));
    fx_raw(&f, 1, f.buf, 8, 5, fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 0), 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.id, 5);
    fx_fini(&f);
}

/* D-10 / 2.8.6: the id of a list is in its last descriptor; the others' ids are ignored. */
static void test_id_from_last(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_raw(&f, 2, f.buf + 32, 8, 6, VIRTQ_DESC_F_WRITE | fx_avail(true));
    fx_raw(&f, 1, f.buf + 16, 8, 0xfff0, VIRTQ_DESC_F_NEXT | fx_avail(true));
    fx_raw(&f, 0, f.buf, 8, 0x8000, VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.id, 6);
    CHECK_EQ(f.c.ndesc, 3);
    CHECK_EQ(f.c.nout, 2);
    CHECK_EQ(f.c.nin, 1);
    CHECK_EQ(f.dev.next_avail, 3);
    fx_fini(&f);
}

/* D-02 / PACK-DSC-05: at most queue-size slots are device-owned. A driver that re-publishes
 * a slot the device has not marked used yet makes more available than the ring holds. */
static void test_avail_jump(void)
{
    struct fx f;
    dev_only(&f, 2, 0);
    fx_raw(&f, 0, f.buf, 8, 0, fx_avail(true));
    fx_raw(&f, 1, f.buf, 8, 1, fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    fx_raw(&f, 0, f.buf, 8, 0, fx_avail(false)); /* lap 1 on a slot still in flight */
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_AVAIL_JUMP);
    check_broken(&f);
    fx_fini(&f);
}

/* Push refuses a chain the device does not hold, without breaking the queue. */
static void test_push_inval(void)
{
    struct fx f;
    dev_only(&f, 4, 0);
    struct vqf_chain c = {0};
    c.id = 1;
    c.ndesc = 1;
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c, 0), -VQF_ERR_INVAL);
    c.id = 9;
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c, 0), -VQF_ERR_INVAL);
    /* more bytes than the buffer can hold (D-04 from the device's own side) */
    fx_raw(&f, 0, f.buf, 8, 0, VIRTQ_DESC_F_WRITE | fx_avail(true));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 9), -VQF_ERR_INVAL);
    CHECK(!f.dev.broken);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 8), 0);
    fx_fini(&f);
}

int main(void)
{
    test_init_errors();
    test_availability();
    test_chain_loop();
    test_partial_list();
    test_list_wrap_counter();
    test_chain_len();
    test_ind_len();
    test_ind_too_long();
    test_ind_nested();
    test_ind_next();
    test_ind_feature();
    test_ind_addr();
    test_ind_ignored_bits();
    test_write_order();
    test_chain_cap();
    test_buffer_addr();
    test_packed_id();
    test_id_from_last();
    test_avail_jump();
    test_push_inval();
    return check_report("test_packed_dev");
}
