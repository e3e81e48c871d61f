/* kube/metatime.c - RFC 3339 text <-> Unix milliseconds without the C
 * library's time zone state: the civil-date arithmetic is done here. */
#include "kube/metatime.h"

#include <stdio.h>

/* Reads n decimal digits at *s into *out, advancing *s; 0 or -1. */
static int digits(const char **s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* The "Z" or "+hh:mm" at s as seconds east of UTC; 0 or -1. */
static int zone(const char *s, int *east)
{
    int h, m, sign = *s == '-' ? -1 : 1;

    if (s[0] == 'Z' && s[1] == '\0') {
        *east = 0;
        return 0;
    }
    if (*s != '+' && *s != '-')
        return -1;
    s++;
    if (digits(&s, 2, &h) < 0 || *s++ != ':' || digits(&s, 2, &m) < 0 ||
        *s != '\0' || h > 23 || m > 59)
        return -1;
    *east = sign * (h * 3600 + m * 60);
    return 0;
}

int kube_metatime_parse(int64_t *ms, const char *s)
{
    int y, mo, d, h, mi, sec, frac = 0, scale = 1000, east;

    if (!s || digits(&s, 4, &y) < 0 || *s++ != '-' || digits(&s, 2, &mo) < 0 ||
        *s++ != '-' || digits(&s, 2, &d) < 0 || (*s != 'T' && *s != 't'))
        return KUBE_EINVAL;
    s++;
    if (digits(&s, 2, &h) < 0 || *s++ != ':' || digits(&s, 2, &mi) < 0 ||
        *s++ != ':' || digits(&s, 2, &sec) < 0)
        return KUBE_EINVAL;
    if (*s == '.') {
        if (s[1] < '0' || s[1] > '9')
            return KUBE_EINVAL;
        for (s++; *s >= '0' && *s <= '9'; s++)
            if (scale > 1) {
                scale /= 10;
                frac += (*s - '0') * scale;
            }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
        mi > 59 || sec > 59 || zone(s, &east) < 0)
        return KUBE_EINVAL;
    *ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
           east) *
              1000 +
          frac;
    return KUBE_OK;
}

void kube_metatime_format(char *buf, size_t len, int64_t ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400, z = days + 719468, era, doe, yoe, y;
    unsigned doy, mp, d, m;

    /* civil_from_days (H. Hinnant), the inverse of days_from_civil */
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = (unsigned)(doe - (365 * yoe + yoe / 4 - yoe / 100));
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
