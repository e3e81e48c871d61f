/* tests/integration/server.c - `vmsnapd serve` as kube-apiserver meets it:
 * the real binary ($VMSNAPD) on 127.0.0.1 and a free port, fresh
 * certificates from the openssl CLI laid out like a mounted Secret, and
 * libcurl verifying the service hostname against the test CA. Every timer
 * is a short flag; waits are functional deadlines, never timings. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/util.h"

#define DATA "tests/data/integration/"
#define SVC "vmsnapd.vmsnapd-system.svc"
#define DEADLINE 30 /* seconds: generous, only a failure waits this long */

#define SNAP DATA "admissionreview-create-vmsnapshot.json"
#define SNAP_UID "e16ae29e-5e2c-40a2-93a7-e054937a7877"
#define MUTATE DATA "admissionreview-create-vmsnapshot.mutating.json"
#define MUTATE_UID "566dbd93-65df-46b3-a46f-9e81b89c1846"
#define RESTORE DATA "admissionreview-create-vmrestore.json"
#define RESTORE_UID "89184c0a-2b10-44d6-a369-4837f134b16b"
#define CONTENT DATA "admissionreview-create-vmsnapshotcontent.json"
#define CONTENT_UID "3c1f6a52-8d0e-4c53-9a57-2b7f0d9e4c11"

#define P_SNAP "/validate-virtualmachinesnapshots"
#define P_CONTENT "/validate-virtualmachinesnapshotcontents"
#define P_RESTORE "/validate-virtualmachinerestores"
#define P_MUTATE "/mutate-virtualmachinesnapshots"

/* The server under test and its scratch directory. Each Criterion test
 * runs in its own process, so this is per test. */
static struct {
    char dir[64];     /* mkdtemp: pki, the Secret layout, log, policy */
    char log[128];    /* the server's stderr */
    char secret[128]; /* dir/secret: tls.crt -> ..data/tls.crt ... */
    pid_t pid;        /* 0 when not running */
    int port;
    int status; /* wait status once it exited */
    struct curl_slist *resolve;
} t;

/* ---- processes and files ------------------------------------------------ */

/* A new key and a leaf for SVC and 127.0.0.1 signed by the test CA, in
 * dir/secret/name (a generation directory, as the kubelet writes). */
static void make_pair(const char *name, const char *cn, int days)
{
    char d[192];

    snprintf(d, sizeof(d), "%s/%s", t.secret, name);
    it_sh("mkdir -p %s && cd %s && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
       "-keyout tls.key -out tls.csr -subj /CN=%s 2>/dev/null && "
       "printf 'subjectAltName=DNS:%s,IP:127.0.0.1\\n"
       "extendedKeyUsage=serverAuth\\n' > ext.cnf && "
       "openssl x509 -req -in tls.csr -CA ../../ca.crt -CAkey ../../ca.key "
       "-CAcreateserial -out tls.crt -days %d -extfile ext.cnf 2>/dev/null",
       d, d, cn, SVC, days);
}

/* Points ..data at generation name the way the kubelet does: a new
 * symlink renamed over the old one, one atomic step for both files. */
static void swap_data(const char *name)
{
    it_sh("cd %s && ln -sfn %s ..data_tmp && mv -T ..data_tmp ..data", t.secret,
       name);
}

static void setup(void)
{
    const char *bin = getenv("VMSNAPD");

    cr_assert(bin && *bin, "set VMSNAPD to the vmsnapd binary");
    signal(SIGPIPE, SIG_IGN);
    memset(&t, 0, sizeof(t));
    snprintf(t.dir, sizeof(t.dir), "/tmp/vmsnapd-it-XXXXXX");
    cr_assert_not_null(mkdtemp(t.dir));
    snprintf(t.log, sizeof(t.log), "%s/serve.log", t.dir);
    snprintf(t.secret, sizeof(t.secret), "%s/secret", t.dir);
    it_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt "
       "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
       "-subj /CN=vmsnapd-test-ca -days 3 2>/dev/null && mkdir secret",
       t.dir);
    make_pair("..gen1", "vmsnapd-gen1", 2);
    swap_data("..gen1");
    it_sh("cd %s && ln -s ..data/tls.crt tls.crt && ln -s ..data/tls.key "
       "tls.key",
       t.secret);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

/* Asks the server to stop (SIGTERM) and waits; SIGKILL past the deadline.
 * Returns the wait status. */
static int stop_server(void)
{
    double end = it_now() + DEADLINE;

    if (!t.pid)
        return t.status;
    kill(t.pid, SIGTERM);
    while (waitpid(t.pid, &t.status, WNOHANG) == 0) {
        if (it_now() > end) {
            kill(t.pid, SIGKILL);
            waitpid(t.pid, &t.status, 0);
            break;
        }
        it_nap(20);
    }
    t.pid = 0;
    return t.status;
}

static void teardown(void)
{
    int st = stop_server();

    /* exit 0 also means no leak and no sanitizer report under ASan */
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "server ended with status %#x; its log:\n%s", st,
              it_slurp(t.log, NULL));
    curl_slist_free_all(t.resolve);
    curl_global_cleanup();
    if (*t.dir)
        it_sh("rm -rf %s", t.dir);
}

TestSuite(integration_server, .init = setup, .fini = teardown, .timeout = 180);

/* The port from the {"msg":"serving","port":N} line, or 0. */
static int logged_port(void)
{
    char *log = it_slurp(t.log, NULL), *line, *save = NULL;
    int port = 0;

    for (line = strtok_r(log, "\n", &save); line && !port;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "msg"));

        if (msg && strcmp(msg, "serving") == 0)
            port = (int)json_integer_value(json_object_get(j, "port"));
        json_decref(j);
    }
    free(log);
    return port;
}

static int log_has(const char *needle)
{
    char *log = it_slurp(t.log, NULL);
    int found = strstr(log, needle) != NULL;

    free(log);
    return found;
}

/* Starts $VMSNAPD serve on 127.0.0.1:0 with the Secret's files and short
 * timers, plus the NULL-terminated extra flags; waits for its port. */
static void start_server(const char *extra, ...)
{
    const char *argv[40] = {
        getenv("VMSNAPD"),   "serve", "--listen",         "127.0.0.1:0",
        "--tls-cert-file",   NULL,    "--tls-key-file",   NULL,
        "--reload-interval", "100ms", "--shutdown-delay", "0s",
        "--grace-period",    "20s"};
    char cert[192], key[192], res[128];
    size_t n = 14;
    va_list ap;
    double end;
    int fd;

    snprintf(cert, sizeof(cert), "%s/tls.crt", t.secret);
    snprintf(key, sizeof(key), "%s/tls.key", t.secret);
    argv[5] = cert;
    argv[7] = key;
    va_start(ap, extra);
    for (const char *a = extra; a; a = va_arg(ap, const char *)) {
        cr_assert_lt(n, sizeof(argv) / sizeof(argv[0]) - 1);
        argv[n++] = a; /* later flags override the defaults above */
    }
    va_end(ap);
    argv[n] = NULL;
    fd = open(t.log, O_WRONLY | O_CREAT | O_TRUNC, 0600); /* before fork:
                                                           * we read it */
    cr_assert_geq(fd, 0);
    t.pid = fork();
    cr_assert_geq(t.pid, 0);
    if (t.pid == 0) {
        int null = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        dup2(null, 0);
        dup2(null, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    end = it_now() + DEADLINE;
    for (t.port = logged_port(); !t.port; t.port = logged_port()) {
        cr_assert_eq(waitpid(t.pid, &t.status, WNOHANG), 0,
                     "server exited early:\n%s", it_slurp(t.log, NULL));
        cr_assert_lt(it_now(), end, "no serving line:\n%s", it_slurp(t.log, NULL));
        it_nap(20);
    }
    snprintf(res, sizeof(res), SVC ":%d:127.0.0.1", t.port);
    t.resolve = curl_slist_append(NULL, res);
}

/* Waits for the server to exit by itself; returns the wait status. */
static int wait_exit(void)
{
    double end = it_now() + DEADLINE;

    while (waitpid(t.pid, &t.status, WNOHANG) == 0) {
        cr_assert_lt(it_now(), end, "server did not exit:\n%s",
                     it_slurp(t.log, NULL));
        it_nap(20);
    }
    t.pid = 0;
    return t.status;
}

/* ---- HTTPS client ------------------------------------------------------- */

struct resp {
    CURLcode rc;
    long status;
    char body[65536]; /* cut, NUL-terminated */
    size_t len;
    char headers[4096];
    size_t hlen;
    long connects; /* new connections this transfer made */
    char subject[256];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = size * n, room = sizeof(r->body) - 1 - r->len;

    memcpy(r->body + r->len, p, k < room ? k : room);
    r->len += k < room ? k : room;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = size * n, room = sizeof(r->headers) - 1 - r->hlen;

    memcpy(r->headers + r->hlen, p, k < room ? k : room);
    r->hlen += k < room ? k : room;
    r->headers[r->hlen] = '\0';
    return k;
}

/* A handle that trusts only the test CA and checks the name SVC. */
static CURL *client(void)
{
    CURL *h = curl_easy_init();
    char ca[128];

    cr_assert_not_null(h);
    snprintf(ca, sizeof(ca), "%s/ca.crt", t.dir);
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_RESOLVE, t.resolve);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)DEADLINE);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    return h;
}

/* One request on h: method, path (with query), content type (NULL: no
 * Content-Type header) and body (NULL: none). */
static void request(CURL *h, struct resp *r, const char *method,
                    const char *path, const char *ctype, const char *body,
                    size_t len)
{
    struct curl_slist *hdrs = NULL;
    struct curl_certinfo *ci = NULL;
    char url[256], ct[128];

    memset(r, 0, sizeof(*r));
    snprintf(url, sizeof(url), "https://" SVC ":%d%s", t.port, path);
    snprintf(ct, sizeof(ct), "Content-Type:%s%s", ctype ? " " : "",
             ctype ? ctype : "");
    hdrs = curl_slist_append(hdrs, ct);
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue wait */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "POST") == 0 && !body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
        ci->num_of_certs > 0)
        for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
            if (strncmp(s->data, "Subject:", 8) == 0)
                snprintf(r->subject, sizeof(r->subject), "%s", s->data + 8);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
}

/* POSTs a fixture file as application/json on a new handle. */
static void post_file(struct resp *r, const char *path, const char *file)
{
    CURL *h = client();
    size_t len;
    char *body = it_slurp(file, &len);

    request(h, r, "POST", path, "application/json", body, len);
    curl_easy_cleanup(h);
    free(body);
}

static void get(struct resp *r, const char *path)
{
    CURL *h = client();

    request(h, r, "GET", path, NULL, NULL, 0);
    curl_easy_cleanup(h);
}

/* The value of the sample whose line starts with series (name and
 * labels exactly as rendered), or -1 when absent. */
static double metric(const char *series)
{
    static struct resp r;
    size_t n = strlen(series);

    get(&r, "/metrics");
    cr_assert_eq(r.status, 200);
    for (const char *p = strstr(r.body, series); p; p = strstr(p + 1, series))
        if ((p == r.body || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static void wait_metric_at_least(const char *series, double want)
{
    double end = it_now() + DEADLINE;

    while (metric(series) < want) {
        cr_assert_lt(it_now(), end, "%s never reached %g; log:\n%s", series, want,
                     it_slurp(t.log, NULL));
        it_nap(50);
    }
}

/* notAfter of a PEM certificate, unix seconds (openssl prints the date
 * the way curl_getdate reads it). */
static long long not_after(const char *pem)
{
    char cmd[512], out[128] = "";
    FILE *p;

    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -enddate -in %s", pem);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(out, sizeof(out), p));
    pclose(p);
    cr_assert(strncmp(out, "notAfter=", 9) == 0, "%s", out);
    return (long long)curl_getdate(out + 9, NULL);
}

/* ---- paths, methods, media types ---------------------------------------- */

static const struct {
    const char *name, *method, *path, *ctype;
    const char *file; /* body from a fixture, or */
    const char *body; /* a literal body (NULL: none) */
    long status;
    const char *want_ctype; /* prefix */
    const char *want_body;  /* substring */
    const char *want_allow; /* Allow header, or NULL */
} cases[] = {
    {"validate snapshots", "POST", P_SNAP, "application/json", SNAP, NULL, 200,
     "application/json", "\"uid\":\"" SNAP_UID "\"", NULL},
    {"validate contents (a 403 denial is an HTTP 200)", "POST", P_CONTENT,
     "application/json", CONTENT, NULL, 200, "application/json", "\"code\":403",
     NULL},
    {"validate restores", "POST", P_RESTORE, "application/json", RESTORE, NULL,
     200, "application/json", "\"uid\":\"" RESTORE_UID "\"", NULL},
    {"mutate snapshots", "POST", P_MUTATE, "application/json", MUTATE, NULL,
     200, "application/json", "\"patchType\":\"JSONPatch\"", NULL},
    {"timeout query", "POST", P_SNAP "?timeout=10s", "application/json", SNAP,
     NULL, 200, "application/json", SNAP_UID, NULL},
    {"charset parameter", "POST", P_RESTORE, "application/json; charset=utf-8",
     RESTORE, NULL, 200, "application/json", RESTORE_UID, NULL},
    {"media type in capitals", "POST", P_RESTORE, "Application/JSON", RESTORE,
     NULL, 200, "application/json", RESTORE_UID, NULL},
    {"unknown path", "GET", "/nope", NULL, NULL, NULL, 404, "text/plain",
     "not found", NULL},
    {"unknown webhook path with a body", "POST", "/validate-pods",
     "application/json", SNAP, NULL, 404, "text/plain", "not found", NULL},
    {"GET on a webhook path", "GET", P_MUTATE, NULL, NULL, NULL, 405,
     "text/plain", "method not allowed", "POST"},
    {"PUT on a webhook path", "PUT", P_SNAP, "application/json", SNAP, NULL,
     405, "text/plain", "method not allowed", "POST"},
    {"POST on healthz", "POST", "/healthz", "application/json", NULL, "{}", 405,
     "text/plain", "method not allowed", "GET, HEAD"},
    {"text/plain body", "POST", P_SNAP, "text/plain", SNAP, NULL, 415,
     "text/plain", "application/json", NULL},
    {"no Content-Type", "POST", P_SNAP, NULL, SNAP, NULL, 415, "text/plain",
     "application/json", NULL},
    {"look-alike media type", "POST", P_SNAP, "application/jsonl", SNAP, NULL,
     415, "text/plain", "application/json", NULL},
    {"other charset", "POST", P_SNAP, "application/json; charset=latin1", SNAP,
     NULL, 415, "text/plain", "application/json", NULL},
    {"not JSON", "POST", P_SNAP, "application/json", NULL, "hello", 400,
     "text/plain", "AdmissionReview", NULL},
    {"JSON but no request", "POST", P_CONTENT, "application/json", NULL,
     "{\"kind\":\"AdmissionReview\"}", 400, "text/plain", "", NULL},
    {"empty body", "POST", P_RESTORE, "application/json", NULL, NULL, 400,
     "text/plain", "", NULL},
    {"healthz", "GET", "/healthz", NULL, NULL, NULL, 200, "text/plain", "ok",
     NULL},
    {"HEAD healthz", "HEAD", "/healthz", NULL, NULL, NULL, 200, "text/plain",
     "", NULL},
    {"readyz", "GET", "/readyz", NULL, NULL, NULL, 200, "text/plain", "ok",
     NULL},
    {"metrics", "GET", "/metrics", NULL, NULL, NULL, 200,
     "text/plain; version=0.0.4", "# TYPE vmsnapd_admission_requests_total",
     NULL},
};

/* The value of header name in r (case-insensitive), or "". */
static const char *header(const struct resp *r, const char *name, char *buf,
                          size_t len)
{
    size_t n = strlen(name);

    buf[0] = '\0';
    for (const char *p = r->headers; *p; p = strchr(p, '\n') + 1) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            size_t k = strcspn(p + n + 1, "\r\n");
            const char *v = p + n + 1 + strspn(p + n + 1, " ");

            k -= (size_t)(v - (p + n + 1));
            snprintf(buf, len, "%.*s", (int)k, v);
        }
        if (!strchr(p, '\n'))
            break;
    }
    return buf;
}

Test(integration_server, paths_methods_and_media_types)
{
    CURL *h;

    start_server(NULL);
    h = client(); /* one handle: refusals keep the connection usable */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static struct resp r;
        char *body = NULL, buf[256];
        size_t len = 0;

        if (cases[i].file)
            body = it_slurp(cases[i].file, &len);
        else if (cases[i].body)
            body = strdup(cases[i].body), len = strlen(body);
        request(h, &r, cases[i].method, cases[i].path, cases[i].ctype, body,
                len);
        free(body);
        cr_expect_eq(r.rc, CURLE_OK, "%s: %s", cases[i].name,
                     curl_easy_strerror(r.rc));
        cr_expect_eq(r.status, cases[i].status, "%s: status %ld: %s",
                     cases[i].name, r.status, r.body);
        header(&r, "Content-Type", buf, sizeof(buf));
        cr_expect(
            strncmp(buf, cases[i].want_ctype, strlen(cases[i].want_ctype)) == 0,
            "%s: Content-Type %s", cases[i].name, buf);
        cr_expect_not_null(strstr(r.body, cases[i].want_body), "%s: body %s",
                           cases[i].name, r.body);
        if (cases[i].want_allow)
            cr_expect_str_eq(header(&r, "Allow", buf, sizeof(buf)),
                             cases[i].want_allow, "%s", cases[i].name);
    }
    curl_easy_cleanup(h);
}

Test(integration_server, keeps_connections_alive)
{
    CURL *h;
    size_t len;
    char *body = it_slurp(SNAP, &len), buf[64];
    static struct resp r;

    start_server(NULL);
    h = client();
    for (int i = 0; i < 3; i++) {
        request(h, &r, "POST", P_SNAP "?timeout=10s", "application/json", body,
                len);
        cr_expect_eq(r.status, 200);
        cr_expect_eq(r.connects, i == 0 ? 1 : 0, "request %d reconnected", i);
        cr_expect_str_neq(header(&r, "Connection", buf, sizeof(buf)), "close");
    }
    /* a refusal without a body keeps it too */
    request(h, &r, "GET", "/nope", NULL, NULL, 0);
    request(h, &r, "GET", "/healthz", NULL, NULL, 0);
    cr_expect_eq(r.status, 200);
    cr_expect_eq(r.connects, 0);
    curl_easy_cleanup(h);
    free(body);
}

/* ---- body limit --------------------------------------------------------- */

struct chunked {
    size_t left;
};

static size_t read_zeros(char *p, size_t size, size_t n, void *ud)
{
    struct chunked *c = ud;
    size_t k = size * n < c->left ? size * n : c->left;

    memset(p, ' ', k);
    c->left -= k;
    return k;
}

Test(integration_server, body_limit)
{
    const size_t cap = 8u << 20;
    char *big = malloc(cap + 1);
    struct curl_slist *hdrs = NULL;
    struct chunked ck = {cap + 1};
    static struct resp r;
    char url[256];
    CURL *h;

    cr_assert_not_null(big);
    start_server(NULL);
    h = client();
    /* exactly the cap is read, and is just not an AdmissionReview */
    memset(big, ' ', cap);
    big[0] = '{';
    big[cap - 1] = '}';
    request(h, &r, "POST", P_SNAP, "application/json", big, cap);
    cr_expect_eq(r.status, 400, "at the cap: %ld %s", r.status, r.body);
    /* one byte more, announced by Content-Length: refused up front */
    big[cap] = ' ';
    request(h, &r, "POST", P_SNAP, "application/json", big, cap + 1);
    cr_expect_eq(r.status, 413, "%ld %s", r.status, r.body);
    cr_expect_not_null(strstr(r.body, "too large"));
    curl_easy_cleanup(h);
    /* one byte more, chunked: counted while it streams in */
    h = client();
    snprintf(url, sizeof(url), "https://" SVC ":%d" P_MUTATE, t.port);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    memset(&r, 0, sizeof(r));
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_zeros);
    curl_easy_setopt(h, CURLOPT_READDATA, &ck);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    cr_expect_eq(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    cr_expect_eq(r.status, 413, "chunked: %ld %s", r.status, r.body);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(big);
    cr_expect_eq(metric("vmsnapd_admission_requests_total{path=\"" P_SNAP
                        "\",kind=\"\",operation=\"\",result=\"error\","
                        "code=\"413\"}"),
                 1);
}

/* ---- TLS ---------------------------------------------------------------- */

Test(integration_server, tls_versions_and_suites)
{
    static const struct {
        const char *name;
        long version; /* CURLOPT_SSLVERSION */
        const char *ciphers;
        int ok;
    } rows[] = {
        {"TLS 1.2", CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2, NULL,
         1},
        {"TLS 1.3", CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3, NULL,
         1},
        {"TLS 1.2 CBC suite",
         CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2,
         "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384", 0},
    };

    start_server(NULL);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        static struct resp r;
        CURL *h = client();

        curl_easy_setopt(h, CURLOPT_SSLVERSION, rows[i].version);
        if (rows[i].ciphers)
            curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, rows[i].ciphers);
        request(h, &r, "GET", "/healthz", NULL, NULL, 0);
        if (rows[i].ok)
            cr_expect(r.rc == CURLE_OK && r.status == 200, "%s: %s",
                      rows[i].name, curl_easy_strerror(r.rc));
        else
            cr_expect_neq(r.rc, CURLE_OK, "%s: accepted", rows[i].name);
        curl_easy_cleanup(h);
    }
    /* the refused suite is a failed handshake on the server's side */
    wait_metric_at_least("vmsnapd_tls_handshake_failures_total", 1);
}

/* ---- metrics and logs --------------------------------------------------- */

Test(integration_server, metrics_content)
{
    static struct resp r;
    char crt[192];

    start_server(NULL);
    post_file(&r, P_SNAP, SNAP);
    post_file(&r, P_SNAP, SNAP);
    post_file(&r, P_CONTENT, CONTENT);
    post_file(&r, P_MUTATE, MUTATE);
    {
        CURL *h = client();

        request(h, &r, "POST", P_RESTORE, "text/plain", "x", 1);
        curl_easy_cleanup(h);
    }
    cr_expect_eq(metric("vmsnapd_admission_requests_total{path=\"" P_SNAP
                        "\",kind=\"VirtualMachineSnapshot\",operation="
                        "\"CREATE\",result=\"allowed\",code=\"200\"}"),
                 2);
    cr_expect_eq(metric("vmsnapd_admission_requests_total{path=\"" P_CONTENT
                        "\",kind=\"VirtualMachineSnapshotContent\",operation="
                        "\"CREATE\",result=\"denied\",code=\"403\"}"),
                 1);
    cr_expect_eq(metric("vmsnapd_admission_requests_total{path=\"" P_MUTATE
                        "\",kind=\"VirtualMachineSnapshot\",operation="
                        "\"CREATE\",result=\"allowed\",code=\"200\"}"),
                 1);
    cr_expect_eq(metric("vmsnapd_admission_requests_total{path=\"" P_RESTORE
                        "\",kind=\"\",operation=\"\",result=\"error\","
                        "code=\"415\"}"),
                 1);
    cr_expect_eq(
        metric("vmsnapd_admission_duration_seconds_count{path=\"" P_SNAP "\"}"),
        2);
    cr_expect_eq(
        metric("vmsnapd_admission_duration_seconds_bucket{path=\"" P_SNAP
               "\",le=\"+Inf\"}"),
        2);
    cr_expect_geq(
        metric("vmsnapd_admission_duration_seconds_sum{path=\"" P_SNAP "\"}"),
        0);
    snprintf(crt, sizeof(crt), "%s/..gen1/tls.crt", t.secret);
    cr_expect_eq(metric("vmsnapd_serving_certificate_expiry_timestamp_seconds"),
                 (double)not_after(crt));
    cr_expect_eq(metric("vmsnapd_tls_handshake_failures_total"), 0);
    cr_expect_eq(metric("vmsnapd_certificate_reloads_total"), 0);
    cr_expect_eq(metric("vmsnapd_policy_reload_failures_total"), 0);
    cr_expect_geq(metric("vmsnapd_open_connections"), 1); /* ours */
    get(&r, "/readyz");
    cr_expect_str_eq(r.body, "ok\n");
    get(&r, "/healthz");
    cr_expect_str_eq(r.body, "ok\n");
}

Test(integration_server, logs_denials_and_never_bodies)
{
    static struct resp r;
    char *log, *line, *save = NULL;
    int denied = 0, admitted = 0;

    start_server("--log-level", "debug", NULL);
    post_file(&r, P_SNAP, SNAP);
    post_file(&r, P_CONTENT, CONTENT);
    stop_server();
    log = it_slurp(t.log, NULL);
    for (line = strtok_r(log, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "msg"));
        const char *lvl = json_string_value(json_object_get(j, "level"));
        const char *uid = json_string_value(json_object_get(j, "uid"));

        cr_assert_not_null(j, "not JSON: %s", line);
        /* objects stay out of logs: none of their fields shows up */
        cr_expect_null(strstr(line, "managedFields"), "%s", line);
        cr_expect_null(strstr(line, "my-vm-rootdisk"), "%s", line);
        if (msg && strcmp(msg, "denied") == 0) {
            denied++;
            cr_expect_str_eq(lvl, "info");
            cr_expect_str_eq(uid, CONTENT_UID);
            cr_expect_str_eq(json_string_value(json_object_get(j, "kind")),
                             "VirtualMachineSnapshotContent");
            cr_expect_str_eq(json_string_value(json_object_get(j, "operation")),
                             "CREATE");
            cr_expect_str_eq(json_string_value(json_object_get(j, "namespace")),
                             "default");
            cr_expect_eq(json_integer_value(json_object_get(j, "code")), 403);
            cr_expect_str_eq(json_string_value(json_object_get(j, "path")),
                             P_CONTENT);
            cr_expect(json_is_number(json_object_get(j, "latency")));
            cr_expect_not_null(json_object_get(j, "name"));
        }
        if (msg && strcmp(msg, "admitted") == 0) {
            admitted++;
            cr_expect_str_eq(lvl, "debug");
            cr_expect_str_eq(uid, SNAP_UID);
        }
        json_decref(j);
    }
    cr_expect_eq(denied, 1);
    cr_expect_eq(admitted, 1);
    free(log);
}

/* The log line holding needle, cut at its end (in log), or NULL. */
static char *log_line(char *log, const char *needle)
{
    char *p = strstr(log, needle), *end;

    if (!p)
        return NULL;
    while (p > log && p[-1] != '\n')
        p--;
    end = strchr(p, '\n');
    if (end)
        *end = '\0';
    return p;
}

/* At info, logs say where and how much, never what: no fragment of a
 * body that is not JSON (jansson quotes it "near"), no denial message
 * (it quotes the object's values). */
Test(integration_server, info_logs_hold_no_user_data)
{
    static const char bad[] = "{\"request\": SECRET-FRAGMENT}";
    static struct resp r;
    char *log, *line, bytes[32];
    CURL *h;

    snprintf(bytes, sizeof(bytes), "\"bytes\":%zu", sizeof(bad) - 1);
    start_server(NULL);
    h = client();
    request(h, &r, "POST", P_SNAP, "application/json", bad, sizeof(bad) - 1);
    cr_expect_eq(r.status, 400);
    curl_easy_cleanup(h);
    post_file(&r, P_CONTENT, CONTENT);
    cr_expect_eq(r.status, 200);
    stop_server();
    log = it_slurp(t.log, NULL);
    cr_expect_null(strstr(log, "SECRET"), "%s", log);
    line = log_line(log, "\"msg\":\"not an AdmissionReview\"");
    cr_expect(line && strstr(line, bytes), "%s", line);
    free(log);
    log = it_slurp(t.log, NULL);
    line = log_line(log, "\"msg\":\"denied\"");
    cr_expect(line && !strstr(line, "\"message\""), "%s", line);
    free(log);
}

/* ---- certificate rotation ----------------------------------------------- */

struct load {
    pthread_t thread;
    atomic_int stop, ok, failed;
    char first_error[256];
    char *body;
    size_t len;
};

/* Keeps posting, a new connection (full handshake) each time. */
static void *keep_posting(void *arg)
{
    struct load *l = arg;
    CURL *h = client();
    static struct resp r; /* this thread's own: one load per test */

    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    while (!l->stop) {
        request(h, &r, "POST", P_SNAP, "application/json", l->body, l->len);
        if (r.rc == CURLE_OK && r.status == 200 && strstr(r.body, SNAP_UID)) {
            l->ok++;
            continue;
        }
        if (!l->failed++)
            snprintf(l->first_error, sizeof(l->first_error), "%s, status %ld",
                     curl_easy_strerror(r.rc), r.status);
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* The subject a new connection (no resumption) sees. */
static void subject_now(char *buf, size_t len)
{
    static struct resp r;
    CURL *h = client();

    curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    request(h, &r, "GET", "/healthz", NULL, NULL, 0);
    cr_assert_eq(r.status, 200, "%s", curl_easy_strerror(r.rc));
    snprintf(buf, len, "%s", r.subject);
    curl_easy_cleanup(h);
}

static void wait_subject(const char *cn)
{
    double end = it_now() + DEADLINE;
    char subject[256];

    for (subject_now(subject, sizeof(subject)); !strstr(subject, cn);
         subject_now(subject, sizeof(subject))) {
        cr_assert_lt(it_now(), end, "still %s, want %s; log:\n%s", subject, cn,
                     it_slurp(t.log, NULL));
        it_nap(50);
    }
}

static void wait_ok(struct load *l, int more)
{
    int want = l->ok + more;
    double end = it_now() + DEADLINE;

    while (l->ok < want && !l->failed) {
        cr_assert_lt(it_now(), end, "load stalled");
        it_nap(10);
    }
}

Test(integration_server, rotation_under_load)
{
    static struct load l;
    static struct resp r;
    char crt[192];
    CURL *kept;

    start_server(NULL);
    l.body = it_slurp(SNAP, &l.len);
    /* a keep-alive connection from before the rotation */
    kept = client();
    request(kept, &r, "POST", P_SNAP, "application/json", l.body, l.len);
    cr_assert_eq(r.status, 200);
    cr_expect_not_null(strstr(r.subject, "vmsnapd-gen1"), "%s", r.subject);
    cr_assert_eq(pthread_create(&l.thread, NULL, keep_posting, &l), 0);
    wait_ok(&l, 5);
    make_pair("..gen2", "vmsnapd-gen2", 3);
    swap_data("..gen2");
    wait_subject("vmsnapd-gen2");
    wait_ok(&l, 5); /* handshakes with the new pair under way */
    l.stop = 1;
    pthread_join(l.thread, NULL);
    cr_expect_eq(l.failed, 0, "%d of %d requests failed, first: %s", l.failed,
                 l.ok + l.failed, l.first_error);
    /* the old connection still works on the pair it started with */
    request(kept, &r, "POST", P_SNAP, "application/json", l.body, l.len);
    cr_expect_eq(r.status, 200);
    cr_expect_eq(r.connects, 0, "the kept connection was dropped");
    curl_easy_cleanup(kept);
    snprintf(crt, sizeof(crt), "%s/..gen2/tls.crt", t.secret);
    cr_expect_eq(metric("vmsnapd_certificate_reloads_total"), 1);
    cr_expect_eq(metric("vmsnapd_certificate_reload_failures_total"), 0);
    cr_expect_eq(metric("vmsnapd_serving_certificate_expiry_timestamp_seconds"),
                 (double)not_after(crt));
    free(l.body);
}

Test(integration_server, broken_pair_is_refused_and_old_kept)
{
    static const struct {
        const char *name;
        const char *make; /* shell, run in the new generation's dir */
    } broken[] = {
        {"key of another pair",
         "cp ../..gen2/tls.crt . && openssl genpkey -algorithm EC -pkeyopt "
         "ec_paramgen_curve:P-256 -out tls.key 2>/dev/null"},
        {"certificate not PEM",
         "echo garbage > tls.crt && cp ../..gen2/tls.key ."},
        {"files missing", "true"},
    };
    char subject[256];

    start_server(NULL);
    make_pair("..gen2", "vmsnapd-gen2", 2); /* made, never put in place */
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        char gen[32];

        snprintf(gen, sizeof(gen), "..bad%zu", i);
        it_sh("mkdir %s/%s && cd %s/%s && %s", t.secret, gen, t.secret, gen,
           broken[i].make);
        swap_data(gen);
        wait_metric_at_least("vmsnapd_certificate_reload_failures_total",
                             (double)i + 1);
        subject_now(subject, sizeof(subject)); /* asserts 200 */
        cr_expect_not_null(strstr(subject, "vmsnapd-gen1"), "%s: %s",
                           broken[i].name, subject);
    }
    cr_expect(log_has("certificate reload refused"));
    cr_expect_eq(metric("vmsnapd_certificate_reloads_total"), 0);
    /* a good pair after the bad ones is taken */
    make_pair("..gen3", "vmsnapd-gen3", 2);
    swap_data("..gen3");
    wait_subject("vmsnapd-gen3");
    cr_expect_eq(metric("vmsnapd_certificate_reloads_total"), 1);
}

/* ---- policy reload ------------------------------------------------------ */

static const char policy_default[] =
    "content:\n  controllerUsers: [\"system:serviceaccount:vmsnapd-system:"
    "vmsnapd\"]\n";
static const char policy_admin[] = "content:\n  controllerUsers: [admin]\n";
static const char policy_broken[] = "content:\n  controllerUser: [admin]\n";

/* Whether the content review (created by admin) is allowed now. */
static int content_allowed(void)
{
    static struct resp r;

    post_file(&r, P_CONTENT, CONTENT);
    cr_assert_eq(r.status, 200, "%s", r.body);
    return strstr(r.body, "\"allowed\":true") != NULL;
}

static void wait_allowed(int want)
{
    double end = it_now() + DEADLINE;

    while (content_allowed() != want) {
        cr_assert_lt(it_now(), end, "allowed never became %d; log:\n%s", want,
                     it_slurp(t.log, NULL));
        it_nap(50);
    }
}

Test(integration_server, sighup_reloads_policy_and_certificates)
{
    char policy[192];

    snprintf(policy, sizeof(policy), "%s/policy.yaml", t.dir);
    it_spit(policy, policy_default);
    /* no polling within the test: only SIGHUP reloads */
    start_server("--policy", policy, "--reload-interval", "1h", NULL);
    cr_expect_not(content_allowed());
    it_spit(policy, policy_admin);
    cr_assert_eq(kill(t.pid, SIGHUP), 0);
    wait_allowed(1);
    cr_expect_eq(metric("vmsnapd_policy_reloads_total"), 1);
    /* SIGHUP re-reads the pair too, changed or not */
    cr_expect_eq(metric("vmsnapd_certificate_reloads_total"), 1);
    /* a broken policy is refused; the last good one stays */
    it_spit(policy, policy_broken);
    cr_assert_eq(kill(t.pid, SIGHUP), 0);
    wait_metric_at_least("vmsnapd_policy_reload_failures_total", 1);
    cr_expect(content_allowed());
    cr_expect(log_has("policy reload refused"));
    cr_expect_eq(metric("vmsnapd_policy_reloads_total"), 1);
    /* so is an empty one (a rewrite caught half-way), not "all defaults" */
    it_spit(policy, "");
    cr_assert_eq(kill(t.pid, SIGHUP), 0);
    wait_metric_at_least("vmsnapd_policy_reload_failures_total", 2);
    cr_expect(content_allowed());
    cr_expect(log_has("the policy file is empty"));
}

Test(integration_server, policy_file_change_is_picked_up)
{
    char policy[192];

    snprintf(policy, sizeof(policy), "%s/policy.yaml", t.dir);
    it_spit(policy, policy_default);
    start_server("--policy", policy, NULL);
    cr_expect_not(content_allowed());
    it_spit(policy, policy_admin);
    wait_allowed(1);
    it_spit(policy, policy_broken);
    wait_metric_at_least("vmsnapd_policy_reload_failures_total", 1);
    cr_expect(content_allowed());
    it_spit(policy, policy_default);
    wait_allowed(0);
    cr_expect_eq(metric("vmsnapd_policy_reloads_total"), 2);
}

Test(integration_server, refuses_to_start_on_a_bad_policy)
{
    char policy[192];
    int st;

    snprintf(policy, sizeof(policy), "%s/policy.yaml", t.dir);
    it_spit(policy, policy_broken);
    t.pid = fork();
    cr_assert_geq(t.pid, 0);
    if (t.pid == 0) {
        int fd = open(t.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char cert[192], key[192];

        snprintf(cert, sizeof(cert), "%s/tls.crt", t.secret);
        snprintf(key, sizeof(key), "%s/tls.key", t.secret);
        dup2(fd, 2);
        execl(getenv("VMSNAPD"), "vmsnapd", "serve", "--listen", "127.0.0.1:0",
              "--tls-cert-file", cert, "--tls-key-file", key, "--policy",
              policy, (char *)NULL);
        _exit(127);
    }
    st = wait_exit();
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x", st);
    cr_expect(log_has("controllerUser"), "%s", it_slurp(t.log, NULL));
    t.status = 0; /* the refusal was the point */
}

/* ---- graceful shutdown -------------------------------------------------- */

struct slow {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int half_sent, release;
    char *body;
    size_t len, off;
    struct resp r;
};

/* Sends the first half, then holds the rest until released: a request
 * in flight for as long as the test wants. */
static size_t read_slow(char *p, size_t size, size_t n, void *ud)
{
    struct slow *s = ud;
    size_t k, half = s->len / 2;

    pthread_mutex_lock(&s->lock);
    if (s->off >= half) {
        s->half_sent = 1; /* asked for more: the first half is out */
        pthread_cond_broadcast(&s->cond);
        while (!s->release)
            pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    k = (s->off < half ? half : s->len) - s->off;
    if (k > size * n)
        k = size * n;
    memcpy(p, s->body + s->off, k);
    s->off += k;
    return k;
}

static void *post_slowly(void *arg)
{
    struct slow *s = arg;
    struct curl_slist *hdrs = NULL;
    CURL *h = client();
    char url[256];

    snprintf(url, sizeof(url), "https://" SVC ":%d" P_SNAP, t.port);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_slow);
    curl_easy_setopt(h, CURLOPT_READDATA, s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s->r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s->r);
    s->r.rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s->r.status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    return NULL;
}

/* Whether a new TCP connection to the port is refused. */
static int refused(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)t.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

    cr_assert_geq(fd, 0);
    rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    close(fd);
    return rc != 0 && errno == ECONNREFUSED;
}

Test(integration_server, sigterm_drains)
{
    static struct slow s;
    static struct resp r;
    char buf[64];
    double end;
    CURL *idle;
    int st;

    start_server("--shutdown-delay", "5s", "--grace-period", "25s", NULL);
    s.body = it_slurp(SNAP, &s.len);
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    /* an idle keep-alive connection, to be closed by the drain */
    idle = client();
    request(idle, &r, "POST", P_SNAP, "application/json", s.body, s.len);
    cr_assert_eq(r.status, 200);
    /* a request in flight: headers and half its body sent */
    cr_assert_eq(pthread_create(&s.thread, NULL, post_slowly, &s), 0);
    pthread_mutex_lock(&s.lock);
    while (!s.half_sent)
        pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);

    cr_assert_eq(kill(t.pid, SIGTERM), 0);
    /* not ready at once, but still serving through the shutdown delay */
    end = it_now() + DEADLINE;
    for (get(&r, "/readyz"); r.status != 503; get(&r, "/readyz")) {
        cr_assert_lt(it_now(), end, "readyz stayed %ld", r.status);
        it_nap(20);
    }
    post_file(&r, P_MUTATE, MUTATE);
    cr_expect_eq(r.status, 200, "during the delay: %s",
                 curl_easy_strerror(r.rc));
    get(&r, "/healthz");
    cr_expect_eq(r.status, 200);
    /* then new connections are refused... */
    end = it_now() + DEADLINE;
    while (!refused()) {
        cr_assert_lt(it_now(), end, "still accepting");
        it_nap(20);
    }
    /* ...and the request in flight is answered, closing its connection */
    pthread_mutex_lock(&s.lock);
    s.release = 1;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    pthread_join(s.thread, NULL);
    cr_expect_eq(s.r.rc, CURLE_OK, "%s", curl_easy_strerror(s.r.rc));
    cr_expect_eq(s.r.status, 200, "%s", s.r.body);
    cr_expect_not_null(strstr(s.r.body, SNAP_UID));
    cr_expect_str_eq(header(&s.r, "Connection", buf, sizeof(buf)), "close");
    st = wait_exit();
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    /* the idle connection did not hold the exit until the grace period */
    cr_expect_not(log_has("grace period over"), "%s", it_slurp(t.log, NULL));
    cr_expect(log_has("\"msg\":\"stopped\""));
    curl_easy_cleanup(idle);
    free(s.body);
}

/* A request still open when the grace period ends is cut: the log says
 * so and the exit status is not 0, so the cut shows in the pod's
 * termination record and not only in a log line. */
Test(integration_server, grace_period_over_is_an_error)
{
    static struct slow s;
    int st;

    start_server("--grace-period", "1s", NULL);
    s.body = it_slurp(SNAP, &s.len);
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    cr_assert_eq(pthread_create(&s.thread, NULL, post_slowly, &s), 0);
    pthread_mutex_lock(&s.lock);
    while (!s.half_sent)
        pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
    cr_assert_eq(kill(t.pid, SIGTERM), 0);
    st = wait_exit(); /* the request is held back all along */
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %#x; log:\n%s",
              st, it_slurp(t.log, NULL));
    cr_expect(log_has("grace period over with requests open"), "%s",
              it_slurp(t.log, NULL));
    pthread_mutex_lock(&s.lock);
    s.release = 1;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    pthread_join(s.thread, NULL);
    cr_expect_neq(s.r.status, 200, "the cut request was answered");
    t.status = 0; /* checked above; teardown wants 0 */
    free(s.body);
}

/* ---- idle timeout ------------------------------------------------------- */

/* A raw TLS client (OpenSSL): for what no HTTP client does on purpose,
 * like stalling, or showing whether a session was resumed. */
struct tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

/* Connects and shakes hands, verifying SVC against the test CA; resumes
 * session when not NULL. */
static void tls_open(struct tls *c, SSL_SESSION *session)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)t.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {DEADLINE, 0};
    char ca[128];

    c->ctx = SSL_CTX_new(TLS_client_method());
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    snprintf(ca, sizeof(ca), "%s/ca.crt", t.dir);
    cr_assert(c->ctx && c->fd >= 0);
    cr_assert_eq(SSL_CTX_load_verify_locations(c->ctx, ca, NULL), 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, SVC);
    SSL_set1_host(c->ssl, SVC);
    if (session)
        SSL_set_session(c->ssl, session);
    cr_assert_eq(SSL_connect(c->ssl), 1);
}

static void tls_close(struct tls *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
}

/* Sends what, then waits up to DEADLINE for the server to hang up.
 * Returns 1 when it did. */
static int cut_off_after(const char *what)
{
    struct tls c;
    char buf[256];
    int n, closed;

    tls_open(&c, NULL);
    if (*what)
        cr_assert_eq(SSL_write(c.ssl, what, (int)strlen(what)),
                     (int)strlen(what));
    errno = 0;
    n = SSL_read(c.ssl, buf, sizeof(buf));
    /* EOF or a reset; a read timeout (EAGAIN) means it was never cut */
    closed = n <= 0 && errno != EAGAIN && errno != EWOULDBLOCK;
    tls_close(&c);
    return closed;
}

/* One GET /healthz on a new connection, resuming session if given;
 * returns the session to resume next time (a new reference) and whether
 * this one was resumed. */
static SSL_SESSION *healthz_tls(SSL_SESSION *session, int *resumed)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: " SVC "\r\n\r\n";
    struct tls c;
    char buf[1024];
    size_t got = 0;
    int n = 1;

    tls_open(&c, session);
    cr_assert_eq(SSL_write(c.ssl, req, (int)sizeof(req) - 1),
                 (int)sizeof(req) - 1);
    /* the whole answer: TLS 1.3 tickets come after the handshake */
    buf[0] = '\0';
    while (!strstr(buf, "\r\n\r\nok\n") && n > 0 && got < sizeof(buf) - 1) {
        n = SSL_read(c.ssl, buf + got, (int)(sizeof(buf) - 1 - got));
        got += n > 0 ? (size_t)n : 0;
        buf[got] = '\0';
    }
    cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
    *resumed = SSL_session_reused(c.ssl);
    session = SSL_get1_session(c.ssl);
    SSL_shutdown(c.ssl); /* an unclean end would void the session */
    tls_close(&c);
    return session;
}

Test(integration_server, resumes_tls_sessions_until_a_rotation)
{
    SSL_SESSION *s1, *s2, *s3;
    int resumed;

    start_server(NULL);
    s1 = healthz_tls(NULL, &resumed);
    cr_expect_not(resumed);
    s2 = healthz_tls(s1, &resumed);
    cr_expect(resumed, "a ticket from this server was not honoured");
    /* a new pair brings a new ticket key: no resuming into the old one */
    make_pair("..gen2", "vmsnapd-gen2", 2);
    swap_data("..gen2");
    wait_subject("vmsnapd-gen2");
    s3 = healthz_tls(s2, &resumed);
    cr_expect_not(resumed, "resumed a session of the replaced pair");
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s3);
}

Test(integration_server, idle_timeout_cuts_stalled_clients)
{
    static const char *const stalls[] = {
        /* headers in, the body never comes */
        "POST " P_SNAP " HTTP/1.1\r\nHost: " SVC "\r\nContent-Type: "
        "application/json\r\nContent-Length: 100\r\n\r\n{\"kind\":",
        /* headers never finished */
        "POST " P_SNAP " HTTP/1.1\r\nHost: " SVC "\r\nContent-Ty",
        /* nothing at all after the handshake */
        "",
    };

    start_server("--idle-timeout", "1s", NULL);
    for (size_t i = 0; i < sizeof(stalls) / sizeof(stalls[0]); i++)
        cr_expect(cut_off_after(stalls[i]), "stall %zu was not cut off", i);
    {
        static struct resp r;

        get(&r, "/healthz"); /* and it still serves */
        cr_expect_eq(r.status, 200);
    }
}

/* ---- concurrency -------------------------------------------------------- */

#define PARALLEL 100

Test(integration_server, hundred_parallel_connections)
{
    static struct resp r[PARALLEL];
    CURL *h[PARALLEL];
    CURLM *multi = curl_multi_init();
    size_t len;
    char *body = it_slurp(RESTORE, &len);
    int running = 1, ok = 0;
    long connects = 0;

    start_server(NULL);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    for (int i = 0; i < PARALLEL; i++) {
        struct curl_slist *hdrs =
            curl_slist_append(NULL, "Content-Type: application/json");
        char url[256];

        snprintf(url, sizeof(url), "https://" SVC ":%d" P_RESTORE, t.port);
        h[i] = client();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h[i], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, hdrs);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &r[i]);
        curl_multi_add_handle(multi, h[i]);
    }
    while (running) {
        cr_assert_eq(curl_multi_perform(multi, &running), CURLM_OK);
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    for (int i = 0; i < PARALLEL; i++) {
        struct curl_slist *hdrs = NULL;
        long c = 0;

        curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &r[i].status);
        curl_easy_getinfo(h[i], CURLINFO_NUM_CONNECTS, &c);
        curl_easy_getinfo(h[i], CURLINFO_PRIVATE, (char **)&hdrs);
        connects += c;
        ok += r[i].status == 200 && strstr(r[i].body, RESTORE_UID) != NULL;
        curl_multi_remove_handle(multi, h[i]);
        curl_easy_cleanup(h[i]);
        curl_slist_free_all(hdrs);
    }
    curl_multi_cleanup(multi);
    free(body);
    cr_expect_eq(ok, PARALLEL, "%d of %d answered", ok, PARALLEL);
    cr_expect_eq(connects, PARALLEL, "only %ld connections", connects);
}
