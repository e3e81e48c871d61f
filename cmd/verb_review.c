/* cmd/verb_review.c - `vmsnapd review`: one AdmissionReview through the same
 * admission code as the webhook, the response on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/env.h"
#include "cmd/flags.h"
#include "kube/json.h"
#include "kube/store.h"
#include "webhook/review.h"
#include "kube/file.h"

#define REVIEW_MAX_BODY (64u << 20) /* far above any real review */

static const char review_usage[] =
    "usage: vmsnapd review [--policy FILE] [--objects FILE] "
    "[--endpoint all|validate|mutate] [REVIEW.json | -]\n"
    "\n"
    "Runs one AdmissionReview (a file, or - / nothing for stdin) through "
    "the\nadmission rules and prints the response AdmissionReview as JSON. "
    "Exit 0\nwhenever a response was produced, allowed or denied; 2 when "
    "the input is\nnot an AdmissionReview or a file cannot be read.\n"
    "\n"
    "  --policy FILE    admission policy (YAML; see README)\n"
    "  --objects FILE   existing cluster objects (JSON List or "
    "multi-document\n"
    "                   YAML) for rules that read cluster state; without "
    "it\n"
    "                   those rules are skipped with a warning\n"
    "  --endpoint E     all (default: mutate, then validate the mutated "
    "object),\n"
    "                   validate or mutate (what one webhook path answers)\n";

struct review_opts {
    const char *policy, *objects, *input;
    enum wh_endpoint endpoint;
};

/* Returns CMD_FLAGS_OK, CMD_FLAGS_HELP or CMD_FLAGS_BAD (said why). */
static int parse_args(struct review_opts *o, int argc, char **argv)
{
    /* in enum wh_endpoint's order */
    static const char *const endpoints[] = {"validate", "mutate", "all", NULL};
    int endpoint = WH_EP_ALL, first = 0;
    const struct cmd_flag flags[] = {
        {.name = "policy", .kind = CMD_FLAG_STR, .dst = &o->policy},
        {.name = "objects", .kind = CMD_FLAG_STR, .dst = &o->objects},
        {.name = "endpoint",
         .kind = CMD_FLAG_CHOICE,
         .dst = &endpoint,
         .choices = endpoints},
    };
    int rc = cmd_flags_parse(&first, argc, argv, "review", review_usage, flags,
                             sizeof(flags) / sizeof(flags[0]));

    if (rc != CMD_FLAGS_OK)
        return rc;
    o->endpoint = (enum wh_endpoint)endpoint;
    if (argc - first > 1)
        return cmd_flags_error("review", "one review at a time");
    o->input = first < argc ? argv[first] : "-";
    return CMD_FLAGS_OK;
}

int cmd_review(int argc, char **argv)
{
    struct review_opts o = {0};
    struct wh_policy *pol = NULL;
    struct kube_store *store = NULL;
    struct wh_env env = {0};
    struct wh_outcome oc;
    struct kube_err err = {0, ""};
    char *body = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    int rc = parse_args(&o, argc, argv), code = 2;

    if (rc != CMD_FLAGS_OK)
        return rc == CMD_FLAGS_HELP ? 0 : 2;
    if (cmd_env_load(&pol, &store, "review", o.policy, o.objects) < 0)
        goto done;
    env.policy = pol;
    env.store = store;
    struct wh_route route = {o.endpoint, NULL};
    if (kube_file_read(&body, &len, o.input, REVIEW_MAX_BODY, &err) < 0 ||
        wh_review_handle(&out, &outlen, &oc, &route, body, len, &env, &err) <
            0) {
        fprintf(stderr, "vmsnapd review: %s: %s\n",
                strcmp(o.input, "-") ? o.input : "stdin", err.msg);
        goto done;
    }
    fwrite(out, 1, outlen, stdout);
    fputc('\n', stdout);
    code = 0;
done:
    free(out);
    free(body);
    kube_store_free(store);
    wh_policy_unref(pol);
    return code;
}
