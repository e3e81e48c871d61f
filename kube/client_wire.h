/* kube/client_wire.h - the API server's wire objects the client must read:
 * metav1.Status (every failure, and ERROR watch events) and list pages.
 * Pure functions over bytes and JSON, no I/O, so fixtures recorded from a
 * real kube-apiserver can be replayed in unit tests. */
#ifndef VMSNAPD_KUBE_CLIENT_WIRE_H
#define VMSNAPD_KUBE_CLIENT_WIRE_H

#include <jansson.h>
#include <stddef.h>

#include "kube/errors.h"

/* A Kubernetes Status as the server sent it. Callers keep it on the stack;
 * all fields are public and plain data. */
struct kube_status {
    int http;                   /* HTTP status; 0 when no answer arrived */
    int code;                   /* Status.code, else http */
    char reason[64];            /* Status.reason ("AlreadyExists"), or "" */
    char message[KUBE_ERR_MSG]; /* Status.message cut to fit, or "" */
    long retry_after_s;         /* Retry-After / details.retryAfterSeconds;
                                   -1 when absent */
};

/* Empties st: no answer, no reason, retry_after_s -1. Cannot fail. */
void kube_status_clear(struct kube_status *st);

/* Fills st from a Status object (borrowed); http is left as it is and code
 * falls back to it. KUBE_EINVAL when obj is not {"kind":"Status",...}
 * (st is then only cleared of reason and message). */
int kube_status_from_json(struct kube_status *st, const json_t *obj);

/* Fills st from an HTTP answer: http and its body, any bytes. A Status
 * body is decoded; any other body keeps its first line (up to the field's
 * size) as the message, so a proxy's HTML 502 still says something.
 * Cannot fail. */
void kube_status_from_http(struct kube_status *st, int http, const char *body,
                           size_t len);

/* The vmsnapd code for st, by HTTP status: 2xx KUBE_OK; 404
 * KUBE_ENOTFOUND; 409 KUBE_ECONFLICT (both Conflict and AlreadyExists:
 * tell them apart with kube_status_already_exists); 410 KUBE_EGONE; 400,
 * 415 and 422 KUBE_EINVAL; 413 KUBE_ETOOBIG; 429 and 5xx KUBE_EUNAVAIL;
 * anything else (401, 403, no answer) KUBE_ERR. */
int kube_status_errcode(const struct kube_status *st);

/* 1 when st is a 409 with reason AlreadyExists (a create lost to an
 * existing name), else 0. */
int kube_status_already_exists(const struct kube_status *st);

/* Writes "WHAT: 409 Conflict: <message>" into err with the code of
 * kube_status_errcode and returns that code. what names the request
 * ("PUT /apis/..."); it must never contain a token. */
int kube_status_err(struct kube_err *err, const struct kube_status *st,
                    const char *what);

/* Adds one list page (borrowed) to *acc. On the first page *acc is NULL
 * and becomes a new List object {"kind","apiVersion","metadata","items"};
 * later pages append their items. Items without kind or apiVersion (the
 * server leaves them out for built-in types) get them from the list: kind
 * is the list's kind minus "List". metadata.resourceVersion is taken from
 * the page (all pages of a list share one snapshot). *cont gets the page's
 * continue token (borrowed from page; "" on the last page).
 * KUBE_EINVAL when page is not a list (nothing added); KUBE_ENOMEM (*acc
 * may then hold part of the page: the caller drops the whole list). */
int kube_list_append(json_t **acc, const json_t *page, const char **cont,
                     struct kube_err *err) KUBE_MUST_CHECK;

#endif
