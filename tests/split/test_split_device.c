/* Split ring device half (spec 2.7) facing a lying driver: every validation path of
 * vqf_split_dev_init / vqf_split_dev_pop, each with the section of the rule the driver
 * broke. The driver's writes go straight into guest memory (harness-side DMA), never
 * through the driver half. */
#include "tests/split/split_fx.h"

#define BUF FX_BUF_BASE
#define IND (FX_BUF_BASE + 0x10000) /* an indirect table written by hand */

/* Pop once and expect err; the queue is then broken (split.h, spec 2.1.2 NEEDS_RESET). */
static void expect_pop_err(struct fx *f, int err)
{
    CHECK_EQ(vqf_split_dev_pop(&f->dev, &f->chain), -err);
    CHECK(f->dev.broken);
    CHECK_EQ(vqf_split_dev_pop(&f->dev, &f->chain), -VQF_ERR_NOT_READY);
    CHECK_EQ(vqf_split_dev_push(&f->dev, &f->chain, 0), -VQF_ERR_NOT_READY);
}

static void dev_only(struct fx *f, uint16_t size, uint64_t features)
{
    fx_mem(f, size, features);
    CHECK_EQ(vqf_split_dev_init(&f->dev, &f->dev_dma, &f->cfg), 0);
}

/* 2.7 / D-01 and the 2.7 alignment table (SPLIT-LAY-01); RSVD-05 for the parts. */
static void test_init_checks(void)
{
    struct fx f;
    fx_mem(&f, 8, 0);
    f.cfg.size = 6; /* not a power of two */
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), -VQF_ERR_INVAL);
    f.cfg.size = 0;
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), -VQF_ERR_INVAL);
    fx_layout(&f, 8, 0);
    f.cfg.desc += 8; /* descriptor table must be 16-aligned */
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), -VQF_ERR_INVAL);
    fx_layout(&f, 8, 0);
    f.cfg.device += 2; /* used ring must be 4-aligned */
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), -VQF_ERR_INVAL);
    fx_layout(&f, 8, 0);
    f.cfg.desc = 0x20000000; /* in the hole between regions */
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), -VQF_ERR_ADDR);
    fx_layout(&f, 8, 0);
    /* The used ring (6 + 8*8 bytes) straddles the end of the main region. */
    f.cfg.device = FX_RING_BASE + FX_MEM_SIZE - 32;
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), -VQF_ERR_ADDR);
    CHECK(!f.dev.ready);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), -VQF_ERR_NOT_READY);
    fx_fini(&f);
}

/* D-05 (2.7.6): an avail entry is a descriptor index < queue size. */
static void test_head_range(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_avail(&f, 0, 8);
    expect_pop_err(&f, VQF_ERR_HEAD_RANGE);
    fx_fini(&f);
}

/* D-05 (2.7.5): next < queue size. */
static void test_next_range(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 8);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_NEXT_RANGE);
    fx_fini(&f);
}

/* SPLIT-DSC-05 (2.7.5.2): a looping chain is cut at queue-size hops, self loop and cycle. */
static void test_chain_loop(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_CHAIN_LOOP);
    fx_fini(&f);

    dev_only(&f, 4, 0);
    fx_put_desc(&f, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
    fx_put_desc(&f, 2, BUF, 16, VIRTQ_DESC_F_NEXT, 3);
    fx_put_desc(&f, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    fx_avail(&f, 0, 1);
    expect_pop_err(&f, VQF_ERR_CHAIN_LOOP);
    fx_fini(&f);

    /* A chain of exactly queue-size descriptors is legal (SPLIT-IND-03 bound, inclusive). */
    dev_only(&f, 4, 0);
    for (uint16_t i = 0; i < 4; i++)
        fx_put_desc(&f, i, BUF + 16u * i, 16, i < 3 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    fx_avail(&f, 0, 0);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(f.chain.nseg, 4);
    CHECK_EQ(f.chain.ndesc, 4);
    fx_fini(&f);
}

/* SPLIT-IND-03 (2.7.5.3.1): a loop inside an indirect table, and plain descriptors plus
 * table entries together exceeding the queue size. */
static void test_indirect_loop(void)
{
    struct fx f;
    dev_only(&f, 4, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc_at(&f, IND, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    fx_put_desc_at(&f, IND, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
    fx_put_desc(&f, 0, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_CHAIN_LOOP);
    fx_fini(&f);

    dev_only(&f, 4, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    fx_put_desc(&f, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
    for (uint16_t i = 0; i < 3; i++)
        fx_put_desc_at(&f, IND, i, BUF, 16, i < 2 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    fx_put_desc(&f, 2, IND, 48, VIRTQ_DESC_F_INDIRECT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_CHAIN_LOOP); /* 2 + 3 > 4 */
    fx_fini(&f);
}

/* SPLIT-DSC-05 (2.7.5.2): at most 2^32 bytes per chain. Three 1.5 GiB descriptors over one
 * large region: every buffer is valid memory, only the total is too long. */
static void test_chain_len(void)
{
    struct fx f;
    memset(&f, 0, sizeof(f));
    struct vqf_mem_layout l = {0};
    l.nregions = 1;
    l.r[0].gpa = 0x10000;
    l.r[0].size = 0x60000000ull;
    if (vqf_mem_init(&f.mem, &l) != 0) {
        fprintf(stderr, "skip test_chain_len: cannot map 1.5 GiB\n");
        return;
    }
    f.raw = vqf_mem_dma(&f.mem, VQF_SIDE_HARNESS);
    f.dev_dma = vqf_mem_dma(&f.mem, VQF_SIDE_DEVICE);
    fx_layout(&f, 4, 0);
    f.chain.seg = f.seg;
    f.chain.seg_cap = FX_MAX_SEGS;
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), 0);
    for (uint16_t i = 0; i < 3; i++)
        fx_put_desc(&f, i, 0x10000, 0x60000000u, i < 2 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_CHAIN_LEN);
    vqf_mem_destroy(&f.mem);

    /* Exactly 2^32 bytes in total (2^31 + 2^31 - 1 readable + 1 writable) is still legal. */
    l.r[0].size = 0x80000000ull;
    CHECK(vqf_mem_init(&f.mem, &l) == 0);
    f.raw = vqf_mem_dma(&f.mem, VQF_SIDE_HARNESS);
    f.dev_dma = vqf_mem_dma(&f.mem, VQF_SIDE_DEVICE);
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), 0);
    fx_put_desc(&f, 0, 0x10000, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
    fx_put_desc(&f, 1, 0x10000, 0x7fffffffu, VIRTQ_DESC_F_NEXT, 2);
    fx_put_desc(&f, 2, 0x10000, 1, VIRTQ_DESC_F_WRITE, 0);
    fx_avail(&f, 0, 0);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(f.chain.out_len, 0xffffffffu);
    CHECK_EQ(f.chain.in_len, 1);
    vqf_mem_destroy(&f.mem);
}

/* D-05 (2.7.5.3): indirect table len is a nonzero multiple of 16. */
static void test_ind_len(void)
{
    struct fx f;
    uint32_t bad[2] = {0, 24};
    for (int i = 0; i < 2; i++) {
        dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
        fx_put_desc(&f, 0, IND, bad[i], VIRTQ_DESC_F_INDIRECT, 0);
        fx_avail(&f, 0, 0);
        expect_pop_err(&f, VQF_ERR_IND_LEN);
        fx_fini(&f);
    }
}

/* SPLIT-IND-02 (2.7.5.3.1): no INDIRECT inside an indirect table. */
static void test_ind_nested(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc_at(&f, IND, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
    fx_put_desc(&f, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_IND_NESTED);
    fx_fini(&f);
}

/* SPLIT-IND-04 (2.7.5.3.1): never INDIRECT together with NEXT. */
static void test_ind_next(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc_at(&f, IND, 0, BUF, 16, 0, 0);
    fx_put_desc(&f, 0, IND, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    fx_put_desc(&f, 1, BUF, 16, 0, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_IND_NEXT);
    fx_fini(&f);
}

/* SPLIT-IND-01 (2.7.5.3.1): INDIRECT only if VIRTIO_F_INDIRECT_DESC was negotiated. */
static void test_ind_feature(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_put_desc_at(&f, IND, 0, BUF, 16, 0, 0);
    fx_put_desc(&f, 0, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_IND_FEATURE);
    fx_fini(&f);
}

/* D-05 (2.7.5.3): next inside an indirect table < len/16. */
static void test_ind_next_range(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc_at(&f, IND, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
    fx_put_desc_at(&f, IND, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 2); /* table has 2 entries */
    fx_put_desc(&f, 0, IND, 32, VIRTQ_DESC_F_INDIRECT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_NEXT_RANGE);
    fx_fini(&f);
}

/* SPLIT-FRM-03 (2.7.4.2): readable after writable, in the ring and inside a table. */
static void test_write_order(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    fx_put_desc(&f, 1, BUF + 64, 16, 0, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_WRITE_ORDER);
    fx_fini(&f);

    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    fx_put_desc(&f, 1, IND, 16, VIRTQ_DESC_F_INDIRECT, 0);
    fx_put_desc_at(&f, IND, 0, BUF + 64, 16, 0, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_WRITE_ORDER);
    fx_fini(&f);
}

/* RSVD-05 (6.1): every buffer and indirect table lies inside guest memory. */
static void test_buffer_addr(void)
{
    struct fx f;
    const uint64_t bad_addr[3] = {0x20000000ull, FX_RING_BASE + FX_MEM_SIZE - 8, 0xfffffffffffffff0ull};
    for (int i = 0; i < 3; i++) {
        dev_only(&f, 8, 0);
        fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
        fx_put_desc(&f, 1, bad_addr[i], 16, VIRTQ_DESC_F_WRITE, 0); /* hole, straddle, wrap */
        fx_avail(&f, 0, 0);
        expect_pop_err(&f, VQF_ERR_ADDR);
        fx_fini(&f);
    }
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc(&f, 0, 0x20000000ull, 32, VIRTQ_DESC_F_INDIRECT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_ADDR);
    fx_fini(&f);
}

/* SPLIT-FRM-02 (2.7.4.1) permits a segment cap: cfg.max_segs and the caller's seg_cap. A
 * chain at the cap passes. */
static void test_chain_cap(void)
{
    struct fx f;
    for (int which = 0; which < 2; which++) {
        fx_mem(&f, 8, 0);
        if (which == 0)
            f.cfg.max_segs = 2;
        else
            f.chain.seg_cap = 2;
        CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), 0);
        fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
        fx_put_desc(&f, 1, BUF, 16, 0, 0);
        fx_put_desc(&f, 2, BUF, 16, VIRTQ_DESC_F_NEXT, 3);
        fx_put_desc(&f, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 4);
        fx_put_desc(&f, 4, BUF, 16, 0, 0);
        fx_avail(&f, 0, 0);
        fx_avail(&f, 1, 2);
        CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
        CHECK_EQ(f.chain.nseg, 2);
        expect_pop_err(&f, VQF_ERR_CHAIN_CAP);
        fx_fini(&f);
    }
    /* A loop longer than the cap is still reported as a loop: the walk goes on unstored. */
    fx_mem(&f, 8, 0);
    f.chain.seg_cap = 2;
    CHECK_EQ(vqf_split_dev_init(&f.dev, &f.dev_dma, &f.cfg), 0);
    fx_put_desc(&f, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
    fx_avail(&f, 0, 0);
    expect_pop_err(&f, VQF_ERR_CHAIN_LOOP);
    fx_fini(&f);
}

/* SPLIT-AVL-01 (2.7.6.1) / D-02: avail idx more than the queue size ahead, or backwards. */
static void test_avail_jump(void)
{
    struct fx f;
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 0, BUF, 16, 0, 0);
    fx_set_avail_idx(&f, 8); /* exactly a full ring: legal */
    CHECK(vqf_split_dev_pending(&f.dev));
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    fx_fini(&f);

    dev_only(&f, 8, 0);
    fx_set_avail_idx(&f, 9);
    expect_pop_err(&f, VQF_ERR_AVAIL_JUMP);
    fx_fini(&f);

    /* Backwards: two consumed, then idx drops to 1. */
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 0, BUF, 16, 0, 0);
    fx_avail(&f, 0, 0);
    fx_avail(&f, 1, 0);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    fx_set_avail_idx(&f, 1);
    expect_pop_err(&f, VQF_ERR_AVAIL_JUMP);
    fx_fini(&f);

    /* Heads in flight count: 8 popped, none used, idx + 1 more is a 9th outstanding head. */
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 0, BUF, 16, 0, 0);
    fx_set_avail_idx(&f, 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 0);
    fx_set_avail_idx(&f, 9);
    expect_pop_err(&f, VQF_ERR_AVAIL_JUMP);
    fx_fini(&f);
}

/* SPLIT-IND-06 / SPLIT-IND-07 (2.7.5.3.2): WRITE on the table descriptor is ignored, and
 * plain descriptors followed by one indirect descriptor form one chain. */
static void test_mixed_chain(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    fx_put_desc(&f, 5, BUF, 10, VIRTQ_DESC_F_NEXT, 6);
    fx_put_desc(&f, 6, IND, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
    fx_put_desc_at(&f, IND, 0, BUF + 64, 20, VIRTQ_DESC_F_NEXT, 1);
    fx_put_desc_at(&f, IND, 1, BUF + 128, 30, VIRTQ_DESC_F_WRITE, 0);
    fx_avail(&f, 0, 5);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(f.chain.id, 5);
    CHECK_EQ(f.chain.ndesc, 2);
    CHECK_EQ(f.chain.nseg, 3);
    CHECK_EQ(f.chain.nout, 2);
    CHECK_EQ(f.chain.nin, 1);
    CHECK_EQ(f.chain.out_len, 30);
    CHECK_EQ(f.chain.in_len, 30);
    CHECK_EQ(f.seg[1].addr, BUF + 64);
    CHECK_EQ(f.seg[2].write, 1);
    CHECK(!f.dev.broken);
    fx_fini(&f);
}

/* Every ring access is logged for the oracle; SPLIT-USD-01 (2.7.8.2): the used element is
 * written, then a write barrier, then used idx; errors are reported as events. */
static void test_logging_and_order(void)
{
    static struct rec r;
    struct vqf_observer obs = {rec_access, rec_event, rec_barrier, &r};
    struct fx f;
    dev_only(&f, 8, 0);
    fx_put_desc(&f, 2, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
    fx_avail(&f, 0, 2);
    memset(&r, 0, sizeof(r));
    f.mem.obs = &obs;
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    int i_idx = rec_find(&r, 0, VQF_ACC_READ, f.cfg.driver + VIRTQ_AVAIL_IDX);
    int i_rmb = rec_find(&r, 1, VQF_BARRIER_RMB, 0);
    int i_ring = rec_find(&r, 0, VQF_ACC_READ, f.cfg.driver + VIRTQ_AVAIL_RING(0));
    int i_desc = rec_find(&r, 0, VQF_ACC_READ, f.cfg.desc + 32);
    int i_pop = rec_find(&r, 2, VQF_EV_DEV_POP, 0);
    CHECK(i_idx >= 0 && i_idx < i_rmb && i_rmb < i_ring && i_ring < i_desc && i_desc < i_pop);
    CHECK(i_pop >= 0 && r.e[i_pop].a == 3 && r.e[i_pop].b == 2 && r.e[i_pop].c == 1);
    CHECK(r.e[i_idx].side == VQF_SIDE_DEVICE);

    memset(&r, 0, sizeof(r));
    CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 7), 0);
    vqf_split_dev_publish(&f.dev);
    int i_elem = rec_find(&r, 0, VQF_ACC_WRITE, f.cfg.device + VIRTQ_USED_RING(0));
    int i_wmb = rec_find(&r, 1, VQF_BARRIER_WMB, 0);
    int i_uidx = rec_find(&r, 0, VQF_ACC_WRITE, f.cfg.device + VIRTQ_USED_IDX);
    CHECK(i_elem >= 0 && i_elem < i_wmb && i_wmb < i_uidx);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_IDX), 1);

    memset(&r, 0, sizeof(r));
    fx_avail(&f, 1, 9);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), -VQF_ERR_HEAD_RANGE);
    int i_err = rec_find(&r, 2, VQF_EV_DEV_ERROR, 0);
    CHECK(i_err >= 0 && r.e[i_err].b == VQF_ERR_HEAD_RANGE);
    f.mem.obs = NULL;
    fx_fini(&f);
}

/* The device's used entries under IN_ORDER (2.7.9, D-07): one entry per batch at the first
 * position with the last id; a partly written buffer ends its batch. */
static void test_in_order_device(void)
{
    struct fx f;
    dev_only(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    for (uint16_t i = 0; i < 4; i++) {
        fx_put_desc(&f, i, BUF + 64u * i, 64, VIRTQ_DESC_F_WRITE, 0);
        fx_avail(&f, i, i);
    }
    struct vqf_chain c[4];
    struct vqf_seg s[4][2];
    for (int i = 0; i < 4; i++) {
        c[i].seg = s[i];
        c[i].seg_cap = 2;
        CHECK_EQ(vqf_split_dev_pop(&f.dev, &c[i]), 1);
    }
    CHECK_EQ(vqf_split_dev_push(&f.dev, &c[0], 64), 0);
    CHECK_EQ(vqf_split_dev_push(&f.dev, &c[1], 64), 0);
    CHECK_EQ(vqf_split_dev_push(&f.dev, &c[2], 10), 0); /* ends the batch 0..2 */
    CHECK_EQ(vqf_split_dev_push(&f.dev, &c[3], 5), 0);
    vqf_split_dev_publish(&f.dev);
    uint32_t id = 0, len = 0;
    CHECK(vqf_dma_read32(&f.raw, f.cfg.device + VIRTQ_USED_RING(0), &id) == 0 && id == 2);
    CHECK(vqf_dma_read32(&f.raw, f.cfg.device + VIRTQ_USED_RING(0) + 4, &len) == 0 && len == 10);
    CHECK(vqf_dma_read32(&f.raw, f.cfg.device + VIRTQ_USED_RING(3), &id) == 0 && id == 3);
    CHECK(vqf_dma_read32(&f.raw, f.cfg.device + VIRTQ_USED_RING(3) + 4, &len) == 0 && len == 5);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_IDX), 4);
    /* Caller errors do not break the queue: written beyond capacity, nothing in flight. */
    CHECK_EQ(vqf_split_dev_push(&f.dev, &c[0], 1), -VQF_ERR_INVAL);
    CHECK(!f.dev.broken);
    fx_fini(&f);
}

int main(void)
{
    test_init_checks();
    test_head_range();
    test_next_range();
    test_chain_loop();
    test_indirect_loop();
    test_chain_len();
    test_ind_len();
    test_ind_nested();
    test_ind_next();
    test_ind_feature();
    test_ind_next_range();
    test_write_order();
    test_buffer_addr();
    test_chain_cap();
    test_avail_jump();
    test_mixed_chain();
    test_logging_and_order();
    test_in_order_device();
    return check_report("test_split_device");
}
