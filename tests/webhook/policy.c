/* tests/webhook/policy.c - the policy file: every key, defaults, and
 * errors that name line and column. */
#include <criterion/criterion.h>
#include <string.h>

#include "webhook/policy.h"

static struct wh_policy *load(const char *text, struct kube_err *err)
{
    struct wh_policy *p = NULL;

    if (wh_policy_load_buf(&p, text, strlen(text), "policy.yaml", err) < 0)
        return NULL;
    return p;
}

Test(webhook_policy, defaults)
{
    struct wh_policy *p;

    cr_assert_eq(wh_policy_default(&p), 0);
    cr_expect_eq(p->default_failure_deadline, 300000000000LL);
    cr_expect_eq(p->max_failure_deadline, 0);
    cr_expect_eq(p->allow_no_deadline, 1);
    cr_expect_eq(p->max_per_vm, 0);
    cr_expect_eq(p->require_guest_agent_for_online, 0);
    cr_expect_eq(p->require_offline_snapshot, 1);
    cr_expect_eq(p->require_stopped_target, 1);
    cr_expect_eq(p->allow_new_target, 1);
    cr_expect_str_eq(p->controller_users[0],
                     "system:serviceaccount:vmsnapd-system:vmsnapd");
    cr_expect_null(p->controller_users[1]);
    cr_expect_null(p->exempt_namespaces[0]);
    wh_policy_unref(p);
}

Test(webhook_policy, every_key)
{
    struct kube_err err = {0, ""};
    struct wh_policy *p = load(
        "snapshot:\n"
        "  defaultFailureDeadline: 10m\n"
        "  maxFailureDeadline: 3600\n"
        "  allowNoDeadline: false\n"
        "  maxPerVM: 4\n"
        "  requireGuestAgentForOnline: true\n"
        "restore:\n"
        "  requireOfflineSnapshot: false\n"
        "  requireStoppedTarget: false\n"
        "  allowNewTarget: false\n"
        "content:\n"
        "  controllerUsers: [a, \"system:serviceaccounts:kubevirt\"]\n"
        "exemptNamespaces:\n"
        "  - kube-system\n",
        &err);

    cr_assert(p, "%s", err.msg);
    cr_expect_eq(p->default_failure_deadline, 600000000000LL);
    cr_expect_eq(p->max_failure_deadline, 3600000000000LL);
    cr_expect_eq(p->allow_no_deadline, 0);
    cr_expect_eq(p->max_per_vm, 4);
    cr_expect_eq(p->require_guest_agent_for_online, 1);
    cr_expect_eq(p->require_offline_snapshot, 0);
    cr_expect_eq(p->require_stopped_target, 0);
    cr_expect_eq(p->allow_new_target, 0);
    cr_expect_str_eq(p->controller_users[1],
                     "system:serviceaccounts:kubevirt");
    cr_expect_str_eq(p->exempt_namespaces[0], "kube-system");
    wh_policy_unref(p);
}

Test(webhook_policy, empty_mapping_is_the_defaults)
{
    struct kube_err err = {0, ""};
    struct wh_policy *p = load("# defaults\n{}\n", &err);

    cr_assert(p, "%s", err.msg);
    cr_expect_eq(p->require_stopped_target, 1);
    wh_policy_unref(p);
}

static const struct {
    const char *name, *text, *msg;
} bad[] = {
    {"unknown top key", "snapshots:\n  maxPerVM: 1\n",
     "policy.yaml:1:1: snapshots: unknown key"},
    {"unknown nested key", "snapshot:\n  maxPerVm: 1\n",
     "policy.yaml:2:3: snapshot.maxPerVm: unknown key"},
    {"count is a string", "snapshot:\n  maxPerVM: many\n",
     "policy.yaml:2:13: snapshot.maxPerVM: expected a whole number, 0 or "
     "more"},
    {"negative count", "snapshot:\n  maxPerVM: -1\n",
     "policy.yaml:2:13: snapshot.maxPerVM: expected a whole number"},
    {"bool is a string", "restore:\n  allowNewTarget: \"no\"\n",
     "policy.yaml:2:19: restore.allowNewTarget: expected true or false"},
    {"bad duration", "snapshot:\n  defaultFailureDeadline: 5 minutes\n",
     "policy.yaml:2:27: snapshot.defaultFailureDeadline: time: unknown unit "
     "\" minutes\" in duration \"5 minutes\""},
    {"negative duration", "snapshot:\n  maxFailureDeadline: -1m\n",
     "snapshot.maxFailureDeadline: must not be negative"},
    {"list expected", "content:\n  controllerUsers: me\n",
     "policy.yaml:2:20: content.controllerUsers: expected a list of strings"},
    {"list item not a string", "exemptNamespaces: [a, [b]]\n",
     "policy.yaml:1:23: exemptNamespaces[1]: expected a string"},
    {"section not a mapping", "restore: yes\n",
     "policy.yaml:1:10: restore: expected a mapping"},
    {"not a mapping", "- a\n", "policy.yaml:1:1: the policy must be a mapping"},
    {"two documents", "snapshot: {}\n---\nrestore: {}\n",
     "a policy file holds one document"},
    {"bad YAML", "snapshot: [\n", "policy.yaml:2:1:"},
    {"duplicate key", "snapshot: {}\nsnapshot: {}\n", "duplicate key"},
    /* a rewrite caught half-way must not reload as "all defaults" */
    {"empty file", "", "policy.yaml: the policy file is empty"},
    {"only comments", "# snapshot:\n#   maxPerVM: 1\n",
     "policy.yaml: the policy file is empty"},
    {"only a document marker", "---\n",
     "policy.yaml: the policy file is empty"},
    {"null document", "~\n", "policy.yaml: the policy file is empty"},
};

Test(webhook_policy, errors_name_line_and_column)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kube_err err = {0, ""};
        struct wh_policy *p = load(bad[i].text, &err);

        cr_expect_null(p, "%s: loaded", bad[i].name);
        cr_expect(strstr(err.msg, bad[i].msg), "%s: %s", bad[i].name,
                  err.msg);
        wh_policy_unref(p);
    }
}

Test(webhook_policy, users_and_groups)
{
    char *list[] = {"alice", "system:serviceaccounts:kubevirt", NULL};
    const char *groups[] = {"system:authenticated",
                            "system:serviceaccounts:kubevirt", NULL};

    cr_expect(wh_policy_user_in(list, "alice", NULL));
    cr_expect(wh_policy_user_in(list, "bob", groups));
    cr_expect_not(wh_policy_user_in(list, "bob", groups + 2));
    cr_expect_not(wh_policy_user_in(NULL, "alice", NULL));
}
