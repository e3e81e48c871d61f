/* cmd/cluster.h - what `serve` keeps of the cluster: one API client, the
 * informers that fill the webhook's store, the live lookup the state door
 * falls back on, and the leader election of the reconcilers. */
#ifndef VMSNAPD_CMD_CLUSTER_H
#define VMSNAPD_CMD_CLUSTER_H

#include <stdio.h>

#include "kube/errors.h"
#include "reconciler/controllers.h"
#include "kube/store.h"
#include "webhook/review.h"

struct cmd_cluster_opts {
    const char *kubeconfig; /* --kubeconfig; NULL: kube_config_load's order */
    const char *context;    /* --context; NULL: current-context */
    const char *ns;         /* the daemon's namespace: the Lease's */
    const char *identity;   /* holderIdentity */
    int controllers;        /* --controllers all (1) or none (0) */
    int leader_elect;       /* with controllers: elect a leader first */
    long lease_ms, renew_ms, retry_ms; /* leader election timers */
    long token_reread_ms;              /* bearer token file re-read */
    long resync_ms;                    /* informer resync; 0: off */
    long live_get_ms;                  /* timeout of a state door GET */
    long live_wait_ms;                 /* a review waits this for it */
    int live_get_max;                  /* live GETs at once; 0: 4 */
    long stale_ms;     /* a cache failing this long is not fresh; 0: never */
    struct rc_opts rc; /* the controllers' timers */
};

struct cmd_cluster;

/* Loads the configuration, builds the client and store, and starts the
 * informers (and, with controllers and leader_elect, the election). Call
 * with signals blocked: the threads inherit the mask. KUBE_ENOTFOUND when
 * there is no kubeconfig and no in-cluster config (serve goes on webhook
 * only); otherwise err says what failed. */
int cmd_cluster_start(struct cmd_cluster **out,
                      const struct cmd_cluster_opts *o,
                      struct kube_err *err) KUBE_MUST_CHECK;

/* The store the informers fill (borrowed, lives as long as c). */
struct kube_store *cmd_cluster_store(struct cmd_cluster *c);

/* The state door's hook (borrowed, lives as long as c). */
const struct wh_lookup *cmd_cluster_lookup(struct cmd_cluster *c);

/* 1 when every cache the webhook reads has synced and none has been
 * failing for stale_ms (/readyz). Thread-safe. */
int cmd_cluster_fresh(struct cmd_cluster *c);

/* Writes the informers' health and the live reads' counters in the
 * Prometheus text format: a wh_metrics_source_fn, ctx the cluster. */
void cmd_cluster_metrics(FILE *f, void *ctx);

/* Stops leading (reconcilers stop at once) and releases the Lease. */
void cmd_cluster_stop_leader(struct cmd_cluster *c);

/* Stops every informer; the store keeps what it holds. */
void cmd_cluster_stop_informers(struct cmd_cluster *c);

/* Stops what still runs and frees everything. Accepts NULL. */
void cmd_cluster_free(struct cmd_cluster *c);

#endif
