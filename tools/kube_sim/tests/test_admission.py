"""Admission webhooks: what kube-sim sends to a webhook (compared with the fixtures' AdmissionReviews and
request headers) and what the client gets back (denials, warnings, invalid responses, timeouts)."""

import base64
import json
import os
import re
import tempfile
import time
import unittest

from ksim_helper import (KubeSim, Webhook, make_certs, webhook_configs, need_fixtures, fixture_http, fixture_json,
                         fixture_text, scrub, FIXTURES, UUID_RE)

VS = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots"
VR = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores"
VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
KC = "?fieldManager=kubectl-create&fieldValidation=Strict"


def snapshot(name, **spec):
    return {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
            "metadata": {"name": name},
            "spec": dict({"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "my-vm"}}, **spec)}


def responses():
    return json.loads(fixture_text("webhook-responses.json"))


@need_fixtures
class AdmissionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kube-sim-wh-")
        cls.ca, cert, key = make_certs(cls.tmp, "IP:127.0.0.1,DNS:vmsnapd.webhooks.svc")
        cls.hook = Webhook(cert, key)
        cls.sim = KubeSim("--load", FIXTURES + "/crds.yaml",
                          "--service-map", "webhooks/vmsnapd=127.0.0.1:%d" % cls.hook.port).start()
        v, m = webhook_configs("https://127.0.0.1:%d" % cls.hook.port, cls.ca)
        cls.sim.json("POST", VWC, v, expect=201)
        cls.sim.json("POST", MWC, m, expect=201)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.hook.stop()

    def setUp(self):
        self.hook.reset()

    def calls(self):
        return [(c["endpoint"], c["review"]["request"]["operation"]) for c in self.hook.calls]

    def review(self, endpoint, i=0):
        return [c["review"] for c in self.hook.calls if c["endpoint"] == endpoint][i]

    def assertReview(self, got, fixture):
        want = json.loads(fixture_text(fixture))
        self.assertEqual(scrub(got), scrub(want), fixture)

    def test_01_session_reviews(self):
        """The kubectl session of the fixtures, replayed through the API: every AdmissionReview matches."""
        sim = self.sim
        sim.json("POST", VS + KC, snapshot("my-vmsnapshot"), expect=201)
        self.assertEqual(self.calls(), [("mutate", "CREATE"), ("validate", "CREATE")])
        self.assertReview(self.review("mutate"), "admissionreview-create-vmsnapshot.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-create-vmsnapshot.json")
        self.assertNotEqual(self.review("mutate")["request"]["uid"], self.review("validate")["request"]["uid"])
        # transport: request line and headers as kube-apiserver sends them
        hdr = fixture_text("request-headers.txt").split("\n\n")[1].strip().splitlines()
        call = [c for c in self.hook.calls if c["endpoint"] == "validate"][0]
        self.assertEqual("POST %s HTTP/1.1" % call["path"], hdr[0])
        want = [tuple(x.split(": ", 1)) for x in hdr[1:]]
        want = [(k, "127.0.0.1:%d" % self.hook.port if k == "Host" else
                 (str(len(json.dumps(call["review"]).encode())) if False else v)) for k, v in want]
        self.assertEqual([k for k, v in call["headers"]], [k for k, v in want])
        self.assertEqual([v for k, v in call["headers"] if k != "Content-Length"],
                         [v for k, v in want if k != "Content-Length"])
        # label (kubectl label sends a merge patch)
        self.hook.reset()
        sim.json("PATCH", VS + "/my-vmsnapshot?fieldManager=kubectl-label", {"metadata": {"labels": {"team": "storage"}}},
                 ctype="application/merge-patch+json", expect=200)
        self.assertReview(self.review("mutate"), "admissionreview-update-label.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-update-label.json")
        # client-side apply
        self.hook.reset()
        ann = json.loads(fixture_text("admissionreview-update-apply.json"))["request"]["object"]["metadata"]["annotations"]
        sim.json("PATCH", VS + "/my-vmsnapshot?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
                 {"metadata": {"annotations": ann}, "spec": {"failureDeadline": "10m"}},
                 ctype="application/merge-patch+json", expect=200)
        self.assertReview(self.review("mutate"), "admissionreview-update-apply.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-update-apply.json")
        # status patch: rules naming the main resource do not see it ...
        self.hook.reset()
        sim.json("PATCH", VS + "/my-vmsnapshot/status?fieldManager=kubectl-patch",
                 {"status": {"phase": "InProgress", "readyToUse": False}}, ctype="application/merge-patch+json",
                 expect=200)
        self.assertEqual(self.calls(), [])
        # ... a rule naming virtualmachinesnapshots/status does
        v, _ = webhook_configs("https://127.0.0.1:%d" % self.hook.port, self.ca,
                               rules_resources=["virtualmachinesnapshots/status"],
                               validating_name="vmsnapshot-status-validator")
        v["webhooks"][0]["name"] = "virtualmachinesnapshot-status-validator.snapshot.kubevirt.io"
        v["webhooks"][0]["rules"][0]["operations"] = ["UPDATE"]
        del v["webhooks"][0]["rules"][0]["scope"]
        sim.json("POST", VWC, v, expect=201)
        sim.json("PATCH", VS + "/my-vmsnapshot/status?fieldManager=kubectl-patch",
                 {"status": {"phase": "Succeeded", "readyToUse": True}}, ctype="application/merge-patch+json",
                 expect=200)
        self.assertEqual(self.calls(), [("validate", "UPDATE")])
        self.assertReview(self.review("validate"), "admissionreview-update-status-subresource.json")
        sim.json("DELETE", VWC + "/vmsnapshot-status-validator", expect=200)
        # server-side dry run
        self.hook.reset()
        st, out = sim.json("POST", VS + KC + "&dryRun=All", snapshot("my-vmsnapshot-dryrun"), expect=201)
        self.assertReview(self.review("mutate"), "admissionreview-create-dryrun.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-create-dryrun.json")
        sim.json("GET", VS + "/my-vmsnapshot-dryrun", expect=404)
        # delete (kubectl sends propagationPolicy Background): mutating webhooks see DELETE too
        self.hook.reset()
        sim.json("DELETE", VS + "/my-vmsnapshot", {"kind": "DeleteOptions", "apiVersion": "v1",
                                                    "propagationPolicy": "Background"}, expect=200)
        self.assertEqual(self.calls(), [("mutate", "DELETE"), ("validate", "DELETE")])
        self.assertReview(self.review("mutate"), "admissionreview-delete-vmsnapshot.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-delete-vmsnapshot.json")
        # restore
        self.hook.reset()
        sim.json("POST", VR + KC, {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineRestore",
                                   "metadata": {"name": "my-vmrestore"},
                                   "spec": {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                                                       "name": "my-vm"},
                                            "virtualMachineSnapshotName": "my-vmsnapshot"}}, expect=201)
        self.assertReview(self.review("mutate"), "admissionreview-create-vmrestore.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-create-vmrestore.json")
        # keep-alive: every call of this test came over one connection per endpoint config
        ports = {c["port"] for c in self.hook.calls}
        self.assertLessEqual(len(ports), 2)

    def test_02_mutation_and_stale_update(self):
        sim = self.sim
        self.hook.answers["mutate"] = responses()["mutate_jsonpatch"]["response_body"]
        self.hook.answers["mutate"]["response"].pop("uid")
        st, h, body = sim.request("POST", VS + KC, snapshot("mutated-vmsnapshot"))
        self.assertEqual(st, 201)
        self.assertEqual(h.get("warning"), ['299 - "defaulted spec.failureDeadline to 5m0s"'])
        self.assertReview(self.review("mutate"), "admissionreview-create-before-jsonpatch.mutating.json")
        self.assertReview(self.review("validate"), "admissionreview-create-after-jsonpatch.json")
        st, got = sim.json("GET", VS + "/mutated-vmsnapshot", expect=200)
        self.assertEqual(scrub(got), scrub(json.loads(fixture_text("mutated-object.managed-fields.json"))))
        # stale PUT: the mutating webhook is called, then 409, no validating call
        self.hook.reset()
        stale = json.loads(json.dumps(got))
        stale["metadata"]["resourceVersion"] = "1"
        stale["metadata"]["labels"]["x"] = "y"
        st, h, body = sim.request("PUT", VS + "/mutated-vmsnapshot", stale)
        self.assertEqual(st, 409)
        self.assertEqual(self.calls(), [("mutate", "UPDATE")])

    def test_03_denials_raw(self):
        sim = self.sim
        r = responses()
        self.hook.answers["validate"] = r["deny422"]["response_body"]
        self.hook.answers["validate"]["response"].pop("uid")
        st, h, body = sim.request("POST", VS, snapshot("bad-kind", source={"apiGroup": "kubevirt.io", "kind": "Pod",
                                                                          "name": "my-vm"}))
        fst, fh, fbody, _ = fixture_http("api-webhook-denied-422.http")
        self.assertEqual((st, body), (fst, fbody))
        self.assertEqual(h["warning"], [v for k, v in fh if k == "Warning"])
        self.hook.answers["validate"] = r["deny400"]["response_body"]
        self.hook.answers["validate"]["response"].pop("uid")
        st, h, body = sim.request("POST", VS, snapshot("bad-kind"))
        self.assertEqual((st, body), fixture_http("api-webhook-denied-400.http")[::2])
        self.hook.answers["validate"] = r["wrong_uid"]["response_body"]
        st, h, body = sim.request("POST", VS, snapshot("bad-kind"))
        uid = self.review("validate", -1)["request"]["uid"]
        fst, fh, fbody, _ = fixture_http("api-webhook-bad-uid.http")
        self.assertEqual(st, 500)
        self.assertEqual(body.decode(), fbody.decode().replace("2eceb63d-cf4e-4c56-870b-ea0f01f80e14", uid))
        sim.json("GET", VS + "/bad-kind", expect=404)

    def test_04_invalid_responses(self):
        sim = self.sim
        cases = [
            ({"uid": None, "allowed": True, "patch": "W10=", "patchType": "JSONPatch"},
             "received invalid webhook response: validating webhook may not return response.patch"),
            ({"uid": None, "allowed": False, "status": {"code": 403, "reason": "Forbidden",
                                                        "message": "snapshots of my-vm are not allowed"}},
             'admission webhook "virtualmachinesnapshot-validator.snapshot.kubevirt.io" denied the request: '
             'snapshots of my-vm are not allowed'),
            ({"uid": None, "allowed": False},
             'admission webhook "virtualmachinesnapshot-validator.snapshot.kubevirt.io" denied the request '
             'without explanation'),
        ]
        for resp, msg in cases:
            def ans(review, resp=resp):
                out = dict(resp)
                out["uid"] = review["request"]["uid"]
                return out
            self.hook.answers["validate"] = ans
            st, out = sim.json("POST", VS, snapshot("x1"))
            self.assertTrue(out["message"].endswith(msg), out)
        self.hook.answers["validate"] = {"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
                                         "response": {"allowed": True}}
        st, out = sim.json("POST", VS, snapshot("x2"))
        self.assertEqual(st, 500)
        self.assertIn("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got "
                      "admission.k8s.io/v1beta1, Kind=AdmissionReview", out["message"])
        # a patch from a mutating webhook on DELETE is refused
        self.hook.answers["validate"] = None
        sim.json("POST", VS, snapshot("del-me"), expect=201)
        self.hook.answers["mutate"] = lambda rv: {"uid": rv["request"]["uid"], "allowed": True,
                                                  "patchType": "JSONPatch", "patch": base64.b64encode(
                                                      b'[{"op":"add","path":"/x","value":1}]').decode()}
        self.hook.answers["validate"] = None
        st, out = sim.json("DELETE", VS + "/del-me")
        self.assertEqual(st, 500)
        self.assertIn("attempted to modify the object, which is not supported for this operation", out["message"])
        self.hook.answers["mutate"] = None
        sim.json("DELETE", VS + "/del-me", expect=200)

    def test_05_timeout_and_failure_policy(self):
        sim = self.sim
        st, v = sim.json("GET", VWC + "/vmsnapshot-validator", expect=200)
        v["webhooks"][0]["timeoutSeconds"] = 2
        sim.json("PUT", VWC + "/vmsnapshot-validator", v, expect=200)
        self.hook.sleep["validate"] = 3
        t0 = time.time()
        st, out = sim.json("POST", VS, snapshot("slow-vmsnapshot"))
        took = time.time() - t0
        self.assertEqual(st, 500)
        self.assertEqual(out["message"], 'Internal error occurred: failed calling webhook '
                         '"virtualmachinesnapshot-validator.snapshot.kubevirt.io": failed to call webhook: Post '
                         '"https://127.0.0.1:%d/validate?timeout=2s": context deadline exceeded' % self.hook.port)
        self.assertGreater(took, 1.9)
        self.assertLess(took, 3)
        self.hook.sleep = {}
        v = sim.json("GET", VWC + "/vmsnapshot-validator", expect=200)[1]
        v["webhooks"][0]["timeoutSeconds"] = 10
        v["webhooks"][0]["clientConfig"]["url"] = "https://127.0.0.1:1/validate"
        sim.json("PUT", VWC + "/vmsnapshot-validator", v, expect=200)
        st, out = sim.json("POST", VS, snapshot("refused"))
        self.assertIn('Post "https://127.0.0.1:1/validate?timeout=10s": dial tcp 127.0.0.1:1: connect: '
                      'connection refused', out["message"])
        v = sim.json("GET", VWC + "/vmsnapshot-validator", expect=200)[1]
        v["webhooks"][0]["failurePolicy"] = "Ignore"
        sim.json("PUT", VWC + "/vmsnapshot-validator", v, expect=200)
        sim.json("POST", VS, snapshot("ignored"), expect=201)
        v = sim.json("GET", VWC + "/vmsnapshot-validator", expect=200)[1]
        v["webhooks"][0]["failurePolicy"] = "Fail"
        v["webhooks"][0]["clientConfig"]["url"] = "https://127.0.0.1:%d/validate" % self.hook.port
        sim.json("PUT", VWC + "/vmsnapshot-validator", v, expect=200)

    def test_06_service_reference_selectors_and_config_objects(self):
        sim = self.sim
        ca = base64.b64encode(self.ca.encode()).decode()
        cfg = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
               "metadata": {"name": "svc-hook"},
               "webhooks": [{"name": "svc.vmsnapd.example.io",
                             "clientConfig": {"service": {"namespace": "webhooks", "name": "vmsnapd",
                                                          "path": "/svc"}, "caBundle": ca},
                             "rules": [{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"],
                                        "operations": ["*"]}],
                             "objectSelector": {"matchLabels": {"hook": "on"}},
                             "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                                         "operator": "In", "values": ["default"]}]},
                             "sideEffects": "None", "admissionReviewVersions": ["v1"]}]}
        st, stored = sim.json("POST", VWC, cfg, expect=201)
        wh = stored["webhooks"][0]
        self.assertEqual((wh["timeoutSeconds"], wh["failurePolicy"], wh["matchPolicy"], wh["rules"][0]["scope"],
                          wh["clientConfig"]["service"]["port"]), (10, "Fail", "Equivalent", "*", 443))
        self.hook.reset()
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "labels": {"hook": "on"}}}
        sim.json("POST", "/api/v1/namespaces/default/configmaps", cm, expect=201)
        svc_calls = [c for c in self.hook.calls if c["endpoint"] == "svc"]
        self.assertEqual(len(svc_calls), 1)
        self.assertEqual(dict(svc_calls[0]["headers"])["Host"], "vmsnapd.webhooks.svc:443")
        self.assertEqual(svc_calls[0]["path"], "/svc?timeout=10s")
        cm["metadata"] = {"name": "c2"}
        sim.json("POST", "/api/v1/namespaces/default/configmaps", cm, expect=201)
        sim.json("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                "metadata": {"name": "other"}}, expect=201)
        cm["metadata"] = {"name": "c3", "labels": {"hook": "on"}}
        sim.json("POST", "/api/v1/namespaces/other/configmaps", cm, expect=201)
        self.assertEqual(len([c for c in self.hook.calls if c["endpoint"] == "svc"]), 1)
        # webhooks are never called for webhook configurations themselves
        self.hook.reset()
        v = sim.json("GET", VWC + "/svc-hook", expect=200)[1]
        v["metadata"]["labels"] = {"hook": "on"}
        sim.json("PUT", VWC + "/svc-hook", v, expect=200)
        self.assertEqual(self.hook.calls, [])
        sim.json("DELETE", VWC + "/svc-hook", expect=200)
        # invalid configurations are refused like kube-apiserver refuses them
        bad = json.loads(json.dumps(cfg))
        bad["metadata"]["name"] = "bad"
        del bad["webhooks"][0]["sideEffects"]
        bad["webhooks"][0]["timeoutSeconds"] = 31
        st, out = sim.json("POST", VWC, bad)
        self.assertEqual(st, 422)
        self.assertEqual(out["message"], 'ValidatingWebhookConfiguration.admissionregistration.k8s.io "bad" is '
                         'invalid: [webhooks[0].sideEffects: Required value: must specify one of None, '
                         'NoneOnDryRun, webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be '
                         'between 1 and 30 seconds]')

    def test_07_finalizer_reviews(self):
        sim = self.sim
        body = snapshot("finalized-vmsnapshot")
        body["metadata"]["finalizers"] = ["snapshot.kubevirt.io/vmsnapshot-protection"]
        sim.json("POST", VS, body, expect=201)
        self.hook.reset()
        sim.json("DELETE", VS + "/finalized-vmsnapshot", expect=200)
        self.assertReview(self.review("validate"), "admissionreview-delete-with-finalizer.json")
        self.hook.reset()
        st, h, b = sim.request("PATCH", VS + "/finalized-vmsnapshot",
                               [{"op": "add", "path": "/metadata/finalizers/-", "value": "example.com/another"}],
                               ctype="application/json-patch+json")
        self.assertEqual(st, 422)
        self.assertEqual(self.calls(), [("mutate", "UPDATE")])
        self.assertReview(self.review("mutate"), "admissionreview-update-new-finalizer-while-deleting.mutating.json")
        self.hook.reset()
        sim.json("PATCH", VS + "/finalized-vmsnapshot",
                 [{"op": "test", "path": "/metadata/finalizers/0", "value": "snapshot.kubevirt.io/vmsnapshot-protection"},
                  {"op": "remove", "path": "/metadata/finalizers/0"}], ctype="application/json-patch+json", expect=200)
        self.assertReview(self.review("validate"), "admissionreview-update-remove-finalizer.json")
        sim.json("GET", VS + "/finalized-vmsnapshot", expect=404)
        log = sim.admin("admission-log")["calls"]
        self.assertTrue(any(c["operation"] == "DELETE" and c["result"] == "allowed" for c in log))


if __name__ == "__main__":
    unittest.main()
