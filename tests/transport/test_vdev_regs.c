/* The device side of virtio-mmio (spec 4.2.2) at the register level: identification,
 * feature windows, FEATURES_OK refusal, reset, wrong-size and undefined accesses, the
 * protection of ready queues, QueueReset, the config window, DEVICE_NEEDS_RESET. */
#include <string.h>

#include "tests/check.h"
#include "tests/transport/world.h"

#define ST_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define ST_DRV VIRTIO_STATUS_DRIVER
#define ST_FOK VIRTIO_STATUS_FEATURES_OK
#define ST_DOK VIRTIO_STATUS_DRIVER_OK
#define ST_NR VIRTIO_STATUS_DEVICE_NEEDS_RESET

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    /* xorshift64*, fixed seed: deterministic */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Write the 128-bit accepted set through the DriverFeatures windows. */
static void write_features(struct tw *w, uint64_t f0, uint64_t f1)
{
    uint64_t f[2] = {f0, f1};
    for (uint32_t sel = 0; sel < 4; sel++) {
        tw_wr(w, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        tw_wr(w, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f[sel / 2] >> (32 * (sel % 2))));
    }
}

static uint32_t try_features(struct tw *w, uint64_t f0, uint64_t f1)
{
    tw_wr(w, VIRTIO_MMIO_STATUS, 0);
    tw_wr(w, VIRTIO_MMIO_STATUS, ST_ACK);
    tw_wr(w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
    write_features(w, f0, f1);
    tw_wr(w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
    return tw_rd(w, VIRTIO_MMIO_STATUS);
}

/* 4.2.2.1: MagicValue "virt", Version 2; DeviceID and VendorID. */
static void test_identification(void)
{
    struct tw w;
    CHECK(tw_init(&w, 2, 64, 0, 0) == 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_DEVICE_ID), TW_DEVICE_ID);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_VENDOR_ID), VQF_VDEV_VENDOR_ID);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), 0); /* 2.1: starts out as 0 */
    tw_fini(&w);
}

/* 4.2.2 DeviceFeatures/DeviceFeaturesSel: window n = bits 32n..32n+31, 128 bits; RSVD-14:
 * VERSION_1 is offered even when the backend forgot it. */
static void test_feature_windows(void)
{
    struct tw w;
    uint64_t f0 = VQF_BIT(0) | VQF_BIT(31) | VQF_BIT(VIRTIO_F_RING_RESET) | VQF_BIT(63);
    uint64_t f1 = VQF_BIT(70 - 64) | VQF_BIT(127 - 64);
    CHECK(tw_init(&w, 1, 64, f0, f1) == 0);
    uint32_t want[4] = {(uint32_t)f0, (uint32_t)(f0 >> 32) | (1u << (VIRTIO_F_VERSION_1 - 32)), (uint32_t)f1,
                        (uint32_t)(f1 >> 32)};
    for (uint32_t sel = 0; sel < 4; sel++) {
        tw_wr(&w, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_DEVICE_FEATURES), want[sel]);
    }
    CHECK(want[2] & (1u << 6));  /* bit 70 */
    CHECK(want[3] & (1u << 31)); /* bit 127 */
    /* windows past bit 127 read 0 */
    uint32_t sels[] = {4, 5, 0x80000000u, 0xffffffffu};
    for (unsigned i = 0; i < 4; i++) {
        tw_wr(&w, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sels[i]);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    }
    tw_fini(&w);
}

/* DriverFeatures: stored per window (bits >= 64 too); past window 3 ignored; frozen once
 * FEATURES_OK is accepted (3.1.1 step 5, INIT-04) until reset. */
static void test_driver_feature_windows(void)
{
    struct tw w;
    uint64_t f0 = VQF_BIT(3) | VQF_BIT(VIRTIO_F_EVENT_IDX);
    uint64_t f1 = VQF_BIT(66 - 64) | VQF_BIT(100 - 64);
    CHECK(tw_init(&w, 1, 64, f0, f1) == 0);
    write_features(&w, f0 | VQF_BIT(VIRTIO_F_VERSION_1), f1);
    tw_wr(&w, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 7);
    tw_wr(&w, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffffu); /* no such window */
    CHECK_EQ(w.dev.drv_features[0], f0 | VQF_BIT(VIRTIO_F_VERSION_1));
    CHECK_EQ(w.dev.drv_features[1], f1);
    CHECK(vqf_vdev_has(&w.dev, 66) && vqf_vdev_has(&w.dev, 100) && !vqf_vdev_has(&w.dev, 101));
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) & ST_FOK);
    /* after FEATURES_OK: ignored */
    write_features(&w, 0, 0);
    CHECK_EQ(w.dev.drv_features[0], f0 | VQF_BIT(VIRTIO_F_VERSION_1));
    CHECK_EQ(w.dev.drv_features[1], f1);
    /* even if the driver then clears FEATURES_OK (it must not, STATUS-02) */
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
    write_features(&w, 0, 0);
    CHECK_EQ(w.dev.drv_features[1], f1);
    tw_fini(&w);
}

/* FEAT-11 (2.2.2): a refused subset leaves FEATURES_OK clear: a bit not offered (low and
 * high words), VERSION_1 missing, or the backend's own refusal. FEAT-13: the same accepted
 * set is accepted again after a reset. */
static void test_features_ok_refusal(void)
{
    struct tw w;
    uint64_t f0 = VQF_BIT(1) | VQF_BIT(VIRTIO_F_RING_PACKED);
    uint64_t f1 = VQF_BIT(80 - 64);
    uint64_t v1 = VQF_BIT(VIRTIO_F_VERSION_1);
    CHECK(tw_init(&w, 1, 64, f0, f1) == 0);
    CHECK(!(try_features(&w, v1 | VQF_BIT(2), 0) & ST_FOK));       /* bit 2 not offered */
    CHECK(!(try_features(&w, v1, VQF_BIT(81 - 64)) & ST_FOK));     /* bit 81 not offered */
    CHECK(!(try_features(&w, VQF_BIT(1), f1) & ST_FOK));           /* no VERSION_1 */
    unsigned calls = w.loop.features_ok_calls;
    w.loop.refuse_bits[1] = VQF_BIT(80 - 64);
    CHECK(!(try_features(&w, v1, f1) & ST_FOK)); /* the backend says no */
    CHECK_EQ(w.loop.features_ok_calls, calls + 1);
    /* the refused status still holds the other bits, and DRIVER_OK cannot make it live */
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), ST_ACK | ST_DRV);
    w.loop.refuse_bits[1] = 0;
    CHECK(try_features(&w, v1 | f0, f1) & ST_FOK);
    CHECK(try_features(&w, v1 | f0, f1) & ST_FOK); /* FEAT-13 after reset */
    CHECK(try_features(&w, v1, 0) & ST_FOK);       /* any valid subset (FEAT-10) */
    tw_fini(&w);
}

/* 4.2.2.2: control registers take 32-bit accesses only; 8/16/64-bit reads return 0 and
 * such writes change nothing. Undefined offsets read 0 and ignore writes. Read-only
 * registers ignore writes. */
static void test_bad_accesses(void)
{
    struct tw w;
    CHECK(tw_init(&w, 2, 64, VQF_BIT(5), 0) == 0);
    static const unsigned sizes[] = {0, 1, 2, 3, 8};
    for (uint32_t off = 0; off < VIRTIO_MMIO_CONFIG; off++)
        for (unsigned s = 0; s < 5; s++)
            CHECK(vqf_vdev_mmio_read(&w.dev, off, sizes[s]) == 0);
    /* wrong-size writes to every control register, including Status and QueueNotify */
    for (uint32_t off = 0; off < VIRTIO_MMIO_CONFIG; off += 2)
        for (unsigned s = 0; s < 5; s++)
            vqf_vdev_mmio_write(&w.dev, off, sizes[s], 0xffffffffu);
    CHECK_EQ(w.dev.status, 0);
    CHECK_EQ(w.dev.drv_features[0], 0);
    CHECK_EQ(w.dev.q[0].num, 64);
    CHECK(!w.dev.q[0].kicked && !w.dev.q[0].ready);
    /* 32-bit accesses to offsets the table does not define, and to unaligned offsets */
    static const uint32_t undef[] = {0x018, 0x01c, 0x028, 0x03c, 0x040, 0x048, 0x054, 0x068, 0x074,
                                     0x088, 0x098, 0x0a8, 0x0c4, 0x0f8, 0x002, 0x071, 0x0fd};
    struct vqf_vdev before;
    memcpy(&before, &w.dev, sizeof(before));
    for (unsigned i = 0; i < sizeof(undef) / sizeof(undef[0]); i++) {
        CHECK_EQ(vqf_vdev_mmio_read(&w.dev, undef[i], 4), 0);
        vqf_vdev_mmio_write(&w.dev, undef[i], 4, rnd());
    }
    /* read-only registers */
    static const uint32_t ro[] = {VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID,
                                  VIRTIO_MMIO_VENDOR_ID,   VIRTIO_MMIO_DEVICE_FEATURES,
                                  VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_INTERRUPT_STATUS,
                                  VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_SHM_LEN_LOW};
    for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
        vqf_vdev_mmio_write(&w.dev, ro[i], 4, rnd());
    CHECK(memcmp(&before, &w.dev, sizeof(before)) == 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    CHECK_EQ(tw_rd_sel(&w, 0, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
    /* no shared memory regions: length reads -1 (4.2.2 SHMLen) */
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
    /* A random storm of accesses anywhere in the window never crashes (run under ASan). */
    for (unsigned i = 0; i < 20000; i++) {
        uint32_t off = rnd() % 0x400, v = rnd();
        unsigned sz = sizes[rnd() % 5];
        if (off == VIRTIO_MMIO_STATUS && (v & ST_DOK))
            v &= ~ST_DOK; /* keep the rings out of this one: only registers */
        if (rnd() & 1)
            vqf_vdev_mmio_write(&w.dev, off, sz, v);
        else
            (void)vqf_vdev_mmio_read(&w.dev, off, sz);
    }
    /* STATUS-05: without DRIVER_OK nothing of that touched guest memory */
    CHECK_EQ(w.dev_accesses, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    tw_fini(&w);
}

/* QueueSel past the last queue: QueueSizeMax reads 0 (the queue is not available, 4.2.2),
 * and the queue registers do nothing. */
static void test_missing_queue(void)
{
    struct tw w;
    CHECK(tw_init(&w, 2, 128, 0, 0) == 0);
    CHECK_EQ(tw_rd_sel(&w, 0, VIRTIO_MMIO_QUEUE_NUM_MAX), 128);
    CHECK_EQ(tw_rd_sel(&w, 1, VIRTIO_MMIO_QUEUE_NUM_MAX), 128);
    CHECK_EQ(tw_rd_sel(&w, 2, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    CHECK_EQ(tw_rd_sel(&w, 0xffff, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_SEL, 2);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NUM, 8);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 2); /* kick of a queue that does not exist */
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
    CHECK(!w.dev.q[0].kicked && !w.dev.q[1].kicked);
    tw_fini(&w);
}

/* XPORT-M09 (4.2.2.2): while QueueReady is 1 the driver must not touch QueueSize or the
 * address registers; the device ignores such writes. XPORT-M10: QueueReady = 0 stops the
 * queue and makes the registers writable again. */
static void test_ready_queue_protected(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, 0, 0) == 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_SEL, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NUM, 16);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x11000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x12000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x13000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 1);
    static const uint32_t regs[] = {VIRTIO_MMIO_QUEUE_NUM,         VIRTIO_MMIO_QUEUE_DESC_LOW,
                                    VIRTIO_MMIO_QUEUE_DESC_HIGH,   VIRTIO_MMIO_QUEUE_DRIVER_LOW,
                                    VIRTIO_MMIO_QUEUE_DRIVER_HIGH, VIRTIO_MMIO_QUEUE_DEVICE_LOW,
                                    VIRTIO_MMIO_QUEUE_DEVICE_HIGH};
    for (unsigned i = 0; i < 7; i++)
        tw_wr(&w, regs[i], 0xdead0000u);
    CHECK_EQ(w.dev.q[0].num, 16);
    CHECK_EQ(w.dev.q[0].desc, 0x11000);
    CHECK_EQ(w.dev.q[0].driver, 0x12000);
    CHECK_EQ(w.dev.q[0].device, 0x13000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_READY), 0); /* XPORT-M11: reads back 0 */
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NUM, 32);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
    CHECK_EQ(w.dev.q[0].num, 32);
    CHECK_EQ(w.dev.q[0].desc, 0x100011000ull);
    tw_fini(&w);
}

/* The config window at 0x100 (4.2.2 Config): 8/16/32-bit little-endian accesses at any
 * byte offset; past config_len reads 0 and writes are ignored. */
static void test_config_window(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, 0, 0) == 0);
    /* config[i] = 0x10 + i (world.c) */
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 0, 1), 0x10);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 2, 2), 0x1312);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 4, 4), 0x17161514u);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 5, 4), 0x18171615u); /* unaligned */
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 4, 8), 0);           /* no 64-bit */
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 4, 3), 0);
    /* straddling the end: the bytes inside, zeroes beyond */
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + TW_CONFIG_LEN - 2, 4), 0x2726);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + TW_CONFIG_LEN, 4), 0);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, 0xffffffffu, 1), 0);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, 0xfffffffeu, 4), 0);
    /* writes: stored little-endian, backend told */
    vqf_vdev_mmio_write(&w.dev, VIRTIO_MMIO_CONFIG + 8, 4, 0xa1b2c3d4u);
    CHECK(w.dev.config[8] == 0xd4 && w.dev.config[11] == 0xa1);
    CHECK(w.loop.config_writes == 1 && w.loop.last_cfg_off == 8 && w.loop.last_cfg_size == 4 &&
          w.loop.last_cfg_val == 0xa1b2c3d4u);
    vqf_vdev_mmio_write(&w.dev, VIRTIO_MMIO_CONFIG + 1, 1, 0x99);
    CHECK_EQ(w.dev.config[1], 0x99);
    uint8_t snapshot[VQF_VDEV_CONFIG_MAX];
    memcpy(snapshot, w.dev.config, sizeof(snapshot));
    vqf_vdev_mmio_write(&w.dev, VIRTIO_MMIO_CONFIG + TW_CONFIG_LEN - 2, 4, 0xffffffffu); /* straddles */
    vqf_vdev_mmio_write(&w.dev, VIRTIO_MMIO_CONFIG + TW_CONFIG_LEN, 1, 0xff);
    vqf_vdev_mmio_write(&w.dev, VIRTIO_MMIO_CONFIG + 0xff, 4, 0xffffffffu);
    vqf_vdev_mmio_write(&w.dev, 0xfffffffdu, 4, 0xffffffffu);
    vqf_vdev_mmio_write(&w.dev, VIRTIO_MMIO_CONFIG, 8, 0xffffffffu);
    CHECK(memcmp(snapshot, w.dev.config, sizeof(snapshot)) == 0);
    CHECK_EQ(w.loop.config_writes, 2);
    /* CFG-08 (4.2.2.1): a device-side change moves ConfigGeneration; a change with notify
     * raises the config interrupt only once DRIVER_OK is set. */
    uint32_t gen = tw_rd(&w, VIRTIO_MMIO_CONFIG_GENERATION);
    uint8_t v = 0x42;
    vqf_vdev_config_set(&w.dev, 3, &v, 1, true);
    CHECK(tw_rd(&w, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
    CHECK_EQ(vqf_vdev_mmio_read(&w.dev, VIRTIO_MMIO_CONFIG + 3, 1), 0x42);
    CHECK_EQ(w.irqs, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    vqf_vdev_config_set(&w.dev, VQF_VDEV_CONFIG_MAX - 1, &v, 2, true); /* out of range: ignored */
    tw_fini(&w);
}

/* 2.1.2 STATUS-06/07: DEVICE_NEEDS_RESET is device-owned and sticky until reset; with
 * DRIVER_OK set it comes with a configuration change notification; InterruptACK clears
 * only the acknowledged bits (4.2.2.1). */
static void test_needs_reset(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, 0, 0) == 0);
    /* the driver cannot set it */
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_NR);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), ST_ACK);
    /* before DRIVER_OK: set, but no interrupt */
    vqf_vdev_set_needs_reset(&w.dev);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) & ST_NR);
    CHECK_EQ(w.irqs, 0);
    tw_wr(&w, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), 0);
    /* after DRIVER_OK: interrupt with the config bit */
    CHECK(try_features(&w, VQF_BIT(VIRTIO_F_VERSION_1), 0) & ST_FOK);
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK);
    CHECK_EQ(w.loop.driver_oks, 1);
    vqf_vdev_raise(&w.dev, VIRTIO_MMIO_INT_VRING);
    vqf_vdev_set_needs_reset(&w.dev);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), ST_ACK | ST_DRV | ST_FOK | ST_DOK | ST_NR);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    CHECK_EQ(w.irqs, 2);
    tw_wr(&w, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    /* one notification per transition */
    vqf_vdev_set_needs_reset(&w.dev);
    CHECK_EQ(w.irqs, 2);
    /* sticky against a driver write that leaves it out */
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_FOK | ST_DOK | VIRTIO_STATUS_FAILED);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) & ST_NR);
    tw_wr(&w, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    tw_fini(&w);
}

/* 3.1.1: DRIVER_OK without FEATURES_OK (refused or never asked) is a driver that broke
 * initialisation; the device cannot know what was agreed: DEVICE_NEEDS_RESET (2.1.2) and
 * no queue goes live. */
static void test_driver_ok_without_features_ok(void)
{
    struct tw w;
    CHECK(tw_init(&w, 1, 64, 0, 0) == 0);
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_SEL, 0);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NUM, 16);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x11000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x12000);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_READY, 1);
    tw_wr(&w, VIRTIO_MMIO_STATUS, ST_ACK | ST_DRV | ST_DOK);
    CHECK(tw_rd(&w, VIRTIO_MMIO_STATUS) & ST_NR);
    CHECK(!w.dev.q[0].live);
    CHECK(vqf_vdev_vq(&w.dev, 0) == NULL);
    CHECK_EQ(w.loop.driver_oks, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG); /* STATUS-07 */
    tw_fini(&w);
}

/* XPORT-M01 / M03, RESET-01 (2.4.1, 4.2.2.1): writing 0 resets: status, features, queue
 * registers, QueueReady, QueueReset and InterruptStatus read 0 at once (QueueSize reads
 * QueueSizeMax again). Checked from a fully live device. */
static void test_reset_clears_everything(void)
{
    struct tw w;
    CHECK(tw_init(&w, 2, 64, VQF_BIT(VIRTIO_F_RING_RESET), VQF_BIT(1)) == 0);
    CHECK(tw_bring_up(&w, VQF_BIT(VIRTIO_F_RING_RESET), VQF_BIT(1), 2, 32) == 0);
    CHECK(w.dev.q[0].live && w.dev.q[1].live);
    vqf_vdev_raise(&w.dev, VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    unsigned resets = w.loop.resets;
    tw_wr(&w, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    CHECK_EQ(w.loop.resets, resets + 1);
    CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_DEVICE_FEATURES_SEL), 0);
    for (uint32_t sel = 0; sel < 4; sel++) {
        tw_wr(&w, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_DRIVER_FEATURES), 0);
    }
    for (uint32_t q = 0; q < 2; q++) {
        CHECK_EQ(tw_rd_sel(&w, q, VIRTIO_MMIO_QUEUE_READY), 0);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_RESET), 0);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_NUM), 64);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_DRIVER_LOW), 0);
        CHECK_EQ(tw_rd(&w, VIRTIO_MMIO_QUEUE_DEVICE_LOW), 0);
        CHECK(!w.dev.q[q].live && !w.dev.q[q].kicked);
        CHECK(vqf_vdev_vq(&w.dev, (uint16_t)q) == NULL);
    }
    /* RESET-02: nothing touches the rings afterwards, even with a kick pending */
    unsigned acc = w.dev_accesses;
    tw_wr(&w, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(vqf_vdev_poll(&w.dev, 16), 0);
    CHECK_EQ(w.dev_accesses, acc);
    CHECK_EQ(w.irqs, 1); /* only the raise above */
    tw_fini(&w);
}

int main(void)
{
    test_identification();
    test_feature_windows();
    test_driver_feature_windows();
    test_features_ok_refusal();
    test_bad_accesses();
    test_missing_queue();
    test_ready_queue_protected();
    test_config_window();
    test_needs_reset();
    test_driver_ok_without_features_ok();
    test_reset_clears_everything();
    return check_report("test_vdev_regs");
}
