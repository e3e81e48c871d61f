/* cmd/verb_certs.c - `vmsnapd certs`: create, check, renew the webhook's CA and
 * serving certificate, and print or write the caBundle. Results go to
 * stdout, errors to stderr. Exit 0: done or fine; 1: a problem was found or
 * the work failed; 2: bad flags or unreadable input. */
#include "cmd/cmd.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certs/certs.h"
#include "cmd/flags.h"

enum {
    EXIT_FINE = 0,
    EXIT_PROBLEM = 1,
    EXIT_USAGE = 2,
};

static const char *const file_names[] = {"ca.crt", "ca.key", "tls.crt",
                                         "tls.key"};

/* What a flag parser returns besides an exit code: --help was printed. */
#define HELP_SHOWN (-1)

static const char create_usage[] =
    "usage: vmsnapd certs create --service NAME --namespace NS --out DIR\n"
    "                            [--rsa] [--dns NAME]... [--ip ADDR]...\n"
    "                            [--days N] [--ca-days N] [--force]\n"
    "\n"
    "Creates a CA (DIR/ca.crt, DIR/ca.key) and a serving certificate it\n"
    "signs (DIR/tls.crt, DIR/tls.key) for the Service NAME in namespace NS:\n"
    "DNS names NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local.\n"
    "\n"
    "  --service NAME    the webhook's Service (required)\n"
    "  --namespace NS    its namespace (required)\n"
    "  --out DIR         where to write the four files (created if missing)\n"
    "  --dns NAME        an extra DNS name; repeat for more\n"
    "  --ip ADDR         an IPv4 or IPv6 address to include; repeatable\n"
    "  --rsa             RSA 2048 keys instead of ECDSA P-256\n"
    "  --days N          serving certificate validity (default 365)\n"
    "  --ca-days N       CA validity (default 3650)\n"
    "  --force           replace existing files\n";

static const char check_usage[] =
    "usage: vmsnapd certs check --cert FILE --key FILE [--ca FILE]\n"
    "                           [--host HOST] [--warn-days N]\n"
    "\n"
    "Checks a serving pair the way a TLS client would: the key matches the\n"
    "certificate, HOST is among its SANs, --ca signed it, it allows\n"
    "serverAuth, and it is in date. One line per finding. Exit 0 if fine\n"
    "(warnings allowed), 1 on a problem, 2 if a file cannot be read.\n"
    "\n"
    "  --cert FILE       the serving certificate, e.g. tls.crt (required)\n"
    "  --key FILE        its private key, e.g. tls.key (required)\n"
    "  --ca FILE         the CA that should have signed it\n"
    "  --host HOST       a DNS name or IP address clients will connect to\n"
    "  --warn-days N     warn when it expires within N days (default 30)\n";

static const char cabundle_usage[] =
    "usage: vmsnapd certs cabundle --ca FILE [--write MANIFEST...]\n"
    "\n"
    "Prints the base64 of the CA file on one line: the caBundle value of a\n"
    "webhook configuration. With --write, sets every caBundle: in each\n"
    "MANIFEST instead (other bytes unchanged; atomic replace).\n"
    "\n"
    "  --ca FILE         the CA certificate, e.g. ca.crt (required)\n"
    "  --write MANIFEST  a YAML file to update; repeatable, and further\n"
    "                    arguments after it are manifests too\n";

static const char renew_usage[] =
    "usage: vmsnapd certs renew --ca-cert FILE --ca-key FILE --out DIR\n"
    "                           [--service NAME --namespace NS]\n"
    "                           [--dns NAME]... [--ip ADDR]... [--rsa]\n"
    "                           [--before DAYS] [--days N] [--force]\n"
    "\n"
    "Re-issues DIR/tls.crt and DIR/tls.key from the same CA when the\n"
    "current certificate expires within --before days (or always, with\n"
    "--force). The names come from --service/--namespace, or else from the\n"
    "current DIR/tls.crt; --dns and --ip add to them. Files are replaced by\n"
    "rename, key first, so a watching server never reads a partial file.\n"
    "\n"
    "  --ca-cert FILE    the CA certificate (required)\n"
    "  --ca-key FILE     the CA private key (required)\n"
    "  --out DIR         the directory holding tls.crt and tls.key\n"
    "  --before DAYS     renew when fewer days are left (default 30)\n"
    "  --days N          new certificate validity (default 365, cut to the\n"
    "                    CA's own end)\n"
    "  --rsa             RSA 2048 (default: the current key's type, else\n"
    "                    ECDSA P-256)\n"
    "  --force           renew whatever the expiry\n";

/* --- errors and flags shared by the subcommands --- */

/* "certs SUB", the verb name cmd_flags prints */
#define VERB_LEN 32
static const char *verb(const char *sub)
{
    static _Thread_local char buf[VERB_LEN];

    snprintf(buf, sizeof(buf), "certs %s", sub);
    return buf;
}

static int usage_error(const char *sub, const char *fmt, ...) KUBE_PRINTF(2, 3);

/* Prints "vmsnapd certs SUB: <message> (see ... --help)"; returns 2. */
static int usage_error(const char *sub, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap); /* cut is fine */
    va_end(ap);
    cmd_flags_error(verb(sub), "%s", msg);
    return EXIT_USAGE;
}

/* Reports a library error about a flag's value: KUBE_EINVAL is the user's
 * value (exit 2), anything else is our failure (exit 1). */
static int flag_error(const char *sub, const char *flag,
                      const struct kube_err *err)
{
    if (err->code == KUBE_EINVAL)
        return usage_error(sub, "%s: %s", flag, err->msg);
    fprintf(stderr, "vmsnapd certs %s: %s\n", sub, err->msg);
    return EXIT_PROBLEM;
}

/* Reports a failure to read input named by a flag: exit 2. */
static int input_error(const char *sub, const struct kube_err *err)
{
    fprintf(stderr, "vmsnapd certs %s: %s\n", sub, err->msg);
    return EXIT_USAGE;
}

static int fail(const char *sub, const struct kube_err *err)
{
    fprintf(stderr, "vmsnapd certs %s: %s\n", sub, err->msg);
    return EXIT_PROBLEM;
}

/* Whole days, as --days and friends take them. */
#define DAYS(flag, field, lo)                                                  \
    {                                                                          \
        .name = (flag), .kind = CMD_FLAG_LONG, .dst = (field), .min = (lo),    \
        .max = CERTS_MAX_DAYS                                                  \
    }

/* Parses argv (argv[0] is the subcommand) against flags. Returns
 * EXIT_FINE with *first at the first positional argument, HELP_SHOWN, or
 * EXIT_USAGE after a one-line error naming the flag. */
static int parse_flags(int *first, int argc, char **argv, const char *sub,
                       const char *usage, const struct cmd_flag *flags,
                       size_t n)
{
    int rc = cmd_flags_parse(first, argc, argv, verb(sub), usage, flags, n);

    return rc == CMD_FLAGS_OK     ? EXIT_FINE
           : rc == CMD_FLAGS_HELP ? HELP_SHOWN
                                  : EXIT_USAGE;
}

static int missing(const char *sub, const char *flag)
{
    return usage_error(sub, "--%s is required", flag);
}

static int no_positional(int first, int argc, char **argv, const char *sub)
{
    if (first < argc)
        return usage_error(sub, "unexpected argument \"%s\"", argv[first]);
    return EXIT_FINE;
}

/* --- names and dates shared by create and renew --- */

/* The names flags common to create and renew. */
struct name_flags {
    const char *service, *ns;
    struct cmd_flag_list dns, ip;
};

/* Adds --service/--namespace names (when service is set) and the --dns and
 * --ip extras; errors name the flag. Returns an exit code. */
static int add_flag_names(struct certs_names *n, const char *sub,
                          const struct name_flags *f)
{
    struct kube_err err = {0};

    if (f->service && certs_names_check_label(f->service, &err) < 0)
        return flag_error(sub, "--service", &err);
    if (f->ns && certs_names_check_label(f->ns, &err) < 0)
        return flag_error(sub, "--namespace", &err);
    if (f->service && certs_names_add_service(n, f->service, f->ns, &err) < 0)
        return fail(sub, &err);
    for (size_t i = 0; i < f->dns.n; i++)
        if (certs_names_add_dns(n, f->dns.v[i], &err) < 0)
            return flag_error(sub, "--dns", &err);
    for (size_t i = 0; i < f->ip.n; i++)
        if (certs_names_add_ip(n, f->ip.v[i], &err) < 0)
            return flag_error(sub, "--ip", &err);
    return EXIT_FINE;
}

static void print_issued(const char *dir, const char *crt_name,
                         const char *key_name, const struct certs_pair *p,
                         const struct certs_names *names)
{
    char until[64], serial[64], sans[1024] = "";

    certs_time_str(until, sizeof(until), X509_get0_notAfter(p->crt));
    certs_serial_str(serial, sizeof(serial), p->crt);
    if (names)
        certs_names_join(sans, sizeof(sans), names);
    printf("wrote %s/%s and %s/%s: serial %s, valid until %s%s%s\n", dir,
           crt_name, dir, key_name, serial, until, names ? ", SANs: " : "",
           sans);
}

/* --- create --- */

struct create_flags {
    struct name_flags names;
    const char *out;
    long days, ca_days;
    int rsa, force;
};

/* Returns EXIT_FINE to go on, HELP_SHOWN, or an exit code. */
static int parse_create(struct create_flags *f, int argc, char **argv)
{
    const struct cmd_flag flags[] = {
        {.name = "service", .kind = CMD_FLAG_STR, .dst = &f->names.service},
        {.name = "namespace", .kind = CMD_FLAG_STR, .dst = &f->names.ns},
        {.name = "out", .kind = CMD_FLAG_STR, .dst = &f->out},
        {.name = "dns", .kind = CMD_FLAG_LIST, .dst = &f->names.dns},
        {.name = "ip", .kind = CMD_FLAG_LIST, .dst = &f->names.ip},
        {.name = "rsa", .kind = CMD_FLAG_SWITCH, .dst = &f->rsa},
        DAYS("days", &f->days, 1),
        DAYS("ca-days", &f->ca_days, 1),
        {.name = "force", .kind = CMD_FLAG_SWITCH, .dst = &f->force},
    };
    int first = 0;
    int rc = parse_flags(&first, argc, argv, "create", create_usage, flags,
                         sizeof(flags) / sizeof(flags[0]));

    if (rc != EXIT_FINE)
        return rc;
    if (!f->names.service)
        return missing("create", "service");
    if (!f->names.ns)
        return missing("create", "namespace");
    if (!f->out)
        return missing("create", "out");
    if (f->days > f->ca_days)
        return usage_error("create",
                           "--days %ld is longer than --ca-days %ld: the "
                           "certificate would outlive its CA",
                           f->days, f->ca_days);
    return no_positional(first, argc, argv, "create");
}

/* Makes dir if missing and, without force, refuses to touch a directory
 * that already holds any of our files: half a set is worse than none. */
static int prepare_dir(const char *dir, int force)
{
    char path[PATH_MAX];
    struct stat st;

    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "vmsnapd certs create: cannot create %s: %s\n", dir,
                strerror(errno));
        return EXIT_PROBLEM;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "vmsnapd certs create: --out %s is not a directory\n",
                dir);
        return EXIT_USAGE;
    }
    for (size_t i = 0; !force && i < 4; i++) {
        int w = snprintf(path, sizeof(path), "%s/%s", dir, file_names[i]);

        if (w < 0 || (size_t)w >= sizeof(path))
            return usage_error("create", "--out path too long: %s", dir);
        if (lstat(path, &st) == 0) {
            fprintf(stderr,
                    "vmsnapd certs create: %s already exists; pass --force "
                    "to replace the CA and serving certificate\n",
                    path);
            return EXIT_PROBLEM;
        }
    }
    return EXIT_FINE;
}

/* Issues the CA and the serving certificate into ca and srv. */
static int issue_both(struct certs_pair *ca, struct certs_pair *srv,
                      const struct create_flags *f,
                      const struct certs_names *names, time_t now)
{
    struct certs_spec spec = {0};
    struct kube_err err = {0};
    char cn[300];

    spec.key_type = f->rsa ? CERTS_KEY_RSA : CERTS_KEY_EC;
    /* a unique subject per CA keeps chains apart across rotations */
    snprintf(cn, sizeof(cn), "vmsnapd-ca@%lld", (long long)now);
    spec.cn = cn;
    certs_spec_days(&spec, now, f->ca_days);
    if (certs_make_ca(ca, &spec, &err) < 0)
        return fail("create", &err);
    snprintf(cn, sizeof(cn), "%s.%s.svc", f->names.service, f->names.ns);
    spec.names = names;
    certs_spec_days(&spec, now, f->days);
    if (certs_make_serving(srv, ca, &spec, &err) < 0)
        return fail("create", &err);
    return EXIT_FINE;
}

static int create_main(int argc, char **argv)
{
    struct create_flags f = {.days = 365, .ca_days = 3650};
    struct certs_names names = {0};
    struct certs_pair ca = {0}, srv = {0};
    struct kube_err err = {0};
    int rc = parse_create(&f, argc, argv);
    int wflags;

    if (rc != EXIT_FINE)
        return rc == HELP_SHOWN ? EXIT_FINE : rc;
    wflags = f.force ? CERTS_WRITE_FORCE : 0;
    rc = add_flag_names(&names, "create", &f.names);
    if (rc == EXIT_FINE)
        rc = prepare_dir(f.out, f.force);
    if (rc == EXIT_FINE)
        rc = issue_both(&ca, &srv, &f, &names, time(NULL));
    if (rc != EXIT_FINE)
        goto done;
    if (certs_pair_write(f.out, "ca.crt", "ca.key", &ca, wflags, &err) < 0 ||
        certs_pair_write(f.out, "tls.crt", "tls.key", &srv, wflags, &err) < 0) {
        rc = fail("create", &err);
        goto done;
    }
    print_issued(f.out, "ca.crt", "ca.key", &ca, NULL);
    print_issued(f.out, "tls.crt", "tls.key", &srv, &names);
done:
    certs_pair_free(&srv);
    certs_pair_free(&ca);
    certs_names_free(&names);
    return rc;
}

/* --- check --- */

struct check_flags {
    const char *cert, *key, *ca, *host;
    long warn_days;
};

static int parse_check(struct check_flags *f, int argc, char **argv)
{
    const struct cmd_flag flags[] = {
        {.name = "cert", .kind = CMD_FLAG_STR, .dst = &f->cert},
        {.name = "key", .kind = CMD_FLAG_STR, .dst = &f->key},
        {.name = "ca", .kind = CMD_FLAG_STR, .dst = &f->ca},
        {.name = "host", .kind = CMD_FLAG_STR, .dst = &f->host},
        DAYS("warn-days", &f->warn_days, 0),
    };
    int first = 0;
    int rc = parse_flags(&first, argc, argv, "check", check_usage, flags,
                         sizeof(flags) / sizeof(flags[0]));

    if (rc != EXIT_FINE)
        return rc;
    if (!f->cert)
        return missing("check", "cert");
    if (!f->key)
        return missing("check", "key");
    if (f->host && !f->host[0])
        return usage_error("check", "--host is empty");
    return no_positional(first, argc, argv, "check");
}

static void print_report(const struct certs_report *r, const X509 *crt,
                         const char *cert_path)
{
    struct certs_names have = {0};
    char until[64], sans[700];

    for (size_t i = 0; i < r->n; i++)
        printf("%s: %s\n",
               r->items[i].severity == CERTS_PROBLEM ? "problem" : "warning",
               r->items[i].msg);
    if (r->problems)
        return;
    certs_time_str(until, sizeof(until), X509_get0_notAfter(crt));
    if (certs_names_add_from_crt(&have, crt, NULL) < 0)
        snprintf(sans, sizeof(sans), "?");
    else
        certs_names_join(sans, sizeof(sans), &have);
    printf("ok: %s is valid until %s, SANs: %s\n", cert_path, until, sans);
    certs_names_free(&have);
}

static int check_main(int argc, char **argv)
{
    struct check_flags f = {.warn_days = 30};
    struct certs_check_in in = {0};
    struct certs_report report;
    struct kube_err err = {0};
    int rc = parse_check(&f, argc, argv);

    if (rc != EXIT_FINE)
        return rc == HELP_SHOWN ? EXIT_FINE : rc;
    if (certs_load_crt(&in.crt, f.cert, &err) < 0 ||
        certs_load_key(&in.key, f.key, &err) < 0 ||
        (f.ca && certs_load_crt(&in.ca, f.ca, &err) < 0)) {
        rc = err.code == KUBE_ENOMEM ? fail("check", &err)
                                     : input_error("check", &err);
        goto done;
    }
    in.host = f.host;
    in.warn_days = f.warn_days;
    in.now = time(NULL);
    in.crt_name = f.cert;
    in.key_name = f.key;
    in.ca_name = f.ca;
    if (certs_check(&report, &in, &err) < 0) {
        rc = fail("check", &err);
        goto done;
    }
    print_report(&report, in.crt, f.cert);
    rc = report.problems ? EXIT_PROBLEM : EXIT_FINE;
done:
    X509_free(in.crt);
    EVP_PKEY_free(in.key);
    X509_free(in.ca);
    return rc;
}

/* --- cabundle --- */

struct cabundle_flags {
    const char *ca;
    struct cmd_flag_list files;
};

static int parse_cabundle(struct cabundle_flags *f, int argc, char **argv)
{
    const struct cmd_flag flags[] = {
        {.name = "ca", .kind = CMD_FLAG_STR, .dst = &f->ca},
        {.name = "write", .kind = CMD_FLAG_LIST, .dst = &f->files},
    };
    int first = 0;
    int rc = parse_flags(&first, argc, argv, "cabundle", cabundle_usage, flags,
                         sizeof(flags) / sizeof(flags[0]));

    if (rc != EXIT_FINE)
        return rc;
    if (!f->ca)
        return missing("cabundle", "ca");
    if (f->files.n == 0)
        return no_positional(first, argc, argv, "cabundle");
    /* `--write a.yaml b.yaml`: a shell glob after --write means them all */
    for (int i = first; i < argc; i++)
        if (cmd_flags_push(&f->files, verb("cabundle"), "write", argv[i]) < 0)
            return EXIT_USAGE;
    return EXIT_FINE;
}

/* Sets the caBundle in one manifest; returns an exit code. */
static int write_bundle(const char *file, const char *b64)
{
    struct kube_err err = {0};
    size_t n = 0;

    if (access(file, R_OK | W_OK) < 0) {
        fprintf(stderr, "vmsnapd certs cabundle: cannot open %s: %s\n", file,
                strerror(errno));
        return EXIT_USAGE;
    }
    if (certs_bundle_write_file(&n, file, b64, &err) < 0)
        return fail("cabundle", &err);
    printf("%s: set %zu caBundle value%s\n", file, n, n == 1 ? "" : "s");
    return EXIT_FINE;
}

static int cabundle_main(int argc, char **argv)
{
    struct cabundle_flags f = {0};
    struct kube_err err = {0};
    char *b64 = NULL;
    int rc = parse_cabundle(&f, argc, argv);

    if (rc != EXIT_FINE)
        return rc == HELP_SHOWN ? EXIT_FINE : rc;
    if (certs_bundle_b64(&b64, f.ca, &err) < 0)
        return err.code == KUBE_ENOMEM ? fail("cabundle", &err)
                                       : input_error("cabundle", &err);
    if (f.files.n == 0)
        printf("%s\n", b64);
    for (size_t i = 0; i < f.files.n; i++) {
        int r = write_bundle(f.files.v[i], b64);

        if (r > rc)
            rc = r; /* carry on with the others; report the worst */
    }
    free(b64);
    return rc;
}

/* --- renew --- */

struct renew_flags {
    struct name_flags names;
    const char *ca_cert, *ca_key, *out;
    long before, days;
    int rsa, force;
};

static int parse_renew(struct renew_flags *f, int argc, char **argv)
{
    const struct cmd_flag flags[] = {
        {.name = "ca-cert", .kind = CMD_FLAG_STR, .dst = &f->ca_cert},
        {.name = "ca-key", .kind = CMD_FLAG_STR, .dst = &f->ca_key},
        {.name = "out", .kind = CMD_FLAG_STR, .dst = &f->out},
        {.name = "service", .kind = CMD_FLAG_STR, .dst = &f->names.service},
        {.name = "namespace", .kind = CMD_FLAG_STR, .dst = &f->names.ns},
        {.name = "dns", .kind = CMD_FLAG_LIST, .dst = &f->names.dns},
        {.name = "ip", .kind = CMD_FLAG_LIST, .dst = &f->names.ip},
        DAYS("before", &f->before, 0),
        DAYS("days", &f->days, 1),
        {.name = "rsa", .kind = CMD_FLAG_SWITCH, .dst = &f->rsa},
        {.name = "force", .kind = CMD_FLAG_SWITCH, .dst = &f->force},
    };
    int first = 0;
    int rc = parse_flags(&first, argc, argv, "renew", renew_usage, flags,
                         sizeof(flags) / sizeof(flags[0]));

    if (rc != EXIT_FINE)
        return rc;
    if (!f->ca_cert)
        return missing("renew", "ca-cert");
    if (!f->ca_key)
        return missing("renew", "ca-key");
    if (!f->out)
        return missing("renew", "out");
    if (!f->names.service != !f->names.ns)
        return usage_error("renew", "%s",
                           f->names.service ? "--service needs --namespace"
                                            : "--namespace needs --service");
    return no_positional(first, argc, argv, "renew");
}

/* Everything renew holds, released in one place. */
struct renew_ctx {
    struct renew_flags f;
    struct certs_pair ca;
    X509 *cur; /* the current DIR/tls.crt, or NULL */
    struct certs_names names;
    char crt_path[PATH_MAX];
    time_t now;
};

static int load_ca(struct renew_ctx *c)
{
    struct kube_err err = {0};

    if (certs_load_crt(&c->ca.crt, c->f.ca_cert, &err) < 0 ||
        certs_load_key(&c->ca.key, c->f.ca_key, &err) < 0)
        return input_error("renew", &err);
    if (EVP_PKEY_eq(X509_get0_pubkey(c->ca.crt), c->ca.key) != 1) {
        fprintf(stderr,
                "vmsnapd certs renew: --ca-key %s does not match "
                "--ca-cert %s\n",
                c->f.ca_key, c->f.ca_cert);
        return EXIT_PROBLEM;
    }
    return EXIT_FINE;
}

/* Loads DIR/tls.crt. Without --service its SANs are the names to reuse,
 * so it must be readable; with --service a broken one is just replaced. */
static int load_current(struct renew_ctx *c)
{
    struct kube_err err = {0};
    int w = snprintf(c->crt_path, sizeof(c->crt_path), "%s/tls.crt", c->f.out);

    if (w < 0 || (size_t)w >= sizeof(c->crt_path))
        return usage_error("renew", "--out path too long: %s", c->f.out);
    if (certs_load_crt(&c->cur, c->crt_path, &err) == KUBE_OK)
        return EXIT_FINE;
    if (c->f.names.service) {
        if (err.code != KUBE_ENOTFOUND)
            fprintf(stderr, "vmsnapd certs renew: %s; issuing a new one\n",
                    err.msg);
        return EXIT_FINE;
    }
    if (err.code == KUBE_ENOTFOUND)
        return usage_error("renew",
                           "--service and --namespace are required: %s does "
                           "not exist to take names from",
                           c->crt_path);
    return input_error("renew", &err);
}

/* Returns 1 when the current certificate has to be replaced. */
static int renewal_due(const struct renew_ctx *c)
{
    char until[64];
    long left = 0;

    if (c->f.force || certs_renewal_due(c->cur, c->f.before, c->now))
        return 1;
    certs_time_str(until, sizeof(until), X509_get0_notAfter(c->cur));
    if (certs_days_left(&left, c->cur, c->now, NULL) < 0)
        left = 0;
    printf("%s is valid until %s (%ld days left, --before %ld): not "
           "renewed\n",
           c->crt_path, until, left, c->f.before);
    return 0;
}

static int collect_names(struct renew_ctx *c)
{
    struct kube_err err = {0};
    int rc;

    if (!c->f.names.service && c->cur &&
        certs_names_add_from_crt(&c->names, c->cur, &err) < 0)
        return fail("renew", &err);
    rc = add_flag_names(&c->names, "renew", &c->f.names);
    if (rc == EXIT_FINE && c->names.n_dns + c->names.n_ip == 0)
        return usage_error("renew",
                           "%s has no DNS or IP SANs to reuse: pass "
                           "--service and --namespace",
                           c->crt_path);
    return rc;
}

static int reissue(struct renew_ctx *c)
{
    struct certs_spec spec = {0};
    struct certs_pair srv = {0};
    struct kube_err err = {0};
    char cn[300], date[64];
    int capped = 0, rc = EXIT_FINE;

    if (certs_renew_spec(&spec, &capped, c->ca.crt, c->cur, c->f.days, c->f.rsa,
                         c->now, &err) < 0) {
        fprintf(stderr,
                "vmsnapd certs renew: --ca-cert %s: %s; create a new CA "
                "with vmsnapd certs create\n",
                c->f.ca_cert, err.msg);
        return EXIT_PROBLEM;
    }
    if (capped) {
        certs_time_str(date, sizeof(date), X509_get0_notAfter(c->ca.crt));
        fprintf(stderr,
                "vmsnapd certs renew: note: the certificate ends "
                "with its CA, on %s\n",
                date);
    }
    if (c->f.names.service)
        snprintf(cn, sizeof(cn), "%s.%s.svc", c->f.names.service,
                 c->f.names.ns);
    else
        snprintf(cn, sizeof(cn), "%s",
                 c->names.n_dns ? c->names.dns[0] : c->names.ip[0]);
    spec.cn = cn;
    spec.names = &c->names;
    if (certs_make_serving(&srv, &c->ca, &spec, &err) < 0 ||
        certs_pair_write(c->f.out, "tls.crt", "tls.key", &srv,
                         CERTS_WRITE_FORCE, &err) < 0)
        rc = fail("renew", &err);
    else
        print_issued(c->f.out, "tls.crt", "tls.key", &srv, &c->names);
    certs_pair_free(&srv);
    return rc;
}

static int renew_main(int argc, char **argv)
{
    struct renew_ctx c = {.f = {.before = 30, .days = 365}};
    int rc = parse_renew(&c.f, argc, argv);

    if (rc != EXIT_FINE)
        return rc == HELP_SHOWN ? EXIT_FINE : rc;
    c.now = time(NULL);
    rc = load_ca(&c);
    if (rc == EXIT_FINE)
        rc = load_current(&c);
    if (rc != EXIT_FINE || !renewal_due(&c))
        goto done;
    rc = collect_names(&c);
    if (rc == EXIT_FINE)
        rc = reissue(&c);
done:
    certs_pair_free(&c.ca);
    X509_free(c.cur);
    certs_names_free(&c.names);
    return rc;
}

/* --- the verb --- */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} subs[] = {
    {"create", create_main, "create a CA and a serving certificate it signs"},
    {"check", check_main, "check a serving pair: key, SANs, CA, dates"},
    {"cabundle", cabundle_main,
     "print the CA as a caBundle, or write it into manifests"},
    {"renew", renew_main, "re-issue the serving certificate from the same CA"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: vmsnapd certs SUBCOMMAND [FLAGS]\n\n");
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        fprintf(out, "  %-10s %s\n", subs[i].name, subs[i].summary);
    fprintf(out, "\nvmsnapd certs SUBCOMMAND --help shows its flags.\n");
}

int cmd_certs(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "vmsnapd certs: missing subcommand\n");
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return EXIT_FINE;
    }
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    fprintf(stderr,
            "vmsnapd certs: unknown subcommand \"%s\" (create, check, "
            "cabundle, renew; see vmsnapd certs --help)\n",
            argv[1]);
    return EXIT_USAGE;
}
