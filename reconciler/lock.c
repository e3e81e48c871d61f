/* reconciler/source.c - source state, lock, freeze and deadline. */
#include "reconciler/source.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube/duration.h"
#include "kube/json.h"
#include "reconciler/api.h"
#include "reconciler/controllers.h"

#define DEFAULT_DEADLINE_MS (5 * 60 * 1000L)

static int has_condition(const json_t *obj, const char *type, const char *st)
{
    const json_t *conds = kube_json_path(obj, "status.conditions"), *c;
    size_t i;

    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        if (t && strcmp(t, type) == 0 && (!st || (s && strcmp(s, st) == 0)))
            return 1;
    }
    return 0;
}

int rc_source_load(struct rc_source *src, struct kube_store *s,
                   const json_t *snap, struct kube_err *err)
{
    const char *kind = kube_json_str0(snap, "spec.source.kind");
    const char *name = kube_json_str0(snap, "spec.source.name");
    const char *ns = kube_json_str0(snap, "metadata.namespace");
    const char *held;

    memset(src, 0, sizeof(*src));
    if (strcmp(kind, "VirtualMachine") != 0 || !*name)
        return kube_err_set(err, KUBE_EINVAL, "unknown source {%s %s}", kind,
                            name);
    if (kube_store_get(&src->vm, s, "VirtualMachine", ns, name) < 0)
        src->vm = NULL;
    if (kube_store_get(&src->vmi, s, "VirtualMachineInstance", ns, name) < 0)
        src->vmi = NULL;
    src->online = src->vmi != NULL;
    src->paused = has_condition(src->vmi, "Paused", "True");
    src->guest_agent = has_condition(src->vmi, "AgentConnected", NULL);
    src->frozen = strcmp(kube_json_str0(src->vmi, "status.fsFreezeStatus"),
                         "frozen") == 0;
    held = kube_json_str0(src->vm, "status.snapshotInProgress");
    src->locked = src->vm &&
                  strcmp(held, kube_json_str0(snap, "metadata.name")) == 0 &&
                  rc_has_finalizer(src->vm, RC_SOURCE_FINALIZER);
    src->other = *held && strcmp(held, kube_json_str0(snap, "metadata.name"))
                     ? held
                     : NULL;
    return KUBE_OK;
}

void rc_source_free(struct rc_source *src)
{
    json_decref(src->vm);
    json_decref(src->vmi);
    memset(src, 0, sizeof(*src));
}

/* The first volume problem of the VM (§4.1 verifyVolumes) into why, or
 * "" when every PVC-backed volume exists, is bound and not deleting. */
static void verify_volumes(char *why, size_t len, struct kube_store *s,
                           const json_t *vm)
{
    const json_t *vols = kube_json_path(vm, "spec.template.spec.volumes"), *v;
    const char *ns = kube_json_str0(vm, "metadata.namespace");
    size_t i;

    *why = '\0';
    json_array_foreach(vols, i, v)
    {
        const char *claim = kube_json_str0(v, "dataVolume.name");
        json_t *pvc = NULL;
        if (!*claim)
            claim = kube_json_str0(v, "persistentVolumeClaim.claimName");
        if (!*claim)
            claim = kube_json_str0(v, "memoryDump.claimName");
        if (!*claim)
            continue;
        if (kube_store_get(&pvc, s, "PersistentVolumeClaim", ns, claim) < 0)
            snprintf(why, len, "volume doesnt exist: %s", claim);
        else if (rc_deleting(pvc))
            snprintf(why, len, "volume is being deleted: %s", claim);
        else if (strcmp(kube_json_str0(pvc, "status.phase"), "Bound") != 0)
            snprintf(why, len, "volume not bound: %s", claim);
        json_decref(pvc);
        if (*why)
            return;
    }
}

/* PUT the VM's status with snapshotInProgress set to name, or removed
 * (name NULL). */
static int put_in_progress(struct rc_call *c, const json_t *vm,
                           const char *name, struct kube_err *err)
{
    json_t *copy = json_deep_copy(vm), *st;
    int rc;

    if (!copy)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    st = json_object_get(copy, "status");
    if (!st) {
        st = json_object();
        json_object_set_new(copy, "status", st);
    }
    if (name)
        json_object_set_new(st, "snapshotInProgress", json_string(name));
    else
        json_object_del(st, "snapshotInProgress");
    rc = rc_api_update_status(NULL, c, &rc_gvr_vm, copy, err);
    json_decref(copy);
    return rc;
}

int rc_source_lock(struct rc_call *c, struct rc_source *src, const json_t *snap,
                   char *msg, size_t len, struct kube_err *err)
{
    struct rc_env *env = c->ctx;
    const char *name = kube_json_str0(snap, "metadata.name");
    char why[300];
    int rc;

    verify_volumes(why, sizeof(why), env->store, src->vm);
    if (*why) {
        snprintf(msg, len, "Source not locked source %s/%s %s",
                 kube_json_str0(src->vm, "metadata.namespace"),
                 kube_json_str0(src->vm, "metadata.name"), why);
        return KUBE_OK;
    }
    if (src->other) {
        snprintf(msg, len, "Source not locked snapshot \"%s\" in progress",
                 src->other);
        return KUBE_OK;
    }
    if (!*kube_json_str0(src->vm, "status.snapshotInProgress")) {
        rc = put_in_progress(c, src->vm, name, err);
        if (rc < 0)
            return rc;
    }
    rc = rc_api_finalizer(NULL, c, &rc_gvr_vm, src->vm, RC_SOURCE_FINALIZER, 1,
                          err);
    if (rc < 0)
        return rc; /* a partial lock, completed on a later pass */
    src->locked = 1;
    snprintf(msg, len, "Source locked and operation in progress");
    return KUBE_OK;
}

int rc_source_unlock(struct rc_call *c, struct rc_source *src, const char *name,
                     struct kube_err *err)
{
    json_t *patched = NULL;
    int rc;

    if (!src->vm ||
        strcmp(kube_json_str0(src->vm, "status.snapshotInProgress"), name) != 0)
        return KUBE_OK;
    rc = rc_api_finalizer(&patched, c, &rc_gvr_vm, src->vm, RC_SOURCE_FINALIZER,
                          0, err);
    /* the status write carries the resourceVersion the patch made (the
     * one read is stale by then: a sure 409) */
    if (rc == KUBE_OK)
        rc = put_in_progress(c, json_is_object(patched) ? patched : src->vm,
                             NULL, err);
    json_decref(patched);
    if (rc == KUBE_ENOTFOUND)
        rc = KUBE_OK; /* the VM is gone: nothing left to unlock */
    if (rc == KUBE_OK)
        src->locked = 0;
    return rc;
}

static int put_subresource(struct rc_call *c, const struct rc_source *src,
                           const char *sub, const json_t *body, int use_cancel,
                           struct kube_err *err)
{
    static const atomic_int never = 0;
    struct kube_request r = {
        .method = "PUT",
        .gvr = &rc_gvr_vmi_sub,
        .ns = kube_json_str0(src->vmi, "metadata.namespace"),
        .name = kube_json_str0(src->vmi, "metadata.name"),
        .subresource = sub,
        .body = body,
        .idempotent = 1,
        .timeout_ms = 10000,
    };
    const atomic_int *cancel = c->cancel;
    int rc;

    if (!use_cancel)
        c->cancel = &never; /* a thaw on the way out still goes */
    rc = rc_api_do(NULL, c, &r, NULL, err);
    c->cancel = cancel;
    return rc;
}

int rc_source_freeze(struct rc_call *c, const struct rc_source *src,
                     const char *deadline, int *froze, struct kube_err *err)
{
    json_t *body;
    int rc;

    *froze = 0;
    if (!src->locked)
        return kube_err_set(err, KUBE_EINVAL,
                            "attempting to freeze unlocked VM");
    if (!src->online || src->frozen || src->paused || !src->guest_agent)
        return KUBE_OK;
    body = json_pack("{s:s}", "unfreezeTimeout", deadline);
    if (!body)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    rc = put_subresource(c, src, "freeze", body, 1, err);
    json_decref(body);
    if (rc == KUBE_OK)
        *froze = 1;
    return rc;
}

int rc_source_unfreeze(struct rc_call *c, const struct rc_source *src,
                       int use_cancel, struct kube_err *err)
{
    if (!src->locked || !src->online || !src->guest_agent || src->paused)
        return KUBE_OK;
    return put_subresource(c, src, "unfreeze", NULL, use_cancel, err);
}

int64_t rc_parse_time(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

int rc_deadline(int64_t *deadline_ms, int64_t *left_ms, const json_t *snap,
                struct kube_err *err)
{
    const char *fd = kube_json_str0(snap, "spec.failureDeadline");
    int64_t created =
        rc_parse_time(kube_json_str0(snap, "metadata.creationTimestamp"));
    int64_t ns = 0;
    struct timespec now;

    *deadline_ms = DEFAULT_DEADLINE_MS;
    if (*fd) {
        int rc = kube_duration_parse(&ns, fd, 1, err);
        if (rc < 0)
            return rc;
        *deadline_ms = ns / 1000000;
        if (ns != 0 && *deadline_ms == 0)
            *deadline_ms = ns > 0 ? 1 : -1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    if (created < 0)
        created = now.tv_sec; /* no creation time yet: counts from now */
    *left_ms = created * 1000 + *deadline_ms -
               ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    return KUBE_OK;
}
