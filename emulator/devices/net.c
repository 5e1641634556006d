/* Reference virtio-net device (spec 5.1): a loopback. Every frame transmitted on transmitqN
 * comes back on receiveqN (the flow is "steered" to the queue it was sent on, 5.1.9.5.3).
 *
 * Queues (5.1.2, D-16): receiveq1, transmitq1, ..., receiveqN, transmitqN, then the controlq
 * when CTRL_VQ is negotiated. N is max_virtqueue_pairs when MQ is negotiated, else 1, so the
 * controlq index depends on the negotiation.
 *
 * tx (5.1.9.2): process() pops a chain, gathers virtio_net_hdr + frame from its readable
 * descriptors (the header may be split across descriptors), checks it, completes the chain with
 * used len 0 (nothing is written) and puts the frame in the pair's bounded loopback FIFO.
 * rx (5.1.9.3, 5.1.9.4): the backend poll() delivers queued frames into receive buffers: one
 * buffer per packet without MRG_RXBUF, else as many as needed, all but the last filled
 * completely, and all used entries of a packet published with one notify.
 * All data moves through vqf_dma_read / vqf_dma_write, so the oracle sees every access. */
#include <stdlib.h>
#include <string.h>

#include "emulator/devices/devices.h"
#include "emulator/transport/vdev.h"

/* Control virtqueue, spec 5.1.9.5: class, command, data (readable), then ack (writable). */
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0 /* 5.1.9.5.3, data = le16 virtqueue_pairs */
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1

#define NET_MAX_PAIRS 7u        /* 2 * 7 + 1 queues fit VQF_VDEV_MAX_QUEUES */
#define NET_DEFAULT_MQ_PAIRS 2u /* max_virtqueue_pairs when MQ is offered and no count given */
#define NET_MTU 1500u           /* config mtu: in 68..65535 (NET-02) and >= 1280 (NET-03) */
#define NET_ETH_HLEN 14u        /* link header counted by NET-05 / NET-06 */
#define NET_FRAME_MAX (NET_MTU + NET_ETH_HLEN)
#define NET_FIFO_SLOTS 16u      /* loopback frames held per pair; tx waits when full */
#define NET_QUEUE_MAX 256u
#define NET_SEG_CAP 64u         /* longest chain the device accepts (SPLIT-FRM-02 permission) */
#define NET_CTRL_MAX 64u        /* command bytes the device reads from a control request */

static const uint8_t net_mac[6] = {0x52, 0x54, 0x00, 0x51, 0x46, 0x01}; /* locally administered */

/* Features the device can offer: the net ones of 5.1.3 it implements (CSUM, GUEST_CSUM and the
 * GSO family are not offered) and the ring features of 6 (all in bits 0..63, features[0]). */
#define NET_FEATURES                                                                                           \
    (VQF_BIT(VIRTIO_NET_F_MAC) | VQF_BIT(VIRTIO_NET_F_STATUS) | VQF_BIT(VIRTIO_NET_F_MTU) |                    \
     VQF_BIT(VIRTIO_NET_F_MRG_RXBUF) | VQF_BIT(VIRTIO_NET_F_CTRL_VQ) | VQF_BIT(VIRTIO_NET_F_MQ) |             \
     VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |            \
     VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) |       \
     VQF_BIT(VIRTIO_F_RING_RESET))

/* A packet being delivered into mergeable receive buffers (MRG_RXBUF): its used entries are
 * pushed but not published until the last one (NET-55), so it may wait here for buffers. */
struct net_rx_partial {
    bool active;
    uint32_t off;        /* packet bytes (header included) already written */
    uint16_t nbufs;      /* buffers pushed so far */
    uint64_t nb_gpa[2];  /* where num_buffers (header bytes 10, 11) lives in the first buffer */
};

struct net_pair {
    uint8_t *frames;                 /* NET_FIFO_SLOTS * NET_FRAME_MAX bytes */
    uint16_t len[NET_FIFO_SLOTS];
    unsigned head, count;
    struct net_rx_partial rx;
};

struct net_dev {
    struct vqf_vdev vdev;
    uint16_t max_pairs;    /* max_virtqueue_pairs offered */
    uint16_t active_pairs; /* set by VQ_PAIRS_SET, 1 after reset (5.1.9.5.3) */
    uint64_t drops;        /* frames dropped: invalid, too big, no room */
    uint8_t cfg[VIRTIO_NET_CFG_SIZE]; /* the config space as the device set it */
    struct net_pair pair[NET_MAX_PAIRS];
};

static inline struct net_dev *net_of(struct vqf_vdev *d) { return (struct net_dev *)d->backend; }

/* Pairs the negotiation created (5.1.2): max_virtqueue_pairs with MQ, else 1. */
static uint16_t net_pairs(struct vqf_vdev *d)
{
    return vqf_vdev_has(d, VIRTIO_NET_F_MQ) ? net_of(d)->max_pairs : 1;
}

/* Index of the controlq (5.1.2), or -1 when CTRL_VQ is not negotiated. */
static int net_ctrl_index(struct vqf_vdev *d)
{
    return vqf_vdev_has(d, VIRTIO_NET_F_CTRL_VQ) ? 2 * net_pairs(d) : -1;
}

static void net_pair_flush(struct net_pair *p)
{
    p->head = p->count = 0;
    memset(&p->rx, 0, sizeof(p->rx));
}

/* ---- chain helpers: bytes at a chain offset, readable or writable segments only ---- */

/* GPA of the byte at offset off of the writable part of c (0 if past the end). */
static uint64_t chain_gpa(const struct vqf_chain *c, uint32_t off)
{
    for (unsigned i = c->nout; i < c->nseg; i++) {
        if (off < c->seg[i].len)
            return c->seg[i].addr + off;
        off -= c->seg[i].len;
    }
    return 0;
}

/* ---- transmit (5.1.9.2) ---- */

/* Is this tx header acceptable? Unknown flag bits are ignored (NET-41); csum fields are not
 * used without NEEDS_CSUM and this device never uses them (NET-42); hdr_len is never trusted
 * (NET-43). No host GSO feature is offered, so only GSO_NONE can be carried out. */
static bool net_tx_hdr_ok(const uint8_t hdr[VIRTIO_NET_HDR_SIZE])
{
    return (hdr[1] & 0x7fu) == VIRTIO_NET_HDR_GSO_NONE && !(hdr[1] & 0x80u);
}

static int net_tx_one(struct vqf_vdev *d, uint16_t q, struct vqf_vq_dev *vq, struct net_pair *p, bool pair_live)
{
    struct vqf_chain c = {.seg = d->segs, .seg_cap = d->seg_cap};
    int r = vqf_vq_dev_pop(vq, &c);
    if (r <= 0) {
        if (r < 0)
            vqf_vdev_fail(d, q, -r);
        return r;
    }
    /* A transmit buffer is device-readable only (5.1.6, D-16); a writable part or a chain too
     * short for the header cannot be handled safely: the driver broke the queue. */
    if (c.nin != 0 || c.out_len < VIRTIO_NET_HDR_SIZE) {
        vqf_vdev_fail(d, q, VQF_ERR_INVAL);
        return -1;
    }
    uint8_t hdr[VIRTIO_NET_HDR_SIZE];
    if (vqf_vdev_chain_read(d, &c, 0, hdr, sizeof(hdr)) != 0) {
        vqf_vdev_fail(d, q, VQF_ERR_ADDR);
        return -1;
    }
    uint32_t flen = c.out_len - VIRTIO_NET_HDR_SIZE;
    /* With MTU negotiated the device forwards frames up to mtu + link header (NET-06); this
     * device's link carries no more than that even without the feature. */
    bool ok = pair_live && flen > 0 && flen <= NET_FRAME_MAX && net_tx_hdr_ok(hdr) && p->count < NET_FIFO_SLOTS;
    if (ok) {
        unsigned slot = (p->head + p->count) % NET_FIFO_SLOTS;
        if (vqf_vdev_chain_read(d, &c, VIRTIO_NET_HDR_SIZE, p->frames + (size_t)slot * NET_FRAME_MAX, flen) != 0) {
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            return -1;
        }
        p->len[slot] = (uint16_t)flen;
        p->count++;
    } else {
        net_of(d)->drops++;
    }
    /* Nothing is written into a transmit buffer: used len 0 (2.7.8 / 2.8.6: bytes written). */
    if ((r = vqf_vq_dev_push(vq, &c, 0)) < 0) {
        vqf_vdev_fail(d, q, -r);
        return -1;
    }
    return 1;
}

static int net_process_tx(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    struct net_dev *n = net_of(d);
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    uint16_t pi = q / 2;
    if (!vq || pi >= NET_MAX_PAIRS)
        return 0;
    struct net_pair *p = &n->pair[pi];
    /* Pairs beyond the active count are not used (5.1.9.5.3): their frames are dropped. */
    bool live = pi < n->active_pairs;
    int done = 0;
    /* Back-pressure: a frame waits in its ring while the loopback FIFO is full, so an honest
     * pair never loses one; poll() resumes when rx delivery frees a slot. */
    while ((unsigned)done < budget && (!live || p->count < NET_FIFO_SLOTS)) {
        int r = net_tx_one(d, q, vq, p, live);
        if (r <= 0)
            break;
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, q);
    return done;
}

/* ---- control queue (5.1.9.5) ---- */

static int net_process_ctrl(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    struct net_dev *n = net_of(d);
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    int done = 0;
    while (vq && (unsigned)done < budget) {
        struct vqf_chain c = {.seg = d->segs, .seg_cap = d->seg_cap};
        int r = vqf_vq_dev_pop(vq, &c);
        if (r < 0)
            vqf_vdev_fail(d, q, -r);
        if (r <= 0)
            break;
        /* class + command readable, ack writable (5.1.9.5): without room for the ack the
         * request cannot be answered at all. */
        if (c.out_len < 2 || c.in_len < 1) {
            vqf_vdev_fail(d, q, VQF_ERR_INVAL);
            break;
        }
        uint8_t cmd[NET_CTRL_MAX];
        uint32_t len = c.out_len < NET_CTRL_MAX ? c.out_len : NET_CTRL_MAX;
        if (vqf_vdev_chain_read(d, &c, 0, cmd, len) != 0) {
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            break;
        }
        uint8_t ack = VIRTIO_NET_ERR;
        if (cmd[0] == VIRTIO_NET_CTRL_MQ && cmd[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && len >= 4 &&
            vqf_vdev_has(d, VIRTIO_NET_F_MQ)) {
            uint16_t pairs = vqf_le16(cmd + 2);
            /* 1..max_virtqueue_pairs (5.1.9.5.3); pairs no longer used lose their frames. */
            if (pairs >= 1 && pairs <= n->max_pairs) {
                for (uint16_t i = pairs; i < n->active_pairs; i++)
                    net_pair_flush(&n->pair[i]);
                n->active_pairs = pairs;
                ack = VIRTIO_NET_OK;
            }
        }
        if (vqf_vdev_chain_write(d, &c, 0, &ack, 1) != 0) {
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            break;
        }
        if ((r = vqf_vq_dev_push(vq, &c, 1)) < 0) {
            vqf_vdev_fail(d, q, -r);
            break;
        }
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, q);
    return done;
}

/* ---- receive (5.1.9.3, 5.1.9.4) ---- */

/* Pop one receive buffer of queue q: 1, 0 (none), -1 (queue failed). A receive buffer is
 * device-writable only: a readable part is a driver error the device must not write into. */
static int net_rx_pop(struct vqf_vdev *d, uint16_t q, struct vqf_vq_dev *vq, struct vqf_chain *c)
{
    c->seg = d->segs;
    c->seg_cap = d->seg_cap;
    int r = vqf_vq_dev_pop(vq, c);
    if (r < 0) {
        vqf_vdev_fail(d, q, -r);
        return -1;
    }
    if (r == 1 && c->nout != 0) {
        vqf_vdev_fail(d, q, VQF_ERR_INVAL);
        return -1;
    }
    return r;
}

static void net_rx_hdr(uint8_t hdr[VIRTIO_NET_HDR_SIZE], uint16_t num_buffers)
{
    /* flags 0 (NET-56: no GUEST_CSUM), gso NONE (NET-62), csum/gso fields 0 (5.1.6). */
    memset(hdr, 0, VIRTIO_NET_HDR_SIZE);
    vqf_put_le16(hdr + VIRTIO_NET_HDR_NUM_BUFFERS, num_buffers);
}

/* Packet byte at offset off: the header, then the frame. Writes the [off, off+len) range of
 * the packet into the writable part of c starting at chain offset coff. */
static int net_rx_copy(struct vqf_vdev *d, const struct vqf_chain *c, uint32_t coff, const uint8_t *hdr,
                       const uint8_t *frame, uint32_t off, uint32_t len)
{
    if (off < VIRTIO_NET_HDR_SIZE) {
        uint32_t h = VIRTIO_NET_HDR_SIZE - off < len ? VIRTIO_NET_HDR_SIZE - off : len;
        if (vqf_vdev_chain_write(d, c, coff, hdr + off, h) != 0)
            return -1;
        coff += h;
        off += h;
        len -= h;
    }
    if (len && vqf_vdev_chain_write(d, c, coff, frame + (off - VIRTIO_NET_HDR_SIZE), len) != 0)
        return -1;
    return 0;
}

/* Deliver one frame without MRG_RXBUF: the whole packet in one buffer (NET-51), num_buffers
 * 1 (NET-52). A buffer too small for it gets used len 0 and the frame is dropped.
 * 1 = frame consumed, 0 = no buffer yet, -1 = queue failed. */
static int net_rx_single(struct vqf_vdev *d, uint16_t q, struct vqf_vq_dev *vq, const uint8_t *frame, uint32_t flen)
{
    struct vqf_chain c;
    int r = net_rx_pop(d, q, vq, &c);
    if (r <= 0)
        return r;
    uint32_t plen = VIRTIO_NET_HDR_SIZE + flen;
    uint32_t written = 0;
    if (c.in_len >= plen) {
        uint8_t hdr[VIRTIO_NET_HDR_SIZE];
        net_rx_hdr(hdr, 1);
        if (net_rx_copy(d, &c, 0, hdr, frame, 0, plen) != 0) {
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            return -1;
        }
        written = plen;
    } else {
        net_of(d)->drops++;
    }
    if ((r = vqf_vq_dev_push(vq, &c, written)) < 0) {
        vqf_vdev_fail(d, q, -r);
        return -1;
    }
    vqf_vdev_used_notify(d, q);
    return 1;
}

/* Deliver one frame with MRG_RXBUF (5.1.9.4.1): fill buffers in turn, each completely except
 * the last (NET-54); push each, publish once at the end (NET-55) with num_buffers patched into
 * the first buffer's header (NET-50/53). The packet waits in p->rx when buffers run out; if
 * the ring's every buffer is taken and the packet still does not fit, the driver cannot add
 * more, so the packet is cut there and published. 1 = done, 0 = waiting, -1 = failed. */
static int net_rx_merge(struct vqf_vdev *d, uint16_t q, struct vqf_vq_dev *vq, struct net_pair *p,
                        const uint8_t *frame, uint32_t flen, int *bufs)
{
    struct net_rx_partial *rx = &p->rx;
    uint32_t plen = VIRTIO_NET_HDR_SIZE + flen;
    uint8_t hdr[VIRTIO_NET_HDR_SIZE];
    net_rx_hdr(hdr, 1);
    uint16_t qsize = d->q[q].num;
    while (rx->off < plen) {
        if (rx->active && rx->nbufs >= qsize)
            break;
        struct vqf_chain c;
        int r = net_rx_pop(d, q, vq, &c);
        if (r < 0) {
            memset(rx, 0, sizeof(*rx));
            return -1;
        }
        if (r == 0)
            return 0;
        (*bufs)++;
        uint32_t n = plen - rx->off < c.in_len ? plen - rx->off : c.in_len;
        if (!rx->active) {
            /* NET-47: a mergeable buffer holds at least a whole header; a smaller one is
             * returned unused rather than splitting the header across buffers. */
            if (c.in_len < VIRTIO_NET_HDR_SIZE) {
                if ((r = vqf_vq_dev_push(vq, &c, 0)) < 0) {
                    vqf_vdev_fail(d, q, -r);
                    return -1;
                }
                vqf_vdev_used_notify(d, q);
                continue;
            }
            rx->active = true;
            rx->nb_gpa[0] = chain_gpa(&c, VIRTIO_NET_HDR_NUM_BUFFERS);
            rx->nb_gpa[1] = chain_gpa(&c, VIRTIO_NET_HDR_NUM_BUFFERS + 1);
        }
        if (net_rx_copy(d, &c, 0, hdr, frame, rx->off, n) != 0) {
            vqf_vdev_fail(d, q, VQF_ERR_ADDR);
            memset(rx, 0, sizeof(*rx));
            return -1;
        }
        if ((r = vqf_vq_dev_push(vq, &c, n)) < 0) {
            vqf_vdev_fail(d, q, -r);
            memset(rx, 0, sizeof(*rx));
            return -1;
        }
        rx->off += n;
        rx->nbufs++;
    }
    /* Every buffer is pushed: num_buffers, then one publication for all of them. */
    uint8_t nb[2];
    vqf_put_le16(nb, rx->nbufs);
    if (vqf_dma_write(&d->dma, rx->nb_gpa[0], &nb[0], 1) != 0 || vqf_dma_write(&d->dma, rx->nb_gpa[1], &nb[1], 1) != 0) {
        vqf_vdev_fail(d, q, VQF_ERR_ADDR);
        memset(rx, 0, sizeof(*rx));
        return -1;
    }
    if (rx->off < plen)
        net_of(d)->drops++;
    memset(rx, 0, sizeof(*rx));
    vqf_vdev_used_notify(d, q);
    return 1;
}

/* Deliver queued frames of every active pair into its receiveq. Returns buffers used. */
static int net_rx_deliver(struct vqf_vdev *d, unsigned budget)
{
    struct net_dev *n = net_of(d);
    bool mrg = vqf_vdev_has(d, VIRTIO_NET_F_MRG_RXBUF);
    int bufs = 0;
    for (uint16_t pi = 0; pi < n->active_pairs && pi < NET_MAX_PAIRS; pi++) {
        struct net_pair *p = &n->pair[pi];
        uint16_t q = (uint16_t)(2 * pi);
        struct vqf_vq_dev *vq = p->count ? vqf_vdev_vq(d, q) : NULL;
        while (vq && p->count && (unsigned)bufs < budget) {
            const uint8_t *frame = p->frames + (size_t)p->head * NET_FRAME_MAX;
            int r;
            if (mrg) {
                r = net_rx_merge(d, q, vq, p, frame, p->len[p->head], &bufs);
            } else {
                r = net_rx_single(d, q, vq, frame, p->len[p->head]);
                bufs += r > 0;
            }
            if (r <= 0)
                break;
            p->head = (p->head + 1) % NET_FIFO_SLOTS;
            p->count--;
        }
    }
    return bufs;
}

/* ---- backend ops ---- */

static int net_process(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    int ctrl = net_ctrl_index(d);
    if (ctrl >= 0 && q == ctrl)
        return net_process_ctrl(d, q, budget);
    if (q >= 2 * net_pairs(d))
        return 0;
    if (q % 2 == 1)
        return net_process_tx(d, q, budget);
    /* A receiveq kick means new buffers: deliver what waits for them. */
    return net_rx_deliver(d, budget);
}

static int net_poll(struct vqf_vdev *d, unsigned budget)
{
    struct net_dev *n = net_of(d);
    int done = net_rx_deliver(d, budget);
    /* Transmit chains left waiting by a full FIFO resume once delivery made room. */
    for (uint16_t pi = 0; pi < n->active_pairs && pi < NET_MAX_PAIRS && (unsigned)done < budget; pi++) {
        struct net_pair *p = &n->pair[pi];
        struct vqf_vq_dev *vq = vqf_vdev_vq(d, (uint16_t)(2 * pi + 1));
        if (vq && p->count < NET_FIFO_SLOTS && vqf_vq_dev_pending(vq))
            done += net_process_tx(d, (uint16_t)(2 * pi + 1), budget - (unsigned)done);
    }
    return done;
}

static void net_reset(struct vqf_vdev *d)
{
    struct net_dev *n = net_of(d);
    for (unsigned i = 0; i < NET_MAX_PAIRS; i++)
        net_pair_flush(&n->pair[i]);
    n->active_pairs = 1; /* after reset only receiveq1 is used (5.1.9.5.3) */
}

static void net_queue_reset(struct vqf_vdev *d, uint16_t q)
{
    /* A receiveq being reset loses the packet half-delivered into it (its pushed entries
     * went with the ring); the frames still queued are delivered once it is back. */
    if (q % 2 == 0 && q / 2 < NET_MAX_PAIRS && (int)q != net_ctrl_index(d))
        memset(&net_of(d)->pair[q / 2].rx, 0, sizeof(struct net_rx_partial));
}

/* Every net config field is read-only for the driver (NET-15 forbids the writes; NET-04: mtu
 * never changes): a write is undone, so the device keeps presenting what it set. */
static void net_config_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val)
{
    (void)val;
    memcpy(d->config + off, net_of(d)->cfg + off, size);
}

static const struct vqf_vdev_ops net_ops = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .config_write = net_config_write,
    .reset = net_reset,
    .queue_reset = net_queue_reset,
    .process = net_process,
    .poll = net_poll,
};

/* ---- adapter ---- */

static void *net_create(const struct vqf_device_platform *plat, const struct vqf_device_params *params)
{
    struct net_dev *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    uint64_t feat[2] = {NET_FEATURES, 0};
    if (params && (params->features[0] | params->features[1])) {
        feat[0] &= params->features[0];
        feat[1] &= params->features[1];
    }
    /* MQ requires CTRL_VQ (5.1.3.1): never offer it alone. */
    if (!(feat[0] & VQF_BIT(VIRTIO_NET_F_CTRL_VQ)))
        feat[0] &= ~VQF_BIT(VIRTIO_NET_F_MQ);
    uint16_t pairs = 1;
    if (feat[0] & VQF_BIT(VIRTIO_NET_F_MQ)) {
        /* num_queues counts virtqueues: two per pair (the controlq rides on top). */
        pairs = params && params->num_queues ? params->num_queues / 2 : NET_DEFAULT_MQ_PAIRS;
        pairs = pairs < 1 ? 1 : pairs > NET_MAX_PAIRS ? NET_MAX_PAIRS : pairs;
    }
    n->max_pairs = pairs;
    uint16_t nq = (uint16_t)(2 * pairs + ((feat[0] & VQF_BIT(VIRTIO_NET_F_CTRL_VQ)) ? 1 : 0));
    uint16_t qmax = params && params->queue_size_max ? params->queue_size_max : NET_QUEUE_MAX;
    n->pair[0].frames = malloc((size_t)pairs * NET_FIFO_SLOTS * NET_FRAME_MAX);
    if (!n->pair[0].frames ||
        vqf_vdev_init(&n->vdev, &net_ops, n, &plat->dma, nq, qmax, feat, VIRTIO_NET_CFG_SIZE, NET_SEG_CAP) != 0) {
        free(n->pair[0].frames);
        free(n);
        return NULL;
    }
    for (unsigned i = 1; i < pairs; i++)
        n->pair[i].frames = n->pair[0].frames + (size_t)i * NET_FIFO_SLOTS * NET_FRAME_MAX;
    n->vdev.irq = plat->irq;
    n->vdev.irq_ctx = plat->irq_ctx;
    n->active_pairs = 1;
    /* struct virtio_net_config (5.1.4): mac, status LINK_UP, max_virtqueue_pairs in
     * 1..0x8000 (NET-01), mtu 1500 (NET-02/03). Fields exist whatever is negotiated. */
    uint8_t *cfg = n->vdev.config;
    memcpy(cfg + VIRTIO_NET_CFG_MAC, net_mac, sizeof(net_mac));
    vqf_put_le16(cfg + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
    vqf_put_le16(cfg + VIRTIO_NET_CFG_MAX_VQ_PAIRS, pairs);
    vqf_put_le16(cfg + VIRTIO_NET_CFG_MTU, (uint16_t)NET_MTU);
    memcpy(n->cfg, cfg, sizeof(n->cfg));
    return n;
}

static void net_destroy(void *dev)
{
    struct net_dev *n = dev;
    if (!n)
        return;
    vqf_vdev_destroy(&n->vdev);
    free(n->pair[0].frames);
    free(n);
}

const struct vqf_device_adapter vqf_net_device = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .create = net_create,
    .destroy = net_destroy,
    .mmio_read = vqf_vdev_adapter_mmio_read,
    .mmio_write = vqf_vdev_adapter_mmio_write,
    .poll = vqf_vdev_adapter_poll,
};
