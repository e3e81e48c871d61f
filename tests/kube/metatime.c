/* tests/kube/metatime.c - metav1.Time text to Unix ms and back. */
#include <criterion/criterion.h>

#include "kube/metatime.h"

static const struct {
    const char *name, *in;
    int64_t want; /* Unix ms; only read when rc is KUBE_OK */
    int rc;
} parses[] = {
    {"the documentation's creationTimestamp", "2020-09-30T14:46:27Z",
     1601477187000, KUBE_OK},
    {"epoch", "1970-01-01T00:00:00Z", 0, KUBE_OK},
    {"fraction kept to the ms", "2020-09-30T14:46:27.123456Z", 1601477187123,
     KUBE_OK},
    {"offset east is earlier in UTC", "2020-09-30T16:46:27+02:00",
     1601477187000, KUBE_OK},
    {"offset west", "2020-09-30T09:46:27-05:00", 1601477187000, KUBE_OK},
    {"leap day", "2024-02-29T00:00:00Z", 1709164800000, KUBE_OK},
    {"no leap day in 2100", "2100-02-29T00:00:00Z", 0, KUBE_EINVAL},
    {"no zone", "2020-09-30T14:46:27", 0, KUBE_EINVAL},
    {"trailing text", "2020-09-30T14:46:27Zx", 0, KUBE_EINVAL},
    {"month 13", "2020-13-01T00:00:00Z", 0, KUBE_EINVAL},
    {"hour 24", "2020-01-01T24:00:00Z", 0, KUBE_EINVAL},
    {"empty fraction", "2020-01-01T00:00:00.Z", 0, KUBE_EINVAL},
    {"empty", "", 0, KUBE_EINVAL},
};

Test(kube_metatime, parse_table)
{
    for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
        int64_t got = -1;
        int rc = kube_metatime_parse(&got, parses[i].in);

        cr_expect_eq(rc, parses[i].rc, "%s: rc %d", parses[i].name, rc);
        if (rc == KUBE_OK)
            cr_expect_eq(got, parses[i].want, "%s: %lld", parses[i].name,
                         (long long)got);
    }
    cr_expect_eq(kube_metatime_parse(&(int64_t){0}, NULL), KUBE_EINVAL);
}

static const struct {
    int64_t ms;
    const char *want;
} formats[] = {
    {1601477188000, "2020-09-30T14:46:28Z"},
    {1601477188999, "2020-09-30T14:46:28Z"}, /* whole seconds, cut */
    {0, "1970-01-01T00:00:00Z"},
    {1709164800000, "2024-02-29T00:00:00Z"},
    {-1000, "1969-12-31T23:59:59Z"},
};

Test(kube_metatime, format_table_and_round_trip)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        char buf[KUBE_METATIME_LEN];
        int64_t back = 0;

        kube_metatime_format(buf, sizeof(buf), formats[i].ms);
        cr_expect_str_eq(buf, formats[i].want);
        cr_expect_eq(kube_metatime_parse(&back, buf), KUBE_OK);
        cr_expect_eq(back,
                     formats[i].ms - ((formats[i].ms % 1000) + 1000) % 1000,
                     "%s", buf);
    }
}
