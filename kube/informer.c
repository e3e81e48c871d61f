/* kube/informer.c - list+watch into the store on one thread per resource. */
#include "kube/informer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client_time.h"
#include "kube/json.h"
#include "kube/log.h"

enum { RV_LEN = 128, KIND_LEN = 128 };

struct kube_informer {
    struct kube_client *client;
    struct kube_store *store;
    struct kube_informer_opts o; /* ns and selectors: ours */
    struct kube_informer_handlers h;
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int synced;
    char kind[KIND_LEN];  /* only the informer's thread writes it */
    int64_t next_resync;  /* informer thread only */
    pthread_mutex_t lock; /* guards rv, stats; with changed for waits */
    pthread_cond_t changed;
    char rv[RV_LEN];                  /* guarded by lock */
    struct kube_informer_stats stats; /* guarded by lock */
};

/* The API server answered: a list, an event, a watch that ran its course.
 * Clears the failing state. */
static void heard(struct kube_informer *inf)
{
    pthread_mutex_lock(&inf->lock);
    inf->stats.last_ok_ms = kube_time_now_ms();
    inf->stats.failing_since_ms = 0;
    pthread_mutex_unlock(&inf->lock);
}

static void set_rv(struct kube_informer *inf, const char *rv)
{
    pthread_mutex_lock(&inf->lock);
    snprintf(inf->rv, sizeof(inf->rv), "%s", rv); /* opaque; never cut in
                                                     practice (int64) */
    pthread_mutex_unlock(&inf->lock);
}

static void get_rv(struct kube_informer *inf, char *buf, size_t len)
{
    pthread_mutex_lock(&inf->lock);
    snprintf(buf, len, "%s", inf->rv);
    pthread_mutex_unlock(&inf->lock);
}

/* Adds one to a counter in inf->stats. */
static void count(struct kube_informer *inf, unsigned long *field)
{
    pthread_mutex_lock(&inf->lock);
    (*field)++;
    pthread_mutex_unlock(&inf->lock);
}

static int stopping(struct kube_informer *inf)
{
    return atomic_load(&inf->stop);
}

/* Waits ms, or less when stop is asked; returns 1 when stopping. */
static int pause_ms(struct kube_informer *inf, long ms)
{
    int64_t until = kube_time_now_ms() + ms;

    pthread_mutex_lock(&inf->lock);
    while (!stopping(inf) &&
           !kube_time_wait_until(&inf->changed, &inf->lock, until))
        ;
    pthread_mutex_unlock(&inf->lock);
    return stopping(inf);
}

static const char *name_of(const json_t *obj)
{
    return kube_json_str0(obj, "metadata.name");
}

static const char *ns_of(const json_t *obj)
{
    return kube_json_str0(obj, "metadata.namespace");
}

/* obj with kind set (a new reference): watch objects of built-in types
 * may lack it, and the store keys on it. NULL on allocation failure. */
static json_t *typed(struct kube_informer *inf, json_t *obj)
{
    json_t *copy;

    if (json_is_string(json_object_get(obj, "kind")) || !inf->kind[0])
        return json_incref(obj);
    copy = json_copy(obj);
    if (copy && json_object_set_new(copy, "kind", json_string(inf->kind))) {
        json_decref(copy);
        copy = NULL;
    }
    return copy;
}

/* obj typed, then through the transform: what the store and the handlers
 * get (a new reference). NULL on allocation failure. */
static json_t *prepared(struct kube_informer *inf, json_t *obj)
{
    json_t *t = typed(inf, obj), *p;

    if (!t || !inf->o.transform)
        return t;
    p = inf->o.transform(t);
    json_decref(t);
    return p;
}

/* Stores obj (borrowed) and tells the handlers: add or update. When
 * only_changed is set (a relist) an object whose resourceVersion the store
 * already holds is left as it is, unread and undecoded, and calls no
 * handler. The old object is decoded only for on_update. */
static int upsert(struct kube_informer *inf, json_t *obj, int only_changed)
{
    json_t *t = prepared(inf, obj), *old = NULL;
    char rv[RV_LEN];
    const char *kind;
    int found, rc = KUBE_OK;

    if (!t)
        return KUBE_ENOMEM;
    kind = kube_json_str0(t, "kind");
    found = kube_store_version(rv, sizeof(rv), inf->store, kind, ns_of(t),
                               name_of(t)) != KUBE_ENOTFOUND;
    if (found && only_changed &&
        strcmp(rv, kube_json_str0(t, "metadata.resourceVersion")) == 0)
        goto done;
    if (found && inf->h.on_update)
        rc = kube_store_get(&old, inf->store, kind, ns_of(t), name_of(t));
    if (rc == KUBE_OK) /* only this thread writes our kind: still there */
        rc = kube_store_put_new(inf->store, json_incref(t));
    if (rc == KUBE_OK && old)
        inf->h.on_update(old, t, inf->h.ctx);
    else if (rc == KUBE_OK && !found && inf->h.on_add)
        inf->h.on_add(t, inf->h.ctx);
done:
    json_decref(old);
    json_decref(t);
    return rc;
}

static void remove_obj(struct kube_informer *inf, const json_t *obj)
{
    const char *kind = kube_json_str(obj, "kind");

    if (kube_store_delete(inf->store, kind ? kind : inf->kind, ns_of(obj),
                          name_of(obj)) == 0 &&
        inf->h.on_delete)
        inf->h.on_delete(obj, inf->h.ctx);
}

/* "ns/name" into buf. */
static void key_of(char *buf, size_t len, const char *ns, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", ns, name);

    if (n < 0)
        buf[0] = '\0';
}

/* Deletes stored objects of our kind and scope that the list lacks
 * (only those are decoded, for on_delete). */
static int drop_missing(struct kube_informer *inf, const json_t *items)
{
    json_t *seen = json_object(), *stored = NULL, *it, *gone;
    char key[512];
    size_t i;
    int rc = KUBE_ENOMEM;

    if (!seen)
        return rc;
    json_array_foreach(items, i, it)
    {
        key_of(key, sizeof(key), ns_of(it), name_of(it));
        if (json_object_set_new(seen, key, json_true()))
            goto done;
    }
    rc = kube_store_keys(&stored, inf->store, inf->kind, inf->o.ns);
    if (rc < 0)
        goto done;
    json_array_foreach(stored, i, it)
    {
        const char *ns = json_string_value(json_array_get(it, 0));
        const char *name = json_string_value(json_array_get(it, 1));

        key_of(key, sizeof(key), ns, name);
        if (json_object_get(seen, key) ||
            kube_store_get(&gone, inf->store, inf->kind, ns, name) < 0)
            continue;
        remove_obj(inf, gone);
        json_decref(gone);
    }
done:
    json_decref(stored);
    json_decref(seen);
    return rc;
}

/* The kind of the list's items ("FooList" minus "List"). */
static void learn_kind(struct kube_informer *inf, const json_t *list)
{
    const char *k = kube_json_str0(list, "kind");
    size_t n = strlen(k);

    if (n > 4 && n - 4 < sizeof(inf->kind) && strcmp(k + n - 4, "List") == 0)
        snprintf(inf->kind, sizeof(inf->kind), "%.*s", (int)(n - 4), k);
}

/* A list succeeded: count it, and after failures reset the backoff (the
 * next failure waits the minimum again) and say so. */
static void recovered(struct kube_informer *inf)
{
    int64_t now = kube_time_now_ms(), since;
    long backoff;

    pthread_mutex_lock(&inf->lock);
    inf->stats.lists++;
    since = inf->stats.failing_since_ms;
    backoff = inf->stats.backoff_ms;
    inf->stats.backoff_ms = 0;
    inf->stats.last_ok_ms = now;
    inf->stats.failing_since_ms = 0;
    pthread_mutex_unlock(&inf->lock);
    if (backoff > 0)
        kube_log(KUBE_LOG_INFO, "informer recovered", "{s:s, s:I, s:I}",
                 "resource", inf->o.gvr->resource, "failingMs",
                 (json_int_t)(since ? now - since : 0), "lastBackoffMs",
                 (json_int_t)backoff);
}

static int relist(struct kube_informer *inf)
{
    struct kube_list_opts lo = {
        .label_selector = inf->o.label_selector,
        .field_selector = inf->o.field_selector,
        .limit = inf->o.page_limit,
        .max_retries = -1, /* our loop backs off, and stops promptly */
        .cancel = &inf->stop,
    };
    struct kube_err err = {0};
    json_t *list = NULL, *items, *it;
    size_t i;
    int rc;

    rc = kube_client_list(&list, inf->client, inf->o.gvr, inf->o.ns, &lo, NULL,
                          &err);
    if (rc < 0) {
        if (!stopping(inf))
            kube_log(KUBE_LOG_WARN, "informer list failed", "{s:s, s:s}",
                     "resource", inf->o.gvr->resource, "error", err.msg);
        return rc;
    }
    learn_kind(inf, list);
    items = json_object_get(list, "items");
    json_array_foreach(items, i, it)
    {
        rc = upsert(inf, it, 1);
        if (rc < 0)
            goto done;
    }
    rc = drop_missing(inf, items);
    if (rc < 0)
        goto done;
    set_rv(inf, kube_json_str0(list, "metadata.resourceVersion"));
    recovered(inf);
    if (!atomic_exchange(&inf->synced, 1)) {
        pthread_mutex_lock(&inf->lock);
        pthread_cond_broadcast(&inf->changed);
        pthread_mutex_unlock(&inf->lock);
        kube_log(KUBE_LOG_INFO, "informer synced", "{s:s, s:i}", "resource",
                 inf->o.gvr->resource, "objects", (int)json_array_size(items));
    }
done:
    json_decref(list);
    return rc;
}

static int on_event(const struct kube_watch_event *ev, void *ctx)
{
    struct kube_informer *inf = ctx;
    json_t *gone;
    int rc = 0;

    switch (ev->type) {
    case KUBE_WATCH_ADDED:
    case KUBE_WATCH_MODIFIED:
        rc = upsert(inf, ev->object, 0);
        break;
    case KUBE_WATCH_DELETED:
        gone = prepared(inf, ev->object); /* on_delete sees what we keep */
        if (gone)
            remove_obj(inf, gone);
        else
            rc = KUBE_ENOMEM;
        json_decref(gone);
        break;
    case KUBE_WATCH_BOOKMARK:
        break; /* only its resourceVersion matters */
    }
    if (rc == 0 && ev->resource_version[0])
        set_rv(inf, ev->resource_version);
    count(inf, &inf->stats.events);
    heard(inf);
    return rc;
}

/* Every stored object of ours through on_update, client-go's resync. */
static void resync(struct kube_informer *inf)
{
    json_t *all = NULL, *it;
    size_t i;

    if (!inf->h.on_update ||
        kube_store_list(&all, inf->store, inf->kind, inf->o.ns) < 0)
        return;
    json_array_foreach(all, i, it)
    {
        if (stopping(inf))
            break;
        inf->h.on_update(it, it, inf->h.ctx);
    }
    json_decref(all);
}

/* Seconds this watch may last: the configured timeout, cut so the next
 * resync is not late. */
static long watch_seconds(struct kube_informer *inf)
{
    long t = inf->o.watch_timeout_s;
    int64_t left;

    if (inf->o.resync_ms > 0) {
        left = (inf->next_resync - kube_time_now_ms() + 999) / 1000;
        if (left < t)
            t = left < 1 ? 1 : (long)left;
    }
    return t;
}

/* Watches until the stream ends; 0 to watch again, <0 to relist. */
static int watch_once(struct kube_informer *inf)
{
    char rv[RV_LEN];
    struct kube_watch_opts wo = {
        .resource_version = rv,
        .label_selector = inf->o.label_selector,
        .field_selector = inf->o.field_selector,
        .timeout_s = watch_seconds(inf),
        .bookmarks = 1,
        .cancel = &inf->stop,
    };
    struct kube_err err = {0};
    int rc;

    get_rv(inf, rv, sizeof(rv));
    count(inf, &inf->stats.watches);
    rc = kube_client_watch(inf->client, inf->o.gvr, inf->o.ns, &wo, on_event,
                           inf, NULL, &err);
    if (rc == KUBE_EGONE) {
        count(inf, &inf->stats.gone);
        kube_log(KUBE_LOG_INFO, "watch expired, relisting", "{s:s, s:s}",
                 "resource", inf->o.gvr->resource, "resourceVersion", rv);
    } else if (rc < 0 && !stopping(inf)) {
        kube_log(KUBE_LOG_WARN, "watch failed, relisting", "{s:s, s:s}",
                 "resource", inf->o.gvr->resource, "error", err.msg);
    }
    return rc;
}

/* Doubles the backoff (from backoff_min_ms, up to backoff_max_ms), counts
 * the failure and marks the informer failing. Returns the new wait. */
static long next_backoff(struct kube_informer *inf)
{
    long d;

    pthread_mutex_lock(&inf->lock);
    d = inf->stats.backoff_ms ? inf->stats.backoff_ms * 2
                              : inf->o.backoff_min_ms;
    if (d > inf->o.backoff_max_ms)
        d = inf->o.backoff_max_ms;
    inf->stats.backoff_ms = d;
    inf->stats.errors++;
    if (!inf->stats.failing_since_ms)
        inf->stats.failing_since_ms = kube_time_now_ms();
    pthread_mutex_unlock(&inf->lock);
    return d;
}

/* Waits the backoff with jitter (up to +50%); 1 when stopping. */
static int back_off(struct kube_informer *inf)
{
    long d = next_backoff(inf);

    return pause_ms(inf, d + (long)kube_time_jitter((uint64_t)d / 2 + 1));
}

/* Watches from the list's RV until a failure; returns the failure. A
 * watch that ran its course counts as hearing from the server. */
static int watch_loop(struct kube_informer *inf)
{
    int rc;

    for (;;) {
        if (inf->o.resync_ms > 0 && kube_time_now_ms() >= inf->next_resync) {
            resync(inf);
            inf->next_resync = kube_time_now_ms() + inf->o.resync_ms;
        }
        rc = watch_once(inf);
        if (rc < 0 || stopping(inf))
            return rc;
        heard(inf);
    }
}

static void *run(void *arg)
{
    struct kube_informer *inf = arg;

    inf->next_resync = kube_time_now_ms() + inf->o.resync_ms;
    while (!stopping(inf)) {
        if (relist(inf) < 0) {
            if (back_off(inf))
                break;
            continue;
        }
        if (watch_loop(inf) == KUBE_EGONE)
            continue; /* an expired RV: relist at once */
        if (!stopping(inf) && back_off(inf))
            break;
    }
    return NULL;
}

static int dup_opt(const char **dst, const char *s)
{
    if (!s)
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : -1;
}

static void set_defaults(struct kube_informer_opts *o)
{
    if (o->page_limit <= 0)
        o->page_limit = 500;
    if (o->watch_timeout_s <= 0)
        o->watch_timeout_s = 300;
    if (o->backoff_min_ms <= 0)
        o->backoff_min_ms = 800;
    if (o->backoff_max_ms < o->backoff_min_ms)
        o->backoff_max_ms =
            o->backoff_min_ms > 30000 ? o->backoff_min_ms : 30000;
}

int kube_informer_new(struct kube_informer **out, struct kube_client *c,
                      struct kube_store *s, const struct kube_informer_opts *o,
                      const struct kube_informer_handlers *h,
                      struct kube_err *err)
{
    struct kube_informer *inf;

    if (!o || !o->gvr || !o->gvr->resource)
        return kube_err_set(err, KUBE_EINVAL, "informer: no resource");
    inf = calloc(1, sizeof(*inf));
    if (!inf)
        return kube_err_set(err, KUBE_ENOMEM, "informer: out of memory");
    inf->client = c;
    inf->store = s;
    inf->o = *o;
    inf->o.ns = inf->o.label_selector = inf->o.field_selector = NULL;
    if (h)
        inf->h = *h;
    set_defaults(&inf->o);
    if (pthread_mutex_init(&inf->lock, NULL) != 0) {
        free(inf);
        return kube_err_set(err, KUBE_ERR, "informer: mutex init failed");
    }
    if (kube_time_cond_init(&inf->changed) < 0 ||
        dup_opt(&inf->o.ns, o->ns && o->ns[0] ? o->ns : NULL) < 0 ||
        dup_opt(&inf->o.label_selector, o->label_selector) < 0 ||
        dup_opt(&inf->o.field_selector, o->field_selector) < 0) {
        kube_informer_free(inf); /* cond is zeroed: destroy is harmless */
        return kube_err_set(err, KUBE_ENOMEM, "informer: out of memory");
    }
    *out = inf;
    return KUBE_OK;
}

int kube_informer_start(struct kube_informer *inf, struct kube_err *err)
{
    if (inf->started)
        return kube_err_set(err, KUBE_EINVAL, "informer: already started");
    if (pthread_create(&inf->thread, NULL, run, inf) != 0)
        return kube_err_set(err, KUBE_ERR, "informer: cannot start thread");
    inf->started = 1;
    return KUBE_OK;
}

int kube_informer_synced(struct kube_informer *inf)
{
    return atomic_load(&inf->synced);
}

int kube_informer_fresh(struct kube_informer *inf, long stale_ms)
{
    int64_t since;

    if (!atomic_load(&inf->synced))
        return 0;
    pthread_mutex_lock(&inf->lock);
    since = inf->stats.failing_since_ms;
    pthread_mutex_unlock(&inf->lock);
    return !since || stale_ms <= 0 || kube_time_now_ms() - since < stale_ms;
}

int kube_informer_wait_synced(struct kube_informer *inf, long timeout_ms)
{
    int64_t until = timeout_ms < 0 ? -1 : kube_time_now_ms() + timeout_ms;

    pthread_mutex_lock(&inf->lock);
    while (!atomic_load(&inf->synced) && !stopping(inf) &&
           !kube_time_wait_until(&inf->changed, &inf->lock, until))
        ;
    pthread_mutex_unlock(&inf->lock);
    return atomic_load(&inf->synced);
}

void kube_informer_resource_version(struct kube_informer *inf, char *buf,
                                    size_t len)
{
    get_rv(inf, buf, len);
}

void kube_informer_stats(struct kube_informer *inf,
                         struct kube_informer_stats *out)
{
    pthread_mutex_lock(&inf->lock);
    *out = inf->stats;
    pthread_mutex_unlock(&inf->lock);
}

void kube_informer_cancel(struct kube_informer *inf)
{
    atomic_store(&inf->stop, 1);
    pthread_mutex_lock(&inf->lock);
    pthread_cond_broadcast(&inf->changed);
    pthread_mutex_unlock(&inf->lock);
}

void kube_informer_stop(struct kube_informer *inf)
{
    kube_informer_cancel(inf);
    if (inf->started) {
        pthread_join(inf->thread, NULL);
        inf->started = 0;
    }
}

void kube_informer_free(struct kube_informer *inf)
{
    if (!inf)
        return;
    kube_informer_stop(inf);
    free((char *)inf->o.ns);
    free((char *)inf->o.label_selector);
    free((char *)inf->o.field_selector);
    pthread_cond_destroy(&inf->changed);
    pthread_mutex_destroy(&inf->lock);
    free(inf);
}
