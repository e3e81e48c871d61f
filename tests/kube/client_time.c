/* tests/kube/client_time.c - log and Lease timestamps, with the cached
 * second of each thread. */
#include <criterion/criterion.h>
#include <string.h>

#include "kube/client_time.h"

Test(kube_client_time, rfc3339_table)
{
    /* in this order: the cached second must follow each change, back
     * in time too */
    static const struct {
        time_t sec;
        long nsec;
        int digits;
        size_t len;
        const char *want;
    } rows[] = {
        {0, 0, 3, 32, "1970-01-01T00:00:00.000Z"},
        {1796555917, 123456789, 3, 32, "2026-12-06T11:18:37.123Z"},
        {1796555917, 987654321, 6, 32, "2026-12-06T11:18:37.987654Z"},
        {1796555918, 5000000, 3, 32, "2026-12-06T11:18:38.005Z"},
        {1796555918, 999, 6, 32, "2026-12-06T11:18:38.000000Z"},
        {951782400, 1000, 6, 32, "2000-02-29T00:00:00.000001Z"}, /* back */
        {951782400, 1000, 3, 5, "2000"},                         /* cut */
        {951782400, 1000, 3, 24, "2000-02-29T00:00:00.000"},
        {951782400, 1000, 3, 25, "2000-02-29T00:00:00.000Z"},
    };
    char buf[32];

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct timespec ts = {rows[i].sec, rows[i].nsec};

        memset(buf, 'x', sizeof(buf));
        kube_time_rfc3339_at(buf, rows[i].len, &ts, rows[i].digits);
        cr_expect_str_eq(buf, rows[i].want, "row %zu", i);
    }
    memset(buf, 'x', sizeof(buf));
    kube_time_rfc3339_at(buf, 0, &(struct timespec){0, 0}, 3);
    cr_expect_eq(buf[0], 'x', "a buffer of length 0 is not written");
}

Test(kube_client_time, now_has_the_shape)
{
    char buf[40];

    kube_time_rfc3339(buf, sizeof(buf), 6);
    cr_expect_eq(strlen(buf), 27);
    cr_expect_eq(buf[10], 'T');
    cr_expect_eq(buf[19], '.');
    cr_expect_eq(buf[26], 'Z');
}
