/* The minimizer on a known FAIL: a target whose oracle judges the lying device as well as the
 * driver (built here, not in the target table), so that a generated program with the device's
 * violation knobs breaks a device clause of the spec (e.g. 2.7.8 used ring rules). The minimizer
 * must keep the verdict AND the clause, never grow the program, and its output must reproduce
 * from the bytes it returns (decode pads the trimmed tail, program.h). */
#include <string.h>

#include "harness/exec.h"
#include "harness/generate.h"
#include "harness/minimize.h"
#include "tests/check.h"
#include "vqfuzz/virtio.h"

static struct vqf_program prog, out, back;

/* Split ring only (2.7): the minimizer only clears flag and feature bits, so it stays split. */
static void force_split(struct vqf_program *p)
{
    p->h.format_flags &= (uint8_t)~VQF_PF_PACKED;
    p->h.features_offered &= ~(1ull << 34); /* VIRTIO_F_RING_PACKED, 6 */
    p->h.features_accepted &= ~(1ull << 34);
}
static uint8_t bin[VQF_PROG_MAX_SIZE];

int main(void)
{
    const struct vqf_target *base = vqf_target_find("rng_driver");
    CHECK(base != NULL);
    if (!base)
        return check_report("test_minimize");
    struct vqf_target t = *base;
    t.name = "rng_driver_judge_both";
    t.judged_sides = (1u << VQF_SIDE_DRIVER) | (1u << VQF_SIDE_DEVICE); /* the liar is judged too */
    struct vqf_exec *x = vqf_exec_new(&t);
    CHECK(x != NULL);

    /* Deterministic search (fixed seeds) for a program that FAILs. */
    struct vqf_result r;
    int found = 0;
    for (uint64_t seed = 1; seed < 2000 && !found; seed++) {
        vqf_prog_generate_masked(&prog, seed, t.roles, t.device_id, vqf_target_op_mask(&t));
        force_split(&prog);
        vqf_exec_run_program(x, &prog, &r);
        found = r.verdict == VQF_FAIL && prog.nops > 1;
    }
    CHECK(found);
    if (!found)
        return check_report("test_minimize");

    struct vqf_min_stats st;
    size_t n = 0;
    CHECK_EQ(vqf_minimize(x, &prog, 0, &out, bin, &n, &st), 0);
    CHECK_EQ(st.result.verdict, VQF_FAIL);
    CHECK_EQ(st.result.clause, r.clause);
    CHECK(st.ops_after <= st.ops_before);
    CHECK(out.nops <= prog.nops);
    CHECK(st.bytes_after <= st.bytes_before);
    CHECK(n == st.bytes_after);
    printf("clause %s: ops %u -> %u, bytes %zu -> %zu, %llu runs\n", vqf_clause_get(r.clause)->id, st.ops_before,
           st.ops_after, st.bytes_before, st.bytes_after, (unsigned long long)st.runs);

    /* The returned bytes reproduce on their own, in a fresh executor. */
    struct vqf_exec *y = vqf_exec_new(&t);
    vqf_exec_run(y, bin, n, &r);
    CHECK_EQ(r.verdict, VQF_FAIL);
    CHECK_EQ(r.clause, st.result.clause);
    vqf_prog_decode(&back, bin, n);
    CHECK_EQ(back.nops, out.nops);

    /* Minimizing the minimized program again changes nothing: it is a fixed point. */
    struct vqf_min_stats st2;
    size_t n2 = 0;
    static uint8_t bin2[VQF_PROG_MAX_SIZE];
    CHECK_EQ(vqf_minimize(y, &out, 0, &back, bin2, &n2, &st2), 0);
    CHECK(n2 <= n);
    CHECK_EQ(st2.result.clause, st.result.clause);

    /* A passing program is refused: there is no finding to keep. */
    vqf_prog_generate_masked(&prog, 1, t.roles, t.device_id, vqf_target_op_mask(&t));
    memset(&prog.ops, 0, sizeof prog.ops);
    prog.nops = 0;
    vqf_exec_run_program(y, &prog, &r);
    if (r.verdict == VQF_PASS || r.verdict == VQF_REJECT)
        CHECK_EQ(vqf_minimize(y, &prog, 0, &out, bin, &n, &st), -1);

    vqf_exec_free(x);
    vqf_exec_free(y);
    return check_report("test_minimize");
}
