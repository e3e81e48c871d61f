/* cmd/live.h - the state door's live reads (webhook/state.h,
 * wh_state_get_confirmed): GETs of one object on threads of their own, so
 * a slow API server holds a review's server thread for at most a short
 * wait, never for the whole GET. Bounded in number (over the bound a read
 * is refused at once) and shared: concurrent reads of one object send one
 * GET, and its answer (the object or a 404, not a failure) serves later
 * reads for a moment (keep_ms). */
#ifndef VMSNAPD_CMD_LIVE_H
#define VMSNAPD_CMD_LIVE_H

#include <jansson.h>

#include "kube/client.h"
#include "kube/errors.h"

struct cmd_live_opts {
    long get_ms;  /* timeout of one GET */
    long wait_ms; /* how long a reader waits for the answer */
    long keep_ms; /* how long a finished answer serves new readers */
    int max;      /* GETs in flight at most */
};

struct cmd_live_stats {
    unsigned long sent;    /* GETs sent */
    unsigned long shared;  /* reads answered by a GET another one started */
    unsigned long refused; /* reads refused: max GETs in flight */
    unsigned long late;    /* reads that stopped waiting (wait_ms) */
};

struct cmd_live;

/* Live reads over c (borrowed: it must outlive l, and be shut down before
 * cmd_live_free so running GETs end). KUBE_ENOMEM. */
int cmd_live_new(struct cmd_live **out, struct kube_client *c,
                 const struct cmd_live_opts *o) KUBE_MUST_CHECK;

/* Reads gvr ns/name (ns NULL: cluster scope). KUBE_OK with *out a new
 * reference, KUBE_ENOTFOUND on a 404, the GET's failure, or KUBE_EUNAVAIL
 * when max GETs are in flight or the answer did not come within wait_ms
 * (the GET goes on; a read soon after takes its answer). Blocks for at
 * most wait_ms. Thread-safe. */
int cmd_live_get(json_t **out, struct cmd_live *l, const struct kube_gvr *gvr,
                 const char *ns, const char *name,
                 struct kube_err *err) KUBE_MUST_CHECK;

/* The counters. Thread-safe. */
void cmd_live_stats(struct cmd_live *l, struct cmd_live_stats *out);

/* Waits for running GETs to end (shut the client down first), frees l.
 * Accepts NULL. */
void cmd_live_free(struct cmd_live *l);

#endif
