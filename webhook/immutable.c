/* webhook/immutable.c - "spec is immutable after creation", shared by the
 * three kinds. Equality is apimachinery's equality.Semantic as KubeVirt
 * uses it: nil and empty slices and maps are equal, durations compare by
 * value ("5m" == "300s"), and a field going from absent to set is a
 * change. */
#include "webhook/admission.h"

#include <stdint.h>
#include <string.h>

#include "kube/duration.h"

/* Absent, null, [] and {} are all the zero value of a slice or map. */
static int is_empty(const json_t *v)
{
    return !v || json_is_null(v) ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* The duration value of v: a Go duration string or a number of seconds. */
static int duration_of(int64_t *out, const json_t *v)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) > INT64_MAX / 1000000000LL ||
            json_integer_value(v) < INT64_MIN / 1000000000LL)
            return KUBE_EINVAL;
        *out = json_integer_value(v) * 1000000000LL;
        return KUBE_OK;
    }
    if (!json_is_string(v))
        return KUBE_EINVAL;
    return kube_duration_parse(out, json_string_value(v), 1, NULL);
}

static int is_duration_field(const char *key, const char *const *fields)
{
    for (size_t i = 0; fields && fields[i]; i++)
        if (strcmp(fields[i], key) == 0)
            return 1;
    return 0;
}

static int equal(const json_t *a, const json_t *b, const char *const *durs,
                 int top);

static int equal_objects(const json_t *a, const json_t *b,
                         const char *const *durs, int top)
{
    const char *key;
    json_t *v;

    /* every key of a against b, then keys only b has (against absent) */
    json_object_foreach((json_t *)a, key, v)
    {
        json_t *w = json_object_get(b, key);
        if (top && is_duration_field(key, durs) && v && w) {
            int64_t da, db;
            if (duration_of(&da, v) == 0 && duration_of(&db, w) == 0) {
                if (da != db)
                    return 0;
                continue;
            }
        }
        if (!equal(v, w, durs, 0))
            return 0;
    }
    json_object_foreach((json_t *)b, key, v)
    {
        if (!json_object_get(a, key) && !equal(NULL, v, durs, 0))
            return 0;
    }
    return 1;
}

static int equal(const json_t *a, const json_t *b, const char *const *durs,
                 int top)
{
    if (json_is_object(a) && json_is_object(b))
        return equal_objects(a, b, durs, top);
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!equal(json_array_get(a, i), json_array_get(b, i), durs, 0))
                return 0;
        return 1;
    }
    /* an absent field and an empty list or map are the same; an absent
     * field and "" or 0 are not (Go pointers) */
    if (is_empty(a) || is_empty(b))
        return is_empty(a) && is_empty(b);
    return json_equal((json_t *)a, (json_t *)b);
}

int wh_spec_equal(const json_t *a, const json_t *b,
                  const char *const *duration_fields)
{
    return equal(a, b, duration_fields, 1);
}

int wh_check_spec_immutable(struct wh_answer *a, const struct wh_req *r,
                            const struct wh_kind *k)
{
    const json_t *now = json_object_get(r->object, "spec");
    const json_t *was = json_object_get(r->old_object, "spec");

    if (wh_spec_equal(was, now, k->duration_fields))
        return KUBE_OK;
    return kube_fielderrs_add(&a->causes, KUBE_CAUSE_INVALID, "spec",
                              "spec is immutable after creation");
}
