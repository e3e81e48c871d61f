#!/usr/bin/env python3
"""A small HTTPS client for the journey (so it needs no curl): kube-sim's admin API, status writes
as a controller makes them, dry runs, and serve's /readyz.

  https.py [-X METHOD] [-d DATA | -d @FILE] [-H 'Name: value']... [-A AGENT]
           --cacert CA [--cert CRT --key KEY] [--servername NAME] URL

Prints the body; exits 0 for a 2xx answer, 22 otherwise (as curl --fail does), 7 when it cannot
connect."""
import argparse
import http.client
import socket
import ssl
import sys
import urllib.parse

p = argparse.ArgumentParser()
p.add_argument("-X", dest="method")
p.add_argument("-d", dest="data")
p.add_argument("-H", dest="headers", action="append", default=[])
p.add_argument("-A", dest="agent", default="e2e-journey")
p.add_argument("--cacert", required=True)
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--servername")
p.add_argument("url")
a = p.parse_args()

u = urllib.parse.urlsplit(a.url)
ctx = ssl.create_default_context(cafile=a.cacert)
if a.cert:
    ctx.load_cert_chain(a.cert, a.key)
body = None
if a.data is not None:
    body = open(a.data[1:], "rb").read() if a.data.startswith("@") else a.data.encode()
headers = {"User-Agent": a.agent, "Accept": "application/json"}
if body is not None:
    headers["Content-Type"] = "application/json"
for h in a.headers:
    k, _, v = h.partition(":")
    headers[k.strip()] = v.strip()


class Conn(http.client.HTTPSConnection):
    def connect(self):  # dial the URL's address; verify the certificate for --servername if given
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = ctx.wrap_socket(sock, server_hostname=a.servername or self.host)


conn = Conn(u.hostname, u.port, context=ctx, timeout=15)
try:
    conn.request(a.method or ("POST" if body is not None else "GET"),
                 u.path + ("?" + u.query if u.query else ""), body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
except (OSError, http.client.HTTPException) as e:
    print("https.py: %s: %s" % (a.url, e), file=sys.stderr)
    sys.exit(7)
sys.stdout.buffer.write(data)
sys.exit(0 if 200 <= r.status < 300 else 22)
