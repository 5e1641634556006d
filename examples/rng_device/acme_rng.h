/* acme-rng: a small virtio-mmio entropy device (VIRTIO spec 5.4) written as third-party
 * device-model code is: its own register file (4.2.2), its own split (2.7) and packed (2.8)
 * ring walking over raw host pointers, and a tiny host interface for guest memory and the
 * interrupt line. It knows nothing about vqfuzz; acme_rng_vqfuzz.c plugs it in. */
#ifndef ACME_RNG_H
#define ACME_RNG_H

#include <stdint.h>

/* What the device needs from its host (a VMM, or a test harness). */
struct acme_host {
    /* Host pointer to guest [gpa, gpa+len), or NULL when it is not all guest RAM. */
    void *(*map)(void *ctx, uint64_t gpa, uint64_t len, int writable);
    /* Copy from / into guest memory; 0 or -1 when the range is not guest RAM. */
    int (*read)(void *ctx, uint64_t gpa, void *buf, uint64_t len);
    int (*write)(void *ctx, uint64_t gpa, const void *buf, uint64_t len);
    /* Memory barriers: 0 full, 1 read, 2 write. */
    void (*barrier)(void *ctx, int kind);
    /* The interrupt line goes up; bits = the InterruptStatus bits just set. */
    void (*irq)(void *ctx, uint32_t bits);
    void *ctx;
};

struct acme_rng;

struct acme_rng *acme_rng_new(const struct acme_host *host, uint64_t features_mask, uint16_t queue_max,
                              uint32_t seed);
void acme_rng_free(struct acme_rng *r);
uint32_t acme_rng_mmio_read(struct acme_rng *r, uint32_t off, unsigned size);
void acme_rng_mmio_write(struct acme_rng *r, uint32_t off, unsigned size, uint32_t val);
/* Serve kicked requests, at most budget of them; returns how many were served. */
int acme_rng_poll(struct acme_rng *r, unsigned budget);

#endif
