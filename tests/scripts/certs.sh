#!/usr/bin/env bash
# tests/scripts/certs.sh - `vmsnapd certs` as an admin runs it: create, verify
# with the openssl CLI, check (and its failures), cabundle and --write, renew.
# Exits 0 when every step passes; names the first step that fails.
set -euo pipefail

: "${VMSNAPD:?set VMSNAPD to the vmsnapd binary}"
command -v openssl >/dev/null || { echo "certs.sh: openssl CLI not found"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/out"
passed=0

fail() {
    echo "FAIL: $*" >&2
    [ -f "$work/log" ] && sed 's/^/  | /' "$work/log" >&2
    exit 1
}
ok() {
    passed=$((passed + 1))
    echo "ok - $*"
}
# Runs vmsnapd with stdout+stderr in $work/log; sets $rc.
run() {
    set +e
    "$VMSNAPD" "$@" >"$work/log" 2>&1
    rc=$?
    set -e
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1"; }
expect_log() { grep -qF -- "$1" "$work/log" || fail "$2: output lacks: $1"; }

# --- create ---
run certs create --service vmsnapd --namespace kubevirt --out "$out" \
    --dns webhook.example.com --ip 10.96.0.10 --ip fd00::10
expect_rc 0 "create"
for f in ca.crt ca.key tls.crt tls.key; do
    [ -s "$out/$f" ] || fail "create: $f missing"
done
[ "$(stat -c %a "$out/tls.key")" = 600 ] || fail "create: tls.key mode is not 0600"
[ "$(stat -c %a "$out/ca.key")" = 600 ] || fail "create: ca.key mode is not 0600"
ok "create writes ca.crt ca.key tls.crt tls.key, keys 0600"

openssl verify -CAfile "$out/ca.crt" "$out/tls.crt" >"$work/log" 2>&1 ||
    fail "openssl verify"
ok "openssl verify -CAfile ca.crt tls.crt"

openssl x509 -in "$out/tls.crt" -noout -text >"$work/log"
for san in DNS:vmsnapd DNS:vmsnapd.kubevirt DNS:vmsnapd.kubevirt.svc \
    DNS:vmsnapd.kubevirt.svc.cluster.local DNS:webhook.example.com \
    "IP Address:10.96.0.10" "IP Address:FD00:0:0:0:0:0:0:10"; do
    grep -qiF "$san" "$work/log" || fail "x509 -text lacks $san"
done
expect_log "TLS Web Server Authentication" "x509 -text EKU"
expect_log "ecdsa-with-SHA256" "x509 -text signature"
openssl x509 -in "$out/ca.crt" -noout -text >"$work/log"
expect_log "CA:TRUE" "CA basic constraints"
expect_log "Certificate Sign" "CA key usage"
ok "openssl x509 -text shows the SANs, serverAuth and a CA"

run certs create --service vmsnapd --namespace kubevirt --out "$out"
expect_rc 1 "create over existing files"
expect_log "already exists; pass --force" "create over existing files"
ok "create refuses to overwrite"

# --- check ---
run certs check --cert "$out/tls.crt" --key "$out/tls.key" --ca "$out/ca.crt" \
    --host vmsnapd.kubevirt.svc
expect_rc 0 "check"
expect_log "ok: $out/tls.crt is valid until" "check"
run certs check --cert "$out/tls.crt" --key "$out/tls.key" --host fd00:0::10
expect_rc 0 "check IPv6 host"
ok "check passes (DNS and IP host)"

run certs check --cert "$out/tls.crt" --key "$out/ca.key" --ca "$out/ca.crt"
expect_rc 1 "check with the wrong key"
expect_log "problem: $out/ca.key does not match $out/tls.crt" "check wrong key"
ok "check with the wrong key fails and says so"

run certs check --cert "$out/tls.crt" --key "$out/tls.key" --host vmsnapd.default.svc
expect_rc 1 "check with the wrong host"
expect_log "problem: host \"vmsnapd.default.svc\" is not in the certificate's SANs (has: vmsnapd, vmsnapd.kubevirt," "check wrong host"
ok "check with a host not in the SANs fails and lists them"

mkdir "$work/other"
run certs create --service other --namespace ns --out "$work/other" --rsa
expect_rc 0 "create a second CA"
run certs check --cert "$out/tls.crt" --key "$out/tls.key" --ca "$work/other/ca.crt"
expect_rc 1 "check against another CA"
expect_log "certificate is not signed by $work/other/ca.crt: unable to get local issuer certificate" "check other CA"
ok "check against another CA fails with OpenSSL's reason"

run certs check --cert "$out/missing.crt" --key "$out/tls.key"
expect_rc 2 "check with a missing file"
expect_log "cannot open $out/missing.crt" "check missing file"
run certs check --cert "$out/tls.crt"
expect_rc 2 "check without --key"
expect_log "--key is required" "check without --key"
ok "check: unreadable input and missing flags exit 2"

# --- cabundle ---
run certs cabundle --ca "$out/ca.crt"
expect_rc 0 "cabundle"
[ "$(wc -l <"$work/log")" -eq 1 ] || fail "cabundle: not one line"
base64 -d <"$work/log" | cmp -s - "$out/ca.crt" || fail "cabundle: does not decode to ca.crt"
bundle=$(cat "$work/log")
ok "cabundle decodes back to ca.crt"

cat >"$work/webhooks.yaml" <<'YAML'
# vmsnapd webhooks; caBundle is set by `vmsnapd certs cabundle --write`
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: vmsnapd
webhooks:
  - name: validate.snapshot.vmsnapd.io
    clientConfig:
      service: {name: vmsnapd, namespace: kubevirt, path: /validate}
      caBundle: "" # filled in at deploy time
    admissionReviewVersions: ["v1"]
    sideEffects: None
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: vmsnapd
webhooks:
- name: mutate.snapshot.vmsnapd.io
  clientConfig:
    caBundle: |
      bm90IGEgcmVhbCBidW5kbGU=
    service:
      name: vmsnapd
      namespace: kubevirt
  sideEffects: None
YAML
cp "$work/webhooks.yaml" "$work/before.yaml"
run certs cabundle --ca "$out/ca.crt" --write "$work/webhooks.yaml"
expect_rc 0 "cabundle --write"
expect_log "webhooks.yaml: set 2 caBundle values" "cabundle --write"
[ "$(grep -c "caBundle: $bundle" "$work/webhooks.yaml")" -eq 2 ] ||
    fail "cabundle --write: values not set"
grep -qF 'caBundle: '"$bundle"' # filled in at deploy time' "$work/webhooks.yaml" ||
    fail "cabundle --write: trailing comment lost"
# every line but the caBundle ones (and the old block value) is unchanged
diff <(grep -v 'caBundle:' "$work/before.yaml" | grep -v 'bm90IGEgcmVhbCBidW5kbGU=') \
    <(grep -v 'caBundle:' "$work/webhooks.yaml") >"$work/log" ||
    fail "cabundle --write changed other lines"
ls -A "$work" | grep -q '\.tmp-' && fail "cabundle --write left a temporary file"
if command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
    python3 - "$work/webhooks.yaml" "$bundle" <<'PY' || fail "cabundle --write: YAML no longer parses"
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
got = [w["clientConfig"]["caBundle"] for d in docs for w in d["webhooks"]]
assert got == [sys.argv[2]] * 2, got
PY
fi
ok "cabundle --write rewrites only the caBundle values of a webhook YAML"

# the repository's own webhook configurations, when present
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -f "$root/manifests/base/webhooks.yaml" ]; then
    cp "$root/manifests/base/webhooks.yaml" "$work/repo-webhooks.yaml"
    want=$(grep -c '^[[:space:]]*caBundle:' "$work/repo-webhooks.yaml" || true)
    run certs cabundle --ca "$out/ca.crt" --write "$work/repo-webhooks.yaml"
    expect_rc 0 "cabundle --write manifests/base/webhooks.yaml"
    [ "$(grep -c "^[[:space:]]*caBundle: $bundle\$" "$work/repo-webhooks.yaml")" -eq "$want" ] ||
        fail "cabundle --write manifests/base/webhooks.yaml: not all $want values set"
    diff <(grep -v '^[[:space:]]*caBundle:' "$root/manifests/base/webhooks.yaml") \
        <(grep -v '^[[:space:]]*caBundle:' "$work/repo-webhooks.yaml") >"$work/log" ||
        fail "cabundle --write changed other lines of manifests/base/webhooks.yaml"
    ok "cabundle --write on a copy of manifests/base/webhooks.yaml ($want values)"
fi

printf 'kind: ConfigMap\n' >"$work/plain.yaml"
run certs cabundle --ca "$out/ca.crt" --write "$work/plain.yaml"
expect_rc 1 "cabundle --write without a caBundle"
expect_log "has no caBundle: field" "cabundle --write without a caBundle"
ok "cabundle --write refuses a file without caBundle"

# --- renew ---
serial() { openssl x509 -in "$1" -noout -serial; }
before=$(serial "$out/tls.crt")
ca_sum=$(cat "$out/ca.crt" "$out/ca.key" | sha256sum)
run certs renew --ca-cert "$out/ca.crt" --ca-key "$out/ca.key" --out "$out"
expect_rc 0 "renew (not due)"
expect_log "not renewed" "renew (not due)"
[ "$(serial "$out/tls.crt")" = "$before" ] || fail "renew replaced a fresh certificate"
run certs renew --ca-cert "$out/ca.crt" --ca-key "$out/ca.key" --out "$out" --force
expect_rc 0 "renew --force"
[ "$(serial "$out/tls.crt")" != "$before" ] || fail "renew --force kept the serial"
[ "$(cat "$out/ca.crt" "$out/ca.key" | sha256sum)" = "$ca_sum" ] || fail "renew changed the CA"
openssl verify -CAfile "$out/ca.crt" "$out/tls.crt" >"$work/log" 2>&1 || fail "renewed cert does not verify"
run certs check --cert "$out/tls.crt" --key "$out/tls.key" --ca "$out/ca.crt" --host 10.96.0.10
expect_rc 0 "check after renew (SANs reused)"
ok "renew: skips a fresh certificate; --force re-issues from the same CA with the same SANs"

# --- usage ---
run certs --help
expect_rc 0 "certs --help"
expect_log "renew" "certs --help"
for sub in create check cabundle renew; do
    run certs "$sub" --help
    expect_rc 0 "certs $sub --help"
    expect_log "usage: vmsnapd certs $sub" "certs $sub --help"
done
run certs create --service vmsnapd --namespace kubevirt --out "$out" --days
expect_rc 2 "flag without value"
expect_log "flag --days needs a value" "flag without value"
run certs create --service vmsnapd --namespace kubevirt --out "$out" --nope
expect_rc 2 "unknown flag"
expect_log "unknown flag --nope" "unknown flag"
ok "help and flag errors"

echo "certs.sh: $passed checks passed"
