/* reconciler/source.c - the source VM's state, its indications, its
 * PVC-backed volumes and the checks that hold its lock back
 * (spec/kubevirt-controller.md §4 step 1, §4.1, §4.2). */
#include "reconciler/snapshot_logic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"

/* The VMI condition of type t (borrowed) or NULL. */
static const json_t *find_condition(const json_t *obj, const char *t)
{
    return kube_json_find(kube_json_path(obj, "status.conditions"), "type", t);
}

void rc_source_state(struct rc_source *out, const json_t *vm, const json_t *vmi,
                     const char *snap_name)
{
    const json_t *paused = find_condition(vmi, "Paused");
    const char *in_progress = kube_json_str(vm, "status.snapshotInProgress");

    memset(out, 0, sizeof(*out));
    out->exists = vm != NULL;
    out->online = vmi != NULL;
    out->paused =
        paused && strcmp(kube_json_str0(paused, "status"), "True") == 0;
    out->guest_agent = find_condition(vmi, "AgentConnected") != NULL;
    out->frozen =
        strcmp(kube_json_str0(vmi, "status.fsFreezeStatus"), "frozen") == 0;
    out->locked = in_progress && snap_name &&
                  strcmp(in_progress, snap_name) == 0 &&
                  kube_json_has_str(kube_json_path(vm, "metadata.finalizers"),
                                    RC_SOURCE_FINALIZER);
    snprintf(out->uid, sizeof(out->uid), "%s",
             kube_json_str0(vm, "metadata.uid"));
    snprintf(out->lock_msg, sizeof(out->lock_msg), "%s",
             out->locked ? RC_MSG_LOCKED : RC_MSG_NOT_LOCKED);
}

/* §1.2: each indication and its sourceIndications message. */
static const struct {
    const char *name, *msg;
} indication_msgs[] = {
    {"Online", "Snapshot taken while the VM was running. Consistency depends "
               "on guest-agent quiescing."},
    {"GuestAgent", "Guest agent was active and attempted to quiesce the "
                   "filesystem for application consistency."},
    {"NoGuestAgent", "Guest agent was not available. Snapshot is "
                     "crash-consistent and may not be application-consistent."},
    {"QuiesceTimeout",
     "Guest agent quiesced the filesystem, but the freeze window timed out "
     "before completion. Snapshot is crash-consistent and may not be "
     "application-consistent."},
    {"Paused", "Snapshot taken while the VM was paused. Snapshot is "
               "crash-consistent and may not be application-consistent."},
    {"PartialSnapshot",
     "Not all snapshotable volumes were included in the snapshot. Check "
     "status.snapshotVolumes for excluded volumes and VM VolumeSnapshotStatus "
     "for details."},
};

const char *rc_indication_message(const char *indication)
{
    for (size_t i = 0; i < sizeof(indication_msgs) / sizeof(indication_msgs[0]);
         i++)
        if (indication && strcmp(indication_msgs[i].name, indication) == 0)
            return indication_msgs[i].msg;
    return "Unknown indication";
}

/* Adds name to set (an object used for its keys). */
static int set_add(json_t *set, const char *name)
{
    return json_object_set_new(set, name, json_true()) ? KUBE_ENOMEM : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of set (borrowed) as two sorted arrays: the names, and
 * {indication, message} objects. */
static int set_to_lists(json_t **ind, json_t **src, const json_t *set)
{
    const char *names[32];
    size_t n = 0;
    const char *k;
    const json_t *v;
    int rc = KUBE_OK;

    json_object_foreach((json_t *)set, k, v)
    {
        if (n < sizeof(names) / sizeof(names[0]))
            names[n++] = k;
    }
    qsort(names, n, sizeof(names[0]), cmp_str);
    *ind = json_array();
    *src = json_array();
    for (size_t i = 0; rc == KUBE_OK && i < n; i++) {
        if (!*ind || !*src ||
            json_array_append_new(*ind, json_string(names[i])) ||
            json_array_append_new(
                *src, json_pack("{s:s, s:s}", "indication", names[i], "message",
                                rc_indication_message(names[i]))))
            rc = KUBE_ENOMEM;
    }
    if (rc == KUBE_OK && (!*ind || !*src))
        rc = KUBE_ENOMEM;
    if (rc < 0) {
        json_decref(*ind);
        json_decref(*src);
        *ind = *src = NULL;
    }
    return rc;
}

int rc_indications(json_t **indications, json_t **source_indications,
                   const struct rc_source *s, const json_t *status,
                   const char *error_msg)
{
    const json_t *old = kube_json_path(status, "indications");
    json_t *set, *v;
    size_t i;
    int rc = KUBE_OK;

    *indications = *source_indications = NULL;
    if (!s->online)
        return KUBE_OK;
    set = json_object();
    if (!set)
        return KUBE_ENOMEM;
    json_array_foreach(old, i, v)
    {
        if (json_is_string(v))
            rc |= set_add(set, json_string_value(v));
    }
    rc |= set_add(set, "Online");
    if (s->paused)
        rc |= set_add(set, "Paused");
    else if (s->guest_agent) {
        rc |= set_add(set, "GuestAgent");
        if (error_msg && strstr(error_msg, "fsfreeze is limited"))
            rc |= set_add(set, "QuiesceTimeout");
    } else
        rc |= set_add(set, "NoGuestAgent");
    if (rc == KUBE_OK)
        rc = set_to_lists(indications, source_indications, set);
    else
        rc = KUBE_ENOMEM;
    json_decref(set);
    return rc;
}

/* The claim of one volume (borrowed) or NULL when it is not PVC-backed. */
static const char *volume_claim(const json_t *vol)
{
    if (kube_json_path(vol, "dataVolume"))
        return kube_json_str(vol, "dataVolume.name");
    if (kube_json_path(vol, "persistentVolumeClaim"))
        return kube_json_str(vol, "persistentVolumeClaim.claimName");
    if (kube_json_path(vol, "memoryDump"))
        return kube_json_str(vol, "memoryDump.claimName");
    return NULL;
}

int rc_source_pvcs(json_t **out, const json_t *vm)
{
    const json_t *vols = kube_json_path(vm, "spec.template.spec.volumes");
    const json_t *vol;
    size_t i;

    *out = json_object();
    if (!*out)
        return KUBE_ENOMEM;
    json_array_foreach(vols, i, vol)
    {
        const char *name = kube_json_str(vol, "name");
        const char *claim = volume_claim(vol);

        if (name && claim &&
            json_object_set_new(*out, name, json_string(claim))) {
            json_decref(*out);
            *out = NULL;
            return KUBE_ENOMEM;
        }
    }
    return KUBE_OK;
}

/* Appends text to s->lock_msg (cut to fit) and returns 0: held back. */
static int hold_back(struct rc_source *s, const char *fmt, ...)
    KUBE_PRINTF(2, 3);

static int hold_back(struct rc_source *s, const char *fmt, ...)
{
    size_t used = strlen(s->lock_msg);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->lock_msg + used, sizeof(s->lock_msg) - used, fmt, ap);
    va_end(ap);
    return 0;
}

/* The DataVolume controlling pvc (borrowed), or NULL. */
static const char *dv_owner(const json_t *pvc)
{
    const json_t *refs = kube_json_path(pvc, "metadata.ownerReferences");
    const json_t *r;
    size_t i;

    json_array_foreach(refs, i, r)
    {
        if (kube_json_true(r, "controller") &&
            strcmp(kube_json_str0(r, "kind"), "DataVolume") == 0)
            return kube_json_str(r, "name");
    }
    return NULL;
}

/* verifyVolumes for one claim: NULL when fine, else the error text. */
static const char *verify_claim(struct kube_store *st, const char *ns,
                                const char *claim)
{
    json_t *pvc = NULL, *dv = NULL;
    const char *why = NULL, *dv_name;

    if (kube_store_get(&pvc, st, "PersistentVolumeClaim", ns, claim) < 0)
        return "volume doesnt exist";
    dv_name = dv_owner(pvc);
    if (kube_json_path(pvc, "metadata.deletionTimestamp"))
        why = "volume is being deleted";
    else if (strcmp(kube_json_str0(pvc, "status.phase"), "Bound") != 0)
        why = "volume not bound";
    else if (dv_name &&
             (kube_store_get(&dv, st, "DataVolume", ns, dv_name) < 0 ||
              strcmp(kube_json_str0(dv, "status.phase"), "Succeeded") != 0))
        why = "volume not populated";
    json_decref(dv);
    json_decref(pvc);
    return why;
}

/* Whether pod (borrowed) mounts any claim of pvcs (borrowed). */
static int pod_uses(const json_t *pod, const json_t *pvcs)
{
    const json_t *vols = kube_json_path(pod, "spec.volumes");
    const json_t *vol, *claim;
    const char *k, *name;
    size_t i;

    json_array_foreach(vols, i, vol)
    {
        name = kube_json_str(vol, "persistentVolumeClaim.claimName");
        json_object_foreach((json_t *)pvcs, k, claim)
        {
            if (name && strcmp(name, json_string_value(claim)) == 0)
                return 1;
        }
    }
    return 0;
}

/* §4.1 step 3: an offline VM's PVCs must not be mounted by live pods. */
static int check_pods(struct rc_source *s, struct kube_store *st,
                      const char *ns, const json_t *pvcs)
{
    char names[KUBE_ERR_MSG] = "";
    json_t *pods = NULL, *pod;
    size_t i, n = 0, used = 0;

    if (kube_store_list(&pods, st, "Pod", ns) < 0)
        return KUBE_ENOMEM;
    json_array_foreach(pods, i, pod)
    {
        if (strcmp(kube_json_str0(pod, "status.phase"), "Succeeded") == 0 ||
            !pod_uses(pod, pvcs))
            continue;
        used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                 n ? " " : "",
                                 kube_json_str0(pod, "metadata.name"));
        if (used >= sizeof(names))
            used = sizeof(names) - 1;
        n++;
    }
    json_decref(pods);
    if (n == 0)
        return 1;
    return hold_back(s, " source is offline but %zu pods using PVCs [%s]", n,
                     names);
}

int rc_lock_check(struct rc_source *s, struct kube_store *st, const json_t *vm,
                  const json_t *pvcs, const char *snap_name)
{
    const char *ns = kube_json_str0(vm, "metadata.namespace");
    const char *other = kube_json_str(vm, "status.snapshotInProgress");
    const json_t *claim;
    const char *vol;
    int rc;

    json_object_foreach((json_t *)pvcs, vol, claim)
    {
        const char *why = verify_claim(st, ns, json_string_value(claim));

        if (why)
            return hold_back(s, " source %s/%s %s: %s", ns,
                             kube_json_str0(vm, "metadata.name"), why,
                             json_string_value(claim));
    }
    if (!s->online) {
        rc = check_pods(s, st, ns, pvcs);
        if (rc <= 0)
            return rc;
    }
    if (other && strcmp(other, snap_name) != 0)
        return hold_back(s, " snapshot \"%s\" in progress", other);
    return 1;
}
