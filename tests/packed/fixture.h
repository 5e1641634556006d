/* Test fixture for the packed ring tests: guest memory, one packed queue laid out in it, the
 * driver and device halves, raw descriptor access for a lying peer, and an observer that
 * records the order of logged accesses and barriers. */
#ifndef VQF_TESTS_PACKED_FIXTURE_H
#define VQF_TESTS_PACKED_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "emulator/mem.h"
#include "emulator/ring/packed.h"
#include "tests/check.h"

#define FX_MAX_SEGS 4096
#define FX_MAIN_BASE 0x10000ull /* first GPA of the main region (vqf_mem_default_layout) */
#define FX_HOLE 0x20000000ull   /* a GPA between regions */

struct fx {
    struct vqf_mem mem;
    struct vqf_galloc ga;
    struct vqf_dma ddma, vdma;
    struct vqf_ring_cfg cfg;
    struct vqf_packed_drv drv;
    struct vqf_packed_dev dev;
    uint64_t buf;       /* a data area of buf_len bytes */
    uint64_t buf_len;
    struct vqf_seg seg[FX_MAX_SEGS];
    struct vqf_chain c;
};

/* Memory with a main region of main_size bytes; the ring parts and an indirect pool of
 * 4 entries per id are carved from it, then a data area of buf_len bytes. Halves are not
 * initialised. */
static inline void fx_mem(struct fx *f, uint16_t size, uint64_t features, uint64_t main_size, uint64_t buf_len)
{
    memset(f, 0, sizeof(*f));
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, main_size);
    if (vqf_mem_init(&f->mem, &l) != 0)
        abort();
    vqf_galloc_init(&f->ga, FX_MAIN_BASE, main_size);
    f->ddma = vqf_mem_dma(&f->mem, VQF_SIDE_DRIVER);
    f->vdma = vqf_mem_dma(&f->mem, VQF_SIDE_DEVICE);
    f->cfg.format = VQF_RING_PACKED;
    f->cfg.size = size;
    f->cfg.features = features | VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_VERSION_1);
    f->cfg.desc = vqf_galloc_alloc(&f->ga, (uint64_t)size * 16u, 16);
    f->cfg.driver = vqf_galloc_alloc(&f->ga, 4, 4);
    f->cfg.device = vqf_galloc_alloc(&f->ga, 4, 4);
    f->cfg.ind_pool_len = (uint32_t)size * 64u;
    f->cfg.ind_pool = vqf_galloc_alloc(&f->ga, f->cfg.ind_pool_len, 16);
    f->buf_len = buf_len;
    f->buf = vqf_galloc_alloc(&f->ga, buf_len, 16);
    if (!f->cfg.desc || !f->cfg.driver || !f->cfg.device || !f->cfg.ind_pool || !f->buf)
        abort();
    f->c.seg = f->seg;
    f->c.seg_cap = FX_MAX_SEGS;
}

/* Memory plus both halves initialised. */
static inline void fx_init(struct fx *f, uint16_t size, uint64_t features)
{
    fx_mem(f, size, features, (uint64_t)4 << 20, 1u << 20);
    CHECK_EQ(vqf_packed_drv_init(&f->drv, &f->ddma, &f->cfg), 0);
    CHECK_EQ(vqf_packed_dev_init(&f->dev, &f->vdma, &f->cfg), 0);
}

static inline void fx_fini(struct fx *f)
{
    vqf_packed_drv_free(&f->drv);
    vqf_packed_dev_free(&f->dev);
    vqf_mem_destroy(&f->mem);
}

/* ---- a lying driver: raw descriptors (2.8.13) ---- */

/* Flags that make a descriptor available in lap `wrap` (2.8.1). */
static inline uint16_t fx_avail(bool wrap) { return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED; }
/* Flags of a used descriptor in lap `wrap` (2.8.1). */
static inline uint16_t fx_used(bool wrap) { return wrap ? (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0; }

static inline void fx_raw_body(struct fx *f, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id)
{
    uint64_t g = f->cfg.desc + (uint64_t)slot * 16u;
    CHECK_EQ(vqf_dma_write64(&f->ddma, g + VIRTQ_PDESC_ADDR, addr), 0);
    CHECK_EQ(vqf_dma_write32(&f->ddma, g + VIRTQ_PDESC_LEN, len), 0);
    CHECK_EQ(vqf_dma_write16(&f->ddma, g + VIRTQ_PDESC_ID, id), 0);
}

static inline void fx_raw_flags(struct fx *f, uint16_t slot, uint16_t flags)
{
    CHECK_EQ(vqf_dma_write16(&f->ddma, f->cfg.desc + (uint64_t)slot * 16u + VIRTQ_PDESC_FLAGS, flags), 0);
}

static inline void fx_raw(struct fx *f, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
    fx_raw_body(f, slot, addr, len, id);
    fx_raw_flags(f, slot, flags);
}

static inline uint16_t fx_flags(struct fx *f, uint16_t slot)
{
    uint16_t v = 0;
    CHECK_EQ(vqf_dma_read16(&f->ddma, f->cfg.desc + (uint64_t)slot * 16u + VIRTQ_PDESC_FLAGS, &v), 0);
    return v;
}

static inline uint16_t fx_id(struct fx *f, uint16_t slot)
{
    uint16_t v = 0;
    CHECK_EQ(vqf_dma_read16(&f->ddma, f->cfg.desc + (uint64_t)slot * 16u + VIRTQ_PDESC_ID, &v), 0);
    return v;
}

static inline uint32_t fx_len(struct fx *f, uint16_t slot)
{
    uint32_t v = 0;
    CHECK_EQ(vqf_dma_read32(&f->ddma, f->cfg.desc + (uint64_t)slot * 16u + VIRTQ_PDESC_LEN, &v), 0);
    return v;
}

/* An indirect table entry i at gpa t (2.8.7). */
static inline void fx_ind_entry(struct fx *f, uint64_t t, unsigned i, uint64_t addr, uint32_t len, uint16_t id,
                                uint16_t flags)
{
    uint64_t g = t + (uint64_t)i * 16u;
    CHECK_EQ(vqf_dma_write64(&f->ddma, g + VIRTQ_PDESC_ADDR, addr), 0);
    CHECK_EQ(vqf_dma_write32(&f->ddma, g + VIRTQ_PDESC_LEN, len), 0);
    CHECK_EQ(vqf_dma_write16(&f->ddma, g + VIRTQ_PDESC_ID, id), 0);
    CHECK_EQ(vqf_dma_write16(&f->ddma, g + VIRTQ_PDESC_FLAGS, flags), 0);
}

/* ---- event suppression areas (2.8.14) ---- */

static inline void fx_event_write(struct fx *f, uint64_t area, uint16_t desc, uint16_t flags)
{
    CHECK_EQ(vqf_dma_write16(&f->ddma, area + VIRTQ_PEVENT_DESC, desc), 0);
    CHECK_EQ(vqf_dma_write16(&f->ddma, area + VIRTQ_PEVENT_FLAGS, flags), 0);
}

static inline uint16_t fx_event_read(struct fx *f, uint64_t area, unsigned off)
{
    uint16_t v = 0;
    CHECK_EQ(vqf_dma_read16(&f->ddma, area + off, &v), 0);
    return v;
}

/* ---- recording observer ---- */

#define REC_MAX 4096
struct rec_item {
    unsigned what; /* 0 access, 1 barrier, 2 event */
    unsigned side, kind;
    uint64_t gpa, len;
    uint32_t a, b, c;
};
struct rec {
    struct rec_item it[REC_MAX];
    unsigned n;
};

static inline void rec_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    struct rec *r = ctx;
    if (r->n < REC_MAX)
        r->it[r->n++] = (struct rec_item){0, side, kind, gpa, len, 0, 0, 0};
}
static inline void rec_barrier(void *ctx, unsigned side, unsigned kind)
{
    struct rec *r = ctx;
    if (r->n < REC_MAX)
        r->it[r->n++] = (struct rec_item){1, side, kind, 0, 0, 0, 0, 0};
}
static inline void rec_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    struct rec *r = ctx;
    if (r->n < REC_MAX)
        r->it[r->n++] = (struct rec_item){2, side, ev, 0, 0, a, b, c};
}

/* Index of the first write access covering gpa at or after item `from`, or -1. */
static inline int rec_find_write(const struct rec *r, unsigned from, uint64_t gpa)
{
    for (unsigned i = from; i < r->n; i++)
        if (r->it[i].what == 0 && r->it[i].kind == VQF_ACC_WRITE && gpa >= r->it[i].gpa &&
            gpa < r->it[i].gpa + r->it[i].len)
            return (int)i;
    return -1;
}
/* Index of the last write access covering gpa, or -1. */
static inline int rec_last_write(const struct rec *r, uint64_t gpa)
{
    for (unsigned i = r->n; i-- > 0;)
        if (r->it[i].what == 0 && r->it[i].kind == VQF_ACC_WRITE && gpa >= r->it[i].gpa &&
            gpa < r->it[i].gpa + r->it[i].len)
            return (int)i;
    return -1;
}
/* Is there a barrier of `kind` (or a full one) strictly between items lo and hi? */
static inline bool rec_barrier_between(const struct rec *r, int lo, int hi, unsigned kind)
{
    for (int i = lo + 1; i < hi; i++)
        if (r->it[i].what == 1 && (r->it[i].kind == kind || r->it[i].kind == VQF_BARRIER_MB))
            return true;
    return false;
}
/* Count of events of type ev. */
static inline unsigned rec_count_event(const struct rec *r, unsigned ev)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n; i++)
        n += r->it[i].what == 2 && r->it[i].kind == ev;
    return n;
}

/* Deterministic PRNG (splitmix64), fixed seeds only. */
static inline uint64_t fx_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
