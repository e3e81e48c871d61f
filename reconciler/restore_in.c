/* reconciler/restore_in.c - the names a restore leaves on what it wrote,
 * and which events concern a restore. */
#include "reconciler/restore_in.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"

int rc_restore_uid_value(char *buf, size_t len, const json_t *restore)
{
    int n =
        snprintf(buf, len, "%s-%s", kube_json_str0(restore, "metadata.name"),
                 kube_json_str0(restore, "metadata.uid"));

    if (n < 0 || (size_t)n >= len) {
        if (len)
            *buf = '\0';
        return KUBE_ETOOBIG;
    }
    return KUBE_OK;
}

int rc_restore_marked(const json_t *obj, const json_t *restore)
{
    const json_t *ann = kube_json_path(obj, "metadata.annotations");
    const char *v =
        json_string_value(json_object_get(ann, RC_ANN_LAST_RESTORE_UID));
    char want[512];

    return v && rc_restore_uid_value(want, sizeof(want), restore) == KUBE_OK &&
           strcmp(v, want) == 0;
}

const json_t *rc_restore_source_vm(const json_t *content)
{
    const json_t *vm = kube_json_path(content, "spec.source.virtualMachine");

    return json_is_object(vm) ? vm : NULL;
}

int rc_restore_concerns(const json_t *restore, const char *kind,
                        const json_t *obj)
{
    const char *name = kube_json_str0(obj, "metadata.name");

    if (strcmp(kind, "VirtualMachine") == 0 ||
        strcmp(kind, "VirtualMachineInstance") == 0)
        return strcmp(kube_json_str0(restore, "spec.target.name"), name) == 0;
    if (strcmp(kind, "VirtualMachineSnapshotContent") == 0)
        name = kube_json_str0(obj, "spec.virtualMachineSnapshotName");
    else if (strcmp(kind, "VolumeSnapshot") == 0)
        return rc_json_find(kube_json_path(restore, "status.restores"),
                            "volumeSnapshotName", name) != NULL;
    else if (strcmp(kind, "VirtualMachineSnapshot") != 0)
        return 0;
    return *name &&
           strcmp(kube_json_str0(restore, "spec.virtualMachineSnapshotName"),
                  name) == 0;
}

const char *rc_restore_ann(const json_t *obj, const char *key)
{
    const char *v = json_string_value(
        json_object_get(kube_json_path(obj, "metadata.annotations"), key));

    return v ? v : "";
}

json_t *rc_json_find(const json_t *list, const char *key, const char *value)
{
    json_t *e;
    size_t i;

    json_array_foreach(list, i, e)
    {
        if (strcmp(kube_json_str0(e, key), value) == 0)
            return e;
    }
    return NULL;
}

json_t *rc_json_child(json_t *parent, const char *key)
{
    json_t *c = json_object_get(parent, key);

    if (json_is_object(c) || !parent)
        return c;
    c = json_object();
    if (json_object_set_new(parent, key, c))
        return NULL;
    return c;
}

int rc_meta_set(json_t *obj, const char *map, const char *key,
                const char *value)
{
    json_t *m = rc_json_child(rc_json_child(obj, "metadata"), map);

    if (!m || json_object_set_new(m, key, json_string(value)))
        return KUBE_ENOMEM;
    return KUBE_OK;
}
