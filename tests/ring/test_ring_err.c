/* The ring error table (ring.h): every code has its own name and a meaning that cites the
 * rule or invariant behind it, either sign is accepted, anything else is "unknown". */
#include <string.h>

#include "emulator/ring/ring.h"
#include "tests/check.h"

int main(void)
{
    for (int e = 1; e < VQF_ERR_COUNT; e++) {
        const char *n = vqf_ring_err_name(e), *t = vqf_ring_err_text(e);
        CHECK(strcmp(n, "unknown") != 0);
        CHECK(strlen(t) > 10);
        CHECK(strcmp(vqf_ring_err_name(-e), n) == 0); /* callers pass -VQF_ERR_* as well */
        for (int o = 1; o < e; o++)
            CHECK(strcmp(vqf_ring_err_name(o), n) != 0);
    }
    /* Errors a peer can cause name their clause or invariant (clauses.md). */
    for (int e = VQF_ERR_ADDR; e <= VQF_ERR_USED_FLAGS; e++) {
        const char *t = vqf_ring_err_text(e);
        CHECK(strstr(t, "(D-") || strstr(t, "(SPLIT-") || strstr(t, "(RSVD-") || strstr(t, "(PACK-"));
    }
    CHECK(strcmp(vqf_ring_err_name(VQF_ERR_CHAIN_LOOP), "chain_loop") == 0);
    CHECK(strcmp(vqf_ring_err_name(VQF_OK), "ok") == 0);
    CHECK(strcmp(vqf_ring_err_name(VQF_ERR_COUNT), "unknown") == 0);
    CHECK(strcmp(vqf_ring_err_name(-1000), "unknown") == 0);
    CHECK(strcmp(vqf_ring_err_name(-2147483647 - 1), "unknown") == 0);
    CHECK(strcmp(vqf_ring_err_text(12345), "unknown ring error code") == 0);
    return check_report("test_ring_err");
}
