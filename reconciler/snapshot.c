/* reconciler/snapshot.c - the VirtualMachineSnapshot worker (spec §4):
 * finalizer, source lock, content creation, content deletion, status
 * written once per reconcile, finalizer removal, timed re-queue at the
 * failureDeadline. */
#include "reconciler/snapshot.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/log.h"
#include "reconciler/api.h"
#include "reconciler/controllers.h"

/* One reconcile's view: everything read once at its start. */
struct pass {
    struct rc_call *c;
    struct rc_env *env;
    json_t *snap;    /* new reference */
    json_t *content; /* new reference, or NULL */
    struct rc_source src;
    int64_t deadline_ms, left_ms;
    int progressing, exceeded, deleting, terminating;
    int lock_tried;
    char lockmsg[512];
    char failure[512]; /* a reason that fails the snapshot, or "" */
    struct kube_err err;
};

static int load(struct pass *p)
{
    const char *phase;
    char cname[2 * RC_NAME_MAX];
    int rc = rc_source_load(&p->src, p->env->store, p->snap, &p->err);

    if (rc < 0)
        return rc;
    rc_content_name(cname, sizeof(cname), p->snap);
    if (kube_store_get(&p->content, p->env->store,
                       "VirtualMachineSnapshotContent", p->c->ns, cname) < 0)
        p->content = NULL;
    rc = rc_deadline(&p->deadline_ms, &p->left_ms, p->snap, &p->err);
    if (rc < 0) /* the spec is immutable: a retry reads the same text */
        return rc == KUBE_EINVAL ? RC_NORETRY : rc;
    phase = kube_json_str0(p->snap, "status.phase");
    p->progressing =
        strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0;
    p->exceeded = strcmp(phase, "Failed") == 0 ||
                  (p->progressing && p->deadline_ms != 0 && p->left_ms < 0);
    p->deleting = rc_deleting(p->snap);
    p->terminating = p->deleting || p->exceeded;
    snprintf(p->lockmsg, sizeof(p->lockmsg), "%s",
             p->src.locked ? "Source locked and operation in progress"
                           : "Source not locked");
    return KUBE_OK;
}

static int create_content(struct pass *p)
{
    json_t *content = NULL, *made = NULL;
    int rc = rc_content_build(&content, p->failure, sizeof(p->failure),
                              p->env->store, p->snap, &p->src);

    if (rc < 0)
        return kube_err_set(&p->err, rc, "content: out of memory");
    if (!content)
        return KUBE_OK; /* p->failure says why */
    rc =
        rc_api_create(&made, p->c, &rc_gvr_content, p->c->ns, content, &p->err);
    if (rc == KUBE_OK) {
        rc_event(p->c, p->snap, "Normal",
                 "SuccessfulVirtualMachineSnapshotContentCreate",
                 "Successfully created VirtualMachineSnapshotContent %s",
                 kube_json_str0(content, "metadata.name"));
        p->content = made; /* NULL when it existed: the cache shows it */
    }
    json_decref(content);
    return rc;
}

/* §4 step 5: lock and content while progressing; unlock after. */
static int lock_and_content(struct pass *p)
{
    const char *name = p->c->name;
    int rc = KUBE_OK, can_unlock;

    if (!p->src.vm)
        return KUBE_OK;
    if (p->progressing && !p->terminating) {
        if (!p->src.locked) {
            p->lock_tried = 1;
            rc = rc_source_lock(p->c, &p->src, p->snap, p->lockmsg,
                                sizeof(p->lockmsg), &p->err);
        }
        if (rc == KUBE_OK && p->src.locked && !p->content)
            rc = create_content(p);
        return rc;
    }
    can_unlock =
        !p->progressing ||
        (p->terminating &&
         (!p->content || !rc_should_delete_content(p->snap, p->content)));
    if (can_unlock)
        rc = rc_source_unlock(p->c, &p->src, name, &p->err);
    return rc;
}

/* §4 step 6 and Retain: delete the content, or let it go. */
static int settle_content(struct pass *p)
{
    const char *uid = kube_json_str0(p->snap, "metadata.uid");

    if (!p->terminating || !p->content)
        return KUBE_OK;
    if (rc_should_delete_content(p->snap, p->content)) {
        if (rc_deleting(p->content))
            return KUBE_OK;
        return rc_api_delete(p->c, &rc_gvr_content, p->c->ns,
                             kube_json_str0(p->content, "metadata.name"), NULL,
                             &p->err);
    }
    if (!p->deleting)
        return KUBE_OK;
    /* Retain: the ready content outlives the snapshot */
    return rc_api_drop_owner(p->c, &rc_gvr_content, p->content, uid, &p->err);
}

/* §4.4 step 7: one status write, only when something changed. */
static int write_status(struct pass *p)
{
    struct rc_status_in in = {
        .snap = p->snap,
        .content = p->content,
        .src = &p->src,
        .exceeded = p->exceeded,
        .lockmsg = p->lockmsg,
        .failure = *p->failure ? p->failure : NULL,
    };
    json_t *st = rc_snapshot_status(&in), *obj;
    int rc;

    if (!st)
        return kube_err_set(&p->err, KUBE_ENOMEM, "status: out of memory");
    if (json_equal(st, json_object_get(p->snap, "status"))) {
        json_decref(st);
        return KUBE_OK;
    }
    obj = json_deep_copy(p->snap);
    if (!obj || json_object_set_new(obj, "status", st) < 0) {
        json_decref(obj);
        return kube_err_set(&p->err, KUBE_ENOMEM, "status: out of memory");
    }
    rc = rc_api_update_status(NULL, p->c, &rc_gvr_snapshot, obj, &p->err);
    json_decref(obj);
    return rc;
}

/* §4 step 8: the finalizer comes off last, once the source is unlocked and
 * the content is deleted or let go. */
static int release(struct pass *p)
{
    if (!p->deleting || p->src.locked)
        return KUBE_OK;
    if (p->content && rc_should_delete_content(p->snap, p->content) &&
        !rc_deleting(p->content) && !p->exceeded)
        return KUBE_OK; /* the DELETE has not shown in the cache yet */
    return rc_api_finalizer(NULL, p->c, &rc_gvr_snapshot, p->snap,
                            RC_SNAPSHOT_FINALIZER, 0, &p->err);
}

static void requeue(struct pass *p)
{
    if (p->lock_tried && !p->src.locked)
        p->c->requeue_after_ms = p->env->o.retry_ms;
    else if (p->progressing && !p->terminating && p->deadline_ms != 0 &&
             !*p->failure)
        /* re-examined right at the deadline, even with no event */
        p->c->requeue_after_ms = (long)p->left_ms + 100;
}

static int steps(struct pass *p)
{
    int rc = load(p);

    if (rc != KUBE_OK)
        return rc;
    if (!p->terminating) {
        json_t *patched = NULL;
        rc = rc_api_finalizer(&patched, p->c, &rc_gvr_snapshot, p->snap,
                              RC_SNAPSHOT_FINALIZER, 1, &p->err);
        if (json_is_object(patched)) { /* the status write carries its RV */
            json_decref(p->snap);
            p->snap = patched;
        } else
            json_decref(patched);
    }
    if (rc == KUBE_OK)
        rc = lock_and_content(p);
    if (rc == KUBE_OK)
        rc = settle_content(p);
    if (rc == KUBE_OK)
        rc = write_status(p);
    if (rc == KUBE_OK && *p->failure) /* Failed now: unlock at once */
        rc = rc_source_unlock(p->c, &p->src, p->c->name, &p->err);
    if (rc == KUBE_OK)
        rc = release(p);
    if (rc == KUBE_OK)
        requeue(p);
    return rc;
}

int rc_snapshot_reconcile(struct rc_call *c)
{
    struct rc_env *env = c->ctx;
    struct pass p = {.c = c, .env = env};
    int rc;

    if (env->synced && !env->synced(env->synced_ctx)) {
        c->requeue_after_ms = 200; /* caches first, as KubeVirt waits */
        return KUBE_OK;
    }
    if (kube_store_get(&p.snap, env->store, "VirtualMachineSnapshot", c->ns,
                       c->name) < 0)
        return KUBE_OK; /* gone: nothing left to do */
    rc = steps(&p);
    if ((rc < 0 && rc != KUBE_ECONFLICT) || rc == RC_NORETRY)
        kube_log(KUBE_LOG_WARN, "snapshot reconcile failed", "{s:s, s:s, s:s}",
                 "namespace", c->ns, "name", c->name, "error", p.err.msg);
    rc_source_free(&p.src);
    json_decref(p.content);
    json_decref(p.snap);
    return rc;
}

/* The snapshots of VM ns/name (events on VMs and VMIs). */
static void enqueue_for_vm(struct rc_manager *m, size_t self,
                           struct rc_env *env, const json_t *obj)
{
    const char *ns = kube_json_str0(obj, "metadata.namespace");
    const char *name = kube_json_str0(obj, "metadata.name");
    json_t *all = NULL, *s;
    size_t i;

    if (kube_store_list(&all, env->store, "VirtualMachineSnapshot", ns) < 0)
        return;
    json_array_foreach(all, i, s)
    {
        char key[2 * RC_NAME_MAX];
        if (strcmp(kube_json_str0(s, "spec.source.name"), name) == 0 &&
            rc_key_of(key, sizeof(key), s) == KUBE_OK)
            rc_manager_enqueue(m, self, key, 0);
    }
    json_decref(all);
}

void rc_snapshot_watch(struct rc_manager *m, size_t self, const char *kind,
                       const json_t *obj, void *ctx)
{
    char key[2 * RC_NAME_MAX];

    if (strcmp(kind, "VirtualMachineSnapshotContent") == 0) {
        const char *s = kube_json_str0(obj, "spec.virtualMachineSnapshotName");
        if (*s && snprintf(key, sizeof(key), "%s/%s",
                           kube_json_str0(obj, "metadata.namespace"),
                           s) < (int)sizeof(key))
            rc_manager_enqueue(m, self, key, 0);
    } else if (strcmp(kind, "VirtualMachine") == 0 ||
               strcmp(kind, "VirtualMachineInstance") == 0) {
        enqueue_for_vm(m, self, ctx, obj);
    }
}
