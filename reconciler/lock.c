/* reconciler/lock.c - lock, unlock, freeze and thaw: the API calls. */
#include "reconciler/lock.h"

#include <string.h>
#include <time.h>

#include "kube/json.h"
#include "reconciler/api.h"

int64_t rc_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* PUT vm's status with snapshotInProgress set to name, or removed (name
 * NULL). vm is borrowed; its resourceVersion guards the write. */
static int put_in_progress(struct rc_call *c, const json_t *vm,
                           const char *name, struct kube_err *err)
{
    json_t *copy = json_deep_copy(vm), *st;
    int rc;

    if (!copy)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    st = json_object_get(copy, "status");
    if (!json_is_object(st)) {
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

int rc_lock_take(struct rc_call *c, struct rc_source *src, const json_t *vm,
                 const char *name, struct kube_err *err)
{
    int rc;

    if (!*kube_json_str0(vm, "status.snapshotInProgress")) {
        rc = put_in_progress(c, vm, name, err);
        if (rc < 0)
            return rc;
    }
    rc = rc_api_finalizer(NULL, c, &rc_gvr_vm, vm, RC_SOURCE_FINALIZER, 1, err);
    if (rc < 0)
        return rc; /* a partial lock, completed on a later pass */
    src->locked = 1;
    snprintf(src->lock_msg, sizeof(src->lock_msg), "%s", RC_MSG_LOCKED);
    return KUBE_OK;
}

int rc_lock_release(struct rc_call *c, struct rc_source *src, const json_t *vm,
                    const char *name, struct kube_err *err)
{
    json_t *patched = NULL;
    int rc;

    if (!vm ||
        strcmp(kube_json_str0(vm, "status.snapshotInProgress"), name) != 0)
        return KUBE_OK;
    rc = rc_api_finalizer(&patched, c, &rc_gvr_vm, vm, RC_SOURCE_FINALIZER, 0,
                          err);
    /* the status write carries the resourceVersion the patch made (the one
     * read is stale by then: a sure 409) */
    if (rc == KUBE_OK)
        rc = put_in_progress(c, json_is_object(patched) ? patched : vm, NULL,
                             err);
    json_decref(patched);
    if (rc == KUBE_ENOTFOUND)
        rc = KUBE_OK; /* the VM is gone: nothing left to unlock */
    if (rc == KUBE_OK)
        src->locked = 0;
    return rc;
}

static int put_subresource(struct rc_call *c, const json_t *vmi,
                           const char *sub, const json_t *body, int use_cancel,
                           struct kube_err *err)
{
    static const atomic_int never = 0;
    struct kube_request r = {
        .method = "PUT",
        .gvr = &rc_gvr_vmi_sub,
        .ns = kube_json_str0(vmi, "metadata.namespace"),
        .name = kube_json_str0(vmi, "metadata.name"),
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

int rc_guest_freeze(struct rc_call *c, const struct rc_source *src,
                    const json_t *vmi, const char *deadline, int *froze,
                    struct kube_err *err)
{
    json_t *body;
    int rc;

    *froze = 0;
    if (!src->locked)
        return kube_err_set(err, KUBE_EINVAL,
                            "attempting to freeze unlocked VM");
    if (!src->online || !vmi || src->frozen || src->paused || !src->guest_agent)
        return KUBE_OK;
    body = json_pack("{s:s}", "unfreezeTimeout", deadline);
    if (!body)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    rc = put_subresource(c, vmi, "freeze", body, 1, err);
    json_decref(body);
    if (rc == KUBE_OK)
        *froze = 1;
    return rc;
}

int rc_guest_unfreeze(struct rc_call *c, const struct rc_source *src,
                      const json_t *vmi, int use_cancel, struct kube_err *err)
{
    if (!src->locked || !src->online || !vmi || !src->guest_agent ||
        src->paused)
        return KUBE_OK;
    return put_subresource(c, vmi, "unfreeze", NULL, use_cancel, err);
}
