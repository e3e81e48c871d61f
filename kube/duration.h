/* kube/duration.h - Go-style durations ("1h30m", "500ms", "0") for
 * spec.failureDeadline. Strict: users read our reason when we reject. */
#ifndef VMSNAPD_KUBE_DURATION_H
#define VMSNAPD_KUBE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "kube/errors.h"

/* Parses s exactly as Go's time.ParseDuration does into *out (nanoseconds):
 * optional sign, one or more decimal numbers each with an optional fraction
 * and a unit (ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h); "0" alone
 * needs no unit. With bare_seconds, a plain unsigned decimal number
 * ("300", "1.5") means seconds. On failure returns KUBE_EINVAL and err holds
 * Go's message, e.g. `time: unknown unit "d" in duration "1d"`,
 * `time: missing unit in duration "300"`, `time: invalid duration ""`.
 * Overflow of int64 nanoseconds is `time: invalid duration "<s>"`.
 * Thread-safe. */
int kube_duration_parse(int64_t *out, const char *s, int bare_seconds,
                        struct kube_err *err) KUBE_MUST_CHECK;

/* Formats d as Go's Duration.String() does: "0s", "1.5s", "300ms",
 * "5m0s", "1h30m0s", "-2m3.5s", "1µs", "100ns". Writes at most len bytes
 * (32 always suffices) and returns the length written. Cannot fail. */
size_t kube_duration_format(char *buf, size_t len, int64_t d);

#endif
