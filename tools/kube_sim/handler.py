# handler: the HTTP layer - routing of /api and /apis paths, content negotiation, chunked watch
# streams, authentication, the /kube-sim/ admin endpoints, as kube-apiserver's handler chain.

import collections
import hashlib
import http.server
import json
import random
import re
import socket
import ssl
import sys
import time
import traceback
import urllib.parse

from .context import Ctx, warning_headers
from .errors import (ApiError, cause_obj, details_obj, err_bad_request, err_internal, err_method_not_allowed,
    err_not_acceptable, status_obj)
from .loader import load_documents
from .pki import kubeconfig_text
from .openapi import openapi_v3_docs
from .protobuf import decode_k8s_protobuf
from .tables import to_table
from .types import RType
from .util import CHUNK, SERVER_VERSION, _varint, dumps, log, new_uid, now_ts
from .watch import Watcher
from .yamlio import yaml_load_all


# ---------------------------------------------------------------------------
# HTTP layer

PF_FLOW = new_uid()
PF_LEVEL = new_uid()
PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/version/")


def canon(o):
    """Stored objects are emitted with sorted keys (as Go emits unstructured maps); wrappers built as
    OrderedDict keep kube-apiserver's struct field order."""
    if isinstance(o, collections.OrderedDict):
        return collections.OrderedDict((k, canon(v)) for k, v in o.items())
    if isinstance(o, dict):
        return {k: canon(o[k]) for k in sorted(o)}
    if isinstance(o, list):
        return [canon(x) for x in o]
    return o


def negotiate(accept):
    """-> ("json"|"table"|"pom", version) or (None, None) when nothing acceptable."""
    if not accept:
        return "json", None
    for part in accept.split(","):
        params = [p.strip() for p in part.split(";")]
        mt = params[0].lower()
        kv = {}
        for p in params[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                kv[k.strip()] = v.strip()
        if mt not in ("application/json", "*/*", "application/*", "application/yaml", "application/json-seq"):
            continue
        as_ = kv.get("as")
        if not as_:
            return "json", None
        if as_ == "Table" and kv.get("g") == "meta.k8s.io" and kv.get("v") in ("v1", "v1beta1"):
            return "table", kv["v"]
        if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList") and kv.get("g") == "meta.k8s.io" and \
                kv.get("v") in ("v1", "v1beta1"):
            return "pom", kv["v"]
    return None, None


def pack_replay(lines, size=CHUNK):
    """Chunks for events replayed at watch start: kube-apiserver writes them through a 2048-byte
    bufio.Writer and flushes once the backlog is empty, so chunks are 2048 bytes and split events
    mid-JSON; a write larger than the buffer while it is empty goes out as one chunk."""
    out, buf = [], bytearray()
    for p in lines:
        while len(p) > size - len(buf):
            if not buf:
                out.append(bytes(p))
                p = b""
                break
            n = size - len(buf)
            buf += p[:n]
            out.append(bytes(buf))
            buf.clear()
            p = p[n:]
        buf += p
    if buf:
        out.append(bytes(buf))
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim = None
    opts = None

    def log_message(self, fmt, *args):
        if self.opts and self.opts.log_requests:
            log("%s %s" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.handle_req("GET")

    def do_POST(self):
        self.handle_req("POST")

    def do_PUT(self):
        self.handle_req("PUT")

    def do_PATCH(self):
        self.handle_req("PATCH")

    def do_DELETE(self):
        self.handle_req("DELETE")

    # ---- output ---------------------------------------------------------------

    def _headers(self, code, ctype, extra=(), pf=True):
        self.send_response_only(code)  # no Server/Date headers, as in the fixtures
        self.log_request(code)  # send_response_only skips it: --log-requests logged nothing
        self.send_header("Audit-Id", self.audit_id)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        if pf:
            self.send_header("X-Kubernetes-Pf-Flowschema-Uid", PF_FLOW)
            self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", PF_LEVEL)
        self.send_header("Date", self.date_time_string())

    def send_body(self, code, body, ctype="application/json", extra=(), pf=True):
        self._headers(code, ctype, extra, pf)
        if len(body) > CHUNK:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def send_obj(self, code, obj, pretty=None):
        if pretty is None:
            pretty = self.pretty
        body = (dumps(canon(obj), pretty) + ("" if pretty else "\n")).encode()
        extra = [("Warning", w) for w in warning_headers(self.ctx.warnings if self.ctx else [])]
        if self.yaml_out:
            self.send_body(code, body, "application/yaml", extra)
        else:
            self.send_body(code, body, "application/json", extra, pf=code != 401)

    def send_error_status(self, e):
        st = e.status
        extra = [("Warning", w) for w in warning_headers(self.ctx.warnings if self.ctx else [])]
        if e.code == 403 and self.ctx and self.ctx.user == "system:anonymous":
            extra.append(("X-Content-Type-Options", "nosniff"))
        pretty = self.pretty or e.code == 406
        body = (dumps(canon(st), pretty) + ("" if pretty else "\n")).encode()
        self.send_body(e.code, body, "application/json", extra, pf=e.code != 401)

    def send_text(self, code, text):
        body = text.encode()
        self._headers(code, "text/plain; charset=utf-8", [("X-Content-Type-Options", "nosniff")])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    # ---- request handling -------------------------------------------------------

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            return self.rfile.read(n)
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";")[0], 16) if line else 0
                if size == 0:
                    self.rfile.readline()
                    break
                out += self.rfile.read(size)
                self.rfile.readline()
            return out
        return b""

    def authenticate(self):
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            tok = auth[7:].strip()
            u = self.sim.cluster.tokens.get(tok)
            if u is None:
                raise ApiError(status_obj(401, "Unauthorized", "Unauthorized"))
            groups = list(u.get("groups") or [])
            if "system:authenticated" not in groups:
                groups.append("system:authenticated")
            return Ctx(u["user"], groups, self.headers.get("User-Agent", ""), self.query, uid=u.get("uid", ""))
        try:
            cert = self.connection.getpeercert()
        except Exception:
            cert = None
        if cert:
            cn, orgs = "", []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            return Ctx(cn, orgs + ["system:authenticated"], self.headers.get("User-Agent", ""), self.query)
        if not self.opts.anonymous:
            raise ApiError(status_obj(401, "Unauthorized", "Unauthorized"))
        return Ctx("system:anonymous", ["system:unauthenticated"], self.headers.get("User-Agent", ""), self.query)

    def handle_req(self, method):
        self.audit_id = new_uid()
        self.ctx = None
        self.yaml_out = False
        u = urllib.parse.urlsplit(self.path)
        self.url_path = u.path
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        ua = self.headers.get("User-Agent") or ""
        self.pretty = ua.startswith("curl/") or (self.query.get("pretty") or [""])[-1] in ("true", "1")
        try:
            body = self.read_body()
            self.ctx = self.authenticate()
            if self.ctx.user == "system:anonymous" and self.url_path not in PUBLIC_PATHS and \
                    not self._is_resource_path():
                raise ApiError(status_obj(403, "Forbidden", 'forbidden: User "system:anonymous" cannot %s path "%s"'
                                          % (method.lower(), self.url_path), details_obj()))
            if self.url_path.startswith("/kube-sim/"):
                if self.ctx.user == "system:anonymous":
                    raise ApiError(status_obj(403, "Forbidden", 'forbidden: User "system:anonymous" cannot %s path '
                                              '"%s"' % (method.lower(), self.url_path), details_obj()))
                return self.admin(method, body)
            self.apply_faults(method, body)
            self.route(method, body)
        except ApiError as e:
            self.send_error_status(e)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception:
            log("internal error on %s %s:\n%s" % (method, self.path, traceback.format_exc()))
            try:
                self.send_error_status(err_internal("kube-sim: %s" % sys.exc_info()[1]))
            except Exception:
                self.close_connection = True

    def _is_resource_path(self):
        p = self.url_path.strip("/").split("/")
        return (len(p) >= 3 and p[0] == "api") or (len(p) >= 4 and p[0] == "apis")

    def apply_faults(self, method, body):
        hit = None
        text = body.decode("utf-8", "replace") if body else ""
        with self.sim.lock:
            for f in self.sim.cluster.faults:
                if f.get("method") not in (None, "", "*", method):
                    continue
                if f.get("pathRegex") and not re.search(f["pathRegex"], self.path):
                    continue
                # one write among several to the same path (the status that says complete: true)
                if f.get("bodyRegex") and not re.search(f["bodyRegex"], text):
                    continue
                if f.get("count") is not None:
                    if f["count"] <= 0:
                        continue
                    f["count"] -= 1
                hit = dict(f)
                break
            self.sim.cluster.faults = [f for f in self.sim.cluster.faults if f.get("count") is None or f["count"] > 0]
        if hit is None:
            return
        if hit.get("delaySeconds"):
            time.sleep(float(hit["delaySeconds"]))
        if hit.get("code"):
            code = int(hit["code"])
            if hit.get("close"):
                self.close_connection = True
                raise ConnectionResetError()
            raise ApiError(status_obj(code, hit.get("reason", ""), hit.get("message", "injected fault"),
                                      details_obj(retry=hit.get("retryAfterSeconds")) if hit.get(
                                          "retryAfterSeconds") else None))
        if hit.get("close"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError()

    # ---- routing -----------------------------------------------------------------

    def route(self, method, body):
        sim = self.sim
        path = self.url_path
        accept = self.headers.get("Accept") or ""
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            return self.send_text(200, "ok")
        if path in ("/version", "/version/"):
            return self.send_obj(200, collections.OrderedDict(SERVER_VERSION))
        if path.startswith("/openapi/") or path == "/openapi":
            return self.serve_openapi(path, accept)
        if not parts or parts[0] not in ("api", "apis"):
            return self.send_text(404, "404 page not found\n")
        # discovery
        if (parts == ["api"] or parts == ["apis"] or (parts[0] == "api" and len(parts) == 2) or
                (parts[0] == "apis" and len(parts) in (2, 3))):
            if method != "GET":
                raise err_method_not_allowed()
            mode, _ = negotiate(accept)
            if mode is None:
                raise err_not_acceptable()
            if parts == ["api"]:
                doc = collections.OrderedDict([
                    ("kind", "APIVersions"), ("versions", ["v1"]),
                    ("serverAddressByClientCIDRs", [collections.OrderedDict([
                        ("clientCIDR", "0.0.0.0/0"), ("serverAddress", "127.0.0.1:%d" % sim.cluster.port)])])])
            elif parts == ["apis"]:
                doc = sim.registry.discovery_apis()
            elif parts[0] == "api":
                doc = sim.registry.discovery_resources("", parts[1]) if parts[1] == "v1" else None
            elif len(parts) == 2:
                doc = sim.registry.discovery_group(parts[1])
            else:
                doc = sim.registry.discovery_resources(parts[1], parts[2])
            if doc is None:
                raise ApiError(status_obj(404, "NotFound", "the server could not find the requested resource",
                                          details_obj()))
            return self.send_obj(200, doc)
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        if group == "subresources.kubevirt.io":
            return self.kubevirt_route(method, version, rest, body)
        ns, plural, name, sub = "", None, None, ""
        if rest[0] == "namespaces" and len(rest) >= 3 and not (group == "" and len(rest) == 3 and
                                                               rest[2] in ("status", "finalize")):
            ns = rest[1]
            rest = rest[2:]
        plural = rest[0]
        if len(rest) >= 2:
            name = rest[1]
        if len(rest) >= 3:
            sub = "/".join(rest[2:])
        rt = sim.registry.lookup(group, version, plural)
        if rt is None or (ns and not rt.namespaced) or len(rest) > 3:
            raise ApiError(status_obj(404, "NotFound", "the server could not find the requested resource",
                                      details_obj()))
        if sub and not ((sub == "status" and rt.status) or (sub == "finalize" and rt.skey == "/namespaces")):
            raise ApiError(status_obj(404, "NotFound", "the server could not find the requested resource",
                                      details_obj()))
        ctx = self.ctx
        mode, tversion = negotiate(accept)
        if mode is None:
            raise err_not_acceptable()
        self.yaml_out = "application/yaml" in accept and "json" not in accept
        watch = (self.query.get("watch") or [""])[-1] in ("true", "1")
        if name is None:
            if method == "GET":
                sim.api.authorize(ctx, "watch" if watch else "list", rt, ns, "")
                if watch:
                    return self.serve_watch(rt, ns, mode, tversion)
                lst = sim.api.op_list(ctx, rt, ns)
                return self.send_collection(rt, lst, mode, tversion)
            if method == "POST":
                sim.api.authorize(ctx, "create", rt, ns, "")
                obj = self.parse_json(body)
                code, out = sim.api.op_create(ctx, rt, ns, obj)
                return self.send_obj(code, out)
            if method == "DELETE":
                sim.api.authorize(ctx, "deletecollection", rt, ns, "")
                code, out = sim.api.op_delete_collection(ctx, rt, ns, self.parse_json(body) if body else None)
                return self.send_obj(code, out)
            raise err_method_not_allowed()
        if method == "GET":
            sim.api.authorize(ctx, "get", rt, ns, name, sub)
            obj = sim.api.op_get(ctx, rt, ns, name)
            if mode == "table":
                return self.send_obj(200, to_table(rt, [obj], collections.OrderedDict(
                    [("resourceVersion", obj["metadata"].get("resourceVersion", ""))]),
                    (self.query.get("includeObject") or ["Metadata"])[-1], tversion))
            if mode == "pom":
                return self.send_obj(200, collections.OrderedDict([
                    ("kind", "PartialObjectMetadata"), ("apiVersion", "meta.k8s.io/" + tversion),
                    ("metadata", obj["metadata"])]))
            return self.send_obj(200, obj)
        if method == "PUT":
            sim.api.authorize(ctx, "update", rt, ns, name, sub)
            code, out = sim.api.op_update(ctx, rt, ns, name, self.parse_json(body), sub)
            return self.send_obj(code, out)
        if method == "PATCH":
            sim.api.authorize(ctx, "patch", rt, ns, name, sub)
            code, out = sim.api.op_patch(ctx, rt, ns, name, self.headers.get("Content-Type"), body, sub)
            return self.send_obj(code, out)
        if method == "DELETE" and not sub:
            sim.api.authorize(ctx, "delete", rt, ns, name)
            code, out = sim.api.op_delete(ctx, rt, ns, name, self.parse_json(body) if body.strip() else None)
            return self.send_obj(code, out)
        raise err_method_not_allowed()

    def serve_openapi(self, path, accept):
        """Minimal OpenAPI documents without schemas: kubectl >= 1.24 learns from /openapi/v3 that every
        PATCH takes ?fieldValidation (so it validates server-side and sends fieldValidation=Strict),
        kubectl 1.20 gets an empty /openapi/v2 and skips client-side validation."""
        sim = self.sim
        if path == "/openapi/v2":
            if "protobuf" in accept:
                def field(num, payload):
                    return bytes([num << 3 | 2]) + _varint(len(payload)) + payload
                info = field(1, b"Kubernetes") + field(2, SERVER_VERSION["gitVersion"].encode())
                body = field(1, b"2.0") + field(2, info)
                self._headers(200, "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            return self.send_obj(200, collections.OrderedDict([
                ("swagger", "2.0"), ("info", {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]}),
                ("paths", {}), ("definitions", {})]))
        with sim.lock:
            served = list(sim.registry.served.values())
        docs = openapi_v3_docs(served)
        if path in ("/openapi/v3", "/openapi/v3/"):
            paths = collections.OrderedDict()
            for gv, doc in sorted(docs.items()):
                h = hashlib.sha512(dumps(doc).encode()).hexdigest()[:128].upper()
                paths[gv] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (gv, h)}
            return self.send_obj(200, {"paths": paths})
        gv = path[len("/openapi/v3/"):].strip("/")
        if gv in docs:
            return self.send_obj(200, docs[gv])
        return self.send_text(404, "404 page not found\n")

    def parse_json(self, body):
        if "protobuf" in (self.headers.get("Content-Type") or ""):
            try:
                obj = decode_k8s_protobuf(body)
            except Exception:
                obj = None
            if obj is None:
                raise ApiError(status_obj(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                                          "format - accepted media types include: application/json, "
                                          "application/yaml (kube-sim reads protobuf only for v1 Namespace, "
                                          "ConfigMap, Secret and ServiceAccount)"))
            return obj
        try:
            return json.loads(body.decode("utf-8") if body else "null")
        except ValueError:
            try:
                docs = yaml_load_all(body.decode("utf-8"))
                if docs:
                    return docs[0]
            except Exception:
                pass
            raise err_bad_request("couldn't get version/kind; json parse error: invalid character looking for "
                                  "beginning of value")

    def send_collection(self, rt, lst, mode, tversion):
        if mode == "table":
            m = lst["metadata"]
            tm = collections.OrderedDict()
            if m.get("continue"):
                tm["continue"] = m["continue"]
            if m.get("remainingItemCount") is not None:
                tm["remainingItemCount"] = m["remainingItemCount"]
            tm["resourceVersion"] = m.get("resourceVersion", "")
            items = lst["items"]
            return self.send_obj(200, to_table(rt, items, tm, (self.query.get("includeObject") or
                                                                          ["Metadata"])[-1], tversion))
        if mode == "pom":
            items = [collections.OrderedDict([("kind", "PartialObjectMetadata"),
                                              ("apiVersion", "meta.k8s.io/" + tversion),
                                              ("metadata", o["metadata"])]) for o in lst["items"]]
            return self.send_obj(200, collections.OrderedDict([
                ("kind", "PartialObjectMetadataList"), ("apiVersion", "meta.k8s.io/" + tversion),
                ("metadata", lst["metadata"]), ("items", items)]))
        return self.send_obj(200, lst)

    # ---- watch --------------------------------------------------------------------

    def serve_watch(self, rt, ns, mode, tversion):
        sim, ctx = self.sim, self.ctx
        lsel = sim.api.parse_lsel(ctx.q("labelSelector", ""))
        fsel = sim.api.parse_fsel(rt, ctx.q("fieldSelector", ""))
        rvq = ctx.q("resourceVersion")
        bookmarks = (ctx.q("allowWatchBookmarks") or "").lower() in ("true", "1")
        try:
            tos = ctx.q("timeoutSeconds")
            timeout = float(tos) if tos not in (None, "") else \
                random.uniform(self.opts.min_request_timeout, 2 * self.opts.min_request_timeout)
        except ValueError:
            raise err_bad_request("timeoutSeconds: Invalid value")
        start = time.time()
        deadline = start + timeout
        w = Watcher(rt.skey, ns, lsel, fsel, 0, bookmarks)
        initial, too_old, too_large = [], None, None
        with sim.lock:
            cur = sim.store.rv
            if rvq in (None, "", "0"):
                w.start_rv = cur
                for (ons, _), o in sorted(sim.store.objs[rt.skey].items()):
                    if w.matches(o):
                        initial.append(("ADDED", o))
            else:
                try:
                    n = int(rvq)
                except ValueError:
                    raise err_bad_request('resourceVersion: Invalid value: "%s"' % rvq)
                if n < sim.store.window_base:
                    too_old = "too old resource version: %d (%d)" % (n, sim.store.window_base)
                elif n > cur:
                    too_large = (n, cur)
                else:
                    w.start_rv = n
                    for ev in sim.store.log:
                        if ev.rv > n and ev.skey == rt.skey:
                            t = w.translate(ev)
                            if t:
                                initial.append(t)
            w.last_type_rv = sim.store.type_rv.get(rt.skey, 0)
            if not too_old and not too_large:
                sim.store.watchers.add(w)
        w.info = {"resource": rt.plural, "group": rt.group, "namespace": ns, "user": ctx.user,
                  "since": now_ts(), "resourceVersion": rvq or ""}
        self._headers(200, "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        first = [True]

        def encode(typ, obj):
            if mode == "table" and typ != "ERROR" and typ != "BOOKMARK":
                o = to_table(rt, [obj], collections.OrderedDict(
                    [("resourceVersion", obj["metadata"].get("resourceVersion", ""))]),
                    (self.query.get("includeObject") or ["Metadata"])[-1], tversion, with_columns=first[0])
                first[0] = False
            elif typ in ("ERROR", "BOOKMARK"):
                o = obj
            else:
                o = sim.api.out_obj(rt, obj)
            return (dumps(canon(collections.OrderedDict([("type", typ), ("object", o)]))) + "\n").encode()

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        try:
            if too_old or too_large:
                if too_old:
                    st = status_obj(410, "Expired", too_old)
                else:
                    st = status_obj(504, "Timeout", "Timeout: Too large resource version: %d, current: %d"
                                    % too_large, details_obj(causes=[cause_obj(
                                        "ResourceVersionTooLarge", "Too large resource version")], retry=1))
                chunk(encode("ERROR", st))
                self.wfile.write(b"0\r\n\r\n")
                return
            for c in pack_replay([encode(typ, obj) for typ, obj in initial]):
                chunk(c)
            interval = self.opts.bookmark_interval
            next_bm = deadline - 2 if deadline - time.time() < interval else time.time() + interval
            while True:
                with w.cond:
                    now = time.time()
                    if not w.queue and w.cut is None:
                        wake = min(deadline, next_bm if bookmarks else deadline)
                        if wake > now:
                            w.cond.wait(timeout=wake - now)
                    evs = list(w.queue)
                    w.queue.clear()
                    cut = w.cut
                if cut == "abort":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                for ev in evs:
                    w.last_type_rv = max(w.last_type_rv, ev.rv)
                    t = w.translate(ev)
                    if t:
                        chunk(encode(*t))
                if cut == "end":
                    break
                now = time.time()
                if now >= deadline:
                    break
                if bookmarks and now >= next_bm:
                    if w.last_type_rv > w.start_rv:
                        bm = {"apiVersion": rt.api_version, "kind": rt.kind,
                              "metadata": {"resourceVersion": str(w.last_type_rv)}}
                        chunk(encode("BOOKMARK", bm))
                    next_bm = now + interval
                    if next_bm > deadline - 2 and now < deadline - 2:
                        next_bm = deadline - 2
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            with sim.lock:
                sim.store.watchers.discard(w)

    # ---- KubeVirt subresource API ------------------------------------------------------

    def kubevirt_route(self, method, version, rest, body):
        sim = self.sim
        if not sim.registry.kubevirt_enabled() or version != "v1":
            raise ApiError(status_obj(404, "NotFound", "the server could not find the requested resource",
                                      details_obj()))
        subs = {"virtualmachineinstances": (("freeze", "unfreeze"), "VirtualMachineInstance"),
                "virtualmachines": (("start", "stop"), "VirtualMachine")}
        if len(rest) == 5 and rest[0] == "namespaces" and rest[2] in subs and rest[4] in subs[rest[2]][0]:
            if method != "PUT":
                raise err_method_not_allowed()
            ns, name, op = rest[1], rest[3], rest[4]
            sim.api.authorize(self.ctx, "update", RType("subresources.kubevirt.io", "v1", rest[2], subs[rest[2]][1]),
                              ns, name, op)
            b = None
            if body and body.strip():
                try:
                    b = json.loads(body)
                except ValueError:
                    raise err_bad_request("Can not unmarshal Request body to struct")
            if rest[2] == "virtualmachines":
                sim.actor("virt-api").vm_action(self.ctx, ns, name, op, b)
            else:
                sim.kubevirt_freeze(self.ctx, ns, name, op, b)
            self.send_response_only(200)
            self.log_request(200)
            self.send_header("Date", self.date_time_string())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        raise ApiError(status_obj(404, "NotFound", "the server could not find the requested resource",
                                  details_obj()))

    # ---- admin endpoints ---------------------------------------------------------------

    def admin(self, method, body):
        sim = self.sim
        what = self.url_path[len("/kube-sim/"):].strip("/")
        try:
            data = json.loads(body) if body.strip() and what != "load" else {}
        except ValueError:
            raise err_bad_request("admin endpoints take JSON")

        def ok(obj):
            return self.send_obj(200, obj, pretty=self.pretty)
        if what == "state":
            with sim.lock:
                return ok({"port": sim.cluster.port, "resourceVersion": str(sim.store.rv),
                           "windowBase": sim.store.window_base, "history": len(sim.store.log),
                           "watches": len(sim.store.watchers), "controllers": sim.cluster.controllers,
                           "objects": {k: len(v) for k, v in sim.store.objs.items() if v}})
        if what == "watches":
            with sim.lock:
                return ok({"watches": [w.info for w in sim.store.watchers]})
        if what == "cut-watches":
            mode = data.get("mode", "abort")
            if mode not in ("abort", "end"):
                raise err_bad_request('mode must be "abort" or "end"')
            with sim.lock:
                ws = list(sim.store.watchers)
            for w in ws:
                w.stop(mode)
            return ok({"cut": len(ws), "mode": mode})
        if what == "compact":
            base = sim.store.compact(data.get("resourceVersion"))
            return ok({"windowBase": base, "resourceVersion": str(sim.store.rv)})
        if what == "controllers":
            if method == "POST":
                for k, v in data.items():
                    if k not in sim.cluster.controllers:
                        raise err_bad_request("unknown controller %s (known: %s)" % (k, ", ".join(sim.cluster.controllers)))
                    sim.cluster.controllers[k] = bool(v)
                with sim.store.changed:
                    sim.store.gen += 1
                    sim.store.changed.notify_all()
            return ok(sim.cluster.controllers)
        if what in ("snapshotter", "pvc-binder", "kubevirt"):
            cfg = {"snapshotter": sim.cluster.snapshotter, "pvc-binder": sim.cluster.pvc_binder, "kubevirt": sim.cluster.kubevirt}[what]
            if method == "POST":
                for k, v in data.items():
                    if k not in cfg:
                        raise err_bad_request("unknown setting %s (known: %s)" % (k, ", ".join(cfg)))
                    cfg[k] = v
                with sim.store.changed:
                    sim.store.gen += 1
                    sim.store.changed.notify_all()
            return ok(cfg)
        if what == "freeze-log":
            with sim.lock:
                if method == "DELETE":
                    sim.cluster.freeze_log = []
                return ok({"calls": list(sim.cluster.freeze_log)})
        if what == "admission-log":
            if method == "DELETE":
                sim.cluster.admission_log.clear()
            return ok({"calls": list(sim.cluster.admission_log)})
        if what == "service-map":
            if method == "POST":
                sim.cluster.service_map.update({k: v for k, v in data.items() if v})
                for k in [k for k, v in data.items() if not v]:
                    sim.cluster.service_map.pop(k, None)
            return ok(sim.cluster.service_map)
        if what == "tokens":
            if method == "POST":
                if not data.get("token") or not data.get("user"):
                    raise err_bad_request("token and user are required")
                sim.cluster.tokens[data["token"]] = {"user": data["user"], "groups": data.get("groups") or [],
                                             "uid": data.get("uid", "")}
            if method == "DELETE":
                sim.cluster.tokens.pop(data.get("token"), None)
            return ok({"tokens": {k: v for k, v in sim.cluster.tokens.items()}})
        if what == "certs":
            if method != "POST" or not data.get("user"):
                raise err_bad_request("POST {\"user\": ..., \"groups\": [...]}")
            cert, key = self.server.pki.issue_client(data["user"], data.get("groups") or [])
            kc = kubeconfig_text(sim.cluster.port, self.server.pki.ca_pem, cert, key, data["user"])
            return ok({"cert": cert, "key": key, "ca": self.server.pki.ca_pem, "kubeconfig": kc})
        if what in ("forbid", "faults"):
            lst = "deny_rules" if what == "forbid" else "faults"
            with sim.lock:
                if method == "POST":
                    rules = data if isinstance(data, list) else [data]
                    getattr(sim.cluster, lst).extend(rules)
                elif method == "DELETE":
                    setattr(sim.cluster, lst, [])
                return ok({"rules": getattr(sim.cluster, lst)})
        if what == "load":
            return ok({"results": load_documents(sim, body.decode("utf-8"))})
        raise ApiError(status_obj(404, "NotFound", "unknown kube-sim admin endpoint /kube-sim/%s" % what,
                                  details_obj()))
