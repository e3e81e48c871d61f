/* tools/fuzz/jsondec.c - differential: kube_json_decode must return what
 * json_loadb(JSON_ALLOW_NUL) returns for any bytes, the same tree (dump and json_equal) or
 * NULL with the same error text, line, column and position. Aborts on the
 * first difference, which libFuzzer saves as a crash. Where the decoder
 * widens json_loadb on purpose (an integer past int64, a NUL in a key:
 * kube/jsondec.h) json_loadb fails and only a crash counts. */
#include "tools/fuzz/fuzz.h"

#include <jansson.h>

#include "kube/jsondec.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

/* Both NULL with one error, or both trees dumping to the same text. */
static int agree(json_t *a, const json_error_t *ea, json_t *b,
                 const json_error_t *eb)
{
    char *da, *db;
    int same;

    if (!a || !b)
        return !a && !b && strcmp(ea->text, eb->text) == 0 &&
               ea->line == eb->line && ea->column == eb->column &&
               ea->position == eb->position;
    da = json_dumps(a, DUMP_FLAGS);
    db = json_dumps(b, DUMP_FLAGS);
    if (!da || !db)
        abort(); /* no memory: worth seeing, like fuzz_cstr */
    same =
        strcmp(da, db) == 0 && json_equal(a, b) && ea->position == eb->position;
    free(da);
    free(db);
    return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t ea, eb;
    json_t *a = kube_json_decode((const char *)data, size, &ea);
    json_t *b = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &eb);
    int widened = !b && (json_error_code(&eb) == json_error_numeric_overflow ||
                         json_error_code(&eb) == json_error_null_byte_in_key);

    if (!widened && !agree(a, &ea, b, &eb))
        abort();
    json_decref(a);
    json_decref(b);
    return 0;
}
