/* kube/base64.c - base64 through OpenSSL, with Go's line-break rule. */
#include "kube/base64.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

char *kube_base64(const unsigned char *data, size_t len)
{
    char *out;

    if (len > (size_t)INT_MAX / 4 * 3)
        return NULL;
    out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    /* EncodeBlock writes no newlines and a terminating NUL */
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* s without its line breaks into buf (strlen(s) + 1 bytes), its length
 * in *n and the number of '=' in *pad. KUBE_EINVAL for a character
 * outside the alphabet, data after padding or a length Go's padded
 * decoder refuses: OpenSSL would skip some of those or stop early. */
static int strip_breaks(char *buf, size_t *n, size_t *pad, const char *s)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789+/";

    *n = *pad = 0;
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n')
            continue;
        if (*s == '=')
            (*pad)++;
        else if (*pad || !strchr(alphabet, *s))
            return KUBE_EINVAL;
        buf[(*n)++] = *s;
    }
    buf[*n] = '\0';
    return *n % 4 || *pad > 2 ? KUBE_EINVAL : KUBE_OK;
}

int kube_unbase64(unsigned char **out, size_t *outlen, const char *s)
{
    size_t len = strlen(s), n, pad;
    char *text = NULL;
    unsigned char *raw = NULL;
    int rc = KUBE_EINVAL, got;

    if (len > (size_t)INT_MAX)
        goto done;
    text = malloc(len + 1);
    raw = malloc(len / 4 * 3 + 1);
    if (!text || !raw) {
        rc = KUBE_ENOMEM;
        goto done;
    }
    if (strip_breaks(text, &n, &pad, s) < 0)
        goto done;
    got = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)n);
    if (got < 0)
        goto done;
    /* DecodeBlock counts the padding as zero bytes */
    *outlen = (size_t)got - pad;
    *out = raw;
    raw = NULL;
    rc = KUBE_OK;
done:
    free(text);
    free(raw);
    return rc;
}
