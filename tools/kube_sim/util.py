# util: small shared helpers - version, logging, timestamps (RFC 3339 seconds), HumanDuration as
# k8s.io/apimachinery/pkg/util/duration prints it, uids, JSON dumps, resource.Quantity and Go durations.

import datetime
import json
import random
import re
import sys
import time
import uuid


SERVER_VERSION = {
    "major": "1", "minor": "24", "gitVersion": "v1.24.0+kube-sim",
    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.18", "compiler": "gc",
    "platform": "linux/amd64",
}
CHUNK = 2048          # net/http's bufferBeforeChunkingSize and the watch writer's buffer
LOG = sys.stderr


def log(msg):
    try:
        LOG.write("kube-sim: %s\n" % msg)
        LOG.flush()
    except Exception:
        pass


# ---------------------------------------------------------------------------
# small helpers

def now_ts(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
    try:
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except Exception:
        try:
            return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
        except Exception:
            return None


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        r = s % 60
        return "%dm" % minutes if r == 0 else "%dm%ds" % (minutes, r)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return "%dh" % hours if m == 0 else "%dh%dm" % (hours, m)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        h = hours % 24
        return "%dd" % (hours // 24) if h == 0 else "%dd%dh" % (hours // 24, h)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return "%dy" % (hours // 24 // 365) if dy == 0 else "%dy%dd" % (hours // 24 // 365, dy)
    return "%dy" % (hours // 24 // 365)


def age(obj):
    t = parse_ts(((obj or {}).get("metadata") or {}).get("creationTimestamp") or "")
    return "<unknown>" if t is None else human_duration(time.time() - t)


def dumps(obj, pretty=False, sort=False):
    if pretty:
        return json.dumps(obj, indent=2, sort_keys=sort, ensure_ascii=False)
    return json.dumps(obj, separators=(",", ":"), sort_keys=sort, ensure_ascii=False)


def deep(o):
    return json.loads(json.dumps(o))


def new_uid():
    return str(uuid.uuid4())


def rand_suffix(n=5):
    # k8s.io/apiserver/pkg/storage/names: alphanums without vowels and confusables
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def go_quote_list(items):
    """Go's %#v of a []string."""
    return "[]string{" + ", ".join(json.dumps(i) for i in items) + "}"


def meta(obj):
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def _quantity_bytes(q):
    m = re.match(r"^(\d+(?:\.\d+)?)([KMGTPE]i?)?$", str(q))
    if not m:
        return 0
    mult = {"": 1, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3, "Ti": 1024 ** 4, "Pi": 1024 ** 5,
            "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "T": 1000 ** 4, "P": 1000 ** 5}
    return int(float(m.group(1)) * mult.get(m.group(2) or "", 1))


def parse_go_duration(s):
    if not s or not isinstance(s, str):
        return None
    total, found = 0.0, False
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", s):
        found = True
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total if found else None


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
