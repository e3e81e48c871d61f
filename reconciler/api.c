/* reconciler/api.c - requests with cancel and metrics, status writes,
 * finalizer and owner patches, events. */
#include "reconciler/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube/json.h"
#include "kube/log.h"
#include "kube/metatime.h"
#include "reconciler/controllers.h"

const struct kube_gvr rc_gvr_vm = {"kubevirt.io", "v1", "virtualmachines"};
const struct kube_gvr rc_gvr_vmi_sub = {"subresources.kubevirt.io", "v1",
                                        "virtualmachineinstances"};
const struct kube_gvr rc_gvr_snapshot = {"snapshot.kubevirt.io", "v1beta1",
                                         "virtualmachinesnapshots"};
const struct kube_gvr rc_gvr_content = {"snapshot.kubevirt.io", "v1beta1",
                                        "virtualmachinesnapshotcontents"};
const struct kube_gvr rc_gvr_volsnap = {"snapshot.storage.k8s.io", "v1",
                                        "volumesnapshots"};
const struct kube_gvr rc_gvr_events = {"", "v1", "events"};
const struct kube_gvr rc_gvr_restore = {"snapshot.kubevirt.io", "v1beta1",
                                        "virtualmachinerestores"};
const struct kube_gvr rc_gvr_vm_sub = {"subresources.kubevirt.io", "v1",
                                       "virtualmachines"};
const struct kube_gvr rc_gvr_pvc = {"", "v1", "persistentvolumeclaims"};
const struct kube_gvr rc_gvr_dv = {"cdi.kubevirt.io", "v1beta1", "datavolumes"};

#define COMPONENT "snapshot-controller"

int rc_api_do(json_t **out, struct rc_call *c, struct kube_request *r,
              struct kube_status *st, struct kube_err *err)
{
    struct rc_env *env = c->ctx;
    struct kube_status local;
    int rc;

    if (!st)
        st = &local;
    kube_status_clear(st);
    r->cancel = c->cancel;
    rc = kube_client_do(out, env->client, r, st, err);
    rc_metrics_request(&env->metrics, r->method, st->http);
    return rc;
}

int rc_api_create(json_t **out, struct rc_call *c, const struct kube_gvr *gvr,
                  const char *ns, const json_t *obj, struct kube_err *err)
{
    struct kube_request r = {
        .method = "POST", .gvr = gvr, .ns = ns, .body = obj};
    struct kube_status st;
    json_t *got = NULL;
    int rc = rc_api_do(&got, c, &r, &st, err);

    if (rc == KUBE_ECONFLICT && kube_status_already_exists(&st))
        rc = KUBE_OK; /* made by an earlier pass */
    if (out)
        *out = got;
    else
        json_decref(got);
    return rc;
}

int rc_api_delete(struct rc_call *c, const struct kube_gvr *gvr, const char *ns,
                  const char *name, const char *uid, struct kube_err *err)
{
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion",
                  "v1", "propagationPolicy", "Background");
    struct kube_request r = {.method = "DELETE",
                             .gvr = gvr,
                             .ns = ns,
                             .name = name,
                             .idempotent = 1};
    int rc;

    if (!body)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    if (uid && json_object_set_new(body, "preconditions",
                                   json_pack("{s:s}", "uid", uid)) < 0) {
        json_decref(body);
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    }
    r.body = body;
    rc = rc_api_do(NULL, c, &r, NULL, err);
    json_decref(body);
    return rc == KUBE_ENOTFOUND ? KUBE_OK : rc;
}

/* PUT body (borrowed; NULL: none) to ns/name[/sub] (sub NULL: the
 * object). Idempotent: a whole object is guarded by its resourceVersion,
 * a virt-api action may be repeated. */
static int put_at(json_t **out, struct rc_call *c, const struct kube_gvr *gvr,
                  const char *ns, const char *name, const char *sub,
                  const json_t *body, struct kube_err *err)
{
    struct kube_request r = {
        .method = "PUT",
        .gvr = gvr,
        .ns = ns,
        .name = name,
        .subresource = sub,
        .body = body,
        .idempotent = 1,
    };

    return rc_api_do(out, c, &r, NULL, err);
}

int rc_api_update_status(json_t **out, struct rc_call *c,
                         const struct kube_gvr *gvr, const json_t *obj,
                         struct kube_err *err)
{
    return put_at(out, c, gvr, rc_meta_str(obj, "namespace"),
                  rc_meta_str(obj, "name"), "status", obj, err);
}

int rc_api_put_status(json_t **out, struct rc_call *c,
                      const struct kube_gvr *gvr, const json_t *obj,
                      json_t *status, struct kube_err *err)
{
    json_t *body = json_deep_copy(obj);
    int rc;

    if (!body || json_object_set(body, "status", status) < 0) {
        json_decref(body);
        return kube_err_set(err, KUBE_ENOMEM, "status: out of memory");
    }
    rc = rc_api_update_status(out, c, gvr, body, err);
    json_decref(body);
    return rc;
}

int rc_api_update(json_t **out, struct rc_call *c, const struct kube_gvr *gvr,
                  const json_t *obj, struct kube_err *err)
{
    return put_at(out, c, gvr, rc_meta_str(obj, "namespace"),
                  rc_meta_str(obj, "name"), NULL, obj, err);
}

int rc_api_put_sub(struct rc_call *c, const struct kube_gvr *gvr,
                   const char *ns, const char *name, const char *sub,
                   const json_t *body, struct kube_err *err)
{
    return put_at(NULL, c, gvr, ns, name, sub, body, err);
}

int rc_api_json_patch(struct rc_call *c, const struct kube_gvr *gvr,
                      const char *ns, const char *name, const json_t *ops,
                      struct kube_err *err)
{
    struct kube_request r = {
        .method = "PATCH",
        .gvr = gvr,
        .ns = ns,
        .name = name,
        .body = ops,
        .content_type = "application/json-patch+json",
    };

    return rc_api_do(NULL, c, &r, NULL, err);
}

const char *rc_meta_str(const json_t *obj, const char *field)
{
    return json_string_value(
        json_object_get(json_object_get(obj, "metadata"), field));
}

int rc_deleting(const json_t *obj)
{
    return rc_meta_str(obj, "deletionTimestamp") != NULL;
}

int rc_has_finalizer(const json_t *obj, const char *f)
{
    return kube_json_has_str(kube_json_path(obj, "metadata.finalizers"), f);
}

/* [test path == old (null when absent), replace (add when absent) path
 * with new]: optimistic concurrency on one list. Steals repl. */
static int patch_list_new(json_t **out, struct rc_call *c,
                          const struct kube_gvr *gvr, const json_t *obj,
                          const char *path, const char *key, json_t *repl,
                          struct kube_err *err)
{
    const json_t *old = json_object_get(json_object_get(obj, "metadata"), key);
    json_t *ops =
        json_pack("[{s:s, s:s, s:O}, {s:s, s:s, s:o}]", "op", "test", "path",
                  path, "value", old ? old : json_null(), "op",
                  old ? "replace" : "add", "path", path, "value", repl);
    struct kube_request r = {
        .method = "PATCH",
        .gvr = gvr,
        .ns = rc_meta_str(obj, "namespace"),
        .name = rc_meta_str(obj, "name"),
        .content_type = "application/json-patch+json",
    };
    int rc;

    if (!ops)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    r.body = ops;
    rc = rc_api_do(out, c, &r, NULL, err);
    json_decref(ops);
    /* a failed test is the server's generic 422: the list moved under us,
     * which is a conflict to re-read, not a bad request */
    return rc == KUBE_EINVAL ? KUBE_ECONFLICT : rc;
}

int rc_api_finalizer(json_t **out, struct rc_call *c,
                     const struct kube_gvr *gvr, const json_t *obj,
                     const char *f, int add, struct kube_err *err)
{
    const json_t *old =
        json_object_get(json_object_get(obj, "metadata"), "finalizers");
    json_t *list, *v;
    size_t i;
    int rc;

    if (out)
        *out = NULL;
    if (rc_has_finalizer(obj, f) == add)
        return KUBE_OK;
    list = json_array();
    if (!list)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    json_array_foreach(old, i, v)
    {
        if (!json_is_string(v) || strcmp(json_string_value(v), f) != 0)
            json_array_append(list, v);
    }
    if (add)
        json_array_append_new(list, json_string(f));
    rc = patch_list_new(out, c, gvr, obj, "/metadata/finalizers", "finalizers",
                        list, err);
    return rc == KUBE_ENOTFOUND && !add ? KUBE_OK : rc;
}

json_t *rc_owner_ref(const json_t *owner, int controller)
{
    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b}", "apiVersion",
                     json_string_value(json_object_get(owner, "apiVersion")),
                     "kind", json_string_value(json_object_get(owner, "kind")),
                     "name", rc_meta_str(owner, "name"), "uid",
                     rc_meta_str(owner, "uid"), "controller", controller,
                     "blockOwnerDeletion", 1);
}

int rc_api_drop_owner(struct rc_call *c, const struct kube_gvr *gvr,
                      const json_t *obj, const char *uid, struct kube_err *err)
{
    const json_t *old =
        json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    json_t *list = json_array(), *v;
    size_t i;

    if (!list)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    json_array_foreach(old, i, v)
    {
        const char *u = json_string_value(json_object_get(v, "uid"));
        if (!u || strcmp(u, uid) != 0)
            json_array_append(list, v);
    }
    if (json_array_size(list) == json_array_size(old)) {
        json_decref(list);
        return KUBE_OK;
    }
    return patch_list_new(NULL, c, gvr, obj, "/metadata/ownerReferences",
                          "ownerReferences", list, err);
}

void rc_time_now(char buf[32])
{
    kube_metatime_format(buf, 32, (int64_t)time(NULL) * 1000);
}

/* client-go's recorder names an event <object>.<nanoseconds in hex>. */
static json_t *event_new(const json_t *obj, const char *type,
                         const char *reason, const char *msg)
{
    char name[RC_NAME_MAX + 24], now[32];
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, sizeof(name), "%.200s.%llx", rc_meta_str(obj, "name"),
             (unsigned long long)ts.tv_sec * 1000000000ULL +
                 (unsigned long long)ts.tv_nsec);
    rc_time_now(now);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s?}, s:{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}, "
        "s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:i, s:s, s:s}",
        "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
        "namespace", rc_meta_str(obj, "namespace"), "involvedObject",
        "apiVersion", json_string_value(json_object_get(obj, "apiVersion")),
        "kind", json_string_value(json_object_get(obj, "kind")), "namespace",
        rc_meta_str(obj, "namespace"), "name", rc_meta_str(obj, "name"), "uid",
        rc_meta_str(obj, "uid"), "resourceVersion",
        rc_meta_str(obj, "resourceVersion"), "type", type, "reason", reason,
        "message", msg, "source", "component", COMPONENT, "firstTimestamp", now,
        "lastTimestamp", now, "count", 1, "reportingComponent", COMPONENT,
        "reportingInstance", "");
}

void rc_event(struct rc_call *c, const json_t *obj, const char *type,
              const char *reason, const char *fmt, ...)
{
    char msg[1024];
    struct kube_err err = {0};
    va_list ap;
    json_t *ev;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ev = event_new(obj, type, reason, msg);
    if (!ev || rc_api_create(NULL, c, &rc_gvr_events,
                             rc_meta_str(obj, "namespace"), ev, &err) < 0)
        kube_log(KUBE_LOG_WARN, "event not recorded", "{s:s, s:s?, s:s}",
                 "reason", reason, "name", rc_meta_str(obj, "name"), "error",
                 err.msg);
    json_decref(ev);
}
