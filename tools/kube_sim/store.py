# store: the object storage (etcd's role) - objects by storage key, one global resourceVersion,
# the event history a watch resumes from, and metadata normalisation.

import collections
import threading


# ---------------------------------------------------------------------------
# storage: one resourceVersion counter, objects, event history, watchers

class Event:
    __slots__ = ("rv", "type", "skey", "ns", "name", "obj", "prev")

    def __init__(self, rv, typ, skey, ns, name, obj, prev):
        self.rv, self.type, self.skey, self.ns, self.name, self.obj, self.prev = rv, typ, skey, ns, name, obj, prev


class Store:
    def __init__(self, history):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 0
        self.objs = collections.defaultdict(dict)   # skey -> {(ns, name): obj}
        self.uids = {}                              # uid -> (skey, ns, name)
        self.log = collections.deque()
        self.history = max(1, history)
        self.window_base = 0                        # oldest RV a watch may resume from
        self.type_rv = {}
        self.watchers = set()
        self.gen = 0

    def get(self, skey, ns, name):
        return self.objs[skey].get((ns or "", name))

    def commit(self, skey, typ, ns, name, obj, prev):
        """Store (or delete) obj with a fresh resourceVersion and tell the watchers."""
        with self.lock:
            self.rv += 1
            rv = self.rv
            obj = dict(obj)
            m = dict(obj.get("metadata") or {})
            m["resourceVersion"] = str(rv)
            obj["metadata"] = m
            key = (ns or "", name)
            if typ == "DELETED":
                self.objs[skey].pop(key, None)
                if m.get("uid"):
                    self.uids.pop(m["uid"], None)
            else:
                self.objs[skey][key] = obj
                if m.get("uid"):
                    self.uids[m["uid"]] = (skey, ns or "", name)
            ev = Event(rv, typ, skey, ns or "", name, obj, prev)
            self.log.append(ev)
            while len(self.log) > self.history:
                old = self.log.popleft()
                self.window_base = old.rv
            self.type_rv[skey] = rv
            for w in list(self.watchers):
                if w.skey == skey:
                    w.push(ev)
            self.gen += 1
            self.changed.notify_all()
            return obj

    def compact(self, upto=None):
        with self.lock:
            upto = self.rv if upto is None else min(int(upto), self.rv)
            while self.log and self.log[0].rv <= upto:
                self.log.popleft()
            self.window_base = max(self.window_base, upto)
            return self.window_base

    def state_at(self, skey, rv):
        """Objects of skey as they were at resourceVersion rv (rv >= window_base)."""
        with self.lock:
            state = dict(self.objs[skey])
            for ev in reversed(self.log):
                if ev.rv <= rv:
                    break
                if ev.skey != skey:
                    continue
                k = (ev.ns, ev.name)
                if ev.type == "ADDED":
                    state.pop(k, None)
                else:
                    state[k] = ev.prev
            return state


def normalize_meta(obj):
    """Go's omitempty on ObjectMeta: empty maps and lists disappear."""
    m = obj.get("metadata")
    if isinstance(m, dict):
        for k in ("labels", "annotations", "finalizers", "ownerReferences", "managedFields"):
            if k in m and not m[k]:
                del m[k]
        for k in ("generateName", "namespace", "uid", "resourceVersion", "selfLink"):
            if k in m and m[k] in ("", None):
                del m[k]
        if "creationTimestamp" in m and m["creationTimestamp"] is None:
            del m["creationTimestamp"]
    return obj
