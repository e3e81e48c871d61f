/* kube/yaml_scalar.c - scalars resolved as sigs.k8s.io/yaml (go-yaml v2)
 * does, YAML 1.1 booleans included: yes/no/on/off and also y/n, so a key
 * "n" becomes "false" exactly as kubectl would make it. Where JSON or
 * jansson cannot follow go-yaml, or go-yaml leaves us a choice:
 * - .inf/.nan (any spelling) stay strings with their text: JSON has no
 *   infinities, and a string is rejected loudly by any number field.
 * - integers past int64 but within uint64 become reals (go-yaml: uint64).
 * - !!timestamp and !!binary values stay strings as written, like unknown
 *   tags; tags on collections are ignored.
 * - a null key is refused (sigs.k8s.io/yaml fails on it too). */
#include "kube/yaml_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
#define TAG_PREFIX_LEN (sizeof(TAG_PREFIX) - 1)

/* ---- scalar resolution, after go-yaml v2's resolve() ---- */

enum { R_NULL, R_BOOL, R_INT, R_FLOAT, R_SPECIAL, R_MERGE, R_STR };

static const char *const res_tag[] = {"null",  "bool",  "int", "float",
                                      "float", "merge", "str"};

struct res {
    int kind;
    int b;
    int64_t i;
    double d;
};

/* go-yaml v2's resolve map: YAML 1.1 booleans (y and n included), nulls,
 * and the special floats, which we keep as strings (see the top). */
static const struct {
    const char *s;
    int kind, b;
} res_words[] = {
    {"y", R_BOOL, 1},        {"Y", R_BOOL, 1},        {"yes", R_BOOL, 1},
    {"Yes", R_BOOL, 1},      {"YES", R_BOOL, 1},      {"true", R_BOOL, 1},
    {"True", R_BOOL, 1},     {"TRUE", R_BOOL, 1},     {"on", R_BOOL, 1},
    {"On", R_BOOL, 1},       {"ON", R_BOOL, 1},       {"n", R_BOOL, 0},
    {"N", R_BOOL, 0},        {"no", R_BOOL, 0},       {"No", R_BOOL, 0},
    {"NO", R_BOOL, 0},       {"false", R_BOOL, 0},    {"False", R_BOOL, 0},
    {"FALSE", R_BOOL, 0},    {"off", R_BOOL, 0},      {"Off", R_BOOL, 0},
    {"OFF", R_BOOL, 0},      {"", R_NULL, 0},         {"~", R_NULL, 0},
    {"null", R_NULL, 0},     {"Null", R_NULL, 0},     {"NULL", R_NULL, 0},
    {".nan", R_SPECIAL, 0},  {".NaN", R_SPECIAL, 0},  {".NAN", R_SPECIAL, 0},
    {".inf", R_SPECIAL, 0},  {".Inf", R_SPECIAL, 0},  {".INF", R_SPECIAL, 0},
    {"+.inf", R_SPECIAL, 0}, {"+.Inf", R_SPECIAL, 0}, {"+.INF", R_SPECIAL, 0},
    {"-.inf", R_SPECIAL, 0}, {"-.Inf", R_SPECIAL, 0}, {"-.INF", R_SPECIAL, 0},
    {"<<", R_MERGE, 0},
};

/* go-yaml's first-byte hint: 0 means "surely a string". */
static char res_hint(unsigned char c)
{
    if (c == '+' || c == '-')
        return 'S';
    if (c >= '0' && c <= '9')
        return 'D';
    if (c == '.')
        return '.';
    if (c && strchr("yYnNtTfFoO~", c))
        return 'M';
    return 0;
}

static int digit_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}

/* strconv.ParseUint(s, 0, 64) on s without sign or underscores: 0x, 0o,
 * 0b and a bare leading 0 (octal) pick the base. */
static int go_parse_uint(uint64_t *out, const char *s)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (s[0] == '0' && s[1]) {
        switch (s[1] | 0x20) {
        case 'x':
            base = 16;
            s += 2;
            break;
        case 'o':
            base = 8;
            s += 2;
            break;
        case 'b':
            base = 2;
            s += 2;
            break;
        default:
            base = 8;
            s += 1;
            break;
        }
    }
    if (!*s)
        return 0;
    for (; *s; s++) {
        int d = digit_val((unsigned char)*s);

        if (d >= (int)base || v > (UINT64_MAX - (unsigned)d) / base)
            return 0;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return 1;
}

/* strconv.ParseInt(s, 0, 64): an optional sign, then as above. */
static int go_parse_int(int64_t *out, const char *s)
{
    int neg = *s == '-';
    uint64_t u;

    if (*s == '+' || *s == '-')
        s++;
    if (!go_parse_uint(&u, s))
        return 0;
    if (!neg && u > INT64_MAX)
        return 0;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return 0;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
}

static size_t skip_digits(const char *s)
{
    size_t i = 0;

    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* go-yaml's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_float_syntax(const char *s)
{
    size_t n;

    if (*s == '-' || *s == '+')
        s++;
    if (*s == '.') {
        n = skip_digits(s + 1);
        if (!n)
            return 0;
        s += 1 + n;
    } else {
        n = skip_digits(s);
        if (!n)
            return 0;
        s += n;
        if (*s == '.')
            s += 1 + skip_digits(s + 1);
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        n = skip_digits(s);
        if (!n)
            return 0;
        s += n;
    }
    return *s == '\0';
}

/* Go's underscoreOK for text without sign or base prefix: each '_' sits
 * between digits. */
static int underscores_ok(const char *s, size_t len)
{
    char saw = '^';

    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            saw = '0';
        } else if (s[i] == '_') {
            if (saw != '0')
                return 0;
            saw = '_';
        } else {
            if (saw == '_')
                return 0;
            saw = '!';
        }
    }
    return saw != '_';
}

/* strtod on text yaml_float_syntax accepted (C locale: we never call
 * setlocale); an overflow is an error in Go, so the value stays a string. */
static void parse_float(struct res *r, const char *plain)
{
    double d;

    errno = 0;
    d = strtod(plain, NULL);
    if (errno == ERANGE && isinf(d))
        return;
    r->kind = R_FLOAT;
    r->d = d;
}

/* Ints, then uint64 (a real here), then floats, as go-yaml tries them. */
static void resolve_plain_number(struct res *r, const char *plain, char hint)
{
    uint64_t u;

    if (hint == '.') {
        if (yaml_float_syntax(plain))
            parse_float(r, plain);
        return;
    }
    if (go_parse_int(&r->i, plain)) {
        r->kind = R_INT;
    } else if (hint == 'D' && go_parse_uint(&u, plain)) {
        r->kind = R_FLOAT;
        r->d = (double)u;
    } else if (yaml_float_syntax(plain)) {
        parse_float(r, plain);
    }
}

/* Resolves a plain scalar (or one tagged !!int, !!bool, ...) into r.
 * Returns 0 or KUBE_ENOMEM. */
static int resolve(struct res *r, const char *s, size_t len)
{
    char small[128], *plain = small;
    char hint = len ? res_hint((unsigned char)s[0]) : 'N';
    size_t n = 0;

    r->kind = R_STR;
    if (!hint || memchr(s, '\0', len))
        return KUBE_OK;
    for (size_t i = 0; i < sizeof(res_words) / sizeof(res_words[0]); i++) {
        if (strlen(res_words[i].s) == len &&
            memcmp(res_words[i].s, s, len) == 0) {
            r->kind = res_words[i].kind;
            r->b = res_words[i].b;
            return KUBE_OK;
        }
    }
    if (hint == 'M' || (hint == '.' && !underscores_ok(s, len)))
        return KUBE_OK;
    if (len >= sizeof(small)) {
        plain = malloc(len + 1);
        if (!plain)
            return KUBE_ENOMEM;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '_')
            plain[n++] = s[i];
    }
    plain[n] = '\0';
    resolve_plain_number(r, plain, hint);
    if (plain != small)
        free(plain);
    return KUBE_OK;
}

/* go-yaml's check of an explicit tag against what the text resolved to;
 * an int is fine where a float is wanted. want is the short tag name. */
static int check_tag(struct yp *p, struct res *r, const char *want,
                     const yaml_event_t *ev)
{
    char q[96];

    if (strcmp(want, "float") == 0 && r->kind == R_INT) {
        r->kind = R_FLOAT;
        r->d = (double)r->i;
    }
    if (strcmp(res_tag[r->kind], want) == 0)
        return KUBE_OK;
    kube_yaml_quote(q, sizeof(q), (const char *)ev->data.scalar.value,
                    ev->data.scalar.length);
    return kube_yaml_fail(
        p, KUBE_EINVAL, mark_line(&ev->start_mark), mark_col(&ev->start_mark),
        "cannot decode !!%s %s as a !!%s", res_tag[r->kind], q, want);
}

/* The short name of a tag we resolve by (bool, int, float, null), or
 * NULL when the value stays a string (str, timestamp, unknown tags). */
static const char *resolving_tag(const char *tag)
{
    static const char *const names[] = {"bool", "int", "float", "null", NULL};

    if (strncmp(tag, TAG_PREFIX, TAG_PREFIX_LEN) != 0)
        return NULL;
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(tag + TAG_PREFIX_LEN, names[i]) == 0)
            return names[i];
    }
    return NULL;
}

/* The JSON value of a scalar event; *out is a new reference. */
int kube_yaml_scalar_value(json_t **out, struct yp *p, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *want = tag ? resolving_tag(tag) : NULL;
    size_t len = ev->data.scalar.length;
    struct res r = {R_STR, 0, 0, 0};
    int rc = KUBE_OK;

    /* quoted, literal and folded scalars are strings, as is "! text" */
    if ((!tag && ev->data.scalar.plain_implicit) || want)
        rc = resolve(&r, s, len);
    if (rc < 0)
        return kube_yaml_nomem(p);
    if (want) {
        rc = check_tag(p, &r, want, ev);
        if (rc < 0)
            return rc;
    }
    if (r.kind == R_NULL)
        *out = json_null();
    else if (r.kind == R_BOOL)
        *out = json_boolean(r.b);
    else if (r.kind == R_INT)
        *out = json_integer(r.i);
    else if (r.kind == R_FLOAT)
        *out = json_real(r.d);
    else
        *out = json_stringn(s, len);
    return *out ? KUBE_OK : kube_yaml_nomem(p);
}

int kube_yaml_is_merge_key(const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;

    if (ev->data.scalar.length != 2 ||
        memcmp(ev->data.scalar.value, "<<", 2) != 0)
        return 0;
    if (!tag)
        return ev->data.scalar.plain_implicit;
    return strcmp(tag, TAG_PREFIX "merge") == 0;
}

/* strconv.FormatFloat(d, 'g', -1, 32), which sigs.k8s.io/yaml uses to
 * turn float keys into strings: shortest float32 digits, %e form for
 * exponents below -4 or from 6 up. */
static void go_float32_key(char *out, size_t n, double d)
{
    float f = (float)d;
    char e[40];
    const char *x;
    int prec, exp = 0, neg;

    if (isnan(f) || isinf(f)) {
        snprintf(out, n, "%s", isnan(f) ? ".nan" : f > 0 ? ".inf" : "-.inf");
        return;
    }
    for (prec = 1; prec < 9; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
        if (strtof(e, NULL) == f)
            break;
    }
    snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
    x = strchr(e, 'e');
    neg = x && x[1] == '-';
    for (x = x ? x + 2 : ""; *x >= '0' && *x <= '9'; x++)
        exp = exp * 10 + (*x - '0');
    exp = neg ? -exp : exp;
    if (exp < -4 || exp >= 6)
        snprintf(out, n, "%s", e);
    else
        snprintf(out, n, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0,
                 (double)f);
}

/* The string a scalar key becomes, as sigs.k8s.io/yaml writes it; *out is
 * a new reference. v is borrowed. */
int kube_yaml_key_string(json_t **out, struct yp *p, const json_t *v,
                         const yaml_mark_t *m)
{
    char buf[48];

    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = json_incref((json_t *)v); /* strings are never changed */
        return KUBE_OK;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        go_float32_key(buf, sizeof(buf), json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
        break;
    case JSON_NULL:
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "mapping key is null (quote it to use the text)");
    default:
        return kube_yaml_fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                              "mapping key must be a scalar");
    }
    *out = json_string(buf);
    return *out ? KUBE_OK : kube_yaml_nomem(p);
}
