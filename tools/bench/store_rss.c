/* tools/bench/store_rss.c - resident memory of a kube_store holding N
 * VirtualMachine objects (default 100,000), each shaped like a small real
 * one (labels, annotations, a template with a disk and a volume, status;
 * 638 bytes of compact JSON). `vmsnapd serve` fills this store from its
 * informers; the bench has no cluster of that size, so this fills it
 * directly, through the informers' projection (kube_project). Prints VmRSS
 * before and after in KiB, the bytes per object, and what one get costs
 * in ns: of N different objects (each decoded) and of one object N times
 * (hot: the store keeps its tree). For instructions, run it under
 * callgrind --toggle-collect=get_each.
 *
 * usage: store_rss [N [managed]]
 * managed: each VM also carries the managedFields a real API server adds
 * (two managers, about 700 bytes), which the projection drops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/project.h"
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

/* What kube-apiserver records for kubectl's create and the VM
 * controller's status writes, in the shape it sends. */
static const char managed_fields[] =
    "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\","
    "\"apiVersion\":\"kubevirt.io/v1\",\"time\":\"2026-01-02T03:04:05Z\","
    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{"
    "\"f:labels\":{\".\":{},\"f:app\":{},\"f:kubevirt.io/vm\":{}}},"
    "\"f:spec\":{\".\":{},\"f:runStrategy\":{},\"f:template\":{\".\":{},"
    "\"f:spec\":{\".\":{},\"f:domain\":{\".\":{},\"f:devices\":{\".\":{},"
    "\"f:disks\":{}},\"f:resources\":{\".\":{},\"f:requests\":{\".\":{},"
    "\"f:memory\":{}}}},\"f:volumes\":{}}}}}},"
    "{\"manager\":\"virt-controller\",\"operation\":\"Update\","
    "\"apiVersion\":\"kubevirt.io/v1\",\"time\":\"2026-01-02T03:04:09Z\","
    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{"
    "\"f:annotations\":{\".\":{},\"f:kubevirt.io/latest-observed-api-"
    "version\":{}}}},\"subresource\":\"status\"},"
    "{\"manager\":\"virt-controller\",\"operation\":\"Update\","
    "\"apiVersion\":\"kubevirt.io/v1\",\"time\":\"2026-01-02T03:04:09Z\","
    "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\".\":{},"
    "\"f:conditions\":{},\"f:printableStatus\":{},\"f:ready\":{}}},"
    "\"subresource\":\"status\"}]";

static int add_managed_fields(json_t *o)
{
    return json_object_set_new(json_object_get(o, "metadata"), "managedFields",
                               json_loads(managed_fields, 0, NULL));
}

/* Fills s with n VMs as an informer would. */
static int fill(struct kube_store *s, long n, int managed)
{
    for (long i = 0; i < n; i++) {
        json_t *o = vm(i), *kept;

        if (!o || (managed && add_managed_fields(o) < 0))
            return -1;
        kept = kube_project(o);
        json_decref(o);
        if (!kept || kube_store_put_new(s, kept) < 0)
            return -1;
    }
    return 0;
}

/* Gets n objects, every one once (stride 1: each is decoded) or the same
 * one n times (stride 0: hot after the first), and drops them, as the
 * review path does. Returns how many were found. Not inlined: callgrind
 * toggles on it. */
__attribute__((noinline)) static long get_each(struct kube_store *s, long n,
                                               long stride)
{
    long found = 0;

    for (long k = 0; k < n; k++) {
        long i = k * stride;
        char name[64], ns[32];
        json_t *o = NULL;

        snprintf(name, sizeof(name), "vm-%06ld", i);
        snprintf(ns, sizeof(ns), "team-%03ld", i % 500);
        if (kube_store_get(&o, s, "VirtualMachine", ns, name) == 0)
            found++;
        json_decref(o);
    }
    return found;
}

static double now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    int managed = argc > 2 && strcmp(argv[2], "managed") == 0;
    struct kube_store *s;
    long before, after, found;
    double t0, t1;

    json_object_seed(0);
    if (n < 1 || kube_store_new(&s) < 0)
        return 1;
    before = rss_kb();
    if (fill(s, n, managed) < 0) {
        fprintf(stderr, "store_rss: insert failed\n");
        return 1;
    }
    after = rss_kb();
    t0 = now_ns();
    found = get_each(s, n, 1);
    t1 = now_ns();
    found += get_each(s, n, 0);
    if (found != 2 * n) {
        fprintf(stderr, "store_rss: %ld of %ld found\n", found, 2 * n);
        return 1;
    }
    /* run.sh reads the first three figures by position */
    printf("objects %zu rss_before_kb %ld rss_after_kb %ld bytes_per_object "
           "%ld get_cold_ns %.0f get_hot_ns %.0f\n",
           kube_store_count(s), before, after, (after - before) * 1024 / n,
           (t1 - t0) / (double)n, (now_ns() - t1) / (double)n);
    kube_store_free(s);
    return 0;
}
