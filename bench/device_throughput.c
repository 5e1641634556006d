/* Device throughput over the full stack: reference driver submit -> virtio-mmio kick -> device
 * poll (pop, parse, DMA, push, notify) -> interrupt -> driver reclaim and verify, in one
 * thread, for each device type and ring format. Prints workload units per second (a blk unit is
 * a 4 KiB write and its read-back: two requests, the read checked byte for byte).
 *
 * Usage: device_throughput [--json] [--ops N] [--case NAME]
 * Meant for a release build. The rate is per CPU second of this thread (the figure for one core,
 * steady on a busy machine); wall-clock seconds are reported next to it. Timing is not part of
 * the deterministic path, so this is not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "emulator/pair.h"
#include "vqfuzz/virtio.h"

#define MEM_SIZE (4u << 20)
#define BATCH 16u /* units submitted before the device runs */

struct bench_case {
    const char *name;
    const char *what; /* one unit of work, for the report */
    const struct vqf_device_adapter *dev;
    const struct vqf_driver_adapter *drv;
    struct vqf_workload_op op; /* template; arg0 is spread by `stride` over `spread` values */
    uint32_t stride, spread;
    unsigned requests; /* virtio requests per unit */
};

/* Other device types add a line here. */
static const struct bench_case cases[] = {
    /* 8 sectors at 0, 8, ..., 56 of the 64-sector disk: eight disjoint ranges, so that units do
     * not wait for each other's sector locks. */
    {"blk", "4 KiB write + read-back", &vqf_blk_device, &vqf_blk_driver, {0, 0, 0, 8, 0}, 8, 8, 2},
    {"rng", "64-byte entropy request", &vqf_rng_device, &vqf_rng_driver, {0, 0, 64, 0, 0}, 0, 1, 1},
    /* Frames of 64, 364, ..., 1264 bytes through the loopback: tx chain, then rx buffer. */
    {"net", "frame sent + looped back", &vqf_net_device, &vqf_net_driver, {0, 0, 64, 0, 0}, 300, 5, 2},
    /* Writes of 16, 80, ..., 464 bytes echoed on port 0. */
    {"console", "write + echo verified", &vqf_console_device, &vqf_console_driver, {0, 0, 16, 0, 0}, 64, 8, 2},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct result {
    uint64_t units;
    double seconds; /* thread CPU time */
    double wall;
    unsigned data_errors;
    int failed;
};

static double now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One device poll and the interrupt it raised. Returns the units completed. */
static unsigned step(struct vqf_pair *p)
{
    p->dev_ad->poll(p->dev, 64);
    if (!p->irq_line)
        return 0;
    p->irq_line = false;
    int done = p->drv_ad->interrupt(p->drv);
    return done > 0 ? (unsigned)done : 0;
}

static struct result run_case(const struct bench_case *c, int packed, uint64_t units)
{
    struct result res = {0, 0, 0, 0, 0};
    struct vqf_pair p;
    struct vqf_device_params dp = {{0, 0}, 0, 0, 1, 0};
    /* The device offers everything; the driver takes the ring format asked for. */
    struct vqf_driver_params rp = {{packed ? 0 : ~VQF_BIT(VIRTIO_F_RING_PACKED), 0}, 0, 0, 2, 0};
    if (vqf_pair_init(&p, MEM_SIZE, c->dev, &dp, c->drv, &rp) != 0 || c->drv->probe(p.drv) != 0) {
        res.failed = 1;
        return res;
    }
    struct vqf_workload_op op = c->op;
    uint64_t submitted = 0, done = 0;
    unsigned stall = 0;
    double t0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
    while (done < units) {
        for (unsigned i = 0; i < BATCH && submitted < units; i++) {
            op.arg0 = c->op.arg0 + c->stride * (uint32_t)(submitted % c->spread);
            op.seed = submitted;
            int rc = c->drv->submit(p.drv, &op);
            if (rc < 0) {
                res.failed = 1;
                goto out;
            }
            if (rc == 1)
                break;
            submitted++;
        }
        unsigned n = step(&p);
        done += n;
        stall = n ? 0 : stall + 1;
        if (stall > 1000) {
            res.failed = 1;
            break;
        }
    }
out:
    res.seconds = now(CLOCK_THREAD_CPUTIME_ID) - t0;
    res.wall = now(CLOCK_MONOTONIC) - w0;
    res.units = done;
    res.data_errors = c->drv->data_errors(p.drv);
    vqf_pair_destroy(&p);
    return res;
}

int main(int argc, char **argv)
{
    int json = 0;
    uint64_t units = 2000000;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            units = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--case") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--json] [--ops N] [--case NAME]\n", argv[0]);
            return 2;
        }
    }
    int bad = 0, first = 1;
    if (json)
        printf("{\"bench\": \"device_throughput\", \"results\": [");
    for (unsigned i = 0; i < NCASES; i++) {
        if (only && strcmp(only, cases[i].name))
            continue;
        for (int packed = 0; packed < 2; packed++) {
            struct result r = run_case(&cases[i], packed, units);
            double ups = r.seconds > 0 ? (double)r.units / r.seconds : 0;
            bad |= r.failed || r.data_errors;
            const char *fmt = packed ? "packed" : "split";
            if (json)
                printf("%s\n  {\"device\": \"%s\", \"format\": \"%s\", \"unit\": \"%s\", \"units\": %llu, "
                       "\"requests_per_unit\": %u, \"cpu_seconds\": %.4f, \"wall_seconds\": %.4f, \"units_per_sec\": %.0f, "
                       "\"requests_per_sec\": %.0f, \"data_errors\": %u, \"failed\": %s}",
                       first ? "" : ",", cases[i].name, fmt, cases[i].what, (unsigned long long)r.units,
                       cases[i].requests, r.seconds, r.wall, ups, ups * cases[i].requests, r.data_errors,
                       r.failed ? "true" : "false");
            else
                printf("%-8s %-7s %-26s %12.0f units/s %12.0f requests/s  (%llu units, %.3f s cpu, %.3f s wall, %u data errors%s)\n",
                       cases[i].name, fmt, cases[i].what, ups, ups * cases[i].requests,
                       (unsigned long long)r.units, r.seconds, r.wall, r.data_errors, r.failed ? ", FAILED" : "");
            first = 0;
        }
    }
    if (json)
        printf("\n]}\n");
    return bad ? 1 : 0;
}
