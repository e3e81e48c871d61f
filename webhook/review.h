/* webhook/review.h - one AdmissionReview in, one AdmissionReview out.
 * `serve` and `review` both call wh_review_handle: a rule exists once. */
#ifndef VMSNAPD_WEBHOOK_REVIEW_H
#define VMSNAPD_WEBHOOK_REVIEW_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"
#include "kube/store.h"
#include "webhook/policy.h"

/* Which webhook the request came to. WH_EP_ALL runs the mutation, then
 * validates the mutated object, and answers with the verdict and the
 * patch: what `vmsnapd review` does. */
enum wh_endpoint {
    WH_EP_VALIDATE,
    WH_EP_MUTATE,
    WH_EP_ALL,
};

/* What the server needs besides the body: the kind it expects on this path
 * (a resource plural such as "virtualmachinesnapshots", or NULL for any of
 * ours). */
struct wh_route {
    enum wh_endpoint endpoint;
    const char *resource;
};

/* How the state door reaches the cluster when the store cannot answer
 * (serve, with informers filling the store). Kept as hooks so webhook/
 * needs no API client: cmd/ plugs one in. Both run on a server thread. */
struct wh_lookup {
    /* 1 when the store holds a current copy of kind (its informer has
       synced and has not been failing for long), else 0 with the reason in
       why ("its cache has not synced yet"). Thread-safe, quick. */
    int (*fresh)(void *ctx, const char *kind, char *why, size_t len);
    /* Reads kind ns/name from the API server, with a short timeout, bounded
       in concurrency. Returns KUBE_OK with *out a new reference,
       KUBE_ENOTFOUND when the server says 404, or another negative code
       with the reason in err (KUBE_EUNAVAIL when too many reads are in
       flight). */
    int (*get)(json_t **out, void *ctx, const char *kind, const char *ns,
               const char *name, struct kube_err *err);
    void *ctx;
};

/* Everything the rules read. store may be NULL: rules that need cluster
 * state are then skipped and a warning says so. lookup may be NULL (review,
 * validate: the store is all there is); with it, a kind whose cache is not
 * fresh is a 503, and only misses a rule must confirm are read live
 * (webhook/state.h). */
struct wh_env {
    const struct wh_policy *policy;
    struct kube_store *store;
    const struct wh_lookup *lookup;
};

/* For metrics and logs: filled as far as the request was understood.
 * The strings are static or borrowed from nothing (never freed). */
struct wh_outcome {
    char kind[64];      /* "VirtualMachineSnapshot", or "" */
    char operation[16]; /* "CREATE", ... or "" */
    char uid[128];      /* the request uid, or "" */
    char ns[254];       /* request namespace, or "" */
    char name[254];     /* object name, or "" */
    int allowed;        /* 1 allowed, 0 denied */
    int code;           /* status.code of a denial, else 200 */
    int patched;        /* a JSON Patch was returned */
    char message[512];  /* status.message of a denial (cut), else "" */
};

/* Decodes body as an AdmissionReview v1, runs admission for route, and on
 * success stores the response AdmissionReview (compact JSON, malloc'd,
 * caller frees) in *out / *outlen and returns 0: that includes denials
 * and 400 answers for objects we cannot understand. A body that is not an
 * AdmissionReview at all (not JSON, not an object, no request.uid) returns
 * KUBE_EINVAL with err naming the problem: there is no uid to answer.
 * KUBE_ENOMEM on allocation failure. Thread-safe; env is only read. */
int wh_review_handle(char **out, size_t *outlen, struct wh_outcome *oc,
                     const struct wh_route *route, const char *body, size_t len,
                     const struct wh_env *env,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* wh_review_handle on a tree: review (borrowed, only read) is the
 * decoded AdmissionReview; on success *out is the response AdmissionReview
 * (a new reference). For in-process callers (`vmsnapd validate`) that
 * build the review themselves: no text in between. Runs outside any arena
 * scope, so *out lives on the heap. Same errors otherwise. */
int wh_review_tree(json_t **out, struct wh_outcome *oc,
                   const struct wh_route *route, const json_t *review,
                   const struct wh_env *env,
                   struct kube_err *err) KUBE_MUST_CHECK;

#endif
