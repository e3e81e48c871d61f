/* reconciler/controllers.c - the controller table, the env and the
 * reconciler metrics. */
#include "reconciler/controllers.h"

#include <string.h>

#include "kube/log.h"

#include "reconciler/restore.h"
#include "reconciler/snapshot.h"

const struct rc_controller rc_controllers[] = {
    /* name, kind, workers (KubeVirt's --snapshot-controller-threads
       default), reconcile, watch */
    [RC_SNAPSHOT] = {"snapshot", "VirtualMachineSnapshot", 6,
                     rc_snapshot_reconcile, rc_snapshot_watch},
    [RC_CONTENT] = {"content", "VirtualMachineSnapshotContent", 6,
                    rc_content_reconcile, rc_content_watch},
    /* KubeVirt's --restore-controller-threads default */
    [RC_RESTORE] = {"restore", "VirtualMachineRestore", 3, rc_restore_reconcile,
                    rc_restore_watch},
};
_Static_assert(sizeof(rc_controllers) / sizeof(rc_controllers[0]) ==
                   RC_NCONTROLLERS,
               "one metrics slot per controller row");
const size_t rc_ncontrollers =
    sizeof(rc_controllers) / sizeof(rc_controllers[0]);

void rc_env_init(struct rc_env *env, struct kube_client *client,
                 struct kube_store *store, const struct rc_opts *o)
{
    memset(env, 0, sizeof(*env));
    env->client = client;
    env->store = store;
    if (o)
        env->o = *o;
    if (env->o.retry_ms <= 0)
        env->o.retry_ms = 5000;
    if (env->o.content_delete_ms <= 0)
        env->o.content_delete_ms = 5000;
    if (env->o.restore_grace_ms <= 0)
        env->o.restore_grace_ms = 5 * 60 * 1000;
    if (env->o.backoff_max_ms <= 0)
        env->o.backoff_max_ms = 1000L * 1000;
}

json_t *rc_env_get(struct rc_env *env, const char *kind, const char *ns,
                   const char *name)
{
    json_t *obj = NULL;

    if (!*name || kube_store_get(&obj, env->store, kind, ns, name) < 0)
        return NULL;
    return obj;
}

json_t *rc_env_begin(struct rc_call *c, const char *kind)
{
    struct rc_env *env = c->ctx;

    if (env->synced && !env->synced(env->synced_ctx)) {
        c->requeue_after_ms = 200;
        return NULL;
    }
    return rc_env_get(env, kind, c->ns, c->name);
}

void rc_env_log_failure(const struct rc_call *c, const char *controller, int rc,
                        const char *msg)
{
    if ((rc < 0 && rc != KUBE_ECONFLICT) || rc == RC_NORETRY)
        kube_log(KUBE_LOG_WARN, "reconcile failed", "{s:s, s:s, s:s, s:s}",
                 "controller", controller, "namespace", c->ns, "name", c->name,
                 "error", msg);
}

void rc_env_fini(struct rc_env *env)
{
    (void)env;
}

/* ---- metrics ---- */

static const char *const verbs[RC_NVERBS] = {"GET", "POST", "PUT", "PATCH",
                                             "DELETE"};
/* 0: no answer; the last slot (-1) is any other code */
static const int codes[RC_NCODES] = {0,   200, 201, 400, 403, 404,
                                     409, 422, 429, 500, 503, -1};
static const double bucket_s[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,   0.25,   0.5,   1,    2.5,   10};
#define NBUCKETS (sizeof(bucket_s) / sizeof(bucket_s[0]))
static const char *const results[3] = {"ok", "retried", "noretry"};
static const char *const phases[] = {"",       "InProgress", "Succeeded",
                                     "Failed", "Deleting",   "Unknown"};
#define NPHASES (sizeof(phases) / sizeof(phases[0]))

void rc_metrics_request(struct rc_metrics *m, const char *verb, int code)
{
    size_t v, k;

    for (v = 0; v < RC_NVERBS && strcmp(verbs[v], verb) != 0; v++)
        ;
    for (k = 0; k < RC_NCODES - 1 && codes[k] != code; k++)
        ;
    if (v < RC_NVERBS)
        atomic_fetch_add_explicit(&m->requests[v][k], 1, memory_order_relaxed);
}

void rc_env_observe(const struct rc_controller *ctl, int rc,
                    long long duration_ns, void *ctx)
{
    struct rc_env *env = ctx;
    size_t i = (size_t)(ctl - rc_controllers), b;
    double s = (double)duration_ns / 1e9;

    if (i >= RC_NCONTROLLERS)
        return;
    atomic_fetch_add(&env->metrics.reconciles[i][rc == RC_NORETRY ? 2
                                                 : rc < 0         ? 1
                                                                  : 0],
                     1);
    for (b = 0; b < NBUCKETS && s > bucket_s[b]; b++)
        ;
    atomic_fetch_add(&env->metrics.duration[i][b], 1);
    atomic_fetch_add(&env->metrics.duration_ns[i],
                     (unsigned long long)duration_ns);
}

static void render_phases(FILE *f, struct rc_env *env)
{
    unsigned long n[NPHASES] = {0};
    json_t *all = NULL, *obj;
    size_t i, p;

    fputs("# HELP vmsnapd_vmsnapshots VirtualMachineSnapshots in the cache "
          "by status.phase.\n# TYPE vmsnapd_vmsnapshots gauge\n",
          f);
    if (kube_store_list(&all, env->store, "VirtualMachineSnapshot", NULL) < 0)
        return;
    json_array_foreach(all, i, obj)
    {
        const char *ph = json_string_value(
            json_object_get(json_object_get(obj, "status"), "phase"));
        for (p = 0; p < NPHASES - 1 && strcmp(phases[p], ph ? ph : "") != 0;
             p++)
            ;
        n[p]++;
    }
    json_decref(all);
    for (p = 0; p < NPHASES; p++)
        fprintf(f, "vmsnapd_vmsnapshots{phase=\"%s\"} %lu\n", phases[p], n[p]);
}

static void render_reconciles(FILE *f, struct rc_env *env)
{
    struct rc_metrics *m = &env->metrics;

    fputs("# HELP vmsnapd_reconcile_total Reconciles by controller and "
          "result.\n# TYPE vmsnapd_reconcile_total counter\n",
          f);
    for (size_t i = 0; i < RC_NCONTROLLERS; i++)
        for (size_t r = 0; r < 3; r++)
            fprintf(f,
                    "vmsnapd_reconcile_total{controller=\"%s\",result=\"%s\"} "
                    "%lu\n",
                    rc_controllers[i].name, results[r],
                    atomic_load(&m->reconciles[i][r]));
    fputs("# HELP vmsnapd_reconcile_duration_seconds Time one reconcile "
          "took.\n# TYPE vmsnapd_reconcile_duration_seconds histogram\n",
          f);
    for (size_t i = 0; i < RC_NCONTROLLERS; i++) {
        unsigned long cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += atomic_load(&m->duration[i][b]);
            if (b < NBUCKETS)
                fprintf(f,
                        "vmsnapd_reconcile_duration_seconds_bucket{"
                        "controller=\"%s\",le=\"%g\"} %lu\n",
                        rc_controllers[i].name, bucket_s[b], cum);
        }
        fprintf(f,
                "vmsnapd_reconcile_duration_seconds_bucket{controller=\"%s\","
                "le=\"+Inf\"} %lu\n"
                "vmsnapd_reconcile_duration_seconds_sum{controller=\"%s\"} "
                "%.6f\n"
                "vmsnapd_reconcile_duration_seconds_count{controller=\"%s\"} "
                "%lu\n",
                rc_controllers[i].name, cum, rc_controllers[i].name,
                (double)atomic_load(&m->duration_ns[i]) / 1e9,
                rc_controllers[i].name, cum);
    }
}

static void render_queues(FILE *f, struct rc_env *env)
{
    fputs("# HELP vmsnapd_reconcile_queue_depth Keys waiting to be "
          "reconciled (0 when not leading).\n"
          "# TYPE vmsnapd_reconcile_queue_depth gauge\n",
          f);
    for (size_t i = 0; i < RC_NCONTROLLERS; i++) {
        struct rc_manager_stats st = {0};
        if (env->mgr)
            rc_manager_stats(env->mgr, i, &st);
        fprintf(f, "vmsnapd_reconcile_queue_depth{controller=\"%s\"} %zu\n",
                rc_controllers[i].name, st.depth);
    }
    fputs("# HELP vmsnapd_reconcile_retries_total Reconciles re-queued with "
          "backoff after a failure.\n"
          "# TYPE vmsnapd_reconcile_retries_total counter\n",
          f);
    for (size_t i = 0; i < RC_NCONTROLLERS; i++)
        fprintf(f, "vmsnapd_reconcile_retries_total{controller=\"%s\"} %lu\n",
                rc_controllers[i].name,
                atomic_load(&env->metrics.reconciles[i][1]));
}

static void render_requests(FILE *f, struct rc_env *env)
{
    fputs("# HELP vmsnapd_reconcile_api_requests_total API requests of the "
          "reconcilers by verb and HTTP code (none: no answer).\n"
          "# TYPE vmsnapd_reconcile_api_requests_total counter\n",
          f);
    for (size_t v = 0; v < RC_NVERBS; v++)
        for (size_t k = 0; k < RC_NCODES; k++) {
            unsigned long n = atomic_load(&env->metrics.requests[v][k]);
            char code[16];
            if (!n)
                continue;
            if (codes[k] == 0)
                snprintf(code, sizeof(code), "none");
            else if (codes[k] < 0)
                snprintf(code, sizeof(code), "other");
            else
                snprintf(code, sizeof(code), "%d", codes[k]);
            fprintf(f,
                    "vmsnapd_reconcile_api_requests_total{verb=\"%s\","
                    "code=\"%s\"} %lu\n",
                    verbs[v], code, n);
        }
}

void rc_metrics_render(FILE *f, void *ctx)
{
    struct rc_env *env = ctx;

    render_phases(f, env);
    render_reconciles(f, env);
    render_queues(f, env);
    render_requests(f, env);
}
