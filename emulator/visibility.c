/* Memory-visibility model: see visibility.h. */
#include "emulator/visibility.h"

#include <string.h>

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

static void side_reset(struct vqf_vis_side *s)
{
    s->n = 0;
    s->used = 0;
    s->order_seed = 0;
    s->rng = 0;
    s->stale = false;
    s->fresh_taken = false;
    s->nwatch = 0;
    s->snap_used = 0;
}

void vqf_vis_install(struct vqf_mem *m, struct vqf_vis *vis)
{
    if (vis) {
        vis->mem = m;
        side_reset(&vis->s[0]);
        side_reset(&vis->s[1]);
        memset(&vis->stats, 0, sizeof(vis->stats));
        vis->cur_stale = false;
    }
    m->vis = vis;
}

void vqf_vis_policy(struct vqf_vis *v, unsigned side, uint64_t order_seed, bool stale)
{
    if (side >= 2)
        return;
    struct vqf_vis_side *s = &v->s[side];
    s->order_seed = order_seed;
    s->rng = order_seed;
    s->stale = stale;
}

/* The watched bytes of side s as memory shows them now. */
static void snapshot(struct vqf_vis *v, struct vqf_vis_side *s)
{
    for (unsigned i = 0; i < s->nwatch; i++) {
        const struct vqf_vis_watch *w = &s->w[i];
        const uint8_t *p = vqf_mem_xlate(v->mem, w->gpa, w->len);
        if (p)
            memcpy(s->snap + w->off, p, w->len);
    }
    s->fresh_taken = false;
}

int vqf_vis_watch(struct vqf_vis *v, unsigned side, uint64_t gpa, uint32_t len)
{
    if (side >= 2 || len == 0)
        return -1;
    struct vqf_vis_side *s = &v->s[side];
    if (s->nwatch == VQF_VIS_MAX_WATCH || len > VQF_VIS_WATCH_BYTES - s->snap_used)
        return -1;
    const uint8_t *p = vqf_mem_xlate(v->mem, gpa, len);
    if (!p)
        return -1;
    struct vqf_vis_watch *w = &s->w[s->nwatch++];
    w->gpa = gpa;
    w->len = len;
    w->off = s->snap_used;
    s->snap_used += len;
    memcpy(s->snap + w->off, p, len);
    return 0;
}

void vqf_vis_unwatch_all(struct vqf_vis *v, unsigned side)
{
    if (side < 2) {
        v->s[side].nwatch = 0;
        v->s[side].snap_used = 0;
    }
}

/* Copy bytes of [gpa, gpa+len) from src into the watched snapshot of s where they overlap. */
static void snap_update(struct vqf_vis_side *s, uint64_t gpa, const uint8_t *src, uint64_t len)
{
    for (unsigned i = 0; i < s->nwatch; i++) {
        const struct vqf_vis_watch *w = &s->w[i];
        if (!overlap(gpa, len, w->gpa, w->len))
            continue;
        uint64_t lo = gpa > w->gpa ? gpa : w->gpa;
        uint64_t hi = gpa + len < w->gpa + w->len ? gpa + len : w->gpa + w->len;
        memcpy(s->snap + w->off + (lo - w->gpa), src + (lo - gpa), (size_t)(hi - lo));
    }
}

/* Store k of side becomes visible: the observer hears of it now, the bytes land. */
static void make_visible(struct vqf_vis *v, unsigned side, unsigned k)
{
    struct vqf_vis_side *s = &v->s[side];
    struct vqf_vis_store st = s->st[k];
    struct vqf_mem *m = v->mem;
    uint8_t *p = vqf_mem_xlate(m, st.gpa, st.len);
    memmove(&s->st[k], &s->st[k + 1], (s->n - k - 1) * sizeof(s->st[0]));
    s->n--;
    if (!p)
        return; /* checked when buffered; regions never move */
    vqf_mem_mark_dirty(m, st.gpa, st.len);
    vqf_mem_note(m, side, VQF_ACC_WRITE, st.gpa, st.len);
    memcpy(p, s->data + st.off, st.len);
    /* the side's own stores are part of what it has seen */
    snap_update(s, st.gpa, s->data + st.off, st.len);
}

unsigned vqf_vis_drain(struct vqf_vis *v, unsigned side, unsigned max)
{
    if (side >= 2)
        return 0;
    struct vqf_vis_side *s = &v->s[side];
    unsigned done = 0;
    while (s->n && (max == 0 || done < max)) {
        unsigned k = 0;
        if (s->order_seed) {
            /* any store no earlier pending store overlaps may go first (coherence keeps
             * same-location stores in program order) */
            unsigned cand[VQF_VIS_MAX_STORES], nc = 0;
            for (unsigned i = 0; i < s->n; i++) {
                bool blocked = false;
                for (unsigned j = 0; j < i && !blocked; j++)
                    blocked = overlap(s->st[j].gpa, s->st[j].len, s->st[i].gpa, s->st[i].len);
                if (!blocked)
                    cand[nc++] = i;
            }
            /* seeds = 3 mod 4 drain the newest eligible store first (the order that exposes a
             * missing barrier at once); other seeds pick at random */
            k = (s->order_seed & 3u) == 3u ? cand[nc - 1] : cand[splitmix(&s->rng) % nc];
        }
        if (k != 0)
            v->stats.reordered++;
        make_visible(v, side, k);
        done++;
    }
    if (s->n == 0)
        s->used = 0;
    if (done)
        v->stats.drains++;
    return done;
}

bool vqf_vis_pending_overlaps(const struct vqf_vis *v, unsigned side, uint64_t gpa, uint64_t len)
{
    if (side >= 2)
        return false;
    const struct vqf_vis_side *s = &v->s[side];
    for (unsigned i = 0; i < s->n; i++)
        if (overlap(s->st[i].gpa, s->st[i].len, gpa, len))
            return true;
    return false;
}

bool vqf_vis_store(struct vqf_vis *v, unsigned side, uint64_t gpa, const void *buf, uint64_t len)
{
    if (side >= 2 || len == 0)
        return false;
    struct vqf_vis_side *s = &v->s[side];
    if (s->n == VQF_VIS_MAX_STORES || len > VQF_VIS_DATA - s->used)
        vqf_vis_drain(v, side, 0); /* a full store buffer drains before it takes more */
    if (len > VQF_VIS_DATA)
        return false; /* larger than the buffer: visible at once, after everything before it */
    struct vqf_vis_store *st = &s->st[s->n++];
    st->gpa = gpa;
    st->len = (uint32_t)len;
    st->off = s->used;
    memcpy(s->data + s->used, buf, (size_t)len);
    s->used += (uint32_t)len;
    v->stats.stores++;
    return true;
}

void vqf_vis_load(struct vqf_vis *v, unsigned side, uint64_t gpa, void *buf, uint64_t len)
{
    v->cur_stale = false;
    if (side >= 2 || len == 0)
        return;
    struct vqf_vis_side *s = &v->s[side];
    uint8_t *b = buf;
    if (s->stale) {
        for (unsigned i = 0; i < s->nwatch; i++) {
            const struct vqf_vis_watch *w = &s->w[i];
            if (!overlap(gpa, len, w->gpa, w->len))
                continue;
            uint64_t lo = gpa > w->gpa ? gpa : w->gpa;
            uint64_t hi = gpa + len < w->gpa + w->len ? gpa + len : w->gpa + w->len;
            uint8_t *snap = s->snap + w->off + (lo - w->gpa);
            uint8_t *cur = b + (lo - gpa);
            size_t n = (size_t)(hi - lo);
            if (memcmp(snap, cur, n) == 0)
                continue;
            if (!s->fresh_taken) {
                /* the first load to find new bytes is performed in program order: it sees
                 * them, and so does every later load of those bytes (coherence) */
                s->fresh_taken = true;
                memcpy(snap, cur, n);
            } else {
                /* a later load with no rmb since may have been performed at the barrier */
                memcpy(cur, snap, n);
                v->cur_stale = true;
            }
        }
        if (v->cur_stale) {
            v->stats.stale_loads++;
            v->cur_side = side;
            v->cur_gpa = gpa;
            v->cur_len = len;
        }
    }
    /* store forwarding: the side reads its own pending stores, oldest first */
    for (unsigned i = 0; i < s->n; i++) {
        const struct vqf_vis_store *st = &s->st[i];
        if (!overlap(st->gpa, st->len, gpa, len))
            continue;
        uint64_t lo = gpa > st->gpa ? gpa : st->gpa;
        uint64_t hi = gpa + len < st->gpa + st->len ? gpa + len : st->gpa + st->len;
        memcpy(b + (lo - gpa), s->data + st->off + (lo - st->gpa), (size_t)(hi - lo));
    }
}

void vqf_vis_barrier(struct vqf_vis *v, unsigned side, unsigned kind)
{
    if (side >= 2)
        return;
    if (kind == VQF_BARRIER_WMB || kind == VQF_BARRIER_MB)
        vqf_vis_drain(v, side, 0);
    if (kind == VQF_BARRIER_RMB || kind == VQF_BARRIER_MB)
        snapshot(v, &v->s[side]); /* later loads are performed after this point */
}

void vqf_vis_notify(struct vqf_vis *v, unsigned side) { vqf_vis_drain(v, side, 0); }
