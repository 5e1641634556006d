/* acme-rng device model (see acme_rng.h). One request queue (spec 5.4.2) of device-writable
 * buffers filled with pseudo-random bytes. Offered features: VERSION_1, INDIRECT_DESC,
 * EVENT_IDX, RING_PACKED, RING_RESET.
 *
 * The device polls its queue (it does not wait for kicks), copies indirect tables out of
 * guest memory before walking them, keeps a per-head in-flight table and a per-descriptor
 * visit stamp for loop detection. Anything malformed puts it into DEVICE_NEEDS_RESET (2.1.2)
 * with a configuration change notification.
 *
 * bench/bugs builds this file with -DVQF_BUG=N: each `#if VQF_BUG == N` is a planted defect
 * (bench/bugs/bugs.tsv). The default build has none. */
#include "acme_rng.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef VQF_BUG
#define VQF_BUG 0
#endif

/* ---- the spec, as this device spells it ---- */
#define R_MAGIC 0x000           /* 4.2.2 register offsets */
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_VENDOR_ID 0x00c
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_DRIVER_LO 0x090
#define R_DRIVER_HI 0x094
#define R_DEVICE_LO 0x0a0
#define R_DEVICE_HI 0x0a4
#define R_SHM_LEN_LO 0x0b0
#define R_SHM_BASE_HI 0x0bc
#define R_QUEUE_RESET 0x0c0
#define R_CONFIG_GEN 0x0fc

#define S_DRIVER_OK 4u          /* 2.1 device status bits */
#define S_FEATURES_OK 8u
#define S_SUSPEND 16u
#define S_NEEDS_RESET 64u

#define F_INDIRECT (1ull << 28) /* 6 reserved feature bits */
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)
#define F_PACKED (1ull << 34)
#define F_RING_RESET (1ull << 40)
#define ACME_FEATURES (F_INDIRECT | F_EVENT_IDX | F_VERSION_1 | F_PACKED | F_RING_RESET)

#define D_NEXT 1u               /* 2.7.5 descriptor flags */
#define D_WRITE 2u
#define D_INDIRECT 4u
#define D_AVAIL (1u << 7)       /* 2.8.1 */
#define D_USED (1u << 15)

#define INT_VRING 1u            /* 4.2.2 InterruptStatus */
#define INT_CONFIG 2u

#define ACME_QMAX 256u          /* largest queue this device offers */
#define ACME_IND_MAX 64u        /* largest indirect table it copies */
#define ACME_FILL_MAX 2048u     /* bytes per request at most (5.4.6.2: may fill less) */

struct acme_desc {               /* 2.7.5 / 2.8.13: both formats are 16 bytes */
    uint64_t addr;
    uint32_t len;
    uint16_t a, b;               /* split: flags, next; packed: id, flags */
};

struct acme_seg {
    uint64_t addr;
    uint32_t len;
    bool write;
};

struct acme_vq {
    uint16_t num;
    uint32_t ready;
    bool live;
    uint64_t desc, driver, device;
    uint8_t *ring, *avail, *used; /* raw host pointers into guest memory */
    /* split (2.7) */
    uint16_t last_avail, used_idx;
    /* packed (2.8) */
    uint16_t next_avail, next_used;
    bool avail_wrap, used_wrap;
    /* bookkeeping, num entries each */
    uint8_t *inflight;   /* per head: popped and not yet returned */
    uint16_t *stamp;     /* per descriptor: walk that last visited it */
    uint16_t cur_stamp;
};

struct acme_rng {
    struct acme_host host;
    uint64_t offered, accepted;
    uint32_t dev_sel, drv_sel, queue_sel, status, isr;
    uint16_t queue_max;
    struct acme_vq vq;
    uint64_t prng;
};

/* ---- small helpers ---- */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

static struct acme_desc load_desc(const uint8_t *p)
{
    struct acme_desc d = {ld64(p), ld32(p + 8), ld16(p + 12), ld16(p + 14)};
    return d;
}

/* The event suppression fields are read with a fresh copy rather than through the ring
 * mapping: the driver changes them at any time (2.7.7, 2.8.10). Returns -1 when the read
 * fails: the caller then notifies anyway (a spurious interrupt is harmless, a lost one hangs
 * the driver). */
static int get16(struct acme_rng *r, uint64_t gpa, uint16_t *v)
{
    uint8_t b[2] = {0, 0};
    if (r->host.read(r->host.ctx, gpa, b, 2) != 0)
        return -1;
    *v = (uint16_t)(b[0] | b[1] << 8);
    return 0;
}

static int put16(struct acme_rng *r, uint64_t gpa, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return r->host.write(r->host.ctx, gpa, b, 2);
}

static int put32(struct acme_rng *r, uint64_t gpa, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return r->host.write(r->host.ctx, gpa, b, 4);
}

static bool has(const struct acme_rng *r, uint64_t f) { return (r->accepted & f) != 0; }

static uint64_t next_random(struct acme_rng *r)
{
    uint64_t z = (r->prng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 2.1.2: an error the driver must reset us from; tell it with a config change interrupt. */
static void needs_reset(struct acme_rng *r)
{
    r->status |= S_NEEDS_RESET;
    r->vq.live = false;
    r->isr |= INT_CONFIG;
    r->host.irq(r->host.ctx, INT_CONFIG);
}

/* ---- queue lifecycle ---- */

static void queue_drop(struct acme_vq *q)
{
    free(q->inflight);
    free(q->stamp);
    q->inflight = NULL;
    q->stamp = NULL;
    q->live = false;
    q->ring = q->avail = q->used = NULL;
}

/* 2.6.1 / 2.4: a reset returns every per-queue position to its initial value. */
static void queue_positions_reset(struct acme_vq *q)
{
    q->last_avail = q->used_idx = 0;
    q->next_avail = q->next_used = 0;
    q->avail_wrap = q->used_wrap = true; /* 2.8.1: wrap counters start at 1 */
}

/* QueueReady = 1: check the geometry and map the rings (4.2.3.2). */
static void queue_go_live(struct acme_rng *r)
{
    struct acme_vq *q = &r->vq;
    bool packed = has(r, F_PACKED);
    uint16_t n = q->num;
    queue_drop(q);
    if (n == 0 || n > r->queue_max || (!packed && (n & (n - 1))))
        return; /* 2.7: split sizes are powers of two; the queue simply stays off */
    if (packed) {
        q->ring = r->host.map(r->host.ctx, q->desc, 16ull * n, 0);
        q->avail = r->host.map(r->host.ctx, q->driver, 4, 0); /* driver event suppression */
        q->used = r->host.map(r->host.ctx, q->device, 4, 0);
    } else {
        q->ring = r->host.map(r->host.ctx, q->desc, 16ull * n, 0);
        q->avail = r->host.map(r->host.ctx, q->driver, 6ull + 2ull * n, 0);
        q->used = r->host.map(r->host.ctx, q->device, 6ull + 8ull * n, 0);
    }
    q->inflight = calloc(n, 1);
    q->stamp = calloc(n, sizeof(*q->stamp));
    if (!q->ring || !q->avail || !q->used || !q->inflight || !q->stamp) {
        queue_drop(q);
        return;
    }
    q->cur_stamp = 0;
    q->live = true;
}

static void device_reset(struct acme_rng *r)
{
    r->status = 0;
    r->isr = 0;
    r->accepted = 0; /* the selector registers keep what the driver last wrote */
    queue_drop(&r->vq);
    r->vq.ready = 0;
    r->vq.num = 0;
    r->vq.desc = r->vq.driver = r->vq.device = 0;
#if VQF_BUG != 15
    queue_positions_reset(&r->vq);
#endif
}

/* ---- chain walking, shared by both formats ---- */

struct acme_chain {
    struct acme_seg seg[ACME_QMAX];
    unsigned nseg;
};

static int add_seg(struct acme_chain *c, const struct acme_desc *d, bool write)
{
#if VQF_BUG == 3
    /* a loop is caught by the visit stamps (removed below), so no room check here */
#else
    if (c->nseg == ACME_QMAX)
        return -1;
#endif
    c->seg[c->nseg].addr = d->addr;
    c->seg[c->nseg].len = d->len;
    c->seg[c->nseg].write = write;
    c->nseg++;
    return 0;
}

/* 2.7.5.3 / 2.8.19: copy the table first so the driver cannot change it under our feet,
 * then walk it. `packed` selects the entry layout (split entries chain with NEXT). */
static int walk_indirect(struct acme_rng *r, uint64_t addr, uint32_t len, bool packed, struct acme_chain *c,
                         unsigned depth)
{
    struct acme_desc tab[ACME_IND_MAX];
    (void)depth;
    if (!has(r, F_INDIRECT) || len == 0 || len % 16)
        return -1;
    uint32_t n = len / 16;
#if VQF_BUG != 4
    if (n > ACME_IND_MAX)
        return -1;
#endif
    const uint8_t *src = r->host.map(r->host.ctx, addr, len, 0);
    if (!src)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        tab[i] = load_desc(src + 16 * i);
    uint32_t i = 0;
    for (uint32_t count = 0; count < n; count++) {
        const struct acme_desc *d = &tab[i];
        uint16_t flags = packed ? d->b : d->a;
        if (flags & D_INDIRECT) {
#if VQF_BUG == 5
            /* "tables may point at further tables" */
            return walk_indirect(r, d->addr, d->len, packed, c, depth + 1);
#else
            return -1; /* 2.7.5.3.1 / 2.8.19: one level only */
#endif
        }
        if (add_seg(c, d, (flags & D_WRITE) != 0) != 0)
            return -1;
        if (packed) {
            i++;
            if (i == n)
                return 0;
            continue;
        }
        if (!(flags & D_NEXT))
            return 0;
        i = d->b;
        if (i >= n)
            return -1;
    }
    return -1; /* more entries than the table holds: a loop */
}

/* ---- serving one request ---- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* A buffer must not cover the queue's own rings: writing entropy there would corrupt the
 * descriptors or the event suppression areas (2.7.5.1, 2.8.15). */
static bool hits_rings(const struct acme_rng *r, uint64_t addr, uint32_t len)
{
    const struct acme_vq *q = &r->vq;
    bool packed = has(r, F_PACKED);
    return overlaps(addr, len, q->desc, 16ull * q->num) ||
           overlaps(addr, len, q->driver, packed ? 4 : 6ull + 2ull * q->num) ||
           overlaps(addr, len, q->device, packed ? 4 : 6ull + 8ull * q->num);
}

/* Fill the writable segments with random bytes; returns the used length, or -1. The chain
 * is checked whole before the first byte is written. */
static int64_t fill(struct acme_rng *r, const struct acme_chain *c)
{
    uint8_t stage[ACME_FILL_MAX];
    uint32_t total = 0, buffer = 0;
    for (unsigned i = 0; i < c->nseg; i++) {
#if VQF_BUG == 8
        /* every segment is "the buffer" */
#else
        if (!c->seg[i].write)
            return -1; /* 5.4.6.1: the driver posts device-writable buffers only */
#endif
        if (hits_rings(r, c->seg[i].addr, c->seg[i].len))
            return -1;
    }
    for (unsigned i = 0; i < c->nseg; i++) {
        const struct acme_seg *s = &c->seg[i];
        buffer += s->len;
        uint32_t take = s->len;
#if VQF_BUG == 6
        if (total + take > ACME_FILL_MAX) /* wraps for a huge segment */
            take = ACME_FILL_MAX - total;
#else
        if ((uint64_t)total + take > ACME_FILL_MAX)
            take = ACME_FILL_MAX - total;
#endif
        for (uint32_t k = 0; k < take; k += 8) {
            uint64_t v = next_random(r);
            memcpy(stage + total + k, &v, take - k < 8 ? take - k : 8);
        }
        if (take && r->host.write(r->host.ctx, s->addr, stage + total, take) != 0)
            return -1;
        total += take;
    }
    if (total == 0)
        return -1; /* 5.4.6.2: at least one byte per buffer, so an empty one is an error */
#if VQF_BUG == 7
    return buffer; /* "the driver asked for that much" */
#else
    (void)buffer;
    return total;
#endif
}

/* vring_need_event of 2.7.7.2 / 2.8.10: did [old, new) cross the event index? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old, int bug)
{
    if (bug)
        return (uint16_t)(new_idx - event) < (uint16_t)(new_idx - old);
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static void raise_vring(struct acme_rng *r)
{
    r->isr |= INT_VRING;
    r->host.irq(r->host.ctx, INT_VRING);
}

static int split_serve(struct acme_rng *r, unsigned budget)
{
    struct acme_vq *q = &r->vq;
    struct acme_chain c;
    uint16_t old_used = q->used_idx;
    unsigned done = 0;
    uint16_t idx = ld16(q->avail + 2);
    r->host.barrier(r->host.ctx, 1); /* 2.7.13: read idx, then the entries */
#if VQF_BUG != 10
    if ((uint16_t)(idx - q->last_avail) > q->num) {
        needs_reset(r); /* 2.7.6: more than a ring of new entries is impossible */
        return 0;
    }
#endif
    while (q->last_avail != idx && done < budget) {
        uint16_t slot = q->last_avail % q->num;
        uint16_t head = ld16(q->avail + 4 + 2 * slot);
#if VQF_BUG != 1
        if (head >= q->num) {
            needs_reset(r);
            break;
        }
#endif
        if (q->inflight[head]) {
            needs_reset(r); /* the driver made a head available twice */
            break;
        }
        q->inflight[head] = 1;
        c.nseg = 0;
        q->cur_stamp++;
        uint16_t i = head;
        int bad = 0;
        for (;;) {
#if VQF_BUG != 3
            if (q->stamp[i] == q->cur_stamp) {
                bad = 1; /* 2.7.5.2: a chain visits each descriptor once */
                break;
            }
#endif
            q->stamp[i] = q->cur_stamp;
            struct acme_desc d = load_desc(q->ring + 16u * i);
            if (d.a & D_INDIRECT) {
                bad = (d.a & D_NEXT) || walk_indirect(r, d.addr, d.len, false, &c, 0) != 0;
                break;
            }
            if (add_seg(&c, &d, (d.a & D_WRITE) != 0) != 0) {
                bad = 1;
                break;
            }
            if (!(d.a & D_NEXT))
                break;
            i = d.b;
#if VQF_BUG != 2
            if (i >= q->num) {
                bad = 1;
                break;
            }
#endif
        }
        int64_t len = bad ? -1 : fill(r, &c);
        if (len < 0) {
            needs_reset(r);
            break;
        }
        uint16_t uslot = q->used_idx % q->num;
#if VQF_BUG == 9
        uint32_t id = slot; /* the avail slot, not the head it names */
#else
        uint32_t id = head;
#endif
        if (put32(r, q->device + 4 + 8ull * uslot, id) || put32(r, q->device + 8 + 8ull * uslot, (uint32_t)len)) {
            needs_reset(r);
            break;
        }
        q->inflight[head] = 0;
        q->last_avail++;
        q->used_idx++;
#if VQF_BUG != 34
        r->host.barrier(r->host.ctx, 2); /* 2.7.8.2: the element before the index */
#endif
        if (put16(r, q->device + 2, q->used_idx)) {
            needs_reset(r); /* the entry is served but the driver cannot see it */
            break;
        }
        done++;
    }
    /* Entries served before an error are still signalled (2.7.7.2): the driver may wait
     * for them before it looks at the status. */
    if (!done)
        return 0;
    /* avail_event: kick me at the next one. The device polls, so a failed write only costs
     * the driver kicks it did not need to send. */
    if (has(r, F_EVENT_IDX) && !(r->status & S_NEEDS_RESET))
        put16(r, q->device + 4 + 8ull * q->num, q->last_avail);
#if VQF_BUG != 37
    r->host.barrier(r->host.ctx, 0); /* 2.7.7.2: the used index before reading the suppression */
#endif
    bool notify = true;
    uint16_t sup;
    if (has(r, F_EVENT_IDX)) {
        if (get16(r, q->driver + 4 + 2ull * q->num, &sup) == 0)
            notify = need_event(sup, q->used_idx, old_used, VQF_BUG == 12);
    } else if (get16(r, q->driver, &sup) == 0) {
        notify = !(sup & 1u);
    }
    if (notify)
        raise_vring(r);
    return (int)done;
}

static void packed_advance(uint16_t *pos, bool *wrap, uint16_t n, uint16_t num)
{
    *pos = (uint16_t)(*pos + n);
    if (*pos >= num) {
        *pos = (uint16_t)(*pos - num);
        *wrap = !*wrap;
    }
}

static int packed_serve(struct acme_rng *r, unsigned budget)
{
    struct acme_vq *q = &r->vq;
    struct acme_chain c;
    unsigned done = 0, slots = 0;
    while (done < budget) {
        const uint8_t *hd = q->ring + 16u * q->next_avail;
        uint16_t f = ld16(hd + 14);
        bool avail = (f & D_AVAIL) != 0, used = (f & D_USED) != 0;
        if (avail != q->avail_wrap || used == q->avail_wrap)
            break; /* 2.8.1: not made available in this lap */
        r->host.barrier(r->host.ctx, 1); /* 2.8.21.2: flags, then the rest */
        c.nseg = 0;
        uint16_t s = q->next_avail, n = 0, id = 0;
        int bad = 0;
        for (;;) {
            struct acme_desc d = load_desc(q->ring + 16u * s);
            id = d.a;
            if (++n > q->num) {
                bad = 1; /* 2.8.17: a list is never longer than the ring */
                break;
            }
            if (d.b & D_INDIRECT) {
                bad = n != 1 || (d.b & D_NEXT) || walk_indirect(r, d.addr, d.len, true, &c, 0) != 0;
                break;
            }
            if (add_seg(&c, &d, (d.b & D_WRITE) != 0) != 0) {
                bad = 1;
                break;
            }
            if (!(d.b & D_NEXT))
                break;
            s = (uint16_t)(s + 1 == q->num ? 0 : s + 1);
        }
        int64_t len = bad ? -1 : fill(r, &c);
        if (len < 0) {
            needs_reset(r);
            break;
        }
        /* 2.8.9: one used descriptor per list, with the list's buffer ID */
        uint64_t at = q->desc + 16ull * q->next_used;
        uint16_t uf = (uint16_t)((q->used_wrap ? D_AVAIL | D_USED : 0) | (len ? D_WRITE : 0));
#if VQF_BUG == 35
        put16(r, at + 14, uf); /* "the flags first, id and len follow at once" */
#endif
        if (put16(r, at + 12, id) || put32(r, at + 8, (uint32_t)len)) {
            needs_reset(r);
            break;
        }
#if VQF_BUG != 36
        r->host.barrier(r->host.ctx, 2); /* 2.8.21.1: id and len before the flags */
#endif
        if (VQF_BUG != 35 && put16(r, at + 14, uf)) {
            needs_reset(r); /* the list is served but its used descriptor never appeared */
            break;
        }
        packed_advance(&q->next_avail, &q->avail_wrap, n, q->num);
#if VQF_BUG == 11
        q->next_used = (uint16_t)((q->next_used + n) % q->num); /* the wrap flip is forgotten */
#else
        packed_advance(&q->next_used, &q->used_wrap, n, q->num);
#endif
        slots += n;
        done++;
    }
    if (!done)
        return 0;
    r->host.barrier(r->host.ctx, 0); /* 2.8.21.3: used flags before the suppression area */
    uint16_t flags = 0, ow = 0;
    bool notify = true; /* an unreadable suppression area: notify (see get16) */
    if (get16(r, q->driver + 2, &flags) == 0) {
        flags &= 3u;
        notify = flags == 0;
        if (flags == 2 && has(r, F_EVENT_IDX) && get16(r, q->driver, &ow) != 0) {
            notify = true;
        } else if (flags == 2 && has(r, F_EVENT_IDX)) {
            uint16_t event = ow & 0x7fffu;
            if ((bool)(ow >> 15) != q->used_wrap)
                event = (uint16_t)(event - q->num);
            notify = need_event(event, q->next_used, (uint16_t)(q->next_used - slots), VQF_BUG == 13);
        }
    }
    if (notify)
        raise_vring(r);
    return (int)done;
}

int acme_rng_poll(struct acme_rng *r, unsigned budget)
{
    if (!r->vq.live || (r->status & S_NEEDS_RESET))
        return 0;
#if VQF_BUG != 14
    if (!(r->status & S_DRIVER_OK))
        return 0; /* 2.1.2: no buffer is touched before DRIVER_OK */
#endif
    return has(r, F_PACKED) ? packed_serve(r, budget) : split_serve(r, budget);
}

/* ---- register file (4.2.2) ---- */

static void status_write(struct acme_rng *r, uint32_t v)
{
    if (v == 0) {
        device_reset(r);
        return;
    }
    uint32_t old = r->status;
    /* NEEDS_RESET is ours to set; SUSPEND (3.4) is not offered, so the bit is ignored */
    v = (v & ~(S_NEEDS_RESET | S_SUSPEND)) | (old & S_NEEDS_RESET);
    if ((v & S_FEATURES_OK) && !(old & S_FEATURES_OK)) {
        /* 2.2.2: only offered bits, and VERSION_1 (a legacy interface is not offered) */
        if ((r->accepted & ~r->offered) || !(r->accepted & F_VERSION_1))
            v &= ~S_FEATURES_OK;
    }
    r->status = v;
    if ((v & S_DRIVER_OK) && !(old & S_DRIVER_OK) && !(v & S_FEATURES_OK))
        needs_reset(r);
}

uint32_t acme_rng_mmio_read(struct acme_rng *r, uint32_t off, unsigned size)
{
    struct acme_vq *q = r->queue_sel == 0 ? &r->vq : NULL;
    if (off >= 0x100 || size != 4)
        return 0; /* no configuration space (5.4.4); control registers are 32-bit */
    switch (off) {
    case R_MAGIC: return 0x74726976u;
    case R_VERSION: return 2;
    case R_DEVICE_ID: return 4; /* 5: entropy source */
    case R_VENDOR_ID: return 0x454d4341u;
    case R_DEV_FEAT: return r->dev_sel < 2 ? (uint32_t)(r->offered >> (32 * r->dev_sel)) : 0;
    case R_DEV_FEAT_SEL: return r->dev_sel;
    case R_QUEUE_SEL: return r->queue_sel;
    case R_QUEUE_NUM_MAX: return q ? r->queue_max : 0;
    case R_QUEUE_NUM: return q ? q->num : 0;
    case R_QUEUE_READY: return q ? q->ready : 0;
    case R_INT_STATUS: return r->isr;
    case R_STATUS: return r->status;
    case R_QUEUE_RESET: return 0; /* a queue reset completes inside the write */
    case R_CONFIG_GEN: return 0;
    default:
        if (off >= R_SHM_LEN_LO && off <= R_SHM_BASE_HI)
            return 0xffffffffu; /* no shared memory regions */
        return 0;
    }
}

static void set_half(uint64_t *r, uint32_t v, int hi)
{
    *r = hi ? (*r & 0xffffffffull) | (uint64_t)v << 32 : (*r & ~0xffffffffull) | v;
}

void acme_rng_mmio_write(struct acme_rng *r, uint32_t off, unsigned size, uint32_t v)
{
    struct acme_vq *q = r->queue_sel == 0 ? &r->vq : NULL;
    if (off >= 0x100 || size != 4)
        return;
    bool setup = q && q->ready == 0; /* ring registers only change while the queue is off */
    switch (off) {
    case R_DEV_FEAT_SEL: r->dev_sel = v; break;
    case R_DRV_FEAT_SEL: r->drv_sel = v; break;
    case R_DRV_FEAT:
        if (r->drv_sel < 2 && !(r->status & S_FEATURES_OK))
            set_half(&r->accepted, v, (int)r->drv_sel);
        break;
    case R_QUEUE_SEL: r->queue_sel = v; break;
    case R_QUEUE_NUM: if (setup) q->num = v <= 0xffffu ? (uint16_t)v : 0; break;
    case R_DESC_LO: case R_DESC_HI: if (setup) set_half(&q->desc, v, off == R_DESC_HI); break;
    case R_DRIVER_LO: case R_DRIVER_HI: if (setup) set_half(&q->driver, v, off == R_DRIVER_HI); break;
    case R_DEVICE_LO: case R_DEVICE_HI: if (setup) set_half(&q->device, v, off == R_DEVICE_HI); break;
    case R_QUEUE_READY:
        if (!q)
            break;
        if (v == 1 && q->ready != 1) {
            q->ready = 1;
            queue_go_live(r);
        } else if (v != 1) {
            q->ready = v;
            queue_drop(q);
        }
        break;
    case R_QUEUE_NOTIFY: break; /* the device polls; a kick only says "look now" */
    case R_INT_ACK: r->isr &= ~v; break;
    case R_STATUS: status_write(r, v); break;
    case R_QUEUE_RESET:
        /* 2.6.1: with RING_RESET, reset only the selected queue */
        if (v == 1 && q && has(r, F_RING_RESET) && (r->status & S_FEATURES_OK)) {
            queue_drop(q);
            q->ready = 0;
#if VQF_BUG != 16
            queue_positions_reset(q);
#endif
        }
        break;
    default: break;
    }
}

struct acme_rng *acme_rng_new(const struct acme_host *host, uint64_t features_mask, uint16_t queue_max,
                              uint32_t seed)
{
    struct acme_rng *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->host = *host;
    r->offered = ACME_FEATURES & (features_mask | F_VERSION_1);
    r->queue_max = queue_max && queue_max < ACME_QMAX ? queue_max : ACME_QMAX;
    r->prng = 0xacce55ull ^ ((uint64_t)seed << 21);
    queue_positions_reset(&r->vq);
    return r;
}

void acme_rng_free(struct acme_rng *r)
{
    if (!r)
        return;
    queue_drop(&r->vq);
    free(r);
}
