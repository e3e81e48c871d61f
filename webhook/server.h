/* webhook/server.h - the HTTPS admission server: libmicrohttpd over GnuTLS
 * serving the webhook paths, /healthz, /readyz and /metrics, with request
 * limits, certificate and policy swaps, and a graceful drain.
 *
 * Thread model: MHD's internal thread pool, one thread per core
 * (WH_SERVER_MHD_LOOP + MHD_OPTION_THREAD_POOL_SIZE), fed by one accepting
 * thread (webhook/listener.h) so connections spread over the pool instead
 * of piling onto whichever worker wakes first. TLS handshakes and JSON
 * work are CPU-bound, so one worker per core keeps every core busy
 * without context switches, and an idle keep-alive connection from
 * kube-apiserver costs a poll entry, not a thread. Handlers run on the
 * I/O threads, so they never block: admission reads only memory (the
 * policy snapshot and the store), but for an object missing from the
 * store, read live once with a short timeout (webhook/state.h).
 *
 * Requests: the admission paths take POST with Content-Type
 * application/json (415 otherwise) and a body of at most WH_SERVER_MAX_BODY
 * (413, checked on Content-Length and again while the body streams in),
 * one Content-Length only (400 when two disagree), bodies in memory
 * bounded across all connections (503 beyond max_buffered);
 * a body that is not an AdmissionReview gets 400 and a plain-text reason.
 * Unknown paths get 404, a wrong method 405 with Allow. */
#ifndef VMSNAPD_WEBHOOK_SERVER_H
#define VMSNAPD_WEBHOOK_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "kube/errors.h"
#include "webhook/metrics.h"
#include "kube/store.h"
#include "webhook/policy.h"
#include "webhook/review.h"
#include "webhook/tlscreds.h"

/* controller-runtime allows 7 MiB; a VirtualMachineSnapshotContent with
 * many volumes is the largest object we see, far below either. */
#define WH_SERVER_MAX_BODY (8 * 1024 * 1024)

/* TLS 1.2 and 1.3 only; forward-secret ECDHE key exchange and AEAD
 * ciphers only (no CBC, no RSA key transport, no finite-field DHE), no
 * SHA-1 signatures. What Go's crypto/tls offers kube-apiserver is all
 * here. */
#define WH_SERVER_TLS_PRIORITIES                                               \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"                              \
    "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"                \
    "-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"                          \
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"              \
    "-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:%SERVER_PRECEDENCE"

/* Each worker waits in poll(2), not epoll. libmicrohttpd 0.9.75's epoll
 * loop keeps a connection in its ready list while GnuTLS waits for the
 * client's next handshake flight (GnuTLS reads through its transport
 * function, so MHD never sees the EAGAIN that would clear it): a worker
 * spins on recv until the client answers. One client stalled after its
 * ClientHello held a core until the handshake timeout; under make bench's
 * new connections the spin was 70-100 failed recvs a connection and over
 * 40 % of the server's CPU. poll(2) asks for exactly the direction GnuTLS
 * waits on. The bench baseline uses the same loop. (A <microhttpd.h>
 * flag.) */
#define WH_SERVER_MHD_LOOP MHD_USE_POLL_INTERNAL_THREAD

struct wh_server_config {
    const char *host;         /* numeric IPv4 or IPv6 address */
    unsigned port;            /* 0 picks a free port (wh_server_port) */
    unsigned threads;         /* pool threads; 0 = one per online CPU */
    unsigned max_connections; /* beyond it, new ones wait in the backlog,
                                 and the oldest connection that is idle or
                                 unfinished (handshake or request) gives
                                 way to each newcomer */
    unsigned idle_timeout;    /* seconds without traffic, then closed; >0.
                                 Longer than kube-apiserver's 90 s idle
                                 timeout by default, so the client closes
                                 first and never races our close. */
    size_t conn_memory_limit; /* per-connection pool (headers must fit) */
    /* A connection's TLS handshake must end this many ms after accept,
     * and a request (from its request line to its last body byte, or the
     * first request after the handshake) within request_timeout_ms, or
     * the connection is closed: a client trickling bytes never reaches
     * idle_timeout. Both >0. */
    unsigned handshake_timeout_ms, request_timeout_ms;
    /* Request bodies held in memory across all connections, at most; a
     * request that would pass it gets 503 at once. >0. */
    size_t max_buffered;
    struct kube_store *store;       /* what the rules read (borrowed, outlives
                                       the server); NULL: no cluster view */
    const struct wh_lookup *lookup; /* live reads; NULL: none (borrowed) */
    int start_unready;              /* /readyz 503 until set ready */
};

struct wh_server;

/* Binds, starts the pool and serves, using creds and policy (the server
 * takes its own references). The server is ready (/readyz 200) at once,
 * unless cfg->start_unready.
 * On failure err says why (bad address, port in use, bad priorities...)
 * and returns KUBE_EINVAL, KUBE_ERR or KUBE_ENOMEM. */
int wh_server_start(struct wh_server **out, const struct wh_server_config *cfg,
                    struct wh_tlscreds *creds, struct wh_policy *policy,
                    struct kube_err *err) KUBE_MUST_CHECK;

/* The bound port (the real one when the config asked for 0). */
unsigned wh_server_port(const struct wh_server *s);

/* The server's metrics, for reload counters. Borrowed; thread-safe. */
struct wh_metrics *wh_server_metrics(struct wh_server *s);

/* Handshakes of connections accepted from now on use creds (the server
 * takes a reference); open connections keep the pair they started with,
 * and the old pair is freed when the last of them closes. Updates the
 * certificate expiry gauge. Thread-safe. */
void wh_server_set_creds(struct wh_server *s, struct wh_tlscreds *creds);

/* Requests that start from now on use policy (a reference is taken);
 * requests running keep theirs. Thread-safe. */
void wh_server_set_policy(struct wh_server *s, struct wh_policy *policy);

/* What /readyz answers: 200 when ready, 503 when not. Thread-safe. */
void wh_server_set_ready(struct wh_server *s, int ready);

/* First step of the drain: stops accepting (the kernel refuses new
 * connections) and from now on every answer carries
 * Connection: close. Open connections keep being served. */
void wh_server_quiesce(struct wh_server *s);

/* Closes connections that are idle between requests (shutdown(2) of the
 * socket; MHD then closes them) and returns how many connections are
 * still open. Call it repeatedly after wh_server_quiesce until it returns
 * 0 or the grace period ends: a connection busy with a request closes
 * itself after its answer. Thread-safe. */
size_t wh_server_close_idle(struct wh_server *s);

/* Stops the pool, closing whatever is still open, and frees the server.
 * Accepts NULL. */
void wh_server_stop(struct wh_server *s);

#endif
