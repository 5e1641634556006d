/* Raising a device's interrupt from adapter code.
 *
 * The oracle judges notifications (used-buffer notifications against the suppression rules
 * of 2.7.7 / 2.8.10, the configuration change notification owed after DEVICE_NEEDS_RESET,
 * 2.1.2) from the interrupt events it observes. The built-in devices report each interrupt
 * with the InterruptStatus bits they set; a user device does the same by raising its line
 * through this helper instead of calling plat->irq directly. */
#ifndef VQFUZZ_IRQ_H
#define VQFUZZ_IRQ_H

#include <stdint.h>

#include "emulator/mem.h"
#include "vqfuzz/adapter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* bits: the InterruptStatus bits just set (4.2.2: 1 used buffer, 2 configuration change). */
static inline void vqf_device_irq(const struct vqf_device_platform *plat, uint32_t bits)
{
    if (plat->dma.mem)
        vqf_mem_event(plat->dma.mem, VQF_SIDE_DEVICE, VQF_EV_DEV_IRQ, bits, 0, 0);
    if (plat->irq)
        plat->irq(plat->irq_ctx);
}

#ifdef __cplusplus
}
#endif
#endif
