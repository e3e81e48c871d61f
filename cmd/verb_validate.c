/* cmd/verb_validate.c - `vmsnapd validate`: manifests checked offline by the
 * same admission code as the webhook, each problem reported at its file,
 * line and column. Flags and inputs here; the per-document check is in
 * validate_check.c, the output in validate_report.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/env.h"
#include "cmd/flags.h"
#include "cmd/verb_validate.h"
#include "kube/store.h"
#include "webhook/policy.h"

static const char validate_usage[] =
    "usage: vmsnapd validate [--policy FILE] [--objects FILE] "
    "[-o text|json] PATH...\n"
    "\n"
    "Checks manifests offline with the webhook's admission rules. A PATH "
    "is a\nfile, a directory (searched recursively for *.yaml, *.yml and "
    "*.json in\nname order; hidden entries and links to directories are "
    "skipped) or - for\nstdin. Files may hold several YAML or JSON "
    "documents.\n"
    "\n"
    "Each snapshot.kubevirt.io object (v1beta1 or v1alpha1: "
    "VirtualMachineSnapshot,\nVirtualMachineSnapshotContent, "
    "VirtualMachineRestore) is checked as kube-apiserver\nwould admit its "
    "creation: mutated, then validated. Items of a List are checked\none "
    "by one; other kinds are skipped. Contents are checked as created by "
    "the\nsnapshot controller (the policy's first content.controllerUsers "
    "entry),\nsince no one else may create them.\n"
    "\n"
    "Output: FILE:LINE:COLUMN: FIELD: MESSAGE per problem, at the field's "
    "key\n(a missing field: its nearest parent), FILE:LINE:COLUMN: "
    "warning: TEXT per\nwarning, then a summary line.\n"
    "\n"
    "  --policy FILE    admission policy (YAML), as given to serve\n"
    "  --objects FILE   existing cluster objects (JSON List or "
    "multi-document\n"
    "                   YAML) for the rules that read cluster state; "
    "without it\n"
    "                   those rules are skipped\n"
    "  -o, --output F   text (default), or json: one JSON document\n"
    "                   {files, problems, summary} for CI systems\n"
    "\n"
    "Exit status: 0 no problems, 1 problems found, 2 an input could not "
    "be read\n(missing file, YAML error, duplicate key) or bad usage.\n";

struct validate_opts {
    const char *policy, *objects;
    int json;
};

/* Returns CMD_FLAGS_OK with *first the first PATH's index,
 * CMD_FLAGS_HELP or CMD_FLAGS_BAD (said why). */
static int parse_args(int *first, struct validate_opts *o, int argc,
                      char **argv)
{
    static const char *const outputs[] = {"text", "json", NULL};
    const struct cmd_flag flags[] = {
        {.name = "policy", .kind = CMD_FLAG_STR, .dst = &o->policy},
        {.name = "objects", .kind = CMD_FLAG_STR, .dst = &o->objects},
        {.name = "output",
         .kind = CMD_FLAG_CHOICE,
         .dst = &o->json, /* 1 for json */
         .choices = outputs,
         .short_name = 'o'},
    };
    int rc = cmd_flags_parse(first, argc, argv, "validate", validate_usage,
                             flags, sizeof(flags) / sizeof(flags[0]));

    if (rc != CMD_FLAGS_OK)
        return rc;
    if (*first >= argc)
        return cmd_flags_error("validate", "no PATH given (use - for stdin)");
    return CMD_FLAGS_OK;
}

/* Reports an input that could not be read. msg is "NAME:LINE:COL: what"
 * (kube_yaml's errors), "NAME: what", or just "what". */
static int report_fatal(struct cmd_vcheck *c, const char *name, const char *msg)
{
    struct cmd_vproblem p = {CMD_VFATAL, name, 0, 0, "", msg, "", ""};
    size_t n = strlen(name);
    int off = 0;

    if (strncmp(msg, name, n) == 0 && msg[n] == ':') {
        p.message = msg + n + 1 + (msg[n + 1] == ' ');
        if (sscanf(msg + n + 1, "%d:%d: %n", &p.line, &p.col, &off) == 2 &&
            off > 0 && p.line > 0)
            p.message = msg + n + 1 + off;
        else
            p.line = p.col = 0;
    }
    return cmd_validate_report_add(c->rep, &p);
}

/* Streams one file's documents through the check. Returns 0 when the
 * file was handled, readable or not; a negative code when we failed. */
static int read_stream(struct cmd_vcheck *c, const char *path, const char *name)
{
    struct kube_err err = {0, ""};
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "r");
    int rc;

    if (!f)
        return report_fatal(c, name, strerror(errno));
    c->file = name;
    rc = kube_yaml_stream(f, name, NULL, cmd_validate_doc, c, &err);
    if (!is_stdin)
        fclose(f);
    if (rc == KUBE_ENOMEM || rc == KUBE_OK)
        return rc;
    return report_fatal(c, name, err.msg[0] ? err.msg : kube_strerror(rc));
}

/* A cmd_vwalk_fn: one input, a file to read or one that cannot be. */
static int read_input(void *ctx, const char *path, const char *error)
{
    struct cmd_vcheck *c = ctx;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    int rc;

    cmd_validate_report_file_begin(c->rep, name);
    rc = error ? report_fatal(c, name, error) : read_stream(c, path, name);
    if (rc == KUBE_OK)
        rc = cmd_validate_report_file_end(c->rep);
    return rc;
}

static int run(struct cmd_vreport *rep, const struct wh_env *env, int json,
               int npaths, char **paths)
{
    struct cmd_vcheck c = {env, NULL, rep, "", 0};
    int rc = cmd_validate_report_init(rep, stdout, json);

    if (env->policy->controller_users)
        c.content_user = env->policy->controller_users[0];
    rep->state_skipped = env->store == NULL;
    for (int i = 0; rc == KUBE_OK && i < npaths; i++)
        rc = cmd_validate_walk(paths[i], read_input, &c);
    if (rc < 0) {
        fprintf(stderr, "vmsnapd validate: %s\n", kube_strerror(rc));
        return 2;
    }
    if (rep->state_skipped && rep->all.objects && !json)
        fprintf(stderr, "vmsnapd validate: no --objects given: rules that "
                        "read cluster state were skipped\n");
    return cmd_validate_report_finish(rep);
}

int cmd_validate(int argc, char **argv)
{
    struct validate_opts o = {0};
    struct wh_policy *pol = NULL;
    struct kube_store *store = NULL;
    struct cmd_vreport rep;
    int first = 0, code = 2;
    int rc = parse_args(&first, &o, argc, argv);

    if (rc != CMD_FLAGS_OK)
        return rc == CMD_FLAGS_HELP ? 0 : 2;
    memset(&rep, 0, sizeof(rep));
    if (cmd_env_load(&pol, &store, "validate", o.policy, o.objects) == 0) {
        struct wh_env env = {.policy = pol, .store = store};
        code = run(&rep, &env, o.json, argc - first, argv + first);
    }
    cmd_validate_report_free(&rep);
    kube_store_free(store);
    wh_policy_unref(pol);
    return code;
}
