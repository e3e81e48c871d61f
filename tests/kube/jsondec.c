/* tests/kube/jsondec.c - kube_json_decode against json_loadb itself
 * (JSON_ALLOW_NUL, as the decoder's reference reads): every
 * row must give the same tree (dump and json_equal) or the same error
 * (text, source, line, column, position), and the rows say which inputs
 * the fast path must decode and which it must leave to json_loadb. Rows
 * cover each way yajl reads JSON differently from jansson. Run from the
 * repository root. */
#include "kube/jsondec.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/json.h"
#include "kube/file.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

enum path { SLOW, FAST }; /* FAST: kube_json_decode_fast decodes it */

struct row {
    const char *name, *in;
    size_t len;
    enum path path;
    const char *want; /* NULL: json_loadb's tree; else this dump, where we
                         widen json_loadb on purpose (kube/jsondec.h) */
};

/* sizeof keeps embedded NUL bytes in the input */
#define ROW(name, text, path)                                                  \
    {                                                                          \
        name, text, sizeof(text) - 1, path, NULL                               \
    }
#define WIDE(name, text, path, want)                                           \
    {                                                                          \
        name, text, sizeof(text) - 1, path, want                               \
    }

static const struct row rows[] = {
    /* both accept, the fast path decodes */
    ROW("empty object", "{}", FAST),
    ROW("empty array", "[]", FAST),
    ROW("nested values", "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}",
        FAST),
    ROW("jansson whitespace around", " \t\r\n{\"a\" :\n[ 1 , 2 ]}\r\n\t ",
        FAST),
    ROW("integers", "[0,-1,42,9223372036854775807,-9223372036854775808]", FAST),
    ROW("-0 is integer 0", "[-0]", FAST),
    ROW("reals", "[0.5,-0.0,1e3,1E+3,1e-3,2.5E-10,1.7976931348623157e308]",
        FAST),
    ROW("underflow is kept", "[1e-400,-2.5e-330]", FAST),
    ROW("duplicate key keeps first place, last value",
        "{\"a\":1,\"b\":2,\"a\":3}", FAST),
    ROW("duplicate key replacing a container",
        "{\"a\":{\"x\":[1]},\"b\":2,\"a\":[3,{\"y\":4}]}", FAST),
    ROW("empty key", "{\"\":1}", FAST),
    ROW("escapes in values", "[\"\\n\\\"\\\\\\/\\b\\f\\r\\t\"]", FAST),
    ROW("escapes in keys", "{\"a\\nb\":1,\"\\\"\":2,\"\\\\\":3,\"\\/\":4}",
        FAST),
    ROW("escaped key, then escaped value (yajl's decode buffer)",
        "{\"k\\\"ey\":\"v\\\"alue\",\"k2\\n\":\"\\n\",\"k3\\t\":{\"in\\\\\":"
        "\"x\\\\y\"}}",
        FAST),
    ROW("escaped backslash, then u", "[\"\\\\u0041\",\"\\\\\\\\u\"]", FAST),
    ROW("UTF-8 of 2, 3 and 4 bytes",
        "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]", FAST),
    ROW("UTF-8 in a key", "{\"\xc3\xa9\":\"\xf4\x8f\xbf\xbf\"}", FAST),
    ROW("DEL is no control character", "[\"a\x7f\"]", FAST),

    /* \u escapes: yajl reads the plain ones right; for surrogates and
     * bad ones json_loadb decides */
    ROW("\\u escape", "[\"\\u00e9\"]", FAST),
    ROW("\\u escapes Go writes", "[\"\\u003c\\u003e\\u0026\\u2028\\u001f\"]",
        FAST),
    ROW("surrogate pair", "[\"\\ud83d\\ude00\"]", SLOW),
    ROW("lone high surrogate", "[\"\\ud800\"]", SLOW),
    ROW("lone high surrogate at the end", "[\"a\\uDBFF\"]", SLOW),
    ROW("lone low surrogate", "[\"\\udc00\"]", SLOW),
    ROW("high surrogate, then no low one", "[\"\\ud800\\u0041\"]", SLOW),
    ROW("high surrogate, then text", "[\"\\ud800abc\"]", SLOW),
    ROW("\\u0000 in a value", "[\"a\\u0000b\"]", FAST),
    ROW("\\u0000 in an annotation",
        "{\"metadata\":{\"annotations\":{\"x\":\"\\u0000\"}}}", FAST),
    WIDE("\\u0000 in a key", "{\"\\u0000\":1}", FAST, "{\"\\u0000\":1}"),
    ROW("\\u0000 and a surrogate pair", "[\"\\u0000\\ud83d\\ude00\"]", SLOW),
    ROW("bad hex in \\u", "[\"\\u12G4\"]", SLOW),
    ROW("short \\u", "[\"\\u12\"]", SLOW),

    /* UTF-8 that jansson refuses */
    ROW("overlong NUL C0 80", "[\"\xc0\x80\"]", SLOW),
    ROW("overlong E0 80 80", "[\"\xe0\x80\x80\"]", SLOW),
    ROW("encoded surrogate ED A0 80", "[\"\xed\xa0\x80\"]", SLOW),
    ROW("above U+10FFFF: F4 90 80 80", "[\"\xf4\x90\x80\x80\"]", SLOW),
    ROW("F5 lead byte", "[\"\xf5\x80\x80\x80\"]", SLOW),
    ROW("FF byte", "[\"\xff\"]", SLOW),
    /* an all-ASCII body skips UTF-8 checks: its escapes decode to valid
       UTF-8, in kept members and in members read past */
    ROW("\\u escapes to non-ASCII in an ASCII body",
        "{\"caf\\u00e9\":\"\\u20ac \\u00ff \\u0800 \\uffff \\ud7ff\",\"a\":"
        "[\"\\u07ff\",{\"\\ue000\":\"\\u0080\"}]}",
        FAST),
    ROW("\\u escapes beside raw UTF-8",
        "{\"a\":\"\xc3\xa9\\u00e9\",\"\\u00e9\":[\"\xe2\x82\xac\"]}", FAST),
    /* members a keep table reads past are checked all the same */
    ROW("bad UTF-8 in a member read past", "{\"a\":1,\"b\":\"\xff\"}", SLOW),
    ROW("bad UTF-8 in a key read past", "{\"a\":1,\"b\":{\"\xc0\xaf\":1}}",
        SLOW),
    ROW("real overflow in a member read past", "{\"a\":1,\"b\":[1e999]}", SLOW),
    ROW("non-ASCII read past and kept",
        "{\"a\":\"\xc3\xa9\",\"b\":[\"\xe2\x82\xac\"]}", FAST),
    ROW("arrays of objects under a keep table",
        "{\"a\":[{\"a\":1,\"b\":2},3],\"c\":[[{\"a\":{},\"z\":0}]]}", FAST),
    ROW("keys alike at their first byte or length",
        "{\"ab\":{\"a\":1,\"b\":2},\"abc\":3,\"abd\":4,\"ac\":5,\"ad\":6,"
        "\"a\":{\"a\":7,\"c\":8},\"b\":9,\"ba\":10,\"\":11,\"*\":12,"
        "\"**\":13,\"*a\":14,\"abcd\":15}",
        FAST),
    WIDE("keys holding NUL after a row's bytes",
         "{\"a\\u0000\":1,\"\\u0000\":2,\"*\\u0000\":3}", FAST,
         "{\"a\\u0000\":1,\"\\u0000\":2,\"*\\u0000\":3}"),
    ROW("lone continuation byte", "[\"\x80\"]", SLOW),
    ROW("truncated sequence", "[\"\xe2\x82\"]", SLOW),
    ROW("bad UTF-8 in a key", "{\"\xff\":1}", SLOW),
    ROW("UTF-8 outside strings", "[\xc3\xa9]", SLOW),

    /* control characters */
    ROW("raw NUL in a value", "[\"a\0b\"]", SLOW),
    ROW("raw NUL in a key", "{\"a\0\":1}", SLOW),
    ROW("raw tab in a string", "[\"a\tb\"]", SLOW),
    ROW("raw newline in a string", "[\"a\nb\"]", SLOW),
    ROW("raw 0x1f in a string", "[\"\x1f\"]", SLOW),
    ROW("raw \\v in a string", "[\"\v\"]", SLOW),
    ROW("NUL before the value", "\0[1]", SLOW),
    ROW("NUL after the value", "[1]\0", SLOW),

    /* numbers */
    WIDE("integer past int64 is a real", "[9223372036854775808,1]", FAST,
         "[9.2233720368547758e18,1]"),
    WIDE("Go's float64 of 2^64", "{\"n\":18446744073709552000}", FAST,
         "{\"n\":1.8446744073709552e19}"),
    WIDE("negative integer past int64", "[-9223372036854775809]", FAST,
         "[-9.2233720368547758e18]"),
    WIDE("past int64 on the slow path: every integer a real",
         "[\"\\ud83d\\ude00\",18446744073709552000,1]", SLOW,
         "[\"\xf0\x9f\x98\x80\",1.8446744073709552e19,1.0]"),
    ROW("real overflow", "[1e400]", SLOW),
    ROW("negative real overflow", "[-1.5e400]", SLOW),
    ROW("number past the fast path's buffer",
        "[0.0000000000000000000000000000000000000000000000000000000000000001]",
        SLOW),
    ROW("leading zero", "[01]", SLOW),
    ROW("negative leading zero", "[-01]", SLOW),
    ROW("double zero", "[00]", SLOW),
    ROW("no fraction digits", "[1.]", SLOW),
    ROW("no integer digits", "[.5]", SLOW),
    ROW("plus sign", "[+1]", SLOW),
    ROW("no exponent digits", "[1e]", SLOW),
    ROW("bare minus", "[-]", SLOW),
    ROW("hex", "[0x1]", SLOW),
    ROW("NaN", "[NaN]", SLOW),
    ROW("Infinity", "[-Infinity]", SLOW),

    /* the top level and what follows it */
    ROW("empty input", "", SLOW),
    ROW("whitespace only", " \t\r\n", SLOW),
    ROW("scalar top level", "1", SLOW),
    ROW("string top level", "\"a\"", SLOW),
    ROW("literal top level", "true", SLOW),
    ROW("trailing garbage", "{}x", SLOW),
    ROW("two top-level values", "{}{}", SLOW),
    ROW("two arrays", "[] []", SLOW),
    ROW("trailing number", "{} 1", SLOW),
    ROW("trailing open string (yajl accepts it)", "{} \"abc", SLOW),
    ROW("trailing quote (yajl accepts it)", "[]\"", SLOW),
    ROW("trailing partial literal", "{} tru", SLOW),
    ROW("byte order mark", "\xef\xbb\xbf{}", SLOW),

    /* \v and \f: whitespace to yajl only */
    ROW("\\v between tokens", "[\v1]", SLOW),
    ROW("\\f after the value", "{}\f", SLOW),
    ROW("\\f before the value", "\f{}", SLOW),

    /* syntax */
    ROW("trailing comma in array", "[1,]", SLOW),
    ROW("trailing comma in object", "{\"a\":1,}", SLOW),
    ROW("comment", "[1/**/]", SLOW),
    ROW("single quotes", "['a']", SLOW),
    ROW("unterminated array", "[", SLOW),
    ROW("unterminated object", "{\"a\":1", SLOW),
    ROW("key without value", "{\"a\":", SLOW),
    ROW("key without colon", "{\"a\" 1}", SLOW),
    ROW("non-string key", "{1:2}", SLOW),
    ROW("unterminated string", "[\"abc", SLOW),
    ROW("partial literal", "[tru]", SLOW),
    ROW("literal run-on", "[truex]", SLOW),
    ROW("literals without comma", "[true false]", SLOW),
    ROW("invalid escape", "[\"\\x\"]", SLOW),
    ROW("escaped single quote", "[\"\\'\"]", SLOW),
    ROW("backslash at the end", "[\"\\", SLOW),
    ROW("mismatched brackets", "[}", SLOW),
    ROW("error on line 3", "{\n\"a\":\n 01}", SLOW),
};

/* Decodes in with kube_json_decode and json_loadb and expects one result.
 * Error structs start as garbage so an unset field shows. */
static void expect_same(const char *name, const char *in, size_t len)
{
    json_error_t got_err, want_err;
    json_t *got, *want;

    memset(&got_err, 'x', sizeof(got_err));
    memset(&want_err, 'x', sizeof(want_err));
    got_err.text[JSON_ERROR_TEXT_LENGTH - 1] = '\0';
    got_err.source[JSON_ERROR_SOURCE_LENGTH - 1] = '\0';
    want_err.text[JSON_ERROR_TEXT_LENGTH - 1] = '\0';
    want_err.source[JSON_ERROR_SOURCE_LENGTH - 1] = '\0';
    got = kube_json_decode(in, len, &got_err);
    want = json_loadb(in, len, JSON_ALLOW_NUL, &want_err);
    cr_expect_eq(got == NULL, want == NULL, "%s: decoded %s, json_loadb %s",
                 name, got ? "a tree" : "NULL", want ? "a tree" : "NULL");
    cr_expect_str_eq(got_err.text, want_err.text, "%s: error text", name);
    cr_expect_str_eq(got_err.source, want_err.source, "%s: source", name);
    cr_expect_eq(got_err.line, want_err.line, "%s: line", name);
    cr_expect_eq(got_err.column, want_err.column, "%s: column", name);
    cr_expect_eq(got_err.position, want_err.position, "%s: position", name);
    if (got && want) {
        char *g = json_dumps(got, DUMP_FLAGS),
             *w = json_dumps(want, DUMP_FLAGS);

        cr_assert(g && w);
        cr_expect_str_eq(g, w, "%s: dumps", name);
        cr_expect(json_equal(got, want), "%s: json_equal", name);
        free(g);
        free(w);
    }
    json_decref(got);
    json_decref(want);
}

/* A row where we widen json_loadb: the tree dumps to want. */
static void expect_dump(const char *name, const char *in, size_t len,
                        const char *want)
{
    json_t *got = kube_json_decode(in, len, NULL);
    char *g = got ? json_dumps(got, DUMP_FLAGS) : NULL;

    cr_expect(g, "%s: not decoded", name);
    if (g)
        cr_expect_str_eq(g, want, "%s: dumps", name);
    free(g);
    json_decref(got);
}

/* kube_json_keep tables the keep rows use: one key, nested tables with a
 * dropped member, "*" with a drop, and a table applied to array items. */
static const struct kube_json_keep only_a[] = {{"a", NULL, 0}, {NULL, NULL, 0}};
static const struct kube_json_keep meta[] = {
    {"managedFields", NULL, 1}, {"*", NULL, 0}, {NULL, NULL, 0}};
static const struct kube_json_keep object[] = {
    {"metadata", meta, 0}, {"*", NULL, 0}, {NULL, NULL, 0}};
static const struct kube_json_keep request[] = {
    {"uid", NULL, 0}, {"object", object, 0}, {NULL, NULL, 0}};
static const struct kube_json_keep review[] = {
    {"apiVersion", NULL, 0}, {"request", request, 0}, {NULL, NULL, 0}};
static const struct kube_json_keep all_but_a[] = {
    {"*", NULL, 0}, {"a", NULL, 1}, {NULL, NULL, 0}};
static const struct kube_json_keep items_only_a[] = {
    {"a", only_a, 0}, {"c", only_a, 0}, {NULL, NULL, 0}};
/* rows alike at their first byte, their length, or a prefix, and a
 * "*" that a key starting with '*' must still reach */
static const struct kube_json_keep alike[] = {
    {"ab", only_a, 0}, {"abc", NULL, 1}, {"ac", NULL, 0}, {"a", only_a, 0},
    {"b", NULL, 1},    {"*", NULL, 0},   {"**", NULL, 1}, {NULL, NULL, 0}};
static const struct kube_json_keep *const keeps[] = {only_a, review, all_but_a,
                                                     items_only_a, alike};

/* The keep semantics written with jansson's own calls: v's members that
 * keep names, recursively; a new reference. */
static json_t *pruned(json_t *v, const struct kube_json_keep *keep)
{
    json_t *out;

    if (!keep || !(json_is_object(v) || json_is_array(v)))
        return json_incref(v);
    out = json_is_array(v) ? json_array() : json_object();
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v); i++)
        json_array_append_new(out, pruned(json_array_get(v, i), keep));
    for (void *it = json_object_iter(v); it;
         it = json_object_iter_next(v, it)) {
        const char *k = json_object_iter_key(it);
        size_t n = json_object_iter_key_len(it);
        const struct kube_json_keep *row = NULL, *r;

        for (r = keep; r->key; r++)
            if ((strlen(r->key) == n && memcmp(r->key, k, n) == 0) ||
                (!row && strcmp(r->key, "*") == 0))
                row = r;
        if (row && !row->drop)
            json_object_setn_new_nocheck(
                out, k, n, pruned(json_object_iter_value(it), row->sub));
    }
    return out;
}

/* kube_json_decode_keep against kube_json_decode with each keep table:
 * the same error, and the pruned tree (or, off the fast path, the
 * whole one). */
static void expect_keep(const char *name, const char *in, size_t len)
{
    for (size_t t = 0; t < sizeof(keeps) / sizeof(*keeps); t++) {
        json_error_t ge, we;
        json_t *got = kube_json_decode_keep(in, len, keeps[t], &ge);
        json_t *whole = kube_json_decode(in, len, &we);
        json_t *fast = kube_json_decode_fast_keep(in, len, keeps[t]);
        json_t *want = fast ? pruned(whole, keeps[t]) : json_incref(whole);
        char *g = got ? json_dumps(got, DUMP_FLAGS) : NULL;
        char *w = want ? json_dumps(want, DUMP_FLAGS) : NULL;

        cr_expect_eq(got == NULL, whole == NULL, "%s, table %zu", name, t);
        cr_expect_str_eq(ge.text, we.text, "%s, table %zu: error", name, t);
        cr_expect_eq(ge.line, we.line, "%s, table %zu: line", name, t);
        cr_expect_eq(ge.column, we.column, "%s, table %zu: column", name, t);
        cr_expect_eq(ge.position, we.position, "%s, table %zu", name, t);
        if (g && w)
            cr_expect_str_eq(g, w, "%s, table %zu: tree", name, t);
        free(g);
        free(w);
        json_decref(fast);
        json_decref(want);
        json_decref(whole);
        json_decref(got);
    }
}

/* expect_same (or expect_dump), plus whether the fast path decoded in by
 * itself. */
static void expect_row(const struct row *r)
{
    json_t *fast = kube_json_decode_fast(r->in, r->len);

    cr_expect_eq(fast != NULL, r->path == FAST, "%s: fast path %s", r->name,
                 fast ? "decoded it" : "left it to json_loadb");
    json_decref(fast);
    if (r->want)
        expect_dump(r->name, r->in, r->len, r->want);
    else
        expect_same(r->name, r->in, r->len);
    expect_keep(r->name, r->in, r->len);
}

Test(kube_jsondec, rows)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect_row(&rows[i]);
}

/* open n times, then mid, then close n times; *len is the length. */
static char *nest(size_t n, const char *open, const char *mid, char close,
                  size_t *len)
{
    size_t olen = strlen(open), mlen = strlen(mid);
    char *s = malloc(n * (olen + 1) + mlen + 1), *p = s;

    cr_assert(s);
    for (size_t i = 0; i < n; i++, p += olen)
        memcpy(p, open, olen);
    memcpy(p, mid, mlen);
    p += mlen;
    memset(p, close, n);
    *len = (size_t)(p + n - s);
    return s;
}

/* jansson counts every value toward JSON_PARSER_MAX_DEPTH (2048) */
Test(kube_jsondec, depth)
{
    static const struct {
        const char *name, *open, *mid;
        char close;
        size_t n;
        enum path path;
    } cases[] = {
        {"2048 arrays", "[", "", ']', 2048, FAST},
        {"2049 arrays", "[", "", ']', 2049, SLOW},
        {"2048 objects", "{\"a\":", "{}", '}', 2047, FAST},
        {"2049 objects", "{\"a\":", "{}", '}', 2048, SLOW},
        {"scalar in 2047 arrays", "[", "1", ']', 2047, FAST},
        {"scalar in 2048 arrays", "[", "1", ']', 2048, SLOW},
        {"string in 2048 objects", "{\"a\":", "{\"b\":\"c\"}", '}', 2047, SLOW},
        {"2049 arrays, unclosed", "[", "", ' ', 2049, SLOW},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *s =
            nest(cases[i].n, cases[i].open, cases[i].mid, cases[i].close, &len);

        struct row r = {cases[i].name, s, len, cases[i].path, NULL};

        expect_row(&r);
        free(s);
    }
}

/* The same limit inside a member that keep tables read past (yajl is
 * not called for its scalars there, until the depth nears the limit):
 * each kind of scalar at the deepest depth jansson takes, and one
 * deeper. The "*" tables build the member instead. */
Test(kube_jsondec, depth_in_a_member_read_past)
{
    /* the innermost value, and how many levels below the arrays it
     * reaches (the 0 in {"k":0} is one deeper than the object) */
    static const char *const mids[] = {"1",    "\"s\"", "\"\\n\"",  "null",
                                       "true", "{}",    "{\"k\":0}"};
    static const size_t below[] = {0, 0, 0, 0, 0, 0, 1};

    for (size_t m = 0; m < sizeof(mids) / sizeof(*mids); m++) {
        for (size_t n = 2045; n <= 2047; n++) {
            size_t len;
            char *inner = nest(n, "[", mids[m], ']', &len);
            char *s = malloc(len + 32);
            int k;

            cr_assert(s);
            k = snprintf(s, len + 32, "{\"z\":%.*s,\"a\":[\"x\"]}", (int)len,
                         inner);
            /* a value inside the object and n arrays: depth n + 1 */
            enum path path = n + 1 + below[m] < 2048 ? FAST : SLOW;
            struct row r = {mids[m], s, (size_t)k, path, NULL};
            expect_row(&r);
            free(inner);
            free(s);
        }
    }
}

/* The body is looked at 32 and 8 bytes a step for non-ASCII (an ASCII
 * body skips every UTF-8 check): a bad byte at each place of a long
 * string, in a member kept and in one read past, is still refused. */
Test(kube_jsondec, bad_utf8_at_each_place_of_a_long_body)
{
    for (size_t at = 0; at < 70; at++) {
        for (int member = 0; member < 2; member++) {
            char in[128];
            int n;

            n = snprintf(in, sizeof(in), "{\"%s\":\"%070d\"}",
                         member ? "a" : "z", 0);
            cr_assert(n > 0 && (size_t)n < sizeof(in));
            in[6 + at] = '\xff'; /* inside the string's digits */
            expect_row(&(struct row){"bad byte", in, (size_t)n, SLOW, NULL});
        }
    }
}

/* Keys and strings past the decoder's inline buffers, and escaped values
 * that make yajl grow (and move) the buffer the escaped key was in. */
Test(kube_jsondec, long_keys_and_strings)
{
    char in[8192], key[600], val[1201]; /* val: 600 escaped newlines */
    int n;

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    for (size_t i = 0; i + 1 < sizeof(val); i += 2)
        memcpy(val + i, "\\n", 2);
    val[sizeof(val) - 1] = '\0';
    n = snprintf(
        in, sizeof(in),
        "{\"%s\":1,\"e\\\"%s\":\"%s\",\"%s\\t\":\"%s\",\"z\":[\"%s\"]}", key,
        key, val, key, val, val);
    cr_assert(n > 0 && (size_t)n < sizeof(in));
    expect_row(
        &(struct row){"long keys and strings", in, (size_t)n, FAST, NULL});
}

static const char *const reviews[] = {
    "tests/data/integration/admissionreview-create-vmrestore.json",
    "tests/data/integration/admissionreview-create-vmsnapshot.json",
    "tests/data/integration/admissionreview-create-vmsnapshot.mutating.json",
    "tests/data/integration/admissionreview-create-vmsnapshotcontent.json",
    "manifests/examples/reviews/snapshot.json",
    "manifests/examples/reviews/restore.json",
    "manifests/examples/reviews/content-by-user.json",
};

/* Real AdmissionReviews decode on the fast path, to json_loadb's tree. */
Test(kube_jsondec, admission_reviews_take_the_fast_path)
{
    for (size_t i = 0; i < sizeof(reviews) / sizeof(reviews[0]); i++) {
        char *buf = NULL;
        size_t len = 0;

        cr_assert_eq(kube_file_read(&buf, &len, reviews[i], 1 << 20, NULL), 0,
                     "%s", reviews[i]);
        expect_row(&(struct row){reviews[i], buf, len, FAST, NULL});
        free(buf);
    }
}

/* NULL error is allowed, as with json_loadb, on both paths. */
Test(kube_jsondec, null_error)
{
    json_t *ok = kube_json_decode("{\"a\":1}", 7, NULL);

    cr_expect(json_is_object(ok));
    json_decref(ok);
    cr_expect_null(kube_json_decode("{\"a\":", 5, NULL));
    cr_expect_null(kube_json_decode(NULL, 0, NULL));
}
