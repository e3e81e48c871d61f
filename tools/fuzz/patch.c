/* tools/fuzz/patch.c - JSON Patch: applying (a document, a newline, an
 * operations array) and building (each line of the input becomes a
 * pointer segment and an added value, then base64 and back). */
#include "tools/fuzz/fuzz.h"

#include <jansson.h>

#include "kube/base64.h"
#include "kube/patch.h"

static void apply(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    json_t *doc, *ops;

    if (!nl)
        return;
    doc = json_loadb(text, (size_t)(nl - text), JSON_DECODE_ANY, NULL);
    ops = json_loadb(nl + 1, len - (size_t)(nl - text) - 1, 0, NULL);
    if (doc && ops && kube_patch_apply(&doc, ops, NULL) == 0 && !doc)
        abort(); /* success leaves a document */
    json_decref(doc);
    json_decref(ops);
}

static int utf8_ok(const char *s)
{
    json_t *j = json_string(s); /* NULL for bytes that are not UTF-8 */

    json_decref(j);
    return j != NULL;
}

static void build(char *text)
{
    const char *segs[9] = {NULL};
    struct kube_patch p;
    char path[512], *save = NULL, *b64;
    unsigned char *raw = NULL;
    size_t n = 0, rawlen = 0;

    for (char *t = strtok_r(text, "\n", &save); t && n < 8;
         t = strtok_r(NULL, "\n", &save))
        segs[n++] = t;
    if (kube_patch_init(&p) < 0)
        abort();
    /* adding may fail only on bytes that are not UTF-8 (jansson refuses
     * them; object keys from the API always are) */
    if (kube_pointer(path, sizeof(path), segs) == 0 &&
        kube_patch_add_new(&p, "add", path, json_integer((json_int_t)n)) < 0 &&
        utf8_ok(path))
        abort();
    b64 = kube_patch_base64(&p);
    if (!b64 || kube_unbase64(&raw, &rawlen, b64) < 0)
        abort();
    free(raw);
    free(b64);
    kube_patch_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    unsigned char *raw = NULL;
    size_t rawlen;

    apply(s, size);
    if (kube_unbase64(&raw, &rawlen, s) == 0)
        free(raw);
    build(s);
    free(s);
    return 0;
}
