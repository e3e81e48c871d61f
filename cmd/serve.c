/* cmd/serve.c - `vmsnapd serve`: the admission webhook over HTTPS, with
 * certificate and policy hot reload, a cache of the cluster the rules
 * read (cmd/cluster.c), leader election, and a graceful drain on SIGTERM. */
#include <errno.h>
#include <getopt.h>
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
#include "kube/duration.h"
#include "kube/log.h"
#include "webhook/filewatch.h"
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
    "closed, and the process\nexits 0 once the last request is answered "
    "or the grace period ends.\n"
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
    "  --max-connections N      open connections at most (1000)\n"
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
    "  --controllers all|none   all: lead, then run the reconcilers (not "
    "written yet);\n"
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
    "  --snapshot-retry-interval DUR  re-try a blocked source lock and a "
    "failed\n"
    "                           freeze after this (5s)\n";

struct serve_opts {
    const char *listen, *cert, *key, *policy;
    int64_t reload_interval, shutdown_delay, grace_period, idle_timeout;
    unsigned long max_connections, conn_memory_limit, threads;
    char host[64];
    unsigned port;
    /* cluster access */
    const char *kubeconfig, *context, *ns, *identity, *controllers;
    int leader_elect;
    int64_t lease_duration, renew_deadline, retry_period, token_reread, resync,
        live_get_timeout, snapshot_retry;
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

static int parse_duration(int64_t *out, const char *flag, const char *v)
{
    struct kube_err err = {0};

    if (kube_duration_parse(out, v, 1, &err) < 0 || *out < 0) {
        fprintf(stderr, "vmsnapd serve: --%s: %s\n", flag,
                *err.msg ? err.msg : "must not be negative");
        return -1;
    }
    return 0;
}

/* The flags: a row each, read by one loop. */
enum opt_kind { OPT_STR, OPT_DURATION, OPT_UINT, OPT_LEVEL, OPT_BOOL };

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
    {"max-connections", OPT_UINT, offsetof(struct serve_opts, max_connections),
     1000000},
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
    {"snapshot-retry-interval", OPT_DURATION,
     offsetof(struct serve_opts, snapshot_retry), 0},
};
#define NOPTS (sizeof(serve_opts_table) / sizeof(serve_opts_table[0]))

/* One flag's value into o; -1 with a message on stderr. */
static int set_opt(struct serve_opts *o, const struct serve_opt *f,
                   const char *v)
{
    char *field = (char *)o + f->off;
    int lvl;

    switch (f->kind) {
    case OPT_STR:
        *(const char **)(void *)field = v;
        return 0;
    case OPT_DURATION:
        return parse_duration((int64_t *)(void *)field, f->name, v);
    case OPT_UINT:
        if (parse_uint((unsigned long *)(void *)field, v, f->max) == 0)
            return 0;
        fprintf(stderr, "vmsnapd serve: --%s: a number up to %lu\n", f->name,
                f->max);
        return -1;
    case OPT_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
            *(int *)(void *)field = v[0] == 't';
            return 0;
        }
        fprintf(stderr, "vmsnapd serve: --%s: true or false\n", f->name);
        return -1;
    case OPT_LEVEL:
        lvl = kube_log_parse_level(v);
        if (lvl >= 0) {
            kube_log_set_level((enum kube_log_level)lvl);
            return 0;
        }
        fprintf(stderr, "vmsnapd serve: --log-level: debug, info, warn or "
                        "error\n");
        return -1;
    }
    return -1;
}

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
        o->live_get_timeout < NS_PER_MS || o->token_reread < NS_PER_MS) {
        fprintf(stderr, "vmsnapd serve: want 0 < --retry-period < "
                        "--renew-deadline < --lease-duration, and "
                        "--live-get-timeout and --token-reread of 1ms or "
                        "more\n");
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
        o->max_connections == 0 || o->conn_memory_limit < 4096) {
        fprintf(stderr, "vmsnapd serve: --idle-timeout must be at least 1s, "
                        "--reload-interval 1ms, --max-connections 1 and "
                        "--conn-memory-limit 4096\n");
        return -1;
    }
    return check_cluster_opts(o);
}

/* Returns 0, 1 after --help, or -1 on bad flags (usage printed). */
static int parse_args(struct serve_opts *o, int argc, char **argv)
{
    struct option longopts[NOPTS + 2];
    int c, idx = 0;

    for (size_t i = 0; i < NOPTS; i++)
        longopts[i] = (struct option){serve_opts_table[i].name,
                                      required_argument, NULL, 0};
    longopts[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[NOPTS + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        if (c == 'h') {
            fputs(serve_usage, stdout);
            return 1;
        }
        if (c != 0 || set_opt(o, &serve_opts_table[idx], optarg) < 0)
            goto bad;
    }
    if (optind < argc) {
        fprintf(stderr, "vmsnapd serve: unexpected argument \"%s\"\n",
                argv[optind]);
        goto bad;
    }
    if (check_opts(o) == 0)
        return 0;
bad:
    fputs(serve_usage, stderr);
    return -1;
}

/* ---- reloads ------------------------------------------------------------ */

struct serve {
    struct serve_opts opts;
    struct wh_server *srv;
    struct wh_filewatch cert_w, key_w, policy_w;
    struct cmd_cluster *cluster; /* NULL: webhook only */
    int synced;                  /* the webhook's caches have synced */
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
static int start_cluster(struct serve *sv, struct kube_err *err)
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
        .rc = {.retry_ms = (long)(o->snapshot_retry / NS_PER_MS)},
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
        rc = start_cluster(sv, &err);
        if (rc == KUBE_OK && sv->cluster) {
            cfg.store = cmd_cluster_store(sv->cluster);
            cfg.lookup = cmd_cluster_lookup(sv->cluster);
            cfg.start_unready = 1; /* until the caches have synced */
        }
        if (rc == KUBE_OK)
            rc = wh_server_start(&sv->srv, &cfg, creds, policy, &err);
        if (rc == KUBE_OK && sv->cluster)
            wh_metrics_set_extra(wh_server_metrics(sv->srv),
                                 cmd_cluster_metrics(sv->cluster));
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

/* Ready once the caches the webhook reads have synced (they stay so). */
static void check_synced(struct serve *sv)
{
    if (sv->synced || !sv->cluster || !cmd_cluster_synced(sv->cluster))
        return;
    sv->synced = 1;
    wh_server_set_ready(sv->srv, 1);
    kube_log(KUBE_LOG_INFO, "caches synced: ready", NULL);
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
 * free the rest. */
static void drain(struct serve *sv)
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
        kube_log(KUBE_LOG_WARN, "grace period over, closing connections",
                 "{s:i}", "open", (int)open);
    if (sv->cluster)
        cmd_cluster_stop_informers(sv->cluster);
    wh_server_stop(sv->srv);
    sv->srv = NULL;
    cmd_cluster_free(sv->cluster); /* after the server: it reads the store */
    sv->cluster = NULL;
    kube_log(KUBE_LOG_INFO, "stopped", NULL);
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
                .conn_memory_limit =
                    32 * 1024, /* MHD's default: malloc, not mmap */
                .controllers = "all",
                .leader_elect = 1,
                .lease_duration = 15 * NS_PER_S,
                .renew_deadline = 10 * NS_PER_S,
                .retry_period = 2 * NS_PER_S,
                .token_reread = 60 * NS_PER_S,
                .live_get_timeout = 2 * NS_PER_S,
                .snapshot_retry = 5 * NS_PER_S,
            },
    };
    int rc = parse_args(&sv.opts, argc, argv);

    if (rc != 0)
        return rc > 0 ? 0 : 2;
    json_object_seed(0); /* before MHD's threads; a no-op if main did it */
    if (start(&sv) < 0)
        return 1;
    run(&sv);
    drain(&sv);
    return 0;
}
