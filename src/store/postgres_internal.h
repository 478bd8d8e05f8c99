/*
 * postgres_internal.h - what the PostgreSQL backend's files share: the
 * connection, its prepared statements, and the helpers that run them with
 * text parameters, read values and turn SQLSTATEs into statuses.
 * Only the postgres*.c files of src/store include this.
 *
 * Every value travels as a text parameter of a statement prepared once per
 * connection (PQprepare on first use, again after a reconnect); no value is
 * ever pasted into SQL. The session runs with TimeZone UTC and DateStyle
 * ISO, so instants read back as "YYYY-MM-DD HH:MM:SS" like SQLite's.
 */
#ifndef EP_STORE_POSTGRES_INTERNAL_H
#define EP_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>

#include "store/internal.h"

/* Every statement the backend runs, prepared on first use. */
enum pg_stmt_id {
    PG_WRITE_LOCK,
    PG_SCHEMA_TABLE,
    PG_SCHEMA_VERSION,
    PG_MIGRATION_RECORD,
    PG_PROMOTIONS_LOAD,
    PG_PROMOTION_INSERT,
    PG_HOLIDAYS_LOAD,
    PG_HOLIDAY_UPSERT,
    PG_HOLIDAYS_DELETE_SOURCE,
    PG_SYNC_LOG_INSERT,
    PG_SYNC_LOG_RECENT,
    PG_SYNC_STATS,
    PG_SYNC_STATE_GET,
    PG_SYNC_STATE_SAVE,
    PG_DATA_VERSION,
    PG_INCOMING_CLEAR,
    PG_INCOMING_ADD,
    PG_INCOMING_EXISTING,
    PG_DELETE_NOT_INCOMING,
    PG_DELETE_INCOMING,
    PG_DELETE_ID,
    PG_KEEP_CLEAR,
    PG_KEEP_FILL,
    PG_PROMOTION_USES,
    PG_USAGE_DAY,
    PG_USAGE_CUSTOMER,
    PG_USAGE_INSERT,
    PG_USAGE_BUMP,
    PG_TXN_GET,
    PG_TXN_INSERT,
    PG_VOID_GIVE_BACK,
    PG_VOID_MARK,
    PG_VOID_TXN,
    PG_USAGE_SUMMARY,
    PG_COUNT
};

struct pg_store {
    struct store base;       /* first: the store API's view */
    PGconn *conn;            /* the connection; owned */
    bool prepared[PG_COUNT]; /* prepared on this connection */
    bool temp_ready;         /* the sync temp tables exist */
    bool in_tx;              /* a transaction of ours is open */
    bool read_only;          /* opened read-only */
    int lock_timeout_ms;     /* lock_timeout of the session, ms */
};

/* The backend of a generic store pointer. */
struct pg_store *pg_store_of(struct store *store);

/*
 * Makes sure the connection is usable: outside a write transaction a lost
 * connection is re-opened (PQreset) and the session set up again; inside
 * one it is an error, since the transaction is gone. EP_ERR_IO.
 */
enum ep_status pg_ensure(struct pg_store *s, struct ep_error *err);

/*
 * Runs the prepared statement id with n text parameters (NULL is SQL
 * NULL). On success *res_out gets the result (PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK), which the caller PQclear()s; otherwise err is set
 * (what names the action) and the status returned.
 */
enum ep_status pg_query(struct pg_store *s, enum pg_stmt_id id, int n,
                        const char *const *values, PGresult **res_out,
                        const char *what, struct ep_error *err);

/* Like pg_query for statements whose result is not needed. */
enum ep_status pg_run_done(struct pg_store *s, enum pg_stmt_id id, int n,
                           const char *const *values, const char *what,
                           struct ep_error *err);

/* Like pg_query; *changed_out gets the number of rows the statement hit. */
enum ep_status pg_run_changes(struct pg_store *s, enum pg_stmt_id id, int n,
                              const char *const *values, int64_t *changed_out,
                              const char *what, struct ep_error *err);

/* Runs a statement returning one integer (COUNT(*)...); no row gives 0. */
enum ep_status pg_run_int(struct pg_store *s, enum pg_stmt_id id, int n,
                          const char *const *values, int64_t *out,
                          const char *what, struct ep_error *err);

/*
 * Runs pg_run_done inside a savepoint when a write transaction is open, so
 * that a failing statement (a unique violation) leaves the transaction
 * usable, as a failing statement does on SQLite.
 */
enum ep_status pg_run_guarded(struct pg_store *s, enum pg_stmt_id id, int n,
                              const char *const *values, const char *what,
                              struct ep_error *err);

/* Runs SQL text without parameters or results (one or more statements). */
enum ep_status pg_exec(struct pg_store *s, const char *sql, const char *what,
                       struct ep_error *err);

/* Starts a transaction that holds the store's write lock. */
enum ep_status pg_begin_locked(struct pg_store *s, const char *what,
                               struct ep_error *err);

/* Commits; a COMMIT that rolled back (an aborted transaction) is EP_ERR_DB. */
enum ep_status pg_commit(struct pg_store *s, const char *what,
                         struct ep_error *err);

/* Rolls back when a transaction is open; never fails. */
void pg_rollback(struct pg_store *s);

/* Maps a failed result (or NULL) to a status and fills err with context. */
enum ep_status pg_fail(struct pg_store *s, const PGresult *res,
                       const char *what, struct ep_error *err);

/* Reads a value into the arena; NULL for SQL NULL or on failure. */
const char *pg_value_dup(const PGresult *res, int row, int column,
                         struct ep_arena *arena);

/* Reads an integer value; SQL NULL or garbage gives fallback. */
int64_t pg_value_int(const PGresult *res, int row, int column,
                     int64_t fallback);

/* Reads a boolean value ('t'/'f'). */
bool pg_value_bool(const PGresult *res, int row, int column);

/* Reads a NUMERIC money value as hundredths; EP_ERR_DB if it is not one. */
enum ep_status pg_value_money(const PGresult *res, int row, int column,
                              int64_t *out);

/* Text forms of numbers for parameters. */
#define PG_INT_TEXT_MAX 24
void pg_int_text(int64_t value, char out[PG_INT_TEXT_MAX]);

/* Grows an arena array by doubling; false when out of memory. */
bool pg_grow_array(struct ep_arena *arena, void **items, size_t size,
                   size_t *capacity, size_t count);

/* Backend functions implemented in postgres_sync.c and postgres_usage.c. */
enum ep_status pg_promotions_load(struct store *store, struct ep_arena *arena,
                                  struct promo_record **out, size_t *count_out,
                                  struct ep_error *err);
enum ep_status pg_holidays_load(struct store *store, struct ep_arena *arena,
                                struct holiday_record **out, size_t *count_out,
                                struct ep_error *err);
enum ep_status pg_holidays_replace(struct store *store, const char *source,
                                   const struct holiday_record *holidays,
                                   size_t count, struct ep_error *err);
enum ep_status pg_sync_apply(struct store *store,
                             const struct store_sync_batch *batch,
                             struct store_sync_counts *counts_out,
                             struct ep_error *err);
enum ep_status pg_sync_log_insert(struct store *store,
                                  const struct store_sync_log *entry,
                                  struct ep_error *err);
enum ep_status pg_sync_log_recent(struct store *store, const char *store_id,
                                  size_t limit, struct ep_arena *arena,
                                  struct store_sync_log **out,
                                  size_t *count_out, struct ep_error *err);
enum ep_status pg_sync_stats_get(struct store *store, const char *store_id,
                                 int days, struct store_sync_stats *out,
                                 struct ep_error *err);
enum ep_status pg_sync_state_get(struct store *store, const char *company_id,
                                 const char *store_id, struct ep_arena *arena,
                                 struct store_sync_state *out,
                                 struct ep_error *err);
enum ep_status pg_data_version(struct store *store, int64_t *out,
                               struct ep_error *err);
enum ep_status
pg_usage_counts_get(struct store *store, const char *promotion_id,
                    const char *usage_date, const char *customer_id,
                    struct store_usage_counts *out, struct ep_error *err);
enum ep_status pg_usage_insert(struct store *store,
                               const struct store_usage_row *row,
                               struct ep_error *err);
enum ep_status pg_transaction_get(struct store *store,
                                  const char *transaction_id,
                                  struct ep_arena *arena,
                                  struct store_transaction *out, bool *found,
                                  struct ep_error *err);
enum ep_status pg_transaction_insert(struct store *store,
                                     const struct store_transaction *txn,
                                     struct ep_error *err);
enum ep_status
pg_transaction_void(struct store *store, const char *transaction_id,
                    const char *voided_at, const char *void_response_json,
                    int64_t *voided_rows_out, struct ep_error *err);
enum ep_status
pg_usage_summary_get(struct store *store, const char *promotion_id,
                     const char *usage_date, const char *customer_id,
                     struct store_usage_summary *out, struct ep_error *err);

/* Backup and restore (postgres_backup.c): PostgreSQL's own tools do it. */
enum ep_status pg_backup_to(struct store *store, const char *path,
                            struct store_backup_report *report_out,
                            struct ep_error *err);
enum ep_status pg_restore_from(struct store *store, const char *path,
                               struct ep_error *err);

#endif
