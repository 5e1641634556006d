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
 * --once runs each kind exactly once for the given number of round trips, untimed, for an
 * instruction counter: under `valgrind --tool=callgrind` the inclusive cost of floor_run,
 * split_run and packed_run divided by the iterations is the instruction count per round
 * trip (repeatable on a noisy machine, where the clock is not).
 *
 * Usage: ring_roundtrip [--json] [--once] [iterations per run] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "emulator/ring/vq.h"

#define QSZ 256u
#define REPS 201
#define MAX_RETRY 20
#define BUF_GPA 0x80000ull

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static volatile uint64_t sink; /* keeps results alive */

/* ---- the real rings ---- */

struct vq_pair {
    struct vqf_vq_drv drv;
    struct vqf_vq_dev dev;
    struct vqf_chain c;
    struct vqf_seg seg[4];
};

static int vq_setup(struct vq_pair *p, struct vqf_mem *mem, enum vqf_ring_format fmt)
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
    if (vqf_vq_drv_init(&p->drv, &drv_dma, &cfg) != 0 || vqf_vq_dev_init(&p->dev, &dev_dma, &cfg) != 0)
        return -1;
    p->c.seg = p->seg;
    p->c.seg_cap = 4;
    return 0;
}

static void vq_teardown(struct vq_pair *p)
{
    vqf_vq_dev_free(&p->dev);
    vqf_vq_drv_free(&p->drv);
}

/* n round trips; returns the number that completed (all of them, or the run is void). */
static uint64_t vq_run(struct vq_pair *p, uint64_t n)
{
    const struct vqf_seg sg = {BUF_GPA, 64, 1};
    uint64_t done = 0, acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t tok, len;
        if (vqf_vq_drv_add(&p->drv, &sg, 0, 1, (uint32_t)i, 0) < 0)
            break;
        acc += vqf_vq_drv_kick_prepare(&p->drv);
        if (vqf_vq_dev_pop(&p->dev, &p->c) != 1)
            break;
        vqf_vq_dev_push(&p->dev, &p->c, 64);
        vqf_vq_dev_publish(&p->dev);
        acc += vqf_vq_dev_need_notify(&p->dev);
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

enum kind { K_FLOOR, K_SPLIT, K_PACKED, K_COUNT };

/* One function per kind, so that a profiler attributes each kind's cost on its own. Each
 * leaves a different mark, or identical-code folding would merge the two. */
static volatile uint64_t split_trips, packed_trips;
__attribute__((noinline)) static uint64_t split_run(struct vq_pair *p, uint64_t n)
{
    return split_trips = vq_run(p, n);
}
__attribute__((noinline)) static uint64_t packed_run(struct vq_pair *p, uint64_t n)
{
    return packed_trips = vq_run(p, n);
}

static uint64_t run_kind(enum kind k, struct floor_ring *fr, struct vq_pair *vp, uint64_t n)
{
    if (k == K_FLOOR)
        return floor_run(fr, n);
    return k == K_SPLIT ? split_run(&vp[0], n) : packed_run(&vp[1], n);
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
        double t0 = now_ns();
        uint64_t done = run_kind(k, fr, vp, n);
        t = (now_ns() - t0) / (double)n;
        if (done != n)
            *ok = 0;
        if (ctx_switches() == c0)
            break;
        ++*retried;
    }
    return t;
}

/* Median of n values (sorts them). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* out: median ns per round trip of each kind; ratio: median over repetitions of (kind /
 * floor) within that repetition (ratio[K_FLOOR] = 1). The kinds take turns inside every
 * repetition, so that a busy neighbour or a clock change hits all of them alike. */
static int measure(struct vqf_mem *mem, uint64_t iters, int once, double out[K_COUNT], double ratio[K_COUNT],
                   unsigned *retried)
{
    static struct floor_ring fr;
    static struct vq_pair vp[2];
    double t[K_COUNT][REPS];
    int ok = 1;
    floor_setup(&fr);
    if (vq_setup(&vp[0], &mem[0], VQF_RING_SPLIT) != 0 || vq_setup(&vp[1], &mem[1], VQF_RING_PACKED) != 0)
        return 0;
    if (once) {
        for (int k = 0; k < K_COUNT; k++) {
            if (run_kind((enum kind)k, &fr, vp, iters) != iters)
                ok = 0;
            out[k] = 0;
        }
        vq_teardown(&vp[0]);
        vq_teardown(&vp[1]);
        return ok;
    }
    /* Warm-up: caches, branch predictors and the CPU clock settle first. */
    uint64_t warm = 5 * iters;
    for (int k = 0; k < K_COUNT; k++)
        if (run_kind((enum kind)k, &fr, vp, warm) != warm)
            ok = 0;
    for (int r = 0; r < REPS; r++)
        for (int j = 0; j < K_COUNT; j++) {
            int k = (r + j) % K_COUNT; /* no kind always runs first or after the same one */
            t[k][r] = timed_rep((enum kind)k, &fr, vp, iters, &ok, retried);
        }
    vq_teardown(&vp[0]);
    vq_teardown(&vp[1]);
    double rr[REPS];
    ratio[K_FLOOR] = 1;
    for (int k = K_SPLIT; k < K_COUNT; k++) {
        for (int r = 0; r < REPS; r++)
            rr[r] = t[k][r] / t[K_FLOOR][r];
        ratio[k] = median(rr, REPS);
    }
    for (int k = 0; k < K_COUNT; k++)
        out[k] = median(t[k], REPS);
    return ok;
}

int main(int argc, char **argv)
{
    int json = 0, once = 0;
    uint64_t iters = 20000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--once"))
            once = 1;
        else
            iters = strtoull(argv[i], NULL, 0);
    }
    if (iters == 0) {
        fprintf(stderr, "usage: ring_roundtrip [--json] [--once] [iterations]\n");
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
    /* One guest memory per ring format: the two queues run side by side. */
    static struct vqf_mem mem[2];
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1u << 20);
    if (vqf_mem_init(&mem[0], &l) != 0 || vqf_mem_init(&mem[1], &l) != 0) {
        fprintf(stderr, "ring_roundtrip: cannot map guest memory\n");
        return 2;
    }
    double ns[K_COUNT], ratio[K_COUNT];
    unsigned retried = 0;
    int ok = measure(mem, iters, once, ns, ratio, &retried);
    vqf_mem_destroy(&mem[0]);
    vqf_mem_destroy(&mem[1]);
    if (!ok) {
        fprintf(stderr, "ring_roundtrip: a round trip failed\n");
        return 1;
    }
    if (once) {
        printf("ring round trip, queue %u, 1 segment: %llu untimed trips per kind (instruction counting)\n", QSZ,
               (unsigned long long)iters);
        return 0;
    }
    double floor_ns = ns[K_FLOOR], split_ns = ns[K_SPLIT], packed_ns = ns[K_PACKED];
    /* split_ratio / packed_ratio: medians of the paired per-repetition ratios; the ratios of
     * the median times are given too (they drift more when the machine is busy). */
    if (json) {
        printf("{\"split_ns\":%.2f,\"packed_ns\":%.2f,\"floor_ns\":%.2f,\"split_ratio\":%.2f,\"packed_ratio\":%.2f,"
               "\"split_ratio_of_medians\":%.2f,\"packed_ratio_of_medians\":%.2f,\"reps_rerun\":%u}\n",
               split_ns, packed_ns, floor_ns, ratio[K_SPLIT], ratio[K_PACKED], split_ns / floor_ns,
               packed_ns / floor_ns, retried);
    } else {
        printf("ring round trip, queue %u, 1 segment, %d interleaved repetitions x %llu (%u rerun: preempted)\n",
               QSZ, REPS, (unsigned long long)iters, retried);
        printf("%-8s %10s %14s %14s\n", "ring", "median ns", "x floor paired", "x floor medians");
        printf("%-8s %10.2f %14.2f %14.2f\n", "floor", floor_ns, 1.0, 1.0);
        printf("%-8s %10.2f %14.2f %14.2f\n", "split", split_ns, ratio[K_SPLIT], split_ns / floor_ns);
        printf("%-8s %10.2f %14.2f %14.2f\n", "packed", packed_ns, ratio[K_PACKED], packed_ns / floor_ns);
    }
    return 0;
}
