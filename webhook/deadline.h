/* webhook/deadline.h - spec.failureDeadline: what a user may write (a Go
 * duration, or a bare number of seconds as the product documentation
 * promises), what the policy allows, and the string we store. */
#ifndef VMSNAPD_WEBHOOK_DEADLINE_H
#define VMSNAPD_WEBHOOK_DEADLINE_H

#include <jansson.h>
#include <stdint.h>

#include "webhook/admission.h"

/* Reads v (borrowed; a string or a JSON number) into *ns. On failure
 * returns KUBE_EINVAL with why (Go's words, or "must not be negative") in
 * msg. Negative values parse but are refused here. */
int wh_deadline_parse(int64_t *ns, const json_t *v, char *msg, size_t len);

/* Rule 5 of the snapshot CREATE rules: adds causes or warnings. */
int wh_deadline_validate(struct wh_answer *a, const json_t *spec,
                         const struct wh_policy *p);

/* The mutation: default an absent deadline, turn a bare number into
 * "Ns". Adds to a->patch and a warning. */
int wh_deadline_mutate(struct wh_answer *a, const json_t *spec,
                       const struct wh_policy *p);

#endif
