# protobuf: decodes the Kubernetes protobuf envelope (k8s\x00 + runtime.Unknown) for the few v1 kinds
# kubectl sends as protobuf (Namespace, ConfigMap, Secret, ServiceAccount).

import base64


# ---------------------------------------------------------------------------
# Kubernetes protobuf bodies (kubectl >= 1.2x sends them for `kubectl create namespace|configmap|secret|
# serviceaccount`): the "k8s\0" envelope and the few core/v1 messages those generators write.

PB_SCHEMA = {
    "ObjectMeta": {1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"), 5: ("uid", "s"),
                   6: ("resourceVersion", "s"), 7: ("generation", "i"), 11: ("labels", "map_ss"),
                   12: ("annotations", "map_ss"), 13: ("ownerReferences", "rep:OwnerReference"),
                   14: ("finalizers", "rep_s")},
    "OwnerReference": {1: ("kind", "s"), 3: ("name", "s"), 4: ("uid", "s"), 5: ("apiVersion", "s"),
                       6: ("controller", "b"), 7: ("blockOwnerDeletion", "b")},
    "ObjectReference": {1: ("kind", "s"), 2: ("namespace", "s"), 3: ("name", "s"), 4: ("uid", "s"),
                        5: ("apiVersion", "s"), 6: ("resourceVersion", "s"), 7: ("fieldPath", "s")},
    "LocalObjectReference": {1: ("name", "s")},
    "NamespaceSpec": {1: ("finalizers", "rep_s")},
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec")},
    "ConfigMap": {1: ("metadata", "msg:ObjectMeta"), 2: ("data", "map_ss"), 3: ("binaryData", "map_sb"),
                  4: ("immutable", "b")},
    "Secret": {1: ("metadata", "msg:ObjectMeta"), 2: ("data", "map_sb"), 3: ("type", "s"),
               4: ("stringData", "map_ss"), 5: ("immutable", "b")},
    "ServiceAccount": {1: ("metadata", "msg:ObjectMeta"), 2: ("secrets", "rep:ObjectReference"),
                       3: ("imagePullSecrets", "rep:LocalObjectReference"),
                       4: ("automountServiceAccountToken", "b")},
}


def _pb_fields(buf):
    i = 0
    while i < len(buf):
        key, i = _pb_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _pb_varint(buf, i)
        elif wt == 2:
            n, i = _pb_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wt)
        yield num, wt, v


def _pb_varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _pb_message(buf, schema):
    out = {}
    for num, wt, v in _pb_fields(buf):
        if num not in PB_SCHEMA[schema]:
            continue
        name, typ = PB_SCHEMA[schema][num]
        if typ == "s":
            out[name] = v.decode("utf-8")
        elif typ == "i":
            out[name] = v
        elif typ == "b":
            out[name] = bool(v)
        elif typ == "rep_s":
            out.setdefault(name, []).append(v.decode("utf-8"))
        elif typ in ("map_ss", "map_sb"):
            kv = {n: val for n, _, val in _pb_fields(v)}
            val = kv.get(2, b"")
            out.setdefault(name, {})[kv.get(1, b"").decode("utf-8")] = \
                val.decode("utf-8") if typ == "map_ss" else base64.b64encode(val).decode()
        elif typ.startswith("msg:"):
            out[name] = _pb_message(v, typ[4:])
        elif typ.startswith("rep:"):
            out.setdefault(name, []).append(_pb_message(v, typ[4:]))
    return out


def decode_k8s_protobuf(body):
    """-> dict, or None when the kind is not one kube-sim can read."""
    if not body.startswith(b"k8s\x00"):
        return None
    env = {n: v for n, _, v in _pb_fields(body[4:])}
    tm = {n: v.decode() for n, _, v in _pb_fields(env.get(1, b""))}
    api_version, kind = tm.get(1, ""), tm.get(2, "")
    if api_version != "v1" or kind not in PB_SCHEMA:
        return None
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(_pb_message(env.get(2, b""), kind))
    return obj
