/* tests/reconciler/conditions.c - conditions matched by type; a fresh
 * lastTransitionTime only when status or reason changes. */
#include <criterion/criterion.h>

#include "kube/json.h"
#include "reconciler/conditions.h"

#define T0 1601477187000 /* 2020-09-30T14:46:27Z */
#define T1 1601477250000 /* 2020-09-30T14:47:30Z */

Test(rc_conditions, matched_by_type_and_stamped_on_change)
{
    json_t *st = json_object();
    const json_t *c;

    cr_assert_eq(
        rc_condition_set(st, "Progressing", 1, "Creating new PVCs", T0), 1);
    cr_assert_eq(rc_condition_set(st, "Ready", 0, "Waiting for new PVCs", T0),
                 1);
    /* same status and reason: untouched, old time kept */
    cr_expect_eq(
        rc_condition_set(st, "Progressing", 1, "Creating new PVCs", T1), 0);
    c = rc_condition_get(st, "Progressing");
    cr_expect_str_eq(kube_json_str0(c, "lastTransitionTime"),
                     "2020-09-30T14:46:27Z");
    cr_expect(json_is_null(json_object_get(c, "lastProbeTime")));
    cr_expect_null(json_object_get(c, "message"), "text goes in reason only");
    /* a new reason replaces the entry in place, with the new time */
    cr_expect_eq(
        rc_condition_set(st, "Progressing", 0, "Operation complete", T1), 1);
    c = json_array_get(json_object_get(st, "conditions"), 0);
    cr_expect_str_eq(kube_json_str0(c, "type"), "Progressing");
    cr_expect_str_eq(kube_json_str0(c, "status"), "False");
    cr_expect_str_eq(kube_json_str0(c, "reason"), "Operation complete");
    cr_expect_str_eq(kube_json_str0(c, "lastTransitionTime"),
                     "2020-09-30T14:47:30Z");
    cr_expect_eq(json_array_size(json_object_get(st, "conditions")), 2);
    cr_expect_null(rc_condition_get(st, "Failure"));
    json_decref(st);
}
