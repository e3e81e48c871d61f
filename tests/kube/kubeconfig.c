/* tests/kube/kubeconfig.c - kubeconfig files (tests/data/kube/kubeconfig/),
 * the in-cluster service account and the order of sources. Run from the
 * repository root. Each Test runs in its own process (Criterion forks),
 * so setting the environment here leaks nowhere. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/kubeconfig.h"

#define DATA "tests/data/kube/kubeconfig/"

static void clear_env(void)
{
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    setenv("HOME", "/nonexistent-home", 1);
}

TestSuite(kube_kubeconfig, .init = clear_env);

static struct kube_config *load_ok(const char *path, const char *context)
{
    struct kube_config *c = NULL;
    struct kube_err err = {0};

    cr_assert_eq(kube_config_from_file(&c, path, context, &err), 0, "%s: %s",
                 path, err.msg);
    return c;
}

Test(kube_kubeconfig, client_certificate_data)
{
    struct kube_config *c = load_ok(DATA "certdata.yaml", NULL);

    cr_expect_str_eq(c->server, "https://127.0.0.1:6443");
    cr_expect_str_eq(c->context, "kind");
    cr_expect_str_eq(c->ns, "snaps");
    cr_expect_str_eq(c->source, DATA "certdata.yaml");
    cr_expect_str_eq(c->ca_pem, "-----BEGIN CERTIFICATE-----\nMIIBca\n"
                                "-----END CERTIFICATE-----\n");
    cr_expect_eq(c->ca_pem_len, strlen(c->ca_pem));
    cr_expect_str_eq(c->cert_pem, "-----BEGIN CERTIFICATE-----\nMIIBtest\n"
                                  "-----END CERTIFICATE-----\n");
    cr_expect_str_eq(c->key_pem, "-----BEGIN PRIVATE KEY-----\nMIIEkey\n"
                                 "-----END PRIVATE KEY-----\n");
    cr_expect_null(c->ca_file);
    cr_expect_null(c->cert_file);
    cr_expect_null(c->token);
    cr_expect_null(c->token_file);
    cr_expect_eq(c->insecure, 0);
    kube_config_free(c);
}

/* kubectl (Go's base64) ignores line breaks: a value wrapped in a YAML
 * literal block is the same certificate. */
Test(kube_kubeconfig, wrapped_certificate_data)
{
    struct kube_config *c = load_ok(DATA "certdata-wrapped.yaml", NULL);

    cr_expect_str_eq(c->ca_pem, "-----BEGIN CERTIFICATE-----\nMIIBca\n"
                                "-----END CERTIFICATE-----\n");
    kube_config_free(c);
}

Test(kube_kubeconfig, copy_is_deep)
{
    struct kube_config *c = load_ok(DATA "certdata.yaml", NULL), *d = NULL;

    cr_assert_eq(kube_config_copy(&d, c), 0);
    cr_expect_str_eq(d->server, c->server);
    cr_expect_neq(d->server, c->server, "its own memory");
    cr_expect_eq(d->key_pem_len, c->key_pem_len);
    cr_expect_eq(memcmp(d->key_pem, c->key_pem, c->key_pem_len + 1), 0);
    cr_expect_null(d->token);
    kube_config_free(c);
    cr_expect_str_eq(d->ns, "snaps", "outlives the original");
    kube_config_free(d);
}

Test(kube_kubeconfig, token_and_current_context)
{
    struct kube_config *c = load_ok(DATA "token.yaml", NULL);

    cr_expect_str_eq(c->context, "prod");
    cr_expect_str_eq(c->server, "https://api.prod.example:6443",
                     "trailing slashes dropped");
    cr_expect_eq(c->insecure, 1);
    cr_expect_str_eq(c->token, "static-token");
    cr_expect_str_eq(c->ns, "default");
    cr_expect_null(c->ca_pem);
    kube_config_free(c);

    c = load_ok(DATA "token.yaml", "dev"); /* --context */
    cr_expect_str_eq(c->context, "dev");
    cr_expect_str_eq(c->server, "https://dev.example:443");
    cr_expect_str_eq(c->token, "dev-token");
    cr_expect_eq(c->insecure, 0);
    kube_config_free(c);
}

Test(kube_kubeconfig, files_relative_to_the_kubeconfig)
{
    struct kube_config *c = load_ok(DATA "files.yaml", NULL);

    cr_expect_str_eq(c->server, "http://127.0.0.1:8080");
    cr_expect_str_eq(c->ca_file, DATA "ca.crt");
    cr_expect_str_eq(c->cert_file, DATA "client.crt");
    cr_expect_str_eq(c->key_file, DATA "client.key");
    cr_expect_str_eq(c->token_file, DATA "token");
    cr_expect_str_eq(c->token, "file-token-value",
                     "tokenFile wins over token; whitespace trimmed");
    cr_expect_str_eq(c->ns, "default", "an empty namespace is the default");
    kube_config_free(c);
}

Test(kube_kubeconfig, json_and_anonymous)
{
    struct kube_config *c = load_ok(DATA "anonymous.json", NULL);

    cr_expect_str_eq(c->server, "https://[::1]:6443");
    cr_expect_null(c->token);
    cr_expect_null(c->cert_pem);
    cr_expect_null(c->cert_file);
    kube_config_free(c);
}

/* Each bad kubeconfig, with the exact message a person reads. */
static const struct {
    const char *file, *msg;
} bad[] = {
    {"nope.yaml", "cannot open " DATA "nope.yaml: No such file or directory"},
    {"bad-empty.yaml", DATA "bad-empty.yaml: empty kubeconfig"},
    {"bad-syntax.yaml",
     DATA "bad-syntax.yaml:4:1: did not find expected ',' or '}' while "
          "parsing a flow mapping"},
    {"bad-not-mapping.yaml",
     DATA "bad-not-mapping.yaml:1:1: kubeconfig: want a mapping"},
    {"bad-no-current-context.yaml",
     DATA "bad-no-current-context.yaml: current-context is not set"},
    {"bad-context-missing.yaml",
     DATA "bad-context-missing.yaml:9:18: context \"staging\" not found"},
    {"bad-context-no-cluster.yaml",
     DATA "bad-context-no-cluster.yaml:7:5: context \"dev\": no cluster"},
    {"bad-cluster-missing.yaml",
     DATA "bad-cluster-missing.yaml:8:14: context \"dev\": cluster \"nope\" "
          "not found"},
    {"bad-user-missing.yaml",
     DATA "bad-user-missing.yaml:8:11: context \"dev\": user \"ghost\" not "
          "found"},
    {"bad-clusters-type.yaml",
     DATA "bad-clusters-type.yaml:2:3: clusters: want a list"},
    {"bad-entry-type.yaml",
     DATA "bad-entry-type.yaml:2:3: clusters[0]: want a mapping"},
    {"bad-no-server.yaml",
     DATA "bad-no-server.yaml:4:5: cluster \"dev\": no server"},
    {"bad-server-scheme.yaml",
     DATA "bad-server-scheme.yaml:4:13: cluster \"dev\": server "
          "\"dev.example:6443\": want https://host[:port]"},
    {"bad-base64.yaml", DATA "bad-base64.yaml:5:33: cluster \"dev\": "
                             "certificate-authority-data: bad base64"},
    {"bad-ca-file.yaml",
     DATA "bad-ca-file.yaml:5:28: cluster \"dev\": certificate-authority "
          "\"" DATA "missing-ca.crt\": No such file or directory"},
    {"bad-insecure-type.yaml",
     DATA "bad-insecure-type.yaml:5:31: cluster \"dev\": "
          "insecure-skip-tls-verify: want true or false"},
    {"bad-insecure-with-ca.yaml",
     DATA "bad-insecure-with-ca.yaml:6:31: cluster \"dev\": "
          "insecure-skip-tls-verify cannot be combined with a certificate "
          "authority"},
    {"bad-exec.yaml",
     DATA "bad-exec.yaml:7:5: user \"eks\": exec is not supported"},
    {"bad-cert-no-key.yaml",
     DATA "bad-cert-no-key.yaml:7:5: user \"half\": client-certificate "
          "without client-key"},
    {"bad-token-type.yaml",
     DATA "bad-token-type.yaml:7:12: users[0].user.token: want a string"},
    {"bad-tokenfile-missing.yaml",
     DATA "bad-tokenfile-missing.yaml:7:16: user \"u\": tokenFile: "
          "cannot open /nonexistent/token: No such file or directory"},
};

Test(kube_kubeconfig, bad_files)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kube_config *c = NULL;
        struct kube_err err = {0};
        char path[256];
        int rc;

        snprintf(path, sizeof(path), DATA "%s", bad[i].file);
        rc = kube_config_from_file(&c, path, NULL, &err);
        cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", bad[i].file, rc);
        cr_expect_str_eq(err.msg, bad[i].msg, "%s", bad[i].file);
        cr_expect_null(c, "%s: no config on failure", bad[i].file);
    }
}

Test(kube_kubeconfig, context_override_not_found)
{
    struct kube_config *c = NULL;
    struct kube_err err = {0};

    cr_expect_eq(kube_config_from_file(&c, DATA "token.yaml", "qa", &err),
                 KUBE_EINVAL);
    cr_expect_str_eq(err.msg, DATA "token.yaml: context \"qa\" not found");
}

/* A service account folder like the kubelet mounts. */
static void make_sa(char *dir, size_t len, int with_ns)
{
    char path[512];
    FILE *f;

    snprintf(dir, len, "/tmp/vmsnapd-sa-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/token", dir);
    f = fopen(path, "w");
    cr_assert(f);
    fputs("eyJhbGciOi.sa-token\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/ca.crt", dir);
    f = fopen(path, "w");
    cr_assert(f);
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    fclose(f);
    if (with_ns) {
        snprintf(path, sizeof(path), "%s/namespace", dir);
        f = fopen(path, "w");
        cr_assert(f);
        fputs("vmsnapd-system", f);
        fclose(f);
    }
}

static void rm_sa(const char *dir)
{
    static const char *const files[] = {"token", "ca.crt", "namespace"};
    char path[512];

    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

Test(kube_kubeconfig, in_cluster)
{
    struct kube_config *c = NULL;
    struct kube_err err = {0};
    char dir[64], want[128];

    make_sa(dir, sizeof(dir), 1);
    cr_expect_eq(kube_config_in_cluster(&c, dir, &err), KUBE_ENOTFOUND);
    cr_expect_str_eq(err.msg, "in-cluster: KUBERNETES_SERVICE_HOST and "
                              "KUBERNETES_SERVICE_PORT must be set");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    cr_assert_eq(kube_config_in_cluster(&c, dir, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->server, "https://10.96.0.1:443");
    cr_expect_str_eq(c->token, "eyJhbGciOi.sa-token");
    snprintf(want, sizeof(want), "%s/token", dir);
    cr_expect_str_eq(c->token_file, want);
    snprintf(want, sizeof(want), "%s/ca.crt", dir);
    cr_expect_str_eq(c->ca_file, want);
    cr_expect_str_eq(c->ns, "vmsnapd-system");
    cr_expect_str_eq(c->source, "in-cluster");
    kube_config_free(c);

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1); /* IPv6 */
    cr_assert_eq(kube_config_in_cluster(&c, dir, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->server, "https://[fd00::1]:443");
    kube_config_free(c);
    rm_sa(dir);

    make_sa(dir, sizeof(dir), 0);
    cr_assert_eq(kube_config_in_cluster(&c, dir, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->ns, "default", "no namespace file");
    kube_config_free(c);
    snprintf(want, sizeof(want), "%s/token", dir);
    unlink(want);
    cr_expect_eq(kube_config_in_cluster(&c, dir, &err), KUBE_EINVAL);
    snprintf(want, sizeof(want),
             "cannot open %s/token: No such file or directory", dir);
    cr_expect_str_eq(err.msg, want);
    rm_sa(dir);
}

/* --kubeconfig, then the first of $KUBECONFIG, then in-cluster, then
 * ~/.kube/config. */
Test(kube_kubeconfig, load_order)
{
    struct kube_config_source src = {0};
    struct kube_config *c = NULL;
    struct kube_err err = {0};
    char dir[64], home[128], path[256];
    FILE *f;

    cr_expect_eq(kube_config_load(&c, &src, &err), KUBE_ENOTFOUND);
    cr_expect_str_eq(err.msg,
                     "no API server configuration: no --kubeconfig, "
                     "KUBECONFIG unset, not in a cluster "
                     "(KUBERNETES_SERVICE_HOST unset), no ~/.kube/config");

    /* ~/.kube/config */
    snprintf(home, sizeof(home), "/tmp/vmsnapd-home-XXXXXX");
    cr_assert(mkdtemp(home));
    snprintf(path, sizeof(path), "%s/.kube", home);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/.kube/config", home);
    f = fopen(path, "w");
    cr_assert(f);
    fputs("clusters: [{name: h, cluster: {server: 'https://home:1'}}]\n"
          "contexts: [{name: h, context: {cluster: h}}]\n"
          "current-context: h\n",
          f);
    fclose(f);
    setenv("HOME", home, 1);
    cr_assert_eq(kube_config_load(&c, &src, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->server, "https://home:1");
    kube_config_free(c);

    /* in-cluster beats ~/.kube/config */
    make_sa(dir, sizeof(dir), 1);
    src.sa_dir = dir;
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    cr_assert_eq(kube_config_load(&c, &src, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->source, "in-cluster");
    kube_config_free(c);

    /* $KUBECONFIG beats in-cluster; only its first path is read */
    setenv("KUBECONFIG", ":" DATA "token.yaml:" DATA "certdata.yaml", 1);
    cr_assert_eq(kube_config_load(&c, &src, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->source, DATA "token.yaml");
    kube_config_free(c);

    /* --kubeconfig (and --context) beat everything */
    src.kubeconfig = DATA "certdata.yaml";
    cr_assert_eq(kube_config_load(&c, &src, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c->source, DATA "certdata.yaml");
    kube_config_free(c);

    unlink(path);
    snprintf(path, sizeof(path), "%s/.kube", home);
    rmdir(path);
    rmdir(home);
    rm_sa(dir);
}

Test(kube_kubeconfig, read_token)
{
    char *tok = NULL;
    struct kube_err err = {0};

    cr_assert_eq(kube_config_read_token(&tok, DATA "token", &err), 0);
    cr_expect_str_eq(tok, "file-token-value");
    free(tok);
    cr_expect_eq(kube_config_read_token(&tok, DATA "bad-empty.yaml", &err),
                 KUBE_EINVAL);
    cr_expect_str_eq(err.msg, DATA "bad-empty.yaml: empty token file");
}
