/* webhook/server.c - libmicrohttpd + GnuTLS admission server. */
#define _GNU_SOURCE /* mremap: large bodies grow in their own mapping */
#include "webhook/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kube/buf.h"
#include "kube/duration.h"
#include "kube/jsonvals.h"
#include "kube/log.h"
#include "webhook/listener.h"
#include "webhook/review.h"
#include "webhook/tlsout.h"

/* MHD reports every failed handshake with this fixed phrase (0.9.75,
 * connection_https.c); it is the only signal of one we get. */
#define HANDSHAKE_FAILED "Error: received handshake message out of context"

#define TOO_LARGE "request body too large: the limit is 8388608 bytes\n"
_Static_assert(WH_SERVER_MAX_BODY == 8388608, "TOO_LARGE names the limit");

/* The most body we read only to throw it away before refusing. */
#define DRAIN_MAX (2 * (long long)WH_SERVER_MAX_BODY)

/* Body buffer growth when no Content-Length was sent (chunked); bodies
 * larger than this live in their own mapping (see body_resize). */
#define BODY_CHUNK (64 * 1024)

/* A body at least this large leaves a JSON tree of its size in the heap
 * when its request ends: hand free pages back then (malloc_trim). */
#define TRIM_AFTER (1024 * 1024)

/* Each open connection holds about 50 KiB of heap (MHD's pool, GnuTLS's
 * session and record buffers), which glibc keeps once freed: 1,000 at
 * once would leave 40 MiB behind. When the count falls to a quarter of
 * its peak since the last trim, and that peak was at least this many,
 * the free pages go back to the kernel (a few trims per burst, none for
 * the ups and downs of a small pool of clients). */
#define TRIM_CONNS 64

#define BUSY "server busy: request bodies in memory are at their limit\n"
#define TOO_COMPLEX                                                            \
    "request body too complex: its JSON tree would pass the memory limit "     \
    "for request bodies\n"

/* What jansson's tree costs per JSON value, roughly: 220 bytes measured
 * for each {} of an array, 330 for each "k":"" member. A tree takes its
 * share of the body budget before it is built, or an 8 MiB body of
 * [{},{},...] (2.8 million values) would cost 600 MiB. */
#define TREE_BYTES_PER_VALUE 384

/* Where a connection is, for its deadlines and for giving way. */
enum conn_phase {
    PH_HANDSHAKE, /* accepted, TLS handshake running: handshake timeout */
    PH_FIRST,     /* handshake done, no request yet: request timeout */
    PH_READING,   /* request line seen, request incomplete: request timeout */
    PH_ANSWERING, /* request complete, answer going out: never evicted */
    PH_IDLE,      /* kept alive between requests: MHD's idle timeout */
};

struct wh_server;
struct request;

/* A row of the path table (nginx-style: a new path is a new row). */
struct route {
    const char *path;
    const char *method; /* the one method served; GET routes take HEAD */
    const char *allow;  /* the Allow header of a 405 */
    /* Answers the request once its body (if any) is in. */
    enum MHD_Result (*handle)(struct wh_server *s, struct MHD_Connection *c,
                              struct request *r);
    struct wh_route review; /* admission paths: what wh_review_handle gets */
    int metrics;            /* index into admission_paths, or -1 */
};

/* Per connection (MHD's socket context): lives from accept to close. */
struct conn {
    struct wh_server *srv;
    struct conn *prev, *next; /* guarded by srv->conns_lock */
    int shut;                 /* guarded by srv->conns_lock */
    int giving_way;           /* guarded by srv->conns_lock: evicted */
    int fd;
    atomic_int phase;       /* enum conn_phase */
    _Atomic uint64_t since; /* when the phase began (now_ns) */
    atomic_int busy;        /* between a request's headers and its completion */
    /* The pair this connection's handshake uses, taken at accept and
     * held until close: GnuTLS keeps pointing into it after the
     * certificate callback returns. */
    struct wh_tlscreds *creds;
    gnutls_session_t session; /* MHD's, NULL without TLS */
    struct wh_tlsout out;     /* the session's writer */
};

/* Per request (MHD's con_cls): freed by on_completed, whatever happened. */
struct request {
    const struct route *route;
    const char *url, *method; /* MHD's, valid until on_completed */
    struct conn *conn;
    uint64_t start_ns;
    struct kube_buf body; /* malloc'd up to BODY_CHUNK, mmap'd above */
    size_t reserved;      /* of the server's body budget */
    size_t dropped;       /* bytes thrown away */
    int drop; /* keep no body: refused, unwanted (GET) or over the cap */
    int answered;
    int logged; /* its log line is written (else queue writes one) */
    /* a refusal decided on the headers, answered once the (empty) body is
     * in: answering earlier makes MHD close the connection */
    unsigned refusal;
    const char *refusal_text, *refusal_allow;
    /* what the metrics line says about it */
    enum wh_metrics_result result;
    char kind[64];
    char operation[16];
};

struct wh_server {
    struct MHD_Daemon *daemon;
    unsigned port;
    struct wh_metrics *metrics;
    atomic_int ready;
    struct kube_store *store;       /* borrowed; may be NULL */
    const struct wh_lookup *lookup; /* borrowed; may be NULL */
    atomic_int closing; /* quiesced: answers carry Connection: close */
    atomic_int started; /* MHD messages before this are start errors */
    struct wh_listener *listener; /* accepts; hands sockets to the pool */

    pthread_mutex_t lock;
    struct wh_tlscreds *creds; /* guarded by lock */
    struct wh_policy *policy;  /* guarded by lock */

    pthread_mutex_t conns_lock;
    struct conn *conns; /* guarded by conns_lock; counted by the listener */
    size_t giving_way;  /* guarded by conns_lock: evicted, not yet closed */
    size_t open;        /* guarded by conns_lock: connections now */
    size_t open_peak;   /* guarded by conns_lock: most since the last trim */

    uint64_t handshake_ns, request_ns; /* deadlines, see the config */
    size_t max_buffered;
    atomic_size_t buffered; /* body bytes reserved by running requests */

    pthread_t reaper; /* closes connections past their deadline */
    pthread_mutex_t reap_lock;
    pthread_cond_t reap_wake;
    int reap_stop, reaping; /* guarded by reap_lock */
};

static enum MHD_Result
handle_review(struct wh_server *s, struct MHD_Connection *c, struct request *r);
static unsigned tree_budget(struct wh_server *s, struct request *r);
static enum MHD_Result handle_healthz(struct wh_server *s,
                                      struct MHD_Connection *c,
                                      struct request *r);
static enum MHD_Result
handle_readyz(struct wh_server *s, struct MHD_Connection *c, struct request *r);
static enum MHD_Result handle_metrics(struct wh_server *s,
                                      struct MHD_Connection *c,
                                      struct request *r);

#define REVIEW_ROUTE(path, ep, res, idx)                                       \
    {                                                                          \
        path, "POST", "POST", handle_review, {ep, res}, idx                    \
    }
#define GET_ROUTE(path, fn)                                                    \
    {                                                                          \
        path, "GET", "GET, HEAD", fn, {WH_EP_VALIDATE, NULL}, -1               \
    }

static const struct route routes[] = {
    REVIEW_ROUTE("/validate-virtualmachinesnapshots", WH_EP_VALIDATE,
                 "virtualmachinesnapshots", 0),
    REVIEW_ROUTE("/validate-virtualmachinesnapshotcontents", WH_EP_VALIDATE,
                 "virtualmachinesnapshotcontents", 1),
    REVIEW_ROUTE("/validate-virtualmachinerestores", WH_EP_VALIDATE,
                 "virtualmachinerestores", 2),
    REVIEW_ROUTE("/mutate-virtualmachinesnapshots", WH_EP_MUTATE,
                 "virtualmachinesnapshots", 3),
    GET_ROUTE("/healthz", handle_healthz),
    GET_ROUTE("/readyz", handle_readyz),
    GET_ROUTE("/metrics", handle_metrics),
};

/* The metrics label of each admission route, by its metrics index. */
static const char *const admission_paths[] = {
    "/validate-virtualmachinesnapshots",
    "/validate-virtualmachinesnapshotcontents",
    "/validate-virtualmachinerestores",
    "/mutate-virtualmachinesnapshots",
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))
#define NADMISSION (sizeof(admission_paths) / sizeof(admission_paths[0]))

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void conn_phase(struct conn *cn, enum conn_phase ph)
{
    if (!cn)
        return;
    atomic_store(&cn->since, now_ns());
    atomic_store(&cn->phase, (int)ph);
}

static const struct route *route_find(const char *url)
{
    for (size_t i = 0; i < NROUTES; i++)
        if (strcmp(routes[i].path, url) == 0)
            return &routes[i];
    return NULL;
}

/* ---- answering ---------------------------------------------------------- */

/* Counts an answer on an admission path; no allocation, no lock. */
static void account(struct wh_server *s, const struct request *r,
                    unsigned status, int code, uint64_t latency)
{
    if (!r->route || r->route->metrics < 0)
        return;
    wh_metrics_admission(
        s->metrics, (size_t)r->route->metrics, r->kind, r->operation, r->result,
        r->result == WH_METRICS_ERROR ? (int)status : code, latency);
}

/* The answer's header record waits for its body's, so both leave in one
 * sendmsg (webhook/tlsout.h); HEAD and empty answers have no body. */
static void arm_one_send(struct request *r, size_t body_len)
{
    if (body_len && r->conn && strcmp(r->method, MHD_HTTP_METHOD_HEAD) != 0)
        wh_tlsout_arm(&r->conn->out);
}

/* Queues resp (consumed, body_len bytes) with status. A failure returns
 * MHD_NO, which makes MHD close the connection: the only answer left. */
static enum MHD_Result queue(struct wh_server *s, struct MHD_Connection *c,
                             struct request *r, unsigned status, int code,
                             struct MHD_Response *resp, size_t body_len,
                             const char *ctype, const char *allow)
{
    uint64_t latency = now_ns() - r->start_ns;
    enum MHD_Result ret = MHD_NO;

    r->answered = 1;
    conn_phase(r->conn, PH_ANSWERING);
    account(s, r, status, code, latency);
    if (!r->logged && kube_log_enabled(KUBE_LOG_DEBUG))
        kube_log(KUBE_LOG_DEBUG, "answered", "{s:s, s:s, s:i, s:f}", "path",
                 r->url, "method", r->method, "code", (int)status, "latency",
                 (double)latency / 1e9);
    if (!resp)
        return MHD_NO;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) !=
            MHD_YES ||
        (allow && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) !=
                      MHD_YES) ||
        (atomic_load(&s->closing) &&
         MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") !=
             MHD_YES))
        goto done;
    ret = MHD_queue_response(c, status, resp);
    if (ret == MHD_YES)
        arm_one_send(r, body_len);
done:
    MHD_destroy_response(resp);
    return ret;
}

/* A plain-text answer; text is copied. */
static enum MHD_Result reply_text(struct wh_server *s, struct MHD_Connection *c,
                                  struct request *r, unsigned status,
                                  const char *text, const char *allow)
{
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)text, MHD_RESPMEM_MUST_COPY);

    if (r->route && r->route->metrics >= 0)
        r->result = WH_METRICS_ERROR;
    return queue(s, c, r, status, (int)status, resp, len,
                 "text/plain; charset=utf-8", allow);
}

/* ---- GET paths ---------------------------------------------------------- */

static enum MHD_Result
handle_healthz(struct wh_server *s, struct MHD_Connection *c, struct request *r)
{
    return reply_text(s, c, r, MHD_HTTP_OK, "ok\n", NULL);
}

static enum MHD_Result
handle_readyz(struct wh_server *s, struct MHD_Connection *c, struct request *r)
{
    if (atomic_load(&s->ready))
        return reply_text(s, c, r, MHD_HTTP_OK, "ok\n", NULL);
    return reply_text(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n",
                      NULL);
}

static enum MHD_Result
handle_metrics(struct wh_server *s, struct MHD_Connection *c, struct request *r)
{
    struct kube_err err = {0};
    struct MHD_Response *resp;
    char *text = NULL;
    size_t len = 0;

    if (wh_metrics_render(&text, &len, s->metrics, &err) < 0)
        return reply_text(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "out of memory\n", NULL);
    /* MUST_FREE: MHD free()s text with the response */
    resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(text);
    return queue(s, c, r, MHD_HTTP_OK, MHD_HTTP_OK, resp, len,
                 "text/plain; version=0.0.4; charset=utf-8", NULL);
}

/* ---- admission ---------------------------------------------------------- */

static struct wh_policy *policy_get(struct wh_server *s)
{
    struct wh_policy *p;

    pthread_mutex_lock(&s->lock);
    p = wh_policy_ref(s->policy);
    pthread_mutex_unlock(&s->lock);
    return p;
}

/* The ?timeout=Ns kube-apiserver appends: its deadline for our answer
 * (0 when absent or unreadable; it is a hint, never a reason to fail). */
static int64_t timeout_ns(struct MHD_Connection *c)
{
    const char *v =
        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout");
    int64_t ns = 0;

    if (!v || kube_duration_parse(&ns, v, 1, NULL) < 0 || ns < 0)
        return 0;
    return ns;
}

static void log_answer(struct request *r, const struct wh_outcome *oc,
                       uint64_t latency, int64_t budget)
{
    enum kube_log_level level = oc->allowed ? KUBE_LOG_DEBUG : KUBE_LOG_INFO;
    double secs = (double)latency / 1e9;

    r->logged = 1;
    if (budget > 0 && latency > (uint64_t)budget)
        kube_log(KUBE_LOG_WARN, "answered after the caller's timeout",
                 "{s:s, s:s, s:f, s:f}", "uid", oc->uid, "path", r->route->path,
                 "latency", secs, "timeout", (double)budget / 1e9);
    if (!kube_log_enabled(level))
        return;
    /* a denial's message quotes the object's values: user data, so only
     * when debugging */
    kube_log(level, oc->allowed ? "admitted" : "denied",
             "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:f, s:b, s:s*}", "uid",
             oc->uid, "kind", oc->kind, "operation", oc->operation, "namespace",
             oc->ns, "name", oc->name, "code", oc->code, "path", r->route->path,
             "latency", secs, "patched", oc->patched, "message",
             kube_log_enabled(KUBE_LOG_DEBUG) ? oc->message : NULL);
}

/* A body that is not an AdmissionReview has no uid to answer: 400 and
 * the reason as text; our own failure is a 500. */
static enum MHD_Result review_failed(struct wh_server *s,
                                     struct MHD_Connection *c,
                                     struct request *r, int rc,
                                     const struct kube_err *err)
{
    char text[KUBE_ERR_MSG + 2];

    r->logged = 1;
    if (rc != KUBE_EINVAL) {
        kube_log(KUBE_LOG_ERROR, "admission failed", "{s:s, s:s}", "path",
                 r->route->path, "error", err->msg);
        return reply_text(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "internal error\n", NULL);
    }
    /* the reason may quote the body (jansson's "near '...'"): at info
     * only where and how much, the reason at debug */
    kube_log(KUBE_LOG_INFO, "not an AdmissionReview", "{s:s, s:i, s:i}", "path",
             r->route->path, "code", MHD_HTTP_BAD_REQUEST, "bytes",
             (int)kube_buf_len(&r->body)); /* at most WH_SERVER_MAX_BODY */
    kube_log(KUBE_LOG_DEBUG, "not an AdmissionReview: why", "{s:s, s:s}",
             "path", r->route->path, "error", err->msg);
    snprintf(text, sizeof(text), "%s\n", err->msg); /* fits by size */
    return reply_text(s, c, r, MHD_HTTP_BAD_REQUEST, text, NULL);
}

static enum MHD_Result
handle_review(struct wh_server *s, struct MHD_Connection *c, struct request *r)
{
    struct wh_outcome oc;
    struct kube_err err = {0};
    struct wh_policy *policy;
    struct wh_env env = {NULL, s->store, s->lookup};
    struct MHD_Response *resp;
    char *out = NULL;
    size_t outlen = 0;
    int rc;

    if (r->drop)
        return reply_text(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, TOO_LARGE, NULL);
    switch (tree_budget(s, r)) {
    case MHD_HTTP_CONTENT_TOO_LARGE:
        return reply_text(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, TOO_COMPLEX,
                          NULL);
    case MHD_HTTP_SERVICE_UNAVAILABLE:
        return reply_text(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, BUSY, NULL);
    default:
        break;
    }
    memset(&oc, 0, sizeof(oc));
    policy = policy_get(s);
    env.policy = policy;
    rc = wh_review_handle(&out, &outlen, &oc, &r->route->review,
                          kube_buf_str(&r->body), kube_buf_len(&r->body), &env,
                          &err);
    wh_policy_unref(policy);
    /* the same arrays, NUL-terminated (oc was zeroed): no formatting */
    _Static_assert(sizeof(r->kind) == sizeof(oc.kind), "kind");
    _Static_assert(sizeof(r->operation) == sizeof(oc.operation), "operation");
    memcpy(r->kind, oc.kind, sizeof(r->kind));
    memcpy(r->operation, oc.operation, sizeof(r->operation));
    if (rc < 0)
        return review_failed(s, c, r, rc, &err);
    r->result = oc.allowed ? WH_METRICS_ALLOWED : WH_METRICS_DENIED;
    log_answer(r, &oc, now_ns() - r->start_ns, timeout_ns(c));
    /* MUST_FREE: out is malloc'd and MHD free()s it with the response */
    resp = MHD_create_response_from_buffer(outlen, out, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(out);
    return queue(s, c, r, MHD_HTTP_OK, oc.allowed ? 200 : oc.code, resp, outlen,
                 "application/json", NULL);
}

/* ---- request protocol --------------------------------------------------- */

/* "application/json", optionally with a charset=utf-8 parameter (JSON is
 * UTF-8 by definition, RFC 8259); media type and parameter in any case. */
static int is_json(const char *v)
{
    static const char type[] = "application/json";
    static const char cs[] = "charset=";
    int quoted = 0;

    if (!v)
        return 0;
    v += strspn(v, " \t");
    if (strncasecmp(v, type, sizeof(type) - 1) != 0)
        return 0;
    v += sizeof(type) - 1;
    v += strspn(v, " \t");
    if (*v == '\0')
        return 1;
    if (*v++ != ';')
        return 0;
    v += strspn(v, " \t");
    if (strncasecmp(v, cs, sizeof(cs) - 1) != 0)
        return 0;
    v += sizeof(cs) - 1;
    if (*v == '"') {
        quoted = 1;
        v++;
    }
    if (strncasecmp(v, "utf-8", 5) != 0)
        return 0;
    v += 5;
    if (quoted && *v++ != '"')
        return 0;
    v += strspn(v, " \t");
    return *v == '\0';
}

/* Parses a Content-Length value; -1 when absent or not a plain number
 * (MHD has already refused malformed ones; chunked bodies have none). */
static long long content_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    long long n = 0;

    if (!v || !*v)
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (LLONG_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*v - '0');
    }
    return n;
}

struct lengths {
    const char *first; /* the first Content-Length value */
    int disagree;
};

/* Compares each Content-Length header with the first. */
static enum MHD_Result compare_length(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    struct lengths *l = cls;

    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
        return MHD_YES;
    if (!l->first)
        l->first = value;
    else if (strcmp(l->first, value) != 0)
        l->disagree = 1;
    return MHD_YES;
}

/* Two Content-Length headers that disagree leave the body's end to
 * whoever reads the request, the classic smuggling gap: Go refuses it,
 * and so do we. */
static int lengths_disagree(struct MHD_Connection *c)
{
    struct lengths l = {NULL, 0};

    MHD_get_connection_values(c, MHD_HEADER_KIND, compare_length, &l);
    return l.disagree;
}

/* MHD's decoding of the path and the query, except that a %00 stays as
 * it was: a NUL would cut the path short, and "/healthz%00" must not be
 * /healthz. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *val)
{
    (void)cls;
    (void)c;
    if (strstr(val, "%00"))
        return strlen(val);
    return MHD_http_unescape(val);
}

/* Whether the client waits for "100 Continue" before sending its body. */
static int expects_continue(struct MHD_Connection *c)
{
    const char *v =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

    return v && strcasecmp(v, "100-continue") == 0;
}

/* Refuses a request on its headers. Answering before the body is read
 * makes MHD close the connection with the body unread, and the kernel
 * then resets it: a client still sending sees the reset, not our answer.
 * So the answer waits until the body has been read and dropped (the
 * connection stays usable), unless the client holds its body back for
 * "100 Continue" or announced more than we are willing to read. */
static enum MHD_Result refuse(struct wh_server *s, struct MHD_Connection *c,
                              struct request *r, unsigned status,
                              const char *text, const char *allow)
{
    if (expects_continue(c) || content_length(c) > DRAIN_MAX)
        return reply_text(s, c, r, status, text, allow);
    r->refusal = status;
    r->refusal_text = text;
    r->refusal_allow = allow;
    r->drop = 1;
    return MHD_YES;
}

/* ---- request bodies ----------------------------------------------------- */

/* Takes budget for r to hold want bytes in all; -1 (nothing taken) when
 * that would pass the server's limit. Lock-free. */
static int budget_take(struct wh_server *s, struct request *r, size_t want)
{
    size_t add, before;

    if (want <= r->reserved)
        return 0;
    add = want - r->reserved;
    before = atomic_fetch_add(&s->buffered, add);
    if (before + add > s->max_buffered) {
        atomic_fetch_sub(&s->buffered, add);
        return -1;
    }
    r->reserved = want;
    return 0;
}

/* Takes budget for the tree r's body will become: 0 when taken, 413 when
 * it could never fit, 503 when it does not fit now. The loose bound first
 * (strings not skipped, a twentieth of the cost); the exact one decides
 * only when the loose one does not fit. */
static unsigned tree_budget(struct wh_server *s, struct request *r)
{
    const char *p = kube_buf_str(&r->body);
    size_t n = kube_buf_len(&r->body);
    size_t tree = kube_json_values_bound(p, n) * TREE_BYTES_PER_VALUE;

    if (tree <= s->max_buffered - r->reserved &&
        budget_take(s, r, r->reserved + tree) == 0)
        return 0;
    tree = kube_json_values_max(p, n) * TREE_BYTES_PER_VALUE;
    if (tree > s->max_buffered - r->reserved)
        return MHD_HTTP_CONTENT_TOO_LARGE;
    if (budget_take(s, r, r->reserved + tree) < 0)
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    return 0;
}

/* Request bodies' memory. Above BODY_CHUNK a body lives in its own
 * mapping, so freeing it gives the memory back to the kernel at once:
 * glibc raises its mmap threshold after the first large free and would
 * keep later bodies in a heap that a burst leaves swollen. */
static void *body_resize(void *p, size_t used, size_t cap, size_t ncap)
{
    void *q;

    if (ncap <= BODY_CHUNK)
        return realloc(p, ncap);
    if (cap > BODY_CHUNK) {
        q = mremap(p, cap, ncap, MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
    q = mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (q == MAP_FAILED)
        return NULL;
    if (used)
        memcpy(q, p, used);
    free(p);
    return q;
}

static void body_unmap(void *p, size_t cap)
{
    if (cap > BODY_CHUNK)
        munmap(p, cap);
    else
        free(p);
}

static const struct kube_buf_mem body_mem = {body_resize, body_unmap};

/* Frees r's body and gives its budget back; after a large one, the heap
 * its JSON tree used goes back to the kernel too. */
static void body_release(struct wh_server *s, struct request *r)
{
    size_t had = r->reserved;

    kube_buf_free(&r->body, 0);
    atomic_fetch_sub(&s->buffered, had);
    r->reserved = 0;
#ifdef __GLIBC__
    if (had >= TRIM_AFTER)
        malloc_trim(0);
#endif
}

/* Checks an admission request's headers; refuses with 415, 413 or 503,
 * or reserves the body's budget and the start of its buffer. */
static enum MHD_Result begin_review(struct wh_server *s,
                                    struct MHD_Connection *c, struct request *r)
{
    long long cl;

    if (!is_json(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_CONTENT_TYPE)))
        return refuse(s, c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                      "unsupported media type: want application/json\n", NULL);
    cl = content_length(c);
    if (cl > WH_SERVER_MAX_BODY)
        return refuse(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, TOO_LARGE, NULL);
    if (cl > 0) {
        /* the budget covers what is announced; memory follows bytes
         * received, from a buffer of up to 1 MiB to start with. Over the
         * budget the answer goes at once, the body unread: never wait
         * for bytes we will not keep */
        if (budget_take(s, r, (size_t)cl) < 0)
            return reply_text(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, BUSY,
                              NULL);
        if (kube_buf_reserve(&r->body, cl < BODY_CHUNK * 16
                                           ? (size_t)cl
                                           : BODY_CHUNK * 16) < 0)
            return MHD_NO;
    }
    return MHD_YES;
}

/* First call, headers in: routes, checks the method and the headers.
 * Answers come in the final call (see refuse). */
static enum MHD_Result begin(struct wh_server *s, struct MHD_Connection *c,
                             const char *url, const char *method,
                             void **con_cls)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct request *r = calloc(1, sizeof(*r));
    const struct route *rt;
    int get;

    if (!r)
        return MHD_NO;
    kube_buf_init_mem(&r->body, BODY_CHUNK, WH_SERVER_MAX_BODY, &body_mem);
    r->start_ns = now_ns();
    r->url = url;
    r->method = method;
    r->conn = ci ? ci->socket_context : NULL;
    if (r->conn)
        atomic_store(&r->conn->busy, 1);
    *con_cls = r;            /* from here on_completed frees it */
    if (lengths_disagree(c)) /* where the body ends is unknown: answer now */
        return reply_text(s, c, r, MHD_HTTP_BAD_REQUEST,
                          "bad request: Content-Length headers disagree\n",
                          NULL);
    rt = route_find(url);
    if (!rt)
        return refuse(s, c, r, MHD_HTTP_NOT_FOUND, "404 page not found\n",
                      NULL);
    r->route = rt;
    get = strcmp(rt->method, "GET") == 0;
    if (strcmp(method, rt->method) != 0 &&
        !(get && strcmp(method, "HEAD") == 0))
        return refuse(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED,
                      "method not allowed\n", rt->allow);
    if (get)
        return MHD_YES;
    return begin_review(s, c, r);
}

/* Appends a chunk of body. Over the cap the buffer goes and the rest is
 * dropped, to answer 413 once it is in (see refuse); a client that sends
 * more than DRAIN_MAX that way is cut off. */
static enum MHD_Result take_body(struct wh_server *s, struct request *r,
                                 const char *data, size_t n)
{
    if (r->answered)
        return MHD_YES; /* MHD discards the rest itself */
    if (!r->drop && (r->route->metrics < 0 ||
                     n > WH_SERVER_MAX_BODY - kube_buf_len(&r->body))) {
        /* a body where none is wanted, or over the cap */
        r->drop = 1;
        body_release(s, r);
    }
    if (r->drop) {
        r->dropped += n;
        return r->dropped > DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    if (n >= kube_buf_cap(&r->body) - kube_buf_len(&r->body)) {
        size_t len = kube_buf_len(&r->body), cap = kube_buf_cap(&r->body);

        cap = cap ? cap : BODY_CHUNK;
        while (cap - len <= n) /* the NUL needs its byte */
            cap *= 2;
        if (cap > WH_SERVER_MAX_BODY + 1)
            cap = WH_SERVER_MAX_BODY + 1;
        if (budget_take(s, r, cap) < 0) {
            /* a chunked body outgrew the budget: drop the rest, 503 */
            body_release(s, r);
            r->drop = 1;
            r->refusal = MHD_HTTP_SERVICE_UNAVAILABLE;
            r->refusal_text = BUSY;
            r->dropped += n;
            return MHD_YES;
        }
        if (kube_buf_reserve(&r->body, cap - 1) < 0)
            return MHD_NO;
    }
    return kube_buf_add(&r->body, data, n) < 0 ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct wh_server *s = cls;
    struct request *r = *con_cls;
    size_t n = *upload_data_size;

    (void)version;
    if (!r)
        return begin(s, c, url, method, con_cls);
    if (n) {
        *upload_data_size = 0; /* all consumed */
        return take_body(s, r, upload_data, n);
    }
    if (r->answered)
        return MHD_YES;
    if (r->refusal)
        return reply_text(s, c, r, r->refusal, r->refusal_text,
                          r->refusal_allow);
    return r->route->handle(s, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct wh_server *s = cls;
    struct request *r = *con_cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn *cn = ci ? ci->socket_context : NULL;

    (void)toe;
    /* also a request that failed before begin (bad request line) */
    conn_phase(cn, PH_IDLE);
    if (cn)
        wh_tlsout_done(&cn->out);
    if (!r)
        return;
    if (r->conn)
        atomic_store(&r->conn->busy, 0);
    body_release(s, r);
    free(r);
    *con_cls = NULL;
}

/* MHD has read a request line: the request's clock starts. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    (void)cls;
    (void)uri;
    conn_phase(ci ? ci->socket_context : NULL, PH_READING);
    return NULL; /* the request is made in begin */
}

/* ---- connections and TLS ------------------------------------------------ */

static struct wh_tlscreds *creds_get(struct wh_server *s)
{
    struct wh_tlscreds *c;

    pthread_mutex_lock(&s->lock);
    c = wh_tlscreds_ref(s->creds);
    pthread_mutex_unlock(&s->lock);
    return c;
}

/* The struct conn of a GnuTLS session (NULL before conn_started). */
static struct conn *session_conn(gnutls_session_t session)
{
    struct MHD_Connection *c = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT)
          : NULL;

    return ci ? ci->socket_context : NULL;
}

/* The client's Finished is the last handshake message we receive, in
 * full and resumed handshakes, TLS 1.2 and 1.3 alike: the handshake
 * deadline no longer applies, the first request's does. */
static int on_handshake_msg(gnutls_session_t session, unsigned htype,
                            unsigned when, unsigned incoming,
                            const gnutls_datum_t *msg)
{
    struct conn *cn = session_conn(session);

    (void)htype;
    (void)when;
    (void)msg;
    if (cn && incoming && atomic_load(&cn->phase) == PH_HANDSHAKE)
        conn_phase(cn, PH_FIRST);
    return 0;
}

/* What Go's net/http answers a plain HTTP request on a TLS port with,
 * byte for byte, so clients and people see the same hint from us. */
#define PLAIN_HTTP_ANSWER                                                      \
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an "       \
    "HTTPS server.\n"

/* Go's test (tlsRecordHeaderLooksLikeHTTP): the first five bytes of the
 * methods a browser or curl sends. A TLS record starts with a content
 * type of 20 to 23, never with one of these letters. */
static int looks_like_http(const char *p)
{
    static const char *const starts[] = {"GET /", "HEAD ", "POST ", "PUT /",
                                         "OPTIO"};

    for (size_t i = 0; i < sizeof(starts) / sizeof(*starts); i++)
        if (memcmp(p, starts[i], 5) == 0)
            return 1;
    return 0;
}

/* GnuTLS's read (recv on the socket), except that bytes that look like a
 * plain HTTP request at the start of a read are answered as Go does, and
 * the connection fails. Mid-stream a read may start inside a record, on
 * ciphertext: five given bytes there are a 2^-40 chance. */
static ssize_t pull(gnutls_transport_ptr_t ptr, void *buf, size_t size)
{
    int fd = (int)(intptr_t)ptr;
    ssize_t n = recv(fd, buf, size, 0);
    char rest[4096];

    if (n < 5 || !looks_like_http(buf))
        return n;
    /* read what the client sent, so closing does not reset our answer
     * away, then answer and close our side */
    while (recv(fd, rest, sizeof(rest), MSG_DONTWAIT) > 0)
        ;
    (void)send(fd, PLAIN_HTTP_ANSWER, sizeof(PLAIN_HTTP_ANSWER) - 1,
               MSG_NOSIGNAL);
    (void)shutdown(fd, SHUT_WR);
    errno = ECONNRESET;
    return -1;
}

static void conn_started(struct wh_server *s, struct MHD_Connection *c,
                         void **socket_context)
{
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *tls =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    struct conn *cn = calloc(1, sizeof(*cn));

    if (!cn)
        return; /* no context: the certificate callback fails the handshake */
    cn->srv = s;
    cn->fd = fd ? fd->connect_fd : -1;
    cn->creds = creds_get(s);
    conn_phase(cn, PH_HANDSHAKE);
    /* Tickets let a reconnecting client skip the full handshake; the key
     * belongs to the pair, so a rotation ends resumption into the old
     * certificate. GnuTLS copies the key. */
    if (tls && tls->tls_session) {
        (void)gnutls_session_ticket_enable_server(
            tls->tls_session, wh_tlscreds_ticket_key(cn->creds));
        gnutls_handshake_set_hook_function(tls->tls_session,
                                           GNUTLS_HANDSHAKE_FINISHED,
                                           GNUTLS_HOOK_POST, on_handshake_msg);
        gnutls_transport_set_pull_function(tls->tls_session, pull);
        cn->session = tls->tls_session;
        wh_tlsout_attach(&cn->out, cn->session, cn->fd);
    }
    pthread_mutex_lock(&s->conns_lock);
    cn->next = s->conns;
    if (s->conns)
        s->conns->prev = cn;
    s->conns = cn;
    if (++s->open > s->open_peak)
        s->open_peak = s->open;
    pthread_mutex_unlock(&s->conns_lock);
    wh_metrics_connections_add(s->metrics, 1);
    *socket_context = cn;
}

/* MHD calls this before it closes the socket, so close_idle, which holds
 * conns_lock while it shuts sockets down, never touches a reused fd. */
static void conn_closed(struct wh_server *s, struct conn *cn)
{
    int trim = 0;

    pthread_mutex_lock(&s->conns_lock);
    if (cn->prev)
        cn->prev->next = cn->next;
    else
        s->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    if (cn->giving_way)
        s->giving_way--;
    s->open--;
    if (s->open_peak >= TRIM_CONNS && s->open * 4 <= s->open_peak) {
        trim = 1;
        s->open_peak = s->open;
    }
    pthread_mutex_unlock(&s->conns_lock);
    wh_metrics_connections_add(s->metrics, -1);
    wh_tlscreds_unref(cn->creds);
    if (cn->session)
        wh_tlsout_detach(&cn->out, cn->session);
    free(cn);
#ifdef __GLIBC__
    if (trim)
        malloc_trim(0);
#else
    (void)trim;
#endif
}

static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct wh_server *s = cls;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_started(s, c, socket_context);
        return;
    }
    if (*socket_context)
        conn_closed(s, *socket_context);
    wh_listener_closed(s->listener);
}

/* GnuTLS asks for our chain and key during each full handshake. The
 * callback has no closure: the session's pointer is MHD's connection, and
 * its socket context our struct conn, which holds the pair. */
static int on_certificate(gnutls_session_t session,
                          const gnutls_datum_t *req_ca_rdn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos,
                          int pk_algos_length, gnutls_pcert_st **pcert,
                          unsigned int *pcert_length, gnutls_privkey_t *key)
{
    struct conn *cn = session_conn(session);

    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    if (!cn || !cn->creds)
        return -1;
    wh_tlscreds_get(cn->creds, pcert, pcert_length, key);
    return 0;
}

/* MHD's messages, as JSON lines. Failed handshakes are counted (and only
 * logged at debug: probes and scanners make many). */
__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct wh_server *s = cls;
    char msg[512];
    size_t n;
    enum kube_log_level level = KUBE_LOG_DEBUG;

    if (strncmp(fmt, HANDSHAKE_FAILED, sizeof(HANDSHAKE_FAILED) - 1) == 0) {
        wh_metrics_handshake_failed(s->metrics);
        kube_log(KUBE_LOG_DEBUG, "tls handshake failed", NULL);
        return;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap); /* cut is fine */
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* before start a message explains a failed start; after it most are
     * about one client, except failures to accept (e.g. out of fds) */
    if (!atomic_load(&s->started))
        level = KUBE_LOG_ERROR;
    else if (strstr(msg, "accept"))
        level = KUBE_LOG_WARN;
    kube_log(level, "libmicrohttpd", "{s:s}", "detail", msg);
}

/* The listener's callback: MHD gives the socket to one of its workers
 * (chosen by descriptor, so a burst spreads over all of them) and
 * reports its end through on_connection. A connection MHD takes but
 * cannot start (out of memory for its pool) is closed without that
 * report and keeps its place in the listener's count: rare enough to
 * prefer an exact bound to a leak-proof but loose one. */
static int hand_over(void *ctx, int fd, const struct sockaddr *addr,
                     socklen_t addrlen)
{
    struct wh_server *s = ctx;

    if (MHD_add_connection(s->daemon, fd, addr, addrlen) == MHD_YES)
        return 0;
    kube_log(KUBE_LOG_WARN, "cannot take a connection", "{s:s}", "error",
             strerror(errno));
    return -1;
}

/* ---- deadlines and giving way ------------------------------------------- */

static const char *const phase_names[] = {"handshake", "first request",
                                          "request", "answer", "idle"};

/* How long cn may stay in its phase; 0: no deadline of ours. */
static uint64_t phase_limit(const struct wh_server *s, int phase)
{
    if (phase == PH_HANDSHAKE)
        return s->handshake_ns;
    if (phase == PH_FIRST || phase == PH_READING)
        return s->request_ns;
    return 0;
}

/* How long cn has been in its phase at now. A worker may move cn on
 * after the caller read the clock: its phase then began after now, and
 * the unsigned difference must not wrap around into an age of centuries. */
static uint64_t phase_age(struct conn *cn, uint64_t now)
{
    uint64_t since = atomic_load(&cn->since);

    return since < now ? now - since : 0;
}

/* Shuts cn's socket down: its worker sees the end and closes it. */
static void conn_cut(struct conn *cn, const char *why, uint64_t now)
{
    int ph = atomic_load(&cn->phase);

    (void)shutdown(cn->fd, SHUT_RDWR);
    cn->shut = 1;
    kube_log(KUBE_LOG_DEBUG, why, "{s:s, s:f}", "phase", phase_names[ph],
             "seconds", (double)phase_age(cn, now) / 1e9);
}

/* Whether the peer has bytes waiting: a next request on its way. */
static int has_input(int fd)
{
    char b;

    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Closes the connections past their phase's deadline. One with bytes
 * waiting unread is not stalling: we are behind (a burst of handshakes
 * on a busy CPU), and cutting it would punish the client for our delay. */
static void reap(struct wh_server *s)
{
    uint64_t now = now_ns();

    pthread_mutex_lock(&s->conns_lock);
    for (struct conn *cn = s->conns; cn; cn = cn->next) {
        uint64_t limit = phase_limit(s, atomic_load(&cn->phase));

        if (!cn->shut && cn->fd >= 0 && limit && phase_age(cn, now) > limit &&
            !has_input(cn->fd))
            conn_cut(cn, "closed a stalled connection", now);
    }
    pthread_mutex_unlock(&s->conns_lock);
}

static void *reap_loop(void *arg)
{
    struct wh_server *s = arg;
    uint64_t tick =
        s->handshake_ns < s->request_ns ? s->handshake_ns : s->request_ns;

    tick = tick / 4 < 20000000u ? 20000000u : tick / 4; /* 20 ms at least */
    tick = tick > 500000000u ? 500000000u : tick;       /* 500 ms at most */
    pthread_mutex_lock(&s->reap_lock);
    while (!s->reap_stop) {
        struct timespec until;

        pthread_mutex_unlock(&s->reap_lock);
        reap(s);
        pthread_mutex_lock(&s->reap_lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)tick;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!s->reap_stop)
            pthread_cond_timedwait(&s->reap_wake, &s->reap_lock, &until);
    }
    pthread_mutex_unlock(&s->reap_lock);
    return NULL;
}

/* The listener is at the bound with a newcomer waiting: the connection
 * idle or unfinished the longest gives way (one at a time). A connection
 * whose answer is going out, or whose bytes wait for us, keeps its
 * place. */
static void evict(void *ctx)
{
    struct wh_server *s = ctx;
    struct conn *oldest = NULL;

    pthread_mutex_lock(&s->conns_lock);
    for (struct conn *cn = s->conns; cn && !s->giving_way; cn = cn->next) {
        if (cn->shut || cn->fd < 0 || atomic_load(&cn->phase) == PH_ANSWERING ||
            has_input(cn->fd))
            continue;
        if (!oldest || atomic_load(&cn->since) < atomic_load(&oldest->since))
            oldest = cn;
    }
    if (oldest) {
        conn_cut(oldest, "a connection gave way to a newcomer", now_ns());
        oldest->giving_way = 1;
        s->giving_way++;
    }
    pthread_mutex_unlock(&s->conns_lock);
}

/* ---- lifecycle ---------------------------------------------------------- */

static int parse_addr(struct sockaddr_storage *ss, int *v6, const char *host,
                      unsigned port, struct kube_err *err)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (port > 65535)
        return kube_err_set(err, KUBE_EINVAL, "port %u out of range", port);
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *v6 = 0;
        return KUBE_OK;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
        return KUBE_OK;
    }
    return kube_err_set(err, KUBE_EINVAL,
                        "listen address %s: not a numeric IPv4 or IPv6 "
                        "address",
                        host);
}

/* MHD splits the connection limit between its workers: no more workers
 * than connections, or some would never accept. */
static unsigned pool_size(const struct wh_server_config *cfg)
{
    long n = cfg->threads ? (long)cfg->threads : sysconf(_SC_NPROCESSORS_ONLN);

    if (n > 64)
        n = 64;
    if (n > (long)cfg->max_connections)
        n = (long)cfg->max_connections;
    return n < 1 ? 1 : (unsigned)n;
}

/* The listener bounds connections. MHD splits its own limit evenly
 * between workers and refuses beyond a worker's share; handing out by
 * descriptor is not perfectly even, so each worker may hold the bound. */
static unsigned mhd_limit(const struct wh_server_config *cfg)
{
    unsigned long n = (unsigned long)cfg->max_connections * pool_size(cfg);

    return n > UINT_MAX ? UINT_MAX : (unsigned)n;
}

/* Binds, then starts MHD's pool without a listening socket of its own
 * (the listener accepts), then the listener. */
static int start_daemon(struct wh_server *s, const struct wh_server_config *cfg,
                        struct kube_err *err)
{
    struct sockaddr_storage ss;
    unsigned flags = MHD_USE_TLS | WH_SERVER_MHD_LOOP | MHD_USE_ITC |
                     MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
    int v6 = 0, rc;

    rc = parse_addr(&ss, &v6, cfg->host, cfg->port, err);
    if (rc == KUBE_OK)
        rc = wh_listener_open(&s->listener, (struct sockaddr *)&ss,
                              v6 ? sizeof(struct sockaddr_in6)
                                 : sizeof(struct sockaddr_in),
                              cfg->max_connections, err);
    if (rc < 0)
        return rc;
    s->port = wh_listener_port(s->listener);
    /* the logger goes first, or MHD prints early messages to stderr */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, s, MHD_OPTION_HTTPS_CERT_CALLBACK, on_certificate,
        MHD_OPTION_HTTPS_PRIORITIES, WH_SERVER_TLS_PRIORITIES,
        MHD_OPTION_THREAD_POOL_SIZE, pool_size(cfg),
        MHD_OPTION_CONNECTION_LIMIT, mhd_limit(cfg),
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory_limit,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_UNESCAPE_CALLBACK,
        unescape, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_END);
    if (!s->daemon)
        return kube_err_set(err, KUBE_ERR,
                            "cannot serve on %s port %u (see the "
                            "libmicrohttpd line above)",
                            cfg->host, cfg->port);
    atomic_store(&s->started, 1);
    rc = pthread_create(&s->reaper, NULL, reap_loop, s);
    if (rc != 0)
        return kube_err_set(err, KUBE_ERR, "cannot start the reaper: %s",
                            strerror(rc));
    s->reaping = 1;
    return wh_listener_start(s->listener, hand_over, evict, s, err);
}

static int server_new(struct wh_server **out,
                      const struct wh_server_config *cfg, struct kube_err *err)
{
    struct wh_server *s = calloc(1, sizeof(*s));

    if (!s)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    if (wh_metrics_new(&s->metrics, admission_paths, NADMISSION) < 0) {
        free(s);
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    }
    atomic_init(&s->ready, cfg->start_unready ? 0 : 1);
    s->store = cfg->store;
    s->lookup = cfg->lookup;
    s->handshake_ns = (uint64_t)cfg->handshake_timeout_ms * 1000000u;
    s->request_ns = (uint64_t)cfg->request_timeout_ms * 1000000u;
    s->max_buffered = cfg->max_buffered;
    atomic_init(&s->buffered, 0);
    pthread_mutex_init(&s->reap_lock, NULL);
    pthread_cond_init(&s->reap_wake, NULL);
    atomic_init(&s->closing, 0);
    atomic_init(&s->started, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->conns_lock, NULL);
    *out = s;
    return KUBE_OK;
}

/* The listener goes last: closing connections still report to it. */
static void server_free(struct wh_server *s)
{
    if (s->listener)
        wh_listener_stop(s->listener);
    if (s->reaping) {
        pthread_mutex_lock(&s->reap_lock);
        s->reap_stop = 1;
        pthread_cond_signal(&s->reap_wake);
        pthread_mutex_unlock(&s->reap_lock);
        pthread_join(s->reaper, NULL);
    }
    pthread_cond_destroy(&s->reap_wake);
    pthread_mutex_destroy(&s->reap_lock);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    wh_listener_free(s->listener);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->conns_lock);
    wh_tlscreds_unref(s->creds);
    wh_policy_unref(s->policy);
    wh_metrics_free(s->metrics);
    free(s);
}

int wh_server_start(struct wh_server **out, const struct wh_server_config *cfg,
                    struct wh_tlscreds *creds, struct wh_policy *policy,
                    struct kube_err *err)
{
    struct wh_server *s = NULL;
    int rc;

    assert(creds && policy && cfg->idle_timeout > 0 &&
           cfg->handshake_timeout_ms > 0 && cfg->request_timeout_ms > 0 &&
           cfg->max_buffered > 0);
    rc = server_new(&s, cfg, err);
    if (rc < 0)
        return rc;
    s->creds = wh_tlscreds_ref(creds);
    s->policy = wh_policy_ref(policy);
    wh_metrics_set_cert_expiry(s->metrics, wh_tlscreds_not_after(creds));
    rc = start_daemon(s, cfg, err);
    if (rc < 0) {
        server_free(s);
        return rc;
    }
    *out = s;
    return KUBE_OK;
}

unsigned wh_server_port(const struct wh_server *s)
{
    return s->port;
}

struct wh_metrics *wh_server_metrics(struct wh_server *s)
{
    return s->metrics;
}

void wh_server_set_creds(struct wh_server *s, struct wh_tlscreds *creds)
{
    struct wh_tlscreds *old;

    wh_tlscreds_ref(creds);
    pthread_mutex_lock(&s->lock);
    old = s->creds;
    s->creds = creds;
    pthread_mutex_unlock(&s->lock);
    wh_metrics_set_cert_expiry(s->metrics, wh_tlscreds_not_after(creds));
    wh_tlscreds_unref(old); /* freed here or when its last connection ends */
}

void wh_server_set_policy(struct wh_server *s, struct wh_policy *policy)
{
    struct wh_policy *old;

    wh_policy_ref(policy);
    pthread_mutex_lock(&s->lock);
    old = s->policy;
    s->policy = policy;
    pthread_mutex_unlock(&s->lock);
    wh_policy_unref(old);
}

void wh_server_set_ready(struct wh_server *s, int ready)
{
    atomic_store(&s->ready, ready ? 1 : 0);
}

void wh_server_quiesce(struct wh_server *s)
{
    atomic_store(&s->closing, 1);
    wh_listener_stop(s->listener);
}

size_t wh_server_close_idle(struct wh_server *s)
{
    pthread_mutex_lock(&s->conns_lock);
    for (struct conn *cn = s->conns; cn; cn = cn->next) {
        if (cn->shut || cn->fd < 0 || atomic_load(&cn->busy) ||
            has_input(cn->fd))
            continue;
        /* the worker sees EOF and closes the connection itself */
        (void)shutdown(cn->fd, SHUT_RDWR);
        cn->shut = 1;
    }
    pthread_mutex_unlock(&s->conns_lock);
    /* the listener's count: it also sees connections handed over but not
     * yet started, which the list above does not hold yet */
    return wh_listener_open_count(s->listener);
}

void wh_server_stop(struct wh_server *s)
{
    if (!s)
        return;
    server_free(s);
}
