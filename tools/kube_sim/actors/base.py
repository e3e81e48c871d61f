# actors/base: what the simulated controllers share - Client, the operations a controller does against
# the API server (get/list from a cache, create, update, patch, delete as a system identity, like a
# client-go informer plus clientset), Actor, and Runner, the loop that runs the switched-on actors when
# the store changes or one of their timers is due (kube-controller-manager's role).

import json
import threading
import time
import traceback

from ..context import system_ctx
from ..errors import ApiError
from ..util import log

SNAP_GROUP = "snapshot.storage.k8s.io"
VS_FIN_SOURCE = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"
VS_FIN_BOUND = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"
VSC_FIN = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
FAIL_ANNOTATION = "kube-sim.io/snapshot-error"


class Client:
    """An actor's only door to the cluster: reads from the store as from an informer's cache (under
    `lock` for a consistent view), writes through the API verbs as the named component."""

    def __init__(self, store, registry, api, cluster):
        self._store = store
        self._registry = registry
        self._api = api
        self._cluster = cluster
        self.lock = store.lock
        self.timers = cluster.timers  # key -> due time; the Runner wakes for the earliest

    # ---- reads (the informer cache) ----

    def get(self, skey, ns, name):
        with self.lock:
            return self._store.get(skey, ns, name)

    def objects(self, skey):
        """[((namespace, name), object)] of one storage key, sorted."""
        with self.lock:
            return [(k, o) for k, o in sorted(self._store.objs[skey].items())]

    def cache(self):
        """{storage key: {(namespace, name): object}}; hold `lock` while iterating."""
        return self._store.objs

    def locate_uid(self, uid):
        """(storage key, namespace, name) of the object with that uid, or None."""
        with self.lock:
            return self._store.uids.get(uid)

    def lookup(self, group, version, plural):
        return self._registry.lookup(group, version, plural)

    def storage_type(self, skey):
        return self._registry.storage_type(skey)

    def types(self):
        with self.lock:
            return list(self._registry.served.values())

    def settings(self, actor):
        """The actor's knobs (flags, POST /kube-sim/snapshotter ...), a dict shared with the admin API."""
        return getattr(self._cluster, actor.replace("-", "_"))

    @property
    def ca_pem(self):
        return self._cluster.ca_pem

    @property
    def freeze_log(self):
        return self._cluster.freeze_log

    # ---- writes (the clientset) ----

    def create(self, ctx, rt, ns, obj):
        return self._api.op_create(ctx, rt, ns, obj)

    def update(self, ctx, rt, ns, name, body, sub=""):
        return self._api.op_update(ctx, rt, ns, name, body, sub)

    def patch(self, ctx, rt, ns, name, ctype, body, sub=""):
        return self._api.op_patch(ctx, rt, ns, name, ctype, body, sub)

    def delete(self, ctx, rt, ns, name, opts):
        return self._api.op_delete(ctx, rt, ns, name, opts)

    def merge_patch(self, component, rt, ns, name, patch, sub=""):
        return self.patch(system_ctx(component), rt, ns, name, "application/merge-patch+json", json.dumps(patch), sub)

    def set_finalizers(self, component, rt, obj, fins):
        """Replaces the finalizers if the object is unchanged since read; a lost race is no error."""
        m = obj["metadata"]
        ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": m.get("resourceVersion")},
               {"op": "add", "path": "/metadata/finalizers", "value": fins}]
        try:
            self.patch(system_ctx(component), rt, m.get("namespace", ""), m["name"],
                       "application/json-patch+json", json.dumps(ops))
        except ApiError as e:
            if e.code not in (404, 409, 422):
                raise

    def delete_quietly(self, component, rt, ns, name, policy="Background"):
        """Deletes; an object already gone is no error."""
        try:
            self.delete(system_ctx(component), rt, ns, name, {"propagationPolicy": policy})
        except ApiError as e:
            if e.code != 404:
                raise

    # ---- timers ----

    def due(self, key, delay):
        """True once `delay` seconds have passed since the first call with this key."""
        now = time.time()
        if key not in self.timers:
            self.timers[key] = now + max(0.0, float(delay or 0))
        return now >= self.timers[key]


class Actor:
    """One simulated controller. `name` is its switch (--disable NAME, POST /kube-sim/controllers);
    an actor that is not switchable always runs."""
    name = ""
    switchable = True

    def __init__(self, api):
        self.api = api

    def run(self):
        raise NotImplementedError


class Runner:
    """Runs the actors in order whenever the store changes, or at the earliest timer, at least each second."""

    def __init__(self, store, timers, actors, enabled):
        self.store, self.timers, self.actors, self.enabled = store, timers, actors, enabled
        self.stop_evt = threading.Event()
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._loop, name="controllers", daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_evt.set()
        with self.store.changed:
            self.store.changed.notify_all()

    def _loop(self):
        last = -1
        while not self.stop_evt.is_set():
            with self.store.changed:
                if self.store.gen == last:
                    self.store.changed.wait(timeout=self._next_wake())
                last = self.store.gen
            if self.stop_evt.is_set():
                return
            for actor in self.actors:
                if actor.switchable and not self.enabled.get(actor.name):
                    continue
                try:
                    actor.run()
                except ApiError as e:
                    log("controller %s: %s" % (actor.name, e.status.get("message")))
                except Exception:
                    log("controller %s failed:\n%s" % (actor.name, traceback.format_exc()))

    def _next_wake(self):
        now = time.time()
        due = [t - now for t in list(self.timers.values()) if t > now]
        return max(0.01, min(due + [1.0]))
