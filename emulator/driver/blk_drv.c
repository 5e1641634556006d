/* Reference virtio-blk driver (spec 5.2): initialisation (3.1.1, 5.2.5), config reads in the
 * generation loop, and a verified workload.
 *
 * The driver keeps a shadow of the disk: a sector becomes known when the driver writes it (or
 * zeroes it) or reads it for the first time, and every later read of a known sector must
 * return the shadow's bytes; a mismatch is a data error. Requests lock their sector range
 * (shared for reads, exclusive for anything that changes the medium), so that the device is
 * free to complete them in any order (5.2.6 gives no ordering) and the check stays exact.
 * Only requests the spec allows are made: inside capacity (BLK-10), multiples of 512 bytes
 * (BLK-14), FLUSH at sector 0 (BLK-12), only negotiated request types, seg_max / size_max and
 * max_*_seg / max_*_sectors respected (BLK-17, BLK-19), unmap clear on DISCARD (BLK-22).
 * Buffers come from one guest pool allocated at the first probe; nothing is allocated per
 * request. Anything impossible from the device (a used entry the ring rejects, a config
 * NEEDS_RESET) drops the requests in flight, resets the device and probes again. */
#include <stdlib.h>
#include <string.h>

#include "emulator/driver/drivers.h"
#include "emulator/transport/vdrv.h"

#define BLK_KNOWN_FEATURES                                                                          \
    (VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |   \
     VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) |  \
     VQF_BIT(VIRTIO_F_RING_RESET) | VQF_BIT(VIRTIO_BLK_F_SIZE_MAX) | VQF_BIT(VIRTIO_BLK_F_SEG_MAX) |   \
     VQF_BIT(VIRTIO_BLK_F_BLK_SIZE) | VQF_BIT(VIRTIO_BLK_F_RO) | VQF_BIT(VIRTIO_BLK_F_FLUSH) |         \
     VQF_BIT(VIRTIO_BLK_F_MQ) | VQF_BIT(VIRTIO_BLK_F_DISCARD) | VQF_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |  \
     VQF_BIT(VIRTIO_BLK_F_CONFIG_WCE))

#define SECTOR VIRTIO_BLK_SECTOR_SIZE
#define DRV_MAX_REQS 32u    /* requests in flight at most (the pool's slots) */
#define DRV_REQ_SECTORS 8u  /* sectors per IN/OUT request at most: 4 KiB */
#define DRV_SPAN 128u       /* sectors of the disk the workload uses at most (shadow size) */
#define DRV_MAX_DSEGS 8u    /* data segments per request at most */
#define DRV_MAX_DWZ 4u      /* DISCARD / WRITE_ZEROES segments per request at most */
#define DRV_MAX_SEGS (DRV_MAX_DSEGS + 2u) /* header + data + status */
/* One slot of the pool: meta area (header, status, discard records), then data. */
#define SLOT_HDR 0u
#define SLOT_STATUS 16u
#define SLOT_DWZ 32u
#define SLOT_DATA 128u
#define SLOT_BYTES (SLOT_DATA + DRV_REQ_SECTORS * SECTOR)
#define STATUS_POISON 0xffu /* not a status value: shows that the device never wrote it */

enum req_kind { K_WRITE = 0, K_READ = 1, K_FLUSH = 2, K_DISCARD = 3, K_WZ = 4, K_GET_ID = 5, K_COUNT };
enum lock_kind { L_NONE = 0, L_SHARED = 1, L_EXCL = 2 };

struct blk_req {
    bool busy;
    uint8_t kind;     /* enum req_kind */
    uint8_t phase;    /* K_WRITE: 0 the write, 1 the read-back */
    uint8_t lock;     /* enum lock_kind over [sector, sector + nsec) */
    uint8_t expect;   /* status byte the device must return (5.2.6) */
    uint8_t ndwz;     /* discard / write-zeroes segment records */
    uint16_t queue;
    uint32_t sector, nsec;
    uint16_t next_free;
};

struct blk_drv {
    struct vqf_vdrv vd;
    struct vqf_driver_params params;
    bool live;                  /* DRIVER_OK set and queues usable */
    bool in_recovery;
    uint16_t nq;                /* request queues in use */
    /* negotiated device facts (5.2.4) */
    uint64_t capacity;
    uint32_t span;              /* sectors the workload uses: min(capacity, DRV_SPAN) */
    uint32_t req_sectors;       /* IN/OUT sectors per request: seg_max * size_max, DRV_REQ_SECTORS */
    uint32_t seg_bytes;         /* bytes per data segment (size_max) */
    uint32_t max_dsegs;         /* data segments per request (seg_max), <= DRV_MAX_DSEGS */
    uint16_t cfg_nq;            /* request queues the config offers (num_queues) */
    uint32_t max_discard_sectors, max_discard_seg, max_wz_sectors, max_wz_seg;
    bool wz_may_unmap;
    bool ro_offered;            /* writes must fail with IOERR (BLK-27) */
    /* the pool */
    uint64_t pool;              /* guest address of DRV_MAX_REQS slots */
    const uint8_t *pool_host;   /* the same, for reading what the device wrote */
    struct blk_req req[DRV_MAX_REQS];
    uint16_t free_head;
    unsigned inflight;
    unsigned data_errors;
    unsigned recoveries;
    /* the shadow */
    uint8_t *shadow;            /* DRV_SPAN * SECTOR bytes, then the scratch */
    uint8_t *scratch;           /* DRV_REQ_SECTORS * SECTOR: data of writes that must not land (RO) */
    uint8_t known[DRV_SPAN];
    uint8_t readers[DRV_SPAN];  /* shared locks */
    uint8_t writer[DRV_SPAN];   /* exclusive lock */
};

/* ---- slots and locks ---- */

static uint64_t slot_gpa(const struct blk_drv *b, const struct blk_req *r)
{
    return b->pool + (uint64_t)(r - b->req) * SLOT_BYTES;
}

static const uint8_t *slot_host(const struct blk_drv *b, const struct blk_req *r)
{
    return b->pool_host + (size_t)(r - b->req) * SLOT_BYTES;
}

static bool lock_range(struct blk_drv *b, uint32_t s, uint32_t n, uint8_t kind)
{
    for (uint32_t i = s; i < s + n; i++)
        if (b->writer[i] || (kind == L_EXCL && b->readers[i]))
            return false;
    for (uint32_t i = s; i < s + n; i++) {
        if (kind == L_EXCL)
            b->writer[i] = 1;
        else
            b->readers[i]++;
    }
    return true;
}

static void unlock_range(struct blk_drv *b, const struct blk_req *r)
{
    for (uint32_t i = r->sector; i < r->sector + r->nsec && r->lock != L_NONE; i++) {
        if (r->lock == L_EXCL)
            b->writer[i] = 0;
        else
            b->readers[i]--;
    }
}

static struct blk_req *req_get(struct blk_drv *b)
{
    if (b->free_head >= DRV_MAX_REQS)
        return NULL;
    struct blk_req *r = &b->req[b->free_head];
    b->free_head = r->next_free;
    memset(r, 0, sizeof(*r));
    r->busy = true;
    b->inflight++;
    return r;
}

static void req_put(struct blk_drv *b, struct blk_req *r)
{
    unlock_range(b, r);
    r->busy = false;
    r->next_free = b->free_head;
    b->free_head = (uint16_t)(r - b->req);
    b->inflight--;
}

static void forget(struct blk_drv *b, uint32_t s, uint32_t n)
{
    memset(b->known + s, 0, n);
}

/* A request that will never complete: a write may or may not have reached the medium, so its
 * sectors are no longer known (5.2.6: nothing is promised about an uncompleted request). */
static void drop(struct blk_drv *b, struct blk_req *r)
{
    if (r->lock == L_EXCL)
        forget(b, r->sector, r->nsec);
    req_put(b, r);
}

static void drop_queue(struct blk_drv *b, int q)
{
    for (unsigned i = 0; i < DRV_MAX_REQS; i++)
        if (b->req[i].busy && (q < 0 || b->req[i].queue == q))
            drop(b, &b->req[i]);
}

/* ---- building requests (5.2.6, D-15) ---- */

/* Write the header (and poison the status byte), build the chain, add it and kick.
 * 0 = posted, 1 = no room in the ring now, -1 = impossible. */
static int post(struct blk_drv *b, struct blk_req *r, uint32_t type)
{
    const struct vqf_dma *dma = &b->vd.plat.dma;
    uint64_t base = slot_gpa(b, r);
    uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE + 1];
    vqf_put_le32(hdr, type);
    vqf_put_le32(hdr + 4, 0);
    /* The sector field is 0 except for IN/OUT (5.2.6, BLK-12). */
    vqf_put_le64(hdr + 8, type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ? r->sector : 0);
    hdr[VIRTIO_BLK_REQ_HDR_SIZE] = STATUS_POISON;
    if (vqf_dma_write(dma, base + SLOT_HDR, hdr, sizeof(hdr)) != 0)
        return -1;
    struct vqf_seg sg[DRV_MAX_SEGS];
    unsigned n = 0, nout, nin;
    sg[n++] = (struct vqf_seg){base + SLOT_HDR, VIRTIO_BLK_REQ_HDR_SIZE, 0};
    uint32_t data = 0;
    if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT)
        data = r->nsec * SECTOR;
    else if (type == VIRTIO_BLK_T_GET_ID)
        data = VIRTIO_BLK_ID_BYTES;
    /* IN and GET_ID data is device-writable; OUT, DISCARD and WRITE_ZEROES data readable. */
    unsigned write = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    if (data && b->seg_bytes == 0)
        return -1; /* size_max 0: no data segment can carry anything */
    /* size_max splits the data into segments, at most seg_max of them (5.2.4). */
    for (uint32_t off = 0; off < data; off += b->seg_bytes) {
        if (n > b->max_dsegs)
            return -1;
        uint32_t len = data - off < b->seg_bytes ? data - off : b->seg_bytes;
        sg[n++] = (struct vqf_seg){base + SLOT_DATA + off, len, write};
    }
    if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
        if (b->max_dsegs == 0)
            return -1;
        sg[n++] = (struct vqf_seg){base + SLOT_DWZ, r->ndwz * VIRTIO_BLK_DISCARD_SEG_SIZE, 0};
    }
    nout = write ? 1 : n;
    sg[n++] = (struct vqf_seg){base + SLOT_STATUS, 1, 1};
    nin = n - nout;
    uint16_t q = r->queue;
    struct vqf_vq_drv *vq = &b->vd.q[q].vq;
    unsigned flags = (b->params.flags & VQF_DRV_F_INDIRECT) && vqf_vdrv_has(&b->vd, VIRTIO_F_INDIRECT_DESC)
                         ? VQF_ADD_INDIRECT
                         : 0;
    int rc = vqf_vq_drv_add(vq, sg, nout, nin, (uint32_t)(r - b->req), flags);
    if (rc < 0) {
        /* No room in an empty ring means a chain longer than the queue: it never fits, and
         * waiting for completions would wait forever. */
        bool empty = vqf_vq_drv_num_free(vq) >= b->vd.q[q].cfg.size;
        return rc == -VQF_ERR_NOSPACE && !empty ? 1 : -1;
    }
    vqf_vdrv_kick(&b->vd, q);
    return 0;
}

/* Write data for sectors [s, s+n): a pattern of the op's seed, so that a stale or misplaced
 * sector is told apart from the right one. */
static void pattern(uint8_t *p, uint32_t bytes, uint64_t seed)
{
    /* Four independent lanes of an additive sequence: cheap enough for 4 KiB per request (the
     * compiler vectorises it), and no two words of a request, nor two seeds, share a value. */
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t v0 = (seed ^ (seed >> 31)) * 0xbf58476d1ce4e5b9ull, v1 = v0 + k, v2 = v1 + k, v3 = v2 + k;
    for (uint32_t i = 0; i + 32 <= bytes; i += 32) {
        memcpy(p + i, &v0, 8);
        memcpy(p + i + 8, &v1, 8);
        memcpy(p + i + 16, &v2, 8);
        memcpy(p + i + 24, &v3, 8);
        v0 += 4 * k;
        v1 += 4 * k;
        v2 += 4 * k;
        v3 += 4 * k;
    }
}

/* The sector range of an op: [s, s+n) inside the span (BLK-10), n in 1..max. */
static void pick_range(const struct blk_drv *b, const struct vqf_workload_op *op, uint32_t max, uint32_t *s,
                       uint32_t *n)
{
    uint32_t want = op->arg1 ? op->arg1 : 1;
    if (max > b->span)
        max = b->span;
    *n = want < max ? want : max;
    *s = op->arg0 % (b->span - *n + 1);
}

static int submit_rw(struct blk_drv *b, struct blk_req *r, const struct vqf_workload_op *op)
{
    if (r->kind == K_WRITE && vqf_vdrv_has(&b->vd, VIRTIO_BLK_F_RO))
        return -1; /* a read-only disk takes no writes from a driver that accepted RO */
    if (b->req_sectors == 0 || b->span == 0)
        return -1;
    pick_range(b, op, b->req_sectors, &r->sector, &r->nsec);
    r->lock = r->kind == K_WRITE ? L_EXCL : L_SHARED;
    if (!lock_range(b, r->sector, r->nsec, r->lock)) {
        r->lock = L_NONE;
        return 1;
    }
    if (r->kind == K_READ) {
        r->expect = VIRTIO_BLK_S_OK;
        return post(b, r, VIRTIO_BLK_T_IN);
    }
    /* BLK-27: a device that offers RO refuses the write and keeps its data; the shadow then
     * keeps the old bytes and the read-back checks that nothing changed. */
    uint32_t bytes = r->nsec * SECTOR;
    uint8_t *src = b->ro_offered ? b->scratch : b->shadow + (size_t)r->sector * SECTOR;
    pattern(src, bytes, op->seed ^ ((uint64_t)b->params.seed << 32) ^ r->sector);
    if (vqf_dma_write(&b->vd.plat.dma, slot_gpa(b, r) + SLOT_DATA, src, bytes) != 0)
        return -1;
    if (!b->ro_offered)
        memset(b->known + r->sector, 1, r->nsec);
    r->expect = b->ro_offered ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
    return post(b, r, VIRTIO_BLK_T_OUT);
}

static int submit_dwz(struct blk_drv *b, struct blk_req *r, const struct vqf_workload_op *op)
{
    bool wz = r->kind == K_WZ;
    if (!vqf_vdrv_has(&b->vd, wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD) ||
        vqf_vdrv_has(&b->vd, VIRTIO_BLK_F_RO))
        return -1;
    uint32_t max_sec = wz ? b->max_wz_sectors : b->max_discard_sectors;
    uint32_t max_seg = wz ? b->max_wz_seg : b->max_discard_seg;
    if (max_seg > DRV_MAX_DWZ)
        max_seg = DRV_MAX_DWZ;
    if (b->span == 0 || max_sec == 0 || max_seg == 0)
        return -1;
    /* Each segment carries at most max_*_sectors (5.2.4). */
    uint32_t k = 1 + (uint32_t)(op->seed % max_seg);
    uint64_t most = (uint64_t)max_sec * k;
    pick_range(b, op, most < b->span ? (uint32_t)most : b->span, &r->sector, &r->nsec);
    if (k > r->nsec)
        k = r->nsec;
    r->lock = L_EXCL;
    if (!lock_range(b, r->sector, r->nsec, L_EXCL)) {
        r->lock = L_NONE;
        return 1;
    }
    uint8_t rec[DRV_MAX_DWZ * VIRTIO_BLK_DISCARD_SEG_SIZE];
    for (uint32_t i = 0; i < k; i++) {
        uint32_t a = r->sector + (uint32_t)((uint64_t)r->nsec * i / k);
        uint32_t e = r->sector + (uint32_t)((uint64_t)r->nsec * (i + 1) / k);
        uint8_t *p = rec + i * VIRTIO_BLK_DISCARD_SEG_SIZE;
        vqf_put_le64(p, a);
        vqf_put_le32(p + 8, e - a);
        /* BLK-22: unmap is 0 for DISCARD; for WRITE_ZEROES only when the device may unmap. */
        vqf_put_le32(p + 12, wz && b->wz_may_unmap && ((op->seed >> 8) & 1u) ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
    }
    r->ndwz = (uint8_t)k;
    if (vqf_dma_write(&b->vd.plat.dma, slot_gpa(b, r) + SLOT_DWZ, rec, k * VIRTIO_BLK_DISCARD_SEG_SIZE) != 0)
        return -1;
    r->expect = b->ro_offered ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
    if (!b->ro_offered) {
        /* BLK-32: zeroed sectors read back as zeroes; discarded ones hold anything (BLK-23). */
        if (wz) {
            memset(b->shadow + (size_t)r->sector * SECTOR, 0, (size_t)r->nsec * SECTOR);
            memset(b->known + r->sector, 1, r->nsec);
        } else {
            forget(b, r->sector, r->nsec);
        }
    }
    return post(b, r, wz ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD);
}

static int blk_drv_submit(void *p, const struct vqf_workload_op *op)
{
    struct blk_drv *b = p;
    if (!b->live || op->kind >= K_COUNT)
        return -1;
    if (op->kind == K_FLUSH && !vqf_vdrv_has(&b->vd, VIRTIO_BLK_F_FLUSH))
        return -1; /* BLK-01: no flushes without FLUSH */
    struct blk_req *r = req_get(b);
    if (!r)
        return 1;
    r->kind = (uint8_t)op->kind;
    r->queue = (uint16_t)(op->queue % b->nq);
    int rc;
    switch (op->kind) {
    case K_WRITE:
    case K_READ:
        rc = submit_rw(b, r, op);
        break;
    case K_DISCARD:
    case K_WZ:
        rc = submit_dwz(b, r, op);
        break;
    case K_FLUSH:
        r->expect = VIRTIO_BLK_S_OK;
        rc = post(b, r, VIRTIO_BLK_T_FLUSH);
        break;
    default:
        r->expect = VIRTIO_BLK_S_OK;
        rc = post(b, r, VIRTIO_BLK_T_GET_ID);
        break;
    }
    if (rc != 0)
        drop(b, r);
    return rc;
}

static int blk_drv_probe(void *p);
static int read_config(struct blk_drv *b);

/* ---- completion ---- */

/* GET_ID (5.2.6): NUL-padded ASCII, no terminator when all 20 bytes are used. */
static bool id_ok(const uint8_t *id)
{
    unsigned i = 0;
    while (i < VIRTIO_BLK_ID_BYTES && id[i] >= 0x20 && id[i] < 0x7f)
        i++;
    for (; i < VIRTIO_BLK_ID_BYTES; i++)
        if (id[i] != 0)
            return false;
    return true;
}

/* A read of [s, s+n) completed OK: known sectors must match, unknown ones become known. */
static void check_read(struct blk_drv *b, const uint8_t *data, uint32_t s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *sh = b->shadow + (size_t)(s + i) * SECTOR;
        const uint8_t *got = data + (size_t)i * SECTOR;
        if (!b->known[s + i]) {
            memcpy(sh, got, SECTOR);
            b->known[s + i] = 1;
        } else if (memcmp(sh, got, SECTOR) != 0) {
            b->data_errors++;
        }
    }
}

/* One used buffer. Returns 1 when the op is finished, 0 when it went on (read-back), -1 when
 * the completion is not one the protocol allows: a status byte that is no status, or a used
 * len that is neither the whole answer (D-15: data + 1) nor the lone status byte of a failed
 * request. The device is then broken (or lying about which buffers it gave back), so the
 * caller resets it before any of these buffers is used again (3.3.1, CLEAN-02). The used len
 * is checked exactly (2.7.8.2): bytes past it are not looked at (SPLIT-USD-04). */
static int complete(struct blk_drv *b, struct blk_req *r, uint32_t len)
{
    const uint8_t *host = slot_host(b, r);
    bool in = r->kind == K_READ || (r->kind == K_WRITE && r->phase == 1);
    uint32_t want_len = in ? r->nsec * SECTOR + 1 : r->kind == K_GET_ID ? VIRTIO_BLK_ID_BYTES + 1 : 1;
    uint8_t status = len ? host[SLOT_STATUS] : STATUS_POISON;
    bool failed = status == VIRTIO_BLK_S_IOERR || status == VIRTIO_BLK_S_UNSUPP;
    if (status > VIRTIO_BLK_S_UNSUPP || (len != want_len && !(len == 1 && failed))) {
        b->data_errors++;
        return -1;
    }
    bool good = len == want_len && status == r->expect;
    /* BLK-25: the capacity may have shrunk under a request made before the change; its IOERR
     * is then the right answer, not a data error. */
    if (!good && len == 1 && status == VIRTIO_BLK_S_IOERR && r->nsec &&
        (uint64_t)r->sector + r->nsec > b->capacity) {
        drop(b, r);
        return 1;
    }
    if (!good) {
        b->data_errors++;
        drop(b, r);
        return 1;
    }
    if (in && status == VIRTIO_BLK_S_OK)
        check_read(b, host + SLOT_DATA, r->sector, r->nsec);
    else if (r->kind == K_GET_ID && !id_ok(host + SLOT_DATA))
        b->data_errors++;
    if (r->kind == K_WRITE && r->phase == 0 && (uint64_t)r->sector + r->nsec <= b->capacity) {
        /* Read back what was written while the range is still held (5.2.6: the write has
         * completed, so a later read sees it). Not when the capacity shrank under the write:
         * the read would reach past it (BLK-10). */
        r->phase = 1;
        r->expect = VIRTIO_BLK_S_OK;
        if (post(b, r, VIRTIO_BLK_T_IN) == 0)
            return 0;
    }
    req_put(b, r);
    return 1;
}

/* The device did something no honest device does, or asked for a reset: forget everything in
 * flight, reset it (3.3) and initialise again. A device that lies again during the new probe
 * is not chased recursively: the driver then stays down until the next control(). */
static void recover(struct blk_drv *b)
{
    drop_queue(b, -1);
    b->live = false;
    b->recoveries++;
    if (b->in_recovery)
        return;
    b->in_recovery = true;
    vqf_vdrv_reset(&b->vd);
    blk_drv_probe(b);
    b->in_recovery = false;
}

static int blk_drv_interrupt(void *p)
{
    struct blk_drv *b = p;
    if (!b->live)
        return 0;
    uint32_t isr = vqf_vdrv_ack_interrupt(&b->vd);
    if (b->vd.needs_reset) {
        recover(b); /* 2.1.2: DEVICE_NEEDS_RESET, the driver resets the device */
        return 0;
    }
    /* BLK-09 (5.2.6.1): on a configuration change, look at the capacity again, before any
     * completion can lead to a new request (a write's read-back) that must respect it. */
    if ((isr & VIRTIO_MMIO_INT_CONFIG) && read_config(b) != 0) {
        recover(b);
        return 0;
    }
    int done = 0;
    for (uint16_t q = 0; q < b->nq; q++) {
        struct vqf_vq_drv *vq = &b->vd.q[q].vq;
        if (!b->vd.q[q].live)
            continue;
        /* Reclaim with callbacks off, then turn them back on and look again: a buffer used in
         * between would otherwise wait for an interrupt that was never asked for (2.7.7.1,
         * 2.7.10 used_event). */
        do {
            vqf_vq_drv_disable_cb(vq);
            for (;;) {
                uint32_t tok, len;
                int rc = vqf_vq_drv_get_used(vq, &tok, &len);
                if (rc == 0)
                    break;
                /* The ring half rejected the entry (D-02, D-03, D-04, D-07): nothing it says
                 * can be trusted, so nothing of it is used. */
                if (rc < 0 || tok >= DRV_MAX_REQS || !b->req[tok].busy || b->req[tok].queue != q) {
                    recover(b);
                    return done;
                }
                    int c = complete(b, &b->req[tok], len);
                if (c < 0) {
                    recover(b);
                    return done;
                }
                done += c;
                if (!b->live)
                    return done;
            }
        } while (!vqf_vq_drv_enable_cb(vq));
    }
    return done;
}

/* ---- configuration (5.2.4) ---- */

/* Read the field at off of feature `bit` into c (same offset), if that feature was negotiated:
 * a field of a feature that is not there is not read at all (5.2.4: it exists only with its
 * feature bit). Each read runs the generation loop (2.5.1, CFG-02). */
static int cfg_field(struct blk_drv *b, int bit, uint32_t off, uint8_t *c, uint32_t len)
{
    if (bit >= 0 && !vqf_vdrv_has(&b->vd, (unsigned)bit))
        return 0;
    return vqf_vdrv_config_read(&b->vd, off, c + off, len);
}

/* The config structure (5.2.4): the fields of the negotiated features, and the limits the
 * workload has to respect. */
static int read_config(struct blk_drv *b)
{
    uint8_t c[VIRTIO_BLK_CFG_SIZE] = {0};
    if (cfg_field(b, -1, VIRTIO_BLK_CFG_CAPACITY, c, 8) != 0 ||
        cfg_field(b, VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_CFG_SIZE_MAX, c, 4) != 0 ||
        cfg_field(b, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_CFG_SEG_MAX, c, 4) != 0 ||
        cfg_field(b, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_CFG_BLK_SIZE, c, 4) != 0 ||
        cfg_field(b, VIRTIO_BLK_F_MQ, VIRTIO_BLK_CFG_NUM_QUEUES, c, 2) != 0 ||
        cfg_field(b, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, c, 12) != 0 ||
        cfg_field(b, VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS, c, 9) != 0)
        return -1;
    const struct vqf_vdrv *v = &b->vd;
    b->capacity = vqf_le64(c + VIRTIO_BLK_CFG_CAPACITY);
    b->span = b->capacity < DRV_SPAN ? (uint32_t)b->capacity : DRV_SPAN;
    uint32_t segs = DRV_MAX_DSEGS;
    if (vqf_vdrv_has(v, VIRTIO_BLK_F_SEG_MAX)) {
        uint32_t m = vqf_le32(c + VIRTIO_BLK_CFG_SEG_MAX);
        segs = m < segs ? m : segs;
    }
    b->seg_bytes = DRV_REQ_SECTORS * SECTOR;
    if (vqf_vdrv_has(v, VIRTIO_BLK_F_SIZE_MAX)) {
        uint32_t m = vqf_le32(c + VIRTIO_BLK_CFG_SIZE_MAX);
        b->seg_bytes = m < b->seg_bytes ? m : b->seg_bytes;
    }
    /* A request's data fits seg_max segments of size_max bytes (5.2.4), in whole sectors. */
    uint64_t bytes = (uint64_t)segs * b->seg_bytes;
    b->req_sectors = bytes / SECTOR < DRV_REQ_SECTORS ? (uint32_t)(bytes / SECTOR) : DRV_REQ_SECTORS;
    /* Zero when the feature is absent: those request types are then not made. */
    b->max_discard_sectors = vqf_le32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS);
    b->max_discard_seg = vqf_le32(c + VIRTIO_BLK_CFG_MAX_DISCARD_SEG);
    b->max_wz_sectors = vqf_le32(c + VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS);
    b->max_wz_seg = vqf_le32(c + VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG);
    b->wz_may_unmap = c[VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP] != 0;
    /* BLK-27 binds the device when RO is offered, whether or not the driver took it. */
    b->ro_offered = (v->dev_features[0] >> VIRTIO_BLK_F_RO) & 1u;
    uint16_t nq = 1;
    if (vqf_vdrv_has(v, VIRTIO_BLK_F_MQ)) {
        uint16_t m = vqf_le16(c + VIRTIO_BLK_CFG_NUM_QUEUES);
        uint16_t cap = b->params.num_queues ? b->params.num_queues : VQF_VDRV_MAX_QUEUES;
        nq = m < cap ? m : cap;
        if (nq > VQF_VDRV_MAX_QUEUES)
            nq = VQF_VDRV_MAX_QUEUES;
        if (nq == 0)
            nq = 1; /* requestq1 always exists (5.2.2) */
    }
    b->cfg_nq = nq; /* taken at probe only: queues do not come and go under live traffic */
    b->max_dsegs = segs;
    return 0;
}

/* ---- lifecycle ---- */

static int blk_drv_probe(void *p)
{
    struct blk_drv *b = p;
    drop_queue(b, -1);
    b->live = false;
    uint64_t want[2] = {BLK_KNOWN_FEATURES, 0};
    if (b->params.features[0] | b->params.features[1])
        want[0] &= b->params.features[0];
    if (vqf_vdrv_negotiate(&b->vd, VIRTIO_ID_BLOCK, want) != 0)
        return -1;
    /* 3.1.1 step 7: device-specific setup (config, queues) between FEATURES_OK and DRIVER_OK. */
    if (read_config(b) != 0) {
        vqf_vdrv_fail(&b->vd);
        return -1;
    }
    if (vqf_vdrv_pool(&b->vd, (uint64_t)DRV_MAX_REQS * SLOT_BYTES, 64, &b->pool, &b->pool_host) != 0)
        return -1;
    uint16_t qsize = b->params.queue_size ? b->params.queue_size : 256;
    b->vd.ind_bytes_per_queue = 0;
    if ((b->params.flags & VQF_DRV_F_INDIRECT) && vqf_vdrv_has(&b->vd, VIRTIO_F_INDIRECT_DESC))
        b->vd.ind_bytes_per_queue = (uint32_t)qsize * DRV_MAX_SEGS * VIRTQ_DESC_SIZE;
    b->nq = b->cfg_nq;
    for (uint16_t q = 0; q < b->nq; q++) {
        if (vqf_vdrv_setup_queue(&b->vd, q, b->params.queue_size) != 0) {
            if (q == 0) {
                vqf_vdrv_fail(&b->vd);
                return -1;
            }
            b->nq = q; /* fewer queues than num_queues promised: use those that work */
            break;
        }
    }
    vqf_vdrv_driver_ok(&b->vd);
    b->live = true;
    return 0;
}

static int blk_drv_control(void *p, unsigned request, uint32_t arg)
{
    struct blk_drv *b = p;
    switch (request) {
    case VQF_CTL_RESET:
        drop_queue(b, -1);
        vqf_vdrv_reset(&b->vd);
        return blk_drv_probe(b);
    case VQF_CTL_QUEUE_RESET: {
        if (!b->live || !vqf_vdrv_has(&b->vd, VIRTIO_F_RING_RESET))
            return -1; /* 2.6.1: queue reset exists only with VIRTIO_F_RING_RESET */
        uint16_t q = (uint16_t)(arg % b->nq);
        if (vqf_vdrv_queue_reset(&b->vd, q) != 0) {
            recover(b);
            return b->live ? 0 : -1;
        }
        /* 2.6.1.1.2: the device dropped the queue's buffers, completed or not. */
        drop_queue(b, q);
        return 0;
    }
    case VQF_CTL_CONFIG:
        return b->live ? read_config(b) : -1;
    default:
        return -1;
    }
}

static unsigned blk_drv_inflight(void *p)
{
    return ((struct blk_drv *)p)->inflight;
}

static unsigned blk_drv_data_errors(void *p)
{
    return ((struct blk_drv *)p)->data_errors;
}

static void blk_drv_remove(void *p)
{
    struct blk_drv *b = p;
    drop_queue(b, -1);
    b->live = false;
    vqf_vdrv_reset(&b->vd); /* 3.3: reset before the buffers go away */
}

static void *blk_drv_create(const struct vqf_driver_platform *plat, const struct vqf_driver_params *params)
{
    struct blk_drv *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    if (params)
        b->params = *params;
    /* Not cleared: a sector's bytes are looked at only once it is known. */
    b->shadow = malloc((size_t)(DRV_SPAN + DRV_REQ_SECTORS) * SECTOR);
    b->scratch = b->shadow ? b->shadow + (size_t)DRV_SPAN * SECTOR : NULL;
    if (!b->shadow || vqf_vdrv_init(&b->vd, plat) != 0) {
        free(b->shadow);
        free(b);
        return NULL;
    }
    for (unsigned i = 0; i < DRV_MAX_REQS; i++)
        b->req[i].next_free = (uint16_t)(i + 1);
    return b;
}

static void blk_drv_destroy(void *p)
{
    struct blk_drv *b = p;
    if (!b)
        return;
    vqf_vdrv_destroy(&b->vd);
    free(b->shadow);
    free(b);
}

const struct vqf_driver_adapter vqf_blk_driver = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .create = blk_drv_create,
    .destroy = blk_drv_destroy,
    .probe = blk_drv_probe,
    .submit = blk_drv_submit,
    .interrupt = blk_drv_interrupt,
    .control = blk_drv_control,
    .inflight = blk_drv_inflight,
    .data_errors = blk_drv_data_errors,
    .remove = blk_drv_remove,
};
