# actors/namespace: namespace lifecycle (finalizing deletion of a namespace's content), the
# default ServiceAccount, and CRD cleanup when a CustomResourceDefinition is deleted.


from ..context import system_ctx
from ..errors import ApiError
from ..types import CRD_CLEANUP_FINALIZER
from ..util import deep
from .base import Actor


class NamespaceLifecycle(Actor):
    """Finalizes a terminating namespace: deletes its content, then removes the kubernetes finalizer."""
    name = "namespace"

    def run(self):
        nrt = self.api.lookup("", "v1", "namespaces")
        for (_, name), nso in self.api.objects("/namespaces"):
            if not nso["metadata"].get("deletionTimestamp"):
                continue
            remaining = 0
            for rt in list(self.api.types()):
                if not rt.namespaced or not rt.storage:
                    continue
                with self.api.lock:
                    objs = [(k, o) for k, o in self.api.cache()[rt.skey].items() if k[0] == name]
                for (ons, oname), o in objs:
                    remaining += 1
                    if not o["metadata"].get("deletionTimestamp"):
                        self.api.delete_quietly("namespace-controller", rt, ons, oname)
            if remaining == 0 and (nso.get("spec") or {}).get("finalizers"):
                body = deep(nso)
                body["spec"]["finalizers"] = [f for f in body["spec"]["finalizers"] if f != "kubernetes"]
                try:
                    self.api.update(system_ctx("namespace-controller"), nrt, "", name, body, "finalize")
                except ApiError as e:
                    if e.code not in (404, 409):
                        raise


class ServiceAccounts(Actor):
    """The default ServiceAccount and the kube-root-ca.crt ConfigMap of every namespace."""
    name = "serviceaccount"

    def run(self):
        sart = self.api.lookup("", "v1", "serviceaccounts")
        cmrt = self.api.lookup("", "v1", "configmaps")
        for (_, name), nso in self.api.objects("/namespaces"):
            if nso["metadata"].get("deletionTimestamp"):
                continue
            with self.api.lock:
                has_sa = self.api.get("/serviceaccounts", name, "default") is not None
                has_cm = self.api.get("/configmaps", name, "kube-root-ca.crt") is not None
            try:
                if not has_sa:
                    self.api.create(system_ctx("service-account-controller"), sart, name, {
                        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})
                if not has_cm:
                    self.api.create(system_ctx("root-ca-cert-publisher"), cmrt, name, {
                        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                            "name": "kube-root-ca.crt",
                            "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to "
                                            "verify the kube-apiserver when using internal endpoints such as the "
                                            "internal service IP or kubernetes.default.svc. No other usage is "
                                            "guaranteed across distributions of Kubernetes clusters."}},
                        "data": {"ca.crt": self.api.ca_pem}})
            except ApiError as e:
                if e.code not in (409, 403, 404):
                    raise


class CRDCleanup(Actor):
    """Deletes the objects of a deleted CustomResourceDefinition, then its cleanup finalizer."""
    name = "crd-cleanup"

    def run(self):
        crt = self.api.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        for _, crd in self.api.objects("apiextensions.k8s.io/customresourcedefinitions"):
            m = crd["metadata"]
            if not m.get("deletionTimestamp") or CRD_CLEANUP_FINALIZER not in (m.get("finalizers") or []):
                continue
            spec = crd.get("spec") or {}
            skey = spec.get("group", "") + "/" + (spec.get("names") or {}).get("plural", "")
            rt = self.api.storage_type(skey)
            with self.api.lock:
                objs = list(self.api.cache()[skey].items())
            for (ns, name), o in objs:
                if rt is not None and not o["metadata"].get("deletionTimestamp"):
                    self.api.delete_quietly("apiextensions-controller", rt, ns, name)
            if not objs:
                self.api.set_finalizers("apiextensions-controller", crt, crd,
                                     [f for f in m.get("finalizers") or [] if f != CRD_CLEANUP_FINALIZER])
