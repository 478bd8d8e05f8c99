/*
 * status.h - the one list of outcomes every edgepromo function returns.
 *
 * Every action that can fail returns an enum ep_status; EP_OK is 0. The
 * list is an X-macro table, so the enum, the names and the default messages
 * come from one place. The api part maps statuses to HTTP codes in its own
 * table and the cli part maps them to exit codes; nothing here knows either.
 * Thread-safe: everything here is constant data.
 */
#ifndef EP_STATUS_H
#define EP_STATUS_H

/* X(enum name, short name, default message) */
#define EP_STATUS_TABLE(X)                                         \
    X(EP_OK, "ok", "success")                                      \
    X(EP_ERR_NOMEM, "out_of_memory", "out of memory")              \
    X(EP_ERR_INVALID, "invalid", "invalid input")                  \
    X(EP_ERR_USAGE, "usage", "bad command usage")                  \
    X(EP_ERR_CONFIG, "config", "invalid configuration")            \
    X(EP_ERR_NOT_FOUND, "not_found", "not found")                  \
    X(EP_ERR_CONFLICT, "conflict", "conflicts with stored data")   \
    X(EP_ERR_TOO_LARGE, "too_large", "input exceeds a size limit") \
    X(EP_ERR_IO, "io_error", "input/output error")                 \
    X(EP_ERR_DISK_FULL, "disk_full", "disk full")                  \
    X(EP_ERR_DB, "database_error", "database error")               \
    X(EP_ERR_DB_BUSY, "database_busy", "database busy")            \
    X(EP_ERR_SCHEMA_NEWER, "schema_newer",                         \
      "database schema is newer than this program")                \
    X(EP_ERR_NETWORK, "network_error", "network error")            \
    X(EP_ERR_TIMEOUT, "timeout", "timed out")                      \
    X(EP_ERR_CMS, "cms_error", "the CMS answered with an error")   \
    X(EP_ERR_CMS_GONE, "cms_cursor_gone",                          \
      "the CMS no longer knows the sync cursor")                   \
    X(EP_ERR_UNAVAILABLE, "unavailable", "service unavailable")    \
    X(EP_ERR_INTERNAL, "internal", "internal error")

enum ep_status {
#define EP_STATUS_ENUM(name, short_name, message) name,
    EP_STATUS_TABLE(EP_STATUS_ENUM)
#undef EP_STATUS_ENUM
        EP_STATUS_COUNT
};

/* Returns the short machine name of a status ("not_found"); never NULL. */
const char *ep_status_name(enum ep_status status);

/* Returns the default message of a status ("not found"); never NULL. */
const char *ep_status_message(enum ep_status status);

#endif
