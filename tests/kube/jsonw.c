/* tests/kube/jsonw.c - kube_jsonw against json_dumpb(JSON_COMPACT) on the
 * same values: every escape, non-ASCII, NUL inside strings, numbers,
 * nesting, key order; and bad UTF-8 refused as json_dumpb refuses it. */
#include "kube/jsonw.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

static void same_as_dumpb(const json_t *v)
{
    char *want = json_dumps(v, DUMP_FLAGS);
    struct kube_buf b;

    cr_assert_not_null(want);
    kube_buf_init(&b, 16, 1 << 20);
    cr_assert_eq(kube_jsonw_value(&b, v), 0, "%s", want);
    cr_expect_eq(kube_buf_len(&b), strlen(want));
    cr_expect_str_eq(kube_buf_str(&b), want);
    kube_buf_free(&b, 0);
    free(want);
}

Test(kube_jsonw, every_byte_in_a_string)
{
    char all[128];

    for (int i = 0; i < 128; i++)
        all[i] = (char)i; /* NUL and every control character included */
    json_t *s = json_stringn(all, sizeof(all));
    same_as_dumpb(s);
    json_decref(s);
}

/* Strings are looked at eight bytes a step: each byte that matters (an
 * escape at the edges of jansson's rules, non-ASCII, bad UTF-8) at every
 * place of a word and past the last whole word, in strings of plain
 * bytes around it, as json_dumpb writes (or refuses) them. */
Test(kube_jsonw, each_special_byte_at_each_place)
{
    static const char *const special[] = {
        "\"", "\\", "\n", "\x1f", "\x01", "\x7f", " ", "\xc3\xa9", "\xff",
    };
    char text[40];
    struct kube_buf b;

    for (size_t k = 0; k < sizeof(special) / sizeof(*special); k++) {
        for (size_t len = 1; len <= 24; len++) {
            for (size_t at = 0; at + strlen(special[k]) <= len; at++) {
                memset(text, '~', len); /* 0x7e, beside '\x7f' */
                memcpy(text + at, special[k], strlen(special[k]));
                json_t *v = json_stringn(text, len);
                kube_buf_init(&b, 16, 1 << 20);
                if (v) {
                    same_as_dumpb(v);
                } else { /* bad UTF-8: refused, nothing written */
                    cr_expect_eq(kube_jsonw_str(&b, text, len), KUBE_EINVAL,
                                 "row %zu, length %zu, at %zu", k, len, at);
                    cr_expect_eq(kube_buf_len(&b), 0);
                }
                kube_buf_free(&b, 0);
                json_decref(v);
            }
        }
    }
}

Test(kube_jsonw, values)
{
    static const char *const docs[] = {
        "{}",
        "[]",
        "{\"b\":1,\"a\":[true,false,null,-9223372036854775808],\"c\":{}}",
        "[\"caf\\u00e9 \\u20ac \\ud83d\\ude00\",\"a/b\",\"\\\"q\\\"\"]",
        "{\"k\\u0001ey\\n\":\"v\\t\\r\\b\\f\\u001f\\u007f\"}",
        "[0.5,1e300,-2.5e-10,1.0,123456789.125]",
        "[[[[{\"deep\":[[]]}]]]]",
    };

    for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
        json_t *v = json_loads(docs[i], JSON_ALLOW_NUL, NULL);
        cr_assert_not_null(v, "%s", docs[i]);
        same_as_dumpb(v);
        json_decref(v);
    }
}

Test(kube_jsonw, bad_utf8_is_refused)
{
    static const char *const bad[] = {
        "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82",
    };
    struct kube_buf b;

    kube_buf_init(&b, 16, 1 << 20);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        cr_expect_eq(kube_jsonw_strz(&b, bad[i]), KUBE_EINVAL, "row %zu", i);
    cr_expect_eq(kube_buf_len(&b), 0, "nothing written for bad strings");
    cr_expect_eq(kube_jsonw_strz(&b, "\xe2\x82\xac"), 0); /* the euro sign */
    cr_expect_str_eq(kube_buf_str(&b), "\"\xe2\x82\xac\"");
    kube_buf_free(&b, 0);
}

/* b, which a writer returning rc just filled, holds json_dumpb's text
 * of v; empties b. Steals v. */
static void expect_dump(struct kube_buf *b, int rc, json_t *v)
{
    char *want = json_dumps(v, DUMP_FLAGS);

    cr_assert_not_null(want);
    cr_expect_eq(rc, 0, "%s", want);
    cr_expect_str_eq(kube_buf_str(b), want);
    free(want);
    json_decref(v);
    kube_buf_reset(b);
}

Test(kube_jsonw, int_and_real_writers)
{
    static const json_int_t ints[] = {
        0, 7, -1, 10, 422, -9007199254740993LL, LLONG_MAX, LLONG_MIN,
    };
    static const double reals[] = {
        0.1, 1e300, 3.0, -0.0, 1e22, 1e-7, 5e-324, -2.5, 0.000123456,
    };
    struct kube_buf b;

    kube_buf_init(&b, 16, 1 << 20);
    for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++)
        expect_dump(&b, kube_jsonw_int(&b, ints[i]), json_integer(ints[i]));
    for (size_t i = 0; i < sizeof(reals) / sizeof(*reals); i++)
        expect_dump(&b, kube_jsonw_real(&b, reals[i]), json_real(reals[i]));
    kube_buf_reset(&b);
    cr_expect_eq(kube_jsonw_real(&b, NAN), KUBE_EINVAL);
    cr_expect_eq(kube_jsonw_real(&b, -INFINITY), KUBE_EINVAL);
    cr_expect_eq(kube_buf_len(&b), 0, "nothing written for a non-finite real");
    kube_buf_free(&b, 0);
}
