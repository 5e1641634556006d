/* The flight recorder: a bounded ring of binary events (guest-memory accesses, ring events,
 * barriers, driver register accesses) and a running 64-bit hash over every event of the
 * input, not only the retained tail, so that two runs of the same input can be compared
 * (the determinism fingerprint). It runs on every observed access of the oracle, so
 * recording is inline and costs the stores of the fields the entry type uses plus one
 * multiply-xor step on the running hash: no allocation, no formatting; only
 * vqf_trace_print_tail() turns entries into text, for reports. */
#ifndef VQF_TRACE_H
#define VQF_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "emulator/mem.h"

/* Retained entries; a power of two so that the ring index is a mask. */
#define VQF_TRACE_CAP 4096u

enum vqf_trace_type {
    VQF_TR_ACCESS = 0, /* kind = enum vqf_access, gpa, len */
    VQF_TR_EVENT,      /* kind = enum vqf_event, a, b, c */
    VQF_TR_BARRIER,    /* kind = enum vqf_barrier_kind */
    VQF_TR_MMIO        /* kind = 0 read / 1 write, a = offset, b = value, c = size */
};

/* Only the fields of the entry's type are stored; the others keep whatever an older event
 * left in the slot. */
struct vqf_trace_entry {
    uint8_t type;  /* enum vqf_trace_type */
    uint8_t side;  /* enum vqf_side */
    uint16_t kind;
    uint32_t a, b, c; /* VQF_TR_EVENT, VQF_TR_MMIO */
    uint64_t gpa, len; /* VQF_TR_ACCESS */
};

struct vqf_trace {
    uint64_t count; /* events recorded since the last reset (the index of the next one) */
    uint64_t hash;  /* running hash (vqf_trace_fold); read it through vqf_trace_hash() */
    struct vqf_trace_entry e[VQF_TRACE_CAP];
    struct vqf_observer obs; /* standalone observer feeding this recorder */
};

void vqf_trace_reset(struct vqf_trace *t);

/* One step of the running hash per event: the event's words are combined (one multiply, off
 * the serial chain), then the chain from one event to the next is a rotate, a xor and one
 * multiply. A multiply only carries bits upwards; the rotate brings the high half back down at
 * the next event and vqf_trace_hash() finishes with a full avalanche, so a change in any bit
 * of any event changes the fingerprint. Entry fields an event type does not use are neither
 * hashed nor cleared (readers look at the type first). */
#define VQF_TRACE_K0 0x9e3779b97f4a7c15ull
#define VQF_TRACE_K1 0xbf58476d1ce4e5b9ull
#define VQF_TRACE_K2 0xff51afd7ed558ccdull

static inline void vqf_trace_fold(struct vqf_trace *t, uint64_t head, uint64_t w1, uint64_t w2)
{
    uint64_t v = w1 * VQF_TRACE_K1 + (w2 ^ (head << 44));
    uint64_t h = (t->hash << 27) | (t->hash >> 37);
    t->hash = (h ^ v) * VQF_TRACE_K2;
}

static inline struct vqf_trace_entry *vqf_trace_next(struct vqf_trace *t, unsigned type, unsigned side,
                                                     unsigned kind)
{
    struct vqf_trace_entry *e = &t->e[t->count & (VQF_TRACE_CAP - 1)];
    t->count++;
    e->type = (uint8_t)type;
    e->side = (uint8_t)side;
    e->kind = (uint16_t)kind;
    return e;
}

/* The header of an event: type (2 bits), side (2 bits) and kind (16 bits), each in its own
 * bits, 20 in all. */
static inline uint64_t vqf_trace_head(unsigned type, unsigned side, unsigned kind)
{
    return (type & 3u) | ((side & 3u) << 2) | ((uint64_t)(kind & 0xffffu) << 4);
}

static inline void vqf_trace_record_access(struct vqf_trace *t, unsigned side, unsigned kind, uint64_t gpa,
                                           uint64_t len)
{
    struct vqf_trace_entry *e = vqf_trace_next(t, VQF_TR_ACCESS, side, kind);
    e->gpa = gpa;
    e->len = len;
    vqf_trace_fold(t, vqf_trace_head(VQF_TR_ACCESS, side, kind), gpa, len);
}

static inline void vqf_trace_record_event(struct vqf_trace *t, unsigned side, unsigned ev, uint32_t a, uint32_t b,
                                          uint32_t c)
{
    struct vqf_trace_entry *e = vqf_trace_next(t, VQF_TR_EVENT, side, ev);
    e->a = a;
    e->b = b;
    e->c = c;
    vqf_trace_fold(t, vqf_trace_head(VQF_TR_EVENT, side, ev), ((uint64_t)a << 32) | b, c);
}

static inline void vqf_trace_record_barrier(struct vqf_trace *t, unsigned side, unsigned kind)
{
    vqf_trace_next(t, VQF_TR_BARRIER, side, kind);
    vqf_trace_fold(t, vqf_trace_head(VQF_TR_BARRIER, side, kind), 0, 0);
}

static inline void vqf_trace_record_mmio(struct vqf_trace *t, unsigned side, bool is_write, uint32_t off,
                                         unsigned size, uint32_t val)
{
    unsigned kind = is_write ? 1u : 0u;
    struct vqf_trace_entry *e = vqf_trace_next(t, VQF_TR_MMIO, side, kind);
    e->a = off;
    e->b = val;
    e->c = size;
    vqf_trace_fold(t, vqf_trace_head(VQF_TR_MMIO, side, kind), ((uint64_t)off << 32) | val, size);
}

/* The fingerprint of every event since the last reset: the running hash with a final
 * avalanche (and the event count, so that a trailing run of identical words still counts). */
static inline uint64_t vqf_trace_hash(const struct vqf_trace *t)
{
    uint64_t h = t->hash ^ (t->count * VQF_TRACE_K0);
    h ^= h >> 33;
    h *= VQF_TRACE_K2;
    h ^= h >> 29;
    h *= VQF_TRACE_K1;
    return h ^ (h >> 32);
}
static inline uint64_t vqf_trace_count(const struct vqf_trace *t) { return t->count; }
/* The i-th event (absolute index), or NULL if it is no longer retained. */
const struct vqf_trace_entry *vqf_trace_at(const struct vqf_trace *t, uint64_t i);
/* Print the last n retained events, one readable line each. */
void vqf_trace_print_tail(const struct vqf_trace *t, FILE *out, unsigned n);
/* An observer that records into t (for use without the oracle). */
const struct vqf_observer *vqf_trace_observer(struct vqf_trace *t);
const char *vqf_event_name(unsigned ev);

#endif
