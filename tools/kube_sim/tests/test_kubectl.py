"""Real kubectl against kube-sim: the fixtures' kubectl transcripts byte for byte (with the webhook answering
what the recording webhook answered), and everyday commands (get, -o yaml, label, patch, describe, wait,
delete)."""

import base64
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

from ksim_helper import (KubeSim, Webhook, make_certs, webhook_configs, need_fixtures, fixture_text, FIXTURES,
                         CRD_DIR, kubectl_path, kubectl_version, UUID_RE)

KUBECTL = kubectl_path()
VERSION = kubectl_version(KUBECTL) if KUBECTL else (0, 0)
VS = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots"
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
# kubectl's wording of errors changed over time; the fixtures were printed by kubectl 1.32
EXACT = VERSION >= (1, 24) or os.environ.get("KUBE_SIM_EXACT") == "1"


def input_files(txt):
    """The '--- name' sections after '## Input files' of a kubectl-*.txt fixture."""
    out, cur, buf = {}, None, []
    part = txt.split("## Input files", 1)[1]
    for line in part.splitlines(keepends=True):
        m = re.match(r"^--- (\S+)\n$", line)
        if m:
            if cur:
                out[cur] = "".join(buf).rstrip("\n") + "\n"
            cur, buf = m.group(1), []
        elif cur:
            buf.append(line)
    if cur:
        out[cur] = "".join(buf).rstrip("\n") + "\n"
    return out


@need_fixtures
@unittest.skipIf(KUBECTL is None, "kubectl not on PATH")
class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kube-sim-kubectl-")
        cls.ca, cert, key = make_certs(cls.tmp)
        cls.hook = Webhook(cert, key)
        cls.sim = KubeSim("--load", FIXTURES + "/crds.yaml", "--load", CRD_DIR).start()
        v, m = webhook_configs("https://127.0.0.1:%d" % cls.hook.port, cls.ca)
        cls.sim.json("POST", VWC, v, expect=201)
        cls.sim.json("POST", MWC, m, expect=201)
        cls.work = os.path.join(cls.tmp, "work")
        os.makedirs(cls.work)
        for name in ("kubectl-denial.txt", "kubectl-denials-more.txt", "kubectl-session.txt"):
            for fn, text in input_files(fixture_text(name)).items():
                with open(os.path.join(cls.work, fn), "w") as f:
                    f.write(text)
        cls.env = dict(os.environ, KUBECONFIG=cls.sim.kubeconfig, HOME=cls.tmp,
                       KUBECACHEDIR=os.path.join(cls.tmp, "cache"))
        cls.env.pop("KUBECTL_EXTERNAL_DIFF", None)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.hook.stop()

    def setUp(self):
        self.hook.reset()

    def kubectl(self, command, stdin=None, timeout=60):
        """Run a shell command line in which 'kubectl' is the kubectl under test."""
        cmd = re.sub(r"\bkubectl\b", "'%s'" % KUBECTL, command)
        p = subprocess.run(["bash", "-c", cmd], cwd=self.work, env=self.env, input=stdin, capture_output=True,
                           timeout=timeout, text=True)
        return p.returncode, p.stdout, p.stderr

    def check(self, case, rc, out, err, fix=lambda s: s):
        if EXACT:
            self.assertEqual((rc, out, err), (case["exit_code"], fix(case["stdout"]), fix(case["stderr"])),
                             case["command"])
        else:
            self.assertEqual(rc, case["exit_code"], (case["command"], out, err))

    def test_denial_transcripts(self):
        """kubectl-denial.txt and kubectl-denials-more.txt, byte for byte."""
        cases = json.loads(fixture_text("kubectl-transcripts.json"))
        ran = 0
        for key, case in cases.items():
            resp = case.get("webhook_response")
            wcase = case.get("webhook_case")
            if not wcase or wcase in ("mutate_jsonpatch",):
                continue
            self.hook.reset()
            fix = lambda s: s
            if wcase == "timeout":
                st, v = self.sim.json("GET", VWC + "/vmsnapshot-validator", expect=200)
                v["webhooks"][0]["timeoutSeconds"] = 2
                self.sim.json("PUT", VWC + "/vmsnapshot-validator", v, expect=200)
                self.hook.sleep["validate"] = 3
                fix = lambda s: s.replace("127.0.0.1:18443", "127.0.0.1:%d" % self.hook.port)
            else:
                resp = json.loads(json.dumps(resp))
                if wcase != "wrong_uid":
                    resp["response"].pop("uid", None)
                ep = "mutate" if wcase == "mutate_patch_that_does_not_apply" else "validate"
                self.hook.answers[ep] = resp
            try:
                rc, out, err = self.kubectl(case["command"])
            finally:
                if wcase == "timeout":
                    self.hook.sleep = {}
                    st, v = self.sim.json("GET", VWC + "/vmsnapshot-validator", expect=200)
                    v["webhooks"][0]["timeoutSeconds"] = 10
                    self.sim.json("PUT", VWC + "/vmsnapshot-validator", v, expect=200)
            if wcase == "wrong_uid":
                uid = [c for c in self.hook.calls if c["endpoint"] == "validate"][-1]["review"]["request"]["uid"]
                fix = lambda s, uid=uid: s.replace("9a21251d-cafe-49c1-9b26-cd520313fb38", uid)
            self.check(case, rc, out, err, fix)
            ran += 1
        self.assertGreaterEqual(ran, 13)
        self.sim.json("GET", VS + "/bad-kind", expect=404)

    def test_session_transcript(self):
        """kubectl-session.txt: create, label, apply, status patches, server dry-run, delete, restore."""
        cases = json.loads(fixture_text("kubectl-transcripts.json"))
        mut = cases["mutate-create"]
        self.hook.answers["mutate"] = json.loads(json.dumps(mut["webhook_response"]))
        self.hook.answers["mutate"]["response"].pop("uid")
        rc, out, err = self.kubectl(mut["command"])
        self.check(mut, rc, out, err)
        self.hook.answers = {}
        for key in ("create", "label", "apply", "status", "-status-with-status-rule", "dryrun", "delete", "restore"):
            case = cases[key]
            if ("--subresource" in case["command"] or "--dry-run" in case["command"]) and VERSION < (1, 24):
                continue    # kubectl < 1.24: no --subresource; server dry-run wants OpenAPI v2 paths
            if key == "-status-with-status-rule":
                v, _ = webhook_configs("https://127.0.0.1:%d" % self.hook.port, self.ca,
                                       rules_resources=["virtualmachinesnapshots/status"],
                                       validating_name="vmsnapshot-status-validator")
                v["webhooks"][0]["name"] = "virtualmachinesnapshot-status-validator.snapshot.kubevirt.io"
                self.sim.json("POST", VWC, v, expect=201)
            self.hook.reset()
            rc, out, err = self.kubectl(case["command"])
            if key == "dryrun":
                self.assertEqual(rc, 0, err)
                got, want = json.loads(out), json.loads(case["stdout"])
                for o in (got, want):
                    o["metadata"]["uid"] = o["metadata"]["creationTimestamp"] = "x"
                self.assertEqual(got, want)
                if EXACT:
                    self.assertEqual(len(out), len(case["stdout"]))
            else:
                self.check(case, rc, out, err)
            calls = ["%s-%s" % (c["endpoint"], c["review"]["request"]["operation"]) for c in self.hook.calls]
            self.assertEqual(calls, case["webhook_calls"], key)
            if key == "-status-with-status-rule":
                self.sim.json("DELETE", VWC + "/vmsnapshot-status-validator", expect=200)
        self.kubectl("kubectl delete vmrestore my-vmrestore mutated-vmsnapshot --ignore-not-found; "
                     "kubectl delete vmsnapshot mutated-vmsnapshot")

    def test_everyday_commands(self):
        k = self.kubectl
        vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
               "metadata": {"name": "vmi-a", "labels": {"app": "db"}}, "spec": {"domain": {}}}
        rc, out, err = k("kubectl create -f -", stdin=json.dumps(vmi))
        self.assertEqual((rc, out, err), (0, "virtualmachineinstance.kubevirt.io/vmi-a created\n", ""))
        rc, out, err = k("kubectl get vmi")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines()[0].split(), ["NAME", "AGE", "PHASE", "IP", "NODENAME", "READY"])
        self.assertEqual(out.splitlines()[1].split()[0], "vmi-a")
        rc, out, err = k("kubectl get vmis -l app=db -o name")
        self.assertEqual(out, "virtualmachineinstance.kubevirt.io/vmi-a\n")
        rc, out, err = k("kubectl get vmi -l app=web")
        self.assertEqual((rc, out), (0, ""))
        self.assertIn("No resources found in default namespace.", err)
        rc, out, err = k("kubectl label vmi vmi-a tier=gold")
        self.assertEqual(out, "virtualmachineinstance.kubevirt.io/vmi-a labeled\n")
        rc, out, err = k("kubectl patch vmi vmi-a --type=json -p '[{\"op\":\"add\",\"path\":\"/spec/x\",\"value\":1}]'")
        self.assertEqual(out, "virtualmachineinstance.kubevirt.io/vmi-a patched\n")
        rc, out, err = k("kubectl get vmi vmi-a -o yaml")
        self.assertIn("tier: gold", out)
        self.assertIn("  x: 1", out)
        self.assertIn("generation: 2", out)
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "vmi-a.1"}, "type": "Normal",
              "reason": "Started", "message": "VMI started", "count": 1,
              "involvedObject": {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "name": "vmi-a",
                                 "namespace": "default",
                                 "uid": json.loads(k("kubectl get vmi vmi-a -o json")[1])["metadata"]["uid"]},
              "source": {"component": "virt-handler"}, "firstTimestamp": "2026-01-01T00:00:00Z",
              "lastTimestamp": "2026-01-01T00:00:00Z"}
        self.assertEqual(k("kubectl create -f -", stdin=json.dumps(ev))[0], 0)
        rc, out, err = k("kubectl describe vmi vmi-a")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"Name:\s+vmi-a")
        self.assertRegex(out, r"Normal\s+Started\s+.*virt-handler\s+VMI started")

        def make_ready():
            time.sleep(1)
            self.sim.json("PATCH", "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/vmi-a/status",
                          {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
                          ctype="application/merge-patch+json", expect=200)
        t = threading.Thread(target=make_ready)
        t.start()
        rc, out, err = k("kubectl wait --for condition=Ready vmi/vmi-a --timeout=20s")
        t.join()
        self.assertEqual((rc, out), (0, "virtualmachineinstance.kubevirt.io/vmi-a condition met\n"), err)
        rc, out, err = k("kubectl get vmi vmi-a")
        self.assertEqual(out.splitlines()[1].split()[2:], ["Running", "True"])
        rc, out, err = k("kubectl get pvc,sc")
        self.assertIn("standard (default)", out)
        rc, out, err = k("kubectl delete vmi vmi-a")
        self.assertEqual((rc, out), (0, 'virtualmachineinstance.kubevirt.io "vmi-a" deleted\n'), err)
        rc, out, err = k("kubectl get vmi vmi-a")
        self.assertEqual(rc, 1)
        self.assertEqual(err, 'Error from server (NotFound): virtualmachineinstances.kubevirt.io "vmi-a" not found\n')

    def test_built_in_types(self):
        k = self.kubectl
        rc, out, err = k("kubectl create namespace kt-ns && kubectl -n kt-ns create configmap cm1 --from-literal=a=b "
                         "&& kubectl -n kt-ns get cm cm1 -o jsonpath='{.data.a}'")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.endswith("b"), out)
        pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "disk"},
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
        self.assertEqual(k("kubectl -n kt-ns apply -f -", stdin=json.dumps(pvc))[0], 0)
        for _ in range(50):
            rc, out, err = k("kubectl -n kt-ns get pvc disk -o jsonpath='{.status.phase}'")
            if out == "Bound":
                break
            time.sleep(0.1)
        self.assertEqual(out, "Bound")
        rc, out, err = k("kubectl -n kt-ns get pvc")
        self.assertEqual(out.splitlines()[0].split()[:4], ["NAME", "STATUS", "VOLUME", "CAPACITY"])
        self.assertIn("RWO", out)
        rc, out, err = k("kubectl delete namespace kt-ns")
        self.assertEqual(rc, 0, err)
        self.assertEqual(k("kubectl get ns kt-ns")[0], 1)
        rc, out, err = k("kubectl delete namespace default")
        self.assertEqual(rc, 1)
        self.assertIn('namespaces "default" is forbidden: this namespace may not be deleted', err)


if __name__ == "__main__":
    unittest.main()
