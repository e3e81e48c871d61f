/* webhook/deadline.c - failureDeadline parsing, policy and defaulting. */
#include "webhook/deadline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kube/duration.h"

#define DEADLINE_FIELD "spec.failureDeadline"
#define DEADLINE_PTR "/spec/failureDeadline"
#define DEADLINE_HINT                                                          \
    "use a duration such as \"90s\", \"5m\" or \"1h30m\" (units ns, us, "      \
    "ms, s, m, h) or a number of seconds"

/* A JSON number of seconds as nanoseconds; refuses what int64 can't hold. */
static int number_seconds(int64_t *ns, const json_t *v, char *msg, size_t len)
{
    double s = json_number_value(v);

    if (json_is_integer(v) &&
        json_integer_value(v) <= INT64_MAX / 1000000000LL &&
        json_integer_value(v) >= INT64_MIN / 1000000000LL) {
        *ns = json_integer_value(v) * 1000000000LL;
        return KUBE_OK;
    }
    if (json_is_real(v) && s != 0 && fabs(s) < 1e-9) {
        /* truncated it would read as 0, "no deadline" */
        snprintf(msg, len, "must be 0 or at least 1ns (0.000000001 seconds)");
        return KUBE_EINVAL;
    }
    if (json_is_real(v) && isfinite(s) && fabs(s) < 9.2e9) {
        *ns = (int64_t)(s * 1e9);
        return KUBE_OK;
    }
    snprintf(msg, len, "%s is too large for a duration", "the number");
    return KUBE_EINVAL;
}

int wh_deadline_parse(int64_t *ns, const json_t *v, char *msg, size_t len)
{
    struct kube_err err;
    int rc;

    if (json_is_number(v))
        rc = number_seconds(ns, v, msg, len);
    else if (!json_is_string(v)) {
        snprintf(msg, len, "must be a string or a number");
        return KUBE_EINVAL;
    } else {
        rc = kube_duration_parse(ns, json_string_value(v), 1, &err);
        if (rc < 0)
            snprintf(msg, len, "%s; %s", err.msg, DEADLINE_HINT);
    }
    if (rc == KUBE_OK && *ns < 0) {
        snprintf(msg, len, "must not be negative");
        return KUBE_EINVAL;
    }
    return rc;
}

int wh_deadline_validate(struct wh_answer *a, const json_t *spec,
                         const struct wh_policy *p)
{
    const json_t *v = json_object_get(spec, "failureDeadline");
    char why[512], lim[32];
    int64_t ns;

    if (!v || json_is_null(v))
        return KUBE_OK;
    if (wh_deadline_parse(&ns, v, why, sizeof(why)) < 0)
        return kube_fielderrs_invalid(&a->causes, DEADLINE_FIELD, v, why);
    if (p->max_failure_deadline > 0 && ns > p->max_failure_deadline) {
        kube_duration_format(lim, sizeof(lim), p->max_failure_deadline);
        snprintf(why, sizeof(why),
                 "must be at most %s (policy snapshot.maxFailureDeadline)",
                 lim);
        return kube_fielderrs_invalid(&a->causes, DEADLINE_FIELD, v, why);
    }
    if (ns == 0 && !p->allow_no_deadline)
        return kube_fielderrs_invalid(
            &a->causes, DEADLINE_FIELD, v,
            "0 means no deadline, which policy snapshot.allowNoDeadline "
            "forbids; set a duration such as \"5m\"");
    if (ns == 0)
        return wh_warn(a, "spec.failureDeadline is 0: the snapshot has no "
                          "deadline and may wait forever");
    return KUBE_OK;
}

/* The "Ns" form of a bare number of seconds, or 0 when v is not one. */
static int bare_seconds_text(char *buf, size_t len, const json_t *v)
{
    const char *s = json_string_value(v);

    size_t n;

    if (json_is_integer(v))
        snprintf(buf, len, "%llds", (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        /* fixed point to the nanosecond: Go's ParseDuration has no
         * exponent ("1e-05s"), and the user never wrote one */
        n = (size_t)snprintf(buf, len - 1, "%.9f", json_real_value(v));
        while (n > 1 && buf[n - 1] == '0')
            n--;
        if (buf[n - 1] == '.')
            n--;
        memcpy(buf + n, "s", 2);
    } else if (s && *s && strlen(s) <= 40 &&
               strspn(s, "0123456789.") == strlen(s))
        snprintf(buf, len, "%.40ss", s);
    else
        return 0;
    return 1;
}

int wh_deadline_mutate(struct wh_answer *a, const json_t *spec,
                       const struct wh_policy *p)
{
    const json_t *v = json_object_get(spec, "failureDeadline");
    char buf[48], why[256];
    int64_t ns;
    int rc;

    if (!json_is_object(spec))
        return KUBE_OK; /* no spec to default into: validation denies it */
    if (!v || json_is_null(v)) {
        kube_duration_format(buf, sizeof(buf), p->default_failure_deadline);
        rc = kube_patch_add_new(&a->patch, "add", DEADLINE_PTR,
                                json_string(buf));
        return rc ? rc
                  : wh_warn(a, "defaulted spec.failureDeadline to %s", buf);
    }
    /* only a valid bare number is rewritten; anything else is left for
     * the validating webhook to explain */
    if (wh_deadline_parse(&ns, v, why, sizeof(why)) < 0 ||
        !bare_seconds_text(buf, sizeof(buf), v))
        return KUBE_OK;
    rc = kube_patch_add_new(&a->patch, "replace", DEADLINE_PTR,
                            json_string(buf));
    return rc ? rc
              : wh_warn(a,
                        "spec.failureDeadline without a unit is seconds: "
                        "stored as \"%s\"",
                        buf);
}
