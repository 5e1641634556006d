/* acme-blk: a small virtio-mmio block device (VIRTIO spec 5.2) written as third-party
 * device-model code is: its own register file and configuration space (4.2.2, 5.2.4), its own
 * split (2.7) and packed (2.8) ring walking over raw host pointers, an in-memory disk, and a
 * tiny host interface for guest memory and the interrupt line. It knows nothing about vqfuzz;
 * acme_blk_vqfuzz.c plugs it in. */
#ifndef ACME_BLK_H
#define ACME_BLK_H

#include <stdint.h>

/* What the device needs from its host (a VMM, or a test harness). */
struct acme_blk_host {
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

struct acme_blk;

/* features_mask: feature bits 0-63 the host lets the device offer; queue_max: 0 = 256. */
struct acme_blk *acme_blk_new(const struct acme_blk_host *host, uint64_t features_mask, uint16_t queue_max);
void acme_blk_free(struct acme_blk *b);
uint32_t acme_blk_mmio_read(struct acme_blk *b, uint32_t off, unsigned size);
void acme_blk_mmio_write(struct acme_blk *b, uint32_t off, unsigned size, uint32_t val);
/* Serve available requests, at most budget of them; returns how many were served. */
int acme_blk_poll(struct acme_blk *b, unsigned budget);

#endif
