/* kube/patch.h - RFC 6902 JSON Patch: building one for a mutating answer,
 * and applying one (review runs validation on the mutated object, and
 * tests check that a patch yields the intended object). */
#ifndef VMSNAPD_KUBE_PATCH_H
#define VMSNAPD_KUBE_PATCH_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"

struct kube_patch {
    json_t *ops; /* private: array of operations, owned */
};

/* An empty patch. KUBE_ENOMEM on failure. */
int kube_patch_init(struct kube_patch *p) KUBE_MUST_CHECK;
void kube_patch_free(struct kube_patch *p);
size_t kube_patch_len(const struct kube_patch *p);

/* Appends {"op", "path", "value"}. Steals value, also on failure, so
 * kube_patch_add_new(p, "add", path, json_string(s)) cannot leak. */
int kube_patch_add_new(struct kube_patch *p, const char *op, const char *path,
                       json_t *value) KUBE_MUST_CHECK;

/* Writes "/a/b~1c" for the segments given (NULL-terminated), escaping '~'
 * as ~0 and '/' as ~1 (RFC 6901). Returns 0 or KUBE_ETOOBIG. */
int kube_pointer(char *buf, size_t len, const char *const *segments);

/* The patch as base64 of its compact JSON, as AdmissionResponse.patch
 * wants it: a new string (caller frees), NULL on allocation failure. */
char *kube_patch_base64(const struct kube_patch *p);

/* Applies the JSON Patch array ops (borrowed) to *doc in place (*doc may be
 * replaced: a new reference stored back, the old one released). Supports
 * add, remove, replace, test, copy and move. Fails with KUBE_EINVAL and a
 * message like kube-apiserver's (`add operation does not apply: doc is
 * missing path: "/spec/x/y"`) without changing *doc. */
int kube_patch_apply(json_t **doc, const json_t *ops,
                     struct kube_err *err) KUBE_MUST_CHECK;

#endif
