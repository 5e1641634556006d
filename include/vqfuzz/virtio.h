/* Constants and layouts taken from the VIRTIO specification (1.1 - 1.4).
 * Every value carries the section it comes from. All multi-byte fields in guest memory
 * are little-endian (spec 1.4 "Structure Specifications"); the emulator reads and writes
 * them through the le accessors of vqfuzz/dma.h, never through host structs. */
#ifndef VQFUZZ_VIRTIO_H
#define VQFUZZ_VIRTIO_H

#include <stdint.h>

/* ---- Device status field, spec 2.1 ---- */
#define VIRTIO_STATUS_ACKNOWLEDGE        1u
#define VIRTIO_STATUS_DRIVER             2u
#define VIRTIO_STATUS_DRIVER_OK          4u
#define VIRTIO_STATUS_FEATURES_OK        8u
#define VIRTIO_STATUS_SUSPEND           16u  /* 1.4, spec 2.1 / 3.4 */
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED           128u

/* ---- Reserved (device-independent) feature bits, spec 6 ---- */
#define VIRTIO_F_INDIRECT_DESC      28  /* 2.7.5.3 / 2.8.19 */
#define VIRTIO_F_EVENT_IDX          29  /* 2.7.7 / 2.7.10 / 2.8.10 */
#define VIRTIO_F_VERSION_1          32
#define VIRTIO_F_ACCESS_PLATFORM    33
#define VIRTIO_F_RING_PACKED        34  /* 2.8 */
#define VIRTIO_F_IN_ORDER           35  /* 2.7.9 / 2.8.8 / 6.2 */
#define VIRTIO_F_ORDER_PLATFORM     36
#define VIRTIO_F_SR_IOV             37
#define VIRTIO_F_NOTIFICATION_DATA  38  /* 2.9 */
#define VIRTIO_F_NOTIF_CONFIG_DATA  39
#define VIRTIO_F_RING_RESET         40  /* 2.6.1 */
#define VIRTIO_F_ADMIN_VQ           41  /* PCI only (1.3) */
#define VIRTIO_F_SUSPEND            43  /* 1.4 */

#define VQF_BIT(n) (1ull << (n))

/* ---- Device IDs, spec 5 ---- */
#define VIRTIO_ID_NET      1
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_ID_CONSOLE  3
#define VIRTIO_ID_RNG      4

/* ---- Split virtqueue, spec 2.7 ---- */
#define VIRTQ_DESC_F_NEXT      1u  /* 2.7.5 */
#define VIRTQ_DESC_F_WRITE     2u
#define VIRTQ_DESC_F_INDIRECT  4u  /* 2.7.5.3 */
#define VIRTQ_DESC_SIZE       16u  /* le64 addr, le32 len, le16 flags, le16 next */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u  /* 2.7.7 */
#define VIRTQ_USED_F_NO_NOTIFY     1u  /* 2.7.10 */
#define VIRTQ_USED_ELEM_SIZE   8u  /* le32 id, le32 len, 2.7.8 */
#define VIRTQ_SPLIT_MAX_SIZE  32768u /* 2.7: power of two, at most 32768 */
/* Alignment, spec 2.7 table "Virtqueue Part Alignment" (SPLIT-LAY-01). */
#define VIRTQ_DESC_ALIGN  16u
#define VIRTQ_AVAIL_ALIGN  2u
#define VIRTQ_USED_ALIGN   4u
/* Byte sizes of the split parts (2.7): avail = flags, idx, ring[qsz], used_event;
 * used = flags, idx, ring[qsz], avail_event. */
#define VIRTQ_DESC_TABLE_BYTES(qsz) ((uint64_t)(qsz) * 16u)
#define VIRTQ_AVAIL_BYTES(qsz)      (6u + 2u * (uint64_t)(qsz))
#define VIRTQ_USED_BYTES(qsz)       (6u + 8u * (uint64_t)(qsz))
#define VIRTQ_AVAIL_FLAGS  0u
#define VIRTQ_AVAIL_IDX    2u
#define VIRTQ_AVAIL_RING(i)         (4u + 2u * (uint64_t)(i))
#define VIRTQ_USED_EVENT(qsz)       (4u + 2u * (uint64_t)(qsz))  /* in the avail ring, 2.7.7 */
#define VIRTQ_USED_FLAGS   0u
#define VIRTQ_USED_IDX     2u
#define VIRTQ_USED_RING(i)          (4u + 8u * (uint64_t)(i))
#define VIRTQ_AVAIL_EVENT(qsz)      (4u + 8u * (uint64_t)(qsz))  /* in the used ring, 2.7.10 */

/* vring_need_event, spec 2.7.10 / virtio-queue.h (invariant D-06). */
static inline int vqf_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- Packed virtqueue, spec 2.8 ---- */
#define VIRTQ_DESC_F_AVAIL  (1u << 7)   /* 2.8.1 */
#define VIRTQ_DESC_F_USED   (1u << 15)
#define VIRTQ_PACKED_MAX_SIZE 32768u    /* 2.8: up to 2^15 entries, any size */
/* Packed descriptor: le64 addr, le32 len, le16 id, le16 flags (2.8.13). */
#define VIRTQ_PDESC_ADDR   0u
#define VIRTQ_PDESC_LEN    8u
#define VIRTQ_PDESC_ID    12u
#define VIRTQ_PDESC_FLAGS 14u
#define VIRTQ_PACKED_DESC_ALIGN  16u  /* PACK-LAY-01 */
#define VIRTQ_PACKED_EVENT_ALIGN  4u
/* Event suppression structure (2.8.10): le16 desc (off:15 | wrap:1), le16 flags. */
#define VIRTQ_PEVENT_DESC   0u
#define VIRTQ_PEVENT_FLAGS  2u
#define RING_EVENT_FLAGS_ENABLE  0x0u
#define RING_EVENT_FLAGS_DISABLE 0x1u
#define RING_EVENT_FLAGS_DESC    0x2u  /* only with EVENT_IDX */

/* ---- Notification data, spec 2.9 (VIRTIO_F_NOTIFICATION_DATA) ----
 * le32: vq_index (16) | next_off (15) | next_wrap (1). Split: next_off/next_wrap are the
 * avail idx bits 0-14 / 15. Packed: next slot to be filled and the driver wrap counter. */
static inline uint32_t vqf_notification_data(uint16_t vq_index, uint16_t next_off, unsigned next_wrap)
{
    return (uint32_t)vq_index | ((uint32_t)(next_off & 0x7fffu) << 16) | ((uint32_t)(next_wrap & 1u) << 31);
}

/* ---- virtio-mmio version 2 register layout, spec 4.2.2 ---- */
#define VIRTIO_MMIO_MAGIC_VALUE          0x000  /* "virt" = 0x74726976 */
#define VIRTIO_MMIO_VERSION              0x004  /* 2 */
#define VIRTIO_MMIO_DEVICE_ID            0x008
#define VIRTIO_MMIO_VENDOR_ID            0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES      0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL  0x014
#define VIRTIO_MMIO_DRIVER_FEATURES      0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL  0x024
#define VIRTIO_MMIO_QUEUE_SEL            0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX        0x034  /* QueueSizeMax */
#define VIRTIO_MMIO_QUEUE_NUM            0x038  /* QueueSize */
#define VIRTIO_MMIO_QUEUE_READY          0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY         0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS     0x060
#define VIRTIO_MMIO_INTERRUPT_ACK        0x064
#define VIRTIO_MMIO_STATUS               0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW       0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH      0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW     0x090  /* QueueDriver (was QueueAvail) */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH    0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW     0x0a0  /* QueueDevice (was QueueUsed) */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH    0x0a4
#define VIRTIO_MMIO_SHM_SEL              0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW          0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH         0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW         0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH        0x0bc
#define VIRTIO_MMIO_QUEUE_RESET          0x0c0  /* VIRTIO_F_RING_RESET, 1.2 */
#define VIRTIO_MMIO_CONFIG_GENERATION    0x0fc
#define VIRTIO_MMIO_CONFIG               0x100
#define VIRTIO_MMIO_MAGIC                0x74726976u
#define VIRTIO_MMIO_VERSION_2            2u
/* InterruptStatus bits, 4.2.2 */
#define VIRTIO_MMIO_INT_VRING            1u  /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG           2u  /* configuration change notification */

/* ---- Block device, spec 5.2 ---- */
#define VIRTIO_BLK_F_SIZE_MAX      1
#define VIRTIO_BLK_F_SEG_MAX       2
#define VIRTIO_BLK_F_GEOMETRY      4
#define VIRTIO_BLK_F_RO            5
#define VIRTIO_BLK_F_BLK_SIZE      6
#define VIRTIO_BLK_F_FLUSH         9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_LIFETIME     15
#define VIRTIO_BLK_F_SECURE_ERASE 16
#define VIRTIO_BLK_F_ZONED        17
#define VIRTIO_BLK_T_IN            0
#define VIRTIO_BLK_T_OUT           1
#define VIRTIO_BLK_T_FLUSH         4
#define VIRTIO_BLK_T_GET_ID        8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_SECURE_ERASE 14
#define VIRTIO_BLK_S_OK      0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2
#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES     20u
#define VIRTIO_BLK_REQ_HDR_SIZE 16u  /* le32 type, le32 reserved, le64 sector (D-15) */
#define VIRTIO_BLK_DISCARD_SEG_SIZE 16u /* le64 sector, le32 num_sectors, le32 flags */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u
/* struct virtio_blk_config offsets (5.2.4) */
#define VIRTIO_BLK_CFG_CAPACITY           0x00 /* le64 */
#define VIRTIO_BLK_CFG_SIZE_MAX           0x08 /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX            0x0c /* le32 */
#define VIRTIO_BLK_CFG_GEOMETRY           0x10 /* le16 cyl, u8 heads, u8 sectors */
#define VIRTIO_BLK_CFG_BLK_SIZE           0x14 /* le32 */
#define VIRTIO_BLK_CFG_TOPOLOGY           0x18 /* 8 bytes */
#define VIRTIO_BLK_CFG_WRITEBACK          0x20 /* u8 */
#define VIRTIO_BLK_CFG_UNUSED0            0x21 /* u8 */
#define VIRTIO_BLK_CFG_NUM_QUEUES         0x22 /* le16 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 0x24 /* le32 */
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG    0x28 /* le32 */
#define VIRTIO_BLK_CFG_DISCARD_SECTOR_ALIGNMENT 0x2c /* le32 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 0x30 /* le32 */
#define VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG 0x34 /* le32 */
#define VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP 0x38 /* u8 */
#define VIRTIO_BLK_CFG_UNUSED1            0x39 /* u8[3] */
#define VIRTIO_BLK_CFG_SIZE               0x3c

/* ---- Network device, spec 5.1 ---- */
#define VIRTIO_NET_F_CSUM           0
#define VIRTIO_NET_F_GUEST_CSUM     1
#define VIRTIO_NET_F_MTU            3
#define VIRTIO_NET_F_MAC            5
#define VIRTIO_NET_F_GUEST_TSO4     7
#define VIRTIO_NET_F_GUEST_TSO6     8
#define VIRTIO_NET_F_GUEST_UFO     10
#define VIRTIO_NET_F_HOST_TSO4     11
#define VIRTIO_NET_F_HOST_TSO6     12
#define VIRTIO_NET_F_HOST_UFO      14
#define VIRTIO_NET_F_MRG_RXBUF     15
#define VIRTIO_NET_F_STATUS        16
#define VIRTIO_NET_F_CTRL_VQ       17
#define VIRTIO_NET_F_MQ            22
#define VIRTIO_NET_F_HASH_REPORT   57
#define VIRTIO_NET_F_RSS           60
#define VIRTIO_NET_F_SPEED_DUPLEX  63
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u
#define VIRTIO_NET_HDR_F_RSC_INFO   4u
#define VIRTIO_NET_HDR_GSO_NONE     0u
#define VIRTIO_NET_HDR_GSO_TCPV4    1u
#define VIRTIO_NET_HDR_GSO_UDP      3u
#define VIRTIO_NET_HDR_GSO_TCPV6    4u
#define VIRTIO_NET_HDR_GSO_UDP_L4   5u
#define VIRTIO_NET_S_LINK_UP        1u
/* struct virtio_net_hdr (5.1.6): flags u8, gso_type u8, hdr_len le16, gso_size le16,
 * csum_start le16, csum_offset le16, num_buffers le16 = 12 bytes for VERSION_1;
 * 20 with HASH_REPORT (D-16). */
#define VIRTIO_NET_HDR_SIZE         12u
#define VIRTIO_NET_HDR_SIZE_HASH    20u
#define VIRTIO_NET_HDR_NUM_BUFFERS  10u  /* offset of num_buffers */
/* struct virtio_net_config offsets (5.1.4) */
#define VIRTIO_NET_CFG_MAC          0x00 /* u8[6] */
#define VIRTIO_NET_CFG_STATUS       0x06 /* le16 */
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS 0x08 /* le16 */
#define VIRTIO_NET_CFG_MTU          0x0a /* le16 */
#define VIRTIO_NET_CFG_SPEED        0x0c /* le32 */
#define VIRTIO_NET_CFG_DUPLEX       0x10 /* u8 */
#define VIRTIO_NET_CFG_SIZE         0x14

/* ---- Console device, spec 5.3 ---- */
#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define VIRTIO_CONSOLE_DEVICE_READY  0
#define VIRTIO_CONSOLE_DEVICE_ADD    1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY    3
#define VIRTIO_CONSOLE_CONSOLE_PORT  4
#define VIRTIO_CONSOLE_RESIZE        5
#define VIRTIO_CONSOLE_PORT_OPEN     6
#define VIRTIO_CONSOLE_PORT_NAME     7
#define VIRTIO_CONSOLE_CTRL_SIZE     8u /* le32 id, le16 event, le16 value (D-17) */
/* struct virtio_console_config offsets (5.3.4) */
#define VIRTIO_CONSOLE_CFG_COLS         0x00 /* le16 */
#define VIRTIO_CONSOLE_CFG_ROWS         0x02 /* le16 */
#define VIRTIO_CONSOLE_CFG_MAX_NR_PORTS 0x04 /* le32 */
#define VIRTIO_CONSOLE_CFG_EMERG_WR     0x08 /* le32 */
#define VIRTIO_CONSOLE_CFG_SIZE         0x0c

/* ---- Entropy device, spec 5.4: one requestq, device-writable buffers only ---- */

#endif
