/* tests/kube/utf8.c - a cut never leaves half a character. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kube/utf8.h"

Test(kube_utf8, prefix_table)
{
    static const struct {
        const char *s;
        size_t n, want;
    } rows[] = {
        {"", 0, 0},
        {"abc", 3, 3},
        {"abc", 2, 2},
        {"a\xc3\xa9", 3, 3},         /* é whole */
        {"a\xc3\xa9", 2, 1},         /* é cut after its lead */
        {"\xe2\x82\xac", 2, 0},      /* € cut after two of three */
        {"\xe2\x82\xac", 1, 0},      /* € cut after its lead */
        {"x\xf0\x9f\x98\x80", 4, 1}, /* an emoji cut after three */
        {"x\xf0\x9f\x98\x80", 5, 5}, /* whole */
        {"\x80\x80", 2, 2},          /* strays: not UTF-8, kept */
        {"a\x80", 2, 2},             /* a stray after ASCII */
        {"\xc3\xa9\xc3\xa9", 3, 2},  /* second é cut */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        cr_expect_eq(kube_utf8_prefix(rows[i].s, rows[i].n), rows[i].want,
                     "row %zu", i);
}

Test(kube_utf8, cut_after_snprintf)
{
    char buf[8];
    const char *volatile tail = "\xc3\xa9\xc3\xa9"; /* no compile-time cut */

    /* snprintf keeps 7 bytes: "abcd", é, and the lead of the next é */
    snprintf(buf, sizeof(buf), "abcd%s", tail);
    cr_expect_eq(kube_utf8_cut(buf, sizeof(buf) - 1), 6);
    cr_expect_str_eq(buf, "abcd\xc3\xa9");
    strcpy(buf, "\xc3\xa9\xc3\xa9");
    cr_expect_eq(kube_utf8_cut(buf, 3), 2);
    cr_expect_str_eq(buf, "\xc3\xa9");
}
