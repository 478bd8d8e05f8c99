/*
 * fuzz_entry.h - serving one request without a socket, for the HTTP fuzz
 * target (fuzz/fuzz_http.c) and tools that want a response without a
 * daemon.
 *
 * A request goes in as its parts (method, path, query string, the two
 * headers the API reads, body) and a response comes out (HTTP status,
 * Content-Type, body): the same route table, header checks, handlers,
 * status-to-HTTP table and error shape as the server, on the calling
 * thread, with its own worker (one database connection, one arena).
 * Nothing here opens a port, starts a thread or runs a sync scheduler
 * (POST /v1/sync answers 503, as a server without cms_url does).
 *
 * What it does not do: libmicrohttpd's own work (parsing the request line,
 * percent-decoding the path, chunked bodies); tests/api covers that over
 * real HTTP. Thread-safety: one server, one thread.
 */
#ifndef EP_API_FUZZ_ENTRY_H
#define EP_API_FUZZ_ENTRY_H

#include <stddef.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"

struct api_server;

/* One request, as its parts. Every pointer is borrowed for the call. */
struct api_fuzz_request {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* decoded path, without the query */
    const char *query;         /* "brand_id=b1&at=..." (encoded), or NULL */
    const char *authorization; /* the Authorization header, or NULL */
    const char *content_type;  /* the Content-Type header, or NULL */
    const char *body;          /* body_len bytes; may be NULL when 0 */
    size_t body_len;           /* bytes in body */
};

/* What the server answered. */
struct api_fuzz_response {
    unsigned http_status;     /* 200, 400, ... */
    const char *content_type; /* "application/json" or the handler's */
};

/*
 * Makes a server without a daemon: the engine slot gets the snapshot of
 * the database config->db names (migrated; company_id and store_id set).
 * config is borrowed and must outlive the server. EP_ERR_NOMEM, EP_ERR_DB
 * and the errors of loading the snapshot.
 */
enum ep_status api_fuzz_server_new(const struct ep_config *config,
                                   struct api_server **out,
                                   struct ep_error *err);

/*
 * Serves req on the calling thread: the response body is written to out
 * (reset first), the status and headers to *response. Never fails: every
 * outcome is a response, as on the wire.
 */
void api_fuzz_serve(struct api_server *server,
                    const struct api_fuzz_request *req,
                    struct api_fuzz_response *response, struct ep_buf *out);

/*
 * Closes the calling thread's database connection of server (it is
 * reopened by the next request), so that a caller may replace the
 * database file between requests.
 */
void api_fuzz_server_close_store(struct api_server *server);

/* Frees the server, its workers and its snapshot; NULL is a no-op. */
void api_fuzz_server_free(struct api_server *server);

#endif
