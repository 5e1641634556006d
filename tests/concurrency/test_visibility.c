/* The memory-visibility model (emulator/visibility.h) on bare guest memory: store buffering
 * and forwarding, drains at barriers and notifications, reordering that keeps same-location
 * order, stale loads until the next read barrier, and the model-off path untouched. */
#include <string.h>

#include "../check.h"
#include "emulator/mem.h"
#include "emulator/visibility.h"

static struct vqf_mem m;
static struct vqf_vis vis;

/* An observer that logs the order in which stores become visible. */
static uint64_t seen[64];
static unsigned nseen;
static void on_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    (void)ctx, (void)side, (void)len;
    if (kind == VQF_ACC_WRITE && nseen < 64)
        seen[nseen++] = gpa;
}
static const struct vqf_observer obs = {on_access, NULL, NULL, NULL};

static uint16_t raw16(uint64_t gpa) { return vqf_le16(vqf_mem_xlate(&m, gpa, 2)); }

static void test_off(uint64_t base)
{
    struct vqf_dma drv = vqf_mem_dma(&m, VQF_SIDE_DRIVER);
    vqf_mem_reset(&m);
    vqf_vis_install(&m, NULL);
    CHECK_EQ(vqf_dma_write16(&drv, base, 0x1234), 0);
    CHECK_EQ(raw16(base), 0x1234); /* no model: visible at once */
}

static void test_buffer_and_forwarding(uint64_t base)
{
    struct vqf_dma drv = vqf_mem_dma(&m, VQF_SIDE_DRIVER), dev = vqf_mem_dma(&m, VQF_SIDE_DEVICE);
    vqf_vis_install(&m, &vis);
    nseen = 0;
    CHECK_EQ(vqf_dma_write16(&drv, base, 0xabcd), 0);
    CHECK_EQ(raw16(base), 0);               /* not visible to memory yet */
    CHECK_EQ(nseen, 0);                     /* nor to the observer */
    uint16_t v = 0;
    CHECK_EQ(vqf_dma_read16(&drv, base, &v), 0);
    CHECK_EQ(v, 0xabcd);                    /* the side reads its own store */
    CHECK_EQ(vqf_dma_read16(&dev, base, &v), 0);
    CHECK_EQ(v, 0);                         /* the other side does not */
    CHECK(vqf_vis_pending_overlaps(&vis, VQF_SIDE_DRIVER, base + 1, 1));
    CHECK(!vqf_vis_pending_overlaps(&vis, VQF_SIDE_DEVICE, base, 2));
    vqf_mb(&dev);                           /* the other side's barrier changes nothing */
    CHECK_EQ(raw16(base), 0);
    vqf_rmb(&drv);                          /* a read barrier does not drain */
    CHECK_EQ(raw16(base), 0);
    vqf_wmb(&drv);
    CHECK_EQ(raw16(base), 0xabcd);
    CHECK_EQ(nseen, 1);
    /* a notification drains too */
    CHECK_EQ(vqf_dma_write16(&dev, base + 2, 7), 0);
    vqf_mem_event(&m, VQF_SIDE_DEVICE, VQF_EV_DEV_IRQ, 1, 0, 0);
    CHECK_EQ(raw16(base + 2), 7);
    /* harness-side stores are never buffered */
    struct vqf_dma h = vqf_mem_dma(&m, VQF_SIDE_HARNESS);
    CHECK_EQ(vqf_dma_write16(&h, base + 4, 9), 0);
    CHECK_EQ(raw16(base + 4), 9);
}

static void test_order(uint64_t base)
{
    struct vqf_dma drv = vqf_mem_dma(&m, VQF_SIDE_DRIVER);
    vqf_vis_install(&m, &vis);
    /* program order without a seed */
    nseen = 0;
    for (unsigned i = 0; i < 8; i++)
        vqf_dma_write16(&drv, base + 2 * i, (uint16_t)i);
    vqf_wmb(&drv);
    int in_order = 1;
    for (unsigned i = 0; i < 8; i++)
        in_order &= seen[i] == base + 2 * i;
    CHECK_EQ(nseen, 8);
    CHECK(in_order);
    /* a seed reorders; same-location stores keep their order (coherence) */
    unsigned reordered_runs = 0;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        vqf_vis_policy(&vis, VQF_SIDE_DRIVER, seed, false);
        nseen = 0;
        for (unsigned i = 0; i < 8; i++)
            vqf_dma_write16(&drv, base + 2 * i, (uint16_t)(100 + i));
        vqf_dma_write16(&drv, base, 0x5555); /* second store to the first location */
        vqf_mb(&drv);
        CHECK_EQ(nseen, 9);
        CHECK_EQ(raw16(base), 0x5555);      /* the later store to a location wins */
        unsigned first = 99, second = 99;
        int moved = 0;
        for (unsigned i = 0; i < nseen; i++) {
            if (seen[i] == base && first == 99)
                first = i;
            else if (seen[i] == base)
                second = i;
            moved |= i < 8 && seen[i] != base + 2 * i;
        }
        CHECK(first < second);
        reordered_runs += (unsigned)moved;
    }
    CHECK(reordered_runs > 8);
    /* the same seed gives the same order */
    uint64_t a[9], b[9];
    for (int pass = 0; pass < 2; pass++) {
        vqf_vis_policy(&vis, VQF_SIDE_DRIVER, 42, false);
        nseen = 0;
        for (unsigned i = 0; i < 9; i++)
            vqf_dma_write16(&drv, base + 2 * i, 1);
        vqf_vis_drain(&vis, VQF_SIDE_DRIVER, 0);
        memcpy(pass ? b : a, seen, sizeof(a));
    }
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    /* a partial drain */
    vqf_vis_policy(&vis, VQF_SIDE_DRIVER, 0, false);
    for (unsigned i = 0; i < 4; i++)
        vqf_dma_write16(&drv, base + 2 * i, 0x77);
    CHECK_EQ(vqf_vis_drain(&vis, VQF_SIDE_DRIVER, 3), 3);
    CHECK_EQ(vqf_vis_pending(&vis, VQF_SIDE_DRIVER), 1);
    /* a full store buffer drains before it takes more */
    for (unsigned i = 0; i < VQF_VIS_MAX_STORES + 3; i++)
        vqf_dma_write16(&drv, base + 2 * (i % 32), (uint16_t)i);
    CHECK(vqf_vis_pending(&vis, VQF_SIDE_DRIVER) <= VQF_VIS_MAX_STORES);
    vqf_mb(&drv);
    CHECK_EQ(vqf_vis_pending(&vis, VQF_SIDE_DRIVER), 0);
}

static void test_stale(uint64_t base)
{
    struct vqf_dma drv = vqf_mem_dma(&m, VQF_SIDE_DRIVER), dev = vqf_mem_dma(&m, VQF_SIDE_DEVICE);
    vqf_mem_reset(&m);
    vqf_vis_install(&m, &vis);
    vqf_vis_policy(&vis, VQF_SIDE_DRIVER, 0, true);
    CHECK_EQ(vqf_vis_watch(&vis, VQF_SIDE_DRIVER, base, 64), 0);
    vqf_mb(&drv);
    /* the device writes an entry and then an index, with its barriers */
    vqf_dma_write32(&dev, base + 8, 0xfeed);
    vqf_wmb(&dev);
    vqf_dma_write16(&dev, base + 2, 1);
    vqf_mb(&dev);
    uint16_t idx = 0;
    uint32_t e = 0;
    /* without a read barrier after the index, the entry may be the old one */
    CHECK_EQ(vqf_dma_read16(&drv, base + 2, &idx), 0);
    CHECK_EQ(idx, 1);
    CHECK_EQ(vqf_dma_read32(&drv, base + 8, &e), 0);
    CHECK_EQ(e, 0);
    CHECK(vis.stats.stale_loads == 1);
    /* coherence: the index read once stays read */
    CHECK_EQ(vqf_dma_read16(&drv, base + 2, &idx), 0);
    CHECK_EQ(idx, 1);
    /* after rmb, the entry is current */
    vqf_rmb(&drv);
    CHECK_EQ(vqf_dma_read32(&drv, base + 8, &e), 0);
    CHECK_EQ(e, 0xfeed);
    /* the correct order: index, rmb, entry */
    vqf_dma_write32(&dev, base + 16, 0xbeef);
    vqf_wmb(&dev);
    vqf_dma_write16(&dev, base + 2, 2);
    vqf_mb(&dev);
    CHECK_EQ(vqf_dma_read16(&drv, base + 2, &idx), 0);
    CHECK_EQ(idx, 2);
    vqf_rmb(&drv);
    CHECK_EQ(vqf_dma_read32(&drv, base + 16, &e), 0);
    CHECK_EQ(e, 0xbeef);
    /* unwatched memory is never stale */
    vqf_dma_write16(&dev, base + 200, 3);
    vqf_mb(&dev);
    uint16_t u = 0;
    vqf_dma_read16(&drv, base + 2, &idx);
    vqf_dma_read16(&drv, base + 200, &u);
    CHECK_EQ(u, 3);
    vqf_vis_install(&m, NULL);
}

int main(void)
{
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1u << 20);
    if (vqf_mem_init(&m, &l) != 0)
        return 1;
    m.obs = &obs;
    uint64_t base = l.r[0].gpa + 0x1000;
    test_off(base);
    test_buffer_and_forwarding(base + 0x100);
    test_order(base + 0x200);
    test_stale(base + 0x400);
    vqf_mem_destroy(&m);
    return check_report("test_visibility");
}
