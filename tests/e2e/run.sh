#!/usr/bin/env bash
# make e2e: the documented user journey through kubectl against tools/kube-sim, with vmsnapd serve
# as the admission webhook and the snapshot controller (tests/e2e/journey.sh --test), then the
# controller's own cases (tests/e2e/snapshots.sh) and the restore controller's
# (tests/e2e/restores.sh), and the restore controller SIGKILLed at each step (restore_faults.sh).
# $VMSNAPD names the binary (plain or ASan build). Prints one line per check and "N passed, N
# failed"; exits non-zero on a failure.
here=$(cd "$(dirname "$0")" && pwd)
: "${VMSNAPD:=$(cd "$here/../.." && pwd)/build/vmsnapd}"
"$here/journey.sh" --test "$VMSNAPD" || rc=1
"$here/snapshots.sh" "$VMSNAPD" || rc=1
"$here/restores.sh" "$VMSNAPD" || rc=1
"$here/restore_faults.sh" "$VMSNAPD" || rc=1
exit "${rc:-0}"
