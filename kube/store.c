/* kube/store.c - cluster objects by kind, namespace and name: nested
 * jansson objects (kind -> namespace -> name -> object) under a rwlock, so
 * a lookup is three hash probes and a namespace list touches only that
 * namespace. */
#include "kube/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/yaml.h"

struct kube_store {
    pthread_rwlock_t lock;
    json_t *kinds; /* guarded by lock */
    size_t count;  /* guarded by lock */
};

int kube_store_new(struct kube_store **out)
{
    struct kube_store *s = calloc(1, sizeof(*s));

    if (!s)
        return KUBE_ENOMEM;
    s->kinds = json_object();
    if (!s->kinds || pthread_rwlock_init(&s->lock, NULL)) {
        json_decref(s->kinds);
        free(s);
        return KUBE_ENOMEM;
    }
    *out = s;
    return KUBE_OK;
}

void kube_store_free(struct kube_store *s)
{
    if (!s)
        return;
    pthread_rwlock_destroy(&s->lock);
    json_decref(s->kinds);
    free(s);
}

/* The child object of parent at key, created when create is set.
 * Borrowed. Caller holds the write lock when create is set. */
static json_t *child(json_t *parent, const char *key, int create)
{
    json_t *c = json_object_get(parent, key);

    if (c || !create)
        return c;
    c = json_object();
    if (!c || json_object_set_new(parent, key, c))
        return NULL;
    return c;
}

int kube_store_put_new(struct kube_store *s, json_t *obj)
{
    const char *kind = kube_json_str(obj, "kind");
    const char *name = kube_json_str(obj, "metadata.name");
    const char *ns = kube_json_str0(obj, "metadata.namespace");
    json_t *names;
    int rc = KUBE_EINVAL;

    if (!kind || !*kind || !name || !*name)
        goto done;
    pthread_rwlock_wrlock(&s->lock);
    names = child(child(s->kinds, kind, 1), ns, 1);
    rc = KUBE_ENOMEM;
    if (names) {
        int existed = json_object_get(names, name) != NULL;
        if (json_object_set(names, name, obj) == 0) {
            s->count += !existed;
            rc = KUBE_OK;
        }
    }
    pthread_rwlock_unlock(&s->lock);
done:
    json_decref(obj);
    return rc;
}

int kube_store_delete(struct kube_store *s, const char *kind, const char *ns,
                      const char *name)
{
    json_t *names;
    int rc = KUBE_ENOTFOUND;

    pthread_rwlock_wrlock(&s->lock);
    names = child(child(s->kinds, kind, 0), ns ? ns : "", 0);
    if (names && json_object_del(names, name) == 0) {
        s->count--;
        rc = KUBE_OK;
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int kube_store_get(json_t **out, struct kube_store *s, const char *kind,
                   const char *ns, const char *name)
{
    json_t *names, *obj = NULL;

    pthread_rwlock_rdlock(&s->lock);
    names = child(child(s->kinds, kind, 0), ns ? ns : "", 0);
    if (names)
        obj = json_incref(json_object_get(names, name));
    pthread_rwlock_unlock(&s->lock);
    if (!obj)
        return KUBE_ENOTFOUND;
    *out = obj;
    return KUBE_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(kube_json_str0(*(json_t *const *)a, "metadata.name"),
                  kube_json_str0(*(json_t *const *)b, "metadata.name"));
}

/* Appends references to every object of one namespace map. */
static int append_all(json_t *arr, json_t *names)
{
    const char *key;
    json_t *obj;

    json_object_foreach(names, key, obj)
    {
        if (json_array_append(arr, obj))
            return KUBE_ENOMEM;
    }
    return KUBE_OK;
}

/* Sorts a JSON array of objects by metadata.name. */
static int sort_by_name(json_t **out, json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **v = malloc((n ? n : 1) * sizeof(*v)), *sorted = json_array();
    int rc = KUBE_ENOMEM;

    if (!v || !sorted)
        goto done;
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(arr, i);
    qsort(v, n, sizeof(*v), cmp_name);
    for (size_t i = 0; i < n; i++)
        if (json_array_append(sorted, v[i]))
            goto done;
    *out = sorted;
    sorted = NULL;
    rc = KUBE_OK;
done:
    json_decref(sorted);
    free(v);
    return rc;
}

int kube_store_list(json_t **out, struct kube_store *s, const char *kind,
                    const char *ns)
{
    json_t *arr = json_array(), *byns, *names;
    const char *key;
    int rc = arr ? KUBE_OK : KUBE_ENOMEM;

    pthread_rwlock_rdlock(&s->lock);
    byns = child(s->kinds, kind, 0);
    if (rc == KUBE_OK && byns && ns) {
        names = child(byns, ns, 0);
        if (names)
            rc = append_all(arr, names);
    } else if (rc == KUBE_OK && byns) {
        json_object_foreach(byns, key, names)
        {
            if (append_all(arr, names))
                rc = KUBE_ENOMEM;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    if (rc == KUBE_OK)
        rc = sort_by_name(out, arr);
    json_decref(arr);
    return rc;
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
