"""The rest of the cluster: CSI snapshotter, PVC binding, DataVolumes, KubeVirt freeze/unfreeze,
namespace and CRD cleanup, tokens, client certificates, faults, CRD rules, tables and SIGTERM."""

import json
import os
import signal
import ssl
import subprocess
import time
import unittest
import http.client

from ksim_helper import KubeSim, CRD_DIR, FIXTURES
from kube_sim.yamlio import yaml_load_all

NS = "/api/v1/namespaces/default"
SNAP = "/apis/snapshot.storage.k8s.io/v1"
VMI = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
SUB = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances"


def wait_for(fn, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    return fn()


def pvc(name, **extra):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}
    spec.update(extra)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


class ActorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = KubeSim("--load", CRD_DIR, "--snapshot-ready-delay", "0.3", "--token", "tok-1=alice:devs,ops").start()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def get(self, path):
        st, out = self.sim.json("GET", path)
        return out if st == 200 else None

    def test_pvc_snapshot_restore(self):
        sim = self.sim
        sim.json("POST", NS + "/persistentvolumeclaims", pvc("disk-a"), expect=201)
        bound = wait_for(lambda: (self.get(NS + "/persistentvolumeclaims/disk-a") or {}).get("status", {}).get(
            "phase") == "Bound")
        self.assertTrue(bound)
        p = self.get(NS + "/persistentvolumeclaims/disk-a")
        self.assertEqual(p["spec"]["storageClassName"], "standard")
        self.assertEqual(p["status"]["capacity"], {"storage": "2Gi"})
        self.assertIsNotNone(self.get("/api/v1/persistentvolumes/" + p["spec"]["volumeName"]))
        vsc = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
               "metadata": {"name": "csi-snap", "annotations": {
                   "snapshot.storage.kubernetes.io/is-default-class": "true"}},
               "driver": "kube-sim.csi.k8s.io", "deletionPolicy": "Delete"}
        sim.json("POST", SNAP + "/volumesnapshotclasses", vsc, expect=201)
        vs = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "snap-1"},
              "spec": {"source": {"persistentVolumeClaimName": "disk-a"}}}
        t0 = time.time()
        sim.json("POST", SNAP + "/namespaces/default/volumesnapshots", vs, expect=201)
        path = SNAP + "/namespaces/default/volumesnapshots/snap-1"
        got = wait_for(lambda: (self.get(path) or {}).get("status", {}).get("boundVolumeSnapshotContentName"))
        self.assertTrue(got)
        s = self.get(path)
        if not s["status"].get("readyToUse"):
            self.assertIn("creationTime", s["status"])
        ready = wait_for(lambda: (self.get(path) or {}).get("status", {}).get("readyToUse"))
        self.assertTrue(ready)
        self.assertGreaterEqual(time.time() - t0, 0.25)
        s = self.get(path)
        self.assertEqual(s["spec"]["volumeSnapshotClassName"], "csi-snap")
        content = self.get(SNAP + "/volumesnapshotcontents/" + s["status"]["boundVolumeSnapshotContentName"])
        self.assertEqual(content["spec"]["volumeSnapshotRef"]["uid"], s["metadata"]["uid"])
        self.assertTrue(content["status"]["readyToUse"])
        # a PVC restored from the snapshot binds
        sim.json("POST", NS + "/persistentvolumeclaims", pvc("restored", dataSource={
            "apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap-1"}), expect=201)
        self.assertTrue(wait_for(lambda: (self.get(NS + "/persistentvolumeclaims/restored") or {}).get(
            "status", {}).get("phase") == "Bound"))
        # an error on demand: admin endpoint, then annotation
        sim.admin("snapshotter", {"fail": {"default/snap-2": "injected failure"}})
        vs["metadata"]["name"] = "snap-2"
        sim.json("POST", SNAP + "/namespaces/default/volumesnapshots", vs, expect=201)
        err = wait_for(lambda: (self.get(SNAP + "/namespaces/default/volumesnapshots/snap-2") or {}).get(
            "status", {}).get("error"))
        self.assertEqual(err["message"], "injected failure")
        sim.admin("snapshotter", {"fail": {}})
        self.assertTrue(wait_for(lambda: (self.get(SNAP + "/namespaces/default/volumesnapshots/snap-2") or {}).get(
            "status", {}).get("readyToUse")))
        vs["metadata"] = {"name": "snap-3", "annotations": {"kube-sim.io/snapshot-error": "disk on fire"}}
        sim.json("POST", SNAP + "/namespaces/default/volumesnapshots", vs, expect=201)
        err = wait_for(lambda: (self.get(SNAP + "/namespaces/default/volumesnapshots/snap-3") or {}).get(
            "status", {}).get("error"))
        self.assertEqual(err["message"], "disk on fire")
        # deleting a snapshot removes its content (deletionPolicy Delete)
        cname = s["status"]["boundVolumeSnapshotContentName"]
        sim.json("DELETE", path, expect=200)
        self.assertTrue(wait_for(lambda: self.get(path) is None))
        self.assertTrue(wait_for(lambda: self.get(SNAP + "/volumesnapshotcontents/" + cname) is None))
        # tables from printer columns
        st, h, body = sim.request("GET", SNAP + "/namespaces/default/volumesnapshots", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
        t = json.loads(body)
        self.assertEqual([c["name"] for c in t["columnDefinitions"]][:3], ["Name", "ReadyToUse", "SourcePVC"])
        row = [r for r in t["rows"] if r["cells"][0] == "snap-2"][0]
        self.assertEqual(row["cells"][1:3], [True, "disk-a"])
        self.assertEqual(row["object"]["kind"], "PartialObjectMetadata")

    def test_datavolume(self):
        sim = self.sim
        dv = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "dv-1"},
              "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": "1Gi"}}}}}
        sim.json("POST", "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes", dv, expect=201)
        self.assertTrue(wait_for(lambda: (self.get("/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes/"
                                                   "dv-1") or {}).get("status", {}).get("phase") == "Succeeded"))
        p = self.get(NS + "/persistentvolumeclaims/dv-1")
        self.assertEqual(p["metadata"]["ownerReferences"][0]["kind"], "DataVolume")
        sim.json("DELETE", "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes/dv-1", expect=200)
        self.assertTrue(wait_for(lambda: self.get(NS + "/persistentvolumeclaims/dv-1") is None))

    def test_datavolume_adopts_a_populated_claim(self):
        sim = self.sim
        sim.json("POST", NS + "/persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "dv-pre", "annotations": {"cdi.kubevirt.io/storage.populatedFor": "dv-pre"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}, expect=201)
        dv = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
              "metadata": {"name": "dv-pre", "annotations": {"cdi.kubevirt.io/storage.prePopulated": "true"}},
              "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": "1Gi"}}}}}
        st, made = sim.json("POST", "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes", dv, expect=201)
        self.assertTrue(wait_for(lambda: (self.get("/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes/"
                                                   "dv-pre") or {}).get("status", {}).get("phase") == "Succeeded"))
        refs = self.get(NS + "/persistentvolumeclaims/dv-pre")["metadata"]["ownerReferences"]
        self.assertEqual([(r["kind"], r["uid"]) for r in refs], [("DataVolume", made["metadata"]["uid"])])
        self.assertNotIn("app", self.get(NS + "/persistentvolumeclaims/dv-pre")["metadata"].get("labels") or {},
                         "the restored claim is kept, not re-created")

    def test_freeze_unfreeze(self):
        sim = self.sim
        sim.admin("freeze-log", method="DELETE")
        st, h, body = sim.request("PUT", SUB + "/vm-x/freeze", {})
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(body)["message"], 'virtualmachineinstance.kubevirt.io "vm-x" not found')
        sim.json("POST", VMI, {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                               "metadata": {"name": "vm-x"}, "spec": {}}, expect=201)
        st, h, body = sim.request("PUT", SUB + "/vm-x/freeze", {"unfreezeTimeout": "5m"})
        self.assertEqual((st, body), (200, b""))
        self.assertEqual(self.get(VMI + "/vm-x")["status"]["fsFreezeStatus"], "frozen")
        st, h, body = sim.request("PUT", SUB + "/vm-x/unfreeze")
        self.assertEqual(st, 200)
        self.assertNotIn("fsFreezeStatus", self.get(VMI + "/vm-x").get("status") or {})
        sim.admin("kubevirt", {"failFreeze": {"code": 500, "message": "guest agent not responding"}})
        st, h, body = sim.request("PUT", SUB + "/vm-x/freeze", {})
        self.assertEqual((st, json.loads(body)["message"]), (500, "guest agent not responding"))
        sim.admin("kubevirt", {"failFreeze": None})
        calls = sim.admin("freeze-log")["calls"]
        self.assertEqual([(c["op"], c["result"]) for c in calls],
                         [("freeze", 404), ("freeze", 200), ("unfreeze", 200), ("freeze", 500)])
        self.assertEqual(calls[1]["body"], {"unfreezeTimeout": "5m"})
        st, root = sim.json("GET", "/apis/subresources.kubevirt.io/v1", expect=200)
        self.assertIn("virtualmachineinstances/freeze", [r["name"] for r in root["resources"]])

    def test_vm_start_stop(self):
        sim = self.sim
        vms = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
        vmsub = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines"
        st, h, body = sim.request("PUT", vmsub + "/vm-s/stop", {})
        self.assertEqual((st, json.loads(body)["message"]), (404, 'virtualmachine.kubevirt.io "vm-s" not found'))
        sim.json("POST", vms, {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "vm-s"},
                               "spec": {"runStrategy": "Always", "template": {"spec": {}}}}, expect=201)
        sim.json("POST", VMI, {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                               "metadata": {"name": "vm-s"}, "spec": {}}, expect=201)
        st, h, body = sim.request("PUT", vmsub + "/vm-s/stop", {})
        self.assertEqual(st, 200)
        self.assertEqual(self.get(vms + "/vm-s")["spec"]["runStrategy"], "Halted")
        self.assertIsNone(self.get(VMI + "/vm-s"), "virt-controller's part: the VMI goes")
        sim.json("PUT", vms + "/vm-s/status", dict(self.get(vms + "/vm-s"), status={"restoreInProgress": "r1"}),
                 expect=200)
        st, h, body = sim.request("PUT", vmsub + "/vm-s/start", {})
        self.assertEqual((st, json.loads(body)["message"]),
                         (409, 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm-s": Cannot start VM '
                               'until restore "r1" completes'))
        self.assertEqual(self.get(vms + "/vm-s")["spec"]["runStrategy"], "Halted")
        sim.json("PUT", vms + "/vm-s/status", dict(self.get(vms + "/vm-s"), status={}), expect=200)
        st, h, body = sim.request("PUT", vmsub + "/vm-s/start", {})
        self.assertEqual(st, 200)
        self.assertEqual(self.get(vms + "/vm-s")["spec"]["runStrategy"], "Always")
        st, root = sim.json("GET", "/apis/subresources.kubevirt.io/v1", expect=200)
        self.assertIn("virtualmachines/stop", [r["name"] for r in root["resources"]])

    def test_namespace_and_crd_cleanup(self):
        sim = self.sim
        sim.json("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "gone"}}, expect=201)
        self.assertTrue(wait_for(lambda: self.get("/api/v1/namespaces/gone/serviceaccounts/default")))
        sim.json("POST", "/api/v1/namespaces/gone/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                                "metadata": {"name": "c", "finalizers": ["t/hold"]}},
                 expect=201)
        st, out = sim.json("DELETE", "/api/v1/namespaces/gone", expect=200)
        self.assertEqual(out["status"]["phase"], "Terminating")
        st, out = sim.json("POST", "/api/v1/namespaces/gone/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                                          "metadata": {"name": "d"}})
        self.assertEqual((st, out["reason"]), (403, "Forbidden"))
        self.assertEqual(out["message"], 'configmaps "d" is forbidden: unable to create new content in namespace '
                         'gone because it is being terminated')
        self.assertTrue(wait_for(lambda: (self.get("/api/v1/namespaces/gone/configmaps/c") or {}).get(
            "metadata", {}).get("deletionTimestamp")))
        sim.json("PATCH", "/api/v1/namespaces/gone/configmaps/c", {"metadata": {"finalizers": None}},
                 ctype="application/merge-patch+json", expect=200)
        self.assertTrue(wait_for(lambda: self.get("/api/v1/namespaces/gone") is None))
        st, out = sim.json("POST", "/api/v1/namespaces/gone/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                                          "metadata": {"name": "e"}})
        self.assertEqual((st, out["message"]), (404, 'namespaces "gone" not found'))
        # CRDs: protected groups need the approval annotation; deleting a CRD deletes its objects
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.k8s.io"},
               "spec": {"group": "example.k8s.io", "scope": "Namespaced",
                        "names": {"plural": "widgets", "kind": "Widget"},
                        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                            "additionalPrinterColumns": [{"name": "Size", "type": "integer",
                                                          "jsonPath": ".spec.size"}]}]}}
        st, out = sim.json("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        self.assertEqual(st, 422)
        self.assertEqual(out["message"], 'CustomResourceDefinition.apiextensions.k8s.io "widgets.example.k8s.io" is '
                         'invalid: metadata.annotations[api-approved.kubernetes.io]: Required value: protected '
                         'groups must have approval annotation "api-approved.kubernetes.io", see '
                         'https://github.com/kubernetes/enhancements/pull/1111')
        crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "unapproved, test only"}
        sim.json("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd, expect=201)
        w = {"apiVersion": "example.k8s.io/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}
        sim.json("POST", "/apis/example.k8s.io/v1/namespaces/default/widgets", w, expect=201)
        st, h, body = sim.request("GET", "/apis/example.k8s.io/v1/namespaces/default/widgets/w1", headers={
            "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
        t = json.loads(body)
        self.assertEqual([c["name"] for c in t["columnDefinitions"]], ["Name", "Size"])
        self.assertEqual(t["rows"][0]["cells"], ["w1", 3])
        sim.json("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.k8s.io",
                 expect=200)
        self.assertTrue(wait_for(lambda: self.sim.request("GET", "/apis/example.k8s.io/v1")[0] == 404))
        self.assertIsNone(self.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.k8s.io"))

    def test_auth_and_faults(self):
        sim = self.sim
        st, h, body = sim.request("GET", NS + "/configmaps", anonymous=True, headers={"Authorization": "Bearer tok-1"})
        self.assertEqual(st, 200)
        sim.admin("forbid", {"user": "alice", "verb": "create", "resource": "configmaps"})
        st, out = sim.json("POST", NS + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                        "metadata": {"name": "a"}}, anonymous=True,
                           headers={"Authorization": "Bearer tok-1"})
        self.assertEqual((st, out["message"]), (403, 'configmaps is forbidden: User "alice" cannot create resource '
                                                     '"configmaps" in API group "" in the namespace "default"'))
        sim.admin("forbid", method="DELETE")
        cert = sim.admin("certs", {"user": "system:serviceaccount:kube-system:vmsnapd",
                                   "groups": ["system:serviceaccounts"]})
        d = os.path.join(sim.dir, "c")
        os.makedirs(d)
        open(d + "/c.crt", "w").write(cert["cert"])
        open(d + "/c.key", "w").write(cert["key"])
        ctx = ssl.create_default_context(cafile=sim.info["ca"])
        ctx.load_cert_chain(d + "/c.crt", d + "/c.key")
        c = http.client.HTTPSConnection("127.0.0.1", sim.port, context=ctx)
        c.request("GET", "/api/v1/namespaces/default/configmaps")
        self.assertEqual(c.getresponse().status, 200)
        self.assertIn("client-certificate-data", cert["kubeconfig"])
        sim.admin("faults", {"method": "GET", "pathRegex": "/configmaps$", "code": 429, "reason": "TooManyRequests",
                             "message": "slow down", "count": 1, "retryAfterSeconds": 1})
        st, out = sim.json("GET", NS + "/configmaps")
        self.assertEqual((st, out["reason"], out["details"]["retryAfterSeconds"]), (429, "TooManyRequests", 1))
        self.assertEqual(sim.json("GET", NS + "/configmaps")[0], 200)
        # bodyRegex: only the write whose body matches meets the fault
        sim.admin("faults", {"method": "POST", "pathRegex": "/configmaps$", "bodyRegex": '"name": *"hit"',
                             "code": 503, "count": 1})
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "miss"}}
        self.assertEqual(sim.json("POST", NS + "/configmaps", cm)[0], 201)
        cm["metadata"]["name"] = "hit"
        self.assertEqual(sim.json("POST", NS + "/configmaps", cm)[0], 503)
        self.assertEqual(sim.json("POST", NS + "/configmaps", cm)[0], 201)

    def test_yaml_parser_on_fixture_files(self):
        if FIXTURES:
            docs = yaml_load_all(open(os.path.join(FIXTURES, "webhook-configurations.yaml")).read())
            self.assertEqual([d["metadata"]["name"] for d in docs],
                             ["vmsnapshot-validator", "vmsnapshot-mutator", "vmsnapshot-status-validator"])
        docs = yaml_load_all("a: |\n  x\n  y\nb: [1, 'two']\nc:\n- k: v\n  l: 'q'\n")
        self.assertEqual(docs, [{"a": "x\ny\n", "b": [1, "two"], "c": [{"k": "v", "l": "q"}]}])


class LifecycleTest(unittest.TestCase):
    def test_sigterm_stops_cleanly_and_ends_watches(self):
        sim = KubeSim().start()
        try:
            import threading
            out = {}

            def watch():
                out["raw"], _ = sim.raw("GET", "/api/v1/namespaces/default/configmaps?watch=1")
            t = threading.Thread(target=watch)
            t.start()
            time.sleep(0.3)
            sim.proc.send_signal(signal.SIGTERM)
            self.assertEqual(sim.proc.wait(10), 0)
            t.join(10)
            self.assertTrue(out["raw"].startswith(b"HTTP/1.1 200 OK"))
        finally:
            sim.stop()

    def test_log_requests_logs_each_request(self):
        sim = KubeSim("--log-requests").start()
        try:
            code, _, _ = sim.request("GET", "/api/v1/namespaces/default/configmaps")
            self.assertEqual(code, 200)
            code, _, _ = sim.request("GET", "/api/v1/namespaces/default/configmaps/none")
            self.assertEqual(code, 404)
            sim.errlog.flush()
            with open(os.path.join(sim.dir, "stderr.log")) as f:
                text = f.read()
            self.assertIn('"GET /api/v1/namespaces/default/configmaps HTTP/1.1" 200', text)
            self.assertIn('"GET /api/v1/namespaces/default/configmaps/none HTTP/1.1" 404', text)
        finally:
            sim.stop()


if __name__ == "__main__":
    unittest.main()
