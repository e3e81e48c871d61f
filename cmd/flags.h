/* cmd/flags.h - one way every verb reads its flags: a table with a row per
 * flag (name, kind, where the value goes) parsed by getopt_long, --help
 * and -h printing the verb's usage, and one-line errors that name the verb
 * and the flag: "vmsnapd certs create: flag --days needs a value (see
 * vmsnapd certs create --help)". Only cmd/ prints, so this lives here. */
#ifndef VMSNAPD_CMD_FLAGS_H
#define VMSNAPD_CMD_FLAGS_H

#include <stddef.h>

#include "kube/errors.h"

#define CMD_FLAG_LIST_MAX 64 /* repeats of one flag; more is a mistake */

/* How a flag's value is stored; dst's type is given for each. */
enum cmd_flag_kind {
    CMD_FLAG_STR,      /* const char **: the value, borrowed from argv */
    CMD_FLAG_SWITCH,   /* int *: set to 1; takes no value */
    CMD_FLAG_BOOL,     /* int *: "true" or "false" */
    CMD_FLAG_UINT,     /* unsigned long *: 0 to max */
    CMD_FLAG_LONG,     /* long *: min to max */
    CMD_FLAG_DURATION, /* int64_t * ns: a Go duration or seconds, >= 0 */
    CMD_FLAG_CHOICE,   /* int *: the index of the value in choices */
    CMD_FLAG_LEVEL,    /* none: sets the log level at once */
    CMD_FLAG_LIST,     /* struct cmd_flag_list *: appended; repeatable */
};

/* A repeatable flag's values, borrowed from argv. */
struct cmd_flag_list {
    const char *v[CMD_FLAG_LIST_MAX];
    size_t n;
};

struct cmd_flag {
    const char *name; /* without the "--" */
    enum cmd_flag_kind kind;
    void *dst;
    long min, max;              /* CMD_FLAG_LONG; max also CMD_FLAG_UINT */
    const char *const *choices; /* CMD_FLAG_CHOICE: NULL-terminated */
    char short_name;            /* e.g. 'o' for -o, or 0 */
};

enum {
    CMD_FLAGS_OK = 0,   /* parsed: go on */
    CMD_FLAGS_HELP = 1, /* usage printed on stdout: exit 0 */
    CMD_FLAGS_BAD = -1, /* one line printed on stderr: exit 2 */
};

/* Parses argv (argv[0] is the verb, e.g. "create" of "certs create", and
 * verb its full name) against the n rows of flags, plus --help/-h. On
 * CMD_FLAGS_OK *first is the index of the first positional argument.
 * Can run many times in one process (the unit tests do). */
int cmd_flags_parse(int *first, int argc, char **argv, const char *verb,
                    const char *usage, const struct cmd_flag *flags, size_t n);

/* Prints "vmsnapd VERB: MESSAGE (see vmsnapd VERB --help)" on stderr and
 * returns CMD_FLAGS_BAD: for what the rows cannot check alone. */
int cmd_flags_error(const char *verb, const char *fmt, ...) KUBE_PRINTF(2, 3);

/* Appends arg to l; CMD_FLAGS_BAD (said on stderr) when it is full. */
int cmd_flags_push(struct cmd_flag_list *l, const char *verb, const char *flag,
                   const char *arg);

#endif
