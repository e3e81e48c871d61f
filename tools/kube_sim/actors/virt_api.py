# actors/virt_api: KubeVirt's virt-api freeze/unfreeze subresources and virt-handler's unfreeze
# timer (the guest agent's freeze with an unfreeze deadline); the VM start/stop subresources, with
# virt-controller's part of a stop (the VMI goes) and a start refused while a restore holds the VM.

import contextlib
import time

from ..errors import ApiError, details_obj, status_obj
from ..util import now_ts, parse_go_duration
from .base import Actor


class VirtAPI(Actor):
    name = "virt-api"
    switchable = False   # the freeze subresource is the API server's; its unfreeze timer always runs

    @contextlib.contextmanager
    def _logged(self, ctx, ns, name, op, body):
        """One freeze-log record per call: its result code, and the error text of a refusal."""
        rec = {"time": now_ts(), "op": op, "namespace": ns, "name": name, "user": ctx.user, "body": body}
        try:
            yield
            rec["result"] = 200
        except ApiError as e:
            rec["result"] = e.code
            rec["error"] = e.status.get("message")
            raise
        finally:
            with self.api.lock:
                self.api.freeze_log.append(rec)

    def _get(self, ns, name, kind):
        """The kubevirt.io object of kind (lower case, singular) ns/name, or virt-api's 404."""
        with self.api.lock:
            obj = self.api.get("kubevirt.io/%ss" % kind, ns, name)
        if obj is None:
            raise ApiError(status_obj(404, "NotFound", '%s.kubevirt.io "%s" not found' % (kind, name),
                                      details_obj(name, "kubevirt.io", kind)))
        return obj

    def freeze(self, ctx, ns, name, op, body):
        vmirt = self.api.lookup("kubevirt.io", "v1", "virtualmachineinstances")
        with self._logged(ctx, ns, name, op, body):
            vmi = self._get(ns, name, "virtualmachineinstance")
            phase = (vmi.get("status") or {}).get("phase")
            if phase and phase != "Running":
                raise ApiError(status_obj(409, "Conflict", 'Operation cannot be fulfilled on virtualmachineinstance.'
                                          'kubevirt.io "%s": VMI is not running' % name,
                                          details_obj(name, "kubevirt.io", "virtualmachineinstance")))
            f = (self.api.settings("kubevirt").get("fail") or {}).get("%s/%s" % (ns, name)) or \
                self.api.settings("kubevirt").get("failFreeze" if op == "freeze" else "failUnfreeze")
            if isinstance(f, dict) and (f.get("op") in (None, op)):
                code = int(f.get("code", 500))
                raise ApiError(status_obj(code, f.get("reason", "InternalError" if code == 500 else ""),
                                          f.get("message", "%s failed" % op)))
            if op == "freeze":
                self.api.merge_patch("virt-handler", vmirt, ns, name, {"status": {"fsFreezeStatus": "frozen"}}, "status")
                timeout = parse_go_duration((body or {}).get("unfreezeTimeout")) if isinstance(body, dict) else None
                if timeout:
                    self.api.timers[("thaw", ns, name)] = time.time() + timeout
            else:
                self.api.merge_patch("virt-handler", vmirt, ns, name, {"status": {"fsFreezeStatus": None}}, "status")
                self.api.timers.pop(("thaw", ns, name), None)
        return 200

    def vm_action(self, ctx, ns, name, op, body):
        """PUT virtualmachines/NAME/start|stop: the run strategy becomes Always or Halted (running,
        when the VM uses it); a stop also deletes the VMI, as virt-controller then does. A start is
        refused (409) while status.restoreInProgress names a restore."""
        vmrt = self.api.lookup("kubevirt.io", "v1", "virtualmachines")
        vmirt = self.api.lookup("kubevirt.io", "v1", "virtualmachineinstances")
        with self._logged(ctx, ns, name, op, body):
            vm = self._get(ns, name, "virtualmachine")
            spec, st = vm.get("spec") or {}, vm.get("status") or {}
            if op == "start" and st.get("restoreInProgress"):
                raise ApiError(status_obj(409, "Conflict", 'Operation cannot be fulfilled on virtualmachine.'
                                          'kubevirt.io "%s": Cannot start VM until restore "%s" completes'
                                          % (name, st["restoreInProgress"]),
                                          details_obj(name, "kubevirt.io", "virtualmachine")))
            if "running" in spec:
                change = {"spec": {"running": op == "start"}}
            else:
                change = {"spec": {"runStrategy": "Always" if op == "start" else "Halted"}}
            self.api.merge_patch("virt-api", vmrt, ns, name, change)
            if op == "stop" and vmirt is not None:
                self.api.delete_quietly("virt-controller", vmirt, ns, name)

    def run(self):
        now = time.time()
        vmirt = self.api.lookup("kubevirt.io", "v1", "virtualmachineinstances")
        for key, due in list(self.api.timers.items()):
            if key[0] == "thaw" and now >= due:
                self.api.timers.pop(key, None)
                if vmirt is None:
                    continue
                try:
                    self.api.merge_patch("virt-handler", vmirt, key[1], key[2], {"status": {"fsFreezeStatus": None}},
                                "status")
                    with self.api.lock:
                        self.api.freeze_log.append({"time": now_ts(), "op": "auto-thaw", "namespace": key[1],
                                                "name": key[2], "user": "virt-handler", "result": 200})
                except ApiError:
                    pass
