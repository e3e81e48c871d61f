/* tools/bench/store_rss.c - resident memory of a kube_store holding N
 * VirtualMachine objects (default 100,000), each shaped like a small real
 * one (labels, annotations, a template with a disk and a volume, status).
 * `vmsnapd serve` fills this store from its informers; the bench has no
 * cluster of that size, so this fills it directly. Prints VmRSS before
 * and after, in KiB.
 *
 * usage: store_rss [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/store.h"

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static json_t *vm(long i)
{
    char name[64], ns[32], uid[64], rv[32];

    snprintf(name, sizeof(name), "vm-%06ld", i);
    snprintf(ns, sizeof(ns), "team-%03ld", i % 500);
    snprintf(uid, sizeof(uid), "00000000-aaaa-4bbb-8ccc-%012ld", i);
    snprintf(rv, sizeof(rv), "%ld", 100000 + i);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}},"
        " s:{s:s, s:{s:{s:{s:{s:[{s:s, s:{s:s}}]}, s:{s:{s:s}}},"
        " s:[{s:s, s:{s:s}}]}}},"
        " s:{s:b, s:s, s:[{s:s, s:s}]}}",
        "apiVersion", "kubevirt.io/v1", "kind", "VirtualMachine", "metadata",
        "name", name, "namespace", ns, "uid", uid, "resourceVersion", rv,
        "labels", "app", "bench", "kubevirt.io/vm", name, "annotations",
        "kubevirt.io/latest-observed-api-version", "v1", "spec", "runStrategy",
        "Always", "template", "spec", "domain", "devices", "disks", "name",
        "rootdisk", "disk", "bus", "virtio", "resources", "requests", "memory",
        "2Gi", "volumes", "name", "rootdisk", "dataVolume", "name", name,
        "status", "ready", 1, "printableStatus", "Running", "conditions",
        "type", "Ready", "status", "True");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    struct kube_store *s;
    long before;

    json_object_seed(0);
    if (kube_store_new(&s) < 0)
        return 1;
    before = rss_kb();
    for (long i = 0; i < n; i++) {
        json_t *o = vm(i);

        if (!o || kube_store_put_new(s, o) < 0) {
            fprintf(stderr, "store_rss: insert %ld failed\n", i);
            return 1;
        }
    }
    printf("objects %zu rss_before_kb %ld rss_after_kb %ld\n",
           kube_store_count(s), before, rss_kb());
    kube_store_free(s);
    return 0;
}
