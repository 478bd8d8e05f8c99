/*
 * errors.c - the API's errors: the table of kinds (HTTP status, code,
 * message), the one table from enum ep_status to a kind, and the JSON
 * error shape {"error":{"code","message","field"?}}.
 */
#include <assert.h>

#include "api/internal.h"

struct api_error_row {
    unsigned http;       /* HTTP status */
    const char *code;    /* "error.code" */
    const char *message; /* default message */
};

static const struct api_error_row error_rows[API_ERROR_COUNT] = {
#define API_ERROR_ROW(kind, http, code, message) \
    [kind] = { http, code, message },
    API_ERROR_TABLE(API_ERROR_ROW)
#undef API_ERROR_ROW
};

/*
 * From a status to what the terminal sees. Bad input is 400, a busy
 * database or an unreachable CMS is 503 (retry), our own failures are 500.
 * API_ERR_INVALID_JSON, the zero, is never the kind of a status: it marks
 * a missing row.
 */
static const enum api_error_kind status_kinds[EP_STATUS_COUNT] = {
    [EP_OK] = API_ERR_INTERNAL, /* never an error; defensive */
    [EP_ERR_NOMEM] = API_ERR_UNAVAILABLE,
    [EP_ERR_INVALID] = API_ERR_INVALID,
    [EP_ERR_USAGE] = API_ERR_INVALID,
    [EP_ERR_CONFIG] = API_ERR_INTERNAL,
    [EP_ERR_NOT_FOUND] = API_ERR_NOT_FOUND,
    [EP_ERR_CONFLICT] = API_ERR_CONFLICT,
    [EP_ERR_TOO_LARGE] = API_ERR_TOO_LARGE,
    [EP_ERR_IO] = API_ERR_INTERNAL,
    [EP_ERR_DISK_FULL] = API_ERR_UNAVAILABLE,
    [EP_ERR_DB] = API_ERR_INTERNAL,
    [EP_ERR_DB_BUSY] = API_ERR_BUSY,
    [EP_ERR_SCHEMA_NEWER] = API_ERR_INTERNAL,
    [EP_ERR_NETWORK] = API_ERR_CMS,
    [EP_ERR_TIMEOUT] = API_ERR_CMS,
    [EP_ERR_CMS] = API_ERR_CMS,
    [EP_ERR_CMS_GONE] = API_ERR_CMS,
    [EP_ERR_UNAVAILABLE] = API_ERR_UNAVAILABLE,
    [EP_ERR_INTERNAL] = API_ERR_INTERNAL,
};

unsigned api_error_http(enum api_error_kind kind)
{
    assert(kind < API_ERROR_COUNT);
    return error_rows[kind].http;
}

const char *api_error_code(enum api_error_kind kind)
{
    assert(kind < API_ERROR_COUNT);
    return error_rows[kind].code;
}

enum api_error_kind api_error_of_status(enum ep_status status)
{
    /* A status added later has no row yet: its zero is not a real row. */
    if ((unsigned)status >= EP_STATUS_COUNT ||
        status_kinds[status] == API_ERR_INVALID_JSON)
        return API_ERR_INTERNAL;
    return status_kinds[status];
}

void api_error_write_json(enum api_error_kind kind, const char *message,
                          const char *field, struct ep_buf *out)
{
    assert(kind < API_ERROR_COUNT);
    ep_buf_puts(out, "{\"error\":{\"code\":");
    ep_buf_json_string(out, error_rows[kind].code);
    ep_buf_puts(out, ",\"message\":");
    ep_buf_json_string(out, message != NULL && message[0] != '\0'
                                ? message
                                : error_rows[kind].message);
    if (field != NULL && field[0] != '\0') {
        ep_buf_puts(out, ",\"field\":");
        ep_buf_json_string(out, field);
    }
    ep_buf_puts(out, "}}\n");
}
