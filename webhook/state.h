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
 * With env->lookup the answer is the cache's, as a client-go lister's: a
 * miss in a fresh cache is "not found", with no API call. When the kind's
 * cache is not fresh (not synced, or failing for too long) the answer
 * becomes a 503 (wh_deny) and KUBE_EUNAVAIL is returned: the rule skips,
 * the request is refused, nothing is decided from stale data. */
int wh_state_get(json_t **out, struct wh_answer *a, const struct wh_req *r,
                 const char *kind, const char *name) KUBE_MUST_CHECK;

/* wh_state_get for a rule that a stale "not found" would make admit
 * something unsafe (a restore into a VM whose VMI the cache has not seen
 * yet): a miss is confirmed by one live GET (env->lookup->get, bounded and
 * de-duplicated by its owner). A 404 is "not found"; any other failure
 * (the API server, or too many reads in flight) is a 503 as above. Blocks
 * for at most the lookup's timeout. */
int wh_state_get_confirmed(json_t **out, struct wh_answer *a,
                           const struct wh_req *r, const char *kind,
                           const char *name) KUBE_MUST_CHECK;

/* Lists kind in the request's namespace: a new array reference, or
 * KUBE_EUNAVAIL as above. With env->lookup the kind's cache must be
 * fresh, else the answer becomes a 503 and KUBE_EUNAVAIL is returned. */
int wh_state_list(json_t **out, struct wh_answer *a, const struct wh_req *r,
                  const char *kind) KUBE_MUST_CHECK;

/* Whether the request's namespace is being deleted, from the cache (a
 * namespace that cannot be read, or a cache that is not fresh, counts as
 * not terminating: the rule then checks as usual). */
int wh_state_namespace_terminating(const struct wh_req *r);

#endif
