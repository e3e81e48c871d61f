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
 * - Values made outside a scope (the store's, the policy's) may be used
 *   and decref'd inside it as usual: their memory is the heap's.
 * - Scopes do not nest; other threads are never affected. */
#ifndef VMSNAPD_KUBE_JSONARENA_H
#define VMSNAPD_KUBE_JSONARENA_H

/* Defined when this build poisons released arena memory (AddressSanitizer,
 * gcc or clang), so a use after the scope is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define KUBE_JSON_ARENA_POISONS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KUBE_JSON_ARENA_POISONS 1
#endif
#endif

/* Routes jansson's allocations through the arena-aware allocator. Call
 * once from main before any thread starts (jansson's allocator is
 * process-wide); without it scopes still work, on plain malloc. */
void kube_json_arena_install(void);

/* Opens this thread's scope. */
void kube_json_arena_begin(void);

/* Closes it: every value allocated since begin is released. Keeps one
 * block for the next scope and frees the rest. */
void kube_json_arena_end(void);

#endif
