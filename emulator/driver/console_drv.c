/* Reference virtio-console driver (spec 5.3): initialisation (5.3.5), port data (5.3.6) and
 * the multiport control protocol (5.3.6.2): DEVICE_READY after DRIVER_OK (CONS-07),
 * PORT_READY for every DEVICE_ADD, PORT_OPEN 1 for a CONSOLE_PORT (CONS-09/10).
 * The workload writes deterministic bytes on a port and checks, against an echoing device,
 * that the same byte stream comes back on that port's receiveq.
 *
 * Device-written lengths and ids are checked against what was posted before any byte is
 * read; a ring error or DEVICE_NEEDS_RESET ends in a reset and a fresh probe (recovery).
 * Guest memory for buffers comes from the platform allocator once per port and is reused. */
#include <stdlib.h>
#include <string.h>

#include "emulator/driver/drivers.h"
#include "emulator/transport/vdrv.h"

#define CDRV_MAX_STREAK 4u      /* recoveries in a row before the driver gives up */
#define CDRV_MAX_PORTS 7u       /* 4 + 2 * 6 queues fit VQF_VDRV_MAX_QUEUES */
#define CDRV_SLOTS 128u         /* buffers per data queue in the pool */
#define CDRV_RX_BUF 256u
#define CDRV_TX_BUF 512u        /* the largest write */
#define CDRV_CTRL_SLOTS 16u     /* control buffers per direction */
#define CDRV_CTRL_BUF 16u       /* one struct virtio_console_control (8 bytes), 16-aligned */
#define CDRV_EXPECT 256u        /* writes not yet fully echoed, per port */
#define CDRV_Q_CTRL_RX 2u       /* 5.3.2 */
#define CDRV_Q_CTRL_TX 3u

struct cdrv_port {
    uint64_t rx_pool, tx_pool;          /* 0 = not allocated yet */
    uint16_t rx_free[CDRV_SLOTS], tx_free[CDRV_SLOTS];
    uint16_t rx_nfree, tx_nfree, rx_slots, tx_slots, tx_out;
    uint32_t tx_seq[CDRV_SLOTS];        /* write (sequence number) each tx slot carries */
    /* The echo expected back: writes in order, the first exp_off bytes of the oldest
     * already seen. Sequence numbers let a tx completion find its write. */
    uint64_t exp_seed[CDRV_EXPECT];
    uint16_t exp_len[CDRV_EXPECT];
    bool exp_done[CDRV_EXPECT];         /* the device consumed the transmit buffer */
    uint32_t exp_base;                  /* sequence number of the oldest */
    unsigned exp_head, exp_count;
    uint32_t exp_off;
    bool added;                         /* DEVICE_ADD seen and PORT_READY sent */
    bool host_open;                     /* PORT_OPEN 1 from the device */
};

struct console_drv {
    struct vqf_vdrv v;
    struct vqf_driver_params params;
    bool up;
    bool multiport;
    uint32_t nports;                    /* ports with queues set up */
    uint16_t cols, rows;
    uint64_t ctrl_rx_pool, ctrl_tx_pool;
    uint16_t crx_free[CDRV_CTRL_SLOTS], ctx_free[CDRV_CTRL_SLOTS];
    uint16_t crx_nfree, ctx_nfree, crx_slots, ctx_slots;
    uint8_t scratch[CDRV_TX_BUF];
    unsigned errors, recoveries, ctrl_dropped;
    unsigned streak;          /* recoveries since the last verified echo or requested reset */
    struct cdrv_port *port[CDRV_MAX_PORTS]; /* host state, allocated when a port is first set up */
};

/* Queue indices of port p (5.3.2, D-17). */
static uint16_t port_rxq(uint32_t p) { return (uint16_t)(p == 0 ? 0 : 2 + 2 * p); }
static uint16_t port_txq(uint32_t p) { return (uint16_t)(port_rxq(p) + 1); }

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Byte k of the write made with seed: random access, so a check may start mid-write. */
static uint8_t stream_byte(uint64_t seed, uint32_t k)
{
    return (uint8_t)(splitmix64(seed ^ ((uint64_t)(k / 8) << 32)) >> (8 * (k % 8)));
}

static unsigned add_flags(const struct console_drv *c)
{
    return (c->params.flags & VQF_DRV_F_INDIRECT) && vqf_vdrv_has(&c->v, VIRTIO_F_INDIRECT_DESC) ? VQF_ADD_INDIRECT
                                                                                                : 0;
}

static uint16_t ring_slots(struct console_drv *c, uint16_t q, uint16_t cap)
{
    uint16_t sz = c->v.q[q].cfg.size;
    return sz < cap ? sz : cap;
}

static void free_list(uint16_t *list, uint16_t *nfree, uint16_t slots)
{
    for (uint16_t i = 0; i < slots; i++)
        list[i] = (uint16_t)(slots - 1 - i);
    *nfree = slots;
}

/* ---- port buffers ---- */

static void port_rx_forget(struct console_drv *c, uint32_t p)
{
    struct cdrv_port *pt = c->port[p];
    pt->rx_slots = ring_slots(c, port_rxq(p), CDRV_SLOTS);
    free_list(pt->rx_free, &pt->rx_nfree, pt->rx_slots);
}

static void port_tx_forget(struct console_drv *c, uint32_t p)
{
    struct cdrv_port *pt = c->port[p];
    pt->tx_slots = ring_slots(c, port_txq(p), CDRV_SLOTS);
    free_list(pt->tx_free, &pt->tx_nfree, pt->tx_slots);
    pt->tx_out = 0;
}

/* Post every free receive slot of queue q: device-writable only (CONS-03), two descriptors. */
static void rx_fill(struct console_drv *c, uint16_t q, uint64_t pool, uint32_t bufsz, uint16_t *free_slots,
                    uint16_t *nfree)
{
    struct vqf_vq_drv *vq = &c->v.q[q].vq;
    if (!c->v.q[q].live || vqf_vq_drv_broken(vq))
        return;
    unsigned added = 0;
    while (*nfree) {
        uint16_t slot = free_slots[*nfree - 1];
        uint64_t a = pool + (uint64_t)slot * bufsz;
        struct vqf_seg sg[2] = {{a, bufsz / 2, 1}, {a + bufsz / 2, bufsz / 2, 1}};
        if (vqf_vq_drv_add(vq, sg, 0, 2, slot, add_flags(c)) < 0)
            break;
        (*nfree)--;
        added++;
    }
    if (added)
        vqf_vdrv_kick(&c->v, q);
}

static void port_rx_fill(struct console_drv *c, uint32_t p)
{
    struct cdrv_port *pt = c->port[p];
    rx_fill(c, port_rxq(p), pt->rx_pool, CDRV_RX_BUF, pt->rx_free, &pt->rx_nfree);
}

static void ctrl_rx_fill(struct console_drv *c)
{
    if (c->multiport)
        rx_fill(c, CDRV_Q_CTRL_RX, c->ctrl_rx_pool, CDRV_CTRL_BUF, c->crx_free, &c->crx_nfree);
}

/* ---- control messages, driver to device (5.3.6.2) ---- */

/* 0 when the message was queued, -1 when it was dropped. */
static int ctrl_send(struct console_drv *c, uint32_t id, uint16_t event, uint16_t value)
{
    if (!c->ctx_nfree) {
        c->ctrl_dropped++; /* every control buffer in flight: the device is not consuming */
        return -1;
    }
    uint16_t slot = c->ctx_free[c->ctx_nfree - 1];
    uint64_t a = c->ctrl_tx_pool + (uint64_t)slot * CDRV_CTRL_BUF;
    uint8_t m[VIRTIO_CONSOLE_CTRL_SIZE];
    vqf_put_le32(m, id);
    vqf_put_le16(m + 4, event);
    vqf_put_le16(m + 6, value);
    struct vqf_seg sg = {a, sizeof(m), 0}; /* device-readable only (CONS-04) */
    if (vqf_dma_write(&c->v.plat.dma, a, m, sizeof(m)) != 0 ||
        vqf_vq_drv_add(&c->v.q[CDRV_Q_CTRL_TX].vq, &sg, 1, 0, slot, 0) < 0) {
        c->ctrl_dropped++;
        return -1;
    }
    c->ctx_nfree--;
    vqf_vdrv_kick(&c->v, CDRV_Q_CTRL_TX);
    return 0;
}

/* A message from the device. */
static void ctrl_handle(struct console_drv *c, const uint8_t m[VIRTIO_CONSOLE_CTRL_SIZE])
{
    uint32_t id = vqf_le32(m);
    uint16_t event = vqf_le16(m + 4), value = vqf_le16(m + 6);
    bool known = id < c->nports;
    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_ADD:
        /* PORT_READY 1 for a port this driver set queues up for, 0 for any other. */
        if (known)
            c->port[id]->added = true;
        ctrl_send(c, id, VIRTIO_CONSOLE_PORT_READY, known ? 1 : 0);
        break;
    case VIRTIO_CONSOLE_DEVICE_REMOVE:
        if (known)
            c->port[id]->added = c->port[id]->host_open = false;
        break;
    case VIRTIO_CONSOLE_CONSOLE_PORT:
        /* CONS-09/10: answer with PORT_OPEN, value 1. */
        if (known && c->port[id]->added)
            ctrl_send(c, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
        break;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (known)
            c->port[id]->host_open = value != 0;
        break;
    default:
        break; /* RESIZE, PORT_NAME and unknown events change nothing here */
    }
}

/* ---- probe (3.1.1, 5.3.5) ---- */

static void drop_state(struct console_drv *c)
{
    c->up = false;
    c->crx_nfree = c->ctx_nfree = 0;
    for (unsigned i = 0; i < CDRV_MAX_PORTS; i++) {
        struct cdrv_port *pt = c->port[i];
        if (!pt)
            continue;
        pt->rx_nfree = pt->tx_nfree = 0;
        pt->tx_out = 0;
        pt->exp_head = pt->exp_count = 0;
        pt->exp_off = 0;
        pt->added = pt->host_open = false;
    }
}

static int port_setup(struct console_drv *c, uint32_t p)
{
    /* Host state and guest buffers of a port are made once, the first time it is set up. */
    if (!c->port[p] && !(c->port[p] = calloc(1, sizeof(struct cdrv_port))))
        return -1;
    struct cdrv_port *pt = c->port[p];
    if (!pt->rx_pool)
        pt->rx_pool = vqf_vdrv_alloc(&c->v, (uint64_t)CDRV_SLOTS * CDRV_RX_BUF, 16);
    if (!pt->tx_pool)
        pt->tx_pool = vqf_vdrv_alloc(&c->v, (uint64_t)CDRV_SLOTS * CDRV_TX_BUF, 16);
    if (!pt->rx_pool || !pt->tx_pool || vqf_vdrv_setup_queue(&c->v, port_rxq(p), 0) != 0 ||
        vqf_vdrv_setup_queue(&c->v, port_txq(p), 0) != 0)
        return -1;
    return 0;
}

/* Read the config fields this driver uses (5.3.4), each inside its own generation loop
 * (CFG-02) and only when its feature was negotiated: 2.5.1 (CFG-03) forbids touching a field
 * whose feature the device does not offer. Fields left unread stay zero in cfg. */
static int console_read_config(struct console_drv *c, uint8_t cfg[VIRTIO_CONSOLE_CFG_EMERG_WR])
{
    memset(cfg, 0, VIRTIO_CONSOLE_CFG_EMERG_WR);
    if (vqf_vdrv_has(&c->v, VIRTIO_CONSOLE_F_SIZE) &&
        vqf_vdrv_config_read(&c->v, VIRTIO_CONSOLE_CFG_COLS, cfg + VIRTIO_CONSOLE_CFG_COLS, 4) != 0)
        return -1; /* cols and rows: one field pair, read together */
    if (vqf_vdrv_has(&c->v, VIRTIO_CONSOLE_F_MULTIPORT) &&
        vqf_vdrv_config_read(&c->v, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, cfg + VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4) !=
            0)
        return -1;
    c->cols = vqf_le16(cfg + VIRTIO_CONSOLE_CFG_COLS);
    c->rows = vqf_le16(cfg + VIRTIO_CONSOLE_CFG_ROWS);
    return 0;
}

/* retry: a probe whose DEVICE_READY could not be queued (a failed guest memory access)
 * resets the device and runs once more (3.3.1: errors are handled by a reset). */
static int probe_once(struct console_drv *c, bool retry)
{
    drop_state(c);
    struct vqf_vdrv *v = &c->v;
    uint64_t want[2] = {VQF_BIT(VIRTIO_CONSOLE_F_SIZE) | VQF_BIT(VIRTIO_CONSOLE_F_MULTIPORT) |
                            VQF_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE) | VQF_BIT(VIRTIO_F_INDIRECT_DESC) |
                            VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |
                            VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) |
                            VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) | VQF_BIT(VIRTIO_F_RING_RESET),
                        0};
    if (c->params.features[0] | c->params.features[1]) {
        want[0] &= c->params.features[0];
        want[1] &= c->params.features[1];
    }
    v->queue_size = c->params.queue_size;
    uint32_t qs = c->params.queue_size ? c->params.queue_size : 256;
    v->ind_bytes_per_queue = (c->params.flags & VQF_DRV_F_INDIRECT) ? qs * 2u * VIRTQ_DESC_SIZE : 0;
    if (vqf_vdrv_negotiate(v, VIRTIO_ID_CONSOLE, want) != 0)
        return -1;
    c->multiport = vqf_vdrv_has(v, VIRTIO_CONSOLE_F_MULTIPORT);

    /* Configuration (5.3.4) inside the generation loop (CFG-02). */
    uint8_t cfg[VIRTIO_CONSOLE_CFG_EMERG_WR];
    if (console_read_config(c, cfg) != 0) {
        vqf_vdrv_fail(v);
        return -1;
    }
    uint32_t ports = 1;
    if (c->multiport) {
        uint32_t max = vqf_le32(cfg + VIRTIO_CONSOLE_CFG_MAX_NR_PORTS);
        ports = max < 1 ? 1 : max > CDRV_MAX_PORTS ? CDRV_MAX_PORTS : max;
        if (c->params.num_queues > 2 && (c->params.num_queues - 2u) / 2u < ports)
            ports = (c->params.num_queues - 2u) / 2u < 1 ? 1 : (c->params.num_queues - 2u) / 2u;
    }

    /* Queues (5.3.2): port 0, the control pair, then ports 1.. (as many as set up). */
    if (port_setup(c, 0) != 0) {
        vqf_vdrv_fail(v);
        return -1;
    }
    c->nports = 1;
    if (c->multiport) {
        if (!c->ctrl_rx_pool)
            c->ctrl_rx_pool = vqf_vdrv_alloc(v, CDRV_CTRL_SLOTS * CDRV_CTRL_BUF, 16);
        if (!c->ctrl_tx_pool)
            c->ctrl_tx_pool = vqf_vdrv_alloc(v, CDRV_CTRL_SLOTS * CDRV_CTRL_BUF, 16);
        if (!c->ctrl_rx_pool || !c->ctrl_tx_pool || vqf_vdrv_setup_queue(v, CDRV_Q_CTRL_RX, 0) != 0 ||
            vqf_vdrv_setup_queue(v, CDRV_Q_CTRL_TX, 0) != 0) {
            vqf_vdrv_fail(v);
            return -1;
        }
        c->crx_slots = ring_slots(c, CDRV_Q_CTRL_RX, CDRV_CTRL_SLOTS);
        c->ctx_slots = ring_slots(c, CDRV_Q_CTRL_TX, CDRV_CTRL_SLOTS);
        free_list(c->crx_free, &c->crx_nfree, c->crx_slots);
        free_list(c->ctx_free, &c->ctx_nfree, c->ctx_slots);
        for (uint32_t p = 1; p < ports && port_setup(c, p) == 0; p++)
            c->nports = p + 1;
    }
    for (uint32_t p = 0; p < c->nports; p++) {
        port_rx_forget(c, p);
        port_tx_forget(c, p);
    }
    vqf_vdrv_driver_ok(v);
    c->up = true;
    for (uint32_t p = 0; p < c->nports; p++)
        port_rx_fill(c, p);
    if (c->multiport) {
        ctrl_rx_fill(c);
        if (ctrl_send(c, 0, VIRTIO_CONSOLE_DEVICE_READY, 1) != 0) { /* CONS-07 */
            /* Without DEVICE_READY the device never announces its ports (5.3.6.2): start
             * over once, then give up on the device (3.1.1: FAILED). */
            if (!retry) {
                vqf_vdrv_fail(v);
                return -1;
            }
            vqf_vdrv_reset(v);
            return probe_once(c, false);
        }
    }
    return 0;
}

static int console_probe(void *drv) { return probe_once(drv, true); }

/* Reset and probe again after the device broke the protocol or asked for a reset. A device
 * that keeps breaking it with no echo verified in between is given up on (3.1.1: FAILED): the
 * probe itself makes traffic (DEVICE_READY, 5.3.6.2), so chasing such a device would never
 * end. The driver then stays down until the next requested reset. */
static void recover(struct console_drv *c)
{
    c->recoveries++;
    drop_state(c);
    vqf_vdrv_reset(&c->v);
    if (++c->streak > CDRV_MAX_STREAK) {
        vqf_vdrv_fail(&c->v);
        return;
    }
    (void)console_probe(c);
}

/* ---- submit ---- */

static int console_write(struct console_drv *c, const struct vqf_workload_op *op)
{
    /* A port other than 0 carries data once the device added it (5.3.6.2). */
    uint32_t p = op->queue % c->nports;
    if (p != 0 && !c->port[p]->added)
        p = 0;
    struct cdrv_port *pt = c->port[p];
    if (!pt->tx_nfree || pt->exp_count == CDRV_EXPECT)
        return 1;
    uint32_t len = op->arg0 < 1 ? 1 : op->arg0 > CDRV_TX_BUF ? CDRV_TX_BUF : op->arg0;
    uint16_t slot = pt->tx_free[pt->tx_nfree - 1];
    uint64_t a = pt->tx_pool + (uint64_t)slot * CDRV_TX_BUF;
    for (uint32_t k = 0; k < len; k++)
        c->scratch[k] = stream_byte(op->seed, k);
    if (vqf_dma_write(&c->v.plat.dma, a, c->scratch, len) != 0)
        return -1;
    /* Device-readable only (CONS-04); two descriptors when there is something to split. */
    uint32_t cut = len > 1 ? len / 2 : len;
    struct vqf_seg sg[2] = {{a, cut, 0}, {a + cut, len - cut, 0}};
    if (vqf_vq_drv_add(&c->v.q[port_txq(p)].vq, sg, len > 1 ? 2 : 1, 0, slot, add_flags(c)) < 0)
        return 1;
    pt->tx_nfree--;
    pt->tx_out++;
    unsigned at = (pt->exp_head + pt->exp_count) % CDRV_EXPECT;
    pt->tx_seq[slot] = pt->exp_base + pt->exp_count;
    pt->exp_count++;
    pt->exp_seed[at] = op->seed;
    pt->exp_len[at] = (uint16_t)len;
    pt->exp_done[at] = false;
    vqf_vdrv_kick(&c->v, port_txq(p));
    return 0;
}

static int console_submit(void *drv, const struct vqf_workload_op *op)
{
    struct console_drv *c = drv;
    if (!c->up)
        return -1;
    switch (op->kind) {
    case 0:
        return console_write(c, op);
    case 1:
        for (uint32_t p = 0; p < c->nports; p++)
            port_rx_fill(c, p);
        ctrl_rx_fill(c);
        return 0;
    default:
        return -1;
    }
}

/* ---- completions ---- */

/* len echoed bytes arrived on port p: they must continue the stream of writes. Returns the
 * writes whose last byte came back. */
static int rx_verify(struct console_drv *c, uint32_t p, const uint8_t *b, uint32_t len)
{
    struct cdrv_port *pt = c->port[p];
    int done = 0;
    bool bad = false;
    for (uint32_t i = 0; i < len; i++) {
        if (!pt->exp_count) {
            bad = true; /* more bytes than were written */
            break;
        }
        if (b[i] != stream_byte(pt->exp_seed[pt->exp_head], pt->exp_off))
            bad = true;
        if (++pt->exp_off == pt->exp_len[pt->exp_head]) {
            pt->exp_off = 0;
            pt->exp_head = (pt->exp_head + 1) % CDRV_EXPECT;
            pt->exp_count--;
            pt->exp_base++;
            done++;
        }
    }
    if (bad)
        c->errors++;
    return done;
}

/* Reclaim used buffers of queue q with handler h, used-buffer notifications off, then turn
 * them back on and look again: a buffer used in between would otherwise wait for a
 * notification nobody asked for (2.7.7.1, 2.7.10 used_event, 2.8.10). Returns the handler's
 * completions, or -1 on a ring error (or a handler's refusal). */
typedef int (*used_fn)(struct console_drv *c, uint32_t p, uint32_t token, uint32_t len);

static int drain(struct console_drv *c, uint16_t q, uint32_t p, used_fn h)
{
    struct vqf_vq_drv *vq = &c->v.q[q].vq;
    if (!c->v.q[q].live)
        return 0;
    int done = 0;
    do {
        vqf_vq_drv_disable_cb(vq);
        uint32_t token, len;
        int r;
        while ((r = vqf_vq_drv_get_used(vq, &token, &len)) == 1) {
            int k = h(c, p, token, len);
            if (k < 0)
                return -1;
            done += k;
        }
        if (r < 0)
            return -1;
    } while (!vqf_vq_drv_enable_cb(vq));
    return done;
}

/* A transmit buffer of port p is back: its write was taken by the device. */
static int port_tx_used(struct console_drv *c, uint32_t p, uint32_t token, uint32_t len)
{
    struct cdrv_port *pt = c->port[p];
    (void)len;
    if (token >= pt->tx_slots || pt->tx_nfree >= pt->tx_slots || !pt->tx_out)
        return -1;
    pt->tx_free[pt->tx_nfree++] = (uint16_t)token;
    pt->tx_out--;
    uint32_t rel = pt->tx_seq[token] - pt->exp_base;
    if (rel < pt->exp_count)
        pt->exp_done[(pt->exp_head + rel) % CDRV_EXPECT] = true;
    return 0; /* the write finishes when its echo is verified */
}

/* A receive buffer of port p is back with len echoed bytes. */
static int port_rx_used(struct console_drv *c, uint32_t p, uint32_t token, uint32_t len)
{
    struct cdrv_port *pt = c->port[p];
    if (token >= pt->rx_slots || pt->rx_nfree >= pt->rx_slots)
        return -1;
    pt->rx_free[pt->rx_nfree++] = (uint16_t)token;
    if (len > CDRV_RX_BUF) { /* never read past the posted buffer, whatever len says */
        c->errors++;
        len = CDRV_RX_BUF;
    }
    uint8_t b[CDRV_RX_BUF];
    if (len && vqf_dma_read(&c->v.plat.dma, pt->rx_pool + (uint64_t)token * CDRV_RX_BUF, b, len) != 0) {
        c->errors++;
        return 0;
    }
    return rx_verify(c, p, b, len);
}

static int ctrl_tx_used(struct console_drv *c, uint32_t p, uint32_t token, uint32_t len)
{
    (void)p;
    (void)len;
    if (token >= c->ctx_slots || c->ctx_nfree >= c->ctx_slots)
        return -1;
    c->ctx_free[c->ctx_nfree++] = (uint16_t)token;
    return 0;
}

static int ctrl_rx_used(struct console_drv *c, uint32_t p, uint32_t token, uint32_t len)
{
    (void)p;
    if (token >= c->crx_slots || c->crx_nfree >= c->crx_slots)
        return -1;
    c->crx_free[c->crx_nfree++] = (uint16_t)token;
    uint8_t m[VIRTIO_CONSOLE_CTRL_SIZE];
    /* A message is whole or ignored (5.3.6.2 fixes its size). */
    if (len >= sizeof(m) && len <= CDRV_CTRL_BUF &&
        vqf_dma_read(&c->v.plat.dma, c->ctrl_rx_pool + (uint64_t)token * CDRV_CTRL_BUF, m, sizeof(m)) == 0)
        ctrl_handle(c, m);
    return 0;
}

/* Port p: writes fully echoed and verified, or -1 on a ring error. */
static int reclaim_port(struct console_drv *c, uint32_t p)
{
    int t = drain(c, port_txq(p), p, port_tx_used);
    int r = t < 0 ? -1 : drain(c, port_rxq(p), p, port_rx_used);
    return t < 0 || r < 0 ? -1 : t + r;
}

static int reclaim_ctrl(struct console_drv *c)
{
    if (drain(c, CDRV_Q_CTRL_TX, 0, ctrl_tx_used) < 0 || drain(c, CDRV_Q_CTRL_RX, 0, ctrl_rx_used) < 0)
        return -1;
    ctrl_rx_fill(c);
    return 0;
}

static int console_interrupt(void *drv)
{
    struct console_drv *c = drv;
    (void)vqf_vdrv_ack_interrupt(&c->v);
    if (!c->up)
        return 0;
    if (c->v.needs_reset) {
        recover(c);
        return 0;
    }
    if (c->multiport && reclaim_ctrl(c) < 0) {
        recover(c);
        return 0;
    }
    int done = 0;
    for (uint32_t p = 0; p < c->nports; p++) {
        int r = reclaim_port(c, p);
        if (r < 0) {
            recover(c);
            return done;
        }
        done += r;
        port_rx_fill(c, p);
    }
    if (done > 0)
        c->streak = 0; /* the device works again */
    return done;
}

/* ---- lifecycle ---- */

/* Writes whose transmit buffer the device never took are gone with a reset transmitq: drop
 * them from the expected echo (the ones it took are echoed whatever happens to the ring). */
static void port_forget_untaken(struct cdrv_port *pt)
{
    unsigned keep = 0;
    for (unsigned i = 0; i < pt->exp_count; i++) {
        unsigned from = (pt->exp_head + i) % CDRV_EXPECT;
        if (!pt->exp_done[from] && !(i == 0 && pt->exp_off))
            continue;
        unsigned to = (pt->exp_head + keep) % CDRV_EXPECT;
        pt->exp_seed[to] = pt->exp_seed[from];
        pt->exp_len[to] = pt->exp_len[from];
        pt->exp_done[to] = true;
        keep++;
    }
    if (keep == 0)
        pt->exp_off = 0;
    pt->exp_count = keep;
}

static int console_control(void *drv, unsigned request, uint32_t arg)
{
    struct console_drv *c = drv;
    switch (request) {
    case VQF_CTL_RESET:
        c->streak = 0;
        vqf_vdrv_reset(&c->v);
        return console_probe(c);
    case VQF_CTL_QUEUE_RESET: {
        if (!c->up || !vqf_vdrv_has(&c->v, VIRTIO_F_RING_RESET) || arg >= c->v.num_queues || arg > 0xffffu)
            return -1;
        uint16_t q = (uint16_t)arg;
        /* Take in what the device already returned, so that only the ring's unconsumed
         * buffers are lost (2.6.1: they are the driver's again after the reset). */
        (void)console_interrupt(c);
        if (!c->up)
            return -1;
        if (vqf_vdrv_queue_reset(&c->v, q) != 0) {
            recover(c);
            return -1;
        }
        if (q == CDRV_Q_CTRL_RX) {
            free_list(c->crx_free, &c->crx_nfree, c->crx_slots);
            ctrl_rx_fill(c);
        } else if (q == CDRV_Q_CTRL_TX) {
            free_list(c->ctx_free, &c->ctx_nfree, c->ctx_slots);
        } else {
            uint32_t p = q < 2 ? 0 : q / 2u - 1u;
            if (q % 2 == 0) {
                port_rx_forget(c, p);
                port_rx_fill(c, p);
            } else {
                port_forget_untaken(c->port[p]);
                port_tx_forget(c, p);
            }
        }
        return 0;
    }
    case VQF_CTL_CONFIG: {
        uint8_t cfg[VIRTIO_CONSOLE_CFG_EMERG_WR];
        return console_read_config(c, cfg);
    }
    default:
        return -1;
    }
}

static unsigned console_inflight(void *drv)
{
    struct console_drv *c = drv;
    unsigned out = 0;
    for (uint32_t p = 0; c->up && p < c->nports; p++)
        out += c->port[p]->tx_out;
    return out;
}

static unsigned console_data_errors(void *drv) { return ((struct console_drv *)drv)->errors; }

static void console_remove(void *drv)
{
    struct console_drv *c = drv;
    vqf_vdrv_reset(&c->v); /* 3.3 */
    drop_state(c);
}

static void *console_create(const struct vqf_driver_platform *plat, const struct vqf_driver_params *params)
{
    struct console_drv *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    if (vqf_vdrv_init(&c->v, plat) != 0) {
        free(c);
        return NULL;
    }
    if (params)
        c->params = *params;
    c->nports = 1;
    return c;
}

static void console_destroy(void *drv)
{
    struct console_drv *c = drv;
    if (!c)
        return;
    vqf_vdrv_destroy(&c->v);
    for (unsigned i = 0; i < CDRV_MAX_PORTS; i++)
        free(c->port[i]);
    free(c);
}

const struct vqf_driver_adapter vqf_console_driver = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .create = console_create,
    .destroy = console_destroy,
    .probe = console_probe,
    .submit = console_submit,
    .interrupt = console_interrupt,
    .control = console_control,
    .inflight = console_inflight,
    .data_errors = console_data_errors,
    .remove = console_remove,
};
