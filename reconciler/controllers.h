/* reconciler/controllers.h - the daemon's controller table (the snapshot,
 * content and restore workers of ../shared/spec/kubevirt-controller.md §4-§5)
 * and the context every reconcile gets: the API client, the informers' store,
 * the timers, and the reconciler metrics. The restore worker is spec
 * §6. */
#ifndef VMSNAPD_RECONCILER_CONTROLLERS_H
#define VMSNAPD_RECONCILER_CONTROLLERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include "kube/client.h"
#include "kube/store.h"
#include "reconciler/manager.h"

/* Timers and sizes; zero fields take the defaults in brackets. */
struct rc_opts {
    long retry_ms;          /* [5000] snapshotRetryInterval: after a lock
                               attempt; also the freeze-failure retry */
    long content_delete_ms; /* [5000] contentDeletionInterval */
    long restore_grace_ms;  /* [300000] WaitGracePeriod's DefaultGracePeriod,
                               from a restore's creationTimestamp */
    long backoff_max_ms;    /* [1000000] a failing key's re-queue cap
                               (client-go's 1000 s) */
    /* the admission policy's restore rules, checked again at reconcile
       time: 0 (the default) is the strict rule */
    int restore_online_snapshot_ok; /* !restore.requireOfflineSnapshot */
    int restore_running_target_ok;  /* !restore.requireStoppedTarget */
};

/* The API verbs and status codes counted; the last code slot (0) is
 * "other", code 1 a request that got no answer. */
#define RC_NVERBS 5
#define RC_NCODES 12

/* The rows of rc_controllers (below). */
#define RC_NCONTROLLERS 3

/* Reconciler metrics: relaxed atomics in fixed slots. */
struct rc_metrics {
    atomic_ulong requests[RC_NVERBS][RC_NCODES];
    /* controller x {ok, retried, noretry} */
    atomic_ulong reconciles[RC_NCONTROLLERS][3];
    atomic_ulong duration[RC_NCONTROLLERS][13]; /* x bucket (+Inf last) */
    atomic_ullong duration_ns[RC_NCONTROLLERS]; /* controller: sum */
};

/* What every reconcile gets as rc_call.ctx. */
struct rc_env {
    struct kube_client *client; /* borrowed */
    struct kube_store *store;   /* borrowed */
    struct rc_manager *mgr;     /* set once made; borrowed */
    struct rc_opts o;
    struct rc_metrics metrics;
    /* 1 once the caches the controllers read have synced; NULL: always */
    int (*synced)(void *ctx);
    void *synced_ctx;
};

/* The rows: "snapshot" (VirtualMachineSnapshot), "content"
 * (VirtualMachineSnapshotContent) and "restore" (VirtualMachineRestore),
 * in that order. */
extern const struct rc_controller rc_controllers[];
extern const size_t rc_ncontrollers;
#define RC_SNAPSHOT 0
#define RC_CONTENT 1
#define RC_RESTORE 2

/* Fills env for client and store (both borrowed) with o (NULL: defaults).
 * Cannot fail. */
void rc_env_init(struct rc_env *env, struct kube_client *client,
                 struct kube_store *store, const struct rc_opts *o);

/* The cached object kind ns/name as a new reference, or NULL when the
 * cache has none (or name is ""). Thread-safe. */
json_t *rc_env_get(struct rc_env *env, const char *kind, const char *ns,
                   const char *name);

/* The object c is about, of kind, from the cache (new reference), or NULL
 * when there is nothing to do now: the caches have not synced yet (c is
 * re-queued in 200 ms: caches first, as KubeVirt waits) or the object is
 * gone. c->ctx is the env. */
json_t *rc_env_begin(struct rc_call *c, const char *kind);

/* Logs a reconcile's failure once (a conflict is only a re-read, not
 * logged): controller's name, c's key and msg. */
void rc_env_log_failure(const struct rc_call *c, const char *controller, int rc,
                        const char *msg);

/* Releases what rc_env_init took (nothing today); accepts a zeroed env. */
void rc_env_fini(struct rc_env *env);

/* rc_observe_fn for the manager: reconcile counts and durations. */
void rc_env_observe(const struct rc_controller *ctl, int rc,
                    long long duration_ns, void *ctx);

/* Counts one API request: verb ("GET"...), HTTP code (0: no answer). */
void rc_metrics_request(struct rc_metrics *m, const char *verb, int code);

/* Writes the reconciler metrics (Prometheus text) to f: snapshots by
 * phase (from the store), reconciles, their durations, queue depth,
 * retries, API requests by verb and code. ctx is the env. */
void rc_metrics_render(FILE *f, void *ctx);

#endif
