/* tests/cmd/verb_validate.c - suite cmd_validate: the pieces of `vmsnapd
 * validate` (cmd/verb_validate*.c) in-process: classification of objects, the
 * 400 and warning field helpers, the report's text and JSON, a document's
 * findings at their positions, and the folder walk. The whole verb, over
 * the corpus in tests/data/validate/, is tests/scripts/validate.sh. */
#include "cmd/verb_validate.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/store.h"
#include "webhook/policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- classify ---- */

static const struct {
    const char *name, *obj;
    enum cmd_vclass want;
    const char *resource, *field, *why; /* by want: OURS, BAD */
} classify_cases[] = {
    {"snapshot v1beta1",
     "{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\","
     "\"kind\":\"VirtualMachineSnapshot\"}",
     CMD_VOURS, "virtualmachinesnapshots", NULL, NULL},
    {"content v1alpha1",
     "{\"apiVersion\":\"snapshot.kubevirt.io/v1alpha1\","
     "\"kind\":\"VirtualMachineSnapshotContent\"}",
     CMD_VOURS, "virtualmachinesnapshotcontents", NULL, NULL},
    {"restore",
     "{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\","
     "\"kind\":\"VirtualMachineRestore\"}",
     CMD_VOURS, "virtualmachinerestores", NULL, NULL},
    {"ConfigMap", "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}", CMD_VOTHER,
     NULL, NULL, NULL},
    {"kustomization without kind", "{\"resources\":[\"a.yaml\"]}", CMD_VOTHER,
     NULL, NULL, NULL},
    {"our kind in another group",
     "{\"apiVersion\":\"example.com/v1\",\"kind\":\"VirtualMachineSnapshot\"}",
     CMD_VOTHER, NULL, NULL, NULL},
    {"a group that only starts like ours",
     "{\"apiVersion\":\"snapshot.kubevirt.io.example/v1\",\"kind\":\"X\"}",
     CMD_VOTHER, NULL, NULL, NULL},
    {"our kind, no apiVersion", "{\"kind\":\"VirtualMachineRestore\"}",
     CMD_VBAD, NULL, "apiVersion", "Required value"},
    {"unknown version",
     "{\"apiVersion\":\"snapshot.kubevirt.io/v1\","
     "\"kind\":\"VirtualMachineSnapshot\"}",
     CMD_VBAD, NULL, "apiVersion",
     "Unsupported value: \"snapshot.kubevirt.io/v1\": supported values: "
     "\"snapshot.kubevirt.io/v1beta1\", \"snapshot.kubevirt.io/v1alpha1\""},
    {"unknown kind of our group",
     "{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\",\"kind\":\"VMS\"}",
     CMD_VBAD, NULL, "kind",
     "Unsupported value: \"VMS\": supported values: "
     "\"VirtualMachineSnapshot\", \"VirtualMachineSnapshotContent\", "
     "\"VirtualMachineRestore\""},
    {"our group, no kind", "{\"apiVersion\":\"snapshot.kubevirt.io/v1beta1\"}",
     CMD_VBAD, NULL, "kind", "Required value"},
};

Test(cmd_validate, classify_table)
{
    for (size_t i = 0; i < N(classify_cases); i++) {
        json_t *obj = json_loads(classify_cases[i].obj, 0, NULL);
        const char *res = NULL;
        char field[64], why[512];
        enum cmd_vclass got;

        cr_assert(obj, "%s: bad test JSON", classify_cases[i].name);
        got = cmd_validate_classify(&res, field, sizeof(field), why,
                                    sizeof(why), obj);
        cr_expect_eq(got, classify_cases[i].want, "%s: class %d",
                     classify_cases[i].name, got);
        if (got == CMD_VOURS && classify_cases[i].want == CMD_VOURS)
            cr_expect_str_eq(res, classify_cases[i].resource, "%s",
                             classify_cases[i].name);
        if (got == CMD_VBAD && classify_cases[i].want == CMD_VBAD) {
            cr_expect_str_eq(field, classify_cases[i].field, "%s",
                             classify_cases[i].name);
            cr_expect_str_eq(why, classify_cases[i].why, "%s",
                             classify_cases[i].name);
        }
        json_decref(obj);
    }
}

/* ---- the field of a 400, of a warning ---- */

static const struct {
    const char *name, *msg, *field, *rest;
} split_cases[] = {
    {"wrong type",
     "cannot decode VirtualMachineSnapshot in request.object: spec.source: "
     "expected an object, got a string",
     "spec.source", "expected an object, got a string"},
    {"indexed field",
     "cannot decode VirtualMachineSnapshot in request.object: "
     "spec.volumeBackups[1].volumeName: expected a string, got an integer",
     "spec.volumeBackups[1].volumeName", "expected a string, got an integer"},
    {"the object itself",
     "cannot decode VirtualMachineSnapshot in request.object: object: "
     "expected an object, got an array",
     "", "expected an object, got an array"},
    {"another kind's prefix is not stripped",
     "cannot decode VirtualMachineRestore in request.object: spec: x", "",
     "cannot decode VirtualMachineRestore in request.object: spec: x"},
    {"no field named", "request.object is missing", "",
     "request.object is missing"},
    {"a sentence before the colon", "the object is null, not an object: x", "",
     "the object is null, not an object: x"},
};

Test(cmd_validate, split_400_table)
{
    for (size_t i = 0; i < N(split_cases); i++) {
        char field[128];
        const char *rest = cmd_validate_split_400(
            field, sizeof(field), split_cases[i].msg, "VirtualMachineSnapshot");

        cr_expect_str_eq(field, split_cases[i].field, "%s: field",
                         split_cases[i].name);
        cr_expect_str_eq(rest, split_cases[i].rest, "%s: rest",
                         split_cases[i].name);
    }
}

Test(cmd_validate, warning_field_table)
{
    static const struct {
        const char *text, *field;
    } rows[] = {
        {"spec.failureDeadline is 0: the snapshot has no deadline",
         "spec.failureDeadline"},
        {"spec.failureDeadline without a unit is seconds: stored as \"5s\"",
         "spec.failureDeadline"},
        {"metadata.labels: x", "metadata.labels"},
        {"defaulted spec.failureDeadline to 5m0s", ""},
        {"VirtualMachine \"vm\" does not exist yet", ""},
        {"specific advice", ""},
        {"", ""},
    };

    for (size_t i = 0; i < N(rows); i++) {
        char field[64];

        cmd_validate_warning_field(field, sizeof(field), rows[i].text);
        cr_expect_str_eq(field, rows[i].field, "%s", rows[i].text);
    }
}

Test(cmd_validate, wanted_table)
{
    static const struct {
        const char *name;
        int want;
    } rows[] = {
        {"a.yaml", 1},    {"a.yml", 1},
        {"a.json", 1},    {"kustomization.yaml", 1},
        {"README.md", 0}, {"a.yaml.bak", 0},
        {".yaml", 0},     {"yaml", 0},
        {"a.YAML", 0},
    };

    for (size_t i = 0; i < N(rows); i++)
        cr_expect_eq(cmd_validate_wanted(rows[i].name), rows[i].want, "%s",
                     rows[i].name);
}

/* ---- the report ---- */

struct memout {
    char *buf;
    size_t len;
    FILE *f;
};

static void memout_open(struct memout *m)
{
    memset(m, 0, sizeof(*m));
    m->f = open_memstream(&m->buf, &m->len);
    cr_assert(m->f);
}

/* Closes the stream; m->buf holds everything written (free it). */
static void memout_close(struct memout *m)
{
    cr_assert_eq(fclose(m->f), 0);
}

Test(cmd_validate, report_text_lines)
{
    static const struct cmd_vproblem ps[] = {
        {CMD_VERROR, "a.yaml", 3, 5, "spec.source.kind", "invalid kind",
         "VirtualMachineSnapshot", "s1"},
        {CMD_VERROR, "a.yaml", 1, 1, "", "forbidden", "", ""},
        {CMD_VWARNING, "a.yaml", 7, 3, "spec.failureDeadline",
         "spec.failureDeadline is 0", "", ""},
        {CMD_VERROR, "a.yaml", 9, 3, "spec.patches", "bad: {\"a\":\n \"b\"}",
         "", ""},
        {CMD_VFATAL, "b.yaml", 0, 0, "", "No such file or directory", "", ""},
    };
    struct cmd_vreport r;
    struct memout m;

    memout_open(&m);
    cr_assert_eq(cmd_validate_report_init(&r, m.f, 0), KUBE_OK);
    cmd_validate_report_file_begin(&r, "a.yaml");
    cmd_validate_report_count(&r, 2, 2, 1);
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(cmd_validate_report_add(&r, &ps[i]), KUBE_OK);
    cr_assert_eq(cmd_validate_report_file_end(&r), KUBE_OK);
    cmd_validate_report_file_begin(&r, "b.yaml");
    cr_assert_eq(cmd_validate_report_add(&r, &ps[4]), KUBE_OK);
    cr_assert_eq(cmd_validate_report_file_end(&r), KUBE_OK);
    cr_expect_eq(cmd_validate_report_finish(&r), 2, "unreadable wins");
    cmd_validate_report_free(&r);
    memout_close(&m);
    cr_expect_str_eq(
        m.buf, "a.yaml:3:5: spec.source.kind: invalid kind\n"
               "a.yaml:1:1: forbidden\n"
               "a.yaml:7:3: warning: spec.failureDeadline is 0\n"
               "a.yaml:9:3: spec.patches: bad: {\"a\":  \"b\"}\n"
               "b.yaml: No such file or directory\n"
               "2 documents, 2 objects checked, 1 skipped (other kinds), 3 "
               "problems in 1 file, 1 warning, 1 file could not be read\n");
    free(m.buf);
}

Test(cmd_validate, summary_table)
{
    static const struct {
        struct cmd_vcounts c;
        size_t with_problems, unreadable;
        const char *want;
    } rows[] = {
        {{0, 0, 0, 0, 0},
         0,
         0,
         "0 documents, 0 objects checked, 0 skipped (other kinds), 0 "
         "problems"},
        {{1, 1, 0, 1, 0},
         1,
         0,
         "1 document, 1 object checked, 0 skipped (other kinds), 1 problem "
         "in 1 file"},
        {{3, 2, 1, 2, 2},
         2,
         1,
         "3 documents, 2 objects checked, 1 skipped (other kinds), 2 "
         "problems in 2 files, 2 warnings, 1 file could not be read"},
    };

    for (size_t i = 0; i < N(rows); i++) {
        struct cmd_vreport r;
        char buf[256];

        memset(&r, 0, sizeof(r));
        r.all = rows[i].c;
        r.files_with_problems = rows[i].with_problems;
        r.unreadable = rows[i].unreadable;
        cmd_validate_summary_text(buf, sizeof(buf), &r);
        cr_expect_str_eq(buf, rows[i].want, "row %zu", i);
    }
}

Test(cmd_validate, report_json_document)
{
    static const struct cmd_vproblem p = {CMD_VERROR,
                                          "a.yaml",
                                          3,
                                          5,
                                          "spec.source.kind",
                                          "invalid kind",
                                          "VirtualMachineSnapshot",
                                          "s1"};
    struct cmd_vreport r;
    struct memout m;
    json_t *doc, *want;

    memout_open(&m);
    cr_assert_eq(cmd_validate_report_init(&r, m.f, 1), KUBE_OK);
    cmd_validate_report_file_begin(&r, "a.yaml");
    cmd_validate_report_count(&r, 1, 1, 0);
    cr_assert_eq(cmd_validate_report_add(&r, &p), KUBE_OK);
    cr_assert_eq(cmd_validate_report_file_end(&r), KUBE_OK);
    r.state_skipped = 1;
    cr_expect_eq(cmd_validate_report_finish(&r), 1);
    cmd_validate_report_free(&r);
    memout_close(&m);
    doc = json_loads(m.buf, 0, NULL);
    want = json_pack(
        "{s:[{s:s, s:b, s:i, s:i, s:i, s:i, s:i}], s:[{s:s, s:i, s:i, s:s, "
        "s:s, s:s, s:s, s:s}], s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
        "s:b, s:i}}",
        "files", "file", "a.yaml", "readable", 1, "documents", 1, "objects", 1,
        "skipped", 0, "problems", 1, "warnings", 0, "problems", "file",
        "a.yaml", "line", 3, "column", 5, "field", "spec.source.kind",
        "message", "invalid kind", "kind", "VirtualMachineSnapshot", "name",
        "s1", "severity", "error", "summary", "documents", 1, "objects", 1,
        "skipped", 0, "problems", 1, "warnings", 0, "files", 1,
        "filesWithProblems", 1, "unreadable", 0, "stateRulesSkipped", 1,
        "exitCode", 1);
    cr_assert(doc, "not JSON: %s", m.buf);
    cr_expect(json_equal(doc, want), "got %s", m.buf);
    json_decref(doc);
    json_decref(want);
    free(m.buf);
}

/* ---- documents through the admission code ---- */

/* Streams yaml through cmd_validate_doc with the default policy and the
 * given store (may be NULL); returns the text report (free it). */
static char *check_yaml(const char *yaml, struct kube_store *store)
{
    struct wh_policy *pol = NULL;
    struct cmd_vreport r;
    struct memout m;
    struct kube_err err = {0, ""};

    cr_assert_eq(wh_policy_default(&pol), KUBE_OK);
    struct wh_env env = {.policy = pol, .store = store};
    struct cmd_vcheck c = {&env, pol->controller_users[0], &r, "t.yaml", 0};
    memout_open(&m);
    cr_assert_eq(cmd_validate_report_init(&r, m.f, 0), KUBE_OK);
    cmd_validate_report_file_begin(&r, "t.yaml");
    cr_assert_eq(kube_yaml_stream_buf(yaml, strlen(yaml), "t.yaml", NULL,
                                      cmd_validate_doc, &c, &err),
                 KUBE_OK, "%s", err.msg);
    cr_assert_eq(cmd_validate_report_file_end(&r), KUBE_OK);
    cmd_validate_report_finish(&r);
    cmd_validate_report_free(&r);
    memout_close(&m);
    wh_policy_unref(pol);
    return m.buf;
}

#define SNAP                                                                   \
    "apiVersion: snapshot.kubevirt.io/v1beta1\n"                               \
    "kind: VirtualMachineSnapshot\n"

Test(cmd_validate, doc_positions_and_kinds)
{
    static const struct {
        const char *name, *yaml, *want;
    } rows[] = {
        {"cause at its key",
         SNAP "metadata: {name: s}\n"
              "spec:\n"
              "  failureDeadline: 5m\n"
              "  source:\n"
              "    apiGroup: kubevirt.io\n"
              "    kind: Pod\n"
              "    name: vm\n",
         "t.yaml:8:5: spec.source.kind: invalid kind\n"},
        {"missing field at its parent's key",
         SNAP "metadata: {name: s}\nspec:\n  failureDeadline: 5m\n"
              "  source: {kind: VirtualMachine, name: vm}\n",
         "t.yaml:6:3: spec.source.apiGroup: missing apiGroup\n"},
        {"wrong type at its key",
         SNAP "metadata: {name: s}\nspec:\n  source: vm\n",
         "t.yaml:5:3: spec.source: expected an object, got a string\n"},
        {"List item positions",
         "kind: List\napiVersion: v1\nitems:\n"
         "- {apiVersion: v1, kind: Pod}\n"
         "- 7\n"
         "- apiVersion: snapshot.kubevirt.io/v1beta1\n"
         "  kind: VirtualMachineSnapshot\n"
         "  metadata: {name: s}\n"
         "  spec:\n    failureDeadline: 0s\n    source: {apiGroup: "
         "kubevirt.io, kind: VirtualMachine, name: vm}\n",
         "t.yaml:5:3: list item is not a Kubernetes object\n"
         "t.yaml:10:5: warning: spec.failureDeadline is 0: the snapshot has "
         "no deadline and may wait forever\n"},
        {"empty and scalar documents", "---\n---\n# c\n---\nfoo\n---\n[1]\n",
         "t.yaml:5:1: document is not a Kubernetes object\n"
         "t.yaml:7:1: document is not a Kubernetes object\n"},
        {"List whose items are not a list",
         "apiVersion: v1\nkind: List\nitems: {}\n",
         "t.yaml:3:1: items: expected an array\n"},
    };

    for (size_t i = 0; i < N(rows); i++) {
        char *out = check_yaml(rows[i].yaml, NULL);
        char *summary = strrchr(out, '\n');

        /* drop the summary line: the rows are about findings */
        *summary = '\0';
        summary = strrchr(out, '\n');
        summary = summary ? summary + 1 : out;
        *summary = '\0';
        cr_expect_str_eq(out, rows[i].want, "%s: got\n%s", rows[i].name, out);
        free(out);
    }
}

Test(cmd_validate, state_rules_need_a_store)
{
    static const char restore[] =
        "apiVersion: snapshot.kubevirt.io/v1beta1\n"
        "kind: VirtualMachineRestore\n"
        "metadata: {name: r}\n"
        "spec:\n"
        "  target: {apiGroup: kubevirt.io, kind: VirtualMachine, name: vm}\n"
        "  virtualMachineSnapshotName: gone\n";
    struct kube_store *store = NULL;
    char *out;

    out = check_yaml(restore, NULL); /* skipped, and no warning per object */
    cr_expect_str_eq(out, "1 document, 1 object checked, 0 skipped (other "
                          "kinds), 0 problems\n");
    free(out);
    cr_assert_eq(kube_store_new(&store), KUBE_OK);
    out = check_yaml(restore, store);
    cr_expect_str_eq(out, "t.yaml:6:3: spec.virtualMachineSnapshotName: "
                          "VirtualMachineSnapshot \"gone\" does not exist\n"
                          "1 document, 1 object checked, 0 skipped (other "
                          "kinds), 1 problem in 1 file\n");
    free(out);
    kube_store_free(store);
}

/* ---- the walk ---- */

static int collect(void *ctx, const char *path, const char *error)
{
    json_t *got = ctx;

    return json_array_append_new(
        got,
        json_sprintf("%s%s%s", path, error ? " ! " : "", error ? error : ""));
}

static void touch(const char *dir, const char *name)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fclose(f);
}

Test(cmd_validate, walk_order_and_skips)
{
    char dir[] = "/tmp/vmsnapd-walk-XXXXXX", sub[600], link[600];
    json_t *got = json_array(), *want;
    char *dump;

    cr_assert(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/b", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof(sub), "%s/.hidden", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    touch(dir, "c.yml");
    touch(dir, "B.json");
    touch(dir, "a.yaml");
    touch(dir, "notes.txt");
    touch(dir, ".x.yaml");
    touch(dir, "b/z.yaml");
    touch(dir, ".hidden/h.yaml");
    snprintf(link, sizeof(link), "%s/loop", dir);
    cr_assert_eq(symlink(".", link), 0);
    cr_expect_eq(cmd_validate_walk(dir, collect, got), 0);
    cr_expect_eq(cmd_validate_walk("-", collect, got), 0);
    cr_expect_eq(cmd_validate_walk("/nonexistent/x.yaml", collect, got), 0);
    want = json_pack("[s+, s+, s+, s+, s, s]", dir, "/B.json", dir, "/a.yaml",
                     dir, "/b/z.yaml", dir, "/c.yml", "-",
                     "/nonexistent/x.yaml ! No such file or directory");
    dump = json_dumps(got, 0);
    cr_expect(json_equal(got, want), "got %s", dump);
    free(dump);
    json_decref(got);
    json_decref(want);
    snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
    cr_expect_eq(system(sub), 0);
}
