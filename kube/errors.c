/* kube/errors.c - error codes and messages. */
#include "kube/errors.h"

#include <stdarg.h>
#include <stdio.h>

#include "kube/utf8.h"

int kube_err_set(struct kube_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    kube_utf8_cut(err->msg, sizeof(err->msg) - 1); /* cut is fine */
    return code;
}

const char *kube_strerror(int code)
{
    switch (code) {
    case KUBE_OK:
        return "ok";
    case KUBE_ENOMEM:
        return "out of memory";
    case KUBE_EINVAL:
        return "invalid input";
    case KUBE_ENOTFOUND:
        return "not found";
    case KUBE_ECONFLICT:
        return "conflict";
    case KUBE_EGONE:
        return "gone";
    case KUBE_ETOOBIG:
        return "too large";
    case KUBE_EUNAVAIL:
        return "unavailable";
    default:
        return "error";
    }
}
