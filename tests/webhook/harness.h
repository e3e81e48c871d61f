/* tests/webhook/harness.h - builds AdmissionReviews for rule tests and
 * runs them through wh_review_handle, the same door the server uses. */
#ifndef VMSNAPD_TESTS_WEBHOOK_HARNESS_H
#define VMSNAPD_TESTS_WEBHOOK_HARNESS_H

#include <jansson.h>

#include "webhook/review.h"

struct th_case {
    const char *resource; /* plural */
    const char *op;       /* CREATE, UPDATE, DELETE */
    const char *object;   /* JSON text or NULL */
    const char *old;      /* JSON text or NULL */
    const char *user;     /* NULL: "alice" */
    const char *objects;  /* JSON array text of cluster objects, or NULL:
                             no cluster state at all */
    const char *policy;   /* policy YAML or NULL for defaults */
    enum wh_endpoint endpoint;
};

/* What a row expects. causes is th_causes' text exactly (NULL: not
 * checked); warning and message are substrings (NULL: not checked; ""
 * for warning means "no warnings at all"). */
struct th_expect {
    int allowed;
    int code; /* status.code when denied */
    const char *causes;
    const char *message;
    const char *warning;
};

/* Runs c and checks e with cr_expect, naming the row. */
void th_check(const char *name, const struct th_case *c,
              const struct th_expect *e);

/* Runs c; returns the parsed response object (new reference) and fills
 * oc. Fails the current test on any harness or handle error. */
json_t *th_run(const struct th_case *c, struct wh_outcome *oc);

/* "field|reason|message" lines of the response's causes, joined by '\n'
 * (caller frees). "" when there are none. */
char *th_causes(const json_t *resp);

/* The warnings joined by '\n' (caller frees). */
char *th_warnings(const json_t *resp);

/* The decoded JSON Patch of the response (new reference) or NULL. */
json_t *th_patch(const json_t *resp);

#endif
