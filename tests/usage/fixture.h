/*
 * fixture.h - a store on disk with promotions, for the usage tests: a
 * SQLite file in a fresh temporary folder, migrated, filled through the
 * store API from promotions written as the CMS sends them.
 */
#ifndef EP_TEST_USAGE_FIXTURE_H
#define EP_TEST_USAGE_FIXTURE_H

#include "engine/engine.h"
#include "store/store.h"

#define FIXTURE_STORE "S1"
#define FIXTURE_COMPANY "C1"

struct fixture {
    char dir[512];           /* temporary folder */
    char db[600];            /* the SQLite file */
    struct store *store;     /* open connection */
    struct promo_set *set;   /* snapshot of the store */
};

/*
 * Creates the database with the promotions of promotions_json (a JSON
 * array of P objects; missing columns get the defaults of the engine case
 * runner) and loads the snapshot.
 */
void fixture_open(struct fixture *f, const char *promotions_json);

/* Reloads the snapshot from the store. */
void fixture_reload(struct fixture *f);

/* Closes and removes everything. */
void fixture_close(struct fixture *f);

/* Parses a cart from JSON text into arena (fails the test if invalid). */
struct cart *fixture_cart(const char *json, struct ep_arena *arena);

/* Runs an SQL query with the sqlite3 shell; returns its output (free). */
char *fixture_sql(const struct fixture *f, const char *sql);

/* Runs a query returning one integer. */
long fixture_sql_int(const struct fixture *f, const char *sql);

#endif
