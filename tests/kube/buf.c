/* tests/kube/buf.c - suite kube_buf: the one growable buffer keeps its
 * ceiling, stays NUL-terminated, and a failure sticks. */
#include "kube/buf.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(kube_buf, grows_and_stays_terminated)
{
    struct kube_buf b;
    char chunk[100];

    memset(chunk, 'x', sizeof(chunk));
    kube_buf_init(&b, 8, 1000);
    cr_expect_str_eq(kube_buf_str(&b), "");
    for (int i = 0; i < 10; i++)
        cr_assert_eq(kube_buf_add(&b, chunk, sizeof(chunk)), KUBE_OK);
    cr_expect_eq(kube_buf_len(&b), 1000);
    cr_expect_eq(kube_buf_str(&b)[1000], '\0');
    kube_buf_free(&b, 1);
}

Test(kube_buf, ceiling_refuses_and_sticks)
{
    struct kube_buf b;

    kube_buf_init(&b, 0, 5);
    cr_assert_eq(kube_buf_adds(&b, "abcd"), KUBE_OK);
    cr_expect_eq(kube_buf_adds(&b, "ef"), KUBE_ETOOBIG);
    cr_expect_str_eq(kube_buf_str(&b), "abcd", "nothing of a refused add");
    cr_expect_eq(kube_buf_adds(&b, "e"), KUBE_ETOOBIG, "the failure sticks");
    cr_expect_eq(kube_buf_error(&b), KUBE_ETOOBIG);
    kube_buf_reset(&b);
    cr_expect_eq(kube_buf_adds(&b, "12345"), KUBE_OK, "reset clears it");
    cr_expect_str_eq(kube_buf_str(&b), "12345");
    kube_buf_free(&b, 0);
}

Test(kube_buf, room_commit_and_take)
{
    struct kube_buf b;
    size_t len = 0;
    int rc;
    char *room, *out;

    kube_buf_init(&b, 4, 64);
    room = kube_buf_room(&b, 10, &rc);
    cr_assert_not_null(room);
    memcpy(room, "hello", 5);
    kube_buf_commit(&b, 5);
    cr_expect_str_eq(kube_buf_str(&b), "hello");
    cr_expect_null(kube_buf_room(&b, 60, &rc));
    cr_expect_eq(rc, KUBE_ETOOBIG);
    kube_buf_reset(&b);
    cr_assert_eq(kube_buf_adds(&b, "taken"), KUBE_OK);
    out = kube_buf_take(&b, &len);
    cr_expect_str_eq(out, "taken");
    cr_expect_eq(len, 5);
    cr_expect_eq(kube_buf_len(&b), 0, "take empties the buffer");
    cr_expect_eq(kube_buf_adds(&b, "again"), KUBE_OK, "and it is usable");
    free(out);
    kube_buf_free(&b, 0);
}

/* A counting allocator: the buffer must use it for every byte. */
static int resizes, releases;

static void *count_resize(void *p, size_t used, size_t cap, size_t ncap)
{
    (void)used;
    (void)cap;
    resizes++;
    return realloc(p, ncap);
}

static void count_release(void *p, size_t cap)
{
    (void)cap;
    releases++;
    free(p);
}

Test(kube_buf, reserve_and_own_memory)
{
    static const struct kube_buf_mem mem = {count_resize, count_release};
    struct kube_buf b;

    kube_buf_init_mem(&b, 4, 100, &mem);
    cr_assert_eq(kube_buf_reserve(&b, 50), KUBE_OK);
    cr_expect_eq(kube_buf_cap(&b), 51, "exactly n bytes and the NUL");
    cr_expect_str_eq(kube_buf_str(&b), "");
    for (int i = 0; i < 50; i++)
        cr_assert_eq(kube_buf_add(&b, "x", 1), KUBE_OK);
    cr_expect_eq(resizes, 1, "adds within the reserve allocate nothing");
    cr_expect_eq(kube_buf_reserve(&b, 101), KUBE_ETOOBIG);
    kube_buf_free(&b, 1);
    cr_expect_eq(releases, 1);
}

/* A buffer on the caller's room: text that fits stays there; past it the
 * contents move to the heap, intact; freeing leaves the room alone, and
 * take hands out a heap copy. (ASan builds report a free of the room.) */
Test(kube_buf, room_first_then_heap)
{
    char room[8], *taken;
    struct kube_buf b;

    kube_buf_init_room(&b, room, sizeof(room), 100);
    cr_expect_str_eq(kube_buf_str(&b), "");
    cr_assert_eq(kube_buf_adds(&b, "abcdefg"), KUBE_OK); /* 7 + NUL */
    cr_expect_eq(kube_buf_str(&b), room, "text that fits is in the room");
    cr_assert_eq(kube_buf_adds(&b, "h"), KUBE_OK);
    cr_expect_neq(kube_buf_str(&b), room, "past the room: the heap");
    cr_expect_str_eq(kube_buf_str(&b), "abcdefgh");
    kube_buf_free(&b, 0);

    kube_buf_init_room(&b, room, sizeof(room), 100);
    cr_assert_eq(kube_buf_adds(&b, "xyz"), KUBE_OK);
    taken = kube_buf_take(&b, NULL);
    cr_assert_not_null(taken);
    cr_expect_neq(taken, room, "take copies out of the room");
    cr_expect_str_eq(taken, "xyz");
    free(taken);
    kube_buf_init_room(&b, room, sizeof(room), 100);
    cr_assert_eq(kube_buf_adds(&b, "kept"), KUBE_OK);
    kube_buf_free(&b, 1); /* wiped, not freed */
    cr_expect_eq(room[0], '\0');
}
