/* reconciler/queue.c - dirty/processing sets, a FIFO of ready keys, a
 * min-heap of delayed keys and the rate limiters, under one mutex. */
#include "reconciler/queue.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client_time.h"
#include "kube/htab.h"

#define NO_HEAP SIZE_MAX

/* All that is known about one key; it exists while any field is set. */
struct entry {
    struct entry *qnext; /* ready FIFO, while dirty and not processing */
    uint32_t hash;       /* of key, for the key table */
    int dirty;           /* wants handling */
    int processing;      /* a worker has it */
    int failures;        /* rate-limited re-adds since forget */
    int64_t due;         /* when delayed: heap order is (due, seq) */
    uint64_t seq;
    size_t heap; /* index in the heap, or NO_HEAP */
    char key[];
};

struct rc_queue {
    struct rc_queue_opts o;
    pthread_mutex_t lock;
    pthread_cond_t ready; /* a key became ready, a delay changed, or
                             shutdown */
    pthread_cond_t idle;  /* processing dropped to zero */
    /* guarded by lock */
    struct kube_htab keys;     /* struct entry * by key */
    struct entry *head, *tail; /* ready FIFO */
    size_t nready, nprocessing;
    struct entry **heap; /* delayed keys, min-heap */
    size_t nheap, heapcap;
    uint64_t seq;
    double tokens;     /* token bucket */
    int64_t tokens_at; /* when tokens was last brought up to date */
    int shutting_down;
    /* workers: only the starting/stopping thread touches these */
    pthread_t *threads;
    int nthreads;
    rc_queue_handler_fn fn;
    void *ctx;
};

void rc_queue_opts_default(struct rc_queue_opts *o)
{
    o->backoff_base_ms = 5;
    o->backoff_max_ms = 1000L * 1000;
    o->qps = 10;
    o->burst = 100;
}

/* ---- key table ---- */

static int key_eq(const void *ctx, uintptr_t val, const void *key)
{
    (void)ctx;
    return strcmp(((const struct entry *)val)->key, key) == 0;
}

static struct entry *find(struct rc_queue *q, const char *key)
{
    return (struct entry *)kube_htab_get(&q->keys, kube_hash_str(key), key_eq,
                                         NULL, key);
}

/* The entry for key, created when absent; NULL on allocation failure. */
static struct entry *intern(struct rc_queue *q, const char *key)
{
    uint32_t h = kube_hash_str(key);
    struct entry *e =
        (struct entry *)kube_htab_get(&q->keys, h, key_eq, NULL, key);
    size_t len;

    if (e)
        return e;
    if (kube_htab_reserve(&q->keys) < 0)
        return NULL;
    len = strlen(key);
    e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, len + 1);
    e->heap = NO_HEAP;
    e->hash = h;
    kube_htab_put(&q->keys, kube_htab_probe(&q->keys, h, key_eq, NULL, key), h,
                  (uintptr_t)e);
    return e;
}

/* Frees e once nothing refers to it. */
static void release(struct rc_queue *q, struct entry *e)
{
    if (e->dirty || e->processing || e->failures || e->heap != NO_HEAP)
        return;
    kube_htab_remove(&q->keys,
                     kube_htab_probe(&q->keys, e->hash, key_eq, NULL, e->key));
    free(e);
}

/* ---- delayed keys: a binary min-heap on (due, seq) ---- */

static int before(const struct entry *a, const struct entry *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(struct rc_queue *q, size_t i, struct entry *e)
{
    q->heap[i] = e;
    e->heap = i;
}

static void sift_up(struct rc_queue *q, size_t i)
{
    struct entry *e = q->heap[i];

    while (i > 0 && before(e, q->heap[(i - 1) / 2])) {
        heap_set(q, i, q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(q, i, e);
}

static void sift_down(struct rc_queue *q, size_t i)
{
    struct entry *e = q->heap[i];

    for (;;) {
        size_t l = 2 * i + 1, m = i;
        struct entry *best = e;
        if (l < q->nheap && before(q->heap[l], best))
            best = q->heap[m = l];
        if (l + 1 < q->nheap && before(q->heap[l + 1], best))
            best = q->heap[m = l + 1];
        if (m == i)
            break;
        heap_set(q, i, best);
        i = m;
    }
    heap_set(q, i, e);
}

static int heap_push(struct rc_queue *q, struct entry *e)
{
    if (q->nheap == q->heapcap) {
        size_t cap = q->heapcap ? q->heapcap * 2 : 64;
        struct entry **h = realloc(q->heap, cap * sizeof(*h));
        if (!h)
            return KUBE_ENOMEM;
        q->heap = h;
        q->heapcap = cap;
    }
    heap_set(q, q->nheap++, e);
    sift_up(q, q->nheap - 1);
    return KUBE_OK;
}

static struct entry *heap_pop(struct rc_queue *q)
{
    struct entry *top = q->heap[0];

    top->heap = NO_HEAP;
    if (--q->nheap > 0) {
        heap_set(q, 0, q->heap[q->nheap]);
        sift_down(q, 0);
    }
    return top;
}

/* ---- the client-go workqueue state machine; caller holds q->lock ---- */

static void push_ready(struct rc_queue *q, struct entry *e)
{
    e->qnext = NULL;
    if (q->tail)
        q->tail->qnext = e;
    else
        q->head = e;
    q->tail = e;
    q->nready++;
    pthread_cond_signal(&q->ready);
}

static void mark_dirty(struct rc_queue *q, struct entry *e)
{
    if (e->dirty)
        return; /* already waiting: de-duplicated */
    e->dirty = 1;
    if (!e->processing)
        push_ready(q, e); /* else rc_queue_done queues it */
}

/* Moves every delayed key that is due into the ready FIFO. */
static void promote_due(struct rc_queue *q, int64_t now)
{
    while (q->nheap > 0 && q->heap[0]->due <= now) {
        struct entry *e = heap_pop(q);
        mark_dirty(q, e);
    }
}

static int add_locked(struct rc_queue *q, const char *key, long delay_ms)
{
    struct entry *e;
    int64_t due;

    if (q->shutting_down)
        return KUBE_EUNAVAIL;
    e = intern(q, key);
    if (!e)
        return KUBE_ENOMEM;
    if (delay_ms <= 0) {
        mark_dirty(q, e);
        return KUBE_OK;
    }
    due = kube_time_now_ms() + delay_ms;
    if (e->heap != NO_HEAP) {
        if (due < e->due) { /* keep the earlier time */
            e->due = due;
            sift_up(q, e->heap);
        }
    } else {
        e->due = due;
        e->seq = q->seq++;
        if (heap_push(q, e) < 0) {
            release(q, e);
            return KUBE_ENOMEM;
        }
    }
    if (e->heap == 0) /* a new earliest time: waiters re-arm their wait */
        pthread_cond_broadcast(&q->ready);
    return KUBE_OK;
}

/* ---- rate limiters; caller holds q->lock ---- */

static long item_backoff(const struct rc_queue *q, int failures)
{
    double d = (double)q->o.backoff_base_ms * pow(2.0, failures);

    return d > (double)q->o.backoff_max_ms ? q->o.backoff_max_ms : (long)d;
}

/* The token bucket's wait for one more add; take says whether to spend
 * the token (golang.org/x/time/rate reservation: the balance may go
 * negative, and later adds wait for the debt). */
static long bucket_wait(struct rc_queue *q, int take)
{
    int64_t now = kube_time_now_ms();
    double tokens;

    if (q->o.qps <= 0)
        return 0;
    tokens = q->tokens + (double)(now - q->tokens_at) * q->o.qps / 1000.0;
    if (tokens > q->o.burst)
        tokens = q->o.burst;
    tokens -= 1;
    if (take) {
        q->tokens = tokens;
        q->tokens_at = now;
    }
    return tokens >= 0 ? 0 : (long)ceil(-tokens * 1000.0 / q->o.qps);
}

static long limited_delay(struct rc_queue *q, struct entry *e, int take)
{
    long item = item_backoff(q, e ? e->failures : 0);
    long bucket = bucket_wait(q, take);

    return item > bucket ? item : bucket;
}

/* ---- public API ---- */

int rc_queue_new(struct rc_queue **out, const struct rc_queue_opts *o,
                 struct kube_err *err)
{
    struct rc_queue *q = calloc(1, sizeof(*q));

    if (!q)
        return kube_err_set(err, KUBE_ENOMEM, "queue: out of memory");
    if (o)
        q->o = *o;
    else
        rc_queue_opts_default(&q->o);
    q->tokens = q->o.burst;
    q->tokens_at = kube_time_now_ms();
    if (pthread_mutex_init(&q->lock, NULL) != 0 ||
        kube_time_cond_init(&q->ready) < 0 ||
        kube_time_cond_init(&q->idle) < 0) {
        free(q);
        return kube_err_set(err, KUBE_ERR, "queue: lock init failed");
    }
    *out = q;
    return KUBE_OK;
}

void rc_queue_free(struct rc_queue *q)
{
    size_t i = 0;
    uintptr_t e;

    if (!q)
        return;
    for (e = kube_htab_next(&q->keys, &i); e; e = kube_htab_next(&q->keys, &i))
        free((struct entry *)e);
    kube_htab_free(&q->keys);
    free(q->heap);
    free(q->threads);
    pthread_cond_destroy(&q->ready);
    pthread_cond_destroy(&q->idle);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int rc_queue_add(struct rc_queue *q, const char *key)
{
    return rc_queue_add_after(q, key, 0);
}

int rc_queue_add_after(struct rc_queue *q, const char *key, long delay_ms)
{
    int rc;

    pthread_mutex_lock(&q->lock);
    rc = add_locked(q, key, delay_ms);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int rc_queue_add_rate_limited(struct rc_queue *q, const char *key)
{
    struct entry *e;
    long delay;
    int rc;

    pthread_mutex_lock(&q->lock);
    if (q->shutting_down) {
        rc = KUBE_EUNAVAIL;
        goto done;
    }
    e = intern(q, key);
    if (!e) {
        rc = KUBE_ENOMEM;
        goto done;
    }
    delay = limited_delay(q, e, 1);
    e->failures++;
    rc = add_locked(q, key, delay);
done:
    pthread_mutex_unlock(&q->lock);
    return rc;
}

long rc_queue_backoff_ms(struct rc_queue *q, const char *key)
{
    long d;

    pthread_mutex_lock(&q->lock);
    d = limited_delay(q, find(q, key), 0);
    pthread_mutex_unlock(&q->lock);
    return d;
}

void rc_queue_forget(struct rc_queue *q, const char *key)
{
    struct entry *e;

    pthread_mutex_lock(&q->lock);
    e = find(q, key);
    if (e) {
        e->failures = 0;
        release(q, e);
    }
    pthread_mutex_unlock(&q->lock);
}

int rc_queue_requeues(struct rc_queue *q, const char *key)
{
    struct entry *e;
    int n;

    pthread_mutex_lock(&q->lock);
    e = find(q, key);
    n = e ? e->failures : 0;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int rc_queue_get(struct rc_queue *q, const char **key)
{
    struct entry *e;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        if (!q->shutting_down)
            promote_due(q, kube_time_now_ms());
        if (q->head || q->shutting_down)
            break;
        kube_time_wait_until(&q->ready, &q->lock,
                             q->nheap ? q->heap[0]->due : -1);
    }
    e = q->head;
    if (e) {
        q->head = e->qnext;
        if (!q->head)
            q->tail = NULL;
        q->nready--;
        e->dirty = 0;
        e->processing = 1;
        q->nprocessing++;
        *key = e->key;
    }
    pthread_mutex_unlock(&q->lock);
    return e ? KUBE_OK : KUBE_EUNAVAIL;
}

void rc_queue_done(struct rc_queue *q, const char *key)
{
    struct entry *e;

    pthread_mutex_lock(&q->lock);
    e = find(q, key);
    if (e && e->processing) {
        e->processing = 0;
        if (--q->nprocessing == 0)
            pthread_cond_broadcast(&q->idle);
        if (e->dirty)
            push_ready(q, e); /* added while it was being handled */
        else
            release(q, e);
    }
    pthread_mutex_unlock(&q->lock);
}

size_t rc_queue_len(struct rc_queue *q)
{
    size_t n;

    pthread_mutex_lock(&q->lock);
    n = q->nready;
    pthread_mutex_unlock(&q->lock);
    return n;
}

void rc_queue_shutdown(struct rc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    if (!q->shutting_down) {
        q->shutting_down = 1;
        while (q->nheap > 0) { /* delayed keys are dropped */
            struct entry *e = heap_pop(q);
            release(q, e);
        }
    }
    pthread_cond_broadcast(&q->ready);
    pthread_mutex_unlock(&q->lock);
}

void rc_queue_shutdown_drain(struct rc_queue *q)
{
    rc_queue_shutdown(q);
    pthread_mutex_lock(&q->lock);
    while (q->nprocessing > 0 || q->head)
        pthread_cond_wait(&q->idle, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

/* Shuts down and drops the ready keys: a leader that lost its lease must
 * not start one more reconcile. Keys being handled finish (their handlers
 * see the caller's cancel flag). Caller holds q->lock. */
static void discard_ready_locked(struct rc_queue *q)
{
    struct entry *e = q->head, *next;

    q->head = q->tail = NULL;
    q->nready = 0;
    for (; e; e = next) {
        next = e->qnext;
        e->dirty = 0;
        release(q, e);
    }
}

void rc_queue_shutdown_discard(struct rc_queue *q)
{
    rc_queue_shutdown(q);
    pthread_mutex_lock(&q->lock);
    discard_ready_locked(q);
    while (q->nprocessing > 0)
        pthread_cond_wait(&q->idle, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

/* ---- workers ---- */

static void handle(struct rc_queue *q, const char *key)
{
    long after = 0;
    int rc = q->fn(key, q->ctx, &after);

    if (rc < 0) {
        rc_queue_add_rate_limited(q, key); /* dropped after shutdown */
    } else {
        rc_queue_forget(q, key);
        if (after > 0)
            rc_queue_add_after(q, key, after);
    }
}

static void *worker(void *arg)
{
    struct rc_queue *q = arg;
    const char *key;

    while (rc_queue_get(q, &key) == 0) {
        handle(q, key);
        rc_queue_done(q, key);
    }
    return NULL;
}

int rc_queue_start(struct rc_queue *q, int n, rc_queue_handler_fn fn, void *ctx,
                   struct kube_err *err)
{
    int down;

    pthread_mutex_lock(&q->lock);
    down = q->shutting_down;
    pthread_mutex_unlock(&q->lock);
    if (n < 1 || q->threads || down)
        return kube_err_set(err, KUBE_EINVAL,
                            "queue: workers already running, queue shut "
                            "down, or n < 1");
    q->threads = calloc((size_t)n, sizeof(*q->threads));
    if (!q->threads)
        return kube_err_set(err, KUBE_ENOMEM, "queue: out of memory");
    q->fn = fn;
    q->ctx = ctx;
    for (q->nthreads = 0; q->nthreads < n; q->nthreads++) {
        if (pthread_create(&q->threads[q->nthreads], NULL, worker, q) != 0) {
            rc_queue_stop(q);
            return kube_err_set(err, KUBE_ERR, "queue: cannot start worker");
        }
    }
    return KUBE_OK;
}

static void join_workers(struct rc_queue *q)
{
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    q->nthreads = 0;
    free(q->threads);
    q->threads = NULL;
}

void rc_queue_stop(struct rc_queue *q)
{
    if (q->nthreads == 0) { /* nobody to drain the ready keys */
        rc_queue_shutdown(q);
        return;
    }
    rc_queue_shutdown_drain(q);
    join_workers(q);
}

void rc_queue_stop_now(struct rc_queue *q)
{
    rc_queue_shutdown_discard(q);
    join_workers(q);
}
