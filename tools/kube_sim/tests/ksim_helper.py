"""Shared helpers for the kube-sim tests: start kube-sim, talk HTTPS to it, read fixtures,
a tiny HTTPS admission webhook, and certificates made with the openssl tool."""

import base64
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
if os.path.join(ROOT, "tools") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tools"))   # the kube_sim package
KUBE_SIM = os.path.join(ROOT, "tools", "kube-sim")
CRD_DIR = os.path.join(ROOT, "tools", "kube-sim-crds")


def _find_fixtures():
    cands = [os.environ.get("KUBE_SIM_FIXTURES", ""),
             os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "kube-apiserver-1.24"),
             "/work/shared/fixtures/kube-apiserver-1.24"]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, "README.md")):
            return c
    return None


FIXTURES = _find_fixtures()
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")



def fixture_path(name):
    return os.path.join(FIXTURES, name)


def fixture_text(name):
    with open(fixture_path(name), encoding="utf-8") as f:
        return f.read()


def need_fixtures(cls):
    return unittest.skipIf(FIXTURES is None, "fixtures not found (set KUBE_SIM_FIXTURES)")(cls)


def parse_http(raw):
    """Raw HTTP/1.1 response (bytes) -> (status, [(header, value)], body bytes, [chunk sizes] or None)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = []
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers.append((k.strip(), v.strip()))
    chunks = None
    if any(k.lower() == "transfer-encoding" and v.lower() == "chunked" for k, v in headers):
        if re.match(rb"^[0-9a-fA-F]+\r\n", body):
            chunks, out = [], b""
            rest = body
            while rest:
                line, _, rest = rest.partition(b"\r\n")
                n = int(line, 16)
                if n == 0:
                    break
                chunks.append(n)
                out += rest[:n]
                rest = rest[n + 2:]
            body = out
    return status, headers, body, chunks


def fixture_http(name):
    with open(fixture_path(name), "rb") as f:
        return parse_http(f.read())


def fixture_json(name):
    return json.loads(fixture_http(name)[2])


def api_requests():
    with open(fixture_path("api-requests.json")) as f:
        return {r["file"]: r for r in json.load(f)}


SCRUB_KEYS = {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "time", "lastTransitionTime"}


def scrub(o, keys=SCRUB_KEYS):
    """Blank out what differs between runs (uids, timestamps, resourceVersions)."""
    if isinstance(o, dict):
        out = {k: ("<%s>" % k if k in keys and v is not None else scrub(v, keys)) for k, v in o.items()}
        if isinstance(out.get("managedFields"), list):
            # entries written within one second sort by manager name; the fixtures' were seconds apart
            out["managedFields"] = sorted(out["managedFields"], key=lambda e: (
                e.get("operation", ""), e.get("manager", ""), e.get("subresource", "")))
        return out
    if isinstance(o, list):
        return [scrub(x, keys) for x in o]
    if isinstance(o, str):
        return UUID_RE.sub("<uuid>", o)
    return o


# ---------------------------------------------------------------------------
# kube-sim process

class KubeSim:
    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="kube-sim-test-")
        self.args = list(args)
        self.proc = None

    def start(self):
        self.errlog = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen([sys.executable, KUBE_SIM, "--dir", self.dir, "--port", "0"] + self.args,
                                     stdout=subprocess.PIPE, stderr=self.errlog)
        line = self.proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("kube-sim did not start: " + open(os.path.join(self.dir, "stderr.log")).read())
        self.info = json.loads(line)
        self.port = self.info["port"]
        self.kubeconfig = self.info["kubeconfig"]
        self.ctx = ssl.create_default_context(cafile=self.info["ca"])
        self.ctx.load_cert_chain(self.info["clientCert"], self.info["clientKey"])
        self.anon_ctx = ssl.create_default_context(cafile=self.info["ca"])
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "errlog", None):
            self.errlog.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def conn(self, anonymous=False, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.anon_ctx if anonymous else self.ctx)

    def request(self, method, path, body=None, headers=None, anonymous=False, ctype="application/json",
                ua="fixture-recorder/1.0"):
        """-> (status, {lower-case header: [values]}, body bytes)"""
        c = self.conn(anonymous)
        h = {"User-Agent": ua, "Accept": "application/json"}
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            h["Content-Type"] = ctype
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            hdrs.setdefault(k.lower(), []).append(v)
        c.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, expect=None, **kw):
        st, h, data = self.request(method, path, body, **kw)
        if expect is not None and st != expect:
            raise AssertionError("%s %s -> %d (wanted %d): %s" % (method, path, st, expect, data[:600]))
        return st, (json.loads(data) if data else None)

    def admin(self, what, body=None, method=None):
        st, out = self.json(method or ("POST" if body is not None else "GET"), "/kube-sim/" + what, body)
        if st != 200:
            raise AssertionError("admin %s -> %d %s" % (what, st, out))
        return out

    def raw(self, method, path, headers=None, read_until_close=True, timeout=30, anonymous=False):
        """A raw HTTP/1.1 exchange on a fresh TLS socket; returns (bytes, [(t, chunk bytes)])."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        t = (self.anon_ctx if anonymous else self.ctx).wrap_socket(s, server_hostname="127.0.0.1")
        h = {"Host": "127.0.0.1:%d" % self.port, "User-Agent": "fixture-recorder/1.0", "Accept": "application/json",
             "Connection": "close"}
        h.update(headers or {})
        req = "%s %s HTTP/1.1\r\n%s\r\n" % (method, path, "".join("%s: %s\r\n" % kv for kv in h.items()))
        t.sendall(req.encode())
        t0, recvs, data = time.time(), [], b""
        while True:
            try:
                b = t.recv(65536)
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                break
            if not b:
                break
            recvs.append((time.time() - t0, b))
            data += b
            if data.endswith(b"\r\n0\r\n\r\n") and not read_until_close:
                break
        t.close()
        return data, recvs


# ---------------------------------------------------------------------------
# certificates for test webhooks

def make_certs(d, sans="IP:127.0.0.1"):
    """CA + serving certificate in d; returns (ca_pem, cert_path, key_path)."""
    def run(*a):
        subprocess.run(["openssl"] + list(a), cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        "wca.key", "-out", "wca.crt", "-days", "30", "-subj", "/CN=webhook-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    with open(os.path.join(d, "wh.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % sans)
    run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "wh.key",
        "-out", "wh.csr", "-subj", "/CN=webhook")
    run("x509", "-req", "-in", "wh.csr", "-CA", "wca.crt", "-CAkey", "wca.key", "-set_serial", "7", "-days", "30",
        "-out", "wh.crt", "-extfile", "wh.ext")
    with open(os.path.join(d, "wca.crt")) as f:
        return f.read(), os.path.join(d, "wh.crt"), os.path.join(d, "wh.key")


class Webhook:
    """A tiny HTTPS admission webhook. `answers[endpoint]` is a function(review) -> response dict
    (the AdmissionReview "response"), or a full dict to send as is; `sleep[endpoint]` delays."""

    def __init__(self, cert, key):
        self.calls = []
        self.answers = {}
        self.sleep = {}
        self.lock = threading.Lock()
        hook = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                review = json.loads(self.rfile.read(n))
                ep = self.path.split("?")[0].strip("/")
                with hook.lock:
                    hook.calls.append({"path": self.path, "endpoint": ep, "headers": list(self.headers.items()),
                                       "review": review, "port": self.client_address[1]})
                if hook.sleep.get(ep):
                    time.sleep(hook.sleep[ep])
                ans = hook.answers.get(ep)
                uid = review["request"]["uid"]
                if callable(ans):
                    out = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": ans(review)}
                elif isinstance(ans, dict) and "response" in ans:
                    out = json.loads(json.dumps(ans))
                    out["response"].setdefault("uid", uid)
                else:
                    out = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "response": {"uid": uid, "allowed": True}}
                body = json.dumps(out).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        with self.lock:
            self.calls = []
        self.answers = {}
        self.sleep = {}

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def webhook_configs(url_base, ca_pem, rules_resources=None, validating_name="vmsnapshot-validator",
                    mutating_name="vmsnapshot-mutator"):
    """The fixture's webhook-configurations.yaml (first two documents) pointed at url_base."""
    ca = base64.b64encode(ca_pem.encode()).decode()
    res = rules_resources or ["virtualmachinesnapshots", "virtualmachinesnapshotcontents", "virtualmachinerestores"]
    rule = {"apiGroups": ["snapshot.kubevirt.io"], "apiVersions": ["v1beta1"], "resources": res,
            "operations": ["CREATE", "UPDATE", "DELETE"], "scope": "Namespaced"}
    v = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
         "metadata": {"name": validating_name},
         "webhooks": [{"name": "virtualmachinesnapshot-validator.snapshot.kubevirt.io",
                       "clientConfig": {"url": url_base + "/validate", "caBundle": ca}, "rules": [rule],
                       "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Fail"}]}
    m = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": mutating_name},
         "webhooks": [{"name": "virtualmachinesnapshot-mutator.snapshot.kubevirt.io",
                       "clientConfig": {"url": url_base + "/mutate", "caBundle": ca}, "rules": [rule],
                       "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Fail"}]}
    return v, m


def kubectl_path():
    p = os.environ.get("KUBECTL") or shutil.which("kubectl")
    return p


def kubectl_version(path):
    try:
        out = subprocess.run([path, "version", "--client", "-o", "json"], capture_output=True, timeout=30).stdout
        v = json.loads(out)["clientVersion"]
        return int(v["major"]), int(re.sub(r"\D.*", "", v["minor"]))
    except Exception:
        return (0, 0)
