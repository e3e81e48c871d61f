/* tests/webhook/review.c - decoding and encoding AdmissionReviews: the
 * response shape, recorded kube-apiserver requests, and every kind of
 * malformed input (no crash, no leak, the right error). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/store.h"
#include "webhook/admission.h"
#include "webhook/review.h"
#include "kube/file.h"

static struct wh_policy *pol;

static void setup(void)
{
    cr_assert_eq(wh_policy_default(&pol), 0);
}

static void teardown(void)
{
    wh_policy_unref(pol);
}

TestSuite(webhook_review, .init = setup, .fini = teardown);

/* Runs body; returns handle's rc and the parsed output in *out. */
static int run(json_t **out, struct wh_outcome *oc, enum wh_endpoint ep,
               const char *resource, const char *body, size_t len,
               struct kube_err *err)
{
    struct wh_env env = {.policy = pol};
    struct wh_route route = {ep, resource};
    char *text = NULL;
    size_t n = 0;
    int rc = wh_review_handle(&text, &n, oc, &route, body, len, &env, err);

    *out = NULL;
    if (rc == 0) {
        cr_assert_eq(strlen(text), n);
        *out = json_loads(text, 0, NULL);
        cr_assert(*out, "output is not JSON: %s", text);
    }
    free(text);
    return rc;
}

static json_t *run_file(struct wh_outcome *oc, enum wh_endpoint ep,
                        const char *resource, const char *path)
{
    struct kube_err err = {0, ""};
    char *body = NULL;
    size_t len = 0;
    json_t *out;

    cr_assert_eq(kube_file_read(&body, &len, path, 1 << 20, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(run(&out, oc, ep, resource, body, len, &err), 0, "%s",
                 err.msg);
    free(body);
    return out;
}

#define DATA "tests/data/webhook/"

static const struct {
    const char *file, *resource;
    enum wh_endpoint ep;
    int allowed, patched;
    const char *message; /* substring when denied */
} recorded[] = {
    {"admissionreview-create-vmsnapshot.json", "virtualmachinesnapshots",
     WH_EP_VALIDATE, 1, 0, NULL},
    {"admissionreview-create-vmsnapshot.mutating.json",
     "virtualmachinesnapshots", WH_EP_MUTATE, 1, 1, NULL},
    {"admissionreview-create-dryrun.json", "virtualmachinesnapshots",
     WH_EP_VALIDATE, 1, 0, NULL},
    {"admissionreview-create-vmrestore.json", "virtualmachinerestores",
     WH_EP_VALIDATE, 1, 0, NULL},
    {"admissionreview-update-label.json", "virtualmachinesnapshots",
     WH_EP_VALIDATE, 1, 0, NULL},
    {"admissionreview-update-remove-finalizer.json", "virtualmachinesnapshots",
     WH_EP_VALIDATE, 1, 0, NULL},
    {"admissionreview-update-status-subresource.json",
     "virtualmachinesnapshots", WH_EP_VALIDATE, 1, 0, NULL},
    {"admissionreview-update-apply.json", "virtualmachinesnapshots",
     WH_EP_VALIDATE, 0, 0, "spec: spec is immutable after creation"},
    {"admissionreview-delete-vmsnapshot.json", "virtualmachinesnapshots",
     WH_EP_VALIDATE, 1, 0, NULL},
};

Test(webhook_review, recorded_requests)
{
    for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++) {
        struct wh_outcome oc;
        char path[256];
        json_t *out, *resp;

        snprintf(path, sizeof(path), DATA "%s", recorded[i].file);
        out = run_file(&oc, recorded[i].ep, recorded[i].resource, path);
        resp = json_object_get(out, "response");
        cr_expect_str_eq(kube_json_str0(out, "apiVersion"),
                         "admission.k8s.io/v1", "%s", recorded[i].file);
        cr_expect_str_eq(kube_json_str0(out, "kind"), "AdmissionReview");
        cr_expect_str_eq(kube_json_str0(resp, "uid"), oc.uid, "%s",
                         recorded[i].file);
        cr_expect_eq(json_is_true(json_object_get(resp, "allowed")),
                     recorded[i].allowed, "%s", recorded[i].file);
        cr_expect_eq(json_object_get(resp, "patch") != NULL,
                     recorded[i].patched, "%s", recorded[i].file);
        if (recorded[i].message)
            cr_expect(strstr(kube_json_str0(resp, "status.message"),
                             recorded[i].message),
                      "%s", recorded[i].file);
        json_decref(out);
    }
}

Test(webhook_review, denial_shape_for_kubectl)
{
    struct wh_outcome oc;
    json_t *out = run_file(&oc, WH_EP_VALIDATE, NULL,
                           DATA "admissionreview-update-apply.json");
    json_t *st = kube_json_path(out, "response.status");
    json_t *cause = json_array_get(kube_json_path(st, "details.causes"), 0);

    cr_expect_str_eq(kube_json_str0(st, "status"), "Failure");
    cr_expect_str_eq(kube_json_str0(st, "reason"), "Invalid");
    cr_expect_eq(json_integer_value(json_object_get(st, "code")), 422);
    cr_expect_str_eq(kube_json_str0(st, "details.kind"),
                     "VirtualMachineSnapshot");
    cr_expect_str_eq(kube_json_str0(st, "details.name"), "my-vmsnapshot");
    cr_expect_str_eq(kube_json_str0(st, "details.group"),
                     "snapshot.kubevirt.io");
    cr_expect_str_eq(kube_json_str0(cause, "reason"), "FieldValueInvalid");
    cr_expect_null(json_object_get(cause, "type"), "kube-apiserver drops it");
    cr_expect_eq(oc.allowed, 0);
    cr_expect_eq(oc.code, 422);
    cr_expect_str_eq(oc.kind, "VirtualMachineSnapshot");
    cr_expect_str_eq(oc.operation, "UPDATE");
    json_decref(out);
}

Test(webhook_review, more_than_ten_causes_are_summarised)
{
    char body[8192] = "{\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\","
                      "\"resource\":{\"group\":\"snapshot.kubevirt.io\","
                      "\"resource\":\"virtualmachinesnapshotcontents\"},"
                      "\"userInfo\":{\"username\":\"system:serviceaccount:"
                      "vmsnapd-system:vmsnapd\"},\"object\":{\"spec\":{"
                      "\"source\":{\"virtualMachine\":{}},\"volumeBackups\":[";
    struct kube_err err;
    struct wh_outcome oc;
    json_t *out;

    for (int i = 0; i < 6; i++)
        strcat(body, i ? ",{}" : "{}"); /* 12 causes */
    strcat(body, "]}}}}");
    cr_assert_eq(run(&out, &oc, WH_EP_VALIDATE, NULL, body, strlen(body), &err),
                 0);
    cr_expect(strstr(kube_json_str0(out, "response.status.message"),
                     ", and 2 more validation errors"),
              "%s", kube_json_str0(out, "response.status.message"));
    cr_expect_eq(
        json_array_size(kube_json_path(out, "response.status.details.causes")),
        12);
    json_decref(out);
}

Test(webhook_review, v1beta1_is_answered_in_kind)
{
    const char *body =
        "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"request\":{\"uid\":"
        "\"u1\",\"operation\":\"DELETE\",\"resource\":{\"group\":"
        "\"snapshot.kubevirt.io\",\"resource\":\"virtualmachinerestores\"},"
        "\"oldObject\":{\"spec\":{}}}}";
    struct kube_err err;
    struct wh_outcome oc;
    json_t *out;

    cr_assert_eq(run(&out, &oc, WH_EP_VALIDATE, NULL, body, strlen(body), &err),
                 0);
    cr_expect_str_eq(kube_json_str0(out, "apiVersion"),
                     "admission.k8s.io/v1beta1");
    json_decref(out);
}

/* Bodies that are not AdmissionReviews: no uid to answer. */
static const struct {
    const char *name, *body, *message;
} not_reviews[] = {
    {"empty body", "", "not an AdmissionReview: invalid JSON"},
    {"not JSON", "hello", "not an AdmissionReview: invalid JSON at line 1"},
    {"truncated", "{\"request\":{\"uid\":\"a\"", "invalid JSON"},
    {"an array", "[1,2]", "no \"request\" object"},
    {"a string", "\"x\"", "invalid JSON"},
    {"request is a string", "{\"request\":\"x\"}", "no \"request\" object"},
    {"no uid", "{\"request\":{}}", "request.uid is missing or empty"},
    {"empty uid", "{\"request\":{\"uid\":\"\"}}", "request.uid is missing"},
    {"uid is a number", "{\"request\":{\"uid\":7}}", "request.uid is missing"},
};

Test(webhook_review, not_a_review)
{
    for (size_t i = 0; i < sizeof(not_reviews) / sizeof(not_reviews[0]); i++) {
        struct kube_err err = {0, ""};
        struct wh_outcome oc;
        json_t *out;
        int rc = run(&out, &oc, WH_EP_VALIDATE, NULL, not_reviews[i].body,
                     strlen(not_reviews[i].body), &err);

        cr_expect_eq(rc, KUBE_EINVAL, "%s", not_reviews[i].name);
        cr_expect(strstr(err.msg, not_reviews[i].message), "%s: %s",
                  not_reviews[i].name, err.msg);
        json_decref(out);
    }
}

#define REQ(res, op, objkey, obj)                                              \
    "{\"request\":{\"uid\":\"u\",\"operation\":\"" op "\",\"resource\":{"      \
    "\"group\":\"snapshot.kubevirt.io\",\"version\":\"v1beta1\","              \
    "\"resource\":\"" res "\"},\"" objkey "\":" obj "}}"
#define SNAPS "virtualmachinesnapshots"
#define RESTORES "virtualmachinerestores"
#define CONTENTS "virtualmachinesnapshotcontents"

/* Reviews we can answer, with a 400 that names the problem. */
static const struct {
    const char *name, *body, *message;
} bad_requests[] = {
    {"unknown resource",
     "{\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"resource\":{"
     "\"group\":\"apps\",\"version\":\"v1\",\"resource\":\"deployments\"}}}",
     "unexpected resource {Group:apps Version:v1 Resource:deployments}"},
    {"no resource", "{\"request\":{\"uid\":\"u\"}}",
     "unexpected resource {Group: Version: Resource:}"},
    {"CONNECT", REQ(SNAPS, "CONNECT", "object", "{}"),
     "unexpected operation CONNECT"},
    {"no operation", REQ(SNAPS, "", "object", "{}"), "unexpected operation"},
    {"CREATE without object", REQ(SNAPS, "CREATE", "oldObject", "{}"),
     "request.object is missing"},
    {"UPDATE without oldObject", REQ(SNAPS, "UPDATE", "object", "{}"),
     "request.oldObject is missing"},
    {"DELETE without oldObject", REQ(SNAPS, "DELETE", "object", "{}"),
     "request.oldObject is missing"},
    {"object is an array", REQ(SNAPS, "CREATE", "object", "[]"),
     "the object is an array, not an object"},
    {"metadata is a string",
     REQ(SNAPS, "CREATE", "object", "{\"metadata\":\"x\"}"),
     "metadata: expected an object, got a string"},
    {"name is a number",
     REQ(SNAPS, "CREATE", "object", "{\"metadata\":{\"name\":1}}"),
     "metadata.name: expected a string, got an integer"},
    {"two fields wrong: the table's first is named",
     REQ(SNAPS, "CREATE", "object", "{\"metadata\":{\"uid\":1,\"name\":2}}"),
     "metadata.name: expected a string, got an integer"},
    /* spec is built whole: its objects keep every member */
    {"keys around the field's are not the field",
     REQ(SNAPS, "CREATE", "object",
         "{\"spec\":{\"source\":{\"names\":1,\"nam\":2,\"kine\":\"k\","
         "\"kind\":3}}}"),
     "spec.source.kind: expected a string, got an integer"},
    {"name wrong among many members",
     REQ(SNAPS, "CREATE", "object",
         "{\"spec\":{\"source\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,"
         "\"e\":5,\"name\":6}}}"),
     "spec.source.name: expected a string, got an integer"},
    {"labels are a list",
     REQ(SNAPS, "CREATE", "object",
         "{\"metadata\":{\"name\":null,\"labels\":[]}}"),
     "metadata.labels: expected an object, got an array"},
    {"spec is a string", REQ(SNAPS, "CREATE", "object", "{\"spec\":\"x\"}"),
     "cannot decode VirtualMachineSnapshot in request.object: spec: "
     "expected an object, got a string"},
    {"source is a string",
     REQ(SNAPS, "CREATE", "object", "{\"spec\":{\"source\":\"vm1\"}}"),
     "spec.source: expected an object, got a string"},
    {"source name is a number",
     REQ(SNAPS, "CREATE", "object", "{\"spec\":{\"source\":{\"name\":3}}}"),
     "spec.source.name: expected a string, got an integer"},
    {"deadline is a boolean",
     REQ(SNAPS, "CREATE", "object", "{\"spec\":{\"failureDeadline\":true}}"),
     "spec.failureDeadline: expected a string or a number, got a boolean"},
    {"deadline is an object",
     REQ(SNAPS, "CREATE", "object", "{\"spec\":{\"failureDeadline\":{}}}"),
     "spec.failureDeadline: expected a string or a number, got an object"},
    {"old object checked too",
     "{\"request\":{\"uid\":\"u\",\"operation\":\"UPDATE\",\"resource\":{"
     "\"group\":\"snapshot.kubevirt.io\",\"resource\":\"" SNAPS "\"},"
     "\"object\":{},\"oldObject\":{\"spec\":[]}}}",
     "in request.oldObject: spec: expected an object, got an array"},
    {"patches is a string",
     REQ(RESTORES, "CREATE", "object", "{\"spec\":{\"patches\":\"x\"}}"),
     "spec.patches: expected an array, got a string"},
    {"a patch is a number",
     REQ(RESTORES, "CREATE", "object", "{\"spec\":{\"patches\":[\"a\",2]}}"),
     "spec.patches[1]: expected a string, got an integer"},
    {"target is an array",
     REQ(RESTORES, "CREATE", "object", "{\"spec\":{\"target\":[]}}"),
     "spec.target: expected an object, got an array"},
    {"override labels is a list",
     REQ(RESTORES, "CREATE", "object",
         "{\"spec\":{\"volumeRestoreOverrides\":[{\"labels\":[]}]}}"),
     "spec.volumeRestoreOverrides[0].labels: expected an object, got an "
     "array"},
    {"status.complete is a string",
     REQ(RESTORES, "CREATE", "object", "{\"status\":{\"complete\":\"yes\"}}"),
     "status.complete: expected a boolean, got a string"},
    {"a backup is a string",
     REQ(CONTENTS, "CREATE", "object",
         "{\"spec\":{\"volumeBackups\":[\"x\"]}}"),
     "spec.volumeBackups[0]: expected an object, got a string"},
    {"backup pvc is a string",
     REQ(CONTENTS, "CREATE", "object",
         "{\"spec\":{\"volumeBackups\":[{\"persistentVolumeClaim\":\"p\"}]}}"),
     "spec.volumeBackups[0].persistentVolumeClaim: expected an object, got a "
     "string"},
};

Test(webhook_review, bad_requests_are_400)
{
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]);
         i++) {
        struct kube_err err = {0, ""};
        struct wh_outcome oc;
        json_t *out;
        int rc = run(&out, &oc, WH_EP_VALIDATE, NULL, bad_requests[i].body,
                     strlen(bad_requests[i].body), &err);
        const json_t *st = kube_json_path(out, "response.status");

        cr_assert_eq(rc, 0, "%s: %s", bad_requests[i].name, err.msg);
        cr_expect(json_is_false(kube_json_path(out, "response.allowed")), "%s",
                  bad_requests[i].name);
        cr_expect_eq(json_integer_value(json_object_get(st, "code")), 400, "%s",
                     bad_requests[i].name);
        cr_expect(
            strstr(kube_json_str0(st, "message"), bad_requests[i].message),
            "%s: %s", bad_requests[i].name, kube_json_str0(st, "message"));
        cr_expect_null(kube_json_path(out, "response.patch"));
        json_decref(out);
    }
}

Test(webhook_review, route_must_match_the_resource)
{
    const char *body = REQ(RESTORES, "DELETE", "oldObject", "{}");
    struct kube_err err;
    struct wh_outcome oc;
    json_t *out;

    cr_assert_eq(
        run(&out, &oc, WH_EP_VALIDATE, SNAPS, body, strlen(body), &err), 0);
    cr_expect_eq(
        json_integer_value(kube_json_path(out, "response.status.code")), 400);
    json_decref(out);
}

/* A 10 MiB body: a valid review with a huge annotation is answered; the
 * same amount of garbage is refused. Neither crashes nor leaks. */
Test(webhook_review, ten_mebibyte_bodies)
{
    size_t big = 10u << 20;
    const char *head = REQ(SNAPS, "DELETE", "oldObject",
                           "{\"metadata\":{\"annotations\":{\"a\":\"");
    const char *tail = "\"}}}}}";
    size_t hl = strlen(head) - 2, tl = strlen(tail); /* drop REQ's "}}" */
    char *body = malloc(hl + big + tl + 1);
    struct kube_err err = {0, ""};
    struct wh_outcome oc;
    json_t *out;

    cr_assert(body);
    memcpy(body, head, hl);
    memset(body + hl, 'x', big);
    memcpy(body + hl + big, tail, tl + 1);
    cr_expect_eq(
        run(&out, &oc, WH_EP_VALIDATE, NULL, body, hl + big + tl, &err), 0,
        "%s", err.msg);
    cr_expect(json_is_true(kube_json_path(out, "response.allowed")));
    json_decref(out);
    memset(body, '{', hl + big + tl);
    cr_expect_eq(
        run(&out, &oc, WH_EP_VALIDATE, NULL, body, hl + big + tl, &err),
        KUBE_EINVAL);
    free(body);
}

/* The tree entry point answers exactly as the text one, and leaves the
 * caller's review as it was (it is read, never changed). */
Test(webhook_review, tree_answers_as_text)
{
    struct wh_env env = {.policy = pol};
    struct wh_route route = {WH_EP_ALL, NULL};

    for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++) {
        struct kube_err err = {0, ""};
        struct wh_outcome oc, toc;
        char path[256], *body = NULL;
        size_t len = 0;
        json_t *text_out, *tree_out = NULL, *review, *before;

        snprintf(path, sizeof(path), DATA "%s", recorded[i].file);
        text_out = run_file(&oc, WH_EP_ALL, NULL, path);
        cr_assert_eq(kube_file_read(&body, &len, path, 1 << 20, &err), 0, "%s",
                     err.msg);
        review = json_loadb(body, len, 0, NULL);
        free(body);
        cr_assert(review, "%s", recorded[i].file);
        before = json_deep_copy(review);
        cr_assert_eq(
            wh_review_tree(&tree_out, &toc, &route, review, &env, &err), 0,
            "%s: %s", recorded[i].file, err.msg);
        cr_expect(json_equal(tree_out, text_out), "%s", recorded[i].file);
        cr_expect(json_equal(review, before), "%s: review changed",
                  recorded[i].file);
        cr_expect_eq(toc.allowed, oc.allowed, "%s", recorded[i].file);
        json_decref(before);
        json_decref(review);
        json_decref(tree_out);
        json_decref(text_out);
    }
}

Test(webhook_review, tree_not_a_review)
{
    struct wh_env env = {.policy = pol};
    struct wh_route route = {WH_EP_ALL, NULL};
    struct kube_err err = {0, ""};
    struct wh_outcome oc;
    json_t *review = json_pack("{s:{s:s}}", "request", "uid", ""), *out = NULL;

    cr_expect_eq(wh_review_tree(&out, &oc, &route, review, &env, &err),
                 KUBE_EINVAL);
    cr_expect_str_eq(err.msg,
                     "not an AdmissionReview: request.uid is missing or empty");
    cr_expect_null(out);
    json_decref(review);
}

/* What a kube-apiserver may send (issue 12, item 4): \u0000 in an
 * annotation and an integer past int64 in an object. Each is answered as
 * an AdmissionReview with the uid, and the DELETE guard still runs: the
 * incomplete restore in the store blocks the delete. */
#define NUL_ANNOTATION                                                         \
    "{\"metadata\":{\"name\":\"s1\",\"annotations\":{\"a\":\"x\\u0000y\"}}}"
#define BIG_INTEGER                                                            \
    "{\"metadata\":{\"name\":\"s1\"},\"status\":{\"n\":18446744073709552000}}"

Test(webhook_review, nul_and_big_integers_reach_the_delete_guard)
{
    static const char *const bodies[] = {
        "{\"request\":{\"uid\":\"u1\",\"operation\":\"DELETE\",\"name\":\"s1\","
        "\"namespace\":\"default\",\"resource\":{\"group\":"
        "\"snapshot.kubevirt.io\",\"resource\":\"" SNAPS "\"},"
        "\"oldObject\":" NUL_ANNOTATION "}}",
        "{\"request\":{\"uid\":\"u1\",\"operation\":\"DELETE\",\"name\":\"s1\","
        "\"namespace\":\"default\",\"resource\":{\"group\":"
        "\"snapshot.kubevirt.io\",\"resource\":\"" SNAPS "\"},"
        "\"oldObject\":" BIG_INTEGER "}}",
    };
    struct kube_store *store = NULL;
    struct wh_env env = {.policy = pol};
    struct wh_route route = {WH_EP_VALIDATE, NULL};

    cr_assert_eq(kube_store_new(&store), 0);
    cr_assert_eq(
        kube_store_put_new(
            store, json_pack("{s:s, s:{s:s, s:s}, s:{s:s}, s:{s:b}}", "kind",
                             "VirtualMachineRestore", "metadata", "name", "r1",
                             "namespace", "default", "spec",
                             "virtualMachineSnapshotName", "s1", "status",
                             "complete", 0)),
        0);
    env.store = store;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct kube_err err = {0, ""};
        struct wh_outcome oc;
        char *text = NULL;
        size_t n = 0;
        json_t *out = NULL;
        int rc = wh_review_handle(&text, &n, &oc, &route, bodies[i],
                                  strlen(bodies[i]), &env, &err);

        cr_expect_eq(rc, 0, "body %zu: %s", i, err.msg);
        if (rc == 0)
            out = json_loadb(text, n, 0, NULL);
        cr_expect_str_eq(kube_json_str0(out, "response.uid"), "u1", "body %zu",
                         i);
        cr_expect(json_is_false(kube_json_path(out, "response.allowed")),
                  "body %zu: the guard was skipped", i);
        cr_expect_eq(
            json_integer_value(kube_json_path(out, "response.status.code")),
            403, "body %zu", i);
        json_decref(out);
        free(text);
    }
    kube_store_free(store);
}

/* A denial cut to its buffer never ends in half a character: the answer
 * writer refuses text that is not UTF-8, and the user would read "out of
 * memory" instead of the rule's message. Same for warnings. */
Test(webhook_answer, cut_on_a_character_boundary)
{
    struct wh_answer a = {0};
    char big[2048];
    json_t *s;

    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof(big) - 2] = '\0';
    /* 1023 bytes kept: 511 é and the lead of the next */
    wh_deny(&a, 400, "BadRequest", "%s", big);
    s = json_string(a.message);
    cr_expect_not_null(s, "the cut message is not UTF-8");
    cr_expect_eq(strlen(a.message), sizeof(a.message) - 2);
    json_decref(s);
    a.warnings = json_array();
    cr_assert_eq(wh_warn(&a, "y%s", big), 0);
    s = json_string(json_string_value(json_array_get(a.warnings, 0)));
    cr_expect_not_null(s, "the cut warning is not UTF-8");
    json_decref(s);
    json_decref(a.warnings);
}

/* A warning's control bytes and DEL become spaces, at every place of the
 * eight-byte words it is looked at in and past the last one; other
 * bytes, non-ASCII included, are kept; a repeat is dropped. */
Test(webhook_answer, warning_control_bytes_at_each_place)
{
    static const char *const odd[] = {"\x01", "\n", "\x1f", "\x7f", "\xc3\xa9"};
    char text[32], want[32];

    for (size_t k = 0; k < sizeof(odd) / sizeof(*odd); k++) {
        for (size_t len = 1; len <= 20; len++) {
            for (size_t at = 0; at + strlen(odd[k]) <= len; at++) {
                struct wh_answer a = {0};
                size_t n = strlen(odd[k]);

                memset(text, '~', len);
                memcpy(text + at, odd[k], n);
                text[len] = '\0';
                memcpy(want, text, len + 1);
                if (n == 1)
                    want[at] = ' ';
                a.warnings = json_array();
                cr_assert_eq(wh_warn(&a, "%s", text), 0);
                cr_assert_eq(wh_warn(&a, "%s", text), 0);
                cr_expect_eq(json_array_size(a.warnings), 1);
                cr_expect_str_eq(
                    json_string_value(json_array_get(a.warnings, 0)), want,
                    "row %zu, length %zu, at %zu", k, len, at);
                json_decref(a.warnings);
            }
        }
    }
}

#define TEN "0123456789"
#define HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN

/* A warning without arguments is copied, not formatted: the same text,
 * cut to the API's 120 bytes, as with one; "%%" still formats. */
Test(webhook_answer, warning_without_arguments)
{
    struct wh_answer a = {0};

    a.warnings = json_array();
    cr_assert_eq(wh_warn(&a, "plain\tno arguments"), 0);
    cr_assert_eq(wh_warn(&a, "100%% sure"), 0);
    cr_assert_eq(wh_warn(&a, HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED "x"), 0);
    cr_assert_eq(json_array_size(a.warnings), 3);
    cr_expect_str_eq(json_string_value(json_array_get(a.warnings, 0)),
                     "plain no arguments");
    cr_expect_str_eq(json_string_value(json_array_get(a.warnings, 1)),
                     "100% sure");
    cr_expect_str_eq(json_string_value(json_array_get(a.warnings, 2)),
                     HUNDRED "01234567890123456789");
    json_decref(a.warnings);
}
