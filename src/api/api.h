/*
 * api.h - the POS API: HTTP/1.1 JSON for the store's terminals, on
 * libmicrohttpd (SPEC.md section 5; the routes and errors are in
 * docs/api.md).
 *
 * What it does: serves every route of the route table (routes.c) from a
 * pool of worker threads; checks bearer tokens in constant time; buffers
 * request bodies up to a limit; maps statuses to HTTP codes in one table;
 * exports /healthz and Prometheus /metrics; writes one log line per request;
 * follows the store's data version so that a sync run by any process is
 * served within a second; stops gracefully.
 *
 * What it owns: the HTTP daemon, one database connection per worker thread,
 * the engine slot (the current promotion snapshot) and the counters.
 * What it does not do: price carts (engine), count or record uses (usage),
 * talk to the CMS (sync) or define the schema (store).
 *
 * Thread-safety: api_server_start and api_server_stop are called by one
 * controlling thread; api_server_port may be called from any thread while
 * the server runs.
 */
#ifndef EP_API_H
#define EP_API_H

#include <stdint.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/error.h"

/* How a server runs beyond its config. Zero-initialized: the defaults. */
struct api_options {
    const char *listen;          /* address:port; NULL: config->listen.
                                    Port 0 binds any free port (tests). */
    unsigned idle_timeout_s;     /* close idle connections; 0: config's
                                    idle_timeout */
    unsigned connection_limit;   /* open connections at most; 0: config's
                                    max_connections */
    unsigned reload_interval_ms; /* data version polling; 0: 1000 */
    unsigned drain_timeout_ms;   /* graceful stop's wait; 0: 10000 */
};

struct api_server;

/*
 * Starts serving: loads the promotion snapshot from the database named by
 * config (already migrated), binds the listen address and starts the
 * worker threads and the snapshot watcher. config is borrowed and must
 * outlive the server; company_id and store_id must be set. On success *out
 * owns the running server. EP_ERR_CONFIG (bad listen address), EP_ERR_IO
 * (cannot bind), EP_ERR_DB, EP_ERR_NOMEM.
 */
enum ep_status api_server_start(const struct ep_config *config,
                                const struct api_options *options,
                                struct api_server **out, struct ep_error *err);

/* The TCP port the server listens on (the bound one when 0 was asked). */
uint16_t api_server_port(const struct api_server *server);

/*
 * Stops gracefully and frees the server: stops accepting, lets requests in
 * flight finish (up to drain_timeout_ms), closes every connection, stops
 * the watcher and closes the database connections. NULL is a no-op.
 */
void api_server_stop(struct api_server *server);

/*
 * Serves until SIGTERM or SIGINT, then stops gracefully (api_server_stop).
 * Must be called before any other thread is started: it blocks both
 * signals in the calling thread, so that every thread it starts inherits
 * the mask and the signals reach only the sigwait here. options may be
 * NULL. Returns EP_OK after a signal, or the start's error.
 */
enum ep_status api_serve(const struct ep_config *config,
                         const struct api_options *options,
                         struct ep_error *err);

/*
 * Writes the route table as Markdown table rows (method, path, auth, body,
 * summary), for docs/api.md and its test.
 */
void api_routes_describe(struct ep_buf *out);

#endif
