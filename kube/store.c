/* kube/store.c - cluster objects by kind, namespace and name, each kept
 * as its compact JSON text in one allocation (about the size of the JSON:
 * a jansson tree of the same object took eight times more), under a
 * rwlock. A lookup is a kind scan and two hash probes, a namespace list
 * touches only that namespace.
 *
 * Decoding costs about 40,000 instructions for a VM, and a review reads
 * the same few objects again and again: the last KUBE_STORE_HOT objects
 * read or written (KUBE_STORE_HOT_BYTES of JSON at most) keep their tree
 * (a ring, oldest out first), shared with readers as the store's trees
 * always were. */
#include "kube/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/htab.h"
#include "kube/json.h"
#include "kube/jsonarena.h"
#include "kube/jsondec.h"
#include "kube/yaml.h"

/* One object: its name, its resourceVersion and its JSON text, each
 * NUL-terminated. */
struct entry {
    json_t *tree; /* decoded, while hot; guarded by hot_lock (readers hold
                     the read lock too; writers, holding the write lock,
                     need not take it) */
    uint32_t hot; /* its ring slot + 1; 0: not hot; guarded as tree */
    uint32_t len; /* of the text */
    char data[];
};

/* The objects of one kind in one namespace. */
struct ns_map {
    struct kube_htab names; /* struct entry * */
    char ns[];
};

struct kind_map {
    char *kind;
    struct kube_htab nss; /* struct ns_map * */
};

struct kube_store {
    pthread_rwlock_t lock;
    struct kind_map *kinds; /* guarded by lock; few, scanned */
    size_t nkinds;          /* guarded by lock */
    size_t count;           /* guarded by lock */
    /* Lock order: lock, then hot_lock. */
    pthread_mutex_t hot_lock;
    struct entry *ring[KUBE_STORE_HOT]; /* guarded by hot_lock */
    size_t hand;                        /* the next slot to reuse; same */
    size_t hot_bytes;                   /* JSON text of the hot objects; same */
};

/* Frees e; a hot one leaves the ring. Caller holds the write lock (or
 * owns s alone); s may be NULL when the ring goes too. */
static void entry_free(struct kube_store *s, struct entry *e)
{
    if (e->hot && s) {
        s->ring[e->hot - 1] = NULL;
        s->hot_bytes -= e->len;
    }
    json_decref(e->tree);
    free(e);
}

static const char *version_of(const struct entry *e)
{
    return e->data + strlen(e->data) + 1;
}

static const char *text_of(const struct entry *e)
{
    const char *rv = version_of(e);

    return rv + strlen(rv) + 1;
}

static int entry_is(const void *ctx, uintptr_t val, const void *key)
{
    (void)ctx;
    return strcmp(((const struct entry *)val)->data, key) == 0;
}

static int ns_is(const void *ctx, uintptr_t val, const void *key)
{
    (void)ctx;
    return strcmp(((const struct ns_map *)val)->ns, key) == 0;
}

int kube_store_new(struct kube_store **out)
{
    struct kube_store *s = calloc(1, sizeof(*s));

    if (!s)
        return KUBE_ENOMEM;
    if (pthread_rwlock_init(&s->lock, NULL)) {
        free(s);
        return KUBE_ENOMEM;
    }
    if (pthread_mutex_init(&s->hot_lock, NULL)) {
        pthread_rwlock_destroy(&s->lock);
        free(s);
        return KUBE_ENOMEM;
    }
    *out = s;
    return KUBE_OK;
}

static void ns_map_free(struct ns_map *m)
{
    size_t i = 0;
    uintptr_t v;

    while ((v = kube_htab_next(&m->names, &i)))
        entry_free(NULL, (struct entry *)v);
    kube_htab_free(&m->names);
    free(m);
}

void kube_store_free(struct kube_store *s)
{
    if (!s)
        return;
    for (size_t k = 0; k < s->nkinds; k++) {
        size_t i = 0;
        uintptr_t v;

        while ((v = kube_htab_next(&s->kinds[k].nss, &i)))
            ns_map_free((struct ns_map *)v);
        kube_htab_free(&s->kinds[k].nss);
        free(s->kinds[k].kind);
    }
    free(s->kinds);
    pthread_mutex_destroy(&s->hot_lock);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

/* The kind's map, or NULL. Caller holds the lock. */
static struct kind_map *kind_find(const struct kube_store *s, const char *kind)
{
    for (size_t k = 0; kind && k < s->nkinds; k++)
        if (strcmp(s->kinds[k].kind, kind) == 0)
            return &s->kinds[k];
    return NULL;
}

/* The namespace's map of kind, or NULL. Caller holds the lock. */
static struct ns_map *ns_find(const struct kube_store *s, const char *kind,
                              const char *ns)
{
    struct kind_map *km = kind_find(s, kind);

    if (!km)
        return NULL;
    return (struct ns_map *)kube_htab_get(&km->nss, kube_hash_str(ns), ns_is,
                                          NULL, ns);
}

/* The kind's map, added when missing. Caller holds the write lock. */
static struct kind_map *kind_make(struct kube_store *s, const char *kind)
{
    struct kind_map *km = kind_find(s, kind), *grown;

    if (km)
        return km;
    grown = realloc(s->kinds, (s->nkinds + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    s->kinds = grown;
    km = &s->kinds[s->nkinds];
    *km = (struct kind_map){strdup(kind), {0}};
    if (!km->kind)
        return NULL;
    s->nkinds++;
    return km;
}

/* The namespace's map of kind, added when missing (with room for one more
 * name). Caller holds the write lock. */
static struct ns_map *ns_make(struct kube_store *s, const char *kind,
                              const char *ns)
{
    struct kind_map *km = kind_make(s, kind);
    uint32_t h = kube_hash_str(ns);
    struct kube_htab_slot *slot;
    struct ns_map *m;

    if (!km || kube_htab_reserve(&km->nss) < 0)
        return NULL;
    slot = kube_htab_probe(&km->nss, h, ns_is, NULL, ns);
    if (slot->val)
        return (struct ns_map *)slot->val;
    m = calloc(1, sizeof(*m) + strlen(ns) + 1);
    if (!m)
        return NULL;
    memcpy(m->ns, ns, strlen(ns) + 1);
    kube_htab_put(&km->nss, slot, h, (uintptr_t)m);
    return m;
}

/* Removes m, now empty, from km: namespaces come and go. Caller holds the
 * write lock. */
static void ns_drop(struct kind_map *km, struct ns_map *m)
{
    struct kube_htab_slot *slot =
        kube_htab_probe(&km->nss, kube_hash_str(m->ns), ns_is, NULL, m->ns);

    kube_htab_remove(&km->nss, slot);
    ns_map_free(m);
}

/* A buffer json_dump_callback fills: the entry being built. Our own
 * malloc, whatever jansson's allocator is (an arena scope's included). */
struct dump {
    char *p;
    size_t len, cap;
};

static int dump_add(const char *buf, size_t n, void *ctx)
{
    struct dump *d = ctx;

    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap * 2 > d->len + n + 1 ? d->cap * 2 : d->len + n + 1;
        char *p = realloc(d->p, cap);

        if (!p)
            return -1;
        d->p = p;
        d->cap = cap;
    }
    memcpy(d->p + d->len, buf, n);
    d->len += n;
    return 0;
}

/* obj's compact JSON text after name and rv, in one new allocation made
 * by one dump (then trimmed to size). */
static struct entry *entry_new(const json_t *obj, const char *name,
                               const char *rv)
{
    size_t nlen = strlen(name) + 1, rvlen = strlen(rv) + 1;
    size_t head = sizeof(struct entry) + nlen + rvlen;
    struct dump d = {malloc(head + 1024), head, head + 1024};
    struct entry *e;

    if (!d.p || json_dump_callback(obj, dump_add, &d, JSON_COMPACT) ||
        d.len - head >= UINT32_MAX) {
        free(d.p);
        return NULL;
    }
    d.p[d.len] = '\0';
    e = realloc(d.p, d.len + 1); /* shrinking: fails only in theory */
    e = e ? e : (struct entry *)d.p;
    memcpy(e->data, name, nlen);
    memcpy(e->data + nlen, rv, rvlen);
    e->tree = NULL;
    e->hot = 0;
    e->len = (uint32_t)(d.len - head);
    return e;
}

static void hot_add(struct kube_store *s, struct entry *e, json_t *t);

/* A written object is read next (the reconcilers' reads, the informer's
 * next event): its tree, already made, starts hot, unless it was made in
 * a jsonarena scope (then it dies with the scope) or is big. Caller holds
 * the write lock. */
static void keep_hot(struct kube_store *s, struct entry *e, json_t *obj)
{
    int scope = kube_json_arena_suspend();

    kube_json_arena_resume(scope);
    if (scope)
        return;
    pthread_mutex_lock(&s->hot_lock);
    hot_add(s, e, obj);
    pthread_mutex_unlock(&s->hot_lock);
}

/* Puts e (stolen) under kind, ns. Caller holds the write lock. */
static int insert(struct kube_store *s, const char *kind, const char *ns,
                  struct entry *e)
{
    struct ns_map *m = ns_make(s, kind, ns);
    uint32_t h = kube_hash_str(e->data);
    struct kube_htab_slot *slot;

    if (!m || kube_htab_reserve(&m->names) < 0) {
        free(e);
        return KUBE_ENOMEM;
    }
    slot = kube_htab_probe(&m->names, h, entry_is, NULL, e->data);
    if (slot->val)
        entry_free(s, (struct entry *)slot->val);
    else
        s->count++;
    kube_htab_put(&m->names, slot, h, (uintptr_t)e);
    return KUBE_OK;
}

int kube_store_put_new(struct kube_store *s, json_t *obj)
{
    const char *kind = kube_json_str(obj, "kind");
    const char *name = kube_json_str(obj, "metadata.name");
    const char *ns = kube_json_str0(obj, "metadata.namespace");
    struct entry *e;
    int rc = KUBE_EINVAL;

    if (!kind || !*kind || !name || !*name)
        goto done;
    e = entry_new(obj, name, kube_json_str0(obj, "metadata.resourceVersion"));
    /* ^ outside the lock: the costly part */
    rc = KUBE_ENOMEM;
    if (!e)
        goto done;
    pthread_rwlock_wrlock(&s->lock);
    rc = insert(s, kind, ns, e);
    if (rc == KUBE_OK)
        keep_hot(s, e, obj);
    pthread_rwlock_unlock(&s->lock);
done:
    json_decref(obj);
    return rc;
}

int kube_store_delete(struct kube_store *s, const char *kind, const char *ns,
                      const char *name)
{
    struct kube_htab_slot *slot = NULL;
    struct ns_map *m;
    int rc = KUBE_ENOTFOUND;

    pthread_rwlock_wrlock(&s->lock);
    m = ns_find(s, kind, ns ? ns : "");
    if (m)
        slot = kube_htab_probe(&m->names, kube_hash_str(name), entry_is, NULL,
                               name);
    if (slot && slot->val) {
        entry_free(s, (struct entry *)slot->val);
        kube_htab_remove(&m->names, slot);
        s->count--;
        rc = KUBE_OK;
        if (!m->names.n)
            ns_drop(kind_find(s, kind), m);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

/* A new tree from e's text, from the heap even inside a jsonarena scope
 * (it may become hot, and outlive the scope). NULL when out of memory
 * (the text was jansson's own dump: it parses). */
static json_t *decode(const struct entry *e)
{
    int scope = kube_json_arena_suspend();
    json_t *t = kube_json_decode(text_of(e), e->len, NULL);

    kube_json_arena_resume(scope);
    return t;
}

/* Drops the tree of the ring's slot i, if any: readers keep their own
 * references. Caller holds hot_lock and the read lock. */
static void hot_evict(struct kube_store *s, size_t i)
{
    struct entry *old = s->ring[i];

    if (!old)
        return;
    json_decref(old->tree);
    old->tree = NULL;
    old->hot = 0;
    s->hot_bytes -= old->len;
    s->ring[i] = NULL;
}

/* Makes e hot with t (a reference taken) in the ring's oldest slot, unless
 * it is over a quarter of KUBE_STORE_HOT_BYTES;
 * evicting the next ones while the hot objects' text would pass
 * KUBE_STORE_HOT_BYTES. Caller holds hot_lock and the read or write
 * lock. */
static void hot_add(struct kube_store *s, struct entry *e, json_t *t)
{
    if (e->len > KUBE_STORE_HOT_BYTES / 4)
        return; /* big ones stay cold */
    hot_evict(s, s->hand);
    for (size_t i = 1;
         i < KUBE_STORE_HOT && s->hot_bytes + e->len > KUBE_STORE_HOT_BYTES;
         i++)
        hot_evict(s, (s->hand + i) % KUBE_STORE_HOT);
    s->ring[s->hand] = e;
    e->hot = (uint32_t)s->hand + 1;
    e->tree = json_incref(t);
    s->hot_bytes += e->len;
    s->hand = (s->hand + 1) % KUBE_STORE_HOT;
}

/* e's tree (a new reference): the hot one, or decoded and made hot.
 * Caller holds the read lock. NULL when out of memory. */
static json_t *hot_get(struct kube_store *s, struct entry *e)
{
    json_t *t, *mine;

    pthread_mutex_lock(&s->hot_lock);
    t = json_incref(e->tree);
    pthread_mutex_unlock(&s->hot_lock);
    if (t)
        return t;
    mine = decode(e); /* unlocked: readers decode side by side */
    if (!mine)
        return NULL;
    pthread_mutex_lock(&s->hot_lock);
    t = json_incref(e->tree); /* another reader may have been first */
    if (!t)
        hot_add(s, e, mine);
    pthread_mutex_unlock(&s->hot_lock);
    if (!t)
        return mine;
    json_decref(mine);
    return t;
}

/* The entry of kind ns/name, or NULL. Caller holds the lock. */
static struct entry *find(const struct kube_store *s, const char *kind,
                          const char *ns, const char *name)
{
    struct ns_map *m = ns_find(s, kind, ns ? ns : "");

    if (!m)
        return NULL;
    return (struct entry *)kube_htab_get(&m->names, kube_hash_str(name),
                                         entry_is, NULL, name);
}

int kube_store_version(char *buf, size_t len, struct kube_store *s,
                       const char *kind, const char *ns, const char *name)
{
    const struct entry *e;
    int rc = KUBE_ENOTFOUND;

    pthread_rwlock_rdlock(&s->lock);
    e = find(s, kind, ns, name);
    if (e) {
        int n = snprintf(buf, len, "%s", version_of(e));
        rc = n < 0 || (size_t)n >= len ? KUBE_ETOOBIG : KUBE_OK;
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int kube_store_get(json_t **out, struct kube_store *s, const char *kind,
                   const char *ns, const char *name)
{
    struct entry *e;
    int rc = KUBE_ENOTFOUND;

    pthread_rwlock_rdlock(&s->lock);
    e = find(s, kind, ns, name);
    if (e) {
        *out = hot_get(s, e);
        rc = *out ? KUBE_OK : KUBE_ENOMEM;
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

/* The entries of one list, with their namespaces. */
struct pick {
    struct entry *e;
    const char *ns;
};

struct picks {
    struct pick *v;
    size_t n;
};

/* Appends every entry of m; p->v has room (the maps' counts say how
 * much). */
static void pick_all(struct picks *p, const struct ns_map *m)
{
    size_t i = 0;
    uintptr_t v;

    while ((v = kube_htab_next(&m->names, &i)))
        p->v[p->n++] = (struct pick){(struct entry *)v, m->ns};
}

/* The entries of kind in ns (NULL: all) into p->v, a new array. Caller
 * holds the lock. */
static int pick(struct picks *p, const struct kube_store *s, const char *kind,
                const char *ns)
{
    struct kind_map *km = kind_find(s, kind);
    const struct ns_map *one = NULL;
    size_t i = 0, total = 0;
    uintptr_t v;

    if (km && ns)
        one = (const struct ns_map *)kube_htab_get(&km->nss, kube_hash_str(ns),
                                                   ns_is, NULL, ns);
    if (one)
        total = one->names.n;
    else if (km && !ns)
        while ((v = kube_htab_next(&km->nss, &i)))
            total += ((const struct ns_map *)v)->names.n;
    p->v = malloc((total ? total : 1) * sizeof(*p->v));
    if (!p->v)
        return KUBE_ENOMEM;
    if (one)
        pick_all(p, one);
    for (i = 0; km && !ns && (v = kube_htab_next(&km->nss, &i));)
        pick_all(p, (const struct ns_map *)v);
    return KUBE_OK;
}

/* By name, then namespace. */
static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    int c = strcmp(x->e->data, y->e->data);

    return c ? c : strcmp(x->ns, y->ns);
}

/* A namespace's list makes its objects hot, as gets do; a list of every
 * namespace (a resync, a metrics scrape) would only churn the ring: hot is
 * NULL then, and each object is decoded for the caller alone. */
static json_t *make_object(struct kube_store *hot, struct pick *p)
{
    return hot ? hot_get(hot, p->e) : decode(p->e);
}

static json_t *make_key(struct kube_store *hot, struct pick *p)
{
    (void)hot;
    return json_pack("[s, s]", p->ns, p->e->data);
}

/* The objects (or keys) of kind in ns (NULL: all) as a new JSON array made
 * by make, in name order. Thread-safe. */
static int collect(json_t **out, struct kube_store *s, const char *kind,
                   const char *ns,
                   json_t *(*make)(struct kube_store *, struct pick *))
{
    struct picks p = {NULL, 0};
    json_t *arr = json_array();
    size_t i = 0;
    int rc = arr ? KUBE_OK : KUBE_ENOMEM;

    pthread_rwlock_rdlock(&s->lock);
    if (rc == KUBE_OK)
        rc = pick(&p, s, kind, ns);
    if (rc == KUBE_OK && p.n)
        qsort(p.v, p.n, sizeof(*p.v), cmp_pick);
    for (; rc == KUBE_OK && i < p.n; i++)
        if (json_array_append_new(arr, make(ns ? s : NULL, &p.v[i])))
            rc = KUBE_ENOMEM;
    pthread_rwlock_unlock(&s->lock);
    free(p.v);
    if (rc == KUBE_OK)
        *out = arr;
    else
        json_decref(arr);
    return rc;
}

int kube_store_list(json_t **out, struct kube_store *s, const char *kind,
                    const char *ns)
{
    return collect(out, s, kind, ns, make_object);
}

int kube_store_keys(json_t **out, struct kube_store *s, const char *kind,
                    const char *ns)
{
    return collect(out, s, kind, ns, make_key);
}

size_t kube_store_count(struct kube_store *s)
{
    size_t n;

    pthread_rwlock_rdlock(&s->lock);
    n = s->count;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

struct load_ctx {
    struct kube_store *s;
    const char *path;
    struct kube_err *err;
};

/* Puts one object, or each item of a List. */
static int load_one(struct load_ctx *lc, json_t *obj, int line, int col)
{
    if (!json_is_object(obj))
        return kube_err_set(lc->err, KUBE_EINVAL, "%s:%d:%d: not an object",
                            lc->path, line, col);
    if (kube_store_put_new(lc->s, json_incref(obj)) < 0)
        return kube_err_set(lc->err, KUBE_EINVAL,
                            "%s:%d:%d: an object needs kind and "
                            "metadata.name",
                            lc->path, line, col);
    return KUBE_OK;
}

static int load_doc(const struct kube_yaml_doc *doc, void *ctx)
{
    struct load_ctx *lc = ctx;
    const char *kind = kube_json_str(doc->root, "kind");
    json_t *items = json_object_get(doc->root, "items");
    struct kube_yaml_where w;
    char path[32];
    size_t i;
    json_t *it;

    if (json_is_null(doc->root))
        return KUBE_OK; /* an empty document */
    size_t klen = kind ? strlen(kind) : 0;

    if (klen < 4 || strcmp(kind + klen - 4, "List") != 0 ||
        !json_is_array(items))
        return load_one(lc, doc->root, doc->line, doc->col);
    json_array_foreach(items, i, it)
    {
        snprintf(path, sizeof(path), "items[%zu]", i);
        kube_yaml_where(&w, doc, path);
        int rc = load_one(lc, it, w.val_line, w.val_col);
        if (rc < 0)
            return rc;
    }
    return KUBE_OK;
}

int kube_store_load_file(struct kube_store *s, const char *path,
                         struct kube_err *err)
{
    struct load_ctx lc = {s, path, err};
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    int rc;

    if (!f)
        return kube_err_set(err, KUBE_EINVAL, "%s: cannot open", path);
    rc = kube_yaml_stream(f, path, NULL, load_doc, &lc, err);
    if (f != stdin)
        fclose(f);
    return rc;
}
