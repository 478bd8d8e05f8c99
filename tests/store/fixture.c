/* fixture.c - engines, databases and records for the store tests. */
#define _GNU_SOURCE
#include "fixture.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* The PostgreSQL run: one database per program, one schema per test. */
static struct {
    const char *admin_url; /* EDGEPROMO_TEST_PG_URL */
    char db_name[64];      /* the run's database */
    char db_url[1024];     /* a URL of that database */
    PGconn *conn;          /* raw SQL on that database */
    int next_schema;       /* numbers the tests' schemas */
} pg;

static enum test_engine current_engine;
/* Set when a group setup finished: cmocka counts no failure for a group
   whose setup failed, so fixture_run does. */
static bool group_started;

bool fixture_is_postgres(const struct test_db *db)
{
    return db->engine == TEST_POSTGRES;
}

/* ---- URLs ------------------------------------------------------------- */

/*
 * Writes base with its database replaced by db_name and, when schema is
 * given, options=-csearch_path=schema added to its parameters.
 */
static void url_with(const char *base, const char *db_name, const char *schema,
                     char *out, size_t size)
{
    const char *authority = strstr(base, "://");
    const char *path;
    const char *query;
    size_t head;

    authority = authority != NULL ? authority + 3 : base;
    query = strchr(authority, '?');
    path = strchr(authority, '/');
    if (path == NULL || (query != NULL && path > query))
        path = query != NULL ? query : authority + strlen(authority);
    head = (size_t)(path - base);
    snprintf(out, size, "%.*s/%s%s%s%s%s", (int)head, base, db_name,
             query != NULL || schema != NULL ? "?" : "",
             query != NULL ? query + 1 : "",
             query != NULL && schema != NULL ? "&" : "",
             schema != NULL ? "options=-csearch_path%3D" : "");
    if (schema != NULL)
        strncat(out, schema, size - strlen(out) - 1);
}

/* ---- PostgreSQL run --------------------------------------------------- */

static PGconn *pg_connect(const char *url)
{
    PGconn *conn = PQconnectdb(url);

    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "fixture: cannot connect to %s: %s\n", url,
                PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    return conn;
}

static bool pg_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "fixture: %s: %s\n", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

static int pg_run_start(void **state)
{
    PGconn *admin = pg_connect(pg.admin_url);
    char sql[160];

    (void)state;
    if (admin == NULL)
        return -1;
    snprintf(pg.db_name, sizeof(pg.db_name), "ep_store_test_%d_%lx",
             (int)getpid(), (unsigned long)random());
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg.db_name);
    if (!pg_ok(admin, sql)) {
        PQfinish(admin);
        return -1;
    }
    PQfinish(admin);
    url_with(pg.admin_url, pg.db_name, NULL, pg.db_url, sizeof(pg.db_url));
    pg.conn = pg_connect(pg.db_url);
    current_engine = TEST_POSTGRES;
    group_started = pg.conn != NULL;
    return pg.conn != NULL ? 0 : -1;
}

static int pg_run_end(void **state)
{
    PGconn *admin;
    char sql[160];

    (void)state;
    PQfinish(pg.conn);
    pg.conn = NULL;
    admin = pg_connect(pg.admin_url);
    if (admin == NULL)
        return -1;
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
             pg.db_name);
    pg_ok(admin, sql);
    PQfinish(admin);
    return 0;
}

static int sqlite_run_start(void **state)
{
    (void)state;
    current_engine = TEST_SQLITE;
    group_started = true;
    return 0;
}

int fixture_run(const char *name, const struct CMUnitTest *tests, size_t count)
{
    char group[128];
    int failures;

    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    snprintf(group, sizeof(group), "%s [sqlite]", name);
    group_started = false;
    failures =
        _cmocka_run_group_tests(group, tests, count, sqlite_run_start, NULL);
    failures += group_started ? 0 : 1;
    pg.admin_url = getenv("EDGEPROMO_TEST_PG_URL");
    if (pg.admin_url == NULL || pg.admin_url[0] == '\0') {
        fprintf(stderr,
                "%s: EDGEPROMO_TEST_PG_URL is not set: "
                "PostgreSQL not tested\n",
                name);
        return failures;
    }
    snprintf(group, sizeof(group), "%s [postgresql]", name);
    group_started = false;
    failures +=
        _cmocka_run_group_tests(group, tests, count, pg_run_start, pg_run_end);
    failures += group_started ? 0 : 1;
    return failures;
}

/* ---- per test --------------------------------------------------------- */

static struct test_db *db_new(void)
{
    struct test_db *db = calloc(1, sizeof(*db));
    char sql[160];

    assert_non_null(db);
    db->engine = current_engine;
    if (db->engine == TEST_SQLITE) {
        test_tmpdir(db->dir, sizeof(db->dir));
        snprintf(db->path, sizeof(db->path), "%s/edge.db", db->dir);
        snprintf(db->url, sizeof(db->url), "%s", db->path);
        return db;
    }
    snprintf(db->schema, sizeof(db->schema), "t%d", ++pg.next_schema);
    snprintf(sql, sizeof(sql),
             "DROP SCHEMA IF EXISTS %s CASCADE; "
             "CREATE SCHEMA %s; SET search_path = %s",
             db->schema, db->schema, db->schema);
    assert_true(pg_ok(pg.conn, sql));
    url_with(pg.admin_url, pg.db_name, db->schema, db->url, sizeof(db->url));
    return db;
}

static int setup(void **state, bool migrate)
{
    struct test_db *db = db_new();
    struct ep_error err;
    int applied = 0;

    ep_error_clear(&err);
    *state = db;
    db->store = fixture_open(db, NULL);
    if (migrate) {
        assert_int_equal(store_migrate(db->store, 0, &applied, &err), EP_OK);
        assert_int_equal(applied, store_schema_latest());
    }
    return 0;
}

int fixture_setup(void **state)
{
    return setup(state, true);
}

int fixture_setup_empty(void **state)
{
    return setup(state, false);
}

int fixture_teardown(void **state)
{
    struct test_db *db = *state;
    char sql[160];

    if (db == NULL)
        return 0;
    store_close(db->store);
    if (db->engine == TEST_SQLITE) {
        test_rmdir(db->dir);
    } else {
        snprintf(sql, sizeof(sql),
                 "SET search_path = public; "
                 "DROP SCHEMA IF EXISTS %s CASCADE",
                 db->schema);
        pg_ok(pg.conn, sql);
    }
    free(db);
    *state = NULL;
    return 0;
}

struct store *fixture_open(const struct test_db *db,
                           const struct store_options *options)
{
    struct store *store = NULL;
    struct ep_error err;

    ep_error_clear(&err);
    if (store_open(db->url, options, &store, &err) != EP_OK)
        fail_msg("store_open(%s): %s", db->url, err.message);
    assert_string_equal(store_engine_name(store),
                        db->engine == TEST_SQLITE ? "sqlite" : "postgresql");
    return store;
}

/* ---- raw SQL ---------------------------------------------------------- */

static void pg_use_schema(const struct test_db *db)
{
    char sql[96];

    snprintf(sql, sizeof(sql), "SET search_path = %s", db->schema);
    assert_true(pg_ok(pg.conn, sql));
}

int fixture_try_exec(const struct test_db *db, const char *sql)
{
    sqlite3 *conn = NULL;
    char *message = NULL;
    PGresult *res;
    int rc;

    if (db->engine == TEST_POSTGRES) {
        pg_use_schema(db);
        res = PQexec(pg.conn, sql);
        rc = PQresultStatus(res) == PGRES_COMMAND_OK ||
                     PQresultStatus(res) == PGRES_TUPLES_OK
                 ? 0
                 : 1;
        PQclear(res);
        return rc;
    }
    assert_int_equal(sqlite3_open(db->path, &conn), SQLITE_OK);
    sqlite3_busy_timeout(conn, 5000);
    rc = sqlite3_exec(conn, sql, NULL, NULL, &message);
    sqlite3_free(message);
    sqlite3_close(conn);
    return rc;
}

void fixture_exec(const struct test_db *db, const char *sql)
{
    if (fixture_try_exec(db, sql) == 0)
        return;
    if (db->engine == TEST_POSTGRES)
        fail_msg("SQL failed: %s: %s", sql, PQerrorMessage(pg.conn));
    fail_msg("SQL failed: %s", sql);
}

static char *pg_text(const struct test_db *db, const char *sql)
{
    PGresult *res;
    char *text = NULL;

    pg_use_schema(db);
    res = PQexec(pg.conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("query failed: %s: %s", sql, PQerrorMessage(pg.conn));
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        text = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return text;
}

static char *sqlite_text(const struct test_db *db, const char *sql)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    char *text = NULL;
    int rc;

    assert_int_equal(sqlite3_open(db->path, &conn), SQLITE_OK);
    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("query failed: %s: %s", sql, sqlite3_errmsg(conn));
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        text = strdup((const char *)sqlite3_column_text(stmt, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail_msg("query failed: %s: %s", sql, sqlite3_errmsg(conn));
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return text;
}

char *fixture_text(const struct test_db *db, const char *sql)
{
    if (db->engine == TEST_POSTGRES)
        return pg_text(db, sql);
    return sqlite_text(db, sql);
}

/* Appends text to a malloc'd string. */
static void append(char **out, size_t *len, const char *text)
{
    size_t n = strlen(text);
    char *grown = realloc(*out, *len + n + 1);

    assert_non_null(grown);
    memcpy(grown + *len, text, n + 1);
    *out = grown;
    *len += n;
}

static char *pg_dump(const struct test_db *db, const char *sql)
{
    PGresult *res;
    char *out = strdup("");
    size_t len = 0;

    pg_use_schema(db);
    res = PQexec(pg.conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("query failed: %s: %s", sql, PQerrorMessage(pg.conn));
    for (int r = 0; r < PQntuples(res); r++) {
        for (int c = 0; c < PQnfields(res); c++) {
            append(&out, &len, c > 0 ? "|" : "");
            append(&out, &len,
                   PQgetisnull(res, r, c) ? "NULL" : PQgetvalue(res, r, c));
        }
        append(&out, &len, "\n");
    }
    PQclear(res);
    return out;
}

static char *sqlite_dump(const struct test_db *db, const char *sql)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    char *out = strdup("");
    size_t len = 0;
    int rc;

    assert_int_equal(sqlite3_open(db->path, &conn), SQLITE_OK);
    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("query failed: %s: %s", sql, sqlite3_errmsg(conn));
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(stmt); c++) {
            const unsigned char *v = sqlite3_column_text(stmt, c);
            append(&out, &len, c > 0 ? "|" : "");
            append(&out, &len, v != NULL ? (const char *)v : "NULL");
        }
        append(&out, &len, "\n");
    }
    if (rc != SQLITE_DONE)
        fail_msg("query failed: %s: %s", sql, sqlite3_errmsg(conn));
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return out;
}

char *fixture_dump(const struct test_db *db, const char *sql)
{
    if (db->engine == TEST_POSTGRES)
        return pg_dump(db, sql);
    return sqlite_dump(db, sql);
}

int64_t fixture_int(const struct test_db *db, const char *sql)
{
    char *text = fixture_text(db, sql);
    int64_t value;

    assert_non_null(text);
    value = strtoll(text, NULL, 10);
    free(text);
    return value;
}

void fixture_kill_connections(const struct test_db *db)
{
    assert_int_equal(db->engine, TEST_POSTGRES);
    assert_true(pg_ok(pg.conn,
                      "SELECT pg_terminate_backend(pid) FROM "
                      "pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()"));
    /* Let the backends go before the test goes on. */
    for (int i = 0; i < 100; i++) {
        PGresult *res =
            PQexec(pg.conn, "SELECT COUNT(*) FROM pg_stat_activity WHERE "
                            "datname = current_database() AND "
                            "pid <> pg_backend_pid()");
        bool gone = PQresultStatus(res) == PGRES_TUPLES_OK &&
                    strcmp(PQgetvalue(res, 0, 0), "0") == 0;
        PQclear(res);
        if (gone)
            return;
        usleep(20000);
    }
}

/* ---- records ---------------------------------------------------------- */

void fixture_promo(struct promo_record *p, const char *id, const char *code)
{
    memset(p, 0, sizeof(*p));
    p->id = id;
    p->code = code;
    p->name = "Diskon 10%";
    p->company_id = "co-1";
    p->brand_id = "br-1";
    p->store_id = "st-1";
    p->promo_type = "percent_discount";
    p->apply_to = "all";
    p->execution_stage = "item_level";
    p->execution_priority = 500;
    p->is_active = true;
    p->is_auto_apply = true;
    p->start_date = "2026-01-01";
    p->end_date = "2026-12-31";
    p->valid_days_json = "[]";
    p->rules_json = "{\"type\":\"percent\",\"discount_percent\":10}";
    p->scope_json = "{\"apply_to\":\"all\"}";
    p->targeting_json = "{\"stores\":\"all\",\"brands\":\"all\"}";
    p->compiled_at = "2026-01-29 22:55:10";
}

void fixture_batch(struct store_sync_batch *b, bool full,
                   const struct promo_record *items, size_t count)
{
    memset(b, 0, sizeof(*b));
    b->full = full;
    b->company_id = "co-1";
    b->store_id = "st-1";
    b->items = items;
    b->item_count = count;
    b->synced_at = "2026-02-01 06:00:00";
}

void fixture_usage(struct store_usage_row *r, const char *promotion_id,
                   const char *code, const char *txn, const char *date,
                   const char *customer)
{
    memset(r, 0, sizeof(*r));
    r->promotion_id = promotion_id;
    r->promotion_code = code;
    r->transaction_id = txn;
    r->order_number = "ORD-1";
    r->customer_id = customer;
    r->discount_amount = 1000;
    r->original_amount = 10000;
    r->final_amount = 9000;
    r->brand_id = "br-1";
    r->store_id = "st-1";
    r->used_at = "2026-02-02 03:04:05";
    r->usage_date = date;
}

enum ep_status fixture_use(struct store *store,
                           const struct store_usage_row *row)
{
    struct ep_error err;
    enum ep_status status;

    ep_error_clear(&err);
    status = store_write_begin(store, &err);
    if (status != EP_OK)
        return status;
    status = store_usage_insert(store, row, &err);
    if (status == EP_OK)
        return store_write_commit(store, &err);
    store_write_rollback(store);
    return status;
}
