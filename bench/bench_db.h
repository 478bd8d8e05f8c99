/*
 * bench_db.h - where a bench's database lives, on either engine.
 *
 * Without a URL (neither an argument nor EDGEPROMO_BENCH_DB), a scenario's
 * database is the SQLite file edge.db in the bench's temporary folder,
 * removed before each scenario. With a postgresql:// URL, each scenario
 * gets a fresh schema of that database, reached through
 * options=-csearch_path in the URL the store opens, so the same scenarios
 * run on PostgreSQL. The schema is made and dropped with raw SQL through
 * libpq, as `rm -f edge.db` does for SQLite: bench code, never linked into
 * edgepromo. Not thread-safe; call from main() before the writers start.
 */
#ifndef EP_BENCH_DB_H
#define EP_BENCH_DB_H

#include <stdbool.h>
#include <stddef.h>

/* The base URL: arg when given, else EDGEPROMO_BENCH_DB, else NULL. */
const char *bench_db_base(const char *arg);

/* True when base names PostgreSQL (postgresql:// or postgres://). */
bool bench_db_is_postgres(const char *base);

/* "sqlite" or "postgresql", for the figures' heading. */
const char *bench_db_engine(const char *base);

/*
 * Makes the fresh, empty database of scenario name (a schema name: lower
 * case letters, digits, '_') and writes the URL the store opens into url.
 * dir is the bench's temporary folder (SQLite). Returns 0, or -1 with a
 * message on stderr.
 */
int bench_db_fresh(const char *base, const char *dir, const char *name,
                   char *url, size_t size);

/* Removes what bench_db_fresh made (PostgreSQL; SQLite goes with dir). */
void bench_db_drop(const char *base, const char *name);

/* Bytes the scenario's database takes (tables and indexes); -1 unknown. */
long long bench_db_size(const char *base, const char *dir, const char *name);

#endif
