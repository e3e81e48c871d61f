/* tests/kube/yaml.c - suite kube_yaml: scalar resolution, anchors and
 * merges, limits, positions and streaming of kube/yaml.c. Fixtures live in
 * tests/data/kube/yaml/; run from the repository root. */
#include "kube/yaml.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA "tests/data/kube/yaml/"
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

struct collect {
    json_t *roots; /* array of every document's root */
    int lines[8];  /* doc->line and col of the first documents */
    int cols[8];
    int bad_index; /* set when doc->index is not the count so far */
    int stop_at;   /* return stop_rc from this document; -1: never */
    int stop_rc;
};

static int collect_fn(const struct kube_yaml_doc *doc, void *ctx)
{
    struct collect *c = ctx;
    size_t n = json_array_size(c->roots);

    if (doc->index != (int)n)
        c->bad_index = 1;
    if (n < N(c->lines)) {
        c->lines[n] = doc->line;
        c->cols[n] = doc->col;
    }
    json_array_append(c->roots, doc->root); /* keeps a reference */
    return doc->index == c->stop_at ? c->stop_rc : 0;
}

/* Parses in (NUL-terminated) into c->roots; returns the stream's rc. */
static int parse_lim(struct collect *c, const char *in,
                     const struct kube_yaml_limits *lim, struct kube_err *err)
{
    memset(c, 0, sizeof(*c));
    c->roots = json_array();
    c->stop_at = -1;
    cr_assert(c->roots);
    return kube_yaml_stream_buf(in, strlen(in), "t", lim, collect_fn, c, err);
}

static int parse(struct collect *c, const char *in, struct kube_err *err)
{
    return parse_lim(c, in, NULL, err);
}

static FILE *open_data(const char *name)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), DATA "%s", name);
    f = fopen(path, "rb");
    cr_assert(f, "cannot open %s (run from the repository root)", path);
    return f;
}

/* Parses fixture name through the FILE API. */
static int parse_file(struct collect *c, const char *name, struct kube_err *err)
{
    FILE *f = open_data(name);
    int rc;

    memset(c, 0, sizeof(*c));
    c->roots = json_array();
    c->stop_at = -1;
    rc = kube_yaml_stream(f, name, NULL, collect_fn, c, err);
    fclose(f);
    return rc;
}

/* True when got equals the JSON text want (types matter: 8 is not 8.0). */
static int json_eq_text(const json_t *got, const char *want)
{
    json_error_t jerr;
    json_t *w = json_loads(want, JSON_DECODE_ANY, &jerr);
    int eq;

    cr_assert(w, "bad expectation %s: %s", want, jerr.text);
    eq = json_equal((json_t *)got, w);
    json_decref(w);
    return eq;
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* ---- scalar resolution ---- */

static const struct {
    const char *name, *in, *want; /* in follows "v: "; want is JSON */
} scalars[] = {
    {"null word", "null", "null"},
    {"tilde", "~", "null"},
    {"Null", "Null", "null"},
    {"NULL", "NULL", "null"},
    {"empty", "", "null"},
    {"odd-case null is text", "nULL", "\"nULL\""},
    {"true", "true", "true"},
    {"True", "True", "true"},
    {"TRUE", "TRUE", "true"},
    {"false", "false", "false"},
    {"False", "False", "false"},
    {"FALSE", "FALSE", "false"},
    {"yes", "yes", "true"},
    {"Yes", "Yes", "true"},
    {"YES", "YES", "true"},
    {"no", "no", "false"},
    {"No", "No", "false"},
    {"NO", "NO", "false"},
    {"on", "on", "true"},
    {"On", "On", "true"},
    {"ON", "ON", "true"},
    {"off", "off", "false"},
    {"Off", "Off", "false"},
    {"OFF", "OFF", "false"},
    {"go-yaml v2 y", "y", "true"},
    {"go-yaml v2 N", "N", "false"},
    {"odd-case bool is text", "tRue", "\"tRue\""},
    {"yEs is text", "yEs", "\"yEs\""},
    {"decimal", "42", "42"},
    {"negative", "-17", "-17"},
    {"plus sign", "+5", "5"},
    {"zero", "0", "0"},
    {"hex", "0x1F", "31"},
    {"hex upper X", "0X1f", "31"},
    {"negative hex", "-0x10", "-16"},
    {"0o octal", "0o17", "15"},
    {"leading-zero octal", "017", "15"},
    {"binary", "0b101", "5"},
    {"underscores", "1_000_000", "1000000"},
    {"trailing underscore", "1_", "1"},
    {"hex underscores", "0x_ff", "255"},
    {"int64 max", "9223372036854775807", "9223372036854775807"},
    {"int64 min", "-9223372036854775808", "-9223372036854775808"},
    {"past int64 is a real (uint64)", "9223372036854775808",
     "9223372036854775808.0"},
    {"uint64 max is a real", "18446744073709551615", "18446744073709551615.0"},
    {"past uint64 is a real", "99999999999999999999", "1e20"},
    {"below int64 min is a real", "-9223372036854775809",
     "-9223372036854775809.0"},
    {"08 is not octal: a float", "08", "8.0"},
    {"hex past uint64 is text", "0x1FFFFFFFFFFFFFFFF",
     "\"0x1FFFFFFFFFFFFFFFF\""},
    {"bare 0x is text", "0x", "\"0x\""},
    {"float", "1.5", "1.5"},
    {"exponent", "-2.5e3", "-2500.0"},
    {"leading dot", ".5", "0.5"},
    {"signed leading dot", "+.5", "0.5"},
    {"trailing dot", "1.", "1.0"},
    {"float underscores", "1_0.5", "10.5"},
    {"dot underscore between digits", ".1_5", "0.15"},
    {"dot underscore after dot is text", "._5", "\"._5\""},
    {"overflowing float is text", "1e400", "\"1e400\""},
    {"underflow is zero", "1e-400", "0.0"},
    {".inf stays text", ".inf", "\".inf\""},
    {".Inf stays text", ".Inf", "\".Inf\""},
    {"-.inf stays text", "-.inf", "\"-.inf\""},
    {"+.INF stays text", "+.INF", "\"+.INF\""},
    {".nan stays text", ".nan", "\".nan\""},
    {".NaN stays text", ".NaN", "\".NaN\""},
    {"plain text", "hello world", "\"hello world\""},
    {"version-like", "1.2.3", "\"1.2.3\""},
    {"date stays text", "2001-12-14", "\"2001-12-14\""},
    {"duration", "5m", "\"5m\""},
    {"dash word", "-x", "\"-x\""},
    {"merge word as a value", "<<", "\"<<\""},
    {"double quoted number", "\"42\"", "\"42\""},
    {"single quoted bool", "'true'", "\"true\""},
    {"quoted null", "\"null\"", "\"null\""},
    {"quoted empty", "''", "\"\""},
    {"double-quoted escapes", "\"a\\tb\\u00e9\"", "\"a\\tb\\u00e9\""},
    {"!!str int", "!!str 42", "\"42\""},
    {"!!str bool", "!!str true", "\"true\""},
    {"!!str null", "!!str ~", "\"~\""},
    {"non-specific tag", "! 42", "\"42\""},
    {"unknown tag", "!custom 42", "\"42\""},
    {"verbatim unknown tag", "!<tag:example.com,1:x> yes", "\"yes\""},
    {"!!binary kept as written", "!!binary aGk=", "\"aGk=\""},
    {"!!timestamp kept as written", "!!timestamp 2001-12-14", "\"2001-12-14\""},
    {"!!int on quoted", "!!int \"12\"", "12"},
    {"!!int hex", "!!int 0x10", "16"},
    {"verbatim !!int", "!<tag:yaml.org,2002:int> '7'", "7"},
    {"!!float on int", "!!float 3", "3.0"},
    {"!!float on quoted", "!!float \"2.5\"", "2.5"},
    {"!!float .inf stays text", "!!float .inf", "\".inf\""},
    {"!!bool yes", "!!bool \"yes\"", "true"},
    {"!!null empty", "!!null ''", "null"},
    {"!!null tilde", "!!null ~", "null"},
    {"literal block", "|\n  a\n  b\n", "\"a\\nb\\n\""},
    {"literal strip", "|-\n  x\n", "\"x\""},
    {"literal keep", "|+\n  x\n", "\"x\\n\\n\""},
    {"literal number stays text", "|\n  42\n", "\"42\\n\""},
    {"folded block", ">\n  a\n  b\n", "\"a b\\n\""},
    {"folded strip bool", ">-\n  true\n", "\"true\""},
    {"tab inside a value", "a\tb", "\"a\\tb\""},
};

Test(kube_yaml, scalar_table)
{
    for (size_t i = 0; i < N(scalars); i++) {
        struct kube_err err = {0};
        struct collect c;
        char in[256];
        json_t *v;
        char *got;
        int rc;

        snprintf(in, sizeof(in), "v: %s\n", scalars[i].in);
        rc = parse(&c, in, &err);
        cr_expect_eq(rc, 0, "%s: rc %d %s", scalars[i].name, rc, err.msg);
        v = json_object_get(json_array_get(c.roots, 0), "v");
        got = dump(v);
        cr_expect(v && json_eq_text(v, scalars[i].want), "%s: got %s want %s",
                  scalars[i].name, got ? got : "(none)", scalars[i].want);
        free(got);
        json_decref(c.roots);
    }
}

/* Mapping keys become strings the way sigs.k8s.io/yaml writes them. */
static const struct {
    const char *name, *in, *want;
} keys[] = {
    {"int key", "1: a", "{\"1\": \"a\"}"},
    {"hex key is decimal", "0x10: a", "{\"16\": \"a\"}"},
    {"float key", "1.5: a", "{\"1.5\": \"a\"}"},
    {"float key short", "0.1: a", "{\"0.1\": \"a\"}"},
    {"float key uses float32", "3.14159265358979: a", "{\"3.1415927\": \"a\"}"},
    {"float key exponent", "1e6: a", "{\"1e+06\": \"a\"}"},
    {"integral float key", "2.0: a", "{\"2\": \"a\"}"},
    {"small float key", "0.00001: a", "{\"1e-05\": \"a\"}"},
    {"bool key", "yes: a", "{\"true\": \"a\"}"},
    {"false key", "off: a", "{\"false\": \"a\"}"},
    {"quoted bool key", "'yes': a", "{\"yes\": \"a\"}"},
    {"!!str key", "!!str 1: a", "{\"1\": \"a\"}"},
    {"!!int key", "!!int '7': a", "{\"7\": \"a\"}"},
    {"inf key stays text", ".inf: a", "{\".inf\": \"a\"}"},
    {"alias key", "a: &k kk\n*k : 1", "{\"a\": \"kk\", \"kk\": 1}"},
    {"anchored key", "&k x: 1\nw: *k", "{\"x\": 1, \"w\": \"x\"}"},
    {"go-yaml v2: key y is true", "y: 1", "{\"true\": 1}"},
    {"go-yaml v2: key n is false", "n: 1", "{\"false\": 1}"},
    {"quoted merge word is a key", "\"<<\": 1", "{\"<<\": 1}"},
};

Test(kube_yaml, key_table)
{
    for (size_t i = 0; i < N(keys); i++) {
        struct kube_err err = {0};
        struct collect c;
        int rc = parse(&c, keys[i].in, &err);
        char *got = dump(json_array_get(c.roots, 0));

        cr_expect_eq(rc, 0, "%s: rc %d %s", keys[i].name, rc, err.msg);
        cr_expect(json_eq_text(json_array_get(c.roots, 0), keys[i].want),
                  "%s: got %s want %s", keys[i].name, got ? got : "(none)",
                  keys[i].want);
        free(got);
        json_decref(c.roots);
    }
}

/* Keys may hold NUL ("\0" escapes); JSON text cannot show it in a key. */
Test(kube_yaml, key_with_nul)
{
    struct kube_err err = {0};
    struct collect c;
    int rc = parse(&c, "\"a\\0b\": 1\na: 2\n", &err);
    json_t *root = json_array_get(c.roots, 0);

    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(json_object_size(root), 2);
    cr_expect_eq(json_integer_value(json_object_getn(root, "a\0b", 3)), 1);
    json_decref(c.roots);
}

/* ---- errors: exact messages, positions of the offending node ---- */

static const struct {
    const char *name, *in, *msg;
    int rc;
} errors[] = {
    {"duplicate key", "a: 1\nb: 2\na: 3\n", "t:3:1: duplicate key \"a\"",
     KUBE_EINVAL},
    {"duplicate nested key", "spec:\n  x: 1\n  x: 2\n",
     "t:3:3: duplicate key \"x\"", KUBE_EINVAL},
    {"duplicate after key conversion", "1: a\n\"1\": b\n",
     "t:2:1: duplicate key \"1\"", KUBE_EINVAL},
    {"duplicate in flow mapping", "{a: 1, a: 2}", "t:1:8: duplicate key \"a\"",
     KUBE_EINVAL},
    {"duplicate key quoted in message", "\"q\\\"\": 1\n'q\"': 2\n",
     "t:2:1: duplicate key \"q\\\"\"", KUBE_EINVAL},
    {"two merges", "a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n",
     "t:4:3: duplicate key \"<<\"", KUBE_EINVAL},
    {"sequence key", "[1, 2]: x\n",
     "t:1:1: mapping key must be a scalar, not a sequence", KUBE_EINVAL},
    {"mapping key", "? {a: 1}\n: x\n",
     "t:1:3: mapping key must be a scalar, not a mapping", KUBE_EINVAL},
    {"alias to mapping as key", "a: &m {x: 1}\n*m : 2\n",
     "t:2:1: mapping key must be a scalar", KUBE_EINVAL},
    {"null key", "~: x\n",
     "t:1:1: mapping key is null (quote it to use the "
     "text)",
     KUBE_EINVAL},
    {"unknown anchor", "a: *nope\n",
     "t:1:4: unknown anchor \"nope\" referenced", KUBE_EINVAL},
    {"anchor inside itself", "a: &a [*a]\n",
     "t:1:8: unknown anchor \"a\" referenced", KUBE_EINVAL},
    {"anchors end with their document", "a: &a 1\n---\nb: *a\n",
     "t:3:4: unknown anchor \"a\" referenced", KUBE_EINVAL},
    {"merge of a scalar", "m: {<<: 5}\n",
     "t:1:9: map merge requires map or sequence of maps as the value",
     KUBE_EINVAL},
    {"merge of a list with a scalar", "a: &a {x: 1}\nm:\n  <<: [*a, 2]\n",
     "t:3:7: map merge requires map or sequence of maps as the value",
     KUBE_EINVAL},
    {"!!int on text", "v: !!int x\n",
     "t:1:4: cannot decode !!str \"x\" as a "
     "!!int",
     KUBE_EINVAL},
    {"!!int on float", "v: !!int 1.5\n",
     "t:1:4: cannot decode !!float \"1.5\" as a !!int", KUBE_EINVAL},
    {"!!bool on int", "v: !!bool 1\n",
     "t:1:4: cannot decode !!int \"1\" as a !!bool", KUBE_EINVAL},
    {"!!null on zero", "v: !!null 0\n",
     "t:1:4: cannot decode !!int \"0\" as a !!null", KUBE_EINVAL},
    {"!!int with a NUL inside", "v: !!int \"1\\0\"\n",
     "t:1:4: cannot decode !!str \"1\\x00\" as a !!int", KUBE_EINVAL},
    {"!!float on text", "v: !!float abc\n",
     "t:1:4: cannot decode !!str \"abc\" as a !!float", KUBE_EINVAL},
    {"mapping values in plain", "a: b: c\n",
     "t:1:5: mapping values are not allowed in this context", KUBE_EINVAL},
    {"unterminated quote", "a: 'x\n",
     "t:2:1: found unexpected end of stream while scanning a quoted scalar",
     KUBE_EINVAL},
    {"unclosed flow", "[1, 2",
     "t:2:1: did not find expected ',' or ']' while parsing a flow sequence",
     KUBE_EINVAL},
    {"bad alias name", "- *\n",
     "t:1:4: did not find expected alphabetic or numeric character while "
     "scanning an alias",
     KUBE_EINVAL},
    {"tab indentation", "spec:\n\tsource: x\n",
     "t:2:1: found character that cannot start any token while scanning for "
     "the next token",
     KUBE_EINVAL},
    {"bad UTF-8 has a line", "a: b\n\xff\n",
     "t:2:1: invalid leading UTF-8 octet #xFF", KUBE_EINVAL},
    {"control character", "a: b\nc: \x01\n",
     "t:2:4: control characters are not allowed #x1", KUBE_EINVAL},
    {"bad UTF-8 after CRLF and BOM",
     "\xef\xbb\xbf"
     "a: 1\r\nb: \xc3\x28\r\n",
     "t:2:5: invalid trailing UTF-8 octet #x28", KUBE_EINVAL},
};

Test(kube_yaml, error_table)
{
    for (size_t i = 0; i < N(errors); i++) {
        struct kube_err err = {0};
        struct collect c;
        int rc = parse(&c, errors[i].in, &err);

        cr_expect_eq(rc, errors[i].rc, "%s: rc %d", errors[i].name, rc);
        cr_expect_str_eq(err.msg, errors[i].msg, "%s: got '%s'", errors[i].name,
                         err.msg);
        json_decref(c.roots);
    }
}

Test(kube_yaml, tabs_fixture_error_names_file_and_position)
{
    struct kube_err err = {0};
    struct collect c;
    int rc = parse_file(&c, "tabs.yaml", &err);

    cr_expect_eq(rc, KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "tabs.yaml:2:1: found character that cannot "
                              "start any token while scanning for the next "
                              "token");
    cr_expect_eq(json_array_size(c.roots), 0);
    json_decref(c.roots);
}

/* ---- anchors, aliases, merges ---- */

static const struct {
    const char *name, *in, *want;
} expand[] = {
    {"scalar alias", "a: &x 5\nb: *x", "{\"a\": 5, \"b\": 5}"},
    {"mapping alias", "a: &m {k: [1, 2]}\nb: *m",
     "{\"a\": {\"k\": [1, 2]}, \"b\": {\"k\": [1, 2]}}"},
    {"sequence alias in a sequence", "- &s [x]\n- *s\n- [*s]",
     "[[\"x\"], [\"x\"], [[\"x\"]]]"},
    {"redefined anchor: later wins", "a: &x 1\nb: *x\nc: &x 2\nd: *x",
     "{\"a\": 1, \"b\": 1, \"c\": 2, \"d\": 2}"},
    {"anchored empty value", "a: &e\nb: *e", "{\"a\": null, \"b\": null}"},
    {"merge, explicit keys win before and after",
     "base: &b {x: 1, w: 1, z: 1}\nm:\n  x: 2\n  <<: *b\n  z: 3",
     "{\"base\": {\"x\": 1, \"w\": 1, \"z\": 1},"
     " \"m\": {\"x\": 2, \"w\": 1, \"z\": 3}}"},
    {"merge list: earlier wins",
     "a: &a {k: a}\nb: &b {k: b, j: b}\n"
     "m: {<<: [*a, *b]}",
     "{\"a\": {\"k\": \"a\"}, \"b\": {\"k\": \"b\", \"j\": \"b\"},"
     " \"m\": {\"k\": \"a\", \"j\": \"b\"}}"},
    {"inline merge", "m:\n  <<: {a: 1}\n  b: 2",
     "{\"m\": {\"a\": 1, \"b\": 2}}"},
    {"!!merge tag", "a: &a {k: 1}\nm: {!!merge <<: *a}",
     "{\"a\": {\"k\": 1}, \"m\": {\"k\": 1}}"},
    {"merge nested value is a copy", "a: &a {k: {v: 1}}\nm: {<<: *a, j: 2}",
     "{\"a\": {\"k\": {\"v\": 1}}, \"m\": {\"k\": {\"v\": 1}, \"j\": 2}}"},
};

Test(kube_yaml, expand_table)
{
    for (size_t i = 0; i < N(expand); i++) {
        struct kube_err err = {0};
        struct collect c;
        int rc = parse(&c, expand[i].in, &err);
        char *got = dump(json_array_get(c.roots, 0));

        cr_expect_eq(rc, 0, "%s: rc %d %s", expand[i].name, rc, err.msg);
        cr_expect(json_eq_text(json_array_get(c.roots, 0), expand[i].want),
                  "%s: got %s", expand[i].name, got ? got : "(none)");
        free(got);
        json_decref(c.roots);
    }
}

Test(kube_yaml, merge_fixture)
{
    static const char *const want =
        "{\"base\": {\"a\": 1, \"b\": 1, \"c\": 1},"
        " \"over\": {\"b\": 2, \"d\": 2},"
        " \"single\": {\"x\": 0, \"a\": 9, \"b\": 1, \"c\": 1},"
        " \"list\": {\"b\": 2, \"d\": 2, \"a\": 1, \"c\": 1},"
        " \"inline\": {\"a\": 5, \"e\": 6},"
        " \"chained\": {\"a\": 1, \"b\": 1, \"c\": 3},"
        " \"quoted\": {\"<<\": \"not a merge\", \"b\": 2, \"d\": 2}}";
    struct kube_err err = {0};
    struct collect c;
    int rc = parse_file(&c, "merge.yaml", &err);
    char *got = dump(json_array_get(c.roots, 0));

    cr_expect_eq(rc, 0, "rc %d %s", rc, err.msg);
    cr_expect(json_eq_text(json_array_get(c.roots, 0), want), "got %s", got);
    free(got);
    json_decref(c.roots);
}

/* Aliases are copies: the two places are different values. */
Test(kube_yaml, alias_is_a_deep_copy)
{
    struct kube_err err = {0};
    struct collect c;
    int rc = parse(&c, "a: &m {k: [1]}\nb: *m\n", &err);
    json_t *root = json_array_get(c.roots, 0);
    json_t *a = json_object_get(root, "a"), *b = json_object_get(root, "b");

    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect_neq(a, b);
    cr_expect_neq(json_object_get(a, "k"), json_object_get(b, "k"));
    json_array_append_new(json_object_get(a, "k"), json_integer(2));
    cr_expect_eq(json_array_size(json_object_get(b, "k")), 1);
    json_decref(c.roots);
}

/* ---- limits ---- */

/* The billion laughs: nine levels of nine aliases, 10^9 nodes expanded. */
static char *laughs(void)
{
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);

    cr_assert(s);
    len += (size_t)snprintf(s + len, cap - len, "a: &a [%s]\n",
                            "lol,lol,lol,lol,lol,lol,lol,lol,lol");
    for (char c = 'b'; c <= 'i'; c++) {
        len += (size_t)snprintf(s + len, cap - len, "%c: &%c [", c, c);
        for (int i = 0; i < 9; i++)
            len += (size_t)snprintf(s + len, cap - len, "%s*%c", i ? ", " : "",
                                    c - 1);
        len += (size_t)snprintf(s + len, cap - len, "]\n");
    }
    return s;
}

Test(kube_yaml, billion_laughs_refused)
{
    struct kube_err err = {0};
    struct collect c;
    char *in = laughs();
    int rc = parse(&c, in, &err);

    /* a..f expand to 672603 nodes; the first *f in g passes a million */
    cr_expect_eq(rc, KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "t:7:8: document has more than 1000000 nodes "
                              "(aliases expanded)");
    cr_expect_eq(json_array_size(c.roots), 0);
    json_decref(c.roots);
    free(in);
}

static const struct {
    const char *name, *in;
    struct kube_yaml_limits lim;
    const char *msg; /* NULL: accepted */
} limits[] = {
    {"alias refs at the limit", "a: &a 1\nb: [*a, *a, *a]", {0, 3, 0}, NULL},
    {"alias refs over the limit",
     "a: &a 1\nb: [*a, *a, *a, *a]",
     {0, 3, 0},
     "t:2:17: more than 3 alias references in one document"},
    {"nodes at the limit", "[1, 2, 3, 4]", {0, 0, 5}, NULL},
    {"nodes over the limit",
     "[1, 2, 3, 4, 5]",
     {0, 0, 5},
     "t:1:14: document has more than 5 nodes (aliases expanded)"},
    {"alias nodes count",
     "a: &a [1, 2]\nb: *a",
     {0, 0, 7},
     "t:2:4: document has more than 7 nodes (aliases expanded)"},
    {"depth at the limit", "[[[1]]]", {3, 0, 0}, NULL},
    {"depth over the limit",
     "[[[[1]]]]",
     {3, 0, 0},
     "t:1:4: nesting deeper than 3"},
    {"block depth over the limit",
     "a:\n  b:\n    c: 1\n",
     {2, 0, 0},
     "t:3:5: nesting deeper than 2"},
    {"alias adds its depth",
     "a: &a [[1]]\nb: [*a]",
     {3, 0, 0},
     "t:2:5: nesting deeper than 3 through alias \"a\""},
    {"limits reset per document",
     "[*x]\n",
     {0, 0, 0},
     "t:1:2: unknown anchor \"x\" referenced"},
};

Test(kube_yaml, limits_table)
{
    for (size_t i = 0; i < N(limits); i++) {
        struct kube_err err = {0};
        struct collect c;
        int rc = parse_lim(&c, limits[i].in, &limits[i].lim, &err);

        if (!limits[i].msg) {
            cr_expect_eq(rc, 0, "%s: rc %d %s", limits[i].name, rc, err.msg);
        } else {
            cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", limits[i].name, rc);
            cr_expect_str_eq(err.msg, limits[i].msg, "%s: got '%s'",
                             limits[i].name, err.msg);
        }
        json_decref(c.roots);
    }
}

Test(kube_yaml, node_limit_spans_documents_separately)
{
    static const struct kube_yaml_limits lim = {0, 0, 3};
    struct kube_err err = {0};
    struct collect c;
    int rc = parse_lim(&c, "[1, 2]\n---\n[3, 4]\n---\n[5, 6]\n", &lim, &err);

    cr_expect_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(json_array_size(c.roots), 3);
    json_decref(c.roots);
}

/* 10,000 '[' is refused at the default depth, not a stack overflow. */
Test(kube_yaml, deep_nesting_refused)
{
    static const char *const opens[] = {"[", "{a: "};
    char want[64];

    for (size_t k = 0; k < N(opens); k++) {
        size_t w = strlen(opens[k]), n = 10000;
        char *in = malloc(n * w + 1);
        struct kube_err err = {0};
        struct collect c;
        int rc;

        cr_assert(in);
        for (size_t i = 0; i < n; i++)
            memcpy(in + i * w, opens[k], w);
        in[n * w] = '\0';
        rc = parse(&c, in, &err);
        snprintf(want, sizeof(want), "t:1:%zu: nesting deeper than 256",
                 256 * w + 1);
        cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", opens[k], rc);
        cr_expect_str_eq(err.msg, want, "%s", opens[k]);
        json_decref(c.roots);
        free(in);
    }
}

/* Depth limits above what jansson's recursion can take are clamped. */
Test(kube_yaml, huge_depth_limit_clamped)
{
    static const struct kube_yaml_limits lim = {SIZE_MAX, 0, 0};
    size_t n = 10000;
    char *in = malloc(n + 1);
    struct kube_err err = {0};
    struct collect c;
    int rc;

    cr_assert(in);
    memset(in, '[', n);
    in[n] = '\0';
    rc = parse_lim(&c, in, &lim, &err);
    cr_expect_eq(rc, KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "t:1:4097: nesting deeper than 4096");
    json_decref(c.roots);
    free(in);
}

/* ---- documents ---- */

static const struct {
    const char *name, *in;
    const char *want; /* JSON array of the roots */
} docs[] = {
    {"empty input has no documents", "", "[]"},
    {"comments only", "# nothing\n\n", "[]"},
    {"empty document is null", "---\n", "[null]"},
    {"two empty documents", "---\n---\n", "[null, null]"},
    {"scalar document", "42\n", "[42]"},
    {"text document", "--- hello\n", "[\"hello\"]"},
    {"block scalar document", "--- |\n  text\n", "[\"text\\n\"]"},
    {"sequence document", "- a\n- b\n", "[[\"a\", \"b\"]]"},
    {"end markers", "a: 1\n...\n---\nb: 2\n...\n", "[{\"a\": 1}, {\"b\": 2}]"},
    {"JSON input", "{\"a\": [1, 2.5, true, null, \"x\"], \"b\": {}}",
     "[{\"a\": [1, 2.5, true, null, \"x\"], \"b\": {}}]"},
    {"compact JSON", "{\"a\":1,\"b\":[\"c\"]}", "[{\"a\": 1, \"b\": [\"c\"]}]"},
    {"directive", "%YAML 1.1\n---\na: 1\n", "[{\"a\": 1}]"},
    {"BOM",
     "\xef\xbb\xbf"
     "a: 1\n",
     "[{\"a\": 1}]"},
    {"CRLF block literal", "a: |\r\n  x\r\n  y\r\nb: 2\r\n",
     "[{\"a\": \"x\\ny\\n\", \"b\": 2}]"},
};

Test(kube_yaml, documents_table)
{
    for (size_t i = 0; i < N(docs); i++) {
        struct kube_err err = {0};
        struct collect c;
        int rc = parse(&c, docs[i].in, &err);
        char *got = dump(c.roots);

        cr_expect_eq(rc, 0, "%s: rc %d %s", docs[i].name, rc, err.msg);
        cr_expect(json_eq_text(c.roots, docs[i].want), "%s: got %s",
                  docs[i].name, got);
        cr_expect_eq(c.bad_index, 0, "%s: index", docs[i].name);
        free(got);
        json_decref(c.roots);
    }
}

Test(kube_yaml, multi_fixture_counts_and_starts)
{
    struct kube_err err = {0};
    struct collect c;
    int rc = parse_file(&c, "multi.yaml", &err);

    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect(json_eq_text(c.roots, "[{\"kind\": \"A\"}, null,"
                                    " [{\"kind\": \"B\"}], 42]"));
    cr_expect_eq(c.bad_index, 0);
    cr_expect_eq(c.lines[0], 2); /* after the comment */
    cr_expect_eq(c.cols[0], 1);
    cr_expect_eq(c.lines[2], 5);
    cr_expect_eq(c.lines[3], 7);
    cr_expect_eq(c.cols[3], 5); /* "--- 42" */
    json_decref(c.roots);
}

Test(kube_yaml, bom_crlf_fixture)
{
    struct kube_err err = {0};
    struct collect c;
    int rc = parse_file(&c, "bom_crlf.yaml", &err);

    cr_assert_eq(rc, 0, "%s", err.msg);
    cr_expect(json_eq_text(json_array_get(c.roots, 0),
                           "{\"kind\": \"Test\", \"spec\": {\"text\": "
                           "\"a\\nb\\n\", \"num\": 5}}"));
    json_decref(c.roots);
}

/* ---- positions ---- */

struct where_row {
    const char *path;
    int kl, kc, vl, vc, found;
};

struct where_ctx {
    const struct where_row *rows;
    size_t n;
    struct kube_yaml_where *got;
    int line, col;
};

static int where_fn(const struct kube_yaml_doc *doc, void *ctx)
{
    struct where_ctx *w = ctx;

    for (size_t i = 0; i < w->n; i++)
        kube_yaml_where(&w->got[i], doc, w->rows[i].path);
    w->line = doc->line;
    w->col = doc->col;
    return 0;
}

static void expect_where(const struct where_row *rows, size_t n,
                         const struct kube_yaml_where *got)
{
    for (size_t i = 0; i < n; i++) {
        const struct where_row *r = &rows[i];
        const struct kube_yaml_where *g = &got[i];

        cr_expect(g->key_line == r->kl && g->key_col == r->kc &&
                      g->val_line == r->vl && g->val_col == r->vc &&
                      g->found == r->found,
                  "%s: got key %d:%d val %d:%d found %d, want key %d:%d "
                  "val %d:%d found %d",
                  r->path, g->key_line, g->key_col, g->val_line, g->val_col,
                  g->found, r->kl, r->kc, r->vl, r->vc, r->found);
    }
}

static const struct where_row positions[] = {
    {"", 0, 0, 2, 1, 1},
    {"kind", 3, 1, 3, 7, 1},
    {"metadata.name", 5, 3, 5, 9, 1},
    {"metadata.labels[snapshot.kubevirt.io/x]", 7, 5, 7, 29, 1},
    {"metadata.labels[a[b]]", 8, 5, 8, 13, 1},
    {"metadata.labels[snapshot.kubevirt.io/y]", 6, 3, 7, 5, 0},
    {"metadata.labels.snapshot", 6, 3, 7, 5, 0},
    {"spec.failureDeadline", 14, 3, 14, 20, 1},
    {"spec.deletionPolicy", 10, 3, 10, 19, 1}, /* merged from defaults */
    {"spec.source.kind", 17, 5, 17, 11, 1},
    {"spec.source.kind.deeper", 17, 5, 17, 11, 0},
    {"spec.patches", 18, 3, 19, 5, 1},
    {"spec.patches[0].op", 19, 7, 19, 11, 1},
    {"spec.patches[1]", 0, 0, 21, 7, 1},
    {"spec.patches[1].path", 21, 20, 21, 26, 1},
    {"spec.patches[5]", 18, 3, 19, 5, 0},
    {"spec.patches[5].op", 18, 3, 19, 5, 0},
    {"spec.copy", 22, 3, 22, 9, 1},
    {"spec.copy.failureDeadline", 11, 3, 11, 20, 1}, /* through the alias */
    {"spec.copy.nope.x", 22, 3, 22, 9, 0},
    {"json.k", 23, 8, 23, 13, 1},
    {"json.k[1]", 0, 0, 23, 18, 1},
    {"nope", 0, 0, 2, 1, 0},
    {"nope.deeper[3]", 0, 0, 2, 1, 0},
};

Test(kube_yaml, positions_table)
{
    struct kube_yaml_where got[N(positions)];
    struct where_ctx w = {positions, N(positions), got, 0, 0};
    struct kube_err err = {0};
    FILE *f = open_data("positions.yaml");
    int rc = kube_yaml_stream(f, "positions.yaml", NULL, where_fn, &w, &err);

    fclose(f);
    cr_assert_eq(rc, 0, "%s", err.msg);
    expect_where(positions, N(positions), got);
    cr_expect_eq(w.line, 2);
    cr_expect_eq(w.col, 1);
}

static const struct where_row merge_positions[] = {
    {"single.a", 6, 3, 6, 6, 1},   /* explicit beats the merge */
    {"single.b", 1, 20, 1, 23, 1}, /* from base */
    {"list.b", 2, 14, 2, 17, 1},   /* first source wins */
    {"list.a", 1, 14, 1, 17, 1},   /* second source */
    {"list.zz", 7, 1, 8, 3, 0},     {"inline.a", 10, 8, 10, 11, 1},
    {"inline.e", 11, 3, 11, 6, 1},  {"chained.c", 15, 5, 15, 8, 1},
    {"chained.a", 1, 14, 1, 17, 1}, /* merge within a merge */
    {"quoted.<<", 17, 3, 17, 9, 1}, {"quoted.d", 2, 20, 2, 23, 1},
};

Test(kube_yaml, merge_positions_table)
{
    struct kube_yaml_where got[N(merge_positions)];
    struct where_ctx w = {merge_positions, N(merge_positions), got, 0, 0};
    struct kube_err err = {0};
    FILE *f = open_data("merge.yaml");
    int rc = kube_yaml_stream(f, "merge.yaml", NULL, where_fn, &w, &err);

    fclose(f);
    cr_assert_eq(rc, 0, "%s", err.msg);
    expect_where(merge_positions, N(merge_positions), got);
}

static const struct where_row crlf_positions[] = {
    {"kind", 1, 1, 1, 7, 1},
    {"spec.text", 3, 3, 3, 9, 1},
    {"spec.num", 6, 3, 6, 8, 1},
};

Test(kube_yaml, bom_crlf_positions)
{
    struct kube_yaml_where got[N(crlf_positions)];
    struct where_ctx w = {crlf_positions, N(crlf_positions), got, 0, 0};
    struct kube_err err = {0};
    FILE *f = open_data("bom_crlf.yaml");
    int rc = kube_yaml_stream(f, "bom_crlf.yaml", NULL, where_fn, &w, &err);

    fclose(f);
    cr_assert_eq(rc, 0, "%s", err.msg);
    expect_where(crlf_positions, N(crlf_positions), got);
}

static const struct where_row seq_root_positions[] = {
    {"", 0, 0, 1, 1, 1},
    {"[1]", 0, 0, 2, 3, 1},
    {"[1].k", 2, 3, 2, 6, 1},
    {"[2]", 0, 0, 1, 1, 0},
};

Test(kube_yaml, sequence_root_positions)
{
    static const char in[] = "- a\n- k: v\n";
    struct kube_yaml_where got[N(seq_root_positions)];
    struct where_ctx w = {seq_root_positions, N(seq_root_positions), got, 0, 0};
    struct kube_err err = {0};
    int rc =
        kube_yaml_stream_buf(in, strlen(in), "t", NULL, where_fn, &w, &err);

    cr_assert_eq(rc, 0, "%s", err.msg);
    expect_where(seq_root_positions, N(seq_root_positions), got);
}

Test(kube_yaml, where_without_table_is_zero)
{
    struct kube_yaml_doc doc = {NULL, 0, 0, 0, NULL};
    struct kube_yaml_where w;

    memset(&w, 0xff, sizeof(w));
    kube_yaml_where(&w, &doc, "spec");
    cr_expect(w.key_line == 0 && w.val_line == 0 && w.found == 0);
}

/* ---- the stream ---- */

Test(kube_yaml, callback_stop_value_returned)
{
    static const char in[] = "a: 1\n---\nb: 2\n---\nc: 3\n";
    struct kube_err err = {0};
    struct collect c;
    int rc;

    memset(&c, 0, sizeof(c));
    c.roots = json_array();
    c.stop_at = 1;
    c.stop_rc = 7;
    rc = kube_yaml_stream_buf(in, strlen(in), "t", NULL, collect_fn, &c, &err);
    cr_expect_eq(rc, 7);
    cr_expect_eq(json_array_size(c.roots), 2);
    c.stop_at = 0;
    c.stop_rc = KUBE_ECONFLICT;
    json_array_clear(c.roots);
    rc = kube_yaml_stream_buf(in, strlen(in), "t", NULL, collect_fn, &c, &err);
    cr_expect_eq(rc, KUBE_ECONFLICT);
    cr_expect_eq(json_array_size(c.roots), 1);
    json_decref(c.roots);
}

/* An error in a later document comes after the good ones were handed out. */
Test(kube_yaml, error_after_good_documents)
{
    struct kube_err err = {0};
    struct collect c;
    int rc = parse(&c, "a: 1\n---\nb: 2\n---\nc: [\n", &err);

    cr_expect_eq(rc, KUBE_EINVAL);
    cr_expect_eq(json_array_size(c.roots), 2);
    cr_expect_str_eq(err.msg, "t:6:1: did not find expected node content "
                              "while parsing a flow node");
    json_decref(c.roots);
}

struct big_ctx {
    int n, bad;
};

static int big_fn(const struct kube_yaml_doc *doc, void *ctx)
{
    struct big_ctx *b = ctx;
    const json_t *meta = json_object_get(doc->root, "metadata");
    char want[32];

    snprintf(want, sizeof(want), "snap-%d", b->n);
    const char *name = json_string_value(json_object_get(meta, "name"));

    if (doc->index != b->n || !name || strcmp(name, want) ||
        doc->line != 2 + 7 * b->n)
        b->bad++;
    b->n++;
    return 0;
}

/* 10,000 documents, from memory and from a FILE. */
Test(kube_yaml, ten_thousand_documents)
{
    size_t cap = 10000 * 160, len = 0;
    char *in = malloc(cap);
    struct kube_err err = {0};
    struct big_ctx b = {0, 0};
    FILE *f;
    int rc;

    cr_assert(in);
    for (int i = 0; i < 10000; i++)
        len += (size_t)snprintf(in + len, cap - len,
                                "---\nkind: VirtualMachineSnapshot\n"
                                "metadata:\n  name: snap-%d\n  labels: {a: "
                                "\"%d\"}\nspec:\n  source: {kind: "
                                "VirtualMachine, name: vm-%d}\n",
                                i, i, i);
    rc = kube_yaml_stream_buf(in, len, "big", NULL, big_fn, &b, &err);
    cr_expect_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(b.n, 10000);
    cr_expect_eq(b.bad, 0);

    f = tmpfile();
    cr_assert(f);
    cr_assert_eq(fwrite(in, 1, len, f), len);
    rewind(f);
    b.n = b.bad = 0;
    rc = kube_yaml_stream(f, "big", NULL, big_fn, &b, &err);
    cr_expect_eq(rc, 0, "%s", err.msg);
    cr_expect_eq(b.n, 10000);
    cr_expect_eq(b.bad, 0);
    fclose(f);
    free(in);
}

/* The FILE and buffer paths report the same error text, also for reader
 * errors, which carry a byte offset; the FILE starts mid-file on purpose. */
static const struct {
    const char *name, *in, *msg;
} agree[] = {
    {"duplicate key", "a: 1\nb:\n  - x\n  - y\nb: 2\n",
     "t:5:1: duplicate key \"b\""},
    {"bad UTF-8", "a: 1\nb: x\xff\n",
     "t:2:5: invalid leading UTF-8 octet #xFF"},
    {"bad UTF-8 after BOM and CRLF",
     "\xef\xbb\xbf"
     "a: 1\r\n\r\nbc: \xc3\x28\r\n",
     "t:3:6: invalid trailing UTF-8 octet #x28"},
    {"control character", "a:\n  - \x02\n",
     "t:2:5: control characters are not allowed #x2"},
};

Test(kube_yaml, file_and_buffer_agree)
{
    for (size_t i = 0; i < N(agree); i++) {
        struct kube_err e1 = {0}, e2 = {0};
        struct collect c;
        FILE *f = tmpfile();
        int rc1, rc2;

        cr_assert(f);
        fputs("JUNK", f);
        fputs(agree[i].in, f);
        cr_assert_eq(fseek(f, 4, SEEK_SET), 0);
        memset(&c, 0, sizeof(c));
        c.roots = json_array();
        c.stop_at = -1;
        rc1 = kube_yaml_stream(f, "t", NULL, collect_fn, &c, &e1);
        fclose(f);
        json_decref(c.roots);
        rc2 = parse(&c, agree[i].in, &e2);
        json_decref(c.roots);
        cr_expect_eq(rc1, KUBE_EINVAL, "%s: rc %d", agree[i].name, rc1);
        cr_expect_eq(rc2, KUBE_EINVAL, "%s: rc %d", agree[i].name, rc2);
        cr_expect_str_eq(e1.msg, agree[i].msg, "%s: file '%s'", agree[i].name,
                         e1.msg);
        cr_expect_str_eq(e2.msg, agree[i].msg, "%s: buffer '%s'", agree[i].name,
                         e2.msg);
    }
}

/* A pipe cannot be read again: the error gives the byte offset instead. */
Test(kube_yaml, reader_error_from_pipe_gives_offset)
{
    static const char in[] = "a: 1\nb: x\xff\n";
    struct kube_err err = {0};
    struct collect c;
    int fds[2];
    FILE *f;
    int rc;

    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], in, sizeof(in) - 1), (ssize_t)sizeof(in) - 1);
    close(fds[1]);
    f = fdopen(fds[0], "rb");
    cr_assert(f);
    memset(&c, 0, sizeof(c));
    c.roots = json_array();
    c.stop_at = -1;
    rc = kube_yaml_stream(f, "t", NULL, collect_fn, &c, &err);
    fclose(f);
    json_decref(c.roots);
    cr_expect_eq(rc, KUBE_EINVAL);
    cr_expect_str_eq(err.msg, "t: invalid leading UTF-8 octet #xFF at byte 9");
}

/* Hostile shapes and every truncation and byte flip of the fixtures: the
 * only acceptable outcomes are success or a message naming the input
 * (ASan/LSan catch crashes and leaks). */
static void survive(const char *in, size_t len)
{
    struct kube_err err = {0};
    struct collect c;
    int rc, ok;

    memset(&c, 0, sizeof(c));
    c.roots = json_array();
    c.stop_at = -1;
    rc = kube_yaml_stream_buf(in, len, "t", NULL, collect_fn, &c, &err);
    ok = rc == 0 || (rc < 0 && strncmp(err.msg, "t:", 2) == 0);
    if (!ok) /* thousands of inputs: report only the bad ones */
        cr_expect(ok, "rc %d '%s' for %.*s", rc, err.msg,
                  (int)(len > 80 ? 80 : len), in);
    json_decref(c.roots);
}

/* Inputs that once tempted parsers into crashes; len 0 means strlen. */
static const struct {
    const char *s;
    size_t len;
} nasty[] = {
    {"&", 0},
    {"*", 0},
    {"!", 0},
    {"!<", 0},
    {"!<>", 0},
    {"%", 0},
    {"%YAML 2.0\n---\n", 0},
    {"%TAG ! !x\n", 0},
    {"? ", 0},
    {": ", 0},
    {"? a\n? a\n", 0},
    {"- &a\n- *a\n", 0},
    {"&a [*a]", 0},
    {"{&a a: *a}", 0},
    {"[a, b]: c", 0},
    {"{[1]: 2}", 0},
    {"a: &x\n  <<: *x\n", 0},
    {"<<: *a", 0},
    {"<<: []", 0},
    {"<<: [[]]", 0},
    {"<<: {}\n<<: {}", 0},
    {"\"\\ud800\"", 0},
    {"\"\\x00\"", 0},
    {"'''", 0},
    {"|", 0},
    {">\n\t", 0},
    {"- - - - -", 0},
    {"[}", 0},
    {"{]", 0},
    {"\t", 0},
    {"a:\tb", 0},
    {"---\n...\n...\n", 0},
    {"\xef\xbb\xbf", 0},
    {"\xff\xfe"
     "a\0:\0 \0"
     "1\0",
     10}, /* UTF-16LE "a: 1" */
    {"a\0b", 3},
    {"key: !!int 99999999999999999999999", 0},
};

Test(kube_yaml, never_crashes)
{
    static const char *const files[] = {"positions.yaml", "merge.yaml",
                                        "multi.yaml", "bom_crlf.yaml"};
    static const char flips[] = {'[', '{', '*', '&', ':', '\t', '"', '\0'};

    for (size_t i = 0; i < N(nasty); i++)
        survive(nasty[i].s, nasty[i].len ? nasty[i].len : strlen(nasty[i].s));
    for (size_t k = 0; k < N(files); k++) {
        char buf[1024], m[1024];
        FILE *f = open_data(files[k]);
        size_t len = fread(buf, 1, sizeof(buf), f);

        fclose(f);
        for (size_t cut = 0; cut <= len; cut++)
            survive(buf, cut);
        for (size_t at = 0; at < len; at++) {
            for (size_t j = 0; j < sizeof(flips); j++) {
                memcpy(m, buf, len);
                m[at] = flips[j];
                survive(m, len);
            }
        }
    }
}
