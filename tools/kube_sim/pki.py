# pki: certificates made with the openssl tool (CA, serving cert, admin client cert) and the kubeconfig
# written for clients, like a kubeadm cluster's PKI.

import base64
import json
import os
import random
import re
import subprocess
import threading

from .util import rand_suffix


# ---------------------------------------------------------------------------
# certificates (openssl command-line tool) and kubeconfig

class PKI:
    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()

    def _run(self, *args, stdin=None):
        p = subprocess.run(["openssl"] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir)
        if p.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], p.stderr.decode(errors="replace")))
        return p.stdout

    def path(self, name):
        return os.path.join(self.dir, name)

    def init(self):
        os.makedirs(self.dir, exist_ok=True)
        if not (os.path.exists(self.path("ca.crt")) and os.path.exists(self.path("ca.key"))):
            self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=kube-sim-ca",
                      "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
                      "-addext", "subjectKeyIdentifier=hash")
        self.ca_pem = open(self.path("ca.crt")).read()
        self.issue("server", "/CN=kube-apiserver", server=True,
                   sans="IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
                        "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local")
        self.issue("admin", "/O=system:masters/CN=admin")

    def issue(self, base, subj, server=False, sans=None):
        with self.lock:
            ext = ["basicConstraints=critical,CA:FALSE",
                   "keyUsage=critical,digitalSignature,keyEncipherment",
                   "extendedKeyUsage=" + ("serverAuth" if server else "clientAuth"),
                   "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid,issuer"]
            if sans:
                ext.append("subjectAltName=" + sans)
            extfile = self.path(base + ".ext")
            with open(extfile, "w") as f:
                f.write("\n".join(ext) + "\n")
            self._run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", base + ".key", "-out", base + ".csr", "-subj", subj)
            self._run("x509", "-req", "-in", base + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                      "-set_serial", str(random.randint(1, 2 ** 62)), "-days", "3650", "-out", base + ".crt",
                      "-extfile", extfile)
            for tmp in (base + ".csr", base + ".ext"):
                try:
                    os.unlink(self.path(tmp))
                except OSError:
                    pass
            os.chmod(self.path(base + ".key"), 0o600)
            return open(self.path(base + ".crt")).read(), open(self.path(base + ".key")).read()

    def issue_client(self, user, groups):
        def esc(s):
            return s.replace("/", "\\/").replace("=", "\\=")
        subj = "".join("/O=" + esc(g) for g in groups) + "/CN=" + esc(user)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", user) + "-" + rand_suffix()
        return self.issue("client-" + safe, subj)


def kubeconfig_text(port, ca_pem, cert_pem, key_pem, user="admin"):
    b = lambda s: base64.b64encode(s.encode()).decode()
    return ("apiVersion: v1\nkind: Config\nclusters:\n- name: kube-sim\n  cluster:\n"
            "    server: https://127.0.0.1:%d\n    certificate-authority-data: %s\n"
            "users:\n- name: %s\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n"
            "contexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: %s\n    namespace: default\n"
            "current-context: kube-sim\npreferences: {}\n") % (port, b(ca_pem), json.dumps(user), b(cert_pem),
                                                              b(key_pem), json.dumps(user))
