/* reconciler/restore_pvc.c - the restore's volumes and restored PVCs
 * (spec §6.2, §6.4). */
#include "reconciler/restore_pvc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "reconciler/api.h"
#include "reconciler/restore_meta.h"

/* ---- names (spec §6.2.4) ---- */

/* OpenShift's naming.GetName hash: FNV-1a 32 as 8 hex digits. */
static void fnv32a(char out[9], const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    snprintf(out, 9, "%08x", h);
}

/* naming.GetName(base, suffix, max): "base-suffix" when it fits; else
 * the base cut, its hash and the suffix; a suffix too long for that is
 * dropped for the hash of the whole name. */
static int get_name(char *buf, size_t len, const char *base, const char *suffix,
                    int max)
{
    int blen = (int)strlen(base), slen = (int)strlen(suffix);
    int keep = max - 10 - slen, n;
    char hash[9];

    if (blen + 1 + slen <= max)
        n = snprintf(buf, len, "%s-%s", base, suffix);
    else if (keep < 0) {
        char whole[2 * RC_RESTORE_NAME_MAX + 256];
        int cut = max - 9 < blen ? max - 9 : blen;

        snprintf(whole, sizeof(whole), "%s-%s", base, suffix);
        fnv32a(hash, whole);
        n = snprintf(buf, len, "%.*s-%s", cut < 0 ? 0 : cut, base, hash);
        if (n > max && (size_t)max < len)
            buf[n = max] = '\0';
    } else {
        fnv32a(hash, base);
        n = snprintf(buf, len, "%.*s-%s-%s", keep, base, hash, suffix);
    }
    return n < 0 || (size_t)n >= len ? KUBE_ETOOBIG : KUBE_OK;
}

/* The first volumeRestoreOverrides entry for volume with a restoreName,
 * or NULL (borrowed). */
static const char *override_name(const json_t *restore, const char *volume)
{
    const json_t *o;
    size_t i;

    json_array_foreach(kube_json_path(restore, "spec.volumeRestoreOverrides"),
                       i, o)
    {
        if (strcmp(kube_json_str0(o, "volumeName"), volume) == 0 &&
            *kube_json_str0(o, "restoreName"))
            return kube_json_str0(o, "restoreName");
    }
    return NULL;
}

/* snprintf that says whether the text fit: 0 or KUBE_ETOOBIG. */
static int KUBE_PRINTF(3, 4) put(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? KUBE_ETOOBIG : KUBE_OK;
}

int rc_restore_volume_name(char *buf, size_t len, const json_t *restore,
                           const char *volume, const char *claim)
{
    const char *policy = kube_json_str0(restore, "spec.volumeRestorePolicy");
    const char *name = override_name(restore, volume);
    int rc;

    if (name || strcmp(policy, "InPlace") == 0)
        rc = put(buf, len, "%s", name ? name : claim);
    else if (strcmp(policy, "PrefixTargetName") == 0)
        rc = get_name(buf, len, kube_json_str0(restore, "spec.target.name"),
                      volume, RC_RESTORE_NAME_MAX);
    else
        rc = put(buf, len, "restore-%s-%s",
                 kube_json_str0(restore, "metadata.uid"), volume);
    if (rc < 0 && len)
        *buf = '\0';
    return rc;
}

/* ---- status.restores (spec §6.2.3) ---- */

/* 1 when the snapshot VM's volume of that name is a memoryDump volume. */
static int is_memory_dump(const json_t *vm, const char *volume)
{
    const json_t *v = kube_json_find(
        kube_json_path(vm, "spec.template.spec.volumes"), "name", volume);

    return json_object_get(v, "memoryDump") != NULL;
}

/* The status.restores entry for backup b: the existing one, or a new one.
 * New reference in *out. */
static int volume_entry(json_t **out, const json_t *restore, const json_t *b,
                        struct kube_err *err)
{
    const char *vol = kube_json_str0(b, "volumeName");
    const char *vs = kube_json_str0(b, "volumeSnapshotName");
    const json_t *old = rc_json_find(kube_json_path(restore, "status.restores"),
                                     "volumeName", vol);
    char name[512];

    if (old) {
        *out = json_deep_copy(old);
        return *out ? KUBE_OK : KUBE_ENOMEM;
    }
    if (!*vs)
        return kube_err_set(err, KUBE_EINVAL,
                            "VolumeSnapshotName missing for volume %s", vol);
    if (rc_restore_volume_name(
            name, sizeof(name), restore, vol,
            kube_json_str0(b, "persistentVolumeClaim.metadata.name")) < 0)
        return kube_err_set(err, KUBE_EINVAL,
                            "restored claim name for volume %s is too long",
                            vol);
    *out = json_pack("{s:s, s:s, s:s}", "volumeName", vol,
                     "persistentVolumeClaim", name, "volumeSnapshotName", vs);
    return *out ? KUBE_OK : KUBE_ENOMEM;
}

int rc_restore_volumes(json_t **out, int *changed,
                       const struct rc_restore_in *in, struct kube_err *err)
{
    const json_t *vm = rc_restore_source_vm(in->content), *b, *old;
    json_t *list, *e = NULL;
    size_t i;
    int rc = KUBE_OK;

    *out = NULL;
    if (!in->content)
        return kube_err_set(
            err, KUBE_EINVAL, "VMSnapshotContent %s does not exist",
            kube_json_str0(in->snapshot,
                           "status.virtualMachineSnapshotContentName"));
    list = json_array();
    if (!list)
        return KUBE_ENOMEM;
    json_array_foreach(kube_json_path(in->content, "spec.volumeBackups"), i, b)
    {
        if (is_memory_dump(vm, kube_json_str0(b, "volumeName")))
            continue;
        rc = volume_entry(&e, in->restore, b, err);
        if (rc == KUBE_OK && json_array_append_new(list, e))
            rc = KUBE_ENOMEM;
        if (rc < 0)
            goto done;
    }
    old = kube_json_path(in->restore, "status.restores");
    *changed = old ? !json_equal(old, list) : json_array_size(list) > 0;
    *out = list;
    list = NULL;
done:
    json_decref(list);
    return rc;
}

/* ---- the claim found under the restored name (spec §6.2.5) ---- */

/* The name of pvc's controller owner of kind DataVolume, or NULL. */
static const char *dv_owner(const json_t *pvc)
{
    const json_t *o;
    size_t i;

    json_array_foreach(kube_json_path(pvc, "metadata.ownerReferences"), i, o)
    {
        if (kube_json_true(o, "controller") &&
            strcmp(kube_json_str0(o, "kind"), "DataVolume") == 0)
            return kube_json_str(o, "name");
    }
    return NULL;
}

/* A Pending claim: wait unless its class binds WaitForFirstConsumer. */
static enum rc_pvc_next pending(const json_t *pvc, const json_t *sc,
                                struct kube_err *err)
{
    const char *cls = kube_json_str(pvc, "spec.storageClassName");

    if (!cls)
        return RC_PVC_WAIT; /* no class: no binding mode, as KubeVirt */
    if (!sc) {
        kube_err_set(err, KUBE_EINVAL, "StorageClass %s does not exist", cls);
        return RC_PVC_FAILED;
    }
    if (strcmp(kube_json_str0(sc, "volumeBindingMode"),
               "WaitForFirstConsumer") == 0)
        return RC_PVC_READY;
    return RC_PVC_WAIT;
}

enum rc_pvc_next rc_restore_pvc_next(char *dv, size_t dvlen,
                                     const struct rc_restore_in *in,
                                     const json_t *entry, const json_t *pvc,
                                     const json_t *sc, struct kube_err *err)
{
    const char *policy =
        kube_json_str0(in->restore, "spec.volumeRestorePolicy");
    const char *phase = kube_json_str0(pvc, "status.phase");
    const char *owner = dv_owner(pvc);

    if (dvlen)
        *dv = '\0';
    if (!pvc)
        return RC_PVC_CREATE;
    if (strcmp(policy, "InPlace") == 0 &&
        !rc_restore_marked(pvc, in->restore)) {
        if (!owner || kube_json_str(entry, "dataVolumeName"))
            return RC_PVC_REPLACE;
        if (put(dv, dvlen, "%s", owner) < 0) {
            kube_err_set(err, KUBE_ETOOBIG, "DataVolume name %s too long",
                         owner);
            return RC_PVC_FAILED;
        }
        return RC_PVC_SET_DV;
    }
    if (strcmp(phase, "Bound") == 0)
        return RC_PVC_READY;
    if (strcmp(phase, "Pending") == 0 || !*phase) /* no phase yet: Pending */
        return pending(pvc, sc, err);
    kube_err_set(err, KUBE_EINVAL, "PVC %s/%s in status \"%s\"",
                 kube_json_str0(pvc, "metadata.namespace"),
                 kube_json_str0(pvc, "metadata.name"), phase);
    return RC_PVC_FAILED;
}

/* ---- the restored PVC (spec §6.4) ---- */

/* Kubernetes quantity text as a number of bytes (long double keeps every
 * size exact up to 2^64): digits, a fraction, then a binary (Ki..Ei) or
 * decimal (m, k..E) suffix or an exponent. 0 or KUBE_EINVAL. */
static int quantity(long double *out, const char *s)
{
    static const struct {
        const char *sfx;
        long double mul;
    } units[] = {
        {"Ki", 1024.0L},
        {"Mi", 1048576.0L},
        {"Gi", 1073741824.0L},
        {"Ti", 1099511627776.0L},
        {"Pi", 1125899906842624.0L},
        {"Ei", 1152921504606846976.0L},
        {"m", 1e-3L},
        {"k", 1e3L},
        {"M", 1e6L},
        {"G", 1e9L},
        {"T", 1e12L},
        {"P", 1e15L},
        {"E", 1e18L},
        {"", 1.0L},
    };
    long double v = 0, scale = 1;
    const char *p = s;

    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            v += (*p - '0') * (scale /= 10);
    if (p == s)
        return KUBE_EINVAL;
    if ((*p == 'e' || *p == 'E') && p[1] >= '0' && p[1] <= '9') {
        int e = 0;
        for (p++; *p >= '0' && *p <= '9' && e < 100; p++)
            e = e * 10 + (*p - '0');
        while (e-- > 0)
            v *= 10;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(p, units[i].sfx) == 0) {
            *out = v * units[i].mul;
            return KUBE_OK;
        }
    return KUBE_EINVAL;
}

/* Raises spec.resources.requests.storage to the VolumeSnapshot's
 * restoreSize when that is larger or nothing was requested. */
static int restore_size(json_t *spec, const json_t *volsnap,
                        struct kube_err *err)
{
    const char *want = kube_json_str(volsnap, "status.restoreSize");
    const char *have = kube_json_str(spec, "resources.requests.storage");
    long double w, h;
    json_t *req;

    if (!want)
        return KUBE_OK;
    if (quantity(&w, want) < 0)
        return kube_err_set(err, KUBE_EINVAL,
                            "restoreSize %s of VolumeSnapshot %s does not "
                            "parse",
                            want, kube_json_str0(volsnap, "metadata.name"));
    if (have && quantity(&h, have) < 0)
        return kube_err_set(err, KUBE_EINVAL,
                            "requests.storage %s does not parse", have);
    if (have && h >= w)
        return KUBE_OK;
    req = rc_json_child(rc_json_child(spec, "resources"), "requests");
    if (!req || json_object_set_new(req, "storage", json_string(want)))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

/* 1 for an annotation the volume's old life left: binding, provisioning,
 * CDI and clone bookkeeping a new claim must not inherit. */
static int stale_annotation(const char *key)
{
    static const char *const prefixes[] = {"pv.kubernetes.io",
                                           "volume.beta.kubernetes.io",
                                           "cdi.kubevirt.io",
                                           "volume.kubernetes.io",
                                           "k8s.io/CloneRequest",
                                           "k8s.io/CloneOf",
                                           NULL};

    if (strcmp(key, "cdi.kubevirt.io/storage.contentType") == 0)
        return 0;
    for (size_t i = 0; prefixes[i]; i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Copies the string pairs of from into to (an object we own), skipping
 * the keys skip says no to (skip may be NULL). */
static int copy_pairs(json_t *to, const json_t *from, int (*skip)(const char *))
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)from, k, v)
    {
        if (!json_is_string(v) || (skip && skip(k)))
            continue;
        if (json_object_set(to, k, v))
            return KUBE_ENOMEM;
    }
    return KUBE_OK;
}

static int backend_label(const char *key)
{
    return strcmp(key, "persistent-state-for") == 0;
}

/* Labels and annotations of the restored claim, in the order §6.4 lists. */
static int build_meta(json_t *meta, const struct rc_restore_in *in,
                      const json_t *from)
{
    const json_t *vm = rc_restore_source_vm(in->content), *o;
    json_t *labels = rc_json_child(meta, "labels");
    json_t *ann = rc_json_child(meta, "annotations");
    const char *vol = kube_json_str0(from, "volumeName");
    char uid[512];
    size_t i;

    if (!labels || !ann ||
        copy_pairs(
            labels,
            kube_json_path(from, "persistentVolumeClaim.metadata.labels"),
            backend_label) < 0 ||
        copy_pairs(
            ann,
            kube_json_path(from, "persistentVolumeClaim.metadata.annotations"),
            stale_annotation) < 0 ||
        rc_restore_uid_value(uid, sizeof(uid), in->restore) < 0)
        return KUBE_ENOMEM;
    if (json_object_set_new(labels, RC_RESTORE_LABEL_VM_NAME,
                            json_string(kube_json_str0(vm, "metadata.name"))) ||
        json_object_set_new(
            labels, RC_RESTORE_LABEL_VM_NS,
            json_string(kube_json_str0(vm, "metadata.namespace"))) ||
        json_object_set_new(
            ann, RC_ANN_RESTORE_NAME,
            json_string(kube_json_str0(in->restore, "metadata.name"))) ||
        json_object_set_new(ann, RC_ANN_LAST_RESTORE_UID, json_string(uid)))
        return KUBE_ENOMEM;
    json_array_foreach(
        kube_json_path(in->restore, "spec.volumeRestoreOverrides"), i, o)
    {
        if (strcmp(kube_json_str0(o, "volumeName"), vol) != 0)
            continue;
        if (copy_pairs(labels, json_object_get(o, "labels"), NULL) < 0 ||
            copy_pairs(ann, json_object_get(o, "annotations"), NULL) < 0)
            return KUBE_ENOMEM;
    }
    return KUBE_OK;
}

/* 1 when backup b's PVC was owned by the snapshot VM vm. */
static int owned_by(const json_t *b, const json_t *vm)
{
    const json_t *o;
    size_t i;

    json_array_foreach(
        kube_json_path(b, "persistentVolumeClaim.metadata.ownerReferences"), i,
        o)
    {
        if (strcmp(kube_json_str0(o, "kind"), "VirtualMachine") == 0 &&
            strcmp(kube_json_str0(o, "name"),
                   kube_json_str0(vm, "metadata.name")) == 0 &&
            strcmp(kube_json_str0(o, "uid"),
                   kube_json_str0(vm, "metadata.uid")) == 0)
            return 1;
    }
    return 0;
}

/* The claim's owner, first rule that applies (spec §6.4). */
static int build_owner(json_t *meta, const struct rc_restore_in *in,
                       const json_t *entry, const json_t *from)
{
    const char *dv = kube_json_str(entry, "dataVolumeName");
    const char *rname = kube_json_str0(in->restore, "metadata.name");
    int own = strcmp(kube_json_str0(in->restore, "spec.volumeOwnershipPolicy"),
                     "None") != 0;
    json_t *ann = json_object_get(meta, "annotations"), *ref;

    if (dv)
        return json_object_set_new(ann, RC_ANN_POPULATED_FOR, json_string(dv))
                   ? KUBE_ENOMEM
                   : KUBE_OK;
    if (own && in->target) {
        ref = json_array();
        if (!ref || json_array_append_new(ref, rc_owner_ref(in->target, 1))) {
            json_decref(ref);
            return KUBE_ENOMEM;
        }
        return json_object_set_new(meta, "ownerReferences", ref) ? KUBE_ENOMEM
                                                                 : KUBE_OK;
    }
    if (own && owned_by(from, rc_restore_source_vm(in->content)))
        return json_object_set_new(ann, RC_ANN_OWNED_BY_VM, json_string(rname))
                   ? KUBE_ENOMEM
                   : KUBE_OK;
    return KUBE_OK;
}

/* spec: the backup's access modes, resources, class and volume mode, and
 * the VolumeSnapshot as both dataSource and dataSourceRef. */
static int build_spec(json_t *spec, const json_t *from, const char *vs)
{
    static const char *const keep[] = {"accessModes", "resources",
                                       "storageClassName", "volumeMode", NULL};
    const json_t *fs = kube_json_path(from, "persistentVolumeClaim.spec");

    for (size_t i = 0; keep[i]; i++) {
        const json_t *v = json_object_get(fs, keep[i]);
        if (v && json_object_set_new(spec, keep[i], json_deep_copy(v)))
            return KUBE_ENOMEM;
    }
    if (json_object_set_new(spec, "dataSource",
                            json_pack("{s:s, s:s, s:s}", "apiGroup",
                                      "snapshot.storage.k8s.io", "kind",
                                      "VolumeSnapshot", "name", vs)) ||
        json_object_set_new(
            spec, "dataSourceRef",
            json_deep_copy(json_object_get(spec, "dataSource"))))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

int rc_restore_pvc_build(json_t **out, const struct rc_restore_in *in,
                         const json_t *entry, const json_t *volsnap,
                         struct kube_err *err)
{
    const char *vol = kube_json_str0(entry, "volumeName");
    const char *vs = kube_json_str0(entry, "volumeSnapshotName");
    const json_t *from = rc_json_find(
        kube_json_path(in->content, "spec.volumeBackups"), "volumeName", vol);
    json_t *pvc, *meta, *spec;
    int rc;

    *out = NULL;
    if (!volsnap)
        return kube_err_set(err, KUBE_EINVAL, "missing volumeSnapshot %s", vs);
    if (!from)
        return kube_err_set(err, KUBE_EINVAL,
                            "no volumeBackup for volume %s in the content",
                            vol);
    pvc = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}}", "apiVersion", "v1",
                    "kind", "PersistentVolumeClaim", "metadata", "name",
                    kube_json_str0(entry, "persistentVolumeClaim"), "namespace",
                    kube_json_str0(in->restore, "metadata.namespace"), "spec");
    if (!pvc)
        return KUBE_ENOMEM;
    meta = json_object_get(pvc, "metadata");
    spec = json_object_get(pvc, "spec");
    rc = build_meta(meta, in, from);
    if (rc == KUBE_OK)
        rc = build_owner(meta, in, entry, from);
    if (rc == KUBE_OK)
        rc = build_spec(spec, from, vs);
    if (rc == KUBE_OK)
        rc = restore_size(spec, volsnap, err);
    if (rc < 0) {
        json_decref(pvc);
        return rc;
    }
    *out = pvc;
    return KUBE_OK;
}
