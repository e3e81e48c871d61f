/* reconciler/content_status.c - a VirtualMachineSnapshotContent's status
 * from its VolumeSnapshots (spec/kubevirt-controller.md §5.1 steps 4-8,
 * §4.5). */
#include "reconciler/snapshot_logic.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/metatime.h"

void rc_content_eval_free(struct rc_content_eval *e)
{
    if (!e)
        return;
    json_decref(e->status);
    json_decref(e->create);
    json_decref(e->deleted);
    memset(e, 0, sizeof(*e));
}

/* The volumeSnapshotStatus entry for VolumeSnapshot vs (borrowed; NULL:
 * just to be created) named name. New reference or NULL. */
static json_t *vs_entry(const char *name, const json_t *vs)
{
    const json_t *s = kube_json_path(vs, "status");
    json_t *e = json_pack("{s:s}", "volumeSnapshotName", name);
    static const char *const keys[] = {"creationTime", "readyToUse", "error"};

    for (size_t i = 0; e && s && i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(s, keys[i]);

        if (v && !json_is_null(v) &&
            json_object_set_new(e, keys[i], json_deep_copy(v))) {
            json_decref(e);
            e = NULL;
        }
    }
    return e;
}

/* "a,b" from an array of names, into buf (cut to fit). */
static void join(char *buf, size_t len, const json_t *names)
{
    size_t used = 0, i;
    const json_t *v;

    buf[0] = '\0';
    json_array_foreach(names, i, v)
    {
        int n = snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                         json_string_value(v));

        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

/* §5.1 step 4: one volume backup, sorted into list, create, deleted or
 * skipped. */
static int sort_backup(struct rc_content_eval *e, json_t *list, json_t *skipped,
                       struct kube_store *st, const json_t *content,
                       json_t *backup, int snapshot_gone)
{
    const char *name = kube_json_str(backup, "volumeSnapshotName");
    int created_before = kube_json_path(content, "status.creationTime") != NULL;
    json_t *vs = NULL;
    int rc = KUBE_OK;

    if (!name)
        return KUBE_OK;
    if (kube_store_get(&vs, st, "VolumeSnapshot",
                       kube_json_str0(content, "metadata.namespace"),
                       name) < 0) {
        if (created_before)
            return json_array_append_new(e->deleted, json_string(name))
                       ? KUBE_ENOMEM
                       : KUBE_OK;
        if (snapshot_gone)
            return json_array_append_new(skipped, json_string(name))
                       ? KUBE_ENOMEM
                       : KUBE_OK;
        if (json_array_append(e->create, backup))
            return KUBE_ENOMEM;
    }
    if (json_array_append_new(list, vs_entry(name, vs)))
        rc = KUBE_ENOMEM;
    json_decref(vs);
    return rc;
}

/* §5.1 step 5: created, ready and the error text. */
static void aggregate(struct rc_content_eval *e, int *created, char *msg,
                      size_t len, const json_t *list, const json_t *skipped)
{
    char names[KUBE_ERR_MSG];
    const json_t *v;
    size_t i;

    msg[0] = '\0';
    *created = e->ready = 0;
    if (json_array_size(e->deleted) || json_array_size(skipped)) {
        join(names, sizeof(names),
             json_array_size(e->deleted) ? e->deleted : skipped);
        snprintf(msg, len,
                 json_array_size(e->deleted)
                     ? "VolumeSnapshots (%s) missing"
                     : "VolumeSnapshots (%s) skipped because vm snapshot is "
                       "deleted",
                 names);
        return;
    }
    *created = e->ready = 1;
    json_array_foreach(list, i, v)
    {
        const char *err = kube_json_str(v, "error.message");

        *created &= json_object_get(v, "creationTime") != NULL;
        e->ready &= kube_json_true(v, "readyToUse");
        if (err && !msg[0])
            snprintf(msg, len, "VolumeSnapshot %s error: %s",
                     kube_json_str0(v, "volumeSnapshotName"), err);
    }
}

/* §5.1 steps 6-8 on the new status st. */
static int apply(struct rc_content_eval *e, json_t *st, int created,
                 const char *msg, json_t *list, int64_t now_ms)
{
    const char *old_msg = kube_json_str(st, "error.message");
    char now[32];

    kube_metatime_format(now, sizeof(now), now_ms);
    if (created && !kube_json_path(st, "creationTime")) {
        if (json_object_set_new(st, "creationTime", json_string(now)))
            return KUBE_ENOMEM;
        e->first_created = 1;
    }
    if (msg[0] && !e->ready && (!old_msg || strcmp(old_msg, msg) != 0)) {
        if (json_object_set_new(
                st, "error",
                json_pack("{s:s, s:s}", "time", now, "message", msg)))
            return KUBE_ENOMEM;
    } else if (!msg[0])
        json_object_del(st, "error");
    if (json_object_set_new(st, "readyToUse", json_boolean(e->ready)) ||
        json_object_set(st, "volumeSnapshotStatus", list))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

int rc_content_evaluate(struct rc_content_eval *out, const json_t *content,
                        struct kube_store *st, int snapshot_gone,
                        int64_t now_ms)
{
    const json_t *old = kube_json_path(content, "status");
    json_t *list = json_array(), *skipped = json_array(), *b;
    char msg[KUBE_ERR_MSG * 2];
    int rc = KUBE_OK, created;
    size_t i;

    memset(out, 0, sizeof(*out));
    out->status = old ? json_deep_copy(old) : json_object();
    out->create = json_array();
    out->deleted = json_array();
    if (!list || !skipped || !out->status || !out->create || !out->deleted)
        rc = KUBE_ENOMEM;
    json_array_foreach(kube_json_path(content, "spec.volumeBackups"), i, b)
    {
        if (rc == KUBE_OK)
            rc = sort_backup(out, list, skipped, st, content, b, snapshot_gone);
    }
    if (rc == KUBE_OK) {
        aggregate(out, &created, msg, sizeof(msg), list, skipped);
        rc = apply(out, out->status, created, msg, list, now_ms);
    }
    json_decref(list);
    json_decref(skipped);
    if (rc < 0)
        rc_content_eval_free(out);
    return rc;
}
