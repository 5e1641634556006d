/* The text form of a program (DESIGN.md "The input: a program": "a text form makes every
 * crash readable and every regression writable by hand"): exact round trip, symbolic
 * addresses (enum vqf_addr_sel), errors that name the line and the reason, and a parser
 * that never crashes or reads past the text, whatever it is given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/program.h"
#include "tests/check.h"
#include "tests/program/prog_util.h"

#define TEXT_CAP 65536
static char text[TEXT_CAP];
static char err[256];

static int parse(struct vqf_program *p, const char *t) { return vqf_prog_from_text(p, t, err, sizeof(err)); }

static void test_example(void)
{
    static const char *src = "# vqfuzz program\n"
                             "format packed indirect\n"
                             "queues 1 size 256 liar driver device 2\n"
                             "offered 0x3000000ff accepted 0x100000000  seed 0x2a\n"
                             "\n"
                             "drv_add q=0 shape=0x0102 len=512 flags=0x1   # a chain\n"
                             "drv_desc_raw q=0 slot=3 len=4096 addr=desc+0x40\r\n"
                             "dev_len_bias q=1 delta=-1\n"
                             "  nop\n"
                             "run_device steps=16";
    struct vqf_program p;
    CHECK_EQ(parse(&p, src), 0);
    CHECK_EQ(p.h.format_flags, VQF_PF_PACKED | VQF_PF_INDIRECT);
    CHECK_EQ(p.h.nqueues, 1);
    CHECK_EQ(p.h.qsize, 256);
    CHECK_EQ(p.h.liar, VQF_LIAR_DRIVER);
    CHECK_EQ(p.h.device_type, 2);
    CHECK(p.h.features_offered == 0x3000000ffull);
    CHECK(p.h.features_accepted == 0x100000000ull);
    CHECK_EQ(p.h.seed, 42);
    CHECK_EQ(p.nops, 5);
    CHECK_EQ(p.ops[0].kind, VQF_OP_DRV_ADD);
    CHECK_EQ(p.ops[0].a, 0x102);
    CHECK_EQ(p.ops[0].b, 512);
    CHECK(p.ops[0].c == 1);
    CHECK_EQ(p.ops[1].kind, VQF_OP_DRV_DESC_RAW);
    CHECK_EQ(p.ops[1].a, 3);
    CHECK_EQ(p.ops[1].b, 4096);
    CHECK(p.ops[1].c == VQF_ADDR(VQF_ADDR_DESC, 0x40));
    CHECK_EQ(p.ops[2].kind, VQF_OP_DEV_LEN_BIAS);
    CHECK_EQ(p.ops[2].b, 0xffffffffu); /* -1 in the 32-bit field */
    CHECK_EQ(p.ops[3].kind, VQF_OP_NOP);
    CHECK_EQ(p.ops[4].a, 16);

    /* and back: the printed form names every used field and parses to the same program */
    size_t n = vqf_prog_to_text(&p, text, sizeof(text));
    CHECK(n > 0 && n == strlen(text));
    CHECK(strstr(text, "format packed indirect\n") != NULL);
    CHECK(strstr(text, "queues 1 size 256 liar driver device 2\n") != NULL);
    CHECK(strstr(text, "drv_desc_raw q=0 slot=3 len=4096 addr=desc+0x40\n") != NULL);
    CHECK(strstr(text, "drv_add q=0 shape=0x102 len=512 flags=0x1\n") != NULL);
    struct vqf_program q;
    CHECK_EQ(parse(&q, text), 0);
    CHECK(prog_equal(&p, &q));
    /* the text fits exactly: one byte less is refused */
    CHECK_EQ(vqf_prog_to_text(&p, text, n + 1), n);
    CHECK_EQ(vqf_prog_to_text(&p, text, n), 0);
    CHECK_EQ(vqf_prog_to_text(&p, text, 0), 0);
}

/* Every selector of enum vqf_addr_sel has its spelling, and values without one print raw. */
static void test_addresses(void)
{
    static const struct {
        uint64_t v;
        const char *s;
    } cases[] = {
        {VQF_ADDR(VQF_ADDR_ABS, 0x10000), "addr=abs:0x10000"},
        {VQF_ADDR(VQF_ADDR_BUF, 0), "addr=buf+0x0"},
        {VQF_ADDR(VQF_ADDR_DESC, 0x40), "addr=desc+0x40"},
        {VQF_ADDR(VQF_ADDR_DRIVER, 2), "addr=driver+0x2"},
        {VQF_ADDR(VQF_ADDR_DEVICE, 0xfff), "addr=device+0xfff"},
        {VQF_ADDR(VQF_ADDR_OTHER_RING, 8), "addr=other+0x8"},
        {VQF_ADDR(VQF_ADDR_HOLE, 0x10), "addr=hole+0x10"},
        {VQF_ADDR(VQF_ADDR_REGION_END, (2ull << 32) | 15), "addr=end(2)-0xf"},
        {VQF_ADDR(VQF_ADDR_WRAP, 0x1000), "addr=wrap-0x1000"},
        {VQF_ADDR(VQF_ADDR_IND_POOL, 0x20), "addr=ind+0x20"},
        {VQF_ADDR(VQF_ADDR_IND_POOL, 0x00ffffffffffffffull), "addr=ind+0xffffffffffffff"},
        /* an unknown selector, and a region-end offset with bits the form cannot hold */
        {0x0a00000000000010ull, "addr=0x0a00000000000010"},
        {VQF_ADDR(VQF_ADDR_REGION_END, 1ull << 40), "addr=0x0700010000000000"},
    };
    struct vqf_program p, q;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&p, 0, sizeof(p));
        p.nops = 1;
        p.ops[0].kind = VQF_OP_DRV_DESC_RAW;
        p.ops[0].c = cases[i].v;
        CHECK(vqf_prog_to_text(&p, text, sizeof(text)) > 0);
        if (!strstr(text, cases[i].s))
            fprintf(stderr, "expected %s in:\n%s", cases[i].s, text);
        CHECK(strstr(text, cases[i].s) != NULL);
        CHECK_EQ(parse(&q, text), 0);
        CHECK(q.nops == 1 && q.ops[0].c == cases[i].v);
    }
    /* hand-written spellings: a bare selector is offset 0, a plain number is the raw value */
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=hole"), 0);
    CHECK(q.ops[0].c == VQF_ADDR(VQF_ADDR_HOLE, 0));
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=end(3)"), 0);
    CHECK(q.ops[0].c == VQF_ADDR(VQF_ADDR_REGION_END, 3ull << 32));
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=65536"), 0);
    CHECK(q.ops[0].c == 65536);
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=-16"), 0);
    CHECK(q.ops[0].c == (uint64_t)-16);
    /* refused spellings */
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=end(4)-0x1"), -1);
    CHECK(strstr(err, "line 1: bad address 'end(4)-0x1' for field 'addr'") != NULL);
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=end(1)-0x100000000"), -1);
    CHECK(strstr(err, "out of range") != NULL);
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=buf+0x100000000000000"), -1);
    CHECK(strstr(err, "out of range") != NULL);
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=buf-1"), -1);
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=ring+1"), -1);
    CHECK_EQ(parse(&q, "drv_desc_raw q=0 slot=0 len=1 addr=abs:"), -1);
}

static void expect_error(const char *src, const char *msg)
{
    struct vqf_program p;
    int r = parse(&p, src);
    CHECK_EQ(r, -1);
    if (strcmp(err, msg))
        fprintf(stderr, "got \"%s\", expected \"%s\"\n", err, msg);
    CHECK(!strcmp(err, msg));
}

static void test_errors(void)
{
    expect_error("# 1\n\n\n\n\n\ndrv_ad q=0\n", "line 7: unknown op 'drv_ad'");
    expect_error("nop\n\ndrv_desc_raw q=0 slot=70000 len=1 addr=buf+0\n",
                 "line 3: field 'slot' out of range (max 65535)");
    expect_error("\n\n\n\n\n\n\n\ndrv_kick force=1\n", "line 9: missing field q");
    expect_error("drv_kick q=256 force=0", "line 1: field 'q' out of range (max 255)");
    expect_error("drv_kick q=0 force=0 q=1", "line 1: duplicate field 'q'");
    expect_error("drv_kick q=0 force=0 len=1", "line 1: unknown field 'len' for op 'drv_kick'");
    expect_error("nop q=0", "line 1: unknown field 'q' for op 'nop'");
    expect_error("drv_kick q 0", "line 1: expected name=value, got 'q'");
    expect_error("drv_kick q=zero force=0", "line 1: bad number 'zero' for field 'q'");
    expect_error("drv_kick q=0x force=0", "line 1: bad number '0x' for field 'q'");
    expect_error("drv_kick q= force=0", "line 1: bad number '' for field 'q'");
    expect_error("drv_reinit size=1 features=0x10000000000000000",
                 "line 1: field 'features' out of range (max 18446744073709551615)");
    expect_error("format packed\nformat zigzag",
                 "line 2: unknown format word 'zigzag' (split, packed, indirect, manual)");
    expect_error("format", "line 1: missing ring format after 'format'");
    expect_error("queues 300", "line 1: 'queues' out of range (max 255)");
    expect_error("queues 1 size", "line 1: missing value for 'size'");
    expect_error("queues 1 colour 3", "line 1: unknown header keyword 'colour'");
    expect_error("liar maybe", "line 1: bad value 'maybe' for 'liar'");
    expect_error("seed 0x100000000", "line 1: 'seed' out of range (max 4294967295)");
    /* a long token is quoted cut short, and the message always fits */
    char longline[600];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    struct vqf_program p;
    CHECK_EQ(parse(&p, longline), -1);
    CHECK(!strncmp(err, "line 1: unknown op 'xxxx", 24) && strlen(err) < 80);
    char tiny[8];
    CHECK_EQ(vqf_prog_from_text(&p, longline, tiny, sizeof(tiny)), -1);
    CHECK(strlen(tiny) == 7 && !strncmp(tiny, "line 1:", 7));
    CHECK_EQ(vqf_prog_from_text(&p, longline, NULL, 0), -1);
    /* too many ops */
    static char many[(VQF_PROG_MAX_OPS + 2) * 4 + 1];
    for (unsigned i = 0; i < VQF_PROG_MAX_OPS + 2; i++)
        memcpy(many + 4 * i, "nop\n", 4);
    expect_error(many, "line 257: too many ops (max 256)");
    many[VQF_PROG_MAX_OPS * 4] = '\0';
    CHECK_EQ(parse(&p, many), 0);
    CHECK_EQ(p.nops, VQF_PROG_MAX_OPS);
}

/* Defaults and order: header lines are optional and may come anywhere. */
static void test_defaults(void)
{
    struct vqf_program p;
    CHECK_EQ(parse(&p, ""), 0);
    CHECK_EQ(p.nops, 0);
    CHECK(p.h.format_flags == 0 && p.h.qsize == 0 && p.h.features_offered == 0);
    CHECK_EQ(parse(&p, "nop\nsize 0x8000 liar 2\nformat split manual\n"), 0);
    CHECK_EQ(p.nops, 1);
    CHECK_EQ(p.h.qsize, 32768);
    CHECK_EQ(p.h.liar, VQF_LIAR_DEVICE);
    CHECK_EQ(p.h.format_flags, VQF_PF_MANUAL);
}

/* 10^4 random canonical programs: from_text(to_text(p)) == p exactly. */
static void test_round_trip(void)
{
    uint64_t s = 0x5eed;
    static struct vqf_program p, q;
    unsigned bad = 0, parse_fail = 0;
    size_t longest = 0;
    for (int it = 0; it < 10000; it++) {
        tr_program(&p, &s, it % 16 ? 40 : VQF_PROG_MAX_OPS);
        size_t n = vqf_prog_to_text(&p, text, sizeof(text));
        CHECK(n > 0);
        if (n > longest)
            longest = n;
        if (parse(&q, text)) {
            if (!parse_fail++)
                fprintf(stderr, "%s\n", err);
            continue;
        }
        if (!prog_equal(&p, &q))
            bad++;
    }
    CHECK_EQ(parse_fail, 0);
    CHECK_EQ(bad, 0);
    printf("longest text of a random program: %zu bytes\n", longest);
}

/* The longest possible text (every op of the longest kind, every field at its widest)
 * stays within VQF_PROG_TEXT_MAX, the buffer size the tools use. */
static void test_worst_case_size(void)
{
    static struct vqf_program p;
    size_t worst = 0;
    unsigned worst_kind = 0;
    for (unsigned k = 0; k < VQF_OP_COUNT; k++) {
        memset(&p, 0, sizeof(p));
        p.nops = 1;
        p.ops[0] = (struct vqf_op){(uint8_t)k, 0xff, 0xffff, 0xffffffffu, 0x07ffffffffffffffull};
        size_t n = vqf_prog_to_text(&p, text, sizeof(text));
        p.ops[0].c = UINT64_MAX; /* an address printed raw is the widest */
        size_t n2 = vqf_prog_to_text(&p, text, sizeof(text));
        if (n2 > n)
            n = n2;
        if (n > worst) {
            worst = n;
            worst_kind = k;
        }
    }
    memset(&p, 0xff, sizeof(p.h));
    p.nops = VQF_PROG_MAX_OPS;
    for (unsigned i = 0; i < VQF_PROG_MAX_OPS; i++)
        p.ops[i] = (struct vqf_op){(uint8_t)worst_kind, 0xff, 0xffff, 0xffffffffu, UINT64_MAX};
    vqf_prog_canonicalize(&p);
    size_t n = vqf_prog_to_text(&p, text, sizeof(text));
    CHECK(n > 0);
    CHECK(n < VQF_PROG_TEXT_MAX);
    printf("worst-case text: %zu bytes (limit %u)\n", n, (unsigned)VQF_PROG_TEXT_MAX);
}

/* A heap copy of exactly len + 1 bytes so that ASan sees any read past the NUL. */
static void parse_copy(const char *src, size_t len, unsigned *ok, unsigned *bad)
{
    char *t = malloc(len + 1);
    memcpy(t, src, len);
    t[len] = '\0';
    unsigned lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += t[i] == '\n';
    static struct vqf_program p, q;
    static uint8_t e[VQF_PROG_MAX_SIZE];
    static char t2[TEXT_CAP];
    int r = vqf_prog_from_text(&p, t, err, sizeof(err));
    if (r == 0) {
        /* accepted text is a canonical program that survives both round trips */
        size_t n = vqf_prog_encode(&p, e, sizeof(e));
        vqf_prog_decode(&q, e, n);
        int good = prog_equal(&p, &q) && vqf_prog_to_text(&p, t2, sizeof(t2)) > 0 && !parse(&q, t2) &&
                   prog_equal(&p, &q);
        *bad += !good;
        ++*ok;
    } else {
        unsigned line = 0;
        int good = r == -1 && sscanf(err, "line %u: ", &line) == 1 && line >= 1 && line <= lines &&
                   strstr(err, ": ") != NULL;
        if (!good)
            fprintf(stderr, "bad error \"%s\"\n", err);
        *bad += !good;
    }
    free(t);
}

static const char *const vocab[] = {
    "drv_add", "drv_desc_raw", "q=", "slot=", "len=", "addr=", "desc+", "end(", ")-", "wrap-", "abs:",
    "0x", "ffff", "=", " ", "\n", "#", "format", "packed", "queues", "size", "liar", "driver",
    "offered", "0", "1", "-", "\t", "\r\n", "nop", "run_device", "steps=", "submit", "kind=",
};

/* Random garbage from a vocabulary of tokens and bytes: never a crash, always "line N". */
static void test_garbage(void)
{
    uint64_t s = 0xbad;
    static char buf[4096];
    unsigned ok = 0, bad = 0;
    for (int it = 0; it < 20000; it++) {
        size_t len = 0, want = tr_below(&s, 400);
        while (len < want) {
            if (tr_below(&s, 2)) {
                const char *w = vocab[tr_below(&s, sizeof(vocab) / sizeof(vocab[0]))];
                size_t n = strlen(w);
                memcpy(buf + len, w, n);
                len += n;
            } else {
                char c = (char)(1 + tr_below(&s, 255)); /* any byte but NUL */
                buf[len++] = c;
            }
        }
        parse_copy(buf, len, &ok, &bad);
    }
    CHECK_EQ(bad, 0);
    printf("garbage: %u of 20000 parsed\n", ok);
}

/* Valid texts with a few byte-level edits: deletions, insertions, duplicated lines, cuts. */
static void test_mutated_text(void)
{
    uint64_t s = 0x77;
    static struct vqf_program p;
    static char buf[TEXT_CAP + 4096];
    unsigned ok = 0, bad = 0;
    for (int it = 0; it < 20000; it++) {
        tr_program(&p, &s, 12);
        size_t len = vqf_prog_to_text(&p, buf, TEXT_CAP);
        unsigned edits = 1 + tr_below(&s, 4);
        for (unsigned e = 0; e < edits && len; e++) {
            size_t at = tr_below(&s, (uint32_t)len);
            switch (tr_below(&s, 5)) {
            case 0: { /* delete a few bytes */
                size_t n = 1 + tr_below(&s, 8);
                if (n > len - at)
                    n = len - at;
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
                break;
            }
            case 1: /* overwrite one byte */
                buf[at] = (char)(1 + tr_below(&s, 255));
                break;
            case 2: { /* insert a vocabulary token */
                const char *w = vocab[tr_below(&s, sizeof(vocab) / sizeof(vocab[0]))];
                size_t n = strlen(w);
                memmove(buf + at + n, buf + at, len - at);
                memcpy(buf + at, w, n);
                len += n;
                break;
            }
            case 3: /* cut the text */
                len = at;
                break;
            default: { /* duplicate a span (often a line) */
                size_t n = 1 + tr_below(&s, 60);
                if (n > len - at)
                    n = len - at;
                if (len + n < sizeof(buf)) {
                    memmove(buf + at + n, buf + at, len - at);
                    len += n;
                }
                break;
            }
            }
        }
        parse_copy(buf, len, &ok, &bad);
    }
    CHECK_EQ(bad, 0);
    CHECK(ok > 1000); /* many edits (inside comments, numbers) keep the text valid */
    printf("mutated text: %u of 20000 parsed\n", ok);
}

int main(void)
{
    test_example();
    test_addresses();
    test_errors();
    test_defaults();
    test_round_trip();
    test_worst_case_size();
    test_garbage();
    test_mutated_text();
    return check_report("test_program_text");
}
