# cluster: the registry of served types (built-ins and CRDs) with the discovery documents kube-apiserver
# builds from it, and the cluster's shared settings and records (service map, tokens, deny rules,
# faults, logs, actor knobs) that the handler, the admission chain and the actors read.

import collections

from .types import CORE_HASH, RType, builtin_types, storage_version_hash, version_priority
from .webhook_client import WebhookClient


class Cluster:
    """Settings and records shared across the server's parts; no behaviour of its own."""

    def __init__(self, opts):
        self.service_map = dict(opts.service_map or {})
        self.tokens = dict(opts.tokens or {})
        self.deny_rules = []
        self.faults = []
        self.admission_log = collections.deque(maxlen=2000)
        self.freeze_log = []
        self.kubevirt = {"fail": {}, "failFreeze": None, "failUnfreeze": None}
        self.snapshotter = {"readyDelay": opts.snapshot_ready_delay, "bindDelay": opts.snapshot_bind_delay,
                            "failAll": None, "fail": {}, "driver": "kube-sim.csi.k8s.io",
                            "restoreSize": "1Gi"}
        self.pvc_binder = {"bindDelay": opts.pvc_bind_delay}
        self.controllers = {c: True for c in ("gc", "namespace", "crd-cleanup", "serviceaccount",
                                               "snapshotter", "pvc-binder", "datavolume")}
        for c in opts.disable or []:
            self.controllers[c] = False
        self.webhooks = WebhookClient(self)
        self.port = 0
        self.ca_pem = ""
        self.timers = {}


class Registry:
    """The served resource types, by (group, version, plural); CRDs add and remove theirs."""

    def __init__(self):
        self.served = {}          # (group, version, plural) -> RType
        self.builtin_groups = []
        for rt in builtin_types():
            self.served[(rt.group, rt.version, rt.plural)] = rt
            if rt.group and rt.group not in self.builtin_groups:
                self.builtin_groups.append(rt.group)

    # ---- registry ---------------------------------------------------------

    def lookup(self, group, version, plural):
        return self.served.get((group, version, plural))

    def skey_types(self, skey):
        return [rt for rt in self.served.values() if rt.skey == skey]

    def storage_type(self, skey):
        ts = self.skey_types(skey)
        for rt in ts:
            if rt.storage:
                return rt
        return ts[0] if ts else None

    def type_for(self, group, kind):
        for rt in self.served.values():
            if rt.group == group and rt.kind == kind and rt.storage:
                return rt
        return None

    def type_for_api_version(self, api_version, kind):
        g, _, v = api_version.rpartition("/")
        for rt in self.served.values():
            if rt.group == g and rt.version == v and rt.kind == kind:
                return rt
        return self.type_for(g, kind)

    def register_crd(self, crd):
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group", "")
        plural = names.get("plural", "")
        # copy-on-write: readers iterate self.served without the lock
        served = {k: rt for k, rt in self.served.items() if rt.crd != crd["metadata"]["name"]}
        for v in spec.get("versions") or []:
            if not v.get("served", True):
                continue
            cols = v.get("additionalPrinterColumns")
            if cols is None:
                cols = spec.get("additionalPrinterColumns")
            rt = RType(group, v.get("name"), plural, names.get("kind", ""),
                       namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                       singular=names.get("singular") or names.get("kind", "").lower(),
                       short=names.get("shortNames") or [], categories=names.get("categories") or [],
                       status="status" in ((v.get("subresources") or spec.get("subresources") or {})),
                       builtin=False, generation=True, columns=cols or [],
                       list_kind=names.get("listKind"), crd=crd["metadata"]["name"],
                       storage=bool(v.get("storage")),
                       selectable=[f.get("jsonPath", "").lstrip(".") for f in v.get("selectableFields") or []])
            served[(group, rt.version, plural)] = rt
        self.served = served

    def unregister_crd(self, name):
        self.served = {k: rt for k, rt in self.served.items() if rt.crd != name}

    # ---- discovery ----------------------------------------------------------

    def _groups(self):
        """[(group, [versions], preferred)] in kube-apiserver's order: built-ins, then CRD groups."""
        out = []
        seen = {}
        for g in self.builtin_groups:
            seen[g] = ["v1"]
            out.append(g)
        crd_groups = {}
        for rt in self.served.values():
            if rt.builtin:
                continue
            crd_groups.setdefault(rt.group, [])
            if rt.version not in crd_groups[rt.group]:
                crd_groups[rt.group].append(rt.version)
        if self.kubevirt_enabled():
            crd_groups.setdefault("subresources.kubevirt.io", ["v1"])
        res = [(g, ["v1"], "v1") for g in out]
        for g in sorted(crd_groups):
            vs = sorted(crd_groups[g], key=version_priority, reverse=True)
            res.append((g, vs, vs[0]))
        return res

    def kubevirt_enabled(self):
        return ("kubevirt.io", "v1", "virtualmachineinstances") in self.served

    def discovery_apis(self):
        groups = []
        for g, vs, pref in self._groups():
            groups.append(collections.OrderedDict([
                ("name", g),
                ("versions", [collections.OrderedDict([("groupVersion", g + "/" + v), ("version", v)]) for v in vs]),
                ("preferredVersion", collections.OrderedDict([("groupVersion", g + "/" + pref), ("version", pref)]))]))
        return collections.OrderedDict([("kind", "APIGroupList"), ("apiVersion", "v1"), ("groups", groups)])

    def discovery_group(self, group):
        for g, vs, pref in self._groups():
            if g == group:
                return collections.OrderedDict([
                    ("kind", "APIGroup"), ("apiVersion", "v1"), ("name", g),
                    ("versions", [collections.OrderedDict([("groupVersion", g + "/" + v), ("version", v)]) for v in vs]),
                    ("preferredVersion", collections.OrderedDict([("groupVersion", g + "/" + pref),
                                                                  ("version", pref)]))])
        return None

    def discovery_resources(self, group, version):
        res = []
        if group == "subresources.kubevirt.io" and version == "v1" and self.kubevirt_enabled():
            for sub in ("freeze", "unfreeze"):
                res.append(collections.OrderedDict([
                    ("name", "virtualmachineinstances/" + sub), ("singularName", ""), ("namespaced", True),
                    ("kind", "VirtualMachineInstance"), ("verbs", ["update"])]))
            for sub in ("start", "stop"):
                res.append(collections.OrderedDict([
                    ("name", "virtualmachines/" + sub), ("singularName", ""), ("namespaced", True),
                    ("kind", "VirtualMachine"), ("verbs", ["update"])]))
        types = [rt for rt in self.served.values() if rt.group == group and rt.version == version]
        if not types and not res:
            return None
        if group == "":
            types.sort(key=lambda r: r.plural)
        for rt in types:
            r = collections.OrderedDict()
            r["name"] = rt.plural
            r["singularName"] = "" if rt.builtin else rt.singular
            r["namespaced"] = rt.namespaced
            r["kind"] = rt.kind
            r["verbs"] = rt.verbs
            if rt.short:
                r["shortNames"] = rt.short
            if rt.categories:
                r["categories"] = rt.categories
            r["storageVersionHash"] = CORE_HASH.get(rt.plural) if group == "" and rt.plural in CORE_HASH \
                else storage_version_hash(group, version, rt.kind)
            res.append(r)
            subs = []
            if rt.status:
                subs.append(("status", rt.kind, ["get", "patch", "update"]))
            subs.extend(rt.extra_sub)
            if group == "":
                subs.sort()
            for name, kind, verbs in subs:
                res.append(collections.OrderedDict([
                    ("name", rt.plural + "/" + name), ("singularName", ""), ("namespaced", rt.namespaced),
                    ("kind", kind), ("verbs", verbs)]))
        if group == "":
            res.sort(key=lambda r: r["name"])
            return collections.OrderedDict([("kind", "APIResourceList"), ("groupVersion", "v1"),
                                            ("resources", res)])
        return collections.OrderedDict([("kind", "APIResourceList"), ("apiVersion", "v1"),
                                        ("groupVersion", group + "/" + version), ("resources", res)])
