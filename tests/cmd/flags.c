/* tests/cmd/flags.c - suite cmd_flags: the one flag parser of every verb:
 * each kind stores what it should, and bad input is refused. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "cmd/flags.h"

struct vals {
    const char *str;
    int sw, b, choice;
    unsigned long u;
    long days;
    int64_t dur;
    struct cmd_flag_list list;
};

static int parse(struct vals *v, int *first, const char *const *args)
{
    static const char *const choices[] = {"text", "json", NULL};
    const struct cmd_flag flags[] = {
        {.name = "str", .kind = CMD_FLAG_STR, .dst = &v->str},
        {.name = "sw", .kind = CMD_FLAG_SWITCH, .dst = &v->sw},
        {.name = "b", .kind = CMD_FLAG_BOOL, .dst = &v->b},
        {.name = "u", .kind = CMD_FLAG_UINT, .dst = &v->u, .max = 64},
        {.name = "days", .kind = CMD_FLAG_LONG, .dst = &v->days, .min = 1,
         .max = 10},
        {.name = "dur", .kind = CMD_FLAG_DURATION, .dst = &v->dur},
        {.name = "output", .kind = CMD_FLAG_CHOICE, .dst = &v->choice,
         .choices = choices, .short_name = 'o'},
        {.name = "dns", .kind = CMD_FLAG_LIST, .dst = &v->list},
    };
    char *argv[32];
    int argc = 0;

    argv[argc++] = (char *)"test";
    while (*args)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    memset(v, 0, sizeof(*v));
    return cmd_flags_parse(first, argc, argv, "test", "usage: test\n", flags,
                           sizeof(flags) / sizeof(flags[0]));
}

Test(cmd_flags, every_kind_stores)
{
    static const char *const args[] = {
        "--str", "x", "--sw", "--b", "true", "--u=64", "--days", "10",
        "--dur", "1m30s", "-o", "json", "--dns", "a", "--dns", "b", "rest",
        NULL};
    struct vals v;
    int first = 0;

    cr_assert_eq(parse(&v, &first, args), CMD_FLAGS_OK);
    cr_expect_str_eq(v.str, "x");
    cr_expect_eq(v.sw, 1);
    cr_expect_eq(v.b, 1);
    cr_expect_eq(v.u, 64);
    cr_expect_eq(v.days, 10);
    cr_expect_eq(v.dur, 90000000000LL);
    cr_expect_eq(v.choice, 1);
    cr_expect_eq(v.list.n, 2);
    cr_expect_str_eq(v.list.v[1], "b");
    cr_expect_eq(first, 17);
}

static const struct {
    const char *name;
    const char *args[4];
    int rc;
} rows[] = {
    {"help", {"--help"}, CMD_FLAGS_HELP},
    {"-h", {"-h"}, CMD_FLAGS_HELP},
    {"unknown long", {"--nope"}, CMD_FLAGS_BAD},
    {"unknown short", {"-x"}, CMD_FLAGS_BAD},
    {"missing value", {"--str"}, CMD_FLAGS_BAD},
    {"switch takes no value", {"--sw=1"}, CMD_FLAGS_BAD},
    {"bool word", {"--b", "yes"}, CMD_FLAGS_BAD},
    {"uint over max", {"--u", "65"}, CMD_FLAGS_BAD},
    {"uint negative", {"--u", "-1"}, CMD_FLAGS_BAD},
    {"days under min", {"--days", "0"}, CMD_FLAGS_BAD},
    {"days not a number", {"--days", "3d"}, CMD_FLAGS_BAD},
    {"negative duration", {"--dur", "-1s"}, CMD_FLAGS_BAD},
    {"bad duration", {"--dur", "1d"}, CMD_FLAGS_BAD},
    {"choice not listed", {"-o", "xml"}, CMD_FLAGS_BAD},
    {"positional only", {"a", "b"}, CMD_FLAGS_OK},
};

Test(cmd_flags, refusals_table)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct vals v;
        int first = 0;
        int rc = parse(&v, &first, rows[i].args);

        cr_expect_eq(rc, rows[i].rc, "%s: rc %d", rows[i].name, rc);
    }
}
