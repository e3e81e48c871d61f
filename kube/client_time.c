/* kube/client_time.c - monotonic time, timed waits and jitter. */
#include "kube/client_time.h"

#include <stdio.h>
#include <time.h>

int64_t kube_time_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kube_time_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc;

    if (pthread_condattr_init(&attr) != 0)
        return KUBE_ERR;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? KUBE_OK : KUBE_ERR;
}

int kube_time_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex,
                         int64_t deadline_ms)
{
    struct timespec ts;

    if (deadline_ms < 0) {
        pthread_cond_wait(cond, mutex);
        return 0;
    }
    if (kube_time_now_ms() >= deadline_ms)
        return 1;
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
    pthread_cond_timedwait(cond, mutex, &ts);
    return kube_time_now_ms() >= deadline_ms;
}

uint64_t kube_time_jitter(uint64_t n)
{
    static _Thread_local uint64_t state;
    uint64_t x = state;

    if (x == 0) { /* first use on this thread */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
            (uint64_t)(uintptr_t)&state;
        x |= 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state = x;
    return n ? x % n : 0;
}

void kube_time_rfc3339(char *buf, size_t len, int digits)
{
    struct timespec ts;
    struct tm tm;
    long frac;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    frac = digits == 6 ? ts.tv_nsec / 1000 : ts.tv_nsec / 1000000;
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%0*ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, digits == 6 ? 6 : 3, frac);
}
