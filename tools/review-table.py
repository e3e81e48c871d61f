#!/usr/bin/env python3
"""Prints a readable table of `vmsnapd review` decisions over the examples:
what each one shows, allowed or denied (with the HTTP code), and the
message and warnings a user would read. Usage: review-table.py VMSNAPD"""
import json
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
EX = os.path.join(HERE, "..", "manifests", "examples")


def main():
    binary = os.path.abspath(sys.argv[1])
    rows = [line.rstrip("\n").split("\t")
            for line in open(os.path.join(EX, "index.tsv"))]
    failed = 0
    for name, op, what in rows:
        review = os.path.join(EX, "reviews", name + ".json")
        p = subprocess.run([binary, "review", "--objects",
                            os.path.join(EX, "cluster.yaml"), review],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print(f"{name}: vmsnapd review failed: {p.stderr.strip()}")
            failed += 1
            continue
        r = json.loads(p.stdout)["response"]
        verdict = "ALLOWED" if r["allowed"] else \
            "DENIED %d" % r["status"]["code"]
        print(f"{op:6} {name}  ({what})")
        print(f"       -> {verdict}")
        if not r["allowed"]:
            for line in textwrap.wrap(r["status"]["message"], 70):
                print(f"          {line}")
        for w in r.get("warnings", []):
            print(f"          Warning: {w}")
        if r.get("patch"):
            import base64
            ops = json.loads(base64.b64decode(r["patch"]))
            print("          patch: " + ", ".join(
                f'{o["op"]} {o["path"]}' for o in ops))
        print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
