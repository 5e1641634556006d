/* The text form of a vqfuzz program (DESIGN.md "The input: a program"): every crash readable,
 * every regression writable by hand, and an exact round trip with the binary form.
 *
 *   # vqfuzz program
 *   format packed indirect
 *   queues 1 size 256 liar driver device 2
 *   offered 0xffffffffffffffff accepted 0x... seed 0x1234
 *   drv_add q=0 shape=0x102 len=512 flags=0x1
 *   drv_desc_raw q=0 slot=3 len=4096 addr=desc+0x40
 *
 * Header lines hold "keyword value" pairs in any order ("format" takes words); an op line is the
 * op name and one name=value per field the op uses (names from ops.def). Numbers are decimal or
 * 0x hex; "-N" means the two's complement of N in the field's width. A field named "addr" is
 * a symbolic address (enum vqf_addr_sel) or a raw 64-bit number. '#' starts a comment.
 * The parser works on (pointer, length) tokens inside the caller's NUL-terminated text: no
 * copy, no fixed line buffer, so no line is too long and nothing past the NUL is read. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "harness/program.h"

static const char *const liar_names[3] = {"none", "driver", "device"};

/* Address selector names, indexed by enum vqf_addr_sel. */
static const char *const addr_names[VQF_ADDR_COUNT] = {
    [VQF_ADDR_ABS] = "abs",       [VQF_ADDR_BUF] = "buf",         [VQF_ADDR_DESC] = "desc",
    [VQF_ADDR_DRIVER] = "driver", [VQF_ADDR_DEVICE] = "device",   [VQF_ADDR_OTHER_RING] = "other",
    [VQF_ADDR_HOLE] = "hole",     [VQF_ADDR_REGION_END] = "end",  [VQF_ADDR_WRAP] = "wrap",
    [VQF_ADDR_IND_POOL] = "ind",
};

#define ADDR_OFF_MAX 0x00ffffffffffffffull /* the 56 offset bits of a symbolic address */

/* Largest value of each op field: q u8, a u16, b u32, c u64 (program.h). */
static const uint64_t field_max[4] = {0xffu, 0xffffu, 0xffffffffu, UINT64_MAX};

/* ---------------------------------------------------------------- printing */

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

__attribute__((format(printf, 2, 3))) static void emit(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        return;
    }
    o->len += (size_t)n;
}

/* Flag-like and register-value fields read best in hex, counts and indexes in decimal. */
static bool prefers_hex(const char *name)
{
    static const char *const hex[] = {"shape", "flags", "flags_next", "value", "features", "isr"};
    for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++)
        if (!strcmp(name, hex[i]))
            return true;
    return false;
}

static void emit_addr(struct out *o, uint64_t v)
{
    unsigned sel = (unsigned)(v >> 56);
    uint64_t off = v & ADDR_OFF_MAX;
    if (sel >= VQF_ADDR_COUNT || (sel == VQF_ADDR_REGION_END && (off >> 34) != 0)) {
        /* No symbolic spelling keeps every bit: print the raw value. */
        emit(o, " addr=0x%016" PRIx64, v);
    } else if (sel == VQF_ADDR_ABS) {
        emit(o, " addr=abs:0x%" PRIx64, off);
    } else if (sel == VQF_ADDR_REGION_END) {
        emit(o, " addr=end(%u)-0x%" PRIx64, (unsigned)(off >> 32) & 3u, off & 0xffffffffu);
    } else if (sel == VQF_ADDR_WRAP) {
        emit(o, " addr=wrap-0x%" PRIx64, off);
    } else {
        emit(o, " addr=%s+0x%" PRIx64, addr_names[sel], off);
    }
}

static void emit_op(struct out *o, const struct vqf_op *op)
{
    unsigned kind = op->kind % VQF_OP_COUNT;
    const struct vqf_op_info *info = &vqf_op_table[kind];
    const uint64_t v[4] = {op->q, op->a, op->b, op->c};
    emit(o, "%s", info->text);
    for (unsigned i = 0; i < 4; i++) {
        if (!(info->fields & (1u << i)))
            continue;
        const char *name = info->field_name[i];
        if (!strcmp(name, "addr"))
            emit_addr(o, v[i]);
        else if (!prefers_hex(name) && v[i] < 0x10000)
            emit(o, " %s=%" PRIu64, name, v[i]);
        else
            emit(o, " %s=0x%" PRIx64, name, v[i]);
    }
    emit(o, "\n");
}

size_t vqf_prog_to_text(const struct vqf_program *p, char *out, size_t cap)
{
    struct out o = {out, cap, 0, cap == 0};
    const struct vqf_prog_header *h = &p->h;
    unsigned ff = h->format_flags & VQF_PF_MASK;
    emit(&o, "# vqfuzz program\n");
    emit(&o, "format %s%s%s\n", (ff & VQF_PF_PACKED) ? "packed" : "split",
         (ff & VQF_PF_INDIRECT) ? " indirect" : "", (ff & VQF_PF_MANUAL) ? " manual" : "");
    emit(&o, "queues %u size %u liar %s device %u\n", h->nqueues, h->qsize, liar_names[h->liar % 3u],
         h->device_type);
    emit(&o, "offered 0x%" PRIx64 " accepted 0x%" PRIx64 " seed 0x%" PRIx32 "\n", h->features_offered,
         h->features_accepted, h->seed);
    uint32_t n = p->nops > VQF_PROG_MAX_OPS ? VQF_PROG_MAX_OPS : p->nops;
    for (uint32_t i = 0; i < n; i++)
        emit_op(&o, &p->ops[i]);
    return o.full ? 0 : o.len;
}

/* ---------------------------------------------------------------- parsing */

struct tok {
    const char *p;
    size_t n;
};

struct parser {
    struct vqf_program *prog;
    unsigned line;
    char *err;
    size_t errcap;
};

/* Tokens are quoted in messages, cut short so that one message always fits. */
#define TOKQ(t) (int)((t).n > 40 ? 40 : (t).n), (t).p

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->err && ps->errcap) {
        int n = snprintf(ps->err, ps->errcap, "line %u: ", ps->line);
        if (n >= 0 && (size_t)n < ps->errcap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errcap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* The next whitespace-separated token of [*cur, end); false at the end of the line. */
static bool next_tok(const char **cur, const char *end, struct tok *t)
{
    const char *s = *cur;
    while (s < end && is_space(*s))
        s++;
    if (s == end)
        return false;
    const char *e = s;
    while (e < end && !is_space(*e))
        e++;
    t->p = s;
    t->n = (size_t)(e - s);
    *cur = e;
    return true;
}

static bool tok_is(struct tok t, const char *word) { return strlen(word) == t.n && !memcmp(t.p, word, t.n); }

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum { NUM_OK = 0, NUM_BAD = -1, NUM_RANGE = -2 };

/* Unsigned decimal or 0x hex, all of [p, p + n). */
static int parse_unsigned(const char *p, size_t n, uint64_t *v)
{
    unsigned base = 10;
    if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        n -= 2;
    }
    if (n == 0)
        return NUM_BAD;
    uint64_t x = 0;
    bool range = false;
    for (size_t i = 0; i < n; i++) {
        int d = hexval(p[i]);
        if (d < 0 || (unsigned)d >= base)
            return NUM_BAD;
        if (x > (UINT64_MAX - (unsigned)d) / base)
            range = true; /* keep scanning: a bad digit later is the better message */
        else
            x = x * base + (unsigned)d;
    }
    *v = x;
    return range ? NUM_RANGE : NUM_OK;
}

/* A number no larger than max; "-N" is 2^width - N for an all-ones max (two's complement). */
static int parse_num(struct tok t, uint64_t max, uint64_t *v)
{
    bool neg = t.n > 1 && t.p[0] == '-';
    uint64_t x;
    int r = neg ? parse_unsigned(t.p + 1, t.n - 1, &x) : parse_unsigned(t.p, t.n, &x);
    if (r != NUM_OK)
        return r;
    if (x > max)
        return NUM_RANGE;
    if (neg)
        x = (max - x + 1) & max;
    *v = x;
    return NUM_OK;
}

/* Symbolic address: abs:N, buf+N, desc+N, driver+N, device+N, other+N, hole+N, ind+N,
 * end(r)-N, wrap-N (a bare selector name means offset 0), or a raw 64-bit number. */
static int parse_addr(struct tok t, uint64_t *v)
{
    if (t.n && ((t.p[0] >= '0' && t.p[0] <= '9') || t.p[0] == '-'))
        return parse_num(t, UINT64_MAX, v);
    size_t k = 0;
    while (k < t.n && t.p[k] >= 'a' && t.p[k] <= 'z')
        k++;
    struct tok name = {t.p, k};
    struct tok rest = {t.p + k, t.n - k};
    unsigned sel = VQF_ADDR_COUNT;
    for (unsigned i = 0; i < VQF_ADDR_COUNT; i++)
        if (tok_is(name, addr_names[i]))
            sel = i;
    if (sel == VQF_ADDR_COUNT)
        return NUM_BAD;
    uint64_t off = 0;
    if (sel == VQF_ADDR_REGION_END) {
        /* end(r) or end(r)-N: r is the region index (0..3), N at most 32 bits */
        if (rest.n < 3 || rest.p[0] != '(' || rest.p[1] < '0' || rest.p[1] > '3' || rest.p[2] != ')')
            return NUM_BAD;
        uint64_t minus = 0;
        struct tok num = {rest.p + 3, rest.n - 3};
        if (num.n) {
            if (num.p[0] != '-')
                return NUM_BAD;
            num.p++;
            num.n--;
            int r = parse_unsigned(num.p, num.n, &minus);
            if (r != NUM_OK)
                return r;
            if (minus > 0xffffffffu)
                return NUM_RANGE;
        }
        off = ((uint64_t)(rest.p[1] - '0') << 32) | minus;
    } else if (rest.n) {
        /* abs:N, wrap-N, name+N */
        char sep = sel == VQF_ADDR_ABS ? ':' : sel == VQF_ADDR_WRAP ? '-' : '+';
        if (rest.p[0] != sep)
            return NUM_BAD;
        int r = parse_unsigned(rest.p + 1, rest.n - 1, &off);
        if (r != NUM_OK)
            return r;
        if (off > ADDR_OFF_MAX)
            return NUM_RANGE;
    }
    *v = VQF_ADDR(sel, off);
    return NUM_OK;
}

static int parse_op(struct parser *ps, unsigned kind, const char *cur, const char *end)
{
    struct vqf_program *p = ps->prog;
    const struct vqf_op_info *info = &vqf_op_table[kind];
    if (p->nops >= VQF_PROG_MAX_OPS)
        return fail(ps, "too many ops (max %u)", VQF_PROG_MAX_OPS);
    uint64_t v[4] = {0, 0, 0, 0};
    unsigned seen = 0;
    struct tok t;
    while (next_tok(&cur, end, &t)) {
        const char *eq = memchr(t.p, '=', t.n);
        if (!eq)
            return fail(ps, "expected name=value, got '%.*s'", TOKQ(t));
        struct tok name = {t.p, (size_t)(eq - t.p)};
        struct tok val = {eq + 1, t.n - name.n - 1};
        unsigned fi = 4;
        for (unsigned i = 0; i < 4; i++)
            if ((info->fields & (1u << i)) && tok_is(name, info->field_name[i]))
                fi = i;
        if (fi == 4)
            return fail(ps, "unknown field '%.*s' for op '%s'", TOKQ(name), info->text);
        if (seen & (1u << fi))
            return fail(ps, "duplicate field '%s'", info->field_name[fi]);
        seen |= 1u << fi;
        bool is_addr = !strcmp(info->field_name[fi], "addr");
        int r = is_addr ? parse_addr(val, &v[fi]) : parse_num(val, field_max[fi], &v[fi]);
        if (r == NUM_RANGE && !is_addr)
            return fail(ps, "field '%s' out of range (max %" PRIu64 ")", info->field_name[fi], field_max[fi]);
        if (r == NUM_RANGE)
            return fail(ps, "field 'addr' offset out of range in '%.*s'", TOKQ(val));
        if (r != NUM_OK)
            return fail(ps, "bad %s '%.*s' for field '%s'", is_addr ? "address" : "number", TOKQ(val),
                        info->field_name[fi]);
    }
    for (unsigned i = 0; i < 4; i++)
        if ((info->fields & (1u << i)) && !(seen & (1u << i)))
            return fail(ps, "missing field %s", info->field_name[i]);
    struct vqf_op *op = &p->ops[p->nops++];
    op->kind = (uint8_t)kind;
    op->q = (uint8_t)v[0];
    op->a = (uint16_t)v[1];
    op->b = (uint32_t)v[2];
    op->c = v[3];
    return 0;
}

static int parse_format(struct parser *ps, const char *cur, const char *end)
{
    unsigned ff = 0;
    bool any = false;
    struct tok t;
    while (next_tok(&cur, end, &t)) {
        any = true;
        if (tok_is(t, "split"))
            ff &= ~VQF_PF_PACKED;
        else if (tok_is(t, "packed"))
            ff |= VQF_PF_PACKED;
        else if (tok_is(t, "indirect"))
            ff |= VQF_PF_INDIRECT;
        else if (tok_is(t, "manual"))
            ff |= VQF_PF_MANUAL;
        else
            return fail(ps, "unknown format word '%.*s' (split, packed, indirect, manual)", TOKQ(t));
    }
    if (!any)
        return fail(ps, "missing ring format after 'format'");
    ps->prog->h.format_flags = (uint8_t)ff;
    return 0;
}

static const char *const header_keys[] = {"queues", "size", "liar", "device", "offered", "accepted", "seed"};
enum { K_QUEUES, K_SIZE, K_LIAR, K_DEVICE, K_OFFERED, K_ACCEPTED, K_SEED, K_COUNT };
static const uint64_t header_max[K_COUNT] = {0xff, 0xffff, 2, 0xff, UINT64_MAX, UINT64_MAX, 0xffffffffu};

static int header_key(struct tok t)
{
    for (int i = 0; i < K_COUNT; i++)
        if (tok_is(t, header_keys[i]))
            return i;
    return -1;
}

/* "key value" pairs: queues, size, liar, device, offered, accepted, seed. */
static int parse_header(struct parser *ps, const char *cur, const char *end)
{
    struct vqf_prog_header *h = &ps->prog->h;
    struct tok k, t;
    while (next_tok(&cur, end, &k)) {
        int key = header_key(k);
        if (key < 0)
            return fail(ps, "unknown header keyword '%.*s'", TOKQ(k));
        if (!next_tok(&cur, end, &t))
            return fail(ps, "missing value for '%s'", header_keys[key]);
        uint64_t v = 0;
        int r = NUM_BAD;
        if (key == K_LIAR)
            for (unsigned i = 0; i < 3; i++)
                if (tok_is(t, liar_names[i])) {
                    v = i;
                    r = NUM_OK;
                }
        if (r != NUM_OK)
            r = parse_num(t, header_max[key], &v);
        if (r == NUM_RANGE)
            return fail(ps, "'%s' out of range (max %" PRIu64 ")", header_keys[key], header_max[key]);
        if (r != NUM_OK)
            return fail(ps, "bad value '%.*s' for '%s'", TOKQ(t), header_keys[key]);
        switch (key) {
        case K_QUEUES: h->nqueues = (uint8_t)v; break;
        case K_SIZE: h->qsize = (uint16_t)v; break;
        case K_LIAR: h->liar = (uint8_t)v; break;
        case K_DEVICE: h->device_type = (uint8_t)v; break;
        case K_OFFERED: h->features_offered = v; break;
        case K_ACCEPTED: h->features_accepted = v; break;
        default: h->seed = (uint32_t)v; break;
        }
    }
    return 0;
}

static int parse_line(struct parser *ps, const char *cur, const char *end)
{
    const char *hash = memchr(cur, '#', (size_t)(end - cur));
    if (hash)
        end = hash;
    struct tok first;
    const char *after = cur;
    if (!next_tok(&after, end, &first))
        return 0; /* blank or comment only */
    if (tok_is(first, "format"))
        return parse_format(ps, after, end);
    if (header_key(first) >= 0)
        return parse_header(ps, cur, end);
    for (unsigned k = 0; k < VQF_OP_COUNT; k++)
        if (tok_is(first, vqf_op_table[k].text))
            return parse_op(ps, k, after, end);
    return fail(ps, "unknown op '%.*s'", TOKQ(first));
}

int vqf_prog_from_text(struct vqf_program *p, const char *text, char *err, size_t errcap)
{
    memset(&p->h, 0, sizeof(p->h));
    p->nops = 0;
    if (err && errcap)
        err[0] = '\0';
    struct parser ps = {p, 1, err, errcap};
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        if (!e)
            e = s + strlen(s);
        if (parse_line(&ps, s, e) < 0)
            return -1;
        if (!*e)
            break;
        s = e + 1;
        ps.line++;
    }
    return 0;
}
