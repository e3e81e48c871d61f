# webhook_client: the HTTPS client kube-apiserver uses to call admission webhooks - keep-alive pool,
# caBundle verification, service-map dialing, Go-style error texts, one retry on a reused connection.

import base64
import collections
import gzip
import hashlib
import http.client
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse


# ---------------------------------------------------------------------------
# admission webhooks (as kube-apiserver's mutating and validating dispatchers)

class CallError(Exception):
    pass


class WebhookClient:
    """HTTP/1.1 keep-alive connections to webhooks, verified against caBundle."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.pool = collections.defaultdict(list)
        self.lock = threading.Lock()

    def _ctx(self, ca_pem):
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        if ca_pem:
            try:
                ctx.load_verify_locations(cadata=ca_pem)
            except ssl.SSLError:
                pass
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.set_alpn_protocols(["http/1.1"])
        except NotImplementedError:
            pass
        return ctx

    def target(self, cc, timeout_s):
        """(display url, connect host, connect port, tls server name, host header, path)."""
        q = "?timeout=%ds" % timeout_s
        if cc.get("url"):
            u = urllib.parse.urlsplit(cc["url"])
            host = u.hostname or ""
            port = u.port or 443
            path = u.path or "/"
            return cc["url"] + q, host, port, host, u.netloc, path + q, None
        svc = cc.get("service") or {}
        name, ns = svc.get("name", ""), svc.get("namespace", "")
        port = int(svc.get("port") or 443)
        path = svc.get("path") or "/"
        sni = "%s.%s.svc" % (name, ns)
        display = "https://%s:%d%s%s" % (sni, port, path, q)
        mapped = self.cluster.service_map.get("%s/%s" % (ns, name))
        if not mapped:
            return display, None, None, sni, "%s:%d" % (sni, port), path + q, 'service "%s" not found' % name
        h, _, p = mapped.rpartition(":")
        return display, h or "127.0.0.1", int(p), sni, "%s:%d" % (sni, port), path + q, None

    def post(self, cc, timeout_s, body):
        display, host, port, sni, host_hdr, path, err = self.target(cc, timeout_s)
        prefix = 'Post "%s": ' % display
        if err:
            raise CallError(prefix + err)
        ca = cc.get("caBundle") or ""
        try:
            ca_pem = base64.b64decode(ca).decode() if ca else None
        except Exception:
            ca_pem = None
        key = (host, port, sni, hashlib.sha256((ca_pem or "").encode()).hexdigest())
        deadline = time.time() + timeout_s
        conn = None
        with self.lock:
            if self.pool[key]:
                conn = self.pool[key].pop()
        fresh = conn is None
        for attempt in (0, 1):
            if conn is None:
                conn = _TLSConn(host, port, sni, self._ctx(ca_pem), max(0.01, deadline - time.time()))
                fresh = True
            try:
                conn.timeout = max(0.01, deadline - time.time())
                if conn.sock is not None:
                    conn.sock.settimeout(conn.timeout)
                conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
                conn.putheader("Host", host_hdr)
                conn.putheader("User-Agent", "kube-apiserver-admission")
                conn.putheader("Content-Length", str(len(body)))
                conn.putheader("Accept", "application/json, */*")
                conn.putheader("Content-Type", "application/json")
                conn.putheader("Accept-Encoding", "gzip")
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                if (resp.getheader("Content-Encoding") or "").lower() == "gzip":
                    data = gzip.decompress(data)
                if resp.will_close:
                    conn.close()
                else:
                    with self.lock:
                        self.pool[key].append(conn)
                return resp.status, data
            except (socket.timeout, TimeoutError):
                conn.close()
                raise CallError(prefix + "context deadline exceeded")
            except ssl.SSLCertVerificationError as e:
                conn.close()
                raise CallError(prefix + self._x509_text(e, host, port, sni))
            except ConnectionRefusedError:
                conn.close()
                raise CallError(prefix + "dial tcp %s:%d: connect: connection refused" % (host, port))
            except _STALE_CONN_ERRORS as e:
                conn.close()
                if not fresh and attempt == 0:
                    conn = None   # the peer closed an idle keep-alive connection: once more on a new one
                    continue
                raise CallError(prefix + _io_error_text(e))
            except ssl.SSLError as e:
                conn.close()
                raise CallError(prefix + _io_error_text(e))
            except OSError as e:
                conn.close()
                raise CallError(prefix + (e.strerror or str(e)))
        raise CallError(prefix + "EOF")

    @staticmethod
    def _x509_text(e, host, port, sni):
        code = getattr(e, "verify_code", 0)
        if code == 62 or "hostname" in str(e).lower() or "IP address mismatch" in str(e):
            sans = _peer_sans(host, port, sni)
            if sans:
                return "x509: certificate is valid for %s, not %s" % (", ".join(sans), sni)
            return "x509: certificate is not valid for %s" % sni
        if code == 10:
            return "x509: certificate has expired or is not yet valid"
        return "x509: certificate signed by unknown authority"


# What a write or read on a kept-alive connection the webhook has since closed (idle timeout, restart)
# raises; net/http, under kube-apiserver, retries a request that failed so on a reused connection once.
_STALE_CONN_ERRORS = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError,
                      ConnectionAbortedError, BrokenPipeError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


def _io_error_text(e):
    if isinstance(e, http.client.RemoteDisconnected):
        return "EOF"
    if isinstance(e, ssl.SSLError):
        return "remote error: tls: %s" % (e.reason or e).__str__().lower()
    return str(e)


class _TLSConn(http.client.HTTPConnection):
    def __init__(self, host, port, sni, ctx, timeout):
        http.client.HTTPConnection.__init__(self, host, port, timeout=timeout)
        self._sni, self._ctx = sni, ctx

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._ctx.wrap_socket(self.sock, server_hostname=self._sni)


def _peer_sans(host, port, sni):
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection((host, port), timeout=2) as s:
            with ctx.wrap_socket(s, server_hostname=sni) as t:
                der = t.getpeercert(binary_form=True)
        pem = ssl.DER_cert_to_PEM_cert(der)
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as f:
            f.write(pem)
            path = f.name
        try:
            dec = ssl._ssl._test_decode_cert(path)
        finally:
            os.unlink(path)
        sans = []
        for typ, val in dec.get("subjectAltName", ()):
            sans.append(val)
        return sans
    except Exception:
        return []


def _http_status_text(code, body):
    """client-go's message for a non-2xx answer that is not a Status object."""
    text = body.decode("utf-8", "replace").strip() if body else ""
    try:
        st = json.loads(text)
        if isinstance(st, dict) and st.get("kind") == "Status" and st.get("message"):
            return st["message"]
    except ValueError:
        pass
    msgs = {400: "the server rejected our request for an unknown reason",
            401: "Unauthorized", 403: "the server does not allow access to the requested resource",
            404: "the server could not find the requested resource",
            405: "the server does not allow this method on the requested resource",
            406: "the server was unable to respond with a content type that the client supports",
            409: "the server reported a conflict",
            410: "the server has asked for the client to provide credentials",
            415: "the server was unable to respond with a content type that the client supports",
            422: "the server rejected our request due to an error in our request",
            429: "the server has received too many requests and has asked us to try again later",
            503: "the server is currently unable to handle the request",
            504: "the server was unable to return a response in the time allotted, but may still be processing the request"}
    if code == 500:
        return 'an error on the server ("%s") has prevented the request from succeeding' % (text or "unknown")
    return msgs.get(code, "the server responded with the status code %d but did not return more information" % code)
