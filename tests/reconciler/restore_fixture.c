/* tests/reconciler/restore_fixture.c - loading the restore fixtures. */
#include "tests/reconciler/restore_fixture.h"

#include <criterion/criterion.h>
#include <string.h>

#include "kube/json.h"

#define DIR "tests/data/reconciler/restore/"

static json_t *load(const char *file)
{
    json_error_t jerr;
    json_t *v = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);

    cr_assert_not_null(v, "%s:%d: %s", file, jerr.line, jerr.text);
    return v;
}

void fx_load(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->restore = load(DIR "restore.json");
    f->snapshot = load(DIR "snapshot.json");
    f->content = load(DIR "content.json");
    f->target = load(DIR "vm.json");
    f->vs_dv = load(DIR "volumesnapshot-datavolumedisk1.json");
    f->vs_root = load(DIR "volumesnapshot-rootdisk.json");
    f->in.restore = f->restore;
    f->in.snapshot = f->snapshot;
    f->in.content = f->content;
    f->in.target = f->target;
}

void fx_free(struct fx *f)
{
    json_decref(f->restore);
    json_decref(f->snapshot);
    json_decref(f->content);
    json_decref(f->target);
    json_decref(f->vs_dv);
    json_decref(f->vs_root);
}

json_t *fx_json(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

    cr_assert_not_null(v, "%s: %s", text, jerr.text);
    return v;
}

void fx_set(json_t *obj, const char *path, json_t *v)
{
    char key[128];
    const char *dot = strchr(path, '.');

    if (!dot) {
        cr_assert_eq(json_object_set_new(obj, path, v), 0, "%s", path);
        return;
    }
    cr_assert_lt((size_t)(dot - path), sizeof(key));
    memcpy(key, path, (size_t)(dot - path));
    key[dot - path] = '\0';
    if (!json_is_object(json_object_get(obj, key)))
        json_object_set_new(obj, key, json_object());
    fx_set(json_object_get(obj, key), dot + 1, v);
}

static const char *meta_key(const json_t *obj, const char *map, const char *key)
{
    const char *v =
        json_string_value(json_object_get(kube_json_path(obj, map), key));

    return v ? v : "";
}

const char *fx_ann(const json_t *obj, const char *key)
{
    return meta_key(obj, "metadata.annotations", key);
}

const char *fx_label(const json_t *obj, const char *key)
{
    return meta_key(obj, "metadata.labels", key);
}
