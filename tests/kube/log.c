/* tests/kube/log.c - kube_log's direct writer against the jansson path it
 * replaced (json_vpack_ex, json_object_update_missing, json_dumpb), byte
 * for byte: every format the code base logs with, and the odd cases
 * (NULL strings, bad UTF-8, reals, a field named msg, a repeated key,
 * formats the writer leaves to jansson, a line longer than kube_log's
 * stack buffer); then kube_log itself on a captured stderr. */
#include "kube/log.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS "2026-12-04T12:00:00.123Z"
#define HEAD "{\"ts\":\"" TS "\",\"level\":\"info\",\"msg\":\"m\""

/* The line both writers give for these arguments, at TS; rc gets the
 * direct writer's return. Checks that the two agree. Caller frees. */
static char *both(int *rc, const char *name, const char *msg,
                  const char *fields, va_list ap)
{
    struct kube_buf direct, tree;
    va_list aq;
    int rc_tree;
    char *line;

    kube_buf_init(&direct, 16, 1 << 20);
    kube_buf_init(&tree, 16, 1 << 20);
    va_copy(aq, ap);
    *rc = kube_log_format(&direct, TS, KUBE_LOG_INFO, msg, fields, ap);
    rc_tree =
        kube_log_format_jansson(&tree, TS, KUBE_LOG_INFO, msg, fields, aq);
    va_end(aq);
    cr_expect_eq(*rc, rc_tree, "%s: rc %d, jansson's %d", name, *rc, rc_tree);
    cr_expect_eq(kube_buf_len(&direct), kube_buf_len(&tree), "%s: length",
                 name);
    cr_expect_str_eq(kube_buf_str(&direct), kube_buf_str(&tree), "%s", name);
    line = kube_buf_take(&direct, NULL);
    kube_buf_free(&tree, 0);
    return line;
}

/* One row: both writers agree, return want_rc and, when want is not
 * NULL, give want. */
static void row_at(const char *name, const char *want, int want_rc,
                   const char *msg, const char *fields, ...)
{
    va_list ap;
    char *line;
    int rc;

    va_start(ap, fields);
    line = both(&rc, name, msg, fields, ap);
    va_end(ap);
    cr_expect_eq(rc, want_rc, "%s: rc %d", name, rc);
    if (want)
        cr_expect_str_eq(line ? line : "", want, "%s", name);
    free(line);
}

#define row(name, want, ...) row_at(name, want, 0, "m", __VA_ARGS__)

/* The formats of the code base (grep 'kube_log(' in cmd/ kube/ webhook/
 * reconciler/), with values of the kind each passes. */
Test(kube_log, formats_of_the_code_base)
{
    row("no fields", HEAD "}\n", NULL);
    row("s", HEAD ",\"path\":\"/etc/vmsnapd/config.yaml\"}\n", "{s:s}", "path",
        "/etc/vmsnapd/config.yaml");
    row("s s", NULL, "{s:s, s:s}", "resource", "virtualmachines",
        "resourceVersion", "12345");
    row("s s s", NULL, "{s:s, s:s, s:s}", "a", "x", "b", "y", "c", "z");
    row("s s s s", NULL, "{s:s, s:s, s:s, s:s}", "a", "1", "b", "2", "c", "3",
        "d", "4");
    row("s s? s, set", NULL, "{s:s, s:s?, s:s}", "a", "x", "b", "y", "c", "z");
    row("s s? s, NULL", HEAD ",\"a\":\"x\",\"b\":null,\"c\":\"z\"}\n",
        "{s:s, s:s?, s:s}", "a", "x", "b", (const char *)NULL, "c", "z");
    row("s i", NULL, "{s:s, s:i}", "url", "https://a:6443/x", "status", 503);
    row("i", NULL, "{s:i}", "fd", -3);
    row("s i i", NULL, "{s:s, s:i, s:i}", "kind", "x", "limit", 500, "got",
        250);
    row("s i i i", NULL, "{s:s, s:i, s:i, s:i}", "k", "v", "a", 1, "b", 2, "c",
        3);
    row("s i s I", NULL, "{s:s, s:i, s:s, s:I}", "a", "b", "c", 0, "d", "e",
        "f", (json_int_t)-12);
    row("s i s i", NULL, "{s:s, s:i, s:s, s:i}", "a", "b", "c", 1, "d", "e",
        "f", 2);
    row("I", NULL, "{s:I}", "bytes", (json_int_t)1 << 40);
    row("I I I", NULL, "{s:I, s:I, s:I}", "a", (json_int_t)1, "b",
        (json_int_t)-2, "c", (json_int_t)3);
    row("s I", NULL, "{s:s, s:I}", "a", "x", "n", (json_int_t)42);
    row("s I I", NULL, "{s:s, s:I, s:I}", "a", "x", "n", (json_int_t)4, "m",
        (json_int_t)5);
    row("s s I", NULL, "{s:s, s:s, s:I}", "a", "x", "b", "y", "n",
        (json_int_t)6);
    row("s s s I I I", NULL, "{s:s, s:s, s:s, s:I, s:I, s:I}", "a", "x", "b",
        "y", "c", "z", "n", (json_int_t)1, "m", (json_int_t)2, "o",
        (json_int_t)3);
    row("s f", NULL, "{s:s, s:f}", "a", "x", "secs", 1.5);
    row("i f f", NULL, "{s:i, s:f, s:f}", "n", 3, "a", 0.25, "b", 2.0);
    row("s s i f", NULL, "{s:s, s:s, s:i, s:f}", "a", "x", "b", "y", "n", 7,
        "f", 0.1);
    row("s s f f", NULL, "{s:s, s:s, s:f, s:f}", "uid", "u", "path", "/p",
        "latency", 10.000123, "timeout", 10.0);
    row("log_answer, denied",
        HEAD ",\"uid\":\"u-1\",\"kind\":\"VirtualMachineSnapshot\","
             "\"operation\":\"CREATE\",\"namespace\":\"default\","
             "\"name\":\"snap\",\"code\":422,\"path\":\"/validate\","
             "\"latency\":0.5,\"patched\":false}\n",
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:f, s:b, s:s*}", "uid", "u-1",
        "kind", "VirtualMachineSnapshot", "operation", "CREATE", "namespace",
        "default", "name", "snap", "code", 422, "path", "/validate", "latency",
        0.5, "patched", 0, "message", (const char *)NULL);
    row("log_answer, with message", NULL,
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:f, s:b, s:s*}", "uid", "u-1",
        "kind", "VirtualMachineRestore", "operation", "UPDATE", "namespace",
        "ns", "name", "r", "code", 200, "path", "/mutate", "latency",
        0.000123456, "patched", 1, "message", "spec.target: \"vm\" is gone");
}

/* The cases where jansson's rules decide the bytes. */
Test(kube_log, odd_cases)
{
    row("NULL s: no fields", HEAD "}\n", "{s:s, s:i}", "a", (const char *)NULL,
        "b", 1);
    row("NULL key: no fields", HEAD "}\n", "{s:s}", (const char *)NULL, "x");
    row("s* NULL is left out", HEAD ",\"b\":1}\n", "{s:s*, s:i}", "a",
        (const char *)NULL, "b", 1);
    row("s* set", HEAD ",\"a\":\"x\"}\n", "{s:s*}", "a", "x");
    row("bad UTF-8 value: no fields", HEAD "}\n", "{s:i, s:s}", "a", 1, "b",
        "\xff");
    row("bad UTF-8 in s?: no fields", HEAD "}\n", "{s:s?}", "a", "\xc0\xaf");
    row("bad UTF-8 in s*: no fields", HEAD "}\n", "{s:s*}", "a",
        "\xed\xa0\x80");
    row("bad UTF-8 key: no fields", HEAD "}\n", "{s:i}", "k\xff", 1);
    row("UTF-8 kept", NULL, "{s:s}", "caf\xc3\xa9",
        "\xe2\x82\xac \xf0\x9f\x98\x80");
    row("control characters and quotes", NULL, "{s:s, s:s}", "k\"e\\y\n",
        "\x01\x1f\b\f\n\r\t\"\\/\x7f", "b", "say \"hi\"");
    row("integers at the ends", NULL, "{s:I, s:I, s:i, s:i, s:I}", "max",
        (json_int_t)LLONG_MAX, "min", (json_int_t)LLONG_MIN, "imin",
        -2147483647 - 1, "zero", 0, "neg", (json_int_t)-1);
    row("reals", NULL, "{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "a", 0.1, "b",
        1e300, "c", 3.0, "d", -0.0, "e", 1e22, "f", 1e-7, "g", 5e-324);
    row("NaN: no fields", HEAD "}\n", "{s:s, s:f}", "a", "x", "b", NAN);
    row("infinity: no fields", HEAD "}\n", "{s:f}", "b", INFINITY);
    row("bools", HEAD ",\"t\":true,\"f\":false,\"seven\":true,\"neg\":true}\n",
        "{s:b, s:b, s:b, s:b}", "t", 1, "f", 0, "seven", 7, "neg", -1);
    row("a field named msg is dropped", HEAD ",\"a\":\"x\"}\n", "{s:s, s:s}",
        "msg", "other", "a", "x");
    row("ts and level too", HEAD "}\n", "{s:s, s:s}", "ts", "t", "level", "l");
    row("repeated key: first place, last value", HEAD ",\"a\":3,\"b\":2}\n",
        "{s:i, s:i, s:i}", "a", 1, "b", 2, "a", 3);
    row("repeated key, last left out by s*", HEAD ",\"a\":\"x\"}\n",
        "{s:s*, s:s*}", "a", "x", "a", (const char *)NULL);
    row("spacing as jansson reads it", HEAD ",\"a\":\"x\",\"b\":1}\n",
        " { s s * , s : i , } ", "a", "x", "b", 1);
    row("empty object", HEAD "}\n", "{}");
}

/* Formats the direct writer leaves to jansson: the same bytes anyway. */
Test(kube_log, formats_left_to_jansson)
{
    json_t *v = json_pack("{s:[i, i]}", "x", 1, 2);

    row("O", HEAD ",\"obj\":{\"x\":[1,2]}}\n", "{s:O}", "obj", v);
    json_decref(v);
    row("n", HEAD ",\"a\":null}\n", "{s:n}", "a");
    row("s#", HEAD ",\"abc\":1}\n", "{s#:i}", "abcdef", 3, 1);
    row("nested", NULL, "{s:{s:i}}", "a", "b", 1);
    row("i? is no format", HEAD "}\n", "{s:i?}", "a", 1);
    row("garbage after", HEAD "}\n", "{s:i} x", "a", 1);
    row("not an object", HEAD "}\n", "[i]", 1);
    row("17 pairs", NULL,
        "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
        "s:i, s:i, s:i, s:i}",
        "a", 1, "b", 2, "c", 3, "d", 4, "e", 5, "f", 6, "g", 7, "h", 8, "i", 9,
        "j", 10, "k", 11, "l", 12, "m", 13, "n", 14, "o", 15, "p", 16, "q", 17);
}

/* A line past any buffer of a few KiB, and a msg jansson refuses. */
Test(kube_log, long_lines_and_bad_msg)
{
    char *big = malloc(20001);

    cr_assert_not_null(big);
    for (int i = 0; i < 20000; i++)
        big[i] = (char)('a' + i % 26);
    big[20000] = '\0';
    big[100] = '"'; /* an escape in the middle */
    row("long value", NULL, "{s:s, s:s}", "big", big, "after", "x");
    free(big);
    row_at("bad UTF-8 msg: no line", "", KUBE_EINVAL, "\xff", NULL);
    row_at("NULL msg: no line", "", KUBE_EINVAL, NULL, "{s:i}", "a", 1);
}

/* The line jansson's path gives at TS, for comparing kube_log's output. */
static char *jansson_line(const char *msg, const char *fields, ...)
{
    struct kube_buf b;
    va_list ap;

    kube_buf_init(&b, 16, 1 << 20);
    va_start(ap, fields);
    cr_expect_eq(
        kube_log_format_jansson(&b, TS, KUBE_LOG_WARN, msg, fields, ap), 0);
    va_end(ap);
    return kube_buf_take(&b, NULL);
}

/* text with every ts value (24 characters after {"ts":") replaced by TS,
 * once checked to have RFC 3339's shape. */
static void mask_ts(char *text)
{
    static const char mark[] = "{\"ts\":\"";
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

    for (char *p = strstr(text, mark); p; p = strstr(p + 1, mark)) {
        char *ts = p + strlen(mark);

        for (size_t i = 0; i < strlen(shape); i++)
            cr_expect(shape[i] == 'd' ? ts[i] >= '0' && ts[i] <= '9'
                                      : ts[i] == shape[i],
                      "ts %.24s", ts);
        memcpy(ts, TS, strlen(shape));
    }
}

/* kube_log on a captured stderr: each line whole, in one write, with its
 * newline; the level filter; a line longer than its stack buffer. */
Test(kube_log, writes_lines_to_stderr)
{
    FILE *f = tmpfile();
    int saved = dup(STDERR_FILENO);
    char *big = malloc(5001), *got, *want, *w1, *w2, *w3;
    long n;

    cr_assert(f && saved >= 0 && big);
    memset(big, 'x', 5000);
    big[5000] = '\0';
    cr_assert_eq(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
    kube_log(KUBE_LOG_WARN, "m", "{s:s, s:i}", "a", "x", "b", 1);
    kube_log(KUBE_LOG_DEBUG, "not written: below info", NULL);
    kube_log(KUBE_LOG_WARN, "m", "{s:s, s:s}", "long", big, "a", "\n");
    kube_log(KUBE_LOG_WARN, "m", "{s:s}", "a", (const char *)NULL);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = ftell(f);
    cr_assert_gt(n, 0);
    got = calloc(1, (size_t)n + 1);
    rewind(f);
    cr_assert_eq(fread(got, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    mask_ts(got);
    w1 = jansson_line("m", "{s:s, s:i}", "a", "x", "b", 1);
    w2 = jansson_line("m", "{s:s, s:s}", "long", big, "a", "\n");
    w3 = jansson_line("m", "{s:s}", "a", (const char *)NULL);
    want = calloc(1, strlen(w1) + strlen(w2) + strlen(w3) + 1);
    memcpy(want, w1, strlen(w1));
    memcpy(want + strlen(w1), w2, strlen(w2));
    memcpy(want + strlen(w1) + strlen(w2), w3, strlen(w3));
    cr_expect_str_eq(got, want);
    free(want);
    free(w1);
    free(w2);
    free(w3);
    free(got);
    free(big);
}
