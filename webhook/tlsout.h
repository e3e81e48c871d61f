/* webhook/tlsout.h - a connection's outgoing TLS records, so that an
 * answer's header and body leave in one sendmsg.
 *
 * Why: libmicrohttpd 0.9.75 hands GnuTLS an answer's header and its body
 * as two gnutls_record_send calls, and GnuTLS writes each record at once:
 * two sendmsg per answer on a keep-alive connection, where one does. Once
 * the server has queued an answer with a body (wh_tlsout_arm), the next
 * application-data record (the header) is held here and goes out in front
 * of the record after it (the body). MHD sends the body straight after
 * the header, and when the socket is full it keeps the body pending and
 * sends it once the socket is writable, so a held header never waits for
 * anything but its body. Every other record (handshake, alerts, the body)
 * is written at once, behind whatever is held. */
#ifndef VMSNAPD_WEBHOOK_TLSOUT_H
#define VMSNAPD_WEBHOOK_TLSOUT_H

#include <gnutls/gnutls.h>
#include <stddef.h>
#include <sys/types.h>

/* An answer's header record is about 200 bytes; a larger one is not held. */
#define WH_TLSOUT_HOLD 1024

/* Kept inside the connection's own struct; every call comes from the
 * thread serving the connection (MHD's worker), so none locks. */
struct wh_tlsout {
    int fd;      /* private */
    int armed;   /* private: the next application-data record is a header */
    size_t held; /* private: bytes of hold not yet written */
    char hold[WH_TLSOUT_HOLD]; /* private */
};

/* Makes o the writer of session's records on fd. The receive side keeps
 * fd as its transport pointer. o must outlive the session's writes, or be
 * handed back with wh_tlsout_detach. */
void wh_tlsout_attach(struct wh_tlsout *o, gnutls_session_t session, int fd);

/* Gives session's writes back to a plain send on o's socket, dropping
 * anything held (the connection is closing). */
void wh_tlsout_detach(struct wh_tlsout *o, gnutls_session_t session);

/* An answer with a non-empty body has been queued: hold its header.
 * Harmless on a writer never attached (nothing pushes through it). */
void wh_tlsout_arm(struct wh_tlsout *o);

/* An answer is complete: nothing stays armed, and a header still held
 * (one whose body never came) is written now, without waiting. The
 * server's arming makes that a defence, not a path. A no-op on a writer
 * never attached: it holds nothing. */
void wh_tlsout_done(struct wh_tlsout *o);

/* GnuTLS's vector push, exposed for its tests: writes what is held, then
 * iov; returns the bytes of iov written, or -1 with errno (EAGAIN while
 * the held bytes have not all gone). */
ssize_t wh_tlsout_push(struct wh_tlsout *o, const giovec_t *iov, int iovcnt);

#endif
