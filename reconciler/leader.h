/* reconciler/leader.h - leader election on a coordination.k8s.io/v1
 * Lease, as client-go's leaderelection package does it, so that only one
 * vmsnapd replica reconciles at a time.
 *
 * A candidate GETs the Lease (creating it when absent) and takes it over
 * with an UPDATE guarded by the resourceVersion it read (a 409 means
 * another candidate won the race: re-read next round) when it is free: no
 * holder, or the holder has not renewed for leaseDurationSeconds. Expiry
 * is judged by when *this* process last saw the record change, never by
 * comparing renewTime with the local clock (nodes' clocks differ). The
 * leader renews every retry period; when no renewal succeeds within the
 * renew deadline, or the Lease shows another holder, it stops leading at
 * once (on_stopped) and becomes a candidate again. On stop it releases
 * the Lease (holderIdentity "", leaseDurationSeconds 1) so a successor
 * does not wait out the lease. */
#ifndef VMSNAPD_RECONCILER_LEADER_H
#define VMSNAPD_RECONCILER_LEADER_H

#include "kube/client.h"
#include "kube/errors.h"

#define RC_LEADER_DEFAULT_NAME "vmsnapd-leader"

/* Unset (zero) fields take the defaults in brackets. */
struct rc_leader_opts {
    const char *ns;         /* [the client's namespace]; copied */
    const char *name;       /* [vmsnapd-leader]; copied */
    const char *identity;   /* required: the pod name (plus a suffix);
                               copied */
    long lease_duration_ms; /* [15000]; written as leaseDurationSeconds,
                               rounded up */
    long renew_deadline_ms; /* [10000]; < lease_duration_ms */
    long retry_period_ms;   /* [2000]; < renew_deadline_ms */
    int keep_on_stop;       /* 1: do not release the Lease on stop */
    /* Called on the election thread, no lock held; keep them short (start
       or stop the controllers and return). Each may be NULL. */
    void (*on_started)(void *ctx);
    void (*on_stopped)(void *ctx); /* after on_started only */
    void (*on_new_leader)(const char *identity, void *ctx); /* a change of
                                                               holder seen */
    void *ctx;
};

struct rc_leader;

/* A stopped elector over client c (borrowed: must outlive it).
 * KUBE_EINVAL without an identity or with timers out of order. */
int rc_leader_new(struct rc_leader **out, struct kube_client *c,
                  const struct rc_leader_opts *o,
                  struct kube_err *err) KUBE_MUST_CHECK;

/* Starts the election thread. KUBE_EINVAL when started; KUBE_ERR. */
int rc_leader_start(struct rc_leader *l, struct kube_err *err) KUBE_MUST_CHECK;

/* 1 while this process leads. Thread-safe, lock-free. */
int rc_leader_is_leader(struct rc_leader *l);

/* The holder last seen in the Lease into buf ("" when none). Thread-safe. */
void rc_leader_holder(struct rc_leader *l, char *buf, size_t len);

/* Stops: a leader calls on_stopped and releases the Lease (unless
 * keep_on_stop), then the thread is joined. Returns within about a retry
 * period plus one API request. Idempotent. */
void rc_leader_stop(struct rc_leader *l);

/* Stops (if needed) and frees. */
void rc_leader_free(struct rc_leader *l);

/* The Lease's time format, RFC 3339 with microseconds
 * ("2024-05-01T12:00:00.000000Z"), for now, into buf (at least 32 bytes).
 * Exposed for tests. */
void rc_leader_microtime(char *buf, size_t len);

#endif
