# actors/snapshotter: the CSI external-snapshotter plus a CSI driver - binds VolumeSnapshots to
# VolumeSnapshotContents, makes them ready after a delay, finalizers, injected failures.

import time

from .base import Actor, FAIL_ANNOTATION, SNAP_GROUP, VSC_FIN, VS_FIN_BOUND, VS_FIN_SOURCE
from ..context import system_ctx
from ..util import _quantity_bytes, new_uid, now_ts


class Snapshotter(Actor):
    name = "snapshotter"

    def _snap_failure(self, vs):
        cfg = self.api.settings("snapshotter")
        m = vs["metadata"]
        key = "%s/%s" % (m.get("namespace", ""), m["name"])
        msg = (m.get("annotations") or {}).get(FAIL_ANNOTATION) or (cfg.get("fail") or {}).get(key) or \
            cfg.get("failAll")
        return msg or None

    def run(self):
        vsrt = self.api.lookup(SNAP_GROUP, "v1", "volumesnapshots")
        vscrt = self.api.lookup(SNAP_GROUP, "v1", "volumesnapshotcontents")
        if vsrt is None or vscrt is None:
            return
        cfg = self.api.settings("snapshotter")
        classes = [o for _, o in self.api.objects(SNAP_GROUP + "/volumesnapshotclasses")]
        for (ns, name), vs in self.api.objects(SNAP_GROUP + "/volumesnapshots"):
            m = vs["metadata"]
            st = vs.get("status") or {}
            spec = vs.get("spec") or {}
            src = spec.get("source") or {}
            content_name = st.get("boundVolumeSnapshotContentName") or src.get("volumeSnapshotContentName") or \
                "snapcontent-" + m["uid"]
            with self.api.lock:
                content = self.api.get(vscrt.skey, "", content_name)
            if m.get("deletionTimestamp"):
                if content is not None:
                    policy = (content.get("spec") or {}).get("deletionPolicy", "Delete")
                    if policy == "Delete" and not content["metadata"].get("deletionTimestamp"):
                        self.api.delete_quietly("snapshot-controller", vscrt, "", content_name)
                    with self.api.lock:
                        content = self.api.get(vscrt.skey, "", content_name)
                    if content is not None and policy == "Delete":
                        if VSC_FIN in (content["metadata"].get("finalizers") or []):
                            self.api.set_finalizers("snapshot-controller", vscrt, content, [
                                f for f in content["metadata"]["finalizers"] if f != VSC_FIN])
                        continue
                fins = [f for f in m.get("finalizers") or [] if f not in (VS_FIN_SOURCE, VS_FIN_BOUND)]
                if fins != (m.get("finalizers") or []):
                    self.api.set_finalizers("snapshot-controller", vsrt, vs, fins)
                continue
            fail = self._snap_failure(vs)
            if st.get("readyToUse") and not fail:
                continue
            if not st.get("boundVolumeSnapshotContentName"):
                if not self.api.due(("vs-bind", m["uid"]), cfg.get("bindDelay", 0)):
                    continue
                cls = None
                if spec.get("volumeSnapshotClassName"):
                    cls = next((c for c in classes if c["metadata"]["name"] == spec["volumeSnapshotClassName"]),
                               None)
                    if cls is None:
                        self._vs_error(vsrt, vs, 'Failed to get snapshot class with error volumesnapshotclass.'
                                       'snapshot.storage.k8s.io "%s" not found' % spec["volumeSnapshotClassName"])
                        continue
                else:
                    defaults = [c for c in classes if ((c["metadata"].get("annotations") or {}).get(
                        "snapshot.storage.kubernetes.io/is-default-class") == "true")]
                    cls = defaults[0] if len(defaults) == 1 else None
                driver = (cls or {}).get("driver") or cfg.get("driver")
                policy = (cls or {}).get("deletionPolicy") or "Delete"
                if src.get("persistentVolumeClaimName"):
                    with self.api.lock:
                        pvc = self.api.get("/persistentvolumeclaims", ns, src["persistentVolumeClaimName"])
                    if pvc is None:
                        self._vs_error(vsrt, vs, 'Failed to create snapshot content with error snapshot controller '
                                       'failed to update %s/%s on API server: cannot get claim from snapshot'
                                       % (ns, name))
                        continue
                    if (pvc.get("status") or {}).get("phase") != "Bound":
                        self._vs_error(vsrt, vs, "Failed to create snapshot content with error the PVC %s is not "
                                       "yet bound to a PV, will not attempt to take a snapshot"
                                       % src["persistentVolumeClaimName"])
                        continue
                    if fail:
                        self._vs_error(vsrt, vs, fail)
                        continue
                    if content is None:
                        vsc = {"apiVersion": SNAP_GROUP + "/v1", "kind": "VolumeSnapshotContent",
                               "metadata": {"name": content_name, "finalizers": [VSC_FIN]},
                               "spec": {"deletionPolicy": policy, "driver": driver,
                                        "source": {"volumeHandle": (pvc.get("spec") or {}).get("volumeName") or
                                                   "pvc-" + pvc["metadata"]["uid"]},
                                        "volumeSnapshotRef": {"apiVersion": SNAP_GROUP + "/v1",
                                                              "kind": "VolumeSnapshot", "name": name,
                                                              "namespace": ns, "resourceVersion":
                                                                  m["resourceVersion"], "uid": m["uid"]}}}
                        if cls:
                            vsc["spec"]["volumeSnapshotClassName"] = cls["metadata"]["name"]
                        self.api.create(system_ctx("snapshot-controller"), vscrt, "", vsc)
                        self.api.merge_patch("csi-snapshotter", vscrt, "", content_name, {"status": {
                            "creationTime": int(time.time() * 1e9), "driver": driver, "readyToUse": False,
                            "restoreSize": _quantity_bytes(cfg.get("restoreSize", "1Gi")),
                            "snapshotHandle": "snap-" + new_uid()}}, "status")
                elif src.get("volumeSnapshotContentName"):
                    if content is None:
                        self._vs_error(vsrt, vs, "Failed to get snapshot content %s" % content_name)
                        continue
                else:
                    continue
                fins = list(m.get("finalizers") or [])
                for f in (VS_FIN_SOURCE, VS_FIN_BOUND):
                    if f not in fins:
                        fins.append(f)
                patch = {"metadata": {"finalizers": fins}}
                if cls and not spec.get("volumeSnapshotClassName"):
                    patch["spec"] = {"volumeSnapshotClassName": cls["metadata"]["name"]}
                self.api.merge_patch("snapshot-controller", vsrt, ns, name, patch)
                self.api.merge_patch("snapshot-controller", vsrt, ns, name, {"status": {
                    "boundVolumeSnapshotContentName": content_name, "creationTime": now_ts(),
                    "readyToUse": False, "restoreSize": cfg.get("restoreSize", "1Gi"), "error": None}}, "status")
                self.api.timers.pop(("vs-ready", m["uid"]), None)
                continue
            # bound, not ready yet
            if not self.api.due(("vs-ready", m["uid"]), cfg.get("readyDelay", 0)):
                continue
            if fail:
                if ((st.get("error") or {}).get("message")) != fail:
                    self._vs_error(vsrt, vs, fail)
                continue
            if content is not None:
                self.api.merge_patch("csi-snapshotter", vscrt, "", content_name, {"status": {"readyToUse": True}}, "status")
            self.api.merge_patch("snapshot-controller", vsrt, ns, name, {"status": {"readyToUse": True, "error": None}},
                        "status")
        # contents whose snapshot is gone
        for (_, cname), c in self.api.objects(SNAP_GROUP + "/volumesnapshotcontents"):
            ref = (c.get("spec") or {}).get("volumeSnapshotRef") or {}
            with self.api.lock:
                vs = self.api.get(SNAP_GROUP + "/volumesnapshots", ref.get("namespace", ""), ref.get("name", ""))
            gone = vs is None or (ref.get("uid") and vs["metadata"].get("uid") != ref.get("uid"))
            if not gone:
                continue
            if (c.get("spec") or {}).get("deletionPolicy", "Delete") == "Delete" and \
                    not c["metadata"].get("deletionTimestamp") and ref.get("uid"):
                self.api.delete_quietly("snapshot-controller", vscrt, "", cname)
                with self.api.lock:
                    c = self.api.get(vscrt.skey, "", cname)
            if c is not None and c["metadata"].get("deletionTimestamp") and \
                    VSC_FIN in (c["metadata"].get("finalizers") or []):
                self.api.set_finalizers("snapshot-controller", vscrt, c,
                                     [f for f in c["metadata"]["finalizers"] if f != VSC_FIN])

    def _vs_error(self, vsrt, vs, msg):
        st = vs.get("status") or {}
        if (st.get("error") or {}).get("message") == msg:
            return
        m = vs["metadata"]
        self.api.merge_patch("snapshot-controller", vsrt, m.get("namespace", ""), m["name"], {"status": {
            "error": {"message": msg, "time": now_ts()}, "readyToUse": False}}, "status")
