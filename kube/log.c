/* kube/log.c - JSON-lines logging. The flat formats callers use are
 * written straight into a stack buffer with kube/jsonw.h (jansson's
 * compact bytes, escaping included); any other format is packed and
 * dumped by jansson, as every line was before. Why: a denied review logs
 * one line, and the tree (an object, a hash table, an allocation per key
 * and value, a dump) cost about 55,000 instructions of it. */
#include "kube/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/client_time.h"
#include "kube/json.h"
#include "kube/jsonw.h"

/* Pairs the direct writer takes; a longer format goes through jansson. */
#define LOG_FIELDS_MAX 16
/* A line that fits here never touches the heap. */
#define LOG_ROOM 1024
/* No ceiling of ours: jansson's path never had one. */
#define LOG_MAX (((size_t)-1) / 4)

static enum kube_log_level min_level = KUBE_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* One "s:X" pair of a format, its argument read. */
struct log_field {
    const char *key;
    size_t klen;
    char type; /* 's', 'i', 'I', 'f', 'b'; '?' for "s?", '*' for "s*" */
    union {
        const char *str;
        json_int_t num; /* i, I; b as 0 or 1 */
        double real;
    } v;
};

void kube_log_set_level(enum kube_log_level level)
{
    min_level = level;
}

int kube_log_parse_level(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

int kube_log_enabled(enum kube_log_level level)
{
    return level >= min_level;
}

int kube_log_format_jansson(struct kube_buf *b, const char *ts,
                            enum kube_log_level level, const char *msg,
                            const char *fields, va_list ap)
{
    json_t *line = NULL, *extra = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc = KUBE_EINVAL;

    kube_buf_reset(b);
    if (fields)
        extra = json_vpack_ex(NULL, 0, fields, ap);
    line = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level],
                     "msg", msg);
    if (!line)
        goto done;
    if (extra)
        json_object_update_missing(line, extra); /* ts, level, msg stay */
    text = kube_json_dump(line, JSON_COMPACT | JSON_PRESERVE_ORDER, &n);
    if (!text)
        goto done;
    kube_buf_add(b, text, n);
    rc = kube_buf_add(b, "\n", 1);
done:
    free(text);
    json_decref(extra);
    json_decref(line);
    return rc;
}

/* The next format character past jansson's separators (" \t\n,:"),
 * compared one by one: a strchr per character cost more than the rest of
 * the parse. */
static char next_token(const char **p)
{
    char c;

    while ((c = **p) == ' ' || c == '\t' || c == '\n' || c == ',' || c == ':')
        (*p)++;
    if (c)
        (*p)++;
    return c;
}

/* Reads fields into types[] (one letter per pair) when it is a flat
 * object of the pairs the direct writer takes, tokenised as json_pack
 * tokenises it. Returns the number of pairs, or -1 for any other format
 * ("s#", "o", nesting, more than LOG_FIELDS_MAX pairs, garbage). */
static int parse_format(char *types, const char *fields)
{
    const char *p = fields, *peek;
    int n = 0;
    char t, mod;

    if (next_token(&p) != '{')
        return -1;
    while ((t = next_token(&p)) == 's') {
        t = next_token(&p);
        if (n == LOG_FIELDS_MAX ||
            (t != 's' && t != 'i' && t != 'I' && t != 'f' && t != 'b'))
            return -1;
        types[n++] = t;
        if (t != 's')
            continue;
        peek = p;
        mod = next_token(&peek);
        if (mod == '?' || mod == '*') {
            types[n - 1] = mod;
            p = peek;
        }
    }
    return t == '}' && next_token(&p) == '\0' ? n : -1;
}

/* Reads the arguments of n pairs. Returns 0, or KUBE_EINVAL when
 * json_pack fails on them: a NULL key or a NULL plain "s" string. */
static int gather(struct log_field *f, const char *types, int n, va_list ap)
{
    int rc = KUBE_OK;

    for (int i = 0; i < n; i++) {
        f[i].key = va_arg(ap, const char *);
        f[i].klen = f[i].key ? strlen(f[i].key) : 0;
        f[i].type = types[i];
        if (types[i] == 'i' || types[i] == 'b')
            f[i].v.num = va_arg(ap, int);
        else if (types[i] == 'I')
            f[i].v.num = va_arg(ap, json_int_t);
        else if (types[i] == 'f')
            f[i].v.real = va_arg(ap, double);
        else
            f[i].v.str = va_arg(ap, const char *);
        if (!f[i].key || (types[i] == 's' && !f[i].v.str))
            rc = KUBE_EINVAL;
    }
    return rc;
}

/* Whether a key is ts, level or msg, or comes twice: jansson's merge
 * keeps the line's own, and a repeated key its first place with its last
 * value; the direct writer leaves both to jansson. */
static int keys_clash(const struct log_field *f, int n)
{
    static const char *const own[] = {"ts", "level", "msg"};

    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++)
            if (f[i].key[0] == own[k][0] && strcmp(f[i].key, own[k]) == 0)
                return 1;
        for (int j = 0; j < i; j++)
            if (f[j].klen == f[i].klen &&
                memcmp(f[j].key, f[i].key, f[i].klen) == 0)
                return 1;
    }
    return 0;
}

static int write_value(struct kube_buf *b, const struct log_field *f)
{
    switch (f->type) {
    case 'i':
    case 'I':
        return kube_jsonw_int(b, f->v.num);
    case 'b':
        return kube_jsonw_bool(b, f->v.num != 0);
    case 'f':
        return kube_jsonw_real(b, f->v.real);
    default: /* s, s?, s* */
        return f->v.str ? kube_jsonw_strz(b, f->v.str)
                        : kube_buf_add(b, "null", 4);
    }
}

/* ,"key":value for each pair but an "s*" NULL. Returns 0, KUBE_EINVAL
 * when jansson would refuse a key or value (bad UTF-8, a real that is not
 * finite), or b's failure. */
static int write_fields(struct kube_buf *b, const struct log_field *f, int n)
{
    int rc = KUBE_OK;

    for (int i = 0; i < n && rc == KUBE_OK; i++) {
        if (f[i].type == '*' && !f[i].v.str)
            continue;
        kube_buf_add(b, ",", 1);
        rc = kube_jsonw_str(b, f[i].key, f[i].klen);
        kube_buf_add(b, ":", 1);
        if (rc == KUBE_OK)
            rc = write_value(b, &f[i]);
    }
    return rc;
}

/* Replaces b's contents with {"ts":..,"level":..,"msg":.. (open). */
static int write_head(struct kube_buf *b, const char *ts,
                      enum kube_log_level level, const char *msg)
{
    int rc;

    kube_buf_reset(b);
    kube_buf_add(b, "{\"ts\":", 6);
    rc = ts ? kube_jsonw_strz(b, ts) : KUBE_EINVAL;
    kube_buf_add(b, ",\"level\":", 9);
    if (rc == KUBE_OK)
        rc = kube_jsonw_strz(b, level_names[level]);
    kube_buf_add(b, ",\"msg\":", 7);
    if (rc == KUBE_OK)
        rc = msg ? kube_jsonw_strz(b, msg) : KUBE_EINVAL;
    return rc < 0 ? rc : kube_buf_error(b);
}

int kube_log_format(struct kube_buf *b, const char *ts,
                    enum kube_log_level level, const char *msg,
                    const char *fields, va_list ap)
{
    struct log_field f[LOG_FIELDS_MAX];
    char types[LOG_FIELDS_MAX];
    int n = fields ? parse_format(types, fields) : 0;
    int rc, packed;
    va_list aq;

    if (n < 0)
        return kube_log_format_jansson(b, ts, level, msg, fields, ap);
    va_copy(aq, ap); /* ap stays whole for jansson's path */
    packed = gather(f, types, n, aq);
    va_end(aq);
    if (packed == KUBE_OK && keys_clash(f, n))
        return kube_log_format_jansson(b, ts, level, msg, fields, ap);
    rc = write_head(b, ts, level, msg);
    if (rc < 0)
        goto done;
    if (packed == KUBE_OK)
        packed = write_fields(b, f, n);
    if (packed == KUBE_EINVAL) /* jansson's pack failed: no fields */
        rc = write_head(b, ts, level, msg);
    if (rc == KUBE_OK)
        rc = kube_buf_add(b, "}\n", 2);
done:
    if (rc < 0)
        kube_buf_reset(b); /* no line: no piece of one */
    return rc;
}

void kube_log(enum kube_log_level level, const char *msg, const char *fields,
              ...)
{
    char room[LOG_ROOM];
    char ts[64];
    struct kube_buf b;
    va_list ap;
    int rc;

    if (!kube_log_enabled(level))
        return;
    kube_time_rfc3339(ts, sizeof(ts), 3);
    kube_buf_init_room(&b, room, sizeof(room), LOG_MAX);
    va_start(ap, fields);
    rc = kube_log_format(&b, ts, level, msg, fields, ap);
    va_end(ap);
    /* one write per line, so lines from threads never interleave */
    if (rc == KUBE_OK &&
        write(STDERR_FILENO, kube_buf_str(&b), kube_buf_len(&b)) < 0) {
        /* nowhere left to report a failed log write */
    }
    kube_buf_free(&b, 0);
}
