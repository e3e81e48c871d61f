/* kube/json.h - small jansson helpers shared by the webhook and the
 * reconciler: typed lookups that tell "absent" from "wrong type", and
 * JSON file loading with line and column in errors. */
#ifndef VMSNAPD_KUBE_JSON_H
#define VMSNAPD_KUBE_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"

/* Looks up a dotted path ("spec.source.name") under obj. Returns the value
 * (borrowed) or NULL when any step is absent, null, or not an object. */
json_t *kube_json_path(const json_t *obj, const char *path);

/* The string at path (borrowed), or NULL when absent or not a string. */
const char *kube_json_str(const json_t *obj, const char *path);

/* The string at path, or "" when absent or not a string. Never NULL. */
const char *kube_json_str0(const json_t *obj, const char *path);

/* 1 when the value at path is JSON true, else 0. */
int kube_json_true(const json_t *obj, const char *path);

/* The first object in array whose string field key equals value
 * (borrowed), or NULL; array may be NULL or not an array. */
json_t *kube_json_find(const json_t *array, const char *key, const char *value);

/* Whether array (NULL or not an array: no) holds the string s. */
int kube_json_has_str(const json_t *array, const char *s);

/* Whether v is a string equal to one of the NULL-terminated list. */
int kube_json_str_in(const json_t *v, const char *const *list);

/* json_string(s), without jansson's UTF-8 check when s is ASCII (valid
 * by any rule): a new reference, or NULL when s is NULL, not UTF-8, or
 * memory ran out. For strings made on every review. */
json_t *kube_json_string(const char *s);

/* v as JSON text (json_dumpb with flags) in memory from malloc, whatever
 * allocator jansson runs on (kube/jsonarena.h): callers free() it. NULL
 * when out of memory or v cannot be encoded. *len, when not NULL, gets
 * the length (the text is also NUL-terminated). */
char *kube_json_dump(const json_t *v, size_t flags, size_t *len);

/* Appends a Kubernetes-style path segment to buf ("a" + "b" = "a.b";
 * index i appends "[i]"); returns 0, or KUBE_ETOOBIG if buf is too small
 * (buf is left unchanged then). */
int kube_path_join(char *buf, size_t len, const char *key);
int kube_path_index(char *buf, size_t len, size_t i);

#endif
