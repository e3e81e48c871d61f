/* kube/client_time.c - monotonic time, timed waits and jitter. */
#include "kube/client_time.h"

#include <stdio.h>
#include <string.h>
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

/* The formatted second of the last stamp this thread wrote: a log line
 * pays gmtime_r and a 7-field snprintf (about 3,100 instructions) only
 * when the second changes. */
static _Thread_local struct {
    time_t sec;
    int valid;
    char text[64]; /* "YYYY-MM-DDTHH:MM:SS"; room for any int year */
} stamp_second;

void kube_time_rfc3339_at(char *buf, size_t len, const struct timespec *ts,
                          int digits)
{
    struct tm tm;
    char out[80]; /* the second, '.', 6 digits, 'Z' */
    long v;
    int n = digits == 6 ? 6 : 3;
    size_t k;

    if (!stamp_second.valid || stamp_second.sec != ts->tv_sec) {
        gmtime_r(&ts->tv_sec, &tm);
        snprintf(stamp_second.text, sizeof(stamp_second.text),
                 "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        stamp_second.sec = ts->tv_sec;
        stamp_second.valid = 1;
    }
    k = strlen(stamp_second.text);
    memcpy(out, stamp_second.text, k);
    out[k++] = '.';
    v = n == 6 ? ts->tv_nsec / 1000 : ts->tv_nsec / 1000000;
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[k + (size_t)i] = (char)('0' + v % 10);
    k += (size_t)n;
    out[k++] = 'Z';
    if (len == 0)
        return;
    k = k < len - 1 ? k : len - 1; /* cut to len, as snprintf would */
    memcpy(buf, out, k);
    buf[k] = '\0';
}

void kube_time_rfc3339(char *buf, size_t len, int digits)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    kube_time_rfc3339_at(buf, len, &ts, digits);
}
