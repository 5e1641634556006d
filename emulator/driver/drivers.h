/* The reference drivers, each plugged in through the public adapter interface. */
#ifndef VQF_DRIVERS_H
#define VQF_DRIVERS_H

#include "vqfuzz/adapter.h"

extern const struct vqf_driver_adapter vqf_blk_driver;
extern const struct vqf_driver_adapter vqf_net_driver;
extern const struct vqf_driver_adapter vqf_console_driver;
extern const struct vqf_driver_adapter vqf_rng_driver;

#endif
