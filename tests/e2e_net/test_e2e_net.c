/* End to end: the reference virtio-net (spec 5.1) and virtio-console (spec 5.3) drivers
 * against the reference loopback / echo devices, over the honest pair world.
 *
 * Usage: test_e2e_net net|console split|packed VARIANT
 *   none, indirect, event_idx, in_order   ring features (2.7.5.3 / 2.8.19, 2.7.10 / 2.8.10, 2.7.9 / 2.8.8)
 *   mrg        net: mergeable receive buffers (5.1.9.4, NET-50..55)
 *   mq         net: three queue pairs after VQ_PAIRS_SET (5.1.9.5.3)
 *   multiport  console: three ports and the control protocol (5.3.6.2)
 *   reset      device reset with traffic in flight, then a fresh workload (3.1, 2.4)
 *   queue_reset  transmitq and receiveq reset with traffic in flight (2.6.1)
 *   malformed  a transmit chain with a device-writable descriptor (and, for net, one shorter
 *              than virtio_net_hdr) written into the ring by the test: the device must enter
 *              DEVICE_NEEDS_RESET (2.1.2), the driver reset it and probe again
 *
 * Every frame / byte is checked by the driver against what it sent; the test counts the
 * driver's completions (one per write whose echo came back verified), checks that nothing is
 * left in flight, and looks at the device's ring activity through the memory observer. Deterministic: fixed-seed PRNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "emulator/pair.h"
#include "tests/check.h"
#include "vqfuzz/virtio.h"

#define MEM_SIZE (8u << 20)
#define QSIZE 64u
#define NOPS 600u
#define BUDGET 64u

enum variant { V_NONE, V_INDIRECT, V_EVENT_IDX, V_IN_ORDER, V_MRG, V_MQ, V_MULTIPORT, V_RESET, V_QRESET, V_MALFORMED };
static const char *const variant_names[] = {"none", "indirect", "event_idx", "in_order", "mrg",
                                            "mq",   "multiport", "reset",   "queue_reset", "malformed"};

struct world {
    struct vqf_pair p;
    bool net;
    bool packed;
    enum variant v;
    uint64_t features;
    uint64_t completions;      /* returned by the driver's interrupt handler */
    uint64_t pushes[16];       /* device used-buffer pushes per queue (VQF_EV_DEV_PUSH) */
    uint64_t pops[16];         /* chains popped per queue (VQF_EV_DEV_POP) */
    uint64_t pop_descs[16];    /* ring descriptors those chains took */
    uint64_t rng;
    struct vqf_observer obs;
};

static struct world W;
static struct vqf_driver_adapter counting_driver;

static int counting_interrupt(void *drv)
{
    int n = (W.net ? &vqf_net_driver : &vqf_console_driver)->interrupt(drv);
    if (n > 0)
        W.completions += (unsigned)n;
    return n;
}

static void on_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    (void)ctx;
    (void)b;
    if (side == VQF_SIDE_DEVICE && ev == VQF_EV_DEV_PUSH && a < 16)
        W.pushes[a]++;
    if (side == VQF_SIDE_DEVICE && ev == VQF_EV_DEV_POP && a < 16) {
        W.pops[a]++;
        W.pop_descs[a] += c;
    }
}

static uint64_t rnd(void)
{
    /* xorshift64*, fixed seed */
    W.rng ^= W.rng >> 12;
    W.rng ^= W.rng << 25;
    W.rng ^= W.rng >> 27;
    return W.rng * 0x2545f4914f6cdd1dull;
}

static uint32_t dev_read(uint32_t off) { return W.p.dev_ad->mmio_read(W.p.dev, off, 4); }

/* Bits 0..63 the driver accepted, read back through the device's register file. */
static uint64_t negotiated(void)
{
    W.p.dev_ad->mmio_write(W.p.dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
    uint64_t lo = dev_read(VIRTIO_MMIO_DRIVER_FEATURES);
    W.p.dev_ad->mmio_write(W.p.dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
    return lo | (uint64_t)dev_read(VIRTIO_MMIO_DRIVER_FEATURES) << 32;
}

static uint64_t features_for(bool net, bool packed, enum variant v)
{
    uint64_t f = VQF_BIT(VIRTIO_F_VERSION_1) | (packed ? VQF_BIT(VIRTIO_F_RING_PACKED) : 0);
    f |= net ? VQF_BIT(VIRTIO_NET_F_MAC) | VQF_BIT(VIRTIO_NET_F_STATUS) | VQF_BIT(VIRTIO_NET_F_MTU)
             : VQF_BIT(VIRTIO_CONSOLE_F_SIZE) | VQF_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE);
    uint64_t rich = net ? VQF_BIT(VIRTIO_NET_F_MRG_RXBUF) | VQF_BIT(VIRTIO_NET_F_CTRL_VQ) | VQF_BIT(VIRTIO_NET_F_MQ)
                        : VQF_BIT(VIRTIO_CONSOLE_F_MULTIPORT);
    switch (v) {
    case V_INDIRECT:
        return f | VQF_BIT(VIRTIO_F_INDIRECT_DESC);
    case V_EVENT_IDX:
        return f | VQF_BIT(VIRTIO_F_EVENT_IDX);
    case V_IN_ORDER:
        return f | VQF_BIT(VIRTIO_F_IN_ORDER);
    case V_MRG:
        return f | VQF_BIT(VIRTIO_NET_F_MRG_RXBUF);
    case V_MQ:
        return f | VQF_BIT(VIRTIO_NET_F_CTRL_VQ) | VQF_BIT(VIRTIO_NET_F_MQ);
    case V_MULTIPORT:
        return f | VQF_BIT(VIRTIO_CONSOLE_F_MULTIPORT);
    case V_RESET:
        return f | rich | VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX);
    case V_QRESET:
        return f | rich | VQF_BIT(VIRTIO_F_RING_RESET) | VQF_BIT(VIRTIO_F_IN_ORDER);
    default:
        return f;
    }
}

static int setup(bool net, bool packed, enum variant v)
{
    memset(&W, 0, sizeof(W));
    W.net = net;
    W.packed = packed;
    W.v = v;
    W.rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)v << 8) ^ (net ? 1u : 2u) ^ (packed ? 4u : 0u);
    W.features = features_for(net, packed, v);
    counting_driver = net ? vqf_net_driver : vqf_console_driver;
    counting_driver.interrupt = counting_interrupt;
    bool many = v == V_MQ || v == V_MULTIPORT || v == V_RESET || v == V_QRESET;
    struct vqf_device_params dp = {{W.features, 0}, 0, 0, 7, 0};
    /* Three pairs (6 queues + controlq) / three ports (2 control + 6 port queues). */
    dp.num_queues = many ? (net ? 6 : 8) : 0;
    struct vqf_driver_params rp = {{W.features, 0}, QSIZE, 0, 11, 0};
    if (v == V_INDIRECT || v == V_RESET)
        rp.flags = VQF_DRV_F_INDIRECT;
    if (vqf_pair_init(&W.p, MEM_SIZE, net ? &vqf_net_device : &vqf_console_device, &dp, &counting_driver, &rp) != 0)
        return -1;
    W.obs.event = on_event;
    W.p.mem.obs = &W.obs;
    return W.p.drv_ad->probe(W.p.drv);
}

/* Submit n writes of random length on random queues, letting the pair run in between, then
 * run it until idle. Returns the writes submitted. */
static unsigned workload(unsigned n)
{
    unsigned sent = 0;
    for (unsigned i = 0; i < n; i++) {
        struct vqf_workload_op op = {0, (uint32_t)(rnd() % 8), 0, 0, rnd()};
        /* net: 14 .. 1514 bytes (5.1.4 mtu 1500 + link header); console: 1 .. 512 bytes */
        op.arg0 = W.net ? 14 + (uint32_t)(rnd() % 1501) : 1 + (uint32_t)(rnd() % 512);
        if (rnd() % 16 == 0) {
            struct vqf_workload_op refill = {1, 0, 0, 0, 0};
            CHECK_EQ(W.p.drv_ad->submit(W.p.drv, &refill), 0);
        }
        int r = 1;
        for (unsigned tries = 0; tries < 1000 && r == 1; tries++) {
            r = W.p.drv_ad->submit(W.p.drv, &op);
            if (r == 1)
                vqf_pair_step(&W.p, BUDGET);
        }
        CHECK_EQ(r, 0);
        if (r != 0)
            break;
        sent++;
        if (rnd() % 3 == 0)
            vqf_pair_step(&W.p, BUDGET);
    }
    CHECK(vqf_pair_run(&W.p, BUDGET, 100000) >= 0);
    return sent;
}

/* The device is running normally: ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK (3.1.1). */
static void check_running(void)
{
    CHECK_EQ(dev_read(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                               VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* A workload whose every write must come back verified, leaving nothing in flight. */
static void verified_workload(unsigned n)
{
    uint64_t before = W.completions;
    unsigned errors = W.p.drv_ad->data_errors(W.p.drv);
    unsigned sent = workload(n);
    CHECK_EQ(sent, n);
    CHECK_EQ(W.completions - before, sent);
    CHECK_EQ(W.p.drv_ad->data_errors(W.p.drv), errors);
    CHECK_EQ(W.p.drv_ad->inflight(W.p.drv), 0);
}

/* Writes submitted without letting the device run: they are in flight at the next step. */
static void burst(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct vqf_workload_op op = {0, (uint32_t)i, W.net ? 600u + i : 100u + i, 0, rnd()};
        (void)W.p.drv_ad->submit(W.p.drv, &op);
    }
}

/* Write a one-descriptor chain {len, flags} into transmitq 1 (queue 1 for both devices),
 * behind the driver's back, at the ring's first position (the rings are fresh: right after a
 * probe), and notify. */
static void inject_tx(uint32_t len, uint16_t flags)
{
    struct vqf_dma h = vqf_mem_dma(&W.p.mem, VQF_SIDE_HARNESS);
    uint64_t buf = W.p.mem.r[0].gpa + 0x1000; /* the harness's half of guest memory */
    W.p.dev_ad->mmio_write(W.p.dev, VIRTIO_MMIO_QUEUE_SEL, 4, 1);
    uint64_t desc = dev_read(VIRTIO_MMIO_QUEUE_DESC_LOW) | (uint64_t)dev_read(VIRTIO_MMIO_QUEUE_DESC_HIGH) << 32;
    uint64_t drv = dev_read(VIRTIO_MMIO_QUEUE_DRIVER_LOW) | (uint64_t)dev_read(VIRTIO_MMIO_QUEUE_DRIVER_HIGH) << 32;
    uint32_t size = dev_read(VIRTIO_MMIO_QUEUE_NUM);
    if (W.packed) {
        /* 2.8.1: slot 0, driver wrap counter 1 -> AVAIL = 1, USED = 0 means available. */
        CHECK(vqf_dma_write64(&h, desc + VIRTQ_PDESC_ADDR, buf) == 0);
        CHECK(vqf_dma_write32(&h, desc + VIRTQ_PDESC_LEN, len) == 0);
        CHECK(vqf_dma_write16(&h, desc + VIRTQ_PDESC_ID, 0) == 0);
        CHECK(vqf_dma_write16(&h, desc + VIRTQ_PDESC_FLAGS, (uint16_t)(VIRTQ_DESC_F_AVAIL | flags)) == 0);
    } else {
        /* 2.7.5: descriptor 0 = {buf, len, flags}; 2.7.6: avail ring entry, then idx. */
        uint16_t idx = 0;
        CHECK(vqf_dma_read16(&h, drv + VIRTQ_AVAIL_IDX, &idx) == 0);
        CHECK(vqf_dma_write64(&h, desc, buf) == 0);
        CHECK(vqf_dma_write32(&h, desc + 8, len) == 0);
        CHECK(vqf_dma_write16(&h, desc + 12, flags) == 0);
        CHECK(vqf_dma_write16(&h, desc + 14, 0) == 0);
        CHECK(vqf_dma_write16(&h, drv + VIRTQ_AVAIL_RING(idx % (size ? size : 1)), 0) == 0);
        CHECK(vqf_dma_write16(&h, drv + VIRTQ_AVAIL_IDX, (uint16_t)(idx + 1)) == 0);
    }
    W.p.dev_ad->mmio_write(W.p.dev, VIRTIO_MMIO_QUEUE_NOTIFY, 4, 1);
}

static void run_case(bool net, bool packed, enum variant v)
{
    CHECK_EQ(setup(net, packed, v), 0);
    check_running();
    /* The driver accepted every feature the variant is about (it knows them all). */
    uint64_t acc = negotiated();
    CHECK_EQ(acc, W.features);

    switch (v) {
    case V_RESET: {
        verified_workload(NOPS / 2);
        burst(20); /* in flight ... */
        CHECK_EQ(W.p.drv_ad->control(W.p.drv, VQF_CTL_RESET, 0), 0); /* ... when the device resets */
        check_running();
        /* 3.3 / 2.4: nothing survives a reset; net has just sent VQ_PAIRS_SET again. */
        CHECK_EQ(W.p.drv_ad->inflight(W.p.drv), net ? 1 : 0);
        verified_workload(NOPS / 2);
        break;
    }
    case V_QRESET: {
        verified_workload(NOPS / 3);
        /* 2.6.1: reset transmitq1 with frames in flight, then receiveq1 with buffers posted
         * and echoes waiting; both come back and traffic continues without a data error. */
        burst(16);
        CHECK_EQ(W.p.drv_ad->control(W.p.drv, VQF_CTL_QUEUE_RESET, 1), 0);
        vqf_pair_step(&W.p, 4);
        burst(16);
        vqf_pair_step(&W.p, 4);
        CHECK_EQ(W.p.drv_ad->control(W.p.drv, VQF_CTL_QUEUE_RESET, 0), 0);
        CHECK(vqf_pair_run(&W.p, BUDGET, 100000) >= 0);
        CHECK_EQ(W.p.drv_ad->data_errors(W.p.drv), 0);
        CHECK_EQ(W.p.drv_ad->inflight(W.p.drv), 0);
        check_running();
        verified_workload(NOPS / 3);
        /* A queue that is not there cannot be reset. */
        CHECK(W.p.drv_ad->control(W.p.drv, VQF_CTL_QUEUE_RESET, 15) < 0);
        break;
    }
    case V_MALFORMED: {
        /* 5.1.6 / 5.3.6.1 (CONS-04): a transmit buffer is device-readable; one that is
         * device-writable cannot be handled safely. Net also: a transmit buffer shorter than
         * virtio_net_hdr (5.1.6, D-16). Console: a 4-byte readable write is fine. */
        for (int round = 0; round < 2; round++) {
            bool bad = round == 0 || net;
            if (round == 0)
                inject_tx(64, VIRTQ_DESC_F_WRITE);
            else
                inject_tx(net ? VIRTIO_NET_HDR_SIZE - 4 : 4, 0);
            W.p.dev_ad->poll(W.p.dev, BUDGET);
            /* 2.1.2: the device signals DEVICE_NEEDS_RESET and a configuration change. */
            CHECK_EQ(!!(dev_read(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET), bad);
            CHECK_EQ(!!(dev_read(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG), bad);
            CHECK(W.p.irq_line);
            /* The driver sees it at the interrupt, resets and probes again. */
            CHECK(vqf_pair_run(&W.p, BUDGET, 1000) >= 0);
            check_running();
        }
        verified_workload(NOPS / 2);
        break;
    }
    default:
        verified_workload(NOPS);
        break;
    }

    uint64_t rx_pushes = W.pushes[0];
    /* Transmit chains are two descriptors; with indirect descriptors (2.7.5.3 / 2.8.19)
     * each takes one ring descriptor pointing at its table. */
    CHECK(W.pops[1] > 0);
    if (v == V_INDIRECT)
        CHECK_EQ(W.pop_descs[1], W.pops[1]);
    else if (v != V_RESET)
        CHECK(W.pop_descs[1] > W.pops[1]);
    if (net && v == V_MRG) {
        /* 5.1.9.4: most frames exceed one 256-byte buffer, so packets span several. */
        CHECK(rx_pushes > (uint64_t)NOPS * 2);
    } else if (net && v != V_MQ && v < V_RESET) {
        /* NET-51: without MRG_RXBUF one buffer per packet, all on receiveq1. */
        CHECK_EQ(rx_pushes, NOPS);
    }
    if (net && v == V_MQ) {
        /* Traffic came back on all three receiveqs, and VQ_PAIRS_SET was answered once. */
        CHECK(W.pushes[2] > 0 && W.pushes[4] > 0);
        CHECK_EQ(W.pushes[0] + W.pushes[2] + W.pushes[4], NOPS);
        CHECK_EQ(W.pushes[6], 1);
    }
    if (!net && v == V_MULTIPORT) {
        /* Ports 1 and 2 echoed; control receiveq: DEVICE_ADD x3, CONSOLE_PORT, PORT_OPEN x3. */
        CHECK(W.pushes[4] > 0 && W.pushes[6] > 0);
        CHECK_EQ(W.pushes[2], 7);
        /* control transmitq: DEVICE_READY, PORT_READY x3, PORT_OPEN for the console port */
        CHECK_EQ(W.pushes[3], 5);
    }
    if (!net && v < V_MULTIPORT) {
        CHECK(rx_pushes > 0);
        CHECK_EQ(W.pushes[2], 0); /* no control queues without MULTIPORT */
    }

    /* 2.5.1: the configuration can be read again (generation loop) at any time. */
    CHECK_EQ(W.p.drv_ad->control(W.p.drv, VQF_CTL_CONFIG, 0), 0);
    /* A driver write into the device's read-only config fields changes nothing (NET-15 /
     * NET-04 for net; cols and rows for console). */
    uint32_t cfg0 = W.p.dev_ad->mmio_read(W.p.dev, VIRTIO_MMIO_CONFIG, 4);
    W.p.dev_ad->mmio_write(W.p.dev, VIRTIO_MMIO_CONFIG, 4, ~cfg0);
    CHECK_EQ(W.p.dev_ad->mmio_read(W.p.dev, VIRTIO_MMIO_CONFIG, 4), cfg0);

    W.p.drv_ad->remove(W.p.drv);
    CHECK_EQ(dev_read(VIRTIO_MMIO_STATUS), 0); /* 3.3: reset on removal */
    if (!net) {
        /* CONS-01 (5.3.5.1): emerg_wr is accepted before the device is configured; it is an
         * output and leaves the rest of the config space alone. */
        W.p.dev_ad->mmio_write(W.p.dev, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_EMERG_WR, 4, 'A');
        CHECK_EQ(dev_read(VIRTIO_MMIO_STATUS), 0);
        CHECK_EQ(W.p.dev_ad->mmio_read(W.p.dev, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_COLS, 2), 80);
        CHECK_EQ(W.p.dev_ad->mmio_read(W.p.dev, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_ROWS, 2), 25);
    }
    vqf_pair_destroy(&W.p);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s net|console split|packed VARIANT\n", argv[0]);
        return 2;
    }
    bool net = strcmp(argv[1], "net") == 0;
    bool packed = strcmp(argv[2], "packed") == 0;
    int v = -1;
    for (unsigned i = 0; i < sizeof(variant_names) / sizeof(variant_names[0]); i++)
        if (strcmp(argv[3], variant_names[i]) == 0)
            v = (int)i;
    if ((!net && strcmp(argv[1], "console") != 0) || (!packed && strcmp(argv[2], "split") != 0) || v < 0) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    run_case(net, packed, (enum variant)v);
    char name[64];
    snprintf(name, sizeof(name), "e2e %s %s %s", argv[1], argv[2], argv[3]);
    return check_report(name);
}
