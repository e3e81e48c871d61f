/* tests/kube/fielderrs.c - cause collection and Kubernetes rendering. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "kube/fielderrs.h"

Test(kube_fielderrs, message_joins_field_and_message)
{
    struct kube_fielderrs fe;
    char *m;

    kube_fielderrs_init(&fe);
    cr_expect_eq(kube_fielderrs_len(&fe), 0);
    kube_fielderrs_add(&fe, KUBE_CAUSE_INVALID, "spec.source.kind",
                       "invalid kind");
    kube_fielderrs_required(&fe, "spec.source.name", NULL);
    m = kube_fielderrs_message(&fe);
    cr_expect_str_eq(m, "spec.source.kind: invalid kind, spec.source.name: "
                        "Required value");
    free(m);
    kube_fielderrs_free(&fe);
}

Test(kube_fielderrs, more_than_ten)
{
    struct kube_fielderrs fe;
    char *m;

    kube_fielderrs_init(&fe);
    for (int i = 0; i < 13; i++)
        kube_fielderrs_add(&fe, KUBE_CAUSE_REQUIRED, "f", "m%d", i);
    m = kube_fielderrs_message(&fe);
    cr_expect(strstr(m, "f: m9, and 3 more validation errors"), "%s", m);
    cr_expect_null(strstr(m, "m10"));
    free(m);
    kube_fielderrs_free(&fe);
}

Test(kube_fielderrs, kubernetes_phrasings)
{
    static const char *const allowed[] = {"Delete", "Retain", NULL};
    struct kube_fielderrs fe;
    json_t *v = json_string("Keep"), *n = json_integer(-1), *causes;

    kube_fielderrs_init(&fe);
    kube_fielderrs_not_supported(&fe, "spec.deletionPolicy", v, allowed);
    kube_fielderrs_invalid(&fe, "spec.x", n, "must not be negative");
    kube_fielderrs_required(&fe, "spec.y", "give one");
    cr_expect_str_eq(kube_fielderrs_at(&fe, 0)->message,
                     "Unsupported value: \"Keep\": supported values: "
                     "\"Delete\", \"Retain\"");
    cr_expect_str_eq(kube_fielderrs_at(&fe, 0)->type,
                     "FieldValueNotSupported");
    cr_expect_str_eq(kube_fielderrs_at(&fe, 1)->message,
                     "Invalid value: -1: must not be negative");
    cr_expect_str_eq(kube_fielderrs_at(&fe, 2)->message,
                     "Required value: give one");
    cr_expect_null(kube_fielderrs_at(&fe, 3));
    causes = kube_fielderrs_causes(&fe);
    cr_expect_eq(json_array_size(causes), 3);
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(causes, 0), "reason")),
                     "FieldValueNotSupported");
    cr_expect_str_eq(json_string_value(json_object_get(
                         json_array_get(causes, 0), "field")),
                     "spec.deletionPolicy");
    json_decref(causes);
    json_decref(v);
    json_decref(n);
    kube_fielderrs_free(&fe);
}

/* A real number is quoted as the user wrote it (Go's %v), not with
 * jansson's 17 digits. */
Test(kube_fielderrs, real_values_quoted_shortest)
{
    static const struct {
        double in;
        const char *want;
    } rows[] = {
        {1e-12, "Invalid value: 1e-12: x"},
        {0.1, "Invalid value: 0.1: x"},
        {1.5, "Invalid value: 1.5: x"},
        {-2.25e10, "Invalid value: -2.25e+10: x"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kube_fielderrs fe;
        json_t *v = json_real(rows[i].in);

        kube_fielderrs_init(&fe);
        kube_fielderrs_invalid(&fe, "spec.x", v, "x");
        cr_expect_str_eq(kube_fielderrs_at(&fe, 0)->message, rows[i].want);
        json_decref(v);
        kube_fielderrs_free(&fe);
    }
}
