/* tools/fuzz/review.c - AdmissionReview decoding plus admission: the
 * first byte picks the webhook (each validate path, mutate, or all), the
 * rest is the body as the server would pass it to wh_review_handle. A
 * small store from manifests/examples/cluster.yaml lets the rules that
 * read cluster state run. */
#include "tools/fuzz/fuzz.h"

#include <jansson.h>

#include "kube/json.h"
#include "kube/jsonarena.h"
#include "kube/jsondec.h"
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

/* The path wh_review_handle replaced: the whole body decoded, the tree
 * reviewed and dumped. Its answer (or its failure) must be the same. */
static int reference(char **out, size_t *outlen, struct wh_outcome *oc,
                     const struct wh_route *route, const char *body, size_t len)
{
    json_t *review = kube_json_decode(body, len, NULL), *doc = NULL;
    int rc = KUBE_EINVAL;

    *out = NULL;
    memset(oc, 0, sizeof(*oc));
    if (review)
        rc = wh_review_tree(&doc, oc, route, review, &env, NULL);
    if (rc == 0)
        *out = kube_json_dump(doc, JSON_COMPACT | JSON_PRESERVE_ORDER, outlen);
    json_decref(doc);
    json_decref(review);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct wh_route *route;
    struct wh_outcome oc, want_oc;
    char *out = NULL, *want = NULL;
    size_t outlen = 0, wantlen = 0;
    int rc, want_rc;

    if (size < 1)
        return 0;
    route = &routes[data[0] % (sizeof(routes) / sizeof(*routes))];
    memset(&oc, 0, sizeof(oc));
    rc = wh_review_handle(&out, &outlen, &oc, route, (const char *)data + 1,
                          size - 1, &env, NULL);
    if (rc == 0) {
        json_t *j = json_loadb(out, outlen, 0, NULL);

        if (!j) /* our answer must always be JSON */
            abort();
        json_decref(j);
    }
    want_rc = reference(&want, &wantlen, &want_oc, route,
                        (const char *)data + 1, size - 1);
    if (rc != want_rc ||
        (rc == 0 && (outlen != wantlen || memcmp(out, want, outlen) != 0)) ||
        (rc == 0 && memcmp(&oc, &want_oc, sizeof(oc)) != 0))
        abort(); /* the fast path answered differently */
    free(want);
    free(out);
    return 0;
}
