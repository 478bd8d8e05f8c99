/*
 * test_api.c - every route of the POS API over real HTTP on 127.0.0.1:
 * success and error paths, tokens, 404/405, keep-alive, the snapshot
 * reload after a sync, /healthz, /metrics, the request log and the docs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "fixture.h"
#include "store/store.h"
#include "support.h"
#include "sync/sync.h"

struct env {
    struct api_fixture f;
    struct http_client client;
};

static int setup(void **state)
{
    struct env *env = calloc(1, sizeof(*env));
    struct api_options options = { .reload_interval_ms = 100 };

    fixture_start(&env->f, &options);
    http_client_init(&env->client, env->f.url);
    *state = env;
    return 0;
}

static int teardown(void **state)
{
    struct env *env = *state;

    http_client_deinit(&env->client);
    fixture_stop(&env->f);
    free(env);
    return 0;
}

/* ---- evaluate ------------------------------------------------------- */

static void test_evaluate_prices_without_side_effects(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char cart[1024];
    char before[512];
    char after[512];

    db_fingerprint(env->f.db, before, sizeof(before));
    fixture_cart(cart, sizeof(cart), "tx-eval-1");
    http_post(&env->client, "/v1/cart/evaluate", cart, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    /* 2 x 8000 drinks at 10% = 1600; nasi goreng at 15000 = 10000 off. */
    assert_int_equal(reply_int(&r, "subtotal"), 41000);
    assert_int_equal(reply_int(&r, "discount_total"), 11600);
    assert_int_equal(reply_int(&r, "total"), 29400);
    assert_int_equal(json_array_size(json_object_get(r.json, "applied")), 2);
    http_reply_free(&r);
    db_fingerprint(env->f.db, after, sizeof(after));
    assert_string_equal(before, after);
}

static void test_evaluate_reports_voucher_and_reasons(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    const char *cart =
        "{\"brand_id\":\"B1\",\"at\":\"2026-06-15T09:00:00+07:00\","
        "\"voucher_codes\":[\" hemat5k \",\"NOPE\"],"
        "\"customer\":{\"id\":\"cust-1\",\"is_member\":true},"
        "\"lines\":[{\"line_id\":\"a\",\"product_id\":\"nasi-goreng\","
        "\"category_id\":\"food\",\"quantity\":2,\"unit_price\":25000}]}";
    json_t *not_applied;

    http_post(&env->client, "/v1/cart/evaluate", cart, &r);
    assert_int_equal(r.status, 200);
    /* HEMAT5K (5000) then MEMBER15 on 45000 = 6750; lunch is outside. */
    assert_int_equal(reply_int(&r, "discount_total"), 11750);
    not_applied = json_object_get(r.json, "not_applied");
    assert_true(json_array_size(not_applied) >= 2);
    assert_non_null(strstr(r.body, "unknown_voucher"));
    assert_non_null(strstr(r.body, "outside_time_window"));
    http_reply_free(&r);
}

/* ---- commit, replay, void ------------------------------------------- */

static void test_commit_replay_and_void(void **state)
{
    struct env *env = *state;
    struct http_reply first;
    struct http_reply again;
    struct http_reply r;
    char cart[1024];
    char header[64];

    fixture_cart(cart, sizeof(cart), "tx-commit-1");
    http_post(&env->client, "/v1/transactions", cart, &first);
    assert_int_equal(first.status, 200);
    assert_true(json_is_true(json_object_get(first.json, "committed")));
    assert_false(http_reply_header(&first, "Idempotent-Replayed", header,
                                   sizeof(header)));
    assert_int_equal(db_int(env->f.db, "SELECT count(*) FROM promotion_usage "
                                       "WHERE transaction_id='tx-commit-1'"),
                     2);
    http_post(&env->client, "/v1/transactions", cart, &again);
    assert_int_equal(again.status, 200);
    assert_string_equal(first.body, again.body);
    assert_true(http_reply_header(&again, "Idempotent-Replayed", header,
                                  sizeof(header)));
    assert_int_equal(db_int(env->f.db, "SELECT count(*) FROM promotion_usage"),
                     2);
    assert_int_equal(db_int(env->f.db, "SELECT total(current_uses) FROM "
                                       "promotions"),
                     2);
    http_post(&env->client, "/v1/transactions/tx-commit-1/void", "", &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    assert_int_equal(db_int(env->f.db, "SELECT total(current_uses) FROM "
                                       "promotions"),
                     0);
    http_send(&env->client, "POST", "/v1/transactions/tx-commit-1/void",
              FIXTURE_TOKEN, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    http_post(&env->client, "/v1/transactions/tx-unknown/void", "{}", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
    http_reply_free(&first);
    http_reply_free(&again);
}

static void test_commit_needs_transaction_id(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char cart[1024];

    fixture_cart(cart, sizeof(cart), NULL);
    http_post(&env->client, "/v1/transactions", cart, &r);
    expect_error(&r, 400, "invalid_request");
    assert_string_equal(reply_string(&r, "error.field"), "transaction_id");
    http_reply_free(&r);
    http_post(&env->client, "/v1/transactions/tx-1/void", "[1,2]", &r);
    expect_error(&r, 400, "invalid_request");
    http_reply_free(&r);
    assert_int_equal(db_int(env->f.db, "SELECT count(*) FROM "
                                       "pos_transactions"),
                     0);
}

/* ---- promotions and usage ------------------------------------------- */

static void test_promotions_active(void **state)
{
    struct env *env = *state;
    struct http_reply r;

    /* Noon: drinks, member, lunch (and the voucher) are in force. */
    http_get(&env->client,
             "/v1/promotions/active?brand_id=B1&at=2026-06-15T12:00:00%2B07:00",
             &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "count"), 4);
    http_reply_free(&r);
    /* An unencoded '+' arrives as a blank and is read back. */
    http_get(&env->client, "/v1/promotions/active?at=2026-06-15T09:00:00+07:00",
             &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "count"), 3);
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions/active?brand_id=B2", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "count"), 0);
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions/active?at=yesterday", &r);
    expect_error(&r, 400, "invalid_request");
    assert_string_equal(reply_string(&r, "error.field"), "at");
    http_reply_free(&r);
}

static void test_promotions_list_and_filters(void **state)
{
    struct env *env = *state;
    struct http_reply r;

    http_get(&env->client, "/v1/promotions", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "count"), 5);
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions?type=percent_discount", &r);
    assert_int_equal(reply_int(&r, "count"), 3);
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions?auto_apply=false", &r);
    assert_int_equal(reply_int(&r, "count"), 2);
    http_reply_free(&r);
    http_get(&env->client,
             "/v1/promotions?type=percent_discount&auto_apply=true", &r);
    assert_int_equal(reply_int(&r, "count"), 2);
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions?auto_apply=maybe", &r);
    expect_error(&r, 400, "invalid_request");
    assert_string_equal(reply_string(&r, "error.field"), "auto_apply");
    http_reply_free(&r);
}

static void test_promotion_by_code(void **state)
{
    struct env *env = *state;
    struct http_reply r;

    http_get(&env->client, "/v1/promotions/hemat5k", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(reply_string(&r, "id"), "p-hemat5k");
    assert_string_equal(reply_string(&r, "rules.type"), "fixed");
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions/%20Drinks10%20", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(reply_string(&r, "code"), "DRINKS10");
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions/NOSUCH", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
}

static void test_usage_counts(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char cart[1024];

    fixture_cart(cart, sizeof(cart), "tx-usage-1");
    http_post(&env->client, "/v1/transactions", cart, &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    http_get(&env->client, "/v1/usage/p-drinks10", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(reply_string(&r, "code"), "DRINKS10");
    assert_int_equal(reply_int(&r, "current_uses"), 1);
    assert_int_equal(reply_int(&r, "local_uses"), 1);
    assert_int_equal(reply_int(&r, "discount_total"), 1600);
    assert_true(json_is_null(json_object_get(r.json, "customer_uses")));
    http_reply_free(&r);
    http_get(&env->client, "/v1/usage/p-hemat5k?customer_id=cust-9", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "customer_uses"), 0);
    assert_int_equal(reply_int(&r, "limits.total.limit"), 1000);
    assert_int_equal(reply_int(&r, "limits.per_customer.remaining"), 2);
    http_reply_free(&r);
    http_get(&env->client, "/v1/usage/p-nothing", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
}

/* ---- sync ----------------------------------------------------------- */

static void insert_sync_log(const char *db)
{
    struct store *store = NULL;
    struct store_sync_log row;
    struct ep_error err;

    ep_error_clear(&err);
    memset(&row, 0, sizeof(row));
    row.sync_type = "manual";
    row.sync_status = "success";
    row.received = 5;
    row.added = 5;
    row.company_id = FIXTURE_COMPANY;
    row.store_id = FIXTURE_STORE;
    row.error_details = "{\"skipped\":[]}";
    row.started_at = "2026-06-01 00:00:00";
    row.completed_at = "2026-06-01 00:00:01";
    row.duration_seconds = 1;
    row.duration_ms = 1000;
    row.edge_version = "test";
    assert_int_equal(store_open(db, NULL, &store, &err), EP_OK);
    assert_int_equal(store_sync_log_insert(store, &row, &err), EP_OK);
    store_close(store);
}

static void test_sync_routes(void **state)
{
    struct env *env = *state;
    struct http_reply r;

    http_get(&env->client, "/v1/sync/last", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
    insert_sync_log(env->f.db);
    http_get(&env->client, "/v1/sync/last", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(reply_string(&r, "last.sync_status"), "success");
    assert_int_equal(reply_int(&r, "last.promotions_received"), 5);
    assert_string_equal(reply_string(&r, "state.cursor"), "tok-1");
    assert_true(json_is_array(json_object_get(
        json_object_get(json_object_get(r.json, "last"), "error_details"),
        "skipped")));
    http_reply_free(&r);
    http_get(&env->client, "/v1/sync/stats?days=3650", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "syncs.total"), 1);
    assert_int_equal(reply_int(&r, "promotions"), 5);
    http_reply_free(&r);
    http_get(&env->client, "/v1/sync/stats?days=0", &r);
    expect_error(&r, 400, "invalid_request");
    assert_string_equal(reply_string(&r, "error.field"), "days");
    http_reply_free(&r);
    http_post(&env->client, "/v1/sync", "{\"type\":\"sideways\"}", &r);
    expect_error(&r, 400, "invalid_request");
    assert_string_equal(reply_string(&r, "error.field"), "type");
    http_reply_free(&r);
}

/* ---- health and metrics --------------------------------------------- */

static void test_healthz_is_open(void **state)
{
    struct env *env = *state;
    struct http_reply r;

    http_send(&env->client, "GET", "/healthz", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(reply_string(&r, "status"), "ok");
    assert_true(json_is_true(
        json_object_get(json_object_get(r.json, "database"), "up")));
    assert_int_equal(reply_int(&r, "promotions.loaded"), 5);
    assert_true(reply_int(&r, "promotions.active") >= 2);
    assert_true(reply_int(&r, "last_sync.age_seconds") > 0);
    http_reply_free(&r);
}

static void test_metrics_count_requests(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char cart[1024];
    char type[128];

    fixture_cart(cart, sizeof(cart), NULL);
    http_post(&env->client, "/v1/cart/evaluate", cart, &r);
    http_reply_free(&r);
    http_post(&env->client, "/v1/cart/evaluate", "{", &r);
    http_reply_free(&r);
    http_send(&env->client, "GET", "/metrics", NULL, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_true(http_reply_header(&r, "Content-Type", type, sizeof(type)));
    assert_non_null(strstr(type, "text/plain"));
    assert_non_null(strstr(r.body, "edgepromo_http_requests_total{method="
                                   "\"POST\",route=\"/v1/cart/evaluate\","
                                   "status=\"200\"} 1\n"));
    assert_non_null(strstr(r.body, "status=\"400\"} 1\n"));
    assert_non_null(strstr(r.body, "edgepromo_http_request_duration_seconds_"
                                   "bucket{method=\"POST\",route=\"/v1/cart/"
                                   "evaluate\",le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(r.body, "edgepromo_evaluations_total 1\n"));
    assert_non_null(strstr(r.body, "edgepromo_commits_total{outcome="
                                   "\"committed\"} 0\n"));
    assert_non_null(strstr(r.body, "edgepromo_sync_runs_total{status="
                                   "\"success\"} 0\n"));
    assert_non_null(strstr(r.body, "edgepromo_promotions 5\n"));
    assert_non_null(strstr(r.body, "edgepromo_active_promotions "));
    assert_non_null(strstr(r.body, "edgepromo_snapshot_age_seconds "));
    http_reply_free(&r);
}

/* ---- tokens, routes, methods, keep-alive ---------------------------- */

static const char *const token_routes[][2] = {
    { "POST", "/v1/cart/evaluate" },
    { "POST", "/v1/transactions" },
    { "POST", "/v1/transactions/tx-1/void" },
    { "GET", "/v1/promotions/active" },
    { "GET", "/v1/promotions" },
    { "GET", "/v1/promotions/DRINKS10" },
    { "GET", "/v1/usage/p-drinks10" },
    { "POST", "/v1/sync" },
    { "GET", "/v1/sync/last" },
    { "GET", "/v1/sync/stats" },
};

static void test_every_route_needs_a_token(void **state)
{
    struct env *env = *state;
    static const char *const bad[] = { NULL, "wrong", "tok-terminal-1-7f3a9cx",
                                       "tok-terminal" };
    struct http_reply r;

    for (size_t i = 0; i < sizeof(token_routes) / sizeof(token_routes[0]);
         i++) {
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            bool post = strcmp(token_routes[i][0], "POST") == 0;
            http_send(&env->client, token_routes[i][0], token_routes[i][1],
                      bad[k], NULL, post ? "{}" : NULL, post ? 2 : 0, &r);
            expect_error(&r, 401, "unauthorized");
            http_reply_free(&r);
        }
    }
    http_send(&env->client, "GET", "/v1/promotions", FIXTURE_TOKEN2, NULL, NULL,
              0, &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

static void test_wrong_scheme_is_401(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    struct curl_slist *headers =
        curl_slist_append(NULL, "Authorization: Basic dG9rLXRlcm1pbmFsLTE=");
    char url[128];

    snprintf(url, sizeof(url), "%s/v1/promotions", env->f.url);
    memset(&r, 0, sizeof(r));
    curl_easy_reset(env->client.curl);
    curl_easy_setopt(env->client.curl, CURLOPT_URL, url);
    curl_easy_setopt(env->client.curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(env->client.curl, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(env->client.curl, CURLOPT_WRITEFUNCTION, discard);
    assert_int_equal(curl_easy_perform(env->client.curl), CURLE_OK);
    curl_easy_getinfo(env->client.curl, CURLINFO_RESPONSE_CODE, &r.status);
    assert_int_equal(r.status, 401);
    curl_slist_free_all(headers);
}

static void test_unknown_route_and_wrong_method(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char allow[64];

    http_get(&env->client, "/v1/cart/evaluate", &r);
    expect_error(&r, 405, "method_not_allowed");
    assert_true(http_reply_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    http_reply_free(&r);
    http_send(&env->client, "DELETE", "/v1/promotions/X", FIXTURE_TOKEN, NULL,
              NULL, 0, &r);
    expect_error(&r, 405, "method_not_allowed");
    assert_true(http_reply_header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "GET");
    http_reply_free(&r);
    http_get(&env->client, "/v1/nothing", &r);
    expect_error(&r, 404, "route_not_found");
    http_reply_free(&r);
    http_get(&env->client, "/v1/promotions/", &r);
    expect_error(&r, 404, "route_not_found");
    http_reply_free(&r);
    http_send(&env->client, "GET", "/", NULL, NULL, NULL, 0, &r);
    expect_error(&r, 404, "route_not_found");
    http_reply_free(&r);
}

static void test_keep_alive_survives_errors(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char cart[1024];

    fixture_cart(cart, sizeof(cart), NULL);
    http_post(&env->client, "/v1/cart/evaluate", cart, &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    http_send(&env->client, "POST", "/v1/cart/evaluate", "bad", NULL, cart,
              strlen(cart), &r);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.connects, 0);
    http_reply_free(&r);
    http_get(&env->client, "/v1/nothing", &r);
    assert_int_equal(r.connects, 0);
    http_reply_free(&r);
    for (int i = 0; i < 20; i++) {
        http_post(&env->client, "/v1/cart/evaluate", cart, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.connects, 0);
        http_reply_free(&r);
    }
}

/* ---- the snapshot follows the database ------------------------------ */

static void add_promotion(const char *db)
{
    static const char body[] =
        "{\"S1\":{\"promotions\":[{\"id\":\"p-new\",\"code\":\"NEW1\","
        "\"name\":\"New\",\"company_id\":\"C1\",\"brand_id\":\"B1\","
        "\"store_id\":\"S1\",\"promo_type\":\"percent_discount\","
        "\"apply_to\":\"all\",\"execution_stage\":\"item_level\","
        "\"execution_priority\":500,\"is_active\":true,"
        "\"is_auto_apply\":false,\"start_date\":\"2026-01-01\","
        "\"end_date\":\"2030-12-31\",\"rules\":{\"type\":\"percent\","
        "\"discount_percent\":5},\"scope\":{\"apply_to\":\"all\"},"
        "\"compiled_at\":\"2026-01-01 00:00:00\"}]}}";
    char path[1024];
    char dir[512];

    test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/sync.json", dir);
    assert_true(test_write_file(path, body));
    fixture_db_build(db, path, FIXTURE_STORE, FIXTURE_COMPANY);
    test_rmdir(dir);
}

static void test_snapshot_follows_a_sync(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    int waited_ms = 0;

    http_get(&env->client, "/v1/promotions/NEW1", &r);
    expect_error(&r, 404, "not_found");
    http_reply_free(&r);
    add_promotion(env->f.db);
    for (;;) {
        http_get(&env->client, "/v1/promotions/NEW1", &r);
        if (r.status == 200 || waited_ms > 5000)
            break;
        http_reply_free(&r);
        usleep(50 * 1000);
        waited_ms += 50;
    }
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    /* The full sync replaced the store's promotions with the one sent. */
    http_get(&env->client, "/v1/promotions", &r);
    assert_int_equal(reply_int(&r, "count"), 1);
    http_reply_free(&r);
}

/* ---- logs and docs ---------------------------------------------------- */

static void test_one_log_line_per_request(void **state)
{
    struct env *env = *state;
    struct http_reply r;
    char path[600];
    char *log;
    int saved = dup(2);
    FILE *file;

    snprintf(path, sizeof(path), "%s/stderr.log", env->f.dir);
    file = fopen(path, "w");
    assert_non_null(file);
    dup2(fileno(file), 2);
    ep_log_set_level(EP_LOG_INFO);
    http_get(&env->client, "/v1/usage/p-drinks10", &r);
    http_reply_free(&r);
    http_send(&env->client, "GET", "/v1/promotions", "secret-guess", NULL, NULL,
              0, &r);
    http_reply_free(&r);
    usleep(100 * 1000);
    ep_log_set_level(EP_LOG_WARN);
    dup2(saved, 2);
    close(saved);
    fclose(file);
    log = test_read_file(path, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "event=http.request method=GET "
                                "route=/v1/usage/{promotion_id} "
                                "status=200 us="));
    assert_non_null(strstr(log, "event=http.request method=GET "
                                "route=/v1/promotions status=401 us="));
    assert_null(strstr(log, "p-drinks10"));
    assert_null(strstr(log, "secret-guess"));
    assert_null(strstr(log, FIXTURE_TOKEN));
    free(log);
}

static void test_docs_list_every_route(void **state)
{
    struct ep_buf rows;
    char path[1024];
    char *docs;
    char *save = NULL;

    (void)state;
    test_source_path("docs/api.md", path, sizeof(path));
    docs = test_read_file(path, NULL);
    assert_non_null(docs);
    ep_buf_init(&rows, 1 << 20);
    api_routes_describe(&rows);
    for (char *line = strtok_r(rows.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (strstr(docs, line) == NULL)
            fail_msg("docs/api.md lacks the route row: %s", line);
    }
    ep_buf_deinit(&rows);
    free(docs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_evaluate_prices_without_side_effects),
        T(test_evaluate_reports_voucher_and_reasons),
        T(test_commit_replay_and_void),
        T(test_commit_needs_transaction_id),
        T(test_promotions_active),
        T(test_promotions_list_and_filters),
        T(test_promotion_by_code),
        T(test_usage_counts),
        T(test_sync_routes),
        T(test_healthz_is_open),
        T(test_metrics_count_requests),
        T(test_every_route_needs_a_token),
        T(test_wrong_scheme_is_401),
        T(test_unknown_route_and_wrong_method),
        T(test_keep_alive_survives_errors),
        T(test_snapshot_follows_a_sync),
        T(test_one_log_line_per_request),
        cmocka_unit_test(test_docs_list_every_route),
#undef T
    };

    ep_mem_install_json_allocator();
    ep_tz_apply("Asia/Jakarta", NULL);
    ep_log_set_level(EP_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
