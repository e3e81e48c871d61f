/* kube/restoremsg.c - the tests both halves make of a snapshot before a
 * restore: was it taken online, does its VM need backend storage. */
#include "kube/restoremsg.h"

#include <string.h>

#include "kube/json.h"

/* Whether a list of indications (strings, or {indication: ...} objects)
 * holds Online. */
static int has_online(const json_t *list)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v)
                                          : kube_json_str0(v, "indication");
        if (strcmp(s, "Online") == 0)
            return 1;
    }
    return 0;
}

int kube_snapshot_online(const json_t *snap)
{
    return has_online(kube_json_path(snap, "status.indications")) ||
           has_online(kube_json_path(snap, "status.sourceIndications"));
}

int kube_vm_needs_backend_storage(const json_t *vm)
{
    const json_t *dom = kube_json_path(vm, "spec.template.spec.domain");

    return kube_json_true(dom, "devices.tpm.persistent") ||
           kube_json_true(dom, "firmware.bootloader.efi.persistent");
}
