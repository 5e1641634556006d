/* The oracle's clause table, generated from one X-macro data file (clauses.def): every
 * normative statement of ../shared/spec/clauses.md that vqfuzz knows, and the spec-derived
 * invariants D-01..D-20, each with section, side, strength, meaning and whether the oracle
 * implements a check for it. Code, reports, docs and tests all read this one table. */
#ifndef VQF_CLAUSES_H
#define VQF_CLAUSES_H

#include <stdbool.h>

enum vqf_clause_side { VQF_CL_DRIVER = 0, VQF_CL_DEVICE = 1, VQF_CL_BOTH = 2 };
enum vqf_clause_strength {
    VQF_CL_MUST = 0, VQF_CL_MUST_NOT, VQF_CL_SHOULD, VQF_CL_SHOULD_NOT, VQF_CL_MAY, VQF_CL_SHALL,
    VQF_CL_RECOMMENDED, VQF_CL_INVARIANT
};
/* Catalog run-time checkability: yes, partly, no, n/a (a MAY). */
enum vqf_clause_chk { VQF_CHK_YES = 0, VQF_CHK_PARTLY, VQF_CHK_NO, VQF_CHK_NA };

/* clauses.def rows:
 * VQF_CLAUSE(ENUM_NAME, "ID", "section", side, strength, chk, implemented, "meaning") */
enum vqf_clause_id {
    VQF_CLAUSE_NONE = 0,
#define VQF_CLAUSE(name, id, sec, side, strength, chk, impl, meaning) VQF_CL_##name,
#include "emulator/oracle/clauses.def"
#undef VQF_CLAUSE
    VQF_CLAUSE_COUNT
};

struct vqf_clause {
    const char *id;        /* "SPLIT-DSC-05" */
    const char *section;   /* "2.7.5.2" */
    enum vqf_clause_side side;
    enum vqf_clause_strength strength;
    enum vqf_clause_chk chk;
    bool implemented;
    const char *meaning;
};

const struct vqf_clause *vqf_clause_get(enum vqf_clause_id id);
/* Look up by "SPLIT-DSC-05" (case-insensitive); VQF_CLAUSE_NONE if unknown. */
enum vqf_clause_id vqf_clause_find(const char *id);
const char *vqf_clause_side_name(enum vqf_clause_side s);
const char *vqf_clause_strength_name(enum vqf_clause_strength s);
const char *vqf_clause_chk_name(enum vqf_clause_chk c);

#endif
