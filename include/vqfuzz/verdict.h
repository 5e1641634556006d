/* Verdicts, one per input (see DESIGN.md "The oracle"). */
#ifndef VQFUZZ_VERDICT_H
#define VQFUZZ_VERDICT_H

enum vqf_verdict {
    VQF_PASS = 0,   /* nothing wrong */
    VQF_REJECT = 1, /* the lying side sent bad input; the side under test refused it and stayed healthy */
    VQF_FAIL = 2,   /* the side under test broke a clause of the spec */
    VQF_WEDGED = 3, /* hung: unbounded work per kick, or a valid follow-up request never completed */
    VQF_CRASH = 4   /* sanitizer report (reported by the sanitizer runtime itself) */
};

static inline const char *vqf_verdict_name(enum vqf_verdict v)
{
    static const char *const names[] = {"PASS", "REJECT", "FAIL", "WEDGED", "CRASH"};
    return (unsigned)v < 5 ? names[v] : "?";
}

#endif
