/*
 * test_api_bad.c - bad input never crashes the server and never changes
 * data. A table of bad requests, each with the status and error code it
 * must get; after each one a good request on another connection is still
 * answered and the database's fingerprint is unchanged. Then the slow
 * clients: a body streamed past the limit, and connections that send half
 * a request and wait, which the idle timeout closes while others are
 * served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "fixture.h"

#define TOKEN     FIXTURE_TOKEN
#define JSON      "application/json"
#define CART_HEAD "{\"brand_id\":\"B1\",\"transaction_id\":\"tx-bad\","
#define LINE(q, p)                                             \
    "\"lines\":[{\"line_id\":\"1\",\"product_id\":\"es-teh\"," \
    "\"category_id\":\"drinks\",\"quantity\":" q ",\"unit_price\":" p "}]}"

struct env {
    struct api_fixture f;
    struct http_client bad;  /* sends the bad requests */
    struct http_client good; /* proves the server still answers */
};

static int setup(void **state)
{
    struct env *env = calloc(1, sizeof(*env));
    struct api_options options = { .idle_timeout_s = 1 };

    fixture_start(&env->f, &options);
    http_client_init(&env->bad, env->f.url);
    http_client_init(&env->good, env->f.url);
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    struct env *env = *state;

    http_client_deinit(&env->bad);
    http_client_deinit(&env->good);
    fixture_stop(&env->f);
    free(env);
    return 0;
}

/* ---- generated bodies ------------------------------------------------- */

static char *many_lines(size_t *len)
{
    size_t cap = 10000 * 96 + 128;
    char *body = malloc(cap);
    size_t n = (size_t)snprintf(body, cap, CART_HEAD "\"lines\":[");

    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(body + n, cap - n,
                              "%s{\"line_id\":\"%d\",\"product_id\":\"p\","
                              "\"quantity\":1,\"unit_price\":1}",
                              i ? "," : "", i);
    n += (size_t)snprintf(body + n, cap - n, "]}");
    *len = n;
    return body;
}

static char *ten_megabytes(size_t *len)
{
    size_t n = 10u << 20;
    char *body = malloc(n);

    memset(body, ' ', n);
    body[0] = '{';
    body[n - 1] = '}';
    *len = n;
    return body;
}

static char *deep_nesting(size_t *len)
{
    size_t n = 100000;
    char *body = malloc(n);

    memset(body, '[', n);
    *len = n;
    return body;
}

static char *nul_inside(size_t *len)
{
    static const char text[] = CART_HEAD "\0" LINE("1", "1");
    char *body = malloc(sizeof(text));

    memcpy(body, text, sizeof(text));
    *len = sizeof(text) - 1;
    return body;
}

/* ---- the table -------------------------------------------------------- */

struct bad_request {
    const char *name;        /* what is wrong */
    const char *method;      /* HTTP method */
    const char *path;        /* route */
    const char *token;       /* bearer token, or NULL */
    const char *type;        /* Content-Type */
    const char *body;        /* body text, or NULL with make */
    char *(*make)(size_t *); /* generates a body (malloc'd) */
    long status;             /* expected HTTP status */
    const char *code;        /* expected error.code */
    const char *field;       /* expected error.field, or NULL */
};

#define EVAL   "/v1/cart/evaluate"
#define COMMIT "/v1/transactions"

static const struct bad_request bad_requests[] = {
    { "invalid JSON", "POST", EVAL, TOKEN, JSON, "{\"brand_id\":\"B1\",", NULL,
      400, "invalid_json", NULL },
    { "invalid JSON, commit", "POST", COMMIT, TOKEN, JSON, "{\"lines\":[}",
      NULL, 400, "invalid_json", NULL },
    { "empty body", "POST", COMMIT, TOKEN, JSON, "", NULL, 400, "invalid_json",
      NULL },
    { "duplicate key", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD "\"brand_id\":\"B2\"," LINE("1", "1"), NULL, 400,
      "invalid_json", NULL },
    { "NUL byte", "POST", COMMIT, TOKEN, JSON, NULL, nul_inside, 400,
      "invalid_json", NULL },
    { "invalid UTF-8", "POST", COMMIT, TOKEN, JSON,
      "{\"brand_id\":\"B\xff\"," LINE("1", "1"), NULL, 400, "invalid_json",
      NULL },
    { "deep nesting", "POST", EVAL, TOKEN, JSON, NULL, deep_nesting, 400,
      "invalid_json", NULL },
    { "not an object", "POST", COMMIT, TOKEN, JSON, "[1,2,3]", NULL, 400,
      "invalid_request", NULL },
    { "brand_id missing", "POST", COMMIT, TOKEN, JSON,
      "{\"transaction_id\":\"t\"," LINE("1", "1"), NULL, 400, "invalid_request",
      "brand_id" },
    { "brand_id of a wrong type", "POST", COMMIT, TOKEN, JSON,
      "{\"brand_id\":true," LINE("1", "1"), NULL, 400, "invalid_request",
      "brand_id" },
    { "quantity as a string", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD LINE("\"2\"", "1"), NULL, 400, "invalid_request",
      "lines[0].quantity" },
    { "lines not an array", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD "\"lines\":{}}", NULL, 400, "invalid_request", "lines" },
    { "customer not an object", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD "\"customer\":\"vip\"," LINE("1", "1"), NULL, 400,
      "invalid_request", "customer" },
    { "voucher_codes not an array", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD "\"voucher_codes\":\"HEMAT5K\"," LINE("1", "1"), NULL, 400,
      "invalid_request", "voucher_codes" },
    { "bad at", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD "\"at\":\"2026-13-45T25:00:00Z\"," LINE("1", "1"), NULL, 400,
      "invalid_request", "at" },
    { "3-decimal amount", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD LINE("1", "8000.125"), NULL, 400, "invalid_request",
      "lines[0].unit_price" },
    { "negative amount", "POST", COMMIT, TOKEN, JSON, CART_HEAD LINE("1", "-1"),
      NULL, 400, "invalid_request", "lines[0].unit_price" },
    { "amount as a string", "POST", EVAL, TOKEN, JSON,
      CART_HEAD LINE("1", "\"8000\""), NULL, 400, "invalid_request",
      "lines[0].unit_price" },
    { "huge amount", "POST", COMMIT, TOKEN, JSON, CART_HEAD LINE("1", "1e30"),
      NULL, 400, "invalid_request", "lines[0].unit_price" },
    { "zero quantity", "POST", COMMIT, TOKEN, JSON, CART_HEAD LINE("0", "1"),
      NULL, 400, "invalid_request", "lines[0].quantity" },
    { "negative quantity", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD LINE("-3", "1"), NULL, 400, "invalid_request",
      "lines[0].quantity" },
    { "huge quantity", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD LINE("1000000000", "1"), NULL, 400, "invalid_request",
      "lines[0].quantity" },
    { "fractional quantity", "POST", COMMIT, TOKEN, JSON,
      CART_HEAD LINE("1.5", "1"), NULL, 400, "invalid_request",
      "lines[0].quantity" },
    { "10,000 lines", "POST", COMMIT, TOKEN, JSON, NULL, many_lines, 400,
      "invalid_request", "lines" },
    { "10 MB body", "POST", EVAL, TOKEN, JSON, NULL, ten_megabytes, 413,
      "too_large", NULL },
    { "10 MB body, commit", "POST", COMMIT, TOKEN, JSON, NULL, ten_megabytes,
      413, "too_large", NULL },
    { "body on a GET route", "GET", "/v1/promotions", TOKEN, JSON, "{}", NULL,
      413, "too_large", NULL },
    { "missing token", "POST", COMMIT, NULL, JSON, CART_HEAD LINE("1", "1"),
      NULL, 401, "unauthorized", NULL },
    { "wrong token", "POST", COMMIT, "tok-terminal-9", JSON,
      CART_HEAD LINE("1", "1"), NULL, 401, "unauthorized", NULL },
    { "empty token", "POST", COMMIT, "", JSON, CART_HEAD LINE("1", "1"), NULL,
      401, "unauthorized", NULL },
    { "wrong token, 10 MB", "POST", COMMIT, "nope", JSON, NULL, ten_megabytes,
      413, "too_large", NULL },
    { "wrong method", "GET", COMMIT, TOKEN, NULL, NULL, NULL, 405,
      "method_not_allowed", NULL },
    { "wrong method with a body", "PUT", EVAL, TOKEN, JSON,
      CART_HEAD LINE("1", "1"), NULL, 405, "method_not_allowed", NULL },
    { "unknown route", "POST", "/v2/cart/evaluate", TOKEN, JSON,
      CART_HEAD LINE("1", "1"), NULL, 404, "route_not_found", NULL },
    { "unknown route, no token", "GET", "/admin", NULL, NULL, NULL, NULL, 404,
      "route_not_found", NULL },
    { "path traversal", "GET", "/v1/promotions/../../etc/passwd", TOKEN, NULL,
      NULL, NULL, 404, "route_not_found", NULL },
    { "text/plain body", "POST", COMMIT, TOKEN, "text/plain",
      CART_HEAD LINE("1", "1"), NULL, 415, "unsupported_media_type", NULL },
    { "form body", "POST", EVAL, TOKEN, "application/x-www-form-urlencoded",
      "brand_id=B1", NULL, 415, "unsupported_media_type", NULL },
    { "commit without transaction_id", "POST", COMMIT, TOKEN, JSON,
      "{\"brand_id\":\"B1\"," LINE("1", "1"), NULL, 400, "invalid_request",
      "transaction_id" },
    { "void, long id", "POST",
      "/v1/transactions/"
      "0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123"
      "x/void",
      TOKEN, NULL, NULL, NULL, 400, "invalid_request", "transaction_id" },
    { "void, bad body", "POST", "/v1/transactions/tx-1/void", TOKEN, JSON, "{",
      NULL, 400, "invalid_json", NULL },
    { "sync, bad type", "POST", "/v1/sync", TOKEN, JSON, "{\"type\":7}", NULL,
      400, "invalid_request", "type" },
    { "stats, bad days", "GET", "/v1/sync/stats?days=x", TOKEN, NULL, NULL,
      NULL, 400, "invalid_request", "days" },
};

static void send_bad(struct env *env, const struct bad_request *row,
                     struct http_reply *r)
{
    size_t len = row->body ? strlen(row->body) : 0;
    char *made = row->make ? row->make(&len) : NULL;
    const char *body = made ? made : row->body;

    http_send(&env->bad, row->method, row->path, row->token, row->type, body,
              len, r);
    free(made);
}

static void check_reply(const struct bad_request *row,
                        const struct http_reply *r)
{
    const char *field = reply_string(r, "error.field");

    if (r->status != row->status)
        fail_msg("%s: expected %ld, got %ld: %s", row->name, row->status,
                 r->status, r->body ? r->body : "(no body)");
    if (reply_string(r, "error.code") == NULL ||
        strcmp(reply_string(r, "error.code"), row->code) != 0)
        fail_msg("%s: expected code %s: %s", row->name, row->code,
                 r->body ? r->body : "(no body)");
    if (row->field != NULL && (field == NULL || strcmp(field, row->field)))
        fail_msg("%s: expected field %s: %s", row->name, row->field, r->body);
}

static void expect_still_serving(struct env *env)
{
    struct http_reply r;
    char cart[1024];

    fixture_cart(cart, sizeof(cart), NULL);
    http_post(&env->good, "/v1/cart/evaluate", cart, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "discount_total"), 11600);
    http_reply_free(&r);
}

static void test_bad_requests(void **state)
{
    struct env *env = *state;
    char before[512];
    char after[512];
    struct http_reply r;

    db_fingerprint(env->f.db, before, sizeof(before));
    for (size_t i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]);
         i++) {
        send_bad(env, &bad_requests[i], &r);
        check_reply(&bad_requests[i], &r);
        http_reply_free(&r);
        expect_still_serving(env);
        db_fingerprint(env->f.db, after, sizeof(after));
        if (strcmp(before, after) != 0)
            fail_msg("%s changed data: %s -> %s", bad_requests[i].name, before,
                     after);
    }
}

/*
 * ---- a body streamed past the limit -----------------------------------
 * A chunked body has no declared length to answer 413 on before reading;
 * when it grows past the limit the server stops reading and closes.
 */

struct stream {
    size_t left; /* bytes still to send */
};

static size_t read_spaces(char *buffer, size_t size, size_t n, void *ctx)
{
    struct stream *s = ctx;
    size_t len = size * n < s->left ? size * n : s->left;

    memset(buffer, ' ', len);
    s->left -= len;
    return len;
}

static void test_chunked_body_past_the_limit(void **state)
{
    struct env *env = *state;
    struct stream stream = { 10u << 20 };
    struct curl_slist *headers = NULL;
    CURL *curl = curl_easy_init();
    char url[128];
    long status = 0;
    char before[512];
    char after[512];

    db_fingerprint(env->f.db, before, sizeof(before));
    snprintf(url, sizeof(url), "%s/v1/transactions", env->f.url);
    headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Authorization: Bearer " TOKEN);
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_spaces);
    curl_easy_setopt(curl, CURLOPT_READDATA, &stream);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    /* No answer can be queued mid-body: the connection is closed. */
    assert_int_not_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 0);
    assert_true(stream.left > 0); /* not read to the end */
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    expect_still_serving(env);
    db_fingerprint(env->f.db, after, sizeof(after));
    assert_string_equal(before, after);
}

/* ---- half a request, then silence -------------------------------------- */

static int connect_raw(unsigned port)
{
    struct sockaddr_in addr;
    struct timeval wait = { 6, 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    return fd;
}

static void send_text(int fd, const char *text)
{
    assert_int_equal(send(fd, text, strlen(text), 0), (ssize_t)strlen(text));
}

/* Waits for the server to close fd; returns the seconds it took. */
static double wait_closed(int fd)
{
    struct timespec start;
    struct timespec end;
    char buffer[4096];
    ssize_t n;

    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        n = recv(fd, buffer, sizeof(buffer), 0);
    } while (n > 0);
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail_msg("the server did not close an idle connection");
    return (double)(end.tv_sec - start.tv_sec) +
           (double)(end.tv_nsec - start.tv_nsec) / 1e9;
}

static void test_half_requests_are_timed_out(void **state)
{
    struct env *env = *state;
    int half_body = connect_raw(env->f.port);
    int half_headers = connect_raw(env->f.port);
    int silent = connect_raw(env->f.port);
    char before[512];
    char after[512];

    db_fingerprint(env->f.db, before, sizeof(before));
    send_text(half_body, "POST /v1/transactions HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: Bearer " TOKEN "\r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: 500\r\n\r\n"
                         "{\"brand_id\":\"B1\",\"transaction_id\":\"tx-h\"");
    send_text(half_headers, "POST /v1/cart/evaluate HTTP/1.1\r\nHost: x\r\n"
                            "Authorization: Bea");
    for (int i = 0; i < 20; i++)
        expect_still_serving(env);
    assert_true(wait_closed(half_body) < 5.0);
    assert_true(wait_closed(half_headers) < 5.0);
    assert_true(wait_closed(silent) < 5.0);
    close(half_body);
    close(half_headers);
    close(silent);
    expect_still_serving(env);
    db_fingerprint(env->f.db, after, sizeof(after));
    assert_string_equal(before, after);
}

static void test_many_idle_connections(void **state)
{
    struct env *env = *state;
    int fds[64];

    for (size_t i = 0; i < 64; i++) {
        fds[i] = connect_raw(env->f.port);
        send_text(fds[i], "GET /healthz HTTP/1.1\r\nHost");
    }
    for (int i = 0; i < 10; i++)
        expect_still_serving(env);
    for (size_t i = 0; i < 64; i++) {
        assert_true(wait_closed(fds[i]) < 5.0);
        close(fds[i]);
    }
    expect_still_serving(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_bad_requests),
        T(test_chunked_body_past_the_limit),
        T(test_half_requests_are_timed_out),
        T(test_many_idle_connections),
#undef T
    };

    ep_mem_install_json_allocator();
    ep_tz_apply("Asia/Jakarta", NULL);
    ep_log_set_level(EP_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
