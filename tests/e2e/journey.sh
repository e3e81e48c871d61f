#!/usr/bin/env bash
# The user journey of the product documentation (create a VM snapshot, wait for it, describe it,
# list a VM's snapshots, restore, delete), run with kubectl against tools/kube-sim with vmsnapd's
# webhooks from manifests/ in front of it and vmsnapd's snapshot controller taking the snapshots
# (kube-sim plays the CSI snapshotter and virt-api's freeze), plus the requests vmsnapd turns down.
#
#   journey.sh --test VMSNAPD   asserts kubectl's own stdout, stderr and exit codes; prints one line
#                               per check and a closing "N passed, N failed"; exits 1 on a failure
#   journey.sh --demo VMSNAPD   prints each step's heading, each command and what the user sees
#
# It starts kube-sim and `vmsnapd serve` (127.0.0.1, free ports) and stops them at the end; its
# temporary directory is removed. kubectl is whatever is on PATH (or $KUBECTL). With kubectl older
# than 1.24 (Debian's 1.20) the denials are compared by exit code and message, not byte for byte.
#
# The restore rules read cluster state. When `vmsnapd serve --help` offers --kubeconfig, serve
# watches kube-sim and the restores go through kubectl like the rest; otherwise they run as
# `vmsnapd review --objects` over the same objects (read from kube-sim with kubectl).
set -u

mode=${1:-}
VMSNAPD=${2:-${VMSNAPD:-}}
case "$mode" in --test | --demo) ;; *)
  echo "usage: journey.sh --test|--demo VMSNAPD" >&2
  exit 2
  ;;
esac
[ -n "$VMSNAPD" ] && [ -x "$VMSNAPD" ] || {
  echo "journey.sh: no vmsnapd binary (pass it or set VMSNAPD)" >&2
  exit 2
}
VMSNAPD=$(cd "$(dirname "$VMSNAPD")" && pwd)/$(basename "$VMSNAPD")
root=$(cd "$(dirname "$0")/../.." && pwd)
KUBECTL=${KUBECTL:-kubectl}
for tool in python3 openssl "$KUBECTL"; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "journey.sh: $tool is missing (make deps installs it)" >&2
    exit 2
  }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/vmsnapd-e2e.XXXXXX")
ksim_pid="" serve_pid=""
. "$root/tests/e2e/lib.inc"
cleanup() {
  # serve drains for its shutdown delay (0 here)
  # shellcheck disable=SC2086 # empty when not started
  stop_pids $serve_pid $ksim_pid
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
demo() { [ "$mode" = --demo ]; }
say() { demo && printf '%s\n' "$*"; }
heading() {
  if ! demo; then
    printf -- '-- %s\n' "$*"
  elif [ -t 1 ]; then
    printf '\n\033[1m== %s\033[0m\n' "$*"
  else
    printf '\n== %s\n' "$*"
  fi
}
ok() {
  pass=$((pass + 1))
  demo || printf 'ok    %s\n' "$1"
}
ko() {
  fail=$((fail + 1))
  printf 'FAIL  %s\n' "$1"
  shift
  [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/      /'
  return 0
}
die() {
  echo "journey.sh: $*" >&2
  for f in "$T"/ksim.err "$T"/serve.err; do
    [ -s "$f" ] && { echo "--- ${f##*/} (last lines)" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

# run CMD...: runs in $T/work, stdout -> $out, stderr -> $err, exit code -> $rc; the demo shows it
# as the user would see it (kubectl writes its warnings before the result)
out="$T/out" err="$T/err" rc=0
run() {
  (cd "$T/work" && "$@") >"$out" 2>"$err"
  rc=$?
  if demo; then
    printf '$ %s\n' "$(shown "$@")"
    cat "$err" "$out"
    [ -s "$out" ] && [ -n "$(tail -c 1 "$out")" ] && echo
    [ "$rc" = 0 ] || printf '(exit code %s)\n' "$rc"
  fi
}
shown() {
  local a s=""
  for a in "$@"; do
    [ "$a" = "$KUBECTL" ] && a=kubectl
    [ "$a" = "$VMSNAPD" ] && a=vmsnapd
    a=${a#"$root"/}
    case "$a" in *[\ \'\"\{\}\*]*) a="'$a'" ;; esac
    s="$s${s:+ }$a"
  done
  printf '%s' "$s"
}
kc() { run "$KUBECTL" "$@"; }
# show FILE: the demo prints the manifest the next command uses
show() { demo && { printf '$ cat %s\n' "$1"; cat "$T/work/$1"; }; return 0; }

# --- checks ------------------------------------------------------------------------------------
# The daemon without a view of the cluster adds one fixed warning; it says nothing about the
# request, so the comparisons leave that line out.
NOVIEW='Warning: vmsnapd has no view of the cluster'
stderr_text() { grep -v "^$NOVIEW" "$err"; }

expect_rc() { # NAME CODE
  if [ "$rc" = "$2" ]; then ok "$1: exit code $2"; else ko "$1: exit code $rc, want $2" "stderr: $(cat "$err")"; fi
}
expect_out() { # NAME TEXT: stdout is exactly TEXT (plus kubectl's final newline)
  if [ "$(cat "$out")" = "$2" ]; then ok "$1: stdout"; else ko "$1: stdout" "got:  $(cat "$out")" "want: $2"; fi
}
expect_out_has() { # NAME REGEX (a line of stdout)
  if grep -qE -- "$2" "$out"; then ok "$1: stdout has /$2/"; else ko "$1: stdout lacks /$2/" "$(cat "$out")"; fi
}
expect_err() { # NAME TEXT: stderr, without the no-view warning, is exactly TEXT
  local got
  got=$(stderr_text)
  if [ "$got" = "$2" ]; then
    ok "$1: stderr exact"
  elif [ "$old_kubectl" = 1 ] && printf '%s' "$got" | grep -qF -- "$3"; then
    ok "$1: stderr has the message (kubectl $kminor words the rest its own way)"
  else
    ko "$1: stderr" "got:" "$got" "want:" "$2"
  fi
}
# deny NAME TEXT KEY: exit code 1, stderr TEXT (KEY: the part every kubectl prints), stdout empty
deny() {
  expect_rc "$1" 1
  expect_err "$1" "$2" "$3"
  if [ -s "$out" ]; then ko "$1: stdout not empty" "$(cat "$out")"; else ok "$1: stdout empty"; fi
}
expect_eq() { # NAME GOT WANT
  if [ "$2" = "$3" ]; then ok "$1 = $3"; else ko "$1" "got:  $2" "want: $3"; fi
}

# --- start kube-sim and vmsnapd ---------------------------------------------------------------
mkdir -p "$T/work" "$T/ksim"
kv=$("$KUBECTL" version --client -o json 2>/dev/null | python3 -c \
  'import json,sys; v=json.load(sys.stdin)["clientVersion"]; print(v["major"]+"."+v["minor"].rstrip("+"))' 2>/dev/null)
kminor=${kv:-1.0}
old_kubectl=0
[ "${kminor#1.}" -lt 24 ] 2>/dev/null && old_kubectl=1

heading "Start a cluster (tools/kube-sim) and vmsnapd serve"
python3 "$root/tools/kube-sim" --dir "$T/ksim" --port 0 --load "$root/tools/kube-sim-crds" \
  >"$T/ksim.out" 2>"$T/ksim.err" &
ksim_pid=$!
for _ in $(seq 200); do
  [ -s "$T/ksim.out" ] && break
  kill -0 "$ksim_pid" 2>/dev/null || die "kube-sim exited"
  sleep 0.1
done
[ -s "$T/ksim.out" ] || die "kube-sim did not start within 20 s"
ksim_port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$T/ksim.out")
export KUBECONFIG="$T/ksim/kubeconfig"
api="https://127.0.0.1:$ksim_port"
# kube-sim's admin API and the controllers it stands in for are driven as its admin (tests/e2e/https.py)
ksim_api() { python3 "$root/tests/e2e/https.py" --cacert "$T/ksim/ca.crt" --cert "$T/ksim/admin.crt" \
  --key "$T/ksim/admin.key" "$@"; }
say "kube-sim: $api (KUBECONFIG=$KUBECONFIG), kubectl $kminor"

run "$VMSNAPD" certs create --service vmsnapd --namespace vmsnapd-system --out "$T/certs"
[ "$rc" = 0 ] || die "certs create failed: $(cat "$err")"

# vmsnapd runs as its service account, the identity content.controllerUsers admits (kube-sim
# issues the client certificate a token would stand for in a cluster)
ksim_api -X POST -d '{"user": "system:serviceaccount:vmsnapd-system:vmsnapd",
  "groups": ["system:serviceaccounts", "system:serviceaccounts:vmsnapd-system"]}' \
  "$api/kube-sim/certs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["kubeconfig"])' \
  >"$T/work/vmsnapd.kubeconfig" || die "kube-sim issued no certificate for vmsnapd"
with_view=1
serve_args=(serve --listen 127.0.0.1:0 --tls-cert-file "$T/certs/tls.crt"
  --tls-key-file "$T/certs/tls.key" --shutdown-delay 0 --grace-period 5s
  --kubeconfig vmsnapd.kubeconfig --controllers all --namespace default --identity vmsnapd-0
  --lease-duration 2s --renew-deadline 1500ms --retry-period 200ms)
(cd "$T/work" && exec "$VMSNAPD" "${serve_args[@]}") >"$T/serve.out" 2>"$T/serve.err" &
serve_pid=$!
say "\$ $(shown vmsnapd "${serve_args[@]}") &"
port=""
for _ in $(seq 300); do
  port=$(sed -n 's/.*"msg": *"serving".*"port": *\([0-9]*\).*/\1/p' "$T/serve.err" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$serve_pid" 2>/dev/null || die "vmsnapd serve exited"
  sleep 0.1
done
[ -n "$port" ] || die "vmsnapd serve logged no port within 30 s"
say "vmsnapd serves on 127.0.0.1:$port"
ksim_api -X POST -d "{\"vmsnapd-system/vmsnapd\": \"127.0.0.1:$port\"}" "$api/kube-sim/service-map" >/dev/null ||
  die "kube-sim refused the service map"
say "kube-sim dials Service vmsnapd-system/vmsnapd at 127.0.0.1:$port (--service-map)"

# The CRDs from manifests/ (the files: kubectl 1.20's kustomize cannot read the Component), the
# stand-in KubeVirt CRDs (loaded at start), and the webhook configurations with the CA filled in.
cp "$root/manifests/base/webhooks.yaml" "$T/work/webhooks.yaml"
run "$VMSNAPD" certs cabundle --ca "$T/certs/ca.crt" --write webhooks.yaml
[ "$rc" = 0 ] || die "certs cabundle failed: $(cat "$err")"
crds=()
for f in "$root"/manifests/crds/virtualmachine*.yaml; do crds+=(-f "$f"); done
kc apply "${crds[@]}"
expect_rc "apply the snapshot.kubevirt.io CRDs" 0
kc apply -f webhooks.yaml
expect_rc "apply the webhook configurations" 0
[ "$rc" = 0 ] || die "cannot apply the webhook configurations: $(cat "$err")"

# --- the cluster: a stopped VM and a running one ----------------------------------------------
heading "Two virtual machines: my-vm (stopped) and running-vm (running), each with a disk"
cat >"$T/work/vms.yaml" <<'EOF'
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: csi-snapclass
driver: kube-sim.csi.k8s.io
deletionPolicy: Delete
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: my-vm-disk
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: running-vm-disk
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: my-vm
  labels: {app: my-vm}
spec:
  runStrategy: Halted
  template:
    spec:
      domain:
        devices:
          disks: [{name: rootdisk, disk: {bus: virtio}}]
          interfaces: [{name: default, masquerade: {}, macAddress: "02:00:00:00:00:01"}]
      networks: [{name: default, pod: {}}]
      volumes:
      - name: rootdisk
        persistentVolumeClaim: {claimName: my-vm-disk}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: running-vm
spec:
  runStrategy: Always
  template:
    spec:
      domain: {devices: {disks: [{name: rootdisk, disk: {bus: virtio}}]}}
      volumes:
      - name: rootdisk
        persistentVolumeClaim: {claimName: running-vm-disk}
---
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: running-vm
EOF
show vms.yaml
kc apply -f vms.yaml
expect_rc "create the VMs, their disks and the VolumeSnapshotClass" 0
# virt-handler's part: the VMI runs, with a guest agent (a status write, as a controller does it)
setstatus() { # GROUP/VERSION/RESOURCE NAME JSON
  ksim_api -X PATCH -A "${STATUS_WRITER:-virt-controller}" \
    -H 'Content-Type: application/merge-patch+json' -d "{\"status\": $3}" \
    "$api/apis/${1%/*}/namespaces/default/${1##*/}/$2/status" >/dev/null || ko "set the status of $1 $2"
}
setstatus kubevirt.io/v1/virtualmachineinstances running-vm \
  '{"phase": "Running", "conditions": [{"type": "AgentConnected", "status": "True"}]}'
vm_uid=$("$KUBECTL" get vm my-vm -o jsonpath='{.metadata.uid}')
running_uid=$("$KUBECTL" get vm running-vm -o jsonpath='{.metadata.uid}')
setstatus kubevirt.io/v1/virtualmachines my-vm '{"printableStatus": "Stopped"}'
setstatus kubevirt.io/v1/virtualmachines running-vm '{"printableStatus": "Running", "ready": true}'
say "(virt-controller, simulated: running-vm's VMI is Running with a guest agent)"
kc get vm
expect_out_has "kubectl get vm" '^my-vm '

# --- create a snapshot, as documented ---------------------------------------------------------
heading "Create a snapshot of my-vm (the documentation's VirtualMachineSnapshot)"
cat >"$T/work/my-vmsnapshot.yaml" <<'EOF'
apiVersion: snapshot.kubevirt.io/v1beta1
kind: VirtualMachineSnapshot
metadata:
  name: my-vmsnapshot
spec:
  source:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: my-vm
EOF
show my-vmsnapshot.yaml
kc create -f my-vmsnapshot.yaml
expect_rc "create my-vmsnapshot" 0
expect_out "create my-vmsnapshot" "virtualmachinesnapshot.snapshot.kubevirt.io/my-vmsnapshot created"
expect_err "create my-vmsnapshot (the defaulting warning)" \
  "Warning: defaulted spec.failureDeadline to 5m0s" "defaulted spec.failureDeadline to 5m0s"

heading "Read it back: vmsnapd set the deadline and the source-vm-name label"
kc get vmsnapshot my-vmsnapshot -o yaml
expect_rc "get -o yaml" 0
expect_out_has "get -o yaml" '^  failureDeadline: 5m0s$'
expect_out_has "get -o yaml" '^    snapshot.kubevirt.io/source-vm-name: my-vm$'
kc get vmsnapshot my-vmsnapshot -o 'jsonpath={.spec.failureDeadline} {.metadata.labels.snapshot\.kubevirt\.io/source-vm-name}'
expect_out "jsonpath deadline and label" "5m0s my-vm"

heading "Wait for it (vmsnapd's controller takes it) and check its status"
kc wait vmsnapshot my-vmsnapshot --for condition=Ready --timeout=30s
expect_rc "kubectl wait --for condition=Ready" 0
expect_out "kubectl wait" "virtualmachinesnapshot.snapshot.kubevirt.io/my-vmsnapshot condition met"
my_uid=$("$KUBECTL" get vmsnapshot my-vmsnapshot -o jsonpath='{.metadata.uid}')
kc describe vmsnapshot my-vmsnapshot
expect_rc "kubectl describe" 0
expect_out_has "kubectl describe" '^Name: +my-vmsnapshot$'
expect_out_has "kubectl describe" 'Failure Deadline: +5m0s'
expect_out_has "kubectl describe" 'Ready To Use: +true'
expect_out_has "kubectl describe" '^  Phase: +Succeeded$'
expect_out_has "kubectl describe" "^  Virtual Machine Snapshot Content Name: +vmsnapshot-content-$my_uid\$"
expect_out_has "kubectl describe" '^    Reason: +Operation complete$'
expect_out_has "kubectl describe" "Normal +SuccessfulVirtualMachineSnapshotContentCreate +.* +snapshot-controller +Successfully created VirtualMachineSnapshotContent vmsnapshot-content-$my_uid\$"

heading "What was made: the content (a copy of the VM) and one VolumeSnapshot per disk"
kc get vmsnapshotcontent
expect_rc "kubectl get vmsnapshotcontent" 0
expect_out_has "kubectl get vmsnapshotcontent" "^vmsnapshot-content-$my_uid +true "
kc get volumesnapshot
expect_rc "kubectl get volumesnapshot" 0
expect_out_has "kubectl get volumesnapshot" "^vmsnapshot-$my_uid-volume-rootdisk +true +my-vm-disk +.*csi-snapclass"

heading "List the snapshots of one VM"
kc get vmsnapshot -l snapshot.kubevirt.io/source-vm-name=my-vm
expect_rc "get -l source-vm-name" 0
expect_out_has "get -l source-vm-name" '^NAME +SOURCEKIND +SOURCENAME +PHASE +READYTOUSE'
expect_out_has "get -l source-vm-name" '^my-vmsnapshot +VirtualMachine +my-vm +Succeeded +true'
kc get vmsnapshot -l snapshot.kubevirt.io/source-vm-name=running-vm
expect_rc "get -l source-vm-name=running-vm (none yet)" 0
expect_err "get -l source-vm-name=running-vm (none yet)" "No resources found in default namespace." "No resources found"

# --- snapshots vmsnapd turns down -------------------------------------------------------------
heading "Snapshots vmsnapd refuses, and what kubectl prints"
mksnap() { # FILE NAME SPEC-LINES
  printf 'apiVersion: snapshot.kubevirt.io/v1beta1\nkind: VirtualMachineSnapshot\nmetadata:\n  name: %s\nspec:\n%s\n' \
    "$2" "$3" >"$T/work/$1"
}
mksnap bad-kind.yaml bad-kind '  source:
    apiGroup: kubevirt.io
    kind: Pod
    name: my-vm'
show bad-kind.yaml
kc create -f bad-kind.yaml
deny "source kind Pod" 'Warning: defaulted spec.failureDeadline to 5m0s
The VirtualMachineSnapshot "bad-kind" is invalid: spec.source.kind: invalid kind' \
  'spec.source.kind: invalid kind'

mksnap missing-apigroup.yaml missing-apigroup '  source:
    kind: VirtualMachine
    name: my-vm'
show missing-apigroup.yaml
kc create -f missing-apigroup.yaml
deny "source without apiGroup" 'Warning: defaulted spec.failureDeadline to 5m0s
The VirtualMachineSnapshot "missing-apigroup" is invalid: spec.source.apiGroup: missing apiGroup' \
  'spec.source.apiGroup: missing apiGroup'

bad1d='spec.failureDeadline: Invalid value: "1d": time: unknown unit "d" in duration "1d"; use a duration such as "90s", "5m" or "1h30m" (units ns, us, ms, s, m, h) or a number of seconds'
mksnap bad-deadline.yaml bad-deadline '  source:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: my-vm
  failureDeadline: 1d'
show bad-deadline.yaml
kc create -f bad-deadline.yaml
deny "failureDeadline 1d" "The VirtualMachineSnapshot \"bad-deadline\" is invalid: $bad1d" "$bad1d"

mksnap two-causes.yaml two-causes '  source:
    apiGroup: kubevirt.io
    kind: Pod
    name: my-vm
  failureDeadline: 1d'
show two-causes.yaml
kc create -f two-causes.yaml
deny "two causes" "The VirtualMachineSnapshot \"two-causes\" is invalid: 
* spec.source.kind: invalid kind
* $bad1d" "$bad1d"
kc get vmsnapshot bad-kind
expect_rc "a refused snapshot is not stored" 1

# --- snapshots cannot be changed --------------------------------------------------------------
heading "Snapshots cannot be changed after creation (labels can)"
kc patch vmsnapshot my-vmsnapshot --type merge -p '{"spec":{"source":{"name":"running-vm"}}}'
deny "merge patch of spec.source" \
  'The VirtualMachineSnapshot "my-vmsnapshot" is invalid: spec: spec is immutable after creation' \
  'spec: spec is immutable after creation'
kc patch vmsnapshot my-vmsnapshot --type merge -p '{"spec":{"failureDeadline":"300s"}}'
expect_rc "merge patch of the deadline to 300s (the same as 5m0s)" 0
expect_out "merge patch 300s" "virtualmachinesnapshot.snapshot.kubevirt.io/my-vmsnapshot patched"
kc label vmsnapshot my-vmsnapshot team=blue
expect_rc "label change" 0
expect_out "label change" "virtualmachinesnapshot.snapshot.kubevirt.io/my-vmsnapshot labeled"
kc get vmsnapshot my-vmsnapshot -o 'jsonpath={.spec.source.name} {.metadata.labels.team}'
expect_out "after the edits" "my-vm blue"

# --- contents are the controller's ------------------------------------------------------------
heading "A VirtualMachineSnapshotContent made by hand"
cat >"$T/work/content.yaml" <<'EOF'
apiVersion: snapshot.kubevirt.io/v1beta1
kind: VirtualMachineSnapshotContent
metadata:
  name: my-content
spec:
  virtualMachineSnapshotName: my-vmsnapshot
  source:
    virtualMachine:
      metadata:
        name: my-vm
EOF
show content.yaml
kc create -f content.yaml
content_msg='VirtualMachineSnapshotContent objects are created by the snapshot controller only (content.controllerUsers: system:serviceaccount:vmsnapd-system:vmsnapd); create a VirtualMachineSnapshot instead'
deny "content created by a user" \
  "Error from server (Forbidden): error when creating \"content.yaml\": admission webhook \"virtualmachinesnapshotcontent-validator.vmsnapd.kubevirt.io\" denied the request: $content_msg" \
  "$content_msg"

# --- restores ---------------------------------------------------------------------------------
heading "An online snapshot of running-vm: its guest agent freezes the filesystems, then thaws them"
mksnap running-vm-snapshot.yaml running-vm-snapshot '  source:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: running-vm'
show running-vm-snapshot.yaml
kc create -f running-vm-snapshot.yaml
expect_rc "create running-vm-snapshot" 0
kc wait vmsnapshot running-vm-snapshot --for condition=Ready --timeout=30s
expect_rc "kubectl wait running-vm-snapshot" 0
kc get vmsnapshot running-vm-snapshot -o 'jsonpath={.status.indications}'
expect_out "running-vm-snapshot indications" '["GuestAgent","Online"]'
freezes() { ksim_api "$api/kube-sim/freeze-log" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["calls"]:
    if c["name"] == sys.argv[1]:
        print("PUT .../virtualmachineinstances/%s/%s %s -> %s" % (c["name"], c["op"], json.dumps(c["body"]) if c["body"] else "", c["result"]))' "$1"; }
say "(virt-api, as kube-sim saw it: vmsnapd froze the guest before the VolumeSnapshot and thawed it after)"
frz=$(freezes running-vm)
say "$frz"
# a thaw repeated back to back is one (see tests/e2e/snapshots.sh freezes)
expect_eq "running-vm frozen, then thawed" "$(printf '%s\n' "$frz" | awk '{sub(/.*\//, "", $2); if (!($2 == "unfreeze" && last == $2)) print $2; last = $2}' | paste -sd ' ')" "freeze unfreeze"

heading "An online snapshot of my-vm (started for a moment), to show a restore vmsnapd refuses"
printf 'apiVersion: kubevirt.io/v1\nkind: VirtualMachineInstance\nmetadata:\n  name: my-vm\n' >"$T/work/my-vm-vmi.yaml"
kc apply -f my-vm-vmi.yaml
expect_rc "start my-vm (its VMI)" 0
setstatus kubevirt.io/v1/virtualmachineinstances my-vm \
  '{"phase": "Running", "conditions": [{"type": "AgentConnected", "status": "True"}]}'
say "(virt-handler, simulated: my-vm's VMI is Running with a guest agent)"
mksnap online-snapshot.yaml online-snapshot '  source:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: my-vm'
kc create -f online-snapshot.yaml
expect_rc "create online-snapshot" 0
kc wait vmsnapshot online-snapshot --for condition=Ready --timeout=30s
expect_rc "kubectl wait online-snapshot" 0
kc delete vmi my-vm
expect_rc "stop my-vm (its VMI goes)" 0
say "(virt-controller, simulated: my-vm stopped)"
kc get vmsnapshot
expect_out_has "kubectl get vmsnapshot" '^online-snapshot +VirtualMachine +my-vm +Succeeded +true'

mkrestore() { # NAME VM SNAPSHOT
  printf 'apiVersion: snapshot.kubevirt.io/v1beta1\nkind: VirtualMachineRestore\nmetadata:\n  name: %s\nspec:\n  target:\n    apiGroup: kubevirt.io\n    kind: VirtualMachine\n    name: %s\n  virtualMachineSnapshotName: %s\n' \
    "$1" "$2" "$3" >"$T/work/$1.yaml"
}
mkrestore running-restore running-vm running-vm-snapshot
mkrestore online-restore my-vm online-snapshot
mkrestore missing-restore my-vm no-such-snapshot
mkrestore my-vmrestore my-vm my-vmsnapshot

# running-vm-snapshot was taken while running-vm ran (there is no other way to take one of it)
running_msg='
* spec.virtualMachineSnapshotName: VirtualMachineSnapshot "running-vm-snapshot" was taken while the VM was running; only an offline snapshot can be restored
* spec.target: VirtualMachine "running-vm" run strategy has to be Halted: stop it first (virtctl stop running-vm)'
online_msg='spec.virtualMachineSnapshotName: VirtualMachineSnapshot "online-snapshot" was taken while the VM was running; only an offline snapshot can be restored'
missing_msg='spec.virtualMachineSnapshotName: VirtualMachineSnapshot "no-such-snapshot" does not exist'

if [ "$with_view" = 1 ]; then
  heading "Restores (vmsnapd serve --kubeconfig: the daemon watches the cluster)"
  ready=0
  for _ in $(seq 300); do
    if python3 "$root/tests/e2e/https.py" --cacert "$T/certs/ca.crt" \
      --servername vmsnapd.vmsnapd-system.svc "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
      ready=1
      break
    fi
    sleep 0.1
  done
  if [ "$ready" = 1 ]; then ok "serve /readyz with --kubeconfig"; else ko "serve /readyz within 30 s"; fi
  # the daemon's view lags the API by a watch event: wait until a dry run of the online restore
  # is refused for the snapshot's status (the last status written), before asking through kubectl
  "$KUBECTL" create --dry-run=client -o json -f "$T/work/online-restore.yaml" >"$T/online.json" 2>/dev/null
  synced=0
  for _ in $(seq 100); do
    if ksim_api -X POST -H 'Content-Type: application/json' -d @"$T/online.json" \
      "$api/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores?dryRun=All" \
      2>/dev/null | grep -q 'taken while the VM was running'; then
      synced=1
      break
    fi
    sleep 0.1
  done
  if [ "$synced" = 1 ]; then ok "the daemon sees the snapshots' status"; else ko "the daemon did not see online-snapshot's status within 10 s"; fi
  for r in running-restore online-restore missing-restore; do
    show "$r.yaml"
    kc create -f "$r.yaml"
    case $r in
      running-restore) m=$running_msg ;;
      online-restore) m=$online_msg ;;
      missing-restore) m=$missing_msg ;;
    esac
    deny "restore $r" "The VirtualMachineRestore \"$r\" is invalid: $m" "${m#*: }"
  done
else
  heading "Restores, as vmsnapd review over the same cluster objects"
  say "(this vmsnapd serve has no --kubeconfig, so it cannot read the cluster; the restore rules"
  say " run offline: each manifest becomes a CREATE AdmissionReview and the objects come from kubectl)"
  "$KUBECTL" get vm,vmi,vmsnapshot,vmrestore -o json >"$T/work/cluster.json" 2>"$err"
  rc=$?
  say '$ kubectl get vm,vmi,vmsnapshot,vmrestore -o json > cluster.json'
  expect_rc "kubectl get vm,vmi,vmsnapshot,vmrestore -o json" 0
  say "($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$T/work/cluster.json" 2>/dev/null) objects: the VMs, the VMI, the snapshots with their status)"
  # restore NAME: the AdmissionReview kube-apiserver would send; prints what kubectl would print
  review() {
    "$KUBECTL" create --dry-run=client -o json -f "$T/work/$1.yaml" >"$T/obj.json" 2>"$T/obj.err" ||
      { ko "$1: kubectl --dry-run=client" "$(cat "$T/obj.err")"; return; }
    python3 - "$T/obj.json" >"$T/work/$1.review.json" <<'PY'
import json, sys, uuid
o = json.load(open(sys.argv[1]))
o.setdefault("metadata", {})["namespace"] = "default"
gvk = {"group": "snapshot.kubevirt.io", "version": "v1beta1", "kind": o["kind"]}
gvr = {"group": "snapshot.kubevirt.io", "version": "v1beta1", "resource": o["kind"].lower() + "s"}
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": str(uuid.uuid4()), "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
    "name": o["metadata"]["name"], "namespace": "default", "operation": "CREATE",
    "userInfo": {"username": "admin", "groups": ["system:masters", "system:authenticated"]},
    "object": o, "oldObject": None, "dryRun": False,
    "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}}}))
PY
    run "$VMSNAPD" review --objects cluster.json "$1.review.json"
    # the text kubectl prints for that answer (a 422 with kind, name and causes)
    python3 - "$out" >"$T/said" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["response"]
if r.get("allowed"):
    print("allowed")
else:
    s = r.get("status", {}); d = s.get("details", {}); c = d.get("causes", [])
    if len(c) == 1:
        m = c[0]["field"] + ": " + c[0]["message"]
    else:
        m = "\n" + "\n".join("* %s: %s" % (x["field"], x["message"]) for x in c)
    print("%d The %s \"%s\" is invalid: %s" % (s.get("code", 0), d.get("kind"), d.get("name"), m))
PY
    if demo; then
      local said
      said=$(cat "$T/said")
      case "$said" in
        allowed) echo "  -> allowed: kubectl create would print virtualmachinerestore.snapshot.kubevirt.io/$1 created" ;;
        *) printf '  -> HTTP %s; kubectl create would print:\n%s\n' "${said%% *}" "${said#* }" ;;
      esac
    fi
  }
  for r in running-restore online-restore missing-restore; do
    case $r in
      running-restore) m=$running_msg ;;
      online-restore) m=$online_msg ;;
      missing-restore) m=$missing_msg ;;
    esac
    show "$r.yaml"
    review "$r"
    expect_rc "review $r" 0
    expect_eq "review $r" "$(cat "$T/said")" "422 The VirtualMachineRestore \"$r\" is invalid: $m"
  done
  heading "Restore the stopped VM from its offline snapshot (the documentation's restore)"
  show my-vmrestore.yaml
  review my-vmrestore
  expect_rc "review my-vmrestore" 0
  expect_eq "review my-vmrestore" "$(cat "$T/said")" "allowed"
fi

# --- delete ------------------------------------------------------------------------------------
heading "Delete a snapshot"
online_uid=$("$KUBECTL" get vmsnapshot online-snapshot -o jsonpath='{.metadata.uid}')
kc delete vmsnapshot online-snapshot
expect_rc "delete online-snapshot" 0
expect_out "delete online-snapshot" 'virtualmachinesnapshot.snapshot.kubevirt.io "online-snapshot" deleted'
kc get vmsnapshot
expect_rc "kubectl get vmsnapshot after the delete" 0
if grep -q '^online-snapshot ' "$out"; then ko "online-snapshot still listed" "$(cat "$out")"; else ok "online-snapshot is gone"; fi
kc get vmsnapshotcontent,volumesnapshot
expect_rc "kubectl get vmsnapshotcontent,volumesnapshot after the delete" 0
if grep -q -- "$online_uid" "$out"; then ko "online-snapshot's content or VolumeSnapshot left" "$(cat "$out")"; else ok "its content and VolumeSnapshot went with it"; fi

# --- restore, and copy into a new VM (the restore controller; the with_view build only) ---------
if [ "$with_view" = 1 ]; then
  heading "Restore the stopped VM from its offline snapshot (the documentation's restore)"
  # the new claim stays Pending until the provisioner is back: the restore is seen in progress
  ksim_api -X POST -d '{"pvc-binder": false}' "$api/kube-sim/controllers" >/dev/null ||
    ko "switch kube-sim's PVC binder off"
  say "(the storage provisioner, simulated, is paused: the restored claim waits to bind)"
  show my-vmrestore.yaml
  kc create -f my-vmrestore.yaml
  expect_rc "restore my-vm from my-vmsnapshot" 0
  expect_out "restore my-vm" "virtualmachinerestore.snapshot.kubevirt.io/my-vmrestore created"
  r_uid=$("$KUBECTL" get vmrestore my-vmrestore -o jsonpath='{.metadata.uid}')
  waiting() { [ "$("$KUBECTL" get vmrestore my-vmrestore -o \
    'jsonpath={.status.conditions[?(@.type=="Ready")].reason}' 2>/dev/null)" = "Waiting for new PVCs" ]; }
  for _ in $(seq 300); do waiting && break; sleep 0.1; done
  kc get vmrestore my-vmrestore -o 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}'
  expect_out "my-vmrestore waits for its claim" "Waiting for new PVCs"

  heading "A snapshot cannot be deleted while a restore reads it"
  for _ in $(seq 100); do # until the daemon has seen my-vmrestore (a dry run is refused)
    ksim_api -X DELETE "$api/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots/my-vmsnapshot?dryRun=All" \
      >/dev/null 2>&1 || break
    sleep 0.1
  done
  kc delete vmsnapshot my-vmsnapshot
  busy_msg='VirtualMachineRestore "my-vmrestore" is restoring from this snapshot: wait for it to complete, or delete it first'
  deny "delete my-vmsnapshot while my-vmrestore runs" \
    "Error from server (Forbidden): admission webhook \"virtualmachinesnapshot-delete-validator.vmsnapd.kubevirt.io\" denied the request: $busy_msg" \
    "$busy_msg"
  ksim_api -X POST -d '{"pvc-binder": true}' "$api/kube-sim/controllers" >/dev/null ||
    ko "switch kube-sim's PVC binder on"
  say "(the storage provisioner, simulated, is back)"

  heading "Wait for the restore and read it back: complete, as in the documentation's example"
  kc wait vmrestore my-vmrestore --for condition=Ready --timeout=60s
  expect_rc "kubectl wait vmrestore --for condition=Ready" 0
  expect_out "kubectl wait vmrestore" "virtualmachinerestore.snapshot.kubevirt.io/my-vmrestore condition met"
  kc get vmrestore my-vmrestore -o yaml
  expect_rc "get vmrestore -o yaml" 0
  expect_out_has "get vmrestore -o yaml" '^  complete: true$'
  expect_out_has "get vmrestore -o yaml (owner)" "^    uid: $vm_uid\$"
  expect_out_has "get vmrestore -o yaml (owner)" '^    blockOwnerDeletion: true$'
  expect_out_has "get vmrestore -o yaml (restores)" "^  - persistentVolumeClaim: restore-$r_uid-rootdisk\$"
  expect_out_has "get vmrestore -o yaml (restores)" "^    volumeSnapshotName: vmsnapshot-$my_uid-volume-rootdisk\$"
  expect_out_has "get vmrestore -o yaml (restoreTime)" '^  restoreTime: "'
  kc get vmrestore my-vmrestore -o 'jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}; {end}'
  expect_out "my-vmrestore conditions" "Progressing=False Operation complete; Ready=True Operation complete; "
  kc get vm my-vm -o 'jsonpath={.spec.template.spec.volumes}'
  expect_out "my-vm's volume is the restored claim" \
    "[{\"name\":\"rootdisk\",\"persistentVolumeClaim\":{\"claimName\":\"restore-$r_uid-rootdisk\"}}]"

  heading "Copy my-vm into a new VM from the same snapshot, with a new MAC address and label"
  cat >"$T/work/my-vm-copy.yaml" <<'YAML'
apiVersion: snapshot.kubevirt.io/v1beta1
kind: VirtualMachineRestore
metadata:
  name: my-vm-copy
spec:
  target:
    apiGroup: kubevirt.io
    kind: VirtualMachine
    name: my-vm-copy
  virtualMachineSnapshotName: my-vmsnapshot
  patches:
  - '{"op": "replace", "path": "/spec/template/spec/domain/devices/interfaces/0/macAddress", "value": "02:00:00:00:00:02"}'
  - '{"op": "replace", "path": "/metadata/labels/app", "value": "my-vm-copy"}'
YAML
  show my-vm-copy.yaml
  kc create -f my-vm-copy.yaml
  expect_rc "restore into a new VM my-vm-copy" 0
  expect_out "restore into a new VM" "virtualmachinerestore.snapshot.kubevirt.io/my-vm-copy created"
  kc wait vmrestore my-vm-copy --for condition=Ready --timeout=60s
  expect_rc "kubectl wait vmrestore my-vm-copy" 0
  c_uid=$("$KUBECTL" get vmrestore my-vm-copy -o jsonpath='{.metadata.uid}')
  kc get vmrestore my-vm-copy -o 'jsonpath={.status.complete} {.metadata.ownerReferences[0].name}'
  expect_out "my-vm-copy complete, owned by the new VM" "true my-vm-copy"
  kc get vm my-vm-copy -o 'jsonpath={.metadata.labels.app} {.spec.runStrategy} {.spec.template.spec.domain.devices.interfaces[0].macAddress}'
  expect_out "the new VM: patched label, stopped, patched MAC" "my-vm-copy Halted 02:00:00:00:00:02"

  heading "Both VMs' volumes, and the claims restored from the VolumeSnapshot"
  kc get vm my-vm my-vm-copy -o 'jsonpath={range .items[*]}{.metadata.name}{": "}{.spec.template.spec.volumes[*].persistentVolumeClaim.claimName}{"\n"}{end}'
  expect_out "both VMs' claims" "my-vm: restore-$r_uid-rootdisk
my-vm-copy: restore-$c_uid-rootdisk"
  kc get pvc
  expect_rc "kubectl get pvc" 0
  expect_out_has "kubectl get pvc (my-vm's restored claim)" "^restore-$r_uid-rootdisk +Bound "
  expect_out_has "kubectl get pvc (my-vm-copy's claim)" "^restore-$c_uid-rootdisk +Bound "
  expect_out_has "kubectl get pvc (the original is kept)" '^my-vm-disk +Bound '
  kc get pvc "restore-$c_uid-rootdisk" -o 'jsonpath={.spec.dataSource.kind}/{.spec.dataSource.name}'
  expect_out "my-vm-copy's claim comes from the VolumeSnapshot" "VolumeSnapshot/vmsnapshot-$my_uid-volume-rootdisk"
fi

# --- what the webhook saw ---------------------------------------------------------------------
calls=$(ksim_api "$api/kube-sim/admission-log" | python3 -c '
import json, sys
log = json.load(sys.stdin)
log = log["calls"]
print(sum(1 for e in log if e.get("result") == "error"), len(log))' 2>/dev/null)
expect_eq "webhook calls that failed (of ${calls#* })" "${calls%% *}" 0

# --- a clean stop ------------------------------------------------------------------------------
kill -TERM "$serve_pid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$serve_pid" 2>/dev/null; then
  ko "vmsnapd serve still running 10 s after SIGTERM"
else
  wait "$serve_pid"
  src=$?
  serve_pid=""
  expect_eq "vmsnapd serve exit code after SIGTERM" "$src" 0
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/serve.err"; then
    ko "vmsnapd serve: sanitizer report" "$(grep -m 20 -E 'Sanitizer|runtime error|#[0-9]' "$T/serve.err")"
  else
    ok "vmsnapd serve: no sanitizer report"
  fi
fi

if demo; then
  heading "Done"
  say "$pass steps as expected, $fail not; stopping kube-sim and vmsnapd serve"
  [ "$fail" = 0 ]
  exit
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
