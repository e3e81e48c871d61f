/* tools/fuzz/duration.c - the Go-style duration parser, both modes, and
 * the promise that what kube_duration_format writes parses back to the
 * same value. */
#include "tools/fuzz/fuzz.h"

#include "kube/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), buf[64];
    int64_t d = 0, again = 0;

    for (int bare = 0; bare < 2; bare++) {
        if (kube_duration_parse(&d, s, bare, NULL) != 0)
            continue;
        if (kube_duration_format(buf, sizeof(buf), d) >= sizeof(buf))
            abort();
        if (kube_duration_parse(&again, buf, 0, NULL) != 0 || again != d)
            abort();
    }
    free(s);
    return 0;
}
