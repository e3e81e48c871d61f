/* webhook/state.h - the cluster state the rules read (VMs, VMIs, the
 * snapshot kinds), through one door so "not there" and "cannot know" stay
 * apart: without a store the rule is skipped and the answer says so. */
#ifndef VMSNAPD_WEBHOOK_STATE_H
#define VMSNAPD_WEBHOOK_STATE_H

#include <jansson.h>

#include "webhook/admission.h"

/* Gets kind/name in the request's namespace. Returns KUBE_OK with *out a
 * new reference, KUBE_ENOTFOUND, or KUBE_EUNAVAIL when there is no cluster
 * state (a->state_skipped is then set, so the answer carries a warning).
 * With env->lookup, an object missing from the store is read live once;
 * when that read fails with anything but 404, the answer becomes a 503
 * (wh_deny) and KUBE_EUNAVAIL is returned: the rule skips, the request is
 * refused. Blocks for at most the lookup's timeout. */
int wh_state_get(json_t **out, struct wh_answer *a, const struct wh_req *r,
                 const char *kind, const char *name) KUBE_MUST_CHECK;

/* Lists kind in the request's namespace: a new array reference, or
 * KUBE_EUNAVAIL as above. With env->lookup the kind's cache must have
 * synced, else the answer becomes a 503 and KUBE_EUNAVAIL is returned. */
int wh_state_list(json_t **out, struct wh_answer *a, const struct wh_req *r,
                  const char *kind) KUBE_MUST_CHECK;

/* Whether the request's namespace is being deleted (as far as known: a
 * namespace that cannot be read counts as not terminating). */
int wh_state_namespace_terminating(const struct wh_req *r);

#endif
