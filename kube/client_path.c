/* kube/client_path.c - a request's path and query, percent-escaped: what
 * the transport (kube/client.c) sends, apart from the verbs that fill the
 * request (kube/client_verbs.c), so neither file needs the other's. */
#include "kube/client.h"

#include <stdlib.h>
#include <string.h>

/* A growable string for paths; ok drops to 0 on allocation failure. */
struct sbuf {
    char *s;
    size_t len, cap;
    int ok;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (!b->ok)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->s, cap);
        if (!p) {
            b->ok = 0;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* RFC 3986 unreserved characters pass; everything else is %XX, so a
 * selector's '=', ',', '!' and a name's ':' survive the trip. */
static void sb_escaped(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~') {
            sb_add(b, s, 1);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            sb_add(b, e, 3);
        }
    }
}

static void sb_segment(struct sbuf *b, const char *seg)
{
    sb_add(b, "/", 1);
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
    struct sbuf b = {.ok = 1};
    char sep = '?';

    if (!g || !set(g->version) || !set(g->resource) || !set(r->method))
        return kube_err_set(err, KUBE_EINVAL,
                            "request: method, version and resource are "
                            "required");
    if (bad_segment(r->ns) || bad_segment(r->name) ||
        bad_segment(r->subresource))
        return kube_err_set(err, KUBE_EINVAL,
                            "request: \".\" and \"..\" are not names");
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
        sb_add(&b, &sep, 1);
        sb_escaped(&b, r->params[i]);
        sb_add(&b, "=", 1);
        sb_escaped(&b, r->params[i + 1]);
        sep = '&';
    }
    if (!b.ok) {
        free(b.s);
        return kube_err_set(err, KUBE_ENOMEM, "request: out of memory");
    }
    *out = b.s;
    return KUBE_OK;
}
