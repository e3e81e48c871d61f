/* tests/kube/duration.c - kube_duration against Go's time.ParseDuration
 * and Duration.String. Every expectation was produced by Go 1.19's time
 * package (whose ParseDuration, quote and String match current Go), with
 * Go's own test tables first. */
#include "kube/duration.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

struct parse_case {
    const char *name, *in;
    int64_t want;    /* nanoseconds; only when err is NULL */
    const char *err; /* Go's exact message; NULL when Go accepts the input */
    const char *str; /* Go's Duration.String() of want */
};

#define Z10 "0000000000"
#define Z100 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10

/* Parsed with bare_seconds = 0: exactly Go's time.ParseDuration. */
static const struct parse_case go_cases[] = {
    {"go simple 0", "0", 0, NULL, "0s"},
    {"go simple 5s", "5s", 5000000000, NULL, "5s"},
    {"go simple 30s", "30s", 30000000000, NULL, "30s"},
    {"go simple 1478s", "1478s", 1478000000000, NULL, "24m38s"},
    {"go sign minus", "-5s", -5000000000, NULL, "-5s"},
    {"go sign plus", "+5s", 5000000000, NULL, "5s"},
    {"go sign minus zero", "-0", 0, NULL, "0s"},
    {"go sign plus zero", "+0", 0, NULL, "0s"},
    {"go decimal 5.0s", "5.0s", 5000000000, NULL, "5s"},
    {"go decimal 5.6s", "5.6s", 5600000000, NULL, "5.6s"},
    {"go decimal no fraction digits", "5.s", 5000000000, NULL, "5s"},
    {"go decimal no integer digits", ".5s", 500000000, NULL, "500ms"},
    {"go decimal 1.0s", "1.0s", 1000000000, NULL, "1s"},
    {"go decimal 1.00s", "1.00s", 1000000000, NULL, "1s"},
    {"go decimal 1.004s", "1.004s", 1004000000, NULL, "1.004s"},
    {"go decimal 1.0040s", "1.0040s", 1004000000, NULL, "1.004s"},
    {"go decimal 100.00100s", "100.00100s", 100001000000, NULL, "1m40.001s"},
    {"go unit ns", "10ns", 10, NULL, "10ns"},
    {"go unit us", "11us", 11000, NULL, "11\xc2\xb5s"},
    {"go unit micro sign U+00B5", "12\xc2\xb5s", 12000, NULL, "12\xc2\xb5s"},
    {"go unit greek mu U+03BC", "12\xce\xbcs", 12000, NULL, "12\xc2\xb5s"},
    {"go unit ms", "13ms", 13000000, NULL, "13ms"},
    {"go unit s", "14s", 14000000000, NULL, "14s"},
    {"go unit m", "15m", 900000000000, NULL, "15m0s"},
    {"go unit h", "16h", 57600000000000, NULL, "16h0m0s"},
    {"go composite 3h30m", "3h30m", 12600000000000, NULL, "3h30m0s"},
    {"go composite out of order", "10.5s4m", 250500000000, NULL, "4m10.5s"},
    {"go composite negative", "-2m3.4s", -123400000000, NULL, "-2m3.4s"},
    {"go composite every unit", "1h2m3s4ms5us6ns", 3723004005006, NULL,
     "1h2m3.004005006s"},
    {"go composite 39h9m14.425s", "39h9m14.425s", 140954425000000, NULL,
     "39h9m14.425s"},
    {"go large value", "52763797000ns", 52763797000, NULL, "52.763797s"},
    {"go more than 9 fraction digits", "0.3333333333333333333h", 1200000000000,
     NULL, "20m0s"},
    {"go 2^53+1 is not a float64", "9007199254740993ns", 9007199254740993, NULL,
     "2501h59m59.254740993s"},
    {"go max int64 ns", "9223372036854775807ns", 9223372036854775807, NULL,
     "2562047h47m16.854775807s"},
    {"go max int64 us with fraction", "9223372036854775.807us",
     9223372036854775807, NULL, "2562047h47m16.854775807s"},
    {"go max int64 split", "9223372036s854ms775us807ns", 9223372036854775807,
     NULL, "2562047h47m16.854775807s"},
    {"go min int64 ns", "-9223372036854775808ns", INT64_MIN, NULL,
     "-2562047h47m16.854775808s"},
    {"go min int64 us with fraction", "-9223372036854775.808us", INT64_MIN,
     NULL, "-2562047h47m16.854775808s"},
    {"go min int64 split", "-9223372036s854ms775us808ns", INT64_MIN, NULL,
     "-2562047h47m16.854775808s"},
    {"go min int64 as String prints it", "-2562047h47m16.854775808s", INT64_MIN,
     NULL, "-2562047h47m16.854775808s"},
    {"go long fraction, issue 15011", "0.100000000000000000000h", 360000000000,
     NULL, "6m0s"},
    {"go first leadingFraction overflow check", "0.830103483285477580700h",
     2988372539827, NULL, "49m48.372539827s"},
    {"go err empty", "", 0, "time: invalid duration \"\"", NULL},
    {"go err number without unit", "3", 0,
     "time: missing unit in duration \"3\"", NULL},
    {"go err sign alone", "-", 0, "time: invalid duration \"-\"", NULL},
    {"go err unit alone", "s", 0, "time: invalid duration \"s\"", NULL},
    {"go err point alone", ".", 0, "time: invalid duration \".\"", NULL},
    {"go err sign and point", "-.", 0, "time: invalid duration \"-.\"", NULL},
    {"go err point and unit", ".s", 0, "time: invalid duration \".s\"", NULL},
    {"go err plus point unit", "+.s", 0, "time: invalid duration \"+.s\"",
     NULL},
    {"go err days are not a unit", "1d", 0,
     "time: unknown unit \"d\" in duration \"1d\"", NULL},
    {"go err bytes 0x85", "\x85\x85", 0,
     "time: invalid duration \"\\x85\\x85\"", NULL},
    {"go err byte 0xff then ff",
     "\xff"
     "ff",
     0, "time: invalid duration \"\\xffff\"", NULL},
    {"go err 0xff inside words",
     "hello \xff"
     "ff world",
     0, "time: invalid duration \"hello \\xffff world\"", NULL},
    {"go err U+FFFD", "\xef\xbf\xbd", 0,
     "time: invalid duration \"\\xef\\xbf\\xbd\"", NULL},
    {"go err U+FFFD inside words", "\xef\xbf\xbd hello \xef\xbf\xbd world", 0,
     "time: invalid duration \"\\xef\\xbf\\xbd hello \\xef\\xbf\\xbd world\"",
     NULL},
    {"go overflow 2^63+2 ns", "9223372036854775810ns", 0,
     "time: invalid duration \"9223372036854775810ns\"", NULL},
    {"go overflow 2^63 ns", "9223372036854775808ns", 0,
     "time: invalid duration \"9223372036854775808ns\"", NULL},
    {"go overflow -2^63-1 ns", "-9223372036854775809ns", 0,
     "time: invalid duration \"-9223372036854775809ns\"", NULL},
    {"go overflow us", "9223372036854776us", 0,
     "time: invalid duration \"9223372036854776us\"", NULL},
    {"go overflow hours", "3000000h", 0, "time: invalid duration \"3000000h\"",
     NULL},
    {"go overflow fraction to 2^63", "9223372036854775.808us", 0,
     "time: invalid duration \"9223372036854775.808us\"", NULL},
    {"go overflow split to 2^63", "9223372036854ms775us808ns", 0,
     "time: invalid duration \"9223372036854ms775us808ns\"", NULL},
    {"zero with unit", "0s", 0, NULL, "0s"},
    {"negative zero with unit", "-0s", 0, NULL, "0s"},
    {"zero with fraction", "0.0h", 0, NULL, "0s"},
    {"double zero needs a unit", "00", 0,
     "time: missing unit in duration \"00\"", NULL},
    {"leading zeros", "0000000000000000000000001ns", 1, NULL, "1ns"},
    {"one point", "1.", 0, "time: missing unit in duration \"1.\"", NULL},
    {"one point with unit", "1.s", 1000000000, NULL, "1s"},
    {"point five hours", ".5h", 1800000000000, NULL, "30m0s"},
    {"1.5h", "1.5h", 5400000000000, NULL, "1h30m0s"},
    {"1h30m", "1h30m", 5400000000000, NULL, "1h30m0s"},
    {"300ms", "300ms", 300000000, NULL, "300ms"},
    {"1.1h float step", "1.1h", 3960000000000, NULL, "1h6m0s"},
    {"fraction of a ns truncates", "1.9999999999ns", 1, NULL, "1ns"},
    {"half a ns is zero", ".5ns", 0, NULL, "0s"},
    {"tenth digit of s truncates", "0.0000000009s", 0, NULL, "0s"},
    {"ninth digit of s", "0.000000001s", 1, NULL, "1ns"},
    {"fraction of 400 zeros", "0." Z100 Z100 Z100 Z100 "1h", 0, NULL, "0s"},
    {"fraction past 19 digits", "1.12345678901234567890123s", 1123456789, NULL,
     "1.123456789s"},
    {"max int64 in hours", "2562047h47m16.854775807s", 9223372036854775807,
     NULL, "2562047h47m16.854775807s"},
    {"2^63 in hours", "2562047h47m16.854775808s", 0,
     "time: invalid duration \"2562047h47m16.854775808s\"", NULL},
    {"-2^63-1 in hours", "-2562047h47m16.854775809s", 0,
     "time: invalid duration \"-2562047h47m16.854775809s\"", NULL},
    {"hours overflow by one", "2562048h", 0,
     "time: invalid duration \"2562048h\"", NULL},
    {"fraction overflows inside a component", "9223372036854775.809us", 0,
     "time: invalid duration \"9223372036854775.809us\"", NULL},
    {"negative fraction overflow", "-9223372036854775.809us", 0,
     "time: invalid duration \"-9223372036854775.809us\"", NULL},
    {"sum reaches -2^63", "-9223372036854775807ns1ns", INT64_MIN, NULL,
     "-2562047h47m16.854775808s"},
    {"sum passes -2^63", "-9223372036854775808ns1ns", 0,
     "time: invalid duration \"-9223372036854775808ns1ns\"", NULL},
    {"sum wraps 2^64 to zero like Go",
     "9223372036854775808ns9223372036854775808ns", 0, NULL, "0s"},
    {"integer digits overflow", "99999999999999999999ns", 0,
     "time: invalid duration \"99999999999999999999ns\"", NULL},
    {"integer digits overflow before unit check", "99999999999999999999", 0,
     "time: invalid duration \"99999999999999999999\"", NULL},
    {"upper case unit", "1H", 0, "time: unknown unit \"H\" in duration \"1H\"",
     NULL},
    {"seconds spelled out", "1sec", 0,
     "time: unknown unit \"sec\" in duration \"1sec\"", NULL},
    {"exponent is a unit", "1e3s", 0,
     "time: unknown unit \"e\" in duration \"1e3s\"", NULL},
    {"trailing space is part of unit", "1h ", 0,
     "time: unknown unit \"h \" in duration \"1h \"", NULL},
    {"space before unit", "1 h", 0,
     "time: unknown unit \" h\" in duration \"1 h\"", NULL},
    {"leading space", " 1h", 0, "time: invalid duration \" 1h\"", NULL},
    {"sign inside", "1h-5m", 0,
     "time: unknown unit \"h-\" in duration \"1h-5m\"", NULL},
    {"sign after first component", "1h+5m", 0,
     "time: unknown unit \"h+\" in duration \"1h+5m\"", NULL},
    {"double sign", "--5s", 0, "time: invalid duration \"--5s\"", NULL},
    {"plus minus", "+-5s", 0, "time: invalid duration \"+-5s\"", NULL},
    {"second point", "1.5.5s", 0, "time: missing unit in duration \"1.5.5s\"",
     NULL},
    {"two points", "1..5s", 0, "time: missing unit in duration \"1..5s\"",
     NULL},
    {"trailing number", "1s2", 0, "time: missing unit in duration \"1s2\"",
     NULL},
    {"trailing point", "1s.", 0, "time: invalid duration \"1s.\"", NULL},
    {"negative bare number", "-5", 0, "time: missing unit in duration \"-5\"",
     NULL},
    {"quote in unit", "1\"s", 0,
     "time: unknown unit \"\\\"s\" in duration \"1\\\"s\"", NULL},
    {"backslash in unit", "1\\s", 0,
     "time: unknown unit \"\\\\s\" in duration \"1\\\\s\"", NULL},
    {"control byte in unit", "1\x01s", 0,
     "time: unknown unit \"\\x01s\" in duration \"1\\x01s\"", NULL},
    {"DEL is printed raw", "1\x7fs", 0,
     "time: unknown unit \"\x7fs\" in duration \"1\x7fs\"", NULL},
    {"tab in unit", "1\ts", 0,
     "time: unknown unit \"\\x09s\" in duration \"1\\x09s\"", NULL},
    {"lone second byte of micro", "1\xb5s", 0,
     "time: unknown unit \"\\xb5s\" in duration \"1\\xb5s\"", NULL},
    {"lone first byte of micro", "1\xc2s", 0,
     "time: unknown unit \"\\xc2s\" in duration \"1\\xc2s\"", NULL},
    {"micro without s", "1\xc2\xb5", 0,
     "time: unknown unit \"\\xc2\\xb5\" in duration \"1\\xc2\\xb5\"", NULL},
    {"unit before number", "h1", 0, "time: invalid duration \"h1\"", NULL},
    {"ms with fraction", "1.5ms", 1500000, NULL, "1.5ms"},
    {"mixed micro signs", "1\xc2\xb5s1\xce\xbcs1us", 3000, NULL, "3\xc2\xb5s"},
    {"float step order, hours", "0.43731874h", 1574347464000, NULL,
     "26m14.347464s"},
    {"float step order, minutes", "0.490072303m", 29404338180, NULL,
     "29.40433818s"},
    {"fraction overflow caught before the sum wraps",
     "-9223372036854775808ns9223372036854775.809us", 0,
     "time: invalid duration \"-9223372036854775808ns9223372036854775.809us\"",
     NULL},
};

/* Parsed with bare_seconds = 1: an unsigned plain number is seconds, as if
 * it ended in "s"; its overflow is Go's invalid duration; anything else is
 * left to Go's rules. */
static const struct parse_case bare_cases[] = {
    {"bare integer is seconds", "300", 300000000000, NULL, "5m0s"},
    {"bare fraction is seconds", "1.5", 1500000000, NULL, "1.5s"},
    {"bare 90", "90", 90000000000, NULL, "1m30s"},
    {"bare point five", ".5", 500000000, NULL, "500ms"},
    {"bare one point", "1.", 1000000000, NULL, "1s"},
    {"bare zero", "0", 0, NULL, "0s"},
    {"bare double zero", "00", 0, NULL, "0s"},
    {"bare zero fraction", "0.0", 0, NULL, "0s"},
    {"bare nanosecond", "0.000000001", 1, NULL, "1ns"},
    {"bare below a nanosecond", "0.0000000001", 0, NULL, "0s"},
    {"bare max int64", "9223372036.854775807", 9223372036854775807, NULL,
     "2562047h47m16.854775807s"},
    {"bare 2^63 overflows", "9223372036.854775808", 0,
     "time: invalid duration \"9223372036.854775808\"", NULL},
    {"bare seconds overflow", "9223372037", 0,
     "time: invalid duration \"9223372037\"", NULL},
    {"bare digits overflow", "99999999999999999999", 0,
     "time: invalid duration \"99999999999999999999\"", NULL},
    {"bare negative keeps Go error", "-5", 0,
     "time: missing unit in duration \"-5\"", NULL},
    {"bare plus keeps Go error", "+5", 0,
     "time: missing unit in duration \"+5\"", NULL},
    {"bare minus zero is Go's zero", "-0", 0, NULL, "0s"},
    {"bare point alone", ".", 0, "time: invalid duration \".\"", NULL},
    {"bare empty", "", 0, "time: invalid duration \"\"", NULL},
    {"bare with unit", "5m", 300000000000, NULL, "5m0s"},
    {"bare trailing number after unit", "1h30", 0,
     "time: missing unit in duration \"1h30\"", NULL},
    {"bare exponent", "1e3", 0, "time: unknown unit \"e\" in duration \"1e3\"",
     NULL},
    {"bare second point", "1.5.5", 0,
     "time: missing unit in duration \"1.5.5\"", NULL},
    {"bare number then point component", "1.5.5s", 0,
     "time: missing unit in duration \"1.5.5s\"", NULL},
    {"bare number then two points", "1..5s", 0,
     "time: missing unit in duration \"1..5s\"", NULL},
    {"bare trailing space", "5 ", 0,
     "time: unknown unit \" \" in duration \"5 \"", NULL},
    {"bare leading space", " 5", 0, "time: invalid duration \" 5\"", NULL},
    {"bare composite still works", "1h30m", 5400000000000, NULL, "1h30m0s"},
};

/* Go's Duration.String() of values picked for each branch of it. */
static const struct {
    const char *name;
    int64_t d;
    const char *str;
} format_cases[] = {
    {"zero", 0, "0s"},
    {"one ns", 1, "1ns"},
    {"minus one ns", -1, "-1ns"},
    {"999 ns", 999, "999ns"},
    {"one us", 1000, "1\xc2\xb5s"},
    {"1.1 us", 1100, "1.1\xc2\xb5s"},
    {"999.999 us", 999999, "999.999\xc2\xb5s"},
    {"one ms", 1000000, "1ms"},
    {"2.2 ms", 2200000, "2.2ms"},
    {"just under a second", 999999999, "999.999999ms"},
    {"one second", 1000000000, "1s"},
    {"1.5 s", 1500000000, "1.5s"},
    {"300 ms", 300000000, "300ms"},
    {"5 m", 300000000000, "5m0s"},
    {"90 m", 5400000000000, "1h30m0s"},
    {"-2m3.5s", -123500000000, "-2m3.5s"},
    {"8m plus one ns", 480000000001, "8m0.000000001s"},
    {"one hour", 3600000000000, "1h0m0s"},
    {"hour plus one ns", 3600000000001, "1h0m0.000000001s"},
    {"max int64", 9223372036854775807, "2562047h47m16.854775807s"},
    {"min int64", INT64_MIN, "-2562047h47m16.854775808s"},
    {"min int64 plus one", -9223372036854775807, "-2562047h47m16.854775807s"},
    {"minus 100 ns", -100, "-100ns"},
    {"minus 1.5 us", -1500, "-1.5\xc2\xb5s"},
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static void check_parse(const struct parse_case *c, int bare)
{
    struct kube_err err = {0};
    int64_t got = 42;
    int rc = kube_duration_parse(&got, c->in, bare, &err);

    if (!c->err) {
        cr_expect_eq(rc, KUBE_OK, "%s: rc %d (%s)", c->name, rc, err.msg);
        cr_expect_eq(got, c->want, "%s: got %lld want %lld", c->name,
                     (long long)got, (long long)c->want);
        return;
    }
    cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", c->name, rc);
    cr_expect_eq(err.code, KUBE_EINVAL, "%s: err.code %d", c->name, err.code);
    cr_expect_str_eq(err.msg, c->err, "%s", c->name);
    cr_expect_eq(got, 42, "%s: *out changed on failure", c->name);
}

Test(kube_duration, parse_like_go)
{
    for (size_t i = 0; i < LEN(go_cases); i++)
        check_parse(&go_cases[i], 0);
}

Test(kube_duration, parse_bare_seconds)
{
    for (size_t i = 0; i < LEN(bare_cases); i++)
        check_parse(&bare_cases[i], 1);
}

/* bare_seconds may only turn Go's "missing unit" into seconds: every other
 * answer, value or message, stays Go's. */
Test(kube_duration, bare_seconds_changes_only_missing_unit)
{
    static const char missing[] = "time: missing unit";

    for (size_t i = 0; i < LEN(go_cases); i++) {
        if (go_cases[i].err &&
            !strncmp(go_cases[i].err, missing, sizeof(missing) - 1))
            continue;
        check_parse(&go_cases[i], 1);
    }
}

static void check_format(const char *name, int64_t d, const char *want)
{
    char buf[32];
    size_t n;

    memset(buf, 'X', sizeof(buf));
    n = kube_duration_format(buf, sizeof(buf), d);
    cr_expect_str_eq(buf, want, "%s: %lld", name, (long long)d);
    cr_expect_eq(n, strlen(want), "%s: returned %zu", name, n);
}

/* Each value a row parses to formats as Go prints it, and that text
 * parses back to the same value. */
Test(kube_duration, format_parsed_values)
{
    const struct parse_case *tabs[] = {go_cases, bare_cases};
    size_t lens[] = {LEN(go_cases), LEN(bare_cases)};

    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; i < lens[t]; i++) {
            const struct parse_case *c = &tabs[t][i];
            int64_t back = 42;

            if (c->err)
                continue;
            check_format(c->name, c->want, c->str);
            cr_expect_eq(kube_duration_parse(&back, c->str, 0, NULL), KUBE_OK,
                         "%s: %s does not parse", c->name, c->str);
            cr_expect_eq(back, c->want, "%s: round trip", c->name);
        }
    }
}

Test(kube_duration, format_like_go)
{
    char neg[40];

    for (size_t i = 0; i < LEN(format_cases); i++) {
        check_format(format_cases[i].name, format_cases[i].d,
                     format_cases[i].str);
        if (format_cases[i].d <= 0)
            continue;
        /* Go's TestDurationString: -d prints as "-" then d */
        snprintf(neg, sizeof(neg), "-%s", format_cases[i].str);
        check_format(format_cases[i].name, -format_cases[i].d, neg);
    }
}

/* A short buffer gets a NUL-terminated prefix, never half a micro sign. */
Test(kube_duration, format_truncates)
{
    static const struct {
        size_t len;
        int64_t d;
        const char *want;
    } cases[] = {
        {1, 1500000000, ""},
        {2, 1500000000, "1"},
        {4, 1500000000, "1.5"},
        {5, 1500000000, "1.5s"},
        {2, 1000, "1"},
        {3, 1000, "1"}, /* "1\xc2" would split U+00B5 */
        {4, 1000, "1\xc2\xb5"},
        {5, 1000, "1\xc2\xb5s"},
        {25, INT64_MIN, "-2562047h47m16.854775808"},
        {26, INT64_MIN, "-2562047h47m16.854775808s"},
    };
    char buf[32];

    for (size_t i = 0; i < LEN(cases); i++) {
        size_t n;

        memset(buf, 'X', sizeof(buf));
        n = kube_duration_format(buf, cases[i].len, cases[i].d);
        cr_expect_str_eq(buf, cases[i].want, "row %zu", i);
        cr_expect_eq(n, strlen(cases[i].want), "row %zu: returned %zu", i, n);
        cr_expect_eq(buf[cases[i].len], 'X', "row %zu: wrote past len", i);
    }
    memset(buf, 'X', sizeof(buf));
    cr_expect_eq(kube_duration_format(buf, 0, 1), 0);
    cr_expect_eq(buf[0], 'X', "len 0 must not write");
}

Test(kube_duration, parse_without_err)
{
    int64_t got = 42;

    cr_expect_eq(kube_duration_parse(&got, "1d", 0, NULL), KUBE_EINVAL);
    cr_expect_eq(got, 42);
    cr_expect_eq(kube_duration_parse(&got, "90", 1, NULL), KUBE_OK);
    cr_expect_eq(got, 90000000000);
}

/* A message longer than kube_err holds is the start of Go's message, even
 * when the cut falls inside an escape. */
Test(kube_duration, long_input_message_is_goes_prefix)
{
    char in[101], want[512];
    struct kube_err err = {0};
    int64_t got;
    size_t n;

    memset(in, '\x01', 100);
    in[100] = '\0';
    n = (size_t)snprintf(want, sizeof(want), "time: invalid duration \"");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(want + n, sizeof(want) - n, "\\x01");
    snprintf(want + n, sizeof(want) - n, "\"");
    want[KUBE_ERR_MSG - 1] = '\0';

    cr_assert_eq(kube_duration_parse(&got, in, 0, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, want);
    cr_expect_eq(strlen(err.msg), (size_t)KUBE_ERR_MSG - 1);
}

/* The unit is quoted on its own, before the input: a long unknown unit
 * still names itself first. */
Test(kube_duration, long_unknown_unit)
{
    char in[302], want[KUBE_ERR_MSG];
    struct kube_err err = {0};
    int64_t got;

    in[0] = '1';
    memset(in + 1, 'd', 300);
    in[301] = '\0';
    snprintf(want, sizeof(want), "time: unknown unit \"%s\" in duration \"%s\"",
             in + 1, in); /* cut like kube_err_set cuts */

    cr_assert_eq(kube_duration_parse(&got, in, 0, &err), KUBE_EINVAL);
    cr_expect_str_eq(err.msg, want);
}
