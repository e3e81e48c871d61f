# patch: JSON Patch (RFC 6902, with evanphx/json-patch's error texts), JSON Merge Patch (RFC 7386) and
# strategic merge patch, as kube-apiserver's PATCH handler applies them.

import json

from .util import deep


# ---------------------------------------------------------------------------
# JSON Patch (RFC 6902, evanphx/json-patch error texts) and JSON Merge Patch (RFC 7386)

class PatchError(Exception):
    pass


def _ptr_tokens(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")]


def _find_container(doc, path):
    parts = path.split("/")
    if len(parts) < 2:
        return None, ""
    cur = doc
    for raw in parts[1:-1]:
        k = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(cur, dict):
            if k not in cur or cur[k] is None:
                return None, ""
            cur = cur[k]
        elif isinstance(cur, list):
            try:
                i = int(k)
            except ValueError:
                return None, ""
            if i < 0 or i >= len(cur):
                return None, ""
            cur = cur[i]
        else:
            return None, ""
        if not isinstance(cur, (dict, list)):
            return None, ""
    return cur, parts[-1].replace("~1", "/").replace("~0", "~")


def _idx(key, n, for_add=False):
    try:
        i = int(key)
    except ValueError:
        raise PatchError("strconv.Atoi: parsing %s: invalid syntax" % json.dumps(key))
    if i < 0 or i > n or (i == n and not for_add):
        raise PatchError("Unable to access invalid index: %d: invalid index referenced" % i)
    return i


def json_patch(doc, ops):
    doc = deep(doc)
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError("invalid operation")
        kind = op.get("op", "unknown")
        path = op.get("path")
        if kind in ("add", "remove", "replace", "test", "move", "copy") and not isinstance(path, str):
            raise PatchError("%s operation failed to decode path" % kind)
        if kind == "add":
            con, key = _find_container(doc, path)
            if con is None:
                raise PatchError('add operation does not apply: doc is missing path: "%s": missing value' % path)
            val = deep(op.get("value"))
            if isinstance(con, dict):
                con[key] = val
            else:
                if key == "-":
                    con.append(val)
                else:
                    try:
                        i = _idx(key, len(con), True)
                    except PatchError as e:
                        raise PatchError("error in add for path: '%s': %s" % (path, e))
                    con.insert(i, val)
        elif kind == "remove":
            con, key = _find_container(doc, path)
            if con is None:
                raise PatchError('remove operation does not apply: doc is missing path: "%s": missing value' % path)
            if isinstance(con, dict):
                if key not in con:
                    raise PatchError("error in remove for path: '%s': Unable to remove nonexistent key: %s: missing value" % (path, key))
                del con[key]
            else:
                try:
                    i = _idx(key, len(con))
                except PatchError as e:
                    raise PatchError("error in remove for path: '%s': %s" % (path, e))
                del con[i]
        elif kind == "replace":
            con, key = _find_container(doc, path)
            if con is None:
                raise PatchError("replace operation does not apply: doc is missing path: %s: missing value" % path)
            if isinstance(con, dict):
                if key not in con:
                    raise PatchError("replace operation does not apply: doc is missing key: %s: missing value" % path)
                con[key] = deep(op.get("value"))
            else:
                try:
                    i = _idx(key, len(con))
                except PatchError:
                    raise PatchError("replace operation does not apply: doc is missing key: %s: missing value" % path)
                con[i] = deep(op.get("value"))
        elif kind == "test":
            con, key = _find_container(doc, path)
            if con is None:
                raise PatchError("test operation does not apply: is missing path: %s: missing value" % path)
            if isinstance(con, dict):
                cur = con.get(key)
            else:
                try:
                    cur = con[_idx(key, len(con))]
                except PatchError as e:
                    raise PatchError("error in test for path: '%s': %s" % (path, e))
            if cur != op.get("value") or ("value" not in op and cur is not None):
                raise PatchError("testing value %s failed: test failed" % path)
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if not isinstance(frm, str):
                raise PatchError("%s operation failed to decode from" % kind)
            con, key = _find_container(doc, frm)
            if con is None:
                raise PatchError("%s operation does not apply: doc is missing from path: %s: missing value" % (kind, frm))
            if isinstance(con, dict):
                if key not in con:
                    raise PatchError("error in %s for path: '%s': missing value" % (kind, key))
                val = con[key]
                if kind == "move":
                    del con[key]
            else:
                i = _idx(key, len(con))
                val = con[i]
                if kind == "move":
                    del con[i]
            con2, key2 = _find_container(doc, path)
            if con2 is None:
                raise PatchError("%s operation does not apply: doc is missing destination path: %s: missing value" % (kind, path))
            val = deep(val)
            if isinstance(con2, dict):
                con2[key2] = val
            elif key2 == "-":
                con2.append(val)
            else:
                con2.insert(_idx(key2, len(con2), True), val)
        else:
            raise PatchError("Unexpected kind: %s" % kind)
    return doc


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return deep(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def strategic_merge_patch(target, patch):
    """Approximation of a strategic merge patch for built-in types: a JSON merge patch in
    which lists of objects carrying a "name" key are merged by name and "$patch": "delete"
    removes a list element or map."""
    if not isinstance(patch, dict):
        return deep(patch)
    if patch.get("$patch") == "delete":
        return None
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if k.startswith("$") or k.startswith("$setElementOrder"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and isinstance(out.get(k), list) and v and \
                all(isinstance(x, dict) and "name" in x for x in v) and \
                all(isinstance(x, dict) and "name" in x for x in out[k]):
            cur = [deep(x) for x in out[k]]
            for item in v:
                idx = next((i for i, x in enumerate(cur) if x.get("name") == item.get("name")), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        cur.pop(idx)
                elif idx is None:
                    cur.append({kk: vv for kk, vv in item.items() if not kk.startswith("$")})
                else:
                    cur[idx] = strategic_merge_patch(cur[idx], item)
            out[k] = cur
        else:
            r = strategic_merge_patch(out.get(k), v)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
    return out
