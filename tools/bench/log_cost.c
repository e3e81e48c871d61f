/* tools/bench/log_cost.c - calls kube_log N times with the line the
 * webhook writes for each denied review (webhook/server.c log_answer),
 * inside one function (run_logs) that callgrind is told to count alone
 * (--toggle-collect=run_logs): its instruction total divided by N is the
 * cost of one log line, its write(2) included.
 *
 * usage: log_cost N 2>/dev/null */
#include <stdio.h>
#include <stdlib.h>

#include "kube/log.h"

/* noinline: callgrind counts this function by name */
__attribute__((noinline)) static void run_logs(long n)
{
    for (long i = 0; i < n; i++)
        kube_log(KUBE_LOG_INFO, "denied",
                 "{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:f, s:b, s:s*}", "uid",
                 "705ab4f5-6393-11e8-b7cc-42010a800002", "kind",
                 "VirtualMachineSnapshot", "operation", "CREATE", "namespace",
                 "default", "name", "snap-1", "code", 422, "path",
                 "/validate-virtualmachinesnapshot", "latency", 0.000123456,
                 "patched", 0, "message", (const char *)NULL);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;

    if (n <= 0) {
        fprintf(stdout, "usage: log_cost N 2>/dev/null\n");
        return 2;
    }
    run_logs(n);
    return 0;
}
