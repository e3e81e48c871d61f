/* kube/utf8.c - cutting text on a character boundary. */
#include "kube/utf8.h"

#include <string.h>

/* The length of the sequence lead starts, or 1 for ASCII and strays. */
static size_t seq_len(unsigned char lead)
{
    if (lead >= 0xF0)
        return 4;
    if (lead >= 0xE0)
        return 3;
    if (lead >= 0xC0)
        return 2;
    return 1;
}

size_t kube_utf8_prefix(const char *s, size_t n)
{
    size_t k = 0; /* continuation bytes at the end */

    while (k < 3 && k < n && ((unsigned char)s[n - 1 - k] & 0xC0) == 0x80)
        k++;
    if (k == n)
        return n; /* only continuation bytes: not UTF-8 anyway */
    if (seq_len((unsigned char)s[n - 1 - k]) > k + 1)
        return n - 1 - k;
    return n;
}

size_t kube_utf8_cut(char *s, size_t max)
{
    size_t n = strnlen(s, max);

    n = kube_utf8_prefix(s, n);
    s[n] = '\0';
    return n;
}
