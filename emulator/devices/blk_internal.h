/* Private to the reference block device (spec 5.2) and its tests: the device state behind the
 * adapter's opaque pointer, so that an end-to-end test can look at the medium itself (BLK-27:
 * a refused write left no data; BLK-32: a written-zeroes range is zero) and can damage it on
 * purpose to prove that the driver's read-back check is real. Not part of any contract. */
#ifndef VQF_BLK_INTERNAL_H
#define VQF_BLK_INTERNAL_H

#include <stdint.h>

#include "emulator/transport/vdev.h"

#define VQF_BLK_SECTORS 64u        /* default capacity: small so that per-input creation stays cheap */
#define VQF_BLK_SEG_MAX 126u       /* config seg_max (5.2.4): data segments per request */
#define VQF_BLK_SIZE_MAX 65536u    /* config size_max (5.2.4): bytes per segment */
#define VQF_BLK_MAX_DWZ_SEG 8u     /* config max_discard_seg / max_write_zeroes_seg (5.2.4) */
#define VQF_BLK_DEFAULT_QUEUES 4u  /* request queues offered with VIRTIO_BLK_F_MQ (5.2.2) */
#define VQF_BLK_QUEUE_MAX 256u     /* QueueSizeMax when the harness does not choose */
#define VQF_BLK_DISCARD_BYTE 0xd5u /* what discarded sectors read back as (BLK-23: anything) */

struct vqf_blk_stats {
    uint64_t ok, ioerr, unsupp; /* status bytes written, per value (5.2.6) */
    uint64_t failed;            /* requests that could not be answered: NEEDS_RESET */
};

struct vqf_blk_dev {
    struct vqf_vdev vdev;
    uint64_t capacity;        /* sectors of 512 bytes */
    uint8_t *disk;            /* capacity * 512 bytes, materialised lazily from the seed */
    uint64_t made[(VQF_BLK_SECTORS + 63) / 64]; /* sector holds its seed pattern or data */
    uint32_t seed;
    uint8_t writeback;        /* config writeback (CONFIG_WCE), 0 = write-through */
    uint8_t id[VIRTIO_BLK_ID_BYTES];
    struct vqf_blk_stats stats;
};

/* Copy sectors [sector, sector + n) of the medium (materialising them) into buf. 0, or -1 when
 * the range is past capacity. For tests only: the driver sees the medium through requests. */
int vqf_blk_dev_peek(struct vqf_blk_dev *b, uint64_t sector, void *buf, uint32_t n);
/* Overwrite sectors of the medium behind the driver's back (tests of the driver's checks). */
int vqf_blk_dev_poke(struct vqf_blk_dev *b, uint64_t sector, const void *buf, uint32_t n);

#endif
