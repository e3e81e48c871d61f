/* tests/webhook/immutable.c - semantic spec equality (absent vs empty,
 * durations by value), as apimachinery's equality.Semantic. */
#include <criterion/criterion.h>

#include "webhook/admission.h"

static const char *const durs[] = {"failureDeadline", NULL};

static const struct {
    const char *name, *a, *b;
    int equal;
} rows[] = {
    {"identical", "{\"a\":1}", "{\"a\":1}", 1},
    {"absent and null", "{}", "{\"x\":null}", 1},
    {"absent and empty list", "{}", "{\"patches\":[]}", 1},
    {"absent and empty map", "{}", "{\"labels\":{}}", 1},
    {"nested empty map", "{\"o\":{}}", "{\"o\":{\"l\":{}}}", 1},
    {"absent spec and empty spec", "null", "{}", 1},
    {"absent and empty string differ", "{}", "{\"deletionPolicy\":\"\"}", 0},
    {"absent and value differ", "{}", "{\"deletionPolicy\":\"Retain\"}", 0},
    {"5m equals 300s", "{\"failureDeadline\":\"5m\"}",
     "{\"failureDeadline\":\"300s\"}", 1},
    {"1h30m equals 90m", "{\"failureDeadline\":\"1h30m\"}",
     "{\"failureDeadline\":\"90m\"}", 1},
    {"number of seconds equals duration", "{\"failureDeadline\":300}",
     "{\"failureDeadline\":\"5m0s\"}", 1},
    {"5m and 6m differ", "{\"failureDeadline\":\"5m\"}",
     "{\"failureDeadline\":\"6m\"}", 0},
    {"deadline added", "{}", "{\"failureDeadline\":\"5m\"}", 0},
    {"durations only at their field", "{\"other\":\"5m\"}",
     "{\"other\":\"300s\"}", 0},
    {"list order matters", "{\"p\":[\"a\",\"b\"]}", "{\"p\":[\"b\",\"a\"]}",
     0},
    {"list length", "{\"p\":[\"a\"]}", "{\"p\":[\"a\",\"a\"]}", 0},
    {"nested change", "{\"source\":{\"name\":\"a\"}}",
     "{\"source\":{\"name\":\"b\"}}", 0},
    {"unparsable durations compare as text", "{\"failureDeadline\":\"x\"}",
     "{\"failureDeadline\":\"x\"}", 1},
};

Test(webhook_immutable, semantic_equality)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *a = json_loads(rows[i].a, JSON_DECODE_ANY, NULL);
        json_t *b = json_loads(rows[i].b, JSON_DECODE_ANY, NULL);

        cr_expect_eq(wh_spec_equal(a, b, durs), rows[i].equal, "%s",
                     rows[i].name);
        cr_expect_eq(wh_spec_equal(b, a, durs), rows[i].equal,
                     "%s (reversed)", rows[i].name);
        json_decref(a);
        json_decref(b);
    }
}
