#!/usr/bin/env python3
"""Writes manifests/examples/: the product documentation's
VirtualMachineSnapshot and VirtualMachineRestore with valid and invalid
variants (YAML, as users write them), a ready AdmissionReview for each
(reviews/*.json, shaped like kube-apiserver's, see the fixtures), and
cluster.yaml, the cluster state the state-dependent rules read.

Run it after changing an example; the outputs are committed."""
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "manifests", "examples")
G = "snapshot.kubevirt.io"


def snap(name, spec_extra=None, source=None, labels=None):
    src = {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
           "name": "my-vm"}
    if source is not None:
        src = source
    spec = {"source": src}
    spec.update(spec_extra or {})
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": G + "/v1beta1", "kind": "VirtualMachineSnapshot",
            "metadata": meta, "spec": spec}


def restore(name, vm="my-vm", snapshot="my-vmsnapshot", extra=None):
    spec = {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                       "name": vm},
            "virtualMachineSnapshotName": snapshot}
    spec.update(extra or {})
    return {"apiVersion": G + "/v1beta1", "kind": "VirtualMachineRestore",
            "metadata": {"name": name}, "spec": spec}


def content(name):
    return {"apiVersion": G + "/v1beta1",
            "kind": "VirtualMachineSnapshotContent",
            "metadata": {"name": name},
            "spec": {"virtualMachineSnapshotName": "my-vmsnapshot",
                     "source": {"virtualMachine": {
                         "metadata": {"name": "my-vm"}}}}}


SNAPSHOT_DOC = snap("my-vmsnapshot")

# (name, what it shows, operation, object, old object, user)
EXAMPLES = [
    ("snapshot", "the documentation's snapshot: allowed, deadline defaulted",
     "CREATE", SNAPSHOT_DOC, None, None),
    ("snapshot-deadline-seconds",
     "failureDeadline: 300 (no unit means seconds): stored as 300s",
     "CREATE", snap("deadline-seconds", {"failureDeadline": 300}), None, None),
    ("snapshot-bad-kind", "source kind Pod: invalid kind",
     "CREATE", snap("bad-kind", source={"apiGroup": "kubevirt.io",
                                        "kind": "Pod", "name": "my-vm"}),
     None, None),
    ("snapshot-missing-apigroup", "source without apiGroup",
     "CREATE", snap("missing-apigroup", source={"kind": "VirtualMachine",
                                                "name": "my-vm"}),
     None, None),
    ("snapshot-bad-deadline", "failureDeadline 1d: days are not a unit",
     "CREATE", snap("bad-deadline", {"failureDeadline": "1d"}), None, None),
    ("snapshot-edit-spec", "changing the source of an existing snapshot",
     "UPDATE", snap("my-vmsnapshot", source={"apiGroup": "kubevirt.io",
                                             "kind": "VirtualMachine",
                                             "name": "other-vm"}),
     SNAPSHOT_DOC, None),
    ("snapshot-delete-while-restoring",
     "deleting a snapshot a restore still reads",
     "DELETE", None, snap("busy-snapshot"), None),
    ("restore", "the documentation's restore: offline snapshot, stopped VM",
     "CREATE", restore("my-vmrestore"), None, None),
    ("restore-new-vm", "restore into a VM that does not exist: a copy",
     "CREATE", restore("copy-vmrestore", vm="my-vm-copy"), None, None),
    ("restore-running-vm", "restore into a running VM",
     "CREATE", restore("running-restore", vm="running-vm",
                       snapshot="running-vm-snapshot"), None, None),
    ("restore-online-snapshot", "restore from a snapshot taken online",
     "CREATE", restore("online-restore", snapshot="online-snapshot"),
     None, None),
    ("restore-missing-snapshot", "restore from a snapshot that is not there",
     "CREATE", restore("missing-restore", snapshot="no-such-snapshot"),
     None, None),
    ("restore-bad-patch", "a patch outside /spec/",
     "CREATE", restore("patch-restore", extra={"patches": [
         '{"op": "replace", "path": "/metadata/name", "value": "x"}']}),
     None, None),
    ("content-by-user", "a user creating a VirtualMachineSnapshotContent",
     "CREATE", content("my-content"), None, None),
]

CLUSTER = [
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
     "metadata": {"name": "my-vm", "namespace": "default",
                  "uid": "355897f3-73a0-4ec4-83d3-3c2df9486f4f"},
     "spec": {"runStrategy": "Halted"}},
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
     "metadata": {"name": "running-vm", "namespace": "default",
                  "uid": "8d0e6a5c-2b1f-4c39-9a8e-0c6c5a1d2e71"},
     "spec": {"runStrategy": "Always"}},
    {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
     "metadata": {"name": "running-vm", "namespace": "default"},
     "status": {"phase": "Running", "conditions": [
         {"type": "AgentConnected", "status": "True"}]}},
]


def ready_snapshot(name, vm, uid, online=False):
    s = snap(name, source={"apiGroup": "kubevirt.io",
                           "kind": "VirtualMachine", "name": vm})
    s["metadata"]["namespace"] = "default"
    s["status"] = {"readyToUse": True, "phase": "Succeeded",
                   "sourceUID": uid,
                   "virtualMachineSnapshotContentName":
                       "vmsnapshot-content-" + name}
    if online:
        s["status"]["indications"] = ["Online", "GuestAgent"]
    return s


CLUSTER += [
    ready_snapshot("my-vmsnapshot", "my-vm",
                   "355897f3-73a0-4ec4-83d3-3c2df9486f4f"),
    ready_snapshot("running-vm-snapshot", "running-vm",
                   "8d0e6a5c-2b1f-4c39-9a8e-0c6c5a1d2e71"),
    ready_snapshot("online-snapshot", "my-vm",
                   "355897f3-73a0-4ec4-83d3-3c2df9486f4f", online=True),
    ready_snapshot("busy-snapshot", "my-vm",
                   "355897f3-73a0-4ec4-83d3-3c2df9486f4f"),
    {"apiVersion": G + "/v1beta1", "kind": "VirtualMachineRestore",
     "metadata": {"name": "restore-in-progress", "namespace": "default"},
     "spec": {"target": {"apiGroup": "kubevirt.io", "kind": "VirtualMachine",
                         "name": "other-vm"},
              "virtualMachineSnapshotName": "busy-snapshot"},
     "status": {"complete": False}},
]

PLURAL = {"VirtualMachineSnapshot": "virtualmachinesnapshots",
          "VirtualMachineSnapshotContent": "virtualmachinesnapshotcontents",
          "VirtualMachineRestore": "virtualmachinerestores"}


def yaml_scalar(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    plain_ok = (v and v.strip() == v
                and not any(c in v for c in ':{}[],#&*!|>\'"%@`')
                and v.lower() not in ("true", "false", "yes", "no", "on",
                                      "off", "null", "~", "y", "n"))
    try:
        float(v)
        plain_ok = False  # would read back as a number
    except ValueError:
        pass
    return v if plain_ok else json.dumps(v)


def to_yaml(v, indent=0):
    pad = "  " * indent
    lines = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(x, indent + 1))
            else:
                lines.append(f"{pad}{k}: {yaml_scalar(x) if x != {} else '{}'}")
    else:
        for x in v:
            if isinstance(x, (dict, list)) and x:
                body = to_yaml(x, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {yaml_scalar(x)}")
    return "\n".join(lines)


def review(i, name, op, obj, old, user):
    o = obj or old
    kind = o["kind"]
    def placed(x):
        if x is None:
            return None
        x = json.loads(json.dumps(x))
        x["metadata"].setdefault("namespace", "default")
        x["metadata"].setdefault("uid", "0000000%d-aaaa-4bbb-8ccc-dddddddddddd"
                                 % (i % 10))
        x["metadata"].setdefault("creationTimestamp", "2026-11-25T21:15:59Z")
        return x
    opts = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions",
            "DELETE": "DeleteOptions"}[op]
    return {
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": "e16ae29e-5e2c-40a2-93a7-%012d" % i,
            "kind": {"group": G, "version": "v1beta1", "kind": kind},
            "resource": {"group": G, "version": "v1beta1",
                         "resource": PLURAL[kind]},
            "requestKind": {"group": G, "version": "v1beta1", "kind": kind},
            "requestResource": {"group": G, "version": "v1beta1",
                                "resource": PLURAL[kind]},
            "name": o["metadata"]["name"],
            "namespace": "default",
            "operation": op,
            "userInfo": {"username": user or "admin",
                         "groups": ["system:masters",
                                    "system:authenticated"]},
            "object": placed(obj),
            "oldObject": placed(old),
            "dryRun": False,
            "options": {"kind": opts, "apiVersion": "meta.k8s.io/v1"},
        },
    }


def main():
    os.makedirs(os.path.join(OUT, "reviews"), exist_ok=True)
    index = []
    for i, (name, what, op, obj, old, user) in enumerate(EXAMPLES):
        shown = obj or old
        with open(os.path.join(OUT, name + ".yaml"), "w") as f:
            f.write(f"# {what}\n# review: reviews/{name}.json ({op})\n")
            f.write(to_yaml(shown) + "\n")
        with open(os.path.join(OUT, "reviews", name + ".json"), "w") as f:
            json.dump(review(i, name, op, obj, old, user), f, indent=2)
            f.write("\n")
        index.append(f"{name}\t{op}\t{what}")
    with open(os.path.join(OUT, "cluster.yaml"), "w") as f:
        f.write("# Cluster state for the examples' reviews "
                "(vmsnapd review --objects cluster.yaml).\n")
        f.write("\n".join("---\n" + to_yaml(o) for o in CLUSTER) + "\n")
    with open(os.path.join(OUT, "index.tsv"), "w") as f:
        f.write("\n".join(index) + "\n")


if __name__ == "__main__":
    sys.exit(main())
