/* tests/kube/project.c - what the cache keeps of each kind. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/project.h"

/* Identity and ownership every kind keeps, with managedFields to drop. */
#define META(kind)                                                             \
    "\"apiVersion\":\"v1\",\"kind\":\"" kind "\",\"metadata\":{"               \
    "\"name\":\"o\",\"namespace\":\"n\",\"uid\":\"u-1\","                      \
    "\"resourceVersion\":\"7\",\"generation\":2,"                              \
    "\"deletionTimestamp\":\"2026-01-02T03:04:05Z\",\"finalizers\":[\"f\"],"   \
    "\"ownerReferences\":[{\"kind\":\"VirtualMachine\",\"name\":\"vm\","       \
    "\"uid\":\"u-0\",\"controller\":true}],\"labels\":{\"a\":\"b\"}"
#define MANAGED ",\"managedFields\":[{\"manager\":\"kubectl\"}]"
#define KEPT_META(kind) META(kind) "}"

static const struct {
    const char *name, *in, *want; /* want NULL: the same object back */
} cases[] = {
    {"VirtualMachine: all but managedFields (status is PUT back whole, "
     "metadata and spec copied into contents)",
     "{" META("VirtualMachine") MANAGED
     ",\"annotations\":{\"x\":\"y\"}},"
     "\"spec\":{\"runStrategy\":\"Halted\"},\"status\":{\"printableStatus\":"
     "\"Stopped\",\"snapshotInProgress\":\"s\"}}",
     "{" META("VirtualMachine") ",\"annotations\":{\"x\":\"y\"}},"
                                "\"spec\":{\"runStrategy\":\"Halted\"},"
                                "\"status\":{\"printableStatus\":"
                                "\"Stopped\",\"snapshotInProgress\":\"s\"}}"},
    {"VirtualMachine without managedFields: shared, not copied",
     "{" KEPT_META("VirtualMachine") ",\"spec\":{}}", NULL},
    {"PersistentVolumeClaim: all but managedFields (copied into contents)",
     "{" META("PersistentVolumeClaim") MANAGED
     "},\"spec\":{\"storageClassName\""
     ":\"sc\"},\"status\":{\"phase\":\"Bound\"}}",
     "{" KEPT_META(
         "PersistentVolumeClaim") ",\"spec\":{\"storageClassName\""
                                  ":\"sc\"},\"status\":{\"phase\":\"Bound\"}}"},
    {"VirtualMachineInstance: no spec (never read), status whole",
     "{" META("VirtualMachineInstance") MANAGED
     "},\"spec\":{\"domain\":{}},"
     "\"status\":{\"fsFreezeStatus\":\"frozen\",\"conditions\":[{\"type\":"
     "\"AgentConnected\",\"status\":\"True\"}],\"phase\":\"Running\"}}",
     "{" KEPT_META(
         "VirtualMachineInstance") ",\"status\":{\"fsFreezeStatus\":"
                                   "\"frozen\",\"conditions\":[{\"type\":"
                                   "\"AgentConnected\",\"status\":"
                                   "\"True\"}],\"phase\":\"Running\"}}"},
    {"Pod: metadata without annotations, spec.volumes, status.phase",
     "{" META("Pod") MANAGED
     ",\"annotations\":{\"big\":\"x\"}},\"spec\":{"
     "\"containers\":[{\"name\":\"c\"}],\"volumes\":[{\"name\":\"d\","
     "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}],\"nodeName\":"
     "\"n1\"},\"status\":{\"phase\":\"Running\",\"containerStatuses\":[]}}",
     "{" KEPT_META("Pod") ",\"spec\":{\"volumes\":[{\"name\":\"d\","
                          "\"persistentVolumeClaim\":{\"claimName\":\"pvc\"}}]}"
                          ",\"status\":{"
                          "\"phase\":\"Running\"}}"},
    {"Pod without volumes or status", "{" META("Pod") "},\"spec\":{}}",
     "{" KEPT_META("Pod") "}"},
    {"VirtualMachineSnapshot: our own kind, all but managedFields",
     "{" META("VirtualMachineSnapshot") MANAGED "},\"status\":{\"phase\":"
                                                "\"InProgress\"}}",
     "{" KEPT_META("VirtualMachineSnapshot") ",\"status\":{\"phase\":"
                                             "\"InProgress\"}}"},
    {"a kind with no row: all but managedFields",
     "{" META("ConfigMap") MANAGED "},\"data\":{\"k\":\"v\"}}",
     "{" KEPT_META("ConfigMap") ",\"data\":{\"k\":\"v\"}}"},
    {"not an object: as it is", "[1]", NULL},
};

Test(kube_project, table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_loads(cases[i].in, 0, NULL), *got;
        char *before, *after, *text;

        cr_assert_not_null(in, "%s: bad test JSON", cases[i].name);
        before = json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
        got = kube_project(in);
        cr_assert_not_null(got, "%s", cases[i].name);
        text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        if (cases[i].want)
            cr_expect_str_eq(text, cases[i].want, "%s", cases[i].name);
        else
            cr_expect_eq(got, in, "%s: copied: %s", cases[i].name, text);
        after = json_dumps(in, JSON_COMPACT | JSON_ENCODE_ANY);
        cr_expect_str_eq(after, before, "%s: the input changed", cases[i].name);
        free(before);
        free(after);
        free(text);
        json_decref(got);
        json_decref(in);
    }
}

/* Every row keeps what names, versions and owns an object: the informer's
 * resourceVersion check, the finalizer and owner-reference logic and the
 * deletion paths read them for every kind. */
Test(kube_project, every_kind_keeps_identity)
{
    static const char *const kinds[] = {"VirtualMachine",
                                        "VirtualMachineInstance",
                                        "VirtualMachineSnapshot",
                                        "VirtualMachineSnapshotContent",
                                        "VirtualMachineRestore",
                                        "Namespace",
                                        "PersistentVolumeClaim",
                                        "VolumeSnapshot",
                                        "VolumeSnapshotClass",
                                        "StorageClass",
                                        "DataVolume",
                                        "Pod",
                                        "Unknown"};
    static const char *const keep[] = {"kind",
                                       "metadata.name",
                                       "metadata.namespace",
                                       "metadata.uid",
                                       "metadata.resourceVersion",
                                       "metadata.generation",
                                       "metadata.deletionTimestamp",
                                       "metadata.finalizers",
                                       "metadata.ownerReferences",
                                       "metadata.labels"};

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        char text[1024];
        json_t *in, *got;

        snprintf(text, sizeof(text),
                 "{\"kind\":\"%s\",\"metadata\":{"
                 "\"name\":\"o\",\"namespace\":\"n\",\"uid\":\"u\","
                 "\"resourceVersion\":\"7\",\"generation\":2,"
                 "\"deletionTimestamp\":\"t\",\"finalizers\":[\"f\"],"
                 "\"ownerReferences\":[{\"uid\":\"o\"}],\"labels\":{}" MANAGED
                 "}}",
                 kinds[k]);
        in = json_loads(text, 0, NULL);
        got = kube_project(in);
        cr_assert_not_null(got, "%s", kinds[k]);
        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
            cr_expect(json_equal(kube_json_path(got, keep[i]),
                                 kube_json_path(in, keep[i])),
                      "%s: %s lost", kinds[k], keep[i]);
        cr_expect_null(kube_json_path(got, "metadata.managedFields"), "%s",
                       kinds[k]);
        json_decref(got);
        json_decref(in);
    }
}

/* A kept path inside another would make the projection write into the
 * source object's subtree, which the store and handlers share. */
Test(kube_project, keep_paths_do_not_nest)
{
    static const char *const kinds[] = {"Pod", "VirtualMachineInstance",
                                        "VirtualMachine", NULL};

    for (size_t k = 0; kinds[k]; k++) {
        const char *const *keep = kube_projection_for(kinds[k])->keep;
        for (size_t i = 0; keep && keep[i]; i++)
            for (size_t j = 0; keep[j]; j++) {
                size_t n = strlen(keep[i]);
                cr_expect(i == j || strncmp(keep[i], keep[j], n) != 0 ||
                              (keep[j][n] != '.' && keep[j][n] != '\0'),
                          "%s: %s contains %s", kinds[k], keep[i], keep[j]);
            }
    }
}
