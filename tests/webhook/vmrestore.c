/* tests/webhook/vmrestore.c - every VirtualMachineRestore rule, in the
 * order vmsnapd-rules.md gives. */
#include <criterion/criterion.h>

#include "tests/webhook/harness.h"

#define RES "virtualmachinerestores"
#define RESTORE(target, rest)                                                  \
    "{\"kind\":\"VirtualMachineRestore\",\"metadata\":{\"name\":\"r1\","      \
    "\"namespace\":\"default\"},\"spec\":{\"target\":" target rest "}}"
#define TGT(name)                                                              \
    "{\"apiGroup\":\"kubevirt.io\",\"kind\":\"VirtualMachine\",\"name\":\""   \
    name "\"}"
#define OK_RESTORE(rest)                                                       \
    RESTORE(TGT("vm1"), ",\"virtualMachineSnapshotName\":\"s1\"" rest)
#define VM(name, uid, spec)                                                    \
    "{\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"" name "\","      \
    "\"namespace\":\"default\",\"uid\":\"" uid "\"},\"spec\":" spec "}"
#define STOPPED_VM VM("vm1", "uid-vm1", "{\"running\":false}")
#define SNAPSHOT(name, status)                                                 \
    "{\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{\"name\":\"" name     \
    "\",\"namespace\":\"default\"},\"status\":" status "}"
#define READY                                                                  \
    "{\"readyToUse\":true,\"phase\":\"Succeeded\",\"sourceUID\":\"uid-vm1\"," \
    "\"virtualMachineSnapshotContentName\":\"c1\"}"
#define GOOD_SNAP SNAPSHOT("s1", READY)
#define CONTENT(domain)                                                        \
    "{\"kind\":\"VirtualMachineSnapshotContent\",\"metadata\":{\"name\":"     \
    "\"c1\",\"namespace\":\"default\"},\"spec\":{\"source\":{"                \
    "\"virtualMachine\":{\"spec\":{\"template\":{\"spec\":{\"domain\":"      \
    domain "}}}}}}}"
#define OTHER(name, target, complete)                                          \
    "{\"kind\":\"VirtualMachineRestore\",\"metadata\":{\"name\":\"" name      \
    "\",\"namespace\":\"default\"},\"spec\":{\"target\":" target             \
    "},\"status\":{\"complete\":" complete "}}"
#define STOPPED_HINT ": stop it first (virtctl stop vm1)"
#define SNAPF "spec.virtualMachineSnapshotName"

static const struct {
    const char *name;
    struct th_case c;
    struct th_expect e;
} rows[] = {
    {"restore of an offline snapshot into its stopped VM",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"missing target apiGroup",
     {RES, "CREATE",
      RESTORE("{\"kind\":\"VirtualMachine\",\"name\":\"vm1\"}",
              ",\"virtualMachineSnapshotName\":\"s1\""),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.target.apiGroup|FieldValueNotFound|missing apiGroup",
      NULL, NULL}},
    {"invalid target, and no snapshot name: steps 3-9 skipped",
     {RES, "CREATE",
      RESTORE("{\"apiGroup\":\"apps\",\"kind\":\"Deployment\",\"name\":"
              "\"vm1\"}",
              ",\"patches\":[\"{\\\"op\\\":\\\"add\\\",\\\"path\\\":"
              "\\\"/status/x\\\"}\"]"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.target.apiGroup|FieldValueInvalid|invalid apiGroup\n"
      "spec.target.kind|FieldValueInvalid|invalid kind\n" SNAPF
      "|FieldValueRequired|Required value",
      NULL, NULL}},
    {"patch under /spec/ with ':' and ',' in the value",
     {RES, "CREATE",
      OK_RESTORE(",\"patches\":[\"{\\\"op\\\":\\\"replace\\\",\\\"path\\\":"
                 "\\\"/metadata/annotations/url\\\",\\\"value\\\":"
                 "\\\"http://a:80/x,y\\\"}\"]"),
      NULL, NULL, "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"patch array form, every op checked",
     {RES, "CREATE",
      OK_RESTORE(",\"patches\":[\"[{\\\"op\\\":\\\"add\\\",\\\"path\\\":"
                 "\\\"/spec/x\\\",\\\"value\\\":1},{\\\"op\\\":\\\"remove\\\","
                 "\\\"path\\\":\\\"/metadata/name\\\"}]\"]"),
      NULL, NULL, "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.patches|FieldValueInvalid|patching is valid only for elements "
      "under /spec/ only: {\"op\":\"remove\",\"path\":\"/metadata/name\"}",
      NULL, NULL}},
    {"unparsable patch",
     {RES, "CREATE", OK_RESTORE(",\"patches\":[\"{op: add\"]"), NULL, NULL,
      "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {0, 422, NULL, "spec.patches: patch format is not valid: ", NULL}},
    {"patch checked even when the snapshot is missing",
     {RES, "CREATE",
      OK_RESTORE(",\"patches\":[\"{\\\"op\\\":\\\"add\\\",\\\"path\\\":"
                 "\\\"/spec\\\"}\"]"),
      NULL, NULL, "[" STOPPED_VM "]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.patches|FieldValueInvalid|patching is valid only for elements "
      "under /spec/ only: {\"op\":\"add\",\"path\":\"/spec\"}\n" SNAPF
      "|FieldValueNotFound|VirtualMachineSnapshot \"s1\" does not exist",
      NULL, NULL}},
    {"snapshot has failed",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," SNAPSHOT("s1", "{\"phase\":\"Failed\"}") "]", NULL,
      WH_EP_VALIDATE},
     {0, 422,
      SNAPF "|FieldValueInvalid|VirtualMachineSnapshot \"s1\" has failed and "
            "is invalid to use",
      NULL, NULL}},
    {"snapshot not ready",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," SNAPSHOT("s1", "{\"readyToUse\":false}") "]", NULL,
      WH_EP_VALIDATE},
     {0, 422,
      SNAPF "|FieldValueInvalid|VirtualMachineSnapshot \"s1\" is not ready "
            "to use",
      NULL, NULL}},
    {"online snapshot (indications)",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," SNAPSHOT("s1", "{\"readyToUse\":true,\"sourceUID\":"
                                        "\"uid-vm1\",\"indications\":["
                                        "\"Online\",\"GuestAgent\"]}") "]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      SNAPF "|FieldValueInvalid|VirtualMachineSnapshot \"s1\" was taken "
            "while the VM was running; only an offline snapshot can be "
            "restored",
      NULL, NULL}},
    {"online snapshot (sourceIndications)",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," SNAPSHOT(
          "s1", "{\"readyToUse\":true,\"sourceUID\":\"uid-vm1\","
                "\"sourceIndications\":[{\"indication\":\"Online\","
                "\"message\":\"m\"}]}") "]",
      NULL, WH_EP_VALIDATE},
     {0, 422, NULL, "only an offline snapshot can be restored", NULL}},
    {"online snapshot allowed when the policy is relaxed",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," SNAPSHOT("s1", "{\"readyToUse\":true,\"sourceUID\":"
                                        "\"uid-vm1\",\"indications\":["
                                        "\"Online\"]}") "]",
      "restore:\n  requireOfflineSnapshot: false\n", WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"running target (spec.running)",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" VM("vm1", "uid-vm1", "{\"running\":true}") "," GOOD_SNAP "]", NULL,
      WH_EP_VALIDATE},
     {0, 422,
      "spec.target|FieldValueInvalid|VirtualMachine \"vm1\" is not "
      "stopped" STOPPED_HINT,
      NULL, NULL}},
    {"run strategy Always",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" VM("vm1", "uid-vm1", "{\"runStrategy\":\"Always\"}") "," GOOD_SNAP
      "]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.target|FieldValueInvalid|VirtualMachine \"vm1\" run strategy has "
      "to be Halted" STOPPED_HINT,
      NULL, NULL}},
    {"run strategy Halted but a VMI still exists",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" VM("vm1", "uid-vm1", "{\"runStrategy\":\"Halted\"}") "," GOOD_SNAP
      ",{\"kind\":\"VirtualMachineInstance\",\"metadata\":{\"name\":\"vm1\","
      "\"namespace\":\"default\"}}]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.target|FieldValueInvalid|VirtualMachine \"vm1\" is not "
      "stopped" STOPPED_HINT,
      NULL, NULL}},
    {"running target allowed when the policy is relaxed",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" VM("vm1", "uid-vm1", "{\"running\":true}") "," GOOD_SNAP "]",
      "restore:\n  requireStoppedTarget: false\n", WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"existing target is a different VM",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" VM("vm1", "uid-other", "{}") "," GOOD_SNAP "]", NULL,
      WH_EP_VALIDATE},
     {0, 422,
      SNAPF "|FieldValueInvalid|when snapshot source and restore target VMs "
            "are different - target VM must not exist",
      NULL, NULL}},
    {"new VM is a copy",
     {RES, "CREATE", RESTORE(TGT("copy"), ",\"virtualMachineSnapshotName\":"
                                          "\"s1\""),
      NULL, NULL, "[" GOOD_SNAP "," CONTENT("{}") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"new VM refused by policy",
     {RES, "CREATE", RESTORE(TGT("copy"), ",\"virtualMachineSnapshotName\":"
                                          "\"s1\""),
      NULL, NULL, "[" GOOD_SNAP "]", "restore:\n  allowNewTarget: false\n",
      WH_EP_VALIDATE},
     {0, 422,
      "spec.target|FieldValueForbidden|VirtualMachine \"copy\" does not "
      "exist and policy restore.allowNewTarget forbids restoring into a new "
      "VM",
      NULL, NULL}},
    {"new VM from a VM with persistent TPM",
     {RES, "CREATE", RESTORE(TGT("copy"), ",\"virtualMachineSnapshotName\":"
                                          "\"s1\""),
      NULL, NULL,
      "[" GOOD_SNAP "," CONTENT(
          "{\"devices\":{\"tpm\":{\"persistent\":true}}}") "]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec|FieldValueInvalid|Restore to a different VM is not supported "
      "when snapshotted VM has backend storage (persistent TPM or EFI)",
      NULL, NULL}},
    {"new VM from a VM with persistent EFI",
     {RES, "CREATE", RESTORE(TGT("copy"), ",\"virtualMachineSnapshotName\":"
                                          "\"s1\""),
      NULL, NULL,
      "[" GOOD_SNAP "," CONTENT("{\"firmware\":{\"bootloader\":{\"efi\":{"
                                "\"persistent\":true}}}}") "]",
      NULL, WH_EP_VALIDATE},
     {0, 422, NULL, "has backend storage", NULL}},
    {"volumeRestoreOverrides need a name and a field",
     {RES, "CREATE",
      OK_RESTORE(",\"volumeRestoreOverrides\":[{\"restoreName\":\"x\"},"
                 "{\"volumeName\":\"v\"},{\"volumeName\":\"w\",\"labels\":{}}"
                 "]"),
      NULL, NULL, "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.volumeRestoreOverrides[0].volumeName|FieldValueRequired|must "
      "provide a volume name\n"
      "spec.volumeRestoreOverrides[1]|FieldValueRequired|must provide at "
      "least one overriden field",
      NULL, NULL}},
    {"unknown policies",
     {RES, "CREATE",
      OK_RESTORE(",\"volumeRestorePolicy\":\"Nope\",\"volumeOwnershipPolicy\":"
                 "\"Me\",\"targetReadinessPolicy\":\"Later\""),
      NULL, NULL, "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.volumeRestorePolicy|FieldValueInvalid|volume restore policy "
      "\"Nope\" doesn't exist\n"
      "spec.volumeOwnershipPolicy|FieldValueInvalid|volume ownership policy "
      "\"Me\" doesn't exist\n"
      "spec.targetReadinessPolicy|FieldValueNotSupported|Unsupported value: "
      "\"Later\": supported values: \"StopTarget\", \"WaitGracePeriod\", "
      "\"FailImmediate\", \"WaitEventually\"",
      NULL, NULL}},
    {"known policies",
     {RES, "CREATE",
      OK_RESTORE(",\"volumeRestorePolicy\":\"PrefixTargetName\","
                 "\"volumeOwnershipPolicy\":\"Vm\",\"targetReadinessPolicy\":"
                 "\"StopTarget\""),
      NULL, NULL, "[" STOPPED_VM "," GOOD_SNAP "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"another restore of the target in progress",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL,
      "[" STOPPED_VM "," GOOD_SNAP "," OTHER("r0", TGT("vm1"), "false") ","
      OTHER("done", TGT("vm1"), "true") "," OTHER("r2", TGT("vm2"),
                                                   "false") "]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.target|FieldValueInvalid|VirtualMachineRestore \"r0\" in "
      "progress: wait for it to complete, or delete it if it failed",
      NULL, NULL}},
    {"causes keep the rules' order",
     {RES, "CREATE", OK_RESTORE(",\"volumeRestorePolicy\":\"Nope\""), NULL,
      NULL,
      "[" VM("vm1", "uid-vm1", "{\"running\":true}") "," SNAPSHOT(
          "s1", "{\"readyToUse\":false,\"indications\":[\"Online\"]}") ","
      OTHER("r0", TGT("vm1"), "false") "]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      SNAPF "|FieldValueInvalid|VirtualMachineSnapshot \"s1\" is not ready "
            "to use\n" SNAPF "|FieldValueInvalid|VirtualMachineSnapshot \"s1\" "
            "was taken while the VM was running; only an offline snapshot "
            "can be restored\n"
            "spec.target|FieldValueInvalid|VirtualMachine \"vm1\" is not "
            "stopped" STOPPED_HINT "\n"
            "spec.volumeRestorePolicy|FieldValueInvalid|volume restore "
            "policy \"Nope\" doesn't exist\n"
            "spec.target|FieldValueInvalid|VirtualMachineRestore \"r0\" in "
            "progress: wait for it to complete, or delete it if it failed",
      NULL, NULL}},
    {"no cluster state: skipped with a warning",
     {RES, "CREATE", OK_RESTORE(""), NULL, NULL, NULL, NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, "were skipped"}},
    {"UPDATE: spec immutable",
     {RES, "UPDATE", RESTORE(TGT("vm2"), ",\"virtualMachineSnapshotName\":"
                                         "\"s1\""),
      OK_RESTORE(""), NULL, NULL, NULL, WH_EP_VALIDATE},
     {0, 422, "spec|FieldValueInvalid|spec is immutable after creation",
      NULL, NULL}},
    {"UPDATE: absent and empty patches are equal",
     {RES, "UPDATE", OK_RESTORE(",\"patches\":[]"), OK_RESTORE(""), NULL,
      NULL, NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"DELETE: allowed",
     {RES, "DELETE", NULL, OK_RESTORE(""), NULL, "[]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
};

Test(webhook_vmrestore, rules)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        th_check(rows[i].name, &rows[i].c, &rows[i].e);
}
