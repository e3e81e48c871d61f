/* reconciler/restore_target.h - the target reconcile (spec §6.3) as pure
 * transforms: the DataVolume names the restored claims take, the VM to
 * write (the existing target with the snapshot's spec, or a new stopped VM
 * built from the snapshot's copy with spec.patches applied, spec §6.5),
 * the DataVolumes to create from its templates, and the templates it no
 * longer has (status.deletedDataVolumes). The controller writes them. */
#ifndef VMSNAPD_RECONCILER_RESTORE_TARGET_H
#define VMSNAPD_RECONCILER_RESTORE_TARGET_H

#include <jansson.h>

#include "kube/errors.h"
#include "reconciler/restore_in.h"

/* 1 when the target reconcile is done for this restore: the target
 * exists and carries lastRestoreUID "<restore>-<uid>" (spec §6.3). */
int rc_restore_target_done(const struct rc_restore_in *in);

/* Spec §6.3.2: for each entry of restores (an array we own, changed in
 * place) whose volume is a dataVolume volume with a dataVolumeTemplate in
 * the snapshot VM, sets dataVolumeName to rc_restore_volume_name's name
 * for it. *changed is 1 when an entry changed. KUBE_EINVAL with err
 * "unexpected snapshot source" when the content holds no VM; KUBE_ENOMEM.
 * in is borrowed. */
int rc_restore_dv_names(json_t *restores, int *changed,
                        const struct rc_restore_in *in,
                        struct kube_err *err) KUBE_MUST_CHECK;

/* Spec §6.3.2: the restored claim pvc (borrowed) as the DataVolume dv
 * adopts it: annotation cdi.kubevirt.io/storage.populatedFor=dv and no
 * ownerReferences. *out is a new reference to write with Update, or NULL
 * when pvc already is so. Returns 0 or KUBE_ENOMEM. */
int rc_restore_pvc_adopt(json_t **out, const json_t *pvc,
                         const char *dv) KUBE_MUST_CHECK;

/* The VM to write, in *out (new reference), spec §6.3.3 and §6.5. Spec:
 * the snapshot VM's, with PVC volumes on the restored claims, dataVolume
 * volumes with a template on the renamed template (the entry's
 * dataVolumeName), dataVolume volumes without one turned into
 * persistentVolumeClaim volumes, memoryDump volumes dropped. Existing
 * target: a copy of it with that spec; running=false if it used running,
 * else its own runStrategy. New target: kubevirt.io/v1 VirtualMachine
 * named spec.target.name in the restore's namespace with only the
 * snapshot VM's labels and annotations (no uid, resourceVersion, owners,
 * finalizers or status); running=false if the snapshot VM set running,
 * else runStrategy Halted; then spec.patches applied (each a JSON Patch
 * operation or array of them). Both: annotation lastRestoreUID; the
 * legacy firmware UUID when the target keeps the snapshot VM's name and
 * firmware.uuid is empty. KUBE_EINVAL with err: "unexpected snapshot
 * source", "DataVolumeName for dv <dv> should have been updated already",
 * "error patching VM <name>: <why>"; KUBE_ENOMEM. All borrowed. */
int rc_restore_target_vm(json_t **out, const struct rc_restore_in *in,
                         const json_t *restores,
                         struct kube_err *err) KUBE_MUST_CHECK;

/* Spec §6.3.4: the DataVolume to create for template tmpl (borrowed, an
 * entry of the restored VM's dataVolumeTemplates) in the restore's
 * namespace, annotated restore.kubevirt.io/name and prePopulated "true"
 * so CDI adopts the restored claim instead of importing. New reference,
 * or NULL when out of memory. */
json_t *rc_restore_dv_build(const json_t *restore, const json_t *tmpl);

/* What the controller does for one dataVolumeTemplates entry of the VM
 * to write (spec §6.3.4). */
enum rc_dv_next {
    RC_DV_READY,  /* exists in phase Succeeded, WaitForFirstConsumer or
                     PendingPopulation */
    RC_DV_WAIT,   /* exists in another phase, or its claim is not yet
                     adopted (populatedFor it, no owners): wait */
    RC_DV_CREATE, /* missing, claim adopted: create rc_restore_dv_build's */
    RC_DV_FAILED, /* missing with no claim: err says "when creating restore
                     dv pvc <ns>/<name> does not exist and should" */
};

/* Decides for template tmpl given dv, the DataVolume of that name (NULL:
 * none), and pvc, the claim of that name (NULL: none), in namespace ns.
 * All borrowed. */
enum rc_dv_next rc_restore_dv_next(const json_t *tmpl, const json_t *dv,
                                   const json_t *pvc, const char *ns,
                                   struct kube_err *err);

/* Spec §6.3.4: status.deletedDataVolumes, the dataVolumeTemplates names
 * of target that vm (the VM to write) no longer has, in *out (new
 * reference, an array, empty when target is NULL). Returns 0 or
 * KUBE_ENOMEM. Both borrowed. */
int rc_restore_deleted_dvs(json_t **out, const json_t *target,
                           const json_t *vm) KUBE_MUST_CHECK;

/* KubeVirt's legacy firmware UUID for a VM name: the SHA-1 (version 5)
 * UUID of name in namespace 6a1a24a1-4061-4607-8bf4-a3963d0c5895, written
 * into buf (37 bytes). Returns 0, or KUBE_ERR when the digest fails. */
int rc_restore_legacy_uuid(char buf[37], const char *name) KUBE_MUST_CHECK;

#endif
