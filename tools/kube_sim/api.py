# api: the API verbs (get, list, create, update, patch, apply, delete, deletecollection, subresources)
# with resourceVersions, preconditions, finalizers and Status errors, as kube-apiserver's REST handlers.

import base64
import collections
import json

from .errors import (ApiError, DNS1123_LABEL, DNS1123_SUBDOMAIN, FieldErr, LABEL_MSG, MSG_MODIFIED, SUBDOMAIN_MSG, cause_obj,
    details_obj, err_already_exists, err_bad_request, err_conflict, err_expired, err_forbidden, err_invalid,
    err_not_found, qualified, status_obj)
from .managed import (_MISSING, _apply_merge, _del_path, _fs_full, _fs_union, _has_path, _leaf_paths, _value_at,
    managed_fields_update)
from .patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from .selectors import SelectorError, field_match, label_match, parse_field_selector, parse_label_selector
from .store import normalize_meta
from .types import PROTECTED_NS
from .util import deep, dumps, go_quote_list, meta, new_uid, now_ts, rand_suffix
from .yamlio import yaml_load_all


def _continue_token(rv, start):
    raw = json.dumps(collections.OrderedDict([("v", "meta.k8s.io/v1"), ("rv", rv), ("start", start)]),
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(tok):
    try:
        raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
        d = json.loads(raw)
        if d.get("v") != "meta.k8s.io/v1":
            raise ValueError("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        return int(d["rv"]), d.get("start", "")
    except Exception as e:
        raise err_bad_request("continue key is not valid: %s" % e)


def _spec_part(obj, rt):
    return {k: v for k, v in obj.items() if k not in ("metadata", "apiVersion", "kind") and
            not (rt.status and k == "status")}


class Api:
    """The verbs over the store: types default and validate, the admission chain admits, the registry
    says which versions share a storage key; the cluster holds the deny rules."""

    def __init__(self, store, registry, types, admission, cluster):
        self.store = store
        self.lock = store.lock
        self.registry = registry
        self.types = types
        self.admission = admission
        self.cluster = cluster

    # ---- helpers ------------------------------------------------------------

    def out_obj(self, rt, obj):
        if obj is not None and obj.get("apiVersion") != rt.api_version:
            obj = dict(obj)
            obj["apiVersion"] = rt.api_version
        return obj

    def authorize(self, ctx, verb, rt, ns, name, sub=""):
        res = rt.plural + ("/" + sub if sub else "")
        denied = ctx.user == "system:anonymous"
        for r in self.cluster.deny_rules:
            if r.get("user") not in (None, "*", ctx.user):
                continue
            if r.get("verb") not in (None, "*", verb):
                continue
            if r.get("resource") not in (None, "*", rt.plural, res):
                continue
            if r.get("group") not in (None, "*", rt.group):
                continue
            if r.get("namespace") not in (None, "*", ns or ""):
                continue
            denied = True
        if denied:
            where = ('in the namespace "%s"' % ns) if ns else "at the cluster scope"
            raise err_forbidden(rt.group, rt.plural, name, 'User "%s" cannot %s resource "%s" in API group "%s" %s'
                                % (ctx.user, verb, res, rt.group, where))

    def parse_fsel(self, rt, s):
        try:
            reqs = parse_field_selector(s)
        except SelectorError as e:
            raise err_bad_request(str(e))
        allowed = {"metadata.name", "metadata.namespace"} | set(rt.selectable)
        for f, _, _ in reqs:
            if f not in allowed:
                if rt.builtin:
                    raise err_bad_request('"%s" is not a known field selector: only "metadata.name", '
                                          '"metadata.namespace"' % f)
                raise err_bad_request("field label not supported: %s" % f)
        return reqs

    def parse_lsel(self, s):
        try:
            return parse_label_selector(s)
        except SelectorError as e:
            raise err_bad_request(str(e))

    def _key(self, rt, ns_scope, obj_ns, name):
        return (obj_ns + "/" + name) if (rt.namespaced and not ns_scope) else name

    def check_namespace(self, rt, ns, name=""):
        """The NamespaceLifecycle admission plugin (runs before the webhooks)."""
        if not rt.namespaced:
            return
        with self.lock:
            nso = self.store.get("/namespaces", "", ns)
        if nso is None:
            raise err_not_found("", "namespaces", ns)
        if nso["metadata"].get("deletionTimestamp"):
            q = qualified(rt.group, rt.plural)
            text = "unable to create new content in namespace %s because it is being terminated" % ns
            raise ApiError(status_obj(403, "Forbidden", ('%s "%s" is forbidden: %s' % (q, name, text)) if name
                                      else "%s is forbidden: %s" % (q, text),
                                      details_obj(name, rt.group, rt.plural, causes=[cause_obj(
                                          "NamespaceTerminating", "namespace %s is being terminated" % ns,
                                          "metadata.namespace")])))

    def options_obj(self, kind, ctx, body=None):
        o = collections.OrderedDict([("kind", kind), ("apiVersion", "meta.k8s.io/v1")])
        if kind == "DeleteOptions":
            for k, v in (body or {}).items():
                if k not in ("kind", "apiVersion"):
                    o[k] = v
            for k in ("gracePeriodSeconds", "propagationPolicy"):
                if ctx.q(k) is not None and k not in o:
                    o[k] = int(ctx.q(k)) if k == "gracePeriodSeconds" else ctx.q(k)
            if ctx.dry_run and "dryRun" not in o:
                o["dryRun"] = ctx.dry_list()
            return o
        if ctx.dry_run:
            o["dryRun"] = ctx.dry_list()
        if ctx.q("fieldManager"):
            o["fieldManager"] = ctx.q("fieldManager")
        if ctx.q("fieldValidation"):
            o["fieldValidation"] = ctx.q("fieldValidation")
        return o

    def check_dry_run(self, ctx):
        for v in ctx.dry_list():
            if v != "All":
                raise err_bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % v)

    # ---- reads --------------------------------------------------------------

    def op_get(self, ctx, rt, ns, name):
        with self.lock:
            obj = self.store.get(rt.skey, ns, name)
        if obj is None:
            raise err_not_found(rt.group, rt.plural, name)
        return self.out_obj(rt, obj)

    def op_list(self, ctx, rt, ns):
        lsel = self.parse_lsel(ctx.q("labelSelector", ""))
        fsel = self.parse_fsel(rt, ctx.q("fieldSelector", ""))
        try:
            limit = int(ctx.q("limit") or 0)
        except ValueError:
            raise err_bad_request("limit: Invalid value")
        cont, rvq, match = ctx.q("continue"), ctx.q("resourceVersion"), ctx.q("resourceVersionMatch")
        start = ""
        with self.lock:
            cur = self.store.rv
            if cont:
                rv, start = _decode_continue(cont)
                if rv == -1:
                    state, read_rv = dict(self.store.objs[rt.skey]), cur
                elif rv < self.store.window_base:
                    raise err_expired(
                        "The provided continue parameter is too old to display a consistent list result. You can "
                        "start a new list without the continue parameter, or use the continue token in this "
                        "response to retrieve the remainder of the results. Continuing with the provided token "
                        "results in an inconsistent list - objects that were created, modified, or deleted between "
                        "the time the first chunk was returned and now may show up in the list.",
                        meta={"continue": _continue_token(-1, start)})
                else:
                    state, read_rv = self.store.state_at(rt.skey, rv), rv
            elif rvq and match == "Exact":
                try:
                    n = int(rvq)
                except ValueError:
                    raise err_bad_request("resourceVersion: Invalid value: \"%s\"" % rvq)
                if n < self.store.window_base:
                    raise err_expired("The resourceVersion for the provided list is too old.")
                state, read_rv = self.store.state_at(rt.skey, min(n, cur)), min(n, cur)
            else:
                if match and not rvq:
                    raise err_bad_request("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
                                          "unless resourceVersion is provided")
                state, read_rv = dict(self.store.objs[rt.skey]), cur
                if rvq == "0" and not match:
                    limit = 0
        rows = []
        for (ons, name), obj in state.items():
            if obj is None or (ns and ons != ns):
                continue
            m = obj.get("metadata") or {}
            if not label_match(lsel, m.get("labels")) or not field_match(fsel, obj):
                continue
            rows.append((self._key(rt, ns, ons, name), obj))
        rows.sort(key=lambda r: r[0])
        if start:
            rows = [r for r in rows if r[0] >= start]
        meta_out = collections.OrderedDict()
        if limit and len(rows) > limit:
            page, rest = rows[:limit], rows[limit:]
            meta_out["continue"] = _continue_token(read_rv, page[-1][0] + "\x00")
            if not lsel and not fsel:
                meta_out["remainingItemCount"] = len(rest)
        else:
            page = rows
            if not rt.builtin:
                meta_out["continue"] = ""
        meta_out["resourceVersion"] = str(read_rv)
        items = [self.out_obj(rt, o) for _, o in page]
        if rt.builtin:
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
            return collections.OrderedDict([("kind", rt.list_kind), ("apiVersion", rt.api_version),
                                            ("metadata", meta_out), ("items", items)])
        return {"apiVersion": rt.api_version, "items": items, "kind": rt.list_kind, "metadata": meta_out}

    # ---- create -------------------------------------------------------------

    def _check_body(self, rt, obj, ns, name=None):
        if not isinstance(obj, dict):
            raise err_bad_request("the object provided is unrecognized (must be of type %s)" % rt.kind)
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if kind is None and not rt.builtin:
            raise err_bad_request("Object 'Kind' is missing in '%s'" % dumps(obj)[:200])
        if kind and kind != rt.kind:
            raise err_bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                                  % (av, rt.api_version) if av != rt.api_version else
                                  "%s in version \"%s\" cannot be handled as a %s: no kind \"%s\" is registered "
                                  "for version \"%s\"" % (rt.kind, rt.version, rt.kind, kind, av))
        if av and av != rt.api_version:
            if not any(t.api_version == av for t in self.registry.skey_types(rt.skey)):
                raise err_bad_request("the API version in the data (%s) does not match the expected API version "
                                      "(%s)" % (av, rt.api_version))
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        m = meta(obj)
        if rt.namespaced:
            if m.get("namespace") and m["namespace"] != ns:
                raise err_bad_request("the namespace of the provided object does not match the namespace sent on "
                                      "the request")
            m["namespace"] = ns
        else:
            m.pop("namespace", None)
        if name is not None:
            if m.get("name") and m["name"] != name:
                raise err_bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                      % (m["name"], name))
            m["name"] = name
        return obj

    def _validate_name(self, rt, obj, errs):
        m = obj["metadata"]
        name = m.get("name")
        if not name:
            errs.append(FieldErr("Required", "metadata.name", "name or generateName is required"))
            return
        rx, msg = (DNS1123_LABEL, LABEL_MSG) if rt.skey == "/namespaces" else (DNS1123_SUBDOMAIN, SUBDOMAIN_MSG)
        if rt.skey in ("/events",):
            return
        if not rx.match(name) or len(name) > (63 if rt.skey == "/namespaces" else 253):
            errs.append(FieldErr("Invalid", "metadata.name", msg, name, True))

    def op_create(self, ctx, rt, ns, body, internal=False, apply_cfg=None):
        self.check_dry_run(ctx)
        obj = self._check_body(rt, deep(body), ns)
        normalize_meta(obj)
        self.check_namespace(rt, ns, obj["metadata"].get("name", ""))
        m = obj["metadata"]
        if m.get("resourceVersion"):
            raise err_bad_request("resourceVersion should not be set on objects to be created")
        for k in ("uid", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            m.pop(k, None)
        reset = "status" if rt.status else None
        m.pop("managedFields", None)
        if apply_cfg is not None:
            m["managedFields"] = managed_fields_update(None, obj, ctx.q("fieldManager"), "Apply", rt.api_version,
                                                       None, reset, applied=apply_cfg)
        else:
            m["managedFields"] = managed_fields_update(None, obj, ctx.manager(), "Update", rt.api_version, None,
                                                       reset)
        if not m["managedFields"]:
            del m["managedFields"]
        m["creationTimestamp"] = None
        a = {"rt": rt, "op": "CREATE", "sub": "", "name": m.get("name", ""), "ns": ns,
             "options": self.options_obj("CreateOptions", ctx), "dry": ctx.dry_run}
        obj = self.admission.admit(ctx, a, obj, None)
        obj = self._check_body(rt, obj, ns)
        m = obj["metadata"]
        # BeforeCreate
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + rand_suffix()
        m["uid"] = new_uid()
        m["creationTimestamp"] = now_ts()
        m.pop("deletionTimestamp", None)
        m.pop("resourceVersion", None)
        if rt.generation:
            m["generation"] = 1
        else:
            m.pop("generation", None)
        if rt.status and not rt.builtin:
            obj.pop("status", None)
        errs = []
        self._validate_name(rt, obj, errs)
        self.types.prepare_create(ctx, rt, obj, errs)
        normalize_meta(obj)
        if errs:
            raise err_invalid(rt.kind, rt.group, m.get("name", ""), errs)
        a["name"] = m["name"]
        self.admission.validate(ctx, a, obj, None)
        with self.lock:
            if self.store.get(rt.skey, ns, m["name"]) is not None:
                if m.get("generateName") and not body.get("metadata", {}).get("name"):
                    raise ApiError(status_obj(409, "AlreadyExists", '%s "%s" already exists, the server was not '
                                              'able to generate a unique name for the object' % (
                                                  qualified(rt.group, rt.plural), m["name"]),
                                              details_obj(m["name"], rt.group, rt.plural, retry=1)))
                raise err_already_exists(rt.group, rt.plural, m["name"])
            if ctx.dry_run:
                return 201, self.out_obj(rt, obj)
            stored = self.store.commit(rt.skey, "ADDED", ns, m["name"], self._to_storage(rt, obj), None)
            self.types.after_commit(rt, "ADDED", stored, None)
        return 201, self.out_obj(rt, stored)

    def _to_storage(self, rt, obj):
        st = self.registry.storage_type(rt.skey)
        if st is not None and st.api_version != obj.get("apiVersion"):
            obj = dict(obj)
            obj["apiVersion"] = st.api_version
        return obj

    # ---- update / patch -----------------------------------------------------

    def op_update(self, ctx, rt, ns, name, body, sub=""):
        self.check_dry_run(ctx)
        obj = self._check_body(rt, deep(body), ns, name)
        require_rv = not rt.builtin and sub == ""
        return self._update_core(ctx, rt, ns, name, lambda existing: obj, sub, require_rv=require_rv)

    def op_patch(self, ctx, rt, ns, name, ctype, raw, sub=""):
        self.check_dry_run(ctx)
        ctype = (ctype or "").split(";")[0].strip().lower()
        accepted = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
        if rt.builtin:
            accepted.append("application/strategic-merge-patch+json")
        if ctype not in accepted:
            raise ApiError(status_obj(415, "UnsupportedMediaType", "the body of the request was in an unknown format "
                                      "- accepted media types include: " + ", ".join(accepted)))
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if ctype == "application/apply-patch+yaml":
            return self._apply(ctx, rt, ns, name, text, sub)
        try:
            patch = json.loads(text)
        except ValueError as e:
            raise err_bad_request("error decoding patch: %s" % e)

        def mk(existing):
            cur = self.out_obj(rt, existing)
            if ctype == "application/json-patch+json":
                try:
                    return json_patch(cur, patch)
                except PatchError:
                    raise ApiError(status_obj(422, "Invalid", "the server rejected our request due to an error in "
                                              "our request", details_obj()))
            if ctype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise ApiError(status_obj(422, "Invalid", "the server rejected our request due to an error "
                                              "in our request", details_obj()))
                return merge_patch(cur, patch)
            return strategic_merge_patch(cur, patch)
        return self._update_core(ctx, rt, ns, name, mk, sub, patching=True)

    def _apply(self, ctx, rt, ns, name, text, sub):
        if not ctx.q("fieldManager"):
            raise err_invalid("PatchOptions", "meta.k8s.io", "", [FieldErr(
                "Required", "fieldManager", "is required for apply patch")])
        try:
            docs = yaml_load_all(text)
        except Exception as e:
            raise err_bad_request("error decoding YAML: %s" % e)
        applied = docs[0] if docs else {}
        if not isinstance(applied, dict):
            raise err_bad_request("error decoding YAML: not an object")
        with self.lock:
            existing = self.store.get(rt.skey, ns, name)
        if existing is None:
            if sub:
                raise err_not_found(rt.group, rt.plural, name)
            obj = self._check_body(rt, deep(applied), ns, name)
            return self.op_create(ctx, rt, ns, obj, apply_cfg=applied)
        force = (ctx.q("force") or "").lower() in ("true", "1")
        mgr = ctx.q("fieldManager")
        conflicts = []
        if not force:
            for e in (existing.get("metadata") or {}).get("managedFields") or []:
                if e.get("manager") == mgr:
                    continue
                for path in _leaf_paths(e.get("fieldsV1") or {}):
                    av = _value_at(applied, path)
                    if av is not _MISSING and av != _value_at(existing, path):
                        conflicts.append((e.get("manager"), e.get("apiVersion"), path))
        if conflicts:
            parts = []
            for mg, av, path in conflicts:
                who = 'conflict with "%s"' % mg + (" using %s" % av if av != rt.api_version else "")
                parts.append((who, "." + ".".join(p[2:] for p in path)))
            n = len(parts)
            if n == 1:
                msg = "Apply failed with 1 conflict: %s: %s" % parts[0]
            else:
                msg = "Apply failed with %d conflicts: %s" % (n, ", ".join("%s: %s" % p for p in parts))
            raise ApiError(status_obj(409, "Conflict", msg, details_obj(causes=[
                cause_obj("FieldManagerConflict", w, f) for w, f in parts])))

        def mk(ex):
            cur = self.out_obj(rt, ex)
            prev = None
            for e in (ex.get("metadata") or {}).get("managedFields") or []:
                if e.get("manager") == mgr and e.get("operation") == "Apply":
                    prev = e.get("fieldsV1")
            merged = _apply_merge(cur, applied)
            if prev:
                now = _fs_full(applied, ())
                others = {}
                for e in (ex.get("metadata") or {}).get("managedFields") or []:
                    if not (e.get("manager") == mgr and e.get("operation") == "Apply"):
                        others = _fs_union(others, e.get("fieldsV1") or {})
                for path in _leaf_paths(prev):
                    if _has_path(now, path) or _has_path(others, path):
                        continue
                    _del_path(merged, path)
            return merged
        return self._update_core(ctx, rt, ns, name, mk, sub, apply_cfg=applied)

    def _update_core(self, ctx, rt, ns, name, mk, sub, require_rv=False, patching=False, apply_cfg=None):
        with self.lock:
            existing = self.store.get(rt.skey, ns, name)
        if existing is None:
            raise err_not_found(rt.group, rt.plural, name)
        req = mk(deep(existing))
        if not isinstance(req, dict):
            raise ApiError(status_obj(422, "Invalid", "the server rejected our request due to an error in our "
                                      "request", details_obj()))
        req = self._check_body(rt, req, ns, name)
        normalize_meta(req)
        m = req["metadata"]
        em = existing["metadata"]
        reset = ("spec" if sub == "status" else ("status" if rt.status else None))
        op_kind = "Apply" if apply_cfg is not None else "Update"
        mf = managed_fields_update(existing, req, ctx.manager() if apply_cfg is None else ctx.q("fieldManager"),
                                   op_kind, rt.api_version, sub if sub == "status" else None, reset,
                                   applied=apply_cfg)
        if mf:
            m["managedFields"] = mf
        else:
            m.pop("managedFields", None)
        if not m.get("uid"):
            m["uid"] = em.get("uid")
        elif m["uid"] != em.get("uid"):
            raise err_conflict(rt.group, rt.plural, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (m["uid"], em.get("uid")))
        a = {"rt": rt, "op": "UPDATE", "sub": sub, "name": name, "ns": ns,
             "options": self.options_obj("UpdateOptions", ctx), "dry": ctx.dry_run}
        new = self.admission.admit(ctx, a, req, self.out_obj(rt, existing))
        new = self._check_body(rt, new, ns, name)
        normalize_meta(new)
        m = new["metadata"]
        rv = m.get("resourceVersion")
        if rv is None or rv == "":
            if require_rv:
                raise err_invalid(rt.kind, rt.group, name, [FieldErr(
                    "Invalid", "metadata.resourceVersion", "must be specified for an update", "0x0", True)])
        elif rv != em.get("resourceVersion"):
            raise err_conflict(rt.group, rt.plural, name, MSG_MODIFIED)
        # BeforeUpdate: strategy
        if sub == "status":
            final = deep(self.out_obj(rt, existing))
            if "status" in new:
                final["status"] = new["status"]
            else:
                final.pop("status", None)
            final["metadata"]["managedFields"] = m.get("managedFields") or []
            normalize_meta(final)
        elif sub == "finalize":
            final = deep(self.out_obj(rt, existing))
            final.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get("finalizers") or []
            if not final["spec"]["finalizers"]:
                final["spec"].pop("finalizers")
        else:
            final = new
            if rt.status:
                if "status" in existing:
                    final["status"] = deep(existing["status"])
                else:
                    final.pop("status", None)
        fm = final["metadata"]
        for k in ("creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "uid"):
            if em.get(k) is not None:
                fm[k] = em[k]
            else:
                fm.pop(k, None)
        if rt.generation:
            gen = em.get("generation") or 1
            if sub == "" and _spec_part(final, rt) != _spec_part(self.out_obj(rt, existing), rt):
                gen += 1
            fm["generation"] = gen
        else:
            fm.pop("generation", None)
        fm["resourceVersion"] = em.get("resourceVersion")
        errs = []
        if em.get("deletionTimestamp"):
            added = [f for f in fm.get("finalizers") or [] if f not in (em.get("finalizers") or [])]
            if added:
                e = FieldErr("Forbidden", "metadata.finalizers", "no new finalizers can be added if the object is "
                             "being deleted, found new finalizers " + go_quote_list(added))
                errs.extend([e, e] if not rt.builtin else [e])
        self.types.prepare_update(ctx, rt, final, existing, errs, sub)
        normalize_meta(final)
        if errs:
            raise err_invalid(rt.kind, rt.group, name, errs)
        self.admission.validate(ctx, a, final, self.out_obj(rt, existing))
        with self.lock:
            cur = self.store.get(rt.skey, ns, name)
            if cur is None:
                raise err_not_found(rt.group, rt.plural, name)
            if cur["metadata"].get("resourceVersion") != em.get("resourceVersion"):
                if rv:
                    raise err_conflict(rt.group, rt.plural, name, MSG_MODIFIED)
                # unconditional write raced with another writer: redo on the new state
                return self._update_core(ctx, rt, ns, name, mk, sub, require_rv, patching, apply_cfg)
            stored_form = self._to_storage(rt, final)
            if stored_form == existing:
                return 200, self.out_obj(rt, existing)
            if ctx.dry_run:
                return 200, self.out_obj(rt, final)
            if fm.get("deletionTimestamp") and not fm.get("finalizers") and not (
                    rt.skey == "/namespaces" and (final.get("spec") or {}).get("finalizers")):
                self.store.commit(rt.skey, "DELETED", ns, name, stored_form, existing)
                self.types.after_commit(rt, "DELETED", stored_form, existing)
                return 200, self.out_obj(rt, final)
            stored = self.store.commit(rt.skey, "MODIFIED", ns, name, stored_form, existing)
            self.types.after_commit(rt, "MODIFIED", stored, existing)
        return 200, self.out_obj(rt, stored)

    # ---- delete -------------------------------------------------------------

    def op_delete(self, ctx, rt, ns, name, body=None):
        self.check_dry_run(ctx)
        opts = body if isinstance(body, dict) else {}
        if body is not None and not isinstance(body, dict):
            raise err_bad_request("the body of the request was in an unknown format")
        for v in opts.get("dryRun") or []:
            if v != "All":
                raise err_bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % v)
        dry = ctx.dry_run or bool(opts.get("dryRun"))
        with self.lock:
            existing = self.store.get(rt.skey, ns, name)
        if existing is None:
            raise err_not_found(rt.group, rt.plural, name)
        em = existing["metadata"]
        pre = opts.get("preconditions") or {}
        kq = qualified(rt.group, rt.kind)
        if pre.get("uid") and pre["uid"] != em.get("uid"):
            raise ApiError(status_obj(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the UID in the '
                                      'precondition (%s) does not match the UID in record (%s). The object might '
                                      'have been deleted and then recreated' % (kq, name, pre["uid"], em.get("uid")),
                                      details_obj(name, rt.group, rt.kind)))
        if pre.get("resourceVersion") and pre["resourceVersion"] != em.get("resourceVersion"):
            raise ApiError(status_obj(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the '
                                      'ResourceVersion in the precondition (%s) does not match the ResourceVersion '
                                      'in record (%s). The object might have been modified' % (
                                          kq, name, pre["resourceVersion"], em.get("resourceVersion")),
                                      details_obj(name, rt.group, rt.kind)))
        if rt.skey == "/namespaces" and name in PROTECTED_NS:
            raise err_forbidden("", "namespaces", name, "this namespace may not be deleted")
        policy = opts.get("propagationPolicy") or ctx.q("propagationPolicy")
        if opts.get("orphanDependents") is True and not policy:
            policy = "Orphan"
        a = {"rt": rt, "op": "DELETE", "sub": "", "name": name, "ns": ns,
             "options": self.options_obj("DeleteOptions", ctx, opts), "dry": dry}
        if dry:
            a["options"].setdefault("dryRun", ["All"])
        old_out = self.out_obj(rt, existing)
        fins = list(em.get("finalizers") or [])
        new = deep(old_out)
        nm = new["metadata"]
        if not em.get("deletionTimestamp"):
            if policy == "Foreground" and "foregroundDeletion" not in fins and self._has_dependents(em.get("uid")):
                fins.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in fins and self._has_dependents(em.get("uid")):
                fins.append("orphan")
        ns_pending = rt.skey == "/namespaces" and (existing.get("spec") or {}).get("finalizers")
        if fins or ns_pending:
            if not em.get("deletionTimestamp"):
                if nm.get("generation"):
                    nm["generation"] += 1
                nm["deletionTimestamp"] = now_ts()
                nm["deletionGracePeriodSeconds"] = 0
                if fins:
                    nm["finalizers"] = fins
                if rt.skey == "/namespaces":
                    new.setdefault("status", {})["phase"] = "Terminating"
            self.admission.admit(ctx, a, None, old_out)
            self.admission.validate(ctx, a, None, old_out)
            if new == old_out:
                return 200, old_out
            if dry:
                return 200, new
            stored = self._commit_if_unchanged(rt, ns, name, "MODIFIED", self._to_storage(rt, new), existing)
            if stored is None:
                return self.op_delete(ctx, rt, ns, name, body)
            return 200, self.out_obj(rt, stored)
        self.admission.admit(ctx, a, None, old_out)
        self.admission.validate(ctx, a, None, old_out)
        st = status_obj(0, details=details_obj(name, rt.group, rt.plural, em.get("uid")), success=True)
        st.pop("code", None)
        if dry:
            return 200, st
        if self._commit_if_unchanged(rt, ns, name, "DELETED", existing, existing) is None:
            return self.op_delete(ctx, rt, ns, name, body)
        return 200, st

    def _commit_if_unchanged(self, rt, ns, name, typ, obj, existing):
        """Commits typ of obj for ns/name when the stored object is still existing (same
        resourceVersion): the committed object, or None when it changed since (the caller starts
        over); 404 when gone."""
        with self.lock:
            cur = self.store.get(rt.skey, ns, name)
            if cur is None:
                raise err_not_found(rt.group, rt.plural, name)
            if cur["metadata"].get("resourceVersion") != existing["metadata"].get("resourceVersion"):
                return None
            stored = self.store.commit(rt.skey, typ, ns, name, obj, existing)
            self.types.after_commit(rt, typ, stored, existing)
            return stored

    def op_delete_collection(self, ctx, rt, ns, body=None):
        lst = self.op_list(ctx, rt, ns)
        deleted = []
        for it in lst["items"]:
            m = it["metadata"]
            try:
                code, out = self.op_delete(ctx, rt, m.get("namespace", ""), m["name"], body)
                with self.lock:
                    o = self.store.get(rt.skey, m.get("namespace", ""), m["name"])
                deleted.append(self.out_obj(rt, o) if o is not None else it)
            except ApiError as e:
                if e.code != 404:
                    raise
        lst = dict(lst)
        lst["items"] = deleted
        return 200, lst

    def _has_dependents(self, uid):
        with self.lock:
            for objs in self.store.objs.values():
                for o in objs.values():
                    for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
                        if ref.get("uid") == uid:
                            return True
        return False
