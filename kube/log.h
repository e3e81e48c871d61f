/* kube/log.h - JSON-lines logging on stderr: ts, level, msg and fields.
 * msg is a fixed phrase; whatever varies goes in fields. */
#ifndef VMSNAPD_KUBE_LOG_H
#define VMSNAPD_KUBE_LOG_H

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

#endif
