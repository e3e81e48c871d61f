/* kube/client.c - the API client's transport: handle pool, bearer token,
 * libcurl options, retries with backoff, and watch streams. */
#include "kube/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/buf.h"
#include "kube/client_time.h"
#include "kube/json.h"
#include "kube/jsondec.h"
#include "kube/log.h"

enum {
    KEEPALIVE_IDLE_S = 30, /* TCP keep-alive probes find dead peers that a
                              silent watch would otherwise wait out */
    KEEPALIVE_INTVL_S = 10,
    WHAT_LEN = 192, /* "METHOD /path" in messages, cut */
};

struct kube_client {
    struct kube_client_opts o; /* user_agent, field_manager: ours */
    struct kube_config *cfg;   /* our copy; its token is only the first */
    atomic_int closing;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled by kube_client_shutdown */
    /* guarded by lock */
    char *token;
    int64_t token_read_ms; /* re-read when token_reload_ms older */
    CURL **idle;
    int nidle;
};

/* One attempt's answer, filled by libcurl's callbacks. */
struct attempt {
    struct kube_client *c;
    const atomic_int *cancel;
    CURL *h;
    long http;
    struct kube_buf body; /* ceiling: the client's max_body */
    int toobig;
    long retry_after_s;
    struct kube_watch_decoder *dec; /* watches only */
    int dec_rc;
    struct kube_err dec_err;
};

void kube_client_opts_default(struct kube_client_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 10000;
    o->request_timeout_ms = 30000;
    o->token_reload_ms = 60000;
    o->max_retries = 5;
    o->backoff_base_ms = 200;
    o->backoff_max_ms = 10000;
    o->retry_after_max_ms = 60000;
    o->watch_grace_ms = 30000;
    o->max_body = (size_t)64 << 20;
    o->max_idle_handles = 8;
    o->user_agent = "vmsnapd";
    o->field_manager = "vmsnapd";
}

static void wipe_free(char *s)
{
    if (s)
        memset(s, 0, strlen(s));
    free(s);
}

void kube_client_free(struct kube_client *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    free(c->idle);
    free((char *)c->o.user_agent);
    free((char *)c->o.field_manager);
    kube_config_free(c->cfg);
    wipe_free(c->token);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* strdup of an optional string; *ok cleared when a copy fails. */
static char *dup_opt(const char *s, int *ok)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *ok = 0;
    return d;
}

int kube_client_new(struct kube_client **out, const struct kube_config *cfg,
                    const struct kube_client_opts *o, struct kube_err *err)
{
    struct kube_client *c;
    int ok = 1;

    if (!cfg->server || !cfg->server[0])
        return kube_err_set(err, KUBE_EINVAL, "client: no server configured");
    c = calloc(1, sizeof(*c));
    if (!c)
        return kube_err_set(err, KUBE_ENOMEM, "client: out of memory");
    if (o)
        c->o = *o;
    else
        kube_client_opts_default(&c->o);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return kube_err_set(err, KUBE_ERR, "client: mutex init failed");
    }
    if (kube_time_cond_init(&c->wake) < 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return kube_err_set(err, KUBE_ERR, "client: cond init failed");
    }
    c->o.user_agent =
        dup_opt(c->o.user_agent ? c->o.user_agent : "vmsnapd", &ok);
    c->o.field_manager = dup_opt(c->o.field_manager, &ok);
    if (kube_config_copy(&c->cfg, cfg) < 0)
        ok = 0;
    c->token = dup_opt(cfg->token, &ok);
    c->token_read_ms = kube_time_now_ms();
    if (c->o.max_idle_handles < 0)
        c->o.max_idle_handles = 0;
    c->idle = calloc((size_t)c->o.max_idle_handles + 1, sizeof(CURL *));
    if (!ok || !c->idle) {
        kube_client_free(c);
        return kube_err_set(err, KUBE_ENOMEM, "client: out of memory");
    }
    *out = c;
    return KUBE_OK;
}

void kube_client_shutdown(struct kube_client *c)
{
    atomic_store(&c->closing, 1);
    pthread_mutex_lock(&c->lock);
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

const char *kube_client_namespace(const struct kube_client *c)
{
    return c->cfg->ns ? c->cfg->ns : "default";
}

const char *kube_client_server(const struct kube_client *c)
{
    return c->cfg->server;
}

/* ---- handle pool ---- */

static CURL *handle_get(struct kube_client *c)
{
    CURL *h = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    return h ? h : curl_easy_init();
}

/* Back to the pool with its connections; no option may point at the
 * finished request's memory, hence the reset. */
static void handle_put(struct kube_client *c, CURL *h)
{
    if (!h)
        return;
    curl_easy_reset(h);
    pthread_mutex_lock(&c->lock);
    if (c->nidle < c->o.max_idle_handles) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- bearer token ---- */

/* "Authorization: Bearer ..." for this request (caller wipes and frees),
 * or NULL without a token. The token file is re-read when older than
 * token_reload_ms (or when a 401 zeroed token_read_ms). A failed re-read
 * keeps the last good token, as client-go's cached token source does. */
static char *auth_header(struct kube_client *c)
{
    char *fresh = NULL, *hdr = NULL;
    struct kube_err e;
    int64_t now = kube_time_now_ms();
    int stale;
    size_t n;

    pthread_mutex_lock(&c->lock);
    stale =
        c->cfg->token_file && now - c->token_read_ms >= c->o.token_reload_ms;
    pthread_mutex_unlock(&c->lock);
    if (stale && kube_config_read_token(&fresh, c->cfg->token_file, &e) < 0)
        kube_log(KUBE_LOG_WARN, "token file unreadable, keeping last token",
                 "{s:s}", "error", e.msg);
    pthread_mutex_lock(&c->lock);
    if (stale) {
        c->token_read_ms = now;
        if (fresh) {
            wipe_free(c->token);
            c->token = fresh;
        }
    }
    if (c->token) {
        n = strlen(c->token) + sizeof("Authorization: Bearer ");
        hdr = malloc(n);
        if (hdr)
            snprintf(hdr, n, "Authorization: Bearer %s", c->token);
    }
    pthread_mutex_unlock(&c->lock);
    return hdr;
}

/* After a 401: the next request re-reads the token file first. */
static void token_expire(struct kube_client *c)
{
    pthread_mutex_lock(&c->lock);
    c->token_read_ms = kube_time_now_ms() - c->o.token_reload_ms;
    pthread_mutex_unlock(&c->lock);
}

/* ---- libcurl callbacks ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct attempt *a = ud;
    size_t n = size * nmemb;

    if (a->dec) {
        if (a->http == 0)
            curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &a->http);
        if (a->http == 200) {
            a->dec_rc = kube_watch_decoder_feed(a->dec, ptr, n, &a->dec_err);
            return a->dec_rc == 0 ? n : 0;
        }
    }
    switch (kube_buf_add(&a->body, ptr, n)) {
    case KUBE_OK:
        return n;
    case KUBE_ETOOBIG:
        a->toobig = 1;
        return 0;
    default:
        return 0; /* out of memory: libcurl reports a write error */
    }
}

/* Retry-After in seconds (the HTTP-date form is not used by the API
 * server and is ignored). A new status line (after 100 Continue, or a
 * redirect) starts over. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct attempt *a = ud;
    size_t n = size * nmemb, i = 12;
    long v = 0;
    int digits = 0;

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
        a->retry_after_s = -1;
    if (n <= 12 || strncasecmp(ptr, "Retry-After:", 12) != 0)
        return n;
    while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
        i++;
    for (; i < n && ptr[i] >= '0' && ptr[i] <= '9' && digits < 9; i++) {
        v = v * 10 + (ptr[i] - '0');
        digits++;
    }
    if (digits > 0)
        a->retry_after_s = v;
    return n;
}

/* Runs at least once a second, also on an idle stream. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct attempt *a = ud;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (atomic_load(&a->c->closing))
        return 1;
    return a->cancel && atomic_load(a->cancel) ? 1 : 0;
}

/* ---- request setup ---- */

#define SET(h, opt, val)                                                       \
    do {                                                                       \
        if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK)                   \
            return -1;                                                         \
    } while (0)

static int setup_tls(CURL *h, const struct kube_config *c)
{
    struct curl_blob b;

    if (c->insecure) {
        SET(h, CURLOPT_SSL_VERIFYPEER, 0L);
        SET(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (c->ca_pem) {
        /* only the cluster's CA: no system bundle next to it */
        SET(h, CURLOPT_CAPATH, (char *)NULL);
        b = (struct curl_blob){c->ca_pem, c->ca_pem_len, CURL_BLOB_COPY};
        SET(h, CURLOPT_CAINFO_BLOB, &b);
    } else if (c->ca_file) {
        SET(h, CURLOPT_CAPATH, (char *)NULL);
        SET(h, CURLOPT_CAINFO, c->ca_file);
    }
    if (c->cert_pem) {
        b = (struct curl_blob){c->cert_pem, c->cert_pem_len, CURL_BLOB_COPY};
        SET(h, CURLOPT_SSLCERT_BLOB, &b);
        SET(h, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (c->cert_file) {
        SET(h, CURLOPT_SSLCERT, c->cert_file);
    }
    if (c->key_pem) {
        b = (struct curl_blob){c->key_pem, c->key_pem_len, CURL_BLOB_COPY};
        SET(h, CURLOPT_SSLKEY_BLOB, &b);
        SET(h, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (c->key_file) {
        SET(h, CURLOPT_SSLKEY, c->key_file);
    }
    return 0;
}

static int setup_io(CURL *h, struct attempt *a, char *errbuf)
{
    SET(h, CURLOPT_WRITEFUNCTION, on_body);
    SET(h, CURLOPT_WRITEDATA, a);
    SET(h, CURLOPT_HEADERFUNCTION, on_header);
    SET(h, CURLOPT_HEADERDATA, a);
    SET(h, CURLOPT_NOPROGRESS, 0L);
    SET(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(h, CURLOPT_XFERINFODATA, a);
    SET(h, CURLOPT_ERRORBUFFER, errbuf);
    return 0;
}

/* Options common to every request; timeout_ms bounds the whole transfer,
 * watch adds a low-speed limit: a watch may be silent for timeoutSeconds
 * (no bookmarks come to an idle watch), so only a stream silent for longer
 * than that plus the grace is dead. */
static int setup(CURL *h, struct kube_client *c, struct attempt *a,
                 const char *url, struct curl_slist *hdrs, long timeout_ms,
                 int watch, char *errbuf)
{
    SET(h, CURLOPT_URL, url);
    SET(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SET(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS */
    SET(h, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
    SET(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    SET(h, CURLOPT_TCP_KEEPALIVE, 1L);
    SET(h, CURLOPT_TCP_KEEPIDLE, (long)KEEPALIVE_IDLE_S);
    SET(h, CURLOPT_TCP_KEEPINTVL, (long)KEEPALIVE_INTVL_S);
    SET(h, CURLOPT_USERAGENT, c->o.user_agent);
    SET(h, CURLOPT_HTTPHEADER, hdrs);
    if (watch) {
        SET(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        SET(h, CURLOPT_LOW_SPEED_TIME, (timeout_ms + 999) / 1000);
    } else {
        SET(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip for large lists */
    }
    if (setup_io(h, a, errbuf) < 0)
        return -1;
    return setup_tls(h, c->cfg);
}

static int setup_method(CURL *h, const char *method, const char *body,
                        size_t len)
{
    if (strcmp(method, "GET") == 0) {
        SET(h, CURLOPT_HTTPGET, 1L);
        return 0;
    }
    if (body) {
        SET(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        SET(h, CURLOPT_POSTFIELDS, body);
    }
    SET(h, CURLOPT_CUSTOMREQUEST, method);
    return 0;
}

#undef SET

/* Header list for one request; NULL on allocation failure. The token line
 * is wiped by headers_free. */
static struct curl_slist *headers_new(struct kube_client *c,
                                      const char *content_type, int body)
{
    struct curl_slist *l = NULL, *n;
    char ct[128];
    char *auth = auth_header(c);

    l = curl_slist_append(NULL, "Accept: application/json");
    /* no "Expect: 100-continue" wait before large bodies */
    if (l && (n = curl_slist_append(l, "Expect:")) != NULL)
        l = n;
    else if (l) {
        curl_slist_free_all(l);
        l = NULL;
    }
    if (l && body) {
        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 content_type ? content_type : "application/json");
        n = curl_slist_append(l, ct);
        if (!n) {
            curl_slist_free_all(l);
            l = NULL;
        } else {
            l = n;
        }
    }
    if (l && auth) {
        n = curl_slist_append(l, auth);
        if (!n) {
            curl_slist_free_all(l);
            l = NULL;
        } else {
            l = n;
        }
    }
    wipe_free(auth);
    return l;
}

static void headers_free(struct curl_slist *l)
{
    for (struct curl_slist *n = l; n; n = n->next)
        if (strncmp(n->data, "Authorization:", 14) == 0)
            memset(n->data, 0, strlen(n->data));
    curl_slist_free_all(l);
}

/* ---- retries ---- */

/* Whether the failed attempt may be sent again (see the header). */
static int retriable(const struct kube_request *r, CURLcode cc, long http,
                     long retry_after_s, long sent)
{
    if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_WRITE_ERROR ||
        cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CERTPROBLEM ||
        cc == CURLE_URL_MALFORMAT)
        return 0; /* cancelled, too big, or no retry will fix it */
    if (cc != CURLE_OK)
        return sent == 0 || cc == CURLE_COULDNT_RESOLVE_HOST ||
               cc == CURLE_COULDNT_CONNECT || r->idempotent;
    if (http == 429 || (http == 503 && retry_after_s >= 0))
        return 1; /* the server says it did not process the request */
    if (http == 500 || http == 502 || http == 503 || http == 504)
        return r->idempotent;
    return 0;
}

static long backoff_ms(const struct kube_client *c, int attempt,
                       long retry_after_s)
{
    long cap = c->o.backoff_max_ms, d = c->o.backoff_base_ms;

    if (retry_after_s >= 0) {
        long ms = retry_after_s * 1000;
        return ms < c->o.retry_after_max_ms ? ms : c->o.retry_after_max_ms;
    }
    for (int i = 0; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    /* full jitter: spread clients that failed together */
    return d > 0 ? 1 + (long)kube_time_jitter((uint64_t)d) : 0;
}

/* Sleeps ms unless the client shuts down (which signals wake) or cancel
 * is set first (nobody signals that: looked at every second, as libcurl
 * does during a transfer); returns 1 when the wait was cut short. */
static int pause_ms(struct kube_client *c, long ms, const atomic_int *cancel)
{
    int64_t until = kube_time_now_ms() + ms;
    int stop;

    pthread_mutex_lock(&c->lock);
    for (;;) {
        int64_t now = kube_time_now_ms(), next = until;
        stop = atomic_load(&c->closing) || (cancel && atomic_load(cancel));
        if (stop || now >= until)
            break;
        if (cancel && now + 1000 < until)
            next = now + 1000;
        kube_time_wait_until(&c->wake, &c->lock, next);
    }
    pthread_mutex_unlock(&c->lock);
    return stop;
}

/* "GET /apis/x/v1/..." without the query, for messages and logs. */
static void what_of(char *buf, const char *method, const char *path)
{
    int n = snprintf(buf, WHAT_LEN, "%s %.*s", method, (int)strcspn(path, "?"),
                     path);

    if (n < 0)
        buf[0] = '\0';
}

static int unavailable(struct kube_err *err, const char *what, CURLcode cc,
                       const char *errbuf)
{
    return kube_err_set(err, KUBE_EUNAVAIL, "%s: %s", what,
                        errbuf[0] ? errbuf : curl_easy_strerror(cc));
}

/* The outcome of a finished attempt that will not be retried. */
static int finish(json_t **out, const struct attempt *a, CURLcode cc,
                  const char *what, const char *errbuf, struct kube_status *st,
                  struct kube_err *err)
{
    json_error_t jerr;

    if (a->toobig)
        return kube_err_set(err, KUBE_ETOOBIG, "%s: answer over %zu bytes",
                            what, a->c->o.max_body);
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return kube_err_set(err, KUBE_EUNAVAIL, "%s: cancelled", what);
    if (cc != CURLE_OK)
        return unavailable(err, what, cc, errbuf);
    kube_status_from_http(st, (int)a->http, kube_buf_str(&a->body),
                          kube_buf_len(&a->body));
    if (a->retry_after_s >= 0)
        st->retry_after_s = a->retry_after_s;
    if (a->http < 200 || a->http >= 300)
        return kube_status_err(err, st, what);
    if (!out)
        return KUBE_OK;
    *out = kube_buf_len(&a->body)
               ? kube_json_decode(kube_buf_str(&a->body),
                                  kube_buf_len(&a->body), &jerr)
               : json_null();
    if (!*out)
        return kube_err_set(err, KUBE_EINVAL, "%s: bad JSON in answer: %s",
                            what, jerr.text);
    return KUBE_OK;
}

struct call {
    struct kube_client *c;
    const struct kube_request *r;
    const char *url, *body;
    size_t body_len;
    char what[WHAT_LEN];
};

/* One attempt: a pooled handle, fresh headers, perform. *sent is how many
 * request bytes left (0: the server cannot have seen it). */
static CURLcode perform(struct call *k, struct attempt *a, char *errbuf,
                        long *sent)
{
    struct kube_client *c = k->c;
    long timeout =
        k->r->timeout_ms > 0 ? k->r->timeout_ms : c->o.request_timeout_ms;
    struct curl_slist *hdrs = headers_new(c, k->r->content_type, !!k->body);
    CURLcode cc = CURLE_OUT_OF_MEMORY;

    *sent = 0;
    errbuf[0] = '\0';
    a->h = handle_get(c);
    if (a->h && hdrs &&
        setup(a->h, c, a, k->url, hdrs, timeout, 0, errbuf) == 0 &&
        setup_method(a->h, k->r->method, k->body, k->body_len) == 0) {
        cc = curl_easy_perform(a->h);
        curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &a->http);
        curl_easy_getinfo(a->h, CURLINFO_REQUEST_SIZE, sent);
    }
    handle_put(c, a->h);
    a->h = NULL;
    headers_free(hdrs);
    return cc;
}

static void attempt_reset(struct attempt *a, struct kube_client *c,
                          const atomic_int *cancel)
{
    kube_buf_free(&a->body, 0);
    memset(a, 0, sizeof(*a));
    a->c = c;
    a->cancel = cancel;
    kube_buf_init(&a->body, 16384, c->o.max_body);
    a->retry_after_s = -1;
}

static void log_retry(const struct call *k, int attempt, long http, CURLcode cc,
                      long delay)
{
    if (cc != CURLE_OK)
        kube_log(KUBE_LOG_WARN, "API request failed, retrying",
                 "{s:s, s:i, s:s, s:i}", "request", k->what, "attempt",
                 attempt + 1, "error", curl_easy_strerror(cc), "delayMs",
                 (int)delay);
    else
        kube_log(KUBE_LOG_WARN, "API request failed, retrying",
                 "{s:s, s:i, s:i, s:i}", "request", k->what, "attempt",
                 attempt + 1, "status", (int)http, "delayMs", (int)delay);
}

/* Retry-After from the header, else the Status's retryAfterSeconds (the
 * API server sends both; a proxy or simulator may send one). */
static long retry_after(const struct attempt *a)
{
    struct kube_status t;

    if (a->retry_after_s >= 0 || a->http < 400)
        return a->retry_after_s;
    kube_status_clear(&t);
    kube_status_from_http(&t, (int)a->http, kube_buf_str(&a->body),
                          kube_buf_len(&a->body));
    return t.retry_after_s;
}

static int run(json_t **out, struct call *k, struct kube_status *st,
               struct kube_err *err)
{
    struct kube_client *c = k->c;
    const struct kube_request *r = k->r;
    int tries = r->max_retries < 0   ? 0
                : r->max_retries > 0 ? r->max_retries
                                     : c->o.max_retries;
    int reauth = c->cfg->token_file != NULL, rc;
    struct attempt a = {0};
    char errbuf[CURL_ERROR_SIZE];
    long sent;

    for (int i = 0;; i++) {
        attempt_reset(&a, c, r->cancel);
        if (atomic_load(&c->closing)) {
            rc = kube_err_set(err, KUBE_EUNAVAIL, "%s: client shut down",
                              k->what);
            break;
        }
        CURLcode cc = perform(k, &a, errbuf, &sent);
        kube_log(KUBE_LOG_DEBUG, "API request", "{s:s, s:i, s:i}", "request",
                 k->what, "status", (int)a.http, "curl", (int)cc);
        if (cc == CURLE_OK && a.http == 401 && reauth) {
            reauth = 0; /* a rotated token: re-read it, once */
            token_expire(c);
            i--;
            continue;
        }
        long ra = retry_after(&a);
        if (i < tries && retriable(r, cc, a.http, ra, sent)) {
            long d = backoff_ms(c, i, ra);
            log_retry(k, i, a.http, cc, d);
            if (pause_ms(c, d, r->cancel) == 0)
                continue;
        }
        rc = finish(out, &a, cc, k->what, errbuf, st, err);
        break;
    }
    kube_buf_free(&a.body, 0);
    return rc;
}

static int is_write(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* Server URL + path; for writes the field manager joins the query. */
static char *make_url(struct kube_client *c, const struct kube_request *r,
                      const char *path)
{
    const char *fm = c->o.field_manager;
    int add_fm = fm && fm[0] && is_write(r->method);
    size_t n =
        strlen(c->cfg->server) + strlen(path) + (fm ? strlen(fm) : 0) + 16;
    char *url = malloc(n);

    if (url)
        snprintf(url, n, "%s%s%s%s", c->cfg->server, path,
                 add_fm
                     ? (strchr(path, '?') ? "&fieldManager=" : "?fieldManager=")
                     : "",
                 add_fm ? fm : "");
    return url;
}

int kube_client_do(json_t **out, struct kube_client *c,
                   const struct kube_request *r, struct kube_status *st,
                   struct kube_err *err)
{
    struct kube_status local;
    struct call k = {.c = c, .r = r};
    char *path = NULL, *url = NULL, *body = NULL;
    int rc;

    if (!st)
        st = &local;
    kube_status_clear(st);
    rc = kube_client_path(&path, r, err);
    if (rc < 0)
        return rc;
    what_of(k.what, r->method, path);
    url = make_url(c, r, path);
    if (r->body)
        body = kube_json_dump(r->body, JSON_COMPACT, NULL);
    if (!url || (r->body && !body)) {
        rc = kube_err_set(err, KUBE_ENOMEM, "%s: out of memory", k.what);
        goto done;
    }
    k.url = url;
    k.body = body;
    k.body_len = body ? strlen(body) : 0;
    rc = run(out, &k, st, err);
done:
    free(body);
    free(url);
    free(path);
    return rc;
}

/* ---- watch ---- */

/* The query of a watch request. */
static void watch_params(const char **p, const struct kube_watch_opts *o,
                         char *timeout)
{
    int i = 0;

    p[i++] = "watch";
    p[i++] = "1";
    p[i++] = "resourceVersion";
    p[i++] = o->resource_version;
    p[i++] = "labelSelector";
    p[i++] = o->label_selector;
    p[i++] = "fieldSelector";
    p[i++] = o->field_selector;
    p[i++] = "timeoutSeconds";
    p[i++] = timeout;
    p[i++] = "allowWatchBookmarks";
    p[i++] = o->bookmarks ? "true" : NULL;
    p[i] = NULL;
}

/* What a finished watch transfer means (see kube_client_watch). */
static int watch_result(struct attempt *a, CURLcode cc, const char *what,
                        const char *errbuf, struct kube_status *st,
                        struct kube_err *err)
{
    if (a->dec_rc != 0) { /* decoder or handler stopped it */
        if (a->dec->status.code)
            *st = a->dec->status;
        if (a->dec_rc < 0 && err)
            *err = a->dec_err;
        return a->dec_rc;
    }
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return KUBE_OK; /* cancelled or shutting down */
    if (a->http != 200 && a->http != 0 && !a->toobig) {
        kube_status_from_http(st, (int)a->http, kube_buf_str(&a->body),
                              kube_buf_len(&a->body));
        if (a->http == 401)
            token_expire(a->c);
        return kube_status_err(err, st, what);
    }
    if (cc != CURLE_OK)
        return finish(NULL, a, cc, what, errbuf, st, err);
    return kube_watch_decoder_finish(a->dec, err);
}

int kube_client_watch(struct kube_client *c, const struct kube_gvr *gvr,
                      const char *ns, const struct kube_watch_opts *o,
                      kube_watch_fn fn, void *ctx, struct kube_status *st,
                      struct kube_err *err)
{
    static const struct kube_watch_opts none = {0};
    long tsec;
    char timeout[24], errbuf[CURL_ERROR_SIZE] = "";
    const char *params[16];
    struct kube_request r = {
        .method = "GET", .gvr = gvr, .ns = ns, .params = params};
    struct kube_watch_decoder dec;
    struct kube_status local;
    struct attempt a = {0};
    struct curl_slist *hdrs = NULL;
    char *path = NULL, *url = NULL, what[WHAT_LEN];
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    int rc;

    if (!o)
        o = &none;
    tsec = o->timeout_s > 0 ? o->timeout_s : 300;
    if (!st)
        st = &local;
    kube_status_clear(st);
    if (atomic_load(&c->closing))
        return kube_err_set(err, KUBE_EUNAVAIL, "watch: client shut down");
    snprintf(timeout, sizeof(timeout), "%ld", tsec);
    watch_params(params, o, timeout);
    rc = kube_client_path(&path, &r, err);
    if (rc < 0)
        return rc;
    what_of(what, "WATCH", path);
    kube_watch_decoder_init(&dec, o->max_line, fn, ctx);
    attempt_reset(&a, c, o->cancel);
    a.dec = &dec;
    url = make_url(c, &r, path);
    hdrs = headers_new(c, NULL, 0);
    a.h = handle_get(c);
    if (url && hdrs && a.h &&
        setup(a.h, c, &a, url, hdrs, tsec * 1000 + c->o.watch_grace_ms, 1,
              errbuf) == 0 &&
        setup_method(a.h, "GET", NULL, 0) == 0)
        cc = curl_easy_perform(a.h);
    if (a.h && a.http == 0)
        curl_easy_getinfo(a.h, CURLINFO_RESPONSE_CODE, &a.http);
    kube_log(KUBE_LOG_DEBUG, "watch ended", "{s:s, s:i, s:i}", "request", what,
             "status", (int)a.http, "curl", (int)cc);
    rc = watch_result(&a, cc, what, errbuf, st, err);
    handle_put(c, a.h);
    headers_free(hdrs);
    kube_watch_decoder_free(&dec);
    kube_buf_free(&a.body, 0);
    free(url);
    free(path);
    return rc;
}
