# tables: server-side printing (Accept: ...;as=Table) - the built-in column definitions and CRD
# additionalPrinterColumns, as kube-apiserver's TableConvertor.

import collections
import json
import time

from .selectors import jsonpath
from .util import age, human_duration, parse_ts


# ---------------------------------------------------------------------------
# server-side tables (Accept: application/json;as=Table;v=v1;g=meta.k8s.io)

NAME_DESC = ("Name must be unique within a namespace. Is required when creating resources, although some resources "
             "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
             "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
             "http://kubernetes.io/docs/user-guide/identifiers#names")
AGE_DESC = ("CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
            "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
            "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
            "for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
            "api-conventions.md#metadata")


def coldef(name, typ="string", fmt="", desc="", priority=0):
    return collections.OrderedDict([("name", name), ("type", typ), ("format", fmt), ("description", desc),
                                    ("priority", priority)])


def _modes(modes):
    short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return ",".join(short.get(m, m) for m in modes or [])


def _event_last_seen(e):
    t = e.get("lastTimestamp") or e.get("eventTime") or e["metadata"].get("creationTimestamp")
    ts = parse_ts(t or "")
    s = human_duration(time.time() - ts) if ts else "<unknown>"
    cnt = e.get("count") or 0
    first = parse_ts(e.get("firstTimestamp") or "") if e.get("firstTimestamp") else None
    if cnt > 1 and first:
        s += " (x%d over %s)" % (cnt, human_duration(time.time() - first))
    return s


BUILTIN_COLUMNS = {
    "/namespaces": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Status"), coldef("Age")],
                    lambda o: [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""), age(o)]),
    "/pods": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Ready"), coldef("Status"),
               coldef("Restarts", "string"), coldef("Age"), coldef("IP", priority=1), coldef("Node", priority=1)],
              lambda o: [o["metadata"]["name"], "0/%d" % len((o.get("spec") or {}).get("containers") or []),
                         (o.get("status") or {}).get("phase", ""), "0", age(o),
                         (o.get("status") or {}).get("podIP") or "<none>",
                         (o.get("spec") or {}).get("nodeName") or "<none>"]),
    "/persistentvolumeclaims": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Status"), coldef("Volume"), coldef("Capacity"),
         coldef("Access Modes"), coldef("StorageClass"), coldef("Age"), coldef("VolumeMode", priority=1)],
        lambda o: [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""),
                   (o.get("spec") or {}).get("volumeName", ""),
                   ((o.get("status") or {}).get("capacity") or {}).get("storage", ""),
                   _modes((o.get("status") or {}).get("accessModes")),
                   (o.get("spec") or {}).get("storageClassName", ""), age(o),
                   (o.get("spec") or {}).get("volumeMode", "")]),
    "/persistentvolumes": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Capacity"), coldef("Access Modes"),
         coldef("Reclaim Policy"), coldef("Status"), coldef("Claim"), coldef("StorageClass"), coldef("Reason"),
         coldef("Age"), coldef("VolumeMode", priority=1)],
        lambda o: [o["metadata"]["name"], ((o.get("spec") or {}).get("capacity") or {}).get("storage", ""),
                   _modes((o.get("spec") or {}).get("accessModes")),
                   (o.get("spec") or {}).get("persistentVolumeReclaimPolicy", ""),
                   (o.get("status") or {}).get("phase", ""),
                   ("%s/%s" % (((o.get("spec") or {}).get("claimRef") or {}).get("namespace", ""),
                               ((o.get("spec") or {}).get("claimRef") or {}).get("name", "")))
                   if (o.get("spec") or {}).get("claimRef") else "",
                   (o.get("spec") or {}).get("storageClassName", ""), (o.get("status") or {}).get("reason", ""),
                   age(o), (o.get("spec") or {}).get("volumeMode", "")]),
    "/events": ([coldef("Last Seen"), coldef("Type"), coldef("Reason"), coldef("Object"), coldef("Message"),
                 coldef("Name", fmt="name", desc=NAME_DESC, priority=1)],
                lambda o: [_event_last_seen(o), o.get("type", ""), o.get("reason", ""),
                           "%s/%s" % (((o.get("involvedObject") or {}).get("kind") or "").lower(),
                                      (o.get("involvedObject") or {}).get("name", "")),
                           o.get("message", ""), o["metadata"]["name"]]),
    # printers.go gives the counts as int64 cells in "string" columns
    "/secrets": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Type"), coldef("Data", "string"),
                  coldef("Age")],
                 lambda o: [o["metadata"]["name"], o.get("type", ""), len(o.get("data") or {}), age(o)]),
    "/configmaps": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Data", "string"), coldef("Age")],
                    lambda o: [o["metadata"]["name"],
                               len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]),
    "/serviceaccounts": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Secrets", "string"), coldef("Age")],
                         lambda o: [o["metadata"]["name"], len(o.get("secrets") or []), age(o)]),
    "/services": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Type"), coldef("Cluster-IP"),
                   coldef("External-IP"), coldef("Port(s)"), coldef("Age")],
                  lambda o: [o["metadata"]["name"], (o.get("spec") or {}).get("type", ""),
                             (o.get("spec") or {}).get("clusterIP", ""), "<none>",
                             ",".join("%s/%s" % (p.get("port"), p.get("protocol", "TCP"))
                                      for p in (o.get("spec") or {}).get("ports") or []) or "<none>", age(o)]),
    "storage.k8s.io/storageclasses": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Provisioner"), coldef("ReclaimPolicy"),
         coldef("VolumeBindingMode"), coldef("AllowVolumeExpansion"), coldef("Age")],
        lambda o: [o["metadata"]["name"] + (" (default)" if ((o["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class") == "true") else ""), o.get("provisioner", ""),
            o.get("reclaimPolicy", ""), o.get("volumeBindingMode", ""),
            "true" if o.get("allowVolumeExpansion") else "false", age(o)]),
    "coordination.k8s.io/leases": ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Holder"), coldef("Age")],
                                   lambda o: [o["metadata"]["name"],
                                              (o.get("spec") or {}).get("holderIdentity", ""), age(o)]),
    "admissionregistration.k8s.io/validatingwebhookconfigurations": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Webhooks", "integer"), coldef("Age")],
        lambda o: [o["metadata"]["name"], len(o.get("webhooks") or []), age(o)]),
    "admissionregistration.k8s.io/mutatingwebhookconfigurations": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Webhooks", "integer"), coldef("Age")],
        lambda o: [o["metadata"]["name"], len(o.get("webhooks") or []), age(o)]),
    "apiextensions.k8s.io/customresourcedefinitions": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Created At", "date", desc=AGE_DESC)],
        lambda o: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")]),
    "apps/controllerrevisions": (
        [coldef("Name", fmt="name", desc=NAME_DESC), coldef("Controller"), coldef("Revision", "integer"),
         coldef("Age")],
        lambda o: [o["metadata"]["name"],
                   next(("%s/%s" % (r.get("kind", "").lower() + "." + r.get("apiVersion", "").split("/")[0]
                                    if "/" in r.get("apiVersion", "") else r.get("kind", "").lower(), r.get("name"))
                         for r in o["metadata"].get("ownerReferences") or [] if r.get("controller")), "<none>"),
                   o.get("revision", 0), age(o)]),
}


def _crd_cell(typ, val):
    if typ == "string":
        if isinstance(val, str):
            return val
        if isinstance(val, bool):
            return "true" if val else "false"
        if isinstance(val, (int, float)):
            return str(val)
        return json.dumps(val, separators=(",", ":"))
    if typ == "integer":
        if isinstance(val, bool):
            return None
        if isinstance(val, (int, float)):
            return int(val)
        return None
    if typ == "number":
        return val if isinstance(val, (int, float)) and not isinstance(val, bool) else None
    if typ == "boolean":
        return val if isinstance(val, bool) else None
    if typ == "date":
        if isinstance(val, str):
            t = parse_ts(val)
            return "<invalid>" if t is None else human_duration(time.time() - t)
        return None
    return val


def table_columns(rt):
    if rt.builtin:
        if rt.skey in BUILTIN_COLUMNS:
            return BUILTIN_COLUMNS[rt.skey]
        return ([coldef("Name", fmt="name", desc=NAME_DESC), coldef("Age")],
                lambda o: [o["metadata"]["name"], age(o)])
    cols = rt.columns or [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
                           "description": AGE_DESC}]
    defs = [coldef("Name", fmt="name", desc=NAME_DESC)]
    for c in cols:
        defs.append(coldef(c.get("name", ""), c.get("type", "string"), c.get("format", ""),
                           c.get("description", ""), c.get("priority", 0)))

    def cells(o):
        out = [o["metadata"]["name"]]
        for c in cols:
            res = jsonpath(o, c.get("jsonPath", ""))
            out.append(None if not res else _crd_cell(c.get("type", "string"), res[0]))
        return out
    return defs, cells


def to_table(rt, objs, list_meta, include="Metadata", version="v1", with_columns=True):
    defs, cells = table_columns(rt)
    rows = []
    for o in objs:
        row = collections.OrderedDict()
        row["cells"] = cells(o)
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = collections.OrderedDict([("kind", "PartialObjectMetadata"),
                                                     ("apiVersion", "meta.k8s.io/" + version),
                                                     ("metadata", o.get("metadata") or {})])
        rows.append(row)
    t = collections.OrderedDict([("kind", "Table"), ("apiVersion", "meta.k8s.io/" + version),
                                 ("metadata", list_meta)])
    if with_columns:
        t["columnDefinitions"] = defs
    t["rows"] = rows
    return t
