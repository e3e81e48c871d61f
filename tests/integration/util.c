/* tests/integration/util.c - see util.h. */
#include "tests/integration/util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void it_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && (size_t)n < sizeof(cmd));
    rc = system(cmd);
    cr_assert_eq(rc, 0, "command failed (%d): %s", rc, cmd);
}

char *it_slurp(const char *path, size_t *len)
{
    FILE *in = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, k;

    cr_assert_not_null(in, "%s: %s", path, strerror(errno));
    do {
        if (cap - n < 4096) {
            cap = cap * 2 + 8192;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        k = fread(buf + n, 1, cap - n - 1, in);
        n += k;
    } while (k > 0);
    fclose(in);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void it_spit(const char *path, const char *text)
{
    char tmp[512];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    cr_assert_not_null(f, "%s: %s", tmp, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(rename(tmp, path), 0); /* whole file or nothing */
}

double it_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}
