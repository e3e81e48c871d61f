/* reconciler/restore_pvc.h - the restore's volumes (spec §6.2): the
 * status.restores list computed from the content, the name of each
 * restored claim (volumeRestorePolicy, volumeRestoreOverrides), what to do
 * with the claim found under that name, and the restored PVC itself built
 * from the backup's PVC and its VolumeSnapshot (spec §6.4). Pure: callers
 * bring the objects from their caches and make the API calls. */
#ifndef VMSNAPD_RECONCILER_RESTORE_PVC_H
#define VMSNAPD_RECONCILER_RESTORE_PVC_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"
#include "reconciler/restore_in.h"

/* Kubernetes' limit on a label value, which PrefixTargetName names keep
 * to (OpenShift's naming.GetName). */
#define RC_RESTORE_NAME_MAX 63

/* The name of the claim (or DataVolume) that restores volume (spec
 * §6.2.4), first rule that applies: a volumeRestoreOverrides[] entry for
 * volume with a restoreName; InPlace: claim, the backup's original claim
 * name; PrefixTargetName: "<target>-<volume>", cut to 63 characters with
 * an FNV-1a hash as naming.GetName does; otherwise (RandomizeNames, none)
 * "restore-<restore uid>-<volume>". restore is borrowed. Returns 0, or
 * KUBE_ETOOBIG when buf is too small (buf holds ""). */
int rc_restore_volume_name(char *buf, size_t len, const json_t *restore,
                           const char *volume,
                           const char *claim) KUBE_MUST_CHECK;

/* status.restores as it should be (spec §6.2.3), in *out (new reference,
 * an array): one {volumeName, persistentVolumeClaim, volumeSnapshotName}
 * per volumeBackup of in->content, in its order, skipping the snapshot
 * VM's memoryDump volumes; an entry already in the restore's status for
 * that volume is kept as it is (it may carry dataVolumeName). *changed is
 * 1 when the list differs from the status'. KUBE_EINVAL with err
 * "VMSnapshotContent <name> does not exist" when in->content is NULL, or
 * "VolumeSnapshotName missing for volume <v>" for a backup without one;
 * KUBE_ENOMEM. */
int rc_restore_volumes(json_t **out, int *changed,
                       const struct rc_restore_in *in,
                       struct kube_err *err) KUBE_MUST_CHECK;

/* What the controller does next for one status.restores entry, given the
 * claim found under its name (spec §6.2.5). */
enum rc_pvc_next {
    RC_PVC_CREATE,  /* missing: create rc_restore_pvc_build's PVC */
    RC_PVC_SET_DV,  /* InPlace original owned by a DataVolume: store
                       dv in the entry's dataVolumeName, then wait */
    RC_PVC_REPLACE, /* InPlace original: annotate its DataVolume (if
                       the entry names one) with restore.kubevirt.io/
                       name and prePopulated, then DELETE the claim */
    RC_PVC_WAIT,    /* Pending (or no phase yet) and its class binds
                       Immediate, or has no mode or no class: wait */
    RC_PVC_READY,   /* Bound, or Pending under WaitForFirstConsumer */
    RC_PVC_FAILED,  /* Lost or another phase: err says so */
};

/* Decides for entry (a status.restores item) and pvc, the claim of that
 * name (NULL: none), whose StorageClass is sc (NULL: not in the cache).
 * dv, for RC_PVC_SET_DV, gets the owning DataVolume's name. Returns the
 * step; for RC_PVC_FAILED err says "PVC <ns>/<name> in status \"<phase>\""
 * or "StorageClass <sc> does not exist". All borrowed. */
enum rc_pvc_next rc_restore_pvc_next(char *dv, size_t dvlen,
                                     const struct rc_restore_in *in,
                                     const json_t *entry, const json_t *pvc,
                                     const json_t *sc, struct kube_err *err);

/* The restored PVC for entry (a status.restores item) in *out (new
 * reference), spec §6.4: named entry.persistentVolumeClaim in the
 * restore's namespace; labels and annotations of the backup's PVC without
 * the keys the volume's old life left (pv.kubernetes.io, volume.*,
 * cdi.kubevirt.io but storage.contentType, k8s.io/CloneRequest|CloneOf,
 * persistent-state-for); restore.kubevirt.io/source-vm-name and
 * -namespace labels, restore.kubevirt.io/name and lastRestoreUID
 * annotations, then the override's labels and annotations; accessModes,
 * resources, storageClassName and volumeMode copied; dataSource and
 * dataSourceRef naming the VolumeSnapshot volsnap; requests.storage raised
 * to volsnap's status.restoreSize when that is larger or none was asked;
 * an owner as §6.4 orders it (populatedFor the entry's dataVolumeName, or
 * the existing target VM as controller unless volumeOwnershipPolicy is
 * None, or the owned-by-vm annotation when the backup's PVC was owned by
 * the snapshot VM). KUBE_EINVAL with err "missing volumeSnapshot <name>"
 * when volsnap is NULL, or naming a quantity that does not parse;
 * KUBE_ENOMEM. All borrowed. */
int rc_restore_pvc_build(json_t **out, const struct rc_restore_in *in,
                         const json_t *entry, const json_t *volsnap,
                         struct kube_err *err) KUBE_MUST_CHECK;

#endif
