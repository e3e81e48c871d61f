/* tests/reconciler/restore_fixture.h - the documentation's restore, its
 * snapshot, content, target VM and VolumeSnapshots
 * (tests/data/reconciler/restore/), loaded fresh for each test so a test
 * may change them. */
#ifndef VMSNAPD_TESTS_RECONCILER_RESTORE_FIXTURE_H
#define VMSNAPD_TESTS_RECONCILER_RESTORE_FIXTURE_H

#include <jansson.h>

#include "reconciler/restore_in.h"

#define FX_RESTORE_UID "71c679a8-136e-46b0-b9b5-f57175a6a041"
#define FX_VM_UID "355897f3-73a0-4ec4-83d3-3c2df9486f4f"
#define FX_VS_PREFIX "vmsnapshot-28eedf08-5d6a-42c1-969c-2eda58e2a78d-volume-"
#define FX_CREATED_MS 1601477187000 /* restore creationTimestamp */

struct fx {
    json_t *restore, *snapshot, *content, *target; /* owned */
    json_t *vs_dv, *vs_root;                       /* VolumeSnapshots */
    struct rc_restore_in in; /* borrows the above; target set */
};

/* Loads every fixture (asserts on failure). */
void fx_load(struct fx *f);
void fx_free(struct fx *f);

/* Parses JSON text written in a test (asserts); a new reference. */
json_t *fx_json(const char *text);

/* Sets obj's value at dotted path (objects made on the way); steals v. */
void fx_set(json_t *obj, const char *path, json_t *v);

/* obj's annotation or label key (borrowed), "" when absent. */
const char *fx_ann(const json_t *obj, const char *key);
const char *fx_label(const json_t *obj, const char *key);

#endif
