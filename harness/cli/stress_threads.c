/* vqfuzz stress TARGET --threads: the target's honest driver and device on two threads.
 *
 * The deterministic executor runs both sides in one thread; here they really race, as a
 * guest driver and a device back-end on two CPUs do. What is shared and how:
 *   - guest memory (the rings and buffers): no lock. The ring code's published fields are
 *     16-bit atomics and its barriers are real fences (vqf_mem.threaded, emulator/mem.h);
 *     the protocol of the spec (2.7.13, 2.8.21) is all that orders the two sides.
 *   - the device's register file: the driver's MMIO accesses and the device's poll take the
 *     device lock, as a device model's register handlers and its worker share the model's
 *     state (the lock never covers guest memory).
 *   - notifications: a kick (QueueNotify write) and an interrupt (the device's line) each
 *     bump a counter and wake the other thread through a futex; a thread with nothing to do
 *     sleeps on its counter instead of spinning (the machine may have fewer cores than
 *     threads). A sleep that times out and then finds work means a notification was lost:
 *     it is counted and reported.
 * Every completed request is verified end to end by the reference driver (blk read-back,
 * net loopback, console echo, rng length), and at the end every request must have come back.
 * The figure printed next to it is the same workload, same build, one thread. */
#include "harness/cli/stress_threads.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "emulator/mem.h"
#include "emulator/pair.h"
#include "vqfuzz/virtio.h"

#define ST_MEM_SIZE (4u << 20)
#define ST_BATCH 16u          /* units submitted before the driver looks for completions */
#define ST_SLEEP_NS 200000000 /* a sleeping side wakes up after this long anyway (200 ms) */
#define ST_DRAIN_SECONDS 5.0  /* at the end, every request must be back within this */

/* The unit of work per device type (as bench/device_throughput): arg0 is spread over a few
 * values so that sizes and sectors vary. */
struct st_work {
    struct vqf_workload_op op;
    uint32_t stride, spread;
};

static int work_of(uint32_t device_id, struct st_work *w)
{
    memset(w, 0, sizeof(*w));
    w->spread = 1;
    switch (device_id) {
    case VIRTIO_ID_BLOCK: /* 4 KiB write + verified read-back at 8 disjoint sectors */
        w->op.arg0 = 0, w->op.arg1 = 8, w->stride = 8, w->spread = 8;
        return 0;
    case VIRTIO_ID_NET: /* frames of 64 .. 1264 bytes through the loopback */
        w->op.arg0 = 64, w->stride = 300, w->spread = 5;
        return 0;
    case VIRTIO_ID_CONSOLE: /* writes of 16 .. 464 bytes, echoed */
        w->op.arg0 = 16, w->stride = 64, w->spread = 8;
        return 0;
    case VIRTIO_ID_RNG: /* 64-byte entropy requests */
        w->op.arg0 = 64;
        return 0;
    default:
        return -1;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- futex-backed notification counters ---- */

static void note_wait(atomic_uint *word, unsigned seen)
{
    struct timespec ts = {0, ST_SLEEP_NS};
    /* returns at once if the counter moved since `seen` was read (no lost wake-up) */
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}

static void note_signal(atomic_uint *word)
{
    atomic_fetch_add_explicit(word, 1, memory_order_release);
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- the threaded world ---- */

struct st_world {
    struct vqf_mem mem;
    struct vqf_galloc galloc;
    const struct vqf_device_adapter *dev_ad;
    const struct vqf_driver_adapter *drv_ad;
    void *dev, *drv;
    pthread_mutex_t dev_lock; /* the device's register file and its poll */
    atomic_uint kicks;        /* driver -> device notifications */
    atomic_uint irqs;         /* device -> driver notifications */
    atomic_bool stop;
    /* device thread's counters (read by the main thread after the join) */
    uint64_t polls, dev_sleeps, lost_kicks;
};

static uint32_t st_mmio_read(void *ctx, uint32_t off, unsigned size)
{
    struct st_world *w = ctx;
    pthread_mutex_lock(&w->dev_lock);
    uint32_t v = w->dev_ad->mmio_read(w->dev, off, size);
    pthread_mutex_unlock(&w->dev_lock);
    return v;
}

static void st_mmio_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
    struct st_world *w = ctx;
    pthread_mutex_lock(&w->dev_lock);
    w->dev_ad->mmio_write(w->dev, off, size, val);
    pthread_mutex_unlock(&w->dev_lock);
    if (off == VIRTIO_MMIO_QUEUE_NOTIFY)
        note_signal(&w->kicks);
}

/* The device's interrupt line went up (called from its poll, on the device thread). */
static void st_irq(void *ctx) { note_signal(&((struct st_world *)ctx)->irqs); }

static uint64_t st_alloc(void *ctx, uint64_t size, uint64_t align)
{
    return vqf_galloc_alloc(&((struct st_world *)ctx)->galloc, size, align);
}

#if defined(__SANITIZE_THREAD__)
#define ST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ST_TSAN 1
#endif
#endif
#ifdef ST_TSAN
/* Under ThreadSanitizer the ring code must reach vqf_barrier() (emulator/mem.h), where the
 * barriers take a form ThreadSanitizer models: it does that only with an observer installed. */
static const struct vqf_observer st_quiet_observer = {NULL, NULL, NULL, NULL};
#endif

static int world_init(struct st_world *w, const struct vqf_target *t, bool packed, uint32_t seed)
{
    memset(w, 0, sizeof(*w));
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, ST_MEM_SIZE);
    if (vqf_mem_init(&w->mem, &l) != 0)
        return -1;
    /* Both threads reach the dirty tracking through the DMA accessors: with every chunk
     * already marked, it only reads (nothing is reset in a threaded run). */
    vqf_mem_mark_dirty(&w->mem, l.r[0].gpa, l.r[0].size);
    w->mem.threaded = true;
#ifdef ST_TSAN
    w->mem.obs = &st_quiet_observer;
#endif
    vqf_galloc_init(&w->galloc, l.r[0].gpa + ST_MEM_SIZE / 2, ST_MEM_SIZE / 2);
    pthread_mutex_init(&w->dev_lock, NULL);
    w->dev_ad = t->device;
    w->drv_ad = t->driver;
    struct vqf_device_params dp = {{0, 0}, 0, 0, seed, 0};
    struct vqf_driver_params rp = {{packed ? ~0ull : ~VQF_BIT(VIRTIO_F_RING_PACKED), 0}, 0, 0, seed, 0};
    struct vqf_device_platform dplat = {vqf_mem_dma(&w->mem, VQF_SIDE_DEVICE), st_irq, w};
    struct vqf_driver_platform rplat = {vqf_mem_dma(&w->mem, VQF_SIDE_DRIVER), st_mmio_read, st_mmio_write, w,
                                        st_alloc, w};
    w->dev = w->dev_ad->create(&dplat, &dp);
    w->drv = w->dev ? w->drv_ad->create(&rplat, &rp) : NULL;
    if (!w->drv)
        return -1;
    return 0;
}

static void world_fini(struct st_world *w)
{
    if (w->drv)
        w->drv_ad->destroy(w->drv);
    if (w->dev)
        w->dev_ad->destroy(w->dev);
    pthread_mutex_destroy(&w->dev_lock);
    vqf_mem_destroy(&w->mem);
}

static void *device_thread(void *arg)
{
    struct st_world *w = arg;
    bool slept = false;
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        unsigned seen = atomic_load_explicit(&w->kicks, memory_order_acquire);
        pthread_mutex_lock(&w->dev_lock);
        int work = w->dev_ad->poll(w->dev, 64);
        pthread_mutex_unlock(&w->dev_lock);
        w->polls++;
        if (work > 0) {
            /* work found by a wake-up that no kick caused: the driver skipped a kick the
             * device had asked for (2.7.10 / 2.8.10) */
            if (slept && atomic_load_explicit(&w->kicks, memory_order_acquire) == seen)
                w->lost_kicks++;
            slept = false;
            continue;
        }
        w->dev_sleeps++;
        note_wait(&w->kicks, seen);
        slept = atomic_load_explicit(&w->kicks, memory_order_acquire) == seen;
    }
    return NULL;
}

struct st_result {
    uint64_t units, completions, lost_irqs, lost_kicks, polls, dev_sleeps, drv_sleeps;
    unsigned data_errors, left;
    double seconds;
    int failed;
};

/* The driver's side, on the calling thread. */
static void driver_loop(struct st_world *w, const struct st_work *wk, double seconds, struct st_result *r)
{
    struct vqf_workload_op op = wk->op;
    unsigned handled = atomic_load_explicit(&w->irqs, memory_order_acquire);
    double start = now_s(), end = start + seconds, drain_end = 0, t = start;
    bool slept = false;
    for (uint64_t iter = 0;; iter++) {
        if ((iter & 63) == 0)
            t = now_s(); /* the clock decides only when to stop */
        bool draining = t >= end;
        if (draining && drain_end == 0)
            drain_end = t + ST_DRAIN_SECONDS;
        if (draining && w->drv_ad->inflight(w->drv) == 0)
            break;
        if (draining && t >= drain_end) {
            r->failed = 1; /* requests never came back */
            break;
        }
        unsigned submitted = 0;
        for (unsigned i = 0; i < ST_BATCH && !draining; i++) {
            op.arg0 = wk->op.arg0 + wk->stride * (uint32_t)(r->units % wk->spread);
            op.seed = r->units;
            int rc = w->drv_ad->submit(w->drv, &op);
            if (rc < 0) {
                r->failed = 1;
                return;
            }
            if (rc == 1)
                break;
            r->units++;
            submitted++;
        }
        unsigned irqs = atomic_load_explicit(&w->irqs, memory_order_acquire);
        if (irqs != handled || slept) {
            handled = irqs;
            int done = w->drv_ad->interrupt(w->drv);
            if (done > 0) {
                /* completions found by a timed-out sleep that no interrupt announced */
                if (slept && atomic_load_explicit(&w->irqs, memory_order_acquire) == irqs)
                    r->lost_irqs++;
                r->completions += (uint64_t)done;
            }
            slept = false;
            continue;
        }
        if (submitted == 0 && w->drv_ad->inflight(w->drv) > 0) {
            r->drv_sleeps++;
            note_wait(&w->irqs, irqs);
            slept = atomic_load_explicit(&w->irqs, memory_order_acquire) == irqs;
        }
    }
    r->seconds = now_s() - start;
}

static int run_threaded(const struct vqf_target *t, const struct st_work *wk, bool packed, double seconds,
                        uint32_t seed, struct st_result *r)
{
    memset(r, 0, sizeof(*r));
    struct st_world *w = malloc(sizeof(*w));
    if (!w || world_init(w, t, packed, seed) != 0 || w->drv_ad->probe(w->drv) != 0) {
        if (w)
            world_fini(w);
        free(w);
        return -1;
    }
    pthread_t dev;
    if (pthread_create(&dev, NULL, device_thread, w) != 0) {
        world_fini(w);
        free(w);
        return -1;
    }
    driver_loop(w, wk, seconds, r);
    atomic_store_explicit(&w->stop, true, memory_order_release);
    note_signal(&w->kicks);
    pthread_join(dev, NULL);
    r->lost_kicks = w->lost_kicks;
    r->polls = w->polls;
    r->dev_sleeps = w->dev_sleeps;
    r->data_errors = w->drv_ad->data_errors(w->drv);
    r->left = w->drv_ad->inflight(w->drv);
    w->drv_ad->remove(w->drv);
    world_fini(w);
    free(w);
    return 0;
}

/* The same workload on one thread (emulator/pair.c): submit a batch, poll, interrupt. */
static int run_single(const struct vqf_target *t, const struct st_work *wk, bool packed, double seconds,
                      uint32_t seed, struct st_result *r)
{
    memset(r, 0, sizeof(*r));
    struct vqf_pair *p = malloc(sizeof(*p));
    struct vqf_device_params dp = {{0, 0}, 0, 0, seed, 0};
    struct vqf_driver_params rp = {{packed ? ~0ull : ~VQF_BIT(VIRTIO_F_RING_PACKED), 0}, 0, 0, seed, 0};
    if (!p || vqf_pair_init(p, ST_MEM_SIZE, t->device, &dp, t->driver, &rp) != 0 || t->driver->probe(p->drv) != 0) {
        free(p);
        return -1;
    }
    struct vqf_workload_op op = wk->op;
    double start = now_s(), end = start + seconds;
    unsigned stall = 0;
    while ((r->units & 63) != 0 || now_s() < end) {
        for (unsigned i = 0; i < ST_BATCH; i++) {
            op.arg0 = wk->op.arg0 + wk->stride * (uint32_t)(r->units % wk->spread);
            op.seed = r->units;
            int rc = t->driver->submit(p->drv, &op);
            if (rc != 0) {
                r->failed = rc < 0;
                break;
            }
            r->units++;
        }
        int n = vqf_pair_step(p, 64);
        stall = n > 0 ? 0 : stall + 1;
        if (stall > 1000 || r->failed)
            break;
        r->completions += (uint64_t)(n > 0 ? n : 0);
    }
    vqf_pair_run(p, 64, 1000);
    r->seconds = now_s() - start;
    r->data_errors = t->driver->data_errors(p->drv);
    r->left = t->driver->inflight(p->drv);
    vqf_pair_destroy(p);
    free(p);
    return 0;
}

int vqf_stress_threads(const struct vqf_target *t, uint64_t seconds, uint64_t seed, bool json)
{
    struct st_work wk;
    if (!t->device || !t->driver || t->roles != VQF_ROLE_WORK || work_of(t->device_id, &wk) != 0) {
        fprintf(stderr, "vqfuzz: stress --threads needs an honest pair target (blk_pair, net_pair, or "
                        "<name>_pair of an adapter), not %s\n", t->name);
        return 2;
    }
    double secs = seconds ? (double)seconds : 10.0;
    int bad = 0;
    if (json)
        printf("[");
    for (int packed = 0; packed < 2; packed++) {
        struct st_result th, one;
        /* each format gets half of the time, threaded; the single-thread figure a tenth */
        if (run_threaded(t, &wk, packed, secs / 2, (uint32_t)seed, &th) != 0 ||
            run_single(t, &wk, packed, secs / 20 < 0.2 ? 0.2 : secs / 20, (uint32_t)seed, &one) != 0) {
            fprintf(stderr, "vqfuzz: stress --threads: %s does not initialise\n", t->name);
            return 2;
        }
        bool ok = !th.failed && th.data_errors == 0 && th.left == 0 && th.lost_kicks == 0 && th.lost_irqs == 0;
        bad |= !ok;
        double rt = (double)th.completions / th.seconds, rs = (double)one.completions / one.seconds;
        const char *fmt = packed ? "packed" : "split";
        if (json)
            printf("%s{\"target\": \"%s\", \"format\": \"%s\", \"threads\": 2, \"seconds\": %.2f, "
                   "\"round_trips\": %llu, \"round_trips_per_s\": %.0f, \"single_thread_round_trips_per_s\": %.0f, "
                   "\"data_errors\": %u, \"not_returned\": %u, \"lost_kicks\": %llu, \"lost_interrupts\": %llu, "
                   "\"device_sleeps\": %llu, \"driver_sleeps\": %llu, \"ok\": %s}",
                   packed ? ", " : "", t->name, fmt, th.seconds, (unsigned long long)th.completions, rt, rs,
                   th.data_errors, th.left, (unsigned long long)th.lost_kicks, (unsigned long long)th.lost_irqs,
                   (unsigned long long)th.dev_sleeps, (unsigned long long)th.drv_sleeps, ok ? "true" : "false");
        else
            printf("%s %s, 2 threads: %llu round trips in %.1f s: %.0f/s (one thread: %.0f/s, %.2fx); "
                   "%u data errors, %u not returned, %llu lost kicks, %llu lost interrupts; sleeps: device %llu, "
                   "driver %llu%s\n",
                   t->name, fmt, (unsigned long long)th.completions, th.seconds, rt, rs, rs > 0 ? rt / rs : 0.0,
                   th.data_errors, th.left, (unsigned long long)th.lost_kicks, (unsigned long long)th.lost_irqs,
                   (unsigned long long)th.dev_sleeps, (unsigned long long)th.drv_sleeps,
                   ok ? "" : (th.failed ? "  FAILED (requests stuck)" : "  FAILED"));
    }
    if (json)
        printf("]\n");
    return bad ? 1 : 0;
}
