/* cmd/verb_validate_report.c - what `vmsnapd validate` prints: one line per
 * finding as it is found (FILE:LINE:COL: FIELD: MESSAGE, the shape editors
 * and CI log parsers jump to), then a summary line; or, with -o json, one
 * JSON document at the end for machines. */
#include "cmd/verb_validate.h"

#include <stdio.h>
#include <string.h>

static const char *const severity_names[] = {"error", "warning", "fatal"};

int cmd_validate_report_init(struct cmd_vreport *r, FILE *out, int json)
{
    memset(r, 0, sizeof(*r));
    r->out = out;
    r->json = json;
    if (!json)
        return KUBE_OK;
    r->jfiles = json_array();
    r->jitems = json_array();
    return r->jfiles && r->jitems ? KUBE_OK : KUBE_ENOMEM;
}

void cmd_validate_report_free(struct cmd_vreport *r)
{
    json_decref(r->jfiles);
    json_decref(r->jitems);
    r->jfiles = r->jitems = NULL;
}

void cmd_validate_report_file_begin(struct cmd_vreport *r, const char *name)
{
    memset(&r->cur, 0, sizeof(r->cur));
    r->cur_file = name;
    r->cur_fatal = 0;
}

static void counts_add(struct cmd_vcounts *to, const struct cmd_vcounts *c)
{
    to->documents += c->documents;
    to->objects += c->objects;
    to->skipped += c->skipped;
    to->problems += c->problems;
    to->warnings += c->warnings;
}

int cmd_validate_report_file_end(struct cmd_vreport *r)
{
    const struct cmd_vcounts *c = &r->cur;
    json_t *f;

    r->files++;
    r->files_with_problems += c->problems > 0;
    r->unreadable += r->cur_fatal;
    counts_add(&r->all, c);
    if (!r->json)
        return KUBE_OK;
    f = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "file", r->cur_file,
                  "readable", !r->cur_fatal, "documents",
                  (json_int_t)c->documents, "objects", (json_int_t)c->objects,
                  "skipped", (json_int_t)c->skipped, "problems",
                  (json_int_t)c->problems, "warnings", (json_int_t)c->warnings);
    return json_array_append_new(r->jfiles, f) ? KUBE_ENOMEM : KUBE_OK;
}

void cmd_validate_report_count(struct cmd_vreport *r, size_t documents,
                               size_t objects, size_t skipped)
{
    r->cur.documents += documents;
    r->cur.objects += objects;
    r->cur.skipped += skipped;
}

/* One finding is one line: a message that quotes a multi-line value (a
 * block scalar) has its line breaks and other controls shown as spaces. */
static void put_line_safe(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, out);
}

static void print_text(FILE *out, const struct cmd_vproblem *p)
{
    put_line_safe(out, p->file);
    if (p->line > 0)
        fprintf(out, ":%d:%d", p->line, p->col);
    fputs(": ", out);
    if (p->severity == CMD_VWARNING) {
        fputs("warning: ", out);
    } else if (p->field && *p->field) {
        put_line_safe(out, p->field);
        fputs(": ", out);
    }
    put_line_safe(out, p->message);
    fputc('\n', out);
}

static int record_json(struct cmd_vreport *r, const struct cmd_vproblem *p)
{
    json_t *o = json_pack(
        "{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s}", "file", p->file, "line",
        p->line, "column", p->col, "field", p->field ? p->field : "", "message",
        p->message, "kind", p->kind ? p->kind : "", "name",
        p->name ? p->name : "", "severity", severity_names[p->severity]);

    return json_array_append_new(r->jitems, o) ? KUBE_ENOMEM : KUBE_OK;
}

int cmd_validate_report_add(struct cmd_vreport *r, const struct cmd_vproblem *p)
{
    if (p->severity == CMD_VERROR)
        r->cur.problems++;
    else if (p->severity == CMD_VWARNING)
        r->cur.warnings++;
    else
        r->cur_fatal = 1;
    if (r->json)
        return record_json(r, p);
    print_text(r->out, p);
    return KUBE_OK;
}

#define PLURAL(n) ((n) == 1 ? "" : "s")

void cmd_validate_summary_text(char *buf, size_t len,
                               const struct cmd_vreport *r)
{
    const struct cmd_vcounts *c = &r->all;
    size_t used;
    int n;

    n = snprintf(buf, len,
                 "%zu document%s, %zu object%s checked, %zu skipped (other "
                 "kinds), %zu problem%s",
                 c->documents, PLURAL(c->documents), c->objects,
                 PLURAL(c->objects), c->skipped, c->problems,
                 PLURAL(c->problems));
    used = n < 0 ? len : (size_t)n;
    if (used < len && c->problems)
        used += (size_t)snprintf(buf + used, len - used, " in %zu file%s",
                                 r->files_with_problems,
                                 PLURAL(r->files_with_problems));
    if (used < len && c->warnings)
        used += (size_t)snprintf(buf + used, len - used, ", %zu warning%s",
                                 c->warnings, PLURAL(c->warnings));
    if (used < len && r->unreadable)
        snprintf(buf + used, len - used, ", %zu file%s could not be read",
                 r->unreadable, PLURAL(r->unreadable));
}

static int exit_code(const struct cmd_vreport *r)
{
    if (r->unreadable)
        return 2;
    return r->all.problems ? 1 : 0;
}

static json_t *summary_json(const struct cmd_vreport *r)
{
    const struct cmd_vcounts *c = &r->all;

    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:i}", "documents",
        (json_int_t)c->documents, "objects", (json_int_t)c->objects, "skipped",
        (json_int_t)c->skipped, "problems", (json_int_t)c->problems, "warnings",
        (json_int_t)c->warnings, "files", (json_int_t)r->files,
        "filesWithProblems", (json_int_t)r->files_with_problems, "unreadable",
        (json_int_t)r->unreadable, "stateRulesSkipped", r->state_skipped,
        "exitCode", exit_code(r));
}

static int finish_json(struct cmd_vreport *r)
{
    json_t *doc = json_pack("{s:O, s:O, s:o}", "files", r->jfiles, "problems",
                            r->jitems, "summary", summary_json(r));
    int rc;

    if (!doc)
        return KUBE_ENOMEM;
    rc = json_dumpf(doc, r->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc < 0)
        return KUBE_ERR;
    fputc('\n', r->out);
    return KUBE_OK;
}

int cmd_validate_report_finish(struct cmd_vreport *r)
{
    char line[256];
    int rc = KUBE_OK;

    if (r->json) {
        rc = finish_json(r);
    } else {
        cmd_validate_summary_text(line, sizeof(line), r);
        fprintf(r->out, "%s\n", line);
    }
    if (fflush(r->out) != 0 || ferror(r->out) || rc < 0) {
        fprintf(stderr, "vmsnapd validate: cannot write the report\n");
        return 2;
    }
    return exit_code(r);
}
