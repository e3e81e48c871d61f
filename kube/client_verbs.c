/* kube/client_verbs.c - the verbs, as thin wrappers over kube_client_do
 * (kube/client.c). The transport never calls back into this file. */
#include "kube/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/log.h"

static int set(const char *s)
{
    return s && s[0];
}

int kube_client_get(json_t **out, struct kube_client *c,
                    const struct kube_gvr *gvr, const char *ns,
                    const char *name, struct kube_status *st,
                    struct kube_err *err)
{
    struct kube_request r = {
        .method = "GET", .gvr = gvr, .ns = ns, .name = name, .idempotent = 1};

    if (!set(name))
        return kube_err_set(err, KUBE_EINVAL, "get: no name");
    return kube_client_do(out, c, &r, st, err);
}

/* ---- list ---- */

enum { LIST_RESTARTS = 3 }; /* expired continue tokens before giving up */

struct pager {
    const struct kube_list_opts *o;
    const struct kube_gvr *gvr;
    long limit; /* halved while a page is over the client's max_body */
    char limit_s[24];
    char *cont; /* the next page's token, ours; NULL on the first page */
    int restarts;
};

static void list_params(const char **p, struct pager *pg)
{
    int i = 0;

    snprintf(pg->limit_s, sizeof(pg->limit_s), "%ld", pg->limit);
    p[i++] = "limit";
    p[i++] = pg->limit_s;
    p[i++] = "continue";
    p[i++] = pg->cont;
    p[i++] = "labelSelector";
    p[i++] = pg->o->label_selector;
    p[i++] = "fieldSelector";
    p[i++] = pg->o->field_selector;
    /* the server refuses resourceVersion together with continue */
    p[i++] = "resourceVersion";
    p[i++] = pg->cont ? NULL : pg->o->resource_version;
    p[i] = NULL;
}

/* One page into *acc; the next token into pg->cont (NULL at the end). On
 * failure pg->cont is kept, so the same page can be asked again. */
static int list_page(json_t **acc, struct kube_client *c,
                     struct kube_request *r, struct pager *pg,
                     struct kube_status *st, struct kube_err *err)
{
    json_t *page = NULL;
    const char *next = "";
    int rc = kube_client_do(&page, c, r, st, err);

    if (rc == 0)
        rc = kube_list_append(acc, page, &next, err);
    if (rc == 0) {
        free(pg->cont);
        pg->cont = NULL;
        if (next[0] && !(pg->cont = strdup(next)))
            rc = kube_err_set(err, KUBE_ENOMEM, "list: out of memory");
    }
    json_decref(page);
    return rc;
}

/* What to do after a failed page: 1 to ask again (a smaller page, or the
 * list from its start), 0 to give up with rc. */
static int list_recover(json_t **acc, struct pager *pg, int rc)
{
    if (rc == KUBE_ETOOBIG && pg->limit > 1) {
        /* large objects: the same page in smaller pieces */
        pg->limit /= 2;
        kube_log(KUBE_LOG_WARN, "list page over the size limit, halving it",
                 "{s:s, s:I}", "resource", pg->gvr->resource, "limit",
                 (json_int_t)pg->limit);
        return 1;
    }
    if (rc == KUBE_EGONE && pg->cont && pg->restarts < LIST_RESTARTS) {
        /* continue token expired: a consistent list starts over (paged:
           an unpaged list could pass the size limit) */
        kube_log(KUBE_LOG_WARN, "list continue token expired, relisting",
                 "{s:s}", "resource", pg->gvr->resource);
        json_decref(*acc);
        *acc = NULL;
        free(pg->cont);
        pg->cont = NULL;
        pg->restarts++;
        return 1;
    }
    return 0;
}

int kube_client_list(json_t **out, struct kube_client *c,
                     const struct kube_gvr *gvr, const char *ns,
                     const struct kube_list_opts *o, struct kube_status *st,
                     struct kube_err *err)
{
    static const struct kube_list_opts none = {0};
    const char *params[16];
    struct pager pg = {.o = o ? o : &none, .gvr = gvr};
    struct kube_request r = {.method = "GET",
                             .gvr = gvr,
                             .ns = ns,
                             .params = params,
                             .idempotent = 1,
                             .max_retries = pg.o->max_retries,
                             .cancel = pg.o->cancel};
    json_t *acc = NULL;
    int rc;

    pg.limit = pg.o->limit > 0 ? pg.o->limit : 500;
    for (;;) {
        list_params(params, &pg);
        rc = list_page(&acc, c, &r, &pg, st, err);
        if (rc < 0 && list_recover(&acc, &pg, rc))
            continue;
        if (rc < 0 || !pg.cont)
            break;
    }
    free(pg.cont);
    if (rc < 0) {
        json_decref(acc);
        return rc;
    }
    *out = acc;
    return KUBE_OK;
}

/* ---- writes ---- */

static const char *ns_of(const char *ns, const json_t *obj)
{
    return ns ? ns : kube_json_str(obj, "metadata.namespace");
}

int kube_client_create(json_t **out, struct kube_client *c,
                       const struct kube_gvr *gvr, const char *ns,
                       const json_t *obj, struct kube_status *st,
                       struct kube_err *err)
{
    struct kube_request r = {
        .method = "POST", .gvr = gvr, .ns = ns_of(ns, obj), .body = obj};

    return kube_client_do(out, c, &r, st, err);
}

static int put(json_t **out, struct kube_client *c, const struct kube_gvr *gvr,
               const char *ns, const json_t *obj, const char *sub,
               struct kube_status *st, struct kube_err *err)
{
    struct kube_request r = {.method = "PUT",
                             .gvr = gvr,
                             .ns = ns_of(ns, obj),
                             .subresource = sub,
                             .body = obj,
                             .idempotent = 1};

    r.name = kube_json_str(obj, "metadata.name");
    if (!set(r.name))
        return kube_err_set(err, KUBE_EINVAL, "update: object has no name");
    return kube_client_do(out, c, &r, st, err);
}

int kube_client_update(json_t **out, struct kube_client *c,
                       const struct kube_gvr *gvr, const char *ns,
                       const json_t *obj, struct kube_status *st,
                       struct kube_err *err)
{
    return put(out, c, gvr, ns, obj, NULL, st, err);
}

int kube_client_update_status(json_t **out, struct kube_client *c,
                              const struct kube_gvr *gvr, const char *ns,
                              const json_t *obj, struct kube_status *st,
                              struct kube_err *err)
{
    return put(out, c, gvr, ns, obj, "status", st, err);
}

int kube_client_patch(json_t **out, struct kube_client *c,
                      const struct kube_gvr *gvr, const char *ns,
                      const char *name, enum kube_patch_type type,
                      const json_t *patch, const char *subresource,
                      struct kube_status *st, struct kube_err *err)
{
    struct kube_request r = {.method = "PATCH",
                             .gvr = gvr,
                             .ns = ns,
                             .name = name,
                             .subresource = subresource,
                             .body = patch};

    if (!set(name))
        return kube_err_set(err, KUBE_EINVAL, "patch: no name");
    if (type == KUBE_PATCH_MERGE && json_is_object(patch)) {
        r.content_type = "application/merge-patch+json";
        r.idempotent = 1; /* the same merge twice gives the same object */
    } else if (type == KUBE_PATCH_JSON && json_is_array(patch)) {
        r.content_type = "application/json-patch+json";
    } else {
        return kube_err_set(err, KUBE_EINVAL,
                            "patch: want an object for a merge patch, an "
                            "array for a JSON patch");
    }
    return kube_client_do(out, c, &r, st, err);
}

/* DeleteOptions for o, or NULL when nothing is asked (new reference). */
static json_t *delete_body(const struct kube_delete_opts *o, int *nomem)
{
    json_t *b, *pre;

    *nomem = 0;
    if (!o || !(set(o->uid) || set(o->resource_version) ||
                set(o->propagation) || o->grace_set))
        return NULL;
    b = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
    pre = json_object();
    if (!b || !pre)
        goto fail;
    if ((set(o->uid) && json_object_set_new(pre, "uid", json_string(o->uid))) ||
        (set(o->resource_version) &&
         json_object_set_new(pre, "resourceVersion",
                             json_string(o->resource_version))) ||
        (json_object_size(pre) && json_object_set(b, "preconditions", pre)) ||
        (set(o->propagation) &&
         json_object_set_new(b, "propagationPolicy",
                             json_string(o->propagation))) ||
        (o->grace_set && json_object_set_new(b, "gracePeriodSeconds",
                                             json_integer(o->grace_period_s))))
        goto fail;
    json_decref(pre);
    return b;
fail:
    json_decref(pre);
    json_decref(b);
    *nomem = 1;
    return NULL;
}

int kube_client_delete(json_t **out, struct kube_client *c,
                       const struct kube_gvr *gvr, const char *ns,
                       const char *name, const struct kube_delete_opts *o,
                       struct kube_status *st, struct kube_err *err)
{
    struct kube_request r = {.method = "DELETE",
                             .gvr = gvr,
                             .ns = ns,
                             .name = name,
                             .idempotent = 1};
    int nomem, rc;
    json_t *body;

    if (!set(name))
        return kube_err_set(err, KUBE_EINVAL, "delete: no name");
    body = delete_body(o, &nomem);
    if (nomem)
        return kube_err_set(err, KUBE_ENOMEM, "delete: out of memory");
    r.body = body;
    rc = kube_client_do(out, c, &r, st, err);
    json_decref(body);
    return rc;
}
