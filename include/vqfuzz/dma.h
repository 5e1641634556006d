/* Guest-memory access for devices and drivers: bounds-checked DMA by guest-physical address.
 * This is the whole memory interface a user adapter needs. Every accessor returns 0 on
 * success and -1 when the range is not wholly inside one guest-memory region (a hole, a
 * range that wraps past 2^64, or a fault injected by the harness). */
#ifndef VQFUZZ_DMA_H
#define VQFUZZ_DMA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Who performs an access. The oracle judges only the side under test. */
enum vqf_side { VQF_SIDE_DRIVER = 0, VQF_SIDE_DEVICE = 1, VQF_SIDE_HARNESS = 2 };
enum vqf_access { VQF_ACC_READ = 0, VQF_ACC_WRITE = 1 };

struct vqf_mem;

/* A DMA handle: guest memory as seen by one side. Cheap to copy. */
struct vqf_dma {
    struct vqf_mem *mem;
    unsigned side; /* enum vqf_side */
};

int vqf_dma_read(const struct vqf_dma *d, uint64_t gpa, void *buf, uint64_t len);
int vqf_dma_write(const struct vqf_dma *d, uint64_t gpa, const void *buf, uint64_t len);
int vqf_dma_read16(const struct vqf_dma *d, uint64_t gpa, uint16_t *v);
int vqf_dma_read32(const struct vqf_dma *d, uint64_t gpa, uint32_t *v);
int vqf_dma_read64(const struct vqf_dma *d, uint64_t gpa, uint64_t *v);
int vqf_dma_write16(const struct vqf_dma *d, uint64_t gpa, uint16_t v);
int vqf_dma_write32(const struct vqf_dma *d, uint64_t gpa, uint32_t v);
int vqf_dma_write64(const struct vqf_dma *d, uint64_t gpa, uint64_t v);

/* A raw host pointer to [gpa, gpa+len), or NULL. Writes through it bypass the access log
 * (the oracle catches them by snapshot), so pass writable=1 when the caller may write:
 * the range is then marked dirty and cleared by the next reset. The region is surrounded
 * by poisoned guard zones: running off the end is reported by ASan (or faults). */
void *vqf_dma_map(const struct vqf_dma *d, uint64_t gpa, uint64_t len, int writable);

/* Little-endian loads/stores on host pointers obtained from vqf_dma_map. */
static inline uint16_t vqf_le16(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t vqf_le32(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static inline uint64_t vqf_le64(const void *p)
{
    return (uint64_t)vqf_le32(p) | ((uint64_t)vqf_le32((const uint8_t *)p + 4) << 32);
}
static inline void vqf_put_le16(void *p, uint16_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}
static inline void vqf_put_le32(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}
static inline void vqf_put_le64(void *p, uint64_t v)
{
    vqf_put_le32(p, (uint32_t)v);
    vqf_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#ifdef __cplusplus
}
#endif
#endif
