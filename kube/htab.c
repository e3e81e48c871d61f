/* kube/htab.c - open addressing with linear probing; removal shifts the
 * rest of a probe run back instead of leaving tombstones. */
#include "kube/htab.h"

#include <stdlib.h>
#include <string.h>

uint32_t kube_hash_fnv1a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

uint32_t kube_hash_str(const char *s)
{
    return kube_hash_fnv1a(KUBE_HASH_SEED, s, strlen(s));
}

int kube_htab_reserve(struct kube_htab *t)
{
    struct kube_htab_slot *v;
    size_t cap;

    if (t->cap && (t->n + 1) * 2 <= t->cap)
        return KUBE_OK;
    cap = t->cap ? t->cap * 2 : 64;
    v = calloc(cap, sizeof(*v));
    if (!v)
        return KUBE_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        size_t j = t->v[i].hash & (cap - 1);

        if (!t->v[i].val)
            continue;
        while (v[j].val)
            j = (j + 1) & (cap - 1);
        v[j] = t->v[i];
    }
    free(t->v);
    t->v = v;
    t->cap = cap;
    return KUBE_OK;
}

struct kube_htab_slot *kube_htab_probe(const struct kube_htab *t, uint32_t hash,
                                       kube_htab_eq_fn eq, const void *ctx,
                                       const void *key)
{
    if (!t->cap)
        return NULL;
    for (size_t j = hash & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        struct kube_htab_slot *s = &t->v[j];

        if (!s->val || (s->hash == hash && eq(ctx, s->val, key)))
            return s;
    }
}

uintptr_t kube_htab_get(const struct kube_htab *t, uint32_t hash,
                        kube_htab_eq_fn eq, const void *ctx, const void *key)
{
    const struct kube_htab_slot *s = kube_htab_probe(t, hash, eq, ctx, key);

    return s ? s->val : 0;
}

void kube_htab_put(struct kube_htab *t, struct kube_htab_slot *s, uint32_t hash,
                   uintptr_t val)
{
    if (!s->val)
        t->n++;
    s->hash = hash;
    s->val = val;
}

/* Whether home, the slot a value hashes to, lies cyclically in (gap, j]:
 * then the value at j must stay where it is. */
static int stays(size_t home, size_t gap, size_t j)
{
    return gap <= j ? (gap < home && home <= j) : (gap < home || home <= j);
}

void kube_htab_remove(struct kube_htab *t, struct kube_htab_slot *s)
{
    size_t mask = t->cap - 1, gap = (size_t)(s - t->v);

    for (size_t j = (gap + 1) & mask; t->v[j].val; j = (j + 1) & mask) {
        if (stays(t->v[j].hash & mask, gap, j))
            continue;
        t->v[gap] = t->v[j];
        gap = j;
    }
    t->v[gap] = (struct kube_htab_slot){0, 0};
    t->n--;
}

uintptr_t kube_htab_next(const struct kube_htab *t, size_t *i)
{
    for (; *i < t->cap; (*i)++)
        if (t->v[*i].val)
            return t->v[(*i)++].val;
    return 0;
}

void kube_htab_free(struct kube_htab *t)
{
    free(t->v);
    *t = (struct kube_htab){0};
}
