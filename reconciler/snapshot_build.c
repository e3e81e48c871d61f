/* reconciler/snapshot_build.c - the pure parts of the snapshot and content
 * workers: status computation (spec §4.2, §4.4), content building (§4.3),
 * VolumeSnapshotClass choice and VolumeSnapshot building (§5.3). */
#include "reconciler/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "reconciler/api.h"

void rc_content_name(char *buf, size_t len, const json_t *snap)
{
    const char *n =
        kube_json_str0(snap, "status.virtualMachineSnapshotContentName");

    if (*n)
        snprintf(buf, len, "%s", n);
    else
        snprintf(buf, len, "vmsnapshot-content-%s",
                 kube_json_str0(snap, "metadata.uid"));
}

int rc_should_delete_content(const json_t *snap, const json_t *content)
{
    const char *p = kube_json_str0(snap, "spec.deletionPolicy");

    return !*p || strcmp(p, "Delete") == 0 ||
           !kube_json_true(content, "status.readyToUse");
}

/* ---- conditions (§1.2: matched by type; replaced with a fresh
 * lastTransitionTime only when status or reason changes) ---- */

static void set_condition(json_t *st, const char *type, int status,
                          const char *reason)
{
    json_t *conds = json_object_get(st, "conditions"), *c;
    const char *s = status ? "True" : "False";
    char now[32];
    size_t i;

    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(st, "conditions", conds);
    }
    json_array_foreach(conds, i, c)
    {
        if (strcmp(kube_json_str0(c, "type"), type) != 0)
            continue;
        if (strcmp(kube_json_str0(c, "status"), s) == 0 &&
            strcmp(kube_json_str0(c, "reason"), reason) == 0)
            return;
        break;
    }
    rc_time_now(now);
    c = json_pack("{s:s, s:s, s:n, s:s, s:s}", "type", type, "status", s,
                  "lastProbeTime", "lastTransitionTime", now, "reason", reason);
    if (i < json_array_size(conds))
        json_array_set_new(conds, i, c);
    else
        json_array_append_new(conds, c);
}

/* ---- indications (§4.2) ---- */

static const struct {
    const char *name, *message;
} indications[] = {
    {"GuestAgent", "Guest agent was active and attempted to quiesce the "
                   "filesystem for application consistency."},
    {"NoGuestAgent", "Guest agent was not available. Snapshot is "
                     "crash-consistent and may not be application-consistent."},
    {"Online", "Snapshot taken while the VM was running. Consistency depends "
               "on guest-agent quiescing."},
    {"PartialSnapshot",
     "Not all snapshotable volumes were included in the snapshot. Check "
     "status.snapshotVolumes for excluded volumes and VM VolumeSnapshotStatus "
     "for details."},
    {"Paused", "Snapshot taken while the VM was paused. Snapshot is "
               "crash-consistent and may not be application-consistent."},
    {"QuiesceTimeout",
     "Guest agent quiesced the filesystem, but the freeze window timed out "
     "before completion. Snapshot is crash-consistent and may not be "
     "application-consistent."},
};
#define NIND (sizeof(indications) / sizeof(indications[0]))

static const char *indication_message(const char *name)
{
    for (size_t i = 0; i < NIND; i++)
        if (strcmp(indications[i].name, name) == 0)
            return indications[i].message;
    return "Unknown indication";
}

/* Writes indications and sourceIndications from the set in have (one flag
 * per row of the table, which is in alphabetical order). */
static void write_indications(json_t *st, const int have[NIND])
{
    json_t *ind = json_array(), *src = json_array();

    for (size_t i = 0; i < NIND; i++) {
        if (!have[i])
            continue;
        json_array_append_new(ind, json_string(indications[i].name));
        json_array_append_new(src, json_pack("{s:s, s:s}", "indication",
                                             indications[i].name, "message",
                                             indications[i].message));
    }
    json_object_set_new(st, "indications", ind);
    json_object_set_new(st, "sourceIndications", src);
}

static size_t ind_index(const char *name)
{
    size_t i;

    for (i = 0; i < NIND && strcmp(indications[i].name, name) != 0; i++)
        ;
    return i;
}

static void update_indications(json_t *st, const struct rc_source *src)
{
    int have[NIND] = {0};
    const json_t *old = json_object_get(st, "indications"), *v;
    size_t i;

    if (!src->online) {
        json_object_del(st, "indications");
        json_object_del(st, "sourceIndications");
        return;
    }
    json_array_foreach(old, i, v)
    { /* sticky: QuiesceTimeout is never removed once set */
        size_t k = ind_index(json_string_value(v) ? json_string_value(v) : "");
        if (k < NIND)
            have[k] = 1;
    }
    have[ind_index("Online")] = 1;
    if (src->paused)
        have[ind_index("Paused")] = 1;
    else if (src->guest_agent) {
        have[ind_index("GuestAgent")] = 1;
        if (strstr(kube_json_str0(st, "error.message"), "fsfreeze is limited"))
            have[ind_index("QuiesceTimeout")] = 1;
    } else
        have[ind_index("NoGuestAgent")] = 1;
    write_indications(st, have);
}

/* snapshotVolumes from the content's VM copy, and PartialSnapshot when a
 * snapshottable volume was left out (§4.4). */
static void snapshot_volumes(json_t *st, const json_t *content)
{
    const json_t *vols = kube_json_path(
        content, "spec.source.virtualMachine.spec.template.spec.volumes");
    const json_t *backups = kube_json_path(content, "spec.volumeBackups");
    json_t *inc = json_array(), *exc = json_array(), *v, *b;
    int partial = 0;
    size_t i, j;

    json_array_foreach(vols, i, v)
    {
        const char *name = kube_json_str0(v, "name");
        int found = 0;
        json_array_foreach(backups, j, b)
        {
            found |= strcmp(kube_json_str0(b, "volumeName"), name) == 0;
        }
        json_array_append_new(found ? inc : exc, json_string(name));
        if (!found && (json_object_get(v, "persistentVolumeClaim") ||
                       json_object_get(v, "dataVolume") ||
                       json_object_get(v, "memoryDump")))
            partial = 1;
    }
    json_object_set_new(st, "snapshotVolumes",
                        json_pack("{s:o, s:o}", "includedVolumes", inc,
                                  "excludedVolumes", exc));
    if (partial) {
        json_t *ind = json_object_get(st, "indications");
        json_t *src = json_object_get(st, "sourceIndications");
        size_t k;
        json_array_foreach(ind, k, v)
        {
            if (strcmp(json_string_value(v) ? json_string_value(v) : "",
                       "PartialSnapshot") == 0)
                return;
        }
        if (!ind) {
            ind = json_array();
            src = json_array();
            json_object_set_new(st, "indications", ind);
            json_object_set_new(st, "sourceIndications", src);
        }
        json_array_append_new(ind, json_string("PartialSnapshot"));
        json_array_append_new(
            src, json_pack("{s:s, s:s}", "indication", "PartialSnapshot",
                           "message", indication_message("PartialSnapshot")));
    }
}

static void copy_or_drop(json_t *dst, const char *key, const json_t *from)
{
    json_t *v = json_object_get(from, key);

    if (v && !json_is_null(v))
        json_object_set(dst, key, v);
    else
        json_object_del(dst, key);
}

/* Copies the content's progress into st (§4.4 step 3). */
static void copy_content(json_t *st, const json_t *content)
{
    const json_t *cs = json_object_get(content, "status");

    if (!content || !json_is_object(cs))
        return;
    json_object_set_new(st, "virtualMachineSnapshotContentName",
                        json_string(kube_json_str0(content, "metadata.name")));
    copy_or_drop(st, "creationTime", cs);
    json_object_set_new(st, "readyToUse",
                        json_boolean(kube_json_true(cs, "readyToUse")));
    copy_or_drop(st, "error", cs);
}

static void phase_and_progress(json_t *st, const struct rc_status_in *in)
{
    const char *phase = kube_json_str0(st, "phase");

    if (in->exceeded || in->failure) {
        json_object_set_new(st, "phase", json_string("Failed"));
        set_condition(st, "Failure", 1,
                      in->failure ? in->failure : "snapshot deadline exceeded");
        set_condition(st, "Progressing", 0, "Operation failed");
    } else if (strcmp(phase, "Succeeded") == 0 ||
               json_object_get(st, "creationTime")) {
        if (strcmp(phase, "Succeeded") != 0 && in->src->vm)
            update_indications(st, in->src); /* as taken, if never shown */
        json_object_set_new(st, "phase", json_string("Succeeded"));
        set_condition(st, "Progressing", 0, "Operation complete");
        if (in->content)
            snapshot_volumes(st, in->content);
    } else {
        json_object_set_new(st, "phase", json_string("InProgress"));
        if (in->src->vm) {
            set_condition(st, "Progressing", in->src->locked, in->lockmsg);
            update_indications(st, in->src);
        } else
            set_condition(st, "Progressing", 0, "Source does not exist");
        if (rc_deleting(in->snap)) {
            json_object_set_new(st, "phase", json_string("Deleting"));
            set_condition(st, "Progressing", 0, "VM snapshot is deleting");
        }
    }
}

json_t *rc_snapshot_status(const struct rc_status_in *in)
{
    const json_t *old = json_object_get(in->snap, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();

    if (!st)
        return NULL;
    if (!json_object_get(st, "readyToUse"))
        json_object_set_new(st, "readyToUse", json_false());
    if (in->src->vm)
        json_object_set_new(
            st, "sourceUID",
            json_string(kube_json_str0(in->src->vm, "metadata.uid")));
    copy_content(st, in->content);
    phase_and_progress(st, in);
    if (kube_json_true(st, "readyToUse"))
        set_condition(st, "Ready", 1, "Ready");
    else
        set_condition(st, "Ready", 0, "Not ready");
    if (json_object_get(st, "error"))
        set_condition(st, "Progressing", 0, "In error state");
    return st;
}

/* ---- content (§4.3) and VolumeSnapshots (§5.3) ---- */

int rc_volume_snapshot_class(char *buf, size_t len, struct kube_store *s,
                             const char *sc, struct kube_err *err)
{
    json_t *cls = NULL, *all = NULL, *v, *pick = NULL;
    const char *prov;
    size_t i, n = 0;
    int rc = KUBE_OK;

    *buf = '\0';
    if (kube_store_get(&cls, s, "StorageClass", "", sc) < 0)
        return KUBE_OK;
    prov = kube_json_str0(cls, "provisioner");
    if (kube_store_list(&all, s, "VolumeSnapshotClass", NULL) < 0) {
        json_decref(cls);
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    }
    json_array_foreach(all, i, v)
    {
        if (strcmp(kube_json_str0(v, "driver"), prov) != 0)
            continue;
        if (n++ == 0)
            pick = v;
    }
    if (n > 1) { /* the default class, by the annotation's key only */
        pick = NULL;
        json_array_foreach(all, i, v)
        {
            const json_t *ann = kube_json_path(v, "metadata.annotations");
            if (strcmp(kube_json_str0(v, "driver"), prov) == 0 &&
                json_object_get(
                    ann, "snapshot.storage.kubernetes.io/is-default-class")) {
                pick = v;
                break;
            }
        }
        if (!pick)
            rc = kube_err_set(err, KUBE_EINVAL,
                              "%zu matching VolumeSnapshotClasses for %s", n,
                              sc);
    }
    if (pick)
        snprintf(buf, len, "%s", kube_json_str0(pick, "metadata.name"));
    json_decref(all);
    json_decref(cls);
    return rc;
}

static const char *volume_claim(const json_t *v)
{
    const char *claim = kube_json_str0(v, "dataVolume.name");

    if (!*claim)
        claim = kube_json_str0(v, "persistentVolumeClaim.claimName");
    if (!*claim)
        claim = kube_json_str0(v, "memoryDump.claimName");
    return claim;
}

/* A copy of obj's metadata without managedFields (new reference). */
static json_t *meta_copy(const json_t *obj)
{
    json_t *m = json_deep_copy(json_object_get(obj, "metadata"));

    if (m)
        json_object_del(m, "managedFields");
    return m ? m : json_object();
}

/* The backup of VM volume v (borrowed), or NULL when it is skipped; a PVC
 * whose StorageClass has no VolumeSnapshotClass sets why. */
static json_t *backup_of(char *why, size_t len, struct kube_store *s,
                         const json_t *snap, const json_t *v)
{
    const char *claim = volume_claim(v), *sc;
    const char *ns = kube_json_str0(snap, "metadata.namespace");
    char cls[RC_NAME_MAX], vsname[2 * RC_NAME_MAX];
    struct kube_err err = {0};
    json_t *pvc = NULL, *b = NULL;

    if (!*claim ||
        kube_store_get(&pvc, s, "PersistentVolumeClaim", ns, claim) < 0)
        return NULL;
    sc = kube_json_str0(pvc, "spec.storageClassName");
    if (strcmp(kube_json_str0(pvc, "status.phase"), "Bound") != 0 || !*sc)
        goto done;
    if (rc_volume_snapshot_class(cls, sizeof(cls), s, sc, &err) < 0) {
        snprintf(why, len, "%s", err.msg);
        goto done;
    }
    if (!*cls) {
        snprintf(why, len,
                 "No VolumeSnapshotClass: Volume snapshots are not configured "
                 "for this StorageClass [%s] [%s]",
                 sc, kube_json_str0(v, "name"));
        goto done;
    }
    snprintf(vsname, sizeof(vsname), "vmsnapshot-%s-volume-%s",
             kube_json_str0(snap, "metadata.uid"), kube_json_str0(v, "name"));
    b = json_pack("{s:s, s:{s:o, s:O}, s:s}", "volumeName",
                  kube_json_str0(v, "name"), "persistentVolumeClaim",
                  "metadata", meta_copy(pvc), "spec",
                  json_object_get(pvc, "spec"), "volumeSnapshotName", vsname);
done:
    json_decref(pvc);
    return b;
}

/* The VM as the content keeps it: metadata without managedFields, spec,
 * empty status. */
static json_t *vm_copy(const json_t *vm)
{
    return json_pack("{s:o, s:O, s:{}}", "metadata", meta_copy(vm), "spec",
                     json_object_get(vm, "spec"), "status");
}

int rc_content_build(json_t **out, char *why, size_t len, struct kube_store *s,
                     const json_t *snap, const struct rc_source *src)
{
    const json_t *vols = kube_json_path(src->vm, "spec.template.spec.volumes");
    json_t *backups = json_array(), *v, *owner, *c;
    char name[2 * RC_NAME_MAX];
    size_t i;

    *out = NULL;
    *why = '\0';
    if (!backups)
        return KUBE_ENOMEM;
    json_array_foreach(vols, i, v)
    {
        json_t *b = backup_of(why, len, s, snap, v);
        if (*why) {
            json_decref(b);
            json_decref(backups);
            return KUBE_OK;
        }
        if (b)
            json_array_append_new(backups, b);
    }
    rc_content_name(name, sizeof(name), snap);
    owner = rc_owner_ref(snap, 0);
    c = json_pack("{s:s, s:s, s:{s:s, s:s, s:[s], s:[o]}, "
                  "s:{s:s, s:{s:o}, s:o}}",
                  "apiVersion", "snapshot.kubevirt.io/v1beta1", "kind",
                  "VirtualMachineSnapshotContent", "metadata", "name", name,
                  "namespace", kube_json_str0(snap, "metadata.namespace"),
                  "finalizers", RC_CONTENT_FINALIZER, "ownerReferences", owner,
                  "spec", "virtualMachineSnapshotName",
                  kube_json_str0(snap, "metadata.name"), "source",
                  "virtualMachine", vm_copy(src->vm), "volumeBackups", backups);
    if (!c)
        return KUBE_ENOMEM;
    *out = c;
    return KUBE_OK;
}

json_t *rc_volume_snapshot_build(const json_t *content, const json_t *b,
                                 const char *vm, const char *cls)
{
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}, s:[o]}, s:{s:{s:s}, s:s}}",
        "apiVersion", "snapshot.storage.k8s.io/v1", "kind", "VolumeSnapshot",
        "metadata", "name", kube_json_str0(b, "volumeSnapshotName"),
        "namespace", kube_json_str0(content, "metadata.namespace"), "labels",
        "snapshot.kubevirt.io/source-vm-name", vm,
        "snapshot.kubevirt.io/source-vm-namespace",
        kube_json_str0(content, "metadata.namespace"), "ownerReferences",
        rc_owner_ref(content, 1), "spec", "source", "persistentVolumeClaimName",
        kube_json_str0(b, "persistentVolumeClaim.metadata.name"),
        "volumeSnapshotClassName", cls);
}
