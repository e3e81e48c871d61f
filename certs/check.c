/* certs/check.c - what a TLS client would object to in a serving pair,
 * said in one line per finding, before the API server says it worse
 * ("x509: certificate signed by unknown authority"). */
#include "certs/certs.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certs/internal.h"

static void add(struct certs_report *r, enum certs_severity sev,
                const char *fmt, ...) KUBE_PRINTF(3, 4);

static void add(struct certs_report *r, enum certs_severity sev,
                const char *fmt, ...)
{
    struct certs_finding *f;
    va_list ap;

    assert(r->n < CERTS_MAX_FINDINGS); /* each check adds at most two */
    f = &r->items[r->n++];
    f->severity = sev;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap); /* cut is fine */
    va_end(ap);
    if (sev == CERTS_PROBLEM)
        r->problems++;
}

static void check_key(struct certs_report *r, const struct certs_check_in *in)
{
    const EVP_PKEY *pub = X509_get0_pubkey(in->crt); /* get0 */

    if (!pub || EVP_PKEY_eq(pub, in->key) != 1)
        add(r, CERTS_PROBLEM, "%s does not match %s", in->key_name,
            in->crt_name);
    ERR_clear_error(); /* a type mismatch queues an error we have said */
}

static int is_ip(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* RFC 6125 through OpenSSL: SANs only (never the CN), and a wildcard only
 * as the whole left-most label, matching exactly one label. */
static int check_host(struct certs_report *r, const struct certs_check_in *in,
                      struct kube_err *err)
{
    const unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
                           X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    struct certs_names have = {0};
    char list[700];
    int match, rc;

    if (is_ip(in->host))
        match = X509_check_ip_asc(in->crt, in->host, 0);
    else
        match =
            X509_check_host(in->crt, in->host, strlen(in->host), flags, NULL);
    ERR_clear_error();
    if (match == 1)
        return KUBE_OK;
    rc = certs_names_add_from_crt(&have, in->crt, err);
    if (rc == KUBE_OK) {
        certs_names_join(list, sizeof(list), &have);
        add(r, CERTS_PROBLEM,
            "host \"%.200s\" is not in the certificate's SANs (has: %s)",
            in->host, list);
    }
    certs_names_free(&have);
    return rc;
}

/* Dates are judged by check_dates(), so an expired certificate is reported
 * as expired, not as a chain failure. A --ca that is itself an
 * intermediate is accepted as the anchor (PARTIAL_CHAIN). */
static int check_chain(struct certs_report *r, const struct certs_check_in *in,
                       struct kube_err *err)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = KUBE_OK;

    /* add_cert takes its own reference to the CA */
    if (!store || !ctx || !X509_STORE_add_cert(store, in->ca) ||
        !X509_STORE_CTX_init(ctx, store, in->crt, NULL)) {
        rc = certs_ssl_err(err, KUBE_ENOMEM, "cannot set up verification");
        goto done;
    }
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
                                      X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_verify_cert(ctx) != 1)
        add(r, CERTS_PROBLEM, "certificate is not signed by %s: %s",
            in->ca_name,
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    ERR_clear_error();
done:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

static void check_purpose(struct certs_report *r,
                          const struct certs_check_in *in)
{
    /* no EKU extension reads as "any purpose" (UINT32_MAX) */
    if (!(X509_get_extended_key_usage(in->crt) & XKU_SSL_SERVER))
        add(r, CERTS_PROBLEM,
            "certificate's extended key usage does not include serverAuth");
}

/* what is "certificate" or "CA certificate ca.crt". */
static void check_dates(struct certs_report *r, X509 *crt, const char *what,
                        const struct certs_check_in *in)
{
    time_t now = in->now;
    time_t soon = now + (time_t)in->warn_days * 86400;
    const ASN1_TIME *nb = X509_get0_notBefore(crt);
    const ASN1_TIME *na = X509_get0_notAfter(crt);
    char date[64];
    long days = 0;

    if (X509_cmp_time(nb, &now) == 0 || X509_cmp_time(na, &now) == 0) {
        add(r, CERTS_PROBLEM, "%s has unreadable validity dates", what);
        return;
    }
    if (X509_cmp_time(nb, &now) > 0) {
        certs_time_str(date, sizeof(date), nb);
        add(r, CERTS_PROBLEM, "%s is not valid until %s", what, date);
    }
    certs_time_str(date, sizeof(date), na);
    if (X509_cmp_time(na, &now) < 0) {
        add(r, CERTS_PROBLEM, "%s has expired on %s", what, date);
    } else if (in->warn_days > 0 && X509_cmp_time(na, &soon) < 0) {
        if (certs_days_left(&days, crt, now, NULL) < 0)
            days = 0;
        add(r, CERTS_WARNING, "%s expires in %ld day%s, on %s", what, days,
            days == 1 ? "" : "s", date);
    }
}

int certs_check(struct certs_report *out, const struct certs_check_in *in,
                struct kube_err *err)
{
    char ca_what[300];
    int rc = KUBE_OK;

    assert(in->crt && in->crt_name);
    memset(out, 0, sizeof(*out));
    if (in->key)
        check_key(out, in);
    if (in->host)
        rc = check_host(out, in, err);
    if (rc == KUBE_OK && in->ca)
        rc = check_chain(out, in, err);
    if (rc < 0)
        return rc;
    check_purpose(out, in);
    check_dates(out, in->crt, "certificate", in);
    if (in->ca) {
        snprintf(ca_what, sizeof(ca_what), "CA certificate %.200s",
                 in->ca_name);
        check_dates(out, in->ca, ca_what, in);
    }
    return KUBE_OK;
}
