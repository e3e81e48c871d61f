/* kube/json.c - typed lookups and file loading over jansson. */
#include "kube/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

json_t *kube_json_path(const json_t *obj, const char *path)
{
    const char *p = path;
    json_t *cur = (json_t *)obj; /* jansson lookups take non-const */

    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);

        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, n);
        p += n;
        if (*p == '.')
            p++;
    }
    return json_is_null(cur) ? NULL : cur;
}

const char *kube_json_str(const json_t *obj, const char *path)
{
    return json_string_value(kube_json_path(obj, path));
}

const char *kube_json_str0(const json_t *obj, const char *path)
{
    const char *s = kube_json_str(obj, path);

    return s ? s : "";
}

int kube_json_true(const json_t *obj, const char *path)
{
    return json_is_true(kube_json_path(obj, path));
}

json_t *kube_json_find(const json_t *array, const char *key, const char *value)
{
    json_t *v;
    size_t i;

    json_array_foreach(array, i, v)
    {
        const char *s = json_string_value(json_object_get(v, key));

        if (s && strcmp(s, value) == 0)
            return v;
    }
    return NULL;
}

int kube_json_has_str(const json_t *array, const char *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach(array, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

int kube_json_str_in(const json_t *v, const char *const *list)
{
    const char *s = json_string_value(v);

    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* Keeps buf unchanged when the segment does not fit. */
static int path_fit(char *buf, size_t len, size_t cur, int n)
{
    if (n < 0 || (size_t)n >= len - cur) {
        buf[cur] = '\0';
        return KUBE_ETOOBIG;
    }
    return KUBE_OK;
}

int kube_path_join(char *buf, size_t len, const char *key)
{
    size_t cur = strlen(buf);

    return path_fit(buf, len, cur,
                    snprintf(buf + cur, len - cur, cur ? ".%s" : "%s", key));
}

int kube_path_index(char *buf, size_t len, size_t i)
{
    size_t cur = strlen(buf);

    return path_fit(buf, len, cur, snprintf(buf + cur, len - cur, "[%zu]", i));
}

json_t *kube_json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    if (!s)
        return NULL;
    while (*p && *p < 0x80)
        p++;
    if (*p)
        return json_string(s); /* non-ASCII: jansson's check */
    return json_stringn_nocheck(s, (size_t)(p - (const unsigned char *)s));
}

char *kube_json_dump(const json_t *v, size_t flags, size_t *len)
{
    char small[2048], *text;
    size_t n = json_dumpb(v, small, sizeof(small), flags);

    if (n == 0)
        return NULL;
    text = malloc(n + 1);
    if (!text)
        return NULL;
    /* most answers fit the stack buffer; a bigger one is dumped again */
    if (n <= sizeof(small))
        memcpy(text, small, n);
    else if (json_dumpb(v, text, n, flags) != n) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    if (len)
        *len = n;
    return text;
}
