/* kube/log.c - JSON-lines logging built with jansson (no hand escaping). */
#include "kube/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kube/client_time.h"
#include "kube/json.h"

static enum kube_log_level min_level = KUBE_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

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

void kube_log(enum kube_log_level level, const char *msg, const char *fields,
              ...)
{
    char ts[64];
    json_t *line = NULL, *extra = NULL;
    char *text = NULL;
    size_t n = 0;
    va_list ap;

    if (!kube_log_enabled(level))
        return;
    if (fields) {
        va_start(ap, fields);
        extra = json_vpack_ex(NULL, 0, fields, ap);
        va_end(ap);
    }
    kube_time_rfc3339(ts, sizeof(ts), 3);
    line = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level_names[level],
                     "msg", msg);
    if (!line)
        goto done;
    if (extra)
        json_object_update_missing(line, extra);
    text = kube_json_dump(line, JSON_COMPACT | JSON_PRESERVE_ORDER, &n);
    if (text) {
        text[n] = '\n'; /* replaces the NUL: one write for the whole line */
        if (write(STDERR_FILENO, text, n + 1) < 0) {
            /* nowhere left to report a failed log write */
        }
    }
done:
    free(text);
    json_decref(extra);
    json_decref(line);
}
