/* tests/webhook/tlsout.c - the writer of a connection's TLS records: an
 * armed answer's header waits for its body and both leave together; every
 * other record leaves at once; a full socket loses and reorders nothing.
 * Records here are byte strings whose first byte is the content type, on
 * a Unix socket pair. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "webhook/tlsout.h"

#define APP 23       /* application data */
#define HANDSHAKE 22 /* a handshake record: never held */

static int sv[2];
static struct wh_tlsout out;

static void pair(void)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    memset(&out, 0, sizeof(out));
    out.fd = sv[0];
}

static void unpair(void)
{
    close(sv[0]);
    close(sv[1]);
}

/* Pushes the record rec[0..n), n >= 5, as two iovecs, GnuTLS's record header
 * and payload: what wh_tlsout_push returned. */
static ssize_t push(const char *rec, size_t n)
{
    giovec_t iov[2] = {{(void *)rec, 5}, {(void *)(rec + 5), n - 5}};

    return wh_tlsout_push(&out, iov, 2);
}

/* What the peer can read now, NUL-terminated; its length. */
static size_t peer(char *buf, size_t cap)
{
    ssize_t n = recv(sv[1], buf, cap - 1, MSG_DONTWAIT);

    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

TestSuite(webhook_tlsout, .init = pair, .fini = unpair);

Test(webhook_tlsout, an_armed_header_leaves_with_its_body)
{
    char head[] = "\x17HDR:header",
         body[] = "\x17"
                  "BDY:body",
         got[64];

    wh_tlsout_arm(&out);
    cr_expect_eq(push(head, strlen(head)), (ssize_t)strlen(head));
    cr_expect_eq(peer(got, sizeof(got)), 0, "the header left alone");
    cr_expect_eq(push(body, strlen(body)), (ssize_t)strlen(body));
    peer(got, sizeof(got));
    cr_expect_str_eq(got, "\x17HDR:header\x17"
                          "BDY:body");
}

Test(webhook_tlsout, unarmed_records_leave_at_once)
{
    char rec[] = "\x17HDR:header", got[64];

    cr_expect_eq(push(rec, strlen(rec)), (ssize_t)strlen(rec));
    peer(got, sizeof(got));
    cr_expect_str_eq(got, rec);
}

Test(webhook_tlsout, handshake_records_are_never_held)
{
    char hs[] = "\x16TICKET", head[] = "\x17HDR:h",
         body[] = "\x17"
                  "BDY:b",
         got[64];

    wh_tlsout_arm(&out);
    push(hs, strlen(hs));
    peer(got, sizeof(got));
    cr_expect_str_eq(got, hs, "a ticket sent while armed waited");
    push(head, strlen(head));
    cr_expect_eq(peer(got, sizeof(got)), 0, "still armed for the header");
    push(body, strlen(body));
    peer(got, sizeof(got));
    cr_expect_str_eq(got, "\x17HDR:h\x17"
                          "BDY:b");
}

Test(webhook_tlsout, a_header_larger_than_the_hold_leaves_at_once)
{
    static char big[WH_TLSOUT_HOLD + 16], got[sizeof(big) + 1];

    memset(big, 'h', sizeof(big));
    big[0] = APP;
    wh_tlsout_arm(&out);
    cr_expect_eq(push(big, sizeof(big)), (ssize_t)sizeof(big));
    cr_expect_eq(peer(got, sizeof(got)), sizeof(big));
}

/* The socket is full when the body comes: EAGAIN until the peer reads,
 * then what is left of the header and the body, in order, offered again
 * from where the last short write stopped (as GnuTLS does). */
Test(webhook_tlsout, a_full_socket_keeps_the_order)
{
    static char fill[1 << 16], stream[1 << 20], body[4000];
    char head[300];
    size_t filled = 0, got = 0, sent = 0, k;
    ssize_t n;

    memset(fill, 'f', sizeof(fill));
    while ((n = send(sv[0], fill, sizeof(fill), MSG_DONTWAIT)) > 0)
        filled += (size_t)n;
    cr_assert_eq(errno, EAGAIN);
    memset(head, 'h', sizeof(head));
    memset(body, 'b', sizeof(body));
    head[0] = body[0] = APP;
    wh_tlsout_arm(&out);
    cr_expect_eq(push(head, sizeof(head)), (ssize_t)sizeof(head));
    for (int rounds = 0; sent < sizeof(body) && rounds < 10000; rounds++) {
        giovec_t iov = {body + sent, sizeof(body) - sent};

        n = wh_tlsout_push(&out, &iov, 1);
        if (n < 0) {
            cr_assert_eq(errno, EAGAIN);
            got += peer(stream + got, 700); /* the peer reads a little */
            continue;
        }
        sent += (size_t)n;
    }
    cr_assert_eq(sent, sizeof(body));
    while ((k = peer(stream + got, sizeof(stream) - got)) > 0)
        got += k;
    cr_assert_eq(got, filled + sizeof(head) + sizeof(body));
    for (size_t i = 0; i < filled; i++)
        cr_assert_eq(stream[i], 'f', "byte %zu", i);
    cr_expect_eq(memcmp(stream + filled, head, sizeof(head)), 0);
    cr_expect_eq(memcmp(stream + filled + sizeof(head), body, sizeof(body)), 0);
}

/* An answer completes with its header still held (its body never came):
 * done writes it, and nothing stays armed for the next answer. */
Test(webhook_tlsout, done_writes_a_header_left_held)
{
    char head[] = "\x17HDR:h", next[] = "\x17NEXT:n", got[64];

    wh_tlsout_arm(&out);
    push(head, strlen(head));
    cr_expect_eq(peer(got, sizeof(got)), 0);
    wh_tlsout_done(&out);
    peer(got, sizeof(got));
    cr_expect_str_eq(got, head);
    push(next, strlen(next));
    peer(got, sizeof(got));
    cr_expect_str_eq(got, next, "still armed after done");
}

/* A connection without TLS never attaches its writer; the server still
 * arms it and marks answers done: nothing is held, nothing stays armed. */
Test(webhook_tlsout, arm_and_done_are_harmless_unattached)
{
    struct wh_tlsout never = {.fd = -1};

    wh_tlsout_arm(&never);
    wh_tlsout_done(&never);
    cr_expect_eq(never.held, 0);
    cr_expect_eq(never.armed, 0);
}
