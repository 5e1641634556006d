/* Internal state of the oracle, shared by its files: oracle.c (core, findings, observer,
 * queue lifecycle), oracle_xport.c (registers, status, features, config), oracle_split.c
 * (split rings, and the per-chain shadow both formats share), oracle_packed.c (packed
 * rings), oracle_dev.c (blk, net, console and entropy rules). Not for other modules. */
#ifndef VQF_ORACLE_INT_H
#define VQF_ORACLE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/oracle/oracle.h"
#include "emulator/oracle/oracle_order.h"
#include "emulator/oracle/trace.h"
#include "vqfuzz/virtio.h"

#define OQ_MAX 16          /* queues the oracle models (QueueSel values above are ignored) */
#define OQ_IND_MAX 16      /* indirect-table entries tracked per chain (more: chain untracked) */
#define OQ_NONE 0xffffu

/* Where the segments of one outstanding chain lie: [lo, hi] over its descriptors (an
 * indirect table included) and over the entries of its indirect table kept in iseg, empty
 * segments included, hi saturating; lo > hi when there are none. Two spans, not one: an
 * indirect table and the buffers it lists are usually allocated far apart. */
struct ospan {
    uint64_t dlo, dhi, ilo, ihi;
};

/* One buffer segment of a published chain (spec 2.7.5: addr, len, WRITE). */
struct oseg {
    uint64_t addr;
    uint32_t len;
    uint8_t write;
};

/* Shadow of one published split chain, by head index. */
struct ochain {
    uint8_t out;        /* outstanding: made available, not yet used */
    uint8_t untracked;  /* too many segments to keep: ids are tracked, bytes are not */
    uint8_t devbad;     /* the driver formed a bad device request: the device's answer is not judged */
    uint8_t ind_write;  /* split: the descriptor pointing to the indirect table carries WRITE (SPLIT-IND-06) */
    uint32_t pub_seq;   /* publication order (oracle-wide), for request ordering (BLK-32) */
    uint16_t ndesc;     /* descriptors in the table (the indirect descriptor counts as one) */
    uint16_t nind;      /* entries of its indirect table kept in ind[] */
    uint16_t out_pos;   /* index in oq.outlist */
    uint16_t id;        /* packed: buffer id (from the last descriptor of the list, D-10) */
    uint64_t ind_addr;  /* indirect table (0 = none) */
    uint32_t ind_len;
    uint64_t wcap;      /* device-writable bytes (D-04) */
    uint64_t written;   /* device writes seen into its writable segments (SPLIT-USD-02) */
};

struct oq {
    /* registers as programmed by the driver (spec 4.2.2) */
    uint32_t num, num_max;
    bool num_max_known;
    uint64_t desc, driver, device;
    bool areas;            /* ring addresses were programmed at some point of this input */
    unsigned programmed;   /* bits: 1 num, 2 desc, 4 driver, 8 device since the last (queue) reset */
    bool ready;            /* QueueReady written 1 and not cleared */
    bool ever_ready;
    bool reset_pending;    /* QueueReset = 1 written, not yet read back as 0 (VQRST-03) */
    bool was_reset;        /* a queue reset happened since the device reset (VQRST-06) */
    bool stop_pending;     /* QueueReady = 0 written, not yet read back as 0 (XPORT-M11) */
    bool reset_done_seen;  /* QueueReset read back 0 after the reset (XPORT-M07) */
    bool ready_since_reset_write; /* QueueReady = 1 since the last QueueReset write (XPORT-M04) */
    /* live ring shadow (valid while live) */
    bool live;
    bool packed;
    bool taint_dev;        /* the non-judged driver lied here: do not judge the device */
    bool fresh_after_reset; /* re-enabled after a queue reset, no used publication yet (VQRST-02) */
    bool taint_drv;        /* the non-judged device lied (or wrote invisibly): do not judge the driver */
    uint16_t size;
    uint32_t mask;         /* split: size - 1 (a power of two), for ring positions without a division */
    uint64_t feat;         /* negotiated features 0..63 when the queue went live */
    /* split */
    uint16_t avail_idx;    /* last avail idx published by the driver */
    uint16_t used_idx;     /* last used idx published by the device */
    uint32_t avail_total;  /* entries published since enable (saturating use: first lap only) */
    uint32_t used_total;
    uint32_t dev_cons;     /* split: avail entries the device has read, in order (SUSP-14) */
    uint32_t nout;         /* outstanding chains */
    uint16_t *outlist;     /* outstanding heads (compact) */
    /* by outlist position: the spans of the chain's recorded segments (vqf_or_out_add). A
     * scan of the outstanding chains skips a chain whose spans both miss the access: none of
     * its segments can contain or overlap it. Valid while spans_ok, which a publication that
     * overwrites an outstanding chain's shadow clears until the queue is enabled again. */
    struct ospan *out_span;
    bool spans_ok;
    uint16_t *out_id;      /* by outlist position: the chain's ochain.id (packed buffer id) */
    uint16_t *order;       /* IN_ORDER: heads in avail order (ring of size) */
    uint32_t order_head, order_len;
    struct ochain *ch;     /* by head */
    uint16_t *owner;       /* by descriptor slot: head + 1 of the outstanding chain using it, 0 = free */
    struct oseg *dseg;     /* by descriptor slot */
    uint16_t *dnext;       /* by descriptor slot: next as published */
    struct oseg *iseg;     /* by head: OQ_IND_MAX indirect entries */
    uint8_t *elem_written; /* by used ring position: device wrote id/len since it was last published */
    uint8_t *elem_late;    /* by used ring position: published before being written (SPLIT-USD-01) */
    uint32_t *visit;       /* by slot: walk stamp for loop detection */
    uint8_t *pstate;       /* packed, by slot: PS_* ownership */
    /* packed (2.8, D-08): both wrap counters start at 1 */
    uint16_t p_drv_next;   /* next slot the driver makes available */
    bool p_drv_wrap;
    uint16_t p_dev_next;   /* next slot the device writes a used descriptor to */
    bool p_dev_wrap;
    uint32_t upend;        /* packed: used marks written ahead of p_dev_next */
    uint32_t stamp;
    uint32_t cap;          /* entries allocated in the per-slot arrays */
    uint32_t dirty_n;      /* per-slot arrays (ch, owner, elem_written, elem_late, visit, pstate) are
                            * all zero from this index on: enabling a queue clears only below it */
    uint16_t hit;          /* head of the chain the device touched last (lookup cache) */
    uint64_t rlo, rhi;     /* bounding box of outstanding buffers and indirect tables */
    /* the ring parts of a live queue as [lo, hi) (empty when a part would wrap the address
     * space), and their hull: an access outside the hull and outside [rlo, rhi) concerns
     * neither the rings nor an outstanding buffer of this queue (vqf_or_q_ranges) */
    uint64_t r_desc_lo, r_desc_hi, r_drv_lo, r_drv_hi, r_dev_lo, r_dev_hi;
    uint64_t hull_lo, hull_hi;
    /* a superset [near_lo, near_hi) of the hull and, while chains are outstanding, of
     * [rlo, rhi): a plain access outside it is far (vqf_or_far's first test) */
    uint64_t near_lo, near_hi;
    /* notification obligations (checked at idle) */
    bool kick_owed;        /* SPLIT-ANS-04 / -06 */
    enum vqf_clause_id kick_clause;
    uint16_t kick_base;    /* avail idx at the driver's last kick decision (EVENT_IDX old) */
    bool pub_since_read;   /* driver published since its last used->flags / avail_event read */
    bool irq_owed;         /* SPLIT-UNS-08 / -10 */
    enum vqf_clause_id irq_clause;
    uint16_t irq_base;     /* used idx at the device's last notification decision */
    bool upub_since_read;
    bool kick_unwanted;    /* the driver's last decision read said "no notification" (ANS-03/07) */
    bool irq_unwanted;     /* the device's last decision read said "no notification" (UNS-07/11) */
    uint64_t old_desc, old_driver, old_device; /* ring areas before the last queue reset (VQRST-05) */
    uint32_t old_num;
    bool old_valid;
    /* notification decisions a side skipped (D-06, SPLIT-UNS-06/09, SPLIT-ANS-02/05): the
     * suppression word that rules (used_event / avail->flags for the device, avail_event /
     * used->flags for the driver) as it stood at the last publication, whether the side read
     * the field that does not rule instead, and the index at its last decision or notification */
    uint16_t kick_rule_at_pub, irq_rule_at_pub;
    uint16_t kick_dec_base, irq_dec_base;
    bool kick_read_other, irq_read_other;
    uint16_t io_next;      /* split IN_ORDER: the next descriptor slot in ring order (D-07) */
    uint16_t net_left;     /* net mergeable rx: buffers of the current packet still to come */
    bool net_desync;       /* net mergeable rx: packet boundaries lost after a violation */
};

struct vqf_oracle {
    struct vqf_oracle_setup setup;
    /* the first guest-memory region (rings and buffers live there), looked up once per input
     * for the oracle's own reads (vqf_or_ptr); size 0 = none */
    uint64_t rd_gpa, rd_size;
    const uint8_t *rd_host;
    struct vqf_observer obs;
    struct vqf_trace trace;
    bool enabled[VQF_CLAUSE_COUNT];
    struct vqf_finding f[VQF_ORACLE_MAX_FINDINGS];
    unsigned nf;
    /* a write is seen before its bytes land (vqf_mem_note precedes the copy), so it is
     * judged at the next entry into the oracle */
    bool pend;
    unsigned pend_side;
    uint64_t pend_gpa, pend_len;
    bool in_dev_step;
    uint32_t drv_barriers; /* barriers the driver issued: its ordering is judged only if it uses them */
    bool drv_wdirty;       /* driver wrote ring contents since its last write barrier (PUB-01) */
    bool drv_need_mb;      /* driver published since its last full barrier (PUB-02) */
    struct vqf_or_order ord; /* checks under the memory-visibility model (oracle_order.c) */
    uint32_t dev_steps;    /* device steps since the last reset write */
    /* transport shadow */
    uint32_t status;       /* last status written by the driver */
    uint32_t status_read;  /* last status read */
    bool status_read_valid;
    bool reset_written;    /* 0 written, no ACKNOWLEDGE since */
    bool reset_seen0;      /* reset confirmed by a status read of 0 */
    bool feat_ok_written, feat_ok_confirmed, feat_ok_refused;
    bool failed_written;
    bool needs_reset_seen, needs_reset_owed, config_irq_since_ok;
    uint32_t dev_feat[4], drv_feat[4];
    unsigned dev_feat_known, drv_feat_written; /* bits per 32-bit window */
    uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
    uint64_t features;     /* negotiated (accepted) bits 0..63 at FEATURES_OK */
    bool irq_since_reset;
    bool xport_lied;       /* the non-judged driver broke a transport rule since the last reset */
    bool dev_err_owed;     /* the device reported a ring error: NEEDS_RESET should follow (STATUS-06) */
    bool nr_signalled;     /* NEEDS_RESET already announced since DRIVER_OK */
    bool status_read_after_step; /* the last status read followed the last device step */
    /* hot-path summaries, recomputed after each register access (vqf_or_refresh) */
    uint8_t live_idx[OQ_MAX]; /* indexes of the live queues */
    unsigned q_hi;         /* 1 + the highest QueueSel value below OQ_MAX written since the input
                            * began: queues at or above it were never selected, so nothing ever
                            * programmed them (oracle_xport.c reaches a queue only through
                            * QueueSel) and they are neither live nor hold ring areas */
    unsigned nlive;
    unsigned solo;         /* the index of the only live queue when exactly one is live, else OQ_MAX:
                            * an access then concerns at most that queue's rules (oracle.c) */
    bool lifecycle_quiet;  /* every programmed queue is live and running: no lifecycle rule can fire */
    bool susp_early;       /* SUSPEND written before DRIVER_OK */
    bool suspending;       /* SUSPEND requested (3.4), until the resume write */
    bool suspended;        /* ... and the status showed it */
    bool resume_pending;   /* DRIVER_OK written to resume, not yet confirmed by a status read */
    uint32_t config_irqs;  /* configuration-change notifications seen */
    uint64_t blk_cap;      /* last complete capacity read (BLK-26) */
    uint32_t blk_cap_irqs;
    bool blk_cap_known;
    uint16_t net_mtu;      /* first mtu read (NET-04) */
    bool net_mtu_known;
    bool blk_cap_owed;     /* a config notification since the last capacity read (BLK-09) */
    struct {
        uint32_t off, val;
        uint8_t size, old_known;
        uint32_t old;
    } susp_cfg;            /* a config write made while suspended (SUSP-08) */
    bool susp_cfg_valid;
    bool wb_written;       /* blk writeback written by the driver since FEATURES_OK (BLK-07) */
    /* config space shadow (CFG-08): value and generation of the last read of each byte */
    uint8_t cfg_val[256];
    uint32_t cfg_gen[256];
    uint8_t cfg_known[256];
    uint32_t gen_last;
    bool gen_valid;
    struct {
        uint8_t off, old, now;
    } suspect[8];          /* config bytes that changed inside the current generation bracket */
    unsigned nsuspect;
    bool in_gen_bracket;   /* CFG-02 */
    bool cfg_in_bracket;   /* CFG-02: config read inside the current bracket */
    bool cfg_after_gen;    /* CFG-02: ... and not yet followed by a ConfigGeneration read */
    bool gen_moved;        /* CFG-02: that read returned another generation than the opening one */
    bool cfg_unconfirmed;  /* CFG-02: the last config values read were never confirmed */
    uint64_t cons_ports;   /* console ports added by the device (CONS-05/06) */
    uint32_t pub_seq;      /* chains published so far */
    struct {
        uint64_t sector, count;
        uint32_t done_seq; /* pub_seq when the WRITE_ZEROES completed */
    } zr[4];               /* blk sector ranges known to read back as zeroes (BLK-32) */
    unsigned nzr;
    uint64_t cons_console; /* ports the device announced as CONSOLE_PORT, not yet answered (CONS-10) */
    bool cons_ready_sent;  /* DEVICE_READY published since DRIVER_OK (CONS-07) */
    uint32_t net_speed;    /* last speed / duplex read (NET-12) */
    uint8_t net_duplex;
    bool net_speed_known, net_duplex_known;
    struct oq q[OQ_MAX];
};

/* oracle.c */
static inline bool vqf_or_judged(const struct vqf_oracle *o, unsigned side)
{
    return side < 2 && ((o->setup.judged_sides >> side) & 1u);
}
/* Record a finding if the clause is on and the side judged. Returns true if recorded or
 * if the side is not judged (so callers can taint shadow state either way). */
void vqf_or_find(struct vqf_oracle *o, enum vqf_clause_id c, unsigned side, uint64_t v0, uint64_t v1,
                 uint64_t v2, const char *fmt, ...) __attribute__((format(printf, 7, 8), cold));

/* Host pointer of [gpa, gpa+n) for the oracle's own reads, or NULL where vqf_mem_xlate gives
 * NULL: the same answer, without its loop over regions for the region cached at
 * vqf_oracle_begin (a region's mapping is fixed for the life of its vqf_mem). */
static inline const uint8_t *vqf_or_ptr(const struct vqf_oracle *o, uint64_t gpa, uint64_t n)
{
    uint64_t off = gpa - o->rd_gpa;
    if (__builtin_expect(off < o->rd_size && n <= o->rd_size - off, 1))
        return o->rd_host + off;
    return o->setup.mem ? vqf_mem_xlate(o->setup.mem, gpa, n) : NULL;
}
/* Guest memory reads of the oracle itself: no logging, no dirty marking, no fault count;
 * unmapped reads give 0 and false. */
static inline bool vqf_or_rd16(const struct vqf_oracle *o, uint64_t gpa, uint16_t *v)
{
    const uint8_t *p = vqf_or_ptr(o, gpa, 2);
    *v = p ? vqf_le16(p) : 0;
    return p != NULL;
}
static inline bool vqf_or_rd32(const struct vqf_oracle *o, uint64_t gpa, uint32_t *v)
{
    const uint8_t *p = vqf_or_ptr(o, gpa, 4);
    *v = p ? vqf_le32(p) : 0;
    return p != NULL;
}
static inline bool vqf_or_rd64(const struct vqf_oracle *o, uint64_t gpa, uint64_t *v)
{
    const uint8_t *p = vqf_or_ptr(o, gpa, 8);
    *v = p ? vqf_le64(p) : 0;
    return p != NULL;
}
/* Is feature bit b (0..63) in f? (local: the oracle does not depend on the ring headers) */
static inline bool or_feat(uint64_t f, unsigned b) { return b < 64 && ((f >> b) & 1u); }

static inline bool vqf_or_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen && a + alen > a && b + blen > b;
}

/* Does the access [gpa, end) (len > 0, no wrap) overlap [lo, hi)? The same answer as
 * vqf_or_overlap for a range stored by vqf_or_q_ranges (an empty range never overlaps). */
static inline bool vqf_or_in(uint64_t gpa, uint64_t end, uint64_t lo, uint64_t hi) { return gpa < hi && lo < end; }

/* Set a live queue's ring part ranges and hull (oracle_split.c; at enable, after q->size). */
void vqf_or_q_ranges(struct oq *q, uint64_t desc_bytes, uint64_t drv_bytes, uint64_t dev_bytes);

/* Slot (or head, or used position) i of a per-slot array is about to be written. */
static inline void vqf_or_dirty(struct oq *q, uint32_t i)
{
    if (i >= q->dirty_n)
        q->dirty_n = i + 1;
}

/* Fast reject (the per-access hot path): true when [gpa, gpa+len) is a plain access (len > 0,
 * no wrap) outside every ring part of q and outside its outstanding buffers, so that no rule
 * of q's ring model can concern it. */
static inline bool vqf_or_far(const struct oq *q, uint64_t gpa, uint64_t len)
{
    uint64_t end = gpa + len;
    if (!len || end <= gpa)
        return false;
    if (gpa >= q->near_hi || end <= q->near_lo)
        return true;
    return (gpa >= q->hull_hi || end <= q->hull_lo) && (q->nout == 0 || gpa >= q->rhi || end <= q->rlo);
}

/* oracle.c: recompute live_idx / lifecycle_quiet after queue or status changes */
void vqf_or_refresh(struct vqf_oracle *o);

/* oracle_xport.c */
void vqf_or_mmio(struct vqf_oracle *o, bool is_write, uint32_t off, unsigned size, uint32_t val);
void vqf_or_xport_irq(struct vqf_oracle *o, uint32_t bits);
void vqf_or_xport_idle(struct vqf_oracle *o);

/* oracle_split.c */
int vqf_or_split_enable(struct vqf_oracle *o, struct oq *q);
void vqf_or_split_disable(struct oq *q);
void vqf_or_split_free(struct oq *q);
/* One access on live queue qi, for which !vqf_or_far(&o->q[qi], gpa, len) (oracle.c process). */
void vqf_or_split_access(struct vqf_oracle *o, unsigned qi, unsigned side, unsigned kind, uint64_t gpa,
                         uint64_t len);
void vqf_or_split_kick(struct vqf_oracle *o, unsigned qi, uint32_t val);
void vqf_or_split_irq(struct vqf_oracle *o);
void vqf_or_split_idle(struct vqf_oracle *o, unsigned qi);
int vqf_or_q_reserve(struct oq *q, uint32_t n);
void vqf_or_q_clear(struct oq *q);
#define SEG_IND 2 /* oseg.write of a descriptor that points to an indirect table */
/* Report a violation by side on queue q, and taint q for judging the other side. */
void vqf_or_bad(struct vqf_oracle *o, struct oq *q, enum vqf_clause_id c, unsigned side, uint64_t v0, uint64_t v1,
                uint64_t v2, const char *what) __attribute__((cold));
void vqf_or_taint(struct oq *q, unsigned liar);
void vqf_or_bbox_add(struct oq *q, uint64_t a, uint64_t len);
void vqf_or_retire(struct oq *q, uint16_t head);
/* Append published chain head (its shadow complete) to the outstanding list. */
void vqf_or_out_add(struct oq *q, uint16_t head);
/* Can outstanding chain i (outlist position) hold a segment that contains or overlaps
 * [gpa, gpa+len)? false only when none can: a scan may skip it. */
static inline bool vqf_or_out_near(const struct oq *q, uint32_t i, uint64_t gpa, uint64_t len)
{
    const struct ospan *p = &q->out_span[i];
    uint64_t end = gpa + len;
    /* a range that wraps is inside no segment and overlaps none (hit_seg, vqf_or_overlap) */
    return !q->spans_ok ||
           (end >= gpa && ((gpa <= p->dhi && end >= p->dlo) || (gpa <= p->ihi && end >= p->ilo)));
}
/* Device / driver writes into buffers and indirect tables of outstanding chains. */
bool vqf_or_dev_write_excused(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len);
void vqf_or_dev_buffer_write(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len);
void vqf_or_drv_buffer_write(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len);
void vqf_or_dev_buffer_read(struct vqf_oracle *o, struct oq *q, uint64_t gpa, uint64_t len);

/* The rules of one access on live queue qi (for which !vqf_or_far), by side (driver, device)
 * and kind (read, write): what vqf_or_split_access / vqf_or_packed_access dispatch to, for
 * callers that know the side and kind (oracle.c's one-live-queue path). */
typedef void vqf_or_rule_fn(struct vqf_oracle *o, unsigned qi, uint64_t gpa, uint64_t len);
extern vqf_or_rule_fn *const vqf_or_split_rules[2][2];
extern vqf_or_rule_fn *const vqf_or_packed_rules[2][2];

/* Defines, for one ring format FMT whose rules are FMT##_access(o, qi, side, kind, gpa, len):
 * its four per-side, per-kind rule functions (out of line, so that each is a plain call
 * target), their table vqf_or_FMT_rules, and vqf_or_FMT_access, which calls them directly.
 * Any kind but a write is judged as a read; any side but the two is not judged. */
#define VQF_OR_RULE_SET(FMT)                                                                                     \
    __attribute__((noinline)) static void FMT##_drv_read(struct vqf_oracle *o, unsigned qi, uint64_t gpa,      \
                                                         uint64_t len)                                         \
    {                                                                                                          \
        FMT##_access(o, qi, VQF_SIDE_DRIVER, VQF_ACC_READ, gpa, len);                                           \
    }                                                                                                          \
    __attribute__((noinline)) static void FMT##_drv_write(struct vqf_oracle *o, unsigned qi, uint64_t gpa,     \
                                                          uint64_t len)                                        \
    {                                                                                                          \
        FMT##_access(o, qi, VQF_SIDE_DRIVER, VQF_ACC_WRITE, gpa, len);                                          \
    }                                                                                                          \
    __attribute__((noinline)) static void FMT##_dev_read(struct vqf_oracle *o, unsigned qi, uint64_t gpa,      \
                                                         uint64_t len)                                         \
    {                                                                                                          \
        FMT##_access(o, qi, VQF_SIDE_DEVICE, VQF_ACC_READ, gpa, len);                                           \
    }                                                                                                          \
    __attribute__((noinline)) static void FMT##_dev_write(struct vqf_oracle *o, unsigned qi, uint64_t gpa,     \
                                                          uint64_t len)                                        \
    {                                                                                                          \
        FMT##_access(o, qi, VQF_SIDE_DEVICE, VQF_ACC_WRITE, gpa, len);                                          \
    }                                                                                                          \
    /* [side][kind == write]: VQF_SIDE_DRIVER = 0, VQF_SIDE_DEVICE = 1 (asserted below) */                    \
    vqf_or_rule_fn *const vqf_or_##FMT##_rules[2][2] = {                                                       \
        {FMT##_drv_read, FMT##_drv_write},                                                                     \
        {FMT##_dev_read, FMT##_dev_write},                                                                     \
    };                                                                                                         \
    void vqf_or_##FMT##_access(struct vqf_oracle *o, unsigned qi, unsigned side, unsigned kind, uint64_t gpa,  \
                               uint64_t len)                                                                   \
    {                                                                                                          \
        if (side == VQF_SIDE_DRIVER) {                                                                         \
            if (kind == VQF_ACC_WRITE)                                                                         \
                FMT##_drv_write(o, qi, gpa, len);                                                              \
            else                                                                                               \
                FMT##_drv_read(o, qi, gpa, len);                                                               \
        } else if (side == VQF_SIDE_DEVICE) {                                                                  \
            if (kind == VQF_ACC_WRITE)                                                                         \
                FMT##_dev_write(o, qi, gpa, len);                                                              \
            else                                                                                               \
                FMT##_dev_read(o, qi, gpa, len);                                                               \
        }                                                                                                      \
    }
_Static_assert(VQF_SIDE_DRIVER == 0 && VQF_SIDE_DEVICE == 1 && VQF_ACC_READ == 0 && VQF_ACC_WRITE == 1,
               "the rule tables are indexed by side and kind");

/* oracle_packed.c */
int vqf_or_packed_enable(struct vqf_oracle *o, struct oq *q);
/* As vqf_or_split_access. */
void vqf_or_packed_access(struct vqf_oracle *o, unsigned qi, unsigned side, unsigned kind, uint64_t gpa,
                          uint64_t len);
void vqf_or_packed_kick(struct vqf_oracle *o, unsigned qi, uint32_t val);
void vqf_or_packed_idle(struct vqf_oracle *o, unsigned qi);

/* oracle_xport.c: the driver makes buffers available on q (SUSP-03 / SUSP-06). */
void vqf_or_xport_publish(struct vqf_oracle *o, struct oq *q);

/* oracle_dev.c: device-type checks at publication and completion of chain head h */
void vqf_or_dev_publish(struct vqf_oracle *o, struct oq *q, unsigned qi, uint16_t h);
void vqf_or_dev_complete(struct vqf_oracle *o, struct oq *q, unsigned qi, uint16_t h, uint32_t len);
void vqf_or_dev_used_end(struct vqf_oracle *o, struct oq *q, unsigned qi);

/* Does [gpa, gpa+len) touch queue q's ring parts? */
bool vqf_or_split_touches(const struct oq *q, uint64_t gpa, uint64_t len);

#endif
