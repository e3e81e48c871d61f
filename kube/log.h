/* kube/log.h - JSON-lines logging on stderr: ts, level, msg and fields.
 * msg is a fixed phrase; whatever varies goes in fields. */
#ifndef VMSNAPD_KUBE_LOG_H
#define VMSNAPD_KUBE_LOG_H

#include <stdarg.h>

#include "kube/buf.h"

enum kube_log_level {
    KUBE_LOG_DEBUG = 0,
    KUBE_LOG_INFO,
    KUBE_LOG_WARN,
    KUBE_LOG_ERROR,
};

/* Sets the lowest level written (default info). Call before threads start. */
void kube_log_set_level(enum kube_log_level level);

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int kube_log_parse_level(const char *s);

/* Returns non-zero when level would be written; lets callers skip work. */
int kube_log_enabled(enum kube_log_level level);

/* Writes one line. fields is a json_pack format for an object ("{s:s}")
 * or NULL. One write(2) per line, so lines from threads never interleave.
 * Never fails visibly: a line that cannot be built is dropped. */
void kube_log(enum kube_log_level level, const char *msg, const char *fields,
              ...);

/* Replaces b's contents with the line kube_log writes, '\n' included,
 * with ts as its time (kube_log passes the clock's; tests pass their
 * own). The flat formats of the code base ("{s:s, s:s?, s:s*, s:i, s:I,
 * s:f, s:b}", distinct keys other than ts, level, msg) are written
 * directly; any other goes through kube_log_format_jansson, so the bytes
 * are the same either way. Fields jansson could not pack (a NULL "s"
 * string, text that is not UTF-8, a real that is not finite) leave the
 * line without fields, as json_vpack_ex's failure always did. Returns 0,
 * KUBE_EINVAL when there is no line (msg or ts NULL or not UTF-8), or b's
 * failure; b is empty then. Thread-safe. */
int kube_log_format(struct kube_buf *b, const char *ts,
                    enum kube_log_level level, const char *msg,
                    const char *fields, va_list ap);

/* kube_log_format by way of a jansson tree (json_vpack_ex, then
 * json_object_update_missing into {ts, level, msg}, dumped compact): once
 * the path of every line, kept for the formats the direct writer leaves
 * alone and for tests, which hold the direct writer to its bytes. Same
 * returns. Thread-safe. */
int kube_log_format_jansson(struct kube_buf *b, const char *ts,
                            enum kube_log_level level, const char *msg,
                            const char *fields, va_list ap);

#endif
