/*
 * faults.h - what the fault-injection tests share: a store on disk
 * holding the example store, the state of a database file as a checksum
 * (to prove a failure changed nothing), and the bodies and carts the
 * tests push through sync and checkout.
 *
 * The state is read with the sqlite3 library directly, on a connection
 * of its own, so it sees what a restart would see. Test code only;
 * single-threaded.
 */
#ifndef EP_TEST_FAULTS_H
#define EP_TEST_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/config.h"
#include "engine/engine.h"
#include "store/store.h"

#define FAULTS_STORE_ID   "ee90b1f6-2ec2-4b46-8b4a-79d208b3c04c"
#define FAULTS_COMPANY_ID "812e76b6-f235-4bb2-948a-cae58ee62b97"

/* 2026-03-06T12:00:00+07:00: the "now" of every commit. */
#define FAULTS_NOW ((int64_t)1772773200)

/* The tables a failure must leave alone (the sync log is not one). */
enum faults_table {
    FAULTS_PROMOTIONS,
    FAULTS_USAGE,
    FAULTS_TRANSACTIONS,
    FAULTS_HOLIDAYS,
    FAULTS_SYNC_STATE,
    FAULTS_TABLE_COUNT
};

/* A database file's contents, reduced to what the tests compare. */
struct faults_state {
    int64_t rows[FAULTS_TABLE_COUNT]; /* rows per table */
    uint64_t checksum;                /* FNV-1a over every row, in order */
    int64_t uses;                     /* SUM(current_uses) of promotions */
    int64_t log_rows;                 /* rows of promotion_sync_log */
};

/* A database in a fresh temporary folder (or under parent, if given). */
struct faults_db {
    char dir[512];           /* the folder */
    char path[600];          /* the SQLite file */
    struct ep_config config; /* db, company, store, zone */
};

/*
 * Creates the folder (a fresh one under parent, or TMPDIR when NULL), the
 * migrated database and, when with_example, the example store imported
 * from examples/full_sync.json. Fails the test on any error.
 */
void faults_db_create(struct faults_db *db, const char *parent,
                      bool with_example);

/* Removes the folder and everything in it; frees the config. */
void faults_db_destroy(struct faults_db *db);

/* Opens a store on the database (FULL durability unless normal). */
struct store *faults_store_open(const struct faults_db *db, bool normal);

/*
 * Reads the state of the file at path. stable leaves out the columns a
 * run's clock writes (synced_at, used_at, created_at, last_used_at, the
 * sync state's times and data version), to compare two databases that got
 * the same data at different times. Fails the test unless PRAGMA
 * integrity_check says ok.
 */
void faults_state_read(const char *path, bool stable, struct faults_state *out);

/* Fails the test, naming the table, when a and b differ. */
void faults_state_assert_equal(const struct faults_state *a,
                               const struct faults_state *b, const char *when);

/* True when a and b hold the same rows (the log is not compared). */
bool faults_state_equal(const struct faults_state *a,
                        const struct faults_state *b);

/* Checkpoints the WAL into the database and truncates it to 0 bytes. */
void faults_checkpoint(const char *path);

/* PRAGMA page_count of the file. */
int64_t faults_page_count(const char *path);

/*
 * A full-sync body that changes the example store: a third of the
 * promotions get a new name and priority, four are left out (deleted),
 * promotions_from_workload promotions of the gen-workload store are added,
 * one is added without apply_to (taken from its scope), one invalid one is
 * added (the run is partial) and the holidays change. Heap text (free()).
 */
char *faults_changing_body(size_t promotions_from_workload, size_t *length);

/* The snapshot of the store's promotions. Fails the test on error. */
struct promo_set *faults_snapshot(struct store *store,
                                  const struct faults_db *db);

/*
 * Parses examples/carts/<name> into arena, with transaction_id set to
 * txn (NULL keeps the file's). Fails the test if it does not parse.
 */
struct cart *faults_example_cart(const char *name, const char *txn,
                                 struct ep_arena *arena);

/* A cart of line_count lines of the example coffee (a big checkout). */
struct cart *faults_big_cart(size_t line_count, const char *txn,
                             struct ep_arena *arena);

#endif
