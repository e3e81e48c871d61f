#!/usr/bin/env bash
# The restore controller end to end, following the documentation with kubectl against
# tools/kube-sim (which plays the CSI snapshotter, the PVC binder and virt-api's VM stop and
# start), with `vmsnapd serve --controllers all` as both the admission webhook and the
# controllers: stop the VM, snapshot it, create the documentation's VirtualMachineRestore, wait for
# Ready and read it back; a copy into a new VM with spec.patches; a restore whose claim never
# binds, then deleted; a restore deleted mid-way; and, under a policy that lets a restore meet a
# running target, targetReadinessPolicy StopTarget, FailImmediate and WaitGracePeriod (with a short
# --restore-grace-period). Every wait is for a state, with a generous limit.
#
#   restores.sh VMSNAPD     prints one line per check and "N passed, N failed"; exits 1 on a failure
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/e2e/lib.inc"
e2e_start restores "${1:-}"

# --- kube-sim, the CRDs, the webhooks, the daemon ----------------------------------------------
start_kube_sim
serve d1
webhook_to "$port_d1"
until_ok 30 "d1 leads" leads d1
# the flags reach the controllers (a failing key's backoff stays short in these tests)
expect_has "the controllers run with the flags' timers" "$(grep -m1 '"controllers ready"' "$T/d1.err")" \
  '"retryIntervalMs":300,"restoreGracePeriodMs":300000,"backoffMaxMs":5000'
snapclass

# restore NAME TARGET SNAPSHOT [EXTRA YAML LINES]: the documentation's VirtualMachineRestore
restore() {
  { cat <<EOF
apiVersion: snapshot.kubevirt.io/v1beta1
kind: VirtualMachineRestore
metadata:
  name: $1
spec:
  target:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: $2
  virtualMachineSnapshotName: $3
EOF
    [ $# -gt 3 ] && printf '%s\n' "$4"; } >"$T/$1.yaml"
  k create -f "$T/$1.yaml" 2>>"$T/kubectl.err"
}
ruid() { jp vmrestore "$1" '{.metadata.uid}'; }
# snapshot_of VM SNAP: the VM's snapshot, Ready
snapshot_of() {
  snap "$2" "$1"
  wait_ready "$2" || die "snapshot $2 of $1 not Ready"
}
start_vm() { ksim -X PUT -d '{}' "$api/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/$1/start"; }
# run_vm VM: started, with a running VMI (virt-controller's and virt-handler's part)
run_vm() {
  start_vm "$1" >/dev/null || die "cannot start $1"
  printf 'apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: %s\n' "$1" |
    k apply -f - >/dev/null
}
binder() { ksim -X POST -d "{\"pvc-binder\": $1}" "$api/kube-sim/controllers" >/dev/null; }
ready_reason() { jp vmrestore "$1" '{.status.conditions[?(@.type=="Ready")].reason}'; }
# waited CHECK NAME: `kubectl wait` for restore NAME's Ready condition (a state, 30 s at most), as
# check CHECK; its output is the failure's detail
waited() {
  if k wait vmrestore "$2" --for condition=Ready --timeout=30s >"$T/wait.out" 2>&1; then ok "$1"
  else ko "$1" "$(cat "$T/wait.out")"; fi
}

# --- the documentation's restore into the same, stopped VM --------------------------------------
echo "-- restore a VM from a snapshot (the documentation's steps)"
vm r-vm
expect_eq "the VM is stopped" "$(jp vm r-vm '{.spec.runStrategy}')" "Halted"
snapshot_of r-vm r-snap
su=$(uid r-snap)
if out=$(restore my-vmrestore r-vm r-snap); then ok "kubectl create -f my-vmrestore.yaml"; else
  ko "kubectl create -f my-vmrestore.yaml" "$(tail -3 "$T/kubectl.err")"; fi
waited "kubectl wait vmrestore my-vmrestore --for condition=Ready" my-vmrestore
ru=$(ruid my-vmrestore)
vu=$(jp vm r-vm '{.metadata.uid}')
claim="restore-$ru-disk0"
k get vmrestore my-vmrestore -o yaml >"$T/my-vmrestore.out"
y=$(cat "$T/my-vmrestore.out")
expect_has "-o yaml: complete: true" "$y" "  complete: true"
expect_has "-o yaml: restoreTime" "$y" "  restoreTime: \""
expect_eq "-o yaml: conditions as the documentation shows them" \
  "$(jp vmrestore my-vmrestore '{range .status.conditions[*]}{.type}={.status} {.reason};{end}')" \
  "Progressing=False Operation complete;Ready=True Operation complete;"
expect_eq "-o yaml: restores" \
  "$(jp vmrestore my-vmrestore '{.status.restores[0].volumeName} {.status.restores[0].persistentVolumeClaim} {.status.restores[0].volumeSnapshotName}')" \
  "disk0 $claim vmsnapshot-$su-volume-disk0"
expect_eq "-o yaml: owned by the VM" \
  "$(jp vmrestore my-vmrestore '{.metadata.ownerReferences[0].apiVersion} {.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}')" \
  "kubevirt.io/v1 VirtualMachine r-vm $vu true true"
expect_eq "-o yaml: finalizer" "$(jp vmrestore my-vmrestore '{.metadata.finalizers}')" \
  '["snapshot.kubevirt.io/vmrestore-protection"]'
expect_eq "the VM's volume points at the restored claim" \
  "$(jp vm r-vm '{.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}')" "$claim"
expect_eq "the VM is still stopped, marked, and released" \
  "$(jp vm r-vm '{.spec.runStrategy} {.metadata.annotations.restore\.kubevirt\.io/lastRestoreUID} [{.status.restoreInProgress}]')" \
  "Halted my-vmrestore-$ru []"
expect_eq "the claim is Bound, restored from the VolumeSnapshot" \
  "$(jp pvc "$claim" '{.status.phase} {.spec.dataSource.kind} {.spec.dataSource.name} {.spec.dataSourceRef.name}')" \
  "Bound VolumeSnapshot vmsnapshot-$su-volume-disk0 vmsnapshot-$su-volume-disk0"
expect_eq "the claim says which restore made it" \
  "$(jp pvc "$claim" '{.metadata.annotations.restore\.kubevirt\.io/name} {.metadata.labels.restore\.kubevirt\.io/source-vm-name} {.metadata.ownerReferences[0].name}')" \
  "my-vmrestore r-vm r-vm"
expect_eq "the original claim is left alone" "$(jp pvc r-vm-disk '{.status.phase}')" "Bound"
d=$(k describe vmrestore my-vmrestore)
expect_has "describe: the completion event" "$d" \
  "Successfully completed VirtualMachineRestore my-vmrestore"

# --- the documentation's example: a DataVolume disk ----------------------------------------------
echo "-- the documentation's example: a VM whose disk is a DataVolume template (test-dv1)"
cat <<'EOF' | k apply -f - >/dev/null
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: {name: dv-vm}
spec:
  runStrategy: Halted
  dataVolumeTemplates:
  - metadata: {name: test-dv1}
    spec:
      source: {blank: {}}
      storage: {resources: {requests: {storage: 1Gi}}}
  template:
    spec:
      domain: {devices: {disks: [{name: datavolumedisk1, disk: {bus: virtio}}]}}
      volumes:
      - name: datavolumedisk1
        dataVolume: {name: test-dv1}
---
apiVersion: cdi.kubevirt.io/v1beta1
kind: DataVolume
metadata: {name: test-dv1}
spec:
  source: {blank: {}}
  storage: {resources: {requests: {storage: 1Gi}}}
EOF
until_ok 30 "test-dv1 Succeeded (CDI's part)" is dv test-dv1 '{.status.phase}' Succeeded
snapshot_of dv-vm dv-snap
dsu=$(uid dv-snap)
restore dv-restore dv-vm dv-snap >/dev/null || ko "create dv-restore" "$(tail -3 "$T/kubectl.err")"
waited "DataVolume: kubectl wait --for condition=Ready" dv-restore
du=$(ruid dv-restore)
expect_eq "DataVolume: restores and deletedDataVolumes as in the documentation" \
  "$(jp vmrestore dv-restore '{.status.restores[0].dataVolumeName} {.status.restores[0].persistentVolumeClaim} {.status.restores[0].volumeName} {.status.restores[0].volumeSnapshotName} {.status.deletedDataVolumes}')" \
  "restore-$du-datavolumedisk1 restore-$du-datavolumedisk1 datavolumedisk1 vmsnapshot-$dsu-volume-datavolumedisk1 [\"test-dv1\"]"
expect_eq "DataVolume: the VM's template and volume are the restored DataVolume" \
  "$(jp vm dv-vm '{.spec.dataVolumeTemplates[0].metadata.name} {.spec.template.spec.volumes[0].dataVolume.name}')" \
  "restore-$du-datavolumedisk1 restore-$du-datavolumedisk1"
expect_eq "DataVolume: it adopted the restored claim, pre-populated" \
  "$(jp dv "restore-$du-datavolumedisk1" '{.status.phase} {.metadata.annotations.cdi\.kubevirt\.io/storage\.prePopulated}') $(jp pvc "restore-$du-datavolumedisk1" '{.metadata.ownerReferences[0].kind} {.spec.dataSource.kind}')" \
  "Succeeded true DataVolume VolumeSnapshot"
until_ok 30 "DataVolume: the old test-dv1 is deleted" gone dv test-dv1

# --- a copy into a new VM, with patches -----------------------------------------------------------
echo "-- create a copy of a VM from a snapshot (spec.patches: a new MAC address)"
VM_MAC=02:00:00:00:00:01 VM_APP=web vm r-src
snapshot_of r-src r-src-snap
if restore r-copy r-copy r-src-snap '  patches:
  - "{\"op\": \"replace\", \"path\": \"/spec/template/spec/domain/devices/interfaces/0/macAddress\", \"value\": \"02:00:00:00:00:02\"}"
  - "{\"op\": \"add\", \"path\": \"/metadata/labels/copy\", \"value\": \"yes\"}"' >/dev/null; then
  ok "kubectl create the copy's restore"
else ko "kubectl create the copy's restore" "$(tail -3 "$T/kubectl.err")"; fi
waited "copy: kubectl wait --for condition=Ready" r-copy
cu=$(ruid r-copy)
expect_eq "copy: a new stopped VM with the new MAC address and label" \
  "$(jp vm r-copy '{.spec.runStrategy} {.spec.template.spec.domain.devices.interfaces[0].macAddress} {.metadata.labels.app} {.metadata.labels.copy}')" \
  "Halted 02:00:00:00:00:02 web yes"
expect_eq "copy: its volume is the restored claim, Bound" \
  "$(jp vm r-copy '{.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}') $(jp pvc "restore-$cu-disk0" '{.status.phase}')" \
  "restore-$cu-disk0 Bound"
expect_eq "copy: the restore is owned by the new VM" \
  "$(jp vmrestore r-copy '{.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid}')" \
  "r-copy $(jp vm r-copy '{.metadata.uid}')"
expect_eq "copy: the source VM is untouched" \
  "$(jp vm r-src '{.spec.template.spec.domain.devices.interfaces[0].macAddress} {.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}')" \
  "02:00:00:00:00:01 r-src-disk"

# --- volumeRestorePolicy InPlace: the claim keeps its name --------------------------------------
echo "-- volumeRestorePolicy: InPlace"
vm r-in
snapshot_of r-in r-in-snap
old_uid=$(jp pvc r-in-disk '{.metadata.uid}')
restore r-inplace r-in r-in-snap '  volumeRestorePolicy: InPlace' >/dev/null ||
  ko "create r-inplace" "$(tail -3 "$T/kubectl.err")"
until_ok 30 "InPlace: complete" is vmrestore r-inplace '{.status.complete}' true
iu=$(ruid r-inplace)
expect_eq "InPlace: the VM keeps its claim name, now a new claim from the snapshot" \
  "$(jp vm r-in '{.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}') $(jp pvc r-in-disk '{.status.phase} {.spec.dataSource.kind} {.metadata.annotations.restore\.kubevirt\.io/lastRestoreUID}') $([ "$(jp pvc r-in-disk '{.metadata.uid}')" != "$old_uid" ] && echo new)" \
  "r-in-disk Bound VolumeSnapshot r-inplace-$iu new"

# --- a re-check at reconcile time: the target started after admission ---------------------------
echo "-- the target started behind the restore's back: the condition says what to do"
vm r-re
snapshot_of r-re r-re-snap
binder false
restore r-recheck r-re r-re-snap >/dev/null || ko "create r-recheck" "$(tail -3 "$T/kubectl.err")"
until_ok 30 "re-check: waiting for its claim" is vmrestore r-recheck \
  '{.status.conditions[?(@.type=="Ready")].reason}' "Waiting for new PVCs"
# not through virt-api (which refuses while the restore holds the VM): the spec edited directly
k patch vm r-re --type merge -p '{"spec": {"runStrategy": "Always"}}' >/dev/null
until_ok 30 "re-check: the running target is an error that says what to do" is vmrestore r-recheck \
  '{.status.conditions[?(@.type=="Ready")].reason}' \
  'VirtualMachine "r-re" run strategy has to be Halted: stop it first (virtctl stop r-re)'
ksim -X PUT -d '{}' "$api/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/r-re/stop" >/dev/null
binder true
until_ok 30 "re-check: stopped again, the restore completes" is vmrestore r-recheck '{.status.complete}' true

# --- a claim that never binds, then the restore deleted -------------------------------------------
echo "-- a restore whose claim never binds (no provisioner), then deleted"
vm r-pend
snapshot_of r-pend r-pend-snap
binder false
restore r-pending r-pend r-pend-snap >/dev/null || ko "create r-pending" "$(tail -3 "$T/kubectl.err")"
pu=$(ruid r-pending)
until_ok 30 "never binds: Ready says it waits for the new PVCs" is vmrestore r-pending \
  '{.status.conditions[?(@.type=="Ready")].reason}' "Waiting for new PVCs"
expect_has "never binds: the condition names the claim and what to check" \
  "$(jp vmrestore r-pending '{.status.conditions[?(@.type=="Ready")].message}')" \
  "PVC default/restore-$pu-disk0 is not Bound yet: waiting for it (check its StorageClass and provisioner)"
expect_eq "never binds: the VM is held by the restore, its volume unchanged" \
  "$(jp vm r-pend '{.status.restoreInProgress} {.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}')" \
  "r-pending r-pend-disk"
if start_vm r-pend >"$T/start.out" 2>&1; then ko "never binds: starting the VM is refused" "$(cat "$T/start.out")"
else expect_has "never binds: starting the VM is refused" "$(cat "$T/start.out")" \
  'Cannot start VM until restore \"r-pending\" completes'; fi
if k delete vmrestore r-pending --timeout=30s >/dev/null 2>&1; then ok "never binds: kubectl delete returns"
else ko "never binds: kubectl delete returns"; fi
until_ok 30 "never binds: the claim it made is gone" gone pvc "restore-$pu-disk0"
expect_eq "never binds: the user's claim stays, the VM is released and unchanged" \
  "$(jp pvc r-pend-disk '{.metadata.name}') [$(jp vm r-pend '{.status.restoreInProgress}')] $(jp vm r-pend '{.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}')" \
  "r-pend-disk [] r-pend-disk"
binder true

# --- deleted mid-way -----------------------------------------------------------------------------
echo "-- a restore deleted mid-way"
ksim -X POST -d '{"bindDelay": 3}' "$api/kube-sim/pvc-binder" >/dev/null
restore r-mid r-pend r-pend-snap >/dev/null || ko "create r-mid" "$(tail -3 "$T/kubectl.err")"
mu=$(ruid r-mid)
until_ok 30 "mid-way: its claim exists" is pvc "restore-$mu-disk0" '{.metadata.annotations.restore\.kubevirt\.io/name}' r-mid
k delete vmrestore r-mid --wait=false >/dev/null
until_ok 30 "mid-way: the restore is gone" gone vmrestore r-mid
until_ok 30 "mid-way: its claim is gone" gone pvc "restore-$mu-disk0"
expect_eq "mid-way: the VM keeps its spec and is released" \
  "$(jp vm r-pend '{.spec.template.spec.volumes[0].persistentVolumeClaim.claimName} [{.status.restoreInProgress}] [{.metadata.annotations.restore\.kubevirt\.io/lastRestoreUID}]')" \
  "r-pend-disk [] []"
ksim -X POST -d '{"bindDelay": 0.1}' "$api/kube-sim/pvc-binder" >/dev/null
restore r-after r-pend r-pend-snap >/dev/null
until_ok 30 "mid-way: a new restore of the same VM completes" is vmrestore r-after '{.status.complete}' true

# --- a running target, under a policy that allows it ---------------------------------------------
echo "-- targetReadinessPolicy, when the policy lets a restore meet a running VM"
stop_pids "$pid_d1"
printf 'restore:\n  requireStoppedTarget: false\n' >"$T/policy.yaml"
serve d2 --policy "$T/policy.yaml" --restore-grace-period 2s
webhook_to "$port_d2"
until_ok 30 "d2 leads with the relaxed policy" leads d2
for v in r-stop r-fail r-grace; do
  vm "$v"
  snapshot_of "$v" "$v-snap"
  run_vm "$v"
done
restore r-stop r-stop r-stop-snap '  targetReadinessPolicy: StopTarget' >/dev/null ||
  ko "create r-stop" "$(tail -3 "$T/kubectl.err")"
until_ok 30 "StopTarget: the VM is stopped and the restore completes" is vmrestore r-stop '{.status.complete}' true
expect_eq "StopTarget: runStrategy Halted, no VMI" \
  "$(jp vm r-stop '{.spec.runStrategy}') $(gone vmi r-stop && echo gone)" "Halted gone"
restore r-fail r-fail r-fail-snap '  targetReadinessPolicy: FailImmediate' >/dev/null ||
  ko "create r-fail" "$(tail -3 "$T/kubectl.err")"
until_ok 30 "FailImmediate: Failure" is vmrestore r-fail '{.status.conditions[?(@.type=="Failure")].status}' True
expect_eq "FailImmediate: the reason says what to do" "$(ready_reason r-fail)" \
  "Restore target VMI must be powered off before restore operation"
expect_eq "FailImmediate: the VM is untouched and not held" \
  "$(jp vm r-fail '{.spec.runStrategy} [{.status.restoreInProgress}]')" "Always []"
restore r-grace r-grace r-grace-snap >/dev/null || ko "create r-grace" "$(tail -3 "$T/kubectl.err")"
until_ok 30 "WaitGracePeriod: waiting, says what to do" is vmrestore r-grace \
  '{.status.conditions[?(@.type=="Ready")].reason}' \
  "Waiting for target VM to be powered off. Please stop the restore target to proceed with restore, or the operation will fail after 2s"
until_ok 30 "WaitGracePeriod: fails once the grace is over, with no event needed" is vmrestore r-grace \
  '{.status.conditions[?(@.type=="Failure")].status}' True
expect_eq "WaitGracePeriod: the failure's reason" "$(ready_reason r-grace)" \
  "Restore target failed to be ready within 2s. Please power off the target VM before attempting restore"

e2e_finish "$pid_d2" d2
