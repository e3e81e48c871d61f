/* webhook/tlsout.c - an answer's header record held for its body, so the
 * two leave in one sendmsg (see tlsout.h). */
#include "webhook/tlsout.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define TLS_APPLICATION_DATA 23 /* a record's first byte: its content type */
#define HOLD_IOVS 16 /* the held bytes and up to 15 of GnuTLS's vectors */

static size_t vec_total(const giovec_t *iov, int iovcnt)
{
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    return len;
}

/* The header of an armed answer: application data that fits the hold. */
static int holds(const struct wh_tlsout *o, const giovec_t *iov, int iovcnt)
{
    return o->armed && o->held == 0 && iovcnt > 0 && iov[0].iov_len > 0 &&
           ((const unsigned char *)iov[0].iov_base)[0] ==
               TLS_APPLICATION_DATA &&
           vec_total(iov, iovcnt) <= sizeof(o->hold);
}

static ssize_t send_vec(int fd, const struct iovec *iov, size_t iovcnt)
{
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};

    return sendmsg(fd, &m, MSG_NOSIGNAL);
}

/* Forgets the first k held bytes: they have been written. */
static void hold_drop(struct wh_tlsout *o, size_t k)
{
    memmove(o->hold, o->hold + k, o->held - k);
    o->held -= k;
}

/* Writes the held bytes ahead of iov. A short write that leaves some of
 * them is EAGAIN for iov: GnuTLS offers the same record again later. */
static ssize_t send_behind_hold(struct wh_tlsout *o, const giovec_t *iov,
                                int iovcnt)
{
    struct iovec v[HOLD_IOVS];
    size_t n = 1;
    ssize_t k;

    v[0] = (struct iovec){o->hold, o->held};
    for (int i = 0; i < iovcnt && n < HOLD_IOVS; i++)
        v[n++] = iov[i];
    k = send_vec(o->fd, v, n);
    if (k < 0)
        return -1;
    if ((size_t)k < o->held) {
        hold_drop(o, (size_t)k);
        errno = EAGAIN;
        return -1;
    }
    k -= (ssize_t)o->held;
    o->held = 0;
    if (k == 0) {
        errno = EAGAIN;
        return -1;
    }
    return k;
}

ssize_t wh_tlsout_push(struct wh_tlsout *o, const giovec_t *iov, int iovcnt)
{
    if (holds(o, iov, iovcnt)) {
        for (int i = 0; i < iovcnt; i++) {
            memcpy(o->hold + o->held, iov[i].iov_base, iov[i].iov_len);
            o->held += iov[i].iov_len;
        }
        o->armed = 0;
        return (ssize_t)o->held;
    }
    if (o->held)
        return send_behind_hold(o, iov, iovcnt);
    return send_vec(o->fd, iov, (size_t)iovcnt);
}

static ssize_t push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
    return wh_tlsout_push(ptr, iov, iovcnt);
}

/* The writer after detach: the transport pointer is the socket again. */
static ssize_t push_plain(gnutls_transport_ptr_t ptr, const giovec_t *iov,
                          int iovcnt)
{
    return send_vec((int)(intptr_t)ptr, iov, (size_t)iovcnt);
}

void wh_tlsout_attach(struct wh_tlsout *o, gnutls_session_t session, int fd)
{
    o->fd = fd;
    o->armed = 0;
    o->held = 0;
    gnutls_transport_set_ptr2(session, (gnutls_transport_ptr_t)(intptr_t)fd, o);
    gnutls_transport_set_vec_push_function(session, push);
}

void wh_tlsout_detach(struct wh_tlsout *o, gnutls_session_t session)
{
    o->held = 0;
    o->armed = 0;
    gnutls_transport_set_ptr2(session, (gnutls_transport_ptr_t)(intptr_t)o->fd,
                              (gnutls_transport_ptr_t)(intptr_t)o->fd);
    gnutls_transport_set_vec_push_function(session, push_plain);
}

void wh_tlsout_done(struct wh_tlsout *o)
{
    ssize_t k;

    o->armed = 0;
    if (!o->held)
        return;
    k = send(o->fd, o->hold, o->held, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k > 0)
        hold_drop(o, (size_t)k);
}

void wh_tlsout_arm(struct wh_tlsout *o)
{
    o->armed = 1;
}
