/* tests/webhook/state.c - the state door with a fake live lookup: the
 * cache answers (a miss too) while fresh, a confirmed miss is read live,
 * and a stale cache or a failed read is a 503, never a decision. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/store.h"
#include "webhook/admission.h"
#include "webhook/state.h"

/* What the fake API server answers, and how often it was asked. */
struct fake {
    int synced; /* every kind's cache is fresh */
    int rc;     /* KUBE_OK: the object below; else this code */
    int calls;
};

#define STALE "its cache has not heard from the API server for over 100 ms"

static int fake_fresh(void *ctx, const char *kind, char *why, size_t len)
{
    (void)kind;
    snprintf(why, len, "%s", STALE);
    return ((struct fake *)ctx)->synced;
}

static int fake_get(json_t **out, void *ctx, const char *kind, const char *ns,
                    const char *name, struct kube_err *err)
{
    struct fake *f = ctx;

    f->calls++;
    if (f->rc == KUBE_OK) {
        *out =
            json_pack("{s:s, s:{s:s, s:s}, s:{s:s}}", "kind", kind, "metadata",
                      "name", name, "namespace", ns, "status", "phase", "live");
        return KUBE_OK;
    }
    if (f->rc == KUBE_ENOTFOUND)
        return kube_err_set(err, f->rc, "GET %s: 404 NotFound", name);
    return kube_err_set(err, f->rc, "connection refused");
}

static json_t *obj(const char *kind, const char *ns, const char *name)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "kind", kind, "metadata", "name",
                     name, "namespace", ns);
}

/* A request in namespace "ns" over a store holding VirtualMachine ns/cached
 * (and nothing else); lookup f, or none. */
struct door {
    struct kube_store *store;
    struct wh_lookup lk;
    struct wh_env env;
    struct wh_req req;
    struct wh_answer a;
};

static void door_init(struct door *d, struct fake *f, int with_store)
{
    memset(d, 0, sizeof(*d));
    if (with_store) {
        cr_assert_eq(kube_store_new(&d->store), 0);
        cr_assert_eq(
            kube_store_put_new(d->store, obj("VirtualMachine", "ns", "cached")),
            0);
    }
    d->lk = (struct wh_lookup){fake_fresh, fake_get, f};
    d->env = (struct wh_env){.store = d->store, .lookup = f ? &d->lk : NULL};
    d->req.ns = "ns";
    d->req.env = &d->env;
    kube_fielderrs_init(&d->a.causes);
    d->a.warnings = json_array();
}

static void door_free(struct door *d)
{
    kube_fielderrs_free(&d->a.causes);
    json_decref(d->a.warnings);
    kube_store_free(d->store);
}

#define UNREADABLE                                                             \
    "vmsnapd cannot read VirtualMachine ns/gone right now: connection "        \
    "refused; try again"

#define STALE_503(vm)                                                          \
    "vmsnapd cannot read VirtualMachine ns/" vm " right now: " STALE           \
    "; try again"

enum { PLAIN, CONFIRM };

static const struct {
    const char *name, *vm;
    int has_lookup, fresh, live_rc, confirm;
    int rc, calls, code, skipped; /* code: 0 or 503 */
    const char *message;          /* of the 503 */
} get_rows[] = {
    {"cached: no API call", "cached", 1, 1, KUBE_EUNAVAIL, PLAIN, KUBE_OK, 0, 0,
     0, NULL},
    {"miss in a fresh cache: not found, no API call (a lister's answer)",
     "gone", 1, 1, KUBE_OK, PLAIN, KUBE_ENOTFOUND, 0, 0, 0, NULL},
    {"confirmed miss, live GET finds it", "gone", 1, 1, KUBE_OK, CONFIRM,
     KUBE_OK, 1, 0, 0, NULL},
    {"confirmed miss, live GET 404: not found", "gone", 1, 1, KUBE_ENOTFOUND,
     CONFIRM, KUBE_ENOTFOUND, 1, 0, 0, NULL},
    {"confirmed miss, live GET fails: 503", "gone", 1, 1, KUBE_EUNAVAIL,
     CONFIRM, KUBE_EUNAVAIL, 1, 503, 0, UNREADABLE},
    {"cached in a stale cache: 503, never decided from stale data", "cached", 1,
     0, KUBE_OK, PLAIN, KUBE_EUNAVAIL, 0, 503, 0, STALE_503("cached")},
    {"confirmed read in a stale cache: 503", "cached", 1, 0, KUBE_OK, CONFIRM,
     KUBE_EUNAVAIL, 0, 503, 0, STALE_503("cached")},
    {"miss in a stale cache: 503", "gone", 1, 0, KUBE_ENOTFOUND, PLAIN,
     KUBE_EUNAVAIL, 0, 503, 0, STALE_503("gone")},
    {"store without lookup (review --objects): store only", "gone", 0, 0, 0,
     CONFIRM, KUBE_ENOTFOUND, 0, 0, 0, NULL},
};

Test(wh_state, get_table)
{
    for (size_t i = 0; i < sizeof(get_rows) / sizeof(get_rows[0]); i++) {
        struct fake f = {get_rows[i].fresh, get_rows[i].live_rc, 0};
        struct door d;
        json_t *got = NULL;
        int rc;

        door_init(&d, get_rows[i].has_lookup ? &f : NULL, 1);
        rc = get_rows[i].confirm
                 ? wh_state_get_confirmed(&got, &d.a, &d.req, "VirtualMachine",
                                          get_rows[i].vm)
                 : wh_state_get(&got, &d.a, &d.req, "VirtualMachine",
                                get_rows[i].vm);
        cr_expect_eq(rc, get_rows[i].rc, "%s: rc %d", get_rows[i].name, rc);
        cr_expect_eq(f.calls, get_rows[i].calls, "%s: %d calls",
                     get_rows[i].name, f.calls);
        cr_expect_eq(d.a.code, get_rows[i].code, "%s: code %d",
                     get_rows[i].name, d.a.code);
        cr_expect_eq(d.a.state_skipped, get_rows[i].skipped, "%s",
                     get_rows[i].name);
        if (rc == KUBE_OK)
            cr_expect_str_eq(kube_json_str0(got, "metadata.name"),
                             get_rows[i].vm, "%s", get_rows[i].name);
        if (get_rows[i].message) {
            cr_expect_str_eq(d.a.reason, "ServiceUnavailable", "%s",
                             get_rows[i].name);
            cr_expect_str_eq(d.a.message, get_rows[i].message, "%s",
                             get_rows[i].name);
        }
        json_decref(got);
        door_free(&d);
    }
}

Test(wh_state, no_store_skips_with_warning_flag)
{
    struct fake f = {1, KUBE_OK, 0};
    struct door d;
    json_t *got = NULL;

    door_init(&d, &f, 0);
    cr_expect_eq(wh_state_get(&got, &d.a, &d.req, "VirtualMachine", "x"),
                 KUBE_EUNAVAIL);
    cr_expect_eq(wh_state_list(&got, &d.a, &d.req, "VirtualMachine"),
                 KUBE_EUNAVAIL);
    cr_expect_eq(d.a.state_skipped, 1);
    cr_expect_eq(d.a.code, 0, "no cluster at all is a warning, not a 503");
    cr_expect_eq(f.calls, 0);
    door_free(&d);
}

Test(wh_state, list_needs_a_fresh_cache)
{
    struct fake f = {1, KUBE_OK, 0};
    struct door d;
    json_t *got = NULL;

    door_init(&d, &f, 1);
    cr_assert_eq(wh_state_list(&got, &d.a, &d.req, "VirtualMachine"), 0);
    cr_expect_eq(json_array_size(got), 1);
    json_decref(got);
    cr_expect_eq(d.a.code, 0);
    f.synced = 0;
    got = NULL;
    cr_expect_eq(wh_state_list(&got, &d.a, &d.req, "VirtualMachine"),
                 KUBE_EUNAVAIL);
    cr_expect_null(got);
    cr_expect_eq(d.a.code, 503);
    cr_expect_str_eq(d.a.message, "vmsnapd cannot read VirtualMachine ns/* "
                                  "right now: " STALE "; try again");
    cr_expect_eq(f.calls, 0, "a list is never read live");
    door_free(&d);
}

Test(wh_state, namespace_terminating_from_the_cache)
{
    struct fake f = {1, KUBE_OK, 0};
    struct door d;

    door_init(&d, &f, 1);
    /* not in a fresh cache: not terminating, and no API call */
    cr_expect_eq(wh_state_namespace_terminating(&d.req), 0);
    cr_expect_eq(f.calls, 0);
    cr_assert_eq(kube_store_put_new(
                     d.store, json_pack("{s:s, s:{s:s}, s:{s:s}}", "kind",
                                        "Namespace", "metadata", "name", "ns",
                                        "status", "phase", "Terminating")),
                 0);
    cr_expect_eq(wh_state_namespace_terminating(&d.req), 1);
    f.synced = 0;
    cr_expect_eq(wh_state_namespace_terminating(&d.req), 0,
                 "unknown (a stale cache) is not terminating");
    cr_expect_eq(d.a.code, 0, "and no 503 from here");
    door_free(&d);
}

/* Through wh_review_handle: the restore rules need the target VM; the
 * cache has not synced and the API server is gone. */
Test(wh_state, review_answers_503_never_allows)
{
    static const char body[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
        "\"request\":{\"uid\":\"u1\",\"operation\":\"CREATE\",\"namespace\":"
        "\"ns\",\"name\":\"r1\",\"resource\":{\"group\":\"snapshot.kubevirt."
        "io\",\"version\":\"v1beta1\",\"resource\":\"virtualmachinerestores\"}"
        ",\"userInfo\":{\"username\":\"alice\"},\"object\":{\"apiVersion\":"
        "\"snapshot.kubevirt.io/v1beta1\",\"kind\":\"VirtualMachineRestore\","
        "\"metadata\":{\"name\":\"r1\",\"namespace\":\"ns\"},\"spec\":{"
        "\"target\":{\"apiGroup\":\"kubevirt.io\",\"kind\":\"VirtualMachine\","
        "\"name\":\"vm1\"},\"virtualMachineSnapshotName\":\"s1\"}}}}";
    struct wh_route route = {WH_EP_VALIDATE, "virtualmachinerestores"};
    struct fake f = {0, KUBE_EUNAVAIL, 0};
    struct wh_policy *pol = NULL;
    struct kube_err err = {0, ""};
    struct wh_outcome oc;
    struct door d;
    char *out = NULL;
    size_t len = 0;
    json_t *doc, *resp;

    door_init(&d, &f, 1);
    cr_assert_eq(wh_policy_default(&pol), 0);
    d.env.policy = pol;
    cr_assert_eq(wh_review_handle(&out, &len, &oc, &route, body, strlen(body),
                                  &d.env, &err),
                 0, "%s", err.msg);
    doc = json_loads(out, 0, NULL);
    resp = json_object_get(doc, "response");
    cr_expect(json_is_false(json_object_get(resp, "allowed")), "%s", out);
    cr_expect_eq(json_integer_value(kube_json_path(resp, "status.code")), 503,
                 "%s", out);
    cr_expect_str_eq(kube_json_str0(resp, "status.reason"),
                     "ServiceUnavailable");
    cr_expect_str_eq(kube_json_str0(resp, "status.message"),
                     "vmsnapd cannot read VirtualMachineSnapshot ns/s1 right "
                     "now: " STALE "; try again");
    cr_expect_null(json_object_get(resp, "warnings"), "%s", out);
    json_decref(doc);
    free(out);
    wh_policy_unref(pol);
    door_free(&d);
}
