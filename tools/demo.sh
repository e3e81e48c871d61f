#!/usr/bin/env bash
# make demo: first the admission decisions vmsnapd makes for the documented snapshot and restore
# examples, through `vmsnapd review` (tools/review-table.py); then the documentation's user journey
# through kubectl against a local stand-in cluster (tools/kube-sim) with `vmsnapd serve` as its
# webhook (tests/e2e/journey.sh --demo), each command printed with what the user sees. Everything
# the journey starts (kube-sim, vmsnapd serve) is stopped and its temporary directory removed.
set -euo pipefail
bin=${1:?usage: demo.sh VMSNAPD}
here=$(cd "$(dirname "$0")" && pwd)
echo "== vmsnapd review over manifests/examples (cluster state: cluster.yaml)"
echo
python3 "$here/review-table.py" "$bin"
echo
echo "== The user journey of the documentation, with kubectl against tools/kube-sim"
echo "   (vmsnapd serve is the admission webhook and the snapshot controller; kube-sim stands in for"
echo "   kube-apiserver, the CSI snapshotter and virt-api, and the lines in parentheses are the other"
echo "   KubeVirt controllers, simulated)"
"$here/../tests/e2e/journey.sh" --demo "$bin"
