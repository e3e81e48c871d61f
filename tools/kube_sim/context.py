# context: the request context (user, groups, user agent, query, dry-run, field manager) and the
# system identities controllers act as; Warning headers as kube-apiserver writes them.

import collections

from .managed import manager_from_ua


# ---------------------------------------------------------------------------
# request context

class Ctx:
    def __init__(self, user, groups, ua="", query=None, extra=None, uid=""):
        self.user, self.groups, self.ua = user, list(groups), ua
        self.query = query or {}
        self.extra = extra or {}
        self.uid = uid
        self.warnings = []

    def q(self, k, default=None):
        v = self.query.get(k)
        return v[-1] if isinstance(v, list) and v else (v if v is not None else default)

    @property
    def dry_run(self):
        v = self.query.get("dryRun")
        return bool(v) and any(x for x in (v if isinstance(v, list) else [v]))

    def dry_list(self):
        v = self.query.get("dryRun") or []
        return v if isinstance(v, list) else [v]

    def manager(self):
        return self.q("fieldManager") or manager_from_ua(self.ua)

    def user_info(self):
        u = collections.OrderedDict()
        u["username"] = self.user
        if self.uid:
            u["uid"] = self.uid
        u["groups"] = self.groups
        if self.extra:
            u["extra"] = self.extra
        return u

    def add_warning(self, text):
        if not isinstance(text, str) or any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in text):
            return
        if text not in self.warnings:
            self.warnings.append(text)


def system_ctx(component):
    return Ctx("system:serviceaccount:kube-system:" + component,
               ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
               ua=component + "/v0.0.0 (linux/amd64) kube-sim")


def warning_headers(warnings):
    out, total = [], sum(len(w) for w in warnings)
    for w in warnings:
        if total > 4 * 1024 and len(w) > 256:
            w = w[:256]
        out.append('299 - "%s"' % w.replace("\\", "\\\\").replace('"', '\\"'))
    return out
