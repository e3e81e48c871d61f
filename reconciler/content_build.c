/* reconciler/content_build.c - the VirtualMachineSnapshotContent of a
 * snapshot and the VolumeSnapshot of one of its volume backups
 * (spec/kubevirt-controller.md §4.3, §5.3). */
#include "reconciler/snapshot_logic.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"

static int fits(size_t len, int n)
{
    return n < 0 || (size_t)n >= len ? KUBE_ETOOBIG : KUBE_OK;
}

int rc_content_name(char *out, size_t len, const json_t *snapshot)
{
    const char *set =
        kube_json_str(snapshot, "status.virtualMachineSnapshotContentName");
    const char *uid = kube_json_str0(snapshot, "metadata.uid");

    if (set && *set)
        return fits(len, snprintf(out, len, "%s", set));
    if (!*uid)
        return KUBE_EINVAL;
    return fits(len, snprintf(out, len, "vmsnapshot-content-%s", uid));
}

int rc_volume_snapshot_name(char *out, size_t len, const char *snapshot_uid,
                            const char *volume)
{
    return fits(len, snprintf(out, len, "vmsnapshot-%s-volume-%s", snapshot_uid,
                              volume));
}

/* A deep copy of obj's metadata without managedFields (new reference). */
static json_t *meta_copy(const json_t *obj)
{
    json_t *m = json_deep_copy(kube_json_path(obj, "metadata"));

    if (!m)
        m = json_object();
    if (m)
        json_object_del(m, "managedFields");
    return m;
}

/* Copies the value under keys (a NULL-terminated path of object keys)
 * from src into dst, creating dst's parents; absent in src, it is removed
 * from dst. */
static int overwrite(json_t *dst, const json_t *src, const char *const *keys)
{
    const json_t *from = src;
    json_t *to = dst, *next;
    size_t i;

    for (i = 0; keys[i]; i++)
        from = json_object_get(from, keys[i]);
    for (i = 0; keys[i + 1]; i++) {
        next = json_object_get(to, keys[i]);
        if (!json_is_object(next)) {
            next = json_object();
            if (json_object_set_new(to, keys[i], next))
                return KUBE_ENOMEM;
        }
        to = next;
    }
    if (!from) {
        json_object_del(to, keys[i]);
        return KUBE_OK;
    }
    return json_object_set_new(to, keys[i], json_deep_copy(from)) ? KUBE_ENOMEM
                                                                  : KUBE_OK;
}

/* §4.3 step 3: the VM copy. Online, the started revision with the live
 * metadata, volumes, disks and dataVolumeTemplates (hot-plugs). */
static int source_vm(json_t **out, const json_t *vm, const json_t *revision)
{
    static const char *const volumes[] = {"spec", "template", "spec", "volumes",
                                          NULL};
    static const char *const disks[] = {"spec",    "template", "spec", "domain",
                                        "devices", "disks",    NULL};
    static const char *const dvts[] = {"spec", "dataVolumeTemplates", NULL};
    const json_t *spec = kube_json_path(revision ? revision : vm, "spec");
    int rc = KUBE_OK;

    *out = json_pack("{s:o, s:o, s:{}}", "metadata", meta_copy(vm), "spec",
                     spec ? json_deep_copy(spec) : json_object(), "status");
    if (!*out)
        return KUBE_ENOMEM;
    if (revision && (overwrite(*out, vm, volumes) ||
                     overwrite(*out, vm, disks) || overwrite(*out, vm, dvts)))
        rc = KUBE_ENOMEM;
    return rc;
}

/* One volumeBackup for volume vol on pvc (borrowed), or RC_CONTENT_NO_CLASS
 * with fail written when its StorageClass has no VolumeSnapshotClass. */
static int backup_for(json_t **out, char *fail, size_t fail_len,
                      struct kube_store *st, const char *uid, const char *vol,
                      const json_t *pvc, struct kube_err *err)
{
    const char *sc = kube_json_str(pvc, "spec.storageClassName");
    char cls[256], vsname[512];
    int rc;

    *out = NULL;
    if (!sc) {
        snprintf(fail, fail_len,
                 "volume \"%s\" cannot be snapshotted: PersistentVolumeClaim "
                 "\"%s\" has no StorageClass",
                 vol, kube_json_str0(pvc, "metadata.name"));
        return RC_CONTENT_NO_CLASS;
    }
    rc = rc_vsclass_for_storage_class(cls, sizeof(cls), st, sc, err);
    if (rc < 0)
        return rc;
    if (!cls[0]) {
        snprintf(fail, fail_len,
                 "volume \"%s\" cannot be snapshotted: StorageClass \"%s\" has "
                 "no VolumeSnapshotClass",
                 vol, sc);
        return RC_CONTENT_NO_CLASS;
    }
    if (rc_volume_snapshot_name(vsname, sizeof(vsname), uid, vol) < 0)
        return kube_err_set(err, KUBE_ETOOBIG, "volume name too long: %s", vol);
    *out =
        json_pack("{s:s, s:{s:o, s:O}, s:s}", "volumeName", vol,
                  "persistentVolumeClaim", "metadata", meta_copy(pvc), "spec",
                  kube_json_path(pvc, "spec"), "volumeSnapshotName", vsname);
    return *out ? KUBE_OK : kube_err_set(err, KUBE_ENOMEM, "out of memory");
}

/* §4.3 steps 1-2: the backups of every Bound claim in pvcs, in order. */
static int backups_for(json_t *list, char *fail, size_t fail_len,
                       struct kube_store *st, const json_t *snapshot,
                       const json_t *pvcs, struct kube_err *err)
{
    const char *ns = kube_json_str0(snapshot, "metadata.namespace");
    const char *uid = kube_json_str0(snapshot, "metadata.uid");
    const json_t *claim;
    const char *vol;
    int rc = KUBE_OK;

    json_object_foreach((json_t *)pvcs, vol, claim)
    {
        json_t *pvc = NULL, *b = NULL;

        if (kube_store_get(&pvc, st, "PersistentVolumeClaim", ns,
                           json_string_value(claim)) < 0)
            continue; /* KubeVirt skips it: it shows up as excluded */
        if (strcmp(kube_json_str0(pvc, "status.phase"), "Bound") == 0)
            rc = backup_for(&b, fail, fail_len, st, uid, vol, pvc, err);
        json_decref(pvc);
        if (rc == KUBE_OK && b && json_array_append_new(list, b))
            rc = kube_err_set(err, KUBE_ENOMEM, "out of memory");
        if (rc != KUBE_OK)
            return rc;
    }
    return KUBE_OK;
}

int rc_content_build(json_t **out, char *fail, size_t fail_len,
                     struct kube_store *st, const json_t *snapshot,
                     const json_t *vm, const json_t *revision_vm,
                     const json_t *pvcs, struct kube_err *err)
{
    json_t *backups = json_array(), *vmcopy = NULL;
    char name[512];
    int rc;

    *out = NULL;
    if (fail_len)
        fail[0] = '\0';
    rc = backups ? KUBE_OK : KUBE_ENOMEM;
    if (rc == KUBE_OK && (rc = rc_content_name(name, sizeof(name), snapshot)))
        kube_err_set(err, rc, "snapshot has no metadata.uid");
    if (rc == KUBE_OK)
        rc = backups_for(backups, fail, fail_len, st, snapshot, pvcs, err);
    if (rc == KUBE_OK && (rc = source_vm(&vmcopy, vm, revision_vm)) < 0)
        kube_err_set(err, rc, "out of memory");
    if (rc != KUBE_OK)
        goto done;
    *out = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:[s]}, s:{s:s, s:{s:O}, s:O}}", "apiVersion",
        "snapshot.kubevirt.io/v1beta1", "kind", "VirtualMachineSnapshotContent",
        "metadata", "name", name, "namespace",
        kube_json_str0(snapshot, "metadata.namespace"), "finalizers",
        RC_CONTENT_FINALIZER, "spec", "virtualMachineSnapshotName",
        kube_json_str0(snapshot, "metadata.name"), "source", "virtualMachine",
        vmcopy, "volumeBackups", backups);
    if (!*out)
        rc = kube_err_set(err, KUBE_ENOMEM, "out of memory");
done:
    json_decref(vmcopy);
    json_decref(backups);
    return rc;
}

int rc_volume_snapshot_build(json_t **out, const json_t *content,
                             const json_t *backup, const char *vsclass,
                             struct kube_err *err)
{
    const char *ns = kube_json_str0(content, "metadata.namespace");
    const char *name = kube_json_str(backup, "volumeSnapshotName");
    const char *pvc =
        kube_json_str0(backup, "persistentVolumeClaim.metadata.name");

    *out = NULL;
    if (!name)
        return kube_err_set(err, KUBE_EINVAL,
                            "volume backup %s has no volumeSnapshotName",
                            kube_json_str0(backup, "volumeName"));
    if (!kube_json_str(backup, "persistentVolumeClaim.spec.storageClassName"))
        return kube_err_set(err, KUBE_EINVAL,
                            "%s/%s VolumeSnapshot requested but no storage "
                            "class",
                            ns, pvc);
    *out = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:b, "
        "s:b}]}, s:{s:{s:s}, s:s}}",
        "apiVersion", "snapshot.storage.k8s.io/v1", "kind", "VolumeSnapshot",
        "metadata", "name", name, "namespace", ns, "labels",
        RC_LABEL_SOURCE_VM_NAME,
        kube_json_str0(content, "spec.source.virtualMachine.metadata.name"),
        RC_LABEL_SOURCE_VM_NAMESPACE, ns, "ownerReferences", "apiVersion",
        "snapshot.kubevirt.io/v1beta1", "kind", "VirtualMachineSnapshotContent",
        "name", kube_json_str0(content, "metadata.name"), "uid",
        kube_json_str0(content, "metadata.uid"), "controller", 1,
        "blockOwnerDeletion", 1, "spec", "source", "persistentVolumeClaimName",
        pvc, "volumeSnapshotClassName", vsclass);
    return *out ? KUBE_OK : kube_err_set(err, KUBE_ENOMEM, "out of memory");
}
