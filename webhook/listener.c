/* webhook/listener.c - listening socket and accept thread (see the
 * header for why we accept ourselves). */
#define _GNU_SOURCE /* accept4: socket flags set atomically at accept */
#include "webhook/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/log.h"

/* How long accept(2) rests after running out of descriptors or memory,
 * unless a connection closes first. Not a tuning knob: it only keeps a
 * starved process from spinning. */
#define STARVED_WAIT_MS 100

struct wh_listener {
    int fd;
    unsigned port;
    size_t max;
    wh_listener_hand_fn hand;
    wh_listener_evict_fn evict;
    void *ctx;
    pthread_t thread;

    pthread_mutex_t lock;
    pthread_cond_t room; /* signalled when a connection closes */
    size_t open;         /* guarded by lock */
    int stopping;        /* guarded by lock */
    int joinable;        /* guarded by lock */
};

static int bind_listen(int *fd, const struct sockaddr *addr, socklen_t len)
{
    int one = 1;

    *fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return -1;
    /* restart without waiting out TIME_WAIT; v6 sockets serve v6 only,
     * as the address asked */
    if (setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (addr->sa_family == AF_INET6 &&
         setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
        bind(*fd, addr, len) < 0 || listen(*fd, SOMAXCONN) < 0) {
        int e = errno;

        close(*fd);
        *fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

/* The host and port of addr, for messages. */
static unsigned addr_text(char *host, size_t size, const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;

        inet_ntop(AF_INET6, &a->sin6_addr, host, (socklen_t)size);
        return ntohs(a->sin6_port);
    }
    inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, host,
              (socklen_t)size);
    return ntohs(((const struct sockaddr_in *)addr)->sin_port);
}

static unsigned bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN];

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    return addr_text(host, sizeof(host), (struct sockaddr *)&ss);
}

int wh_listener_open(struct wh_listener **out, const struct sockaddr *addr,
                     socklen_t addrlen, size_t max, struct kube_err *err)
{
    struct wh_listener *l = calloc(1, sizeof(*l));
    char host[INET6_ADDRSTRLEN] = "?";

    if (!l)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    if (bind_listen(&l->fd, addr, addrlen) < 0) {
        int e = errno;
        unsigned port = addr_text(host, sizeof(host), addr);

        free(l);
        return kube_err_set(err, KUBE_ERR, "cannot listen on %s port %u: %s",
                            host, port, strerror(e));
    }
    l->port = bound_port(l->fd);
    l->max = max;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->room, NULL);
    *out = l;
    return KUBE_OK;
}

unsigned wh_listener_port(const struct wh_listener *l)
{
    return l->port;
}

/* Whether a connection waits in the backlog. */
static int backlog_waiting(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Rests on the room condition for ms, or until signalled. Locked. */
static void rest(struct wh_listener *l, long ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += ms * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&l->room, &l->lock, &until);
}

/* Waits until a connection may be accepted, asking an old one to give
 * way while a newcomer waits; 0 once stopping. */
static int wait_room(struct wh_listener *l)
{
    int go;

    pthread_mutex_lock(&l->lock);
    while (!l->stopping && l->open >= l->max) {
        if (l->evict && backlog_waiting(l->fd)) {
            pthread_mutex_unlock(&l->lock);
            l->evict(l->ctx);
            pthread_mutex_lock(&l->lock);
            if (l->stopping || l->open < l->max)
                break;
        }
        rest(l, WH_LISTENER_EVICT_POLL_MS);
    }
    go = !l->stopping;
    pthread_mutex_unlock(&l->lock);
    return go;
}

static int is_stopping(struct wh_listener *l)
{
    int stopping;

    pthread_mutex_lock(&l->lock);
    stopping = l->stopping;
    pthread_mutex_unlock(&l->lock);
    return stopping;
}

/* Out of descriptors or memory: rest until a connection closes, a
 * while, or the stop. */
static void starved(struct wh_listener *l, int e)
{
    kube_log(KUBE_LOG_WARN, "cannot accept a connection", "{s:s}", "error",
             strerror(e));
    pthread_mutex_lock(&l->lock);
    if (!l->stopping)
        rest(l, STARVED_WAIT_MS);
    pthread_mutex_unlock(&l->lock);
}

static void *accept_loop(void *arg)
{
    struct wh_listener *l = arg;

    while (wait_room(l)) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        /* non-blocking: MHD serves it from its poll loop */
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
        int e = errno;

        if (fd >= 0) {
            /* counted before it is handed: it may close at once */
            pthread_mutex_lock(&l->lock);
            l->open++;
            pthread_mutex_unlock(&l->lock);
            if (l->hand(l->ctx, fd, (struct sockaddr *)&ss, len) < 0)
                wh_listener_closed(l);
            continue;
        }
        switch (e) {
        case EINTR:
        case ECONNABORTED: /* the client gave up while queued */
        case EAGAIN:
        case EPROTO:
            continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            starved(l, e);
            continue;
        default: /* EINVAL once shut down by wh_listener_stop */
            if (is_stopping(l))
                return NULL;
            kube_log(KUBE_LOG_ERROR, "accept failed, no longer accepting",
                     "{s:s}", "error", strerror(e));
            return NULL;
        }
    }
    return NULL;
}

int wh_listener_start(struct wh_listener *l, wh_listener_hand_fn hand,
                      wh_listener_evict_fn evict, void *ctx,
                      struct kube_err *err)
{
    int rc;

    l->hand = hand;
    l->evict = evict;
    l->ctx = ctx;
    rc = pthread_create(&l->thread, NULL, accept_loop, l);
    if (rc != 0)
        return kube_err_set(err, KUBE_ERR, "cannot start the accept thread: %s",
                            strerror(rc));
    pthread_mutex_lock(&l->lock);
    l->joinable = 1;
    pthread_mutex_unlock(&l->lock);
    return KUBE_OK;
}

void wh_listener_closed(struct wh_listener *l)
{
    pthread_mutex_lock(&l->lock);
    if (l->open)
        l->open--;
    pthread_cond_signal(&l->room);
    pthread_mutex_unlock(&l->lock);
}

size_t wh_listener_open_count(struct wh_listener *l)
{
    size_t n;

    pthread_mutex_lock(&l->lock);
    n = l->open;
    pthread_mutex_unlock(&l->lock);
    return n;
}

void wh_listener_stop(struct wh_listener *l)
{
    int join;

    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    join = l->joinable;
    l->joinable = 0;
    pthread_cond_broadcast(&l->room);
    pthread_mutex_unlock(&l->lock);
    /* wakes a blocked accept(2) with EINVAL; the kernel now refuses new
     * connections and resets queued ones instead of leaving them hanging */
    (void)shutdown(l->fd, SHUT_RDWR);
    if (join)
        pthread_join(l->thread, NULL);
}

void wh_listener_free(struct wh_listener *l)
{
    if (!l)
        return;
    wh_listener_stop(l);
    close(l->fd);
    pthread_cond_destroy(&l->room);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
