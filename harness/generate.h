/* Random well-formed programs for the engine-less stress mode (`vqfuzz stress`, DESIGN.md
 * "The input: a program"): mostly valid traffic for the target's role so that every program
 * reaches deep ring states, a few lifecycle ops, and the violation knobs rarely. */
#ifndef VQF_GENERATE_H
#define VQF_GENERATE_H

#include <stdint.h>

#include "harness/program.h"

/* Fill p with a canonical program whose ops all belong to roles (VQF_ROLE_*; 0 = any) and
 * whose workload suits device_id (VIRTIO_ID_*; other IDs get a generic workload).
 * Deterministic for a given seed. */
void vqf_prog_generate(struct vqf_program *p, uint64_t seed, unsigned roles, uint32_t device_id);
/* The same, using only op kinds whose bit is set in op_mask (the target's op mask,
 * vqf_target_op_mask()). When the mask leaves out the chain-building ops of the driver role
 * (the mmio target), the driver traffic is register-level: the initialisation sequence of
 * spec 3.1.1 over the registers of 4.2.2, notifications, config and interrupt accesses. */
void vqf_prog_generate_masked(struct vqf_program *p, uint64_t seed, unsigned roles, uint32_t device_id,
                              uint64_t op_mask);

#endif
