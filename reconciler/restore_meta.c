/* reconciler/restore_meta.c - ownership, finalizer and lock writes
 * around a restore, each a no-op when already done. */
#include "reconciler/restore_meta.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/patch.h"
#include "reconciler/api.h"

/* A copy of obj (new reference) unless *out already holds one. */
static json_t *copy_once(json_t **out, const json_t *obj)
{
    if (!*out)
        *out = json_deep_copy(obj);
    return *out;
}

/* Sets meta[key] (an array made when missing) to hold v; steals v. */
static int append_new(json_t *meta, const char *key, json_t *v)
{
    json_t *list = json_object_get(meta, key);

    if (!json_is_array(list)) {
        list = json_array();
        if (json_object_set_new(meta, key, list))
            list = NULL;
    }
    if (!list || !v || json_array_append_new(list, v))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

int rc_restore_claim(json_t **out, const struct rc_restore_in *in)
{
    const json_t *meta = json_object_get(in->restore, "metadata");
    int rc = KUBE_OK;

    *out = NULL;
    if (in->target &&
        json_array_size(json_object_get(meta, "ownerReferences")) == 0) {
        if (!copy_once(out, in->restore))
            return KUBE_ENOMEM;
        json_object_del(json_object_get(*out, "metadata"), "ownerReferences");
        rc = append_new(json_object_get(*out, "metadata"), "ownerReferences",
                        rc_owner_ref(in->target, 1));
    }
    if (rc == KUBE_OK && !kube_json_has_str(json_object_get(meta, "finalizers"),
                                            RC_RESTORE_FINALIZER))
        rc = copy_once(out, in->restore)
                 ? append_new(json_object_get(*out, "metadata"), "finalizers",
                              json_string(RC_RESTORE_FINALIZER))
                 : KUBE_ENOMEM;
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int rc_restore_vm_busy(json_t **out, const struct rc_restore_in *in,
                       struct kube_err *err)
{
    const char *name = kube_json_str0(in->restore, "metadata.name");
    const char *held = kube_json_str(in->target, "status.restoreInProgress");

    *out = NULL;
    if (!in->target || rc_restore_marked(in->target, in->restore))
        return KUBE_OK;
    if (held && strcmp(held, name) == 0)
        return KUBE_OK;
    if (held)
        return kube_err_set(err, KUBE_ECONFLICT, "vm restore %s in progress",
                            held);
    *out = json_deep_copy(in->target);
    if (!*out || json_object_set_new(rc_json_child(*out, "status"),
                                     "restoreInProgress", json_string(name))) {
        json_decref(*out);
        *out = NULL;
        return KUBE_ENOMEM;
    }
    return KUBE_OK;
}

int rc_restore_vm_release(json_t **out, const json_t *vm, const json_t *restore)
{
    const char *held = kube_json_str(vm, "status.restoreInProgress");
    json_t *st;

    *out = NULL;
    if (!held || strcmp(held, kube_json_str0(restore, "metadata.name")) != 0)
        return KUBE_OK;
    *out = json_deep_copy(vm);
    if (!*out)
        return KUBE_ENOMEM;
    st = json_object_get(*out, "status");
    json_object_del(st, "restoreInProgress");
    json_object_del(st, "memoryDumpRequest");
    return KUBE_OK;
}

int rc_restore_pvc_own(json_t **out, const json_t *pvc, const json_t *vm,
                       const json_t *restore)
{
    const json_t *ann = kube_json_path(pvc, "metadata.annotations");
    const char *by =
        json_string_value(json_object_get(ann, RC_ANN_OWNED_BY_VM));
    json_t *meta;

    *out = NULL;
    if (!by || strcmp(by, kube_json_str0(restore, "metadata.name")) != 0 ||
        json_array_size(kube_json_path(pvc, "metadata.ownerReferences")) > 0)
        return KUBE_OK;
    *out = json_deep_copy(pvc);
    meta = json_object_get(*out, "metadata");
    json_object_del(meta, "ownerReferences");
    if (!*out || append_new(meta, "ownerReferences", rc_owner_ref(vm, 1))) {
        json_decref(*out);
        *out = NULL;
        return KUBE_ENOMEM;
    }
    json_object_del(json_object_get(meta, "annotations"), RC_ANN_OWNED_BY_VM);
    return KUBE_OK;
}

/* "/metadata/annotations/<key>" with key escaped (RFC 6901). */
static json_t *ann_op(const char *key, const char *value)
{
    char path[256];
    const char *segs[] = {"metadata", "annotations", key, NULL};

    if (kube_pointer(path, sizeof(path), segs) < 0)
        return NULL;
    return json_pack("{s:s, s:s, s:s}", "op", "add", "path", path, "value",
                     value);
}

json_t *rc_restore_dv_prepopulate(const json_t *dv, const json_t *restore)
{
    json_t *ops = json_array();
    const char *name = kube_json_str0(dv, "metadata.name");

    if (ops && !json_is_object(kube_json_path(dv, "metadata.annotations")) &&
        json_array_append_new(ops,
                              json_pack("{s:s, s:s, s:{}}", "op", "add", "path",
                                        "/metadata/annotations", "value")))
        goto fail;
    if (!ops ||
        json_array_append_new(
            ops, ann_op(RC_ANN_RESTORE_NAME,
                        kube_json_str0(restore, "metadata.name"))) ||
        json_array_append_new(ops, ann_op(RC_ANN_PREPOPULATED, name)))
        goto fail;
    return ops;
fail:
    json_decref(ops);
    return NULL;
}

void rc_restore_backend_cleanup_value(char *buf, size_t len, const char *target)
{
    size_t max = len < 64 ? len : 64; /* 63 characters and the NUL */

    snprintf(buf, max, RC_LABEL_BACKEND "-%s", target);
}

/* The labels pvc should carry (new reference). */
static json_t *backend_labels(const json_t *pvc, const char *target,
                              int release)
{
    const json_t *old = kube_json_path(pvc, "metadata.labels");
    json_t *labels = json_is_object(old) ? json_deep_copy(old) : json_object();
    char value[64];

    if (!labels)
        return NULL;
    if (release) {
        json_object_del(labels, RC_LABEL_BACKEND);
        rc_restore_backend_cleanup_value(value, sizeof(value), target);
    } else
        snprintf(value, sizeof(value), "%s", target);
    if (json_object_set_new(
            labels, release ? RC_LABEL_BACKEND_CLEANUP : RC_LABEL_BACKEND,
            json_string(value))) {
        json_decref(labels);
        return NULL;
    }
    return labels;
}

json_t *rc_restore_backend_patch(const json_t *pvc, const char *target,
                                 int release)
{
    const json_t *old = kube_json_path(pvc, "metadata.labels");
    json_t *labels = backend_labels(pvc, target, release);

    if (!labels)
        return NULL;
    if (!json_is_object(old))
        return json_pack("[{s:s, s:s, s:o}]", "op", "add", "path",
                         "/metadata/labels", "value", labels);
    return json_pack("[{s:s, s:s, s:O}, {s:s, s:s, s:o}]", "op", "test", "path",
                     "/metadata/labels", "value", old, "op", "replace", "path",
                     "/metadata/labels", "value", labels);
}

/* 1 when vm's volumes name claim (a claim or a DataVolume). */
static int vm_uses(const json_t *vm, const char *claim)
{
    const json_t *v;
    size_t i;

    json_array_foreach(kube_json_path(vm, "spec.template.spec.volumes"), i, v)
    {
        if (strcmp(kube_json_str0(v, "persistentVolumeClaim.claimName"),
                   claim) == 0 ||
            strcmp(kube_json_str0(v, "dataVolume.name"), claim) == 0)
            return 1;
    }
    return 0;
}

int rc_restore_undoable(const json_t *obj, const json_t *restore,
                        const json_t *target)
{
    const char *name = kube_json_str0(obj, "metadata.name");
    int made;

    if (strcmp(kube_json_str0(obj, "kind"), "DataVolume") == 0)
        made = strcmp(rc_restore_ann(obj, RC_ANN_RESTORE_NAME),
                      kube_json_str0(restore, "metadata.name")) == 0 &&
               strcmp(rc_restore_ann(obj, RC_ANN_PREPOPULATED), "true") == 0;
    else
        made = rc_restore_marked(obj, restore);
    return made && *name && !rc_restore_marked(target, restore) &&
           !vm_uses(target, name);
}
