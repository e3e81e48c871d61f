/* tests/kube/client.c - request paths and client set-up; the client
 * against a server is in tests/integration/client*.c. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client.h"

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
