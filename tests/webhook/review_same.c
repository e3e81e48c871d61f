/* tests/webhook/review_same.c - wh_review_handle's fast path (only what
 * the rules read decoded, the answer written as text) against the
 * reference it replaced: the whole body decoded with kube_json_decode,
 * wh_review_tree, and json_dumpb of its tree. Every body in tests/data,
 * every review seed of the fuzzer, truncations of each, and hand-made
 * malformed bodies, on every webhook path, with and without cluster
 * state: same return, same error text, same answer bytes, same outcome.
 * Run from the repository root. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/file.h"
#include "kube/json.h"
#include "kube/jsondec.h"
#include "kube/store.h"
#include "webhook/review.h"

/* Every endpoint on every path, and on none (`vmsnapd review`). */
static const enum wh_endpoint endpoints[] = {WH_EP_VALIDATE, WH_EP_MUTATE,
                                             WH_EP_ALL};
static const char *const resources[] = {"virtualmachinesnapshots",
                                        "virtualmachinesnapshotcontents",
                                        "virtualmachinerestores", NULL};

static struct wh_policy *pol;
static struct kube_store *cluster;
static size_t compared;

static void setup(void)
{
    cr_assert_eq(wh_policy_default(&pol), 0);
    cr_assert_eq(kube_store_new(&cluster), 0);
    cr_assert_eq(
        kube_store_load_file(cluster, "manifests/examples/cluster.yaml", NULL),
        0);
}

static void teardown(void)
{
    kube_store_free(cluster);
    wh_policy_unref(pol);
}

TestSuite(webhook_review_same, .init = setup, .fini = teardown);

/* What the reference path answers: rc, err text, answer, outcome. */
struct result {
    int rc;
    struct kube_err err;
    char *text; /* malloc'd or NULL */
    size_t len;
    struct wh_outcome oc;
};

static void reference(struct result *res, const struct wh_route *route,
                      const char *body, size_t len, const struct wh_env *env)
{
    json_error_t jerr;
    json_t *review = kube_json_decode(body, len, &jerr), *doc = NULL;

    memset(res, 0, sizeof(*res));
    if (!review) {
        res->rc = kube_err_set(&res->err, KUBE_EINVAL,
                               "not an AdmissionReview: invalid JSON at line "
                               "%d column %d: %s",
                               jerr.line, jerr.column, jerr.text);
        return;
    }
    res->rc = wh_review_tree(&doc, &res->oc, route, review, env, &res->err);
    if (res->rc == 0)
        res->text =
            kube_json_dump(doc, JSON_COMPACT | JSON_PRESERVE_ORDER, &res->len);
    json_decref(doc);
    json_decref(review);
}

static void same_on(const char *name, const char *body, size_t len,
                    const struct wh_route *route, const struct wh_env *env)
{
    struct result want, got;

    reference(&want, route, body, len, env);
    memset(&got, 0, sizeof(got));
    got.rc = wh_review_handle(&got.text, &got.len, &got.oc, route, body, len,
                              env, &got.err);
    cr_assert_eq(got.rc, want.rc, "%s: rc", name);
    cr_assert_str_eq(got.err.msg, want.err.msg, "%s: error", name);
    if (want.text) {
        cr_assert_not_null(got.text, "%s", name);
        cr_assert_eq(got.len, want.len, "%s: %s vs %s", name, got.text,
                     want.text);
        cr_assert_str_eq(got.text, want.text, "%s: answer", name);
    }
    cr_assert(memcmp(&got.oc, &want.oc, sizeof(got.oc)) == 0,
              "%s: outcomes differ", name);
    free(got.text);
    free(want.text);
    compared++;
}

static void same(const char *name, const char *body, size_t len)
{
    const struct wh_env envs[] = {{.policy = pol},
                                  {.policy = pol, .store = cluster}};

    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < 3; i++)
            for (size_t k = 0; k < 4; k++) {
                struct wh_route route = {endpoints[i], resources[k]};
                char where[512];

                snprintf(where, sizeof(where), "%s (%zu bytes), ep %zu, %s%s",
                         name, len, i, resources[k] ? resources[k] : "any",
                         e ? ", store" : "");
                same_on(where, body, len, &route, &envs[e]);
            }
}

/* The body, then every prefix of it a stride apart (truncated bodies). */
static void same_and_truncated(const char *name, const char *body, size_t len)
{
    same(name, body, len);
    for (size_t cut = 0; cut < len; cut += 61)
        same(name, body, cut);
}

static void one_file(const char *path, int seed)
{
    char *body = NULL;
    size_t len = 0;

    cr_assert_eq(kube_file_read(&body, &len, path, 1 << 22, NULL), 0, "%s",
                 path);
    if (seed) /* the fuzzer's first byte picks a route */
        same_and_truncated(path, body + (len > 0), len - (len > 0));
    else
        same_and_truncated(path, body, len);
    free(body);
}

static void each_file(const char *pattern, int seed)
{
    glob_t g;

    if (glob(pattern, 0, NULL, &g) != 0)
        return; /* no match at this depth */
    for (size_t i = 0; i < g.gl_pathc; i++)
        one_file(g.gl_pathv[i], seed);
    globfree(&g);
}

Test(webhook_review_same, every_fixture_body_and_its_truncations)
{
    compared = 0;
    each_file("tests/data/*/*.json", 0);
    each_file("tests/data/*/*/*.json", 0);
    each_file("tests/data/*/*/*/*.json", 0);
    each_file("tests/data/*/*/*/*/*.json", 0);
    each_file("tests/fuzz/corpus/review/*", 1);
    cr_expect_gt(compared, 1000, "only %zu reviews compared", compared);
}

#define REQ_HEAD                                                               \
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\","      \
    "\"resource\":{\"group\":\"snapshot.kubevirt.io\",\"resource\":"           \
    "\"virtualmachinesnapshots\"},"
#define SNAP_OBJ                                                               \
    "{\"metadata\":{\"name\":\"s\",\"managedFields\":[{\"f\":{\"x\":1}}]},"    \
    "\"spec\":{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":"             \
    "\"VirtualMachine\",\"name\":\"vm\"}}}"

/* Bodies that are wrong in each way a decoder may read differently:
 * sizeof keeps NUL bytes. */
static const struct {
    const char *name, *body;
    size_t len;
} malformed[] = {
#define M(name, text)                                                          \
    {                                                                          \
        name, text, sizeof(text) - 1                                           \
    }
    M("empty", ""),
    M("scalar", "7"),
    M("array", "[{\"request\":{}}]"),
    M("request is an array", "{\"request\":[]}"),
    M("uid is null", "{\"request\":{\"uid\":null}}"),
    M("operation is a number", REQ_HEAD "\"operation\":1,\"object\":{}}}"),
    M("resource is a string",
      "{\"request\":{\"uid\":\"u\",\"resource\":\"x\",\"operation\":"
      "\"CREATE\"}}"),
    M("groups hold a number",
      REQ_HEAD "\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"a\","
               "\"groups\":[1,\"g\"]},\"object\":" SNAP_OBJ "}}"),
    M("userInfo is a list", REQ_HEAD
      "\"operation\":\"CREATE\",\"userInfo\":[],\"object\":" SNAP_OBJ "}}"),
    M("userInfo is null, namespace a number",
      REQ_HEAD "\"operation\":\"CREATE\",\"userInfo\":null,\"namespace\":2,"
               "\"object\":" SNAP_OBJ "}}"),
    M("resource is null", "{\"request\":{\"uid\":\"u\",\"resource\":null,"
                          "\"operation\":\"CREATE\",\"namespace\":\"n\"}}"),
    M("dryRun is a string", REQ_HEAD
      "\"operation\":\"CREATE\",\"dryRun\":\"true\",\"object\":" SNAP_OBJ "}}"),
    M("duplicate request: the last wins",
      "{\"request\":{\"uid\":\"a\"},\"request\":" REQ_HEAD
      "\"operation\":\"CREATE\",\"object\":" SNAP_OBJ "}}"),
    M("duplicate object: the last wins",
      REQ_HEAD "\"operation\":\"CREATE\",\"object\":" SNAP_OBJ
               ",\"object\":{\"spec\":[]}}}"),
    M("duplicate uid and operation",
      REQ_HEAD "\"operation\":\"DELETE\",\"uid\":\"v\",\"operation\":"
               "\"CREATE\",\"object\":" SNAP_OBJ "}}"),
    M("NUL in a skipped key and value",
      REQ_HEAD "\"operation\":\"CREATE\",\"opt\\u0000ions\":\"a\\u0000b\","
               "\"object\":" SNAP_OBJ "}}"),
    M("NUL in the name",
      REQ_HEAD "\"operation\":\"CREATE\",\"name\":\"a\\u0000b\",\"object\":"
               "{\"spec\":{}}}}"),
    M("raw NUL byte", REQ_HEAD "\"operation\":\"CREATE\\0\"}}"),
    M("huge integer in managedFields",
      REQ_HEAD "\"operation\":\"CREATE\",\"object\":{\"metadata\":{"
               "\"managedFields\":[18446744073709552000,1e400]}}}}"),
    M("huge integer as the deadline",
      REQ_HEAD "\"operation\":\"CREATE\",\"object\":{\"spec\":{"
               "\"failureDeadline\":18446744073709552000}}}}"),
    M("real overflow in options",
      REQ_HEAD "\"operation\":\"CREATE\",\"options\":{\"x\":1e999},"
               "\"object\":" SNAP_OBJ "}}"),
    M("a 70-digit number",
      REQ_HEAD "\"operation\":\"CREATE\",\"options\":"
               "[1234567890123456789012345678901234567890123456"
               "789012345678901234567890]}}"),
    M("bad UTF-8 in a skipped string",
      REQ_HEAD "\"operation\":\"CREATE\",\"requestKind\":\"\xff\"}}"),
    M("bad UTF-8 in a skipped key",
      REQ_HEAD "\"operation\":\"CREATE\",\"options\":{\"\xc0\xaf\":1}}}"),
    M("non-ASCII name",
      REQ_HEAD "\"operation\":\"CREATE\",\"name\":\"caf\xc3\xa9\",\"object\":"
               "{\"spec\":{\"source\":{}}}}}"),
    M("lone surrogate escape",
      REQ_HEAD "\"operation\":\"CREATE\",\"x\":\"\\ud800\"}}"),
    M("\\v between tokens", REQ_HEAD "\"operation\":\v\"CREATE\"}}"),
    M("garbage after the document", "{\"request\":{\"uid\":\"u\"}} x"),
    M("an open string after the document", "{\"request\":{}} \"abc"),
    M("deep nesting in options", REQ_HEAD
      "\"options\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]],\"operation\":\"CREATE\"}}"),
    M("subResource set",
      REQ_HEAD "\"operation\":\"UPDATE\",\"subResource\":\"status\",\"object\":"
               "{},\"oldObject\":{}}}"),
    M("v1beta1", "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"request\":{"
                 "\"uid\":\"u\"}}"),
#undef M
};

Test(webhook_review_same, malformed_bodies)
{
    for (size_t i = 0; i < sizeof(malformed) / sizeof(*malformed); i++)
        same_and_truncated(malformed[i].name, malformed[i].body,
                           malformed[i].len);
}
