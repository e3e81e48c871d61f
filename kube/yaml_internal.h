/* kube/yaml_internal.h - what the parts of the YAML reader share, and
 * nothing outside kube/yaml*.c may use:
 * - kube/yaml.c: the stream, its documents, and errors with line:col;
 * - kube/yaml_scalar.c: scalars resolved as go-yaml v2 resolves them;
 * - kube/yaml_build.c: libyaml's events into jansson values (frames,
 *   anchors, merge keys), recording each node's position;
 * - kube/yaml_index.c: the position index and kube_yaml_where. */
#ifndef VMSNAPD_KUBE_YAML_INTERNAL_H
#define VMSNAPD_KUBE_YAML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <yaml.h>

#include "kube/htab.h"
#include "kube/yaml.h"

#define NO_ENT UINT32_MAX

/* p grown to hold need items of size bytes (doubling; *cap updated), p
 * itself when big enough, or NULL when out of memory (p is kept). */
void *kube_yaml_grow(void *p, size_t *cap, size_t need, size_t size);

/* ---- kube/yaml_index.c: one entry per node, children found by name ---- */

enum { K_SCALAR, K_SEQ, K_MAP, K_ALIAS };

struct pos_ent {
    size_t name_off, name_len; /* in names: key, or item index */
    uint32_t parent, target;   /* target: an alias's anchored node */
    uint32_t hash;
    unsigned char kind, merge; /* merge: the value of a mapping's "<<" */
    int key_line, key_col, val_line, val_col;
};

struct pos_table {
    struct pos_ent *ents;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
    struct kube_htab slots; /* index + 1 of each entry */
};

struct pos_key {
    uint32_t parent;
    unsigned char merge;
    const char *name;
    size_t len;
};

/* Adds an entry; *out is its index. Returns 0 or KUBE_ENOMEM. */
int kube_yaml_pos_add(uint32_t *out, struct pos_table *t,
                      const struct pos_key *k, int kind);
void kube_yaml_pos_free(struct pos_table *t);

/* ---- kube/yaml_build.c: builder state ---- */

struct anchor {
    char *name;    /* owned */
    json_t *val;   /* new reference */
    uint32_t ent;  /* position entry; NO_ENT for an anchored key */
    size_t nodes;  /* nodes an alias to it adds */
    size_t height; /* nesting it adds: 0 for scalars */
};

struct anchors {
    struct anchor *v;
    size_t n, cap;
    struct kube_htab slots; /* index + 1 of each entry */
};

struct frame {
    json_t *val;    /* array or object being filled; owned */
    json_t *key;    /* mapping: pending key (a JSON string) or NULL; owned */
    json_t *merges; /* mapping: objects "<<" brings in, first wins; owned */
    char *anchor;   /* defined when the node ends, or NULL; owned */
    uint32_t ent;   /* the node's position entry */
    int key_line, key_col;
    unsigned char merge_key;  /* the pending key is "<<" */
    unsigned char seen_merge; /* a "<<" came already */
    size_t nodes0;            /* node count before this node */
    size_t height;            /* of the tallest child; scalars are 0 */
    size_t items;             /* sequence: items so far */
};

struct yp {
    yaml_parser_t parser;
    const char *name;
    const char *buf; /* input when from memory: reader errors get line:col */
    size_t len;
    FILE *f;
    off_t start; /* where f stood, to count lines again; -1: not seekable */
    struct kube_yaml_limits lim;
    kube_yaml_doc_fn fn;
    void *ctx;
    struct kube_err *err;
    int index;
    /* per document */
    struct kube_yaml_doc doc;
    struct pos_table *pos;
    struct anchors anchors;
    struct frame *stack;
    size_t depth, stack_cap;
    size_t nodes, aliases;
};

/* Frees an open collection's values; the frame is zeroed. */
void kube_yaml_frame_free(struct frame *f);
void kube_yaml_anchors_clear(struct anchors *a);

/* One event each into the document being built; 0 or a negative code
 * with p->err set. */
int kube_yaml_on_scalar(struct yp *p, const yaml_event_t *ev);
int kube_yaml_on_alias(struct yp *p, const yaml_event_t *ev);
int kube_yaml_on_start(struct yp *p, const yaml_event_t *ev, int kind);
int kube_yaml_on_end(struct yp *p);

/* ---- kube/yaml_scalar.c ---- */

/* The JSON value of a scalar event; *out is a new reference. */
int kube_yaml_scalar_value(json_t **out, struct yp *p, const yaml_event_t *ev);

/* Whether a scalar key event is the merge key "<<". */
int kube_yaml_is_merge_key(const yaml_event_t *ev);

/* The string a scalar key becomes, as sigs.k8s.io/yaml writes it; *out is
 * a new reference. v is borrowed. */
int kube_yaml_key_string(json_t **out, struct yp *p, const json_t *v,
                         const yaml_mark_t *m);

/* ---- kube/yaml.c: errors ---- */

static inline int mark_line(const yaml_mark_t *m)
{
    return m->line < INT32_MAX ? (int)m->line + 1 : INT32_MAX;
}

static inline int mark_col(const yaml_mark_t *m)
{
    return m->column < INT32_MAX ? (int)m->column + 1 : INT32_MAX;
}

/* Sets err to "NAME:LINE:COL: what" and returns code. */
int kube_yaml_fail(struct yp *p, int code, int line, int col, const char *fmt,
                   ...) KUBE_PRINTF(5, 6);

/* "NAME: out of memory", KUBE_ENOMEM. */
int kube_yaml_nomem(struct yp *p);

/* Writes s as a double-quoted string for a message, cut at about 60
 * bytes; control characters are escaped so the message stays one line. */
void kube_yaml_quote(char *out, size_t n, const char *s, size_t len);

#endif
