/* tests/webhook/metrics.c - Prometheus rendering of webhook/metrics. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/metrics.h"

static const char *const paths[] = {"/validate-a", "/mutate-a"};

static struct wh_metrics *m;

static void setup(void)
{
    cr_assert_eq(wh_metrics_new(&m, paths, 2), KUBE_OK);
}

static void teardown(void)
{
    wh_metrics_free(m);
}

TestSuite(webhook_metrics, .init = setup, .fini = teardown);

static char *render(void)
{
    char *out = NULL;
    size_t len = 0;

    cr_assert_eq(wh_metrics_render(&out, &len, m, NULL), KUBE_OK);
    cr_assert_eq(strlen(out), len);
    return out;
}

/* Whether text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static const struct {
    const char *name;
    size_t path;
    const char *kind, *op;
    enum wh_metrics_result result;
    int code;
    const char *want;
} rows[] = {
    {"allowed", 0, "VirtualMachineSnapshot", "CREATE", WH_METRICS_ALLOWED, 200,
     "vmsnapd_admission_requests_total{path=\"/validate-a\",kind="
     "\"VirtualMachineSnapshot\",operation=\"CREATE\",result=\"allowed\","
     "code=\"200\"} 1"},
    {"denied 422", 0, "VirtualMachineRestore", "UPDATE", WH_METRICS_DENIED, 422,
     "vmsnapd_admission_requests_total{path=\"/validate-a\",kind="
     "\"VirtualMachineRestore\",operation=\"UPDATE\",result=\"denied\","
     "code=\"422\"} 1"},
    {"error before decoding", 1, "", "", WH_METRICS_ERROR, 415,
     "vmsnapd_admission_requests_total{path=\"/mutate-a\",kind=\"\","
     "operation=\"\",result=\"error\",code=\"415\"} 1"},
    {"foreign kind and operation count as empty", 1, "Pod", "PATCH",
     WH_METRICS_DENIED, 403,
     "vmsnapd_admission_requests_total{path=\"/mutate-a\",kind=\"\","
     "operation=\"\",result=\"denied\",code=\"403\"} 1"},
    {"NULL kind", 1, NULL, "DELETE", WH_METRICS_ALLOWED, 200,
     "vmsnapd_admission_requests_total{path=\"/mutate-a\",kind=\"\","
     "operation=\"DELETE\",result=\"allowed\",code=\"200\"} 1"},
    {"unknown code", 0, "VirtualMachineSnapshotContent", "CONNECT",
     WH_METRICS_DENIED, 418,
     "vmsnapd_admission_requests_total{path=\"/validate-a\",kind="
     "\"VirtualMachineSnapshotContent\",operation=\"CONNECT\",result="
     "\"denied\",code=\"other\"} 1"},
};

Test(webhook_metrics, requests_table)
{
    char *text;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        wh_metrics_admission(m, rows[i].path, rows[i].kind, rows[i].op,
                             rows[i].result, rows[i].code, 1000);
    text = render();
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        cr_expect(has_line(text, rows[i].want), "%s: no line %s in\n%s",
                  rows[i].name, rows[i].want, text);
    free(text);
}

Test(webhook_metrics, empty_set_has_series_but_no_request_samples)
{
    char *text = render();

    cr_expect(has_line(text, "# TYPE vmsnapd_admission_requests_total "
                             "counter"));
    cr_expect_null(strstr(text, "vmsnapd_admission_requests_total{"));
    cr_expect(has_line(text, "vmsnapd_admission_duration_seconds_bucket{"
                             "path=\"/mutate-a\",le=\"+Inf\"} 0"));
    cr_expect(has_line(text, "vmsnapd_admission_duration_seconds_count{"
                             "path=\"/validate-a\"} 0"));
    cr_expect(has_line(text, "vmsnapd_tls_handshake_failures_total 0"));
    cr_expect(has_line(
        text, "vmsnapd_serving_certificate_expiry_timestamp_seconds 0"));
    cr_expect(has_line(text, "vmsnapd_policy_reload_failures_total 0"));
    free(text);
}

Test(webhook_metrics, histogram_is_cumulative)
{
    static const char *const want[] = {
        "vmsnapd_admission_duration_seconds_bucket{path=\"/validate-a\","
        "le=\"0.0001\"} 0",
        "vmsnapd_admission_duration_seconds_bucket{path=\"/validate-a\","
        "le=\"0.00025\"} 1", /* 250 us: le is inclusive */
        "vmsnapd_admission_duration_seconds_bucket{path=\"/validate-a\","
        "le=\"0.0005\"} 2",
        "vmsnapd_admission_duration_seconds_bucket{path=\"/validate-a\","
        "le=\"10\"} 2",
        "vmsnapd_admission_duration_seconds_bucket{path=\"/validate-a\","
        "le=\"+Inf\"} 3",
        "vmsnapd_admission_duration_seconds_sum{path=\"/validate-a\"} "
        "20.000550000",
        "vmsnapd_admission_duration_seconds_count{path=\"/validate-a\"} 3",
        "vmsnapd_admission_duration_seconds_count{path=\"/mutate-a\"} 0",
    };
    char *text;

    wh_metrics_admission(m, 0, NULL, NULL, WH_METRICS_ALLOWED, 200, 250000);
    wh_metrics_admission(m, 0, NULL, NULL, WH_METRICS_ALLOWED, 200, 300000);
    wh_metrics_admission(m, 0, NULL, NULL, WH_METRICS_ALLOWED, 200,
                         20000000000ULL);
    text = render();
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_expect(has_line(text, want[i]), "no line %s in\n%s", want[i], text);
    free(text);
}

Test(webhook_metrics, counters_and_gauges)
{
    static const char *const want[] = {
        "vmsnapd_tls_handshake_failures_total 2",
        "vmsnapd_open_connections 1",
        "vmsnapd_serving_certificate_expiry_timestamp_seconds 1795731199",
        "vmsnapd_certificate_reloads_total 1",
        "vmsnapd_certificate_reload_failures_total 2",
        "vmsnapd_policy_reloads_total 3",
        "vmsnapd_policy_reload_failures_total 0",
    };
    char *text;

    wh_metrics_handshake_failed(m);
    wh_metrics_handshake_failed(m);
    wh_metrics_connections_add(m, 1);
    wh_metrics_connections_add(m, 1);
    wh_metrics_connections_add(m, -1);
    wh_metrics_set_cert_expiry(m, 1000);
    wh_metrics_set_cert_expiry(m, 1795731199);
    wh_metrics_reload(m, WH_METRICS_CERTIFICATE, 1);
    wh_metrics_reload(m, WH_METRICS_CERTIFICATE, 0);
    wh_metrics_reload(m, WH_METRICS_CERTIFICATE, 0);
    for (int i = 0; i < 3; i++)
        wh_metrics_reload(m, WH_METRICS_POLICY, 1);
    text = render();
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_expect(has_line(text, want[i]), "no line %s in\n%s", want[i], text);
    free(text);
}

/* Every sample belongs to a family announced by HELP and TYPE first,
 * and every line ends in a newline: what a Prometheus parser demands. */
Test(webhook_metrics, exposition_format)
{
    char *text, *save = NULL, *line;
    char family[128] = "";

    wh_metrics_admission(m, 1, "VirtualMachineSnapshot", "CREATE",
                         WH_METRICS_ALLOWED, 200, 1);
    wh_metrics_handshake_failed(m);
    text = render();
    cr_assert(text[strlen(text) - 1] == '\n');
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        size_t n = strcspn(line, "{ ");

        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            size_t k = strcspn(line + 7, " ");

            cr_assert_lt(k, sizeof(family));
            memcpy(family, line + 7, k);
            family[k] = '\0';
            continue;
        }
        cr_assert_lt(n, sizeof(name));
        memcpy(name, line, n);
        name[n] = '\0';
        cr_expect(strncmp(name, family, strlen(family)) == 0 && *family,
                  "sample %s outside its family %s", name, family);
        cr_expect_not_null(strchr(line, ' '), "no value: %s", line);
    }
    free(text);
}

Test(webhook_metrics, label_values_are_escaped)
{
    static const char *const odd[] = {"/a\"b\\c\nd"};
    struct wh_metrics *o = NULL;
    char *text = NULL;
    size_t len;

    cr_assert_eq(wh_metrics_new(&o, odd, 1), KUBE_OK);
    cr_assert_eq(wh_metrics_render(&text, &len, o, NULL), KUBE_OK);
    cr_expect_not_null(strstr(text, "{path=\"/a\\\"b\\\\c\\nd\",le=\"+Inf\"}"),
                       "%s", text);
    free(text);
    wh_metrics_free(o);
}

Test(webhook_metrics, too_many_paths)
{
    static const char *const many[WH_METRICS_MAX_PATHS + 1] = {"x"};
    struct wh_metrics *o = NULL;

    cr_expect_eq(wh_metrics_new(&o, many, WH_METRICS_MAX_PATHS + 1),
                 KUBE_EINVAL);
    cr_expect_null(o);
}

#define THREADS 4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        wh_metrics_admission(m, 1, "VirtualMachineSnapshot", "UPDATE",
                             WH_METRICS_DENIED, 422, 1);
        wh_metrics_handshake_failed(m);
    }
    return NULL;
}

/* Lock-free is still exact: no increment is lost between threads. */
Test(webhook_metrics, concurrent_recording_is_exact)
{
    pthread_t t[THREADS];
    char want[256], *text;

    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    text = render();
    snprintf(want, sizeof(want),
             "vmsnapd_admission_requests_total{path=\"/mutate-a\",kind="
             "\"VirtualMachineSnapshot\",operation=\"UPDATE\",result="
             "\"denied\",code=\"422\"} %d",
             THREADS * PER_THREAD);
    cr_expect(has_line(text, want), "no line %s", want);
    snprintf(want, sizeof(want), "vmsnapd_tls_handshake_failures_total %d",
             THREADS * PER_THREAD);
    cr_expect(has_line(text, want), "no line %s", want);
    free(text);
}
