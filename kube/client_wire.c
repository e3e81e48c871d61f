/* kube/client_wire.c - Status decoding, error mapping and list pages. */
#include "kube/client_wire.h"

#include <stdio.h>
#include <string.h>

#include "kube/json.h"
#include "kube/jsondec.h"

void kube_status_clear(struct kube_status *st)
{
    st->http = 0;
    st->code = 0;
    st->reason[0] = '\0';
    st->message[0] = '\0';
    st->retry_after_s = -1;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : ""); /* cut is fine */
}

int kube_status_from_json(struct kube_status *st, const json_t *obj)
{
    const json_t *code, *ra;

    st->reason[0] = '\0';
    st->message[0] = '\0';
    if (!json_is_object(obj) ||
        strcmp(kube_json_str0(obj, "kind"), "Status") != 0)
        return KUBE_EINVAL;
    copy_str(st->reason, sizeof(st->reason), kube_json_str(obj, "reason"));
    copy_str(st->message, sizeof(st->message), kube_json_str(obj, "message"));
    code = json_object_get(obj, "code");
    st->code = json_is_integer(code) ? (int)json_integer_value(code) : st->http;
    /* The server sets retryAfterSeconds on 429 and 5xx "try again" answers
     * (StatusReasonTooManyRequests, ServerTimeout). The header wins when
     * both are present, so only fill it when still unknown. */
    ra = kube_json_path(obj, "details.retryAfterSeconds");
    if (st->retry_after_s < 0 && json_is_integer(ra) &&
        json_integer_value(ra) >= 0)
        st->retry_after_s = (long)json_integer_value(ra);
    return KUBE_OK;
}

/* Keeps the first line of a body that is not a Status, without control
 * characters, so a log line stays one line. */
static void first_line(char *dst, size_t cap, const char *body, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == '\n' || c == '\r')
            break;
        dst[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[n] = '\0';
}

void kube_status_from_http(struct kube_status *st, int http, const char *body,
                           size_t len)
{
    json_t *obj = NULL;

    st->http = http;
    st->code = http;
    if (body && len > 0)
        obj = kube_json_decode(body, len, NULL);
    if (kube_status_from_json(st, obj) < 0) {
        st->code = http;
        if (body && http >= 300)
            first_line(st->message, sizeof(st->message), body, len);
    }
    json_decref(obj);
}

int kube_status_errcode(const struct kube_status *st)
{
    int h = st->http;

    if (h >= 200 && h < 300)
        return KUBE_OK;
    switch (h) {
    case 404:
        return KUBE_ENOTFOUND;
    case 409:
        return KUBE_ECONFLICT;
    case 410:
        return KUBE_EGONE;
    case 400:
    case 415:
    case 422:
        return KUBE_EINVAL;
    case 413:
        return KUBE_ETOOBIG;
    case 429:
        return KUBE_EUNAVAIL;
    default:
        return (h >= 500 && h < 600) ? KUBE_EUNAVAIL : KUBE_ERR;
    }
}

int kube_status_already_exists(const struct kube_status *st)
{
    return st->http == 409 && strcmp(st->reason, "AlreadyExists") == 0;
}

int kube_status_err(struct kube_err *err, const struct kube_status *st,
                    const char *what)
{
    int code = kube_status_errcode(st);

    if (st->reason[0])
        return kube_err_set(err, code, "%s: %d %s: %s", what, st->http,
                            st->reason, st->message);
    return kube_err_set(err, code, "%s: %d: %s", what, st->http, st->message);
}

/* The kind of the list's items: "VirtualMachineSnapshotList" gives
 * "VirtualMachineSnapshot". Returns 0, or -1 when kind does not end in
 * "List" or the result does not fit. */
static int item_kind(char *buf, size_t len, const char *kind)
{
    size_t n = strlen(kind);

    if (n <= 4 || strcmp(kind + n - 4, "List") != 0 || n - 4 >= len)
        return -1;
    memcpy(buf, kind, n - 4);
    buf[n - 4] = '\0';
    return 0;
}

/* A new reference to item, or to a shallow copy of it carrying kind and
 * apiVersion when it lacks them (the page itself is borrowed: never
 * changed). NULL on allocation failure. */
static json_t *typed_item(json_t *item, const char *kind, const char *api)
{
    json_t *copy;
    int need_kind = !json_is_string(json_object_get(item, "kind"));
    int need_api = !json_is_string(json_object_get(item, "apiVersion"));

    if (!need_kind && !need_api)
        return json_incref(item);
    copy = json_copy(item);
    if (!copy)
        return NULL;
    if ((need_kind && json_object_set_new(copy, "kind", json_string(kind))) ||
        (need_api && api[0] &&
         json_object_set_new(copy, "apiVersion", json_string(api)))) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

static json_t *new_list(const char *kind, const char *api)
{
    return json_pack("{s:s, s:s, s:{}, s:[]}", "kind", kind, "apiVersion", api,
                     "metadata", "items");
}

int kube_list_append(json_t **acc, const json_t *page, const char **cont,
                     struct kube_err *err)
{
    const char *kind = kube_json_str0(page, "kind");
    const char *api = kube_json_str0(page, "apiVersion");
    const char *rv = kube_json_str0(page, "metadata.resourceVersion");
    json_t *items = json_object_get(page, "items");
    json_t *list = *acc, *fresh = NULL, *item, *meta;
    char ikind[128];
    size_t i;

    if (!json_is_object(page) || item_kind(ikind, sizeof(ikind), kind) < 0 ||
        !(json_is_array(items) || json_is_null(items) || !items))
        return kube_err_set(err, KUBE_EINVAL,
                            "list page: not a list (kind \"%s\")", kind);
    if (!list) {
        list = fresh = new_list(kind, api);
        if (!list)
            return kube_err_set(err, KUBE_ENOMEM, "list page: out of memory");
    }
    meta = json_object_get(list, "metadata");
    if (json_object_set_new(meta, "resourceVersion", json_string(rv)))
        goto nomem;
    json_array_foreach(items, i, item)
    {
        json_t *t = typed_item(item, ikind, api);
        if (!t || json_array_append_new(json_object_get(list, "items"), t))
            goto nomem;
    }
    *cont = kube_json_str0(page, "metadata.continue");
    *acc = list;
    return KUBE_OK;
nomem:
    /* items appended to an existing *acc stay: the caller frees it on
     * failure anyway, and a half list is never reported as complete */
    json_decref(fresh);
    return kube_err_set(err, KUBE_ENOMEM, "list page: out of memory");
}
