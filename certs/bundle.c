/* certs/bundle.c - the caBundle: base64 of the CA's PEM, and a line-based
 * rewrite of `caBundle:` values in webhook manifests that leaves every
 * other byte (comments, ordering, quoting, line ends) as it was. */
#include "certs/certs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certs/internal.h"
#include "kube/base64.h"
#include "kube/buf.h"
#include "kube/file.h"

int certs_bundle_b64(char **out, const char *path, struct kube_err *err)
{
    X509 *crt = NULL;
    char *pem = NULL, *b64 = NULL;
    size_t len = 0;
    int rc;

    /* parse first: a caBundle that is not a certificate fails every call
     * the API server makes, long after this command said nothing */
    rc = certs_load_crt(&crt, path, err);
    if (rc == KUBE_OK)
        rc = kube_file_read(&pem, &len, path, CERTS_MAX_FILE, err);
    if (rc < 0)
        goto done;
    b64 = kube_base64((const unsigned char *)pem, len); /* one line */
    if (!b64) {
        rc = kube_err_set(err, KUBE_ENOMEM, "out of memory");
        goto done;
    }
    *out = b64;
    rc = KUBE_OK;
done:
    X509_free(crt);
    free(pem);
    return rc;
}

/* One line: [start, end) without "\r\n" or "\n"; next starts the next. */
struct line {
    size_t start, end, next;
};

static struct line line_at(const char *in, size_t len, size_t pos)
{
    const char *nl = memchr(in + pos, '\n', len - pos);
    struct line l = {pos, nl ? (size_t)(nl - in) : len, 0};

    l.next = nl ? l.end + 1 : len;
    if (l.end > l.start && in[l.end - 1] == '\r')
        l.end--;
    return l;
}

static size_t skip_blank(const char *in, size_t i, size_t end)
{
    while (i < end && (in[i] == ' ' || in[i] == '\t'))
        i++;
    return i;
}

/* For a `caBundle:` key line, returns the offset just past the ':' and
 * sets *indent to the key's column; otherwise returns 0. */
static size_t key_end(const char *in, const struct line *l, size_t *indent)
{
    static const char key[] = "caBundle:";
    const size_t klen = sizeof(key) - 1;
    size_t i = skip_blank(in, l->start, l->end);

    if (i + 1 < l->end && in[i] == '-' &&
        (in[i + 1] == ' ' || in[i + 1] == '\t'))
        i = skip_blank(in, i + 1, l->end); /* a list item: "- caBundle:" */
    if (l->end - i < klen || memcmp(in + i, key, klen) != 0)
        return 0;
    *indent = i - l->start;
    i += klen;
    if (i < l->end && in[i] != ' ' && in[i] != '\t')
        return 0; /* "caBundle:x" is a plain scalar, not a key */
    return i;
}

/* Where the kept tail starts: the blanks before a `#` comment (base64
 * has no '#', so the first one that follows a blank starts it), or end. */
static size_t comment_start(const char *in, size_t from, size_t end)
{
    for (size_t i = from; i < end; i++) {
        if (in[i] == '#' && (in[i - 1] == ' ' || in[i - 1] == '\t')) {
            while (i > from && (in[i - 1] == ' ' || in[i - 1] == '\t'))
                i--;
            return i;
        }
    }
    return end;
}

/* Lines after a key that continue its old value: indented deeper than the
 * key, up to the last such non-blank line (blank lines after it, and
 * comment lines, belong to what follows). Returns where to resume. */
static size_t skip_continuation(const char *in, size_t len, size_t pos,
                                size_t indent)
{
    size_t keep = pos;

    while (pos < len) {
        struct line l = line_at(in, len, pos);
        size_t i = skip_blank(in, l.start, l.end);

        pos = l.next;
        if (i == l.end)
            continue;
        if (i - l.start <= indent || in[i] == '#')
            break;
        keep = pos;
    }
    return keep;
}

int certs_bundle_replace(char **out, size_t *out_len, size_t *replaced,
                         const char *in, size_t len, const char *b64,
                         struct kube_err *err)
{
    struct kube_buf b;
    size_t pos = 0, count = 0;

    kube_buf_init(&b, 4096, (size_t)64 << 20); /* a manifest, not a disk */
    (void)kube_buf_add(&b, "", 0); /* an empty input still yields a string */
    while (pos < len) {
        struct line l = line_at(in, len, pos);
        size_t indent = 0, colon = key_end(in, &l, &indent);
        size_t tail;

        if (!colon) {
            (void)kube_buf_add(&b, in + l.start, l.next - l.start);
            pos = l.next;
            continue;
        }
        count++;
        tail = comment_start(in, colon, l.end);
        (void)kube_buf_add(&b, in + l.start,
                           colon - l.start); /* "    caBundle:" */
        (void)kube_buf_add(&b, " ", 1);
        (void)kube_buf_add(&b, b64, strlen(b64));
        (void)kube_buf_add(&b, in + tail,
                           l.next - tail); /* comment and line end */
        pos = skip_continuation(in, len, l.next, indent);
    }
    if (kube_buf_error(&b) < 0) {
        int rc = kube_buf_error(&b);

        kube_buf_free(&b, 0);
        return kube_err_set(err, rc, "%s",
                            rc == KUBE_ENOMEM ? "out of memory"
                                              : "output over 64 MiB");
    }
    *out = kube_buf_take(&b, out_len);
    *replaced = count;
    return KUBE_OK;
}

int certs_bundle_write_file(size_t *replaced, const char *path, const char *b64,
                            struct kube_err *err)
{
    char *real = NULL, *text = NULL, *next = NULL;
    size_t len = 0, next_len = 0;
    struct stat st;
    int rc;

    *replaced = 0;
    real = realpath(path, NULL); /* rename onto the file, not a symlink */
    if (!real)
        return kube_err_set(err, errno == ENOENT ? KUBE_ENOTFOUND : KUBE_ERR,
                            "cannot open %s: %s", path, strerror(errno));
    rc = kube_file_read(&text, &len, real, CERTS_MAX_FILE, err);
    if (rc == KUBE_OK && stat(real, &st) < 0)
        rc = kube_err_set(err, KUBE_ERR, "cannot stat %s: %s", path,
                          strerror(errno));
    if (rc == KUBE_OK)
        rc = certs_bundle_replace(&next, &next_len, replaced, text, len, b64,
                                  err);
    if (rc < 0)
        goto done;
    if (*replaced == 0) {
        rc = kube_err_set(err, KUBE_EINVAL, "%s has no caBundle: field", path);
        goto done;
    }
    if (next_len != len || memcmp(next, text, len) != 0)
        rc = certs_file_write(real, next, next_len, st.st_mode & 07777,
                              CERTS_WRITE_FORCE, err);
done:
    free(next);
    free(text);
    free(real);
    return rc;
}
