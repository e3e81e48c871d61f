/* webhook/state.c - the one door to cluster state for the rules. */
#include "webhook/state.h"

#include <string.h>

#include "kube/json.h"
#include "kube/store.h"

/* The rule cannot decide: a 503 that says what could not be read, never an
 * allow. Returns KUBE_EUNAVAIL, which the rules already take as "skip":
 * the plain denial set here is the answer. */
static int cannot_read(struct wh_answer *a, const struct wh_req *r,
                       const char *kind, const char *name, const char *why)
{
    wh_deny(a, 503, "ServiceUnavailable",
            "vmsnapd cannot read %s %s/%s right now: %s; try again", kind,
            r->ns, name ? name : "*", why);
    return KUBE_EUNAVAIL;
}

/* The store's answer, else one live GET (vmsnapd-rules.md, "Cluster
 * state"): a 404 is an answer whether or not the cache has synced; any
 * other failure means the rule cannot decide. */
static int get_live(json_t **out, struct wh_answer *a, const struct wh_req *r,
                    const struct wh_lookup *lk, const char *kind,
                    const char *ns, const char *name)
{
    struct kube_err err = {0, ""};
    int rc = kube_store_get(out, r->env->store, kind, ns, name);

    if (rc != KUBE_ENOTFOUND)
        return rc;
    rc = lk->get(out, lk->ctx, kind, ns, name, &err);
    if (rc == KUBE_OK || rc == KUBE_ENOTFOUND || rc == KUBE_ENOMEM || !a)
        return rc;
    return cannot_read(a, r, kind, name,
                       err.msg[0] ? err.msg : kube_strerror(rc));
}

int wh_state_get(json_t **out, struct wh_answer *a, const struct wh_req *r,
                 const char *kind, const char *name)
{
    if (!r->env->store) {
        a->state_skipped = 1;
        return KUBE_EUNAVAIL;
    }
    if (!r->env->lookup)
        return kube_store_get(out, r->env->store, kind, r->ns, name);
    return get_live(out, a, r, r->env->lookup, kind, r->ns, name);
}

int wh_state_list(json_t **out, struct wh_answer *a, const struct wh_req *r,
                  const char *kind)
{
    const struct wh_lookup *lk = r->env->lookup;

    if (!r->env->store) {
        a->state_skipped = 1;
        return KUBE_EUNAVAIL;
    }
    /* a partial list would count too few: only a synced cache will do */
    if (lk && !lk->synced(lk->ctx, kind))
        return cannot_read(a, r, kind, NULL, "its cache has not synced yet");
    return kube_store_list(out, r->env->store, kind, r->ns);
}

int wh_state_namespace_terminating(const struct wh_req *r)
{
    json_t *ns = NULL;
    int gone;

    if (!r->env->store)
        return 0;
    /* unknown counts as not terminating: the rule then checks as usual */
    if (r->env->lookup
            ? get_live(&ns, NULL, r, r->env->lookup, "Namespace", "", r->ns) < 0
            : kube_store_get(&ns, r->env->store, "Namespace", "", r->ns) < 0)
        return 0;
    gone = kube_json_path(ns, "metadata.deletionTimestamp") != NULL ||
           strcmp(kube_json_str0(ns, "status.phase"), "Terminating") == 0;
    json_decref(ns);
    return gone;
}
