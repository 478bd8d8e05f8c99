/*
 * test_ops_upgrade.c - an edge upgraded in place: a database made by the
 * first schema version, holding the example store's promotions, local
 * uses and sync log rows, is served by this program's `edgepromo serve`.
 *
 * serve migrates it on start (as the packaged unit does through
 * ExecStartPre=edgepromo migrate); then every row of version 1 is still
 * there with every value it had (the columns of version 1, dumped before
 * and after), the promotions are served by code, the uses count against
 * the limits, and a new checkout is recorded.
 */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops.h"
#include "store/store.h"
#include "support.h"

#define BEARER "Bearer " OPS_TOKEN

static const char *const v1_tables[] = { "promotions", "promotion_usage",
                                         "promotion_sync_log" };
#define V1_TABLES (sizeof(v1_tables) / sizeof(v1_tables[0]))

/* Local uses and sync runs, in version 1's columns. */
static const char v1_rows[] =
    "INSERT INTO promotion_usage (promotion_id, promotion_code, "
    "transaction_id, order_number, customer_id, customer_phone, member_tier, "
    "discount_amount, original_amount, final_amount, brand_id, store_id, "
    "used_at, usage_date) VALUES "
    "('d15c0000-0000-4000-8000-000000000001', 'KOPI10', 'old-1', 'A-1', "
    "'cust-1', '+6281200000001', NULL, 2500.00, 25000.00, 22500.00, "
    "'4b4c6546-159b-4cd0-96d4-50a763ba12df', "
    "'ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c', '2026-10-01 03:00:00', "
    "'2026-10-01'), "
    "('d15c0000-0000-4000-8000-000000000001', 'KOPI10', 'old-2', 'A-2', "
    "NULL, NULL, NULL, 4700.00, 47000.00, 42300.00, "
    "'4b4c6546-159b-4cd0-96d4-50a763ba12df', "
    "'ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c', '2026-10-02 04:00:00', "
    "'2026-10-02'), "
    "('gone-promotion-0001', 'GONE', 'old-3', NULL, 'cust-2', NULL, 'gold', "
    "0.10, 10.00, 9.90, 'b1', 'ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c', "
    "'2026-09-30 23:59:59', '2026-10-01');"
    "INSERT INTO promotion_sync_log (sync_type, sync_status, "
    "promotions_received, promotions_added, promotions_updated, "
    "promotions_deleted, company_id, store_id, error_message, "
    "error_details, started_at, completed_at, duration_seconds, "
    "cms_version, edge_version) VALUES "
    "('full', 'success', 31, 31, 0, 0, "
    "'812e76b6-f235-4bb2-948a-cae58ee62b97', "
    "'ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c', NULL, NULL, "
    "'2026-10-01 00:00:00', '2026-10-01 00:00:01', 1, 'cms-1', '0.0.1'), "
    "('incremental', 'failed', 0, 0, 0, 0, "
    "'812e76b6-f235-4bb2-948a-cae58ee62b97', "
    "'ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c', 'CMS answered HTTP 502', "
    "NULL, '2026-10-01 00:05:00', '2026-10-01 00:05:30', 30, NULL, "
    "'0.0.1');";

/* Binds one JSON value of a promotion the way version 1 stores it. */
static void bind_value(sqlite3_stmt *stmt, int index, json_t *value)
{
    char *text;

    if (json_is_null(value)) {
        sqlite3_bind_null(stmt, index);
    } else if (json_is_boolean(value)) {
        sqlite3_bind_int(stmt, index, json_is_true(value));
    } else if (json_is_integer(value)) {
        sqlite3_bind_int64(stmt, index, json_integer_value(value));
    } else if (json_is_string(value)) {
        sqlite3_bind_text(stmt, index, json_string_value(value), -1,
                          SQLITE_TRANSIENT);
    } else {
        text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
        free(text);
    }
}

/* The column a CMS key is stored in ("rules" in rules_json). */
static void column_of(const char *key, char *out, size_t size)
{
    bool json = strcmp(key, "rules") == 0 || strcmp(key, "scope") == 0 ||
                strcmp(key, "targeting") == 0;

    snprintf(out, size, json ? "%s_json" : "%s", key);
}

static void insert_promotion(sqlite3 *db, json_t *promotion)
{
    char columns[2048] = "";
    char marks[512] = "";
    char sql[4096];
    char column[64];
    sqlite3_stmt *stmt = NULL;
    const char *key;
    json_t *value;
    int n = 0;

    json_object_foreach(promotion, key, value)
    {
        column_of(key, column, sizeof(column));
        snprintf(columns + strlen(columns), sizeof(columns) - strlen(columns),
                 "%s%s", n ? ", " : "", column);
        snprintf(marks + strlen(marks), sizeof(marks) - strlen(marks), "%s?",
                 n++ ? ", " : "");
    }
    snprintf(sql, sizeof(sql), "INSERT INTO promotions (%s) VALUES (%s)",
             columns, marks);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    n = 0;
    json_object_foreach(promotion, key, value) bind_value(stmt, ++n, value);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
}

/* The example store's promotions, as a version-1 edge would hold them. */
static size_t insert_example_promotions(const char *path)
{
    char source[1024];
    json_t *root;
    json_t *store;
    json_t *promotions;
    sqlite3 *db = NULL;
    size_t i;
    json_t *p;

    test_source_path("examples/full_sync.json", source, sizeof(source));
    root = json_load_file(source, 0, NULL);
    assert_non_null(root);
    store = json_object_iter_value(json_object_iter(root));
    promotions = json_object_get(store, "promotions");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    json_array_foreach(promotions, i, p) insert_promotion(db, p);
    sqlite3_close(db);
    i = json_array_size(promotions);
    json_decref(root);
    return i;
}

/* Makes a database of schema version 1 with the store library. */
static void make_v1(const char *path)
{
    struct store *store = NULL;
    int version = 0;

    assert_int_equal(store_open(path, NULL, &store, NULL), EP_OK);
    assert_int_equal(store_migrate(store, 1, NULL, NULL), EP_OK);
    assert_int_equal(store_schema_version(store, &version, NULL), EP_OK);
    assert_int_equal(version, 1);
    store_close(store);
}

/* "SELECT <version 1's columns> FROM table ORDER BY rowid", now. */
static void v1_select(const char *db, const char *table, char *out, size_t size)
{
    char sql[256];
    char *columns;

    snprintf(sql, sizeof(sql),
             "SELECT group_concat(name, ', ') FROM pragma_table_info('%s')",
             table);
    columns = ops_sql_text(db, sql);
    columns[strcspn(columns, "\n")] = '\0';
    snprintf(out, size, "SELECT %s FROM %s ORDER BY rowid", columns, table);
    free(columns);
}

static void test_v1_database_is_migrated_and_served(void **state)
{
    struct ops_env env;
    char select[V1_TABLES][2048];
    char *before[V1_TABLES];
    char *reply = NULL;
    size_t promotions;

    (void)state;
    ops_env_init(&env, NULL);
    make_v1(env.db);
    promotions = insert_example_promotions(env.db);
    ops_sql_exec(env.db, v1_rows);
    for (size_t i = 0; i < V1_TABLES; i++) {
        v1_select(env.db, v1_tables[i], select[i], sizeof(select[i]));
        before[i] = ops_sql_text(env.db, select[i]);
    }
    ops_serve_start(&env);
    assert_int_equal(ops_sql_int(env.db, "SELECT MAX(version) FROM "
                                         "schema_migrations"),
                     store_schema_latest());
    assert_int_equal(
        ops_http(&env, "GET", "/v1/promotions/kopi10", BEARER, NULL, &reply),
        200);
    assert_non_null(strstr(reply, "\"name\":\"Diskon 10% Semua Kopi\""));
    free(reply);
    assert_int_equal(
        ops_http(&env, "GET", "/v1/promotions", BEARER, NULL, &reply), 200);
    {
        char want[32];
        snprintf(want, sizeof(want), "\"count\":%zu", promotions);
        assert_non_null(strstr(reply, want));
    }
    free(reply);
    assert_int_equal(ops_http(&env, "GET",
                              "/v1/usage/d15c0000-0000-4000-8000-000000000001",
                              BEARER, NULL, &reply),
                     200);
    assert_non_null(strstr(reply, "\"local_uses\":2"));
    free(reply);
    assert_int_equal(ops_http(&env, "GET", "/v1/usage/gone-promotion-0001",
                              BEARER, NULL, &reply),
                     200);
    assert_non_null(strstr(reply, "\"local_uses\":1"));
    free(reply);
    assert_int_equal(ops_serve_stop(&env), 0);
    for (size_t i = 0; i < V1_TABLES; i++) {
        char *after = ops_sql_text(env.db, select[i]);
        if (strcmp(before[i], after) != 0)
            fail_msg("%s changed in the upgrade:\n%s\n---\n%s", v1_tables[i],
                     before[i], after);
        assert_true(strlen(after) > 0);
        free(after);
        free(before[i]);
    }
    ops_env_free(&env);
}

static void test_upgraded_edge_takes_checkouts(void **state)
{
    struct ops_env env;
    char *reply = NULL;
    const char *cart =
        "{\"brand_id\":\"4b4c6546-159b-4cd0-96d4-50a763ba12df\","
        "\"transaction_id\":\"after-upgrade-1\",\"lines\":[{\"line_id\":"
        "\"1\",\"product_id\":\"c0ffee00-0000-4000-8000-000000000001\","
        "\"category_id\":\"ca7e0000-0000-4000-8000-000000000101\","
        "\"quantity\":1,\"unit_price\":25000}]}";

    (void)state;
    ops_env_init(&env, NULL);
    make_v1(env.db);
    insert_example_promotions(env.db);
    ops_sql_exec(env.db, v1_rows);
    ops_serve_start(&env);
    assert_int_equal(
        ops_http(&env, "POST", "/v1/transactions", BEARER, cart, &reply), 200);
    assert_non_null(strstr(reply, "\"committed\":true"));
    free(reply);
    assert_int_equal(ops_serve_stop(&env), 0);
    assert_int_equal(ops_sql_int(env.db, "SELECT COUNT(*) FROM "
                                         "promotion_usage"),
                     4);
    ops_env_free(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_database_is_migrated_and_served),
        cmocka_unit_test(test_upgraded_edge_takes_checkouts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
