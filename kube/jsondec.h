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

/* The fast path alone, for tests and the fuzzer: a new reference to the
 * same tree, or NULL when kube_json_decode would ask json_loadb (which may
 * still accept the input). Thread-safe. */
json_t *kube_json_decode_fast(const char *buf, size_t len);

#endif
