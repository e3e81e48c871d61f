/* reconciler/api.h - the writes every controller makes, each carrying the
 * reconcile's cancel flag and counted in the metrics: plain requests,
 * status writes through the status subresource with the resourceVersion
 * read (a 409 is returned as KUBE_ECONFLICT: the caller fails the
 * reconcile and the rate-limited queue re-reads), finalizer edits as JSON
 * patches guarded by a test of the list read (spec §7), owner references,
 * and core/v1 Events from component snapshot-controller (spec §8). */
#ifndef VMSNAPD_RECONCILER_API_H
#define VMSNAPD_RECONCILER_API_H

#include <jansson.h>

#include "kube/client.h"
#include "kube/errors.h"
#include "reconciler/manager.h"

extern const struct kube_gvr rc_gvr_vm;       /* kubevirt.io/v1 VMs */
extern const struct kube_gvr rc_gvr_vmi_sub;  /* subresources.kubevirt.io/v1
                                                 virtualmachineinstances */
extern const struct kube_gvr rc_gvr_snapshot; /* VirtualMachineSnapshot */
extern const struct kube_gvr rc_gvr_content;  /* ...SnapshotContent */
extern const struct kube_gvr rc_gvr_volsnap;  /* snapshot.storage.k8s.io/v1
                                                 volumesnapshots */
extern const struct kube_gvr rc_gvr_events;   /* core/v1 events */
extern const struct kube_gvr rc_gvr_restore;  /* VirtualMachineRestore */
extern const struct kube_gvr rc_gvr_vm_sub;   /* subresources.kubevirt.io/v1
                                                 virtualmachines (stop) */
extern const struct kube_gvr rc_gvr_pvc;      /* core/v1 PVCs */
extern const struct kube_gvr rc_gvr_dv;       /* cdi.kubevirt.io/v1beta1
                                                 datavolumes */

/* kube_client_do with c's cancel flag, counted by verb and code. Same
 * returns; st may be NULL. */
int rc_api_do(json_t **out, struct rc_call *c, struct kube_request *r,
              struct kube_status *st, struct kube_err *err) KUBE_MUST_CHECK;

/* POST obj (borrowed) into ns. An existing name is KUBE_OK (*out NULL
 * then): creates are made idempotent by deterministic names. */
int rc_api_create(json_t **out, struct rc_call *c, const struct kube_gvr *gvr,
                  const char *ns, const json_t *obj,
                  struct kube_err *err) KUBE_MUST_CHECK;

/* DELETE ns/name (background propagation, uid precondition when uid is
 * not NULL). A missing object is KUBE_OK. */
int rc_api_delete(struct rc_call *c, const struct kube_gvr *gvr, const char *ns,
                  const char *name, const char *uid,
                  struct kube_err *err) KUBE_MUST_CHECK;

/* PUT obj's status: obj (borrowed) is the object as read with the status
 * wanted, so its metadata.resourceVersion guards the write. *out, when not
 * NULL, is the stored object. KUBE_ECONFLICT on a stale read. */
int rc_api_update_status(json_t **out, struct rc_call *c,
                         const struct kube_gvr *gvr, const json_t *obj,
                         struct kube_err *err) KUBE_MUST_CHECK;

/* rc_api_update_status of obj (borrowed, as read) with status (borrowed)
 * in place of its own: the one way the workers write a status they
 * computed. */
int rc_api_put_status(json_t **out, struct rc_call *c,
                      const struct kube_gvr *gvr, const json_t *obj,
                      json_t *status, struct kube_err *err) KUBE_MUST_CHECK;

/* PUT obj (borrowed: as read, changed) whole, its resourceVersion guarding
 * the write (KubeVirt's Update). *out, when not NULL, is the stored
 * object. KUBE_ECONFLICT on a stale read. */
int rc_api_update(json_t **out, struct rc_call *c, const struct kube_gvr *gvr,
                  const json_t *obj, struct kube_err *err) KUBE_MUST_CHECK;

/* PUT ns/name/sub with body (borrowed; NULL sends none): a virt-api
 * action such as a VM's stop. Idempotent. */
int rc_api_put_sub(struct rc_call *c, const struct kube_gvr *gvr,
                   const char *ns, const char *name, const char *sub,
                   const json_t *body, struct kube_err *err) KUBE_MUST_CHECK;

/* JSON-patches ns/name of gvr with ops (borrowed, an array). */
int rc_api_json_patch(struct rc_call *c, const struct kube_gvr *gvr,
                      const char *ns, const char *name, const json_t *ops,
                      struct kube_err *err) KUBE_MUST_CHECK;

/* 1 when obj (borrowed) carries finalizer f. */
int rc_has_finalizer(const json_t *obj, const char *f);

/* Adds (add 1) or removes (add 0) finalizer f on obj (borrowed: the object
 * as read) with [test the list read, replace (or add) the new list]. A
 * no-op when nothing changes. A test that fails (the list moved) comes
 * back as KUBE_ECONFLICT; a missing object as KUBE_OK when removing. *out,
 * when not NULL, is the object as patched (new reference; NULL when no
 * patch was sent): later writes carry its resourceVersion. */
int rc_api_finalizer(json_t **out, struct rc_call *c,
                     const struct kube_gvr *gvr, const json_t *obj,
                     const char *f, int add,
                     struct kube_err *err) KUBE_MUST_CHECK;

/* A new {apiVersion, kind, name, uid, controller, blockOwnerDeletion}
 * reference to owner (borrowed: an object as the API serves it, with its
 * apiVersion and kind), or NULL when out of memory. The one builder: the
 * snapshot's content, the VolumeSnapshots and the restore's writes (a
 * restore and its claims owned by the target VM) all use it. */
json_t *rc_owner_ref(const json_t *owner, int controller);

/* Removes from obj (borrowed, as read) the owner references to uid with a
 * JSON patch [test the list read, replace]. No-op when none. */
int rc_api_drop_owner(struct rc_call *c, const struct kube_gvr *gvr,
                      const json_t *obj, const char *uid,
                      struct kube_err *err) KUBE_MUST_CHECK;

/* Records a core/v1 Event (type "Normal"/"Warning", reason, message) about
 * obj (borrowed), from component snapshot-controller. Failures are
 * logged, never returned: an event is not worth a retry. */
void rc_event(struct rc_call *c, const json_t *obj, const char *type,
              const char *reason, const char *fmt, ...) KUBE_PRINTF(5, 6);

/* Small readers of obj (borrowed): metadata.<field> as a string (NULL when
 * absent), and obj's namespace/name. */
const char *rc_meta_str(const json_t *obj, const char *field);

/* Now as RFC 3339 seconds ("2026-12-04T05:00:00Z"), as metav1.Time. */
void rc_time_now(char buf[32]);

/* 1 when obj has metadata.deletionTimestamp. */
int rc_deleting(const json_t *obj);

#endif
