/* tests/reconciler/snapshot_logic.c - the pure snapshot and content rules
 * (spec/kubevirt-controller.md §4.1-§4.6, §5.1, §5.3): exact reasons,
 * names and messages, one table per rule. Objects are written inline as
 * JSON; time is a parameter, so nothing here depends on the clock. */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"
#include "kube/metatime.h"
#include "kube/project.h"
#include "reconciler/snapshot_logic.h"

TestSuite(rc_snapshot_logic);

/* 2026-12-04T05:00:00Z */
#define T0 1796360400000LL

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, 0, &e);

    cr_assert(v, "bad test JSON: %s: %s", e.text, s);
    return v;
}

/* A store holding the objects of a JSON array, each as serve's informers
 * keep it (kube/project.c): every expectation below then holds for the
 * projection too, and fails when it drops a field the logic reads. */
static struct kube_store *store_of(const char *objs)
{
    struct kube_store *st = NULL;
    json_t *a = J(objs), *o;
    size_t i;

    cr_assert_eq(kube_store_new(&st), 0);
    json_array_foreach(a, i, o)
        cr_assert_eq(kube_store_put_new(st, kube_project(o)), 0);
    json_decref(a);
    return st;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : strdup("null");
}

/* Whether the JSON text want equals got (NULL: JSON absent). */
static void expect_json(const json_t *got, const char *want, const char *what)
{
    json_t *w = want ? J(want) : NULL;
    char *g = dump(got);

    cr_expect(w ? got && json_equal(w, got) : !got, "%s: got %s want %s", what,
              g, want ? want : "null");
    free(g);
    json_decref(w);
}

#define VM_LOCKED                                                              \
    "{\"metadata\":{\"name\":\"vm\",\"namespace\":\"default\",\"uid\":"        \
    "\"vm-uid\",\"finalizers\":[\"snapshot.kubevirt.io/"                       \
    "snapshot-source-protection\"]},\"status\":{\"snapshotInProgress\":"       \
    "\"snap\"}}"

static const struct {
    const char *name, *vm, *vmi;
    int exists, online, paused, agent, frozen, locked;
    const char *msg;
} source_cases[] = {
    {"no VM", NULL, NULL, 0, 0, 0, 0, 0, 0, "Source not locked"},
    {"offline, unlocked", "{\"metadata\":{\"name\":\"vm\"}}", NULL, 1, 0, 0, 0,
     0, 0, "Source not locked"},
    {"locked needs the finalizer too",
     "{\"metadata\":{\"name\":\"vm\"},\"status\":{\"snapshotInProgress\":"
     "\"snap\"}}",
     NULL, 1, 0, 0, 0, 0, 0, "Source not locked"},
    {"locked by another snapshot",
     "{\"metadata\":{\"finalizers\":[\"snapshot.kubevirt.io/"
     "snapshot-source-protection\"]},\"status\":{\"snapshotInProgress\":"
     "\"other\"}}",
     NULL, 1, 0, 0, 0, 0, 0, "Source not locked"},
    {"locked", VM_LOCKED, NULL, 1, 0, 0, 0, 0, 1,
     "Source locked and operation in progress"},
    {"online, agent of any status, frozen", VM_LOCKED,
     "{\"status\":{\"fsFreezeStatus\":\"frozen\",\"conditions\":[{\"type\":"
     "\"AgentConnected\",\"status\":\"False\"}]}}",
     1, 1, 0, 1, 1, 1, "Source locked and operation in progress"},
    {"paused only when True", VM_LOCKED,
     "{\"status\":{\"conditions\":[{\"type\":\"Paused\",\"status\":"
     "\"False\"}]}}",
     1, 1, 0, 0, 0, 1, "Source locked and operation in progress"},
    {"paused", VM_LOCKED,
     "{\"status\":{\"conditions\":[{\"type\":\"Paused\",\"status\":"
     "\"True\"}]}}",
     1, 1, 1, 0, 0, 1, "Source locked and operation in progress"},
};

Test(rc_snapshot_logic, source_state)
{
    for (size_t i = 0; i < sizeof(source_cases) / sizeof(source_cases[0]);
         i++) {
        json_t *vm = source_cases[i].vm ? J(source_cases[i].vm) : NULL;
        json_t *vmi = source_cases[i].vmi ? J(source_cases[i].vmi) : NULL;
        struct rc_source s;

        rc_source_state(&s, vm, vmi, "snap");
        int got[] = {s.exists, s.online,      s.paused,
                     s.frozen, s.guest_agent, s.locked};
        int want[] = {source_cases[i].exists, source_cases[i].online,
                      source_cases[i].paused, source_cases[i].frozen,
                      source_cases[i].agent,  source_cases[i].locked};
        for (size_t f = 0; f < sizeof(got) / sizeof(got[0]); f++)
            cr_expect_eq(got[f], want[f],
                         "%s: flag %zu (exists, online, "
                         "paused, frozen, agent, locked)",
                         source_cases[i].name, f);
        cr_expect_str_eq(s.lock_msg, source_cases[i].msg, "%s",
                         source_cases[i].name);
        json_decref(vm);
        json_decref(vmi);
    }
}

#define M_ONLINE                                                               \
    "Snapshot taken while the VM was running. Consistency depends on "         \
    "guest-agent quiescing."
#define M_AGENT                                                                \
    "Guest agent was active and attempted to quiesce the filesystem for "      \
    "application consistency."
#define M_NOAGENT                                                              \
    "Guest agent was not available. Snapshot is crash-consistent and may "     \
    "not be application-consistent."
#define M_PAUSED                                                               \
    "Snapshot taken while the VM was paused. Snapshot is crash-consistent "    \
    "and may not be application-consistent."
#define M_QUIESCE                                                              \
    "Guest agent quiesced the filesystem, but the freeze window timed out "    \
    "before completion. Snapshot is crash-consistent and may not be "          \
    "application-consistent."

static const struct {
    const char *name;
    int online, paused, agent;
    const char *status, *error, *want, *want_src;
} ind_cases[] = {
    {"offline: none", 0, 0, 0, "{\"indications\":[\"Online\"]}", NULL, NULL,
     NULL},
    {"paused", 1, 1, 1, NULL, NULL, "[\"Online\",\"Paused\"]",
     "[{\"indication\":\"Online\",\"message\":\"" M_ONLINE
     "\"},{\"indication\":\"Paused\",\"message\":\"" M_PAUSED "\"}]"},
    {"guest agent, sorted", 1, 0, 1, NULL, NULL, "[\"GuestAgent\",\"Online\"]",
     "[{\"indication\":\"GuestAgent\",\"message\":\"" M_AGENT
     "\"},{\"indication\":\"Online\",\"message\":\"" M_ONLINE "\"}]"},
    {"no guest agent", 1, 0, 0, NULL, NULL, "[\"NoGuestAgent\",\"Online\"]",
     "[{\"indication\":\"NoGuestAgent\",\"message\":\"" M_NOAGENT
     "\"},{\"indication\":\"Online\",\"message\":\"" M_ONLINE "\"}]"},
    {"fsfreeze limit", 1, 0, 1, NULL, "unfreeze: fsfreeze is limited to 10s",
     "[\"GuestAgent\",\"Online\",\"QuiesceTimeout\"]",
     "[{\"indication\":\"GuestAgent\",\"message\":\"" M_AGENT
     "\"},{\"indication\":\"Online\",\"message\":\"" M_ONLINE
     "\"},{\"indication\":\"QuiesceTimeout\",\"message\":\"" M_QUIESCE "\"}]"},
    {"sticky QuiesceTimeout", 1, 0, 1, "{\"indications\":[\"QuiesceTimeout\"]}",
     NULL, "[\"GuestAgent\",\"Online\",\"QuiesceTimeout\"]", NULL},
};

Test(rc_snapshot_logic, indications)
{
    for (size_t i = 0; i < sizeof(ind_cases) / sizeof(ind_cases[0]); i++) {
        struct rc_source s = {.exists = 1,
                              .online = ind_cases[i].online,
                              .paused = ind_cases[i].paused,
                              .guest_agent = ind_cases[i].agent};
        json_t *st = ind_cases[i].status ? J(ind_cases[i].status) : NULL;
        json_t *ind = NULL, *src = NULL;

        cr_expect_eq(rc_indications(&ind, &src, &s, st, ind_cases[i].error), 0);
        expect_json(ind, ind_cases[i].want, ind_cases[i].name);
        if (ind_cases[i].want_src || !ind_cases[i].want)
            expect_json(src, ind_cases[i].want_src, ind_cases[i].name);
        json_decref(ind);
        json_decref(src);
        json_decref(st);
    }
    cr_expect_str_eq(rc_indication_message("Bogus"), "Unknown indication");
}

#define VM_ONE_PVC(extra)                                                      \
    "{\"metadata\":{\"name\":\"vm\",\"namespace\":\"default\"},\"spec\":{"     \
    "\"template\":{\"spec\":{\"volumes\":[{\"name\":\"disk\","                 \
    "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}},{\"name\":\"ci\","     \
    "\"cloudInitNoCloud\":{}}]}}}" extra "}"
#define PVC(extra)                                                             \
    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"pvc\","      \
    "\"namespace\":\"default\"" extra
#define BOUND                                                                  \
    "},\"spec\":{\"storageClassName\":\"sc\"},\"status\":{\"phase\":"          \
    "\"Bound\"}}"

static const struct {
    const char *name, *vm, *vmi, *objs;
    int want;
    const char *msg;
} lock_cases[] = {
    {"all fine", VM_ONE_PVC(""), NULL, "[" PVC(BOUND) "]", 1,
     "Source not locked"},
    {"missing", VM_ONE_PVC(""), NULL, "[]", 0,
     "Source not locked source default/vm volume doesnt exist: pvc"},
    {"not bound", VM_ONE_PVC(""), NULL,
     "[" PVC("},\"status\":{\"phase\":\"Pending\"}}") "]", 0,
     "Source not locked source default/vm volume not bound: pvc"},
    {"being deleted", VM_ONE_PVC(""), NULL,
     "[" PVC(",\"deletionTimestamp\":\"2026-12-04T05:00:00Z\"" BOUND) "]", 0,
     "Source not locked source default/vm volume is being deleted: pvc"},
    {"not populated", VM_ONE_PVC(""), NULL,
     "[" PVC(",\"ownerReferences\":[{\"kind\":\"DataVolume\",\"name\":\"dv\","
             "\"controller\":true}]" BOUND) ",{\"kind\":\"DataVolume\","
                                            "\"metadata\":{\"name\":\"dv\","
                                            "\"namespace\":\"default\"},"
                                            "\"status\":{\"phase\":"
                                            "\"ImportInProgress\"}}]",
     0, "Source not locked source default/vm volume not populated: pvc"},
    {"offline, a pod mounts it", VM_ONE_PVC(""), NULL,
     "[" PVC(BOUND) ",{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
                    "\"namespace\":\"default\"},\"spec\":{\"volumes\":[{"
                    "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}]},"
                    "\"status\":{\"phase\":\"Running\"}}]",
     0, "Source not locked source is offline but 1 pods using PVCs [p1]"},
    {"online, a pod mounts it", VM_ONE_PVC(""), "{}",
     "[" PVC(BOUND) ",{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
                    "\"namespace\":\"default\"},\"spec\":{\"volumes\":[{"
                    "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}]},"
                    "\"status\":{\"phase\":\"Running\"}}]",
     1, "Source not locked"},
    {"another snapshot in progress",
     VM_ONE_PVC(",\"status\":{\"snapshotInProgress\":\"other\"}"), NULL,
     "[" PVC(BOUND) "]", 0, "Source not locked snapshot \"other\" in progress"},
};

Test(rc_snapshot_logic, lock_check)
{
    for (size_t i = 0; i < sizeof(lock_cases) / sizeof(lock_cases[0]); i++) {
        struct kube_store *st = store_of(lock_cases[i].objs);
        json_t *vm = J(lock_cases[i].vm), *pvcs = NULL;
        json_t *vmi = lock_cases[i].vmi ? J(lock_cases[i].vmi) : NULL;
        struct rc_source s;

        rc_source_state(&s, vm, vmi, "snap");
        cr_assert_eq(rc_source_pvcs(&pvcs, vm), 0);
        cr_expect_eq(rc_lock_check(&s, st, vm, pvcs, "snap"),
                     lock_cases[i].want, "%s", lock_cases[i].name);
        cr_expect_str_eq(s.lock_msg, lock_cases[i].msg, "%s",
                         lock_cases[i].name);
        json_decref(pvcs);
        json_decref(vm);
        json_decref(vmi);
        kube_store_free(st);
    }
}

Test(rc_snapshot_logic, source_pvcs)
{
    json_t *vm = J("{\"spec\":{\"template\":{\"spec\":{\"volumes\":["
                   "{\"name\":\"a\",\"dataVolume\":{\"name\":\"dv-a\"}},"
                   "{\"name\":\"b\",\"persistentVolumeClaim\":{\"claimName\":"
                   "\"pvc-b\"}},{\"name\":\"c\",\"memoryDump\":{"
                   "\"claimName\":\"md\"}},{\"name\":\"d\",\"containerDisk\":"
                   "{}}]}}}}");
    json_t *pvcs = NULL;

    cr_assert_eq(rc_source_pvcs(&pvcs, vm), 0);
    expect_json(pvcs, "{\"a\":\"dv-a\",\"b\":\"pvc-b\",\"c\":\"md\"}",
                "volume to claim");
    json_decref(pvcs);
    json_decref(vm);
}

#define SC                                                                     \
    "{\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"sc\"},"               \
    "\"provisioner\":\"csi.x\"}"
#define VSC(name, driver, ann)                                                 \
    "{\"kind\":\"VolumeSnapshotClass\",\"metadata\":{\"name\":\"" name         \
    "\"" ann "},\"driver\":\"" driver "\"}"
#define DEFAULT_ANN                                                            \
    ",\"annotations\":{\"snapshot.storage.kubernetes.io/"                      \
    "is-default-class\":\"false\"}"

static const struct {
    const char *name, *objs, *want, *err;
    int rc;
} vsc_cases[] = {
    {"unknown StorageClass", "[" VSC("a", "csi.x", "") "]", "", NULL, 0},
    {"no class for the driver", "[" SC "," VSC("a", "csi.y", "") "]", "", NULL,
     0},
    {"exactly one",
     "[" SC "," VSC("a", "csi.x", "") "," VSC("b", "csi.y", "") "]", "a", NULL,
     0},
    {"tie broken by the default annotation key, whatever its value",
     "[" SC "," VSC("a", "csi.x", "") "," VSC("b", "csi.x", DEFAULT_ANN) "]",
     "b", NULL, 0},
    {"two defaults: the first by name",
     "[" SC
     "," VSC("b", "csi.x", DEFAULT_ANN) "," VSC("a", "csi.x", DEFAULT_ANN) "]",
     "a", NULL, 0},
    {"tie without a default",
     "[" SC "," VSC("a", "csi.x", "") "," VSC("b", "csi.x", "") "]", "",
     "2 matching VolumeSnapshotClasses for sc", KUBE_EINVAL},
    {"StorageProfile names an existing class",
     "[" SC "," VSC("a", "csi.x", "") "," VSC(
         "p", "other",
         "") ","
             "{\"kind\":\"StorageProfile\",\"metadata\":{\"name\":\"sc\"},"
             "\"status\":{\"snapshotClass\":\"p\"}}]",
     "p", NULL, 0},
    {"StorageProfile names a missing class",
     "[" SC "," VSC("a", "csi.x", "") ",{\"kind\":\"StorageProfile\","
                                      "\"metadata\":{\"name\":\"sc\"},"
                                      "\"status\":{\"snapshotClass\":"
                                      "\"gone\"}}]",
     "", NULL, 0},
};

Test(rc_snapshot_logic, vsclass_choice)
{
    for (size_t i = 0; i < sizeof(vsc_cases) / sizeof(vsc_cases[0]); i++) {
        struct kube_store *st = store_of(vsc_cases[i].objs);
        struct kube_err err = {0};
        char out[64] = "junk";
        int rc = rc_vsclass_for_storage_class(out, sizeof(out), st, "sc", &err);

        cr_expect_eq(rc, vsc_cases[i].rc, "%s: rc %d", vsc_cases[i].name, rc);
        if (rc == 0)
            cr_expect_str_eq(out, vsc_cases[i].want, "%s", vsc_cases[i].name);
        else
            cr_expect_str_eq(err.msg, vsc_cases[i].err, "%s",
                             vsc_cases[i].name);
        kube_store_free(st);
    }
}

#define SNAP                                                                   \
    "{\"metadata\":{\"name\":\"snap\",\"namespace\":\"default\",\"uid\":"      \
    "\"u1\",\"creationTimestamp\":\"2026-12-04T05:00:00Z\"},\"spec\":{"        \
    "\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":\"VirtualMachine\","    \
    "\"name\":\"vm\"}}}"
#define VM_MF                                                                  \
    "{\"metadata\":{\"name\":\"vm\",\"namespace\":\"default\",\"uid\":\"v\","  \
    "\"managedFields\":[{}],\"labels\":{\"a\":\"b\"}},\"spec\":{\"running\":"  \
    "false,\"template\":{\"spec\":{\"domain\":{\"devices\":{\"disks\":[{"      \
    "\"name\":\"disk\"}]}},\"volumes\":[{\"name\":\"disk\","                   \
    "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}]}}},\"status\":{"      \
    "\"ready\":true}}"
#define PVC_SC(sc)                                                             \
    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"pvc\","      \
    "\"namespace\":\"default\",\"managedFields\":[{}],\"uid\":\"p\"},"         \
    "\"spec\":{" sc "\"resources\":{}},\"status\":{\"phase\":\"Bound\"}}"

Test(rc_snapshot_logic, content_build_offline)
{
    struct kube_store *st = store_of("[" SC "," VSC(
        "a", "csi.x", "") "," PVC_SC("\"storageClassName\":\"sc\",") "]");
    json_t *snap = J(SNAP), *vm = J(VM_MF), *pvcs = NULL, *c = NULL;
    struct kube_err err = {0};
    char fail[256];

    cr_assert_eq(rc_source_pvcs(&pvcs, vm), 0);
    cr_assert_eq(rc_content_build(&c, fail, sizeof(fail), st, snap, vm, NULL,
                                  pvcs, &err),
                 0, "%s %s", err.msg, fail);
    expect_json(
        c,
        "{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\",\"kind\":"
        "\"VirtualMachineSnapshotContent\",\"metadata\":{\"name\":"
        "\"vmsnapshot-content-u1\",\"namespace\":\"default\",\"finalizers\":["
        "\"snapshot.kubevirt.io/vmsnapshotcontent-protection\"]},\"spec\":{"
        "\"virtualMachineSnapshotName\":\"snap\",\"source\":{"
        "\"virtualMachine\":{\"metadata\":{\"name\":\"vm\",\"namespace\":"
        "\"default\",\"uid\":\"v\",\"labels\":{\"a\":\"b\"}},\"spec\":{"
        "\"running\":false,\"template\":{\"spec\":{\"domain\":{\"devices\":{"
        "\"disks\":[{\"name\":\"disk\"}]}},\"volumes\":[{\"name\":\"disk\","
        "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}]}}},\"status\":{}"
        "}},\"volumeBackups\":[{\"volumeName\":\"disk\","
        "\"persistentVolumeClaim\":{\"metadata\":{\"name\":\"pvc\","
        "\"namespace\":\"default\",\"uid\":\"p\"},\"spec\":{"
        "\"storageClassName\":\"sc\",\"resources\":{}}},"
        "\"volumeSnapshotName\":\"vmsnapshot-u1-volume-disk\"}]}}",
        "offline content");
    json_decref(c);
    json_decref(pvcs);
    json_decref(vm);
    json_decref(snap);
    kube_store_free(st);
}

Test(rc_snapshot_logic, content_build_online_takes_live_volumes)
{
    struct kube_store *st = store_of("[]");
    json_t *snap = J(SNAP), *vm = J(VM_MF), *c = NULL, *pvcs = J("{}");
    json_t *rev =
        J("{\"metadata\":{\"name\":\"old\"},\"spec\":{\"running\":"
          "true,\"template\":{\"spec\":{\"volumes\":[],\"cpu\":1}}}}");
    char fail[256];

    cr_assert_eq(
        rc_content_build(&c, fail, sizeof(fail), st, snap, vm, rev, pvcs, NULL),
        0);
    expect_json(kube_json_path(c, "spec.source.virtualMachine.spec"),
                "{\"running\":true,\"template\":{\"spec\":{\"cpu\":1,"
                "\"volumes\":[{\"name\":\"disk\",\"persistentVolumeClaim\":{"
                "\"claimName\":\"pvc\"}}],\"domain\":{\"devices\":{\"disks\":"
                "[{\"name\":\"disk\"}]}}}}}",
                "revision spec with the live volumes and disks");
    cr_expect_str_eq(
        kube_json_str0(c, "spec.source.virtualMachine.metadata.name"), "vm");
    json_decref(c);
    json_decref(rev);
    json_decref(pvcs);
    json_decref(vm);
    json_decref(snap);
    kube_store_free(st);
}

static const struct {
    const char *name, *objs, *fail;
} noclass_cases[] = {
    {"StorageClass without a VolumeSnapshotClass",
     "[" SC
     "," VSC("a", "csi.y", "") "," PVC_SC("\"storageClassName\":\"sc\",") "]",
     "volume \"disk\" cannot be snapshotted: StorageClass \"sc\" has no "
     "VolumeSnapshotClass"},
    {"unknown StorageClass", "[" PVC_SC("\"storageClassName\":\"sc\",") "]",
     "volume \"disk\" cannot be snapshotted: StorageClass \"sc\" has no "
     "VolumeSnapshotClass"},
    {"PVC without a StorageClass", "[" PVC_SC("") "]",
     "volume \"disk\" cannot be snapshotted: PersistentVolumeClaim \"pvc\" has "
     "no StorageClass"},
};

Test(rc_snapshot_logic, content_build_fails_without_class)
{
    for (size_t i = 0; i < sizeof(noclass_cases) / sizeof(noclass_cases[0]);
         i++) {
        struct kube_store *st = store_of(noclass_cases[i].objs);
        json_t *snap = J(SNAP), *vm = J(VM_MF), *pvcs = NULL;
        json_t *c = (json_t *)1;
        char fail[256];

        cr_assert_eq(rc_source_pvcs(&pvcs, vm), 0);
        cr_expect_eq(rc_content_build(&c, fail, sizeof(fail), st, snap, vm,
                                      NULL, pvcs, NULL),
                     RC_CONTENT_NO_CLASS, "%s", noclass_cases[i].name);
        cr_expect_null(c, "%s", noclass_cases[i].name);
        cr_expect_str_eq(fail, noclass_cases[i].fail, "%s",
                         noclass_cases[i].name);
        json_decref(pvcs);
        json_decref(vm);
        json_decref(snap);
        kube_store_free(st);
    }
}

Test(rc_snapshot_logic, names)
{
    char buf[128];
    json_t *named = J("{\"metadata\":{\"uid\":\"u1\"},\"status\":{"
                      "\"virtualMachineSnapshotContentName\":\"kept\"}}");
    json_t *nouid = J("{\"metadata\":{}}");
    json_t *snap = J(SNAP);

    cr_expect_eq(rc_content_name(buf, sizeof(buf), snap), 0);
    cr_expect_str_eq(buf, "vmsnapshot-content-u1");
    cr_expect_eq(rc_content_name(buf, sizeof(buf), named), 0);
    cr_expect_str_eq(buf, "kept");
    cr_expect_eq(rc_content_name(buf, sizeof(buf), nouid), KUBE_EINVAL);
    cr_expect_eq(rc_volume_snapshot_name(buf, sizeof(buf), "u1", "disk"), 0);
    cr_expect_str_eq(buf, "vmsnapshot-u1-volume-disk");
    cr_expect_eq(rc_volume_snapshot_name(buf, 8, "u1", "disk"), KUBE_ETOOBIG);
    json_decref(snap);
    json_decref(named);
    json_decref(nouid);
}

Test(rc_snapshot_logic, volume_snapshot_build)
{
    json_t *content = J(
        "{\"metadata\":{\"name\":\"vmsnapshot-content-u1\",\"namespace\":"
        "\"default\",\"uid\":\"cu\"},\"spec\":{\"source\":{\"virtualMachine\":"
        "{\"metadata\":{\"name\":\"vm\"}}}}}");
    json_t *backup = J("{\"volumeName\":\"disk\",\"persistentVolumeClaim\":{"
                       "\"metadata\":{\"name\":\"pvc\"},\"spec\":{"
                       "\"storageClassName\":\"sc\"}},\"volumeSnapshotName\":"
                       "\"vmsnapshot-u1-volume-disk\"}");
    json_t *nosc = J("{\"volumeName\":\"disk\",\"persistentVolumeClaim\":{"
                     "\"metadata\":{\"name\":\"pvc\"},\"spec\":{}},"
                     "\"volumeSnapshotName\":\"x\"}");
    struct kube_err err = {0};
    json_t *vs = NULL;

    cr_assert_eq(rc_volume_snapshot_build(&vs, content, backup, "a", &err), 0);
    expect_json(
        vs,
        "{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":"
        "\"VolumeSnapshot\",\"metadata\":{\"name\":"
        "\"vmsnapshot-u1-volume-disk\",\"namespace\":\"default\",\"labels\":{"
        "\"snapshot.kubevirt.io/source-vm-name\":\"vm\","
        "\"snapshot.kubevirt.io/source-vm-namespace\":\"default\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\","
        "\"kind\":\"VirtualMachineSnapshotContent\",\"name\":"
        "\"vmsnapshot-content-u1\",\"uid\":\"cu\",\"controller\":true,"
        "\"blockOwnerDeletion\":true}]},\"spec\":{\"source\":{"
        "\"persistentVolumeClaimName\":\"pvc\"},\"volumeSnapshotClassName\":"
        "\"a\"}}",
        "VolumeSnapshot");
    json_decref(vs);
    cr_expect_eq(rc_volume_snapshot_build(&vs, content, nosc, "a", &err),
                 KUBE_EINVAL);
    cr_expect_str_eq(err.msg,
                     "default/pvc VolumeSnapshot requested but no storage "
                     "class");
    json_decref(nosc);
    json_decref(backup);
    json_decref(content);
}

#define CONTENT(status, backups)                                               \
    "{\"metadata\":{\"name\":\"c\",\"namespace\":\"default\"},\"spec\":{"      \
    "\"volumeBackups\":[" backups "]}" status "}"
#define BK(n) "{\"volumeName\":\"" n "\",\"volumeSnapshotName\":\"vs-" n "\"}"
#define VS(n, st)                                                              \
    "{\"kind\":\"VolumeSnapshot\",\"metadata\":{\"name\":\"vs-" n              \
    "\",\"namespace\":\"default\"}" st "}"
#define NOW_S "2026-12-04T05:00:00Z"

static const struct {
    const char *name, *content, *objs;
    int gone;
    const char *want_status;
    size_t create;
    const char *deleted;
    int first, ready;
} ce_cases[] = {
    {"zero volumes: created and ready at once", CONTENT("", ""), "[]", 0,
     "{\"creationTime\":\"" NOW_S "\",\"readyToUse\":true,"
     "\"volumeSnapshotStatus\":[]}",
     0, "[]", 1, 1},
    {"missing: to be created, listed by name", CONTENT("", BK("a")), "[]", 0,
     "{\"readyToUse\":false,\"volumeSnapshotStatus\":[{"
     "\"volumeSnapshotName\":\"vs-a\"}]}",
     1, "[]", 0, 0},
    {"created, not ready", CONTENT("", BK("a")),
     "[" VS("a",
            ",\"status\":{\"creationTime\":\"t\",\"readyToUse\":false}") "]",
     0,
     "{\"creationTime\":\"" NOW_S "\",\"readyToUse\":false,"
     "\"volumeSnapshotStatus\":[{\"volumeSnapshotName\":\"vs-a\","
     "\"creationTime\":\"t\",\"readyToUse\":false}]}",
     0, "[]", 1, 0},
    {"ready keeps its creationTime",
     CONTENT(",\"status\":{\"creationTime\":\"old\"}", BK("a")),
     "[" VS("a",
            ",\"status\":{\"creationTime\":\"t\",\"readyToUse\":true}") "]",
     0,
     "{\"creationTime\":\"old\",\"readyToUse\":true,"
     "\"volumeSnapshotStatus\":[{\"volumeSnapshotName\":\"vs-a\","
     "\"creationTime\":\"t\",\"readyToUse\":true}]}",
     0, "[]", 0, 1},
    {"a VolumeSnapshot error is copied", CONTENT("", BK("a") "," BK("b")),
     "[" VS("a", ",\"status\":{\"error\":{\"time\":\"t\",\"message\":"
                 "\"boom\"}}") "," VS("b", "") "]",
     0,
     "{\"readyToUse\":false,\"error\":{\"time\":\"" NOW_S "\",\"message\":"
     "\"VolumeSnapshot vs-a error: boom\"},\"volumeSnapshotStatus\":[{"
     "\"volumeSnapshotName\":\"vs-a\",\"error\":{\"time\":\"t\","
     "\"message\":\"boom\"}},{\"volumeSnapshotName\":\"vs-b\"}]}",
     0, "[]", 0, 0},
    {"same error keeps its time",
     CONTENT(",\"status\":{\"error\":{\"time\":\"then\",\"message\":"
             "\"VolumeSnapshot vs-a error: boom\"}}",
             BK("a")),
     "[" VS("a", ",\"status\":{\"error\":{\"message\":\"boom\"}}") "]", 0,
     "{\"readyToUse\":false,\"error\":{\"time\":\"then\",\"message\":"
     "\"VolumeSnapshot vs-a error: boom\"},\"volumeSnapshotStatus\":[{"
     "\"volumeSnapshotName\":\"vs-a\",\"error\":{\"message\":\"boom\"}}]}",
     0, "[]", 0, 0},
    {"gone after creation",
     CONTENT(",\"status\":{\"creationTime\":\"old\"}", BK("a") "," BK("b")),
     "[]", 0,
     "{\"creationTime\":\"old\",\"readyToUse\":false,\"error\":{\"time\":"
     "\"" NOW_S "\",\"message\":\"VolumeSnapshots (vs-a,vs-b) missing\"},"
     "\"volumeSnapshotStatus\":[]}",
     0, "[\"vs-a\",\"vs-b\"]", 0, 0},
    {"snapshot deleted: skipped", CONTENT("", BK("a")), "[]", 1,
     "{\"readyToUse\":false,\"error\":{\"time\":\"" NOW_S "\",\"message\":"
     "\"VolumeSnapshots (vs-a) skipped because vm snapshot is deleted\"},"
     "\"volumeSnapshotStatus\":[]}",
     0, "[]", 0, 0},
};

Test(rc_snapshot_logic, content_evaluate)
{
    for (size_t i = 0; i < sizeof(ce_cases) / sizeof(ce_cases[0]); i++) {
        struct kube_store *st = store_of(ce_cases[i].objs);
        json_t *c = J(ce_cases[i].content);
        struct rc_content_eval e;

        cr_assert_eq(rc_content_evaluate(&e, c, st, ce_cases[i].gone, T0), 0);
        expect_json(e.status, ce_cases[i].want_status, ce_cases[i].name);
        cr_expect_eq(json_array_size(e.create), ce_cases[i].create, "%s",
                     ce_cases[i].name);
        expect_json(e.deleted, ce_cases[i].deleted, ce_cases[i].name);
        cr_expect_eq(e.first_created, ce_cases[i].first, "%s: first",
                     ce_cases[i].name);
        cr_expect_eq(e.ready, ce_cases[i].ready, "%s: ready", ce_cases[i].name);
        rc_content_eval_free(&e);
        json_decref(c);
        kube_store_free(st);
    }
}

static const struct {
    const char *name, *deadline, *created, *phase;
    int64_t now_after_ms; /* now = T0 + this */
    int want;
    int64_t left;
} dl_cases[] = {
    {"default 5m, ahead", NULL, NOW_S, NULL, 60000, 0, 240000},
    {"default 5m, passed", NULL, NOW_S, NULL, 300001, 1, 0},
    {"exactly at the deadline: not yet, look again", NULL, NOW_S, NULL, 300000,
     0, 1},
    {"explicit 0: never", "0", NOW_S, NULL, 99999999, 0, 0},
    {"-1m: exceeded at once", "-1m", NOW_S, NULL, 0, 1, 0},
    {"90s from creation, not from now", "1m30s", "2026-12-04T04:59:00Z", NULL,
     10000, 0, 20000},
    {"already Failed", "0", NOW_S, "Failed", 0, 1, 0},
    {"Succeeded never fails", "1s", NOW_S, "Succeeded", 999999, 0, 0},
    {"InProgress still counts", "1s", NOW_S, "InProgress", 2000, 1, 0},
    {"bad duration", "1d", NOW_S, NULL, 0, KUBE_EINVAL, 0},
};

Test(rc_snapshot_logic, deadline)
{
    for (size_t i = 0; i < sizeof(dl_cases) / sizeof(dl_cases[0]); i++) {
        json_t *s =
            json_pack("{s:{s:s}, s:{}, s:{}}", "metadata", "creationTimestamp",
                      dl_cases[i].created, "spec", "status");
        struct kube_err err = {0};
        int64_t left = -7;
        int rc;

        if (dl_cases[i].deadline)
            json_object_set_new(json_object_get(s, "spec"), "failureDeadline",
                                json_string(dl_cases[i].deadline));
        if (dl_cases[i].phase)
            json_object_set_new(json_object_get(s, "status"), "phase",
                                json_string(dl_cases[i].phase));
        rc = rc_deadline(&left, s, T0 + dl_cases[i].now_after_ms, &err);
        cr_expect_eq(rc, dl_cases[i].want, "%s: rc %d", dl_cases[i].name, rc);
        cr_expect_eq(left, dl_cases[i].left, "%s: left %lld", dl_cases[i].name,
                     (long long)left);
        json_decref(s);
    }
}

Test(rc_snapshot_logic, times)
{
    static const struct {
        const char *in;
        int64_t want;
        int rc;
    } cases[] = {
        {NOW_S, T0, 0},
        {"2026-12-04T05:00:00.250Z", T0 + 250, 0},
        {"2026-12-04T07:00:00+02:00", T0, 0},
        {"2026-12-04 05:00:00Z", 0, KUBE_EINVAL},
        {"2026-12-04T05:00:00", 0, KUBE_EINVAL},
        {"", 0, KUBE_EINVAL},
    };
    char buf[32];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = 0;
        int rc = kube_metatime_parse(&got, cases[i].in);

        cr_expect_eq(rc, cases[i].rc, "%s", cases[i].in);
        if (rc == 0)
            cr_expect_eq(got, cases[i].want, "%s: %lld", cases[i].in,
                         (long long)got);
    }
    kube_metatime_format(buf, sizeof(buf), T0 + 999);
    cr_expect_str_eq(buf, NOW_S);
}

/* "Type=Status:reason;..." in list order. */
static void conds_summary(char *buf, size_t len, const json_t *status)
{
    const json_t *c;
    size_t i, used = 0;

    buf[0] = '\0';
    json_array_foreach(kube_json_path(status, "conditions"), i, c)
    {
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s:%s",
                                 i ? ";" : "", kube_json_str0(c, "type"),
                                 kube_json_str0(c, "status"),
                                 kube_json_str0(c, "reason"));
        if (used >= len)
            return;
    }
}

#define CT_READY                                                               \
    "{\"metadata\":{\"name\":\"vmsnapshot-content-u1\"},\"status\":{"          \
    "\"creationTime\":\"2026-12-04T05:00:10Z\",\"readyToUse\":true}}"
#define CT_ERROR                                                               \
    "{\"metadata\":{\"name\":\"vmsnapshot-content-u1\"},\"status\":{"          \
    "\"readyToUse\":false,\"error\":{\"message\":\"freeze failed\"}}}"

/* An InProgress status that has its Progressing and Ready already. */
#define PRIOR                                                                  \
    "{\"phase\":\"InProgress\",\"conditions\":[{\"type\":\"Progressing\","     \
    "\"status\":\"True\",\"reason\":\"x\"},{\"type\":\"Ready\",\"status\":"    \
    "\"False\",\"reason\":\"Not ready\"}]}"

static const struct {
    const char *name, *status, *content;
    int exists, locked, online, exceeded, deleting;
    const char *lock_msg, *phase, *conds;
} ss_cases[] = {
    {"first reconcile, no source", NULL, NULL, 0, 0, 0, 0, 0, "", "InProgress",
     "Progressing=False:Source does not exist;Ready=False:Not ready"},
    {"first reconcile, not locked", NULL, NULL, 1, 0, 0, 0, 0,
     "Source not locked", "InProgress",
     "Progressing=False:Source not locked;Ready=False:Not ready"},
    {"lock blocked", "{\"phase\":\"InProgress\"}", NULL, 1, 0, 0, 0, 0,
     "Source not locked source default/vm volume not bound: pvc", "InProgress",
     "Progressing=False:Source not locked source default/vm volume not "
     "bound: pvc;Ready=False:Not ready"},
    {"locked", "{\"phase\":\"InProgress\"}", NULL, 1, 1, 1, 0, 0,
     "Source locked and operation in progress", "InProgress",
     "Progressing=True:Source locked and operation in progress;Ready=False:"
     "Not ready"},
    {"content error", "{\"phase\":\"InProgress\"}", CT_ERROR, 1, 1, 0, 0, 0,
     "Source locked and operation in progress", "InProgress",
     "Progressing=False:In error state;Ready=False:Not ready"},
    {"succeeded and ready", "{\"phase\":\"InProgress\"}", CT_READY, 1, 1, 0, 0,
     0, "Source locked and operation in progress", "Succeeded",
     "Progressing=False:Operation complete;Ready=True:Ready"},
    {"deadline exceeded", PRIOR, NULL, 1, 1, 0, 1, 0,
     "Source locked and operation in progress", "Failed",
     "Progressing=False:Operation failed;Ready=False:Not ready;Failure=True:"
     "snapshot deadline exceeded"},
    {"deadline exceeded in error", PRIOR, CT_ERROR, 1, 1, 0, 1, 0, "", "Failed",
     "Progressing=False:In error state;Ready=False:Not ready;Failure=True:"
     "snapshot deadline exceeded"},
    {"deadline first: Failure before Progressing", NULL, NULL, 0, 0, 0, 1, 0,
     "", "Failed",
     "Failure=True:snapshot deadline exceeded;Progressing=False:Operation "
     "failed;Ready=False:Not ready"},
    {"deleted while in progress", "{\"phase\":\"InProgress\"}", NULL, 1, 1, 0,
     0, 1, "Source locked and operation in progress", "Deleting",
     "Progressing=False:VM snapshot is deleting;Ready=False:Not ready"},
    {"deleted after success keeps Succeeded", "{\"phase\":\"Succeeded\"}", NULL,
     1, 0, 0, 0, 1, "Source not locked", "Succeeded",
     "Progressing=False:Operation complete;Ready=False:Not ready"},
};

Test(rc_snapshot_logic, snapshot_status_stages)
{
    for (size_t i = 0; i < sizeof(ss_cases) / sizeof(ss_cases[0]); i++) {
        json_t *snap = J(SNAP), *content = NULL, *out = NULL;
        struct rc_source src = {.exists = ss_cases[i].exists,
                                .locked = ss_cases[i].locked,
                                .online = ss_cases[i].online};
        struct rc_snapshot_in in = {
            snap, &src, NULL, ss_cases[i].exceeded, ss_cases[i].deleting, T0};
        char got[512];

        snprintf(src.uid, sizeof(src.uid), "vm-uid");
        snprintf(src.lock_msg, sizeof(src.lock_msg), "%s",
                 ss_cases[i].lock_msg);
        if (ss_cases[i].status)
            json_object_set_new(snap, "status", J(ss_cases[i].status));
        if (ss_cases[i].content)
            in.content = content = J(ss_cases[i].content);
        cr_assert_eq(rc_snapshot_status(&out, &in), 0);
        cr_expect_str_eq(kube_json_str0(out, "phase"), ss_cases[i].phase, "%s",
                         ss_cases[i].name);
        conds_summary(got, sizeof(got), out);
        cr_expect_str_eq(got, ss_cases[i].conds, "%s: %s", ss_cases[i].name,
                         got);
        if (ss_cases[i].exists)
            cr_expect_str_eq(kube_json_str0(out, "sourceUID"), "vm-uid", "%s",
                             ss_cases[i].name);
        json_decref(out);
        json_decref(content);
        json_decref(snap);
    }
}

Test(rc_snapshot_logic, snapshot_status_fields)
{
    json_t *snap = J(SNAP), *out = NULL;
    json_t *content =
        J("{\"metadata\":{\"name\":\"vmsnapshot-content-u1\"},\"spec\":{"
          "\"source\":{\"virtualMachine\":{\"spec\":{\"template\":{\"spec\":{"
          "\"volumes\":[{\"name\":\"disk\",\"dataVolume\":{\"name\":\"d\"}},"
          "{\"name\":\"ci\",\"cloudInitNoCloud\":{}},{\"name\":\"other\","
          "\"persistentVolumeClaim\":{\"claimName\":\"o\"}}]}}}}},"
          "\"volumeBackups\":[{\"volumeName\":\"disk\"}]},\"status\":{"
          "\"creationTime\":\"2026-12-04T05:00:10Z\",\"readyToUse\":false}}");
    struct rc_source src = {.exists = 1, .uid = "vm-uid"};
    struct rc_snapshot_in in = {snap, &src, content, 0, 0, T0};

    cr_assert_eq(rc_snapshot_status(&out, &in), 0);
    cr_expect_str_eq(kube_json_str0(out, "virtualMachineSnapshotContentName"),
                     "vmsnapshot-content-u1");
    cr_expect_str_eq(kube_json_str0(out, "creationTime"),
                     "2026-12-04T05:00:10Z");
    cr_expect(json_is_false(json_object_get(out, "readyToUse")));
    expect_json(json_object_get(out, "snapshotVolumes"),
                "{\"includedVolumes\":[\"disk\"],\"excludedVolumes\":[\"ci\","
                "\"other\"]}",
                "snapshotVolumes");
    expect_json(json_object_get(out, "indications"), "[\"PartialSnapshot\"]",
                "PartialSnapshot for an excluded PVC");
    cr_expect_null(json_object_get(out, "error"));
    json_decref(out);
    json_decref(content);
    json_decref(snap);
}

Test(rc_snapshot_logic, snapshot_status_online_indications)
{
    json_t *snap = J(SNAP), *out = NULL;
    struct rc_source src = {.exists = 1,
                            .online = 1,
                            .guest_agent = 1,
                            .locked = 1,
                            .lock_msg =
                                "Source locked and operation in progress"};
    struct rc_snapshot_in in = {snap, &src, NULL, 0, 0, T0};

    json_object_set_new(snap, "status", J("{\"phase\":\"InProgress\"}"));
    cr_assert_eq(rc_snapshot_status(&out, &in), 0);
    expect_json(json_object_get(out, "indications"),
                "[\"GuestAgent\",\"Online\"]", "online indications");
    cr_expect_eq(json_array_size(json_object_get(out, "sourceIndications")), 2);
    json_decref(out);
    src.online = 0; /* offline: both lists removed */
    json_object_set_new(snap, "status",
                        J("{\"phase\":\"InProgress\",\"indications\":["
                          "\"Online\"],\"sourceIndications\":[{}]}"));
    cr_assert_eq(rc_snapshot_status(&out, &in), 0);
    cr_expect_null(json_object_get(out, "indications"));
    cr_expect_null(json_object_get(out, "sourceIndications"));
    json_decref(out);
    json_decref(snap);
}

/* A condition's lastTransitionTime moves only when its status or reason
 * changes; lastProbeTime stays null and does not count as a change. */
Test(rc_snapshot_logic, last_transition_time)
{
    json_t *snap = J(SNAP), *first = NULL, *same = NULL, *moved = NULL;
    struct rc_source src = {.exists = 1, .lock_msg = "Source not locked"};
    struct rc_snapshot_in in = {snap, &src, NULL, 0, 0, T0};
    const json_t *c;

    cr_assert_eq(rc_snapshot_status(&first, &in), 0);
    c = json_array_get(json_object_get(first, "conditions"), 0);
    cr_expect_str_eq(kube_json_str0(c, "lastTransitionTime"), NOW_S);
    cr_expect(json_is_null(json_object_get(c, "lastProbeTime")));
    cr_expect_null(json_object_get(c, "message"));

    json_object_set(snap, "status", first);
    in.now_ms = T0 + 60000;
    cr_assert_eq(rc_snapshot_status(&same, &in), 0);
    cr_expect_eq(rc_status_differs(first, same), 0, "nothing changed");
    c = json_array_get(json_object_get(same, "conditions"), 0);
    cr_expect_str_eq(kube_json_str0(c, "lastTransitionTime"), NOW_S);

    src.locked = 1;
    snprintf(src.lock_msg, sizeof(src.lock_msg),
             "Source locked and operation in progress");
    cr_assert_eq(rc_snapshot_status(&moved, &in), 0);
    cr_expect_eq(rc_status_differs(same, moved), 1);
    c = json_array_get(json_object_get(moved, "conditions"), 0);
    cr_expect_str_eq(kube_json_str0(c, "lastTransitionTime"),
                     "2026-12-04T05:01:00Z");
    c = json_array_get(json_object_get(moved, "conditions"), 1);
    cr_expect_str_eq(kube_json_str0(c, "type"), "Ready");
    cr_expect_str_eq(kube_json_str0(c, "lastTransitionTime"), NOW_S);
    json_decref(first);
    json_decref(same);
    json_decref(moved);
    json_decref(snap);
}

Test(rc_snapshot_logic, status_differs_ignores_probe_time)
{
    json_t *a = J("{\"phase\":\"InProgress\",\"conditions\":[{\"type\":"
                  "\"Ready\",\"lastProbeTime\":null}]}");
    json_t *b = J("{\"phase\":\"InProgress\",\"conditions\":[{\"type\":"
                  "\"Ready\",\"lastProbeTime\":\"2026-12-04T05:00:00Z\"}]}");
    json_t *c = J("{\"phase\":\"Succeeded\",\"conditions\":[{\"type\":"
                  "\"Ready\",\"lastProbeTime\":null}]}");

    cr_expect_eq(rc_status_differs(a, b), 0);
    cr_expect_eq(rc_status_differs(a, c), 1);
    cr_expect_eq(rc_status_differs(NULL, a), 1);
    cr_expect_eq(rc_status_differs(NULL, NULL), 0);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

Test(rc_snapshot_logic, should_delete_content)
{
    static const struct {
        const char *name, *policy;
        int ready, want;
    } cases[] = {
        {"default policy", NULL, 1, 1},
        {"Delete", "Delete", 1, 1},
        {"Retain keeps ready content", "Retain", 1, 0},
        {"Retain deletes unready content", "Retain", 0, 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *s = json_pack("{s:{}}", "spec");
        json_t *c =
            json_pack("{s:{s:b}}", "status", "readyToUse", cases[i].ready);

        if (cases[i].policy)
            json_object_set_new(json_object_get(s, "spec"), "deletionPolicy",
                                json_string(cases[i].policy));
        cr_expect_eq(rc_should_delete_content(s, c), cases[i].want, "%s",
                     cases[i].name);
        json_decref(s);
        json_decref(c);
    }
}
