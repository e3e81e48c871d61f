/* kube/fielderrs.h - the causes an object fails, rendered the Kubernetes
 * way (field.ErrorList): each cause has a type, a field path and a
 * message, and becomes one `details.causes[]` entry of a 422. */
#ifndef VMSNAPD_KUBE_FIELDERRS_H
#define VMSNAPD_KUBE_FIELDERRS_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"

/* Kubernetes cause types (metav1.CauseType), as the JSON key `reason`. */
#define KUBE_CAUSE_REQUIRED "FieldValueRequired"
#define KUBE_CAUSE_INVALID "FieldValueInvalid"
#define KUBE_CAUSE_NOT_SUPPORTED "FieldValueNotSupported"
#define KUBE_CAUSE_NOT_FOUND "FieldValueNotFound"
#define KUBE_CAUSE_FORBIDDEN "FieldValueForbidden"
#define KUBE_CAUSE_DUPLICATE "FieldValueDuplicate"

struct kube_fielderr {
    const char *type; /* one of KUBE_CAUSE_*, static */
    char *field;
    char *message;
};

/* Kept on the caller's stack: init, add, render, free. */
struct kube_fielderrs {
    struct kube_fielderr *items; /* private */
    size_t len, cap;             /* private */
    int oom;                     /* private: an add failed */
};

void kube_fielderrs_init(struct kube_fielderrs *fe);
void kube_fielderrs_free(struct kube_fielderrs *fe);
size_t kube_fielderrs_len(const struct kube_fielderrs *fe);
const struct kube_fielderr *kube_fielderrs_at(const struct kube_fielderrs *fe,
                                              size_t i);

/* Adds a cause whose message is exactly the printf result (KubeVirt style:
 * `invalid kind`). Returns 0 or KUBE_ENOMEM (also remembered, so a render
 * after a failed add fails too). */
int kube_fielderrs_add(struct kube_fielderrs *fe, const char *type,
                       const char *field, const char *fmt, ...)
    KUBE_PRINTF(4, 5);

/* Kubernetes' standard phrasings (field.Required, field.NotSupported):
 * `Required value`, `Unsupported value: "x": supported values: "a", "b"`.
 * detail may be NULL. value is borrowed. */
int kube_fielderrs_required(struct kube_fielderrs *fe, const char *field,
                            const char *detail);
int kube_fielderrs_not_supported(struct kube_fielderrs *fe, const char *field,
                                 const json_t *value,
                                 const char *const *allowed);
/* `Invalid value: "x": detail` as field.Invalid renders it. */
int kube_fielderrs_invalid(struct kube_fielderrs *fe, const char *field,
                           const json_t *value, const char *detail);

/* `field: message` of the causes joined with ", " (first 10, then
 * ", and N more validation errors"), as KubeVirt's ToAdmissionResponse
 * builds status.message. Caller frees. NULL on allocation failure. */
char *kube_fielderrs_message(const struct kube_fielderrs *fe);

/* The causes as a JSON array of {reason, message, field}: a new
 * reference, NULL on allocation failure. */
json_t *kube_fielderrs_causes(const struct kube_fielderrs *fe);

#endif
