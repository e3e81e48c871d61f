/* webhook/state.c - the one door to cluster state for the rules. */
#include "webhook/state.h"

#include <string.h>

#include "kube/json.h"
#include "kube/store.h"

int wh_state_get(json_t **out, struct wh_answer *a, const struct wh_req *r,
                 const char *kind, const char *name)
{
    if (!r->env->store) {
        a->state_skipped = 1;
        return KUBE_EUNAVAIL;
    }
    return kube_store_get(out, r->env->store, kind, r->ns, name);
}

int wh_state_list(json_t **out, struct wh_answer *a, const struct wh_req *r,
                  const char *kind)
{
    if (!r->env->store) {
        a->state_skipped = 1;
        return KUBE_EUNAVAIL;
    }
    return kube_store_list(out, r->env->store, kind, r->ns);
}

int wh_state_namespace_terminating(const struct wh_req *r)
{
    json_t *ns = NULL;
    int gone;

    if (!r->env->store ||
        kube_store_get(&ns, r->env->store, "Namespace", "", r->ns) < 0)
        return 0;
    gone = kube_json_path(ns, "metadata.deletionTimestamp") != NULL ||
           strcmp(kube_json_str0(ns, "status.phase"), "Terminating") == 0;
    json_decref(ns);
    return gone;
}
