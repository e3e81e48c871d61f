# actors/pvc_binder: the PV controller plus a CSI provisioner - binds PVCs (also from a snapshot
# dataSource) to new PVs after a delay.


from .base import Actor, SNAP_GROUP
from ..context import system_ctx


class PVCBinder(Actor):
    name = "pvc-binder"

    def run(self):
        pvcrt = self.api.lookup("", "v1", "persistentvolumeclaims")
        pvrt = self.api.lookup("", "v1", "persistentvolumes")
        for (ns, name), pvc in self.api.objects("/persistentvolumeclaims"):
            m = pvc["metadata"]
            st = pvc.get("status") or {}
            spec = pvc.get("spec") or {}
            if m.get("deletionTimestamp") or st.get("phase") == "Bound":
                continue
            ds = spec.get("dataSourceRef") or spec.get("dataSource") or {}
            if ds.get("kind") == "VolumeSnapshot":
                with self.api.lock:
                    vs = self.api.get(SNAP_GROUP + "/volumesnapshots", ds.get("namespace") or ns, ds.get("name"))
                if vs is None or not (vs.get("status") or {}).get("readyToUse"):
                    continue
            elif ds.get("kind") == "PersistentVolumeClaim":
                with self.api.lock:
                    src = self.api.get("/persistentvolumeclaims", ns, ds.get("name"))
                if src is None or (src.get("status") or {}).get("phase") != "Bound":
                    continue
            if not self.api.due(("pvc-bind", m["uid"]), self.api.settings("pvc_binder").get("bindDelay", 0)):
                continue
            size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            pvname = spec.get("volumeName") or "pvc-" + m["uid"]
            with self.api.lock:
                pv = self.api.get("/persistentvolumes", "", pvname)
            sc = spec.get("storageClassName") or ""
            driver = self.api.settings("snapshotter").get("driver")
            if sc:
                with self.api.lock:
                    sco = self.api.get("storage.k8s.io/storageclasses", "", sc)
                driver = (sco or {}).get("provisioner") or driver
            if pv is None:
                self.api.create(system_ctx("persistent-volume-binder"), pvrt, "", {
                    "apiVersion": "v1", "kind": "PersistentVolume",
                    "metadata": {"name": pvname, "annotations": {"pv.kubernetes.io/provisioned-by": driver}},
                    "spec": {"accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                             "capacity": {"storage": size},
                             "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name,
                                          "namespace": ns, "resourceVersion": m["resourceVersion"],
                                          "uid": m["uid"]},
                             "csi": {"driver": driver, "volumeHandle": pvname},
                             "persistentVolumeReclaimPolicy": "Delete", "storageClassName": sc,
                             "volumeMode": spec.get("volumeMode", "Filesystem")}})
                self.api.merge_patch("persistent-volume-binder", pvrt, "", pvname, {"status": {"phase": "Bound"}}, "status")
            self.api.merge_patch("persistent-volume-binder", pvcrt, ns, name, {
                "metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes",
                                             "pv.kubernetes.io/bound-by-controller": "yes",
                                             "volume.kubernetes.io/storage-provisioner": driver}},
                "spec": {"volumeName": pvname}})
            self.api.merge_patch("persistent-volume-binder", pvcrt, ns, name, {"status": {
                "phase": "Bound", "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "capacity": {"storage": size}}}, "status")
        for (_, pvname), pv in self.api.objects("/persistentvolumes"):
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            if not ref or pv["metadata"].get("deletionTimestamp"):
                continue
            with self.api.lock:
                pvc = self.api.get("/persistentvolumeclaims", ref.get("namespace", ""), ref.get("name", ""))
            if pvc is None or (ref.get("uid") and pvc["metadata"].get("uid") != ref.get("uid")):
                if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
                    self.api.delete_quietly("persistent-volume-binder", pvrt, "", pvname)
                elif (pv.get("status") or {}).get("phase") != "Released":
                    self.api.merge_patch("persistent-volume-binder", pvrt, "", pvname, {"status": {"phase": "Released"}},
                                "status")
