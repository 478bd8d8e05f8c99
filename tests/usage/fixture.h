/*
 * fixture.h - a store with promotions, for the usage tests: a fresh
 * database of the engine running (engines.h: a SQLite file, or a schema of
 * the run's PostgreSQL database), migrated, filled through the store API
 * from promotions written as the CMS sends them. Every usage test program
 * runs its tests on both engines through test_engines_run.
 */
#ifndef EP_TEST_USAGE_FIXTURE_H
#define EP_TEST_USAGE_FIXTURE_H

#include "engine/engine.h"
#include "engines.h"
#include "store/store.h"

#define FIXTURE_STORE   "S1"
#define FIXTURE_COMPANY "C1"

struct fixture {
    struct test_engine_db db; /* the database; db.url opens it */
    struct store *store;      /* open connection, or NULL */
    struct promo_set *set;    /* snapshot of the store */
};

/*
 * Creates the database with the promotions of promotions_json (a JSON
 * array of P objects; missing columns get the defaults of the engine case
 * runner) and loads the snapshot.
 */
void fixture_open(struct fixture *f, const char *promotions_json);

/*
 * The full-sync body the CMS would send for promotions_json (defaults
 * filled as fixture_open fills them), as JSON text the caller frees with
 * free(): {"S1": {"promotions": [...], "sync_token": token}}.
 */
char *fixture_full_sync_body(const char *promotions_json, const char *token);

/* Reloads the snapshot from the store. */
void fixture_reload(struct fixture *f);

/* Closes and removes everything. */
void fixture_close(struct fixture *f);

/* Parses a cart from JSON text into arena (fails the test if invalid). */
struct cart *fixture_cart(const char *json, struct ep_arena *arena);

/*
 * Runs SQL with the engine's shell (sqlite3 or psql); returns its output,
 * '|' between columns, a line per row (the caller frees it).
 */
char *fixture_sql(const struct fixture *f, const char *sql);

/* Runs a query returning one integer. */
long fixture_sql_int(const struct fixture *f, const char *sql);

/*
 * Opens a new connection, as a restarted process would (on SQLite that
 * recovers the WAL), runs store_integrity_check and closes it.
 */
void fixture_check_integrity(const struct fixture *f);

#endif
