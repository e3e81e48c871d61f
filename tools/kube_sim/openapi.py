# openapi: the /openapi/v3 documents kube-apiserver publishes, reduced to what kubectl reads.
from .util import SERVER_VERSION


def openapi_v3_docs(types):
    """{group-version path: OpenAPI v3 document} for the served types (a list of RType)."""
    docs = {}
    for rt in types:
        gv = ("api/" + rt.version) if not rt.group else "apis/%s/%s" % (rt.group, rt.version)
        doc = docs.setdefault(gv, {"openapi": "3.0.0", "info": {"title": "Kubernetes",
                                                                "version": SERVER_VERSION["gitVersion"]},
                                   "paths": {}})
        base = "/" + gv + ("/namespaces/{namespace}" if rt.namespaced else "") + "/" + rt.plural + "/{name}"
        gvk = [{"group": rt.group, "version": rt.version, "kind": rt.kind}]
        params = [{"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "fieldValidation", "in": "query",
                   "description": "fieldValidation instructs the server on how to handle objects in the "
                   "request (POST/PUT/PATCH) containing unknown or duplicate fields.",
                   "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}}]
        for p in [base] + ([base + "/status"] if rt.status else []):
            doc["paths"][p] = {"patch": {"operationId": "patch" + rt.kind, "parameters": params,
                                         "responses": {"200": {"description": "OK"}},
                                         "x-kubernetes-action": "patch",
                                         "x-kubernetes-group-version-kind": gvk[0]}}
    return docs
