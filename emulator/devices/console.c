/* Reference virtio-console device (spec 5.3): every port echoes. Bytes written on a port's
 * transmitq come back on the same port's receiveq, through a bounded per-port buffer.
 *
 * Queues (5.3.2, D-17): 0 port-0 receiveq, 1 port-0 transmitq; with MULTIPORT 2 control
 * receiveq, 3 control transmitq, then receiveq/transmitq pairs of ports 1.. from queue 4.
 * Multiport control (5.3.6.2): on DEVICE_READY the device announces every port with
 * DEVICE_ADD (never one that exists or one >= max_nr_ports, CONS-05); on PORT_READY it opens
 * the port (PORT_OPEN 1), port 0 also nominated as the console (CONSOLE_PORT).
 * emerg_wr (5.3.4, EMERG_WRITE) is accepted at any time, even before FEATURES_OK (CONS-01).
 * All data moves through vqf_dma_read / vqf_dma_write. */
#include <stdlib.h>
#include <string.h>

#include "emulator/devices/devices.h"
#include "emulator/transport/vdev.h"

#define CONS_MAX_PORTS 7u        /* 4 + 2 * 6 queues fit VQF_VDEV_MAX_QUEUES */
#define CONS_DEFAULT_PORTS 2u    /* max_nr_ports with MULTIPORT when no count is given */
#define CONS_ECHO_BYTES 8192u    /* echo buffer per port */
#define CONS_TX_ROOM 4096u       /* a transmit chain is taken only with this much room left */
#define CONS_CTRL_SLOTS 32u      /* control messages waiting for control receive buffers */
#define CONS_QUEUE_MAX 256u
#define CONS_SEG_CAP 64u
#define CONS_COLS 80u            /* config cols/rows (5.3.4, SIZE) */
#define CONS_ROWS 25u

#define CONS_Q_CTRL_RX 2u        /* 5.3.2 */
#define CONS_Q_CTRL_TX 3u

#define CONS_FEATURES                                                                                         \
    (VQF_BIT(VIRTIO_CONSOLE_F_SIZE) | VQF_BIT(VIRTIO_CONSOLE_F_MULTIPORT) | VQF_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE) | \
     VQF_BIT(VIRTIO_F_INDIRECT_DESC) | VQF_BIT(VIRTIO_F_EVENT_IDX) | VQF_BIT(VIRTIO_F_VERSION_1) |             \
     VQF_BIT(VIRTIO_F_RING_PACKED) | VQF_BIT(VIRTIO_F_IN_ORDER) | VQF_BIT(VIRTIO_F_NOTIFICATION_DATA) |        \
     VQF_BIT(VIRTIO_F_RING_RESET))

struct cons_port {
    uint8_t *echo;          /* CONS_ECHO_BYTES ring */
    uint32_t head, count;
};

/* struct virtio_console_control (5.3.6.2): le32 id, le16 event, le16 value. */
struct cons_ctrl_msg {
    uint32_t id;
    uint16_t event, value;
};

struct cons_dev {
    struct vqf_vdev vdev;
    uint32_t max_ports;            /* max_nr_ports offered (1 without MULTIPORT) */
    uint32_t added;                /* bit per port announced with DEVICE_ADD (CONS-05/06) */
    uint32_t opened;               /* bit per port the driver opened (PORT_OPEN 1) */
    struct cons_ctrl_msg ctrl[CONS_CTRL_SLOTS];
    unsigned ctrl_head, ctrl_count;
    uint64_t drops;                /* echo bytes or control messages that found no room */
    uint64_t emerg_bytes;          /* bytes written to emerg_wr (CONS-02: "output") */
    uint8_t emerg_last;
    uint8_t cfg[VIRTIO_CONSOLE_CFG_SIZE]; /* the config space as the device set it */
    struct cons_port port[CONS_MAX_PORTS];
};

static inline struct cons_dev *cons_of(struct vqf_vdev *d) { return (struct cons_dev *)d->backend; }

static bool cons_multiport(struct vqf_vdev *d) { return vqf_vdev_has(d, VIRTIO_CONSOLE_F_MULTIPORT); }

/* Queue index -> port, or -1 for the control queues (5.3.2). */
static int cons_port_of(uint16_t q)
{
    if (q < 2)
        return 0;
    if (q < 4)
        return -1;
    return q / 2 - 1;
}

static uint16_t cons_rxq(uint32_t port) { return (uint16_t)(port == 0 ? 0 : 2 + 2 * port); }

/* Can port p carry data now? Port 0 always can (it exists without MULTIPORT); others once
 * announced with DEVICE_ADD. */
static bool cons_port_live(struct vqf_vdev *d, uint32_t p)
{
    struct cons_dev *c = cons_of(d);
    if (p == 0)
        return true;
    return cons_multiport(d) && p < c->max_ports && ((c->added >> p) & 1u);
}

/* ---- chain helpers (readable / writable part as one byte stream, 2.7.4) ---- */

/* Pop a chain of queue q and check its direction (5.3.6.1, CONS-03/04): a receive buffer
 * must be writable only, a transmit buffer readable only; anything else means the driver
 * broke the queue. 1, 0 (none), -1 (queue failed). */
static int cons_pop(struct vqf_vdev *d, uint16_t q, struct vqf_vq_dev *vq, struct vqf_chain *c, bool rx)
{
    c->seg = d->segs;
    c->seg_cap = d->seg_cap;
    int r = vqf_vq_dev_pop(vq, c);
    if (r < 0) {
        vqf_vdev_fail(d, q, -r);
        return -1;
    }
    if (r == 1 && (rx ? c->nout != 0 : c->nin != 0)) {
        vqf_vdev_fail(d, q, VQF_ERR_INVAL);
        return -1;
    }
    return r;
}

static int cons_push(struct vqf_vdev *d, uint16_t q, struct vqf_vq_dev *vq, const struct vqf_chain *c,
                     uint32_t written)
{
    int r = vqf_vq_dev_push(vq, c, written);
    if (r < 0) {
        vqf_vdev_fail(d, q, -r);
        return -1;
    }
    return 0;
}

/* ---- control messages, device to driver ---- */

static void cons_ctrl_send(struct vqf_vdev *d, uint32_t id, uint16_t event, uint16_t value)
{
    struct cons_dev *c = cons_of(d);
    if (c->ctrl_count == CONS_CTRL_SLOTS) {
        c->drops++;
        return;
    }
    struct cons_ctrl_msg *m = &c->ctrl[(c->ctrl_head + c->ctrl_count++) % CONS_CTRL_SLOTS];
    m->id = id;
    m->event = event;
    m->value = value;
}

/* Put waiting control messages into control receive buffers, one message per buffer. */
static int cons_ctrl_deliver(struct vqf_vdev *d, unsigned budget)
{
    struct cons_dev *c = cons_of(d);
    struct vqf_vq_dev *vq = c->ctrl_count ? vqf_vdev_vq(d, CONS_Q_CTRL_RX) : NULL;
    int done = 0;
    while (vq && c->ctrl_count && (unsigned)done < budget) {
        struct vqf_chain ch;
        int r = cons_pop(d, CONS_Q_CTRL_RX, vq, &ch, true);
        if (r <= 0)
            break;
        const struct cons_ctrl_msg *m = &c->ctrl[c->ctrl_head];
        uint8_t buf[VIRTIO_CONSOLE_CTRL_SIZE];
        vqf_put_le32(buf, m->id);
        vqf_put_le16(buf + 4, m->event);
        vqf_put_le16(buf + 6, m->value);
        uint32_t written = 0;
        /* A buffer too small for a whole message is handed back empty; the message waits. */
        if (ch.in_len >= sizeof(buf)) {
            if (vqf_vdev_chain_write(d, &ch, 0, buf, sizeof(buf)) != 0) {
                vqf_vdev_fail(d, CONS_Q_CTRL_RX, VQF_ERR_ADDR);
                break;
            }
            written = sizeof(buf);
            c->ctrl_head = (c->ctrl_head + 1) % CONS_CTRL_SLOTS;
            c->ctrl_count--;
        }
        if (cons_push(d, CONS_Q_CTRL_RX, vq, &ch, written) != 0)
            break;
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, CONS_Q_CTRL_RX);
    return done;
}

/* A message from the driver (5.3.6.2). */
static void cons_ctrl_handle(struct vqf_vdev *d, uint32_t id, uint16_t event, uint16_t value)
{
    struct cons_dev *c = cons_of(d);
    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        /* Announce every port not yet announced: never an existing one, never one >=
         * max_nr_ports (CONS-05), so a second DEVICE_READY adds nothing. */
        if (value != 1)
            break;
        for (uint32_t p = 0; p < c->max_ports; p++) {
            if ((c->added >> p) & 1u)
                continue;
            c->added |= 1u << p;
            cons_ctrl_send(d, p, VIRTIO_CONSOLE_DEVICE_ADD, 0);
        }
        break;
    case VIRTIO_CONSOLE_PORT_READY:
        if (id >= c->max_ports || !((c->added >> id) & 1u) || value != 1)
            break;
        if (id == 0)
            cons_ctrl_send(d, 0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
        /* The host side is always open: tell the driver (PORT_OPEN 1). */
        cons_ctrl_send(d, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
        break;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (id < c->max_ports && ((c->added >> id) & 1u)) {
            if (value)
                c->opened |= 1u << id;
            else
                c->opened &= ~(1u << id);
        }
        break;
    default:
        break; /* events the device does not act on are ignored */
    }
}

static int cons_process_ctrl_tx(struct vqf_vdev *d, unsigned budget)
{
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, CONS_Q_CTRL_TX);
    int done = 0;
    while (vq && (unsigned)done < budget) {
        struct vqf_chain ch;
        int r = cons_pop(d, CONS_Q_CTRL_TX, vq, &ch, false);
        if (r <= 0)
            break;
        uint8_t buf[VIRTIO_CONSOLE_CTRL_SIZE];
        /* A message shorter than the structure carries nothing the device can use. */
        if (ch.out_len >= sizeof(buf)) {
            if (vqf_vdev_chain_read(d, &ch, 0, buf, sizeof(buf)) != 0) {
                vqf_vdev_fail(d, CONS_Q_CTRL_TX, VQF_ERR_ADDR);
                break;
            }
            cons_ctrl_handle(d, vqf_le32(buf), vqf_le16(buf + 4), vqf_le16(buf + 6));
        }
        if (cons_push(d, CONS_Q_CTRL_TX, vq, &ch, 0) != 0)
            break;
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, CONS_Q_CTRL_TX);
    return done;
}

/* ---- data: echo ---- */

static int cons_process_tx(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    struct cons_dev *c = cons_of(d);
    struct vqf_vq_dev *vq = vqf_vdev_vq(d, q);
    uint32_t pi = (uint32_t)cons_port_of(q);
    struct cons_port *p = &c->port[pi];
    bool live = cons_port_live(d, pi);
    int done = 0;
    /* Back-pressure: a chain is taken only while the echo buffer has room for a typical
     * write, so an honest driver loses nothing; poll() resumes the queue later. */
    while (vq && (unsigned)done < budget && CONS_ECHO_BYTES - p->count >= CONS_TX_ROOM) {
        struct vqf_chain ch;
        int r = cons_pop(d, q, vq, &ch, false);
        if (r <= 0)
            break;
        uint32_t len = live ? ch.out_len : 0;
        uint32_t room = CONS_ECHO_BYTES - p->count;
        if (len > room) {
            c->drops += len - room;
            len = room;
        }
        /* Copy into the ring in at most two runs (it wraps once at most). */
        for (uint32_t off = 0; off < len;) {
            uint32_t tail = (p->head + p->count) % CONS_ECHO_BYTES;
            uint32_t n = CONS_ECHO_BYTES - tail < len - off ? CONS_ECHO_BYTES - tail : len - off;
            if (vqf_vdev_chain_read(d, &ch, off, p->echo + tail, n) != 0) {
                vqf_vdev_fail(d, q, VQF_ERR_ADDR);
                return done;
            }
            p->count += n;
            off += n;
        }
        if (!live)
            c->drops += ch.out_len;
        /* Nothing written into a transmit buffer: used len 0. */
        if (cons_push(d, q, vq, &ch, 0) != 0)
            break;
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, q);
    return done;
}

/* Echo waiting bytes of port pi into its receiveq: each buffer filled with what there is. */
static int cons_deliver_port(struct vqf_vdev *d, uint32_t pi, unsigned budget)
{
    struct cons_port *p = &cons_of(d)->port[pi];
    uint16_t q = cons_rxq(pi);
    struct vqf_vq_dev *vq = p->count ? vqf_vdev_vq(d, q) : NULL;
    int done = 0;
    while (vq && p->count && (unsigned)done < budget) {
        struct vqf_chain ch;
        int r = cons_pop(d, q, vq, &ch, true);
        if (r <= 0)
            break;
        uint32_t len = p->count < ch.in_len ? p->count : ch.in_len;
        uint32_t off = 0;
        while (off < len) {
            uint32_t n = CONS_ECHO_BYTES - p->head < len - off ? CONS_ECHO_BYTES - p->head : len - off;
            if (vqf_vdev_chain_write(d, &ch, off, p->echo + p->head, n) != 0) {
                vqf_vdev_fail(d, q, VQF_ERR_ADDR);
                return done;
            }
            p->head = (p->head + n) % CONS_ECHO_BYTES;
            p->count -= n;
            off += n;
        }
        if (cons_push(d, q, vq, &ch, len) != 0)
            break;
        done++;
    }
    if (done)
        vqf_vdev_used_notify(d, q);
    return done;
}

/* ---- backend ops ---- */

static uint16_t cons_nqueues(struct vqf_vdev *d)
{
    return cons_multiport(d) ? (uint16_t)(2 + 2 * cons_of(d)->max_ports) : 2;
}

static int cons_process(struct vqf_vdev *d, uint16_t q, unsigned budget)
{
    if (q >= cons_nqueues(d))
        return 0;
    if (q == CONS_Q_CTRL_TX)
        return cons_process_ctrl_tx(d, budget);
    if (q == CONS_Q_CTRL_RX)
        return cons_ctrl_deliver(d, budget);
    int pi = cons_port_of(q);
    if (q % 2 == 1)
        return cons_process_tx(d, q, budget);
    return cons_deliver_port(d, (uint32_t)pi, budget);
}

static int cons_poll(struct vqf_vdev *d, unsigned budget)
{
    struct cons_dev *c = cons_of(d);
    int done = 0;
    if (cons_multiport(d))
        done += cons_ctrl_deliver(d, budget);
    uint32_t nports = cons_multiport(d) ? c->max_ports : 1;
    for (uint32_t pi = 0; pi < nports && (unsigned)done < budget; pi++) {
        done += cons_deliver_port(d, pi, budget - (unsigned)done);
        /* Transmit chains left waiting for echo room resume once delivery made some. */
        uint16_t txq = (uint16_t)(cons_rxq(pi) + 1);
        struct vqf_vq_dev *vq = vqf_vdev_vq(d, txq);
        if (vq && (unsigned)done < budget && CONS_ECHO_BYTES - c->port[pi].count >= CONS_TX_ROOM &&
            vqf_vq_dev_pending(vq))
            done += cons_process_tx(d, txq, budget - (unsigned)done);
    }
    return done;
}

static void cons_port_flush(struct cons_port *p) { p->head = p->count = 0; }

static void cons_reset(struct vqf_vdev *d)
{
    struct cons_dev *c = cons_of(d);
    for (unsigned i = 0; i < CONS_MAX_PORTS; i++)
        cons_port_flush(&c->port[i]);
    c->added = c->opened = 0;
    c->ctrl_head = c->ctrl_count = 0;
}

/* emerg_wr (5.3.4): a write outputs its low byte at once, whatever the status (CONS-01/02).
 * cols, rows and max_nr_ports are the device's: a driver write to them is undone, and
 * emerg_wr keeps reading 0 (it is an output, not storage). */
static void cons_config_write(struct vqf_vdev *d, uint32_t off, unsigned size, uint32_t val)
{
    struct cons_dev *c = cons_of(d);
    if (((d->dev_features[0] >> VIRTIO_CONSOLE_F_EMERG_WRITE) & 1u) && off <= VIRTIO_CONSOLE_CFG_EMERG_WR &&
        off + size > VIRTIO_CONSOLE_CFG_EMERG_WR) {
        c->emerg_bytes++;
        c->emerg_last = (uint8_t)(val >> (8 * (VIRTIO_CONSOLE_CFG_EMERG_WR - off)));
    }
    memcpy(d->config + off, c->cfg + off, size);
}

static const struct vqf_vdev_ops cons_ops = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .config_write = cons_config_write,
    .reset = cons_reset,
    .process = cons_process,
    .poll = cons_poll,
};

/* ---- adapter ---- */

static void *cons_create(const struct vqf_device_platform *plat, const struct vqf_device_params *params)
{
    struct cons_dev *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    uint64_t feat[2] = {CONS_FEATURES, 0};
    if (params && (params->features[0] | params->features[1])) {
        feat[0] &= params->features[0];
        feat[1] = 0;
    }
    uint32_t ports = 1;
    uint16_t nq = 2;
    if (feat[0] & VQF_BIT(VIRTIO_CONSOLE_F_MULTIPORT)) {
        /* num_queues counts virtqueues: 2 control queues plus 2 per port. */
        ports = params && params->num_queues > 2 ? (params->num_queues - 2u) / 2u : CONS_DEFAULT_PORTS;
        ports = ports < 1 ? 1 : ports > CONS_MAX_PORTS ? CONS_MAX_PORTS : ports;
        nq = (uint16_t)(2 + 2 * ports);
    }
    c->max_ports = ports;
    uint16_t qmax = params && params->queue_size_max ? params->queue_size_max : CONS_QUEUE_MAX;
    c->port[0].echo = malloc((size_t)ports * CONS_ECHO_BYTES);
    if (!c->port[0].echo ||
        vqf_vdev_init(&c->vdev, &cons_ops, c, &plat->dma, nq, qmax, feat, VIRTIO_CONSOLE_CFG_SIZE, CONS_SEG_CAP) != 0) {
        free(c->port[0].echo);
        free(c);
        return NULL;
    }
    for (uint32_t i = 1; i < ports; i++)
        c->port[i].echo = c->port[0].echo + (size_t)i * CONS_ECHO_BYTES;
    c->vdev.irq = plat->irq;
    c->vdev.irq_ctx = plat->irq_ctx;
    /* struct virtio_console_config (5.3.4). */
    uint8_t *cfg = c->vdev.config;
    vqf_put_le16(cfg + VIRTIO_CONSOLE_CFG_COLS, CONS_COLS);
    vqf_put_le16(cfg + VIRTIO_CONSOLE_CFG_ROWS, CONS_ROWS);
    vqf_put_le32(cfg + VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, ports);
    memcpy(c->cfg, cfg, sizeof(c->cfg));
    return c;
}

static void cons_destroy(void *dev)
{
    struct cons_dev *c = dev;
    if (!c)
        return;
    vqf_vdev_destroy(&c->vdev);
    free(c->port[0].echo);
    free(c);
}

const struct vqf_device_adapter vqf_console_device = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .create = cons_create,
    .destroy = cons_destroy,
    .mmio_read = vqf_vdev_adapter_mmio_read,
    .mmio_write = vqf_vdev_adapter_mmio_write,
    .poll = vqf_vdev_adapter_poll,
};
