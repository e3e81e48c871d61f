/* kube/client.h - a Kubernetes API client on libcurl: get, list (all
 * pages), create, update, status update, patch, delete and watch, with
 * timeouts, retries and bearer-token rotation.
 *
 * Connections: the client keeps a small pool of CURL easy handles. A call
 * takes one, uses it on its own thread, resets it and puts it back; each
 * handle keeps its own connection cache, so keep-alive connections (and
 * TLS sessions) are reused by whichever thread runs the next call. A watch
 * holds its handle, hence its connection, for the whole stream. (A CURLSH
 * connection share was not used: it needs lock callbacks around every
 * cache access and buys nothing over the pool for a few threads.)
 *
 * Retries (kube_client_do): 429, 5xx and connection failures are retried
 * with exponential backoff and full jitter, honouring Retry-After (capped
 * by retry_after_max_ms). A request that may already have reached the
 * server (the connection broke after it was sent, a 500/502/504) is
 * re-sent only when it is idempotent: GET, PUT (guarded by its
 * resourceVersion), DELETE and merge PATCH. POST (create) and JSON PATCH
 * are re-sent only when the server said it did not process them: 429, or
 * 503 with Retry-After, or a failure before any byte of the request left
 * (connect, DNS, TLS handshake). A 401 re-reads the token file once and
 * tries again (bound tokens rotate under us).
 *
 * Thread-safe: one client serves every thread. Before any thread starts,
 * main calls curl_global_init(CURL_GLOBAL_DEFAULT). Tokens, keys and
 * Authorization headers are never logged or put into messages. */
#ifndef VMSNAPD_KUBE_CLIENT_H
#define VMSNAPD_KUBE_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "kube/client_wire.h"
#include "kube/errors.h"
#include "kube/kubeconfig.h"
#include "kube/watch.h"

/* A resource: group "" is the core group (/api/v1). */
struct kube_gvr {
    const char *group;    /* "snapshot.kubevirt.io", "" */
    const char *version;  /* "v1beta1" */
    const char *resource; /* plural: "virtualmachinesnapshots" */
};

/* Client settings; kube_client_opts_default fills the defaults shown. */
struct kube_client_opts {
    long connect_timeout_ms;   /* 10000 */
    long request_timeout_ms;   /* 30000: a whole non-watch request */
    long token_reload_ms;      /* 60000: token file re-read period (client-go:
                                  1 min) */
    int max_retries;           /* 5 attempts after the first */
    long backoff_base_ms;      /* 200: first retry waits up to this */
    long backoff_max_ms;       /* 10000 */
    long retry_after_max_ms;   /* 60000: a longer Retry-After is cut */
    long watch_grace_ms;       /* 30000: a watch may last timeoutSeconds plus
                                  this before libcurl drops it */
    size_t max_body;           /* 64 MiB: larger answers fail KUBE_ETOOBIG */
    int max_idle_handles;      /* 8 pooled CURL handles */
    const char *user_agent;    /* "vmsnapd"; copied */
    const char *field_manager; /* "vmsnapd", sent on writes; copied */
};

/* Fills o with the defaults above. Cannot fail. */
void kube_client_opts_default(struct kube_client_opts *o);

struct kube_client;

/* A client for cfg (borrowed: what is needed is copied, so cfg may be
 * freed after). o NULL means the defaults. KUBE_ENOMEM, or KUBE_EINVAL
 * for a config without a server. */
int kube_client_new(struct kube_client **out, const struct kube_config *cfg,
                    const struct kube_client_opts *o,
                    struct kube_err *err) KUBE_MUST_CHECK;

/* Makes every retry wait and every watch in progress end, and every later
 * call fail with KUBE_EUNAVAIL. Release leases before. Thread-safe. */
void kube_client_shutdown(struct kube_client *c);

/* Frees c; no call may be running. */
void kube_client_free(struct kube_client *c);

/* The configuration's namespace ("default" when none). Borrowed. */
const char *kube_client_namespace(const struct kube_client *c);

/* The server URL, for logs. Borrowed. */
const char *kube_client_server(const struct kube_client *c);

/* One request. Unset (zero) fields take the defaults in brackets. */
struct kube_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH",
                           "DELETE" */
    const struct kube_gvr *gvr;
    const char *ns;            /* NULL or "": cluster scope, or all
                                  namespaces for a collection */
    const char *name;          /* NULL: the collection */
    const char *subresource;   /* NULL, "status" */
    const char *const *params; /* NULL-terminated name, value pairs;
                                  escaped by the client; a NULL or ""
                                  value skips the pair */
    const json_t *body;        /* borrowed; NULL: no body */
    const char *content_type;  /* [application/json] */
    int idempotent;            /* safe to re-send after an ambiguous
                                  failure */
    long timeout_ms;           /* [request_timeout_ms] */
    int max_retries;           /* 0: the client's; -1: no retry */
    const atomic_int *cancel;  /* non-zero ends the call (checked at
                                  least once a second); may be NULL */
};

/* The path and query of r ("/apis/g/v/namespaces/ns/res/name/status?a=b")
 * with each segment and value percent-escaped, into *out (caller frees).
 * KUBE_EINVAL when gvr, version or resource is missing; KUBE_ENOMEM. */
int kube_client_path(char **out, const struct kube_request *r,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Sends r, with retries as described at the top. On a 2xx answer returns
 * 0 and, when out is not NULL, *out is the decoded body (new reference;
 * JSON null for an empty body). Otherwise returns the code of
 * kube_status_errcode (KUBE_ENOTFOUND, KUBE_ECONFLICT, KUBE_EGONE,
 * KUBE_EINVAL, KUBE_EUNAVAIL after the last retry, KUBE_ERR), fills st
 * (when not NULL) with the server's Status and err with
 * "METHOD PATH: CODE Reason: message". Connection failures give
 * KUBE_EUNAVAIL with st->http 0. */
int kube_client_do(json_t **out, struct kube_client *c,
                   const struct kube_request *r, struct kube_status *st,
                   struct kube_err *err) KUBE_MUST_CHECK;

/* GET one object; *out a new reference. KUBE_ENOTFOUND when missing. */
int kube_client_get(json_t **out, struct kube_client *c,
                    const struct kube_gvr *gvr, const char *ns,
                    const char *name, struct kube_status *st,
                    struct kube_err *err) KUBE_MUST_CHECK;

struct kube_list_opts {
    const char *label_selector;   /* "app=x,tier!=y" */
    const char *field_selector;   /* "metadata.name=foo" */
    long limit;                   /* page size; 0: 500 (client-go's pager);
                                     halved while a page is too big */
    const char *resource_version; /* NULL: most recent (quorum read); "0":
                                     any, maybe from cache */
    int max_retries;              /* per page, as kube_request */
    const atomic_int *cancel;
};

/* Lists gvr in ns (NULL: all namespaces), following continue tokens until
 * the last page, into one List (*out a new reference) whose
 * metadata.resourceVersion is the list's snapshot (start a watch there)
 * and whose items all carry kind and apiVersion. A page over max_body
 * (large objects) is asked again with half the limit, down to 1. When a
 * continue token expires (410 mid-list) the list starts over from its
 * first page, up to 3 times; a 410 on the first page, or a fourth expiry,
 * returns KUBE_EGONE. o may be NULL. */
int kube_client_list(json_t **out, struct kube_client *c,
                     const struct kube_gvr *gvr, const char *ns,
                     const struct kube_list_opts *o, struct kube_status *st,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* POST obj (borrowed) into ns (NULL: obj's metadata.namespace). *out, when
 * not NULL, is the object as stored. A taken name gives KUBE_ECONFLICT
 * with kube_status_already_exists(st) true. */
int kube_client_create(json_t **out, struct kube_client *c,
                       const struct kube_gvr *gvr, const char *ns,
                       const json_t *obj, struct kube_status *st,
                       struct kube_err *err) KUBE_MUST_CHECK;

/* PUT obj (borrowed) to its name; the server checks its
 * metadata.resourceVersion: a stale one gives KUBE_ECONFLICT (re-read and
 * retry). ns NULL: obj's metadata.namespace. */
int kube_client_update(json_t **out, struct kube_client *c,
                       const struct kube_gvr *gvr, const char *ns,
                       const json_t *obj, struct kube_status *st,
                       struct kube_err *err) KUBE_MUST_CHECK;

/* The same on the status subresource: only .status is stored. */
int kube_client_update_status(json_t **out, struct kube_client *c,
                              const struct kube_gvr *gvr, const char *ns,
                              const json_t *obj, struct kube_status *st,
                              struct kube_err *err) KUBE_MUST_CHECK;

enum kube_patch_type {
    KUBE_PATCH_MERGE = 1, /* application/merge-patch+json (RFC 7386) */
    KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
};

/* PATCH name with patch (borrowed: an object for MERGE, an array of
 * operations for JSON); subresource NULL or "status". A failed JSON patch
 * "test" gives KUBE_EINVAL (the server's 422). */
int kube_client_patch(json_t **out, struct kube_client *c,
                      const struct kube_gvr *gvr, const char *ns,
                      const char *name, enum kube_patch_type type,
                      const json_t *patch, const char *subresource,
                      struct kube_status *st,
                      struct kube_err *err) KUBE_MUST_CHECK;

struct kube_delete_opts {
    const char *uid;              /* preconditions.uid */
    const char *resource_version; /* preconditions.resourceVersion */
    const char *propagation;      /* "Foreground", "Background", "Orphan" */
    long grace_period_s;          /* sent only when grace_set is 1 */
    int grace_set;                /* 0: the server's default grace */
};

/* DELETE name. *out, when not NULL, is what the server answered: a Status
 * (deleted) or the object (it has finalizers: deletionTimestamp set). A
 * failed precondition gives KUBE_ECONFLICT; a missing object
 * KUBE_ENOTFOUND (treat it as done). o may be NULL. */
int kube_client_delete(json_t **out, struct kube_client *c,
                       const struct kube_gvr *gvr, const char *ns,
                       const char *name, const struct kube_delete_opts *o,
                       struct kube_status *st,
                       struct kube_err *err) KUBE_MUST_CHECK;

struct kube_watch_opts {
    const char *resource_version; /* where to start: the list's RV */
    const char *label_selector;
    const char *field_selector;
    long timeout_s;           /* server ends the watch after this;
                                 0: 300 */
    int bookmarks;            /* allowWatchBookmarks=true */
    size_t max_line;          /* 0: KUBE_WATCH_MAX_LINE */
    const atomic_int *cancel; /* non-zero ends the watch within about
                                 a second (returns KUBE_OK) */
};

/* Watches gvr in ns (NULL: all) and calls fn for each event, on this
 * thread, as bytes arrive (o NULL: from now, default timeout). Never retried:
 * the caller decides between rewatching and relisting. Returns 0 when the
 * server ended the stream (timeoutSeconds) or cancel was set; fn's non-zero
 * result; KUBE_EGONE when the resourceVersion is too old (HTTP 410, or 200 with
 * an ERROR event: st then holds the event's Status); KUBE_EUNAVAIL when the
 * connection broke or went silent past timeout_s plus watch_grace_ms;
 * KUBE_EINVAL for a stream cut inside an event or bytes that do not
 * decode; the Status code for any other failure. */
int kube_client_watch(struct kube_client *c, const struct kube_gvr *gvr,
                      const char *ns, const struct kube_watch_opts *o,
                      kube_watch_fn fn, void *ctx, struct kube_status *st,
                      struct kube_err *err) KUBE_MUST_CHECK;

#endif
