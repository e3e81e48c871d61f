#!/usr/bin/env python3
"""tools/bench/cluster.py - the "cluster" rows of `make bench`: `vmsnapd serve --kubeconfig`
against tools/kube-sim, beside a webhook-only serve in the same run, reviewing a snapshot CREATE
(the recorded body of tests/data/integration) of a VM in the states the rules read:

  - stopped: the VM present, its VirtualMachineInstance absent (the documentation's offline
    snapshot: a miss in the VMI cache)
  - running: the VM and its VMI present
  - absent:  no such VM (a miss in the VM cache)

  cluster.py VMSNAPD BODIES_DIR [SECONDS]

Each row: wrk, 16 keep-alive connections over TLS, SECONDS (5) long; reviews/s, p50/p99/p99.9,
the ratio to the webhook-only row, and the API requests per review while it ran, from the
daemon's /metrics: live reads sent (vmsnapd_live_reads_total{outcome="sent"}) and informer
lists (vmsnapd_informer_lists_total); the watches were opened before. The last line,
"CLUSTER api_per_review_max X", is what run.sh's summary reads."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reconcile import ROOT, Api, metrics_text, stop_all, vm_docs, wait, yaml_docs  # noqa: E402

PATH = "/validate-virtualmachinesnapshots"


def serve(vmsnapd, tmp, name, extra):
    err = open(os.path.join(tmp, name + ".err"), "w+")
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")}
    env["HOME"] = tmp
    p = subprocess.Popen([vmsnapd, "serve", "--listen", "127.0.0.1:0", "--tls-cert-file",
                          os.path.join(tmp, "certs/tls.crt"), "--tls-key-file",
                          os.path.join(tmp, "certs/tls.key"), "--shutdown-delay", "0"] + extra,
                         stderr=err, stdout=subprocess.DEVNULL, env=env)
    for _ in range(300):
        err.seek(0)
        m = re.search(r'"msg":"serving".*?"port":(\d+)', err.read())
        if m:
            return p, int(m.group(1))
        time.sleep(0.1)
    err.seek(0)
    raise RuntimeError("serve %s did not start: %s" % (name, err.read()[-2000:]))


def counts(port, certs):
    """Reviews answered, and the API requests the review path made: live reads sent (a read
    that shared another's GET made none) and informer lists (a relist)."""
    text = metrics_text(port, certs)
    if 'vmsnapd_live_reads_total{outcome="sent"}' not in text or "vmsnapd_informer_lists_total{" not in text:
        raise RuntimeError("/metrics lacks the live read or informer counters")

    def total(pattern):
        return sum(float(x) for x in re.findall(pattern, text, re.M))
    return (total(r"^vmsnapd_admission_requests_total\{[^}]*\} (\S+)"),
            total(r'^vmsnapd_live_reads_total\{outcome="sent"\} (\S+)') +
            total(r"^vmsnapd_informer_lists_total\{[^}]*\} (\S+)"))


def load(port, body, secs):
    env = dict(os.environ, BENCH_BODIES="%s=%s" % (PATH, body), BENCH_CLOSE="0", BENCH_DELAY_MS="0")
    out = subprocess.run(["wrk", "-t2", "-c16", "-d%ds" % secs, "-s",
                          os.path.join(ROOT, "tools/bench/reviews.lua"), "https://127.0.0.1:%d" % port],
                         env=env, capture_output=True, text=True).stdout
    m = re.search(r"^RESULT (\S+) (\d+) (\d+) (\d+) (\d+)", out, re.M)
    if not m:
        raise RuntimeError("wrk: " + out[-500:])
    return float(m.group(1)), [int(m.group(i)) / 1000 for i in (2, 3, 4)], int(m.group(5))


def body_for(src, dst, vm):
    d = json.load(open(src))
    d["request"]["object"]["spec"]["source"]["name"] = vm
    json.dump(d, open(dst, "w"), separators=(",", ":"))
    return dst


def row(name, rps, lat, errors, ratio, per_review):
    print("%-26s %-9s %10.0f %9.3f %9.3f %9.3f %7d %7s %10s" % (
        name, "vmsnapd", rps, lat[0], lat[1], lat[2], errors, ratio, per_review))


def main():
    vmsnapd, bodies = sys.argv[1], sys.argv[2]
    secs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    tmp = tempfile.mkdtemp(prefix="vmsnapd-bench-cl.")
    procs = []
    try:
        ks = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools/kube-sim"), "--dir", tmp,
                               "--port", "0", "--load", os.path.join(ROOT, "tools/kube-sim-crds"),
                               "--load", os.path.join(ROOT, "manifests/crds"), "--pvc-bind-delay", "0"],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "ksim.err"), "w"))
        procs.append(ks)
        api = Api(json.loads(ks.stdout.readline())["port"], tmp)
        sa = api.req("POST", "/kube-sim/certs", {"user": "system:serviceaccount:vmsnapd-system:vmsnapd",
                                                 "groups": ["system:serviceaccounts"]})
        open(os.path.join(tmp, "sa.kubeconfig"), "w").write(sa["kubeconfig"])
        subprocess.run([vmsnapd, "certs", "create", "--service", "vmsnapd", "--namespace",
                        "vmsnapd-system", "--out", os.path.join(tmp, "certs")], check=True,
                       capture_output=True)
        certs = os.path.join(tmp, "certs")
        src = os.path.join(bodies, "vmsnapshot.json")
        vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
               "metadata": {"name": "running-vm", "namespace": "default"}, "spec": {"domain": {"devices": {}}},
               "status": {"phase": "Running"}}
        api.req("POST", "/kube-sim/load", yaml_docs(vm_docs("stopped-vm") + vm_docs("running-vm") + [vmi]),
                "application/yaml")
        wo, wo_port = serve(vmsnapd, tmp, "webhook-only", [])
        procs.append(wo)
        cl, cl_port = serve(vmsnapd, tmp, "cluster", ["--kubeconfig", os.path.join(tmp, "sa.kubeconfig"),
                                                      "--controllers", "none"])
        procs.append(cl)
        wait(lambda: subprocess.run(["curl", "-skf", "https://127.0.0.1:%d/readyz" % cl_port],
                                    capture_output=True).returncode == 0, 60, "cluster serve ready")
        print("\n%-26s %-9s %10s %9s %9s %9s %7s %7s %10s" % ("cluster (snapshot CREATE)", "server", "req/s",
              "p50_ms", "p99_ms", "p99.9_ms", "errors", "ratio", "api/review"))
        rps0, lat, errors = load(wo_port, src, secs)
        row("webhook-only", rps0, lat, errors, "1.00", "-")
        worst = 0.0
        for name, vm in (("VM stopped (no VMI)", "stopped-vm"), ("VM running (VMI)", "running-vm"),
                         ("VM absent", "absent-vm")):
            body = body_for(src, os.path.join(tmp, vm + ".json"), vm)
            load(cl_port, body, 1)  # warm: a first miss may read live once
            r0, n0 = counts(cl_port, certs)
            rps, lat, errors = load(cl_port, body, secs)
            r1, n1 = counts(cl_port, certs)
            per = (n1 - n0) / max(r1 - r0, 1)
            worst = max(worst, per)
            row("cluster, " + name, rps, lat, errors, "%.2f" % (rps / rps0), "%.4f" % per)
        print("CLUSTER api_per_review_max %.4f" % worst)
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    main()
