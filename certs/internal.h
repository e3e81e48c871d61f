/* certs/internal.h - helpers shared by the files of certs/; not part of the
 * module's promise, so nothing outside certs/ includes it. */
#ifndef VMSNAPD_CERTS_INTERNAL_H
#define VMSNAPD_CERTS_INTERNAL_H

#include "kube/errors.h"

/* Like kube_err_set(), with ": <OpenSSL reason>" appended from the oldest
 * queued error (the cause; later ones are consequences). Empties this
 * thread's OpenSSL error queue, so the next failure reports its own cause.
 * Returns code. */
int certs_ssl_err(struct kube_err *err, int code, const char *fmt, ...)
    KUBE_PRINTF(3, 4);

#endif
