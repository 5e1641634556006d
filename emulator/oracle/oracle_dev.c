/* The oracle's device-type checks (spec 5.1 net, 5.2 blk, 5.3 console, 5.4 rng): request
 * formation judged on the driver when a chain is published, completions judged on the
 * device when a used entry covers them. They read the chain's bytes through the shadow
 * segments (oracle_split.c), so header framing across descriptors does not matter
 * (2.7.4 message framing). A device completion is judged only if the device wrote the
 * chain through logged DMA: bytes written through raw pointers are invisible here. */
#include "emulator/oracle/oracle_int.h"

#include <string.h>

/* A malformed request by the driver is reported (if the driver is judged) and marks the
 * chain: the device's answer to it is not judged, but its ring behaviour still is. */
static void dbad(struct vqf_oracle *o, struct oq *q, enum vqf_clause_id c, unsigned side, uint64_t v0, uint64_t v1,
                 uint64_t v2, const char *what)
{
    vqf_or_find(o, c, side, v0, v1, v2, "queue %u: %s (0x%llx, 0x%llx, 0x%llx)", (unsigned)(q - o->q), what,
                (unsigned long long)v0, (unsigned long long)v1, (unsigned long long)v2);
}

/* ---- chain byte streams ---- */

struct segit {
    const struct oq *q;
    uint16_t head, d, e;
    uint32_t slot;
};

static bool seg_next(struct segit *it, struct oseg *out)
{
    const struct oq *q = it->q;
    const struct ochain *c = &q->ch[it->head];
    while (it->d < c->ndesc) {
        const struct oseg *s = &q->dseg[it->slot];
        it->slot = q->dnext[it->slot];
        it->d++;
        if (s->write != SEG_IND) {
            *out = *s;
            return true;
        }
    }
    if (!c->untracked && it->e < c->nind) {
        *out = q->iseg[(size_t)it->head * OQ_IND_MAX + it->e++];
        return true;
    }
    return false;
}

static uint64_t stream_len(const struct oq *q, uint16_t h, unsigned write)
{
    struct segit it = {q, h, 0, 0, h};
    struct oseg s;
    uint64_t n = 0;
    while (seg_next(&it, &s))
        if (s.write == write)
            n += s.len;
    return n;
}

/* Copy n bytes at offset off of the readable (write = 0) or writable (1) stream. */
static bool stream_read(const struct vqf_oracle *o, const struct oq *q, uint16_t h, unsigned write, uint64_t off,
                        uint8_t *buf, uint32_t n)
{
    struct segit it = {q, h, 0, 0, h};
    struct oseg s;
    uint64_t pos = 0;
    while (n && seg_next(&it, &s)) {
        if (s.write != write)
            continue;
        if (off < pos + s.len) {
            uint64_t in = off - pos;
            uint32_t take = (uint32_t)(s.len - in < n ? s.len - in : n);
            const uint8_t *p = o->setup.mem ? vqf_mem_xlate(o->setup.mem, s.addr + in, take) : NULL;
            if (!p)
                return false;
            memcpy(buf, p, take);
            buf += take;
            n -= take;
            off += take;
        }
        pos += s.len;
    }
    return n == 0;
}

static bool has_r(const struct oq *q, uint16_t h) { return stream_len(q, h, 0) != 0; }
static bool has_w(const struct oq *q, uint16_t h) { return stream_len(q, h, 1) != 0; }

static bool dev_offers(const struct vqf_oracle *o, unsigned bit)
{
    return bit < 128 && ((o->dev_feat_known >> (bit / 32)) & 1u) && ((o->dev_feat[bit / 32] >> (bit % 32)) & 1u);
}

/* A config field the driver has read (all bytes known), little-endian. */
static bool cfg_field(const struct vqf_oracle *o, unsigned off, unsigned n, uint64_t *v)
{
    *v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (off + i >= 256 || !o->cfg_known[off + i])
            return false;
        *v |= (uint64_t)o->cfg_val[off + i] << (8 * i);
    }
    return true;
}

/* The mtu the driver first read (5.1.4.1 NET-04: the device must not change it afterwards), so
 * that a lying device's later change does not move the yardstick of the mtu checks; the live
 * config field before the driver has read it. */
static bool net_mtu(const struct vqf_oracle *o, uint64_t *mtu)
{
    if (o->net_mtu_known) {
        *mtu = o->net_mtu;
        return true;
    }
    return cfg_field(o, VIRTIO_NET_CFG_MTU, 2, mtu);
}

#define DBAD(...) (q->ch[h].devbad = 1, dbad(o, q, __VA_ARGS__))

/* 5.2.4: struct virtio_blk_config after unused1[3]: max_secure_erase_sectors (le32, 0x3c),
 * max_secure_erase_seg (le32, 0x40), secure_erase_sector_alignment (le32, 0x44). */
#define BLK_CFG_MAX_SECURE_ERASE_SEG 0x40

/* ---- block (5.2.6) ---- */

#define BLK_T_ZONE_FIRST 15 /* ZONE_APPEND .. ZONE_RESET_ALL (5.2.6): 15, 16, 18, 20, 22, 24, 26 */
static bool blk_zone_type(uint32_t t)
{
    return t == 15 || t == 16 || t == 18 || t == 20 || t == 22 || t == 24 || t == 26;
}

/* Sector ranges a completed WRITE_ZEROES left zeroed (BLK-32). A later write or discard of
 * any overlapping sector forgets the range (the request may run before or after a read). */
static void zr_forget(struct vqf_oracle *o, uint64_t sector, uint64_t count)
{
    for (unsigned i = 0; i < o->nzr;) {
        if (sector < o->zr[i].sector + o->zr[i].count && o->zr[i].sector < sector + count)
            o->zr[i] = o->zr[--o->nzr];
        else
            i++;
    }
}

static void zr_add(struct vqf_oracle *o, uint64_t sector, uint64_t count)
{
    if (count == 0 || sector + count < sector)
        return;
    unsigned i = o->nzr < 4 ? o->nzr++ : 0; /* a full table drops its first range: fewer checks */
    o->zr[i].sector = sector;
    o->zr[i].count = count;
    o->zr[i].done_seq = o->pub_seq;
}

/* Segments of a DISCARD / WRITE_ZEROES / SECURE_ERASE request: forget (or, done, add) them. */
static void zr_segments(struct vqf_oracle *o, struct oq *q, uint16_t h, bool add)
{
    uint64_t segs = (stream_len(q, h, 0) - VIRTIO_BLK_REQ_HDR_SIZE) / VIRTIO_BLK_DISCARD_SEG_SIZE;
    for (uint64_t i = 0; i < segs && i < 64; i++) {
        uint8_t sg[16];
        if (!stream_read(o, q, h, 0, VIRTIO_BLK_REQ_HDR_SIZE + 16 * i, sg, 16))
            return;
        if (add)
            zr_add(o, vqf_le64(sg), vqf_le32(sg + 8));
        else
            zr_forget(o, vqf_le64(sg), vqf_le32(sg + 8));
    }
}

static void blk_publish(struct vqf_oracle *o, struct oq *q, uint16_t h)
{
    const unsigned D = VQF_SIDE_DRIVER;
    uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE];
    uint64_t rlen = stream_len(q, h, 0), wlen = stream_len(q, h, 1);
    if (rlen < sizeof(hdr) || wlen < 1 || !stream_read(o, q, h, 0, 0, hdr, sizeof(hdr)))
        return; /* not a request shape the rules below speak about */
    uint32_t type = vqf_le32(hdr);
    uint64_t sector = vqf_le64(hdr + 8);
    uint64_t data = 0;
    if (type == VIRTIO_BLK_T_IN)
        data = wlen - 1;
    else if (type == VIRTIO_BLK_T_OUT)
        data = rlen - sizeof(hdr);
    if (type == VIRTIO_BLK_T_OUT)
        zr_forget(o, sector, (data + VIRTIO_BLK_SECTOR_SIZE - 1) / VIRTIO_BLK_SECTOR_SIZE + 1);
    else if ((type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES || type == VIRTIO_BLK_T_SECURE_ERASE) &&
             rlen >= sizeof(hdr))
        zr_segments(o, q, h, false);
    if ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT) && data % VIRTIO_BLK_SECTOR_SIZE) {
        /* 5.2.6.1: IN/OUT data is a multiple of 512 bytes */
        DBAD( VQF_CL_BLK_14, D, h, type, data, "blk IN/OUT data not a multiple of 512 (head, type, bytes)");
        return;
    }
    if (type == VIRTIO_BLK_T_FLUSH && sector != 0) {
        /* 5.2.6.1: FLUSH carries sector 0 */
        DBAD( VQF_CL_BLK_12, D, h, sector, 0, "blk FLUSH with a non-zero sector");
        return;
    }
    if (type == VIRTIO_BLK_T_FLUSH && (rlen != sizeof(hdr) || wlen != 1)) {
        /* 5.2.6.1: FLUSH should carry no data */
        DBAD( VQF_CL_BLK_13, D, h, rlen, wlen, "blk FLUSH with a data payload (head, readable, writable)");
        return;
    }
    if (type == VIRTIO_BLK_T_GET_ID && wlen - 1 != VIRTIO_BLK_ID_BYTES) {
        /* 5.2.6.1: GET_ID data is exactly 20 bytes */
        DBAD( VQF_CL_BLK_16, D, h, wlen - 1, 0, "blk GET_ID data area not 20 bytes");
        return;
    }
    if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES || type == VIRTIO_BLK_T_SECURE_ERASE) {
        uint64_t segs = rlen - sizeof(hdr);
        if (segs % VIRTIO_BLK_DISCARD_SEG_SIZE) {
            /* 5.2.6.1: whole 16-byte segment records */
            DBAD( VQF_CL_BLK_15, D, h, type, segs, "blk discard/write-zeroes data not whole segments");
            return;
        }
        uint64_t maxseg;
        unsigned cfg_off = type == VIRTIO_BLK_T_DISCARD        ? VIRTIO_BLK_CFG_MAX_DISCARD_SEG
                           : type == VIRTIO_BLK_T_WRITE_ZEROES ? VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG
                           : dev_offers(o, VIRTIO_BLK_F_SECURE_ERASE) ? BLK_CFG_MAX_SECURE_ERASE_SEG
                                                                      : 0;
        if (cfg_off && cfg_field(o, cfg_off, 4, &maxseg) && segs / 16 > maxseg) {
            /* 5.2.6.1: at most max_discard_seg / max_write_zeroes_seg / max_secure_erase_seg segments */
            DBAD(type == VIRTIO_BLK_T_DISCARD        ? VQF_CL_BLK_17
                 : type == VIRTIO_BLK_T_WRITE_ZEROES ? VQF_CL_BLK_19
                                                     : VQF_CL_BLK_18,
                 D, h, segs / 16, maxseg, "blk request with more segments than the device allows (head, segments, max)");
            return;
        }
        if (type == VIRTIO_BLK_T_DISCARD) {
            for (uint64_t i = 0; i < segs / 16 && i < 64; i++) {
                uint8_t f[4];
                if (stream_read(o, q, h, 0, sizeof(hdr) + 16 * i + 12, f, 4) &&
                    (vqf_le32(f) & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) &&
                    vqf_or_judged(o, D)) {
                    /* 5.2.6.1: the unmap flag is 0 in DISCARD segments */
                    DBAD( VQF_CL_BLK_22, D, h, i, vqf_le32(f), "blk DISCARD segment with unmap set");
                    return;
                }
            }
        }
    }
    uint64_t cap;
    if ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT) && cfg_field(o, VIRTIO_BLK_CFG_CAPACITY, 8, &cap) &&
        (sector > cap || data / VIRTIO_BLK_SECTOR_SIZE > cap - sector)) {
        /* 5.2.6.1: no read or write past capacity (as last read by the driver) */
        DBAD( VQF_CL_BLK_10, D, sector, data / VIRTIO_BLK_SECTOR_SIZE, cap,
                   "blk request past capacity (sector, sectors, capacity)");
    }
}

static void blk_complete(struct vqf_oracle *o, struct oq *q, uint16_t h, uint32_t len)
{
    const unsigned V = VQF_SIDE_DEVICE;
    uint8_t hdr[VIRTIO_BLK_REQ_HDR_SIZE], st;
    uint64_t rlen = stream_len(q, h, 0), wlen = stream_len(q, h, 1);
    if (rlen >= sizeof(hdr) && wlen >= 1 && len == 0 && q->ch[h].written == 0 &&
        stream_read(o, q, h, 0, 0, hdr, sizeof(hdr)) && stream_read(o, q, h, 1, wlen - 1, &st, 1)) {
        /* D-15 (5.2.6): a request ends with the status byte the device writes; a completion
         * that reports and shows no byte written leaves the driver a status never given */
        vqf_or_bad(o, q, VQF_CL_D_15, V, h, vqf_le32(hdr), wlen,
                   "blk request completed with used len 0 and no status byte written (head, type, writable bytes)");
        return;
    }
    if (rlen < sizeof(hdr) || wlen < 1 || q->ch[h].written == 0 || !stream_read(o, q, h, 0, 0, hdr, sizeof(hdr)) ||
        !stream_read(o, q, h, 1, wlen - 1, &st, 1))
        return;
    (void)len;
    uint32_t type = vqf_le32(hdr);
    bool zoned = or_feat(o->features, VIRTIO_BLK_F_ZONED);
    if (!zoned && st > VIRTIO_BLK_S_UNSUPP) {
        /* D-15: status is OK, IOERR or UNSUPP */
        vqf_or_bad(o, q, VQF_CL_D_15, V, h, type, st, "blk status byte not 0, 1 or 2 (head, type, status)");
        return;
    }
    if (!zoned && blk_zone_type(type) && st != VIRTIO_BLK_S_UNSUPP) {
        /* 5.2.6.2: zone requests without ZONED complete with UNSUPP */
        vqf_or_bad(o, q, VQF_CL_BLK_41, V, h, type, st, "blk zone request without ZONED not UNSUPP");
        return;
    }
    if (type == VIRTIO_BLK_T_WRITE_ZEROES && st == VIRTIO_BLK_S_OK && (rlen - sizeof(hdr)) % 16 == 0)
        zr_segments(o, q, h, true);
    if (type == VIRTIO_BLK_T_IN && st == VIRTIO_BLK_S_OK && q->ch[h].written >= wlen - 1) {
        uint64_t sector = vqf_le64(hdr + 8), n = (wlen - 1) / VIRTIO_BLK_SECTOR_SIZE;
        for (unsigned i = 0; i < o->nzr; i++) {
            if (q->ch[h].pub_seq <= o->zr[i].done_seq || !(sector < o->zr[i].sector + o->zr[i].count) ||
                !(o->zr[i].sector < sector + n))
                continue;
            uint64_t lo = sector > o->zr[i].sector ? sector : o->zr[i].sector;
            uint64_t hi = sector + n < o->zr[i].sector + o->zr[i].count ? sector + n : o->zr[i].sector + o->zr[i].count;
            for (uint64_t sct = lo; sct < hi && sct < lo + 8; sct++) {
                uint8_t b[64];
                for (unsigned k = 0; k < VIRTIO_BLK_SECTOR_SIZE; k += sizeof(b)) {
                    if (!stream_read(o, q, h, 1, (sct - sector) * VIRTIO_BLK_SECTOR_SIZE + k, b, sizeof(b)))
                        return;
                    for (unsigned j = 0; j < sizeof(b); j++)
                        if (b[j]) {
                            /* 5.2.6.2: after WRITE_ZEROES the range reads back as zeroes */
                            vqf_or_bad(o, q, VQF_CL_BLK_32, V, sct, o->zr[i].sector, o->zr[i].count,
                                       "blk sector reads non-zero after WRITE_ZEROES (sector, range start, count)");
                            return;
                        }
                }
            }
        }
    }
    if (type == VIRTIO_BLK_T_GET_LIFETIME && st == VIRTIO_BLK_S_OK && wlen >= 7) {
        /* 5.2.6.2: struct virtio_blk_lifetime: pre_eol_info 0..3, estimates 0..11 */
        uint8_t lt[6];
        if (stream_read(o, q, h, 1, 0, lt, 6) &&
            (vqf_le16(lt) > 3 || vqf_le16(lt + 2) > 11 || vqf_le16(lt + 4) > 11)) {
            vqf_or_bad(o, q, VQF_CL_BLK_40, V, vqf_le16(lt), vqf_le16(lt + 2), vqf_le16(lt + 4),
                       "blk lifetime reply with reserved values (pre_eol, est_a, est_b)");
            return;
        }
    }
    if (type == VIRTIO_BLK_T_OUT && dev_offers(o, VIRTIO_BLK_F_RO) && st != VIRTIO_BLK_S_IOERR) {
        /* 5.2.6.2: a read-only device fails writes with IOERR */
        vqf_or_bad(o, q, VQF_CL_BLK_27, V, h, type, st, "blk write to a read-only device not IOERR");
        return;
    }
    if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES || type == VIRTIO_BLK_T_SECURE_ERASE) {
        uint64_t segs = (rlen - sizeof(hdr)) / 16;
        bool unknown = false, unmap = false;
        for (uint64_t i = 0; i < segs && i < 64; i++) {
            uint8_t f[4];
            if (!stream_read(o, q, h, 0, sizeof(hdr) + 16 * i + 12, f, 4))
                return;
            uint32_t fl = vqf_le32(f);
            unknown |= (fl & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0 ||
                       (type == VIRTIO_BLK_T_SECURE_ERASE && fl != 0);
            unmap |= (fl & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0;
        }
        if (unknown && st != VIRTIO_BLK_S_UNSUPP) {
            /* 5.2.6.2: unknown segment flags complete with UNSUPP */
            vqf_or_bad(o, q, VQF_CL_BLK_28, V, h, type, st, "blk segment with unknown flags not UNSUPP");
            return;
        }
        if (type == VIRTIO_BLK_T_DISCARD && unmap && st != VIRTIO_BLK_S_UNSUPP)
            /* 5.2.6.2: DISCARD with unmap completes with UNSUPP */
            vqf_or_bad(o, q, VQF_CL_BLK_29, V, h, type, st, "blk DISCARD with unmap not UNSUPP");
    }
}

/* ---- net (5.1.6, 5.1.9): queue 0 = receiveq1, 1 = transmitq1 ---- */

#define NET_HDR_FLAGS 0
#define NET_HDR_GSO_TYPE 1
#define NET_HDR_GSO_SIZE 4
#define NET_GSO_ECN 0x80u
#define NET_LINK_HDR 14u /* Ethernet header without VLAN tag: the "link header" of 5.1.4 */

static void net_publish(struct vqf_oracle *o, struct oq *q, unsigned qi, uint16_t h)
{
    const unsigned D = VQF_SIDE_DRIVER;
    uint64_t f = o->features;
    if (qi == 0) {
        uint64_t mtu, blen = stream_len(q, h, 1);
        if (or_feat(f, VIRTIO_NET_F_MRG_RXBUF) && blen < VIRTIO_NET_HDR_SIZE)
            /* 5.1.9.3.1: with MRG_RXBUF each rx buffer holds a whole header */
            DBAD(VQF_CL_NET_47, D, h, blen, VIRTIO_NET_HDR_SIZE, "net rx buffer smaller than the header (head, bytes, header)");
        else if (blen < VIRTIO_NET_HDR_SIZE)
            /* D-16 (5.1.6): every rx buffer starts with the whole virtio_net_hdr */
            DBAD(VQF_CL_D_16, D, h, blen, VIRTIO_NET_HDR_SIZE, "net rx buffer smaller than the header (head, bytes, header)");
        else if (!or_feat(f, VIRTIO_NET_F_MRG_RXBUF) && or_feat(f, VIRTIO_NET_F_MTU) &&
                 net_mtu(o, &mtu) && blen < VIRTIO_NET_HDR_SIZE + NET_LINK_HDR + mtu)
            /* 5.1.4.2: with MTU, an rx buffer holds an mtu-sized packet */
            DBAD(VQF_CL_NET_22, D, h, blen, mtu, "net rx buffer cannot hold an mtu-sized packet (bytes, mtu)");
        return;
    }
    if (qi != 1)
        return;
    uint8_t hdr[VIRTIO_NET_HDR_SIZE];
    if (!stream_read(o, q, h, 0, 0, hdr, sizeof(hdr)))
        return;
    uint8_t flags = hdr[NET_HDR_FLAGS], gso = hdr[NET_HDR_GSO_TYPE] & (uint8_t)~NET_GSO_ECN;
    if (vqf_le16(hdr + VIRTIO_NET_HDR_NUM_BUFFERS) != 0) {
        /* 5.1.9.2.1: tx num_buffers is 0 */
        DBAD( VQF_CL_NET_30, D, h, vqf_le16(hdr + VIRTIO_NET_HDR_NUM_BUFFERS), 0,
                   "net tx header num_buffers not 0");
        return;
    }
    if (!or_feat(f, VIRTIO_NET_F_CSUM) && flags != 0) {
        /* 5.1.9.2.1: without CSUM tx flags are 0 */
        DBAD( VQF_CL_NET_31, D, h, flags, 0, "net tx header flags set without VIRTIO_NET_F_CSUM");
        return;
    }
    if (flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO)) {
        DBAD( VQF_CL_NET_40, D, h, flags, 0, "net tx header with DATA_VALID or RSC_INFO");
        return;
    }
    bool any_gso = or_feat(f, VIRTIO_NET_F_HOST_TSO4) || or_feat(f, VIRTIO_NET_F_HOST_TSO6) ||
                   or_feat(f, VIRTIO_NET_F_HOST_UFO) || or_feat(f, 56 /* HOST_USO */);
    if (!any_gso && gso != VIRTIO_NET_HDR_GSO_NONE) {
        DBAD( VQF_CL_NET_37, D, h, gso, 0, "net tx GSO without any host GSO feature");
        return;
    }
    if (gso == VIRTIO_NET_HDR_GSO_UDP_L4 && !or_feat(f, 56 /* HOST_USO */)) {
        DBAD(VQF_CL_NET_36, D, h, gso, 0, "net tx gso_type UDP_L4 without HOST_USO");
        return;
    }
    if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !or_feat(f, VIRTIO_NET_F_HOST_TSO4)) ||
        (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !or_feat(f, VIRTIO_NET_F_HOST_TSO6)) ||
        (gso == VIRTIO_NET_HDR_GSO_UDP && !or_feat(f, VIRTIO_NET_F_HOST_UFO))) {
        enum vqf_clause_id c = gso == VIRTIO_NET_HDR_GSO_TCPV4   ? VQF_CL_NET_33
                               : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VQF_CL_NET_34
                                                                 : VQF_CL_NET_35;
        DBAD( c, D, h, gso, 0, "net tx gso_type without its host feature");
        return;
    }
    if (gso != VIRTIO_NET_HDR_GSO_NONE && !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        DBAD( VQF_CL_NET_38, D, h, gso, flags, "net tx GSO packet without NEEDS_CSUM");
        return;
    }
    if (gso != VIRTIO_NET_HDR_GSO_NONE && vqf_le16(hdr + NET_HDR_GSO_SIZE) == 0) {
        DBAD(VQF_CL_NET_39, D, h, gso, 0, "net tx GSO packet with gso_size 0");
        return;
    }
    uint64_t mtu;
    uint64_t plen = stream_len(q, h, 0);
    if (gso == VIRTIO_NET_HDR_GSO_NONE && or_feat(f, VIRTIO_NET_F_MTU) && net_mtu(o, &mtu) &&
        plen > VIRTIO_NET_HDR_SIZE && plen - VIRTIO_NET_HDR_SIZE > mtu + NET_LINK_HDR)
        /* 5.1.4.2: no non-GSO packet larger than mtu + link header */
        DBAD(VQF_CL_NET_23, D, h, plen - VIRTIO_NET_HDR_SIZE, mtu, "net tx packet larger than the mtu (bytes, mtu)");
}

static void net_rx_header(struct vqf_oracle *o, struct oq *q, uint16_t h, uint32_t len)
{
    const unsigned V = VQF_SIDE_DEVICE;
    uint64_t f = o->features;
    uint8_t hdr[VIRTIO_NET_HDR_SIZE];
    if (len < sizeof(hdr) || q->ch[h].written < sizeof(hdr) || !stream_read(o, q, h, 1, 0, hdr, sizeof(hdr)))
        return;
    uint8_t flags = hdr[NET_HDR_FLAGS], gso = hdr[NET_HDR_GSO_TYPE] & (uint8_t)~NET_GSO_ECN;
    uint16_t nb = vqf_le16(hdr + VIRTIO_NET_HDR_NUM_BUFFERS);
    if (!or_feat(f, VIRTIO_NET_F_MRG_RXBUF) && nb != 1) {
        /* 5.1.9.4.1: without MRG_RXBUF num_buffers is 1 */
        vqf_or_bad(o, q, VQF_CL_NET_52, V, h, nb, 0, "net rx num_buffers not 1 without MRG_RXBUF");
        return;
    }
    if (!or_feat(f, VIRTIO_NET_F_GUEST_CSUM) && flags != 0) {
        vqf_or_bad(o, q, VQF_CL_NET_56, V, h, flags, 0, "net rx header flags set without GUEST_CSUM");
        return;
    }
    bool any_gso = or_feat(f, VIRTIO_NET_F_GUEST_TSO4) || or_feat(f, VIRTIO_NET_F_GUEST_TSO6) ||
                   or_feat(f, VIRTIO_NET_F_GUEST_UFO) || or_feat(f, 54) || or_feat(f, 55); /* GUEST_USO4/6 */
    if (!any_gso && gso != VIRTIO_NET_HDR_GSO_NONE) {
        vqf_or_bad(o, q, VQF_CL_NET_62, V, h, gso, 0, "net rx GSO without any guest GSO feature");
        return;
    }
    if (gso == VIRTIO_NET_HDR_GSO_UDP_L4 && !or_feat(f, 54) && !or_feat(f, 55)) {
        vqf_or_bad(o, q, VQF_CL_NET_61, V, h, gso, 0, "net rx gso_type UDP_L4 without GUEST_USO4/6");
        return;
    }
    if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !or_feat(f, VIRTIO_NET_F_GUEST_TSO4)) ||
        (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !or_feat(f, VIRTIO_NET_F_GUEST_TSO6)) ||
        (gso == VIRTIO_NET_HDR_GSO_UDP && !or_feat(f, VIRTIO_NET_F_GUEST_UFO))) {
        enum vqf_clause_id c = gso == VIRTIO_NET_HDR_GSO_TCPV4   ? VQF_CL_NET_58
                               : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VQF_CL_NET_60
                                                                 : VQF_CL_NET_59;
        vqf_or_bad(o, q, c, V, h, gso, 0, "net rx gso_type without its guest feature");
        return;
    }
    if (gso != VIRTIO_NET_HDR_GSO_NONE && !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        vqf_or_bad(o, q, VQF_CL_NET_63, V, h, gso, flags, "net rx GSO packet without NEEDS_CSUM");
        return;
    }
    if (gso != VIRTIO_NET_HDR_GSO_NONE && vqf_le16(hdr + NET_HDR_GSO_SIZE) == 0) {
        vqf_or_bad(o, q, VQF_CL_NET_64, V, h, gso, 0, "net rx GSO packet with gso_size 0");
        return;
    }
    if ((flags & VIRTIO_NET_HDR_F_RSC_INFO) && !or_feat(f, 61 /* RSC_EXT */)) {
        vqf_or_bad(o, q, VQF_CL_NET_65, V, h, flags, 0, "net rx RSC_INFO without RSC_EXT");
        return;
    }
    uint64_t mtu;
    if (gso == VIRTIO_NET_HDR_GSO_NONE && or_feat(f, VIRTIO_NET_F_MTU) && net_mtu(o, &mtu) &&
        len - VIRTIO_NET_HDR_SIZE > mtu + NET_LINK_HDR)
        /* 5.1.4.1: no received non-GSO packet beyond mtu + link header */
        vqf_or_bad(o, q, VQF_CL_NET_05, V, h, len - VIRTIO_NET_HDR_SIZE, mtu, "net rx packet larger than the mtu");
}

/* Mergeable rx (5.1.9.4.1): the first buffer's num_buffers counts the used entries of the
 * packet, all published together, all but the last filled. Split rings only. */
static void net_rx_merge(struct vqf_oracle *o, struct oq *q, uint16_t h, uint32_t len)
{
    const unsigned V = VQF_SIDE_DEVICE;
    if (q->net_desync)
        return;
    if (q->net_left == 0) {
        uint8_t nbuf[2];
        if (len < VIRTIO_NET_HDR_SIZE || q->ch[h].written < VIRTIO_NET_HDR_SIZE ||
            !stream_read(o, q, h, 1, VIRTIO_NET_HDR_NUM_BUFFERS, nbuf, 2))
            return;
        uint16_t nb = vqf_le16(nbuf);
        if (nb == 0) {
            vqf_or_bad(o, q, VQF_CL_NET_50, V, h, nb, 0, "net rx num_buffers 0");
            q->net_desync = true; /* packet boundaries are lost: stop following them */
            return;
        }
        if (nb > q->nout) {
            /* 5.1.9.4.1: num_buffers counts the buffers the packet spans: never more than the
             * buffers outstanding (this one included) */
            vqf_or_bad(o, q, VQF_CL_NET_53, V, h, nb, q->nout, "net rx num_buffers beyond the outstanding buffers (head, num_buffers, outstanding)");
            q->net_desync = true;
            return;
        }
        q->net_left = nb;
    }
    q->net_left--;
    if (q->net_left > 0 && len != q->ch[h].wcap)
        /* all but the last buffer of a packet are filled completely */
        vqf_or_bad(o, q, VQF_CL_NET_54, V, h, len, q->ch[h].wcap, "net rx merged buffer not full (head, len, size)");
}

/* 2.8.9 (D-13): a packed mergeable rx packet's first buffer is marked used only after the
 * rest. Its used descriptor is taken when its flags land at the next used slot: the others'
 * marks must already sit ahead of it (q->upend counts the marks written ahead). Without
 * IN_ORDER only: one used descriptor may stand for a batch there. */
static void net_rx_packed_order(struct vqf_oracle *o, struct oq *q, uint16_t h, uint32_t len)
{
    if (q->net_desync)
        return;
    if (q->net_left) {
        q->net_left--;
        return;
    }
    uint8_t nbuf[2];
    if (len < VIRTIO_NET_HDR_SIZE || q->ch[h].written < VIRTIO_NET_HDR_SIZE ||
        !stream_read(o, q, h, 1, VIRTIO_NET_HDR_NUM_BUFFERS, nbuf, 2))
        return;
    uint16_t nb = vqf_le16(nbuf);
    if (nb == 0 || nb > q->nout) {
        q->net_desync = true; /* no packet boundaries to follow */
        return;
    }
    if (q->upend < nb - 1u) {
        vqf_or_bad(o, q, VQF_CL_D_13, VQF_SIDE_DEVICE, h, nb, q->upend,
                   "packed rx packet's first buffer marked used before the rest (head, num_buffers, marks ahead)");
        q->net_desync = true;
        return;
    }
    q->net_left = (uint16_t)(nb - 1u);
}

/* ---- hooks ---- */

void vqf_or_dev_publish(struct vqf_oracle *o, struct oq *q, unsigned qi, uint16_t h)
{
    q->ch[h].pub_seq = ++o->pub_seq;
    if (q->ch[h].untracked)
        return;
    switch (o->setup.device_id) {
    case VIRTIO_ID_BLOCK:
        blk_publish(o, q, h);
        break;
    case VIRTIO_ID_NET:
        net_publish(o, q, qi, h);
        break;
    case VIRTIO_ID_RNG:
        if (qi == 0 && has_r(q, h))
            /* 5.4.6.1: only device-writable buffers on the request queue */
            DBAD(VQF_CL_RNG_01, VQF_SIDE_DRIVER, h, stream_len(q, h, 0), 0,
                       "rng request with a device-readable buffer");
        break;
    case VIRTIO_ID_CONSOLE:
        if (qi == 3 && or_feat(o->features, VIRTIO_CONSOLE_F_MULTIPORT)) {
            uint8_t m[VIRTIO_CONSOLE_CTRL_SIZE];
            if (stream_len(q, h, 0) != VIRTIO_CONSOLE_CTRL_SIZE || has_w(q, h)) {
                /* D-17 (5.3.6.2): a control message is one 8-byte le32 id, le16 event, le16 value */
                DBAD(VQF_CL_D_17, VQF_SIDE_DRIVER, h, stream_len(q, h, 0), 0, "console control message not 8 bytes");
                break;
            }
            if (stream_read(o, q, h, 0, 0, m, sizeof(m))) {
                uint32_t id = vqf_le32(m);
                uint16_t ev = vqf_le16(m + 4), val = vqf_le16(m + 6);
                if (ev == VIRTIO_CONSOLE_DEVICE_READY)
                    o->cons_ready_sent = true;
                if (ev == VIRTIO_CONSOLE_PORT_OPEN && id < 64 && ((o->cons_console >> id) & 1u)) {
                    o->cons_console &= ~(1ull << id);
                    if (val != 1)
                        /* 5.3.6.2.2: the answer to CONSOLE_PORT is PORT_OPEN with value 1 */
                        DBAD(VQF_CL_CONS_10, VQF_SIDE_DRIVER, id, val, 0, "console PORT_OPEN answer to CONSOLE_PORT with value != 1");
                }
            }
            break;
        }
        /* 5.3.6.1 / D-17: even queues receive (device-writable only), odd ones transmit */
        if (!(qi & 1) && has_r(q, h))
            DBAD(VQF_CL_CONS_03, VQF_SIDE_DRIVER, qi, h, 0, "console receive buffer is device-readable");
        else if ((qi & 1) && has_w(q, h))
            DBAD(VQF_CL_CONS_04, VQF_SIDE_DRIVER, qi, h, 0, "console transmit buffer is device-writable");
        break;
    default:
        break;
    }
}

void vqf_or_dev_complete(struct vqf_oracle *o, struct oq *q, unsigned qi, uint16_t h, uint32_t len)
{
    if (q->ch[h].untracked || q->ch[h].devbad || q->taint_dev) {
        /* A chain not followed may be part of a merged rx packet, or start one: the packet
         * boundaries are lost then. A buffer returned empty between packets is not. */
        if (o->setup.device_id == VIRTIO_ID_NET && qi == 0 && (q->net_left || len))
            q->net_desync = true;
        return;
    }
    switch (o->setup.device_id) {
    case VIRTIO_ID_BLOCK:
        blk_complete(o, q, h, len);
        break;
    case VIRTIO_ID_NET:
        if (qi != 0)
            break;
        if (or_feat(o->features, VIRTIO_NET_F_MRG_RXBUF)) {
            if (!q->packed)
                net_rx_merge(o, q, h, len);
            else if (!or_feat(q->feat, VIRTIO_F_IN_ORDER))
                net_rx_packed_order(o, q, h, len);
        } else {
            net_rx_header(o, q, h, len);
        }
        break;
    case VIRTIO_ID_RNG:
        if (qi == 0 && len == 0 && has_w(q, h))
            /* 5.4.6.2: at least one random byte per returned buffer */
            vqf_or_bad(o, q, VQF_CL_RNG_03, VQF_SIDE_DEVICE, h, len, 0, "rng buffer returned with no bytes");
        break;
    case VIRTIO_ID_CONSOLE: {
        /* 5.3.6.2.1: control receiveq (queue 2) messages from the device */
        uint8_t m[VIRTIO_CONSOLE_CTRL_SIZE];
        uint64_t maxp;
        if (qi != 2 || len < sizeof(m) || q->ch[h].written < sizeof(m) || !stream_read(o, q, h, 1, 0, m, sizeof(m)))
            break;
        uint32_t id = vqf_le32(m);
        uint16_t ev = vqf_le16(m + 4);
        if (ev == VIRTIO_CONSOLE_DEVICE_ADD) {
            bool known = cfg_field(o, VIRTIO_CONSOLE_CFG_MAX_NR_PORTS, 4, &maxp);
            if ((known && id >= maxp) || (id < 64 && ((o->cons_ports >> id) & 1u)))
                vqf_or_bad(o, q, VQF_CL_CONS_05, VQF_SIDE_DEVICE, id, known ? maxp : 0, 0,
                           "console DEVICE_ADD for an existing port or one beyond max_nr_ports");
            else if (id < 64)
                o->cons_ports |= 1ull << id;
        } else if (ev == VIRTIO_CONSOLE_CONSOLE_PORT && id < 64) {
            o->cons_console |= 1ull << id;
        } else if (ev == VIRTIO_CONSOLE_DEVICE_REMOVE) {
            if (id >= 64 || !((o->cons_ports >> id) & 1u))
                vqf_or_bad(o, q, VQF_CL_CONS_06, VQF_SIDE_DEVICE, id, 0, 0, "console DEVICE_REMOVE of a port never added");
            else
                o->cons_ports &= ~(1ull << id);
        }
        break;
    }
    default:
        break;
    }
}

/* A used publication ended (split): a merged rx packet may not straddle it (NET-55). */
void vqf_or_dev_used_end(struct vqf_oracle *o, struct oq *q, unsigned qi)
{
    if (o->setup.device_id == VIRTIO_ID_NET && qi == 0 && q->net_left && !q->net_desync && !q->taint_dev) {
        vqf_or_bad(o, q, VQF_CL_NET_55, VQF_SIDE_DEVICE, q->net_left, q->used_idx, 0,
                   "net rx merged packet published with buffers still missing (left, used idx)");
        q->net_left = 0;
        q->net_desync = true; /* packet boundaries are lost: stop following them */
    }
}
