/* webhook/answer.c - filling an answer: plain denials and warnings, and
 * who may never be blocked. */
#include "webhook/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kube/json.h"
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
 * replaces control characters, which make kube-apiserver drop a warning. */
static void clean_warning(char *s, size_t max)
{
    kube_utf8_cut(s, max);
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

int wh_warn(struct wh_answer *a, const char *fmt, ...)
{
    char buf[WH_WARN_MAX * 4 + 1];
    va_list ap;
    size_t i;
    json_t *w;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    clean_warning(buf, WH_WARN_MAX);
    json_array_foreach(a->warnings, i, w)
    {
        if (strcmp(json_string_value(w), buf) == 0)
            return KUBE_OK; /* the apiserver drops duplicates anyway */
    }
    if (json_array_append_new(a->warnings, kube_json_string(buf)))
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
