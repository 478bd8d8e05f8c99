/*
 * test_usage.c - checkout commits and voids on a real database, SQLite and
 * PostgreSQL (the same tests): rows, counts, idempotent replays, limits at
 * commit, store-local days, and the seed note's usage queries agreeing
 * with what was enforced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/localtime.h"
#include "fixture.h"
#include "usage/usage.h"

#define PROMOS                                                          \
    "[{\"code\": \"DSC10\", \"promo_type\": \"percent_discount\","      \
    "  \"rules\": {\"type\": \"percent\", \"discount_percent\": 10},"   \
    "  \"is_stackable\": true, \"max_uses\": 3, \"current_uses\": 1},"  \
    " {\"code\": \"POT5K\", \"promo_type\": \"fixed_discount\","        \
    "  \"execution_stage\": \"cart_level\", \"is_stackable\": true,"    \
    "  \"rules\": {\"type\": \"fixed\", \"discount_amount\": 5000},"    \
    "  \"max_uses_per_customer\": 1},"                                  \
    " {\"code\": \"HARIAN\", \"promo_type\": \"fixed_discount\","       \
    "  \"execution_stage\": \"payment_level\", \"is_stackable\": true," \
    "  \"rules\": {\"type\": \"fixed\", \"discount_amount\": 1000},"    \
    "  \"max_uses_per_day\": 1}]"

static const char *cart_json(char *buf, size_t size, const char *txid,
                             const char *customer, const char *at)
{
    snprintf(buf, size,
             "{\"brand_id\": \"B1\", \"transaction_id\": \"%s\","
             " \"order_number\": \"ORD-%s\", \"at\": \"%s\"%s%s%s,"
             " \"lines\": [{\"line_id\": \"1\", \"product_id\": \"A\","
             " \"category_id\": \"K\", \"quantity\": 2,"
             " \"unit_price\": 50000}]}",
             txid, txid, at, customer ? ", \"customer\": {\"id\": \"" : "",
             customer ? customer : "",
             customer ? "\", \"phone\": "
                        "\"0812\"}"
                      : "");
    return buf;
}

static enum ep_status commit(struct fixture *f, const char *txid,
                             const char *customer, const char *at,
                             struct ep_buf *out, bool *replayed)
{
    char text[1024];
    struct ep_arena arena;
    struct ep_error err;
    enum ep_status status;

    ep_error_clear(&err);
    ep_arena_init(&arena, 65536, (size_t)1 << 28);
    ep_buf_reset(out);
    status = usage_commit(
        f->store, f->set,
        fixture_cart(cart_json(text, sizeof(text), txid, customer, at), &arena),
        FIXTURE_STORE, 1800000000, &arena, out, replayed, &err);
    ep_arena_deinit(&arena);
    return status;
}

static long applied_count(const struct ep_buf *out)
{
    json_t *root = json_loads(out->data, 0, NULL);
    long n = (long)json_array_size(json_object_get(root, "applied"));

    json_decref(root);
    return n;
}

static void test_commit_records_and_replays(void **state)
{
    struct fixture f;
    struct ep_buf out;
    char *first;
    char *text;
    bool replayed = true;

    (void)state;
    fixture_open(&f, PROMOS);
    ep_buf_init(&out, 1 << 20);
    assert_int_equal(
        commit(&f, "T1", "CUST1", "2026-03-02T10:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_false(replayed);
    assert_int_equal(applied_count(&out), 3);
    first = strdup(out.data);
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                         "promotion_usage WHERE "
                                         "transaction_id = 'T1'"),
                     3);
    assert_int_equal(fixture_sql_int(&f, "SELECT current_uses FROM "
                                         "promotions WHERE code = 'DSC10'"),
                     2);
    /* The discount of DSC10: 10% of 100.000, stored as DECIMAL units
       (read in hundredths: SQLite prints 10000, PostgreSQL 10000.00). */
    text = fixture_sql(&f, "SELECT CAST(discount_amount * 100 AS INTEGER), "
                           "CAST(original_amount * 100 AS INTEGER), "
                           "CAST(final_amount * 100 AS INTEGER), usage_date "
                           "FROM promotion_usage WHERE "
                           "promotion_code = 'DSC10'");
    assert_string_equal(text, "1000000|10000000|9000000|2026-03-02\n");
    free(text);
    assert_int_equal(
        commit(&f, "T1", "CUST1", "2026-03-02T10:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_true(replayed);
    assert_string_equal(out.data, first);
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                         "promotion_usage"),
                     3);
    free(first);
    ep_buf_deinit(&out);
    fixture_close(&f);
}

static void test_limits_at_commit(void **state)
{
    struct fixture f;
    struct ep_buf out;
    bool replayed = false;

    (void)state;
    fixture_open(&f, PROMOS);
    ep_buf_init(&out, 1 << 20);
    /* DSC10 has max_uses 3 and 1 use from the CMS: two more fit. */
    assert_int_equal(
        commit(&f, "T1", "C1", "2026-03-02T10:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_int_equal(
        commit(&f, "T2", "C2", "2026-03-02T11:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"HARIAN\",\"reason\":"
                                     "\"daily_limit_reached\""));
    assert_int_equal(
        commit(&f, "T3", "C1", "2026-03-03T11:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"DSC10\",\"reason\":"
                                     "\"usage_limit_reached\""));
    assert_non_null(strstr(out.data, "\"code\":\"POT5K\",\"reason\":"
                                     "\"customer_limit_reached\""));
    /* The rest still applies: HARIAN on a new store-local day. */
    assert_int_equal(applied_count(&out), 1);
    assert_int_equal(
        commit(&f, "T4", NULL, "2026-03-04T11:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"POT5K\",\"reason\":"
                                     "\"customer_required\""));
    assert_int_equal(fixture_sql_int(&f, "SELECT current_uses FROM "
                                         "promotions WHERE code = 'DSC10'"),
                     3);
    ep_buf_deinit(&out);
    fixture_close(&f);
}

static void test_daily_limit_resets_at_local_midnight(void **state)
{
    struct fixture f;
    struct ep_buf out;
    bool replayed = false;

    (void)state;
    fixture_open(&f, PROMOS);
    ep_buf_init(&out, 1 << 20);
    /* 16:59 UTC is 23:59 in Jakarta; 17:00 UTC is 00:00 the next day. */
    assert_int_equal(
        commit(&f, "D1", "X1", "2026-03-02T16:58:00Z", &out, &replayed), EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"HARIAN\",\"name\""));
    assert_int_equal(
        commit(&f, "D2", "X2", "2026-03-02T16:59:59Z", &out, &replayed), EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"HARIAN\",\"reason\":"
                                     "\"daily_limit_reached\""));
    assert_int_equal(
        commit(&f, "D3", "X3", "2026-03-02T17:00:00Z", &out, &replayed), EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"HARIAN\",\"name\""));
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(DISTINCT usage_date) "
                                         "FROM promotion_usage WHERE "
                                         "promotion_code = 'HARIAN'"),
                     2);
    ep_buf_deinit(&out);
    fixture_close(&f);
}

static void test_void_gives_uses_back(void **state)
{
    struct fixture f;
    struct ep_buf out;
    struct ep_error err;
    bool replayed = false;
    char *first;

    (void)state;
    fixture_open(&f, PROMOS);
    ep_buf_init(&out, 1 << 20);
    ep_error_clear(&err);
    assert_int_equal(
        commit(&f, "V1", "C9", "2026-03-02T10:00:00+07:00", &out, &replayed),
        EP_OK);
    ep_buf_reset(&out);
    assert_int_equal(usage_void(f.store, "V1", 1800000100, &out, &err), EP_OK);
    assert_non_null(strstr(out.data, "\"uses_returned\":3"));
    first = strdup(out.data);
    assert_int_equal(fixture_sql_int(&f, "SELECT current_uses FROM "
                                         "promotions WHERE code = 'DSC10'"),
                     1);
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                         "promotion_usage WHERE voided_at IS "
                                         "NOT NULL"),
                     3);
    ep_buf_reset(&out);
    assert_int_equal(usage_void(f.store, "V1", 1800000200, &out, &err), EP_OK);
    assert_string_equal(out.data, first);
    assert_int_equal(fixture_sql_int(&f, "SELECT current_uses FROM "
                                         "promotions WHERE code = 'DSC10'"),
                     1);
    ep_buf_reset(&out);
    assert_int_equal(usage_void(f.store, "NOPE", 1800000200, &out, &err),
                     EP_ERR_NOT_FOUND);
    /* The customer may use POT5K again once its use is voided. */
    assert_int_equal(
        commit(&f, "V2", "C9", "2026-03-02T12:00:00+07:00", &out, &replayed),
        EP_OK);
    assert_non_null(strstr(out.data, "\"code\":\"POT5K\",\"name\""));
    free(first);
    ep_buf_deinit(&out);
    fixture_close(&f);
}

static void test_commit_needs_transaction_id(void **state)
{
    struct fixture f;
    struct ep_buf out;
    struct ep_arena arena;
    struct ep_error err;
    bool replayed = false;
    const char *text = "{\"brand_id\": \"B1\", \"lines\": [{\"line_id\": "
                       "\"1\", \"product_id\": \"A\", \"quantity\": 1, "
                       "\"unit_price\": 100}]}";

    (void)state;
    fixture_open(&f, PROMOS);
    ep_buf_init(&out, 1 << 20);
    ep_arena_init(&arena, 4096, 1 << 24);
    ep_error_clear(&err);
    assert_int_equal(usage_commit(f.store, f.set, fixture_cart(text, &arena),
                                  FIXTURE_STORE, 1800000000, &arena, &out,
                                  &replayed, &err),
                     EP_ERR_INVALID);
    assert_string_equal(err.field, "transaction_id");
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                         "pos_transactions"),
                     0);
    ep_arena_deinit(&arena);
    ep_buf_deinit(&out);
    fixture_close(&f);
}

/* The seed note's usage-count queries, unchanged but for the parameters. */
static void test_seed_usage_queries_agree(void **state)
{
    struct fixture f;
    struct ep_buf out;
    bool replayed = false;
    char sql[512];

    (void)state;
    fixture_open(&f, PROMOS);
    ep_buf_init(&out, 1 << 20);
    for (int i = 0; i < 3; i++) {
        char txid[16];
        snprintf(txid, sizeof(txid), "Q%d", i);
        assert_int_equal(commit(&f, txid, "SAME", "2026-03-05T09:00:00+07:00",
                                &out, &replayed),
                         EP_OK);
    }
    /* Daily: HARIAN allowed once that day. Customer: POT5K once. */
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) as usage_count FROM promotion_usage WHERE "
             "promotion_id = 'id-HARIAN' AND usage_date = '2026-03-05';");
    assert_int_equal(fixture_sql_int(&f, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) as customer_usage FROM promotion_usage WHERE "
             "promotion_id = 'id-POT5K' AND customer_id = 'SAME';");
    assert_int_equal(fixture_sql_int(&f, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*) as usage_count FROM promotion_usage WHERE "
             "promotion_id = 'id-DSC10' AND usage_date = '2026-03-05';");
    assert_int_equal(fixture_sql_int(&f, sql), 2);
    ep_buf_deinit(&out);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_records_and_replays),
        cmocka_unit_test(test_limits_at_commit),
        cmocka_unit_test(test_daily_limit_resets_at_local_midnight),
        cmocka_unit_test(test_void_gives_uses_back),
        cmocka_unit_test(test_commit_needs_transaction_id),
        cmocka_unit_test(test_seed_usage_queries_agree),
    };

    return test_engines_run("test-usage", tests,
                            sizeof(tests) / sizeof(tests[0]));
}
