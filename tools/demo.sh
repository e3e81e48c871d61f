#!/usr/bin/env bash
# make demo: the admission decisions vmsnapd makes for the documented
# snapshot and restore examples, through `vmsnapd review`.
set -euo pipefail
bin=${1:?usage: demo.sh VMSNAPD}
here=$(cd "$(dirname "$0")" && pwd)
echo "== vmsnapd review over manifests/examples (cluster state: cluster.yaml)"
echo
python3 "$here/review-table.py" "$bin"
