/* tinyrng driver (see tinyrng.h). One descriptor per request: a device-writable buffer of at
 * most TINY_BUF bytes (5.4.6.1). Split: the head index is the request id; packed: ids come
 * from a free stack. Anything the device does wrong (an unknown id, a length past the
 * buffer, DEVICE_NEEDS_RESET) counts as an error and the driver resets the device and starts
 * over, as a bootloader watchdog would.
 *
 * bench/bugs builds this file with -DVQF_BUG=N: each `#if VQF_BUG == N` is a planted defect
 * (bench/bugs/bugs.tsv). The default build has none. */
#include "tinyrng.h"

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

#define ST_ACK 1u                 /* 2.1 */
#define ST_DRIVER 2u
#define ST_DRIVER_OK 4u
#define ST_FEATURES_OK 8u
#define ST_NEEDS_RESET 64u
#define ST_FAILED 128u

#define FT_EVENT_IDX (1ull << 29) /* 6 */
#define FT_VERSION_1 (1ull << 32)
#define FT_PACKED (1ull << 34)
#define FT_RING_RESET (1ull << 40)
#define TINY_KNOWN (FT_EVENT_IDX | FT_VERSION_1 | FT_PACKED | FT_RING_RESET)

#define DF_WRITE 2u               /* 2.7.5 */
#define DF_AVAIL (1u << 7)        /* 2.8.1 */
#define DF_USED (1u << 15)

#define TINY_QMAX 256u
#define TINY_BUF 512u             /* bytes per request buffer */

struct tiny_req {
    uint32_t len;
    bool busy;
};

struct tinyrng {
    struct tinyrng_host h;
    uint64_t want, features;
    uint16_t want_qsize, num, cap; /* cap: ring memory was allocated for this size */
    bool packed, event_idx, running;
    uint64_t desc, drv_area, dev_area, bufs;
    /* split */
    uint16_t avail_idx, last_used;
    /* packed */
    uint16_t next_avail, used_pos;
    bool avail_wrap, used_wrap;
    struct tiny_req *req;  /* num entries, by id */
    uint16_t *free_ids;    /* stack of free ids */
    unsigned nfree, inflight, errors;
    uint64_t pool;         /* entropy mixed so far */
    bool mem_err;          /* a guest memory access failed since the caller last cleared it */
};

/* ---- memory helpers ---- */

/* Guest memory accesses can fail (the platform's DMA reports it): each helper records a
 * failure in mem_err, and the callers check it before a write that makes something visible
 * to the device, and after reading what the device wrote. */

static uint16_t rd16(struct tinyrng *t, uint64_t a)
{
    uint8_t b[2] = {0, 0};
    if (t->h.mem_read(t->h.ctx, a, b, 2) != 0)
        t->mem_err = true;
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t rd32(struct tinyrng *t, uint64_t a)
{
    uint8_t b[4] = {0, 0, 0, 0};
    if (t->h.mem_read(t->h.ctx, a, b, 4) != 0)
        t->mem_err = true;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The suppression fields decide a kick: a read that fails is tried once more (the fault may
 * be transient) before the caller falls back to kicking anyway. */
static uint16_t rd16_twice(struct tinyrng *t, uint64_t a)
{
    uint16_t v = rd16(t, a);
    if (t->mem_err) {
        t->mem_err = false;
        v = rd16(t, a);
    }
    return v;
}

static void wr16(struct tinyrng *t, uint64_t a, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    if (t->h.mem_write(t->h.ctx, a, b, 2) != 0)
        t->mem_err = true;
}

static void wr32(struct tinyrng *t, uint64_t a, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (t->h.mem_write(t->h.ctx, a, b, 4) != 0)
        t->mem_err = true;
}

static void wr64(struct tinyrng *t, uint64_t a, uint64_t v)
{
    wr32(t, a, (uint32_t)v);
    wr32(t, a + 4, (uint32_t)(v >> 32));
}

static void zero(struct tinyrng *t, uint64_t a, uint64_t len)
{
    static const uint8_t z[256];
    while (len) {
        uint64_t n = len < sizeof(z) ? len : sizeof(z);
        if (t->h.mem_write(t->h.ctx, a, z, n) != 0)
            t->mem_err = true;
        a += n;
        len -= n;
    }
}

static void reg64(struct tinyrng *t, uint32_t off, uint64_t v)
{
    t->h.reg_write(t->h.ctx, off, (uint32_t)v);
    t->h.reg_write(t->h.ctx, off + 4, (uint32_t)(v >> 32));
}

static void set_status(struct tinyrng *t, uint32_t bits)
{
    t->h.reg_write(t->h.ctx, REG_STATUS, t->h.reg_read(t->h.ctx, REG_STATUS) | bits);
}

/* ---- queue state ---- */

static void ring_state_reset(struct tinyrng *t)
{
    t->avail_idx = t->last_used = 0;
    t->next_avail = t->used_pos = 0;
    t->avail_wrap = t->used_wrap = true; /* 2.8.1 */
    t->nfree = 0;
    for (uint16_t i = t->num; i-- > 0;) {
        t->req[i].busy = false;
        t->free_ids[t->nfree++] = i;
    }
    t->inflight = 0;
}

static uint64_t ring_bytes(const struct tinyrng *t, unsigned part, uint16_t n)
{
    if (t->packed)
        return part == 0 ? 16ull * n : 4;
    return part == 0 ? 16ull * n : part == 1 ? 6ull + 2ull * n : 6ull + 8ull * n;
}

/* Program queue 0 from our ring memory (4.2.3.2), rings zeroed first: 2.7.10.1 (used flags
 * start 0) and 2.8.1 (a packed ring starts with no descriptor available). */
static int queue_program(struct tinyrng *t)
{
    t->mem_err = false;
    zero(t, t->desc, ring_bytes(t, 0, t->num));
    zero(t, t->drv_area, ring_bytes(t, 1, t->num));
    zero(t, t->dev_area, ring_bytes(t, 2, t->num));
    if (t->mem_err)
        return -1; /* rings that are not zeroed must not go live */
    t->h.reg_write(t->h.ctx, REG_QUEUE_SEL, 0);
    t->h.reg_write(t->h.ctx, REG_QUEUE_NUM, t->num);
    reg64(t, REG_DESC, t->desc);
    reg64(t, REG_DRIVER, t->drv_area);
    reg64(t, REG_DEVICE, t->dev_area);
    t->h.reg_write(t->h.ctx, REG_QUEUE_READY, 1);
    return 0;
}

static int queue_setup(struct tinyrng *t)
{
    t->h.reg_write(t->h.ctx, REG_QUEUE_SEL, 0);
    if (t->h.reg_read(t->h.ctx, REG_QUEUE_READY) != 0)
        return -1; /* 4.2.3.2: the queue must not be in use */
    uint32_t max = t->h.reg_read(t->h.ctx, REG_QUEUE_NUM_MAX);
    if (max == 0)
        return -1;
    uint32_t n = t->want_qsize ? t->want_qsize : TINY_QMAX;
    if (n > max)
        n = max;
    if (n > TINY_QMAX)
        n = TINY_QMAX;
    if (!t->packed)
        while (n & (n - 1))
            n &= n - 1; /* 2.7: split sizes are powers of two */
    t->num = (uint16_t)n;
    if (t->num > t->cap) {
        /* first time (or a bigger ring): rings and buffers for good, host tables with them */
        free(t->req);
        free(t->free_ids);
        t->req = calloc(t->num, sizeof(*t->req));
        t->free_ids = calloc(t->num, sizeof(*t->free_ids));
        t->desc = t->h.alloc(t->h.ctx, 16ull * t->num, 16);
        t->drv_area = t->h.alloc(t->h.ctx, 6ull + 2ull * t->num, 4);
        t->dev_area = t->h.alloc(t->h.ctx, 6ull + 8ull * t->num, 4);
        t->bufs = t->h.alloc(t->h.ctx, (uint64_t)TINY_BUF * t->num, 16);
        if (!t->req || !t->free_ids || !t->desc || !t->drv_area || !t->dev_area || !t->bufs) {
            t->cap = 0;
            return -1;
        }
        t->cap = t->num;
    }
    ring_state_reset(t);
    return queue_program(t);
}

/* ---- publishing ---- */

static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old, int bug)
{
    if (bug)
        return (uint16_t)(new_idx - event) < (uint16_t)(new_idx - old);
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old); /* 2.7.10 */
}

static void kick(struct tinyrng *t) { t->h.reg_write(t->h.ctx, REG_QUEUE_NOTIFY, 0); }

/* Returns 0 once the request is visible to the device, -1 if a memory write failed before
 * that (nothing was published: the caller takes the id back). */
static int split_publish(struct tinyrng *t, uint16_t id)
{
    uint64_t d = t->desc + 16ull * id;
    t->mem_err = false;
    wr64(t, d, t->bufs + (uint64_t)TINY_BUF * id);
    wr32(t, d + 8, t->req[id].len);
    wr16(t, d + 12, DF_WRITE);
    wr16(t, d + 14, 0);
    wr16(t, t->drv_area + 4 + 2ull * (t->avail_idx % t->num), id);
    if (t->mem_err)
        return -1;
    uint16_t old = t->avail_idx++;
#if VQF_BUG != 25
    t->h.barrier(t->h.ctx, 2); /* 2.7.13.3.1: entries before the index */
#endif
#if VQF_BUG == 40
    /* "read the event index first: the device cannot have moved it for an entry it has not seen" */
    uint16_t early_event = rd16(t, t->dev_area + 4 + 8ull * t->num);
#endif
    wr16(t, t->drv_area + 2, t->avail_idx);
    if (t->mem_err) {
        t->avail_idx = old;
        return -1;
    }
#if VQF_BUG != 39
    t->h.barrier(t->h.ctx, 0); /* 2.7.13.4.1: the index before the suppression check */
#endif
#if VQF_BUG == 31
    bool ev = true; /* "avail_event is always there" */
#else
    bool ev = t->event_idx;
#endif
    bool notify;
    if (ev)
#if VQF_BUG == 40
        notify = need_event(early_event, t->avail_idx, old, 0);
#else
        notify = need_event(rd16_twice(t, t->dev_area + 4 + 8ull * t->num), t->avail_idx, old, VQF_BUG == 23);
#endif
    else
        notify = !(rd16_twice(t, t->dev_area) & 1u);
    if (notify || t->mem_err)
        kick(t); /* an unreadable suppression field: kick rather than risk a lost one */
    return 0;
}

static int packed_publish(struct tinyrng *t, uint16_t id)
{
    uint64_t d = t->desc + 16ull * t->next_avail;
    uint16_t flags = (uint16_t)(DF_WRITE | (t->avail_wrap ? DF_AVAIL : DF_USED));
    t->mem_err = false;
#if VQF_BUG == 26
    wr16(t, d + 14, flags); /* "flags first, the rest follows at once" */
#endif
    wr64(t, d, t->bufs + (uint64_t)TINY_BUF * id);
    wr32(t, d + 8, t->req[id].len);
    wr16(t, d + 12, id);
#if VQF_BUG != 26
    if (t->mem_err)
        return -1;
#if VQF_BUG != 41
    t->h.barrier(t->h.ctx, 2); /* 2.8.21.1.1: the descriptor before its flags */
#endif
    wr16(t, d + 14, flags);
    if (t->mem_err)
        return -1;
#endif
    uint16_t old = t->next_avail;
    if (++t->next_avail == t->num) {
        t->next_avail = 0;
        t->avail_wrap = !t->avail_wrap;
    }
#if VQF_BUG != 42
    t->h.barrier(t->h.ctx, 0); /* 2.8.21.3.1: flags before the device event area */
#endif
    uint16_t ev_flags = rd16_twice(t, t->dev_area + 2) & 3u;
    bool notify = ev_flags == 0;
    if (ev_flags == 2 && t->event_idx) {
        uint16_t ow = rd16_twice(t, t->dev_area);
        uint16_t event = ow & 0x7fffu;
        if ((bool)(ow >> 15) != t->avail_wrap)
            event = (uint16_t)(event - t->num);
        uint16_t new_idx = t->next_avail;
        notify = need_event(event, new_idx, (uint16_t)(new_idx - 1), VQF_BUG == 24);
        (void)old;
    }
    if (notify || t->mem_err)
        kick(t); /* an unreadable event area: kick rather than risk a lost one */
    return 0;
}

int tinyrng_request(struct tinyrng *t, uint32_t bytes)
{
    if (!t->running)
        return -1;
    /* One slot stays free: a ring that is never completely full cannot look empty. */
    if (t->nfree <= 1)
        return 1;
    uint16_t id = t->free_ids[--t->nfree];
    t->req[id].len = bytes == 0 ? 64 : bytes > TINY_BUF ? TINY_BUF : bytes;
    t->req[id].busy = true;
    t->inflight++;
    if ((t->packed ? packed_publish(t, id) : split_publish(t, id)) != 0) {
        t->req[id].busy = false; /* not published: the id is ours again */
        t->free_ids[t->nfree++] = id;
        t->inflight--;
        return -1;
    }
    return 0;
}

/* ---- completions ---- */

/* A used entry (id, len): returns 0, or -1 if the device broke the ring. */
static int complete(struct tinyrng *t, uint32_t id, uint32_t len)
{
    uint8_t out[TINY_BUF];
#if VQF_BUG != 20
    if (!t->req[id].busy)
        return -1; /* 2.7.8: a used id names a buffer we gave and did not get back */
#endif
#if VQF_BUG != 19
    if (len == 0 || len > t->req[id].len)
        return -1; /* 5.4.6.2: 1 <= len <= the buffer */
#endif
    if (t->h.mem_read(t->h.ctx, t->bufs + (uint64_t)TINY_BUF * id, out, len) == 0)
        for (uint32_t i = 0; i < len; i++)
            t->pool = (t->pool ^ out[i]) * 0x100000001b3ull;
    t->req[id].busy = false;
    t->free_ids[t->nfree++] = (uint16_t)id;
    t->inflight--;
    return 0;
}

static int split_reclaim(struct tinyrng *t)
{
    struct {
        uint32_t id, len;
    } batch[TINY_QMAX];
    t->mem_err = false;
    uint16_t idx = rd16(t, t->dev_area + 2);
    if (t->mem_err)
        return -1; /* the used ring cannot be read: start over */
#if VQF_BUG != 38
    t->h.barrier(t->h.ctx, 1); /* 2.7.13: the index, then the entries */
#endif
#if VQF_BUG != 21
    if ((uint16_t)(idx - t->last_used) > t->num)
        return -1;
#endif
    unsigned n = 0;
    while (t->last_used != idx) {
        uint64_t e = t->dev_area + 4 + 8ull * (t->last_used % t->num);
        batch[n].id = rd32(t, e);
        batch[n].len = rd32(t, e + 4);
        n++;
        t->last_used++;
    }
    if (t->mem_err)
        return -1;
    for (unsigned i = 0; i < n; i++) {
#if VQF_BUG == 17
        if (batch[i].id >= 0x10000u)
            return -1; /* "heads are 16-bit" */
#else
        if (batch[i].id >= t->num)
            return -1; /* 2.7.8: the head of a chain we made available */
#endif
        if (complete(t, batch[i].id, batch[i].len) != 0)
            return -1;
    }
    if (t->event_idx) {
        /* 2.7.7.1 / 2.7.10: used_event = the next entry we have not seen: interrupt us then */
        wr16(t, t->drv_area + 4 + 2ull * t->num, t->last_used);
        t->h.barrier(t->h.ctx, 0);
        if (t->mem_err)
            return -1; /* a stale used_event may cost the next interrupt: start over */
    }
    return (int)n;
}

static int packed_reclaim(struct tinyrng *t)
{
    int n = 0;
    for (;;) {
        uint64_t d = t->desc + 16ull * t->used_pos;
        t->mem_err = false;
        uint16_t f = rd16(t, d + 14);
        if (t->mem_err)
            return -1; /* the ring cannot be read: start over */
#if VQF_BUG == 22
        if (((f & DF_AVAIL) != 0) != t->used_wrap) /* "AVAIL follows USED anyway" */
            break;
#else
        if (((f & DF_USED) != 0) != t->used_wrap || ((f & DF_AVAIL) != 0) != t->used_wrap)
            break; /* 2.8.1: used in this lap when both bits equal the used wrap counter */
#endif
        t->h.barrier(t->h.ctx, 1);
        uint16_t id = rd16(t, d + 12);
        uint32_t len = rd32(t, d + 8);
        if (t->mem_err)
            return -1;
#if VQF_BUG != 18
        if (id >= t->num)
            return -1; /* our ids are below the ring size */
#endif
        if (complete(t, id, len) != 0)
            return -1;
        if (++t->used_pos == t->num) {
            t->used_pos = 0;
            t->used_wrap = !t->used_wrap;
        }
        n++;
    }
    return n;
}

/* ---- lifecycle (3.1.1, 3.3) ---- */

static void device_reset(struct tinyrng *t)
{
    t->running = false;
    t->h.reg_write(t->h.ctx, REG_STATUS, 0);
#if VQF_BUG != 30
    /* 2.4.2: the reset is done once status reads 0 */
    for (int i = 0; i < 1000 && t->h.reg_read(t->h.ctx, REG_STATUS) != 0; i++)
        ;
#endif
}

int tinyrng_probe(struct tinyrng *t)
{
    device_reset(t);
    t->h.reg_write(t->h.ctx, REG_STATUS, ST_ACK); /* status is 0 after the reset */
    if (t->h.reg_read(t->h.ctx, REG_MAGIC) != 0x74726976u || t->h.reg_read(t->h.ctx, REG_VERSION) != 2 ||
        t->h.reg_read(t->h.ctx, REG_DEVICE_ID) != 4) {
        set_status(t, ST_FAILED);
        return -1;
    }
    set_status(t, ST_DRIVER);
    uint64_t offered = 0;
    for (uint32_t sel = 0; sel < 2; sel++) {
        t->h.reg_write(t->h.ctx, REG_DEV_FEAT_SEL, sel);
        offered |= (uint64_t)t->h.reg_read(t->h.ctx, REG_DEV_FEAT) << (32 * sel);
    }
#if VQF_BUG == 32
    t->features = t->want | FT_VERSION_1; /* "the device will say no if it minds" */
    (void)offered;
#else
    t->features = (t->want | FT_VERSION_1) & offered; /* 2.2.1: only offered bits */
#endif
    for (uint32_t sel = 0; sel < 2; sel++) {
        t->h.reg_write(t->h.ctx, REG_DRV_FEAT_SEL, sel);
        t->h.reg_write(t->h.ctx, REG_DRV_FEAT, (uint32_t)(t->features >> (32 * sel)));
    }
    set_status(t, ST_FEATURES_OK);
#if VQF_BUG != 27
    if (!(t->h.reg_read(t->h.ctx, REG_STATUS) & ST_FEATURES_OK)) {
        set_status(t, ST_FAILED); /* 3.1.1 step 6: the device refused our subset */
        return -1;
    }
#endif
    t->packed = (t->features & FT_PACKED) != 0;
    t->event_idx = (t->features & FT_EVENT_IDX) != 0;
    if (queue_setup(t) != 0) {
        set_status(t, ST_FAILED);
        return -1;
    }
#if VQF_BUG == 28
    t->running = true;
    tinyrng_request(t, 32); /* "seed the pool as early as possible" */
#endif
    set_status(t, ST_DRIVER_OK);
    t->running = true;
    return 0;
}

int tinyrng_reset(struct tinyrng *t) { return tinyrng_probe(t); }

int tinyrng_queue_reset(struct tinyrng *t)
{
    if (!t->running || !(t->features & FT_RING_RESET))
        return -1;
    t->h.reg_write(t->h.ctx, REG_QUEUE_SEL, 0);
    t->h.reg_write(t->h.ctx, REG_QUEUE_RESET, 1);
#if VQF_BUG != 33
    /* 4.2.3.4 / 2.6.1.1.2: the queue is reset once QueueReset reads 0 */
    for (int i = 0; i < 1000 && t->h.reg_read(t->h.ctx, REG_QUEUE_RESET) != 0; i++)
        ;
#endif
#if VQF_BUG == 29
    /* "the device forgot the ring; our positions stay valid" */
    for (uint16_t i = 0; i < t->num; i++)
        if (t->req[i].busy) {
            t->req[i].busy = false;
            t->free_ids[t->nfree++] = i;
            t->inflight--;
        }
#else
    ring_state_reset(t); /* 2.6.1.1: every position back to its initial value */
#endif
    if (queue_program(t) != 0)
        return tinyrng_probe(t); /* the rings could not be cleared: start over */
    return 0;
}

/* The device broke the ring or asked to be reset: start over (3.3.1, 2.1.2). */
static void recover(struct tinyrng *t)
{
    t->errors++;
    tinyrng_probe(t);
}

int tinyrng_interrupt(struct tinyrng *t)
{
    uint32_t isr = t->h.reg_read(t->h.ctx, REG_INT_STATUS);
    if (isr)
        t->h.reg_write(t->h.ctx, REG_INT_ACK, isr);
    if ((isr & 2u) && (t->h.reg_read(t->h.ctx, REG_STATUS) & ST_NEEDS_RESET)) {
        recover(t);
        return 0;
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

unsigned tinyrng_inflight(const struct tinyrng *t) { return t->inflight; }
unsigned tinyrng_errors(const struct tinyrng *t) { return t->errors; }

void tinyrng_remove(struct tinyrng *t)
{
    device_reset(t); /* 3.3: reset, then every buffer is ours again */
    if (t->req)
        ring_state_reset(t);
}

struct tinyrng *tinyrng_new(const struct tinyrng_host *host, uint64_t features, uint16_t queue_size)
{
    struct tinyrng *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->h = *host;
    t->want = TINY_KNOWN & (features ? features : ~0ull);
    t->want_qsize = queue_size;
    return t;
}

void tinyrng_free(struct tinyrng *t)
{
    if (!t)
        return;
    free(t->req);
    free(t->free_ids);
    free(t);
}
