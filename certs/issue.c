/* certs/issue.c - key generation and certificate issuance with OpenSSL 3's
 * EVP interfaces: a self-signed CA and serving certificates it signs. */
#include "certs/certs.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "certs/internal.h"

#define SERIAL_BYTES 16 /* 128 bits: CA/B forum asks for at least 64 */
#define CN_MAX 64       /* X.520 upper bound for commonName */
#define SKEW_SECONDS 300

int certs_ssl_err(struct kube_err *err, int code, const char *fmt, ...)
{
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    char what[KUBE_ERR_MSG], full[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap); /* cut is fine */
    va_end(ap);
    if (e && !reason) {
        ERR_error_string_n(e, full, sizeof(full));
        reason = full;
    }
    ERR_clear_error();
    if (!reason)
        return kube_err_set(err, code, "%s", what);
    return kube_err_set(err, code, "%s: %s", what, reason);
}

void certs_pair_free(struct certs_pair *p)
{
    if (!p)
        return;
    EVP_PKEY_free(p->key);
    X509_free(p->crt);
    p->key = NULL;
    p->crt = NULL;
}

void certs_spec_days(struct certs_spec *spec, time_t now, long days)
{
    if (days > CERTS_MAX_DAYS)
        days = CERTS_MAX_DAYS;
    if (days < -CERTS_MAX_DAYS)
        days = -CERTS_MAX_DAYS;
    spec->not_after = now + (time_t)days * 86400;
    if (days >= 0)
        spec->not_before = now - SKEW_SECONDS;
    else
        spec->not_before = spec->not_after - 86400;
}

static EVP_PKEY *new_key(enum certs_key_type type)
{
    if (type == CERTS_KEY_RSA)
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* A random 128-bit serial. The BIGNUM is unsigned, so DER prefixes a zero
 * octet when the top bit is set: 17 octets at most, within RFC 5280's 20. */
static int set_random_serial(X509 *crt)
{
    unsigned char raw[SERIAL_BYTES];
    BIGNUM *bn = NULL;
    int ok = 0;

    do {
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            goto done;
        BN_free(bn);
        bn = BN_bin2bn(raw, sizeof(raw), NULL);
        if (!bn)
            goto done;
    } while (BN_is_zero(bn)); /* RFC 5280: positive */
    /* X509_get_serialNumber is get0: we fill the certificate's own INTEGER */
    ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) != NULL;
done:
    BN_free(bn);
    return ok;
}

/* Version, serial, dates, subject and public key: what every certificate
 * here shares. */
static int set_basics(X509 *crt, EVP_PKEY *key, const struct certs_spec *spec)
{
    X509_NAME *name = X509_get_subject_name(crt); /* get0 */

    if (!X509_set_version(crt, X509_VERSION_3) || !set_random_serial(crt))
        return 0;
    if (!ASN1_TIME_set(X509_getm_notBefore(crt), spec->not_before) ||
        !ASN1_TIME_set(X509_getm_notAfter(crt), spec->not_after))
        return 0;
    /* an over-long CN would fail to encode; the SANs carry the names */
    if (spec->cn && spec->cn[0] && strlen(spec->cn) <= CN_MAX &&
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)spec->cn, -1, -1, 0))
        return 0;
    return X509_set_pubkey(crt, key); /* set1: the key stays ours */
}

/* Adds one extension from OpenSSL's config syntax. Only fixed strings are
 * passed here; names from users go through add_sans() instead, so a ','
 * in a --dns value cannot smuggle in another entry. */
static int add_ext(X509 *crt, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok;

    if (!ext)
        return 0;
    ok = X509_add_ext(crt, ext, -1); /* copies ext */
    X509_EXTENSION_free(ext);
    return ok;
}

static int push_gen(GENERAL_NAMES *gens, int type, ASN1_STRING *value)
{
    GENERAL_NAME *g = GENERAL_NAME_new();

    if (!g) {
        ASN1_STRING_free(value);
        return 0;
    }
    GENERAL_NAME_set0_value(g, type, value); /* set0: g owns value */
    if (!sk_GENERAL_NAME_push(gens, g)) {
        GENERAL_NAME_free(g);
        return 0;
    }
    return 1;
}

static int push_dns(GENERAL_NAMES *gens, const char *name)
{
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    if (!s || !ASN1_STRING_set(s, name, (int)strlen(name))) {
        ASN1_IA5STRING_free(s);
        return 0;
    }
    return push_gen(gens, GEN_DNS, s);
}

static int push_ip(GENERAL_NAMES *gens, const char *addr)
{
    unsigned char ip[16];
    int len = 0;
    ASN1_OCTET_STRING *s;

    if (inet_pton(AF_INET, addr, ip) == 1)
        len = 4;
    else if (inet_pton(AF_INET6, addr, ip) == 1)
        len = 16;
    if (!len)
        return 0; /* certs_names_add_ip() let only addresses in */
    s = ASN1_OCTET_STRING_new();
    if (!s || !ASN1_OCTET_STRING_set(s, ip, len)) {
        ASN1_OCTET_STRING_free(s);
        return 0;
    }
    return push_gen(gens, GEN_IPADD, s);
}

static int add_sans(X509 *crt, const struct certs_names *names)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    int ok = gens != NULL;

    for (size_t i = 0; ok && i < names->n_dns; i++)
        ok = push_dns(gens, names->dns[i]);
    for (size_t i = 0; ok && i < names->n_ip; i++)
        ok = push_ip(gens, names->ip[i]);
    if (ok) /* add1: encodes a copy */
        ok = X509_add1_ext_i2d(crt, NID_subject_alt_name, gens, 0,
                               X509V3_ADD_DEFAULT) == 1;
    GENERAL_NAMES_free(gens);
    return ok;
}

static int add_ca_exts(X509 *crt)
{
    X509V3_CTX ctx;

    X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
    return add_ext(crt, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
           add_ext(crt, &ctx, NID_key_usage,
                   "critical,keyCertSign,cRLSign,digitalSignature") &&
           add_ext(crt, &ctx, NID_subject_key_identifier, "hash");
}

static int add_serving_exts(X509 *crt, const struct certs_pair *ca,
                            const struct certs_spec *spec)
{
    X509V3_CTX ctx;
    const char *usage = spec->key_type == CERTS_KEY_RSA
                            ? "critical,digitalSignature,keyEncipherment"
                            : "critical,digitalSignature";

    X509V3_set_ctx(&ctx, ca->crt, crt, NULL, NULL, 0);
    return add_ext(crt, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(crt, &ctx, NID_key_usage, usage) &&
           add_ext(crt, &ctx, NID_ext_key_usage, "serverAuth") &&
           add_ext(crt, &ctx, NID_subject_key_identifier, "hash") &&
           add_ext(crt, &ctx, NID_authority_key_identifier, "keyid") &&
           add_sans(crt, spec->names);
}

/* Issues a CA when ca is NULL (self-signed), else a serving certificate
 * signed by ca. */
static int issue(struct certs_pair *out, const struct certs_pair *ca,
                 const struct certs_spec *spec, struct kube_err *err)
{
    const char *what = ca ? "serving" : "CA";
    struct certs_pair p = {0};
    int rc = KUBE_ERR;

    p.key = new_key(spec->key_type);
    if (!p.key) {
        rc = certs_ssl_err(err, KUBE_ERR, "cannot generate the %s key", what);
        goto done;
    }
    p.crt = X509_new();
    if (!p.crt || !set_basics(p.crt, p.key, spec) ||
        !X509_set_issuer_name(p.crt,
                              X509_get_subject_name(ca ? ca->crt : p.crt))) {
        rc = certs_ssl_err(err, KUBE_ERR, "cannot fill in the %s certificate",
                           what);
        goto done;
    }
    if (!(ca ? add_serving_exts(p.crt, ca, spec) : add_ca_exts(p.crt))) {
        rc = certs_ssl_err(err, KUBE_ERR, "cannot add %s extensions", what);
        goto done;
    }
    if (!X509_sign(p.crt, ca ? ca->key : p.key, EVP_sha256())) {
        rc = certs_ssl_err(err, KUBE_ERR, "cannot sign the %s certificate",
                           what);
        goto done;
    }
    *out = p;
    p = (struct certs_pair){0};
    rc = KUBE_OK;
done:
    certs_pair_free(&p);
    return rc;
}

int certs_make_ca(struct certs_pair *out, const struct certs_spec *spec,
                  struct kube_err *err)
{
    return issue(out, NULL, spec, err);
}

int certs_make_serving(struct certs_pair *out, const struct certs_pair *ca,
                       const struct certs_spec *spec, struct kube_err *err)
{
    if (!spec->names || spec->names->n_dns + spec->names->n_ip == 0)
        return kube_err_set(err, KUBE_EINVAL,
                            "a serving certificate needs at least one name");
    return issue(out, ca, spec, err);
}
