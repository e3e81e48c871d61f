/* kube/client_path.c - a request's path and query, percent-escaped: what
 * the transport (kube/client.c) sends, apart from the verbs that fill the
 * request (kube/client_verbs.c), so neither file needs the other's. */
#include "kube/client.h"

#include <stdlib.h>
#include <string.h>

#include "kube/buf.h"

/* URL paths stay far below this; a longer one is a bug or an attack. */
#define PATH_MAX_BYTES (64 * 1024)

/* RFC 3986 unreserved characters pass; everything else is %XX, so a
 * selector's '=', ',', '!' and a name's ':' survive the trip. */
static void sb_escaped(struct kube_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~') {
            kube_buf_add(b, s, 1);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            kube_buf_add(b, e, 3);
        }
    }
}

static void sb_segment(struct kube_buf *b, const char *seg)
{
    kube_buf_add(b, "/", 1);
    sb_escaped(b, seg);
}

static int set(const char *s)
{
    return s && s[0];
}

/* "." and ".." would walk the URL up a level. */
static int bad_segment(const char *s)
{
    return s && (strcmp(s, ".") == 0 || strcmp(s, "..") == 0);
}

int kube_client_path(char **out, const struct kube_request *r,
                     struct kube_err *err)
{
    const struct kube_gvr *g = r->gvr;
    struct kube_buf b;
    char sep = '?';

    if (!g || !set(g->version) || !set(g->resource) || !set(r->method))
        return kube_err_set(err, KUBE_EINVAL,
                            "request: method, version and resource are "
                            "required");
    if (bad_segment(r->ns) || bad_segment(r->name) ||
        bad_segment(r->subresource))
        return kube_err_set(err, KUBE_EINVAL,
                            "request: \".\" and \"..\" are not names");
    kube_buf_init(&b, 256, PATH_MAX_BYTES);
    if (set(g->group)) {
        sb_segment(&b, "apis");
        sb_segment(&b, g->group);
    } else {
        sb_segment(&b, "api");
    }
    sb_segment(&b, g->version);
    if (set(r->ns)) {
        sb_segment(&b, "namespaces");
        sb_segment(&b, r->ns);
    }
    sb_segment(&b, g->resource);
    if (set(r->name))
        sb_segment(&b, r->name);
    if (set(r->subresource))
        sb_segment(&b, r->subresource);
    for (size_t i = 0; r->params && r->params[i]; i += 2) {
        if (!set(r->params[i + 1]))
            continue;
        kube_buf_add(&b, &sep, 1);
        sb_escaped(&b, r->params[i]);
        kube_buf_add(&b, "=", 1);
        sb_escaped(&b, r->params[i + 1]);
        sep = '&';
    }
    if (kube_buf_error(&b) < 0) {
        int rc = kube_buf_error(&b);

        kube_buf_free(&b, 0);
        return kube_err_set(err, rc, "request: path %s",
                            rc == KUBE_ENOMEM ? "out of memory"
                                              : "over 64 KiB");
    }
    *out = kube_buf_take(&b, NULL);
    return KUBE_OK;
}
