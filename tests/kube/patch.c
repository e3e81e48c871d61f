/* tests/kube/patch.c - JSON Patch building, applying, pointers, base64. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/base64.h"
#include "kube/patch.h"

static const struct {
    const char *name, *doc, *ops, *want; /* want NULL: must fail */
    const char *err;                     /* substring when failing */
} apply_rows[] = {
    {"add a field", "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\","
                                 "\"value\":2}]",
     "{\"a\":1,\"b\":2}", NULL},
    {"add replaces an existing field", "{\"a\":1}",
     "[{\"op\":\"add\",\"path\":\"/a\",\"value\":3}]", "{\"a\":3}", NULL},
    {"add to a missing parent fails", "{\"spec\":{}}",
     "[{\"op\":\"add\",\"path\":\"/spec/missing/parent\",\"value\":1}]", NULL,
     "add operation does not apply: doc is missing path: "
     "\"/spec/missing/parent\": missing value"},
    {"escaped key", "{\"l\":{}}",
     "[{\"op\":\"add\",\"path\":\"/l/a.b~1c~0d\",\"value\":\"x\"}]",
     "{\"l\":{\"a.b/c~d\":\"x\"}}", NULL},
    {"array append with -", "{\"a\":[1]}",
     "[{\"op\":\"add\",\"path\":\"/a/-\",\"value\":2}]", "{\"a\":[1,2]}", NULL},
    {"array insert", "{\"a\":[1,3]}",
     "[{\"op\":\"add\",\"path\":\"/a/1\",\"value\":2}]", "{\"a\":[1,2,3]}",
     NULL},
    {"array index past the end", "{\"a\":[1]}",
     "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":2}]", NULL, "missing"},
    {"leading zero index", "{\"a\":[1,2]}",
     "[{\"op\":\"replace\",\"path\":\"/a/01\",\"value\":2}]", NULL,
     "missing"},
    {"replace", "{\"a\":{\"b\":1}}",
     "[{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":\"s\"}]",
     "{\"a\":{\"b\":\"s\"}}", NULL},
    {"replace a missing field fails", "{\"a\":{}}",
     "[{\"op\":\"replace\",\"path\":\"/a/b\",\"value\":1}]", NULL,
     "replace operation does not apply"},
    {"remove", "{\"a\":1,\"b\":2}", "[{\"op\":\"remove\",\"path\":\"/a\"}]",
     "{\"b\":2}", NULL},
    {"remove from array", "{\"a\":[1,2,3]}",
     "[{\"op\":\"remove\",\"path\":\"/a/0\"}]", "{\"a\":[2,3]}", NULL},
    {"test passes", "{\"a\":1}",
     "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1},{\"op\":\"remove\","
     "\"path\":\"/a\"}]",
     "{}", NULL},
    {"test fails and nothing changes", "{\"a\":1}",
     "[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"test\",\"path\":\"/a\","
     "\"value\":1}]",
     NULL, "testing value /a failed"},
    {"move", "{\"a\":1}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/b\"}]",
     "{\"b\":1}", NULL},
    {"copy", "{\"a\":[1]}",
     "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"}]",
     "{\"a\":[1],\"b\":[1]}", NULL},
    {"unknown op", "{}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL,
     "Unexpected kind: frob"},
    {"path without slash", "{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
     NULL, "missing"},
    {"bad escape", "{}",
     "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", NULL, "missing"},
    {"add without value", "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL,
     "missing a value"},
    {"ops not an array", "{}", "{}", NULL, "a JSON Patch is an array"},
};

Test(kube_patch, apply_table)
{
    for (size_t i = 0; i < sizeof(apply_rows) / sizeof(apply_rows[0]); i++) {
        json_t *doc = json_loads(apply_rows[i].doc, 0, NULL);
        json_t *ops = json_loads(apply_rows[i].ops, 0, NULL);
        json_t *before = json_deep_copy(doc);
        struct kube_err err = {0, ""};
        int rc = kube_patch_apply(&doc, ops, &err);

        if (apply_rows[i].want) {
            json_t *want = json_loads(apply_rows[i].want, 0, NULL);
            cr_expect_eq(rc, 0, "%s: %s", apply_rows[i].name, err.msg);
            cr_expect(json_equal(doc, want), "%s", apply_rows[i].name);
            json_decref(want);
        } else {
            cr_expect_eq(rc, KUBE_EINVAL, "%s", apply_rows[i].name);
            cr_expect(strstr(err.msg, apply_rows[i].err), "%s: %s",
                      apply_rows[i].name, err.msg);
            cr_expect(json_equal(doc, before), "%s: unchanged",
                      apply_rows[i].name);
        }
        json_decref(doc);
        json_decref(ops);
        json_decref(before);
    }
}

Test(kube_patch, build_and_encode)
{
    struct kube_patch p;
    char *b64;
    unsigned char *raw;
    size_t len;

    cr_assert_eq(kube_patch_init(&p), 0);
    cr_assert_eq(kube_patch_add_new(&p, "add", "/spec/replicas",
                                    json_integer(3)),
                 0);
    cr_expect_eq(kube_patch_len(&p), 1);
    b64 = kube_patch_base64(&p);
    cr_assert_eq(kube_unbase64(&raw, &len, b64), 0);
    cr_expect_eq(len, strlen("[{\"op\":\"add\",\"path\":\"/spec/replicas\","
                             "\"value\":3}]"));
    cr_expect(memcmp(raw, "[{\"op\":\"add\",\"path\":\"/spec/replicas\","
                          "\"value\":3}]",
                     len) == 0);
    free(raw);
    free(b64);
    kube_patch_free(&p);
}

Test(kube_patch, add_new_steals_on_failure)
{
    struct kube_patch p;

    cr_assert_eq(kube_patch_init(&p), 0);
    /* a NULL value, or a path that is not UTF-8 (its value then stolen
       all the same): refused, no leak (LeakSanitizer), nothing added */
    cr_expect_eq(kube_patch_add_new(&p, "add", "/a", NULL), KUBE_ENOMEM);
    cr_expect_eq(kube_patch_add_new(&p, "add", "/\xff", json_string("v")),
                 KUBE_ENOMEM);
    cr_expect_eq(kube_patch_add_new(&p, "\xc0\xaf", "/a", json_object()),
                 KUBE_ENOMEM);
    cr_expect_eq(kube_patch_len(&p), 0);
    /* non-ASCII UTF-8 is kept */
    cr_expect_eq(kube_patch_add_new(&p, "add", "/caf\xc3\xa9", json_null()),
                 KUBE_OK);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_array_get(p.ops, 0), "path")),
        "/caf\xc3\xa9");
    kube_patch_free(&p);
}

Test(kube_patch, pointer_escaping)
{
    const char *segs[] = {"metadata", "labels",
                          "snapshot.kubevirt.io/source-vm-name", "~x", NULL};
    char buf[128], small[8];

    cr_assert_eq(kube_pointer(buf, sizeof(buf), segs), 0);
    cr_expect_str_eq(buf, "/metadata/labels/"
                          "snapshot.kubevirt.io~1source-vm-name/~0x");
    cr_expect_eq(kube_pointer(small, sizeof(small), segs), KUBE_ETOOBIG);
}
