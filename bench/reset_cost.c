/* Per-input reset cost against guest-memory size: the same input replayed in guest memories of
 * 64 KiB, 256 KiB, 1 MiB, 4 MiB and 16 MiB, and the reset that follows it timed. Between
 * inputs the executor zeroes only what the last input wrote (dirty chunks, emulator/mem.h), so
 * the reset must cost the same at every size: O(bytes touched), not O(guest memory).
 *
 * The input is fixed and lives in the first 64 KiB of the main region, so that it fits the
 * smallest memory and touches exactly the same bytes at every size: a split ring (spec 2.7)
 * and a packed ring (spec 2.8) of 64 entries set up in guest memory, ROUNDS round trips on
 * each with a two-segment chain (a 64-byte request the driver writes, a 512-byte buffer the
 * device fills), the rings torn down. Then vqf_mem_reset() is timed. The number of chunks it
 * cleared is reported per size; they must be equal (else the input was not the same and the
 * program exits 1).
 *
 * REPS repetitions, the sizes taking turns in every repetition (rotating order), as in
 * ring_roundtrip: the 16 MiB / 64 KiB ratio is taken within each repetition and its median
 * reported; ns per reset are medians too. For contrast, a naive reset (memset of the whole
 * main region) is timed at each size (fewer repetitions: it is slow at 16 MiB).
 *
 * Usage: reset_cost [--json] [--reps N]
 * Meant for a release build. Wall-clock timing of a few microseconds per sample; the medians
 * absorb interrupts. Timing is not part of the deterministic path, so this is not a test. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_time.h"
#include "emulator/mem.h"
#include "emulator/ring/vq.h"

#define NSIZES 5
#define QSZ 64u
#define ROUNDS 96u
#define REQ_LEN 64u
#define RESP_LEN 512u
#define MAX_REPS 2001
#define FULL_REPS 11

static const uint64_t sizes[NSIZES] = {64u << 10, 256u << 10, 1u << 20, 4u << 20, 16u << 20};
static const char *const size_names[NSIZES] = {"64KiB", "256KiB", "1MiB", "4MiB", "16MiB"};

/* Guest layout of the input, all inside the first 64 KiB of the main region (GPA 0x10000). */
#define SPLIT_DESC 0x10000ull
#define PACKED_DESC 0x14000ull
#define BUF_BASE 0x18000ull /* request/response slots */
#define SLOT_BYTES 576ull   /* REQ_LEN + RESP_LEN, 64-byte aligned */
#define NSLOTS 48u          /* 48 * 576 = 27 KiB: the last slot ends before 0x20000 (64 KiB) */

static void ring_cfg(struct vqf_ring_cfg *cfg, enum vqf_ring_format fmt)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->format = fmt;
    cfg->size = QSZ;
    if (fmt == VQF_RING_SPLIT) {
        cfg->desc = SPLIT_DESC;
        cfg->driver = cfg->desc + VIRTQ_DESC_TABLE_BYTES(QSZ);
        cfg->device = (cfg->driver + VIRTQ_AVAIL_BYTES(QSZ) + 3) & ~3ull;
    } else {
        cfg->desc = PACKED_DESC;
        cfg->driver = cfg->desc + 16ull * QSZ;
        cfg->device = cfg->driver + 4;
        cfg->features = VQF_BIT(VIRTIO_F_RING_PACKED);
    }
    cfg->features |= VQF_BIT(VIRTIO_F_VERSION_1);
}

/* One input on one ring format: returns 0 if every round trip completed. */
static int run_ring(struct vqf_mem *m, enum vqf_ring_format fmt)
{
    struct vqf_ring_cfg cfg;
    ring_cfg(&cfg, fmt);
    struct vqf_dma drv_dma = vqf_mem_dma(m, VQF_SIDE_DRIVER), dev_dma = vqf_mem_dma(m, VQF_SIDE_DEVICE);
    struct vqf_vq_drv drv;
    struct vqf_vq_dev dev;
    struct vqf_seg segs[4];
    struct vqf_chain c;
    memset(&drv, 0, sizeof(drv));
    memset(&dev, 0, sizeof(dev));
    memset(&c, 0, sizeof(c));
    c.seg = segs;
    c.seg_cap = 4;
    if (vqf_vq_drv_init(&drv, &drv_dma, &cfg) != 0 || vqf_vq_dev_init(&dev, &dev_dma, &cfg) != 0)
        return -1;
    static uint8_t req[REQ_LEN], resp[RESP_LEN];
    int rc = 0;
    for (uint32_t i = 0; i < ROUNDS && rc == 0; i++) {
        uint64_t slot = BUF_BASE + (uint64_t)(i % NSLOTS) * SLOT_BYTES;
        const struct vqf_seg sg[2] = {{slot, REQ_LEN, 0}, {slot + REQ_LEN, RESP_LEN, 1}};
        memset(req, (int)(i + 1), sizeof(req));
        memset(resp, (int)(i + 2), sizeof(resp));
        uint32_t tok, len;
        if (vqf_dma_write(&drv_dma, slot, req, REQ_LEN) != 0 || vqf_vq_drv_add(&drv, sg, 1, 1, i, 0) < 0)
            rc = -1;
        else {
            (void)vqf_vq_drv_kick_prepare(&drv);
            if (vqf_vq_dev_pop(&dev, &c) != 1 || c.nseg != 2 ||
                vqf_dma_write(&dev_dma, c.seg[1].addr, resp, RESP_LEN) != 0)
                rc = -1;
            else {
                vqf_vq_dev_push(&dev, &c, RESP_LEN);
                vqf_vq_dev_publish(&dev);
                (void)vqf_vq_dev_need_notify(&dev);
                if (vqf_vq_drv_get_used(&drv, &tok, &len) != 1 || tok != i || len != RESP_LEN)
                    rc = -1;
            }
        }
    }
    vqf_vq_dev_free(&dev);
    vqf_vq_drv_free(&drv);
    return rc;
}

static int run_input(struct vqf_mem *m)
{
    return run_ring(m, VQF_RING_SPLIT) == 0 && run_ring(m, VQF_RING_PACKED) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int json = 0;
    long reps = 301;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = strtol(argv[++i], NULL, 0);
        else
            reps = 0;
    }
    if (reps < 3 || reps > MAX_REPS) {
        fprintf(stderr, "usage: reset_cost [--json] [--reps N]   (3 <= N <= %d, default 301)\n", MAX_REPS);
        return 2;
    }
    /* Pin to the CPU we start on: no migration between the sizes of one repetition. */
    int cpu = sched_getcpu();
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    static struct vqf_mem mem[NSIZES];
    for (int s = 0; s < NSIZES; s++) {
        struct vqf_mem_layout l;
        vqf_mem_default_layout(&l, sizes[s]);
        if (vqf_mem_init(&mem[s], &l) != 0) {
            fprintf(stderr, "reset_cost: cannot map %s of guest memory\n", size_names[s]);
            return 2;
        }
    }
    static double t[NSIZES][MAX_REPS], paired[MAX_REPS], full[NSIZES][FULL_REPS];
    uint32_t chunks[NSIZES] = {0};
    int ok = 1;
    /* Warm-up: every memory once (first touches fault pages in), then the timed repetitions. */
    for (int s = 0; s < NSIZES; s++) {
        ok &= run_input(&mem[s]) == 0;
        vqf_mem_reset(&mem[s]);
    }
    for (long r = 0; r < reps; r++)
        for (int j = 0; j < NSIZES; j++) {
            int s = (int)((r + j) % NSIZES);
            ok &= run_input(&mem[s]) == 0;
            uint32_t n = mem[s].ndirty;
            if (r == 0)
                chunks[s] = n;
            else if (n != chunks[s])
                ok = 0;
            double t0 = bench_now_ns();
            vqf_mem_reset(&mem[s]);
            t[s][r] = bench_now_ns() - t0;
        }
    for (long r = 0; r < reps; r++)
        paired[r] = t[NSIZES - 1][r] / (t[0][r] > 0 ? t[0][r] : 1);
    double ratio = bench_median(paired, (int)reps);
    double ns[NSIZES], full_ns[NSIZES];
    for (int s = 0; s < NSIZES; s++)
        ns[s] = bench_median(t[s], (int)reps);
    /* The naive alternative, for contrast: zero the whole main region. */
    for (int r = 0; r < FULL_REPS; r++)
        for (int s = 0; s < NSIZES; s++) {
            double t0 = bench_now_ns();
            memset(mem[s].r[0].host, 0, (size_t)mem[s].r[0].size);
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            full[s][r] = bench_now_ns() - t0;
        }
    for (int s = 0; s < NSIZES; s++) {
        full_ns[s] = bench_median(full[s], FULL_REPS);
        ok &= chunks[s] == chunks[0];
    }
    for (int s = 0; s < NSIZES; s++)
        vqf_mem_destroy(&mem[s]);
    if (!ok) {
        fprintf(stderr, "reset_cost: the input failed or did not touch the same chunks at every size\n");
        return 1;
    }
    if (json) {
        printf("{\"reps\": %ld, \"rounds_per_ring\": %u, \"sizes\": [", reps, ROUNDS);
        for (int s = 0; s < NSIZES; s++)
            printf("%s{\"name\": \"%s\", \"bytes\": %llu, \"reset_ns\": %.1f, \"chunks_cleared\": %u, "
                   "\"full_memset_ns\": %.1f}",
                   s ? ", " : "", size_names[s], (unsigned long long)sizes[s], ns[s], chunks[s], full_ns[s]);
        printf("], \"reset_16m_over_64k\": %.3f, \"full_memset_16m_over_64k\": %.1f}\n", ratio,
               full_ns[NSIZES - 1] / full_ns[0]);
    } else {
        printf("per-input reset after the same input (split + packed ring, %u round trips each), "
               "%ld interleaved repetitions\n",
               ROUNDS, reps);
        printf("%-8s %14s %10s %18s\n", "memory", "reset ns", "chunks", "full memset ns");
        for (int s = 0; s < NSIZES; s++)
            printf("%-8s %14.1f %10u %18.1f\n", size_names[s], ns[s], chunks[s], full_ns[s]);
        printf("16MiB / 64KiB: %.3fx (median of paired ratios); a full memset would be %.1fx\n", ratio,
               full_ns[NSIZES - 1] / full_ns[0]);
    }
    return 0;
}
