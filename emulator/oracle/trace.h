/* The flight recorder: a bounded ring of binary events (guest-memory accesses, ring events,
 * barriers, driver register accesses) and a running 64-bit hash over every event of the
 * input, not only the retained tail, so that two runs of the same input can be compared
 * (the determinism fingerprint). Recording is a few stores and one multiply: no allocation,
 * no formatting; only vqf_trace_print_tail() turns entries into text, for reports. */
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

struct vqf_trace_entry {
    uint8_t type;  /* enum vqf_trace_type */
    uint8_t side;  /* enum vqf_side */
    uint16_t kind;
    uint32_t a, b, c;
    uint64_t gpa, len;
};

struct vqf_trace {
    uint64_t count; /* events recorded since the last reset (the index of the next one) */
    uint64_t hash;
    struct vqf_trace_entry e[VQF_TRACE_CAP];
    struct vqf_observer obs; /* standalone observer feeding this recorder */
};

void vqf_trace_reset(struct vqf_trace *t);
void vqf_trace_record_access(struct vqf_trace *t, unsigned side, unsigned kind, uint64_t gpa, uint64_t len);
void vqf_trace_record_event(struct vqf_trace *t, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c);
void vqf_trace_record_barrier(struct vqf_trace *t, unsigned side, unsigned kind);
void vqf_trace_record_mmio(struct vqf_trace *t, unsigned side, bool is_write, uint32_t off, unsigned size,
                           uint32_t val);
static inline uint64_t vqf_trace_hash(const struct vqf_trace *t) { return t->hash; }
static inline uint64_t vqf_trace_count(const struct vqf_trace *t) { return t->count; }
/* The i-th event (absolute index), or NULL if it is no longer retained. */
const struct vqf_trace_entry *vqf_trace_at(const struct vqf_trace *t, uint64_t i);
/* Print the last n retained events, one readable line each. */
void vqf_trace_print_tail(const struct vqf_trace *t, FILE *out, unsigned n);
/* An observer that records into t (for use without the oracle). */
const struct vqf_observer *vqf_trace_observer(struct vqf_trace *t);
const char *vqf_event_name(unsigned ev);

#endif
