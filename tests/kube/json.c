/* tests/kube/json.c - kube_json_dump: json_dumps's text, in malloc'd
 * memory, for answers that fit its stack buffer and for bigger ones, and
 * inside an arena scope (where json_dumps's own text would be arena
 * memory). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/jsonarena.h"

static void same_as_json_dumps(const json_t *v, size_t flags)
{
    char *want = json_dumps(v, flags), *got;
    size_t len = 0;

    cr_assert_not_null(want);
    kube_json_arena_begin();
    got = kube_json_dump(v, flags, &len);
    kube_json_arena_end();
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want);
    cr_expect_eq(len, strlen(want));
    free(got); /* malloc'd, whatever jansson's allocator */
    free(want);
}

Test(kube_json, dump_small_and_large)
{
    json_t *small = json_pack("{s:s, s:[i, b]}", "a", "\"quoted\"", "b", 1, 1);
    json_t *large = json_array();
    char big[5000];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_array_append_new(large, json_string(big)); /* past the stack buffer */
    json_array_append_new(large, json_string("tail"));
    same_as_json_dumps(small, JSON_COMPACT);
    same_as_json_dumps(small, JSON_INDENT(2));
    same_as_json_dumps(large, JSON_COMPACT);
    json_decref(small);
    json_decref(large);
}

Test(kube_json, dump_of_a_bare_string_needs_encode_any)
{
    json_t *s = json_string("x");

    cr_expect_null(kube_json_dump(s, 0, NULL));
    same_as_json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
}

Test(kube_json, find_and_has_str)
{
    json_t *a = json_loads("[{\"type\":\"Ready\",\"n\":1},{\"type\":7},"
                           "{\"type\":\"Paused\",\"n\":2},\"Paused\"]",
                           0, NULL);

    cr_assert_not_null(a);
    cr_expect_eq(json_integer_value(
                     json_object_get(kube_json_find(a, "type", "Paused"), "n")),
                 2);
    cr_expect_null(kube_json_find(a, "type", "Gone"));
    cr_expect_null(kube_json_find(NULL, "type", "Ready"), "no array");
    cr_expect(kube_json_has_str(a, "Paused"));
    cr_expect(!kube_json_has_str(a, "Ready"), "objects are not strings");
    cr_expect(!kube_json_has_str(json_object_get(a, "x"), "Paused"));
    json_decref(a);
}

/* kube_json_string is json_string: ASCII, UTF-8, bad UTF-8, NULL. */
Test(kube_json, string_as_json_string)
{
    static const char *const rows[] = {
        "",     "plain",    "tab\tand\x7f", "caf\xc3\xa9", "\xe2\x82\xac",
        "\xff", "\xc0\xaf", "\xed\xa0\x80", "ab\xe2\x82",  NULL,
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        json_t *got = kube_json_string(rows[i]), *want = json_string(rows[i]);

        cr_expect_eq(got == NULL, want == NULL, "row %zu", i);
        if (got && want)
            cr_expect(json_equal(got, want), "row %zu", i);
        json_decref(got);
        json_decref(want);
    }
}
