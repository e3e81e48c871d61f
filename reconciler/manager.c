/* reconciler/manager.c - controller rows, leadership terms and the
 * workers' wrapper around each reconcile. */
#include "reconciler/manager.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/log.h"

/* One controller in one term. */
struct slot {
    struct term *term;
    size_t self;
    struct rc_queue *q;
};

/* A leadership term: what rc_manager_unlead stops and frees. */
struct term {
    struct rc_manager *m;
    atomic_int cancel;
    struct slot *slots; /* one per controller */
};

struct counters {
    atomic_ulong reconciles, failures, noretry, terms;
};

struct rc_manager {
    struct rc_manager_opts o;
    struct rc_queue_opts qo;
    struct counters *counters; /* one per controller */
    pthread_mutex_t lock;
    struct term *term; /* guarded by lock; NULL when not leading */
};

int rc_key_split(char ns[RC_NAME_MAX], char name[RC_NAME_MAX], const char *key)
{
    const char *slash = strchr(key, '/');
    const char *n = slash ? slash + 1 : key;
    size_t nslen = slash ? (size_t)(slash - key) : 0;

    if (!*n || strchr(n, '/') || nslen >= RC_NAME_MAX ||
        strlen(n) >= RC_NAME_MAX)
        return KUBE_EINVAL;
    memcpy(ns, key, nslen);
    ns[nslen] = '\0';
    memcpy(name, n, strlen(n) + 1);
    return KUBE_OK;
}

int rc_key_of(char *buf, size_t len, const json_t *obj)
{
    const char *ns = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "namespace"));
    const char *name = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "name"));
    int n;

    if (!name || !*name)
        return KUBE_EINVAL;
    n = ns && *ns ? snprintf(buf, len, "%s/%s", ns, name)
                  : snprintf(buf, len, "%s", name);
    return n < 0 || (size_t)n >= len ? KUBE_EINVAL : KUBE_OK;
}

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The queue's handler: one reconcile with the term's cancel flag. */
static int run_one(const char *key, void *arg, long *requeue_after_ms)
{
    struct slot *s = arg;
    struct rc_manager *m = s->term->m;
    const struct rc_controller *ctl = &m->o.controllers[s->self];
    struct counters *k = &m->counters[s->self];
    struct rc_call c = {
        .key = key,
        .cancel = &s->term->cancel,
        .mgr = m,
        .ctx = m->o.ctx,
    };
    long long t0 = now_ns();
    int rc = rc_key_split(c.ns, c.name, key);

    if (rc == KUBE_OK)
        rc = ctl->reconcile(&c);
    else
        rc = RC_NORETRY;
    atomic_fetch_add(&k->reconciles, 1);
    if (m->o.observe)
        m->o.observe(ctl, rc, now_ns() - t0, m->o.observe_ctx);
    if (rc == RC_NORETRY) {
        atomic_fetch_add(&k->noretry, 1);
        kube_log(KUBE_LOG_WARN, "reconcile failed: not retried", "{s:s, s:s}",
                 "controller", ctl->name, "key", key);
        return KUBE_OK;
    }
    if (rc < 0) {
        atomic_fetch_add(&k->failures, 1);
        return rc; /* the queue re-adds it rate-limited */
    }
    *requeue_after_ms = c.requeue_after_ms;
    return KUBE_OK;
}

int rc_manager_new(struct rc_manager **out, const struct rc_manager_opts *o,
                   struct kube_err *err)
{
    struct rc_manager *m;

    for (size_t i = 0; i < o->ncontrollers; i++) {
        const struct rc_controller *c = &o->controllers[i];
        if (!c->reconcile || !c->kind || !c->name || c->workers < 1)
            return kube_err_set(err, KUBE_EINVAL,
                                "controller row %zu: name, kind, reconcile "
                                "and workers >= 1 are required",
                                i);
    }
    m = calloc(1, sizeof(*m));
    if (!m)
        return kube_err_set(err, KUBE_ENOMEM, "manager: out of memory");
    m->o = *o;
    if (o->queue)
        m->qo = *o->queue;
    else
        rc_queue_opts_default(&m->qo);
    m->counters =
        calloc(o->ncontrollers ? o->ncontrollers : 1, sizeof(*m->counters));
    if (!m->counters || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->counters);
        free(m);
        return kube_err_set(err, KUBE_ENOMEM, "manager: out of memory");
    }
    *out = m;
    return KUBE_OK;
}

/* Stops (without draining) and frees a term no one else can reach. */
static void term_free(struct term *t, size_t n)
{
    atomic_store(&t->cancel, 1);
    for (size_t i = 0; i < n; i++)
        if (t->slots[i].q)
            rc_queue_stop_now(t->slots[i].q);
    for (size_t i = 0; i < n; i++)
        rc_queue_free(t->slots[i].q);
    free(t->slots);
    free(t);
}

static int term_new(struct term **out, struct rc_manager *m,
                    struct kube_err *err)
{
    struct term *t = calloc(1, sizeof(*t));
    size_t n = m->o.ncontrollers;

    if (!t || !(t->slots = calloc(n ? n : 1, sizeof(*t->slots)))) {
        free(t);
        return kube_err_set(err, KUBE_ENOMEM, "manager: out of memory");
    }
    t->m = m;
    atomic_init(&t->cancel, 0);
    for (size_t i = 0; i < n; i++) {
        int rc;
        t->slots[i] = (struct slot){t, i, NULL};
        rc = rc_queue_new(&t->slots[i].q, &m->qo, err);
        if (rc == KUBE_OK)
            rc = rc_queue_start(t->slots[i].q, m->o.controllers[i].workers,
                                run_one, &t->slots[i], err);
        if (rc < 0) {
            term_free(t, n);
            return rc;
        }
    }
    *out = t;
    return KUBE_OK;
}

/* Every stored object of each controller's kind, as a first list would. */
static void enqueue_stored(struct rc_manager *m)
{
    for (size_t i = 0; m->o.store && i < m->o.ncontrollers; i++) {
        json_t *all = NULL, *obj;
        size_t j;

        if (kube_store_list(&all, m->o.store, m->o.controllers[i].kind, NULL) <
            0)
            continue; /* out of memory: the informers' events still come */
        json_array_foreach(all, j, obj)
        {
            char key[2 * RC_NAME_MAX];
            if (rc_key_of(key, sizeof(key), obj) == KUBE_OK)
                rc_manager_enqueue(m, i, key, 0);
        }
        json_decref(all);
    }
}

int rc_manager_lead(struct rc_manager *m, struct kube_err *err)
{
    struct term *t = NULL;
    int rc;

    pthread_mutex_lock(&m->lock);
    if (m->term) {
        pthread_mutex_unlock(&m->lock);
        return kube_err_set(err, KUBE_EINVAL, "manager: already leading");
    }
    rc = term_new(&t, m, err);
    if (rc == KUBE_OK)
        m->term = t;
    pthread_mutex_unlock(&m->lock);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < m->o.ncontrollers; i++)
        atomic_fetch_add(&m->counters[i].terms, 1);
    enqueue_stored(m);
    return KUBE_OK;
}

void rc_manager_unlead(struct rc_manager *m)
{
    struct term *t;

    pthread_mutex_lock(&m->lock);
    t = m->term;
    m->term = NULL;
    if (t) /* reconciles running now see it at their next request */
        atomic_store(&t->cancel, 1);
    pthread_mutex_unlock(&m->lock);
    if (t)
        term_free(t, m->o.ncontrollers);
}

int rc_manager_leading(struct rc_manager *m)
{
    int leading;

    pthread_mutex_lock(&m->lock);
    leading = m->term != NULL;
    pthread_mutex_unlock(&m->lock);
    return leading;
}

void rc_manager_free(struct rc_manager *m)
{
    if (!m)
        return;
    rc_manager_unlead(m);
    pthread_mutex_destroy(&m->lock);
    free(m->counters);
    free(m);
}

void rc_manager_enqueue(struct rc_manager *m, size_t self, const char *key,
                        long delay_ms)
{
    assert(self < m->o.ncontrollers);
    pthread_mutex_lock(&m->lock);
    if (m->term) /* an add after shutdown fails harmlessly */
        (void)rc_queue_add_after(m->term->slots[self].q, key, delay_ms);
    pthread_mutex_unlock(&m->lock);
}

void rc_manager_event(struct rc_manager *m, const char *kind, const json_t *obj)
{
    char key[2 * RC_NAME_MAX];
    int have_key = rc_key_of(key, sizeof(key), obj) == KUBE_OK;

    if (!rc_manager_leading(m))
        return; /* a new term enqueues what the store holds */
    for (size_t i = 0; i < m->o.ncontrollers; i++) {
        const struct rc_controller *c = &m->o.controllers[i];
        if (strcmp(c->kind, kind) == 0) {
            if (have_key)
                rc_manager_enqueue(m, i, key, 0);
        } else if (c->watch) {
            c->watch(m, i, kind, obj, m->o.ctx);
        }
    }
}

int rc_manager_find(const struct rc_manager *m, const char *name)
{
    for (size_t i = 0; i < m->o.ncontrollers; i++)
        if (strcmp(m->o.controllers[i].name, name) == 0)
            return (int)i;
    return -1;
}

void rc_manager_stats(struct rc_manager *m, size_t self,
                      struct rc_manager_stats *out)
{
    struct counters *k;

    assert(self < m->o.ncontrollers);
    k = &m->counters[self];
    out->reconciles = atomic_load(&k->reconciles);
    out->failures = atomic_load(&k->failures);
    out->noretry = atomic_load(&k->noretry);
    out->terms = atomic_load(&k->terms);
    pthread_mutex_lock(&m->lock);
    out->depth = m->term ? rc_queue_len(m->term->slots[self].q) : 0;
    pthread_mutex_unlock(&m->lock);
}
