/* tests/reconciler/restore_pvc.c - the restore's volumes: claim names
 * under each volumeRestorePolicy and override, status.restores, what to
 * do with the claim found, and the restored PVC (spec §6.2, §6.4). */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"
#include "reconciler/restore_pvc.h"
#include "tests/reconciler/restore_fixture.h"

#define LONG60 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define VOL60 "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"

static const struct {
    const char *name, *policy, *overrides, *target, *volume, *want;
} names[] = {
    {"no policy is RandomizeNames", NULL, NULL, "my-vm", "datavolumedisk1",
     "restore-" FX_RESTORE_UID "-datavolumedisk1"},
    {"RandomizeNames", "RandomizeNames", NULL, "my-vm", "datavolumedisk1",
     "restore-" FX_RESTORE_UID "-datavolumedisk1"},
    {"InPlace keeps the original claim", "InPlace", NULL, "my-vm",
     "datavolumedisk1", "test-dv1"},
    {"PrefixTargetName", "PrefixTargetName", NULL, "my-vm", "datavolumedisk1",
     "my-vm-datavolumedisk1"},
    /* naming.GetName: base cut to 63-10-len(suffix), hash of the base */
    {"PrefixTargetName over 63: base cut, hashed", "PrefixTargetName", NULL,
     LONG60, "disk",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-92b9e111-disk"},
    /* a suffix too long to keep: base and the hash of the whole name */
    {"PrefixTargetName with a suffix too long", "PrefixTargetName", NULL,
     "my-vm", VOL60, "my-vm-31ed9e6a"},
    {"override restoreName wins over InPlace", "InPlace",
     "[{\"volumeName\": \"datavolumedisk1\", \"restoreName\": \"restored\"}]",
     "my-vm", "datavolumedisk1", "restored"},
    {"override restoreName wins over the default", NULL,
     "[{\"volumeName\": \"datavolumedisk1\", \"restoreName\": \"restored\"}]",
     "my-vm", "datavolumedisk1", "restored"},
    {"override of another volume does not apply", "InPlace",
     "[{\"volumeName\": \"rootdisk\", \"restoreName\": \"restored\"}]", "my-vm",
     "datavolumedisk1", "test-dv1"},
    {"override with labels only keeps the policy's name", "PrefixTargetName",
     "[{\"volumeName\": \"datavolumedisk1\", \"labels\": {\"a\": \"b\"}}]",
     "my-vm", "datavolumedisk1", "my-vm-datavolumedisk1"},
};

Test(rc_restore_pvc, volume_name_table)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct fx f;
        char buf[128];

        fx_load(&f);
        if (names[i].policy)
            fx_set(f.restore, "spec.volumeRestorePolicy",
                   json_string(names[i].policy));
        if (names[i].overrides)
            fx_set(f.restore, "spec.volumeRestoreOverrides",
                   fx_json(names[i].overrides));
        fx_set(f.restore, "spec.target.name", json_string(names[i].target));
        cr_expect_eq(rc_restore_volume_name(buf, sizeof(buf), f.restore,
                                            names[i].volume, "test-dv1"),
                     KUBE_OK, "%s", names[i].name);
        cr_expect_str_eq(buf, names[i].want, "%s", names[i].name);
        cr_expect_leq(strlen(buf), 63, "%s", names[i].name);
        fx_free(&f);
    }
}

Test(rc_restore_pvc, volume_name_too_small_buffer)
{
    struct fx f;
    char buf[8] = "x";

    fx_load(&f);
    cr_expect_eq(
        rc_restore_volume_name(buf, sizeof(buf), f.restore, "disk", "c"),
        KUBE_ETOOBIG);
    cr_expect_str_eq(buf, "");
    fx_free(&f);
}

Test(rc_restore_pvc, volumes_from_the_content)
{
    struct fx f;
    struct kube_err err = {0};
    json_t *list = NULL, *again = NULL, *want;
    int changed = -1;

    fx_load(&f);
    cr_assert_eq(rc_restore_volumes(&list, &changed, &f.in, &err), KUBE_OK,
                 "%s", err.msg);
    cr_expect_eq(changed, 1, "new list on a new restore");
    cr_assert_eq(json_array_size(list), 2, "memdump is never restored");
    want = fx_json("{\"volumeName\": \"datavolumedisk1\", "
                   "\"persistentVolumeClaim\": \"restore-" FX_RESTORE_UID
                   "-datavolumedisk1\", \"volumeSnapshotName\": \"" FX_VS_PREFIX
                   "datavolumedisk1\"}");
    cr_expect(json_equal(json_array_get(list, 0), want));
    json_decref(want);
    cr_expect_str_eq(kube_json_str0(json_array_get(list, 1), "volumeName"),
                     "rootdisk");
    /* once stored, the same list is no change; a stored entry is kept */
    json_object_set_new(json_array_get(list, 0), "dataVolumeName",
                        json_string("kept"));
    fx_set(f.restore, "status.restores", list);
    cr_assert_eq(rc_restore_volumes(&again, &changed, &f.in, &err), KUBE_OK);
    cr_expect_eq(changed, 0);
    cr_expect_str_eq(kube_json_str0(json_array_get(again, 0), "dataVolumeName"),
                     "kept");
    json_decref(again);
    fx_free(&f);
}

Test(rc_restore_pvc, volumes_errors)
{
    struct fx f;
    struct kube_err err = {0};
    json_t *list = NULL;
    int changed = 0;

    fx_load(&f);
    f.in.content = NULL;
    cr_expect_eq(rc_restore_volumes(&list, &changed, &f.in, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "VMSnapshotContent vmsnapshot-content-28eedf08-"
                              "5d6a-42c1-969c-2eda58e2a78d does not exist");
    f.in.content = f.content;
    json_object_del(
        json_array_get(kube_json_path(f.content, "spec.volumeBackups"), 1),
        "volumeSnapshotName");
    cr_expect_eq(rc_restore_volumes(&list, &changed, &f.in, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "VolumeSnapshotName missing for volume rootdisk");
    cr_expect_null(list);
    fx_free(&f);
}

/* The entry for volume as rc_restore_volumes makes it (new reference). */
static json_t *entry_for(struct fx *f, const char *volume)
{
    json_t *list = NULL, *e;
    int changed;

    cr_assert_eq(rc_restore_volumes(&list, &changed, &f->in, NULL), KUBE_OK);
    for (size_t i = 0; i < json_array_size(list); i++) {
        e = json_array_get(list, i);
        if (strcmp(kube_json_str0(e, "volumeName"), volume) == 0) {
            json_incref(e);
            json_decref(list);
            return e;
        }
    }
    cr_assert_fail("no entry for %s", volume);
    return NULL;
}

static json_t *build(struct fx *f, const char *volume, const json_t *vs)
{
    json_t *e = entry_for(f, volume), *pvc = NULL;
    struct kube_err err = {0};

    if (strcmp(volume, "datavolumedisk1") == 0)
        json_object_set_new(
            e, "dataVolumeName",
            json_string("restore-" FX_RESTORE_UID "-datavolumedisk1"));
    cr_assert_eq(rc_restore_pvc_build(&pvc, &f->in, e, vs, &err), KUBE_OK, "%s",
                 err.msg);
    json_decref(e);
    return pvc;
}

Test(rc_restore_pvc, restored_pvc_of_a_datavolume)
{
    struct fx f;
    json_t *pvc, *want;

    fx_load(&f);
    pvc = build(&f, "datavolumedisk1", f.vs_dv);
    want = fx_json(
        "{\"apiVersion\": \"v1\", \"kind\": \"PersistentVolumeClaim\","
        " \"metadata\": {\"name\": \"restore-" FX_RESTORE_UID
        "-datavolumedisk1\", \"namespace\": \"default\","
        "  \"labels\": {\"app\": \"containerized-data-importer\","
        "   \"restore.kubevirt.io/source-vm-name\": \"my-vm\","
        "   \"restore.kubevirt.io/source-vm-namespace\": \"default\"},"
        "  \"annotations\": {\"cdi.kubevirt.io/storage.contentType\": "
        "\"kubevirt\", \"team\": \"storage\","
        "   \"restore.kubevirt.io/name\": \"my-vmrestore\","
        "   \"restore.kubevirt.io/lastRestoreUID\": "
        "\"my-vmrestore-" FX_RESTORE_UID
        "\", \"cdi.kubevirt.io/storage.populatedFor\": "
        "\"restore-" FX_RESTORE_UID "-datavolumedisk1\"}},"
        " \"spec\": {\"accessModes\": [\"ReadWriteOnce\"],"
        "  \"resources\": {\"requests\": {\"storage\": \"2Gi\"}},"
        "  \"storageClassName\": \"csi-rbd\", \"volumeMode\": \"Block\","
        "  \"dataSource\": {\"apiGroup\": \"snapshot.storage.k8s.io\","
        "   \"kind\": \"VolumeSnapshot\", \"name\": \"" FX_VS_PREFIX
        "datavolumedisk1\"},"
        "  \"dataSourceRef\": {\"apiGroup\": \"snapshot.storage.k8s.io\","
        "   \"kind\": \"VolumeSnapshot\", \"name\": \"" FX_VS_PREFIX
        "datavolumedisk1\"}}}");
    if (!json_equal(pvc, want)) {
        char *got = json_dumps(pvc, JSON_SORT_KEYS);
        cr_expect_fail("restored PVC: %s", got);
        free(got);
    }
    json_decref(want);
    json_decref(pvc);
    fx_free(&f);
}

static const struct {
    const char *name, *ownership;
    int target;
    const char *ref_uid, *owned_by; /* NULL: none expected */
} owners[] = {
    {"existing target owns it", NULL, 1, FX_VM_UID, NULL},
    {"policy Vm: existing target owns it", "Vm", 1, FX_VM_UID, NULL},
    {"new target: owned-by-vm until the VM exists", NULL, 0, NULL,
     "my-vmrestore"},
    {"policy None: no owner at all", "None", 1, NULL, NULL},
    {"policy None, new target: no annotation", "None", 0, NULL, NULL},
};

Test(rc_restore_pvc, restored_pvc_owner_table)
{
    for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        struct fx f;
        json_t *pvc;

        fx_load(&f);
        if (owners[i].ownership)
            fx_set(f.restore, "spec.volumeOwnershipPolicy",
                   json_string(owners[i].ownership));
        if (!owners[i].target)
            f.in.target = NULL;
        pvc = build(&f, "rootdisk", f.vs_root);
        cr_expect_str_eq(
            kube_json_str0(
                json_array_get(kube_json_path(pvc, "metadata.ownerReferences"),
                               0),
                "uid"),
            owners[i].ref_uid ? owners[i].ref_uid : "", "%s", owners[i].name);
        cr_expect_str_eq(fx_ann(pvc, "restore.kubevirt.io/owned-by-vm"),
                         owners[i].owned_by ? owners[i].owned_by : "", "%s",
                         owners[i].name);
        json_decref(pvc);
        fx_free(&f);
    }
}

static const struct {
    const char *name, *requested, *restore_size, *want;
    int rc;
} sizes[] = {
    {"restoreSize larger: raised", "1Gi", "2Gi", "2Gi", KUBE_OK},
    {"restoreSize smaller: request kept", "10Gi", "5Gi", "10Gi", KUBE_OK},
    {"nothing requested: restoreSize", NULL, "5Gi", "5Gi", KUBE_OK},
    {"no restoreSize: request kept", "3Gi", NULL, "3Gi", KUBE_OK},
    {"2G is less than 2Gi", "2G", "2Gi", "2Gi", KUBE_OK},
    {"2Gi is more than 2G", "2Gi", "2G", "2Gi", KUBE_OK},
    {"equal in other units: kept", "1.5Gi", "1536Mi", "1.5Gi", KUBE_OK},
    {"exponent form", "1e9", "1500M", "1500M", KUBE_OK},
    {"restoreSize that does not parse", "1Gi", "lots", NULL, KUBE_EINVAL},
};

Test(rc_restore_pvc, restore_size_table)
{
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct fx f;
        json_t *e, *pvc = NULL, *req;
        struct kube_err err = {0};
        int rc;

        fx_load(&f);
        req = kube_json_path(
            json_array_get(kube_json_path(f.content, "spec.volumeBackups"), 1),
            "persistentVolumeClaim.spec.resources.requests");
        if (sizes[i].requested)
            json_object_set_new(req, "storage",
                                json_string(sizes[i].requested));
        else
            json_object_del(req, "storage");
        if (sizes[i].restore_size)
            fx_set(f.vs_root, "status.restoreSize",
                   json_string(sizes[i].restore_size));
        else
            json_object_del(json_object_get(f.vs_root, "status"),
                            "restoreSize");
        e = entry_for(&f, "rootdisk");
        rc = rc_restore_pvc_build(&pvc, &f.in, e, f.vs_root, &err);
        cr_expect_eq(rc, sizes[i].rc, "%s: %s", sizes[i].name, err.msg);
        if (rc == KUBE_OK)
            cr_expect_str_eq(
                kube_json_str0(pvc, "spec.resources.requests.storage"),
                sizes[i].want, "%s", sizes[i].name);
        json_decref(pvc);
        json_decref(e);
        fx_free(&f);
    }
}

Test(rc_restore_pvc, overrides_labels_and_annotations_merged)
{
    struct fx f;
    json_t *pvc;

    fx_load(&f);
    fx_set(f.restore, "spec.volumeRestoreOverrides",
           fx_json("[{\"volumeName\": \"rootdisk\", \"labels\": {\"tier\": "
                   "\"silver\", \"new\": \"1\"}, \"annotations\": "
                   "{\"note\": \"restored\"}},"
                   " {\"volumeName\": \"datavolumedisk1\", \"labels\": "
                   "{\"other\": \"x\"}}]"));
    pvc = build(&f, "rootdisk", f.vs_root);
    cr_expect_str_eq(fx_label(pvc, "tier"), "silver", "override wins");
    cr_expect_str_eq(fx_label(pvc, "new"), "1");
    cr_expect_str_eq(fx_label(pvc, "other"), "", "another volume's");
    cr_expect_str_eq(fx_ann(pvc, "note"), "restored");
    cr_expect_str_eq(fx_ann(pvc, "restore.kubevirt.io/name"), "my-vmrestore");
    json_decref(pvc);
    fx_free(&f);
}

Test(rc_restore_pvc, missing_volume_snapshot)
{
    struct fx f;
    struct kube_err err = {0};
    json_t *e, *pvc = NULL;

    fx_load(&f);
    e = entry_for(&f, "rootdisk");
    cr_expect_eq(rc_restore_pvc_build(&pvc, &f.in, e, NULL, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg,
                     "missing volumeSnapshot " FX_VS_PREFIX "rootdisk");
    cr_expect_null(pvc);
    json_decref(e);
    fx_free(&f);
}

#define MARK                                                                   \
    "\"restore.kubevirt.io/lastRestoreUID\": \"my-vmrestore-" FX_RESTORE_UID   \
    "\""
#define DV_OWNED                                                               \
    "\"ownerReferences\": [{\"kind\": \"DataVolume\", "                        \
    "\"name\": \"test-dv1\", \"controller\": true}]"

static const struct {
    const char *name, *policy, *pvc, *sc, *entry_dv;
    enum rc_pvc_next want;
    const char *dv, *err;
} nexts[] = {
    {"missing: create", NULL, NULL, NULL, NULL, RC_PVC_CREATE, "", ""},
    {"Bound: ready", NULL,
     "{\"metadata\": {\"annotations\": {" MARK "}}, \"status\": {\"phase\": "
     "\"Bound\"}}",
     NULL, NULL, RC_PVC_READY, "", ""},
    {"Pending, Immediate class: wait", NULL,
     "{\"spec\": {\"storageClassName\": \"csi-rbd\"}, \"status\": "
     "{\"phase\": \"Pending\"}}",
     "{\"volumeBindingMode\": \"Immediate\"}", NULL, RC_PVC_WAIT, "", ""},
    {"Pending, class without a mode: wait", NULL,
     "{\"spec\": {\"storageClassName\": \"csi-rbd\"}, \"status\": "
     "{\"phase\": \"Pending\"}}",
     "{}", NULL, RC_PVC_WAIT, "", ""},
    {"Pending, WaitForFirstConsumer: ready", NULL,
     "{\"spec\": {\"storageClassName\": \"csi-rbd\"}, \"status\": "
     "{\"phase\": \"Pending\"}}",
     "{\"volumeBindingMode\": \"WaitForFirstConsumer\"}", NULL, RC_PVC_READY,
     "", ""},
    {"Pending, class gone", NULL,
     "{\"spec\": {\"storageClassName\": \"csi-rbd\"}, \"status\": "
     "{\"phase\": \"Pending\"}}",
     NULL, NULL, RC_PVC_FAILED, "", "StorageClass csi-rbd does not exist"},
    {"Lost: failed", NULL,
     "{\"metadata\": {\"name\": \"p\", \"namespace\": \"default\"}, "
     "\"status\": {\"phase\": \"Lost\"}}",
     NULL, NULL, RC_PVC_FAILED, "", "PVC default/p in status \"Lost\""},
    {"InPlace original owned by a DV: learn the DV", "InPlace",
     "{\"metadata\": {" DV_OWNED "}, \"status\": {\"phase\": \"Bound\"}}", NULL,
     NULL, RC_PVC_SET_DV, "test-dv1", ""},
    {"InPlace original, DV known: replace", "InPlace",
     "{\"metadata\": {" DV_OWNED "}, \"status\": {\"phase\": \"Bound\"}}", NULL,
     "test-dv1", RC_PVC_REPLACE, "", ""},
    {"InPlace original PVC: replace", "InPlace",
     "{\"status\": {\"phase\": \"Bound\"}}", NULL, NULL, RC_PVC_REPLACE, "",
     ""},
    {"InPlace, ours already: ready", "InPlace",
     "{\"metadata\": {\"annotations\": {" MARK "}}, \"status\": {\"phase\": "
     "\"Bound\"}}",
     NULL, NULL, RC_PVC_READY, "", ""},
    {"another restore's claim under InPlace: replace", "InPlace",
     "{\"metadata\": {\"annotations\": {\"restore.kubevirt.io/"
     "lastRestoreUID\": \"old-1\"}}, \"status\": {\"phase\": \"Bound\"}}",
     NULL, NULL, RC_PVC_REPLACE, "", ""},
};

Test(rc_restore_pvc, next_step_table)
{
    for (size_t i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
        struct fx f;
        struct kube_err err = {0};
        json_t *pvc = nexts[i].pvc ? fx_json(nexts[i].pvc) : NULL;
        json_t *sc = nexts[i].sc ? fx_json(nexts[i].sc) : NULL;
        json_t *e;
        char dv[64] = "junk";

        fx_load(&f);
        if (nexts[i].policy)
            fx_set(f.restore, "spec.volumeRestorePolicy",
                   json_string(nexts[i].policy));
        e = entry_for(&f, "datavolumedisk1");
        if (nexts[i].entry_dv)
            json_object_set_new(e, "dataVolumeName",
                                json_string(nexts[i].entry_dv));
        cr_expect_eq(
            rc_restore_pvc_next(dv, sizeof(dv), &f.in, e, pvc, sc, &err),
            nexts[i].want, "%s", nexts[i].name);
        cr_expect_str_eq(dv, nexts[i].dv, "%s", nexts[i].name);
        cr_expect_str_eq(err.msg, nexts[i].err, "%s", nexts[i].name);
        json_decref(e);
        json_decref(pvc);
        json_decref(sc);
        fx_free(&f);
    }
}
