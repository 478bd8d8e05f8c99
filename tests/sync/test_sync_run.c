/*
 * test_sync_run.c - sync runs over real HTTP on 127.0.0.1 against the fake
 * CMS: full and incremental syncs, fallbacks, skipped promotions, every
 * failure mode (each leaves promotions and usage exactly as they were, and
 * is logged), usage history across full syncs, file import, and the seed
 * note's "last sync" and "success rate" queries. Every test runs on SQLite
 * and on PostgreSQL (engines.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "fixture.h"
#include "support.h"

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    fixture_setup(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_teardown(*state);
    free(*state);
    return 0;
}

static size_t promotion_count(struct fixture *f)
{
    struct ep_arena arena;
    struct promo_record *rows = NULL;
    size_t n = 0;
    struct ep_error err = { 0 };

    ep_arena_init(&arena, 1 << 20, (size_t)1 << 30);
    assert_int_equal(store_promotions_load(f->store, &arena, &rows, &n, &err),
                     EP_OK);
    ep_arena_deinit(&arena);
    return n;
}

static void full_sync_stores_and_logs(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    struct fake_cms_request req;
    struct store_sync_log row;
    struct store_sync_state st;
    struct ep_arena arena;
    struct ep_error err = { 0 };

    fixture_serve_full(f, "A", 0, 50);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    assert_int_equal(r.outcome, SYNC_SUCCESS);
    assert_int_equal(r.received, 50);
    assert_int_equal(r.added, 50);
    assert_int_equal(r.updated, 0);
    assert_int_equal(r.http_status, 200);
    assert_string_equal(r.cms_version, "fake-1.0");
    sync_report_deinit(&r);
    assert_int_equal(promotion_count(f), 50);
    assert_true(fake_cms_request_get(f->cms, 0, &req));
    assert_string_equal(req.path, "/api/v1/sync/promotions/");
    assert_string_equal(req.authorization, "Bearer " FIX_TOKEN);
    assert_non_null(strstr(req.body, "\"company_id\": \"" FIX_COMPANY_ID));
    assert_non_null(strstr(req.body, "\"store_id\": \"" FIX_STORE_ID));
    assert_null(strstr(req.body, "last_sync"));
    ep_arena_init(&arena, 65536, 1 << 24);
    fixture_log_last(f, &arena, &row);
    assert_string_equal(row.sync_type, "full");
    assert_string_equal(row.sync_status, "success");
    assert_int_equal(row.received, 50);
    assert_int_equal(row.added, 50);
    assert_string_equal(row.cms_version, "fake-1.0");
    assert_string_equal(row.edge_version, EP_VERSION);
    assert_null(row.error_message);
    assert_int_equal(store_sync_state_get(f->store, FIX_COMPANY_ID,
                                          FIX_STORE_ID, &arena, &st, &err),
                     EP_OK);
    assert_string_equal(st.cursor, "A-0-50");
    ep_arena_deinit(&arena);

    /* The next full sync: 25 kept, 25 new, 25 gone. */
    fixture_serve_full(f, "A", 25, 50);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    assert_int_equal(r.added, 25);
    assert_int_equal(r.updated, 25);
    assert_int_equal(r.deleted, 25);
    sync_report_deinit(&r);
    assert_int_equal(promotion_count(f), 50);
    assert_int_equal(fixture_log_count(f), 2);
}

static void incremental_sends_cursor_and_applies(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    struct fake_cms_request req;
    char *changed = fixture_promotion("A-000001", "ACHANGED", 30);
    char *added = fixture_promotion("NEW-1", "NEW1", 15);
    char body[8192];

    fixture_serve_full(f, "A", 0, 10);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    sync_report_deinit(&r);
    snprintf(body, sizeof(body),
             "{\"updated\": [%s, %s], \"deleted\": [\"A-000002\"], "
             "\"sync_token\": \"t2\", \"server_time\": "
             "\"2026-01-30T07:00:00+07:00\"}",
             changed, added);
    fixture_serve_incremental(f, body);
    assert_int_equal(fixture_sync(f, SYNC_INCREMENTAL, &r), EP_OK);
    assert_int_equal(r.kind, SYNC_INCREMENTAL);
    assert_string_equal(r.fallback, "");
    assert_int_equal(r.received, 2);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.updated, 1);
    assert_int_equal(r.deleted, 1);
    sync_report_deinit(&r);
    assert_true(fake_cms_request_get(f->cms, 1, &req));
    assert_string_equal(req.path, "/api/v1/sync/promotions/incremental/");
    assert_non_null(strstr(req.body, "\"last_sync\": \"A-0-10\""));
    assert_int_equal(promotion_count(f), 10);
    /* The next incremental asks from the new cursor. */
    assert_int_equal(fixture_sync(f, SYNC_INCREMENTAL, &r), EP_OK);
    sync_report_deinit(&r);
    assert_true(fake_cms_request_get(f->cms, 2, &req));
    assert_non_null(strstr(req.body, "\"last_sync\": \"t2\""));
    free(changed);
    free(added);
}

static void incremental_without_cursor_runs_full(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    struct fake_cms_request req;
    struct store_sync_log row;
    struct ep_arena arena;

    fixture_serve_full(f, "A", 0, 5);
    assert_int_equal(fixture_sync(f, SYNC_INCREMENTAL, &r), EP_OK);
    assert_int_equal(r.requested, SYNC_INCREMENTAL);
    assert_int_equal(r.kind, SYNC_FULL);
    assert_string_equal(r.fallback, "no sync cursor saved yet");
    assert_int_equal(r.added, 5);
    sync_report_deinit(&r);
    assert_int_equal(fake_cms_request_count(f->cms), 1);
    assert_true(fake_cms_request_get(f->cms, 0, &req));
    assert_string_equal(req.path, "/api/v1/sync/promotions/");
    ep_arena_init(&arena, 65536, 1 << 24);
    fixture_log_last(f, &arena, &row);
    assert_string_equal(row.sync_type, "full");
    assert_string_equal(row.sync_status, "success");
    assert_non_null(strstr(row.error_message, "incremental sync ran as full"));
    ep_arena_deinit(&arena);
}

static void gone_falls_back_to_full(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    struct fake_cms_request req;

    fixture_serve_full(f, "A", 0, 5);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    sync_report_deinit(&r);
    fixture_serve_full(f, "A", 2, 5);
    fake_cms_set_mode(f->cms, FAKE_CMS_GONE_INCREMENTAL, 0);
    assert_int_equal(fixture_sync(f, SYNC_INCREMENTAL, &r), EP_OK);
    assert_int_equal(r.kind, SYNC_FULL);
    assert_non_null(strstr(r.fallback, "410"));
    assert_int_equal(r.outcome, SYNC_SUCCESS);
    assert_int_equal(r.added, 2);
    assert_int_equal(r.deleted, 2);
    sync_report_deinit(&r);
    assert_int_equal(fake_cms_request_count(f->cms), 3);
    assert_true(fake_cms_request_get(f->cms, 1, &req));
    assert_string_equal(req.path, "/api/v1/sync/promotions/incremental/");
    assert_true(fake_cms_request_get(f->cms, 2, &req));
    assert_string_equal(req.path, "/api/v1/sync/promotions/");
    assert_int_equal(fixture_log_count(f), 2);
}

/* Finds the error_details entry of id; returns its field and reason. */
static bool detail_of(const char *details, const char *id, char *field,
                      char *reason)
{
    json_t *list = json_loads(details, 0, NULL);
    bool found = false;

    assert_true(json_is_array(list));
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *eid = json_string_value(json_object_get(e, "id"));
        if (eid == NULL || strcmp(eid, id) != 0 || found)
            continue;
        found = true;
        snprintf(field, 64, "%s",
                 json_string_value(json_object_get(e, "field"))
                     ? json_string_value(json_object_get(e, "field"))
                     : "");
        snprintf(reason, 256, "%s",
                 json_string_value(json_object_get(e, "reason")));
    }
    json_decref(list);
    return found;
}

static void invalid_promotions_make_a_partial_run(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    char *good = fixture_promotion("G-1", "GOOD1", 10);
    char *zero = fixture_promotion("BAD-PERCENT", "BADP", 0);
    char *dup_id = fixture_promotion("G-1", "OTHERCODE", 10);
    char *dup_code = fixture_promotion("G-2", "GOOD1", 10);
    char body[16384];
    char field[64];
    char reason[256];
    struct store_sync_log row;
    struct ep_arena arena;

    snprintf(body, sizeof(body),
             "{\"" FIX_STORE_ID "\": {\"promotions\": [%s, %s, %s, %s, "
             "{\"id\": \"NO-CODE\", \"rules\": 5}, 17], \"holidays\": "
             "[{\"date\": \"2026-13-01\", \"name\": \"bad\"}, {\"date\": "
             "\"2026-08-17\", \"name\": \"Merdeka\"}]}}",
             good, zero, dup_id, dup_code);
    fake_cms_set_full(f->cms, body, strlen(body));
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    assert_int_equal(r.outcome, SYNC_PARTIAL);
    assert_int_equal(r.received, 6);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.skipped, 5);
    assert_non_null(r.error_details);
    assert_true(detail_of(r.error_details, "BAD-PERCENT", field, reason));
    assert_string_equal(field, "rules.discount_percent");
    assert_null(strstr(reason, "promotion BAD-PERCENT: "));
    assert_true(detail_of(r.error_details, "G-1", field, reason));
    assert_string_equal(field, "id");
    assert_true(detail_of(r.error_details, "G-2", field, reason));
    assert_string_equal(field, "code");
    assert_non_null(strstr(reason, "G-1"));
    assert_true(detail_of(r.error_details, "NO-CODE", field, reason));
    assert_true(strcmp(field, "code") == 0 || strcmp(field, "rules") == 0);
    assert_non_null(strstr(r.error_details, "holidays[0].date"));
    ep_arena_init(&arena, 65536, 1 << 24);
    fixture_log_last(f, &arena, &row);
    assert_string_equal(row.sync_status, "partial");
    assert_int_equal(row.skipped, 5);
    assert_string_equal(row.error_details, r.error_details);
    assert_non_null(strstr(row.error_message, "5 promotions"));
    ep_arena_deinit(&arena);
    sync_report_deinit(&r);
    assert_int_equal(promotion_count(f), 1);
    free(good);
    free(zero);
    free(dup_id);
    free(dup_code);
}

static void code_taken_by_a_stored_promotion_is_skipped(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    char *thief = fixture_promotion("NEW-1", "AC000001", 10);
    char *fine = fixture_promotion("NEW-2", "FINE", 10);
    char body[8192];
    char field[64];
    char reason[256];

    fixture_serve_full(f, "A", 0, 5);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    sync_report_deinit(&r);
    snprintf(body, sizeof(body), "{\"updated\": [%s, %s], \"deleted\": []}",
             thief, fine);
    fixture_serve_incremental(f, body);
    assert_int_equal(fixture_sync(f, SYNC_INCREMENTAL, &r), EP_OK);
    assert_int_equal(r.outcome, SYNC_PARTIAL);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.skipped, 1);
    assert_true(detail_of(r.error_details, "NEW-1", field, reason));
    assert_string_equal(field, "code");
    sync_report_deinit(&r);
    assert_int_equal(promotion_count(f), 6);
    free(thief);
    free(fine);
}

/* One failure: nothing changes, one failed log row with the cause. */
static void expect_failure(struct fixture *f, enum sync_kind kind,
                           enum ep_status expected, enum sync_retry retry,
                           const char *cause)
{
    char *before = fixture_dump(f);
    size_t rows = fixture_log_count(f);
    struct sync_report r;
    struct store_sync_log row;
    struct ep_arena arena;
    char *after;

    assert_int_equal(fixture_sync(f, kind, &r), expected);
    assert_int_equal(r.outcome, SYNC_FAILED);
    assert_int_equal(r.retry, retry);
    if (strstr(r.message, cause) == NULL)
        fail_msg("message '%s' lacks '%s'", r.message, cause);
    sync_report_deinit(&r);
    after = fixture_dump(f);
    assert_string_equal(before, after);
    assert_int_equal(fixture_log_count(f), rows + 1);
    ep_arena_init(&arena, 65536, 1 << 24);
    fixture_log_last(f, &arena, &row);
    assert_string_equal(row.sync_status, "failed");
    assert_non_null(strstr(row.error_message, cause));
    assert_int_equal(row.added + row.updated + row.deleted, 0);
    ep_arena_deinit(&arena);
    free(before);
    free(after);
}

static void failures_change_nothing_and_are_logged(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    const char *wrong_store = "{\"another-store\": {\"promotions\": []}}";
    const char *not_array =
        "{\"" FIX_STORE_ID "\": {\"promotions\": {\"id\": \"x\"}}}";
    char *incremental = fixture_promotion("A-000001", "X", 50);
    char body[4096];

    fixture_serve_full(f, "A", 0, 20);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    sync_report_deinit(&r);
    fixture_use(f, "A-000003", "AC000003", "txn-1", "cust-1");
    fixture_use(f, "A-000003", "AC000003", "txn-2", "cust-2");
    fixture_serve_full(f, "B", 0, 30);
    snprintf(body, sizeof(body),
             "{\"updated\": [%s], \"deleted\": "
             "[\"A-000002\"]}",
             incremental);
    fixture_serve_incremental(f, body);

    fake_cms_set_mode(f->cms, FAKE_CMS_STATUS, 500);
    expect_failure(f, SYNC_FULL, EP_ERR_CMS, SYNC_RETRY_BACKOFF,
                   "CMS answered HTTP 500");
    expect_failure(f, SYNC_INCREMENTAL, EP_ERR_CMS, SYNC_RETRY_BACKOFF,
                   "CMS answered HTTP 500");
    fake_cms_set_mode(f->cms, FAKE_CMS_STATUS, 429);
    expect_failure(f, SYNC_FULL, EP_ERR_CMS, SYNC_RETRY_BACKOFF, "HTTP 429");
    fake_cms_set_mode(f->cms, FAKE_CMS_STATUS, 401);
    expect_failure(f, SYNC_FULL, EP_ERR_CMS, SYNC_RETRY_LATER, "HTTP 401");
    fake_cms_set_mode(f->cms, FAKE_CMS_STATUS, 404);
    expect_failure(f, SYNC_INCREMENTAL, EP_ERR_CMS, SYNC_RETRY_LATER,
                   "HTTP 404");
    fake_cms_set_mode(f->cms, FAKE_CMS_HANG, 0);
    expect_failure(f, SYNC_FULL, EP_ERR_TIMEOUT, SYNC_RETRY_BACKOFF,
                   "timed out after 2 s");
    fake_cms_set_mode(f->cms, FAKE_CMS_CLOSE, 0);
    expect_failure(f, SYNC_FULL, EP_ERR_NETWORK, SYNC_RETRY_BACKOFF,
                   "connection closed after");
    fake_cms_set_mode(f->cms, FAKE_CMS_MALFORMED, 0);
    expect_failure(f, SYNC_FULL, EP_ERR_INVALID, SYNC_RETRY_BACKOFF,
                   "not valid JSON");
    expect_failure(f, SYNC_INCREMENTAL, EP_ERR_INVALID, SYNC_RETRY_BACKOFF,
                   "line 3");
    fake_cms_set_mode(f->cms, FAKE_CMS_OK, 0);
    fake_cms_set_full(f->cms, wrong_store, strlen(wrong_store));
    expect_failure(f, SYNC_FULL, EP_ERR_INVALID, SYNC_RETRY_BACKOFF,
                   "no object for store " FIX_STORE_ID);
    fake_cms_set_full(f->cms, not_array, strlen(not_array));
    expect_failure(f, SYNC_FULL, EP_ERR_INVALID, SYNC_RETRY_BACKOFF,
                   "promotions: expected an array");
    fixture_serve_incremental(f, "{\"updated\": [], \"deleted\": [5]}");
    expect_failure(f, SYNC_INCREMENTAL, EP_ERR_INVALID, SYNC_RETRY_BACKOFF,
                   "deleted");
    fake_cms_stop(f->cms);
    f->cms = fake_cms_start();
    assert_non_null(f->cms);
    fake_cms_stop(f->cms);
    f->cms = NULL;
    expect_failure(f, SYNC_FULL, EP_ERR_NETWORK, SYNC_RETRY_BACKOFF,
                   "cannot reach the CMS");
    free(incremental);
}

static void usage_survives_full_syncs(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    struct store_usage_counts c;
    struct store_usage_summary s;
    struct ep_error err = { 0 };

    fixture_serve_full(f, "A", 0, 10);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    sync_report_deinit(&r);
    fixture_use(f, "A-000005", "AC000005", "t1", "cust-1");
    fixture_use(f, "A-000005", "AC000005", "t2", "cust-1");
    fixture_use(f, "A-000005", "AC000005", "t3", "cust-2");
    /* The same set again: every row replaced, the uses kept. */
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    assert_int_equal(r.updated, 10);
    sync_report_deinit(&r);
    assert_int_equal(store_usage_counts_get(f->store, "A-000005", "2026-01-30",
                                            "cust-1", &c, &err),
                     EP_OK);
    assert_int_equal(c.total, 3);
    assert_int_equal(c.day, 3);
    assert_int_equal(c.customer, 2);
    /* Deleted by the CMS: the history stays. */
    fixture_serve_full(f, "A", 6, 4);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    assert_int_equal(r.deleted, 6);
    sync_report_deinit(&r);
    assert_int_equal(store_usage_summary_get(f->store, "A-000005", "2026-01-30",
                                             "cust-1", &s, &err),
                     EP_OK);
    assert_false(s.promotion_known);
    assert_int_equal(s.local_uses, 3);
    assert_int_equal(s.customer_uses, 2);
    /* Sent again: it remembers its per-customer uses. */
    fixture_serve_full(f, "A", 0, 10);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK);
    assert_int_equal(r.added, 6);
    sync_report_deinit(&r);
    assert_int_equal(store_usage_counts_get(f->store, "A-000005", "2026-01-30",
                                            "cust-1", &c, &err),
                     EP_OK);
    assert_int_equal(c.total, 3);
    assert_int_equal(c.customer, 2);
}

static void file_import_is_logged_manual(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    struct store_sync_log row;
    struct ep_arena arena;
    struct ep_error err = { 0 };
    char path[400];
    size_t length = 0;
    char *body = fake_cms_make_full_body(FIX_STORE_ID, FIX_COMPANY_ID, "F", 0,
                                         7, &length);
    char *before;
    char *after;

    snprintf(path, sizeof(path), "%s/export.json", f->dir);
    assert_true(test_write_file(path, body));
    free(body);
    assert_int_equal(
        sync_import_file(f->store, &f->config, path, NULL, &r, &err), EP_OK);
    assert_int_equal(r.added, 7);
    sync_report_deinit(&r);
    ep_arena_init(&arena, 65536, 1 << 24);
    fixture_log_last(f, &arena, &row);
    assert_string_equal(row.sync_type, "manual");
    assert_string_equal(row.sync_status, "success");
    ep_arena_deinit(&arena);
    assert_int_equal(fake_cms_request_count(f->cms), 0);
    before = fixture_dump(f);
    snprintf(path, sizeof(path), "%s/missing.json", f->dir);
    ep_error_clear(&err);
    assert_int_equal(
        sync_import_file(f->store, &f->config, path, NULL, &r, &err),
        EP_ERR_INVALID);
    assert_non_null(strstr(err.message, "missing.json"));
    sync_report_deinit(&r);
    snprintf(path, sizeof(path), "%s/bad.json", f->dir);
    assert_true(test_write_file(path, "{\"x\": [1, 2,\n\n ]}"));
    ep_error_clear(&err);
    assert_int_equal(
        sync_import_file(f->store, &f->config, path, NULL, &r, &err),
        EP_ERR_INVALID);
    assert_non_null(strstr(err.message, "line 3"));
    sync_report_deinit(&r);
    after = fixture_dump(f);
    assert_string_equal(before, after);
    ep_arena_init(&arena, 65536, 1 << 24);
    fixture_log_last(f, &arena, &row);
    assert_string_equal(row.sync_type, "manual");
    assert_string_equal(row.sync_status, "failed");
    ep_arena_deinit(&arena);
    assert_int_equal(fixture_log_count(f), 3);
    free(before);
    free(after);
}

/* seed_query on SQLite: the text unchanged, store_id bound to ?. */
static void seed_query_sqlite(const char *db, const char *sql, char cells[][64],
                              int columns)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;

    assert_int_equal(sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_text(stmt, 1, FIX_STORE_ID, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    for (int i = 0; i < columns; i++) {
        const unsigned char *t = sqlite3_column_text(stmt, i);
        snprintf(cells[i], 64, "%s", t != NULL ? (const char *)t : "NULL");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
}

/* seed_query on PostgreSQL: the same, with $1 for the ?. */
static void seed_query_postgres(const char *db, const char *sql,
                                char cells[][64], int columns)
{
    PGconn *conn = PQconnectdb(db);
    const char *params[1] = { FIX_STORE_ID };
    char text[1024];
    PGresult *res;
    const char *mark = strchr(sql, '?');

    assert_non_null(mark);
    snprintf(text, sizeof(text), "%.*s$1%s", (int)(mark - sql), sql, mark + 1);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    res = PQexecParams(conn, text, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", text, PQerrorMessage(conn));
    assert_true(PQntuples(res) >= 1);
    for (int i = 0; i < columns; i++)
        snprintf(cells[i], 64, "%s",
                 PQgetisnull(res, 0, i) ? "NULL" : PQgetvalue(res, 0, i));
    PQclear(res);
    PQfinish(conn);
}

/*
 * Runs one of the seed's queries with store_id bound; one row expected.
 * The text has one "?" and, for the parts SQLite and PostgreSQL say
 * differently, the SQLite form in sqlite_sql and the other in pg_sql.
 */
static void seed_query(struct fixture *f, const char *sqlite_sql,
                       const char *pg_sql, char cells[][64], int columns)
{
    if (test_engine_current() == TEST_ENGINE_POSTGRES)
        seed_query_postgres(f->db, pg_sql, cells, columns);
    else
        seed_query_sqlite(f->db, sqlite_sql, cells, columns);
}

#define LAST_SYNC                                             \
    "SELECT *\nFROM promotion_sync_log\nWHERE store_id = ?\n" \
    "ORDER BY started_at DESC\nLIMIT 1;"
#define SUCCESS_RATE                                              \
    "SELECT \n    COUNT(*) as total_syncs,\n    SUM(CASE WHEN "   \
    "sync_status = 'success' THEN 1 ELSE 0 END) as successful,\n" \
    "    AVG(duration_seconds) as avg_duration\nFROM "            \
    "promotion_sync_log\nWHERE store_id = ?\n  AND started_at >= "

static void seed_queries_answer_after_a_series(void **state)
{
    struct fixture *f = *state;
    struct sync_report r;
    char cells[8][64];
    char *bad = fixture_promotion("BAD", "BAD", 0);
    char body[4096];

    fixture_serve_full(f, "A", 0, 3);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK); /* success */
    sync_report_deinit(&r);
    snprintf(body, sizeof(body), "{\"updated\": [%s]}", bad);
    fixture_serve_incremental(f, body);
    assert_int_equal(fixture_sync(f, SYNC_INCREMENTAL, &r), EP_OK); /* part */
    sync_report_deinit(&r);
    fake_cms_set_mode(f->cms, FAKE_CMS_STATUS, 503);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_ERR_CMS); /* failed */
    sync_report_deinit(&r);
    fake_cms_set_mode(f->cms, FAKE_CMS_OK, 0);
    fixture_serve_full(f, "A", 0, 4);
    /* The note's query orders by started_at alone (milliseconds here): a
       run starting in the millisecond the last one ended would tie. */
    usleep(5 * 1000);
    assert_int_equal(fixture_sync(f, SYNC_FULL, &r), EP_OK); /* success */
    sync_report_deinit(&r);
    /* The note's "Get last sync info", unchanged. */
    seed_query(f, LAST_SYNC, LAST_SYNC, cells, 5);
    assert_string_equal(cells[1], "full");
    assert_string_equal(cells[2], "success");
    assert_string_equal(cells[3], "4");
    assert_string_equal(cells[4], "1");
    /* The note's "Get sync success rate", unchanged on SQLite; PostgreSQL
       says DATE('now', '-7 days') as CURRENT_DATE - 7. */
    seed_query(f, SUCCESS_RATE "DATE('now', '-7 days');",
               SUCCESS_RATE "CURRENT_DATE - 7;", cells, 3);
    assert_string_equal(cells[0], "4");
    assert_string_equal(cells[1], "2");
    assert_true(strtod(cells[2], NULL) == 0.0);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_sync_stores_and_logs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(incremental_sends_cursor_and_applies,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(incremental_without_cursor_runs_full,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(gone_falls_back_to_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_promotions_make_a_partial_run,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            code_taken_by_a_stored_promotion_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_change_nothing_and_are_logged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(usage_survives_full_syncs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(file_import_is_logged_manual, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(seed_queries_answer_after_a_series,
                                        setup, teardown),
    };

    return test_engines_run("test-sync-run", tests,
                            sizeof(tests) / sizeof(tests[0]));
}
