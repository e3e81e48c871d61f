#!/usr/bin/env bash
# `vmsnapd review` as a pipeline uses it: exit codes, stdin, the examples'
# decisions, and one-line errors for input that is not a review.
source "$(dirname "$0")/lib.inc"
EX=manifests/examples
bin=$VMSNAPD

decision() { # review file -> "allowed" or "denied CODE: MESSAGE"
  "$bin" review --objects $EX/cluster.yaml "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["response"]
print("allowed" if r["allowed"] else
      "denied %d: %s" % (r["status"]["code"], r["status"]["message"]))'
}

# Every example answers as its name says.
while IFS=$'\t' read -r name op what; do
  got=$(decision $EX/reviews/$name.json)
  case $name in
    snapshot|snapshot-deadline-seconds|restore|restore-new-vm)
      expect_eq "$name" allowed "$got" ;;
    content-by-user|snapshot-delete-while-restoring)
      expect_contains "$name" "denied 403: " "$got" ;;
    *) expect_contains "$name" "denied 422: " "$got" ;;
  esac
done < $EX/index.tsv

expect_eq "running VM" \
  'denied 422: spec.target: VirtualMachine "running-vm" run strategy has to be Halted: stop it first (virtctl stop running-vm)' \
  "$(decision $EX/reviews/restore-running-vm.json)"

# stdin works, and without --objects the state rules are skipped, saying so
out=$("$bin" review - < $EX/reviews/restore-running-vm.json)
expect_contains "stdin, no objects: allowed" '"allowed":true' "$out"
expect_contains "skipped warning" "rules that read VMs, snapshots and restores were skipped" "$out"

# the response echoes the uid
uid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["request"]["uid"])' $EX/reviews/snapshot.json)
expect_contains "uid echoed" "\"uid\":\"$uid\"" "$("$bin" review $EX/reviews/snapshot.json)"

# --endpoint validate never patches; mutate never denies a bad kind
expect_eq "validate: no patch" "" "$("$bin" review --endpoint validate $EX/reviews/snapshot.json | grep -o '"patch"' || true)"
expect_contains "mutate only" '"allowed":true' "$("$bin" review --endpoint mutate $EX/reviews/snapshot-bad-kind.json)"

# a policy changes the decision
printf 'restore:\n  requireStoppedTarget: false\n' > $T/relaxed.yaml
expect_eq "relaxed policy" allowed "$("$bin" review --policy $T/relaxed.yaml --objects $EX/cluster.yaml $EX/reviews/restore-running-vm.json | python3 -c 'import json,sys; print("allowed" if json.load(sys.stdin)["response"]["allowed"] else "denied")')"

# not a review: exit 2 and one line on stderr naming the problem
set +e
printf 'not json' | "$bin" review - >$T/out 2>$T/err; rc=$?
expect_eq "not JSON exit" 2 "$rc"
expect_eq "not JSON: one line" 1 "$(wc -l < $T/err)"
expect_contains "not JSON message" "not an AdmissionReview: invalid JSON at line 1 column 3" "$(cat $T/err)"
echo '{"request":{}}' | "$bin" review - >$T/out 2>$T/err; rc=$?
expect_eq "no uid exit" 2 "$rc"
expect_contains "no uid message" "request.uid is missing" "$(cat $T/err)"
expect_eq "nothing on stdout" "" "$(cat $T/out)"
"$bin" review /nonexistent.json >$T/out 2>$T/err; rc=$?
expect_eq "missing file exit" 2 "$rc"
expect_contains "missing file message" "/nonexistent.json" "$(cat $T/err)"
printf 'snapshot:\n  maxPerVm: 3\n' > $T/bad-policy.yaml
"$bin" review --policy $T/bad-policy.yaml $EX/reviews/snapshot.json >$T/out 2>$T/err; rc=$?
expect_eq "bad policy exit" 2 "$rc"
expect_contains "bad policy names line and column" "bad-policy.yaml:2:3: snapshot.maxPerVm: unknown key" "$(cat $T/err)"
# an empty policy file (a rewrite caught half-way) is an error, not defaults
printf '# snapshot:\n' > $T/empty-policy.yaml
"$bin" review --policy $T/empty-policy.yaml $EX/reviews/snapshot.json >$T/out 2>$T/err; rc=$?
expect_eq "empty policy exit" 2 "$rc"
expect_contains "empty policy names the file" "empty-policy.yaml: the policy file is empty" "$(cat $T/err)"
"$bin" review --objects $EX/index.tsv $EX/reviews/snapshot.json >$T/out 2>$T/err; rc=$?
expect_eq "bad objects exit" 2 "$rc"
# a malformed object inside a review is a 400 answer, exit 0
echo '{"request":{"uid":"u1","operation":"CREATE","resource":{"group":"snapshot.kubevirt.io","resource":"virtualmachinesnapshots"},"object":{"spec":{"source":"vm"}}}}' \
  | "$bin" review - >$T/out 2>$T/err; rc=$?
set -e
expect_eq "malformed object exit" 0 "$rc"
expect_contains "malformed object 400" '"code":400' "$(cat $T/out)"
expect_contains "malformed object names the field" 'spec.source: expected an object, got a string' "$(cat $T/out)"

# help
expect_contains "help" "usage: vmsnapd review" "$("$bin" review --help)"
expect_contains "top help" "review" "$("$bin" --help)"
echo "review.sh: $checks checks passed"
