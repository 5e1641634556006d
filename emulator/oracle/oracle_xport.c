/* The oracle's transport model: the driver's virtio-mmio register accesses (spec 4.2.2) and
 * the values the device returned. Status state machine (2.1, 3.1), feature negotiation (2.2,
 * 6), queue registers and queue reset (2.6.1, 4.2.2), notifications (2.9, 4.1.5.2.1 rules),
 * device reset (2.4) and config generation (2.5, 4.2.2.1). */
#include "emulator/oracle/oracle_int.h"

#include <string.h>

/* A driver that breaks a transport rule while not judged leaves the device in a state the
 * spec does not define: the device's register answers are not judged again until the next
 * reset, and queues enabled meanwhile get no ring shadow. */
#define DRV_FIND(c, ...)                                                                     \
    do {                                                                                     \
        if (!vqf_or_judged(o, VQF_SIDE_DRIVER))                                              \
            o->xport_lied = true;                                                            \
        vqf_or_find(o, c, VQF_SIDE_DRIVER, __VA_ARGS__);                                     \
    } while (0)
#define DEV_FIND(c, ...)                                                                     \
    do {                                                                                     \
        if (!o->xport_lied)                                                                  \
            vqf_or_find(o, c, VQF_SIDE_DEVICE, __VA_ARGS__);                                 \
    } while (0)

#define ST_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define ST_DRIVER VIRTIO_STATUS_DRIVER
#define ST_OK VIRTIO_STATUS_DRIVER_OK
#define ST_FOK VIRTIO_STATUS_FEATURES_OK
#define ST_NR VIRTIO_STATUS_DEVICE_NEEDS_RESET
#define ST_FAILED VIRTIO_STATUS_FAILED
#define ST_SUSPEND VIRTIO_STATUS_SUSPEND

/* Feature prerequisites, spec 5.1.3.1 (network device): bit -> required bit(s), "any of". */
struct feat_dep {
    uint8_t bit, need1, need2;
};
#define NO_BIT 0xff
static const struct feat_dep net_deps[] = {
    {7, 1, NO_BIT},   /* GUEST_TSO4 -> GUEST_CSUM */
    {8, 1, NO_BIT},   /* GUEST_TSO6 -> GUEST_CSUM */
    {9, 7, 8},        /* GUEST_ECN -> GUEST_TSO4 or GUEST_TSO6 */
    {10, 1, NO_BIT},  /* GUEST_UFO -> GUEST_CSUM */
    {11, 0, NO_BIT},  /* HOST_TSO4 -> CSUM */
    {12, 0, NO_BIT},  /* HOST_TSO6 -> CSUM */
    {13, 11, 12},     /* HOST_ECN -> HOST_TSO4 or HOST_TSO6 */
    {14, 0, NO_BIT},  /* HOST_UFO -> CSUM */
    {18, 17, NO_BIT}, /* CTRL_RX -> CTRL_VQ */
    {19, 17, NO_BIT}, /* CTRL_VLAN -> CTRL_VQ */
    {21, 17, NO_BIT}, /* GUEST_ANNOUNCE -> CTRL_VQ */
    {22, 17, NO_BIT}, /* MQ -> CTRL_VQ */
    {23, 17, NO_BIT}, /* CTRL_MAC_ADDR -> CTRL_VQ */
    {60, 17, NO_BIT}, /* RSS -> CTRL_VQ */
};

static bool bit_of(const uint32_t w[4], unsigned b) { return b < 128 && ((w[b / 32] >> (b % 32)) & 1u); }

/* The first accepted (or offered) bit whose prerequisite is missing, or -1. Only windows
 * that are known take part: an unknown window is not evidence. */
static int missing_dep(const struct vqf_oracle *o, const uint32_t w[4], unsigned known)
{
    if (o->setup.device_id != VIRTIO_ID_NET)
        return -1;
    for (unsigned i = 0; i < sizeof(net_deps) / sizeof(net_deps[0]); i++) {
        const struct feat_dep *d = &net_deps[i];
        unsigned need_win = (1u << (d->need1 / 32)) | (d->need2 != NO_BIT ? 1u << (d->need2 / 32) : 0);
        if (!((known >> (d->bit / 32)) & 1u) || (known & need_win) != need_win)
            continue;
        if (bit_of(w, d->bit) && !bit_of(w, d->need1) && !(d->need2 != NO_BIT && bit_of(w, d->need2)))
            return d->bit;
    }
    return -1;
}

/* Bits no device may offer and no driver may accept on virtio-mmio (spec 2.2, 6, D-20):
 * the reserved future range 44-49, bits 128+, and per device type the device-specific bits
 * that type does not define. Bit 41 (ADMIN_VQ, double-booked in 1.4) is never judged. */
static bool bit_invalid(uint32_t device_id, unsigned b)
{
    if (b >= 44 && b <= 49)
        return true;
    if (b >= 128)
        return true;
    bool dev_range = b <= 23 || (b >= 50 && b <= 127);
    if (!dev_range)
        return false;
    switch (device_id) {
    case VIRTIO_ID_RNG: /* 5.4.3: no feature bits */
        return true;
    case VIRTIO_ID_CONSOLE: /* 5.3.3: SIZE, MULTIPORT, EMERG_WRITE */
        return b > 2;
    case VIRTIO_ID_BLOCK: /* 5.2.3 (with legacy BARRIER 0 and SCSI 7): bits 0..17 */
        return b > 17 && b <= 23;
    default:
        return false;
    }
}

static int invalid_bit(const struct vqf_oracle *o, const uint32_t w[4], unsigned known)
{
    for (unsigned win = 0; win < 4; win++) {
        if (!((known >> win) & 1u) || !w[win])
            continue;
        for (unsigned i = 0; i < 32; i++)
            if (((w[win] >> i) & 1u) && bit_invalid(o->setup.device_id, win * 32 + i))
                return (int)(win * 32 + i);
    }
    return -1;
}

/* ---- device offer (read through DeviceFeatures) ---- */

static void check_offer(struct vqf_oracle *o, unsigned win)
{
    uint32_t v = o->dev_feat[win];
    if (win == 1 && !(v & 1u))
        /* 6.2: a device always offers VERSION_1 (bit 32) */
        DEV_FIND(VQF_CL_RSVD_14, v, 0, 0,
                    "device features 32..63 = 0x%08x: VERSION_1 not offered", v);
    if (win == 1 && (v & (1u << (VIRTIO_F_SR_IOV - 32))))
        /* 6.2: only PCI devices with an SR-IOV capability offer SR_IOV */
        DEV_FIND(VQF_CL_RSVD_23, v, 0, 0,
                    "virtio-mmio device offers SR_IOV (bit 37): features 32..63 = 0x%08x", v);
    int b = invalid_bit(o, o->dev_feat, 1u << win);
    if (b >= 0)
        DEV_FIND(VQF_CL_FEAT_12, (uint64_t)b, v, 0,
                    "device offers feature bit %d, undefined or reserved for device type %u", b,
                    o->setup.device_id);
    b = missing_dep(o, o->dev_feat, o->dev_feat_known);
    if (b >= 0)
        DEV_FIND(VQF_CL_FEAT_09, (uint64_t)b, 0, 0,
                    "device offers feature bit %d without the feature it depends on (5.1.3.1)", b);
    if (o->setup.device_id == VIRTIO_ID_BLOCK && win == 0 && (v & (1u << VIRTIO_BLK_F_CONFIG_WCE)) &&
        !(v & (1u << VIRTIO_BLK_F_FLUSH)))
        /* 5.2.5.2: CONFIG_WCE is offered together with FLUSH */
        DEV_FIND(VQF_CL_BLK_06, v, 0, 0, "blk device offers CONFIG_WCE without FLUSH");
    else if (o->setup.device_id == VIRTIO_ID_BLOCK && win == 0 && !(v & (1u << VIRTIO_BLK_F_FLUSH)))
        /* 5.2.5.2: a blk device should always offer FLUSH (SHOULD: a warning) */
        DEV_FIND(VQF_CL_BLK_05, v, 0, 0, "blk device does not offer FLUSH");
    if (o->setup.device_id == VIRTIO_ID_NET && (o->dev_feat_known & 3u) == 3u && !bit_of(o->dev_feat, 17)) {
        /* 5.1.4.1: HASH_REPORT and CTRL_RX_EXTRA should come with CTRL_VQ */
        if (bit_of(o->dev_feat, VIRTIO_NET_F_HASH_REPORT))
            DEV_FIND(VQF_CL_NET_13, VIRTIO_NET_F_HASH_REPORT, 0, 0,
                        "net device offers HASH_REPORT without CTRL_VQ");
        else if (bit_of(o->dev_feat, 20))
            DEV_FIND(VQF_CL_NET_14, 20, 0, 0, "net device offers CTRL_RX_EXTRA without CTRL_VQ");
    }
}

/* ---- driver acceptance, judged at the FEATURES_OK write ---- */

static void check_accept(struct vqf_oracle *o)
{
    for (unsigned w = 0; w < 4; w++) {
        if (!((o->dev_feat_known >> w) & 1u))
            continue;
        uint32_t extra = o->drv_feat[w] & ~o->dev_feat[w];
        if (extra) {
            unsigned b = (unsigned)__builtin_ctz(extra) + 32 * w;
            DRV_FIND(VQF_CL_FEAT_01, b, o->drv_feat[w], o->dev_feat[w],
                        "driver accepts bit %u that the device did not offer (window %u: 0x%08x of 0x%08x)", b,
                        w, o->drv_feat[w], o->dev_feat[w]);
            return;
        }
    }
    unsigned known = o->drv_feat_written | o->dev_feat_known;
    int b = missing_dep(o, o->drv_feat, known | 0xfu);
    if (b >= 0) {
        DRV_FIND(VQF_CL_FEAT_02, (uint64_t)b, 0, 0,
                    "driver accepts feature bit %d without the feature it depends on (5.1.3.1)", b);
        return;
    }
    b = invalid_bit(o, o->drv_feat, 0xfu);
    if (b >= 0) {
        DRV_FIND(VQF_CL_FEAT_05, (uint64_t)b, 0, 0,
                    "driver accepts feature bit %d, undefined or reserved for device type %u", b,
                    o->setup.device_id);
        return;
    }
    if (o->drv_feat[1] & (1u << (VIRTIO_F_SR_IOV - 32))) {
        /* 6.1: no SR_IOV on a transport other than PCI */
        DRV_FIND(VQF_CL_RSVD_10, o->drv_feat[1], 0, 0, "driver accepts SR_IOV on virtio-mmio");
        return;
    }
    if (o->setup.device_id == VIRTIO_ID_NET && !bit_of(o->drv_feat, 17)) {
        /* 5.1.4.2: HASH_REPORT and CTRL_RX_EXTRA should not be negotiated without CTRL_VQ */
        if (bit_of(o->drv_feat, VIRTIO_NET_F_HASH_REPORT)) {
            DRV_FIND(VQF_CL_NET_27, VIRTIO_NET_F_HASH_REPORT, 0, 0,
                        "driver accepts HASH_REPORT without CTRL_VQ");
            return;
        }
        if (bit_of(o->drv_feat, 20)) {
            DRV_FIND(VQF_CL_NET_28, 20, 0, 0, "driver accepts CTRL_RX_EXTRA without CTRL_VQ");
            return;
        }
    }
    if (((o->dev_feat_known >> 1) & 1u) && (o->dev_feat[1] & 1u) && !(o->drv_feat[1] & 1u)) {
        /* 6.1: VERSION_1 is accepted whenever offered */
        DRV_FIND(VQF_CL_RSVD_01, o->drv_feat[1], 0, 0,
                    "VERSION_1 offered but not accepted (driver features 32..63 = 0x%08x)", o->drv_feat[1]);
        return;
    }
    /* Features the driver should accept when offered (SHOULD: warnings; declining them leaves
     * the device's answer defined): 6.1 ACCESS_PLATFORM, ORDER_PLATFORM, NOTIF_CONFIG_DATA;
     * 5.2.6.1 blk RO; 5.1.4.2 net MAC, MTU, STANDBY (bit 62). RING_PACKED (RSVD-06) is not
     * judged: a driver picks the split format on purpose (the harness runs both formats over
     * a device that offers both). */
    static const struct {
        uint32_t device_id; /* 0: any device type */
        uint8_t bit;
        enum vqf_clause_id clause;
    } should_accept[] = {
        {0, VIRTIO_F_ACCESS_PLATFORM, VQF_CL_RSVD_03},
        {0, VIRTIO_F_ORDER_PLATFORM, VQF_CL_RSVD_07},
        {0, VIRTIO_F_NOTIF_CONFIG_DATA, VQF_CL_RSVD_13},
        {VIRTIO_ID_BLOCK, VIRTIO_BLK_F_RO, VQF_CL_BLK_11},
        {VIRTIO_ID_NET, VIRTIO_NET_F_MAC, VQF_CL_NET_16},
        {VIRTIO_ID_NET, VIRTIO_NET_F_MTU, VQF_CL_NET_21},
        {VIRTIO_ID_NET, 62, VQF_CL_NET_24},
    };
    for (unsigned i = 0; i < sizeof(should_accept) / sizeof(should_accept[0]); i++)
        if ((!should_accept[i].device_id || should_accept[i].device_id == o->setup.device_id) &&
            ((o->dev_feat_known >> (should_accept[i].bit / 32)) & 1u) &&
            ((o->drv_feat_written >> (should_accept[i].bit / 32)) & 1u)) {
            if (bit_of(o->dev_feat, should_accept[i].bit) && !bit_of(o->drv_feat, should_accept[i].bit)) {
                vqf_or_find(o, should_accept[i].clause, VQF_SIDE_DRIVER, should_accept[i].bit, 0, 0,
                            "feature bit %u offered but not accepted", should_accept[i].bit);
                return;
            }
        }
}

/* ---- status ---- */

/* A feature select value the oracle does not know (beyond the 4 windows it shadows). */
#define VQF_OR_SEL_UNKNOWN UINT32_MAX

static void device_reset(struct vqf_oracle *o)
{
    o->xport_lied = false;
    o->dev_err_owed = o->nr_signalled = false;
    o->nzr = 0; /* the disk behind a reset device is not assumed to keep its contents */
    o->blk_cap_owed = false;
    o->susp_cfg_valid = false;
    o->reset_written = true;
    o->reset_seen0 = false;
    o->dev_steps = 0;
    o->status = 0;
    o->failed_written = false;
    o->feat_ok_written = o->feat_ok_confirmed = o->feat_ok_refused = false;
    o->needs_reset_seen = o->needs_reset_owed = o->config_irq_since_ok = false;
    o->drv_feat_written = 0;
    memset(o->drv_feat, 0, sizeof(o->drv_feat));
    /* 4.2.2.2: the driver writes the select registers before using the feature windows; the
     * spec does not say what a reset does to them, so the window shown is unknown until the
     * next write (an out-of-range select is never judged) */
    o->dev_feat_sel = o->drv_feat_sel = VQF_OR_SEL_UNKNOWN;
    o->features = 0;
    o->irq_since_reset = false;
    o->susp_early = o->suspending = o->suspended = o->resume_pending = false;
    o->wb_written = false;
    o->blk_cap_known = false;
    memset(o->cfg_known, 0, sizeof(o->cfg_known));
    o->gen_valid = false;
    /* 5.3.6.2: a reset device starts with no ports; it announces them again after the
     * next DEVICE_READY, so the ports (and pending CONSOLE_PORTs) of the old session are gone */
    o->cons_ports = o->cons_console = 0;
    o->cons_ready_sent = false;
    for (unsigned i = 0; i < OQ_MAX; i++) {
        struct oq *q = &o->q[i];
        vqf_or_split_disable(q);
        q->ready = false;
        q->old_valid = false;
        q->reset_pending = q->was_reset = q->reset_done_seen = q->ready_since_reset_write = false;
    }
}

/* Status bits defined by 2.1 (D-19). */
#define ST_DEFINED (ST_ACK | ST_DRIVER | ST_OK | ST_FOK | ST_SUSPEND | ST_NR | ST_FAILED)

/* 2.5.1 (CFG-02): the driver goes on (DRIVER_OK, a notification) with config values whose
 * generation changed under them, or was not read again after them, and did not retry.
 * Giving up instead (FAILED, a reset) is fine. */
static void cfg_unconfirmed_use(struct vqf_oracle *o, uint32_t status_written)
{
    if (!o->cfg_unconfirmed)
        return;
    o->cfg_unconfirmed = false;
    /* a lying driver's config reads change nothing the device is judged on */
    if (status_written == 0 || (status_written & VIRTIO_STATUS_FAILED) || !vqf_or_judged(o, VQF_SIDE_DRIVER))
        return;
    DRV_FIND(VQF_CL_CFG_02, o->gen_last, 0, 0,
             "config values used though ConfigGeneration changed under them (now 0x%x) and the read was not "
             "retried", o->gen_last);
}

static void status_write(struct vqf_oracle *o, uint32_t v)
{
    cfg_unconfirmed_use(o, v);
    if (v == 0) {
        device_reset(o);
        o->status_read_valid = false;
        return;
    }
    uint32_t cur = o->status;
    uint32_t added = v & ~cur;
    bool susp_feat = or_feat(o->features, VIRTIO_F_SUSPEND);
    if (v & ~(uint32_t)ST_DEFINED) {
        /* D-19 (2.1): only the defined status bits */
        DRV_FIND(VQF_CL_D_19, v, 0, 0, "status 0x%x sets undefined bits 0x%x", v,
                    v & ~(uint32_t)ST_DEFINED);
    } else if (o->failed_written && added) {
        /* 2.1.1: after FAILED, reset before any new initialisation step */
        DRV_FIND(VQF_CL_STATUS_03, v, cur, 0,
                    "status 0x%x written after FAILED without a reset (current 0x%x)", v, cur);
    } else {
        /* Bits the driver set and the device still shows: FEATURES_OK refused by the device
         * may be dropped, and NEEDS_RESET is the device's. */
        uint32_t keep = cur & (o->status_read_valid ? o->status_read : ~0u) & ~(uint32_t)ST_NR;
        if (susp_feat)
            keep &= ~(uint32_t)(ST_OK | ST_SUSPEND); /* 1.4 suspend flow clears and sets these */
        if (keep & ~v) {
            /* 2.1.1: a status bit is never cleared except by writing 0 */
            DRV_FIND(VQF_CL_STATUS_02, v, cur, 0,
                        "status 0x%x clears bits 0x%x of 0x%x without a reset", v, keep & ~v, cur);
        } else if (((added & ST_DRIVER) && !(v & ST_ACK)) || ((added & ST_FOK) && !(v & ST_DRIVER)) ||
                   ((added & ST_OK) && !(v & ST_FOK))) {
            /* 2.1.1 / 3.1.1: ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK in this order */
            DRV_FIND(VQF_CL_STATUS_01, v, cur, 0,
                        "status 0x%x sets a step before its predecessor (current 0x%x)", v, cur);
        } else if ((added & ST_OK) && (o->feat_ok_refused || o->failed_written)) {
            DRV_FIND(VQF_CL_INIT_06, v, cur, 0,
                        "DRIVER_OK written after the device refused FEATURES_OK");
        } else if ((added & ST_OK) && !o->feat_ok_confirmed) {
            /* 3.1.1 step 6: re-read status to confirm FEATURES_OK before going live */
            DRV_FIND(VQF_CL_INIT_01, v, cur, 0,
                        "DRIVER_OK written without re-reading status to confirm FEATURES_OK");
        } else if ((added & ST_ACK) && o->reset_written && !o->reset_seen0) {
            /* 2.4.2: after writing 0, wait for status to read 0 before initialising again */
            DRV_FIND(VQF_CL_RESET_03, v, 0, 0,
                        "ACKNOWLEDGE written before the reset was seen complete (status read 0)");
        } else if ((added & ST_SUSPEND) && (!(cur & ST_OK) || !susp_feat)) {
            /* 3.4.1: SUSPEND only once DRIVER_OK is set and VIRTIO_F_SUSPEND negotiated */
            /* (the device's answer stays defined: it ignores the request, SUSP-07) */
            vqf_or_find(o, VQF_CL_SUSP_01, VQF_SIDE_DRIVER, v, cur, 0,
                        "SUSPEND requested with status 0x%x%s", cur, susp_feat ? "" : " without VIRTIO_F_SUSPEND");
        }
    }
    if ((added & ST_SUSPEND) && !(cur & ST_OK))
        o->susp_early = true;
    if ((added & ST_SUSPEND) && (cur & ST_OK) && susp_feat) {
        o->suspending = true;
        o->resume_pending = false;
    } else if (o->suspending && susp_feat && (v & ST_OK) && !(v & ST_SUSPEND)) {
        o->suspending = o->suspended = false;
        o->resume_pending = true;
    }
    if (added & ST_FOK) {
        check_accept(o);
        o->feat_ok_written = true;
        o->features = (uint64_t)o->drv_feat[0] | ((uint64_t)o->drv_feat[1] << 32);
    }
    if (added & ST_FAILED)
        o->failed_written = true;
    if (added & ST_ACK) {
        o->reset_written = false;
        o->reset_seen0 = false;
    }
    if (added & ST_OK) {
        o->config_irq_since_ok = false;
        o->cons_ready_sent = false;
    }
    o->status = v;
    o->status_read_valid = false;
}

static void status_read(struct vqf_oracle *o, uint32_t val)
{
    if (o->reset_written && !o->reset_seen0) {
        if (val == 0)
            o->reset_seen0 = true;
        else if (o->dev_steps >= 2)
            /* 2.4.1: status returns to 0 after a reset (the device has run since) */
            DEV_FIND(VQF_CL_RESET_01, val, o->dev_steps, 0,
                        "status reads 0x%x after a reset and %u device steps", val, o->dev_steps);
    }
    if (o->feat_ok_written && !o->feat_ok_confirmed && !o->feat_ok_refused) {
        if (val & ST_FOK) {
            o->feat_ok_confirmed = true;
        } else {
            o->feat_ok_refused = true;
            /* FEAT-10 / FEAT-13 (a valid or once-accepted set refused) are not judged: the
             * harness makes the reference device refuse on purpose (dev_refuse_features),
             * which a register observer cannot tell from a device bug. */
        }
    }
    o->status_read_after_step = true;
    if (val & ST_NR) {
        o->dev_err_owed = false;
        o->nr_signalled = true;
    }
    if ((val & ST_NR) && !o->needs_reset_seen) {
        o->needs_reset_seen = true;
        if ((o->status & ST_OK) && !o->config_irq_since_ok)
            o->needs_reset_owed = true;
    }
    if ((val & ST_SUSPEND) && o->susp_early && !(o->status & ST_OK))
        /* 3.4.2: SUSPEND is ignored until the device is fully initialised */
        DEV_FIND(VQF_CL_SUSP_07, val, o->status, 0,
                    "status reads 0x%x: SUSPEND accepted before DRIVER_OK", val);
    if (o->suspending && (val & ST_SUSPEND) && !(val & ST_OK) && !o->suspended) {
        o->suspended = true;
        for (unsigned i = 0; i < OQ_MAX; i++) {
            const struct oq *q = &o->q[i];
            if (q->live && !q->packed && !q->taint_dev && (q->dev_cons != q->used_total || q->irq_owed)) {
                /* 3.4.2: before reporting suspended, finish in-flight buffers and notify */
                DEV_FIND(VQF_CL_SUSP_14, i, q->dev_cons - q->used_total, q->irq_owed,
                         "suspended with %u buffers of queue %u taken but not used%s", q->dev_cons - q->used_total, i,
                         q->irq_owed ? ", a notification owed" : "");
                break;
            }
        }
    }
    if (o->resume_pending && !(val & ST_SUSPEND) && (val & ST_OK))
        o->resume_pending = false;
    o->status_read = val;
    o->status_read_valid = true;
}

void vqf_or_xport_irq(struct vqf_oracle *o, uint32_t bits)
{
    o->irq_since_reset = true;
    if (o->suspended && (bits & VIRTIO_MMIO_INT_CONFIG))
        /* 3.4.2: no configuration notification while suspended */
        DEV_FIND(VQF_CL_SUSP_10, bits, 0, 0, "configuration notification while suspended");
    else if (o->suspended && (bits & VIRTIO_MMIO_INT_VRING))
        /* 3.4.2: no queue notification while suspended */
        DEV_FIND(VQF_CL_SUSP_09, bits, 0, 0, "used-buffer notification while suspended");
    if (bits & VIRTIO_MMIO_INT_CONFIG) {
        o->config_irqs++;
        if (o->setup.device_id == VIRTIO_ID_BLOCK && (o->status & ST_OK) && !o->reset_written)
            o->blk_cap_owed = true;
        if (o->dev_err_owed || o->needs_reset_seen)
            o->nr_signalled = true;
        o->dev_err_owed = false;
    }
    if ((bits & VIRTIO_MMIO_INT_CONFIG) && (o->status & ST_OK)) {
        o->config_irq_since_ok = true;
        o->needs_reset_owed = false;
    }
    if (o->in_dev_step && (bits & VIRTIO_MMIO_INT_VRING) && o->reset_written && o->reset_seen0)
        /* 2.4.1: no notification after the reset completed */
        DEV_FIND(VQF_CL_RESET_02, bits, 0, 0,
                    "device raises interrupt 0x%x after the device reset completed", bits);
    else if (o->in_dev_step && (bits & VIRTIO_MMIO_INT_VRING) && !(o->status & ST_OK) && !o->reset_written)
        /* 2.1.2: no used-buffer notification before DRIVER_OK */
        DEV_FIND(VQF_CL_STATUS_05, bits, o->status, 0,
                    "used-buffer notification before DRIVER_OK (status 0x%x)", o->status);
}

void vqf_or_xport_idle(struct vqf_oracle *o)
{
    if (o->blk_cap_owed && (o->status & ST_OK) && !o->reset_written && !o->needs_reset_seen) {
        /* 5.2.6.1: after a configuration change notification, re-read the capacity */
        DRV_FIND(VQF_CL_BLK_09, o->config_irqs, 0, 0, "config notification, driver idle, capacity not read again");
        o->blk_cap_owed = false;
    }
    if (o->setup.device_id == VIRTIO_ID_CONSOLE && or_feat(o->features, VIRTIO_CONSOLE_F_MULTIPORT) &&
        (o->status & ST_OK) && !o->reset_written && !o->failed_written && o->q[3].live && !o->q[3].taint_drv &&
        !o->cons_ready_sent) {
        /* 5.3.6.2.2: with MULTIPORT the driver sends DEVICE_READY (unless it gave up on the
         * device, 2.1: FAILED) */
        DRV_FIND(VQF_CL_CONS_07, o->status, 0, 0, "MULTIPORT negotiated, driver idle, no DEVICE_READY sent");
        o->cons_ready_sent = true;
    }
    if (o->dev_err_owed) {
        DEV_FIND(VQF_CL_STATUS_06, o->status, 0, 0,
                 "the device reported a ring error and went idle without DEVICE_NEEDS_RESET");
        o->dev_err_owed = false;
    }
    if (o->feat_ok_refused && !o->failed_written && !o->reset_written) {
        /* 3.1.1: a failed initialisation step should end with FAILED */
        DRV_FIND(VQF_CL_INIT_05, o->status, 0, 0, "FEATURES_OK refused and the driver went idle without FAILED");
        o->feat_ok_refused = false;
    }
    if (o->status_read_valid && o->status_read_after_step && !(o->status_read & ST_NR)) {
        if (o->suspending && !o->suspended && !(o->status_read & ST_SUSPEND))
            /* 3.4.2: a suspend request ends suspended or with NEEDS_RESET */
            DEV_FIND(VQF_CL_SUSP_12, o->status_read, 0, 0, "suspend requested, device idle, status 0x%x", o->status_read);
        else if (o->resume_pending && !((o->status_read & ST_OK) && !(o->status_read & ST_SUSPEND)))
            /* 3.4.2: a resume request ends running or with NEEDS_RESET */
            DEV_FIND(VQF_CL_SUSP_13, o->status_read, 0, 0, "resume requested, device idle, status 0x%x", o->status_read);
    }
    if (o->needs_reset_owed) {
        /* 2.1.2: NEEDS_RESET after DRIVER_OK is followed by a config-change notification */
        DEV_FIND(VQF_CL_STATUS_07, o->status_read, 0, 0,
                    "DEVICE_NEEDS_RESET set after DRIVER_OK without a configuration-change notification");
        o->needs_reset_owed = false;
    }
}

/* ---- queue registers ---- */

static struct oq *selq(struct vqf_oracle *o) { return o->queue_sel < OQ_MAX ? &o->q[o->queue_sel] : NULL; }

static void queue_reg_write(struct vqf_oracle *o, struct oq *q, uint32_t off, uint32_t val)
{
    if (q->stop_pending) {
        /* 4.2.2.2: after QueueReady = 0, read it back before reusing the queue */
        DRV_FIND(VQF_CL_XPORT_M11, off, val, o->queue_sel,
                 "queue %u reprogrammed before QueueReady read back 0", o->queue_sel);
        q->stop_pending = false;
    }
    if (q->ready) {
        /* 4.2.2.2: QueueSize and the ring addresses are not touched while QueueReady is 1 */
        DRV_FIND(VQF_CL_XPORT_M09, off, val, o->queue_sel,
                    "register 0x%03x written (0x%x) while queue %u is ready", off, val, o->queue_sel);
        return; /* the live queue keeps the geometry it was enabled with */
    } else if (q->reset_pending) {
        /* 2.6.1.1.2: a queue reset is confirmed (QueueReset reads 0) before the queue is reprogrammed */
        DRV_FIND(VQF_CL_VQRST_03, off, val, o->queue_sel,
                    "queue %u reprogrammed (register 0x%03x) before QueueReset read back 0", o->queue_sel, off);
    }
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM:
        q->num = val;
        q->programmed |= 1;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
        q->desc = (q->desc & ~0xffffffffull) | val;
        q->programmed |= 2;
        q->areas = true;
        break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        q->desc = (q->desc & 0xffffffffull) | ((uint64_t)val << 32);
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        q->driver = (q->driver & ~0xffffffffull) | val;
        q->programmed |= 4;
        break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        q->driver = (q->driver & 0xffffffffull) | ((uint64_t)val << 32);
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        q->device = (q->device & ~0xffffffffull) | val;
        q->programmed |= 8;
        break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        q->device = (q->device & 0xffffffffull) | ((uint64_t)val << 32);
        break;
    }
}

static bool queue_enable_checks(struct vqf_oracle *o, struct oq *q, unsigned qi)
{
    if (o->feat_ok_refused || o->failed_written) {
        DRV_FIND(VQF_CL_INIT_06, qi, o->status, 0,
                    "queue %u enabled after FEATURES_OK was refused or FAILED was set", qi);
        return false;
    }
    if (!o->feat_ok_confirmed) {
        /* 3.1.1: queue setup only after FEATURES_OK has been set and confirmed */
        DRV_FIND(VQF_CL_INIT_01, qi, o->status, 0,
                    "queue %u enabled before FEATURES_OK was confirmed (status 0x%x)", qi, o->status);
        return false;
    }
    if (q->reset_pending) {
        /* 4.2.2.2: the queue reset is done only once QueueReset reads 0 */
        DRV_FIND(VQF_CL_XPORT_M12, qi, 0, 0,
                    "queue %u re-enabled before QueueReset read back 0", qi);
        return false;
    }
    if (q->was_reset && (q->programmed & 0xf) != 0xf) {
        /* 2.6.1.2.2: re-enabling follows the discovery steps (size and three addresses) */
        DRV_FIND(VQF_CL_VQRST_06, qi, q->programmed, 0,
                    "queue %u re-enabled after a queue reset without programming size and addresses (0x%x)",
                    qi, q->programmed);
        return false;
    }
    if (q->num_max_known && q->num > q->num_max) {
        /* 4.2.2.2: QueueSize <= QueueSizeMax */
        DRV_FIND(VQF_CL_XPORT_M08, qi, q->num, q->num_max,
                    "queue %u size %u exceeds QueueSizeMax %u", qi, q->num, q->num_max);
        return false;
    }
    bool packed = or_feat(o->features, VIRTIO_F_RING_PACKED);
    if (q->num <= 32768 && o->setup.mem && !or_feat(o->features, VIRTIO_F_ACCESS_PLATFORM)) {
        uint64_t dl = packed ? 16ull * q->num : VIRTQ_DESC_TABLE_BYTES(q->num);
        uint64_t al = packed ? 4 : VIRTQ_AVAIL_BYTES(q->num), ul = packed ? 4 : VIRTQ_USED_BYTES(q->num);
        if (q->num && (!vqf_mem_xlate(o->setup.mem, q->desc, dl) || !vqf_mem_xlate(o->setup.mem, q->driver, al) ||
                       !vqf_mem_xlate(o->setup.mem, q->device, ul))) {
            /* 6.1: without ACCESS_PLATFORM only guest-RAM addresses are given to the device */
            DRV_FIND(VQF_CL_RSVD_05, q->desc, q->driver, q->device, "queue %u ring parts outside guest memory", qi);
            return false;
        }
    }
    if (q->num > 32768) {
        /* 2.7 / 2.8: at most 32768 entries */
        DRV_FIND(VQF_CL_D_01, qi, q->num, 0, "queue %u size %u exceeds 32768", qi, q->num);
        return false;
    }
    if (packed) {
        if (q->num == 0) {
            DRV_FIND(VQF_CL_PACK_QSZ_01, qi, 0, 0, "packed queue %u enabled with size 0", qi);
            return false;
        }
        if ((q->desc & 15) || (q->driver & 3) || (q->device & 3)) {
            /* 2.8.11 (PACK-LAY-01): ring 16, event areas 4 */
            DRV_FIND(VQF_CL_PACK_LAY_01, q->desc, q->driver, q->device,
                        "packed queue %u misaligned: ring 0x%llx driver 0x%llx device 0x%llx", qi,
                        (unsigned long long)q->desc, (unsigned long long)q->driver,
                        (unsigned long long)q->device);
            return false;
        }
        return true;
    }
    if (q->num == 0 || (q->num & (q->num - 1))) {
        /* 4.1.4.3.2 / 2.7: split queue size is a power of two */
        DRV_FIND(VQF_CL_SPLIT_QSZ_02, qi, q->num, 0,
                    "split queue %u size %u is not a power of two", qi, q->num);
        return false;
    }
    if ((q->desc & (VIRTQ_DESC_ALIGN - 1)) || (q->driver & (VIRTQ_AVAIL_ALIGN - 1)) ||
        (q->device & (VIRTQ_USED_ALIGN - 1))) {
        /* 2.7 table "Virtqueue Part Alignment" */
        DRV_FIND(VQF_CL_SPLIT_LAY_01, q->desc, q->driver, q->device,
                    "split queue %u misaligned: desc 0x%llx avail 0x%llx used 0x%llx", qi,
                    (unsigned long long)q->desc, (unsigned long long)q->driver, (unsigned long long)q->device);
        return false;
    }
    return true;
}

static void queue_ready_write(struct vqf_oracle *o, struct oq *q, unsigned qi, uint32_t val)
{
    if (val == 0) {
        if (q->ready)
            q->stop_pending = true;
        q->ready = false;
        vqf_or_split_disable(q);
        return;
    }
    if (q->ready)
        return;
    if (q->stop_pending) {
        DRV_FIND(VQF_CL_XPORT_M11, qi, 0, 0, "queue %u re-enabled before QueueReady read back 0", qi);
        q->stop_pending = false;
    }
    bool ok = queue_enable_checks(o, q, qi);
    q->ready = true;
    q->ever_ready = true;
    q->ready_since_reset_write = true;
    q->feat = o->features;
    q->packed = or_feat(o->features, VIRTIO_F_RING_PACKED);
    if (ok && o->setup.mem && !o->xport_lied) {
        if (q->packed)
            vqf_or_packed_enable(o, q);
        else
            vqf_or_split_enable(o, q);
    }
}

static void queue_reset_write(struct vqf_oracle *o, struct oq *q, uint32_t val)
{
    /* QueueReset exists only with VIRTIO_F_RING_RESET (4.2.2): otherwise the device ignores
     * the write and nothing changes */
    if (val != 1 || !o->feat_ok_confirmed || !or_feat(o->features, VIRTIO_F_RING_RESET))
        return;
    if (q->live) {
        q->old_desc = q->desc;
        q->old_driver = q->driver;
        q->old_device = q->device;
        q->old_num = q->num;
        q->old_valid = true;
    }
    vqf_or_split_disable(q);
    q->ready = false;
    q->reset_pending = true;
    q->was_reset = true;
    q->reset_done_seen = false;
    q->ready_since_reset_write = false;
    q->programmed = 0;
}

static void queue_reset_read(struct vqf_oracle *o, struct oq *q, unsigned qi, uint32_t val)
{
    bool rr = ((o->dev_feat_known >> 1) & 1u) && (o->dev_feat[1] & (1u << (VIRTIO_F_RING_RESET - 32)));
    if (rr && val != 0 && !q->reset_pending) {
        if (q->ready && q->ready_since_reset_write)
            /* 4.2.2.1: QueueReset reads 0 once the queue is enabled through QueueReady */
            DEV_FIND(VQF_CL_XPORT_M04, qi, val, 0,
                        "QueueReset of enabled queue %u reads %u", qi, val);
        else if (o->reset_seen0 && !q->was_reset)
            /* 4.2.2.1: QueueReset reads 0 after a device reset */
            DEV_FIND(VQF_CL_XPORT_M03, qi, val, 0,
                        "QueueReset of queue %u reads %u after a device reset", qi, val);
    }
    if (q->reset_pending && val == 0) {
        q->reset_pending = false;
        q->reset_done_seen = true;
    }
}

static void queue_ready_read(struct vqf_oracle *o, struct oq *q, unsigned qi, uint32_t val)
{
    if (val == 0)
        q->stop_pending = false;
    if (val == 0 || q->ready)
        return;
    if (q->reset_done_seen)
        /* 4.2.2.1: after a queue reset completes, QueueReady reads 0 */
        DEV_FIND(VQF_CL_XPORT_M07, qi, val, 0,
                    "QueueReady of queue %u reads %u after its reset completed", qi, val);
    else if (o->reset_seen0)
        /* 4.2.2.1: reset clears every QueueReady */
        DEV_FIND(VQF_CL_XPORT_M01, qi, val, 0,
                    "QueueReady of queue %u reads %u after a device reset", qi, val);
}

/* ---- notifications (QueueNotify) ---- */

static void notify_write(struct vqf_oracle *o, uint32_t val)
{
    cfg_unconfirmed_use(o, VIRTIO_STATUS_DRIVER_OK);
    if (!(o->status & ST_OK)) {
        /* 3.1.1: no available-buffer notification before DRIVER_OK */
        DRV_FIND(VQF_CL_INIT_07, val, o->status, 0,
                    "QueueNotify 0x%x written before DRIVER_OK (status 0x%x)", val, o->status);
        return;
    }
    if (o->suspending) {
        /* 3.4.1: no notifications from the suspend request on */
        DRV_FIND(VQF_CL_SUSP_04, val, 0, 0, "QueueNotify 0x%x while suspending", val);
        return;
    }
    if (o->resume_pending) {
        /* 3.4.1: after resuming, wait for the status to show it before operating */
        DRV_FIND(VQF_CL_SUSP_06, val, 0, 0,
                    "QueueNotify 0x%x before status confirmed the resume", val);
        return;
    }
    bool data = or_feat(o->features, VIRTIO_F_NOTIFICATION_DATA);
    if (!data && val > 0xffffu) {
        /* 4.1.5.2.1 (NOTIF-01): without NOTIFICATION_DATA the notification is a 16-bit value */
        vqf_or_find(o, VQF_CL_NOTIF_01, VQF_SIDE_DRIVER, val, 0, 0,
                    "QueueNotify 0x%x: more than 16 bits without VIRTIO_F_NOTIFICATION_DATA", val);
        return;
    }
    uint32_t qi = data ? (val & 0xffffu) : val;
    if (qi >= OQ_MAX || !o->q[qi].ready) {
        /* 4.1.5.2.1 (NOTIF-03/04): the value (or its vq_index field) is a queue index */
        vqf_or_find(o, data ? VQF_CL_NOTIF_04 : VQF_CL_NOTIF_03, VQF_SIDE_DRIVER, val, qi, 0,
                    "QueueNotify 0x%x names queue %u, which is not an enabled queue", val, qi);
        return;
    }
    if (o->q[qi].packed)
        vqf_or_packed_kick(o, qi, val);
    else
        vqf_or_split_kick(o, qi, val);
}

/* ---- config space and generation (2.5, 4.2.2.1) ---- */

/* Config bytes whose presence depends on an offered feature (2.5.1, CFG-03):
 * per device type, [lo, hi) -> feature bit. */
struct cfg_gate {
    uint8_t lo, hi, bit;
};
static const struct cfg_gate blk_gates[] = {
    {0x08, 0x0c, VIRTIO_BLK_F_SIZE_MAX}, {0x0c, 0x10, VIRTIO_BLK_F_SEG_MAX},
    {0x10, 0x14, VIRTIO_BLK_F_GEOMETRY}, {0x14, 0x18, VIRTIO_BLK_F_BLK_SIZE},
    {0x18, 0x20, VIRTIO_BLK_F_TOPOLOGY}, {0x20, 0x21, VIRTIO_BLK_F_CONFIG_WCE},
    {0x22, 0x24, VIRTIO_BLK_F_MQ},       {0x24, 0x30, VIRTIO_BLK_F_DISCARD},
    {0x30, 0x39, VIRTIO_BLK_F_WRITE_ZEROES},
};
static const struct cfg_gate net_gates[] = {
    {0x00, 0x06, VIRTIO_NET_F_MAC}, {0x06, 0x08, VIRTIO_NET_F_STATUS}, {0x08, 0x0a, VIRTIO_NET_F_MQ},
    {0x0a, 0x0c, VIRTIO_NET_F_MTU}, {0x0c, 0x11, VIRTIO_NET_F_SPEED_DUPLEX},
};
static const struct cfg_gate cons_gates[] = {
    {0x00, 0x04, VIRTIO_CONSOLE_F_SIZE}, {0x04, 0x08, VIRTIO_CONSOLE_F_MULTIPORT},
    {0x08, 0x0c, VIRTIO_CONSOLE_F_EMERG_WRITE},
};

static void check_cfg_gate(struct vqf_oracle *o, uint32_t off, unsigned size, bool is_write)
{
    const struct cfg_gate *g = NULL;
    unsigned n = 0;
    if (o->setup.device_id == VIRTIO_ID_BLOCK) {
        g = blk_gates;
        n = sizeof(blk_gates) / sizeof(blk_gates[0]);
    } else if (o->setup.device_id == VIRTIO_ID_NET) {
        g = net_gates;
        n = sizeof(net_gates) / sizeof(net_gates[0]);
    } else if (o->setup.device_id == VIRTIO_ID_CONSOLE) {
        g = cons_gates;
        n = sizeof(cons_gates) / sizeof(cons_gates[0]);
    }
    for (unsigned i = 0; i < n; i++) {
        unsigned w = g[i].bit / 32;
        if (!((o->dev_feat_known >> w) & 1u) || ((o->dev_feat[w] >> (g[i].bit % 32)) & 1u))
            continue;
        if (off < g[i].hi && g[i].lo < off + size) {
            DRV_FIND(VQF_CL_CFG_03, off, g[i].bit, is_write,
                        "config %s at 0x%x touches a field of feature bit %u, which is not offered",
                        is_write ? "write" : "read", off, g[i].bit);
            return;
        }
    }
}

static bool dev_offered(const struct vqf_oracle *o, unsigned bit)
{
    return ((o->dev_feat_known >> (bit / 32)) & 1u) && bit_of(o->dev_feat, bit);
}

/* Values of device config fields the device must keep in range (5.1.4.1, 5.2.5.2). The
 * read must cover the whole field. */
static void check_cfg_values(struct vqf_oracle *o, uint32_t off, unsigned size, uint32_t val)
{
#define FIELD(fo, fs) (off == (fo) && size >= (fs))
    if (o->setup.device_id == VIRTIO_ID_BLOCK) {
        for (unsigned i = 0; i < size; i++) {
            unsigned k = off + i;
            if ((k == VIRTIO_BLK_CFG_UNUSED0 || (k >= VIRTIO_BLK_CFG_UNUSED1 && k < VIRTIO_BLK_CFG_UNUSED1 + 3)) &&
                ((val >> (8 * i)) & 0xffu)) {
                DEV_FIND(VQF_CL_BLK_08, k, (val >> (8 * i)) & 0xffu, 0,
                            "blk config padding byte 0x%x reads 0x%x", k, (val >> (8 * i)) & 0xffu);
                return;
            }
        }
        if (off <= VIRTIO_BLK_CFG_WRITEBACK && VIRTIO_BLK_CFG_WRITEBACK < off + size && o->feat_ok_written &&
            !o->wb_written && or_feat(o->features, VIRTIO_BLK_F_CONFIG_WCE) &&
            !or_feat(o->features, VIRTIO_BLK_F_FLUSH) && ((val >> (8 * (VIRTIO_BLK_CFG_WRITEBACK - off))) & 0xffu))
            /* 5.2.5.2: CONFIG_WCE without FLUSH: writeback starts at 0 */
            DEV_FIND(VQF_CL_BLK_07, val, 0, 0, "blk writeback reads non-zero with CONFIG_WCE and no FLUSH");
        return;
    }
    if (o->setup.device_id != VIRTIO_ID_NET)
        return;
    if (FIELD(VIRTIO_NET_CFG_MAX_VQ_PAIRS, 2) && dev_offered(o, VIRTIO_NET_F_MQ) &&
        ((val & 0xffffu) < 1 || (val & 0xffffu) > 0x8000))
        DEV_FIND(VQF_CL_NET_01, val & 0xffffu, 0, 0, "net max_virtqueue_pairs %u out of 1..0x8000",
                    val & 0xffffu);
    if (FIELD(VIRTIO_NET_CFG_MTU, 2) && dev_offered(o, VIRTIO_NET_F_MTU)) {
        uint16_t mtu = (uint16_t)val;
        if (mtu < 68)
            DEV_FIND(VQF_CL_NET_02, mtu, 0, 0, "net mtu %u below 68", mtu);
        else if (o->net_mtu_known && mtu != o->net_mtu)
            DEV_FIND(VQF_CL_NET_04, o->net_mtu, mtu, 0, "net mtu changed %u -> %u", o->net_mtu, mtu);
        else if (mtu < 1280)
            DEV_FIND(VQF_CL_NET_03, mtu, 0, 0, "net mtu %u below 1280", mtu);
        /* keep the first value: the one the driver set itself up with (NET-04 forbids a change) */
        if (!o->net_mtu_known)
            o->net_mtu = mtu;
        o->net_mtu_known = true;
    }
    bool link_up = o->cfg_known[VIRTIO_NET_CFG_STATUS] && (o->cfg_val[VIRTIO_NET_CFG_STATUS] & VIRTIO_NET_S_LINK_UP) &&
                   dev_offered(o, VIRTIO_NET_F_STATUS);
    if (FIELD(VIRTIO_NET_CFG_SPEED, 4) && dev_offered(o, VIRTIO_NET_F_SPEED_DUPLEX)) {
        if (o->net_speed_known && val != o->net_speed && link_up)
            /* 5.1.4.1: speed and duplex should not change while the link is up */
            DEV_FIND(VQF_CL_NET_12, o->net_speed, val, 0, "net speed changed 0x%x -> 0x%x with the link up",
                     o->net_speed, val);
        o->net_speed = val;
        o->net_speed_known = true;
    }
    if (FIELD(VIRTIO_NET_CFG_DUPLEX, 1) && dev_offered(o, VIRTIO_NET_F_SPEED_DUPLEX)) {
        if (o->net_duplex_known && (uint8_t)val != o->net_duplex && link_up)
            DEV_FIND(VQF_CL_NET_12, o->net_duplex, val & 0xffu, 0, "net duplex changed 0x%x -> 0x%x with the link up",
                     o->net_duplex, val & 0xffu);
        o->net_duplex = (uint8_t)val;
        o->net_duplex_known = true;
    }
    if (FIELD(VIRTIO_NET_CFG_SPEED, 4) && dev_offered(o, VIRTIO_NET_F_SPEED_DUPLEX) && val > 0x7fffffffu &&
        val != 0xffffffffu)
        DEV_FIND(VQF_CL_NET_10, val, 0, 0, "net speed 0x%x neither Mbit/s nor unknown", val);
    if (FIELD(VIRTIO_NET_CFG_DUPLEX, 1) && dev_offered(o, VIRTIO_NET_F_SPEED_DUPLEX)) {
        uint8_t d = (uint8_t)val;
        if (d != 0 && d != 1 && d != 0xff)
            DEV_FIND(VQF_CL_NET_11, d, 0, 0, "net duplex 0x%x not 0, 1 or 0xff", d);
    }
#undef FIELD
}

/* 5.2.6.2: a capacity change comes with a configuration-change notification. */
static void check_capacity(struct vqf_oracle *o)
{
    uint64_t cap = 0;
    for (unsigned i = 0; i < 8; i++) {
        if (!o->cfg_known[i])
            return;
        cap |= (uint64_t)o->cfg_val[i] << (8 * i);
    }
    if (o->blk_cap_known && cap != o->blk_cap && o->config_irqs == o->blk_cap_irqs && (o->status & ST_OK))
        DEV_FIND(VQF_CL_BLK_26, o->blk_cap, cap, 0,
                    "blk capacity changed %llu -> %llu without a configuration-change notification",
                    (unsigned long long)o->blk_cap, (unsigned long long)cap);
    o->blk_cap = cap;
    o->blk_cap_owed = false;
    o->blk_cap_known = (o->status & ST_OK) != 0;
    o->blk_cap_irqs = o->config_irqs;
}

static void config_access(struct vqf_oracle *o, bool is_write, uint32_t off, unsigned size, uint32_t val)
{
    if (size > 4)
        size = 4;
    check_cfg_gate(o, off, size, is_write);
    if (!is_write && o->setup.device_id == VIRTIO_ID_BLOCK && off <= VIRTIO_BLK_CFG_WRITEBACK &&
        VIRTIO_BLK_CFG_WRITEBACK < off + size && !(o->status & ST_FOK))
        /* 5.2.5.1: writeback is not read before FEATURES_OK */
        DRV_FIND(VQF_CL_BLK_04, off, o->status, 0,
                    "blk writeback read before FEATURES_OK (status 0x%x)", o->status);
    if (is_write && o->setup.device_id == VIRTIO_ID_NET)
        /* 5.1.4.2: the driver never writes net config */
        DRV_FIND(VQF_CL_NET_15, off, val, 0, "net config write at 0x%x", off);
    if (is_write && (o->suspending || o->suspended)) {
        /* 3.4.1: no config change while suspending or suspended (the device's answer stays
         * defined: it ignores the write, SUSP-08) */
        vqf_or_find(o, VQF_CL_SUSP_05, VQF_SIDE_DRIVER, off, val, 0, "config write at 0x%x while suspended", off);
        if (o->suspended && off + size <= 256) {
            uint32_t old = 0;
            bool known = true;
            for (unsigned i = 0; i < size; i++) {
                known &= o->cfg_known[off + i] != 0;
                old |= (uint32_t)o->cfg_val[off + i] << (8 * i);
            }
            o->susp_cfg.off = off;
            o->susp_cfg.size = (uint8_t)size;
            o->susp_cfg.val = val;
            o->susp_cfg.old = old;
            o->susp_cfg.old_known = known;
            o->susp_cfg_valid = known && old != (size == 4 ? val : (val & ((1u << (8 * size)) - 1)));
        }
    }
    if (!is_write && o->susp_cfg_valid && !o->suspending && !o->suspended && !o->resume_pending &&
        off == o->susp_cfg.off && size == o->susp_cfg.size) {
        o->susp_cfg_valid = false;
        uint32_t mask = size == 4 ? ~0u : ((1u << (8 * size)) - 1);
        if ((val & mask) == (o->susp_cfg.val & mask))
            /* 3.4.2: config writes made while suspended should be ignored */
            DEV_FIND(VQF_CL_SUSP_08, off, val, o->susp_cfg.old,
                     "config 0x%x reads 0x%x, the value written while suspended", off, val);
    }
    if (is_write && off <= VIRTIO_BLK_CFG_WRITEBACK && VIRTIO_BLK_CFG_WRITEBACK < off + size)
        o->wb_written = true;
    if (!is_write)
        check_cfg_values(o, off, size, val);
    if (is_write) {
        /* 5.3.4: a console's emerg_wr may be written before initialisation */
        bool emerg = o->setup.device_id == VIRTIO_ID_CONSOLE && off >= VIRTIO_CONSOLE_CFG_EMERG_WR &&
                     off < VIRTIO_CONSOLE_CFG_EMERG_WR + 4;
        if (!(o->status & ST_FOK) && !emerg)
            /* 3.1.1: no config write before FEATURES_OK */
            DRV_FIND(VQF_CL_INIT_03, off, val, o->status,
                        "config write at 0x%x before FEATURES_OK (status 0x%x)", off, o->status);
        for (unsigned i = 0; i < size && off + i < 256; i++)
            o->cfg_known[off + i] = 0; /* the driver changed it: not the device's doing */
        return;
    }
    if (!o->in_gen_bracket)
        /* 2.5.1: config reads are bracketed by ConfigGeneration reads */
        DRV_FIND(VQF_CL_CFG_02, off, size, 0,
                    "config read at 0x%x (size %u) without reading ConfigGeneration first", off, size);
    else
        o->cfg_in_bracket = o->cfg_after_gen = true;
    if (!o->gen_valid)
        return;
    for (unsigned i = 0; i < size && off + i < 256; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        unsigned k = off + i;
        /* A byte that changed under the generation it was read with is a suspect; the
         * closing ConfigGeneration read decides (the device may have bumped it meanwhile). */
        if (o->cfg_known[k] && o->cfg_gen[k] == o->gen_last && o->cfg_val[k] != b &&
            o->nsuspect < sizeof(o->suspect) / sizeof(o->suspect[0])) {
            o->suspect[o->nsuspect].off = (uint8_t)k;
            o->suspect[o->nsuspect].old = o->cfg_val[k];
            o->suspect[o->nsuspect].now = b;
            o->nsuspect++;
        }
        o->cfg_val[k] = b;
        o->cfg_gen[k] = o->gen_last;
        o->cfg_known[k] = 1;
    }
    if (o->setup.device_id == VIRTIO_ID_BLOCK && off < 8 && off + size >= 8)
        check_capacity(o);
}

static void generation_read(struct vqf_oracle *o, uint32_t val)
{
    if (o->cfg_after_gen)
        o->gen_moved = val != o->gen_last; /* the generation the config reads were made under */
    o->cfg_after_gen = false;
    for (unsigned i = 0; i < o->nsuspect; i++) {
        if (val == o->gen_last) {
            /* 4.2.2.1: a config change the driver can see comes with a new ConfigGeneration */
            DEV_FIND(VQF_CL_CFG_08, o->suspect[i].off, o->suspect[i].old, o->suspect[i].now,
                        "config byte 0x%x changed 0x%02x -> 0x%02x while ConfigGeneration stayed 0x%x",
                        o->suspect[i].off, o->suspect[i].old, o->suspect[i].now, val);
            break;
        }
    }
    o->nsuspect = 0;
    o->gen_last = val;
    o->gen_valid = true;
    o->in_gen_bracket = true;
}

/* ---- dispatch ---- */

void vqf_or_mmio(struct vqf_oracle *o, bool is_write, uint32_t off, unsigned size, uint32_t val)
{
    if (off >= VIRTIO_MMIO_CONFIG) {
        config_access(o, is_write, off - VIRTIO_MMIO_CONFIG, size, val);
        return;
    }
    if (size != 4) {
        if (is_write && off == VIRTIO_MMIO_QUEUE_NOTIFY && (o->status & ST_OK) &&
            or_feat(o->features, VIRTIO_F_NOTIFICATION_DATA))
            /* 4.1.5.2.1 (NOTIF-02): with NOTIFICATION_DATA the notification is 32 bits wide */
            vqf_or_find(o, VQF_CL_NOTIF_02, VQF_SIDE_DRIVER, val, size, 0,
                        "QueueNotify written %u bytes wide with VIRTIO_F_NOTIFICATION_DATA", size);
        return; /* 4.2.2.2: control registers are accessed 32 bits wide; the device ignores others */
    }
    if (off == VIRTIO_MMIO_CONFIG_GENERATION && !is_write) {
        generation_read(o, val);
        return;
    }
    if (o->in_gen_bracket && o->cfg_in_bracket)
        /* 2.5.1: the values of this bracket stand only if a ConfigGeneration read after them
         * matched the one before; judged when the driver goes on with them */
        o->cfg_unconfirmed = o->cfg_after_gen || o->gen_moved;
    o->cfg_in_bracket = o->cfg_after_gen = o->gen_moved = false;
    o->in_gen_bracket = false;
    struct oq *q = selq(o);
    if (is_write) {
        switch (off) {
        case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
            o->dev_feat_sel = val;
            break;
        case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
            o->drv_feat_sel = val;
            break;
        case VIRTIO_MMIO_DRIVER_FEATURES:
            if (o->status & ST_FOK)
                /* 3.1.1: accepted features do not change after FEATURES_OK */
                DRV_FIND(VQF_CL_INIT_04, o->drv_feat_sel, val, 0,
                            "DriverFeatures[%u] = 0x%08x written after FEATURES_OK", o->drv_feat_sel, val);
            else if (o->drv_feat_sel < 4) {
                o->drv_feat[o->drv_feat_sel] = val;
                o->drv_feat_written |= 1u << o->drv_feat_sel;
            }
            break;
        case VIRTIO_MMIO_QUEUE_SEL:
            if (val > 0xffffu)
                /* D-20 (2.6): virtqueue indexes are 0..65535 */
                DRV_FIND(VQF_CL_D_20, val, 0, 0, "QueueSel 0x%x beyond the virtqueue index range", val);
            o->queue_sel = val;
            break;
        case VIRTIO_MMIO_QUEUE_NUM:
        case VIRTIO_MMIO_QUEUE_DESC_LOW:
        case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
            if (q)
                queue_reg_write(o, q, off, val);
            break;
        case VIRTIO_MMIO_QUEUE_READY:
            if (q)
                queue_ready_write(o, q, o->queue_sel, val);
            break;
        case VIRTIO_MMIO_QUEUE_RESET:
            if (q)
                queue_reset_write(o, q, val);
            break;
        case VIRTIO_MMIO_QUEUE_NOTIFY:
            notify_write(o, val);
            break;
        case VIRTIO_MMIO_STATUS:
            status_write(o, val);
            break;
        default:
            break;
        }
        return;
    }
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (o->dev_feat_sel < 4) {
            o->dev_feat[o->dev_feat_sel] = val;
            o->dev_feat_known |= 1u << o->dev_feat_sel;
            check_offer(o, o->dev_feat_sel);
        }
        break;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        if (q) {
            q->num_max = val;
            q->num_max_known = true;
        }
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (q)
            queue_ready_read(o, q, o->queue_sel, val);
        break;
    case VIRTIO_MMIO_QUEUE_RESET:
        if (q)
            queue_reset_read(o, q, o->queue_sel, val);
        break;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        if (val && o->reset_written && o->reset_seen0 && !o->irq_since_reset)
            /* 4.2.2.1: reset clears every InterruptStatus bit */
            DEV_FIND(VQF_CL_XPORT_M01, val, 0, 0,
                        "InterruptStatus reads 0x%x after a device reset with no interrupt since", val);
        break;
    case VIRTIO_MMIO_STATUS:
        status_read(o, val);
        break;
    default:
        break;
    }
}

void vqf_or_xport_publish(struct vqf_oracle *o, struct oq *q)
{
    if (o->suspending)
        /* 3.4.1: no buffers made available from the suspend request on */
        vqf_or_bad(o, q, VQF_CL_SUSP_03, VQF_SIDE_DRIVER, (uint64_t)(q - o->q), 0, 0,
                   "buffers made available while suspending");
    else if (o->resume_pending)
        /* 3.4.1: after resuming, wait for the status to show it */
        vqf_or_bad(o, q, VQF_CL_SUSP_06, VQF_SIDE_DRIVER, (uint64_t)(q - o->q), 0, 0,
                   "buffers made available before status confirmed the resume");
}
