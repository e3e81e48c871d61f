/* tests/reconciler/restore_target.c - the VM a restore writes: volumes on
 * the restored claims, DataVolume templates renamed, lastRestoreUID, run
 * state, a new VM from the snapshot with spec.patches (new name, MAC),
 * deletedDataVolumes, DataVolumes and the legacy firmware UUID. */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"
#include "reconciler/restore_pvc.h"
#include "reconciler/restore_target.h"
#include "tests/reconciler/restore_fixture.h"

#define DV_NAME "restore-" FX_RESTORE_UID "-datavolumedisk1"
#define ROOT_NAME "restore-" FX_RESTORE_UID "-rootdisk"
#define MY_VM_UUID "41256f5f-3759-54d0-9c60-26dff9079ab1" /* Python uuid5 */
#define MAC_PATH "/spec/template/spec/domain/devices/interfaces/0/macAddress"

/* status.restores as the controller has it after §6.2 and §6.3.2. */
static json_t *restores_for(struct fx *f)
{
    json_t *list = NULL;
    int changed = 0;
    struct kube_err err = {0};

    cr_assert_eq(rc_restore_volumes(&list, &changed, &f->in, &err), KUBE_OK,
                 "%s", err.msg);
    cr_assert_eq(rc_restore_dv_names(list, &changed, &f->in, &err), KUBE_OK,
                 "%s", err.msg);
    return list;
}

static json_t *target_vm(struct fx *f)
{
    json_t *list = restores_for(f), *vm = NULL;
    struct kube_err err = {0};

    cr_assert_eq(rc_restore_target_vm(&vm, &f->in, list, &err), KUBE_OK, "%s",
                 err.msg);
    json_decref(list);
    return vm;
}

/* The volume of vm named name (borrowed), or NULL. */
static const json_t *volume(const json_t *vm, const char *name)
{
    return rc_json_find(kube_json_path(vm, "spec.template.spec.volumes"),
                        "name", name);
}

/* The first interface's MAC address of vm, "" when none. */
static const char *mac(const json_t *vm)
{
    return kube_json_str0(
        json_array_get(
            kube_json_path(vm, "spec.template.spec.domain.devices.interfaces"),
            0),
        "macAddress");
}

static const struct {
    const char *name, *policy, *want;
} dv_names[] = {
    {"default", NULL, DV_NAME},
    {"InPlace keeps the DataVolume", "InPlace", "test-dv1"},
    {"PrefixTargetName", "PrefixTargetName", "my-vm-datavolumedisk1"},
};

Test(rc_restore_target, dv_names_table)
{
    for (size_t i = 0; i < sizeof(dv_names) / sizeof(dv_names[0]); i++) {
        struct fx f;
        json_t *list = NULL;
        int changed = 0;

        fx_load(&f);
        if (dv_names[i].policy)
            fx_set(f.restore, "spec.volumeRestorePolicy",
                   json_string(dv_names[i].policy));
        cr_assert_eq(rc_restore_volumes(&list, &changed, &f.in, NULL), 0);
        cr_assert_eq(rc_restore_dv_names(list, &changed, &f.in, NULL), 0);
        cr_expect_eq(changed, 1, "%s", dv_names[i].name);
        cr_expect_str_eq(
            kube_json_str0(json_array_get(list, 0), "dataVolumeName"),
            dv_names[i].want, "%s", dv_names[i].name);
        cr_expect_null(
            json_object_get(json_array_get(list, 1), "dataVolumeName"),
            "%s: rootdisk is a plain PVC", dv_names[i].name);
        cr_assert_eq(rc_restore_dv_names(list, &changed, &f.in, NULL), 0);
        cr_expect_eq(changed, 0, "%s: second pass", dv_names[i].name);
        json_decref(list);
        fx_free(&f);
    }
}

Test(rc_restore_target, existing_target_gets_the_snapshot_spec)
{
    struct fx f;
    json_t *vm, *t;

    fx_load(&f);
    vm = target_vm(&f);
    cr_expect_str_eq(
        kube_json_str0(volume(vm, "datavolumedisk1"), "dataVolume.name"),
        DV_NAME);
    t = json_array_get(kube_json_path(vm, "spec.dataVolumeTemplates"), 0);
    cr_expect_str_eq(kube_json_str0(t, "metadata.name"), DV_NAME,
                     "template renamed with its volume");
    cr_expect_str_eq(kube_json_str0(volume(vm, "rootdisk"),
                                    "persistentVolumeClaim.claimName"),
                     ROOT_NAME);
    cr_expect_not_null(volume(vm, "cloudinit"), "other volumes are kept");
    cr_expect_null(volume(vm, "memdump"), "memoryDump volumes are dropped");
    cr_expect_str_eq(fx_ann(vm, "restore.kubevirt.io/lastRestoreUID"),
                     "my-vmrestore-" FX_RESTORE_UID);
    cr_expect_str_eq(fx_ann(vm, "description"), "the documentation's VM");
    cr_expect_str_eq(kube_json_str0(vm, "metadata.resourceVersion"), "5000",
                     "an Update of the VM as read");
    cr_expect_str_eq(kube_json_str0(vm, "metadata.uid"), FX_VM_UID);
    cr_expect_str_eq(mac(vm), "02:00:00:00:00:01",
                     "the snapshot's spec, not the target's");
    cr_expect_str_eq(kube_json_str0(vm, "spec.runStrategy"), "Halted");
    cr_expect_str_eq(
        kube_json_str0(vm, "spec.template.spec.domain.firmware.uuid"),
        MY_VM_UUID, "same name: KubeVirt's legacy firmware UUID");
    json_decref(vm);
    fx_free(&f);
}

static const struct {
    const char *name, *run;         /* the existing target's run fields */
    const char *running, *strategy; /* want; NULL: absent */
} runs[] = {
    {"running true becomes false", "{\"running\": true}", "false", NULL},
    {"running false stays false", "{\"running\": false}", "false", NULL},
    {"its own runStrategy is kept", "{\"runStrategy\": \"Manual\"}", NULL,
     "Manual"},
    {"neither: neither", "{}", NULL, NULL},
};

Test(rc_restore_target, existing_target_run_state_table)
{
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct fx f;
        json_t *vm, *run = fx_json(runs[i].run);
        const json_t *r;

        fx_load(&f);
        json_object_del(json_object_get(f.target, "spec"), "runStrategy");
        json_object_update(json_object_get(f.target, "spec"), run);
        vm = target_vm(&f);
        r = kube_json_path(vm, "spec.running");
        if (runs[i].running)
            cr_expect(json_is_false(r), "%s", runs[i].name);
        else
            cr_expect_null(r, "%s", runs[i].name);
        if (runs[i].strategy)
            cr_expect_str_eq(kube_json_str0(vm, "spec.runStrategy"),
                             runs[i].strategy, "%s", runs[i].name);
        else
            cr_expect_null(kube_json_path(vm, "spec.runStrategy"), "%s",
                           runs[i].name);
        json_decref(run);
        json_decref(vm);
        fx_free(&f);
    }
}

/* The documentation's copy of a VM: a target that does not exist. */
static void copy_to_new_vm(struct fx *f, const char *patches)
{
    f->in.target = NULL;
    fx_set(f->restore, "spec.target.name", json_string("my-vm-copy"));
    if (patches)
        fx_set(f->restore, "spec.patches", fx_json(patches));
}

Test(rc_restore_target, new_vm_from_the_snapshot_with_patches)
{
    struct fx f;
    json_t *vm, *meta;

    fx_load(&f);
    copy_to_new_vm(
        &f, "[\"{\\\"op\\\": \\\"replace\\\", \\\"path\\\": \\\"" MAC_PATH
            "\\\", \\\"value\\\": \\\"02:00:00:00:00:99\\\"}\","
            " \"[{\\\"op\\\": \\\"add\\\", \\\"path\\\": "
            "\\\"/metadata/labels/copy\\\", \\\"value\\\": \\\"yes\\\"}]\"]");
    vm = target_vm(&f);
    meta = json_object_get(vm, "metadata");
    cr_expect_str_eq(kube_json_str0(vm, "apiVersion"), "kubevirt.io/v1");
    cr_expect_str_eq(kube_json_str0(vm, "kind"), "VirtualMachine");
    cr_expect_str_eq(kube_json_str0(meta, "name"), "my-vm-copy");
    cr_expect_str_eq(kube_json_str0(meta, "namespace"), "default");
    cr_expect_eq(json_object_size(meta), 4,
                 "name, namespace, labels, annotations only: no uid, "
                 "resourceVersion, generation, finalizers, creationTimestamp");
    cr_expect_null(json_object_get(vm, "status"), "no status");
    cr_expect_str_eq(fx_label(vm, "app"), "my-vm", "snapshot VM's labels");
    cr_expect_str_eq(fx_label(vm, "copy"), "yes", "label patch applied");
    cr_expect_str_eq(fx_ann(vm, "restore.kubevirt.io/lastRestoreUID"),
                     "my-vmrestore-" FX_RESTORE_UID);
    cr_expect_str_eq(mac(vm), "02:00:00:00:00:99", "MAC patch applied");
    cr_expect_str_eq(kube_json_str0(vm, "spec.runStrategy"), "Halted",
                     "created stopped");
    cr_expect_null(kube_json_path(vm, "spec.template.spec.domain.firmware"),
                   "another name: no legacy UUID of the source's name");
    cr_expect_str_eq(
        kube_json_str0(volume(vm, "datavolumedisk1"), "dataVolume.name"),
        DV_NAME);
    json_decref(vm);
    fx_free(&f);
}

Test(rc_restore_target, new_vm_from_a_snapshot_that_used_running)
{
    struct fx f;
    json_t *vm, *spec;

    fx_load(&f);
    copy_to_new_vm(&f, NULL);
    spec = kube_json_path(f.content, "spec.source.virtualMachine.spec");
    json_object_del(spec, "runStrategy");
    json_object_set_new(spec, "running", json_true());
    vm = target_vm(&f);
    cr_expect(json_is_false(kube_json_path(vm, "spec.running")));
    cr_expect_null(kube_json_path(vm, "spec.runStrategy"));
    json_decref(vm);
    fx_free(&f);
}

Test(rc_restore_target, patches_only_for_a_new_vm)
{
    struct fx f;
    json_t *vm;

    fx_load(&f);
    fx_set(f.restore, "spec.patches",
           fx_json("[\"{\\\"op\\\": \\\"add\\\", \\\"path\\\": "
                   "\\\"/metadata/labels/copy\\\", \\\"value\\\": "
                   "\\\"yes\\\"}\"]"));
    vm = target_vm(&f);
    cr_expect_str_eq(fx_label(vm, "copy"), "");
    json_decref(vm);
    fx_free(&f);
}

static const struct {
    const char *name, *patches, *prefix;
} bad_patches[] = {
    {"not JSON", "[\"{op: add}\"]", "error patching VM my-vm-copy: "},
    {"a test that fails",
     "[\"{\\\"op\\\": \\\"test\\\", \\\"path\\\": \\\"/spec/runStrategy\\\", "
     "\\\"value\\\": \\\"Always\\\"}\"]",
     "error patching VM my-vm-copy: "},
    {"a path that is not there",
     "[\"{\\\"op\\\": \\\"replace\\\", \\\"path\\\": \\\"/spec/nope/x\\\", "
     "\\\"value\\\": 1}\"]",
     "error patching VM my-vm-copy: "},
};

Test(rc_restore_target, bad_patches_table)
{
    for (size_t i = 0; i < sizeof(bad_patches) / sizeof(bad_patches[0]); i++) {
        struct fx f;
        struct kube_err err = {0};
        json_t *list, *vm = NULL;

        fx_load(&f);
        copy_to_new_vm(&f, bad_patches[i].patches);
        list = restores_for(&f);
        cr_expect_eq(rc_restore_target_vm(&vm, &f.in, list, &err), KUBE_EINVAL,
                     "%s", bad_patches[i].name);
        cr_expect_eq(strncmp(err.msg, bad_patches[i].prefix,
                             strlen(bad_patches[i].prefix)),
                     0, "%s: %s", bad_patches[i].name, err.msg);
        cr_expect_gt(strlen(err.msg), strlen(bad_patches[i].prefix),
                     "%s: says why", bad_patches[i].name);
        cr_expect_null(vm);
        json_decref(list);
        fx_free(&f);
    }
}

Test(rc_restore_target, datavolume_without_template_becomes_a_claim)
{
    struct fx f;
    json_t *vm;
    const json_t *v;

    fx_load(&f);
    json_object_del(
        kube_json_path(f.content, "spec.source.virtualMachine.spec"),
        "dataVolumeTemplates");
    vm = target_vm(&f);
    v = volume(vm, "datavolumedisk1");
    cr_expect_null(json_object_get(v, "dataVolume"));
    cr_expect_str_eq(kube_json_str0(v, "persistentVolumeClaim.claimName"),
                     DV_NAME);
    json_decref(vm);
    fx_free(&f);
}

Test(rc_restore_target, errors)
{
    struct fx f;
    struct kube_err err = {0};
    json_t *list = NULL, *vm = NULL;
    int changed;

    fx_load(&f);
    cr_assert_eq(rc_restore_volumes(&list, &changed, &f.in, NULL), 0);
    cr_expect_eq(rc_restore_target_vm(&vm, &f.in, list, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "DataVolumeName for dv test-dv1 should have "
                              "been updated already");
    json_object_del(json_object_get(f.content, "spec"), "source");
    cr_expect_eq(rc_restore_target_vm(&vm, &f.in, list, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "unexpected snapshot source");
    cr_expect_eq(rc_restore_dv_names(list, &changed, &f.in, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "unexpected snapshot source");
    cr_expect_null(vm);
    json_decref(list);
    fx_free(&f);
}

static const struct {
    const char *name, *policy;
    int target;
    const char *want; /* JSON array */
} deleted[] = {
    {"renamed: the old DataVolume goes (the documentation's test-dv1)", NULL, 1,
     "[\"test-dv1\"]"},
    {"InPlace keeps the name: nothing goes", "InPlace", 1, "[]"},
    {"a new VM has nothing to delete", NULL, 0, "[]"},
};

Test(rc_restore_target, deleted_datavolumes_table)
{
    for (size_t i = 0; i < sizeof(deleted) / sizeof(deleted[0]); i++) {
        struct fx f;
        json_t *vm, *got = NULL, *want = fx_json(deleted[i].want);

        fx_load(&f);
        if (deleted[i].policy)
            fx_set(f.restore, "spec.volumeRestorePolicy",
                   json_string(deleted[i].policy));
        if (!deleted[i].target)
            copy_to_new_vm(&f, NULL);
        vm = target_vm(&f);
        cr_assert_eq(rc_restore_deleted_dvs(&got, f.in.target, vm), 0);
        cr_expect(json_equal(got, want), "%s", deleted[i].name);
        json_decref(got);
        json_decref(want);
        json_decref(vm);
        fx_free(&f);
    }
}

Test(rc_restore_target, datavolume_from_the_template)
{
    struct fx f;
    json_t *vm, *dv;
    const json_t *t;

    fx_load(&f);
    vm = target_vm(&f);
    t = json_array_get(kube_json_path(vm, "spec.dataVolumeTemplates"), 0);
    dv = rc_restore_dv_build(f.restore, t);
    cr_assert_not_null(dv);
    cr_expect_str_eq(kube_json_str0(dv, "apiVersion"),
                     "cdi.kubevirt.io/v1beta1");
    cr_expect_str_eq(kube_json_str0(dv, "kind"), "DataVolume");
    cr_expect_str_eq(kube_json_str0(dv, "metadata.name"), DV_NAME);
    cr_expect_str_eq(kube_json_str0(dv, "metadata.namespace"), "default");
    cr_expect_str_eq(fx_ann(dv, "restore.kubevirt.io/name"), "my-vmrestore");
    cr_expect_str_eq(fx_ann(dv, "cdi.kubevirt.io/storage.prePopulated"),
                     "true");
    cr_expect(
        json_equal(json_object_get(dv, "spec"), json_object_get(t, "spec")));
    json_decref(dv);
    json_decref(vm);
    fx_free(&f);
}

Test(rc_restore_target, claim_adopted_by_its_datavolume)
{
    json_t *pvc = fx_json(
        "{\"metadata\": {\"name\": \"" DV_NAME "\", \"ownerReferences\": "
        "[{\"kind\": \"VirtualMachine\", \"name\": \"my-vm\"}]}}");
    json_t *out = NULL, *again = NULL;

    cr_assert_eq(rc_restore_pvc_adopt(&out, pvc, DV_NAME), 0);
    cr_assert_not_null(out);
    cr_expect_str_eq(fx_ann(out, "cdi.kubevirt.io/storage.populatedFor"),
                     DV_NAME);
    cr_expect_null(kube_json_path(out, "metadata.ownerReferences"));
    cr_expect_not_null(kube_json_path(pvc, "metadata.ownerReferences"),
                       "the cached object is not touched");
    cr_assert_eq(rc_restore_pvc_adopt(&again, out, DV_NAME), 0);
    cr_expect_null(again, "already adopted: no write");
    json_decref(out);
    json_decref(pvc);
}

Test(rc_restore_target, legacy_firmware_uuid_and_done)
{
    char uuid[37];
    struct fx f;
    json_t *vm;

    cr_assert_eq(rc_restore_legacy_uuid(uuid, "my-vm"), 0);
    cr_expect_str_eq(uuid, MY_VM_UUID);
    cr_assert_eq(rc_restore_legacy_uuid(uuid, "my-vm-copy"), 0);
    cr_expect_str_eq(uuid, "a33dd398-7a00-5b49-b93d-6fe166587523");
    fx_load(&f);
    cr_expect_eq(rc_restore_target_done(&f.in), 0);
    vm = target_vm(&f);
    f.in.target = vm;
    cr_expect_eq(rc_restore_target_done(&f.in), 1,
                 "the VM written carries this restore's mark");
    json_decref(vm);
    fx_free(&f);
}

#define ADOPTED                                                                \
    "{\"metadata\": {\"annotations\": "                                        \
    "{\"cdi.kubevirt.io/storage.populatedFor\": \"" DV_NAME "\"}}}"

static const struct {
    const char *name, *dv, *pvc;
    enum rc_dv_next want;
    const char *err;
} dv_steps[] = {
    {"Succeeded", "{\"status\": {\"phase\": \"Succeeded\"}}", NULL, RC_DV_READY,
     ""},
    {"WaitForFirstConsumer",
     "{\"status\": {\"phase\": "
     "\"WaitForFirstConsumer\"}}",
     NULL, RC_DV_READY, ""},
    {"PendingPopulation", "{\"status\": {\"phase\": \"PendingPopulation\"}}",
     NULL, RC_DV_READY, ""},
    {"ImportInProgress: wait",
     "{\"status\": {\"phase\": "
     "\"ImportInProgress\"}}",
     NULL, RC_DV_WAIT, ""},
    {"no phase yet: wait", "{}", NULL, RC_DV_WAIT, ""},
    {"missing, claim adopted: create", NULL, ADOPTED, RC_DV_CREATE, ""},
    {"missing, claim not adopted: wait", NULL, "{\"metadata\": {}}", RC_DV_WAIT,
     ""},
    {"missing, claim still owned: wait", NULL,
     "{\"metadata\": {\"annotations\": "
     "{\"cdi.kubevirt.io/storage.populatedFor\": \"" DV_NAME "\"}, "
     "\"ownerReferences\": [{\"uid\": \"u\"}]}}",
     RC_DV_WAIT, ""},
    {"missing, no claim", NULL, NULL, RC_DV_FAILED,
     "when creating restore dv pvc default/" DV_NAME
     " does not exist and should"},
};

Test(rc_restore_target, datavolume_step_table)
{
    json_t *tmpl = fx_json("{\"metadata\": {\"name\": \"" DV_NAME "\"}}");

    for (size_t i = 0; i < sizeof(dv_steps) / sizeof(dv_steps[0]); i++) {
        struct kube_err err = {0};
        json_t *dv = dv_steps[i].dv ? fx_json(dv_steps[i].dv) : NULL;
        json_t *pvc = dv_steps[i].pvc ? fx_json(dv_steps[i].pvc) : NULL;

        cr_expect_eq(rc_restore_dv_next(tmpl, dv, pvc, "default", &err),
                     dv_steps[i].want, "%s", dv_steps[i].name);
        cr_expect_str_eq(err.msg, dv_steps[i].err, "%s", dv_steps[i].name);
        json_decref(dv);
        json_decref(pvc);
    }
    json_decref(tmpl);
}
