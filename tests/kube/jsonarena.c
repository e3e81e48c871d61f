/* tests/kube/jsonarena.c - the review arena: a scope's values come from
 * one block that the scope's end resets, heap values cross scopes safely,
 * other threads keep the heap, and (ASan builds) memory used after its
 * scope is reported. The unit binary installs the allocator
 * (tests/webhook/harness.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "kube/jsonarena.h"

Test(kube_jsonarena, a_scope_reuses_its_block)
{
    json_t *a, *b;
    void *first;

    kube_json_arena_begin();
    a = json_pack("{s:s, s:[i, i]}", "name", "vm", "list", 1, 2);
    cr_assert_not_null(a);
    first = a;
    json_decref(a); /* a no-op: the scope's end releases it */
    kube_json_arena_end();

    kube_json_arena_begin();
    b = json_object();
    cr_expect_eq((void *)b, first, "the next scope did not start over");
    json_decref(b);
    kube_json_arena_end();
}

Test(kube_jsonarena, heap_values_cross_scopes)
{
    json_t *heap = json_pack("{s:s}", "made", "outside"), *inner;

    kube_json_arena_begin();
    inner = json_pack("{s:O}", "outer", heap); /* takes a reference */
    cr_assert_not_null(inner);
    json_decref(inner); /* gives it back */
    json_object_set_new(heap, "more", json_string("grown inside"));
    json_object_del(heap, "more"); /* arena memory, freed in scope */
    kube_json_arena_end();
    cr_expect_str_eq(json_string_value(json_object_get(heap, "made")),
                     "outside");
    json_decref(heap); /* the heap's: a real free */
}

Test(kube_jsonarena, big_values_get_their_own_blocks)
{
    static char big[1 << 20];
    json_t *s;

    memset(big, 'x', sizeof(big) - 1);
    for (int round = 0; round < 3; round++) {
        kube_json_arena_begin();
        s = json_string(big);
        cr_assert_not_null(s);
        cr_expect_eq(json_string_length(s), sizeof(big) - 1);
        json_decref(s);
        kube_json_arena_end();
    }
}

static void *other_thread(void *arg)
{
    (void)arg;
    return json_pack("{s:s}", "from", "another thread");
}

Test(kube_jsonarena, other_threads_keep_the_heap)
{
    pthread_t t;
    json_t *v = NULL;

    kube_json_arena_begin();
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, (void **)&v);
    kube_json_arena_end();
    /* made during our scope, on a thread without one: it must outlive it */
    cr_assert_not_null(v);
    cr_expect_str_eq(json_string_value(json_object_get(v, "from")),
                     "another thread");
    json_decref(v);
}

#ifdef KUBE_JSON_ARENA_POISONS
/* make test-asan runs with abort_on_error=1: a report is a SIGABRT */
Test(kube_jsonarena, use_after_the_scope_is_reported, .signal = SIGABRT)
{
    json_t *v;
    volatile const char *name;

    kube_json_arena_begin();
    v = json_string("gone at the end of the scope");
    name = json_string_value(v);
    kube_json_arena_end();
    (void)v;
    cr_log_info("read %c", name[0]); /* must not get here */
}
#endif
