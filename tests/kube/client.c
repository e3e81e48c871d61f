/* tests/kube/client.c - request paths, client set-up, and the transport
 * details a scripted plain-HTTP server on 127.0.0.1 can show (headers
 * sent, Retry-After, which failures are re-sent, the body ceiling). The
 * client against a whole API server (kube-sim) is in
 * tests/integration/client.c. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client.h"
#include "kube/json.h"

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    curl_global_cleanup();
}

TestSuite(kube_client, .init = setup, .fini = teardown);

static const struct kube_gvr snaps = {"snapshot.kubevirt.io", "v1beta1",
                                      "virtualmachinesnapshots"};
static const struct kube_gvr pods = {"", "v1", "pods"};
static const struct kube_gvr leases = {"coordination.k8s.io", "v1", "leases"};

Test(kube_client, paths)
{
    static const char *const list_params[] = {"limit",
                                              "500",
                                              "continue",
                                              NULL, /* skipped */
                                              "labelSelector",
                                              "app=db,tier!=cache",
                                              "fieldSelector",
                                              "metadata.name=a b",
                                              "empty",
                                              "",
                                              NULL};
    static const struct {
        const char *name;
        struct kube_request r;
        const char *want;
    } cases[] = {
        {"namespaced object",
         {.method = "GET", .gvr = &snaps, .ns = "default", .name = "snap-1"},
         "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/"
         "virtualmachinesnapshots/snap-1"},
        {"status subresource",
         {.method = "PUT",
          .gvr = &snaps,
          .ns = "ns",
          .name = "s",
          .subresource = "status"},
         "/apis/snapshot.kubevirt.io/v1beta1/namespaces/ns/"
         "virtualmachinesnapshots/s/status"},
        {"core group, all namespaces",
         {.method = "GET", .gvr = &pods},
         "/api/v1/pods"},
        {"empty namespace is cluster scope",
         {.method = "GET", .gvr = &pods, .ns = "", .name = "p"},
         "/api/v1/pods/p"},
        {"query escaped, empty values skipped",
         {.method = "GET",
          .gvr = &leases,
          .ns = "kube-system",
          .params = list_params},
         "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
         "?limit=500&labelSelector=app%3Ddb%2Ctier%21%3Dcache"
         "&fieldSelector=metadata.name%3Da%20b"},
        {"name escaped",
         {.method = "GET", .gvr = &leases, .ns = "x", .name = "a:b/c"},
         "/apis/coordination.k8s.io/v1/namespaces/x/leases/a%3Ab%2Fc"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = NULL;
        struct kube_err err = {0};

        cr_assert_eq(kube_client_path(&path, &cases[i].r, &err), 0, "%s: %s",
                     cases[i].name, err.msg);
        cr_expect_str_eq(path, cases[i].want, "%s", cases[i].name);
        free(path);
    }
}

Test(kube_client, paths_refused)
{
    static const struct kube_gvr no_version = {"g", "", "things"};
    struct kube_request r = {.method = "GET", .gvr = &no_version};
    struct kube_err err = {0};
    char *path = NULL;

    cr_expect_eq(kube_client_path(&path, &r, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg,
                     "request: method, version and resource are required");
    r.gvr = &pods;
    r.name = "..";
    cr_expect_eq(kube_client_path(&path, &r, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "request: \".\" and \"..\" are not names");
    cr_expect_null(path);
}

Test(kube_client, defaults)
{
    struct kube_client_opts o;

    kube_client_opts_default(&o);
    cr_expect_eq(o.connect_timeout_ms, 10000);
    cr_expect_eq(o.request_timeout_ms, 30000);
    cr_expect_eq(o.token_reload_ms, 60000, "client-go re-reads every minute");
    cr_expect_eq(o.max_retries, 5);
    cr_expect_eq(o.max_body, (size_t)64 << 20);
    cr_expect_str_eq(o.field_manager, "vmsnapd");
}

Test(kube_client, new_needs_a_server)
{
    struct kube_config cfg = {0};
    struct kube_client *c = NULL;
    struct kube_err err = {0};

    cr_expect_eq(kube_client_new(&c, &cfg, NULL, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "client: no server configured");
    cfg.server = "https://127.0.0.1:1";
    cfg.ns = "snaps";
    cfg.token = "secret";
    cr_assert_eq(kube_client_new(&c, &cfg, NULL, &err), 0, "%s", err.msg);
    cr_expect_str_eq(kube_client_namespace(c), "snaps");
    cr_expect_str_eq(kube_client_server(c), "https://127.0.0.1:1");
    kube_client_free(c);
}

/* A refused connection is a connection failure: KUBE_EUNAVAIL with no
 * HTTP status, after the retries (kept short here). */
Test(kube_client, connection_refused)
{
    struct kube_config cfg = {.server = "http://127.0.0.1:1"};
    struct kube_client_opts o;
    struct kube_client *c = NULL;
    struct kube_status st;
    struct kube_err err = {0};
    json_t *obj = NULL;

    kube_client_opts_default(&o);
    o.max_retries = 2;
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 2;
    cr_assert_eq(kube_client_new(&c, &cfg, &o, &err), 0);
    cr_expect_eq(kube_client_get(&obj, c, &pods, "ns", "p", &st, &err),
                 KUBE_EUNAVAIL);
    cr_expect_eq(st.http, 0);
    cr_expect(strncmp(err.msg, "GET /api/v1/namespaces/ns/pods/p: ", 34) == 0,
              "%s", err.msg);
    cr_expect_null(obj);
    kube_client_shutdown(c);
    cr_expect_eq(kube_client_get(&obj, c, &pods, "ns", "p", &st, &err),
                 KUBE_EUNAVAIL);
    cr_expect_str_eq(err.msg, "GET /api/v1/namespaces/ns/pods/p: client shut "
                              "down");
    kube_client_free(c);
}

/* ---- a scripted server: answers in order, records what it got ---- */

enum { SCRIPT = 8 };

struct reply {
    unsigned status;
    const char *retry_after; /* header value or NULL */
    const char *body;
};

static struct {
    pthread_mutex_t lock;
    struct reply replies[SCRIPT];
    int next, n;
    char method[SCRIPT][8], url[SCRIPT][256], auth[SCRIPT][128];
    char ctype[SCRIPT][64], body[SCRIPT][256];
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct upload {
    char buf[256];
    size_t len;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
                               const char *k, const char *v)
{
    char *url = cls;
    size_t n = strlen(url);

    (void)kind;
    snprintf(url + n, 256 - n, "%s%s=%s", strchr(url, '?') ? "&" : "?", k,
             v ? v : "");
    return MHD_YES;
}

static void record(struct MHD_Connection *conn, const char *url,
                   const char *method, const struct upload *up, int i)
{
    const char *h;

    snprintf(srv.method[i], sizeof(srv.method[i]), "%s", method);
    snprintf(srv.url[i], sizeof(srv.url[i]), "%s", url);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, srv.url[i]);
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    snprintf(srv.auth[i], sizeof(srv.auth[i]), "%s", h ? h : "");
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    snprintf(srv.ctype[i], sizeof(srv.ctype[i]), "%s", h ? h : "");
    snprintf(srv.body[i], sizeof(srv.body[i]), "%.*s", (int)up->len, up->buf);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *size, void **con_cls)
{
    struct upload *up = *con_cls;
    struct MHD_Response *resp;
    struct reply r = {500, NULL, "{}"};
    enum MHD_Result ret;

    (void)cls;
    (void)version;
    if (!up) {
        *con_cls = calloc(1, sizeof(struct upload));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        size_t n = *size < sizeof(up->buf) - up->len
                       ? *size
                       : sizeof(up->buf) - up->len;
        memcpy(up->buf + up->len, data, n);
        up->len += n;
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&srv.lock);
    if (srv.next < srv.n) {
        r = srv.replies[srv.next];
        record(conn, url, method, up, srv.next);
        srv.next++;
    }
    pthread_mutex_unlock(&srv.lock);
    resp = MHD_create_response_from_buffer(strlen(r.body), (void *)r.body,
                                           MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (r.retry_after)
        MHD_add_response_header(resp, "Retry-After", r.retry_after);
    ret = MHD_queue_response(conn, r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void done_upload(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode tc)
{
    (void)cls;
    (void)conn;
    (void)tc;
    free(*con_cls);
    *con_cls = NULL;
}

/* Starts the server on 127.0.0.1 (a free port) with a script; *out is a
 * client for it with a static token and millisecond backoffs. */
static struct MHD_Daemon *serve(const struct reply *script, int n,
                                struct kube_client **out, size_t max_body)
{
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    struct kube_config cfg = {.token = "sekrit-token"};
    struct kube_client_opts o;
    char server[64];

    cr_assert_leq(n, SCRIPT);
    memcpy(srv.replies, script, sizeof(*script) * (size_t)n);
    srv.n = n;
    srv.next = 0;
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
                         NULL, NULL, answer, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                         done_upload, NULL, MHD_OPTION_SOCK_ADDR, NULL,
                         MHD_OPTION_END);
    cr_assert(d);
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    cr_assert(info && info->port);
    snprintf(server, sizeof(server), "http://127.0.0.1:%u", info->port);
    cfg.server = server;
    kube_client_opts_default(&o);
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 2;
    o.retry_after_max_ms = 5; /* Retry-After: 1 waits 5 ms here */
    if (max_body)
        o.max_body = max_body;
    cr_assert_eq(kube_client_new(out, &cfg, &o, NULL), 0);
    return d;
}

static const struct kube_gvr cms = {"", "v1", "configmaps"};

/* A POST (create) is re-sent after 429 + Retry-After; the request carried
 * the token, JSON and our field manager. */
Test(kube_client, create_resent_after_429)
{
    static const struct reply script[] = {
        {429, "1", "{\"kind\":\"Status\",\"code\":429}"},
        {201, NULL, "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}"},
    };
    struct kube_client *c;
    struct MHD_Daemon *d = serve(script, 2, &c, 0);
    json_t *obj = json_pack("{s:{s:s}}", "metadata", "name", "a"), *got = NULL;
    struct kube_status st;
    struct kube_err err = {0};

    cr_expect_eq(kube_client_create(&got, c, &cms, "ns", obj, &st, &err), 0,
                 "%s", err.msg);
    cr_expect_eq(st.http, 201);
    cr_expect_str_eq(kube_json_str0(got, "metadata.name"), "a");
    cr_expect_eq(srv.next, 2, "sent twice");
    cr_expect_str_eq(srv.method[1], "POST");
    cr_expect_str_eq(srv.url[1],
                     "/api/v1/namespaces/ns/configmaps?fieldManager=vmsnapd");
    cr_expect_str_eq(srv.auth[1], "Bearer sekrit-token");
    cr_expect_str_eq(srv.ctype[1], "application/json");
    cr_expect_str_eq(srv.body[1], "{\"metadata\":{\"name\":\"a\"}}");
    json_decref(got);
    json_decref(obj);
    kube_client_free(c);
    MHD_stop_daemon(d);
}

/* A 500 may mean the create happened: it is not re-sent. A GET is. */
Test(kube_client, create_not_resent_after_500)
{
    static const struct reply script[] = {
        {500, NULL,
         "{\"kind\":\"Status\",\"reason\":\"InternalError\","
         "\"message\":\"etcd timeout\",\"code\":500}"},
        {500, NULL, "{\"kind\":\"Status\",\"code\":500}"},
        {200, NULL, "{\"kind\":\"ConfigMap\"}"},
    };
    struct kube_client *c;
    struct MHD_Daemon *d = serve(script, 3, &c, 0);
    json_t *obj = json_pack("{s:{s:s}}", "metadata", "name", "a"), *got = NULL;
    struct kube_status st;
    struct kube_err err = {0};

    cr_expect_eq(kube_client_create(NULL, c, &cms, "ns", obj, &st, &err),
                 KUBE_EUNAVAIL);
    cr_expect_eq(srv.next, 1, "sent once");
    cr_expect_str_eq(err.msg, "POST /api/v1/namespaces/ns/configmaps: 500 "
                              "InternalError: etcd timeout");
    cr_expect(strstr(err.msg, "sekrit") == NULL);
    cr_expect_eq(kube_client_get(&got, c, &cms, "ns", "a", &st, &err), 0, "%s",
                 err.msg);
    cr_expect_eq(srv.next, 3, "the GET was re-sent");
    cr_expect_str_eq(srv.method[2], "GET");
    cr_expect_str_eq(srv.url[2], "/api/v1/namespaces/ns/configmaps/a");
    json_decref(got);
    json_decref(obj);
    kube_client_free(c);
    MHD_stop_daemon(d);
}

Test(kube_client, answer_over_the_ceiling)
{
    static const struct reply script[] = {
        {200, NULL, "{\"kind\":\"ConfigMap\",\"data\":{\"k\":\"0123456789\"}}"},
    };
    struct kube_client *c;
    struct MHD_Daemon *d = serve(script, 1, &c, 16);
    struct kube_err err = {0};
    json_t *got = NULL;

    cr_expect_eq(kube_client_get(&got, c, &cms, "ns", "a", NULL, &err),
                 KUBE_ETOOBIG);
    cr_expect_str_eq(err.msg, "GET /api/v1/namespaces/ns/configmaps/a: "
                              "answer over 16 bytes");
    cr_expect_eq(srv.next, 1, "not retried");
    kube_client_free(c);
    MHD_stop_daemon(d);
}

Test(kube_client, delete_options_and_patch_types)
{
    static const struct reply script[] = {
        {200, NULL, "{\"kind\":\"Status\",\"status\":\"Success\"}"},
        {200, NULL, "{}"},
        {200, NULL, "{}"},
    };
    struct kube_client *c;
    struct MHD_Daemon *d = serve(script, 3, &c, 0);
    struct kube_delete_opts del = {.uid = "u-1",
                                   .resource_version = "7",
                                   .propagation = "Foreground",
                                   .grace_period_s = 0,
                                   .grace_set = 1};
    json_t *merge = json_pack("{s:{s:n}}", "data", "k");
    json_t *ops = json_pack("[{s:s, s:s}]", "op", "remove", "path", "/data/k");

    cr_expect_eq(kube_client_delete(NULL, c, &cms, "ns", "a", &del, NULL, NULL),
                 0);
    cr_expect_str_eq(srv.method[0], "DELETE");
    cr_expect_str_eq(srv.url[0], "/api/v1/namespaces/ns/configmaps/a");
    cr_expect_str_eq(srv.body[0],
                     "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                     "\"preconditions\":{\"uid\":\"u-1\",\"resourceVersion\":"
                     "\"7\"},\"propagationPolicy\":\"Foreground\","
                     "\"gracePeriodSeconds\":0}");
    cr_expect_eq(kube_client_patch(NULL, c, &cms, "ns", "a", KUBE_PATCH_MERGE,
                                   merge, "status", NULL, NULL),
                 0);
    cr_expect_str_eq(srv.url[1], "/api/v1/namespaces/ns/configmaps/a/status"
                                 "?fieldManager=vmsnapd");
    cr_expect_str_eq(srv.ctype[1], "application/merge-patch+json");
    cr_expect_eq(kube_client_patch(NULL, c, &cms, "ns", "a", KUBE_PATCH_JSON,
                                   ops, NULL, NULL, NULL),
                 0);
    cr_expect_str_eq(srv.ctype[2], "application/json-patch+json");
    cr_expect_eq(kube_client_patch(NULL, c, &cms, "ns", "a", KUBE_PATCH_JSON,
                                   merge, NULL, NULL, NULL),
                 KUBE_EINVAL, "a JSON patch is an array");
    json_decref(merge);
    json_decref(ops);
    kube_client_free(c);
    MHD_stop_daemon(d);
}
