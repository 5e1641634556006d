/* A world for one honest driver/device pair: guest memory, a guest allocator for the driver,
 * a device adapter and a driver adapter wired through the public adapter interface (MMIO
 * forwarded from driver to device, the device's interrupt line latched and delivered to the
 * driver). Used by end-to-end tests, benchmarks and the executor. Single-threaded and
 * deterministic: the caller decides when each side runs. */
#ifndef VQF_PAIR_H
#define VQF_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/mem.h"
#include "vqfuzz/adapter.h"

struct vqf_pair {
    struct vqf_mem mem;
    struct vqf_galloc galloc;
    const struct vqf_device_adapter *dev_ad;
    const struct vqf_driver_adapter *drv_ad;
    void *dev;
    void *drv;
    bool irq_line;       /* latched device interrupt, cleared when delivered */
    uint64_t irqs;       /* interrupts delivered */
    uint64_t mmio_reads, mmio_writes;
};

/* Guest memory (main region of mem_size bytes; the allocator gets the upper half of it and
 * leaves the lower half to the harness), then create device and driver. 0 or -1. */
int vqf_pair_init(struct vqf_pair *p, uint64_t mem_size, const struct vqf_device_adapter *dev_ad,
                  const struct vqf_device_params *dev_params, const struct vqf_driver_adapter *drv_ad,
                  const struct vqf_driver_params *drv_params);
void vqf_pair_destroy(struct vqf_pair *p);
/* Destroy device and driver, reset guest memory (O(touched)) and create them again. */
int vqf_pair_recreate(struct vqf_pair *p, const struct vqf_device_params *dev_params,
                      const struct vqf_driver_params *drv_params);
/* Let the device poll once (budget chains), then deliver a pending interrupt to the driver.
 * Returns device work + completions (0 = both idle). */
int vqf_pair_step(struct vqf_pair *p, unsigned budget);
/* Step until idle or max_steps. Returns the number of steps taken, or -1 if still busy. */
int vqf_pair_run(struct vqf_pair *p, unsigned budget, unsigned max_steps);

/* Platform plumbing, exposed for harnesses that build their own worlds. */
uint32_t vqf_pair_mmio_read(void *pair, uint32_t off, unsigned size);
void vqf_pair_mmio_write(void *pair, uint32_t off, unsigned size, uint32_t val);
void vqf_pair_irq(void *pair);
uint64_t vqf_pair_alloc(void *pair, uint64_t size, uint64_t align);

#endif
