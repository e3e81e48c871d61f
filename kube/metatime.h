/* kube/metatime.h - metav1.Time on the wire: RFC 3339 text to and from
 * Unix milliseconds, for the times the reconcilers compare with `now`
 * (creationTimestamp + a grace period or a deadline) and the times they
 * write (lastTransitionTime, restoreTime). Pure: no clock is read here. */
#ifndef VMSNAPD_KUBE_METATIME_H
#define VMSNAPD_KUBE_METATIME_H

#include <stddef.h>
#include <stdint.h>

#include "kube/errors.h"

/* Room for any text kube_metatime_format writes. */
#define KUBE_METATIME_LEN 32

/* Parses s ("2020-09-30T14:46:27Z", with an optional fraction and a "Z"
 * or "+hh:mm"/"-hh:mm" offset, as Go's time.RFC3339 reads it) into *ms,
 * Unix milliseconds. Strict: any other text, or a field out of range, is
 * KUBE_EINVAL and *ms is left alone. Thread-safe. */
int kube_metatime_parse(int64_t *ms, const char *s) KUBE_MUST_CHECK;

/* Writes ms as metav1.Time serialises it, whole seconds in UTC
 * ("2020-09-30T14:46:28Z"), cut to len (KUBE_METATIME_LEN suffices).
 * Cannot fail. Thread-safe. */
void kube_metatime_format(char *buf, size_t len, int64_t ms);

#endif
