/* tests/reconciler/restore_watch.c - which events re-queue a restore:
 * its target VM and VMI, its snapshot and that snapshot's content, the
 * VolumeSnapshots its status.restores names; nothing else. */
#include <criterion/criterion.h>

#include "reconciler/restore_in.h"
#include "tests/reconciler/restore_fixture.h"

static const struct {
    const char *name, *kind, *obj;
    int want;
} cases[] = {
    {"its target VM", "VirtualMachine", "{\"metadata\": {\"name\": \"my-vm\"}}",
     1},
    {"another VM", "VirtualMachine", "{\"metadata\": {\"name\": \"other\"}}",
     0},
    {"its target's VMI", "VirtualMachineInstance",
     "{\"metadata\": {\"name\": \"my-vm\"}}", 1},
    {"its snapshot", "VirtualMachineSnapshot",
     "{\"metadata\": {\"name\": \"my-vmsnapshot\"}}", 1},
    {"another snapshot", "VirtualMachineSnapshot",
     "{\"metadata\": {\"name\": \"my-vm\"}}", 0},
    {"its snapshot's content", "VirtualMachineSnapshotContent",
     "{\"metadata\": {\"name\": \"c\"}, \"spec\": "
     "{\"virtualMachineSnapshotName\": \"my-vmsnapshot\"}}",
     1},
    {"a content without a snapshot name", "VirtualMachineSnapshotContent",
     "{\"metadata\": {\"name\": \"my-vmsnapshot\"}}", 0},
    {"a VolumeSnapshot it restores from", "VolumeSnapshot",
     "{\"metadata\": {\"name\": \"" FX_VS_PREFIX "rootdisk\"}}", 1},
    {"another VolumeSnapshot", "VolumeSnapshot",
     "{\"metadata\": {\"name\": \"my-vm\"}}", 0},
    {"a PVC: its annotation says (not this function)", "PersistentVolumeClaim",
     "{\"metadata\": {\"name\": \"my-vm\"}}", 0},
};

Test(rc_restore_watch, concerns_table)
{
    struct fx f;

    fx_load(&f);
    fx_set(f.restore, "status.restores",
           fx_json("[{\"volumeName\": \"rootdisk\", \"volumeSnapshotName\": "
                   "\"" FX_VS_PREFIX "rootdisk\"}]"));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *obj = fx_json(cases[i].obj);

        cr_expect_eq(rc_restore_concerns(f.restore, cases[i].kind, obj),
                     cases[i].want, "%s", cases[i].name);
        json_decref(obj);
    }
    fx_free(&f);
}
