/* tests/reconciler/queue.c - the work queue: de-duplication, one worker
 * per key, backoff, token bucket, delayed adds, shutdown and drain. Timers
 * are short and no test asserts how fast anything ran. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "reconciler/queue.h"

/* A hung test dies of SIGALRM instead of hanging the run (Criterion's own
 * .timeout leaks memory in its runner when tests run in parallel). */
static void arm_alarm(void)
{
    alarm(60);
}

TestSuite(rc_queue, .init = arm_alarm);

static struct rc_queue *new_queue(long base, long max, double qps, int burst)
{
    struct rc_queue_opts o = {base, max, qps, burst};
    struct rc_queue *q = NULL;
    struct kube_err err = {0};

    cr_assert_eq(rc_queue_new(&q, &o, &err), 0, "%s", err.msg);
    return q;
}

/* Gets one key and checks it; returns it finished unless keep is set. */
static void expect_get(struct rc_queue *q, const char *want, int finish)
{
    const char *key = NULL;

    cr_assert_eq(rc_queue_get(q, &key), 0, "want %s", want);
    cr_expect_str_eq(key, want);
    if (finish)
        rc_queue_done(q, key);
}

Test(rc_queue, dedup_and_processing)
{
    struct rc_queue *q = new_queue(5, 1000, 0, 0);
    const char *key = NULL;

    cr_expect_eq(rc_queue_add(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_add(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_add(q, "ns/b"), 0);
    cr_expect_eq(rc_queue_len(q), 2, "a waits once");
    cr_assert_eq(rc_queue_get(q, &key), 0);
    cr_expect_str_eq(key, "ns/a");
    /* added while being handled: not ready until done */
    cr_expect_eq(rc_queue_add(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_add(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_len(q), 1, "only b is ready");
    expect_get(q, "ns/b", 1);
    cr_expect_eq(rc_queue_len(q), 0);
    rc_queue_done(q, key);
    cr_expect_eq(rc_queue_len(q), 1, "a is ready again, once");
    expect_get(q, "ns/a", 1);
    cr_expect_eq(rc_queue_len(q), 0);
    rc_queue_free(q);
}

/* ---- no key on two workers at once ---- */

enum { KEYS = 8, WORKERS = 6, ROUNDS = 400 };

struct overlap {
    struct rc_queue *q;
    atomic_int running[KEYS]; /* workers inside the handler, per key */
    atomic_int overlaps;      /* times a second worker entered */
    atomic_int handled;
    atomic_int readds; /* adds made from inside handlers */
};

static int key_index(const char *key)
{
    int i = -1;

    cr_assert_eq(sscanf(key, "ns/k%d", &i), 1);
    cr_assert(i >= 0 && i < KEYS);
    return i;
}

static int overlap_handler(const char *key, void *ctx, long *after)
{
    struct overlap *o = ctx;
    int i = key_index(key);

    (void)after;
    if (atomic_fetch_add(&o->running[i], 1) != 0)
        atomic_fetch_add(&o->overlaps, 1);
    /* while we hold the key, others add it again: it must wait */
    if (atomic_fetch_add(&o->readds, 1) < ROUNDS)
        rc_queue_add(o->q, key);
    for (int y = 0; y < 50; y++)
        sched_yield();
    atomic_fetch_sub(&o->running[i], 1);
    atomic_fetch_add(&o->handled, 1);
    return 0;
}

static void *producer(void *arg)
{
    struct overlap *o = arg;
    char key[16];

    for (int r = 0; r < ROUNDS; r++) {
        snprintf(key, sizeof(key), "ns/k%d", r % KEYS);
        rc_queue_add(o->q, key);
        if (r % 16 == 0)
            sched_yield();
    }
    return NULL;
}

Test(rc_queue, never_two_workers_on_one_key)
{
    struct overlap o = {0};
    struct kube_err err = {0};
    pthread_t p[2];

    o.q = new_queue(5, 1000, 0, 0);
    cr_assert_eq(rc_queue_start(o.q, WORKERS, overlap_handler, &o, &err), 0,
                 "%s", err.msg);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&p[i], NULL, producer, &o), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(p[i], NULL);
    rc_queue_stop(o.q); /* drains what is ready */
    cr_expect_eq(atomic_load(&o.overlaps), 0);
    cr_expect_geq(atomic_load(&o.handled), KEYS, "every key handled");
    cr_expect_eq(rc_queue_len(o.q), 0, "drained");
    rc_queue_free(o.q);
}

/* ---- rate limiting ---- */

Test(rc_queue, backoff_grows_and_caps)
{
    static const long want[] = {5, 10, 20, 40, 80, 100, 100};
    struct rc_queue *q = new_queue(5, 100, 0, 0); /* no token bucket */

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        cr_expect_eq(rc_queue_backoff_ms(q, "ns/x"), want[i], "failure %zu", i);
        cr_expect_eq(rc_queue_requeues(q, "ns/x"), (int)i);
        cr_expect_eq(rc_queue_add_rate_limited(q, "ns/x"), 0);
    }
    cr_expect_eq(rc_queue_backoff_ms(q, "ns/y"), 5, "per key");
    rc_queue_forget(q, "ns/x");
    cr_expect_eq(rc_queue_requeues(q, "ns/x"), 0);
    cr_expect_eq(rc_queue_backoff_ms(q, "ns/x"), 5, "forgotten");
    rc_queue_free(q);
}

Test(rc_queue, default_backoff_is_5ms_to_1000s)
{
    struct rc_queue_opts o;
    struct rc_queue *q = NULL;

    rc_queue_opts_default(&o);
    cr_expect_eq(o.backoff_base_ms, 5);
    cr_expect_eq(o.backoff_max_ms, 1000000);
    o.qps = 0;
    cr_assert_eq(rc_queue_new(&q, &o, NULL), 0);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(rc_queue_add_rate_limited(q, "k"), 0);
    cr_expect_eq(rc_queue_backoff_ms(q, "k"), 1000000, "capped at 1000 s");
    rc_queue_shutdown(q);
    rc_queue_free(q);
}

/* Burst 2 at 10 per second: two keys go at once, the next ones wait for
 * tokens, in order. */
Test(rc_queue, token_bucket)
{
    struct rc_queue *q = new_queue(0, 0, 10, 2);
    long d;

    cr_expect_eq(rc_queue_add_rate_limited(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_add_rate_limited(q, "ns/b"), 0);
    cr_expect_eq(rc_queue_add_rate_limited(q, "ns/c"), 0);
    cr_expect_eq(rc_queue_add_rate_limited(q, "ns/d"), 0);
    cr_expect_eq(rc_queue_len(q), 2, "the burst is ready at once");
    d = rc_queue_backoff_ms(q, "ns/e");
    cr_expect(d > 0 && d <= 300, "the next add owes tokens: %ld ms", d);
    expect_get(q, "ns/a", 1);
    expect_get(q, "ns/b", 1);
    expect_get(q, "ns/c", 1);
    expect_get(q, "ns/d", 1);
    rc_queue_free(q);
}

/* ---- delayed adds ---- */

Test(rc_queue, add_after_order)
{
    struct rc_queue *q = new_queue(5, 1000, 0, 0);

    cr_expect_eq(rc_queue_add_after(q, "ns/a", 60), 0);
    cr_expect_eq(rc_queue_add_after(q, "ns/b", 20), 0);
    cr_expect_eq(rc_queue_add_after(q, "ns/c", 40), 0);
    cr_expect_eq(rc_queue_add_after(q, "ns/d", 20), 0);
    cr_expect_eq(rc_queue_len(q), 0, "nothing is due yet");
    expect_get(q, "ns/b", 1);
    expect_get(q, "ns/d", 1); /* same due time: added order */
    expect_get(q, "ns/c", 1);
    expect_get(q, "ns/a", 1);
    rc_queue_free(q);
}

Test(rc_queue, add_after_keeps_the_earlier_time)
{
    struct rc_queue *q = new_queue(5, 1000, 0, 0);

    /* were the later time kept, get would block for 100 s */
    cr_expect_eq(rc_queue_add_after(q, "ns/x", 10), 0);
    cr_expect_eq(rc_queue_add_after(q, "ns/x", 100000), 0);
    expect_get(q, "ns/x", 1);
    cr_expect_eq(rc_queue_add_after(q, "ns/y", 100000), 0);
    cr_expect_eq(rc_queue_add_after(q, "ns/y", 5), 0);
    expect_get(q, "ns/y", 1);
    /* a key added now while also delayed comes out now, once */
    cr_expect_eq(rc_queue_add_after(q, "ns/z", 100000), 0);
    cr_expect_eq(rc_queue_add(q, "ns/z"), 0);
    expect_get(q, "ns/z", 1);
    rc_queue_shutdown(q);
    rc_queue_free(q);
}

/* ---- shutdown ---- */

static void *blocked_get(void *arg)
{
    struct rc_queue *q = arg;
    const char *key;
    static int rc;

    rc = rc_queue_get(q, &key);
    return &rc;
}

Test(rc_queue, shutdown_drains_ready_keys)
{
    struct rc_queue *q = new_queue(5, 1000, 0, 0);
    const char *key = NULL;
    pthread_t t;
    void *res;

    cr_expect_eq(rc_queue_add(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_add(q, "ns/b"), 0);
    cr_expect_eq(rc_queue_add_after(q, "ns/late", 50), 0);
    rc_queue_shutdown(q);
    cr_expect_eq(rc_queue_add(q, "ns/c"), KUBE_EUNAVAIL);
    cr_expect_eq(rc_queue_add_rate_limited(q, "ns/c"), KUBE_EUNAVAIL);
    expect_get(q, "ns/a", 1);
    expect_get(q, "ns/b", 1);
    cr_expect_eq(rc_queue_get(q, &key), KUBE_EUNAVAIL,
                 "drained; delayed keys are dropped");
    rc_queue_free(q);

    /* a worker blocked in get is woken by shutdown */
    q = new_queue(5, 1000, 0, 0);
    cr_assert_eq(pthread_create(&t, NULL, blocked_get, q), 0);
    rc_queue_shutdown(q);
    pthread_join(t, &res);
    cr_expect_eq(*(int *)res, KUBE_EUNAVAIL);
    rc_queue_free(q);
}

/* ---- workers and handler results ---- */

struct results {
    atomic_int calls_a, calls_b, calls_c;
    pthread_mutex_t lock;
    pthread_cond_t called; /* after every handler call */
};

static void called(struct results *r)
{
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->called);
    pthread_mutex_unlock(&r->lock);
}

/* a fails once then succeeds; b asks to be looked at again once; c is
 * plain. */
static int result_handler(const char *key, void *ctx, long *after)
{
    struct results *r = ctx;
    int rc = 0;

    if (strcmp(key, "ns/a") == 0 && atomic_fetch_add(&r->calls_a, 1) == 0)
        rc = KUBE_ERR;
    if (strcmp(key, "ns/b") == 0 && atomic_fetch_add(&r->calls_b, 1) == 0)
        *after = 5;
    if (strcmp(key, "ns/c") == 0)
        atomic_fetch_add(&r->calls_c, 1);
    called(r);
    return rc;
}

Test(rc_queue, workers_requeue_on_failure_and_request)
{
    struct rc_queue *q = new_queue(1, 10, 0, 0);
    struct results r = {.lock = PTHREAD_MUTEX_INITIALIZER,
                        .called = PTHREAD_COND_INITIALIZER};
    struct kube_err err = {0};

    cr_assert_eq(rc_queue_start(q, 2, result_handler, &r, &err), 0);
    cr_expect_eq(rc_queue_start(q, 2, result_handler, &r, &err), KUBE_EINVAL);
    cr_expect_eq(rc_queue_add(q, "ns/a"), 0);
    cr_expect_eq(rc_queue_add(q, "ns/b"), 0);
    pthread_mutex_lock(&r.lock); /* until a and b came back once each */
    while (atomic_load(&r.calls_a) < 2 || atomic_load(&r.calls_b) < 2)
        pthread_cond_wait(&r.called, &r.lock);
    pthread_mutex_unlock(&r.lock);
    cr_expect_eq(rc_queue_requeues(q, "ns/a"), 0, "forgotten on success");
    cr_expect_eq(rc_queue_add(q, "ns/c"), 0);
    rc_queue_stop(q);
    cr_expect_eq(atomic_load(&r.calls_a), 2);
    cr_expect_eq(atomic_load(&r.calls_b), 2);
    cr_expect_eq(atomic_load(&r.calls_c), 1, "drained before stopping");
    rc_queue_free(q);
}
