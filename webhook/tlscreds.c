/* webhook/tlscreds.c - loading and checking a certificate and key pair. */
#include "webhook/tlscreds.h"

#include <errno.h>
#include <gnutls/x509.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/file.h"

/* A PEM chain of 8 certificates or an RSA-8192 key fits in far less. */
#define MAX_PEM (1024 * 1024)

struct wh_tlscreds {
    gnutls_pcert_st chain[WH_TLSCREDS_MAX_CHAIN];
    unsigned nchain; /* entries of chain initialised */
    gnutls_privkey_t key;
    gnutls_datum_t ticket_key;
    int64_t not_after, not_before;
    char subject[256];
    atomic_int refs;
};

static void creds_free(struct wh_tlscreds *c)
{
    for (unsigned i = 0; i < c->nchain; i++)
        gnutls_pcert_deinit(&c->chain[i]);
    gnutls_privkey_deinit(c->key);
    if (c->ticket_key.data) {
        gnutls_memset(c->ticket_key.data, 0, c->ticket_key.size);
        gnutls_free(c->ticket_key.data);
    }
    free(c);
}

struct wh_tlscreds *wh_tlscreds_ref(struct wh_tlscreds *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void wh_tlscreds_unref(struct wh_tlscreds *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        creds_free(c);
}

/* Reads a whole PEM file of at most MAX_PEM bytes into *out (malloc'd). */
static int read_file(gnutls_datum_t *out, const char *path,
                     struct kube_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = kube_file_read(&buf, &len, path, MAX_PEM, err);

    if (rc < 0)
        return rc;
    if (len == 0) {
        free(buf);
        return kube_err_set(err, KUBE_EINVAL, "%s: empty file", path);
    }
    out->data = (unsigned char *)buf;
    out->size = (unsigned)len;
    return KUBE_OK;
}

static int load_chain(struct wh_tlscreds *c, const gnutls_datum_t *pem,
                      const char *path, struct kube_err *err)
{
    unsigned n = WH_TLSCREDS_MAX_CHAIN;
    int ret = gnutls_pcert_list_import_x509_raw(
        c->chain, &n, pem, GNUTLS_X509_FMT_PEM,
        GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED |
            GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);

    if (ret < 0)
        return kube_err_set(err, KUBE_EINVAL, "%s: %s", path,
                            ret == GNUTLS_E_SHORT_MEMORY_BUFFER
                                ? "more than 8 certificates"
                                : gnutls_strerror(ret));
    c->nchain = n;
    if (n == 0)
        return kube_err_set(err, KUBE_EINVAL, "%s: no certificate", path);
    return KUBE_OK;
}

/* Fills the leaf's validity and subject. */
static int read_leaf(struct wh_tlscreds *c, const char *path,
                     struct kube_err *err)
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t dn = {NULL, 0};
    int ret = gnutls_pcert_export_x509(&c->chain[0], &crt);

    if (ret < 0)
        return kube_err_set(err, KUBE_EINVAL, "%s: %s", path,
                            gnutls_strerror(ret));
    c->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
    c->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
    if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
        snprintf(c->subject, sizeof(c->subject), "%.*s", (int)dn.size,
                 (const char *)dn.data); /* a cut DN is fine in a log */
        gnutls_free(dn.data);
    }
    gnutls_x509_crt_deinit(crt);
    return KUBE_OK;
}

static int load_key(struct wh_tlscreds *c, const gnutls_datum_t *pem,
                    const char *path, struct kube_err *err)
{
    int ret = gnutls_privkey_init(&c->key);

    if (ret < 0)
        return kube_err_set(err, KUBE_ENOMEM, "%s: %s", path,
                            gnutls_strerror(ret));
    ret = gnutls_privkey_import_x509_raw(c->key, pem, GNUTLS_X509_FMT_PEM, NULL,
                                         0);
    if (ret < 0)
        return kube_err_set(err, KUBE_EINVAL, "%s: %s", path,
                            gnutls_strerror(ret));
    return KUBE_OK;
}

/* The key must be the leaf's: kubelet writes the two files of a Secret
 * together, but a hand-made rotation may not, and serving a mismatched
 * pair fails every handshake. Compares SHA-256 key IDs. */
static int check_pair(struct wh_tlscreds *c, const char *key_path,
                      struct kube_err *err)
{
    unsigned char want[64], got[64];
    size_t wlen = sizeof(want), glen = sizeof(got);
    gnutls_pubkey_t pub = NULL;
    int ret, rc = KUBE_OK;

    ret = gnutls_pubkey_get_key_id(c->chain[0].pubkey, GNUTLS_KEYID_USE_SHA256,
                                   want, &wlen);
    if (ret >= 0)
        ret = gnutls_pubkey_init(&pub);
    if (ret >= 0)
        ret = gnutls_pubkey_import_privkey(pub, c->key, 0, 0);
    if (ret >= 0)
        ret =
            gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, got, &glen);
    if (ret < 0)
        rc = kube_err_set(err, KUBE_EINVAL, "%s: %s", key_path,
                          gnutls_strerror(ret));
    else if (wlen != glen || memcmp(want, got, wlen) != 0)
        rc = kube_err_set(err, KUBE_EINVAL,
                          "%s: key does not match the certificate", key_path);
    gnutls_pubkey_deinit(pub);
    return rc;
}

int wh_tlscreds_load(struct wh_tlscreds **out, const char *cert_path,
                     const char *key_path, struct kube_err *err)
{
    gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
    struct wh_tlscreds *c = calloc(1, sizeof(*c));
    int rc;

    if (!c)
        return kube_err_set(err, KUBE_ENOMEM, "out of memory");
    atomic_init(&c->refs, 1);
    rc = read_file(&cert_pem, cert_path, err);
    if (rc == KUBE_OK)
        rc = read_file(&key_pem, key_path, err);
    if (rc == KUBE_OK)
        rc = load_chain(c, &cert_pem, cert_path, err);
    if (rc == KUBE_OK)
        rc = read_leaf(c, cert_path, err);
    if (rc == KUBE_OK)
        rc = load_key(c, &key_pem, key_path, err);
    if (rc == KUBE_OK)
        rc = check_pair(c, key_path, err);
    if (rc == KUBE_OK && gnutls_session_ticket_key_generate(&c->ticket_key) < 0)
        rc = kube_err_set(err, KUBE_ENOMEM, "session ticket key: failed");
    free(cert_pem.data);
    if (key_pem.data)
        gnutls_memset(key_pem.data, 0, key_pem.size); /* no key in free RAM */
    free(key_pem.data);
    if (rc < 0) {
        creds_free(c);
        return rc;
    }
    *out = c;
    return KUBE_OK;
}

void wh_tlscreds_get(const struct wh_tlscreds *c, gnutls_pcert_st **pcert,
                     unsigned *pcert_length, gnutls_privkey_t *key)
{
    /* GnuTLS wants non-const pointers but only reads them */
    *pcert = (gnutls_pcert_st *)c->chain;
    *pcert_length = c->nchain;
    *key = c->key;
}

const gnutls_datum_t *wh_tlscreds_ticket_key(const struct wh_tlscreds *c)
{
    return &c->ticket_key;
}

int64_t wh_tlscreds_not_after(const struct wh_tlscreds *c)
{
    return c->not_after;
}

int64_t wh_tlscreds_not_before(const struct wh_tlscreds *c)
{
    return c->not_before;
}

const char *wh_tlscreds_subject(const struct wh_tlscreds *c)
{
    return c->subject;
}
