# errors: API errors as kube-apiserver's metav1.Status (reasons, codes, details, causes) and the
# field.Error texts of apimachinery validation.

import collections
import json
import re

from .util import meta


# ---------------------------------------------------------------------------
# API errors as kube-apiserver's metav1.Status

class ApiError(Exception):
    def __init__(self, status):
        Exception.__init__(self, status.get("message", ""))
        self.status = status
        self.code = status.get("code", 500)


def status_obj(code, reason="", message="", details=None, success=False, meta=None):
    s = collections.OrderedDict()
    s["kind"] = "Status"
    s["apiVersion"] = "v1"
    s["metadata"] = meta or {}
    s["status"] = "Success" if success else "Failure"
    if message:
        s["message"] = message
    if reason:
        s["reason"] = reason
    if details is not None:
        s["details"] = details
    if code:
        s["code"] = code
    return s


def _present(*pairs):
    """An ordered dict of the (key, value) pairs whose value is set: Status
    details and causes omit empty fields, as Go's omitempty does."""
    return collections.OrderedDict((k, v) for k, v in pairs if v)


def details_obj(name="", group="", kind="", uid="", causes=None, retry=None):
    return _present(("name", name), ("group", group), ("kind", kind), ("uid", uid),
                    ("causes", causes), ("retryAfterSeconds", retry))


def cause_obj(reason="", message="", field=""):
    return _present(("reason", reason), ("message", message), ("field", field))


def qualified(group, resource):
    return resource + "." + group if group else resource


def err_not_found(group, resource, name):
    return ApiError(status_obj(404, "NotFound", '%s "%s" not found' % (qualified(group, resource), name),
                               details_obj(name, group, resource)))


def err_already_exists(group, resource, name):
    return ApiError(status_obj(409, "AlreadyExists", '%s "%s" already exists' % (qualified(group, resource), name),
                               details_obj(name, group, resource)))


def err_conflict(group, resource, name, msg):
    return ApiError(status_obj(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s' % (
        qualified(group, resource), name, msg), details_obj(name, group, resource)))


MSG_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def err_bad_request(msg):
    return ApiError(status_obj(400, "BadRequest", msg))


def err_internal(msg):
    return ApiError(status_obj(500, "InternalError", "Internal error occurred: " + msg,
                               details_obj(causes=[cause_obj(message=msg)])))


def err_forbidden(group, resource, name, msg):
    q = qualified(group, resource)
    text = ('%s "%s" is forbidden: %s' % (q, name, msg)) if name else ("%s is forbidden: %s" % (q, msg))
    return ApiError(status_obj(403, "Forbidden", text, details_obj(name, group, resource)))


def err_method_not_allowed():
    return ApiError(status_obj(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                               details_obj()))


def err_expired(msg, meta=None):
    return ApiError(status_obj(410, "Expired", msg, meta=meta))


def err_not_acceptable():
    return ApiError(status_obj(406, "NotAcceptable", "only the following media types are accepted: "
                               "application/json, application/yaml, application/vnd.kubernetes.protobuf"))


class FieldErr:
    """k8s.io/apimachinery/pkg/util/validation/field.Error"""
    TYPES = {"Required": ("FieldValueRequired", "Required value"),
             "Invalid": ("FieldValueInvalid", "Invalid value"),
             "Forbidden": ("FieldValueForbidden", "Forbidden"),
             "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
             "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
             "TooLong": ("FieldValueTooLong", "Too long")}

    def __init__(self, typ, field, detail="", value=None, has_value=False):
        self.typ, self.field, self.detail, self.value, self.has_value = typ, field, detail, value, has_value

    def body(self):
        reason, text = self.TYPES[self.typ]
        s = text
        if self.has_value:
            v = self.value
            if isinstance(v, str):
                vs = json.dumps(v)
            elif isinstance(v, bool):
                vs = "true" if v else "false"
            elif v is None:
                vs = "null"
            else:
                vs = str(v)
            s += ": " + vs
        if self.detail:
            s += ": " + self.detail
        return s

    def error(self):
        return "%s: %s" % (self.field, self.body()) if self.field else self.body()


def err_invalid(kind, group, name, errs):
    msgs = []
    for e in errs:
        if e.error() not in msgs:
            msgs.append(e.error())
    agg = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    return ApiError(status_obj(422, "Invalid", '%s "%s" is invalid: %s' % (qualified(group, kind), name, agg),
                               details_obj(name, group, kind, causes=[
                                   cause_obj(FieldErr.TYPES[e.typ][0], e.body(), e.field) for e in errs])))


DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
