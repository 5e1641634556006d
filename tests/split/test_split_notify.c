/* Split ring notification decisions (spec 2.7.7 used-buffer and 2.7.10 available-buffer
 * notification suppression), with and without VIRTIO_F_EVENT_IDX, across the 16-bit wrap of
 * the ring indexes. The peer's suppression fields are sometimes written raw, as a lying or
 * merely different peer would. */
#include "tests/split/split_fx.h"

/* n complete round trips of a one-segment chain; notification decisions consumed. */
static unsigned spin(struct fx *f, unsigned n)
{
    unsigned bad = 0;
    uint32_t tok, len;
    for (unsigned i = 0; i < n; i++) {
        if (fx_add(f, 0, 1, i, 0) < 0)
            bad++;
        vqf_split_drv_kick_prepare(&f->drv);
        if (vqf_split_dev_pop(&f->dev, &f->chain) != 1 || vqf_split_dev_push(&f->dev, &f->chain, 1) != 0)
            bad++;
        vqf_split_dev_publish(&f->dev);
        vqf_split_dev_need_notify(&f->dev);
        if (vqf_split_drv_get_used(&f->drv, &tok, &len) != 1 || tok != i)
            bad++;
    }
    return bad;
}

static void set_used_event(struct fx *f, uint16_t v)
{
    CHECK(vqf_dma_write16(&f->raw, f->cfg.driver + VIRTQ_USED_EVENT(f->cfg.size), v) == 0);
}

static void set_avail_event(struct fx *f, uint16_t v)
{
    CHECK(vqf_dma_write16(&f->raw, f->cfg.device + VIRTQ_AVAIL_EVENT(f->cfg.size), v) == 0);
}

/* Complete k buffers in one publication and return the device's decision. */
static bool complete(struct fx *f, unsigned k)
{
    for (unsigned i = 0; i < k; i++) {
        CHECK(fx_add(f, 0, 1, i, 0) >= 0);
    }
    vqf_split_drv_kick_prepare(&f->drv);
    for (unsigned i = 0; i < k; i++) {
        CHECK_EQ(vqf_split_dev_pop(&f->dev, &f->chain), 1);
        CHECK_EQ(vqf_split_dev_push(&f->dev, &f->chain, 0), 0);
    }
    vqf_split_dev_publish(&f->dev);
    return vqf_split_dev_need_notify(&f->dev);
}

static void drain(struct fx *f)
{
    uint32_t tok, len;
    while (vqf_split_drv_get_used(&f->drv, &tok, &len) == 1)
        ;
}

/* 2.7.7.2 without EVENT_IDX: flags 0 -> notify (SPLIT-UNS-08), flags 1 -> none
 * (SPLIT-UNS-07), used_event disregarded (SPLIT-UNS-06), nothing new -> none. */
static void test_used_flags(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    set_used_event(&f, 1000); /* garbage the device must ignore */
    CHECK(complete(&f, 1));
    CHECK(!vqf_split_dev_need_notify(&f.dev)); /* decision consumed */
    drain(&f);
    vqf_split_drv_disable_cb(&f.drv);
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_FLAGS), VIRTQ_AVAIL_F_NO_INTERRUPT);
    CHECK(!complete(&f, 2));
    /* enable_cb reports the entries that arrived while disabled (2.7.14 race) */
    CHECK(!vqf_split_drv_enable_cb(&f.drv));
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_FLAGS), 0);
    drain(&f);
    CHECK(vqf_split_drv_enable_cb(&f.drv));
    CHECK(complete(&f, 3));
    fx_fini(&f);
}

/* 2.7.7.2 with EVENT_IDX: flags ignored (SPLIT-UNS-09); notify iff the published idx crossed
 * used_event since the previous decision (SPLIT-UNS-10/11, D-06). */
static void test_used_event(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_EVENT_IDX));
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_FLAGS), 0);
    CHECK(vqf_dma_write16(&f.raw, f.cfg.driver + VIRTQ_AVAIL_FLAGS, 1) == 0);
    set_used_event(&f, 0);
    CHECK(complete(&f, 1)); /* idx 0 -> 1 crosses 0 */
    CHECK(!complete(&f, 1)); /* 1 -> 2 does not cross 0 */
    set_used_event(&f, 4);
    CHECK(!complete(&f, 2)); /* 2 -> 4: entry 4 not yet written */
    CHECK(complete(&f, 3));  /* 4 -> 7 crosses 4 inside the batch */
    CHECK(!complete(&f, 1));
    drain(&f);
    /* The driver's own disable: flags stay 0 (SPLIT-UNS-03), used_event behind. */
    CHECK(vqf_dma_write16(&f.raw, f.cfg.driver + VIRTQ_AVAIL_FLAGS, 0) == 0);
    vqf_split_drv_disable_cb(&f.drv);
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_FLAGS), 0);
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_USED_EVENT(8)), 7);
    CHECK(!complete(&f, 4));
    CHECK(!vqf_split_drv_enable_cb(&f.drv)); /* 4 pending */
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_USED_EVENT(8)), 8);
    drain(&f);
    CHECK(vqf_split_drv_enable_cb(&f.drv));
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_USED_EVENT(8)), 12);
    CHECK(complete(&f, 1));
    fx_fini(&f);
}

/* The same decisions across the 16-bit wrap of used idx (vring_need_event arithmetic). */
static void test_used_event_wrap(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_EVENT_IDX));
    CHECK_EQ(spin(&f, 65533), 0);
    CHECK_EQ(f.dev.used_published, 65533);
    set_used_event(&f, 0);
    CHECK(!complete(&f, 2)); /* 65533 -> 65535 */
    CHECK(complete(&f, 2));  /* 65535 -> 1 crosses 0 */
    drain(&f);
    set_used_event(&f, 65535);
    CHECK(!complete(&f, 1)); /* 1 -> 2: 65535 lies behind */
    drain(&f);
    /* A publication that crosses the wrap and the event index together. */
    CHECK_EQ(spin(&f, 65530), 0); /* used idx 2 + 65530 = 65532 */
    set_used_event(&f, 65534);
    CHECK(complete(&f, 5)); /* 65532 -> 1 crosses 65534 */
    fx_fini(&f);
}

/* 2.7.10 without EVENT_IDX: used->flags NO_NOTIFY -> no kick (SPLIT-ANS-03), 0 -> kick
 * (SPLIT-ANS-04), avail_event disregarded (SPLIT-ANS-02). */
static void test_kick_flags(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    set_avail_event(&f, 1000);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv)); /* nothing added */
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_IDX), 1);
    vqf_split_dev_set_kick_suppress(&f.dev, true);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_FLAGS), VIRTQ_USED_F_NO_NOTIFY);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 1);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv));
    CHECK_EQ(fx_read16(&f, f.cfg.driver + VIRTQ_AVAIL_IDX), 2); /* published all the same */
    vqf_split_dev_set_kick_suppress(&f.dev, false);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_FLAGS), 0);
    CHECK(vqf_split_dev_pending(&f.dev)); /* the re-check after enabling finds the entries */
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 2);
    CHECK(vqf_split_drv_kick_prepare(&f.drv));
    fx_fini(&f);
}

/* 2.7.10 with EVENT_IDX: flags ignored (SPLIT-ANS-05); kick iff avail idx crossed
 * avail_event since the last decision (SPLIT-ANS-06/07). The device half keeps avail_event
 * at its next entry while kicks are wanted and points it behind while suppressed. */
static void test_avail_event(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_EVENT_IDX));
    CHECK(vqf_dma_write16(&f.raw, f.cfg.device + VIRTQ_USED_FLAGS, 1) == 0);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 0);
    CHECK(vqf_split_drv_kick_prepare(&f.drv)); /* 0 -> 1 crosses avail_event 0 */
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 1);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv)); /* 1 -> 2: the device has not asked */
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_AVAIL_EVENT(8)), 1);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_AVAIL_EVENT(8)), 2);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 2);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 3);
    CHECK(vqf_split_drv_kick_prepare(&f.drv)); /* 2 -> 4 crosses 2 */
    vqf_split_dev_set_kick_suppress(&f.dev, true);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_USED_FLAGS), 1); /* untouched: device keeps 0 itself */
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_AVAIL_EVENT(8)), 1);
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_AVAIL_EVENT(8)), 1); /* suppressed: not advanced */
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 4);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv));
    vqf_split_dev_set_kick_suppress(&f.dev, false);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_AVAIL_EVENT(8)), 3);
    CHECK(vqf_split_dev_pending(&f.dev));
    /* A raw avail_event ahead: a batch that writes that entry kicks, one short does not. */
    set_avail_event(&f, 7);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 5);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv)); /* 5 -> 6 */
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 6);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0), 7);
    CHECK(vqf_split_drv_kick_prepare(&f.drv)); /* 6 -> 8 writes entry 7 */
    fx_fini(&f);
}

/* The kick decision across the 16-bit wrap of avail idx. */
static void test_avail_event_wrap(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_EVENT_IDX));
    CHECK_EQ(spin(&f, 65534), 0);
    CHECK_EQ(f.drv.avail_published, 65534);
    vqf_split_dev_set_kick_suppress(&f.dev, true);
    set_avail_event(&f, 0);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0) >= 0, 1);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv)); /* 65534 -> 65535 */
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0) >= 0, 1);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0) >= 0, 1);
    CHECK(vqf_split_drv_kick_prepare(&f.drv)); /* 65535 -> 1 writes entry 0 */
    CHECK_EQ(f.drv.avail_published, 1);
    /* Suppression by pointing one behind holds across the wrap as well. */
    CHECK_EQ(vqf_split_dev_pop(&f.dev, &f.chain), 1); /* last_avail 65535 */
    vqf_split_dev_set_kick_suppress(&f.dev, true);
    CHECK_EQ(fx_read16(&f, f.cfg.device + VIRTQ_AVAIL_EVENT(8)), 65534);
    CHECK_EQ(fx_add(&f, 1, 0, 0, 0) >= 0, 1);
    CHECK(!vqf_split_drv_kick_prepare(&f.drv));
    fx_fini(&f);
}

int main(void)
{
    test_used_flags();
    test_used_event();
    test_used_event_wrap();
    test_kick_flags();
    test_avail_event();
    test_avail_event_wrap();
    return check_report("test_split_notify");
}
