/* tinyblk driver (see tinyblk.h). A request is three descriptors (5.2.6): the 16-byte header
 * (device-readable), the data (readable for a write, writable for a read or GET_ID) and the
 * status byte (device-writable), which the driver sets to 0xff before it publishes the request
 * so that a status the device never wrote cannot pass for one. Split: a request takes the next
 * three descriptors of the table in ring order (wrapping at its end, as IN_ORDER wants,
 * 2.7.5.2) and its head is its id; packed: the request slot number is the buffer ID. With
 * IN_ORDER one used entry may stand for a batch (2.7.9, 2.8.8): the driver keeps its requests
 * in the order it made them available and retires the batch up to the one the entry names.
 * Anything the device does wrong (an unknown id, a status byte that is no status,
 * DEVICE_NEEDS_RESET) counts as an error and the driver resets the device and starts over,
 * as a bootloader watchdog would; a request that fails (IOERR, UNSUPP) counts as an error.
 *
 * bench/bugs builds this file with -DVQF_BUG=N: each `#if VQF_BUG == N` is a planted defect
 * (bench/bugs/bugs.tsv). The default build has none. */
#include "tinyblk.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifndef VQF_BUG
#define VQF_BUG 0
#endif

/* ---- the spec, as this driver spells it ---- */
#define REG_MAGIC 0x000           /* 4.2.2 */
#define REG_VERSION 0x004
#define REG_DEVICE_ID 0x008
#define REG_DEV_FEAT 0x010
#define REG_DEV_FEAT_SEL 0x014
#define REG_DRV_FEAT 0x020
#define REG_DRV_FEAT_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INT_STATUS 0x060
#define REG_INT_ACK 0x064
#define REG_STATUS 0x070
#define REG_DESC 0x080
#define REG_DRIVER 0x090
#define REG_DEVICE 0x0a0
#define REG_QUEUE_RESET 0x0c0
#define REG_CONFIG_GEN 0x0fc
#define REG_CONFIG 0x100

#define CFG_CAPACITY 0x00         /* 5.2.4 struct virtio_blk_config */
#define CFG_BLK_SIZE 0x14

#define ST_ACK 1u                 /* 2.1 */
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define ST_NEEDS_RESET 64u
#define ST_FAILED 128u

#define FT_RO (1ull << 5)         /* 5.2.3 */
#define FT_BLK_SIZE (1ull << 6)
#define FT_EVENT_IDX (1ull << 29) /* 6 */
#define FT_VERSION_1 (1ull << 32)
#define FT_PACKED (1ull << 34)
#define FT_IN_ORDER (1ull << 35)
#define FT_RING_RESET (1ull << 40)
#define TINY_KNOWN (FT_RO | FT_BLK_SIZE | FT_EVENT_IDX | FT_VERSION_1 | FT_PACKED | FT_IN_ORDER | FT_RING_RESET)

#define BT_IN 0u                  /* 5.2.6 request types and status values */
#define BT_OUT 1u
#define BT_GET_ID 8u
#define BS_OK 0u
#define BS_IOERR 1u
#define BS_UNSUPP 2u
#define BS_POISON 0xffu           /* no status: the device has not written it */

#define DF_NEXT 1u                /* 2.7.5 */
#define DF_WRITE 2u
#define DF_AVAIL (1u << 7)        /* 2.8.1 */
#define DF_USED (1u << 15)

#define TB_QMAX 256u
#define TB_REQS 32u               /* request slots at most */
#define TB_SECTOR 512u
#define TB_REQ_SECTORS 4u         /* sectors per request at most */
#define TB_SPAN 64u               /* sectors of the disk the driver uses at most */
#define TB_META 32u               /* per slot: header (16), status (1) */

/* errno values a request completes with, by status byte (5.2.6) */
static const int status_errno[3] = {0, -5 /* EIO */, -95 /* EOPNOTSUPP */};

enum tb_kind { K_WRITE, K_READBACK, K_READ, K_GET_ID };

struct tb_req {
    bool busy;
    uint8_t kind;
    uint16_t head;                 /* split: its first descriptor */
    uint32_t nsec;
    uint64_t sector, seed;
};

struct tinyblk {
    struct tinyblk_host h;
    uint64_t want, offered, features;
    uint16_t want_qsize, num, cap; /* cap: ring memory was allocated for this size */
    unsigned nreq;                 /* request slots of this ring */
    bool packed, event_idx, in_order, running;
    uint64_t desc, drv_area, dev_area, meta, data;
    uint64_t capacity;
    uint32_t blk_size, generation; /* the configuration as last read, under that ConfigGeneration */
    /* split */
    uint16_t avail_idx, last_used, next_desc;
    uint8_t desc_req[TB_QMAX];     /* per descriptor: request slot + 1 while in flight, else 0 */
    /* packed */
    uint16_t next_avail, used_pos, slots_used;
    bool avail_wrap, used_wrap;
    struct tb_req req[TB_REQS];
    uint16_t free_ids[TB_REQS];    /* stack of free request slots */
    uint8_t order[TB_REQS];        /* IN_ORDER: slots in flight, oldest first (a ring) */
    unsigned order_head, order_len;
    unsigned nfree, inflight, errors;
    bool mem_err;                  /* a guest memory access failed since the caller last cleared it */
};

/* ---- memory helpers (see tinyrng.c: failures are recorded in mem_err) ---- */

static uint16_t rd16(struct tinyblk *t, uint64_t a)
{
    uint8_t b[2] = {0, 0};
    if (t->h.mem_read(t->h.ctx, a, b, 2) != 0)
        t->mem_err = true;
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t rd32(struct tinyblk *t, uint64_t a)
{
    uint8_t b[4] = {0, 0, 0, 0};
    if (t->h.mem_read(t->h.ctx, a, b, 4) != 0)
        t->mem_err = true;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The suppression fields decide a kick: a read that fails is tried once more (the fault may
 * be transient) before the caller falls back to kicking anyway (as tinyrng does). */
static uint16_t rd16_twice(struct tinyblk *t, uint64_t a)
{
    uint16_t v = rd16(t, a);
    if (t->mem_err) {
        t->mem_err = false;
        v = rd16(t, a);
    }
    return v;
}

static void wr(struct tinyblk *t, uint64_t a, const void *p, uint64_t n)
{
    if (t->h.mem_write(t->h.ctx, a, p, n) != 0)
        t->mem_err = true;
}

static void wr16(struct tinyblk *t, uint64_t a, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    wr(t, a, b, 2);
}

static void wr32(struct tinyblk *t, uint64_t a, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wr(t, a, b, 4);
}

static void wr64(struct tinyblk *t, uint64_t a, uint64_t v)
{
    wr32(t, a, (uint32_t)v);
    wr32(t, a + 4, (uint32_t)(v >> 32));
}

static void zero(struct tinyblk *t, uint64_t a, uint64_t len)
{
    static const uint8_t z[256];
    while (len) {
        uint64_t n = len < sizeof(z) ? len : sizeof(z);
        wr(t, a, z, n);
        a += n;
        len -= n;
    }
}

static uint32_t reg(struct tinyblk *t, uint32_t off) { return t->h.reg_read(t->h.ctx, off); }
static void reg_w(struct tinyblk *t, uint32_t off, uint32_t v) { t->h.reg_write(t->h.ctx, off, v); }

static void reg64(struct tinyblk *t, uint32_t off, uint64_t v)
{
    reg_w(t, off, (uint32_t)v);
    reg_w(t, off + 4, (uint32_t)(v >> 32));
}

static void set_status(struct tinyblk *t, uint32_t bits) { reg_w(t, REG_STATUS, reg(t, REG_STATUS) | bits); }

static uint64_t slot_meta(const struct tinyblk *t, unsigned r) { return t->meta + (uint64_t)TB_META * r; }
static uint64_t slot_data(const struct tinyblk *t, unsigned r) { return t->data + (uint64_t)TB_REQ_SECTORS * TB_SECTOR * r; }

/* The byte the write pattern puts at offset i of sector s (read back and compared). */
static uint8_t pattern(uint64_t seed, uint64_t s, uint32_t i)
{
    uint64_t z = (seed ^ (s * 0x9e3779b97f4a7c15ull)) + i / 8;
    z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
    return (uint8_t)(z >> (8 * (i % 8)));
}

/* ---- configuration (2.5.1, 5.2.4) ---- */

/* capacity (le64, read as two 32-bit halves) and blk_size (BLK_SIZE only) inside the
 * generation loop: the device may change the structure between two reads (2.5.1). */
static int read_config(struct tinyblk *t)
{
    uint32_t lo, hi, bs = 0;
#if VQF_BUG == 46
    /* "the capacity does not change while we boot" */
    lo = reg(t, REG_CONFIG + CFG_CAPACITY);
    hi = reg(t, REG_CONFIG + CFG_CAPACITY + 4);
    if (t->offered & FT_BLK_SIZE)
        bs = reg(t, REG_CONFIG + CFG_BLK_SIZE);
#else
    unsigned tries = 0;
    uint32_t before, after;
    do {
        if (++tries > 16)
            return -1; /* the device keeps changing it: give up */
        before = reg(t, REG_CONFIG_GEN);
        lo = reg(t, REG_CONFIG + CFG_CAPACITY);
        hi = reg(t, REG_CONFIG + CFG_CAPACITY + 4);
#if VQF_BUG == 47
        bs = reg(t, REG_CONFIG + CFG_BLK_SIZE); /* "reads 0 when the device has none" */
#else
        if (t->offered & FT_BLK_SIZE)
            bs = reg(t, REG_CONFIG + CFG_BLK_SIZE); /* 2.5.1: only fields of offered features */
#endif
        after = reg(t, REG_CONFIG_GEN);
#if VQF_BUG == 50
        break; /* "the generation is for the boot log: a change under our reads is too rare to retry" */
#endif
    } while (before != after);
    t->generation = after;
#endif
    t->capacity = (uint64_t)hi << 32 | lo;
    /* 5.2.4: blk_size is the optimal unit; requests are in 512-byte sectors whatever it is */
    t->blk_size = bs ? bs : TB_SECTOR;
    return 0;
}

/* ---- queue state ---- */

static void ring_state_reset(struct tinyblk *t)
{
    t->avail_idx = t->last_used = t->next_desc = 0;
    memset(t->desc_req, 0, sizeof(t->desc_req));
    t->order_head = t->order_len = 0;
    t->next_avail = t->used_pos = t->slots_used = 0;
    t->avail_wrap = t->used_wrap = true; /* 2.8.1 */
    t->nfree = 0;
    for (unsigned i = t->nreq; i-- > 0;) {
        t->req[i].busy = false;
        t->free_ids[t->nfree++] = (uint16_t)i;
    }
    t->inflight = 0;
}

static uint64_t ring_bytes(const struct tinyblk *t, unsigned part, uint16_t n)
{
    if (t->packed)
        return part == 0 ? 16ull * n : 4;
    return part == 0 ? 16ull * n : part == 1 ? 6ull + 2ull * n : 6ull + 8ull * n;
}

/* Program queue 0 from our ring memory (4.2.3.2), rings zeroed first: 2.7.10.1 (used flags
 * start 0) and 2.8.1 (a packed ring starts with no descriptor available). */
static int queue_program(struct tinyblk *t)
{
    t->mem_err = false;
    zero(t, t->desc, ring_bytes(t, 0, t->num));
    zero(t, t->drv_area, ring_bytes(t, 1, t->num));
    zero(t, t->dev_area, ring_bytes(t, 2, t->num));
    if (t->mem_err)
        return -1; /* rings that are not zeroed must not go live */
    reg_w(t, REG_QUEUE_SEL, 0);
    reg_w(t, REG_QUEUE_NUM, t->num);
    reg64(t, REG_DESC, t->desc);
    reg64(t, REG_DRIVER, t->drv_area);
    reg64(t, REG_DEVICE, t->dev_area);
    reg_w(t, REG_QUEUE_READY, 1);
    return 0;
}

static int queue_setup(struct tinyblk *t)
{
    reg_w(t, REG_QUEUE_SEL, 0);
    if (reg(t, REG_QUEUE_READY) != 0)
        return -1; /* 4.2.3.2: the queue must not be in use */
    uint32_t max = reg(t, REG_QUEUE_NUM_MAX);
    if (max == 0)
        return -1;
    uint32_t n = t->want_qsize ? t->want_qsize : TB_QMAX;
    if (n > max)
        n = max;
    if (n > TB_QMAX)
        n = TB_QMAX;
    if (!t->packed)
        while (n & (n - 1))
            n &= n - 1; /* 2.7: split sizes are powers of two */
    t->num = (uint16_t)n;
    t->nreq = n / 3 < TB_REQS ? n / 3 : TB_REQS; /* a queue of fewer than 3 holds no request */
    if (t->num > t->cap) {
        /* first time (or a bigger ring): rings for good */
        t->desc = t->h.alloc(t->h.ctx, 16ull * t->num, 16);
        t->drv_area = t->h.alloc(t->h.ctx, 6ull + 2ull * t->num, 4);
        t->dev_area = t->h.alloc(t->h.ctx, 6ull + 8ull * t->num, 4);
        if (!t->meta) {
            t->meta = t->h.alloc(t->h.ctx, (uint64_t)TB_META * TB_REQS, 16);
            t->data = t->h.alloc(t->h.ctx, (uint64_t)TB_REQ_SECTORS * TB_SECTOR * TB_REQS, 16);
        }
        if (!t->desc || !t->drv_area || !t->dev_area || !t->meta || !t->data) {
            t->cap = 0;
            return -1;
        }
        t->cap = t->num;
    }
    ring_state_reset(t);
    return queue_program(t);
}

/* ---- publishing ---- */

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old); /* 2.7.10 */
}

static void kick(struct tinyblk *t) { reg_w(t, REG_QUEUE_NOTIFY, 0); }

/* The three segments of request slot r: (addr, len, device-writable). */
struct tb_seg {
    uint64_t addr;
    uint32_t len;
    bool write;
};

static void segments(const struct tinyblk *t, unsigned r, struct tb_seg s[3])
{
    const struct tb_req *q = &t->req[r];
    uint32_t dlen = q->kind == K_GET_ID ? 20u : q->nsec * TB_SECTOR;
    s[0] = (struct tb_seg){slot_meta(t, r), 16, false};
    s[1] = (struct tb_seg){slot_data(t, r), dlen, q->kind != K_WRITE};
    s[2] = (struct tb_seg){slot_meta(t, r) + 16, 1, true};
}

static int split_publish(struct tinyblk *t, unsigned r)
{
    struct tb_seg s[3];
    segments(t, r, s);
    uint16_t head = t->next_desc;
    t->mem_err = false;
    for (unsigned i = 0; i < 3; i++) {
        uint64_t d = t->desc + 16ull * ((head + i) % t->num);
        wr64(t, d, s[i].addr);
        wr32(t, d + 8, s[i].len);
        wr16(t, d + 12, (uint16_t)((s[i].write ? DF_WRITE : 0) | (i < 2 ? DF_NEXT : 0)));
        wr16(t, d + 14, (uint16_t)((head + i + 1) % t->num));
    }
    wr16(t, t->drv_area + 4 + 2ull * (t->avail_idx % t->num), head);
    if (t->mem_err)
        return -1;
    for (unsigned i = 0; i < 3; i++)
        t->desc_req[(head + i) % t->num] = (uint8_t)(r + 1);
    t->req[r].head = head;
    t->next_desc = (uint16_t)((head + 3) % t->num);
    uint16_t old = t->avail_idx++;
    t->h.barrier(t->h.ctx, 2); /* 2.7.13.3.1: entries before the index */
    wr16(t, t->drv_area + 2, t->avail_idx);
    if (t->mem_err) {
        t->avail_idx = old;
        t->next_desc = head;
        for (unsigned i = 0; i < 3; i++)
            t->desc_req[(head + i) % t->num] = 0;
        return -1;
    }
    t->h.barrier(t->h.ctx, 0); /* 2.7.13.4.1: the index before the suppression check */
    bool notify;
    if (t->event_idx)
        notify = need_event(rd16_twice(t, t->dev_area + 4 + 8ull * t->num), t->avail_idx, old);
    else
        notify = !(rd16_twice(t, t->dev_area) & 1u);
    if (notify || t->mem_err)
        kick(t); /* an unreadable suppression field: kick rather than risk a lost one */
    return 0;
}

static int packed_publish(struct tinyblk *t, unsigned r)
{
    struct tb_seg s[3];
    segments(t, r, s);
    uint16_t first = t->next_avail, firstflags = 0;
    bool first_wrap = t->avail_wrap;
    t->mem_err = false;
    /* 2.8.21.1.1: every descriptor of the list before the first one's flags */
    for (unsigned i = 0; i < 3; i++) {
        uint64_t d = t->desc + 16ull * t->next_avail;
        uint16_t flags = (uint16_t)((s[i].write ? DF_WRITE : 0) | (i < 2 ? DF_NEXT : 0) |
                                    (t->avail_wrap ? DF_AVAIL : DF_USED));
        wr64(t, d, s[i].addr);
        wr32(t, d + 8, s[i].len);
        wr16(t, d + 12, (uint16_t)r);
        if (i == 0)
            firstflags = flags;
        else
            wr16(t, d + 14, flags);
        if (++t->next_avail == t->num) {
            t->next_avail = 0;
            t->avail_wrap = !t->avail_wrap;
        }
    }
    if (!t->mem_err) {
        t->h.barrier(t->h.ctx, 2);
        wr16(t, t->desc + 16ull * first + 14, firstflags);
    }
    if (t->mem_err) {
        /* the first flags were not written: the device cannot see the list */
        t->next_avail = first;
        t->avail_wrap = first_wrap;
        return -1;
    }
    t->slots_used = (uint16_t)(t->slots_used + 3);
    t->h.barrier(t->h.ctx, 0); /* 2.8.21.3.1: flags before the device event area */
    uint16_t ev_flags = rd16_twice(t, t->dev_area + 2) & 3u;
    bool notify = ev_flags == 0;
    if (ev_flags == 2 && t->event_idx) {
        uint16_t ow = rd16_twice(t, t->dev_area);
        uint16_t event = ow & 0x7fffu;
        if ((bool)(ow >> 15) != t->avail_wrap)
            event = (uint16_t)(event - t->num);
        uint16_t new_idx = t->next_avail;
        notify = need_event(event, new_idx, (uint16_t)(new_idx - 3));
    }
    if (notify || t->mem_err)
        kick(t); /* an unreadable event area: kick rather than risk a lost one */
    return 0;
}

/* Fill slot r's header (and its data for a write), poison its status byte, publish it. */
static int post(struct tinyblk *t, unsigned r)
{
    struct tb_req *q = &t->req[r];
    uint8_t hdr[17] = {0};
    uint32_t type = q->kind == K_WRITE ? BT_OUT : q->kind == K_GET_ID ? BT_GET_ID : BT_IN;
    hdr[0] = (uint8_t)type;
    for (unsigned i = 0; i < 8; i++)
        hdr[8 + i] = (uint8_t)(q->sector >> (8 * i));
    hdr[16] = BS_POISON;
    t->mem_err = false;
    wr(t, slot_meta(t, r), hdr, sizeof(hdr));
    if (q->kind == K_WRITE) {
        uint8_t buf[TB_SECTOR];
        for (uint32_t s = 0; s < q->nsec; s++) {
            for (uint32_t i = 0; i < TB_SECTOR; i++)
                buf[i] = pattern(q->seed, q->sector + s, i);
            wr(t, slot_data(t, r) + (uint64_t)s * TB_SECTOR, buf, TB_SECTOR);
        }
    }
    if (t->mem_err)
        return -1;
    if ((t->packed ? packed_publish(t, r) : split_publish(t, r)) != 0)
        return -1;
    if (t->in_order)
        t->order[(t->order_head + t->order_len++) % TB_REQS] = (uint8_t)r;
    return 0;
}

/* Room for one more request: a free slot and three free descriptors next in ring order. */
static bool room(const struct tinyblk *t)
{
    if (!t->nfree || t->num < 3)
        return false;
    if (t->packed)
        return t->num - t->slots_used >= 3;
    for (unsigned i = 0; i < 3; i++)
        if (t->desc_req[(t->next_desc + i) % t->num])
            return false;
    return true;
}

/* Take a free slot for a request of `kind`; 1 when there is no room. */
static int submit(struct tinyblk *t, uint8_t kind, uint64_t sector, uint32_t nsec, uint64_t seed)
{
    if (!t->running)
        return -1;
    if (!room(t))
        return 1;
    if (kind == K_WRITE)
        for (unsigned i = 0; i < t->nreq; i++)
            if (t->req[i].busy && t->req[i].kind != K_GET_ID && sector < t->req[i].sector + t->req[i].nsec &&
                t->req[i].sector < sector + nsec)
                return 1; /* a request on these sectors is in flight: its data would race */
    unsigned r = t->free_ids[--t->nfree];
    t->req[r] = (struct tb_req){.busy = true, .kind = kind, .nsec = nsec, .sector = sector, .seed = seed};
    t->inflight++;
    if (post(t, r) != 0) {
        t->req[r].busy = false; /* not published: the slot is ours again */
        t->free_ids[t->nfree++] = (uint16_t)r;
        t->inflight--;
        return -1;
    }
    return 0;
}

/* A range of the disk inside capacity (5.2.6.1: no request reaches past it). */
static int pick(const struct tinyblk *t, uint64_t sector, uint32_t sectors, uint64_t *s, uint32_t *n)
{
    uint64_t span = t->capacity < TB_SPAN ? t->capacity : TB_SPAN;
    *n = sectors == 0 ? 1 : sectors > TB_REQ_SECTORS ? TB_REQ_SECTORS : sectors;
    if (span == 0)
        return -1;
    if (*n > span)
        *n = (uint32_t)span;
    *s = sector % (span - *n + 1);
    return 0;
}

int tinyblk_write_verify(struct tinyblk *t, uint64_t sector, uint32_t sectors, uint64_t seed)
{
    uint64_t s;
    uint32_t n;
    if (!t->running || (t->offered & FT_RO) || pick(t, sector, sectors, &s, &n) != 0)
        return -1; /* 5.2.6.2: a device offering RO fails every write, taken or not */
    return submit(t, K_WRITE, s, n, seed);
}

int tinyblk_read(struct tinyblk *t, uint64_t sector, uint32_t sectors)
{
    uint64_t s;
    uint32_t n;
    if (!t->running || pick(t, sector, sectors, &s, &n) != 0)
        return -1;
    return submit(t, K_READ, s, n, 0);
}

int tinyblk_get_id(struct tinyblk *t) { return submit(t, K_GET_ID, 0, 0, 0); }

/* ---- completions ---- */

static void put_slot(struct tinyblk *t, unsigned r)
{
    t->req[r].busy = false;
    t->free_ids[t->nfree++] = (uint16_t)r;
    t->inflight--;
}

/* Request slot r came back: 0, or -1 if the device broke the protocol. */
static int complete(struct tinyblk *t, unsigned r)
{
    struct tb_req *q = &t->req[r];
    if (!q->busy)
        return -1; /* 2.7.8: a used id names a buffer we gave and did not get back */
    t->mem_err = false;
    uint8_t st = BS_POISON;
    if (t->h.mem_read(t->h.ctx, slot_meta(t, r) + 16, &st, 1) != 0)
        return -1;
#if VQF_BUG == 48
    /* "the device only ever writes 0, 1 or 2" */
#else
    if (st > BS_UNSUPP)
        return -1; /* 5.2.6: not a status: the device never wrote it, or is broken */
#endif
    int err = status_errno[st];
    if (err) {
        t->errors++; /* the request failed: its data is not used */
        put_slot(t, r);
        return 0;
    }
    if (q->kind == K_READBACK) {
        uint8_t buf[TB_SECTOR];
        for (uint32_t s = 0; s < q->nsec; s++) {
            if (t->h.mem_read(t->h.ctx, slot_data(t, r) + (uint64_t)s * TB_SECTOR, buf, TB_SECTOR) != 0)
                return -1;
            for (uint32_t i = 0; i < TB_SECTOR; i++)
                if (buf[i] != pattern(q->seed, q->sector + s, i)) {
                    t->errors++; /* 5.2.6: a completed write is what a later read returns */
                    break;
                }
        }
    }
    if (q->kind == K_WRITE && q->sector + q->nsec <= t->capacity && room(t)) {
        q->kind = K_READBACK; /* the same slot reads the range back while it is still held */
        if (post(t, r) == 0)
            return 0;
    }
    put_slot(t, r);
    return 0;
}

/* The number of requests a used entry naming slot r retires: 1, or with IN_ORDER every
 * request from the oldest in flight up to r (2.7.9, 2.8.8: the skipped ones were used
 * whole). 0 when r is not in flight or the batch is longer than the `left` the device can
 * have used: the device broke the ring. */
static unsigned batch_of(const struct tinyblk *t, unsigned r, unsigned left)
{
    if (!t->req[r].busy)
        return 0;
    if (!t->in_order)
        return 1;
    unsigned k = 0;
    while (k < t->order_len && t->order[(t->order_head + k) % TB_REQS] != r)
        k++;
    return k < t->order_len && k + 1 <= left ? k + 1 : 0;
}

static unsigned order_pop(struct tinyblk *t)
{
    unsigned r = t->order[t->order_head];
    t->order_head = (t->order_head + 1) % TB_REQS;
    t->order_len--;
    return r;
}

static int split_reclaim(struct tinyblk *t)
{
    t->mem_err = false;
    uint16_t idx = rd16(t, t->dev_area + 2);
    if (t->mem_err)
        return -1; /* the used ring cannot be read: start over */
    t->h.barrier(t->h.ctx, 1); /* 2.7.13: the index, then the entries */
    if ((uint16_t)(idx - t->last_used) > t->num)
        return -1;
    int n = 0;
    while (t->last_used != idx) {
        uint32_t id = rd32(t, t->dev_area + 4 + 8ull * (t->last_used % t->num));
        if (t->mem_err)
            return -1;
        if (id >= t->num || !t->desc_req[id] || t->req[t->desc_req[id] - 1].head != id)
            return -1; /* 2.7.8: the head of a chain we made available */
        unsigned r = t->desc_req[id] - 1, count = batch_of(t, r, (uint16_t)(idx - t->last_used));
        if (!count)
            return -1;
        t->last_used = (uint16_t)(t->last_used + count);
        for (unsigned j = 0; j < count; j++) {
            unsigned x = t->in_order ? order_pop(t) : r;
            for (unsigned i = 0; i < 3; i++)
                t->desc_req[(t->req[x].head + i) % t->num] = 0;
            if (complete(t, x) != 0)
                return -1;
            n++;
        }
    }
    if (t->event_idx) {
        /* 2.7.7.1 / 2.7.10: used_event = the next entry we have not seen: interrupt us then */
        wr16(t, t->drv_area + 4 + 2ull * t->num, t->last_used);
        t->h.barrier(t->h.ctx, 0);
        if (t->mem_err)
            return -1; /* a stale used_event may cost the next interrupt: start over */
    }
    return n;
}

static int packed_reclaim(struct tinyblk *t)
{
    int n = 0;
    for (;;) {
        uint64_t d = t->desc + 16ull * t->used_pos;
        t->mem_err = false;
        uint16_t f = rd16(t, d + 14);
        if (t->mem_err)
            return -1; /* the ring cannot be read: start over */
        if (((f & DF_USED) != 0) != t->used_wrap || ((f & DF_AVAIL) != 0) != t->used_wrap)
            break; /* 2.8.1: used in this lap when both bits equal the used wrap counter */
        t->h.barrier(t->h.ctx, 1);
        uint16_t id = rd16(t, d + 12);
        if (t->mem_err || id >= t->nreq)
            return -1; /* our buffer ids are request slots */
        unsigned count = batch_of(t, id, t->slots_used / 3u);
        if (!count)
            return -1;
        for (unsigned j = 0; j < count; j++) {
            unsigned x = t->in_order ? order_pop(t) : id;
#if VQF_BUG == 49
            if (j == 0) /* "one used descriptor, one list to skip" */
#endif
            {
                /* 2.8.9 / 2.8.8: the device skips each list of the batch: three descriptors
                 * per request */
                t->used_pos = (uint16_t)(t->used_pos + 3);
                if (t->used_pos >= t->num) {
                    t->used_pos = (uint16_t)(t->used_pos - t->num);
                    t->used_wrap = !t->used_wrap;
                }
            }
            t->slots_used = (uint16_t)(t->slots_used - 3);
            if (complete(t, x) != 0)
                return -1;
            n++;
        }
    }
    return n;
}

/* ---- lifecycle (3.1.1, 3.3) ---- */

static void device_reset(struct tinyblk *t)
{
    t->running = false;
    reg_w(t, REG_STATUS, 0);
    /* 2.4.2: the reset is done once status reads 0 */
    for (int i = 0; i < 1000 && reg(t, REG_STATUS) != 0; i++)
        ;
}

int tinyblk_probe(struct tinyblk *t)
{
    device_reset(t);
    reg_w(t, REG_STATUS, ST_ACK); /* status is 0 after the reset */
    if (reg(t, REG_MAGIC) != 0x74726976u || reg(t, REG_VERSION) != 2 || reg(t, REG_DEVICE_ID) != 2) {
        set_status(t, ST_FAILED);
        return -1;
    }
    set_status(t, ST_DRIVER);
    t->offered = 0;
    for (uint32_t sel = 0; sel < 2; sel++) {
        reg_w(t, REG_DEV_FEAT_SEL, sel);
        t->offered |= (uint64_t)reg(t, REG_DEV_FEAT) << (32 * sel);
    }
    t->features = (t->want | FT_VERSION_1) & t->offered; /* 2.2.1: only offered bits */
    for (uint32_t sel = 0; sel < 2; sel++) {
        reg_w(t, REG_DRV_FEAT_SEL, sel);
        reg_w(t, REG_DRV_FEAT, (uint32_t)(t->features >> (32 * sel)));
    }
    set_status(t, ST_FEATURES_OK);
    if (!(reg(t, REG_STATUS) & ST_FEATURES_OK)) {
        set_status(t, ST_FAILED); /* 3.1.1 step 6: the device refused our subset */
        return -1;
    }
    t->packed = (t->features & FT_PACKED) != 0;
    t->event_idx = (t->features & FT_EVENT_IDX) != 0;
    t->in_order = (t->features & FT_IN_ORDER) != 0;
    if (read_config(t) != 0 || queue_setup(t) != 0) { /* 3.1.1 step 7 */
        set_status(t, ST_FAILED);
        return -1;
    }
    set_status(t, ST_DRIVER_OK);
    t->running = true;
    return 0;
}

int tinyblk_reset(struct tinyblk *t) { return tinyblk_probe(t); }

/* A configuration change (4.2.2 InterruptStatus bit 1): the capacity may have changed
 * (5.2.6.1: look at it again). */
int tinyblk_config_changed(struct tinyblk *t)
{
    if (!t->running)
        return -1;
    if (read_config(t) != 0) {
        t->errors++;
        return tinyblk_probe(t);
    }
    return 0;
}

int tinyblk_queue_reset(struct tinyblk *t)
{
    if (!t->running || !(t->features & FT_RING_RESET))
        return -1;
    reg_w(t, REG_QUEUE_SEL, 0);
    reg_w(t, REG_QUEUE_RESET, 1);
    /* 4.2.3.4 / 2.6.1.1.2: the queue is reset once QueueReset reads 0 */
    for (int i = 0; i < 1000 && reg(t, REG_QUEUE_RESET) != 0; i++)
        ;
    ring_state_reset(t); /* 2.6.1.1: every position back to its initial value */
    if (queue_program(t) != 0)
        return tinyblk_probe(t); /* the rings could not be cleared: start over */
    return 0;
}

/* The device broke the ring or asked to be reset: start over (3.3.1, 2.1.2). */
static void recover(struct tinyblk *t)
{
    t->errors++;
    tinyblk_probe(t);
}

int tinyblk_interrupt(struct tinyblk *t)
{
    uint32_t isr = reg(t, REG_INT_STATUS);
    if (isr)
        reg_w(t, REG_INT_ACK, isr);
    if (isr & 2u) {
        if (reg(t, REG_STATUS) & ST_NEEDS_RESET) {
            recover(t);
            return 0;
        }
        tinyblk_config_changed(t);
    }
    if (!t->running)
        return 0;
    int n = t->packed ? packed_reclaim(t) : split_reclaim(t);
    if (n < 0) {
        recover(t);
        return 0;
    }
    return n;
}

unsigned tinyblk_inflight(const struct tinyblk *t) { return t->inflight; }
unsigned tinyblk_errors(const struct tinyblk *t) { return t->errors; }

void tinyblk_remove(struct tinyblk *t)
{
    device_reset(t); /* 3.3: reset, then every buffer is ours again */
    ring_state_reset(t);
}

struct tinyblk *tinyblk_new(const struct tinyblk_host *host, uint64_t features, uint16_t queue_size)
{
    struct tinyblk *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->h = *host;
    t->want = TINY_KNOWN & (features ? features : ~0ull);
    t->want_qsize = queue_size;
    return t;
}

void tinyblk_free(struct tinyblk *t) { free(t); }
