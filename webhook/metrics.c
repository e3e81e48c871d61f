/* webhook/metrics.c - lock-free counters and their Prometheus rendering. */
#include "webhook/metrics.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label values are closed sets, so each combination has a fixed slot and
 * recording is one relaxed atomic add: no lock, no allocation, no hash. */
static const char *const kinds[] = {"", "VirtualMachineSnapshot",
                                    "VirtualMachineSnapshotContent",
                                    "VirtualMachineRestore"};
static const char *const operations[] = {"", "CREATE", "UPDATE", "DELETE",
                                         "CONNECT"};
static const char *const results[] = {"allowed", "denied", "error"};
/* The codes admission answers and the server's own refusals use; the
 * last slot (0) is "other". */
static const int codes[] = {200, 400, 403, 404, 405, 409, 413,
                            415, 422, 429, 500, 503, 0};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define NOPS (sizeof(operations) / sizeof(operations[0]))
#define NRESULTS (sizeof(results) / sizeof(results[0]))
#define NCODES (sizeof(codes) / sizeof(codes[0]))
#define PER_PATH (NKINDS * NOPS * NRESULTS * NCODES)

/* Upper bounds of the latency buckets, in nanoseconds and as printed.
 * Admission here is in-memory work: the fine buckets sit below 1 ms,
 * the coarse ones match kube-apiserver's (5 ms .. 10 s). */
static const uint64_t bucket_ns[] = {
    100000,     250000,     500000,     1000000,    2500000,   5000000,
    10000000,   25000000,   50000000,   100000000,  250000000, 500000000,
    1000000000, 2500000000, 5000000000, 10000000000};
static const char *const bucket_le[] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5",    "10"};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

struct wh_histogram {
    atomic_uint_fast64_t buckets[NBUCKETS + 1]; /* not cumulative; +Inf */
    atomic_uint_fast64_t sum_ns;
};

struct wh_metrics {
    const char *paths[WH_METRICS_MAX_PATHS]; /* borrowed */
    size_t npaths;
    atomic_uint_fast64_t *requests; /* npaths * PER_PATH slots */
    struct wh_histogram latency[WH_METRICS_MAX_PATHS];
    atomic_uint_fast64_t handshake_failures;
    atomic_uint_fast64_t reloads[2];
    atomic_uint_fast64_t reload_failures[2];
    atomic_int_fast64_t cert_expiry;
    atomic_int_fast64_t connections;
    _Atomic(const struct wh_metrics_extra *) extra;
};

int wh_metrics_new(struct wh_metrics **out, const char *const *paths,
                   size_t npaths)
{
    struct wh_metrics *m;

    if (npaths > WH_METRICS_MAX_PATHS)
        return KUBE_EINVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return KUBE_ENOMEM;
    /* calloc'd zero bytes are valid zero atomics on every target we
     * build for (lock-free 64-bit atomics have no hidden state) */
    m->requests =
        calloc(npaths ? npaths * PER_PATH : 1, sizeof(m->requests[0]));
    if (!m->requests) {
        free(m);
        return KUBE_ENOMEM;
    }
    for (size_t i = 0; i < npaths; i++)
        m->paths[i] = paths[i];
    m->npaths = npaths;
    *out = m;
    return KUBE_OK;
}

void wh_metrics_free(struct wh_metrics *m)
{
    if (!m)
        return;
    free(m->requests);
    free(m);
}

/* Index of s in list (slot 0 is the catch-all ""). */
static size_t label_index(const char *const *list, size_t n, const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return i;
    return 0;
}

static size_t code_index(int code)
{
    for (size_t i = 0; i + 1 < NCODES; i++)
        if (codes[i] == code)
            return i;
    return NCODES - 1;
}

void wh_metrics_admission(struct wh_metrics *m, size_t path, const char *kind,
                          const char *operation, enum wh_metrics_result result,
                          int code, uint64_t latency_ns)
{
    size_t k = label_index(kinds, NKINDS, kind);
    size_t o = label_index(operations, NOPS, operation);
    size_t slot, b = 0;

    assert(path < m->npaths);
    assert((size_t)result < NRESULTS);
    slot = (((path * NKINDS + k) * NOPS + o) * NRESULTS + (size_t)result) *
               NCODES +
           code_index(code);
    atomic_fetch_add_explicit(&m->requests[slot], 1, memory_order_relaxed);
    while (b < NBUCKETS && latency_ns > bucket_ns[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[path].buckets[b], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency[path].sum_ns, latency_ns,
                              memory_order_relaxed);
}

void wh_metrics_handshake_failed(struct wh_metrics *m)
{
    atomic_fetch_add_explicit(&m->handshake_failures, 1, memory_order_relaxed);
}

void wh_metrics_reload(struct wh_metrics *m, enum wh_metrics_reload what,
                       int ok)
{
    assert(what == WH_METRICS_POLICY || what == WH_METRICS_CERTIFICATE);
    atomic_fetch_add_explicit(ok ? &m->reloads[what]
                                 : &m->reload_failures[what],
                              1, memory_order_relaxed);
}

void wh_metrics_set_cert_expiry(struct wh_metrics *m, int64_t unix_seconds)
{
    atomic_store_explicit(&m->cert_expiry, unix_seconds, memory_order_relaxed);
}

void wh_metrics_connections_add(struct wh_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* Writes s as a label value: backslash, quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void put_header(FILE *f, const char *name, const char *type,
                       const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(FILE *f, struct wh_metrics *m)
{
    put_header(f, "vmsnapd_admission_requests_total", "counter",
               "Admission requests answered, by path, kind, operation, "
               "result and code (status.code of a denial, else HTTP's).");
    for (size_t i = 0; i < m->npaths * PER_PATH; i++) {
        uint64_t v = load(&m->requests[i]);
        size_t c = i % NCODES, r = i / NCODES % NRESULTS;
        size_t o = i / (NCODES * NRESULTS) % NOPS;
        size_t k = i / (NCODES * NRESULTS * NOPS) % NKINDS;

        if (v == 0)
            continue;
        fputs("vmsnapd_admission_requests_total{path=\"", f);
        put_label(f, m->paths[i / PER_PATH]);
        fprintf(f, "\",kind=\"%s\",operation=\"%s\",result=\"%s\",code=\"",
                kinds[k], operations[o], results[r]);
        if (codes[c])
            fprintf(f, "%d", codes[c]);
        else
            fputs("other", f);
        fprintf(f, "\"} %llu\n", (unsigned long long)v);
    }
}

static void render_latency(FILE *f, struct wh_metrics *m)
{
    put_header(f, "vmsnapd_admission_duration_seconds", "histogram",
               "Time from the request's first byte handled to its answer "
               "queued, by path.");
    for (size_t p = 0; p < m->npaths; p++) {
        struct wh_histogram *h = &m->latency[p];
        uint64_t cum = 0;

        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += load(&h->buckets[b]);
            fputs("vmsnapd_admission_duration_seconds_bucket{path=\"", f);
            put_label(f, m->paths[p]);
            fprintf(f, "\",le=\"%s\"} %llu\n",
                    b < NBUCKETS ? bucket_le[b] : "+Inf",
                    (unsigned long long)cum);
        }
        fputs("vmsnapd_admission_duration_seconds_sum{path=\"", f);
        put_label(f, m->paths[p]);
        fprintf(f, "\"} %.9f\n", (double)load(&h->sum_ns) / 1e9);
        fputs("vmsnapd_admission_duration_seconds_count{path=\"", f);
        put_label(f, m->paths[p]);
        fprintf(f, "\"} %llu\n", (unsigned long long)cum);
    }
}

static void render_scalar(FILE *f, const char *name, const char *type,
                          const char *help, long long v)
{
    put_header(f, name, type, help);
    fprintf(f, "%s %lld\n", name, v);
}

static void render_others(FILE *f, struct wh_metrics *m)
{
    render_scalar(f, "vmsnapd_tls_handshake_failures_total", "counter",
                  "TLS handshakes that failed.",
                  (long long)load(&m->handshake_failures));
    render_scalar(
        f, "vmsnapd_open_connections", "gauge", "TLS connections open now.",
        (long long)atomic_load_explicit(&m->connections, memory_order_relaxed));
    render_scalar(
        f, "vmsnapd_serving_certificate_expiry_timestamp_seconds", "gauge",
        "notAfter of the serving certificate in use, unix seconds.",
        (long long)atomic_load_explicit(&m->cert_expiry, memory_order_relaxed));
    render_scalar(f, "vmsnapd_certificate_reloads_total", "counter",
                  "Certificate and key pairs swapped in after start.",
                  (long long)load(&m->reloads[WH_METRICS_CERTIFICATE]));
    render_scalar(f, "vmsnapd_certificate_reload_failures_total", "counter",
                  "Changed certificate or key files refused (old pair kept).",
                  (long long)load(&m->reload_failures[WH_METRICS_CERTIFICATE]));
    render_scalar(f, "vmsnapd_policy_reloads_total", "counter",
                  "Policies swapped in after start.",
                  (long long)load(&m->reloads[WH_METRICS_POLICY]));
    render_scalar(f, "vmsnapd_policy_reload_failures_total", "counter",
                  "Policy files refused on reload (old policy kept).",
                  (long long)load(&m->reload_failures[WH_METRICS_POLICY]));
}

int wh_metrics_render(char **out, size_t *outlen, struct wh_metrics *m,
                      struct kube_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const struct wh_metrics_extra *x;
    int bad;

    if (!f)
        return kube_err_set(err, KUBE_ENOMEM, "metrics: out of memory");
    render_requests(f, m);
    render_latency(f, m);
    render_others(f, m);
    x = atomic_load(&m->extra);
    if (x)
        x->fn(f, x->ctx);
    bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return kube_err_set(err, KUBE_ENOMEM, "metrics: out of memory");
    }
    *out = buf;
    *outlen = len;
    return KUBE_OK;
}

void wh_metrics_set_extra(struct wh_metrics *m,
                          const struct wh_metrics_extra *x)
{
    atomic_store(&m->extra, x);
}
