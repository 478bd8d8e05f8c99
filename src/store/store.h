/*
 * store.h - the database of one edge: promotions, holidays, usage, sync
 * log and sync state, behind one API over two engines.
 *
 * This is the only way into the database: no other part writes SQL. A
 * struct store is one connection, to SQLite (embedded default, WAL) or to
 * PostgreSQL (db = postgresql://...); the backends sit behind a table of
 * function pointers (internal.h). Money crosses this API as int64
 * hundredths; in the tables it keeps the seed note's DECIMAL(15,2) units,
 * converted exactly at this boundary. Dates and times cross as the text
 * forms of the seed's columns ("YYYY-MM-DD", "HH:MM:SS").
 *
 * Schema: versioned, forward-only migrations, all pending ones applied in
 * one transaction (store_migrate). What the store does not do: judge
 * promotions (the engine does) or decide limits (usage does).
 *
 * Both engines answer alike: text wider than its column in the seed note
 * (VARCHAR(n), in characters) and dates or times not in their text forms
 * are EP_ERR_INVALID with the field named, before either engine sees them;
 * a unique violation is EP_ERR_CONFLICT; a lock not had within
 * busy_timeout_ms is EP_ERR_DB_BUSY; a lost connection EP_ERR_IO.
 * docs/store.md has the schema on both engines and the locking.
 *
 * Thread-safety: one struct store belongs to one thread at a time. Threads
 * that need the database concurrently open a store each.
 */
#ifndef EP_STORE_H
#define EP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/promo_record.h"

struct store;

/* How a store is opened. Zero-initialized means the defaults. */
struct store_options {
    bool synchronous_normal; /* SQLite: synchronous=NORMAL, not FULL */
    int busy_timeout_ms;     /* wait for a lock this long; 0: 5000 */
    bool read_only;          /* open for reading only */
};

/*
 * Opens the database named by url: a file path, "sqlite:PATH" or
 * "postgresql://...". Creates a missing SQLite file (and its folder) unless
 * read_only. Does not migrate. EP_ERR_DB, EP_ERR_IO or EP_ERR_CONFIG.
 */
enum ep_status store_open(const char *url, const struct store_options *options,
                          struct store **out, struct ep_error *err);

/* Closes the connection and frees the store; NULL is a no-op. */
void store_close(struct store *store);

/* "sqlite" or "postgresql". */
const char *store_engine_name(const struct store *store);

/* ---- schema ----------------------------------------------------------- */

/* The newest schema version this program knows. */
int store_schema_latest(void);

/* The database's schema version; 0 for an empty database. */
enum ep_status store_schema_version(struct store *store, int *version_out,
                                    struct ep_error *err);

/*
 * Applies every migration after the current version up to target (0: the
 * latest), in one transaction: all or none. *applied_out (may be NULL) gets
 * the number applied; 0 when up to date, and then nothing is written.
 * EP_ERR_SCHEMA_NEWER when the database is newer than this program.
 */
enum ep_status store_migrate(struct store *store, int target, int *applied_out,
                             struct ep_error *err);

/* ---- promotions and holidays ----------------------------------------- */

/*
 * Loads every promotion row, ordered by id, into arena-owned records.
 */
enum ep_status store_promotions_load(struct store *store,
                                     struct ep_arena *arena,
                                     struct promo_record **out,
                                     size_t *count_out, struct ep_error *err);

/* Loads the holiday calendar, ordered by date, into arena-owned records. */
enum ep_status store_holidays_load(struct store *store, struct ep_arena *arena,
                                   struct holiday_record **out,
                                   size_t *count_out, struct ep_error *err);

/*
 * Replaces the holidays of one source ("cms" or "import") with the given
 * ones, in one transaction; a date given by another source is taken over.
 */
enum ep_status store_holidays_replace(struct store *store, const char *source,
                                      const struct holiday_record *holidays,
                                      size_t count, struct ep_error *err);

/* ---- sync ------------------------------------------------------------- */

/* What one sync run writes, in one transaction. */
struct store_sync_batch {
    bool full;                        /* delete this store's rows not sent */
    const char *company_id;           /* whose promotions */
    const char *store_id;             /* which store's */
    const struct promo_record *items; /* upserted; borrowed */
    size_t item_count;                /* entries in items */
    const char *const *deleted_ids;   /* incremental deletes; borrowed */
    size_t deleted_count;             /* entries in deleted_ids */
    bool replace_holidays;            /* replace the "cms" holidays */
    const struct holiday_record *holidays; /* when replace_holidays */
    size_t holiday_count;                  /* entries in holidays */
    const char *cursor;                    /* CMS cursor to save; NULL: keep */
    const char *server_time; /* CMS time of this sync; may be NULL */
    const char *synced_at;   /* UTC "YYYY-MM-DD HH:MM:SS" */
};

/* What a sync run changed. */
struct store_sync_counts {
    int64_t added;   /* promotions inserted */
    int64_t updated; /* promotions replaced */
    int64_t deleted; /* promotions removed */
};

/*
 * Applies a sync batch in ONE transaction: upserts the items (keeping
 * current_uses = the CMS's count + this edge's unreported, unvoided uses),
 * deletes (full: this store's promotions that did not come; incremental:
 * the listed ids), replaces holidays, saves the cursor and bumps the data
 * version. Usage rows are never touched. On any failure nothing changes.
 */
enum ep_status store_sync_apply(struct store *store,
                                const struct store_sync_batch *batch,
                                struct store_sync_counts *counts_out,
                                struct ep_error *err);

/* One row of promotion_sync_log. Strings borrowed (or arena-owned). */
struct store_sync_log {
    int64_t id;                /* row id; set by reads */
    const char *sync_type;     /* full, incremental, manual */
    const char *sync_status;   /* success, failed, partial */
    int64_t received;          /* promotions received */
    int64_t added;             /* promotions added */
    int64_t updated;           /* promotions updated */
    int64_t deleted;           /* promotions deleted */
    int64_t skipped;           /* promotions skipped as invalid */
    const char *company_id;    /* whose sync */
    const char *store_id;      /* which store's */
    const char *error_message; /* NULL on success */
    const char *error_details; /* JSON text or NULL */
    const char *started_at;    /* UTC "YYYY-MM-DD HH:MM:SS" */
    const char *completed_at;  /* UTC, or NULL */
    int64_t duration_seconds;  /* whole seconds, as the seed has it */
    int64_t duration_ms;       /* milliseconds */
    const char *cms_version;   /* X-CMS-Version, or NULL */
    const char *edge_version;  /* this program's version */
};

/* Appends a log row (in its own transaction). */
enum ep_status store_sync_log_insert(struct store *store,
                                     const struct store_sync_log *entry,
                                     struct ep_error *err);

/*
 * Reads the newest log rows of a store, newest first, at most limit, into
 * arena-owned entries.
 */
enum ep_status store_sync_log_recent(struct store *store, const char *store_id,
                                     size_t limit, struct ep_arena *arena,
                                     struct store_sync_log **out,
                                     size_t *count_out, struct ep_error *err);

/* Totals of the sync log over the last days days (UTC dates). */
struct store_sync_stats {
    int64_t total;         /* runs */
    int64_t successful;    /* status success */
    int64_t partial;       /* status partial */
    int64_t failed;        /* status failed */
    double avg_duration_s; /* mean duration_seconds; 0 when no runs */
    int64_t promotions;    /* promotions stored now for the store */
};

enum ep_status store_sync_stats_get(struct store *store, const char *store_id,
                                    int days, struct store_sync_stats *out,
                                    struct ep_error *err);

/* The sync cursor and bookkeeping of one store. */
struct store_sync_state {
    const char *cursor;          /* CMS sync_token/server_time, or NULL */
    const char *server_time;     /* CMS time of the last good sync, or NULL */
    const char *last_success_at; /* UTC time of the last good sync, or NULL */
    int64_t data_version;        /* bumped by every applied sync */
};

/* Reads the sync state; all NULL/0 when the store never synced. */
enum ep_status store_sync_state_get(struct store *store, const char *company_id,
                                    const char *store_id,
                                    struct ep_arena *arena,
                                    struct store_sync_state *out,
                                    struct ep_error *err);

/* The highest data_version over all stores: changes after every sync. */
enum ep_status store_data_version(struct store *store, int64_t *out,
                                  struct ep_error *err);

/* ---- usage ------------------------------------------------------------ */

/*
 * Starts the write transaction of a checkout or void: BEGIN IMMEDIATE on
 * SQLite, a transaction holding the writers' advisory lock on PostgreSQL.
 * Every check made until store_write_commit is then safe from other
 * writers, other edge nodes sharing a PostgreSQL database included.
 * EP_ERR_DB_BUSY when another writer keeps the lock past busy_timeout_ms.
 * A statement that fails inside the transaction (EP_ERR_CONFLICT) leaves
 * it usable on both engines; commit or roll back as usual.
 */
enum ep_status store_write_begin(struct store *store, struct ep_error *err);
enum ep_status store_write_commit(struct store *store, struct ep_error *err);
/* Rolls back; safe to call when no transaction is open. */
void store_write_rollback(struct store *store);

/*
 * Opens and closes a read transaction: the reads between them see one
 * state of the database and pay for their locks once (an evaluation reads
 * the usage of many promotions). SQLite: a deferred transaction;
 * PostgreSQL: nothing (each read is its own statement). store_read_end is
 * safe to call when store_read_begin failed.
 */
enum ep_status store_read_begin(struct store *store, struct ep_error *err);
void store_read_end(struct store *store);

/* What a promotion has used, as limits count it. */
struct store_usage_counts {
    int64_t total;    /* current_uses: CMS count + local unreported uses */
    int64_t day;      /* local, unvoided uses dated usage_date */
    int64_t customer; /* local, unvoided uses by the customer id */
};

/*
 * Reads a promotion's counts for a store-local date and a customer id. A
 * NULL usage_date or customer_id leaves that count 0 and unread (callers
 * ask only for the counts a limit needs). A promotion not in the table has
 * total 0.
 */
enum ep_status
store_usage_counts_get(struct store *store, const char *promotion_id,
                       const char *usage_date, const char *customer_id,
                       struct store_usage_counts *out, struct ep_error *err);

/* One promotion_usage row. Strings borrowed. */
struct store_usage_row {
    const char *promotion_id;   /* kept even if the promotion goes */
    const char *promotion_code; /* kept on its own */
    const char *transaction_id; /* with promotion_id: unique */
    const char *order_number;   /* may be NULL */
    const char *customer_id;    /* may be NULL */
    const char *customer_phone; /* may be NULL */
    const char *member_tier;    /* may be NULL */
    int64_t discount_amount;    /* hundredths */
    int64_t original_amount;    /* hundredths */
    int64_t final_amount;       /* hundredths */
    const char *brand_id;       /* cart's brand */
    const char *store_id;       /* this store */
    const char *used_at;        /* UTC "YYYY-MM-DD HH:MM:SS" */
    const char *usage_date;     /* store-local "YYYY-MM-DD" */
};

/*
 * Inserts a usage row and bumps the promotion's current_uses and
 * last_used_at. Inside store_write_begin/commit. EP_ERR_CONFLICT when the
 * (transaction_id, promotion_id) pair exists.
 */
enum ep_status store_usage_insert(struct store *store,
                                  const struct store_usage_row *row,
                                  struct ep_error *err);

/* A checkout as stored, for idempotent replies. */
struct store_transaction {
    const char *transaction_id;     /* key */
    const char *order_number;       /* may be NULL */
    const char *store_id;           /* this store */
    const char *brand_id;           /* cart's brand */
    const char *usage_date;         /* store-local date of the uses */
    const char *response_json;      /* the checkout's response, verbatim */
    const char *created_at;         /* UTC */
    const char *voided_at;          /* UTC, or NULL while committed */
    const char *void_response_json; /* the void's response, or NULL */
};

/* Reads a stored checkout; *found false when unknown. */
enum ep_status store_transaction_get(struct store *store,
                                     const char *transaction_id,
                                     struct ep_arena *arena,
                                     struct store_transaction *out, bool *found,
                                     struct ep_error *err);

/* Stores a checkout; inside store_write_begin/commit. */
enum ep_status store_transaction_insert(struct store *store,
                                        const struct store_transaction *txn,
                                        struct ep_error *err);

/*
 * Voids a stored checkout: marks its usage rows voided_at, gives each
 * promotion its use back (current_uses - 1) and stores the void response.
 * Inside store_write_begin/commit. *voided_rows_out gets the rows marked.
 */
enum ep_status
store_transaction_void(struct store *store, const char *transaction_id,
                       const char *voided_at, const char *void_response_json,
                       int64_t *voided_rows_out, struct ep_error *err);

/* Usage of one promotion, for GET /v1/usage/{promotion_id}. */
struct store_usage_summary {
    int64_t current_uses;   /* as limits count the total */
    int64_t local_uses;     /* unvoided local rows */
    int64_t voided_uses;    /* voided local rows */
    int64_t today_uses;     /* unvoided rows dated the given date */
    int64_t customer_uses;  /* unvoided rows of the given customer */
    int64_t discount_total; /* hundredths, unvoided local rows */
    bool promotion_known;   /* the promotion is in the table */
};

enum ep_status
store_usage_summary_get(struct store *store, const char *promotion_id,
                        const char *usage_date, const char *customer_id,
                        struct store_usage_summary *out, struct ep_error *err);

/* ---- operations ------------------------------------------------------- */

/* Runs the engine's own integrity check; EP_ERR_DB with its report. */
enum ep_status store_integrity_check(struct store *store, struct ep_error *err);

/* What store_backup_to copied. */
struct store_backup_report {
    int64_t pages;       /* database pages copied */
    int64_t steps;       /* backup steps taken (STORE_BACKUP_STEP_PAGES) */
    int64_t duration_ms; /* wall time of the copy, milliseconds */
    int schema_version;  /* of the copy */
};

/* Pages copied per step of an online backup (4 KiB pages: 1 MiB). */
#define STORE_BACKUP_STEP_PAGES 256

/*
 * Copies the database, exactly as it stood when the call began, into a new
 * SQLite file at path, while other connections and processes keep reading
 * and writing. SQLite: the online backup API, STORE_BACKUP_STEP_PAGES pages
 * a step, inside one read transaction of this connection, so the copy is
 * one consistent snapshot and is never restarted by other writers; in WAL
 * mode that read transaction never blocks a writer (docs/operations.md has
 * the measured pauses). The copy is written to "path.tmp", switched to
 * rollback-journal mode (one self-contained file), synced and renamed to
 * path, so path never holds half a copy. report_out may be NULL.
 * EP_ERR_CONFLICT when path exists, EP_ERR_IO when it cannot be written,
 * EP_ERR_CONFIG on PostgreSQL (the message points to pg_dump). Must not be
 * called inside a write transaction.
 */
enum ep_status store_backup_to(struct store *store, const char *path,
                               struct store_backup_report *report_out,
                               struct ep_error *err);

/*
 * Checks that the SQLite file at path can be restored by this program:
 * it opens read-only, passes PRAGMA integrity_check, and holds an edgepromo
 * schema no newer than store_schema_latest(). *version_out gets its schema
 * version. EP_ERR_NOT_FOUND (no such file), EP_ERR_DB (not a database, or
 * damaged: the check's report), EP_ERR_INVALID (not an edgepromo database),
 * EP_ERR_SCHEMA_NEWER. The file is never written.
 */
enum ep_status store_backup_check(const char *path, int *version_out,
                                  struct ep_error *err);

/*
 * Replaces the whole content of the database with the SQLite file at path,
 * after store_backup_check. SQLite: the online backup API from the file
 * into this connection, in ONE write transaction through the database's
 * own journal (WAL): readers in other processes see the old content or the
 * new, never a mix, and a crash half-way leaves the old content. Does not
 * migrate: call store_migrate after. EP_ERR_DB_BUSY when another writer
 * keeps the lock past busy_timeout_ms; EP_ERR_CONFIG on PostgreSQL (the
 * message points to pg_restore); the errors of store_backup_check.
 */
enum ep_status store_restore_from(struct store *store, const char *path,
                                  struct ep_error *err);

#endif
