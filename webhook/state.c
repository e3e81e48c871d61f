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

/* KUBE_OK when the store may answer for kind: no lookup (review,
 * validate: the store is all there is) or a fresh cache. Otherwise the
 * 503 (when a is not NULL) and KUBE_EUNAVAIL. */
static int usable(struct wh_answer *a, const struct wh_req *r, const char *kind,
                  const char *name)
{
    const struct wh_lookup *lk = r->env->lookup;
    char why[160] = "its cache is not current";

    if (!lk || lk->fresh(lk->ctx, kind, why, sizeof(why)))
        return KUBE_OK;
    return a ? cannot_read(a, r, kind, name, why) : KUBE_EUNAVAIL;
}

/* The store's answer for kind ns/name, when it may give one; with
 * confirm, a miss is read live (vmsnapd-rules.md, "Cluster state"). */
static int get(json_t **out, struct wh_answer *a, const struct wh_req *r,
               const char *kind, const char *ns, const char *name, int confirm)
{
    const struct wh_lookup *lk = r->env->lookup;
    struct kube_err err = {0, ""};
    int rc;

    if (!r->env->store) {
        if (a)
            a->state_skipped = 1;
        return KUBE_EUNAVAIL;
    }
    rc = usable(a, r, kind, name);
    if (rc == KUBE_OK)
        rc = kube_store_get(out, r->env->store, kind, ns, name);
    if (rc != KUBE_ENOTFOUND || !confirm || !lk)
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
    return get(out, a, r, kind, r->ns, name, 0);
}

int wh_state_get_confirmed(json_t **out, struct wh_answer *a,
                           const struct wh_req *r, const char *kind,
                           const char *name)
{
    return get(out, a, r, kind, r->ns, name, 1);
}

int wh_state_list(json_t **out, struct wh_answer *a, const struct wh_req *r,
                  const char *kind)
{
    int rc;

    if (!r->env->store) {
        a->state_skipped = 1;
        return KUBE_EUNAVAIL;
    }
    /* a partial or stale list would count wrong: only a fresh cache */
    rc = usable(a, r, kind, NULL);
    return rc < 0 ? rc : kube_store_list(out, r->env->store, kind, r->ns);
}

int wh_state_namespace_terminating(const struct wh_req *r)
{
    json_t *ns = NULL;
    int gone;

    /* unknown counts as not terminating: the rule then checks as usual */
    if (get(&ns, NULL, r, "Namespace", "", r->ns, 0) < 0)
        return 0;
    gone = kube_json_path(ns, "metadata.deletionTimestamp") != NULL ||
           strcmp(kube_json_str0(ns, "status.phase"), "Terminating") == 0;
    json_decref(ns);
    return gone;
}
