/* kube/patch_apply.c - applying an RFC 6902 JSON Patch to a jansson value.
 * Works on a deep copy so a failing patch leaves the document untouched,
 * as kube-apiserver does. Messages follow evanphx/json-patch, which
 * kube-apiserver uses. */
#include "kube/patch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PTR_MAX 4096

/* Unescapes one reference token in place (~1 -> '/', ~0 -> '~'). */
static int unescape(char *tok)
{
    char *w = tok;

    for (char *r = tok; *r; r++) {
        if (*r != '~') {
            *w++ = *r;
            continue;
        }
        if (r[1] != '0' && r[1] != '1')
            return KUBE_EINVAL;
        *w++ = r[1] == '0' ? '~' : '/';
        r++;
    }
    *w = '\0';
    return KUBE_OK;
}

/* Parses an array index token; "-" means the end (returns size). */
static int array_index(size_t *out, const json_t *arr, const char *tok,
                       int allow_end)
{
    char *end;
    unsigned long v;

    if (allow_end && strcmp(tok, "-") == 0) {
        *out = json_array_size(arr);
        return KUBE_OK;
    }
    if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] < '0' || tok[0] > '9')
        return KUBE_EINVAL;
    errno = 0;
    v = strtoul(tok, &end, 10);
    if (errno || *end)
        return KUBE_EINVAL;
    if (v > json_array_size(arr) || (!allow_end && v == json_array_size(arr)))
        return KUBE_EINVAL;
    *out = v;
    return KUBE_OK;
}

/* Splits path into its parent container (borrowed from doc) and last
 * token (in buf). The root itself has no parent: KUBE_EINVAL. */
static int locate(json_t **parent, char *buf, const char **last, json_t *doc,
                  const char *path)
{
    char *tok, *next;
    json_t *cur = doc;
    size_t idx;

    if (path[0] != '/' || strlen(path) >= PTR_MAX)
        return KUBE_EINVAL;
    memcpy(buf, path + 1, strlen(path)); /* includes the NUL */
    tok = buf;
    while ((next = strchr(tok, '/'))) {
        *next = '\0';
        if (unescape(tok))
            return KUBE_EINVAL;
        if (json_is_object(cur))
            cur = json_object_get(cur, tok);
        else if (json_is_array(cur) && !array_index(&idx, cur, tok, 0))
            cur = json_array_get(cur, idx);
        else
            return KUBE_EINVAL;
        if (!cur)
            return KUBE_EINVAL;
        tok = next + 1;
    }
    if (unescape(tok) || !(json_is_object(cur) || json_is_array(cur)))
        return KUBE_EINVAL;
    *parent = cur;
    *last = tok;
    return KUBE_OK;
}

/* Gets the value at path (borrowed), or NULL. */
static json_t *get_at(json_t *doc, const char *path)
{
    char buf[PTR_MAX];
    const char *last;
    json_t *parent;
    size_t idx;

    if (!*path)
        return doc;
    if (locate(&parent, buf, &last, doc, path))
        return NULL;
    if (json_is_object(parent))
        return json_object_get(parent, last);
    return array_index(&idx, parent, last, 0) ? NULL
                                              : json_array_get(parent, idx);
}

/* add / replace / remove on one path. value is stolen. */
static int put_at(json_t *doc, const char *op, const char *path, json_t *value)
{
    char buf[PTR_MAX];
    const char *last;
    json_t *parent;
    size_t idx;
    int is_add = strcmp(op, "add") == 0, is_rm = strcmp(op, "remove") == 0;
    int rc = KUBE_EINVAL;

    if (locate(&parent, buf, &last, doc, path))
        goto done;
    if (json_is_object(parent)) {
        if (!is_add && !json_object_get(parent, last))
            goto done;
        rc = is_rm ? json_object_del(parent, last)
                   : json_object_set_new(parent, last, value);
        value = is_rm ? value : NULL;
    } else if (!array_index(&idx, parent, last, is_add)) {
        if (is_add)
            rc = json_array_insert_new(parent, idx, value);
        else if (is_rm)
            rc = json_array_remove(parent, idx);
        else
            rc = json_array_set_new(parent, idx, value);
        value = is_rm ? value : NULL;
    }
    rc = rc ? KUBE_EINVAL : KUBE_OK;
done:
    json_decref(value);
    return rc;
}

static int apply_one(json_t *doc, const json_t *op, struct kube_err *err)
{
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *from = json_string_value(json_object_get(op, "from"));
    json_t *value = json_object_get(op, "value"), *src;

    if (!name || !path)
        return kube_err_set(err, KUBE_EINVAL,
                            "patch operation needs string op and path");
    if (strcmp(name, "test") == 0) {
        src = get_at(doc, path);
        if (src && value && json_equal(src, value))
            return KUBE_OK;
        return kube_err_set(err, KUBE_EINVAL,
                            "testing value %s failed: test failed", path);
    }
    if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
        src = from ? get_at(doc, from) : NULL;
        if (!src)
            goto missing;
        value = json_deep_copy(src);
        if (strcmp(name, "move") == 0 &&
            put_at(doc, "remove", from, NULL) < 0) {
            json_decref(value);
            goto missing;
        }
        if (put_at(doc, "add", path, value) == 0)
            return KUBE_OK;
        goto missing;
    }
    if (strcmp(name, "add") && strcmp(name, "remove") &&
        strcmp(name, "replace"))
        return kube_err_set(err, KUBE_EINVAL, "Unexpected kind: %s", name);
    if (strcmp(name, "remove") && !value)
        return kube_err_set(err, KUBE_EINVAL, "%s operation is missing a value",
                            name);
    if (put_at(doc, name, path, value ? json_deep_copy(value) : NULL) == 0)
        return KUBE_OK;
missing:
    return kube_err_set(err, KUBE_EINVAL,
                        "%s operation does not apply: doc is missing path: "
                        "\"%s\": missing value",
                        name, path);
}

int kube_patch_apply(json_t **doc, const json_t *ops, struct kube_err *err)
{
    json_t *copy;
    size_t i;
    json_t *op;

    if (!json_is_array(ops))
        return kube_err_set(err, KUBE_EINVAL, "a JSON Patch is an array");
    copy = json_deep_copy(*doc);
    if (!copy)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    json_array_foreach(ops, i, op)
    {
        int rc = apply_one(copy, op, err);
        if (rc < 0) {
            json_decref(copy);
            return rc;
        }
    }
    json_decref(*doc);
    *doc = copy;
    return KUBE_OK;
}
