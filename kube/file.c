/* kube/file.c - the bounded file reader, over kube_buf. */
#include "kube/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/buf.h"

/* Reads f into b, whose ceiling is max + 1 so that one byte over shows.
 * Returns 0 at end of file, KUBE_ETOOBIG, KUBE_ENOMEM or KUBE_ERR. */
static int read_all(struct kube_buf *b, FILE *f, size_t max)
{
    for (;;) {
        size_t want = max + 1 - kube_buf_len(b), got;
        char *room;
        int rc;

        if (want == 0)
            return KUBE_ETOOBIG;
        if (want > 65536)
            want = 65536;
        room = kube_buf_room(b, want, &rc);
        if (!room)
            return rc;
        got = fread(room, 1, want, f); /* short only at end or error */
        kube_buf_commit(b, got);
        if (got < want)
            return ferror(f) ? KUBE_ERR : KUBE_OK;
    }
}

int kube_file_read(char **out, size_t *len, const char *path, size_t max,
                   struct kube_err *err)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    struct kube_buf b;
    int rc;

    if (!f)
        return kube_err_set(err, errno == ENOENT ? KUBE_ENOTFOUND : KUBE_ERR,
                            "cannot open %s: %s", path, strerror(errno));
    kube_buf_init(&b, 65536, max + 1);
    rc = read_all(&b, f, max);
    if (rc == KUBE_ERR)
        kube_err_set(err, rc, "cannot read %s: %s", path, strerror(errno));
    else if (rc == KUBE_ETOOBIG)
        kube_err_set(err, rc, "%s is larger than the limit of %zu bytes", path,
                     max);
    else if (rc == KUBE_ENOMEM)
        kube_err_set(err, rc, "out of memory reading %s", path);
    if (!is_stdin)
        fclose(f);
    if (rc < 0) {
        kube_buf_free(&b, 1);
        return rc;
    }
    if (kube_buf_len(&b) == 0 && kube_buf_add(&b, "", 0) < 0) {
        kube_buf_free(&b, 1);
        return kube_err_set(err, KUBE_ENOMEM, "out of memory reading %s", path);
    }
    *out = kube_buf_take(&b, len);
    return KUBE_OK;
}
