/* reconciler/conditions.c - status.conditions, matched by type. */
#include "reconciler/conditions.h"

#include <string.h>

#include "kube/json.h"
#include "kube/metatime.h"

const json_t *rc_condition_get(const json_t *status, const char *type)
{
    return kube_json_find(json_object_get(status, "conditions"), "type", type);
}

int rc_condition_set(json_t *status, const char *type, int on,
                     const char *reason, int64_t now_ms)
{
    json_t *conds = json_object_get(status, "conditions"), *c;
    const char *s = on ? "True" : "False";
    char now[KUBE_METATIME_LEN];
    size_t i;

    if (!json_is_array(conds)) {
        conds = json_array();
        if (!conds || json_object_set_new(status, "conditions", conds))
            return KUBE_ENOMEM;
    }
    json_array_foreach(conds, i, c)
    {
        if (strcmp(kube_json_str0(c, "type"), type) != 0)
            continue;
        if (strcmp(kube_json_str0(c, "status"), s) == 0 &&
            strcmp(kube_json_str0(c, "reason"), reason) == 0)
            return 0;
        break;
    }
    kube_metatime_format(now, sizeof(now), now_ms);
    c = json_pack("{s:s, s:s, s:n, s:s, s:s}", "type", type, "status", s,
                  "lastProbeTime", "lastTransitionTime", now, "reason", reason);
    if (!c)
        return KUBE_ENOMEM;
    if (i < json_array_size(conds) ? json_array_set_new(conds, i, c)
                                   : json_array_append_new(conds, c))
        return KUBE_ENOMEM;
    return 1;
}
