/*
 * fixture.h - the engines the store tests run on, and what the tests need
 * besides the store API: a fresh database per test, raw SQL for setting up
 * old schemas and checking columns, and promotion records to sync.
 *
 * Every store test program runs its whole list twice: on SQLite (a file in
 * a fresh temporary folder per test) and, when EDGEPROMO_TEST_PG_URL names
 * a PostgreSQL database, on PostgreSQL. The PostgreSQL run creates one
 * database with a random name for the program (dropped at the end) and one
 * schema per test, which the store reaches through search_path in its URL.
 * Test code only; single-threaded except where a test says otherwise.
 */
#ifndef EP_TEST_STORE_FIXTURE_H
#define EP_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

enum test_engine {
    TEST_SQLITE,
    TEST_POSTGRES,
};

/* One test's database. */
struct test_db {
    enum test_engine engine; /* which engine this run uses */
    char url[1200];          /* what store_open gets */
    char dir[512];           /* SQLite: the temporary folder */
    char path[600];          /* SQLite: the database file */
    char schema[64];         /* PostgreSQL: the test's schema */
    struct store *store;     /* opened by the setup; closed by teardown */
};

/*
 * Runs tests on every engine available; returns the number of failures.
 * Each test gets a struct test_db as its state from one of the setups.
 */
int fixture_run(const char *name, const struct CMUnitTest *tests, size_t count);

/* A fresh database, the store opened and migrated to the latest version. */
int fixture_setup(void **state);
/* A fresh, empty database with the store opened but not migrated. */
int fixture_setup_empty(void **state);
/* Closes the store and removes the database. */
int fixture_teardown(void **state);

/* True when the running engine is PostgreSQL. */
bool fixture_is_postgres(const struct test_db *db);

/* Opens another connection to the test's database. */
struct store *fixture_open(const struct test_db *db,
                           const struct store_options *options);

/* Runs raw SQL (one or more statements) on the test's database. */
void fixture_exec(const struct test_db *db, const char *sql);

/* Runs raw SQL; returns its status, 0 on success (for expected failures). */
int fixture_try_exec(const struct test_db *db, const char *sql);

/*
 * Runs a query and returns the first column of its first row as text the
 * caller frees with free(); NULL for SQL NULL or no row.
 */
char *fixture_text(const struct test_db *db, const char *sql);

/*
 * Runs a query and returns all its rows as text the caller frees: columns
 * separated by '|', rows ended by '\n', SQL NULL written as "NULL".
 */
char *fixture_dump(const struct test_db *db, const char *sql);

/* Runs a query returning one integer. */
int64_t fixture_int(const struct test_db *db, const char *sql);

/*
 * Ends every other connection to the test's PostgreSQL database, as a
 * server restart or a network cut would. PostgreSQL only.
 */
void fixture_kill_connections(const struct test_db *db);

/*
 * Fills a promotion record with defaults: company "co-1", brand "br-1",
 * store "st-1", a 10% item-level percent discount, active, valid from
 * 2026-01-01 to 2026-12-31. Strings are static or the given ones.
 */
void fixture_promo(struct promo_record *p, const char *id, const char *code);

/* A full or incremental batch for company "co-1", store "st-1". */
void fixture_batch(struct store_sync_batch *b, bool full,
                   const struct promo_record *items, size_t count);

/* Fills a usage row of promotion id/code in transaction txn. */
void fixture_usage(struct store_usage_row *r, const char *promotion_id,
                   const char *code, const char *txn, const char *date,
                   const char *customer);

/* Writes one usage row in its own write transaction; returns the status. */
enum ep_status fixture_use(struct store *store,
                           const struct store_usage_row *row);

#endif
