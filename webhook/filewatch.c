/* webhook/filewatch.c - change detection by stat(2) polling. */
#include "webhook/filewatch.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static void snapshot(struct wh_filewatch *w)
{
    struct stat st;

    if (stat(w->path, &st) != 0) { /* stat follows symlinks, as we want */
        const char *path = w->path;
        int e = errno;

        memset(w, 0, sizeof(*w));
        w->path = path;
        w->err = e;
        return;
    }
    w->err = 0;
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->size = st.st_size;
    w->mtime = st.st_mtim;
    w->ctime = st.st_ctim;
}

void wh_filewatch_init(struct wh_filewatch *w, const char *path)
{
    memset(w, 0, sizeof(*w));
    w->path = path;
    snapshot(w);
}

static int ts_eq(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

int wh_filewatch_changed(struct wh_filewatch *w)
{
    struct wh_filewatch old = *w;

    snapshot(w);
    return old.err != w->err || old.dev != w->dev || old.ino != w->ino ||
           old.size != w->size || !ts_eq(old.mtime, w->mtime) ||
           !ts_eq(old.ctime, w->ctime);
}
