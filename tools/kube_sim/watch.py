# watch: a watcher on the store, filtered by namespace, name and selectors, fed from its history, as
# kube-apiserver's watch cache serves ?watch=true.

import collections
import threading

from .selectors import field_match, label_match


class Watcher:
    def __init__(self, skey, ns, lsel, fsel, start_rv, bookmarks):
        self.skey, self.ns, self.lsel, self.fsel = skey, ns, lsel, fsel
        self.start_rv = start_rv
        self.bookmarks = bookmarks
        self.cond = threading.Condition()
        self.queue = collections.deque()
        self.cut = None          # None | "abort" | "end"
        self.last_type_rv = 0
        self.info = {}

    def push(self, ev):
        with self.cond:
            self.queue.append(ev)
            self.cond.notify()

    def stop(self, mode):
        with self.cond:
            self.cut = mode
            self.cond.notify()

    def matches(self, obj):
        if obj is None:
            return False
        m = obj.get("metadata") or {}
        if self.ns and m.get("namespace", "") != self.ns:
            return False
        return label_match(self.lsel, m.get("labels")) and field_match(self.fsel, obj)

    def translate(self, ev):
        """cacheWatcher.convertToWatchEvent: selector transitions become ADDED / DELETED."""
        cur = ev.obj if ev.type != "DELETED" else None
        if ev.type == "DELETED":
            return ("DELETED", ev.obj) if self.matches(ev.obj) or self.matches(ev.prev) else None
        cur_ok = self.matches(cur)
        old_ok = self.matches(ev.prev) if ev.prev is not None else False
        if ev.type == "ADDED":
            return ("ADDED", cur) if cur_ok else None
        if cur_ok and old_ok:
            return ("MODIFIED", cur)
        if cur_ok:
            return ("ADDED", cur)
        if old_ok:
            return ("DELETED", cur)
        return None
