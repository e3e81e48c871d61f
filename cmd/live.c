/* cmd/live.c - bounded, shared live GETs on threads of their own. */
#include "cmd/live.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client_time.h"

enum { KEY_LEN = 768 };

/* One GET and its answer. Referenced by the list (until it expires), its
 * thread (until done) and each waiting reader; the last one frees it. */
struct call {
    struct cmd_live *l;
    struct call *next;
    char key[KEY_LEN]; /* group/resource/ns/name */
    const struct kube_gvr *gvr;
    char *ns, *name;
    int refs, done;  /* guarded by l->lock */
    int64_t expires; /* guarded by l->lock: when done, end of keep_ms */
    int rc;          /* set once done */
    json_t *obj;     /* the answer, shared read-only */
    struct kube_err err;
};

struct cmd_live {
    struct kube_client *client;
    struct cmd_live_opts o;
    pthread_mutex_t lock;
    pthread_cond_t changed;      /* a call finished */
    struct call *calls;          /* guarded by lock */
    int running;                 /* guarded by lock */
    struct cmd_live_stats stats; /* guarded by lock */
};

int cmd_live_new(struct cmd_live **out, struct kube_client *c,
                 const struct cmd_live_opts *o)
{
    struct cmd_live *l = calloc(1, sizeof(*l));

    if (!l || kube_time_cond_init(&l->changed) < 0) {
        free(l);
        return KUBE_ENOMEM;
    }
    pthread_mutex_init(&l->lock, NULL); /* default attributes: no failure */
    l->client = c;
    l->o = *o;
    if (l->o.max < 1)
        l->o.max = 1;
    *out = l;
    return KUBE_OK;
}

/* Drops a reference to k; the last frees it. Caller holds l->lock. */
static void unref(struct call *k)
{
    if (--k->refs > 0)
        return;
    json_decref(k->obj);
    free(k->ns);
    free(k->name);
    free(k);
}

/* Unlinks finished calls whose keep_ms has passed. Caller holds lock. */
static void purge(struct cmd_live *l, int64_t now)
{
    struct call **p = &l->calls;

    while (*p) {
        struct call *k = *p;
        if (k->done && now >= k->expires) {
            *p = k->next;
            unref(k);
        } else {
            p = &k->next;
        }
    }
}

static struct call *find(struct cmd_live *l, const char *key)
{
    for (struct call *k = l->calls; k; k = k->next)
        if (strcmp(k->key, key) == 0)
            return k;
    return NULL;
}

/* The GET, on the call's own thread: one attempt, no retry (the reader's
 * caller retries: kube-apiserver's client re-sends after our 503). */
static void *run(void *arg)
{
    struct call *k = arg;
    struct cmd_live *l = k->l;
    struct kube_request r = {
        .method = "GET",
        .gvr = k->gvr,
        .ns = k->ns,
        .name = k->name,
        .idempotent = 1,
        .timeout_ms = l->o.get_ms,
        .max_retries = -1,
    };
    json_t *obj = NULL;
    int rc = kube_client_do(&obj, l->client, &r, NULL, &k->err);

    pthread_mutex_lock(&l->lock);
    k->rc = rc;
    k->obj = rc == KUBE_OK ? obj : NULL;
    k->done = 1;
    /* an answer serves later reads; a failure only its waiters */
    k->expires = kube_time_now_ms() +
                 (rc == KUBE_OK || rc == KUBE_ENOTFOUND ? l->o.keep_ms : 0);
    l->running--;
    pthread_cond_broadcast(&l->changed);
    unref(k);
    pthread_mutex_unlock(&l->lock);
    if (rc != KUBE_OK)
        json_decref(obj);
    return NULL;
}

/* A new call for key, its thread started; NULL (with err) when max GETs
 * run or a thread cannot start. Caller holds lock. */
static struct call *start(struct cmd_live *l, const char *key,
                          const struct kube_gvr *gvr, const char *ns,
                          const char *name, struct kube_err *err)
{
    struct call *k = NULL;
    pthread_attr_t attr;
    pthread_t t;

    if (l->running >= l->o.max) {
        l->stats.refused++;
        kube_err_set(err, KUBE_EUNAVAIL, "too many live reads in flight (%d)",
                     l->o.max);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k) {
        k->ns = ns ? strdup(ns) : NULL;
        k->name = strdup(name);
    }
    if (!k || (ns && !k->ns) || !k->name || pthread_attr_init(&attr) != 0)
        goto fail;
    k->l = l;
    k->gvr = gvr;
    snprintf(k->key, sizeof(k->key), "%s", key);
    k->refs = 2; /* the list's and the thread's */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, run, k) != 0) {
        pthread_attr_destroy(&attr);
        goto fail;
    }
    pthread_attr_destroy(&attr);
    k->next = l->calls;
    l->calls = k;
    l->running++;
    l->stats.sent++;
    return k;
fail:
    if (k) {
        free(k->ns);
        free(k->name);
        free(k);
    }
    kube_err_set(err, KUBE_EUNAVAIL, "cannot start a live read");
    return NULL;
}

/* Waits up to wait_ms for k and takes its answer. Caller holds lock and a
 * reference to k, which this drops. */
static int take(json_t **out, struct cmd_live *l, struct call *k,
                struct kube_err *err)
{
    int64_t until = kube_time_now_ms() + l->o.wait_ms;
    int rc;

    while (!k->done && !kube_time_wait_until(&l->changed, &l->lock, until))
        ;
    if (!k->done) {
        l->stats.late++;
        rc = kube_err_set(err, KUBE_EUNAVAIL,
                          "the API server has not answered within %ld ms",
                          l->o.wait_ms);
    } else {
        rc = k->rc;
        if (rc == KUBE_OK)
            *out = json_incref(k->obj);
        else if (err)
            *err = k->err;
    }
    unref(k);
    return rc;
}

int cmd_live_get(json_t **out, struct cmd_live *l, const struct kube_gvr *gvr,
                 const char *ns, const char *name, struct kube_err *err)
{
    char key[KEY_LEN];
    struct call *k;
    int n = snprintf(key, sizeof(key), "%s/%s/%s/%s", gvr->group, gvr->resource,
                     ns ? ns : "", name);
    int rc;

    if (n < 0 || (size_t)n >= sizeof(key))
        return kube_err_set(err, KUBE_EINVAL, "live read: name too long");
    pthread_mutex_lock(&l->lock);
    purge(l, kube_time_now_ms());
    k = find(l, key);
    if (k)
        l->stats.shared++;
    else
        k = start(l, key, gvr, ns, name, err);
    if (!k) {
        pthread_mutex_unlock(&l->lock);
        return KUBE_EUNAVAIL;
    }
    k->refs++;
    rc = take(out, l, k, err);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

void cmd_live_stats(struct cmd_live *l, struct cmd_live_stats *out)
{
    pthread_mutex_lock(&l->lock);
    *out = l->stats;
    pthread_mutex_unlock(&l->lock);
}

void cmd_live_free(struct cmd_live *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    while (l->running > 0)
        pthread_cond_wait(&l->changed, &l->lock);
    while (l->calls) {
        struct call *k = l->calls;
        l->calls = k->next;
        unref(k);
    }
    pthread_mutex_unlock(&l->lock);
    pthread_cond_destroy(&l->changed);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
