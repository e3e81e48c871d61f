#!/usr/bin/env bash
# gen-large.sh N - writes N YAML documents to stdout for streaming and
# memory checks of `vmsnapd validate`: by i mod 4 a snapshot, a restore, a
# ConfigMap (skipped), a snapshot with a failure deadline; every 100th
# document (i = 0, 100, ...) has source kind Pod, an "invalid kind".
# So N = 10000 gives 7500 objects checked, 2500 skipped, 100 problems.
set -euo pipefail
n=${1:?usage: gen-large.sh N}
awk -v n="$n" 'BEGIN {
  for (i = 0; i < n; i++) {
    print "---"
    if (i % 4 == 2) {
      printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n", i
      printf "data:\n  note: skipped\n"
      continue
    }
    if (i % 4 == 1) {
      printf "apiVersion: snapshot.kubevirt.io/v1beta1\n"
      printf "kind: VirtualMachineRestore\nmetadata:\n  name: restore-%d\n", i
      printf "spec:\n  target:\n    apiGroup: kubevirt.io\n"
      printf "    kind: VirtualMachine\n    name: vm-%d\n", i
      printf "  virtualMachineSnapshotName: snap-%d\n", i - 1
      continue
    }
    printf "apiVersion: snapshot.kubevirt.io/v1beta1\n"
    printf "kind: VirtualMachineSnapshot\nmetadata:\n  name: snap-%d\n", i
    printf "  labels: {app: bench, index: \"%d\"}\n", i
    printf "spec:\n  failureDeadline: %dm\n  source:\n", 1 + i % 30
    printf "    apiGroup: kubevirt.io\n"
    printf "    kind: %s\n", (i % 100 == 0 ? "Pod" : "VirtualMachine")
    printf "    name: vm-%d\n", i
  }
}'
