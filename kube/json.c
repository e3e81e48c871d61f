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

int kube_json_str_in(const json_t *v, const char *const *list)
{
    const char *s = json_string_value(v);

    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int kube_file_read(char **out, size_t *len, const char *path, size_t max,
                   struct kube_err *err)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = KUBE_OK;

    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return kube_err_set(err, KUBE_EINVAL, "%s: %s", path, strerror(errno));
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = kube_err_set(err, KUBE_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            rc = kube_err_set(err, KUBE_ETOOBIG,
                              "%s: larger than the limit of %zu bytes", path,
                              max);
            goto done;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = kube_err_set(err, KUBE_EINVAL, "%s: read error", path);
        goto done;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
done:
    if (f != stdin)
        fclose(f);
    free(buf);
    return rc;
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
