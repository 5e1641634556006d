/* Split ring driver half (spec 2.7) facing a lying device: every validation path of
 * vqf_split_drv_get_used, each with its section; plus the driver's own argument checks,
 * IN_ORDER batches as the driver sees them, NOTIFICATION_DATA values and re-init reuse.
 * The device's lies are raw writes into the used ring (harness-side DMA). */
#include "tests/split/split_fx.h"

static void expect_used_err(struct fx *f, int err)
{
    uint32_t tok = 0, len = 0;
    CHECK_EQ(vqf_split_drv_get_used(&f->drv, &tok, &len), -err);
    CHECK(f->drv.broken);
    CHECK_EQ(vqf_split_drv_get_used(&f->drv, &tok, &len), -VQF_ERR_NOT_READY);
    CHECK_EQ(fx_add(f, 1, 0, 1, 0), -VQF_ERR_NOT_READY);
}

/* D-02 (2.7.13): used idx cannot run ahead of the outstanding buffers. */
static void test_used_idx(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(fx_add(&f, 1, 1, 100, 0), 0);
    CHECK_EQ(fx_add(&f, 1, 1, 101, 0), 2);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 0, 0);
    fx_used(&f, 1, 2, 0);
    fx_used(&f, 2, 2, 0);
    fx_set_used_idx(&f, 3); /* 3 entries for 2 buffers */
    expect_used_err(&f, VQF_ERR_USED_IDX);
    fx_fini(&f);
}

/* D-03 (2.7.8): the used id names an outstanding head: out of range, never made available,
 * a descriptor inside a chain, and a duplicate of an id already reclaimed. */
static void test_used_id(void)
{
    const uint32_t bad[3] = {8, 5, 1};
    for (int i = 0; i < 3; i++) {
        struct fx f;
        fx_init(&f, 8, 0);
        CHECK_EQ(fx_add(&f, 1, 1, 100, 0), 0); /* descriptors 0 and 1 */
        CHECK(vqf_split_drv_kick_prepare(&f.drv));
        fx_used(&f, 0, bad[i], 0);
        fx_set_used_idx(&f, 1);
        expect_used_err(&f, VQF_ERR_USED_ID);
        fx_fini(&f);
    }
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(fx_add(&f, 1, 0, 100, 0), 0);
    CHECK_EQ(fx_add(&f, 1, 0, 101, 0), 1);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 0, 0);
    fx_set_used_idx(&f, 1);
    uint32_t tok = 0, len = 9;
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 100);
    CHECK_EQ(len, 0);
    fx_used(&f, 1, 0, 0); /* head 0 again */
    fx_set_used_idx(&f, 2);
    expect_used_err(&f, VQF_ERR_USED_ID);
    fx_fini(&f);
}

/* D-04 (2.7.8, SPLIT-USD-02): used len <= writable capacity (64 per writable segment). */
static void test_used_len(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(fx_add(&f, 1, 2, 100, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 0, 128); /* exactly the capacity */
    fx_set_used_idx(&f, 1);
    uint32_t tok = 0, len = 0;
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(len, 128);
    CHECK_EQ(fx_add(&f, 1, 2, 101, 0), 0);
    CHECK_EQ(fx_add(&f, 2, 0, 102, 0), 3); /* readable only: capacity 0 */
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 1, 0, 129);
    fx_set_used_idx(&f, 2);
    expect_used_err(&f, VQF_ERR_USED_LEN);
    fx_fini(&f);

    fx_init(&f, 8, 0);
    CHECK_EQ(fx_add(&f, 2, 0, 102, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 0, 1);
    fx_set_used_idx(&f, 1);
    expect_used_err(&f, VQF_ERR_USED_LEN);
    fx_fini(&f);
}

/* IN_ORDER (2.7.9, RSVD-18, D-07): an id outside the outstanding range, a batch longer than
 * the used idx advance, and (D-03) an id inside a chain. */
static void test_used_order(void)
{
    struct fx f;
    uint32_t tok, len;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    CHECK_EQ(fx_add(&f, 1, 0, 100, 0), 0);
    CHECK_EQ(fx_add(&f, 1, 0, 101, 0), 1);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 0, 0);
    fx_set_used_idx(&f, 1);
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    fx_used(&f, 1, 0, 0); /* stale: head 0 was used already */
    fx_set_used_idx(&f, 2);
    expect_used_err(&f, VQF_ERR_USED_ORDER);
    fx_fini(&f);

    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    for (uint32_t i = 0; i < 3; i++)
        CHECK_EQ(fx_add(&f, 1, 0, 100 + i, 0), (int)i);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 2, 0); /* a batch of 3 ... */
    fx_set_used_idx(&f, 2); /* ... but used idx advanced by 2 */
    expect_used_err(&f, VQF_ERR_USED_ORDER);
    fx_fini(&f);

    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    CHECK_EQ(fx_add(&f, 1, 2, 100, 0), 0); /* descriptors 0..2 */
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_used(&f, 0, 1, 0);
    fx_set_used_idx(&f, 1);
    expect_used_err(&f, VQF_ERR_USED_ID);
    fx_fini(&f);
}

/* The driver half as the device sees it under IN_ORDER: descriptors in ring order with
 * next = x+1 wrapping to 0 (SPLIT-DSC-06), and the batch of 2.7.9 returned buffer by buffer
 * (skipped buffers with their full capacity). */
static void test_in_order_batches(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    uint32_t tok, len;
    /* Move the ring start to 6 so that the next chain wraps. */
    for (uint32_t i = 0; i < 3; i++)
        CHECK_EQ(fx_add(&f, 1, 1, i, 0), (int)(2 * i));
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
        CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 64), 0);
    }
    vqf_split_dev_publish(&f.dev);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_IDX), 3);
    uint32_t uid = 0;
    CHECK(vqf_dma_read32(&f.raw, f.cfg.device + VIRTQ_USED_RING(0), &uid) == 0 && uid == 4);
    for (uint32_t i = 0; i < 3; i++) {
        CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
        CHECK_EQ(tok, i);
        CHECK_EQ(len, 64);
    }
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 0);
    /* A 3-descriptor chain at 6: 6 -> 7 -> 0. */
    CHECK_EQ(fx_add(&f, 2, 1, 50, 0), 6);
    CHECK_EQ(fx_read16(&f, f.cfg.desc + 6 * 16 + 14), 7);
    CHECK_EQ(fx_read16(&f, f.cfg.desc + 7 * 16 + 14), 0);
    CHECK_EQ(fx_add(&f, 1, 1, 51, 0), 1);
    CHECK_EQ(fx_add(&f, 1, 1, 52, 0), 3);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    /* The lying-free device batches all three: id 3 at position 3, idx 6, len 9. */
    fx_used(&f, 3, 3, 9);
    fx_set_used_idx(&f, 6);
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 50);
    CHECK_EQ(len, 64);
    CHECK(vqf_split_drv_has_used(&f.drv));
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 51);
    CHECK_EQ(len, 64);
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 52);
    CHECK_EQ(len, 9);
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 0);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 8);
    fx_fini(&f);
}

/* The driver's own argument checks: SPLIT-IND-03 (no chain longer than the queue size),
 * SPLIT-DSC-05 (2^32 bytes), and running out of descriptors. */
static void test_add_checks(void)
{
    struct fx f;
    fx_init(&f, 4, 0);
    CHECK_EQ(fx_add(&f, 0, 0, 1, 0), -VQF_ERR_INVAL);
    CHECK_EQ(fx_add(&f, 3, 2, 1, 0), -VQF_ERR_INVAL);
    struct vqf_seg big[2] = {{FX_BUF_BASE, 0xffffffffu, 0}, {FX_BUF_BASE, 2, 1}};
    CHECK_EQ(vqf_split_drv_add(&f.drv, big, 1, 1, 1, 0), -VQF_ERR_INVAL);
    CHECK_EQ(fx_add(&f, 2, 1, 1, 0), 0);
    CHECK_EQ(fx_add(&f, 1, 1, 2, 0), -VQF_ERR_NOSPACE);
    CHECK_EQ(fx_add(&f, 1, 0, 3, 0), 3);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 0);
    CHECK(!f.drv.broken);
    fx_fini(&f);
}

/* 2.7.5.3: with the feature and a pool slice large enough the chain goes into one indirect
 * table (one ring descriptor); otherwise it falls back to direct descriptors. */
static void test_indirect_add(void)
{
    struct fx f;
    uint32_t tok, len;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    CHECK_EQ(fx_add(&f, 2, 2, 7, VQF_ADD_INDIRECT), 0);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 7);
    CHECK_EQ(fx_add(&f, 3, 2, 8, VQF_ADD_INDIRECT), 1); /* 5 entries > 4 per slice: direct */
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 2);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(f.chain.ndesc, 1);
    CHECK_EQ(f.chain.nseg, 4);
    CHECK_EQ(f.chain.nout, 2);
    CHECK_EQ(f.chain.in_len, 128);
    CHECK_EQ(f.seg[3].addr, FX_BUF_BASE + 3 * 64);
    CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 100), 0);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(f.chain.ndesc, 5);
    CHECK_EQ(f.chain.nseg, 5);
    CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 0), 0);
    vqf_split_dev_publish(&f.dev);
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 7);
    CHECK_EQ(len, 100);
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 8);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 8);
    fx_fini(&f);

    /* Without the feature VQF_ADD_INDIRECT is ignored (SPLIT-IND-01). */
    fx_init(&f, 8, 0);
    CHECK_EQ(fx_add(&f, 2, 2, 7, VQF_ADD_INDIRECT), 0);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 4);
    CHECK_EQ(fx_read16(&f, f.cfg.desc + 12) & VIRTQ_DESC_F_INDIRECT, 0);
    fx_fini(&f);
}

/* 2.9 (D-09): NOTIFICATION_DATA carries avail idx bits 0-14 and bit 15; without the feature
 * the value is the queue index. Repeated kicks carry identical values. */
static void test_notification_data(void)
{
    struct fx f;
    uint32_t tok, len;
    fx_init(&f, 4, VQF_BIT(VIRTIO_F_NOTIFICATION_DATA));
    CHECK_EQ(vqf_split_drv_notify_value(&f.drv), 3);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 0);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 1);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    CHECK_EQ(vqf_split_drv_notify_value(&f.drv), 3u | (2u << 16));
    CHECK_EQ(vqf_split_drv_notify_value(&f.drv), 3u | (2u << 16));
    /* Run avail idx across 0x8000 and up to 0x8001. */
    for (unsigned n = 2; n < 0x8001; n++) {
        if (n % 2 == 0) {
            CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
            CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 0), 0);
            CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
            CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 0), 0);
            vqf_split_dev_publish(&f.dev);
            CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
            CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
        }
        CHECK(fx_add(&f, 1, 0, 0, 0) >= 0);
        vqf_split_drv_kick_prepare(&f.drv);
    }
    CHECK_EQ(f.drv.avail_published, 0x8001);
    CHECK_EQ(vqf_split_drv_notify_value(&f.drv), 3u | (1u << 16) | (1u << 31));
    fx_fini(&f);

    fx_init(&f, 4, 0);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    CHECK_EQ(vqf_split_drv_notify_value(&f.drv), 3);
    fx_fini(&f);
}

/* Re-init (queue reset, 2.6.1): host arrays kept when the size does not grow, state and
 * rings back to zero (SPLIT-ANS-01 used->flags = 0). */
static void test_reinit(void)
{
    struct fx f;
    fx_init(&f, 256, 0);
    struct vqf_split_drv_slot *slots = f.drv.slots;
    uint16_t *nf = f.drv.next_free;
    CHECK_EQ(fx_add(&f, 1, 1, 1, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    vqf_split_dev_set_kick_suppress(&f.dev, true);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_FLAGS), VIRTQ_USED_F_NO_NOTIFY);
    fx_layout(&f, 128, 0);
    /* Stale values where the smaller ring's fields now sit. */
    CHECK(vqf_dma_write16(&f.raw, f.cfg.device + VIRTQ_USED_FLAGS, 0xffff) == 0);
    CHECK(vqf_dma_write16(&f.raw, f.cfg.driver + VIRTQ_AVAIL_IDX, 0x1234) == 0);
    CHECK(vqf_dma_write16(&f.raw, f.cfg.desc + 16 * 127 + 12, 0x7) == 0);
    CHECK_EQ(vqf_split_drv_init(&f.drv, &f.drv_dma, &f.cfg), 0);
    CHECK(f.drv.slots == slots && f.drv.next_free == nf);
    CHECK_EQ(f.drv.cap, 256);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 128);
    CHECK_EQ(f.drv.avail_idx, 0);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_FLAGS), 0);
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_IDX), 0);
    CHECK_EQ(fx_read16(&f, f.cfg.desc + 16 * 127 + 12), 0);
    CHECK_EQ(fx_add(&f, 1, 1, 1, 0), 0);
    fx_layout(&f, 1024, 0);
    CHECK_EQ(vqf_split_drv_init(&f.drv, &f.drv_dma, &f.cfg), 0);
    CHECK_EQ(f.drv.cap, 1024);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 1024);
    /* A failed init leaves the queue not ready but keeps the arrays. */
    f.cfg.size = 100;
    CHECK_EQ(vqf_split_drv_init(&f.drv, &f.drv_dma, &f.cfg), -VQF_ERR_INVAL);
    CHECK_EQ(fx_add(&f, 1, 1, 1, 0), -VQF_ERR_NOT_READY);
    CHECK_EQ(f.drv.cap, 1024);
    fx_fini(&f);
}

/* Queue size 1 (2.7: smallest power of two): every index wraps at once, for 70000 round
 * trips across the 16-bit idx wrap. */
static void test_size_one(void)
{
    struct fx f;
    fx_init(&f, 1, VQF_BIT(VIRTIO_F_EVENT_IDX));
    uint32_t tok, len;
    unsigned bad = 0;
    for (uint32_t i = 0; i < 70000; i++) {
        if (fx_add(&f, 0, 1, i, 0) != 0 || fx_add(&f, 0, 1, i, 0) != -VQF_ERR_NOSPACE)
            bad++;
        if (!vqf_split_drv_kick_prepare(&f.drv))
            bad++; /* the device asked for a kick at every entry (2.7.10) */
        if (vqf_split_dev_pop(&f.dev, &f.chain) != 1 || vqf_split_dev_push(&f.dev, &f.chain, i % 65) != 0)
            bad++;
        vqf_split_dev_publish(&f.dev);
        if (!vqf_split_dev_need_notify(&f.dev) && i > 0)
            bad++;
        if (vqf_split_drv_get_used(&f.drv, &tok, &len) != 1 || tok != i || len != i % 65)
            bad++;
        if (!vqf_split_drv_enable_cb(&f.drv))
            bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(f.drv.avail_idx, (uint16_t)70000);
    fx_fini(&f);
}

/* Queue size 32768 (the 2.7 maximum): fill every descriptor, drain in reverse order. */
static void test_size_max(void)
{
    struct fx f;
    fx_init(&f, 32768, 0);
    uint32_t tok, len;
    unsigned bad = 0;
    for (uint32_t i = 0; i < 32768; i++)
        if (fx_add(&f, 1, 0, i, 0) != (int)i)
            bad++;
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), -VQF_ERR_NOSPACE);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    static struct vqf_chain c[32768];
    static struct vqf_seg s[32768];
    for (uint32_t i = 0; i < 32768; i++) {
        c[i].seg = &s[i];
        c[i].seg_cap = 1;
        if (vqf_split_dev_pop(&f.dev, &c[i]) != 1 || c[i].id != i)
            bad++;
    }
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 0);
    for (uint32_t i = 32768; i-- > 0;)
        if (vqf_split_dev_push(&f.dev, &c[i], 0) != 0)
            bad++;
    vqf_split_dev_publish(&f.dev);
    for (uint32_t i = 32768; i-- > 0;)
        if (vqf_split_drv_get_used(&f.drv, &tok, &len) != 1 || tok != i)
            bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(vqf_split_drv_num_free(&f.drv), 32768);
    /* The free list survives reverse-order reclaim: fill it again. */
    for (uint32_t i = 0; i < 32768; i++)
        if (fx_add(&f, 1, 0, i, 0) < 0)
            bad++;
    CHECK_EQ(bad, 0);
    fx_fini(&f);
}

/* The driver half as the oracle sees it: SPLIT-PUB-01 (2.7.13.3.1) descriptor and ring
 * entry, write barrier, then avail idx; SPLIT-PUB-02 (2.7.13.4.1) full barrier before the
 * used->flags read; add / publish / reclaim / error events; the driver's side on each. */
static void test_driver_logging(void)
{
    static struct rec r;
    struct vqf_observer obs = {rec_access, rec_event, rec_barrier, &r};
    struct fx f;
    uint32_t tok, len;
    fx_init(&f, 8, 0);
    memset(&r, 0, sizeof(r));
    f.mem.obs = &obs;
    CHECK_EQ(fx_add(&f, 1, 1, 42, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    int i_d0 = rec_find(&r, 0, VQF_ACC_WRITE, f.cfg.desc);
    int i_d1 = rec_find(&r, 0, VQF_ACC_WRITE, f.cfg.desc + 16);
    int i_ring = rec_find(&r, 0, VQF_ACC_WRITE, f.cfg.driver + VIRTQ_AVAIL_RING(0));
    int i_add = rec_find(&r, 2, VQF_EV_DRV_ADD, 0);
    int i_wmb = rec_find(&r, 1, VQF_BARRIER_WMB, 0);
    int i_idx = rec_find(&r, 0, VQF_ACC_WRITE, f.cfg.driver + VIRTQ_AVAIL_IDX);
    int i_pub = rec_find(&r, 2, VQF_EV_DRV_PUBLISH, 0);
    int i_mb = rec_find(&r, 1, VQF_BARRIER_MB, 0);
    int i_flags = rec_find(&r, 0, VQF_ACC_READ, f.cfg.device + VIRTQ_USED_FLAGS);
    CHECK(i_d0 >= 0 && i_d0 < i_d1 && i_d1 < i_ring && i_ring < i_wmb && i_wmb < i_idx && i_idx < i_mb &&
          i_mb < i_flags);
    CHECK(i_add >= 0 && r.e[i_add].a == 3 && r.e[i_add].b == 0 && r.e[i_add].c == 2);
    CHECK(i_pub >= 0 && r.e[i_pub].b == 1);
    CHECK(r.e[i_idx].side == VQF_SIDE_DRIVER && r.e[i_wmb].side == VQF_SIDE_DRIVER);

    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(vqf_split_dev_push(&f.dev, &f.chain, 5), 0);
    vqf_split_dev_publish(&f.dev);
    memset(&r, 0, sizeof(r));
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), 1);
    int i_uidx = rec_find(&r, 0, VQF_ACC_READ, f.cfg.device + VIRTQ_USED_IDX);
    int i_rmb = rec_find(&r, 1, VQF_BARRIER_RMB, 0);
    int i_elem = rec_find(&r, 0, VQF_ACC_READ, f.cfg.device + VIRTQ_USED_RING(0));
    int i_rec = rec_find(&r, 2, VQF_EV_DRV_RECLAIM, 0);
    CHECK(i_uidx >= 0 && i_uidx < i_rmb && i_rmb < i_elem && i_elem < i_rec); /* 2.7.14 */
    CHECK(i_rec >= 0 && r.e[i_rec].b == 0 && r.e[i_rec].c == 5);

    memset(&r, 0, sizeof(r));
    fx_set_used_idx(&f, 5); /* lie: nothing outstanding */
    CHECK_EQ(vqf_split_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_IDX);
    int i_err = rec_find(&r, 2, VQF_EV_DRV_ERROR, 0);
    CHECK(i_err >= 0 && r.e[i_err].b == VQF_ERR_USED_IDX && r.e[i_err].side == VQF_SIDE_DRIVER);
    f.mem.obs = NULL;
    fx_fini(&f);
}

int main(void)
{
    test_driver_logging();
    test_used_idx();
    test_used_id();
    test_used_len();
    test_used_order();
    test_in_order_batches();
    test_add_checks();
    test_indirect_add();
    test_notification_data();
    test_reinit();
    test_size_one();
    test_size_max();
    return check_report("test_split_driver");
}
