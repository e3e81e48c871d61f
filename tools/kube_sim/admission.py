# admission: the admission chain - webhook configurations (matching rules, selectors, policies),
# AdmissionReview requests and responses, patches, as kube-apiserver v1.24 mutating/validating admission.

import base64
import collections
import json
import threading
import time

from .errors import ApiError, cause_obj, details_obj, err_bad_request, err_internal, status_obj
from .patch import PatchError, json_patch
from .selectors import structured_selector_match
from .types import WEBHOOK_SKEYS
from .util import new_uid, now_ts
from .webhook_client import CallError, _http_status_text


class AdmissionChain:
    """Mutating then validating webhooks, from the configurations in the store, called exactly like
    kube-apiserver v1.24."""

    def __init__(self, store, registry, cluster):
        self.store = store
        self.registry = registry
        self.cluster = cluster      # the webhook client and the admission log

    def _webhook_configs(self, skey):
        with self.store.lock:
            cfgs = [o for _, o in sorted(self.store.objs[skey].items())]
        cfgs.sort(key=lambda o: o["metadata"]["name"])
        return cfgs

    def _rule_matches(self, rule, op, rt, sub):
        ops = rule.get("operations") or []
        if "*" not in ops and op not in ops:
            return False
        groups = rule.get("apiGroups") or []
        if "*" not in groups and rt.group not in groups:
            return False
        vers = rule.get("apiVersions") or []
        if "*" not in vers and rt.version not in vers:
            return False
        ok = False
        for r in rule.get("resources") or []:
            res, _, rsub = r.partition("/")
            if res != "*" and res != rt.plural:
                continue
            if not rsub:
                ok = ok or not sub
            elif rsub == "*":
                ok = True
            else:
                ok = ok or rsub == sub
        if not ok:
            return False
        scope = rule.get("scope") or "*"
        if scope == "Cluster" and rt.namespaced:
            return False
        if scope == "Namespaced" and not rt.namespaced:
            return False
        return True

    def _webhook_matches(self, wh, a):
        """Returns the RType the webhook registered for (Equivalent matching), or None."""
        rt, op, sub = a["rt"], a["op"], a["sub"]
        rules = wh.get("rules") or []
        target = None
        if any(self._rule_matches(r, op, rt, sub) for r in rules):
            target = rt
        elif (wh.get("matchPolicy") or "Equivalent") == "Equivalent":
            for other in self.registry.skey_types(rt.skey):
                if other is not rt and any(self._rule_matches(r, op, other, sub) for r in rules):
                    target = other
                    break
        if target is None:
            return None
        # namespaceSelector
        nsel = wh.get("namespaceSelector")
        if nsel:
            if rt.skey == "/namespaces":
                o = a.get("obj") or a.get("old") or {}
                if not structured_selector_match(nsel, (o.get("metadata") or {}).get("labels")):
                    return None
            elif rt.namespaced:
                with self.store.lock:
                    nso = self.store.get("/namespaces", "", a["ns"])
                labels = ((nso or {}).get("metadata") or {}).get("labels") or {}
                if not structured_selector_match(nsel, labels):
                    return None
        osel = wh.get("objectSelector")
        if osel and (osel.get("matchLabels") or osel.get("matchExpressions")):
            hit = False
            for o in (a.get("obj"), a.get("old")):
                if o is not None and structured_selector_match(osel, (o.get("metadata") or {}).get("labels")):
                    hit = True
            if not hit:
                return None
        return target

    def _review(self, wh, a, target, obj, old, mutating):
        rt = a["rt"]
        versions = wh.get("admissionReviewVersions") or ["v1"]
        api = "admission.k8s.io/v1" if "v1" in versions else "admission.k8s.io/v1beta1"

        def conv(o):
            if o is None or target is rt:
                return o
            o = dict(o)
            o["apiVersion"] = target.api_version
            return o
        req = collections.OrderedDict()
        req["uid"] = new_uid()
        req["kind"] = collections.OrderedDict([("group", target.group), ("version", target.version),
                                               ("kind", target.kind)])
        req["resource"] = collections.OrderedDict([("group", target.group), ("version", target.version),
                                                   ("resource", target.plural)])
        if a["sub"]:
            req["subResource"] = a["sub"]
        req["requestKind"] = collections.OrderedDict([("group", rt.group), ("version", rt.version),
                                                      ("kind", rt.kind)])
        req["requestResource"] = collections.OrderedDict([("group", rt.group), ("version", rt.version),
                                                          ("resource", rt.plural)])
        if a["sub"]:
            req["requestSubResource"] = a["sub"]
        if a["name"]:
            req["name"] = a["name"]
        if a["ns"]:
            req["namespace"] = a["ns"]
        req["operation"] = a["op"]
        req["userInfo"] = a["ctx"].user_info()
        req["object"] = conv(obj)
        req["oldObject"] = conv(old)
        req["dryRun"] = bool(a["dry"])
        req["options"] = a["options"]
        review = collections.OrderedDict([("kind", "AdmissionReview"), ("apiVersion", api), ("request", req)])
        return review, req["uid"], api

    def _call(self, wh, a, target, obj, old, mutating):
        """One webhook round trip. Returns the verified response dict; raises CallError."""
        review, uid, api = self._review(wh, a, target, obj, old, mutating)
        timeout = wh.get("timeoutSeconds") or 10
        body = json.dumps(review, separators=(",", ":")).encode()
        t0 = time.time()
        entry = {"time": now_ts(), "webhook": wh.get("name"), "mutating": mutating, "uid": uid,
                 "operation": a["op"], "resource": a["rt"].plural, "subResource": a["sub"] or "",
                 "namespace": a["ns"], "name": a["name"], "dryRun": bool(a["dry"])}
        try:
            code, data = self.cluster.webhooks.post(wh.get("clientConfig") or {}, int(timeout), body)
            if code < 200 or code > 299:
                raise CallError("failed to call webhook: " + _http_status_text(code, data))
            try:
                out = json.loads(data.decode("utf-8"))
            except ValueError as e:
                raise CallError("failed to call webhook: couldn't get version/kind; json parse error: %s" % e)
            if not isinstance(out, dict):
                raise CallError("failed to call webhook: couldn't get version/kind; json parse error: "
                                "json: cannot unmarshal array into Go value of type struct")
            resp = self._verify(out, uid, api, mutating)
            entry["allowed"] = bool(resp.get("allowed"))
            entry["result"] = "allowed" if resp.get("allowed") else "denied"
            return resp
        except CallError as e:
            msg = str(e)
            if not msg.startswith(("failed to call webhook", "received invalid")):
                msg = "failed to call webhook: " + msg
            entry["result"] = "error"
            entry["error"] = msg
            raise CallError(msg)
        finally:
            entry["seconds"] = round(time.time() - t0, 4)
            self.cluster.admission_log.append(entry)

    @staticmethod
    def _verify(out, uid, api, mutating):
        def bad(m):
            return CallError("received invalid webhook response: " + m)
        resp = out.get("response")
        if api == "admission.k8s.io/v1":
            if not isinstance(resp, dict):
                raise bad("webhook response was absent")
            if resp.get("uid", "") != uid:
                raise bad('expected response.uid="%s", got "%s"' % (uid, resp.get("uid", "")))
            av = out.get("apiVersion") or ""
            g, _, v = av.rpartition("/")
            if (av, out.get("kind")) != ("admission.k8s.io/v1", "AdmissionReview"):
                raise bad("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got %s/%s, Kind=%s"
                          % (g, v, out.get("kind") or ""))
        elif not isinstance(resp, dict):
            raise bad("webhook response was absent")
        patch, ptype = resp.get("patch"), resp.get("patchType")
        if patch and not ptype:
            raise bad("webhook returned response.patch but not response.patchType")
        if ptype and not patch:
            raise bad("webhook returned response.patchType but not response.patch")
        if "patchType" in resp and ptype == "" and not patch:
            raise bad('webhook returned invalid response.patchType of ""')
        if not mutating and patch:
            raise bad("validating webhook may not return response.patch")
        if not mutating and ptype:
            raise bad("validating webhook may not return response.patchType")
        return resp

    @staticmethod
    def _denial(name, st):
        """ToStatusErr."""
        st = st if isinstance(st, dict) else {}
        code = st.get("code") or 0
        if not isinstance(code, int) or code < 400:
            code = 400
        msg, reason = st.get("message") or "", st.get("reason") or ""
        denied = 'admission webhook "%s" denied the request' % name
        if msg:
            text = denied + ": " + msg
        elif reason:
            text = denied + ": " + reason
        else:
            text = denied + " without explanation"
        details = None
        d = st.get("details")
        if isinstance(d, dict):
            causes = []
            for c in d.get("causes") or []:
                if isinstance(c, dict):
                    causes.append(cause_obj(c.get("reason", ""), c.get("message", ""), c.get("field", "")))
            details = details_obj(d.get("name", ""), d.get("group", ""), d.get("kind", ""), d.get("uid", ""),
                                  causes or None, d.get("retryAfterSeconds"))
        s = status_obj(code, reason, text, details)
        return ApiError(s)

    def admit(self, ctx, a, obj, old):
        """Mutating phase. Returns the (possibly patched) object."""
        if a["rt"].skey in WEBHOOK_SKEYS:
            return obj
        a = dict(a, ctx=ctx)
        invoked = []
        for cfg in self._webhook_configs("admissionregistration.k8s.io/mutatingwebhookconfigurations"):
            for wh in cfg.get("webhooks") or []:
                a["obj"], a["old"] = obj, old
                obj, changed = self._run_mutating(ctx, wh, a, obj, old)
                invoked.append((wh, changed))
        # reinvocationPolicy: IfNeeded webhooks run once more when a later webhook changed the object
        last_change = max((i for i, (_, c) in enumerate(invoked) if c), default=-1)
        for i, (wh, _) in enumerate(invoked):
            if i < last_change and wh.get("reinvocationPolicy") == "IfNeeded":
                a["obj"], a["old"] = obj, old
                obj, _ = self._run_mutating(ctx, wh, a, obj, old)
        return obj

    def _run_mutating(self, ctx, wh, a, obj, old):
        target = self._webhook_matches(wh, a)
        if target is None:
            return obj, False
        if a["dry"] and wh.get("sideEffects") not in ("None", "NoneOnDryRun"):
            raise err_bad_request('admission webhook "%s" does not support dry run' % wh.get("name"))
        try:
            resp = self._call(wh, a, target, obj, old, True)
        except CallError as e:
            if (wh.get("failurePolicy") or "Fail") == "Ignore":
                return obj, False
            raise err_internal('failed calling webhook "%s": %s' % (wh.get("name"), e))
        for w in resp.get("warnings") or []:
            ctx.add_warning(w)
        if not resp.get("allowed"):
            raise self._denial(wh.get("name"), resp.get("status"))
        patch = resp.get("patch")
        if not patch:
            return obj, False
        try:
            raw = base64.b64decode(patch)
            ops = json.loads(raw)
        except Exception as e:
            err = "received undecodable patch in webhook response: %s" % e
            if (wh.get("failurePolicy") or "Fail") == "Ignore":
                return obj, False
            raise err_internal('failed calling webhook "%s": %s' % (wh.get("name"), err))
        if resp.get("patchType") != "JSONPatch":
            if (wh.get("failurePolicy") or "Fail") == "Ignore":
                return obj, False
            raise err_internal('failed calling webhook "%s": unsupported patch type "%s"' % (
                wh.get("name"), resp.get("patchType")))
        if obj is None:
            if ops:
                if (wh.get("failurePolicy") or "Fail") == "Ignore":
                    return obj, False
                raise err_internal('failed calling webhook "%s": admission webhook "%s" attempted to modify the '
                                   'object, which is not supported for this operation' % (wh.get("name"), wh.get("name")))
            return obj, False
        try:
            new = json_patch(obj, ops)
        except PatchError as e:
            raise err_internal(str(e))
        return new, new != obj

    def validate(self, ctx, a, obj, old):
        if a["rt"].skey in WEBHOOK_SKEYS:
            return
        a = dict(a, ctx=ctx, obj=obj, old=old)
        calls = []
        for cfg in self._webhook_configs("admissionregistration.k8s.io/validatingwebhookconfigurations"):
            for wh in cfg.get("webhooks") or []:
                target = self._webhook_matches(wh, a)
                if target is not None:
                    if a["dry"] and wh.get("sideEffects") not in ("None", "NoneOnDryRun"):
                        raise err_bad_request('admission webhook "%s" does not support dry run' % wh.get("name"))
                    calls.append((wh, target))
        if not calls:
            return
        results = [None] * len(calls)

        def run(i, wh, target):
            try:
                results[i] = ("ok", self._call(wh, a, target, obj, old, False))
            except CallError as e:
                results[i] = ("err", e)
            except Exception as e:   # pragma: no cover
                results[i] = ("err", CallError("failed to call webhook: %s" % e))
        threads = []
        for i, (wh, target) in enumerate(calls):
            t = threading.Thread(target=run, args=(i, wh, target), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        first = None
        for (wh, _), (kind, val) in zip(calls, results):
            if kind == "ok":
                for w in val.get("warnings") or []:
                    ctx.add_warning(w)
                if not val.get("allowed") and first is None:
                    first = self._denial(wh.get("name"), val.get("status"))
            elif (wh.get("failurePolicy") or "Fail") != "Ignore" and first is None:
                first = err_internal('failed calling webhook "%s": %s' % (wh.get("name"), val))
        if first is not None:
            raise first
