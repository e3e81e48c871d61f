/* reconciler/restore.c - the VirtualMachineRestore worker (spec §6):
 * initialise, claim (owner reference and finalizer), target readiness and
 * the re-checks, mark the VM busy, restore the claims, replace or create
 * the VM, clean up, release the VM, complete; and the deletion of a
 * restore, which takes back what an unfinished one made. */
#include "reconciler/restore.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/log.h"
#include "reconciler/api.h"
#include "reconciler/conditions.h"
#include "reconciler/controllers.h"
#include "reconciler/lock.h"
#include "reconciler/restore_meta.h"
#include "reconciler/restore_pvc.h"
#include "reconciler/restore_status.h"
#include "reconciler/restore_target.h"

/* One reconcile's view: everything read once at its start, replaced by
 * what a write answers so the next write carries its resourceVersion. */
struct pass {
    struct rc_call *c;
    struct rc_env *env;
    json_t *restore, *snapshot, *content, *target, *vmi; /* new refs */
    json_t *status;           /* the status being made (owned) */
    struct rc_restore_in in;  /* borrows the above */
    struct rc_restore_opts o; /* from env */
    int64_t now_ms;
    int done;     /* this pass wrote what it had to; the next goes on */
    char ev[512]; /* a Normal event to record once the status is written */
    struct kube_err err;
};

static void set_ref(json_t **slot, json_t *v)
{
    json_decref(*slot);
    *slot = v;
}

static void refresh_in(struct pass *p)
{
    p->in = (struct rc_restore_in){p->restore, p->snapshot, p->content,
                                   p->target, p->vmi};
}

/* After a write that answered rc: the stored object (stolen) replaces
 * *slot, so the next write carries its resourceVersion. Returns rc. */
static int keep_new(struct pass *p, json_t **slot, int rc, json_t *stored)
{
    if (rc == KUBE_OK && json_is_object(stored)) {
        set_ref(slot, stored);
        refresh_in(p);
    } else
        json_decref(stored);
    return rc;
}

static json_t *get(struct pass *p, const char *kind, const char *name)
{
    return rc_env_get(p->env, kind, p->c->ns, name ? name : "");
}

static int load(struct pass *p)
{
    const char *vm = kube_json_str0(p->restore, "spec.target.name");
    const json_t *st = json_object_get(p->restore, "status");

    p->snapshot =
        get(p, "VirtualMachineSnapshot",
            kube_json_str0(p->restore, "spec.virtualMachineSnapshotName"));
    p->content = get(
        p, "VirtualMachineSnapshotContent",
        kube_json_str(p->snapshot, "status.virtualMachineSnapshotContentName"));
    p->target = get(p, "VirtualMachine", vm);
    p->vmi = get(p, "VirtualMachineInstance", vm);
    p->status = json_is_object(st) ? json_deep_copy(st) : json_object();
    p->o.require_offline_snapshot = !p->env->o.restore_online_snapshot_ok;
    p->o.require_stopped_target = !p->env->o.restore_running_target_ok;
    p->o.grace_ms = p->env->o.restore_grace_ms;
    p->now_ms = rc_now_ms();
    refresh_in(p);
    if (!p->status)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    return KUBE_OK;
}

/* One status write, only when p->status differs from the one read; then
 * the pending Normal event. */
static int write_status(struct pass *p)
{
    json_t *stored = NULL;
    int rc;

    if (json_equal(p->status, json_object_get(p->restore, "status")))
        return KUBE_OK;
    rc = rc_api_put_status(&stored, p->c, &rc_gvr_restore, p->restore,
                           p->status, &p->err);
    rc = keep_new(p, &p->restore, rc, stored);
    if (rc == KUBE_OK && *p->ev)
        rc_event(p->c, p->restore, "Normal", RC_EV_RESTORE_COMPLETE, "%s",
                 p->ev);
    return rc;
}

/* Ends the pass at stage: its conditions written (when they changed). */
static int stage(struct pass *p, enum rc_restore_stage s)
{
    if (rc_restore_status_stage(p->status, s, p->now_ms) < 0)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    p->done = 1;
    return write_status(p);
}

/* Ends the pass on a verdict that is not GO: its conditions, and its
 * event when they changed (not once per pass, as KubeVirt does). WAIT
 * re-queues when the wait has a deadline; RETRY looks again after the
 * retry interval (the watches bring the awaited change sooner); FAIL is
 * terminal. */
static int settle(struct pass *p, const struct rc_restore_verdict *v)
{
    int changed = rc_restore_status_verdict(p->status, v, p->now_ms), rc;

    p->done = 1;
    if (changed < 0)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    rc = write_status(p);
    if (rc == KUBE_OK && changed && v->event)
        rc_event(p->c, p->restore, "Warning", v->event, "%s", v->event_msg);
    if (v->act == RC_RESTORE_WAIT && v->requeue_ms > 0)
        p->c->requeue_after_ms = (long)v->requeue_ms + 100;
    else if (v->act == RC_RESTORE_RETRY)
        p->c->requeue_after_ms = p->env->o.retry_ms;
    return rc;
}

/* An error met on the way (err already says it) as a RETRY verdict. */
static int settle_error(struct pass *p, int fail)
{
    struct rc_restore_verdict v;

    rc_restore_verdict_error(&v, fail, p->err.msg);
    return settle(p, &v);
}

/* Step 5: owner reference to the existing target, and the finalizer, in
 * one Update as KubeVirt does. */
static int claim(struct pass *p)
{
    json_t *obj = NULL, *stored = NULL;
    int rc = rc_restore_claim(&obj, &p->in);

    if (rc < 0)
        return kube_err_set(&p->err, rc, "out of memory");
    if (!obj)
        return KUBE_OK;
    rc = rc_api_update(&stored, p->c, &rc_gvr_restore, obj, &p->err);
    json_decref(obj);
    return keep_new(p, &p->restore, rc, stored);
}

/* StopTarget: virt-api's stop, once; a VM already told to stop waits. */
static int stop_target(struct pass *p)
{
    const char *rs = kube_json_str0(p->target, "spec.runStrategy");
    json_t *body;
    int rc;

    if (strcmp(rs, "Halted") == 0 ||
        json_is_false(kube_json_path(p->target, "spec.running")))
        return KUBE_OK;
    body = json_object();
    if (!body)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    rc = rc_api_put_sub(p->c, &rc_gvr_vm_sub, p->c->ns,
                        kube_json_str0(p->target, "metadata.name"), "stop",
                        body, &p->err);
    json_decref(body);
    return rc;
}

/* Steps 6-8: target readiness (§6.1), then the snapshot and content. */
static int checks(struct pass *p)
{
    struct rc_restore_verdict v;
    int rc;

    rc_restore_readiness(&v, &p->in, &p->o, p->now_ms);
    if (v.act == RC_RESTORE_GO)
        rc_restore_check(&v, &p->in, &p->o);
    if (v.act == RC_RESTORE_GO)
        return KUBE_OK;
    if (v.stop_target) {
        rc = stop_target(p);
        if (rc < 0)
            return rc;
    }
    return settle(p, &v);
}

/* A VM status write; *vm then holds the stored VM. Steals upd. */
static int put_vm_status_new(struct pass *p, json_t *upd)
{
    json_t *stored = NULL;
    int rc = rc_api_update_status(&stored, p->c, &rc_gvr_vm, upd, &p->err);

    json_decref(upd);
    return keep_new(p, &p->target, rc, stored);
}

/* Step 9: the VM's status.restoreInProgress names this restore. Another
 * restore holding it is said in the conditions, with what to do. */
static int mark_busy(struct pass *p)
{
    json_t *upd = NULL;
    int rc = rc_restore_vm_busy(&upd, &p->in, &p->err);

    if (rc == KUBE_ECONFLICT) {
        snprintf(p->err.msg + strlen(p->err.msg),
                 sizeof(p->err.msg) - strlen(p->err.msg),
                 ": this restore starts once that one completes or is "
                 "deleted");
        return settle_error(p, 0);
    }
    if (rc < 0 || !upd)
        return rc;
    return put_vm_status_new(p, upd);
}

/* The Ready condition's message: what the restore waits for (KubeVirt
 * leaves it empty; its reason stays KubeVirt's). */
static int ready_message(struct pass *p, const char *msg)
{
    json_t *cond = (json_t *)rc_condition_get(p->status, "Ready");

    if (!cond || json_object_set_new(cond, "message", json_string(msg)) < 0)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    return KUBE_OK;
}

/* §6.2.5 InPlace: the original claim goes (its DataVolume told first that
 * the restored claim is pre-populated, so CDI does not re-create it). */
static int replace_original(struct pass *p, const json_t *e, const json_t *pvc)
{
    json_t *dv = get(p, "DataVolume", kube_json_str(e, "dataVolumeName"));
    json_t *ops = dv ? rc_restore_dv_prepopulate(dv, p->restore) : NULL;
    int rc = KUBE_OK;

    if (dv && !ops)
        rc = kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    else if (dv)
        rc = rc_api_json_patch(p->c, &rc_gvr_dv, p->c->ns,
                               kube_json_str0(dv, "metadata.name"), ops,
                               &p->err);
    if (rc == KUBE_OK)
        rc = rc_api_delete(p->c, &rc_gvr_pvc, p->c->ns,
                           kube_json_str0(pvc, "metadata.name"),
                           kube_json_str(pvc, "metadata.uid"), &p->err);
    json_decref(ops);
    json_decref(dv);
    return rc;
}

static int create_pvc(struct pass *p, const json_t *e)
{
    json_t *vs =
        get(p, "VolumeSnapshot", kube_json_str(e, "volumeSnapshotName"));
    json_t *pvc = NULL;
    int rc = rc_restore_pvc_build(&pvc, &p->in, e, vs, &p->err);

    json_decref(vs);
    if (rc == KUBE_EINVAL)
        return settle_error(p, 0);
    if (rc == KUBE_OK)
        rc = rc_api_create(NULL, p->c, &rc_gvr_pvc, p->c->ns, pvc, &p->err);
    json_decref(pvc);
    return rc;
}

/* One status.restores entry's claim (§6.2.5); *waiting set when the
 * restore has to wait for it, with why in wait (first one only). */
static int volume(struct pass *p, json_t *e, int *waiting, char *wait,
                  size_t len)
{
    const char *name = kube_json_str0(e, "persistentVolumeClaim");
    json_t *pvc = get(p, "PersistentVolumeClaim", name);
    json_t *sc = pvc ? rc_env_get(p->env, "StorageClass", "",
                                  kube_json_str0(pvc, "spec.storageClassName"))
                     : NULL;
    char dv[RC_NAME_MAX];
    int rc = KUBE_OK;

    switch (rc_restore_pvc_next(dv, sizeof(dv), &p->in, e, pvc, sc, &p->err)) {
    case RC_PVC_CREATE:
        rc = create_pvc(p, e);
        break;
    case RC_PVC_SET_DV:
        if (json_object_set_new(e, "dataVolumeName", json_string(dv)) < 0)
            rc = kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
        break;
    case RC_PVC_REPLACE:
        rc = replace_original(p, e, pvc);
        break;
    case RC_PVC_WAIT:
        break;
    case RC_PVC_READY:
        json_decref(sc);
        json_decref(pvc);
        return KUBE_OK;
    case RC_PVC_FAILED:
        rc = settle_error(p, 0);
        break;
    }
    /* the same words from the claim's create to its binding: one write */
    if (!*waiting)
        snprintf(wait, len,
                 "PVC %s/%s is not Bound yet: waiting for it (check its "
                 "StorageClass and provisioner)",
                 p->c->ns, name);
    *waiting = 1;
    json_decref(sc);
    json_decref(pvc);
    return rc;
}

/* Step 10 (§6.2): status.restores, then each claim created, replaced or
 * waited for. The pass ends here while any is not ready. */
static int volumes(struct pass *p)
{
    json_t *list = NULL, *e;
    char wait[512] = "";
    int changed = 0, waiting = 0, rc;
    size_t i;

    rc = rc_restore_volumes(&list, &changed, &p->in, &p->err);
    if (rc == KUBE_EINVAL)
        return settle_error(p, 0);
    if (rc < 0)
        return rc;
    json_object_set_new(p->status, "restores", list);
    json_array_foreach(list, i, e)
    {
        rc = volume(p, e, &waiting, wait, sizeof(wait));
        if (rc < 0 || p->done)
            return rc;
    }
    if (!changed && !waiting &&
        json_equal(list, kube_json_path(p->restore, "status.restores")))
        return KUBE_OK;
    if (rc_restore_status_stage(p->status, RC_RESTORE_PVCS, p->now_ms) < 0)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    rc = *wait ? ready_message(p, wait) : KUBE_OK;
    if (rc < 0)
        return rc;
    p->done = 1;
    return write_status(p);
}

/* §6.3.2: the restored claims a DataVolume template will adopt. */
static int adopt_claims(struct pass *p, const json_t *restores)
{
    const json_t *e;
    size_t i;
    int rc = KUBE_OK;

    json_array_foreach(restores, i, e)
    {
        const char *dv = kube_json_str(e, "dataVolumeName");
        json_t *pvc, *upd = NULL;

        if (!dv)
            continue;
        pvc = get(p, "PersistentVolumeClaim",
                  kube_json_str(e, "persistentVolumeClaim"));
        if (!pvc)
            return kube_err_set(&p->err, KUBE_EINVAL,
                                "pvc %s/%s does not exist and should", p->c->ns,
                                kube_json_str0(e, "persistentVolumeClaim"));
        rc = rc_restore_pvc_adopt(&upd, pvc, dv);
        if (rc == KUBE_OK && upd)
            rc = rc_api_update(NULL, p->c, &rc_gvr_pvc, upd, &p->err);
        json_decref(upd);
        json_decref(pvc);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* §6.3.4: the DataVolumes of vm's templates; *waiting when one is not
 * ready yet. */
static int datavolumes(struct pass *p, const json_t *vm, int *waiting)
{
    const json_t *t;
    size_t i;
    int rc = KUBE_OK;

    json_array_foreach(kube_json_path(vm, "spec.dataVolumeTemplates"), i, t)
    {
        const char *name = kube_json_str0(t, "metadata.name");
        json_t *dv = get(p, "DataVolume", name);
        json_t *pvc = get(p, "PersistentVolumeClaim", name), *mk;

        switch (rc_restore_dv_next(t, dv, pvc, p->c->ns, &p->err)) {
        case RC_DV_READY:
            break;
        case RC_DV_WAIT:
            *waiting = 1;
            break;
        case RC_DV_CREATE:
            *waiting = 1;
            mk = rc_restore_dv_build(p->restore, t);
            rc = mk ? rc_api_create(NULL, p->c, &rc_gvr_dv, p->c->ns, mk,
                                    &p->err)
                    : kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
            if (rc < 0 && rc != KUBE_ENOMEM) {
                rc_event(p->c, p->restore, "Warning", RC_EV_DV_CREATE_ERROR,
                         "Error creating restore DataVolume %s: %s", name,
                         p->err.msg);
                rc = KUBE_ERR;
            }
            json_decref(mk);
            break;
        case RC_DV_FAILED:
            rc = KUBE_EINVAL;
            break;
        }
        json_decref(pvc);
        json_decref(dv);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Writes the restored VM: Update of the existing target, or Create of
 * the new one (halted, patches applied). */
static int write_vm(struct pass *p, const json_t *vm)
{
    if (p->target)
        return rc_api_update(NULL, p->c, &rc_gvr_vm, vm, &p->err);
    return rc_api_create(NULL, p->c, &rc_gvr_vm, p->c->ns, vm, &p->err);
}

/* What the target reconcile records in the status before it writes the
 * VM (dataVolumeName, deletedDataVolumes), so a crash after the VM write
 * loses nothing. Returns 1 when the status changed. */
static int record(struct pass *p, const json_t *vm)
{
    json_t *del = NULL;
    int rc = rc_restore_deleted_dvs(&del, p->target, vm);

    if (rc < 0)
        return kube_err_set(&p->err, rc, "out of memory");
    if (json_array_size(del) ||
        json_object_get(p->status, "deletedDataVolumes"))
        json_object_set(p->status, "deletedDataVolumes", del);
    json_decref(del);
    return !json_equal(p->status, json_object_get(p->restore, "status"));
}

/* Step 11 (§6.3): skipped once the target carries this restore's
 * lastRestoreUID. */
static int target(struct pass *p)
{
    json_t *restores = json_object_get(p->status, "restores"), *vm = NULL;
    int changed = 0, waiting = 0, rc;

    if (rc_restore_target_done(&p->in))
        return KUBE_OK;
    rc = rc_restore_dv_names(restores, &changed, &p->in, &p->err);
    if (rc == KUBE_OK)
        rc = adopt_claims(p, restores);
    if (rc == KUBE_OK)
        rc = rc_restore_target_vm(&vm, &p->in, restores, &p->err);
    if (rc == KUBE_OK)
        rc = datavolumes(p, vm, &waiting);
    if (rc == KUBE_OK)
        rc = record(p, vm);
    if (rc == 0 && !waiting) /* 1: the status changed, written first */
        rc = write_vm(p, vm);
    json_decref(vm);
    if (rc == KUBE_EINVAL)
        return settle_error(p, 0);
    if (rc < 0)
        return rc;
    return stage(p, RC_RESTORE_TARGET);
}

/* §6.3.6: claims the new VM should own (owned-by-vm) get its reference.
 * Run on every pass after the VM write, so a crash between the VM's
 * create and these updates is finished by the next pass. */
static int own_claims(struct pass *p)
{
    const json_t *e;
    size_t i;
    int rc = KUBE_OK;

    json_array_foreach(json_object_get(p->status, "restores"), i, e)
    {
        json_t *pvc = get(p, "PersistentVolumeClaim",
                          kube_json_str(e, "persistentVolumeClaim"));
        json_t *upd = NULL;

        if (pvc)
            rc = rc_restore_pvc_own(&upd, pvc, p->target, p->restore);
        if (rc == KUBE_OK && upd)
            rc = rc_api_update(NULL, p->c, &rc_gvr_pvc, upd, &p->err);
        json_decref(upd);
        json_decref(pvc);
        if (rc < 0)
            return kube_err_set(&p->err, rc, "%s", p->err.msg);
    }
    return rc;
}

/* Step 12: the DataVolumes the restored VM no longer has. */
static int drop_old_dvs(struct pass *p)
{
    const json_t *n;
    size_t i;
    int rc = KUBE_OK;

    json_array_foreach(json_object_get(p->status, "deletedDataVolumes"), i, n)
    {
        json_t *dv = get(p, "DataVolume", json_string_value(n));

        if (dv)
            rc = rc_api_delete(p->c, &rc_gvr_dv, p->c->ns, json_string_value(n),
                               NULL, &p->err);
        json_decref(dv);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Step 13 and §6.6: restoreInProgress (and memoryDumpRequest) cleared
 * when they name this restore. */
static int release_vm(struct pass *p)
{
    json_t *upd = NULL;
    int rc = rc_restore_vm_release(&upd, p->target, p->restore);

    if (rc < 0)
        return kube_err_set(&p->err, rc, "out of memory");
    if (!upd)
        return KUBE_OK;
    rc = put_vm_status_new(p, upd);
    return rc == KUBE_ENOTFOUND ? KUBE_OK : rc;
}

/* Steps 12-14. */
static int finish(struct pass *p)
{
    int rc;

    if (!p->target) { /* created, not in the cache yet: its event comes */
        p->done = 1;
        return KUBE_OK;
    }
    rc = own_claims(p);
    if (rc == KUBE_OK)
        rc = drop_old_dvs(p);
    if (rc == KUBE_OK)
        rc = release_vm(p);
    if (rc < 0)
        return rc;
    snprintf(p->ev, sizeof(p->ev), RC_EV_RESTORE_COMPLETE_FMT, p->c->name);
    return stage(p, RC_RESTORE_COMPLETE);
}

/* §6.6 plus what KubeVirt leaves behind: a restore deleted before it
 * changed the VM takes back the claims and DataVolumes it made (they
 * carry its lastRestoreUID, or its name and prePopulated); the user's
 * own claims never carry it. Once the VM points at them, they stay. */
static int undo(struct pass *p)
{
    static const struct {
        const char *kind, *field;
        const struct kube_gvr *gvr;
    } made[] = {
        {"PersistentVolumeClaim", "persistentVolumeClaim", &rc_gvr_pvc},
        {"DataVolume", "dataVolumeName", &rc_gvr_dv},
    };
    json_t *list = NULL, *e, *obj;
    int changed, rc = KUBE_OK;
    size_t i, k;

    if (kube_json_true(p->restore, "status.complete"))
        return KUBE_OK;
    if (rc_restore_volumes(&list, &changed, &p->in, &p->err) < 0)
        list = json_incref(kube_json_path(p->restore, "status.restores"));
    json_array_foreach(list, i, e)
    {
        for (k = 0; k < 2 && rc == KUBE_OK; k++) {
            obj = get(p, made[k].kind, kube_json_str(e, made[k].field));
            if (obj && rc_restore_undoable(obj, p->restore, p->target))
                rc = rc_api_delete(p->c, made[k].gvr, p->c->ns,
                                   kube_json_str0(obj, "metadata.name"),
                                   kube_json_str(obj, "metadata.uid"), &p->err);
            json_decref(obj);
        }
    }
    json_decref(list);
    return rc;
}

/* Step 3, §6.6: undo, release the VM, say so, then the finalizer. */
static int deletion(struct pass *p)
{
    int rc;

    if (!rc_has_finalizer(p->restore, RC_RESTORE_FINALIZER))
        return KUBE_OK;
    rc = undo(p);
    if (rc == KUBE_OK)
        rc = release_vm(p);
    if (rc == KUBE_OK)
        rc = stage(p, RC_RESTORE_DELETING);
    if (rc == KUBE_OK)
        rc = rc_api_finalizer(NULL, p->c, &rc_gvr_restore, p->restore,
                              RC_RESTORE_FINALIZER, 0, &p->err);
    return rc;
}

static int steps(struct pass *p)
{
    int rc = KUBE_OK;

    if (strcmp(kube_json_str0(p->restore, "spec.target.kind"),
               "VirtualMachine") != 0) {
        kube_err_set(&p->err, KUBE_EINVAL, "unknown source %s %s",
                     kube_json_str0(p->restore, "spec.target.kind"),
                     kube_json_str0(p->restore, "spec.target.name"));
        return settle_error(p, 1);
    }
    if (!json_is_object(json_object_get(p->restore, "status")))
        return stage(p, RC_RESTORE_INIT);
    if (rc_deleting(p->restore))
        return deletion(p);
    if (rc_restore_terminal(p->restore))
        return KUBE_OK;
    rc = claim(p);
    if (rc == KUBE_OK)
        rc = checks(p);
    if (rc == KUBE_OK && !p->done)
        rc = mark_busy(p);
    if (rc == KUBE_OK && !p->done)
        rc = volumes(p);
    if (rc == KUBE_OK && !p->done)
        rc = target(p);
    if (rc == KUBE_OK && !p->done)
        rc = finish(p);
    return rc;
}

int rc_restore_reconcile(struct rc_call *c)
{
    struct rc_env *env = c->ctx;
    struct pass p = {.c = c, .env = env};
    int rc;

    p.restore = rc_env_begin(c, "VirtualMachineRestore");
    if (!p.restore)
        return KUBE_OK;
    rc = load(&p);
    if (rc == KUBE_OK)
        rc = steps(&p);
    rc_env_log_failure(c, "restore", rc, p.err.msg);
    json_decref(p.status);
    json_decref(p.vmi);
    json_decref(p.target);
    json_decref(p.content);
    json_decref(p.snapshot);
    json_decref(p.restore);
    return rc < 0 ? rc : KUBE_OK;
}

void rc_restore_watch(struct rc_manager *m, size_t self, const char *kind,
                      const json_t *obj, void *ctx)
{
    struct rc_env *env = ctx;
    const char *ns = kube_json_str0(obj, "metadata.namespace");
    const char *owner = rc_restore_ann(obj, RC_ANN_RESTORE_NAME);
    char key[2 * RC_NAME_MAX];
    json_t *all = NULL, *r;
    size_t i;

    if (strcmp(kind, "PersistentVolumeClaim") == 0 ||
        strcmp(kind, "DataVolume") == 0) {
        if (*owner &&
            snprintf(key, sizeof(key), "%s/%s", ns, owner) < (int)sizeof(key))
            rc_manager_enqueue(m, self, key, 0);
        return;
    }
    if (kube_store_list(&all, env->store, "VirtualMachineRestore", ns) < 0)
        return;
    json_array_foreach(all, i, r)
    {
        if (rc_restore_terminal(r) && !rc_deleting(r))
            continue;
        if (rc_restore_concerns(r, kind, obj) &&
            rc_key_of(key, sizeof(key), r) == KUBE_OK)
            rc_manager_enqueue(m, self, key, 0);
    }
    json_decref(all);
}
