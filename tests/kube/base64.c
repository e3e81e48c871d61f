/* tests/kube/base64.c - base64 both ways, with Go's decoder's rules:
 * line breaks ignored, padding required, nothing else accepted. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/base64.h"

Test(kube_base64, round_trip_table)
{
    static const struct {
        const char *plain, *b64;
    } rows[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *b = kube_base64((const unsigned char *)rows[i].plain,
                              strlen(rows[i].plain));
        unsigned char *raw;
        size_t len;
        cr_expect_str_eq(b, rows[i].b64);
        cr_assert_eq(kube_unbase64(&raw, &len, rows[i].b64), 0);
        cr_expect_eq(len, strlen(rows[i].plain));
        cr_expect(memcmp(raw, rows[i].plain, len) == 0);
        free(raw);
        free(b);
    }
}

static const struct {
    const char *name, *in, *want; /* want NULL: KUBE_EINVAL */
} decode_rows[] = {
    /* kubectl accepts a certificate-authority-data wrapped at 76 columns
     * (a YAML literal block keeps the line breaks) */
    {"wrapped with \\n", "Zm9v\nYmFy\n", "foobar"},
    {"wrapped with \\r\\n", "Zm9vYm\r\nFy", "foobar"},
    {"break inside the padding", "Zm9vYg=\n=", "foob"},
    {"not base64", "Zm9v!", NULL},
    {"a space is no line break", "Zm9v YmFy", NULL},
    {"one character", "Z", NULL},
    {"missing padding", "Zm9vYg", NULL},
    {"data after padding", "Zg==Zg==", NULL},
    {"three pads", "Z===", NULL},
    {"URL alphabet", "-_8=", NULL},
};

Test(kube_base64, decode_as_go_does)
{
    for (size_t i = 0; i < sizeof(decode_rows) / sizeof(decode_rows[0]); i++) {
        unsigned char *raw = NULL;
        size_t len = 0;
        int rc = kube_unbase64(&raw, &len, decode_rows[i].in);

        if (!decode_rows[i].want) {
            cr_expect_eq(rc, KUBE_EINVAL, "%s: rc %d", decode_rows[i].name, rc);
            continue;
        }
        cr_expect_eq(rc, KUBE_OK, "%s: rc %d", decode_rows[i].name, rc);
        if (rc == KUBE_OK) {
            cr_expect_eq(len, strlen(decode_rows[i].want), "%s",
                         decode_rows[i].name);
            cr_expect(memcmp(raw, decode_rows[i].want, len) == 0, "%s",
                      decode_rows[i].name);
        }
        free(raw);
    }
}
