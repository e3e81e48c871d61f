/* cmd/verb_validate_check.c - one YAML document of `vmsnapd validate`: find the
 * snapshot.kubevirt.io objects in it, run each through wh_review_tree as
 * the CREATE kube-apiserver would send (mutation, then validation of the
 * mutated object: the rules exist once, in webhook/), and turn the answer
 * back into findings at the line and column of the field they name. */
#include "cmd/verb_validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/fielderrs.h"
#include "kube/json.h"

#define GROUP "snapshot.kubevirt.io"
#define CONTENTS "virtualmachinesnapshotcontents"
#define USER "vmsnapd-validate" /* for kinds whose rules ignore the user */
/* wh_review_tree adds this warning to every answer when there is no
 * store (webhook/review.c); validate says it once instead */
#define STATE_SKIPPED "vmsnapd has no view of the cluster"

/* Our kinds and their resources (plurals), in the same order: the one
 * list both the check and its "supported values" message use. */
static const char *const kinds[] = {"VirtualMachineSnapshot",
                                    "VirtualMachineSnapshotContent",
                                    "VirtualMachineRestore", NULL};
static const char *const resources[] = {"virtualmachinesnapshots", CONTENTS,
                                        "virtualmachinerestores", NULL};
static const char *const versions[] = {GROUP "/v1beta1", GROUP "/v1alpha1",
                                       NULL};

/* One object being checked: where it sits in its document. */
struct vobj {
    struct cmd_vcheck *c;
    const struct kube_yaml_doc *doc;
    const char *prefix; /* "" for the document, "items[3]" in a List */
    const char *kind, *name;
};

/* The resource of kind, or NULL when kind is not ours. */
static const char *find_resource(const char *kind)
{
    for (size_t i = 0; kind && kinds[i]; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return resources[i];
    return NULL;
}

/* Renders a Kubernetes "Required value" or "Unsupported value" message
 * through kube_fielderrs, so it reads like the rules' own. */
static enum cmd_vclass bad(char *field, size_t flen, char *why, size_t wlen,
                           const char *name, const char *value,
                           const char *const *allowed)
{
    struct kube_fielderrs fe;
    json_t *v = value ? json_string(value) : NULL;

    kube_fielderrs_init(&fe);
    if (v)
        (void)kube_fielderrs_not_supported(&fe, name, v, allowed);
    else
        (void)kube_fielderrs_required(&fe, name, NULL);
    snprintf(field, flen, "%s", name);
    snprintf(why, wlen, "%s",
             kube_fielderrs_len(&fe) ? kube_fielderrs_at(&fe, 0)->message
                                     : "out of memory");
    kube_fielderrs_free(&fe);
    json_decref(v);
    return CMD_VBAD;
}

enum cmd_vclass cmd_validate_classify(const char **resource, char *field,
                                      size_t flen, char *why, size_t wlen,
                                      const json_t *obj)
{
    const json_t *api = json_object_get(obj, "apiVersion");
    const char *s = json_string_value(api);
    const char *kind = kube_json_str(obj, "kind");
    const char *res = find_resource(kind);

    field[0] = why[0] = '\0';
    if (!s && !res)
        return CMD_VOTHER;
    if (!s)
        return bad(field, flen, why, wlen, "apiVersion", NULL, versions);
    if (strncmp(s, GROUP "/", sizeof(GROUP)) != 0)
        return CMD_VOTHER; /* another group, even with a kind like ours */
    if (!kube_json_str_in(api, versions))
        return bad(field, flen, why, wlen, "apiVersion", s, versions);
    if (!res)
        return bad(field, flen, why, wlen, "kind", kind, kinds);
    *resource = res;
    return CMD_VOURS;
}

const char *cmd_validate_split_400(char *field, size_t flen, const char *msg,
                                   const char *kind)
{
    char head[128];
    size_t n = (size_t)snprintf(head, sizeof(head),
                                "cannot decode %s in request.object: ", kind);
    const char *rest = msg, *colon;

    field[0] = '\0';
    if (n < sizeof(head) && strncmp(msg, head, n) == 0)
        rest = msg + n;
    colon = strstr(rest, ": ");
    if (!colon || colon == rest || memchr(rest, ' ', (size_t)(colon - rest)))
        return rest;
    if ((size_t)(colon - rest) == 6 && strncmp(rest, "object", 6) == 0)
        return colon + 2; /* the object itself */
    snprintf(field, flen, "%.*s", (int)(colon - rest), rest);
    return colon + 2;
}

void cmd_validate_warning_field(char *field, size_t flen, const char *text)
{
    size_t n = strcspn(text, " :,");

    field[0] = '\0';
    if ((strncmp(text, "spec.", 5) == 0 ||
         strncmp(text, "metadata.", 9) == 0) &&
        n < flen)
        snprintf(field, flen, "%.*s", (int)n, text);
}

/* Reports at the field's key (or, for a field that is not there, at its
 * nearest existing parent's key; for the object, where it starts). */
static int report(const struct vobj *o, enum cmd_vseverity sev,
                  const char *field, const char *message)
{
    struct kube_yaml_where w;
    char path[1024];
    struct cmd_vproblem p = {sev,   o->c->file, 0,       0,
                             field, message,    o->kind, o->name};

    snprintf(path, sizeof(path), "%s", o->prefix);
    /* a path too long to join leaves path at the object: report there */
    if (*field)
        (void)kube_path_join(path, sizeof(path), field);
    kube_yaml_where(&w, o->doc, path);
    p.line = w.key_line ? w.key_line : w.val_line;
    p.col = w.key_line ? w.key_col : w.val_col;
    if (!p.line) {
        p.line = o->doc->line;
        p.col = o->doc->col;
    }
    return cmd_validate_report_add(o->c->rep, &p);
}

static int report_warnings(const struct vobj *o, const json_t *warnings)
{
    const json_t *w;
    size_t i;
    int rc = KUBE_OK;

    json_array_foreach(warnings, i, w)
    {
        const char *text = json_string_value(w);
        char field[256];

        if (!text || strncmp(text, STATE_SKIPPED, strlen(STATE_SKIPPED)) == 0)
            continue;
        cmd_validate_warning_field(field, sizeof(field), text);
        rc = report(o, CMD_VWARNING, field, text);
        if (rc < 0)
            break;
    }
    return rc;
}

/* A denial: its causes (422), or one finding at the field a 400 names, or
 * at the object (403, 500). */
static int report_denial(const struct vobj *o, const json_t *status)
{
    const json_t *causes = kube_json_path(status, "details.causes"), *cs;
    const char *msg = kube_json_str0(status, "message");
    char field[256];
    size_t i;
    int rc = KUBE_OK;

    if (json_array_size(causes)) {
        json_array_foreach(causes, i, cs)
        {
            rc = report(o, CMD_VERROR, kube_json_str0(cs, "field"),
                        kube_json_str0(cs, "message"));
            if (rc < 0)
                return rc;
        }
        return rc;
    }
    if (json_integer_value(json_object_get(status, "code")) == 400) {
        msg = cmd_validate_split_400(field, sizeof(field), msg, o->kind);
        return report(o, CMD_VERROR, field, msg);
    }
    return report(o, CMD_VERROR, "", msg);
}

/* The AdmissionReview kube-apiserver would send for creating obj
 * (borrowed); a new reference, NULL when out of memory. */
static json_t *review_new(const struct vobj *o, const json_t *obj,
                          const char *resource)
{
    const char *api = kube_json_str0(obj, "apiVersion");
    const char *version = api + sizeof(GROUP); /* classify checked it */
    const char *ns = kube_json_str(obj, "metadata.namespace");
    const char *user = strcmp(resource, CONTENTS) ? USER : o->c->content_user;
    char uid[64];

    snprintf(uid, sizeof(uid), "vmsnapd-validate-%lu", ++o->c->seq);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s, "
        "s:s, s:{s:s}, s:O, s:b}}",
        "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
        "request", "uid", uid, "kind", "group", GROUP, "version", version,
        "kind", o->kind, "resource", "group", GROUP, "version", version,
        "resource", resource, "name", o->name, "namespace",
        ns && *ns ? ns : "default", "operation", "CREATE", "userInfo",
        "username", user ? user : "", "object", (json_t *)obj, "dryRun", 0);
}

/* Runs obj through the admission code and reports its answer. */
static int admit(const struct vobj *o, const json_t *obj, const char *resource)
{
    static const struct wh_route route = {WH_EP_ALL, NULL};
    struct kube_err err = {0, ""};
    struct wh_outcome oc;
    json_t *review = review_new(o, obj, resource), *doc = NULL;
    int rc = review ? wh_review_tree(&doc, &oc, &route, review, o->c->env, &err)
                    : KUBE_ENOMEM;

    if (rc == KUBE_OK) {
        const json_t *r = json_object_get(doc, "response");

        if (!json_is_true(json_object_get(r, "allowed")))
            rc = report_denial(o, json_object_get(r, "status"));
        if (rc == KUBE_OK)
            rc = report_warnings(o, json_object_get(r, "warnings"));
    }
    json_decref(doc);
    json_decref(review);
    return rc;
}

static int check_object(struct cmd_vcheck *c, const struct kube_yaml_doc *doc,
                        const json_t *obj, const char *prefix)
{
    struct vobj o = {c, doc, prefix, kube_json_str0(obj, "kind"),
                     kube_json_str0(obj, "metadata.name")};
    const char *resource = NULL;
    char field[64], why[512];

    enum cmd_vclass cls = cmd_validate_classify(&resource, field, sizeof(field),
                                                why, sizeof(why), obj);

    if (cls == CMD_VOTHER) {
        cmd_validate_report_count(c->rep, 0, 0, 1);
        return KUBE_OK;
    }
    cmd_validate_report_count(c->rep, 0, 1, 0);
    if (cls == CMD_VBAD)
        return report(&o, CMD_VERROR, field, why);
    return admit(&o, obj, resource);
}

static int is_list(const json_t *obj)
{
    const char *kind = kube_json_str0(obj, "kind");
    size_t n = strlen(kind);

    return strcmp(kind, "List") == 0 ||
           (n > 4 && strcmp(kind + n - 4, "List") == 0 &&
            json_object_get(obj, "items"));
}

/* A List (kubectl get -o yaml) or a typed list: each item on its own. */
static int check_list(struct cmd_vcheck *c, const struct kube_yaml_doc *doc,
                      const json_t *list)
{
    const json_t *items = kube_json_path(list, "items"), *it;
    struct vobj o = {c, doc, "", kube_json_str0(list, "kind"), ""};
    char prefix[32];
    size_t i;
    int rc = KUBE_OK;

    if (items && !json_is_array(items))
        return report(&o, CMD_VERROR, "items", "expected an array");
    o.kind = ""; /* an item that is not an object has no kind */
    json_array_foreach(items, i, it)
    {
        snprintf(prefix, sizeof(prefix), "items[%zu]", i);
        o.prefix = prefix;
        rc = json_is_object(it)
                 ? check_object(c, doc, it, prefix)
                 : report(&o, CMD_VERROR, "",
                          "list item is not a Kubernetes object");
        if (rc < 0)
            break;
    }
    return rc;
}

int cmd_validate_doc(const struct kube_yaml_doc *doc, void *ctx)
{
    struct cmd_vcheck *c = ctx;
    struct vobj o = {c, doc, "", "", ""};

    if (json_is_null(doc->root))
        return KUBE_OK; /* an empty document: nothing to say */
    cmd_validate_report_count(c->rep, 1, 0, 0);
    if (!json_is_object(doc->root))
        return report(&o, CMD_VERROR, "",
                      "document is not a Kubernetes object");
    if (is_list(doc->root))
        return check_list(c, doc, doc->root);
    return check_object(c, doc, doc->root, "");
}
