/* kube/jsonw.c - jansson's compact dump, written directly: the escaping
 * of dump.c's dump_string and its number formats, one pass per string. */
#include "kube/jsonw.h"

#include <stdio.h>
#include <string.h>

#include "kube/ascii.h"

/* Whether s[0..n) is valid UTF-8 as jansson judges it (overlong forms,
 * surrogates and code points past U+10FFFF refused): all-ASCII text
 * needs no look, the rest asks jansson's own constructor. */
/* Whether s[0..n) (not all ASCII) is valid UTF-8 as jansson judges it
 * (overlong forms, surrogates and code points past U+10FFFF refused):
 * asked of jansson's own constructor. */
static int utf8_ok(const char *s, size_t n)
{
    json_t *probe = json_stringn(s, n);

    json_decref(probe);
    return probe != NULL;
}

/* The escape for c, or NULL when c is written as it is. */
static const char *escape_of(unsigned char c, char hex[7])
{
    static const char digits[] = "0123456789ABCDEF";

    switch (c) {
    case '\\':
        return "\\\\";
    case '"':
        return "\\\"";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        if (c >= 0x20)
            return NULL;
        memcpy(hex, "\\u00", 4); /* jansson: "\\u%04X" */
        hex[4] = digits[c >> 4];
        hex[5] = digits[c & 15];
        hex[6] = '\0';
        return hex;
    }
}

/* Appends "s" (nothing in s to escape) with one reservation. */
static int quoted(struct kube_buf *b, const char *s, size_t n)
{
    int rc;
    char *p = kube_buf_room(b, n + 2, &rc);

    if (!p)
        return rc;
    p[0] = '"';
    memcpy(p + 1, s, n);
    p[n + 1] = '"';
    kube_buf_commit(b, n + 2);
    return KUBE_OK;
}

/* Per byte: 1 when jansson escapes it, 2 when it is not ASCII. */
static const unsigned char look[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 2,
};

int kube_jsonw_str(struct kube_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char any = 0, special;
    size_t run = 0; /* start of the bytes not yet written */
    char hex[7];

    /* one look for the common case: ASCII with nothing to escape */
    for (size_t i = kube_ascii_plain_prefix(u, n, '"', '\\'); i < n; i++)
        any |= look[u[i]];
    special = any & 1;
    if ((any & 2) && !utf8_ok(s, n))
        return KUBE_EINVAL;
    if (!special) /* the common case: one copy between the quotes */
        return quoted(b, s, n);
    kube_buf_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        const char *esc = escape_of(u[i], hex);

        if (!esc)
            continue;
        kube_buf_add(b, s + run, i - run);
        kube_buf_adds(b, esc);
        run = i + 1;
    }
    kube_buf_add(b, s + run, n - run);
    return kube_buf_add(b, "\"", 1);
}

int kube_jsonw_strz(struct kube_buf *b, const char *s)
{
    return kube_jsonw_str(b, s, strlen(s));
}

/* {"key":value,...} in insertion order, as jansson's dump walks it. */
static int object(struct kube_buf *b, json_t *v)
{
    const char *sep = "";
    int rc = KUBE_OK;

    kube_buf_add(b, "{", 1);
    for (void *it = json_object_iter(v); it && rc == KUBE_OK;
         it = json_object_iter_next(v, it)) {
        kube_buf_adds(b, sep);
        sep = ",";
        rc = kube_jsonw_str(b, json_object_iter_key(it),
                            json_object_iter_key_len(it));
        kube_buf_add(b, ":", 1);
        if (rc == KUBE_OK)
            rc = kube_jsonw_value(b, json_object_iter_value(it));
    }
    return rc < 0 ? rc : kube_buf_add(b, "}", 1);
}

static int array(struct kube_buf *b, const json_t *v)
{
    int rc = KUBE_OK;

    kube_buf_add(b, "[", 1);
    for (size_t i = 0; i < json_array_size(v) && rc == KUBE_OK; i++) {
        if (i > 0)
            kube_buf_add(b, ",", 1);
        rc = kube_jsonw_value(b, json_array_get(v, i));
    }
    return rc < 0 ? rc : kube_buf_add(b, "]", 1);
}

int kube_jsonw_value(struct kube_buf *b, const json_t *v)
{
    char num[64];
    size_t n;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return object(b, (json_t *)v); /* jansson's iterators take non-const */
    case JSON_ARRAY:
        return array(b, v);
    case JSON_STRING:
        return kube_jsonw_str(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return kube_jsonw_int(b, json_integer_value(v));
    case JSON_TRUE:
    case JSON_FALSE:
        return kube_jsonw_bool(b, json_is_true(v));
    case JSON_NULL:
        return kube_buf_add(b, "null", 4);
    default: /* a real: jansson's own digits (its dtostr is not public) */
        n = json_dumpb(v, num, sizeof(num), JSON_ENCODE_ANY);
        if (n == 0 || n > sizeof(num))
            return KUBE_EINVAL;
        return kube_buf_add(b, num, n);
    }
}

int kube_jsonw_int(struct kube_buf *b, json_int_t v)
{
    char num[24], *p = num + sizeof(num);
    unsigned long long u = (unsigned long long)v;

    if (v < 0)
        u = 0ULL - u; /* the magnitude, JSON_INTEGER_MIN's included */
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return kube_buf_add(b, p, (size_t)(num + sizeof(num) - p));
}

int kube_jsonw_bool(struct kube_buf *b, int v)
{
    return v ? kube_buf_add(b, "true", 4) : kube_buf_add(b, "false", 5);
}

int kube_jsonw_real(struct kube_buf *b, double v)
{
    json_t *r = json_real(v); /* NULL for NaN and infinities */
    int rc = r ? kube_jsonw_value(b, r) : KUBE_EINVAL;

    json_decref(r);
    return rc;
}
