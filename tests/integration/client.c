/* tests/integration/client.c - the API client, informers and leader
 * election against tools/kube-sim (a kube-apiserver stand-in): every test
 * starts its own kube-sim on 127.0.0.1, on a free port, and stops it.
 * Faults (Status codes, cut connections, expired resourceVersions) are
 * switched on through kube-sim's /kube-sim/ admin endpoints. Run from the
 * repository root; no test asserts how fast anything ran. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kube/client.h"
#include "kube/client_time.h"
#include "kube/informer.h"
#include "kube/json.h"
#include "kube/kubeconfig.h"
#include "kube/store.h"
#include "reconciler/leader.h"
#include "kube/file.h"

/* ---- kube-sim ---- */

static struct {
    pid_t pid;
    char dir[64];
    char kubeconfig[512], ca[512], cert[512], key[512], server[128];
} sim;

static const struct kube_gvr configmaps = {"", "v1", "configmaps"};
static const struct kube_gvr leases = {"coordination.k8s.io", "v1", "leases"};
static const struct kube_gvr vmsnapshots = {"snapshot.kubevirt.io", "v1beta1",
                                            "virtualmachinesnapshots"};

static void copy_field(char *dst, size_t len, const json_t *o, const char *k)
{
    const char *v = kube_json_str(o, k);

    cr_assert(v, "kube-sim did not say %s", k);
    snprintf(dst, len, "%s", v);
}

/* Starts kube-sim with the snapshot CRD loaded; its stderr goes to
 * DIR/kube-sim.log. It gets SIGTERM when this test process dies. */
static void sim_start(void)
{
    const char *prog =
        getenv("KUBE_SIM") ? getenv("KUBE_SIM") : "tools/kube-sim";
    char line[4096], log[128];
    int fds[2];
    FILE *f;
    json_t *info;

    snprintf(sim.dir, sizeof(sim.dir), "/tmp/vmsnapd-sim-XXXXXX");
    cr_assert(mkdtemp(sim.dir));
    snprintf(log, sizeof(log), "%s/kube-sim.log", sim.dir);
    cr_assert_eq(pipe(fds), 0);
    sim.pid = fork();
    cr_assert_geq(sim.pid, 0);
    if (sim.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (!freopen(log, "w", stderr))
            _exit(126);
        execlp("python3", "python3", prog, "--dir", sim.dir, "--load",
               "manifests/crds/virtualmachinesnapshots.yaml",
               "--bookmark-interval", "1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    cr_assert(f);
    cr_assert(fgets(line, sizeof(line), f), "kube-sim did not start (see %s)",
              log);
    fclose(f);
    info = json_loads(line, 0, NULL);
    cr_assert(info, "kube-sim said: %s", line);
    copy_field(sim.kubeconfig, sizeof(sim.kubeconfig), info, "kubeconfig");
    copy_field(sim.ca, sizeof(sim.ca), info, "ca");
    copy_field(sim.cert, sizeof(sim.cert), info, "clientCert");
    copy_field(sim.key, sizeof(sim.key), info, "clientKey");
    copy_field(sim.server, sizeof(sim.server), info, "server");
    json_decref(info);
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void sim_stop(void)
{
    if (sim.pid > 0) {
        kill(sim.pid, SIGTERM);
        waitpid(sim.pid, NULL, 0);
        sim.pid = 0;
    }
    if (sim.dir[0])
        nftw(sim.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    json_t **out = ud;
    json_error_t e;
    json_t *v;

    /* admin answers are small; one write in practice, but be safe */
    v = json_loadb(p, size * n, JSON_DISABLE_EOF_CHECK, &e);
    if (v) {
        json_decref(*out);
        *out = v;
    }
    return size * n;
}

/* Sends body (raw JSON text) to kube-sim's path with the admin
 * certificate and expects want (an HTTP status). */
static void sim_send(const char *method, const char *path, const char *body,
                     long want)
{
    CURL *h = curl_easy_init();
    char url[512];
    long code = 0;
    json_t *ans = NULL;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: "
                                                     "application/json");

    cr_assert(h && hdr);
    snprintf(url, sizeof(url), "%s%s", sim.server, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, sim.ca);
    curl_easy_setopt(h, CURLOPT_SSLCERT, sim.cert);
    curl_easy_setopt(h, CURLOPT_SSLKEY, sim.key);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "{}");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
    cr_assert_eq(curl_easy_perform(h), CURLE_OK, "%s %s", method, path);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    cr_assert_eq(code, want, "%s %s: %ld", method, path, code);
    json_decref(ans);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
}

/* Calls a kube-sim admin endpoint with the admin certificate. */
static void sim_admin(const char *method, const char *what, const char *body)
{
    char path[128];

    snprintf(path, sizeof(path), "/kube-sim/%s", what);
    sim_send(method, path, body, 200);
}

static void setup(void)
{
    alarm(120); /* a hang fails the test instead of the whole run */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sim_start();
}

static void teardown(void)
{
    sim_stop();
    curl_global_cleanup();
}

/* A client from kube-sim's admin kubeconfig with short backoffs. */
static struct kube_client *client_from(const char *kubeconfig,
                                       const struct kube_client_opts *o)
{
    struct kube_config *cfg = NULL;
    struct kube_client_opts def;
    struct kube_client *c = NULL;
    struct kube_err err = {0};

    cr_assert_eq(kube_config_from_file(&cfg, kubeconfig, NULL, &err), 0, "%s",
                 err.msg);
    if (!o) {
        kube_client_opts_default(&def);
        def.backoff_base_ms = 10;
        def.backoff_max_ms = 50;
        def.retry_after_max_ms = 50;
        o = &def;
    }
    cr_assert_eq(kube_client_new(&c, cfg, o, &err), 0, "%s", err.msg);
    kube_config_free(cfg);
    return c;
}

static struct kube_client *sim_client(void)
{
    return client_from(sim.kubeconfig, NULL);
}

static json_t *configmap(const char *name, const char *app)
{
    return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion",
                     "v1", "kind", "ConfigMap", "metadata", "name", name,
                     "labels", "app", app, "data", "k", "v");
}

static void create_cm(struct kube_client *c, const char *name, const char *app)
{
    json_t *cm = configmap(name, app);
    struct kube_err err = {0};

    cr_assert_eq(
        kube_client_create(NULL, c, &configmaps, "default", cm, NULL, &err), 0,
        "%s", err.msg);
    json_decref(cm);
}

/* ---- the client ---- */

TestSuite(kube_client_sim, .init = setup, .fini = teardown);

Test(kube_client_sim, create_get_update_conflicts_delete)
{
    struct kube_client *c = sim_client();
    struct kube_status st;
    struct kube_err err = {0};
    json_t *cm = configmap("cm-1", "crud"), *got = NULL, *stale, *patch;

    cr_assert_eq(
        kube_client_create(&got, c, &configmaps, "default", cm, &st, &err), 0,
        "%s", err.msg);
    cr_expect_eq(st.http, 201);
    cr_expect_str_eq(kube_json_str0(got, "metadata.namespace"), "default");
    stale = got;

    /* the name is taken: 409 AlreadyExists */
    got = NULL;
    cr_expect_eq(
        kube_client_create(&got, c, &configmaps, "default", cm, &st, &err),
        KUBE_ECONFLICT);
    cr_expect(kube_status_already_exists(&st));
    cr_expect_null(got);

    /* an update moves the resourceVersion on ... */
    cr_assert_eq(json_object_set_new(json_object_get(stale, "data"), "k",
                                     json_string("v2")),
                 0);
    cr_assert_eq(
        kube_client_update(&got, c, &configmaps, NULL, stale, &st, &err), 0,
        "%s", err.msg);
    cr_expect_str_eq(kube_json_str0(got, "data.k"), "v2");
    json_decref(got);
    /* ... so the same update again is stale: 409 Conflict */
    cr_expect_eq(
        kube_client_update(NULL, c, &configmaps, NULL, stale, &st, &err),
        KUBE_ECONFLICT);
    cr_expect_str_eq(st.reason, "Conflict");
    cr_expect(!kube_status_already_exists(&st));

    /* merge patch, then a JSON patch whose test fails */
    patch = json_pack("{s:{s:n, s:s}}", "data", "k", "k2", "x");
    cr_assert_eq(kube_client_patch(&got, c, &configmaps, "default", "cm-1",
                                   KUBE_PATCH_MERGE, patch, NULL, &st, &err),
                 0, "%s", err.msg);
    cr_expect_null(kube_json_path(got, "data.k"));
    cr_expect_str_eq(kube_json_str0(got, "data.k2"), "x");
    json_decref(got);
    json_decref(patch);
    patch = json_pack("[{s:s, s:s, s:s}]", "op", "test", "path", "/data/k2",
                      "value", "nope");
    cr_expect_eq(kube_client_patch(NULL, c, &configmaps, "default", "cm-1",
                                   KUBE_PATCH_JSON, patch, NULL, &st, &err),
                 KUBE_EINVAL);
    cr_expect_eq(st.http, 422);
    json_decref(patch);

    /* delete: a wrong uid precondition is a conflict; then gone */
    struct kube_delete_opts wrong = {.uid = "00000000-0000-0000-0000-0"};
    cr_expect_eq(kube_client_delete(NULL, c, &configmaps, "default", "cm-1",
                                    &wrong, &st, &err),
                 KUBE_ECONFLICT);
    struct kube_delete_opts bg = {.propagation = "Background"};
    cr_expect_eq(kube_client_delete(&got, c, &configmaps, "default", "cm-1",
                                    &bg, &st, &err),
                 0, "%s", err.msg);
    cr_expect_str_eq(kube_json_str0(got, "status"), "Success");
    json_decref(got);
    cr_expect_eq(
        kube_client_get(&got, c, &configmaps, "default", "cm-1", &st, &err),
        KUBE_ENOTFOUND);
    cr_expect_eq(st.http, 404);
    cr_expect_str_eq(st.reason, "NotFound");
    cr_expect_eq(kube_client_delete(NULL, c, &configmaps, "default", "cm-1",
                                    NULL, &st, &err),
                 KUBE_ENOTFOUND);
    json_decref(stale);
    json_decref(cm);
    kube_client_free(c);
}

Test(kube_client_sim, status_subresource_and_finalizers)
{
    struct kube_client *c = sim_client();
    struct kube_err err = {0};
    json_t *snap, *got = NULL, *patch;

    snap = json_pack("{s:s, s:s, s:{s:s, s:[s]}, s:{s:{s:s, s:s, s:s}}}",
                     "apiVersion", "snapshot.kubevirt.io/v1beta1", "kind",
                     "VirtualMachineSnapshot", "metadata", "name", "snap",
                     "finalizers", "snapshot.kubevirt.io/vmsnapshot-protection",
                     "spec", "source", "apiGroup", "kubevirt.io", "kind",
                     "VirtualMachine", "name", "vm");
    cr_assert_eq(
        kube_client_create(&got, c, &vmsnapshots, "default", snap, NULL, &err),
        0, "%s", err.msg);
    /* status goes through /status only */
    cr_assert_eq(json_object_set_new(got, "status",
                                     json_pack("{s:s}", "phase", "InProgress")),
                 0);
    json_t *st_obj = got;
    got = NULL;
    cr_assert_eq(kube_client_update_status(&got, c, &vmsnapshots, NULL, st_obj,
                                           NULL, &err),
                 0, "%s", err.msg);
    cr_expect_str_eq(kube_json_str0(got, "status.phase"), "InProgress");
    json_decref(got);
    json_decref(st_obj);
    patch = json_pack("{s:{s:s}}", "status", "phase", "Succeeded");
    cr_assert_eq(kube_client_patch(&got, c, &vmsnapshots, "default", "snap",
                                   KUBE_PATCH_MERGE, patch, "status", NULL,
                                   &err),
                 0, "%s", err.msg);
    cr_expect_str_eq(kube_json_str0(got, "status.phase"), "Succeeded");
    json_decref(got);
    json_decref(patch);

    /* delete with a finalizer answers the object, still there */
    cr_assert_eq(kube_client_delete(&got, c, &vmsnapshots, "default", "snap",
                                    NULL, NULL, &err),
                 0, "%s", err.msg);
    cr_expect_not_null(kube_json_path(got, "metadata.deletionTimestamp"));
    json_decref(got);
    /* removing the finalizer (guarded by a test op) lets it go */
    patch = json_pack("[{s:s, s:s, s:s}, {s:s, s:s}]", "op", "test", "path",
                      "/metadata/finalizers/0", "value",
                      "snapshot.kubevirt.io/vmsnapshot-protection", "op",
                      "remove", "path", "/metadata/finalizers/0");
    cr_assert_eq(kube_client_patch(NULL, c, &vmsnapshots, "default", "snap",
                                   KUBE_PATCH_JSON, patch, NULL, NULL, &err),
                 0, "%s", err.msg);
    cr_expect_eq(
        kube_client_get(&got, c, &vmsnapshots, "default", "snap", NULL, &err),
        KUBE_ENOTFOUND);
    json_decref(patch);
    json_decref(snap);
    kube_client_free(c);
}

Test(kube_client_sim, list_collects_every_page)
{
    struct kube_client *c = sim_client();
    struct kube_list_opts lo = {.label_selector = "app=paged", .limit = 2};
    struct kube_err err = {0};
    json_t *list = NULL, *it;
    char name[32];
    size_t i;

    for (int k = 0; k < 7; k++) {
        snprintf(name, sizeof(name), "paged-%d", k);
        create_cm(c, name, "paged");
    }
    create_cm(c, "other", "unpaged");
    cr_assert_eq(
        kube_client_list(&list, c, &configmaps, "default", &lo, NULL, &err), 0,
        "%s", err.msg);
    cr_expect_eq(json_array_size(json_object_get(list, "items")), 7);
    json_array_foreach(json_object_get(list, "items"), i, it)
    {
        snprintf(name, sizeof(name), "paged-%zu", i);
        cr_expect_str_eq(kube_json_str0(it, "metadata.name"), name);
        cr_expect_str_eq(kube_json_str0(it, "kind"), "ConfigMap",
                         "built-in list items get their kind");
    }
    cr_expect_str_neq(kube_json_str0(list, "metadata.resourceVersion"), "");
    json_decref(list);

    /* a continue token that expires mid-list: the list restarts whole */
    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"continue=\", \"code\": "
              "410, \"reason\": \"Expired\", \"count\": 1}");
    cr_assert_eq(
        kube_client_list(&list, c, &configmaps, "default", &lo, NULL, &err), 0,
        "%s", err.msg);
    cr_expect_eq(json_array_size(json_object_get(list, "items")), 7);
    json_decref(list);
    kube_client_free(c);
}

/* What a watch saw, for tests that run it on another thread. */
struct watched {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int n, added, modified, deleted, bookmarks;
    char names[16][32];
    atomic_int cancel;
    int rc;
    struct kube_status st;
    struct kube_client *c;
    char rv[64];
    long timeout_s;
};

static int on_watch(const struct kube_watch_event *ev, void *ctx)
{
    struct watched *w = ctx;

    pthread_mutex_lock(&w->lock);
    if (w->n < 16)
        snprintf(w->names[w->n], sizeof(w->names[0]), "%s",
                 kube_json_str0(ev->object, "metadata.name"));
    w->n++;
    w->added += ev->type == KUBE_WATCH_ADDED;
    w->modified += ev->type == KUBE_WATCH_MODIFIED;
    w->deleted += ev->type == KUBE_WATCH_DELETED;
    w->bookmarks += ev->type == KUBE_WATCH_BOOKMARK;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

static void *watch_thread(void *arg)
{
    struct watched *w = arg;
    struct kube_watch_opts wo = {.resource_version = w->rv,
                                 .label_selector = "app=watched",
                                 .timeout_s = w->timeout_s,
                                 .bookmarks = 1,
                                 .cancel = &w->cancel};
    struct kube_err err = {0};

    w->rc = kube_client_watch(w->c, &configmaps, "default", &wo, on_watch, w,
                              &w->st, &err);
    pthread_mutex_lock(&w->lock);
    w->n = -w->n - 1; /* marks the end: n < 0 */
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void wait_events(struct watched *w, int n)
{
    pthread_mutex_lock(&w->lock);
    while (w->n >= 0 && w->n < n)
        pthread_cond_wait(&w->cond, &w->lock);
    cr_assert_geq(w->n, n, "the watch ended early (rc %d)", w->rc);
    pthread_mutex_unlock(&w->lock);
}

static void start_watch(struct watched *w, pthread_t *t, struct kube_client *c,
                        long timeout_s)
{
    json_t *list = NULL;
    struct kube_list_opts lo = {.label_selector = "app=watched"};

    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->c = c;
    w->timeout_s = timeout_s;
    cr_assert_eq(
        kube_client_list(&list, c, &configmaps, "default", &lo, NULL, NULL), 0);
    snprintf(w->rv, sizeof(w->rv), "%s",
             kube_json_str0(list, "metadata.resourceVersion"));
    json_decref(list);
    cr_assert_eq(pthread_create(t, NULL, watch_thread, w), 0);
}

Test(kube_client_sim, watch_events_in_order)
{
    struct kube_client *c = sim_client();
    struct watched w;
    pthread_t t;
    json_t *patch = json_pack("{s:{s:s}}", "data", "k", "v2");

    start_watch(&w, &t, c, 300);
    create_cm(c, "w-1", "watched");
    create_cm(c, "w-2", "watched");
    create_cm(c, "not-watched", "other");
    cr_assert_eq(kube_client_patch(NULL, c, &configmaps, "default", "w-1",
                                   KUBE_PATCH_MERGE, patch, NULL, NULL, NULL),
                 0);
    cr_assert_eq(kube_client_delete(NULL, c, &configmaps, "default", "w-2",
                                    NULL, NULL, NULL),
                 0);
    wait_events(&w, 4);
    atomic_store(&w.cancel, 1);
    pthread_join(t, NULL);
    cr_expect_eq(w.rc, 0, "a cancelled watch ends cleanly");
    cr_expect_eq(w.added, 2);
    cr_expect_eq(w.modified, 1);
    cr_expect_eq(w.deleted, 1);
    cr_expect_str_eq(w.names[0], "w-1");
    cr_expect_str_eq(w.names[1], "w-2");
    cr_expect_str_eq(w.names[2], "w-1");
    cr_expect_str_eq(w.names[3], "w-2");
    json_decref(patch);
    kube_client_free(c);
}

Test(kube_client_sim, watch_ends_at_timeout_with_bookmarks)
{
    struct kube_client *c = sim_client();
    struct watched w;
    pthread_t t;

    start_watch(&w, &t, c, 3);
    create_cm(c, "b-1", "watched");
    pthread_join(t, NULL); /* the server ends it after 3 s */
    cr_expect_eq(w.rc, 0);
    cr_expect_eq(w.added, 1);
    cr_expect_geq(w.bookmarks, 1, "bookmarks were asked for");
    kube_client_free(c);
}

Test(kube_client_sim, watch_too_old_is_gone)
{
    struct kube_client *c = sim_client();
    struct kube_watch_opts wo = {.resource_version = "1", .timeout_s = 30};
    struct kube_status st;
    struct kube_err err = {0};
    struct watched w = {.lock = PTHREAD_MUTEX_INITIALIZER,
                        .cond = PTHREAD_COND_INITIALIZER};

    create_cm(c, "old", "watched");
    sim_admin("POST", "compact", "{}");
    /* a watch from a compacted RV: HTTP 200, then an ERROR 410 event */
    cr_expect_eq(kube_client_watch(c, &configmaps, "default", &wo, on_watch, &w,
                                   &st, &err),
                 KUBE_EGONE);
    cr_expect_eq(st.code, 410);
    cr_expect_str_eq(st.reason, "Expired");
    cr_expect(strstr(err.msg, "too old resource version") != NULL, "%s",
              err.msg);
    cr_expect_eq(w.n, 0);
    kube_client_free(c);
}

Test(kube_client_sim, watch_cut_by_the_server)
{
    struct kube_client *c = sim_client();
    struct watched w;
    pthread_t t;

    start_watch(&w, &t, c, 300);
    create_cm(c, "cut-1", "watched");
    wait_events(&w, 1);
    sim_admin("POST", "cut-watches", "{\"mode\": \"abort\"}");
    pthread_join(t, NULL);
    cr_expect_eq(w.rc, KUBE_EUNAVAIL, "a broken stream is an error");

    start_watch(&w, &t, c, 300);
    create_cm(c, "cut-2", "watched");
    wait_events(&w, 1);
    sim_admin("POST", "cut-watches", "{\"mode\": \"end\"}");
    pthread_join(t, NULL);
    cr_expect_eq(w.rc, 0, "a stream the server ends cleanly is no error");
    kube_client_free(c);
}

Test(kube_client_sim, retries)
{
    struct kube_client *c = sim_client();
    struct kube_status st;
    struct kube_err err = {0};
    json_t *got = NULL, *cm;

    create_cm(c, "r-1", "retry");
    /* 503 with Retry-After, twice, then the GET succeeds */
    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"configmaps/r-1\", "
              "\"code\": 503, \"reason\": \"ServiceUnavailable\", "
              "\"retryAfterSeconds\": 1, \"count\": 2}");
    cr_expect_eq(
        kube_client_get(&got, c, &configmaps, "default", "r-1", &st, &err), 0,
        "%s", err.msg);
    json_decref(got);
    /* a dropped connection on a GET is retried */
    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"configmaps/r-1\", "
              "\"close\": true, \"count\": 2}");
    cr_expect_eq(
        kube_client_get(&got, c, &configmaps, "default", "r-1", &st, &err), 0,
        "%s", err.msg);
    json_decref(got);
    /* a create that met a 500 may have happened: not re-sent */
    sim_admin("POST", "faults",
              "{\"method\": \"POST\", \"code\": 500, \"reason\": "
              "\"InternalError\", \"count\": 1}");
    cm = configmap("r-2", "retry");
    cr_expect_eq(
        kube_client_create(NULL, c, &configmaps, "default", cm, &st, &err),
        KUBE_EUNAVAIL);
    cr_expect_eq(st.http, 500);
    /* ... but a 429 says it was not processed: re-sent */
    sim_admin("POST", "faults",
              "{\"method\": \"POST\", \"code\": 429, \"reason\": "
              "\"TooManyRequests\", \"retryAfterSeconds\": 1, \"count\": 1}");
    cr_expect_eq(
        kube_client_create(NULL, c, &configmaps, "default", cm, &st, &err), 0,
        "%s", err.msg);
    cr_expect_eq(st.http, 201);
    /* retries run out: the last answer is reported */
    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"configmaps/r-2\", "
              "\"code\": 503, \"reason\": \"ServiceUnavailable\", "
              "\"count\": 100}");
    cr_expect_eq(
        kube_client_get(&got, c, &configmaps, "default", "r-2", &st, &err),
        KUBE_EUNAVAIL);
    cr_expect_eq(st.http, 503);
    cr_expect_str_eq(err.msg,
                     "GET /api/v1/namespaces/default/configmaps/r-2: 503 "
                     "ServiceUnavailable: injected fault");
    sim_admin("DELETE", "faults", NULL);
    json_decref(cm);
    kube_client_free(c);
}

/* A kubeconfig with a bearer token file, as a projected service account
 * token; the kubelet rewrites the file and the old token stops working. */
Test(kube_client_sim, rotated_token)
{
    char kc[600], tok[600];
    struct kube_client_opts o;
    struct kube_client *c;
    struct kube_err err = {0};
    json_t *got = NULL;
    FILE *f;

    snprintf(tok, sizeof(tok), "%s/sa-token", sim.dir);
    f = fopen(tok, "w");
    cr_assert(f);
    fputs("token-one\n", f);
    fclose(f);
    snprintf(kc, sizeof(kc), "%s/token-kubeconfig", sim.dir);
    f = fopen(kc, "w");
    cr_assert(f);
    fprintf(f,
            "clusters: [{name: s, cluster: {server: '%s', "
            "certificate-authority: '%s'}}]\n"
            "users: [{name: u, user: {tokenFile: sa-token}}]\n"
            "contexts: [{name: s, context: {cluster: s, user: u}}]\n"
            "current-context: s\n",
            sim.server, sim.ca);
    fclose(f);
    sim_admin("POST", "tokens", "{\"token\": \"token-one\", \"user\": \"r\"}");
    kube_client_opts_default(&o);
    o.token_reload_ms = 3600 * 1000; /* only a 401 makes it re-read */
    c = client_from(kc, &o);
    cr_assert_eq(kube_client_get(&got, c, &configmaps, "kube-system",
                                 "kube-root-ca.crt", NULL, &err),
                 0, "%s", err.msg);
    json_decref(got);

    /* rotate: new token in the file, the old one revoked */
    sim_admin("POST", "tokens", "{\"token\": \"token-two\", \"user\": \"r\"}");
    f = fopen(tok, "w");
    cr_assert(f);
    fputs("token-two\n", f);
    fclose(f);
    sim_admin("DELETE", "tokens", "{\"token\": \"token-one\"}");
    cr_expect_eq(kube_client_get(&got, c, &configmaps, "kube-system",
                                 "kube-root-ca.crt", NULL, &err),
                 0, "the 401 made it re-read the file: %s", err.msg);
    json_decref(got);

    /* a token nobody accepts: 401 is reported, not retried forever */
    f = fopen(tok, "w");
    cr_assert(f);
    fputs("token-three\n", f);
    fclose(f);
    sim_admin("DELETE", "tokens", "{\"token\": \"token-two\"}");
    struct kube_status st;
    cr_expect_eq(kube_client_get(&got, c, &configmaps, "kube-system",
                                 "kube-root-ca.crt", &st, &err),
                 KUBE_ERR);
    cr_expect_eq(st.http, 401);
    cr_expect(strstr(err.msg, "token-") == NULL, "no token in messages");
    kube_client_free(c);
}

/* ---- informers ---- */

struct seen {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int adds, updates, deletes;
    int unmarked; /* objects handed over without mark()'s key */
    char last_deleted[64];
};

/* The informers' transform in these tests: a copy with one key more, so a
 * test sees that the store and every handler got the transformed object. */
static json_t *mark(const json_t *obj)
{
    json_t *copy = json_copy((json_t *)obj);

    if (copy && json_object_set_new(copy, "transformed", json_true())) {
        json_decref(copy);
        copy = NULL;
    }
    return copy;
}

static void seen_bump(struct seen *s, int *field, const json_t *obj)
{
    pthread_mutex_lock(&s->lock);
    (*field)++;
    s->unmarked += !json_is_true(json_object_get(obj, "transformed"));
    if (field == &s->deletes)
        snprintf(s->last_deleted, sizeof(s->last_deleted), "%s",
                 kube_json_str0(obj, "metadata.name"));
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_add(const json_t *obj, void *ctx)
{
    struct seen *s = ctx;
    seen_bump(s, &s->adds, obj);
}

static void on_update(const json_t *old, const json_t *obj, void *ctx)
{
    struct seen *s = ctx;
    (void)old;
    seen_bump(s, &s->updates, obj);
}

static void on_delete(const json_t *obj, void *ctx)
{
    struct seen *s = ctx;
    seen_bump(s, &s->deletes, obj);
}

/* Waits until *field reaches n (no deadline: the alarm guards). */
static void wait_count(struct seen *s, const int *field, int n)
{
    pthread_mutex_lock(&s->lock);
    while (*field < n)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

static struct kube_informer *start_informer(struct kube_client *c,
                                            struct kube_store *store,
                                            struct seen *s, long resync_ms)
{
    struct kube_informer_opts o = {.gvr = &configmaps,
                                   .ns = "default",
                                   .label_selector = "app=inf",
                                   .page_limit = 2,
                                   .resync_ms = resync_ms,
                                   .backoff_min_ms = 20,
                                   .backoff_max_ms = 200,
                                   .transform = mark};
    struct kube_informer_handlers h = {on_add, on_update, on_delete, s};
    struct kube_informer *inf = NULL;
    struct kube_err err = {0};

    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    cr_assert_eq(kube_informer_new(&inf, c, store, &o, &h, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(kube_informer_start(inf, &err), 0, "%s", err.msg);
    return inf;
}

TestSuite(kube_informer_sim, .init = setup, .fini = teardown);

Test(kube_informer_sim, list_watch_into_store)
{
    struct kube_client *c = sim_client();
    struct kube_store *store = NULL;
    struct kube_informer *inf;
    struct seen s = {0};
    json_t *got = NULL, *patch = json_pack("{s:{s:s}}", "data", "k", "v2");
    char rv[64];

    create_cm(c, "i-1", "inf");
    create_cm(c, "i-2", "inf");
    create_cm(c, "i-3", "inf");
    create_cm(c, "x", "other");
    cr_assert_eq(kube_store_new(&store), 0);
    inf = start_informer(c, store, &s, 0);
    cr_assert(kube_informer_wait_synced(inf, -1));
    cr_expect_eq(kube_store_count(store), 3);
    cr_expect_eq(s.adds, 3);
    cr_assert_eq(kube_store_get(&got, store, "ConfigMap", "default", "i-2"), 0,
                 "stored under the kind from the list");
    cr_expect(json_is_true(json_object_get(got, "transformed")),
              "stored untransformed");
    json_decref(got);
    kube_informer_resource_version(inf, rv, sizeof(rv));
    cr_expect_str_neq(rv, "");

    create_cm(c, "i-4", "inf");
    wait_count(&s, &s.adds, 4);
    cr_assert_eq(kube_client_patch(NULL, c, &configmaps, "default", "i-1",
                                   KUBE_PATCH_MERGE, patch, NULL, NULL, NULL),
                 0);
    wait_count(&s, &s.updates, 1);
    cr_assert_eq(kube_store_get(&got, store, "ConfigMap", "default", "i-1"), 0);
    cr_expect_str_eq(kube_json_str0(got, "data.k"), "v2");
    json_decref(got);
    cr_assert_eq(kube_client_delete(NULL, c, &configmaps, "default", "i-3",
                                    NULL, NULL, NULL),
                 0);
    wait_count(&s, &s.deletes, 1);
    cr_expect_str_eq(s.last_deleted, "i-3");
    cr_expect_eq(kube_store_get(&got, store, "ConfigMap", "default", "i-3"),
                 KUBE_ENOTFOUND);
    cr_expect_eq(kube_store_count(store), 3);
    cr_expect_eq(s.unmarked, 0, "a handler got an untransformed object");
    kube_informer_free(inf); /* stops a running watch */
    kube_store_free(store);
    json_decref(patch);
    kube_client_free(c);
}

/* The watch fails (500s) and is cut; meanwhile an object goes: the relist
 * finds it gone. Then the history is compacted: the rewatch gets 410 and
 * relists. */
Test(kube_informer_sim, relists_after_errors_and_410)
{
    struct kube_client *c = sim_client();
    struct kube_store *store = NULL;
    struct kube_informer *inf;
    struct kube_informer_stats stats;
    struct seen s = {0};

    create_cm(c, "g-1", "inf");
    create_cm(c, "g-2", "inf");
    cr_assert_eq(kube_store_new(&store), 0);
    inf = start_informer(c, store, &s, 0);
    cr_assert(kube_informer_wait_synced(inf, -1));

    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"watch=1\", \"code\": "
              "500, \"reason\": \"InternalError\"}");
    sim_admin("POST", "cut-watches", "{\"mode\": \"abort\"}");
    cr_assert_eq(kube_client_delete(NULL, c, &configmaps, "default", "g-1",
                                    NULL, NULL, NULL),
                 0);
    wait_count(&s, &s.deletes, 1); /* found by a relist: watches all fail */
    cr_expect_str_eq(s.last_deleted, "g-1");
    cr_expect_eq(s.unmarked, 0, "on_delete got the list's object, not ours");
    sim_admin("DELETE", "faults", NULL);

    /* wait for a working watch (it sees g-3), then expire its RV */
    create_cm(c, "g-3", "inf");
    wait_count(&s, &s.adds, 3);
    kube_informer_stats(inf, &stats); /* the relist has finished by now */
    cr_expect_geq(stats.lists, 2);
    cr_expect_geq(stats.errors, 1);
    unsigned long lists = stats.lists;
    create_cm(c, "g-4", "inf");
    wait_count(&s, &s.adds, 4);
    sim_admin("POST", "compact", "{}");
    create_cm(c, "g-5", "inf"); /* after the compaction's RV */
    sim_admin("POST", "cut-watches", "{\"mode\": \"end\"}");
    wait_count(&s, &s.adds, 5);
    kube_informer_stats(inf, &stats);
    /* g-5 came by the rewatch or by a relist after 410: both are fine;
       what must hold is that the store matches the server */
    cr_expect_eq(kube_store_count(store), 4);
    cr_expect_geq(stats.lists, lists);
    kube_informer_free(inf);
    kube_store_free(store);
    kube_client_free(c);
}

Test(kube_informer_sim, watch_from_expired_rv_relists)
{
    struct kube_client *c = sim_client();
    struct kube_store *store = NULL;
    struct kube_informer *inf;
    struct kube_informer_stats stats;
    struct seen s = {0};

    create_cm(c, "e-1", "inf");
    cr_assert_eq(kube_store_new(&store), 0);
    inf = start_informer(c, store, &s, 0);
    cr_assert(kube_informer_wait_synced(inf, -1));
    /* other resources move the RV on; the informer's RV falls out of the
       history, so its next watch gets the ERROR 410 event */
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "noise-%d", i);
        create_cm(c, name, "noise");
    }
    sim_admin("POST", "compact", "{}");
    sim_admin("POST", "cut-watches", "{\"mode\": \"end\"}");
    create_cm(c, "e-2", "inf");
    wait_count(&s, &s.adds, 2);
    create_cm(c, "e-3", "inf"); /* comes after the relist has finished */
    wait_count(&s, &s.adds, 3);
    kube_informer_stats(inf, &stats);
    cr_expect_geq(stats.gone, 1, "the 410 was seen");
    cr_expect_geq(stats.lists, 2, "and answered with a relist");
    cr_expect_eq(kube_store_count(store), 3);
    kube_informer_free(inf);
    kube_store_free(store);
    kube_client_free(c);
}

Test(kube_informer_sim, resync_calls_update)
{
    struct kube_client *c = sim_client();
    struct kube_store *store = NULL;
    struct kube_informer *inf;
    struct seen s = {0};

    create_cm(c, "s-1", "inf");
    create_cm(c, "s-2", "inf");
    cr_assert_eq(kube_store_new(&store), 0);
    inf = start_informer(c, store, &s, 1000);
    wait_count(&s, &s.updates, 2); /* one resync: both objects */
    kube_informer_free(inf);
    kube_store_free(store);
    kube_client_free(c);
}

/* Polls until fn(inf) says yes or a generous deadline passes (the
 * condition is functional; the deadline only stops a hang). */
static int wait_for(int (*fn)(struct kube_informer *),
                    struct kube_informer *inf)
{
    int64_t until = kube_time_now_ms() + 30000;
    struct timespec tick = {0, 20 * 1000 * 1000};

    while (!fn(inf)) {
        if (kube_time_now_ms() > until)
            return 0;
        nanosleep(&tick, NULL);
    }
    return 1;
}

static const struct kube_gvr vms = {"kubevirt.io", "v1", "virtualmachines"};

/* A VirtualMachine as raw JSON text (jansson could not write the integer
 * past int64): pad bytes of annotation, plus extra annotations (ann) and
 * spec fields (spec). */
static void create_vm(const char *name, size_t pad, const char *ann,
                      const char *spec)
{
    static char body[16384];
    char p[8192];

    cr_assert(pad < sizeof(p));
    memset(p, 'p', pad);
    p[pad] = '\0';
    snprintf(
        body, sizeof(body),
        "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\","
        "\"metadata\":{\"name\":\"%s\",\"annotations\":{\"pad\":\"%s\"%s}},"
        "\"spec\":{\"running\":false%s}}",
        name, p, ann, spec);
    sim_send("POST", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines",
             body, 201);
}

static void load_vm_crd(void)
{
    char *crd = NULL;
    size_t len = 0;

    cr_assert_eq(kube_file_read(&crd, &len,
                                "tools/kube-sim-crds/kubevirt.io_"
                                "virtualmachines.yaml",
                                1 << 20, NULL),
                 0);
    sim_admin("POST", "load", crd);
    free(crd);
}

/* Issue 12, item 3: a VM with \u0000 in an annotation and one with an
 * integer past int64 (as Go writes a float64) in a list larger than the
 * client's body limit. The informer syncs all of them, pages shrinking
 * until each fits, and decodes their watch events. */
Test(kube_informer_sim, nul_big_numbers_and_pages_over_the_limit)
{
    struct kube_client_opts co;
    struct kube_client *c;
    struct kube_store *store = NULL;
    struct kube_informer_opts o = {.gvr = &vms,
                                   .ns = "default",
                                   .backoff_min_ms = 20,
                                   .backoff_max_ms = 200};
    struct kube_informer *inf = NULL;
    struct kube_err err = {0};
    struct seen s = {0};
    struct kube_informer_handlers h = {on_add, on_update, on_delete, &s};
    json_t *got = NULL;
    const json_t *v;

    load_vm_crd();
    create_vm("vm-nul", 3000, ",\"note\":\"x\\u0000y\"", "");
    create_vm("vm-big", 3000, "", ",\"n\":18446744073709552000");
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "vm-%d", i);
        create_vm(name, 3000, "", "");
    }
    kube_client_opts_default(&co);
    co.max_body = 8192; /* the whole list (~20 KiB) is over it, 2 VMs not */
    c = client_from(sim.kubeconfig, &co);
    cr_assert_eq(kube_store_new(&store), 0);
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    cr_assert_eq(kube_informer_new(&inf, c, store, &o, &h, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(kube_informer_start(inf, &err), 0, "%s", err.msg);
    cr_assert(kube_informer_wait_synced(inf, 30000), "never synced");
    cr_expect_eq(kube_store_count(store), 6);
    cr_assert_eq(
        kube_store_get(&got, store, "VirtualMachine", "default", "vm-nul"), 0);
    v = kube_json_path(got, "metadata.annotations.note");
    cr_expect_eq(json_string_length(v), 3, "the NUL is kept");
    cr_expect_eq(memcmp(json_string_value(v), "x\0y", 3), 0);
    json_decref(got);
    cr_assert_eq(
        kube_store_get(&got, store, "VirtualMachine", "default", "vm-big"), 0);
    cr_expect(json_is_real(kube_json_path(got, "spec.n")),
              "a number past int64 is a real");
    json_decref(got);
    /* a watch event with the same bytes */
    create_vm("vm-nul-2", 10, ",\"note\":\"\\u0000\"", "");
    wait_count(&s, &s.adds, 7);
    kube_informer_free(inf);
    kube_store_free(store);
    kube_client_free(c);
}

/* The real limit: 66 ConfigMaps of 1 MiB make a 66 MiB first page, over
 * the client's default 64 MiB; the informer syncs them with smaller
 * pages. */
Test(kube_informer_sim, list_over_64_mib)
{
    struct kube_client *c = sim_client();
    struct kube_store *store = NULL;
    struct kube_informer_opts o = {.gvr = &configmaps,
                                   .ns = "default",
                                   .label_selector = "app=big",
                                   .backoff_min_ms = 20,
                                   .backoff_max_ms = 200};
    struct kube_informer *inf = NULL;
    struct kube_informer_stats st;
    struct kube_err err = {0};
    size_t mib = 1 << 20;
    char *pad = malloc(mib + 1);

    cr_assert(pad);
    memset(pad, 'p', mib);
    pad[mib] = '\0';
    for (int i = 0; i < 66; i++) {
        char name[16];
        json_t *cm;
        snprintf(name, sizeof(name), "big-%d", i);
        cm = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion",
                       "v1", "kind", "ConfigMap", "metadata", "name", name,
                       "labels", "app", "big", "data", "pad", pad);
        cr_assert_eq(
            kube_client_create(NULL, c, &configmaps, "default", cm, NULL, &err),
            0, "%s", err.msg);
        json_decref(cm);
    }
    free(pad);
    cr_assert_eq(kube_store_new(&store), 0);
    cr_assert_eq(kube_informer_new(&inf, c, store, &o, NULL, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(kube_informer_start(inf, &err), 0, "%s", err.msg);
    cr_assert(kube_informer_wait_synced(inf, 100000), "never synced");
    cr_expect_eq(kube_store_count(store), 66);
    kube_informer_stats(inf, &st);
    cr_expect_eq(st.errors, 0, "pages shrink within the list, no failure");
    kube_informer_free(inf);
    kube_store_free(store);
    kube_client_free(c);
}

static int backoff_reset(struct kube_informer *inf)
{
    struct kube_informer_stats st;

    kube_informer_stats(inf, &st);
    return st.lists >= 2 && st.backoff_ms == 0;
}

static int stale(struct kube_informer *inf)
{
    return !kube_informer_fresh(inf, 300);
}

static int fresh(struct kube_informer *inf)
{
    return kube_informer_fresh(inf, 300);
}

/* Issue 12, item 7: lists fail five times, then succeed: the backoff is
 * back at zero once the list is in, not after a watch has run its
 * course. Then every request fails: the informer turns stale after the
 * stale limit, and fresh again (backoff reset again) once they pass. */
Test(kube_informer_sim, backoff_resets_and_staleness)
{
    struct kube_client *c = sim_client();
    struct kube_store *store = NULL;
    struct kube_informer *inf;
    struct kube_informer_stats st;
    struct seen s = {0};

    create_cm(c, "b-1", "inf");
    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"limit=\", \"code\": "
              "500, \"reason\": \"InternalError\", \"count\": 5}");
    cr_assert_eq(kube_store_new(&store), 0);
    inf = start_informer(c, store, &s, 0);
    cr_assert(kube_informer_wait_synced(inf, 30000));
    kube_informer_stats(inf, &st);
    cr_expect_geq(st.errors, 5);
    cr_expect_eq(st.backoff_ms, 0, "backoff reset by the list");
    cr_expect_eq(st.failing_since_ms, 0);
    cr_expect_gt(st.last_ok_ms, 0);
    cr_expect(kube_informer_fresh(inf, 300));

    sim_admin("POST", "faults",
              "{\"method\": \"GET\", \"pathRegex\": \"configmaps\", \"code\": "
              "500, \"reason\": \"InternalError\", \"count\": 100000}");
    sim_admin("POST", "cut-watches", "{\"mode\": \"abort\"}");
    cr_assert(wait_for(stale, inf), "still fresh while every request fails");
    kube_informer_stats(inf, &st);
    cr_expect_gt(st.backoff_ms, 0);
    cr_expect_gt(st.failing_since_ms, 0);
    sim_admin("DELETE", "faults", NULL);
    cr_assert(wait_for(fresh, inf), "not fresh after the faults went");
    cr_assert(wait_for(backoff_reset, inf));
    kube_informer_free(inf);
    kube_store_free(store);
    kube_client_free(c);
}

/* ---- leader election ---- */

struct candidate {
    const char *id;
    struct rc_leader *l;
    struct rc_leader *other; /* to check that two never lead at once */
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int started, stopped, overlap;
    int64_t started_at;
};

static void on_started(void *ctx)
{
    struct candidate *k = ctx;

    pthread_mutex_lock(k->lock);
    k->started++;
    k->started_at = kube_time_now_ms();
    if (k->other && rc_leader_is_leader(k->other))
        k->overlap++;
    pthread_cond_broadcast(k->cond);
    pthread_mutex_unlock(k->lock);
}

static void on_stopped(void *ctx)
{
    struct candidate *k = ctx;

    pthread_mutex_lock(k->lock);
    k->stopped++;
    pthread_cond_broadcast(k->cond);
    pthread_mutex_unlock(k->lock);
}

static void wait_field(struct candidate *k, const int *field, int n)
{
    pthread_mutex_lock(k->lock);
    while (*field < n)
        pthread_cond_wait(k->cond, k->lock);
    pthread_mutex_unlock(k->lock);
}

static void make_candidate(struct candidate *k, struct kube_client *c,
                           const char *id, int keep_on_stop,
                           pthread_mutex_t *lock, pthread_cond_t *cond)
{
    struct rc_leader_opts o = {.name = "vmsnapd-leader",
                               .identity = id,
                               .lease_duration_ms = 2000,
                               .renew_deadline_ms = 1500,
                               .retry_period_ms = 200,
                               .keep_on_stop = keep_on_stop,
                               .on_started = on_started,
                               .on_stopped = on_stopped,
                               .ctx = k};
    struct kube_err err = {0};

    memset(k, 0, sizeof(*k));
    k->id = id;
    k->lock = lock;
    k->cond = cond;
    cr_assert_eq(rc_leader_new(&k->l, c, &o, &err), 0, "%s", err.msg);
}

static json_t *get_lease(struct kube_client *c)
{
    json_t *lease = NULL;
    struct kube_err err = {0};

    cr_assert_eq(kube_client_get(&lease, c, &leases, "default",
                                 "vmsnapd-leader", NULL, &err),
                 0, "%s", err.msg);
    return lease;
}

TestSuite(rc_leader_sim, .init = setup, .fini = teardown);

/* One leads, the other waits; when the first stops without releasing,
 * the second takes over once the lease runs out. */
static void handover(int keep_on_stop)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    struct kube_client *c = sim_client();
    struct candidate a, b;
    json_t *lease;
    int64_t stopped_at;

    make_candidate(&a, c, "pod-a", keep_on_stop, &lock, &cond);
    make_candidate(&b, c, "pod-b", 0, &lock, &cond);
    a.other = b.l;
    b.other = a.l;
    cr_assert_eq(rc_leader_start(a.l, NULL), 0);
    wait_field(&a, &a.started, 1);
    cr_assert_eq(rc_leader_start(b.l, NULL), 0);
    lease = get_lease(c);
    cr_expect_str_eq(kube_json_str0(lease, "spec.holderIdentity"), "pod-a");
    cr_expect_eq(
        json_integer_value(kube_json_path(lease, "spec.leaseDurationSeconds")),
        2);
    json_decref(lease);

    rc_leader_stop(a.l);
    stopped_at = kube_time_now_ms();
    cr_expect_eq(a.stopped, 1);
    cr_expect_eq(rc_leader_is_leader(a.l), 0);
    wait_field(&b, &b.started, 1);
    cr_expect_eq(b.overlap + a.overlap, 0, "never two leaders");
    cr_log_info("pod-b led %lld ms after pod-a stopped (%s)",
                (long long)(b.started_at - stopped_at),
                keep_on_stop ? "lease ran out" : "released");
    lease = get_lease(c);
    cr_expect_str_eq(kube_json_str0(lease, "spec.holderIdentity"), "pod-b");
    cr_expect_eq(
        json_integer_value(kube_json_path(lease, "spec.leaseTransitions")), 1);
    json_decref(lease);
    rc_leader_free(b.l);
    lease = get_lease(c);
    cr_expect_str_eq(kube_json_str0(lease, "spec.holderIdentity"), "",
                     "released on stop");
    json_decref(lease);
    rc_leader_free(a.l);
    kube_client_free(c);
}

Test(rc_leader_sim, handover_when_released)
{
    handover(0);
}

Test(rc_leader_sim, handover_when_the_lease_runs_out)
{
    handover(1);
}

/* A leader that cannot renew stops leading; one that sees another holder
 * stops at once. */
Test(rc_leader_sim, losing_the_lease)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    struct kube_client *c = sim_client();
    struct candidate a;
    json_t *lease;

    make_candidate(&a, c, "pod-a", 0, &lock, &cond);
    cr_assert_eq(rc_leader_start(a.l, NULL), 0);
    wait_field(&a, &a.started, 1);
    sim_admin("POST", "faults",
              "{\"method\": \"PUT\", \"pathRegex\": \"leases\", \"code\": "
              "500, \"reason\": \"InternalError\"}");
    wait_field(&a, &a.stopped, 1); /* renew deadline passed */
    cr_expect_eq(rc_leader_is_leader(a.l), 0);
    sim_admin("DELETE", "faults", NULL);
    wait_field(&a, &a.started, 2); /* a candidate again, and it wins */

    /* someone else writes the Lease: a leader that sees it steps down */
    lease = get_lease(c);
    cr_assert_eq(json_object_set_new(json_object_get(lease, "spec"),
                                     "holderIdentity", json_string("intruder")),
                 0);
    cr_assert_eq(kube_client_update(NULL, c, &leases, NULL, lease, NULL, NULL),
                 0);
    json_decref(lease);
    wait_field(&a, &a.stopped, 2);
    rc_leader_free(a.l);
    kube_client_free(c);
}
