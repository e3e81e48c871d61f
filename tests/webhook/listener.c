/* tests/webhook/listener.c - the accept thread: it hands every connection
 * over, holds the bound (newcomers wait in the backlog until one closes),
 * asks for room while a newcomer waits at the bound, gives back a slot
 * the callback refuses, and stops cleanly. Plain TCP on
 * 127.0.0.1 and a free port. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "webhook/listener.h"

#define MAXFD 16

/* What the callback saw; it keeps the sockets (the "server" holds them). */
static struct {
    pthread_mutex_t lock;
    int fds[MAXFD];
    int n;
    int refuse; /* close the next one and say so */
    int evicts; /* times the listener asked for room */
} seen = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0, 0};

static int take(void *ctx, int fd, const struct sockaddr *addr,
                socklen_t addrlen)
{
    (void)ctx;
    cr_expect_eq(addr->sa_family, AF_INET);
    cr_expect_eq(addrlen, sizeof(struct sockaddr_in));
    pthread_mutex_lock(&seen.lock);
    if (seen.refuse) {
        seen.refuse = 0;
        pthread_mutex_unlock(&seen.lock);
        close(fd);
        return -1;
    }
    if (seen.n < MAXFD)
        seen.fds[seen.n++] = fd;
    pthread_mutex_unlock(&seen.lock);
    return 0;
}

/* Counts the call and makes no room: the newcomer keeps waiting. */
static void evict(void *ctx)
{
    (void)ctx;
    pthread_mutex_lock(&seen.lock);
    seen.evicts++;
    pthread_mutex_unlock(&seen.lock);
}

static int read_seen(const int *field)
{
    int n;

    pthread_mutex_lock(&seen.lock);
    n = *field;
    pthread_mutex_unlock(&seen.lock);
    return n;
}

static int taken(void)
{
    return read_seen(&seen.n);
}

/* Waits up to 5 s (a functional deadline, not a speed check) until
 * *field reaches n; returns its value. */
static int wait_for(const int *field, int n)
{
    for (int i = 0; i < 500 && read_seen(field) < n; i++)
        usleep(10000);
    return read_seen(field);
}

static int wait_taken(int n)
{
    return wait_for(&seen.n, n);
}

static struct wh_listener *open_listener(size_t max)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct kube_err err = {0, ""};
    struct wh_listener *l = NULL;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(
        wh_listener_open(&l, (struct sockaddr *)&a, sizeof(a), max, &err), 0,
        "%s", err.msg);
    cr_assert_neq(wh_listener_port(l), 0);
    cr_assert_eq(wh_listener_start(l, take, evict, NULL, &err), 0, "%s",
                 err.msg);
    return l;
}

static int dial(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void reset_seen(void)
{
    for (int i = 0; i < seen.n; i++)
        close(seen.fds[i]);
    seen.n = 0;
    seen.refuse = 0;
    seen.evicts = 0;
}

Test(webhook_listener, holds_the_bound_until_one_closes, .fini = reset_seen)
{
    struct wh_listener *l = open_listener(2);
    int c[3];

    for (int i = 0; i < 3; i++)
        c[i] = dial(wh_listener_port(l));
    cr_expect_eq(wait_taken(2), 2);
    /* the listener saw the third waiting and asked for room, twice (so
     * it kept waiting instead of accepting), and the server made none */
    cr_expect_geq(wait_for(&seen.evicts, 2), 2, "the newcomer went unseen");
    cr_expect_eq(taken(), 2, "the bound of 2 was passed");
    cr_expect_eq(wh_listener_open_count(l), 2);
    wh_listener_closed(l); /* the server closed one */
    cr_expect_eq(wait_taken(3), 3, "the waiting connection was not taken");
    wh_listener_free(l);
    for (int i = 0; i < 3; i++)
        close(c[i]);
}

Test(webhook_listener, a_refused_connection_gives_its_slot_back,
     .fini = reset_seen)
{
    struct wh_listener *l = open_listener(1);
    int a, b;

    seen.refuse = 1;
    a = dial(wh_listener_port(l));
    b = dial(wh_listener_port(l));
    cr_expect_eq(wait_taken(1), 1, "the slot of the refused one was lost");
    cr_expect_eq(wh_listener_open_count(l), 1);
    wh_listener_free(l);
    close(a);
    close(b);
}

Test(webhook_listener, stop_refuses_newcomers, .fini = reset_seen)
{
    struct wh_listener *l = open_listener(4);
    struct sockaddr_in a = {.sin_family = AF_INET};
    unsigned port = wh_listener_port(l);
    int fd;

    wh_listener_stop(l);
    wh_listener_stop(l); /* idempotent */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_expect_neq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0,
                  "a stopped listener still accepts");
    close(fd);
    cr_expect_eq(taken(), 0);
    wh_listener_free(l);
}

Test(webhook_listener, a_taken_port_is_an_error_naming_it)
{
    struct wh_listener *l = open_listener(1), *again = NULL;
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct kube_err err = {0, ""};
    char want[64];

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)wh_listener_port(l));
    cr_expect_lt(
        wh_listener_open(&again, (struct sockaddr *)&a, sizeof(a), 1, &err), 0);
    snprintf(want, sizeof(want),
             "cannot listen on 127.0.0.1 port %u: ", wh_listener_port(l));
    cr_expect(strstr(err.msg, want) && strstr(err.msg, "in use"), "%s",
              err.msg);
    wh_listener_free(l);
}
