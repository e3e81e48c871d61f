/* tests/kube/jsonvals.c - the value count a body's budget is taken from. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/jsonvals.h"

/* The rule, one byte at a time: the reference the scan must equal. */
static size_t values_ref(const char *p, size_t n)
{
    size_t count = 1;
    int in_string = 0;

    for (size_t i = 0; i < n; i++) {
        if (in_string) {
            if (p[i] == '\\')
                i++;
            else if (p[i] == '"')
                in_string = 0;
        } else if (p[i] == '"') {
            in_string = 1;
        } else if (p[i] == ',' || p[i] == '[' || p[i] == '{') {
            count++;
        }
    }
    return count;
}

Test(kube_jsonvals, table)
{
    static const struct {
        const char *s;
        size_t want;
    } rows[] = {
        {"", 1},
        {"{}", 2},
        {"[{},{},{}]", 7},
        {"[0,0,0]", 4},
        {"{\"a,[{\":1}", 2},            /* inside a string: not counted */
        {"{\"a\\\",\":[1,2]}", 4},      /* \" does not close the string */
        {"{\"a\\\\\",\"b\":[1,2]}", 5}, /* \\ then the quote closes it */
        {"[\"\\\\\\\"\",{}]", 4},       /* \\\" : an escaped quote */
        {"[\"open,,,", 2},              /* a string left open to the end */
        {"[\"x\\", 2},                  /* a backslash as the last byte */
        {"x,\0,y", 3},                  /* NUL bytes are bytes */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t n =
            i == sizeof(rows) / sizeof(rows[0]) - 1 ? 5 : strlen(rows[i].s);

        cr_expect_eq(kube_json_values_max(rows[i].s, n), rows[i].want,
                     "row %zu", i);
        cr_expect_eq(values_ref(rows[i].s, n), rows[i].want, "ref row %zu", i);
    }
}

/* Random texts of the bytes that matter: the scan equals the rule. */
Test(kube_jsonvals, random_texts_equal_the_rule)
{
    static const char alphabet[] = "\"\\,[{a ";
    char text[64];

    srand(14);
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)rand() % sizeof(text);

        for (size_t i = 0; i < n; i++)
            text[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        if (kube_json_values_max(text, n) != values_ref(text, n))
            cr_assert_fail("differs on %.*s", (int)n, text);
    }
}

/* The admission bodies in tests/data: the scan equals the rule. */
Test(kube_jsonvals, recorded_bodies)
{
    static const char *const files[] = {
        "tests/data/integration/admissionreview-create-vmsnapshot.json",
        "tests/data/integration/admissionreview-create-vmrestore.json",
        "tests/data/integration/admissionreview-create-vmsnapshotcontent.json",
    };
    static char buf[1 << 16];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        FILE *f = fopen(files[i], "rb");
        size_t n;

        cr_assert_not_null(f, "%s", files[i]);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        cr_expect_gt(values_ref(buf, n), 20, "%s", files[i]);
        cr_expect_eq(kube_json_values_max(buf, n), values_ref(buf, n), "%s",
                     files[i]);
    }
}

/* The loose bound, one byte at a time: every ',' '[' '{', strings or not. */
static size_t bound_ref(const char *p, size_t n)
{
    size_t count = 1;

    for (size_t i = 0; i < n; i++)
        count += p[i] == ',' || p[i] == '[' || p[i] == '{';
    return count;
}

/* Texts of every length around the 16-byte steps and the 255-step lane
 * flush, of all 256 byte values: the bound counts what the rule counts,
 * and is never below the exact count. */
Test(kube_jsonvals, bound_counts_every_start_byte)
{
    static char text[16 * 255 * 2 + 40];

    srand(15);
    for (size_t n = 0; n < sizeof(text); n += n < 80 ? 1 : 61) {
        for (size_t i = 0; i < n; i++)
            text[i] = rand() % 4 ? "\",[{}]a\\"[rand() % 8] : (char)rand();
        cr_assert_eq(kube_json_values_bound(text, n), bound_ref(text, n),
                     "length %zu", n);
        cr_assert_geq(kube_json_values_bound(text, n),
                      kube_json_values_max(text, n), "length %zu", n);
    }
    memset(text, ',', sizeof(text)); /* every lane full: 255 steps */
    cr_expect_eq(kube_json_values_bound(text, sizeof(text)), sizeof(text) + 1);
}
