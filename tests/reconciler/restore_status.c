/* tests/reconciler/restore_status.c - the restore's conditions per stage,
 * terminal states, target readiness policies with the grace period, and
 * the reconcile-time re-checks with their exact reasons and events. */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"
#include "reconciler/conditions.h"
#include "reconciler/restore_status.h"
#include "tests/reconciler/restore_fixture.h"

#define NOW 1601477188000 /* 2020-09-30T14:46:28Z, the example's */

static const struct {
    const char *name;
    enum rc_restore_stage stage;
    const char *progressing, *p_reason, *ready, *r_reason, *complete;
} stages[] = {
    {"init", RC_RESTORE_INIT, "True", "Initializing VirtualMachineRestore",
     "False", "Initializing VirtualMachineRestore", "false"},
    {"pvcs", RC_RESTORE_PVCS, "True", "Creating new PVCs", "False",
     "Waiting for new PVCs", NULL},
    {"target", RC_RESTORE_TARGET, "True", "Updating target spec", "False",
     "Waiting for target update", NULL},
    {"deleting", RC_RESTORE_DELETING, "False", "VM restore is deleting",
     "False", "VM restore is deleting", NULL},
    {"complete", RC_RESTORE_COMPLETE, "False", "Operation complete", "True",
     "Operation complete", "true"},
};

Test(rc_restore_status, stage_table)
{
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        json_t *st = json_object();
        const json_t *c0, *c1, *done;

        cr_expect_eq(rc_restore_status_stage(st, stages[i].stage, NOW), 1, "%s",
                     stages[i].name);
        cr_expect_eq(rc_restore_status_stage(st, stages[i].stage, NOW + 5000),
                     0, "%s: again is no change", stages[i].name);
        c0 = json_array_get(json_object_get(st, "conditions"), 0);
        c1 = json_array_get(json_object_get(st, "conditions"), 1);
        cr_expect_str_eq(kube_json_str0(c0, "type"), "Progressing");
        cr_expect_str_eq(kube_json_str0(c0, "status"), stages[i].progressing,
                         "%s", stages[i].name);
        cr_expect_str_eq(kube_json_str0(c0, "reason"), stages[i].p_reason);
        cr_expect_str_eq(kube_json_str0(c1, "type"), "Ready");
        cr_expect_str_eq(kube_json_str0(c1, "status"), stages[i].ready, "%s",
                         stages[i].name);
        cr_expect_str_eq(kube_json_str0(c1, "reason"), stages[i].r_reason);
        cr_expect_str_eq(kube_json_str0(c1, "lastTransitionTime"),
                         "2020-09-30T14:46:28Z");
        done = json_object_get(st, "complete");
        if (!stages[i].complete)
            cr_expect_null(done, "%s", stages[i].name);
        else
            cr_expect_eq(json_is_true(done),
                         strcmp(stages[i].complete, "true") == 0, "%s",
                         stages[i].name);
        json_decref(st);
    }
}

Test(rc_restore_status, complete_as_the_documentation_shows)
{
    json_t *st = json_object(), *want;

    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_INIT, NOW - 1000), 1);
    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_PVCS, NOW - 500), 1);
    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_COMPLETE, NOW), 1);
    want = fx_json(
        "{\"complete\": true, \"restoreTime\": \"2020-09-30T14:46:28Z\","
        " \"conditions\": [{\"lastProbeTime\": null, \"lastTransitionTime\": "
        "\"2020-09-30T14:46:28Z\", \"reason\": \"Operation complete\", "
        "\"status\": \"False\", \"type\": \"Progressing\"},"
        " {\"lastProbeTime\": null, \"lastTransitionTime\": "
        "\"2020-09-30T14:46:28Z\", \"reason\": \"Operation complete\", "
        "\"status\": \"True\", \"type\": \"Ready\"}]}");
    cr_expect(json_equal(st, want));
    /* restoreTime is when it completed, not rewritten by a later pass */
    cr_expect_eq(rc_restore_status_stage(st, RC_RESTORE_COMPLETE, NOW + 9000),
                 0);
    cr_expect_str_eq(kube_json_str0(st, "restoreTime"), "2020-09-30T14:46:28Z");
    json_decref(want);
    json_decref(st);
}

static const struct {
    const char *name, *status;
    int want;
} terminals[] = {
    {"no status", NULL, 0},
    {"complete false", "{\"complete\": false}", 0},
    {"complete true", "{\"complete\": true}", 1},
    {"Failure True",
     "{\"conditions\": [{\"type\": \"Failure\", \"status\": \"True\"}]}", 1},
    {"Failure of any status",
     "{\"conditions\": [{\"type\": \"Failure\", \"status\": \"False\"}]}", 1},
    {"only Progressing",
     "{\"conditions\": [{\"type\": \"Progressing\", \"status\": \"True\"}]}",
     0},
};

Test(rc_restore_status, terminal_table)
{
    for (size_t i = 0; i < sizeof(terminals) / sizeof(terminals[0]); i++) {
        struct fx f;

        fx_load(&f);
        if (terminals[i].status)
            fx_set(f.restore, "status", fx_json(terminals[i].status));
        cr_expect_eq(rc_restore_terminal(f.restore), terminals[i].want, "%s",
                     terminals[i].name);
        fx_free(&f);
    }
}

#define WAIT_OFF                                                               \
    "Waiting for target VM to be powered off. Please stop the restore "        \
    "target to proceed with restore"
#define VMI_EXISTS                                                             \
    "Restore target VMI still exists, please stop the restore target to "      \
    "proceed with restore"
#define GRACE_FAIL                                                             \
    "Restore target failed to be ready within 5m0s. Please power off the "     \
    "target VM before attempting restore"
#define NOT_STOPPED                                                            \
    "VirtualMachine \"my-vm\" is not stopped: stop it first (virtctl stop "    \
    "my-vm)"

static const struct {
    const char *name, *policy, *spec; /* spec: the target's run fields */
    int target, vmi, strict;          /* strict: requireStoppedTarget */
    int64_t after_ms, grace_ms;       /* now - creationTimestamp; 0: 5m */
    enum rc_restore_act act;
    int stop;
    int64_t requeue_ms;
    const char *reason, *event, *event_msg;
} ready[] = {
    {"new VM: nothing to wait for", NULL, NULL, 0, 0, 0, 0, 0, RC_RESTORE_GO, 0,
     0, "", NULL, ""},
    {"stopped target", NULL, NULL, 1, 0, 0, 0, 0, RC_RESTORE_GO, 0, 0, "", NULL,
     ""},
    {"default is WaitGracePeriod: wait, look again when it ends", NULL, NULL, 1,
     1, 0, 60000, 0, RC_RESTORE_WAIT, 0, 240000,
     WAIT_OFF ", or the operation will fail after 5m0s",
     "RestoreTargetNotReady", VMI_EXISTS},
    {"WaitGracePeriod 1ms before the end", "WaitGracePeriod", NULL, 1, 1, 0,
     299999, 0, RC_RESTORE_WAIT, 0, 1,
     WAIT_OFF ", or the operation will fail after 5m0s",
     "RestoreTargetNotReady", VMI_EXISTS},
    {"WaitGracePeriod at its end: failed", "WaitGracePeriod", NULL, 1, 1, 0,
     300000, 0, RC_RESTORE_FAIL, 0, 0, GRACE_FAIL, "Operation failed",
     "VirtualMachineRestore failed " GRACE_FAIL},
    {"WaitGracePeriod with a 30s grace (a flag)", NULL, NULL, 1, 1, 0, 10000,
     30000, RC_RESTORE_WAIT, 0, 20000,
     WAIT_OFF ", or the operation will fail after 30s", "RestoreTargetNotReady",
     VMI_EXISTS},
    {"WaitEventually waits an hour and more", "WaitEventually", NULL, 1, 1, 0,
     3600000, 0, RC_RESTORE_WAIT, 0, 0, WAIT_OFF, "RestoreTargetNotReady",
     VMI_EXISTS},
    {"StopTarget stops it, then waits", "StopTarget", NULL, 1, 1, 0, 0, 0,
     RC_RESTORE_WAIT, 1, 0,
     "Automatically stopping restore target for restore operation",
     "RestoreTargetNotReady",
     "Automatically stopping restore target for restore operation"},
    {"FailImmediate", "FailImmediate", NULL, 1, 1, 0, 0, 0, RC_RESTORE_FAIL, 0,
     0, "Restore target VMI must be powered off before restore operation",
     "Operation failed",
     "VirtualMachineRestore failed Restore target VMI must be powered off "
     "before restore operation"},
    {"unknown policy is an error", "Bogus", NULL, 1, 1, 0, 0, 0,
     RC_RESTORE_RETRY, 0, 0, "unknown targetReadinessPolicy: Bogus",
     "VirtualMachineRestoreError",
     "VirtualMachineRestore encountered error unknown targetReadinessPolicy: "
     "Bogus"},
    {"strict: Halted and no VMI", "FailImmediate",
     "{\"runStrategy\": \"Halted\"}", 1, 0, 1, 0, 0, RC_RESTORE_GO, 0, 0, "",
     NULL, ""},
    {"strict: a VMI, whatever the policy", "FailImmediate",
     "{\"runStrategy\": \"Halted\"}", 1, 1, 1, 0, 0, RC_RESTORE_RETRY, 0, 0,
     NOT_STOPPED, "VirtualMachineRestoreError",
     "VirtualMachineRestore encountered error " NOT_STOPPED},
    {"strict: running true", NULL, "{\"running\": true}", 1, 0, 1, 0, 0,
     RC_RESTORE_RETRY, 0, 0, NOT_STOPPED, "VirtualMachineRestoreError",
     "VirtualMachineRestore encountered error " NOT_STOPPED},
    {"strict: runStrategy Always", NULL, "{\"runStrategy\": \"Always\"}", 1, 0,
     1, 0, 0, RC_RESTORE_RETRY, 0, 0,
     "VirtualMachine \"my-vm\" run strategy has to be Halted: stop it first "
     "(virtctl stop my-vm)",
     "VirtualMachineRestoreError", NULL},
    {"strict: running and runStrategy", NULL,
     "{\"running\": false, \"runStrategy\": \"Halted\"}", 1, 0, 1, 0, 0,
     RC_RESTORE_RETRY, 0, 0,
     "VirtualMachine \"my-vm\": running and runstrategy are mutually "
     "exclusive",
     "VirtualMachineRestoreError", NULL},
};

Test(rc_restore_status, readiness_table)
{
    for (size_t i = 0; i < sizeof(ready) / sizeof(ready[0]); i++) {
        struct rc_restore_opts o = {1, ready[i].strict,
                                    ready[i].grace_ms ? ready[i].grace_ms
                                                      : RC_RESTORE_GRACE_MS};
        struct rc_restore_verdict v;
        json_t *vmi = fx_json("{\"metadata\": {\"name\": \"my-vm\"}}");
        struct fx f;

        fx_load(&f);
        if (ready[i].policy)
            fx_set(f.restore, "spec.targetReadinessPolicy",
                   json_string(ready[i].policy));
        if (ready[i].spec) {
            json_object_del(json_object_get(f.target, "spec"), "runStrategy");
            json_t *run = fx_json(ready[i].spec);
            json_object_update(json_object_get(f.target, "spec"), run);
            json_decref(run);
        }
        f.in.target = ready[i].target ? f.target : NULL;
        f.in.vmi = ready[i].vmi ? vmi : NULL;
        memset(&v, 0x5a, sizeof(v));
        rc_restore_readiness(&v, &f.in, &o, FX_CREATED_MS + ready[i].after_ms);
        cr_expect_eq(v.act, ready[i].act, "%s: act %d", ready[i].name, v.act);
        cr_expect_eq(v.stop_target, ready[i].stop, "%s", ready[i].name);
        cr_expect_eq(v.requeue_ms, ready[i].requeue_ms, "%s: %lld",
                     ready[i].name, (long long)v.requeue_ms);
        cr_expect_str_eq(v.reason, ready[i].reason, "%s", ready[i].name);
        if (ready[i].event)
            cr_expect_str_eq(v.event ? v.event : "(null)", ready[i].event, "%s",
                             ready[i].name);
        else
            cr_expect_null(v.event, "%s", ready[i].name);
        if (ready[i].event_msg)
            cr_expect_str_eq(v.event_msg, ready[i].event_msg, "%s",
                             ready[i].name);
        json_decref(vmi);
        fx_free(&f);
    }
}

static void no_snapshot(struct fx *f)
{
    f->in.snapshot = NULL;
}

static void snapshot_failed(struct fx *f)
{
    fx_set(f->snapshot, "status.phase", json_string("Failed"));
}

static void snapshot_not_ready(struct fx *f)
{
    fx_set(f->snapshot, "status.readyToUse", json_false());
}

static void no_content_name(struct fx *f)
{
    json_object_del(json_object_get(f->snapshot, "status"),
                    "virtualMachineSnapshotContentName");
}

static void online(struct fx *f)
{
    fx_set(f->snapshot, "status.indications",
           fx_json("[\"Online\", \"GuestAgent\"]"));
}

static void online_source_indications(struct fx *f)
{
    fx_set(f->snapshot, "status.sourceIndications",
           fx_json("[{\"indication\": \"Online\", \"message\": \"m\"}]"));
}

static void other_vm(struct fx *f)
{
    fx_set(f->target, "metadata.uid", json_string("other-uid"));
}

static void other_vm_restored_by_us(struct fx *f)
{
    other_vm(f);
    fx_set(f->target, "metadata.annotations",
           fx_json("{\"restore.kubevirt.io/lastRestoreUID\": "
                   "\"my-vmrestore-" FX_RESTORE_UID "\"}"));
}

static void new_vm(struct fx *f)
{
    f->in.target = NULL;
}

static void no_content(struct fx *f)
{
    f->in.content = NULL;
}

static void content_not_ready(struct fx *f)
{
    fx_set(f->content, "status.readyToUse", json_false());
}

#define CONTENT "vmsnapshot-content-28eedf08-5d6a-42c1-969c-2eda58e2a78d"

static const struct {
    const char *name;
    void (*setup)(struct fx *f);
    int offline_only;
    enum rc_restore_act act;
    const char *reason;
} checks[] = {
    {"the documentation's restore", NULL, 1, RC_RESTORE_GO, ""},
    {"snapshot missing: an error, retried", no_snapshot, 1, RC_RESTORE_RETRY,
     "VirtualMachineSnapshot \"my-vmsnapshot\" does not exist: create it, or "
     "delete this restore"},
    {"snapshot failed: terminal", snapshot_failed, 1, RC_RESTORE_FAIL,
     "VirtualMachineSnapshot \"my-vmsnapshot\" has failed and is invalid to "
     "use: delete this restore and restore from another snapshot"},
    {"snapshot not ready: retried", snapshot_not_ready, 1, RC_RESTORE_RETRY,
     "VirtualMachineSnapshot \"my-vmsnapshot\" is not ready to use: the "
     "restore goes on once it is ready"},
    {"no content name", no_content_name, 1, RC_RESTORE_RETRY,
     "no snapshot content name in my-vmsnapshot"},
    {"online snapshot under the default policy", online, 1, RC_RESTORE_FAIL,
     "VirtualMachineSnapshot \"my-vmsnapshot\" was taken while the VM was "
     "running; only an offline snapshot can be restored: delete this "
     "restore and restore from a snapshot of the stopped VM"},
    {"online snapshot, sourceIndications", online_source_indications, 1,
     RC_RESTORE_FAIL,
     "VirtualMachineSnapshot \"my-vmsnapshot\" was taken while the VM was "
     "running; only an offline snapshot can be restored: delete this "
     "restore and restore from a snapshot of the stopped VM"},
    {"online snapshot allowed by policy", online, 0, RC_RESTORE_GO, ""},
    {"another existing VM", other_vm, 1, RC_RESTORE_RETRY,
     "when snapshot source and restore target VMs are different - target VM "
     "must not exist: restore into a VM that does not exist, or from a "
     "snapshot of this VM"},
    {"a VM this restore created", other_vm_restored_by_us, 1, RC_RESTORE_GO,
     ""},
    {"a new VM", new_vm, 1, RC_RESTORE_GO, ""},
    {"content missing", no_content, 1, RC_RESTORE_RETRY,
     "VMSnapshotContent " CONTENT " does not exist"},
    {"content not ready", content_not_ready, 1, RC_RESTORE_RETRY,
     "VMSnapshotContent " CONTENT " not ready"},
};

Test(rc_restore_status, check_table)
{
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        struct rc_restore_opts o = {checks[i].offline_only, 1,
                                    RC_RESTORE_GRACE_MS};
        struct rc_restore_verdict v;
        struct fx f;

        fx_load(&f);
        if (checks[i].setup)
            checks[i].setup(&f);
        rc_restore_check(&v, &f.in, &o);
        cr_expect_eq(v.act, checks[i].act, "%s: act %d", checks[i].name, v.act);
        cr_expect_str_eq(v.reason, checks[i].reason, "%s", checks[i].name);
        if (v.act == RC_RESTORE_FAIL)
            cr_expect_str_eq(v.event, "Operation failed", "%s", checks[i].name);
        if (v.act == RC_RESTORE_RETRY)
            cr_expect_str_eq(v.event, "VirtualMachineRestoreError", "%s",
                             checks[i].name);
        fx_free(&f);
    }
}

Test(rc_restore_status, verdict_conditions)
{
    struct rc_restore_verdict v;
    json_t *st = json_object();
    const json_t *fail;

    rc_restore_verdict_error(&v, 0, "PVC default/p in status \"Lost\"");
    cr_expect_str_eq(v.event_msg, "VirtualMachineRestore encountered error "
                                  "PVC default/p in status \"Lost\"");
    cr_assert_eq(rc_restore_status_verdict(st, &v, NOW), 1);
    cr_expect_eq(rc_restore_status_verdict(st, &v, NOW), 0);
    cr_expect_str_eq(kube_json_str0(rc_condition_get(st, "Ready"), "reason"),
                     "PVC default/p in status \"Lost\"");
    cr_expect_str_eq(
        kube_json_str0(rc_condition_get(st, "Progressing"), "status"), "False");
    cr_expect_null(rc_condition_get(st, "Failure"), "an error is retried");
    rc_restore_verdict_error(&v, 1, "gone");
    cr_assert_eq(rc_restore_status_verdict(st, &v, NOW), 1);
    fail = rc_condition_get(st, "Failure");
    cr_expect_str_eq(kube_json_str0(fail, "status"), "True");
    cr_expect_str_eq(kube_json_str0(fail, "reason"), "gone");
    v.act = RC_RESTORE_GO;
    cr_expect_eq(rc_restore_status_verdict(st, &v, NOW), 0);
    json_decref(st);
}
