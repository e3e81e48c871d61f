/* tests/kube/store.c - the object store and its file loader. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/json.h"
#include "kube/store.h"

static json_t *obj(const char *kind, const char *ns, const char *name)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "kind", kind, "metadata", "name",
                     name, "namespace", ns);
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
    cr_assert_eq(json_object_set_new(newer, "spec",
                                     json_pack("{s:s}", "runStrategy",
                                               "Halted")),
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
    json_t *l;

    cr_assert_eq(kube_store_new(&s), 0);
    cr_assert_eq(kube_store_put_new(s, obj("R", "a", "z")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("R", "a", "b")), 0);
    cr_assert_eq(kube_store_put_new(s, obj("R", "c", "m")), 0);
    cr_assert_eq(kube_store_list(&l, s, "R", "a"), 0);
    cr_expect_eq(json_array_size(l), 2);
    cr_expect_str_eq(kube_json_str0(json_array_get(l, 0), "metadata.name"),
                     "b");
    json_decref(l);
    cr_assert_eq(kube_store_list(&l, s, "R", NULL), 0);
    cr_expect_eq(json_array_size(l), 3);
    json_decref(l);
    cr_assert_eq(kube_store_list(&l, s, "Nothing", "a"), 0);
    cr_expect_eq(json_array_size(l), 0);
    json_decref(l);
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
