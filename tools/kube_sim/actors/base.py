# actors/base: the loop that runs the simulated controllers when the store changes or a timer is due,
# and the client-side helpers (patch, set finalizers, delete as a system identity) they share.

import json
import threading
import time
import traceback

from ..context import system_ctx
from ..errors import ApiError
from ..util import log


# ---------------------------------------------------------------------------
# the other actors of a cluster (each switchable: --disable NAME or POST /kube-sim/controllers)

SNAP_GROUP = "snapshot.storage.k8s.io"
VS_FIN_SOURCE = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"
VS_FIN_BOUND = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"
VSC_FIN = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
FAIL_ANNOTATION = "kube-sim.io/snapshot-error"


class Controllers:
    def start_controllers(self):
        self.stop_evt = threading.Event()
        self.ctl_thread = threading.Thread(target=self._ctl_loop, name="controllers", daemon=True)
        self.ctl_thread.start()

    def _ctl_loop(self):
        last = -1
        while not self.stop_evt.is_set():
            with self.store.changed:
                if self.store.gen == last:
                    self.store.changed.wait(timeout=self._next_wake())
                last = self.store.gen
            if self.stop_evt.is_set():
                return
            for name, fn in (("gc", self._gc), ("namespace", self._namespaces), ("serviceaccount", self._sa),
                             ("crd-cleanup", self._crd_cleanup), ("snapshotter", self._snapshotter),
                             ("pvc-binder", self._pvc_binder), ("datavolume", self._datavolumes)):
                if not self.controllers.get(name):
                    continue
                try:
                    fn()
                except ApiError as e:
                    log("controller %s: %s" % (name, e.status.get("message")))
                except Exception:
                    log("controller %s failed:\n%s" % (name, traceback.format_exc()))
            self._freeze_timers()

    def _next_wake(self):
        now = time.time()
        due = [t - now for t in list(self.timers.values()) if t > now]
        return max(0.01, min(due + [1.0]))

    def _due(self, key, delay):
        now = time.time()
        if key not in self.timers:
            self.timers[key] = now + max(0.0, float(delay or 0))
        return now >= self.timers[key]

    def _all(self, skey):
        with self.lock:
            return [(k, o) for k, o in sorted(self.store.objs[skey].items())]

    def _patch(self, component, rt, ns, name, patch, sub=""):
        ctx = system_ctx(component)
        return self.op_patch(ctx, rt, ns, name, "application/merge-patch+json", json.dumps(patch), sub)

    def _set_finalizers(self, component, rt, obj, fins):
        m = obj["metadata"]
        ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": m.get("resourceVersion")},
               {"op": "add", "path": "/metadata/finalizers", "value": fins}]
        try:
            self.op_patch(system_ctx(component), rt, m.get("namespace", ""), m["name"],
                          "application/json-patch+json", json.dumps(ops))
        except ApiError as e:
            if e.code not in (404, 409, 422):
                raise

    def _delete(self, component, rt, ns, name, policy="Background"):
        try:
            self.op_delete(system_ctx(component), rt, ns, name, {"propagationPolicy": policy})
        except ApiError as e:
            if e.code != 404:
                raise
