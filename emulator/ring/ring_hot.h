/* Hot-path helpers shared by split.c and packed.c (private to the ring module).
 *
 * Hot functions are compiled twice from one body: with obs = false (no observer installed:
 * the hooks vanish and the only cost is the one branch that picked the body) and with
 * obs = true (each hook checks and calls the observer). Cold paths always pass true.
 *
 * Ring fields are read and written through host pointers translated once at init, with
 * loads and stores of their own width: on a little-endian host a field is one move, on a
 * big-endian host one move plus a byte swap (compile-time switch). The byte-wise accessors
 * of dma.h are correct too, but a wide load of a field written by narrow stores cannot be
 * store-forwarded, and driver and device run back to back on one CPU here. */
#ifndef VQF_RING_HOT_H
#define VQF_RING_HOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "emulator/mem.h"
#include "emulator/ring/ring.h"


#define RING_HOT __attribute__((always_inline)) static inline
/* The observed copy lives out of line so that the plain one keeps a small frame. */
#define RING_COLD __attribute__((noinline)) static

/* Initialised and not broken: checked by every public entry before anything else, so that
 * a zeroed (never initialised) queue answers NOT_READY without touching its memory. The
 * two flags are adjacent bytes (broken, then ready: each ring file checks this at compile
 * time) and are read as one 16-bit unit; they change only at init and on errors, so the
 * wide load does not wait on a recent narrow store. */
static inline bool ring_live(const bool *broken)
{
    uint16_t v;
    memcpy(&v, broken, 2);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return v == 0x0001u; /* broken = 0, ready = 1 */
#else
    return v == 0x0100u;
#endif
}
#define RING_LIVE(q) __builtin_expect(ring_live(&(q)->broken), 1)
#define RING_LIVE_LAYOUT_OK(type) _Static_assert(offsetof(type, ready) == offsetof(type, broken) + 1, \
                                                 #type ": ready must follow broken")

static inline bool observed(const struct vqf_dma *d) { return __builtin_expect(d->mem->obs != NULL, 0); }

RING_HOT void note(const struct vqf_dma *d, unsigned kind, uint64_t gpa, uint64_t len, const bool obs)
{
    if (obs)
        vqf_mem_note(d->mem, d->side, kind, gpa, len);
}

RING_HOT void event(const struct vqf_dma *d, unsigned ev, uint32_t a, uint32_t b, uint32_t c, const bool obs)
{
    if (obs)
        vqf_mem_event(d->mem, d->side, ev, a, b, c);
}

/* vqf_barrier() without its observer call when none is installed: the fence itself stays. */
RING_HOT void barrier(const struct vqf_dma *d, unsigned kind, const bool obs)
{
    if (obs) {
        vqf_barrier(d, kind);
    } else if (__builtin_expect(d->mem->threaded, 0)) {
        if (kind == VQF_BARRIER_MB)
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        else if (kind == VQF_BARRIER_RMB)
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
        else
            __atomic_thread_fence(__ATOMIC_RELEASE);
    } else {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
}

/* Virtio ring fields are little-endian (spec 2.7.1, 2.8.13). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE16(v) __builtin_bswap16(v)
#define LE32(v) __builtin_bswap32(v)
#define LE64(v) __builtin_bswap64(v)
#else
#define LE16(v) (v)
#define LE32(v) (v)
#define LE64(v) (v)
#endif
static inline uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return LE16(v);
}
static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return LE32(v);
}
static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return LE64(v);
}
static inline void wr16(uint8_t *p, uint16_t v)
{
    v = LE16(v);
    memcpy(p, &v, 2);
}
static inline void wr32(uint8_t *p, uint32_t v)
{
    v = LE32(v);
    memcpy(p, &v, 4);
}
static inline void wr64(uint8_t *p, uint64_t v)
{
    v = LE64(v);
    memcpy(p, &v, 8);
}

/* The fields the other side polls (split idx, flags and event fields; packed descriptor
 * flags and event suppression words) are accessed as one 16-bit unit, so that a threaded run
 * never sees a torn value. The part alignments of 2.7 and 2.8.10.1 make them 2-aligned in
 * guest memory; a custom layout could still map an odd host address, hence the fallback. */
static inline uint16_t ld16(const uint8_t *p)
{
    if (((uintptr_t)p & 1u) == 0)
        return LE16(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
    return rd16(p);
}

static inline void st16(uint8_t *p, uint16_t v)
{
    if (((uintptr_t)p & 1u) == 0) {
        __atomic_store_n((uint16_t *)(void *)p, (uint16_t)LE16(v), __ATOMIC_RELAXED);
        return;
    }
    wr16(p, v);
}

/* Deliver a chain of one segment (the fast paths): the same fields as the general walks
 * fill, written as three wide stores on a little-endian host instead of eleven narrow
 * ones. Each later read of a field is contained in one of these stores, so it is
 * forwarded. */
_Static_assert(offsetof(struct vqf_chain, ndesc) == 2 && offsetof(struct vqf_chain, slot) == 4 &&
                   offsetof(struct vqf_chain, nseg) == 6 && offsetof(struct vqf_chain, nout) == 8 &&
                   offsetof(struct vqf_chain, nin) == 10 && offsetof(struct vqf_chain, out_len) == 12 &&
                   offsetof(struct vqf_chain, in_len) == 16,
               "struct vqf_chain layout assumed by chain_one");
static inline void chain_one(struct vqf_chain *c, uint16_t id, uint16_t slot, uint64_t addr, uint32_t len, bool w)
{
    struct vqf_seg *sg = &c->seg[0];
    sg->addr = addr;
    sg->len = len;
    sg->write = w;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    c->id = id;
    c->ndesc = 1;
    c->slot = slot;
    c->nseg = 1;
    c->nout = !w;
    c->nin = w;
    c->out_len = w ? 0 : len;
    c->in_len = w ? len : 0;
#else
    uint64_t hdr = (uint64_t)id | (1ull << 16) | ((uint64_t)slot << 32) | (1ull << 48); /* id ndesc slot nseg */
    uint32_t dir = w ? 0x00010000u : 0x00000001u;                                       /* nout nin */
    uint64_t lens = w ? (uint64_t)len << 32 : len;                                      /* out_len in_len */
    memcpy(&c->id, &hdr, 8);
    memcpy(&c->nout, &dir, 4);
    memcpy(&c->out_len, &lens, 8);
#endif
}

/* Is [gpa, gpa+len) wholly inside one guest-memory region (RSVD-05)? The same answer as
 * vqf_mem_xlate() != NULL, trying first the region that held the previous buffer (*hint):
 * buffers of one queue nearly always live in one region. off < size alone implies
 * gpa >= region start, because a region never wraps past 2^64. */
static inline bool buf_in_region(const struct vqf_mem_region *r, uint64_t gpa, uint64_t len)
{
    uint64_t off = gpa - r->gpa;
    return off < r->size && len <= r->size - off;
}

__attribute__((noinline, unused)) static bool buf_mapped_slow(const struct vqf_mem *m, uint8_t *hint, uint64_t gpa,
                                                             uint64_t len)
{
    for (unsigned i = 0; i < m->nregions; i++)
        if (buf_in_region(&m->r[i], gpa, len)) {
            *hint = (uint8_t)i;
            return true;
        }
    return false;
}

static inline bool buf_mapped(const struct vqf_mem *m, uint8_t *hint, uint64_t gpa, uint64_t len)
{
    unsigned i = *hint;
    if (__builtin_expect(i < m->nregions && buf_in_region(&m->r[i], gpa, len), 1))
        return true;
    return buf_mapped_slow(m, hint, gpa, len);
}

#endif
