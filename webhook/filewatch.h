/* webhook/filewatch.h - notices that a file changed by polling stat(2) of
 * what its path resolves to: device, inode, size, mtime and ctime.
 * Following symlinks is what catches a Kubernetes Secret update: the
 * kubelet writes a new timestamped directory and renames a new "..data"
 * symlink over the old one, so tls.crt (-> ..data/tls.crt) suddenly
 * resolves to another inode while the file an inotify watch would sit on
 * never changes. Polling also survives the file being absent for a
 * moment. A stat per file per interval costs nothing. */
#ifndef VMSNAPD_WEBHOOK_FILEWATCH_H
#define VMSNAPD_WEBHOOK_FILEWATCH_H

#include <sys/types.h>
#include <time.h>

/* Kept by the caller (one per watched path). */
struct wh_filewatch {
    const char *path; /* borrowed */
    /* private: the last state seen */
    int err; /* errno of a failed stat, else 0 */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

/* Starts watching path (borrowed; must outlive w) from its current
 * state. Cannot fail: a path that cannot be stat'd is a state too. */
void wh_filewatch_init(struct wh_filewatch *w, const char *path);

/* Returns 1 when the state differs from the last one seen (and records
 * the new one), else 0. A file that vanishes is a change; so is its
 * return. Call it before reading the file: a write that lands after the
 * read then shows as one more change. One thread at a time per w. */
int wh_filewatch_changed(struct wh_filewatch *w);

#endif
