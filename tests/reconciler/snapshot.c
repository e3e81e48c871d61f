/* tests/reconciler/snapshot.c - the snapshot worker's pure parts: status
 * computation (spec §4.4 reasons, phases and indications), the
 * VolumeSnapshotClass choice (§5.3) and content building (§4.3). */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"
#include "reconciler/snapshot.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);

    cr_assert(v, "bad test JSON: %s: %s", e.text, text);
    return v;
}

/* The condition of type t as "status reason", or "" when absent. */
static const char *cond(const json_t *st, const char *t, char *buf, size_t len)
{
    const json_t *c;
    size_t i;

    *buf = '\0';
    json_array_foreach(json_object_get(st, "conditions"), i, c)
    {
        if (strcmp(kube_json_str0(c, "type"), t) == 0)
            snprintf(buf, len, "%s %s", kube_json_str0(c, "status"),
                     kube_json_str0(c, "reason"));
    }
    return buf;
}

#define SNAP                                                                   \
    "{\"metadata\": {\"name\": \"s\", \"namespace\": \"ns\", \"uid\": "        \
    "\"u1\"%s}, \"spec\": {\"source\": {\"kind\": \"VirtualMachine\", "        \
    "\"name\": \"vm\"}}%s}"

Test(rc_snapshot, status_table)
{
    static const struct {
        const char *name;
        const char *snap_meta, *snap_status; /* spliced into SNAP */
        const char *content;                 /* NULL: none */
        int vm, locked, online, agent, exceeded;
        const char *phase, *progressing, *ready, *failure, *indications;
    } cases[] = {
        {"no source", "", "", NULL, 0, 0, 0, 0, 0, "InProgress",
         "False Source does not exist", "False Not ready", "", ""},
        {"locked, content without status", "", "", "{\"metadata\": {}}", 1, 1,
         0, 0, 0, "InProgress", "True Source locked and operation in progress",
         "False Not ready", "", ""},
        {"online with a guest agent", "", "", NULL, 1, 1, 1, 1, 0, "InProgress",
         "True Source locked and operation in progress", "False Not ready", "",
         "[\"GuestAgent\",\"Online\"]"},
        {"online without one", "", "", NULL, 1, 1, 1, 0, 0, "InProgress",
         "True Source locked and operation in progress", "False Not ready", "",
         "[\"NoGuestAgent\",\"Online\"]"},
        {"content created and ready", "", "",
         "{\"metadata\": {\"name\": \"c\"}, \"status\": {\"creationTime\": "
         "\"2026-01-01T00:00:00Z\", \"readyToUse\": true}}",
         1, 1, 0, 0, 0, "Succeeded", "False Operation complete", "True Ready",
         "", ""},
        {"content error", "", "",
         "{\"metadata\": {\"name\": \"c\"}, \"status\": {\"readyToUse\": "
         "false, \"error\": {\"message\": \"boom\"}}}",
         1, 1, 0, 0, 0, "InProgress", "False In error state", "False Not ready",
         "", ""},
        {"deadline exceeded", "", "", NULL, 1, 1, 0, 0, 1, "Failed",
         "False Operation failed", "False Not ready",
         "True snapshot deadline exceeded", ""},
        {"deleted in progress", ", \"deletionTimestamp\": \"x\"", "", NULL, 1,
         0, 0, 0, 0, "Deleting", "False VM snapshot is deleting",
         "False Not ready", "", ""},
        {"a Succeeded one keeps its phase", "",
         ", \"status\": {\"phase\": \"Succeeded\", \"readyToUse\": true}", NULL,
         1, 0, 0, 0, 0, "Succeeded", "False Operation complete", "True Ready",
         "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024], b1[128], b2[128], b3[128];
        json_t *snap, *content, *st, *ind;
        struct rc_source src = {0};
        struct rc_status_in in = {0};
        char *inds;

        snprintf(text, sizeof(text), SNAP, cases[i].snap_meta,
                 cases[i].snap_status);
        snap = J(text);
        content = cases[i].content ? J(cases[i].content) : NULL;
        src.vm = cases[i].vm ? J("{\"metadata\": {\"uid\": \"vmuid\"}}") : NULL;
        src.locked = cases[i].locked;
        src.online = cases[i].online;
        src.guest_agent = cases[i].agent;
        in =
            (struct rc_status_in){snap,
                                  content,
                                  &src,
                                  cases[i].exceeded,
                                  src.locked ? "Source locked and operation in "
                                               "progress"
                                             : "Source not locked",
                                  NULL};
        st = rc_snapshot_status(&in);
        cr_assert(st, "%s", cases[i].name);
        cr_expect_str_eq(kube_json_str0(st, "phase"), cases[i].phase, "%s",
                         cases[i].name);
        cr_expect_str_eq(cond(st, "Progressing", b1, sizeof(b1)),
                         cases[i].progressing, "%s", cases[i].name);
        cr_expect_str_eq(cond(st, "Ready", b2, sizeof(b2)), cases[i].ready,
                         "%s", cases[i].name);
        cr_expect_str_eq(cond(st, "Failure", b3, sizeof(b3)), cases[i].failure,
                         "%s", cases[i].name);
        ind = json_object_get(st, "indications");
        inds = ind ? json_dumps(ind, JSON_COMPACT) : NULL;
        cr_expect_str_eq(inds ? inds : "", cases[i].indications, "%s",
                         cases[i].name);
        free(inds);
        if (cases[i].vm)
            cr_expect_str_eq(kube_json_str0(st, "sourceUID"), "vmuid", "%s",
                             cases[i].name);
        json_decref(st);
        json_decref(src.vm);
        json_decref(content);
        json_decref(snap);
    }
}

/* A condition whose status and reason stay keeps its lastTransitionTime. */
Test(rc_snapshot, condition_time_kept)
{
    json_t *snap = J("{\"metadata\": {\"name\": \"s\"}, \"status\": "
                     "{\"readyToUse\": false, \"phase\": \"InProgress\", "
                     "\"conditions\": [{\"type\": \"Ready\", \"status\": "
                     "\"False\", \"reason\": \"Not ready\", "
                     "\"lastTransitionTime\": \"2000-01-01T00:00:00Z\"}]}}");
    struct rc_source src = {0};
    struct rc_status_in in = {snap, NULL, &src, 0, "Source not locked", NULL};
    json_t *st = rc_snapshot_status(&in);

    cr_expect_str_eq(
        kube_json_str0(json_array_get(json_object_get(st, "conditions"), 0),
                       "lastTransitionTime"),
        "2000-01-01T00:00:00Z");
    json_decref(st);
    json_decref(snap);
}

static struct kube_store *cluster(const char *const *objs)
{
    struct kube_store *s = NULL;

    cr_assert_eq(kube_store_new(&s), KUBE_OK);
    for (size_t i = 0; objs[i]; i++)
        cr_assert_eq(kube_store_put_new(s, J(objs[i])), KUBE_OK, "%s", objs[i]);
    return s;
}

#define SC(name, prov)                                                         \
    "{\"kind\": \"StorageClass\", \"metadata\": {\"name\": \"" name            \
    "\"}, \"provisioner\": \"" prov "\"}"
#define VSC(name, drv, ann)                                                    \
    "{\"kind\": \"VolumeSnapshotClass\", \"metadata\": {\"name\": \"" name     \
    "\"" ann "}, \"driver\": \"" drv "\"}"
#define DEFAULT                                                                \
    ", \"annotations\": "                                                      \
    "{\"snapshot.storage.kubernetes.io/is-default-class\": \"\"}"

Test(rc_snapshot, volume_snapshot_class_table)
{
    static const char *const objs[] = {
        SC("one", "d1"),           SC("two", "d2"),
        SC("none", "d3"),          SC("amb", "d4"),
        VSC("c1", "d1", ""),       VSC("c2a", "d2", ""),
        VSC("c2b", "d2", DEFAULT), VSC("c4a", "d4", ""),
        VSC("c4b", "d4", ""),      NULL};
    static const struct {
        const char *sc, *want, *err;
    } cases[] = {
        {"one", "c1", ""},
        {"two", "c2b", ""}, /* the default class among two */
        {"none", "", ""},
        {"missing", "", ""},
        {"amb", "", "2 matching VolumeSnapshotClasses for amb"},
    };
    struct kube_store *s = cluster(objs);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        struct kube_err err = {0};
        int rc =
            rc_volume_snapshot_class(buf, sizeof(buf), s, cases[i].sc, &err);

        cr_expect_eq(rc, *cases[i].err ? KUBE_EINVAL : KUBE_OK, "%s",
                     cases[i].sc);
        cr_expect_str_eq(buf, cases[i].want, "%s", cases[i].sc);
        cr_expect_str_eq(err.msg, cases[i].err, "%s", cases[i].sc);
    }
    kube_store_free(s);
}

#define PVC(name, sc)                                                          \
    "{\"kind\": \"PersistentVolumeClaim\", \"metadata\": {\"name\": \"" name   \
    "\", \"namespace\": \"ns\", \"managedFields\": []}, \"spec\": "            \
    "{\"storageClassName\": \"" sc "\"}, \"status\": {\"phase\": "             \
    "\"Bound\"}}"

Test(rc_snapshot, content_build)
{
    static const char *const objs[] = {SC("one", "d1"),     SC("none", "d3"),
                                       VSC("c1", "d1", ""), PVC("p1", "one"),
                                       PVC("p3", "none"),   NULL};
    struct kube_store *s = cluster(objs);
    json_t *snap = J("{\"apiVersion\": \"snapshot.kubevirt.io/v1beta1\", "
                     "\"kind\": \"VirtualMachineSnapshot\", \"metadata\": "
                     "{\"name\": \"s\", \"namespace\": \"ns\", \"uid\": "
                     "\"u1\"}}");
    struct rc_source src = {0};
    json_t *c = NULL;
    char why[256];

    src.vm = J("{\"metadata\": {\"name\": \"vm\", \"managedFields\": []}, "
               "\"spec\": {\"template\": {\"spec\": {\"volumes\": ["
               "{\"name\": \"d\", \"persistentVolumeClaim\": {\"claimName\": "
               "\"p1\"}}, {\"name\": \"ci\", \"cloudInitNoCloud\": {}}]}}}}");
    cr_assert_eq(rc_content_build(&c, why, sizeof(why), s, snap, &src),
                 KUBE_OK);
    cr_assert(c, "%s", why);
    cr_expect_str_eq(kube_json_str0(c, "metadata.name"),
                     "vmsnapshot-content-u1");
    cr_expect_str_eq(
        kube_json_str0(
            json_array_get(kube_json_path(c, "spec.volumeBackups"), 0),
            "volumeSnapshotName"),
        "vmsnapshot-u1-volume-d");
    cr_expect_eq(json_array_size(kube_json_path(c, "spec.volumeBackups")), 1);
    cr_expect_null(kube_json_path(c, "spec.source.virtualMachine.metadata."
                                     "managedFields"));
    cr_expect_str_eq(json_string_value(json_array_get(
                         kube_json_path(c, "metadata.finalizers"), 0)),
                     RC_CONTENT_FINALIZER);
    json_decref(c);
    json_decref(src.vm);
    /* a PVC whose StorageClass has no VolumeSnapshotClass fails it */
    src.vm = J("{\"metadata\": {\"name\": \"vm\"}, \"spec\": {\"template\": "
               "{\"spec\": {\"volumes\": [{\"name\": \"d3\", "
               "\"persistentVolumeClaim\": {\"claimName\": \"p3\"}}]}}}}");
    cr_assert_eq(rc_content_build(&c, why, sizeof(why), s, snap, &src),
                 KUBE_OK);
    cr_expect_null(c);
    cr_expect_str_eq(why, "No VolumeSnapshotClass: Volume snapshots are not "
                          "configured for this StorageClass [none] [d3]");
    json_decref(src.vm);
    json_decref(snap);
    kube_store_free(s);
}
