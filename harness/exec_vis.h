/* The memory-visibility model in the executor (op `vis`, harness/ops.def; the model itself is
 * emulator/visibility.h). */
#ifndef VQF_EXEC_VIS_H
#define VQF_EXEC_VIS_H

#include "harness/program.h"

struct vqf_exec;

/* Before the first access of a pass: the model is on for this input when the program holds a
 * `vis` op the target runs (the program-level switch), off otherwise. */
void vqf_x_vis_begin(struct vqf_exec *x);
/* op vis mode seed count */
void vqf_x_vis_op(struct vqf_exec *x, const struct vqf_op *op);
/* The program's ops are done: every pending store becomes visible (store buffers drain in
 * finite time), then the model is removed for the drain to idle and the health probe. */
void vqf_x_vis_end(struct vqf_exec *x);
void vqf_x_vis_free(struct vqf_exec *x);

#endif
