/* Everything a user adapter needs, in one include: the adapter interface (devices and
 * drivers), guest-memory DMA, barriers, interrupts and the spec constants. */
#ifndef VQFUZZ_VQFUZZ_H
#define VQFUZZ_VQFUZZ_H

#include "vqfuzz/adapter.h"
#include "vqfuzz/barrier.h"
#include "vqfuzz/dma.h"
#include "vqfuzz/irq.h"
#include "vqfuzz/virtio.h"

#endif
