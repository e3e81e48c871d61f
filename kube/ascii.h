/* kube/ascii.h - text looked at eight bytes a step, for the writers that
 * pass every byte of a review's strings (the answer, its warnings). */
#ifndef VMSNAPD_KUBE_ASCII_H
#define VMSNAPD_KUBE_ASCII_H

#include <stddef.h>

/* How many bytes at the start of s[0..n), in whole eight-byte words, are
 * printable ASCII other than a and b: no byte below 0x20, from 0x80 up,
 * or equal to a or b. The byte after them, if any, is the first word's
 * to judge one at a time. */
size_t kube_ascii_plain_prefix(const void *s, size_t n, unsigned char a,
                               unsigned char b);

#endif
