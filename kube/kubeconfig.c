/* kube/kubeconfig.c - kubeconfig files and the in-cluster service account
 * into a struct kube_config. */
#include "kube/kubeconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kube/json.h"
#include "kube/base64.h"
#include "kube/yaml.h"
#include "kube/file.h"

enum {
    MAX_KUBECONFIG = 4 << 20, /* bytes; real ones are a few KiB */
    MAX_TOKEN = 64 << 10,     /* bound tokens are about 1 KiB */
    FIELD = 256,              /* field paths in messages */
};

/* One parse: the document being read and where results go. */
struct kc {
    const char *path; /* for messages */
    char *dir;        /* the file's folder, for relative paths */
    const char *context;
    const struct kube_yaml_doc *doc; /* borrowed during the callback */
    struct kube_config *cfg;
    struct kube_err *err;
    int rc;
};

/* Frees a secret after overwriting it. */
static void wipe_free(char *s, size_t len)
{
    if (s)
        memset(s, 0, len);
    free(s);
}

void kube_config_free(struct kube_config *c)
{
    if (!c)
        return;
    free(c->source);
    free(c->context);
    free(c->server);
    free(c->ns);
    free(c->ca_file);
    free(c->ca_pem);
    free(c->cert_file);
    free(c->key_file);
    free(c->cert_pem);
    wipe_free(c->key_pem, c->key_pem_len);
    wipe_free(c->token, c->token ? strlen(c->token) : 0);
    free(c->token_file);
    free(c);
}

/* A copy of an optional string; *ok cleared when it fails. */
static char *dup_opt(const char *s, int *ok)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *ok = 0;
    return d;
}

/* A copy of len bytes plus a NUL (PEM blobs); *ok cleared on failure. */
static char *dup_mem(const char *s, size_t len, int *ok)
{
    char *d = s ? malloc(len + 1) : NULL;

    if (s && !d)
        *ok = 0;
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

int kube_config_copy(struct kube_config **out, const struct kube_config *c)
{
    struct kube_config *d = calloc(1, sizeof(*d));
    int ok = d != NULL;

    if (!d)
        return KUBE_ENOMEM;
    *d = *c; /* scalars and lengths; every pointer is replaced below */
    d->source = dup_opt(c->source, &ok);
    d->context = dup_opt(c->context, &ok);
    d->server = dup_opt(c->server, &ok);
    d->ns = dup_opt(c->ns, &ok);
    d->ca_file = dup_opt(c->ca_file, &ok);
    d->ca_pem = dup_mem(c->ca_pem, c->ca_pem_len, &ok);
    d->cert_file = dup_opt(c->cert_file, &ok);
    d->key_file = dup_opt(c->key_file, &ok);
    d->cert_pem = dup_mem(c->cert_pem, c->cert_pem_len, &ok);
    d->key_pem = dup_mem(c->key_pem, c->key_pem_len, &ok);
    d->token = dup_opt(c->token, &ok);
    d->token_file = dup_opt(c->token_file, &ok);
    if (!ok) {
        kube_config_free(d);
        return KUBE_ENOMEM;
    }
    *out = d;
    return KUBE_OK;
}

static int nomem(struct kube_err *err)
{
    return kube_err_set(err, KUBE_ENOMEM, "kubeconfig: out of memory");
}

/* A file the configuration names must be there: its absence is input we
 * refuse, never KUBE_ENOTFOUND, which means "no configuration at all"
 * (serve then runs webhook-only). */
static int named_file_code(int rc)
{
    return rc == KUBE_ENOTFOUND ? KUBE_EINVAL : rc;
}

int kube_config_read_token(char **out, const char *path, struct kube_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = kube_file_read(&buf, &len, path, MAX_TOKEN, err);

    if (rc < 0) /* err names the path and errno, never the content */
        return named_file_code(rc);
    while (len > 0 && strchr(" \t\r\n", buf[len - 1]))
        buf[--len] = '\0';
    if (len == 0) {
        free(buf);
        return kube_err_set(err, KUBE_EINVAL, "%s: empty token file", path);
    }
    *out = buf;
    return KUBE_OK;
}

/* "PATH:LINE:COL: message" at field's key (at_key) or value; when the
 * field is absent, at the value of its longest existing parent; "PATH:
 * message" when field is NULL. Returns KUBE_EINVAL. */
static int vbad(struct kc *k, const char *field, int at_key, const char *fmt,
                va_list ap) KUBE_PRINTF(4, 0);
static int vbad(struct kc *k, const char *field, int at_key, const char *fmt,
                va_list ap)
{
    struct kube_yaml_where w;
    char msg[KUBE_ERR_MSG];

    vsnprintf(msg, sizeof(msg), fmt, ap); /* cut is fine */
    if (!field)
        return kube_err_set(k->err, KUBE_EINVAL, "%s: %s", k->path, msg);
    kube_yaml_where(&w, k->doc, field);
    if (at_key && w.found && w.key_line)
        return kube_err_set(k->err, KUBE_EINVAL, "%s:%d:%d: %s", k->path,
                            w.key_line, w.key_col, msg);
    return kube_err_set(k->err, KUBE_EINVAL, "%s:%d:%d: %s", k->path,
                        w.val_line, w.val_col, msg);
}

static int bad(struct kc *k, const char *field, const char *fmt, ...)
    KUBE_PRINTF(3, 4);
static int bad(struct kc *k, const char *field, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vbad(k, field, 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* The same, pointing at the key: for keys that should not be there. */
static int bad_key(struct kc *k, const char *field, const char *fmt, ...)
    KUBE_PRINTF(3, 4);
static int bad_key(struct kc *k, const char *field, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vbad(k, field, 1, fmt, ap);
    va_end(ap);
    return rc;
}

/* field + "." + key into buf (FIELD bytes). Our field paths are short:
 * fixed keys and list indexes; a cut would only blur a message. */
static const char *sub(char *buf, const char *field, const char *key)
{
    int n = snprintf(buf, FIELD, "%s.%s", field, key);

    if (n < 0)
        buf[0] = '\0';
    return buf;
}

/* *out is the string at obj[key] (borrowed) or NULL when absent or null;
 * KUBE_EINVAL when it is something else. */
static int opt_str(const char **out, struct kc *k, const json_t *obj,
                   const char *field, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    char f[FIELD];

    *out = NULL;
    if (!v || json_is_null(v))
        return KUBE_OK;
    if (!json_is_string(v))
        return bad(k, sub(f, field, key), "%s: want a string", f);
    *out = json_string_value(v);
    return KUBE_OK;
}

static int set_str(char **dst, const char *s, struct kc *k)
{
    *dst = strdup(s);
    return *dst ? KUBE_OK : nomem(k->err);
}

/* A path from the kubeconfig, resolved against its folder. */
static int set_path(char **dst, const char *p, struct kc *k)
{
    size_t n;

    if (p[0] == '/')
        return set_str(dst, p, k);
    n = strlen(k->dir) + strlen(p) + 2;
    *dst = malloc(n);
    if (!*dst)
        return nomem(k->err);
    snprintf(*dst, n, "%s/%s", k->dir, p);
    return KUBE_OK;
}

/* Finds the entry named name in the list root[list] ("clusters") and
 * returns its inner mapping (entry[inner], "cluster") in *out and its index
 * in *idx. *out NULL when no entry has that name. */
static int find_named(const json_t **out, size_t *idx, struct kc *k,
                      const char *list, const char *inner, const char *name)
{
    const json_t *arr = json_object_get(k->doc->root, list), *item;
    char f[FIELD];
    size_t i;

    *out = NULL;
    if (!arr || json_is_null(arr))
        return KUBE_OK;
    if (!json_is_array(arr))
        return bad(k, list, "%s: want a list", list);
    json_array_foreach(arr, i, item)
    {
        snprintf(f, sizeof(f), "%s[%zu]", list, i);
        if (!json_is_object(item))
            return bad(k, f, "%s: want a mapping", f);
        if (strcmp(kube_json_str0(item, "name"), name) != 0)
            continue;
        *out = json_object_get(item, inner);
        if (!json_is_object(*out))
            return bad(k, f, "%s \"%s\": want a \"%s\" mapping", inner, name,
                       inner);
        *idx = i;
        return KUBE_OK;
    }
    return KUBE_OK;
}

/* base64 field into a NUL-terminated PEM buffer. */
static int pem_data(char **dst, size_t *dlen, struct kc *k, const json_t *obj,
                    const char *field, const char *key, const char *what)
{
    const char *s;
    unsigned char *raw = NULL;
    size_t n = 0;
    char f[FIELD];
    int rc = opt_str(&s, k, obj, field, key);

    if (rc < 0 || !s)
        return rc;
    rc = kube_unbase64(&raw, &n, s);
    if (rc == KUBE_ENOMEM)
        return nomem(k->err);
    if (rc < 0 || n == 0)
        return bad(k, sub(f, field, key), "%s: %s: bad base64", what, key);
    *dst = malloc(n + 1);
    if (!*dst) {
        free(raw);
        return nomem(k->err);
    }
    memcpy(*dst, raw, n);
    (*dst)[n] = '\0';
    *dlen = n;
    free(raw);
    return KUBE_OK;
}

/* A file the config names: resolved, and readable now so a typo shows at
 * startup rather than at the first TLS handshake. */
static int file_ref(char **dst, struct kc *k, const json_t *obj,
                    const char *field, const char *key, const char *what)
{
    const char *s;
    char f[FIELD];
    int rc = opt_str(&s, k, obj, field, key);

    if (rc < 0 || !s || !s[0])
        return rc;
    rc = set_path(dst, s, k);
    if (rc < 0)
        return rc;
    if (access(*dst, R_OK) != 0)
        return bad(k, sub(f, field, key), "%s: %s \"%s\": %s", what, key, *dst,
                   strerror(errno));
    return KUBE_OK;
}

static int cluster_server(struct kc *k, const json_t *cl, const char *field,
                          const char *what)
{
    const char *s;
    char f[FIELD];
    size_t n;
    int rc = opt_str(&s, k, cl, field, "server");

    if (rc < 0)
        return rc;
    if (!s || !s[0])
        return bad(k, field, "%s: no server", what);
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return bad(k, sub(f, field, "server"),
                   "%s: server \"%.100s\": want https://host[:port]", what, s);
    rc = set_str(&k->cfg->server, s, k);
    if (rc < 0)
        return rc;
    n = strlen(k->cfg->server);
    while (n > 0 && k->cfg->server[n - 1] == '/')
        k->cfg->server[--n] = '\0'; /* paths are appended with their '/' */
    return KUBE_OK;
}

/* Keys we refuse rather than ignore: silently skipping them would talk to
 * the server differently from what the file says. */
static int unsupported(struct kc *k, const json_t *obj, const char *field,
                       const char *what, const char *const *keys)
{
    char f[FIELD];

    for (size_t i = 0; keys[i]; i++)
        if (json_object_get(obj, keys[i]))
            return bad_key(k, sub(f, field, keys[i]), "%s: %s is not supported",
                           what, keys[i]);
    return KUBE_OK;
}

static int parse_cluster(struct kc *k, const json_t *cl, const char *field,
                         const char *what)
{
    static const char *const refused[] = {"proxy-url", "tls-server-name", NULL};
    struct kube_config *c = k->cfg;
    const json_t *ins = json_object_get(cl, "insecure-skip-tls-verify");
    char f[FIELD];
    int rc;

    rc = cluster_server(k, cl, field, what);
    if (rc == 0)
        rc = unsupported(k, cl, field, what, refused);
    if (rc == 0)
        rc = pem_data(&c->ca_pem, &c->ca_pem_len, k, cl, field,
                      "certificate-authority-data", what);
    if (rc == 0 && !c->ca_pem) /* data overrides the path */
        rc = file_ref(&c->ca_file, k, cl, field, "certificate-authority", what);
    if (rc < 0)
        return rc;
    if (ins && !json_is_boolean(ins))
        return bad(k, sub(f, field, "insecure-skip-tls-verify"),
                   "%s: insecure-skip-tls-verify: want true or false", what);
    c->insecure = json_is_true(ins);
    if (c->insecure && (c->ca_pem || c->ca_file))
        return bad(k, sub(f, field, "insecure-skip-tls-verify"),
                   "%s: insecure-skip-tls-verify cannot be combined with a "
                   "certificate authority",
                   what);
    return KUBE_OK;
}

static int user_token(struct kc *k, const json_t *u, const char *field,
                      const char *what)
{
    struct kube_config *c = k->cfg;
    struct kube_err sub_err;
    const char *tok;
    char f[FIELD];
    int rc = opt_str(&tok, k, u, field, "token");

    if (rc == 0 && tok && tok[0])
        rc = set_str(&c->token, tok, k);
    if (rc == 0)
        rc = opt_str(&tok, k, u, field, "tokenFile");
    if (rc < 0 || !tok || !tok[0])
        return rc;
    rc = set_path(&c->token_file, tok, k);
    if (rc < 0)
        return rc;
    if (c->token) { /* the file's value wins over token */
        wipe_free(c->token, strlen(c->token));
        c->token = NULL;
    }
    rc = kube_config_read_token(&c->token, c->token_file, &sub_err);
    if (rc < 0)
        return bad(k, sub(f, field, "tokenFile"), "%s: tokenFile: %s", what,
                   sub_err.msg);
    return KUBE_OK;
}

static int parse_user(struct kc *k, const json_t *u, const char *field,
                      const char *what)
{
    static const char *const refused[] = {
        "exec",   "auth-provider", "username",      "password", "as",
        "as-uid", "as-groups",     "as-user-extra", NULL};
    struct kube_config *c = k->cfg;
    int rc;

    rc = unsupported(k, u, field, what, refused);
    if (rc == 0)
        rc = user_token(k, u, field, what);
    if (rc == 0)
        rc = pem_data(&c->cert_pem, &c->cert_pem_len, k, u, field,
                      "client-certificate-data", what);
    if (rc == 0)
        rc = pem_data(&c->key_pem, &c->key_pem_len, k, u, field,
                      "client-key-data", what);
    if (rc == 0 && !c->cert_pem)
        rc = file_ref(&c->cert_file, k, u, field, "client-certificate", what);
    if (rc == 0 && !c->key_pem)
        rc = file_ref(&c->key_file, k, u, field, "client-key", what);
    if (rc < 0)
        return rc;
    if ((c->cert_pem || c->cert_file) && !(c->key_pem || c->key_file))
        return bad(k, field, "%s: client-certificate without client-key", what);
    if ((c->key_pem || c->key_file) && !(c->cert_pem || c->cert_file))
        return bad(k, field, "%s: client-key without client-certificate", what);
    return KUBE_OK;
}

/* The context's cluster: found, then read. */
static int use_cluster(struct kc *k, const json_t *cx, const char *cxfield)
{
    const json_t *cl;
    const char *name;
    char f[FIELD], what[FIELD];
    size_t i = 0;
    int rc = opt_str(&name, k, cx, cxfield, "cluster");

    if (rc < 0)
        return rc;
    if (!name || !name[0])
        return bad(k, cxfield, "context \"%s\": no cluster", k->cfg->context);
    rc = find_named(&cl, &i, k, "clusters", "cluster", name);
    if (rc < 0)
        return rc;
    if (!cl)
        return bad(k, sub(f, cxfield, "cluster"),
                   "context \"%s\": cluster \"%s\" not found", k->cfg->context,
                   name);
    snprintf(f, sizeof(f), "clusters[%zu].cluster", i);
    snprintf(what, sizeof(what), "cluster \"%s\"", name);
    return parse_cluster(k, cl, f, what);
}

/* The context's user, when it names one (none means anonymous). */
static int use_user(struct kc *k, const json_t *cx, const char *cxfield)
{
    const json_t *u;
    const char *name;
    char f[FIELD], what[FIELD];
    size_t i = 0;
    int rc = opt_str(&name, k, cx, cxfield, "user");

    if (rc < 0 || !name || !name[0])
        return rc;
    rc = find_named(&u, &i, k, "users", "user", name);
    if (rc < 0)
        return rc;
    if (!u)
        return bad(k, sub(f, cxfield, "user"),
                   "context \"%s\": user \"%s\" not found", k->cfg->context,
                   name);
    snprintf(f, sizeof(f), "users[%zu].user", i);
    snprintf(what, sizeof(what), "user \"%s\"", name);
    return parse_user(k, u, f, what);
}

static int context_name(const char **out, struct kc *k)
{
    const char *cur;
    int rc;

    *out = k->context;
    if (*out && (*out)[0])
        return KUBE_OK;
    rc = opt_str(&cur, k, k->doc->root, "", "current-context");
    if (rc < 0)
        return rc;
    if (!cur || !cur[0])
        return bad(k, NULL, "current-context is not set");
    *out = cur;
    return KUBE_OK;
}

static int parse_doc(struct kc *k)
{
    const json_t *cx;
    const char *name, *ns;
    char f[FIELD];
    size_t i = 0;
    int rc;

    if (json_is_null(k->doc->root))
        return bad(k, NULL, "empty kubeconfig");
    if (!json_is_object(k->doc->root))
        return bad(k, "", "kubeconfig: want a mapping");
    rc = context_name(&name, k);
    if (rc == 0)
        rc = set_str(&k->cfg->context, name, k);
    if (rc == 0)
        rc = find_named(&cx, &i, k, "contexts", "context", name);
    if (rc < 0)
        return rc;
    if (!cx)
        return bad(k, k->context ? NULL : "current-context",
                   "context \"%s\" not found", name);
    snprintf(f, sizeof(f), "contexts[%zu].context", i);
    rc = use_cluster(k, cx, f);
    if (rc == 0)
        rc = use_user(k, cx, f);
    if (rc == 0)
        rc = opt_str(&ns, k, cx, f, "namespace");
    if (rc == 0)
        rc = set_str(&k->cfg->ns, ns && ns[0] ? ns : "default", k);
    return rc;
}

/* Only the first document counts; returning 1 stops the stream there. */
static int on_doc(const struct kube_yaml_doc *doc, void *ctx)
{
    struct kc *k = ctx;

    k->doc = doc;
    k->rc = parse_doc(k);
    k->doc = NULL;
    return 1;
}

static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int kube_config_from_file(struct kube_config **out, const char *path,
                          const char *context, struct kube_err *err)
{
    struct kc k = {.path = path, .context = context, .err = err, .rc = 1};
    char *buf = NULL;
    size_t len = 0;
    int rc;

    rc = kube_file_read(&buf, &len, path, MAX_KUBECONFIG, err);
    if (rc < 0) /* err: "cannot open PATH: No such file or directory" */
        return named_file_code(rc);
    k.cfg = calloc(1, sizeof(*k.cfg));
    k.dir = folder_of(path);
    if (!k.cfg || !k.dir || !(k.cfg->source = strdup(path))) {
        rc = nomem(err);
        goto done;
    }
    rc = kube_yaml_stream_buf(buf, len, path, NULL, on_doc, &k, err);
    if (rc == 1)
        rc = k.rc;
    else if (rc == 0) /* no document at all */
        rc = kube_err_set(err, KUBE_EINVAL, "%s: empty kubeconfig", path);
done:
    if (rc == 0)
        *out = k.cfg;
    else
        kube_config_free(k.cfg);
    free(k.dir);
    free(buf);
    return rc;
}

/* "https://host:port", bracketing IPv6 literals as net.JoinHostPort. */
static char *in_cluster_server(const char *host, const char *port)
{
    int v6 = strchr(host, ':') != NULL && host[0] != '[';
    size_t n = strlen(host) + strlen(port) + 16;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
                 port);
    return s;
}

static int sa_file(char **out, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;

    *out = malloc(n);
    if (!*out)
        return KUBE_ENOMEM;
    snprintf(*out, n, "%s/%s", dir, name);
    return KUBE_OK;
}

/* The namespace file is optional: outside a pod it may be missing. */
static int sa_namespace(struct kube_config *c, const char *dir)
{
    char *path = NULL, *ns = NULL;
    int rc = sa_file(&path, dir, "namespace");

    if (rc == 0 && kube_config_read_token(&ns, path, NULL) < 0)
        ns = strdup("default");
    free(path);
    c->ns = ns;
    return c->ns ? KUBE_OK : KUBE_ENOMEM;
}

int kube_config_in_cluster(struct kube_config **out, const char *sa_dir,
                           struct kube_err *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    struct kube_config *c;
    int rc;

    if (!host || !host[0] || !port || !port[0])
        return kube_err_set(err, KUBE_ENOTFOUND,
                            "in-cluster: KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT must be set");
    if (!sa_dir)
        sa_dir = KUBE_SA_DIR;
    c = calloc(1, sizeof(*c));
    if (!c)
        return nomem(err);
    rc = (c->source = strdup("in-cluster")) && (c->context = strdup(""))
             ? KUBE_OK
             : KUBE_ENOMEM;
    if (rc == 0)
        rc = (c->server = in_cluster_server(host, port)) ? 0 : KUBE_ENOMEM;
    if (rc == 0)
        rc = sa_file(&c->token_file, sa_dir, "token");
    if (rc == 0)
        rc = sa_file(&c->ca_file, sa_dir, "ca.crt");
    if (rc == 0)
        rc = sa_namespace(c, sa_dir);
    if (rc == KUBE_ENOMEM)
        rc = nomem(err);
    if (rc == 0)
        rc = kube_config_read_token(&c->token, c->token_file, err);
    if (rc == 0 && access(c->ca_file, R_OK) != 0)
        rc = kube_err_set(err, KUBE_EINVAL, "in-cluster: %s: %s", c->ca_file,
                          strerror(errno));
    if (rc < 0) {
        kube_config_free(c);
        return rc;
    }
    *out = c;
    return KUBE_OK;
}

/* The first path of $KUBECONFIG into buf, or "" when unset. */
static void first_kubeconfig(char *buf, size_t len)
{
    const char *env = getenv("KUBECONFIG");
    size_t n;

    buf[0] = '\0';
    while (env && *env == ':')
        env++;
    if (!env || !*env)
        return;
    n = strcspn(env, ":");
    snprintf(buf, len, "%.*s", (int)n, env);
}

static int set(const char *s)
{
    return s && s[0];
}

int kube_config_load(struct kube_config **out,
                     const struct kube_config_source *src, struct kube_err *err)
{
    const struct kube_config_source none = {0};
    const char *home = getenv("HOME");
    char path[4096];

    if (!src)
        src = &none;
    if (src->kubeconfig && src->kubeconfig[0])
        return kube_config_from_file(out, src->kubeconfig, src->context, err);
    first_kubeconfig(path, sizeof(path));
    if (path[0])
        return kube_config_from_file(out, path, src->context, err);
    if (set(getenv("KUBERNETES_SERVICE_HOST")) &&
        set(getenv("KUBERNETES_SERVICE_PORT")))
        return kube_config_in_cluster(out, src->sa_dir, err);
    if (home && home[0]) {
        snprintf(path, sizeof(path), "%s/.kube/config", home);
        if (access(path, F_OK) == 0)
            return kube_config_from_file(out, path, src->context, err);
    }
    return kube_err_set(err, KUBE_ENOTFOUND,
                        "no API server configuration: no --kubeconfig, "
                        "KUBECONFIG unset, not in a cluster "
                        "(KUBERNETES_SERVICE_HOST unset), no ~/.kube/config");
}
