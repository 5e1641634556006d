/* Reference virtio-rng (entropy) driver, spec 5.4: one request queue of device-writable
 * buffers (RNG-01). Each completion must carry between 1 byte and the buffer size (RNG-03,
 * D-18); the driver takes exactly `len` bytes as entropy (RNG-02) and never looks past them.
 * Buffers come from one guest pool allocated at the first probe. A device that breaks the ring
 * contract or sets DEVICE_NEEDS_RESET gets the in-flight requests dropped, a reset and a new
 * probe. */
#include <stdlib.h>

#include "emulator/driver/drivers.h"
#include "emulator/transport/vdrv.h"

#define RNG_KNOWN_FEATURES                                                                          \
    (VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |   \
     VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) |  \
     VQF_BIT(VIRTIO_F_RING_RESET))
#define DRV_MAX_REQS 64u
#define SLOT_BYTES 1024u /* largest request */
#define RNG_QUEUE 0      /* requestq (5.4.2) */

struct rng_req {
    bool busy;
    uint16_t next_free;
    uint32_t len; /* bytes asked for */
};

struct rng_drv {
    struct vqf_vdrv vd;
    struct vqf_driver_params params;
    bool live;
    bool in_recovery;
    uint64_t pool;
    const uint8_t *pool_host;
    struct rng_req req[DRV_MAX_REQS];
    uint16_t free_head;
    unsigned inflight;
    unsigned data_errors;
    unsigned recoveries;
    uint64_t entropy_bytes; /* bytes taken (RNG-02) */
    uint64_t pool_mix;      /* what a kernel would stir into its entropy pool */
};

static void req_put(struct rng_drv *r, struct rng_req *q)
{
    q->busy = false;
    q->next_free = r->free_head;
    r->free_head = (uint16_t)(q - r->req);
    r->inflight--;
}

static void drop_all(struct rng_drv *r)
{
    for (unsigned i = 0; i < DRV_MAX_REQS; i++)
        if (r->req[i].busy)
            req_put(r, &r->req[i]);
}

static int rng_drv_submit(void *p, const struct vqf_workload_op *op)
{
    struct rng_drv *r = p;
    if (!r->live || op->kind != 0)
        return -1;
    if (r->free_head >= DRV_MAX_REQS)
        return 1;
    struct rng_req *q = &r->req[r->free_head];
    uint32_t len = op->arg0 ? op->arg0 : 1;
    if (len > SLOT_BYTES)
        len = SLOT_BYTES;
    uint16_t slot = r->free_head;
    /* RNG-01: the one segment is device-writable. */
    struct vqf_seg sg = {r->pool + (uint64_t)slot * SLOT_BYTES, len, 1};
    unsigned flags = (r->params.flags & VQF_DRV_F_INDIRECT) && vqf_vdrv_has(&r->vd, VIRTIO_F_INDIRECT_DESC)
                         ? VQF_ADD_INDIRECT
                         : 0;
    int rc = vqf_vq_drv_add(&r->vd.q[RNG_QUEUE].vq, &sg, 0, 1, slot, flags);
    if (rc < 0)
        return rc == -VQF_ERR_NOSPACE ? 1 : -1;
    r->free_head = q->next_free;
    q->busy = true;
    q->len = len;
    r->inflight++;
    vqf_vdrv_kick(&r->vd, RNG_QUEUE);
    return 0;
}

static int rng_drv_probe(void *p);

/* The device broke the ring contract or asked for a reset: drop, reset (3.3), probe again. */
static void recover(struct rng_drv *r)
{
    drop_all(r);
    r->live = false;
    r->recoveries++;
    if (r->in_recovery)
        return;
    r->in_recovery = true;
    vqf_vdrv_reset(&r->vd);
    rng_drv_probe(r);
    r->in_recovery = false;
}

/* One used buffer: RNG-03 / D-18 bound its len, RNG-02 takes exactly len bytes. Returns -1
 * when the len is outside 1..buffer: the device is broken (or lying about which buffers it
 * gave back) and must be reset before the buffer is used again (3.3.1, CLEAN-02). */
static int reclaim(struct rng_drv *r, struct rng_req *q, uint32_t len)
{
    if (len == 0 || len > q->len) {
        r->data_errors++;
        return -1;
    }
    /* The rest of the buffer is not read: only len bytes are entropy. */
    const uint8_t *b = r->pool_host + (size_t)(q - r->req) * SLOT_BYTES;
    uint64_t h = r->pool_mix;
    for (uint32_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    r->pool_mix = h;
    r->entropy_bytes += len;
    req_put(r, q);
    return 0;
}

static int rng_drv_interrupt(void *p)
{
    struct rng_drv *r = p;
    if (!r->live)
        return 0;
    vqf_vdrv_ack_interrupt(&r->vd);
    if (r->vd.needs_reset) {
        recover(r); /* 2.1.2 */
        return 0;
    }
    int done = 0;
    struct vqf_vq_drv *vq = &r->vd.q[RNG_QUEUE].vq;
    /* Callbacks off while reclaiming, back on and one more look (2.7.7.1, 2.7.10). */
    do {
        vqf_vq_drv_disable_cb(vq);
        for (;;) {
            uint32_t tok, len;
            int rc = vqf_vq_drv_get_used(vq, &tok, &len);
            if (rc == 0)
                break;
            if (rc < 0 || tok >= DRV_MAX_REQS || !r->req[tok].busy) {
                recover(r); /* D-02/D-03/D-04: nothing of this entry is trusted */
                return done;
            }
            if (reclaim(r, &r->req[tok], len) != 0) {
                recover(r);
                return done;
            }
            done++;
        }
    } while (!vqf_vq_drv_enable_cb(vq));
    return done;
}

static int rng_drv_probe(void *p)
{
    struct rng_drv *r = p;
    drop_all(r);
    r->live = false;
    uint64_t want[2] = {RNG_KNOWN_FEATURES, 0};
    if (r->params.features[0] | r->params.features[1])
        want[0] &= r->params.features[0];
    if (vqf_vdrv_negotiate(&r->vd, VIRTIO_ID_RNG, want) != 0)
        return -1;
    if (vqf_vdrv_pool(&r->vd, (uint64_t)DRV_MAX_REQS * SLOT_BYTES, 64, &r->pool, &r->pool_host) != 0)
        return -1;
    uint16_t qsize = r->params.queue_size ? r->params.queue_size : 256;
    r->vd.ind_bytes_per_queue = 0;
    if ((r->params.flags & VQF_DRV_F_INDIRECT) && vqf_vdrv_has(&r->vd, VIRTIO_F_INDIRECT_DESC))
        r->vd.ind_bytes_per_queue = (uint32_t)qsize * VIRTQ_DESC_SIZE;
    if (vqf_vdrv_setup_queue(&r->vd, RNG_QUEUE, r->params.queue_size) != 0) {
        vqf_vdrv_fail(&r->vd);
        return -1;
    }
    vqf_vdrv_driver_ok(&r->vd);
    r->live = true;
    return 0;
}

static int rng_drv_control(void *p, unsigned request, uint32_t arg)
{
    struct rng_drv *r = p;
    switch (request) {
    case VQF_CTL_RESET:
        drop_all(r);
        vqf_vdrv_reset(&r->vd);
        return rng_drv_probe(r);
    case VQF_CTL_QUEUE_RESET:
        if (!r->live || !vqf_vdrv_has(&r->vd, VIRTIO_F_RING_RESET))
            return -1; /* 2.6.1 */
        if (vqf_vdrv_queue_reset(&r->vd, RNG_QUEUE) != 0) {
            recover(r);
            return r->live ? 0 : -1;
        }
        drop_all(r); /* 2.6.1.1.2: the queue's buffers are gone */
        return 0;
    case VQF_CTL_CONFIG:
        return r->live ? 0 : -1; /* 5.4.4: no configuration space */
    default:
        return -1;
    }
}

static unsigned rng_drv_inflight(void *p)
{
    return ((struct rng_drv *)p)->inflight;
}

static unsigned rng_drv_data_errors(void *p)
{
    return ((struct rng_drv *)p)->data_errors;
}

static void rng_drv_remove(void *p)
{
    struct rng_drv *r = p;
    drop_all(r);
    r->live = false;
    vqf_vdrv_reset(&r->vd); /* 3.3 */
}

static void *rng_drv_create(const struct vqf_driver_platform *plat, const struct vqf_driver_params *params)
{
    struct rng_drv *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    if (params)
        r->params = *params;
    if (vqf_vdrv_init(&r->vd, plat) != 0) {
        free(r);
        return NULL;
    }
    for (unsigned i = 0; i < DRV_MAX_REQS; i++)
        r->req[i].next_free = (uint16_t)(i + 1);
    return r;
}

static void rng_drv_destroy(void *p)
{
    struct rng_drv *r = p;
    if (!r)
        return;
    vqf_vdrv_destroy(&r->vd);
    free(r);
}

const struct vqf_driver_adapter vqf_rng_driver = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .create = rng_drv_create,
    .destroy = rng_drv_destroy,
    .probe = rng_drv_probe,
    .submit = rng_drv_submit,
    .interrupt = rng_drv_interrupt,
    .control = rng_drv_control,
    .inflight = rng_drv_inflight,
    .data_errors = rng_drv_data_errors,
    .remove = rng_drv_remove,
};
