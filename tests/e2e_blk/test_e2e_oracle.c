/* The reference blk (5.2) and rng (5.4) pairs under the spec oracle judging both sides: a random
 * workload with resets and queue resets in mid-traffic must produce no finding at all (DESIGN.md:
 * "the oracle reports nothing for a reference pair, whatever the workload"), and no data error.
 *
 * Usage: e2e_oracle_blk_split_all blk|rng split|packed all|indirect|plain  (ctest: e2e_oracle_*)
 *   all: every feature both sides know; indirect: the same with indirect descriptors;
 *   plain: no optional ring feature (no INDIRECT_DESC, EVENT_IDX, IN_ORDER, NOTIFICATION_DATA). */
#include <stdio.h>
#include <string.h>

#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "emulator/oracle/oracle.h"
#include "emulator/pair.h"
#include "tests/check.h"
#include "vqfuzz/virtio.h"

static struct vqf_oracle *oracle;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) /* xorshift64*, fixed seed */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* The driver's register accesses go through the oracle on their way to the device. */
static uint32_t seen_read(void *pair, uint32_t off, unsigned size)
{
    uint32_t v = vqf_pair_mmio_read(pair, off, size);
    vqf_oracle_mmio(oracle, false, off, size, v);
    return v;
}

static void seen_write(void *pair, uint32_t off, unsigned size, uint32_t v)
{
    vqf_oracle_mmio(oracle, true, off, size, v);
    vqf_pair_mmio_write(pair, off, size, v);
}

static void step(struct vqf_pair *p, unsigned budget)
{
    vqf_oracle_device_step(oracle, true);
    p->dev_ad->poll(p->dev, budget);
    vqf_oracle_device_step(oracle, false);
    if (p->irq_line) {
        p->irq_line = false;
        p->drv_ad->interrupt(p->drv);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s blk|rng split|packed all|indirect|plain\n", argv[0]);
        return 2;
    }
    bool blk = !strcmp(argv[1], "blk"), packed = !strcmp(argv[2], "packed");
    bool plain = !strcmp(argv[3], "plain");
    uint64_t ring_opt = VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_IN_ORDER) |
                        VQF_BIT(VIRTIO_F_NOTIFICATION_DATA);
    uint64_t drv_feat = ~0ull;
    if (!packed)
        drv_feat &= ~VQF_BIT(VIRTIO_F_RING_PACKED);
    if (plain)
        drv_feat &= ~ring_opt;
    struct vqf_device_params dp = {{0, 0}, 0, 0, 3, 0};
    struct vqf_driver_params rp = {{drv_feat, 0}, 16, 0, 4, !strcmp(argv[3], "indirect") ? VQF_DRV_F_INDIRECT : 0};
    const struct vqf_device_adapter *da = blk ? &vqf_blk_device : &vqf_rng_device;
    const struct vqf_driver_adapter *ra = blk ? &vqf_blk_driver : &vqf_rng_driver;

    struct vqf_pair p;
    CHECK(vqf_pair_init(&p, 4u << 20, da, &dp, NULL, NULL) == 0);
    oracle = vqf_oracle_new();
    CHECK(oracle != NULL);
    struct vqf_oracle_setup os = {(1u << VQF_SIDE_DRIVER) | (1u << VQF_SIDE_DEVICE), da->device_id, &p.mem};
    vqf_oracle_begin(oracle, &os);
    p.mem.obs = vqf_oracle_observer(oracle);
    struct vqf_driver_platform plat = {vqf_mem_dma(&p.mem, VQF_SIDE_DRIVER), seen_read, seen_write, &p,
                                       vqf_pair_alloc, &p};
    p.drv_ad = ra;
    p.drv = ra->create(&plat, &rp);
    CHECK(p.drv != NULL);
    CHECK(ra->probe(p.drv) == 0);

    unsigned submitted = 0;
    for (int i = 0; i < 3000; i++) {
        struct vqf_workload_op op = {0};
        if (blk) {
            unsigned k = (unsigned)(rnd() % 100);
            op.kind = k < 35 ? 0 : k < 65 ? 1 : k < 70 ? 2 : k < 80 ? 3 : k < 90 ? 4 : 5;
            op.arg0 = (uint32_t)(rnd() % 64);
            op.arg1 = 1 + (uint32_t)(rnd() % 8);
        } else {
            op.arg0 = 1 + (uint32_t)(rnd() % 300);
        }
        op.queue = (uint32_t)(rnd() % 4);
        op.seed = rnd();
        int rc;
        for (int tries = 0; (rc = ra->submit(p.drv, &op)) == 1 && tries < 10000; tries++)
            step(&p, 4);
        CHECK_EQ(rc, 0);
        submitted += rc == 0;
        if (i % 200 == 100) /* lifecycle in mid-traffic: 3.1 again, or 2.6.1 */
            CHECK_EQ(ra->control(p.drv, (rnd() & 1) ? VQF_CTL_QUEUE_RESET : VQF_CTL_RESET, (uint32_t)rnd()), 0);
        if (rnd() % 3 == 0)
            step(&p, 1 + (unsigned)(rnd() % 8));
    }
    for (int i = 0; i < 100000 && (ra->inflight(p.drv) || p.irq_line); i++)
        step(&p, 8);
    vqf_oracle_idle(oracle);
    CHECK_EQ(ra->inflight(p.drv), 0);
    CHECK_EQ(ra->data_errors(p.drv), 0);
    CHECK_EQ(submitted, 3000);
    ra->remove(p.drv);
    vqf_oracle_idle(oracle);
    unsigned n = vqf_oracle_nfindings(oracle);
    CHECK_EQ(n, 0);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "  finding: %s\n", vqf_oracle_finding(oracle, i)->detail);

    p.mem.obs = NULL;
    ra->destroy(p.drv);
    p.drv = NULL;
    vqf_oracle_free(oracle);
    vqf_pair_destroy(&p);
    char name[64];
    snprintf(name, sizeof(name), "e2e oracle %s %s %s", argv[1], argv[2], argv[3]);
    return check_report(name);
}
