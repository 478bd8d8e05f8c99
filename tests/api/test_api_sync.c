/*
 * test_api_sync.c - the server with a CMS: the scheduler's first full sync
 * at start, POST /v1/sync asking for a run (202), its outcome in GET
 * /v1/sync/last and /metrics, and the snapshot following the synced data.
 * The CMS is the fake of tests/support, on 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "fake_cms.h"
#include "fixture.h"
#include "support.h"

static const char incremental[] =
    "{\"updated\":[{\"id\":\"p-inc\",\"code\":\"INC1\",\"name\":\"Inc\","
    "\"company_id\":\"C1\",\"brand_id\":\"B1\",\"store_id\":\"S1\","
    "\"promo_type\":\"percent_discount\",\"apply_to\":\"all\","
    "\"execution_stage\":\"item_level\",\"execution_priority\":500,"
    "\"is_active\":true,\"is_auto_apply\":false,"
    "\"start_date\":\"2026-01-01\",\"end_date\":\"2030-12-31\","
    "\"rules\":{\"type\":\"percent\",\"discount_percent\":5},"
    "\"scope\":{\"apply_to\":\"all\"},"
    "\"compiled_at\":\"2026-01-01 00:00:00\"}],\"deleted\":[],"
    "\"sync_token\":\"tok-2\"}";

/* Polls GET path until its JSON number at key reaches want (10 s). */
static long long wait_for(struct http_client *c, const char *path,
                          const char *key, long long want)
{
    struct http_reply r;
    long long value = -1;

    for (int i = 0; i < 200 && value < want; i++) {
        http_get(c, path, &r);
        if (r.status == 200)
            value = reply_int(&r, key);
        http_reply_free(&r);
        if (value < want)
            usleep(50 * 1000);
    }
    return value;
}

static void test_sync_through_the_scheduler(void **state)
{
    struct fake_cms *cms = fake_cms_start();
    struct api_fixture f;
    struct http_client client;
    struct http_reply r;
    const char *extra[] = { "cms_url", NULL, NULL };
    struct api_options options = { .reload_interval_ms = 100 };
    char path[1024];
    char *full;
    size_t len = 0;

    (void)state;
    assert_non_null(cms);
    test_source_path(FIXTURE_SYNC, path, sizeof(path));
    full = test_read_file(path, &len);
    fake_cms_set_full(cms, full, len);
    fake_cms_set_incremental(cms, incremental, strlen(incremental));
    extra[1] = fake_cms_url(cms);
    fixture_start_with(&f, &options, extra);
    http_client_init(&client, f.url);
    /* The scheduler starts with a full sync. */
    assert_true(wait_for(&client, "/v1/sync/stats", "syncs.total", 1) >= 1);
    http_post(&client, "/v1/sync", "{\"type\":\"incremental\"}", &r);
    assert_int_equal(r.status, 202);
    assert_true(json_is_true(json_object_get(r.json, "accepted")));
    http_reply_free(&r);
    assert_true(wait_for(&client, "/v1/sync/stats", "syncs.total", 2) >= 2);
    http_get(&client, "/v1/sync/last", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(reply_string(&r, "last.sync_type"), "incremental");
    assert_string_equal(reply_string(&r, "state.cursor"), "tok-2");
    http_reply_free(&r);
    /* The snapshot follows: the promotion the increment added is served. */
    assert_true(wait_for(&client, "/v1/promotions", "count", 6) == 6);
    http_send(&client, "GET", "/metrics", NULL, NULL, NULL, 0, &r);
    assert_non_null(strstr(r.body, "edgepromo_sync_runs_total{status="
                                   "\"success\"} 2\n"));
    assert_non_null(strstr(r.body, "edgepromo_sync_failures_in_row 0\n"));
    assert_non_null(strstr(r.body, "edgepromo_sync_next_run_seconds "));
    http_reply_free(&r);
    http_client_deinit(&client);
    fixture_stop(&f);
    fake_cms_stop(cms);
    free(full);
}

static void test_sync_without_a_cms_is_503(void **state)
{
    struct api_fixture f;
    struct http_client client;
    struct http_reply r;
    char before[512];
    char after[512];

    (void)state;
    fixture_start(&f, NULL);
    http_client_init(&client, f.url);
    db_fingerprint(f.db, before, sizeof(before));
    http_post(&client, "/v1/sync", "{\"type\":\"full\"}", &r);
    expect_error(&r, 503, "unavailable");
    http_reply_free(&r);
    http_send(&client, "POST", "/v1/sync", FIXTURE_TOKEN, NULL, NULL, 0, &r);
    expect_error(&r, 503, "unavailable");
    http_reply_free(&r);
    db_fingerprint(f.db, after, sizeof(after));
    assert_string_equal(before, after);
    http_client_deinit(&client);
    fixture_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_through_the_scheduler),
        cmocka_unit_test(test_sync_without_a_cms_is_503),
    };

    ep_mem_install_json_allocator();
    ep_tz_apply("Asia/Jakarta", NULL);
    ep_log_set_level(EP_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
