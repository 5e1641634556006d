/* The formats target's second comparison: each format once more with no observer, where the
 * ring code takes its inline fast paths (emulator/ring/split.h, packed.h), against the observed
 * pass that ran the general bodies; the guest memory after the drain must hold the same bytes.
 *   - vqf_mem_digest sees the bytes, not how they got there: the order of the writes and a
 *     chunk written back to zeroes do not change it, one byte does;
 *   - the built-in formats target over entropy (one-buffer requests, the fast shape) passes,
 *     and its report shows equal digests for both formats;
 *   - a device that writes one more byte when nobody observes it (what a fast path that
 *     diverges from its general body does) fails the input, naming the format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "emulator/mem.h"
#include "harness/exec.h"
#include "prog_build.h"
#include "vqfuzz/virtio.h"

static struct vqf_program prog;

/* ---- a device that behaves differently unobserved ---- */

static struct vqf_mem *divergent_mem;

static void *divergent_create(const struct vqf_device_platform *plat, const struct vqf_device_params *params)
{
    divergent_mem = plat->dma.mem;
    return vqf_rng_device.create(plat, params);
}

static int divergent_poll(void *dev, unsigned budget)
{
    int work = vqf_rng_device.poll(dev, budget);
    struct vqf_mem *m = divergent_mem;
    if (work > 0 && m && !m->obs) {
        uint64_t gpa = m->r[0].gpa + m->r[0].size - 16;
        uint8_t *p = vqf_mem_xlate(m, gpa, 1);
        if (p) {
            *p = 0x5a;
            vqf_mem_mark_dirty(m, gpa, 1);
        }
    }
    return work;
}

static struct vqf_device_adapter divergent_dev;

static void rng_workload(void)
{
    pb_begin(&prog, 0, 16, VQF_LIAR_NONE, VIRTIO_ID_RNG);
    for (unsigned i = 0; i < 6; i++)
        pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 0, 16 + 8 * i, 0);
    pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
    pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
    pb_op(&prog, VQF_OP_WL_SUBMIT, 0, 0, 64, 0);
    pb_op(&prog, VQF_OP_RUN_DEVICE, 0, 0, 0, 0);
    pb_op(&prog, VQF_OP_RUN_DRIVER, 0, 1, 0, 0);
}

static char *report(struct vqf_exec *x, const struct vqf_result *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    if (!mf)
        return NULL;
    vqf_exec_report(x, r, mf);
    fclose(mf);
    return buf;
}

static void digest_properties(void)
{
    struct vqf_mem m;
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 1u << 20);
    CHECK_EQ(vqf_mem_init(&m, &l), 0);
    uint64_t base = l.r[0].gpa;
    uint64_t empty = vqf_mem_digest(&m);
    struct vqf_dma d = vqf_mem_dma(&m, VQF_SIDE_DRIVER);
    const uint8_t a[4] = {1, 2, 3, 4}, zero[4] = {0};
    CHECK_EQ(vqf_dma_write(&d, base + 0x1000, a, 4), 0);
    CHECK_EQ(vqf_dma_write(&d, base + 0x9000, a, 2), 0);
    uint64_t both = vqf_mem_digest(&m);
    CHECK(both != empty);
    vqf_mem_reset(&m);
    CHECK_EQ(vqf_mem_digest(&m), empty);
    /* the same bytes, written in the other order, with a detour through other values */
    CHECK_EQ(vqf_dma_write(&d, base + 0x9000, a, 2), 0);
    CHECK_EQ(vqf_dma_write(&d, base + 0x1000, a + 1, 3), 0);
    CHECK_EQ(vqf_dma_write(&d, base + 0x1000, a, 4), 0);
    CHECK_EQ(vqf_mem_digest(&m), both);
    /* a chunk written back to zeroes is no different from one never written */
    CHECK_EQ(vqf_dma_write(&d, base + 0x20000, a, 4), 0);
    CHECK(vqf_mem_digest(&m) != both);
    CHECK_EQ(vqf_dma_write(&d, base + 0x20000, zero, 4), 0);
    CHECK_EQ(vqf_mem_digest(&m), both);
    /* one byte, one bit */
    const uint8_t b = 3 ^ 0x10;
    CHECK_EQ(vqf_dma_write(&d, base + 0x1002, &b, 1), 0);
    CHECK(vqf_mem_digest(&m) != both);
    vqf_mem_destroy(&m);
}

int main(void)
{
    digest_properties();

    const struct vqf_target *formats = vqf_target_find("formats");
    CHECK(formats != NULL);
    if (!formats)
        return check_report("test_formats_fastpath");
    struct vqf_result r;
    rng_workload();
    struct vqf_exec *x = vqf_exec_new(formats);
    CHECK(x != NULL);
    if (x) {
        vqf_exec_run_program(x, &prog, &r);
        CHECK_EQ(r.verdict, VQF_PASS);
        char *text = report(x, &r);
        CHECK(text && strstr(text, "observed / unobserved (fast paths)") != NULL);
        /* "split A / A, packed B / B" */
        unsigned long long s0 = 0, s1 = 1, p0 = 2, p1 = 3;
        const char *line = text ? strstr(text, "(fast paths): ") : NULL;
        CHECK(line && sscanf(line, "(fast paths): split %llx / %llx, packed %llx / %llx", &s0, &s1, &p0, &p1) == 4);
        CHECK(s0 == s1 && p0 == p1);
        CHECK(s0 != p0); /* the formats lay out their rings differently: the digests see it */
        free(text);
        vqf_exec_free(x);
    }

    divergent_dev = vqf_rng_device;
    divergent_dev.create = divergent_create;
    divergent_dev.poll = divergent_poll;
    struct vqf_target diverging = *formats;
    diverging.name = "t_formats_divergent";
    diverging.device_id = VIRTIO_ID_RNG;
    diverging.device = &divergent_dev;
    diverging.driver = &vqf_rng_driver;
    rng_workload();
    x = vqf_exec_new(&diverging);
    CHECK(x != NULL);
    if (x) {
        vqf_exec_run_program(x, &prog, &r);
        CHECK_EQ(r.verdict, VQF_FAIL);
        CHECK(strstr(r.detail, "fast paths differ: split") != NULL);
        vqf_exec_free(x);
    }
    return check_report("test_formats_fastpath");
}
