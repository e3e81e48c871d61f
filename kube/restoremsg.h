/* kube/restoremsg.h - what both halves say when a restore cannot go on:
 * the webhook when it refuses a VirtualMachineRestore, the reconciler
 * when a re-check fails at reconcile time. One wording, written once, so a
 * runbook that matches the admission message also matches the condition.
 * The macros are printf formats; their arguments are listed with each.
 * Also the tests of a snapshot both halves make. */
#ifndef VMSNAPD_KUBE_RESTOREMSG_H
#define VMSNAPD_KUBE_RESTOREMSG_H

#include <jansson.h>

/* snapshot name */
#define KUBE_MSG_SNAPSHOT_MISSING "VirtualMachineSnapshot \"%s\" does not exist"
/* snapshot name */
#define KUBE_MSG_SNAPSHOT_FAILED                                               \
    "VirtualMachineSnapshot \"%s\" has failed and is invalid to use"
/* snapshot name */
#define KUBE_MSG_SNAPSHOT_NOT_READY                                            \
    "VirtualMachineSnapshot \"%s\" is not ready to use"
/* snapshot name */
#define KUBE_MSG_SNAPSHOT_ONLINE                                               \
    "VirtualMachineSnapshot \"%s\" was taken while the VM was running; only "  \
    "an offline snapshot can be restored"
/* VM name, VM name */
#define KUBE_MSG_TARGET_NOT_STOPPED                                            \
    "VirtualMachine \"%s\" is not stopped: stop it first (virtctl stop %s)"
/* VM name, VM name */
#define KUBE_MSG_TARGET_NOT_HALTED                                             \
    "VirtualMachine \"%s\" run strategy has to be Halted: stop it first "      \
    "(virtctl stop %s)"
/* VM name */
#define KUBE_MSG_TARGET_RUNNING_AND_STRATEGY                                   \
    "VirtualMachine \"%s\": running and runstrategy are mutually exclusive"
/* no arguments */
#define KUBE_MSG_TARGET_DIFFERENT                                              \
    "when snapshot source and restore target VMs are different - target VM "   \
    "must not exist"

/* 1 when the snapshot (borrowed) was taken online: its status.indications
 * (strings) or status.sourceIndications ({indication: ...}) hold Online.
 * Cannot fail. */
int kube_snapshot_online(const json_t *snap);

/* 1 when the VM (borrowed; a VM or the copy a snapshot keeps) needs
 * backend storage: a persistent TPM or persistent EFI variables, kept in
 * a PVC KubeVirt labels persistent-state-for=<vm>. Cannot fail. */
int kube_vm_needs_backend_storage(const json_t *vm);

#endif
