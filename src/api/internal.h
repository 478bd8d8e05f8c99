/*
 * internal.h - what the files of the api part share: the route table, the
 * error table, the server's state, a request's state and the call a handler
 * gets.
 *
 * The files: server.c (start, stop, signals), http.c (the libmicrohttpd
 * access handler: bodies, auth, responses, logs), routes.c (the route
 * table and path matching), errors.c (statuses and problems to HTTP),
 * metrics.c (counters and the histogram), worker.c (per-thread database
 * connections and arenas), watcher.c (snapshot reloads), and the handlers:
 * cart.c, promotions.c, sync_routes.c, health.c, ready.c, status.c;
 * recent.c keeps the recent errors status.c shows. Only http.c and server.c
 * include microhttpd.h; handlers see struct api_call.
 */
#ifndef EP_API_INTERNAL_H
#define EP_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "common/arena.h"
#include "common/buf.h"
#include "engine/engine.h"
#include "store/store.h"

struct MHD_Daemon;
struct MHD_Connection;
struct sync_scheduler;

/* ---- errors ----------------------------------------------------------- */

/*
 * Every error the API answers: X(kind, HTTP status, code, default message).
 * The code is the "error.code" of the JSON error shape.
 */
#define API_ERROR_TABLE(X)                                                  \
    X(API_ERR_INVALID_JSON, 400, "invalid_json", "the body is not JSON")    \
    X(API_ERR_INVALID, 400, "invalid_request", "invalid request")           \
    X(API_ERR_UNAUTHORIZED, 401, "unauthorized",                            \
      "a valid 'Authorization: Bearer <token>' header is required")         \
    X(API_ERR_NOT_FOUND, 404, "not_found", "not found")                     \
    X(API_ERR_NO_ROUTE, 404, "route_not_found", "no such route")            \
    X(API_ERR_METHOD, 405, "method_not_allowed",                            \
      "method not allowed on this route")                                   \
    X(API_ERR_CONFLICT, 409, "conflict", "conflicts with stored data")      \
    X(API_ERR_TOO_LARGE, 413, "too_large", "the request body is too large") \
    X(API_ERR_MEDIA_TYPE, 415, "unsupported_media_type",                    \
      "the body must be application/json")                                  \
    X(API_ERR_INTERNAL, 500, "internal", "internal error")                  \
    X(API_ERR_UNAVAILABLE, 503, "unavailable", "service unavailable")       \
    X(API_ERR_BUSY, 503, "database_busy", "the database is busy; retry")    \
    X(API_ERR_CMS, 503, "cms_unavailable", "the CMS could not be reached")

enum api_error_kind {
#define API_ERROR_ENUM(kind, http, code, message) kind,
    API_ERROR_TABLE(API_ERROR_ENUM)
#undef API_ERROR_ENUM
        API_ERROR_COUNT,
    API_ERROR_NONE = API_ERROR_COUNT
};

/* The HTTP status of an error kind. */
unsigned api_error_http(enum api_error_kind kind);

/* The "error.code" of an error kind ("invalid_request"). */
const char *api_error_code(enum api_error_kind kind);

/* The error kind a status maps to: the one table from ep_status to HTTP. */
enum api_error_kind api_error_of_status(enum ep_status status);

/*
 * Writes {"error":{"code","message","field"?}}. message NULL: the kind's
 * default; field NULL or "": no field.
 */
void api_error_write_json(enum api_error_kind kind, const char *message,
                          const char *field, struct ep_buf *out);

/* ---- routes ----------------------------------------------------------- */

/* How much body a route reads. */
enum api_body {
    API_BODY_NONE,  /* none: any body byte is a 413 */
    API_BODY_SMALL, /* up to API_BODY_SMALL_BYTES */
    API_BODY_CART   /* up to the config's max_body_bytes */
};

#define API_BODY_SMALL_BYTES 4096
#define API_PATH_PARAMS_MAX  2

struct api_call;
typedef enum ep_status (*api_handler_fn)(struct api_call *call);

/*
 * THE route table: X(id, method, path pattern, handler, body, auth,
 * summary). A "{name}" segment matches one non-empty path segment and is
 * passed to the handler as a parameter. Earlier rows win, so literal paths
 * come before patterns that would also match them. Dispatch, 404/405 with
 * Allow, the metrics' route labels and docs/api.md all read it.
 */
#define API_ROUTE_TABLE(X)                                                     \
    X(API_ROUTE_EVALUATE, "POST", "/v1/cart/evaluate", api_handle_evaluate,    \
      API_BODY_CART, true, "price a cart; no side effects")                    \
    X(API_ROUTE_COMMIT, "POST", "/v1/transactions", api_handle_commit,         \
      API_BODY_CART, true, "checkout: record the uses, idempotent")            \
    X(API_ROUTE_VOID, "POST", "/v1/transactions/{transaction_id}/void",        \
      api_handle_void, API_BODY_SMALL, true,                                   \
      "give a checkout's uses back, idempotent")                               \
    X(API_ROUTE_ACTIVE, "GET", "/v1/promotions/active",                        \
      api_handle_promotions_active, API_BODY_NONE, true,                       \
      "promotions in force now or at ?at=, for ?brand_id=")                    \
    X(API_ROUTE_PROMOTIONS, "GET", "/v1/promotions",                           \
      api_handle_promotions_list, API_BODY_NONE, true,                         \
      "all promotions, by ?type= and ?auto_apply=")                            \
    X(API_ROUTE_PROMOTION, "GET", "/v1/promotions/{code}",                     \
      api_handle_promotion_get, API_BODY_NONE, true,                           \
      "the promotion a typed code picks")                                      \
    X(API_ROUTE_USAGE, "GET", "/v1/usage/{promotion_id}",                      \
      api_handle_usage_get, API_BODY_NONE, true,                               \
      "a promotion's uses today, for ?customer_id=")                           \
    X(API_ROUTE_SYNC, "POST", "/v1/sync", api_handle_sync_trigger,             \
      API_BODY_SMALL, true, "run a full or incremental sync now")              \
    X(API_ROUTE_SYNC_LAST, "GET", "/v1/sync/last", api_handle_sync_last,       \
      API_BODY_NONE, true, "the last sync run")                                \
    X(API_ROUTE_SYNC_STATS, "GET", "/v1/sync/stats", api_handle_sync_stats,    \
      API_BODY_NONE, true, "sync totals over ?days= (default 7)")              \
    X(API_ROUTE_HEALTHZ, "GET", "/healthz", api_handle_healthz, API_BODY_NONE, \
      false, "liveness: database, last sync, promotions")                      \
    X(API_ROUTE_METRICS, "GET", "/metrics", api_handle_metrics, API_BODY_NONE, \
      false, "Prometheus text format")                                         \
    X(API_ROUTE_READYZ, "GET", "/readyz", api_handle_readyz, API_BODY_NONE,    \
      false, "readiness: database open, promotions loaded; last good sync")    \
    X(API_ROUTE_STATUS, "GET", "/status", api_handle_status, API_BODY_NONE,    \
      false, "staff status page (HTML; Basic auth, a token as password)")

enum api_route_id {
#define API_ROUTE_ENUM(id, method, pattern, handler, body, auth, summary) id,
    API_ROUTE_TABLE(API_ROUTE_ENUM)
#undef API_ROUTE_ENUM
        API_ROUTE_UNMATCHED, /* metrics label of 404s and 405s */
    API_ROUTE_COUNT
};

struct api_route {
    enum api_route_id id;   /* its row */
    const char *method;     /* "GET" or "POST" */
    const char *pattern;    /* "/v1/usage/{promotion_id}" */
    api_handler_fn handler; /* does the work */
    enum api_body body;     /* body limit class */
    bool auth;              /* needs a bearer token */
    const char *summary;    /* for docs */
};

/* What a request's method and path matched. */
struct api_match {
    const struct api_route *route;           /* NULL: 404 or 405 */
    const char *params[API_PATH_PARAMS_MAX]; /* in the matched path */
    size_t param_count;                      /* entries in params */
    bool path_known;                         /* 405: other methods serve it */
    char allow[32];                          /* "GET, POST" for a 405 */
};

/*
 * Matches method and path against the table. path is modified: parameter
 * segments are NUL-terminated in place and out->params point into it.
 */
void api_route_match(const char *method, char *path, struct api_match *out);

/* The metrics label of a route: its pattern, or "unmatched". */
const char *api_route_label(enum api_route_id id);

/* The method of a route ("-" for API_ROUTE_UNMATCHED). */
const char *api_route_method(enum api_route_id id);

/* ---- metrics ---------------------------------------------------------- */

/* HTTP statuses counted one by one; any other counts as "other". */
#define API_METRIC_STATUSES(X) \
    X(200) X(400) X(401) X(404) X(405) X(409) X(413) X(415) X(500) X(503)
#define API_METRIC_STATUS_COUNT 11

/* Upper bounds of the latency histogram, microseconds; then +Inf. */
#define API_METRIC_BUCKETS(X)                                           \
    X(100)                                                              \
    X(250)                                                              \
    X(500)                                                              \
    X(1000)                                                             \
    X(2500)                                                             \
    X(5000)                                                             \
    X(10000) X(25000) X(50000) X(100000) X(250000) X(500000) X(1000000) \
        X(2500000)
#define API_METRIC_BUCKET_COUNT 15

/* How a checkout ended, for edgepromo_commits_total. */
enum api_commit_outcome {
    API_COMMIT_COMMITTED, /* new checkout written */
    API_COMMIT_REPLAYED,  /* known transaction id: first response again */
    API_COMMIT_FAILED,    /* bad input or store error */
    API_COMMIT_OUTCOME_COUNT
};

/* Counters of one server; all relaxed atomics, no locks. */
struct api_metrics {
    atomic_uint_fast64_t requests[API_ROUTE_COUNT][API_METRIC_STATUS_COUNT];
    atomic_uint_fast64_t buckets[API_ROUTE_COUNT][API_METRIC_BUCKET_COUNT];
    atomic_uint_fast64_t latency_us[API_ROUTE_COUNT]; /* sum, microseconds */
    atomic_uint_fast64_t evaluations; /* carts priced (evaluate) */
    atomic_uint_fast64_t commits[API_COMMIT_OUTCOME_COUNT];
    atomic_uint_fast64_t voids;           /* voids answered 200 */
    atomic_uint_fast64_t reloads;         /* snapshots adopted */
    atomic_uint_fast64_t reload_failures; /* snapshot loads that failed */
};

/* Counts one finished request: its route, HTTP status and duration. */
void api_metrics_record(struct api_metrics *metrics, enum api_route_id route,
                        unsigned http_status, uint64_t duration_us);

/* Adds one to a counter (relaxed). */
void api_metrics_add(atomic_uint_fast64_t *counter);

/* Writes the request counters and latency histograms, Prometheus text. */
void api_metrics_write_requests(struct api_metrics *metrics,
                                struct ep_buf *out);

/* Writes the evaluation, commit, void and reload counters. */
void api_metrics_write_counters(struct api_metrics *metrics,
                                struct ep_buf *out);

/* ---- the server ------------------------------------------------------- */

/* One worker thread's own resources, found through a thread-local. */
struct api_worker {
    struct api_server *server; /* owner */
    struct store *store;       /* this thread's connection; lazily opened */
    struct ep_arena arena;     /* per-request memory; reset after each */
    struct ep_buf out;         /* response body; reset after each */
    struct api_worker *next;   /* the server's list (under workers_lock) */
};

/* ---- recent errors (recent.c) ----------------------------------------- */

#define API_RECENT_MAX         20
#define API_RECENT_WHAT_MAX    64
#define API_RECENT_MESSAGE_MAX 256

/* One error an operator should see on the status page. */
struct api_recent_event {
    int64_t at;                           /* epoch seconds */
    char what[API_RECENT_WHAT_MAX];       /* "GET /v1/..." or "sync full" */
    unsigned http_status;                 /* 5xx; 0 for a sync */
    char message[API_RECENT_MESSAGE_MAX]; /* the cause, as logged */
};

/*
 * The last API_RECENT_MAX errors of one server: requests answered 5xx and
 * failed sync runs. Messages are the ones already logged, which never hold
 * a token or a phone number. Guarded by one lock in recent.c.
 */
struct api_recent {
    struct api_recent_event events[API_RECENT_MAX]; /* a ring */
    uint64_t added;                                 /* events ever added */
};

/* Records an error (thread-safe). what and message are copied, cut short. */
void api_recent_note(struct api_server *server, const char *what,
                     unsigned http_status, const char *message);

/* Copies up to max events, newest first; returns how many. */
size_t api_recent_copy(struct api_server *server, struct api_recent_event *out,
                       size_t max);

/* The thread that keeps the snapshot in step with the database. */
struct api_watcher {
    pthread_t thread;     /* valid while started */
    bool started;         /* the thread runs */
    pthread_mutex_t lock; /* guards stop and wake */
    pthread_cond_t wake;  /* signalled by stop */
    bool stop;            /* under lock: the thread must end */
    bool poked;           /* under lock: check the version now */
    struct store *store;  /* the watcher's own connection */
    int64_t data_version; /* of the database the snapshot was built from */
};

struct api_server {
    const struct ep_config *config;   /* borrowed; outlives the server */
    struct api_options options;       /* defaults filled in */
    struct MHD_Daemon *daemon;        /* NULL until started */
    uint16_t port;                    /* bound TCP port */
    size_t cart_body_max;             /* max_body_bytes */
    struct engine_slot *slot;         /* the current snapshot; owned */
    _Atomic int64_t snapshot_at;      /* when it was adopted, epoch seconds */
    struct api_metrics metrics;       /* counters */
    struct api_watcher watcher;       /* snapshot reloads */
    struct sync_scheduler *scheduler; /* CMS syncs; NULL without cms_url */
    pthread_mutex_t workers_lock;     /* guards workers */
    struct api_worker *workers;       /* every worker's state; owned */
    atomic_bool stopping;             /* graceful stop begun */
    atomic_long in_flight;            /* requests begun and not completed */
    struct api_recent recent;         /* recent errors, for GET /status */
};

/* ---- a request, and the call a handler gets ---------------------------- */

/* One HTTP request, from its headers to its completion. Heap-owned. */
struct api_request {
    struct api_match match;            /* route and path parameters */
    char *path;                        /* owned copy; params point into it */
    const char *method;                /* libmicrohttpd's, for the request */
    struct MHD_Connection *connection; /* borrowed */
    char *body;                        /* owned; NUL-terminated */
    size_t body_len;                   /* bytes in body */
    size_t body_cap;                   /* bytes allocated */
    size_t body_limit;                 /* bytes accepted */
    uint64_t started_us;               /* monotonic clock at the headers */
    enum api_error_kind pending;       /* error found at the headers */
    unsigned http_status;              /* what was answered; 0: nothing */
    bool answered;                     /* a response is queued */
    bool counted;                      /* in server->in_flight */
    const char *query;                 /* served without a connection
                                          (fuzz_entry.c): the raw query
                                          string; else NULL */
};

/* What a handler gets and fills in. */
struct api_call {
    struct api_server *server;      /* borrowed */
    struct api_worker *worker;      /* this thread's store and arena */
    struct api_request *request;    /* params and body */
    struct ep_arena *arena;         /* worker's, reset after the request */
    struct ep_buf *out;             /* the response body (JSON by default) */
    unsigned http_status;           /* 200 unless the handler sets it */
    const char *content_type;       /* NULL: application/json */
    bool replayed;                  /* commit replay: Idempotent-Replayed */
    const char *authenticate;       /* WWW-Authenticate of a 401, or NULL */
    enum api_error_kind error_kind; /* API_ERROR_NONE: from the status */
    struct ep_error err;            /* the handler's error, if it fails */
};

/* The value of query parameter key, or NULL (libmicrohttpd's memory). */
const char *api_call_query(const struct api_call *call, const char *key);

/* The value of request header name, or NULL (libmicrohttpd's memory). */
const char *api_call_header(const struct api_call *call, const char *name);

/* Path parameter index (0 = the first "{...}"). */
const char *api_call_param(const struct api_call *call, size_t index);

/*
 * This thread's database connection, opened on first use. EP_ERR_DB with
 * err set when it cannot be opened.
 */
enum ep_status api_call_store(struct api_call *call, struct store **out);

/*
 * The current snapshot with a reference the caller releases with
 * promo_set_release. EP_ERR_UNAVAILABLE when none is loaded.
 */
enum ep_status api_call_snapshot(struct api_call *call, struct promo_set **out);

/* Sets err for a bad query parameter and returns EP_ERR_INVALID. */
enum ep_status api_call_bad_query(struct api_call *call, const char *key,
                                  const char *expected);

/*
 * Query parameter key of a request served without a connection
 * (fuzz_entry.c), decoded into the call's arena; api_call_query's answer
 * when call->request->connection is NULL.
 */
const char *api_fuzz_query(const struct api_call *call, const char *key);

/* ---- workers and the watcher ------------------------------------------ */

/* This thread's worker for server, made on first use; NULL when no memory. */
struct api_worker *api_worker_get(struct api_server *server);

/* Opens the worker's store if needed. */
enum ep_status api_worker_store(struct api_worker *worker, struct store **out,
                                struct ep_error *err);

/* Frees every worker (stores closed); worker threads must have ended. */
void api_workers_free(struct api_server *server);

/*
 * Opens the watcher's store, loads the first snapshot and starts the
 * thread that reloads it when the database's data version changes.
 */
enum ep_status api_watcher_start(struct api_server *server,
                                 struct ep_error *err);

/* Stops the watcher thread and closes its store; safe if never started. */
void api_watcher_stop(struct api_server *server);

/* Makes the watcher check the data version now (after a sync). */
void api_watcher_poke(struct api_server *server);

/* ---- the HTTP layer (http.c) --------------------------------------------- */

/* Starts the libmicrohttpd daemon on the options' listen address. */
enum ep_status api_http_start(struct api_server *server, struct ep_error *err);

/*
 * Stops accepting, waits for requests in flight (drain_timeout_ms at
 * most), then stops the daemon and joins its threads.
 */
void api_http_stop(struct api_server *server);

/* Monotonic microseconds. */
uint64_t api_clock_us(void);

/* ---- handlers (one per route row) ------------------------------------- */

#define API_HANDLER_DECLARE(id, method, pattern, handler, body, auth, summary) \
    enum ep_status handler(struct api_call *call);
API_ROUTE_TABLE(API_HANDLER_DECLARE)
#undef API_HANDLER_DECLARE

/* ---- small helpers shared by handlers --------------------------------- */

/*
 * Converts a UTC "YYYY-MM-DD HH:MM:SS" (the store's timestamps) into epoch
 * seconds; false when text is NULL or malformed.
 */
bool api_utc_text_to_epoch(const char *text, int64_t *out);

/*
 * True when a failed json_loadb ran out of memory rather than met bad
 * JSON: jansson says so with its error code, or, when it could not even
 * start, by giving no reason at all.
 */
bool api_json_out_of_memory(const json_error_t *jerr);

/* Writes ,"key":"text" or ,"key":null. */
void api_json_member_string(struct ep_buf *out, const char *key,
                            const char *text);

#endif
