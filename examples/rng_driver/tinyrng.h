/* tinyrng: a bootloader-style virtio-mmio entropy driver (VIRTIO spec 5.4) with its own split
 * (2.7) and packed (2.8) ring code: one request queue, statically sized buffers, polling or
 * interrupt completion. It knows nothing about vqfuzz; tinyrng_vqfuzz.c plugs it in. */
#ifndef TINYRNG_H
#define TINYRNG_H

#include <stdint.h>

struct tinyrng_host {
    uint32_t (*reg_read)(void *ctx, uint32_t off);
    void (*reg_write)(void *ctx, uint32_t off, uint32_t val);
    int (*mem_read)(void *ctx, uint64_t gpa, void *buf, uint64_t len);
    int (*mem_write)(void *ctx, uint64_t gpa, const void *buf, uint64_t len);
    /* Guest memory for rings and buffers (never freed), 0 when out of memory. */
    uint64_t (*alloc)(void *ctx, uint64_t size, uint64_t align);
    void (*barrier)(void *ctx, int kind); /* 0 full, 1 read, 2 write */
    void *ctx;
};

struct tinyrng;

/* features: what the driver may accept (0 = all it knows); queue_size: 0 = the device's max
 * up to 256. */
struct tinyrng *tinyrng_new(const struct tinyrng_host *host, uint64_t features, uint16_t queue_size);
void tinyrng_free(struct tinyrng *t);
int tinyrng_probe(struct tinyrng *t);
/* Ask for `bytes` of entropy: 0 queued, 1 ring full, -1 not running. */
int tinyrng_request(struct tinyrng *t, uint32_t bytes);
/* Interrupt (or poll): returns the requests completed. */
int tinyrng_interrupt(struct tinyrng *t);
int tinyrng_reset(struct tinyrng *t);
int tinyrng_queue_reset(struct tinyrng *t);
unsigned tinyrng_inflight(const struct tinyrng *t);
unsigned tinyrng_errors(const struct tinyrng *t);
void tinyrng_remove(struct tinyrng *t);

#endif
