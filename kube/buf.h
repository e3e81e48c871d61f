/* kube/buf.h - the one growable byte buffer, after curl's dynbuf: every
 * place that collects bytes from outside (API bodies, request bodies,
 * watch lines, files, URL paths, PEM text) uses it, so each gets its
 * ceiling at init and fails the same way when it is passed.
 *
 * The contents are always NUL-terminated once anything was added, so
 * text can be handed to parsers as is. A failure is sticky: after one,
 * every add fails with the same code until kube_buf_reset. */
#ifndef VMSNAPD_KUBE_BUF_H
#define VMSNAPD_KUBE_BUF_H

#include <stddef.h>

#include "kube/errors.h"

/* Where a buffer's memory comes from, when not malloc: the webhook keeps
 * large request bodies in their own mappings so that a burst gives its
 * memory back to the kernel at once. */
struct kube_buf_mem {
    /* p (cap bytes, of which used hold data; NULL when cap is 0) grown
     * to ncap bytes; NULL on failure, p untouched */
    void *(*resize)(void *p, size_t used, size_t cap, size_t ncap);
    void (*release)(void *p, size_t cap); /* p may be NULL */
};

/* Kept on the caller's stack or inside its struct; fields are private. */
struct kube_buf {
    const struct kube_buf_mem *mem; /* private: NULL means malloc */
    char *p;                        /* private: NULL until the first add */
    size_t len;                     /* private */
    size_t cap;                     /* private */
    size_t max;                     /* private: ceiling on len */
    size_t first;                   /* private: first allocation */
    char *room;                     /* private: the caller's first memory */
    int err; /* private: 0, KUBE_ENOMEM or KUBE_ETOOBIG, sticky */
};

/* An empty buffer that will hold at most max bytes (plus the NUL) and
 * allocates first bytes the first time (0: 256). Cannot fail. */
void kube_buf_init(struct kube_buf *b, size_t first, size_t max);

/* As kube_buf_init, with memory from mem (borrowed; NULL: malloc). */
void kube_buf_init_mem(struct kube_buf *b, size_t first, size_t max,
                       const struct kube_buf_mem *mem);

/* An empty buffer (malloc) whose first len bytes are the caller's room,
 * borrowed for the buffer's life: text that fits never touches the heap
 * (a log line on the stack); past it the contents move to malloc'd
 * memory. len >= 1. Cannot fail. */
void kube_buf_init_room(struct kube_buf *b, char *room, size_t len, size_t max);

/* Makes room for n bytes in all, so adds up to n allocate nothing more:
 * for owners that account memory by capacity. Same returns as
 * kube_buf_add. */
int kube_buf_reserve(struct kube_buf *b, size_t n);

/* The bytes held now (the contents, their NUL and the room after). */
size_t kube_buf_cap(const struct kube_buf *b);

/* Appends n bytes. Returns 0, KUBE_ETOOBIG past the ceiling (nothing is
 * added), KUBE_ENOMEM, or the earlier failure. Callers that build text
 * piece by piece may ignore each return and check kube_buf_error once. */
int kube_buf_add(struct kube_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string; as kube_buf_add. */
int kube_buf_adds(struct kube_buf *b, const char *s);

/* Makes room for n more bytes and returns where they go (NULL on
 * failure, with the code as kube_buf_add's in *rc); kube_buf_commit then
 * counts the bytes really written there. For readers that fill the
 * buffer in place (fread). */
char *kube_buf_room(struct kube_buf *b, size_t n, int *rc);
void kube_buf_commit(struct kube_buf *b, size_t n);

/* The contents (borrowed: valid until the next add or reset; "" when
 * empty, never NULL) and their length. */
const char *kube_buf_str(const struct kube_buf *b);
size_t kube_buf_len(const struct kube_buf *b);

/* The failure that stopped the buffer, or 0. */
int kube_buf_error(const struct kube_buf *b);

/* Hands the contents to the caller (free() them; NULL when nothing was
 * added) and empties the buffer, which stays usable with its ceiling.
 * Only for malloc'd buffers (asserted); contents in the caller's room
 * are copied out (NULL when memory runs out). */
char *kube_buf_take(struct kube_buf *b, size_t *len);

/* Empties the buffer and clears a failure; keeps the memory. */
void kube_buf_reset(struct kube_buf *b);

/* Frees the memory, wiping it first when wipe is set (it may have held a
 * key); the buffer is empty and usable again. */
void kube_buf_free(struct kube_buf *b, int wipe);

#endif
