/* reconciler/queue.h - the reconcilers' work queue, after client-go's
 * workqueue: keys ("ns/name") are de-duplicated while they wait, a key
 * is never handled by two workers at once (one added while it is being
 * handled waits until that handling is done), delayed re-adds, and
 * rate-limited re-adds that wait the longer of a per-key exponential
 * backoff and a token bucket shared by all keys.
 *
 * One mutex guards everything; workers sleep on condition variables
 * (CLOCK_MONOTONIC) until a key is ready or the next delayed key is due:
 * no polling, no timer thread. Every function is thread-safe. */
#ifndef VMSNAPD_RECONCILER_QUEUE_H
#define VMSNAPD_RECONCILER_QUEUE_H

#include <stddef.h>

#include "kube/errors.h"

/* Timers and limits; rc_queue_opts_default gives client-go's defaults. */
struct rc_queue_opts {
    long backoff_base_ms; /* 5: first rate-limited re-add waits this */
    long backoff_max_ms;  /* 1000000 (1000 s): per-key backoff cap */
    double qps;           /* 10: token bucket refill per second; <= 0 no
                             bucket */
    int burst;            /* 100: bucket size */
};

void rc_queue_opts_default(struct rc_queue_opts *o);

struct rc_queue;

/* A new queue; o NULL means the defaults. KUBE_ENOMEM, KUBE_ERR. */
int rc_queue_new(struct rc_queue **out, const struct rc_queue_opts *o,
                 struct kube_err *err) KUBE_MUST_CHECK;

/* Frees q. Workers must be stopped (rc_queue_stop) first. */
void rc_queue_free(struct rc_queue *q);

/* Marks key (copied) for handling. A key already waiting is not added
 * twice; a key being handled is handled again once done. Returns 0,
 * KUBE_EUNAVAIL after shutdown (the key is dropped), KUBE_ENOMEM. */
int rc_queue_add(struct rc_queue *q, const char *key);

/* Adds key after delay_ms (<= 0: now). A key already delayed keeps the
 * earlier of the two times. Keys with the same due time come out in the
 * order they were added. Same returns as rc_queue_add. */
int rc_queue_add_after(struct rc_queue *q, const char *key, long delay_ms);

/* Adds key after the longer of its backoff (base * 2^failures, capped)
 * and the token bucket's wait, and counts one more failure for it. Same
 * returns as rc_queue_add. */
int rc_queue_add_rate_limited(struct rc_queue *q, const char *key);

/* The delay rc_queue_add_rate_limited would use now, without counting a
 * failure or taking a token. For tests and logs. */
long rc_queue_backoff_ms(struct rc_queue *q, const char *key);

/* Clears key's failures: its next backoff is the base again. */
void rc_queue_forget(struct rc_queue *q, const char *key);

/* How many failures key has counted since it was last forgotten. */
int rc_queue_requeues(struct rc_queue *q, const char *key);

/* Waits for the next ready key. Returns 0 with *key set (borrowed: valid
 * until rc_queue_done(q, *key)), or KUBE_EUNAVAIL once the queue is shut
 * down and no key is ready (delayed keys are dropped at shutdown). */
int rc_queue_get(struct rc_queue *q, const char **key);

/* Ends the handling of key (as returned by rc_queue_get); if it was added
 * meanwhile it becomes ready again. */
void rc_queue_done(struct rc_queue *q, const char *key);

/* Keys ready now (not the delayed or running ones). */
size_t rc_queue_len(struct rc_queue *q);

/* Refuses adds from now on and wakes the workers; keys already ready are
 * still handed out (drained), then rc_queue_get returns KUBE_EUNAVAIL.
 * Returns at once. Idempotent. */
void rc_queue_shutdown(struct rc_queue *q);

/* rc_queue_shutdown, then waits until the ready keys are handed out and
 * no key is being handled. Needs running workers (or other threads
 * calling rc_queue_get) when keys are ready. */
void rc_queue_shutdown_drain(struct rc_queue *q);

/* rc_queue_shutdown, then drops the ready keys (they are not handled) and
 * waits until no key is being handled. For a leader that lost its lease:
 * nothing new starts. Idempotent. */
void rc_queue_shutdown_discard(struct rc_queue *q);

/* A worker's handler. Returns 0 when key is handled (its failures are
 * forgotten; setting *requeue_after_ms > 0 re-adds it after that delay,
 * e.g. to check a deadline), or < 0 when it failed (re-added with
 * rc_queue_add_rate_limited). *requeue_after_ms is 0 on entry. */
typedef int (*rc_queue_handler_fn)(const char *key, void *ctx,
                                   long *requeue_after_ms);

/* Starts n worker threads that get, handle and finish keys. KUBE_EINVAL
 * when workers already run or n < 1; KUBE_ERR when a thread cannot start
 * (those started are stopped again). */
int rc_queue_start(struct rc_queue *q, int n, rc_queue_handler_fn fn, void *ctx,
                   struct kube_err *err) KUBE_MUST_CHECK;

/* Shuts down with drain and joins the workers. Idempotent. A stopped
 * queue stays shut down (adds fail): take a new queue to start again. */
void rc_queue_stop(struct rc_queue *q);

/* Shuts down without draining (rc_queue_shutdown_discard) and joins the
 * workers: the handlers running finish, no other key is handled. */
void rc_queue_stop_now(struct rc_queue *q);

#endif
