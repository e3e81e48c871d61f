/* reconciler/conditions.h - status.conditions as the snapshot API keeps
 * them (spec §1.2): matched by type; an entry is replaced, with a fresh
 * lastTransitionTime, only when its status or reason changes; a missing
 * type is appended, so the list keeps insertion order. The text goes in
 * reason (these controllers never set message); lastProbeTime is null. */
#ifndef VMSNAPD_RECONCILER_CONDITIONS_H
#define VMSNAPD_RECONCILER_CONDITIONS_H

#include <jansson.h>
#include <stdint.h>

#include "kube/errors.h"

/* Sets condition type on status (borrowed, an object we own and may
 * change) to status "True" (on) or "False" with reason; now_ms (Unix
 * milliseconds) stamps lastTransitionTime when it changes. Returns 1 when
 * status changed, 0 when it already said so, KUBE_ENOMEM. */
int rc_condition_set(json_t *status, const char *type, int on,
                     const char *reason, int64_t now_ms) KUBE_MUST_CHECK;

/* The condition of that type in status (borrowed), or NULL. */
const json_t *rc_condition_get(const json_t *status, const char *type);

#endif
