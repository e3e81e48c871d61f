/* tests/webhook/vmcontent.c - VirtualMachineSnapshotContent rules. */
#include <criterion/criterion.h>

#include "tests/webhook/harness.h"

#define RES "virtualmachinesnapshotcontents"
#define CTRL "system:serviceaccount:vmsnapd-system:vmsnapd"
#define CONTENT(spec)                                                          \
    "{\"kind\":\"VirtualMachineSnapshotContent\",\"metadata\":{\"name\":"     \
    "\"c1\",\"namespace\":\"default\"},\"spec\":" spec "}"
#define GOOD                                                                   \
    CONTENT("{\"virtualMachineSnapshotName\":\"s1\",\"source\":{"             \
            "\"virtualMachine\":{\"metadata\":{\"name\":\"vm1\"}}},"          \
            "\"volumeBackups\":[{\"volumeName\":\"disk0\","                   \
            "\"persistentVolumeClaim\":{\"metadata\":{\"name\":\"p\"}}}]}")
#define SNAP(extra)                                                            \
    "[{\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{\"name\":\"s1\","    \
    "\"namespace\":\"default\"" extra "}}]"

static const struct {
    const char *name;
    struct th_case c;
    struct th_expect e;
} rows[] = {
    {"controller creates",
     {RES, "CREATE", GOOD, NULL, CTRL, "[]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"a user may not create",
     {RES, "CREATE", GOOD, NULL, "alice", "[]", NULL, WH_EP_VALIDATE},
     {0, 403, "",
      "VirtualMachineSnapshotContent objects are created by the snapshot "
      "controller only (content.controllerUsers: " CTRL ")",
      NULL}},
    {"no controller users: nobody may create",
     {RES, "CREATE", GOOD, NULL, "alice", "[]",
      "content:\n  controllerUsers: []\n", WH_EP_VALIDATE},
     {0, 403, "",
      "VirtualMachineSnapshotContent objects are created by the snapshot "
      "controller only (content.controllerUsers: nobody)",
      NULL}},
    {"two controller users, both named",
     {RES, "CREATE", GOOD, NULL, "alice", "[]",
      "content:\n  controllerUsers: [ctl-a, ctl-b]\n", WH_EP_VALIDATE},
     {0, 403, "",
      "VirtualMachineSnapshotContent objects are created by the snapshot "
      "controller only (content.controllerUsers: ctl-a, ctl-b)",
      NULL}},
    {"a listed group may create",
     {RES, "CREATE", GOOD, NULL, "bob", "[]",
      "content:\n  controllerUsers: [system:authenticated]\n",
      WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"source VM and backups are required",
     {RES, "CREATE",
      CONTENT("{\"source\":{},\"volumeBackups\":[{\"volumeName\":\"\"},"
              "{\"persistentVolumeClaim\":{}}]}"),
      NULL, CTRL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.source.virtualMachine|FieldValueRequired|Required value\n"
      "spec.volumeBackups[0].volumeName|FieldValueRequired|Required value\n"
      "spec.volumeBackups[0].persistentVolumeClaim|FieldValueRequired|"
      "Required value\n"
      "spec.volumeBackups[1].volumeName|FieldValueRequired|Required value",
      NULL, NULL}},
    {"spec immutable for everyone",
     {RES, "UPDATE",
      CONTENT("{\"virtualMachineSnapshotName\":\"s2\",\"source\":{}}"), GOOD,
      CTRL, NULL, NULL, WH_EP_VALIDATE},
     {0, 422, "spec|FieldValueInvalid|spec is immutable after creation",
      NULL, NULL}},
    {"bound content: a user may not delete it",
     {RES, "DELETE", NULL, GOOD, "alice", SNAP(""), NULL, WH_EP_VALIDATE},
     {0, 403, "",
      "VirtualMachineSnapshotContent \"c1\" is bound to "
      "VirtualMachineSnapshot \"s1\": delete the snapshot instead",
      NULL}},
    {"bound content: the controller may",
     {RES, "DELETE", NULL, GOOD, CTRL, SNAP(""), NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"bound content: the garbage collector may",
     {RES, "DELETE", NULL, GOOD,
      "system:serviceaccount:kube-system:generic-garbage-collector", SNAP(""),
      NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"content of a snapshot being deleted",
     {RES, "DELETE", NULL, GOOD, "alice",
      SNAP(",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\""), NULL,
      WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"orphaned content: anyone RBAC allows",
     {RES, "DELETE", NULL, GOOD, "alice", "[]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
};

Test(webhook_vmcontent, rules)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        th_check(rows[i].name, &rows[i].c, &rows[i].e);
}
