/* The clause table (clauses.h), built from clauses.def, and lookups by ID. */
#include "emulator/oracle/clauses.h"

#include <stddef.h>

static const struct vqf_clause clause_table[VQF_CLAUSE_COUNT] = {
    [VQF_CLAUSE_NONE] = {"NONE", "", VQF_CL_BOTH, VQF_CL_MUST, VQF_CHK_NA, false, "no clause"},
#define VQF_CLAUSE(name, id, sec, side, strength, chk, impl, meaning) \
    [VQF_CL_##name] = {id, sec, side, strength, chk, impl, meaning},
#include "emulator/oracle/clauses.def"
#undef VQF_CLAUSE
};

const struct vqf_clause *vqf_clause_get(enum vqf_clause_id id)
{
    if ((unsigned)id >= VQF_CLAUSE_COUNT)
        id = VQF_CLAUSE_NONE;
    return &clause_table[id];
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static bool same_id(const char *a, const char *b)
{
    while (*a && *b && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == 0 && *b == 0;
}

enum vqf_clause_id vqf_clause_find(const char *id)
{
    if (!id)
        return VQF_CLAUSE_NONE;
    /* A linear scan over ~370 rows: only reports and the command line look clauses up. */
    for (unsigned i = 1; i < VQF_CLAUSE_COUNT; i++)
        if (same_id(clause_table[i].id, id))
            return (enum vqf_clause_id)i;
    return VQF_CLAUSE_NONE;
}

const char *vqf_clause_side_name(enum vqf_clause_side s)
{
    switch (s) {
    case VQF_CL_DRIVER: return "driver";
    case VQF_CL_DEVICE: return "device";
    case VQF_CL_BOTH: return "both";
    }
    return "?";
}

const char *vqf_clause_strength_name(enum vqf_clause_strength s)
{
    static const char *const names[] = {"MUST", "MUST NOT", "SHOULD", "SHOULD NOT",
                                        "MAY", "SHALL", "RECOMMENDED", "INVARIANT"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *vqf_clause_chk_name(enum vqf_clause_chk c)
{
    static const char *const names[] = {"yes", "partly", "no", "n/a"};
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}
