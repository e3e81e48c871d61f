/* tools/fuzz/fuzz.h - what every libFuzzer target here shares: the entry
 * point's prototype (-Wmissing-prototypes) and a NUL-terminated copy of
 * the input for parsers that take C strings. */
#ifndef VMSNAPD_TOOLS_FUZZ_H
#define VMSNAPD_TOOLS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a malloc'd C string (cut at the first NUL); aborts on no
 * memory, which libFuzzer reports as a crash worth seeing. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
