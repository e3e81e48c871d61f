/* kube/yaml.c - YAML streams into jansson values through libyaml's event
 * API, one document at a time: the stream loop, documents, limits and
 * errors that name line and column. Scalars resolve as sigs.k8s.io/yaml
 * (go-yaml v2) does (kube/yaml_scalar.c); events become values in
 * kube/yaml_build.c; each document carries a table of where its nodes
 * stood, keyed by (parent node, name), so a field path costs one hash
 * probe per component (kube/yaml_index.c).
 *
 * Nothing recurses per nesting level: open collections live on an explicit
 * stack capped by max_depth, and an alias is checked against the depth and
 * node limits before it is copied. */
#include "kube/yaml.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/yaml_internal.h"

enum {
    DEF_MAX_DEPTH = 256,
    DEF_MAX_ALIAS_REFS = 10000,
    DEF_MAX_NODES = 1000000,
    /* jansson copies and frees values recursively: keep its stack small */
    HARD_MAX_DEPTH = 4096,
};

/* Sets err to "NAME:LINE:COL: what" and returns code. */
int kube_yaml_fail(struct yp *p, int code, int line, int col, const char *fmt,
                   ...)
{
    char msg[KUBE_ERR_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap); /* cut is fine */
    va_end(ap);
    return kube_err_set(p->err, code, "%s:%d:%d: %s", p->name, line, col, msg);
}

int kube_yaml_nomem(struct yp *p)
{
    return kube_err_set(p->err, KUBE_ENOMEM, "%s: out of memory", p->name);
}

/* Writes s as a double-quoted string for a message, cut at about 60
 * bytes; control characters are escaped so the message stays one line. */
void kube_yaml_quote(char *out, size_t n, const char *s, size_t len)
{
    size_t o = 0;

    assert(n >= 16);
    out[o++] = '"';
    for (size_t i = 0; i < len && o + 8 < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (i >= 60) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* ---- documents and the stream ---- */

static void doc_free(struct yp *p)
{
    while (p->depth)
        kube_yaml_frame_free(&p->stack[--p->depth]);
    kube_yaml_anchors_clear(&p->anchors);
    kube_yaml_pos_free(p->pos);
    p->pos = NULL;
    json_decref(p->doc.root);
    memset(&p->doc, 0, sizeof(p->doc));
    p->nodes = 0;
    p->aliases = 0;
}

static int doc_begin(struct yp *p, const yaml_event_t *ev)
{
    doc_free(p);
    p->pos = calloc(1, sizeof(*p->pos));
    if (!p->pos)
        return kube_yaml_nomem(p);
    p->doc.index = p->index;
    p->doc.line = mark_line(&ev->start_mark);
    p->doc.col = mark_col(&ev->start_mark);
    p->doc.pos = p->pos;
    return KUBE_OK;
}

/* Hands the finished document to the callback, then frees it. */
static int doc_end(struct yp *p)
{
    int rc;

    assert(p->depth == 0);
    if (!p->doc.root)
        p->doc.root = json_null(); /* libyaml sends a scalar; be safe */
    rc = p->fn(&p->doc, p->ctx);
    p->index++;
    doc_free(p);
    return rc;
}

static int on_event(struct yp *p, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        return doc_begin(p, ev);
    case YAML_DOCUMENT_END_EVENT:
        return doc_end(p);
    case YAML_SCALAR_EVENT:
        return kube_yaml_on_scalar(p, ev);
    case YAML_ALIAS_EVENT:
        return kube_yaml_on_alias(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return kube_yaml_on_start(p, ev, K_SEQ);
    case YAML_MAPPING_START_EVENT:
        return kube_yaml_on_start(p, ev, K_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return kube_yaml_on_end(p);
    default:
        return KUBE_OK; /* stream start and end */
    }
}

/* Counts lines and columns (characters, as libyaml's marks do) over
 * input fed in pieces: CRLF and lone CR are one break, a leading BOM is
 * not a character. */
struct linecount {
    size_t pos;
    int line, col, cr;
};

static void linecount_feed(struct linecount *c, const char *s, size_t n)
{
    static const char bom[] = "\xEF\xBB\xBF";

    for (size_t i = 0; i < n; i++, c->pos++) {
        unsigned char ch = (unsigned char)s[i];

        if (c->pos < 3 && c->pos == i && memcmp(s, bom, i + 1) == 0)
            continue;
        if (ch == '\n' && c->cr) {
            c->cr = 0;
        } else if (ch == '\n' || ch == '\r') {
            c->line++;
            c->col = 1;
            c->cr = ch == '\r';
        } else {
            c->cr = 0;
            c->col += (ch & 0xC0) != 0x80;
        }
    }
}

/* Counts up to byte off of the stream: from memory, or by reading the
 * file again from where the stream began. 0 when it cannot (a pipe). */
static int linecount_to(struct linecount *c, struct yp *p, size_t off)
{
    char chunk[4096];

    memset(c, 0, sizeof(*c));
    c->line = c->col = 1;
    if (p->buf) {
        linecount_feed(c, p->buf, off < p->len ? off : p->len);
        return 1;
    }
    if (p->start < 0 || fseeko(p->f, p->start, SEEK_SET) != 0)
        return 0;
    while (c->pos < off) {
        size_t want =
            off - c->pos < sizeof(chunk) ? off - c->pos : sizeof(chunk);
        size_t got = fread(chunk, 1, want, p->f);

        if (got == 0)
            return 0;
        linecount_feed(c, chunk, got);
    }
    return 1;
}

/* A reader error (bad UTF-8, control characters, I/O) carries a byte
 * offset, not a mark: count lines up to it. */
static int reader_fail(struct yp *p)
{
    const yaml_parser_t *y = &p->parser;
    const char *what = y->problem ? y->problem : "unreadable input";
    struct linecount c;
    char val[16] = "";

    if (p->f && ferror(p->f))
        return kube_err_set(p->err, KUBE_ERR, "%s: read error", p->name);
    if (y->problem_value != -1)
        snprintf(val, sizeof(val), " #x%X", (unsigned)y->problem_value);
    if (!linecount_to(&c, p, y->problem_offset))
        return kube_err_set(p->err, KUBE_EINVAL, "%s: %s%s at byte %zu",
                            p->name, what, val, y->problem_offset);
    return kube_yaml_fail(p, KUBE_EINVAL, c.line, c.col, "%s%s", what, val);
}

static int parser_fail(struct yp *p)
{
    const yaml_parser_t *y = &p->parser;

    if (y->error == YAML_MEMORY_ERROR)
        return kube_yaml_nomem(p);
    if (y->error == YAML_READER_ERROR)
        return reader_fail(p);
    return kube_yaml_fail(p, KUBE_EINVAL, mark_line(&y->problem_mark),
                          mark_col(&y->problem_mark), "%s%s%s",
                          y->problem ? y->problem : "syntax error",
                          y->context ? " " : "", y->context ? y->context : "");
}

static void limits_set(struct kube_yaml_limits *out,
                       const struct kube_yaml_limits *in)
{
    out->max_depth = in && in->max_depth ? in->max_depth : DEF_MAX_DEPTH;
    out->max_alias_refs =
        in && in->max_alias_refs ? in->max_alias_refs : DEF_MAX_ALIAS_REFS;
    out->max_nodes = in && in->max_nodes ? in->max_nodes : DEF_MAX_NODES;
    if (out->max_depth > HARD_MAX_DEPTH)
        out->max_depth = HARD_MAX_DEPTH;
}

/* The one loop behind both entry points; p->parser has its input. Each
 * event is deleted before the next parse, as libyaml requires. */
static int stream_run(struct yp *p)
{
    yaml_event_t ev;
    int rc = KUBE_OK, done = 0;

    while (rc == KUBE_OK && !done) {
        if (!yaml_parser_parse(&p->parser, &ev)) {
            rc = parser_fail(p);
            break;
        }
        rc = on_event(p, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    doc_free(p);
    free(p->stack);
    yaml_parser_delete(&p->parser);
    return rc;
}

static int stream_start(struct yp *p, const char *name,
                        const struct kube_yaml_limits *lim, kube_yaml_doc_fn fn,
                        void *ctx, struct kube_err *err)
{
    assert(fn);
    memset(p, 0, sizeof(*p));
    p->name = name ? name : "<input>";
    p->fn = fn;
    p->ctx = ctx;
    p->err = err;
    limits_set(&p->lim, lim);
    if (!yaml_parser_initialize(&p->parser))
        return kube_yaml_nomem(p);
    return KUBE_OK;
}

int kube_yaml_stream(FILE *f, const char *name,
                     const struct kube_yaml_limits *lim, kube_yaml_doc_fn fn,
                     void *ctx, struct kube_err *err)
{
    struct yp p;
    int rc = stream_start(&p, name, lim, fn, ctx, err);

    assert(f);
    if (rc < 0)
        return rc;
    p.f = f;
    p.start = ftello(f);
    yaml_parser_set_input_file(&p.parser, f);
    return stream_run(&p);
}

int kube_yaml_stream_buf(const char *buf, size_t len, const char *name,
                         const struct kube_yaml_limits *lim,
                         kube_yaml_doc_fn fn, void *ctx, struct kube_err *err)
{
    struct yp p;
    int rc = stream_start(&p, name, lim, fn, ctx, err);

    assert(buf || len == 0);
    if (rc < 0)
        return rc;
    p.buf = buf ? buf : "";
    p.len = len;
    yaml_parser_set_input_string(&p.parser, (const unsigned char *)p.buf, len);
    return stream_run(&p);
}
