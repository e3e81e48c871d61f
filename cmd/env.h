/* cmd/env.h - what the offline verbs (review, validate) load before they
 * judge anything: the policy and, optionally, cluster objects. */
#ifndef VMSNAPD_CMD_ENV_H
#define VMSNAPD_CMD_ENV_H

#include "kube/store.h"
#include "webhook/policy.h"

/* Loads policy_path (NULL: the defaults) into *pol and, when objects_path
 * is set, a new store with those objects into *store (else *store stays
 * NULL). On failure prints "vmsnapd VERB: why" on stderr and returns -1;
 * the caller frees whatever was loaded either way. */
int cmd_env_load(struct wh_policy **pol, struct kube_store **store,
                 const char *verb, const char *policy_path,
                 const char *objects_path);

#endif
