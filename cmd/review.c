/* cmd/review.c - `vmsnapd review`: one AdmissionReview through the same
 * admission code as the webhook, the response on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/env.h"
#include "kube/json.h"
#include "kube/store.h"
#include "webhook/review.h"

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

static int parse_endpoint(enum wh_endpoint *ep, const char *s)
{
    static const char *const names[] = {"validate", "mutate", "all"};

    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *ep = (enum wh_endpoint)i;
            return 0;
        }
    return -1;
}

/* Returns -1 after printing usage help (exit 0), -2 on bad flags. */
static int parse_args(struct review_opts *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"objects", required_argument, NULL, 'o'},
        {"endpoint", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->endpoint = WH_EP_ALL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'p')
            o->policy = optarg;
        else if (c == 'o')
            o->objects = optarg;
        else if (c == 'e' && parse_endpoint(&o->endpoint, optarg) == 0)
            continue;
        else if (c == 'h') {
            fputs(review_usage, stdout);
            return -1;
        } else {
            if (c == 'e')
                fprintf(stderr, "vmsnapd review: --endpoint takes all, "
                                "validate or mutate\n");
            fputs(review_usage, stderr);
            return -2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "vmsnapd review: one review at a time\n");
        return -2;
    }
    o->input = optind < argc ? argv[optind] : "-";
    return 0;
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

    if (rc < 0)
        return rc == -1 ? 0 : 2;
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
