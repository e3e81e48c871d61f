/* tests/reconciler/restore_example.c - the pure pieces in the order the
 * controller will call them (spec §6 steps 1-14) reach the status the
 * product documentation shows for my-vmrestore, field for field. */
#include <criterion/criterion.h>

#include "kube/json.h"
#include "reconciler/restore_meta.h"
#include "reconciler/restore_pvc.h"
#include "reconciler/restore_status.h"
#include "reconciler/restore_target.h"
#include "tests/reconciler/restore_fixture.h"

#define T(s) (1601477160000 + (s)*1000) /* 14:46:00 + s seconds */

/* The documentation's example has one volume: drop the others. */
static void only_datavolumedisk1(struct fx *f)
{
    json_t *b = kube_json_path(f->content, "spec.volumeBackups");
    json_t *v = kube_json_path(
        f->content, "spec.source.virtualMachine.spec.template.spec.volumes");

    json_array_remove(b, 2);
    json_array_remove(b, 1);
    json_array_remove(v, 3);
    json_array_remove(v, 1);
}

/* Steps 6-8 and 10-11 with nothing in the way; returns the VM written. */
static json_t *restore_into(struct fx *f, json_t *st)
{
    struct rc_restore_opts o = {1, 1, RC_RESTORE_GRACE_MS};
    struct rc_restore_verdict v;
    json_t *restores = NULL, *vm = NULL, *deleted = NULL;
    int changed = 0;

    rc_restore_readiness(&v, &f->in, &o, T(28));
    cr_assert_eq(v.act, RC_RESTORE_GO, "%s", v.reason);
    rc_restore_check(&v, &f->in, &o);
    cr_assert_eq(v.act, RC_RESTORE_GO, "%s", v.reason);
    cr_assert_eq(rc_restore_volumes(&restores, &changed, &f->in, NULL), 0);
    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_PVCS, T(27)), 1);
    cr_assert_eq(rc_restore_dv_names(restores, &changed, &f->in, NULL), 0);
    cr_assert_eq(rc_restore_target_vm(&vm, &f->in, restores, NULL), 0);
    cr_assert_eq(rc_restore_deleted_dvs(&deleted, f->in.target, vm), 0);
    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_TARGET, T(27)), 1);
    json_object_set_new(st, "restores", restores);
    json_object_set_new(st, "deletedDataVolumes", deleted);
    return vm;
}

Test(rc_restore_example, the_documentation_status)
{
    struct fx f;
    json_t *st = json_object(), *vm, *want, *released = NULL;

    fx_load(&f);
    only_datavolumedisk1(&f);
    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_INIT, T(27)), 1);
    vm = restore_into(&f, st);
    f.in.target = vm; /* the next pass sees the VM as written */
    cr_expect_eq(rc_restore_target_done(&f.in), 1);
    cr_assert_eq(rc_restore_vm_release(&released, vm, f.restore), 0);
    cr_assert_eq(rc_restore_status_stage(st, RC_RESTORE_COMPLETE, T(28)), 1);
    want = fx_json(
        "{\"complete\": true,"
        " \"conditions\": [{\"lastProbeTime\": null, \"lastTransitionTime\": "
        "\"2020-09-30T14:46:28Z\", \"reason\": \"Operation complete\", "
        "\"status\": \"False\", \"type\": \"Progressing\"},"
        "  {\"lastProbeTime\": null, \"lastTransitionTime\": "
        "\"2020-09-30T14:46:28Z\", \"reason\": \"Operation complete\", "
        "\"status\": \"True\", \"type\": \"Ready\"}],"
        " \"deletedDataVolumes\": [\"test-dv1\"],"
        " \"restoreTime\": \"2020-09-30T14:46:28Z\","
        " \"restores\": [{\"dataVolumeName\": \"restore-" FX_RESTORE_UID
        "-datavolumedisk1\", \"persistentVolumeClaim\": "
        "\"restore-" FX_RESTORE_UID
        "-datavolumedisk1\", \"volumeName\": \"datavolumedisk1\", "
        "\"volumeSnapshotName\": \"" FX_VS_PREFIX "datavolumedisk1\"}]}");
    if (!json_equal(st, want)) {
        char *got = json_dumps(st, JSON_SORT_KEYS | JSON_INDENT(1));
        cr_expect_fail("status differs from the documentation's:\n%s", got);
        free(got);
    }
    json_decref(want);
    json_decref(released);
    json_decref(vm);
    json_decref(st);
    fx_free(&f);
}
