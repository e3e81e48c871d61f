/* kube/ascii.c - eight bytes a step. Each test on a word is exact as a
 * yes/no ("some byte is zero" has false positives only above a byte
 * that is zero, so never when none is). */
#include "kube/ascii.h"

#include <stdint.h>
#include <string.h>

#define ONES 0x0101010101010101u
#define HIGH 0x8080808080808080u

/* Whether a byte of w is zero. */
static uint64_t has_zero(uint64_t w)
{
    return (w - ONES) & ~w & HIGH;
}

size_t kube_ascii_plain_prefix(const void *s, size_t n, unsigned char a,
                               unsigned char b)
{
    const unsigned char *u = s;
    size_t i = 0;
    uint64_t w;

    for (; n - i >= 8; i += 8) {
        memcpy(&w, u + i, 8);
        /* high bit: non-ASCII; w - 0x20.. borrows into a byte's high bit
         * only below 0x20 (w's high bits are clear here) */
        if ((w & HIGH) || ((w - ONES * 0x20) & ~w & HIGH) ||
            has_zero(w ^ (ONES * a)) || has_zero(w ^ (ONES * b)))
            break;
    }
    return i;
}
