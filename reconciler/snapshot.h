/* reconciler/snapshot.h - the VirtualMachineSnapshot worker (spec §4) and
 * the VirtualMachineSnapshotContent worker (spec §5), as rows of the
 * controller table, plus the pure pieces they are built from (status
 * computation, content and VolumeSnapshot building), exposed for tests. */
#ifndef VMSNAPD_RECONCILER_SNAPSHOT_H
#define VMSNAPD_RECONCILER_SNAPSHOT_H

#include <jansson.h>

#include "kube/errors.h"
#include "kube/store.h"
#include "reconciler/manager.h"
#include "reconciler/source.h"

#define RC_SNAPSHOT_FINALIZER "snapshot.kubevirt.io/vmsnapshot-protection"
#define RC_CONTENT_FINALIZER "snapshot.kubevirt.io/vmsnapshotcontent-protection"

/* The controller rows' hooks (ctx is a struct rc_env). */
int rc_snapshot_reconcile(struct rc_call *c);
void rc_snapshot_watch(struct rc_manager *m, size_t self, const char *kind,
                       const json_t *obj, void *ctx);
int rc_content_reconcile(struct rc_call *c);
void rc_content_watch(struct rc_manager *m, size_t self, const char *kind,
                      const json_t *obj, void *ctx);

/* The content's name for snap (borrowed): status'
 * virtualMachineSnapshotContentName, else vmsnapshot-content-<uid>. */
void rc_content_name(char *buf, size_t len, const json_t *snap);

/* What the status computation needs beyond the objects. */
struct rc_status_in {
    const json_t *snap;    /* borrowed */
    const json_t *content; /* borrowed; NULL: none */
    const struct rc_source *src;
    int exceeded;        /* deadline passed, or already Failed */
    const char *lockmsg; /* the Progressing reason while in progress */
    const char *failure; /* a reason that fails the snapshot now, or NULL */
};

/* The status snap should have (spec §4.4), as a new object; conditions
 * keep their lastTransitionTime unless status or reason changes. NULL when
 * out of memory. */
json_t *rc_snapshot_status(const struct rc_status_in *in);

/* The VolumeSnapshotClass for StorageClass sc (spec §5.3) into buf ("" for
 * none). KUBE_EINVAL with err "<n> matching VolumeSnapshotClasses for
 * <sc>" when several match and none is the default. */
int rc_volume_snapshot_class(char *buf, size_t len, struct kube_store *s,
                             const char *sc,
                             struct kube_err *err) KUBE_MUST_CHECK;

/* The content for snap and its source (spec §4.3) into *out (new
 * reference). A PVC volume whose StorageClass has no VolumeSnapshotClass
 * fails the snapshot: *failure (borrowed buffer why, len) names it and
 * *out is NULL. */
int rc_content_build(json_t **out, char *why, size_t len, struct kube_store *s,
                     const json_t *snap,
                     const struct rc_source *src) KUBE_MUST_CHECK;

/* The VolumeSnapshot of backup b (borrowed) of content (borrowed) in a new
 * reference, with class cls. NULL when out of memory. */
json_t *rc_volume_snapshot_build(const json_t *content, const json_t *b,
                                 const char *vm, const char *cls);

/* 1 when the content is to be deleted with a terminating snapshot: policy
 * Delete (or none), or content not ready. */
int rc_should_delete_content(const json_t *snap, const json_t *content);

#endif
