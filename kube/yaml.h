/* kube/yaml.h - YAML (and JSON, its subset) into jansson values through
 * libyaml, keeping where each node stood so errors can say line:column.
 * Used by the policy file, --objects, kubeconfig and `vmsnapd validate`. */
#ifndef VMSNAPD_KUBE_YAML_H
#define VMSNAPD_KUBE_YAML_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "kube/errors.h"

/* Ceilings against hostile input; zero fields take the defaults below. */
struct kube_yaml_limits {
    size_t max_depth;      /* nesting of mappings/sequences; default 256 */
    size_t max_alias_refs; /* alias expansions per document; default 10000 */
    size_t max_nodes;      /* nodes per document, aliases expanded; 1000000 */
};

/* One document. Positions are 1-based, as editors count them. */
struct kube_yaml_doc {
    json_t *root;  /* new reference; JSON null for an empty document */
    int index;     /* 0-based number of the document in the stream */
    int line, col; /* where the document's content starts */
    void *pos;     /* private: positions by field path */
};

/* Where the node at field path stands. Field paths are Kubernetes style:
 * "spec.source.kind", "spec.patches[1]", "metadata.labels[a.b/c]" (a key
 * with '.', '[' or ']' is written in brackets). key_* is the position of
 * the mapping key (0 for sequence items and the root); val_* of the value.
 * A path that is not in the document resolves to its longest existing
 * parent; found says whether the path itself was there. Never fails. */
struct kube_yaml_where {
    int key_line, key_col;
    int val_line, val_col;
    int found;
};
void kube_yaml_where(struct kube_yaml_where *out,
                     const struct kube_yaml_doc *doc, const char *path);

/* Called once per document; doc and its root are freed after the call
 * returns (json_incref the root to keep it). A non-zero return stops the
 * stream and is returned by kube_yaml_stream. */
typedef int (*kube_yaml_doc_fn)(const struct kube_yaml_doc *doc, void *ctx);

/* Reads documents from f one at a time (memory stays bounded by the
 * largest document) and calls fn for each. name is used in messages.
 * Scalars resolve as Kubernetes' YAML decoder does (YAML 1.1 core: null,
 * ~, true/false, ints, floats, quoted and tagged strings stay strings);
 * merge keys (<<) and aliases are expanded; mapping keys must be scalars.
 * Errors (KUBE_EINVAL, err says "NAME:LINE:COL: what"): syntax errors,
 * duplicate keys, non-scalar keys, over a limit, alias bombs. Returns 0,
 * the first non-zero fn result, or a negative code. */
int kube_yaml_stream(FILE *f, const char *name,
                     const struct kube_yaml_limits *lim, kube_yaml_doc_fn fn,
                     void *ctx, struct kube_err *err) KUBE_MUST_CHECK;

/* Same over a buffer in memory. */
int kube_yaml_stream_buf(const char *buf, size_t len, const char *name,
                         const struct kube_yaml_limits *lim,
                         kube_yaml_doc_fn fn, void *ctx,
                         struct kube_err *err) KUBE_MUST_CHECK;

#endif
