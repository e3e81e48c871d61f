#!/usr/bin/env bash
# tests/scripts/manifests.sh - manifests/ (all but examples/) parses, renders with kustomize and
# says what vmsnapd serves: webhook paths, CRD versions, RBAC, a hardened Deployment.
# YAML is parsed by kubectl (its kustomize); the rendered objects are turned into JSON by
# `kubectl annotate --local -o json` (no server needed) and checked with python3's json.
# Prints one line per failure; exits 1 if any. Needs kubectl (make deps) and python3.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
M="$ROOT/manifests"
TMP=$(mktemp -d)
spid=""
trap '[ -z "$spid" ] || kill -9 "$spid" 2>/dev/null; rm -rf "$TMP"' EXIT
# kustomize and annotate --local never talk to a server; keep any user config out.
printf 'apiVersion: v1\nkind: Config\n' >"$TMP/kubeconfig"
export KUBECONFIG="$TMP/kubeconfig"

fails=0
checks=0
pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

for tool in kubectl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found (make deps installs it)"
        exit 1
    fi
done
[ -d "$M" ] || { echo "FAIL: no manifests/ folder"; exit 1; }

# Every YAML file under manifests/ but examples/.
mapfile -t yamls < <(cd "$M" && find . -path ./examples -prune -o -type f \
    \( -name '*.yaml' -o -name '*.yml' \) -print | sed 's|^\./||' | sort)

# A kustomization of one file in a scratch dir: parses it with any kustomize version.
parse_resource() { # FILE -> rendered YAML on stdout
    local d="$TMP/parse.$$.$RANDOM"
    mkdir -p "$d" && cp "$1" "$d/r.yaml" &&
        printf 'resources:\n- r.yaml\n' >"$d/kustomization.yaml" &&
        kubectl kustomize "$d"
}
# YAML that is not a Kubernetes object (a kustomization, the policy file): wrapped as the spec
# of an object, so that kustomize parses it too.
parse_plain() { # FILE -> rendered wrapper YAML on stdout
    local d="$TMP/plain.$$.$RANDOM"
    mkdir -p "$d" &&
        { printf 'apiVersion: test.vmsnapd.io/v1\nkind: YAMLCheck\nmetadata:\n  name: check\nspec:\n'
          sed 's/^/  /' "$1"; } >"$d/r.yaml" &&
        printf 'resources:\n- r.yaml\n' >"$d/kustomization.yaml" &&
        kubectl kustomize "$d"
}

for f in "${yamls[@]}"; do
    base=$(basename "$f")
    if [ "$base" != kustomization.yaml ] && [ "$base" != kustomization.yml ] &&
        grep -q '^kind:' "$M/$f"; then
        if out=$(parse_resource "$M/$f" 2>&1); then pass; else
            fail "manifests/$f does not parse: $(echo "$out" | tail -n 1)"
        fi
        # ...and is part of an install: named by the kustomization next to it.
        if grep -Eq "^[[:space:]]*-[[:space:]]+$base[[:space:]]*$" \
            "$(dirname "$M/$f")/kustomization.yaml" 2>/dev/null; then pass; else
            fail "manifests/$f is not listed in $(dirname "manifests/$f")/kustomization.yaml"
        fi
    else
        if out=$(parse_plain "$M/$f" 2>&1); then pass; else
            fail "manifests/$f is not valid YAML: $(echo "$out" | tail -n 1)"
        fi
    fi
done

# The policy file, as JSON, for the key check below.
policy="$M/base/policy.yaml"
if [ -f "$policy" ] && parse_plain "$policy" >"$TMP/policy.yaml" 2>/dev/null &&
    kubectl annotate --local -f "$TMP/policy.yaml" -o json x=y >"$TMP/policy.json" 2>"$TMP/err"; then
    pass
else
    fail "manifests/base/policy.yaml: missing or not convertible to JSON"
    echo '{}' >"$TMP/policy.json"
fi

# Render every kustomization that is not a Component; the CRDs and cert-manager are
# Components, rendered through the overlays that use them. Components need kustomize >= 3.7
# (kubectl >= 1.21); Debian's kubectl 1.20 bundles kustomize 2.0.3.
kminor=$(kubectl version --client -o json 2>/dev/null |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["clientVersion"]["minor"].rstrip("+")))' \
    2>/dev/null || echo 0)
render_ok=1
if [ "$kminor" -lt 21 ]; then
    render_ok=0
    echo "SKIP: rendering checks need kubectl >= 1.21 (kustomize Components); this kubectl is 1.$kminor"
fi
mapfile -t variants < <(cd "$M" && find . -path ./examples -prune -o -type f \
    -name kustomization.yaml -print | sed 's|^\./||; s|/\?kustomization.yaml$||' | sort)
: >"$TMP/variants"
for v in "${variants[@]}"; do
    [ $render_ok = 1 ] || break
    dir="$M/$v"
    grep -q '^kind: Component' "$dir/kustomization.yaml" && continue
    if ! kubectl kustomize "$dir" >"$TMP/render.yaml" 2>"$TMP/err"; then
        fail "kubectl kustomize manifests/$v: $(tail -n 1 "$TMP/err")"
    elif ! kubectl annotate --local -f "$TMP/render.yaml" -o json x=y \
        >"$TMP/v$checks.json" 2>"$TMP/err"; then
        fail "manifests/$v: rendered objects not readable: $(tail -n 1 "$TMP/err")"
    else
        printf '%s\t%s\n' "${v:-.}" "$TMP/v$checks.json" >>"$TMP/variants"
        pass
    fi
done

# Paths the server registers, where its source names them literally.
grep -rhoE '"/(validate|mutate)-[a-z]+"' "$ROOT/webhook" "$ROOT/cmd" 2>/dev/null |
    tr -d '"' | sort -u >"$TMP/served"

if [ $render_ok = 1 ]; then
    out=$(python3 - "$TMP/variants" "$TMP/policy.json" "$TMP/served" "$M/base/policy.yaml" "$TMP/args" <<'PY'
import json, re, sys

variants_file, policy_json, served_file, policy_yaml, args_file = sys.argv[1:6]
NS = "vmsnapd-system"
GROUP = "snapshot.kubevirt.io"
SNAP, CONT, REST = ("virtualmachinesnapshots", "virtualmachinesnapshotcontents",
                    "virtualmachinerestores")
VALIDATE = {"/validate-" + r for r in (SNAP, CONT, REST)}
MUTATE = {"/mutate-" + SNAP}
fails = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fails.append(msg)
    return cond


def load_objects(path):
    text = open(path).read()
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.extend(obj.get("items", []) if obj.get("kind") == "List" else [obj])


def get(o, *path, default=None):
    for p in path:
        if isinstance(o, dict) and p in o:
            o = o[p]
        elif isinstance(o, list) and isinstance(p, int) and p < len(o):
            o = o[p]
        else:
            return default
    return o


def seconds(d):
    m = re.fullmatch(r"(\d+)(ms|s|m)", d or "")
    if not m:
        return None
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def check_crds(v, objs):
    want = {
        SNAP: ("VirtualMachineSnapshot", ["vmsnapshot", "vmsnapshots"],
               [("SourceKind", ".spec.source.kind"), ("SourceName", ".spec.source.name"),
                ("Phase", ".status.phase"), ("ReadyToUse", ".status.readyToUse"),
                ("CreationTime", ".status.creationTime"), ("Error", ".status.error.message")]),
        CONT: ("VirtualMachineSnapshotContent", ["vmsnapshotcontent", "vmsnapshotcontents"],
               [("ReadyToUse", ".status.readyToUse"), ("CreationTime", ".status.creationTime"),
                ("Error", ".status.error.message")]),
        REST: ("VirtualMachineRestore", ["vmrestore", "vmrestores"],
               [("TargetKind", ".spec.target.kind"), ("TargetName", ".spec.target.name"),
                ("Complete", ".status.complete"), ("RestoreTime", ".status.restoreTime")]),
    }
    crds = {get(o, "metadata", "name"): o for o in objs
            if o.get("kind") == "CustomResourceDefinition"}
    check(set(crds) == {r + "." + GROUP for r in want},
          f"{v}: CRDs {sorted(crds)}, want the three {GROUP} ones")
    for res, (kind, shorts, cols) in want.items():
        c = crds.get(res + "." + GROUP)
        if not c:
            continue
        spec = c.get("spec", {})
        n = res + "." + GROUP
        check(spec.get("group") == GROUP and spec.get("scope") == "Namespaced",
              f"{v}: CRD {n}: group/scope")
        check(get(spec, "names", "kind") == kind, f"{v}: CRD {n}: kind")
        check(set(shorts) <= set(get(spec, "names", "shortNames", default=[])),
              f"{v}: CRD {n}: shortNames {get(spec, 'names', 'shortNames')}, want {shorts}")
        check("all" in get(spec, "names", "categories", default=[]),
              f"{v}: CRD {n}: not in category all")
        vers = {x.get("name"): x for x in spec.get("versions", [])}
        b, a = vers.get("v1beta1", {}), vers.get("v1alpha1", {})
        check(b.get("served") is True and b.get("storage") is True,
              f"{v}: CRD {n}: v1beta1 must be served and stored")
        check(a.get("served") is True and a.get("storage") is not True,
              f"{v}: CRD {n}: v1alpha1 must be served, not stored")
        check(sum(1 for x in vers.values() if x.get("storage")) == 1,
              f"{v}: CRD {n}: exactly one storage version")
        for vn, x in vers.items():
            check(get(x, "subresources", "status") == {},
                  f"{v}: CRD {n} {vn}: no status subresource")
            got = [(p.get("name"), p.get("jsonPath"))
                   for p in x.get("additionalPrinterColumns", [])]
            check(got == cols, f"{v}: CRD {n} {vn}: printer columns {got}, want {cols}")
            props = get(x, "schema", "openAPIV3Schema", "properties", "spec", "properties",
                        default={})
            if res == SNAP:
                fd = props.get("failureDeadline", {})
                check(fd.get("x-kubernetes-int-or-string") is True and "type" not in fd,
                      f"{v}: CRD {n} {vn}: spec.failureDeadline must be int-or-string")
            check(bool(props), f"{v}: CRD {n} {vn}: no spec schema")


def check_rbac(v, objs):
    roles = {(o["kind"], get(o, "metadata", "name")): o for o in objs
             if o.get("kind") in ("ClusterRole", "Role")}
    cr = roles.get(("ClusterRole", "vmsnapd"))
    if not check(cr is not None, f"{v}: no ClusterRole vmsnapd"):
        return
    granted = {(g, res, verb) for r in cr.get("rules", []) for g in r.get("apiGroups", [])
               for res in r.get("resources", []) for verb in r.get("verbs", [])}
    check(not any("*" in x for x in granted), f"{v}: ClusterRole vmsnapd has a wildcard")
    need = []
    for res in (SNAP, CONT, REST):
        need += [(GROUP, res, x) for x in
                 ("get", "list", "watch", "create", "update", "patch", "delete")]
        need += [(GROUP, res + "/status", x) for x in ("get", "update", "patch")]
    need += [("kubevirt.io", "virtualmachines", x)
             for x in ("get", "list", "watch", "update", "patch")]
    need += [("kubevirt.io", "virtualmachines/status", "update")]
    need += [("kubevirt.io", "virtualmachineinstances", x) for x in ("get", "list", "watch")]
    need += [("subresources.kubevirt.io", "virtualmachineinstances/" + s, "update")
             for s in ("freeze", "unfreeze")]
    need += [("", "persistentvolumeclaims", x)
             for x in ("get", "list", "watch", "create", "update", "delete")]
    need += [("snapshot.storage.k8s.io", "volumesnapshots", x)
             for x in ("get", "list", "watch", "create", "delete")]
    need += [("snapshot.storage.k8s.io", "volumesnapshotclasses", x)
             for x in ("get", "list", "watch")]
    need += [("storage.k8s.io", "storageclasses", x) for x in ("get", "list", "watch")]
    need += [("", "events", "create"), ("", "events", "patch")]
    need += [("cdi.kubevirt.io", "datavolumes", x) for x in ("get", "list", "watch", "create")]
    missing = [n for n in need if n not in granted]
    check(not missing, f"{v}: ClusterRole vmsnapd lacks {missing}")
    check(not any(res in ("secrets", "leases") for _, res, _ in granted),
          f"{v}: ClusterRole vmsnapd grants secrets or leases cluster-wide")
    leases = [o for (k, _), o in roles.items() if k == "Role"
              and get(o, "metadata", "namespace") == NS
              and any("leases" in r.get("resources", []) and
                      {"get", "create", "update"} <= set(r.get("verbs", []))
                      for r in o.get("rules", []))]
    check(len(leases) == 1, f"{v}: want one Role in {NS} for leases (get/create/update)")
    sa = {"kind": "ServiceAccount", "name": "vmsnapd", "namespace": NS}
    for kind, ref in (("ClusterRoleBinding", cr), ("RoleBinding", leases[0] if leases else None)):
        if ref is None:
            continue
        ok = any(o.get("kind") == kind and get(o, "roleRef", "name") == get(ref, "metadata", "name")
                 and sa in o.get("subjects", []) for o in objs)
        check(ok, f"{v}: no {kind} of {get(ref, 'metadata', 'name')} to the vmsnapd ServiceAccount")
    for agg in ("admin", "edit", "view"):
        label = "rbac.authorization.k8s.io/aggregate-to-" + agg
        rs = [o for (k, _), o in roles.items() if k == "ClusterRole"
              and get(o, "metadata", "labels", label) == "true"]
        res = {x for o in rs for r in o.get("rules", []) if GROUP in r.get("apiGroups", [])
               for x in r.get("resources", [])}
        check({SNAP, CONT, REST} <= res, f"{v}: aggregate-to-{agg} roles cover {sorted(res)}")
        verbs = {x for o in rs for r in o.get("rules", []) for x in r.get("verbs", [])}
        if agg == "view":
            check(verbs <= {"get", "list", "watch"}, f"{v}: view role may write: {verbs}")
        else:
            check("create" in verbs, f"{v}: {agg} role cannot create snapshots")


def check_webhooks(v, objs, cert_manager):
    cfgs = [o for o in objs if o.get("kind") in
            ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")]
    kinds = sorted(o["kind"] for o in cfgs)
    check(kinds == ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
          f"{v}: webhook configurations {kinds}")
    certs = {get(o, "metadata", "name") for o in objs if o.get("kind") == "Certificate"
             and get(o, "spec", "secretName") == "vmsnapd-tls"}
    names = []
    seen = {"ValidatingWebhookConfiguration": set(), "MutatingWebhookConfiguration": set()}
    ops = {}  # (config kind, resource) -> set of operations
    for c in cfgs:
        ann = get(c, "metadata", "annotations", "cert-manager.io/inject-ca-from")
        if cert_manager:
            check(ann in {f"{NS}/{n}" for n in certs},
                  f"{v}: {c['kind']}: inject-ca-from {ann!r} names no Certificate of vmsnapd-tls")
        else:
            check(ann is None, f"{v}: {c['kind']}: cert-manager annotation without cert-manager")
        for w in c.get("webhooks", []):
            n = w.get("name", "")
            names.append(n)
            where = f"{v}: webhook {n}"
            check(n.endswith(".vmsnapd.kubevirt.io"), f"{where}: name not *.vmsnapd.kubevirt.io")
            svc = get(w, "clientConfig", "service", default={})
            path = svc.get("path")
            seen[c["kind"]].add(path)
            check(svc.get("name") == "vmsnapd" and svc.get("namespace") == NS
                  and svc.get("port", 443) == 443, f"{where}: service {svc}")
            if cert_manager:
                check("caBundle" not in w.get("clientConfig", {}),
                      f"{where}: caBundle left in (cainjector fills it)")
            else:
                check("caBundle" in w.get("clientConfig", {}),
                      f"{where}: no caBundle line for `vmsnapd certs cabundle --write`")
            check(w.get("sideEffects") == "None", f"{where}: sideEffects")
            check(w.get("timeoutSeconds") == 10, f"{where}: timeoutSeconds")
            check(w.get("admissionReviewVersions") == ["v1"], f"{where}: admissionReviewVersions")
            exprs = get(w, "namespaceSelector", "matchExpressions", default=[])
            check(any(e.get("key") == "kubernetes.io/metadata.name" and e.get("operator") == "NotIn"
                      and {"kube-system", NS} <= set(e.get("values", [])) for e in exprs),
                  f"{where}: namespaceSelector must leave out kube-system and {NS}")
            wops = set()
            for r in w.get("rules", []):
                check(r.get("apiGroups") == [GROUP], f"{where}: apiGroups {r.get('apiGroups')}")
                check("v1beta1" in r.get("apiVersions", []), f"{where}: v1beta1 not matched")
                want_res = (path or "").split("-", 1)[-1]
                check(r.get("resources") == [want_res],
                      f"{where}: resources {r.get('resources')} on path {path}")
                wops |= set(r.get("operations", []))
                for res in r.get("resources", []):
                    ops.setdefault((c["kind"], res), set()).update(r.get("operations", []))
            if "DELETE" in wops:
                check(wops == {"DELETE"}, f"{where}: DELETE shares an entry with {wops - {'DELETE'}}")
                check(w.get("failurePolicy") == "Ignore", f"{where}: DELETE must fail open (Ignore)")
            else:
                check(w.get("failurePolicy") == "Fail", f"{where}: CREATE/UPDATE must fail closed")
    check(len(names) == len(set(names)), f"{v}: duplicate webhook names {names}")
    check(seen["ValidatingWebhookConfiguration"] == VALIDATE,
          f"{v}: validating paths {sorted(p or '' for p in seen['ValidatingWebhookConfiguration'])}, want {sorted(VALIDATE)}")
    check(seen["MutatingWebhookConfiguration"] == MUTATE,
          f"{v}: mutating paths {sorted(p or '' for p in seen['MutatingWebhookConfiguration'])}, want {sorted(MUTATE)}")
    V, Mu = "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"
    for res in (SNAP, CONT, REST):
        check({"CREATE", "UPDATE"} <= ops.get((V, res), set()), f"{v}: {res} CREATE/UPDATE not validated")
    for res in (SNAP, CONT):
        check("DELETE" in ops.get((V, res), set()), f"{v}: {res} DELETE not validated")
    check(ops.get((Mu, SNAP)) == {"CREATE"} and len([k for k in ops if k[0] == Mu]) == 1,
          f"{v}: mutating webhook must see CREATE of {SNAP} only")
    if cert_manager:
        iss = {get(o, "metadata", "name"): o for o in objs if o.get("kind") == "Issuer"}
        check(any("selfSigned" in o.get("spec", {}) for o in iss.values()),
              f"{v}: no selfSigned Issuer")
        for o in objs:
            if o.get("kind") == "Certificate":
                check(get(o, "spec", "issuerRef", "name") in iss,
                      f"{v}: Certificate {get(o, 'metadata', 'name')}: unknown issuer")
            if o.get("kind") == "Certificate" and get(o, "spec", "secretName") == "vmsnapd-tls":
                check(f"vmsnapd.{NS}.svc" in get(o, "spec", "dnsNames", default=[]),
                      f"{v}: serving Certificate lacks vmsnapd.{NS}.svc")
        check(len(certs) == 1, f"{v}: want one Certificate writing secret vmsnapd-tls")


def check_deployment(v, objs):
    deps = [o for o in objs if o.get("kind") == "Deployment"]
    if not check(len(deps) == 1, f"{v}: want one Deployment"):
        return
    d = deps[0]
    where = f"{v}: Deployment {get(d, 'metadata', 'name')}"
    check(get(d, "metadata", "namespace") == NS, f"{where}: namespace")
    check(get(d, "spec", "replicas") == 2, f"{where}: replicas {get(d, 'spec', 'replicas')}")
    pod = get(d, "spec", "template", "spec", default={})
    labels = get(d, "spec", "template", "metadata", "labels", default={})
    sel = get(d, "spec", "selector", "matchLabels", default={})
    check(sel and sel.items() <= labels.items(), f"{where}: selector does not match pod labels")
    check(pod.get("serviceAccountName") == "vmsnapd", f"{where}: serviceAccountName")
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
    check(get(psc, "seccompProfile", "type") == "RuntimeDefault", f"{where}: seccomp RuntimeDefault")
    aff = get(pod, "affinity", "podAntiAffinity", default={})
    terms = aff.get("requiredDuringSchedulingIgnoredDuringExecution", []) + \
        [t.get("podAffinityTerm", {}) for t in
         aff.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
    check(any(t.get("topologyKey") == "kubernetes.io/hostname" for t in terms),
          f"{where}: no pod anti-affinity across nodes")
    cs = pod.get("containers", [])
    if not check(len(cs) == 1, f"{where}: want one container"):
        return
    c = cs[0]
    sc = c.get("securityContext", {})
    check(sc.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation")
    check(sc.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
    check(sc.get("privileged") is not True, f"{where}: privileged")
    check("ALL" in get(sc, "capabilities", "drop", default=[]), f"{where}: capabilities not dropped")
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    check(isinstance(uid, int) and uid > 0, f"{where}: runAsUser {uid}")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    check(8443 in ports.values(), f"{where}: no containerPort 8443")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        h = get(c, probe, "httpGet", default={})
        port = ports.get(h.get("port"), h.get("port"))
        check(h.get("path") == path and h.get("scheme") == "HTTPS" and port == 8443,
              f"{where}: {probe} must be GET {path} over HTTPS on 8443, is {h}")
    res = c.get("resources", {})
    for k in ("requests", "limits"):
        check({"cpu", "memory"} <= set(res.get(k, {})), f"{where}: resources.{k}")
    args = c.get("args", []) + c.get("command", [])
    if v == "manifests":
        with open(args_file, "w") as fh:
            fh.write("".join(a + "\n" for a in c.get("args", [])))
    flag = lambda name: next((a.split("=", 1)[1] for a in args
                              if a.startswith(name + "=")), None)
    delay, drain = seconds(flag("--shutdown-delay")), seconds(flag("--grace-period") or "30s")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(delay is not None and grace > delay,
          f"{where}: terminationGracePeriodSeconds {grace} must exceed --shutdown-delay {delay}")
    check(drain is not None and grace > drain and (delay is None or drain > delay),
          f"{where}: want --shutdown-delay {delay} < --grace-period {drain} < "
          f"terminationGracePeriodSeconds {grace}")
    check(flag("--tls-cert-file") == "/etc/vmsnapd/tls/tls.crt" and
          flag("--tls-key-file") == "/etc/vmsnapd/tls/tls.key",
          f"{where}: --tls-cert-file/--tls-key-file must be the mounted secret's files")
    check((flag("--listen") or "").endswith(":8443"), f"{where}: --listen must bind port 8443")
    env = {e.get("name"): get(e, "valueFrom", "fieldRef", "fieldPath") for e in c.get("env", [])}
    check(env.get("POD_NAME") == "metadata.name", f"{where}: POD_NAME from the downward API")
    check(env.get("POD_NAMESPACE") == "metadata.namespace",
          f"{where}: POD_NAMESPACE from the downward API")
    vols = {x.get("name"): x for x in pod.get("volumes", [])}
    mounts = {m.get("mountPath"): m for m in c.get("volumeMounts", [])}
    tls = mounts.get("/etc/vmsnapd/tls", {})
    check(get(vols.get(tls.get("name"), {}), "secret", "secretName") == "vmsnapd-tls",
          f"{where}: secret vmsnapd-tls not mounted at /etc/vmsnapd/tls")
    pol = mounts.get("/etc/vmsnapd/policy", {})
    cm = get(vols.get(pol.get("name"), {}), "configMap", "name")
    check(cm is not None and "subPath" not in pol,
          f"{where}: policy ConfigMap not mounted (whole, no subPath) at /etc/vmsnapd/policy")
    pa = next((a.split("=", 1)[1] for a in args if a.startswith("--policy=")), None)
    cms = {get(o, "metadata", "name"): o for o in objs if o.get("kind") == "ConfigMap"}
    key = (pa or "").rsplit("/", 1)[-1]
    check(pa is not None and pa.startswith("/etc/vmsnapd/policy/")
          and key in get(cms.get(cm, {}), "data", default={}),
          f"{where}: --policy={pa} is not a key of ConfigMap {cm}")
    if cm in cms and key:
        check(get(cms[cm], "data", key) == open(policy_yaml).read(),
              f"{v}: ConfigMap {cm} key {key} differs from manifests/base/policy.yaml")
    svcs = [o for o in objs if o.get("kind") == "Service"]
    ok = any(get(s, "spec", "selector", default={}).items() <= labels.items()
             and any(p.get("port") == 443 and ports.get(p.get("targetPort"), p.get("targetPort")) == 8443
                     for p in get(s, "spec", "ports", default=[]))
             for s in svcs if get(s, "metadata", "name") == "vmsnapd"
             and get(s, "metadata", "namespace") == NS)
    check(ok, f"{v}: no Service vmsnapd in {NS} with 443 -> 8443 selecting the pods")
    pdbs = [o for o in objs if o.get("kind") == "PodDisruptionBudget"]
    check(any(get(p, "spec", "minAvailable") == 1 and
              get(p, "spec", "selector", "matchLabels", default={"-": "-"}).items() <= labels.items()
              for p in pdbs), f"{v}: no PodDisruptionBudget minAvailable 1 for the pods")
    check(any(o.get("kind") == "Namespace" and get(o, "metadata", "name") == NS for o in objs),
          f"{v}: no Namespace {NS}")
    check(any(o.get("kind") == "ServiceAccount" and get(o, "metadata", "name") == "vmsnapd"
              and get(o, "metadata", "namespace") == NS for o in objs),
          f"{v}: no ServiceAccount vmsnapd")


def check_policy():
    p = get(load_objects(policy_json)[0] if load_objects(policy_json) else {}, "spec", default={})
    want = {
        "snapshot": {"defaultFailureDeadline": str, "maxFailureDeadline": (int, str),
                     "allowNoDeadline": bool, "maxPerVM": int,
                     "requireGuestAgentForOnline": bool},
        "restore": {"requireOfflineSnapshot": bool, "requireStoppedTarget": bool,
                    "allowNewTarget": bool},
        "content": {"controllerUsers": list},
        "exemptNamespaces": list,
    }
    check(set(p) == set(want), f"policy.yaml: top-level keys {sorted(p)}, want {sorted(want)}")
    for k, t in want.items():
        if isinstance(t, dict):
            sub = p.get(k) if isinstance(p.get(k), dict) else {}
            check(set(sub) == set(t), f"policy.yaml: {k} keys {sorted(sub)}, want {sorted(t)}")
            for kk, tt in t.items():
                if kk in sub:
                    check(isinstance(sub[kk], tt) and not (tt is int and isinstance(sub[kk], bool)),
                          f"policy.yaml: {k}.{kk} has the wrong type")
        elif k in p:
            check(isinstance(p[k], t), f"policy.yaml: {k} has the wrong type")
    users = get(p, "content", "controllerUsers", default=[])
    check(f"system:serviceaccount:{NS}:vmsnapd" in users,
          "policy.yaml: content.controllerUsers lacks the vmsnapd service account")


for line in open(variants_file):
    name, path = line.rstrip("\n").split("\t")
    objs = load_objects(path)
    v = "manifests" if name == "." else "manifests/" + name
    has_crds = any(o.get("kind") == "CustomResourceDefinition" for o in objs)
    if name == ".":
        check(has_crds, f"{v}: `kubectl apply -k manifests/` must install the CRDs")
    if "without-crds" in name:
        check(not has_crds, f"{v}: has CRDs")
    if has_crds:
        check_crds(v, objs)
    check_rbac(v, objs)
    check_webhooks(v, objs, "cert-manager" in name)
    check_deployment(v, objs)
names = [l.split("\t")[0] for l in open(variants_file)]
for want in (".", "overlays/without-crds", "overlays/cert-manager"):
    check(want in names, f"no kustomization rendered at manifests/{want}")
check_policy()
served = {l.strip() for l in open(served_file) if l.strip()}
if served:
    check(served == VALIDATE | MUTATE,
          f"paths in the server source {sorted(served)} differ from {sorted(VALIDATE | MUTATE)}")
for f in fails:
    print("FAIL: " + f)
print(f"CHECKS {checks} {len(fails)}")
PY
    )
    echo "$out" | grep -v '^CHECKS ' || true
    read -r _ n nf <<<"$(echo "$out" | grep '^CHECKS ' || echo 'CHECKS 0 1')"
    [ "$(echo "$out" | grep -c '^CHECKS ')" = 1 ] || { fail "python checks did not run"; nf=0; n=0; }
    checks=$((checks + n))
    fails=$((fails + nf))
fi

# With the binary: the daemon loads the shipped policy, and `vmsnapd certs cabundle --write`
# fills every caBundle placeholder of base/webhooks.yaml and nothing else.
if [ -n "${VMSNAPD:-}" ] && [ -x "$VMSNAPD" ]; then
    cat >"$TMP/review.json" <<'EOF'
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"manifests-1",
 "kind":{"group":"snapshot.kubevirt.io","version":"v1beta1","kind":"VirtualMachineSnapshot"},
 "resource":{"group":"snapshot.kubevirt.io","version":"v1beta1","resource":"virtualmachinesnapshots"},
 "namespace":"default","operation":"CREATE","userInfo":{"username":"u"},
 "object":{"apiVersion":"snapshot.kubevirt.io/v1beta1","kind":"VirtualMachineSnapshot",
  "metadata":{"name":"s1","namespace":"default"},
  "spec":{"source":{"apiGroup":"kubevirt.io","kind":"VirtualMachine","name":"vm1"}}}}}
EOF
    if out=$("$VMSNAPD" review --policy "$M/base/policy.yaml" "$TMP/review.json" 2>&1) &&
        [[ $out == *'"uid":"manifests-1"'* ]]; then pass; else
        fail "vmsnapd review --policy manifests/base/policy.yaml: $(echo "$out" | tail -n 1 | cut -c1-200)"
    fi
    mkdir -p "$TMP/certs" && cp -r "$M" "$TMP/m"
    if ! "$VMSNAPD" certs create --service vmsnapd --namespace vmsnapd-system \
        --out "$TMP/certs/out" >/dev/null 2>"$TMP/err"; then
        fail "vmsnapd certs create: $(tail -n 1 "$TMP/err")"
    elif ! "$VMSNAPD" certs cabundle --ca "$TMP/certs/out/ca.crt" \
        --write "$TMP/m/base/webhooks.yaml" >/dev/null 2>"$TMP/err"; then
        fail "vmsnapd certs cabundle --write base/webhooks.yaml: $(tail -n 1 "$TMP/err")"
    else
        want=$(base64 -w0 <"$TMP/certs/out/ca.crt")
        n_hooks=$(grep -c '^- name: ' "$M/base/webhooks.yaml")
        n_set=$(grep -cF "caBundle: $want" "$TMP/m/base/webhooks.yaml")
        [ "$n_set" = "$n_hooks" ] && pass ||
            fail "cabundle --write set $n_set of $n_hooks caBundle values in base/webhooks.yaml"
        diff <(grep -v '^    caBundle: ' "$M/base/webhooks.yaml") \
            <(grep -v '^    caBundle: ' "$TMP/m/base/webhooks.yaml") >/dev/null && pass ||
            fail "cabundle --write changed more than the caBundle lines of base/webhooks.yaml"
        if [ $render_ok = 1 ]; then
            kubectl kustomize "$TMP/m/overlays/without-crds" >/dev/null 2>"$TMP/err" && pass ||
                fail "filled base/webhooks.yaml does not render: $(tail -n 1 "$TMP/err")"
        fi
    fi
    # The Deployment's arguments start the real server (files mapped into a scratch dir,
    # any free port); /healthz and /readyz answer over HTTPS.
    if [ -s "$TMP/args" ] && [ -f "$TMP/certs/out/tls.crt" ] && command -v curl >/dev/null &&
        "$VMSNAPD" serve --help >/dev/null 2>&1; then
        mkdir -p "$TMP/etc/tls" "$TMP/etc/policy" &&
            cp "$TMP/certs/out/tls.crt" "$TMP/certs/out/tls.key" "$TMP/etc/tls/" &&
            cp "$M/base/policy.yaml" "$TMP/etc/policy/"
        mapfile -t sargs < <(sed "s|/etc/vmsnapd|$TMP/etc|; s|^--listen=.*|--listen=127.0.0.1:0|" "$TMP/args")
        # no cluster here (the empty KUBECONFIG above is kubectl's): serve runs webhook-only
        env -u KUBECONFIG -u KUBERNETES_SERVICE_HOST HOME="$TMP" \
            "$VMSNAPD" "${sargs[@]}" >"$TMP/serve.log" 2>&1 &
        spid=$!
        port=""
        for _ in $(seq 50); do
            port=$(sed -n 's/.*"msg":"serving".*"port":\([0-9]*\).*/\1/p' "$TMP/serve.log")
            [ -n "$port" ] && break
            kill -0 "$spid" 2>/dev/null || break
            sleep 0.1
        done
        if [ -z "$port" ]; then
            fail "vmsnapd ${sargs[*]} (the Deployment's args) did not start: $(tail -n 1 "$TMP/serve.log")"
        else
            for p in /healthz /readyz; do
                code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "https://127.0.0.1:$port$p")
                [ "$code" = 200 ] && pass || fail "serve with the Deployment's args: GET $p answered $code"
            done
        fi
        kill -9 "$spid" 2>/dev/null
        wait "$spid" 2>/dev/null
        spid=""
    else
        echo "SKIP: the Deployment's args were not tried (needs the rendering checks, curl and vmsnapd serve)"
    fi
else
    echo "SKIP: VMSNAPD not set: policy load, caBundle fill and serve args not checked"
fi

# The image recipe: cannot be built here (no container engine); check its shape.
df="$M/Dockerfile"
if [ -f "$df" ]; then
    grep -Eq '^FROM[[:space:]]+debian:bookworm-slim' "$df" && pass ||
        fail "manifests/Dockerfile: runtime stage is not debian:bookworm-slim"
    grep -Eq '^RUN .*\bmake\b' "$df" && pass || fail "manifests/Dockerfile: no build stage running make"
    grep -Eq '^USER[[:space:]]+[0-9]+(:[0-9]+)?[[:space:]]*$' "$df" && pass ||
        fail "manifests/Dockerfile: USER must be a numeric non-root id"
    grep -Eq '^USER[[:space:]]+0(:|[[:space:]]*$)' "$df" && fail "manifests/Dockerfile: USER 0" || pass
else
    fail "manifests/Dockerfile missing"
fi

# kubectl apply --dry-run=client still asks a server for discovery; run it only where one
# answers (VMSNAPD_TEST_KUBECONFIG, e.g. kube-sim's), else say it was skipped.
if [ -n "${VMSNAPD_TEST_KUBECONFIG:-}" ] && [ $render_ok = 1 ]; then
    if out=$(KUBECONFIG="$VMSNAPD_TEST_KUBECONFIG" kubectl apply --dry-run=client \
        --request-timeout=10s -k "$M" 2>&1); then pass; else
        fail "kubectl apply --dry-run=client -k manifests/: $(echo "$out" | tail -n 1)"
    fi
elif out=$(kubectl apply --dry-run=client --request-timeout=5s -k "$M" 2>&1); then
    pass
else
    echo "SKIP: kubectl apply --dry-run=client -k manifests/ needs an API server" \
        "(set VMSNAPD_TEST_KUBECONFIG to use one): $(echo "$out" | tail -n 1 | cut -c1-120)"
fi

echo "manifests: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
