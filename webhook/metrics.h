/* webhook/metrics.h - the counters `serve` shows on /metrics, in the
 * Prometheus text format (version 0.0.4). Recording is lock-free: relaxed
 * atomics in arrays sized once at creation, so any thread may record at
 * any time and no request allocates. Only rendering allocates. */
#ifndef VMSNAPD_WEBHOOK_METRICS_H
#define VMSNAPD_WEBHOOK_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kube/errors.h"

/* At most this many admission paths (label values) per metrics set. */
#define WH_METRICS_MAX_PATHS 8

/* The result label of vmsnapd_admission_requests_total. */
enum wh_metrics_result {
    WH_METRICS_ALLOWED, /* response.allowed true */
    WH_METRICS_DENIED,  /* response.allowed false, code is status.code */
    WH_METRICS_ERROR,   /* no AdmissionReview answer; code is HTTP's */
};

/* What a reload counter is about. */
enum wh_metrics_reload {
    WH_METRICS_POLICY,
    WH_METRICS_CERTIFICATE,
};

struct wh_metrics;

/* A new, zeroed set in *out for the admission paths in paths (borrowed:
 * the strings must outlive the set; at most WH_METRICS_MAX_PATHS).
 * KUBE_ENOMEM, or KUBE_EINVAL for too many paths. */
int wh_metrics_new(struct wh_metrics **out, const char *const *paths,
                   size_t npaths) KUBE_MUST_CHECK;
void wh_metrics_free(struct wh_metrics *m);

/* Counts one admission request on paths[path] and its latency. kind and
 * operation outside our kinds and CREATE/UPDATE/DELETE/CONNECT (or NULL)
 * count as ""; a code outside the known set counts as "other". A path
 * index out of range is a bug. Thread-safe, lock-free, cannot fail. */
void wh_metrics_admission(struct wh_metrics *m, size_t path, const char *kind,
                          const char *operation, enum wh_metrics_result result,
                          int code, uint64_t latency_ns);

/* Counts a TLS handshake that failed (bad client, wrong version, a TCP
 * probe that hangs up). Thread-safe, lock-free. */
void wh_metrics_handshake_failed(struct wh_metrics *m);

/* Counts a reload: ok non-zero for a pair or policy swapped in, zero for
 * one refused (the old one kept). Thread-safe, lock-free. */
void wh_metrics_reload(struct wh_metrics *m, enum wh_metrics_reload what,
                       int ok);

/* Sets the serving certificate's notAfter (unix seconds). Thread-safe. */
void wh_metrics_set_cert_expiry(struct wh_metrics *m, int64_t unix_seconds);

/* Adds delta (+1 opened, -1 closed) to the open TLS connections gauge.
 * Thread-safe, lock-free. */
void wh_metrics_connections_add(struct wh_metrics *m, int delta);

/* Metrics rendered after ours by another part of the daemon (the
 * reconcilers): fn writes Prometheus text to f. Owned by the caller and
 * alive until unset or the set is freed. */
struct wh_metrics_extra {
    void (*fn)(FILE *f, void *ctx);
    void *ctx;
};

/* Installs x (NULL removes). Thread-safe: a render in progress uses the
 * old or the new one. */
void wh_metrics_set_extra(struct wh_metrics *m,
                          const struct wh_metrics_extra *x);

/* Renders every metric into *out (malloc'd, NUL-terminated, caller frees;
 * *outlen without the NUL). Counters that were never incremented are left
 * out, histograms and gauges are always present. Each value is read once,
 * so a histogram's +Inf bucket and _count agree with its buckets even
 * while other threads record. KUBE_ENOMEM on allocation failure.
 * Thread-safe. */
int wh_metrics_render(char **out, size_t *outlen, struct wh_metrics *m,
                      struct kube_err *err) KUBE_MUST_CHECK;

#endif
