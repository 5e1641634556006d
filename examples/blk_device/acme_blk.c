/* acme-blk device model (see acme_blk.h). One request queue (spec 5.2.2) in front of a small
 * in-memory disk. Offered features: VERSION_1, INDIRECT_DESC, EVENT_IDX, RING_PACKED,
 * IN_ORDER, RING_RESET, and for the block device SEG_MAX, BLK_SIZE and FLUSH (5.2.3).
 *
 * A request is a device-readable header (le32 type, le32 reserved, le64 sector), the data,
 * and one device-writable status byte at the very end (5.2.6); the device reads the chain as
 * two byte streams, so it does not care how the driver cut them into descriptors (2.6.4).
 * With IN_ORDER the device writes one used entry per batch of fully used buffers (2.7.9,
 * 2.8.8). Anything malformed at the ring level puts it into DEVICE_NEEDS_RESET (2.1.2);
 * a malformed request is answered with IOERR or UNSUPP in its status byte.
 *
 * bench/bugs builds this file with -DVQF_BUG=N: each `#if VQF_BUG == N` is a planted defect
 * (bench/bugs/bugs.tsv). The default build has none. */
#include "acme_blk.h"

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
#define R_CONFIG 0x100

#define S_DRIVER_OK 4u          /* 2.1 device status bits */
#define S_FEATURES_OK 8u
#define S_SUSPEND 16u
#define S_NEEDS_RESET 64u

#define F_SEG_MAX (1ull << 2)   /* 5.2.3 */
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)
#define F_INDIRECT (1ull << 28) /* 6 reserved feature bits */
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)
#define F_PACKED (1ull << 34)
#define F_IN_ORDER (1ull << 35)
#define F_RING_RESET (1ull << 40)
#define ACME_FEATURES                                                                                              \
    (F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_INDIRECT | F_EVENT_IDX | F_VERSION_1 | F_PACKED | F_IN_ORDER | F_RING_RESET)

#define T_IN 0u                 /* 5.2.6 request types */
#define T_OUT 1u
#define T_FLUSH 4u
#define T_GET_ID 8u
#define ST_OK 0u                /* 5.2.6 status values */
#define ST_IOERR 1u
#define ST_UNSUPP 2u

#define C_CAPACITY 0x00         /* 5.2.4 struct virtio_blk_config */
#define C_SEG_MAX 0x0c
#define C_BLK_SIZE 0x14
#define C_SIZE 0x3c             /* up to and including unused1 */

#define D_NEXT 1u               /* 2.7.5 descriptor flags */
#define D_WRITE 2u
#define D_INDIRECT 4u
#define D_AVAIL (1u << 7)       /* 2.8.1 */
#define D_USED (1u << 15)

#define INT_VRING 1u            /* 4.2.2 InterruptStatus */
#define INT_CONFIG 2u

#define ACME_QMAX 256u          /* largest queue this device offers */
#define ACME_IND_MAX 64u        /* largest indirect table it copies */
#define ACME_SEG_MAX 16u        /* segments per request (config seg_max: data segments) */
#define ACME_SECTOR 512u
#define ACME_SECTORS 64u        /* disk size: 32 KiB */
#define ACME_IO_MAX (64u * 1024u) /* data bytes per request at most */
#if VQF_BUG == 51
#define ACME_WIN (64u * 1024u) /* bytes mapped from the descriptor table on */
#endif
static const char acme_serial[20] = "ACME-BLK-0001";

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
#if VQF_BUG == 51
    const uint8_t *win; /* the descriptor table and what follows it, mapped once */
#endif
};

/* An IN_ORDER batch not yet written to the used ring: `count` buffers, the last one `id`
 * with `len` bytes written; split: starting at used position `pos`; packed: at slot `pos`
 * of lap `wrap`, `slots` descriptors long. */
struct acme_batch {
    unsigned count;
    uint16_t id, pos, slots;
    uint32_t len;
    bool wrap;
};

struct acme_blk {
    struct acme_blk_host host;
    uint64_t offered, accepted;
    uint32_t dev_sel, drv_sel, queue_sel, status, isr, generation;
    uint16_t queue_max;
    uint8_t config[C_SIZE];
    struct acme_vq vq;
    uint8_t disk[ACME_SECTORS * ACME_SECTOR];
    uint8_t io[ACME_IO_MAX];
};

/* ---- small helpers ---- */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) { return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

static void st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static struct acme_desc load_desc(const uint8_t *p)
{
    struct acme_desc d = {ld64(p), ld32(p + 8), ld16(p + 12), ld16(p + 14)};
    return d;
}

/* The event suppression fields are read with a fresh copy rather than through the ring
 * mapping: the driver changes them at any time (2.7.7, 2.8.10). -1: notify anyway. */
static int get16(struct acme_blk *b, uint64_t gpa, uint16_t *v)
{
    uint8_t x[2] = {0, 0};
    if (b->host.read(b->host.ctx, gpa, x, 2) != 0)
        return -1;
    *v = (uint16_t)(x[0] | x[1] << 8);
    return 0;
}

static int put16(struct acme_blk *b, uint64_t gpa, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return b->host.write(b->host.ctx, gpa, x, 2);
}

static int put32(struct acme_blk *b, uint64_t gpa, uint32_t v)
{
    uint8_t x[4];
    st32(x, v);
    return b->host.write(b->host.ctx, gpa, x, 4);
}

static bool has(const struct acme_blk *b, uint64_t f) { return (b->accepted & f) != 0; }

/* 2.1.2: an error the driver must reset us from; tell it with a config change interrupt. */
static void needs_reset(struct acme_blk *b)
{
    b->status |= S_NEEDS_RESET;
    b->vq.live = false;
    b->isr |= INT_CONFIG;
    b->host.irq(b->host.ctx, INT_CONFIG);
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
#if VQF_BUG == 51
    q->win = NULL;
#endif
}

/* 2.6.1 / 2.4: a reset returns every per-queue position to its initial value. */
static void queue_positions_reset(struct acme_vq *q)
{
    q->last_avail = q->used_idx = 0;
    q->next_avail = q->next_used = 0;
    q->avail_wrap = q->used_wrap = true; /* 2.8.1: wrap counters start at 1 */
}

/* QueueReady = 1: check the geometry and map the rings (4.2.3.2). */
static void queue_go_live(struct acme_blk *b)
{
    struct acme_vq *q = &b->vq;
    bool packed = has(b, F_PACKED);
    uint16_t n = q->num;
    queue_drop(q);
    if (n == 0 || n > b->queue_max || (!packed && (n & (n - 1))))
        return; /* 2.7: split sizes are powers of two; the queue simply stays off */
    q->ring = b->host.map(b->host.ctx, q->desc, 16ull * n, 0);
    q->avail = b->host.map(b->host.ctx, q->driver, packed ? 4 : 6ull + 2ull * n, 0);
    q->used = b->host.map(b->host.ctx, q->device, packed ? 4 : 6ull + 8ull * n, 0);
#if VQF_BUG == 51
    /* "requests sit next to the rings": one mapping for the read path */
    q->win = b->host.map(b->host.ctx, q->desc, ACME_WIN, 0);
#endif
    q->inflight = calloc(n, 1);
    q->stamp = calloc(n, sizeof(*q->stamp));
    if (!q->ring || !q->avail || !q->used || !q->inflight || !q->stamp) {
        queue_drop(q);
        return;
    }
    q->cur_stamp = 0;
    q->live = true;
}

static void device_reset(struct acme_blk *b)
{
    b->status = 0;
    b->isr = 0;
    b->accepted = 0; /* the selector registers keep what the driver last wrote */
    queue_drop(&b->vq);
    b->vq.ready = 0;
    b->vq.num = 0;
    b->vq.desc = b->vq.driver = b->vq.device = 0;
    queue_positions_reset(&b->vq);
}

/* ---- chain walking, shared by both formats ---- */

struct acme_chain {
    struct acme_seg seg[ACME_SEG_MAX + 2]; /* header, data, status */
    unsigned nseg;
    uint64_t rlen, wlen;                   /* readable and writable bytes */
};

/* 2.7.4.2 / 2.8.4: device-readable segments come before device-writable ones. */
static int add_seg(struct acme_chain *c, const struct acme_desc *d, bool write)
{
    if (c->nseg == ACME_SEG_MAX + 2 || (!write && c->wlen))
        return -1;
    c->seg[c->nseg].addr = d->addr;
    c->seg[c->nseg].len = d->len;
    c->seg[c->nseg].write = write;
    c->nseg++;
    if (write)
        c->wlen += d->len;
    else
        c->rlen += d->len;
    return 0;
}

/* 2.7.5.3 / 2.8.19: copy the table first so the driver cannot change it under our feet,
 * then walk it. `packed` selects the entry layout (split entries chain with NEXT). */
static int walk_indirect(struct acme_blk *b, uint64_t addr, uint32_t len, bool packed, struct acme_chain *c)
{
    struct acme_desc tab[ACME_IND_MAX];
    if (!has(b, F_INDIRECT) || len == 0 || len % 16)
        return -1;
    uint32_t n = len / 16;
    if (n > ACME_IND_MAX)
        return -1;
    const uint8_t *src = b->host.map(b->host.ctx, addr, len, 0);
    if (!src)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        tab[i] = load_desc(src + 16 * i);
    uint32_t i = 0;
    for (uint32_t count = 0; count < n; count++) {
        const struct acme_desc *d = &tab[i];
        uint16_t flags = packed ? d->b : d->a;
        if (flags & D_INDIRECT)
            return -1; /* 2.7.5.3.1 / 2.8.19: one level only */
        if (add_seg(c, d, (flags & D_WRITE) != 0) != 0)
            return -1;
        if (packed) {
            if (++i == n)
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

/* ---- serving one request (5.2.6) ---- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t c, uint64_t clen)
{
    return alen && clen && a < c + clen && c < a + alen;
}

/* A writable buffer must not cover the queue's own rings (2.7.5.1, 2.8.15). */
static bool hits_rings(const struct acme_blk *b, uint64_t addr, uint32_t len)
{
    const struct acme_vq *q = &b->vq;
    bool packed = has(b, F_PACKED);
    return overlaps(addr, len, q->desc, 16ull * q->num) ||
           overlaps(addr, len, q->driver, packed ? 4 : 6ull + 2ull * q->num) ||
           overlaps(addr, len, q->device, packed ? 4 : 6ull + 8ull * q->num);
}

/* Copy n bytes at offset off of the readable (write = false) or writable stream. */
static int stream_io(struct acme_blk *b, const struct acme_chain *c, bool write, uint64_t off, uint8_t *buf,
                     uint64_t n)
{
    uint64_t pos = 0;
    for (unsigned i = 0; i < c->nseg && n; i++) {
        const struct acme_seg *s = &c->seg[i];
        if (s->write != write)
            continue;
        if (off < pos + s->len) {
            uint64_t in = off - pos, take = s->len - in < n ? s->len - in : n;
#if VQF_BUG == 51
            /* a readable segment inside the window is copied through it; the test adds the
             * length to the address, so a segment whose addr + len wraps past 2^64 passes */
            const struct acme_vq *q = &b->vq;
            uint64_t a = s->addr + in;
            int r = 0;
            if (!write && q->win && a >= q->desc && a + take <= q->desc + ACME_WIN)
                memcpy(buf, q->win + (a - q->desc), take);
            else
                r = write ? b->host.write(b->host.ctx, a, buf, take) : b->host.read(b->host.ctx, a, buf, take);
#else
            int r = write ? b->host.write(b->host.ctx, s->addr + in, buf, take)
                          : b->host.read(b->host.ctx, s->addr + in, buf, take);
#endif
            if (r != 0)
                return -1;
            buf += take;
            n -= take;
            off += take;
        }
        pos += s->len;
    }
    return n ? -1 : 0;
}

/* Serve one request; returns the used length (bytes written: data, then the status byte),
 * or -1 when the chain is no request at all (the ring is broken: needs reset). */
static int64_t serve(struct acme_blk *b, const struct acme_chain *c)
{
    uint8_t hdr[16];
    for (unsigned i = 0; i < c->nseg; i++)
        if (c->seg[i].write && hits_rings(b, c->seg[i].addr, c->seg[i].len))
            return -1;
    if (c->rlen < sizeof(hdr) || c->wlen < 1 || stream_io(b, c, false, 0, hdr, sizeof(hdr)) != 0)
        return -1; /* 5.2.6: no header or no status byte: not a request */
    uint32_t type = ld32(hdr);
    uint64_t sector = ld64(hdr + 8);
    uint64_t in_data = c->wlen - 1, out_data = c->rlen - sizeof(hdr);
    uint8_t st = ST_OK;
    uint64_t done = 0; /* data bytes written into the writable stream */
    switch (type) {
    case T_IN:
    case T_OUT: {
        uint64_t n = type == T_IN ? in_data : out_data;
        if (n % ACME_SECTOR || n > ACME_IO_MAX || (type == T_IN ? out_data : in_data) != 0) {
            st = ST_IOERR; /* 5.2.6.1: whole sectors only */
            break;
        }
        if (sector > ACME_SECTORS || n / ACME_SECTOR > ACME_SECTORS - sector) {
#if VQF_BUG == 45
            return 0; /* "nothing to do past the end of the disk" */
#endif
            st = ST_IOERR; /* 5.2.6.2: past capacity */
            break;
        }
        uint8_t *at = b->disk + sector * ACME_SECTOR;
        if (type == T_IN) {
            if (stream_io(b, c, true, 0, at, n) != 0)
                return -1;
            done = n;
        } else if (stream_io(b, c, false, sizeof(hdr), b->io, n) != 0) {
            st = ST_IOERR;
        } else {
            memcpy(at, b->io, n);
        }
        break;
    }
    case T_FLUSH:
        break; /* the disk is memory: nothing is volatile */
    case T_GET_ID:
        if (in_data < sizeof(acme_serial)) {
            st = ST_IOERR;
            break;
        }
        if (stream_io(b, c, true, 0, (uint8_t *)acme_serial, sizeof(acme_serial)) != 0)
            return -1;
        done = sizeof(acme_serial);
        break;
    default:
        st = ST_UNSUPP;
        break;
    }
    /* 5.2.6: the status byte is the last byte of the request */
    if (stream_io(b, c, true, c->wlen - 1, &st, 1) != 0)
        return -1;
    return (int64_t)(done == in_data ? c->wlen : done + 1);
}

/* vring_need_event of 2.7.7.2 / 2.8.10: did [old, new) cross the event index? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static void raise_vring(struct acme_blk *b)
{
    b->isr |= INT_VRING;
    b->host.irq(b->host.ctx, INT_VRING);
}

/* Is the driver's interrupt suppression on (2.7.7, 2.8.10)? EVENT_IDX only when negotiated. */
static bool event_idx(const struct acme_blk *b)
{
#if VQF_BUG == 44
    return (b->offered & F_EVENT_IDX) != 0; /* "we offer it, so the ring has the field" */
#else
    return has(b, F_EVENT_IDX);
#endif
}

/* Split: write the used entry of the batch and publish it (2.7.8, 2.7.9: one entry for the
 * batch, at its first position, with the last buffer's id; the index moves by the batch). */
static int split_flush(struct acme_blk *b, struct acme_batch *t)
{
    struct acme_vq *q = &b->vq;
    if (!t->count)
        return 0;
    uint16_t uslot = t->pos % q->num;
    int r = put32(b, q->device + 4 + 8ull * uslot, t->id) || put32(b, q->device + 8 + 8ull * uslot, t->len);
    if (!r) {
        q->used_idx = (uint16_t)(q->used_idx + t->count);
        b->host.barrier(b->host.ctx, 2); /* 2.7.8.2: the element before the index */
        r = put16(b, q->device + 2, q->used_idx);
    }
    t->count = 0;
    return r ? -1 : 0;
}

static int split_serve(struct acme_blk *b, unsigned budget)
{
    struct acme_vq *q = &b->vq;
    struct acme_chain c;
    struct acme_batch t = {0, 0, 0, 0, 0, false};
    bool in_order = has(b, F_IN_ORDER);
    uint16_t old_used = q->used_idx;
    unsigned done = 0;
    uint16_t idx = ld16(q->avail + 2);
    b->host.barrier(b->host.ctx, 1); /* 2.7.13: read idx, then the entries */
    if ((uint16_t)(idx - q->last_avail) > q->num) {
        needs_reset(b); /* 2.7.6: more than a ring of new entries is impossible */
        return 0;
    }
    while (q->last_avail != idx && done < budget) {
        uint16_t head = ld16(q->avail + 4 + 2 * (q->last_avail % q->num));
        if (head >= q->num || q->inflight[head]) {
            needs_reset(b); /* out of the table, or made available twice */
            break;
        }
        q->inflight[head] = 1;
        c.nseg = 0;
        c.rlen = c.wlen = 0;
        q->cur_stamp++;
        uint16_t i = head;
        int bad = 0;
        for (;;) {
            if (q->stamp[i] == q->cur_stamp) {
                bad = 1; /* 2.7.5.2: a chain visits each descriptor once */
                break;
            }
            q->stamp[i] = q->cur_stamp;
            struct acme_desc d = load_desc(q->ring + 16u * i);
            if (d.a & D_INDIRECT) {
                bad = (d.a & D_NEXT) || walk_indirect(b, d.addr, d.len, false, &c) != 0;
                break;
            }
            if (add_seg(&c, &d, (d.a & D_WRITE) != 0) != 0) {
                bad = 1;
                break;
            }
            if (!(d.a & D_NEXT))
                break;
            i = d.b;
            if (i >= q->num) {
                bad = 1;
                break;
            }
        }
        int64_t len = bad ? -1 : serve(b, &c);
        if (len < 0) {
            needs_reset(b);
            break;
        }
        q->inflight[head] = 0;
        q->last_avail++;
        done++;
        if (!t.count) {
            t.pos = (uint16_t)(q->used_idx);
#if VQF_BUG == 43
            t.id = head; /* "the batch entry names the batch" */
#endif
        }
#if VQF_BUG != 43
        t.id = head;
#endif
        t.len = (uint32_t)len;
        t.count++;
        /* 2.7.9: the buffers a batch entry skips count as fully used, so a buffer only
         * partly written ends the batch; without IN_ORDER every buffer is its own entry */
        if ((!in_order || (uint64_t)len != c.wlen) && split_flush(b, &t) != 0) {
            needs_reset(b); /* the request is served but the driver cannot see it */
            break;
        }
    }
    if (split_flush(b, &t) != 0)
        needs_reset(b);
    /* Entries served before an error are still signalled (2.7.7.2). */
    if (q->used_idx == old_used)
        return (int)done;
    /* avail_event: kick me at the next one. The device polls, so a failed write only costs
     * the driver kicks it did not need to send. */
    if (event_idx(b) && !(b->status & S_NEEDS_RESET))
        put16(b, q->device + 4 + 8ull * q->num, q->last_avail);
    b->host.barrier(b->host.ctx, 0); /* 2.7.7.2: the used index before reading the suppression */
    bool notify = true;
    uint16_t sup;
    if (event_idx(b)) {
        if (get16(b, q->driver + 4 + 2ull * q->num, &sup) == 0)
            notify = need_event(sup, q->used_idx, old_used);
    } else if (get16(b, q->driver, &sup) == 0) {
        notify = !(sup & 1u);
    }
    if (notify)
        raise_vring(b);
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

/* Packed: one used descriptor for the batch at the slot of its first buffer, with the last
 * buffer's id (2.8.8 / 2.8.9); both sides skip the batch's slots. */
static int packed_flush(struct acme_blk *b, struct acme_batch *t)
{
    struct acme_vq *q = &b->vq;
    if (!t->count)
        return 0;
    uint64_t at = q->desc + 16ull * t->pos;
    uint16_t uf = (uint16_t)((t->wrap ? D_AVAIL | D_USED : 0) | (t->len ? D_WRITE : 0));
    int r = put16(b, at + 12, t->id) || put32(b, at + 8, t->len);
    if (!r) {
        b->host.barrier(b->host.ctx, 2); /* 2.8.21.1: id and len before the flags */
        r = put16(b, at + 14, uf);
    }
    packed_advance(&q->next_used, &q->used_wrap, t->slots, q->num);
    t->count = 0;
    t->slots = 0;
    return r ? -1 : 0;
}

static int packed_serve(struct acme_blk *b, unsigned budget)
{
    struct acme_vq *q = &b->vq;
    struct acme_chain c;
    struct acme_batch t = {0, 0, 0, 0, 0, false};
    bool in_order = has(b, F_IN_ORDER);
    unsigned done = 0, slots = 0;
    while (done < budget) {
        const uint8_t *hd = q->ring + 16u * q->next_avail;
        uint16_t f = ld16(hd + 14);
        bool avail = (f & D_AVAIL) != 0, used = (f & D_USED) != 0;
        if (avail != q->avail_wrap || used == q->avail_wrap)
            break; /* 2.8.1: not made available in this lap */
        b->host.barrier(b->host.ctx, 1); /* 2.8.21.2: flags, then the rest */
        c.nseg = 0;
        c.rlen = c.wlen = 0;
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
                bad = n != 1 || (d.b & D_NEXT) || walk_indirect(b, d.addr, d.len, true, &c) != 0;
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
        int64_t len = bad ? -1 : serve(b, &c);
        if (len < 0) {
            needs_reset(b);
            break;
        }
        packed_advance(&q->next_avail, &q->avail_wrap, n, q->num);
        if (!t.count) {
            t.pos = q->next_used;
            t.wrap = q->used_wrap;
#if VQF_BUG == 43
            t.id = id;
#endif
        }
#if VQF_BUG != 43
        t.id = id;
#endif
        t.len = (uint32_t)len;
        t.slots = (uint16_t)(t.slots + n);
        t.count++;
        slots += n;
        done++;
        if ((!in_order || (uint64_t)len != c.wlen) && packed_flush(b, &t) != 0) {
            needs_reset(b); /* the list is served but its used descriptor never appeared */
            break;
        }
    }
    if (packed_flush(b, &t) != 0)
        needs_reset(b);
    if (!done)
        return 0;
    b->host.barrier(b->host.ctx, 0); /* 2.8.21.3: used flags before the suppression area */
    uint16_t flags = 0, ow = 0;
    bool notify = true; /* an unreadable suppression area: notify (see get16) */
    if (get16(b, q->driver + 2, &flags) == 0) {
        flags &= 3u;
        notify = flags == 0;
        if (flags == 2 && event_idx(b) && get16(b, q->driver, &ow) != 0) {
            notify = true;
        } else if (flags == 2 && event_idx(b)) {
            uint16_t event = ow & 0x7fffu;
            if ((bool)(ow >> 15) != q->used_wrap)
                event = (uint16_t)(event - q->num);
            notify = need_event(event, q->next_used, (uint16_t)(q->next_used - slots));
        }
    }
    if (notify)
        raise_vring(b);
    return (int)done;
}

int acme_blk_poll(struct acme_blk *b, unsigned budget)
{
    if (!b->vq.live || (b->status & S_NEEDS_RESET) || !(b->status & S_DRIVER_OK))
        return 0; /* 2.1.2: no buffer is touched before DRIVER_OK */
    return has(b, F_PACKED) ? packed_serve(b, budget) : split_serve(b, budget);
}

/* ---- register file (4.2.2) and configuration space (5.2.4) ---- */

static void status_write(struct acme_blk *b, uint32_t v)
{
    if (v == 0) {
        device_reset(b);
        return;
    }
    uint32_t old = b->status;
    /* NEEDS_RESET is ours to set; SUSPEND (3.4) is not offered, so the bit is ignored */
    v = (v & ~(S_NEEDS_RESET | S_SUSPEND)) | (old & S_NEEDS_RESET);
    if ((v & S_FEATURES_OK) && !(old & S_FEATURES_OK)) {
        /* 2.2.2: only offered bits, and VERSION_1 (a legacy interface is not offered) */
        if ((b->accepted & ~b->offered) || !(b->accepted & F_VERSION_1))
            v &= ~S_FEATURES_OK;
    }
    b->status = v;
    if ((v & S_DRIVER_OK) && !(old & S_DRIVER_OK) && !(v & S_FEATURES_OK))
        needs_reset(b);
}

/* 5.2.4: the fields of features not offered read as zero, like the padding (BLK-08). */
static void config_build(struct acme_blk *b)
{
    memset(b->config, 0, sizeof(b->config));
    st32(b->config + C_CAPACITY, ACME_SECTORS);
    if (b->offered & F_SEG_MAX)
        st32(b->config + C_SEG_MAX, ACME_SEG_MAX);
    if (b->offered & F_BLK_SIZE)
        st32(b->config + C_BLK_SIZE, ACME_SECTOR);
}

static uint32_t config_read(const struct acme_blk *b, uint32_t off, unsigned size)
{
    uint32_t v = 0;
    if (size != 1 && size != 2 && size != 4)
        return 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < C_SIZE)
            v |= (uint32_t)b->config[off + i] << (8 * i);
    return v;
}

uint32_t acme_blk_mmio_read(struct acme_blk *b, uint32_t off, unsigned size)
{
    struct acme_vq *q = b->queue_sel == 0 ? &b->vq : NULL;
    if (off >= R_CONFIG)
        return config_read(b, off - R_CONFIG, size);
    if (size != 4)
        return 0; /* control registers are 32-bit */
    switch (off) {
    case R_MAGIC: return 0x74726976u;
    case R_VERSION: return 2;
    case R_DEVICE_ID: return 2; /* 5: block device */
    case R_VENDOR_ID: return 0x454d4341u;
    case R_DEV_FEAT: return b->dev_sel < 2 ? (uint32_t)(b->offered >> (32 * b->dev_sel)) : 0;
    case R_DEV_FEAT_SEL: return b->dev_sel;
    case R_QUEUE_SEL: return b->queue_sel;
    case R_QUEUE_NUM_MAX: return q ? b->queue_max : 0;
    case R_QUEUE_NUM: return q ? q->num : 0;
    case R_QUEUE_READY: return q ? q->ready : 0;
    case R_INT_STATUS: return b->isr;
    case R_STATUS: return b->status;
    case R_QUEUE_RESET: return 0; /* a queue reset completes inside the write */
    case R_CONFIG_GEN: return b->generation;
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

void acme_blk_mmio_write(struct acme_blk *b, uint32_t off, unsigned size, uint32_t v)
{
    struct acme_vq *q = b->queue_sel == 0 ? &b->vq : NULL;
    if (off >= R_CONFIG || size != 4)
        return; /* every field of this config space is read-only (5.2.4 without CONFIG_WCE) */
    bool setup = q && q->ready == 0; /* ring registers only change while the queue is off */
    switch (off) {
    case R_DEV_FEAT_SEL: b->dev_sel = v; break;
    case R_DRV_FEAT_SEL: b->drv_sel = v; break;
    case R_DRV_FEAT:
        if (b->drv_sel < 2 && !(b->status & S_FEATURES_OK))
            set_half(&b->accepted, v, (int)b->drv_sel);
        break;
    case R_QUEUE_SEL: b->queue_sel = v; break;
    case R_QUEUE_NUM: if (setup) q->num = v <= 0xffffu ? (uint16_t)v : 0; break;
    case R_DESC_LO: case R_DESC_HI: if (setup) set_half(&q->desc, v, off == R_DESC_HI); break;
    case R_DRIVER_LO: case R_DRIVER_HI: if (setup) set_half(&q->driver, v, off == R_DRIVER_HI); break;
    case R_DEVICE_LO: case R_DEVICE_HI: if (setup) set_half(&q->device, v, off == R_DEVICE_HI); break;
    case R_QUEUE_READY:
        if (!q)
            break;
        if (v == 1 && q->ready != 1) {
            q->ready = 1;
            queue_go_live(b);
        } else if (v != 1) {
            q->ready = v;
            queue_drop(q);
        }
        break;
    case R_QUEUE_NOTIFY: break; /* the device polls; a kick only says "look now" */
    case R_INT_ACK: b->isr &= ~v; break;
    case R_STATUS: status_write(b, v); break;
    case R_QUEUE_RESET:
        /* 2.6.1: with RING_RESET, reset only the selected queue */
        if (v == 1 && q && has(b, F_RING_RESET) && (b->status & S_FEATURES_OK)) {
            queue_drop(q);
            q->ready = 0;
            queue_positions_reset(q);
        }
        break;
    default: break;
    }
}

struct acme_blk *acme_blk_new(const struct acme_blk_host *host, uint64_t features_mask, uint16_t queue_max)
{
    struct acme_blk *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->host = *host;
    b->offered = ACME_FEATURES & (features_mask | F_VERSION_1);
    b->queue_max = queue_max && queue_max < ACME_QMAX ? queue_max : ACME_QMAX;
    queue_positions_reset(&b->vq);
    config_build(b);
    return b;
}

void acme_blk_free(struct acme_blk *b)
{
    if (!b)
        return;
    queue_drop(&b->vq);
    free(b);
}
