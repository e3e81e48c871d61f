/* certs/names.c - the subject alternative names a serving certificate
 * carries: validated on the way in, so a typo is an error, not a
 * certificate no client accepts. */
#include "certs/certs.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509v3.h>

#define DNS_MAX 253
#define LABEL_MAX 63

static int is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

/* Returns NULL when s[0..len) is a valid label, else a verb phrase
 * saying why not ("is empty"). */
static const char *label_problem(const char *s, size_t len, int lower_only)
{
    if (len == 0)
        return "is empty";
    if (len > LABEL_MAX)
        return "is longer than 63 characters";
    if (s[0] == '-' || s[len - 1] == '-')
        return "starts or ends with '-'";
    for (size_t i = 0; i < len; i++) {
        if (!is_ldh(s[i]))
            return "has characters other than letters, digits and '-'";
        if (lower_only && s[i] >= 'A' && s[i] <= 'Z')
            return "has upper-case letters";
    }
    return NULL;
}

/* Returns 0 for a name we will issue, else -1 with why filled in. */
static int dns_problem(char *why, size_t size, const char *name)
{
    size_t len = strlen(name);
    const char *p = name;

    if (len == 0 || len > DNS_MAX) {
        snprintf(why, size, "%s",
                 len ? "is longer than 253 characters" : "is empty");
        return -1;
    }
    if (strncmp(p, "*.", 2) == 0)
        p += 2; /* RFC 6125: a wildcard is the whole left-most label */
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        const char *bad = label_problem(p, n, 0);

        if (bad && memchr(p, '*', n))
            bad = "has a '*' that is not the whole left-most label";
        if (bad) {
            snprintf(why, size, "has a label \"%.*s\" that %s", (int)n, p, bad);
            return -1;
        }
        if (!dot)
            return 0;
        p = dot + 1;
    }
}

/* Appends a copy of s unless cmp finds it already there. */
static int push_unique(char ***arr, size_t *n, const char *s,
                       int (*cmp)(const char *, const char *),
                       struct kube_err *err)
{
    char **bigger;
    char *copy;

    for (size_t i = 0; i < *n; i++)
        if (cmp((*arr)[i], s) == 0)
            return KUBE_OK;
    bigger = realloc(*arr, (*n + 1) * sizeof(**arr));

    if (!bigger)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    *arr = bigger;
    copy = strdup(s);
    if (!copy)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    (*arr)[(*n)++] = copy;
    return KUBE_OK;
}

/* Adds a DNS name of len bytes (validated, or read from a certificate:
 * then kept as issued, even a name we would not issue). */
static int push_dns_raw(struct certs_names *n, const char *d, size_t len,
                        struct kube_err *err)
{
    char name[DNS_MAX + 1];

    assert(len <= DNS_MAX); /* callers check */
    memcpy(name, d, len);
    name[len] = '\0';
    return push_unique(&n->dns, &n->n_dns, name, strcasecmp, err);
}

int certs_names_add_dns(struct certs_names *n, const char *name,
                        struct kube_err *err)
{
    char why[128];

    if (dns_problem(why, sizeof(why), name) < 0)
        return kube_err_set(err, KUBE_EINVAL, "DNS name \"%.*s\" %s", 100, name,
                            why);
    return push_dns_raw(n, name, strlen(name), err);
}

/* Parses addr into 4 or 16 bytes; returns the length, or 0. */
static size_t parse_ip(unsigned char out[16], const char *addr)
{
    if (inet_pton(AF_INET, addr, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, addr, out) == 1)
        return 16;
    return 0;
}

/* Canonical text of a 4- or 16-byte address; "" for any other length. */
static void ip_text(char *buf, size_t size, const unsigned char *ip, size_t len)
{
    buf[0] = '\0';
    if (len == 4 || len == 16)
        if (!inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, buf, (socklen_t)size))
            buf[0] = '\0';
}

static int add_ip_bytes(struct certs_names *n, const unsigned char *ip,
                        size_t len, struct kube_err *err)
{
    char text[INET6_ADDRSTRLEN];

    ip_text(text, sizeof(text), ip, len);
    if (!text[0])
        return KUBE_OK; /* a SAN we cannot represent; not ours to judge */
    return push_unique(&n->ip, &n->n_ip, text, strcmp, err);
}

int certs_names_add_ip(struct certs_names *n, const char *addr,
                       struct kube_err *err)
{
    unsigned char ip[16];
    size_t len = parse_ip(ip, addr);

    if (!len)
        return kube_err_set(err, KUBE_EINVAL,
                            "\"%.*s\" is not an IPv4 or IPv6 address", 64,
                            addr);
    return add_ip_bytes(n, ip, len, err);
}

int certs_names_check_label(const char *s, struct kube_err *err)
{
    const char *why = label_problem(s, strlen(s), 1);

    if (why)
        return kube_err_set(
            err, KUBE_EINVAL,
            "\"%.*s\" is not a DNS label (a-z, 0-9, '-'): it %s", 64, s, why);
    return KUBE_OK;
}

int certs_names_add_service(struct certs_names *n, const char *service,
                            const char *ns, struct kube_err *err)
{
    /* How a Service is reached: same namespace, other namespaces, and the
     * fully qualified forms the API server uses for webhooks. */
    static const char *const suffix[] = {"", ".svc", ".svc.cluster.local"};
    char name[DNS_MAX + 2];
    int rc, w;

    rc = certs_names_check_label(service, err);
    if (rc == KUBE_OK)
        rc = certs_names_check_label(ns, err);
    if (rc == KUBE_OK)
        rc = certs_names_add_dns(n, service, err);
    for (size_t i = 0; rc == KUBE_OK && i < 3; i++) {
        w = snprintf(name, sizeof(name), "%s.%s%s", service, ns, suffix[i]);
        if (w < 0 || (size_t)w >= sizeof(name))
            return kube_err_set(err, KUBE_EINVAL, "DNS name too long");
        rc = certs_names_add_dns(n, name, err);
    }
    return rc;
}

int certs_names_add_from_crt(struct certs_names *n, const X509 *crt,
                             struct kube_err *err)
{
    /* get_ext_d2i returns a new decoded copy, freed below */
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(crt, NID_subject_alt_name, NULL, NULL);
    int rc = KUBE_OK;

    for (int i = 0; gens && rc == KUBE_OK && i < sk_GENERAL_NAME_num(gens);
         i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *d;
        int len;

        if (g->type == GEN_DNS) {
            d = ASN1_STRING_get0_data(g->d.dNSName);
            len = ASN1_STRING_length(g->d.dNSName);
            if (len > 0 && len <= DNS_MAX && !memchr(d, '\0', (size_t)len))
                rc = push_dns_raw(n, (const char *)d, (size_t)len, err);
        } else if (g->type == GEN_IPADD) {
            d = ASN1_STRING_get0_data(g->d.iPAddress);
            len = ASN1_STRING_length(g->d.iPAddress);
            rc = add_ip_bytes(n, d, (size_t)len, err);
        }
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

void certs_names_join(char *buf, size_t size, const struct certs_names *n)
{
    size_t used = 0;

    assert(size >= 8);
    buf[0] = '\0';
    if (n->n_dns + n->n_ip == 0) {
        snprintf(buf, size, "none");
        return;
    }
    for (size_t i = 0; i < n->n_dns + n->n_ip; i++) {
        const char *s = i < n->n_dns ? n->dns[i] : n->ip[i - n->n_dns];
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", s);

        if (w < 0 || (size_t)w >= size - used) {
            memcpy(buf + size - 4, "...", 4); /* cut, and say so */
            return;
        }
        used += (size_t)w;
    }
}

static void free_list(char ***arr, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
}

void certs_names_free(struct certs_names *n)
{
    if (!n)
        return;
    free_list(&n->dns, &n->n_dns);
    free_list(&n->ip, &n->n_ip);
}
