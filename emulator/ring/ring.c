/* Names and one-line meanings of the ring error codes (ring.h), shared by both formats.
 * Reports, traces and tests print these, so each meaning names the rule the peer broke. */
#include "emulator/ring/ring.h"

struct err_row {
    const char *name;
    const char *text;
};

/* Indexed by enum vqf_ring_err; designated initialisers keep rows and codes in step. */
static const struct err_row err_rows[VQF_ERR_COUNT] = {
    [VQF_OK] = {"ok", "no error"},
    [VQF_ERR_ADDR] = {"addr", "ring part or buffer outside guest memory (RSVD-05)"},
    [VQF_ERR_HEAD_RANGE] = {"head_range", "available entry or slot index >= queue size (D-05)"},
    [VQF_ERR_NEXT_RANGE] = {"next_range", "next >= queue size or >= entries of the indirect table (D-05)"},
    [VQF_ERR_CHAIN_LOOP] = {"chain_loop",
                            "chain has more descriptors than the queue size: a loop "
                            "(SPLIT-DSC-05, SPLIT-IND-03, PACK-SG-02)"},
    [VQF_ERR_CHAIN_LEN] = {"chain_len", "total chain length exceeds 2^32 bytes (SPLIT-DSC-05)"},
    [VQF_ERR_IND_LEN] = {"ind_len", "indirect table length is 0 or not a multiple of 16 (D-05)"},
    [VQF_ERR_IND_NESTED] = {"ind_nested", "INDIRECT inside an indirect table (SPLIT-IND-02)"},
    [VQF_ERR_IND_NEXT] = {"ind_next", "INDIRECT together with NEXT (SPLIT-IND-04, PACK-IND-04)"},
    [VQF_ERR_IND_FEATURE] = {"ind_feature", "INDIRECT without VIRTIO_F_INDIRECT_DESC (SPLIT-IND-01, PACK-IND-01)"},
    [VQF_ERR_WRITE_ORDER] = {"write_order",
                             "device-readable descriptor after a device-writable one (SPLIT-FRM-03, PACK-SG-03)"},
    [VQF_ERR_CHAIN_CAP] = {"chain_cap", "more segments than the device accepts (SPLIT-FRM-02)"},
    [VQF_ERR_AVAIL_JUMP] = {"avail_jump",
                            "available idx moved backwards or more than the queue size ahead (SPLIT-AVL-01, D-02)"},
    [VQF_ERR_PACKED_ID] = {"packed_id", "packed buffer id >= queue size or already outstanding (D-10)"},
    [VQF_ERR_USED_ID] = {"used_id", "used id is not an outstanding head / buffer id (D-03)"},
    [VQF_ERR_USED_LEN] = {"used_len", "used len larger than the writable capacity of the buffer (D-04)"},
    [VQF_ERR_USED_IDX] = {"used_idx", "used idx ran ahead of what was made available (D-02)"},
    [VQF_ERR_USED_ORDER] = {"used_order", "IN_ORDER: used id out of order or batch past used idx (RSVD-18, D-07)"},
    [VQF_ERR_USED_FLAGS] = {"used_flags", "packed used descriptor flags inconsistent (D-08)"},
    [VQF_ERR_NOSPACE] = {"nospace", "not enough free descriptors, slots or host memory"},
    [VQF_ERR_NOT_READY] = {"not_ready", "queue not set up, or broken by an earlier error"},
    [VQF_ERR_INVAL] = {"inval", "bad argument (queue size, alignment, chain shape, ...)"},
};

/* Accept either sign: callers hold -VQF_ERR_* return values as often as the positive code. */
static const struct err_row *err_row(int err)
{
    unsigned u = err < 0 ? 0u - (unsigned)err : (unsigned)err; /* no overflow on INT_MIN */
    if (u >= VQF_ERR_COUNT || !err_rows[u].name)
        return NULL;
    return &err_rows[u];
}

const char *vqf_ring_err_name(int err)
{
    const struct err_row *r = err_row(err);
    return r ? r->name : "unknown";
}

const char *vqf_ring_err_text(int err)
{
    const struct err_row *r = err_row(err);
    return r ? r->text : "unknown ring error code";
}
