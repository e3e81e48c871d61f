# selectors: label and field selectors (k8s.io/apimachinery/pkg/labels and fields parsing and matching)
# and the JSONPath subset kubectl/apiserver printer columns use.

import json
import re


# ---------------------------------------------------------------------------
# label / field selectors

class SelectorError(Exception):
    pass


_LABEL_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?:(==|=|!=|\s+in\s+|\s+notin\s+)\s*(.*?))?\s*$")


def _split_top(s):
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    if cur.strip():
        parts.append(cur)
    return parts


def parse_label_selector(s):
    reqs = []
    if not s:
        return reqs
    for part in _split_top(s):
        p = part.strip()
        if not p:
            raise SelectorError("unable to parse requirement: found '', expected: identifier")
        m = re.match(r"^([^\s!=()]+)\s+(in|notin)\s*\((.*)\)\s*$", p)
        if m:
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.match(r"^!\s*([^\s!=()]+)$", p)
        if m:
            reqs.append((m.group(1), "!", []))
            continue
        m = re.match(r"^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=(),]*)$", p)
        if m:
            op = {"=": "=", "==": "=", "!=": "!="}[m.group(2)]
            reqs.append((m.group(1), op, [m.group(3)]))
            continue
        m = re.match(r"^([^\s!=()]+)$", p)
        if m:
            reqs.append((m.group(1), "exists", []))
            continue
        raise SelectorError("unable to parse requirement: <nil>: found '%s', expected: in, notin, =, ==, !=, gt, lt" % p)
    return reqs


def label_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
    return True


def structured_selector_match(sel, labels):
    """metav1.LabelSelector (matchLabels / matchExpressions). None means 'everything'."""
    if sel is None:
        return True
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def parse_field_selector(s):
    reqs = []
    if not s:
        return reqs
    for part in s.split(","):
        p = part.strip()
        if not p:
            continue
        m = re.match(r"^([^=!]+?)\s*(==|=|!=)\s*(.*)$", p)
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand '%s'" % (s, p))
        reqs.append((m.group(1).strip(), "!=" if m.group(2) == "!=" else "=", m.group(3).strip()))
    return reqs


def _get_path(obj, dotted):
    cur = obj
    for p in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def field_value(obj, field):
    v = _get_path(obj, field)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def field_match(reqs, obj):
    for f, op, v in reqs:
        cur = field_value(obj, f)
        if op == "=" and cur != v:
            return False
        if op == "!=" and cur == v:
            return False
    return True


# ---------------------------------------------------------------------------
# JSONPath subset for printer columns: .a.b, .a[0], .a[*].b, .a[?(@.k=="v")].b

def jsonpath(obj, expr):
    expr = expr.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    if expr.startswith("$"):
        expr = expr[1:]
    toks = re.findall(r"\[\?\(.*?\)\]|\[[^\]]*\]|\.[^.\[]+", expr)
    cur = [obj]
    for t in toks:
        nxt = []
        for c in cur:
            if t.startswith("."):
                k = t[1:]
                if isinstance(c, dict) and k in c:
                    nxt.append(c[k])
            elif t.startswith("[?("):
                m = re.match(r"\[\?\(@\.([\w.\-/]+)\s*(==|!=)\s*(['\"]?)(.*?)\3\s*\)\]", t)
                if m and isinstance(c, list):
                    for it in c:
                        v = _get_path(it, m.group(1)) if isinstance(it, dict) else None
                        want = m.group(4)
                        sv = v if isinstance(v, str) else (json.dumps(v) if v is not None else None)
                        if (m.group(2) == "==" and sv == want) or (m.group(2) == "!=" and sv != want):
                            nxt.append(it)
            else:
                inner = t[1:-1].strip()
                if inner == "*":
                    if isinstance(c, list):
                        nxt.extend(c)
                    elif isinstance(c, dict):
                        nxt.extend(c.values())
                elif inner.startswith(("'", '"')):
                    k = inner[1:-1]
                    if isinstance(c, dict) and k in c:
                        nxt.append(c[k])
                else:
                    try:
                        i = int(inner)
                        if isinstance(c, list) and -len(c) <= i < len(c):
                            nxt.append(c[i])
                    except ValueError:
                        pass
        cur = nxt
    return cur
