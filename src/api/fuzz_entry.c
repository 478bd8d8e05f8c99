/*
 * fuzz_entry.c - one request in, one response out, without libmicrohttpd
 * (fuzz_entry.h says why and what is left out).
 *
 * The steps mirror http.c's three stages: match the route, check the
 * request's headers (a body over the route's limit is 413 first, then no
 * route, the bearer token, the Content-Type), run the handler with a
 * struct api_call like dispatch() makes, and map a failure through the
 * same error table to the same JSON shape. The query string is kept raw in
 * the request; api_call_query decodes it here ('+' is a blank, %HH a byte,
 * the first of a repeated key wins), as libmicrohttpd does on the wire.
 */
#include <string.h>
#include <strings.h>

#include "api/fuzz_entry.h"
#include "api/internal.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "sync/sync.h"

#define JSON_TYPE "application/json"

/* Loads the stored promotions into the server's slot. */
static enum ep_status load_snapshot(struct api_server *server,
                                    struct ep_error *err)
{
    struct store *store = NULL;
    struct promo_set *set = NULL;
    struct store_options options;
    enum ep_status status;

    memset(&options, 0, sizeof(options));
    status = store_open(server->config->db, &options, &store, err);
    if (status == EP_OK)
        status = sync_snapshot_load(store, server->config, &set, err);
    store_close(store);
    if (status != EP_OK)
        return status;
    engine_slot_adopt(server->slot, set);
    atomic_store(&server->snapshot_at, ep_now());
    return EP_OK;
}

enum ep_status api_fuzz_server_new(const struct ep_config *config,
                                   struct api_server **out,
                                   struct ep_error *err)
{
    struct api_server *server = ep_calloc(1, sizeof(*server));
    enum ep_status status;

    if (server == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    server->config = config;
    server->options.listen = config->listen;
    server->cart_body_max = (size_t)config->max_body_bytes;
    pthread_mutex_init(&server->workers_lock, NULL);
    atomic_init(&server->stopping, false);
    atomic_init(&server->in_flight, 0);
    atomic_init(&server->snapshot_at, 0);
    server->slot = engine_slot_new();
    status = server->slot != NULL
                 ? load_snapshot(server, err)
                 : ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    if (status != EP_OK) {
        api_fuzz_server_free(server);
        return status;
    }
    *out = server;
    return EP_OK;
}

void api_fuzz_server_close_store(struct api_server *server)
{
    struct api_worker *worker = api_worker_get(server);

    if (worker == NULL)
        return;
    store_close(worker->store);
    worker->store = NULL;
}

void api_fuzz_server_free(struct api_server *server)
{
    if (server == NULL)
        return;
    api_workers_free(server);
    engine_slot_free(server->slot);
    pthread_mutex_destroy(&server->workers_lock);
    ep_free(server);
}

/* ---- the query string ------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes '+' and %HH of text[0..len) into a new arena string. */
static char *query_decode(struct ep_arena *arena, const char *text, size_t len)
{
    char *out = ep_arena_alloc(arena, len + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '+') {
            out[n++] = ' ';
        } else if (text[i] == '%' && i + 2 < len &&
                   hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out[n++] =
                (char)(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out[n++] = text[i];
        }
    }
    out[n] = '\0';
    return out;
}

const char *api_fuzz_query(const struct api_call *call, const char *key)
{
    const char *p = call->request->query;

    while (p != NULL && *p != '\0') {
        const char *end = p + strcspn(p, "&");
        const char *equals = memchr(p, '=', (size_t)(end - p));
        const char *key_end = equals != NULL ? equals : end;
        char *name = query_decode(call->arena, p, (size_t)(key_end - p));
        if (name != NULL && strcmp(name, key) == 0)
            return equals != NULL ? query_decode(call->arena, equals + 1,
                                                 (size_t)(end - equals - 1))
                                  : NULL;
        p = *end == '&' ? end + 1 : end;
    }
    return NULL;
}

/* ---- the request ------------------------------------------------------ */

/* Mirrors http.c's is_authorized on the header's value. */
static bool is_authorized(const struct api_server *server, const char *value)
{
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

/* Mirrors http.c's is_json_type. */
static bool is_json_type(const char *type)
{
    char next;

    if (type == NULL || strncasecmp(type, JSON_TYPE, strlen(JSON_TYPE)) != 0)
        return false;
    next = type[strlen(JSON_TYPE)];
    return next == '\0' || next == ';' || next == ' ';
}

/* The route's body limit, as http.c's body_limit_of. */
static size_t body_limit(const struct api_server *server,
                         const struct api_route *route)
{
    if (route == NULL)
        return API_BODY_SMALL_BYTES;
    if (route->body == API_BODY_CART)
        return server->cart_body_max;
    return route->body == API_BODY_SMALL ? API_BODY_SMALL_BYTES : 0;
}

/* The error the request's line, headers and size show, or none. */
static enum api_error_kind check_request(const struct api_server *server,
                                         const struct api_request *req,
                                         const struct api_fuzz_request *in)
{
    const struct api_route *route = req->match.route;

    if (in->body_len > body_limit(server, route))
        return API_ERR_TOO_LARGE;
    if (route == NULL)
        return req->match.path_known ? API_ERR_METHOD : API_ERR_NO_ROUTE;
    if (route->auth && !is_authorized(server, in->authorization))
        return API_ERR_UNAUTHORIZED;
    if (route->body != API_BODY_NONE && in->body_len > 0 &&
        !is_json_type(in->content_type))
        return API_ERR_MEDIA_TYPE;
    return API_ERROR_NONE;
}

static void answer_error(struct api_fuzz_response *response,
                         enum api_error_kind kind, const char *message,
                         const char *field, struct ep_buf *out)
{
    ep_buf_reset(out);
    api_error_write_json(kind, message, field, out);
    response->http_status = api_error_http(kind);
    response->content_type = JSON_TYPE;
}

/* Runs the handler as http.c's dispatch() does. */
static void dispatch(struct api_server *server, struct api_request *req,
                     struct api_fuzz_response *response, struct ep_buf *out)
{
    struct api_worker *worker = api_worker_get(server);
    struct api_call call;
    enum ep_status status;

    if (worker == NULL) {
        answer_error(response, API_ERR_UNAVAILABLE, "out of memory", NULL, out);
        return;
    }
    memset(&call, 0, sizeof(call));
    call.server = server;
    call.worker = worker;
    call.request = req;
    call.arena = &worker->arena;
    call.out = &worker->out;
    call.http_status = 200;
    call.error_kind = API_ERROR_NONE;
    ep_buf_reset(&worker->out);
    status = req->match.route->handler(&call);
    if (status == EP_OK && ep_buf_status(&worker->out) != EP_OK)
        status = ep_error_set(&call.err, ep_buf_status(&worker->out), NULL,
                              "the response is too large");
    if (status != EP_OK) {
        answer_error(response,
                     call.error_kind != API_ERROR_NONE
                         ? call.error_kind
                         : api_error_of_status(status),
                     call.err.message, call.err.field, out);
    } else {
        /* The copy libmicrohttpd makes on the wire; failing, a 503. */
        ep_buf_reset(out);
        ep_buf_append(out, worker->out.data, worker->out.len);
        response->http_status = call.http_status;
        response->content_type =
            call.content_type != NULL ? call.content_type : JSON_TYPE;
        if (ep_buf_status(out) != EP_OK)
            answer_error(response, API_ERR_UNAVAILABLE, "out of memory", NULL,
                         out);
    }
    ep_arena_reset(&worker->arena);
}

/* Copies the request's path and body into req, as http.c owns them. */
static bool request_init(struct api_request *req,
                         const struct api_fuzz_request *in)
{
    memset(req, 0, sizeof(*req));
    req->path = ep_strdup(in->path);
    req->body = ep_malloc(in->body_len + 1);
    if (req->path == NULL || req->body == NULL)
        return false;
    if (in->body_len > 0)
        memcpy(req->body, in->body, in->body_len);
    req->body[in->body_len] = '\0';
    req->body_len = in->body_len;
    req->body_cap = in->body_len + 1;
    req->method = in->method;
    req->query = in->query;
    return true;
}

void api_fuzz_serve(struct api_server *server,
                    const struct api_fuzz_request *in,
                    struct api_fuzz_response *response, struct ep_buf *out)
{
    struct api_request req;
    enum api_error_kind pending;

    memset(response, 0, sizeof(*response));
    if (!request_init(&req, in)) {
        answer_error(response, API_ERR_UNAVAILABLE, "out of memory", NULL, out);
    } else {
        api_route_match(in->method, req.path, &req.match);
        req.body_limit = body_limit(server, req.match.route);
        pending = check_request(server, &req, in);
        if (pending != API_ERROR_NONE)
            answer_error(response, pending, NULL, NULL, out);
        else
            dispatch(server, &req, response, out);
    }
    ep_free(req.body);
    ep_free(req.path);
}
