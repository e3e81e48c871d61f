/* kube/duration.c - Go's time.ParseDuration and Duration.String, byte for
 * byte (Go 1.19 to current master, which agree), so a failureDeadline means
 * and reads what it would in any Go controller. */
#include "kube/duration.h"

#include <assert.h>
#include <string.h>

#define NS_PER_SEC UINT64_C(1000000000)
#define TWO_63 (UINT64_C(1) << 63) /* |INT64_MIN|, Go's 1<<63 */

static const struct {
    const char *name;
    uint64_t ns;
} units[] = {
    {"ns", UINT64_C(1)},           {"us", UINT64_C(1000)},
    {"\xc2\xb5s", UINT64_C(1000)}, /* U+00B5 micro sign */
    {"\xce\xbcs", UINT64_C(1000)}, /* U+03BC Greek small letter mu */
    {"ms", UINT64_C(1000000)},     {"s", NS_PER_SEC},
    {"m", 60 * NS_PER_SEC},        {"h", 3600 * NS_PER_SEC},
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Appends what fits of src[0..n) to buf (cap bytes, NUL included). */
static void put(char *buf, size_t cap, size_t *len, const char *src, size_t n)
{
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, src, n);
    *len += n;
    buf[*len] = '\0';
}

/* Go's time.quote, which is not strconv.Quote: every byte below ' ' or
 * from 0x80 up (UTF-8 included) becomes \xNN, '"' and '\\' get a
 * backslash, the rest (DEL too) is copied. Writes the longest prefix of the
 * quoted text that fits in buf, so a message that kube_err_set cuts reads
 * as the start of Go's. */
static void quote(char *buf, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;

    assert(cap > 0);
    buf[0] = '\0';
    put(buf, cap, &len, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

        if (c < ' ' || c >= 0x80) {
            put(buf, cap, &len, esc, 4);
        } else if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            put(buf, cap, &len, esc, 2);
        } else {
            put(buf, cap, &len, s + i, 1);
        }
    }
    put(buf, cap, &len, "\"", 1);
}

static int fail_invalid(struct kube_err *err, const char *orig)
{
    char q[KUBE_ERR_MSG];

    quote(q, sizeof(q), orig, strlen(orig));
    return kube_err_set(err, KUBE_EINVAL, "time: invalid duration %s", q);
}

static int fail_missing_unit(struct kube_err *err, const char *orig)
{
    char q[KUBE_ERR_MSG];

    quote(q, sizeof(q), orig, strlen(orig));
    return kube_err_set(err, KUBE_EINVAL, "time: missing unit in duration %s",
                        q);
}

static int fail_unknown_unit(struct kube_err *err, const char *u, size_t ulen,
                             const char *orig)
{
    char qu[KUBE_ERR_MSG], q[KUBE_ERR_MSG];

    quote(qu, sizeof(qu), u, ulen);
    quote(q, sizeof(q), orig, strlen(orig));
    return kube_err_set(err, KUBE_EINVAL,
                        "time: unknown unit %s in duration %s", qu, q);
}

/* Go's leadingInt: consumes [0-9]* into *x. Returns -1 once the value
 * passes 1<<63 (Go then reports the whole input invalid). */
static int leading_int(uint64_t *x, const char **p)
{
    const char *s = *p;

    *x = 0;
    for (; is_digit(*s); s++) {
        if (*x > TWO_63 / 10)
            return -1;
        *x = *x * 10 + (uint64_t)(*s - '0');
        if (*x > TWO_63)
            return -1;
    }
    *p = s;
    return 0;
}

/* Go's leadingFraction: consumes [0-9]* into *x over *scale (a power of
 * ten); digits past uint64 precision are consumed but ignored. */
static void leading_fraction(uint64_t *x, double *scale, const char **p)
{
    const char *s = *p;
    int overflow = 0;
    uint64_t y;

    *x = 0;
    *scale = 1;
    for (; is_digit(*s); s++) {
        if (overflow)
            continue;
        if (*x > (TWO_63 - 1) / 10) {
            overflow = 1;
            continue;
        }
        y = *x * 10 + (uint64_t)(*s - '0');
        if (y > TWO_63) {
            overflow = 1;
            continue;
        }
        *x = y;
        *scale *= 10;
    }
    *p = s;
}

static int lookup_unit(uint64_t *ns, const char *u, size_t ulen)
{
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == ulen && !memcmp(units[i].name, u, ulen)) {
            *ns = units[i].ns;
            return 0;
        }
    }
    return -1;
}

/* One Go component, number[.fraction]unit, at *p into *out (ns, at most
 * 1<<63). bare: this unsigned first number may end the input without a
 * unit, meaning seconds. Advances *p on success. */
static int parse_component(uint64_t *out, const char **p, const char *orig,
                           int bare, struct kube_err *err)
{
    const char *s = *p, *start, *u;
    uint64_t v, f = 0, unit;
    double scale = 1;
    int pre, post = 0;

    if (!(*s == '.' || is_digit(*s)))
        return fail_invalid(err, orig);
    start = s;
    if (leading_int(&v, &s) < 0)
        return fail_invalid(err, orig);
    pre = s != start;
    if (*s == '.') {
        start = ++s;
        leading_fraction(&f, &scale, &s);
        post = s != start;
    }
    if (!pre && !post)
        return fail_invalid(err, orig); /* ".s", "-." */
    for (u = s; *s && *s != '.' && !is_digit(*s); s++)
        ;
    if (s == u && !(bare && *s == '\0'))
        return fail_missing_unit(err, orig);
    if (s == u)
        unit = NS_PER_SEC;
    else if (lookup_unit(&unit, u, (size_t)(s - u)) < 0)
        return fail_unknown_unit(err, u, (size_t)(s - u), orig);
    if (v > TWO_63 / unit)
        return fail_invalid(err, orig);
    v *= unit;
    if (f > 0) {
        /* Go's float64 step, nanosecond-exact for fractions of hours;
         * f < scale, so the product is in [0, unit] and converts safely. */
        v += (uint64_t)((double)f * ((double)unit / scale));
        if (v > TWO_63)
            return fail_invalid(err, orig);
    }
    *out = v;
    *p = s;
    return KUBE_OK;
}

int kube_duration_parse(int64_t *out, const char *s, int bare_seconds,
                        struct kube_err *err)
{
    const char *p = s;
    uint64_t d = 0, v;
    int neg = 0, rc;

    assert(out && s);
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return KUBE_OK;
    }
    if (*p == '\0')
        return fail_invalid(err, s);
    while (*p) {
        /* only an unsigned first number may go without a unit */
        rc = parse_component(&v, &p, s, bare_seconds && p == s, err);
        if (rc < 0)
            return rc;
        d += v; /* 2^63 + 2^63 wraps to 0, as Go's uint64 does */
        if (d > TWO_63)
            return fail_invalid(err, s);
    }
    if (neg) {
        *out = d == TWO_63 ? INT64_MIN : -(int64_t)d;
        return KUBE_OK;
    }
    if (d > TWO_63 - 1)
        return fail_invalid(err, s);
    *out = (int64_t)d;
    return KUBE_OK;
}

/* Go's fmtFrac: the prec low decimal digits of *v go before buf[w] as a
 * fraction without trailing zeros (no point if all are zero); *v keeps
 * the rest. Returns the new start. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
    int print = 0;

    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(*v % 10);

        print = print || digit != 0;
        if (print)
            buf[--w] = (char)('0' + digit);
        *v /= 10;
    }
    if (print)
        buf[--w] = '.';
    return w;
}

/* Go's fmtInt: v in decimal before buf[w]. Returns the new start. */
static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
    do {
        buf[--w] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return w;
}

/* Go's Duration.format: writes into the end of buf[32], returns the
 * start. The longest output is "-2562047h47m16.854775808s". */
static size_t go_format(char buf[32], int64_t d)
{
    size_t w = 32;
    uint64_t u = (uint64_t)d; /* modulo 2^64: INT64_MIN stays 2^63 */

    if (d < 0)
        u = 0 - u;
    buf[--w] = 's';
    if (u < NS_PER_SEC) {
        int prec = 6;

        if (u == 0) {
            buf[--w] = '0';
            return w;
        } else if (u < 1000) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < 1000000) {
            prec = 3;
            buf[--w] = '\xb5'; /* U+00B5, as Go prints it */
            buf[--w] = '\xc2';
        } else {
            buf[--w] = 'm';
        }
        w = fmt_frac(buf, w, &u, prec);
        w = fmt_int(buf, w, u);
    } else {
        w = fmt_frac(buf, w, &u, 9);
        w = fmt_int(buf, w, u % 60); /* u is now whole seconds */
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            w = fmt_int(buf, w, u % 60);
            u /= 60;
            if (u > 0) { /* hours are the largest unit: days vary */
                buf[--w] = 'h';
                w = fmt_int(buf, w, u);
            }
        }
    }
    if (d < 0)
        buf[--w] = '-';
    return w;
}

size_t kube_duration_format(char *buf, size_t len, int64_t d)
{
    char tmp[32];
    size_t w = go_format(tmp, d), n = sizeof(tmp) - w;

    if (len == 0)
        return 0;
    if (n > len - 1) {
        n = len - 1;
        while (n > 0 && ((unsigned char)tmp[w + n] & 0xc0) == 0x80)
            n--; /* never split the two bytes of the micro sign */
    }
    memcpy(buf, tmp + w, n);
    buf[n] = '\0';
    return n;
}
