/*
 * sqlite_internal.h - what the SQLite backend's files share: the
 * connection, its cache of prepared statements, and the helpers that bind
 * and read values and turn SQLite result codes into statuses.
 * Only the sqlite_*.c files of src/store include this.
 */
#ifndef EP_STORE_SQLITE_INTERNAL_H
#define EP_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/internal.h"

/* Every statement the backend runs more than once, prepared on first use. */
enum sqlite_stmt_id {
    SQ_PROMOTIONS_LOAD,
    SQ_PROMOTION_INSERT,
    SQ_HOLIDAYS_LOAD,
    SQ_HOLIDAY_UPSERT,
    SQ_HOLIDAYS_DELETE_SOURCE,
    SQ_SYNC_LOG_INSERT,
    SQ_SYNC_LOG_RECENT,
    SQ_SYNC_STATS,
    SQ_SYNC_STATE_GET,
    SQ_SYNC_STATE_SAVE,
    SQ_DATA_VERSION,
    SQ_INCOMING_CLEAR,
    SQ_INCOMING_ADD,
    SQ_INCOMING_EXISTING,
    SQ_DELETE_NOT_INCOMING,
    SQ_DELETE_INCOMING,
    SQ_DELETE_ID,
    SQ_KEEP_CLEAR,
    SQ_KEEP_FILL,
    SQ_PROMOTION_USES,
    SQ_USAGE_DAY,
    SQ_USAGE_CUSTOMER,
    SQ_USAGE_INSERT,
    SQ_USAGE_BUMP,
    SQ_TXN_GET,
    SQ_TXN_INSERT,
    SQ_VOID_GIVE_BACK,
    SQ_VOID_MARK,
    SQ_VOID_TXN,
    SQ_USAGE_SUMMARY,
    SQ_COUNT
};

struct sqlite_store {
    struct store base;             /* first: the store API's view */
    sqlite3 *db;                   /* the connection; owned */
    sqlite3_stmt *stmts[SQ_COUNT]; /* prepared on first use; owned */
    bool in_write;                 /* a write transaction is open */
    pthread_mutex_t *writer_lock;  /* this file's writers in this process */
    bool holds_writer_lock;        /* writer_lock is held */
    int busy_timeout_ms;           /* how long a writer waits */
    int64_t busy_since_ms;         /* when the current wait began */
};

/*
 * Starts a write transaction (BEGIN IMMEDIATE) after queueing behind the
 * other writers of this process on the same file, and ends one (COMMIT, or
 * ROLLBACK when commit is false or fails). Every write of the backend goes
 * through these two.
 */
enum ep_status sqlite_write_open(struct sqlite_store *s, const char *what,
                                 struct ep_error *err);
enum ep_status sqlite_write_close(struct sqlite_store *s, bool commit,
                                  const char *what, struct ep_error *err);

/* The backend of a generic store pointer. */
struct sqlite_store *sqlite_store_of(struct store *store);

/* Returns the prepared, reset statement id, or NULL (err set). */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum sqlite_stmt_id id,
                          struct ep_error *err);

/* Maps an SQLite result code to a status and fills err with context. */
enum ep_status sqlite_fail(struct sqlite_store *s, int rc, const char *what,
                           struct ep_error *err);

/* Runs SQL text without results (one or more statements). */
enum ep_status sqlite_exec(struct sqlite_store *s, const char *sql,
                           const char *what, struct ep_error *err);

/* Binders: NULL text binds SQL NULL. Return the SQLite result code. */
int sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text);
int sqlite_bind_money(sqlite3_stmt *stmt, int index, int64_t hundredths);

/* Reads a text column into the arena; NULL for SQL NULL or on failure. */
const char *sqlite_column_dup(sqlite3_stmt *stmt, int column,
                              struct ep_arena *arena);

/* Reads a DECIMAL column as hundredths; EP_ERR_DB if not a money value. */
enum ep_status sqlite_column_money(sqlite3_stmt *stmt, int column,
                                   int64_t *out);

/* Runs a statement that returns one integer row (COUNT(*) etc.). */
enum ep_status sqlite_step_int(struct sqlite_store *s, sqlite3_stmt *stmt,
                               int64_t *out, const char *what,
                               struct ep_error *err);

/* Runs a statement that returns no rows. */
enum ep_status sqlite_step_done(struct sqlite_store *s, sqlite3_stmt *stmt,
                                const char *what, struct ep_error *err);

/* Backend functions implemented in sqlite_sync.c and sqlite_usage.c. */
enum ep_status sqlite_promotions_load(struct store *store,
                                      struct ep_arena *arena,
                                      struct promo_record **out,
                                      size_t *count_out, struct ep_error *err);
enum ep_status sqlite_holidays_load(struct store *store, struct ep_arena *arena,
                                    struct holiday_record **out,
                                    size_t *count_out, struct ep_error *err);
enum ep_status sqlite_holidays_replace(struct store *store, const char *source,
                                       const struct holiday_record *holidays,
                                       size_t count, struct ep_error *err);
enum ep_status sqlite_sync_apply(struct store *store,
                                 const struct store_sync_batch *batch,
                                 struct store_sync_counts *counts_out,
                                 struct ep_error *err);
enum ep_status sqlite_sync_log_insert(struct store *store,
                                      const struct store_sync_log *entry,
                                      struct ep_error *err);
enum ep_status sqlite_sync_log_recent(struct store *store, const char *store_id,
                                      size_t limit, struct ep_arena *arena,
                                      struct store_sync_log **out,
                                      size_t *count_out, struct ep_error *err);
enum ep_status sqlite_sync_stats_get(struct store *store, const char *store_id,
                                     int days, struct store_sync_stats *out,
                                     struct ep_error *err);
enum ep_status
sqlite_sync_state_get(struct store *store, const char *company_id,
                      const char *store_id, struct ep_arena *arena,
                      struct store_sync_state *out, struct ep_error *err);
enum ep_status sqlite_data_version(struct store *store, int64_t *out,
                                   struct ep_error *err);
enum ep_status
sqlite_usage_counts_get(struct store *store, const char *promotion_id,
                        const char *usage_date, const char *customer_id,
                        struct store_usage_counts *out, struct ep_error *err);
enum ep_status sqlite_usage_insert(struct store *store,
                                   const struct store_usage_row *row,
                                   struct ep_error *err);
enum ep_status sqlite_transaction_get(struct store *store,
                                      const char *transaction_id,
                                      struct ep_arena *arena,
                                      struct store_transaction *out,
                                      bool *found, struct ep_error *err);
enum ep_status sqlite_transaction_insert(struct store *store,
                                         const struct store_transaction *txn,
                                         struct ep_error *err);
enum ep_status
sqlite_transaction_void(struct store *store, const char *transaction_id,
                        const char *voided_at, const char *void_response_json,
                        int64_t *voided_rows_out, struct ep_error *err);
enum ep_status
sqlite_usage_summary_get(struct store *store, const char *promotion_id,
                         const char *usage_date, const char *customer_id,
                         struct store_usage_summary *out, struct ep_error *err);

/* Backup and restore, in sqlite_backup.c. */
enum ep_status sqlite_backup_to(struct store *store, const char *path,
                                struct store_backup_report *report_out,
                                struct ep_error *err);
enum ep_status sqlite_restore_from(struct store *store, const char *path,
                                   struct ep_error *err);

#endif
