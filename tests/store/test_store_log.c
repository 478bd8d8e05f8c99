/*
 * test_store_log.c - the sync log on both engines: rows written and read
 * back newest first with every column, other stores' rows left out, the
 * totals of the last days, versions cut to their column; and holidays
 * replaced and loaded outside a sync.
 */
#include "fixture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/mem.h"

#define TS_MAX 32

/* UTC "YYYY-MM-DD HH:MM:SS" of now minus days and seconds. */
static void utc_ago(int days, int seconds, char out[TS_MAX])
{
    time_t t = time(NULL) - (time_t)days * 86400 - seconds;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, TS_MAX, "%Y-%m-%d %H:%M:%S", &tm);
}

static void log_ok(struct store *store, const struct store_sync_log *e)
{
    struct ep_error err;

    ep_error_clear(&err);
    if (store_sync_log_insert(store, e, &err) != EP_OK)
        fail_msg("log: %s", err.message);
}

static void test_log_insert_and_recent(void **state)
{
    struct test_db *db = *state;
    struct store_sync_log e = {
        .sync_type = "full",
        .sync_status = "partial",
        .received = 12,
        .added = 3,
        .updated = 7,
        .deleted = 1,
        .skipped = 1,
        .company_id = "co-1",
        .store_id = "st-1",
        .error_message = "1 promotion skipped",
        .error_details = "[{\"id\":\"p-9\",\"reason\":\"rules.type\"}]",
        .started_at = "2026-02-01 06:00:00",
        .completed_at = "2026-02-01 06:00:02",
        .duration_seconds = 2,
        .duration_ms = 2345,
        .cms_version = "2.3.1",
        .edge_version = "0.1.0",
    };
    struct store_sync_log *rows = NULL;
    struct ep_arena arena;
    struct ep_error err;
    size_t count = 0;

    ep_error_clear(&err);
    ep_arena_init(&arena, 4096, 1 << 20);
    log_ok(db->store, &e);
    e.sync_type = "incremental";
    e.sync_status = "success";
    e.error_message = e.error_details = e.cms_version = NULL;
    e.started_at = "2026-02-01 07:00:00";
    e.completed_at = NULL;
    log_ok(db->store, &e);
    e.store_id = "st-2";
    e.started_at = "2026-02-01 08:00:00";
    log_ok(db->store, &e);
    assert_int_equal(store_sync_log_recent(db->store, "st-1", 10, &arena, &rows,
                                           &count, &err),
                     EP_OK);
    assert_int_equal(count, 2);
    assert_string_equal(rows[0].sync_type, "incremental");
    assert_null(rows[0].error_message);
    assert_null(rows[0].completed_at);
    assert_string_equal(rows[1].sync_type, "full");
    assert_string_equal(rows[1].sync_status, "partial");
    assert_int_equal(rows[1].received, 12);
    assert_int_equal(rows[1].added, 3);
    assert_int_equal(rows[1].updated, 7);
    assert_int_equal(rows[1].deleted, 1);
    assert_int_equal(rows[1].skipped, 1);
    assert_string_equal(rows[1].company_id, "co-1");
    assert_string_equal(rows[1].error_message, "1 promotion skipped");
    assert_string_equal(rows[1].error_details,
                        "[{\"id\":\"p-9\",\"reason\":\"rules.type\"}]");
    assert_string_equal(rows[1].started_at, "2026-02-01 06:00:00");
    assert_string_equal(rows[1].completed_at, "2026-02-01 06:00:02");
    assert_int_equal(rows[1].duration_seconds, 2);
    assert_int_equal(rows[1].duration_ms, 2345);
    assert_string_equal(rows[1].cms_version, "2.3.1");
    assert_string_equal(rows[1].edge_version, "0.1.0");
    assert_true(rows[0].id > rows[1].id);
    assert_int_equal(store_sync_log_recent(db->store, "st-1", 1, &arena, &rows,
                                           &count, &err),
                     EP_OK);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].sync_type, "incremental");
    assert_int_equal(store_sync_log_recent(db->store, "st-9", 5, &arena, &rows,
                                           &count, &err),
                     EP_OK);
    assert_int_equal(count, 0);
    ep_arena_deinit(&arena);
}

static void test_versions_are_cut_to_their_column(void **state)
{
    struct test_db *db = *state;
    struct store_sync_log e = {
        .sync_type = "manual",
        .sync_status = "failed",
        .company_id = "co-1",
        .store_id = "st-1",
        .started_at = "2026-02-01 06:00:00",
        .cms_version = "2026.02.01-build.123456789",
        .edge_version = "0.1.0-ééééééééééééééééééé",
    };
    struct store_sync_log *rows = NULL;
    struct ep_arena arena;
    struct ep_error err;
    size_t count = 0;

    ep_error_clear(&err);
    ep_arena_init(&arena, 4096, 1 << 20);
    log_ok(db->store, &e);
    assert_int_equal(store_sync_log_recent(db->store, "st-1", 1, &arena, &rows,
                                           &count, &err),
                     EP_OK);
    assert_int_equal(count, 1);
    assert_string_equal(rows[0].cms_version, "2026.02.01-build.123");
    assert_string_equal(rows[0].edge_version, "0.1.0-éééééééééééééé");
    ep_arena_deinit(&arena);
}

static void add_run(struct store *store, const char *status, int days_ago,
                    int64_t seconds)
{
    char started[TS_MAX];
    struct store_sync_log e = {
        .sync_type = "incremental",
        .sync_status = status,
        .company_id = "co-1",
        .store_id = "st-1",
        .started_at = started,
        .duration_seconds = seconds,
        .duration_ms = seconds * 1000,
    };

    utc_ago(days_ago, 60, started);
    log_ok(store, &e);
}

static void test_stats_of_recent_days(void **state)
{
    struct test_db *db = *state;
    struct promo_record p[2];
    struct store_sync_batch b;
    struct store_sync_stats st;
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(store_sync_stats_get(db->store, "st-1", 7, &st, &err),
                     EP_OK);
    assert_int_equal(st.total, 0);
    assert_true(st.avg_duration_s == 0.0);
    fixture_promo(&p[0], "p-a", "A");
    fixture_promo(&p[1], "p-b", "B");
    fixture_batch(&b, true, p, 2);
    assert_int_equal(store_sync_apply(db->store, &b, NULL, &err), EP_OK);
    add_run(db->store, "success", 0, 1);
    add_run(db->store, "success", 1, 2);
    add_run(db->store, "partial", 3, 3);
    add_run(db->store, "failed", 5, 30);
    add_run(db->store, "success", 20, 100);
    assert_int_equal(store_sync_stats_get(db->store, "st-1", 7, &st, &err),
                     EP_OK);
    assert_int_equal(st.total, 4);
    assert_int_equal(st.successful, 2);
    assert_int_equal(st.partial, 1);
    assert_int_equal(st.failed, 1);
    assert_true(st.avg_duration_s > 8.99 && st.avg_duration_s < 9.01);
    assert_int_equal(st.promotions, 2);
    assert_int_equal(store_sync_stats_get(db->store, "st-1", 2, &st, &err),
                     EP_OK);
    assert_int_equal(st.total, 2);
    assert_int_equal(store_sync_stats_get(db->store, "st-1", 30, &st, &err),
                     EP_OK);
    assert_int_equal(st.total, 5);
    assert_int_equal(store_sync_stats_get(db->store, "st-2", 30, &st, &err),
                     EP_OK);
    assert_int_equal(st.total, 0);
    assert_int_equal(st.promotions, 0);
}

static void test_holidays_replace_and_load(void **state)
{
    struct test_db *db = *state;
    const struct holiday_record first[] = { { "2026-12-25", "Natal" },
                                            { "2026-01-01", "Tahun Baru" } };
    const struct holiday_record bad[] = { { "2026-02-30", "Never" } };
    struct holiday_record *h = NULL;
    struct ep_arena arena;
    struct ep_error err;
    size_t count = 0;

    ep_error_clear(&err);
    ep_arena_init(&arena, 1024, 1 << 20);
    assert_int_equal(
        store_holidays_replace(db->store, "import", first, 2, &err), EP_OK);
    assert_int_equal(store_holidays_replace(db->store, "import", bad, 1, &err),
                     EP_ERR_INVALID);
    assert_string_equal(err.field, "holidays[0].date");
    ep_error_clear(&err);
    assert_int_equal(store_holidays_load(db->store, &arena, &h, &count, &err),
                     EP_OK);
    assert_int_equal(count, 2);
    assert_string_equal(h[0].date, "2026-01-01");
    assert_string_equal(h[0].name, "Tahun Baru");
    assert_string_equal(h[1].date, "2026-12-25");
    assert_int_equal(store_holidays_replace(db->store, "import", NULL, 0, &err),
                     EP_OK);
    assert_int_equal(store_holidays_load(db->store, &arena, &h, &count, &err),
                     EP_OK);
    assert_int_equal(count, 0);
    ep_arena_deinit(&arena);
}

int main(void)
{
#define T(name) \
    cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_log_insert_and_recent),
        T(test_versions_are_cut_to_their_column),
        T(test_stats_of_recent_days),
        T(test_holidays_replace_and_load),
    };
#undef T

    return fixture_run("store-log", tests, sizeof(tests) / sizeof(tests[0]));
}
