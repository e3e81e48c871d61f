/* reconciler/vsclass.c - which VolumeSnapshotClass snapshots the volumes
 * of a StorageClass (spec/kubevirt-controller.md §5.3,
 * getVolumeSnapshotClassName). */
#include "reconciler/snapshot_logic.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"

static int put_name(char *out, size_t len, const char *name,
                    struct kube_err *err)
{
    int n = snprintf(out, len, "%s", name);

    if (n < 0 || (size_t)n >= len)
        return kube_err_set(err, KUBE_ETOOBIG,
                            "VolumeSnapshotClass name too long: %s", name);
    return KUBE_OK;
}

/* Step 2: a CDI StorageProfile's status.snapshotClass. Returns 1 when the
 * profile decides (out set, maybe ""), 0 when it does not, or < 0. */
static int from_profile(char *out, size_t len, struct kube_store *st,
                        const char *sc, struct kube_err *err)
{
    json_t *prof = NULL, *cls = NULL;
    const char *name;
    int rc = 0;

    if (kube_store_get(&prof, st, "StorageProfile", "", sc) < 0)
        return 0;
    name = kube_json_str0(prof, "status.snapshotClass");
    if (*name) {
        rc = kube_store_get(&cls, st, "VolumeSnapshotClass", "", name) < 0
                 ? put_name(out, len, "", err)
                 : put_name(out, len, name, err);
        if (rc == KUBE_OK)
            rc = 1;
    }
    json_decref(cls);
    json_decref(prof);
    return rc;
}

/* Step 3: the classes whose driver is the provisioner; the only one, or
 * the first carrying the default-class annotation key. */
static int from_driver(char *out, size_t len, struct kube_store *st,
                       const char *sc, const char *provisioner,
                       struct kube_err *err)
{
    json_t *all = NULL, *c;
    const json_t *only = NULL, *dflt = NULL;
    size_t i, n = 0;
    int rc;

    if (kube_store_list(&all, st, "VolumeSnapshotClass", NULL) < 0)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    json_array_foreach(all, i, c)
    {
        if (strcmp(kube_json_str0(c, "driver"), provisioner) != 0)
            continue;
        n++;
        only = c;
        if (!dflt && json_object_get(kube_json_path(c, "metadata.annotations"),
                                     RC_DEFAULT_CLASS_ANNOTATION))
            dflt = c;
    }
    if (n == 0)
        rc = put_name(out, len, "", err);
    else if (n == 1 || dflt)
        rc = put_name(out, len,
                      kube_json_str0(n == 1 ? only : dflt, "metadata.name"),
                      err);
    else
        rc = kube_err_set(err, KUBE_EINVAL,
                          "%zu matching VolumeSnapshotClasses for %s", n, sc);
    json_decref(all);
    return rc;
}

int rc_vsclass_for_storage_class(char *out, size_t len, struct kube_store *st,
                                 const char *sc, struct kube_err *err)
{
    json_t *cls = NULL;
    int rc;

    if (len)
        out[0] = '\0';
    if (!sc || kube_store_get(&cls, st, "StorageClass", "", sc) < 0)
        return put_name(out, len, "", err);
    rc = from_profile(out, len, st, sc, err);
    if (rc == 0)
        rc = from_driver(out, len, st, sc, kube_json_str0(cls, "provisioner"),
                         err);
    json_decref(cls);
    return rc < 0 ? rc : KUBE_OK;
}
