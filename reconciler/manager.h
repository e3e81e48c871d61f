/* reconciler/manager.h - runs the controllers, nginx-style: a table of
 * struct rc_controller rows, each a reconcile function over "ns/name" keys
 * of one kind, plus an optional hook mapping other kinds' events to its
 * keys. The manager is made once, at start, and informers feed it events
 * for its whole life (rc_manager_event); reconciling happens only inside a
 * leadership term (rc_manager_lead .. rc_manager_unlead).
 *
 * A term has a fresh queue per controller and an atomic cancel flag that
 * every reconcile gets and passes to its API requests. Ending a term sets
 * the flag, drops the keys waiting (no new reconcile starts) and waits for
 * the running ones, which end early as their requests see the flag. A
 * new term enqueues every object of each controller's kind found in the
 * store, as an informer's first list would.
 *
 * Locks: the manager's lock guards the current term; it is taken before a
 * queue's own lock (rc_manager_enqueue holds it across rc_queue_add) and
 * never held across a reconcile or an API call. */
#ifndef VMSNAPD_RECONCILER_MANAGER_H
#define VMSNAPD_RECONCILER_MANAGER_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "kube/errors.h"
#include "kube/store.h"
#include "reconciler/queue.h"

/* A reconcile's result besides 0 (done) and < 0 (failed: retried with the
 * rate-limited backoff): failed, and retrying cannot help (a bad key, an
 * object the controller cannot handle). Logged once, then forgotten. */
#define RC_NORETRY 1

/* Longest namespace or name a key may carry (DNS subdomain, 253). */
#define RC_NAME_MAX 254

struct rc_manager;

/* What one reconcile gets; lives for the call. */
struct rc_call {
    const char *key;          /* "ns/name" (borrowed) */
    char ns[RC_NAME_MAX];     /* split from key; "" for cluster scope */
    char name[RC_NAME_MAX];   /* split from key */
    const atomic_int *cancel; /* set when the term ends: put it in every
                                 kube_request of this reconcile */
    struct rc_manager *mgr;
    void *ctx;             /* rc_manager_new's ctx */
    long requeue_after_ms; /* out: > 0 re-adds the key after this */
};

/* Reconciles c->key: 0, RC_NORETRY, or < 0 to be retried. */
typedef int (*rc_reconcile_fn)(struct rc_call *c);

/* An informer event on kind (not the controller's own kind: those enqueue
 * their own key) that may concern controller self: call rc_manager_enqueue
 * for the keys it maps to. obj is borrowed for the call. */
typedef void (*rc_watch_fn)(struct rc_manager *m, size_t self, const char *kind,
                            const json_t *obj, void *ctx);

/* One controller. */
struct rc_controller {
    const char *name;          /* "snapshot": logs and metrics label */
    const char *kind;          /* its objects' events enqueue their key */
    int workers;               /* reconciles at once, >= 1 */
    rc_reconcile_fn reconcile; /* required */
    rc_watch_fn watch;         /* other kinds' events; NULL: none */
};

/* Reconcile counters of one controller, for metrics and tests. */
struct rc_manager_stats {
    unsigned long reconciles; /* finished reconciles, all terms */
    unsigned long failures;   /* of which returned < 0 (retried) */
    unsigned long noretry;    /* of which returned RC_NORETRY */
    unsigned long terms;      /* terms started */
    size_t depth;             /* keys ready now (0 when not leading) */
};

/* Called after each reconcile (any thread): the controller's row, its
 * result and how long it took. For metrics; may be NULL. */
typedef void (*rc_observe_fn)(const struct rc_controller *ctl, int rc,
                              long long duration_ns, void *ctx);

struct rc_manager_opts {
    const struct rc_controller *controllers; /* borrowed for the manager's
                                                life */
    size_t ncontrollers;
    struct kube_store *store;          /* borrowed: a new term's keys */
    const struct rc_queue_opts *queue; /* NULL: client-go's defaults;
                                          copied */
    void *ctx;                         /* every rc_call's ctx */
    rc_observe_fn observe;             /* NULL: none */
    void *observe_ctx;
};

/* A manager, not leading. KUBE_EINVAL for a row without reconcile, kind or
 * workers; KUBE_ENOMEM. */
int rc_manager_new(struct rc_manager **out, const struct rc_manager_opts *o,
                   struct kube_err *err) KUBE_MUST_CHECK;

/* Ends a term if one runs, then frees. Accepts NULL. */
void rc_manager_free(struct rc_manager *m);

/* Starts a term: queues, workers, and every stored object of each
 * controller's kind enqueued. KUBE_EINVAL when a term runs; KUBE_ERR,
 * KUBE_ENOMEM (nothing left running). Thread-safe. */
int rc_manager_lead(struct rc_manager *m, struct kube_err *err) KUBE_MUST_CHECK;

/* Ends the term: cancel set, waiting keys dropped, running reconciles
 * waited for. No reconcile runs after it returns. Idempotent; call it from
 * another thread than the workers'. */
void rc_manager_unlead(struct rc_manager *m);

/* 1 while a term runs. Thread-safe. */
int rc_manager_leading(struct rc_manager *m);

/* An informer event: obj (borrowed) of kind enqueues its own key on the
 * controllers of that kind and goes to the others' watch hooks. Nothing
 * happens outside a term. Thread-safe. */
void rc_manager_event(struct rc_manager *m, const char *kind,
                      const json_t *obj);

/* Enqueues key on controller self, after delay_ms (<= 0: now). Outside a
 * term it is dropped (a new term enqueues everything). Thread-safe. */
void rc_manager_enqueue(struct rc_manager *m, size_t self, const char *key,
                        long delay_ms);

/* The row index of the controller named name, or -1. */
int rc_manager_find(const struct rc_manager *m, const char *name);

/* Counters of controller self. Thread-safe. */
void rc_manager_stats(struct rc_manager *m, size_t self,
                      struct rc_manager_stats *out);

/* Splits "ns/name" (or "name": cluster scope, ns "") into ns and name.
 * KUBE_EINVAL for an empty name, more than one '/', or a part longer than
 * RC_NAME_MAX - 1. Cannot fail otherwise; thread-safe. */
int rc_key_split(char ns[RC_NAME_MAX], char name[RC_NAME_MAX],
                 const char *key) KUBE_MUST_CHECK;

/* The key of obj (borrowed): "ns/name", or "name" without a namespace,
 * into buf. KUBE_EINVAL when obj has no name or buf is too small. */
int rc_key_of(char *buf, size_t len, const json_t *obj) KUBE_MUST_CHECK;

#endif
