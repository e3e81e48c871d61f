/* kube/jsonvals.h - how many values a JSON text can hold, read from above
 * before it is parsed, so that its tree's memory can be budgeted first. */
#ifndef VMSNAPD_KUBE_JSONVALS_H
#define VMSNAPD_KUBE_JSONVALS_H

#include <stddef.h>

/* At most how many values p[0..n) makes when parsed: one, plus each '[',
 * '{' and ',' outside strings (each starts at most one more). A string
 * runs to the first '"' not escaped by an odd run of backslashes; one
 * left open runs to the end. Any bytes: the text need not be JSON. */
size_t kube_json_values_max(const char *p, size_t n);

/* A looser bound, never below kube_json_values_max: one, plus every '[',
 * '{' and ',' in p[0..n), strings not skipped. Counted 16 bytes a step
 * (about 0.4 instructions a byte against 7), for the budget of a body
 * whose strings hold few of them, as an admission body's do. */
size_t kube_json_values_bound(const char *p, size_t n);

#endif
