/*
 * http.c - the libmicrohttpd side of the API: the daemon, the access
 * handler, bodies, bearer tokens, responses, the per-request log line and
 * the graceful stop.
 *
 * libmicrohttpd calls the access handler several times per request:
 *
 *   1. once the headers are in (*con_cls is NULL): we make the request's
 *      state, match the route, and check the token, the Content-Type and a
 *      declared Content-Length. An error found here is remembered, not
 *      answered, except a body declared too large, which is answered at
 *      once (libmicrohttpd then closes the connection unread);
 *   2. once per piece of body (*upload_data_size > 0): we copy it, up to the
 *      route's limit. A chunked body (no declared length) that grows past
 *      the limit closes the connection: no response can be queued in the
 *      middle of a body;
 *   3. once more when the body is complete (*upload_data_size == 0): we
 *      answer the remembered error or run the route's handler, and queue
 *      the response.
 *
 * Queueing only in step 3 matters for speed: a response queued before the
 * body was read makes libmicrohttpd close the connection, and keep-alive is
 * what lets a terminal reuse one connection for every request. When the
 * request completes, libmicrohttpd calls on_completed: we count it, log one
 * line (method, route pattern, status, microseconds) and free its state.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "common/log.h"
#include "common/mem.h"

#define LISTEN_TEXT_MAX 256
#define BODY_FIRST_CAP  4096

uint64_t api_clock_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- headers ---------------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* True for "Authorization: Bearer <a configured token>". */
static bool is_authorized(const struct api_server *server,
                          struct MHD_Connection *c)
{
    const char *value = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    size_t len;

    if (value == NULL || strncasecmp(value, "Bearer ", 7) != 0)
        return false;
    value += 7;
    while (*value == ' ')
        value++;
    len = strlen(value);
    while (len > 0 && value[len - 1] == ' ')
        len--;
    return len > 0 && ep_config_token_is_valid(server->config, value, len);
}

/* True for application/json, with or without parameters. */
static bool is_json_type(const char *type)
{
    static const char json[] = "application/json";
    char next;

    if (type == NULL || strncasecmp(type, json, sizeof(json) - 1) != 0)
        return false;
    next = type[sizeof(json) - 1];
    return next == '\0' || next == ';' || next == ' ';
}

/* The declared body length; false when there is none. */
static bool declared_length(struct MHD_Connection *c, uint64_t *out)
{
    const char *value = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;

    if (value == NULL)
        return false;
    *out = strtoull(value, &end, 10);
    return end != value;
}

static bool has_body(struct MHD_Connection *c)
{
    uint64_t length = 0;

    if (declared_length(c, &length))
        return length > 0;
    return header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static size_t body_limit_of(const struct api_server *server,
                            const struct api_route *route)
{
    if (route == NULL)
        return API_BODY_SMALL_BYTES;
    switch (route->body) {
    case API_BODY_CART:
        return server->cart_body_max;
    case API_BODY_SMALL:
        return API_BODY_SMALL_BYTES;
    case API_BODY_NONE:
    default:
        return 0;
    }
}

/* The error a request's line and headers already show, or none. */
static enum api_error_kind check_headers(const struct api_server *server,
                                         const struct api_request *req)
{
    const struct api_route *route = req->match.route;

    if (route == NULL)
        return req->match.path_known ? API_ERR_METHOD : API_ERR_NO_ROUTE;
    if (route->auth && !is_authorized(server, req->connection))
        return API_ERR_UNAUTHORIZED;
    if (route->body != API_BODY_NONE && has_body(req->connection) &&
        !is_json_type(header(req->connection, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return API_ERR_MEDIA_TYPE;
    return API_ERROR_NONE;
}

/* ---- responses -------------------------------------------------------- */

struct reply {
    unsigned status;          /* HTTP status */
    const char *content_type; /* NULL: application/json */
    const char *allow;        /* Allow header, or NULL */
    bool replayed;            /* Idempotent-Replayed: true */
    const char *authenticate; /* WWW-Authenticate, or NULL */
};

static void add_headers(struct api_server *server, struct MHD_Response *r,
                        const struct reply *reply)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            reply->content_type != NULL ? reply->content_type
                                                        : "application/json");
    if (reply->allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, reply->allow);
    if (reply->replayed)
        MHD_add_response_header(r, "Idempotent-Replayed", "true");
    if (reply->authenticate != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                reply->authenticate);
    if (reply->status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (atomic_load(&server->stopping))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Queues body as the response; the body is copied. */
static enum MHD_Result queue(struct api_server *server, struct api_request *req,
                             const char *body, size_t len,
                             const struct reply *reply)
{
    struct MHD_Response *r;
    enum MHD_Result result;

    r = MHD_create_response_from_buffer(len, (void *)body,
                                        MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    add_headers(server, r, reply);
    result = MHD_queue_response(req->connection, reply->status, r);
    MHD_destroy_response(r);
    req->answered = true;
    req->http_status = reply->status;
    return result;
}

/* Answers an error with the JSON error shape. */
static enum MHD_Result answer_error(struct api_server *server,
                                    struct api_request *req,
                                    enum api_error_kind kind,
                                    const char *message, const char *field)
{
    struct reply reply = { api_error_http(kind), NULL, NULL, false, NULL };
    struct ep_buf out;
    enum MHD_Result result;

    if (kind == API_ERR_METHOD)
        reply.allow = req->match.allow;
    ep_buf_init(&out, 64 * 1024);
    api_error_write_json(kind, message, field, &out);
    if (ep_buf_status(&out) != EP_OK) {
        ep_buf_deinit(&out);
        return MHD_NO;
    }
    result = queue(server, req, out.data, out.len, &reply);
    ep_buf_deinit(&out);
    return result;
}

/* ---- the handler's call ----------------------------------------------- */

const char *api_call_query(const struct api_call *call, const char *key)
{
    if (call->request->connection == NULL)
        return api_fuzz_query(call, key);
    return MHD_lookup_connection_value(call->request->connection,
                                       MHD_GET_ARGUMENT_KIND, key);
}

const char *api_call_header(const struct api_call *call, const char *name)
{
    if (call->request->connection == NULL)
        return NULL;
    return header(call->request->connection, name);
}

const char *api_call_param(const struct api_call *call, size_t index)
{
    if (index >= call->request->match.param_count)
        return NULL;
    return call->request->match.params[index];
}

/* Logs a failure worth an operator's look (500s), never the request body. */
static void log_failure(const struct api_call *call, enum ep_status status)
{
    char message[EP_ERROR_MESSAGE_MAX + 8];

    ep_log(EP_LOG_ERROR, "http.failure", "route=%s status=%s message=%s",
           call->request->match.route->pattern, ep_status_name(status),
           ep_log_quote(call->err.message, message, sizeof(message)));
}

static void call_init(struct api_call *call, struct api_server *server,
                      struct api_worker *worker, struct api_request *req)
{
    memset(call, 0, sizeof(*call));
    call->server = server;
    call->worker = worker;
    call->request = req;
    call->arena = &worker->arena;
    call->out = &worker->out;
    call->http_status = 200;
    call->error_kind = API_ERROR_NONE;
    ep_buf_reset(&worker->out);
}

/* Answers a handler's failure with the error its status maps to. */
static enum MHD_Result answer_failure(struct api_server *server,
                                      struct api_request *req,
                                      const struct api_call *call,
                                      enum ep_status status)
{
    enum api_error_kind kind = call->error_kind != API_ERROR_NONE
                                   ? call->error_kind
                                   : api_error_of_status(status);

    if (api_error_http(kind) == 500)
        log_failure(call, status);
    if (api_error_http(kind) >= 500)
        api_recent_note(server, call->request->match.route->pattern,
                        api_error_http(kind), call->err.message);
    return answer_error(server, req, kind, call->err.message, call->err.field);
}

/* Runs the route's handler and queues what it made. */
static enum MHD_Result dispatch(struct api_server *server,
                                struct api_request *req)
{
    struct api_worker *worker = api_worker_get(server);
    struct api_call call;
    struct reply reply = { 200, NULL, NULL, false, NULL };
    enum ep_status status;
    enum MHD_Result result;

    if (worker == NULL)
        return answer_error(server, req, API_ERR_UNAVAILABLE, "out of memory",
                            NULL);
    call_init(&call, server, worker, req);
    status = req->match.route->handler(&call);
    if (status == EP_OK && ep_buf_status(&worker->out) != EP_OK)
        status = ep_error_set(&call.err, ep_buf_status(&worker->out), NULL,
                              "the response is too large");
    if (status != EP_OK) {
        result = answer_failure(server, req, &call, status);
    } else {
        reply.status = call.http_status;
        reply.content_type = call.content_type;
        reply.replayed = call.replayed;
        reply.authenticate = call.authenticate;
        result = queue(server, req, worker->out.data, worker->out.len, &reply);
    }
    ep_arena_reset(&worker->arena);
    return result;
}

/* ---- the request's stages --------------------------------------------- */

static void request_free(struct api_request *req)
{
    if (req == NULL)
        return;
    ep_free(req->path);
    ep_free(req->body);
    ep_free(req);
}

/* Stage 1: the headers are in. */
static enum MHD_Result request_begin(struct api_server *server,
                                     struct MHD_Connection *connection,
                                     const char *url, const char *method,
                                     void **con_cls)
{
    struct api_request *req = ep_calloc(1, sizeof(*req));
    uint64_t length = 0;

    if (req == NULL)
        return MHD_NO;
    req->started_us = api_clock_us();
    req->path = ep_strdup(url);
    if (req->path == NULL) {
        ep_free(req);
        return MHD_NO;
    }
    req->method = method;
    req->connection = connection;
    atomic_fetch_add(&server->in_flight, 1);
    req->counted = true;
    *con_cls = req;
    api_route_match(method, req->path, &req->match);
    req->body_limit = body_limit_of(server, req->match.route);
    req->pending = check_headers(server, req);
    if (declared_length(connection, &length) && length > req->body_limit)
        return answer_error(server, req, API_ERR_TOO_LARGE, NULL, NULL);
    return MHD_YES;
}

/* Copies a piece of body; false when memory runs out. */
static bool body_append(struct api_request *req, const char *data, size_t size)
{
    size_t need = req->body_len + size + 1;
    size_t cap =
        req->body_cap < BODY_FIRST_CAP ? BODY_FIRST_CAP : req->body_cap;
    char *grown;

    if (need > req->body_cap) {
        while (cap < need)
            cap *= 2;
        grown = ep_reallocarray(req->body, cap, 1);
        if (grown == NULL)
            return false;
        req->body = grown;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, size);
    req->body_len += size;
    req->body[req->body_len] = '\0';
    return true;
}

/*
 * A body without Content-Length (chunked) grew past the limit. A declared
 * length over the limit was answered 413 at the headers; here no answer
 * is possible any more (libmicrohttpd queues responses only before the body
 * or after all of it), and reading on would let a client stream forever,
 * so the connection is closed.
 */
static enum MHD_Result body_overflow(struct api_request *req)
{
    ep_log(EP_LOG_WARN, "http.body_too_large",
           "method=%s route=%s limit=%zu action=close", req->method,
           req->match.route ? req->match.route->pattern : "unmatched",
           req->body_limit);
    return MHD_NO;
}

/* Stage 2: a piece of body. */
static enum MHD_Result request_body(struct api_server *server,
                                    struct api_request *req, const char *data,
                                    size_t *size)
{
    size_t piece = *size;

    *size = 0;
    if (req->answered)
        return MHD_YES;
    if (piece > req->body_limit - req->body_len)
        return body_overflow(req);
    if (req->pending != API_ERROR_NONE) {
        req->body_len += piece; /* read and dropped, but counted */
        return MHD_YES;
    }
    if (!body_append(req, data, piece))
        return answer_error(server, req, API_ERR_UNAVAILABLE, "out of memory",
                            NULL);
    return MHD_YES;
}

/* Stage 3: the body is complete. */
static enum MHD_Result request_finish(struct api_server *server,
                                      struct api_request *req)
{
    if (req->answered)
        return MHD_YES;
    if (req->pending != API_ERROR_NONE)
        return answer_error(server, req, req->pending, NULL, NULL);
    return dispatch(server, req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct api_server *server = cls;
    struct api_request *req = *con_cls;

    (void)version;
    if (req == NULL)
        return request_begin(server, connection, url, method, con_cls);
    if (*upload_data_size > 0)
        return request_body(server, req, upload_data, upload_data_size);
    return request_finish(server, req);
}

static const char *const termination_names[] = {
    [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "completed",
    [MHD_REQUEST_TERMINATED_WITH_ERROR] = "error",
    [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "timeout",
    [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "shutdown",
    [MHD_REQUEST_TERMINATED_READ_ERROR] = "read_error",
    [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "client_abort",
};

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    size_t n = sizeof(termination_names) / sizeof(termination_names[0]);

    if ((size_t)toe < n && termination_names[toe] != NULL)
        return termination_names[toe];
    return "other";
}

/* The request is over: count it, log it, free it. */
static void on_completed(void *cls, struct MHD_Connection *connection,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct api_server *server = cls;
    struct api_request *req = *con_cls;
    enum api_route_id route;
    uint64_t us;

    (void)connection;
    if (req == NULL)
        return;
    us = api_clock_us() - req->started_us;
    route = req->match.route ? req->match.route->id : API_ROUTE_UNMATCHED;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        api_metrics_record(&server->metrics, route, req->http_status, us);
        ep_log(EP_LOG_INFO, "http.request",
               "method=%s route=%s status=%u us=%llu", req->method,
               api_route_label(route), req->http_status,
               (unsigned long long)us);
    } else {
        ep_log(EP_LOG_INFO, "http.abort",
               "method=%s route=%s status=%u us=%llu reason=%s", req->method,
               api_route_label(route), req->http_status, (unsigned long long)us,
               termination_name(toe));
    }
    if (req->counted)
        atomic_fetch_sub(&server->in_flight, 1);
    request_free(req);
    *con_cls = NULL;
}

/* ---- the daemon ------------------------------------------------------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    char quoted[600];
    size_t len;

    (void)cls;
    vsnprintf(text, sizeof(text), fmt, ap);
    len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    ep_log(EP_LOG_WARN, "http.daemon", "message=%s",
           ep_log_quote(text, quoted, sizeof(quoted)));
}

/*
 * Resolves "address:port" (IPv6 in brackets: "[::1]:8080"; port 0: any)
 * into a socket address.
 */
static enum ep_status resolve_listen(const char *listen,
                                     struct sockaddr_storage *addr, bool *ipv6,
                                     struct ep_error *err)
{
    char host[LISTEN_TEXT_MAX];
    const char *colon = strrchr(listen, ':');
    struct addrinfo hints;
    struct addrinfo *found = NULL;
    size_t host_len;
    int rc;

    if (colon == NULL || colon == listen ||
        (size_t)(colon - listen) >= sizeof(host) || colon[1] == '\0')
        return ep_error_set(err, EP_ERR_CONFIG, "listen",
                            "listen: '%s' is not address:port", listen);
    host_len = (size_t)(colon - listen);
    if (listen[0] == '[' && host_len >= 2 && listen[host_len - 1] == ']') {
        memcpy(host, listen + 1, host_len - 2);
        host[host_len - 2] = '\0';
    } else {
        memcpy(host, listen, host_len);
        host[host_len] = '\0';
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, colon + 1, &hints, &found);
    if (rc != 0)
        return ep_error_set(err, EP_ERR_CONFIG, "listen",
                            "listen: cannot resolve '%s': %s", listen,
                            gai_strerror(rc));
    memset(addr, 0, sizeof(*addr));
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    *ipv6 = found->ai_family == AF_INET6;
    freeaddrinfo(found);
    return EP_OK;
}

enum ep_status api_http_start(struct api_server *server, struct ep_error *err)
{
    const char *listen = server->options.listen;
    struct sockaddr_storage addr;
    const union MHD_DaemonInfo *info;
    bool ipv6 = false;
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    enum ep_status status = resolve_listen(listen, &addr, &ipv6, err);

    if (status != EP_OK)
        return status;
    server->daemon = MHD_start_daemon(
        flags | (ipv6 ? MHD_USE_IPv6 : 0u), 0, NULL, NULL, on_request, server,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)server->config->threads, MHD_OPTION_CONNECTION_TIMEOUT,
        server->options.idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        server->options.connection_limit, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, server, MHD_OPTION_END);
    if (server->daemon == NULL)
        return ep_error_set(err, EP_ERR_IO, "listen",
                            "cannot listen on %s (%s)", listen,
                            errno != 0 ? strerror(errno) : "see the log");
    info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info != NULL ? info->port : 0;
    return EP_OK;
}

void api_http_stop(struct api_server *server)
{
    uint64_t deadline;
    MHD_socket listen_fd;

    if (server->daemon == NULL)
        return;
    atomic_store(&server->stopping, true);
    listen_fd = MHD_quiesce_daemon(server->daemon);
    deadline =
        api_clock_us() + (uint64_t)server->options.drain_timeout_ms * 1000u;
    while (atomic_load(&server->in_flight) > 0 && api_clock_us() < deadline) {
        struct timespec pause = { 0, 2 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    if (atomic_load(&server->in_flight) > 0)
        ep_log(EP_LOG_WARN, "http.drain_timeout", "in_flight=%ld",
               atomic_load(&server->in_flight));
    MHD_stop_daemon(server->daemon);
    server->daemon = NULL;
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
}
