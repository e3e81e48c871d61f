/* kube/jsonw.h - JSON text written straight into a kube_buf, byte for
 * byte what json_dumpb(JSON_COMPACT) writes for the same values, without
 * building a tree or paying jansson's dump bookkeeping (a hash table of
 * the containers it is inside, an snprintf per container). For the
 * admission answer, written once per review. */
#ifndef VMSNAPD_KUBE_JSONW_H
#define VMSNAPD_KUBE_JSONW_H

#include <jansson.h>
#include <stddef.h>

#include "kube/buf.h"
#include "kube/errors.h"

/* Appends s[0..n) as a quoted JSON string, escaped as jansson escapes
 * (\" \\ \b \f \n \r \t, other control characters as \u00XX, '/' and
 * non-ASCII as they are). Returns 0, KUBE_EINVAL when s is not valid
 * UTF-8 by jansson's rules (json_dumpb fails then too; nothing is
 * added), or the buffer's failure. */
int kube_jsonw_str(struct kube_buf *b, const char *s, size_t n);

/* kube_jsonw_str of a NUL-terminated string. */
int kube_jsonw_strz(struct kube_buf *b, const char *s);

/* Appends v as json_dumpb(v, JSON_COMPACT | JSON_ENCODE_ANY) writes it
 * (keys in insertion order). Returns 0, KUBE_EINVAL when v cannot be
 * encoded, or the buffer's failure. */
int kube_jsonw_value(struct kube_buf *b, const json_t *v);

/* Appends v in decimal, as json_dumpb writes a json_integer, without
 * snprintf. Returns 0 or the buffer's failure. */
int kube_jsonw_int(struct kube_buf *b, json_int_t v);

/* Appends true (v non-zero) or false. Returns 0 or the buffer's failure. */
int kube_jsonw_bool(struct kube_buf *b, int v);

/* Appends v as json_dumpb writes json_real(v) (jansson's own digits).
 * Returns 0, KUBE_EINVAL when v is not finite (json_real refuses it;
 * nothing is added), or the buffer's failure. */
int kube_jsonw_real(struct kube_buf *b, double v);

#endif
