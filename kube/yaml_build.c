/* kube/yaml_build.c - libyaml's events into jansson values: a stack of
 * open collections, anchors and aliases (deep copies, so callers may
 * change one place safely), merge keys, and each node's position in the
 * document's index. */
#include "kube/yaml_internal.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- anchors of the current document ---- */

static int anchor_eq(const void *ctx, uintptr_t val, const void *key)
{
    const struct anchors *a = ctx;

    return strcmp(a->v[val - 1].name, key) == 0;
}

static struct anchor *anchor_find(const struct anchors *a, const char *name)
{
    uintptr_t v =
        kube_htab_get(&a->slots, kube_hash_str(name), anchor_eq, a, name);

    return v ? &a->v[v - 1] : NULL;
}

void kube_yaml_anchors_clear(struct anchors *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].name);
        json_decref(a->v[i].val);
    }
    free(a->v);
    kube_htab_free(&a->slots);
    memset(a, 0, sizeof(*a));
}

/* ---- building ---- */

static struct frame *top(struct yp *p)
{
    return p->depth ? &p->stack[p->depth - 1] : NULL;
}

static int expects_key(const struct frame *f)
{
    return f && json_is_object(f->val) && !f->key;
}

static int count_nodes(struct yp *p, size_t n, const yaml_mark_t *m)
{
    if (n > p->lim.max_nodes - p->nodes)
        return kube_yaml_fail(
            p, KUBE_EINVAL, mark_line(m), mark_col(m),
            "document has more than %zu nodes (aliases expanded)",
            p->lim.max_nodes);
    p->nodes += n;
    return KUBE_OK;
}

/* Records an anchor (copying name) for val (borrowed); a later anchor of
 * the same name replaces it, as YAML says. */
static int anchor_define(struct yp *p, const char *name, json_t *val,
                         uint32_t ent, size_t nodes, size_t height)
{
    struct anchors *a = &p->anchors;
    uint32_t h = kube_hash_str(name);
    struct anchor *x = anchor_find(a, name);
    struct kube_htab_slot *s;
    void *q;

    if (!x) {
        q = a->n < NO_ENT - 1
                ? kube_yaml_grow(a->v, &a->cap, a->n + 1, sizeof(*a->v))
                : NULL;
        if (!q)
            return kube_yaml_nomem(p);
        a->v = q;
        if (kube_htab_reserve(&a->slots))
            return kube_yaml_nomem(p);
        x = &a->v[a->n];
        x->name = strdup(name);
        if (!x->name)
            return kube_yaml_nomem(p);
        x->val = NULL;
        s = kube_htab_probe(&a->slots, h, anchor_eq, a, name);
        kube_htab_put(&a->slots, s, h, (uintptr_t)++a->n);
    }
    json_decref(x->val);
    x->val = json_incref(val);
    x->ent = ent;
    x->nodes = nodes;
    x->height = height;
    return KUBE_OK;
}

/* Records the position of a value node starting at m: the root, the next
 * item of the open sequence, or the value of the open mapping's key. */
static int node_begin(uint32_t *ent, struct yp *p, const yaml_mark_t *m,
                      int kind)
{
    struct frame *f = top(p);
    struct pos_key k = {NO_ENT, 0, "", 0};
    struct pos_ent *e;
    char idx[24];
    int kl = 0, kc = 0;

    if (!f) {
        p->doc.line = mark_line(m);
        p->doc.col = mark_col(m);
    } else if (json_is_array(f->val)) {
        k.parent = f->ent;
        k.len = (size_t)snprintf(idx, sizeof(idx), "%zu", f->items);
        k.name = idx;
    } else {
        k.parent = f->ent;
        k.merge = f->merge_key;
        k.name = json_string_value(f->key);
        k.len = json_string_length(f->key);
        kl = f->key_line;
        kc = f->key_col;
    }
    if (kube_yaml_pos_add(ent, p->pos, &k, kind) < 0)
        return kube_yaml_nomem(p);
    e = &p->pos->ents[*ent];
    e->key_line = kl;
    e->key_col = kc;
    e->val_line = mark_line(m);
    e->val_col = mark_col(m);
    return KUBE_OK;
}

/* A "<<" value: a mapping, or a sequence of mappings, to merge in when
 * the enclosing mapping ends. Steals v. */
static int merge_add(struct yp *p, struct frame *f, json_t *v, uint32_t ent)
{
    const struct pos_ent *e = &p->pos->ents[ent];
    size_t i, n = json_is_array(v) ? json_array_size(v) : 1;
    int rc = KUBE_OK;

    for (i = 0; json_is_array(v) && i < n; i++) {
        if (!json_is_object(json_array_get(v, i)))
            break;
    }
    if (!json_is_object(v) && (!json_is_array(v) || i < n)) {
        json_decref(v);
        return kube_yaml_fail(
            p, KUBE_EINVAL, e->val_line, e->val_col,
            "map merge requires map or sequence of maps as the "
            "value");
    }
    if (!f->merges)
        f->merges = json_array();
    if (!f->merges)
        rc = kube_yaml_nomem(p);
    else if (json_is_object(v) && json_array_append(f->merges, v))
        rc = kube_yaml_nomem(p);
    else if (json_is_array(v) && json_array_extend(f->merges, v))
        rc = kube_yaml_nomem(p);
    json_decref(v);
    return rc;
}

/* Puts finished value v (stolen) into its parent. height is its nesting
 * (0 for scalars), ent its position entry. */
static int node_attach(struct yp *p, json_t *v, size_t height, uint32_t ent)
{
    struct frame *f = top(p);
    int rc = KUBE_OK;

    if (!f) {
        p->doc.root = v;
        return KUBE_OK;
    }
    if (height > f->height)
        f->height = height;
    if (json_is_array(f->val)) {
        f->items++;
        return json_array_append_new(f->val, v) ? kube_yaml_nomem(p) : KUBE_OK;
    }
    if (f->merge_key)
        rc = merge_add(p, f, v, ent);
    else if (json_object_setn_new(f->val, json_string_value(f->key),
                                  json_string_length(f->key), v))
        rc = kube_yaml_nomem(p);
    json_decref(f->key);
    f->key = NULL;
    f->merge_key = 0;
    return rc;
}

/* Takes v (stolen) as the pending key of mapping f, after the checks a
 * key gets: a scalar, not null, not repeated. */
static int key_set(struct yp *p, struct frame *f, json_t *v, int merge,
                   const yaml_mark_t *m)
{
    json_t *k = NULL;
    char q[96];
    int rc;

    if (merge && f->seen_merge) {
        json_decref(v);
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "duplicate key \"<<\"");
    }
    rc = kube_yaml_key_string(&k, p, v, m);
    json_decref(v);
    if (rc < 0)
        return rc;
    if (!merge &&
        json_object_getn(f->val, json_string_value(k), json_string_length(k))) {
        kube_yaml_quote(q, sizeof(q), json_string_value(k),
                        json_string_length(k));
        json_decref(k);
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "duplicate key %s", q);
    }
    f->key = k;
    f->merge_key = (unsigned char)merge;
    f->seen_merge |= (unsigned char)merge;
    f->key_line = mark_line(m);
    f->key_col = mark_col(m);
    return KUBE_OK;
}

int kube_yaml_on_scalar(struct yp *p, const yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.scalar.anchor;
    struct frame *f = top(p);
    json_t *v = NULL;
    uint32_t ent = NO_ENT;
    int rc = count_nodes(p, 1, &ev->start_mark);

    if (rc == 0)
        rc = kube_yaml_scalar_value(&v, p, ev);
    if (rc < 0)
        return rc;
    if (expects_key(f)) {
        if (anchor && anchor_define(p, anchor, v, NO_ENT, 1, 0) < 0) {
            json_decref(v);
            return KUBE_ENOMEM;
        }
        return key_set(p, f, v, kube_yaml_is_merge_key(ev), &ev->start_mark);
    }
    rc = node_begin(&ent, p, &ev->start_mark, K_SCALAR);
    if (rc == 0 && anchor)
        rc = anchor_define(p, anchor, v, ent, 1, 0);
    if (rc < 0) {
        json_decref(v);
        return rc;
    }
    return node_attach(p, v, 0, ent);
}

int kube_yaml_on_alias(struct yp *p, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const yaml_mark_t *m = &ev->start_mark;
    const struct anchor *a = anchor_find(&p->anchors, name);
    char q[96];
    uint32_t ent;
    json_t *v;
    int rc;

    kube_yaml_quote(q, sizeof(q), name, strlen(name));
    if (!a)
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "unknown anchor %s referenced", q);
    if (++p->aliases > p->lim.max_alias_refs)
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "more than %zu alias references in one document",
                              p->lim.max_alias_refs);
    rc = count_nodes(p, a->nodes, m);
    if (rc < 0)
        return rc;
    if (a->height > p->lim.max_depth - p->depth)
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "nesting deeper than %zu through alias %s",
                              p->lim.max_depth, q);
    if (expects_key(top(p)))
        return key_set(p, top(p), json_incref(a->val), 0, m);
    v = json_deep_copy(a->val);
    if (!v)
        return kube_yaml_nomem(p);
    rc = node_begin(&ent, p, m, K_ALIAS);
    if (rc < 0) {
        json_decref(v);
        return rc;
    }
    p->pos->ents[ent].target = a->ent;
    return node_attach(p, v, a->height, ent);
}

void kube_yaml_frame_free(struct frame *f)
{
    json_decref(f->val);
    json_decref(f->key);
    json_decref(f->merges);
    free(f->anchor);
    memset(f, 0, sizeof(*f));
}

int kube_yaml_on_start(struct yp *p, const yaml_event_t *ev, int kind)
{
    const yaml_mark_t *m = &ev->start_mark;
    const yaml_char_t *anchor = kind == K_SEQ ? ev->data.sequence_start.anchor
                                              : ev->data.mapping_start.anchor;
    struct frame *f;
    uint32_t ent;
    void *q;
    int rc;

    if (expects_key(top(p)))
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "mapping key must be a scalar, not a %s",
                              kind == K_SEQ ? "sequence" : "mapping");
    if (p->depth >= p->lim.max_depth)
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "nesting deeper than %zu", p->lim.max_depth);
    rc = count_nodes(p, 1, m);
    if (rc < 0)
        return rc;
    q = kube_yaml_grow(p->stack, &p->stack_cap, p->depth + 1,
                       sizeof(*p->stack));
    if (!q)
        return kube_yaml_nomem(p);
    p->stack = q;
    rc = node_begin(&ent, p, m, kind);
    if (rc < 0)
        return rc;
    f = &p->stack[p->depth++];
    memset(f, 0, sizeof(*f));
    f->ent = ent;
    f->nodes0 = p->nodes - 1;
    f->val = kind == K_SEQ ? json_array() : json_object();
    if (anchor)
        f->anchor = strdup((const char *)anchor);
    if (!f->val || (anchor && !f->anchor))
        return kube_yaml_nomem(p); /* the frame is freed with the document */
    return KUBE_OK;
}

/* Copies in what "<<" brought, keys the mapping set itself winning, then
 * earlier merge sources over later ones. */
static int merges_apply(struct yp *p, struct frame *f)
{
    for (size_t i = 0; i < json_array_size(f->merges); i++) {
        json_t *src = json_array_get(f->merges, i);

        for (void *it = json_object_iter(src); it;
             it = json_object_iter_next(src, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);

            if (json_object_getn(f->val, k, klen))
                continue;
            if (json_object_setn(f->val, k, klen, json_object_iter_value(it)))
                return kube_yaml_nomem(p);
        }
    }
    return KUBE_OK;
}

int kube_yaml_on_end(struct yp *p)
{
    struct frame f;
    size_t height;
    int rc = KUBE_OK;

    assert(p->depth > 0); /* libyaml pairs start and end events */
    f = p->stack[--p->depth];
    height = f.height + 1;
    if (f.merges)
        rc = merges_apply(p, &f);
    if (rc == 0 && f.anchor)
        rc = anchor_define(p, f.anchor, f.val, f.ent, p->nodes - f.nodes0,
                           height);
    if (rc < 0) {
        kube_yaml_frame_free(&f);
        return rc;
    }
    json_decref(f.merges);
    json_decref(f.key);
    free(f.anchor);
    return node_attach(p, f.val, height, f.ent);
}
