/* kube/base64.h - standard base64 (RFC 4648, padded) as Go's
 * encoding/base64.StdEncoding reads and writes it: the AdmissionResponse
 * patch, kubeconfig *-data fields, the webhook caBundle. OpenSSL does the
 * coding; this module holds Go's rules on top of it. */
#ifndef VMSNAPD_KUBE_BASE64_H
#define VMSNAPD_KUBE_BASE64_H

#include <stddef.h>

#include "kube/errors.h"

/* Base64 of len bytes on one line (caller frees); NULL on allocation
 * failure or a length OpenSSL cannot take (over INT_MAX). */
char *kube_base64(const unsigned char *data, size_t len);

/* Decodes s into *out (caller frees; *outlen bytes, not NUL-terminated).
 * Like Go's decoder, line breaks (\r, \n) anywhere are ignored, so a
 * wrapped kubeconfig value decodes; everything else must be padded base64.
 * Returns KUBE_EINVAL for anything else, KUBE_ENOMEM. */
int kube_unbase64(unsigned char **out, size_t *outlen,
                  const char *s) KUBE_MUST_CHECK;

#endif
