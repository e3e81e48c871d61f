/* tests/certs/certs.c - certs/: names, issuance, checks, files, caBundle
 * rewrites, and the `vmsnapd certs` verb run in-process. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "certs/certs.h"
#include "cmd/cmd.h"
#include "kube/file.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers --- */

/* A fresh CA and a serving certificate for vmsnapd.kubevirt, valid for
 * days (negative: expired), with extra DNS names and addresses. */
static void issue_pair(struct certs_pair *ca, struct certs_pair *srv,
                       enum certs_key_type type, long days,
                       const char *const *extra_dns,
                       const char *const *extra_ip)
{
    struct certs_names n = {0};
    struct certs_spec spec = {.key_type = type, .cn = "test-ca"};
    struct kube_err err = {0};
    time_t now = time(NULL);

    cr_assert_eq(certs_names_add_service(&n, "vmsnapd", "kubevirt", &err), 0,
                 "%s", err.msg);
    for (size_t i = 0; extra_dns && extra_dns[i]; i++)
        cr_assert_eq(certs_names_add_dns(&n, extra_dns[i], &err), 0, "%s",
                     err.msg);
    for (size_t i = 0; extra_ip && extra_ip[i]; i++)
        cr_assert_eq(certs_names_add_ip(&n, extra_ip[i], &err), 0, "%s",
                     err.msg);
    certs_spec_days(&spec, now, 3650);
    cr_assert_eq(certs_make_ca(ca, &spec, &err), 0, "%s", err.msg);
    spec.cn = "vmsnapd.kubevirt.svc";
    spec.names = &n;
    certs_spec_days(&spec, now, days);
    cr_assert_eq(certs_make_serving(srv, ca, &spec, &err), 0, "%s", err.msg);
    certs_names_free(&n);
}

static void fill_in(struct certs_check_in *in, const struct certs_pair *srv,
                    const struct certs_pair *ca)
{
    *in = (struct certs_check_in){
        .crt = srv->crt,
        .key = srv->key,
        .ca = ca ? ca->crt : NULL,
        .warn_days = 30,
        .now = time(NULL),
        .crt_name = "tls.crt",
        .key_name = "tls.key",
        .ca_name = "ca.crt",
    };
}

static void run_check(struct certs_report *r, const struct certs_check_in *in)
{
    struct kube_err err = {0};

    cr_assert_eq(certs_check(r, in, &err), 0, "%s", err.msg);
}

/* Returns non-zero when some finding of r reads exactly msg. */
static int has_finding(const struct certs_report *r, enum certs_severity sev,
                       const char *msg)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].severity == sev && strcmp(r->items[i].msg, msg) == 0)
            return 1;
    return 0;
}

static const char *findings(const struct certs_report *r)
{
    static char buf[4096];
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < r->n && used < sizeof(buf); i++) {
        int w =
            snprintf(buf + used, sizeof(buf) - used, "[%s] ", r->items[i].msg);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/vmsnapd-certs-test-XXXXXX";
    char *dir = mkdtemp(tmpl);

    cr_assert_not_null(dir);
    return strdup(dir);
}

/* Removes dir and the files in it (our tests make no subdirectories). */
static void rm_tmpdir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

#define PATHBUF 4096

/* dir/name in one of a few rotating buffers: for a path used at once.
 * Paths that must live on (argv arrays) go through path_to(). */
static char *path_in(const char *dir, const char *name)
{
    static char bufs[4][PATHBUF];
    static int next;
    char *p = bufs[next++ % 4];

    snprintf(p, PATHBUF, "%s/%s", dir, name);
    return p;
}

static char *path_to(char buf[PATHBUF], const char *dir, const char *name)
{
    snprintf(buf, PATHBUF, "%s/%s", dir, name);
    return buf;
}

static char *slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;

    cr_assert_eq(kube_file_read(&buf, &n, path, CERTS_MAX_FILE, NULL), 0,
                 "read %s", path);
    if (len)
        *len = n;
    return buf;
}

static void serial_of(char *buf, size_t size, const char *path)
{
    X509 *crt = NULL;

    cr_assert_eq(certs_load_crt(&crt, path, NULL), 0, "load %s", path);
    certs_serial_str(buf, size, crt);
    X509_free(crt);
}

/* --- certs_names --- */

static const struct {
    const char *name, *in, *msg; /* msg: "" when accepted */
} dns_cases[] = {
    {"service form", "vmsnapd.kubevirt.svc", ""},
    {"upper case is fine in extra names", "Webhook.Example.COM", ""},
    {"wildcard left-most", "*.example.com", ""},
    {"single label", "localhost", ""},
    {"empty", "", "DNS name \"\" is empty"},
    {"empty label", "a..b", "DNS name \"a..b\" has a label \"\" that is empty"},
    {"trailing dot", "a.b.",
     "DNS name \"a.b.\" has a label \"\" that is empty"},
    {"comma cannot smuggle a second name", "a,DNS:evil",
     "DNS name \"a,DNS:evil\" has a label \"a,DNS:evil\" that has characters "
     "other than letters, digits and '-'"},
    {"partial wildcard", "f*.example.com",
     "DNS name \"f*.example.com\" has a label \"f*\" that has a '*' that is "
     "not the whole left-most label"},
    {"wildcard not left-most", "a.*.com",
     "DNS name \"a.*.com\" has a label \"*\" that has a '*' that is not the "
     "whole left-most label"},
    {"leading hyphen", "-a.b",
     "DNS name \"-a.b\" has a label \"-a\" that starts or ends with '-'"},
    {"label of 64",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
     "DNS name "
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     ".b\" has a label \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaa\" that is longer than 63 characters"},
};

Test(certs_names, dns_table)
{
    for (size_t i = 0; i < NROWS(dns_cases); i++) {
        struct certs_names n = {0};
        struct kube_err err = {0};
        int rc = certs_names_add_dns(&n, dns_cases[i].in, &err);

        if (!dns_cases[i].msg[0]) {
            cr_expect_eq(rc, KUBE_OK, "%s: %s", dns_cases[i].name, err.msg);
            cr_expect_eq(n.n_dns, 1, "%s", dns_cases[i].name);
        } else {
            cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", dns_cases[i].name, rc);
            cr_expect_str_eq(err.msg, dns_cases[i].msg, "%s",
                             dns_cases[i].name);
            cr_expect_eq(n.n_dns, 0, "%s", dns_cases[i].name);
        }
        certs_names_free(&n);
    }
}

static const struct {
    const char *name, *in, *canonical; /* canonical NULL: rejected */
} ip_cases[] = {
    {"v4", "10.0.0.1", "10.0.0.1"},
    {"v6 loopback", "::1", "::1"},
    {"v6 long form is canonicalised", "fd00:0:0:0:0:0:0:1", "fd00::1"},
    {"short v4", "1.2.3", NULL},
    {"hostname", "example.com", NULL},
    {"v4 with port", "10.0.0.1:443", NULL},
    {"empty", "", NULL},
};

Test(certs_names, ip_table)
{
    for (size_t i = 0; i < NROWS(ip_cases); i++) {
        struct certs_names n = {0};
        struct kube_err err = {0};
        int rc = certs_names_add_ip(&n, ip_cases[i].in, &err);

        if (ip_cases[i].canonical) {
            cr_expect_eq(rc, KUBE_OK, "%s: %s", ip_cases[i].name, err.msg);
            cr_expect(n.n_ip == 1 &&
                          strcmp(n.ip[0], ip_cases[i].canonical) == 0,
                      "%s", ip_cases[i].name);
        } else {
            cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", ip_cases[i].name, rc);
            cr_expect(strstr(err.msg, "is not an IPv4 or IPv6 address"),
                      "%s: %s", ip_cases[i].name, err.msg);
        }
        certs_names_free(&n);
    }
}

Test(certs_names, service_names_and_dedup)
{
    struct certs_names n = {0};
    struct kube_err err = {0};
    char joined[512];

    cr_assert_eq(certs_names_add_service(&n, "vmsnapd", "kubevirt", &err), 0);
    cr_assert_eq(certs_names_add_dns(&n, "VMSNAPD.kubevirt", &err), 0);
    cr_assert_eq(certs_names_add_ip(&n, "10.0.0.1", &err), 0);
    cr_assert_eq(certs_names_add_ip(&n, "10.0.0.1", &err), 0);
    certs_names_join(joined, sizeof(joined), &n);
    cr_expect_str_eq(joined, "vmsnapd, vmsnapd.kubevirt, vmsnapd.kubevirt.svc, "
                             "vmsnapd.kubevirt.svc.cluster.local, 10.0.0.1");
    certs_names_free(&n);
    cr_expect_eq(certs_names_add_service(&n, "Vmsnapd", "kubevirt", &err),
                 KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "\"Vmsnapd\" is not a DNS label (a-z, 0-9, "
                              "'-'): it has upper-case letters");
    cr_expect_eq(certs_names_add_service(&n, "vmsnapd", "kube.virt", &err),
                 KUBE_EINVAL);
    cr_expect_eq(n.n_dns, 0);
    certs_names_join(joined, sizeof(joined), &n);
    cr_expect_str_eq(joined, "none");
    certs_names_free(&n);
}

Test(certs_names, join_cuts_visibly)
{
    struct certs_names n = {0};
    char small[20];

    cr_assert_eq(certs_names_add_service(&n, "vmsnapd", "kubevirt", NULL), 0);
    certs_names_join(small, sizeof(small), &n);
    cr_expect_eq(strlen(small), sizeof(small) - 1);
    cr_expect_str_eq(small + sizeof(small) - 4, "...");
    certs_names_free(&n);
}

/* --- certs_issue --- */

Test(certs_issue, ca_is_a_ca)
{
    struct certs_pair ca = {0}, srv = {0};

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    cr_expect_eq(X509_check_ca(ca.crt), 1);
    cr_expect(X509_get_key_usage(ca.crt) & KU_KEY_CERT_SIGN);
    cr_expect_eq(X509_check_ca(srv.crt), 0);
    cr_expect_eq(X509_get_extension_flags(ca.crt) & EXFLAG_SS, EXFLAG_SS,
                 "the CA signs itself");
    cr_expect_eq(X509_get_signature_nid(ca.crt), NID_ecdsa_with_SHA256);
    cr_expect(EVP_PKEY_is_a(ca.key, "EC"));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_issue, serving_extensions_ec)
{
    struct certs_pair ca = {0}, srv = {0};
    char name[64] = "";

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    cr_expect(X509_get_extended_key_usage(srv.crt) & XKU_SSL_SERVER);
    cr_expect_eq(X509_get_key_usage(srv.crt), KU_DIGITAL_SIGNATURE);
    cr_expect_eq(X509_get_signature_nid(srv.crt), NID_ecdsa_with_SHA256);
    cr_expect_eq(EVP_PKEY_get_bits(srv.key), 256);
    X509_NAME_get_text_by_NID(X509_get_subject_name(srv.crt), NID_commonName,
                              name, sizeof(name));
    cr_expect_str_eq(name, "vmsnapd.kubevirt.svc");
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_issue, rsa_variant)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_RSA, 365, NULL, NULL);
    cr_expect(EVP_PKEY_is_a(srv.key, "RSA"));
    cr_expect(EVP_PKEY_is_a(ca.key, "RSA"));
    cr_expect_eq(EVP_PKEY_get_bits(srv.key), 2048);
    cr_expect_eq(X509_get_key_usage(srv.crt),
                 KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
    cr_expect_eq(X509_get_signature_nid(srv.crt), NID_sha256WithRSAEncryption);
    fill_in(&in, &srv, &ca);
    in.host = "vmsnapd.kubevirt.svc";
    run_check(&r, &in);
    cr_expect_eq(r.n, 0, "%s", findings(&r));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_issue, serial_is_random_128_bits)
{
    struct certs_pair ca = {0}, a = {0}, b = {0};
    const ASN1_INTEGER *sa, *sb;
    BIGNUM *bn;

    issue_pair(&ca, &a, CERTS_KEY_EC, 365, NULL, NULL);
    certs_pair_free(&ca);
    issue_pair(&ca, &b, CERTS_KEY_EC, 365, NULL, NULL);
    sa = X509_get0_serialNumber(a.crt);
    sb = X509_get0_serialNumber(b.crt);
    cr_expect_neq(ASN1_INTEGER_cmp(sa, sb), 0);
    bn = ASN1_INTEGER_to_BN(sa, NULL);
    cr_assert_not_null(bn);
    cr_expect(!BN_is_negative(bn) && !BN_is_zero(bn));
    cr_expect_leq(BN_num_bits(bn), 128);
    cr_expect_geq(BN_num_bits(bn), 64, "random bits, not a counter");
    BN_free(bn);
    certs_pair_free(&a);
    certs_pair_free(&b);
    certs_pair_free(&ca);
}

Test(certs_issue, serving_needs_a_name)
{
    struct certs_pair ca = {0}, srv = {0}, out = {0};
    struct certs_names none = {0};
    struct certs_spec spec = {.names = &none};
    struct kube_err err = {0};

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    certs_spec_days(&spec, time(NULL), 1);
    cr_expect_eq(certs_make_serving(&out, &ca, &spec, &err), KUBE_EINVAL);
    cr_expect_null(out.crt);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_issue, validity_days)
{
    struct certs_spec spec = {0};
    time_t now = 1700000000;

    certs_spec_days(&spec, now, 365);
    cr_expect_eq(spec.not_after, now + 365 * 86400);
    cr_expect_lt(spec.not_before, now, "starts early for slow clocks");
    certs_spec_days(&spec, now, -2);
    cr_expect_eq(spec.not_after, now - 2 * 86400);
    cr_expect_lt(spec.not_before, spec.not_after);
}

/* --- certs_check --- */

Test(certs_check, fresh_pair_passes)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    fill_in(&in, &srv, &ca);
    in.host = "vmsnapd.kubevirt.svc";
    run_check(&r, &in);
    cr_expect_eq(r.n, 0, "%s", findings(&r));
    cr_expect_eq(r.problems, 0);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_check, wrong_key)
{
    struct certs_pair ca = {0}, srv = {0}, ca2 = {0}, srv2 = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    issue_pair(&ca2, &srv2, CERTS_KEY_RSA, 365, NULL, NULL);
    fill_in(&in, &srv, &ca);
    in.key = srv2.key; /* an RSA key for an EC certificate */
    run_check(&r, &in);
    cr_expect(has_finding(&r, CERTS_PROBLEM, "tls.key does not match tls.crt"),
              "%s", findings(&r));
    cr_expect_eq(r.problems, 1, "%s", findings(&r));
    in.key = ca.key; /* same type, other key */
    run_check(&r, &in);
    cr_expect(has_finding(&r, CERTS_PROBLEM, "tls.key does not match tls.crt"),
              "%s", findings(&r));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
    certs_pair_free(&srv2);
    certs_pair_free(&ca2);
}

Test(certs_check, expired)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;
    char date[64], want[128];

    issue_pair(&ca, &srv, CERTS_KEY_EC, -1, NULL, NULL);
    fill_in(&in, &srv, &ca);
    run_check(&r, &in);
    certs_time_str(date, sizeof(date), X509_get0_notAfter(srv.crt));
    snprintf(want, sizeof(want), "certificate has expired on %s", date);
    cr_expect(has_finding(&r, CERTS_PROBLEM, want), "%s", findings(&r));
    cr_expect_eq(r.problems, 1, "expiry is not also a chain failure: %s",
                 findings(&r));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_check, not_yet_valid)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    fill_in(&in, &srv, &ca);
    in.now -= 2 * 86400; /* the check runs "before" the certificate */
    run_check(&r, &in);
    cr_expect_eq(r.problems, 2, "leaf and CA: %s", findings(&r));
    cr_expect(strncmp(r.items[0].msg, "certificate is not valid until ", 31) ==
                  0,
              "%s", findings(&r));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_check, expiring_soon_is_a_warning)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;
    char date[64], want[128];

    issue_pair(&ca, &srv, CERTS_KEY_EC, 10, NULL, NULL);
    fill_in(&in, &srv, &ca);
    in.now += 3600; /* 9 days and 23 hours left: rounds down to 9 */
    run_check(&r, &in);
    certs_time_str(date, sizeof(date), X509_get0_notAfter(srv.crt));
    snprintf(want, sizeof(want), "certificate expires in 9 days, on %s", date);
    cr_expect_eq(r.problems, 0, "%s", findings(&r));
    cr_expect(has_finding(&r, CERTS_WARNING, want), "%s", findings(&r));
    in.warn_days = 5;
    run_check(&r, &in);
    cr_expect_eq(r.n, 0, "%s", findings(&r));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_check, host_not_in_sans)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    fill_in(&in, &srv, &ca);
    in.host = "vmsnapd.default.svc";
    run_check(&r, &in);
    cr_expect(has_finding(&r, CERTS_PROBLEM,
                          "host \"vmsnapd.default.svc\" is not in the "
                          "certificate's SANs (has: vmsnapd, "
                          "vmsnapd.kubevirt, vmsnapd.kubevirt.svc, "
                          "vmsnapd.kubevirt.svc.cluster.local)"),
              "%s", findings(&r));
    cr_expect_eq(r.problems, 1);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

static const struct {
    const char *name, *host;
    int ok;
} host_cases[] = {
    {"exact", "vmsnapd.kubevirt.svc", 1},
    {"case-insensitive", "VMSNAPD.Kubevirt.SVC", 1},
    {"wildcard matches one label", "a.example.com", 1},
    {"wildcard never two labels", "a.b.example.com", 0},
    {"wildcard never the bare domain", "example.com", 0},
    {"wildcard in the middle of the host", "example.a.com", 0},
    {"IPv4 SAN", "10.1.2.3", 1},
    {"other IPv4", "10.1.2.4", 0},
    {"IPv6 SAN in another spelling", "fd00:0::1", 1},
    {"an address never matches a DNS SAN", "127.0.0.1", 0},
    {"CN is never consulted", "test-ca", 0},
};

Test(certs_check, host_table)
{
    static const char *const dns[] = {"*.example.com", NULL};
    static const char *const ips[] = {"10.1.2.3", "fd00::1", NULL};
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, dns, ips);
    fill_in(&in, &srv, &ca);
    for (size_t i = 0; i < NROWS(host_cases); i++) {
        in.host = host_cases[i].host;
        run_check(&r, &in);
        cr_expect_eq(r.problems, host_cases[i].ok ? 0 : 1, "%s: %s",
                     host_cases[i].name, findings(&r));
    }
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_check, not_signed_by_ca)
{
    struct certs_pair ca = {0}, srv = {0}, other = {0}, srv2 = {0};
    struct certs_check_in in;
    struct certs_report r;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    issue_pair(&other, &srv2, CERTS_KEY_EC, 365, NULL, NULL);
    fill_in(&in, &srv, &other);
    run_check(&r, &in);
    cr_expect(has_finding(&r, CERTS_PROBLEM,
                          "certificate is not signed by ca.crt: unable to "
                          "get local issuer certificate"),
              "%s", findings(&r));
    cr_expect_eq(r.problems, 1, "%s", findings(&r));
    certs_pair_free(&srv);
    certs_pair_free(&ca);
    certs_pair_free(&srv2);
    certs_pair_free(&other);
}

/* Re-signs srv with a clientAuth-only EKU, as another tool might issue
 * it, then round-trips it through DER so no cached flags survive. */
static X509 *client_only(const struct certs_pair *srv,
                         const struct certs_pair *ca)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    unsigned char *der = NULL;
    const unsigned char *p;
    X509 *out;
    int len;

    /* delete_ext hands the extension back to us */
    X509_EXTENSION_free(X509_delete_ext(
        srv->crt, X509_get_ext_by_NID(srv->crt, NID_ext_key_usage, -1)));
    X509V3_set_ctx(&ctx, ca->crt, srv->crt, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_ext_key_usage, "clientAuth");
    cr_assert_not_null(ext);
    cr_assert(X509_add_ext(srv->crt, ext, -1));
    X509_EXTENSION_free(ext);
    cr_assert(X509_sign(srv->crt, ca->key, EVP_sha256()));
    len = i2d_X509(srv->crt, &der);
    cr_assert_gt(len, 0);
    p = der;
    out = d2i_X509(NULL, &p, len);
    OPENSSL_free(der);
    cr_assert_not_null(out);
    return out;
}

Test(certs_check, client_only_certificate)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_check_in in;
    struct certs_report r;
    X509 *client;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    client = client_only(&srv, &ca);
    fill_in(&in, &srv, &ca);
    in.crt = client;
    run_check(&r, &in);
    cr_expect(has_finding(&r, CERTS_PROBLEM,
                          "certificate's extended key usage does not include "
                          "serverAuth"),
              "%s", findings(&r));
    cr_expect_eq(r.problems, 1, "%s", findings(&r));
    X509_free(client);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

/* --- certs_files --- */

Test(certs_files, modes_and_no_clobber)
{
    struct certs_pair ca = {0}, srv = {0};
    struct kube_err err = {0};
    char *dir = make_tmpdir();
    struct stat st;
    mode_t old = umask(077); /* modes must not depend on the umask */

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    cr_assert_eq(certs_pair_write(dir, "tls.crt", "tls.key", &srv, 0, &err), 0,
                 "%s", err.msg);
    cr_assert_eq(stat(path_in(dir, "tls.key"), &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(stat(path_in(dir, "tls.crt"), &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0644);
    cr_expect_eq(certs_pair_write(dir, "tls.crt", "tls.key", &ca, 0, &err),
                 KUBE_EINVAL);
    cr_expect(strstr(err.msg, "tls.key already exists"), "%s", err.msg);
    cr_expect_eq(count_entries(dir), 2, "no temporary file left behind");
    cr_expect_eq(certs_pair_write(dir, "tls.crt", "tls.key", &ca,
                                  CERTS_WRITE_FORCE, &err),
                 0, "%s", err.msg);
    cr_expect_eq(count_entries(dir), 2);
    umask(old);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
    rm_tmpdir(dir);
}

Test(certs_files, load_errors)
{
    struct kube_err err = {0};
    X509 *crt = NULL;
    EVP_PKEY *key = NULL;
    char *dir = make_tmpdir();
    FILE *f;

    cr_expect_eq(certs_load_crt(&crt, path_in(dir, "missing"), &err),
                 KUBE_ENOTFOUND);
    cr_expect(strstr(err.msg, "No such file"), "%s", err.msg);
    f = fopen(path_in(dir, "junk"), "w");
    cr_assert_not_null(f);
    fputs("not a certificate\n", f);
    fclose(f);
    cr_expect_eq(certs_load_crt(&crt, path_in(dir, "junk"), &err), KUBE_EINVAL);
    cr_expect(strstr(err.msg, "holds no PEM certificate"), "%s", err.msg);
    cr_expect_eq(certs_load_key(&key, path_in(dir, "junk"), &err), KUBE_EINVAL);
    cr_expect_null(crt);
    cr_expect_null(key);
    rm_tmpdir(dir);
}

/* --- certs_bundle --- */

static const struct {
    const char *name, *in, *out;
    size_t replaced;
} bundle_cases[] = {
    {"plain", "a:\n  caBundle: old\n", "a:\n  caBundle: NEW\n", 1},
    {"quoted with comment", "  caBundle: \"\"  # fill\n",
     "  caBundle: NEW  # fill\n", 1},
    {"empty, sibling kept", "  caBundle:\n  url: x\n",
     "  caBundle: NEW\n  url: x\n", 1},
    {"block scalar dropped, blank line kept",
     "  caBundle: |\n    AAA\n    BBB\n\n  service: x\n",
     "  caBundle: NEW\n\n  service: x\n", 1},
    {"list item", "- caBundle: old\n  x: y\n", "- caBundle: NEW\n  x: y\n", 1},
    {"CRLF kept", "a: 1\r\n  caBundle: old\r\nb: 2\r\n",
     "a: 1\r\n  caBundle: NEW\r\nb: 2\r\n", 1},
    {"no final newline", "caBundle: old", "caBundle: NEW", 1},
    {"not keys", "# caBundle: old\nxcaBundle: y\ncaBundle:x\n",
     "# caBundle: old\nxcaBundle: y\ncaBundle:x\n", 0},
    {"comment line after value kept", "  caBundle: a\n    # note\n  b: c\n",
     "  caBundle: NEW\n    # note\n  b: c\n", 1},
    {"two webhooks", "- caBundle: a\n- caBundle: b\n",
     "- caBundle: NEW\n- caBundle: NEW\n", 2},
    {"empty file", "", "", 0},
};

Test(certs_bundle, replace_table)
{
    for (size_t i = 0; i < NROWS(bundle_cases); i++) {
        char *out = NULL;
        size_t len = 0, n = 99;
        int rc = certs_bundle_replace(&out, &len, &n, bundle_cases[i].in,
                                      strlen(bundle_cases[i].in), "NEW", NULL);

        cr_expect_eq(rc, KUBE_OK, "%s", bundle_cases[i].name);
        if (rc != KUBE_OK)
            continue;
        cr_expect_str_eq(out, bundle_cases[i].out, "%s", bundle_cases[i].name);
        cr_expect_eq(len, strlen(bundle_cases[i].out), "%s",
                     bundle_cases[i].name);
        cr_expect_eq(n, bundle_cases[i].replaced, "%s", bundle_cases[i].name);
        free(out);
    }
}

Test(certs_bundle, b64_decodes_to_the_file)
{
    struct certs_pair ca = {0}, srv = {0};
    char *dir = make_tmpdir(), *b64 = NULL, *pem;
    unsigned char *raw;
    size_t len = 0;
    int n;

    issue_pair(&ca, &srv, CERTS_KEY_EC, 365, NULL, NULL);
    cr_assert_eq(certs_pair_write(dir, "ca.crt", "ca.key", &ca, 0, NULL), 0);
    cr_assert_eq(certs_bundle_b64(&b64, path_in(dir, "ca.crt"), NULL), 0);
    cr_expect_null(strchr(b64, '\n'), "one line");
    pem = slurp(path_in(dir, "ca.crt"), &len);
    raw = malloc(strlen(b64));
    cr_assert_not_null(raw);
    n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
    /* DecodeBlock counts the padding as zero bytes */
    cr_expect_geq(n, (int)len);
    cr_expect_eq(memcmp(raw, pem, len), 0);
    free(b64);
    b64 = NULL;
    cr_expect_eq(certs_bundle_b64(&b64, path_in(dir, "ca.key"), NULL),
                 KUBE_EINVAL, "a key is not a caBundle");
    cr_expect_null(b64);
    free(raw);
    free(pem);
    free(b64);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
    rm_tmpdir(dir);
}

Test(certs_bundle, write_file_keeps_mode_and_refuses_no_key)
{
    static const char yaml[] = "webhooks:\n- clientConfig:\n    caBundle: x\n";
    struct kube_err err = {0};
    char *dir = make_tmpdir(), *got;
    size_t n = 0;
    struct stat st;
    FILE *f = fopen(path_in(dir, "w.yaml"), "w");

    cr_assert_not_null(f);
    fputs(yaml, f);
    fclose(f);
    chmod(path_in(dir, "w.yaml"), 0640);
    cr_assert_eq(
        certs_bundle_write_file(&n, path_in(dir, "w.yaml"), "Q0E=", &err), 0,
        "%s", err.msg);
    cr_expect_eq(n, 1);
    got = slurp(path_in(dir, "w.yaml"), NULL);
    cr_expect_str_eq(got, "webhooks:\n- clientConfig:\n    caBundle: Q0E=\n");
    free(got);
    cr_assert_eq(stat(path_in(dir, "w.yaml"), &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0640);
    /* through a symlink: the file it names changes, the link stays */
    cr_assert_eq(symlink("w.yaml", path_in(dir, "link.yaml")), 0);
    cr_assert_eq(
        certs_bundle_write_file(&n, path_in(dir, "link.yaml"), "Q0I=", &err), 0,
        "%s", err.msg);
    cr_assert_eq(lstat(path_in(dir, "link.yaml"), &st), 0);
    cr_expect(S_ISLNK(st.st_mode));
    got = slurp(path_in(dir, "w.yaml"), NULL);
    cr_expect_str_eq(got, "webhooks:\n- clientConfig:\n    caBundle: Q0I=\n");
    free(got);
    f = fopen(path_in(dir, "n.yaml"), "w");
    cr_assert_not_null(f);
    fputs("a: b\n", f);
    fclose(f);
    cr_expect_eq(
        certs_bundle_write_file(&n, path_in(dir, "n.yaml"), "Q0E=", &err),
        KUBE_EINVAL);
    cr_expect(strstr(err.msg, "has no caBundle: field"), "%s", err.msg);
    cr_expect_eq(count_entries(dir), 3, "no temporary file left behind");
    rm_tmpdir(dir);
}

/* --- certs_cmd: the verb, in-process --- */

static int run(char **argv)
{
    int argc = 0;

    while (argv[argc])
        argc++;
    fflush(stdout);
    return cmd_certs(argc, argv);
}

Test(certs_cmd, create_then_check_passes)
{
    char *dir = make_tmpdir();
    char crt[PATHBUF], key[PATHBUF], ca[PATHBUF];
    char *create[] = {"certs",       "create",   "--service", "vmsnapd",
                      "--namespace", "kubevirt", "--out",     dir,
                      "--ip",        "10.0.0.1", NULL};
    char *check[] = {"certs",  "check",
                     "--cert", path_to(crt, dir, "tls.crt"),
                     "--key",  path_to(key, dir, "tls.key"),
                     "--ca",   path_to(ca, dir, "ca.crt"),
                     "--host", "10.0.0.1",
                     NULL};
    char *again[] = {"certs",   "create",      "--service",
                     "vmsnapd", "--namespace", "kubevirt",
                     "--out",   dir,           NULL};

    cr_assert_eq(run(create), 0);
    cr_expect_eq(count_entries(dir), 4);
    cr_expect_eq(run(check), 0);
    cr_expect_eq(run(again), 1, "refuses to overwrite without --force");
    rm_tmpdir(dir);
}

Test(certs_cmd, check_exit_codes)
{
    char *dir = make_tmpdir();
    char crt[PATHBUF], key[PATHBUF], cakey[PATHBUF], nope[PATHBUF];
    char *create[] = {"certs", "create", "--service", "a", "--namespace",
                      "b",     "--out",  dir,         NULL};
    char *wrong_host[] = {"certs",  "check",
                          "--cert", path_to(crt, dir, "tls.crt"),
                          "--key",  path_to(key, dir, "tls.key"),
                          "--host", "c.d.svc",
                          NULL};
    char *wrong_key[] = {"certs", "check", "--cert",
                         crt,     "--key", path_to(cakey, dir, "ca.key"),
                         NULL};
    char *missing[] = {"certs", "check", "--cert", path_to(nope, dir, "nope"),
                       "--key", key,     NULL};

    cr_assert_eq(run(create), 0);
    cr_expect_eq(run(wrong_host), 1);
    cr_expect_eq(run(wrong_key), 1);
    cr_expect_eq(run(missing), 2);
    rm_tmpdir(dir);
}

static const struct {
    const char *name;
    const char *argv[16];
    int rc;
} usage_cases[] = {
    {"no subcommand", {"certs", NULL}, 2},
    {"help", {"certs", "--help", NULL}, 0},
    {"unknown subcommand", {"certs", "frob", NULL}, 2},
    {"create help", {"certs", "create", "--help", NULL}, 0},
    {"renew help", {"certs", "renew", "-h", NULL}, 0},
    {"unknown flag", {"certs", "create", "--frob", NULL}, 2},
    {"missing value", {"certs", "check", "--cert", NULL}, 2},
    {"missing required flag", {"certs", "check", "--cert", "x", NULL}, 2},
    {"days not a number", {"certs", "create", "--days", "1y", NULL}, 2},
    {"days longer than ca-days",
     {"certs", "create", "--service", "a", "--namespace", "b", "--out",
      "/nonexistent/x", "--days", "10", "--ca-days", "5", NULL},
     2},
    {"bad service name",
     {"certs", "create", "--service", "A_b", "--namespace", "b", "--out",
      "/nonexistent/x", NULL},
     2},
    {"renew --service without --namespace",
     {"certs", "renew", "--ca-cert", "a", "--ca-key", "b", "--out", "c",
      "--service", "s", NULL},
     2},
    {"renew with an unreadable CA",
     {"certs", "renew", "--ca-cert", "/nonexistent/a", "--ca-key", "b", "--out",
      "c", NULL},
     2},
    {"cabundle positional without --write",
     {"certs", "cabundle", "--ca", "x", "y", NULL},
     2},
    {"cabundle unreadable CA",
     {"certs", "cabundle", "--ca", "/nonexistent", NULL},
     2},
};

Test(certs_cmd, usage_table)
{
    for (size_t i = 0; i < NROWS(usage_cases); i++) {
        char *argv[16] = {0};

        for (size_t j = 0; j < 15 && usage_cases[i].argv[j]; j++)
            argv[j] = (char *)usage_cases[i].argv[j];
        cr_expect_eq(run(argv), usage_cases[i].rc, "%s", usage_cases[i].name);
    }
}

Test(certs_cmd, renew_keeps_ca_and_changes_serial)
{
    char *dir = make_tmpdir();
    char crt[PATHBUF], key[PATHBUF], ca[PATHBUF], cakey[PATHBUF];
    char *create[] = {"certs",       "create",   "--service", "vmsnapd",
                      "--namespace", "kubevirt", "--out",     dir,
                      "--rsa",       NULL};
    char *renew[] = {"certs",     "renew",
                     "--ca-cert", path_to(ca, dir, "ca.crt"),
                     "--ca-key",  path_to(cakey, dir, "ca.key"),
                     "--out",     dir,
                     NULL,        NULL};
    char *check[] = {"certs",  "check",
                     "--cert", path_to(crt, dir, "tls.crt"),
                     "--key",  path_to(key, dir, "tls.key"),
                     "--ca",   ca,
                     "--host", "vmsnapd.kubevirt.svc.cluster.local",
                     NULL};
    char s1[64], s2[64], s3[64];
    size_t ca_len = 0, ca2_len = 0;
    char *ca_pem, *ca_key, *ca2_pem, *ca2_key;
    EVP_PKEY *k = NULL;

    cr_assert_eq(run(create), 0);
    ca_pem = slurp(ca, &ca_len);
    ca_key = slurp(cakey, NULL);
    serial_of(s1, sizeof(s1), crt);

    cr_assert_eq(run(renew), 0, "not due: nothing to do");
    serial_of(s2, sizeof(s2), crt);
    cr_expect_str_eq(s1, s2);

    renew[8] = "--force";
    cr_assert_eq(run(renew), 0);
    serial_of(s3, sizeof(s3), crt);
    cr_expect_str_neq(s1, s3);
    ca2_pem = slurp(ca, &ca2_len);
    ca2_key = slurp(cakey, NULL);
    cr_expect(ca_len == ca2_len && memcmp(ca_pem, ca2_pem, ca_len) == 0,
              "the CA is untouched");
    cr_expect_str_eq(ca_key, ca2_key);
    cr_expect_eq(run(check), 0, "same SANs, same CA, key matches");
    cr_assert_eq(certs_load_key(&k, key, NULL), 0);
    cr_expect(EVP_PKEY_is_a(k, "RSA"), "keeps the key type");
    cr_expect_eq(count_entries(dir), 4, "no temporary files");
    EVP_PKEY_free(k);
    free(ca_pem);
    free(ca_key);
    free(ca2_pem);
    free(ca2_key);
    rm_tmpdir(dir);
}

Test(certs_cmd, renew_when_due_reuses_sans)
{
    struct certs_pair ca = {0}, srv = {0};
    static const char *const dns[] = {"hook.example.com", NULL};
    static const char *const ips[] = {"192.0.2.7", NULL};
    char *dir = make_tmpdir();
    char crt[PATHBUF], key[PATHBUF], cap[PATHBUF], cakey[PATHBUF];
    char *renew[] = {"certs",     "renew",
                     "--ca-cert", path_to(cap, dir, "ca.crt"),
                     "--ca-key",  path_to(cakey, dir, "ca.key"),
                     "--out",     dir,
                     "--before",  "30",
                     NULL};
    char *check[] = {"certs",  "check",
                     "--cert", path_to(crt, dir, "tls.crt"),
                     "--key",  path_to(key, dir, "tls.key"),
                     "--ca",   cap,
                     "--host", "192.0.2.7",
                     NULL};
    char s1[64], s2[64];

    issue_pair(&ca, &srv, CERTS_KEY_EC, 10, dns, ips); /* due in 10 days */
    cr_assert_eq(certs_pair_write(dir, "ca.crt", "ca.key", &ca, 0, NULL), 0);
    cr_assert_eq(certs_pair_write(dir, "tls.crt", "tls.key", &srv, 0, NULL), 0);
    serial_of(s1, sizeof(s1), crt);
    cr_assert_eq(run(renew), 0);
    serial_of(s2, sizeof(s2), crt);
    cr_expect_str_neq(s1, s2);
    cr_expect_eq(run(check), 0, "the IP SAN came along");
    check[9] = "hook.example.com";
    cr_expect_eq(run(check), 0, "the extra DNS SAN came along");
    certs_pair_free(&srv);
    certs_pair_free(&ca);
    rm_tmpdir(dir);
}

/* --- renewal policy --- */

Test(certs_renew, due_table)
{
    static const struct {
        const char *name;
        long days, before;
        int want;
    } rows[] = {
        {"fresh", 365, 30, 0},
        {"expiring within --before", 10, 30, 1},
        {"--before 0 and fresh", 10, 0, 0},
        {"expired", -1, 0, 1},
    };
    time_t now = time(NULL);

    cr_expect_eq(certs_renewal_due(NULL, 30, now), 1, "no certificate");
    for (size_t i = 0; i < NROWS(rows); i++) {
        struct certs_pair ca = {0}, srv = {0};

        issue_pair(&ca, &srv, CERTS_KEY_EC, rows[i].days, NULL, NULL);
        cr_expect_eq(certs_renewal_due(srv.crt, rows[i].before, now),
                     rows[i].want, "%s", rows[i].name);
        certs_pair_free(&srv);
        certs_pair_free(&ca);
    }
}

Test(certs_renew, spec_keeps_key_type_and_ends_with_the_ca)
{
    struct certs_pair ca = {0}, srv = {0};
    struct certs_spec spec = {0};
    struct kube_err err = {0};
    time_t now = time(NULL);
    int capped = -1;

    issue_pair(&ca, &srv, CERTS_KEY_RSA, 30, NULL, NULL);
    cr_assert_eq(certs_renew_spec(&spec, &capped, ca.crt, srv.crt, 365, 0,
                                  now, &err),
                 0, "%s", err.msg);
    cr_expect_eq(spec.key_type, CERTS_KEY_RSA, "the current key's type");
    cr_expect_eq(capped, 0);
    cr_expect_gt(spec.not_after, now + 364L * 86400);
    /* past the CA's 3650 days: cut to its end */
    cr_assert_eq(certs_renew_spec(&spec, &capped, ca.crt, NULL, 5000, 0, now,
                                  &err),
                 0, "%s", err.msg);
    cr_expect_eq(capped, 1);
    cr_expect_eq(spec.key_type, CERTS_KEY_EC, "no current: ECDSA");
    cr_expect_lt(spec.not_after, now + 3651L * 86400);
    certs_pair_free(&srv);
    certs_pair_free(&ca);
}

Test(certs_renew, expired_ca_is_refused)
{
    struct certs_pair ca = {0};
    struct certs_spec spec = {.key_type = CERTS_KEY_EC, .cn = "old-ca"};
    struct kube_err err = {0};
    int capped;

    certs_spec_days(&spec, time(NULL), -1);
    cr_assert_eq(certs_make_ca(&ca, &spec, &err), 0, "%s", err.msg);
    cr_expect_eq(certs_renew_spec(&spec, &capped, ca.crt, NULL, 365, 0,
                                  time(NULL), &err),
                 KUBE_EINVAL);
    cr_expect(strstr(err.msg, "the CA expired on"), "%s", err.msg);
    certs_pair_free(&ca);
}
