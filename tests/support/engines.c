/* engines.c - test programs on both store engines (engines.h). */
#define _GNU_SOURCE
#include "engines.h"

#include <libpq-fe.h>
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
    PGconn *conn;          /* administration of that database */
    int next_schema;       /* numbers the tests' schemas */
} pg;

static enum test_engine_kind current = TEST_ENGINE_SQLITE;
/* Set when a group's setup finished: cmocka counts no failure for a group
   whose setup failed, so the run functions do. */
static bool group_started;

enum test_engine_kind test_engine_current(void)
{
    return current;
}

const char *test_engine_name(void)
{
    return current == TEST_ENGINE_POSTGRES ? "postgresql" : "sqlite";
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
    snprintf(out, size, "%.*s/%s%s%s%s%s%s", (int)head, base, db_name,
             query != NULL || schema != NULL ? "?" : "",
             query != NULL ? query + 1 : "",
             query != NULL && schema != NULL ? "&" : "",
             schema != NULL ? "options=-csearch_path%3D" : "",
             schema != NULL ? schema : "");
}

/* ---- the PostgreSQL run ------------------------------------------------ */

static PGconn *pg_connect(const char *url)
{
    PGconn *conn = PQconnectdb(url);

    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "engines: cannot connect to PostgreSQL: %s\n",
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
        fprintf(stderr, "engines: %s: %s\n", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

static int pg_run_start(void **state)
{
    PGconn *admin = pg_connect(pg.admin_url);
    char sql[160];
    bool made;

    (void)state;
    if (admin == NULL)
        return -1;
    snprintf(pg.db_name, sizeof(pg.db_name), "ep_test_%d_%lx", (int)getpid(),
             (unsigned long)random());
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg.db_name);
    made = pg_ok(admin, sql);
    PQfinish(admin);
    if (!made)
        return -1;
    url_with(pg.admin_url, pg.db_name, NULL, pg.db_url, sizeof(pg.db_url));
    pg.conn = pg_connect(pg.db_url);
    current = TEST_ENGINE_POSTGRES;
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
    current = TEST_ENGINE_SQLITE;
    group_started = true;
    return 0;
}

/* True when EP_TEST_ENGINE does not rule the engine out. */
static bool engine_wanted(const char *name)
{
    const char *only = getenv("EP_TEST_ENGINE");

    return only == NULL || only[0] == '\0' || strcmp(only, name) == 0;
}

static int run_group(const char *name, const char *engine,
                     const struct CMUnitTest *tests, size_t count,
                     CMFixtureFunction start, CMFixtureFunction end)
{
    char group[160];
    int failures;

    snprintf(group, sizeof(group), "%s [%s]", name, engine);
    fprintf(stderr, "== %s\n", group);
    group_started = false;
    failures = _cmocka_run_group_tests(group, tests, count, start, end);
    return failures + (group_started ? 0 : 1);
}

/* Runs the PostgreSQL group; -1 when no database is named. */
static int run_postgres(const char *name, const struct CMUnitTest *tests,
                        size_t count)
{
    pg.admin_url = getenv("EDGEPROMO_TEST_PG_URL");
    if (pg.admin_url == NULL || pg.admin_url[0] == '\0') {
        fprintf(stderr,
                "%s: EDGEPROMO_TEST_PG_URL is not set: PostgreSQL "
                "not tested (run under scripts/with-postgres.sh)\n",
                name);
        return -1;
    }
    return run_group(name, "postgresql", tests, count, pg_run_start,
                     pg_run_end);
}

int test_engines_run(const char *name, const struct CMUnitTest *tests,
                     size_t count)
{
    int failures = 0;
    int more;

    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    if (engine_wanted("sqlite"))
        failures +=
            run_group(name, "sqlite", tests, count, sqlite_run_start, NULL);
    if (!engine_wanted("postgresql"))
        return failures;
    more = run_postgres(name, tests, count);
    return failures + (more > 0 ? more : 0);
}

int test_engines_run_postgres(const char *name, const struct CMUnitTest *tests,
                              size_t count)
{
    int failures;

    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    failures = run_postgres(name, tests, count);
    return failures < 0 ? TEST_ENGINES_SKIPPED : failures;
}

/* ---- one test's database ---------------------------------------------- */

void test_engine_db_create(struct test_engine_db *db)
{
    char sql[200];

    memset(db, 0, sizeof(*db));
    db->kind = current;
    test_tmpdir(db->dir, sizeof(db->dir));
    if (db->kind == TEST_ENGINE_SQLITE) {
        snprintf(db->url, sizeof(db->url), "%s/edge.db", db->dir);
        return;
    }
    assert_non_null(pg.conn);
    snprintf(db->schema, sizeof(db->schema), "t%d", ++pg.next_schema);
    snprintf(sql, sizeof(sql),
             "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", db->schema,
             db->schema);
    assert_true(pg_ok(pg.conn, sql));
    url_with(pg.admin_url, pg.db_name, db->schema, db->url, sizeof(db->url));
}

void test_engine_db_drop(struct test_engine_db *db)
{
    char sql[160];

    if (db->kind == TEST_ENGINE_POSTGRES && db->schema[0] != '\0' &&
        pg.conn != NULL) {
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE",
                 db->schema);
        pg_ok(pg.conn, sql);
    }
    test_rmdir(db->dir);
    db->dir[0] = '\0';
    db->schema[0] = '\0';
}

/* ---- queries ----------------------------------------------------------- */

char *test_engine_db_sql(const struct test_engine_db *db, const char *sql)
{
    char path[600];
    char command[2400];
    char *out = NULL;
    char *errors = NULL;
    int rc;

    /* The SQL goes through a file: no quoting of it in a shell line. */
    snprintf(path, sizeof(path), "%s/query.sql", db->dir);
    assert_true(test_write_file(path, sql));
    if (db->kind == TEST_ENGINE_SQLITE)
        snprintf(command, sizeof(command), "sqlite3 -batch -bail '%s' < '%s'",
                 db->url, path);
    else
        snprintf(command, sizeof(command),
                 "psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d '%s' -f '%s'",
                 db->url, path);
    rc = test_run(command, &out, &errors);
    if (rc != 0)
        fail_msg("%s shell failed (%d): %s: %s", test_engine_name(), rc, sql,
                 errors != NULL ? errors : "");
    free(errors);
    return out;
}

long long test_engine_db_sql_int(const struct test_engine_db *db,
                                 const char *sql)
{
    char *out = test_engine_db_sql(db, sql);
    char *end = NULL;
    long long value = strtoll(out, &end, 10);

    if (end == out)
        fail_msg("not a number from %s: '%s'", sql, out);
    free(out);
    return value;
}

/* The number of other client connections to the run's database. */
static long pg_other_clients(void)
{
    PGresult *res =
        PQexec(pg.conn, "SELECT COUNT(*) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND backend_type = "
                        "'client backend' AND pid <> pg_backend_pid()");
    long n = -1;

    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

void test_engine_db_wait_clients(const struct test_engine_db *db, int keep)
{
    long n = 0;

    if (db->kind != TEST_ENGINE_POSTGRES)
        return;
    for (int i = 0; i < 3000; i++) {
        n = pg_other_clients();
        if (n >= 0 && n <= keep)
            return;
        usleep(10 * 1000);
    }
    fail_msg("%ld connections still open after 30 s (expected %d)", n, keep);
}
