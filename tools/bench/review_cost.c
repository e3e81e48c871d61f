/* tools/bench/review_cost.c - runs wh_review_handle in-process on each
 * AdmissionReview file given, N times round robin, inside one function
 * (run_reviews) that callgrind is told to count alone
 * (--toggle-collect=run_reviews): its instruction total divided by N is
 * the cost of one review, with no TLS or HTTP around it.
 *
 * usage: review_cost N PATH=FILE...   (PATH: the webhook path) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/jsonarena.h"
#include "webhook/policy.h"
#include "webhook/review.h"

struct body {
    struct wh_route route;
    char *text;
    size_t len;
};

static char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 20);

    if (!f || !buf) {
        fprintf(stderr, "review_cost: cannot read %s\n", path);
        exit(1);
    }
    *len = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    return buf;
}

/* The route vmsnapd's server gives each webhook path. */
static struct wh_route route_of(const char *path)
{
    struct wh_route r = {WH_EP_VALIDATE, NULL};

    if (strncmp(path, "/mutate-", 8) == 0)
        r.endpoint = WH_EP_MUTATE;
    r.resource = strchr(path + 1, '-') + 1;
    return r;
}

__attribute__((noinline)) static long
run_reviews(const struct body *b, int nb, long n, const struct wh_env *env)
{
    long ok = 0;

    for (long i = 0; i < n; i++) {
        const struct body *x = &b[i % nb];
        struct wh_outcome oc;
        char *out = NULL;
        size_t outlen;

        memset(&oc, 0, sizeof(oc));
        if (wh_review_handle(&out, &outlen, &oc, &x->route, x->text, x->len,
                             env, NULL) == 0)
            ok++;
        free(out);
    }
    return ok;
}

int main(int argc, char **argv)
{
    struct body b[32];
    struct wh_policy *policy = NULL;
    struct wh_env env = {0};
    long n, ok;
    int nb = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: review_cost N PATH=FILE...\n");
        return 2;
    }
    kube_json_arena_install(); /* as vmsnapd's main does */
    n = strtol(argv[1], NULL, 10);
    for (int i = 2; i < argc && nb < 32; i++, nb++) {
        char *eq = strchr(argv[i], '=');

        if (!eq)
            return 2;
        *eq = '\0';
        b[nb].route = route_of(argv[i]);
        b[nb].text = load(eq + 1, &b[nb].len);
    }
    if (wh_policy_default(&policy) < 0)
        return 1;
    env.policy = policy;
    ok = run_reviews(b, nb, n, &env);
    printf("reviews %ld answered %ld\n", n, ok);
    for (int i = 0; i < nb; i++)
        free(b[i].text);
    wh_policy_unref(policy);
    return ok == n ? 0 : 1;
}
