#!/usr/bin/env python3
"""tools/bench/reconcile.py - the "reconcile" rows of `make bench`: vmsnapd serve --controllers all
against tools/kube-sim with its delays at 0.

  reconcile.py VMSNAPD [--many N] [--burst N]

Prints, for one one-volume offline snapshot, the API writes the daemon made (from its own
vmsnapd_reconcile_api_requests_total) and the requests in the order it sent them; the same for one
one-volume restore into the same (stopped) VM; the median and p99 time from create to Ready over
BURST (200) snapshots of as many VMs created in one request, and from create to `complete: true`
over as many restores of those VMs from those snapshots; and the daemon's CPU time and RSS with
MANY (10000) snapshots in the cluster."""
import argparse
import json
import os
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Api:
    def __init__(self, port, d):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(d, "admin.crt"), os.path.join(d, "admin.key"))

    def req(self, method, path, body=None, ctype="application/json", timeout=120):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        c.request(method, path, body=data, headers={"Content-Type": ctype} if data else {})
        r = c.getresponse()
        out = r.read()
        c.close()
        if r.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, r.status, out[:300]))
        return json.loads(out) if out else None


def yaml_docs(docs):
    return "\n---\n".join(json.dumps(d) for d in docs)  # JSON is YAML


def vm_docs(name):
    return [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name + "-disk",
         "namespace": "default"}, "spec": {"accessModes": ["ReadWriteOnce"],
         "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name,
         "namespace": "default"}, "spec": {"runStrategy": "Halted", "template": {"spec": {
             "domain": {"devices": {}}, "volumes": [{"name": "disk0",
             "persistentVolumeClaim": {"claimName": name + "-disk"}}]}}}},
    ]


def snap_doc(name, vm, **extra):
    d = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
         "metadata": {"name": name, "namespace": "default"},
         "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm}}}
    d.update(extra)
    return d


def restore_doc(name, vm, snap):
    return {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineRestore",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": vm},
                     "virtualMachineSnapshotName": snap}}


SNAPS = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots"
RESTORES = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores"


def snapshot_done(o):
    return (o.get("status") or {}).get("readyToUse") is True


def restore_done(o):
    return (o.get("status") or {}).get("complete") is True


def metrics_text(port, certs):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.crt"))
    ctx.check_hostname = False
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return text


def metrics(port, certs):
    text = metrics_text(port, certs)
    writes = 0
    for m in re.finditer(r'vmsnapd_reconcile_api_requests_total\{verb="(\w+)",code="(\w+)"\} (\d+)', text):
        if m.group(1) != "GET":
            writes += int(m.group(3))
    return writes


def proc_stat(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(f[11]) + int(f[12])) / tick
    rss = int(open("/proc/%d/statm" % pid).read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return cpu, rss


def done(api, path, name, pred):
    return pred(api.req("GET", path + "/" + name))


def wait(cond, limit, what):
    end = time.time() + limit
    while time.time() < end:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError("timed out: " + what)


def watch_done(api, path, pred, rv, names, done):
    """Records when each object of path in names first meets pred (watch events, no polling)."""
    c = http.client.HTTPSConnection("127.0.0.1", api.port, context=api.ctx, timeout=600)
    c.request("GET", path + "?watch=1&resourceVersion=%s&timeoutSeconds=600" % rv)
    r = c.getresponse()
    buf = b""
    while len(done) < len(names):
        chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            ev = json.loads(line)
            o = ev.get("object") or {}
            n = (o.get("metadata") or {}).get("name")
            if n in names and n not in done and pred(o):
                done[n] = time.time()
    c.close()


def stop_all(procs, tmp):
    """Stops procs, the last started first, and removes tmp."""
    for pr in reversed(procs):
        pr.send_signal(signal.SIGTERM)
        try:
            pr.wait(10)
        except subprocess.TimeoutExpired:
            pr.kill()
    subprocess.run(["rm", "-rf", tmp])


def one_object(api, port, certs, serr, path, doc, finished, settled):
    """Creates doc at path, waits until finished(object) and settled(); returns the daemon's API
    writes meanwhile (its own counter) and the requests in order (its debug line per request)."""
    serr.flush()
    mark = os.path.getsize(serr.name)
    w0 = metrics(port, certs)
    api.req("POST", path, doc)
    name = doc["metadata"]["name"]
    wait(lambda: done(api, path, name, finished), 60, name + " done")
    wait(settled, 30, name + " settled")
    time.sleep(1)  # anything trailing
    writes = metrics(port, certs) - w0
    calls = []
    with open(serr.name) as f:
        f.seek(mark)
        for line in f:
            m = re.search(r'"msg":"API request","request":"(POST|PUT|PATCH|DELETE) ([^"?]+)', line)
            if m:
                calls.append("%s %s" % (m.group(1), re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<uid>", m.group(2))))
    return writes, calls


def burst(api, path, finished, docs):
    """Creates docs in one request; returns the sorted seconds from then until each is finished."""
    rv = api.req("GET", path)["metadata"]["resourceVersion"]
    names = {d["metadata"]["name"] for d in docs}
    got = {}
    th = threading.Thread(target=watch_done, args=(api, path, finished, rv, names, got), daemon=True)
    th.start()
    t0 = time.time()
    api.req("POST", "/kube-sim/load", yaml_docs(docs), "application/yaml")
    th.join(300)
    lat = sorted(got[n] - t0 for n in got)
    if len(lat) < len(docs):
        raise RuntimeError("only %d of %d done at %s" % (len(lat), len(docs), path))
    return lat


def p99(lat):
    return lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]


def retried(port, certs):
    text = metrics_text(port, certs)
    retries = sum(int(x) for x in re.findall(r"vmsnapd_reconcile_retries_total\{[^}]*\} (\d+)", text))
    conflicts = sum(int(x) for x in re.findall(r'api_requests_total\{verb="\w+",code="409"\} (\d+)', text))
    return "retried reconciles so far: %d, 409 answers: %d" % (retries, conflicts)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vmsnapd")
    p.add_argument("--many", type=int, default=10000)
    p.add_argument("--burst", type=int, default=200)
    a = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="vmsnapd-bench-rc.")
    procs = []
    try:
        ksim_err = open(os.path.join(tmp, "ksim.err"), "w")
        ks = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools/kube-sim"), "--dir", tmp,
                               "--port", "0", "--load", os.path.join(ROOT, "tools/kube-sim-crds"),
                               "--load", os.path.join(ROOT, "manifests/crds"),
                               "--snapshot-ready-delay", "0", "--pvc-bind-delay", "0",
                               "--watch-history", "200000"],
                              stdout=subprocess.PIPE, stderr=ksim_err)
        procs.append(ks)
        info = json.loads(ks.stdout.readline())
        api = Api(info["port"], tmp)
        sa = api.req("POST", "/kube-sim/certs", {"user": "system:serviceaccount:vmsnapd-system:vmsnapd",
                                                 "groups": ["system:serviceaccounts"]})
        open(os.path.join(tmp, "sa.kubeconfig"), "w").write(sa["kubeconfig"])
        subprocess.run([a.vmsnapd, "certs", "create", "--service", "vmsnapd", "--namespace",
                        "vmsnapd-system", "--out", os.path.join(tmp, "certs")], check=True,
                       capture_output=True)
        api.req("POST", "/kube-sim/load", yaml_docs([{"apiVersion": "snapshot.storage.k8s.io/v1",
                "kind": "VolumeSnapshotClass", "metadata": {"name": "csi"}, "driver": "kube-sim.csi.k8s.io",
                "deletionPolicy": "Delete"}] + vm_docs("vm-one")), "application/yaml")
        serr = open(os.path.join(tmp, "serve.err"), "w+")
        sv = subprocess.Popen([a.vmsnapd, "serve", "--listen", "127.0.0.1:0", "--tls-cert-file",
                               os.path.join(tmp, "certs/tls.crt"), "--tls-key-file",
                               os.path.join(tmp, "certs/tls.key"), "--shutdown-delay", "0",
                               "--kubeconfig", os.path.join(tmp, "sa.kubeconfig"), "--controllers",
                               "all", "--leader-elect", "false", "--log-level", "debug"],  # one line per request, listed below
                              stderr=serr, stdout=subprocess.DEVNULL)
        procs.append(sv)
        port = None
        for _ in range(300):
            serr.seek(0)
            m = re.search(r'"msg":"serving".*?"port":(\d+)', serr.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        if port is None:
            serr.seek(0)
            raise RuntimeError("serve did not start: " + serr.read()[-2000:])
        wait(lambda: api.req("GET", "/api/v1/namespaces/default/persistentvolumeclaims/vm-one-disk")
             ["status"].get("phase") == "Bound", 30, "PVC bound")
        time.sleep(1)  # the daemon's caches list what is there
        certs = os.path.join(tmp, "certs")
        vm_one = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/vm-one"
        writes, calls = one_object(api, port, certs, serr, SNAPS, snap_doc("one", "vm-one"), snapshot_done,
                                   lambda: "status" in api.req("GET", vm_one)
                                   and not api.req("GET", vm_one)["metadata"].get("finalizers"))
        print("reconcile: API writes for one one-volume offline snapshot: %d (KubeVirt: about 12; events "
              "included)" % writes)
        for c in calls:
            print("    " + c)
        writes, calls = one_object(api, port, certs, serr, RESTORES, restore_doc("r-one", "vm-one", "one"),
                                   restore_done, lambda: not (api.req("GET", vm_one).get("status") or {})
                                   .get("restoreInProgress"))
        print("restore: API writes for one one-volume restore into the same stopped VM: %d (events "
              "included)" % writes)
        for c in calls:
            print("    " + c)

        # BURST snapshots of as many VMs, created in one request; then as many restores of them
        docs = []
        for i in range(a.burst):
            docs += vm_docs("vm-b%d" % i)
        api.req("POST", "/kube-sim/load", yaml_docs(docs), "application/yaml")
        wait(lambda: all(o["status"].get("phase") == "Bound" for o in api.req(
            "GET", "/api/v1/namespaces/default/persistentvolumeclaims")["items"]), 60, "PVCs bound")
        time.sleep(1)
        lat = burst(api, SNAPS, snapshot_done, [snap_doc("b%d" % i, "vm-b%d" % i) for i in range(a.burst)])
        print("reconcile: create -> Ready over %d snapshots created at once: median %.2f s, p99 %.2f s "
              "(%s)" % (a.burst, statistics.median(lat), p99(lat), retried(port, certs)))
        time.sleep(1)  # the VMs unlocked
        lat = burst(api, RESTORES, restore_done,
                    [restore_doc("rb%d" % i, "vm-b%d" % i, "b%d" % i) for i in range(a.burst)])
        print("restore: create -> complete over %d restores created at once (one volume each, into the "
              "same stopped VMs): median %.2f s, p99 %.2f s (%s)" % (a.burst, statistics.median(lat),
                                                                    p99(lat), retried(port, certs)))

        # MANY snapshots in the cluster (taken already: Succeeded, with the finalizer)
        cpu0, _ = proc_stat(sv.pid)
        t1 = time.time()
        for start in range(0, a.many, 1000):
            api.req("POST", "/kube-sim/load", yaml_docs([snap_doc(
                "m%d" % i, "vm-gone", metadata={"name": "m%d" % i, "namespace": "default",
                                                 "finalizers": ["snapshot.kubevirt.io/vmsnapshot-protection"]},
                spec={"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "vm-gone"},
                      "failureDeadline": "0"})
                for i in range(start, min(a.many, start + 1000))]), "application/yaml")
        # settled: the daemon's store holds them all and its CPU stops moving
        last = -1.0
        for _ in range(600):
            time.sleep(1)
            cpu, rss = proc_stat(sv.pid)
            if abs(cpu - last) < 0.02:
                break
            last = cpu
        cpu, rss = proc_stat(sv.pid)
        print("reconcile: %d more snapshots (each reconciled once: finalizer kept, status written): daemon "
              "CPU %.2f s over %.0f s, RSS %d MiB" % (a.many, cpu - cpu0, time.time() - t1, rss // 1024))
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    main()
