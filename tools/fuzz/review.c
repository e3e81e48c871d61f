/* tools/fuzz/review.c - AdmissionReview decoding plus admission: the
 * first byte picks the webhook (each validate path, mutate, or all), the
 * rest is the body as the server would pass it to wh_review_handle. A
 * small store from manifests/examples/cluster.yaml lets the rules that
 * read cluster state run. */
#include "tools/fuzz/fuzz.h"

#include <jansson.h>

#include "kube/jsonarena.h"
#include "webhook/policy.h"
#include "webhook/review.h"

static const struct wh_route routes[] = {
    {WH_EP_VALIDATE, "virtualmachinesnapshots"},
    {WH_EP_VALIDATE, "virtualmachinesnapshotcontents"},
    {WH_EP_VALIDATE, "virtualmachinerestores"},
    {WH_EP_MUTATE, "virtualmachinesnapshots"},
    {WH_EP_ALL, NULL},
};

static struct wh_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct wh_policy *p = NULL;
    struct kube_store *s = NULL;

    (void)argc;
    (void)argv;
    json_object_seed(1);
    kube_json_arena_install(); /* as vmsnapd runs: reviews in an arena */
    if (wh_policy_default(&p) < 0 || kube_store_new(&s) < 0)
        abort();
    if (kube_store_load_file(s, "manifests/examples/cluster.yaml", NULL) < 0)
        abort(); /* run from the repository root */
    env.policy = p;
    env.store = s;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wh_outcome oc;
    char *out = NULL;
    size_t outlen = 0;

    if (size < 1)
        return 0;
    memset(&oc, 0, sizeof(oc));
    if (wh_review_handle(&out, &outlen, &oc,
                         &routes[data[0] % (sizeof(routes) / sizeof(*routes))],
                         (const char *)data + 1, size - 1, &env, NULL) == 0) {
        json_t *j = json_loadb(out, outlen, 0, NULL);

        if (!j) /* our answer must always be JSON */
            abort();
        json_decref(j);
    }
    free(out);
    return 0;
}
