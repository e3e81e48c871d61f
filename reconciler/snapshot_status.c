/* reconciler/snapshot_status.c - a VirtualMachineSnapshot's status and
 * its failureDeadline (spec/kubevirt-controller.md §4.4, §4.6, §1.2 on
 * conditions). */
#include "reconciler/snapshot_logic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube/duration.h"
#include "kube/json.h"
#include "kube/metatime.h"
#include "reconciler/conditions.h"

static int phase_is(const json_t *snapshot, const char *phase)
{
    return strcmp(kube_json_str0(snapshot, "status.phase"), phase) == 0;
}

/* spec.failureDeadline in ms: 5m when unset. */
static int deadline_ms(int64_t *out, const json_t *snapshot,
                       struct kube_err *err)
{
    const json_t *v = kube_json_path(snapshot, "spec.failureDeadline");
    int64_t ns;
    int rc;

    *out = RC_DEFAULT_FAILURE_DEADLINE_MS;
    if (!v)
        return KUBE_OK;
    if (!json_is_string(v))
        return kube_err_set(err, KUBE_EINVAL,
                            "spec.failureDeadline is not a duration string");
    rc = kube_duration_parse(&ns, json_string_value(v), 0, err);
    if (rc == KUBE_OK)
        *out = ns / 1000000;
    return rc;
}

int rc_deadline(int64_t *left_ms, const json_t *snapshot, int64_t now_ms,
                struct kube_err *err)
{
    const char *created = kube_json_str(snapshot, "metadata.creationTimestamp");
    int64_t d, c, left;
    int rc;

    *left_ms = 0;
    if (phase_is(snapshot, "Failed"))
        return 1;
    if (phase_is(snapshot, "Succeeded"))
        return 0; /* a Succeeded snapshot never fails */
    rc = deadline_ms(&d, snapshot, err);
    if (rc < 0 || d == 0)
        return rc; /* "0" disables the deadline */
    if (kube_metatime_parse(&c, created) < 0)
        return kube_err_set(err, KUBE_EINVAL,
                            "metadata.creationTimestamp: not RFC 3339: %s",
                            created ? created : "(none)");
    left = c + d - now_ms;
    if (left < 0)
        return 1;
    *left_ms = left > 0 ? left : 1; /* at the deadline: look once more */
    return 0;
}

int rc_should_delete_content(const json_t *snapshot, const json_t *content)
{
    const char *policy = kube_json_str(snapshot, "spec.deletionPolicy");

    return !policy || strcmp(policy, "Delete") == 0 ||
           !kube_json_true(content, "status.readyToUse");
}

/* A copy of status (borrowed, may be NULL) without conditions'
 * lastProbeTime, for comparing. New reference or NULL. */
static json_t *without_probe_times(const json_t *status)
{
    json_t *c = json_deep_copy(status), *cond;
    size_t i;

    json_array_foreach(json_object_get(c, "conditions"), i, cond)
        json_object_del(cond, "lastProbeTime");
    return c;
}

int rc_status_differs(const json_t *a, const json_t *b)
{
    json_t *x = without_probe_times(a), *y = without_probe_times(b);
    int differs;

    if (!a || !b)
        differs = a != b;
    else
        differs = !x || !y || !json_equal(x, y); /* no memory: write */
    json_decref(x);
    json_decref(y);
    return differs;
}

/* A condition the computation wants: type, status, reason. */
struct want {
    const char *type, *status, *reason;
};

/* Sets key to a copy of value (borrowed), or removes key when NULL. */
static int set_or_del(json_t *obj, const char *key, const json_t *value)
{
    if (!value || json_is_null(value)) {
        json_object_del(obj, key);
        return KUBE_OK;
    }
    return json_object_set_new(obj, key, json_deep_copy(value)) ? KUBE_ENOMEM
                                                                : KUBE_OK;
}

/* §4.4 step 3: what the content's status says. */
static int copy_content(json_t *st, const json_t *content)
{
    const json_t *cs = kube_json_path(content, "status");

    if (!cs)
        return KUBE_OK;
    if (json_object_set_new(
            st, "virtualMachineSnapshotContentName",
            json_string(kube_json_str0(content, "metadata.name"))) ||
        set_or_del(st, "creationTime", json_object_get(cs, "creationTime")) ||
        set_or_del(st, "readyToUse", json_object_get(cs, "readyToUse")) ||
        set_or_del(st, "error", json_object_get(cs, "error")))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

/* Whether the content has a volumeBackup for volume name. */
static int backed_up(const json_t *content, const char *name)
{
    return kube_json_find(kube_json_path(content, "spec.volumeBackups"),
                          "volumeName", name) != NULL;
}

static int snapshottable(const json_t *vol)
{
    return json_object_get(vol, "persistentVolumeClaim") ||
           json_object_get(vol, "dataVolume") ||
           json_object_get(vol, "memoryDump");
}

/* Appends PartialSnapshot to both indication lists unless present. */
static int add_partial(json_t *st)
{
    json_t *ind = json_object_get(st, "indications"), *v;
    size_t i;

    json_array_foreach(ind, i, v)
    {
        if (json_is_string(v) &&
            strcmp(json_string_value(v), "PartialSnapshot") == 0)
            return KUBE_OK;
    }
    if (!json_is_array(ind) &&
        json_object_set_new(st, "indications", ind = json_array()))
        return KUBE_ENOMEM;
    if (!json_is_array(json_object_get(st, "sourceIndications")) &&
        json_object_set_new(st, "sourceIndications", json_array()))
        return KUBE_ENOMEM;
    if (json_array_append_new(ind, json_string("PartialSnapshot")) ||
        json_array_append_new(
            json_object_get(st, "sourceIndications"),
            json_pack("{s:s, s:s}", "indication", "PartialSnapshot", "message",
                      rc_indication_message("PartialSnapshot"))))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

/* §4.4 Succeeded: snapshotVolumes from the content's VM, PartialSnapshot
 * when a snapshottable volume was left out. */
static int snapshot_volumes(json_t *st, const json_t *content)
{
    const json_t *vols = kube_json_path(
        content, "spec.source.virtualMachine.spec.template.spec.volumes");
    json_t *inc = json_array(), *exc = json_array(), *sv = json_object();
    const json_t *vol;
    size_t i;
    int rc = inc && exc && sv ? KUBE_OK : KUBE_ENOMEM, partial = 0;

    json_array_foreach(vols, i, vol)
    {
        const char *name = kube_json_str0(vol, "name");
        int in = backed_up(content, name);

        if (rc == KUBE_OK &&
            json_array_append_new(in ? inc : exc, json_string(name)))
            rc = KUBE_ENOMEM;
        partial |= !in && snapshottable(vol);
    }
    if (rc == KUBE_OK && json_array_size(inc))
        rc = json_object_set(sv, "includedVolumes", inc) ? KUBE_ENOMEM : 0;
    if (rc == KUBE_OK && json_array_size(exc))
        rc = json_object_set(sv, "excludedVolumes", exc) ? KUBE_ENOMEM : 0;
    if (rc == KUBE_OK && content)
        rc = json_object_set(st, "snapshotVolumes", sv) ? KUBE_ENOMEM : 0;
    if (rc == KUBE_OK && partial)
        rc = add_partial(st);
    json_decref(inc);
    json_decref(exc);
    json_decref(sv);
    return rc;
}

/* §4.2: recomputed indications of an InProgress snapshot with a source. */
static int update_indications(json_t *st, const struct rc_source *src)
{
    json_t *ind = NULL, *srcind = NULL;
    int rc = rc_indications(&ind, &srcind, src, st,
                            kube_json_str(st, "error.message"));

    if (rc == KUBE_OK && (set_or_del(st, "indications", ind) ||
                          set_or_del(st, "sourceIndications", srcind)))
        rc = KUBE_ENOMEM;
    json_decref(ind);
    json_decref(srcind);
    return rc;
}

/* §4.4 step 4: the phase, and the Failure and Progressing wanted (in the
 * order KubeVirt first sets them, which is the list's order). Returns the
 * number of conditions written to w. */
static int phase_and_conditions(json_t *st, const struct rc_snapshot_in *in,
                                struct want *w, int *rc)
{
    const char *phase = kube_json_str0(st, "phase");
    const char *p;
    int n = 0;

    if (in->deadline_exceeded) {
        p = "Failed";
        w[n++] = (struct want){"Failure", "True", "snapshot deadline exceeded"};
        w[n++] = (struct want){"Progressing", "False", "Operation failed"};
    } else if (strcmp(phase, "Succeeded") == 0 ||
               json_object_get(st, "creationTime")) {
        p = "Succeeded";
        w[n++] = (struct want){"Progressing", "False", "Operation complete"};
        *rc = in->content ? snapshot_volumes(st, in->content) : KUBE_OK;
    } else {
        p = "InProgress";
        if (in->source->exists) {
            w[n++] = (struct want){"Progressing",
                                   in->source->locked ? "True" : "False",
                                   in->source->lock_msg};
            *rc = update_indications(st, in->source);
        } else
            w[n++] =
                (struct want){"Progressing", "False", "Source does not exist"};
        if (in->deleting) {
            p = "Deleting";
            w[n - 1].reason = "VM snapshot is deleting";
            w[n - 1].status = "False";
        }
    }
    if (*rc == KUBE_OK && json_object_set_new(st, "phase", json_string(p)))
        *rc = KUBE_ENOMEM;
    return n;
}

int rc_snapshot_status(json_t **out, const struct rc_snapshot_in *in)
{
    const json_t *old = kube_json_path(in->snapshot, "status");
    struct want w[4];
    int n, rc = KUBE_OK, ready;
    json_t *st;

    *out = NULL;
    st = old ? json_deep_copy(old) : json_pack("{s:b}", "readyToUse", 0);
    if (!st)
        return KUBE_ENOMEM;
    if (in->source->exists &&
        json_object_set_new(st, "sourceUID", json_string(in->source->uid)))
        rc = KUBE_ENOMEM;
    if (rc == KUBE_OK && in->content)
        rc = copy_content(st, in->content);
    n = rc == KUBE_OK ? phase_and_conditions(st, in, w, &rc) : 0;
    ready = json_is_true(json_object_get(st, "readyToUse"));
    w[n++] = (struct want){"Ready", ready ? "True" : "False",
                           ready ? "Ready" : "Not ready"};
    if (json_object_get(st, "error")) /* step 6 overrides Progressing */
        for (int i = 0; i < n; i++)
            if (strcmp(w[i].type, "Progressing") == 0)
                w[i] = (struct want){"Progressing", "False", "In error state"};
    for (int i = 0; rc >= 0 && i < n;
         i++) /* §1.2, in reconciler/conditions.c */
        rc = rc_condition_set(st, w[i].type, strcmp(w[i].status, "True") == 0,
                              w[i].reason, in->now_ms);
    if (rc < 0)
        json_decref(st);
    else
        *out = st;
    return rc < 0 ? rc : KUBE_OK;
}
