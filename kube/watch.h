/* kube/watch.h - the watch stream decoder: bytes in (already de-chunked,
 * split anywhere, as libcurl hands them over), one event per
 * newline-terminated JSON object out. A pure function over bytes so tests
 * can feed recorded streams one byte at a time.
 *
 * kube-apiserver sends {"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|
 * "ERROR","object":{...}} per line. An expired resourceVersion comes as
 * HTTP 200 plus one ERROR event carrying a Status with code 410; the
 * decoder turns that into KUBE_EGONE. */
#ifndef VMSNAPD_KUBE_WATCH_H
#define VMSNAPD_KUBE_WATCH_H

#include <jansson.h>
#include <stddef.h>

#include "kube/client_wire.h"
#include "kube/buf.h"
#include "kube/errors.h"

/* Lines longer than this are refused unless the caller picks another
 * ceiling. The largest object etcd stores is 1.5 MiB by default; JSON
 * with managedFields stays well under 16 MiB. */
#define KUBE_WATCH_MAX_LINE (16u << 20)

enum kube_watch_type {
    KUBE_WATCH_ADDED = 1,
    KUBE_WATCH_MODIFIED,
    KUBE_WATCH_DELETED,
    KUBE_WATCH_BOOKMARK, /* object carries only metadata.resourceVersion */
};

struct kube_watch_event {
    enum kube_watch_type type;
    json_t *object;               /* borrowed: valid during the callback;
                                     json_incref to keep it */
    const char *resource_version; /* object's metadata.resourceVersion,
                                     borrowed; "" when absent */
};

/* Called once per event, in stream order. A non-zero return stops the
 * decoder, which then returns that value from every later feed. */
typedef int (*kube_watch_fn)(const struct kube_watch_event *ev, void *ctx);

struct kube_watch_decoder {
    struct kube_status status; /* the ERROR event's Status after a feed
                                  failed with it (status.http is 0) */
    /* private */
    kube_watch_fn fn;
    void *ctx;
    struct kube_buf line; /* a line split across feeds; ceiling max_line */
    size_t max_line;
    unsigned long events; /* lines decoded, for messages */
    int failed;           /* first failure, returned again by later feeds */
    char failmsg[KUBE_ERR_MSG];
};

/* Sets d up; max_line 0 means KUBE_WATCH_MAX_LINE. Cannot fail (the line
 * buffer is allocated on first use). */
void kube_watch_decoder_init(struct kube_watch_decoder *d, size_t max_line,
                             kube_watch_fn fn, void *ctx);

/* Takes the next len bytes of the stream and calls fn for every complete
 * line. Returns 0; a non-zero fn result; or a negative code with err set:
 * KUBE_EGONE (ERROR event with code 410; d->status holds it), the Status's
 * mapped code for other ERROR events (kube_status_errcode on its code),
 * KUBE_ETOOBIG (a line over the ceiling), KUBE_EINVAL (a line that is not
 * a JSON object, an unknown type, no object), KUBE_ENOMEM. After a
 * failure every later call returns the same result and ignores data.
 * Blank lines and a '\r' before '\n' are accepted. */
int kube_watch_decoder_feed(struct kube_watch_decoder *d, const void *data,
                            size_t len, struct kube_err *err) KUBE_MUST_CHECK;

/* The stream ended. Returns 0 when it ended between events, KUBE_EINVAL
 * when it stopped inside one (a cut connection), or the earlier failure. */
int kube_watch_decoder_finish(struct kube_watch_decoder *d,
                              struct kube_err *err) KUBE_MUST_CHECK;

/* Frees the line buffer; d may be initialised again. */
void kube_watch_decoder_free(struct kube_watch_decoder *d);

/* "ADDED", "MODIFIED", "DELETED", "BOOKMARK", or "?" */
const char *kube_watch_type_name(enum kube_watch_type t);

#endif
