/* Honest traffic between the two packed halves (spec 2.8): many laps of the ring for sizes 1,
 * 3, 256 and 32768, lists crossing the ring wrap, out-of-order completion, indirect tables,
 * event suppression in its three modes (2.8.10), IN_ORDER batches (2.8.8), the D-13 flag
 * order of a multi-descriptor publish, NOTIFICATION_DATA values (PACK-DSC-07) and re-init. */
#include "tests/packed/fixture.h"

#define MAX_INFLIGHT 512

struct expect {
    uint32_t token;
    unsigned nout, nin;
    uint32_t in_len;
    uint64_t first_addr;
};

/* Drive `total_slots` ring slots of traffic through a queue of `size`, with lists of up to
 * `maxn` elements, completing each round in a shuffled order (or in order with IN_ORDER).
 * Checks every chain the device sees and every buffer the driver gets back. */
static void run_laps(uint16_t size, uint64_t features, unsigned maxn, uint64_t total_slots, uint64_t seed,
                     unsigned add_flags)
{
    struct fx f;
    fx_init(&f, size, features);
    static struct expect exp[32768];
    static struct vqf_chain held[MAX_INFLIGHT];
    static struct vqf_seg held_seg[MAX_INFLIGHT][8];
    static uint32_t written[MAX_INFLIGHT];
    const bool in_order = vqf_has_feature(features, VIRTIO_F_IN_ORDER);
    uint64_t slots = 0, wraps_drv = 0, wraps_dev = 0;
    uint32_t token = 1;
    unsigned bad = 0;
    bool prev_avail_wrap = true, prev_used_wrap = true;
    while (slots < total_slots && !bad) {
        /* driver: add until full or the round is big enough */
        unsigned nheld = 0, added = 0;
        for (;;) {
            unsigned n = 1 + (unsigned)(fx_rand(&seed) % maxn);
            unsigned nout = (unsigned)(fx_rand(&seed) % (n + 1));
            struct vqf_seg sg[8];
            uint32_t in_len = 0;
            for (unsigned i = 0; i < n; i++) {
                sg[i].addr = f.buf + (fx_rand(&seed) % 4096) * 16;
                sg[i].len = 1 + (uint32_t)(fx_rand(&seed) % 512);
                sg[i].write = i >= nout;
                if (i >= nout)
                    in_len += sg[i].len;
            }
            unsigned before = vqf_packed_drv_num_free(&f.drv);
            int id = vqf_packed_drv_add(&f.drv, sg, nout, n - nout, token, add_flags);
            if (id == -VQF_ERR_NOSPACE)
                break;
            CHECK(id >= 0 && id < size);
            if (id < 0) {
                bad++;
                break;
            }
            exp[id] = (struct expect){token, nout, n - nout, in_len, sg[0].addr};
            slots += before - vqf_packed_drv_num_free(&f.drv);
            token++;
            added++;
            if (f.drv.avail_wrap != prev_avail_wrap) {
                wraps_drv++;
                prev_avail_wrap = f.drv.avail_wrap;
            }
            if (added >= MAX_INFLIGHT || (fx_rand(&seed) % 8) == 0)
                break;
        }
        vqf_packed_drv_kick_prepare(&f.drv);
        /* device: pop everything */
        for (;;) {
            struct vqf_chain *c = &held[nheld];
            c->seg = held_seg[nheld];
            c->seg_cap = 8;
            int r = vqf_packed_dev_pop(&f.dev, c);
            CHECK(r >= 0);
            if (r <= 0)
                break;
            const struct expect *e = &exp[c->id];
            if (c->nout != e->nout || c->nin != e->nin || c->in_len != e->in_len || c->seg[0].addr != e->first_addr)
                bad++;
            written[nheld] = c->in_len ? (uint32_t)(fx_rand(&seed) % (c->in_len + 1)) : 0;
            nheld++;
        }
        CHECK_EQ(nheld, added);
        /* complete in a shuffled order, publishing at random points */
        unsigned order[MAX_INFLIGHT];
        for (unsigned i = 0; i < nheld; i++)
            order[i] = i;
        if (!in_order)
            for (unsigned i = nheld; i > 1; i--) {
                unsigned j = (unsigned)(fx_rand(&seed) % i);
                unsigned t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
            }
        unsigned got = 0;
        for (unsigned k = 0; k < nheld; k++) {
            unsigned i = order[k];
            CHECK_EQ(vqf_packed_dev_push(&f.dev, &held[i], written[i]), 0);
            if (k + 1 == nheld || fx_rand(&seed) % 3 == 0) {
                vqf_packed_dev_publish(&f.dev);
                vqf_packed_dev_need_notify(&f.dev);
                if (f.dev.used_wrap != prev_used_wrap) {
                    wraps_dev++;
                    prev_used_wrap = f.dev.used_wrap;
                }
                uint32_t tok, len;
                int r;
                while ((r = vqf_packed_drv_get_used(&f.drv, &tok, &len)) == 1) {
                    /* find the held chain with this token */
                    unsigned m;
                    for (m = 0; m < nheld; m++)
                        if (exp[held[m].id].token == tok)
                            break;
                    if (m == nheld || len != written[m])
                        bad++;
                    got++;
                }
                CHECK_EQ(r, 0);
            }
        }
        CHECK_EQ(got, nheld);
        CHECK_EQ(vqf_packed_drv_num_free(&f.drv), size);
    }
    CHECK_EQ(bad, 0);
    CHECK(!f.drv.broken && !f.dev.broken);
    CHECK(slots >= total_slots);
    /* the wrap counters toggled once per lap on both sides (2.8.1) */
    CHECK(wraps_drv + 1 >= slots / size);
    CHECK_EQ(f.drv.next_avail, f.dev.next_used);
    CHECK_EQ(f.drv.avail_wrap, f.dev.used_wrap);
    CHECK_EQ(f.drv.last_used, f.drv.next_avail);
    CHECK(wraps_dev > 0 || size > total_slots);
    fx_fini(&f);
}

/* 2.8.1 / 2.8.6: many laps, lists of up to 4 elements crossing the wrap at every size. */
static void test_laps(void)
{
    run_laps(1, 0, 1, 64, 1, 0);
    run_laps(3, 0, 3, 3 * 50, 2, 0);
    run_laps(256, 0, 4, 256 * 20, 3, 0);
    run_laps(32768, 0, 4, 32768u * 3, 4, 0);
    /* EVENT_IDX changes nothing on the data path */
    run_laps(256, VQF_BIT(VIRTIO_F_EVENT_IDX), 4, 256 * 5, 5, 0);
}

/* 2.8.7: indirect tables from the per-id pool slice; one ring slot per buffer. */
static void test_laps_indirect(void)
{
    run_laps(3, VQF_BIT(VIRTIO_F_INDIRECT_DESC), 3, 3 * 40, 6, VQF_ADD_INDIRECT);
    run_laps(256, VQF_BIT(VIRTIO_F_INDIRECT_DESC), 4, 256 * 10, 7, VQF_ADD_INDIRECT);
}

/* 2.8.8: IN_ORDER batches over many laps, partial writes end batches. */
static void test_laps_in_order(void)
{
    run_laps(1, VQF_BIT(VIRTIO_F_IN_ORDER), 1, 40, 8, 0);
    run_laps(3, VQF_BIT(VIRTIO_F_IN_ORDER), 2, 3 * 40, 9, 0);
    run_laps(256, VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_INDIRECT_DESC), 4, 256 * 10, 10, VQF_ADD_INDIRECT);
    run_laps(32768, VQF_BIT(VIRTIO_F_IN_ORDER), 3, 32768u * 2, 11, 0);
}

/* 2.8.7: an indirect buffer uses one slot and its table holds only WRITE flags (PACK-IND-02);
 * without the feature the same request goes direct. */
static void test_indirect(void)
{
    struct fx f;
    fx_init(&f, 4, VQF_BIT(VIRTIO_F_INDIRECT_DESC));
    struct vqf_seg sg[3] = {{f.buf, 16, 0}, {f.buf + 64, 32, 1}, {f.buf + 128, 8, 1}};
    CHECK_EQ(vqf_packed_drv_add(&f.drv, sg, 1, 2, 42, VQF_ADD_INDIRECT), 0);
    CHECK_EQ(vqf_packed_drv_num_free(&f.drv), 3);
    CHECK_EQ(fx_flags(&f, 0), VIRTQ_DESC_F_INDIRECT | fx_avail(true));
    CHECK_EQ(fx_len(&f, 0), 48);
    uint64_t t = 0;
    CHECK_EQ(vqf_dma_read64(&f.ddma, f.cfg.desc, &t), 0);
    uint16_t ef = 0xffff;
    CHECK_EQ(vqf_dma_read16(&f.ddma, t + 16 + VIRTQ_PDESC_FLAGS, &ef), 0);
    CHECK_EQ(ef, VIRTQ_DESC_F_WRITE);
    CHECK_EQ(vqf_dma_read16(&f.ddma, t + VIRTQ_PDESC_FLAGS, &ef), 0);
    CHECK_EQ(ef, 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(f.c.ndesc, 1);
    CHECK_EQ(f.c.nseg, 3);
    CHECK_EQ(f.c.in_len, 40);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 40), 0);
    vqf_packed_dev_publish(&f.dev);
    CHECK_EQ(fx_flags(&f, 0), fx_used(true) | VIRTQ_DESC_F_WRITE);
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 42);
    CHECK_EQ(len, 40);
    fx_fini(&f);

    fx_init(&f, 4, 0);
    CHECK_EQ(vqf_packed_drv_add(&f.drv, sg, 1, 2, 42, VQF_ADD_INDIRECT), 0);
    CHECK_EQ(vqf_packed_drv_num_free(&f.drv), 1);
    CHECK_EQ(fx_flags(&f, 0) & VIRTQ_DESC_F_INDIRECT, 0);
    fx_fini(&f);
}

/* Pop, push `written` and publish one buffer added by the driver. */
static void round_trip(struct fx *f, uint32_t written)
{
    struct vqf_seg sg = {f->buf, 64, 1};
    CHECK(vqf_packed_drv_add(&f->drv, &sg, 0, 1, 1, 0) >= 0);
    CHECK_EQ(vqf_packed_dev_pop(&f->dev, &f->c), 1);
    CHECK_EQ(vqf_packed_dev_push(&f->dev, &f->c, written), 0);
    vqf_packed_dev_publish(&f->dev);
}

static void drain(struct fx *f)
{
    uint32_t tok, len;
    while (vqf_packed_drv_get_used(&f->drv, &tok, &len) == 1) {
    }
}

/* 2.8.10 / D-12, used buffer notifications: ENABLE notifies, DISABLE does not, the reserved
 * value 3 and DESC without EVENT_IDX count as enable; nothing new published, nothing sent. */
static void test_notify_flags(void)
{
    struct fx f;
    fx_init(&f, 5, 0);
    CHECK(!vqf_packed_dev_need_notify(&f.dev)); /* nothing published yet */
    round_trip(&f, 1);
    CHECK(vqf_packed_dev_need_notify(&f.dev)); /* zeroed area = ENABLE */
    CHECK(!vqf_packed_dev_need_notify(&f.dev)); /* decision consumed */
    vqf_packed_drv_disable_cb(&f.drv);
    CHECK_EQ(fx_event_read(&f, f.cfg.driver, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_DISABLE);
    round_trip(&f, 1);
    CHECK(!vqf_packed_dev_need_notify(&f.dev));
    fx_event_write(&f, f.cfg.driver, 0, 3);
    round_trip(&f, 1);
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    fx_event_write(&f, f.cfg.driver, 4, RING_EVENT_FLAGS_DESC); /* DESC, no EVENT_IDX */
    round_trip(&f, 1);
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    drain(&f);
    fx_fini(&f);
}

/* 2.8.10 / D-12, RING_EVENT_FLAGS_DESC with EVENT_IDX: notify only when the used descriptor
 * at (off, wrap) is written, counting the lap through the wrap counter; a size that is not a
 * power of two. */
static void test_notify_desc(void)
{
    struct fx f;
    fx_init(&f, 5, VQF_BIT(VIRTIO_F_EVENT_IDX));
    /* event at slot 2 of lap 1 (wrap 1) */
    fx_event_write(&f, f.cfg.driver, 2 | (1u << 15), RING_EVENT_FLAGS_DESC);
    round_trip(&f, 1); /* slot 0 */
    CHECK(!vqf_packed_dev_need_notify(&f.dev));
    round_trip(&f, 1); /* slot 1 */
    CHECK(!vqf_packed_dev_need_notify(&f.dev));
    round_trip(&f, 1); /* slot 2: crossed */
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    drain(&f);
    /* event at slot 1 with wrap 0: the next lap, not slot 1 of this one */
    fx_event_write(&f, f.cfg.driver, 1, RING_EVENT_FLAGS_DESC);
    round_trip(&f, 1); /* 3 */
    round_trip(&f, 1); /* 4 */
    CHECK(!vqf_packed_dev_need_notify(&f.dev));
    round_trip(&f, 1); /* 0, lap 2 */
    CHECK(!vqf_packed_dev_need_notify(&f.dev));
    drain(&f);
    round_trip(&f, 1); /* 1, lap 2: crossed */
    round_trip(&f, 1); /* 2 */
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    drain(&f);
    /* the driver's enable_cb arms DESC at its last_used (3, wrap 0) */
    CHECK(vqf_packed_drv_enable_cb(&f.drv));
    CHECK_EQ(fx_event_read(&f, f.cfg.driver, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_DESC);
    CHECK_EQ(fx_event_read(&f, f.cfg.driver, VIRTQ_PEVENT_DESC), 3);
    round_trip(&f, 1); /* 3: the awaited one */
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    /* one descriptor beyond: already past, no new event */
    round_trip(&f, 1);
    CHECK(!vqf_packed_dev_need_notify(&f.dev));
    /* an event offset outside the ring names nothing: notify rather than lose one */
    fx_event_write(&f, f.cfg.driver, 7, RING_EVENT_FLAGS_DESC);
    round_trip(&f, 1);
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    drain(&f);
    fx_fini(&f);
}

/* Batched publish: a DESC event in the middle of what one publish covers is crossed. */
static void test_notify_desc_batch(void)
{
    struct fx f;
    fx_init(&f, 6, VQF_BIT(VIRTIO_F_EVENT_IDX));
    struct vqf_seg sg = {f.buf, 8, 0};
    struct vqf_chain c[4];
    struct vqf_seg s[4][2];
    for (unsigned i = 0; i < 4; i++) {
        CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, i, 0) >= 0);
        c[i].seg = s[i];
        c[i].seg_cap = 2;
        CHECK_EQ(vqf_packed_dev_pop(&f.dev, &c[i]), 1);
    }
    fx_event_write(&f, f.cfg.driver, 2 | (1u << 15), RING_EVENT_FLAGS_DESC);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[i], 0), 0);
    vqf_packed_dev_publish(&f.dev);
    CHECK(vqf_packed_dev_need_notify(&f.dev));
    drain(&f);
    fx_fini(&f);
}

/* 2.8.10 / 2.8.21.3: available buffer notifications from the Device Event Suppression area:
 * ENABLE kicks, DISABLE does not, DESC kicks when (off, wrap) is made available. */
static void test_kick(void)
{
    struct fx f;
    fx_init(&f, 4, 0);
    struct vqf_seg sg = {f.buf, 8, 0};
    CHECK(!vqf_packed_drv_kick_prepare(&f.drv)); /* nothing new */
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 1, 0) >= 0);
    CHECK(vqf_packed_drv_kick_prepare(&f.drv));
    vqf_packed_dev_set_kick_suppress(&f.dev, true);
    CHECK_EQ(fx_event_read(&f, f.cfg.device, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_DISABLE);
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 2, 0) >= 0);
    CHECK(!vqf_packed_drv_kick_prepare(&f.drv));
    vqf_packed_dev_set_kick_suppress(&f.dev, false);
    CHECK_EQ(fx_event_read(&f, f.cfg.device, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_ENABLE);
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 3, 0) >= 0);
    CHECK(vqf_packed_drv_kick_prepare(&f.drv));
    fx_event_write(&f, f.cfg.device, 0, 3); /* reserved value: kick rather than lose one */
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 4, 0) >= 0);
    CHECK(vqf_packed_drv_kick_prepare(&f.drv));
    fx_fini(&f);

    fx_init(&f, 3, VQF_BIT(VIRTIO_F_EVENT_IDX));
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 1, 0) >= 0);
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    /* the device arms DESC at its next_avail: slot 1, wrap 1 */
    vqf_packed_dev_set_kick_suppress(&f.dev, false);
    CHECK_EQ(fx_event_read(&f, f.cfg.device, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_DESC);
    CHECK_EQ(fx_event_read(&f, f.cfg.device, VIRTQ_PEVENT_DESC), 1 | (1u << 15));
    CHECK(!vqf_packed_drv_kick_prepare(&f.drv)); /* slot 0 is before the event slot */
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 2, 0) >= 0); /* slot 1 */
    CHECK(vqf_packed_drv_kick_prepare(&f.drv));
    /* each pop moves the request on to the next slot (as split keeps avail_event current) */
    struct vqf_chain c1 = {.seg = f.seg + 8, .seg_cap = 4};
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &c1), 1);
    CHECK_EQ(fx_event_read(&f, f.cfg.device, VIRTQ_PEVENT_DESC), 2 | (1u << 15));
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c1, 0), 0);
    /* event at slot 0 of the next lap (wrap 0): slot 2 does not cross it, slot 0 does */
    fx_event_write(&f, f.cfg.device, 0, RING_EVENT_FLAGS_DESC);
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 3, 0) >= 0); /* slot 2 */
    CHECK(!vqf_packed_drv_kick_prepare(&f.drv));
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 0), 0);
    vqf_packed_dev_publish(&f.dev);
    drain(&f);
    CHECK(vqf_packed_drv_add(&f.drv, &sg, 1, 0, 4, 0) >= 0); /* slot 0, wrap 0 */
    CHECK(vqf_packed_drv_kick_prepare(&f.drv));
    drain(&f);
    fx_fini(&f);
}

/* 2.8.22 example: enable_cb re-checks after enabling and reports used buffers that arrived
 * while notifications were off; disable_cb writes DISABLE once. */
static void test_enable_cb(void)
{
    struct fx f;
    fx_init(&f, 4, 0);
    vqf_packed_drv_disable_cb(&f.drv);
    CHECK_EQ(fx_event_read(&f, f.cfg.driver, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_DISABLE);
    round_trip(&f, 3);
    CHECK(!vqf_packed_drv_enable_cb(&f.drv)); /* one is waiting */
    CHECK_EQ(fx_event_read(&f, f.cfg.driver, VIRTQ_PEVENT_FLAGS), RING_EVENT_FLAGS_ENABLE);
    CHECK(vqf_packed_drv_has_used(&f.drv));
    drain(&f);
    CHECK(vqf_packed_drv_enable_cb(&f.drv));
    fx_fini(&f);
}

/* 2.8.8 / D-07: IN_ORDER pushes become one used descriptor with the last id at the first
 * slot; the driver returns every buffer, skipped ones with their full capacity. A partial
 * write ends a batch so its length is reported exactly. */
static void test_in_order_batch(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    struct vqf_seg sg[2] = {{f.buf, 16, 0}, {f.buf + 64, 100, 1}};
    struct vqf_chain c[4];
    struct vqf_seg s[4][2];
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(vqf_packed_drv_add(&f.drv, sg, 1, 1, 10 + i, 0), (int)i);
        c[i].seg = s[i];
        c[i].seg_cap = 2;
        CHECK_EQ(vqf_packed_dev_pop(&f.dev, &c[i]), 1);
    }
    /* out of order is refused without breaking the queue */
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[1], 100), -VQF_ERR_INVAL);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[0], 100), 0);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[1], 100), 0);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[2], 7), 0);
    CHECK_EQ(fx_flags(&f, 0), VIRTQ_DESC_F_NEXT | fx_avail(true)); /* nothing visible before publish */
    vqf_packed_dev_publish(&f.dev);
    CHECK_EQ(fx_flags(&f, 0), fx_used(true) | VIRTQ_DESC_F_WRITE);
    CHECK_EQ(fx_id(&f, 0), 2);
    CHECK_EQ(fx_len(&f, 0), 7);
    CHECK_EQ(fx_flags(&f, 2), VIRTQ_DESC_F_NEXT | fx_avail(true)); /* skipped slots untouched */
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 10);
    CHECK_EQ(len, 100);
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 11);
    CHECK_EQ(len, 100);
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 12);
    CHECK_EQ(len, 7);
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 0);
    CHECK_EQ(f.drv.last_used, 6);
    /* partial then full: two used descriptors, at slots 6 and ... */
    CHECK_EQ(vqf_packed_drv_add(&f.drv, sg, 1, 1, 20, 0), 4);
    struct vqf_chain c4 = {.seg = s[0], .seg_cap = 2};
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &c4), 1); /* id 4 at slots 0-1 of lap 1 */
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[3], 5), 0);  /* partial: ends its batch */
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c4, 100), 0);
    vqf_packed_dev_publish(&f.dev);
    CHECK_EQ(fx_id(&f, 6), 3);
    CHECK_EQ(fx_len(&f, 6), 5);
    CHECK_EQ(fx_id(&f, 0), 4);
    CHECK_EQ(fx_flags(&f, 0), fx_used(false) | VIRTQ_DESC_F_WRITE);
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 13);
    CHECK_EQ(len, 5);
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 20);
    CHECK_EQ(len, 100);
    CHECK_EQ(f.drv.last_used, 2);
    CHECK(!f.drv.used_wrap);
    fx_fini(&f);
}

/* 2.8.9 / D-13 and 2.8.21: used descriptors published together get their flags after a
 * barrier, the first one's last; id and len come before. */
static void test_publish_order(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    struct vqf_seg sg = {f.buf, 8, 1};
    struct vqf_chain c[3];
    struct vqf_seg s[3][1];
    for (unsigned i = 0; i < 3; i++) {
        CHECK(vqf_packed_drv_add(&f.drv, &sg, 0, 1, i, 0) >= 0);
        c[i].seg = s[i];
        c[i].seg_cap = 1;
        CHECK_EQ(vqf_packed_dev_pop(&f.dev, &c[i]), 1);
    }
    static struct rec r;
    struct vqf_observer obs = {rec_access, rec_event, rec_barrier, &r};
    r.n = 0;
    f.mem.obs = &obs;
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[2], 1), 0); /* completion order 2, 0, 1 */
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[0], 2), 0);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &c[1], 3), 0);
    vqf_packed_dev_publish(&f.dev);
    f.mem.obs = NULL;
    int fl[3], body[3];
    for (unsigned s_ = 0; s_ < 3; s_++) {
        fl[s_] = rec_find_write(&r, 0, f.cfg.desc + s_ * 16u + VIRTQ_PDESC_FLAGS);
        body[s_] = rec_find_write(&r, 0, f.cfg.desc + s_ * 16u + VIRTQ_PDESC_ID);
        CHECK(fl[s_] > 0 && body[s_] >= 0 && body[s_] < fl[s_]);
    }
    CHECK(fl[0] > fl[1] && fl[0] > fl[2]);
    CHECK(rec_barrier_between(&r, body[2], fl[1] < fl[2] ? fl[1] : fl[2], VQF_BARRIER_WMB));
    CHECK(rec_barrier_between(&r, fl[1] > fl[2] ? fl[1] : fl[2], fl[0], VQF_BARRIER_WMB));
    CHECK_EQ(rec_count_event(&r, VQF_EV_DEV_PUSH), 3);
    CHECK_EQ(rec_count_event(&r, VQF_EV_DEV_PUBLISH), 1);
    /* the used descriptors sit in completion order (PACK-ORD-02) */
    CHECK_EQ(fx_id(&f, 0), 2);
    CHECK_EQ(fx_id(&f, 1), 0);
    CHECK_EQ(fx_id(&f, 2), 1);
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 2);
    CHECK_EQ(len, 1);
    drain(&f);
    CHECK_EQ(vqf_packed_drv_num_free(&f.drv), 8);
    fx_fini(&f);
}

/* 2.8.21.1 / PACK-DSC-05: the device reads the head flags, then (after a read barrier) the
 * rest; it reads no slot beyond the list it pops. */
static void test_pop_reads(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    struct vqf_seg sg[2] = {{f.buf, 8, 0}, {f.buf + 64, 8, 1}};
    CHECK(vqf_packed_drv_add(&f.drv, sg, 1, 1, 1, 0) >= 0);
    static struct rec r;
    struct vqf_observer obs = {rec_access, rec_event, rec_barrier, &r};
    r.n = 0;
    f.mem.obs = &obs;
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    f.mem.obs = NULL;
    CHECK(r.n > 2);
    CHECK(r.it[0].what == 0 && r.it[0].kind == VQF_ACC_READ && r.it[0].gpa == f.cfg.desc + VIRTQ_PDESC_FLAGS);
    CHECK(r.it[1].what == 1 && r.it[1].kind == VQF_BARRIER_RMB);
    unsigned beyond = 0;
    for (unsigned i = 0; i < r.n; i++)
        if (r.it[i].what == 0 && r.it[i].gpa >= f.cfg.desc + 2 * 16 && r.it[i].gpa < f.cfg.desc + 8 * 16)
            beyond++;
    CHECK_EQ(beyond, 0);
    CHECK_EQ(rec_count_event(&r, VQF_EV_DEV_POP), 1);
    fx_fini(&f);
}

/* PACK-DSC-07 / 2.9: with NOTIFICATION_DATA the value names the next slot to fill and the
 * driver wrap counter; without it, just the queue index. */
static void test_notification_data(void)
{
    struct fx f;
    fx_mem(&f, 3, VQF_BIT(VIRTIO_F_NOTIFICATION_DATA), (uint64_t)4 << 20, 4096);
    f.cfg.index = 5;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &f.cfg), 0);
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    CHECK_EQ(vqf_packed_drv_notify_value(&f.drv), 5u | (0u << 16) | (1u << 31));
    struct vqf_seg sg[2] = {{f.buf, 8, 0}, {f.buf, 8, 0}};
    CHECK(vqf_packed_drv_add(&f.drv, sg, 2, 0, 1, 0) >= 0);
    CHECK_EQ(vqf_packed_drv_notify_value(&f.drv), 5u | (2u << 16) | (1u << 31));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), 1);
    CHECK_EQ(vqf_packed_dev_push(&f.dev, &f.c, 0), 0);
    vqf_packed_dev_publish(&f.dev);
    drain(&f);
    CHECK(vqf_packed_drv_add(&f.drv, sg, 2, 0, 2, 0) >= 0); /* slots 2, 0: wraps */
    CHECK_EQ(vqf_packed_drv_notify_value(&f.drv), 5u | (1u << 16) | (0u << 31));
    CHECK_EQ(vqf_packed_drv_notify_value(&f.drv), vqf_notification_data(5, f.drv.next_avail, f.drv.avail_wrap));
    fx_fini(&f);

    fx_init(&f, 3, 0);
    f.drv.cfg.index = 9;
    CHECK(vqf_packed_drv_add(&f.drv, sg, 1, 0, 1, 0) >= 0);
    CHECK_EQ(vqf_packed_drv_notify_value(&f.drv), 9);
    fx_fini(&f);
}

/* Re-init: host arrays grow only when the size exceeds the capacity; every counter starts
 * over (wrap counters at 1, 2.8.1); dev_free / drv_free release them. */
static void test_reinit(void)
{
    struct fx f;
    fx_mem(&f, 256, 0, (uint64_t)4 << 20, 1 << 20);
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &f.cfg), 0);
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    for (unsigned i = 0; i < 300; i++) {
        round_trip(&f, 1);
        drain(&f);
    }
    CHECK(!f.drv.avail_wrap);
    CHECK_EQ(f.drv.next_avail, 300 - 256);
    uint8_t *busy = f.dev.id_busy;
    struct vqf_packed_drv_slot *ids = f.drv.ids;
    f.cfg.size = 64;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &f.cfg), 0);
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    CHECK(f.dev.id_busy == busy);
    CHECK(f.drv.ids == ids);
    CHECK_EQ(f.dev.cap, 256);
    CHECK(f.drv.avail_wrap && f.drv.used_wrap && f.dev.avail_wrap && f.dev.used_wrap);
    CHECK_EQ(f.drv.next_avail, 0);
    CHECK_EQ(f.dev.next_avail, 0);
    CHECK_EQ(vqf_packed_drv_num_free(&f.drv), 64);
    for (unsigned i = 0; i < 100; i++) {
        round_trip(&f, 1);
        drain(&f);
    }
    CHECK(!f.drv.broken && !f.dev.broken);
    /* a broken half comes back with init */
    fx_raw(&f, f.dev.next_avail, FX_HOLE, 8, 0, fx_avail(f.dev.avail_wrap));
    CHECK_EQ(vqf_packed_dev_pop(&f.dev, &f.c), -VQF_ERR_ADDR);
    f.cfg.size = 512; /* a fresh, larger ring */
    f.cfg.desc = vqf_galloc_alloc(&f.ga, 512 * 16, 16);
    f.cfg.driver = vqf_galloc_alloc(&f.ga, 4, 4);
    f.cfg.device = vqf_galloc_alloc(&f.ga, 4, 4);
    f.cfg.ind_pool = 0;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &f.cfg), 0);
    CHECK_EQ(vqf_packed_dev_init(&f.dev, &f.vdma, &f.cfg), 0);
    CHECK_EQ(f.dev.cap, 512);
    CHECK_EQ(f.drv.cap, 512);
    CHECK(!f.dev.broken);
    round_trip(&f, 1);
    drain(&f);
    CHECK_EQ(f.drv.last_used, 1);
    fx_fini(&f);
    CHECK(f.dev.id_busy == NULL);
}

int main(void)
{
    test_laps();
    test_laps_indirect();
    test_laps_in_order();
    test_indirect();
    test_notify_flags();
    test_notify_desc();
    test_notify_desc_batch();
    test_kick();
    test_enable_cb();
    test_in_order_batch();
    test_publish_order();
    test_pop_reads();
    test_notification_data();
    test_reinit();
    return check_report("test_packed_flow");
}
