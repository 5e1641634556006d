/* Seeded random round trips through the format-neutral virtqueue (vq.h), over split (spec
 * 2.7) and packed (spec 2.8) rings, for every combination of VIRTIO_F_INDIRECT_DESC x
 * VIRTIO_F_EVENT_IDX x VIRTIO_F_IN_ORDER and several queue sizes.
 *
 * Both sides run only when the other side asks them to: the device polls the ring after a
 * kick (or while it still has work it found itself), the driver reclaims after a used-buffer
 * notification. A lost kick or a lost interrupt (2.7.7 / 2.7.10 / 2.8.10) therefore shows up
 * as a stall, which the test reports. Chains have random shapes (readable then writable
 * segments, direct or indirect); the device hashes the readable bytes and writes a pattern
 * derived from the hash into a random prefix of the writable bytes; the driver checks that
 * every buffer comes back exactly once, with its token, the written length and the data.
 *
 * Usage: test_ring_random [round trips per format] [seed]. Without a count: 10^6 per format
 * and at least 70000 per combination (so that the 16-bit indexes wrap in every one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/ring/vq.h"
#include "tests/check.h"

#define MEM_SIZE (16u << 20)
#define RING_GPA 0x10000ull     /* rings: at most 832 KiB (split, 32768 entries) */
#define POOL_GPA 0x110000ull    /* indirect tables: size * MAX_SEGS * 16 bytes */
#define BUF_GPA 0x400000ull     /* one SLOT_BYTES area per outstanding chain */
#define MAX_SEGS 4
#define SEG_MAX 48
#define SLOT_BYTES 256u
#define MAX_QSZ 32768u
#define STALL_STEPS 2000

static uint64_t rng_state;

/* splitmix64: small, seeded, deterministic */
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint32_t rnd_below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* One chain as the test (playing the driver's user) made it. */
struct tslot {
    uint16_t seq;           /* bumped per use: a stale token does not match */
    uint8_t busy;
    uint8_t nout, nin;
    uint16_t len[MAX_SEGS];
    uint32_t in_cap;
    uint32_t hash;          /* of the readable bytes */
    uint32_t dev_written;   /* what the device reported, -1 until it pushed */
};

struct world {
    struct vqf_mem mem;
    struct vqf_dma drv_dma, dev_dma;
    struct vqf_vq_drv drv;
    struct vqf_vq_dev dev;
    struct vqf_ring_cfg cfg;
    /* test-side state */
    struct tslot slot[MAX_QSZ];
    uint16_t free_slots[MAX_QSZ];
    uint32_t nfree;
    /* device in-flight chains: storage and an order list */
    struct vqf_chain ch[MAX_QSZ];
    struct vqf_seg seg[MAX_QSZ][MAX_SEGS + 1];
    uint16_t ch_free[MAX_QSZ];
    uint32_t ch_nfree;
    uint16_t inflight[MAX_QSZ];
    uint32_t ninflight;
    bool kicked, dev_active, irq, draining;
    uint64_t completed, added;
    unsigned errors;
};

static uint32_t fnv(uint32_t h, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}
static inline uint8_t pattern(uint32_t hash, uint32_t j) { return (uint8_t)((hash >> ((j & 3) * 8)) + j * 13u); }
static inline uint8_t data_byte(uint32_t token, uint32_t j) { return (uint8_t)(token * 131u + j * 7u + (token >> 16)); }

static uint8_t *host(struct world *w, uint64_t gpa, uint64_t len)
{
    uint8_t *p = vqf_mem_xlate(&w->mem, gpa, len);
    if (!p) {
        fprintf(stderr, "bad gpa %llx\n", (unsigned long long)gpa);
        abort();
    }
    return p;
}

static void fail(struct world *w, const char *what, uint64_t a, uint64_t b)
{
    if (w->errors++ < 10)
        fprintf(stderr, "FAIL %s: %llu %llu (format %d size %u features %llx)\n", what, (unsigned long long)a,
                (unsigned long long)b, (int)w->cfg.format, w->cfg.size, (unsigned long long)w->cfg.features);
}

/* ---- driver side ---- */

static void drv_reclaim(struct world *w)
{
    uint32_t token, len;
    int rc;
    while ((rc = vqf_vq_drv_get_used(&w->drv, &token, &len)) == 1) {
        uint32_t s = token & 0xffffu;
        struct tslot *t = &w->slot[s];
        if (s >= w->cfg.size || !t->busy || t->seq != token >> 16) {
            fail(w, "unknown or duplicate token", token, len);
            continue;
        }
        if (t->dev_written == UINT32_MAX || len != t->dev_written)
            fail(w, "used len", len, t->dev_written);
        /* Writable bytes: the pattern up to len (2.7.8 / 2.8.4: len bytes were written). */
        uint64_t gpa = BUF_GPA + (uint64_t)s * SLOT_BYTES;
        uint32_t j = 0;
        for (unsigned k = 0; k < (unsigned)(t->nout + t->nin); k++) {
            const uint8_t *p = host(w, gpa, t->len[k]);
            if (k >= t->nout)
                for (uint32_t i = 0; i < t->len[k] && j < len; i++, j++)
                    if (p[i] != pattern(t->hash, j)) {
                        fail(w, "written data", j, p[i]);
                        break;
                    }
            gpa += t->len[k];
        }
        t->busy = 0;
        w->free_slots[w->nfree++] = (uint16_t)s;
        w->completed++;
    }
    if (rc < 0)
        fail(w, "get_used error", (uint64_t)-rc, 0);
}

static void drv_step(struct world *w, bool adding)
{
    if (w->irq) {
        w->irq = false;
        w->draining = true;
    }
    if (w->draining) {
        /* Linux-style: callbacks off while reclaiming, on again, and re-poll if entries
         * arrived in between (the enable_cb race of 2.7.7 / 2.8.10). */
        bool off = rnd_below(2);
        if (off)
            vqf_vq_drv_disable_cb(&w->drv);
        drv_reclaim(w);
        if (vqf_vq_drv_enable_cb(&w->drv))
            w->draining = false;
    }
    if (!adding)
        return;
    unsigned n = rnd_below(9);
    bool any = false;
    for (unsigned i = 0; i < n && w->nfree; i++) {
        unsigned maxs = w->cfg.size < MAX_SEGS ? w->cfg.size : MAX_SEGS;
        unsigned total = 1 + rnd_below(maxs);
        unsigned nout = rnd_below(total + 1), nin = total - nout;
        uint16_t s = w->free_slots[w->nfree - 1];
        struct tslot *t = &w->slot[s];
        uint32_t token = ((uint32_t)(uint16_t)(t->seq + 1) << 16) | s;
        struct vqf_seg sg[MAX_SEGS];
        uint64_t gpa = BUF_GPA + (uint64_t)s * SLOT_BYTES;
        uint32_t h = 2166136261u, j = 0, in_cap = 0;
        for (unsigned k = 0; k < total; k++) {
            uint32_t len = 1 + rnd_below(SEG_MAX);
            uint8_t *p = host(w, gpa, len);
            sg[k].addr = gpa;
            sg[k].len = len;
            sg[k].write = k >= nout;
            t->len[k] = (uint16_t)len;
            if (k < nout) {
                for (uint32_t b = 0; b < len; b++)
                    p[b] = data_byte(token, j++);
                h = fnv(h, p, len);
            } else {
                in_cap += len;
            }
            gpa += len;
        }
        /* Poison the writable bytes with the complement of what the device must write. */
        if (in_cap) {
            uint8_t *p = host(w, sg[nout].addr, in_cap); /* writable segments are contiguous */
            for (uint32_t k = 0; k < in_cap; k++)
                p[k] = (uint8_t)~pattern(h, k);
        }
        unsigned flags = rnd_below(2) ? VQF_ADD_INDIRECT : 0;
        int rc = vqf_vq_drv_add(&w->drv, sg, nout, nin, token, flags);
        if (rc == -VQF_ERR_NOSPACE)
            break;
        if (rc < 0) {
            fail(w, "add", (uint64_t)-rc, total);
            break;
        }
        t->seq++;
        t->busy = 1;
        t->nout = (uint8_t)nout;
        t->nin = (uint8_t)nin;
        t->in_cap = in_cap;
        t->hash = h;
        t->dev_written = UINT32_MAX;
        w->nfree--;
        w->added++;
        any = true;
    }
    if (any && vqf_vq_drv_kick_prepare(&w->drv))
        w->kicked = true;
}

/* ---- device side ---- */

static void dev_complete(struct world *w, struct vqf_chain *c)
{
    /* Which test slot: the first segment lies in it (the device learns nothing else). */
    uint32_t s = (uint32_t)((c->seg[0].addr - BUF_GPA) / SLOT_BYTES);
    uint32_t h = 2166136261u;
    for (unsigned k = 0; k < c->nout; k++)
        h = fnv(h, host(w, c->seg[k].addr, c->seg[k].len), c->seg[k].len);
    uint32_t written = rnd_below(2) ? c->in_len : rnd_below(c->in_len + 1);
    uint32_t j = 0;
    for (unsigned k = c->nout; k < c->nseg && j < written; k++) {
        uint8_t *p = host(w, c->seg[k].addr, c->seg[k].len);
        for (uint32_t i = 0; i < c->seg[k].len && j < written; i++, j++)
            p[i] = pattern(h, j);
    }
    if (s < w->cfg.size)
        w->slot[s].dev_written = written;
    int rc = vqf_vq_dev_push(&w->dev, c, written);
    if (rc != 0)
        fail(w, "push", (uint64_t)-rc, c->id);
}

static void dev_step(struct world *w)
{
    if (w->kicked) {
        w->kicked = false;
        w->dev_active = true;
    }
    if (w->dev_active) {
        /* vhost-style: kicks off while polling, on again when the ring looks empty, then a
         * re-check closes the race with a driver that published meanwhile. */
        vqf_vq_dev_set_kick_suppress(&w->dev, true);
        unsigned n = 1 + rnd_below(8);
        for (unsigned i = 0; i < n && w->ch_nfree; i++) {
            uint16_t k = w->ch_free[w->ch_nfree - 1];
            struct vqf_chain *c = &w->ch[k];
            c->seg = w->seg[k];
            c->seg_cap = MAX_SEGS + 1;
            int rc = vqf_vq_dev_pop(&w->dev, c);
            if (rc < 0) {
                fail(w, "pop", (uint64_t)-rc, 0);
                w->dev_active = false;
                return;
            }
            if (rc == 0) {
                vqf_vq_dev_set_kick_suppress(&w->dev, false);
                if (!vqf_vq_dev_pending(&w->dev))
                    w->dev_active = false;
                break;
            }
            w->ch_nfree--;
            w->inflight[w->ninflight++] = k;
        }
    }
    if (!w->ninflight)
        return;
    unsigned n = rnd_below(w->ninflight + 1);
    for (unsigned i = 0; i < n; i++) {
        uint32_t pick;
        if (vqf_has_feature(w->cfg.features, VIRTIO_F_IN_ORDER)) {
            pick = 0; /* 2.7.9 / 2.8.8: in the order made available */
        } else {
            pick = rnd_below(w->ninflight);
        }
        uint16_t k = w->inflight[pick];
        dev_complete(w, &w->ch[k]);
        if (pick == 0 && vqf_has_feature(w->cfg.features, VIRTIO_F_IN_ORDER))
            memmove(&w->inflight[0], &w->inflight[1], (w->ninflight - 1) * sizeof(w->inflight[0]));
        else
            w->inflight[pick] = w->inflight[w->ninflight - 1];
        w->ninflight--;
        w->ch_free[w->ch_nfree++] = k;
    }
    vqf_vq_dev_publish(&w->dev);
    if (vqf_vq_dev_need_notify(&w->dev))
        w->irq = true;
}

/* ---- an observer, installed on some combinations: the observed code paths of both
 * halves run too, and their events must match the traffic ---- */

struct counts {
    uint64_t ev[VQF_EV_COUNT];
    uint64_t reads, writes, barriers;
};
static struct counts counts;

static void count_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    (void)ctx, (void)side, (void)gpa, (void)len;
    if (kind == VQF_ACC_READ)
        counts.reads++;
    else
        counts.writes++;
}
static void count_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    (void)ctx, (void)side, (void)a, (void)b, (void)c;
    if (ev < VQF_EV_COUNT)
        counts.ev[ev]++;
}
static void count_barrier(void *ctx, unsigned side, unsigned kind)
{
    (void)ctx, (void)side, (void)kind;
    counts.barriers++;
}
static const struct vqf_observer counting = {count_access, count_event, count_barrier, NULL};

/* ---- one combination ---- */

static void layout(struct world *w, enum vqf_ring_format fmt, uint16_t size, uint64_t features)
{
    struct vqf_ring_cfg *c = &w->cfg;
    memset(c, 0, sizeof(*c));
    c->format = fmt;
    c->size = size;
    c->index = 1;
    c->features = features;
    c->desc = RING_GPA;
    if (fmt == VQF_RING_SPLIT) {
        c->driver = c->desc + VIRTQ_DESC_TABLE_BYTES(size);
        c->device = (c->driver + VIRTQ_AVAIL_BYTES(size) + 3) & ~3ull;
    } else {
        c->driver = c->desc + 16ull * size;
        c->device = c->driver + 4;
    }
    c->ind_pool = POOL_GPA;
    c->ind_pool_len = (uint32_t)size * MAX_SEGS * 16u;
}

static void run_combo(struct world *w, enum vqf_ring_format fmt, uint16_t size, uint64_t features, uint64_t trips,
                      bool observe)
{
    vqf_mem_reset(&w->mem);
    memset(&counts, 0, sizeof(counts));
    w->mem.obs = observe ? &counting : NULL;
    layout(w, fmt, size, features);
    int rc = vqf_vq_drv_init(&w->drv, &w->drv_dma, &w->cfg);
    if (rc == 0) {
        /* The device union holds the other format's fields after a switch: start clean. */
        vqf_vq_dev_free(&w->dev);
        memset(&w->dev, 0, sizeof(w->dev));
        rc = vqf_vq_dev_init(&w->dev, &w->dev_dma, &w->cfg);
    }
    if (rc != 0) {
        fail(w, "init", (uint64_t)-rc, size);
        return;
    }
    w->nfree = 0;
    for (uint32_t s = size; s-- > 0;) {
        w->slot[s].busy = 0;
        w->free_slots[w->nfree++] = (uint16_t)s;
    }
    w->ch_nfree = 0;
    for (uint32_t k = size; k-- > 0;)
        w->ch_free[w->ch_nfree++] = (uint16_t)k;
    w->ninflight = 0;
    w->kicked = w->dev_active = w->irq = w->draining = false;
    w->completed = w->added = 0;
    unsigned before = w->errors;
    uint64_t last_progress = 0, steps = 0, last_completed = 0;
    while (w->completed < trips || w->added != w->completed) {
        drv_step(w, w->added < trips);
        dev_step(w);
        steps++;
        if (w->completed != last_completed) {
            last_completed = w->completed;
            last_progress = steps;
        } else if (steps - last_progress > STALL_STEPS) {
            fail(w, "stall (lost kick or interrupt?)", w->added, w->completed);
            break;
        }
        if (w->errors != before)
            break;
    }
    CHECK_EQ(w->errors, before);
    CHECK_EQ(w->completed, w->added);
    CHECK(w->completed >= trips || w->errors != before);
    CHECK_EQ(w->ninflight, 0);
    CHECK_EQ(vqf_vq_drv_num_free(&w->drv), size);
    CHECK(!vqf_vq_drv_broken(&w->drv) && !vqf_vq_dev_broken(&w->dev));
    if (observe) {
        /* One event per add, pop, push and reclaim; no errors; ring traffic was logged. */
        CHECK_EQ(counts.ev[VQF_EV_DRV_ADD], w->added);
        CHECK_EQ(counts.ev[VQF_EV_DEV_POP], w->added);
        CHECK_EQ(counts.ev[VQF_EV_DEV_PUSH], w->added);
        CHECK_EQ(counts.ev[VQF_EV_DRV_RECLAIM], w->completed);
        CHECK_EQ(counts.ev[VQF_EV_DRV_ERROR] + counts.ev[VQF_EV_DEV_ERROR], 0);
        CHECK(counts.ev[VQF_EV_DRV_PUBLISH] > 0 && counts.ev[VQF_EV_DEV_PUBLISH] > 0);
        CHECK(counts.reads > 3 * w->added && counts.writes > 3 * w->added && counts.barriers > w->added);
    }
    /* The inline fast paths (split.h, packed.h) take every queue without IN_ORDER whose ring
     * parts sit 2-aligned on the host; the general bodies take the others. */
    bool want_fast = !(features & VQF_BIT(VIRTIO_F_IN_ORDER)) && (RING_GPA - w->mem.r[0].gpa) % 2 == 0;
    if (fmt == VQF_RING_SPLIT) {
        CHECK_EQ(w->drv.u.split.fast, want_fast);
        CHECK_EQ(w->dev.u.split.fast, want_fast);
    } else {
        CHECK_EQ(w->drv.u.packed.fast, want_fast);
        CHECK_EQ(w->dev.u.packed.fast, want_fast);
    }
    w->mem.obs = NULL;
}

static uint64_t run_format(struct world *w, enum vqf_ring_format fmt, uint64_t per_format, uint64_t min_combo)
{
    static const uint16_t split_sizes[] = {1, 2, 256, 32768};
    static const uint16_t packed_sizes[] = {1, 2, 3, 256, 32768};
    const uint16_t *sizes = fmt == VQF_RING_SPLIT ? split_sizes : packed_sizes;
    unsigned nsizes = fmt == VQF_RING_SPLIT ? 4 : 5;
    uint64_t per_combo = (per_format + 8 * nsizes - 1) / (8 * nsizes), total = 0;
    if (per_combo < min_combo)
        per_combo = min_combo;
    for (unsigned si = 0; si < nsizes; si++)
        for (unsigned f = 0; f < 8; f++) {
            uint64_t feat = VQF_BIT(VIRTIO_F_VERSION_1);
            if (f & 1)
                feat |= VQF_BIT(VIRTIO_F_INDIRECT_DESC);
            if (f & 2)
                feat |= VQF_BIT(VIRTIO_F_EVENT_IDX);
            if (f & 4)
                feat |= VQF_BIT(VIRTIO_F_IN_ORDER);
            if (fmt == VQF_RING_PACKED)
                feat |= VQF_BIT(VIRTIO_F_RING_PACKED);
            /* Observed: every combination of size 256, and the all-features one elsewhere. */
            run_combo(w, fmt, sizes[si], feat, per_combo, sizes[si] == 256 || f == 7);
            total += w->completed;
        }
    return total;
}

int main(int argc, char **argv)
{
    uint64_t per_format = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
    /* By default every combination runs past 65536 round trips, so that the 16-bit split
     * indexes wrap in each one; an explicit count is taken as it is. */
    uint64_t min_combo = argc > 1 ? 0 : 70000;
    rng_state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed;
    static struct world w;
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, MEM_SIZE);
    if (vqf_mem_init(&w.mem, &l) != 0)
        return 2;
    w.drv_dma = vqf_mem_dma(&w.mem, VQF_SIDE_DRIVER);
    w.dev_dma = vqf_mem_dma(&w.mem, VQF_SIDE_DEVICE);
    uint64_t n = run_format(&w, VQF_RING_SPLIT, per_format, min_combo);
    printf("split: %llu round trips\n", (unsigned long long)n);
    fflush(stdout);
    CHECK(n >= per_format);
#ifdef VQF_RING_HAVE_PACKED
    n = run_format(&w, VQF_RING_PACKED, per_format, min_combo);
    printf("packed: %llu round trips\n", (unsigned long long)n);
    CHECK(n >= per_format);
    vqf_vq_dev_free(&w.dev);
#endif
    /* Guest memory whose region starts at an odd address: every aligned ring part lands on an
     * odd host address, where the fast paths' 16-bit accesses would be misaligned. Queues
     * there must run, observed or not, through the general bodies. */
    vqf_mem_destroy(&w.mem);
    memset(&l, 0, sizeof(l));
    l.nregions = 1;
    l.r[0].gpa = RING_GPA - 1;
    l.r[0].size = MEM_SIZE;
    if (vqf_mem_init(&w.mem, &l) != 0)
        return 2;
    for (int fmt = VQF_RING_SPLIT; fmt <= VQF_RING_PACKED; fmt++) {
#ifndef VQF_RING_HAVE_PACKED
        if (fmt == VQF_RING_PACKED)
            break;
#endif
        uint64_t feat = VQF_BIT(VIRTIO_F_VERSION_1) | (fmt == VQF_RING_PACKED ? VQF_BIT(VIRTIO_F_RING_PACKED) : 0);
        run_combo(&w, (enum vqf_ring_format)fmt, 256, feat, 20000, false);
        CHECK(w.completed >= 20000);
        run_combo(&w, (enum vqf_ring_format)fmt, 256, feat | VQF_BIT(VIRTIO_F_EVENT_IDX), 20000, true);
        CHECK(w.completed >= 20000);
    }
    vqf_vq_dev_free(&w.dev);
    vqf_vq_drv_free(&w.drv);
    vqf_mem_destroy(&w.mem);
    return check_report("test_ring_random");
}
