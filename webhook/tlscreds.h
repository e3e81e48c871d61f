/* webhook/tlscreds.h - a serving certificate chain and its private key,
 * read from PEM files into the GnuTLS objects libmicrohttpd's certificate
 * callback hands out. A pair is checked before use and never changes;
 * it is reference counted so a reload can swap in a new pair while
 * connections that started with the old one keep it alive. */
#ifndef VMSNAPD_WEBHOOK_TLSCREDS_H
#define VMSNAPD_WEBHOOK_TLSCREDS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdint.h>

#include "kube/errors.h"

/* Chains longer than this (leaf and intermediates) are refused. */
#define WH_TLSCREDS_MAX_CHAIN 8

struct wh_tlscreds;

/* Reads cert_path (PEM, leaf first, then its issuers in order) and
 * key_path (PEM private key: PKCS#8, PKCS#1 or SEC1, unencrypted) into *out,
 * a new reference. Fails with KUBE_EINVAL and err naming the file and the
 * fault: unreadable, not PEM, no certificate, a chain out of order, or a
 * key that is not the leaf certificate's; KUBE_ENOMEM. Both files are read
 * once, so a pair swapped on disk mid-read is caught by the key check.
 * Thread-safe. */
int wh_tlscreds_load(struct wh_tlscreds **out, const char *cert_path,
                     const char *key_path,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Reference counting; both accept NULL. Thread-safe. */
struct wh_tlscreds *wh_tlscreds_ref(struct wh_tlscreds *c);
void wh_tlscreds_unref(struct wh_tlscreds *c);

/* The chain and key in the shape gnutls_certificate_retrieve_function2
 * returns them; borrowed, valid while a reference is held (GnuTLS does
 * not free them: with function2 the application owns them). */
void wh_tlscreds_get(const struct wh_tlscreds *c, gnutls_pcert_st **pcert,
                     unsigned *pcert_length, gnutls_privkey_t *key);

/* The session ticket key of this pair, generated at load. A ticket is
 * honoured only by connections using the pair that issued it, so after
 * a swap no client resumes into the old certificate. Borrowed. */
const gnutls_datum_t *wh_tlscreds_ticket_key(const struct wh_tlscreds *c);

/* The leaf's notAfter and notBefore, unix seconds. */
int64_t wh_tlscreds_not_after(const struct wh_tlscreds *c);
int64_t wh_tlscreds_not_before(const struct wh_tlscreds *c);

/* The leaf's subject DN (RFC 4514), for logs. Borrowed. */
const char *wh_tlscreds_subject(const struct wh_tlscreds *c);

#endif
