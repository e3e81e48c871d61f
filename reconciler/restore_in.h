/* reconciler/restore_in.h - what one VirtualMachineRestore reconcile
 * reads (spec §6), gathered by the controller from its caches and handed
 * to the pure pieces in restore_pvc.h, restore_target.h and
 * restore_status.h, plus the names the restore writes on what it makes.
 * Nothing here does I/O or reads a clock. */
#ifndef VMSNAPD_RECONCILER_RESTORE_IN_H
#define VMSNAPD_RECONCILER_RESTORE_IN_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"

#define RC_RESTORE_FINALIZER "snapshot.kubevirt.io/vmrestore-protection"
#define RC_ANN_RESTORE_NAME "restore.kubevirt.io/name"
#define RC_ANN_LAST_RESTORE_UID "restore.kubevirt.io/lastRestoreUID"
#define RC_ANN_OWNED_BY_VM "restore.kubevirt.io/owned-by-vm"
#define RC_ANN_POPULATED_FOR "cdi.kubevirt.io/storage.populatedFor"
#define RC_ANN_PREPOPULATED "cdi.kubevirt.io/storage.prePopulated"
#define RC_RESTORE_LABEL_VM_NAME "restore.kubevirt.io/source-vm-name"
#define RC_RESTORE_LABEL_VM_NS "restore.kubevirt.io/source-vm-namespace"

/* Every pointer is borrowed for the reconcile; NULL means the object is
 * not in the cache. */
struct rc_restore_in {
    const json_t *restore;  /* the VirtualMachineRestore; never NULL */
    const json_t *snapshot; /* spec.virtualMachineSnapshotName's snapshot */
    const json_t *content;  /* the snapshot's content */
    const json_t *target;   /* the target VM: NULL when it does not exist */
    const json_t *vmi;      /* the target's VMI: NULL when stopped */
};

/* Writes "<restore name>-<restore uid>", the value of lastRestoreUID on
 * what this restore wrote. Returns 0, or KUBE_ETOOBIG (buf holds ""). */
int rc_restore_uid_value(char *buf, size_t len,
                         const json_t *restore) KUBE_MUST_CHECK;

/* 1 when obj (borrowed: a VM or a PVC) carries this restore's
 * lastRestoreUID annotation, i.e. this restore already wrote it. */
int rc_restore_marked(const json_t *obj, const json_t *restore);

/* The VM copy kept in the content, content.spec.source.virtualMachine
 * (borrowed), or NULL when content is NULL or holds none. */
const json_t *rc_restore_source_vm(const json_t *content);

/* The restore controller's watch (spec §7, plus what KubeVirt leaves to
 * backoff): 1 when an event on obj (borrowed) of kind concerns restore
 * (borrowed): a VirtualMachine or VirtualMachineInstance named as its
 * target; its VirtualMachineSnapshot, or that snapshot's content; a
 * VolumeSnapshot its status.restores names. 0 for any other kind (PVCs
 * and DataVolumes name their restore in restore.kubevirt.io/name). */
int rc_restore_concerns(const json_t *restore, const char *kind,
                        const json_t *obj);

/* obj's (borrowed) annotation key, or "" (never NULL). Annotation keys
 * hold dots, so no dotted path reaches them. */
const char *rc_restore_ann(const json_t *obj, const char *key);

/* Small tree helpers the restore pieces share. The first item of list
 * (an array) whose string key equals value (borrowed), or NULL. */
json_t *rc_json_find(const json_t *list, const char *key, const char *value);

/* parent[key] as an object (borrowed), made when absent or not an object;
 * NULL when out of memory or parent is NULL. */
json_t *rc_json_child(json_t *parent, const char *key);

/* Sets obj's metadata.<map>.<key> to value (map "labels" or
 * "annotations"), making what is missing. Returns 0 or KUBE_ENOMEM. */
int rc_meta_set(json_t *obj, const char *map, const char *key,
                const char *value) KUBE_MUST_CHECK;

#endif
