/* Test fixture for the split ring (spec 2.7): guest memory, one queue laid out in it, both
 * halves, and the raw accessors a lying peer uses to write ring memory behind the back of
 * the half under test. */
#ifndef VQF_TESTS_SPLIT_FX_H
#define VQF_TESTS_SPLIT_FX_H

#include <string.h>

#include "emulator/ring/split.h"
#include "tests/check.h"

#define FX_MEM_SIZE (8u << 20)
#define FX_RING_BASE 0x10000ull    /* start of the main region */
#define FX_BUF_BASE 0x500000ull    /* buffers live above the rings */
#define FX_MAX_SEGS 64

struct fx {
    struct vqf_mem mem;
    struct vqf_dma drv_dma, dev_dma, raw;
    struct vqf_ring_cfg cfg;
    struct vqf_split_drv drv;
    struct vqf_split_dev dev;
    struct vqf_seg seg[FX_MAX_SEGS];
    struct vqf_chain chain;
};

static inline uint64_t fx_align(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Lay out desc / avail / used / indirect pool (4 entries per head) for size entries. */
static inline void fx_layout(struct fx *f, uint16_t size, uint64_t features)
{
    memset(&f->cfg, 0, sizeof(f->cfg));
    f->cfg.format = VQF_RING_SPLIT;
    f->cfg.size = size;
    f->cfg.index = 3;
    f->cfg.features = features;
    f->cfg.desc = FX_RING_BASE;
    f->cfg.driver = f->cfg.desc + VIRTQ_DESC_TABLE_BYTES(size);
    f->cfg.device = fx_align(f->cfg.driver + VIRTQ_AVAIL_BYTES(size), 4);
    f->cfg.ind_pool = fx_align(f->cfg.device + VIRTQ_USED_BYTES(size), 16);
    f->cfg.ind_pool_len = (uint32_t)size * 4u * 16u;
}

/* Memory and layout only; the halves are initialised by the caller or fx_init. */
static inline void fx_mem(struct fx *f, uint16_t size, uint64_t features)
{
    memset(f, 0, sizeof(*f));
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, FX_MEM_SIZE);
    CHECK(vqf_mem_init(&f->mem, &l) == 0);
    f->drv_dma = vqf_mem_dma(&f->mem, VQF_SIDE_DRIVER);
    f->dev_dma = vqf_mem_dma(&f->mem, VQF_SIDE_DEVICE);
    f->raw = vqf_mem_dma(&f->mem, VQF_SIDE_HARNESS);
    fx_layout(f, size, features);
    f->chain.seg = f->seg;
    f->chain.seg_cap = FX_MAX_SEGS;
}

static inline void fx_init(struct fx *f, uint16_t size, uint64_t features)
{
    fx_mem(f, size, features);
    CHECK_EQ(vqf_split_drv_init(&f->drv, &f->drv_dma, &f->cfg), 0);
    CHECK_EQ(vqf_split_dev_init(&f->dev, &f->dev_dma, &f->cfg), 0);
}

static inline void fx_fini(struct fx *f)
{
    vqf_split_drv_free(&f->drv);
    vqf_mem_destroy(&f->mem);
}

/* ---- a lying driver: raw writes into the descriptor table and the avail ring ---- */

static inline void fx_put_desc_at(struct fx *f, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
                                  uint16_t flags, uint16_t next)
{
    uint8_t d[16];
    vqf_put_le64(d, addr);
    vqf_put_le32(d + 8, len);
    vqf_put_le16(d + 12, flags);
    vqf_put_le16(d + 14, next);
    CHECK(vqf_dma_write(&f->raw, table + 16u * i, d, 16) == 0);
}

static inline void fx_put_desc(struct fx *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    fx_put_desc_at(f, f->cfg.desc, i, addr, len, flags, next);
}

/* Append head to the avail ring at position idx and publish idx + 1. */
static inline void fx_avail(struct fx *f, uint16_t idx, uint16_t head)
{
    CHECK(vqf_dma_write16(&f->raw, f->cfg.driver + VIRTQ_AVAIL_RING(idx & (f->cfg.size - 1)), head) == 0);
    CHECK(vqf_dma_write16(&f->raw, f->cfg.driver + VIRTQ_AVAIL_IDX, (uint16_t)(idx + 1)) == 0);
}

static inline void fx_set_avail_idx(struct fx *f, uint16_t idx)
{
    CHECK(vqf_dma_write16(&f->raw, f->cfg.driver + VIRTQ_AVAIL_IDX, idx) == 0);
}

/* ---- a lying device: raw writes into the used ring ---- */

static inline void fx_used(struct fx *f, uint16_t pos, uint32_t id, uint32_t len)
{
    uint64_t off = f->cfg.device + VIRTQ_USED_RING(pos & (f->cfg.size - 1));
    CHECK(vqf_dma_write32(&f->raw, off, id) == 0);
    CHECK(vqf_dma_write32(&f->raw, off + 4, len) == 0);
}

static inline void fx_set_used_idx(struct fx *f, uint16_t idx)
{
    CHECK(vqf_dma_write16(&f->raw, f->cfg.device + VIRTQ_USED_IDX, idx) == 0);
}

static inline uint16_t fx_read16(struct fx *f, uint64_t gpa)
{
    uint16_t v = 0xdead;
    CHECK(vqf_dma_read16(&f->raw, gpa, &v) == 0);
    return v;
}

/* A chain of nout readable then nin writable 64-byte buffers, buffer k at FX_BUF_BASE + 64k. */
static inline int fx_add(struct fx *f, unsigned nout, unsigned nin, uint32_t token, unsigned flags)
{
    struct vqf_seg sg[FX_MAX_SEGS];
    for (unsigned k = 0; k < nout + nin && k < FX_MAX_SEGS; k++) {
        sg[k].addr = FX_BUF_BASE + 64u * k;
        sg[k].len = 64;
        sg[k].write = k >= nout;
    }
    return vqf_split_drv_add(&f->drv, sg, nout, nin, token, flags);
}

/* An observer that records accesses, barriers and events in order. */
struct rec {
    unsigned n;
    struct {
        unsigned what; /* 0 access, 1 barrier, 2 event */
        unsigned side, kind;
        uint64_t gpa, len;
        uint32_t a, b, c;
    } e[256];
};
static inline void rec_access(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len)
{
    struct rec *r = ctx;
    if (r->n < 256) {
        r->e[r->n].what = 0;
        r->e[r->n].side = side;
        r->e[r->n].kind = kind;
        r->e[r->n].gpa = gpa;
        r->e[r->n++].len = len;
    }
}
static inline void rec_barrier(void *ctx, unsigned side, unsigned kind)
{
    struct rec *r = ctx;
    if (r->n < 256) {
        r->e[r->n].what = 1;
        r->e[r->n].side = side;
        r->e[r->n++].kind = kind;
    }
}
static inline void rec_event(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c)
{
    struct rec *r = ctx;
    if (r->n < 256) {
        r->e[r->n].what = 2;
        r->e[r->n].side = side;
        r->e[r->n].kind = ev;
        r->e[r->n].a = a;
        r->e[r->n].b = b;
        r->e[r->n++].c = c;
    }
}
static inline int rec_find(const struct rec *r, unsigned what, unsigned kind, uint64_t gpa)
{
    for (unsigned i = 0; i < r->n; i++)
        if (r->e[i].what == what && r->e[i].kind == kind && (what != 0 || r->e[i].gpa == gpa))
            return (int)i;
    return -1;
}

#endif
