# server: composes kube-sim - the threaded TLS server, the Sim (store, registry, types, admission chain,
# API verbs, shared cluster settings, actors), bootstrap of default namespaces and the command line.

import argparse
import http.server
import json
import os
import signal
import ssl
import sys
import tempfile
import threading
import time

from .actors.base import Client, Runner
from .actors.datavolume import DataVolumes
from .actors.gc import GarbageCollector
from .actors.namespace import CRDCleanup, NamespaceLifecycle, ServiceAccounts
from .actors.pvc_binder import PVCBinder
from .actors.snapshotter import Snapshotter
from .actors.virt_api import VirtAPI
from .admission import AdmissionChain
from .api import Api
from .cluster import Cluster, Registry
from .context import system_ctx
from .handler import Handler
from .loader import load_documents
from .pki import PKI, kubeconfig_text
from .store import Store
from .types import Types
from .util import log


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, sslctx, pki):
        self.sslctx = sslctx
        self.pki = pki
        http.server.ThreadingHTTPServer.__init__(self, addr, handler)

    def process_request_thread(self, request, client_address):
        try:
            request.settimeout(30)
            tls = self.sslctx.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except Exception:
            try:
                request.close()
            except OSError:
                pass
            return
        try:
            self.finish_request(tls, client_address)
        except Exception:
            pass
        finally:
            self.shutdown_request(tls)

    def handle_error(self, request, client_address):
        pass


# The actors, in the order they run after each change; each only sees the cluster through a Client.
ACTORS = (GarbageCollector, NamespaceLifecycle, ServiceAccounts, CRDCleanup, Snapshotter, PVCBinder, DataVolumes,
          VirtAPI)


class Sim:
    """The API server, composed: it holds the store, the registry of served types, the types'
    defaulting and validation, the admission chain, the API verbs (given the parts they use), the
    shared cluster settings and the actors, which reach the rest only through their Client."""

    def __init__(self, opts):
        self.store = Store(opts.watch_history)
        self.lock = self.store.lock
        self.cluster = Cluster(opts)
        self.registry = Registry()
        self.types = Types(self.store, self.registry)
        self.admission = AdmissionChain(self.store, self.registry, self.cluster)
        self.api = Api(self.store, self.registry, self.types, self.admission, self.cluster)
        client = Client(self.store, self.registry, self.api, self.cluster)
        self.actors = [cls(client) for cls in ACTORS]
        self.runner = Runner(self.store, self.cluster.timers, self.actors, self.cluster.controllers)

    def actor(self, name):
        return next(a for a in self.actors if a.name == name)

    def kubevirt_freeze(self, ctx, ns, name, op, body):
        """The freeze/unfreeze subresources of a VirtualMachineInstance, served by virt-api."""
        return self.actor("virt-api").freeze(ctx, ns, name, op, body)

    def start_controllers(self):
        self.runner.start()


# ---------------------------------------------------------------------------
# main

def parse_args(argv):
    p = argparse.ArgumentParser(prog="kube-sim", description="A stand-in kube-apiserver (and cluster) for tests. "
                                "See tools/kube-sim.md.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free port)")
    p.add_argument("--dir", default="", help="state directory for certificates and the kubeconfig "
                   "(default: a new temporary directory)")
    p.add_argument("--kubeconfig-out", default="", help="where to write the admin kubeconfig "
                   "(default: DIR/kubeconfig)")
    p.add_argument("--load", action="append", default=[], metavar="PATH",
                   help="YAML/JSON file or directory of them to create at start (repeatable; CRDs go first)")
    p.add_argument("--service-map", action="append", default=[], metavar="NS/NAME=HOST:PORT",
                   help="where a webhook clientConfig.service is reached (repeatable)")
    p.add_argument("--token", action="append", default=[], metavar="TOKEN=USER[:GROUP,GROUP...]",
                   help="accept this bearer token for USER (repeatable)")
    p.add_argument("--watch-history", type=int, default=10000, metavar="N",
                   help="events kept for watch resumption; older resourceVersions get 410 Expired")
    p.add_argument("--min-request-timeout", type=float, default=1800.0,
                   help="watches without timeoutSeconds end after a random time in [T, 2T] seconds")
    p.add_argument("--bookmark-interval", type=float, default=60.0,
                   help="seconds between BOOKMARK events (the last one comes 2 s before timeoutSeconds)")
    p.add_argument("--snapshot-ready-delay", type=float, default=0.3,
                   help="seconds from a VolumeSnapshot being bound to readyToUse: true")
    p.add_argument("--snapshot-bind-delay", type=float, default=0.0,
                   help="seconds before the snapshotter binds a new VolumeSnapshot to a content")
    p.add_argument("--pvc-bind-delay", type=float, default=0.1, help="seconds before a PVC becomes Bound")
    p.add_argument("--disable", action="append", default=[],
                   choices=["gc", "namespace", "crd-cleanup", "serviceaccount", "snapshotter", "pvc-binder",
                            "datavolume"], help="turn a controller off (repeatable)")
    p.add_argument("--no-default-storageclass", action="store_true",
                   help='do not create the default StorageClass "standard"')
    p.add_argument("--no-anonymous", dest="anonymous", action="store_false",
                   help="reject unauthenticated requests with 401 instead of treating them as system:anonymous")
    p.add_argument("--log-requests", action="store_true", help="log every request on stderr")
    a = p.parse_args(argv)
    sm = {}
    for s in a.service_map:
        k, sep, v = s.partition("=")
        if not sep or "/" not in k or ":" not in v:
            p.error("--service-map wants NS/NAME=HOST:PORT, got %r" % s)
        sm[k] = v
    a.service_map = sm
    toks = {}
    for s in a.token:
        t, sep, rest = s.partition("=")
        if not sep or not rest:
            p.error("--token wants TOKEN=USER[:GROUPS], got %r" % s)
        user, _, groups = rest.partition(":")
        toks[t] = {"user": user, "groups": [g for g in groups.split(",") if g], "uid": ""}
    a.tokens = toks
    return a


def bootstrap(sim, opts):
    ctx = system_ctx("kube-apiserver")
    nrt = sim.registry.lookup("", "v1", "namespaces")
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        sim.api.op_create(ctx, nrt, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    if not opts.no_default_storageclass:
        sim.api.op_create(ctx, sim.registry.lookup("storage.k8s.io", "v1", "storageclasses"), "", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kube-sim.csi.k8s.io", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": True})
    for path in opts.load:
        files = []
        if os.path.isdir(path):
            for fn in sorted(os.listdir(path)):
                if fn.endswith((".yaml", ".yml", ".json")):
                    files.append(os.path.join(path, fn))
        else:
            files.append(path)
        text = "\n---\n".join(open(f).read() for f in files)
        for r in load_documents(sim, text):
            if r["result"] == "error" or r["result"].startswith("no matches"):
                log("load %s %s/%s: %s" % (r["kind"], r["namespace"], r["name"], r.get("error") or r["result"]))


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    d = opts.dir or tempfile.mkdtemp(prefix="kube-sim-")
    d = os.path.abspath(d)
    pki = PKI(d)
    pki.init()
    sim = Sim(opts)
    sim.cluster.ca_pem = pki.ca_pem
    Handler.sim = sim
    Handler.opts = opts
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(pki.path("server.crt"), pki.path("server.key"))
    sctx.load_verify_locations(pki.path("ca.crt"))
    sctx.verify_mode = ssl.CERT_OPTIONAL
    try:
        sctx.set_alpn_protocols(["http/1.1"])
    except NotImplementedError:
        pass
    server = Server(("127.0.0.1", opts.port), Handler, sctx, pki)
    sim.cluster.port = server.server_address[1]
    bootstrap(sim, opts)
    kc_path = os.path.abspath(opts.kubeconfig_out or os.path.join(d, "kubeconfig"))
    with open(kc_path, "w") as f:
        f.write(kubeconfig_text(sim.cluster.port, pki.ca_pem, open(pki.path("admin.crt")).read(),
                                open(pki.path("admin.key")).read()))
    os.chmod(kc_path, 0o600)
    sim.start_controllers()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="serve", daemon=True)
    t.start()
    sys.stdout.write(json.dumps({"kubeconfig": kc_path, "port": sim.cluster.port, "ca": pki.path("ca.crt"),
                                 "server": "https://127.0.0.1:%d" % sim.cluster.port, "dir": d,
                                 "clientCert": pki.path("admin.crt"), "clientKey": pki.path("admin.key"),
                                 "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    while not stop.is_set():
        stop.wait(0.5)
    log("stopping")
    sim.runner.stop()
    with sim.lock:
        ws = list(sim.store.watchers)
    for w in ws:
        w.stop("end")
    server.shutdown()
    server.server_close()
    time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
