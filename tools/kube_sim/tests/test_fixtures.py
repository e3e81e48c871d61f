"""Replays the kube-apiserver v1.24 fixtures against kube-sim and compares the answers in meaning
(uids, timestamps and resourceVersions blanked out)."""

import base64
import json
import re
import time
import unittest
import urllib.parse

from ksim_helper import (KubeSim, need_fixtures, fixture_http, fixture_json, fixture_text, api_requests, scrub,
                         FIXTURES, UUID_RE)
from kube_sim.handler import pack_replay

VS = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinesnapshots"
VR = "/apis/snapshot.kubevirt.io/v1beta1/namespaces/default/virtualmachinerestores"


def req_body(name):
    return api_requests()[name].get("request_body")


class SimCase(unittest.TestCase):
    sim_args = ()

    @classmethod
    def setUpClass(cls):
        cls.sim = KubeSim("--load", FIXTURES + "/crds.yaml", *cls.sim_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def assertStatus(self, got, fixture):
        self.assertEqual(scrub(got), scrub(fixture_json(fixture)))

    def create_vs(self, name, manager="kubectl-create", extra_meta=None, path=VS):
        body = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                "metadata": dict({"name": name}, **(extra_meta or {})),
                "spec": {"source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "my-vm"}}}
        return self.sim.json("POST", path + "?fieldManager=" + manager, body, expect=201)[1]


@need_fixtures
class DiscoveryTest(SimCase):
    def test_api_versions(self):
        st, out = self.sim.json("GET", "/api", expect=200)
        want = fixture_json("api-discovery-api.http")
        want["serverAddressByClientCIDRs"][0]["serverAddress"] = "127.0.0.1:%d" % self.sim.port
        self.assertEqual(out, want)

    def test_apis_group_list(self):
        st, out = self.sim.json("GET", "/apis", expect=200)
        want = {g["name"]: g for g in fixture_json("api-discovery-apis.http")["groups"]}
        self.assertEqual(out["kind"], "APIGroupList")
        # kube-sim plays virt-api too: subresources.kubevirt.io is served once the VMI CRD exists
        groups = [g for g in out["groups"] if g["name"] != "subresources.kubevirt.io"]
        names = [g["name"] for g in groups]
        self.assertEqual(names[-2:], ["kubevirt.io", "snapshot.kubevirt.io"])
        for g in groups:
            self.assertIn(g["name"], want)
            w = want[g["name"]]
            self.assertEqual(g["preferredVersion"], w["preferredVersion"])
            for v in g["versions"]:
                self.assertIn(v, w["versions"])
        self.assertEqual(want["snapshot.kubevirt.io"], groups[-1])

    def test_group_and_resources_exact(self):
        for path, fx in (("/apis/snapshot.kubevirt.io", "api-discovery-apis-snapshot.kubevirt.io.http"),
                         ("/apis/snapshot.kubevirt.io/v1beta1",
                          "api-discovery-apis-snapshot.kubevirt.io-v1beta1.http")):
            st, out = self.sim.json("GET", path, expect=200)
            self.assertEqual(out, fixture_json(fx), path)

    def test_core_v1_resources(self):
        st, out = self.sim.json("GET", "/api/v1", expect=200)
        want = {r["name"]: r for r in fixture_json("api-discovery-api-v1.http")["resources"]}
        self.assertNotIn("apiVersion", out)
        self.assertEqual(out["groupVersion"], "v1")
        names = [r["name"] for r in out["resources"]]
        for n in ("namespaces", "pods", "persistentvolumeclaims", "events", "secrets", "configmaps",
                  "serviceaccounts", "pods/status", "namespaces/finalize"):
            self.assertIn(n, names)
        for r in out["resources"]:
            self.assertEqual(r, want[r["name"]], r["name"])

    def test_aggregated_discovery_is_406(self):
        for path, fx in (("/apis", "api-discovery-apis-aggregated-v2beta1.http"),
                         ("/api", "api-discovery-api-aggregated-v2beta1.http")):
            st, h, body = self.sim.request("GET", path, headers={
                "Accept": "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"})
            self.assertEqual(st, 406)
            self.assertEqual(body, fixture_http(fx)[2])

    def test_kubectl132_accept_list_gets_plain_list(self):
        acc = api_requests()["api-discovery-apis-kubectl132-accept.http"]["request_headers"]["Accept"]
        st, h, body = self.sim.request("GET", "/apis", headers={"Accept": acc})
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body)["kind"], "APIGroupList")
        st, h, body = self.sim.request("GET", "/api/v1")
        self.assertGreater(len(body), 2048)
        self.assertEqual(h["transfer-encoding"], ["chunked"])   # > 2048 bytes, like the fixtures

    def test_openapi_documents(self):
        st, root = self.sim.json("GET", "/openapi/v3", expect=200)
        self.assertIn("apis/snapshot.kubevirt.io/v1beta1", root["paths"])
        st, doc = self.sim.json("GET", root["paths"]["apis/snapshot.kubevirt.io/v1beta1"]["serverRelativeURL"],
                                expect=200)
        patch = doc["paths"][
            "/apis/snapshot.kubevirt.io/v1beta1/namespaces/{namespace}/virtualmachinesnapshots/{name}"]["patch"]
        self.assertIn("fieldValidation", [p["name"] for p in patch["parameters"]])
        st, h, body = self.sim.request("GET", "/openapi/v2", headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
        self.assertEqual((st, body[:5]), (200, b"\x0a\x032.0"))


@need_fixtures
class ErrorsAndWritesTest(SimCase):
    def test_get_missing(self):
        st, h, body = self.sim.request("GET", VS + "/does-not-exist")
        self.assertEqual(st, 404)
        self.assertEqual(body, fixture_http("api-get-missing.http")[2])

    def test_get_missing_curl_is_pretty(self):
        st, h, body = self.sim.request("GET", VS + "/does-not-exist", ua="curl/8.0")
        self.assertEqual(body, fixture_http("api-get-missing-curl-ua-pretty.http")[2])

    def test_anonymous_and_bad_token(self):
        st, h, body = self.sim.request("GET", VS, anonymous=True)
        self.assertEqual(st, 403)
        self.assertEqual(body, fixture_http("api-anonymous-forbidden.http")[2])
        st, h, body = self.sim.request("GET", VS, anonymous=True, headers={"Authorization": "Bearer nope"})
        self.assertEqual(st, 401)
        self.assertEqual(body, fixture_http("api-invalid-bearer-token.http")[2])
        st, h, body = self.sim.request("GET", "/version", anonymous=True)
        self.assertEqual(st, 200)

    def test_restore_flow(self):
        """create, 409, get, PUT, stale PUT, merge / JSON / failing JSON / strategic / server-side-apply."""
        sim = self.sim
        sim.json("POST", VR + "?fieldManager=kubectl-create", req_body("api-create-existing.http"), expect=201)
        st, h, body = sim.request("POST", VR, req_body("api-create-existing.http"))
        self.assertEqual((st, body), (409, fixture_http("api-create-existing.http")[2]))
        st, got = sim.json("GET", VR + "/my-vmrestore", expect=200)
        self.assertEqual(scrub(got), scrub(fixture_json("api-get-existing.http")))
        put = req_body("api-update-ok.http")
        put["metadata"]["resourceVersion"] = got["metadata"]["resourceVersion"]
        put["metadata"]["uid"] = got["metadata"]["uid"]
        put["metadata"]["creationTimestamp"] = got["metadata"]["creationTimestamp"]
        st, out = sim.json("PUT", VR + "/my-vmrestore", put, expect=200)
        self.assertEqual(scrub(out), scrub(fixture_json("api-update-ok.http")))
        st, h, body = sim.request("PUT", VR + "/my-vmrestore", put)
        self.assertEqual((st, body), (409, fixture_http("api-update-stale-rv.http")[2]))
        for fx, ctype in (("api-merge-patch.http", "application/merge-patch+json"),
                          ("api-json-patch.http", "application/json-patch+json")):
            st, out = sim.json("PATCH", VR + "/my-vmrestore", req_body(fx), ctype=ctype, expect=200)
            self.assertEqual(scrub(out), scrub(fixture_json(fx)), fx)
        for fx, ctype, code in (("api-json-patch-test-fails.http", "application/json-patch+json", 422),
                                ("api-json-patch-missing-path.http", "application/json-patch+json", 422),
                                ("api-strategic-merge-patch.http", "application/strategic-merge-patch+json", 415)):
            st, h, body = sim.request("PATCH", VR + "/my-vmrestore", req_body(fx), ctype=ctype)
            self.assertEqual((st, body), (code, fixture_http(fx)[2]), fx)
        st, out = sim.json("PATCH", VR + "/my-vmrestore?fieldManager=vmsnapd&force=true",
                           req_body("api-server-side-apply.http"), ctype="application/apply-patch+yaml",
                           expect=200)
        self.assertEqual(scrub(out), scrub(fixture_json("api-server-side-apply.http")))

    def test_delete_precondition_and_plain_delete(self):
        obj = self.create_vs("snap-b")
        st, h, body = self.sim.request("DELETE", VS + "/snap-b", req_body("api-delete-precondition-rv-mismatch.http"))
        self.assertEqual(st, 409)
        want = fixture_json("api-delete-precondition-rv-mismatch.http")
        want["message"] = want["message"].replace("(231)", "(%s)" % obj["metadata"]["resourceVersion"])
        self.assertEqual(json.loads(body), want)
        st, out = self.sim.json("DELETE", VS + "/snap-b", expect=200)
        self.assertEqual(out["details"]["uid"], obj["metadata"]["uid"])
        self.assertStatus(out, "api-delete-no-finalizer.http")

    def test_finalizer_flow(self):
        sim = self.sim
        st, out = sim.json("POST", VS, req_body("api-create-with-finalizer.http"), expect=201)
        self.assertEqual(scrub(out), scrub(fixture_json("api-create-with-finalizer.http")))
        path = VS + "/finalized-vmsnapshot"
        st, deleted = sim.json("DELETE", path, expect=200)
        self.assertEqual(scrub(deleted), scrub(fixture_json("api-delete-with-finalizer.http")))
        self.assertEqual(deleted["metadata"]["deletionGracePeriodSeconds"], 0)
        self.assertEqual(deleted["metadata"]["generation"], 2)
        st, got = sim.json("GET", path, expect=200)
        self.assertEqual(scrub(got), scrub(fixture_json("api-get-terminating.http")))
        st, again = sim.json("DELETE", path, expect=200)
        self.assertEqual(again, got)    # unchanged, same resourceVersion
        for fx, ctype in (("api-add-finalizer-while-terminating.http", "application/merge-patch+json"),
                          ("api-add-finalizer-while-terminating-jsonpatch.http", "application/json-patch+json")):
            st, h, body = sim.request("PATCH", path, req_body(fx), ctype=ctype)
            self.assertEqual((st, body), (422, fixture_http(fx)[2]), fx)
        st, final = sim.json("PATCH", path, req_body("api-remove-finalizer.http"),
                             ctype="application/json-patch+json", expect=200)
        self.assertEqual(scrub(final), scrub(fixture_json("api-remove-finalizer.http")))
        self.assertEqual(final["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"])
        st, h, body = sim.request("GET", path)
        self.assertEqual((st, body), (404, fixture_http("api-get-after-finalizer-removed.http")[2]))

    def test_dry_run_create_persists_nothing(self):
        body = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                "metadata": {"name": "dry"}, "spec": {}}
        st, out = self.sim.json("POST", VS + "?dryRun=All", body, expect=201)
        self.assertNotIn("resourceVersion", out["metadata"])
        self.assertIn("uid", out["metadata"])
        self.sim.json("GET", VS + "/dry", expect=404)


@need_fixtures
class StatusSubresourceTest(SimCase):
    def test_status_rules(self):
        sim = self.sim
        body = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                "metadata": {"name": "mutated-vmsnapshot", "labels": {"snapshot.kubevirt.io/defaulted": "true"}},
                "spec": {"failureDeadline": "5m0s",
                         "source": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine", "name": "my-vm"}}}
        obj = sim.json("POST", VS, body, expect=201)[1]
        put = req_body("api-status-put-with-spec-change.http")
        put["metadata"].update(resourceVersion=obj["metadata"]["resourceVersion"], uid=obj["metadata"]["uid"])
        st, out = sim.json("PUT", VS + "/mutated-vmsnapshot/status", put, expect=200)
        strip = lambda o: scrub({k: v for k, v in o.items() if k != "metadata"} | {
            "metadata": {k: v for k, v in o["metadata"].items() if k != "managedFields"}})
        self.assertEqual(strip(out), strip(fixture_json("api-status-put-with-spec-change.http")))
        self.assertEqual(out["metadata"]["generation"], 1)
        self.assertIn("f:changed-via-status", json.dumps(out["metadata"]["managedFields"]))
        st, got = sim.json("GET", VS + "/mutated-vmsnapshot", expect=200)
        self.assertEqual(strip(got), strip(fixture_json("api-get-after-status-put.http")))
        st, out = sim.json("PATCH", VS + "/mutated-vmsnapshot", req_body("api-main-merge-patch-with-status-change.http"),
                           ctype="application/merge-patch+json", expect=200)
        self.assertEqual(strip(out), strip(fixture_json("api-main-merge-patch-with-status-change.http")))
        st, out = sim.json("PATCH", VS + "/mutated-vmsnapshot/status",
                           req_body("api-status-merge-patch-with-spec-change.http"),
                           ctype="application/merge-patch+json", expect=200)
        self.assertEqual(strip(out), strip(fixture_json("api-status-merge-patch-with-spec-change.http")))

    def test_create_drops_status(self):
        body = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                "metadata": {"name": "with-status"}, "spec": {}, "status": {"phase": "Succeeded"}}
        st, out = self.sim.json("POST", VS, body, expect=201)
        self.assertNotIn("status", out)


@need_fixtures
class ListAndWatchTest(SimCase):
    sim_args = ("--watch-history", "50")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for n in ("mutated-vmsnapshot", "snap-a", "snap-b", "snap-c"):
            body = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                    "metadata": {"name": n}, "spec": {"source": {"apiGroup": "kubevirt.io",
                                                                  "kind": "VirtualMachine", "name": "my-vm"}}}
            cls.sim.json("POST", VS + "?fieldManager=kubectl-create", body, expect=201)

    def test_pagination(self):
        sim = self.sim
        st, p1 = sim.json("GET", VS + "?limit=1", expect=200)
        want1 = fixture_json("api-list-limit1.http")
        self.assertEqual([i["metadata"]["name"] for i in p1["items"]], ["mutated-vmsnapshot"])
        self.assertEqual(p1["metadata"]["remainingItemCount"], want1["metadata"]["remainingItemCount"])
        self.assertEqual(sorted(p1), sorted(want1))
        tok = json.loads(base64.urlsafe_b64decode(p1["metadata"]["continue"] + "=="))
        wtok = base64.urlsafe_b64decode(want1["metadata"]["continue"] + "==").decode()
        self.assertEqual(wtok.replace("232", p1["metadata"]["resourceVersion"]),
                         base64.urlsafe_b64decode(p1["metadata"]["continue"] + "==").decode())
        self.assertEqual(tok["start"], "mutated-vmsnapshot\x00")
        st, p2 = sim.json("GET", VS + "?limit=1&continue=" + p1["metadata"]["continue"], expect=200)
        self.assertEqual([i["metadata"]["name"] for i in p2["items"]], ["snap-a"])
        self.assertEqual(p2["metadata"]["remainingItemCount"], 2)
        self.assertEqual(p2["metadata"]["resourceVersion"], p1["metadata"]["resourceVersion"])
        # a change between pages does not show up: all pages share one snapshot
        self.create_vs("snap-zz")
        st, p3 = sim.json("GET", VS + "?limit=3&continue=" + p2["metadata"]["continue"], expect=200)
        want3 = fixture_json("api-list-limit3-last-page.http")
        self.assertEqual([i["metadata"]["name"] for i in p3["items"]], ["snap-b", "snap-c"])
        self.assertEqual(p3["metadata"]["continue"], "")
        self.assertEqual(sorted(p3["metadata"]), sorted(want3["metadata"]))
        self.assertEqual(scrub(p3["items"]), scrub(want3["items"]))
        st, full = sim.json("GET", VS, expect=200)
        self.assertEqual(full["metadata"]["continue"], "")
        sim.json("DELETE", VS + "/snap-zz", expect=200)

    def test_selectors(self):
        sim = self.sim
        sim.json("PATCH", VS + "/snap-a", {"metadata": {"labels": {"tier": "gold", "app": "x"}}},
                 ctype="application/merge-patch+json", expect=200)
        sim.json("PATCH", VS + "/snap-b", {"metadata": {"labels": {"tier": "silver"}}},
                 ctype="application/merge-patch+json", expect=200)

        def names(q):
            return [i["metadata"]["name"] for i in sim.json("GET", VS + "?" + q, expect=200)[1]["items"]]
        q = urllib.parse.urlencode
        self.assertEqual(names(q({"labelSelector": "tier=gold"})), ["snap-a"])
        self.assertEqual(names(q({"labelSelector": "tier==gold"})), ["snap-a"])
        self.assertEqual(names(q({"labelSelector": "tier!=gold"})), ["mutated-vmsnapshot", "snap-b", "snap-c"])
        self.assertEqual(names(q({"labelSelector": "tier in (gold,silver)"})), ["snap-a", "snap-b"])
        self.assertEqual(names(q({"labelSelector": "tier notin (gold)"})), ["mutated-vmsnapshot", "snap-b", "snap-c"])
        self.assertEqual(names(q({"labelSelector": "tier"})), ["snap-a", "snap-b"])
        self.assertEqual(names(q({"labelSelector": "!tier"})), ["mutated-vmsnapshot", "snap-c"])
        self.assertEqual(names(q({"labelSelector": "tier,app=x"})), ["snap-a"])
        self.assertEqual(names(q({"fieldSelector": "metadata.name=snap-c"})), ["snap-c"])
        self.assertEqual(names(q({"fieldSelector": "metadata.namespace!=default"})), [])
        st, out = sim.json("GET", VS + "?" + q({"fieldSelector": "spec.x=1"}))
        self.assertEqual((st, out["message"]), (400, "field label not supported: spec.x"))
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"}, "reason": "Made", "message": "m",
              "type": "Normal", "involvedObject": {"kind": "VirtualMachineSnapshot", "name": "snap-a",
                                                   "namespace": "default", "uid": "u-1"}}
        sim.json("POST", "/api/v1/namespaces/default/events", ev, expect=201)
        st, out = sim.json("GET", "/api/v1/namespaces/default/events?" + q(
            {"fieldSelector": "involvedObject.name=snap-a,involvedObject.kind=VirtualMachineSnapshot,"
                              "involvedObject.uid=u-1"}), expect=200)
        self.assertEqual([i["metadata"]["name"] for i in out["items"]], ["e1"])
        self.assertNotIn("kind", out["items"][0])     # typed lists carry no kind in items
        st, out = sim.json("GET", "/api/v1/namespaces/default/events?" + q({"fieldSelector": "involvedObject.name=x"}),
                           expect=200)
        self.assertEqual(out["items"], [])

    def test_watch_too_old_and_list_gone(self):
        sim = self.sim
        st, lst = sim.json("GET", VS, expect=200)
        old = int(lst["metadata"]["resourceVersion"])
        for i in range(3):
            self.create_vs("churn-%d" % i)
        base = sim.admin("compact", {})["windowBase"]
        raw, _ = sim.raw("GET", VS + "?watch=true&resourceVersion=%d&allowWatchBookmarks=true" % old)
        status, headers, body, chunks = __import__("ksim_helper").parse_http(raw)
        fst, fh, fbody, fchunks = fixture_http("api-watch-too-old.http")
        self.assertEqual(status, 200)
        self.assertEqual(len(chunks), 1)
        want = fbody.decode().replace("100 (214)", "%d (%d)" % (old, base))
        self.assertEqual(body.decode(), want)
        self.assertTrue(raw.endswith(b"\r\n0\r\n\r\n"))
        st, h, b = sim.request("GET", VS + "?resourceVersion=%d&resourceVersionMatch=Exact" % old)
        self.assertEqual((st, b), (410, fixture_http("api-list-exact-rv-compacted.http")[2]))
        tok = base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": old,
                                                   "start": "mutated-vmsnapshot\x00"},
                                                  separators=(",", ":")).encode()).decode().rstrip("=")
        st, h, b = sim.request("GET", VS + "?limit=1&continue=" + tok)
        self.assertEqual((st, b), (410, fixture_http("api-list-continue-expired.http")[2]))
        for i in range(3):
            sim.json("DELETE", VS + "/churn-%d" % i, expect=200)

    def test_watch_replay_chunking(self):
        sim = self.sim
        st, lst = sim.json("GET", VS, expect=200)
        rv = lst["metadata"]["resourceVersion"]
        self.create_vs("watch-demo")
        sim.json("PATCH", VS + "/watch-demo?fieldManager=kubectl-label", {"metadata": {"labels": {"phase-test": "one"}}},
                 ctype="application/merge-patch+json", expect=200)
        sim.json("PATCH", VS + "/watch-demo/status?fieldManager=kubectl-patch", {"status": {"phase": "InProgress"}},
                 ctype="application/merge-patch+json", expect=200)
        sim.json("DELETE", VS + "/watch-demo", expect=200)
        sim.json("DELETE", VS + "/snap-c", expect=200)
        raw, recvs = sim.raw("GET", VS + "?watch=true&resourceVersion=%s&timeoutSeconds=1" % rv)
        status, headers, body, chunks = __import__("ksim_helper").parse_http(raw)
        events = [json.loads(l) for l in body.decode().splitlines()]
        self.assertEqual([e["type"] for e in events], ["ADDED", "MODIFIED", "MODIFIED", "DELETED", "DELETED"])
        want = [json.loads(l) for l in fixture_http("api-watch-replay-chunking.http")[2].decode().splitlines()]
        self.assertEqual(scrub(events), scrub(want))
        self.assertEqual(chunks[:2], [2048, 2048])        # packed, split mid-JSON
        self.assertTrue(all(c <= 2048 for c in chunks))
        self.assertFalse(body[:2048].endswith(b"\n"))
        self.assertEqual(events[3]["object"]["metadata"]["resourceVersion"],
                         str(int(events[2]["object"]["metadata"]["resourceVersion"]) + 1))
        self.create_vs("snap-c")

    def test_pack_replay_matches_fixture(self):
        st, h, body, chunks = fixture_http("api-watch-replay-chunking.http")
        lines = [l + b"\n" for l in body.split(b"\n") if l]
        self.assertEqual([len(c) for c in pack_replay(lines)], chunks)

    def test_live_watch_one_event_per_chunk_and_bookmark(self):
        import threading
        sim = self.sim
        st, lst = sim.json("GET", VS, expect=200)
        rv = lst["metadata"]["resourceVersion"]
        out = {}

        def watch():
            out["raw"], out["recvs"] = sim.raw(
                "GET", VS + "?watch=true&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=3" % rv)
        t = threading.Thread(target=watch)
        t.start()
        time.sleep(0.3)
        self.create_vs("watch-demo-2")
        sim.json("PATCH", VS + "/watch-demo-2", {"metadata": {"labels": {"phase-test": "two"}}},
                 ctype="application/merge-patch+json", expect=200)
        last = sim.json("GET", VS + "/watch-demo-2", expect=200)[1]
        sim.json("DELETE", VS + "/watch-demo-2", expect=200)
        t.join(10)
        status, headers, body, chunks = __import__("ksim_helper").parse_http(out["raw"])
        lines = body.decode().splitlines()
        types = [json.loads(l)["type"] for l in lines]
        self.assertEqual(types, ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"])
        self.assertEqual(len(chunks), 4)        # one event per chunk
        bm = json.loads(lines[-1])["object"]
        self.assertEqual(bm, {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot",
                              "metadata": {"resourceVersion": str(int(last["metadata"]["resourceVersion"]) + 1)}})
        self.assertEqual(json.loads(lines[2])["object"]["metadata"]["resourceVersion"],
                         bm["metadata"]["resourceVersion"])
        t_end = out["recvs"][-1][0]
        self.assertGreater(t_end, 2.5)
        self.assertLess(t_end, 5)

    def test_watch_selector_transitions_and_cut(self):
        import threading
        sim = self.sim
        self.create_vs("sel-1")
        st, lst = sim.json("GET", VS, expect=200)
        rv = lst["metadata"]["resourceVersion"]
        out = {}

        def watch():
            out["raw"], _ = sim.raw("GET", VS + "?watch=1&resourceVersion=%s&labelSelector=pick%%3Dyes" % rv)
        t = threading.Thread(target=watch)
        t.start()
        time.sleep(0.3)
        for labels in ({"pick": "yes"}, {"pick": "yes", "x": "1"}, {"pick": "no"}):
            sim.json("PATCH", VS + "/sel-1", {"metadata": {"labels": labels}}, ctype="application/merge-patch+json",
                     expect=200)
        time.sleep(0.3)
        self.assertEqual(sim.admin("watches")["watches"][0]["resource"], "virtualmachinesnapshots")
        self.assertGreaterEqual(sim.admin("cut-watches", {"mode": "end"})["cut"], 1)
        t.join(10)
        status, headers, body, chunks = __import__("ksim_helper").parse_http(out["raw"])
        self.assertEqual([json.loads(l)["type"] for l in body.decode().splitlines()], ["ADDED", "MODIFIED", "DELETED"])
        sim.json("DELETE", VS + "/sel-1", expect=200)


@need_fixtures
class GarbageCollectionTest(SimCase):
    def test_owner_references(self):
        sim = self.sim
        owner = self.create_vs("owner")
        ref = {"apiVersion": "snapshot.kubevirt.io/v1beta1", "kind": "VirtualMachineSnapshot", "name": "owner",
               "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True, "controller": True}
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dep", "ownerReferences": [ref]},
              "data": {"a": "b"}}
        sim.json("POST", "/api/v1/namespaces/default/configmaps", cm, expect=201)
        sim.json("DELETE", VS + "/owner", expect=200)
        for _ in range(50):
            if sim.request("GET", "/api/v1/namespaces/default/configmaps/dep")[0] == 404:
                break
            time.sleep(0.1)
        self.assertEqual(sim.request("GET", "/api/v1/namespaces/default/configmaps/dep")[0], 404)
        # foreground: the owner waits for its dependents
        owner = self.create_vs("owner2")
        ref["name"], ref["uid"] = "owner2", owner["metadata"]["uid"]
        cm["metadata"] = {"name": "dep2", "ownerReferences": [ref], "finalizers": ["test/hold"]}
        sim.json("POST", "/api/v1/namespaces/default/configmaps", cm, expect=201)
        st, out = sim.json("DELETE", VS + "/owner2", {"propagationPolicy": "Foreground"}, expect=200)
        self.assertIn("foregroundDeletion", out["metadata"]["finalizers"])
        time.sleep(0.5)
        self.assertEqual(sim.request("GET", VS + "/owner2")[0], 200)
        sim.json("PATCH", "/api/v1/namespaces/default/configmaps/dep2", {"metadata": {"finalizers": None}},
                 ctype="application/merge-patch+json", expect=200)
        for _ in range(50):
            if sim.request("GET", VS + "/owner2")[0] == 404:
                break
            time.sleep(0.1)
        self.assertEqual(sim.request("GET", VS + "/owner2")[0], 404)


if __name__ == "__main__":
    unittest.main()
