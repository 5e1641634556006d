/* Fault injection: a program arms emulator/mem.h's fail_at so that one guest memory access of
 * its choosing fails as if the address were unmapped. Devices and drivers must then take their
 * error path (a device: DEVICE_NEEDS_RESET, 2.1.2; a driver: reset the device, 3.3.1) instead
 * of using garbage or crashing; the health probe after the program checks they recovered. */
#include "harness/exec_fault.h"

#include "harness/exec_internal.h"

void vqf_fault_op(struct vqf_exec *x, const struct vqf_op *op)
{
    if (op->b == 0) {
        x->mem.fail_at = 0;
        return;
    }
    /* naccess counts only while armed (vqf_mem_fault_ok), so "from now" is naccess + b, and
     * once the access has failed naccess moves past fail_at: one fault per arming. */
    x->mem.fail_at = x->mem.naccess + op->b;
    /* a failing bus is not a legal behaviour of the harness's side: never PASS */
    x->lied = true;
}

void vqf_fault_disarm(struct vqf_exec *x) { x->mem.fail_at = 0; }
