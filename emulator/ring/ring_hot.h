/* Hot-path helpers of the ring module: shared by split.c and packed.c and by the inline fast
 * paths at the end of split.h and packed.h (which is why every name here carries a ring_ or
 * RING_ prefix: it is seen by every user of the ring headers). Nothing outside
 * emulator/ring should call these.
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
/* The public fast paths of split.h / packed.h and their vq.h dispatch: inlined into every
 * caller, so that a round trip pays no call and the queue's fields stay in registers. */
#define RING_INLINE __attribute__((always_inline)) static inline
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
#define RING_LIVE_LAYOUT_OK(type)                                                                        \
    _Static_assert(offsetof(type, ready) == offsetof(type, broken) + 1 &&                                \
                       offsetof(type, fast) == offsetof(type, broken) + 2 &&                             \
                       offsetof(type, gate_pad) == offsetof(type, broken) + 3,                           \
                   #type ": broken, ready, fast and gate_pad must be adjacent")

/* The gate of the inline fast paths: live (as RING_LIVE) and of the shape they handle (fast,
 * set at init). broken, ready, fast and gate_pad (0) are read as one 32-bit unit; none of
 * them changes outside init and errors, so the load never waits on a recent narrow store.
 * Bytes 0, 1, 1, 0 make the same word in either byte order. */
static inline bool ring_fast_gate(const bool *broken)
{
    uint32_t v;
    memcpy(&v, broken, 4);
    return v == 0x00010100u;
}

static inline bool ring_observed(const struct vqf_dma *d) { return __builtin_expect(d->mem->obs != NULL, 0); }

RING_HOT void ring_note(const struct vqf_dma *d, unsigned kind, uint64_t gpa, uint64_t len, const bool obs)
{
    if (obs)
        vqf_mem_note(d->mem, d->side, kind, gpa, len);
}

RING_HOT void ring_event(const struct vqf_dma *d, unsigned ev, uint32_t a, uint32_t b, uint32_t c, const bool obs)
{
    if (obs)
        vqf_mem_event(d->mem, d->side, ev, a, b, c);
}

/* vqf_barrier() without its observer call when none is installed: the fence itself stays. */
RING_HOT void ring_barrier(const struct vqf_dma *d, unsigned kind, const bool obs)
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
#define RING_LE16(v) __builtin_bswap16(v)
#define RING_LE32(v) __builtin_bswap32(v)
#define RING_LE64(v) __builtin_bswap64(v)
#else
#define RING_LE16(v) (v)
#define RING_LE32(v) (v)
#define RING_LE64(v) (v)
#endif
static inline uint16_t ring_rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return RING_LE16(v);
}
static inline uint32_t ring_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return RING_LE32(v);
}
static inline uint64_t ring_rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return RING_LE64(v);
}
static inline void ring_wr16(uint8_t *p, uint16_t v)
{
    v = RING_LE16(v);
    memcpy(p, &v, 2);
}
static inline void ring_wr32(uint8_t *p, uint32_t v)
{
    v = RING_LE32(v);
    memcpy(p, &v, 4);
}
static inline void ring_wr64(uint8_t *p, uint64_t v)
{
    v = RING_LE64(v);
    memcpy(p, &v, 8);
}

/* The fields the other side polls (split idx, flags and event fields; packed descriptor
 * flags and event suppression words) are accessed as one 16-bit unit, so that a threaded run
 * never sees a torn value. The part alignments of 2.7 and 2.8.10.1 make them 2-aligned in
 * guest memory; a custom layout could still map an odd host address, hence the fallback. */
static inline uint16_t ring_ld16(const uint8_t *p)
{
    if (((uintptr_t)p & 1u) == 0)
        return RING_LE16(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
    return ring_rd16(p);
}

static inline void ring_st16(uint8_t *p, uint16_t v)
{
    if (((uintptr_t)p & 1u) == 0) {
        __atomic_store_n((uint16_t *)(void *)p, (uint16_t)RING_LE16(v), __ATOMIC_RELAXED);
        return;
    }
    ring_wr16(p, v);
}

/* The same for a field known to be 2-aligned on the host: the inline fast paths run only on
 * queues whose ring parts are (ring_fast_gate). */
static inline uint16_t ring_ld16_aligned(const uint8_t *p)
{
    return RING_LE16(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
}

static inline void ring_st16_aligned(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)(void *)p, (uint16_t)RING_LE16(v), __ATOMIC_RELAXED);
}

/* Are all these host pointers 2-aligned? (an odd guest-memory region base can misalign a
 * ring part whose guest address is aligned) */
static inline bool ring_even(uintptr_t a, uintptr_t b, uintptr_t c) { return ((a | b | c) & 1u) == 0; }

/* Deliver a chain of one segment (the fast paths): the same fields as the general walks
 * fill, written as three wide stores on a little-endian host instead of eleven narrow
 * ones. Each later read of a field is contained in one of these stores, so it is
 * forwarded. */
_Static_assert(offsetof(struct vqf_chain, ndesc) == 2 && offsetof(struct vqf_chain, slot) == 4 &&
                   offsetof(struct vqf_chain, nseg) == 6 && offsetof(struct vqf_chain, nout) == 8 &&
                   offsetof(struct vqf_chain, nin) == 10 && offsetof(struct vqf_chain, out_len) == 12 &&
                   offsetof(struct vqf_chain, in_len) == 16,
               "struct vqf_chain layout assumed by ring_chain_one");
static inline void ring_chain_one(struct vqf_chain *c, uint16_t id, uint16_t slot, uint64_t addr, uint32_t len, bool w)
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
static inline bool ring_buf_in_region(const struct vqf_mem_region *r, uint64_t gpa, uint64_t len)
{
    uint64_t off = gpa - r->gpa;
    return off < r->size && len <= r->size - off;
}

__attribute__((noinline, unused)) static bool ring_buf_mapped_slow(const struct vqf_mem *m, uint8_t *hint, uint64_t gpa,
                                                             uint64_t len)
{
    for (unsigned i = 0; i < m->nregions; i++)
        if (ring_buf_in_region(&m->r[i], gpa, len)) {
            *hint = (uint8_t)i;
            return true;
        }
    return false;
}

static inline bool ring_buf_mapped(const struct vqf_mem *m, uint8_t *hint, uint64_t gpa, uint64_t len)
{
    unsigned i = *hint;
    if (__builtin_expect(i < m->nregions && ring_buf_in_region(&m->r[i], gpa, len), 1))
        return true;
    return ring_buf_mapped_slow(m, hint, gpa, len);
}

#endif
