/* webhook/admission.h - what the per-kind rules share: the decoded request
 * they read, the answer they fill, and the row each kind adds to the kind
 * table (nginx-style: a new kind is a new row). Internal to webhook/. */
#ifndef VMSNAPD_WEBHOOK_ADMISSION_H
#define VMSNAPD_WEBHOOK_ADMISSION_H

#include <jansson.h>

#include "kube/errors.h"
#include "kube/fielderrs.h"
#include "kube/patch.h"
#include "webhook/review.h"

#define WH_GROUP "snapshot.kubevirt.io"
#define WH_MAX_GROUPS 64

enum wh_op { WH_CREATE, WH_UPDATE, WH_DELETE };

/* One admission request; every pointer is borrowed from the decoded
 * AdmissionReview and lives as long as it. */
struct wh_req {
    enum wh_op op;
    const char *uid;
    const char *ns;                        /* "" when absent */
    const char *name;                      /* request.name, else the object's */
    const char *username;                  /* "" when absent */
    const char *groups[WH_MAX_GROUPS + 1]; /* NULL-terminated */
    const json_t *object;                  /* CREATE, UPDATE */
    const json_t *old_object;              /* UPDATE, DELETE */
    int dry_run;
    const struct wh_env *env;
};

/* What the rules decide. A denial is either causes (422) or a plain
 * status (code, reason, message); warnings and a patch ride along. */
struct wh_answer {
    struct kube_fielderrs causes;
    int code;           /* plain denial when non-zero: 400, 403, 503 */
    const char *reason; /* static: "BadRequest", "Forbidden", ... */
    char message[1024];
    struct kube_patch patch;
    json_t *warnings;  /* array of strings, owned */
    int state_skipped; /* a rule needed cluster state we do not have */
};

/* A row of the kind table. validate and mutate return 0 or a negative
 * code (our failure: answered 500); NULL when the kind has none. */
struct wh_kind {
    const char *resource; /* plural, as in request.resource.resource */
    const char *kind;     /* Kind, for details.kind */
    /* JSON types of the fields the rules read, checked before them:
     * "a.b" for a field, "a[]" for every item; NULL-terminated rows. */
    const struct wh_typecheck *types;
    /* paths under spec compared as durations by the immutability check */
    const char *const *duration_fields;
    int (*validate)(struct wh_answer *a, const struct wh_req *r);
    int (*mutate)(struct wh_answer *a, const struct wh_req *r);
};

struct wh_typecheck {
    const char *path;
    json_type type; /* JSON_TRUE for booleans; JSON_REAL for any number */
    json_type alt;  /* a second accepted type, or JSON_NULL for none */
};

/* The kinds we admit; NULL when resource is not ours. */
const struct wh_kind *wh_kind_find(const char *resource);

/* Checks obj against k->types; on a wrong type writes a message naming the
 * field and returns KUBE_EINVAL. */
int wh_types_check(const struct wh_kind *k, const json_t *obj, char *msg,
                   size_t len);

/* Answer helpers. wh_deny sets a plain denial (the first one wins). */
void wh_deny(struct wh_answer *a, int code, const char *reason, const char *fmt,
             ...) KUBE_PRINTF(4, 5);
/* Adds a warning, cut to 120 characters on a UTF-8 boundary, control
 * characters replaced: kube-apiserver drops warnings that hold them. */
int wh_warn(struct wh_answer *a, const char *fmt, ...) KUBE_PRINTF(2, 3);

/* Whether the request comes from the namespace controller or the garbage
 * collector, which a webhook must never block. */
int wh_req_is_system_deleter(const struct wh_req *r);

/* The UPDATE rule all three kinds share: spec must be semantically equal to
 * the old spec, else cause `spec is immutable after creation` on `spec`. */
int wh_check_spec_immutable(struct wh_answer *a, const struct wh_req *r,
                            const struct wh_kind *k);

/* KubeVirt's source/target reference checks (apiGroup kubevirt.io, kind
 * VirtualMachine) under field: returns 1 when valid, 0 when causes were
 * added, -1 for a missing apiGroup (its only cause: KubeVirt stops). */
int wh_check_vm_ref(struct wh_answer *a, const json_t *ref, const char *field);

/* Kubernetes caps a label value at 63 characters of [-_.A-Za-z0-9],
 * alphanumeric at both ends. */
#define WH_LABEL_MAX 63

/* s as a label value: s itself when valid, else its valid start cut to 52
 * characters, "-" and the first 10 hex digits of SHA-256(s) (only the
 * digits when no valid start is left). Deterministic; cannot fail. */
void wh_label_value(char out[WH_LABEL_MAX + 1], const char *s);

/* Semantic equality of two specs as apimachinery's equality.Semantic sees
 * them: absent, null, [] and {} are equal; durations compare by value. */
int wh_spec_equal(const json_t *a, const json_t *b,
                  const char *const *duration_fields);

/* Per-kind rule entry points (webhook/vm*.c). */
extern const struct wh_kind wh_kind_snapshot;
extern const struct wh_kind wh_kind_content;
extern const struct wh_kind wh_kind_restore;

#endif
