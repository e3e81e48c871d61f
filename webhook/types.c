/* webhook/types.c - JSON type checks before the rules read an object, so
 * `spec.source: "vm1"` is a 400 that names the field, not a crash or a
 * silent allow. Paths: "a.b" for a field, "a[]" for each item. */
#include "webhook/admission.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int type_is(const json_t *v, json_type t)
{
    if (t == JSON_TRUE || t == JSON_FALSE)
        return json_is_boolean(v);
    if (t == JSON_REAL)
        return json_is_number(v);
    return json_typeof(v) == t;
}

/* Walks path (from its segment at p) under v; field is the path so far,
 * Kubernetes style, for the message. */
static int check_at(const json_t *v, const char *p,
                    const struct wh_typecheck *tc, char *field, size_t flen,
                    char *msg, size_t len)
{
    size_t fcur = strlen(field);
    int rc = KUBE_OK;

    if (!v || json_is_null(v))
        return KUBE_OK; /* absence is for the rules to judge */
    if (!*p) {
        if (type_is(v, tc->type) ||
            (tc->alt != JSON_NULL && type_is(v, tc->alt)))
            return KUBE_OK;
        snprintf(msg, len, "%s: expected %s%s%s, got %s", field,
                 type_name(tc->type), tc->alt != JSON_NULL ? " or " : "",
                 tc->alt != JSON_NULL ? type_name(tc->alt) : "",
                 type_name(json_typeof(v)));
        return KUBE_EINVAL;
    }
    if (strncmp(p, "[]", 2) == 0) {
        size_t i;
        const json_t *it;
        if (!json_is_array(v))
            goto wrong_container;
        json_array_foreach((json_t *)v, i, it)
        {
            snprintf(field + fcur, flen - fcur, "[%zu]", i);
            rc = check_at(it, p + 2, tc, field, flen, msg, len);
            if (rc < 0)
                break;
        }
    } else {
        const char *seg = *p == '.' ? p + 1 : p;
        size_t n = strcspn(seg, ".[");
        if (!json_is_object(v))
            goto wrong_container;
        snprintf(field + fcur, flen - fcur, "%s%.*s", fcur ? "." : "", (int)n,
                 seg);
        rc = check_at(json_object_getn((json_t *)v, seg, n), seg + n, tc, field,
                      flen, msg, len);
    }
    field[fcur] = '\0';
    return rc;
wrong_container:
    snprintf(msg, len, "%s: expected %s, got %s", fcur ? field : "object",
             *p == '[' ? "an array" : "an object", type_name(json_typeof(v)));
    return KUBE_EINVAL;
}

int wh_types_check(const struct wh_kind *k, const json_t *obj, char *msg,
                   size_t len)
{
    static const struct wh_typecheck meta[] = {
        {"metadata", JSON_OBJECT, JSON_NULL},
        {"metadata.name", JSON_STRING, JSON_NULL},
        {"metadata.namespace", JSON_STRING, JSON_NULL},
        {"metadata.uid", JSON_STRING, JSON_NULL},
        {"metadata.labels", JSON_OBJECT, JSON_NULL},
        {"metadata.deletionTimestamp", JSON_STRING, JSON_NULL},
        {"spec", JSON_OBJECT, JSON_NULL},
        {"status", JSON_OBJECT, JSON_NULL},
        {NULL, JSON_NULL, JSON_NULL},
    };
    const struct wh_typecheck *tables[] = {meta, k->types};
    char field[512];

    if (!json_is_object(obj)) {
        snprintf(msg, len, "the object is %s, not an object",
                 type_name(json_typeof(obj)));
        return KUBE_EINVAL;
    }
    for (size_t t = 0; t < 2; t++) {
        for (const struct wh_typecheck *tc = tables[t]; tc && tc->path; tc++) {
            int rc;
            field[0] = '\0';
            rc = check_at(obj, tc->path, tc, field, sizeof(field), msg, len);
            if (rc < 0)
                return rc;
        }
    }
    return KUBE_OK;
}
