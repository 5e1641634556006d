/* tinyblk: a bootloader-style virtio-mmio block driver (VIRTIO spec 5.2) with its own split
 * (2.7) and packed (2.8) ring code: one request queue, statically sized request slots of
 * three descriptors (header, data, status byte), the configuration read with the generation
 * loop (2.5.1), written data read back and compared. It knows nothing about vqfuzz;
 * tinyblk_vqfuzz.c plugs it in. */
#ifndef TINYBLK_H
#define TINYBLK_H

#include <stdint.h>

struct tinyblk_host {
    uint32_t (*reg_read)(void *ctx, uint32_t off);            /* 32-bit register / config read */
    void (*reg_write)(void *ctx, uint32_t off, uint32_t val);
    int (*mem_read)(void *ctx, uint64_t gpa, void *buf, uint64_t len);
    int (*mem_write)(void *ctx, uint64_t gpa, const void *buf, uint64_t len);
    /* Guest memory for rings and buffers (never freed), 0 when out of memory. */
    uint64_t (*alloc)(void *ctx, uint64_t size, uint64_t align);
    void (*barrier)(void *ctx, int kind); /* 0 full, 1 read, 2 write */
    void *ctx;
};

struct tinyblk;

/* features: what the driver may accept (0 = all it knows); queue_size: 0 = the device's max
 * up to 256. */
struct tinyblk *tinyblk_new(const struct tinyblk_host *host, uint64_t features, uint16_t queue_size);
void tinyblk_free(struct tinyblk *t);
int tinyblk_probe(struct tinyblk *t);
/* Write `sectors` sectors at `sector` (a pattern of `seed`) and read them back: 0 queued,
 * 1 no room now, -1 not possible. */
int tinyblk_write_verify(struct tinyblk *t, uint64_t sector, uint32_t sectors, uint64_t seed);
int tinyblk_read(struct tinyblk *t, uint64_t sector, uint32_t sectors);
int tinyblk_get_id(struct tinyblk *t);
/* Interrupt (or poll): returns the requests completed. */
int tinyblk_interrupt(struct tinyblk *t);
int tinyblk_reset(struct tinyblk *t);
int tinyblk_queue_reset(struct tinyblk *t);
int tinyblk_config_changed(struct tinyblk *t);
unsigned tinyblk_inflight(const struct tinyblk *t);
unsigned tinyblk_errors(const struct tinyblk *t);
void tinyblk_remove(struct tinyblk *t);

#endif
