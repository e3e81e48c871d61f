/* kube/fielderrs.c - collecting and rendering field causes. */
#include "kube/fielderrs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"

#define KUBE_FIELDERRS_SHOWN 10 /* KubeVirt keeps the first ten */

void kube_fielderrs_init(struct kube_fielderrs *fe)
{
    memset(fe, 0, sizeof(*fe));
}

void kube_fielderrs_free(struct kube_fielderrs *fe)
{
    for (size_t i = 0; i < fe->len; i++) {
        free(fe->items[i].field);
        free(fe->items[i].message);
    }
    free(fe->items);
    kube_fielderrs_init(fe);
}

size_t kube_fielderrs_len(const struct kube_fielderrs *fe)
{
    return fe->len;
}

const struct kube_fielderr *kube_fielderrs_at(const struct kube_fielderrs *fe,
                                              size_t i)
{
    return i < fe->len ? &fe->items[i] : NULL;
}

/* Takes ownership of message (freed on failure). */
static int add_owned(struct kube_fielderrs *fe, const char *type,
                     const char *field, char *message)
{
    struct kube_fielderr *e;
    char *f = strdup(field);

    if (fe->len == fe->cap) {
        size_t ncap = fe->cap ? fe->cap * 2 : 4;
        struct kube_fielderr *n = realloc(fe->items, ncap * sizeof(*n));
        if (!n)
            goto oom;
        fe->items = n;
        fe->cap = ncap;
    }
    if (!f || !message)
        goto oom;
    e = &fe->items[fe->len++];
    e->type = type;
    e->field = f;
    e->message = message;
    return KUBE_OK;
oom:
    free(f);
    free(message);
    fe->oom = 1;
    return KUBE_ENOMEM;
}

static char *vformat(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    char *s;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int kube_fielderrs_add(struct kube_fielderrs *fe, const char *type,
                       const char *field, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = vformat(fmt, ap);
    va_end(ap);
    return add_owned(fe, type, field, msg);
}

int kube_fielderrs_required(struct kube_fielderrs *fe, const char *field,
                            const char *detail)
{
    if (detail && *detail)
        return kube_fielderrs_add(fe, KUBE_CAUSE_REQUIRED, field,
                                  "Required value: %s", detail);
    return kube_fielderrs_add(fe, KUBE_CAUSE_REQUIRED, field, "Required value");
}

/* A value as field errors quote it: strings in Go %q, others as JSON. */
/* A JSON real as Go's %v prints a float64: the shortest text that reads
 * back as the same number ("1e-12", not jansson's "9.9999999999999998e-13"),
 * so a message quotes what the user wrote. */
static char *real_text(double d)
{
    char buf[32];

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return strdup(buf);
}

static char *quote_value(const json_t *v)
{
    if (json_is_real(v))
        return real_text(json_real_value(v));
    if (json_is_string(v)) {
        json_t *s = json_string(json_string_value(v));
        char *q = s ? kube_json_dump(s, JSON_ENCODE_ANY, NULL) : NULL;
        json_decref(s);
        return q;
    }
    return kube_json_dump(v, JSON_ENCODE_ANY | JSON_COMPACT, NULL);
}

int kube_fielderrs_not_supported(struct kube_fielderrs *fe, const char *field,
                                 const json_t *value,
                                 const char *const *allowed)
{
    char list[512] = "";
    size_t used = 0;
    char *q = quote_value(value);
    int rc;

    for (size_t i = 0; allowed[i]; i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
                         i ? ", " : "", allowed[i]);
        if (n < 0 || (size_t)n >= sizeof(list) - used)
            break; /* the list is ours and short; cutting is harmless */
        used += (size_t)n;
    }
    rc = kube_fielderrs_add(fe, KUBE_CAUSE_NOT_SUPPORTED, field,
                            "Unsupported value: %s: supported values: %s",
                            q ? q : "?", list);
    free(q);
    return rc;
}

int kube_fielderrs_invalid(struct kube_fielderrs *fe, const char *field,
                           const json_t *value, const char *detail)
{
    char *q = quote_value(value);
    int rc = kube_fielderrs_add(fe, KUBE_CAUSE_INVALID, field,
                                "Invalid value: %s: %s", q ? q : "?", detail);
    free(q);
    return rc;
}

char *kube_fielderrs_message(const struct kube_fielderrs *fe)
{
    size_t need = 64, shown = fe->len;
    char *out, *p;

    if (fe->oom)
        return NULL;
    if (shown > KUBE_FIELDERRS_SHOWN)
        shown = KUBE_FIELDERRS_SHOWN;
    for (size_t i = 0; i < shown; i++)
        need += strlen(fe->items[i].field) + strlen(fe->items[i].message) + 4;
    out = malloc(need);
    if (!out)
        return NULL;
    p = out;
    *p = '\0';
    for (size_t i = 0; i < shown; i++)
        p += snprintf(p, need - (size_t)(p - out), "%s%s: %s", i ? ", " : "",
                      fe->items[i].field, fe->items[i].message);
    if (fe->len > shown)
        snprintf(p, need - (size_t)(p - out),
                 ", and %zu more validation errors", fe->len - shown);
    return out;
}

json_t *kube_fielderrs_causes(const struct kube_fielderrs *fe)
{
    json_t *arr = json_array();

    if (!arr || fe->oom)
        goto fail;
    for (size_t i = 0; i < fe->len; i++) {
        json_t *c =
            json_pack("{s:s, s:s, s:s}", "reason", fe->items[i].type, "message",
                      fe->items[i].message, "field", fe->items[i].field);
        if (!c || json_array_append_new(arr, c))
            goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}
