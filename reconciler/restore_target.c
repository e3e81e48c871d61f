/* reconciler/restore_target.c - the VM a restore writes (spec §6.3, §6.5)
 * and the DataVolumes that go with it. */
#include "reconciler/restore_target.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/patch.h"
#include "reconciler/restore_pvc.h"

int rc_restore_target_done(const struct rc_restore_in *in)
{
    return in->target && rc_restore_marked(in->target, in->restore);
}

/* The dataVolumeTemplates entry of spec named dv (borrowed), or NULL. */
static json_t *dv_template(const json_t *spec, const char *dv)
{
    json_t *t;
    size_t i;

    json_array_foreach(json_object_get(spec, "dataVolumeTemplates"), i, t)
    {
        if (strcmp(kube_json_str0(t, "metadata.name"), dv) == 0)
            return t;
    }
    return NULL;
}

/* ---- DataVolume names (spec §6.3.2) ---- */

int rc_restore_dv_names(json_t *restores, int *changed,
                        const struct rc_restore_in *in, struct kube_err *err)
{
    const json_t *vm = rc_restore_source_vm(in->content), *spec;
    const json_t *vols;
    json_t *e;
    size_t i;

    *changed = 0;
    if (!vm)
        return kube_err_set(err, KUBE_EINVAL, "unexpected snapshot source");
    spec = json_object_get(vm, "spec");
    vols = kube_json_path(spec, "template.spec.volumes");
    json_array_foreach(restores, i, e)
    {
        const char *vol = kube_json_str0(e, "volumeName");
        const char *dv =
            kube_json_str(rc_json_find(vols, "name", vol), "dataVolume.name");
        char name[256];

        if (!dv || !dv_template(spec, dv))
            continue;
        if (rc_restore_volume_name(name, sizeof(name), in->restore, vol, dv) <
            0)
            return kube_err_set(err, KUBE_EINVAL,
                                "DataVolume name for volume %s is too long",
                                vol);
        if (strcmp(kube_json_str0(e, "dataVolumeName"), name) == 0)
            continue;
        if (json_object_set_new(e, "dataVolumeName", json_string(name)))
            return KUBE_ENOMEM;
        *changed = 1;
    }
    return KUBE_OK;
}

int rc_restore_pvc_adopt(json_t **out, const json_t *pvc, const char *dv)
{
    const json_t *ann = kube_json_path(pvc, "metadata.annotations");
    const char *have =
        json_string_value(json_object_get(ann, RC_ANN_POPULATED_FOR));

    *out = NULL;
    if (have && strcmp(have, dv) == 0 &&
        json_array_size(kube_json_path(pvc, "metadata.ownerReferences")) == 0)
        return KUBE_OK;
    *out = json_deep_copy(pvc);
    if (!*out || rc_meta_set(*out, "annotations", RC_ANN_POPULATED_FOR, dv)) {
        json_decref(*out);
        *out = NULL;
        return KUBE_ENOMEM;
    }
    json_object_del(json_object_get(*out, "metadata"), "ownerReferences");
    return KUBE_OK;
}

/* ---- the restored VM spec (spec §6.3.3) ---- */

/* Volume v (ours to change) of spec pointed at its restore entry e. */
static int restore_volume(json_t *spec, json_t *v, const json_t *e,
                          struct kube_err *err)
{
    const char *pvc = kube_json_str0(e, "persistentVolumeClaim");
    json_t *src = json_object_get(v, "persistentVolumeClaim"), *t;
    const char *dv = kube_json_str(v, "dataVolume.name"), *dvn;

    if (src)
        return json_object_set_new(src, "claimName", json_string(pvc))
                   ? KUBE_ENOMEM
                   : KUBE_OK;
    if (!dv)
        return KUBE_OK; /* not a claim: kept as it is */
    t = dv_template(spec, dv);
    if (!t) { /* a DataVolume without a template: now a plain claim */
        json_t *hot =
            json_object_get(json_object_get(v, "dataVolume"), "hotpluggable");
        src = json_pack("{s:s}", "claimName", pvc);
        if (!src || (hot && json_object_set(src, "hotpluggable", hot)) ||
            json_object_set_new(v, "persistentVolumeClaim", src))
            return KUBE_ENOMEM;
        json_object_del(v, "dataVolume");
        return KUBE_OK;
    }
    dvn = kube_json_str(e, "dataVolumeName");
    if (!dvn)
        return kube_err_set(err, KUBE_EINVAL,
                            "DataVolumeName for dv %s should have been "
                            "updated already",
                            dv);
    if (json_object_set_new(json_object_get(t, "metadata"), "name",
                            json_string(dvn)) ||
        json_object_set_new(json_object_get(v, "dataVolume"), "name",
                            json_string(dvn)))
        return KUBE_ENOMEM;
    return KUBE_OK;
}

/* spec (a copy we own) with its volumes on the restored claims and its
 * memoryDump volumes dropped. */
static int restore_volumes(json_t *spec, const json_t *restores,
                           struct kube_err *err)
{
    json_t *tspec = kube_json_path(spec, "template.spec");
    json_t *vols = json_object_get(tspec, "volumes"), *keep, *v;
    size_t i;
    int rc = KUBE_OK;

    if (!json_is_array(vols))
        return KUBE_OK;
    keep = json_array();
    if (!keep)
        return KUBE_ENOMEM;
    json_array_foreach(vols, i, v)
    {
        const json_t *e =
            rc_json_find(restores, "volumeName", kube_json_str0(v, "name"));
        if (json_object_get(v, "memoryDump"))
            continue;
        if (e)
            rc = restore_volume(spec, v, e, err);
        if (rc == KUBE_OK && json_array_append(keep, v))
            rc = KUBE_ENOMEM;
        if (rc < 0)
            break;
    }
    if (rc == KUBE_OK && json_object_set(tspec, "volumes", keep))
        rc = KUBE_ENOMEM;
    json_decref(keep);
    return rc;
}

/* running/runStrategy of the VM to write: from runs (the existing target,
 * or for a new VM the snapshot VM), always stopped (spec §6.3.3). */
static int stopped(json_t *spec, const json_t *runs, int new_vm)
{
    const json_t *strategy = kube_json_path(runs, "spec.runStrategy");

    if (kube_json_path(runs, "spec.running")) {
        json_object_del(spec, "runStrategy");
        return json_object_set_new(spec, "running", json_false());
    }
    json_object_del(spec, "running");
    if (new_vm)
        return json_object_set_new(spec, "runStrategy", json_string("Halted"));
    if (!strategy) {
        json_object_del(spec, "runStrategy");
        return 0;
    }
    return json_object_set(spec, "runStrategy", (json_t *)strategy);
}

/* ---- the VM to write (spec §6.3.3, §6.5) ---- */

int rc_restore_legacy_uuid(char buf[37], const char *name)
{
    /* KubeVirt's magicUUID 6a1a24a1-4061-4607-8bf4-a3963d0c5895 */
    static const unsigned char ns[16] = {0x6a, 0x1a, 0x24, 0xa1, 0x40, 0x61,
                                         0x46, 0x07, 0x8b, 0xf4, 0xa3, 0x96,
                                         0x3d, 0x0c, 0x58, 0x95};
    unsigned char in[16 + 256], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t n = strlen(name);

    if (n > sizeof(in) - 16)
        return KUBE_ERR; /* a VM name is at most 253 characters */
    memcpy(in, ns, 16);
    memcpy(in + 16, name, n);
    if (!EVP_Digest(in, 16 + n, md, &mdlen, EVP_sha1(), NULL) || mdlen < 16)
        return KUBE_ERR;
    md[6] = (md[6] & 0x0f) | 0x50; /* version 5: SHA-1 */
    md[8] = (md[8] & 0x3f) | 0x80; /* RFC 4122 variant */
    snprintf(buf, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8],
             md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
    return KUBE_OK;
}

/* A VM restored under the snapshot VM's own name keeps the firmware UUID
 * KubeVirt derived from that name, so the guest sees the same machine. */
static int keep_firmware_uuid(json_t *spec, const json_t *src,
                              const char *target)
{
    json_t *dom = kube_json_path(spec, "template.spec.domain"), *fw;
    const char *name = kube_json_str0(src, "metadata.name");
    char uuid[37];

    if (!dom || strcmp(name, target) != 0)
        return KUBE_OK;
    fw = rc_json_child(dom, "firmware");
    if (!fw)
        return KUBE_ENOMEM;
    if (*kube_json_str0(fw, "uuid"))
        return KUBE_OK;
    if (rc_restore_legacy_uuid(uuid, name) < 0)
        return KUBE_ERR;
    return json_object_set_new(fw, "uuid", json_string(uuid)) ? KUBE_ENOMEM
                                                              : KUBE_OK;
}

/* A new VM: kubevirt.io/v1, named after the target, in the restore's
 * namespace, with only the snapshot VM's labels and annotations: no uid,
 * resourceVersion, owners, finalizers or status of the original. */
static json_t *new_vm(const struct rc_restore_in *in, const json_t *src)
{
    static const char *const keep[] = {"labels", "annotations", NULL};
    json_t *vm =
        json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "kubevirt.io/v1",
                  "kind", "VirtualMachine", "metadata", "name",
                  kube_json_str0(in->restore, "spec.target.name"), "namespace",
                  kube_json_str0(in->restore, "metadata.namespace"));

    for (size_t i = 0; vm && keep[i]; i++) {
        const json_t *m =
            json_object_get(json_object_get(src, "metadata"), keep[i]);
        if (json_is_object(m) &&
            json_object_set_new(json_object_get(vm, "metadata"), keep[i],
                                json_deep_copy(m))) {
            json_decref(vm);
            return NULL;
        }
    }
    return vm;
}

/* spec.patches (each one operation or an array of them) as one array. */
static int gather_patches(json_t *ops, const json_t *restore,
                          struct kube_err *err)
{
    const json_t *p;
    size_t i;

    json_array_foreach(kube_json_path(restore, "spec.patches"), i, p)
    {
        json_error_t jerr;
        json_t *doc =
            json_loads(json_string_value(p) ? json_string_value(p) : "",
                       JSON_DECODE_ANY, &jerr);
        int bad;

        if (!doc)
            return kube_err_set(err, KUBE_EINVAL, "error patching VM %s: %s",
                                kube_json_str0(restore, "spec.target.name"),
                                jerr.text);
        bad = json_is_array(doc) ? json_array_extend(ops, doc)
                                 : json_array_append(ops, doc);
        json_decref(doc);
        if (bad)
            return KUBE_ENOMEM;
    }
    return KUBE_OK;
}

/* Applies spec.patches to *vm (a new VM: the only kind patched). */
static int apply_patches(json_t **vm, const json_t *restore,
                         struct kube_err *err)
{
    struct kube_err perr = {0};
    json_t *ops = json_array();
    int rc;

    if (!ops)
        return KUBE_ENOMEM;
    rc = gather_patches(ops, restore, err);
    if (rc == KUBE_OK && json_array_size(ops) > 0) {
        rc = kube_patch_apply(vm, ops, &perr);
        if (rc < 0)
            rc = kube_err_set(err, rc, "error patching VM %s: %s",
                              kube_json_str0(restore, "spec.target.name"),
                              perr.msg);
    }
    json_decref(ops);
    return rc;
}

int rc_restore_target_vm(json_t **out, const struct rc_restore_in *in,
                         const json_t *restores, struct kube_err *err)
{
    const json_t *src = rc_restore_source_vm(in->content);
    const char *target = kube_json_str0(in->restore, "spec.target.name");
    json_t *vm = NULL, *spec = NULL;
    char uid[512];
    int rc;

    *out = NULL;
    if (!src)
        return kube_err_set(err, KUBE_EINVAL, "unexpected snapshot source");
    spec = json_deep_copy(json_object_get(src, "spec"));
    vm = in->target ? json_deep_copy(in->target) : new_vm(in, src);
    if (!spec || !vm || rc_restore_uid_value(uid, sizeof(uid), in->restore))
        rc = KUBE_ENOMEM;
    else
        rc = restore_volumes(spec, restores, err);
    if (rc == KUBE_OK &&
        (stopped(spec, in->target ? in->target : src, !in->target) ||
         rc_meta_set(vm, "annotations", RC_ANN_LAST_RESTORE_UID, uid)))
        rc = KUBE_ENOMEM;
    if (rc == KUBE_OK)
        rc = keep_firmware_uuid(spec, src, target);
    if (rc == KUBE_OK && json_object_set(vm, "spec", spec))
        rc = KUBE_ENOMEM;
    if (rc == KUBE_OK && !in->target)
        rc = apply_patches(&vm, in->restore, err);
    json_decref(spec);
    if (rc < 0) {
        json_decref(vm);
        return rc;
    }
    *out = vm;
    return KUBE_OK;
}

/* ---- DataVolumes (spec §6.3.4) ---- */

json_t *rc_restore_dv_build(const json_t *restore, const json_t *tmpl)
{
    json_t *meta = json_deep_copy(json_object_get(tmpl, "metadata"));
    json_t *dv = json_pack("{s:s, s:s, s:o, s:o?}", "apiVersion",
                           "cdi.kubevirt.io/v1beta1", "kind", "DataVolume",
                           "metadata", meta ? meta : json_object(), "spec",
                           json_deep_copy(json_object_get(tmpl, "spec")));

    if (!dv ||
        json_object_set_new(
            json_object_get(dv, "metadata"), "namespace",
            json_string(kube_json_str0(restore, "metadata.namespace"))) ||
        rc_meta_set(dv, "annotations", RC_ANN_RESTORE_NAME,
                    kube_json_str0(restore, "metadata.name")) ||
        rc_meta_set(dv, "annotations", RC_ANN_PREPOPULATED, "true")) {
        json_decref(dv);
        return NULL;
    }
    return dv;
}

int rc_restore_deleted_dvs(json_t **out, const json_t *target, const json_t *vm)
{
    const json_t *now = kube_json_path(vm, "spec"), *t;
    size_t i;

    *out = json_array();
    if (!*out)
        return KUBE_ENOMEM;
    json_array_foreach(kube_json_path(target, "spec.dataVolumeTemplates"), i, t)
    {
        const char *name = kube_json_str0(t, "metadata.name");
        if (dv_template(now, name))
            continue;
        if (json_array_append_new(*out, json_string(name))) {
            json_decref(*out);
            *out = NULL;
            return KUBE_ENOMEM;
        }
    }
    return KUBE_OK;
}

enum rc_dv_next rc_restore_dv_next(const json_t *tmpl, const json_t *dv,
                                   const json_t *pvc, const char *ns,
                                   struct kube_err *err)
{
    static const char *const done[] = {"Succeeded", "WaitForFirstConsumer",
                                       "PendingPopulation", NULL};
    const char *name = kube_json_str0(tmpl, "metadata.name");
    const char *by;

    if (dv)
        return kube_json_str_in(kube_json_path(dv, "status.phase"), done)
                   ? RC_DV_READY
                   : RC_DV_WAIT;
    if (!pvc) {
        kube_err_set(err, KUBE_EINVAL,
                     "when creating restore dv pvc %s/%s does not exist and "
                     "should",
                     ns, name);
        return RC_DV_FAILED;
    }
    by = json_string_value(json_object_get(
        kube_json_path(pvc, "metadata.annotations"), RC_ANN_POPULATED_FOR));
    if (!by || strcmp(by, name) != 0 ||
        json_array_size(kube_json_path(pvc, "metadata.ownerReferences")) > 0)
        return RC_DV_WAIT;
    return RC_DV_CREATE;
}
