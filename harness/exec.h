/* The executor: runs one program against one target in a fresh world (guest memory, the side
 * under test, the fuzzer's side, the oracle and the flight recorder) and returns a verdict.
 * One executor is created per process and reused for every input: nothing is allocated per op
 * and guest memory is reset in O(bytes touched). */
#ifndef VQF_EXEC_H
#define VQF_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emulator/oracle/clauses.h"
#include "harness/program.h"
#include "vqfuzz/adapter.h"
#include "vqfuzz/verdict.h"

/* target.flags */
#define VQF_T_MMIO        1u  /* raw register accesses only (the mmio target) */
#define VQF_T_NEGOTIATION 2u  /* status / feature / reset sequences */
#define VQF_T_CONFIG      4u  /* config space and generation */
#define VQF_T_FORMATS     8u  /* run the workload over split and packed, compare results */

struct vqf_target {
    const char *name;          /* stable: CI, OSS-Fuzz, corpus folders and reports use it */
    const char *summary;       /* one line for `vqfuzz list` */
    uint32_t device_id;
    enum vqf_liar liar;        /* which side the fuzzer plays (forced over the header) */
    unsigned roles;            /* VQF_ROLE_* op roles enabled */
    unsigned judged_sides;     /* bits (1 << VQF_SIDE_*) the oracle judges */
    unsigned flags;            /* VQF_T_* */
    const struct vqf_device_adapter *device; /* the device (under test, or the honest peer) */
    const struct vqf_driver_adapter *driver; /* the driver (under test, or NULL when the fuzzer drives) */
};

unsigned vqf_target_count(void);
const struct vqf_target *vqf_target_at(unsigned i);
const struct vqf_target *vqf_target_find(const char *name);

struct vqf_result {
    enum vqf_verdict verdict;
    enum vqf_clause_id clause;  /* FAIL: the clause; else VQF_CLAUSE_NONE */
    unsigned side;              /* FAIL: enum vqf_side that broke it */
    uint64_t trace_hash;        /* 64-bit hash of the whole flight-recorder trace */
    uint32_t ops_run;
    uint64_t ring_ops;          /* chains added + popped + pushed + reclaimed (for ops/s) */
    char detail[256];           /* one line: clause meaning and offending values, or why WEDGED */
};

struct vqf_exec;
struct vqf_exec *vqf_exec_new(const struct vqf_target *t);
void vqf_exec_free(struct vqf_exec *x);
/* Decode and run. Never fails on any input (decoding is total). */
void vqf_exec_run(struct vqf_exec *x, const uint8_t *data, size_t len, struct vqf_result *res);
void vqf_exec_run_program(struct vqf_exec *x, const struct vqf_program *p, struct vqf_result *res);
/* After a FAIL/WEDGED: the full human-readable report (clause ID, section, side, meaning,
 * offending values, the last ring events of the flight recorder). */
void vqf_exec_report(const struct vqf_exec *x, const struct vqf_result *res, FILE *out);

/* The fuzz entry shared by every target file: run and abort() on FAIL / WEDGED so that the
 * engine saves the input (after printing the report to stderr). */
int vqf_fuzz_one(const char *target_name, const uint8_t *data, size_t len);

/* Which op kinds the target runs (bit = enum vqf_op_kind), a subset of its roles: ops of the
 * roles that the target does not use are skipped. */
uint64_t vqf_target_op_mask(const struct vqf_target *t);
/* Ring events of the last run, by kind (enum vqf_event) and side (enum vqf_side, or
 * VQF_EXEC_ANY_SIDE): what the run reached (reach tests, coverage of the seeds). */
#define VQF_EXEC_ANY_SIDE 3u
uint32_t vqf_exec_event_count(const struct vqf_exec *x, unsigned side, unsigned ev);
/* The result of the last vqf_fuzz_one() in this process (NULL before the first): the replay
 * driver prints its verdict. */
const struct vqf_result *vqf_fuzz_last_result(void);

/* Added: vqf_fuzz_one() for a given descriptor instead of a name of the built-in table (user
 * devices and drivers plugged in with cmake/VqfuzzAdapters.cmake). Same behaviour: one
 * executor per process, FAIL / WEDGED print the report and abort(). */
int vqf_fuzz_target(const struct vqf_target *t, const uint8_t *data, size_t len);
/* The result of the last vqf_fuzz_target() in this process (NULL before the first). */
const struct vqf_result *vqf_fuzz_target_last_result(void);

#endif
