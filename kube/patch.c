/* kube/patch.c - JSON Patch building and applying, and base64. */
#include "kube/patch.h"

#include <stdlib.h>
#include <string.h>

#include "kube/json.h"

int kube_patch_init(struct kube_patch *p)
{
    p->ops = json_array();
    return p->ops ? KUBE_OK : KUBE_ENOMEM;
}

void kube_patch_free(struct kube_patch *p)
{
    json_decref(p->ops);
    p->ops = NULL;
}

size_t kube_patch_len(const struct kube_patch *p)
{
    return json_array_size(p->ops);
}

int kube_patch_add_new(struct kube_patch *p, const char *op, const char *path,
                       json_t *value)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "op", op, "path", path, "value",
                          value); /* "o" steals value, also on failure */

    if (!o || json_array_append_new(p->ops, o)) /* steals o */
        return KUBE_ENOMEM;
    return KUBE_OK;
}

int kube_pointer(char *buf, size_t len, const char *const *segments)
{
    size_t n = 0;

    for (size_t i = 0; segments[i]; i++) {
        if (n + 1 >= len)
            return KUBE_ETOOBIG;
        buf[n++] = '/';
        for (const char *c = segments[i]; *c; c++) {
            const char *esc = *c == '~' ? "~0" : *c == '/' ? "~1" : NULL;
            size_t w = esc ? 2 : 1;
            if (n + w >= len)
                return KUBE_ETOOBIG;
            if (esc)
                memcpy(buf + n, esc, 2);
            else
                buf[n] = *c;
            n += w;
        }
    }
    if (n >= len)
        return KUBE_ETOOBIG;
    buf[n] = '\0';
    return KUBE_OK;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *kube_base64(const unsigned char *data, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        *o++ = b64chars[(v >> 18) & 63];
        *o++ = b64chars[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? b64chars[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64chars, c) : NULL;

    return p ? (int)(p - b64chars) : -1;
}

int kube_unbase64(unsigned char **out, size_t *outlen, const char *s)
{
    size_t len = strlen(s), n = 0;
    unsigned char *buf;

    while (len && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return KUBE_EINVAL;
    buf = malloc(len / 4 * 3 + 3);
    if (!buf)
        return KUBE_ENOMEM;
    for (size_t i = 0; i < len; i += 4) {
        int v[4] = {0, 0, 0, 0};
        size_t k;
        for (k = 0; k < 4 && i + k < len; k++) {
            v[k] = b64val(s[i + k]);
            if (v[k] < 0) {
                free(buf);
                return KUBE_EINVAL;
            }
        }
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
                     (unsigned)v[2] << 6 | (unsigned)v[3];
        buf[n++] = (unsigned char)(w >> 16);
        if (k > 2)
            buf[n++] = (unsigned char)(w >> 8);
        if (k > 3)
            buf[n++] = (unsigned char)w;
    }
    *out = buf;
    *outlen = n;
    return KUBE_OK;
}

char *kube_patch_base64(const struct kube_patch *p)
{
    size_t n = 0;
    char *text = kube_json_dump(p->ops, JSON_COMPACT | JSON_PRESERVE_ORDER, &n);
    char *b64;

    if (!text)
        return NULL;
    b64 = kube_base64((const unsigned char *)text, n);
    free(text);
    return b64;
}
