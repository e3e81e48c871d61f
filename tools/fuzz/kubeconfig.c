/* tools/fuzz/kubeconfig.c - kubeconfig parsing. The loader reads a file
 * (relative paths in it resolve against the file's folder), so each input
 * is written to a scratch file first. */
#include "tools/fuzz/fuzz.h"

#include <stdio.h>
#include <unistd.h>

#include "kube/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    struct kube_config *c = NULL;
    FILE *f;

    if (!*path)
        snprintf(path, sizeof(path), "/tmp/vmsnapd-fuzz-kubeconfig-%d",
                 (int)getpid());
    f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (kube_config_from_file(&c, path, NULL, NULL) == 0)
        kube_config_free(c);
    return 0;
}
