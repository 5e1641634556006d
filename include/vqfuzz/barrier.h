/* Memory barriers for adapter code.
 *
 * A device or driver plugged in through adapter.h maps its own barrier macros onto these
 * (for example `#define virtio_wmb() vqf_dma_wmb(&dev->dma)`). They take the DMA handle the
 * platform gave the adapter, so the barrier is attributed to the right side: the harness
 * observer sees every one of them (the oracle's publish-ordering checks, spec 2.7.13.3.1,
 * 2.7.13.4.1 and 2.8.21.1.1, and a later memory-visibility model hook in there).
 *
 * They are the same barrier the built-in ring code executes (emulator/mem.h, vqf_barrier):
 * compiler-only in the single-threaded executor, real fences when the sides run on
 * different threads. The names differ from the emulator's internal vqf_mb/vqf_rmb/vqf_wmb
 * macros so that both headers can be included together. */
#ifndef VQFUZZ_BARRIER_H
#define VQFUZZ_BARRIER_H

#include "emulator/mem.h"
#include "vqfuzz/dma.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Full barrier: earlier loads and stores before later loads and stores. */
static inline void vqf_dma_mb(const struct vqf_dma *d) { vqf_barrier(d, VQF_BARRIER_MB); }
/* Read barrier: earlier loads before later loads (read the index, then the entries). */
static inline void vqf_dma_rmb(const struct vqf_dma *d) { vqf_barrier(d, VQF_BARRIER_RMB); }
/* Write barrier: earlier stores before later stores (fill the entries, then publish). */
static inline void vqf_dma_wmb(const struct vqf_dma *d) { vqf_barrier(d, VQF_BARRIER_WMB); }

#ifdef __cplusplus
}
#endif
#endif
