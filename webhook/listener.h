/* webhook/listener.h - the listening socket and the one thread that
 * accepts on it, handing each new connection to a callback.
 *
 * Why not let libmicrohttpd accept: every worker of MHD's thread pool
 * polls the same listening socket and the one that wakes first accepts a
 * whole burst, so a client that opens its connections at once (as
 * kube-apiserver and load generators do) often lands all of them on one
 * worker while the other cores idle. Accepting here and giving each
 * socket to MHD_add_connection lets MHD spread them over its workers.
 *
 * The listener also bounds open connections: at `max` it stops accepting,
 * so newcomers wait in the kernel's backlog until one closes. While one
 * waits there, it asks the server (the evict callback) to make an old
 * connection give way: otherwise clients that stall on purpose could
 * hold every slot and keep kube-apiserver and the kubelet's probes out. */
#ifndef VMSNAPD_WEBHOOK_LISTENER_H
#define VMSNAPD_WEBHOOK_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

#include "kube/errors.h"

struct wh_listener;

/* Takes ownership of fd (a new connection from addr), closing it on
 * failure. Returns 0 when the connection was taken (it now counts toward
 * `max` until wh_listener_closed), -1 when it was closed at once. Runs on
 * the listener's thread. */
typedef int (*wh_listener_hand_fn)(void *ctx, int fd,
                                   const struct sockaddr *addr,
                                   socklen_t addrlen);

/* At the bound with a newcomer in the backlog: asks the server to close
 * one connection that may give way. Called again every
 * WH_LISTENER_EVICT_POLL_MS while the newcomer still waits, so it must
 * not close a second one while the first is still closing. Runs on the
 * listener's thread. */
typedef void (*wh_listener_evict_fn)(void *ctx);

#define WH_LISTENER_EVICT_POLL_MS 50

/* Binds addr (port 0 picks a free one) and listens; nothing is accepted
 * before wh_listener_start. err names the address and the reason. */
int wh_listener_open(struct wh_listener **out, const struct sockaddr *addr,
                     socklen_t addrlen, size_t max,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* The bound port. */
unsigned wh_listener_port(const struct wh_listener *l);

/* Starts the accepting thread; hand gets every connection, evict (may be
 * NULL: newcomers just wait) the calls described above. */
int wh_listener_start(struct wh_listener *l, wh_listener_hand_fn hand,
                      wh_listener_evict_fn evict, void *ctx,
                      struct kube_err *err) KUBE_MUST_CHECK;

/* A connection hand took has closed: room for the next. Thread-safe. */
void wh_listener_closed(struct wh_listener *l);

/* Open connections as counted above. Thread-safe. */
size_t wh_listener_open_count(struct wh_listener *l);

/* Stops accepting for good: the kernel refuses new connections and
 * resets those still in the backlog. Returns once the thread is gone;
 * hand is not called afterwards. Idempotent; thread-safe. */
void wh_listener_stop(struct wh_listener *l);

/* Stops if needed, closes the socket and frees. Accepts NULL. */
void wh_listener_free(struct wh_listener *l);

#endif
