/* tests/reconciler/leader.c - leader election set-up and the Lease time
 * format; hand-over between candidates runs against kube-sim in
 * tests/integration/client_leader.c. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <string.h>

#include "reconciler/leader.h"

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    curl_global_cleanup();
}

TestSuite(rc_leader, .init = setup, .fini = teardown);

Test(rc_leader, microtime_format)
{
    char buf[40];
    int y, mo, d, h, mi, s;
    long us;
    char z;

    rc_leader_microtime(buf, sizeof(buf));
    cr_expect_eq(strlen(buf), 27, "%s", buf);
    cr_expect_eq(sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d.%6ld%c", &y, &mo, &d, &h,
                        &mi, &s, &us, &z),
                 8, "%s", buf);
    cr_expect_eq(z, 'Z');
}

Test(rc_leader, options_checked)
{
    static const struct {
        const char *name;
        struct rc_leader_opts o;
        int rc;
        const char *msg;
    } cases[] = {
        {"no identity", {.name = "l"}, KUBE_EINVAL, "leader: no identity"},
        {"renew deadline not under lease",
         {.identity = "a",
          .lease_duration_ms = 1000,
          .renew_deadline_ms = 1000},
         KUBE_EINVAL,
         "leader: want retry period < renew deadline < lease duration "
         "(2000, 1000, 1000 ms)"},
        {"retry not under renew deadline",
         {.identity = "a", .retry_period_ms = 10000},
         KUBE_EINVAL,
         "leader: want retry period < renew deadline < lease duration "
         "(10000, 10000, 15000 ms)"},
        {"defaults", {.identity = "pod-1"}, KUBE_OK, ""},
    };
    struct kube_config cfg = {.server = "https://127.0.0.1:1", .ns = "ns"};
    struct kube_client *c = NULL;

    cr_assert_eq(kube_client_new(&c, &cfg, NULL, NULL), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rc_leader *l = NULL;
        struct kube_err err = {0};
        int rc = rc_leader_new(&l, c, &cases[i].o, &err);

        cr_expect_eq(rc, cases[i].rc, "%s: rc %d", cases[i].name, rc);
        cr_expect_str_eq(err.msg, cases[i].msg, "%s", cases[i].name);
        if (rc == 0) {
            cr_expect_eq(rc_leader_is_leader(l), 0);
            rc_leader_free(l); /* never started: nothing to release */
        }
    }
    kube_client_free(c);
}
