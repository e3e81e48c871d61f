/* webhook/policy.h - the admin's admission policy (--policy FILE, YAML).
 * A loaded policy is immutable and reference counted: a reload builds a
 * new one and swaps it in; a request holds a reference while it runs. */
#ifndef VMSNAPD_WEBHOOK_POLICY_H
#define VMSNAPD_WEBHOOK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "kube/errors.h"

struct wh_policy {
    /* snapshot: */
    int64_t default_failure_deadline; /* ns; default 5m */
    int64_t max_failure_deadline;     /* ns; 0 = no limit */
    int allow_no_deadline;            /* default 1 */
    long max_per_vm;                  /* 0 = no limit */
    int require_guest_agent_for_online;
    /* restore: */
    int require_offline_snapshot; /* default 1 */
    int require_stopped_target;   /* default 1 */
    int allow_new_target;         /* default 1 */
    /* content: */
    char **controller_users; /* NULL-terminated usernames or groups */
    /* requests in these namespaces are allowed untouched */
    char **exempt_namespaces; /* NULL-terminated */
    int refs;                 /* private: atomic reference count */
};

/* The built-in defaults (vmsnapd-rules.md) into *out, a new reference. */
int wh_policy_default(struct wh_policy **out) KUBE_MUST_CHECK;

/* Loads FILE over the defaults. An unknown key or a wrong type fails with
 * KUBE_EINVAL and err = "FILE:LINE:COL: what is wrong"; so does a file
 * with no document (empty, only comments or "---"): `{}` is how a file
 * asks for the defaults. */
int wh_policy_load(struct wh_policy **out, const char *path,
                   struct kube_err *err) KUBE_MUST_CHECK;

/* Same from a buffer; name is used in messages. */
int wh_policy_load_buf(struct wh_policy **out, const char *buf, size_t len,
                       const char *name, struct kube_err *err) KUBE_MUST_CHECK;

/* Reference counting; both accept NULL. Thread-safe. */
struct wh_policy *wh_policy_ref(struct wh_policy *p);
void wh_policy_unref(struct wh_policy *p);

/* Whether the user (name or any of groups, NULL-terminated or NULL) is
 * listed in list. */
int wh_policy_user_in(char *const *list, const char *user,
                      const char *const *groups);

#endif
