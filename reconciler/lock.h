/* reconciler/source.h - a snapshot's source VM as the caches show it
 * (spec §4 step 1), its lock (§4.1: status.snapshotInProgress plus the
 * VM finalizer), guest freeze and thaw through virt-api (§5.2), and the
 * failureDeadline (§4.6). */
#ifndef VMSNAPD_RECONCILER_SOURCE_H
#define VMSNAPD_RECONCILER_SOURCE_H

#include <jansson.h>
#include <stdint.h>

#include "kube/errors.h"
#include "kube/store.h"
#include "reconciler/manager.h"

#define RC_SOURCE_FINALIZER "snapshot.kubevirt.io/snapshot-source-protection"

struct rc_source {
    json_t *vm;  /* new reference, or NULL: no such VM */
    json_t *vmi; /* new reference, or NULL: offline */
    int online, paused, guest_agent, frozen;
    int locked;        /* snapshotInProgress is this snapshot and the VM
                          carries the finalizer */
    const char *other; /* snapshotInProgress naming another snapshot, or
                          NULL; borrowed from vm */
};

/* Reads the source of snap (borrowed) from s. KUBE_EINVAL with err set for
 * a source that is not a kubevirt.io VirtualMachine; a missing VM is not
 * an error (src->vm NULL). */
int rc_source_load(struct rc_source *src, struct kube_store *s,
                   const json_t *snap, struct kube_err *err) KUBE_MUST_CHECK;

void rc_source_free(struct rc_source *src);

/* Takes the lock for snap (§4.1): checks the volumes (the reason goes to
 * msg, "" when locked), then sets status.snapshotInProgress and adds the
 * finalizer, each only when missing. Returns 0 with src->locked telling
 * whether it holds; < 0 on an API failure (a partial lock is completed on
 * a later pass). */
int rc_source_lock(struct rc_call *c, struct rc_source *src, const json_t *snap,
                   char *msg, size_t len, struct kube_err *err) KUBE_MUST_CHECK;

/* Releases the lock of snapshot name when this snapshot holds it: the
 * finalizer first, then snapshotInProgress. */
int rc_source_unlock(struct rc_call *c, struct rc_source *src, const char *name,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Freezes the guest (PUT .../freeze {"unfreezeTimeout": deadline}) when
 * online with a guest agent, not paused and not frozen; *froze says
 * whether a call was made. */
int rc_source_freeze(struct rc_call *c, const struct rc_source *src,
                     const char *deadline, int *froze,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Thaws the guest when locked, online with a guest agent and not paused;
 * use_cancel 0 sends it even after the term was cancelled (a thaw on the
 * way out). */
int rc_source_unfreeze(struct rc_call *c, const struct rc_source *src,
                       int use_cancel, struct kube_err *err) KUBE_MUST_CHECK;

/* The snapshot's failureDeadline in ms (default 5m, 0: none) into
 * *deadline_ms and the time left until it (creationTimestamp + deadline -
 * now) into *left_ms. KUBE_EINVAL for text that does not parse. */
int rc_deadline(int64_t *deadline_ms, int64_t *left_ms, const json_t *snap,
                struct kube_err *err) KUBE_MUST_CHECK;

/* Unix seconds of an RFC 3339 time ("2026-12-04T05:00:00Z"), or -1. */
int64_t rc_parse_time(const char *s);

#endif
