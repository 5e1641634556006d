/* Simulated guest memory: a few regions of guest-physical address space with unmapped holes
 * between them, poisoned guard zones around each region, dirty tracking so that a reset
 * between inputs costs O(bytes touched), an observer hook that sees every logged access,
 * and fault injection (the N-th checked access fails).
 *
 * Internal to the emulator and harness; adapters use vqfuzz/dma.h only. */
#ifndef VQF_MEM_H
#define VQF_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vqfuzz/dma.h"

/* The memory-visibility model (emulator/visibility.h); NULL in vqf_mem.vis means off. */
struct vqf_vis;
void vqf_vis_barrier(struct vqf_vis *v, unsigned side, unsigned kind);
void vqf_vis_notify(struct vqf_vis *v, unsigned side);

#define VQF_MEM_MAX_REGIONS 4
/* Dirty tracking granularity. 256 bytes keeps the per-input reset small for ring-sized
 * touches while the bitmap stays tiny (16 MiB -> 64 Ki chunks -> 8 KiB of bits). */
#define VQF_MEM_CHUNK_SHIFT 8
#define VQF_MEM_CHUNK ((uint64_t)1 << VQF_MEM_CHUNK_SHIFT)

/* Semantic ring events, for the flight recorder and the oracle. Emitted by the ring code,
 * the transport and the harness through vqf_mem_event(); a, b, c as documented. */
enum vqf_event {
    VQF_EV_NONE = 0,
    VQF_EV_DRV_ADD,        /* a=queue b=head (split) / buffer id (packed) c=descriptors */
    VQF_EV_DRV_PUBLISH,    /* a=queue b=split: new avail idx; packed: next slot | wrap<<15 */
    VQF_EV_DRV_KICK,       /* a=queue b=value written to QueueNotify */
    VQF_EV_DRV_RECLAIM,    /* a=queue b=id c=len */
    VQF_EV_DRV_ERROR,      /* a=queue b=VQF_ERR_* the driver half detected */
    VQF_EV_DEV_POP,        /* a=queue b=id c=descriptors */
    VQF_EV_DEV_PUSH,       /* a=queue b=id c=len */
    VQF_EV_DEV_PUBLISH,    /* a=queue b=split: used idx; packed: next used slot | wrap<<15 */
    VQF_EV_DEV_ERROR,      /* a=queue b=VQF_ERR_* the device half detected */
    VQF_EV_DEV_IRQ,        /* a=InterruptStatus bits raised */
    VQF_EV_MMIO_READ,      /* a=offset b=value c=size */
    VQF_EV_MMIO_WRITE,     /* a=offset b=value c=size */
    VQF_EV_DEV_STEP,       /* a=work done c=budget (harness) */
    VQF_EV_DRV_STEP,       /* a=work done (harness) */
    VQF_EV_OP,             /* a=op index b=op kind (harness) */
    VQF_EV_RESET,          /* a=0 device reset, 1 queue reset; b=queue */
    VQF_EV_COUNT
};

/* Sees every logged access and event. All callbacks may be NULL. */
struct vqf_observer {
    void (*access)(void *ctx, unsigned side, unsigned kind, uint64_t gpa, uint64_t len);
    void (*event)(void *ctx, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c);
    /* A side executed a memory barrier (the hook for the visibility model). */
    void (*barrier)(void *ctx, unsigned side, unsigned kind);
    void *ctx;
};

enum vqf_barrier_kind { VQF_BARRIER_MB = 0, VQF_BARRIER_RMB = 1, VQF_BARRIER_WMB = 2 };

struct vqf_mem_region {
    uint64_t gpa;        /* first guest-physical address */
    uint64_t size;       /* bytes; gpa + size - 1 never wraps */
    uint8_t *host;       /* backing, inside the arena, between guard zones */
    uint32_t chunk_base; /* index of this region's first dirty chunk */
};

struct vqf_mem_layout {
    unsigned nregions;
    struct {
        uint64_t gpa, size;
    } r[VQF_MEM_MAX_REGIONS];
};

struct vqf_mem {
    struct vqf_mem_region r[VQF_MEM_MAX_REGIONS];
    unsigned nregions;
    uint8_t *arena;
    size_t arena_len;
    size_t guard_len;
    /* dirty tracking */
    uint64_t *dirty_bits;
    uint32_t *dirty_list;
    uint32_t ndirty;
    uint32_t nchunks;
    /* observer (flight recorder / oracle); NULL costs one branch per logged access */
    const struct vqf_observer *obs;
    /* fault injection: when fail_at != 0, the fail_at-th checked access (counted from the
     * last reset) fails as if the address were unmapped. */
    uint64_t naccess;
    uint64_t fail_at;
    /* true when driver and device run on different threads: barriers become real fences. */
    bool threaded;
    /* memory-visibility model (emulator/visibility.h): NULL = every DMA store is visible at
     * once, as without it; set = DMA stores of the driver and the device are buffered */
    struct vqf_vis *vis;
};

/* The default layout used by the harness: a 1 MiB low region for rings and buffers, a small
 * high region behind a hole, and a region just below 2^64 for wrap-around attacks. */
void vqf_mem_default_layout(struct vqf_mem_layout *l, uint64_t main_size);
/* Maps the arena (one mmap with guard zones). Returns 0, or -1 on a bad layout / no memory. */
int vqf_mem_init(struct vqf_mem *m, const struct vqf_mem_layout *l);
void vqf_mem_destroy(struct vqf_mem *m);
/* Zero every byte written since the last reset (O(touched)), clear fault injection count. */
void vqf_mem_reset(struct vqf_mem *m);
/* A hash of the whole guest memory's contents: every chunk written since the last reset that
 * is not all zero now, with its index, in index order (so neither the order of the writes nor
 * a chunk written back to zeroes changes it). Two runs that leave the same bytes agree. */
uint64_t vqf_mem_digest(const struct vqf_mem *m);
/* Mark [gpa, gpa+len) dirty (must be mapped). */
void vqf_mem_mark_dirty(struct vqf_mem *m, uint64_t gpa, uint64_t len);
/* Which region holds gpa, or -1. */
int vqf_mem_region_of(const struct vqf_mem *m, uint64_t gpa);

static inline struct vqf_dma vqf_mem_dma(struct vqf_mem *m, unsigned side)
{
    struct vqf_dma d = {m, side};
    return d;
}

/* Host pointer for [gpa, gpa+len) if wholly inside one region, else NULL. No logging, no
 * dirty marking, no fault injection: for the harness and for callers that do their own. */
static inline uint8_t *vqf_mem_xlate(const struct vqf_mem *m, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < m->nregions; i++) {
        const struct vqf_mem_region *r = &m->r[i];
        uint64_t off = gpa - r->gpa;
        if (gpa >= r->gpa && off < r->size && len <= r->size - off)
            return r->host + off;
    }
    return NULL;
}

/* One checked access for fault injection: false means "fail this access". */
static inline bool vqf_mem_fault_ok(struct vqf_mem *m)
{
    if (__builtin_expect(m->fail_at != 0, 0))
        return ++m->naccess != m->fail_at;
    return true;
}

static inline void vqf_mem_note(const struct vqf_mem *m, unsigned side, unsigned kind, uint64_t gpa,
                                uint64_t len)
{
    if (__builtin_expect(m->obs != NULL, 0) && m->obs->access)
        m->obs->access(m->obs->ctx, side, kind, gpa, len);
}

static inline void vqf_mem_event(const struct vqf_mem *m, unsigned side, unsigned ev, uint32_t a,
                                 uint32_t b, uint32_t c)
{
    /* a used-buffer / configuration interrupt: the device's earlier stores are visible first */
    if (__builtin_expect(m->vis != NULL, 0) && ev == VQF_EV_DEV_IRQ)
        vqf_vis_notify(m->vis, side);
    if (__builtin_expect(m->obs != NULL, 0) && m->obs->event)
        m->obs->event(m->obs->ctx, side, ev, a, b, c);
}

/* Memory barriers of the ring code (spec 2.7.13.3.1, 2.7.13.4.1, 2.8.21.1.1 ...). In the
 * single-threaded executor only the compiler must not reorder; with threaded set, mb is a
 * full fence (rmb/wmb are acquire/release fences). With a visibility model installed, wmb
 * and mb make the side's pending stores visible. The observer sees every barrier. */
#if defined(__SANITIZE_THREAD__)
#define VQF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VQF_TSAN 1
#endif
#endif
#ifdef VQF_TSAN
/* ThreadSanitizer does not model stand-alone fences (it would report the ring contents a
 * fence orders as races): under it, every barrier of a threaded run is an acquire-release
 * read-modify-write of this one word, which orders at least as strongly (all barriers of
 * both sides fall into one total order) and is what ThreadSanitizer understands. */
extern unsigned long vqf_tsan_fence_word;
#endif

static inline void vqf_barrier(const struct vqf_dma *d, unsigned kind)
{
    const struct vqf_mem *m = d->mem;
    if (__builtin_expect(m->threaded, 0)) {
#ifdef VQF_TSAN
        __atomic_fetch_add(&vqf_tsan_fence_word, 1, __ATOMIC_SEQ_CST);
#else
        if (kind == VQF_BARRIER_MB)
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
        else if (kind == VQF_BARRIER_RMB)
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
        else
            __atomic_thread_fence(__ATOMIC_RELEASE);
#endif
    } else {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    /* the visibility model drains the side's store buffer before the observer hears of it */
    if (__builtin_expect(m->vis != NULL, 0))
        vqf_vis_barrier(m->vis, d->side, kind);
    if (__builtin_expect(m->obs != NULL, 0) && m->obs->barrier)
        m->obs->barrier(m->obs->ctx, d->side, kind);
}
#define vqf_mb(d) vqf_barrier((d), VQF_BARRIER_MB)
#define vqf_rmb(d) vqf_barrier((d), VQF_BARRIER_RMB)
#define vqf_wmb(d) vqf_barrier((d), VQF_BARRIER_WMB)

/* Guest allocator: a bump allocator over one guest range, reset per input. Returns a GPA, or
 * 0 when out of space (GPA 0 is never mapped in vqfuzz layouts). */
struct vqf_galloc {
    uint64_t base, end, cur;
};
void vqf_galloc_init(struct vqf_galloc *a, uint64_t base, uint64_t size);
uint64_t vqf_galloc_alloc(struct vqf_galloc *a, uint64_t size, uint64_t align);
static inline void vqf_galloc_reset(struct vqf_galloc *a) { a->cur = a->base; }

#endif
