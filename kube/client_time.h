/* kube/client_time.h - monotonic milliseconds and timed condition waits,
 * shared by the API client, informers and the reconciler's queue and
 * leader election. Every timer in vmsnapd counts on CLOCK_MONOTONIC so a
 * wall clock step (NTP) never fires or stalls one. */
#ifndef VMSNAPD_KUBE_CLIENT_TIME_H
#define VMSNAPD_KUBE_CLIENT_TIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kube/errors.h"

/* Milliseconds on CLOCK_MONOTONIC. Cannot fail. Thread-safe. */
int64_t kube_time_now_ms(void);

/* Initialises a condition variable whose timed waits use CLOCK_MONOTONIC.
 * Returns 0 or KUBE_ERR. */
int kube_time_cond_init(pthread_cond_t *cond) KUBE_MUST_CHECK;

/* Waits on cond (caller holds mutex) until signalled or until deadline_ms
 * (kube_time_now_ms scale; < 0 waits without a deadline). Returns 1 when
 * the deadline has passed, else 0; spurious wake-ups return 0, so callers
 * re-check their predicate in a loop. */
int kube_time_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex,
                         int64_t deadline_ms);

/* A pseudo-random number in [0, n) for jitter (n > 0), from a per-thread
 * xorshift state seeded from the clock and the thread. Not for secrets.
 * Thread-safe. */
uint64_t kube_time_jitter(uint64_t n);

/* Writes the wall-clock time as RFC 3339 in UTC with `digits` (3 or 6)
 * fractional digits: "2026-11-25T21:15:59.123Z" (logs) or
 * "...59.123456Z" (metav1.MicroTime, as Leases want). Cannot fail; cut
 * to len. Thread-safe. */
void kube_time_rfc3339(char *buf, size_t len, int digits);

/* kube_time_rfc3339 of the time ts (CLOCK_REALTIME) instead of now. */
void kube_time_rfc3339_at(char *buf, size_t len, const struct timespec *ts,
                          int digits);

#endif
