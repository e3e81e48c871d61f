/* kube/informer.h - keeps a kube_store in step with one resource: list,
 * then watch from the list's resourceVersion, on a thread of its own.
 *
 * Like client-go's reflector: a watch that ends normally (timeoutSeconds)
 * is resumed from the last resourceVersion seen (events and bookmarks);
 * 410 Gone relists at once; any other failure relists after an
 * exponential backoff with jitter, reset to its minimum (and logged as
 * "informer recovered") once a list succeeds. A relist replaces the
 * informer's part of the store: objects gone from the list are deleted
 * (with on_delete).
 * One informer per kind and store: a relist removes objects of its kind,
 * in its namespace, that its list did not return. */
#ifndef VMSNAPD_KUBE_INFORMER_H
#define VMSNAPD_KUBE_INFORMER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "kube/errors.h"
#include "kube/store.h"

/* Called on the informer's thread, no lock held, after the store changed.
 * Objects are borrowed for the call (json_incref to keep them) and must
 * not be modified: the store shares them. Each slot may be NULL. Handlers
 * should be quick (enqueue a key): the watch waits meanwhile. */
struct kube_informer_handlers {
    void (*on_add)(const json_t *obj, void *ctx);
    /* old and obj; on a resync both are the stored object */
    void (*on_update)(const json_t *old, const json_t *obj, void *ctx);
    /* the object's last state: the DELETED event's, or the stored one when
       a relist found it gone */
    void (*on_delete)(const json_t *obj, void *ctx);
    void *ctx;
};

/* Unset (zero) fields take the defaults in brackets. */
struct kube_informer_opts {
    const struct kube_gvr *gvr; /* required; borrowed for the informer's
                                   life */
    const char *ns;             /* NULL: all namespaces; copied */
    const char *label_selector; /* copied */
    const char *field_selector; /* copied */
    long page_limit;            /* [500] items per list page */
    long watch_timeout_s;       /* [300] each watch asks for this */
    long resync_ms;             /* [0: never] on_update(obj, obj) for every
                                   stored object this often */
    long backoff_min_ms;        /* [800] first wait after a failure */
    long backoff_max_ms;        /* [30000] */
    /* [NULL: objects kept whole] client-go's transform: what to keep of
       each listed or watched object (kube_project), before the store and
       the handlers see it. Returns a new reference (NULL: out of memory);
       obj is borrowed, and must not be modified. */
    json_t *(*transform)(const json_t *obj);
};

struct kube_informer;

/* A stopped informer for o over client c and store s (both borrowed: they
 * must outlive it). h is copied; NULL means no handlers. KUBE_EINVAL
 * without a gvr; KUBE_ENOMEM. */
int kube_informer_new(struct kube_informer **out, struct kube_client *c,
                      struct kube_store *s, const struct kube_informer_opts *o,
                      const struct kube_informer_handlers *h,
                      struct kube_err *err) KUBE_MUST_CHECK;

/* Starts the informer's thread. KUBE_EINVAL when already started;
 * KUBE_ERR when the thread cannot be created. */
int kube_informer_start(struct kube_informer *inf,
                        struct kube_err *err) KUBE_MUST_CHECK;

/* 1 once the first list is in the store (and forever after), else 0.
 * Thread-safe, lock-free. */
int kube_informer_synced(struct kube_informer *inf);

/* 1 when the store can be trusted for this informer's kind: synced, and
 * not failing (lists and watches) for stale_ms or longer (<= 0: no
 * limit). An open watch that is silent counts as healthy: a dead
 * connection fails it within TCP keep-alive or timeout_s plus the
 * client's watch_grace_ms. Thread-safe. */
int kube_informer_fresh(struct kube_informer *inf, long stale_ms);

/* Waits until synced, stopped, or timeout_ms (< 0: no limit) passed.
 * Returns 1 when synced. Thread-safe. */
int kube_informer_wait_synced(struct kube_informer *inf, long timeout_ms);

/* The last resourceVersion seen (list, event or bookmark) into buf; ""
 * before the first list. Thread-safe. */
void kube_informer_resource_version(struct kube_informer *inf, char *buf,
                                    size_t len);

/* Counters and health, for logs, metrics and tests. */
struct kube_informer_stats {
    unsigned long lists;      /* completed lists (the first, then relists) */
    unsigned long watches;    /* watches started */
    unsigned long gone;       /* 410s that forced a relist */
    unsigned long errors;     /* failed lists and watches */
    unsigned long events;     /* watch events applied (bookmarks included) */
    long backoff_ms;          /* the last failure's wait; 0 again once a
                                 list succeeds */
    int64_t last_ok_ms;       /* kube_time_now_ms of the last list, event
                                 or watch that ran its course; 0: never */
    int64_t failing_since_ms; /* first failure since the server last
                                 answered; 0 while healthy */
};
void kube_informer_stats(struct kube_informer *inf,
                         struct kube_informer_stats *out);

/* Asks the thread to stop without waiting: cancel every informer, then
 * stop each, and they wind down together. Thread-safe. */
void kube_informer_cancel(struct kube_informer *inf);

/* Asks the thread to stop and joins it: a running watch or list ends
 * within about a second, a backoff wait at once. Idempotent. Call from
 * another thread than the handlers'. */
void kube_informer_stop(struct kube_informer *inf);

/* Stops (if needed) and frees. The store keeps what it holds. */
void kube_informer_free(struct kube_informer *inf);

#endif
