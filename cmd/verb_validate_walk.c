/* cmd/verb_validate_walk.c - the inputs named on `vmsnapd validate`'s command
 * line: files as given, directories walked for manifests in a stable order
 * (so output can be diffed between runs and machines). */
#include "cmd/verb_validate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_validate_wanted(const char *name)
{
    static const char *const exts[] = {".yaml", ".yml", ".json", NULL};
    size_t n = strlen(name);

    for (size_t i = 0; exts[i]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(name + n - e, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* Hidden files and folders (.git, editor droppings) are not manifests. */
static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Byte order, not the locale's: the same on every machine. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* dir + "/" + name, malloc'd; NULL when out of memory. */
static char *path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), len = dl + strlen(name) + 2;
    char *p = malloc(len);

    if (p)
        snprintf(p, len, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
                 name);
    return p;
}

static int walk_dir(const char *dir, cmd_vwalk_fn fn, void *ctx);

/* A link to a file is read; a link to a directory is not followed, so a
 * link back up the tree cannot loop; a broken link is reported. */
static int link_is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) < 0 || !S_ISDIR(st.st_mode);
}

static int walk_entry(const char *dir, const char *name, cmd_vwalk_fn fn,
                      void *ctx)
{
    struct stat st;
    char *path = path_join(dir, name);
    int rc = 0;

    if (!path)
        return KUBE_ENOMEM;
    if (lstat(path, &st) < 0)
        rc = fn(ctx, path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = walk_dir(path, fn, ctx);
    else if (cmd_validate_wanted(name) &&
             (S_ISREG(st.st_mode) ||
              (S_ISLNK(st.st_mode) && link_is_file(path))))
        rc = fn(ctx, path, NULL);
    free(path);
    return rc;
}

static int walk_dir(const char *dir, cmd_vwalk_fn fn, void *ctx)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, not_hidden, by_name), rc = 0;

    if (n < 0)
        return fn(ctx, dir, strerror(errno));
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = walk_entry(dir, names[i]->d_name, fn, ctx);
        free(names[i]);
    }
    free(names);
    return rc;
}

int cmd_validate_walk(const char *path, cmd_vwalk_fn fn, void *ctx)
{
    struct stat st;

    if (strcmp(path, "-") == 0)
        return fn(ctx, path, NULL);
    if (stat(path, &st) < 0)
        return fn(ctx, path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return walk_dir(path, fn, ctx);
    return fn(ctx, path, NULL); /* named explicitly: read whatever it is */
}
