/* Taint after the fuzzer's own lies: see vqf_oracle_taint in oracle.h. */
#include "emulator/oracle/oracle_int.h"

void vqf_oracle_taint(struct vqf_oracle *o, unsigned liar_side, bool registers)
{
    for (unsigned i = 0; i < OQ_MAX; i++)
        vqf_or_taint(&o->q[i], liar_side);
    if (registers && liar_side == VQF_SIDE_DRIVER)
        o->xport_lied = true;
}
