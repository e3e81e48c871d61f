/* kube/jsonarena.h - per-thread bump allocation for the jansson values of
 * one short piece of work (an admission review), released all at once.
 *
 * Why: a review builds and frees a few hundred small jansson values; with
 * malloc, allocating and freeing them was a quarter of a review's
 * instructions. Inside an arena scope every jansson allocation of the
 * calling thread comes from a block that stays warm in cache, freeing is
 * a range check, and the scope's end resets the block.
 *
 * Rules (ASan builds poison released arena memory, so the tests catch a
 * break of them):
 * - No jansson value or jansson-allocated string made inside a scope may
 *   outlive it: copy out what must stay (json_dumps output included).
 * - Values made outside a scope (the store's, the policy's) may be read,
 *   referenced and decref'd inside it, never mutated: a key set, deleted
 *   or appended makes jansson allocate for them from the arena (a rehash
 *   of an object of more than 8 keys moves its whole table there), and
 *   their later free would hand arena memory to free(). The review path
 *   receives them through wh_state_get/list and only reads them.
 *   Enforced: jansson's free of this thread's arena memory with no scope
 *   open aborts, naming the rule, before free() could corrupt the heap.
 * - Scopes do not nest; other threads are never affected.
 *
 * VMSNAPD_JSON_ARENA=0 in the environment leaves jansson on plain malloc
 * (scopes then do nothing), so an ASan build's LeakSanitizer sees values
 * leaked inside a scope: VMSNAPD_JSON_ARENA=0 make test-asan. */
#ifndef VMSNAPD_KUBE_JSONARENA_H
#define VMSNAPD_KUBE_JSONARENA_H

#include <jansson.h>
#include <stddef.h>

/* Defined when this build poisons released arena memory (AddressSanitizer,
 * gcc or clang), so a use after the scope is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define KUBE_JSON_ARENA_POISONS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KUBE_JSON_ARENA_POISONS 1
#endif
#endif

/* Routes jansson's allocations through the arena-aware allocator, unless
 * VMSNAPD_JSON_ARENA is "0". Call once from main before any thread starts
 * (jansson's allocator is process-wide); without it scopes still work, on
 * plain malloc. */
void kube_json_arena_install(void);

/* Whether kube_json_arena_install routed jansson through the arena. */
int kube_json_arena_installed(void);

/* Opens this thread's scope. */
void kube_json_arena_begin(void);

/* Drops the caller's reference to v, a tree made wholly inside this
 * thread's open scope (holding no value made outside it): with the arena
 * installed nothing is walked, since the scope's end releases it all
 * (json_decref walked every value of a decoded review: a tenth of its
 * cost); else json_decref(v). */
void kube_json_arena_drop(json_t *v);

/* Closes it: every value allocated since begin is released. Keeps one
 * block for the next scope and frees the rest. */
void kube_json_arena_end(void);

/* Suspends this thread's scope, when one is open: until
 * kube_json_arena_resume the thread's jansson values come from the heap
 * and may outlive the scope (the store's shared trees, decoded during a
 * review). Returns what to pass to resume. */
int kube_json_arena_suspend(void);
void kube_json_arena_resume(int suspended);

/* Memory for the helpers of this thread's scope (yajl's lexer, through
 * yajl_alloc_funcs): with the arena installed and a scope open, from the
 * arena, so realloc copies and free does nothing (the scope's end
 * releases it); else malloc, realloc and free. Arena memory must not
 * outlive the scope, like jansson's. NULL when memory runs out. */
void *kube_json_arena_malloc(size_t n);
void *kube_json_arena_realloc(void *p, size_t n);
void kube_json_arena_free(void *p);

#endif
