"""kube_sim.yamlio: YAML read the way sigs.k8s.io/yaml (go-yaml v2) reads it."""

import math
import os
import unittest

from ksim_helper import FIXTURES  # also puts tools/ on sys.path
from kube_sim.yamlio import YAMLError, yaml_load_all


class YAMLScalars(unittest.TestCase):
    def one(self, text):
        docs = yaml_load_all(text)
        self.assertEqual(len(docs), 1)
        return docs[0]

    def test_yaml_1_1_booleans(self):
        for word, want in (("yes", True), ("Yes", True), ("on", True), ("ON", True), ("y", True),
                           ("true", True), ("no", False), ("off", False), ("N", False), ("FALSE", False)):
            self.assertIs(self.one("v: %s\n" % word)["v"], want, word)
        self.assertEqual(self.one("v: 'yes'\n")["v"], "yes")
        self.assertEqual(self.one("v: yess\n")["v"], "yess")

    def test_numbers_as_go(self):
        table = (("0x1F", 31), ("0o17", 15), ("0b101", 5), ("0777", 511), ("1_000", 1000), ("-12", -12),
                 ("1e3", 1000.0), ("1.5", 1.5), ("-.5", -0.5), ("12:30", "12:30"), ("1.2.3", "1.2.3"))
        for text, want in table:
            got = self.one("v: %s\n" % text)["v"]
            self.assertEqual((type(got), got), (type(want), want), text)
        self.assertTrue(math.isinf(self.one("v: -.Inf\n")["v"]))
        self.assertTrue(math.isnan(self.one("v: .NaN\n")["v"]))

    def test_nulls_and_timestamps(self):
        got = self.one("a: ~\nb:\nc: null\nd: 2024-01-01T00:00:00Z\ne: 2024-01-01\n")
        self.assertEqual(got, {"a": None, "b": None, "c": None, "d": "2024-01-01T00:00:00Z", "e": "2024-01-01"})

    def test_keys_become_strings(self):
        self.assertEqual(self.one("1: a\ntrue: b\n1.5: c\n~: d\n"), {"1": "a", "true": "b", "1.5": "c", "null": "d"})

    def test_documents_blocks_flows_anchors(self):
        docs = yaml_load_all("---\n# only a comment\n---\na: |\n  x\n  y\nb: >-\n  p\n  q\nc: [1, 'two', {k: v}]\n"
                             "d: &base {p: 1}\ne:\n  <<: *base\n  q: 2\n---\n- 1\n- - 2\n")
        self.assertEqual(docs, [{"a": "x\ny\n", "b": "p q", "c": [1, "two", {"k": "v"}], "d": {"p": 1},
                                 "e": {"p": 1, "q": 2}}, [1, [2]]])

    def test_json_is_read_as_json(self):
        self.assertEqual(yaml_load_all('{"a": "\\/x", "b": [1.0]}'), [{"a": "/x", "b": [1.0]}])

    def test_errors_are_yaml_errors(self):
        # the hand-written parser looped for ever on the unclosed flow mapping
        for bad in ("a: [\n", "a: b: c\n", "? [k]\n: v\n", "a:\n\tb: 1\n", "c: {server: \"x\"\nd: dev\n"):
            with self.assertRaises(YAMLError, msg=bad):
                yaml_load_all(bad)

    @unittest.skipUnless(FIXTURES, "fixtures not found")
    def test_fixture_files(self):
        for name in sorted(os.listdir(FIXTURES)):
            if name.endswith(".yaml"):
                with open(os.path.join(FIXTURES, name)) as f:
                    docs = yaml_load_all(f.read())
                self.assertTrue(docs and all(isinstance(d, dict) for d in docs), name)


if __name__ == "__main__":
    unittest.main()
