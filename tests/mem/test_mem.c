/* Guest memory (DESIGN.md "The world"): bounds-checked DMA, holes, guard zones, dirty
 * tracking with O(touched) reset, fault injection, allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emulator/mem.h"
#include "tests/check.h"

static void test_bounds(void)
{
    struct vqf_mem m;
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1 << 20);
    CHECK(vqf_mem_init(&m, &l) == 0);
    struct vqf_dma d = vqf_mem_dma(&m, VQF_SIDE_DEVICE);
    uint32_t v = 0;
    CHECK(vqf_dma_write32(&d, 0x10000, 0xdeadbeef) == 0);
    CHECK(vqf_dma_read32(&d, 0x10000, &v) == 0 && v == 0xdeadbeef);
    /* GPA 0 and the holes are unmapped */
    CHECK(vqf_dma_read32(&d, 0, &v) == -1);
    CHECK(vqf_dma_read32(&d, 0x10000 + (1 << 20), &v) == -1);
    CHECK(vqf_dma_read32(&d, 0x20000000, &v) == -1);
    /* a range straddling the end of a region */
    CHECK(vqf_dma_read32(&d, 0x10000 + (1 << 20) - 2, &v) == -1);
    CHECK(vqf_dma_read32(&d, 0x10000 + (1 << 20) - 4, &v) == 0);
    /* ranges that wrap past 2^64 */
    uint8_t buf[32];
    CHECK(vqf_dma_read(&d, 0xfffffffffffffff0ull, buf, 32) == -1);
    CHECK(vqf_dma_read(&d, 0xffffffffffff0000ull, buf, 32) == 0);
    CHECK(vqf_dma_read(&d, 0xffffffffffffefe0ull, buf, 32) == 0);
    CHECK(vqf_dma_read(&d, 0xffffffffffffefe1ull, buf, 32) == -1);
    /* 64-bit and 16-bit little-endian accessors */
    uint64_t v64 = 0;
    uint16_t v16 = 0;
    CHECK(vqf_dma_write64(&d, 0x40000000, 0x0102030405060708ull) == 0);
    CHECK(vqf_dma_read64(&d, 0x40000000, &v64) == 0 && v64 == 0x0102030405060708ull);
    CHECK(vqf_dma_read16(&d, 0x40000000, &v16) == 0 && v16 == 0x0708);
    uint8_t *p = vqf_mem_xlate(&m, 0x40000000, 8);
    CHECK(p && p[0] == 0x08 && p[7] == 0x01);
    /* map with length check */
    CHECK(vqf_dma_map(&d, 0x40000000, 0x10000, 0) != NULL);
    CHECK(vqf_dma_map(&d, 0x40000000, 0x10001, 0) == NULL);
    vqf_mem_destroy(&m);
}

static void test_bad_layouts(void)
{
    struct vqf_mem m;
    struct vqf_mem_layout l = {0};
    CHECK(vqf_mem_init(&m, &l) == -1);
    l.nregions = 2;
    l.r[0].gpa = 0x1000;
    l.r[0].size = 0x2000;
    l.r[1].gpa = 0x2000; /* overlaps */
    l.r[1].size = 0x1000;
    CHECK(vqf_mem_init(&m, &l) == -1);
    l.nregions = 1;
    l.r[0].gpa = 0xfffffffffffff000ull;
    l.r[0].size = 0x2000; /* wraps */
    CHECK(vqf_mem_init(&m, &l) == -1);
}

static void test_dirty_reset(void)
{
    struct vqf_mem m;
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1 << 20);
    CHECK(vqf_mem_init(&m, &l) == 0);
    struct vqf_dma d = vqf_mem_dma(&m, VQF_SIDE_DRIVER);
    uint8_t pat[600];
    memset(pat, 0xab, sizeof(pat));
    CHECK(vqf_dma_write(&d, 0x10000 + 1000, pat, sizeof(pat)) == 0);
    CHECK(vqf_dma_write(&d, 0x40000000 + 0xfff0, pat, 16) == 0);
    uint8_t *w = vqf_dma_map(&d, 0xffffffffffff0100ull, 64, 1);
    CHECK(w != NULL);
    memset(w, 0xcd, 64);
    CHECK(m.ndirty >= 3);
    vqf_mem_reset(&m);
    CHECK(m.ndirty == 0);
    uint8_t back[600];
    CHECK(vqf_dma_read(&d, 0x10000 + 1000, back, sizeof(back)) == 0);
    for (size_t i = 0; i < sizeof(back); i++)
        CHECK(back[i] == 0);
    CHECK(vqf_dma_read(&d, 0x40000000 + 0xfff0, back, 16) == 0);
    for (size_t i = 0; i < 16; i++)
        CHECK(back[i] == 0);
    CHECK(w[0] == 0 && w[63] == 0);
    vqf_mem_destroy(&m);
}

/* Reset cost does not grow with region size: the same touched bytes in a 64 KiB and a 16 MiB
 * guest give the same amount of work (chunks cleared), counted exactly, not timed. */
static void test_reset_is_o_touched(void)
{
    uint32_t cleared[2];
    uint64_t sizes[2] = {64 << 10, 16 << 20};
    for (int k = 0; k < 2; k++) {
        struct vqf_mem m;
        struct vqf_mem_layout l;
        vqf_mem_default_layout(&l, sizes[k]);
        CHECK(vqf_mem_init(&m, &l) == 0);
        struct vqf_dma d = vqf_mem_dma(&m, VQF_SIDE_DRIVER);
        for (int i = 0; i < 10; i++)
            CHECK(vqf_dma_write32(&d, 0x10000 + (uint64_t)i * 4096, 1) == 0);
        cleared[k] = m.ndirty;
        vqf_mem_reset(&m);
        vqf_mem_destroy(&m);
    }
    CHECK(cleared[0] == 10 && cleared[1] == 10);
}

static unsigned fault_hits;
static void count_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    (void)side;
    (void)kind;
    (void)gpa;
    (void)len;
    fault_hits++;
}

static void test_fault_injection_and_observer(void)
{
    struct vqf_mem m;
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1 << 16);
    CHECK(vqf_mem_init(&m, &l) == 0);
    struct vqf_observer obs = {count_access, NULL, NULL, NULL};
    m.obs = &obs;
    struct vqf_dma d = vqf_mem_dma(&m, VQF_SIDE_DEVICE);
    m.fail_at = 3;
    uint32_t v;
    CHECK(vqf_dma_read32(&d, 0x10000, &v) == 0);
    CHECK(vqf_dma_read32(&d, 0x10000, &v) == 0);
    CHECK(vqf_dma_read32(&d, 0x10000, &v) == -1); /* the third access fails */
    CHECK(vqf_dma_read32(&d, 0x10000, &v) == 0);
    CHECK(fault_hits == 3);
    m.fail_at = 0;
    vqf_mem_destroy(&m);
}

static void test_galloc(void)
{
    struct vqf_galloc a;
    vqf_galloc_init(&a, 0x10000, 0x1000);
    uint64_t p1 = vqf_galloc_alloc(&a, 10, 1);
    uint64_t p2 = vqf_galloc_alloc(&a, 16, 16);
    CHECK(p1 == 0x10000 && p2 == 0x10010);
    CHECK(vqf_galloc_alloc(&a, 0x1000, 1) == 0);
    vqf_galloc_reset(&a);
    CHECK(vqf_galloc_alloc(&a, 0x1000, 4096) == 0x10000);
}

int main(void)
{
    test_bounds();
    test_bad_layouts();
    test_dirty_reset();
    test_reset_is_o_touched();
    test_fault_injection_and_observer();
    test_galloc();
    return check_report("test_mem");
}
