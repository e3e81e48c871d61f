/* cmd/flags.c - the flag table parser every verb uses (see the header). */
#include "cmd/flags.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/duration.h"
#include "kube/log.h"

#define MAX_FLAGS 48
#define FLAG_BASE 256 /* getopt_long values above any character */

int cmd_flags_error(const char *verb, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "vmsnapd %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see vmsnapd %s --help)\n", verb);
    return CMD_FLAGS_BAD;
}

int cmd_flags_push(struct cmd_flag_list *l, const char *verb, const char *flag,
                   const char *arg)
{
    if (l->n >= CMD_FLAG_LIST_MAX)
        return cmd_flags_error(verb, "more than %d --%s flags",
                               CMD_FLAG_LIST_MAX, flag);
    l->v[l->n++] = arg;
    return CMD_FLAGS_OK;
}

/* A whole decimal number in [min, max]; 0 or -1. */
static int parse_long(long *out, const char *s, long min, long max)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "a, b or c" from a NULL-terminated list. */
static void choices_text(char *buf, size_t len, const char *const *c)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; c[i] && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s",
                         !i         ? ""
                         : c[i + 1] ? ", "
                                    : " or ",
                         c[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static int store_choice(const struct cmd_flag *f, const char *shown,
                        const char *v, const char *verb)
{
    char list[256];

    for (int i = 0; f->choices[i]; i++)
        if (strcmp(f->choices[i], v) == 0) {
            *(int *)f->dst = i;
            return CMD_FLAGS_OK;
        }
    choices_text(list, sizeof(list), f->choices);
    return cmd_flags_error(verb, "%s takes %s, not \"%s\"", shown, list, v);
}

/* Stores optarg per f's kind; shown is the flag as the user wrote it. */
static int store(const struct cmd_flag *f, const char *shown, const char *v,
                 const char *verb)
{
    struct kube_err err = {0, ""};
    unsigned long u;
    long l;
    int lvl;

    switch (f->kind) {
    case CMD_FLAG_STR:
        *(const char **)f->dst = v;
        return CMD_FLAGS_OK;
    case CMD_FLAG_SWITCH:
        *(int *)f->dst = 1;
        return CMD_FLAGS_OK;
    case CMD_FLAG_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return cmd_flags_error(verb, "%s takes true or false, not \"%s\"",
                                   shown, v);
        *(int *)f->dst = v[0] == 't';
        return CMD_FLAGS_OK;
    case CMD_FLAG_UINT:
        if (v[0] == '-' || parse_long(&l, v, 0, LONG_MAX) < 0 ||
            (u = (unsigned long)l) > (unsigned long)f->max)
            return cmd_flags_error(verb,
                                   "%s takes a number up to %ld, not "
                                   "\"%s\"",
                                   shown, f->max, v);
        *(unsigned long *)f->dst = u;
        return CMD_FLAGS_OK;
    case CMD_FLAG_LONG:
        if (parse_long(&l, v, f->min, f->max) < 0)
            return cmd_flags_error(verb,
                                   "%s must be a whole number from %ld "
                                   "to %ld, not \"%s\"",
                                   shown, f->min, f->max, v);
        *(long *)f->dst = l;
        return CMD_FLAGS_OK;
    case CMD_FLAG_DURATION:
        if (kube_duration_parse(f->dst, v, 1, &err) < 0)
            return cmd_flags_error(verb, "%s: %s", shown, err.msg);
        if (*(int64_t *)f->dst < 0)
            return cmd_flags_error(verb, "%s: must not be negative", shown);
        return CMD_FLAGS_OK;
    case CMD_FLAG_CHOICE:
        return store_choice(f, shown, v, verb);
    case CMD_FLAG_LEVEL:
        lvl = kube_log_parse_level(v);
        if (lvl < 0)
            return cmd_flags_error(verb,
                                   "%s takes debug, info, warn or "
                                   "error, not \"%s\"",
                                   shown, v);
        kube_log_set_level((enum kube_log_level)lvl);
        return CMD_FLAGS_OK;
    case CMD_FLAG_LIST:
        return cmd_flags_push(f->dst, verb, f->name, v);
    }
    return CMD_FLAGS_BAD;
}

/* getopt's short option string: ":h" and each row's short name. */
static void short_opts(char *buf, size_t len, const struct cmd_flag *flags,
                       size_t n)
{
    size_t o = 0;

    buf[o++] = ':'; /* a missing value comes back as ':' */
    buf[o++] = 'h';
    for (size_t i = 0; i < n && o + 3 < len; i++) {
        if (!flags[i].short_name)
            continue;
        buf[o++] = flags[i].short_name;
        if (flags[i].kind != CMD_FLAG_SWITCH)
            buf[o++] = ':';
    }
    buf[o] = '\0';
}

/* The row a getopt_long value stands for, or NULL; *shown how it was
 * written ("--name" or "-x"). */
static const struct cmd_flag *row_of(int c, const struct cmd_flag *flags,
                                     size_t n, char *shown, size_t len)
{
    if (c >= FLAG_BASE && (size_t)(c - FLAG_BASE) < n) {
        snprintf(shown, len, "--%s", flags[c - FLAG_BASE].name);
        return &flags[c - FLAG_BASE];
    }
    for (size_t i = 0; i < n; i++)
        if (flags[i].short_name && flags[i].short_name == c) {
            snprintf(shown, len, "-%c", c);
            return &flags[i];
        }
    return NULL;
}

/* A getopt_long failure as one line: CMD_FLAGS_BAD. */
static int bad_flag(int c, char **argv, const char *verb)
{
    const char *arg = argv[optind - 1];

    if (c == ':')
        return cmd_flags_error(verb, "flag %s needs a value", arg);
    if (optopt && optopt < FLAG_BASE)
        return cmd_flags_error(verb, "unknown flag -%c", optopt);
    return cmd_flags_error(verb, "unknown flag %s", arg);
}

int cmd_flags_parse(int *first, int argc, char **argv, const char *verb,
                    const char *usage, const struct cmd_flag *flags, size_t n)
{
    struct option opts[MAX_FLAGS + 2];
    char shorts[2 * MAX_FLAGS + 3], shown[64];
    int c;

    assert(n <= MAX_FLAGS);
    for (size_t i = 0; i < n; i++)
        opts[i] = (struct option){
            flags[i].name,
            flags[i].kind == CMD_FLAG_SWITCH ? no_argument : required_argument,
            NULL, FLAG_BASE + (int)i};
    opts[n] = (struct option){"help", no_argument, NULL, 'h'};
    opts[n + 1] = (struct option){NULL, 0, NULL, 0};
    short_opts(shorts, sizeof(shorts), flags, n);
    /* getopt keeps its state in globals; glibc needs 0 to reset fully */
#ifdef __GLIBC__
    optind = 0;
#else
    optind = 1;
#endif
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        const struct cmd_flag *f = row_of(c, flags, n, shown, sizeof(shown));

        if (c == 'h') {
            fputs(usage, stdout);
            return CMD_FLAGS_HELP;
        }
        if (!f)
            return bad_flag(c, argv, verb);
        if (store(f, shown, optarg, verb) < 0)
            return CMD_FLAGS_BAD;
    }
    *first = optind;
    return CMD_FLAGS_OK;
}
