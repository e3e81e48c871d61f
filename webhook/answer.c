/* webhook/answer.c - filling an answer: plain denials and warnings, and
 * who may never be blocked. */
#include "webhook/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kube/ascii.h"
#include "kube/utf8.h"

#define WH_WARN_MAX 120 /* the API's advice for a warning's length */

void wh_deny(struct wh_answer *a, int code, const char *reason, const char *fmt,
             ...)
{
    va_list ap;

    if (a->code)
        return; /* the first denial is the one the user needs to read */
    a->code = code;
    a->reason = reason;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof(a->message), fmt, ap);
    va_end(ap);
    kube_utf8_cut(a->message, sizeof(a->message) - 1);
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence and
 * replaces control characters, which make kube-apiserver drop a warning.
 * Returns its length; *ascii says whether it is all ASCII. Eight bytes a
 * step while none is a control byte, DEL or non-ASCII (each test exact
 * as a yes/no), then a byte at a time. */
static size_t clean_warning(char *s, size_t max, int *ascii)
{
    unsigned char any = 0;
    size_t i, n;

    kube_utf8_cut(s, max);
    n = strlen(s);
    for (i = kube_ascii_plain_prefix(s, n, 0x7f, 0x7f); i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            s[i] = ' ';
        any |= c;
    }
    *ascii = any < 0x80;
    return n;
}

int wh_warn(struct wh_answer *a, const char *fmt, ...)
{
    char buf[WH_WARN_MAX * 4 + 1];
    va_list ap;
    size_t i, n;
    json_t *w;
    int ascii;

    if (!strchr(fmt, '%')) {
        /* no arguments (most warnings): vsnprintf's walk of a long
         * format cost as much as all the rest; the same bytes */
        n = strlen(fmt);
        n = n < sizeof(buf) ? n : sizeof(buf) - 1;
        memcpy(buf, fmt, n);
        buf[n] = '\0';
    } else {
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
    }
    n = clean_warning(buf, WH_WARN_MAX, &ascii);
    json_array_foreach(a->warnings, i, w)
    {
        if (strcmp(json_string_value(w), buf) == 0)
            return KUBE_OK; /* the apiserver drops duplicates anyway */
    }
    /* kube_json_string's choice, its length known: ASCII needs no check */
    w = ascii ? json_stringn_nocheck(buf, n) : json_string(buf);
    if (json_array_append_new(a->warnings, w))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

int wh_req_is_system_deleter(const struct wh_req *r)
{
    static const char *const deleters[] = {
        "system:serviceaccount:kube-system:namespace-controller",
        "system:serviceaccount:kube-system:generic-garbage-collector",
        NULL,
    };

    for (size_t i = 0; deleters[i]; i++)
        if (strcmp(r->username, deleters[i]) == 0)
            return 1;
    return 0;
}
