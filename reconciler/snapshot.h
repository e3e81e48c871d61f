/* reconciler/snapshot.h - the VirtualMachineSnapshot worker (spec §4) and
 * the VirtualMachineSnapshotContent worker (spec §5), as rows of the
 * controller table: reads from the caches, decisions from
 * reconciler/snapshot_logic.h, writes through reconciler/api.h and
 * reconciler/lock.h. */
#ifndef VMSNAPD_RECONCILER_SNAPSHOT_H
#define VMSNAPD_RECONCILER_SNAPSHOT_H

#include <jansson.h>

#include "reconciler/manager.h"

/* The controller rows' hooks (ctx is a struct rc_env). */
int rc_snapshot_reconcile(struct rc_call *c);
void rc_snapshot_watch(struct rc_manager *m, size_t self, const char *kind,
                       const json_t *obj, void *ctx);
int rc_content_reconcile(struct rc_call *c);
void rc_content_watch(struct rc_manager *m, size_t self, const char *kind,
                      const json_t *obj, void *ctx);

#endif
