/* cmd/cluster.c - serve's cluster view: client, informers, live lookup and
 * leader election, started and stopped in the order the drain needs. */
#include "cmd/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/live.h"
#include "kube/client.h"
#include "kube/client_time.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"
#include "kube/log.h"
#include "kube/project.h"
#include "reconciler/controllers.h"
#include "reconciler/leader.h"
#include "reconciler/manager.h"
#include "reconciler/queue.h"
#include "webhook/metrics.h"

/* A row per kind the daemon caches. webhook: the state door reads it, so
 * /readyz waits for it; the others are the reconcilers' and start only
 * with --controllers all (every replica, so a new leader starts warm). */
static const struct cluster_kind {
    const char *kind;
    struct kube_gvr gvr;
    int webhook;
    int cluster_scoped;
} cluster_kinds[] = {
    {"VirtualMachine", {"kubevirt.io", "v1", "virtualmachines"}, 1, 0},
    {"VirtualMachineInstance",
     {"kubevirt.io", "v1", "virtualmachineinstances"},
     1,
     0},
    {"VirtualMachineSnapshot",
     {"snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshots"},
     1,
     0},
    {"VirtualMachineSnapshotContent",
     {"snapshot.kubevirt.io", "v1beta1", "virtualmachinesnapshotcontents"},
     1,
     0},
    {"VirtualMachineRestore",
     {"snapshot.kubevirt.io", "v1beta1", "virtualmachinerestores"},
     1,
     0},
    /* the DELETE rules let a terminating namespace go */
    {"Namespace", {"", "v1", "namespaces"}, 1, 1},
    {"PersistentVolumeClaim", {"", "v1", "persistentvolumeclaims"}, 0, 0},
    {"VolumeSnapshot",
     {"snapshot.storage.k8s.io", "v1", "volumesnapshots"},
     0,
     0},
    {"VolumeSnapshotClass",
     {"snapshot.storage.k8s.io", "v1", "volumesnapshotclasses"},
     0,
     1},
    {"StorageClass", {"storage.k8s.io", "v1", "storageclasses"}, 0, 1},
    /* the lock's volume checks (§4.1): a DataVolume's claim is locked only
     * once populated, an offline VM's only when no pod mounts it */
    {"DataVolume", {"cdi.kubevirt.io", "v1beta1", "datavolumes"}, 0, 0},
    {"Pod", {"", "v1", "pods"}, 0, 0},
};
#define NKINDS (sizeof(cluster_kinds) / sizeof(cluster_kinds[0]))

/* An informer's handlers' context: which kind it feeds the manager. */
struct kind_hook {
    struct cmd_cluster *c;
    const char *kind;
};

struct cmd_cluster {
    struct kube_client *client;
    struct rc_manager *mgr; /* NULL without --controllers all */
    struct rc_env env;      /* the controllers' context */
    struct kind_hook hooks[NKINDS];
    struct kube_store *store;
    struct kube_informer *inf[NKINDS]; /* NULL when not started */
    struct rc_leader *leader;          /* NULL without election */
    struct wh_lookup lookup;
    struct cmd_live *live; /* the state door's live reads */
    long stale_ms;
};

static int kind_index(const char *kind)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(cluster_kinds[i].kind, kind) == 0)
            return (int)i;
    return -1;
}

static int lookup_fresh(void *ctx, const char *kind, char *why, size_t len)
{
    struct cmd_cluster *c = ctx;
    int i = kind_index(kind);

    if (i < 0 || !c->inf[i]) {
        snprintf(why, len, "vmsnapd keeps no cache of %s", kind);
        return 0;
    }
    if (!kube_informer_synced(c->inf[i])) {
        snprintf(why, len, "its cache has not synced yet");
        return 0;
    }
    if (!kube_informer_fresh(c->inf[i], c->stale_ms)) {
        snprintf(why, len,
                 "its cache has not heard from the API server for over %ld "
                 "ms",
                 c->stale_ms);
        return 0;
    }
    return 1;
}

/* The state door's live read (cmd/live.h): bounded, shared, and never
 * holding the review's thread past --live-get-wait. */
static int lookup_get(json_t **out, void *ctx, const char *kind, const char *ns,
                      const char *name, struct kube_err *err)
{
    struct cmd_cluster *c = ctx;
    int i = kind_index(kind);

    if (i < 0)
        return kube_err_set(err, KUBE_EINVAL, "no resource known for %s", kind);
    return cmd_live_get(out, c->live, &cluster_kinds[i].gvr,
                        cluster_kinds[i].cluster_scoped ? NULL : ns, name, err);
}

static void on_started(void *ctx)
{
    struct cmd_cluster *c = ctx;
    struct kube_err err = {0};

    if (rc_manager_lead(c->mgr, &err) < 0) {
        /* the next term (after a lost lease) tries again */
        kube_log(KUBE_LOG_ERROR, "leading: reconcilers did not start", "{s:s}",
                 "error", err.msg);
        return;
    }
    kube_log(KUBE_LOG_INFO, "leading: reconcilers started", NULL);
}

/* Losing the lease stops reconciling at once: waiting keys are dropped,
 * running reconciles cancelled and waited for. */
static void on_stopped(void *ctx)
{
    struct cmd_cluster *c = ctx;

    rc_manager_unlead(c->mgr);
    kube_log(KUBE_LOG_INFO, "not leading: reconcilers stopped", NULL);
}

static void hook_add(const json_t *obj, void *ctx)
{
    struct kind_hook *h = ctx;

    rc_manager_event(h->c->mgr, h->kind, obj);
}

static void hook_update(const json_t *old, const json_t *obj, void *ctx)
{
    (void)old;
    hook_add(obj, ctx);
}

/* 1 once every informer started has listed: the controllers read them
 * all (a missing content in an unsynced cache is not a missing content). */
static int all_synced(void *ctx)
{
    struct cmd_cluster *c = ctx;

    for (size_t i = 0; i < NKINDS; i++)
        if (c->inf[i] && !kube_informer_synced(c->inf[i]))
            return 0;
    return 1;
}

/* The controllers' manager and its context, made once: informers feed it
 * for the daemon's life, each leadership term runs its workers. */
static int start_manager(struct cmd_cluster *c,
                         const struct cmd_cluster_opts *o, struct kube_err *err)
{
    struct rc_manager_opts mo = {
        .controllers = rc_controllers,
        .ncontrollers = rc_ncontrollers,
        .store = c->store,
        .ctx = &c->env,
    };

    struct rc_queue_opts qo;
    int rc;

    if (!o->controllers)
        return KUBE_OK;
    rc_env_init(&c->env, c->client, c->store, &o->rc);
    c->env.synced = all_synced;
    c->env.synced_ctx = c;
    rc_queue_opts_default(&qo);
    qo.backoff_max_ms = c->env.o.backoff_max_ms;
    mo.queue = &qo; /* copied */
    mo.observe = rc_env_observe;
    mo.observe_ctx = &c->env;
    rc = rc_manager_new(&c->mgr, &mo, err);
    c->env.mgr = c->mgr;
    if (rc == KUBE_OK)
        kube_log(KUBE_LOG_INFO, "controllers ready", "{s:I, s:I, s:I}",
                 "retryIntervalMs", (json_int_t)c->env.o.retry_ms,
                 "restoreGracePeriodMs", (json_int_t)c->env.o.restore_grace_ms,
                 "backoffMaxMs", (json_int_t)c->env.o.backoff_max_ms);
    return rc;
}

static int start_informers(struct cmd_cluster *c,
                           const struct cmd_cluster_opts *o,
                           struct kube_err *err)
{
    for (size_t i = 0; i < NKINDS; i++) {
        struct kube_informer_opts io = {
            .gvr = &cluster_kinds[i].gvr,
            .resync_ms = o->resync_ms,
            .transform = kube_project, /* kube/project.c: what we keep */
        };
        struct kube_informer_handlers h = {hook_add, hook_update, hook_add,
                                           &c->hooks[i]};
        int rc;

        if (!cluster_kinds[i].webhook && !o->controllers)
            continue;
        c->hooks[i] = (struct kind_hook){c, cluster_kinds[i].kind};
        rc = kube_informer_new(&c->inf[i], c->client, c->store, &io,
                               c->mgr ? &h : NULL, err);
        if (rc == KUBE_OK)
            rc = kube_informer_start(c->inf[i], err);
        if (rc < 0)
            return rc;
    }
    return KUBE_OK;
}

static int start_leader(struct cmd_cluster *c, const struct cmd_cluster_opts *o,
                        struct kube_err *err)
{
    struct rc_leader_opts lo = {
        .ns = o->ns,
        .name = RC_LEADER_DEFAULT_NAME,
        .identity = o->identity,
        .lease_duration_ms = o->lease_ms,
        .renew_deadline_ms = o->renew_ms,
        .retry_period_ms = o->retry_ms,
        .on_started = on_started,
        .on_stopped = on_stopped,
        .ctx = c,
    };
    int rc;

    if (!o->controllers)
        return KUBE_OK; /* webhook only: next to KubeVirt's controller */
    if (!o->leader_elect) {
        kube_log(KUBE_LOG_INFO, "leader election off: this replica reconciles",
                 NULL);
        on_started(c);
        return KUBE_OK;
    }
    rc = rc_leader_new(&c->leader, c->client, &lo, err);
    if (rc == KUBE_OK)
        rc = rc_leader_start(c->leader, err);
    if (rc == KUBE_OK)
        kube_log(KUBE_LOG_INFO, "leader election started",
                 "{s:s, s:s, s:s, s:I, s:I, s:I}", "namespace", o->ns, "lease",
                 RC_LEADER_DEFAULT_NAME, "identity", o->identity,
                 "leaseDurationMs", (json_int_t)o->lease_ms, "renewDeadlineMs",
                 (json_int_t)o->renew_ms, "retryPeriodMs",
                 (json_int_t)o->retry_ms);
    return rc;
}

static int connect_client(struct cmd_cluster *c,
                          const struct cmd_cluster_opts *o,
                          struct kube_err *err)
{
    struct kube_config_source src = {o->kubeconfig, o->context, NULL};
    struct kube_client_opts co;
    struct kube_config *cfg = NULL;
    int rc = kube_config_load(&cfg, &src, err);

    if (rc < 0)
        return rc;
    kube_client_opts_default(&co);
    co.token_reload_ms = o->token_reread_ms;
    rc = kube_client_new(&c->client, cfg, &co, err);
    if (rc == KUBE_OK)
        kube_log(KUBE_LOG_INFO, "cluster access", "{s:s, s:s, s:s}", "source",
                 cfg->source, "context", cfg->context ? cfg->context : "",
                 "server", cfg->server);
    kube_config_free(cfg);
    return rc;
}

int cmd_cluster_start(struct cmd_cluster **out,
                      const struct cmd_cluster_opts *o, struct kube_err *err)
{
    struct cmd_cluster *c = calloc(1, sizeof(*c));
    struct cmd_live_opts lo = {
        .get_ms = o->live_get_ms,
        .wait_ms = o->live_wait_ms,
        .keep_ms = o->live_get_ms,
        .max = o->live_get_max > 0 ? o->live_get_max : 4,
    };
    int rc;

    if (!c)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    c->stale_ms = o->stale_ms;
    c->lookup = (struct wh_lookup){lookup_fresh, lookup_get, c};
    rc = connect_client(c, o, err);
    if (rc == KUBE_OK && cmd_live_new(&c->live, c->client, &lo) < 0)
        rc = kube_err_set(err, KUBE_ENOMEM, "out of memory");
    if (rc == KUBE_OK && kube_store_new(&c->store) < 0)
        rc = kube_err_set(err, KUBE_ENOMEM, "out of memory");
    if (rc == KUBE_OK)
        rc = start_manager(c, o, err);
    if (rc == KUBE_OK)
        rc = start_informers(c, o, err);
    if (rc == KUBE_OK)
        rc = start_leader(c, o, err);
    if (rc < 0) {
        cmd_cluster_free(c);
        return rc;
    }
    *out = c;
    return KUBE_OK;
}

struct kube_store *cmd_cluster_store(struct cmd_cluster *c)
{
    return c->store;
}

const struct wh_lookup *cmd_cluster_lookup(struct cmd_cluster *c)
{
    return &c->lookup;
}

int cmd_cluster_fresh(struct cmd_cluster *c)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (cluster_kinds[i].webhook &&
            (!c->inf[i] || !kube_informer_fresh(c->inf[i], c->stale_ms)))
            return 0;
    return 1;
}

/* Each started informer's value of one family, in table order. */
static size_t informer_series(struct cmd_cluster *c, const char **names,
                              double *v, int what)
{
    int64_t now = kube_time_now_ms();
    size_t n = 0;

    for (size_t i = 0; i < NKINDS; i++) {
        struct kube_informer_stats st;
        if (!c->inf[i])
            continue;
        kube_informer_stats(c->inf[i], &st);
        names[n] = cluster_kinds[i].gvr.resource;
        v[n++] =
            what == 0 ? (st.last_ok_ms ? (double)(now - st.last_ok_ms) / 1000.0
                                       : -1.0)
            : what == 1 ? (double)st.lists
            : what == 2 ? (double)st.errors
                        : (double)kube_informer_fresh(c->inf[i], c->stale_ms);
    }
    return n;
}

void cmd_cluster_metrics(FILE *f, void *ctx)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"vmsnapd_informer_last_sync_age_seconds", "gauge",
         "Seconds since the informer last heard from the API server (a "
         "list, an event, a watch that ran its course); -1: never."},
        {"vmsnapd_informer_lists_total", "counter",
         "Completed lists: the first, then every relist."},
        {"vmsnapd_informer_failures_total", "counter",
         "Failed lists and watches (each followed by a backoff)."},
        {"vmsnapd_informer_fresh", "gauge",
         "1 when the cache is synced and not failing past --cache-stale-"
         "after; 0: rules that read it answer 503."},
    };
    static const char *const outcomes[] = {"sent", "shared", "refused", "late"};
    struct cmd_cluster *c = ctx;
    const char *names[NKINDS];
    double v[NKINDS];
    struct cmd_live_stats ls;

    for (int w = 0; w < 4; w++) {
        size_t n = informer_series(c, names, v, w);
        wh_metrics_put_family(f, fam[w].name, fam[w].type, fam[w].help,
                              "resource", names, v, n);
    }
    cmd_live_stats(c->live, &ls);
    v[0] = (double)ls.sent;
    v[1] = (double)ls.shared;
    v[2] = (double)ls.refused;
    v[3] = (double)ls.late;
    wh_metrics_put_family(
        f, "vmsnapd_live_reads_total", "counter",
        "Live reads of the state door: GETs sent, reads that shared one, "
        "reads refused (--live-get-max reached) and reads that stopped "
        "waiting (--live-get-wait); the last two answer 503.",
        "outcome", outcomes, v, 4);
    if (c->mgr)
        rc_metrics_render(f, &c->env); /* the reconcilers' own */
}

void cmd_cluster_stop_leader(struct cmd_cluster *c)
{
    if (c->leader)
        rc_leader_stop(c->leader);
    if (c->mgr) /* leader election off: this replica led until now */
        rc_manager_unlead(c->mgr);
}

void cmd_cluster_stop_informers(struct cmd_cluster *c)
{
    /* all at once: each takes up to a second to notice */
    for (size_t i = 0; i < NKINDS; i++)
        if (c->inf[i])
            kube_informer_cancel(c->inf[i]);
    for (size_t i = 0; i < NKINDS; i++)
        if (c->inf[i])
            kube_informer_stop(c->inf[i]);
}

void cmd_cluster_free(struct cmd_cluster *c)
{
    if (!c)
        return;
    cmd_cluster_stop_leader(c);
    rc_leader_free(c->leader);
    cmd_cluster_stop_informers(c);
    for (size_t i = 0; i < NKINDS; i++)
        kube_informer_free(c->inf[i]);
    rc_manager_free(c->mgr);
    rc_env_fini(&c->env);
    if (c->client)
        kube_client_shutdown(c->client); /* live GETs end */
    cmd_live_free(c->live);
    kube_client_free(c->client);
    kube_store_free(c->store);
    free(c);
}
