/* certs/io.c - reading and writing PEM files: bounded reads, no
 * passphrase prompts, and atomic writes so a watching server never loads
 * half a file. */
#include "certs/certs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "certs/internal.h"
#include "kube/file.h"

/* A passphrase callback that refuses: a daemon must never prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Reads path and parses it with key ? PEM_read_bio_PrivateKey :
 * PEM_read_bio_X509 into *crt or *key. */
static int load_pem(X509 **crt, EVP_PKEY **key, const char *path,
                    struct kube_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    int rc;

    rc = kube_file_read(&buf, &len, path, CERTS_MAX_FILE, err);
    if (rc < 0)
        return rc;                        /* err names the path and errno */
    bio = BIO_new_mem_buf(buf, (int)len); /* borrows buf */
    if (!bio) {
        rc = certs_ssl_err(err, KUBE_ENOMEM, "cannot read %s", path);
        goto done;
    }
    if (key)
        *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    else
        *crt = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    if (key ? !*key : !*crt)
        rc = certs_ssl_err(err, KUBE_EINVAL, "%s holds no PEM %s", path,
                           key ? "private key (or it is encrypted)"
                               : "certificate");
done:
    BIO_free(bio);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

int certs_load_crt(X509 **out, const char *path, struct kube_err *err)
{
    return load_pem(out, NULL, path, err);
}

int certs_load_key(EVP_PKEY **out, const char *path, struct kube_err *err)
{
    return load_pem(NULL, out, path, err);
}

/* Splits path into the directory to hold the temporary file. */
static int tmp_name(char *buf, size_t size, const char *path)
{
    const char *slash = strrchr(path, '/');
    int w;

    if (slash)
        w = snprintf(buf, size, "%.*s/.%s.tmp-XXXXXX", (int)(slash - path),
                     path, slash + 1);
    else
        w = snprintf(buf, size, ".%s.tmp-XXXXXX", path);
    return w >= 0 && (size_t)w < size;
}

static int write_fd(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Moves tmp to path; without force, link(2) fails if path exists, so no
 * check-then-write race. Filesystems without hard links fall back to a
 * check and rename. */
static int put_in_place(const char *tmp, const char *path, int force,
                        struct kube_err *err)
{
    struct stat st;

    if (force) {
        if (rename(tmp, path) == 0)
            return KUBE_OK;
    } else if (link(tmp, path) == 0) {
        unlink(tmp);
        return KUBE_OK;
    } else if (errno == EEXIST) {
        return kube_err_set(err, KUBE_EINVAL, "%s already exists", path);
    } else if (errno == EPERM || errno == ENOTSUP || errno == ENOSYS) {
        if (lstat(path, &st) == 0)
            return kube_err_set(err, KUBE_EINVAL, "%s already exists", path);
        if (rename(tmp, path) == 0)
            return KUBE_OK;
    }
    return kube_err_set(err, KUBE_ERR, "cannot write %s: %s", path,
                        strerror(errno));
}

int certs_file_write(const char *path, const void *data, size_t len,
                     unsigned mode, int flags, struct kube_err *err)
{
    char tmp[PATH_MAX];
    int fd = -1, rc = KUBE_ERR;

    if (!tmp_name(tmp, sizeof(tmp), path))
        return kube_err_set(err, KUBE_EINVAL, "path too long: %s", path);
    fd = mkstemp(tmp); /* 0600 until fchmod */
    if (fd < 0)
        return kube_err_set(err, KUBE_ERR,
                            "cannot create a temporary file for %s: %s", path,
                            strerror(errno));
    if (fchmod(fd, (mode_t)mode) < 0 || write_fd(fd, data, len) < 0 ||
        fsync(fd) < 0) {
        rc = kube_err_set(err, KUBE_ERR, "cannot write %s: %s", tmp,
                          strerror(errno));
        goto done;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = kube_err_set(err, KUBE_ERR, "cannot write %s: %s", tmp,
                          strerror(errno));
        goto done;
    }
    fd = -1;
    rc = put_in_place(tmp, path, flags & CERTS_WRITE_FORCE, err);
done:
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        unlink(tmp); /* after a successful rename it is already gone */
    return rc;
}

static int join_path(char *buf, size_t size, const char *dir, const char *name,
                     struct kube_err *err)
{
    int w = snprintf(buf, size, "%s/%s", dir, name);

    if (w < 0 || (size_t)w >= size)
        return kube_err_set(err, KUBE_EINVAL, "path too long: %s/%s", dir,
                            name);
    return KUBE_OK;
}

/* PEM of the key (secure=1, in OpenSSL's cleansing memory) or of the
 * certificate, written to dir/name. */
static int write_pem(const char *dir, const char *name, X509 *crt,
                     EVP_PKEY *key, int flags, struct kube_err *err)
{
    char path[PATH_MAX];
    BIO *bio = NULL;
    char *data;
    long len;
    int rc;

    rc = join_path(path, sizeof(path), dir, name, err);
    if (rc < 0)
        return rc;
    bio = BIO_new(key ? BIO_s_secmem() : BIO_s_mem());
    if (!bio ||
        !(key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)
              : PEM_write_bio_X509(bio, crt))) {
        rc = certs_ssl_err(err, KUBE_ERR, "cannot encode %s", path);
        goto done;
    }
    len = BIO_get_mem_data(bio, &data); /* borrowed from bio */
    rc = certs_file_write(path, data, (size_t)len, key ? 0600 : 0644, flags,
                          err);
done:
    BIO_free(bio);
    return rc;
}

int certs_pair_write(const char *dir, const char *crt_name,
                     const char *key_name, const struct certs_pair *p,
                     int flags, struct kube_err *err)
{
    int rc = write_pem(dir, key_name, NULL, p->key, flags, err);

    if (rc == KUBE_OK)
        rc = write_pem(dir, crt_name, p->crt, NULL, flags, err);
    return rc;
}

void certs_time_str(char *buf, size_t size, const ASN1_TIME *t)
{
    struct tm tm;

    if (!t || !ASN1_TIME_to_tm(t, &tm) ||
        strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, size, "?");
}

int certs_days_left(long *out, const X509 *crt, time_t now,
                    struct kube_err *err)
{
    ASN1_TIME *from = ASN1_TIME_set(NULL, now);
    int day = 0, sec = 0, ok;
    long total;

    ok = from && ASN1_TIME_diff(&day, &sec, from, X509_get0_notAfter(crt));
    ASN1_TIME_free(from);
    if (!ok)
        return certs_ssl_err(err, KUBE_EINVAL,
                             "cannot read the certificate's notAfter");
    /* day and sec share a sign; round toward minus infinity */
    total = (long)day * 86400 + sec;
    *out = total >= 0 ? total / 86400 : -((-total + 86399) / 86400);
    return KUBE_OK;
}

void certs_serial_str(char *buf, size_t size, const X509 *crt)
{
    /* get0 serial; the BIGNUM and its hex are ours */
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(crt), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    snprintf(buf, size, "%s", hex ? hex : "?");
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    OPENSSL_free(hex);
    BN_free(bn);
}
