/* kube/watch.c - newline-delimited watch events, decoded incrementally. */
#include "kube/watch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/jsondec.h"

static const char *const type_names[] = {NULL, "ADDED", "MODIFIED", "DELETED",
                                         "BOOKMARK"};

const char *kube_watch_type_name(enum kube_watch_type t)
{
    if (t >= KUBE_WATCH_ADDED && t <= KUBE_WATCH_BOOKMARK)
        return type_names[t];
    return "?";
}

void kube_watch_decoder_init(struct kube_watch_decoder *d, size_t max_line,
                             kube_watch_fn fn, void *ctx)
{
    memset(d, 0, sizeof(*d));
    kube_status_clear(&d->status);
    d->fn = fn;
    d->ctx = ctx;
    d->max_line = max_line ? max_line : KUBE_WATCH_MAX_LINE;
    kube_buf_init(&d->line, 65536, d->max_line);
}

void kube_watch_decoder_free(struct kube_watch_decoder *d)
{
    kube_buf_free(&d->line, 0);
}

/* Records the first failure so later feeds repeat it. */
static int fail(struct kube_watch_decoder *d, struct kube_err *err, int code,
                const char *fmt, ...) KUBE_PRINTF(4, 5);
static int fail(struct kube_watch_decoder *d, struct kube_err *err, int code,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->failmsg, sizeof(d->failmsg), fmt, ap); /* cut is fine */
    va_end(ap);
    d->failed = code;
    return kube_err_set(err, code, "%s", d->failmsg);
}

static int stopped(struct kube_watch_decoder *d, struct kube_err *err)
{
    if (d->failed < 0)
        return kube_err_set(err, d->failed, "%s", d->failmsg);
    return d->failed;
}

static int type_of(const char *s)
{
    for (int t = KUBE_WATCH_ADDED; t <= KUBE_WATCH_BOOKMARK; t++)
        if (strcmp(s, type_names[t]) == 0)
            return t;
    return strcmp(s, "ERROR") == 0 ? 0 : -1;
}

/* An ERROR event ends the watch: its Status says why (410 Expired most
 * often, also 500 for a broken watch cache). */
static int error_event(struct kube_watch_decoder *d, const json_t *obj,
                       struct kube_err *err)
{
    struct kube_status as_http;

    kube_status_clear(&d->status);
    if (kube_status_from_json(&d->status, obj) < 0 || d->status.code == 0)
        return fail(d, err, KUBE_ERR,
                    "watch event %lu: ERROR event without a Status", d->events);
    as_http = d->status;
    as_http.http = d->status.code; /* the code is the would-be HTTP status */
    return fail(d, err, kube_status_errcode(&as_http),
                "watch: ERROR event: %d %s: %s", d->status.code,
                d->status.reason, d->status.message);
}

static int only_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

static int decode_line(struct kube_watch_decoder *d, const char *line, size_t n,
                       struct kube_err *err)
{
    struct kube_watch_event ev;
    json_error_t jerr;
    json_t *root, *obj;
    const char *type;
    int t, rc;

    if (only_space(line, n))
        return 0; /* keep-alive newlines from proxies */
    d->events++;
    root = kube_json_decode(line, n, &jerr);
    if (!root)
        return fail(d, err, KUBE_EINVAL,
                    "watch event %lu: bad JSON at byte %d: %s", d->events,
                    jerr.position, jerr.text);
    type = kube_json_str(root, "type");
    obj = json_object_get(root, "object");
    if (!type || !json_is_object(obj)) {
        rc = fail(d, err, KUBE_EINVAL,
                  "watch event %lu: want {\"type\": string, \"object\": "
                  "object}",
                  d->events);
        goto done;
    }
    t = type_of(type);
    if (t < 0) {
        rc = fail(d, err, KUBE_EINVAL,
                  "watch event %lu: unknown type \"%.64s\"", d->events, type);
        goto done;
    }
    if (t == 0) {
        rc = error_event(d, obj, err);
        goto done;
    }
    ev.type = (enum kube_watch_type)t;
    ev.object = obj;
    ev.resource_version = kube_json_str0(obj, "metadata.resourceVersion");
    rc = d->fn(&ev, d->ctx);
    if (rc != 0)
        d->failed = rc;
    if (rc < 0)
        snprintf(d->failmsg, sizeof(d->failmsg),
                 "watch event %lu: handler failed: %s", d->events,
                 kube_strerror(rc));
done:
    json_decref(root);
    return rc;
}

int kube_watch_decoder_feed(struct kube_watch_decoder *d, const void *data,
                            size_t len, struct kube_err *err)
{
    const char *p = data;
    int rc;

    if (d->failed)
        return stopped(d, err);
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t take = nl ? (size_t)(nl - p) : len;

        if (take > d->max_line - kube_buf_len(&d->line))
            return fail(d, err, KUBE_ETOOBIG,
                        "watch event %lu: longer than %zu bytes", d->events + 1,
                        d->max_line);
        if (nl && kube_buf_len(&d->line) == 0) {
            rc = decode_line(d, p, take, err); /* whole line in data */
        } else {
            if (kube_buf_add(&d->line, p, take) < 0)
                return fail(d, err, KUBE_ENOMEM, "watch: out of memory");
            rc = 0;
            if (nl) {
                rc = decode_line(d, kube_buf_str(&d->line),
                                 kube_buf_len(&d->line), err);
                kube_buf_reset(&d->line);
            }
        }
        if (rc != 0)
            return rc;
        p += take + (nl ? 1 : 0);
        len -= take + (nl ? 1 : 0);
    }
    return 0;
}

int kube_watch_decoder_finish(struct kube_watch_decoder *d,
                              struct kube_err *err)
{
    if (d->failed)
        return stopped(d, err);
    if (kube_buf_len(&d->line) > 0 &&
        !only_space(kube_buf_str(&d->line), kube_buf_len(&d->line)))
        return fail(d, err, KUBE_EINVAL,
                    "watch: stream ended inside event %lu (%zu bytes)",
                    d->events + 1, kube_buf_len(&d->line));
    return 0;
}
