/* tests/kube/store.c - the object store and its file loader. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/json.h"
#include "kube/jsonarena.h"
#include "kube/store.h"

static json_t *obj(const char *kind, const char *ns, const char *name)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "kind", kind, "metadata", "name",
                     name, "namespace", ns);
}

/* Lists kind in ns (NULL: all) and expects n objects, the first named
 * first (NULL: not checked). */
static void expect_list(struct kube_store *s, const char *kind, const char *ns,
                        size_t n, const char *first)
{
    json_t *l = NULL;

    cr_assert_eq(kube_store_list(&l, s, kind, ns), 0);
    cr_expect_eq(json_array_size(l), n, "%s in %s", kind, ns ? ns : "*");
    if (first)
        cr_expect_str_eq(kube_json_str0(json_array_get(l, 0), "metadata.name"),
                         first);
    json_decref(l);
}

Test(kube_store, put_get_replace_delete)
{
    struct kube_store *s;
    json_t *got, *newer;

    cr_assert_eq(kube_store_new(&s), 0);
    cr_assert_eq(kube_store_put_new(s, obj("VirtualMachine", "a", "vm1")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("VirtualMachine", "b", "vm1")), 0);
    cr_expect_eq(kube_store_count(s), 2);
    cr_assert_eq(kube_store_get(&got, s, "VirtualMachine", "a", "vm1"), 0);
    cr_expect_str_eq(kube_json_str0(got, "metadata.namespace"), "a");
    /* replaced whole by a different object, count unchanged; a reader's
     * reference keeps the old one as it was */
    newer = obj("VirtualMachine", "a", "vm1");
    cr_assert_eq(
        json_object_set_new(newer, "spec",
                            json_pack("{s:s}", "runStrategy", "Halted")),
        0);
    cr_assert_eq(kube_store_put_new(s, newer), 0);
    cr_expect_eq(kube_store_count(s), 2);
    cr_expect_null(json_object_get(got, "spec"), "the old object changed");
    json_decref(got);
    cr_assert_eq(kube_store_get(&got, s, "VirtualMachine", "a", "vm1"), 0);
    cr_expect_str_eq(kube_json_str0(got, "spec.runStrategy"), "Halted",
                     "not replaced");
    json_decref(got);
    cr_expect_eq(kube_store_get(&got, s, "VirtualMachine", "c", "vm1"),
                 KUBE_ENOTFOUND);
    cr_expect_eq(kube_store_get(&got, s, "Pod", "a", "vm1"), KUBE_ENOTFOUND);
    cr_expect_eq(kube_store_delete(s, "VirtualMachine", "a", "vm1"), 0);
    cr_expect_eq(kube_store_delete(s, "VirtualMachine", "a", "vm1"),
                 KUBE_ENOTFOUND);
    cr_expect_eq(kube_store_count(s), 1);
    cr_expect_eq(kube_store_put_new(s, json_pack("{s:s}", "kind", "X")),
                 KUBE_EINVAL, "no name");
    kube_store_free(s);
}

Test(kube_store, list_by_namespace_sorted)
{
    struct kube_store *s;

    cr_assert_eq(kube_store_new(&s), 0);
    cr_assert_eq(kube_store_put_new(s, obj("R", "a", "z")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("R", "a", "b")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("R", "c", "m")), 0);
    expect_list(s, "R", "a", 2, "b");
    expect_list(s, "R", NULL, 3, NULL);
    expect_list(s, "Nothing", "a", 0, NULL);
    kube_store_free(s);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/vmsnapd-store-XXXXXX");
    int fd = mkstemp(path);

    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

Test(kube_store, load_json_list_and_yaml)
{
    static const char *inputs[] = {
        "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        "{\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"vm1\","
        "\"namespace\":\"default\"}},{\"kind\":\"VirtualMachineInstance\","
        "\"metadata\":{\"name\":\"vm1\",\"namespace\":\"default\"}}]}",
        "kind: VirtualMachine\nmetadata:\n  name: vm1\n  namespace: default\n"
        "---\n---\nkind: VirtualMachineInstance\nmetadata:\n  name: vm1\n"
        "  namespace: default\n",
    };
    for (size_t i = 0; i < 2; i++) {
        struct kube_store *s;
        struct kube_err err = {0, ""};
        char *path = write_tmp(inputs[i]);

        cr_assert_eq(kube_store_new(&s), 0);
        cr_expect_eq(kube_store_load_file(s, path, &err), 0, "%s", err.msg);
        cr_expect_eq(kube_store_count(s), 2, "input %zu", i);
        kube_store_free(s);
        unlink(path);
        free(path);
    }
}

Test(kube_store, load_errors_name_the_place)
{
    static const struct {
        const char *text, *msg;
    } rows[] = {
        {"kind: VirtualMachine\nmetadata: {}\n",
         ":1:1: an object needs kind and metadata.name"},
        {"- a\n- b\n", ":1:1: not an object"},
        {"{\"kind\":\"List\",\"items\":[1]}", ":1:25: not an object"},
        {"kind: [\n", ":2:1:"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kube_store *s;
        struct kube_err err = {0, ""};
        char *path = write_tmp(rows[i].text);

        cr_assert_eq(kube_store_new(&s), 0);
        cr_expect_lt(kube_store_load_file(s, path, &err), 0, "row %zu", i);
        cr_expect(strstr(err.msg, rows[i].msg), "row %zu: %s", i, err.msg);
        kube_store_free(s);
        unlink(path);
        free(path);
    }
    struct kube_store *s;
    struct kube_err err = {0, ""};
    cr_assert_eq(kube_store_new(&s), 0);
    cr_expect_lt(kube_store_load_file(s, "/nonexistent", &err), 0);
    cr_expect(strstr(err.msg, "/nonexistent"));
    kube_store_free(s);
}

/* One object as a JSON List item would be. */
static json_t *numbered(size_t i)
{
    char name[32];

    snprintf(name, sizeof(name), "o-%05zu", i);
    return json_pack("{s:s, s:{s:s, s:s}, s:I}", "kind", "Pod", "metadata",
                     "name", name, "namespace", "n", "i", (json_int_t)i);
}

/* Objects are kept as text: what comes back must be the tree that went
 * in, type for type and key order included, each get a tree of its own. */
Test(kube_store, text_round_trip_is_exact)
{
    static const char *const cases[] = {
        "{\"kind\":\"VirtualMachine\",\"metadata\":{\"name\":\"a\","
        "\"namespace\":\"n\",\"uid\":\"u-1\",\"resourceVersion\":\"42\","
        "\"deletionTimestamp\":\"2026-01-02T03:04:05Z\",\"finalizers\":"
        "[\"f/1\"],\"ownerReferences\":[{\"kind\":\"X\",\"uid\":\"o\"}]},"
        "\"zeta\":1,\"alpha\":2}",
        "{\"kind\":\"K\",\"metadata\":{\"name\":\"b\"},\"s\":\"nul\\u0000in"
        "\\u00e9 \\\"q\\\" \\n\",\"r\":0.1,\"big\":1.8446744073709552e+19,"
        "\"neg\":-9223372036854775808,\"e\":[],\"o\":{},\"t\":true,"
        "\"f\":false,\"z\":null}",
    };
    struct kube_store *s;

    cr_assert_eq(kube_store_new(&s), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_loads(cases[i], JSON_ALLOW_NUL, NULL), *got = NULL;
        char *want, *have;

        cr_assert_not_null(in, "case %zu", i);
        want = json_dumps(in, JSON_COMPACT);
        cr_assert_eq(kube_store_put_new(s, json_incref(in)), 0);
        for (size_t f = 0; f < KUBE_STORE_HOT; f++) /* in's tree goes */
            cr_assert_eq(kube_store_put_new(s, numbered(f)), 0);
        cr_assert_eq(kube_store_get(&got, s, kube_json_str(in, "kind"),
                                    kube_json_str0(in, "metadata.namespace"),
                                    kube_json_str(in, "metadata.name")),
                     0);
        cr_expect(json_equal(in, got), "case %zu: not the same tree", i);
        have = json_dumps(got, JSON_COMPACT);
        cr_expect_str_eq(have, want, "case %zu: order or text differs", i);
        cr_expect_neq(got, in);
        json_decref(got);
        got = NULL;
        free(want);
        free(have);
        json_decref(in);
    }
    kube_store_free(s);
}

static json_t *get_numbered(struct kube_store *s, size_t i)
{
    char name[32];
    json_t *got = NULL;

    snprintf(name, sizeof(name), "o-%05zu", i);
    cr_assert_eq(kube_store_get(&got, s, "Pod", "n", name), 0, "%s", name);
    cr_expect_eq(json_integer_value(json_object_get(got, "i")), (json_int_t)i);
    return got;
}

/* The last KUBE_STORE_HOT objects read share one tree; older ones are
 * decoded again; a replaced object is never served from its old tree. */
Test(kube_store, hot_trees_are_shared_then_evicted)
{
    struct kube_store *s;
    json_t *first, *again, *other, *newer;
    size_t i;

    cr_assert_eq(kube_store_new(&s), 0);
    for (i = 0; i < KUBE_STORE_HOT + 10; i++)
        cr_assert_eq(kube_store_put_new(s, numbered(i)), 0);
    first = get_numbered(s, 0);
    again = get_numbered(s, 0);
    cr_expect_eq(again, first, "a hot object was decoded again");
    json_decref(again);
    for (i = 1; i <= KUBE_STORE_HOT; i++)
        json_decref(get_numbered(s, i));
    again = get_numbered(s, 0);
    cr_expect_neq(again, first, "still hot after KUBE_STORE_HOT reads");
    cr_expect(json_equal(again, first));
    other = get_numbered(s, KUBE_STORE_HOT);
    newer = numbered(KUBE_STORE_HOT);
    json_object_set_new(newer, "replaced", json_true());
    cr_assert_eq(kube_store_put_new(s, newer), 0);
    json_decref(other);
    other = get_numbered(s, KUBE_STORE_HOT);
    cr_expect(kube_json_true(other, "replaced"), "served the old tree");
    cr_assert_eq(kube_store_delete(s, "Pod", "n", "o-00000"), 0);
    kube_store_free(s); /* the readers' references outlive the store */
    cr_expect_eq(json_integer_value(json_object_get(first, "i")), 0);
    json_decref(first);
    json_decref(again);
    json_decref(other);
}

/* Bytes that land where a released tree was: any text that is not the
 * object's own would do. */
#define OVERWRITE "overwrites-the-block"

/* A review reads the store inside its jsonarena scope (the unit tests run
 * with the arena installed): a tree decoded there may become hot, so it
 * must come from the heap and outlive the scope; a tree written there is
 * arena memory, and must not become hot. ASan builds poison the arena. */
Test(kube_store, trees_in_an_arena_scope)
{
    struct kube_store *s;
    json_t *got, *overwrite;

    cr_assert_eq(kube_store_new(&s), 0);
    kube_json_arena_begin();
    cr_assert_eq(kube_store_put_new(s, numbered(7)), 0);
    got = get_numbered(s, 7); /* decoded: the put's tree was not kept */
    kube_json_arena_end();
    /* A second scope reuses the first one's block: these values overwrite
     * it, so a got left in arena memory would no longer read "o-00007"
     * below (and ASan builds report the read of released memory). */
    kube_json_arena_begin();
    overwrite = json_pack("{s:s, s:s}", "a", OVERWRITE, "b", OVERWRITE);
    cr_assert_not_null(overwrite);
    json_decref(overwrite);
    kube_json_arena_end();
    cr_expect_str_eq(kube_json_str0(got, "metadata.name"), "o-00007");
    json_decref(got);
    json_decref(get_numbered(s, 7));
    kube_store_free(s);
}

/* Keys without decoding, in list order; an emptied namespace is gone
 * from every list, and comes back when an object does. */
Test(kube_store, keys_and_emptied_namespaces)
{
    struct kube_store *s;
    json_t *l = NULL;
    char *text;

    cr_assert_eq(kube_store_new(&s), 0);
    cr_assert_eq(kube_store_put_new(s, obj("Pod", "b", "p2")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("Pod", "a", "p2")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("Pod", "a", "p1")), 0);
    cr_assert_eq(kube_store_keys(&l, s, "Pod", NULL), 0);
    text = json_dumps(l, JSON_COMPACT);
    cr_expect_str_eq(text, "[[\"a\",\"p1\"],[\"a\",\"p2\"],[\"b\",\"p2\"]]");
    free(text);
    json_decref(l);
    cr_assert_eq(kube_store_delete(s, "Pod", "b", "p2"), 0);
    cr_assert_eq(kube_store_keys(&l, s, "Pod", "b"), 0);
    cr_expect_eq(json_array_size(l), 0);
    json_decref(l);
    cr_assert_eq(kube_store_put_new(s, obj("Pod", "b", "p3")), 0);
    expect_list(s, "Pod", "b", 1, "p3");
    cr_assert_eq(kube_store_keys(&l, s, "Nothing", NULL), 0);
    cr_expect_eq(json_array_size(l), 0);
    json_decref(l);
    cr_expect_eq(kube_store_count(s), 3);
    kube_store_free(s);
}

/* The informers' relist compares resourceVersions without decoding. */
Test(kube_store, version_without_decoding)
{
    static const struct {
        const char *name, *ns, *want;
        size_t len;
        int rc;
    } cases[] = {
        {"v", "n", "12345", 64, KUBE_OK},
        {"none", "n", "", 64, KUBE_OK},
        {"v", "n", NULL, 5, KUBE_ETOOBIG},
        {"v", "other", NULL, 64, KUBE_ENOTFOUND},
        {"absent", "n", NULL, 64, KUBE_ENOTFOUND},
    };
    struct kube_store *s;

    cr_assert_eq(kube_store_new(&s), 0);
    cr_assert_eq(kube_store_put_new(s, json_pack("{s:s, s:{s:s, s:s, s:s}}",
                                                 "kind", "Pod", "metadata",
                                                 "name", "v", "namespace", "n",
                                                 "resourceVersion", "12345")),
                 0);
    cr_assert_eq(kube_store_put_new(s, obj("Pod", "n", "none")), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64] = "unset";
        int rc = kube_store_version(buf, cases[i].len, s, "Pod", cases[i].ns,
                                    cases[i].name);

        cr_expect_eq(rc, cases[i].rc, "%s/%s: rc %d", cases[i].ns,
                     cases[i].name, rc);
        if (cases[i].want)
            cr_expect_str_eq(buf, cases[i].want, "%s", cases[i].name);
    }
    kube_store_free(s);
}

/* One object with a payload of n bytes. */
static json_t *sized(const char *name, size_t n)
{
    char *pad = malloc(n + 1);
    json_t *o;

    cr_assert(pad);
    memset(pad, 'x', n);
    pad[n] = '\0';
    o = json_pack("{s:s, s:{s:s, s:s}, s:s}", "kind", "Pod", "metadata", "name",
                  name, "namespace", "n", "pad", pad);
    free(pad);
    return o;
}

/* Whether two gets of name share one tree. */
static int is_hot(struct kube_store *s, const char *name)
{
    json_t *a = NULL, *b = NULL;
    int same;

    cr_assert_eq(kube_store_get(&a, s, "Pod", "n", name), 0);
    cr_assert_eq(kube_store_get(&b, s, "Pod", "n", name), 0);
    same = a == b;
    json_decref(a);
    json_decref(b);
    return same;
}

/* Hot trees are bounded by their JSON's size too, and one object over a
 * quarter of that is never kept: big objects cannot pin the memory. */
Test(kube_store, hot_trees_stay_within_their_bytes)
{
    const size_t big = KUBE_STORE_HOT_BYTES / 4 + 1;
    const size_t part = KUBE_STORE_HOT_BYTES / 4 - 100;
    struct kube_store *s;
    json_t *p0, *p1, *again;

    cr_assert_eq(kube_store_new(&s), 0);
    cr_assert_eq(kube_store_put_new(s, sized("big", big)), 0);
    cr_expect_not(is_hot(s, "big"), "an object over a quarter was kept");
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof(name), "p%d", i);
        cr_assert_eq(kube_store_put_new(s, sized(name, part)), 0);
        cr_expect(is_hot(s, name), "%s", name);
    }
    /* four quarters fit; making p4 hot pushed out the oldest, p0, alone */
    cr_assert_eq(kube_store_get(&p1, s, "Pod", "n", "p1"), 0);
    cr_assert_eq(kube_store_get(&p0, s, "Pod", "n", "p0"), 0); /* evicts p1 */
    cr_assert_eq(kube_store_get(&again, s, "Pod", "n", "p1"), 0);
    cr_expect_neq(again, p1, "five quarters were kept at once");
    json_decref(p0);
    json_decref(p1);
    json_decref(again);
    kube_store_free(s);
}
