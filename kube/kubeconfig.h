/* kube/kubeconfig.h - where the API server is and how to authenticate to
 * it: a kubeconfig file (libyaml, through kube/yaml.h) or the in-cluster
 * service account. The result is a plain, read-only description; the
 * client (kube/client.h) turns it into libcurl options.
 *
 * Errors name the file and, where a field is at fault, its line and
 * column: "kubeconfig:7:15: context \"dev\": cluster \"nope\" not found". */
#ifndef VMSNAPD_KUBE_KUBECONFIG_H
#define VMSNAPD_KUBE_KUBECONFIG_H

#include <stddef.h>

#include "kube/errors.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* One resolved configuration. Fields are read-only once loaded; pointers
 * are NULL when unset. PEM blobs are NUL-terminated as well as sized. */
struct kube_config {
    char *source;  /* "in-cluster" or the kubeconfig's path, for logs */
    char *context; /* context used ("" in-cluster) */
    char *server;  /* "https://host:port", no trailing '/' */
    char *ns;      /* context's namespace, the service account's, or
                      "default" */
    char *ca_file; /* certificate-authority, resolved against the
                      kubeconfig's folder */
    char *ca_pem;  /* certificate-authority-data, decoded */
    size_t ca_pem_len;
    int insecure;               /* insecure-skip-tls-verify */
    char *cert_file, *key_file; /* client-certificate, client-key */
    char *cert_pem, *key_pem;   /* client-certificate-data, -key-data */
    size_t cert_pem_len, key_pem_len;
    char *token;      /* bearer token as read at load; never log it */
    char *token_file; /* tokenFile or the service account token: the
                         client re-reads it periodically */
};

/* Where to look; every field may be NULL. */
struct kube_config_source {
    const char *kubeconfig; /* --kubeconfig */
    const char *context;    /* --context: overrides current-context */
    const char *sa_dir;     /* service account files; NULL: KUBE_SA_DIR */
};

/* Resolves the configuration as controller-runtime does: --kubeconfig;
 * else $KUBECONFIG (only the first path of a colon-separated list is
 * read: vmsnapd does not merge kubeconfigs); else the in-cluster service
 * account when KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are
 * set; else $HOME/.kube/config. On success *out is the caller's (free with
 * kube_config_free). KUBE_ENOTFOUND when no source applies; otherwise the
 * chosen source's error. Reads the environment: call before threads. */
int kube_config_load(struct kube_config **out,
                     const struct kube_config_source *src,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* Reads one kubeconfig (YAML or JSON). context NULL means its
 * current-context. Relative paths in it are taken from the file's folder.
 * Files it names (certificate-authority, client-certificate, client-key,
 * tokenFile) must be readable now. KUBE_EINVAL with "PATH:LINE:COL: what"
 * for a bad file (missing current-context, context, cluster or user not
 * found, no server, bad base64, wrong types, unsupported exec/auth-provider
 * /basic auth, a certificate without its key, insecure with a CA); the
 * reading error for an unreadable one. */
int kube_config_from_file(struct kube_config **out, const char *path,
                          const char *context,
                          struct kube_err *err) KUBE_MUST_CHECK;

/* The in-cluster service account: server https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT (IPv6 hosts bracketed), token and ca.crt from
 * sa_dir (NULL: KUBE_SA_DIR), namespace from sa_dir/namespace (else
 * "default"). KUBE_ENOTFOUND when either variable is unset or empty;
 * the reading error when the token or CA cannot be read. */
int kube_config_in_cluster(struct kube_config **out, const char *sa_dir,
                           struct kube_err *err) KUBE_MUST_CHECK;

/* Reads a bearer token file into *out (caller frees), trailing whitespace
 * removed, as client-go does. KUBE_EINVAL naming the path when it cannot
 * be read or is empty; the token itself never appears in messages. */
int kube_config_read_token(char **out, const char *path,
                           struct kube_err *err) KUBE_MUST_CHECK;

/* A deep copy of c into *out (free with kube_config_free). KUBE_ENOMEM. */
int kube_config_copy(struct kube_config **out,
                     const struct kube_config *c) KUBE_MUST_CHECK;

void kube_config_free(struct kube_config *c);

#endif
