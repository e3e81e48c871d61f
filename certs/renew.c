/* certs/renew.c - the renewal policy behind `vmsnapd certs renew`: when a
 * serving certificate is due, and what its successor looks like (the same
 * key type unless told, never outliving the CA that signs it). */
#include "certs/certs.h"

#include <time.h>

int certs_renewal_due(const X509 *cur, long before_days, time_t now)
{
    time_t limit = now + (time_t)before_days * 86400;

    if (!cur)
        return 1;
    /* also on an unreadable date (0): replace what cannot be trusted */
    return X509_cmp_time(X509_get0_notAfter(cur), &limit) <= 0;
}

int certs_renew_spec(struct certs_spec *spec, int *capped, const X509 *ca,
                     const X509 *cur, long days, int rsa, time_t now,
                     struct kube_err *err)
{
    const ASN1_TIME *ca_end = X509_get0_notAfter(ca);
    char date[64];
    struct tm tm;
    time_t end;

    *capped = 0;
    certs_time_str(date, sizeof(date), ca_end);
    if (!ASN1_TIME_to_tm(ca_end, &tm) || X509_cmp_time(ca_end, &now) <= 0)
        return kube_err_set(err, KUBE_EINVAL, "the CA expired on %s", date);
    certs_spec_days(spec, now, days);
    end = timegm(&tm);
    if (end < spec->not_after) {
        spec->not_after = end;
        *capped = 1;
    }
    /* keep the algorithm unless told: clients may depend on it */
    spec->key_type = rsa || (cur && EVP_PKEY_is_a(X509_get0_pubkey(cur), "RSA"))
                         ? CERTS_KEY_RSA
                         : CERTS_KEY_EC;
    return KUBE_OK;
}
