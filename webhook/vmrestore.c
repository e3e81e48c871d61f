/* webhook/vmrestore.c - VirtualMachineRestore: the target reference, the
 * snapshot name, patches, then what the cluster says (a usable, offline
 * snapshot; a stopped target; same VM or a new one), the spec's policies
 * and no other restore of the same target in progress. Causes keep the
 * order of vmsnapd-rules.md. */
#include "webhook/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/restoremsg.h"
#include "webhook/state.h"

#define SNAP_FIELD "spec.virtualMachineSnapshotName"

static const struct wh_typecheck restore_types[] = {
    {"spec.target", JSON_OBJECT, JSON_NULL},
    {"spec.target.apiGroup", JSON_STRING, JSON_NULL},
    {"spec.target.kind", JSON_STRING, JSON_NULL},
    {"spec.target.name", JSON_STRING, JSON_NULL},
    {"spec.virtualMachineSnapshotName", JSON_STRING, JSON_NULL},
    {"spec.patches", JSON_ARRAY, JSON_NULL},
    {"spec.patches[]", JSON_STRING, JSON_NULL},
    {"spec.volumeRestoreOverrides", JSON_ARRAY, JSON_NULL},
    {"spec.volumeRestoreOverrides[]", JSON_OBJECT, JSON_NULL},
    {"spec.volumeRestoreOverrides[].volumeName", JSON_STRING, JSON_NULL},
    {"spec.volumeRestoreOverrides[].restoreName", JSON_STRING, JSON_NULL},
    {"spec.volumeRestoreOverrides[].labels", JSON_OBJECT, JSON_NULL},
    {"spec.volumeRestoreOverrides[].annotations", JSON_OBJECT, JSON_NULL},
    {"spec.volumeRestorePolicy", JSON_STRING, JSON_NULL},
    {"spec.volumeOwnershipPolicy", JSON_STRING, JSON_NULL},
    {"spec.targetReadinessPolicy", JSON_STRING, JSON_NULL},
    {"status.complete", JSON_TRUE, JSON_NULL},
    {NULL, JSON_NULL, JSON_NULL},
};

/* What one restore CREATE reads, gathered once. */
struct restore_ctx {
    const struct wh_req *r;
    struct wh_answer *a;
    const json_t *spec;
    const char *vm;   /* spec.target.name */
    const char *snap; /* spec.virtualMachineSnapshotName */
    json_t *snapshot; /* new reference, or NULL when unknown */
    json_t *target;   /* new reference, or NULL when absent or unknown */
    int target_known; /* the store answered for the target */
};

/* A patch path a restore may touch, as KubeVirt allows. */
static int patch_path_ok(const char *path)
{
    static const char *const prefixes[] = {"/spec/", "/metadata/labels/",
                                           "/metadata/annotations/", NULL};

    for (size_t i = 0; path && prefixes[i]; i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* One operation object of a patch; shown is what the message quotes. */
static void check_patch_op(struct wh_answer *a, const json_t *op,
                           const char *shown)
{
    static const char *const ops[] = {"add",  "remove", "replace", "move",
                                      "copy", "test",   NULL};
    const json_t *name = json_object_get(op, "op");
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *from = json_string_value(json_object_get(op, "from"));

    if (!json_is_object(op) || !json_is_string(name) || !path)
        kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.patches",
                           "patch format is not valid: an operation needs "
                           "string \"op\" and \"path\": %s",
                           shown);
    else if (!kube_json_str_in(name, ops))
        kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.patches",
                           "patch format is not valid: unknown op \"%s\": %s",
                           json_string_value(name), shown);
    else if (!patch_path_ok(path) || (from && !patch_path_ok(from)))
        kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.patches",
                           "patching is valid only for elements under "
                           "/spec/ only: %s",
                           shown);
}

/* Step 3: every patch parsed as JSON, not split on ':' and ','. */
static void check_patches(struct wh_answer *a, const json_t *patches)
{
    const json_t *p;
    size_t i;

    json_array_foreach(patches, i, p)
    {
        const char *text = json_string_value(p);
        json_error_t jerr;
        json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);
        const json_t *op;
        size_t k;

        if (!doc)
            kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.patches",
                               "patch format is not valid: %s: %s", jerr.text,
                               text);
        else if (!json_is_array(doc))
            check_patch_op(a, doc, text);
        json_array_foreach(doc, k, op)
        {
            char *shown =
                kube_json_dump(op, JSON_COMPACT | JSON_ENCODE_ANY, NULL);
            check_patch_op(a, op, shown ? shown : text);
            free(shown);
        }
        json_decref(doc);
    }
}

/* Step 4: the snapshot must exist, not have failed, and be ready. */
static int check_snapshot(struct restore_ctx *c)
{
    int rc = wh_state_get(&c->snapshot, c->a, c->r, "VirtualMachineSnapshot",
                          c->snap);
    const char *s = c->snap;

    if (rc == KUBE_ENOTFOUND)
        return kube_fielderrs_add(&c->a->causes, KUBE_CAUSE_NOT_FOUND,
                                  SNAP_FIELD, KUBE_MSG_SNAPSHOT_MISSING, s);
    if (rc < 0)
        return rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    if (strcmp(kube_json_str0(c->snapshot, "status.phase"), "Failed") == 0)
        return kube_fielderrs_add(&c->a->causes, KUBE_CAUSE_INVALID, SNAP_FIELD,
                                  KUBE_MSG_SNAPSHOT_FAILED, s);
    if (!kube_json_true(c->snapshot, "status.readyToUse"))
        return kube_fielderrs_add(&c->a->causes, KUBE_CAUSE_INVALID, SNAP_FIELD,
                                  KUBE_MSG_SNAPSHOT_NOT_READY, s);
    return KUBE_OK;
}

/* Step 5: only an offline snapshot may be restored (policy). */
static int check_offline(struct restore_ctx *c)
{
    if (!c->snapshot || !c->r->env->policy->require_offline_snapshot)
        return KUBE_OK;
    if (!kube_snapshot_online(c->snapshot))
        return KUBE_OK;
    return kube_fielderrs_add(&c->a->causes, KUBE_CAUSE_INVALID, SNAP_FIELD,
                              KUBE_MSG_SNAPSHOT_ONLINE, c->snap);
}

/* Step 6: the target must be stopped (policy; KubeVirt <= v1.4). */
static int check_stopped(struct restore_ctx *c)
{
    const json_t *running = kube_json_path(c->target, "spec.running");
    const char *strategy = kube_json_str(c->target, "spec.runStrategy");
    struct wh_answer *a = c->a;
    json_t *vmi = NULL;
    int rc;

    if (!c->target || !c->r->env->policy->require_stopped_target)
        return KUBE_OK;
    if (json_is_true(running))
        goto not_stopped;
    if (running && strategy)
        return kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.target",
                                  KUBE_MSG_TARGET_RUNNING_AND_STRATEGY, c->vm);
    if (strategy && strcmp(strategy, "Halted") != 0)
        return kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.target",
                                  KUBE_MSG_TARGET_NOT_HALTED, c->vm, c->vm);
    rc = wh_state_get_confirmed(&vmi, a, c->r, "VirtualMachineInstance", c->vm);
    json_decref(vmi);
    if (rc == KUBE_OK)
        goto not_stopped;
    return rc == KUBE_ENOTFOUND || rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
not_stopped:
    return kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec.target",
                              KUBE_MSG_TARGET_NOT_STOPPED, c->vm, c->vm);
}

/* Whether the VM kept in the snapshot's content needs backend storage
 * (persistent TPM or EFI), which KubeVirt cannot copy to a new VM. */
static int needs_backend_storage(struct restore_ctx *c)
{
    const char *name =
        kube_json_str(c->snapshot, "status.virtualMachineSnapshotContentName");
    json_t *content = NULL;
    int yes;

    if (!name || wh_state_get(&content, c->a, c->r,
                              "VirtualMachineSnapshotContent", name) < 0)
        return 0;
    yes = kube_vm_needs_backend_storage(
        kube_json_path(content, "spec.source.virtualMachine"));
    json_decref(content);
    return yes;
}

/* Step 7: restore into the same VM, or copy into a new one. */
static int check_same_or_new(struct restore_ctx *c)
{
    const char *src = kube_json_str(c->snapshot, "status.sourceUID");
    struct wh_answer *a = c->a;

    if (!c->snapshot || !c->target_known)
        return KUBE_OK;
    if (c->target) {
        if (src && strcmp(src, kube_json_str0(c->target, "metadata.uid")))
            return kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID,
                                      SNAP_FIELD, KUBE_MSG_TARGET_DIFFERENT);
        return KUBE_OK;
    }
    if (!c->r->env->policy->allow_new_target)
        return kube_fielderrs_add(&a->causes, KUBE_CAUSE_FORBIDDEN,
                                  "spec.target",
                                  "VirtualMachine \"%s\" does not exist and "
                                  "policy restore.allowNewTarget forbids "
                                  "restoring into a new VM",
                                  c->vm);
    if (needs_backend_storage(c))
        return kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec",
                                  "Restore to a different VM is not "
                                  "supported when snapshotted VM has backend "
                                  "storage (persistent TPM or EFI)");
    return KUBE_OK;
}

/* Step 8: volumeRestoreOverrides[i] with KubeVirt's messages. */
static void check_overrides(struct wh_answer *a, const json_t *list)
{
    const json_t *o;
    size_t i;

    json_array_foreach(list, i, o)
    {
        char field[96];
        snprintf(field, sizeof(field), "spec.volumeRestoreOverrides[%zu]", i);
        if (!*kube_json_str0(o, "volumeName")) {
            char vf[128];
            snprintf(vf, sizeof(vf), "%s.volumeName", field);
            kube_fielderrs_add(&a->causes, KUBE_CAUSE_REQUIRED, vf,
                               "must provide a volume name");
        }
        /* an empty map counts as present, as in KubeVirt */
        if (!*kube_json_str0(o, "restoreName") &&
            !json_is_object(json_object_get(o, "labels")) &&
            !json_is_object(json_object_get(o, "annotations")))
            kube_fielderrs_add(&a->causes, KUBE_CAUSE_REQUIRED, field,
                               "must provide at least one overriden field");
    }
}

/* Step 8: the spec's enumerated policies. */
static void check_policies(struct wh_answer *a, const json_t *spec)
{
    static const char *const volume[] = {"InPlace", "RandomizeNames",
                                         "PrefixTargetName", NULL};
    static const char *const owner[] = {"Vm", "None", NULL};
    static const char *const ready[] = {"StopTarget", "WaitGracePeriod",
                                        "FailImmediate", "WaitEventually",
                                        NULL};
    const json_t *v;

    v = kube_json_path(spec, "volumeRestorePolicy");
    if (v && !kube_json_str_in(v, volume))
        kube_fielderrs_add(
            &a->causes, KUBE_CAUSE_INVALID, "spec.volumeRestorePolicy",
            "volume restore policy \"%s\" doesn't exist", json_string_value(v));
    v = kube_json_path(spec, "volumeOwnershipPolicy");
    if (v && !kube_json_str_in(v, owner))
        kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID,
                           "spec.volumeOwnershipPolicy",
                           "volume ownership policy \"%s\" doesn't exist",
                           json_string_value(v));
    v = kube_json_path(spec, "targetReadinessPolicy");
    if (v && !kube_json_str_in(v, ready))
        kube_fielderrs_not_supported(&a->causes, "spec.targetReadinessPolicy",
                                     v, ready);
}

/* Whether two target references name the same VM. */
static int same_target(const json_t *x, const json_t *y)
{
    static const char *const keys[] = {"apiGroup", "kind", "name", NULL};

    for (size_t i = 0; keys[i]; i++)
        if (strcmp(kube_json_str0(x, keys[i]), kube_json_str0(y, keys[i])))
            return 0;
    return 1;
}

/* Step 9: one restore at a time per target. */
static int check_in_progress(struct restore_ctx *c)
{
    const json_t *target = json_object_get(c->spec, "target"), *rs;
    json_t *all = NULL;
    size_t i;
    int rc = wh_state_list(&all, c->a, c->r, "VirtualMachineRestore");

    if (rc < 0)
        return rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    json_array_foreach(all, i, rs)
    {
        if (!same_target(target, kube_json_path(rs, "spec.target")) ||
            kube_json_true(rs, "status.complete") ||
            kube_json_path(rs, "metadata.deletionTimestamp"))
            continue;
        kube_fielderrs_add(&c->a->causes, KUBE_CAUSE_INVALID, "spec.target",
                           "VirtualMachineRestore \"%s\" in progress: wait "
                           "for it to complete, or delete it if it failed",
                           kube_json_str0(rs, "metadata.name"));
    }
    json_decref(all);
    return KUBE_OK;
}

/* Steps 4-9, for a valid target. */
static int check_with_state(struct restore_ctx *c)
{
    int rc = KUBE_OK;

    if (*c->snap)
        rc = check_snapshot(c);
    if (rc == KUBE_OK && *c->vm) {
        rc = wh_state_get_confirmed(&c->target, c->a, c->r, "VirtualMachine",
                                    c->vm);
        c->target_known = rc == KUBE_OK || rc == KUBE_ENOTFOUND;
        rc = c->target_known || rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    }
    if (rc == KUBE_OK)
        rc = check_offline(c);
    if (rc == KUBE_OK)
        rc = check_stopped(c);
    if (rc == KUBE_OK)
        rc = check_same_or_new(c);
    if (rc == KUBE_OK) {
        check_overrides(c->a,
                        kube_json_path(c->spec, "volumeRestoreOverrides"));
        check_policies(c->a, c->spec);
        rc = check_in_progress(c);
    }
    return rc;
}

static int validate_create(struct wh_answer *a, const struct wh_req *r)
{
    struct restore_ctx c = {.r = r, .a = a};
    int valid_target, rc = KUBE_OK;

    c.spec = json_object_get(r->object, "spec");
    c.vm = kube_json_str0(c.spec, "target.name");
    c.snap = kube_json_str0(c.spec, "virtualMachineSnapshotName");
    valid_target = wh_check_vm_ref(a, json_object_get(c.spec, "target"),
                                   "spec.target") > 0;
    if (!*c.snap)
        kube_fielderrs_required(&a->causes, SNAP_FIELD, NULL);
    if (!valid_target)
        return KUBE_OK; /* steps 3-9 need a valid target */
    check_patches(a, kube_json_path(c.spec, "patches"));
    rc = check_with_state(&c);
    json_decref(c.snapshot);
    json_decref(c.target);
    return rc;
}

static int restore_validate(struct wh_answer *a, const struct wh_req *r)
{
    switch (r->op) {
    case WH_CREATE:
        return validate_create(a, r);
    case WH_UPDATE:
        return wh_check_spec_immutable(a, r, &wh_kind_restore);
    case WH_DELETE:
        return KUBE_OK;
    }
    return KUBE_ERR;
}

const struct wh_kind wh_kind_restore = {
    .resource = "virtualmachinerestores",
    .kind = "VirtualMachineRestore",
    .types = restore_types,
    .duration_fields = NULL,
    .validate = restore_validate,
    .mutate = NULL,
};
