/* kube/errors.h - the error codes every vmsnapd module returns, and the
 * small struct that carries a message a person will read. */
#ifndef VMSNAPD_KUBE_ERRORS_H
#define VMSNAPD_KUBE_ERRORS_H

#define KUBE_MUST_CHECK __attribute__((warn_unused_result))
#define KUBE_PRINTF(f, a) __attribute__((format(printf, f, a)))

enum {
    KUBE_OK = 0,
    KUBE_ERR = -1,       /* unexpected */
    KUBE_ENOMEM = -2,    /* allocation failed */
    KUBE_EINVAL = -3,    /* input we refuse */
    KUBE_ENOTFOUND = -4, /* 404, not in store */
    KUBE_ECONFLICT = -5, /* 409: re-read, retry */
    KUBE_EGONE = -6,     /* 410: relist */
    KUBE_ETOOBIG = -7,   /* over a size ceiling (413) */
    KUBE_EUNAVAIL = -8,  /* state we need but cannot read (503) */
};

#define KUBE_ERR_MSG 256

struct kube_err {
    int code;
    char msg[KUBE_ERR_MSG];
};

/* Fills err (when not NULL) with code and a printf-style message, cut to
 * fit. Returns code, so callers write `return kube_err_set(...)`. */
int kube_err_set(struct kube_err *err, int code, const char *fmt, ...)
    KUBE_PRINTF(3, 4);

/* A short name for a code ("not found", ...). Never NULL. */
const char *kube_strerror(int code);

#endif
