/* webhook/vmcontent.c - VirtualMachineSnapshotContent. KubeVirt has no
 * webhook here; vmsnapd keeps contents the controller's own: only it
 * creates them, a bound content goes with its snapshot, and the spec
 * never changes. */
#include "webhook/admission.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "webhook/state.h"

static const struct wh_typecheck content_types[] = {
    {"spec.source", JSON_OBJECT, JSON_NULL},
    {"spec.source.virtualMachine", JSON_OBJECT, JSON_NULL},
    {"spec.virtualMachineSnapshotName", JSON_STRING, JSON_NULL},
    {"spec.volumeBackups", JSON_ARRAY, JSON_NULL},
    {"spec.volumeBackups[]", JSON_OBJECT, JSON_NULL},
    {"spec.volumeBackups[].volumeName", JSON_STRING, JSON_NULL},
    {"spec.volumeBackups[].persistentVolumeClaim", JSON_OBJECT, JSON_NULL},
    {NULL, JSON_NULL, JSON_NULL},
};

static int is_controller(const struct wh_req *r)
{
    return wh_policy_user_in(r->env->policy->controller_users, r->username,
                             r->groups);
}

/* Appends s to buf[*used..len), cut to what fits with its NUL. */
static void append(char *buf, size_t len, size_t *used, const char *s)
{
    size_t n = strlen(s);

    if (n > len - 1 - *used)
        n = len - 1 - *used;
    memcpy(buf + *used, s, n);
    *used += n;
    buf[*used] = '\0';
}

/* "a, b" of the policy's controller users, for messages, cut to len - 1
 * bytes as snprintf cuts (it cost more than the denial's message). */
static void users_text(char *buf, size_t len, char *const *users)
{
    size_t used = 0;

    append(buf, len, &used, users && users[0] ? "" : "nobody");
    for (size_t i = 0; users && users[i]; i++) {
        if (i > 0)
            append(buf, len, &used, ", ");
        append(buf, len, &used, users[i]);
    }
}

static int validate_create(struct wh_answer *a, const struct wh_req *r)
{
    const json_t *spec = json_object_get(r->object, "spec"), *b;
    char users[512];
    size_t i;

    if (!is_controller(r)) {
        users_text(users, sizeof(users), r->env->policy->controller_users);
        wh_deny(a, 403, "Forbidden",
                "VirtualMachineSnapshotContent objects are created by the "
                "snapshot controller only (content.controllerUsers: %s); "
                "create a VirtualMachineSnapshot instead",
                users);
        return KUBE_OK;
    }
    if (!kube_json_path(spec, "source.virtualMachine"))
        kube_fielderrs_required(&a->causes, "spec.source.virtualMachine", NULL);
    json_array_foreach(kube_json_path(spec, "volumeBackups"), i, b)
    {
        static const char *const need[] = {"volumeName",
                                           "persistentVolumeClaim", NULL};
        for (size_t k = 0; need[k]; k++) {
            char field[96];
            const json_t *v = kube_json_path(b, need[k]);
            if (v && !(json_is_string(v) && !*json_string_value(v)))
                continue;
            snprintf(field, sizeof(field), "spec.volumeBackups[%zu].%s", i,
                     need[k]);
            kube_fielderrs_required(&a->causes, field, NULL);
        }
    }
    return KUBE_OK;
}

/* DELETE: a content bound to a live snapshot goes with that snapshot. */
static int validate_delete(struct wh_answer *a, const struct wh_req *r)
{
    const char *snap =
        kube_json_str0(r->old_object, "spec.virtualMachineSnapshotName");
    json_t *s = NULL;
    int rc, bound;

    if (!*snap || is_controller(r) || wh_req_is_system_deleter(r) ||
        wh_state_namespace_terminating(r))
        return KUBE_OK;
    rc = wh_state_get_confirmed(&s, a, r, "VirtualMachineSnapshot", snap);
    if (rc == KUBE_ENOTFOUND || rc == KUBE_EUNAVAIL)
        return KUBE_OK; /* orphaned (or unknown): RBAC decides */
    if (rc < 0)
        return rc;
    bound = !kube_json_path(s, "metadata.deletionTimestamp");
    json_decref(s);
    if (bound)
        wh_deny(a, 403, "Forbidden",
                "VirtualMachineSnapshotContent \"%s\" is bound to "
                "VirtualMachineSnapshot \"%s\": delete the snapshot instead",
                r->name, snap);
    return KUBE_OK;
}

static int content_validate(struct wh_answer *a, const struct wh_req *r)
{
    switch (r->op) {
    case WH_CREATE:
        return validate_create(a, r);
    case WH_UPDATE:
        return wh_check_spec_immutable(a, r, &wh_kind_content);
    case WH_DELETE:
        return validate_delete(a, r);
    }
    return KUBE_ERR;
}

const struct wh_kind wh_kind_content = {
    .resource = "virtualmachinesnapshotcontents",
    .kind = "VirtualMachineSnapshotContent",
    .types = content_types,
    .duration_fields = NULL,
    .validate = content_validate,
    .mutate = NULL,
};
