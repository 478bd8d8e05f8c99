/*
 * test_store_schema.c - migrations on both engines: a fresh database, a
 * second run that changes nothing, an upgrade from version 1 with data in
 * every table of version 1, a migration that fails half-way (nothing of it
 * stays), a database newer than the program, and the integrity check.
 */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

/* The seed's sample row and one with every optional column set. */
static const char v1_promotions[] =
    "INSERT INTO promotions (id, code, name, description, terms_conditions, "
    "company_id, brand_id, store_id, promo_type, apply_to, execution_stage, "
    "execution_priority, is_active, is_auto_apply, require_voucher, "
    "member_only, is_stackable, start_date, end_date, time_start, time_end, "
    "valid_days, exclude_holidays, rules_json, scope_json, targeting_json, "
    "max_uses, max_uses_per_customer, max_uses_per_day, current_uses, "
    "compiled_at, synced_at, last_used_at) VALUES "
    "('98c93090-79b3-45f9-84e7-f7b802e5405e', 'DIC10', 'Diskon 10%', "
    "'Diskon 10% untuk semua produk', NULL, "
    "'812e76b6-f235-4bb2-948a-cae58ee62b97', "
    "'4b4c6546-159b-4cd0-96d4-50a763ba12df', "
    "'ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c', 'percent_discount', 'all', "
    "'item_level', 500, TRUE, TRUE, FALSE, FALSE, FALSE, '2026-01-28', "
    "'2026-01-31', NULL, NULL, '[]', FALSE, "
    "'{\"type\":\"percent\",\"discount_percent\":10,"
    "\"max_discount_amount\":null,\"min_purchase\":0}', "
    "'{\"apply_to\":\"all\",\"exclude_categories\":[],"
    "\"exclude_products\":[]}', "
    "'{\"stores\":[\"ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c\"],"
    "\"brands\":\"all\",\"member_only\":false,\"customer_type\":\"all\"}', "
    "NULL, NULL, NULL, 0, '2026-01-29 22:55:10', '2026-01-30 06:00:00', "
    "NULL), "
    "('p-2', 'HAPPY', 'Happy hour', NULL, 'Syarat berlaku', 'co-1', 'br-1', "
    "'st-1', 'fixed_discount', 'category', 'cart_level', 100, FALSE, FALSE, "
    "TRUE, TRUE, TRUE, '2026-02-01', '2026-02-28', '17:00:00', '19:00:00', "
    "'[\"friday\"]', TRUE, '{\"type\":\"fixed\",\"discount_amount\":5000}', "
    "NULL, NULL, 100, 2, 10, 42, '2026-01-29 22:55:10', "
    "'2026-01-30 06:00:00', '2026-01-31 12:00:00')";

static const char v1_usage[] =
    "INSERT INTO promotion_usage (promotion_id, promotion_code, "
    "transaction_id, order_number, customer_id, customer_phone, member_tier, "
    "discount_amount, original_amount, final_amount, brand_id, store_id, "
    "used_at, usage_date) VALUES "
    "('p-2', 'HAPPY', 'tx-1', 'ORD-1', 'cust-1', '0812', 'gold', 12.35, "
    "100.00, 87.65, 'br-1', 'st-1', '2026-02-06 10:00:00', '2026-02-06'), "
    "('p-2', 'HAPPY', 'tx-2', NULL, 'cust-1', NULL, NULL, 0.01, 0.02, 0.01, "
    "'br-1', 'st-1', '2026-02-06 11:00:00', '2026-02-06'), "
    "('p-gone', 'OLD', 'tx-3', NULL, NULL, NULL, NULL, 9999999999.99, "
    "9999999999.99, 0, 'br-1', 'st-1', '2026-02-07 09:00:00', "
    "'2026-02-07')";

static const char v1_sync_log[] =
    "INSERT INTO promotion_sync_log (sync_type, sync_status, "
    "promotions_received, promotions_added, promotions_updated, "
    "promotions_deleted, company_id, store_id, error_message, error_details, "
    "started_at, completed_at, duration_seconds, cms_version, edge_version) "
    "VALUES ('full', 'success', 2, 2, 0, 0, 'co-1', 'st-1', NULL, NULL, "
    "'2026-01-30 06:00:00', '2026-01-30 06:00:03', 3, '1.4.0', '0.0.9'), "
    "('incremental', 'failed', 0, 0, 0, 0, 'co-1', 'st-1', 'timeout', "
    "'{\"cause\":\"timeout\"}', '2026-01-30 07:00:00', NULL, 30, NULL, "
    "'0.0.9')";

/* The columns of version 1, read the same way before and after. */
static const char *const v1_dumps[] = {
    "SELECT id, code, name, description, terms_conditions, company_id, "
    "brand_id, store_id, promo_type, apply_to, execution_stage, "
    "execution_priority, CASE WHEN is_active THEN 1 ELSE 0 END, "
    "CASE WHEN is_auto_apply THEN 1 ELSE 0 END, "
    "CASE WHEN require_voucher THEN 1 ELSE 0 END, "
    "CASE WHEN member_only THEN 1 ELSE 0 END, "
    "CASE WHEN is_stackable THEN 1 ELSE 0 END, start_date, end_date, "
    "time_start, time_end, valid_days, "
    "CASE WHEN exclude_holidays THEN 1 ELSE 0 END, rules_json, scope_json, "
    "targeting_json, max_uses, max_uses_per_customer, max_uses_per_day, "
    "current_uses, compiled_at, synced_at, last_used_at FROM promotions "
    "ORDER BY id",
    "SELECT id, promotion_id, promotion_code, transaction_id, order_number, "
    "customer_id, customer_phone, member_tier, discount_amount, "
    "original_amount, final_amount, brand_id, store_id, used_at, usage_date "
    "FROM promotion_usage ORDER BY id",
    "SELECT id, sync_type, sync_status, promotions_received, "
    "promotions_added, promotions_updated, promotions_deleted, company_id, "
    "store_id, error_message, error_details, started_at, completed_at, "
    "duration_seconds, cms_version, edge_version FROM promotion_sync_log "
    "ORDER BY id",
};

#define V1_TABLES 3

static void migrate_ok(struct store *store, int target, int expect_applied)
{
    struct ep_error err;
    int applied = -1;

    ep_error_clear(&err);
    if (store_migrate(store, target, &applied, &err) != EP_OK)
        fail_msg("migrate: %s", err.message);
    assert_int_equal(applied, expect_applied);
}

static int version_of(struct store *store)
{
    struct ep_error err;
    int version = -1;

    ep_error_clear(&err);
    assert_int_equal(store_schema_version(store, &version, &err), EP_OK);
    return version;
}

static void test_latest_is_at_least_two(void **state)
{
    (void)state;
    assert_true(store_schema_latest() >= 2);
}

static void test_fresh_database(void **state)
{
    struct test_db *db = *state;

    assert_int_equal(version_of(db->store), 0);
    migrate_ok(db->store, 0, store_schema_latest());
    assert_int_equal(version_of(db->store), store_schema_latest());
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM schema_migrations"),
                     store_schema_latest());
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotions"), 0);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM pos_transactions"),
                     0);
}

static void test_rerun_changes_nothing(void **state)
{
    struct test_db *db = *state;
    const char *dump_sql = "SELECT version, description, applied_at FROM "
                           "schema_migrations ORDER BY version";
    char *before;
    char *after;

    migrate_ok(db->store, 0, store_schema_latest());
    before = fixture_dump(db, dump_sql);
    migrate_ok(db->store, 0, 0);
    migrate_ok(db->store, 1, 0);
    after = fixture_dump(db, dump_sql);
    assert_string_equal(before, after);
    assert_int_equal(version_of(db->store), store_schema_latest());
    free(before);
    free(after);
}

/* Checks the promotions of v1_promotions through the store API. */
static void check_v1_promotions(struct store *store)
{
    struct ep_arena arena;
    struct promo_record *items = NULL;
    struct ep_error err;
    size_t count = 0;

    ep_error_clear(&err);
    ep_arena_init(&arena, 4096, 1 << 20);
    assert_int_equal(store_promotions_load(store, &arena, &items, &count, &err),
                     EP_OK);
    assert_int_equal(count, 2);
    assert_string_equal(items[0].id, "98c93090-79b3-45f9-84e7-f7b802e5405e");
    assert_string_equal(items[0].code, "DIC10");
    assert_true(items[0].is_active && items[0].is_auto_apply);
    assert_false(items[0].has_max_uses);
    assert_null(items[0].time_start);
    assert_null(items[0].last_used_at);
    assert_string_equal(items[1].id, "p-2");
    assert_false(items[1].is_active);
    assert_true(items[1].require_voucher && items[1].member_only &&
                items[1].is_stackable && items[1].exclude_holidays);
    assert_string_equal(items[1].time_start, "17:00:00");
    assert_string_equal(items[1].valid_days_json, "[\"friday\"]");
    assert_int_equal(items[1].execution_priority, 100);
    assert_true(items[1].has_max_uses_per_day);
    assert_int_equal(items[1].max_uses_per_day, 10);
    assert_int_equal(items[1].current_uses, 42);
    assert_string_equal(items[1].compiled_at, "2026-01-29 22:55:10");
    assert_string_equal(items[1].last_used_at, "2026-01-31 12:00:00");
    ep_arena_deinit(&arena);
}

/* Checks the usage and log rows of version 1 through the store API. */
static void check_v1_usage_and_log(struct store *store)
{
    struct store_usage_summary sum;
    struct store_sync_log *log = NULL;
    struct ep_arena arena;
    struct ep_error err;
    size_t count = 0;

    ep_error_clear(&err);
    assert_int_equal(store_usage_summary_get(store, "p-2", "2026-02-06",
                                             "cust-1", &sum, &err),
                     EP_OK);
    assert_int_equal(sum.local_uses, 2);
    assert_int_equal(sum.today_uses, 2);
    assert_int_equal(sum.customer_uses, 2);
    assert_int_equal(sum.discount_total, 1236);
    assert_int_equal(store_usage_summary_get(store, "p-gone", "2026-02-07",
                                             NULL, &sum, &err),
                     EP_OK);
    assert_false(sum.promotion_known);
    assert_int_equal(sum.discount_total, 999999999999);
    ep_arena_init(&arena, 4096, 1 << 20);
    assert_int_equal(
        store_sync_log_recent(store, "st-1", 10, &arena, &log, &count, &err),
        EP_OK);
    assert_int_equal(count, 2);
    assert_string_equal(log[0].sync_type, "incremental");
    assert_string_equal(log[0].error_details, "{\"cause\":\"timeout\"}");
    assert_null(log[0].completed_at);
    assert_int_equal(log[0].skipped, 0);
    assert_string_equal(log[1].cms_version, "1.4.0");
    assert_string_equal(log[1].completed_at, "2026-01-30 06:00:03");
    assert_int_equal(log[1].duration_seconds, 3);
    ep_arena_deinit(&arena);
}

static void test_upgrade_from_v1_keeps_every_row(void **state)
{
    struct test_db *db = *state;
    char *before[V1_TABLES];
    char *after;

    migrate_ok(db->store, 1, 1);
    assert_int_equal(version_of(db->store), 1);
    fixture_exec(db, v1_promotions);
    fixture_exec(db, v1_usage);
    fixture_exec(db, v1_sync_log);
    for (int i = 0; i < V1_TABLES; i++)
        before[i] = fixture_dump(db, v1_dumps[i]);
    migrate_ok(db->store, 0, store_schema_latest() - 1);
    assert_int_equal(version_of(db->store), store_schema_latest());
    for (int i = 0; i < V1_TABLES; i++) {
        after = fixture_dump(db, v1_dumps[i]);
        assert_string_equal(before[i], after);
        free(after);
        free(before[i]);
    }
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotions"), 2);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_usage"),
                     3);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_sync_log"),
                     2);
    check_v1_promotions(db->store);
    check_v1_usage_and_log(db->store);
}

static void test_failed_migration_leaves_nothing(void **state)
{
    struct test_db *db = *state;
    struct ep_error err;
    int applied = -1;

    ep_error_clear(&err);
    migrate_ok(db->store, 1, 1);
    fixture_exec(db, v1_promotions);
    /* Version 2 creates sync_state: a table in the way makes it fail. */
    fixture_exec(db, "CREATE TABLE sync_state (x INTEGER)");
    assert_int_not_equal(store_migrate(db->store, 0, &applied, &err), EP_OK);
    assert_int_equal(applied, 0);
    assert_true(ep_error_is_set(&err));
    assert_int_equal(version_of(db->store), 1);
    assert_int_not_equal(fixture_try_exec(db, "SELECT voided_at FROM "
                                              "promotion_usage"),
                         0);
    assert_int_not_equal(fixture_try_exec(db, "SELECT date FROM holidays"), 0);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotions"), 2);
    /* Out of the way, the same migration goes through. */
    fixture_exec(db, "DROP TABLE sync_state");
    migrate_ok(db->store, 0, store_schema_latest() - 1);
}

static void test_newer_schema_is_refused(void **state)
{
    struct test_db *db = *state;
    struct ep_error err;
    char *before;
    char *after;
    int applied = -1;

    ep_error_clear(&err);
    migrate_ok(db->store, 0, store_schema_latest());
    fixture_exec(db, "INSERT INTO schema_migrations (version, description, "
                     "applied_at) VALUES (99, 'from the future', "
                     "CURRENT_TIMESTAMP)");
    before = fixture_dump(db, "SELECT version FROM schema_migrations "
                              "ORDER BY version");
    assert_int_equal(store_migrate(db->store, 0, &applied, &err),
                     EP_ERR_SCHEMA_NEWER);
    assert_int_equal(err.status, EP_ERR_SCHEMA_NEWER);
    assert_non_null(strstr(err.message, "99"));
    assert_int_equal(applied, 0);
    assert_int_equal(version_of(db->store), 99);
    after = fixture_dump(db, "SELECT version FROM schema_migrations "
                             "ORDER BY version");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_integrity_check(void **state)
{
    struct test_db *db = *state;
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(store_integrity_check(db->store, &err), EP_OK);
    migrate_ok(db->store, 0, store_schema_latest());
    assert_int_equal(store_integrity_check(db->store, &err), EP_OK);
}

static void test_integrity_check_reports_bad_rows(void **state)
{
    struct test_db *db = *state;
    struct ep_error err;

    ep_error_clear(&err);
    if (!fixture_is_postgres(db))
        skip();
    migrate_ok(db->store, 0, store_schema_latest());
    fixture_exec(db, v1_promotions);
    fixture_exec(db, "UPDATE promotions SET current_uses = -1");
    assert_int_equal(store_integrity_check(db->store, &err), EP_ERR_DB);
}

static void test_unreachable_postgres_is_an_io_error(void **state)
{
    struct store *store = NULL;
    struct ep_error err;

    (void)state;
    ep_error_clear(&err);
    assert_int_equal(store_open("postgresql://edgepromo:secret@127.0.0.1:1/"
                                "nothing?connect_timeout=2",
                                NULL, &store, &err),
                     EP_ERR_IO);
    assert_null(store);
    assert_non_null(strstr(err.message, "cannot connect to PostgreSQL"));
    assert_null(strstr(err.message, "secret"));
    ep_error_clear(&err);
    assert_int_equal(
        store_open("postgresql://127.0.0.1/db?nonsense=1", NULL, &store, &err),
        EP_ERR_CONFIG);
    assert_string_equal(err.field, "db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latest_is_at_least_two),
        cmocka_unit_test(test_unreachable_postgres_is_an_io_error),
        cmocka_unit_test_setup_teardown(test_fresh_database,
                                        fixture_setup_empty, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rerun_changes_nothing,
                                        fixture_setup_empty, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v1_keeps_every_row,
                                        fixture_setup_empty, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_leaves_nothing,
                                        fixture_setup_empty, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused,
                                        fixture_setup_empty, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_integrity_check,
                                        fixture_setup_empty, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_integrity_check_reports_bad_rows,
                                        fixture_setup_empty, fixture_teardown),
    };

    return fixture_run("store-schema", tests, sizeof(tests) / sizeof(tests[0]));
}
