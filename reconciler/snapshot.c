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
#include "reconciler/lock.h"
#include "reconciler/snapshot_logic.h"

/* One reconcile's view: everything read once at its start. */
struct pass {
    struct rc_call *c;
    struct rc_env *env;
    json_t *snap;    /* new reference */
    json_t *vm;      /* new reference, or NULL: no such VM */
    json_t *vmi;     /* new reference, or NULL: offline */
    json_t *pvcs;    /* rc_source_pvcs, once needed */
    json_t *content; /* new reference, or NULL */
    struct rc_source src;
    int64_t left_ms, now_ms;
    int progressing, exceeded, deleting, terminating;
    int lock_tried;
    char failure[512]; /* a reason that fails the snapshot now, or "" */
    struct kube_err err;
};

static int load(struct pass *p)
{
    const char *vm = kube_json_str0(p->snap, "spec.source.name");
    const char *phase = kube_json_str0(p->snap, "status.phase");
    char cname[2 * RC_NAME_MAX];
    int rc;

    if (strcmp(kube_json_str0(p->snap, "spec.source.kind"), "VirtualMachine"))
        return kube_err_set(&p->err, KUBE_EINVAL, "unknown source %s %s",
                            kube_json_str0(p->snap, "spec.source.kind"), vm);
    p->vm = rc_env_get(p->env, "VirtualMachine", p->c->ns, vm);
    p->vmi = rc_env_get(p->env, "VirtualMachineInstance", p->c->ns, vm);
    rc_source_state(&p->src, p->vm, p->vmi, p->c->name);
    rc = rc_content_name(cname, sizeof(cname), p->snap);
    if (rc < 0)
        return kube_err_set(&p->err, rc, "no content name: %s",
                            kube_strerror(rc));
    p->content =
        rc_env_get(p->env, "VirtualMachineSnapshotContent", p->c->ns, cname);
    p->now_ms = rc_now_ms();
    rc = rc_deadline(&p->left_ms, p->snap, p->now_ms, &p->err);
    if (rc < 0) /* the spec is immutable: a retry reads the same text */
        return rc == KUBE_EINVAL ? RC_NORETRY : rc;
    p->exceeded = rc == 1;
    p->progressing =
        strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0;
    p->deleting = rc_deleting(p->snap);
    p->terminating = p->deleting || p->exceeded;
    return KUBE_OK;
}

static int need_pvcs(struct pass *p)
{
    if (p->pvcs)
        return KUBE_OK;
    return rc_source_pvcs(&p->pvcs, p->vm) < 0
               ? kube_err_set(&p->err, KUBE_ENOMEM, "out of memory")
               : KUBE_OK;
}

static int create_content(struct pass *p)
{
    json_t *content = NULL, *made = NULL;
    int rc = need_pvcs(p);

    if (rc == KUBE_OK)
        rc = rc_content_build(&content, p->failure, sizeof(p->failure),
                              p->env->store, p->snap, p->vm, NULL, p->pvcs,
                              &p->err);
    if (rc == RC_CONTENT_NO_CLASS)
        return KUBE_OK; /* p->failure says why */
    if (rc < 0)
        return rc;
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

static int lock(struct pass *p)
{
    int rc = need_pvcs(p);

    p->lock_tried = 1;
    if (rc == KUBE_OK)
        rc = rc_lock_check(&p->src, p->env->store, p->vm, p->pvcs, p->c->name);
    if (rc < 0)
        return kube_err_set(&p->err, rc, "lock check: %s", kube_strerror(rc));
    return rc == 1 ? rc_lock_take(p->c, &p->src, p->vm, p->c->name, &p->err)
                   : KUBE_OK;
}

/* §4 step 5: lock and content while progressing; unlock after. */
static int lock_and_content(struct pass *p)
{
    int rc = KUBE_OK, can_unlock;

    if (!p->vm)
        return KUBE_OK;
    if (p->progressing && !p->terminating) {
        if (!p->src.locked)
            rc = lock(p);
        if (rc == KUBE_OK && p->src.locked && !p->content)
            rc = create_content(p);
        return rc;
    }
    can_unlock =
        !p->progressing ||
        (p->terminating &&
         (!p->content || !rc_should_delete_content(p->snap, p->content)));
    if (can_unlock)
        rc = rc_lock_release(p->c, &p->src, p->vm, p->c->name, &p->err);
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

/* The Failure condition of a failed snapshot keeps the reason it failed
 * for: a volume without a VolumeSnapshotClass is said once, when found,
 * and every later pass sees only "Failed". */
static void keep_failure(json_t *st, const json_t *old, const char *failure)
{
    json_t *conds = json_object_get(st, "conditions"), *c;
    const json_t *o;
    size_t i, j;

    json_array_foreach(conds, i, c)
    {
        if (strcmp(kube_json_str0(c, "type"), "Failure") != 0)
            continue;
        if (*failure) {
            json_object_set_new(c, "reason", json_string(failure));
            return;
        }
        json_array_foreach(json_object_get(old, "conditions"), j, o)
        {
            if (strcmp(kube_json_str0(o, "type"), "Failure") == 0 &&
                strcmp(kube_json_str0(o, "status"), "True") == 0)
                json_array_set(conds, i, (json_t *)o);
        }
        return;
    }
}

/* §4.4 step 7: one status write, only when something changed. */
static int write_status(struct pass *p)
{
    const json_t *old = json_object_get(p->snap, "status");
    struct rc_snapshot_in in = {
        .snapshot = p->snap,
        .source = &p->src,
        .content = p->content,
        .deadline_exceeded = p->exceeded || *p->failure,
        .deleting = p->deleting,
        .now_ms = p->now_ms,
    };
    json_t *st = NULL;
    int rc = rc_snapshot_status(&st, &in);

    if (rc < 0)
        return kube_err_set(&p->err, rc, "status: out of memory");
    if (in.deadline_exceeded)
        keep_failure(st, old, p->failure);
    if (rc_status_differs(st, old))
        rc = rc_api_put_status(NULL, p->c, &rc_gvr_snapshot, p->snap, st,
                               &p->err);
    json_decref(st);
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
    else if (p->progressing && !p->terminating && p->left_ms > 0 &&
             !*p->failure)
        /* re-examined right at the deadline, even with no event */
        p->c->requeue_after_ms = (long)p->left_ms + 100;
}

static int add_finalizer(struct pass *p)
{
    json_t *patched = NULL;
    int rc = rc_api_finalizer(&patched, p->c, &rc_gvr_snapshot, p->snap,
                              RC_SNAPSHOT_FINALIZER, 1, &p->err);

    if (json_is_object(patched)) { /* the status write carries its RV */
        json_decref(p->snap);
        p->snap = patched;
    } else
        json_decref(patched);
    return rc;
}

static int steps(struct pass *p)
{
    int rc = load(p);

    if (rc != KUBE_OK)
        return rc;
    if (!p->terminating)
        rc = add_finalizer(p);
    if (rc == KUBE_OK)
        rc = lock_and_content(p);
    if (rc == KUBE_OK)
        rc = settle_content(p);
    if (rc == KUBE_OK)
        rc = write_status(p);
    if (rc == KUBE_OK && *p->failure) /* Failed now: unlock at once */
        rc = rc_lock_release(p->c, &p->src, p->vm, p->c->name, &p->err);
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

    p.snap = rc_env_begin(c, "VirtualMachineSnapshot");
    if (!p.snap)
        return KUBE_OK;
    rc = steps(&p);
    rc_env_log_failure(c, "snapshot", rc, p.err.msg);
    json_decref(p.pvcs);
    json_decref(p.vmi);
    json_decref(p.vm);
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
