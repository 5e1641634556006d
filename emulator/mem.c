/* Guest memory: see mem.h. */
#include "emulator/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emulator/visibility.h"

#ifdef VQF_TSAN
unsigned long vqf_tsan_fence_word; /* see vqf_barrier() in mem.h */
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VQF_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define VQF_ASAN 1
#endif
#ifdef VQF_ASAN
#include <sanitizer/asan_interface.h>
#define VQF_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define VQF_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define VQF_POISON(p, n) ((void)(p), (void)(n))
#define VQF_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

void vqf_mem_default_layout(struct vqf_mem_layout *l, uint64_t main_size)
{
    memset(l, 0, sizeof(*l));
    l->nregions = 3;
    /* GPA 0 stays unmapped so that a zero address is always a hole. */
    l->r[0].gpa = 0x10000;
    l->r[0].size = main_size;
    l->r[1].gpa = 0x40000000;
    l->r[1].size = 0x10000;
    /* Just below 2^64: "addr + len" wraps one step past the end. */
    l->r[2].gpa = 0xffffffffffff0000ull;
    l->r[2].size = 0xf000;
}

static size_t page_round(size_t n, size_t page) { return (n + page - 1) & ~(page - 1); }

int vqf_mem_init(struct vqf_mem *m, const struct vqf_mem_layout *l)
{
    memset(m, 0, sizeof(*m));
    if (l->nregions == 0 || l->nregions > VQF_MEM_MAX_REGIONS)
        return -1;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t guard = page > 4096 ? page : 4096;
    size_t total = guard;
    uint64_t chunks = 0;
    for (unsigned i = 0; i < l->nregions; i++) {
        uint64_t gpa = l->r[i].gpa, size = l->r[i].size;
        if (size == 0 || size > ((uint64_t)1 << 32) || gpa + (size - 1) < gpa)
            return -1;
        for (unsigned j = 0; j < i; j++) {
            uint64_t g2 = l->r[j].gpa, s2 = l->r[j].size;
            if (gpa <= g2 + (s2 - 1) && g2 <= gpa + (size - 1))
                return -1; /* overlap */
        }
        total += page_round((size_t)size, page) + guard;
        chunks += (size + VQF_MEM_CHUNK - 1) >> VQF_MEM_CHUNK_SHIFT;
    }
    if (chunks > UINT32_MAX)
        return -1;
    void *arena = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED)
        return -1;
    m->arena = arena;
    m->arena_len = total;
    m->guard_len = guard;
    m->nchunks = (uint32_t)chunks;
    m->dirty_bits = calloc((chunks + 63) / 64, sizeof(uint64_t));
    m->dirty_list = malloc(chunks * sizeof(uint32_t));
    if (!m->dirty_bits || !m->dirty_list) {
        vqf_mem_destroy(m);
        return -1;
    }
    /* [guard][region 0][guard][region 1]...[guard]: a raw pointer that runs off a region
     * lands in a guard that is both poisoned for ASan and inaccessible (PROT_NONE). */
    uint8_t *p = m->arena;
    mprotect(p, guard, PROT_NONE);
    VQF_POISON(p, guard);
    p += guard;
    uint32_t chunk = 0;
    for (unsigned i = 0; i < l->nregions; i++) {
        size_t span = page_round((size_t)l->r[i].size, page);
        m->r[i].gpa = l->r[i].gpa;
        m->r[i].size = l->r[i].size;
        m->r[i].host = p;
        m->r[i].chunk_base = chunk;
        chunk += (uint32_t)((l->r[i].size + VQF_MEM_CHUNK - 1) >> VQF_MEM_CHUNK_SHIFT);
        /* The page-rounding slack after a region is also off limits. */
        if (span > l->r[i].size)
            VQF_POISON(p + l->r[i].size, span - l->r[i].size);
        p += span;
        mprotect(p, guard, PROT_NONE);
        VQF_POISON(p, guard);
        p += guard;
    }
    m->nregions = l->nregions;
    return 0;
}

void vqf_mem_destroy(struct vqf_mem *m)
{
    if (m->arena) {
        VQF_UNPOISON(m->arena, m->arena_len);
        munmap(m->arena, m->arena_len);
    }
    free(m->dirty_bits);
    free(m->dirty_list);
    memset(m, 0, sizeof(*m));
}

int vqf_mem_region_of(const struct vqf_mem *m, uint64_t gpa)
{
    for (unsigned i = 0; i < m->nregions; i++)
        if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
            return (int)i;
    return -1;
}

void vqf_mem_mark_dirty(struct vqf_mem *m, uint64_t gpa, uint64_t len)
{
    if (len == 0)
        return;
    int ri = vqf_mem_region_of(m, gpa);
    if (ri < 0)
        return;
    const struct vqf_mem_region *r = &m->r[ri];
    uint64_t off = gpa - r->gpa;
    if (len > r->size - off)
        len = r->size - off;
    uint32_t first = r->chunk_base + (uint32_t)(off >> VQF_MEM_CHUNK_SHIFT);
    uint32_t last = r->chunk_base + (uint32_t)((off + len - 1) >> VQF_MEM_CHUNK_SHIFT);
    for (uint32_t c = first; c <= last; c++) {
        uint64_t bit = (uint64_t)1 << (c & 63);
        if (!(m->dirty_bits[c >> 6] & bit)) {
            m->dirty_bits[c >> 6] |= bit;
            m->dirty_list[m->ndirty++] = c;
        }
    }
}

uint64_t vqf_mem_digest(const struct vqf_mem *m)
{
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned ri = 0;
    for (uint32_t w = 0; w < (m->nchunks + 63) / 64; w++) {
        for (uint64_t bits = m->dirty_bits[w]; bits; bits &= bits - 1) {
            uint32_t c = w * 64 + (uint32_t)__builtin_ctzll(bits);
            while (ri + 1 < m->nregions && c >= m->r[ri + 1].chunk_base)
                ri++;
            const struct vqf_mem_region *r = &m->r[ri];
            uint64_t off = (uint64_t)(c - r->chunk_base) << VQF_MEM_CHUNK_SHIFT;
            size_t n = r->size - off < VQF_MEM_CHUNK ? (size_t)(r->size - off) : VQF_MEM_CHUNK;
            const uint8_t *p = r->host + off;
            size_t nz = 0;
            while (nz < n && p[nz] == 0)
                nz++;
            if (nz == n)
                continue;
            h = (h ^ c) * 0x100000001b3ull;
            for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 0x100000001b3ull;
        }
    }
    return h;
}

/* Zero one whole dirty chunk with wide stores. A plain memset of a size the compiler can
 * bound becomes an inline `rep stos` with gcc, whose start-up costs more than the 256 bytes
 * themselves; the per-input reset zeroes tens of chunks. */
typedef uint64_t zero_vec __attribute__((vector_size(16), aligned(1), may_alias));
static inline void zero_chunk(uint8_t *p)
{
    const zero_vec z = {0, 0};
    zero_vec *v = (zero_vec *)(void *)p;
    _Static_assert(VQF_MEM_CHUNK == 16 * sizeof(zero_vec), "zero_chunk writes 256 bytes");
    v[0] = z, v[1] = z, v[2] = z, v[3] = z, v[4] = z, v[5] = z, v[6] = z, v[7] = z;
    v[8] = z, v[9] = z, v[10] = z, v[11] = z, v[12] = z, v[13] = z, v[14] = z, v[15] = z;
}

void vqf_mem_reset(struct vqf_mem *m)
{
    for (uint32_t i = 0; i < m->ndirty; i++) {
        uint32_t c = m->dirty_list[i];
        m->dirty_bits[c >> 6] &= ~((uint64_t)1 << (c & 63));
        /* Find the region of chunk c: regions are few, chunk bases ascending. */
        unsigned ri = 0;
        while (ri + 1 < m->nregions && c >= m->r[ri + 1].chunk_base)
            ri++;
        const struct vqf_mem_region *r = &m->r[ri];
        uint64_t off = (uint64_t)(c - r->chunk_base) << VQF_MEM_CHUNK_SHIFT;
        uint8_t *p = r->host + off;
        if (__builtin_expect(r->size - off >= VQF_MEM_CHUNK, 1))
            zero_chunk(p);
        else
            memset(p, 0, (size_t)(r->size - off));
    }
    m->ndirty = 0;
    m->naccess = 0;
    if (m->vis)
        vqf_vis_install(m, m->vis); /* pending stores belong to the input that made them */
}

/* ---- public DMA accessors (vqfuzz/dma.h) ---- */

static uint8_t *dma_xlate(const struct vqf_dma *d, unsigned kind, uint64_t gpa, uint64_t len)
{
    struct vqf_mem *m = d->mem;
    if (!vqf_mem_fault_ok(m))
        return NULL;
    uint8_t *p = vqf_mem_xlate(m, gpa, len);
    if (!p)
        return NULL;
    if (kind == VQF_ACC_WRITE)
        vqf_mem_mark_dirty(m, gpa, len);
    vqf_mem_note(m, d->side, kind, gpa, len);
    return p;
}

/* The DMA path with a visibility model installed (emulator/visibility.h): a store enters the
 * side's store buffer and the observer hears of it when it becomes visible; a load sees the
 * side's own pending stores and, in stale mode, may miss the other side's recent ones. The
 * fault injection count is the same as without the model. */
static int vis_read(const struct vqf_dma *d, uint64_t gpa, void *buf, uint64_t len)
{
    struct vqf_mem *m = d->mem;
    if (!vqf_mem_fault_ok(m))
        return -1;
    uint8_t *p = vqf_mem_xlate(m, gpa, len);
    if (!p)
        return -1;
    if (len)
        memcpy(buf, p, (size_t)len);
    vqf_vis_load(m->vis, d->side, gpa, buf, len);
    vqf_mem_note(m, d->side, VQF_ACC_READ, gpa, len);
    m->vis->cur_stale = false;
    return 0;
}

static int vis_write(const struct vqf_dma *d, uint64_t gpa, const void *buf, uint64_t len)
{
    struct vqf_mem *m = d->mem;
    if (!vqf_mem_fault_ok(m))
        return -1;
    uint8_t *p = vqf_mem_xlate(m, gpa, len);
    if (!p)
        return -1;
    if (vqf_vis_store(m->vis, d->side, gpa, buf, len))
        return 0;
    vqf_mem_mark_dirty(m, gpa, len);
    vqf_mem_note(m, d->side, VQF_ACC_WRITE, gpa, len);
    if (len)
        memcpy(p, buf, (size_t)len);
    return 0;
}

int vqf_dma_read(const struct vqf_dma *d, uint64_t gpa, void *buf, uint64_t len)
{
    if (__builtin_expect(d->mem->vis != NULL, 0))
        return vis_read(d, gpa, buf, len);
    uint8_t *p = dma_xlate(d, VQF_ACC_READ, gpa, len);
    if (!p)
        return -1;
    if (len)
        memcpy(buf, p, (size_t)len);
    return 0;
}

int vqf_dma_write(const struct vqf_dma *d, uint64_t gpa, const void *buf, uint64_t len)
{
    if (__builtin_expect(d->mem->vis != NULL, 0))
        return vis_write(d, gpa, buf, len);
    uint8_t *p = dma_xlate(d, VQF_ACC_WRITE, gpa, len);
    if (!p)
        return -1;
    if (len)
        memcpy(p, buf, (size_t)len);
    return 0;
}

#define VQF_DMA_RW(bits)                                                                     \
    int vqf_dma_read##bits(const struct vqf_dma *d, uint64_t gpa, uint##bits##_t *v)        \
    {                                                                                        \
        if (__builtin_expect(d->mem->vis != NULL, 0)) {                                      \
            uint8_t b[bits / 8];                                                             \
            if (vis_read(d, gpa, b, bits / 8) != 0)                                          \
                return -1;                                                                   \
            *v = vqf_le##bits(b);                                                            \
            return 0;                                                                        \
        }                                                                                    \
        uint8_t *p = dma_xlate(d, VQF_ACC_READ, gpa, bits / 8);                              \
        if (!p)                                                                              \
            return -1;                                                                       \
        *v = vqf_le##bits(p);                                                                \
        return 0;                                                                            \
    }                                                                                        \
    int vqf_dma_write##bits(const struct vqf_dma *d, uint64_t gpa, uint##bits##_t v)        \
    {                                                                                        \
        if (__builtin_expect(d->mem->vis != NULL, 0)) {                                      \
            uint8_t b[bits / 8];                                                             \
            vqf_put_le##bits(b, v);                                                          \
            return vis_write(d, gpa, b, bits / 8);                                           \
        }                                                                                    \
        uint8_t *p = dma_xlate(d, VQF_ACC_WRITE, gpa, bits / 8);                             \
        if (!p)                                                                              \
            return -1;                                                                       \
        vqf_put_le##bits(p, v);                                                              \
        return 0;                                                                            \
    }
VQF_DMA_RW(16)
VQF_DMA_RW(32)
VQF_DMA_RW(64)

void *vqf_dma_map(const struct vqf_dma *d, uint64_t gpa, uint64_t len, int writable)
{
    struct vqf_mem *m = d->mem;
    if (!vqf_mem_fault_ok(m))
        return NULL;
    uint8_t *p = vqf_mem_xlate(m, gpa, len);
    if (p && writable)
        vqf_mem_mark_dirty(m, gpa, len);
    return p;
}

/* ---- guest allocator ---- */

void vqf_galloc_init(struct vqf_galloc *a, uint64_t base, uint64_t size)
{
    a->base = a->cur = base;
    a->end = base + size;
}

uint64_t vqf_galloc_alloc(struct vqf_galloc *a, uint64_t size, uint64_t align)
{
    if (align == 0)
        align = 1;
    uint64_t p = (a->cur + align - 1) & ~(align - 1);
    if (p < a->cur || size > a->end - p || p > a->end)
        return 0;
    a->cur = p + size;
    return p;
}
