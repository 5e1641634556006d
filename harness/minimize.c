/* Program-level minimization (see minimize.h). Every candidate is run in full by the executor;
 * a candidate is kept only when it reproduces the original verdict and clause, so the result
 * always reproduces the finding it came from. */
#include "harness/minimize.h"

#include <stdio.h>
#include <string.h>

#include "emulator/oracle/clauses.h"

struct min_ctx {
    struct vqf_exec *x;
    enum vqf_verdict verdict;
    enum vqf_clause_id clause;
    uint64_t runs, budget;
};

/* Same bug: same verdict and same clause (WEDGED carries VQF_CLAUSE_NONE). A different clause is
 * a different finding, even when it is also a FAIL, so it is never accepted. */
static int reproduces(struct min_ctx *m, const struct vqf_program *p)
{
    if (m->runs >= m->budget)
        return 0;
    struct vqf_result r;
    m->runs++;
    vqf_exec_run_program(m->x, p, &r);
    return r.verdict == m->verdict && r.clause == m->clause;
}

/* Drop chunks of ops, halving the chunk size down to single ops (delta debugging without the
 * complement step: programs are short, so this converges quickly). */
static int drop_ops(struct min_ctx *m, struct vqf_program *p, struct vqf_program *cand)
{
    int progress = 0;
    for (uint32_t chunk = p->nops / 2 ? p->nops / 2 : 1; chunk >= 1; chunk /= 2) {
        uint32_t i = 0;
        while (i < p->nops && m->runs < m->budget) {
            uint32_t n = chunk < p->nops - i ? chunk : p->nops - i;
            *cand = *p;
            memmove(&cand->ops[i], &cand->ops[i + n], (size_t)(p->nops - i - n) * sizeof(struct vqf_op));
            cand->nops = p->nops - n;
            if (reproduces(m, cand)) {
                *p = *cand;
                progress = 1; /* the same index now holds the next chunk */
            } else {
                i += n;
            }
        }
        if (chunk == 1)
            break;
    }
    return progress;
}

/* Smallest value of one field that still reproduces: 0 first, then a binary search between 0
 * (fails) and the current value (holds). The predicate is not monotonic, but every accepted
 * value was actually tried, so the search only ever moves to reproducing values. */
static int shrink(struct min_ctx *m, struct vqf_program *p, struct vqf_program *cand,
                  void (*store)(struct vqf_program *, uint64_t), uint64_t v)
{
    if (v == 0)
        return 0;
    *cand = *p;
    store(cand, 0);
    if (reproduces(m, cand)) {
        *p = *cand;
        return 1;
    }
    uint64_t lo = 0, hi = v; /* lo fails, hi holds */
    while (hi - lo > 1 && m->runs < m->budget) {
        uint64_t mid = lo + (hi - lo) / 2;
        *cand = *p;
        store(cand, mid);
        if (reproduces(m, cand)) {
            hi = mid;
            *p = *cand;
        } else {
            lo = mid;
        }
    }
    return hi < v;
}

/* Field stores for shrink(): the op they write is g_op, set by the loop in simplify_fields
 * (file-local; the minimizer is single-threaded like the executor it drives). */
static uint32_t g_op;

static void st_q(struct vqf_program *p, uint64_t v) { p->ops[g_op].q = (uint8_t)v; }
static void st_a(struct vqf_program *p, uint64_t v) { p->ops[g_op].a = (uint16_t)v; }
static void st_b(struct vqf_program *p, uint64_t v) { p->ops[g_op].b = (uint32_t)v; }
static void st_c(struct vqf_program *p, uint64_t v) { p->ops[g_op].c = v; }
static void st_nq(struct vqf_program *p, uint64_t v) { p->h.nqueues = (uint8_t)v; }
static void st_qsize(struct vqf_program *p, uint64_t v) { p->h.qsize = (uint16_t)v; }
static void st_seed(struct vqf_program *p, uint64_t v) { p->h.seed = (uint32_t)v; }
static void st_dtype(struct vqf_program *p, uint64_t v) { p->h.device_type = (uint8_t)v; }
static void st_liar(struct vqf_program *p, uint64_t v) { p->h.liar = (uint8_t)v; }

/* Clear single set bits of a 64-bit mask field (features) or the format flags: a value search
 * makes no sense for bit sets, each bit is its own choice. */
static int clear_bits(struct min_ctx *m, struct vqf_program *p, struct vqf_program *cand, int which)
{
    int progress = 0;
    for (unsigned b = 0; b < 64; b++) {
        uint64_t bit = 1ull << b;
        uint64_t cur = which == 0 ? p->h.features_offered : which == 1 ? p->h.features_accepted : p->h.format_flags;
        if (!(cur & bit))
            continue;
        *cand = *p;
        if (which == 0)
            cand->h.features_offered &= ~bit;
        else if (which == 1)
            cand->h.features_accepted &= ~bit;
        else
            cand->h.format_flags = (uint8_t)(cand->h.format_flags & ~bit);
        if (reproduces(m, cand)) {
            *p = *cand;
            progress = 1;
        }
    }
    return progress;
}

static int simplify_fields(struct min_ctx *m, struct vqf_program *p, struct vqf_program *cand)
{
    int progress = 0;
    progress |= shrink(m, p, cand, st_nq, p->h.nqueues);
    progress |= shrink(m, p, cand, st_qsize, p->h.qsize);
    progress |= shrink(m, p, cand, st_seed, p->h.seed);
    progress |= shrink(m, p, cand, st_dtype, p->h.device_type);
    progress |= shrink(m, p, cand, st_liar, p->h.liar);
    progress |= clear_bits(m, p, cand, 0);
    progress |= clear_bits(m, p, cand, 1);
    progress |= clear_bits(m, p, cand, 2);
    for (g_op = 0; g_op < p->nops; g_op++) {
        const struct vqf_op_info *info = &vqf_op_table[p->ops[g_op].kind % VQF_OP_COUNT];
        if (info->fields & VQF_F_Q)
            progress |= shrink(m, p, cand, st_q, p->ops[g_op].q);
        if (info->fields & VQF_F_A)
            progress |= shrink(m, p, cand, st_a, p->ops[g_op].a);
        if (info->fields & VQF_F_B)
            progress |= shrink(m, p, cand, st_b, p->ops[g_op].b);
        if (info->fields & VQF_F_C)
            progress |= shrink(m, p, cand, st_c, p->ops[g_op].c);
    }
    return progress;
}

/* Byte level: the shortest prefix of the encoding that still reproduces (decoding pads it). */
static size_t trim_bytes(struct min_ctx *m, const uint8_t *bin, size_t len, struct vqf_program *cand)
{
    while (len > 0 && m->runs < m->budget) {
        vqf_prog_decode(cand, bin, len - 1);
        if (!reproduces(m, cand))
            break;
        len--;
    }
    return len;
}

int vqf_minimize(struct vqf_exec *x, const struct vqf_program *in, uint64_t budget, struct vqf_program *out,
                 uint8_t *bin, size_t *bin_len, struct vqf_min_stats *st)
{
    static struct vqf_program cand; /* 4 KiB: off the stack, one minimization at a time */
    struct min_ctx m = {.x = x, .budget = budget ? budget : VQF_MIN_DEFAULT_BUDGET};
    struct vqf_result r0;
    memset(st, 0, sizeof *st);
    *out = *in;
    vqf_prog_canonicalize(out);
    vqf_exec_run_program(x, out, &r0);
    m.runs = 1;
    st->ops_before = out->nops;
    st->bytes_before = vqf_prog_encode(out, bin, VQF_PROG_MAX_SIZE);
    if (r0.verdict != VQF_FAIL && r0.verdict != VQF_WEDGED) {
        st->result = r0;
        st->runs = m.runs;
        return -1;
    }
    m.verdict = r0.verdict;
    m.clause = r0.clause;
    for (int round = 0; round < 8 && m.runs < m.budget; round++) {
        int progress = drop_ops(&m, out, &cand);
        progress |= simplify_fields(&m, out, &cand);
        if (!progress)
            break;
    }
    size_t n = vqf_prog_encode(out, bin, VQF_PROG_MAX_SIZE);
    n = trim_bytes(&m, bin, n, &cand);
    vqf_prog_decode(out, bin, n);
    /* The final check is made even past the budget: what is returned must reproduce. */
    vqf_exec_run_program(x, out, &st->result);
    m.runs++;
    *bin_len = n;
    st->ops_after = out->nops;
    st->bytes_after = n;
    st->runs = m.runs;
    return 0;
}

/* "FAIL SPLIT-DSC-05 (2.7.5.2)" or "WEDGED": the finding a result names, as reports print it. */
static void finding_name(const struct vqf_result *r, char *buf, size_t cap)
{
    const struct vqf_clause *c = r->clause != VQF_CLAUSE_NONE ? vqf_clause_get(r->clause) : NULL;
    if (c)
        snprintf(buf, cap, "%s %s (%s)", vqf_verdict_name(r->verdict), c->id, c->section);
    else
        snprintf(buf, cap, "%s", vqf_verdict_name(r->verdict));
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || w != len) {
        remove(path); /* a full disk leaves no truncated program that looks like a result */
        return -1;
    }
    return 0;
}

int vqf_minimize_to_files(struct vqf_exec *x, const char *target_name, const struct vqf_program *in,
                          uint64_t budget, const char *base_in, FILE *msg)
{
    /* Off the stack: programs and their text are large; one minimization at a time. */
    static struct vqf_program out;
    static uint8_t bin[VQF_PROG_MAX_SIZE];
    static char text[VQF_PROG_TEXT_MAX + 512];
    struct vqf_min_stats st;
    size_t n = 0;
    char what[160];
    int rc = vqf_minimize(x, in, budget, &out, bin, &n, &st);
    finding_name(&st.result, what, sizeof what);
    if (rc != 0) {
        fprintf(stderr, "vqfuzz: minimize: the input gives %s on %s: no FAIL or WEDGED to keep\n", what, target_name);
        return 1;
    }
    char base[4096];
    snprintf(base, sizeof base, "%s", base_in);
    /* Strip a trailing .bin / .txt so that -o x.bin and -o x name the same pair. */
    size_t bl = strlen(base);
    if (bl > 4 && (!strcmp(base + bl - 4, ".bin") || !strcmp(base + bl - 4, ".txt")))
        base[bl - 4] = 0;
    int hl = snprintf(text, sizeof text, "# %s: %s, minimized from %u to %u ops; %s\n", target_name, what,
                      st.ops_before, st.ops_after, st.result.detail);
    if (hl < 0 || (size_t)hl >= sizeof text)
        hl = 0;
    size_t tl = vqf_prog_to_text(&out, text + hl, sizeof text - (size_t)hl);
    char path[4200];
    snprintf(path, sizeof path, "%s.bin", base);
    int werr = write_file(path, bin, n);
    snprintf(path, sizeof path, "%s.txt", base);
    werr |= write_file(path, text, (size_t)hl + tl);
    if (werr) {
        fprintf(stderr, "vqfuzz: minimize: cannot write %s.bin / %s.txt\n", base, base);
        return -1;
    }
    if (msg)
        fprintf(msg, "%s: %s\n  ops %u -> %u, bytes %zu -> %zu, %llu runs\n  wrote %s.bin and %s.txt\n", target_name,
                what, st.ops_before, st.ops_after, st.bytes_before, st.bytes_after, (unsigned long long)st.runs, base,
                base);
    return 0;
}
