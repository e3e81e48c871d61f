# loader: loads YAML/JSON documents (--load, POST /kube-sim/load) through the API as an admin would
# with kubectl apply (create, or update when the object exists).


from .context import Ctx
from .errors import ApiError
from .util import deep
from .yamlio import yaml_load_all


def load_documents(sim, text, ctx=None):
    ctx = ctx or Ctx("admin", ["system:masters", "system:authenticated"], "kube-sim-load")
    docs = []
    for d in yaml_load_all(text):
        if isinstance(d, dict) and d.get("kind") == "List":
            docs.extend(d.get("items") or [])
        elif isinstance(d, dict):
            docs.append(d)
    order = {"CustomResourceDefinition": 0, "Namespace": 1}
    docs.sort(key=lambda d: order.get(d.get("kind"), 2))
    results = []
    for d in docs:
        kind = d.get("kind", "")
        m = d.get("metadata") or {}
        res = {"kind": kind, "name": m.get("name", ""), "namespace": m.get("namespace", "")}
        rt = sim.registry.type_for_api_version(d.get("apiVersion", ""), kind)
        if rt is None:
            res["result"] = 'no matches for kind "%s" in version "%s"' % (kind, d.get("apiVersion"))
            results.append(res)
            continue
        ns = (m.get("namespace") or "default") if rt.namespaced else ""
        try:
            with sim.lock:
                existing = sim.store.get(rt.skey, ns, m.get("name", ""))
            if existing is None or not m.get("name"):
                sim.api.op_create(ctx, rt, ns, d)
                res["result"] = "created"
            else:
                body = deep(d)
                body.setdefault("metadata", {})["resourceVersion"] = existing["metadata"]["resourceVersion"]
                if rt.status and "status" in existing:
                    body["status"] = existing["status"]
                code, _ = sim.api.op_update(ctx, rt, ns, m["name"], body)
                res["result"] = "configured"
        except ApiError as e:
            res["result"] = "error"
            res["error"] = e.status.get("message")
        results.append(res)
    return results
