/* tests/kube/ascii.c - the eight-byte look the string writers start with. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/ascii.h"

/* The rule a byte at a time: whole words of plain bytes. */
static size_t prefix_ref(const unsigned char *s, size_t n, unsigned char a,
                         unsigned char b)
{
    size_t i = 0;

    for (; n - i >= 8; i += 8)
        for (size_t k = i; k < i + 8; k++)
            if (s[k] < 0x20 || s[k] >= 0x80 || s[k] == a || s[k] == b)
                return i;
    return i;
}

Test(kube_ascii, table)
{
    static const struct {
        const char *s;
        size_t want;
    } rows[] = {
        {"", 0},
        {"abcdefg", 0}, /* no whole word */
        {"abcdefgh", 8},
        {"abcdefghijklmnopq", 16},
        {"abcdefg\"ijklmnop", 0},   /* a quote in the first word */
        {"abcdefghijklmno\\", 8},   /* a backslash in the second */
        {"abcdefgh\x1fjklmnop", 8}, /* a control byte */
        {"abcdefgh\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", 16}, /* DEL is plain */
        {"abcdefgh\xc3\xa9klmnop", 8},                    /* non-ASCII */
        {"        ~~~~~~~~", 16}, /* the edges of printable */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        cr_expect_eq(
            kube_ascii_plain_prefix(rows[i].s, strlen(rows[i].s), '"', '\\'),
            rows[i].want, "row %zu", i);
}

/* Random bytes, each special one at each place: the look equals the rule,
 * for the answer's pair ('"', '\\') and the warnings' (DEL twice). */
Test(kube_ascii, random_texts_equal_the_rule)
{
    static const unsigned char pick[] = {'a',  ' ',  '~',  '"',  '\\', 0x1f,
                                         0x00, 0x7f, 0x80, 0xff, 0x20, 0x5c};
    unsigned char text[40];

    srand(8);
    for (int round = 0; round < 100000; round++) {
        size_t n = (size_t)rand() % sizeof(text);

        for (size_t i = 0; i < n; i++)
            text[i] = rand() % 8 ? 'x' : pick[rand() % (int)sizeof(pick)];
        if (kube_ascii_plain_prefix(text, n, '"', '\\') !=
                prefix_ref(text, n, '"', '\\') ||
            kube_ascii_plain_prefix(text, n, 0x7f, 0x7f) !=
                prefix_ref(text, n, 0x7f, 0x7f))
            cr_assert_fail("differs on round %d (length %zu)", round, n);
    }
}
