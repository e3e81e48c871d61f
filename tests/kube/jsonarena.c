/* tests/kube/jsonarena.c - the review arena: a scope's values come from
 * one block that the scope's end resets, heap values cross scopes safely,
 * other threads keep the heap, and (ASan builds) memory used after its
 * scope is reported. The unit binary installs the allocator
 * (tests/webhook/harness.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube/jsonarena.h"

Test(kube_jsonarena, a_scope_reuses_its_block)
{
    json_t *a, *b;
    void *first;

    if (!kube_json_arena_installed())
        cr_skip_test("VMSNAPD_JSON_ARENA=0: jansson runs on malloc");
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
    json_t *heap = json_object(), *inner;

    /* past jansson's 8-slot table, so a mutation would rehash */
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key%d", i);
        cr_assert_eq(json_object_set_new(heap, key, json_integer(i)), 0);
    }
    kube_json_arena_begin();
    inner = json_pack("{s:O}", "outer", heap); /* takes a reference */
    cr_assert_not_null(inner);
    cr_expect_eq(json_integer_value(json_object_get(heap, "key19")), 19);
    json_decref(inner); /* gives it back */
    kube_json_arena_end();
    cr_expect_eq(json_object_size(heap), 20);
    json_decref(heap); /* the heap's: a real free */
}

/* Runs fn in a child; returns its wait status and its stderr in out. */
static int run_child(void (*fn)(void), char *out, size_t len)
{
    int fds[2], status = 0;
    ssize_t n;
    size_t got = 0;
    pid_t pid;

    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (got + 1 < len && (n = read(fds[0], out + got, len - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fds[0]);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* The unsound use the rules forbid: a heap object of more than 8 keys
 * grown and shrunk inside a scope rehashes its table into the arena. */
static void grow_heap_object_in_scope(void)
{
    json_t *heap = json_pack("{s:s}", "made", "outside");

    kube_json_arena_begin();
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key%d", i);
        json_object_set_new(heap, key, json_integer(i));
    }
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key%d", i);
        json_object_del(heap, key);
    }
    kube_json_arena_end();
    json_decref(heap); /* would free() arena memory */
}

Test(kube_jsonarena, mutating_a_heap_value_in_a_scope_is_stopped)
{
    char err[4096];
    int status;

    if (!kube_json_arena_installed())
        cr_skip_test("VMSNAPD_JSON_ARENA=0: jansson runs on malloc");
    status = run_child(grow_heap_object_in_scope, err, sizeof(err));
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "status %d: %s", status, err);
#ifdef KUBE_JSON_ARENA_POISONS
    /* reading the rehashed table after the scope is reported first */
    if (strstr(err, "use-after-poison"))
        return;
#endif
    cr_expect(strstr(err, "jsonarena: arena memory freed outside its scope"),
              "not our check (a free() of arena memory?): %s", err);
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

/* yajl's allocator (kube/jsondec.c): in a scope, bumps that realloc
 * copies and free leaves; outside one, the heap. Contents survive a
 * grow, a shrink keeps the block. */
Test(kube_jsonarena, helper_memory_in_and_out_of_scopes)
{
    char *p, *q;

    for (int scoped = 0; scoped < 2; scoped++) {
        if (scoped)
            kube_json_arena_begin();
        p = kube_json_arena_malloc(5);
        cr_assert_not_null(p);
        memcpy(p, "abcd", 5);
        q = kube_json_arena_realloc(p, 4);
        cr_assert_not_null(q);
        cr_expect_eq(memcmp(q, "abcd", 4), 0, "scoped %d: shrink", scoped);
        p = kube_json_arena_realloc(q, 100000);
        cr_assert_not_null(p);
        cr_expect_eq(memcmp(p, "abcd", 4), 0, "scoped %d: grow", scoped);
        memset(p + 5, 'x', 100000 - 5); /* all of it is ours (ASan) */
        q = kube_json_arena_realloc(NULL, 16);
        cr_assert_not_null(q);
        kube_json_arena_free(q);
        kube_json_arena_free(p);
        kube_json_arena_free(NULL);
        if (scoped)
            kube_json_arena_end();
    }
}

/* In a scope, that memory is the arena's: the next scope starts over at
 * the same place (malloc'd memory, still held, could not be). */
Test(kube_jsonarena, helper_memory_comes_from_the_scope)
{
    void *first, *again;

    if (!kube_json_arena_installed())
        cr_skip_test("VMSNAPD_JSON_ARENA=0: helpers run on malloc");
    kube_json_arena_begin();
    first = kube_json_arena_malloc(64);
    cr_assert_not_null(first);
    kube_json_arena_end(); /* releases it: no free */
    kube_json_arena_begin();
    again = kube_json_arena_malloc(64);
    cr_expect_eq(again, first, "the helper's memory was not the arena's");
    kube_json_arena_end();
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
static void use_after_the_scope(void)
{
    json_t *v;
    volatile const char *name;

    kube_json_arena_begin();
    v = json_string("gone at the end of the scope");
    name = json_string_value(v);
    kube_json_arena_end();
    (void)v;
    fprintf(stderr, "read %c\n", name[0]); /* must not get here */
}

/* make test-asan runs with abort_on_error=1: a report is a SIGABRT */
Test(kube_jsonarena, use_after_the_scope_is_reported)
{
    char err[8192];
    int status;

    if (!kube_json_arena_installed())
        cr_skip_test("VMSNAPD_JSON_ARENA=0: jansson runs on malloc");
    status = run_child(use_after_the_scope, err, sizeof(err));
    cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "status %d: %s", status, err);
    cr_expect(strstr(err, "use-after-poison"), "%s", err);
}
#endif
