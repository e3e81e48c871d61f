/* webhook/review.c - decoding an AdmissionReview v1, routing it to its
 * kind's rules, and encoding the answer kube-apiserver and kubectl expect
 * (vmsnapd-rules.md, "Response shape"). */
#include "webhook/review.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/jsonarena.h"
#include "kube/jsondec.h"
#include "kube/jsonw.h"
#include "kube/utf8.h"
#include "webhook/admission.h"

#define REVIEW_V1 "admission.k8s.io/v1"
#define ANSWER_MAX (64u << 20) /* causes and warnings are capped far below */

/* Copies src into a fixed outcome field, cut to fit. */
static void put(char *dst, size_t len, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= len)
        n = kube_utf8_prefix(src, len - 1); /* never half a character */
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static int parse_op(enum wh_op *op, const char *s)
{
    static const char *const names[] = {"CREATE", "UPDATE", "DELETE"};

    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *op = (enum wh_op)i;
            return KUBE_OK;
        }
    return KUBE_EINVAL;
}

/* The object the request is about, checked for JSON types. */
static int decode_object(const json_t **out, struct wh_answer *a,
                         const json_t *request, const char *key,
                         const struct wh_kind *k)
{
    const json_t *obj = json_object_get(request, key);
    char why[384];

    if (!obj || json_is_null(obj)) {
        wh_deny(a, 400, "BadRequest", "request.%s is missing", key);
        return KUBE_EINVAL;
    }
    if (wh_types_check(k, obj, why, sizeof(why)) < 0) {
        wh_deny(a, 400, "BadRequest", "cannot decode %s in request.%s: %s",
                k->kind, key, why);
        return KUBE_EINVAL;
    }
    *out = obj;
    return KUBE_OK;
}

static void decode_user(struct wh_req *r, const json_t *request)
{
    const json_t *user = kube_json_path(request, "userInfo");
    const json_t *groups = kube_json_path(user, "groups"), *g;
    size_t i, n = 0;

    r->username = kube_json_str0(user, "username");
    json_array_foreach(groups, i, g)
    {
        if (json_is_string(g) && n < WH_MAX_GROUPS)
            r->groups[n++] = json_string_value(g);
    }
    r->groups[n] = NULL;
}

/* The request's fields read before its decoding (run_begin's outcome),
 * so each is looked up once. */
struct head {
    const char *op; /* NULL when absent or not a string */
    const char *ns; /* likewise */
};

/* Fills r from request; on a request we cannot understand sets a 400 on a
 * and returns KUBE_EINVAL. *kind is the admitted kind's row. */
static int decode_request(struct wh_req *r, const struct wh_kind **kind,
                          struct wh_answer *a, const json_t *request,
                          const struct head *h, const struct wh_route *route)
{
    const json_t *resource = kube_json_path(request, "resource");
    const char *group = kube_json_str0(resource, "group");
    const char *res = kube_json_str0(resource, "resource");
    const char *op = h->op;
    const struct wh_kind *k =
        strcmp(group, WH_GROUP) ? NULL : wh_kind_find(res);

    if (!k || (route->resource && strcmp(route->resource, res) != 0)) {
        wh_deny(a, 400, "BadRequest",
                "unexpected resource {Group:%s Version:%s Resource:%s}", group,
                kube_json_str0(resource, "version"), res);
        return KUBE_EINVAL;
    }
    *kind = k;
    if (parse_op(&r->op, op) < 0) {
        wh_deny(a, 400, "BadRequest", "unexpected operation %s",
                op ? op : "(none)");
        return KUBE_EINVAL;
    }
    if (r->op != WH_DELETE &&
        decode_object(&r->object, a, request, "object", k) < 0)
        return KUBE_EINVAL;
    if (r->op != WH_CREATE &&
        decode_object(&r->old_object, a, request, "oldObject", k) < 0)
        return KUBE_EINVAL;
    r->ns = h->ns ? h->ns : "";
    r->name = kube_json_str0(request, "name");
    if (!*r->name)
        r->name = kube_json_str0(r->object ? r->object : r->old_object,
                                 "metadata.name");
    r->dry_run = kube_json_true(request, "dryRun");
    decode_user(r, request);
    return KUBE_OK;
}

static int exempt(const struct wh_req *r)
{
    return wh_policy_user_in(r->env->policy->exempt_namespaces, r->ns, NULL);
}

/* Runs the mutation and, for WH_EP_ALL, validates the mutated object, as
 * kube-apiserver would after applying our patch. */
static int run_rules(struct wh_answer *a, struct wh_req *r,
                     const struct wh_kind *k, enum wh_endpoint ep,
                     struct kube_err *err)
{
    json_t *mutated = NULL;
    int rc = KUBE_OK;

    if (ep != WH_EP_VALIDATE && k->mutate && r->op == WH_CREATE)
        rc = k->mutate(a, r);
    if (rc == KUBE_OK && ep == WH_EP_ALL && kube_patch_len(&a->patch)) {
        mutated = json_deep_copy(r->object);
        rc = mutated ? kube_patch_apply(&mutated, a->patch.ops, err)
                     : KUBE_ENOMEM;
        r->object = mutated;
    }
    if (rc == KUBE_OK && ep != WH_EP_MUTATE && k->validate)
        rc = k->validate(a, r);
    json_decref(mutated);
    r->object = NULL; /* it pointed into mutated, now gone */
    return rc;
}

/* One review's decoded request and the answer the rules filled: what
 * both outputs (a tree, or text) are made from. */
struct run {
    struct wh_answer a;
    struct wh_req r;
    const struct wh_kind *k; /* NULL when the kind was not understood */
};

/* Fills oc's verdict and *msg, the denial's status.message (malloc'd), or
 * NULL when allowed. KUBE_ENOMEM when the message cannot be made. */
static int verdict(char **msg, const struct run *x, struct wh_outcome *oc)
{
    const struct wh_answer *a = &x->a;
    int denied = a->code || kube_fielderrs_len(&a->causes);

    *msg = NULL;
    oc->allowed = !denied;
    oc->code = denied ? (a->code ? a->code : 422) : 200;
    if (!denied)
        return KUBE_OK;
    *msg = a->code ? strdup(a->message) : kube_fielderrs_message(&a->causes);
    return *msg ? KUBE_OK : KUBE_ENOMEM;
}

static json_t *status_json(const struct run *x, const char *message)
{
    const struct wh_answer *a = &x->a;
    json_t *st =
        json_pack("{s:{}, s:s, s:s, s:s, s:i}", "metadata", "status", "Failure",
                  "message", message, "reason", a->code ? a->reason : "Invalid",
                  "code", a->code ? a->code : 422);
    json_t *details;

    if (!st || !x->k)
        return st;
    details = json_pack("{s:s, s:s, s:s}", "name", x->r.name ? x->r.name : "",
                        "group", WH_GROUP, "kind", x->k->kind);
    if (details && !a->code)
        json_object_set_new(details, "causes",
                            kube_fielderrs_causes(&a->causes));
    json_object_set_new(st, "details", details);
    return st;
}

/* The response object for x. NULL on allocation failure. */
static json_t *response_json(const struct run *x, struct wh_outcome *oc)
{
    const struct wh_answer *a = &x->a;
    json_t *resp = json_pack("{s:s, s:b}", "uid", x->r.uid, "allowed",
                             !(a->code || kube_fielderrs_len(&a->causes)));
    char *msg = NULL;

    if (!resp || verdict(&msg, x, oc) < 0)
        goto fail;
    if (msg) {
        if (json_object_set_new(resp, "status", status_json(x, msg)))
            goto fail;
        put(oc->message, sizeof(oc->message), msg);
    } else if (kube_patch_len(&a->patch)) {
        char *b64 = kube_patch_base64(&a->patch);
        if (!b64 || json_object_set_new(resp, "patch", json_string(b64)) ||
            json_object_set_new(resp, "patchType", json_string("JSONPatch"))) {
            free(b64);
            goto fail;
        }
        free(b64);
        oc->patched = 1;
    }
    if (json_array_size(a->warnings))
        json_object_set(resp, "warnings", a->warnings);
    free(msg);
    return resp;
fail:
    free(msg);
    json_decref(resp);
    return NULL;
}

/* The apiVersion to answer in: the request's own when v1beta1; v1 is what
 * we register. */
static const char *answer_version(const json_t *review)
{
    const char *v = kube_json_str(review, "apiVersion");

    return v && strcmp(v, "admission.k8s.io/v1beta1") == 0 ? v : REVIEW_V1;
}

/* The response AdmissionReview for resp (stolen): a new reference, NULL
 * when out of memory. */
static json_t *answer_doc(const json_t *review, json_t *resp)
{
    return json_pack("{s:s, s:s, s:o}", "apiVersion", answer_version(review),
                     "kind", "AdmissionReview", "response",
                     resp); /* steals resp */
}

/* Decodes, runs the rules, and fills a; our own failures become a 500
 * denial, never an allow. */
static void admit(struct wh_answer *a, struct wh_req *r,
                  const struct wh_kind **k, const json_t *request,
                  const struct head *h, const struct wh_route *route,
                  struct wh_outcome *oc)
{
    struct kube_err err = {0, ""};
    int rc;

    if (decode_request(r, k, a, request, h, route) < 0)
        return;
    put(oc->kind, sizeof(oc->kind), (*k)->kind);
    put(oc->name, sizeof(oc->name), r->name);
    if (exempt(r) || *kube_json_str0(request, "subResource"))
        return; /* status writes and exempt namespaces pass untouched */
    rc = run_rules(a, r, *k, route->endpoint, &err);
    if (rc < 0)
        wh_deny(a, 500, "InternalError",
                "vmsnapd could not evaluate the "
                "request: %s",
                err.msg[0] ? err.msg : kube_strerror(rc));
    if (a->state_skipped &&
        wh_warn(a, "vmsnapd has no view of the cluster: rules that read "
                   "VMs, snapshots and restores were skipped") < 0)
        wh_deny(a, 500, "InternalError", "out of memory");
}

static int not_a_review(struct kube_err *err, const char *fmt, ...)
    KUBE_PRINTF(2, 3);
static int not_a_review(struct kube_err *err, const char *fmt, ...)
{
    char buf[KUBE_ERR_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return kube_err_set(err, KUBE_EINVAL, "not an AdmissionReview: %s", buf);
}

/* Reads review's request, runs admission and fills x and oc. Returns
 * KUBE_OK (x filled: run_end frees it), KUBE_EINVAL when review is not an
 * AdmissionReview, or KUBE_ENOMEM, both with err set and nothing to free. */
static int run_begin(struct run *x, struct wh_outcome *oc,
                     const struct wh_route *route, const json_t *review,
                     const struct wh_env *env, struct kube_err *err)
{
    const json_t *request = json_object_get(review, "request");
    struct head h;

    memset(oc, 0, sizeof(*oc));
    memset(x, 0, sizeof(*x));
    if (!json_is_object(request))
        return not_a_review(err, "no \"request\" object");
    x->r.uid = kube_json_str(request, "uid");
    if (!x->r.uid || !*x->r.uid)
        return not_a_review(err, "request.uid is missing or empty");
    x->r.env = env;
    put(oc->uid, sizeof(oc->uid), x->r.uid);
    h.op = kube_json_str(request, "operation");
    h.ns = kube_json_str(request, "namespace");
    put(oc->operation, sizeof(oc->operation), h.op);
    put(oc->ns, sizeof(oc->ns), h.ns);
    kube_fielderrs_init(&x->a.causes);
    x->a.warnings = json_array();
    if (kube_patch_init(&x->a.patch) < 0 || !x->a.warnings) {
        kube_patch_free(&x->a.patch);
        json_decref(x->a.warnings);
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    }
    admit(&x->a, &x->r, &x->k, request, &h, route, oc);
    return KUBE_OK;
}

static void run_end(struct run *x)
{
    kube_patch_free(&x->a.patch);
    kube_fielderrs_free(&x->a.causes);
    json_decref(x->a.warnings);
}

int wh_review_tree(json_t **out, struct wh_outcome *oc,
                   const struct wh_route *route, const json_t *review,
                   const struct wh_env *env, struct kube_err *err)
{
    struct run x;
    json_t *resp;
    int rc = run_begin(&x, oc, route, review, env, err);

    if (rc < 0)
        return rc;
    resp = response_json(&x, oc);
    *out = resp ? answer_doc(review, resp) : NULL;
    run_end(&x);
    if (!*out)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    return KUBE_OK;
}

/* response_json's status, written: "status":{...} after a comma.
 * Returns 0, or non-zero when a string is not UTF-8 (status_json fails
 * then). */
static int write_status(struct kube_buf *b, const struct run *x,
                        const char *msg)
{
    const struct wh_answer *a = &x->a;
    json_t *causes;
    int bad;

    kube_buf_adds(b, ",\"status\":{\"metadata\":{},\"status\":\"Failure\","
                     "\"message\":");
    bad = kube_jsonw_strz(b, msg);
    kube_buf_adds(b, ",\"reason\":");
    bad |= kube_jsonw_strz(b, a->code ? a->reason : "Invalid");
    kube_buf_adds(b, ",\"code\":");
    kube_jsonw_int(b, a->code ? a->code : 422);
    if (x->k) {
        /* the request's strings are UTF-8 (jansson checked them): the
         * tree would drop details on a failure here, never happening */
        kube_buf_adds(b, ",\"details\":{\"name\":");
        kube_jsonw_strz(b, x->r.name ? x->r.name : "");
        kube_buf_adds(b, ",\"group\":\"" WH_GROUP "\",\"kind\":");
        kube_jsonw_strz(b, x->k->kind);
        /* the tree leaves causes out when they cannot be made */
        causes = a->code ? NULL : kube_fielderrs_causes(&a->causes);
        if (causes) {
            kube_buf_adds(b, ",\"causes\":");
            kube_jsonw_value(b, causes);
        }
        json_decref(causes);
        kube_buf_adds(b, "}");
    }
    kube_buf_adds(b, "}");
    return bad;
}

/* answer_doc(review, response_json(x)) as compact text, written
 * directly. Returns 0, or a negative code when a string is not UTF-8 or
 * memory ran out (the tree fails on both too). */
static int write_answer(struct kube_buf *b, const struct run *x,
                        const json_t *review, struct wh_outcome *oc)
{
    const struct wh_answer *a = &x->a;
    char *msg = NULL, *b64;
    int rc = verdict(&msg, x, oc);

    if (rc < 0)
        return rc;
    kube_buf_adds(b, "{\"apiVersion\":");
    kube_jsonw_strz(b, answer_version(review));
    kube_buf_adds(b, ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":");
    rc = kube_jsonw_strz(b, x->r.uid);
    kube_buf_adds(b, msg ? ",\"allowed\":false" : ",\"allowed\":true");
    if (rc < 0) {
        /* json_pack refuses the uid too */
    } else if (msg && write_status(b, x, msg) == 0) {
        put(oc->message, sizeof(oc->message), msg);
    } else if (msg) {
        rc = KUBE_EINVAL;
    } else if (kube_patch_len(&a->patch)) {
        b64 = kube_patch_base64(&a->patch);
        kube_buf_adds(b, ",\"patch\":");
        rc = b64 ? kube_jsonw_strz(b, b64) : KUBE_ENOMEM;
        kube_buf_adds(b, ",\"patchType\":\"JSONPatch\"");
        free(b64);
        oc->patched = rc == KUBE_OK;
    }
    if (json_array_size(a->warnings)) {
        kube_buf_adds(b, ",\"warnings\":");
        kube_jsonw_value(b, a->warnings);
    }
    free(msg);
    return rc < 0 ? rc : kube_buf_adds(b, "}}");
}

/* What the rules, their type checks and the answer read of an
 * AdmissionReview: the request's header and userInfo; of the objects
 * the metadata the type checks name, spec whole (rules and the
 * immutability check compare it), status.complete. The rest (managedFields,
 * annotations, requestKind, options...) is checked, never built. A rule
 * that reads another member adds it here; tests/webhook/review_same.c
 * fails until it does, when a body in tests/data carries that member. */
static const struct kube_json_keep object_meta[] = {
    {"name", NULL, 0},   {"namespace", NULL, 0},         {"uid", NULL, 0},
    {"labels", NULL, 0}, {"deletionTimestamp", NULL, 0}, {NULL, NULL, 0},
};
static const struct kube_json_keep object_status[] = {
    {"complete", NULL, 0},
    {NULL, NULL, 0},
};
static const struct kube_json_keep object_members[] = {
    {"metadata", object_meta, 0},
    {"spec", NULL, 0},
    {"status", object_status, 0},
    {NULL, NULL, 0},
};
static const struct kube_json_keep request_members[] = {
    {"uid", NULL, 0},
    {"resource", NULL, 0},
    {"operation", NULL, 0},
    {"name", NULL, 0},
    {"namespace", NULL, 0},
    {"subResource", NULL, 0},
    {"userInfo", NULL, 0},
    {"dryRun", NULL, 0},
    {"object", object_members, 0},
    {"oldObject", object_members, 0},
    {NULL, NULL, 0},
};
static const struct kube_json_keep review_members[] = {
    {"apiVersion", NULL, 0},
    {"request", request_members, 0},
    {NULL, NULL, 0},
};

/* wh_review_handle inside the arena scope: the body decoded, reviewed,
 * and the answer written as text into malloc'd memory. */
static int review(char **out, size_t *outlen, struct wh_outcome *oc,
                  const struct wh_route *route, const char *body, size_t len,
                  const struct wh_env *env, struct kube_err *err)
{
    json_error_t jerr;
    json_t *review = kube_json_decode_keep(body, len, review_members, &jerr);
    struct kube_buf text;
    struct run x;
    int rc;

    if (!review) {
        memset(oc, 0, sizeof(*oc));
        return not_a_review(err, "invalid JSON at line %d column %d: %s",
                            jerr.line, jerr.column, jerr.text);
    }
    rc = run_begin(&x, oc, route, review, env, err);
    if (rc == KUBE_OK) {
        kube_buf_init(&text, 1024, ANSWER_MAX);
        rc = write_answer(&text, &x, review, oc);
        *out = rc == KUBE_OK ? kube_buf_take(&text, outlen) : NULL;
        kube_buf_free(&text, 0);
        run_end(&x);
        if (rc < 0) /* as the tree fails: json_pack refuses bad UTF-8 */
            rc = kube_err_set(err, KUBE_ENOMEM, "out of memory");
    }
    kube_json_arena_drop(review); /* made in this scope, read-only */
    return rc;
}

/* One arena scope per review (kube/jsonarena.h); the answer leaves it
 * in malloc'd memory (kube_buf). */
int wh_review_handle(char **out, size_t *outlen, struct wh_outcome *oc,
                     const struct wh_route *route, const char *body, size_t len,
                     const struct wh_env *env, struct kube_err *err)
{
    int rc;

    kube_json_arena_begin();
    rc = review(out, outlen, oc, route, body, len, env, err);
    kube_json_arena_end();
    return rc;
}
