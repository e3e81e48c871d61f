/* reconciler/snapshot_logic.h - the side-effect-free rules of the
 * VirtualMachineSnapshot and VirtualMachineSnapshotContent controllers
 * (spec/kubevirt-controller.md §4.1-§4.6, §5.1, §5.3): source state and
 * indications, lock preconditions, VolumeSnapshotClass choice, the content
 * and VolumeSnapshot objects, content and snapshot status, and the
 * failureDeadline. No I/O: objects come in as jansson trees or from a
 * kube_store (read only), time comes in as `now_ms` (Unix epoch ms), so
 * every function is deterministic. The controller does the API writes.
 *
 * Implemented in source.c (source, indications, lock checks), vsclass.c
 * (VolumeSnapshotClass choice), content_build.c (content, VolumeSnapshot),
 * content_status.c (content status) and snapshot_status.c (snapshot
 * status, deadline, times). Every function is thread-safe: it only reads
 * its inputs (store reads take the store's own lock). */
#ifndef VMSNAPD_RECONCILER_SNAPSHOT_LOGIC_H
#define VMSNAPD_RECONCILER_SNAPSHOT_LOGIC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/errors.h"
#include "kube/store.h"

#define RC_SNAPSHOT_FINALIZER "snapshot.kubevirt.io/vmsnapshot-protection"
#define RC_CONTENT_FINALIZER "snapshot.kubevirt.io/vmsnapshotcontent-protection"
#define RC_SOURCE_FINALIZER "snapshot.kubevirt.io/snapshot-source-protection"
#define RC_DEFAULT_CLASS_ANNOTATION                                            \
    "snapshot.storage.kubernetes.io/is-default-class"
#define RC_LABEL_SOURCE_VM_NAME "snapshot.kubevirt.io/source-vm-name"
#define RC_LABEL_SOURCE_VM_NAMESPACE "snapshot.kubevirt.io/source-vm-namespace"

#define RC_DEFAULT_FAILURE_DEADLINE_MS (5 * 60 * 1000) /* 5m */
#define RC_SNAPSHOT_RETRY_MS 5000   /* snapshotRetryInterval */
#define RC_CONTENT_DELETION_MS 5000 /* contentDeletionInterval */

/* Lock messages (§4 step 1, §4.1 step 6). */
#define RC_MSG_LOCKED "Source locked and operation in progress"
#define RC_MSG_NOT_LOCKED "Source not locked"

/* Store kinds these functions read: PersistentVolumeClaim, DataVolume,
 * Pod, StorageClass, StorageProfile, VolumeSnapshotClass, VolumeSnapshot
 * (each absent kind reads as "no such object"). */

/* ---- source state (source.c) ---- */

/* The source VM as one reconcile sees it (§4 step 1). */
struct rc_source {
    int exists;      /* the VM is in the cache */
    int online;      /* a VMI with the VM's ns/name exists */
    int paused;      /* VMI condition Paused is True */
    int guest_agent; /* VMI has an AgentConnected condition, any status */
    int frozen;      /* vmi.status.fsFreezeStatus == "frozen" */
    int locked;      /* snapshotInProgress == this snapshot and the VM has
                        RC_SOURCE_FINALIZER */
    char uid[128];   /* vm.metadata.uid, "" when absent */
    char lock_msg[KUBE_ERR_MSG]; /* RC_MSG_LOCKED or RC_MSG_NOT_LOCKED,
                                    plus what rc_lock_check appends */
};

/* Fills *out from vm and vmi (both borrowed, each may be NULL: NULL vm
 * means exists = 0) for the snapshot named snap_name. Cannot fail. */
void rc_source_state(struct rc_source *out, const json_t *vm, const json_t *vmi,
                     const char *snap_name);

/* The sourceIndications message for an indication (§1.2), "Unknown
 * indication" for any other. Never NULL; borrowed (static). */
const char *rc_indication_message(const char *indication);

/* The indications of §4.2 for a snapshot whose status (borrowed, may be
 * NULL) is being recomputed; error_msg (may be NULL) is the new
 * status.error.message, searched for "fsfreeze is limited". Online:
 * *indications is the sorted set (existing status.indications plus
 * Online, then Paused | GuestAgent [+ QuiesceTimeout] | NoGuestAgent) and
 * *source_indications the same with messages, both new references.
 * Offline: both are set to NULL (the fields are to be removed). Returns 0
 * or KUBE_ENOMEM (outputs NULL then). */
int rc_indications(json_t **indications, json_t **source_indications,
                   const struct rc_source *s, const json_t *status,
                   const char *error_msg) KUBE_MUST_CHECK;

/* §4.1 step 1: the VM's PVC-backed volumes as a new object volume name ->
 * claim name (DataVolume: the DV name; persistentVolumeClaim and
 * memoryDump: claimName), from vm (borrowed) spec.template.spec.volumes.
 * The backend-storage PVC (persistent TPM/EFI) is not included: finding
 * it needs an API List, the caller adds it. Returns 0 or KUBE_ENOMEM. */
int rc_source_pvcs(json_t **out, const json_t *vm) KUBE_MUST_CHECK;

/* §4.1 steps 2-4 for a VM (borrowed) that is not locked yet, with pvcs
 * from rc_source_pvcs (borrowed): each claim must be in st, not being
 * deleted, Bound, and populated (a DataVolume controller owner in phase
 * Succeeded); offline, no non-Succeeded Pod in the namespace may mount
 * one; and status.snapshotInProgress must be unset or snap_name. Returns
 * 1 when the lock may be taken, 0 when held back (then s->lock_msg has
 * the reason appended, e.g. "Source not locked source default/vm volume
 * not bound: pvc"), or KUBE_ENOMEM. Reads st only. */
int rc_lock_check(struct rc_source *s, struct kube_store *st, const json_t *vm,
                  const json_t *pvcs, const char *snap_name) KUBE_MUST_CHECK;

/* ---- VolumeSnapshotClass choice (vsclass.c) ---- */

/* §5.3: the VolumeSnapshotClass for StorageClass sc, read from st. Writes
 * the class name into out ("" when there is none: StorageClass unknown,
 * StorageProfile naming a missing class, no class whose driver is the
 * provisioner). Among several matching classes the first (name order)
 * carrying the RC_DEFAULT_CLASS_ANNOTATION key, whatever its value, wins;
 * none carrying it is KUBE_EINVAL "<n> matching VolumeSnapshotClasses for
 * <sc>". KUBE_ETOOBIG when out is too small, KUBE_ENOMEM. */
int rc_vsclass_for_storage_class(char *out, size_t len, struct kube_store *st,
                                 const char *sc,
                                 struct kube_err *err) KUBE_MUST_CHECK;

/* ---- content and VolumeSnapshot objects (content_build.c) ---- */

/* The content name: status.virtualMachineSnapshotContentName when set,
 * else "vmsnapshot-content-<metadata.uid>" (§4 step 2). KUBE_ETOOBIG,
 * KUBE_EINVAL (no uid). */
int rc_content_name(char *out, size_t len,
                    const json_t *snapshot) KUBE_MUST_CHECK;

/* "vmsnapshot-<snapshot uid>-volume-<volume>" (§4.3). KUBE_ETOOBIG. */
int rc_volume_snapshot_name(char *out, size_t len, const char *snapshot_uid,
                            const char *volume) KUBE_MUST_CHECK;

/* rc_content_build's result other than success and failure codes: the
 * snapshot must fail (vmsnapd rule, issue 15; KubeVirt skips the volume),
 * with the reason in the caller's buffer. */
#define RC_CONTENT_NO_CLASS 1

/* §4.3: the VirtualMachineSnapshotContent for snapshot (borrowed) of vm
 * (borrowed) with pvcs from rc_source_pvcs (borrowed), reading PVCs,
 * StorageClasses and classes from st. revision_vm (borrowed) is the VM
 * from the ControllerRevision named by vmi.status.virtualMachineRevisionName
 * for an online source (metadata, volumes, disks and dataVolumeTemplates
 * are then taken from vm), or NULL: offline, the copy is vm's metadata
 * without managedFields, its spec and an empty status. A claim missing from
 * st or not Bound is skipped (KubeVirt: it shows up as excluded). A claim
 * whose StorageClass is unset or has no VolumeSnapshotClass gives
 * RC_CONTENT_NO_CLASS, *out NULL and in fail the message
 * `volume "<vol>" cannot be snapshotted: StorageClass "<sc>" has no
 * VolumeSnapshotClass` (or `...: PersistentVolumeClaim "<pvc>" has no
 * StorageClass`). Otherwise 0 and *out a new reference; negative codes
 * (KUBE_ENOMEM; KUBE_EINVAL with err: several matching classes and no
 * default among them, or no metadata.uid). */
int rc_content_build(json_t **out, char *fail, size_t fail_len,
                     struct kube_store *st, const json_t *snapshot,
                     const json_t *vm, const json_t *revision_vm,
                     const json_t *pvcs, struct kube_err *err) KUBE_MUST_CHECK;

/* §5.3: the snapshot.storage.k8s.io/v1 VolumeSnapshot for one entry of
 * content.spec.volumeBackups (backup, borrowed) of content (borrowed; its
 * metadata.uid must be set: a created content), vm_name the source VM
 * (content.spec.source.virtualMachine.metadata.name), vsclass from
 * rc_vsclass_for_storage_class. Name = backup.volumeSnapshotName, labels
 * source-vm-name/-namespace, controller ownerReference to the content
 * (blockOwnerDeletion true). *out is a new reference. KUBE_EINVAL with err
 * when the backup has no volumeSnapshotName or no storage class ("<ns>/<pvc>
 * VolumeSnapshot requested but no storage class"), KUBE_ENOMEM. */
int rc_volume_snapshot_build(json_t **out, const json_t *content,
                             const json_t *backup, const char *vsclass,
                             struct kube_err *err) KUBE_MUST_CHECK;

/* ---- content status (content_status.c) ---- */

/* What one content reconcile (§5.1 steps 4-8) finds. Each json_t * is a
 * new reference owned by the struct: free with rc_content_eval_free. */
struct rc_content_eval {
    json_t *status;    /* the content's new status (from the old one) */
    json_t *create;    /* array of volumeBackups (borrowed copies, i.e. new
                          references to the content's own entries) whose
                          VolumeSnapshot is missing and must be created now,
                          after one freeze; status lists them by name only,
                          as KubeVirt lists a just-created one */
    json_t *deleted;   /* array of VolumeSnapshot names gone after the
                          content was created: one VolumeSnapshotMissing
                          Warning each */
    int first_created; /* creationTime set just now: unfreeze the source;
                          on a "fsfreeze is limited" thaw error the caller
                          removes creationTime and sets error itself */
    int ready;         /* status.readyToUse */
};

/* Evaluates content (borrowed) against the VolumeSnapshots in st.
 * snapshot_gone is 1 when the snapshot is missing or being deleted
 * (missing VolumeSnapshots are then skipped, not created). now_ms stamps a
 * new creationTime and a changed error. Zero volumeBackups is created and
 * ready at once. Returns 0 or KUBE_ENOMEM (out zeroed then). */
int rc_content_evaluate(struct rc_content_eval *out, const json_t *content,
                        struct kube_store *st, int snapshot_gone,
                        int64_t now_ms) KUBE_MUST_CHECK;

/* Drops the references in e and zeroes it. NULL-safe. */
void rc_content_eval_free(struct rc_content_eval *e);

/* ---- snapshot status, deadline and times (snapshot_status.c) ---- */

/* §4.6: the failureDeadline of snapshot (borrowed) at now_ms. Returns 1
 * when exceeded (phase already Failed, or still progressing and past
 * creationTimestamp + deadline), 0 when not, KUBE_EINVAL with err for an
 * unparsable spec.failureDeadline or creationTimestamp. *left_ms gets the
 * ms until the deadline when it is ahead (a timed re-queue; 1 when now is
 * exactly the deadline, so it is looked at once more), else 0 (no
 * deadline: "0"; or passed; or Succeeded/Failed: KubeVirt re-queues a
 * Succeeded snapshot until its deadline for nothing). Default 5m. */
int rc_deadline(int64_t *left_ms, const json_t *snapshot, int64_t now_ms,
                struct kube_err *err) KUBE_MUST_CHECK;

/* Inputs of the snapshot status computation (§4.4). All borrowed. */
struct rc_snapshot_in {
    const json_t *snapshot;         /* required */
    const struct rc_source *source; /* required; exists 0: no VM */
    const json_t *content;          /* NULL when not in the cache */
    int deadline_exceeded;          /* rc_deadline returned 1 */
    int deleting;                   /* metadata.deletionTimestamp set */
    int64_t now_ms;                 /* stamps changed conditions */
};

/* §4.4 (with §4.2): the snapshot's new status as a new reference in *out,
 * computed from in->snapshot's status (never modified). Each condition's
 * final value is worked out first, then merged once: it keeps its
 * lastTransitionTime when status and reason are unchanged, a changed or
 * new one gets now_ms (KubeVirt sets Progressing twice when in error and
 * can move the time for nothing); new types are appended in KubeVirt's
 * order (Failure, Progressing, Ready); lastProbeTime is null and message
 * absent. Succeeded fills snapshotVolumes and PartialSnapshot from
 * in->content. Returns 0 or KUBE_ENOMEM. */
int rc_snapshot_status(json_t **out,
                       const struct rc_snapshot_in *in) KUBE_MUST_CHECK;

/* 1 when statuses a and b (borrowed, each may be NULL) differ in anything
 * but conditions' lastProbeTime, else 0: the controller writes status only
 * then, at most once per reconcile. */
int rc_status_differs(const json_t *a, const json_t *b);

/* §4 step 6: whether a terminating snapshot's content (both borrowed)
 * should be deleted: deletionPolicy unset or Delete, or content not
 * readyToUse. */
int rc_should_delete_content(const json_t *snapshot, const json_t *content);

#endif
