/* webhook/kinds.c - the table of admitted kinds: a new kind is a row. */
#include "webhook/admission.h"

#include <string.h>

static const struct wh_kind *const kinds[] = {
    &wh_kind_snapshot,
    &wh_kind_content,
    &wh_kind_restore,
    NULL,
};

const struct wh_kind *wh_kind_find(const char *resource)
{
    for (size_t i = 0; resource && kinds[i]; i++)
        if (strcmp(kinds[i]->resource, resource) == 0)
            return kinds[i];
    return NULL;
}
