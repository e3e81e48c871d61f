/* reconciler/restore_status.c - a restore's conditions, and the checks
 * that decide whether it may go on (spec §6, §6.1). */
#include "reconciler/restore_status.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kube/duration.h"
#include "kube/json.h"
#include "kube/metatime.h"
#include "kube/restoremsg.h"
#include "reconciler/conditions.h"

/* ---- stages ---- */

static const struct {
    int progressing;
    const char *progressing_reason;
    int ready;
    const char *ready_reason;
} stages[] = {
    [RC_RESTORE_INIT] = {1, "Initializing VirtualMachineRestore", 0,
                         "Initializing VirtualMachineRestore"},
    [RC_RESTORE_PVCS] = {1, "Creating new PVCs", 0, "Waiting for new PVCs"},
    [RC_RESTORE_TARGET] = {1, "Updating target spec", 0,
                           "Waiting for target update"},
    [RC_RESTORE_DELETING] = {0, "VM restore is deleting", 0,
                             "VM restore is deleting"},
    [RC_RESTORE_COMPLETE] = {0, "Operation complete", 1, "Operation complete"},
};

/* Sets status.complete to on (and restoreTime when it becomes true). */
static int set_complete(json_t *status, int on, int64_t now_ms)
{
    char now[KUBE_METATIME_LEN];

    if (json_is_boolean(json_object_get(status, "complete")) &&
        kube_json_true(status, "complete") == on)
        return 0;
    if (json_object_set_new(status, "complete", json_boolean(on)))
        return KUBE_ENOMEM;
    if (!on)
        return 1;
    kube_metatime_format(now, sizeof(now), now_ms);
    if (json_object_set_new(status, "restoreTime", json_string(now)))
        return KUBE_ENOMEM;
    return 1;
}

int rc_restore_status_stage(json_t *status, enum rc_restore_stage stage,
                            int64_t now_ms)
{
    int p, r, c = 0;

    assert((size_t)stage < sizeof(stages) / sizeof(stages[0]));
    p = rc_condition_set(status, "Progressing", stages[stage].progressing,
                         stages[stage].progressing_reason, now_ms);
    r = rc_condition_set(status, "Ready", stages[stage].ready,
                         stages[stage].ready_reason, now_ms);
    if (stage == RC_RESTORE_INIT || stage == RC_RESTORE_COMPLETE)
        c = set_complete(status, stage == RC_RESTORE_COMPLETE, now_ms);
    if (p < 0 || r < 0 || c < 0)
        return KUBE_ENOMEM;
    return p || r || c;
}

int rc_restore_terminal(const json_t *restore)
{
    const json_t *st = json_object_get(restore, "status");

    return kube_json_true(st, "complete") ||
           rc_condition_get(st, "Failure") != NULL;
}

/* ---- verdicts ---- */

static void go(struct rc_restore_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->act = RC_RESTORE_GO;
}

/* Sets v's act and its reason from fmt; the event is the caller's. */
static void KUBE_PRINTF(3, 4)
    decide(struct rc_restore_verdict *v, enum rc_restore_act act,
           const char *fmt, ...)
{
    va_list ap;

    go(v);
    v->act = act;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
    va_end(ap);
}

void rc_restore_verdict_error(struct rc_restore_verdict *v, int fail,
                              const char *msg)
{
    decide(v, fail ? RC_RESTORE_FAIL : RC_RESTORE_RETRY, "%s", msg);
    v->event = fail ? RC_EV_RESTORE_FAILED : RC_EV_RESTORE_ERROR;
    snprintf(v->event_msg, sizeof(v->event_msg),
             fail ? "VirtualMachineRestore failed %s"
                  : "VirtualMachineRestore encountered error %s",
             msg);
}

/* An error or a failure whose reason is formatted. */
static void KUBE_PRINTF(3, 4)
    refuse(struct rc_restore_verdict *v, int fail, const char *fmt, ...)
{
    char msg[sizeof(v->reason)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rc_restore_verdict_error(v, fail, msg);
}

int rc_restore_status_verdict(json_t *status,
                              const struct rc_restore_verdict *v,
                              int64_t now_ms)
{
    int p, r, f = 0;

    if (v->act == RC_RESTORE_GO)
        return 0;
    p = rc_condition_set(status, "Progressing", 0, v->reason, now_ms);
    r = rc_condition_set(status, "Ready", 0, v->reason, now_ms);
    if (v->act == RC_RESTORE_FAIL)
        f = rc_condition_set(status, "Failure", 1, v->reason, now_ms);
    if (p < 0 || r < 0 || f < 0)
        return KUBE_ENOMEM;
    return p || r || f;
}

/* ---- target readiness (spec §6 step 6, §6.1) ---- */

#define WAIT_POWER_OFF                                                         \
    "Waiting for target VM to be powered off. Please stop the restore "        \
    "target to proceed with restore"
#define VMI_STILL_EXISTS                                                       \
    "Restore target VMI still exists, please stop the restore target to "      \
    "proceed with restore"
#define AUTO_STOP "Automatically stopping restore target for restore operation"

/* A WAIT that records RestoreTargetNotReady with event_msg. */
static void wait_target(struct rc_restore_verdict *v, const char *event_msg)
{
    v->event = RC_EV_TARGET_NOT_READY;
    snprintf(v->event_msg, sizeof(v->event_msg), "%s", event_msg);
}

/* WaitGracePeriod: wait until creationTimestamp + grace, then fail. */
static void grace(struct rc_restore_verdict *v, const json_t *restore,
                  int64_t grace_ms, int64_t now_ms)
{
    const char *ts = kube_json_str0(restore, "metadata.creationTimestamp");
    char d[32];
    int64_t created;

    kube_duration_format(d, sizeof(d), grace_ms * 1000000);
    if (kube_metatime_parse(&created, ts) < 0) {
        refuse(v, 0, "metadata.creationTimestamp \"%s\" is not a time", ts);
        return;
    }
    if (created + grace_ms - now_ms <= 0) {
        refuse(v, 1,
               "Restore target failed to be ready within %s. Please power off "
               "the target VM before attempting restore",
               d);
        return;
    }
    decide(v, RC_RESTORE_WAIT,
           WAIT_POWER_OFF ", or the operation will fail "
                          "after %s",
           d);
    v->requeue_ms = created + grace_ms - now_ms;
    wait_target(v, VMI_STILL_EXISTS);
}

/* requireStoppedTarget: the admission rule again, in its words. */
static void stopped(struct rc_restore_verdict *v, const json_t *vm,
                    const json_t *vmi)
{
    const json_t *running = kube_json_path(vm, "spec.running");
    const char *strategy = kube_json_str(vm, "spec.runStrategy");
    const char *name = kube_json_str0(vm, "metadata.name");

    if (json_is_true(running))
        refuse(v, 0, KUBE_MSG_TARGET_NOT_STOPPED, name, name);
    else if (running && strategy)
        refuse(v, 0, KUBE_MSG_TARGET_RUNNING_AND_STRATEGY, name);
    else if (strategy && strcmp(strategy, "Halted") != 0)
        refuse(v, 0, KUBE_MSG_TARGET_NOT_HALTED, name, name);
    else if (vmi)
        refuse(v, 0, KUBE_MSG_TARGET_NOT_STOPPED, name, name);
}

void rc_restore_readiness(struct rc_restore_verdict *v,
                          const struct rc_restore_in *in,
                          const struct rc_restore_opts *o, int64_t now_ms)
{
    const char *p = kube_json_str(in->restore, "spec.targetReadinessPolicy");

    go(v);
    if (!in->target)
        return;
    if (o->require_stopped_target) {
        stopped(v, in->target, in->vmi);
        return;
    }
    if (!in->vmi)
        return;
    if (!p || strcmp(p, "WaitGracePeriod") == 0)
        grace(v, in->restore, o->grace_ms, now_ms);
    else if (strcmp(p, "WaitEventually") == 0) {
        decide(v, RC_RESTORE_WAIT, "%s", WAIT_POWER_OFF);
        wait_target(v, VMI_STILL_EXISTS);
    } else if (strcmp(p, "StopTarget") == 0) {
        decide(v, RC_RESTORE_WAIT, "%s", AUTO_STOP);
        v->stop_target = 1;
        wait_target(v, AUTO_STOP);
    } else if (strcmp(p, "FailImmediate") == 0)
        refuse(v, 1,
               "Restore target VMI must be powered off before restore "
               "operation");
    else
        refuse(v, 0, "unknown targetReadinessPolicy: %s", p);
}

/* ---- re-checks of the snapshot and the target (spec §6 steps 7-8) ---- */

/* The snapshot: exists, not failed, ready, names its content, offline. */
static void check_snapshot(struct rc_restore_verdict *v, const json_t *snap,
                           const char *name, int offline_only)
{
    if (!snap)
        refuse(v, 0,
               KUBE_MSG_SNAPSHOT_MISSING ": create it, or delete this restore",
               name);
    else if (strcmp(kube_json_str0(snap, "status.phase"), "Failed") == 0)
        refuse(v, 1,
               KUBE_MSG_SNAPSHOT_FAILED ": delete this restore and restore "
                                        "from another snapshot",
               name);
    else if (!kube_json_true(snap, "status.readyToUse"))
        refuse(v, 0,
               KUBE_MSG_SNAPSHOT_NOT_READY ": the restore goes on once it is "
                                           "ready",
               name);
    else if (!kube_json_str(snap, "status.virtualMachineSnapshotContentName"))
        refuse(v, 0, "no snapshot content name in %s", name);
    else if (offline_only && kube_snapshot_online(snap))
        refuse(v, 1,
               KUBE_MSG_SNAPSHOT_ONLINE ": delete this restore and restore "
                                        "from a snapshot of the stopped VM",
               name);
}

void rc_restore_check(struct rc_restore_verdict *v,
                      const struct rc_restore_in *in,
                      const struct rc_restore_opts *o)
{
    const char *src = kube_json_str(in->snapshot, "status.sourceUID");
    const char *content = kube_json_str0(
        in->snapshot, "status.virtualMachineSnapshotContentName");

    go(v);
    check_snapshot(
        v, in->snapshot,
        kube_json_str0(in->restore, "spec.virtualMachineSnapshotName"),
        o->require_offline_snapshot);
    if (v->act != RC_RESTORE_GO)
        return;
    if (in->target && src && !rc_restore_marked(in->target, in->restore) &&
        strcmp(src, kube_json_str0(in->target, "metadata.uid")) != 0)
        refuse(v, 0,
               KUBE_MSG_TARGET_DIFFERENT ": restore into a VM that does not "
                                         "exist, or from a snapshot of this "
                                         "VM");
    else if (!in->content)
        refuse(v, 0, "VMSnapshotContent %s does not exist", content);
    else if (!kube_json_true(in->content, "status.readyToUse"))
        refuse(v, 0, "VMSnapshotContent %s not ready", content);
}
