/* tests/kube/client_wire.c - what a real kube-apiserver 1.24 sent
 * (tests/data/kube/client/, copied from the shared fixtures): Status
 * answers, list pages, and watch streams whose HTTP chunk framing the test
 * removes as libcurl would. Run from the repository root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/client_wire.h"
#include "kube/json.h"
#include "kube/watch.h"
#include "kube/file.h"

#define DATA "tests/data/kube/client/"

/* One recorded HTTP/1.1 answer. */
struct answer {
    int status;
    int chunked;
    char *body; /* de-chunked, NUL-terminated */
    size_t len;
};

/* Removes chunk framing ("<hex>\r\n<bytes>\r\n" ... "0\r\n\r\n") from
 * in into out (which is at least as large). */
static size_t dechunk(char *out, const char *in, size_t len)
{
    size_t n = 0, i = 0;

    for (;;) {
        unsigned long size = 0;
        int digits = 0;
        while (i < len && strchr("0123456789abcdefABCDEF", in[i]) && in[i]) {
            char c = in[i++];
            size = size * 16 +
                   (unsigned long)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            digits++;
        }
        cr_assert(digits > 0 && i + 1 < len && in[i] == '\r' &&
                      in[i + 1] == '\n',
                  "bad chunk header at %zu", i);
        i += 2;
        if (size == 0)
            return n;
        cr_assert_leq(i + size + 2, len, "chunk runs past the end");
        memcpy(out + n, in + i, size);
        n += size;
        i += size;
        cr_assert(in[i] == '\r' && in[i + 1] == '\n', "chunk not closed");
        i += 2;
    }
}

static void load(struct answer *a, const char *name)
{
    char path[256], *raw = NULL, *hdr_end, *line;
    size_t len = 0, hlen, skip;
    struct kube_err err;

    snprintf(path, sizeof(path), DATA "%s", name);
    cr_assert_eq(kube_file_read(&raw, &len, path, 1 << 20, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(sscanf(raw, "HTTP/1.1 %d", &a->status), 1, "%s", name);
    /* most files use CRLF; a few were saved with bare LF */
    hdr_end = strstr(raw, "\r\n\r\n");
    skip = 4;
    if (!hdr_end) {
        hdr_end = strstr(raw, "\n\n");
        skip = 2;
    }
    cr_assert(hdr_end, "%s: no end of headers", name);
    hlen = (size_t)(hdr_end - raw);
    a->chunked = 0;
    for (line = raw; line && line < hdr_end; line = strchr(line, '\n')) {
        line += *line == '\n';
        if (strncasecmp(line, "Transfer-Encoding: chunked", 26) == 0)
            a->chunked = 1;
    }
    a->body = malloc(len - hlen - skip + 1);
    cr_assert(a->body);
    if (a->chunked) {
        a->len = dechunk(a->body, hdr_end + skip, len - hlen - skip);
    } else {
        a->len = len - hlen - skip;
        memcpy(a->body, hdr_end + skip, a->len);
    }
    a->body[a->len] = '\0';
    free(raw);
}

/* ---- Status ---- */

static const struct {
    const char *file;
    int http;
    const char *reason;
    int code;   /* kube_status_errcode */
    int exists; /* kube_status_already_exists */
    const char *message;
} statuses[] = {
    {"api-get-missing.http", 404, "NotFound", KUBE_ENOTFOUND, 0,
     "virtualmachinesnapshots.snapshot.kubevirt.io \"does-not-exist\" not "
     "found"},
    {"api-get-missing-curl-ua-pretty.http", 404, "NotFound", KUBE_ENOTFOUND, 0,
     "virtualmachinesnapshots.snapshot.kubevirt.io \"does-not-exist\" not "
     "found"},
    {"api-create-existing.http", 409, "AlreadyExists", KUBE_ECONFLICT, 1,
     "virtualmachinerestores.snapshot.kubevirt.io \"my-vmrestore\" already "
     "exists"},
    {"api-update-stale-rv.http", 409, "Conflict", KUBE_ECONFLICT, 0,
     "Operation cannot be fulfilled on "
     "virtualmachinerestores.snapshot.kubevirt.io \"my-vmrestore\": the "
     "object has been modified; please apply your changes to the latest "
     "version and try again"},
    {"api-delete-precondition-rv-mismatch.http", 409, "Conflict",
     KUBE_ECONFLICT, 0,
     "Operation cannot be fulfilled on "
     "VirtualMachineSnapshot.snapshot.kubevirt.io \"snap-b\": the "
     "ResourceVersion in the precondition (1) does not match the "
     "ResourceVersion in record (231). The object might have been modified"},
    {"api-list-exact-rv-compacted.http", 410, "Expired", KUBE_EGONE, 0, NULL},
    {"api-list-continue-expired.http", 410, "Expired", KUBE_EGONE, 0, NULL},
    {"api-json-patch-test-fails.http", 422, "Invalid", KUBE_EINVAL, 0,
     "the server rejected our request due to an error in our request"},
    {"api-add-finalizer-while-terminating.http", 422, "Invalid", KUBE_EINVAL, 0,
     NULL},
    {"api-strategic-merge-patch.http", 415, "UnsupportedMediaType", KUBE_EINVAL,
     0, NULL},
    {"api-invalid-bearer-token.http", 401, "Unauthorized", KUBE_ERR, 0,
     "Unauthorized"},
    {"api-anonymous-forbidden.http", 403, "Forbidden", KUBE_ERR, 0, NULL},
    {"api-webhook-bad-uid.http", 500, "InternalError", KUBE_EUNAVAIL, 0, NULL},
    {"api-delete-no-finalizer.http", 200, "", KUBE_OK, 0, ""},
};

Test(kube_client_wire, status_answers)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        struct answer a;
        struct kube_status st;

        load(&a, statuses[i].file);
        cr_expect_eq(a.status, statuses[i].http, "%s", statuses[i].file);
        kube_status_clear(&st);
        kube_status_from_http(&st, a.status, a.body, a.len);
        cr_expect_eq(st.http, statuses[i].http, "%s", statuses[i].file);
        cr_expect_eq(st.code, statuses[i].http, "%s: Status.code",
                     statuses[i].file);
        cr_expect_str_eq(st.reason, statuses[i].reason, "%s", statuses[i].file);
        cr_expect_eq(kube_status_errcode(&st), statuses[i].code, "%s",
                     statuses[i].file);
        cr_expect_eq(kube_status_already_exists(&st), statuses[i].exists, "%s",
                     statuses[i].file);
        if (statuses[i].message)
            cr_expect_str_eq(st.message, statuses[i].message, "%s",
                             statuses[i].file);
        cr_expect_eq(st.retry_after_s, -1, "%s", statuses[i].file);
        free(a.body);
    }
}

Test(kube_client_wire, status_err_message)
{
    struct answer a;
    struct kube_status st;
    struct kube_err err = {0};

    load(&a, "api-create-existing.http");
    kube_status_clear(&st);
    kube_status_from_http(&st, a.status, a.body, a.len);
    cr_expect_eq(kube_status_err(&err, &st, "POST /apis/x/v1/things"),
                 KUBE_ECONFLICT);
    cr_expect_eq(err.code, KUBE_ECONFLICT);
    cr_expect_str_eq(err.msg, "POST /apis/x/v1/things: 409 AlreadyExists: "
                              "virtualmachinerestores.snapshot.kubevirt.io "
                              "\"my-vmrestore\" already exists");
    free(a.body);
}

Test(kube_client_wire, status_not_json_and_retry_after)
{
    static const char html[] = "<html>502 Bad\tGateway</html>\nmore";
    static const char busy[] =
        "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"message\":"
        "\"slow down\",\"details\":{\"retryAfterSeconds\":3},\"code\":429}";
    struct kube_status st;

    kube_status_clear(&st);
    kube_status_from_http(&st, 502, html, strlen(html));
    cr_expect_eq(st.code, 502);
    cr_expect_str_eq(st.reason, "");
    cr_expect_str_eq(st.message, "<html>502 Bad Gateway</html>",
                     "first line, control characters blanked");
    cr_expect_eq(kube_status_errcode(&st), KUBE_EUNAVAIL);

    kube_status_clear(&st);
    kube_status_from_http(&st, 429, busy, strlen(busy));
    cr_expect_eq(st.retry_after_s, 3);
    cr_expect_str_eq(st.reason, "TooManyRequests");
    cr_expect_eq(kube_status_errcode(&st), KUBE_EUNAVAIL);

    kube_status_clear(&st);
    kube_status_from_http(&st, 404, "", 0);
    cr_expect_eq(kube_status_errcode(&st), KUBE_ENOTFOUND);
    cr_expect_str_eq(st.message, "");
    kube_status_clear(&st);
    cr_expect_eq(kube_status_errcode(&st), KUBE_ERR, "no answer at all");
}

/* ---- list pages ---- */

/* The three recorded pages of one paged list (limit=1, then its continue
 * token, then limit=3 on the next token) give one list of four. */
Test(kube_client_wire, list_pages_merge)
{
    static const char *const pages[] = {"api-list-limit1.http",
                                        "api-list-limit1-continue.http",
                                        "api-list-limit3-last-page.http"};
    static const char *const names[] = {"mutated-vmsnapshot", "snap-a",
                                        "snap-b", "snap-c"};
    json_t *acc = NULL;
    const char *cont = NULL;

    for (size_t i = 0; i < 3; i++) {
        struct answer a;
        struct kube_err err = {0};
        json_t *page;

        load(&a, pages[i]);
        page = json_loadb(a.body, a.len, 0, NULL);
        cr_assert(page, "%s", pages[i]);
        cr_assert_eq(kube_list_append(&acc, page, &cont, &err), 0, "%s: %s",
                     pages[i], err.msg);
        if (i < 2)
            cr_expect_str_eq(cont, kube_json_str0(page, "metadata.continue"));
        else
            cr_expect_str_eq(cont, "", "last page: continue is empty");
        cr_expect(i == 2 || cont[0], "%s: has a continue token", pages[i]);
        json_decref(page);
        free(a.body);
    }
    cr_assert_eq(json_array_size(json_object_get(acc, "items")), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(json_object_get(acc, "items"), i);
        cr_expect_str_eq(kube_json_str0(it, "metadata.name"), names[i]);
        cr_expect_str_eq(kube_json_str0(it, "kind"), "VirtualMachineSnapshot");
    }
    cr_expect_str_eq(kube_json_str0(acc, "kind"), "VirtualMachineSnapshotList");
    cr_expect_str_eq(kube_json_str0(acc, "metadata.resourceVersion"), "232");
    cr_expect_null(kube_json_path(acc, "metadata.continue"));
    json_decref(acc);
}

Test(kube_client_wire, list_items_get_kind)
{
    json_t *page = json_loads(
        "{\"kind\":\"LeaseList\",\"apiVersion\":\"coordination.k8s.io/v1\","
        "\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"metadata\":"
        "{\"name\":\"a\"}},{\"kind\":\"Lease\",\"apiVersion\":\"x/v9\","
        "\"metadata\":{\"name\":\"b\"}}]}",
        0, NULL);
    json_t *acc = NULL, *a;
    const char *cont = NULL;

    cr_assert(page);
    cr_assert_eq(kube_list_append(&acc, page, &cont, NULL), 0);
    a = json_array_get(json_object_get(acc, "items"), 0);
    cr_expect_str_eq(kube_json_str0(a, "kind"), "Lease");
    cr_expect_str_eq(kube_json_str0(a, "apiVersion"), "coordination.k8s.io/v1");
    cr_expect_str_eq(
        kube_json_str0(json_array_get(json_object_get(acc, "items"), 1),
                       "apiVersion"),
        "x/v9", "what an item has is kept");
    cr_expect_null(
        json_object_get(json_array_get(json_object_get(page, "items"), 0),
                        "kind"),
        "the page itself is not changed");
    cr_expect_str_eq(cont, "");
    json_decref(acc);
    json_decref(page);
}

Test(kube_client_wire, list_refuses_non_lists)
{
    struct answer a;
    struct kube_err err = {0};
    json_t *acc = NULL, *status;
    const char *cont = NULL;

    load(&a, "api-list-continue-expired.http");
    status = json_loadb(a.body, a.len, 0, NULL);
    cr_assert(status);
    cr_expect_eq(kube_list_append(&acc, status, &cont, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "list page: not a list (kind \"Status\")");
    cr_expect_null(acc);
    json_decref(status);
    free(a.body);
}

/* ---- watch streams ---- */

struct tally {
    int n, added, modified, deleted, bookmarks;
    char last_rv[32];
};

static int count_event(const struct kube_watch_event *ev, void *ctx)
{
    struct tally *t = ctx;

    t->n++;
    t->added += ev->type == KUBE_WATCH_ADDED;
    t->modified += ev->type == KUBE_WATCH_MODIFIED;
    t->deleted += ev->type == KUBE_WATCH_DELETED;
    t->bookmarks += ev->type == KUBE_WATCH_BOOKMARK;
    snprintf(t->last_rv, sizeof(t->last_rv), "%s", ev->resource_version);
    return 0;
}

/* Feeds the body one byte at a time, then ends the stream. */
static int replay(const struct answer *a, struct tally *t,
                  struct kube_watch_decoder *d, struct kube_err *err)
{
    int rc = 0;

    kube_watch_decoder_init(d, 0, count_event, t);
    for (size_t i = 0; i < a->len && rc == 0; i++)
        rc = kube_watch_decoder_feed(d, a->body + i, 1, err);
    if (rc == 0)
        rc = kube_watch_decoder_finish(d, err);
    return rc;
}

Test(kube_client_wire, watch_stream_raw)
{
    struct answer a;
    struct tally t = {0};
    struct kube_watch_decoder d;
    struct kube_err err = {0};
    char *txt = NULL;
    size_t txtlen = 0;

    load(&a, "watch-stream.raw.http");
    cr_expect(a.chunked);
    /* the de-chunked body is the decoded stream kubectl printed */
    cr_assert_eq(
        kube_file_read(&txt, &txtlen, DATA "watch-stream.txt", 1 << 20, &err),
        0);
    cr_expect_eq(a.len, txtlen);
    cr_expect(memcmp(a.body, txt, txtlen) == 0);
    cr_expect_eq(replay(&a, &t, &d, &err), 0, "%s", err.msg);
    cr_expect_eq(t.added, 1);
    cr_expect_eq(t.modified, 2);
    cr_expect_eq(t.deleted, 2);
    cr_expect_eq(t.bookmarks, 2);
    cr_expect_str_eq(t.last_rv, "237");
    kube_watch_decoder_free(&d);
    free(txt);
    free(a.body);
}

/* Replayed history comes in 2048-byte chunks that split events mid-JSON. */
Test(kube_client_wire, watch_replay_chunks_split_events)
{
    struct answer a;
    struct tally t = {0};
    struct kube_watch_decoder d;
    struct kube_err err = {0};

    load(&a, "api-watch-replay-chunking.http");
    cr_expect(a.chunked);
    cr_expect_eq(replay(&a, &t, &d, &err), 0, "%s", err.msg);
    cr_expect_eq(t.n, 5);
    cr_expect_str_eq(t.last_rv, "237");
    kube_watch_decoder_free(&d);
    free(a.body);
}

/* 410 arrives inside a 200 stream as one ERROR event. */
Test(kube_client_wire, watch_too_old)
{
    struct answer a;
    struct tally t = {0};
    struct kube_watch_decoder d;
    struct kube_err err = {0};

    load(&a, "api-watch-too-old.http");
    cr_expect_eq(a.status, 200);
    cr_expect_eq(replay(&a, &t, &d, &err), KUBE_EGONE);
    cr_expect_eq(t.n, 0);
    cr_expect_eq(d.status.code, 410);
    cr_expect_str_eq(d.status.reason, "Expired");
    cr_expect_str_eq(d.status.message, "too old resource version: 100 (214)");
    cr_expect_str_eq(
        err.msg,
        "watch: ERROR event: 410 Expired: too old resource version: 100 (214)");
    kube_watch_decoder_free(&d);
    free(a.body);
}
