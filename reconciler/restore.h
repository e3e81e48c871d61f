/* reconciler/restore.h - the VirtualMachineRestore worker (spec §6) as a
 * row of the controller table: reads from the caches into struct
 * rc_restore_in, decisions from restore_status.h, restore_pvc.h,
 * restore_target.h and restore_meta.h, writes through reconciler/api.h.
 *
 * Every write is keyed so a pass re-run after a crash is a no-op: claims
 * and DataVolumes have deterministic names (an existing one is success),
 * the VM carries lastRestoreUID once replaced or created, the status holds
 * what was decided, and every status or object write carries the
 * resourceVersion read (a stale cache is a 409, re-read and re-run). */
#ifndef VMSNAPD_RECONCILER_RESTORE_H
#define VMSNAPD_RECONCILER_RESTORE_H

#include <jansson.h>

#include "reconciler/manager.h"

/* The controller row's hooks (ctx is a struct rc_env). The reconcile
 * returns 0 (done, or waiting with a condition that says for what and a
 * timed re-queue when the wait has a deadline), or < 0 on an API failure
 * (retried with backoff). The watch maps events on VMs, VMIs, snapshots,
 * contents, VolumeSnapshots, and on PVCs and DataVolumes annotated
 * restore.kubevirt.io/name, to the restores they concern. */
int rc_restore_reconcile(struct rc_call *c);
void rc_restore_watch(struct rc_manager *m, size_t self, const char *kind,
                      const json_t *obj, void *ctx);

#endif
