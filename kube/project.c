/* kube/project.c - the cache's projection table and the code that applies
 * it (see the header for the rule). */
#include "kube/project.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"

static const char *const no_managed[] = {"metadata.managedFields", NULL};

/* The reconciler's pod check (reconciler/source.c, check_pods): a pod's
 * name, phase and claims. A pod's containers and their statuses are most
 * of it, and pods outnumber everything else the daemon caches. */
static const char *const pod_keep[] = {
    "apiVersion", "kind", "metadata", "spec.volumes", "status.phase", NULL};
static const char *const pod_drop[] = {"metadata.managedFields",
                                       "metadata.annotations", NULL};

/* The rules read a VMI's presence, metadata and status (conditions:
 * AgentConnected and Paused; fsFreezeStatus); never its spec, which is
 * the VM's template filled in by KubeVirt. */
static const char *const vmi_keep[] = {"apiVersion", "kind", "metadata",
                                       "status", NULL};

static const struct kube_projection projections[] = {
    {"Pod", pod_keep, pod_drop},
    {"VirtualMachineInstance", vmi_keep, no_managed},
    /* every other kind whole: VirtualMachine (status PUT back from the
       cache, metadata and spec copied into a content), PVC (copied into
       a content), the snapshot kinds (our own, status written whole),
       DataVolume, Namespace, the classes */
    {NULL, NULL, no_managed},
};

const struct kube_projection *kube_projection_for(const char *kind)
{
    size_t i;

    for (i = 0; projections[i].kind; i++)
        if (kind && strcmp(projections[i].kind, kind) == 0)
            break;
    return &projections[i];
}

/* Sets v (borrowed) at the dotted path in out, making the parents that
 * out lacks. */
static int put_path(json_t *out, const char *path, json_t *v)
{
    char key[128];
    const char *dot;
    json_t *next;

    while ((dot = strchr(path, '.'))) {
        if ((size_t)(dot - path) >= sizeof(key))
            return -1;
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        next = json_object_get(out, key);
        if (!next) {
            next = json_object();
            if (json_object_set_new(out, key, next))
                return -1;
        }
        out = next;
        path = dot + 1;
    }
    return json_object_set(out, path, v);
}

/* Removes the dotted path from out, copying (shallow) each object on the
 * way first: out's children may be shared with the source object. */
static int drop_path(json_t *out, const char *path)
{
    char key[128];
    const char *dot;
    json_t *copy;

    if (!kube_json_path(out, path))
        return 0;
    while ((dot = strchr(path, '.'))) {
        if ((size_t)(dot - path) >= sizeof(key))
            return -1;
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        copy = json_copy(json_object_get(out, key));
        if (!copy || json_object_set_new(out, key, copy))
            return -1;
        out = copy;
        path = dot + 1;
    }
    return json_object_del(out, path);
}

/* Whether any of the paths is present in obj. */
static int has_any(const json_t *obj, const char *const *paths)
{
    for (size_t i = 0; paths && paths[i]; i++)
        if (kube_json_path(obj, paths[i]))
            return 1;
    return 0;
}

json_t *kube_project(const json_t *obj)
{
    const struct kube_projection *p =
        kube_projection_for(kube_json_str(obj, "kind"));
    json_t *out, *v;
    size_t i;

    if (!json_is_object(obj) || (!p->keep && !has_any(obj, p->drop)))
        return json_incref((json_t *)obj); /* nothing to drop: shared */
    out = p->keep ? json_object() : json_copy((json_t *)obj);
    for (i = 0; out && p->keep && p->keep[i]; i++) {
        v = kube_json_path(obj, p->keep[i]);
        if (v && put_path(out, p->keep[i], v) < 0)
            goto fail;
    }
    for (i = 0; out && p->drop && p->drop[i]; i++)
        if (drop_path(out, p->drop[i]) < 0)
            goto fail;
    return out;
fail:
    json_decref(out);
    return NULL;
}
