/* cmd/verb_serve.c - `vmsnapd serve`: the admission webhook over HTTPS, with
 * certificate and policy hot reload, a cache of the cluster the rules
 * read (cmd/cluster.c), leader election, and a graceful drain on SIGTERM. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cluster.h"
#include "cmd/cmd.h"
#include "cmd/flags.h"
#include "kube/duration.h"
#include "kube/log.h"
#include "webhook/filewatch.h"
#include "webhook/metrics.h"
#include "webhook/policy.h"
#include "webhook/server.h"
#include "webhook/tlscreds.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL

static const char serve_usage[] =
    "usage: vmsnapd serve [OPTIONS]\n"
    "\n"
    "Serves the admission webhooks over HTTPS (TLS 1.2 and 1.3):\n"
    "  POST /validate-virtualmachinesnapshots\n"
    "  POST /validate-virtualmachinesnapshotcontents\n"
    "  POST /validate-virtualmachinerestores\n"
    "  POST /mutate-virtualmachinesnapshots\n"
    "  GET  /healthz /readyz /metrics\n"
    "Certificate, key and policy files are reloaded when they change (and "
    "on\nSIGHUP); a broken new file is refused and the old one kept. "
    "SIGTERM or\nSIGINT drains: /readyz fails at once, serving goes on for "
    "the shutdown\ndelay, then new connections are refused, idle ones "
    "closed, and the process\nexits 0 once the last request is answered, "
    "or 1 if the grace period ends\nwith requests still open.\n"
    "Durations take Go units (\"100ms\", \"1m30s\") or bare seconds.\n"
    "\n"
    "  --listen ADDR:PORT       address to bind (0.0.0.0:8443; port 0 "
    "picks one,\n"
    "                           logged as {\"msg\":\"serving\",\"port\":N})\n"
    "  --tls-cert-file FILE     PEM chain, leaf first "
    "(/etc/vmsnapd/tls/tls.crt)\n"
    "  --tls-key-file FILE      PEM private key (/etc/vmsnapd/tls/tls.key)\n"
    "  --policy FILE            admission policy, YAML (built-in defaults)\n"
    "  --log-level LEVEL        debug, info, warn or error (info)\n"
    "  --reload-interval DUR    how often files are checked for changes "
    "(10s)\n"
    "  --shutdown-delay DUR     serving time after SIGTERM, for endpoints "
    "to be\n"
    "                           removed (5s)\n"
    "  --grace-period DUR       exit by then after SIGTERM (30s)\n"
    "  --idle-timeout DUR       close connections silent this long "
    "(120s, whole\n"
    "                           seconds; above kube-apiserver's 90s)\n"
    "  --handshake-timeout DUR  a TLS handshake must end this long after "
    "accept (5s)\n"
    "  --request-timeout DUR    a request, from its first line to its last "
    "body\n"
    "                           byte, must arrive within this (30s)\n"
    "  --max-connections N      open connections at most (1000); beyond, "
    "the\n"
    "                           oldest idle or unfinished one gives way\n"
    "  --max-buffered-bytes N   request bodies and their JSON trees in "
    "memory,\n"
    "                           all connections together (67108864); "
    "beyond, 503\n"
    "  --conn-memory-limit N    bytes per connection for headers and I/O "
    "(32768)\n"
    "  --threads N              server threads (0: one per CPU)\n"
    "\n"
    "Cluster access (without any, serve runs webhook-only and the rules "
    "that\nread cluster state are skipped with a warning):\n"
    "  --kubeconfig FILE        else $KUBECONFIG, the in-cluster service "
    "account,\n"
    "                           ~/.kube/config\n"
    "  --context NAME           kubeconfig context (its current-context)\n"
    "  --namespace NS           the daemon's namespace, for the Lease "
    "($POD_NAMESPACE\n"
    "                           or vmsnapd-system)\n"
    "  --identity ID            leader election identity ($POD_NAME or the "
    "host name)\n"
    "  --controllers all|none   all: lead, then run the reconcilers "
    "(snapshot,\n"
    "                           content, restore);\n"
    "                           none: webhook only, no leader election, "
    "next to\n"
    "                           KubeVirt's controller\n"
    "  --leader-elect BOOL      elect a leader before reconciling (true)\n"
    "  --lease-duration DUR     Lease vmsnapd-leader duration (15s)\n"
    "  --renew-deadline DUR     leader gives up when not renewed by then "
    "(10s)\n"
    "  --retry-period DUR       between election attempts (2s)\n"
    "  --token-reread DUR       bearer token file re-read period (1m)\n"
    "  --resync DUR             informer resync period (0: off)\n"
    "  --live-get-timeout DUR   a cache miss is read live within this "
    "(2s)\n"
    "  --live-get-wait DUR      a review waits this long for a live read,\n"
    "                           then answers 503 (500ms)\n"
    "  --live-get-max N         live reads at once; more get a 503 (4)\n"
    "  --cache-stale-after DUR  a cache failing this long answers 503 and\n"
    "                           fails /readyz (1m; 0: never)\n"
    "  --snapshot-retry-interval DUR  re-try a blocked source lock and a "
    "failed\n"
    "                           freeze, and re-check a held-up restore, "
    "after\n"
    "                           this (5s)\n"
    "  --restore-grace-period DUR  targetReadinessPolicy WaitGracePeriod: a "
    "restore\n"
    "                           whose target still runs fails after this "
    "(5m)\n"
    "  --reconcile-backoff-max DUR  a failing reconcile is retried with a\n"
    "                           doubling delay up to this (1000s)\n";

struct serve_opts {
    const char *listen, *cert, *key, *policy;
    int64_t reload_interval, shutdown_delay, grace_period, idle_timeout;
    int64_t handshake_timeout, request_timeout;
    unsigned long max_connections, conn_memory_limit, threads, max_buffered;
    char host[64];
    unsigned port;
    /* cluster access */
    const char *kubeconfig, *context, *ns, *identity, *controllers;
    int leader_elect;
    int64_t lease_duration, renew_deadline, retry_period, token_reread, resync,
        live_get_timeout, live_get_wait, cache_stale_after, snapshot_retry,
        restore_grace, backoff_max;
    unsigned long live_get_max;
    char hostname[256];
};

/* What main polls; a signal handler may only set these. */
static volatile sig_atomic_t got_term, got_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = sig;
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Sleeps up to ns; a signal cuts it short, which is the point. */
static void nap(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};

    nanosleep(&ts, NULL);
}

/* ---- flags -------------------------------------------------------------- */

static int parse_uint(unsigned long *out, const char *s, unsigned long max)
{
    unsigned long v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (unsigned long)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
    }
    *out = v;
    return 0;
}

/* "ADDR:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses). */
static int parse_listen(struct serve_opts *o)
{
    const char *colon = strrchr(o->listen, ':');
    const char *h = o->listen;
    size_t hlen;
    unsigned long port;

    if (!colon || parse_uint(&port, colon + 1, 65535) < 0)
        return -1;
    hlen = (size_t)(colon - h);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0) {
        h = "0.0.0.0";
        hlen = strlen(h);
    }
    if (hlen >= sizeof(o->host))
        return -1;
    memcpy(o->host, h, hlen);
    o->host[hlen] = '\0';
    o->port = (unsigned)port;
    return 0;
}

/* The flags: a row each, read by cmd_flags (kinds named short here). */
enum opt_kind {
    OPT_STR = CMD_FLAG_STR,
    OPT_DURATION = CMD_FLAG_DURATION,
    OPT_UINT = CMD_FLAG_UINT,
    OPT_LEVEL = CMD_FLAG_LEVEL,
    OPT_BOOL = CMD_FLAG_BOOL,
};

static const struct serve_opt {
    const char *name;
    enum opt_kind kind;
    size_t off;        /* of the field in struct serve_opts */
    unsigned long max; /* OPT_UINT */
} serve_opts_table[] = {
    {"listen", OPT_STR, offsetof(struct serve_opts, listen), 0},
    {"tls-cert-file", OPT_STR, offsetof(struct serve_opts, cert), 0},
    {"tls-key-file", OPT_STR, offsetof(struct serve_opts, key), 0},
    {"policy", OPT_STR, offsetof(struct serve_opts, policy), 0},
    {"log-level", OPT_LEVEL, 0, 0},
    {"reload-interval", OPT_DURATION,
     offsetof(struct serve_opts, reload_interval), 0},
    {"shutdown-delay", OPT_DURATION,
     offsetof(struct serve_opts, shutdown_delay), 0},
    {"grace-period", OPT_DURATION, offsetof(struct serve_opts, grace_period),
     0},
    {"idle-timeout", OPT_DURATION, offsetof(struct serve_opts, idle_timeout),
     0},
    {"handshake-timeout", OPT_DURATION,
     offsetof(struct serve_opts, handshake_timeout), 0},
    {"request-timeout", OPT_DURATION,
     offsetof(struct serve_opts, request_timeout), 0},
    {"max-connections", OPT_UINT, offsetof(struct serve_opts, max_connections),
     1000000},
    {"max-buffered-bytes", OPT_UINT, offsetof(struct serve_opts, max_buffered),
     (unsigned long)1 << 40},
    {"conn-memory-limit", OPT_UINT,
     offsetof(struct serve_opts, conn_memory_limit), 64 * 1024 * 1024},
    {"threads", OPT_UINT, offsetof(struct serve_opts, threads), 64},
    {"kubeconfig", OPT_STR, offsetof(struct serve_opts, kubeconfig), 0},
    {"context", OPT_STR, offsetof(struct serve_opts, context), 0},
    {"namespace", OPT_STR, offsetof(struct serve_opts, ns), 0},
    {"identity", OPT_STR, offsetof(struct serve_opts, identity), 0},
    {"controllers", OPT_STR, offsetof(struct serve_opts, controllers), 0},
    {"leader-elect", OPT_BOOL, offsetof(struct serve_opts, leader_elect), 0},
    {"lease-duration", OPT_DURATION,
     offsetof(struct serve_opts, lease_duration), 0},
    {"renew-deadline", OPT_DURATION,
     offsetof(struct serve_opts, renew_deadline), 0},
    {"retry-period", OPT_DURATION, offsetof(struct serve_opts, retry_period),
     0},
    {"token-reread", OPT_DURATION, offsetof(struct serve_opts, token_reread),
     0},
    {"resync", OPT_DURATION, offsetof(struct serve_opts, resync), 0},
    {"live-get-timeout", OPT_DURATION,
     offsetof(struct serve_opts, live_get_timeout), 0},
    {"live-get-wait", OPT_DURATION, offsetof(struct serve_opts, live_get_wait),
     0},
    {"live-get-max", OPT_UINT, offsetof(struct serve_opts, live_get_max), 1024},
    {"cache-stale-after", OPT_DURATION,
     offsetof(struct serve_opts, cache_stale_after), 0},
    {"snapshot-retry-interval", OPT_DURATION,
     offsetof(struct serve_opts, snapshot_retry), 0},
    {"restore-grace-period", OPT_DURATION,
     offsetof(struct serve_opts, restore_grace), 0},
    {"reconcile-backoff-max", OPT_DURATION,
     offsetof(struct serve_opts, backoff_max), 0},
};
#define NOPTS (sizeof(serve_opts_table) / sizeof(serve_opts_table[0]))

/* The cluster flags' defaults from the pod (downward API), and the
 * leader election's timer order. */
static int check_cluster_opts(struct serve_opts *o)
{
    if (strcmp(o->controllers, "all") != 0 &&
        strcmp(o->controllers, "none") != 0) {
        fprintf(stderr,
                "vmsnapd serve: --controllers: all or none, got "
                "\"%s\"\n",
                o->controllers);
        return -1;
    }
    if (!(o->retry_period > 0 && o->retry_period < o->renew_deadline &&
          o->renew_deadline < o->lease_duration) ||
        o->live_get_timeout < NS_PER_MS || o->live_get_wait < NS_PER_MS ||
        o->token_reread < NS_PER_MS) {
        fprintf(stderr, "vmsnapd serve: want 0 < --retry-period < "
                        "--renew-deadline < --lease-duration, and "
                        "--live-get-timeout, --live-get-wait and "
                        "--token-reread of 1ms or more\n");
        return -1;
    }
    if (!o->ns)
        o->ns = getenv("POD_NAMESPACE");
    if (!o->ns || !*o->ns)
        o->ns = "vmsnapd-system";
    if (!o->identity)
        o->identity = getenv("POD_NAME");
    if (!o->identity || !*o->identity) {
        if (gethostname(o->hostname, sizeof(o->hostname) - 1) < 0)
            snprintf(o->hostname, sizeof(o->hostname), "vmsnapd");
        o->identity = o->hostname;
    }
    return 0;
}

/* Checks what the flags cannot say alone. */
static int check_opts(struct serve_opts *o)
{
    if (parse_listen(o) < 0) {
        fprintf(stderr, "vmsnapd serve: --listen: want ADDR:PORT, got \"%s\"\n",
                o->listen);
        return -1;
    }
    if (o->idle_timeout < NS_PER_S || o->reload_interval < NS_PER_MS ||
        o->handshake_timeout < NS_PER_MS || o->request_timeout < NS_PER_MS ||
        o->max_connections == 0 || o->conn_memory_limit < 4096 ||
        o->max_buffered == 0) {
        fprintf(stderr, "vmsnapd serve: --idle-timeout must be at least 1s, "
                        "--reload-interval, --handshake-timeout and "
                        "--request-timeout 1ms, --max-connections 1, "
                        "--conn-memory-limit 4096 and --max-buffered-bytes "
                        "1\n");
        return -1;
    }
    return check_cluster_opts(o);
}

/* Returns 0, 1 after --help, or -1 on bad flags (said why). */
static int parse_args(struct serve_opts *o, int argc, char **argv)
{
    struct cmd_flag flags[NOPTS];
    int first = 0, rc;

    for (size_t i = 0; i < NOPTS; i++)
        flags[i] = (struct cmd_flag){
            .name = serve_opts_table[i].name,
            .kind = (enum cmd_flag_kind)serve_opts_table[i].kind,
            .dst = (char *)o + serve_opts_table[i].off,
            .max = (long)serve_opts_table[i].max,
        };
    rc =
        cmd_flags_parse(&first, argc, argv, "serve", serve_usage, flags, NOPTS);
    if (rc != CMD_FLAGS_OK)
        return rc == CMD_FLAGS_HELP ? 1 : -1;
    if (first < argc) {
        cmd_flags_error("serve", "unexpected argument \"%s\"", argv[first]);
        return -1;
    }
    return check_opts(o) == 0 ? 0 : -1;
}

/* ---- reloads ------------------------------------------------------------ */

struct serve {
    struct serve_opts opts;
    struct wh_server *srv;
    struct wh_filewatch cert_w, key_w, policy_w;
    struct cmd_cluster *cluster; /* NULL: webhook only */
    int synced;                  /* the webhook's caches are fresh */
};

/* Loads the pair; refuses one whose leaf has expired when refuse_expired
 * (on reload: the pair in use is no worse). */
static int load_creds(struct wh_tlscreds **out, const struct serve_opts *o,
                      int refuse_expired, struct kube_err *err)
{
    struct wh_tlscreds *c = NULL;
    int rc = wh_tlscreds_load(&c, o->cert, o->key, err);

    if (rc < 0)
        return rc;
    if (wh_tlscreds_not_after(c) < (int64_t)time(NULL)) {
        if (refuse_expired) {
            wh_tlscreds_unref(c);
            return kube_err_set(err, KUBE_EINVAL, "%s: certificate expired",
                                o->cert);
        }
        kube_log(KUBE_LOG_WARN, "serving certificate expired", "{s:s, s:I}",
                 "cert", o->cert, "notAfter",
                 (json_int_t)wh_tlscreds_not_after(c));
    }
    *out = c;
    return KUBE_OK;
}

static void reload_creds(struct serve *sv, int force)
{
    struct wh_metrics *m = wh_server_metrics(sv->srv);
    struct wh_tlscreds *c = NULL;
    struct kube_err err = {0};
    /* both, always: each call records the state it saw */
    int changed = wh_filewatch_changed(&sv->cert_w);

    changed |= wh_filewatch_changed(&sv->key_w);
    if (!changed && !force)
        return;
    if (load_creds(&c, &sv->opts, 1, &err) < 0) {
        /* the old pair stays in use until the files change again: a
         * half-written pair is retried once its second file lands */
        wh_metrics_reload(m, WH_METRICS_CERTIFICATE, 0);
        kube_log(KUBE_LOG_ERROR, "certificate reload refused",
                 "{s:s, s:s, s:s}", "cert", sv->opts.cert, "key", sv->opts.key,
                 "error", err.msg);
        return;
    }
    wh_server_set_creds(sv->srv, c);
    wh_metrics_reload(m, WH_METRICS_CERTIFICATE, 1);
    kube_log(KUBE_LOG_INFO, "certificate reloaded", "{s:s, s:s, s:I}", "cert",
             sv->opts.cert, "subject", wh_tlscreds_subject(c), "notAfter",
             (json_int_t)wh_tlscreds_not_after(c));
    wh_tlscreds_unref(c);
}

static int load_policy(struct wh_policy **out, const char *path,
                       struct kube_err *err)
{
    if (!path)
        return wh_policy_default(out);
    return wh_policy_load(out, path, err);
}

static void reload_policy(struct serve *sv, int force)
{
    struct wh_metrics *m = wh_server_metrics(sv->srv);
    struct wh_policy *p = NULL;
    struct kube_err err = {0};

    if (!sv->opts.policy)
        return;
    if (!wh_filewatch_changed(&sv->policy_w) && !force)
        return;
    if (load_policy(&p, sv->opts.policy, &err) < 0) {
        wh_metrics_reload(m, WH_METRICS_POLICY, 0);
        /* the old policy stays in use */
        kube_log(KUBE_LOG_ERROR, "policy reload refused", "{s:s, s:s}",
                 "policy", sv->opts.policy, "error", err.msg);
        return;
    }
    wh_server_set_policy(sv->srv, p);
    wh_metrics_reload(m, WH_METRICS_POLICY, 1);
    kube_log(KUBE_LOG_INFO, "policy reloaded", "{s:s}", "policy",
             sv->opts.policy);
    wh_policy_unref(p);
}

/* ---- lifecycle ---------------------------------------------------------- */

/* SIGTERM/SIGINT/SIGHUP only set flags. They are blocked while the pool
 * starts, so MHD's threads inherit a mask without them and every signal
 * lands on main, cutting its nap short. SIGPIPE is ignored (a peer gone
 * mid-write is an error return, not a death). */
static void signals_install(sigset_t *old)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

/* The cluster view, if there is a cluster: KUBE_OK with sv->cluster NULL
 * when no configuration applies (webhook only, said in the log). */
static int start_cluster(struct serve *sv, const struct wh_policy *pol,
                         struct kube_err *err)
{
    struct serve_opts *o = &sv->opts;
    struct cmd_cluster_opts co = {
        .kubeconfig = o->kubeconfig,
        .context = o->context,
        .ns = o->ns,
        .identity = o->identity,
        .controllers = strcmp(o->controllers, "all") == 0,
        .leader_elect = o->leader_elect,
        .lease_ms = (long)(o->lease_duration / NS_PER_MS),
        .renew_ms = (long)(o->renew_deadline / NS_PER_MS),
        .retry_ms = (long)(o->retry_period / NS_PER_MS),
        .token_reread_ms = (long)(o->token_reread / NS_PER_MS),
        .resync_ms = (long)(o->resync / NS_PER_MS),
        .live_get_ms = (long)(o->live_get_timeout / NS_PER_MS),
        .live_wait_ms = (long)(o->live_get_wait / NS_PER_MS),
        .live_get_max = (int)o->live_get_max,
        .stale_ms = (long)(o->cache_stale_after / NS_PER_MS),
        .rc =
            {
                .retry_ms = (long)(o->snapshot_retry / NS_PER_MS),
                .restore_grace_ms = (long)(o->restore_grace / NS_PER_MS),
                .backoff_max_ms = (long)(o->backoff_max / NS_PER_MS),
                /* the restore rules at start (a policy reload reaches the
                   webhook only) */
                .restore_online_snapshot_ok = !pol->require_offline_snapshot,
                .restore_running_target_ok = !pol->require_stopped_target,
            },
    };
    int rc = cmd_cluster_start(&sv->cluster, &co, err);

    if (rc != KUBE_ENOTFOUND)
        return rc;
    kube_log(KUBE_LOG_INFO, "no cluster access: webhook only", "{s:s, s:s}",
             "reason",
             *err->msg ? err->msg : "no kubeconfig and no in-cluster config",
             "effect",
             "rules that read cluster state are skipped with a warning");
    *err = (struct kube_err){0, ""};
    sv->cluster = NULL;
    return KUBE_OK;
}

/* A flag's duration in whole ms for the server, at least 1. */
static unsigned ms_of(int64_t ns)
{
    int64_t ms = ns / NS_PER_MS;

    return ms < 1 ? 1 : ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

static int start(struct serve *sv)
{
    struct serve_opts *o = &sv->opts;
    struct wh_server_config cfg = {
        .host = o->host,
        .port = o->port,
        .threads = (unsigned)o->threads,
        .max_connections = (unsigned)o->max_connections,
        .idle_timeout = (unsigned)(o->idle_timeout / NS_PER_S),
        .conn_memory_limit = o->conn_memory_limit,
        .handshake_timeout_ms = ms_of(o->handshake_timeout),
        .request_timeout_ms = ms_of(o->request_timeout),
        .max_buffered = o->max_buffered,
    };
    struct wh_tlscreds *creds = NULL;
    struct wh_policy *policy = NULL;
    struct kube_err err = {0};
    sigset_t old;
    int rc;

    /* watch first: a change during the load below shows as a change */
    wh_filewatch_init(&sv->cert_w, o->cert);
    wh_filewatch_init(&sv->key_w, o->key);
    if (o->policy)
        wh_filewatch_init(&sv->policy_w, o->policy);
    rc = load_policy(&policy, o->policy, &err);
    if (rc == KUBE_OK)
        rc = load_creds(&creds, o, 0, &err);
    if (rc == KUBE_OK) {
        signals_install(&old); /* informers, elector and pool inherit it */
        rc = start_cluster(sv, policy, &err);
        if (rc == KUBE_OK && sv->cluster) {
            cfg.store = cmd_cluster_store(sv->cluster);
            cfg.lookup = cmd_cluster_lookup(sv->cluster);
            cfg.start_unready = 1; /* until the caches have synced */
        }
        if (rc == KUBE_OK)
            rc = wh_server_start(&sv->srv, &cfg, creds, policy, &err);
        if (rc == KUBE_OK && sv->cluster)
            wh_metrics_set_source(wh_server_metrics(sv->srv),
                                  cmd_cluster_metrics, sv->cluster);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (rc < 0) {
        kube_log(KUBE_LOG_ERROR, "cannot serve", "{s:s}", "error",
                 *err.msg ? err.msg : kube_strerror(rc));
        cmd_cluster_free(sv->cluster);
        sv->cluster = NULL;
    } else
        kube_log(KUBE_LOG_INFO, "serving", "{s:s, s:i, s:s, s:I}", "address",
                 o->host, "port", (int)wh_server_port(sv->srv), "subject",
                 wh_tlscreds_subject(creds), "notAfter",
                 (json_int_t)wh_tlscreds_not_after(creds));
    wh_tlscreds_unref(creds);
    wh_policy_unref(policy);
    return rc;
}

/* Ready while the caches the webhook reads are fresh: synced, and none
 * failing for --cache-stale-after. */
static void check_synced(struct serve *sv)
{
    int fresh;

    if (!sv->cluster)
        return;
    fresh = cmd_cluster_fresh(sv->cluster);
    if (fresh == sv->synced)
        return;
    sv->synced = fresh;
    wh_server_set_ready(sv->srv, fresh);
    if (fresh)
        kube_log(KUBE_LOG_INFO, "caches synced: ready", NULL);
    else
        kube_log(KUBE_LOG_WARN, "caches stale: not ready", "{s:I}",
                 "cacheStaleAfterMs",
                 (json_int_t)(sv->opts.cache_stale_after / NS_PER_MS));
}

/* Polls signals, caches and files until SIGTERM or SIGINT. */
static void run(struct serve *sv)
{
    int64_t interval = sv->opts.reload_interval;
    int64_t tick = interval < 50 * NS_PER_MS ? interval : 50 * NS_PER_MS;
    int64_t next = now_ns() + interval;

    while (!got_term) {
        check_synced(sv);
        nap(tick);
        if (got_hup) {
            got_hup = 0;
            kube_log(KUBE_LOG_INFO, "SIGHUP: reloading", NULL);
            reload_creds(sv, 1);
            reload_policy(sv, 1);
        }
        if (now_ns() >= next) {
            reload_creds(sv, 0);
            reload_policy(sv, 0);
            next = now_ns() + interval;
        }
    }
}

/* Not ready at once; serve on through the shutdown delay (endpoints are
 * being removed); stop leading (the Lease is released, so a successor
 * need not wait it out); then refuse new connections, close idle ones and
 * let running requests finish, until none is left or the grace period
 * (counted from the signal) is over; stop the informers (running requests
 * still read the cache and the live GET until then), the server, and
 * free the rest. Returns 0, or -1 when the grace period ended with
 * connections still open: their requests were cut, and the exit status
 * must say so. */
static int drain(struct serve *sv)
{
    int64_t t0 = now_ns(), deadline = t0 + sv->opts.grace_period;
    int64_t quiesce_at = t0 + sv->opts.shutdown_delay;
    size_t open;

    wh_server_set_ready(sv->srv, 0);
    kube_log(KUBE_LOG_INFO, "shutting down", "{s:i, s:f, s:f}", "signal",
             (int)got_term, "shutdownDelay",
             (double)sv->opts.shutdown_delay / 1e9, "gracePeriod",
             (double)sv->opts.grace_period / 1e9);
    if (quiesce_at > deadline)
        quiesce_at = deadline;
    while (now_ns() < quiesce_at)
        nap(quiesce_at - now_ns() < 50 * NS_PER_MS ? quiesce_at - now_ns()
                                                   : 50 * NS_PER_MS);
    if (sv->cluster)
        cmd_cluster_stop_leader(sv->cluster);
    wh_server_quiesce(sv->srv);
    kube_log(KUBE_LOG_INFO, "stopped accepting connections", NULL);
    for (open = wh_server_close_idle(sv->srv); open > 0 && now_ns() < deadline;
         open = wh_server_close_idle(sv->srv))
        nap(10 * NS_PER_MS);
    if (open > 0)
        kube_log(KUBE_LOG_ERROR,
                 "grace period over with requests open, closing them", "{s:i}",
                 "open", (int)open);
    if (sv->cluster)
        cmd_cluster_stop_informers(sv->cluster);
    wh_server_stop(sv->srv);
    sv->srv = NULL;
    cmd_cluster_free(sv->cluster); /* after the server: it reads the store */
    sv->cluster = NULL;
    kube_log(KUBE_LOG_INFO, "stopped", NULL);
    return open > 0 ? -1 : 0;
}

int cmd_serve(int argc, char **argv)
{
    struct serve sv = {
        .opts =
            {
                .listen = "0.0.0.0:8443",
                .cert = "/etc/vmsnapd/tls/tls.crt",
                .key = "/etc/vmsnapd/tls/tls.key",
                .reload_interval = 10 * NS_PER_S,
                .shutdown_delay = 5 * NS_PER_S,
                .grace_period = 30 * NS_PER_S,
                .idle_timeout = 120 * NS_PER_S,
                .max_connections = 1000,
                .handshake_timeout = 5 * NS_PER_S,
                .request_timeout = 30 * NS_PER_S,
                .max_buffered = 64 * 1024 * 1024,
                .conn_memory_limit =
                    32 * 1024, /* MHD's default: malloc, not mmap */
                .controllers = "all",
                .leader_elect = 1,
                .lease_duration = 15 * NS_PER_S,
                .renew_deadline = 10 * NS_PER_S,
                .retry_period = 2 * NS_PER_S,
                .token_reread = 60 * NS_PER_S,
                .live_get_timeout = 2 * NS_PER_S,
                .live_get_wait = 500 * NS_PER_MS,
                .live_get_max = 4,
                .cache_stale_after = 60 * NS_PER_S,
                .snapshot_retry = 5 * NS_PER_S,
                .restore_grace = 5 * 60 * NS_PER_S,
            },
    };
    int rc;

    rc = parse_args(&sv.opts, argc, argv);

    if (rc != 0)
        return rc > 0 ? 0 : 2;
    json_object_seed(0); /* before MHD's threads; a no-op if main did it */
    if (start(&sv) < 0)
        return 1;
    run(&sv);
    return drain(&sv) < 0 ? 1 : 0;
}
