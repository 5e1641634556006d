/* Ring round-trip cost: one driver add / kick_prepare / device pop / push / publish /
 * need_notify / driver get_used, through the format-neutral vq interface, for split (spec
 * 2.7) and packed (spec 2.8) rings with a one-segment chain and queue size 256, against a
 * floor: the same logical steps inlined on a plain host array, with no validation, logging
 * or guest-memory translation. The ratio is the price of the checks and the observer hooks.
 *
 * REPS short timed repetitions after a warm-up, on a pinned CPU, the three kinds taking
 * turns in every repetition (in rotating order). On a shared machine a repetition during
 * which the scheduler ran another task measures that task: such a repetition (seen as a
 * context switch in getrusage) is run again. Repetitions are short (a fraction of a time
 * slice) so that most are clean. A clock change or a busy sibling still slows a whole
 * repetition, so each ratio is taken within one repetition (ring time over floor time of
 * the same repetition) and the median of those paired ratios is reported; the per-kind
 * times are medians too. Wall-clock timing is fine here: benchmarks are not part
 * of the deterministic path.
 *
 * --oracle adds two kinds: the same split and packed round trips on queues of their own whose
 * guest memory has the spec oracle installed as its observer, set up as the harness executor
 * sets it up (the oracle's observer on the memory, the register writes of the chapter-3
 * initialisation and of the queue setup shown to it, both sides judged, each device step
 * bracketed with vqf_oracle_device_step). Only the ring work is timed: no notification
 * crosses the register file in either kind, so "on" and "off" do the same ring operations
 * and differ only by the oracle. The oracle ratios are paired per repetition like the
 * others: oracle-on over oracle-off, and oracle-on over the floor. A run whose oracle
 * reports a finding is void (an honest pair must pass).
 *
 * --once runs each kind exactly once for the given number of round trips, untimed, for an
 * instruction counter: under `valgrind --tool=callgrind` the inclusive cost of floor_run,
 * split_run, packed_run (and split_oracle_run, packed_oracle_run) divided by the iterations
 * is the instruction count per round trip (repeatable on a noisy machine, where the clock is
 * not).
 *
 * Usage: ring_roundtrip [--json] [--once] [--oracle] [iterations per run] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/bench_time.h"
#include "emulator/oracle/oracle.h"
#include "emulator/ring/vq.h"
#include "vqfuzz/virtio.h"

#define QSZ 256u
#define REPS 201
#define MAX_RETRY 20
#define BUF_GPA 0x80000ull

static volatile uint64_t sink; /* keeps results alive */

/* ---- the real rings ---- */

struct vq_pair {
    struct vqf_vq_drv drv;
    struct vqf_vq_dev dev;
    struct vqf_chain c;
    struct vqf_seg seg[4];
    struct vqf_oracle *oracle; /* NULL: no observer on this pair's memory */
};

/* A device type without device-specific rules: the oracle applies its transport and ring
 * checks, nothing that would parse the (empty) buffers. */
#define BENCH_DEVICE_ID 0x7fu

static void oracle_reg(struct vqf_oracle *o, bool write, uint32_t off, uint32_t val)
{
    vqf_oracle_mmio(o, write, off, 4, val);
}

/* The oracle sees what the harness shows it before a queue runs: its observer on guest
 * memory, a fresh input (both sides judged), the chapter-3 initialisation up to a confirmed
 * FEATURES_OK (3.1.1), and the queue registers of 4.2.2. QueueReady and DRIVER_OK follow
 * once the driver half has zeroed its rings (oracle_go). */
static void oracle_attach(struct vqf_oracle *o, struct vqf_mem *mem, const struct vqf_ring_cfg *cfg)
{
    mem->obs = vqf_oracle_observer(o);
    struct vqf_oracle_setup os = {(1u << VQF_SIDE_DRIVER) | (1u << VQF_SIDE_DEVICE), BENCH_DEVICE_ID, mem};
    vqf_oracle_begin(o, &os);
    const uint32_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    oracle_reg(o, true, VIRTIO_MMIO_STATUS, 0);
    oracle_reg(o, false, VIRTIO_MMIO_STATUS, 0);
    oracle_reg(o, true, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    oracle_reg(o, true, VIRTIO_MMIO_STATUS, st);
    for (uint32_t sel = 0; sel < 2; sel++) {
        uint32_t half = (uint32_t)(cfg->features >> (32 * sel));
        oracle_reg(o, true, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
        oracle_reg(o, false, VIRTIO_MMIO_DEVICE_FEATURES, half);
        oracle_reg(o, true, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        oracle_reg(o, true, VIRTIO_MMIO_DRIVER_FEATURES, half);
    }
    oracle_reg(o, true, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
    oracle_reg(o, false, VIRTIO_MMIO_STATUS, st | VIRTIO_STATUS_FEATURES_OK);
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_SEL, cfg->index);
    oracle_reg(o, false, VIRTIO_MMIO_QUEUE_NUM_MAX, cfg->size);
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_NUM, cfg->size);
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)cfg->desc);
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(cfg->desc >> 32));
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)cfg->driver);
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(cfg->driver >> 32));
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)cfg->device);
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(cfg->device >> 32));
}

static void oracle_go(struct vqf_oracle *o)
{
    oracle_reg(o, true, VIRTIO_MMIO_QUEUE_READY, 1);
    oracle_reg(o, true, VIRTIO_MMIO_STATUS,
               VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static int vq_setup(struct vq_pair *p, struct vqf_mem *mem, enum vqf_ring_format fmt, struct vqf_oracle *oracle)
{
    struct vqf_ring_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.format = fmt;
    cfg.size = QSZ;
    cfg.desc = 0x10000;
    if (fmt == VQF_RING_SPLIT) {
        cfg.driver = cfg.desc + VIRTQ_DESC_TABLE_BYTES(QSZ);
        cfg.device = (cfg.driver + VIRTQ_AVAIL_BYTES(QSZ) + 3) & ~3ull;
    } else {
        cfg.driver = cfg.desc + 16ull * QSZ;
        cfg.device = cfg.driver + 4;
        cfg.features = VQF_BIT(VIRTIO_F_RING_PACKED);
    }
    cfg.features |= VQF_BIT(VIRTIO_F_VERSION_1);
    struct vqf_dma drv_dma = vqf_mem_dma(mem, VQF_SIDE_DRIVER), dev_dma = vqf_mem_dma(mem, VQF_SIDE_DEVICE);
    memset(p, 0, sizeof(*p));
    p->oracle = oracle;
    if (oracle)
        oracle_attach(oracle, mem, &cfg);
    if (vqf_vq_drv_init(&p->drv, &drv_dma, &cfg) != 0)
        return -1;
    if (oracle)
        oracle_go(oracle);
    if (vqf_vq_dev_init(&p->dev, &dev_dma, &cfg) != 0)
        return -1;
    p->c.seg = p->seg;
    p->c.seg_cap = 4;
    return 0;
}

/* 0 when the pair's oracle (if any) found nothing. */
static int vq_teardown(struct vq_pair *p, struct vqf_mem *mem)
{
    int findings = p->oracle ? (int)vqf_oracle_nfindings(p->oracle) : 0;
    for (int i = 0; i < findings; i++)
        fprintf(stderr, "ring_roundtrip: oracle finding: %s\n", vqf_oracle_finding(p->oracle, (unsigned)i)->detail);
    mem->obs = NULL; /* teardown is not traffic */
    vqf_vq_dev_free(&p->dev);
    vqf_vq_drv_free(&p->drv);
    return findings;
}

/* n round trips; returns the number that completed (all of them, or the run is void).
 * Inlined into each kind's run function with a constant with_oracle, so that the kinds
 * without the oracle do not test for it. */
__attribute__((always_inline)) static inline uint64_t vq_run(struct vq_pair *p, uint64_t n, const bool with_oracle)
{
    const struct vqf_seg sg = {BUF_GPA, 64, 1};
    uint64_t done = 0, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t tok, len;
        if (vqf_vq_drv_add(&p->drv, &sg, 0, 1, (uint32_t)i, 0) < 0)
            break;
        acc += vqf_vq_drv_kick_prepare(&p->drv);
        if (with_oracle) /* the harness brackets every device poll */
            vqf_oracle_device_step(p->oracle, true);
        if (vqf_vq_dev_pop(&p->dev, &p->c) != 1)
            break;
        vqf_vq_dev_push(&p->dev, &p->c, 64);
        vqf_vq_dev_publish(&p->dev);
        acc += vqf_vq_dev_need_notify(&p->dev);
        if (with_oracle)
            vqf_oracle_device_step(p->oracle, false);
        if (vqf_vq_drv_get_used(&p->drv, &tok, &len) != 1 || tok != (uint32_t)i)
            break;
        acc += len;
        done++;
    }
    sink += acc;
    return done;
}

/* ---- the floor: the same steps on plain host arrays ---- */

struct floor_ring {
    uint64_t desc_addr[QSZ];
    uint32_t desc_len[QSZ];
    uint16_t desc_flags[QSZ];
    uint16_t avail_ring[QSZ];
    uint16_t avail_idx, avail_flags;
    uint32_t used_id[QSZ], used_len[QSZ];
    uint16_t used_idx, used_flags;
    /* driver */
    uint32_t token[QSZ];
    uint16_t next_free[QSZ];
    uint16_t free_head, avail_shadow, last_used;
    /* device */
    uint16_t last_avail, used_shadow;
};

/* A compiler barrier where the real code has its memory barriers (single-threaded). */
#define FLOOR_BARRIER() __atomic_signal_fence(__ATOMIC_SEQ_CST)

static uint64_t floor_run(struct floor_ring *r, uint64_t n)
{
    uint64_t done = 0, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        /* driver add */
        uint16_t head = r->free_head;
        r->free_head = r->next_free[head];
        r->desc_addr[head] = BUF_GPA;
        r->desc_len[head] = 64;
        r->desc_flags[head] = VIRTQ_DESC_F_WRITE;
        r->token[head] = (uint32_t)i;
        r->avail_ring[r->avail_shadow++ & (QSZ - 1)] = head;
        /* kick_prepare */
        FLOOR_BARRIER();
        r->avail_idx = r->avail_shadow;
        FLOOR_BARRIER();
        acc += !(r->used_flags & VIRTQ_USED_F_NO_NOTIFY);
        /* device pop: one range check per index, as little as any device does */
        if (r->avail_idx == r->last_avail)
            break;
        FLOOR_BARRIER();
        uint16_t h = r->avail_ring[r->last_avail++ & (QSZ - 1)];
        if (h >= QSZ)
            break;
        uint32_t len = r->desc_len[h];
        acc += r->desc_addr[h] + r->desc_flags[h];
        /* push + publish */
        r->used_id[r->used_shadow & (QSZ - 1)] = h;
        r->used_len[r->used_shadow++ & (QSZ - 1)] = len;
        FLOOR_BARRIER();
        r->used_idx = r->used_shadow;
        /* need_notify */
        FLOOR_BARRIER();
        acc += !(r->avail_flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
        /* driver get_used */
        if (r->used_idx == r->last_used)
            break;
        FLOOR_BARRIER();
        uint16_t pos = r->last_used++ & (QSZ - 1);
        uint32_t id = r->used_id[pos];
        if (id >= QSZ || r->token[id] != (uint32_t)i)
            break;
        acc += r->used_len[pos];
        r->next_free[id] = r->free_head;
        r->free_head = (uint16_t)id;
        done++;
    }
    sink += acc;
    return done;
}

static void floor_setup(struct floor_ring *r)
{
    memset(r, 0, sizeof(*r));
    for (unsigned i = 0; i < QSZ; i++)
        r->next_free[i] = (uint16_t)((i + 1) % QSZ);
}

/* ---- timing ---- */

enum kind { K_FLOOR, K_SPLIT, K_PACKED, K_SPLIT_ORACLE, K_PACKED_ORACLE, K_COUNT };
#define K_COUNT_PLAIN K_SPLIT_ORACLE /* kinds without --oracle */

/* One function per kind, so that a profiler attributes each kind's cost on its own. Each
 * leaves a different mark, or identical-code folding would merge the two. */
static volatile uint64_t split_trips, packed_trips, split_oracle_trips, packed_oracle_trips;
__attribute__((noinline)) static uint64_t split_run(struct vq_pair *p, uint64_t n)
{
    return split_trips = vq_run(p, n, false);
}
__attribute__((noinline)) static uint64_t packed_run(struct vq_pair *p, uint64_t n)
{
    return packed_trips = vq_run(p, n, false);
}
__attribute__((noinline)) static uint64_t split_oracle_run(struct vq_pair *p, uint64_t n)
{
    return split_oracle_trips = vq_run(p, n, true);
}
__attribute__((noinline)) static uint64_t packed_oracle_run(struct vq_pair *p, uint64_t n)
{
    return packed_oracle_trips = vq_run(p, n, true);
}

/* vp[k - 1] is the pair of kind k. */
static uint64_t run_kind(enum kind k, struct floor_ring *fr, struct vq_pair *vp, uint64_t n)
{
    switch (k) {
    case K_SPLIT: return split_run(&vp[0], n);
    case K_PACKED: return packed_run(&vp[1], n);
    case K_SPLIT_ORACLE: return split_oracle_run(&vp[2], n);
    case K_PACKED_ORACLE: return packed_oracle_run(&vp[3], n);
    default: return floor_run(fr, n);
    }
}

/* Context switches of this thread so far, voluntary and not; -1 if unknown. */
static long ctx_switches(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return -1;
    return ru.ru_nvcsw + ru.ru_nivcsw;
}

/* ns per round trip over one repetition the scheduler did not interrupt (the last attempt
 * counts if none of MAX_RETRY was clean). */
static double timed_rep(enum kind k, struct floor_ring *fr, struct vq_pair *vp, uint64_t n, int *ok,
                        unsigned *retried)
{
    double t = 0;
    for (int a = 0; a < MAX_RETRY; a++) {
        long c0 = ctx_switches();
        double t0 = bench_now_ns();
        uint64_t done = run_kind(k, fr, vp, n);
        t = (bench_now_ns() - t0) / (double)n;
        if (done != n)
            *ok = 0;
        if (ctx_switches() == c0)
            break;
        ++*retried;
    }
    return t;
}

/* Round trips per timed repetition: the oracle kinds cost tens of times more per trip, so
 * they run fewer to keep their repetitions as short as the others' (a fraction of a time
 * slice; times are per trip either way). */
#define ORACLE_TRIP_DIVISOR 16
static uint64_t trips_per_rep(enum kind k, uint64_t iters)
{
    if (k < K_SPLIT_ORACLE)
        return iters;
    return iters / ORACLE_TRIP_DIVISOR ? iters / ORACLE_TRIP_DIVISOR : 1;
}

/* Paired ratios of one repetition: kind num over kind den, median over repetitions. */
static double paired_ratio(double t[K_COUNT][REPS], enum kind num, enum kind den)
{
    double rr[REPS];
    for (int r = 0; r < REPS; r++)
        rr[r] = t[num][r] / t[den][r];
    return bench_median(rr, REPS);
}

struct result {
    double ns[K_COUNT];           /* median ns per round trip */
    double x_floor[K_COUNT];      /* paired: kind / floor */
    double oracle_on_off[K_COUNT]; /* paired: oracle kind / the same format without it */
    unsigned retried;
};

/* Runs kinds 0..nkinds-1 on the pairs of mem[0..nkinds-2] (one guest memory per queue: the
 * queues run side by side; the oracle kinds' memories carry the oracle). The kinds take
 * turns inside every repetition, so that a busy neighbour or a clock change hits all of
 * them alike. */
static int measure(struct vqf_mem *mem, struct vqf_oracle **oracle, int nkinds, uint64_t iters, int once,
                   struct result *res)
{
    static struct floor_ring fr;
    static struct vq_pair vp[K_COUNT - 1];
    static double t[K_COUNT][REPS];
    int ok = 1;
    floor_setup(&fr);
    for (int k = K_SPLIT; k < nkinds; k++) {
        enum vqf_ring_format fmt = (k == K_SPLIT || k == K_SPLIT_ORACLE) ? VQF_RING_SPLIT : VQF_RING_PACKED;
        struct vqf_oracle *o = k >= K_SPLIT_ORACLE ? oracle[k - K_SPLIT_ORACLE] : NULL;
        if (vq_setup(&vp[k - 1], &mem[k - 1], fmt, o) != 0)
            return 0;
    }
    if (once) {
        for (int k = 0; k < nkinds; k++)
            if (run_kind((enum kind)k, &fr, vp, iters) != iters)
                ok = 0;
    } else {
        /* Warm-up: caches, branch predictors and the CPU clock settle first. */
        uint64_t warm = 5 * iters;
        for (int k = 0; k < nkinds; k++)
            if (run_kind((enum kind)k, &fr, vp, warm) != warm)
                ok = 0;
        for (int r = 0; r < REPS; r++)
            for (int j = 0; j < nkinds; j++) {
                int k = (r + j) % nkinds; /* no kind always runs first or after the same one */
                t[k][r] = timed_rep((enum kind)k, &fr, vp, trips_per_rep((enum kind)k, iters), &ok, &res->retried);
            }
        for (int k = 0; k < nkinds; k++) {
            res->x_floor[k] = k == K_FLOOR ? 1 : paired_ratio(t, (enum kind)k, K_FLOOR);
            if (k >= K_SPLIT_ORACLE)
                res->oracle_on_off[k] = paired_ratio(t, (enum kind)k, (enum kind)(k - K_SPLIT_ORACLE + K_SPLIT));
        }
        for (int k = 0; k < nkinds; k++)
            res->ns[k] = bench_median(t[k], REPS);
    }
    for (int k = K_SPLIT; k < nkinds; k++)
        if (vq_teardown(&vp[k - 1], &mem[k - 1]) != 0)
            ok = 0;
    return ok;
}

int main(int argc, char **argv)
{
    int json = 0, once = 0, with_oracle = 0;
    uint64_t iters = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--once"))
            once = 1;
        else if (!strcmp(argv[i], "--oracle"))
            with_oracle = 1;
        else
            iters = strtoull(argv[i], NULL, 0);
    }
    if (iters == 0) {
        fprintf(stderr, "usage: ring_roundtrip [--json] [--once] [--oracle] [iterations]\n");
        return 2;
    }
    /* Pin to the CPU we start on: no migration between repetitions. */
    int cpu = sched_getcpu();
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    int nkinds = with_oracle ? K_COUNT : K_COUNT_PLAIN;
    static struct vqf_mem mem[K_COUNT - 1];
    struct vqf_oracle *oracle[2] = {NULL, NULL};
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1u << 20);
    for (int k = K_SPLIT; k < nkinds; k++)
        if (vqf_mem_init(&mem[k - 1], &l) != 0) {
            fprintf(stderr, "ring_roundtrip: cannot map guest memory\n");
            return 2;
        }
    if (with_oracle && (!(oracle[0] = vqf_oracle_new()) || !(oracle[1] = vqf_oracle_new()))) {
        fprintf(stderr, "ring_roundtrip: cannot create the oracle\n");
        return 2;
    }
    struct result res;
    memset(&res, 0, sizeof(res));
    int ok = measure(mem, oracle, nkinds, iters, once, &res);
    for (int k = K_SPLIT; k < nkinds; k++)
        vqf_mem_destroy(&mem[k - 1]);
    vqf_oracle_free(oracle[0]);
    vqf_oracle_free(oracle[1]);
    if (!ok) {
        fprintf(stderr, "ring_roundtrip: a round trip failed\n");
        return 1;
    }
    if (once) {
        printf("ring round trip, queue %u, 1 segment: %llu untimed trips per kind%s (instruction counting)\n", QSZ,
               (unsigned long long)iters, with_oracle ? ", oracle off and on" : "");
        return 0;
    }
    const double *ns = res.ns, *xf = res.x_floor, *onoff = res.oracle_on_off;
    /* split_ratio / packed_ratio: medians of the paired per-repetition ratios; the ratios of
     * the median times are given too (they drift more when the machine is busy). */
    if (json) {
        printf("{\"split_ns\":%.2f,\"packed_ns\":%.2f,\"floor_ns\":%.2f,\"split_ratio\":%.2f,\"packed_ratio\":%.2f,"
               "\"split_ratio_of_medians\":%.2f,\"packed_ratio_of_medians\":%.2f,",
               ns[K_SPLIT], ns[K_PACKED], ns[K_FLOOR], xf[K_SPLIT], xf[K_PACKED], ns[K_SPLIT] / ns[K_FLOOR],
               ns[K_PACKED] / ns[K_FLOOR]);
        if (with_oracle)
            printf("\"split_oracle_ns\":%.2f,\"packed_oracle_ns\":%.2f,\"split_oracle_ratio\":%.2f,"
                   "\"packed_oracle_ratio\":%.2f,\"split_oracle_floor_ratio\":%.2f,\"packed_oracle_floor_ratio\":%.2f,",
                   ns[K_SPLIT_ORACLE], ns[K_PACKED_ORACLE], onoff[K_SPLIT_ORACLE], onoff[K_PACKED_ORACLE],
                   xf[K_SPLIT_ORACLE], xf[K_PACKED_ORACLE]);
        printf("\"reps_rerun\":%u}\n", res.retried);
    } else {
        printf("ring round trip, queue %u, 1 segment, %d interleaved repetitions x %llu", QSZ, REPS,
               (unsigned long long)iters);
        if (with_oracle)
            printf(" (oracle kinds x %llu)", (unsigned long long)trips_per_rep(K_SPLIT_ORACLE, iters));
        printf(" (%u rerun: preempted)\n", res.retried);
        printf("%-14s %10s %14s %14s", "ring", "median ns", "x floor paired", "x floor medians");
        if (with_oracle)
            printf(" %14s", "x off paired");
        printf("\n");
        static const char *const name[K_COUNT] = {"floor", "split", "packed", "split+oracle", "packed+oracle"};
        for (int k = 0; k < nkinds; k++) {
            printf("%-14s %10.2f %14.2f %14.2f", name[k], ns[k], xf[k], ns[k] / ns[K_FLOOR]);
            if (k >= K_SPLIT_ORACLE)
                printf(" %14.2f", onoff[k]);
            printf("\n");
        }
    }
    return 0;
}
