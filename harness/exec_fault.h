/* Guest memory fault injection driven by the program (op fault_at, harness/ops.def). */
#ifndef VQF_EXEC_FAULT_H
#define VQF_EXEC_FAULT_H

#include "harness/program.h"

struct vqf_exec;

/* fault_at access: the access-th checked guest memory access from now on fails (0 disarms).
 * Marks the run as one where the harness broke a rule, so an honest result is REJECT. */
void vqf_fault_op(struct vqf_exec *x, const struct vqf_op *op);
/* Disarm (called when the program's ops end, before the drain and the health probe, so that
 * neither the probe nor the next input inherits a pending fault). */
void vqf_fault_disarm(struct vqf_exec *x);

#endif
