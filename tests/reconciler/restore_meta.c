/* tests/reconciler/restore_meta.c - ownership and finalizer on the
 * restore, the target's restoreInProgress lock, the new VM taking its
 * claims, InPlace pre-population: each a no-op once done. */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"
#include "kube/patch.h"
#include "reconciler/restore_meta.h"
#include "tests/reconciler/restore_fixture.h"

Test(rc_restore_meta, owner_and_finalizer_once)
{
    struct fx f;
    json_t *out = NULL, *again = NULL, *want;

    fx_load(&f);
    cr_assert_eq(rc_restore_claim(&out, &f.in), 0);
    cr_assert_not_null(out);
    /* the documentation's ownerReferences of my-vmrestore */
    want = fx_json("[{\"apiVersion\": \"kubevirt.io/v1\", "
                   "\"blockOwnerDeletion\": true, \"controller\": true, "
                   "\"kind\": \"VirtualMachine\", \"name\": \"my-vm\", "
                   "\"uid\": \"" FX_VM_UID "\"}]");
    cr_expect(
        json_equal(kube_json_path(out, "metadata.ownerReferences"), want));
    cr_expect_str_eq(json_string_value(json_array_get(
                         kube_json_path(out, "metadata.finalizers"), 0)),
                     "snapshot.kubevirt.io/vmrestore-protection");
    cr_expect_null(kube_json_path(f.restore, "metadata.finalizers"),
                   "the cached restore is not touched");
    f.in.restore = out;
    cr_assert_eq(rc_restore_claim(&again, &f.in), 0);
    cr_expect_null(again, "done once: nothing to write");
    json_decref(want);
    json_decref(out);
    fx_free(&f);
}

Test(rc_restore_meta, new_target_gets_only_the_finalizer)
{
    struct fx f;
    json_t *out = NULL;

    fx_load(&f);
    f.in.target = NULL;
    cr_assert_eq(rc_restore_claim(&out, &f.in), 0);
    cr_expect_null(kube_json_path(out, "metadata.ownerReferences"));
    cr_expect_eq(json_array_size(kube_json_path(out, "metadata.finalizers")),
                 1);
    json_decref(out);
    fx_free(&f);
}

static const struct {
    const char *name, *held; /* status.restoreInProgress; NULL: none */
    int marked, target, rc;
    const char *want, *err; /* want: the value to write; NULL: no write */
} busy[] = {
    {"free: mark it", NULL, 0, 1, KUBE_OK, "my-vmrestore", ""},
    {"ours already: no write", "my-vmrestore", 0, 1, KUBE_OK, NULL, ""},
    {"another restore holds it", "other", 0, 1, KUBE_ECONFLICT, NULL,
     "vm restore other in progress"},
    {"restored by us already: no write", NULL, 1, 1, KUBE_OK, NULL, ""},
    {"new VM: nothing to mark", NULL, 0, 0, KUBE_OK, NULL, ""},
};

Test(rc_restore_meta, vm_busy_table)
{
    for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
        struct fx f;
        struct kube_err err = {0};
        json_t *out = NULL;

        fx_load(&f);
        if (busy[i].held)
            fx_set(f.target, "status.restoreInProgress",
                   json_string(busy[i].held));
        if (busy[i].marked)
            fx_set(f.target, "metadata.annotations",
                   fx_json("{\"restore.kubevirt.io/lastRestoreUID\": "
                           "\"my-vmrestore-" FX_RESTORE_UID "\"}"));
        if (!busy[i].target)
            f.in.target = NULL;
        cr_expect_eq(rc_restore_vm_busy(&out, &f.in, &err), busy[i].rc, "%s",
                     busy[i].name);
        cr_expect_str_eq(err.msg, busy[i].err, "%s", busy[i].name);
        if (busy[i].want)
            cr_expect_str_eq(kube_json_str0(out, "status.restoreInProgress"),
                             busy[i].want, "%s", busy[i].name);
        else
            cr_expect_null(out, "%s", busy[i].name);
        json_decref(out);
        fx_free(&f);
    }
}

Test(rc_restore_meta, vm_release)
{
    struct fx f;
    json_t *out = NULL;

    fx_load(&f);
    cr_assert_eq(rc_restore_vm_release(&out, f.target, f.restore), 0);
    cr_expect_null(out, "not held: no write");
    fx_set(f.target, "status.restoreInProgress", json_string("other"));
    cr_assert_eq(rc_restore_vm_release(&out, f.target, f.restore), 0);
    cr_expect_null(out, "another restore's: not ours to clear");
    fx_set(f.target, "status.restoreInProgress", json_string("my-vmrestore"));
    fx_set(f.target, "status.memoryDumpRequest", fx_json("{\"a\": 1}"));
    cr_assert_eq(rc_restore_vm_release(&out, f.target, f.restore), 0);
    cr_assert_not_null(out);
    cr_expect_null(kube_json_path(out, "status.restoreInProgress"));
    cr_expect_null(kube_json_path(out, "status.memoryDumpRequest"));
    cr_expect_str_eq(kube_json_str0(out, "status.printableStatus"), "Stopped");
    json_decref(out);
    fx_free(&f);
}

static const struct {
    const char *name, *pvc;
    int write;
} owns[] = {
    {"owned-by-vm for this restore: the VM takes it",
     "{\"metadata\": {\"annotations\": {\"restore.kubevirt.io/owned-by-vm\": "
     "\"my-vmrestore\", \"keep\": \"x\"}}}",
     1},
    {"another restore's claim",
     "{\"metadata\": {\"annotations\": "
     "{\"restore.kubevirt.io/owned-by-vm\": "
     "\"other\"}}}",
     0},
    {"already owned",
     "{\"metadata\": {\"annotations\": "
     "{\"restore.kubevirt.io/owned-by-vm\": "
     "\"my-vmrestore\"}, \"ownerReferences\": [{\"uid\": "
     "\"u\"}]}}",
     0},
    {"no annotation", "{\"metadata\": {}}", 0},
};

Test(rc_restore_meta, pvc_owned_by_the_new_vm_table)
{
    for (size_t i = 0; i < sizeof(owns) / sizeof(owns[0]); i++) {
        struct fx f;
        json_t *pvc = fx_json(owns[i].pvc), *out = NULL;

        fx_load(&f);
        cr_assert_eq(rc_restore_pvc_own(&out, pvc, f.target, f.restore), 0);
        cr_expect_eq(out != NULL, owns[i].write, "%s", owns[i].name);
        if (out) {
            cr_expect_str_eq(
                kube_json_str0(
                    json_array_get(kube_json_path(out, "metadata."
                                                       "ownerReferences"),
                                   0),
                    "uid"),
                FX_VM_UID);
            cr_expect_str_eq(fx_ann(out, "restore.kubevirt.io/owned-by-vm"), "",
                             "%s", owns[i].name);
            cr_expect_str_eq(fx_ann(out, "keep"), "x");
        }
        json_decref(out);
        json_decref(pvc);
        fx_free(&f);
    }
}

Test(rc_restore_meta, inplace_datavolume_prepopulated)
{
    struct fx f;
    struct kube_err err = {0};
    json_t *dv = fx_json("{\"metadata\": {\"name\": \"test-dv1\"}}");
    json_t *ops, *doc;

    fx_load(&f);
    ops = rc_restore_dv_prepopulate(dv, f.restore);
    cr_assert_not_null(ops);
    doc = json_deep_copy(dv);
    cr_assert_eq(kube_patch_apply(&doc, ops, &err), 0, "%s", err.msg);
    cr_expect_str_eq(fx_ann(doc, "restore.kubevirt.io/name"), "my-vmrestore");
    cr_expect_str_eq(fx_ann(doc, "cdi.kubevirt.io/storage.prePopulated"),
                     "test-dv1");
    json_decref(ops);
    /* with annotations already there, they are kept */
    fx_set(doc, "metadata.annotations.other", json_string("kept"));
    ops = rc_restore_dv_prepopulate(doc, f.restore);
    cr_assert_eq(kube_patch_apply(&doc, ops, &err), 0, "%s", err.msg);
    cr_expect_str_eq(fx_ann(doc, "other"), "kept");
    json_decref(ops);
    json_decref(doc);
    json_decref(dv);
    fx_free(&f);
}

Test(rc_restore_meta, backend_storage_labels)
{
    json_t *pvc = fx_json("{\"metadata\": {\"name\": \"persistent-state-for-"
                          "my-vm-x\", \"labels\": {\"persistent-state-for\": "
                          "\"my-vm\", \"a\": \"b\"}}}");
    json_t *bare = fx_json("{\"metadata\": {\"name\": \"restored\"}}");
    json_t *ops, *doc = json_deep_copy(pvc);
    struct kube_err err = {0};
    char v[128];

    rc_restore_backend_cleanup_value(v, sizeof(v), "my-vm");
    cr_expect_str_eq(v, "persistent-state-for-my-vm");
    rc_restore_backend_cleanup_value(
        v, sizeof(v), "a-very-long-vm-name-that-goes-past-the-label-limit-xyz");
    cr_expect_eq(strlen(v), 63, "cut to a label value's 63");
    /* the original is marked for cleanup, its backend label dropped */
    ops = rc_restore_backend_patch(pvc, "my-vm", 1);
    cr_assert_eq(kube_patch_apply(&doc, ops, &err), 0, "%s", err.msg);
    cr_expect_str_eq(fx_label(doc, "persistent-state-for"), "");
    cr_expect_str_eq(fx_label(doc, "restore.kubevirt.io/cleanup-backend-pvc"),
                     "persistent-state-for-my-vm");
    cr_expect_str_eq(fx_label(doc, "a"), "b");
    /* the same patch again fails its test: the labels moved */
    cr_expect_lt(kube_patch_apply(&doc, ops, &err), 0);
    json_decref(ops);
    /* a restored claim without labels gets the backend label */
    ops = rc_restore_backend_patch(bare, "my-vm", 0);
    cr_assert_eq(kube_patch_apply(&bare, ops, &err), 0, "%s", err.msg);
    cr_expect_str_eq(fx_label(bare, "persistent-state-for"), "my-vm");
    json_decref(ops);
    json_decref(doc);
    json_decref(bare);
    json_decref(pvc);
}

/* What deleting an unfinished restore takes back: only what it made, and
 * nothing the target VM already uses. */
static const struct {
    const char *name, *obj;
    int target_marked, target_uses, want;
} undo_cases[] = {
    {"a claim it made",
     "{\"kind\": \"PersistentVolumeClaim\", \"metadata\": "
     "{\"name\": \"restore-x-disk0\", \"annotations\": {\"restore.kubevirt.io/"
     "lastRestoreUID\": \"my-vmrestore-" FX_RESTORE_UID "\"}}}",
     0, 0, 1},
    {"the user's claim",
     "{\"kind\": \"PersistentVolumeClaim\", \"metadata\": "
     "{\"name\": \"restore-x-disk0\"}}",
     0, 0, 0},
    {"a claim another restore made",
     "{\"kind\": \"PersistentVolumeClaim\", "
     "\"metadata\": {\"name\": \"restore-x-disk0\", \"annotations\": "
     "{\"restore.kubevirt.io/lastRestoreUID\": \"other-1\"}}}",
     0, 0, 0},
    {"a claim it made, the VM already restored",
     "{\"kind\": "
     "\"PersistentVolumeClaim\", \"metadata\": {\"name\": \"restore-x-disk0\", "
     "\"annotations\": {\"restore.kubevirt.io/lastRestoreUID\": "
     "\"my-vmrestore-" FX_RESTORE_UID "\"}}}",
     1, 0, 0},
    {"InPlace: a claim it made that the VM names",
     "{\"kind\": "
     "\"PersistentVolumeClaim\", \"metadata\": {\"name\": \"restore-x-disk0\", "
     "\"annotations\": {\"restore.kubevirt.io/lastRestoreUID\": "
     "\"my-vmrestore-" FX_RESTORE_UID "\"}}}",
     0, 1, 0},
    {"a DataVolume it made",
     "{\"kind\": \"DataVolume\", \"metadata\": "
     "{\"name\": \"restore-x-disk0\", \"annotations\": {\"restore.kubevirt.io/"
     "name\": \"my-vmrestore\", \"cdi.kubevirt.io/storage.prePopulated\": "
     "\"true\"}}}",
     0, 0, 1},
    {"InPlace: the user's DataVolume it marked",
     "{\"kind\": \"DataVolume\", "
     "\"metadata\": {\"name\": \"restore-x-disk0\", \"annotations\": "
     "{\"restore.kubevirt.io/name\": \"my-vmrestore\", "
     "\"cdi.kubevirt.io/storage.prePopulated\": \"restore-x-disk0\"}}}",
     0, 0, 0},
};

Test(rc_restore_meta, undoable_table)
{
    for (size_t i = 0; i < sizeof(undo_cases) / sizeof(undo_cases[0]); i++) {
        struct fx f;
        json_t *obj;

        fx_load(&f);
        obj = fx_json(undo_cases[i].obj);
        if (undo_cases[i].target_marked)
            fx_set(f.target, "metadata.annotations",
                   fx_json("{\"restore.kubevirt.io/lastRestoreUID\": "
                           "\"my-vmrestore-" FX_RESTORE_UID "\"}"));
        if (undo_cases[i].target_uses)
            fx_set(f.target, "spec.template.spec.volumes",
                   fx_json("[{\"name\": \"disk0\", \"persistentVolumeClaim\": "
                           "{\"claimName\": \"restore-x-disk0\"}}]"));
        cr_expect_eq(rc_restore_undoable(obj, f.restore, f.target),
                     undo_cases[i].want, "%s", undo_cases[i].name);
        cr_expect_eq(rc_restore_undoable(obj, f.restore, NULL),
                     undo_cases[i].want || (undo_cases[i].target_marked ||
                                            undo_cases[i].target_uses),
                     "%s, no target", undo_cases[i].name);
        json_decref(obj);
        fx_free(&f);
    }
}
