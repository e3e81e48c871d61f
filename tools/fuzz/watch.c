/* tools/fuzz/watch.c - the watch-stream decoder: the first byte sets how
 * the stream is cut into feeds (as libcurl might hand it over), the rest
 * is the stream; a small line ceiling reaches the too-long path too. */
#include "tools/fuzz/fuzz.h"

#include <jansson.h>

#include "kube/watch.h"

static int on_event(const struct kube_watch_event *ev, void *ctx)
{
    size_t *n = ctx;

    if (!ev->object || !ev->resource_version)
        abort(); /* the header promises both */
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kube_watch_decoder d;
    size_t events = 0, step, off;
    int rc = 0; /* the last result, unused: only crashes count */

    if (size < 1)
        return 0;
    step = (size_t)(data[0] % 64) + 1;
    kube_watch_decoder_init(&d, data[0] & 0x80 ? 256 : 0, on_event, &events);
    for (off = 1; off < size && rc == 0; off += step)
        rc = kube_watch_decoder_feed(
            &d, data + off, size - off < step ? size - off : step, NULL);
    if (rc == 0)
        rc = kube_watch_decoder_finish(&d, NULL);
    kube_watch_decoder_free(&d);
    return 0;
}
