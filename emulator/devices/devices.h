/* The reference devices, each plugged in through the public adapter interface. */
#ifndef VQF_DEVICES_H
#define VQF_DEVICES_H

#include "vqfuzz/adapter.h"

extern const struct vqf_device_adapter vqf_blk_device;     /* spec 5.2, in-memory disk */
extern const struct vqf_device_adapter vqf_net_device;     /* spec 5.1, loopback */
extern const struct vqf_device_adapter vqf_console_device; /* spec 5.3 */
extern const struct vqf_device_adapter vqf_rng_device;     /* spec 5.4 */

#endif
