/* cmd/main.c - vmsnapd: verb dispatch. Each verb is a row; the table also
 * prints the usage. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "kube/jsonarena.h"

static const struct cmd_verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} verbs[] = {
    {"review", cmd_review,
     "run one AdmissionReview through the admission rules"},
    {"validate", cmd_validate, "check manifests offline with the same rules"},
    {"certs", cmd_certs,
     "create, check and renew the webhook's TLS certificates"},
    {"serve", cmd_serve, "serve the admission webhooks over HTTPS"},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: vmsnapd VERB [OPTIONS]\n\n"
               "vmsnapd guards and runs KubeVirt VM snapshots: an admission "
               "webhook for\nsnapshot.kubevirt.io objects and offline tools "
               "around the same rules.\n\nverbs:\n");
    for (size_t i = 0; i < NVERBS; i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n'vmsnapd VERB --help' explains a verb.\n");
}

/* The verb's exit code (2 for a usage error). */
static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vmsnapd: unknown verb \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    int rc;

    /* before any thread starts: jansson's hash seed, and libcurl's global
     * state (its TLS library included), which is not thread-safe to set
     * up */
    json_object_seed(0);
    kube_json_arena_install(); /* jansson's allocator is process-wide */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "vmsnapd: cannot initialise libcurl\n");
        return 1;
    }
    rc = dispatch(argc, argv);
    curl_global_cleanup(); /* every verb has joined its threads */
    return rc;
}
