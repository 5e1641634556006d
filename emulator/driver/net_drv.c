/* Reference virtio-net driver (spec 5.1): initialisation (5.1.5), transmit (5.1.9.2), receive
 * buffers and mergeable reassembly (5.1.9.3, 5.1.9.4), and VQ_PAIRS_SET on the controlq
 * (5.1.9.5.3). The workload sends frames with a deterministic payload and checks each one
 * that comes back from a loopback device, per queue pair, in order.
 *
 * Nothing the device wrote is trusted: used ids and lengths are checked by the ring's driver
 * half (D-03, D-04) and again here against what was posted; num_buffers and header fields are
 * checked before any byte is copied, and copies are bounded by the posted buffer and by the
 * reassembly buffer, so a lying device cannot make the driver read or write outside them.
 * A ring error or DEVICE_NEEDS_RESET ends in a reset and a fresh probe (recovery).
 * Guest memory for buffers is taken from the platform allocator once per queue pair, the
 * first time the pair is set up, and reused by every later probe. */
#include <stdlib.h>
#include <string.h>

#include "emulator/driver/drivers.h"
#include "emulator/transport/vdrv.h"

/* Control virtqueue, spec 5.1.9.5. */
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0 /* 5.1.9.5.3: le16 virtqueue_pairs */
#define VIRTIO_NET_OK 0

#define NDRV_MAX_PAIRS 7u        /* 2 * 7 + 1 queues fit VQF_VDRV_MAX_QUEUES */
#define NDRV_SLOTS 256u          /* buffers per queue in the pool (rings may be larger) */
#define NDRV_ETH_HLEN 14u
#define NDRV_MTU_MAX 1500u       /* largest mtu this driver sizes its buffers for */
#define NDRV_FRAME_MAX (NDRV_MTU_MAX + NDRV_ETH_HLEN)
#define NDRV_PKT_MAX (VIRTIO_NET_HDR_SIZE + NDRV_FRAME_MAX)   /* 1526: NET-46 */
#define NDRV_SLOT_BYTES 1536u    /* one rx or tx buffer of the pool, 16-aligned */
#define NDRV_MRG_BUF 256u        /* mergeable rx buffer: small, so packets span several */
#define NDRV_RX_HEAD_SEG 8u      /* rx buffers are two descriptors: the header straddles them */
#define NDRV_EXPECT 512u         /* frames sent and not yet seen back, per pair */
#define NDRV_CTRL_TOKEN 0xffffu
#define NDRV_MAX_STREAK 4u       /* recoveries in a row before the driver gives up */
#define NDRV_ETHERTYPE 0x88b5u   /* IEEE local experimental ethertype */

/* A frame sent and not yet seen back: its seed, and its length with NDRV_UNCERTAIN when it
 * was sent before a queue reset (it may then legitimately never come back). */
#define NDRV_UNCERTAIN 0x8000u

/* Mergeable reassembly state of one receiveq (5.1.9.4). */
struct ndrv_rx_pkt {
    bool active;
    bool bad;        /* discard the rest of this packet */
    uint16_t need;   /* num_buffers of the first buffer */
    uint16_t got;
    uint32_t len;    /* bytes gathered in buf */
};

struct ndrv_pair {
    uint64_t rx_pool, tx_pool;       /* NDRV_SLOTS * NDRV_SLOT_BYTES each, 0 = not allocated */
    uint16_t rx_free[NDRV_SLOTS], tx_free[NDRV_SLOTS];
    uint16_t rx_nfree, tx_nfree;
    uint16_t rx_slots, tx_slots;     /* usable slots: min(ring size, NDRV_SLOTS) */
    uint16_t tx_out;                 /* transmit buffers in flight */
    uint64_t exp_seed[NDRV_EXPECT];
    uint16_t exp_len[NDRV_EXPECT];
    unsigned exp_head, exp_count;
    struct ndrv_rx_pkt pkt;
    uint8_t buf[NDRV_PKT_MAX];       /* reassembly */
};

struct net_drv {
    struct vqf_vdrv v;
    struct vqf_driver_params params;
    bool up;                  /* probed, DRIVER_OK, queues live */
    uint16_t npairs;          /* pairs set up */
    uint16_t active;          /* pairs in use: 1 until VQ_PAIRS_SET is acknowledged */
    uint16_t want_pairs;      /* VQ_PAIRS_SET in flight (0 = none) */
    int ctrl_q;               /* controlq index, -1 = none */
    uint64_t ctrl_buf;        /* class, command, le16 pairs | ack at +8 */
    bool ctrl_out;
    uint32_t mtu;             /* frames are at most mtu + 14 bytes */
    uint32_t rx_cap;          /* bytes posted per rx buffer */
    uint8_t rx_segs, tx_segs; /* descriptors per rx / tx chain: 2, or 1 when the ring holds
                               * only one descriptor and there is no indirect table */
    uint8_t mac[6];
    uint8_t scratch[NDRV_SLOT_BYTES];
    unsigned errors;
    unsigned recoveries;
    unsigned streak;          /* recoveries since the last verified frame or requested reset */
    struct ndrv_pair *pair[NDRV_MAX_PAIRS]; /* host state, allocated when a pair is first set up */
};

static inline uint16_t rxq(unsigned pi) { return (uint16_t)(2 * pi); }
static inline uint16_t txq(unsigned pi) { return (uint16_t)(2 * pi + 1); }

/* ---- deterministic frames ---- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Ethernet header to ourselves (dst = src = our MAC, NET-17/18), then payload from seed. */
static void frame_build(const struct net_drv *n, uint8_t *f, uint32_t len, uint64_t seed)
{
    memcpy(f, n->mac, 6);
    memcpy(f + 6, n->mac, 6);
    f[12] = (uint8_t)(NDRV_ETHERTYPE >> 8);
    f[13] = (uint8_t)NDRV_ETHERTYPE;
    uint64_t w = 0;
    for (uint32_t i = NDRV_ETH_HLEN; i < len; i++) {
        uint32_t k = i - NDRV_ETH_HLEN;
        if (k % 8 == 0)
            w = splitmix64(seed ^ ((uint64_t)k << 32));
        f[i] = (uint8_t)(w >> (8 * (k % 8)));
    }
}

/* ---- pools ---- */

static int pair_pools(struct net_drv *n, unsigned pi)
{
    /* Host state and guest buffers of a pair are made once, the first time the pair is set
     * up: an instance that never uses more pairs never pays for them. */
    if (!n->pair[pi] && !(n->pair[pi] = calloc(1, sizeof(struct ndrv_pair))))
        return -1;
    struct ndrv_pair *p = n->pair[pi];
    if (!p->rx_pool)
        p->rx_pool = vqf_vdrv_alloc(&n->v, (uint64_t)NDRV_SLOTS * NDRV_SLOT_BYTES, 16);
    if (!p->tx_pool)
        p->tx_pool = vqf_vdrv_alloc(&n->v, (uint64_t)NDRV_SLOTS * NDRV_SLOT_BYTES, 16);
    return p->rx_pool && p->tx_pool ? 0 : -1;
}

static uint16_t ring_slots(struct net_drv *n, uint16_t q)
{
    uint16_t sz = n->v.q[q].cfg.size;
    return sz < NDRV_SLOTS ? sz : NDRV_SLOTS;
}

static void pair_rx_forget(struct net_drv *n, unsigned pi)
{
    struct ndrv_pair *p = n->pair[pi];
    p->rx_slots = ring_slots(n, rxq(pi));
    p->rx_nfree = p->rx_slots;
    for (uint16_t i = 0; i < p->rx_slots; i++)
        p->rx_free[i] = (uint16_t)(p->rx_slots - 1 - i);
    memset(&p->pkt, 0, sizeof(p->pkt));
}

static void pair_tx_forget(struct net_drv *n, unsigned pi)
{
    struct ndrv_pair *p = n->pair[pi];
    p->tx_slots = ring_slots(n, txq(pi));
    p->tx_nfree = p->tx_slots;
    for (uint16_t i = 0; i < p->tx_slots; i++)
        p->tx_free[i] = (uint16_t)(p->tx_slots - 1 - i);
    p->tx_out = 0;
}

static void pair_expect_uncertain(struct ndrv_pair *p)
{
    for (unsigned i = 0; i < p->exp_count; i++)
        p->exp_len[(p->exp_head + i) % NDRV_EXPECT] |= NDRV_UNCERTAIN;
}

static unsigned add_flags(const struct net_drv *n)
{
    return (n->params.flags & VQF_DRV_F_INDIRECT) && vqf_vdrv_has(&n->v, VIRTIO_F_INDIRECT_DESC) ? VQF_ADD_INDIRECT
                                                                                                : 0;
}

/* ---- receive buffers (5.1.9.3) ---- */

/* Post every free rx slot of pair pi: writable only (D-16), two descriptors each so that the
 * header straddles them. */
static void pair_rx_fill(struct net_drv *n, unsigned pi)
{
    struct ndrv_pair *p = n->pair[pi];
    struct vqf_vq_drv *vq = &n->v.q[rxq(pi)].vq;
    if (!n->v.q[rxq(pi)].live || vqf_vq_drv_broken(vq))
        return;
    unsigned added = 0;
    while (p->rx_nfree) {
        uint16_t slot = p->rx_free[p->rx_nfree - 1];
        uint64_t a = p->rx_pool + (uint64_t)slot * NDRV_SLOT_BYTES;
        struct vqf_seg sg[2] = {{a, NDRV_RX_HEAD_SEG, 1}, {a + NDRV_RX_HEAD_SEG, n->rx_cap - NDRV_RX_HEAD_SEG, 1}};
        if (n->rx_segs == 1)
            sg[0].len = n->rx_cap;
        if (vqf_vq_drv_add(vq, sg, 0, n->rx_segs, slot, add_flags(n)) < 0)
            break;
        p->rx_nfree--;
        added++;
    }
    if (added)
        vqf_vdrv_kick(&n->v, rxq(pi));
}

/* ---- probe (3.1.1, 5.1.5) ---- */

static int ctrl_send_pairs(struct net_drv *n, uint16_t pairs)
{
    uint8_t cmd[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 0, 0};
    vqf_put_le16(cmd + 2, pairs);
    uint8_t ack = 0xff;
    if (vqf_dma_write(&n->v.plat.dma, n->ctrl_buf, cmd, sizeof(cmd)) != 0 ||
        vqf_dma_write(&n->v.plat.dma, n->ctrl_buf + 8, &ack, 1) != 0)
        return -1;
    struct vqf_seg sg[2] = {{n->ctrl_buf, sizeof(cmd), 0}, {n->ctrl_buf + 8, 1, 1}};
    if (vqf_vq_drv_add(&n->v.q[n->ctrl_q].vq, sg, 1, 1, NDRV_CTRL_TOKEN, 0) < 0)
        return -1;
    n->ctrl_out = true;
    n->want_pairs = pairs;
    vqf_vdrv_kick(&n->v, (uint16_t)n->ctrl_q);
    return 0;
}

static void drop_state(struct net_drv *n)
{
    n->up = false;
    n->ctrl_out = false;
    n->want_pairs = 0;
    for (unsigned i = 0; i < NDRV_MAX_PAIRS; i++) {
        struct ndrv_pair *p = n->pair[i];
        if (!p)
            continue;
        p->exp_head = p->exp_count = 0;
        p->tx_out = 0;
        p->rx_nfree = p->tx_nfree = 0;
        memset(&p->pkt, 0, sizeof(p->pkt));
    }
}

/* Read the config fields this driver uses (5.1.4), each inside its own generation loop
 * (CFG-02) and only when its feature was negotiated: 2.5.1 (CFG-03) forbids touching a field
 * whose feature the device does not offer. Fields left unread stay zero in cfg. */
static int net_read_config(struct net_drv *n, uint8_t cfg[VIRTIO_NET_CFG_SPEED])
{
    static const struct {
        uint8_t off, len, bit;
    } fields[] = {
        {VIRTIO_NET_CFG_MAC, 6, VIRTIO_NET_F_MAC},
        {VIRTIO_NET_CFG_STATUS, 2, VIRTIO_NET_F_STATUS},
        {VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2, VIRTIO_NET_F_MQ},
        {VIRTIO_NET_CFG_MTU, 2, VIRTIO_NET_F_MTU},
    };
    memset(cfg, 0, VIRTIO_NET_CFG_SPEED);
    for (unsigned i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (vqf_vdrv_has(&n->v, fields[i].bit) &&
            vqf_vdrv_config_read(&n->v, fields[i].off, cfg + fields[i].off, fields[i].len) != 0)
            return -1;
    return 0;
}

static int net_probe(void *drv)
{
    struct net_drv *n = drv;
    drop_state(n);
    const uint64_t known[2] = {VQF_BIT(VIRTIO_NET_F_MAC) | VQF_BIT(VIRTIO_NET_F_STATUS) | VQF_BIT(VIRTIO_NET_F_MTU) |
                                   VQF_BIT(VIRTIO_NET_F_MRG_RXBUF) | VQF_BIT(VIRTIO_NET_F_CTRL_VQ) |
                                   VQF_BIT(VIRTIO_NET_F_MQ) | VQF_BIT(VIRTIO_F_INDIRECT_DESC) |
                                   VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |
                                   VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) |
                                   VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) | VQF_BIT(VIRTIO_F_RING_RESET),
                               0};
    uint64_t want[2] = {known[0], known[1]};
    if (n->params.features[0] | n->params.features[1]) {
        want[0] &= n->params.features[0];
        want[1] &= n->params.features[1];
    }
    struct vqf_vdrv *v = &n->v;
    v->queue_size = n->params.queue_size;
    /* Indirect tables: up to two descriptors per chain (16 bytes each, 2.7.5.3). */
    uint32_t qs = n->params.queue_size ? n->params.queue_size : 256;
    v->ind_bytes_per_queue = (n->params.flags & VQF_DRV_F_INDIRECT) ? qs * 2u * VIRTQ_DESC_SIZE : 0;
    if (vqf_vdrv_negotiate(v, VIRTIO_ID_NET, want) != 0)
        return -1;

    /* Configuration (5.1.4) inside the generation loop (CFG-02). */
    uint8_t cfg[VIRTIO_NET_CFG_SPEED];
    if (net_read_config(n, cfg) != 0) {
        vqf_vdrv_fail(v);
        return -1;
    }
    static const uint8_t local_mac[6] = {0x02, 0x51, 0x46, 0x00, 0x00, 0x01}; /* NET-18 */
    memcpy(n->mac, vqf_vdrv_has(v, VIRTIO_NET_F_MAC) ? cfg + VIRTIO_NET_CFG_MAC : local_mac, 6);
    uint32_t max_pairs = 1;
    if (vqf_vdrv_has(v, VIRTIO_NET_F_MQ)) {
        max_pairs = vqf_le16(cfg + VIRTIO_NET_CFG_MAX_VQ_PAIRS);
        if (max_pairs < 1 || max_pairs > 0x8000)
            max_pairs = 1; /* out of NET-01's range: use one pair */
    }
    n->mtu = NDRV_MTU_MAX;
    if (vqf_vdrv_has(v, VIRTIO_NET_F_MTU)) {
        n->mtu = vqf_le16(cfg + VIRTIO_NET_CFG_MTU);
        /* NET-22: posted buffers must hold an mtu-sized packet; without MRG_RXBUF this
         * driver's buffers hold 1500. A bigger mtu cannot be served: give up (3.1.1). */
        if (n->mtu > NDRV_MTU_MAX) {
            if (!vqf_vdrv_has(v, VIRTIO_NET_F_MRG_RXBUF)) {
                vqf_vdrv_fail(v);
                return -1;
            }
            n->mtu = NDRV_MTU_MAX; /* merged buffers hold it; this driver sends no more */
        }
    }

    /* Queues (5.1.2): pairs first, then the controlq at 2 * N. */
    uint32_t pairs = max_pairs < NDRV_MAX_PAIRS ? max_pairs : NDRV_MAX_PAIRS;
    if (n->params.num_queues >= 2 && n->params.num_queues / 2u < pairs)
        pairs = n->params.num_queues / 2u;
    n->ctrl_q = -1;
    if (vqf_vdrv_has(v, VIRTIO_NET_F_CTRL_VQ) && 2 * max_pairs < VQF_VDRV_MAX_QUEUES)
        n->ctrl_q = (int)(2 * max_pairs);
    if (!n->ctrl_buf)
        n->ctrl_buf = vqf_vdrv_alloc(v, 16, 16);
    n->npairs = 0;
    for (unsigned pi = 0; pi < pairs; pi++) {
        if (pair_pools(n, pi) != 0 || vqf_vdrv_setup_queue(v, rxq(pi), 0) != 0 ||
            vqf_vdrv_setup_queue(v, txq(pi), 0) != 0)
            break;
        n->npairs = (uint16_t)(pi + 1);
    }
    if (n->ctrl_q >= 0 && (!n->ctrl_buf || vqf_vdrv_setup_queue(v, (uint16_t)n->ctrl_q, 0) != 0))
        n->ctrl_q = -1;
    if (n->npairs == 0) {
        vqf_vdrv_fail(v);
        return -1;
    }
    /* Receive buffer size (5.1.9.3.1): a whole packet without MRG_RXBUF (NET-46, >= 1526);
     * with it, small buffers (NET-47: at least a header) whose sum over the ring still holds
     * a full packet (NET-22). */
    /* The buffers the ring holds at once (2.7.5, 2.8.5): a chain of two descriptors takes two
     * ring entries unless it goes through an indirect table. */
    uint16_t rx_size = n->v.q[rxq(0)].cfg.size;
    uint16_t tx_size = n->v.q[txq(0)].cfg.size;
    bool ind = add_flags(n) != 0;
    n->rx_segs = ind || rx_size >= 2 ? 2 : 1;
    n->tx_segs = ind || tx_size >= 2 ? 2 : 1;
    uint32_t rx_slots = ring_slots(n, rxq(0));
    if (!ind && n->rx_segs == 2)
        rx_slots /= 2;
    if (rx_slots == 0)
        rx_slots = 1;
    if (vqf_vdrv_has(v, VIRTIO_NET_F_MRG_RXBUF)) {
        /* NET-22 with every posted buffer counted: the ring's buffers together hold a
         * full-size packet, or the device could never complete one (5.1.9.4.1). */
        uint32_t per = (NDRV_PKT_MAX + rx_slots - 1) / rx_slots;
        n->rx_cap = per < NDRV_MRG_BUF ? NDRV_MRG_BUF : per > NDRV_SLOT_BYTES ? NDRV_SLOT_BYTES : per;
    } else {
        n->rx_cap = NDRV_PKT_MAX;
    }
    for (unsigned pi = 0; pi < n->npairs; pi++) {
        pair_rx_forget(n, pi);
        pair_tx_forget(n, pi);
    }
    vqf_vdrv_driver_ok(v);
    n->up = true;
    n->active = 1;
    /* NET-49: every receiveq that will be used is stocked before it can be used. */
    for (unsigned pi = 0; pi < n->npairs; pi++)
        pair_rx_fill(n, pi);
    /* 5.1.9.5.3: more than one pair only after VQ_PAIRS_SET; until its ack the driver sends
     * on transmitq1 only. */
    if (n->npairs > 1 && n->ctrl_q >= 0 && vqf_vdrv_has(v, VIRTIO_NET_F_MQ))
        (void)ctrl_send_pairs(n, n->npairs);
    return 0;
}

/* Reset and probe again after the device broke the protocol or asked for a reset. */
/* A device that keeps breaking the protocol with no frame verified in between is given up
 * on (3.1.1: FAILED): the probe itself makes traffic (VQ_PAIRS_SET, 5.1.9.5.3), so chasing
 * such a device would never end. The driver then stays down until the next requested reset. */
static void recover(struct net_drv *n)
{
    n->recoveries++;
    vqf_vdrv_reset(&n->v);
    if (++n->streak > NDRV_MAX_STREAK) {
        drop_state(n);
        vqf_vdrv_fail(&n->v);
        return;
    }
    (void)net_probe(n);
}

/* ---- submit ---- */

static int net_send(struct net_drv *n, const struct vqf_workload_op *op)
{
    unsigned pi = op->queue % n->active;
    struct ndrv_pair *p = n->pair[pi];
    struct vqf_vq_drv *vq = &n->v.q[txq(pi)].vq;
    if (!p->tx_nfree || p->exp_count == NDRV_EXPECT)
        return 1;
    /* 14 .. mtu + 14 bytes (NET-23: nothing larger than mtu + link header). */
    uint32_t max = n->mtu + NDRV_ETH_HLEN;
    uint32_t len = op->arg0 < NDRV_ETH_HLEN ? NDRV_ETH_HLEN : op->arg0 > max ? max : op->arg0;
    uint16_t slot = p->tx_free[p->tx_nfree - 1];
    uint64_t a = p->tx_pool + (uint64_t)slot * NDRV_SLOT_BYTES;
    /* NET-30/31/37: flags 0, gso NONE, num_buffers 0: the whole header is zero. */
    memset(n->scratch, 0, VIRTIO_NET_HDR_SIZE);
    frame_build(n, n->scratch + VIRTIO_NET_HDR_SIZE, len, op->seed);
    if (vqf_dma_write(&n->v.plat.dma, a, n->scratch, VIRTIO_NET_HDR_SIZE + len) != 0)
        return -1;
    /* Two descriptors: header | frame, or (odd seeds) a header split across both, which
     * the device must gather (5.1.6: no framing is implied). */
    uint32_t cut = (op->seed & 1u) ? VIRTIO_NET_HDR_SIZE / 2 : VIRTIO_NET_HDR_SIZE;
    struct vqf_seg sg[2] = {{a, cut, 0}, {a + cut, VIRTIO_NET_HDR_SIZE + len - cut, 0}};
    if (n->tx_segs == 1)
        sg[0].len = VIRTIO_NET_HDR_SIZE + len; /* a one-descriptor ring: the whole packet */
    if (vqf_vq_drv_add(vq, sg, n->tx_segs, 0, slot, add_flags(n)) < 0)
        return 1;
    p->tx_nfree--;
    p->tx_out++;
    unsigned at = (p->exp_head + p->exp_count++) % NDRV_EXPECT;
    p->exp_len[at] = (uint16_t)len;
    p->exp_seed[at] = op->seed;
    vqf_vdrv_kick(&n->v, txq(pi));
    return 0;
}

static int net_submit(void *drv, const struct vqf_workload_op *op)
{
    struct net_drv *n = drv;
    if (!n->up)
        return -1;
    switch (op->kind) {
    case 0:
        return net_send(n, op);
    case 1:
        for (unsigned pi = 0; pi < n->npairs; pi++)
            pair_rx_fill(n, pi);
        return 0;
    default:
        return -1;
    }
}

/* ---- completions ---- */

/* A whole packet of pair pi came back: check the header (5.1.9.4: flags ignored except as
 * defined, NET-66; no guest GSO negotiated so gso_type must be NONE) and find the frame among
 * those sent. Frames skipped over were lost: an error unless a queue reset excused them.
 * Returns 1 when the frame matched. */
static int rx_verify(struct net_drv *n, unsigned pi, const uint8_t *pkt, uint32_t plen)
{
    struct ndrv_pair *p = n->pair[pi];
    if (plen <= VIRTIO_NET_HDR_SIZE || pkt[1] != VIRTIO_NET_HDR_GSO_NONE) {
        n->errors++;
        return 0;
    }
    uint32_t flen = plen - VIRTIO_NET_HDR_SIZE;
    for (unsigned k = 0; k < p->exp_count; k++) {
        unsigned at = (p->exp_head + k) % NDRV_EXPECT;
        if ((p->exp_len[at] & ~NDRV_UNCERTAIN) != flen)
            continue;
        frame_build(n, n->scratch, flen, p->exp_seed[at]);
        if (memcmp(n->scratch, pkt + VIRTIO_NET_HDR_SIZE, flen) != 0)
            continue;
        for (unsigned j = 0; j < k; j++)
            if (!(p->exp_len[(p->exp_head + j) % NDRV_EXPECT] & NDRV_UNCERTAIN))
                n->errors++;
        p->exp_head = (p->exp_head + k + 1) % NDRV_EXPECT;
        p->exp_count -= k + 1;
        return 1;
    }
    n->errors++; /* nothing like it was sent */
    return 0;
}

/* One used receive buffer (slot, len) of pair pi. Returns frames verified (0 or 1). */
static int rx_used(struct net_drv *n, unsigned pi, uint16_t slot, uint32_t len)
{
    struct ndrv_pair *p = n->pair[pi];
    struct ndrv_rx_pkt *k = &p->pkt;
    uint64_t a = p->rx_pool + (uint64_t)slot * NDRV_SLOT_BYTES;
    bool mrg = vqf_vdrv_has(&n->v, VIRTIO_NET_F_MRG_RXBUF);
    if (len > n->rx_cap) { /* the ring half checked this too (D-04): never trust one check */
        n->errors++;
        len = n->rx_cap;
    }
    if (!k->active) {
        uint8_t hdr[VIRTIO_NET_HDR_SIZE];
        if (len < VIRTIO_NET_HDR_SIZE) {
            /* The device may hand back an empty buffer (a dropped packet); anything shorter
             * than a header but not empty is malformed. */
            if (len != 0)
                n->errors++;
            return 0;
        }
        if (vqf_dma_read(&n->v.plat.dma, a, hdr, sizeof(hdr)) != 0) {
            n->errors++;
            return 0;
        }
        uint16_t nb = vqf_le16(hdr + VIRTIO_NET_HDR_NUM_BUFFERS);
        /* NET-52: 1 without MRG_RXBUF; NET-50: with it, at most what the ring can hold. */
        memset(k, 0, sizeof(*k));
        k->active = true;
        k->need = nb;
        if (nb == 0 || (!mrg && nb != 1) || nb > p->rx_slots) {
            n->errors++;
            k->bad = true;
            k->need = nb == 0 || nb > p->rx_slots ? 1 : nb;
        }
    }
    if (!k->bad) {
        if (len > sizeof(p->buf) - k->len) {
            n->errors++; /* longer than any packet this driver sent */
            k->bad = true;
        } else if (vqf_dma_read(&n->v.plat.dma, a, p->buf + k->len, len) != 0) {
            n->errors++;
            k->bad = true;
        } else {
            k->len += len;
        }
    }
    if (++k->got < k->need)
        return 0;
    int ok = k->bad ? 0 : rx_verify(n, pi, p->buf, k->len);
    memset(k, 0, sizeof(*k));
    return ok;
}

/* Reclaim queue q's used buffers. Returns frames verified, or -1 on a ring error. */
static int reclaim_once(struct net_drv *n, uint16_t q, unsigned pi, bool rx)
{
    struct ndrv_pair *p = n->pair[pi];
    struct vqf_vq_drv *vq = &n->v.q[q].vq;
    int done = 0;
    uint32_t token, len;
    int r;
    while ((r = vqf_vq_drv_get_used(vq, &token, &len)) == 1) {
        if (rx) {
            if (token >= p->rx_slots || p->rx_nfree >= p->rx_slots)
                return -1;
            p->rx_free[p->rx_nfree++] = (uint16_t)token;
            done += rx_used(n, pi, (uint16_t)token, len);
        } else {
            if (token >= p->tx_slots || p->tx_nfree >= p->tx_slots || !p->tx_out)
                return -1;
            p->tx_free[p->tx_nfree++] = (uint16_t)token;
            p->tx_out--;
        }
    }
    return r < 0 ? -1 : done;
}

/* Reclaim with used-buffer notifications off, then turn them back on and look again: a
 * buffer used in between would otherwise wait for a notification nobody asked for (2.7.7.1,
 * 2.7.10 used_event, 2.8.10). */
static int reclaim(struct net_drv *n, uint16_t q, unsigned pi, bool rx)
{
    struct vqf_vq_drv *vq = &n->v.q[q].vq;
    if (!n->v.q[q].live)
        return 0;
    int done = 0;
    do {
        vqf_vq_drv_disable_cb(vq);
        int r = reclaim_once(n, q, pi, rx);
        if (r < 0)
            return -1;
        done += r;
    } while (!vqf_vq_drv_enable_cb(vq));
    return done;
}

static int reclaim_ctrl_once(struct net_drv *n)
{
    uint32_t token, len;
    int r;
    while ((r = vqf_vq_drv_get_used(&n->v.q[n->ctrl_q].vq, &token, &len)) == 1) {
        if (token != NDRV_CTRL_TOKEN || !n->ctrl_out)
            return -1;
        n->ctrl_out = false;
        uint8_t ack = 0xff;
        /* 5.1.9.5: the ack byte says whether the command took effect. */
        if (len >= 1 && vqf_dma_read(&n->v.plat.dma, n->ctrl_buf + 8, &ack, 1) == 0 && ack == VIRTIO_NET_OK &&
            n->want_pairs >= 1 && n->want_pairs <= n->npairs)
            n->active = n->want_pairs;
        n->want_pairs = 0;
    }
    return r < 0 ? -1 : 0;
}

static int reclaim_ctrl(struct net_drv *n)
{
    struct vqf_vq_drv *vq = &n->v.q[n->ctrl_q].vq;
    if (!n->v.q[n->ctrl_q].live)
        return 0;
    do {
        vqf_vq_drv_disable_cb(vq);
        if (reclaim_ctrl_once(n) < 0)
            return -1;
    } while (!vqf_vq_drv_enable_cb(vq));
    return 0;
}

/* Completions counted: workload units finished, i.e. frames seen back and verified (a
 * transmit buffer coming back alone finishes nothing). */
static int net_interrupt(void *drv)
{
    struct net_drv *n = drv;
    (void)vqf_vdrv_ack_interrupt(&n->v);
    if (!n->up)
        return 0;
    if (n->v.needs_reset) {
        recover(n);
        return 0;
    }
    int done = 0;
    if (n->ctrl_q >= 0 && reclaim_ctrl(n) < 0) {
        recover(n);
        return 0;
    }
    for (unsigned pi = 0; pi < n->npairs; pi++) {
        int t = reclaim(n, txq(pi), pi, false);
        int r = t < 0 ? -1 : reclaim(n, rxq(pi), pi, true);
        if (t < 0 || r < 0) {
            recover(n);
            return done;
        }
        done += t + r;
        pair_rx_fill(n, pi);
    }
    if (done > 0)
        n->streak = 0; /* the device works again */
    return done;
}

/* ---- lifecycle ---- */

static int net_control(void *drv, unsigned request, uint32_t arg)
{
    struct net_drv *n = drv;
    switch (request) {
    case VQF_CTL_RESET:
        n->streak = 0;
        vqf_vdrv_reset(&n->v);
        return net_probe(n);
    case VQF_CTL_QUEUE_RESET: {
        /* 2.6.1: only with RING_RESET; buffers in flight on the queue are gone. */
        if (!n->up || !vqf_vdrv_has(&n->v, VIRTIO_F_RING_RESET) || arg > 0xffffu)
            return -1;
        uint16_t q = (uint16_t)arg;
        bool is_ctrl = n->ctrl_q >= 0 && q == (uint16_t)n->ctrl_q;
        if (!is_ctrl && q >= 2u * n->npairs)
            return -1;
        if (vqf_vdrv_queue_reset(&n->v, q) != 0) {
            recover(n);
            return -1;
        }
        if (is_ctrl) {
            uint16_t again = n->ctrl_out ? n->want_pairs : 0;
            n->ctrl_out = false;
            if (again)
                (void)ctrl_send_pairs(n, again);
            return 0;
        }
        unsigned pi = q / 2u;
        /* Frames sent before the reset may be lost with the ring (or with a packet the
         * device was delivering): they no longer count as errors if they never return. */
        pair_expect_uncertain(n->pair[pi]);
        if (q % 2 == 0) {
            pair_rx_forget(n, pi);
            pair_rx_fill(n, pi); /* repost: the receiveq is usable again */
        } else {
            pair_tx_forget(n, pi);
        }
        return 0;
    }
    case VQF_CTL_CONFIG: {
        uint8_t cfg[VIRTIO_NET_CFG_SPEED];
        return net_read_config(n, cfg);
    }
    default:
        return -1;
    }
}

static unsigned net_inflight(void *drv)
{
    struct net_drv *n = drv;
    unsigned out = n->ctrl_out ? 1u : 0u;
    for (unsigned pi = 0; pi < n->npairs; pi++)
        out += n->pair[pi]->tx_out;
    return n->up ? out : 0;
}

static unsigned net_data_errors(void *drv) { return ((struct net_drv *)drv)->errors; }

static void net_remove(void *drv)
{
    struct net_drv *n = drv;
    vqf_vdrv_reset(&n->v); /* 3.3: reset, then every buffer is the driver's again */
    drop_state(n);
}

static void *net_create(const struct vqf_driver_platform *plat, const struct vqf_driver_params *params)
{
    struct net_drv *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    if (vqf_vdrv_init(&n->v, plat) != 0) {
        free(n);
        return NULL;
    }
    if (params)
        n->params = *params;
    n->active = 1;
    return n;
}

static void net_destroy(void *drv)
{
    struct net_drv *n = drv;
    if (!n)
        return;
    vqf_vdrv_destroy(&n->v);
    for (unsigned i = 0; i < NDRV_MAX_PAIRS; i++)
        free(n->pair[i]);
    free(n);
}

const struct vqf_driver_adapter vqf_net_driver = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .create = net_create,
    .destroy = net_destroy,
    .probe = net_probe,
    .submit = net_submit,
    .interrupt = net_interrupt,
    .control = net_control,
    .inflight = net_inflight,
    .data_errors = net_data_errors,
    .remove = net_remove,
};
