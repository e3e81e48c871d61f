# managed: managedFields (FieldsV1) for Update and Apply operations, as structured-merge-diff records
# them, and the set arithmetic server-side apply needs.

import json

from .util import deep, meta, now_ts


# ---------------------------------------------------------------------------
# managedFields (FieldsV1) for Update / Apply operations (structured-merge-diff, simplified:
# every list is atomic except metadata.finalizers (set) and metadata.ownerReferences (by uid))

SKIP_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
             "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"}


def _fs_skip(path, k):
    return (path == () and k in ("apiVersion", "kind")) or (path == ("metadata",) and k in SKIP_META)


def _fs_key_item(path, item):
    if path == ("metadata", "finalizers"):
        return "v:" + json.dumps(item, separators=(",", ":"))
    if path == ("metadata", "ownerReferences") and isinstance(item, dict):
        return "k:" + json.dumps({"uid": item.get("uid")}, separators=(",", ":"))
    return None


def _fs_full(v, path):
    if isinstance(v, dict):
        d = {".": {}}
        for k, x in v.items():
            if _fs_skip(path, k):
                continue
            d["f:" + k] = _fs_full(x, path + (k,))
        return d
    if isinstance(v, list) and path in (("metadata", "finalizers"), ("metadata", "ownerReferences")):
        d = {".": {}}
        for it in v:
            d[_fs_key_item(path, it)] = _fs_full(it, path + ("*",)) if isinstance(it, dict) else {}
        return d
    return {}


def _fs_diff(old, new, path):
    if isinstance(new, dict) and isinstance(old, dict):
        d = {}
        for k, x in new.items():
            if _fs_skip(path, k):
                continue
            p = path + (k,)
            if k not in old:
                sub = _fs_full(x, p)
                if p == ("metadata",):
                    sub.pop(".", None)
                    if not sub:
                        continue
            else:
                sub = _fs_diff(old[k], x, p)
                if sub is None:
                    continue
            d["f:" + k] = sub
        return d or None
    if isinstance(new, list) and isinstance(old, list) and path in (("metadata", "finalizers"),
                                                                    ("metadata", "ownerReferences")):
        d = {}
        oldkeys = {_fs_key_item(path, it): it for it in old}
        for it in new:
            key = _fs_key_item(path, it)
            if key not in oldkeys:
                d[key] = _fs_full(it, path + ("*",)) if isinstance(it, dict) else {}
            elif isinstance(it, dict):
                sub = _fs_diff(oldkeys[key], it, path + ("*",))
                if sub:
                    d[key] = sub
        return d or None
    if new == old:
        return None
    return _fs_full(new, path)


def _fs_strip_dots(fs):
    out = {}
    for k, v in fs.items():
        if k == ".":
            continue
        sub = _fs_strip_dots(v) if v else {}
        if v and not sub and not k.startswith(("v:", "k:")):
            sub = {}
        out[k] = sub
    return out


def _fs_union(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = _fs_union(out[k], v) if k in out else deep(v)
    return out


def _fs_subtract(a, b):
    out = {}
    for k, v in a.items():
        if k not in b:
            out[k] = v
            continue
        bv = b[k]
        if bv == {} or v == {}:
            continue
        sub = _fs_subtract(v, bv)
        if sub:
            out[k] = sub
    return out


def _fs_prune(fs, obj):
    out = {}
    for k, v in fs.items():
        if k == ".":
            out[k] = v
            continue
        if k.startswith("f:"):
            if isinstance(obj, dict) and k[2:] in obj:
                out[k] = _fs_prune(v, obj[k[2:]]) if v else {}
                if v and not out[k]:
                    del out[k]
        elif k.startswith("v:"):
            try:
                if isinstance(obj, list) and json.loads(k[2:]) in obj:
                    out[k] = {}
            except ValueError:
                pass
        elif k.startswith("k:"):
            try:
                want = json.loads(k[2:])
            except ValueError:
                continue
            for it in obj if isinstance(obj, list) else []:
                if isinstance(it, dict) and all(it.get(kk) == vv for kk, vv in want.items()):
                    out[k] = _fs_prune(v, it) if v else {}
                    break
    if list(out.keys()) == ["."] and fs.keys() != {"."}:
        # only the map marker survived while members vanished: keep the marker
        return out
    return out


def managed_fields_update(old, new, manager, operation, api_version, subresource, reset, applied=None):
    """Return the managedFields list for `new` (as the client sent it) written over `old`."""
    base = (meta(new).get("managedFields") or None)
    entries = deep(base if base else ((old or {}).get("metadata") or {}).get("managedFields") or [])
    o = {k: v for k, v in (old or {}).items() if k != reset}
    n = {k: v for k, v in new.items() if k != reset}
    changed = _fs_diff(o, n, ()) or {}
    if applied is not None:
        # an applied configuration owns its leaves (and list items), not the maps around them
        mine_set = _fs_strip_dots(_fs_full({k: v for k, v in applied.items() if k != reset}, ()))
    ts = now_ts()
    found = None
    for e in entries:
        same = (e.get("manager") == manager and e.get("operation") == operation and
                (e.get("subresource") or "") == (subresource or ""))
        if same:
            found = e
            continue
        e["fieldsV1"] = _fs_subtract(e.get("fieldsV1") or {}, changed)
    if applied is not None:
        if found is None:
            found = {"manager": manager, "operation": operation}
            entries.append(found)
        found["fieldsV1"] = mine_set
        found["time"] = ts
    elif changed:
        if found is None:
            found = {"manager": manager, "operation": operation}
            entries.append(found)
            found["fieldsV1"] = changed
        else:
            found["fieldsV1"] = _fs_union(found.get("fieldsV1") or {}, changed)
        found["time"] = ts
    if found is not None:
        found["apiVersion"] = api_version
        found["fieldsType"] = "FieldsV1"
        if subresource:
            found["subresource"] = subresource
    view = dict(new)
    if reset and old and reset in old:
        view[reset] = old[reset]
    elif reset:
        view.pop(reset, None)
    out = []
    for e in entries:
        e["fieldsV1"] = _fs_prune(e.get("fieldsV1") or {}, view)
        if e["fieldsV1"]:
            out.append(e)
    out.sort(key=lambda e: (e.get("operation") != "Apply", e.get("time", ""), e.get("manager", "")))
    return out


def manager_from_ua(ua):
    ua = ua or ""
    return ua.split("/", 1)[0][:128] if ua else "unknown"


_MISSING = object()


def _leaf_paths(fs, prefix=()):
    out = []
    for k, v in fs.items():
        if k == ".":
            continue
        if not k.startswith("f:"):
            continue
        p = prefix + (k,)
        if v and any(kk != "." for kk in v):
            out.extend(_leaf_paths(v, p))
        else:
            out.append(p)
    return out


def _value_at(obj, path):
    cur = obj
    for k in path:
        if not isinstance(cur, dict) or k[2:] not in cur:
            return _MISSING
        cur = cur[k[2:]]
    return cur


def _has_path(fs, path):
    cur = fs
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return False
        cur = cur[k]
    return True


def _del_path(obj, path):
    cur = obj
    for k in path[:-1]:
        if not isinstance(cur, dict) or k[2:] not in cur:
            return
        cur = cur[k[2:]]
    if isinstance(cur, dict):
        cur.pop(path[-1][2:], None)


def _apply_merge(cur, applied):
    if isinstance(cur, dict) and isinstance(applied, dict):
        out = dict(cur)
        for k, v in applied.items():
            out[k] = _apply_merge(cur.get(k), v) if k in cur else deep(v)
        return out
    return deep(applied)
