# types: the resource types (RType) kube-apiserver serves built in, and the defaulting, validation and
# CRD handling (apiextensions-apiserver) applied to objects before they are stored.

import base64
import hashlib
import random
import re
import urllib.parse

from .errors import FieldErr
from .util import go_quote_list, now_ts


# ---------------------------------------------------------------------------
# resource types

def storage_version_hash(group, version, kind):
    return base64.b64encode(hashlib.sha256(("%s/%s/%s" % (group, version, kind)).encode()).digest()[:8]).decode()


BUILTIN_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CRD_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]


class RType:
    def __init__(self, group, version, plural, kind, namespaced=True, singular="", short=(), categories=(),
                 status=False, verbs=None, builtin=True, generation=False, columns=None, list_kind=None,
                 extra_sub=(), crd=None, storage=True, selectable=()):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced, self.singular = namespaced, singular
        self.short, self.categories = list(short), list(categories)
        self.status, self.builtin, self.generation = status, builtin, generation
        self.verbs = verbs or (BUILTIN_VERBS if builtin else CRD_VERBS)
        self.columns = columns            # CRD additionalPrinterColumns
        self.list_kind = list_kind or kind + "List"
        self.extra_sub = list(extra_sub)  # (name, kind, verbs)
        self.crd = crd
        self.storage = storage            # storage version of a CRD
        self.selectable = list(selectable)

    @property
    def skey(self):
        return self.group + "/" + self.plural

    @property
    def api_version(self):
        return self.group + "/" + self.version if self.group else self.version

    def __repr__(self):
        return "<RType %s/%s %s>" % (self.group, self.version, self.plural)


CORE_HASH = {"configmaps": "qFsyl6wFWjQ=", "events": "r2yiGXH7wu8=", "namespaces": "Q3oi5N2YM8M=",
             "persistentvolumeclaims": "QWTyNDq0dC4=", "persistentvolumes": "HN/zwEC+JgM=",
             "pods": "xPOwRZ+Yhw8=", "secrets": "S6u1pOWzb84=", "serviceaccounts": "pbx9ZvyFpBE=",
             "services": "0/CO1lhkEBI="}


def builtin_types():
    T = RType
    return [
        T("", "v1", "configmaps", "ConfigMap", short=["cm"]),
        T("", "v1", "events", "Event", short=["ev"],
          selectable=["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                      "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                      "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
        T("", "v1", "namespaces", "Namespace", namespaced=False, short=["ns"], status=True,
          verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
          extra_sub=[("finalize", "Namespace", ["update"])], selectable=["status.phase"]),
        T("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=["pvc"], status=True),
        T("", "v1", "persistentvolumes", "PersistentVolume", namespaced=False, short=["pv"], status=True),
        T("", "v1", "pods", "Pod", short=["po"], categories=["all"], status=True,
          selectable=["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                      "status.phase", "status.podIP", "status.nominatedNodeName"]),
        T("", "v1", "secrets", "Secret", selectable=["type"]),
        T("", "v1", "serviceaccounts", "ServiceAccount", short=["sa"]),
        T("", "v1", "services", "Service", short=["svc"], categories=["all"], status=True),
        T("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
          namespaced=False, generation=True),
        T("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
          "ValidatingWebhookConfiguration", namespaced=False, generation=True),
        T("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
          namespaced=False, short=["crd", "crds"], status=True, generation=True),
        T("apps", "v1", "controllerrevisions", "ControllerRevision"),
        T("coordination.k8s.io", "v1", "leases", "Lease"),
        T("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False, short=["sc"]),
    ]


# ---------------------------------------------------------------------------
# defaulting and validation

WEBHOOK_SKEYS = ("admissionregistration.k8s.io/validatingwebhookconfigurations",
                 "admissionregistration.k8s.io/mutatingwebhookconfigurations")
PROTECTED_NS = ("default", "kube-system", "kube-public")
CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def version_priority(v):
    """Kubernetes version ordering: GA > beta > alpha, higher numbers first."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
    if not m:
        return (-1, 0, 0, v)
    stage = {"alpha": 0, "beta": 1, None: 2}[m.group(2)]
    return (stage, int(m.group(1)), int(m.group(3) or 0), "")


def _is_protected_group(g):
    return g in ("k8s.io", "kubernetes.io") or g.endswith(".k8s.io") or g.endswith(".kubernetes.io")


class Types:
    """Per-type defaulting and validation (the registry strategies); it reads the store (the default
    StorageClass) and keeps the registry in step with the stored CRDs."""

    def __init__(self, store, registry):
        self.store = store
        self.registry = registry

    def prepare_create(self, ctx, rt, obj, errs):
        sk = rt.skey
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
        m = obj["metadata"]
        if sk == "/namespaces":
            m.setdefault("labels", {})["kubernetes.io/metadata.name"] = m.get("name", "")
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
        elif sk == "/secrets":
            self._secret_string_data(obj)
            obj.setdefault("type", "Opaque")
        elif sk == "/persistentvolumeclaims":
            spec = obj.setdefault("spec", {})
            spec.setdefault("volumeMode", "Filesystem")
            if "storageClassName" not in spec:
                dsc = self.default_storage_class()
                if dsc:
                    spec["storageClassName"] = dsc
            if not spec.get("accessModes"):
                errs.append(FieldErr("Required", "spec.accessModes", "at least 1 access mode is required"))
            if not ((spec.get("resources") or {}).get("requests") or {}).get("storage"):
                errs.append(FieldErr("Required", "spec.resources[storage]"))
            obj["status"] = {"phase": "Pending"}
        elif sk == "/persistentvolumes":
            obj.setdefault("spec", {}).setdefault("persistentVolumeReclaimPolicy", "Retain")
            obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
            obj["status"] = {"phase": "Available" if not (obj["spec"].get("claimRef")) else "Bound"}
        elif sk == "/pods":
            spec = obj.setdefault("spec", {})
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("schedulerName", "default-scheduler")
            spec.setdefault("serviceAccountName", "default")
            if not spec.get("containers"):
                errs.append(FieldErr("Required", "spec.containers"))
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif sk == "/services":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec.get("clusterIP") != "None" and not spec.get("clusterIP"):
                spec["clusterIP"] = "10.96.%d.%d" % (random.randint(0, 255), random.randint(1, 254))
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            obj["status"] = {"loadBalancer": {}}
        elif sk == "storage.k8s.io/storageclasses":
            obj.setdefault("reclaimPolicy", "Delete")
            obj.setdefault("volumeBindingMode", "Immediate")
            if not obj.get("provisioner"):
                errs.append(FieldErr("Required", "provisioner"))
        elif sk in WEBHOOK_SKEYS:
            self._webhook_config_prepare(obj, errs, sk.endswith("mutatingwebhookconfigurations"))
        elif sk == "apiextensions.k8s.io/customresourcedefinitions":
            self._crd_prepare(obj, errs)
            fins = m.setdefault("finalizers", [])
            if CRD_CLEANUP_FINALIZER not in fins:
                fins.append(CRD_CLEANUP_FINALIZER)

    def prepare_update(self, ctx, rt, obj, old, errs, sub):
        sk = rt.skey
        if sub:
            return
        if sk == "/namespaces":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        elif sk == "/secrets":
            self._secret_string_data(obj)
        elif sk in WEBHOOK_SKEYS:
            self._webhook_config_prepare(obj, errs, sk.endswith("mutatingwebhookconfigurations"))
        elif sk == "apiextensions.k8s.io/customresourcedefinitions":
            self._crd_prepare(obj, errs, old)

    @staticmethod
    def _secret_string_data(obj):
        sd = obj.pop("stringData", None)
        if isinstance(sd, dict):
            data = obj.setdefault("data", {})
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()

    def default_storage_class(self):
        with self.store.lock:
            for (_, name), sc in sorted(self.store.objs["storage.k8s.io/storageclasses"].items()):
                ann = (sc.get("metadata") or {}).get("annotations") or {}
                if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                    return name
        return None

    def _webhook_config_prepare(self, obj, errs, mutating):
        hooks = obj.get("webhooks") or []
        seen = set()
        for i, wh in enumerate(hooks):
            p = "webhooks[%d]" % i
            if not isinstance(wh, dict):
                errs.append(FieldErr("Invalid", p, "must be an object"))
                continue
            name = wh.get("name") or ""
            if not name:
                errs.append(FieldErr("Required", p + ".name"))
            elif len(name.split(".")) < 3:
                errs.append(FieldErr("Invalid", p + ".name", "should be a domain with at least three segments "
                                     "separated by dots", name, True))
            elif name in seen:
                errs.append(FieldErr("Duplicate", p + ".name", "", name, True))
            seen.add(name)
            arv = wh.get("admissionReviewVersions")
            if not arv:
                errs.append(FieldErr("Required", p + ".admissionReviewVersions",
                                     "must specify one of v1, v1beta1"))
            elif not any(v in ("v1", "v1beta1") for v in arv):
                errs.append(FieldErr("Invalid", p + ".admissionReviewVersions",
                                     "must include at least one of v1, v1beta1", go_quote_list(arv), False))
            se = wh.get("sideEffects")
            if se is None:
                errs.append(FieldErr("Required", p + ".sideEffects", "must specify one of None, NoneOnDryRun"))
            elif se not in ("None", "NoneOnDryRun"):
                errs.append(FieldErr("NotSupported", p + ".sideEffects", 'supported values: "None", "NoneOnDryRun"',
                                     se, True))
            cc = wh.get("clientConfig") or {}
            if bool(cc.get("url")) == bool(cc.get("service")):
                errs.append(FieldErr("Required", p + ".clientConfig", "exactly one of url or service is required"))
            elif cc.get("url"):
                u = urllib.parse.urlsplit(cc["url"])
                if u.scheme != "https":
                    errs.append(FieldErr("Invalid", p + ".clientConfig.url", "'https' is the only allowed URL scheme",
                                         cc["url"], True))
                elif u.query or u.fragment or u.username:
                    errs.append(FieldErr("Invalid", p + ".clientConfig.url", "query parameters, fragments and user "
                                         "information are not allowed", cc["url"], True))
            else:
                svc = cc["service"]
                if not svc.get("name"):
                    errs.append(FieldErr("Required", p + ".clientConfig.service.name", "service name is required"))
                if not svc.get("namespace"):
                    errs.append(FieldErr("Required", p + ".clientConfig.service.namespace",
                                         "service namespace is required"))
                svc.setdefault("port", 443)
            to = wh.setdefault("timeoutSeconds", 10)
            if not isinstance(to, int) or to < 1 or to > 30:
                errs.append(FieldErr("Invalid", p + ".timeoutSeconds", "the timeout value must be between 1 and 30 "
                                     "seconds", to, True))
            fp = wh.setdefault("failurePolicy", "Fail")
            if fp not in ("Fail", "Ignore"):
                errs.append(FieldErr("NotSupported", p + ".failurePolicy", 'supported values: "Fail", "Ignore"',
                                     fp, True))
            mp = wh.setdefault("matchPolicy", "Equivalent")
            if mp not in ("Exact", "Equivalent"):
                errs.append(FieldErr("NotSupported", p + ".matchPolicy", 'supported values: "Equivalent", "Exact"',
                                     mp, True))
            wh.setdefault("namespaceSelector", {})
            wh.setdefault("objectSelector", {})
            if mutating:
                rp = wh.setdefault("reinvocationPolicy", "Never")
                if rp not in ("Never", "IfNeeded"):
                    errs.append(FieldErr("NotSupported", p + ".reinvocationPolicy",
                                         'supported values: "IfNeeded", "Never"', rp, True))
            for j, r in enumerate(wh.get("rules") or []):
                r.setdefault("scope", "*")
                for k, op in enumerate(r.get("operations") or []):
                    if op not in ("*", "CREATE", "UPDATE", "DELETE", "CONNECT"):
                        errs.append(FieldErr("NotSupported", "%s.rules[%d].operations[%d]" % (p, j, k),
                                             'supported values: "*", "CONNECT", "CREATE", "DELETE", "UPDATE"',
                                             op, True))

    def _crd_prepare(self, obj, errs, old=None):
        spec = obj.setdefault("spec", {})
        m = obj["metadata"]
        group = spec.get("group") or ""
        names = spec.setdefault("names", {})
        if not group:
            errs.append(FieldErr("Required", "spec.group"))
        elif "." not in group:
            errs.append(FieldErr("Invalid", "spec.group", "should be a domain with at least one dot", group, True))
        if not names.get("plural"):
            errs.append(FieldErr("Required", "spec.names.plural"))
        if not names.get("kind"):
            errs.append(FieldErr("Required", "spec.names.kind"))
        names.setdefault("singular", (names.get("kind") or "").lower())
        names.setdefault("listKind", (names.get("kind") or "") + "List")
        if group and names.get("plural") and m.get("name") != names["plural"] + "." + group:
            errs.append(FieldErr("Invalid", "metadata.name", 'must be spec.names.plural+"."+spec.group',
                                 m.get("name"), True))
        scope = spec.get("scope")
        if scope not in ("Cluster", "Namespaced"):
            if scope is None:
                errs.append(FieldErr("Required", "spec.scope"))
            else:
                errs.append(FieldErr("NotSupported", "spec.scope", 'supported values: "Cluster", "Namespaced"',
                                     scope, True))
        versions = spec.get("versions") or []
        if not versions:
            errs.append(FieldErr("Invalid", "spec.versions", "must have exactly one version marked as storage "
                                 "version", [], False))
        elif sum(1 for v in versions if v.get("storage")) != 1:
            errs.append(FieldErr("Invalid", "spec.versions", "must have exactly one version marked as storage "
                                 "version", "[]apiextensions.CustomResourceDefinitionVersion{...}", False))
        for i, v in enumerate(versions):
            if not ((v.get("schema") or {}).get("openAPIV3Schema")):
                errs.append(FieldErr("Required", "spec.versions[%d].schema.openAPIV3Schema" % i,
                                     "schemas are required"))
        ann = m.get("annotations") or {}
        conds = []
        if _is_protected_group(group):
            a = ann.get("api-approved.kubernetes.io")
            if a is None:
                errs.append(FieldErr("Required", "metadata.annotations[api-approved.kubernetes.io]",
                                     'protected groups must have approval annotation "api-approved.kubernetes.io", '
                                     'see https://github.com/kubernetes/enhancements/pull/1111'))
            elif not (a.startswith("unapproved") or re.match(r"^https?://", a)):
                errs.append(FieldErr("Invalid", "metadata.annotations[api-approved.kubernetes.io]",
                                     'protected groups must have approval annotation "api-approved.kubernetes.io" '
                                     'with either a URL or a reason starting with "unapproved", see '
                                     'https://github.com/kubernetes/enhancements/pull/1111', a, True))
            else:
                ok = not a.startswith("unapproved")
                conds.append({"lastTransitionTime": now_ts(), "message": "approved in %s" % a if ok else
                              "not approved: \"%s\"" % a, "reason": "ApprovedAnnotation" if ok else
                              "UnapprovedAnnotation", "status": "True" if ok else "False",
                              "type": "KubernetesAPIApprovalPolicyConformant"})
        spec.setdefault("conversion", {"strategy": "None"})
        if errs:
            return
        ts = ((old or {}).get("status") or {}).get("conditions") or []
        t0 = ts[0]["lastTransitionTime"] if ts else now_ts()
        accepted = {k: v for k, v in names.items()}
        obj["status"] = {
            "acceptedNames": accepted,
            "conditions": [
                {"lastTransitionTime": t0, "message": "no conflicts found", "reason": "NoConflicts",
                 "status": "True", "type": "NamesAccepted"},
                {"lastTransitionTime": t0, "message": "the initial names have been accepted",
                 "reason": "InitialNamesAccepted", "status": "True", "type": "Established"}] + conds,
            "storedVersions": sorted(set(((old or {}).get("status") or {}).get("storedVersions", []) +
                                         [v.get("name") for v in versions if v.get("storage")]))}
        if m.get("deletionTimestamp"):
            obj["status"]["conditions"].append({
                "lastTransitionTime": now_ts(), "message": "CustomResource deletion is in progress",
                "reason": "InstanceDeletionInProgress", "status": "True", "type": "Terminating"})

    def after_commit(self, rt, typ, obj, prev):
        if rt.skey == "apiextensions.k8s.io/customresourcedefinitions":
            if typ == "DELETED":
                self.registry.unregister_crd(obj["metadata"]["name"])
            else:
                self.registry.register_crd(obj)
