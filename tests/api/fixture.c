/* fixture.c - the server, client and database helpers of fixture.h. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/arena.h"
#include "common/localtime.h"
#include "common/log.h"
#include "store/store.h"
#include "support.h"
#include "sync/sync.h"

/* ---- the database ----------------------------------------------------- */

static void apply_payload(struct store *store, const struct sync_payload *p,
                          const char *store_id, const char *company_id)
{
    struct store_sync_batch batch;
    struct ep_error err;

    ep_error_clear(&err);
    memset(&batch, 0, sizeof(batch));
    batch.full = true;
    batch.company_id = company_id;
    batch.store_id = store_id;
    batch.items = p->promotions;
    batch.item_count = p->promotion_count;
    batch.replace_holidays = p->has_holidays;
    batch.holidays = p->holidays;
    batch.holiday_count = p->holiday_count;
    batch.cursor = p->sync_token;
    batch.server_time = p->server_time;
    batch.synced_at = "2026-06-01 00:00:00";
    if (store_sync_apply(store, &batch, NULL, &err) != EP_OK)
        fail_msg("store_sync_apply: %s", err.message);
}

void fixture_db_build(const char *db, const char *full_sync_path,
                      const char *store_id, const char *company_id)
{
    struct store *store = NULL;
    struct sync_payload payload;
    struct ep_arena arena;
    struct ep_error err;
    size_t len = 0;
    char *text = test_read_file(full_sync_path, &len);

    assert_non_null(text);
    ep_error_clear(&err);
    ep_arena_init(&arena, 1 << 20, (size_t)1 << 31);
    assert_int_equal(store_open(db, NULL, &store, &err), EP_OK);
    assert_int_equal(store_migrate(store, 0, NULL, &err), EP_OK);
    if (sync_payload_parse_full(text, len, store_id, &arena, &payload, &err))
        fail_msg("%s: %s", full_sync_path, err.message);
    for (size_t i = 0; i < payload.rejection_count; i++)
        fail_msg("%s: promotion %s rejected: %s: %s", full_sync_path,
                 payload.rejections[i].id ? payload.rejections[i].id : "-",
                 payload.rejections[i].field ? payload.rejections[i].field
                                             : "-",
                 payload.rejections[i].reason);
    apply_payload(store, &payload, store_id, company_id);
    store_close(store);
    ep_arena_deinit(&arena);
    free(text);
}

static void config_set(struct ep_config *config, const char *key,
                       const char *value)
{
    struct ep_error err;

    ep_error_clear(&err);
    if (ep_config_set(config, key, value, EP_CONFIG_FROM_FLAG, &err))
        fail_msg("config %s: %s", key, err.message);
}

void fixture_start(struct api_fixture *f, const struct api_options *options)
{
    fixture_start_with(f, options, NULL);
}

void fixture_serve(struct api_fixture *f, const struct api_options *options,
                   const char *db, const char *const *extra)
{
    struct api_options opts = { 0 };
    struct ep_error err;

    ep_error_clear(&err);
    if (options != NULL)
        opts = *options;
    opts.listen = "127.0.0.1:0";
    if (f->db != db)
        snprintf(f->db, sizeof(f->db), "%s", db);
    assert_int_equal(ep_config_init(&f->config), EP_OK);
    config_set(&f->config, "db", f->db);
    config_set(&f->config, "company_id", FIXTURE_COMPANY);
    config_set(&f->config, "store_id", FIXTURE_STORE);
    config_set(&f->config, "api_tokens", FIXTURE_TOKEN "," FIXTURE_TOKEN2);
    config_set(&f->config, "threads", "2");
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i += 2)
        config_set(&f->config, extra[i], extra[i + 1]);
    if (api_server_start(&f->config, &opts, &f->server, &err) != EP_OK)
        fail_msg("api_server_start: %s", err.message);
    f->port = api_server_port(f->server);
    assert_true(f->port > 0);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", f->port);
}

void fixture_start_with(struct api_fixture *f,
                        const struct api_options *options,
                        const char *const *extra)
{
    char path[1024];

    memset(f, 0, sizeof(*f));
    test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/edge.db", f->dir);
    test_source_path(FIXTURE_SYNC, path, sizeof(path));
    fixture_db_build(f->db, path, FIXTURE_STORE, FIXTURE_COMPANY);
    fixture_serve(f, options, f->db, extra);
}

void fixture_stop(struct api_fixture *f)
{
    api_server_stop(f->server);
    f->server = NULL;
    ep_config_deinit(&f->config);
    if (f->dir[0] != '\0')
        test_rmdir(f->dir);
}

/* ---- the client ------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct http_reply *r = ctx;
    char *grown = realloc(r->body, r->len + size * n + 1);

    assert_non_null(grown);
    memcpy(grown + r->len, data, size * n);
    r->body = grown;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct http_reply *r = ctx;
    size_t len = size * n;

    if (r->headers_len + len < sizeof(r->headers)) {
        memcpy(r->headers + r->headers_len, data, len);
        r->headers_len += len;
        r->headers[r->headers_len] = '\0';
    }
    return len;
}

void http_client_init(struct http_client *c, const char *base)
{
    c->curl = curl_easy_init();
    c->raw = false;
    assert_non_null(c->curl);
    snprintf(c->base, sizeof(c->base), "%s", base);
}

void http_client_deinit(struct http_client *c)
{
    curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

static struct curl_slist *
request_headers(const char *token, const char *content_type, bool has_body)
{
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    char line[512];

    if (token != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        list = curl_slist_append(list, line);
    }
    if (has_body) {
        snprintf(line, sizeof(line), "Content-Type: %s",
                 content_type ? content_type : "application/json");
        list = curl_slist_append(list, line);
    }
    return list;
}

void http_send(struct http_client *c, const char *method, const char *path,
               const char *token, const char *content_type, const char *body,
               size_t body_len, struct http_reply *reply)
{
    struct curl_slist *headers =
        request_headers(token, content_type, body != NULL);
    CURL *curl = c->curl;
    char url[2048];

    memset(reply, 0, sizeof(*reply));
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)body_len);
    }
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &reply->connects);
    }
    curl_slist_free_all(headers);
    if (reply->body != NULL && !c->raw)
        reply->json = json_loadb(reply->body, reply->len, 0, NULL);
}

void http_get(struct http_client *c, const char *path, struct http_reply *reply)
{
    http_send(c, "GET", path, FIXTURE_TOKEN, NULL, NULL, 0, reply);
}

void http_post(struct http_client *c, const char *path, const char *body,
               struct http_reply *reply)
{
    http_send(c, "POST", path, FIXTURE_TOKEN, NULL, body, strlen(body), reply);
}

void http_reply_free(struct http_reply *reply)
{
    free(reply->body);
    json_decref(reply->json);
    memset(reply, 0, sizeof(*reply));
}

bool http_reply_header(const struct http_reply *reply, const char *name,
                       char *out, size_t size)
{
    size_t name_len = strlen(name);
    const char *line = reply->headers;

    while (line != NULL && *line != '\0') {
        const char *end = strstr(line, "\r\n");
        if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *value = line + name_len + 1;
            while (*value == ' ')
                value++;
            snprintf(out, size, "%.*s",
                     (int)(end ? (size_t)(end - value) : strlen(value)), value);
            return true;
        }
        line = end ? end + 2 : NULL;
    }
    return false;
}

static json_t *member(const json_t *root, const char *path)
{
    char copy[256];
    char *save = NULL;
    const json_t *node = root;

    snprintf(copy, sizeof(copy), "%s", path);
    for (char *key = strtok_r(copy, ".", &save); key != NULL && node;
         key = strtok_r(NULL, ".", &save))
        node = json_object_get(node, key);
    return (json_t *)node;
}

const char *reply_string(const struct http_reply *reply, const char *path)
{
    return json_string_value(member(reply->json, path));
}

long long reply_int(const struct http_reply *reply, const char *path)
{
    json_t *value = member(reply->json, path);

    if (!json_is_integer(value))
        fail_msg("%s: not an integer in %s", path,
                 reply->body ? reply->body : "(no body)");
    return (long long)json_integer_value(value);
}

void expect_error(const struct http_reply *reply, long status, const char *code)
{
    if (reply->status != status)
        fail_msg("expected %ld, got %ld: %s", status, reply->status,
                 reply->body ? reply->body : "(no body)");
    if (code == NULL)
        return;
    if (reply_string(reply, "error.code") == NULL ||
        strcmp(reply_string(reply, "error.code"), code) != 0 ||
        reply_string(reply, "error.message") == NULL)
        fail_msg("expected error code %s: %s", code,
                 reply->body ? reply->body : "(no body)");
}

/* ---- the database, read directly ------------------------------------ */

long long db_int(const char *db, const char *sql)
{
    sqlite3 *handle = NULL;
    sqlite3_stmt *stmt = NULL;
    long long value = -1;

    assert_int_equal(sqlite3_open_v2(db, &handle, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(handle, 5000);
    if (sqlite3_prepare_v2(handle, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(handle));
    if (sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return value;
}

void db_fingerprint(const char *db, char *out, size_t size)
{
    snprintf(out, size,
             "promotions=%lld uses=%lld usage=%lld voided=%lld "
             "transactions=%lld voided_tx=%lld holidays=%lld syncs=%lld",
             db_int(db, "SELECT count(*) FROM promotions"),
             db_int(db, "SELECT total(current_uses) FROM promotions"),
             db_int(db, "SELECT count(*) FROM promotion_usage"),
             db_int(db, "SELECT count(*) FROM promotion_usage "
                        "WHERE voided_at IS NOT NULL"),
             db_int(db, "SELECT count(*) FROM pos_transactions"),
             db_int(db, "SELECT count(*) FROM pos_transactions "
                        "WHERE voided_at IS NOT NULL"),
             db_int(db, "SELECT count(*) FROM holidays"),
             db_int(db, "SELECT count(*) FROM promotion_sync_log"));
}

void fixture_cart(char *out, size_t size, const char *transaction_id)
{
    snprintf(out, size,
             "{\"brand_id\":\"B1\",\"at\":\"2026-06-15T12:00:00+07:00\","
             "%s%s%s"
             "\"lines\":[{\"line_id\":\"1\",\"product_id\":\"es-teh\","
             "\"category_id\":\"drinks\",\"quantity\":2,\"unit_price\":8000},"
             "{\"line_id\":\"2\",\"product_id\":\"nasi-goreng\","
             "\"category_id\":\"food\",\"quantity\":1,\"unit_price\":25000}]}",
             transaction_id ? "\"transaction_id\":\"" : "",
             transaction_id ? transaction_id : "", transaction_id ? "\"," : "");
}
