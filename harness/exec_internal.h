/* The executor's private state, shared by the executor's files (exec*.c) and nothing else.
 *
 *   exec.c          op dispatch, verdicts, report (the op semantics are documented there)
 *   exec_world.c    the world: guest memory, adapters, the transport boundary with the lying
 *                   device's register lies, stepping
 *   exec_recorder.c flight recorder (trace ring, hash, event counts) chained to the oracle
 *   exec_ldrv.c     the fuzzer as a driver: initialisation, raw ring ops, device health probe
 *   exec_ldev.c     the fuzzer as a device: used-ring lies, driver health probe */
#ifndef VQF_EXEC_INTERNAL_H
#define VQF_EXEC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/mem.h"
#include "emulator/oracle/oracle.h"
#include "emulator/transport/vdrv.h"
#include "harness/exec.h"

/* Main guest-memory region: rings and driver allocations in the upper half (the allocator),
 * the lying driver's buffer pool and indirect pool in the lower half. */
#define VQF_X_MEM_SIZE (4u << 20)
#define VQF_X_BUF_POOL_OFF 0u
#define VQF_X_BUF_POOL_LEN (1u << 20)
#define VQF_X_IND_POOL_OFF (1u << 20)
#define VQF_X_IND_POOL_LEN (256u << 10)
#define VQF_X_PROBE_OFF ((1u << 20) + (512u << 10)) /* the health probe's private buffers */
#define VQF_X_MAX_SEGS 32u                          /* segments per chain the lying driver builds */
#define VQF_X_MAX_STEPS 64u                         /* device polls per RUN op */
#define VQF_X_DRAIN_STEPS 256u                      /* polls to reach idle at the end */
#define VQF_X_PROBE_STEPS 64u                       /* polls for the health probe to complete */
#define VQF_X_POLL_BUDGET 64u                       /* chains per device poll */
#define VQF_X_CFG_OVERLAY 256u                      /* config bytes the lying device can change */
#define VQF_X_MAXQ VQF_VDRV_MAX_QUEUES

/* ---- flight recorder (exec_recorder.c): counts here, the trace is the oracle's ---- */
struct vqf_recorder {
    uint32_t counts[VQF_EV_COUNT];        /* events by kind (reach tests, ring_ops) */
    uint32_t counts_side[3][VQF_EV_COUNT];
};

struct vqf_exec;
void vqf_rec_begin(struct vqf_recorder *r);
void vqf_rec_count(struct vqf_recorder *r, unsigned side, unsigned ev);
void vqf_rec_harness(struct vqf_exec *x, unsigned ev, uint32_t a, uint32_t b, uint32_t c);
uint64_t vqf_rec_hash(const struct vqf_exec *x);
void vqf_rec_print_tail(const struct vqf_exec *x, FILE *out, unsigned max);

/* ---- the lying device's transport-level lies and shadow of the driver's queue setup ---- */
struct vqf_shadow_queue {
    uint16_t num;
    uint32_t ready;
    /* Largest size this queue was made ready with since the last device reset: the work bound
     * counts it even after a QueueReset write, which a device may not honour when the lying
     * driver has broken the status sequence (the device then keeps serving that ring). */
    uint16_t bound_num;
    uint64_t desc, driver, device;
    uint16_t used_slot; /* packed: next used slot of the device (from its publish events) */
    bool used_wrap;
    bool used_known;
    uint32_t last_used_idx; /* split: used idx when the length bias was last applied */
    int32_t len_bias;       /* DEV_LEN_BIAS: added to each newly published used length */
    uint16_t drop_kicks;    /* DEV_DROP: notifications of this queue to swallow */
    uint16_t bias_slot;     /* packed: first used slot published in this step */
    bool bias_pending;
};

struct vqf_lies {
    bool on;                 /* off during the health probe */
    bool needs_reset;        /* DEVICE_NEEDS_RESET ORed into Status reads */
    bool refuse_features;    /* FEATURES_OK is not forwarded, so it reads back clear */
    uint32_t isr_extra;      /* ORed into the next InterruptStatus read */
    uint32_t gen_bump;       /* added to ConfigGeneration */
    /* config overlay: bytes the lying device changed (mask says which) */
    uint8_t cfg[VQF_X_CFG_OVERLAY];
    uint8_t cfg_mask[VQF_X_CFG_OVERLAY];
    bool cfg_any;
    bool cfg_irq_owed;       /* a configuration notification the oracle has not heard of yet */
    /* DEV_CONFIG mode bit2: applied right after the driver's next config read */
    bool cfg_pending;
    uint32_t pend_off, pend_val, pend_size, pend_mode;
};

struct vqf_exec {
    const struct vqf_target *t;
    struct vqf_program prog;
    /* per input, after target overrides */
    uint32_t device_id;
    bool packed;
    unsigned judged;
    uint64_t offered, accepted;
    uint16_t qsize;
    uint16_t nqueues;
    /* world */
    struct vqf_mem mem;
    struct vqf_galloc galloc;
    struct vqf_dma ddma;     /* driver-side DMA (lying driver) */
    struct vqf_dma vdma;     /* device-side DMA (lying device) */
    const struct vqf_device_adapter *dev_ad;
    const struct vqf_driver_adapter *drv_ad;
    const struct vqf_device_adapter *live_dev_ad; /* the adapters dev and drv were made by */
    const struct vqf_driver_adapter *live_drv_ad;
    void *dev;
    void *drv;
    bool have_vdrv;
    struct vqf_vdrv vdrv;    /* the lying driver (device targets) */
    bool irq_line;
    struct vqf_oracle *oracle;
    const struct vqf_observer *oracle_obs;
    struct vqf_observer obs;  /* installed on guest memory: recorder, lie tracking, then oracle */
    struct vqf_recorder rec;
    /* transport shadow (driver's view of the register file) */
    uint32_t queue_sel;
    uint32_t drv_features_sel;
    uint64_t drv_features[2];
    uint32_t status_written;
    struct vqf_shadow_queue sq[VQF_X_MAXQ];
    struct vqf_lies lies;
    /* accounting */
    bool lied;               /* a raw / forged / rule-breaking op ran */
    bool saw_needs_reset;    /* the device under test reported DEVICE_NEEDS_RESET */
    uint64_t dev_work_epoch; /* device work since the last driver-side activity */
    bool wedged;
    char wedge_why[160];
    uint32_t token;          /* lying driver: next chain token */
    uint32_t pool_cur;       /* lying driver: buffer pool cursor */
    uint32_t ops_run;
    uint32_t cur_op;
    /* formats target: per-format results */
    uint64_t fmt_result[2];
    uint32_t fmt_completions[2];
    /* formats target: guest memory digest after the drain, observed pass and unobserved
     * (fast-path) pass per format; blind is set during an unobserved pass */
    uint64_t drain_digest;
    uint64_t fmt_digest[2][2];
    bool fmt_blind_ran;
    bool blind;
    struct vqf_oracle *blind_oracle; /* takes the harness's direct calls during that pass */
    uint64_t push_hash;      /* device completions (queue, length), order-insensitive */
    uint32_t pushes;
    uint64_t submit_hash;    /* the driver's answers to the workload, in order */
    struct vqf_vis *vis;     /* memory-visibility model (exec_vis.c), allocated on first use */
};

/* exec_world.c */
int vqf_world_init(struct vqf_exec *x);
void vqf_world_fini(struct vqf_exec *x);
int vqf_world_begin(struct vqf_exec *x);   /* fresh world for one input (or one pass) */
void vqf_world_end(struct vqf_exec *x);    /* destroy the adapters of the last input */
uint32_t vqf_x_mmio_read(void *ctx, uint32_t off, unsigned size);
void vqf_x_mmio_write(void *ctx, uint32_t off, unsigned size, uint32_t val);
uint64_t vqf_x_alloc(void *ctx, uint64_t size, uint64_t align);
int vqf_x_device_poll(struct vqf_exec *x);   /* one device poll bracketed for the oracle */
int vqf_x_driver_irq(struct vqf_exec *x);    /* deliver a latched interrupt to the driver */
int vqf_x_step(struct vqf_exec *x);          /* device poll + interrupt delivery */
bool vqf_x_run_idle(struct vqf_exec *x, unsigned max_steps); /* true when idle was reached */
void vqf_x_driver_activity(struct vqf_exec *x);
uint64_t vqf_x_work_bound(const struct vqf_exec *x);
void vqf_x_lie_irq(struct vqf_exec *x, uint32_t bits);
void vqf_x_flush_cfg_irq(struct vqf_exec *x);
void vqf_x_lie_config_change(struct vqf_exec *x, uint32_t off, uint32_t val, uint32_t size, uint32_t mode);
uint64_t vqf_x_resolve(struct vqf_exec *x, unsigned q, uint64_t addr);

/* exec_ldrv.c */
int vqf_ldrv_init(struct vqf_exec *x);       /* negotiate, queues, DRIVER_OK */
void vqf_ldrv_op(struct vqf_exec *x, const struct vqf_op *op);
bool vqf_ldrv_probe(struct vqf_exec *x);     /* device health probe; false = WEDGED */

/* exec_ldev.c */
void vqf_ldev_op(struct vqf_exec *x, const struct vqf_op *op);
void vqf_ldev_after_step(struct vqf_exec *x); /* sticky lies on freshly published used entries */
void vqf_ldev_event(struct vqf_exec *x, unsigned side, unsigned ev, uint32_t a, uint32_t b, uint32_t c);
bool vqf_ldev_probe(struct vqf_exec *x);     /* driver health probe; false = WEDGED */
void vqf_wl_op(struct vqf_exec *x, const struct vqf_op *op); /* WL_* on the driver adapter */
void vqf_x_wedge(struct vqf_exec *x, const char *why);

#endif
