/* tests/webhook/harness.c - see harness.h. */
#include "tests/webhook/harness.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/base64.h"
#include "kube/jsonarena.h"
#include "kube/patch.h"
#include "kube/project.h"
#include "kube/store.h"

/* Every unit test process runs jansson through the arena-aware allocator,
 * as vmsnapd does, so the rule tests exercise review's arena scope. A
 * constructor runs before main, so before any thread. */
__attribute__((constructor)) static void install_arena(void)
{
    kube_json_arena_install();
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

    cr_assert(v, "bad JSON in test: %s: %s", jerr.text, text);
    return v;
}

static json_t *build_review(const struct th_case *c)
{
    char group[64] = "snapshot.kubevirt.io";
    json_t *req = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s, s:[s]}}", "uid",
        "0d7f3b1e-1111-4222-8333-444455556666", "resource", "group", group,
        "version", "v1beta1", "resource", c->resource, "namespace", "default",
        "operation", c->op, "name", "", "userInfo", "username",
        c->user ? c->user : "alice", "groups", "system:authenticated");

    cr_assert(req);
    json_object_set_new(req, "object",
                        c->object ? parse(c->object) : json_null());
    json_object_set_new(req, "oldObject", c->old ? parse(c->old) : json_null());
    return json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.k8s.io/v1",
                     "kind", "AdmissionReview", "request", req);
}

/* A store of c's objects, each as the informers keep it when project is
 * set (kube_project); NULL when c has none. */
static struct kube_store *store_for(const struct th_case *c, int project)
{
    struct kube_store *store = NULL;
    json_t *objs, *o;
    size_t i;

    if (!c->objects)
        return NULL;
    objs = parse(c->objects);
    cr_assert_eq(kube_store_new(&store), 0);
    json_array_foreach(objs, i, o)
    {
        json_t *kept = project ? kube_project(o) : json_incref(o);
        cr_assert_eq(kube_store_put_new(store, kept), 0);
    }
    json_decref(objs);
    return store;
}

/* The response text for c, its objects projected or not. */
static char *run_once(const struct th_case *c, struct wh_outcome *oc,
                      int project)
{
    struct wh_policy *pol = NULL;
    struct kube_store *store = store_for(c, project);
    struct kube_err err = {0, ""};
    struct wh_route route = {c->endpoint, NULL};
    json_t *review = build_review(c);
    char *body = json_dumps(review, JSON_COMPACT), *res = NULL;
    size_t len = 0;

    if (c->policy)
        cr_assert_eq(wh_policy_load_buf(&pol, c->policy, strlen(c->policy),
                                        "policy.yaml", &err),
                     0, "policy: %s", err.msg);
    else
        cr_assert_eq(wh_policy_default(&pol), 0);
    struct wh_env env = {.policy = pol, .store = store};
    cr_assert_eq(wh_review_handle(&res, &len, oc, &route, body, strlen(body),
                                  &env, &err),
                 0, "handle: %s", err.msg);
    free(body);
    json_decref(review);
    kube_store_free(store);
    wh_policy_unref(pol);
    return res;
}

/* Every row with cluster objects runs twice, the second time with the
 * objects as serve's cache keeps them (kube/project.c): a projection that
 * drops a field a rule reads changes an answer, and fails here. */
json_t *th_run(const struct th_case *c, struct wh_outcome *oc)
{
    char *res = run_once(c, oc, 0);
    json_t *out = parse(res), *resp;

    if (c->objects) {
        struct wh_outcome poc;
        char *projected = run_once(c, &poc, 1);
        cr_expect_str_eq(projected, res,
                         "the cache's projection changed the answer");
        free(projected);
    }
    resp = json_incref(json_object_get(out, "response"));
    cr_assert(resp, "no response in %s", res);
    cr_assert_str_eq(json_string_value(json_object_get(resp, "uid")),
                     "0d7f3b1e-1111-4222-8333-444455556666");
    json_decref(out);
    free(res);
    return resp;
}

/* Appends s and a separator to a growing string. */
static char *append(char *acc, const char *s)
{
    size_t a = acc ? strlen(acc) : 0, n = strlen(s);
    char *r = realloc(acc, a + n + 2);

    cr_assert(r);
    memcpy(r + a, s, n);
    r[a + n] = '\n';
    r[a + n + 1] = '\0';
    return r;
}

static char *finish(char *acc)
{
    if (!acc)
        return strdup("");
    acc[strlen(acc) - 1] = '\0'; /* the last separator */
    return acc;
}

char *th_causes(const json_t *resp)
{
    json_t *causes = json_object_get(
        json_object_get(json_object_get(resp, "status"), "details"), "causes");
    json_t *c;
    size_t i;
    char *acc = NULL, line[1024];

    json_array_foreach(causes, i, c)
    {
        snprintf(line, sizeof(line), "%s|%s|%s",
                 json_string_value(json_object_get(c, "field")),
                 json_string_value(json_object_get(c, "reason")),
                 json_string_value(json_object_get(c, "message")));
        acc = append(acc, line);
    }
    return finish(acc);
}

char *th_warnings(const json_t *resp)
{
    json_t *w;
    size_t i;
    char *acc = NULL;

    json_array_foreach(json_object_get(resp, "warnings"), i, w) acc =
        append(acc, json_string_value(w));
    return finish(acc);
}

json_t *th_patch(const json_t *resp)
{
    const char *b64 = json_string_value(json_object_get(resp, "patch"));
    unsigned char *raw = NULL;
    size_t len = 0;
    json_t *p;

    if (!b64)
        return NULL;
    cr_assert_eq(kube_unbase64(&raw, &len, b64), 0);
    p = json_loadb((const char *)raw, len, 0, NULL);
    free(raw);
    cr_assert(p);
    return p;
}

void th_check(const char *name, const struct th_case *c,
              const struct th_expect *e)
{
    struct wh_outcome oc;
    json_t *resp = th_run(c, &oc);
    json_t *st = json_object_get(resp, "status");
    const char *msg = json_string_value(json_object_get(st, "message"));
    char *causes = th_causes(resp), *warns = th_warnings(resp);

    cr_expect_eq(json_is_true(json_object_get(resp, "allowed")), e->allowed,
                 "%s: allowed, message: %s", name, msg ? msg : "-");
    cr_expect_eq(oc.allowed, e->allowed, "%s: outcome", name);
    if (!e->allowed)
        cr_expect_eq(json_integer_value(json_object_get(st, "code")), e->code,
                     "%s: code", name);
    if (e->causes)
        cr_expect_str_eq(causes, e->causes, "%s: causes", name);
    if (e->message)
        cr_expect(msg && strstr(msg, e->message), "%s: message %s", name,
                  msg ? msg : "(none)");
    if (e->warning && !*e->warning)
        cr_expect_str_eq(warns, "", "%s: no warnings", name);
    else if (e->warning)
        cr_expect(strstr(warns, e->warning), "%s: warnings: %s", name, warns);
    free(causes);
    free(warns);
    json_decref(resp);
}
