/* reconciler/restore_meta.h - the small writes around a restore (spec §6
 * steps 5, 9 and 13, §6.2.5, §6.3.6, §6.6) as pure functions: each returns
 * the object to write (or the JSON patch to send), or NULL when it is
 * already so, which is what makes a re-run after a crash a no-op. */
#ifndef VMSNAPD_RECONCILER_RESTORE_META_H
#define VMSNAPD_RECONCILER_RESTORE_META_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"
#include "reconciler/restore_in.h"

/* Step 5: the restore with an owner reference to the existing target
 * (only when it has none) and finalizer snapshot.kubevirt.io/vmrestore-
 * protection, in *out (new reference, for a full Update), or NULL when
 * neither is missing. Returns 0 or KUBE_ENOMEM. */
int rc_restore_claim(json_t **out,
                     const struct rc_restore_in *in) KUBE_MUST_CHECK;

/* Step 9: marks the target busy. *out (new reference, for the VM's
 * UpdateStatus) is the target with status.restoreInProgress = the
 * restore's name, or NULL when there is nothing to do (no target, the
 * target already restored by this restore, or already marked for it).
 * KUBE_ECONFLICT with err "vm restore <other> in progress" when another
 * restore holds it; KUBE_ENOMEM. */
int rc_restore_vm_busy(json_t **out, const struct rc_restore_in *in,
                       struct kube_err *err) KUBE_MUST_CHECK;

/* Step 13 and §6.6: vm (borrowed) with status.restoreInProgress and
 * memoryDumpRequest removed when restoreInProgress names restore, in *out
 * (new reference), else NULL. Returns 0 or KUBE_ENOMEM. */
int rc_restore_vm_release(json_t **out, const json_t *vm,
                          const json_t *restore) KUBE_MUST_CHECK;

/* §6.3.6: a restored claim pvc (borrowed) the new VM vm should own: no
 * owners and annotation restore.kubevirt.io/owned-by-vm = the restore's
 * name. *out is pvc with vm's controller reference and without that
 * annotation (new reference, for an Update), or NULL when not so. Returns
 * 0 or KUBE_ENOMEM. */
int rc_restore_pvc_own(json_t **out, const json_t *pvc, const json_t *vm,
                       const json_t *restore) KUBE_MUST_CHECK;

/* §6.2.5, InPlace: the JSON patch (new reference, an array) that marks
 * DataVolume dv (borrowed) restore.kubevirt.io/name=<restore> and
 * cdi.kubevirt.io/storage.prePopulated=<dv name>, so CDI does not
 * re-create the claim the restore deletes; it adds metadata.annotations
 * first when dv has none. NULL when out of memory. */
json_t *rc_restore_dv_prepopulate(const json_t *dv, const json_t *restore);

/* Deleting a restore that did not finish (not in KubeVirt, which keeps
 * all): 1 when obj (a PVC or a DataVolume, borrowed) is one this restore
 * made and may take back: a PVC carrying its lastRestoreUID, or a
 * DataVolume with its restore.kubevirt.io/name and prePopulated "true";
 * and target (borrowed, NULL: none) neither carries this restore's
 * lastRestoreUID nor names obj in a volume (InPlace reuses the user's
 * claim names). Never the user's own claims. Cannot fail. */
int rc_restore_undoable(const json_t *obj, const json_t *restore,
                        const json_t *target);

/* Backend storage (spec §6.3.5, §6 step 12): the PVC that keeps a VM's
 * persistent TPM/EFI state carries label persistent-state-for=<vm>. */
#define RC_LABEL_BACKEND "persistent-state-for"
#define RC_LABEL_BACKEND_CLEANUP "restore.kubevirt.io/cleanup-backend-pvc"

/* The cleanup label's value for target: "persistent-state-for-<target>"
 * cut to 63 characters, as KubeVirt does. Cannot fail; cut to len. */
void rc_restore_backend_cleanup_value(char *buf, size_t len,
                                      const char *target);

/* The JSON patch (new reference) for pvc's (borrowed) labels: release 1
 * (the original backend PVC of a same-named target) drops
 * persistent-state-for and adds the cleanup label; release 0 (the
 * restored backend PVC) adds persistent-state-for=<target>. It tests and
 * replaces /metadata/labels as read, or adds it when pvc has none. NULL
 * when out of memory. */
json_t *rc_restore_backend_patch(const json_t *pvc, const char *target,
                                 int release);

#endif
