/* tests/kube/htab.c - suite kube_htab: every value stays findable through
 * growth and removals, including probe runs that wrap around the end. */
#include "kube/htab.h"

#include <criterion/criterion.h>
#include <stdint.h>

/* Values are small integers; the key is the same integer. */
static int int_eq(const void *ctx, uintptr_t val, const void *key)
{
    (void)ctx;
    return val == *(const uintptr_t *)key;
}

/* Few distinct hashes, each landing in the last slots of any power-of-two
 * table: long probe runs that wrap around the end. */
static uint32_t clash(uintptr_t k)
{
    return (uint32_t)(UINT32_MAX - k % 5);
}

static int present(const struct kube_htab *t, uintptr_t k)
{
    return kube_htab_get(t, clash(k), int_eq, NULL, &k) == k;
}

Test(kube_htab, removals_keep_runs_intact)
{
    struct kube_htab t = {0};
    enum { N = 200 };

    for (uintptr_t k = 1; k <= N; k++) {
        cr_assert_eq(kube_htab_reserve(&t), KUBE_OK);
        kube_htab_put(&t, kube_htab_probe(&t, clash(k), int_eq, NULL, &k),
                      clash(k), k);
    }
    for (uintptr_t k = 3; k <= N; k += 3)
        kube_htab_remove(&t, kube_htab_probe(&t, clash(k), int_eq, NULL, &k));
    for (uintptr_t k = 1; k <= N; k++)
        cr_expect_eq(present(&t, k), k % 3 != 0, "key %zu", (size_t)k);
    cr_expect_eq(t.n, N - N / 3);
    {
        size_t i = 0, seen = 0;

        for (uintptr_t v = kube_htab_next(&t, &i); v;
             v = kube_htab_next(&t, &i))
            seen += v % 3 != 0;
        cr_expect_eq(seen, N - N / 3, "the walk sees each value once");
    }
    kube_htab_free(&t);
}

Test(kube_htab, put_on_a_full_slot_replaces)
{
    struct kube_htab t = {0};
    uintptr_t k = 7;

    cr_assert_null(kube_htab_probe(&t, 1, int_eq, NULL, &k), "never reserved");
    cr_assert_eq(kube_htab_reserve(&t), KUBE_OK);
    kube_htab_put(&t, kube_htab_probe(&t, clash(k), int_eq, NULL, &k), clash(k),
                  k);
    kube_htab_put(&t, kube_htab_probe(&t, clash(k), int_eq, NULL, &k), clash(k),
                  k);
    cr_expect_eq(t.n, 1);
    kube_htab_free(&t);
}

Test(kube_hash, fnv1a_known_values)
{
    /* FNV-1a 32-bit reference values */
    cr_expect_eq(kube_hash_str(""), 0x811c9dc5u);
    cr_expect_eq(kube_hash_str("a"), 0xe40c292cu);
    cr_expect_eq(kube_hash_str("foobar"), 0xbf9cf968u);
}
