/* Types shared by the split (spec 2.7) and packed (spec 2.8) virtqueue modules.
 *
 * Each format module holds both halves of a virtqueue:
 *   driver half: add a chain, publish and decide to kick, reclaim used buffers;
 *   device half: pop a chain (validating everything it reads), push used, decide to notify.
 * The halves never share host state: they talk only through guest memory, as a real driver
 * and device do, so either half can face a lying peer. */
#ifndef VQF_RING_H
#define VQF_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "emulator/mem.h"
#include "vqfuzz/virtio.h"

enum vqf_ring_format { VQF_RING_SPLIT = 0, VQF_RING_PACKED = 1 };

/* Precise ring-level errors. Functions return them negated (-VQF_ERR_*). Each names the
 * spec rule or invariant (../shared/spec/clauses.md) the peer broke. */
enum vqf_ring_err {
    VQF_OK = 0,
    /* seen by the device half (the driver lied) */
    VQF_ERR_ADDR = 1,       /* ring part or buffer outside guest memory (RSVD-05) */
    VQF_ERR_HEAD_RANGE,     /* avail entry / packed slot index >= queue size (D-05) */
    VQF_ERR_NEXT_RANGE,     /* next >= queue size, or >= entries of an indirect table (D-05) */
    VQF_ERR_CHAIN_LOOP,     /* more descriptors than the queue size: a loop (SPLIT-DSC-05, SPLIT-IND-03, PACK-SG-02) */
    VQF_ERR_CHAIN_LEN,      /* total chain length >= 2^32 (SPLIT-DSC-05) */
    VQF_ERR_IND_LEN,        /* indirect table len 0 or not a multiple of 16 (D-05) */
    VQF_ERR_IND_NESTED,     /* INDIRECT inside an indirect table (SPLIT-IND-02) */
    VQF_ERR_IND_NEXT,       /* INDIRECT together with NEXT (SPLIT-IND-04, PACK-IND-04) */
    VQF_ERR_IND_FEATURE,    /* INDIRECT without VIRTIO_F_INDIRECT_DESC (SPLIT-IND-01, PACK-IND-01) */
    VQF_ERR_WRITE_ORDER,    /* device-readable after device-writable (SPLIT-FRM-03, PACK-SG-03) */
    VQF_ERR_CHAIN_CAP,      /* more segments than the device accepts (SPLIT-FRM-02 permission) */
    VQF_ERR_AVAIL_JUMP,     /* avail idx ran more than queue size ahead of the device (SPLIT-AVL-01, D-02) */
    VQF_ERR_PACKED_ID,      /* packed buffer id >= queue size or already outstanding (D-10) */
    /* seen by the driver half (the device lied) */
    VQF_ERR_USED_ID,        /* used id is not an outstanding head / buffer id (D-03) */
    VQF_ERR_USED_LEN,       /* used len larger than the writable capacity (D-04) */
    VQF_ERR_USED_IDX,       /* used idx ran ahead of what was made available (D-02) */
    VQF_ERR_USED_ORDER,     /* IN_ORDER: used id out of order (RSVD-18, D-07) */
    VQF_ERR_USED_FLAGS,     /* packed used descriptor flags inconsistent (D-08) */
    /* local conditions */
    VQF_ERR_NOSPACE,        /* driver: not enough free descriptors / slots */
    VQF_ERR_NOT_READY,      /* queue not set up, or already broken */
    VQF_ERR_INVAL,          /* bad argument from the caller (queue size, alignment, ...) */
    VQF_ERR_COUNT
};

/* Name ("head_range") and one-line meaning of an error code (positive value). */
const char *vqf_ring_err_name(int err);
const char *vqf_ring_err_text(int err);

/* Queue configuration, as programmed through the transport (spec 4.2.2 Queue* registers). */
struct vqf_ring_cfg {
    enum vqf_ring_format format;
    uint16_t size;       /* queue size (split: power of two <= 32768; packed: 1..32768) */
    uint16_t index;      /* virtqueue index, for notification data */
    uint64_t desc;       /* split: descriptor table; packed: descriptor ring */
    uint64_t driver;     /* split: available ring; packed: driver event suppression */
    uint64_t device;     /* split: used ring; packed: device event suppression */
    uint64_t features;   /* negotiated feature bits 0..63 (INDIRECT_DESC, EVENT_IDX, IN_ORDER, NOTIFICATION_DATA) */
    /* driver half only: guest memory for indirect tables (0 = no indirect). The driver
     * half carves ind_pool_len / size bytes per head / buffer id. */
    uint64_t ind_pool;
    uint32_t ind_pool_len;
    /* device half only: most segments the device accepts in one chain (0 = queue size).
     * Longer chains fail with VQF_ERR_CHAIN_CAP (allowed by SPLIT-FRM-02 / PACK-SG-08). */
    uint32_t max_segs;
};

/* One element of a scatter-gather list. */
struct vqf_seg {
    uint64_t addr;
    uint32_t len;
    uint32_t write; /* 1 = device-writable */
};

/* A chain as the device half delivers it. seg[] is owned by the caller (seg_cap entries);
 * pop fails with VQF_ERR_CHAIN_CAP when the chain has more segments than seg_cap. */
struct vqf_chain {
    uint16_t id;       /* split: head descriptor index; packed: buffer id */
    uint16_t ndesc;    /* ring descriptors consumed (packed: slots to skip) */
    uint16_t slot;     /* split: avail ring position; packed: first slot */
    uint16_t nseg;     /* segments filled */
    uint16_t nout;     /* device-readable segments (first) */
    uint16_t nin;      /* device-writable segments (after) */
    uint32_t out_len;  /* total readable bytes */
    uint32_t in_len;   /* total writable bytes */
    uint32_t seg_cap;
    struct vqf_seg *seg;
};

/* Driver-half add flags. */
#define VQF_ADD_INDIRECT 1u /* put the chain in an indirect table if the feature and pool allow */

static inline bool vqf_has_feature(uint64_t features, unsigned bit) { return (features >> bit) & 1u; }

#endif
