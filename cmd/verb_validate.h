/* cmd/verb_validate.h - the pieces of `vmsnapd validate`, shared by its files
 * (cmd/verb_validate*.c) and its unit tests: the report that prints problems as
 * text or JSON, the per-document check that runs each object through
 * wh_review_handle (a rule exists once), and the walk over PATH arguments.
 * One thread at a time throughout. */
#ifndef VMSNAPD_CMD_VERB_VALIDATE_H
#define VMSNAPD_CMD_VERB_VALIDATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "kube/errors.h"
#include "kube/yaml.h"
#include "webhook/review.h"

/* ---- report (cmd/verb_validate_report.c) ---- */

enum cmd_vseverity {
    CMD_VERROR,   /* the object breaks a rule: exit 1 */
    CMD_VWARNING, /* advice from the rules: printed, not counted */
    CMD_VFATAL,   /* the input could not be read: exit 2 */
};

/* One finding. Every string is borrowed for the call; line 0 means no
 * position is known (an unopenable file), field "" the whole object. */
struct cmd_vproblem {
    enum cmd_vseverity severity;
    const char *file;
    int line, col;
    const char *field;
    const char *message;
    const char *kind, *name; /* of the object, "" when unknown */
};

struct cmd_vcounts {
    size_t documents; /* non-empty YAML documents */
    size_t objects;   /* snapshot.kubevirt.io objects checked */
    size_t skipped;   /* objects of other kinds */
    size_t problems;  /* CMD_VERROR findings */
    size_t warnings;
};

/* Kept on the caller's stack: init, file_begin/add/file_end per file,
 * finish, free. */
struct cmd_vreport {
    FILE *out;               /* private: where text or JSON goes */
    int json;                /* private: -o json */
    json_t *jfiles, *jitems; /* private: JSON mode's arrays */
    struct cmd_vcounts all;  /* private: totals */
    struct cmd_vcounts cur;  /* private: the file being read */
    const char *cur_file;    /* private: borrowed */
    int cur_fatal;           /* private: the file could not be read */
    size_t files, files_with_problems, unreadable; /* private */
    int state_skipped; /* set by the caller: no --objects were given */
};

/* Text (json 0) or one JSON document at finish (json 1) on out. Returns 0
 * or KUBE_ENOMEM. */
int cmd_validate_report_init(struct cmd_vreport *r, FILE *out,
                             int json) KUBE_MUST_CHECK;
void cmd_validate_report_free(struct cmd_vreport *r);

/* Brackets one input; name is borrowed until file_end. */
void cmd_validate_report_file_begin(struct cmd_vreport *r, const char *name);
int cmd_validate_report_file_end(struct cmd_vreport *r) KUBE_MUST_CHECK;

/* Counts a document, a checked object, a skipped object. */
void cmd_validate_report_count(struct cmd_vreport *r, size_t documents,
                               size_t objects, size_t skipped);

/* Prints (text) or records (JSON) p and counts it. Returns 0 or
 * KUBE_ENOMEM. */
int cmd_validate_report_add(struct cmd_vreport *r,
                            const struct cmd_vproblem *p) KUBE_MUST_CHECK;

/* Prints the summary line (text) or the whole JSON document, and returns
 * the exit code: 2 when an input could not be read, else 1 when problems
 * were found, else 0 (also 2 when the output cannot be written). */
int cmd_validate_report_finish(struct cmd_vreport *r);

/* The summary line, e.g. "3 documents, 2 objects checked, 1 skipped (other
 * kinds), 2 problems in 1 file", into buf (cut to fit). */
void cmd_validate_summary_text(char *buf, size_t len,
                               const struct cmd_vreport *r);

/* ---- per-document check (cmd/verb_validate_check.c) ---- */

/* What each document is checked with. */
struct cmd_vcheck {
    const struct wh_env *env;
    /* the identity contents are created as: the policy's first
     * content.controllerUsers entry, since only the controller may create
     * them and a manifest of one is what the controller would write */
    const char *content_user;
    struct cmd_vreport *rep;
    const char *file;  /* name in messages, borrowed */
    unsigned long seq; /* private: numbers the request uids */
};

/* A kube_yaml_doc_fn: checks one document (ctx is a struct cmd_vcheck)
 * and reports what it finds. Empty documents are skipped; a document that
 * is not a mapping is a problem; a List's items are checked one by one.
 * Returns 0, or a negative code when we failed (out of memory). */
int cmd_validate_doc(const struct kube_yaml_doc *doc, void *ctx);

/* How an object is handled. */
enum cmd_vclass {
    CMD_VOTHER, /* not ours: skipped */
    CMD_VOURS,  /* one of our kinds: *resource is its plural */
    CMD_VBAD,   /* claims to be ours but is not: field and why are set */
};

/* Classifies obj (borrowed) by apiVersion and kind. For CMD_VBAD, field
 * gets the offending field and why a message. Never fails. */
enum cmd_vclass cmd_validate_classify(const char **resource, char *field,
                                      size_t flen, char *why, size_t wlen,
                                      const json_t *obj);

/* Splits the message of a 400 answer about kind ("cannot decode KIND in
 * request.object: spec.source: expected an object, got a string") into
 * the field ("spec.source", or "" when none is named) and the rest, which
 * is returned (borrowed from msg). */
const char *cmd_validate_split_400(char *field, size_t flen, const char *msg,
                                   const char *kind);

/* The first word of a warning that looks like a field path under spec or
 * metadata ("spec.failureDeadline is 0: ..."), into field; "" if none. */
void cmd_validate_warning_field(char *field, size_t flen, const char *text);

/* ---- PATH arguments (cmd/verb_validate_walk.c) ---- */

/* Called for each input: error is NULL for a file to read (path "-" is
 * stdin), else says why path could not be listed or opened. A non-zero
 * return stops the walk and is returned. */
typedef int (*cmd_vwalk_fn)(void *ctx, const char *path, const char *error);

/* "-" and files are passed on as they are; a directory is walked
 * recursively in byte order of names for *.yaml, *.yml and *.json,
 * skipping names that start with '.' and symbolic links to directories
 * (no loops). Returns 0 or the first non-zero fn result. */
int cmd_validate_walk(const char *path, cmd_vwalk_fn fn, void *ctx);

/* Whether a name found in a directory is read: *.yaml, *.yml, *.json. */
int cmd_validate_wanted(const char *name);

#endif
