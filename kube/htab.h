/* kube/htab.h - the one hash table: open addressing with linear probing
 * over caller-owned values (an index + 1, or a pointer), and the one
 * string hash (FNV-1a). The YAML position index and anchors and the
 * reconcilers' work queue keep their own storage and find it through
 * this; the table holds no keys, so the caller's eq callback compares.
 *
 * Not thread-safe: its owner's lock guards it. */
#ifndef VMSNAPD_KUBE_HTAB_H
#define VMSNAPD_KUBE_HTAB_H

#include <stddef.h>
#include <stdint.h>

#include "kube/errors.h"

#define KUBE_HASH_SEED 2166136261u

/* FNV-1a of n bytes at p, continuing from h (KUBE_HASH_SEED to start). */
uint32_t kube_hash_fnv1a(uint32_t h, const void *p, size_t n);

/* FNV-1a of a NUL-terminated string. */
uint32_t kube_hash_str(const char *s);

struct kube_htab_slot {
    uint32_t hash;
    uintptr_t val; /* 0 marks an empty slot */
};

/* Zero-initialised means empty. Fields are private. */
struct kube_htab {
    struct kube_htab_slot *v;
    size_t cap; /* 0 or a power of two, kept at most half full */
    size_t n;
};

/* Does val (a value in the table) have key? */
typedef int (*kube_htab_eq_fn)(const void *ctx, uintptr_t val, const void *key);

/* Makes room for one more value. KUBE_ENOMEM leaves the table as it was. */
int kube_htab_reserve(struct kube_htab *t) KUBE_MUST_CHECK;

/* The slot holding key, or the empty slot where it would go (fill it with
 * kube_htab_put, after kube_htab_reserve); NULL for a table never
 * reserved. The slot is valid until the next reserve or remove. */
struct kube_htab_slot *kube_htab_probe(const struct kube_htab *t, uint32_t hash,
                                       kube_htab_eq_fn eq, const void *ctx,
                                       const void *key);

/* The value for key, or 0. */
uintptr_t kube_htab_get(const struct kube_htab *t, uint32_t hash,
                        kube_htab_eq_fn eq, const void *ctx, const void *key);

/* Stores val (not 0) in s, a slot from kube_htab_probe: an empty one adds
 * a value, a full one replaces it. */
void kube_htab_put(struct kube_htab *t, struct kube_htab_slot *s, uint32_t hash,
                   uintptr_t val);

/* Empties s, a full slot from kube_htab_probe, moving later values of its
 * probe run back so every lookup still finds them. */
void kube_htab_remove(struct kube_htab *t, struct kube_htab_slot *s);

/* Walks the values: start with *i = 0; returns the next value, or 0 at
 * the end. The table must not change during the walk. */
uintptr_t kube_htab_next(const struct kube_htab *t, size_t *i);

/* Frees the slots (not the values); the table is empty and usable. */
void kube_htab_free(struct kube_htab *t);

#endif
