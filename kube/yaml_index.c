/* kube/yaml_index.c - where each node of a document stood: one entry per
 * node, found by (parent, name) through open addressing, and
 * kube_yaml_where's walk along a field path, through aliases and merges. */
#include "kube/yaml_internal.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    /* what one kube_yaml_where may spend following aliases and merges:
     * hash probes, and merges within merges (each one a C stack frame) */
    WHERE_BUDGET = 4096,
    WHERE_MAX_HOPS = 64,
};

/* ---- position table: one entry per node, children found by name ---- */

static uint32_t pos_hash(const struct pos_key *k)
{
    uint32_t h = kube_hash_fnv1a(KUBE_HASH_SEED, &k->parent, sizeof(k->parent));

    h = kube_hash_fnv1a(h, &k->merge, 1);
    return kube_hash_fnv1a(h, k->name, k->len);
}

static int pos_eq(const void *ctx, uintptr_t val, const void *key)
{
    const struct pos_table *t = ctx;
    const struct pos_ent *e = &t->ents[val - 1];
    const struct pos_key *k = key;

    return e->parent == k->parent && e->merge == k->merge &&
           e->name_len == k->len &&
           memcmp(t->names + e->name_off, k->name, k->len) == 0;
}

static uint32_t pos_find(const struct pos_table *t, const struct pos_key *k)
{
    uintptr_t v = kube_htab_get(&t->slots, pos_hash(k), pos_eq, t, k);

    return v ? (uint32_t)(v - 1) : NO_ENT;
}

/* p grown to hold need items of size bytes (doubling; *cap updated), p
 * itself when big enough, or NULL when out of memory (p is kept). */
void *kube_yaml_grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *q;

    if (need <= *cap)
        return p;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / size)
        return NULL;
    q = realloc(p, n * size);
    if (q)
        *cap = n;
    return q;
}

/* Adds an entry; *out is its index. Returns 0 or KUBE_ENOMEM. */
int kube_yaml_pos_add(uint32_t *out, struct pos_table *t,
                      const struct pos_key *k, int kind)
{
    struct pos_ent *e;
    struct kube_htab_slot *s;
    uint32_t h = pos_hash(k);
    void *q;

    if (t->n >= NO_ENT - 1)
        return KUBE_ENOMEM;
    q = kube_yaml_grow(t->ents, &t->cap, t->n + 1, sizeof(*t->ents));
    if (!q)
        return KUBE_ENOMEM;
    t->ents = q;
    q = kube_yaml_grow(t->names, &t->names_cap, t->names_len + k->len + 1, 1);
    if (!q)
        return KUBE_ENOMEM;
    t->names = q;
    if (kube_htab_reserve(&t->slots))
        return KUBE_ENOMEM;
    e = &t->ents[t->n];
    memset(e, 0, sizeof(*e));
    e->name_off = t->names_len;
    e->name_len = k->len;
    e->parent = k->parent;
    e->target = NO_ENT;
    e->hash = h;
    e->kind = (unsigned char)kind;
    e->merge = k->merge;
    memcpy(t->names + t->names_len, k->name, k->len);
    t->names_len += k->len;
    s = kube_htab_probe(&t->slots, h, pos_eq, t, k);
    /* a repeated name cannot happen; if it did, newest wins */
    kube_htab_put(&t->slots, s, h, (uintptr_t)t->n + 1);
    *out = (uint32_t)t->n++;
    return KUBE_OK;
}

void kube_yaml_pos_free(struct pos_table *t)
{
    if (!t)
        return;
    free(t->ents);
    free(t->names);
    kube_htab_free(&t->slots);
    free(t);
}

/* ---- kube_yaml_where ---- */

/* Next component of path from *i: "name", ".name" or "[text]", where a
 * bracket ends at a ']' followed by '.', '[' or the end, so keys holding
 * ']' still work. Returns 0 at the end of the path. */
static int path_next(const char *path, size_t *i, const char **name,
                     size_t *len)
{
    const char *s = path + *i, *e;

    if (!*s)
        return 0;
    if (*s == '.')
        s++;
    if (*s == '[') {
        for (e = strchr(s + 1, ']'); e; e = strchr(e + 1, ']')) {
            if (!e[1] || e[1] == '.' || e[1] == '[')
                break;
        }
        *name = s + 1;
        *len = e ? (size_t)(e - s - 1) : strlen(s + 1);
        *i = e ? (size_t)(e + 1 - path) : (size_t)(s - path) + 1 + *len;
        return 1;
    }
    e = s + strcspn(s, ".[");
    *name = s;
    *len = (size_t)(e - s);
    *i = (size_t)(e - path);
    return 1;
}

struct walk {
    uint32_t ent;
    size_t done; /* bytes of the path matched */
    int found;
};

/* Follows aliases to the node whose children we look in. */
static uint32_t deref(const struct pos_table *t, uint32_t e, unsigned *budget)
{
    while (t->ents[e].kind == K_ALIAS && t->ents[e].target != NO_ENT &&
           *budget) {
        (*budget)--;
        e = t->ents[e].target;
    }
    return e;
}

static struct walk walk(const struct pos_table *t, uint32_t e, const char *path,
                        size_t i, unsigned *budget, int hops);

/* Looks for path[i..] in what "<<" merged into mapping m: its "<<" value,
 * or each item of it, first item first, as the merge itself went. */
static struct walk walk_merges(const struct pos_table *t, uint32_t m,
                               const char *path, size_t i, unsigned *budget,
                               int hops, struct walk best)
{
    struct pos_key k = {m, 1, "<<", 2};
    uint32_t src = pos_find(t, &k), seq;
    char idx[24];

    if (src == NO_ENT || hops >= WHERE_MAX_HOPS)
        return best;
    seq = deref(t, src, budget);
    for (size_t n = 0; *budget; n++) {
        struct walk r;
        uint32_t c = src;

        if (t->ents[seq].kind == K_SEQ) {
            struct pos_key ik = {seq, 0, idx, 0};

            ik.len = (size_t)snprintf(idx, sizeof(idx), "%zu", n);
            c = pos_find(t, &ik);
        } else if (n > 0) {
            break;
        }
        if (c == NO_ENT)
            break;
        r = walk(t, c, path, i, budget, hops + 1);
        if (r.found)
            return r;
        if (r.done > best.done)
            best = r;
    }
    return best;
}

static struct walk walk(const struct pos_table *t, uint32_t e, const char *path,
                        size_t i, unsigned *budget, int hops)
{
    struct walk best = {e, i, 0};

    for (;;) {
        struct pos_key k = {0, 0, NULL, 0};
        size_t next = i;
        uint32_t node, c;

        best.ent = e;
        best.done = i;
        if (!path_next(path, &next, &k.name, &k.len)) {
            best.found = 1;
            return best;
        }
        if (!*budget)
            return best;
        (*budget)--;
        node = deref(t, e, budget);
        k.parent = node;
        c = pos_find(t, &k);
        if (c == NO_ENT)
            return walk_merges(t, node, path, i, budget, hops, best);
        e = c;
        i = next;
    }
}

void kube_yaml_where(struct kube_yaml_where *out,
                     const struct kube_yaml_doc *doc, const char *path)
{
    const struct pos_table *t = doc ? doc->pos : NULL;
    const struct pos_ent *e;
    unsigned budget = WHERE_BUDGET;
    struct walk w;

    assert(out);
    memset(out, 0, sizeof(*out));
    if (!t || !t->n)
        return;
    w = walk(t, 0, path ? path : "", 0, &budget, 0);
    e = &t->ents[w.ent];
    out->key_line = e->key_line;
    out->key_col = e->key_col;
    out->val_line = e->val_line;
    out->val_col = e->val_col;
    out->found = w.found;
}
