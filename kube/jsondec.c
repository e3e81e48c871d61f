/* kube/jsondec.c - yajl's lexer feeding jansson's constructors. Every place
 * where yajl 2.1 reads JSON differently from jansson 2.14 is either caught
 * here and sent to json_loadb, or cannot reach a tree. The reference is
 * json_loadb with JSON_ALLOW_NUL and integers past int64 read as reals,
 * which is what a kube-apiserver may send (kube/jsondec.h):
 *   - \uXXXX: yajl turns lone surrogates into '?' and pairs a high
 *     surrogate with any next escape; an escape in D800-DFFF, or one
 *     without four hex digits, goes to json_loadb. \u0000 is a NUL byte
 *     in both (keys too: jansson's own lexer refuses those, we don't).
 *   - \v and \f are whitespace to yajl, invalid anywhere to jansson.
 *   - after the top-level value yajl ignores a string left open at the end
 *     ({} "abc); we check that only jansson's whitespace follows it.
 *   - strings are not UTF-8 checked by yajl (yajl_dont_validate_strings):
 *     json_stringn and json_object_setn_new check them, once, with
 *     jansson's own rules (overlong forms, surrogates, > U+10FFFF);
 *     all-ASCII ones, valid by any rule, skip the check, and so do all
 *     strings of an all-ASCII body (their only other bytes are yajl's
 *     UTF-8 for plain \u escapes).
 *   - raw control characters (NUL too) in strings: yajl refuses them.
 *   - numbers: yajl's grammar is JSON's; we convert the text as jansson
 *     does (strtoll, strtod, real overflow refused, underflow kept), but
 *     an integer past int64 becomes a real, as Go's decoder reads it.
 *   - depth, a scalar top level: refused by the callbacks below. */
#include "kube/jsondec.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "kube/jsonarena.h"

/* jansson's JSON_PARSER_MAX_DEPTH (src/jansson_private.h, not installed).
 * Its parse_value counts every value, scalars too, and fails once the
 * count passes 2048: 2048 nested empty arrays load, a scalar inside 2048
 * arrays does not. */
#define DEPTH_MAX 2048

#define STACK_INLINE 32 /* open containers kept without malloc */
#define KEY_INLINE 128  /* key bytes kept without malloc */
#define NUMBER_MAX 64   /* longer numbers (rare) go to json_loadb */

_Static_assert(sizeof(json_int_t) == sizeof(long long),
               "jansson reads integers with strtoll");

/* An open container: built (c, borrowed from root), or read past
 * (c NULL: its values are checked as json_loadb would, never built). */
struct open {
    json_t *c;
    const struct kube_json_keep *keep; /* NULL: every member is built */
};

struct dec {
    yajl_handle yajl;
    json_t *root;       /* our reference until handed out */
    struct open *stack; /* open containers, innermost last */
    size_t depth, stack_cap;
    const struct kube_json_keep *keep; /* the top level's */
    /* the value after the pending key: built (want) with sub's members */
    int want;
    const struct kube_json_keep *sub;
    /* yajl's key may sit in its decode buffer, which the next escaped
     * string overwrites: the key waits here for its value. */
    char *key;
    size_t key_len, key_cap; /* below twice the input's length */
    int has_key;
    int key_ascii;
    int body_ascii; /* the whole input is ASCII */
    /* what yajl calls: all of full, or (quiet) none of the key, string,
     * null and boolean callbacks while a subtree is read past */
    yajl_callbacks cb;
    const yajl_callbacks *full;
    int quiet;
    size_t end; /* input consumed when the top-level value closed */
    struct open stack_inline[STACK_INLINE];
    char key_inline[KEY_INLINE];
};

/* Whether s is all ASCII: valid UTF-8 by any rule, so jansson's check
 * (a function call per character) can be skipped. */
static int is_ascii(const unsigned char *s, size_t n)
{
    uint64_t any = 0, w;
    size_t i = 0;

    /* 32 bytes a step (the whole body passes here), then eight */
    for (; i + 32 <= n; i += 32) {
        uint64_t w4[4];
        memcpy(w4, s + i, 32);
        any |= w4[0] | w4[1] | w4[2] | w4[3];
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        any |= w;
    }
    for (; i < n; i++)
        any |= s[i];
    return (any & 0x8080808080808080u) == 0;
}

/* Puts v (stolen, may be NULL) where the parse is: the top level, the
 * open array, or the open object under the pending key. Returns 1, or 0
 * to stop yajl (the caller falls back to json_loadb). */
static int add_new(struct dec *d, json_t *v)
{
    json_t *parent;

    if (!v || d->depth >= DEPTH_MAX)
        goto fail;
    if (d->depth == 0) {
        /* json_loadb without JSON_DECODE_ANY wants '[' or '{' */
        if (d->root || !(json_is_object(v) || json_is_array(v)))
            goto fail;
        d->root = v;
        return 1;
    }
    parent = d->stack[d->depth - 1].c;
    if (json_is_array(parent))
        return json_array_append_new(parent, v) == 0;
    if (!d->has_key)
        goto fail; /* yajl sends a key before each member; never seen */
    d->has_key = 0;
    /* an existing key keeps its place and takes the new value, as in
     * json_loadb; jansson validates a key's UTF-8 unless it is ASCII */
    if (d->key_ascii)
        return json_object_setn_new_nocheck(parent, d->key, d->key_len, v) == 0;
    return json_object_setn_new(parent, d->key, d->key_len, v) == 0;
fail:
    json_decref(v);
    return 0;
}

/* Whether the next value is built, and with which members (*keep):
 * the top level always, an array's items as the array, an object's
 * members as its pending key decided. */
static int wanted(const struct dec *d, const struct kube_json_keep **keep)
{
    const struct open *o = d->depth ? &d->stack[d->depth - 1] : NULL;

    if (!o) {
        *keep = d->keep;
        return 1;
    }
    if (!o->c)
        return 0;
    *keep = json_is_array(o->c) ? o->keep : d->sub;
    return json_is_array(o->c) || d->want;
}

/* A value that is read past: only jansson's depth limit applies. */
static int skip(struct dec *d)
{
    d->has_key = 0;
    return d->depth < DEPTH_MAX;
}

/* Inside a subtree read past, in an all-ASCII body, keys, strings,
 * nulls and booleans need no look: UTF-8 is valid (see plain_utf8), and
 * a scalar fails only past jansson's depth. So yajl is not asked to call
 * for them there (nor to decode their escapes): its parser reads each
 * callback through the pointer yajl_alloc was given at every token
 * (yajl 2.1, yajl_parser.c), so a slot cleared is a call not made; a
 * yajl that kept a copy would call, and be answered as before. Numbers
 * (jansson refuses an overflowing real) and containers (the depth, the
 * end of the subtree) still come. Quiet only inside a subtree read
 * past, below DEPTH_MAX (open_new and on_close keep to that). */
static void set_quiet(struct dec *d, int q)
{
    if (q == d->quiet)
        return;
    d->quiet = q;
    d->cb.yajl_map_key = q ? NULL : d->full->yajl_map_key;
    d->cb.yajl_string = q ? NULL : d->full->yajl_string;
    d->cb.yajl_null = q ? NULL : d->full->yajl_null;
    d->cb.yajl_boolean = q ? NULL : d->full->yajl_boolean;
}

/* Opens a container: with build, c (stolen; NULL when jansson could not
 * make it) built with keep's members; else one read past. */
static int open_new(struct dec *d, int build, json_t *c,
                    const struct kube_json_keep *keep)
{
    struct open *grown;

    if (build ? !add_new(d, c) : !skip(d))
        return 0;
    if (d->depth == d->stack_cap) { /* depth < DEPTH_MAX here */
        grown = malloc(2 * d->stack_cap * sizeof(*grown));
        if (!grown)
            return 0; /* c belongs to the tree: freed with root */
        memcpy(grown, d->stack, d->depth * sizeof(*grown));
        if (d->stack != d->stack_inline)
            free(d->stack);
        d->stack = grown;
        d->stack_cap *= 2;
    }
    d->stack[d->depth++] = (struct open){c, keep}; /* c borrowed */
    if (!build) /* read past, and all inside it */
        set_quiet(d, d->body_ascii && d->depth < DEPTH_MAX);
    return 1;
}

static int on_close(void *ctx)
{
    struct dec *d = ctx;

    if (d->depth == 0)
        return 0; /* unbalanced; yajl never does this */
    /* yajl 2.1 counts consumed bytes as it lexes, so during this callback
     * the count stops just past the closing bracket; a count that were
     * stale could only fail the whitespace check, never pass garbage */
    if (--d->depth == 0)
        d->end = yajl_get_bytes_consumed(d->yajl);
    if (d->quiet && (d->depth == 0 || d->stack[d->depth - 1].c))
        set_quiet(d, 0); /* back where values are built */
    return 1;
}

static int on_start_map(void *ctx)
{
    const struct kube_json_keep *keep = NULL;
    int build = wanted(ctx, &keep);

    return open_new(ctx, build, build ? json_object() : NULL, keep);
}

static int on_start_array(void *ctx)
{
    const struct kube_json_keep *keep = NULL;
    int build = wanted(ctx, &keep);

    return open_new(ctx, build, build ? json_array() : NULL, keep);
}

/* Whether row, a C string, is key[0..len) (len > 0, key[0] == row[0]
 * already seen). A byte loop: the keys are short, and a row that ends
 * early (a key holding a NUL byte) stops it. */
static int row_is(const char *row, const unsigned char *key, size_t len)
{
    for (size_t i = 1; i < len; i++)
        if (row[i] == '\0' || row[i] != (char)key[i])
            return 0;
    return row[len] == '\0';
}

/* The row of keep naming key[0..len), the "*" row, or NULL. Every key of
 * a kept object passes here: one byte compared a row, no strlen. */
static const struct kube_json_keep *keep_row(const struct kube_json_keep *keep,
                                             const unsigned char *key,
                                             size_t len)
{
    const struct kube_json_keep *any = NULL;
    char first = len > 0 ? (char)key[0] : '\0'; /* no row is "" */

    for (; keep->key; keep++) {
        if (keep->key[0] == first && first != '\0' &&
            row_is(keep->key, key, len))
            return keep;
        if (keep->key[0] == '*' && keep->key[1] == '\0')
            any = keep;
    }
    return any;
}

/* Whether s[0..len), a decoded key or string, needs no UTF-8 check: it
 * is ASCII, or the whole body is, so its only other bytes are yajl's
 * UTF-8 for \u escapes, valid by any rule (surrogates and malformed
 * escapes went to json_loadb). One look at the body instead of one at
 * each key and string. */
static int plain_utf8(const struct dec *d, const unsigned char *s, size_t len)
{
    return d->body_ascii || is_ascii(s, len);
}

/* Whether jansson would take s[0..len) as a string or key: plain UTF-8
 * always, the rest by its own rules (asked of its constructor). */
static int utf8_ok(const struct dec *d, const unsigned char *s, size_t len)
{
    json_t *probe;

    if (plain_utf8(d, s, len))
        return 1;
    probe = json_stringn((const char *)s, len);
    json_decref(probe);
    return probe != NULL;
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
    struct dec *d = ctx;
    const struct open *o = &d->stack[d->depth - 1]; /* yajl: in a map */
    const struct kube_json_keep *row = NULL;
    size_t cap = d->key_cap;
    char *grown;

    if (o->keep)
        row = keep_row(o->keep, key, len);
    d->want = o->c && (!o->keep || (row && !row->drop));
    d->sub = row ? row->sub : NULL;
    if (!d->want) { /* the member is read past; its key must still be one */
        d->has_key = 1;
        return utf8_ok(d, key, len);
    }

    if (len > cap) {
        while (cap < len)
            cap *= 2;
        grown = malloc(cap);
        if (!grown)
            return 0;
        if (d->key != d->key_inline)
            free(d->key);
        d->key = grown;
        d->key_cap = cap;
    }
    memcpy(d->key, key, len);
    d->key_len = len;
    d->key_ascii = plain_utf8(d, key, len);
    d->has_key = 1;
    return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct dec *d = ctx;
    const struct kube_json_keep *keep;

    if (!wanted(d, &keep))
        return utf8_ok(d, s, len) && skip(d);
    /* jansson's UTF-8 rules are the one validation of the bytes; plain
     * UTF-8 needs none (raw control characters never get here: yajl
     * refuses them) */
    if (plain_utf8(d, s, len))
        return add_new(ctx, json_stringn_nocheck((const char *)s, len));
    return add_new(ctx, json_stringn((const char *)s, len));
}

/* yajl's number text (JSON grammar already checked) read the way
 * jansson's lex_scan_number reads it. */
static int on_number(void *ctx, const char *s, size_t len)
{
    const struct kube_json_keep *keep;
    char text[NUMBER_MAX], *end;
    json_int_t i;
    double r;

    if (len >= sizeof(text))
        return 0;
    memcpy(text, s, len);
    text[len] = '\0';
    errno = 0;
    if (!memchr(text, '.', len) && !memchr(text, 'e', len) &&
        !memchr(text, 'E', len)) {
        i = strtoll(text, &end, 10);
        if (end != text + len)
            return 0;
        if (errno != ERANGE)
            return wanted(ctx, &keep) ? add_new(ctx, json_integer(i))
                                      : skip(ctx);
        errno = 0; /* past int64 (18446744073709552000): a real, below */
    }
    /* jansson swaps '.' for the locale's decimal point first; when strtod
     * stops short at the '.', json_loadb decides */
    r = strtod(text, &end);
    if (end != text + len || (errno == ERANGE && isinf(r)))
        return 0; /* jansson: "real number overflow"; underflow is kept */
    return wanted(ctx, &keep) ? add_new(ctx, json_real(r)) : skip(ctx);
}

static int on_null(void *ctx)
{
    const struct kube_json_keep *keep;

    return wanted(ctx, &keep) ? add_new(ctx, json_null()) : skip(ctx);
}

static int on_boolean(void *ctx, int b)
{
    const struct kube_json_keep *keep;

    return wanted(ctx, &keep) ? add_new(ctx, json_boolean(b)) : skip(ctx);
}

/* Whether p[0..4) is a \u escape yajl decodes as jansson does: four hex
 * digits outside the surrogate range D800-DFFF. */
static int plain_escape(const char *p, const char *end)
{
    unsigned v = 0;

    if (end - p < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                     : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                              : 16u;
        if (d > 15)
            return 0;
        v = v * 16 + d;
    }
    return v < 0xD800 || v > 0xDFFF;
}

/* What yajl would read differently from jansson, visible in the raw
 * bytes: a surrogate or malformed \u escape, or a \v or \f byte (in or
 * out of strings). */
static int needs_jansson(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    if (memchr(buf, '\v', len) || memchr(buf, '\f', len))
        return 1;
    /* backslashes only parse inside strings, where each one starts an
     * escape and the next byte is escaped ("\\u" is no \u escape) */
    while ((p = memchr(p, '\\', (size_t)(end - p)))) {
        if (end - p < 2)
            return 1;
        if (p[1] == 'u' && !plain_escape(p + 2, end))
            return 1;
        p += 2;
    }
    return 0;
}

/* Whether buf[at..len) is only jansson's whitespace. */
static int only_space_from(const char *buf, size_t len, size_t at)
{
    while (len > at && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
                        buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    return len == at;
}

/* yajl's allocations (its handle, lexer, decode buffer and stack, about
 * five a body, grown with realloc) from the review's arena: a bump each
 * instead of malloc and free (kube/jsonarena.h). */
static void *yajl_arena_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return kube_json_arena_malloc(n);
}

static void *yajl_arena_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return kube_json_arena_realloc(p, n);
}

static void yajl_arena_free(void *ctx, void *p)
{
    (void)ctx;
    kube_json_arena_free(p);
}

json_t *kube_json_decode_fast(const char *buf, size_t len)
{
    return kube_json_decode_fast_keep(buf, len, NULL);
}

json_t *kube_json_decode_fast_keep(const char *buf, size_t len,
                                   const struct kube_json_keep *keep)
{
    static const yajl_callbacks cb = {
        .yajl_null = on_null,
        .yajl_boolean = on_boolean,
        .yajl_number = on_number, /* the text: integers and reals both */
        .yajl_string = on_string,
        .yajl_start_map = on_start_map,
        .yajl_map_key = on_key,
        .yajl_end_map = on_close,
        .yajl_start_array = on_start_array,
        .yajl_end_array = on_close,
    };
    yajl_alloc_funcs mem = {yajl_arena_malloc, yajl_arena_realloc,
                            yajl_arena_free, NULL};
    struct dec d = {0};
    json_t *out = NULL;

    if (!buf || needs_jansson(buf, len))
        return NULL;
    d.keep = keep;
    d.body_ascii = is_ascii((const unsigned char *)buf, len);
    d.stack = d.stack_inline;
    d.stack_cap = STACK_INLINE;
    d.key = d.key_inline;
    d.key_cap = KEY_INLINE;
    d.full = &cb;
    d.cb = cb;
    d.yajl = yajl_alloc(&d.cb, &mem, &d);
    if (!d.yajl)
        return NULL;
    /* 2.1 has no reset, hence a handle per call; UTF-8 is jansson's job */
    if (yajl_config(d.yajl, yajl_dont_validate_strings, 1) &&
        yajl_parse(d.yajl, (const unsigned char *)buf, len) == yajl_status_ok &&
        yajl_complete_parse(d.yajl) == yajl_status_ok && d.root &&
        d.depth == 0 && only_space_from(buf, len, d.end)) {
        out = d.root;
        d.root = NULL;
    }
    yajl_free(d.yajl);
    json_decref(d.root);
    if (d.stack != d.stack_inline)
        free(d.stack);
    if (d.key != d.key_inline)
        free(d.key);
    return out;
}

/* json_loadb as kube_json_decode's reference reads: NUL allowed, and an
 * integer past int64 as a real. Only a surrogate escape, \v or \f sends
 * such a number here (Go writes none of them): that document's integers
 * all become reals. */
static json_t *load_slow(const char *buf, size_t len, json_error_t *error)
{
    json_t *v = json_loadb(buf, len, JSON_ALLOW_NUL, error);

    if (!v && json_error_code(error) == json_error_numeric_overflow)
        v = json_loadb(buf, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL,
                       error);
    return v;
}

json_t *kube_json_decode(const char *buf, size_t len, json_error_t *error)
{
    return kube_json_decode_keep(buf, len, NULL, error);
}

json_t *kube_json_decode_keep(const char *buf, size_t len,
                              const struct kube_json_keep *keep,
                              json_error_t *error)
{
    json_t *v = kube_json_decode_fast_keep(buf, len, keep);
    json_error_t local;

    if (!v)
        return load_slow(buf, len, error ? error : &local); /* its error */
    if (error) {
        /* what json_loadb leaves on success: jsonp_error_init's fields
         * and the position after the last byte read */
        error->text[0] = '\0';
        snprintf(error->source, sizeof(error->source), "%s", "<buffer>");
        error->line = -1;
        error->column = -1;
        error->position = (int)len;
    }
    return v;
}
