# actors/datavolume: CDI's DataVolume controller - creates the PVC a DataVolume asks for and
# reports its phase; a claim already populated for it (annotation
# cdi.kubevirt.io/storage.populatedFor=<dv>, no owner: a restored claim) is adopted instead.


from .base import Actor, SNAP_GROUP
from ..context import system_ctx
from ..util import deep


class DataVolumes(Actor):
    name = "datavolume"

    def run(self):
        dvrt = self.api.lookup("cdi.kubevirt.io", "v1beta1", "datavolumes")
        pvcrt = self.api.lookup("", "v1", "persistentvolumeclaims")
        if dvrt is None:
            return
        for (ns, name), dv in self.api.objects("cdi.kubevirt.io/datavolumes"):
            m = dv["metadata"]
            if m.get("deletionTimestamp"):
                continue
            spec = dv.get("spec") or {}
            with self.api.lock:
                pvc = self.api.get("/persistentvolumeclaims", ns, name)
            if pvc is None:
                ps = deep(spec.get("pvc") or spec.get("storage") or {})
                ps.setdefault("accessModes", ["ReadWriteOnce"])
                ps.setdefault("resources", {}).setdefault("requests", {}).setdefault("storage", "1Gi")
                src = spec.get("source") or {}
                if "snapshot" in src:
                    ps["dataSource"] = {"apiGroup": SNAP_GROUP, "kind": "VolumeSnapshot",
                                        "name": src["snapshot"].get("name")}
                elif "pvc" in src:
                    ps["dataSource"] = {"kind": "PersistentVolumeClaim", "name": src["pvc"].get("name")}
                self.api.create(system_ctx("cdi-controller"), pvcrt, ns, {
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": name, "labels": {"app": "containerized-data-importer"},
                                 "ownerReferences": [{"apiVersion": dv.get("apiVersion"), "kind": "DataVolume",
                                                      "name": name, "uid": m["uid"], "controller": True,
                                                      "blockOwnerDeletion": True}]},
                    "spec": ps})
                self.api.merge_patch("cdi-controller", dvrt, ns, name, {"status": {"phase": "Pending",
                                                                          "progress": "N/A"}}, "status")
                continue
            pm = pvc["metadata"]
            if (pm.get("annotations") or {}).get("cdi.kubevirt.io/storage.populatedFor") == name and \
                    not pm.get("ownerReferences"):
                self.api.merge_patch("cdi-controller", pvcrt, ns, name, {"metadata": {"ownerReferences": [
                    {"apiVersion": dv.get("apiVersion"), "kind": "DataVolume", "name": name, "uid": m["uid"],
                     "controller": True, "blockOwnerDeletion": True}]}})
            bound = (pvc.get("status") or {}).get("phase") == "Bound"
            want = "Succeeded" if bound else "Pending"
            if (dv.get("status") or {}).get("phase") != want:
                self.api.merge_patch("cdi-controller", dvrt, ns, name, {"status": {
                    "phase": want, "progress": "100.0%" if bound else "N/A", "claimName": name}}, "status")
