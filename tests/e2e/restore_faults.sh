#!/usr/bin/env bash
# The restore controller under faults, end to end: kubectl against tools/kube-sim with `vmsnapd
# serve --controllers all`. The daemon is SIGKILLed while kube-sim holds each of the restore's
# writes in turn and started again; every restore must reach the same end state (complete once,
# one claim, the VM pointing at it, the VM released). Then a snapshot's deletion is refused while
# a restore reads it and allowed once the restore is complete. The harness is tests/e2e/lib.inc,
# shared with snapshots.sh.
#
#   restore_faults.sh VMSNAPD   prints one line per check and "N passed, N failed"; exits 1 on a failure
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/e2e/lib.inc"
e2e_start restore_faults "${1:-}"
start_kube_sim
snapclass
start_leader d1

RES=/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores
VMS=/apis/kubevirt.io/v1/namespaces/default/virtualmachines
# restore NAME VM [SNAPSHOT]: into VM (which may not exist yet), from SNAPSHOT (s-r)
restore() {
  cat <<EOF | k create -f - >/dev/null 2>>"$T/kubectl.err"
apiVersion: snapshot.kubevirt.io/v1beta1
kind: VirtualMachineRestore
metadata:
  name: $1
spec:
  target: {apiGroup: kubevirt.io, kind: VirtualMachine, name: $2}
  virtualMachineSnapshotName: ${3:-s-r}
EOF
}
ruid() { jp vmrestore "$1" '{.metadata.uid}'; }
complete() { is vmrestore "$1" '{.status.complete}' true; }
pvcs() { k get pvc -o name | wc -l; }
# restored NAME VM BEFORE: the end state of restore NAME into VM (BEFORE: the PVCs before it)
restored() {
  local name=$1 vm=$2 before=$3 u
  if ! until_ok 60 "$name: complete after the restart" complete "$name"; then
    printf '      %s\n' "status: $(jp vmrestore "$name" '{.status}')" "VM status: $(jp vm "$vm" '{.status}')" \
      "kube-sim's webhook map: $(ksim "$api/kube-sim/service-map") (d1 serves on $port_d1)" \
      "the daemon's log (info and up):" "$(grep -v '"level":"debug"' "$T/d1.err" | tail -n 20)"
    return 0
  fi
  u=$(ruid "$name")
  expect_eq "$name: one new claim, named after the restore" \
    "$(($(pvcs) - before)) $(k get pvc -o name | grep -c "$u")" "1 1"
  expect_eq "$name: the claim is from the VolumeSnapshot, and Bound" \
    "$(jp pvc "restore-$u-disk0" '{.spec.dataSource.kind}/{.spec.dataSource.name} {.status.phase}')" \
    "VolumeSnapshot/vmsnapshot-$(uid s-r)-volume-disk0 Bound"
  expect_eq "$name: the VM points at it, annotated, released" \
    "$(jp vm "$vm" '{.spec.template.spec.volumes[0].persistentVolumeClaim.claimName} {.metadata.annotations.restore\.kubevirt\.io/lastRestoreUID} [{.status.restoreInProgress}]')" \
    "restore-$u-disk0 $name-$u []"
  expect_eq "$name: stopped, owner of the restore" \
    "$(jp vm "$vm" '{.spec.runStrategy}') $(jp vmrestore "$name" '{.metadata.ownerReferences[0].name}')" "Halted $vm"
  expect_eq "$name: Ready, Operation complete" \
    "$(jp vmrestore "$name" '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}')" \
    "True Operation complete"
  expect_eq "$name: one VirtualMachineRestoreComplete event" "$(k get events -o name \
    --field-selector "involvedObject.name=$name,reason=VirtualMachineRestoreComplete" | wc -l)" 1
  # complete once: a reconcile after completion changes nothing (restoreTime, the VM)
  local t0 vmrv
  t0=$(jp vmrestore "$name" '{.status.restoreTime}')
  vmrv=$(jp vm "$vm" '{.metadata.resourceVersion}')
  n0=$(reconciles restore)
  k label vmrestore "$name" poke=1 >/dev/null
  until_ok 10 "$name: reconciled again after completion" more_reconciles restore
  expect_eq "$name: ... and nothing changed" \
    "$(jp vmrestore "$name" '{.status.restoreTime} {.status.complete}') $(jp vm "$vm" '{.metadata.resourceVersion}')" \
    "$t0 true $vmrv"
}

vm vm-r
snap s-r vm-r
wait_ready s-r && ok "the offline snapshot s-r is Ready" || die "s-r not Ready: $(jp vmsnapshot s-r '{.status}')"

# --- the daemon SIGKILLed while a write of the restore is held, then restarted ------------------
echo "-- crash and restart at each step of a restore into the same VM"
n=0
# each step: METHOD PATH-REGEX [BODY-REGEX]; NAME stands for the restore's name. The two VM status
# writes: busy (naming the restore), release (the VM already annotated by this restore)
for step in "PUT $RES/NAME/status" \
  "PUT $RES/NAME([?]|$)" \
  "PUT $VMS/vm-r/status \"restoreInProgress\": *\"NAME\"" \
  "POST /api/v1/namespaces/default/persistentvolumeclaims([?]|$)" \
  "PUT $VMS/vm-r([?]|$)" \
  "PUT $VMS/vm-r/status \"restore.kubevirt.io/lastRestoreUID\": *\"NAME-" \
  "PUT $RES/NAME/status \"complete\": *true"; do
  name=r-kill-$((++n))
  before=$(pvcs)
  restart_held d1 "$name" "${step//NAME/$name}" restore "$name" vm-r
  restored "$name" vm-r "$before"
done

echo "-- crash and restart while a restore creates a new VM"
before=$(pvcs)
restart_held d1 r-copy "POST $VMS([?]|$)" restore r-copy vm-copy
until_ok 60 "r-copy: complete after the restart" complete r-copy
u=$(ruid r-copy)
expect_eq "r-copy: one new claim" "$(($(pvcs) - before)) $(k get pvc -o name | grep -c "$u")" "1 1"
expect_eq "r-copy: the new VM, stopped, on it" \
  "$(jp vm vm-copy '{.spec.runStrategy} {.spec.template.spec.volumes[0].persistentVolumeClaim.claimName}')" \
  "Halted restore-$u-disk0"
expect_eq "r-copy: the source VM untouched" \
  "$(jp vm vm-r '{.metadata.annotations.restore\.kubevirt\.io/lastRestoreUID}')" "r-kill-$n-$(ruid "r-kill-$n")"

# --- a snapshot is not deleted while a restore reads it -----------------------------------------
echo "-- snapshot deletion while a restore runs"
ksim -X POST -d '{"pvc-binder": false}' "$api/kube-sim/controllers" >/dev/null # the claim waits
restore r-busy vm-r
until_ok 30 "r-busy waits for its claim, saying so" is vmrestore r-busy \
  '{.status.conditions[?(@.type=="Ready")].reason}' "Waiting for new PVCs"
busy='VirtualMachineRestore "r-busy" is restoring from this snapshot: wait for it to complete, or delete it first'
out=$(k delete vmsnapshot s-r 2>&1)
expect_eq "delete s-r while r-busy runs: refused" "$out" \
  "Error from server (Forbidden): admission webhook \"virtualmachinesnapshot-delete-validator.vmsnapd.kubevirt.io\" denied the request: $busy"
expect_eq "s-r is still there" "$(jp vmsnapshot s-r '{.status.readyToUse}')" true
ksim -X POST -d '{"pvc-binder": true}' "$api/kube-sim/controllers" >/dev/null
until_ok 60 "r-busy complete once its claim binds" complete r-busy
allowed() { k delete vmsnapshot s-r --wait=false >/dev/null 2>&1; }
# the webhook decides from its cache: the restore's completion arrives with a watch event
until_ok 10 "delete s-r after r-busy completed: allowed" allowed
until_ok 30 "s-r is gone" gone vmsnapshot s-r
expect_eq "the restored claims stay" "$(k get pvc -o name | grep -c 'restore-')" "$((n + 2))"

e2e_finish "$pid_d1" d1
