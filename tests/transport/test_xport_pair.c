/* The driver core (vdrv) against the device register file (vdev) with the loop backend:
 * chapter-3 initialisation, feature dependencies, queue setup on split and packed rings,
 * kick -> poll -> used -> interrupt -> ack, NOTIFICATION_DATA, the config generation loop,
 * DEVICE_NEEDS_RESET, queue reset and re-enable, STATUS-05, suspend (3.4). */
#include <string.h>

#include "tests/check.h"
#include "tests/transport/world.h"

#define V1 VQF_BIT(VIRTIO_F_VERSION_1)
#define PACKED VQF_BIT(VIRTIO_F_RING_PACKED)

static const char *fmt_name(int packed) { return packed ? "packed" : "split"; }

/* 3.1.1 + 4.2.3.1: the full sequence ends with ACKNOWLEDGE | DRIVER | FEATURES_OK; the
 * negotiated set is offered & wanted plus VERSION_1 (RSVD-01), bits >= 64 included, and
 * nothing outside the offer (FEAT-01). */
static void test_negotiate(void)
{
    struct tw w;
    uint64_t off0 = VQF_BIT(0) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_IN_ORDER);
    uint64_t off1 = VQF_BIT(70 - 64) | VQF_BIT(127 - 64);
    CHECK(tw_init(&w, 1, 64, off0, off1) == 0);
    uint64_t want[2] = {~0ull & ~VQF_BIT(VIRTIO_F_IN_ORDER) & ~V1, ~0ull & ~VQF_BIT(127 - 64)};
    CHECK(vqf_vdrv_negotiate(&w.drv, TW_DEVICE_ID, want) == 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS),
             VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(w.drv.dev_features[0], off0 | V1);
    CHECK_EQ(w.drv.dev_features[1], off1);
    CHECK_EQ(w.drv.features[0], VQF_BIT(0) | VQF_BIT(VIRTIO_F_EVENT_IDX) | V1);
    CHECK_EQ(w.drv.features[1], VQF_BIT(70 - 64));
    CHECK_EQ(w.dev.drv_features[0], w.drv.features[0]); /* what the device saw */
    CHECK_EQ(w.dev.drv_features[1], w.drv.features[1]);
    CHECK(vqf_vdrv_has(&w.drv, 70) && vqf_vdev_has(&w.dev, 70) && !vqf_vdrv_has(&w.drv, 127));
    CHECK(!w.drv.failed);
    tw_fini(&w);
}

/* FEAT-02 (2.2.1, 5.1.3.1): a net driver never accepts a bit without its prerequisites, even
 * when the device offers it and the driver asks for it; drops cascade. */
static void test_negotiate_net_dependencies(void)
{
    struct tw w;
    uint64_t offer = VQF_BIT(VIRTIO_NET_F_GUEST_TSO4) | VQF_BIT(VIRTIO_NET_F_GUEST_TSO6) |
                     VQF_BIT(VIRTIO_NET_F_GUEST_CSUM) | VQF_BIT(VIRTIO_NET_F_HOST_TSO4) |
                     VQF_BIT(VIRTIO_NET_F_HOST_UFO) | VQF_BIT(13) /* HOST_ECN */ | VQF_BIT(VIRTIO_NET_F_MQ) |
                     VQF_BIT(VIRTIO_NET_F_CTRL_VQ) | VQF_BIT(VIRTIO_NET_F_MAC) | VQF_BIT(VIRTIO_NET_F_RSS);
    CHECK(tw_init(&w, 1, 64, offer, 0) == 0);
    /* the loop device plays a net device for this test: only the ID matters here */
    static struct vqf_vdev_ops net_like;
    net_like = *w.dev.ops;
    net_like.device_id = VIRTIO_ID_NET;
    w.dev.ops = &net_like;
    /* wanted: everything but CSUM (so HOST_* go) and CTRL_VQ (so MQ, RSS go) */
    uint64_t want[2] = {offer & ~VQF_BIT(VIRTIO_NET_F_CTRL_VQ), 0};
    CHECK(vqf_vdrv_negotiate(&w.drv, VIRTIO_ID_NET, want) == 0);
    uint64_t expect = VQF_BIT(VIRTIO_NET_F_GUEST_TSO4) | VQF_BIT(VIRTIO_NET_F_GUEST_TSO6) |
                      VQF_BIT(VIRTIO_NET_F_GUEST_CSUM) | VQF_BIT(VIRTIO_NET_F_MAC) | V1;
    CHECK_EQ(w.drv.features[0], expect);
    CHECK_EQ(w.dev.drv_features[0], expect);
    /* without GUEST_CSUM the guest offloads go too */
    want[0] = offer & ~VQF_BIT(VIRTIO_NET_F_GUEST_CSUM);
    CHECK(vqf_vdrv_negotiate(&w.drv, VIRTIO_ID_NET, want) == 0);
    CHECK(!vqf_vdrv_has(&w.drv, VIRTIO_NET_F_GUEST_TSO4) && !vqf_vdrv_has(&w.drv, VIRTIO_NET_F_GUEST_TSO6));
    CHECK(vqf_vdrv_has(&w.drv, VIRTIO_NET_F_MQ) && vqf_vdrv_has(&w.drv, VIRTIO_NET_F_RSS));
    CHECK(!vqf_vdrv_has(&w.drv, 13)); /* HOST_ECN: HOST_TSO4 needs CSUM, not offered */
    tw_fini(&w);
}

/* INIT-05/06 (3.1.1 step 6): the device refuses FEATURES_OK -> the driver sets FAILED and
 * stops; STATUS-03: negotiate again starts with a reset. 4.2.3.1.1: a device that is not
 * virtio-mmio v2 is ignored without any write; a device of another type gets FAILED. */
static void test_negotiate_failures(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, VQF_BIT(3), 0) == 0);
    uint64_t want[2] = {VQF_BIT(3), 0};
    w.loop.refuse_bits[0] = VQF_BIT(3);
    CHECK(vqf_vdrv_negotiate(&w.drv, TW_DEVICE_ID, want) == -1);
    CHECK(w.drv.failed);
    uint32_t st = tw_rd(&w, VIRTIO_MMIO_STATUS);
    CHECK((st & VIRTIO_STATUS_FAILED) && !(st & VIRTIO_STATUS_FEATURES_OK));
    w.loop.refuse_bits[0] = 0;
    unsigned resets = w.loop.resets;
    CHECK(vqf_vdrv_negotiate(&w.drv, TW_DEVICE_ID, want) == 0);
    CHECK_EQ(w.loop.resets, resets + 1);
    CHECK(!w.drv.failed);

    unsigned writes = w.mmio_writes;
    w.magic_override = 0x12345678u;
    CHECK(vqf_vdrv_negotiate(&w.drv, TW_DEVICE_ID, want) == -1);
    CHECK_EQ(w.mmio_writes, writes);
    w.magic_override = 0;
    CHECK(vqf_vdrv_negotiate(&w.drv, VIRTIO_ID_BLOCK, want) == -1);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FAILED));
    tw_fini(&w);
}

/* Queue setup (4.2.3.2) on both formats, then one request end to end: kick (4.2.3.3) ->
 * poll -> used -> interrupt -> InterruptStatus / InterruptACK (4.2.2). Split sizes are
 * rounded down to a power of two (2.7), packed ones are not (2.8). */
static void test_round_trip(int packed)
{
    unsigned failed_before = check_failed;
    struct tw w;
    CHECK(tw_init(&w, 2, 128, PACKED, 0) == 0);
    CHECK(tw_bring_up(&w, packed ? PACKED : 0, 0, 2, 100) == 0);
    CHECK_EQ(w.dev.q[0].vq.format, packed ? VQF_RING_PACKED : VQF_RING_SPLIT);
    CHECK_EQ(w.drv.q[0].vq.format, packed ? VQF_RING_PACKED : VQF_RING_SPLIT);
    uint16_t expect = packed ? 100 : 64;
    CHECK_EQ(tw_rd_sel(&w, 0, VIRTIO_MMIO_QUEUE_NUM), expect);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 1);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)w.drv.q[0].cfg.desc);
    CHECK(w.drv.q[0].cfg.desc % 16 == 0 && w.drv.q[0].cfg.device % 4 == 0); /* 2.7 / 2.8 alignment */
    CHECK(w.dev.q[0].live && w.dev.q[1].live);
    CHECK_EQ(w.loop.driver_oks, 1);

    uint64_t in_gpa = 0;
    CHECK(tw_add(&w, 1, 16, 32, 0xabc, 0x40, &in_gpa) >= 0);
    vqf_vdrv_kick(&w.drv, 1);
    CHECK(w.dev.q[1].kicked && !w.dev.q[0].kicked);
    CHECK_EQ(w.irqs, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 1);
    CHECK_EQ(w.loop.processed[1], 1);
    CHECK(w.irqs >= 1);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(vqf_vdrv_ack_interrupt(&w.drv), VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    uint32_t token = 0, len = 0;
    CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[1].vq, &token, &len), 1);
    CHECK_EQ(token, 0xabc);
    CHECK_EQ(len, 32);
    uint8_t buf[32];
    CHECK(vqf_dma_read(&w.drv.plat.dma, in_gpa, buf, 32) == 0);
    CHECK(buf[0] == 0x40 && buf[15] == 0x4f && buf[16] == 0 && buf[31] == 0);
    CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[1].vq, &token, &len), 0);
    /* nothing pending: a poll does no work */
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 0);

    /* more requests than the budget: the kick stays pending until all are done */
    for (uint32_t i = 0; i < 10; i++)
        CHECK(tw_add(&w, 0, 8, 8, i, (uint8_t)i, NULL) >= 0);
    vqf_vdrv_kick(&w.drv, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 4), 4);
    CHECK(w.dev.q[0].kicked);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 4), 4);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 4), 2);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 4), 0);
    for (uint32_t i = 0; i < 10; i++) {
        CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[0].vq, &token, &len), 1);
        CHECK_EQ(len, 8);
    }
    CHECK_EQ(w.dev.work, 11);
    if (check_failed != failed_before)
        fprintf(stderr, "  (round trip, %s)\n", fmt_name(packed));
    tw_fini(&w);
}

/* STATUS-05 (2.1.2), XPORT-M02: buffers made available and kicked before DRIVER_OK are not
 * consumed and the device reads no ring memory; they are once DRIVER_OK is set. */
static void test_nothing_before_driver_ok(int packed)
{
    unsigned failed_before = check_failed;
    struct tw w;
    CHECK(tw_init(&w, 1, 64, PACKED, 0) == 0);
    uint64_t want[2] = {packed ? PACKED : 0, 0};
    CHECK(vqf_vdrv_negotiate(&w.drv, TW_DEVICE_ID, want) == 0);
    CHECK(vqf_vdrv_setup_queue(&w.drv, 0, 16) == 0);
    CHECK(tw_add(&w, 0, 4, 4, 7, 1, NULL) >= 0);
    (void)vqf_vq_drv_kick_prepare(&w.drv.q[0].vq); /* publish, then kick regardless (INIT-07 broken) */
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    unsigned acc = w.dev_accesses;
    CHECK_EQ(vqf_vdev_poll(&w.dev, 16), 0);
    CHECK(vqf_vdev_vq(&w.dev, 0) == NULL);
    CHECK_EQ(w.dev_accesses, acc);
    CHECK_EQ(w.loop.process_calls, 0);
    CHECK_EQ(w.irqs, 0);
    vqf_vdrv_driver_ok(&w.drv);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 16), 1);
    CHECK(w.dev_accesses > acc);
    CHECK_EQ(w.loop.processed[0], 1);
    if (check_failed != failed_before)
        fprintf(stderr, "  (before DRIVER_OK, %s)\n", fmt_name(packed));
    tw_fini(&w);
}

/* NOTIFICATION_DATA (2.9, 4.2.3.3): QueueNotify carries vq_index | next_off | next_wrap; the
 * device keeps the word. Split: next_off = avail idx; packed: next slot and wrap counter. */
static void test_notification_data(int packed)
{
    unsigned failed_before = check_failed;
    struct tw w;
    uint64_t nd = VQF_BIT(VIRTIO_F_NOTIFICATION_DATA);
    CHECK(tw_init(&w, 2, 64, nd | PACKED, 0) == 0);
    CHECK(tw_bring_up(&w, nd | (packed ? PACKED : 0), 0, 2, 8) == 0);
    CHECK(tw_add(&w, 1, 4, 4, 1, 0, NULL) >= 0);
    CHECK(tw_add(&w, 1, 4, 4, 2, 0, NULL) >= 0);
    CHECK(tw_add(&w, 1, 4, 4, 3, 0, NULL) >= 0);
    vqf_vdrv_kick(&w.drv, 1);
    /* split: avail idx 3, wrap bit 0; packed: 3 two-descriptor chains = slot 6, wrap 1 */
    uint32_t expect = packed ? vqf_notification_data(1, 6, 1) : vqf_notification_data(1, 3, 0);
    CHECK_EQ(w.dev.q[1].notify_data, expect);
    CHECK(w.dev.q[1].kicked);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 16), 3);
    /* packed: the next round wraps the ring (8 slots): wrap counter flips */
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t t, l;
        CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[1].vq, &t, &l), 1);
    }
    CHECK(tw_add(&w, 1, 4, 4, 4, 0, NULL) >= 0);
    CHECK(tw_add(&w, 1, 4, 4, 5, 0, NULL) >= 0);
    vqf_vdrv_kick(&w.drv, 1);
    expect = packed ? vqf_notification_data(1, 2, 0) : vqf_notification_data(1, 5, 0);
    CHECK_EQ(w.dev.q[1].notify_data, expect);
    if (check_failed != failed_before)
        fprintf(stderr, "  (notification data, %s)\n", fmt_name(packed));
    tw_fini(&w);
}

/* The device changes config bytes 4..7 just before the driver reads them, as long as
 * tw.hook_state (counted down per change) allows. */
static void change_config_hook(struct tw *w, uint32_t off, unsigned size)
{
    (void)size;
    if (off == VIRTIO_MMIO_CONFIG + 4 && w->hook_state > 0) {
        w->hook_state--;
        uint8_t v[4] = {(uint8_t)(0xa0 + w->hook_state), 0xb0, 0xc0, 0xd0};
        vqf_vdev_config_set(&w->dev, 4, v, 4, false);
    }
}

/* CFG-02 (2.5.1) against CFG-08 (4.2.2.1): the driver reads ConfigGeneration before and
 * after, and retries while they differ; the value it returns is one the device really held.
 * A device that changes config on every read makes it give up after bounded tries. */
static void test_config_generation_loop(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, 0, 0) == 0);
    uint8_t buf[12];
    CHECK(vqf_vdrv_config_read(&w.drv, 0, buf, sizeof(buf)) == 0);
    CHECK(buf[0] == 0x10 && buf[11] == 0x1b);

    w.on_read = change_config_hook;
    w.hook_state = 3; /* three torn attempts, then a clean one */
    unsigned reads = w.mmio_reads;
    CHECK(vqf_vdrv_config_read(&w.drv, 2, buf, 8) == 0);
    /* 4 attempts of gen + (16-bit at 2, 32-bit at 4, 16-bit at 8) + gen */
    CHECK_EQ(w.mmio_reads - reads, 4 * 5);
    CHECK(buf[0] == 0x12 && buf[1] == 0x13);
    CHECK(buf[2] == 0xa0 && buf[3] == 0xb0 && buf[4] == 0xc0 && buf[5] == 0xd0);
    CHECK(buf[6] == 0x18 && buf[7] == 0x19);

    w.hook_state = 1000; /* never stable */
    CHECK(vqf_vdrv_config_read(&w.drv, 0, buf, 8) == -1);
    CHECK(w.hook_state > 900 && w.hook_state < 1000); /* retried, but a bounded number of times */
    w.on_read = NULL;

    /* config_write splits like reads: 8-bit, 16-bit, 32-bit as alignment allows */
    uint8_t out[7] = {1, 2, 3, 4, 5, 6, 7};
    unsigned cw = w.loop.config_writes;
    vqf_vdrv_config_write(&w.drv, 1, out, 7); /* 1: 8-bit, 2: 16-bit, 4: 32-bit */
    CHECK_EQ(w.loop.config_writes, cw + 3);
    CHECK(memcmp(w.dev.config + 1, out, 7) == 0);
    tw_fini(&w);
}

/* 2.1.2 STATUS-06/07: a ring error (a head index past the queue size, D-05) puts the device
 * in DEVICE_NEEDS_RESET with a config interrupt; the driver notices it in ack_interrupt;
 * nothing more is processed; a reset and a new initialisation bring it back. */
static void test_needs_reset_on_ring_error(int packed)
{
    unsigned failed_before = check_failed;
    struct tw w;
    CHECK(tw_init(&w, 1, 16, PACKED, 0) == 0);
    CHECK(tw_bring_up(&w, packed ? PACKED : 0, 0, 1, 16) == 0);
    CHECK(tw_add(&w, 0, 4, 4, 1, 0, NULL) >= 0);
    /* corrupt what the driver published: an out-of-range head (split) / an out-of-range
     * buffer id (packed) */
    if (packed) {
        /* both descriptors of the chain: the id is read from the last one (2.8.6) */
        CHECK(vqf_dma_write16(&w.drv.plat.dma, w.drv.q[0].cfg.desc + VIRTQ_PDESC_ID, 0x7777) == 0);
        CHECK(vqf_dma_write16(&w.drv.plat.dma, w.drv.q[0].cfg.desc + 16 + VIRTQ_PDESC_ID, 0x7777) == 0);
    } else {
        CHECK(vqf_dma_write16(&w.drv.plat.dma, w.drv.q[0].cfg.driver + VIRTQ_AVAIL_RING(0), 0x7777) == 0);
    }
    vqf_vdrv_kick(&w.drv, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 0);
    CHECK(w.loop.last_err != 0);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    CHECK(vqf_vdev_vq(&w.dev, 0) == NULL);
    CHECK_EQ(vqf_vdrv_ack_interrupt(&w.drv), VIRTIO_MMIO_INT_CONFIG);
    CHECK(w.drv.needs_reset);
    /* stopped: a new kick does nothing */
    unsigned calls = w.loop.process_calls;
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 0);
    CHECK_EQ(w.loop.process_calls, calls);
    /* 3.1.1 again: reset, renegotiate, a fresh ring works */
    vqf_vdrv_reset(&w.drv);
    CHECK(!w.drv.needs_reset && w.drv.num_queues == 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), 0);
    CHECK(tw_bring_up(&w, packed ? PACKED : 0, 0, 1, 16) == 0);
    CHECK(tw_add(&w, 0, 4, 4, 9, 0, NULL) >= 0);
    vqf_vdrv_kick(&w.drv, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 1);
    uint32_t t = 0, l = 0;
    CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[0].vq, &t, &l), 1);
    CHECK_EQ(t, 9);
    if (check_failed != failed_before)
        fprintf(stderr, "  (needs reset, %s)\n", fmt_name(packed));
    tw_fini(&w);
}

/* 2.6.1 with VIRTIO_F_RING_RESET (XPORT-M05..M07, VQRST-01/02/03/05): QueueReset = 1 stops
 * and resets the queue, QueueReset and QueueReady read 0, QueueSize reads the maximum again;
 * the re-enabled queue may have another size and starts from index 0. Without RING_RESET
 * negotiated QueueReset does nothing. */
static void test_queue_reset(int packed)
{
    unsigned failed_before = check_failed;
    struct tw w;
    uint64_t rr = VQF_BIT(VIRTIO_F_RING_RESET);
    CHECK(tw_init(&w, 2, 64, rr | PACKED, 0) == 0);
    CHECK(tw_bring_up(&w, rr | (packed ? PACKED : 0), 0, 2, 16) == 0);
    uint32_t t, l;
    for (uint32_t i = 0; i < 5; i++) {
        CHECK(tw_add(&w, 0, 4, 4, i, 0, NULL) >= 0);
        vqf_vdrv_kick(&w.drv, 0);
        CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 1);
        CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[0].vq, &t, &l), 1);
    }
    /* the register half by hand first */
    tw_wr(&w, VIRTIO_MMIO_QUEUE_SEL, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_RESET, 1);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_RESET), 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_NUM), 64);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
    CHECK(!w.dev.q[0].live && w.dev.q[1].live);
    CHECK_EQ(w.loop.queue_resets, 1);
    /* VQRST-01: a kick for the reset queue is not executed */
    unsigned acc = w.dev_accesses;
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 0);
    CHECK_EQ(w.dev_accesses, acc);
    /* re-enable through the driver core with another size */
    w.drv.queue_size = 8;
    CHECK(vqf_vdrv_queue_reset(&w.drv, 0) == 0);
    CHECK_EQ(tw_rd_sel(&w, 0, VIRTIO_MMIO_QUEUE_NUM), 8);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 1);
    CHECK(w.dev.q[0].live);
    CHECK_EQ(w.dev.q[0].vq.format, packed ? VQF_RING_PACKED : VQF_RING_SPLIT);
    /* VQRST-02: the device starts again at avail index 0 / slot 0 */
    if (packed) {
        CHECK_EQ(w.dev.q[0].vq.u.packed.next_avail, 0);
        CHECK(w.dev.q[0].vq.u.packed.avail_wrap);
    } else {
        CHECK_EQ(w.dev.q[0].vq.u.split.last_avail, 0);
    }
    for (uint32_t i = 0; i < 12; i++) { /* more than the new size: wraps the ring */
        CHECK(tw_add(&w, 0, 4, 4, 100 + i, 0, NULL) >= 0);
        vqf_vdrv_kick(&w.drv, 0);
        CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 1);
        CHECK_EQ(vqf_vq_drv_get_used(&w.drv.q[0].vq, &t, &l), 1);
        CHECK_EQ(t, 100 + i);
    }
    CHECK(!(tw_rd(&w, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    if (check_failed != failed_before)
        fprintf(stderr, "  (queue reset, %s)\n", fmt_name(packed));
    tw_fini(&w);
}

/* VQRST-03 / XPORT-M12 and RESET-03: the driver relies on a queue reset or a device reset
 * only once the register reads 0, waiting while it reads 1 / non-zero; a device that never
 * finishes makes it give up (bounded) instead of hanging. */
static void test_slow_resets(void)
{
    struct tw w;
    uint64_t rr = VQF_BIT(VIRTIO_F_RING_RESET);
    CHECK(tw_init(&w, 1, 64, rr, 0) == 0);
    CHECK(tw_bring_up(&w, rr, 0, 1, 16) == 0);
    w.stall_off = VIRTIO_MMIO_QUEUE_RESET;
    w.stall_val = 1;
    w.stall_reads = 3;
    CHECK(vqf_vdrv_queue_reset(&w.drv, 0) == 0);
    CHECK_EQ(w.stall_seen, 3);
    CHECK(w.dev.q[0].live && w.drv.q[0].live);
    w.stall_reads = 100000;
    CHECK(vqf_vdrv_queue_reset(&w.drv, 0) == -1);
    CHECK(!w.drv.q[0].live); /* not re-enabled on an unconfirmed reset */
    CHECK(w.stall_reads > 90000);
    w.stall_reads = 0;

    w.stall_off = VIRTIO_MMIO_STATUS;
    w.stall_val = VIRTIO_STATUS_ACKNOWLEDGE;
    w.stall_reads = 5;
    w.stall_seen = 0;
    CHECK(tw_bring_up(&w, rr, 0, 1, 16) == 0);
    CHECK_EQ(w.stall_seen, 5);
    w.stall_reads = 100000;
    uint64_t want[2] = {rr, 0};
    CHECK(vqf_vdrv_negotiate(&w.drv, TW_DEVICE_ID, want) == -1);
    CHECK(w.drv.failed);
    CHECK(w.stall_reads > 90000);
    tw_fini(&w);
}

static void test_queue_reset_not_negotiated(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, VQF_BIT(VIRTIO_F_RING_RESET), 0) == 0);
    CHECK(tw_bring_up(&w, 0, 0, 1, 16) == 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_SEL, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_RESET, 1);
    CHECK(w.dev.q[0].live);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 1);
    CHECK_EQ(w.loop.queue_resets, 0);
    CHECK(vqf_vdrv_queue_reset(&w.drv, 0) == -1); /* the driver does not try either */
    tw_fini(&w);
}

/* XPORT-M10 (4.2.2.2): QueueReady = 0 stops the queue; re-programming it and writing 1 after
 * DRIVER_OK brings it back live at once from the new registers. */
static void test_queue_ready_toggle(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, 0, 0) == 0);
    CHECK(tw_bring_up(&w, 0, 0, 1, 32) == 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_SEL, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK(!w.dev.q[0].live);
    CHECK_EQ(w.loop.queue_resets, 1);
    w.drv.q[0].live = false;
    CHECK(vqf_vdrv_setup_queue(&w.drv, 0, 16) == 0);
    CHECK(w.dev.q[0].live);
    CHECK_EQ(w.dev.q[0].vq.u.split.cfg.size, 16);
    CHECK(tw_add(&w, 0, 4, 4, 5, 0, NULL) >= 0);
    vqf_vdrv_kick(&w.drv, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 1);
    /* a bad size written before enabling: refused at go-live -> NEEDS_RESET (2.7) */
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NUM, 12); /* not a power of two for a split ring */
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK(!w.dev.q[0].live);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    tw_fini(&w);
}

/* 3.4 with VIRTIO_F_SUSPEND: SUSPEND makes the device present SUSPEND = 1, DRIVER_OK = 0;
 * no queue is processed and config notifications wait; DRIVER_OK resumes. Without the
 * feature the SUSPEND bit is ignored. */
static void test_suspend(void)
{
    struct tw w;
    uint64_t sus = VQF_BIT(VIRTIO_F_SUSPEND);
    CHECK(tw_init(&w, 1, 64, sus, 0) == 0);
    CHECK(tw_bring_up(&w, 0, 0, 1, 16) == 0);
    uint32_t st = tw_rd(&w, VIRTIO_MMIO_STATUS);
    tw_wr(&w, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_SUSPEND);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), st); /* not negotiated: ignored */

    CHECK(tw_bring_up(&w, sus, 0, 1, 16) == 0);
    st = tw_rd(&w, VIRTIO_MMIO_STATUS);
    tw_wr(&w, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_SUSPEND);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), (st & ~VIRTIO_STATUS_DRIVER_OK) | VIRTIO_STATUS_SUSPEND);
    CHECK(tw_add(&w, 0, 4, 4, 1, 0, NULL) >= 0);
    vqf_vdrv_kick(&w.drv, 0);
    uint8_t v = 1;
    unsigned irqs = w.irqs;
    vqf_vdev_config_set(&w.dev, 0, &v, 1, true);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 0);
    CHECK_EQ(w.irqs, irqs);
    tw_wr(&w, VIRTIO_MMIO_STATUS, st); /* resume: DRIVER_OK again */
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), st);
    CHECK(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 8), 1);
    tw_fini(&w);
}

int main(void)
{
    test_negotiate();
    test_negotiate_net_dependencies();
    test_negotiate_failures();
    test_config_generation_loop();
    test_queue_reset_not_negotiated();
    test_slow_resets();
    test_queue_ready_toggle();
    test_suspend();
    for (int packed = 0; packed < 2; packed++) {
        test_round_trip(packed);
        test_nothing_before_driver_ok(packed);
        test_notification_data(packed);
        test_needs_reset_on_ring_error(packed);
        test_queue_reset(packed);
    }
    return check_report("test_xport_pair");
}
