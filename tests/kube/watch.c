/* tests/kube/watch.c - the watch stream decoder on its own: events split
 * anywhere, ceilings, garbage, ERROR and BOOKMARK events. Recorded raw
 * streams (with HTTP chunk framing) are replayed in client_wire.c. Run
 * from the repository root. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/watch.h"
#include "kube/file.h"

#define DATA "tests/data/kube/client/"

/* What the callback saw: types and resourceVersions, in order. */
struct seen {
    int n;
    enum kube_watch_type type[32];
    char rv[32][32];
    char name[32][64];
    int stop_at; /* return 1 on this event number (1-based); 0: never */
};

static int record(const struct kube_watch_event *ev, void *ctx)
{
    struct seen *s = ctx;

    cr_assert_lt(s->n, 32);
    s->type[s->n] = ev->type;
    snprintf(s->rv[s->n], sizeof(s->rv[0]), "%s", ev->resource_version);
    snprintf(s->name[s->n], sizeof(s->name[0]), "%s",
             kube_json_str0(ev->object, "metadata.name"));
    s->n++;
    return s->stop_at == s->n ? 1 : 0;
}

/* Feeds buf in pieces of step bytes; returns the first non-zero feed
 * result, else finish's. */
static int feed_all(struct kube_watch_decoder *d, const char *buf, size_t len,
                    size_t step, struct kube_err *err)
{
    int rc;

    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        rc = kube_watch_decoder_feed(d, buf + off, n, err);
        if (rc != 0)
            return rc;
    }
    return kube_watch_decoder_finish(d, err);
}

static char *load(const char *path, size_t *len)
{
    char *buf = NULL;
    struct kube_err err;

    cr_assert_eq(kube_file_read(&buf, len, path, 1 << 20, &err), 0, "%s",
                 err.msg);
    return buf;
}

/* The decoded body of the recorded watch (watch-stream.txt), in pieces of
 * every size from one byte up: the same seven events each time. */
Test(kube_watch, recorded_stream_any_split)
{
    static const size_t steps[] = {1, 2, 3, 7, 64, 2048, 1 << 20};
    static const enum kube_watch_type want[] = {
        KUBE_WATCH_ADDED,   KUBE_WATCH_MODIFIED, KUBE_WATCH_MODIFIED,
        KUBE_WATCH_DELETED, KUBE_WATCH_DELETED,  KUBE_WATCH_BOOKMARK,
        KUBE_WATCH_BOOKMARK};
    static const char *const want_rv[] = {"233", "234", "235", "236",
                                          "237", "237", "237"};
    size_t len;
    char *buf = load(DATA "watch-stream.txt", &len);

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct kube_watch_decoder d;
        struct seen s = {0};
        struct kube_err err = {0};

        kube_watch_decoder_init(&d, 0, record, &s);
        cr_expect_eq(feed_all(&d, buf, len, steps[i], &err), 0, "step %zu: %s",
                     steps[i], err.msg);
        cr_expect_eq(s.n, 7, "step %zu: %d events", steps[i], s.n);
        for (int k = 0; k < s.n && k < 7; k++) {
            cr_expect_eq(s.type[k], want[k], "step %zu event %d", steps[i], k);
            cr_expect_str_eq(s.rv[k], want_rv[k], "step %zu event %d", steps[i],
                             k);
        }
        cr_expect_str_eq(s.name[0], "watch-demo");
        cr_expect_str_eq(s.name[5], "", "a bookmark has no name");
        kube_watch_decoder_free(&d);
    }
    free(buf);
}

/* Lines the decoder must refuse, each with its exact message. */
static const struct {
    const char *name, *in;
    int rc;
    const char *msg;
} bad[] = {
    {"not JSON", "hello\n", KUBE_EINVAL,
     "watch event 1: bad JSON at byte 5: '[' or '{' expected near 'hello'"},
    {"truncated JSON", "{\"type\":\"ADDED\",\"object\":{\n", KUBE_EINVAL,
     "watch event 1: bad JSON at byte 26: string or '}' expected near end of "
     "file"},
    {"an array", "[1,2]\n", KUBE_EINVAL,
     "watch event 1: want {\"type\": string, \"object\": object}"},
    {"no object", "{\"type\":\"ADDED\"}\n", KUBE_EINVAL,
     "watch event 1: want {\"type\": string, \"object\": object}"},
    {"unknown type", "{\"type\":\"SYNC\",\"object\":{}}\n", KUBE_EINVAL,
     "watch event 1: unknown type \"SYNC\""},
    {"second line bad",
     "{\"type\":\"ADDED\",\"object\":{}}\n{\"type\":1,\"object\":{}}\n",
     KUBE_EINVAL, "watch event 2: want {\"type\": string, \"object\": object}"},
    {"expired",
     "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
     "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
     "resource version: 100 (214)\",\"reason\":\"Expired\",\"code\":410}}\n",
     KUBE_EGONE,
     "watch: ERROR event: 410 Expired: too old resource version: 100 (214)"},
    {"internal error",
     "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"message\":"
     "\"etcd down\",\"reason\":\"InternalError\",\"code\":500}}\n",
     KUBE_EUNAVAIL, "watch: ERROR event: 500 InternalError: etcd down"},
    {"ERROR without Status", "{\"type\":\"ERROR\",\"object\":{\"a\":1}}\n",
     KUBE_ERR, "watch event 1: ERROR event without a Status"},
    {"cut inside an event", "{\"type\":\"ADDED\",\"obj", KUBE_EINVAL,
     "watch: stream ended inside event 1 (20 bytes)"},
};

Test(kube_watch, refuses_bad_lines)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (size_t step = 1; step <= 4096; step *= 4096) {
            struct kube_watch_decoder d;
            struct seen s = {0};
            struct kube_err err = {0};
            int rc;

            kube_watch_decoder_init(&d, 0, record, &s);
            rc = feed_all(&d, bad[i].in, strlen(bad[i].in), step, &err);
            cr_expect_eq(rc, bad[i].rc, "%s (step %zu): rc %d", bad[i].name,
                         step, rc);
            cr_expect_str_eq(err.msg, bad[i].msg, "%s (step %zu)", bad[i].name,
                             step);
            /* later feeds repeat the failure and ignore data */
            rc = kube_watch_decoder_feed(&d, "{}\n", 3, &err);
            cr_expect_eq(rc, bad[i].rc, "%s: repeated", bad[i].name);
            kube_watch_decoder_free(&d);
        }
    }
}

Test(kube_watch, error_event_keeps_status)
{
    const char *in = bad[6].in;
    struct kube_watch_decoder d;
    struct seen s = {0};

    kube_watch_decoder_init(&d, 0, record, &s);
    cr_expect_eq(kube_watch_decoder_feed(&d, in, strlen(in), NULL), KUBE_EGONE);
    cr_expect_eq(d.status.code, 410);
    cr_expect_eq(d.status.http, 0, "not an HTTP status");
    cr_expect_str_eq(d.status.reason, "Expired");
    cr_expect_eq(s.n, 0, "ERROR events don't reach the callback");
    kube_watch_decoder_free(&d);
}

Test(kube_watch, line_ceiling)
{
    static const char ok[] = "{\"type\":\"ADDED\",\"object\":{}}\n";
    size_t ceiling = strlen(ok) - 1; /* the line without its newline */
    char big[200];

    for (size_t step = 1; step <= 64; step *= 8) {
        struct kube_watch_decoder d;
        struct seen s = {0};
        struct kube_err err = {0};

        /* exactly at the ceiling: accepted */
        kube_watch_decoder_init(&d, ceiling, record, &s);
        cr_expect_eq(feed_all(&d, ok, strlen(ok), step, &err), 0, "%s",
                     err.msg);
        cr_expect_eq(s.n, 1);
        kube_watch_decoder_free(&d);

        /* one byte over, never terminated: refused before it ends */
        memset(big, ' ', sizeof(big));
        kube_watch_decoder_init(&d, ceiling, record, &s);
        int rc = 0;
        for (size_t off = 0; off < sizeof(big) && rc == 0; off += step)
            rc = kube_watch_decoder_feed(&d, big + off, step, &err);
        cr_expect_eq(rc, KUBE_ETOOBIG, "step %zu", step);
        cr_expect_str_eq(err.msg, "watch event 1: longer than 28 bytes");
        kube_watch_decoder_free(&d);
    }
}

Test(kube_watch, default_ceiling_is_16MiB)
{
    struct kube_watch_decoder d;
    struct seen s = {0};
    size_t n = (16u << 20) + 1;
    char *big = malloc(n);
    struct kube_err err = {0};

    cr_assert(big);
    memset(big, 'x', n);
    kube_watch_decoder_init(&d, 0, record, &s);
    cr_expect_eq(kube_watch_decoder_feed(&d, big, n, &err), KUBE_ETOOBIG);
    cr_expect_str_eq(err.msg, "watch event 1: longer than 16777216 bytes");
    kube_watch_decoder_free(&d);
    free(big);
}

Test(kube_watch, blank_lines_crlf_and_handler_stop)
{
    static const char in[] =
        "\n\r\n{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
        "\"resourceVersion\":\"5\"}}}\r\n"
        "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{"
        "\"resourceVersion\":\"6\"}}}\n"
        "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n";
    struct kube_watch_decoder d;
    struct seen s = {.stop_at = 2};

    kube_watch_decoder_init(&d, 0, record, &s);
    cr_expect_eq(kube_watch_decoder_feed(&d, in, strlen(in), NULL), 1,
                 "the handler's result comes back");
    cr_expect_eq(s.n, 2, "nothing after the handler stopped");
    cr_expect_eq(s.type[1], KUBE_WATCH_BOOKMARK);
    cr_expect_str_eq(s.rv[1], "6");
    cr_expect_eq(kube_watch_decoder_finish(&d, NULL), 1);
    kube_watch_decoder_free(&d);
}

Test(kube_watch, type_names)
{
    cr_expect_str_eq(kube_watch_type_name(KUBE_WATCH_ADDED), "ADDED");
    cr_expect_str_eq(kube_watch_type_name(KUBE_WATCH_BOOKMARK), "BOOKMARK");
    cr_expect_str_eq(kube_watch_type_name((enum kube_watch_type)99), "?");
}
