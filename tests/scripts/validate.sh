#!/usr/bin/env bash
# `vmsnapd validate` as people and pipelines use it. The corpus in
# tests/data/validate/: each <case>.expected is the exact stdout of one run
# followed by "exit N"; the arguments after "validate" are <case>.args if
# there is one, else the input <case>.yaml, <case>.json or the folder
# <case>/. Then stdin, -o json read by python3, usage errors and a large
# generated stream.
source "$(dirname "$0")/lib.inc"
bin=$(cd "$(dirname "$VMSNAPD")" && pwd)/$(basename "$VMSNAPD")
cd tests/data/validate

case_args() { # case -> the arguments after "validate"
  if [ -f "$1.args" ]; then cat "$1.args"
  elif [ -f "$1.yaml" ]; then echo "$1.yaml"
  elif [ -f "$1.json" ]; then echo "$1.json"
  else echo "$1"; fi
}

run() { # args... -> $T/out (stdout, then "exit N"), $T/err
  local rc=0
  "$bin" validate "$@" >$T/out 2>$T/err || rc=$?
  echo "exit $rc" >>$T/out
}

# -- the corpus: every case, every difference shown
failed=()
for exp in *.expected; do
  c=${exp%.expected}
  # shellcheck disable=SC2046 # args files are split on purpose
  run $(case_args "$c")
  checks=$((checks + 1))
  if ! diff -u "$exp" $T/out >$T/diff; then
    printf 'FAIL case %s: expected (-) vs actual (+):\n' "$c" >&2
    cat $T/diff >&2
    sed 's/^/  stderr: /' $T/err >&2
    failed+=("$c")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "failed cases: ${failed[*]}" >&2; exit 1; }
for f in *.yaml *.json; do # an input without its expectation tests nothing
  [ -e "${f%.*}.expected" ] || { echo "FAIL $f has no .expected" >&2; exit 1; }
done

# -- stdin reads the same, named <stdin>
run - < bad-snapshot.yaml
expect_eq "stdin" "$(sed 's/^bad-snapshot\.yaml:/<stdin>:/' bad-snapshot.expected)" "$(cat $T/out)"

# -- the state-rules note: once, on stderr, only without --objects
run good.yaml bad-snapshot.yaml
expect_eq "note once" 1 "$(grep -c 'no --objects given' $T/err)"
run $(cat state.args)
expect_eq "no note with --objects" "" "$(cat $T/err)"

# -- -o json: one document for CI, the same findings as the text
json_args=(good.yaml bad-snapshot.yaml does-not-exist.yaml kustomize
           syntax-error.yaml content.yaml --objects fixtures/cluster.yaml
           state.yaml)
run "${json_args[@]}"
cp $T/out $T/text
run -o json "${json_args[@]}"
python3 - $T/out $T/text <<'EOF'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
exit_line, doc = lines[-1], json.loads("\n".join(lines[:-1]))
text = open(sys.argv[2]).read().splitlines()
assert text[-1] == exit_line, (text[-1], exit_line)
assert list(doc) == ["files", "problems", "summary"], list(doc)
keys = {"file": str, "line": int, "column": int, "field": str,
        "message": str, "kind": str, "name": str, "severity": str}
rendered = []
for p in doc["problems"]:
    assert set(p) == set(keys), p
    for k, t in keys.items():
        assert isinstance(p[k], t), (k, p)
    assert p["severity"] in ("error", "warning", "fatal"), p
    where = "%s:%d:%d" % (p["file"], p["line"], p["column"]) if p["line"] else p["file"]
    what = ("warning: " if p["severity"] == "warning" else
            p["field"] + ": " if p["field"] else "")
    rendered.append("%s: %s%s" % (where, what, p["message"]))
assert rendered == text[:-2], "\n".join(rendered) + "\n--- vs ---\n" + "\n".join(text[:-2])
s = doc["summary"]
sev = [p["severity"] for p in doc["problems"]]
assert s["problems"] == sev.count("error") and s["warnings"] == sev.count("warning"), s
assert s["unreadable"] == len({p["file"] for p in doc["problems"] if p["severity"] == "fatal"}), s
assert s["files"] == len(doc["files"]) and s["unreadable"] == 2, s
for k in ("documents", "objects", "skipped", "problems", "warnings"):
    assert s[k] == sum(f[k] for f in doc["files"]), k
m = re.match(r"(\d+) documents?, (\d+) objects? checked, (\d+) skipped", text[-2])
assert m and [int(g) for g in m.groups()] == [s["documents"], s["objects"], s["skipped"]], text[-2]
assert exit_line == "exit %d" % s["exitCode"] and s["exitCode"] == 2, exit_line
assert s["stateRulesSkipped"] is False, s
names = [(p["kind"], p["name"]) for p in doc["problems"] if p["file"] == "state.yaml"]
assert ("VirtualMachineRestore", "into-a-running-vm") in names, names
EOF
checks=$((checks + 1))
# the walk: byte order, hidden entries and links to folders skipped, a
# link to a file read, only *.yaml, *.yml and *.json
run -o json kustomize
expect_eq "walk order" "kustomize/base/kustomization.yaml
kustomize/base/restore.yml
kustomize/base/snapshot.yaml
kustomize/overlays/prod/kustomization.yaml
kustomize/overlays/prod/snapshot-patch.yaml
kustomize/overlays/staging/extra.json
kustomize/overlays/staging/kustomization.yml
kustomize/overlays/staging/linked-snapshot.yaml" "$(head -n -1 $T/out | python3 -c '
import json, sys
print("\n".join(f["file"] for f in json.load(sys.stdin)["files"]))')"
run -o json good.yaml
expect_contains "json clean" '"exitCode": 0' "$(cat $T/out)"
expect_eq "json clean exit" "exit 0" "$(tail -1 $T/out)"

# -- usage: exit 2 and a reason on stderr
run
expect_eq "no PATH exit" "exit 2" "$(cat $T/out)"
expect_contains "no PATH says so" "no PATH given" "$(cat $T/err)"
run -o xml good.yaml
expect_eq "bad -o exit" "exit 2" "$(tail -1 $T/out)"
expect_contains "bad -o says so" "-o takes text or json" "$(cat $T/err)"
printf 'snapshot:\n  maxPerVm: 3\n' >$T/bad-policy.yaml
run --policy $T/bad-policy.yaml good.yaml
expect_eq "bad policy exit" "exit 2" "$(tail -1 $T/out)"
expect_contains "bad policy position" "bad-policy.yaml:2:3: snapshot.maxPerVm: unknown key" "$(cat $T/err)"
run --objects does-not-exist.yaml good.yaml
expect_eq "bad objects exit" "exit 2" "$(tail -1 $T/out)"
expect_contains "help" "usage: vmsnapd validate" "$("$bin" validate --help)"
expect_contains "top help lists validate" "validate" "$("$bin" --help)"

# -- a large stream: counts, and each position on the line it names
./gen-large.sh 2000 >$T/large.yaml
(cd $T && "$bin" validate large.yaml >out 2>err) || rc=$?
expect_eq "large exit" 1 "${rc:-0}"
expect_eq "large summary" "2000 documents, 1500 objects checked, 500 skipped (other kinds), 20 problems in 1 file" "$(tail -1 $T/out)"
bad=0
while IFS=: read -r _ line col _; do
  [[ $(sed -n "${line}p" $T/large.yaml) == "    kind: Pod" && $col == 5 ]] || bad=$((bad + 1))
done < <(head -n -1 $T/out)
expect_eq "large positions" 0 "$bad"

echo "validate.sh: $checks checks passed"
