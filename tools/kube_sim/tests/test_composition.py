"""kube_sim.server.Sim: the API server is composed of parts that each receive what they use; no part
inherits from another, and the parts share one store and one registry."""

import unittest

import ksim_helper  # noqa: F401  (puts tools/ on sys.path)
from kube_sim.admission import AdmissionChain
from kube_sim.api import Api
from kube_sim.cluster import Cluster, Registry
from kube_sim.context import system_ctx
from kube_sim.server import Sim, parse_args
from kube_sim.store import Store
from kube_sim.types import Types

PARTS = (Sim, Api, Types, Registry, Cluster, AdmissionChain, Store)


class Composition(unittest.TestCase):
    def setUp(self):
        self.sim = Sim(parse_args(["--disable", "gc"]))

    def test_no_part_inherits(self):
        for cls in PARTS:
            self.assertEqual(cls.__bases__, (object,), cls.__name__)

    def test_parts_share_store_and_registry(self):
        s = self.sim
        self.assertIs(s.api.store, s.store)
        self.assertIs(s.api.registry, s.registry)
        self.assertIs(s.api.types, s.types)
        self.assertIs(s.api.admission, s.admission)
        self.assertIs(s.types.store, s.store)
        self.assertIs(s.types.registry, s.registry)
        self.assertIs(s.admission.store, s.store)
        self.assertIs(s.lock, s.store.lock)
        self.assertFalse(s.cluster.controllers["gc"])

    def test_verbs_without_a_server(self):
        s = self.sim
        ctx = system_ctx("kube-apiserver")
        nrt = s.registry.lookup("", "v1", "namespaces")
        code, ns = s.api.op_create(ctx, nrt, "", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": "demo"}})
        self.assertEqual(code, 201)
        self.assertEqual(ns["status"], {"phase": "Active"})
        self.assertEqual(s.store.get("/namespaces", "", "demo")["metadata"]["uid"], ns["metadata"]["uid"])

    def test_crd_commit_registers_its_types(self):
        s = self.sim
        ctx = system_ctx("kube-apiserver")
        crt = s.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        s.api.op_create(ctx, crt, "", {
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object"}}}]}})
        rt = s.registry.lookup("example.com", "v1", "widgets")
        self.assertIsNotNone(rt)
        self.assertEqual(rt.kind, "Widget")


if __name__ == "__main__":
    unittest.main()
