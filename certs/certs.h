/* certs/certs.h - the webhook's TLS material with OpenSSL 3: a CA, a serving
 * certificate it signs for the Service's DNS names, checks of an existing
 * pair, and the base64 caBundle that webhook configurations carry.
 *
 * Everything here is thread-safe unless a function says otherwise: there is
 * no state but what callers pass in. OpenSSL 3 initialises itself. */
#ifndef VMSNAPD_CERTS_CERTS_H
#define VMSNAPD_CERTS_CERTS_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kube/errors.h"

/* Ceiling for any certificate, key or manifest file we read: these are a
 * few KiB; anything bigger is a wrong path, not a certificate. */
#define CERTS_MAX_FILE (4 * 1024 * 1024)

/* Validity is given in whole days; this bounds it (about 270 years), so
 * day arithmetic never overflows time_t. */
#define CERTS_MAX_DAYS 100000L

enum certs_key_type {
    CERTS_KEY_EC = 0, /* ECDSA P-256: small and fast, the default */
    CERTS_KEY_RSA,    /* RSA 2048, for clients that cannot do ECDSA */
};

/* Subject alternative names, in the order added, without duplicates
 * (DNS names compare case-insensitively, addresses by value). Start from
 * `struct certs_names n = {0};` and release with certs_names_free(). Callers
 * may read the arrays; they change only through the functions below. */
struct certs_names {
    char **dns; /* DNS names, as given */
    size_t n_dns;
    char **ip; /* addresses in canonical text (inet_ntop) */
    size_t n_ip;
};

/* Adds one DNS name: 1-253 characters, labels of 1-63 letters, digits and
 * '-' (not at either end); the left-most label may be exactly "*". Returns
 * 0, KUBE_EINVAL with the reason in err, or KUBE_ENOMEM. */
int certs_names_add_dns(struct certs_names *n, const char *name,
                        struct kube_err *err) KUBE_MUST_CHECK;

/* Adds one IPv4 or IPv6 address. Returns 0, KUBE_EINVAL (not an address)
 * or KUBE_ENOMEM. */
int certs_names_add_ip(struct certs_names *n, const char *addr,
                       struct kube_err *err) KUBE_MUST_CHECK;

/* Checks that s is an RFC 1123 DNS label, as Kubernetes requires of
 * Service and namespace names: 1-63 of a-z, 0-9 and '-', not at either
 * end. Returns 0 or KUBE_EINVAL with the reason. */
int certs_names_check_label(const char *s,
                            struct kube_err *err) KUBE_MUST_CHECK;

/* Adds the four names a Service answers to inside the cluster: NAME,
 * NAME.NS, NAME.NS.svc and NAME.NS.svc.cluster.local. Both must pass
 * certs_names_check_label(). Returns 0, KUBE_EINVAL or KUBE_ENOMEM. */
int certs_names_add_service(struct certs_names *n, const char *service,
                            const char *ns,
                            struct kube_err *err) KUBE_MUST_CHECK;

/* Adds the DNS and IP SANs of crt (borrowed). A certificate without SANs
 * adds nothing. Returns 0 or KUBE_ENOMEM. */
int certs_names_add_from_crt(struct certs_names *n, const X509 *crt,
                             struct kube_err *err) KUBE_MUST_CHECK;

/* Writes "a, b, 10.0.0.1" into buf (always terminated; cut with "..."
 * when it does not fit), or "none" for an empty list. Cannot fail. */
void certs_names_join(char *buf, size_t size, const struct certs_names *n);

/* Frees the lists and leaves n empty, ready for reuse. Takes NULL. */
void certs_names_free(struct certs_names *n);

/* A private key and its certificate, both owned. Free with
 * certs_pair_free(), which takes a zeroed or partly filled pair. */
struct certs_pair {
    EVP_PKEY *key;
    X509 *crt;
};

void certs_pair_free(struct certs_pair *p);

/* What to issue. Times are Unix seconds; certs_spec_days() fills them. */
struct certs_spec {
    enum certs_key_type key_type;
    const char *cn; /* subject CN; left out past 64 bytes */
    time_t not_before, not_after;
    const struct certs_names *names; /* serving certificates only */
};

/* Sets a validity of days from now, starting 5 minutes early so a node
 * with a slightly slow clock accepts a fresh certificate. A negative days
 * issues a certificate that expired days ago (one day long), for tests. */
void certs_spec_days(struct certs_spec *spec, time_t now, long days);

/* Issues a self-signed CA: CA:TRUE (critical), keyCertSign and cRLSign,
 * subject key identifier, SHA-256, a random 128-bit serial. On success
 * *out holds a new key and certificate; on failure *out is untouched and
 * err carries OpenSSL's reason. Returns 0, KUBE_ENOMEM or KUBE_ERR. */
int certs_make_ca(struct certs_pair *out, const struct certs_spec *spec,
                  struct kube_err *err) KUBE_MUST_CHECK;

/* Issues a serving certificate signed by ca (borrowed): CA:FALSE,
 * digitalSignature (plus keyEncipherment for RSA), serverAuth, the SANs of
 * spec->names (at least one is required), SHA-256, a random 128-bit serial.
 * Same returns as certs_make_ca(), plus KUBE_EINVAL without SANs. */
int certs_make_serving(struct certs_pair *out, const struct certs_pair *ca,
                       const struct certs_spec *spec,
                       struct kube_err *err) KUBE_MUST_CHECK;

/* Loads the first PEM certificate of path into *out (new; X509_free).
 * Returns 0, a kube_file_read() code, or KUBE_EINVAL when the file holds
 * no certificate (err names the path and OpenSSL's reason). */
int certs_load_crt(X509 **out, const char *path,
                   struct kube_err *err) KUBE_MUST_CHECK;

/* Loads an unencrypted PEM private key (PKCS#8 or traditional) into *out
 * (new; EVP_PKEY_free). Never prompts for a passphrase: an encrypted key
 * is KUBE_EINVAL. Other returns as certs_load_crt(). */
int certs_load_key(EVP_PKEY **out, const char *path,
                   struct kube_err *err) KUBE_MUST_CHECK;

/* Write flags. Without CERTS_WRITE_FORCE an existing file is never
 * replaced (the final link(2) fails rather than a check that could race). */
#define CERTS_WRITE_FORCE 0x1

/* Writes data to path atomically: a temporary file in the same directory
 * gets mode, the bytes and an fsync, then is renamed (or linked, without
 * CERTS_WRITE_FORCE) into place, so a reader sees the old file or the new
 * one, never a part. Returns 0, KUBE_EINVAL (exists, no FORCE) or KUBE_ERR;
 * no temporary file is left behind on failure. */
int certs_file_write(const char *path, const void *data, size_t len,
                     unsigned mode, int flags,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Writes p's key (PKCS#8 PEM, mode 0600) to dir/key_name, then its
 * certificate (PEM, 0644) to dir/crt_name, each with certs_file_write().
 * A server that reloads when the certificate changes sees the new key
 * first; one that reads between the two renames finds a mismatched pair
 * and should keep its old one and retry. Returns as certs_file_write(). */
int certs_pair_write(const char *dir, const char *crt_name,
                     const char *key_name, const struct certs_pair *p,
                     int flags, struct kube_err *err) KUBE_MUST_CHECK;

/* Formats t as "2025-01-31 12:00:00 UTC" (or "?" if it will not parse).
 * Cannot fail. */
void certs_time_str(char *buf, size_t size, const ASN1_TIME *t);

/* Whole days from now until crt's notAfter, rounded down; negative once
 * expired. Returns 0 or KUBE_EINVAL for an unreadable date. */
int certs_days_left(long *out, const X509 *crt, time_t now,
                    struct kube_err *err) KUBE_MUST_CHECK;

/* Serial number as lower-case hex, for messages. Cannot fail ("?"). */
void certs_serial_str(char *buf, size_t size, const X509 *crt);

/* --- renewal (certs/renew.c) --- */

/* Whether the serving certificate cur must be replaced: there is none, or
 * its notAfter is within before_days of now (or unreadable). */
int certs_renewal_due(const X509 *cur, long before_days, time_t now);

/* Fills spec's validity and key type for the successor of cur (NULL: none)
 * signed by ca: days from now, cut to the CA's own end (*capped says so);
 * RSA when rsa or cur is RSA, else ECDSA P-256. cn and names are the
 * caller's. KUBE_EINVAL "the CA expired on DATE" when it has. */
int certs_renew_spec(struct certs_spec *spec, int *capped, const X509 *ca,
                     const X509 *cur, long days, int rsa, time_t now,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* --- checks --- */

enum certs_severity {
    CERTS_WARNING, /* works today; a person should act soon */
    CERTS_PROBLEM, /* a TLS client would refuse this */
};

struct certs_finding {
    enum certs_severity severity;
    char msg[1024];
};

#define CERTS_MAX_FINDINGS 12

/* The findings of one check, on the caller's stack. */
struct certs_report {
    struct certs_finding items[CERTS_MAX_FINDINGS];
    size_t n;
    size_t problems; /* items with CERTS_PROBLEM */
};

/* What to check. crt is required; the rest is skipped when NULL (key, ca,
 * host) or 0 (warn_days). All borrowed. The *_name strings name the files
 * in messages, e.g. "tls.key does not match tls.crt". */
struct certs_check_in {
    X509 *crt;
    EVP_PKEY *key;
    X509 *ca;
    const char *host; /* DNS name (RFC 6125 wildcards) or IP address */
    long warn_days;   /* expiring within this many days is a warning */
    time_t now;
    const char *crt_name, *key_name, *ca_name;
};

/* Checks that the key matches the certificate, that host is among its
 * SANs, that ca signed it (X509_verify_cert; dates are judged separately),
 * that it allows serverAuth, and its (and the CA's) validity dates.
 * Findings go into *out (reset first). Returns 0 whatever was found, or
 * KUBE_ENOMEM / KUBE_ERR if the check itself could not run. */
int certs_check(struct certs_report *out, const struct certs_check_in *in,
                struct kube_err *err) KUBE_MUST_CHECK;

/* --- caBundle --- */

/* Reads the CA file at path (it must hold at least one PEM certificate)
 * and returns the base64 of its bytes, one line without newlines, in *out
 * (new; free()). Returns 0, a certs_load_crt() code, or KUBE_ENOMEM. */
int certs_bundle_b64(char **out, const char *path,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Replaces the value of every `caBundle:` key in the YAML text in[0..len)
 * with b64 and writes the new text to *out (new, NUL-terminated; free()).
 * A key is a line whose first token (after indentation and an optional
 * "- ") is `caBundle:`. Following lines indented deeper than the key are
 * the old value's continuation (block or folded scalar) and are dropped;
 * a trailing `# comment` is kept; every other byte is copied unchanged,
 * CRLF line ends included. *replaced counts the keys. Returns 0 (also with
 * no key found) or KUBE_ENOMEM. */
int certs_bundle_replace(char **out, size_t *out_len, size_t *replaced,
                         const char *in, size_t len, const char *b64,
                         struct kube_err *err) KUBE_MUST_CHECK;

/* certs_bundle_replace() on a file, written back atomically with its mode
 * kept (through symlinks, to the file they name). The file is not written
 * when nothing changes. Returns 0, KUBE_EINVAL when the file has no
 * caBundle key (file untouched), KUBE_ENOTFOUND when there is no file, or
 * another read/write code. */
int certs_bundle_write_file(size_t *replaced, const char *path, const char *b64,
                            struct kube_err *err) KUBE_MUST_CHECK;

#endif
