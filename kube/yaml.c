/* kube/yaml.c - YAML streams into jansson values through libyaml's event
 * API, one document at a time. Scalars resolve as sigs.k8s.io/yaml (go-yaml
 * v2) does, YAML 1.1 booleans included: yes/no/on/off and also y/n, so a
 * key "n" becomes "false" exactly as kubectl would make it. Each document
 * carries a table of where its nodes stood, keyed by (parent node, name),
 * so a field path costs one hash probe per component.
 *
 * Nothing recurses per nesting level: open collections live on an explicit
 * stack capped by max_depth, and an alias is checked against the depth and
 * node limits before it is copied. Where JSON or jansson cannot follow
 * go-yaml, or go-yaml leaves us a choice:
 * - .inf/.nan (any spelling) stay strings with their text: JSON has no
 *   infinities, and a string is rejected loudly by any number field.
 * - integers past int64 but within uint64 become reals (go-yaml: uint64).
 * - !!timestamp and !!binary values stay strings as written, like unknown
 *   tags; tags on collections are ignored.
 * - a null key is refused (sigs.k8s.io/yaml fails on it too).
 * - aliases are deep copies, so callers may change one place safely. */
#include "kube/yaml.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <yaml.h>

enum {
    DEF_MAX_DEPTH = 256,
    DEF_MAX_ALIAS_REFS = 10000,
    DEF_MAX_NODES = 1000000,
    /* jansson copies and frees values recursively: keep its stack small */
    HARD_MAX_DEPTH = 4096,
    /* what one kube_yaml_where may spend following aliases and merges:
     * hash probes, and merges within merges (each one a C stack frame) */
    WHERE_BUDGET = 4096,
    WHERE_MAX_HOPS = 64,
};

#define NO_ENT UINT32_MAX
#define TAG_PREFIX "tag:yaml.org,2002:"
#define TAG_PREFIX_LEN (sizeof(TAG_PREFIX) - 1)

/* ---- open addressing over indices into a caller's array ---- */

struct slot {
    uint32_t hash;
    uint32_t idx1; /* index + 1; 0 marks an empty slot */
};

struct slots {
    struct slot *v;
    size_t cap; /* 0 or a power of two, at most half full */
};

typedef int (*slot_eq_fn)(const void *ctx, uint32_t idx, const void *key);

static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

/* Makes room for one more entry when n are in use. KUBE_ENOMEM leaves the
 * table as it was. */
static int slots_reserve(struct slots *t, size_t n)
{
    struct slot *v;
    size_t cap;

    if (t->cap && (n + 1) * 2 <= t->cap)
        return KUBE_OK;
    cap = t->cap ? t->cap * 2 : 64;
    v = calloc(cap, sizeof(*v));
    if (!v)
        return KUBE_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        size_t j = t->v[i].hash & (cap - 1);

        if (!t->v[i].idx1)
            continue;
        while (v[j].idx1)
            j = (j + 1) & (cap - 1);
        v[j] = t->v[i];
    }
    free(t->v);
    t->v = v;
    t->cap = cap;
    return KUBE_OK;
}

/* The slot holding key, or the empty slot where it would go; NULL for a
 * table never reserved. */
static struct slot *slots_probe(const struct slots *t, uint32_t hash,
                                slot_eq_fn eq, const void *ctx, const void *key)
{
    size_t j;

    if (!t->cap)
        return NULL;
    for (j = hash & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
        struct slot *s = &t->v[j];

        if (!s->idx1 || (s->hash == hash && eq(ctx, s->idx1 - 1, key)))
            return s;
    }
}

/* ---- position table: one entry per node, children found by name ---- */

enum { K_SCALAR, K_SEQ, K_MAP, K_ALIAS };

struct pos_ent {
    size_t name_off, name_len; /* in names: key, or item index */
    uint32_t parent, target;   /* target: an alias's anchored node */
    uint32_t hash;
    unsigned char kind, merge; /* merge: the value of a mapping's "<<" */
    int key_line, key_col, val_line, val_col;
};

struct pos_table {
    struct pos_ent *ents;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
    struct slots slots;
};

struct pos_key {
    uint32_t parent;
    unsigned char merge;
    const char *name;
    size_t len;
};

static uint32_t pos_hash(const struct pos_key *k)
{
    uint32_t h = fnv1a(2166136261u, &k->parent, sizeof(k->parent));

    h = fnv1a(h, &k->merge, 1);
    return fnv1a(h, k->name, k->len);
}

static int pos_eq(const void *ctx, uint32_t idx, const void *key)
{
    const struct pos_table *t = ctx;
    const struct pos_ent *e = &t->ents[idx];
    const struct pos_key *k = key;

    return e->parent == k->parent && e->merge == k->merge &&
           e->name_len == k->len &&
           memcmp(t->names + e->name_off, k->name, k->len) == 0;
}

static uint32_t pos_find(const struct pos_table *t, const struct pos_key *k)
{
    const struct slot *s = slots_probe(&t->slots, pos_hash(k), pos_eq, t, k);

    return s && s->idx1 ? s->idx1 - 1 : NO_ENT;
}

/* p grown to hold need items of size bytes (doubling; *cap updated), p
 * itself when big enough, or NULL when out of memory (p is kept). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *q;

    if (need <= *cap)
        return p;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / size)
        return NULL;
    q = realloc(p, n * size);
    if (q)
        *cap = n;
    return q;
}

/* Adds an entry; *out is its index. Returns 0 or KUBE_ENOMEM. */
static int pos_add(uint32_t *out, struct pos_table *t, const struct pos_key *k,
                   int kind)
{
    struct pos_ent *e;
    struct slot *s;
    uint32_t h = pos_hash(k);
    void *q;

    if (t->n >= NO_ENT - 1)
        return KUBE_ENOMEM;
    q = grow(t->ents, &t->cap, t->n + 1, sizeof(*t->ents));
    if (!q)
        return KUBE_ENOMEM;
    t->ents = q;
    q = grow(t->names, &t->names_cap, t->names_len + k->len + 1, 1);
    if (!q)
        return KUBE_ENOMEM;
    t->names = q;
    if (slots_reserve(&t->slots, t->n))
        return KUBE_ENOMEM;
    e = &t->ents[t->n];
    memset(e, 0, sizeof(*e));
    e->name_off = t->names_len;
    e->name_len = k->len;
    e->parent = k->parent;
    e->target = NO_ENT;
    e->hash = h;
    e->kind = (unsigned char)kind;
    e->merge = k->merge;
    memcpy(t->names + t->names_len, k->name, k->len);
    t->names_len += k->len;
    s = slots_probe(&t->slots, h, pos_eq, t, k);
    s->hash = h; /* a repeated name cannot happen; if it did, newest wins */
    s->idx1 = (uint32_t)t->n + 1;
    *out = (uint32_t)t->n++;
    return KUBE_OK;
}

static void pos_free(struct pos_table *t)
{
    if (!t)
        return;
    free(t->ents);
    free(t->names);
    free(t->slots.v);
    free(t);
}

/* ---- anchors of the current document ---- */

struct anchor {
    char *name;    /* owned */
    json_t *val;   /* new reference */
    uint32_t ent;  /* position entry; NO_ENT for an anchored key */
    size_t nodes;  /* nodes an alias to it adds */
    size_t height; /* nesting it adds: 0 for scalars */
};

struct anchors {
    struct anchor *v;
    size_t n, cap;
    struct slots slots;
};

static int anchor_eq(const void *ctx, uint32_t idx, const void *key)
{
    const struct anchors *a = ctx;

    return strcmp(a->v[idx].name, key) == 0;
}

static struct anchor *anchor_find(const struct anchors *a, const char *name)
{
    uint32_t h = fnv1a(2166136261u, name, strlen(name));
    const struct slot *s = slots_probe(&a->slots, h, anchor_eq, a, name);

    return s && s->idx1 ? &a->v[s->idx1 - 1] : NULL;
}

static void anchors_clear(struct anchors *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].name);
        json_decref(a->v[i].val);
    }
    free(a->v);
    free(a->slots.v);
    memset(a, 0, sizeof(*a));
}

/* ---- builder state ---- */

struct frame {
    json_t *val;    /* array or object being filled; owned */
    json_t *key;    /* mapping: pending key (a JSON string) or NULL; owned */
    json_t *merges; /* mapping: objects "<<" brings in, first wins; owned */
    char *anchor;   /* defined when the node ends, or NULL; owned */
    uint32_t ent;   /* the node's position entry */
    int key_line, key_col;
    unsigned char merge_key;  /* the pending key is "<<" */
    unsigned char seen_merge; /* a "<<" came already */
    size_t nodes0;            /* node count before this node */
    size_t height;            /* of the tallest child; scalars are 0 */
    size_t items;             /* sequence: items so far */
};

struct yp {
    yaml_parser_t parser;
    const char *name;
    const char *buf; /* input when from memory: reader errors get line:col */
    size_t len;
    FILE *f;
    off_t start; /* where f stood, to count lines again; -1: not seekable */
    struct kube_yaml_limits lim;
    kube_yaml_doc_fn fn;
    void *ctx;
    struct kube_err *err;
    int index;
    /* per document */
    struct kube_yaml_doc doc;
    struct pos_table *pos;
    struct anchors anchors;
    struct frame *stack;
    size_t depth, stack_cap;
    size_t nodes, aliases;
};

static int mark_line(const yaml_mark_t *m)
{
    return m->line < INT32_MAX ? (int)m->line + 1 : INT32_MAX;
}

static int mark_col(const yaml_mark_t *m)
{
    return m->column < INT32_MAX ? (int)m->column + 1 : INT32_MAX;
}

static int fail(struct yp *p, int code, int line, int col, const char *fmt, ...)
    KUBE_PRINTF(5, 6);

/* Sets err to "NAME:LINE:COL: what" and returns code. */
static int fail(struct yp *p, int code, int line, int col, const char *fmt, ...)
{
    char msg[KUBE_ERR_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap); /* cut is fine */
    va_end(ap);
    return kube_err_set(p->err, code, "%s:%d:%d: %s", p->name, line, col, msg);
}

static int nomem(struct yp *p)
{
    return kube_err_set(p->err, KUBE_ENOMEM, "%s: out of memory", p->name);
}

/* Writes s as a double-quoted string for a message, cut at about 60
 * bytes; control characters are escaped so the message stays one line. */
static void quote(char *out, size_t n, const char *s, size_t len)
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

/* ---- scalar resolution, after go-yaml v2's resolve() ---- */

enum { R_NULL, R_BOOL, R_INT, R_FLOAT, R_SPECIAL, R_MERGE, R_STR };

static const char *const res_tag[] = {"null",  "bool",  "int", "float",
                                      "float", "merge", "str"};

struct res {
    int kind;
    int b;
    int64_t i;
    double d;
};

/* go-yaml v2's resolve map: YAML 1.1 booleans (y and n included), nulls,
 * and the special floats, which we keep as strings (see the top). */
static const struct {
    const char *s;
    int kind, b;
} res_words[] = {
    {"y", R_BOOL, 1},        {"Y", R_BOOL, 1},        {"yes", R_BOOL, 1},
    {"Yes", R_BOOL, 1},      {"YES", R_BOOL, 1},      {"true", R_BOOL, 1},
    {"True", R_BOOL, 1},     {"TRUE", R_BOOL, 1},     {"on", R_BOOL, 1},
    {"On", R_BOOL, 1},       {"ON", R_BOOL, 1},       {"n", R_BOOL, 0},
    {"N", R_BOOL, 0},        {"no", R_BOOL, 0},       {"No", R_BOOL, 0},
    {"NO", R_BOOL, 0},       {"false", R_BOOL, 0},    {"False", R_BOOL, 0},
    {"FALSE", R_BOOL, 0},    {"off", R_BOOL, 0},      {"Off", R_BOOL, 0},
    {"OFF", R_BOOL, 0},      {"", R_NULL, 0},         {"~", R_NULL, 0},
    {"null", R_NULL, 0},     {"Null", R_NULL, 0},     {"NULL", R_NULL, 0},
    {".nan", R_SPECIAL, 0},  {".NaN", R_SPECIAL, 0},  {".NAN", R_SPECIAL, 0},
    {".inf", R_SPECIAL, 0},  {".Inf", R_SPECIAL, 0},  {".INF", R_SPECIAL, 0},
    {"+.inf", R_SPECIAL, 0}, {"+.Inf", R_SPECIAL, 0}, {"+.INF", R_SPECIAL, 0},
    {"-.inf", R_SPECIAL, 0}, {"-.Inf", R_SPECIAL, 0}, {"-.INF", R_SPECIAL, 0},
    {"<<", R_MERGE, 0},
};

/* go-yaml's first-byte hint: 0 means "surely a string". */
static char res_hint(unsigned char c)
{
    if (c == '+' || c == '-')
        return 'S';
    if (c >= '0' && c <= '9')
        return 'D';
    if (c == '.')
        return '.';
    if (c && strchr("yYnNtTfFoO~", c))
        return 'M';
    return 0;
}

static int digit_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}

/* strconv.ParseUint(s, 0, 64) on s without sign or underscores: 0x, 0o,
 * 0b and a bare leading 0 (octal) pick the base. */
static int go_parse_uint(uint64_t *out, const char *s)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (s[0] == '0' && s[1]) {
        switch (s[1] | 0x20) {
        case 'x':
            base = 16;
            s += 2;
            break;
        case 'o':
            base = 8;
            s += 2;
            break;
        case 'b':
            base = 2;
            s += 2;
            break;
        default:
            base = 8;
            s += 1;
            break;
        }
    }
    if (!*s)
        return 0;
    for (; *s; s++) {
        int d = digit_val((unsigned char)*s);

        if (d >= (int)base || v > (UINT64_MAX - (unsigned)d) / base)
            return 0;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return 1;
}

/* strconv.ParseInt(s, 0, 64): an optional sign, then as above. */
static int go_parse_int(int64_t *out, const char *s)
{
    int neg = *s == '-';
    uint64_t u;

    if (*s == '+' || *s == '-')
        s++;
    if (!go_parse_uint(&u, s))
        return 0;
    if (!neg && u > INT64_MAX)
        return 0;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return 0;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
}

static size_t skip_digits(const char *s)
{
    size_t i = 0;

    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* go-yaml's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_float_syntax(const char *s)
{
    size_t n;

    if (*s == '-' || *s == '+')
        s++;
    if (*s == '.') {
        n = skip_digits(s + 1);
        if (!n)
            return 0;
        s += 1 + n;
    } else {
        n = skip_digits(s);
        if (!n)
            return 0;
        s += n;
        if (*s == '.')
            s += 1 + skip_digits(s + 1);
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        n = skip_digits(s);
        if (!n)
            return 0;
        s += n;
    }
    return *s == '\0';
}

/* Go's underscoreOK for text without sign or base prefix: each '_' sits
 * between digits. */
static int underscores_ok(const char *s, size_t len)
{
    char saw = '^';

    for (size_t i = 0; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            saw = '0';
        } else if (s[i] == '_') {
            if (saw != '0')
                return 0;
            saw = '_';
        } else {
            if (saw == '_')
                return 0;
            saw = '!';
        }
    }
    return saw != '_';
}

/* strtod on text yaml_float_syntax accepted (C locale: we never call
 * setlocale); an overflow is an error in Go, so the value stays a string. */
static void parse_float(struct res *r, const char *plain)
{
    double d;

    errno = 0;
    d = strtod(plain, NULL);
    if (errno == ERANGE && isinf(d))
        return;
    r->kind = R_FLOAT;
    r->d = d;
}

/* Ints, then uint64 (a real here), then floats, as go-yaml tries them. */
static void resolve_plain_number(struct res *r, const char *plain, char hint)
{
    uint64_t u;

    if (hint == '.') {
        if (yaml_float_syntax(plain))
            parse_float(r, plain);
        return;
    }
    if (go_parse_int(&r->i, plain)) {
        r->kind = R_INT;
    } else if (hint == 'D' && go_parse_uint(&u, plain)) {
        r->kind = R_FLOAT;
        r->d = (double)u;
    } else if (yaml_float_syntax(plain)) {
        parse_float(r, plain);
    }
}

/* Resolves a plain scalar (or one tagged !!int, !!bool, ...) into r.
 * Returns 0 or KUBE_ENOMEM. */
static int resolve(struct res *r, const char *s, size_t len)
{
    char small[128], *plain = small;
    char hint = len ? res_hint((unsigned char)s[0]) : 'N';
    size_t n = 0;

    r->kind = R_STR;
    if (!hint || memchr(s, '\0', len))
        return KUBE_OK;
    for (size_t i = 0; i < sizeof(res_words) / sizeof(res_words[0]); i++) {
        if (strlen(res_words[i].s) == len &&
            memcmp(res_words[i].s, s, len) == 0) {
            r->kind = res_words[i].kind;
            r->b = res_words[i].b;
            return KUBE_OK;
        }
    }
    if (hint == 'M' || (hint == '.' && !underscores_ok(s, len)))
        return KUBE_OK;
    if (len >= sizeof(small)) {
        plain = malloc(len + 1);
        if (!plain)
            return KUBE_ENOMEM;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '_')
            plain[n++] = s[i];
    }
    plain[n] = '\0';
    resolve_plain_number(r, plain, hint);
    if (plain != small)
        free(plain);
    return KUBE_OK;
}

/* go-yaml's check of an explicit tag against what the text resolved to;
 * an int is fine where a float is wanted. want is the short tag name. */
static int check_tag(struct yp *p, struct res *r, const char *want,
                     const yaml_event_t *ev)
{
    char q[96];

    if (strcmp(want, "float") == 0 && r->kind == R_INT) {
        r->kind = R_FLOAT;
        r->d = (double)r->i;
    }
    if (strcmp(res_tag[r->kind], want) == 0)
        return KUBE_OK;
    quote(q, sizeof(q), (const char *)ev->data.scalar.value,
          ev->data.scalar.length);
    return fail(p, KUBE_EINVAL, mark_line(&ev->start_mark),
                mark_col(&ev->start_mark), "cannot decode !!%s %s as a !!%s",
                res_tag[r->kind], q, want);
}

/* The short name of a tag we resolve by (bool, int, float, null), or
 * NULL when the value stays a string (str, timestamp, unknown tags). */
static const char *resolving_tag(const char *tag)
{
    static const char *const names[] = {"bool", "int", "float", "null", NULL};

    if (strncmp(tag, TAG_PREFIX, TAG_PREFIX_LEN) != 0)
        return NULL;
    for (size_t i = 0; names[i]; i++) {
        if (strcmp(tag + TAG_PREFIX_LEN, names[i]) == 0)
            return names[i];
    }
    return NULL;
}

/* The JSON value of a scalar event; *out is a new reference. */
static int scalar_value(json_t **out, struct yp *p, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *want = tag ? resolving_tag(tag) : NULL;
    size_t len = ev->data.scalar.length;
    struct res r = {R_STR, 0, 0, 0};
    int rc = KUBE_OK;

    /* quoted, literal and folded scalars are strings, as is "! text" */
    if ((!tag && ev->data.scalar.plain_implicit) || want)
        rc = resolve(&r, s, len);
    if (rc < 0)
        return nomem(p);
    if (want) {
        rc = check_tag(p, &r, want, ev);
        if (rc < 0)
            return rc;
    }
    if (r.kind == R_NULL)
        *out = json_null();
    else if (r.kind == R_BOOL)
        *out = json_boolean(r.b);
    else if (r.kind == R_INT)
        *out = json_integer(r.i);
    else if (r.kind == R_FLOAT)
        *out = json_real(r.d);
    else
        *out = json_stringn(s, len);
    return *out ? KUBE_OK : nomem(p);
}

static int is_merge_key(const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;

    if (ev->data.scalar.length != 2 ||
        memcmp(ev->data.scalar.value, "<<", 2) != 0)
        return 0;
    if (!tag)
        return ev->data.scalar.plain_implicit;
    return strcmp(tag, TAG_PREFIX "merge") == 0;
}

/* strconv.FormatFloat(d, 'g', -1, 32), which sigs.k8s.io/yaml uses to
 * turn float keys into strings: shortest float32 digits, %e form for
 * exponents below -4 or from 6 up. */
static void go_float32_key(char *out, size_t n, double d)
{
    float f = (float)d;
    char e[40];
    const char *x;
    int prec, exp = 0, neg;

    if (isnan(f) || isinf(f)) {
        snprintf(out, n, "%s", isnan(f) ? ".nan" : f > 0 ? ".inf" : "-.inf");
        return;
    }
    for (prec = 1; prec < 9; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
        if (strtof(e, NULL) == f)
            break;
    }
    snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
    x = strchr(e, 'e');
    neg = x && x[1] == '-';
    for (x = x ? x + 2 : ""; *x >= '0' && *x <= '9'; x++)
        exp = exp * 10 + (*x - '0');
    exp = neg ? -exp : exp;
    if (exp < -4 || exp >= 6)
        snprintf(out, n, "%s", e);
    else
        snprintf(out, n, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0,
                 (double)f);
}

/* The string a scalar key becomes, as sigs.k8s.io/yaml writes it; *out is
 * a new reference. v is borrowed. */
static int key_string(json_t **out, struct yp *p, const json_t *v,
                      const yaml_mark_t *m)
{
    char buf[48];

    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = json_incref((json_t *)v); /* strings are never changed */
        return KUBE_OK;
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        go_float32_key(buf, sizeof(buf), json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
        break;
    case JSON_NULL:
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "mapping key is null (quote it to use the text)");
    default:
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "mapping key must be a scalar");
    }
    *out = json_string(buf);
    return *out ? KUBE_OK : nomem(p);
}

/* ---- building ---- */

static struct frame *top(struct yp *p)
{
    return p->depth ? &p->stack[p->depth - 1] : NULL;
}

static int expects_key(const struct frame *f)
{
    return f && json_is_object(f->val) && !f->key;
}

static int count_nodes(struct yp *p, size_t n, const yaml_mark_t *m)
{
    if (n > p->lim.max_nodes - p->nodes)
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "document has more than %zu nodes (aliases expanded)",
                    p->lim.max_nodes);
    p->nodes += n;
    return KUBE_OK;
}

/* Records an anchor (copying name) for val (borrowed); a later anchor of
 * the same name replaces it, as YAML says. */
static int anchor_define(struct yp *p, const char *name, json_t *val,
                         uint32_t ent, size_t nodes, size_t height)
{
    struct anchors *a = &p->anchors;
    uint32_t h = fnv1a(2166136261u, name, strlen(name));
    struct anchor *x = anchor_find(a, name);
    struct slot *s;
    void *q;

    if (!x) {
        q = a->n < NO_ENT - 1 ? grow(a->v, &a->cap, a->n + 1, sizeof(*a->v))
                              : NULL;
        if (!q)
            return nomem(p);
        a->v = q;
        if (slots_reserve(&a->slots, a->n))
            return nomem(p);
        x = &a->v[a->n];
        x->name = strdup(name);
        if (!x->name)
            return nomem(p);
        x->val = NULL;
        s = slots_probe(&a->slots, h, anchor_eq, a, name);
        s->hash = h;
        s->idx1 = (uint32_t)++a->n;
    }
    json_decref(x->val);
    x->val = json_incref(val);
    x->ent = ent;
    x->nodes = nodes;
    x->height = height;
    return KUBE_OK;
}

/* Records the position of a value node starting at m: the root, the next
 * item of the open sequence, or the value of the open mapping's key. */
static int node_begin(uint32_t *ent, struct yp *p, const yaml_mark_t *m,
                      int kind)
{
    struct frame *f = top(p);
    struct pos_key k = {NO_ENT, 0, "", 0};
    struct pos_ent *e;
    char idx[24];
    int kl = 0, kc = 0;

    if (!f) {
        p->doc.line = mark_line(m);
        p->doc.col = mark_col(m);
    } else if (json_is_array(f->val)) {
        k.parent = f->ent;
        k.len = (size_t)snprintf(idx, sizeof(idx), "%zu", f->items);
        k.name = idx;
    } else {
        k.parent = f->ent;
        k.merge = f->merge_key;
        k.name = json_string_value(f->key);
        k.len = json_string_length(f->key);
        kl = f->key_line;
        kc = f->key_col;
    }
    if (pos_add(ent, p->pos, &k, kind) < 0)
        return nomem(p);
    e = &p->pos->ents[*ent];
    e->key_line = kl;
    e->key_col = kc;
    e->val_line = mark_line(m);
    e->val_col = mark_col(m);
    return KUBE_OK;
}

/* A "<<" value: a mapping, or a sequence of mappings, to merge in when
 * the enclosing mapping ends. Steals v. */
static int merge_add(struct yp *p, struct frame *f, json_t *v, uint32_t ent)
{
    const struct pos_ent *e = &p->pos->ents[ent];
    size_t i, n = json_is_array(v) ? json_array_size(v) : 1;
    int rc = KUBE_OK;

    for (i = 0; json_is_array(v) && i < n; i++) {
        if (!json_is_object(json_array_get(v, i)))
            break;
    }
    if (!json_is_object(v) && (!json_is_array(v) || i < n)) {
        json_decref(v);
        return fail(p, KUBE_EINVAL, e->val_line, e->val_col,
                    "map merge requires map or sequence of maps as the "
                    "value");
    }
    if (!f->merges)
        f->merges = json_array();
    if (!f->merges)
        rc = nomem(p);
    else if (json_is_object(v) && json_array_append(f->merges, v))
        rc = nomem(p);
    else if (json_is_array(v) && json_array_extend(f->merges, v))
        rc = nomem(p);
    json_decref(v);
    return rc;
}

/* Puts finished value v (stolen) into its parent. height is its nesting
 * (0 for scalars), ent its position entry. */
static int node_attach(struct yp *p, json_t *v, size_t height, uint32_t ent)
{
    struct frame *f = top(p);
    int rc = KUBE_OK;

    if (!f) {
        p->doc.root = v;
        return KUBE_OK;
    }
    if (height > f->height)
        f->height = height;
    if (json_is_array(f->val)) {
        f->items++;
        return json_array_append_new(f->val, v) ? nomem(p) : KUBE_OK;
    }
    if (f->merge_key)
        rc = merge_add(p, f, v, ent);
    else if (json_object_setn_new(f->val, json_string_value(f->key),
                                  json_string_length(f->key), v))
        rc = nomem(p);
    json_decref(f->key);
    f->key = NULL;
    f->merge_key = 0;
    return rc;
}

/* Takes v (stolen) as the pending key of mapping f, after the checks a
 * key gets: a scalar, not null, not repeated. */
static int key_set(struct yp *p, struct frame *f, json_t *v, int merge,
                   const yaml_mark_t *m)
{
    json_t *k = NULL;
    char q[96];
    int rc;

    if (merge && f->seen_merge) {
        json_decref(v);
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "duplicate key \"<<\"");
    }
    rc = key_string(&k, p, v, m);
    json_decref(v);
    if (rc < 0)
        return rc;
    if (!merge &&
        json_object_getn(f->val, json_string_value(k), json_string_length(k))) {
        quote(q, sizeof(q), json_string_value(k), json_string_length(k));
        json_decref(k);
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "duplicate key %s", q);
    }
    f->key = k;
    f->merge_key = (unsigned char)merge;
    f->seen_merge |= (unsigned char)merge;
    f->key_line = mark_line(m);
    f->key_col = mark_col(m);
    return KUBE_OK;
}

static int on_scalar(struct yp *p, const yaml_event_t *ev)
{
    const char *anchor = (const char *)ev->data.scalar.anchor;
    struct frame *f = top(p);
    json_t *v = NULL;
    uint32_t ent = NO_ENT;
    int rc = count_nodes(p, 1, &ev->start_mark);

    if (rc == 0)
        rc = scalar_value(&v, p, ev);
    if (rc < 0)
        return rc;
    if (expects_key(f)) {
        if (anchor && anchor_define(p, anchor, v, NO_ENT, 1, 0) < 0) {
            json_decref(v);
            return KUBE_ENOMEM;
        }
        return key_set(p, f, v, is_merge_key(ev), &ev->start_mark);
    }
    rc = node_begin(&ent, p, &ev->start_mark, K_SCALAR);
    if (rc == 0 && anchor)
        rc = anchor_define(p, anchor, v, ent, 1, 0);
    if (rc < 0) {
        json_decref(v);
        return rc;
    }
    return node_attach(p, v, 0, ent);
}

static int on_alias(struct yp *p, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const yaml_mark_t *m = &ev->start_mark;
    const struct anchor *a = anchor_find(&p->anchors, name);
    char q[96];
    uint32_t ent;
    json_t *v;
    int rc;

    quote(q, sizeof(q), name, strlen(name));
    if (!a)
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "unknown anchor %s referenced", q);
    if (++p->aliases > p->lim.max_alias_refs)
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "more than %zu alias references in one document",
                    p->lim.max_alias_refs);
    rc = count_nodes(p, a->nodes, m);
    if (rc < 0)
        return rc;
    if (a->height > p->lim.max_depth - p->depth)
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "nesting deeper than %zu through alias %s",
                    p->lim.max_depth, q);
    if (expects_key(top(p)))
        return key_set(p, top(p), json_incref(a->val), 0, m);
    v = json_deep_copy(a->val);
    if (!v)
        return nomem(p);
    rc = node_begin(&ent, p, m, K_ALIAS);
    if (rc < 0) {
        json_decref(v);
        return rc;
    }
    p->pos->ents[ent].target = a->ent;
    return node_attach(p, v, a->height, ent);
}

static void frame_free(struct frame *f)
{
    json_decref(f->val);
    json_decref(f->key);
    json_decref(f->merges);
    free(f->anchor);
    memset(f, 0, sizeof(*f));
}

static int on_start(struct yp *p, const yaml_event_t *ev, int kind)
{
    const yaml_mark_t *m = &ev->start_mark;
    const yaml_char_t *anchor = kind == K_SEQ ? ev->data.sequence_start.anchor
                                              : ev->data.mapping_start.anchor;
    struct frame *f;
    uint32_t ent;
    void *q;
    int rc;

    if (expects_key(top(p)))
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "mapping key must be a scalar, not a %s",
                    kind == K_SEQ ? "sequence" : "mapping");
    if (p->depth >= p->lim.max_depth)
        return fail(p, KUBE_EINVAL, mark_line(m), mark_col(m),
                    "nesting deeper than %zu", p->lim.max_depth);
    rc = count_nodes(p, 1, m);
    if (rc < 0)
        return rc;
    q = grow(p->stack, &p->stack_cap, p->depth + 1, sizeof(*p->stack));
    if (!q)
        return nomem(p);
    p->stack = q;
    rc = node_begin(&ent, p, m, kind);
    if (rc < 0)
        return rc;
    f = &p->stack[p->depth++];
    memset(f, 0, sizeof(*f));
    f->ent = ent;
    f->nodes0 = p->nodes - 1;
    f->val = kind == K_SEQ ? json_array() : json_object();
    if (anchor)
        f->anchor = strdup((const char *)anchor);
    if (!f->val || (anchor && !f->anchor))
        return nomem(p); /* the frame is freed with the document */
    return KUBE_OK;
}

/* Copies in what "<<" brought, keys the mapping set itself winning, then
 * earlier merge sources over later ones. */
static int merges_apply(struct yp *p, struct frame *f)
{
    for (size_t i = 0; i < json_array_size(f->merges); i++) {
        json_t *src = json_array_get(f->merges, i);

        for (void *it = json_object_iter(src); it;
             it = json_object_iter_next(src, it)) {
            const char *k = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);

            if (json_object_getn(f->val, k, klen))
                continue;
            if (json_object_setn(f->val, k, klen, json_object_iter_value(it)))
                return nomem(p);
        }
    }
    return KUBE_OK;
}

static int on_end(struct yp *p)
{
    struct frame f;
    size_t height;
    int rc = KUBE_OK;

    assert(p->depth > 0); /* libyaml pairs start and end events */
    f = p->stack[--p->depth];
    height = f.height + 1;
    if (f.merges)
        rc = merges_apply(p, &f);
    if (rc == 0 && f.anchor)
        rc = anchor_define(p, f.anchor, f.val, f.ent, p->nodes - f.nodes0,
                           height);
    if (rc < 0) {
        frame_free(&f);
        return rc;
    }
    json_decref(f.merges);
    json_decref(f.key);
    free(f.anchor);
    return node_attach(p, f.val, height, f.ent);
}

/* ---- documents and the stream ---- */

static void doc_free(struct yp *p)
{
    while (p->depth)
        frame_free(&p->stack[--p->depth]);
    anchors_clear(&p->anchors);
    pos_free(p->pos);
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
        return nomem(p);
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
        return on_scalar(p, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(p, ev, K_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(p, ev, K_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(p);
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
    return fail(p, KUBE_EINVAL, c.line, c.col, "%s%s", what, val);
}

static int parser_fail(struct yp *p)
{
    const yaml_parser_t *y = &p->parser;

    if (y->error == YAML_MEMORY_ERROR)
        return nomem(p);
    if (y->error == YAML_READER_ERROR)
        return reader_fail(p);
    return fail(p, KUBE_EINVAL, mark_line(&y->problem_mark),
                mark_col(&y->problem_mark), "%s%s%s",
                y->problem ? y->problem : "syntax error", y->context ? " " : "",
                y->context ? y->context : "");
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
        return nomem(p);
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

/* ---- kube_yaml_where ---- */

/* Next component of path from *i: "name", ".name" or "[text]", where a
 * bracket ends at a ']' followed by '.', '[' or the end, so keys holding
 * ']' still work. Returns 0 at the end of the path. */
static int path_next(const char *path, size_t *i, const char **name,
                     size_t *len)
{
    const char *s = path + *i, *e;

    if (!*s)
        return 0;
    if (*s == '.')
        s++;
    if (*s == '[') {
        for (e = strchr(s + 1, ']'); e; e = strchr(e + 1, ']')) {
            if (!e[1] || e[1] == '.' || e[1] == '[')
                break;
        }
        *name = s + 1;
        *len = e ? (size_t)(e - s - 1) : strlen(s + 1);
        *i = e ? (size_t)(e + 1 - path) : (size_t)(s - path) + 1 + *len;
        return 1;
    }
    e = s + strcspn(s, ".[");
    *name = s;
    *len = (size_t)(e - s);
    *i = (size_t)(e - path);
    return 1;
}

struct walk {
    uint32_t ent;
    size_t done; /* bytes of the path matched */
    int found;
};

/* Follows aliases to the node whose children we look in. */
static uint32_t deref(const struct pos_table *t, uint32_t e, unsigned *budget)
{
    while (t->ents[e].kind == K_ALIAS && t->ents[e].target != NO_ENT &&
           *budget) {
        (*budget)--;
        e = t->ents[e].target;
    }
    return e;
}

static struct walk walk(const struct pos_table *t, uint32_t e, const char *path,
                        size_t i, unsigned *budget, int hops);

/* Looks for path[i..] in what "<<" merged into mapping m: its "<<" value,
 * or each item of it, first item first, as the merge itself went. */
static struct walk walk_merges(const struct pos_table *t, uint32_t m,
                               const char *path, size_t i, unsigned *budget,
                               int hops, struct walk best)
{
    struct pos_key k = {m, 1, "<<", 2};
    uint32_t src = pos_find(t, &k), seq;
    char idx[24];

    if (src == NO_ENT || hops >= WHERE_MAX_HOPS)
        return best;
    seq = deref(t, src, budget);
    for (size_t n = 0; *budget; n++) {
        struct walk r;
        uint32_t c = src;

        if (t->ents[seq].kind == K_SEQ) {
            struct pos_key ik = {seq, 0, idx, 0};

            ik.len = (size_t)snprintf(idx, sizeof(idx), "%zu", n);
            c = pos_find(t, &ik);
        } else if (n > 0) {
            break;
        }
        if (c == NO_ENT)
            break;
        r = walk(t, c, path, i, budget, hops + 1);
        if (r.found)
            return r;
        if (r.done > best.done)
            best = r;
    }
    return best;
}

static struct walk walk(const struct pos_table *t, uint32_t e, const char *path,
                        size_t i, unsigned *budget, int hops)
{
    struct walk best = {e, i, 0};

    for (;;) {
        struct pos_key k = {0, 0, NULL, 0};
        size_t next = i;
        uint32_t node, c;

        best.ent = e;
        best.done = i;
        if (!path_next(path, &next, &k.name, &k.len)) {
            best.found = 1;
            return best;
        }
        if (!*budget)
            return best;
        (*budget)--;
        node = deref(t, e, budget);
        k.parent = node;
        c = pos_find(t, &k);
        if (c == NO_ENT)
            return walk_merges(t, node, path, i, budget, hops, best);
        e = c;
        i = next;
    }
}

void kube_yaml_where(struct kube_yaml_where *out,
                     const struct kube_yaml_doc *doc, const char *path)
{
    const struct pos_table *t = doc ? doc->pos : NULL;
    const struct pos_ent *e;
    unsigned budget = WHERE_BUDGET;
    struct walk w;

    assert(out);
    memset(out, 0, sizeof(*out));
    if (!t || !t->n)
        return;
    w = walk(t, 0, path ? path : "", 0, &budget, 0);
    e = &t->ents[w.ent];
    out->key_line = e->key_line;
    out->key_col = e->key_col;
    out->val_line = e->val_line;
    out->val_col = e->val_col;
    out->found = w.found;
}
