/* kube/patch.c - JSON Patch building, and its base64 for the answer. */
#include "kube/patch.h"

#include <stdlib.h>
#include <string.h>

#include "kube/base64.h"
#include "kube/json.h"
#include "kube/jsonw.h"

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
    json_t *o = json_object(); /* built by hand: json_pack's format
                                  parsing cost more than the op */

    if (!o || json_object_set_new_nocheck(o, "op", kube_json_string(op)) ||
        json_object_set_new_nocheck(o, "path", kube_json_string(path))) {
        json_decref(value); /* stolen, also on failure */
        goto fail;
    }
    if (json_object_set_new_nocheck(o, "value", value)) /* steals value */
        goto fail;
    return json_array_append_new(p->ops, o) ? KUBE_ENOMEM : KUBE_OK;
fail:
    json_decref(o);
    return KUBE_ENOMEM;
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

char *kube_patch_base64(const struct kube_patch *p)
{
    struct kube_buf text;
    char *b64 = NULL;

    /* written, not dumped: json_dumpb's bookkeeping cost more than the
     * patch (kube/jsonw.h); the same bytes */
    kube_buf_init(&text, 512, (size_t)1 << 30);
    if (kube_jsonw_value(&text, p->ops) == KUBE_OK)
        b64 = kube_base64((const unsigned char *)kube_buf_str(&text),
                          kube_buf_len(&text));
    kube_buf_free(&text, 0);
    return b64;
}
