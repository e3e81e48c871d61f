/* cmd/env.c - loading the policy and cluster objects for offline verbs. */
#include "cmd/env.h"

#include <stdio.h>

int cmd_env_load(struct wh_policy **pol, struct kube_store **store,
                 const char *verb, const char *policy_path,
                 const char *objects_path)
{
    struct kube_err err = {0, ""};
    int rc = policy_path ? wh_policy_load(pol, policy_path, &err)
                         : wh_policy_default(pol);

    if (rc == KUBE_OK && objects_path) {
        rc = kube_store_new(store);
        if (rc == KUBE_OK)
            rc = kube_store_load_file(*store, objects_path, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "vmsnapd %s: %s\n", verb,
                err.msg[0] ? err.msg : kube_strerror(rc));
        return -1;
    }
    return 0;
}
