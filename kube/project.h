/* kube/project.h - what the cache keeps of each kind: client-go's informer
 * transform, as one table. An object from a list or a watch is projected
 * before it is stored and before the handlers see it, so the daemon's
 * memory follows the fields its rules and reconcilers read, not the size
 * of what the API server sends (managedFields alone are often half of an
 * object).
 *
 * The rule for a row: drop only what no reader uses, and nothing of an
 * object that is written back whole (a VirtualMachine's status is PUT
 * from the cached copy, its metadata and spec are copied into a
 * snapshot's content, a PVC's too). metadata.managedFields goes from
 * every kind: the content copy drops it anyway, and an update without
 * them keeps the server's. Identity and ownership (name, namespace, uid,
 * resourceVersion, generation, deletionTimestamp, finalizers,
 * ownerReferences, labels) stay in every kind. tests/kube/project.c and
 * the rule suites run their fixtures through the projection. */
#ifndef VMSNAPD_KUBE_PROJECT_H
#define VMSNAPD_KUBE_PROJECT_H

#include <jansson.h>

/* One kind's projection. Paths are dotted object keys. */
struct kube_projection {
    const char *kind;        /* NULL: every kind not listed */
    const char *const *keep; /* the paths kept, NULL-terminated; NULL: the
                                whole object */
    const char *const *drop; /* then removed from what was kept */
};

/* The row for kind (the default row when it has none). Never NULL. */
const struct kube_projection *kube_projection_for(const char *kind);

/* obj as the cache keeps it, by its kind's row: a new reference, or NULL
 * when out of memory. obj is borrowed and never modified; the result
 * shares the subtrees it keeps whole with obj (both are read-only once
 * stored). Thread-safe. */
json_t *kube_project(const json_t *obj);

#endif
