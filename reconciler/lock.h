/* reconciler/lock.h - the API side of a snapshot's source (spec §4.1,
 * §5.2): taking and releasing the lock (status.snapshotInProgress plus the
 * VM finalizer) and freezing and thawing the guest through virt-api. What
 * the caches say about the source is reconciler/snapshot_logic.h's. */
#ifndef VMSNAPD_RECONCILER_LOCK_H
#define VMSNAPD_RECONCILER_LOCK_H

#include <jansson.h>

#include "kube/errors.h"
#include "reconciler/manager.h"
#include "reconciler/snapshot_logic.h"

/* Takes the lock of vm (borrowed, as read) for snapshot name once
 * rc_lock_check allowed it: sets status.snapshotInProgress (when unset),
 * then adds the finalizer (when missing). On success src says locked with
 * RC_MSG_LOCKED; < 0 on an API failure (a partial lock is completed on a
 * later pass, and still holds other snapshots back). */
int rc_lock_take(struct rc_call *c, struct rc_source *src, const json_t *vm,
                 const char *name, struct kube_err *err) KUBE_MUST_CHECK;

/* Releases the lock when snapshot name holds it: the finalizer first, then
 * snapshotInProgress, the status write carrying the resourceVersion the
 * patch made. A VM gone meanwhile is unlocked. */
int rc_lock_release(struct rc_call *c, struct rc_source *src, const json_t *vm,
                    const char *name, struct kube_err *err) KUBE_MUST_CHECK;

/* Freezes the guest of vmi (borrowed) (PUT .../freeze {"unfreezeTimeout":
 * deadline}) when src is locked, online with a guest agent, not paused and
 * not frozen; *froze says whether the call was made. KUBE_EINVAL
 * "attempting to freeze unlocked VM" when not locked. */
int rc_guest_freeze(struct rc_call *c, const struct rc_source *src,
                    const json_t *vmi, const char *deadline, int *froze,
                    struct kube_err *err) KUBE_MUST_CHECK;

/* Thaws the guest when src is locked, online with a guest agent and not
 * paused; use_cancel 0 sends it even once the term was cancelled (a thaw
 * on the way out). */
int rc_guest_unfreeze(struct rc_call *c, const struct rc_source *src,
                      const json_t *vmi, int use_cancel,
                      struct kube_err *err) KUBE_MUST_CHECK;

/* Now in ms since the Unix epoch (for snapshot_logic.h's now_ms). */
int64_t rc_now_ms(void);

#endif
