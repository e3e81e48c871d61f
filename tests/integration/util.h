/* tests/integration/util.h - scaffolding the integration suites share:
 * shell commands, whole-file reads and atomic writes, and clocks. Each
 * fails the current Criterion test on error. */
#ifndef VMSNAPD_TESTS_INTEGRATION_UTIL_H
#define VMSNAPD_TESTS_INTEGRATION_UTIL_H

#include <stddef.h>

/* Runs a shell command; a non-zero status fails the test. */
void it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole file (also /proc files), NUL-terminated; *len (may be NULL)
 * gets its size. Caller frees. */
char *it_slurp(const char *path, size_t *len);

/* Writes text to path through a rename: a reader sees the old file or the
 * new one, never half of it. */
void it_spit(const char *path, const char *text);

/* Seconds on CLOCK_MONOTONIC, and a sleep of ms milliseconds. */
double it_now(void);
void it_nap(long ms);

#endif
