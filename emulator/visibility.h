/* Memory-visibility model of the deterministic executor: weak ordering between the two sides,
 * replayed exactly.
 *
 * On real hardware a driver and a device run on different CPUs. A store of one side sits in
 * that CPU's store buffer for a while and the other side does not see it yet; stores that no
 * barrier separates become visible in any order; loads that no read barrier separates may be
 * satisfied early, with older values. The virtio barriers exist for exactly this (spec
 * 2.7.7.2, 2.7.8.2, 2.7.13.3.1, 2.7.13.4.1, 2.8.21.1.1, 2.8.21.3.1). This module makes it
 * visible in one thread:
 *
 *   - every store a side makes through the DMA API (vqf_dma_write*) enters that side's
 *     bounded store buffer instead of memory. The side itself reads its pending stores
 *     (store forwarding); the other side, the oracle and raw pointers see memory without
 *     them. The observer hears of a store when it becomes visible, not when it is made.
 *   - pending stores become visible at the side's write or full barrier (vqf_wmb / vqf_mb),
 *     at its notification (the device's interrupt, the driver's MMIO write: writel orders
 *     earlier stores), when the buffer is full (oldest first), when the program says so
 *     (op `vis`, harness/exec_vis.c), and when the program ends.
 *   - a drain makes the pending stores visible in program order, or, with an order seed, in
 *     a pseudo-random order (seeds equal to 3 mod 4: newest first) that keeps only the order
 *     of stores to overlapping bytes (coherence): stores that no barrier separates are
 *     reordered.
 *   - optional stale reads (load-load reordering): for the memory ranges a side watches (the
 *     rings the other side writes), the first load after the side's last read or full
 *     barrier that finds changed bytes sees them; later loads before the next rmb / mb see
 *     the bytes as they were at that barrier. A side that reads an index and then the
 *     entries without vqf_rmb between gets entries older than the index it read.
 *
 * With no model installed (vqf_mem.vis == NULL, the default) nothing here runs: the DMA
 * accessors and barriers cost one predictable branch each. Everything is deterministic: the
 * same program, the same drains, the same order. */
#ifndef VQF_VISIBILITY_H
#define VQF_VISIBILITY_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/mem.h"

#define VQF_VIS_MAX_STORES 64u   /* pending stores per side (a real store buffer holds ~50) */
#define VQF_VIS_DATA 4096u       /* bytes of pending store data per side */
#define VQF_VIS_MAX_WATCH 4u     /* ranges per side whose loads may be served stale */
#define VQF_VIS_WATCH_BYTES 8192u

struct vqf_vis_store {
    uint64_t gpa;
    uint32_t len;
    uint32_t off; /* into vqf_vis_side.data */
};

struct vqf_vis_watch {
    uint64_t gpa;
    uint32_t len;
    uint32_t off; /* into vqf_vis_side.snap */
};

struct vqf_vis_side {
    struct vqf_vis_store st[VQF_VIS_MAX_STORES];
    unsigned n;
    uint32_t used;          /* bytes of data in use */
    uint64_t order_seed;    /* 0: drains keep program order */
    uint64_t rng;           /* drain order generator, seeded from order_seed */
    bool stale;             /* loads of watched ranges may be served stale */
    bool fresh_taken;       /* a load since the last rmb / mb already saw changed bytes */
    unsigned nwatch;
    uint32_t snap_used;
    struct vqf_vis_watch w[VQF_VIS_MAX_WATCH];
    uint8_t data[VQF_VIS_DATA];
    uint8_t snap[VQF_VIS_WATCH_BYTES]; /* watched bytes as of the last rmb / mb (or as read since) */
};

struct vqf_vis_stats {
    uint64_t stores;        /* stores that went through a buffer */
    uint64_t drains;        /* drains that made at least one store visible */
    uint64_t reordered;     /* stores made visible ahead of an earlier store */
    uint64_t stale_loads;   /* loads served at least one stale byte */
};

struct vqf_vis {
    struct vqf_mem *mem;
    struct vqf_vis_side s[2]; /* VQF_SIDE_DRIVER, VQF_SIDE_DEVICE */
    struct vqf_vis_stats stats;
    /* The load being served right now, if it got stale bytes: the oracle asks while the
     * observer sees the load (vqf_vis_load_stale). */
    bool cur_stale;
    unsigned cur_side;
    uint64_t cur_gpa, cur_len;
};

/* Install a model on m (the model must outlive its installation), or remove it (vis NULL).
 * Installing resets it: empty buffers, program order, no stale loads, nothing watched. */
void vqf_vis_install(struct vqf_mem *m, struct vqf_vis *vis);

/* Drain policy of a side from now on: order_seed 0 = program order, else a reordering that
 * this seed fixes. stale: its loads of watched ranges may be served stale. */
void vqf_vis_policy(struct vqf_vis *v, unsigned side, uint64_t order_seed, bool stale);
/* Loads of side over [gpa, gpa+len) may be served stale (its view of the other side's
 * ring). Returns -1 when the watch table is full or the range is not mapped. */
int vqf_vis_watch(struct vqf_vis *v, unsigned side, uint64_t gpa, uint32_t len);
void vqf_vis_unwatch_all(struct vqf_vis *v, unsigned side);

/* Make up to max pending stores of side visible (0 = all), in the side's drain order.
 * Returns the number made visible. */
unsigned vqf_vis_drain(struct vqf_vis *v, unsigned side, unsigned max);
/* Pending stores of side. */
static inline unsigned vqf_vis_pending(const struct vqf_vis *v, unsigned side)
{
    return side < 2 ? v->s[side].n : 0;
}
/* Does side have a pending store overlapping [gpa, gpa+len)? (the oracle: a decision read
 * made while the side's own publication is not yet visible) */
bool vqf_vis_pending_overlaps(const struct vqf_vis *v, unsigned side, uint64_t gpa, uint64_t len);
/* Was the load the observer is seeing now served stale bytes? */
static inline bool vqf_vis_load_stale(const struct vqf_vis *v, unsigned side, uint64_t gpa, uint64_t len)
{
    return v->cur_stale && v->cur_side == side && v->cur_gpa == gpa && v->cur_len == len;
}

/* ---- the DMA path (emulator/mem.c) ---- */

/* A store of side: buffered. p is the host address of [gpa, gpa+len), already bounds
 * checked. Returns true when buffered, false when the caller must store it directly (the
 * harness side, or a store larger than a buffer). */
bool vqf_vis_store(struct vqf_vis *v, unsigned side, uint64_t gpa, const void *buf, uint64_t len);
/* A load of side: buf already holds the visible memory [gpa, gpa+len); apply stale bytes
 * (other side's recent stores the load may not see) and forward the side's own pending
 * stores. Call before the observer sees the load. */
void vqf_vis_load(struct vqf_vis *v, unsigned side, uint64_t gpa, void *buf, uint64_t len);
/* The side executed a barrier (emulator/mem.h vqf_barrier). */
void vqf_vis_barrier(struct vqf_vis *v, unsigned side, unsigned kind);
/* The side notified the other (interrupt, MMIO write): its stores become visible first. */
void vqf_vis_notify(struct vqf_vis *v, unsigned side);

#endif
