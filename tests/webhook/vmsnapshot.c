/* tests/webhook/vmsnapshot.c - every VirtualMachineSnapshot rule. */
#include <criterion/criterion.h>

#include "tests/webhook/harness.h"

#define RES "virtualmachinesnapshots"
#define SNAP(spec)                                                             \
    "{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\","                        \
    "\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{\"name\":\"s1\","     \
    "\"namespace\":\"default\"},\"spec\":" spec "}"
#define SRC(extra)                                                             \
    SNAP("{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":"                 \
         "\"VirtualMachine\",\"name\":\"vm1\"}" extra "}")
#define VM(name, uid)                                                          \
    "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\","          \
    "\"metadata\":{\"name\":\"" name "\",\"namespace\":\"default\","         \
    "\"uid\":\"" uid "\"},\"spec\":{\"running\":false}}"
#define VMI(name, conds)                                                       \
    "{\"kind\":\"VirtualMachineInstance\",\"metadata\":{\"name\":\"" name     \
    "\",\"namespace\":\"default\"},\"status\":{\"conditions\":" conds "}}"
#define OTHER_SNAP(name, vm)                                                   \
    "{\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{\"name\":\"" name     \
    "\",\"namespace\":\"default\"},\"spec\":{\"source\":{\"name\":\"" vm     \
    "\"}}}"
#define RESTORE(name, snap, complete)                                          \
    "{\"kind\":\"VirtualMachineRestore\",\"metadata\":{\"name\":\"" name      \
    "\",\"namespace\":\"default\"},\"spec\":{\"virtualMachineSnapshotName\":" \
    "\"" snap "\"},\"status\":{\"complete\":" complete "}}"

static const struct {
    const char *name;
    struct th_case c;
    struct th_expect e;
} create_rows[] = {
    {"documented example is allowed",
     {RES, "CREATE", SRC(""), NULL, NULL, "[" VM("vm1", "u1") "]", NULL,
      WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"missing apiGroup is the only cause",
     {RES, "CREATE", SNAP("{\"source\":{\"kind\":\"Pod\",\"name\":\"\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.source.apiGroup|FieldValueNotFound|missing apiGroup",
      "spec.source.apiGroup: missing apiGroup", NULL}},
    {"null apiGroup counts as missing",
     {RES, "CREATE",
      SNAP("{\"source\":{\"apiGroup\":null,\"kind\":\"VirtualMachine\","
           "\"name\":\"vm1\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.source.apiGroup|FieldValueNotFound|missing apiGroup",
      NULL, NULL}},
    {"invalid apiGroup",
     {RES, "CREATE",
      SNAP("{\"source\":{\"apiGroup\":\"kubevirt.io/v1\",\"kind\":"
           "\"VirtualMachine\",\"name\":\"vm1\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.source.apiGroup|FieldValueInvalid|invalid apiGroup", NULL,
      NULL}},
    {"apiGroup is case-sensitive",
     {RES, "CREATE",
      SNAP("{\"source\":{\"apiGroup\":\"KubeVirt.io\",\"kind\":"
           "\"VirtualMachine\",\"name\":\"vm1\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.source.apiGroup|FieldValueInvalid|invalid apiGroup", NULL,
      NULL}},
    {"invalid kind (the fixture's bad-kind.yaml)",
     {RES, "CREATE",
      SNAP("{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":\"Pod\","
           "\"name\":\"my-vm\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.source.kind|FieldValueInvalid|invalid kind",
      "spec.source.kind: invalid kind", NULL}},
    {"invalid group, kind and empty name all collected",
     {RES, "CREATE",
      SNAP("{\"source\":{\"apiGroup\":\"x.io\",\"kind\":\"Pod\","
           "\"name\":\"\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.source.apiGroup|FieldValueInvalid|invalid apiGroup\n"
      "spec.source.kind|FieldValueInvalid|invalid kind\n"
      "spec.source.name|FieldValueRequired|Required value",
      "spec.source.apiGroup: invalid apiGroup, spec.source.kind: invalid "
      "kind, spec.source.name: Required value",
      NULL}},
    {"missing name is required",
     {RES, "CREATE",
      SNAP("{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":"
           "\"VirtualMachine\"}}"),
      NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {0, 422, "spec.source.name|FieldValueRequired|Required value", NULL,
      NULL}},
    {"a Go duration is fine",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"1h2m3.5s\""), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"bare seconds as a string",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"300\""), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"bare seconds as a JSON number",
     {RES, "CREATE", SRC(",\"failureDeadline\":300"), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"a tiny number passes mutation and validation",
     {RES, "CREATE", SRC(",\"failureDeadline\":0.00001"), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_ALL},
     {1, 0, "", NULL, NULL}},
    {"a number under a nanosecond is no silent 0",
     {RES, "CREATE", SRC(",\"failureDeadline\":1e-12"), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_ALL},
     {0, 422, NULL,
      "spec.failureDeadline: Invalid value: 1e-12: must be 0 or at least 1ns "
      "(0.000000001 seconds)",
      NULL}},
    {"days are not a unit",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"1d\""), NULL, NULL, "[]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.failureDeadline|FieldValueInvalid|Invalid value: \"1d\": time: "
      "unknown unit \"d\" in duration \"1d\"; use a duration such as "
      "\"90s\", \"5m\" or \"1h30m\" (units ns, us, ms, s, m, h) or a number "
      "of seconds",
      NULL, NULL}},
    {"words are not a unit",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"5 minutes\""), NULL, NULL,
      "[]", NULL, WH_EP_VALIDATE},
     {0, 422, NULL, "unknown unit \" minutes\" in duration \"5 minutes\"",
      NULL}},
    {"empty deadline",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"\""), NULL, NULL, "[]",
      NULL, WH_EP_VALIDATE},
     {0, 422, NULL, "time: invalid duration \"\"", NULL}},
    {"negative duration",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"-5m\""), NULL, NULL, "[]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.failureDeadline|FieldValueInvalid|Invalid value: \"-5m\": must "
      "not be negative",
      NULL, NULL}},
    {"negative number",
     {RES, "CREATE", SRC(",\"failureDeadline\":-1"), NULL, NULL, "[]", NULL,
      WH_EP_VALIDATE},
     {0, 422,
      "spec.failureDeadline|FieldValueInvalid|Invalid value: -1: must not be "
      "negative",
      NULL, NULL}},
    {"over the policy maximum",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"2h\""), NULL, NULL, "[]",
      "snapshot:\n  maxFailureDeadline: 1h\n", WH_EP_VALIDATE},
     {0, 422,
      "spec.failureDeadline|FieldValueInvalid|Invalid value: \"2h\": must be "
      "at most 1h0m0s (policy snapshot.maxFailureDeadline)",
      NULL, NULL}},
    {"at the policy maximum",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"60m\""), NULL, NULL,
      "[" VM("vm1", "u1") "]", "snapshot:\n  maxFailureDeadline: 1h\n",
      WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"zero means no deadline, with a warning",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"0\""), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, "spec.failureDeadline is 0: the snapshot has no "
                      "deadline"}},
    {"zero refused by policy",
     {RES, "CREATE", SRC(",\"failureDeadline\":\"0s\""), NULL, NULL, "[]",
      "snapshot:\n  allowNoDeadline: false\n", WH_EP_VALIDATE},
     {0, 422, NULL, "policy snapshot.allowNoDeadline forbids", NULL}},
    {"deletionPolicy Retain",
     {RES, "CREATE", SRC(",\"deletionPolicy\":\"Retain\""), NULL, NULL,
      "[" VM("vm1", "u1") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"deletionPolicy Keep is not supported",
     {RES, "CREATE", SRC(",\"deletionPolicy\":\"Keep\""), NULL, NULL, "[]",
      NULL, WH_EP_VALIDATE},
     {0, 422,
      "spec.deletionPolicy|FieldValueNotSupported|Unsupported value: "
      "\"Keep\": supported values: \"Delete\", \"Retain\"",
      NULL, NULL}},
    {"maxPerVM reached",
     {RES, "CREATE", SRC(""), NULL, NULL,
      "[" VM("vm1", "u1") "," OTHER_SNAP("a", "vm1") "," OTHER_SNAP(
          "b", "vm1") "," OTHER_SNAP("c", "vm2") "]",
      "snapshot:\n  maxPerVM: 2\n", WH_EP_VALIDATE},
     {0, 422,
      "spec.source.name|FieldValueForbidden|VirtualMachine \"vm1\" already "
      "has 2 snapshots, the limit of policy snapshot.maxPerVM: delete an old "
      "snapshot first",
      NULL, NULL}},
    {"maxPerVM not reached",
     {RES, "CREATE", SRC(""), NULL, NULL,
      "[" VM("vm1", "u1") "," OTHER_SNAP("a", "vm1") "]",
      "snapshot:\n  maxPerVM: 2\n", WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"missing VM is a warning",
     {RES, "CREATE", SRC(""), NULL, NULL, "[]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL,
      "VirtualMachine \"vm1\" does not exist yet: the snapshot waits for it "
      "until its failureDeadline"}},
    {"running VM without agent is a warning",
     {RES, "CREATE", SRC(""), NULL, NULL,
      "[" VM("vm1", "u1") "," VMI("vm1", "[]") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL,
      "VirtualMachine \"vm1\" is running without a guest agent: the "
      "snapshot will be crash-consistent"}},
    {"running VM with agent: no warning",
     {RES, "CREATE", SRC(""), NULL, NULL,
      "[" VM("vm1", "u1") "," VMI(
          "vm1", "[{\"type\":\"AgentConnected\",\"status\":\"True\"}]") "]",
      NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"policy requires the agent",
     {RES, "CREATE", SRC(""), NULL, NULL,
      "[" VM("vm1", "u1") "," VMI("vm1", "[]") "]",
      "snapshot:\n  requireGuestAgentForOnline: true\n", WH_EP_VALIDATE},
     {0, 422, NULL,
      "spec.source.name: VirtualMachine \"vm1\" is running without a guest "
      "agent; policy snapshot.requireGuestAgentForOnline requires one",
      NULL}},
    {"no cluster state: skipped with a warning",
     {RES, "CREATE", SRC(""), NULL, NULL, NULL,
      "snapshot:\n  maxPerVM: 1\n", WH_EP_VALIDATE},
     {1, 0, "", NULL, "rules that read VMs, snapshots and restores were "
                      "skipped"}},
    {"exempt namespace is allowed untouched",
     {RES, "CREATE", SNAP("{\"source\":{}}"), NULL, NULL, "[]",
      "exemptNamespaces: [default]\n", WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
};

Test(webhook_vmsnapshot, create_rules)
{
    for (size_t i = 0; i < sizeof(create_rows) / sizeof(create_rows[0]); i++)
        th_check(create_rows[i].name, &create_rows[i].c, &create_rows[i].e);
}

static const struct {
    const char *name;
    struct th_case c;
    struct th_expect e;
} update_rows[] = {
    {"label change only",
     {RES, "UPDATE",
      "{\"metadata\":{\"name\":\"s1\",\"labels\":{\"a\":\"b\"}},\"spec\":"
      "{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":\"VirtualMachine\","
      "\"name\":\"vm1\"}}}",
      SRC(""), NULL, NULL, NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"status change only",
     {RES, "UPDATE", SRC(",\"failureDeadline\":\"5m\""),
      SRC(",\"failureDeadline\":\"5m\""), NULL, NULL, NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"duration by value: 5m equals 300s",
     {RES, "UPDATE", SRC(",\"failureDeadline\":\"300s\""),
      SRC(",\"failureDeadline\":\"5m\""), NULL, NULL, NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"source name changed",
     {RES, "UPDATE",
      SNAP("{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":"
           "\"VirtualMachine\",\"name\":\"vm2\"}}"),
      SRC(""), NULL, NULL, NULL, WH_EP_VALIDATE},
     {0, 422, "spec|FieldValueInvalid|spec is immutable after creation",
      "spec: spec is immutable after creation", NULL}},
    {"deadline added is a change",
     {RES, "UPDATE", SRC(",\"failureDeadline\":\"5m\""), SRC(""), NULL, NULL,
      NULL, WH_EP_VALIDATE},
     {0, 422, "spec|FieldValueInvalid|spec is immutable after creation", NULL,
      NULL}},
    {"deletionPolicy added is a change",
     {RES, "UPDATE", SRC(",\"deletionPolicy\":\"Retain\""), SRC(""), NULL,
      NULL, NULL, WH_EP_VALIDATE},
     {0, 422, "spec|FieldValueInvalid|spec is immutable after creation", NULL,
      NULL}},
    {"deadline 5m to 6m",
     {RES, "UPDATE", SRC(",\"failureDeadline\":\"6m\""),
      SRC(",\"failureDeadline\":\"5m\""), NULL, NULL, NULL, WH_EP_VALIDATE},
     {0, 422, "spec|FieldValueInvalid|spec is immutable after creation", NULL,
      NULL}},
};

Test(webhook_vmsnapshot, update_rules)
{
    for (size_t i = 0; i < sizeof(update_rows) / sizeof(update_rows[0]); i++)
        th_check(update_rows[i].name, &update_rows[i].c, &update_rows[i].e);
}

static const struct {
    const char *name;
    struct th_case c;
    struct th_expect e;
} delete_rows[] = {
    {"no restore: allowed",
     {RES, "DELETE", NULL, SRC(""), NULL, "[]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, ""}},
    {"incomplete restore blocks",
     {RES, "DELETE", NULL, SRC(""), NULL,
      "[" RESTORE("r1", "s1", "false") "]", NULL, WH_EP_VALIDATE},
     {0, 403, "",
      "VirtualMachineRestore \"r1\" is restoring from this snapshot", NULL}},
    {"complete restore does not block",
     {RES, "DELETE", NULL, SRC(""), NULL,
      "[" RESTORE("r1", "s1", "true") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"restore of another snapshot does not block",
     {RES, "DELETE", NULL, SRC(""), NULL,
      "[" RESTORE("r1", "s2", "false") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"namespace controller is never blocked",
     {RES, "DELETE", NULL, SRC(""),
      "system:serviceaccount:kube-system:namespace-controller",
      "[" RESTORE("r1", "s1", "false") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"garbage collector is never blocked",
     {RES, "DELETE", NULL, SRC(""),
      "system:serviceaccount:kube-system:generic-garbage-collector",
      "[" RESTORE("r1", "s1", "false") "]", NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"terminating namespace is never blocked",
     {RES, "DELETE", NULL, SRC(""), NULL,
      "[" RESTORE("r1", "s1", "false") ",{\"kind\":\"Namespace\",\"metadata\":"
      "{\"name\":\"default\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}"
      "]",
      NULL, WH_EP_VALIDATE},
     {1, 0, "", NULL, NULL}},
    {"mutating endpoint never patches a DELETE",
     {RES, "DELETE", NULL, SRC(""), NULL, "[]", NULL, WH_EP_MUTATE},
     {1, 0, "", NULL, ""}},
};

Test(webhook_vmsnapshot, delete_rules)
{
    for (size_t i = 0; i < sizeof(delete_rows) / sizeof(delete_rows[0]); i++)
        th_check(delete_rows[i].name, &delete_rows[i].c, &delete_rows[i].e);
}
