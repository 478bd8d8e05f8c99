/*
 * internal.h - what the files of the sync part share: the JSON scanner
 * the sync bodies are read with, the CMS client, and the pieces of a run.
 *
 * Nothing outside src/sync includes this file.
 */
#ifndef EP_SYNC_INTERNAL_H
#define EP_SYNC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sync/sync.h"

/* ---- the JSON scanner (scan.c) ------------------------------------------ */

/*
 * A strict RFC 8259 reader over a mutable, NUL-terminated buffer, built for
 * the one big document of a full sync: it walks the text once, builds no
 * tree, and hands out strings in place. A string is decoded where it lies
 * and NUL-terminated there; a value kept as JSON text (rules, scope) is
 * compacted in place (blanks outside strings dropped) and NUL-terminated
 * once the character after it has been read. So everything handed out
 * points into the buffer, which must outlive it. Errors are EP_ERR_INVALID
 * with the line and column; the first one stops the scan.
 */
struct json_scan {
    char *p;              /* next unread byte */
    char *end;            /* the NUL after the text */
    char *line_start;     /* first byte of the current line */
    long line;            /* 1-based line of p */
    int depth;            /* arrays and objects open */
    char *pending_nul;    /* where a NUL goes once p has passed it, or NULL */
    struct ep_error *err; /* where failures go; may be NULL */
    bool failed;          /* an error was found; every call fails after */
};

/* The kind of the next value, judged by its first byte. */
enum json_kind {
    JSON_KIND_BAD,
    JSON_KIND_OBJECT,
    JSON_KIND_ARRAY,
    JSON_KIND_STRING,
    JSON_KIND_NUMBER,
    JSON_KIND_TRUE,
    JSON_KIND_FALSE,
    JSON_KIND_NULL
};

/* Starts a scan of text[0..length); text[length] must be a NUL. */
void json_scan_init(struct json_scan *s, char *text, size_t length,
                    struct ep_error *err);

/* Fails the scan with a syntax error at the current place. */
enum ep_status json_scan_fail(struct json_scan *s, const char *what);

/* The kind of the next value (blanks skipped); BAD at the end of text. */
enum json_kind json_scan_peek(struct json_scan *s);

/* Reads '{'; then json_scan_member until *more is false. */
enum ep_status json_scan_object(struct json_scan *s);

/*
 * Moves to the next member of the object being read: *more true and *key
 * (decoded in place) when there is one, false after the closing '}'.
 * first must be true before the first member and is cleared.
 */
enum ep_status json_scan_member(struct json_scan *s, bool *first, bool *more,
                                char **key);

/* Reads '['; then json_scan_element until *more is false. */
enum ep_status json_scan_array(struct json_scan *s);

/* Moves to the next element: *more false after the closing ']'. */
enum ep_status json_scan_element(struct json_scan *s, bool *first, bool *more);

/* Reads a string, decoded in place; *length_out may be NULL. */
enum ep_status json_scan_string(struct json_scan *s, char **out,
                                size_t *length_out);

/* Reads a number; *out is its text, NUL-terminated once passed. */
enum ep_status json_scan_number(struct json_scan *s, char **start,
                                size_t *length);

/* Reads true, false or null. */
enum ep_status json_scan_literal(struct json_scan *s, enum json_kind kind);

/* Reads any value and keeps it as compact JSON text in place. */
enum ep_status json_scan_raw(struct json_scan *s, char **out);

/* Reads and checks any value, keeping nothing. */
enum ep_status json_scan_skip(struct json_scan *s);

/* Checks that only blanks remain. */
enum ep_status json_scan_finish(struct json_scan *s);

/* Writes the NUL a raw value or number still waits for (end of use). */
void json_scan_settle(struct json_scan *s);

/* ---- promotions (promotion.c) ------------------------------------------- */

/*
 * Reads one promotion object at the scanner into *out, strings pointing
 * into the scanned buffer (defaults from arena). A column of the wrong
 * type does not stop the scan: the promotion is marked bad in *why (field
 * and reason) and the rest of the object is still read, so its id is
 * known. Only a syntax error (EP_ERR_INVALID) or running out of memory
 * (EP_ERR_NOMEM, also set in the scanner's err) returns a failure.
 */
enum ep_status sync_promotion_scan(struct json_scan *s, struct ep_arena *arena,
                                   struct promo_record *out,
                                   struct ep_error *why);

/* ---- preparing a batch (prepare.c) ------------------------------------- */

/* What a payload becomes once validated: the store's batch contents. */
struct sync_prepared {
    struct promo_record *items; /* valid, unique, in id order; arena */
    size_t item_count;          /* entries in items */
    const char **deleted_ids;   /* incremental: ids to remove; arena */
    size_t deleted_count;       /* entries in deleted_ids */
};

/*
 * Validates every promotion of payload with the engine's compiler (on
 * several threads when there are many), rejects the invalid ones and the
 * later of two with the same id or the same (store_id, code), and fills
 * *out. Rejections are appended to payload. For an incremental payload
 * (full false) the ids of rejected updates are deleted too, so a stored
 * older version does not outlive the CMS's newer one. EP_ERR_NOMEM only.
 */
enum ep_status sync_prepare(struct sync_payload *payload, bool full,
                            const struct sync_options *options,
                            struct ep_arena *arena, struct sync_prepared *out,
                            struct ep_error *err);

/* ---- reports (report.c) ------------------------------------------------- */

/*
 * Writes the first limit rejections of payload as the JSON list
 * [{"id", "field", "reason"}] into *out (heap, the caller frees), or NULL
 * when there are none. EP_ERR_NOMEM.
 */
enum ep_status sync_details_json(const struct sync_payload *payload,
                                 size_t limit, char **out);

/* ---- the CMS client (cms.c) --------------------------------------------- */

#define CMS_BODY_MAX        ((size_t)256 << 20) /* largest body accepted */
#define CMS_HEADER_TEXT_MAX 64 /* Date and X-CMS-Version kept */

/* One POST to the CMS. */
struct cms_request {
    const char *url;           /* full URL */
    const char *body;          /* JSON text sent */
    const char *token;         /* bearer token, or NULL */
    const char *ca_file;       /* CA bundle, or NULL for libcurl's */
    long connect_timeout_s;    /* seconds to connect */
    long timeout_s;            /* seconds for the whole exchange */
    const atomic_bool *cancel; /* aborts the transfer when set; may be NULL */
};

/* What the CMS answered. */
struct cms_response {
    long http_status;                  /* 200, 410, ...; 0 if none */
    char *body;                        /* owned, NUL-terminated */
    size_t length;                     /* bytes in body */
    char date[CMS_HEADER_TEXT_MAX];    /* Date header, or "" */
    char version[CMS_HEADER_TEXT_MAX]; /* X-CMS-Version header, or "" */
};

/* Makes libcurl ready; safe to call from any thread, any number of times. */
void cms_global_init(void);

/*
 * Sends req and reads a 2xx answer into *out (the caller frees it with
 * cms_response_deinit). A non-2xx answer is EP_ERR_CMS, or EP_ERR_CMS_GONE
 * for 410, with out->http_status set and the message "CMS answered HTTP
 * 500". A transport failure is EP_ERR_TIMEOUT ("timed out after 2 s") or
 * EP_ERR_NETWORK ("connection closed after 1234 of 5678 bytes").
 */
enum ep_status cms_post(const struct cms_request *req, struct cms_response *out,
                        struct ep_error *err);

/* Frees the body; NULL is a no-op. */
void cms_response_deinit(struct cms_response *response);

/*
 * Converts an HTTP Date ("Fri, 30 Jan 2026 06:00:00 GMT") to RFC 3339 UTC
 * ("2026-01-30T06:00:00Z"); false if it does not parse.
 */
bool cms_date_to_rfc3339(const char *http_date, char out[CMS_HEADER_TEXT_MAX]);

#endif
