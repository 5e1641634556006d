/* False-positive soak of the spec oracle per ring format and feature combination: the
 * reference driver and device of every type (block, network, console, entropy) as honest
 * pairs, both sides judged, under generated well-formed workloads (harness/generate.c), for
 * each of the 16 combinations of split/packed x INDIRECT_DESC x EVENT_IDX x IN_ORDER. The
 * generator's header is overridden so that the three features are offered and accepted
 * exactly as the combination says (the builders use indirect tables whenever INDIRECT_DESC is
 * negotiated); everything else (queue size, other optional features, workload, schedule) stays
 * random. Any verdict other than PASS is a finding against reference code: the expected number
 * is zero (issue 4, "positive soak").
 *
 * Usage: oracle_soak [--per N] [--seed S] [--json FILE] [--out DIR]
 *   --per N    workloads per combination, spread over the four device types (default 100000)
 *   --seed S   first generator seed (default 1); combination c uses seeds S + c*N ...
 *   --json F   write the per-combination figures as JSON to F
 *   --out DIR  save every failing program as DIR/<combination>-<target>-<seed>.bin
 *              (replay: vqfuzz run <target> FILE does not apply, the pairs of console and
 *              entropy are not built-in targets; the seed and combination reproduce it here)
 * Exit status: 0 zero findings, 1 findings, 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emulator/devices/devices.h"
#include "emulator/driver/drivers.h"
#include "harness/exec.h"
#include "harness/generate.h"
#include "vqfuzz/virtio.h"

#define BOTH ((1u << VQF_SIDE_DRIVER) | (1u << VQF_SIDE_DEVICE))
#define NCOMBO 16u
#define NPAIR 4u
#define SHOW_MAX 5u /* findings printed per combination */

/* The honest pairs: the built-in blk_pair and net_pair, and the same for console and entropy. */
static const struct vqf_target pairs[NPAIR] = {
    {"blk_pair", "honest block pair", VIRTIO_ID_BLOCK, VQF_LIAR_NONE, VQF_ROLE_WORK, BOTH, 0, &vqf_blk_device,
     &vqf_blk_driver},
    {"net_pair", "honest network pair", VIRTIO_ID_NET, VQF_LIAR_NONE, VQF_ROLE_WORK, BOTH, 0, &vqf_net_device,
     &vqf_net_driver},
    {"console_pair", "honest console pair", VIRTIO_ID_CONSOLE, VQF_LIAR_NONE, VQF_ROLE_WORK, BOTH, 0,
     &vqf_console_device, &vqf_console_driver},
    {"rng_pair", "honest entropy pair", VIRTIO_ID_RNG, VQF_LIAR_NONE, VQF_ROLE_WORK, BOTH, 0, &vqf_rng_device,
     &vqf_rng_driver},
};

struct tally {
    uint64_t programs, pass, reject, fail, wedged, other, ring_ops;
    double seconds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void combo_name(unsigned c, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s%s", (c & 1) ? "packed" : "split", (c & 2) ? "+indirect" : "",
             (c & 4) ? "+event_idx" : "", (c & 8) ? "+in_order" : "");
}

/* Force the combination over a generated header. */
static void apply_combo(struct vqf_program *p, unsigned c)
{
    struct vqf_prog_header *h = &p->h;
    static const uint8_t bits[3] = {VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER};
    for (unsigned k = 0; k < 3; k++) {
        uint64_t b = VQF_BIT(bits[k]);
        if (c & (2u << k)) {
            h->features_offered |= b;
            h->features_accepted |= b;
        } else {
            h->features_offered &= ~b;
            h->features_accepted &= ~b;
        }
    }
    h->features_offered |= VQF_BIT(VIRTIO_F_RING_PACKED);
    if (c & 1)
        h->features_accepted |= VQF_BIT(VIRTIO_F_RING_PACKED);
    h->format_flags = (uint8_t)((h->format_flags & ~(VQF_PF_PACKED | VQF_PF_INDIRECT)) | ((c & 1) ? VQF_PF_PACKED : 0) |
                                ((c & 2) ? VQF_PF_INDIRECT : 0));
    h->liar = VQF_LIAR_NONE;
}

int main(int argc, char **argv)
{
    uint64_t per = 100000, seed0 = 1;
    const char *json = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--per") && i + 1 < argc)
            per = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed0 = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--json") && i + 1 < argc)
            json = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "usage: oracle_soak [--per N] [--seed S] [--json FILE] [--out DIR]\n");
            return 2;
        }
    }
    if (per == 0) {
        fprintf(stderr, "oracle_soak: --per must be positive\n");
        return 2;
    }
    struct vqf_exec *x[NPAIR];
    uint64_t mask[NPAIR];
    for (unsigned t = 0; t < NPAIR; t++) {
        x[t] = vqf_exec_new(&pairs[t]);
        if (!x[t]) {
            fprintf(stderr, "oracle_soak: cannot create the executor for %s\n", pairs[t].name);
            return 2;
        }
        mask[t] = vqf_target_op_mask(&pairs[t]);
    }
    static struct vqf_program prog;
    static uint8_t enc[1 << 16];
    struct tally tl[NCOMBO];
    memset(tl, 0, sizeof(tl));
    uint64_t total_findings = 0;
    printf("oracle_soak: %llu workloads per combination over %u pairs, first seed %llu\n", (unsigned long long)per,
           NPAIR, (unsigned long long)seed0);
    printf("%-34s %10s %10s %8s %8s %8s %10s\n", "combination", "programs", "pass", "fail", "wedged", "other",
           "prog/s");
    for (unsigned c = 0; c < NCOMBO; c++) {
        char name[64];
        combo_name(c, name, sizeof(name));
        struct tally *k = &tl[c];
        unsigned shown = 0;
        double t0 = now_s();
        for (uint64_t i = 0; i < per; i++) {
            unsigned t = (unsigned)(i % NPAIR);
            uint64_t seed = seed0 + c * per + i;
            vqf_prog_generate_masked(&prog, seed, pairs[t].roles, pairs[t].device_id, mask[t]);
            apply_combo(&prog, c);
            struct vqf_result r;
            vqf_exec_run_program(x[t], &prog, &r);
            k->programs++;
            k->ring_ops += r.ring_ops;
            if (r.verdict == VQF_PASS) {
                k->pass++;
                continue;
            }
            if (r.verdict == VQF_REJECT)
                k->reject++; /* no liar: a refusal of honest input counts as a finding too */
            else if (r.verdict == VQF_FAIL)
                k->fail++;
            else if (r.verdict == VQF_WEDGED)
                k->wedged++;
            else
                k->other++;
            if (shown++ < SHOW_MAX) {
                printf("  finding: %s %s seed %llu verdict %d %s: %s\n", name, pairs[t].name, (unsigned long long)seed,
                       (int)r.verdict, r.clause ? vqf_clause_get(r.clause)->id : "-", r.detail);
                if (out) {
                    char path[1024];
                    snprintf(path, sizeof(path), "%s/%s-%s-%llu.bin", out, name, pairs[t].name,
                             (unsigned long long)seed);
                    size_t len = vqf_prog_encode(&prog, enc, sizeof(enc));
                    FILE *f = fopen(path, "wb");
                    if (f) {
                        fwrite(enc, 1, len, f);
                        fclose(f);
                    }
                }
            }
        }
        k->seconds = now_s() - t0;
        uint64_t findings = k->programs - k->pass;
        total_findings += findings;
        printf("%-34s %10llu %10llu %8llu %8llu %8llu %10.0f\n", name, (unsigned long long)k->programs,
               (unsigned long long)k->pass, (unsigned long long)k->fail, (unsigned long long)k->wedged,
               (unsigned long long)(k->other + k->reject), k->seconds > 0 ? k->programs / k->seconds : 0.0);
        fflush(stdout);
    }
    printf("total: %llu programs, %llu findings\n", (unsigned long long)(per * NCOMBO),
           (unsigned long long)total_findings);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "oracle_soak: cannot write %s\n", json);
        } else {
            fprintf(f, "{\"per_combination\": %llu, \"first_seed\": %llu, \"pairs\": [", (unsigned long long)per,
                    (unsigned long long)seed0);
            for (unsigned t = 0; t < NPAIR; t++)
                fprintf(f, "%s\"%s\"", t ? ", " : "", pairs[t].name);
            fprintf(f, "], \"combinations\": [");
            for (unsigned c = 0; c < NCOMBO; c++) {
                char name[64];
                combo_name(c, name, sizeof(name));
                const struct tally *k = &tl[c];
                fprintf(f,
                        "%s\n {\"combination\": \"%s\", \"packed\": %d, \"indirect_desc\": %d, \"event_idx\": %d, "
                        "\"in_order\": %d, \"programs\": %llu, \"pass\": %llu, \"reject\": %llu, \"fail\": %llu, "
                        "\"wedged\": %llu, \"other\": %llu, \"findings\": %llu, \"seconds\": %.3f, \"ring_ops\": %llu}",
                        c ? "," : "", name, (c & 1) != 0, (c & 2) != 0, (c & 4) != 0, (c & 8) != 0,
                        (unsigned long long)k->programs, (unsigned long long)k->pass, (unsigned long long)k->reject,
                        (unsigned long long)k->fail, (unsigned long long)k->wedged, (unsigned long long)k->other,
                        (unsigned long long)(k->programs - k->pass), k->seconds, (unsigned long long)k->ring_ops);
            }
            fprintf(f, "\n], \"findings\": %llu}\n", (unsigned long long)total_findings);
            fclose(f);
        }
    }
    for (unsigned t = 0; t < NPAIR; t++)
        vqf_exec_free(x[t]);
    return total_findings ? 1 : 0;
}
