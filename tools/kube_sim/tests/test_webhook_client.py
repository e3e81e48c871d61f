"""The webhook client's keep-alive pool: a request that fails on a reused connection the webhook has
closed meanwhile (idle timeout, restart) is sent once more on a new connection, as net/http does under
kube-apiserver; a failure on a new connection is not retried."""

import base64
import select
import shutil
import socket
import ssl
import tempfile
import threading
import time
import unittest

from ksim_helper import make_certs
from kube_sim.webhook_client import CallError, WebhookClient


class IdleClosingServer:
    """HTTPS on 127.0.0.1 answering one request per connection with keep-alive, then, once told the
    connection idled, closing it the way a restarted daemon does (no TLS close_notify)."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ls = socket.create_server(("127.0.0.1", 0))
        self.port = self.ls.getsockname()[1]
        self.accepted = 0
        self.idle = threading.Event()
        self.closed = threading.Event()
        self.answer = True      # False: read the request, close without an answer
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                s, _ = self.ls.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(s, self.accepted), daemon=True).start()

    def _serve(self, s, n):
        try:
            t = self.ctx.wrap_socket(s, server_side=True)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += t.recv(4096)
            head, _, body = buf.partition(b"\r\n\r\n")
            size = [int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0]
            while len(body) < size:
                body += t.recv(4096)
            if not self.answer:
                t.close()
                return
            t.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            if n == 1:
                self.idle.wait(30)
                t.close()
                self.closed.set()
        except OSError:
            pass

    def stop(self):
        self.stopping = True
        try:
            self.ls.shutdown(socket.SHUT_RDWR)   # wakes the blocked accept()
        except OSError:
            pass
        self.ls.close()


class Cluster:
    service_map = {}


class ReusedConnection(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ksim-wc-")
        ca, cert, key = make_certs(self.tmp)
        self.srv = IdleClosingServer(cert, key)
        self.client = WebhookClient(Cluster())
        self.cc = {"url": "https://127.0.0.1:%d/validate" % self.srv.port,
                   "caBundle": base64.b64encode(ca.encode()).decode()}

    def tearDown(self):
        self.srv.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_peer_closed(self):
        """Until the pooled connection has seen the webhook's FIN (readable), 10 s at most."""
        self.assertTrue(self.srv.closed.wait(10))
        socks = [c.sock for conns in self.client.pool.values() for c in conns]
        self.assertEqual(len(socks), 1)
        deadline = time.time() + 10
        while time.time() < deadline and not select.select(socks, [], [], 0.05)[0]:
            pass

    def test_retries_once_on_a_new_connection(self):
        self.assertEqual(self.client.post(self.cc, 5, b"{}"), (200, b"{}"))
        self.srv.idle.set()
        self.wait_peer_closed()
        self.assertEqual(self.client.post(self.cc, 5, b"{}"), (200, b"{}"))
        self.assertEqual(self.srv.accepted, 2)

    def test_no_retry_on_a_new_connection(self):
        self.srv.answer = False
        with self.assertRaisesRegex(CallError, ": EOF$"):
            self.client.post(self.cc, 5, b"{}")
        self.assertEqual(self.srv.accepted, 1)


if __name__ == "__main__":
    unittest.main()
