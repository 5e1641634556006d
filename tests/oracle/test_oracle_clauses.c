/* Negative tests of the spec oracle (emulator/oracle), one scenario per implemented clause.
 *
 *   test_oracle_clauses ID      run clause ID's scenario twice: with the fault the oracle must
 *                               report exactly that clause first (and nothing else); without the
 *                               fault it must report nothing
 *   test_oracle_clauses --table the clause table: complete, unique, and implemented == has a scenario
 *   test_oracle_clauses --trace the flight recorder: bounded tail, whole-input hash
 *   test_oracle_clauses --clean every scenario's fault-free twin reports nothing
 *
 * Scenarios drive the oracle directly, with guest memory (emulator/mem.h) and the oracle only:
 * driver register accesses through vqf_oracle_mmio(), ring memory written with vqf_dma_write
 * under each side's DMA handle (so the observer sees who wrote), ring events through
 * vqf_mem_event(), device steps bracketed, and vqf_oracle_idle() at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/mem.h"
#include "emulator/oracle/oracle.h"
#include "emulator/oracle/trace.h"
#include "tests/check.h"
#include "vqfuzz/virtio.h"

#define JDRV (1u << VQF_SIDE_DRIVER)
#define JDEV (1u << VQF_SIDE_DEVICE)
#define JBOTH (JDRV | JDEV)

#define QNUM_MAX 256u
/* Guest layout of a scenario (main region starts at 0x10000). */
#define G_DESC 0x20000ull
#define G_AVAIL 0x21000ull
#define G_USED 0x22000ull
#define G_BUF 0x30000ull  /* buffers: G_BUF + 0x1000 * n */
#define G_IND 0x40000ull  /* indirect tables */

struct world {
    struct vqf_mem mem;
    struct vqf_oracle *o;
    struct vqf_dma drv, dev;
    uint16_t qsz;
    uint64_t feat;     /* accepted */
    uint16_t avail_idx, used_idx;
    uint16_t popped; /* device: avail entries consumed */
};

static struct vqf_mem g_mem;
static struct vqf_oracle *g_oracle;

/* ---- the scenario DSL ---- */

static void w_begin(struct world *w, unsigned judged, uint32_t device_id)
{
    memset(w, 0, sizeof(*w));
    vqf_mem_reset(&g_mem);
    w->o = g_oracle;
    g_mem.obs = vqf_oracle_observer(g_oracle);
    struct vqf_oracle_setup s = {judged, device_id, &g_mem};
    vqf_oracle_begin(g_oracle, &s);
    w->drv = vqf_mem_dma(&g_mem, VQF_SIDE_DRIVER);
    w->dev = vqf_mem_dma(&g_mem, VQF_SIDE_DEVICE);
    w->qsz = 8;
}

static void wr(struct world *w, uint32_t off, uint32_t val) { vqf_oracle_mmio(w->o, true, off, 4, val); }
static void rd(struct world *w, uint32_t off, uint32_t val) { vqf_oracle_mmio(w->o, false, off, 4, val); }

/* Chapter-3 initialisation up to a confirmed FEATURES_OK (3.1.1 steps 1-6). */
static void w_negotiate_ex(struct world *w, uint64_t offered, uint64_t accepted, bool confirm)
{
    w->feat = accepted;
    wr(w, VIRTIO_MMIO_STATUS, 0);
    rd(w, VIRTIO_MMIO_STATUS, 0);
    wr(w, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(w, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(w, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    rd(w, VIRTIO_MMIO_DEVICE_FEATURES, (uint32_t)offered);
    wr(w, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    rd(w, VIRTIO_MMIO_DEVICE_FEATURES, (uint32_t)(offered >> 32));
    wr(w, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(w, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)accepted);
    wr(w, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(w, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accepted >> 32));
    wr(w, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    if (confirm)
        rd(w, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}
static void w_negotiate(struct world *w, uint64_t feat) { w_negotiate_ex(w, feat, feat, true); }

/* Queue registers (4.2.2) at the given addresses, rings zeroed by the driver first. */
static void w_program_queue(struct world *w, uint16_t qi, uint32_t num, uint64_t desc, uint64_t avail, uint64_t used)
{
    static const uint8_t zero[0x1000];
    if (num <= QNUM_MAX && !(w->feat & VQF_BIT(VIRTIO_F_RING_PACKED))) {
        vqf_dma_write(&w->drv, desc, zero, VIRTQ_DESC_TABLE_BYTES(num));
        vqf_dma_write(&w->drv, avail, zero, VIRTQ_AVAIL_BYTES(num));
        vqf_dma_write(&w->drv, used, zero, VIRTQ_USED_BYTES(num));
    } else if (num <= QNUM_MAX) {
        /* packed (2.8.13, D-08): the ring and both event areas start zeroed */
        vqf_dma_write(&w->drv, desc, zero, 16u * num);
        vqf_dma_write(&w->drv, avail, zero, 4);
        vqf_dma_write(&w->drv, used, zero, 4);
    }
    wr(w, VIRTIO_MMIO_QUEUE_SEL, qi);
    rd(w, VIRTIO_MMIO_QUEUE_NUM_MAX, QNUM_MAX);
    wr(w, VIRTIO_MMIO_QUEUE_NUM, num);
    wr(w, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(w, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr(w, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    wr(w, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    wr(w, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    wr(w, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
}
static void w_queue(struct world *w, uint16_t qsz)
{
    w->qsz = qsz;
    w_program_queue(w, 0, qsz, G_DESC, G_AVAIL, G_USED);
    wr(w, VIRTIO_MMIO_QUEUE_READY, 1);
}
static void w_driver_ok(struct world *w)
{
    wr(w, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                                  VIRTIO_STATUS_DRIVER_OK);
}
/* A device type without device-specific rules: ring scenarios stay generic. */
#define VQF_TEST_DEVICE_ID 0x7f
/* Negotiated, one split queue of qsz entries, DRIVER_OK. */
static void w_setup(struct world *w, unsigned judged, uint64_t feat, uint16_t qsz)
{
    w_begin(w, judged, VQF_TEST_DEVICE_ID);
    w_negotiate(w, feat | VQF_BIT(VIRTIO_F_VERSION_1));
    w_queue(w, qsz);
    w_driver_ok(w);
}

/* Driver ring writes (2.7.5, 2.7.6). */
static void d_desc_at(struct world *w, uint64_t table, uint16_t slot, uint64_t addr, uint32_t len, uint16_t flags,
                      uint16_t next)
{
    uint8_t d[16];
    vqf_put_le64(d, addr);
    vqf_put_le32(d + 8, len);
    vqf_put_le16(d + 12, flags);
    vqf_put_le16(d + 14, next);
    vqf_dma_write(&w->drv, table + 16u * slot, d, 16);
}
static void d_desc(struct world *w, uint16_t slot, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    d_desc_at(w, G_DESC, slot, addr, len, flags, next);
}
static void d_avail(struct world *w, uint16_t head)
{
    vqf_dma_write16(&w->drv, G_AVAIL + VIRTQ_AVAIL_RING(w->avail_idx % w->qsz), head);
    w->avail_idx++;
}
static void d_publish(struct world *w) { vqf_dma_write16(&w->drv, G_AVAIL + VIRTQ_AVAIL_IDX, w->avail_idx); }
static void d_publish_idx(struct world *w, uint16_t idx) { vqf_dma_write16(&w->drv, G_AVAIL + VIRTQ_AVAIL_IDX, idx); }
/* The kick decision without EVENT_IDX: read used->flags after publishing (2.7.10.1). */
static void d_read_used_flags(struct world *w)
{
    uint16_t f;
    vqf_dma_read16(&w->drv, G_USED + VIRTQ_USED_FLAGS, &f);
}
static void d_kick(struct world *w, uint16_t qi) { wr(w, VIRTIO_MMIO_QUEUE_NOTIFY, qi); }
/* A readable 16-byte header and a writable 64-byte buffer, head 0 (slots 0, 1). */
static void d_request(struct world *w, uint16_t head)
{
    d_desc(w, head, G_BUF + 0x1000u * head, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1));
    d_desc(w, (uint16_t)(head + 1), G_BUF + 0x1000u * head + 0x100, 64, VIRTQ_DESC_F_WRITE, 0);
    d_avail(w, head);
}
static void d_submit(struct world *w, uint16_t head)
{
    d_request(w, head);
    d_publish(w);
    d_read_used_flags(w);
    d_kick(w, 0);
}

/* Device side (2.7.8): a step bracket, buffer writes, used entries, notification. */
static void v_begin(struct world *w) { vqf_oracle_device_step(w->o, true); }
static void v_end(struct world *w) { vqf_oracle_device_step(w->o, false); }
/* Pop the next chain the way a device does: idx first, the entry and its descriptor only
 * if one was published (2.7.13). */
static void v_pop(struct world *w)
{
    uint16_t idx, head;
    vqf_dma_read16(&w->dev, G_AVAIL + VIRTQ_AVAIL_IDX, &idx);
    if (idx == w->popped)
        return;
    vqf_dma_read16(&w->dev, G_AVAIL + VIRTQ_AVAIL_RING(w->popped % w->qsz), &head);
    w->popped++;
    uint8_t d[16];
    vqf_dma_read(&w->dev, G_DESC + 16u * (head % w->qsz), d, 16);
}
static void v_write(struct world *w, uint64_t gpa, uint32_t len)
{
    static const uint8_t junk[0x1000] = {0x5a};
    vqf_dma_write(&w->dev, gpa, junk, len);
}
static void v_used(struct world *w, uint32_t id, uint32_t len)
{
    uint8_t e[8];
    vqf_put_le32(e, id);
    vqf_put_le32(e + 4, len);
    vqf_dma_write(&w->dev, G_USED + VIRTQ_USED_RING(w->used_idx % w->qsz), e, 8);
    w->used_idx++;
}
static void v_publish(struct world *w) { vqf_dma_write16(&w->dev, G_USED + VIRTQ_USED_IDX, w->used_idx); }
static void v_read_avail_flags(struct world *w)
{
    uint16_t f;
    vqf_dma_read16(&w->dev, G_AVAIL + VIRTQ_AVAIL_FLAGS, &f);
}
static void v_irq(struct world *w, uint32_t bits) { vqf_mem_event(&g_mem, VQF_SIDE_DEVICE, VQF_EV_DEV_IRQ, bits, 0, 0); }
/* Complete the request at head (d_request) with n bytes written, publish, notify. */
static void v_complete(struct world *w, uint16_t head, uint32_t n)
{
    v_begin(w);
    v_pop(w);
    v_write(w, G_BUF + 0x1000u * head + 0x100, n);
    v_used(w, head, n);
    v_publish(w);
    v_read_avail_flags(w);
    v_irq(w, VIRTIO_MMIO_INT_VRING);
    v_end(w);
}
static void idle(struct world *w) { vqf_oracle_idle(w->o); }

/* Device-type worlds: queues below target_q are set up at other addresses, queue target_q
 * at G_DESC / G_AVAIL / G_USED, where the d_* and v_* helpers work. */
static void w_setup_dev(struct world *w, unsigned judged, uint32_t device_id, uint64_t feat, uint16_t target_q)
{
    w_begin(w, judged, device_id);
    /* a block device always offers FLUSH (5.2.5.2, BLK-05); the driver accepts only feat */
    uint64_t offered = feat | (device_id == VIRTIO_ID_BLOCK ? VQF_BIT(VIRTIO_BLK_F_FLUSH) : 0);
    w_negotiate_ex(w, offered | VQF_BIT(VIRTIO_F_VERSION_1), feat | VQF_BIT(VIRTIO_F_VERSION_1), true);
    for (uint16_t i = 0; i < target_q; i++) {
        uint64_t alt = 0x80000ull + 0x4000ull * i;
        w_program_queue(w, i, 8, alt, alt + 0x1000, alt + 0x2000);
        wr(w, VIRTIO_MMIO_QUEUE_READY, 1);
    }
    w->qsz = 8;
    w_program_queue(w, target_q, 8, G_DESC, G_AVAIL, G_USED);
    wr(w, VIRTIO_MMIO_QUEUE_READY, 1);
    w_driver_ok(w);
}
/* One device-writable buffer of len bytes at head (rx, rng). */
static void d_wbuf(struct world *w, uint16_t head, uint32_t len)
{
    d_desc(w, head, G_BUF + 0x1000u * head, len, VIRTQ_DESC_F_WRITE, 0);
    d_avail(w, head);
}
/* One device-readable buffer with the given bytes at head (tx). */
static void d_rbuf(struct world *w, uint16_t head, const void *data, uint32_t len)
{
    vqf_dma_write(&w->drv, G_BUF + 0x1000u * head, data, len);
    d_desc(w, head, G_BUF + 0x1000u * head, len, 0, 0);
    d_avail(w, head);
}
/* The device writes bytes into head's buffer and a used entry for it (not yet published). */
static void v_fill(struct world *w, uint16_t head, const void *data, uint32_t n, uint32_t len)
{
    if (n)
        vqf_dma_write(&w->dev, G_BUF + 0x1000u * head, data, n);
    v_used(w, head, len);
}
static void v_done(struct world *w)
{
    v_publish(w);
    v_read_avail_flags(w);
    v_irq(w, VIRTIO_MMIO_INT_VRING);
}

/* A blk request (5.2.6, D-15): header, optional data (readable rdata or writable wdata
 * bytes), status byte; slots head.. */
static void blk_req(struct world *w, uint16_t head, uint32_t type, uint64_t sector, const void *rdata, uint32_t rlen,
                    uint32_t wlen)
{
    uint64_t base = G_BUF + 0x1000u * head;
    uint8_t hdr[16] = {0};
    vqf_put_le32(hdr, type);
    vqf_put_le64(hdr + 8, sector);
    vqf_dma_write(&w->drv, base, hdr, 16);
    uint16_t s = head;
    d_desc(w, s, base, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(s + 1));
    s++;
    if (rlen) {
        vqf_dma_write(&w->drv, base + 0x100, rdata, rlen);
        d_desc(w, s, base + 0x100, rlen, VIRTQ_DESC_F_NEXT, (uint16_t)(s + 1));
        s++;
    }
    if (wlen) {
        d_desc(w, s, base + 0x100, wlen, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)(s + 1));
        s++;
    }
    d_desc(w, s, base + 0xf00, 1, VIRTQ_DESC_F_WRITE, 0);
    d_avail(w, head);
    d_publish(w);
    d_read_used_flags(w);
    d_kick(w, 0);
}
/* The device completes it: data written (wlen bytes), then the status byte. */
static void blk_done(struct world *w, uint16_t head, uint32_t wlen, uint8_t status)
{
    uint64_t base = G_BUF + 0x1000u * head;
    v_begin(w);
    if (wlen)
        v_write(w, base + 0x100, wlen);
    vqf_dma_write(&w->dev, base + 0xf00, &status, 1);
    v_used(w, head, wlen + 1);
    v_done(w);
    v_end(w);
}
/* Read a config field inside a generation bracket (2.5.1). */
static void cfg_read(struct world *w, uint32_t off, unsigned size, uint32_t val)
{
    rd(w, VIRTIO_MMIO_CONFIG_GENERATION, 1);
    vqf_oracle_mmio(w->o, false, VIRTIO_MMIO_CONFIG + off, size, val);
    rd(w, VIRTIO_MMIO_CONFIG_GENERATION, 1);
}

/* ---- packed ring (2.8): both wrap counters start at 1 ---- */
static bool p_dwrap, p_vwrap;
static void p_setup(struct world *w, unsigned judged, uint64_t feat, uint16_t qsz)
{
    w_begin(w, judged, VQF_TEST_DEVICE_ID);
    w_negotiate(w, feat | VQF_BIT(VIRTIO_F_VERSION_1) | VQF_BIT(VIRTIO_F_RING_PACKED));
    w_queue(w, qsz);
    w_driver_ok(w);
    p_dwrap = p_vwrap = true;
}
/* addr, len, id of a descriptor (2.8.13), then its flags separately: the flags write is
 * what publishes it. */
static void pd_fields(struct world *w, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id)
{
    uint8_t d[14];
    vqf_put_le64(d, addr);
    vqf_put_le32(d + 8, len);
    vqf_put_le16(d + 12, id);
    vqf_dma_write(&w->drv, G_DESC + 16u * slot, d, 14);
}
static uint16_t pav(bool wrap) { return (uint16_t)(wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED); }
static void pd_flags(struct world *w, uint16_t slot, uint16_t flags)
{
    vqf_dma_write16(&w->drv, G_DESC + 16u * slot + VIRTQ_PDESC_FLAGS, flags);
}
/* Make one descriptor available at slot with the driver's wrap counter. */
static void pd_add(struct world *w, uint16_t slot, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
    pd_fields(w, slot, addr, len, id);
    pd_flags(w, slot, (uint16_t)(flags | pav(p_dwrap)));
}
/* A readable header then a writable buffer: tail first, head flags last (2.8.17). */
static void pd_request(struct world *w, uint16_t slot, uint16_t id)
{
    pd_fields(w, slot, G_BUF + 0x1000u * id, 16, 0);
    pd_add(w, (uint16_t)(slot + 1), G_BUF + 0x1000u * id + 0x100, 64, id, VIRTQ_DESC_F_WRITE);
    pd_flags(w, slot, (uint16_t)(VIRTQ_DESC_F_NEXT | pav(p_dwrap)));
}
/* The device's used descriptor: id and len, then flags AVAIL = USED = its wrap counter. */
static void pv_used(struct world *w, uint16_t slot, uint16_t id, uint32_t len, uint16_t flags)
{
    uint8_t d[6];
    vqf_put_le32(d, len);
    vqf_put_le16(d + 4, id);
    vqf_dma_write(&w->dev, G_DESC + 16u * slot + VIRTQ_PDESC_LEN, d, 6);
    uint16_t uf = p_vwrap ? (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0;
    vqf_dma_write16(&w->dev, G_DESC + 16u * slot + VIRTQ_PDESC_FLAGS, (uint16_t)(flags | uf));
}

#include "tests/oracle/scenarios.inc"

/* ---- runner ---- */

static int run_clause(const char *id)
{
    enum vqf_clause_id c = vqf_clause_find(id);
    if (c == VQF_CLAUSE_NONE || !find_scenario(c)) {
        fprintf(stderr, "no scenario for %s\n", id);
        return 1;
    }
    for (unsigned k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
        const struct scenario *s = &scenarios[k];
        if (s->clause != c)
            continue;
        struct world w;
        s->fn(&w, true);
        unsigned n = vqf_oracle_nfindings(g_oracle);
        CHECK(n >= 1);
        for (unsigned i = 0; i < n; i++) {
            const struct vqf_finding *f = vqf_oracle_finding(g_oracle, i);
            if (f->clause != c)
                fprintf(stderr, "%s: unexpected finding %s: %s\n", id, vqf_clause_get(f->clause)->id, f->detail);
            CHECK_EQ(f->clause, c);
        }
        if (n)
            printf("%s (fault): %s\n", id, vqf_oracle_finding(g_oracle, 0)->detail);
        s->fn(&w, false);
        n = vqf_oracle_nfindings(g_oracle);
        for (unsigned i = 0; i < n; i++)
            fprintf(stderr, "%s (no fault): unexpected finding %s: %s\n", id,
                    vqf_clause_get(vqf_oracle_finding(g_oracle, i)->clause)->id,
                    vqf_oracle_finding(g_oracle, i)->detail);
        CHECK_EQ(n, 0);
    }
    return check_report(id);
}

static int run_clean(void)
{
    struct world w;
    for (unsigned i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        scenarios[i].fn(&w, false);
        unsigned n = vqf_oracle_nfindings(g_oracle);
        if (n)
            fprintf(stderr, "%s fault-free twin: %s\n", vqf_clause_get(scenarios[i].clause)->id,
                    vqf_oracle_finding(g_oracle, 0)->detail);
        CHECK_EQ(n, 0);
    }
    return check_report("oracle_clean");
}

static int run_table(void)
{
    unsigned impl = 0;
    for (unsigned i = 1; i < VQF_CLAUSE_COUNT; i++) {
        const struct vqf_clause *cl = vqf_clause_get((enum vqf_clause_id)i);
        /* IDs are unique and round-trip, case-insensitively */
        CHECK_EQ(vqf_clause_find(cl->id), i);
        char lower[32];
        size_t k = 0;
        for (; cl->id[k] && k + 1 < sizeof(lower); k++)
            lower[k] = (char)(cl->id[k] >= 'A' && cl->id[k] <= 'Z' ? cl->id[k] + 32 : cl->id[k]);
        lower[k] = 0;
        CHECK_EQ(vqf_clause_find(lower), i);
        CHECK(cl->section[0] != 0 && cl->meaning[0] != 0);
        /* MAY rows are permissions: never checked as violations */
        if (cl->strength == VQF_CL_MAY)
            CHECK(cl->chk == VQF_CHK_NA && !cl->implemented);
        /* implemented <=> a negative scenario exists */
        bool has = find_scenario((enum vqf_clause_id)i) != NULL;
        if (has != cl->implemented)
            fprintf(stderr, "%s: implemented=%d but scenario=%d\n", cl->id, cl->implemented, has);
        CHECK_EQ(has, cl->implemented);
        impl += cl->implemented;
    }
    /* the catalog: 345 itemised rows + 8 group rows + D-01..D-20 */
    CHECK_EQ(VQF_CLAUSE_COUNT - 1, 373);
    CHECK(vqf_clause_find("SPLIT-DSC-05") != VQF_CLAUSE_NONE);
    CHECK_EQ(vqf_clause_find("split-dsc-05"), VQF_CL_SPLIT_DSC_05);
    CHECK_EQ(vqf_clause_find("NOPE-01"), VQF_CLAUSE_NONE);
    CHECK(strcmp(vqf_clause_get(VQF_CL_D_05)->section, "2.7.5, 2.7.5.3") == 0);
    CHECK_EQ(vqf_clause_get(VQF_CL_D_05)->strength, VQF_CL_INVARIANT);
    printf("implemented clauses: %u\n", impl);
    return check_report("oracle_table");
}

static int run_trace(void)
{
    /* The recorder keeps the last VQF_TRACE_CAP events and hashes all of them. */
    static struct vqf_trace t1, t2;
    vqf_trace_reset(&t1);
    vqf_trace_reset(&t2);
    for (unsigned i = 0; i < 3 * VQF_TRACE_CAP + 5; i++) {
        vqf_trace_record_access(&t1, i & 1, VQF_ACC_WRITE, 0x1000 + i, 4);
        vqf_trace_record_access(&t2, i & 1, VQF_ACC_WRITE, 0x1000 + i, 4);
    }
    CHECK_EQ(vqf_trace_count(&t1), 3 * VQF_TRACE_CAP + 5);
    CHECK(vqf_trace_hash(&t1) == vqf_trace_hash(&t2));
    CHECK(vqf_trace_at(&t1, 0) == NULL);
    const struct vqf_trace_entry *e = vqf_trace_at(&t1, 3 * VQF_TRACE_CAP + 4);
    CHECK(e && e->gpa == 0x1000 + 3 * VQF_TRACE_CAP + 4);
    /* an early difference (long gone from the tail) still changes the fingerprint */
    vqf_trace_reset(&t2);
    vqf_trace_record_access(&t2, 0, VQF_ACC_READ, 0x1000, 4);
    for (unsigned i = 1; i < 3 * VQF_TRACE_CAP + 5; i++)
        vqf_trace_record_access(&t2, i & 1, VQF_ACC_WRITE, 0x1000 + i, 4);
    CHECK(vqf_trace_hash(&t1) != vqf_trace_hash(&t2));
    /* the oracle records through its observer; same input, same hash */
    struct world w;
    uint64_t h[2];
    for (int r = 0; r < 2; r++) {
        w_setup(&w, JBOTH, 0, 8);
        d_submit(&w, 0);
        v_complete(&w, 0, 64);
        idle(&w);
        h[r] = vqf_trace_hash(vqf_oracle_trace(g_oracle));
        CHECK(vqf_trace_count(vqf_oracle_trace(g_oracle)) > 20);
    }
    CHECK(h[0] == h[1]);
    FILE *out = tmpfile();
    if (out) {
        vqf_trace_print_tail(vqf_oracle_trace(g_oracle), out, 5);
        long pos = ftell(out);
        CHECK(pos > 0);
        rewind(out);
        unsigned lines = 0;
        int ch;
        while ((ch = fgetc(out)) != EOF)
            lines += ch == '\n';
        CHECK_EQ(lines, 5);
        fclose(out);
    }
    return check_report("oracle_trace");
}

int main(int argc, char **argv)
{
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1 << 20);
    if (vqf_mem_init(&g_mem, &l) != 0 || !(g_oracle = vqf_oracle_new())) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    int rc;
    if (argc < 2 || strcmp(argv[1], "--clean") == 0)
        rc = run_clean();
    else if (strcmp(argv[1], "--table") == 0)
        rc = run_table();
    else if (strcmp(argv[1], "--trace") == 0)
        rc = run_trace();
    else
        rc = run_clause(argv[1]);
    vqf_oracle_free(g_oracle);
    vqf_mem_destroy(&g_mem);
    return rc;
}
