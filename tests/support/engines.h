/*
 * engines.h - running one test program on both store engines (SPEC.md
 * section 8: same tests, both engines).
 *
 * test_engines_run runs a cmocka group on SQLite and then, when
 * EDGEPROMO_TEST_PG_URL names a PostgreSQL database (scripts/
 * with-postgres.sh sets it), again on PostgreSQL. The PostgreSQL run
 * creates one database with a random name for the program and drops it at
 * the end. Inside a test, test_engine_db_create makes a fresh database of
 * the running engine: a file in a new temporary folder on SQLite, a new
 * schema of the run's database on PostgreSQL, reached through
 * options=-csearch_path in its URL, so store_open, the `db =` line of a
 * config file and `edgepromo` child processes all take the same URL.
 *
 * Check queries go through the engines' own shells (sqlite3, psql), as
 * other software reading the database would; only the SQL both engines
 * understand gives identical assertions.
 *
 * EP_TEST_ENGINE=sqlite or =postgresql restricts a run to one engine.
 * Test code only; the run functions and test_engine_db_create/drop are for
 * the main thread (forked children may use the URL freely).
 */
#ifndef EP_TEST_ENGINES_H
#define EP_TEST_ENGINES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* The exit status of a program that skipped all it had (ctest's SKIP). */
#define TEST_ENGINES_SKIPPED 77

enum test_engine_kind {
    TEST_ENGINE_SQLITE,   /* a file, the default engine */
    TEST_ENGINE_POSTGRES, /* a schema of the run's PostgreSQL database */
};

/* One test's database. */
struct test_engine_db {
    enum test_engine_kind kind; /* the engine of the run that made it */
    char dir[512];              /* a fresh temporary folder, both engines */
    char url[1200];             /* what store_open and `db =` get */
    char schema[64];            /* PostgreSQL: the schema; SQLite: "" */
};

/*
 * Runs the group on every engine available ("NAME [sqlite]", "NAME
 * [postgresql]"); returns the number of failures, counting a run whose
 * database could not be made as one.
 */
int test_engines_run(const char *name, const struct CMUnitTest *tests,
                     size_t count);

/*
 * Runs the group on PostgreSQL only. Without EDGEPROMO_TEST_PG_URL it
 * prints why and returns TEST_ENGINES_SKIPPED.
 */
int test_engines_run_postgres(const char *name, const struct CMUnitTest *tests,
                              size_t count);

/* The engine of the group running now. */
enum test_engine_kind test_engine_current(void);

/* "sqlite" or "postgresql": the engine of the group running now. */
const char *test_engine_name(void);

/* A fresh, empty database of the running engine (not migrated). */
void test_engine_db_create(struct test_engine_db *db);

/* Removes the database and the temporary folder. */
void test_engine_db_drop(struct test_engine_db *db);

/*
 * Runs SQL with the engine's shell (sqlite3 -batch, psql -A -t): columns
 * separated by '|', one row a line, SQL NULL empty. Returns its output (the
 * caller frees it with free()); fails the test if the shell does.
 */
char *test_engine_db_sql(const struct test_engine_db *db, const char *sql);

/* Runs a query returning one integer. */
long long test_engine_db_sql_int(const struct test_engine_db *db,
                                 const char *sql);

/*
 * PostgreSQL: waits (up to 30 s) until no other client connection is left
 * in the run's database but keep of them, as a restart waits for the old
 * process: what a killed client's server process was doing is finished
 * (committed or rolled back). SQLite: returns at once.
 */
void test_engine_db_wait_clients(const struct test_engine_db *db, int keep);

#endif
