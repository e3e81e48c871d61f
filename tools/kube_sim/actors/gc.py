# actors/gc: the garbage collector (kube-controller-manager's): deletes dependents whose owners are
# gone, honours foreground and orphan deletion.

import json

from ..context import system_ctx
from ..errors import ApiError
from .base import Actor


class GarbageCollector(Actor):
    name = "gc"

    def _owner_alive(self, ref, ns):
        with self.api.lock:
            loc = self.api.locate_uid(ref.get("uid"))
            if not loc:
                return False
            owner = self.api.get(*loc)
        if owner is None or owner["metadata"].get("name") != ref.get("name"):
            return False
        if loc[1] and loc[1] != ns:
            return False
        return True

    def _set_owners(self, rt, ns, name, obj, op, refs):
        """Writes obj's ownerReferences as the collector does: a JSON patch guarded by the
        resourceVersion it read; an object gone, changed or refusing is left to the next pass."""
        ops = [{"op": "test", "path": "/metadata/resourceVersion",
                "value": obj["metadata"]["resourceVersion"]},
               {"op": op, "path": "/metadata/ownerReferences", "value": refs}]
        try:
            self.api.patch(system_ctx("generic-garbage-collector"), rt, ns, name,
                           "application/json-patch+json", json.dumps(ops))
        except ApiError as e:
            if e.code not in (404, 409, 422):
                raise

    def run(self):
        with self.api.lock:
            items = [(skey, k, o) for skey, objs in self.api.cache().items() for k, o in objs.items()
                     if (o.get("metadata") or {}).get("ownerReferences")]
            owners = [(skey, k, o) for skey, objs in self.api.cache().items() for k, o in objs.items()
                      if o["metadata"].get("deletionTimestamp") and
                      set(o["metadata"].get("finalizers") or []) & {"foregroundDeletion", "orphan"}]
        for skey, (ns, name), o in items:
            rt = self.api.storage_type(skey)
            if rt is None:
                continue
            refs = o["metadata"]["ownerReferences"]
            alive = [r for r in refs if self._owner_alive(r, ns)]
            if not alive:
                if not o["metadata"].get("deletionTimestamp"):
                    self.api.delete_quietly("generic-garbage-collector", rt, ns, name)
            elif len(alive) != len(refs):
                self._set_owners(rt, ns, name, o, "replace", alive)
        for skey, (ns, name), o in owners:
            rt = self.api.storage_type(skey)
            uid = o["metadata"].get("uid")
            fins = o["metadata"].get("finalizers") or []
            with self.api.lock:
                deps = [(dk, k, d) for dk, objs in self.api.cache().items() for k, d in objs.items()
                        if any(r.get("uid") == uid for r in (d.get("metadata") or {}).get("ownerReferences") or [])]
            if "orphan" in fins:
                for dk, (dns, dname), d in deps:
                    drt = self.api.storage_type(dk)
                    refs = [r for r in d["metadata"]["ownerReferences"] if r.get("uid") != uid]
                    self._set_owners(drt, dns, dname, d, "add", refs)
                if not deps:
                    self.api.set_finalizers("generic-garbage-collector", rt, o, [f for f in fins if f != "orphan"])
            elif "foregroundDeletion" in fins:
                blocking = 0
                for dk, (dns, dname), d in deps:
                    drt = self.api.storage_type(dk)
                    if not d["metadata"].get("deletionTimestamp"):
                        self.api.delete_quietly("generic-garbage-collector", drt, dns, dname, "Foreground")
                    if any(r.get("uid") == uid and r.get("blockOwnerDeletion")
                           for r in d["metadata"].get("ownerReferences") or []):
                        blocking += 1
                if blocking == 0:
                    self.api.set_finalizers("generic-garbage-collector", rt, o,
                                         [f for f in fins if f != "foregroundDeletion"])
