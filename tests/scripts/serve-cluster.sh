#!/usr/bin/env bash
# tests/scripts/serve-cluster.sh - `vmsnapd serve` with cluster access, against tools/kube-sim:
# the webhook reads VMs from its informer cache, finds a fresh object through the live GET,
# answers 503 when it cannot read state it needs (and still answers rules that need none),
# answers 503 and fails /readyz while its cache is stale, reads live off the server threads
# (bounded, shared, a short wait), leader election hands over after SIGKILL and is released on SIGTERM, --controllers none
# takes no Lease, and without any kubeconfig serve says it runs webhook-only.
# Functional deadlines only (generous); nothing here measures time.
. "$(dirname "$0")/lib.inc"
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in python3 openssl curl; do
  command -v "$tool" >/dev/null || { echo "serve-cluster.sh: $tool is missing" >&2; exit 1; }
done

pids=()
stop_all() {
  local p
  set +e # every process is stopped, whatever failed
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  [ -z "${KEEP:-}" ] || cp -r "$T" "$KEEP" # KEEP=DIR keeps the logs for a look
  rm -rf "$T"
}
trap stop_all EXIT
die() {
  echo "FAIL $*" >&2
  for f in "$T"/*.err; do echo "--- ${f##*/}" >&2; tail -n 12 "$f" >&2; done
  exit 1
}
# until SECONDS CMD...: runs CMD every 0.1 s until it succeeds, or fails the test
until_ok() {
  local n=$(($1 * 10)) what=$2
  shift 2
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  die "$what: not within $((n / 10)) s"
}

# --- kube-sim --------------------------------------------------------------------------------
python3 "$root/tools/kube-sim" --dir "$T/ksim" --port 0 --log-requests \
  --load "$root/manifests/crds/virtualmachinesnapshots.yaml" \
  --load "$root/manifests/crds/virtualmachinesnapshotcontents.yaml" \
  --load "$root/manifests/crds/virtualmachinerestores.yaml" --load "$root/tools/kube-sim-crds" >"$T/ksim.out" 2>"$T/ksim.err" &
pids+=($!)
until_ok 30 "kube-sim start" test -s "$T/ksim.out"
ksim_port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' \
  "$T/ksim.out")
kc="$T/ksim/kubeconfig"
api="https://127.0.0.1:$ksim_port"
ksim() { curl -sS --cacert "$T/ksim/ca.crt" --cert "$T/ksim/admin.crt" --key "$T/ksim/admin.key" "$@"; }
"$VMSNAPD" certs create --service vmsnapd --namespace vmsnapd-system --out "$T/certs" >/dev/null 2>&1 ||
  die "certs create"

# serve NAME ARGS...: starts `vmsnapd serve` (under env "${serve_env[@]}") logging to
# $T/NAME.err, sets port_NAME and pid_NAME
serve_env=()
serve() {
  local name=$1 port=""
  shift
  env "${serve_env[@]}" "$VMSNAPD" serve --listen 127.0.0.1:0 --tls-cert-file "$T/certs/tls.crt" \
    --tls-key-file "$T/certs/tls.key" --shutdown-delay 0 --grace-period 5s "$@" \
    >"$T/$name.out" 2>"$T/$name.err" &
  pids+=($!)
  eval "pid_$name=$!"
  for _ in $(seq 300); do
    port=$(sed -n 's/.*"msg":"serving".*"port":\([0-9]*\).*/\1/p' "$T/$name.err" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$!" 2>/dev/null || die "serve $name exited"
    sleep 0.1
  done
  [ -n "$port" ] || die "serve $name logged no port"
  eval "port_$name=$port"
}
ready() { [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$1/readyz")" = 200 ]; }
readyz() { curl -sk "https://127.0.0.1:$1/readyz"; }
# review PORT RESOURCE BODY-OF-REQUEST: prints the response object, compact JSON
review() {
  printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":%s}' "$3" |
    curl -sk -H 'Content-Type: application/json' --data-binary @- \
      "https://127.0.0.1:$1/validate-$2" |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["response"], sort_keys=True))'
}
restore_req() { # VM
  printf '{"uid":"u-%s","operation":"CREATE","namespace":"default","name":"r-%s",' "$1" "$1"
  printf '"resource":{"group":"snapshot.kubevirt.io","version":"v1beta1","resource":'
  printf '"virtualmachinerestores"},"userInfo":{"username":"alice"},"object":{"apiVersion":'
  printf '"snapshot.kubevirt.io/v1beta1","kind":"VirtualMachineRestore","metadata":{"name":'
  printf '"r-%s","namespace":"default"},"spec":{"target":{"apiGroup":"kubevirt.io","kind":' "$1"
  printf '"VirtualMachine","name":"%s"},"virtualMachineSnapshotName":"s1"}}}' "$1"
}
field() { # JSON PYTHON-EXPR over r
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); v=eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}
running_vm() { # NAME
  ksim -X POST -H 'Content-Type: application/json' "$api/apis/kubevirt.io/v1/namespaces/default/virtualmachines" \
    -d "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"running\":true,\"template\":{\"spec\":{}}}}" \
    -o /dev/null -w '%{http_code}'
}
# fault REGEX COUNT: the next COUNT GETs whose path matches answer 500; nofaults clears them
fault() {
  ksim -X POST "$api/kube-sim/faults" -o /dev/null \
    -d "{\"method\":\"GET\",\"pathRegex\":\"$1\",\"code\":500,\"count\":$2}"
}
nofaults() { ksim -X DELETE "$api/kube-sim/faults" -o /dev/null; }
one_vm() { printf '/namespaces/default/virtualmachines/%s($|[?])' "$1"; }
holder() { # NAMESPACE: the Lease's holderIdentity, "<none>" when there is no Lease
  ksim "$api/apis/coordination.k8s.io/v1/namespaces/$1/leases/vmsnapd-leader" |
    python3 -c 'import json,sys; o=json.load(sys.stdin); print(o.get("spec",{}).get("holderIdentity","") if o.get("kind")=="Lease" else "<none>")'
}
holder_is() { [ "$(holder "$1")" = "$2" ]; }
not_stopped() { printf 'VirtualMachine \\"%s\\" is not stopped' "$1"; } # as in the JSON

LEADER=(--kubeconfig "$kc" --namespace default --lease-duration 2s --renew-deadline 1500ms
  --retry-period 200ms)

# --- 1. a running VM, read from the cache ------------------------------------------------------
expect_eq "create vm1" 201 "$(running_vm vm1)"
serve a "${LEADER[@]}" --identity a
until_ok 60 "serve a ready (caches synced)" ready "$port_a"
fault "$(one_vm vm1)" 100000 # a GET of vm1 would fail: the answer must come from the cache
r=$(review "$port_a" virtualmachinerestores "$(restore_req vm1)")
expect_eq "1 running VM: denied" "False 422" "$(field "$r" 'r["allowed"], r["status"]["code"]')"
expect_contains "1 running VM, read from the cache: the cause" "$(not_stopped vm1)" "$r"
nofaults

# --- 2. an object the cache has not seen: the live GET -----------------------------------------
# the VM informer's list and watch now fail, and its open watch is cut: vm2 reaches the cache
# only through the live GET (a request for one object, which the fault does not match)
fault '^/apis/kubevirt[.]io/v1/virtualmachines' 100000
ksim -X POST "$api/kube-sim/cut-watches" -d '{"mode":"abort"}' -o /dev/null
expect_eq "create vm2" 201 "$(running_vm vm2)"
fault "$(one_vm vm2)" 1 # the first GET of vm2 fails: proof that the review reads it live
r=$(review "$port_a" virtualmachinerestores "$(restore_req vm2)")
expect_eq "2 synced cache, live GET fails: 503" "False 503" "$(field "$r" 'r["allowed"], r["status"]["code"]')"
expect_contains "2 ... naming the object" 'vmsnapd cannot read VirtualMachine default/vm2 right now' "$r"
r=$(review "$port_a" virtualmachinerestores "$(restore_req vm2)")
expect_contains "2 fresh VM found by the live GET: denied" "$(not_stopped vm2)" "$r"
r=$(review "$port_a" virtualmachinerestores "$(restore_req vm3)")
expect_eq "2 absent everywhere (404): only the missing snapshot's cause" \
  "False 422 1" "$(field "$r" 'r["allowed"], r["status"]["code"], len(r["status"]["details"]["causes"])')"
nofaults

# --- 4. leader hand-over after SIGKILL, release on SIGTERM ---------------------------------------
until_ok 60 "a leads" holder_is default a
serve b "${LEADER[@]}" --identity b
until_ok 60 "serve b ready" ready "$port_b"
expect_eq "4 b does not take a live lease" a "$(holder default)"
kill -KILL "$pid_a"
{ wait "$pid_a"; } 2>/dev/null || true # reaped quietly
until_ok 60 "b leads after a was killed" holder_is default b
until_ok 30 "b logs that it leads" grep -q '"msg":"leading: reconcilers started"' "$T/b.err"
r=$(review "$port_b" virtualmachinerestores "$(restore_req vm1)")
expect_contains "4 b serves the webhook too" "$(not_stopped vm1)" "$r"
# term NAME: SIGTERM, then term_rc is the exit code (0: drained; under ASan also no leak)
term() {
  local pid
  eval "pid=\$pid_$1"
  kill -TERM "$pid"
  term_rc=0
  wait "$pid" || term_rc=$?
}
term b
expect_eq "4 b drains and exits 0" 0 "$term_rc"
expect_eq "4 released on clean shutdown" "" "$(holder default)"
expect_contains "4 b released it" '"msg":"leader lease released"' "$(cat "$T/b.err")"

# --- 5. --controllers none: webhook only, no Lease ---------------------------------------------
serve c --kubeconfig "$kc" --namespace kube-public --identity c --controllers none \
  --lease-duration 2s --renew-deadline 1500ms --retry-period 200ms
until_ok 60 "serve c ready" ready "$port_c"
r=$(review "$port_c" virtualmachinerestores "$(restore_req vm1)")
expect_contains "5 c reads the cache" "$(not_stopped vm1)" "$r"
expect_eq "5 no Lease in c's namespace" "<none>" "$(holder kube-public)"
if grep -q 'leader election started' "$T/c.err"; then die "5 c started a leader election"; fi

# --- 3. the API server unreachable, cache never synced: 503, never allow ---------------------------
sed "s#127.0.0.1:$ksim_port#127.0.0.1:1#" "$kc" >"$T/dead.kubeconfig"
serve d --kubeconfig "$T/dead.kubeconfig" --controllers none --live-get-timeout 2s
expect_eq "3 not ready while the caches are not synced" "not ready" "$(readyz "$port_d")"
r=$(review "$port_d" virtualmachinerestores "$(restore_req vm1)")
expect_eq "3 state needed: 503" "False 503 ServiceUnavailable" \
  "$(field "$r" 'r["allowed"], r["status"]["code"], r["status"]["reason"]')"
expect_contains "3 the message says what and to retry" \
  'vmsnapd cannot read VirtualMachineSnapshot default/s1 right now: ' "$r"
expect_contains "3 ... try again" '; try again' "$r"
upd='{"uid":"u-upd","operation":"UPDATE","namespace":"default","name":"s1","resource":{"group":'
upd+='"snapshot.kubevirt.io","version":"v1beta1","resource":"virtualmachinesnapshots"},'
upd+='"userInfo":{"username":"alice"},"object":{"apiVersion":"snapshot.kubevirt.io/v1beta1",'
upd+='"kind":"VirtualMachineSnapshot","metadata":{"name":"s1","namespace":"default"},"spec":'
upd+='{"source":{"apiGroup":"kubevirt.io","kind":"VirtualMachine","name":"vm2"}}},"oldObject":'
upd+='{"apiVersion":"snapshot.kubevirt.io/v1beta1","kind":"VirtualMachineSnapshot","metadata":'
upd+='{"name":"s1","namespace":"default"},"spec":{"source":{"apiGroup":"kubevirt.io","kind":'
upd+='"VirtualMachine","name":"vm1"}}}}'
r=$(review "$port_d" virtualmachinesnapshots "$upd")
expect_eq "3 a rule without state still answers" "False 422" "$(field "$r" 'r["allowed"], r["status"]["code"]')"
expect_contains "3 ... with its own cause" 'spec is immutable after creation' "$r"

# --- 6. no kubeconfig, no in-cluster config: webhook only, said at start ---------------------------
mkdir -p "$T/home"
serve_env=(-u KUBECONFIG -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT HOME="$T/home")
serve e
expect_contains "6 says webhook only" '"msg":"no cluster access: webhook only"' "$(cat "$T/e.err")"
expect_eq "6 ready at once" ok "$(readyz "$port_e")"
r=$(review "$port_e" virtualmachinerestores "$(restore_req vm1)")
expect_eq "6 state rules skipped: allowed" True "$(field "$r" 'r["allowed"]')"
expect_contains "6 ... with the warning" 'vmsnapd has no view of the cluster' "$r"

# --- 7. a stale cache: 503 and not ready, said on /metrics; fresh again after ----------------
serve f --kubeconfig "$kc" --controllers none --cache-stale-after 1s --live-get-timeout 2s
until_ok 60 "serve f ready" ready "$port_f"
r=$(review "$port_f" virtualmachinerestores "$(restore_req vm1)")
expect_contains "7 fresh cache: the rule decides" "$(not_stopped vm1)" "$r"
fault '^/api' 100000
ksim -X POST "$api/kube-sim/cut-watches" -d '{"mode":"abort"}' -o /dev/null
not_ready() { ! ready "$1"; }
until_ok 60 "f not ready once its caches are stale" not_ready "$port_f"
r=$(review "$port_f" virtualmachinerestores "$(restore_req vm1)")
expect_eq "7 stale cache: 503, not decided from stale data" "False 503" \
  "$(field "$r" 'r["allowed"], r["status"]["code"]')"
expect_contains "7 ... saying why" 'has not heard from the API server for over 1000 ms' "$r"
metrics() { curl -sk "https://127.0.0.1:$1/metrics"; }
expect_contains "7 /metrics says so" 'vmsnapd_informer_fresh{resource="virtualmachines"} 0' \
  "$(metrics "$port_f")"
expect_contains "7 ... and counts the failures" 'vmsnapd_informer_failures_total{resource="virtualmachines"}' \
  "$(metrics "$port_f")"
nofaults
until_ok 60 "f ready again" ready "$port_f"
expect_contains "7 the recovery is logged" '"msg":"informer recovered"' "$(cat "$T/f.err")"
r=$(review "$port_f" virtualmachinerestores "$(restore_req vm1)")
expect_contains "7 fresh again: the rule decides" "$(not_stopped vm1)" "$r"
expect_contains "7 last-sync age on /metrics" 'vmsnapd_informer_last_sync_age_seconds{resource="virtualmachines"}' \
  "$(metrics "$port_f")"

# --- 8. live reads: a slow API server holds no server thread, GETs are bounded and shared -------
# one server thread: a live GET on it would hold /healthz and every review for the delay
serve g --kubeconfig "$kc" --controllers none --threads 1 --live-get-wait 200ms --live-get-max 2 \
  --live-get-timeout 40s
until_ok 60 "serve g ready" ready "$port_g"
ksim -X POST "$api/kube-sim/faults" -o /dev/null -d '[{"method":"GET","pathRegex":
  "/virtualmachines/slow$","delaySeconds":20,"count":100},{"method":"GET","pathRegex":
  "/virtualmachines/slow-a$","delaySeconds":20,"count":100}]'
review "$port_g" virtualmachinerestores "$(restore_req slow)" >"$T/slow1.json" &
slow1=$!
healthz() { [ "$(curl -sk --max-time 1 "https://127.0.0.1:$port_g/healthz")" = ok ]; }
until_ok 5 "8 /healthz answers while a live GET waits on the API server" healthz
r=$(review "$port_g" virtualmachinerestores "$(restore_req vm1)")
expect_contains "8 ... and so does an unrelated review" "$(not_stopped vm1)" "$r"
wait "$slow1"
r=$(cat "$T/slow1.json")
expect_eq "8 the slow read: 503" "False 503" "$(field "$r" 'r["allowed"], r["status"]["code"]')"
expect_contains "8 ... after a short wait" 'the API server has not answered within 200 ms' "$r"
r=$(review "$port_g" virtualmachinerestores "$(restore_req slow)")
expect_contains "8 the same object again: shares the GET" 'has not answered within 200 ms' "$r"
r=$(review "$port_g" virtualmachinerestores "$(restore_req slow-a)")
expect_contains "8 another object: a second GET" 'has not answered within 200 ms' "$r"
r=$(review "$port_g" virtualmachinerestores "$(restore_req slow-b)")
expect_contains "8 a third: refused at once" 'too many live reads in flight (2)' "$r"
answered() { # the GET's 404 came back: the target is new, only the missing snapshot's cause
  r=$(review "$port_g" virtualmachinerestores "$(restore_req slow)")
  [ "$(field "$r" 'r["allowed"], r["status"]["code"], len(r["status"]["details"]["causes"])')" = "False 422 1" ]
}
until_ok 60 "8 the answer serves the next read" answered
# each GET of slow took one from its fault's count of 100
left=$(ksim "$api/kube-sim/faults" | python3 -c 'import json,sys
print([f["count"] for f in json.load(sys.stdin)["rules"] if f["pathRegex"].endswith("slow$")][0])')
expect_eq "8 one GET for every read of slow" 99 "$left"
nofaults
m=$(metrics "$port_g")
expect_contains "8 /metrics: GETs sent" 'vmsnapd_live_reads_total{outcome="sent"} 2' "$m"
expect_contains "8 /metrics: refused" 'vmsnapd_live_reads_total{outcome="refused"} 1' "$m"

for p in c d e f g; do
  term $p
  expect_eq "$p drains and exits 0" 0 "$term_rc"
done
echo "serve-cluster: $checks checks passed"
