/* Driver half of the packed ring facing a lying device (spec 2.8): every validation path of
 * vqf_packed_drv_init / add / get_used, one test each, with the clause it enforces, plus the
 * write order of add (PACK-SG-06, PACK-PUB-01). The device is played by raw used-descriptor
 * writes through vqf_dma_write. */
#include "tests/packed/fixture.h"

/* A lying device writes a used descriptor: id, len, then flags (2.8.4, 2.8.13). */
static void lie_used(struct fx *f, uint16_t slot, uint16_t id, uint32_t len, uint16_t flags)
{
    uint64_t g = f->cfg.desc + (uint64_t)slot * 16u;
    CHECK_EQ(vqf_dma_write32(&f->vdma, g + VIRTQ_PDESC_LEN, len), 0);
    CHECK_EQ(vqf_dma_write16(&f->vdma, g + VIRTQ_PDESC_ID, id), 0);
    CHECK_EQ(vqf_dma_write16(&f->vdma, g + VIRTQ_PDESC_FLAGS, flags), 0);
}

/* Add one buffer: `nout` readable segments of 16 bytes, then `nin` writable ones of 100. */
static int add_buf(struct fx *f, unsigned nout, unsigned nin, uint32_t token)
{
    struct vqf_seg sg[8];
    for (unsigned i = 0; i < nout + nin; i++) {
        sg[i].addr = f->buf + 256u * i;
        sg[i].len = i < nout ? 16 : 100;
        sg[i].write = i >= nout;
    }
    return vqf_packed_drv_add(&f->drv, sg, nout, nin, token, 0);
}

static void check_broken(struct fx *f)
{
    uint32_t tok, len;
    CHECK(f->drv.broken);
    CHECK_EQ(vqf_packed_drv_get_used(&f->drv, &tok, &len), -VQF_ERR_NOT_READY);
    CHECK_EQ(add_buf(f, 1, 0, 0), -VQF_ERR_NOT_READY);
    CHECK(!vqf_packed_drv_has_used(&f->drv));
    CHECK(!vqf_packed_drv_kick_prepare(&f->drv));
}

/* 2.8 / D-01 sizes, PACK-LAY-01 alignment, RSVD-05 parts in guest memory; init zeroes the
 * descriptor ring and both areas (2.8.13: the ring starts zeroed, D-08). */
static void test_init(void)
{
    struct fx f;
    fx_mem(&f, 8, 0, 1 << 20, 4096);
    struct vqf_ring_cfg cfg = f.cfg;
    cfg.size = 0;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_INVAL);
    cfg.size = 40000;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_INVAL);
    cfg = f.cfg;
    cfg.desc += 4;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_INVAL);
    cfg = f.cfg;
    cfg.device += 2;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_INVAL);
    cfg = f.cfg;
    cfg.desc = FX_HOLE;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_ADDR);
    cfg = f.cfg;
    cfg.driver = FX_HOLE;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_ADDR);
    cfg = f.cfg;
    cfg.features |= VQF_BIT(VIRTIO_F_INDIRECT_DESC); /* the pool matters only then */
    cfg.ind_pool = FX_HOLE;
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &cfg), -VQF_ERR_ADDR);
    CHECK_EQ(add_buf(&f, 1, 0, 0), -VQF_ERR_NOT_READY);

    /* stale contents are wiped */
    for (uint16_t s = 0; s < 8; s++)
        fx_raw(&f, s, 0x1234, 99, 3, 0xffff);
    fx_event_write(&f, f.cfg.driver, 0xffff, 0xffff);
    fx_event_write(&f, f.cfg.device, 0xffff, 0xffff);
    CHECK_EQ(vqf_packed_drv_init(&f.drv, &f.ddma, &f.cfg), 0);
    const uint8_t *ring = vqf_mem_xlate(&f.mem, f.cfg.desc, 8 * 16);
    unsigned nonzero = 0;
    for (unsigned i = 0; i < 8 * 16; i++)
        nonzero += ring[i] != 0;
    CHECK_EQ(nonzero, 0);
    CHECK_EQ(fx_event_read(&f, f.cfg.driver, VIRTQ_PEVENT_FLAGS), 0);
    CHECK_EQ(fx_event_read(&f, f.cfg.device, VIRTQ_PEVENT_DESC), 0);
    CHECK_EQ(vqf_packed_drv_num_free(&f.drv), 8);
    CHECK(f.drv.avail_wrap && f.drv.used_wrap);
    fx_fini(&f);
}

/* Caller errors of add: empty buffer, a list longer than the queue (PACK-SG-02), and a list
 * that does not fit in the free slots (PACK-SG-05: space is checked before the head is
 * exposed, and nothing is written). */
static void test_add_errors(void)
{
    struct fx f;
    fx_init(&f, 4, 0);
    CHECK_EQ(add_buf(&f, 0, 0, 0), -VQF_ERR_INVAL);
    struct vqf_seg one = {f.buf, 8, 0};
    CHECK_EQ(vqf_packed_drv_add(&f.drv, &one, UINT32_MAX, 2, 0, 0), -VQF_ERR_INVAL); /* count wraps */
    CHECK_EQ(vqf_packed_drv_add(&f.drv, NULL, 1, 0, 0, 0), -VQF_ERR_INVAL);
    CHECK_EQ(add_buf(&f, 3, 2, 0), -VQF_ERR_INVAL);
    CHECK_EQ(add_buf(&f, 2, 1, 0), 0);
    CHECK_EQ(vqf_packed_drv_num_free(&f.drv), 1);
    CHECK_EQ(fx_flags(&f, 3), 0);
    CHECK_EQ(add_buf(&f, 1, 1, 0), -VQF_ERR_NOSPACE);
    CHECK_EQ(fx_flags(&f, 3), 0); /* nothing exposed */
    CHECK_EQ(add_buf(&f, 1, 0, 0), 1);
    CHECK_EQ(add_buf(&f, 1, 0, 0), -VQF_ERR_NOSPACE);
    CHECK(!f.drv.broken);
    fx_fini(&f);
}

/* PACK-SG-06 / PACK-PUB-01 / 2.8.21.1: the list is written tail first; the head flags are
 * the last write, after a write barrier; the Buffer ID is in the last descriptor (D-10);
 * every element carries AVAIL/USED for its own lap, across the ring wrap (2.8.1). */
static void test_add_write_order(void)
{
    struct fx f;
    fx_init(&f, 3, 0);
    static struct rec r;
    struct vqf_observer obs = {rec_access, rec_event, rec_barrier, &r};
    CHECK_EQ(add_buf(&f, 1, 0, 7), 0); /* slot 0 */
    uint32_t tok, len;
    lie_used(&f, 0, 0, 0, fx_used(true));
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    r.n = 0;
    f.mem.obs = &obs;
    CHECK_EQ(add_buf(&f, 1, 2, 9), 1); /* slots 1, 2 (lap 0), 0 (lap 1) */
    f.mem.obs = NULL;
    uint64_t head_flags = f.cfg.desc + 1 * 16 + VIRTQ_PDESC_FLAGS;
    int head = rec_last_write(&r, head_flags);
    CHECK(head >= 0);
    for (uint16_t s = 0; s < 3; s++) {
        int body = rec_find_write(&r, 0, f.cfg.desc + s * 16u);
        CHECK(body >= 0 && body < head);
        if (s != 1) {
            int fl = rec_find_write(&r, 0, f.cfg.desc + s * 16u + VIRTQ_PDESC_FLAGS);
            CHECK(fl >= 0 && fl < head);
        }
    }
    CHECK(rec_barrier_between(&r, head - 2, head, VQF_BARRIER_WMB));
    CHECK_EQ(rec_count_event(&r, VQF_EV_DRV_ADD), 1);
    CHECK_EQ(fx_flags(&f, 1), VIRTQ_DESC_F_NEXT | fx_avail(true));
    CHECK_EQ(fx_flags(&f, 2), VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE | fx_avail(true));
    CHECK_EQ(fx_flags(&f, 0), VIRTQ_DESC_F_WRITE | fx_avail(false));
    CHECK_EQ(fx_id(&f, 0), 1);
    CHECK(fx_id(&f, 1) >= 3 && fx_id(&f, 2) >= 3); /* no valid id outside the last one */
    CHECK_EQ(f.drv.next_avail, 1);
    CHECK(!f.drv.avail_wrap);
    fx_fini(&f);
}

/* D-03: a used id beyond the queue size. */
static void test_used_id_range(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(add_buf(&f, 1, 1, 1), 0);
    lie_used(&f, 0, 8, 0, fx_used(true));
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_ID);
    check_broken(&f);
    fx_fini(&f);
}

/* D-03: a used id that was never made available. */
static void test_used_id_forged(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(add_buf(&f, 1, 1, 1), 0);
    lie_used(&f, 0, 5, 0, fx_used(true));
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_ID);
    check_broken(&f);
    fx_fini(&f);
}

/* D-03: each availability is used once - a duplicate completion is refused. */
static void test_used_id_twice(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(add_buf(&f, 1, 0, 10), 0);
    CHECK_EQ(add_buf(&f, 1, 0, 11), 1);
    lie_used(&f, 0, 0, 0, fx_used(true));
    uint32_t tok = 0, len = 1;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 10);
    CHECK_EQ(len, 0);
    lie_used(&f, 1, 0, 0, fx_used(true));
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_ID);
    check_broken(&f);
    fx_fini(&f);
}

/* D-04: with WRITE in the used descriptor, len is at most the writable capacity. */
static void test_used_len(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(add_buf(&f, 1, 2, 1), 0); /* 200 writable bytes */
    lie_used(&f, 0, 0, 201, fx_used(true) | VIRTQ_DESC_F_WRITE);
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_LEN);
    check_broken(&f);
    fx_fini(&f);

    fx_init(&f, 8, 0);
    CHECK_EQ(add_buf(&f, 1, 2, 1), 0);
    lie_used(&f, 0, 0, 200, fx_used(true) | VIRTQ_DESC_F_WRITE);
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(len, 200);
    fx_fini(&f);
}

/* 2.8.4 / D-04: without WRITE in the used descriptor, len is reserved and ignored - even a
 * huge one on a read-only buffer is reported as 0, not as an error. */
static void test_used_len_reserved(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    CHECK_EQ(add_buf(&f, 2, 0, 4), 0);
    lie_used(&f, 0, 0, 0xffffffffu, fx_used(true));
    uint32_t tok = 0, len = 1;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 4);
    CHECK_EQ(len, 0);
    CHECK(!f.drv.broken);
    fx_fini(&f);
}

/* D-08: with buffers in flight the next used slot holds either our available descriptor of
 * the current lap or a used one of that lap; AVAIL/USED of another lap is a device bug. */
static void test_used_flags(void)
{
    static const uint16_t bad[] = {VIRTQ_DESC_F_USED, 0};
    for (unsigned i = 0; i < 2; i++) {
        struct fx f;
        fx_init(&f, 8, 0);
        CHECK_EQ(add_buf(&f, 1, 0, 1), 0);
        lie_used(&f, 0, 0, 0, bad[i]);
        uint32_t tok, len;
        CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_FLAGS);
        check_broken(&f);
        fx_fini(&f);
    }
}

/* D-02: a used descriptor while nothing is outstanding runs ahead of what was made
 * available. Old-lap leftovers (2.8.1) are not mistaken for it. */
static void test_used_idx(void)
{
    struct fx f;
    fx_init(&f, 2, 0);
    uint32_t tok, len;
    fx_raw_flags(&f, 0, VIRTQ_DESC_F_USED); /* a skipped slot from "lap 0" looks like this */
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 0);
    CHECK(!f.drv.broken);
    lie_used(&f, 0, 0, 0, fx_used(true));
    CHECK(!vqf_packed_drv_has_used(&f.drv));
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_IDX);
    check_broken(&f);
    fx_fini(&f);
}

/* RSVD-18 / D-07: with IN_ORDER a used id names the last buffer of a batch; an id that was
 * already returned would go back in availability order. */
static void test_used_order(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    CHECK_EQ(add_buf(&f, 1, 1, 100), 0);
    CHECK_EQ(add_buf(&f, 1, 1, 101), 1);
    CHECK_EQ(add_buf(&f, 1, 1, 102), 2);
    lie_used(&f, 0, 1, 50, fx_used(true) | VIRTQ_DESC_F_WRITE); /* batch of ids 0, 1 */
    uint32_t tok = 0, len = 0;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 100);
    CHECK_EQ(len, 100); /* skipped: used completely (2.8.8) */
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), 1);
    CHECK_EQ(tok, 101);
    CHECK_EQ(len, 50);
    CHECK_EQ(f.drv.last_used, 4);
    lie_used(&f, 4, 0, 0, fx_used(true)); /* id 0 again, before id 2 */
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_ORDER);
    check_broken(&f);
    fx_fini(&f);
}

/* D-04 for IN_ORDER: the batch's last len is checked before any buffer of it is returned. */
static void test_used_len_batch(void)
{
    struct fx f;
    fx_init(&f, 8, VQF_BIT(VIRTIO_F_IN_ORDER));
    CHECK_EQ(add_buf(&f, 1, 1, 100), 0);
    CHECK_EQ(add_buf(&f, 1, 1, 101), 1);
    lie_used(&f, 0, 1, 101, fx_used(true) | VIRTQ_DESC_F_WRITE);
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_LEN);
    CHECK_EQ(f.drv.outstanding, 2);
    fx_fini(&f);
}

/* D-04 again, with the lying device writing through a raw host pointer (vqf_dma_map) the way
 * a black-box device would: the driver judges only what is in memory. */
static void test_used_len_host_pointer(void)
{
    struct fx f;
    fx_init(&f, 3, 0);
    CHECK_EQ(add_buf(&f, 0, 1, 1), 0); /* 100 writable bytes */
    uint8_t *d = vqf_dma_map(&f.vdma, f.cfg.desc, 16, 1);
    CHECK(d != NULL);
    if (d) {
        vqf_put_le32(d + VIRTQ_PDESC_LEN, 4096);
        vqf_put_le16(d + VIRTQ_PDESC_ID, 0);
        vqf_put_le16(d + VIRTQ_PDESC_FLAGS, fx_used(true) | VIRTQ_DESC_F_WRITE);
    }
    CHECK(vqf_packed_drv_has_used(&f.drv));
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_LEN);
    check_broken(&f);
    fx_fini(&f);
}

/* Events for the flight recorder: DRV_ERROR names the error. */
static void test_error_event(void)
{
    struct fx f;
    fx_init(&f, 8, 0);
    static struct rec r;
    struct vqf_observer obs = {rec_access, rec_event, rec_barrier, &r};
    f.cfg.index = 3;
    f.drv.cfg.index = 3;
    CHECK_EQ(add_buf(&f, 1, 0, 1), 0);
    lie_used(&f, 0, 9, 0, fx_used(true));
    r.n = 0;
    f.mem.obs = &obs;
    uint32_t tok, len;
    CHECK_EQ(vqf_packed_drv_get_used(&f.drv, &tok, &len), -VQF_ERR_USED_ID);
    f.mem.obs = NULL;
    CHECK_EQ(rec_count_event(&r, VQF_EV_DRV_ERROR), 1);
    for (unsigned i = 0; i < r.n; i++)
        if (r.it[i].what == 2 && r.it[i].kind == VQF_EV_DRV_ERROR) {
            CHECK_EQ(r.it[i].a, 3);
            CHECK_EQ(r.it[i].b, VQF_ERR_USED_ID);
        }
    fx_fini(&f);
}

int main(void)
{
    test_init();
    test_add_errors();
    test_add_write_order();
    test_used_id_range();
    test_used_id_forged();
    test_used_id_twice();
    test_used_len();
    test_used_len_reserved();
    test_used_flags();
    test_used_idx();
    test_used_order();
    test_used_len_batch();
    test_used_len_host_pointer();
    test_error_event();
    return check_report("test_packed_drv");
}
