/* kube/jsonarena.c - arena-aware allocator for jansson (see the header). */
#include "kube/jsonarena.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KUBE_JSON_ARENA_POISONS
#include <sanitizer/asan_interface.h>
/* a poisoned gap after each allocation, so an overrun is reported */
#define REDZONE 16
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN 16
/* A review of a typical AdmissionReview fits in the first block. */
#define FIRST_BLOCK (32 * 1024)

struct block {
    struct block *next;
    size_t size, used; /* of data */
    _Alignas(ALIGN) unsigned char data[];
};

struct arena {
    struct block *head; /* newest first; the last one is kept */
    int active;
};

static _Thread_local struct arena arena;

/* Frees a thread's kept block when the thread exits. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *unused)
{
    struct block *b = arena.head, *next;

    (void)unused;
    for (; b; b = next) {
        next = b->next;
        free(b);
    }
    arena.head = NULL;
}

static void make_exit_key(void)
{
    (void)pthread_key_create(&exit_key, on_thread_exit);
}

static struct block *block_new(size_t need)
{
    size_t size = FIRST_BLOCK;
    struct block *b;

    while (size < need)
        size *= 2;
    b = malloc(sizeof(*b) + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    POISON(b->data, size);
    return b;
}

/* arena_alloc when the newest block is full, or there is none: a fresh
 * block at least twice the last, so a scope has few. Out of line: the
 * common bump stays a dozen instructions with no register saved. */
__attribute__((noinline)) static void *arena_grow(size_t want, size_t n)
{
    struct block *b = arena.head;
    struct block *nb = block_new(b && b->size * 2 > want ? b->size * 2 : want);
    void *p;

    if (!nb)
        return NULL;
    nb->next = b;
    arena.head = nb;
    p = nb->data;
    nb->used = want;
    UNPOISON(p, n);
    return p;
}

static inline void *arena_alloc(size_t n)
{
    size_t want = (n + REDZONE + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    struct block *b = arena.head;
    void *p;

    if (!b || b->size - b->used < want)
        return arena_grow(want, n);
    p = b->data + b->used;
    b->used += want;
    UNPOISON(p, n);
    return p;
}

static int in_arena(const void *p)
{
    for (const struct block *b = arena.head; b; b = b->next)
        if ((const unsigned char *)p >= b->data &&
            (const unsigned char *)p < b->data + b->size)
            return 1;
    return 0;
}

static int installed; /* set once by main, before any thread */

static void *jansson_malloc(size_t n)
{
    return arena.active ? arena_alloc(n) : malloc(n);
}

/* Inside a scope, arena memory is released by kube_json_arena_end; the
 * heap's (values made before the scope, on any thread) goes back now.
 * Arena memory freed with no scope open belongs to a value made outside
 * a scope and mutated inside one (see the header): a bug, stopped here
 * before free() gets a pointer malloc never gave. */
static void jansson_free(void *p)
{
    if (in_arena(p)) {
        if (arena.active)
            return;
        fputs("vmsnapd: jsonarena: arena memory freed outside its scope: a "
              "value made outside a scope was mutated inside one\n",
              stderr);
        abort();
    }
    free(p);
}

/* A helper's block carries its size before it, for realloc. */
#define HEAD ALIGN
_Static_assert(HEAD >= sizeof(size_t), "the size fits before the block");

void *kube_json_arena_malloc(size_t n)
{
    unsigned char *p;

    if (!installed || !arena.active)
        return malloc(n);
    p = arena_alloc(HEAD + n);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + HEAD;
}

void *kube_json_arena_realloc(void *p, size_t n)
{
    size_t old;
    void *grown;

    if (!p)
        return kube_json_arena_malloc(n);
    if (!in_arena(p))
        return realloc(p, n);
    memcpy(&old, (unsigned char *)p - HEAD, sizeof(old));
    if (n <= old)
        return p;
    grown = kube_json_arena_malloc(n); /* the scope is open: in_arena */
    if (grown)
        memcpy(grown, p, old);
    return grown;
}

void kube_json_arena_free(void *p)
{
    jansson_free(p);
}

void kube_json_arena_install(void)
{
    const char *env = getenv("VMSNAPD_JSON_ARENA");

    if (env && strcmp(env, "0") == 0)
        return; /* plain malloc, for LeakSanitizer */
    json_set_alloc_funcs(jansson_malloc, jansson_free);
    installed = 1;
}

int kube_json_arena_installed(void)
{
    return installed;
}

void kube_json_arena_drop(json_t *v)
{
    assert(arena.active || !installed);
    if (!installed)
        json_decref(v);
}

void kube_json_arena_begin(void)
{
    assert(!arena.active && "arena scopes do not nest");
    if (!arena.head) { /* this thread's first scope */
        pthread_once(&exit_once, make_exit_key);
        (void)pthread_setspecific(exit_key, &arena);
    }
    arena.active = 1;
}

void kube_json_arena_end(void)
{
    struct block *b = arena.head, *next;

    assert(arena.active);
    arena.active = 0;
    if (!b)
        return;
    /* keep the oldest (first, smallest) block; free the ones a big
     * review added, so memory goes back after it */
    for (; b->next; b = next) {
        next = b->next;
        free(b);
    }
    b->used = 0;
    POISON(b->data, b->size);
    arena.head = b;
}

int kube_json_arena_suspend(void)
{
    int was = arena.active;

    arena.active = 0;
    return was;
}

void kube_json_arena_resume(int suspended)
{
    arena.active = suspended;
}
