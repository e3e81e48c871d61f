/* kube/jsondec.h - JSON text to a jansson tree, two to three times faster
 * than json_loadb: libyajl tokenizes and jansson builds and keeps the tree.
 * For admission bodies and watch lines, where json_loadb's per-byte lexer
 * was most of a review's CPU. The result is always json_loadb's own. */
#ifndef VMSNAPD_KUBE_JSONDEC_H
#define VMSNAPD_KUBE_JSONDEC_H

#include <jansson.h>
#include <stddef.h>

/* Decodes buf[0..len) as json_loadb(buf, len, JSON_ALLOW_NUL, error) does,
 * with two widenings for what a kube-apiserver may send: an integer past
 * int64 (Go writes 18446744073709552000 for a float64) becomes a real
 * instead of failing, and a key with \u0000 is kept (jansson's lexer
 * refuses it even with JSON_ALLOW_NUL). Otherwise the same tree (types,
 * key order, duplicate keys), or NULL with jansson's own error text, line,
 * column and position. Inputs the fast path cannot vouch for (a surrogate
 * or malformed \u escape, \v or \f, anything yajl or a jansson
 * constructor refuses, nesting past jansson's limit) go to json_loadb
 * itself. On success error, when not NULL, is set as json_loadb sets it.
 * Returns a new reference, or NULL. Thread-safe. */
json_t *kube_json_decode(const char *buf, size_t len, json_error_t *error);

/* Which members of an object to build, for callers that read a few
 * fields of a large document (an AdmissionReview's rules): a table ended
 * by a NULL key. A member whose key has no row, and no "*" row stands
 * for it, or whose row says drop, is read past: checked as json_loadb
 * checks it (JSON, UTF-8, numbers, depth), never built. */
struct kube_json_keep {
    const char *key;                  /* "*": every key without a row */
    const struct kube_json_keep *sub; /* for an object value: its members
                                         to build; NULL: all of them */
    int drop;                         /* 1: read past, even under "*" */
};

/* kube_json_decode that builds, at the top level (an object), only the
 * members keep names, and under each only its row's sub members; items
 * of an array are kept with the array's table. keep NULL builds all.
 * Same errors as kube_json_decode for the whole text. When the fast path
 * cannot vouch for the input, json_loadb's whole tree is returned: the
 * tree holds at least what keep names, maybe more. Returns a new
 * reference, or NULL. Thread-safe. */
json_t *kube_json_decode_keep(const char *buf, size_t len,
                              const struct kube_json_keep *keep,
                              json_error_t *error);

/* The fast path alone, for tests and the fuzzer: a new reference to the
 * same tree, or NULL when kube_json_decode would ask json_loadb (which may
 * still accept the input). Thread-safe. */
json_t *kube_json_decode_fast(const char *buf, size_t len);

/* kube_json_decode_keep's fast path alone, as kube_json_decode_fast. */
json_t *kube_json_decode_fast_keep(const char *buf, size_t len,
                                   const struct kube_json_keep *keep);

#endif
