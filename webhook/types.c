/* webhook/types.c - JSON type checks before the rules read an object, so
 * `spec.source: "vm1"` is a 400 that names the field, not a crash or a
 * silent allow. Paths: "a.b" for a field, "a[]" for each item. */
#include "webhook/admission.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int type_is(const json_t *v, json_type t)
{
    if (t == JSON_TRUE || t == JSON_FALSE)
        return json_is_boolean(v);
    if (t == JSON_REAL)
        return json_is_number(v);
    return json_typeof(v) == t;
}

/* The way down to the value being checked. Field names are written only
 * when a type is wrong: the common, well-typed request pays no snprintf. */
#define WALK_MAX 16
struct walk {
    struct {
        const char *key; /* NULL for an array index */
        size_t n;        /* key length, or the index */
    } seg[WALK_MAX];
    size_t depth;
};

/* Renders the walk Kubernetes style ("spec.patches[1]"). */
static void walk_field(char *buf, size_t len, const struct walk *w)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < w->depth && used < len; i++) {
        int n = w->seg[i].key
                    ? snprintf(buf + used, len - used, "%s%.*s",
                               used ? "." : "", (int)w->seg[i].n, w->seg[i].key)
                    : snprintf(buf + used, len - used, "[%zu]", w->seg[i].n);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int wrong_type(char *msg, size_t len, const struct walk *w,
                      const char *want, const char *alt, const json_t *v)
{
    char field[512];

    walk_field(field, sizeof(field), w);
    snprintf(msg, len, "%s: expected %s%s%s, got %s",
             w->depth ? field : "object", want, alt ? " or " : "",
             alt ? alt : "", type_name(json_typeof(v)));
    return KUBE_EINVAL;
}

/* Walks the path from its segment at p under v, checking the leaf. */
static int check_at(const json_t *v, const char *p,
                    const struct wh_typecheck *tc, struct walk *w, char *msg,
                    size_t len)
{
    int rc = KUBE_OK;

    if (!v || json_is_null(v))
        return KUBE_OK; /* absence is for the rules to judge */
    if (!*p) {
        if (type_is(v, tc->type) ||
            (tc->alt != JSON_NULL && type_is(v, tc->alt)))
            return KUBE_OK;
        return wrong_type(msg, len, w, type_name(tc->type),
                          tc->alt != JSON_NULL ? type_name(tc->alt) : NULL, v);
    }
    assert(w->depth < WALK_MAX); /* our own tables are shallow */
    if (strncmp(p, "[]", 2) == 0) {
        size_t i;
        const json_t *it;
        if (!json_is_array(v))
            return wrong_type(msg, len, w, "an array", NULL, v);
        json_array_foreach((json_t *)v, i, it)
        {
            w->seg[w->depth].key = NULL;
            w->seg[w->depth++].n = i;
            rc = check_at(it, p + 2, tc, w, msg, len);
            w->depth--;
            if (rc < 0)
                break;
        }
        return rc;
    }
    const char *seg = *p == '.' ? p + 1 : p;
    size_t n = strcspn(seg, ".[");
    if (!json_is_object(v))
        return wrong_type(msg, len, w, "an object", NULL, v);
    w->seg[w->depth].key = seg;
    w->seg[w->depth++].n = n;
    rc = check_at(json_object_getn((json_t *)v, seg, n), seg + n, tc, w, msg,
                  len);
    w->depth--;
    return rc;
}

#define SCAN_MAX 4 /* members searched in order, not hashed */

/* v's member named key[0..n), borrowed, or NULL; v an object. One of a
 * few members is found in order, cheaper than jansson hashing key; a
 * larger object asks json_object_getn. The same member either way: a
 * jansson object's keys are unique. */
static const json_t *member(const json_t *v, const char *key, size_t n)
{
    json_t *o = (json_t *)v; /* jansson's iterators take non-const */

    if (json_object_size(v) > SCAN_MAX)
        return json_object_getn(o, key, n);
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it))
        if (json_object_iter_key_len(it) == n &&
            memcmp(json_object_iter_key(it), key, n) == 0)
            return json_object_iter_value(it);
    return NULL;
}

/* The parent of the row being checked. Rows mostly share one with the
 * row before ("spec.source.apiGroup", "spec.source.kind"), so the walk
 * down to it is done once for them. */
struct parent {
    const char *path; /* a row whose path starts with the parent's */
    size_t n;         /* the parent's length in path; 0: none yet */
    const json_t *v;  /* the value there; NULL when absent or null */
    struct walk w;    /* the way down to it, for messages */
};

/* Walks path[0..n) (keys only) from obj into pa. Returns 0 when a value
 * on the way is neither an object nor absent: check_at then names it. */
static int reach(struct parent *pa, const json_t *obj, const char *path,
                 size_t n)
{
    const json_t *v = obj;

    pa->n = 0; /* until it is reached */
    pa->w.depth = 0;
    for (size_t at = 0; at < n && v && !json_is_null(v);) {
        size_t k = strcspn(path + at, ".["); /* n ends at one of them */
        if (!json_is_object(v))
            return 0;
        assert(pa->w.depth < WALK_MAX);
        pa->w.seg[pa->w.depth].key = path + at;
        pa->w.seg[pa->w.depth++].n = k;
        v = json_object_getn((json_t *)v, path + at, k);
        at += k + 1;
    }
    pa->v = v && !json_is_null(v) ? v : NULL;
    pa->path = path;
    pa->n = n;
    return 1;
}

/* Whether field key of v passes tc as check_at would pass it: v or the
 * field absent or null, or the field of tc's type. 0 when check_at must
 * look (and name what is wrong). One lookup, no walk: most rows end in
 * a plain key, and most fields are well typed. */
static int leaf_ok(const json_t *v, const char *key,
                   const struct wh_typecheck *tc)
{
    const json_t *f;

    if (!v || json_is_null(v))
        return 1;
    if (!json_is_object(v))
        return 0;
    f = member(v, key, strlen(key));
    return !f || json_is_null(f) || type_is(f, tc->type) ||
           (tc->alt != JSON_NULL && type_is(f, tc->alt));
}

/* One row: from the parent it shares with the row before when it can
 * (the field before the last '.', or the array before the first "[]"),
 * else from the top. */
static int check_row(struct parent *pa, const json_t *obj,
                     const struct wh_typecheck *tc, char *msg, size_t len)
{
    const char *cut = strchr(tc->path, '[');
    size_t n;
    struct walk w;

    if (!cut)
        cut = strrchr(tc->path, '.');
    n = cut ? (size_t)(cut - tc->path) : 0;
    if (n > 0 && ((pa->n == n && memcmp(pa->path, tc->path, n) == 0) ||
                  reach(pa, obj, tc->path, n))) {
        if (*cut == '.' && leaf_ok(pa->v, cut + 1, tc))
            return KUBE_OK; /* "a.b.key": key is all that is left */
        return check_at(pa->v, cut, tc, &pa->w, msg, len);
    }
    if (!cut && leaf_ok(obj, tc->path, tc))
        return KUBE_OK; /* "key" */
    w.depth = 0;
    return check_at(obj, tc->path, tc, &w, msg, len);
}

int wh_types_check(const struct wh_kind *k, const json_t *obj, char *msg,
                   size_t len)
{
    static const struct wh_typecheck meta[] = {
        {"metadata", JSON_OBJECT, JSON_NULL},
        {"metadata.name", JSON_STRING, JSON_NULL},
        {"metadata.namespace", JSON_STRING, JSON_NULL},
        {"metadata.uid", JSON_STRING, JSON_NULL},
        {"metadata.labels", JSON_OBJECT, JSON_NULL},
        {"metadata.deletionTimestamp", JSON_STRING, JSON_NULL},
        {"spec", JSON_OBJECT, JSON_NULL},
        {"status", JSON_OBJECT, JSON_NULL},
        {NULL, JSON_NULL, JSON_NULL},
    };
    const struct wh_typecheck *tables[] = {meta, k->types};
    struct parent pa = {NULL, 0, NULL, {.depth = 0}};

    if (!json_is_object(obj)) {
        snprintf(msg, len, "the object is %s, not an object",
                 type_name(json_typeof(obj)));
        return KUBE_EINVAL;
    }
    for (size_t t = 0; t < 2; t++) {
        for (const struct wh_typecheck *tc = tables[t]; tc && tc->path; tc++) {
            int rc = check_row(&pa, obj, tc, msg, len);
            if (rc < 0)
                return rc;
        }
    }
    return KUBE_OK;
}
