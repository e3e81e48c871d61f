/* tools/fuzz/policy.c - the policy loader on arbitrary YAML. */
#include "tools/fuzz/fuzz.h"

#include "webhook/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wh_policy *p = NULL;

    if (wh_policy_load_buf(&p, (const char *)data, size, "fuzz", NULL) == 0)
        wh_policy_unref(p);
    return 0;
}
