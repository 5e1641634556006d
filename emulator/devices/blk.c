/* Reference virtio-blk device (spec 5.2): an in-memory disk behind the virtio-mmio transport.
 *
 * Every request is parsed without trusting its framing (SPLIT-FRM-01, 2.7.4): the readable
 * part of a chain is one byte stream (16-byte header, then OUT / DISCARD / WRITE_ZEROES data)
 * and the writable part another (IN / GET_ID data, then the status byte as its very last
 * byte, D-15). Data moves only through vqf_dma_read/vqf_dma_write so that the oracle sees it.
 * A request the device cannot even answer (no writable status byte, header shorter than 16
 * bytes) puts the device in DEVICE_NEEDS_RESET (2.1.2); every other bad request is answered
 * with IOERR or UNSUPP (5.2.6.2). */
#include <stdlib.h>
#include <string.h>

#include "emulator/devices/blk_internal.h"
#include "emulator/devices/devices.h"

/* Features the device can offer (5.2.3 and the ring features of 6). RO and CONFIG_WCE are
 * also supported but offered only when the harness asks for them by name: a device that is
 * read-only by default would refuse every write of an ordinary workload. */
#define BLK_RING_FEATURES                                                                          \
    (VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |  \
     VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) | \
     VQF_BIT(VIRTIO_F_RING_RESET))
#define BLK_DEFAULT_FEATURES                                                                      \
    (BLK_RING_FEATURES | VQF_BIT(VIRTIO_BLK_F_SIZE_MAX) | VQF_BIT(VIRTIO_BLK_F_SEG_MAX) |          \
     VQF_BIT(VIRTIO_BLK_F_BLK_SIZE) | VQF_BIT(VIRTIO_BLK_F_FLUSH) | VQF_BIT(VIRTIO_BLK_F_MQ) |      \
     VQF_BIT(VIRTIO_BLK_F_DISCARD) | VQF_BIT(VIRTIO_BLK_F_WRITE_ZEROES))
#define BLK_SUPPORTED_FEATURES \
    (BLK_DEFAULT_FEATURES | VQF_BIT(VIRTIO_BLK_F_RO) | VQF_BIT(VIRTIO_BLK_F_CONFIG_WCE))

#define SECTOR VIRTIO_BLK_SECTOR_SIZE

/* ---- the medium ---- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Give sectors [s, s+n) their initial content (a pattern of the seed) the first time they are
 * touched: creation then costs nothing per sector, and every read is of defined bytes. */
static void materialise(struct vqf_blk_dev *b, uint64_t s, uint64_t n)
{
    for (uint64_t i = s; i < s + n; i++) {
        if ((b->made[i / 64] >> (i % 64)) & 1u)
            continue;
        uint64_t st = ((uint64_t)b->seed << 32) ^ (i * 0x100000001b3ull);
        uint8_t *p = b->disk + i * SECTOR;
        for (unsigned w = 0; w < SECTOR / 8; w++)
            vqf_put_le64(p + 8 * w, splitmix64(&st));
        b->made[i / 64] |= 1ull << (i % 64);
    }
}

static bool range_ok(const struct vqf_blk_dev *b, uint64_t sector, uint64_t n)
{
    return n <= b->capacity && sector <= b->capacity - n;
}

int vqf_blk_dev_peek(struct vqf_blk_dev *b, uint64_t sector, void *buf, uint32_t n)
{
    if (!range_ok(b, sector, n))
        return -1;
    materialise(b, sector, n);
    memcpy(buf, b->disk + sector * SECTOR, (size_t)n * SECTOR);
    return 0;
}

int vqf_blk_dev_poke(struct vqf_blk_dev *b, uint64_t sector, const void *buf, uint32_t n)
{
    if (!range_ok(b, sector, n))
        return -1;
    materialise(b, sector, n);
    memcpy(b->disk + sector * SECTOR, buf, (size_t)n * SECTOR);
    return 0;
}

/* ---- chains as two byte streams (2.7.4: framing is the driver's choice) ---- */

/* Move len bytes between host buf and offset off of the readable (write = 0) or writable part
 * of c, through the logged DMA accessors. Never touches bytes outside the chain's buffers.
 * 0, or -1 when the range is outside the part or a DMA access failed. */
static int chain_xfer(const struct vqf_dma *dma, const struct vqf_chain *c, unsigned write, uint64_t off,
                      void *buf, uint64_t len)
{
    unsigned first = write ? c->nout : 0, end = write ? c->nseg : c->nout;
    uint8_t *p = buf;
    for (unsigned i = first; i < end && len; i++) {
        const struct vqf_seg *sg = &c->seg[i];
        if (off >= sg->len) {
            off -= sg->len;
            continue;
        }
        uint64_t n = sg->len - off < len ? sg->len - off : len;
        int r = write ? vqf_dma_write(dma, sg->addr + off, p, n) : vqf_dma_read(dma, sg->addr + off, p, n);
        if (r != 0)
            return -1;
        p += n;
        len -= n;
        off = 0;
    }
    return len ? -1 : 0;
}

/* ---- requests (5.2.6) ---- */

/* DISCARD / WRITE_ZEROES: validate every segment before touching the medium, so that a
 * refused request changes nothing. Returns the status byte. */
static uint8_t do_discard_wz(struct vqf_blk_dev *b, const struct vqf_chain *c, uint32_t type)
{
    struct vqf_vdev *d = &b->vdev;
    bool wz = type == VIRTIO_BLK_T_WRITE_ZEROES;
    if (!vqf_vdev_has(d, wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD))
        return VIRTIO_BLK_S_UNSUPP;
    uint32_t bytes = c->out_len - VIRTIO_BLK_REQ_HDR_SIZE;
    uint32_t nseg = bytes / VIRTIO_BLK_DISCARD_SEG_SIZE;
    /* BLK-15 (whole 16-byte records), BLK-17/BLK-19 (at most max_*_seg) are the driver's
     * duties: a request that breaks them is a driver error, IOERR (5.2.6). */
    if (bytes % VIRTIO_BLK_DISCARD_SEG_SIZE || nseg == 0 || nseg > VQF_BLK_MAX_DWZ_SEG)
        return VIRTIO_BLK_S_IOERR;
    uint8_t raw[VQF_BLK_MAX_DWZ_SEG * VIRTIO_BLK_DISCARD_SEG_SIZE];
    if (chain_xfer(&d->dma, c, 0, VIRTIO_BLK_REQ_HDR_SIZE, raw, bytes) != 0)
        return VIRTIO_BLK_S_IOERR;
    uint8_t status = VIRTIO_BLK_S_OK;
    for (uint32_t i = 0; i < nseg; i++) {
        const uint8_t *r = raw + i * VIRTIO_BLK_DISCARD_SEG_SIZE;
        uint64_t sector = vqf_le64(r);
        uint32_t n = vqf_le32(r + 8), flags = vqf_le32(r + 12);
        /* BLK-28: unknown flags -> UNSUPP; BLK-29: unmap on DISCARD -> UNSUPP. UNSUPP wins over
         * IOERR: the request as a whole is one the device does not implement. */
        if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) || (!wz && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)))
            return VIRTIO_BLK_S_UNSUPP;
        /* max_*_sectors (5.2.4) is the capacity, so the range check covers it. */
        if (!range_ok(b, sector, n))
            status = VIRTIO_BLK_S_IOERR;
    }
    if (status != VIRTIO_BLK_S_OK)
        return status;
    /* BLK-27 speaks of writes; a read-only medium takes no discard or zeroing either. */
    if (d->dev_features[0] & VQF_BIT(VIRTIO_BLK_F_RO))
        return VIRTIO_BLK_S_IOERR;
    for (uint32_t i = 0; i < nseg; i++) {
        const uint8_t *r = raw + i * VIRTIO_BLK_DISCARD_SEG_SIZE;
        uint64_t sector = vqf_le64(r);
        uint32_t n = vqf_le32(r + 8);
        materialise(b, sector, n);
        /* BLK-32: zeroes read back as zeroes; a discarded range holds anything (BLK-23), here
         * a marker byte so that a driver which assumes zeroes is caught. */
        memset(b->disk + sector * SECTOR, wz ? 0 : VQF_BLK_DISCARD_BYTE, (size_t)n * SECTOR);
    }
    return VIRTIO_BLK_S_OK;
}

/* One request. Returns the status byte and sets *written (bytes of the writable part, used
 * len, 2.7.8.2 / D-15). */
static uint8_t do_request(struct vqf_blk_dev *b, const struct vqf_chain *c, const uint8_t *hdr, uint32_t *written)
{
    struct vqf_vdev *d = &b->vdev;
    uint32_t type = vqf_le32(hdr);
    uint64_t sector = vqf_le64(hdr + 8);
    uint32_t out_data = c->out_len - VIRTIO_BLK_REQ_HDR_SIZE; /* readable bytes after the header */
    uint32_t in_data = c->in_len - 1;                          /* writable bytes before the status */
    *written = 1;
    switch (type) {
    case VIRTIO_BLK_T_IN: {
        if (out_data || in_data % SECTOR || !range_ok(b, sector, in_data / SECTOR))
            return VIRTIO_BLK_S_IOERR;
        materialise(b, sector, in_data / SECTOR);
        if (chain_xfer(&d->dma, c, 1, 0, b->disk + sector * SECTOR, in_data) != 0)
            return VIRTIO_BLK_S_IOERR;
        *written = in_data + 1;
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_OUT:
        if (in_data || out_data % SECTOR || !range_ok(b, sector, out_data / SECTOR))
            return VIRTIO_BLK_S_IOERR;
        /* BLK-27: offered RO (negotiated or not) -> IOERR and no data reaches the medium. */
        if (d->dev_features[0] & VQF_BIT(VIRTIO_BLK_F_RO))
            return VIRTIO_BLK_S_IOERR;
        /* Materialise first: a DMA fault half-way must leave defined bytes behind. */
        materialise(b, sector, out_data / SECTOR);
        if (chain_xfer(&d->dma, c, 0, VIRTIO_BLK_REQ_HDR_SIZE, b->disk + sector * SECTOR, out_data) != 0)
            return VIRTIO_BLK_S_IOERR;
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_FLUSH:
        /* The medium is host memory: everything completed is already stable (BLK-36). */
        return vqf_vdev_has(d, VIRTIO_BLK_F_FLUSH) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_GET_ID:
        /* BLK-16: the data area is exactly 20 bytes. */
        if (out_data || in_data != VIRTIO_BLK_ID_BYTES)
            return VIRTIO_BLK_S_IOERR;
        if (chain_xfer(&d->dma, c, 1, 0, b->id, VIRTIO_BLK_ID_BYTES) != 0)
            return VIRTIO_BLK_S_IOERR;
        *written = VIRTIO_BLK_ID_BYTES + 1;
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if (in_data)
            return VIRTIO_BLK_S_IOERR;
        return do_discard_wz(b, c, type);
    default:
        /* GET_LIFETIME, SECURE_ERASE, zone commands (BLK-41) and unknown types. */
        return VIRTIO_BLK_S_UNSUPP;
    }
}

static int blk_process(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    struct vqf_blk_dev *b = d->backend;
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    if (!vq)
        return 0;
    unsigned done = 0;
    while (done < budget) {
        struct vqf_chain c = {.seg = d->segs, .seg_cap = d->seg_cap};
        int r = vqf_vq_dev_pop(vq, &c);
        if (r == 0)
            break;
        if (r < 0) {
            vqf_vdev_fail(d, q, -r);
            break;
        }
        uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE];
        /* No writable byte at the end (D-15) or a header shorter than 16 bytes: there is no
         * way to answer the request, so the device needs a reset (2.1.2, STATUS-06). */
        if (c.in_len == 0 || c.out_len < VIRTIO_BLK_REQ_HDR_SIZE ||
            chain_xfer(&d->dma, &c, 0, 0, hdr, sizeof(hdr)) != 0) {
            b->stats.failed++;
            vqf_vdev_fail(d, q, VQF_ERR_INVAL);
            break;
        }
        uint32_t written;
        uint8_t status = do_request(b, &c, hdr, &written);
        if (chain_xfer(&d->dma, &c, 1, c.in_len - 1, &status, 1) != 0) {
            b->stats.failed++;
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            break;
        }
        b->stats.ok += status == VIRTIO_BLK_S_OK;
        b->stats.ioerr += status == VIRTIO_BLK_S_IOERR;
        b->stats.unsupp += status == VIRTIO_BLK_S_UNSUPP;
        r = vqf_vq_dev_push(vq, &c, written);
        if (r < 0) {
            vqf_vdev_fail(d, q, -r);
            break;
        }
        done++;
    }
    /* One publish and at most one notification per call, however many requests completed. */
    if (done)
        vqf_vdev_used_notify(d, q);
    return (int)done;
}

/* ---- configuration space (5.2.4) ---- */

static void blk_fill_config(struct vqf_blk_dev *b)
{
    uint8_t *c = b->vdev.config;
    /* Fields of features not offered and the padding unused0/unused1 read as zero (BLK-08). */
    memset(c, 0, VIRTIO_BLK_CFG_SIZE);
    vqf_put_le64(c + VIRTIO_BLK_CFG_CAPACITY, b->capacity);
    vqf_put_le32(c + VIRTIO_BLK_CFG_SIZE_MAX, VQF_BLK_SIZE_MAX);
    vqf_put_le32(c + VIRTIO_BLK_CFG_SEG_MAX, VQF_BLK_SEG_MAX);
    vqf_put_le32(c + VIRTIO_BLK_CFG_BLK_SIZE, SECTOR);
    /* BLK-07: with CONFIG_WCE and no FLUSH the cache starts in write-through (0); the device
     * starts every run write-through and lets the driver switch (BLK-20). */
    c[VIRTIO_BLK_CFG_WRITEBACK] = b->writeback;
    vqf_put_le16(c + VIRTIO_BLK_CFG_NUM_QUEUES, b->vdev.num_queues);
    vqf_put_le32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, (uint32_t)b->capacity);
    vqf_put_le32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, VQF_BLK_MAX_DWZ_SEG);
    vqf_put_le32(c + VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT, 1);
    vqf_put_le32(c + VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS, (uint32_t)b->capacity);
    vqf_put_le32(c + VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, VQF_BLK_MAX_DWZ_SEG);
    /* BLK-33: write-zeroes never deallocates here. */
    c[VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP] = 0;
}

/* The transport stored whatever the driver wrote; only writeback is driver-writable
 * (5.2.6.1 BLK-20, with CONFIG_WCE). Everything else is put back as the device has it. */
static void blk_config_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val)
{
    struct vqf_blk_dev *b = d->backend;
    if (off <= VIRTIO_BLK_CFG_WRITEBACK && VIRTIO_BLK_CFG_WRITEBACK < off + size &&
        vqf_vdev_has(d, VIRTIO_BLK_F_CONFIG_WCE)) {
        uint8_t wb = (uint8_t)(val >> 8 * (VIRTIO_BLK_CFG_WRITEBACK - off));
        if (wb <= 1)
            b->writeback = wb;
    }
    blk_fill_config(b);
}

static void blk_reset(struct vqf_vdev *d)
{
    /* Requests complete inside process(): nothing is in flight. The medium keeps its data
     * across resets like a real disk; the cache mode goes back to its initial value. */
    struct vqf_blk_dev *b = d->backend;
    b->writeback = 0;
    blk_fill_config(b);
}

static const struct vqf_vdev_ops blk_ops = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .config_write = blk_config_write,
    .reset = blk_reset,
    .process = blk_process,
};

/* ---- adapter ---- */

static void *blk_create(const struct vqf_device_platform *plat, const struct vqf_device_params *params)
{
    static const struct vqf_device_params defaults;
    if (!params)
        params = &defaults;
    struct vqf_blk_dev *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->capacity = VQF_BLK_SECTORS;
    b->seed = params->seed;
    b->disk = malloc(VQF_BLK_SECTORS * SECTOR);
    uint64_t feat[2] = {BLK_DEFAULT_FEATURES, 0};
    if (params->features[0] | params->features[1]) {
        feat[0] = params->features[0] & BLK_SUPPORTED_FEATURES;
        feat[1] = 0;
    }
    /* BLK-06: CONFIG_WCE only together with FLUSH. */
    if (!(feat[0] & VQF_BIT(VIRTIO_BLK_F_FLUSH)))
        feat[0] &= ~VQF_BIT(VIRTIO_BLK_F_CONFIG_WCE);
    uint16_t nq = 1;
    if (feat[0] & VQF_BIT(VIRTIO_BLK_F_MQ)) {
        nq = params->num_queues ? params->num_queues : VQF_BLK_DEFAULT_QUEUES;
        if (nq > VQF_VDEV_MAX_QUEUES)
            nq = VQF_VDEV_MAX_QUEUES;
    }
    uint16_t qmax = params->queue_size_max ? params->queue_size_max : VQF_BLK_QUEUE_MAX;
    /* Scratch for a chain: header + seg_max data segments + status (5.2.4 seg_max). */
    if (!b->disk || vqf_vdev_init(&b->vdev, &blk_ops, b, &plat->dma, nq, qmax, feat, VIRTIO_BLK_CFG_SIZE,
                                  VQF_BLK_SEG_MAX + 2) != 0) {
        free(b->disk);
        free(b);
        return NULL;
    }
    b->vdev.irq = plat->irq;
    b->vdev.irq_ctx = plat->irq_ctx;
    /* GET_ID (5.2.6): NUL-padded ASCII, at most 20 bytes. */
    static const char hex[] = "0123456789abcdef";
    memcpy(b->id, "vqfuzz-blk-", 11);
    for (int i = 0; i < 8; i++)
        b->id[11 + i] = (uint8_t)hex[(b->seed >> (28 - 4 * i)) & 15u];
    blk_fill_config(b);
    return b;
}

static void blk_destroy(void *dev)
{
    struct vqf_blk_dev *b = dev;
    if (!b)
        return;
    vqf_vdev_destroy(&b->vdev);
    free(b->disk);
    free(b);
}

const struct vqf_device_adapter vqf_blk_device = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .create = blk_create,
    .destroy = blk_destroy,
    .mmio_read = vqf_vdev_adapter_mmio_read,
    .mmio_write = vqf_vdev_adapter_mmio_write,
    .poll = vqf_vdev_adapter_poll,
};
