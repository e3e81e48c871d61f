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

struct cpass {
    struct rc_call *c;
    struct rc_env *env;
    json_t *content; /* new reference */
    json_t *snap;    /* new reference, or NULL: the snapshot is gone */
    json_t *fake;    /* a stand-in snapshot naming the source, or NULL */
    struct rc_source src;
    int terminating;
    int froze;        /* this pass froze the guest */
    int freeze_error; /* the freeze call failed */
    json_t *statuses; /* volumeSnapshotStatus being built */
    char deleted[512], skipped[512], errmsg[512];
    int created, ready;
    struct kube_err err;
};

static int load(struct cpass *p)
{
    const char *sname =
        kube_json_str0(p->content, "spec.virtualMachineSnapshotName");
    int64_t dl, left;

    if (!*sname) { /* the spec is immutable: retrying cannot help */
        kube_err_set(&p->err, KUBE_EINVAL,
                     "VirtualMachineSnapshotName is not initialized in vm "
                     "snapshot content");
        return RC_NORETRY;
    }
    if (kube_store_get(&p->snap, p->env->store, "VirtualMachineSnapshot",
                       p->c->ns, sname) < 0)
        p->snap = NULL;
    if (!p->snap) /* the source still matters: a thaw on the way out */
        p->fake = json_pack(
            "{s:{s:s, s:s}, s:{s:{s:s, s:s}}}", "metadata", "name", sname,
            "namespace", p->c->ns, "spec", "source", "kind", "VirtualMachine",
            "name",
            kube_json_str0(p->content,
                           "spec.source.virtualMachine.metadata.name"));
    if (rc_source_load(&p->src, p->env->store, p->snap ? p->snap : p->fake,
                       &p->err) < 0)
        memset(&p->src, 0, sizeof(p->src)); /* no source: nothing to thaw */
    p->terminating =
        !p->snap || rc_deleting(p->snap) ||
        strcmp(kube_json_str0(p->snap, "status.phase"), "Failed") == 0;
    if (p->snap && !p->terminating &&
        rc_deadline(&dl, &left, p->snap, NULL) == KUBE_OK && dl != 0 &&
        left < 0 &&
        strcmp(kube_json_str0(p->snap, "status.phase"), "Succeeded") != 0)
        p->terminating = 1;
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

/* §5.1 step 2: the snapshot is gone or terminating. Returns 1 when the
 * reconcile ends here. */
static int wind_down(struct cpass *p, int *done)
{
    struct kube_err uerr = {0};
    int del = rc_deleting(p->content) ||
              (p->snap && rc_should_delete_content(p->snap, p->content));
    int rc;

    *done = 0;
    if (rc_source_unfreeze(p->c, &p->src, 1, &uerr) < 0)
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

static void append_name(char *buf, size_t len, const char *name)
{
    size_t used = strlen(buf);

    snprintf(buf + used, len - used, "%s%s", used ? "," : "", name);
}

/* Freezes the guest once per pass, then creates the VolumeSnapshot of
 * backup b; *vs is the object as created (NULL when it existed). */
static int create_volume_snapshot(json_t **vs, struct cpass *p, const json_t *b,
                                  const char *dl)
{
    const char *name = kube_json_str0(b, "volumeSnapshotName");
    const char *vm =
        kube_json_str0(p->content, "spec.source.virtualMachine.metadata.name");
    char cls[RC_NAME_MAX];
    json_t *obj = NULL;
    int rc = KUBE_OK;

    if (!p->froze) {
        rc = rc_source_freeze(p->c, &p->src, dl, &p->froze, &p->err);
        p->freeze_error = rc < 0;
        if (rc < 0)
            return rc;
        p->src.frozen |= p->froze; /* once per pass */
    }
    rc = rc_volume_snapshot_class(
        cls, sizeof(cls), p->env->store,
        kube_json_str0(b, "persistentVolumeClaim.spec.storageClassName"),
        &p->err);
    if (rc == KUBE_OK && !*cls)
        rc = kube_err_set(&p->err, KUBE_EINVAL,
                          "%s/%s VolumeSnapshot requested but no "
                          "VolumeSnapshotClass",
                          p->c->ns, name);
    if (rc == KUBE_OK)
        obj = rc_volume_snapshot_build(p->content, b, vm, cls);
    if (rc == KUBE_OK)
        rc = obj ? rc_api_create(vs, p->c, &rc_gvr_volsnap, p->c->ns, obj,
                                 &p->err)
                 : KUBE_ENOMEM;
    if (rc == KUBE_OK)
        rc_event(p->c, p->content, "Normal", "SuccessfulVolumeSnapshotCreate",
                 "Successfully created VolumeSnapshot %s", name);
    json_decref(obj);
    return rc;
}

/* One backup's VolumeSnapshot: found, created, or recorded missing. */
static int one_volume(struct cpass *p, const json_t *b, const char *dl)
{
    const char *name = kube_json_str0(b, "volumeSnapshotName");
    json_t *vs = NULL, *e;
    const json_t *st;
    int rc;

    if (kube_store_get(&vs, p->env->store, "VolumeSnapshot", p->c->ns, name) <
        0)
        vs = NULL;
    if (!vs && kube_json_str(p->content, "status.creationTime")) {
        rc_event(p->c, p->content, "Warning", "VolumeSnapshotMissing",
                 "VolumeSnapshot %s no longer exists", name);
        append_name(p->deleted, sizeof(p->deleted), name);
        return KUBE_OK;
    }
    if (!vs && (!p->snap || rc_deleting(p->snap))) {
        append_name(p->skipped, sizeof(p->skipped), name);
        return KUBE_OK;
    }
    if (!vs) {
        rc = create_volume_snapshot(&vs, p, b, dl);
        if (rc < 0)
            return rc;
    }
    e = json_pack("{s:s}", "volumeSnapshotName", name);
    st = json_object_get(vs, "status");
    if (e && json_is_object(st)) {
        if (kube_json_str(st, "creationTime"))
            json_object_set(e, "creationTime",
                            json_object_get(st, "creationTime"));
        json_object_set_new(e, "readyToUse",
                            json_boolean(kube_json_true(st, "readyToUse")));
        if (json_is_object(json_object_get(st, "error")))
            json_object_set(e, "error", json_object_get(st, "error"));
    }
    json_array_append_new(p->statuses, e);
    json_decref(vs);
    return KUBE_OK;
}

/* §5.1 step 5: created, ready and the error message. */
static void aggregate(struct cpass *p)
{
    json_t *e;
    size_t i;

    p->created = p->ready = 0;
    if (*p->deleted) {
        snprintf(p->errmsg, sizeof(p->errmsg), "VolumeSnapshots (%s) missing",
                 p->deleted);
        return;
    }
    if (*p->skipped) {
        snprintf(p->errmsg, sizeof(p->errmsg),
                 "VolumeSnapshots (%s) skipped because vm snapshot is deleted",
                 p->skipped);
        return;
    }
    p->created = p->ready = 1;
    json_array_foreach(p->statuses, i, e)
    {
        const char *m = kube_json_str0(e, "error.message");
        p->created &= kube_json_str(e, "creationTime") != NULL;
        p->ready &= kube_json_true(e, "readyToUse");
        if (*m && !*p->errmsg)
            snprintf(p->errmsg, sizeof(p->errmsg),
                     "VolumeSnapshot %s error: %s",
                     kube_json_str0(e, "volumeSnapshotName"), m);
    }
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

/* §5.1 steps 6-8: the status, written when it changed. */
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

static int write_status(struct cpass *p, json_t *st)
{
    json_t *obj;
    int rc;

    if (json_equal(st, json_object_get(p->content, "status")) ||
        nothing_to_say(p, st))
        return KUBE_OK;
    obj = json_deep_copy(p->content);
    if (!obj || json_object_set(obj, "status", st) < 0) {
        json_decref(obj);
        return kube_err_set(&p->err, KUBE_ENOMEM, "out of memory");
    }
    rc = rc_api_update_status(NULL, p->c, &rc_gvr_content, obj, &p->err);
    json_decref(obj);
    return rc;
}

static int finish(struct cpass *p)
{
    const json_t *old = json_object_get(p->content, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    char now[32];
    int rc = KUBE_OK;

    aggregate(p);
    if (p->created && !json_object_get(st, "creationTime")) {
        rc = rc_source_unfreeze(p->c, &p->src, 1, &p->err);
        if (rc == KUBE_OK) {
            rc_time_now(now);
            json_object_set_new(st, "creationTime", json_string(now));
            p->froze = 0; /* thawed */
        } else if (strstr(p->err.msg, "fsfreeze is limited")) {
            set_error(st, p->err.msg); /* Windows VSS: recorded, retried */
            json_object_set_new(st, "readyToUse", json_false());
            p->c->requeue_after_ms = p->env->o.retry_ms;
            rc = write_status(p, st);
            json_decref(st);
            return rc;
        }
    }
    if (rc == KUBE_OK) {
        if (*p->errmsg && !p->ready)
            set_error(st, p->errmsg);
        else if (!*p->errmsg)
            json_object_del(st, "error");
        json_object_set_new(st, "readyToUse", json_boolean(p->ready));
        json_object_set(st, "volumeSnapshotStatus", p->statuses);
        rc = write_status(p, st);
    }
    json_decref(st);
    return rc;
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

static int steps(struct cpass *p)
{
    const json_t *backups = kube_json_path(p->content, "spec.volumeBackups");
    char dl[32] = "0s";
    int64_t dms = 0, left;
    json_t *b;
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
    if (p->snap && rc_deadline(&dms, &left, p->snap, NULL) == KUBE_OK)
        kube_duration_format(dl, sizeof(dl), dms * 1000000); /* "5m0s" */
    p->statuses = json_array();
    json_array_foreach(backups, i, b)
    {
        if (!*kube_json_str0(b, "volumeSnapshotName"))
            continue;
        rc = one_volume(p, b, dl);
        if (rc < 0)
            return p->freeze_error ? freeze_failed(p) : rc;
    }
    return finish(p);
}

int rc_content_reconcile(struct rc_call *c)
{
    struct rc_env *env = c->ctx;
    struct cpass p = {.c = c, .env = env};
    struct kube_err uerr = {0};
    int rc;

    if (env->synced && !env->synced(env->synced_ctx)) {
        c->requeue_after_ms = 200;
        return KUBE_OK;
    }
    if (kube_store_get(&p.content, env->store, "VirtualMachineSnapshotContent",
                       c->ns, c->name) < 0)
        return KUBE_OK;
    rc = steps(&p);
    if (rc < 0 && p.froze && rc_source_unfreeze(c, &p.src, 0, &uerr) < 0)
        kube_log(KUBE_LOG_WARN, "unfreeze failed", "{s:s, s:s, s:s}",
                 "namespace", c->ns, "content", c->name, "error", uerr.msg);
    if ((rc < 0 && rc != KUBE_ECONFLICT) || rc == RC_NORETRY)
        kube_log(KUBE_LOG_WARN, "content reconcile failed", "{s:s, s:s, s:s}",
                 "namespace", c->ns, "name", c->name, "error", p.err.msg);
    rc_source_free(&p.src);
    json_decref(p.statuses);
    json_decref(p.fake);
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
        rc_content_name(name, sizeof(name), obj);
        snprintf(key, sizeof(key), "%s/%s", ns, name);
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
