/* kube/utf8.h - cutting text on a character boundary.
 *
 * Why: messages go into fixed buffers (an error's text, a denial's
 * status.message, a warning) and are cut to fit; a cut inside a multi-byte
 * character leaves text that is not UTF-8, which the answer's JSON writer
 * must refuse, so the user would read "out of memory" instead of the
 * rule's message. */
#ifndef VMSNAPD_KUBE_UTF8_H
#define VMSNAPD_KUBE_UTF8_H

#include <stddef.h>

/* The length, at most n, of the longest prefix of s[0..n) that does not
 * end inside a UTF-8 sequence: an incomplete sequence at the end is left
 * out. s must hold at least n bytes. Bytes that are not UTF-8 anyway are
 * left as they are. */
size_t kube_utf8_prefix(const char *s, size_t n);

/* Cuts the NUL-terminated s to at most max bytes on a character boundary
 * (also when an earlier snprintf cut it). Returns the new length. */
size_t kube_utf8_cut(char *s, size_t max);

#endif
