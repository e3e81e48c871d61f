#!/usr/bin/env bash
# Runs every tests/scripts/*.sh against the built binary ($VMSNAPD) and
# prints one closing line "N passed, N failed". A script passes by exiting 0.
set -u
cd "$(dirname "$0")/.."
: "${VMSNAPD:?set VMSNAPD to the vmsnapd binary}"
export VMSNAPD
pass=0 fail=0 failed=()
for t in tests/scripts/*.sh; do
  [ -e "$t" ] || continue
  log=$(mktemp)
  start=$(date +%s)
  if bash "$t" >"$log" 2>&1; then
    pass=$((pass + 1)); status=ok
  else
    fail=$((fail + 1)); status=FAIL; failed+=("$t")
  fi
  printf '%-40s %s (%ss)\n' "$t" "$status" "$(( $(date +%s) - start ))"
  [ "$status" = ok ] || sed 's/^/    /' "$log" | tail -40
  rm -f "$log"
done
echo "scripts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
