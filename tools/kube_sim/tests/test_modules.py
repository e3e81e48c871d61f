"""Unit tests of the kube_sim modules that the fixture replays only cover from the outside: util, patch,
selectors, errors, tables and openapi (each table-driven, no server)."""

import collections
import unittest

import ksim_helper  # noqa: F401  (puts tools/ on sys.path)
from kube_sim.errors import err_conflict, err_not_found, MSG_MODIFIED
from kube_sim.openapi import openapi_v3_docs
from kube_sim.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kube_sim.selectors import (SelectorError, field_match, jsonpath, label_match, parse_field_selector,
                                parse_label_selector)
from kube_sim.tables import to_table
from kube_sim.types import builtin_types
from kube_sim.util import _quantity_bytes, human_duration, parse_go_duration


def builtin(plural):
    return next(t for t in builtin_types() if t.plural == plural)


class Util(unittest.TestCase):
    def test_human_duration_as_apimachinery(self):
        for secs, want in ((-5, "<invalid>"), (0, "0s"), (119, "119s"), (120, "2m"), (601, "10m"),
                           (3 * 3600, "3h"), (9 * 3600, "9h"), (3 * 86400 + 3600, "3d1h"), (400 * 86400, "400d"),
                           (3 * 365 * 86400 + 2 * 86400, "3y2d")):
            self.assertEqual(human_duration(secs), want, secs)

    def test_go_durations_and_quantities(self):
        self.assertEqual([parse_go_duration(s) for s in ("1m30s", "250ms", "2h", "", "soon")],
                         [90.0, 0.25, 7200.0, None, None])
        self.assertEqual([_quantity_bytes(q) for q in ("1Gi", "2G", "512Mi", "10", "lots")],
                         [1 << 30, 2 * 10 ** 9, 512 << 20, 10, 0])


class Patch(unittest.TestCase):
    def test_json_patch(self):
        doc = {"a": {"b": [1, 2]}}
        self.assertEqual(json_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 3},
                                          {"op": "remove", "path": "/a/b/0"},
                                          {"op": "copy", "from": "/a/b", "path": "/c"},
                                          {"op": "move", "from": "/c", "path": "/a/d"},
                                          {"op": "replace", "path": "/a/b/1", "value": "x"}]),
                         {"a": {"b": [2, "x"], "d": [2, 3]}})
        self.assertEqual(doc, {"a": {"b": [1, 2]}}, "the input is not changed")

    def test_json_patch_errors(self):
        for ops in ([{"op": "test", "path": "/a", "value": 2}], [{"op": "remove", "path": "/nope"}],
                    [{"op": "replace", "path": "/b/5", "value": 1}], [{"op": "frobnicate", "path": "/a"}]):
            with self.assertRaises(PatchError, msg=ops):
                json_patch({"a": 1, "b": [0]}, ops)

    def test_merge_and_strategic(self):
        self.assertEqual(merge_patch({"a": 1, "b": {"c": 2}, "l": [1, 2]}, {"a": None, "b": {"d": 3}, "l": [3]}),
                         {"b": {"c": 2, "d": 3}, "l": [3]})
        pod = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "z"}]}}
        got = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "a", "image": "y"}]}})
        self.assertEqual(got["spec"]["containers"], [{"name": "a", "image": "y"}, {"name": "b", "image": "z"}])


class Selectors(unittest.TestCase):
    def test_label_selectors(self):
        reqs = parse_label_selector("app=web,tier in (a,b),!gone,env!=prod")
        for labels, want in (({"app": "web", "tier": "a"}, True), ({"app": "web", "tier": "c"}, False),
                             ({"app": "web", "tier": "b", "env": "prod"}, False),
                             ({"app": "web", "tier": "a", "gone": ""}, False), ({}, False)):
            self.assertEqual(label_match(reqs, labels), want, labels)
        for bad in ("a in (", "a b", "=x"):
            with self.assertRaises(SelectorError, msg=bad):
                parse_label_selector(bad)

    def test_field_selectors_and_jsonpath(self):
        reqs = parse_field_selector("metadata.name=x,status.phase!=Failed")
        self.assertTrue(field_match(reqs, {"metadata": {"name": "x"}, "status": {"phase": "Running"}}))
        self.assertFalse(field_match(reqs, {"metadata": {"name": "x"}, "status": {"phase": "Failed"}}))
        obj = {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "False"}]}}
        self.assertEqual(jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status'), ["True"])
        self.assertEqual(jsonpath(obj, ".status.missing"), [])


class ErrorsTablesOpenAPI(unittest.TestCase):
    def test_status_errors(self):
        e = err_not_found("snapshot.kubevirt.io", "virtualmachinesnapshots", "x")
        self.assertEqual((e.code, e.status["reason"], e.status["message"]),
                         (404, "NotFound", 'virtualmachinesnapshots.snapshot.kubevirt.io "x" not found'))
        e = err_conflict("", "configmaps", "c", MSG_MODIFIED)
        self.assertEqual((e.code, e.status["reason"]), (409, "Conflict"))
        self.assertIn(MSG_MODIFIED, e.status["message"])

    def test_table_of_a_builtin_type(self):
        cm = {"metadata": {"name": "c", "creationTimestamp": "2020-01-01T00:00:00Z"}, "data": {"a": "1", "b": "2"}}
        t = to_table(builtin("configmaps"), [cm], collections.OrderedDict(resourceVersion="5"))
        self.assertEqual((t["kind"], [c["name"] for c in t["columnDefinitions"]]), ("Table", ["Name", "Data", "Age"]))
        self.assertEqual(t["rows"][0]["cells"][:2], ["c", 2])   # an int64 cell, as printConfigMap makes it
        self.assertEqual(t["rows"][0]["object"]["kind"], "PartialObjectMetadata")

    def test_openapi_has_patch_paths(self):
        docs = openapi_v3_docs([builtin("configmaps"), builtin("namespaces")])
        self.assertEqual(sorted(docs["api/v1"]["paths"]),
                         ["/api/v1/namespaces/{namespace}/configmaps/{name}", "/api/v1/namespaces/{name}",
                          "/api/v1/namespaces/{name}/status"])


if __name__ == "__main__":
    unittest.main()
