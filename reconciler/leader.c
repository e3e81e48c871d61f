/* reconciler/leader.c - Lease-based leader election (client-go's
 * algorithm: tryAcquireOrRenew on an UPDATE guarded by resourceVersion). */
#include "reconciler/leader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/client_time.h"
#include "kube/json.h"
#include "kube/log.h"

static const struct kube_gvr lease_gvr = {"coordination.k8s.io", "v1",
                                          "leases"};

enum round {
    ROUND_GOT,   /* acquired or renewed */
    ROUND_HELD,  /* another holder's lease is still valid */
    ROUND_FAILED /* API error or lost a race: try again */
};

struct rc_leader {
    struct kube_client *c;
    struct rc_leader_opts o; /* ns, name, identity: ours */
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int leading;
    pthread_mutex_t lock; /* with wake: stop waits */
    pthread_cond_t wake;
    char holder[256]; /* guarded by lock */
    /* election thread only */
    json_t *observed;    /* the Lease spec last seen (new reference) */
    int64_t observed_at; /* when it last changed, by our clock */
};

void rc_leader_microtime(char *buf, size_t len)
{
    kube_time_rfc3339(buf, len, 6);
}

static int stopping(struct rc_leader *l)
{
    return atomic_load(&l->stop);
}

/* Sleeps until until_ms unless stop comes first; 1 when stopping. */
static int pause_until(struct rc_leader *l, int64_t until_ms)
{
    pthread_mutex_lock(&l->lock);
    while (!stopping(l) && !kube_time_wait_until(&l->wake, &l->lock, until_ms))
        ;
    pthread_mutex_unlock(&l->lock);
    return stopping(l);
}

static long lease_seconds(const struct rc_leader *l)
{
    return (l->o.lease_duration_ms + 999) / 1000;
}

/* A request on the Lease, bounded by deadline_ms and never retried by
 * the client: the election loop is the retry. */
static int lease_call(json_t **out, struct rc_leader *l, const char *method,
                      const json_t *body, int64_t deadline_ms,
                      const atomic_int *cancel, struct kube_status *st,
                      struct kube_err *err)
{
    struct kube_request r = {
        .method = method,
        .gvr = &lease_gvr,
        .ns = l->o.ns,
        .name = strcmp(method, "POST") == 0 ? NULL : l->o.name,
        .body = body,
        .idempotent = strcmp(method, "GET") == 0,
        .timeout_ms = deadline_ms - kube_time_now_ms(),
        .max_retries = -1,
        .cancel = cancel,
    };

    if (r.timeout_ms <= 0)
        return kube_err_set(err, KUBE_EUNAVAIL,
                            "lease: renew deadline "
                            "passed");
    return kube_client_do(out, l->c, &r, st, err);
}

/* A spec naming us, built on the previous one (borrowed, may be NULL). */
static json_t *our_spec(struct rc_leader *l, const json_t *prev)
{
    const char *holder = kube_json_str0(prev, "holderIdentity");
    json_t *tr = json_object_get(prev, "leaseTransitions");
    json_int_t transitions = json_is_integer(tr) ? json_integer_value(tr) : 0;
    const char *acquired = kube_json_str(prev, "acquireTime");
    char now[40];

    rc_leader_microtime(now, sizeof(now));
    if (strcmp(holder, l->o.identity) != 0) { /* a new holder: us */
        acquired = now;
        if (prev) /* as client-go: also after a release */
            transitions++;
    }
    return json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity",
                     l->o.identity, "leaseDurationSeconds",
                     (json_int_t)lease_seconds(l), "acquireTime",
                     acquired ? acquired : now, "renewTime", now,
                     "leaseTransitions", transitions);
}

/* Records spec (borrowed) as seen now when it differs from the last. */
static void observe(struct rc_leader *l, const json_t *spec)
{
    const char *holder = kube_json_str0(spec, "holderIdentity");
    int changed_holder;

    if (l->observed && json_equal(l->observed, spec))
        return;
    changed_holder =
        strcmp(holder, kube_json_str0(l->observed, "holderIdentity")) != 0 ||
        !l->observed;
    json_decref(l->observed);
    l->observed = json_deep_copy(spec);
    l->observed_at = kube_time_now_ms();
    pthread_mutex_lock(&l->lock);
    snprintf(l->holder, sizeof(l->holder), "%s", holder);
    pthread_mutex_unlock(&l->lock);
    if (changed_holder && holder[0]) {
        kube_log(KUBE_LOG_INFO, "leader observed", "{s:s, s:s}", "lease",
                 l->o.name, "holder", holder);
        if (l->o.on_new_leader)
            l->o.on_new_leader(holder, l->o.ctx);
    }
}

/* Whether spec names someone else whose lease, counted from when we saw
 * it change, has not run out. */
static int held_by_other(struct rc_leader *l, const json_t *spec)
{
    const char *holder = kube_json_str0(spec, "holderIdentity");
    json_t *d = json_object_get(spec, "leaseDurationSeconds");
    int64_t ms = json_is_integer(d) && json_integer_value(d) > 0
                     ? (int64_t)json_integer_value(d) * 1000
                     : l->o.lease_duration_ms;

    return holder[0] && strcmp(holder, l->o.identity) != 0 &&
           l->observed_at + ms > kube_time_now_ms();
}

static enum round create_lease(struct rc_leader *l, int64_t deadline)
{
    struct kube_err err = {0};
    json_t *spec = our_spec(l, NULL), *lease;
    int rc = KUBE_ENOMEM;

    lease = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}", "apiVersion",
                      "coordination.k8s.io/v1", "kind", "Lease", "metadata",
                      "name", l->o.name, "namespace", l->o.ns, "spec", spec);
    if (lease)
        rc = lease_call(NULL, l, "POST", lease, deadline, &l->stop, NULL, &err);
    if (rc == 0)
        observe(l, spec);
    else if (rc != KUBE_ECONFLICT && !stopping(l)) /* 409: lost the race */
        kube_log(KUBE_LOG_WARN, "lease create failed", "{s:s, s:s}", "lease",
                 l->o.name, "error", err.msg);
    json_decref(lease);
    json_decref(spec);
    return rc == 0 ? ROUND_GOT : ROUND_FAILED;
}

/* Replaces the spec of lease (borrowed; its resourceVersion guards the
 * write) with ours. */
static enum round update_lease(struct rc_leader *l, const json_t *lease,
                               int64_t deadline)
{
    struct kube_err err = {0};
    json_t *spec = our_spec(l, json_object_get(lease, "spec"));
    json_t *next = json_copy((json_t *)lease);
    int rc = KUBE_ENOMEM;

    if (spec && next && json_object_set(next, "spec", spec) == 0)
        rc = lease_call(NULL, l, "PUT", next, deadline, &l->stop, NULL, &err);
    if (rc == 0)
        observe(l, spec);
    else if (rc != KUBE_ECONFLICT && !stopping(l))
        kube_log(KUBE_LOG_WARN, "lease update failed", "{s:s, s:s}", "lease",
                 l->o.name, "error", err.msg);
    json_decref(next);
    json_decref(spec);
    return rc == 0 ? ROUND_GOT : ROUND_FAILED;
}

/* client-go's tryAcquireOrRenew. */
static enum round try_round(struct rc_leader *l, int64_t deadline)
{
    struct kube_err err = {0};
    json_t *lease = NULL, *spec;
    enum round r;
    int rc = lease_call(&lease, l, "GET", NULL, deadline, &l->stop, NULL, &err);

    if (rc == KUBE_ENOTFOUND)
        return create_lease(l, deadline);
    if (rc < 0) {
        if (!stopping(l))
            kube_log(KUBE_LOG_WARN, "lease read failed", "{s:s, s:s}", "lease",
                     l->o.name, "error", err.msg);
        return ROUND_FAILED;
    }
    spec = json_object_get(lease, "spec");
    if (json_is_object(spec))
        observe(l, spec);
    else
        spec = NULL; /* a Lease without spec is free */
    if (spec && held_by_other(l, spec))
        r = ROUND_HELD;
    else
        r = update_lease(l, lease, deadline);
    json_decref(lease);
    return r;
}

/* Renews every retry period; returns when a renewal missed the deadline,
 * another holder shows up, or stop is asked. */
static void lead(struct rc_leader *l)
{
    int64_t last = kube_time_now_ms();

    while (!pause_until(l, kube_time_now_ms() + l->o.retry_period_ms)) {
        int64_t deadline = last + l->o.renew_deadline_ms;
        enum round r = ROUND_FAILED;

        while (!stopping(l) && kube_time_now_ms() < deadline) {
            r = try_round(l, deadline);
            if (r != ROUND_FAILED)
                break;
            int64_t next = kube_time_now_ms() + l->o.retry_period_ms;
            if (pause_until(l, next < deadline ? next : deadline))
                return;
        }
        if (stopping(l))
            return;
        if (r != ROUND_GOT) {
            kube_log(KUBE_LOG_WARN, "leader lease lost", "{s:s, s:s}", "lease",
                     l->o.name, "reason",
                     r == ROUND_HELD ? "another holder" : "renew deadline");
            return;
        }
        last = kube_time_now_ms();
    }
}

/* Gives the Lease up as client-go's ReleaseOnCancel does: no holder and a
 * one-second lease, so candidates take it at their next try. */
static void release(struct rc_leader *l)
{
    int64_t deadline = kube_time_now_ms() + l->o.renew_deadline_ms;
    struct kube_err err = {0};
    json_t *lease = NULL, *spec, *next = NULL, *tr;
    char now[40];
    int rc;

    rc = lease_call(&lease, l, "GET", NULL, deadline, NULL, NULL, &err);
    spec = json_object_get(lease, "spec");
    if (rc < 0 ||
        strcmp(kube_json_str0(spec, "holderIdentity"), l->o.identity) != 0)
        goto done; /* gone, unreadable, or no longer ours */
    rc_leader_microtime(now, sizeof(now));
    tr = json_object_get(spec, "leaseTransitions");
    next = json_copy(lease);
    rc = KUBE_ENOMEM;
    if (next &&
        json_object_set_new(
            next, "spec",
            json_pack("{s:s, s:i, s:s, s:s, s:I}", "holderIdentity", "",
                      "leaseDurationSeconds", 1, "acquireTime", now,
                      "renewTime", now, "leaseTransitions",
                      json_is_integer(tr) ? json_integer_value(tr) : 0)) == 0)
        rc = lease_call(NULL, l, "PUT", next, deadline, NULL, NULL, &err);
done:
    if (rc < 0 && err.msg[0])
        kube_log(KUBE_LOG_WARN, "lease release failed", "{s:s, s:s}", "lease",
                 l->o.name, "error", err.msg);
    else if (next)
        kube_log(KUBE_LOG_INFO, "leader lease released", "{s:s}", "lease",
                 l->o.name);
    json_decref(next);
    json_decref(lease);
}

/* Rounds until the Lease is ours; 1 when stopping first. */
static int acquire(struct rc_leader *l)
{
    while (!stopping(l)) {
        int64_t deadline = kube_time_now_ms() + l->o.renew_deadline_ms;
        long jitter = (long)kube_time_jitter(
            (uint64_t)l->o.retry_period_ms / 5 + 1); /* client-go: 1.2 */

        if (try_round(l, deadline) == ROUND_GOT)
            return 0;
        if (pause_until(l, kube_time_now_ms() + l->o.retry_period_ms + jitter))
            break;
    }
    return 1;
}

static void *run(void *arg)
{
    struct rc_leader *l = arg;

    while (!acquire(l)) {
        atomic_store(&l->leading, 1);
        kube_log(KUBE_LOG_INFO, "started leading", "{s:s, s:s}", "lease",
                 l->o.name, "identity", l->o.identity);
        if (l->o.on_started)
            l->o.on_started(l->o.ctx);
        lead(l);
        atomic_store(&l->leading, 0);
        kube_log(KUBE_LOG_INFO, "stopped leading", "{s:s}", "lease", l->o.name);
        if (l->o.on_stopped)
            l->o.on_stopped(l->o.ctx);
        if (stopping(l)) {
            if (!l->o.keep_on_stop)
                release(l);
            break;
        }
        if (pause_until(l, kube_time_now_ms() + l->o.retry_period_ms))
            break;
    }
    return NULL;
}

static int check_opts(struct rc_leader_opts *o, struct kube_client *c,
                      struct kube_err *err)
{
    if (!o->identity || !o->identity[0])
        return kube_err_set(err, KUBE_EINVAL, "leader: no identity");
    if (!o->ns || !o->ns[0])
        o->ns = kube_client_namespace(c);
    if (!o->name || !o->name[0])
        o->name = RC_LEADER_DEFAULT_NAME;
    if (o->lease_duration_ms <= 0)
        o->lease_duration_ms = 15000;
    if (o->renew_deadline_ms <= 0)
        o->renew_deadline_ms = 10000;
    if (o->retry_period_ms <= 0)
        o->retry_period_ms = 2000;
    if (o->renew_deadline_ms >= o->lease_duration_ms ||
        o->retry_period_ms >= o->renew_deadline_ms)
        return kube_err_set(err, KUBE_EINVAL,
                            "leader: want retry period < renew deadline < "
                            "lease duration (%ld, %ld, %ld ms)",
                            o->retry_period_ms, o->renew_deadline_ms,
                            o->lease_duration_ms);
    return KUBE_OK;
}

int rc_leader_new(struct rc_leader **out, struct kube_client *c,
                  const struct rc_leader_opts *o, struct kube_err *err)
{
    struct rc_leader *l;
    struct rc_leader_opts v = *o;
    int rc = check_opts(&v, c, err);

    if (rc < 0)
        return rc;
    l = calloc(1, sizeof(*l));
    if (!l)
        return kube_err_set(err, KUBE_ENOMEM, "leader: out of memory");
    l->c = c;
    l->o = v;
    l->o.ns = strdup(v.ns);
    l->o.name = strdup(v.name);
    l->o.identity = strdup(v.identity);
    if (!l->o.ns || !l->o.name || !l->o.identity ||
        pthread_mutex_init(&l->lock, NULL) != 0 ||
        kube_time_cond_init(&l->wake) < 0) {
        free((char *)l->o.ns);
        free((char *)l->o.name);
        free((char *)l->o.identity);
        free(l);
        return kube_err_set(err, KUBE_ENOMEM, "leader: out of memory");
    }
    *out = l;
    return KUBE_OK;
}

int rc_leader_start(struct rc_leader *l, struct kube_err *err)
{
    if (l->started)
        return kube_err_set(err, KUBE_EINVAL, "leader: already started");
    if (pthread_create(&l->thread, NULL, run, l) != 0)
        return kube_err_set(err, KUBE_ERR, "leader: cannot start thread");
    l->started = 1;
    return KUBE_OK;
}

int rc_leader_is_leader(struct rc_leader *l)
{
    return atomic_load(&l->leading);
}

void rc_leader_holder(struct rc_leader *l, char *buf, size_t len)
{
    pthread_mutex_lock(&l->lock);
    snprintf(buf, len, "%s", l->holder);
    pthread_mutex_unlock(&l->lock);
}

void rc_leader_stop(struct rc_leader *l)
{
    atomic_store(&l->stop, 1);
    pthread_mutex_lock(&l->lock);
    pthread_cond_broadcast(&l->wake);
    pthread_mutex_unlock(&l->lock);
    if (l->started) {
        pthread_join(l->thread, NULL);
        l->started = 0;
    }
}

void rc_leader_free(struct rc_leader *l)
{
    if (!l)
        return;
    rc_leader_stop(l);
    json_decref(l->observed);
    free((char *)l->o.ns);
    free((char *)l->o.name);
    free((char *)l->o.identity);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
