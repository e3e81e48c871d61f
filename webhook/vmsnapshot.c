/* webhook/vmsnapshot.c - VirtualMachineSnapshot: KubeVirt's source checks,
 * the failure deadline, deletion policy, per-VM limit, guest-agent advice,
 * defaulting on CREATE, immutability on UPDATE and the DELETE guard. */
#include "webhook/admission.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "kube/json.h"
#include "webhook/deadline.h"
#include "webhook/state.h"

static const struct wh_typecheck snapshot_types[] = {
    {"spec.source", JSON_OBJECT, JSON_NULL},
    {"spec.source.apiGroup", JSON_STRING, JSON_NULL},
    {"spec.source.kind", JSON_STRING, JSON_NULL},
    {"spec.source.name", JSON_STRING, JSON_NULL},
    {"spec.deletionPolicy", JSON_STRING, JSON_NULL},
    {"spec.failureDeadline", JSON_STRING, JSON_REAL},
    {"status", JSON_OBJECT, JSON_NULL},
    {NULL, JSON_NULL, JSON_NULL},
};

static const char *const snapshot_durations[] = {"failureDeadline", NULL};

/* Adds a cause of type at field.member: the path is written only for a
 * cause (most references are right). */
static void ref_cause(struct wh_answer *a, const char *type, const char *field,
                      const char *member, const char *msg)
{
    char path[96];

    snprintf(path, sizeof(path), "%s.%s", field, member);
    kube_fielderrs_add(&a->causes, type, path, "%s", msg);
}

int wh_check_vm_ref(struct wh_answer *a, const json_t *ref, const char *field)
{
    const json_t *group = json_object_get(ref, "apiGroup");
    const char *kind = kube_json_str0(ref, "kind");
    int ok = 1;

    if (!group || json_is_null(group)) {
        ref_cause(a, KUBE_CAUSE_NOT_FOUND, field, "apiGroup",
                  "missing apiGroup");
        return -1;
    }
    if (strcmp(json_string_value(group), "kubevirt.io") != 0) {
        ref_cause(a, KUBE_CAUSE_INVALID, field, "apiGroup", "invalid apiGroup");
        ok = 0;
    }
    if (strcmp(kind, "VirtualMachine") != 0) {
        ref_cause(a, KUBE_CAUSE_INVALID, field, "kind", "invalid kind");
        ok = 0;
    }
    return ok;
}

/* Rule 7: snapshot.maxPerVM. */
static int check_max_per_vm(struct wh_answer *a, const struct wh_req *r,
                            const char *vm)
{
    long limit = r->env->policy->max_per_vm, n = 0;
    json_t *all = NULL, *s;
    size_t i;
    int rc;

    if (limit <= 0)
        return KUBE_OK;
    rc = wh_state_list(&all, a, r, "VirtualMachineSnapshot");
    if (rc < 0)
        return rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    json_array_foreach(all, i, s)
    {
        if (strcmp(kube_json_str0(s, "spec.source.name"), vm) == 0 &&
            !kube_json_path(s, "metadata.deletionTimestamp"))
            n++;
    }
    json_decref(all);
    if (n < limit)
        return KUBE_OK;
    return kube_fielderrs_add(
        &a->causes, KUBE_CAUSE_FORBIDDEN, "spec.source.name",
        "VirtualMachine \"%s\" already has %ld snapshots, the limit of "
        "policy snapshot.maxPerVM: delete an old snapshot first",
        vm, n);
}

/* Whether the VMI reports a connected guest agent. */
static int agent_connected(const json_t *vmi)
{
    const json_t *conds = kube_json_path(vmi, "status.conditions"), *c;
    size_t i;

    json_array_foreach(conds, i, c)
    {
        if (strcmp(kube_json_str0(c, "type"), "AgentConnected") == 0 &&
            strcmp(kube_json_str0(c, "status"), "True") == 0)
            return 1;
    }
    return 0;
}

/* Rule 8: advice about the source VM, or a denial by policy. */
static int check_source_vm(struct wh_answer *a, const struct wh_req *r,
                           const char *vm)
{
    json_t *obj = NULL;
    int rc = wh_state_get(&obj, a, r, "VirtualMachine", vm);

    if (rc == KUBE_ENOTFOUND)
        return wh_warn(a,
                       "VirtualMachine \"%s\" does not exist yet: the "
                       "snapshot waits for it until its failureDeadline",
                       vm);
    if (rc < 0)
        return rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    json_decref(obj);
    rc = wh_state_get(&obj, a, r, "VirtualMachineInstance", vm);
    if (rc < 0)
        return rc == KUBE_ENOTFOUND || rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    rc = agent_connected(obj);
    json_decref(obj);
    if (rc)
        return KUBE_OK;
    if (r->env->policy->require_guest_agent_for_online)
        return kube_fielderrs_add(
            &a->causes, KUBE_CAUSE_FORBIDDEN, "spec.source.name",
            "VirtualMachine \"%s\" is running without a guest agent; policy "
            "snapshot.requireGuestAgentForOnline requires one: install the "
            "QEMU guest agent or stop the VM",
            vm);
    return wh_warn(a,
                   "VirtualMachine \"%s\" is running without a guest agent: "
                   "the snapshot will be crash-consistent",
                   vm);
}

static int validate_create(struct wh_answer *a, const struct wh_req *r)
{
    static const char *const policies[] = {"Delete", "Retain", NULL};
    const json_t *spec = json_object_get(r->object, "spec");
    const json_t *source = json_object_get(spec, "source");
    const json_t *dp = json_object_get(spec, "deletionPolicy");
    const char *vm = kube_json_str0(source, "name");
    int ok, rc;

    ok = wh_check_vm_ref(a, source, "spec.source");
    if (ok < 0)
        return KUBE_OK; /* KubeVirt stops at a missing apiGroup */
    if (!*vm)
        kube_fielderrs_required(&a->causes, "spec.source.name", NULL);
    rc = wh_deadline_validate(a, spec, r->env->policy);
    if (rc == KUBE_OK && dp && !json_is_null(dp) &&
        !kube_json_str_in(dp, policies))
        rc = kube_fielderrs_not_supported(&a->causes, "spec.deletionPolicy", dp,
                                          policies);
    if (rc < 0 || ok <= 0 || !*vm)
        return rc;
    rc = check_max_per_vm(a, r, vm);
    return rc < 0 ? rc : check_source_vm(a, r, vm);
}

/* DELETE: a restore that reads this snapshot must finish first. */
static int validate_delete(struct wh_answer *a, const struct wh_req *r)
{
    json_t *restores = NULL, *rs;
    size_t i;
    int rc;

    if (wh_req_is_system_deleter(r) || wh_state_namespace_terminating(r))
        return KUBE_OK; /* never wedge namespace deletion or GC */
    rc = wh_state_list(&restores, a, r, "VirtualMachineRestore");
    if (rc < 0)
        return rc == KUBE_EUNAVAIL ? KUBE_OK : rc;
    json_array_foreach(restores, i, rs)
    {
        if (strcmp(kube_json_str0(rs, "spec.virtualMachineSnapshotName"),
                   r->name) == 0 &&
            !kube_json_true(rs, "status.complete") &&
            !kube_json_path(rs, "metadata.deletionTimestamp")) {
            wh_deny(a, 403, "Forbidden",
                    "VirtualMachineRestore \"%s\" is restoring from this "
                    "snapshot: wait for it to complete, or delete it first",
                    kube_json_str0(rs, "metadata.name"));
            break;
        }
    }
    json_decref(restores);
    return KUBE_OK;
}

static int snapshot_validate(struct wh_answer *a, const struct wh_req *r)
{
    switch (r->op) {
    case WH_CREATE:
        return validate_create(a, r);
    case WH_UPDATE:
        return wh_check_spec_immutable(a, r, &wh_kind_snapshot);
    case WH_DELETE:
        return validate_delete(a, r);
    }
    return KUBE_ERR;
}

/* Whether c may appear inside a label value ([-_.A-Za-z0-9]). */
static int label_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

void wh_label_value(char out[WH_LABEL_MAX + 1], const char *s)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    size_t n = strlen(s), i, start = 0, end = 0;

    while (end < n && label_char(s[end]))
        end++;
    if (end == n && n <= WH_LABEL_MAX &&
        (n == 0 ||
         (isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1])))) {
        memcpy(out, s, n + 1);
        return;
    }
    /* The valid start of s, cut so that "-" and 10 hex digits of the
     * name's SHA-256 fit in 63 and trimmed to alphanumeric ends, the way
     * Kubernetes tooling shortens generated names: unique per name, and
     * the same on every replica and restart. */
    if (end > WH_LABEL_MAX - 11)
        end = WH_LABEL_MAX - 11;
    while (start < end && !isalnum((unsigned char)s[start]))
        start++;
    while (end > start && !isalnum((unsigned char)s[end - 1]))
        end--;
    memcpy(out, s + start, end - start);
    n = end - start;
    if (n > 0)
        out[n++] = '-';
    SHA256((const unsigned char *)s, strlen(s), md);
    for (i = 0; i < 5; i++) {
        out[n++] = hex[md[i] >> 4];
        out[n++] = hex[md[i] & 15];
    }
    out[n] = '\0';
}

/* CREATE: default the deadline, and label the snapshot with its VM so
 * `kubectl get vmsnapshot -l snapshot.kubevirt.io/source-vm-name=vm1`
 * lists a VM's snapshots. A name that is no valid label value (over 63
 * characters) is shortened by wh_label_value(): kube-apiserver would
 * refuse the whole object otherwise. */
static int snapshot_mutate(struct wh_answer *a, const struct wh_req *r)
{
    static const char *const label[] = {
        "metadata", "labels", "snapshot.kubevirt.io/source-vm-name", NULL};
    const json_t *spec = json_object_get(r->object, "spec");
    const char *vm = kube_json_str0(spec, "source.name");
    const json_t *labels = kube_json_path(r->object, "metadata.labels");
    /* the key holds dots, so no dotted-path lookup */
    const char *have = json_string_value(json_object_get(labels, label[2]));
    char ptr[128], value[WH_LABEL_MAX + 1];
    int rc;

    if (r->op != WH_CREATE)
        return KUBE_OK;
    rc = wh_deadline_mutate(a, spec, r->env->policy);
    wh_label_value(value, vm);
    if (rc < 0 || !*vm ||
        !json_is_object(json_object_get(r->object, "metadata")) ||
        (have && strcmp(have, value) == 0))
        return rc;
    if (!json_is_object(labels))
        return kube_patch_add_new(&a->patch, "add", "/metadata/labels",
                                  json_pack("{s:s}", label[2], value));
    rc = kube_pointer(ptr, sizeof(ptr), label);
    return rc ? rc
              : kube_patch_add_new(&a->patch, "add", ptr, json_string(value));
}

const struct wh_kind wh_kind_snapshot = {
    .resource = "virtualmachinesnapshots",
    .kind = "VirtualMachineSnapshot",
    .types = snapshot_types,
    .duration_fields = snapshot_durations,
    .validate = snapshot_validate,
    .mutate = snapshot_mutate,
};
