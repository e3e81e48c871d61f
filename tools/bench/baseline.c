/* tools/bench/baseline.c - the ceiling `make bench` compares vmsnapd to:
 * libmicrohttpd over GnuTLS with vmsnapd's thread model (a thread pool,
 * one thread per CPU, in WH_SERVER_MHD_LOOP) and TLS priorities, answering
 * every POST with one constant AdmissionReview after reading the body. No JSON,
 * no rules, no metrics: what is left is the cost of the stack we build on.
 *
 * usage: baseline CERT KEY PORT   (runs until SIGTERM/SIGINT) */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "webhook/server.h" /* the same TLS suites and worker loop */

static const char answer[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
    "\"response\":{\"uid\":\"e16ae29e-5e2c-40a2-93a7-000000000000\","
    "\"allowed\":true}}";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static char *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 65536);

    if (!f || !buf || fread(buf, 1, 65535, f) == 0) {
        fprintf(stderr, "baseline: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return buf;
}

/* Reads the body (dropping it) and answers once it has all arrived. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **state)
{
    static int started;
    struct MHD_Response *r = cls;

    (void)url;
    (void)method;
    (void)version;
    (void)data;
    if (!*state) {
        *state = &started; /* headers in: the body follows */
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, r);
}

int main(int argc, char **argv)
{
    struct MHD_Response *r;
    struct MHD_Daemon *d;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char *cert, *key;

    if (argc != 4) {
        fprintf(stderr, "usage: baseline CERT KEY PORT\n");
        return 2;
    }
    cert = load(argv[1]);
    key = load(argv[2]);
    r = MHD_create_response_from_buffer(sizeof(answer) - 1, (void *)answer,
                                        MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    d = MHD_start_daemon(
        MHD_USE_TLS | WH_SERVER_MHD_LOOP | MHD_USE_ITC,
        (uint16_t)strtol(argv[3], NULL, 10), NULL, NULL, on_request, r,
        MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
        MHD_OPTION_HTTPS_PRIORITIES, WH_SERVER_TLS_PRIORITIES,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cpus > 0 ? cpus : 1),
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "baseline: MHD_start_daemon failed\n");
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(r);
    free(cert);
    free(key);
    return 0;
}
