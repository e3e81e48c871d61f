/* kube/file.h - the one bounded file reader: policy, kubeconfig, tokens,
 * review bodies, certificates and keys all read through it, so a missing
 * file is the same code everywhere and no file can grow memory past its
 * owner's ceiling. */
#ifndef VMSNAPD_KUBE_FILE_H
#define VMSNAPD_KUBE_FILE_H

#include <stddef.h>

#include "kube/errors.h"

/* Reads the whole of path ("-": standard input) into *out: a new
 * NUL-terminated buffer the caller free()s, *len bytes long. A buffer it
 * gives up on is wiped first, since it may have held a key. Returns 0,
 * KUBE_ENOTFOUND (no such file), KUBE_ETOOBIG (over max bytes),
 * KUBE_ENOMEM, or KUBE_ERR (cannot open or read it); err names the path
 * and errno's text, never the content. */
int kube_file_read(char **out, size_t *len, const char *path, size_t max,
                   struct kube_err *err) KUBE_MUST_CHECK;

#endif
