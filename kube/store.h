/* kube/store.h - the cluster objects the rules read, keyed by kind,
 * namespace and name. Filled from a file (review, tests) or by informers
 * (serve). An object is kept as its compact JSON text, about the size of
 * that text (a jansson tree of it took eight times more), and a writer
 * replaces it whole. Readers get jansson trees: the last KUBE_STORE_HOT
 * objects read or written keep theirs, shared by every reader (never
 * modify one); others are decoded on the read. */
#ifndef VMSNAPD_KUBE_STORE_H
#define VMSNAPD_KUBE_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"

/* Objects whose decoded tree the store keeps for the next reader, and
 * their JSON's total size: a tree takes about 8 times its JSON, so hot
 * trees take about 4 MiB at most (512 small VMs). An object over a quarter
 * of it is never kept. */
#define KUBE_STORE_HOT 512
#define KUBE_STORE_HOT_BYTES (512 * 1024)

struct kube_store;

/* A new, empty store in *out. */
int kube_store_new(struct kube_store **out) KUBE_MUST_CHECK;
void kube_store_free(struct kube_store *s);

/* Inserts or replaces obj under its kind, metadata.namespace and
 * metadata.name. Steals obj, also on failure; obj may stay shared with
 * readers as a hot tree (unless put inside a jsonarena scope), so never
 * modify it after. KUBE_EINVAL when obj has no
 * kind or name. Thread-safe. */
int kube_store_put_new(struct kube_store *s, json_t *obj) KUBE_MUST_CHECK;

/* Removes an object; KUBE_ENOTFOUND if absent. Thread-safe. */
int kube_store_delete(struct kube_store *s, const char *kind, const char *ns,
                      const char *name);

/* Looks an object up; on success *out is a new reference (json_decref it;
 * never modify it: other readers share it). A hot object costs a hash
 * probe; another is decoded first (about 40,000 instructions for a
 * 640-byte VM, see docs/performance.md) and becomes hot. The tree is
 * heap memory even inside a jsonarena scope. ns is "" for cluster-scoped
 * kinds. KUBE_ENOTFOUND if absent, KUBE_ENOMEM. Thread-safe. */
int kube_store_get(json_t **out, struct kube_store *s, const char *kind,
                   const char *ns, const char *name) KUBE_MUST_CHECK;

/* The stored object's metadata.resourceVersion ("" without one) into buf,
 * without decoding it: the informers' relists skip objects that did not
 * change. KUBE_ENOTFOUND if absent; KUBE_ETOOBIG when buf is too small.
 * Thread-safe. */
int kube_store_version(char *buf, size_t len, struct kube_store *s,
                       const char *kind, const char *ns,
                       const char *name) KUBE_MUST_CHECK;

/* All objects of kind in namespace ns (NULL: every namespace) as a new
 * JSON array, in name order (then namespace); never modify them. A
 * namespace's objects become hot as with kube_store_get; with ns NULL
 * each is decoded for this call. Thread-safe. */
int kube_store_list(json_t **out, struct kube_store *s, const char *kind,
                    const char *ns) KUBE_MUST_CHECK;

/* The keys alone, as kube_store_list orders them: a new JSON array of
 * ["namespace", "name"] pairs, with no object decoded. Thread-safe. */
int kube_store_keys(json_t **out, struct kube_store *s, const char *kind,
                    const char *ns) KUBE_MUST_CHECK;

/* Number of objects held. Thread-safe. */
size_t kube_store_count(struct kube_store *s);

/* Loads a JSON List ({"kind":"List","items":[...]}), a single object, or
 * multi-document YAML of objects from path into s. err names the file and,
 * for bad YAML or JSON, the line and column. */
int kube_store_load_file(struct kube_store *s, const char *path,
                         struct kube_err *err) KUBE_MUST_CHECK;

#endif
