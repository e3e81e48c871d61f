/* reconciler/restore_status.h - a VirtualMachineRestore's status (spec §6:
 * no phase, only complete and the Progressing/Ready/Failure conditions,
 * whose text is the reason), and the decisions made before it restores
 * anything: target readiness (spec §6.1) and the reconcile-time re-checks
 * of what admission checked (snapshot exists, has not failed, is ready
 * and offline; target stopped; same VM or a new one). A failed check
 * yields a verdict whose reason says what to do, in the admission words
 * (kube/restoremsg.h). Pure: time comes in as now_ms (Unix ms). */
#ifndef VMSNAPD_RECONCILER_RESTORE_STATUS_H
#define VMSNAPD_RECONCILER_RESTORE_STATUS_H

#include <jansson.h>
#include <stdint.h>

#include "kube/errors.h"
#include "reconciler/restore_in.h"

/* KubeVirt's DefaultGracePeriod for targetReadinessPolicy WaitGracePeriod,
 * counted from the restore's creationTimestamp. */
#define RC_RESTORE_GRACE_MS (5 * 60 * 1000)

/* Events the controller records (spec §8), type Warning unless noted. */
#define RC_EV_RESTORE_COMPLETE "VirtualMachineRestoreComplete" /* Normal */
#define RC_EV_RESTORE_COMPLETE_FMT                                             \
    "Successfully completed VirtualMachineRestore %s"
#define RC_EV_RESTORE_ERROR "VirtualMachineRestoreError"
#define RC_EV_RESTORE_FAILED "Operation failed"
#define RC_EV_TARGET_NOT_READY "RestoreTargetNotReady"
#define RC_EV_DV_CREATE_ERROR "RestoreDataVolumeCreateError"

/* The steps that write a fixed pair of conditions (spec §6). */
enum rc_restore_stage {
    RC_RESTORE_INIT,     /* Progressing True, Ready False "Initializing
                            VirtualMachineRestore"; complete false */
    RC_RESTORE_PVCS,     /* "Creating new PVCs" / "Waiting for new PVCs" */
    RC_RESTORE_TARGET,   /* "Updating target spec" / "Waiting for target
                            update" */
    RC_RESTORE_DELETING, /* both False "VM restore is deleting" */
    RC_RESTORE_COMPLETE, /* Progressing False, Ready True "Operation
                            complete"; complete true, restoreTime now */
};

/* Moves status (an object we own) to stage at now_ms. Returns 1 when
 * status changed, 0 when it already said so, or KUBE_ENOMEM. */
int rc_restore_status_stage(json_t *status, enum rc_restore_stage stage,
                            int64_t now_ms) KUBE_MUST_CHECK;

/* Spec §6 step 4: 1 when restore (borrowed) is finished for good:
 * status.complete is true, or it has a Failure condition of any status. */
int rc_restore_terminal(const json_t *restore);

/* What the controller does after a check. */
enum rc_restore_act {
    RC_RESTORE_GO,    /* carry on */
    RC_RESTORE_WAIT,  /* write the conditions, record the event, look
                         again after requeue_ms (0: when a watch says) */
    RC_RESTORE_RETRY, /* an error: conditions, event, retry with backoff */
    RC_RESTORE_FAIL,  /* terminal: Failure True; never retried */
};

struct rc_restore_opts {
    int require_offline_snapshot; /* policy restore.requireOfflineSnapshot */
    int require_stopped_target;   /* policy restore.requireStoppedTarget */
    int64_t grace_ms;             /* WaitGracePeriod: RC_RESTORE_GRACE_MS */
};

struct rc_restore_verdict {
    enum rc_restore_act act;
    int stop_target;     /* StopTarget: PUT the VM's stop first */
    int64_t requeue_ms;  /* WAIT: ms until a decision is due; 0: none */
    const char *event;   /* the event's reason; NULL: none (static) */
    char event_msg[512]; /* its message */
    char reason[512];    /* the conditions' reason */
};

/* Spec §6 step 6 and §6.1: may the restore touch the target now? With
 * o->require_stopped_target, an existing target that runs (spec.running,
 * a runStrategy other than Halted, or a VMI) is RETRY with the admission
 * message ("VirtualMachine \"vm\" is not stopped: stop it first (virtctl
 * stop vm)"). Otherwise a target with a VMI goes by targetReadinessPolicy
 * (absent: WaitGracePeriod): WaitGracePeriod WAITs until creationTimestamp
 * + o->grace_ms, requeue_ms the time left, then FAILs; WaitEventually
 * WAITs; StopTarget WAITs with stop_target; FailImmediate FAILs; another
 * value is RETRY "unknown targetReadinessPolicy: <p>". Cannot fail. */
void rc_restore_readiness(struct rc_restore_verdict *v,
                          const struct rc_restore_in *in,
                          const struct rc_restore_opts *o, int64_t now_ms);

/* Spec §6 steps 7-8 and §6.2.1, in that order: the snapshot exists
 * (RETRY), has not failed (FAIL), is ready (RETRY), names its content
 * (RETRY), is offline when o->require_offline_snapshot (FAIL); an existing
 * target not yet restored by this restore is the snapshot's source (RETRY
 * otherwise); the content exists and is ready (RETRY). Reasons end with
 * what to do. Cannot fail. */
void rc_restore_check(struct rc_restore_verdict *v,
                      const struct rc_restore_in *in,
                      const struct rc_restore_opts *o);

/* Fills v as an error (RETRY) or a failure (FAIL) with reason msg, and
 * KubeVirt's event for it: VirtualMachineRestoreError "VirtualMachineRestore
 * encountered error <msg>", or "Operation failed" "VirtualMachineRestore
 * failed <msg>". For errors the controller meets itself (an API failure,
 * a restore PVC that went Lost). Cannot fail. */
void rc_restore_verdict_error(struct rc_restore_verdict *v, int fail,
                              const char *msg);

/* Writes v's conditions into status (an object we own): Progressing
 * False and Ready False with v->reason, and for FAIL also Failure True.
 * GO changes nothing. Returns 1 when status changed, 0, or KUBE_ENOMEM. */
int rc_restore_status_verdict(json_t *status,
                              const struct rc_restore_verdict *v,
                              int64_t now_ms) KUBE_MUST_CHECK;

#endif
