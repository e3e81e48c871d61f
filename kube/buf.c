/* kube/buf.c - the growable byte buffer: doubling growth, capped at the
 * ceiling so a buffer never holds more than its owner allowed. */
#include "kube/buf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void kube_buf_init(struct kube_buf *b, size_t first, size_t max)
{
    kube_buf_init_mem(b, first, max, NULL);
}

void kube_buf_init_mem(struct kube_buf *b, size_t first, size_t max,
                       const struct kube_buf_mem *mem)
{
    *b =
        (struct kube_buf){.mem = mem, .max = max, .first = first ? first : 256};
}

void kube_buf_init_room(struct kube_buf *b, char *room, size_t len, size_t max)
{
    kube_buf_init(b, len, max);
    b->room = room;
    b->p = room;
    b->cap = len;
    room[0] = '\0';
}

/* Whether the contents sit in the caller's room (never freed here). */
static int in_room(const struct kube_buf *b)
{
    return b->p && b->p == b->room;
}

/* The contents moved out of the caller's room into cap malloc'd bytes. */
static char *leave_room(struct kube_buf *b, size_t cap)
{
    char *p = malloc(cap);

    if (p)
        memcpy(p, b->p, b->len + 1);
    return p;
}

/* Sets the capacity to cap (> b->cap). */
static int resize(struct kube_buf *b, size_t cap)
{
    char *p;

    if (in_room(b))
        p = leave_room(b, cap);
    else if (b->mem)
        p = b->mem->resize(b->p, b->p ? b->len + 1 : 0, b->cap, cap);
    else
        p = realloc(b->p, cap);
    if (!p)
        return b->err = KUBE_ENOMEM;
    b->p = p;
    b->cap = cap;
    return KUBE_OK;
}

/* Grows so that n more bytes and the NUL fit. */
static int grow(struct kube_buf *b, size_t n)
{
    size_t need, cap;

    if (b->err)
        return b->err;
    if (n > b->max - b->len)
        return b->err = KUBE_ETOOBIG;
    need = b->len + n + 1;
    if (need <= b->cap)
        return KUBE_OK;
    cap = b->cap ? b->cap : b->first;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    return resize(b, cap);
}

int kube_buf_reserve(struct kube_buf *b, size_t n)
{
    int rc;

    if (b->err)
        return b->err;
    if (n > b->max)
        return b->err = KUBE_ETOOBIG;
    if (n + 1 <= b->cap)
        return KUBE_OK;
    rc = resize(b, n + 1);
    if (rc == KUBE_OK && b->len == 0)
        b->p[0] = '\0';
    return rc;
}

size_t kube_buf_cap(const struct kube_buf *b)
{
    return b->cap;
}

int kube_buf_add(struct kube_buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);

    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return KUBE_OK;
}

int kube_buf_adds(struct kube_buf *b, const char *s)
{
    return kube_buf_add(b, s, strlen(s));
}

char *kube_buf_room(struct kube_buf *b, size_t n, int *rc)
{
    *rc = grow(b, n);
    return *rc < 0 ? NULL : b->p + b->len;
}

void kube_buf_commit(struct kube_buf *b, size_t n)
{
    if (!b->p)
        return;
    b->len += n;
    b->p[b->len] = '\0';
}

const char *kube_buf_str(const struct kube_buf *b)
{
    return b->p ? b->p : "";
}

size_t kube_buf_len(const struct kube_buf *b)
{
    return b->len;
}

int kube_buf_error(const struct kube_buf *b)
{
    return b->err;
}

char *kube_buf_take(struct kube_buf *b, size_t *len)
{
    char *p = b->p;

    assert(!b->mem); /* the caller would free() another allocator's memory */
    if (in_room(b))
        p = leave_room(b, b->len + 1);
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = 0;
    return p;
}

void kube_buf_reset(struct kube_buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->p)
        b->p[0] = '\0';
}

void kube_buf_free(struct kube_buf *b, int wipe)
{
    if (b->p && wipe)
        explicit_bzero(b->p, b->cap);
    if (!in_room(b) && b->mem) /* the room is the caller's */
        b->mem->release(b->p, b->cap);
    else if (!in_room(b))
        free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}
