/* fixture.c - the shared set-up of the sync tests (fixture.h). */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/mem.h"
#include "support.h"

static void set(struct fixture *f, const char *key, const char *value)
{
    struct ep_error err = { 0 };

    assert_int_equal(
        ep_config_set(&f->config, key, value, EP_CONFIG_FROM_FLAG, &err),
        EP_OK);
}

void fixture_setup(struct fixture *f)
{
    struct ep_error err = { 0 };

    memset(f, 0, sizeof(*f));
    ep_mem_install_json_allocator();
    test_engine_db_create(&f->tdb);
    f->dir = f->tdb.dir;
    f->db = f->tdb.url;
    f->cms = fake_cms_start();
    assert_non_null(f->cms);
    assert_int_equal(ep_config_init(&f->config), EP_OK);
    set(f, "db", f->db);
    set(f, "company_id", FIX_COMPANY_ID);
    set(f, "store_id", FIX_STORE_ID);
    set(f, "cms_url", fake_cms_url(f->cms));
    set(f, "cms_token", FIX_TOKEN);
    set(f, "request_timeout", "2");
    set(f, "connect_timeout", "2");
    assert_int_equal(store_open(f->db, NULL, &f->store, &err), EP_OK);
    assert_int_equal(store_migrate(f->store, 0, NULL, &err), EP_OK);
}

void fixture_teardown(struct fixture *f)
{
    store_close(f->store);
    fake_cms_stop(f->cms);
    ep_config_deinit(&f->config);
    test_engine_db_drop(&f->tdb);
}

void fixture_serve_full(struct fixture *f, const char *prefix, size_t first,
                        size_t count)
{
    size_t length = 0;
    char *body = fake_cms_make_full_body(FIX_STORE_ID, FIX_COMPANY_ID, prefix,
                                         first, count, &length);

    fake_cms_set_full(f->cms, body, length);
    free(body);
}

void fixture_serve_incremental(struct fixture *f, const char *text)
{
    fake_cms_set_incremental(f->cms, text, strlen(text));
}

char *fixture_dump(struct fixture *f)
{
    struct ep_arena arena;
    struct promo_record *rows = NULL;
    struct holiday_record *days = NULL;
    struct store_sync_state state;
    size_t n = 0;
    size_t d = 0;
    struct ep_buf out;
    struct ep_error err = { 0 };
    char *text;

    ep_arena_init(&arena, 1 << 20, (size_t)1 << 30);
    ep_buf_init(&out, (size_t)1 << 30);
    assert_int_equal(store_promotions_load(f->store, &arena, &rows, &n, &err),
                     EP_OK);
    assert_int_equal(store_holidays_load(f->store, &arena, &days, &d, &err),
                     EP_OK);
    assert_int_equal(store_sync_state_get(f->store, FIX_COMPANY_ID,
                                          FIX_STORE_ID, &arena, &state, &err),
                     EP_OK);
    for (size_t i = 0; i < n; i++) {
        struct store_usage_summary u;
        promo_record_write_json(&rows[i], &out);
        ep_buf_printf(&out, " current_uses=%lld synced_at=%s last_used=%s",
                      (long long)rows[i].current_uses, rows[i].synced_at,
                      rows[i].last_used_at ? rows[i].last_used_at : "-");
        assert_int_equal(store_usage_summary_get(f->store, rows[i].id,
                                                 "2026-01-30", "cust-1", &u,
                                                 &err),
                         EP_OK);
        ep_buf_printf(&out, " uses=%lld/%lld/%lld\n", (long long)u.current_uses,
                      (long long)u.local_uses, (long long)u.customer_uses);
    }
    for (size_t i = 0; i < d; i++)
        ep_buf_printf(&out, "holiday %s %s\n", days[i].date,
                      days[i].name ? days[i].name : "-");
    ep_buf_printf(&out, "cursor %s server_time %s version %lld\n",
                  state.cursor ? state.cursor : "-",
                  state.server_time ? state.server_time : "-",
                  (long long)state.data_version);
    text = strdup(out.data != NULL ? out.data : "");
    ep_buf_deinit(&out);
    ep_arena_deinit(&arena);
    return text;
}

enum ep_status fixture_sync(struct fixture *f, enum sync_kind kind,
                            struct sync_report *report)
{
    struct ep_error err = { 0 };

    return sync_run(f->store, &f->config, kind, NULL, report, &err);
}

size_t fixture_log_count(struct fixture *f)
{
    struct ep_arena arena;
    struct store_sync_log *rows = NULL;
    size_t n = 0;
    struct ep_error err = { 0 };

    ep_arena_init(&arena, 64 * 1024, (size_t)1 << 28);
    assert_int_equal(store_sync_log_recent(f->store, FIX_STORE_ID, 100000,
                                           &arena, &rows, &n, &err),
                     EP_OK);
    ep_arena_deinit(&arena);
    return n;
}

void fixture_log_last(struct fixture *f, struct ep_arena *arena,
                      struct store_sync_log *out)
{
    struct store_sync_log *rows = NULL;
    size_t n = 0;
    struct ep_error err = { 0 };

    assert_int_equal(store_sync_log_recent(f->store, FIX_STORE_ID, 1, arena,
                                           &rows, &n, &err),
                     EP_OK);
    assert_int_equal(n, 1);
    *out = rows[0];
}

void fixture_use(struct fixture *f, const char *promotion_id, const char *code,
                 const char *transaction_id, const char *customer_id)
{
    struct store_usage_row row;
    struct ep_error err = { 0 };

    memset(&row, 0, sizeof(row));
    row.promotion_id = promotion_id;
    row.promotion_code = code;
    row.transaction_id = transaction_id;
    row.customer_id = customer_id;
    row.discount_amount = 1000;
    row.original_amount = 10000;
    row.final_amount = 9000;
    row.brand_id = "4b4c6546-159b-4cd0-96d4-50a763ba12df";
    row.store_id = FIX_STORE_ID;
    row.used_at = "2026-01-30 05:00:00";
    row.usage_date = "2026-01-30";
    assert_int_equal(store_write_begin(f->store, &err), EP_OK);
    assert_int_equal(store_usage_insert(f->store, &row, &err), EP_OK);
    assert_int_equal(store_write_commit(f->store, &err), EP_OK);
}

char *fixture_promotion(const char *id, const char *code, int percent)
{
    char *text = malloc(2048);

    assert_non_null(text);
    snprintf(text, 2048,
             "{\"id\":\"%s\",\"code\":\"%s\",\"name\":\"Promo %s\","
             "\"company_id\":\"" FIX_COMPANY_ID "\",\"brand_id\":\"b1\","
             "\"store_id\":\"" FIX_STORE_ID "\",\"promo_type\":"
             "\"percent_discount\",\"apply_to\":\"all\",\"execution_stage\":"
             "\"item_level\",\"start_date\":\"2026-01-01\",\"end_date\":"
             "\"2026-12-31\",\"valid_days\":[],\"rules\":{\"type\":\"percent\","
             "\"discount_percent\":%d},\"scope\":{\"apply_to\":\"all\"},"
             "\"targeting\":{\"stores\":\"all\"},\"max_uses_per_customer\":2,"
             "\"current_uses\":0,\"compiled_at\":\"2026-01-29 22:55:10\"}",
             id, code, code, percent);
    return text;
}
