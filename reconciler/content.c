/* reconciler/content.c - the VirtualMachineSnapshotContent worker (spec
 * §5.1): freeze, VolumeSnapshots owned by the content, thaw once they are
 * all created, content status from them; on a terminating snapshot thaw,
 * delete the VolumeSnapshots (with the content) and drop the finalizer. */
#include "reconciler/snapshot.h"

#include <stdio.h>
#include <string.h>

#include "kube/duration.h"
#include "kube/json.h"
#include "kube/log.h"
#include "reconciler/api.h"
#include "reconciler/controllers.h"
#include "reconciler/lock.h"
#include "reconciler/snapshot_logic.h"

struct cpass {
    struct rc_call *c;
    struct rc_env *env;
    json_t *content;  /* new reference */
    json_t *snap;     /* new reference, or NULL: the snapshot is gone */
    json_t *vm, *vmi; /* new references, or NULL */
    struct rc_source src;
    struct rc_content_eval ev;
    int terminating;
    int froze;        /* this pass froze the guest */
    int freeze_error; /* the freeze call failed */
    int64_t now_ms;
    struct kube_err err;
};

static int load(struct cpass *p)
{
    const char *sname =
        kube_json_str0(p->content, "spec.virtualMachineSnapshotName");
    const char *vm;
    int64_t left;

    if (!*sname) { /* the spec is immutable: retrying cannot help */
        kube_err_set(&p->err, KUBE_EINVAL,
                     "VirtualMachineSnapshotName is not initialized in vm "
                     "snapshot content");
        return RC_NORETRY;
    }
    p->snap = rc_env_get(p->env, "VirtualMachineSnapshot", p->c->ns, sname);
    /* the source matters even without the snapshot: a thaw on the way out */
    vm = p->snap ? kube_json_str0(p->snap, "spec.source.name")
                 : kube_json_str0(p->content,
                                  "spec.source.virtualMachine.metadata.name");
    p->vm = rc_env_get(p->env, "VirtualMachine", p->c->ns, vm);
    p->vmi = rc_env_get(p->env, "VirtualMachineInstance", p->c->ns, vm);
    rc_source_state(&p->src, p->vm, p->vmi, sname);
    p->now_ms = rc_now_ms();
    p->terminating = !p->snap || rc_deleting(p->snap) ||
                     rc_deadline(&left, p->snap, p->now_ms, NULL) == 1;
    return KUBE_OK;
}

static int delete_volume_snapshots(struct cpass *p)
{
    const json_t *backups = kube_json_path(p->content, "spec.volumeBackups");
    json_t *b;
    size_t i;

    json_array_foreach(backups, i, b)
    {
        const char *vs = kube_json_str0(b, "volumeSnapshotName");
        int rc;
        if (!*vs)
            continue;
        rc = rc_api_delete(p->c, &rc_gvr_volsnap, p->c->ns, vs, NULL, &p->err);
        if (rc < 0)
            return rc;
    }
    return KUBE_OK;
}

/* §5.1 step 2: the snapshot is gone or terminating: thaw, delete the
 * VolumeSnapshots with a content that goes, drop the finalizer. *done
 * says the reconcile ends here. */
static int wind_down(struct cpass *p, int *done)
{
    struct kube_err uerr = {0};
    int del = rc_deleting(p->content) ||
              (p->snap && rc_should_delete_content(p->snap, p->content));
    int rc;

    *done = 0;
    if (rc_guest_unfreeze(p->c, &p->src, p->vmi, 1, &uerr) < 0)
        kube_log(KUBE_LOG_WARN, "unfreeze failed", "{s:s, s:s, s:s}",
                 "namespace", p->c->ns, "content", p->c->name, "error",
                 uerr.msg);
    if (del) {
        rc = delete_volume_snapshots(p);
        if (rc < 0)
            return rc;
    }
    rc = rc_api_finalizer(NULL, p->c, &rc_gvr_content, p->content,
                          RC_CONTENT_FINALIZER, 0, &p->err);
    *done = del;
    return rc;
}

/* The failureDeadline as Go prints it ("5m0s"): the freeze's
 * unfreezeTimeout, after which virt-launcher thaws by itself. */
static void unfreeze_timeout(char *buf, size_t len, const json_t *snap)
{
    const char *fd = kube_json_str0(snap, "spec.failureDeadline");
    int64_t ns = (int64_t)RC_DEFAULT_FAILURE_DEADLINE_MS * 1000000;

    if (*fd && kube_duration_parse(&ns, fd, 1, NULL) < 0)
        ns = (int64_t)RC_DEFAULT_FAILURE_DEADLINE_MS * 1000000;
    kube_duration_format(buf, len, ns);
}

/* Freezes the guest once per pass, then creates the VolumeSnapshot of
 * backup b (borrowed). */
static int create_volume_snapshot(struct cpass *p, const json_t *b)
{
    const char *name = kube_json_str0(b, "volumeSnapshotName");
    char cls[RC_NAME_MAX], dl[32];
    json_t *obj = NULL;
    int rc = KUBE_OK;

    if (!p->froze) {
        unfreeze_timeout(dl, sizeof(dl), p->snap);
        rc = rc_guest_freeze(p->c, &p->src, p->vmi, dl, &p->froze, &p->err);
        p->freeze_error = rc < 0;
        if (rc < 0)
            return rc;
        p->src.frozen |= p->froze; /* once per pass */
    }
    rc = rc_vsclass_for_storage_class(
        cls, sizeof(cls), p->env->store,
        kube_json_str0(b, "persistentVolumeClaim.spec.storageClassName"),
        &p->err);
    if (rc == KUBE_OK && !*cls)
        rc = kube_err_set(&p->err, KUBE_EINVAL,
                          "%s/%s VolumeSnapshot requested but no "
                          "VolumeSnapshotClass",
                          p->c->ns, name);
    if (rc == KUBE_OK)
        rc = rc_volume_snapshot_build(&obj, p->content, b, cls, &p->err);
    if (rc == KUBE_OK)
        rc = rc_api_create(NULL, p->c, &rc_gvr_volsnap, p->c->ns, obj, &p->err);
    if (rc == KUBE_OK)
        rc_event(p->c, p->content, "Normal", "SuccessfulVolumeSnapshotCreate",
                 "Successfully created VolumeSnapshot %s", name);
    json_decref(obj);
    return rc;
}

static void set_error(json_t *st, const char *msg)
{
    char now[32];

    if (strcmp(kube_json_str0(st, "error.message"), msg) == 0)
        return; /* no timestamp churn */
    rc_time_now(now);
    json_object_set_new(st, "error",
                        json_pack("{s:s, s:s}", "time", now, "message", msg));
}

/* 1 when st says nothing yet: no content status so far, and its
 * VolumeSnapshots have no status of their own (just created). Their
 * first status brings the next reconcile; writing now would cost a
 * content and a snapshot status write for no news. */
static int nothing_to_say(const struct cpass *p, const json_t *st)
{
    const json_t *e;
    size_t i;

    if (json_object_get(p->content, "status") ||
        json_object_get(st, "creationTime") || json_object_get(st, "error"))
        return 0;
    json_array_foreach(json_object_get(st, "volumeSnapshotStatus"), i, e)
    {
        if (json_object_size(e) > 1)
            return 0;
    }
    return json_array_size(json_object_get(st, "volumeSnapshotStatus")) > 0;
}

/* §5.1 step 8: the status, written when it changed. */
static int write_status(struct cpass *p, json_t *st)
{
    if (!rc_status_differs(st, json_object_get(p->content, "status")) ||
        nothing_to_say(p, st))
        return KUBE_OK;
    return rc_api_put_status(NULL, p->c, &rc_gvr_content, p->content, st,
                             &p->err);
}

/* A freeze failed: the content says so and the worker retries (§5.2). */
static int freeze_failed(struct cpass *p)
{
    const json_t *old = json_object_get(p->content, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    int rc;

    set_error(st, p->err.msg);
    json_object_set_new(st, "readyToUse", json_false());
    rc = write_status(p, st);
    json_decref(st);
    p->c->requeue_after_ms = p->env->o.retry_ms;
    return rc;
}

/* §5.1 step 6: all created just now: thaw. A "fsfreeze is limited" thaw
 * error (the Windows VSS limit) is recorded and retried; others fail the
 * reconcile, creationTime not kept. */
static int thaw_when_created(struct cpass *p)
{
    json_t *st = p->ev.status;
    int rc;

    if (!p->ev.first_created)
        return KUBE_OK;
    rc = rc_guest_unfreeze(p->c, &p->src, p->vmi, 1, &p->err);
    if (rc == KUBE_OK) {
        p->froze = 0;
        return KUBE_OK;
    }
    if (!strstr(p->err.msg, "fsfreeze is limited"))
        return rc;
    json_object_del(st, "creationTime");
    set_error(st, p->err.msg);
    json_object_set_new(st, "readyToUse", json_false());
    p->c->requeue_after_ms = p->env->o.retry_ms;
    return KUBE_OK;
}

static int steps(struct cpass *p)
{
    json_t *v;
    size_t i;
    int rc = load(p), done = 0;

    if (rc != KUBE_OK)
        return rc;
    if (p->terminating) {
        rc = wind_down(p, &done);
        if (rc < 0 || done)
            return rc;
    }
    if (rc_deleting(p->content)) {
        p->c->requeue_after_ms = p->env->o.content_delete_ms;
        return KUBE_OK;
    }
    if (rc_content_evaluate(&p->ev, p->content, p->env->store,
                            !p->snap || rc_deleting(p->snap), p->now_ms) < 0)
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    json_array_foreach(p->ev.create, i, v)
    {
        rc = create_volume_snapshot(p, v);
        if (rc < 0)
            return p->freeze_error ? freeze_failed(p) : rc;
    }
    json_array_foreach(p->ev.deleted, i, v)
    {
        rc_event(p->c, p->content, "Warning", "VolumeSnapshotMissing",
                 "VolumeSnapshot %s no longer exists", json_string_value(v));
    }
    rc = thaw_when_created(p);
    return rc < 0 ? rc : write_status(p, p->ev.status);
}

int rc_content_reconcile(struct rc_call *c)
{
    struct rc_env *env = c->ctx;
    struct cpass p = {.c = c, .env = env};
    struct kube_err uerr = {0};
    int rc;

    p.content = rc_env_begin(c, "VirtualMachineSnapshotContent");
    if (!p.content)
        return KUBE_OK;
    rc = steps(&p);
    if (rc < 0 && p.froze && rc_guest_unfreeze(c, &p.src, p.vmi, 0, &uerr) < 0)
        kube_log(KUBE_LOG_WARN, "unfreeze failed", "{s:s, s:s, s:s}",
                 "namespace", c->ns, "content", c->name, "error", uerr.msg);
    rc_env_log_failure(c, "content", rc, p.err.msg);
    rc_content_eval_free(&p.ev);
    json_decref(p.vmi);
    json_decref(p.vm);
    json_decref(p.snap);
    json_decref(p.content);
    return rc;
}

void rc_content_watch(struct rc_manager *m, size_t self, const char *kind,
                      const json_t *obj, void *ctx)
{
    const char *ns = kube_json_str0(obj, "metadata.namespace");
    char key[3 * RC_NAME_MAX], name[2 * RC_NAME_MAX];
    const json_t *refs = kube_json_path(obj, "metadata.ownerReferences"), *r;
    size_t i;

    (void)ctx;
    if (strcmp(kind, "VirtualMachineSnapshot") == 0) {
        if (rc_content_name(name, sizeof(name), obj) == KUBE_OK &&
            snprintf(key, sizeof(key), "%s/%s", ns, name) < (int)sizeof(key))
            rc_manager_enqueue(m, self, key, 0);
        return;
    }
    if (strcmp(kind, "VolumeSnapshot") != 0)
        return;
    json_array_foreach(refs, i, r)
    {
        if (strcmp(kube_json_str0(r, "kind"),
                   "VirtualMachineSnapshotContent") == 0) {
            snprintf(key, sizeof(key), "%s/%s", ns, kube_json_str0(r, "name"));
            rc_manager_enqueue(m, self, key, 0);
        }
    }
}
