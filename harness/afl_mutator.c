/* The AFL++ face of the structure-aware mutator (DESIGN.md "The input: a program"; API of
 * AFL++ docs/custom_mutators.md). Built as a shared library and loaded by afl-fuzz through
 * AFL_CUSTOM_MUTATOR_LIBRARY. The op roles come from VQF_ROLES (hex VQF_ROLE_* bits, as the
 * target's roles) and the optional op mask from VQF_OP_MASK (hex, bit k = op kind k, as
 * vqf_target_op_mask()), because afl-fuzz and the target are separate processes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/mutator.h"

struct vqf_afl {
    struct vqf_rng rng;
    unsigned roles;
    uint64_t op_mask;
    uint8_t buf[VQF_PROG_MAX_SIZE]; /* the output: AFL++ reads it until the next call */
};

/* The exported API (afl-fuzz finds these by name). */
void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf,
                       size_t add_buf_size, size_t max_size);
const char *afl_custom_describe(void *data, size_t max_description_len);
void afl_custom_deinit(void *data);

/* A hex number from the environment; false when unset or not entirely hex. */
static bool env_hex(const char *name, uint64_t *v)
{
    const char *env = getenv(name);
    if (!env || !*env)
        return false;
    char *end;
    unsigned long long x = strtoull(env, &end, 16);
    if (*end != '\0')
        return false;
    *v = x;
    return true;
}

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    struct vqf_afl *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->rng.s = seed;
    m->roles = VQF_ROLE_ANY;
    uint64_t v;
    if (env_hex("VQF_ROLES", &v) && (v & VQF_ROLE_ANY))
        m->roles = (unsigned)(v & VQF_ROLE_ANY);
    m->op_mask = UINT64_MAX;
    if (env_hex("VQF_OP_MASK", &v) && v)
        m->op_mask = v;
    return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf, uint8_t *add_buf,
                       size_t add_buf_size, size_t max_size)
{
    struct vqf_afl *m = data;
    size_t cap = max_size < sizeof(m->buf) ? max_size : sizeof(m->buf);
    uint64_t seed = vqf_rng_next(&m->rng);
    size_t n;
    *out_buf = m->buf;
    /* One in four: splice with the second input AFL++ offers. */
    if (add_buf && add_buf_size && (seed & 3) == 0) {
        n = vqf_crossover(buf, buf_size, add_buf, add_buf_size, m->buf, cap, seed >> 2);
        if (n)
            return n;
    }
    /* Decoding reads at most VQF_PROG_MAX_SIZE bytes, so copying that much loses nothing. */
    size_t len = buf_size < cap ? buf_size : cap;
    if (len)
        memcpy(m->buf, buf, len);
    return vqf_mutate_masked(m->buf, len, cap, seed >> 2, m->roles, m->op_mask);
}

const char *afl_custom_describe(void *data, size_t max_description_len)
{
    (void)data;
    return max_description_len >= 3 ? "vqf" : "";
}

void afl_custom_deinit(void *data) { free(data); }
