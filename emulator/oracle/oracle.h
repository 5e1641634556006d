/* The spec oracle: an observer with shadow state that watches everything crossing the
 * boundary between driver and device and turns each violation of a normative requirement
 * into a finding tagged with its clause ID (../shared/spec/clauses.md).
 *
 * It judges only the side(s) under test. It keeps its own model of the rings (decoded from
 * guest memory, never from the ring code's state), ownership of heads / buffer ids, device-
 * writable bytes, wrap counters, event indexes, status and negotiated features.
 *
 * Wiring (done by the harness executor):
 *   - vqf_oracle_observer(o) is installed as the guest memory observer (accesses, ring
 *     events, barriers) - usually behind the flight recorder;
 *   - every register access of the driver side goes through vqf_oracle_mmio();
 *   - vqf_oracle_device_step() brackets each device poll (snapshot checks for devices that
 *     write through raw pointers);
 *   - vqf_oracle_idle() when both sides have gone idle (obligations like "a notification
 *     follows before the side goes idle" are checked here, not per entry). */
#ifndef VQF_ORACLE_H
#define VQF_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/mem.h"
#include "emulator/oracle/clauses.h"

#define VQF_ORACLE_MAX_FINDINGS 8

struct vqf_finding {
    enum vqf_clause_id clause;
    unsigned side;          /* enum vqf_side that broke it */
    uint64_t value[4];      /* offending values, meaning per clause (see detail) */
    uint64_t event_index;   /* flight-recorder index of the event that revealed it */
    char detail[192];       /* one line: what was seen, with values */
};

struct vqf_oracle_setup {
    unsigned judged_sides;  /* bit (1 << VQF_SIDE_DRIVER) and/or (1 << VQF_SIDE_DEVICE) */
    uint32_t device_id;
    struct vqf_mem *mem;
};

struct vqf_oracle;

struct vqf_oracle *vqf_oracle_new(void);
void vqf_oracle_free(struct vqf_oracle *o);
/* Start a new input: forget all shadow state. */
void vqf_oracle_begin(struct vqf_oracle *o, const struct vqf_oracle_setup *setup);
/* The observer to install on guest memory (forwarding to the oracle). */
const struct vqf_observer *vqf_oracle_observer(struct vqf_oracle *o);
/* A driver-side register access and the value read or written. */
void vqf_oracle_mmio(struct vqf_oracle *o, bool is_write, uint32_t off, unsigned size, uint32_t val);
/* Bracket a device step: begin = true before the device runs, false after. */
void vqf_oracle_device_step(struct vqf_oracle *o, bool begin);
/* Both sides are idle. */
void vqf_oracle_idle(struct vqf_oracle *o);
/* Findings so far (the first is the one reported). */
unsigned vqf_oracle_nfindings(const struct vqf_oracle *o);
const struct vqf_finding *vqf_oracle_finding(const struct vqf_oracle *o, unsigned i);
/* Turn checks on/off per clause (all implemented ones on by default). */
void vqf_oracle_enable(struct vqf_oracle *o, enum vqf_clause_id id, bool on);

/* Added: the oracle's flight recorder (struct vqf_trace, emulator/oracle/trace.h). The
 * oracle's observer records every access, event and barrier into it, and every
 * vqf_oracle_mmio() call, so one observer installed on guest memory feeds both. */
struct vqf_trace;
struct vqf_trace *vqf_oracle_trace(struct vqf_oracle *o);

/* The fuzzer's own side (liar_side) just did something the oracle does not model: raw ring
 * memory, forged completions, or (registers = true) raw register writes. Its own rule breaks are
 * the attack, not findings; and the shadow state they leave behind cannot be trusted to judge the
 * other side. So every queue stops being judged on ring-derived state until it is set up again,
 * and with registers the device's register answers are not judged until the next reset. */
void vqf_oracle_taint(struct vqf_oracle *o, unsigned liar_side, bool registers);

#endif
