/* tests/kube/file.c - suite kube_file: the one bounded reader gives one
 * code per failure, whoever reads (policy, kubeconfig, certificates). */
#include "kube/file.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f);
    for (size_t i = 0; i < n; i++)
        fputc('a' + (int)(i % 26), f);
    fclose(f);
}

Test(kube_file, sizes_table)
{
    static const struct {
        const char *name;
        size_t size, max;
        int rc;
    } rows[] = {
        {"empty", 0, 10, KUBE_OK},
        {"exactly the limit", 10, 10, KUBE_OK},
        {"one over", 11, 10, KUBE_ETOOBIG},
        {"several chunks", 200000, 300000, KUBE_OK},
        {"chunks over", 200001, 200000, KUBE_ETOOBIG},
    };
    char path[] = "/tmp/kube-file-XXXXXX";
    int fd = mkstemp(path);

    cr_assert_geq(fd, 0);
    close(fd);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct kube_err err = {0, ""};
        char *buf = NULL;
        size_t len = 99;
        int rc;

        write_file(path, rows[i].size);
        rc = kube_file_read(&buf, &len, path, rows[i].max, &err);
        cr_expect_eq(rc, rows[i].rc, "%s: rc %d (%s)", rows[i].name, rc,
                     err.msg);
        if (rc == KUBE_OK) {
            cr_expect_eq(len, rows[i].size, "%s", rows[i].name);
            cr_expect_eq(buf[len], '\0', "%s: terminated", rows[i].name);
            cr_expect_eq(strlen(buf), len, "%s", rows[i].name);
        } else {
            cr_expect_null(buf, "%s", rows[i].name);
            cr_expect(strstr(err.msg, "larger than the limit"), "%s: %s",
                      rows[i].name, err.msg);
        }
        free(buf);
    }
    unlink(path);
}

Test(kube_file, missing_file_is_not_found)
{
    struct kube_err err = {0, ""};
    char *buf = NULL;
    size_t len = 0;

    cr_expect_eq(kube_file_read(&buf, &len, "/nonexistent/vmsnapd", 10, &err),
                 KUBE_ENOTFOUND);
    cr_expect_str_eq(err.msg, "cannot open /nonexistent/vmsnapd: No such file "
                              "or directory");
}
