/* tests/webhook/mutate.c - the exact JSON Patch of the mutating webhook,
 * and that applying it yields the intended object. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kube/patch.h"
#include "webhook/admission.h"
#include "tests/webhook/harness.h"

#define RES "virtualmachinesnapshots"
#define SNAP(meta, spec)                                                       \
    "{\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{\"name\":\"s1\""      \
    meta "},\"spec\":{\"source\":{\"apiGroup\":\"kubevirt.io\",\"kind\":"    \
    "\"VirtualMachine\",\"name\":\"vm1\"}" spec "}}"
#define LABEL_OP                                                               \
    "{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":"                \
    "{\"snapshot.kubevirt.io/source-vm-name\":\"vm1\"}}"

static const struct {
    const char *name, *object, *policy;
    const char *patch;    /* exact JSON of the patch, or NULL for none */
    const char *deadline; /* spec.failureDeadline after applying */
} rows[] = {
    {"absent deadline defaulted, label added", SNAP("", ""), NULL,
     "[{\"op\":\"add\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"5m0s\"}," LABEL_OP "]",
     "5m0s"},
    {"policy default deadline", SNAP("", ""),
     "snapshot:\n  defaultFailureDeadline: 90m\n",
     "[{\"op\":\"add\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"1h30m0s\"}," LABEL_OP "]",
     "1h30m0s"},
    {"bare seconds string gets a unit", SNAP("", ",\"failureDeadline\":\"300\""),
     NULL,
     "[{\"op\":\"replace\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"300s\"}," LABEL_OP "]",
     "300s"},
    {"JSON number gets a unit", SNAP("", ",\"failureDeadline\":300"), NULL,
     "[{\"op\":\"replace\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"300s\"}," LABEL_OP "]",
     "300s"},
    {"fractional seconds", SNAP("", ",\"failureDeadline\":\"1.5\""), NULL,
     "[{\"op\":\"replace\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"1.5s\"}," LABEL_OP "]",
     "1.5s"},
    {"tiny number in fixed point, as Go parses it",
     SNAP("", ",\"failureDeadline\":0.00001"), NULL,
     "[{\"op\":\"replace\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"0.00001s\"}," LABEL_OP "]",
     "0.00001s"},
    {"whole real number", SNAP("", ",\"failureDeadline\":300.0"), NULL,
     "[{\"op\":\"replace\",\"path\":\"/spec/failureDeadline\",\"value\":"
     "\"300s\"}," LABEL_OP "]",
     "300s"},
    {"a duration is kept as written",
     SNAP("", ",\"failureDeadline\":\"10m\""), NULL, "[" LABEL_OP "]", "10m"},
    {"an invalid deadline is left for validation",
     SNAP("", ",\"failureDeadline\":\"1d\""), NULL, "[" LABEL_OP "]", "1d"},
    {"existing labels: one escaped key added",
     SNAP(",\"labels\":{\"team\":\"a\"}", ",\"failureDeadline\":\"10m\""),
     NULL,
     "[{\"op\":\"add\",\"path\":\"/metadata/labels/"
     "snapshot.kubevirt.io~1source-vm-name\",\"value\":\"vm1\"}]",
     "10m"},
    {"nothing to change: no patch",
     SNAP(",\"labels\":{\"snapshot.kubevirt.io/source-vm-name\":\"vm1\"}",
          ",\"failureDeadline\":\"10m\""),
     NULL, NULL, "10m"},
};

Test(webhook_mutate, exact_patches)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct th_case c = {RES, "CREATE", rows[i].object, NULL, NULL, NULL,
                            rows[i].policy, WH_EP_MUTATE};
        struct wh_outcome oc;
        json_t *resp = th_run(&c, &oc), *patch = th_patch(resp);
        json_t *obj = json_loads(rows[i].object, 0, NULL);
        struct kube_err err = {0, ""};

        cr_expect(json_is_true(json_object_get(resp, "allowed")), "%s",
                  rows[i].name);
        if (!rows[i].patch) {
            cr_expect_null(patch, "%s: no patch", rows[i].name);
            cr_expect_null(json_object_get(resp, "patchType"), "%s",
                           rows[i].name);
        } else {
            json_t *want = json_loads(rows[i].patch, 0, NULL);
            cr_assert(want, "%s: bad expected patch", rows[i].name);
            cr_expect(json_equal(patch, want), "%s: patch %s", rows[i].name,
                      json_dumps(patch, JSON_COMPACT));
            cr_expect_str_eq(json_string_value(
                                 json_object_get(resp, "patchType")),
                             "JSONPatch", "%s", rows[i].name);
            cr_assert_eq(kube_patch_apply(&obj, patch, &err), 0, "%s: %s",
                         rows[i].name, err.msg);
            json_decref(want);
        }
        cr_expect_str_eq(json_string_value(json_object_get(
                             json_object_get(obj, "spec"),
                             "failureDeadline")),
                         rows[i].deadline, "%s: deadline", rows[i].name);
        cr_expect_str_eq(
            json_string_value(json_object_get(
                json_object_get(json_object_get(obj, "metadata"), "labels"),
                "snapshot.kubevirt.io/source-vm-name")),
            "vm1", "%s: label", rows[i].name);
        json_decref(obj);
        json_decref(patch);
        json_decref(resp);
    }
}

Test(webhook_mutate, defaulting_warns_as_kubectl_shows)
{
    struct th_case c = {RES, "CREATE", SNAP("", ""), NULL, NULL, NULL, NULL,
                        WH_EP_MUTATE};
    struct wh_outcome oc;
    json_t *resp = th_run(&c, &oc);
    char *w = th_warnings(resp);

    cr_expect_str_eq(w, "defaulted spec.failureDeadline to 5m0s");
    cr_expect_eq(oc.patched, 1);
    free(w);
    json_decref(resp);
}

Test(webhook_mutate, update_is_never_patched)
{
    struct th_case c = {RES, "UPDATE", SNAP("", ""), SNAP("", ""), NULL, NULL,
                        NULL, WH_EP_MUTATE};
    struct wh_outcome oc;
    json_t *resp = th_run(&c, &oc);

    cr_expect_null(json_object_get(resp, "patch"));
    json_decref(resp);
}

Test(webhook_mutate, review_validates_the_mutated_object)
{
    /* bare "300" passes through mutation as "300s"; the whole review is
     * allowed and carries the patch */
    struct th_case c = {RES, "CREATE",
                        SNAP("", ",\"failureDeadline\":\"300\""), NULL, NULL,
                        "[]", NULL, WH_EP_ALL};
    struct wh_outcome oc;
    json_t *resp = th_run(&c, &oc), *patch = th_patch(resp);

    cr_expect(json_is_true(json_object_get(resp, "allowed")));
    cr_expect_eq(json_array_size(patch), 2);
    json_decref(patch);
    json_decref(resp);
}

Test(webhook_mutate, review_denial_carries_no_patch)
{
    struct th_case c = {RES, "CREATE",
                        "{\"metadata\":{\"name\":\"s1\"},\"spec\":{\"source\":"
                        "{\"apiGroup\":\"kubevirt.io\",\"kind\":\"Pod\","
                        "\"name\":\"vm1\"}}}",
                        NULL, NULL, "[]", NULL, WH_EP_ALL};
    struct wh_outcome oc;
    json_t *resp = th_run(&c, &oc);

    cr_expect(json_is_false(json_object_get(resp, "allowed")));
    cr_expect_null(json_object_get(resp, "patch"));
    cr_expect_null(json_object_get(resp, "patchType"));
    json_decref(resp);
}

/* A snapshot without spec or metadata is denied by validation, never a
 * 500 from a patch whose parent does not exist. */
Test(webhook_mutate, no_spec_or_metadata_is_a_denial_not_an_error)
{
    static const char *objects[] = {
        "{\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{\"name\":\"s\"}}",
        "{\"kind\":\"VirtualMachineSnapshot\",\"spec\":{\"source\":{"
        "\"apiGroup\":\"kubevirt.io\",\"kind\":\"VM\",\"name\":\"vm1\"}}}",
    };
    for (size_t i = 0; i < 2; i++) {
        struct th_case c = {RES, "CREATE", objects[i], NULL, NULL, "[]", NULL,
                            WH_EP_ALL};
        struct wh_outcome oc;
        json_t *resp = th_run(&c, &oc);

        cr_expect_eq(oc.code, 422, "object %zu: code %d: %s", i, oc.code,
                     oc.message);
        json_decref(resp);
    }
}

/* A label value is at most 63 of [-_.A-Za-z0-9], alphanumeric at both
 * ends (apimachinery's IsValidLabelValue). */
static int valid_label_value(const char *v)
{
    size_t n = strlen(v);

    if (n == 0)
        return 1;
    if (n > 63 || !isalnum((unsigned char)v[0]) ||
        !isalnum((unsigned char)v[n - 1]))
        return 0;
    return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.") == n;
}

#define LONG_VM "my-very-long-virtual-machine-name-for-the-nightly-database-" \
                "backups-01"
#define LONG_VM_LABEL                                                          \
    "my-very-long-virtual-machine-name-for-the-nightly-da-6113b11871"

static const struct {
    const char *name, *in, *want;
} label_rows[] = {
    {"short name kept", "vm1", "vm1"},
    {"63 characters kept",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"64 characters: cut and hashed",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaa-ffe054fe7a"},
    {"long VM name", LONG_VM, LONG_VM_LABEL},
    {"cut at a dash: trimmed to alphanumeric",
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-yyyyyyyyyyyyyyyyyy",
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-56babeee88"},
    {"invalid character", "my vm", "my-871ea6e19b"},
    {"leading dash", "-vm", "vm-5dd8d1eadd"},
};

Test(webhook_mutate, label_values_are_valid_and_deterministic)
{
    for (size_t i = 0; i < sizeof(label_rows) / sizeof(label_rows[0]); i++) {
        char got[WH_LABEL_MAX + 1], again[WH_LABEL_MAX + 1];

        wh_label_value(got, label_rows[i].in);
        wh_label_value(again, label_rows[i].in);
        cr_expect_str_eq(got, label_rows[i].want, "%s", label_rows[i].name);
        cr_expect_str_eq(got, again, "%s: deterministic", label_rows[i].name);
        cr_expect(valid_label_value(got), "%s: %s", label_rows[i].name, got);
    }
}

/* kube-apiserver refuses a label value over 63 characters, so a snapshot
 * of a VM with a long name must get the shortened one. */
Test(webhook_mutate, long_vm_name_gets_a_valid_label)
{
    struct th_case c = {RES,
                        "CREATE",
                        "{\"kind\":\"VirtualMachineSnapshot\",\"metadata\":{"
                        "\"name\":\"s1\",\"labels\":{}},\"spec\":{\"source\":{"
                        "\"apiGroup\":\"kubevirt.io\",\"kind\":"
                        "\"VirtualMachine\",\"name\":\"" LONG_VM "\"},"
                        "\"failureDeadline\":\"10m\"}}",
                        NULL,
                        NULL,
                        NULL,
                        NULL,
                        WH_EP_MUTATE};
    struct wh_outcome oc;
    json_t *resp = th_run(&c, &oc), *patch = th_patch(resp);
    json_t *want = json_pack("[{s:s, s:s, s:s}]", "op", "add", "path",
                             "/metadata/labels/"
                             "snapshot.kubevirt.io~1source-vm-name",
                             "value", LONG_VM_LABEL);

    cr_expect(json_equal(patch, want), "patch %s",
              json_dumps(patch, JSON_COMPACT));
    json_decref(want);
    json_decref(patch);
    json_decref(resp);
}
