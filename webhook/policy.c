/* webhook/policy.c - loading the admission policy file. The keys live in
 * one table that drives both parsing and the "unknown key" check. */
#include "webhook/policy.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/duration.h"
#include "kube/json.h"
#include "kube/yaml.h"
#include "kube/file.h"

#define POLICY_MAX_FILE (1 << 20) /* a policy is a few lines */

enum pol_type { POL_DURATION, POL_BOOL, POL_COUNT, POL_STRLIST };

static const struct pol_key {
    const char *path;
    enum pol_type type;
    size_t off;
} pol_keys[] = {
    {"snapshot.defaultFailureDeadline", POL_DURATION,
     offsetof(struct wh_policy, default_failure_deadline)},
    {"snapshot.maxFailureDeadline", POL_DURATION,
     offsetof(struct wh_policy, max_failure_deadline)},
    {"snapshot.allowNoDeadline", POL_BOOL,
     offsetof(struct wh_policy, allow_no_deadline)},
    {"snapshot.maxPerVM", POL_COUNT, offsetof(struct wh_policy, max_per_vm)},
    {"snapshot.requireGuestAgentForOnline", POL_BOOL,
     offsetof(struct wh_policy, require_guest_agent_for_online)},
    {"restore.requireOfflineSnapshot", POL_BOOL,
     offsetof(struct wh_policy, require_offline_snapshot)},
    {"restore.requireStoppedTarget", POL_BOOL,
     offsetof(struct wh_policy, require_stopped_target)},
    {"restore.allowNewTarget", POL_BOOL,
     offsetof(struct wh_policy, allow_new_target)},
    {"content.controllerUsers", POL_STRLIST,
     offsetof(struct wh_policy, controller_users)},
    {"exemptNamespaces", POL_STRLIST,
     offsetof(struct wh_policy, exempt_namespaces)},
};
#define POL_NKEYS (sizeof(pol_keys) / sizeof(pol_keys[0]))

static const char *const pol_sections[] = {"snapshot", "restore", "content",
                                           NULL};

static void strlist_free(char **l)
{
    for (size_t i = 0; l && l[i]; i++)
        free(l[i]);
    free(l);
}

/* A NULL-terminated copy of the JSON string array (strings checked). */
static char **strlist_from(const json_t *arr)
{
    size_t n = json_array_size(arr), i;
    char **l = calloc(n + 1, sizeof(*l));
    json_t *v;

    if (!l)
        return NULL;
    json_array_foreach(arr, i, v)
    {
        l[i] = strdup(json_string_value(v));
        if (!l[i]) {
            strlist_free(l);
            return NULL;
        }
    }
    return l;
}

static void policy_free(struct wh_policy *p)
{
    strlist_free(p->controller_users);
    strlist_free(p->exempt_namespaces);
    free(p);
}

int wh_policy_default(struct wh_policy **out)
{
    static const char *const users[] = {
        "system:serviceaccount:vmsnapd-system:vmsnapd", NULL};
    struct wh_policy *p = calloc(1, sizeof(*p));
    json_t *u = json_pack("[s]", users[0]), *none = json_array();

    if (!p || !u || !none)
        goto fail;
    p->default_failure_deadline = 5LL * 60 * 1000000000LL;
    p->allow_no_deadline = 1;
    p->require_offline_snapshot = 1;
    p->require_stopped_target = 1;
    p->allow_new_target = 1;
    p->controller_users = strlist_from(u);
    p->exempt_namespaces = strlist_from(none);
    if (!p->controller_users || !p->exempt_namespaces)
        goto fail;
    p->refs = 1;
    json_decref(u);
    json_decref(none);
    *out = p;
    return KUBE_OK;
fail:
    json_decref(u);
    json_decref(none);
    if (p)
        policy_free(p);
    return KUBE_ENOMEM;
}

struct wh_policy *wh_policy_ref(struct wh_policy *p)
{
    if (p)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    return p;
}

void wh_policy_unref(struct wh_policy *p)
{
    if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
        policy_free(p);
}

int wh_policy_user_in(char *const *list, const char *user,
                      const char *const *groups)
{
    for (size_t i = 0; list && list[i]; i++) {
        if (user && strcmp(list[i], user) == 0)
            return 1;
        for (size_t g = 0; groups && groups[g]; g++)
            if (strcmp(list[i], groups[g]) == 0)
                return 1;
    }
    return 0;
}

struct pol_ctx {
    struct wh_policy *p;
    const char *name;
    struct kube_err *err;
    int docs;
};

/* Reports a problem at the key (or value) of path. */
static int pol_fail(struct pol_ctx *pc, const struct kube_yaml_doc *doc,
                    const char *path, int at_value, const char *what)
{
    struct kube_yaml_where w;

    kube_yaml_where(&w, doc, path);
    return kube_err_set(pc->err, KUBE_EINVAL, "%s:%d:%d: %s: %s", pc->name,
                        at_value ? w.val_line : w.key_line,
                        at_value ? w.val_col : w.key_col, path, what);
}

static int set_duration(struct pol_ctx *pc, const struct kube_yaml_doc *doc,
                        const struct pol_key *k, const json_t *v)
{
    char num[32];
    const char *s = json_string_value(v);
    struct kube_err derr;
    int64_t d = 0;

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
    }
    if (!s)
        return pol_fail(pc, doc, k->path, 1,
                        "expected a duration such as \"5m\" or a number of "
                        "seconds");
    if (kube_duration_parse(&d, s, 1, &derr) < 0 || d < 0)
        return pol_fail(pc, doc, k->path, 1,
                        d < 0 ? "must not be negative" : derr.msg);
    *(int64_t *)((char *)pc->p + k->off) = d;
    return KUBE_OK;
}

static int set_strlist(struct pol_ctx *pc, const struct kube_yaml_doc *doc,
                       const struct pol_key *k, const json_t *v)
{
    char ***slot = (char ***)((char *)pc->p + k->off);
    size_t i;
    json_t *it;
    char **l;

    if (!json_is_array(v))
        return pol_fail(pc, doc, k->path, 1, "expected a list of strings");
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it)) {
            char p[160];
            snprintf(p, sizeof(p), "%s[%zu]", k->path, i);
            return pol_fail(pc, doc, p, 1, "expected a string");
        }
    }
    l = strlist_from(v);
    if (!l)
        return kube_err_set(pc->err, KUBE_ENOMEM, "out of memory");
    strlist_free(*slot);
    *slot = l;
    return KUBE_OK;
}

/* Sets one known key from v; the key table says how. */
static int set_key(struct pol_ctx *pc, const struct kube_yaml_doc *doc,
                   const struct pol_key *k, const json_t *v)
{
    switch (k->type) {
    case POL_DURATION:
        return set_duration(pc, doc, k, v);
    case POL_BOOL:
        if (!json_is_boolean(v))
            return pol_fail(pc, doc, k->path, 1, "expected true or false");
        *(int *)((char *)pc->p + k->off) = json_is_true(v);
        return KUBE_OK;
    case POL_COUNT:
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return pol_fail(pc, doc, k->path, 1,
                            "expected a whole number, 0 or more");
        *(long *)((char *)pc->p + k->off) = (long)json_integer_value(v);
        return KUBE_OK;
    case POL_STRLIST:
        return set_strlist(pc, doc, k, v);
    }
    return KUBE_ERR;
}

static const struct pol_key *find_key(const char *path)
{
    for (size_t i = 0; i < POL_NKEYS; i++)
        if (strcmp(pol_keys[i].path, path) == 0)
            return &pol_keys[i];
    return NULL;
}

/* Applies every key of one mapping; prefix is "" or "section.". */
static int apply_map(struct pol_ctx *pc, const struct kube_yaml_doc *doc,
                     const json_t *map, const char *prefix)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)map, key, v)
    {
        char path[160];
        const struct pol_key *k;
        int rc;

        snprintf(path, sizeof(path), "%s%s", prefix, key);
        k = find_key(path);
        if (!*prefix && !k) {
            const char *const *sec = pol_sections;
            while (*sec && strcmp(*sec, key) != 0)
                sec++;
            if (!*sec)
                return pol_fail(pc, doc, path, 0, "unknown key");
            if (json_is_null(v))
                continue;
            if (!json_is_object(v))
                return pol_fail(pc, doc, path, 1, "expected a mapping");
            snprintf(path, sizeof(path), "%s.", key);
            rc = apply_map(pc, doc, v, path);
        } else if (!k) {
            rc = pol_fail(pc, doc, path, 0, "unknown key");
        } else {
            rc = set_key(pc, doc, k, v);
        }
        if (rc < 0)
            return rc;
    }
    return KUBE_OK;
}

static int load_doc(const struct kube_yaml_doc *doc, void *ctx)
{
    struct pol_ctx *pc = ctx;

    if (json_is_null(doc->root))
        return KUBE_OK;
    if (pc->docs++ > 0)
        return kube_err_set(pc->err, KUBE_EINVAL,
                            "%s:%d:%d: a policy file holds one document",
                            pc->name, doc->line, doc->col);
    if (!json_is_object(doc->root))
        return kube_err_set(pc->err, KUBE_EINVAL,
                            "%s:%d:%d: the policy must be a mapping", pc->name,
                            doc->line, doc->col);
    return apply_map(pc, doc, doc->root, "");
}

int wh_policy_load_buf(struct wh_policy **out, const char *buf, size_t len,
                       const char *name, struct kube_err *err)
{
    struct pol_ctx pc = {NULL, name, err, 0};
    int rc = wh_policy_default(&pc.p);

    if (rc < 0)
        return kube_err_set(err, rc, "out of memory");
    rc = kube_yaml_stream_buf(buf, len, name, NULL, load_doc, &pc, err);
    /* A file with no settings is most likely a rewrite caught half-way
     * (truncated, not yet written): taking it as "all defaults" would
     * silently relax every rule, so it is refused like a broken one. */
    if (rc == KUBE_OK && pc.docs == 0)
        rc = kube_err_set(err, KUBE_EINVAL,
                          "%s: the policy file is empty; write {} to use "
                          "the built-in defaults",
                          name);
    if (rc < 0) {
        wh_policy_unref(pc.p);
        return rc;
    }
    *out = pc.p;
    return KUBE_OK;
}

int wh_policy_load(struct wh_policy **out, const char *path,
                   struct kube_err *err)
{
    char *buf = NULL;
    size_t len;
    int rc = kube_file_read(&buf, &len, path, POLICY_MAX_FILE, err);

    if (rc == KUBE_OK)
        rc = wh_policy_load_buf(out, buf, len, path, err);
    free(buf);
    return rc;
}
