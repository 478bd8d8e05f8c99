/*
 * sqlite.c - the SQLite backend: the connection and its settings, the
 * statement cache, error mapping, migrations and write transactions.
 * Promotions and sync live in sqlite_sync.c, usage in sqlite_usage.c.
 *
 * Settings: WAL journal (readers never block the writer), foreign keys on,
 * a busy timeout, synchronous=FULL unless options ask for NORMAL.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/mem.h"
#include "common/money.h"
#include "store/sqlite_internal.h"

#define PROMOTION_COLUMNS                                                    \
    "id, code, name, description, terms_conditions, company_id, brand_id, "  \
    "store_id, promo_type, apply_to, execution_stage, execution_priority, "  \
    "is_active, is_auto_apply, require_voucher, member_only, is_stackable, " \
    "start_date, end_date, time_start, time_end, valid_days, "               \
    "exclude_holidays, rules_json, scope_json, targeting_json, max_uses, "   \
    "max_uses_per_customer, max_uses_per_day, current_uses, compiled_at, "   \
    "synced_at, last_used_at"

#define UNREPORTED_USES(id_param)                                          \
    "(SELECT COUNT(*) FROM promotion_usage WHERE promotion_id = " id_param \
    " AND voided_at IS NULL AND reported_at IS NULL)"

static const char *const stmt_sql[SQ_COUNT] = {
    [SQ_PROMOTIONS_LOAD] =
        "SELECT " PROMOTION_COLUMNS " FROM promotions ORDER BY id",
    [SQ_PROMOTION_INSERT] =
        "INSERT INTO promotions (" PROMOTION_COLUMNS ") VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
        "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, "
        "?30 + " UNREPORTED_USES(
            "?1") ", ?31, ?32, COALESCE(?33, "
                  "(SELECT last_used_at FROM temp.sync_keep WHERE id = ?1)))",
    [SQ_HOLIDAYS_LOAD] = "SELECT date, name FROM holidays ORDER BY date",
    [SQ_HOLIDAY_UPSERT] =
        "INSERT INTO holidays (date, name, source, updated_at) "
        "VALUES (?1, ?2, ?3, CURRENT_TIMESTAMP) ON CONFLICT(date) DO UPDATE "
        "SET name = excluded.name, source = excluded.source, "
        "updated_at = excluded.updated_at",
    [SQ_HOLIDAYS_DELETE_SOURCE] = "DELETE FROM holidays WHERE source = ?1",
    [SQ_SYNC_LOG_INSERT] =
        "INSERT INTO promotion_sync_log (sync_type, sync_status, "
        "promotions_received, promotions_added, promotions_updated, "
        "promotions_deleted, promotions_skipped, company_id, store_id, "
        "error_message, error_details, started_at, completed_at, "
        "duration_seconds, duration_ms, cms_version, edge_version) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
        "?16, ?17)",
    [SQ_SYNC_LOG_RECENT] =
        "SELECT id, sync_type, sync_status, promotions_received, "
        "promotions_added, promotions_updated, promotions_deleted, "
        "promotions_skipped, company_id, store_id, error_message, "
        "error_details, started_at, completed_at, duration_seconds, "
        "duration_ms, cms_version, edge_version FROM promotion_sync_log "
        "WHERE store_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2",
    [SQ_SYNC_STATS] = "SELECT COUNT(*), "
                      "COALESCE(SUM(sync_status = 'success'), 0), "
                      "COALESCE(SUM(sync_status = 'partial'), 0), "
                      "COALESCE(SUM(sync_status = 'failed'), 0), "
                      "COALESCE(AVG(duration_seconds), 0), "
                      "(SELECT COUNT(*) FROM promotions WHERE store_id = ?1) "
                      "FROM promotion_sync_log WHERE store_id = ?1 "
                      "AND started_at >= DATE('now', '-' || ?2 || ' days')",
    [SQ_SYNC_STATE_GET] =
        "SELECT cursor, server_time, last_success_at, data_version "
        "FROM sync_state WHERE company_id = ?1 AND store_id = ?2",
    [SQ_SYNC_STATE_SAVE] =
        "INSERT INTO sync_state (company_id, store_id, cursor, server_time, "
        "last_success_at, data_version) VALUES (?1, ?2, ?3, ?4, ?5, 1) "
        "ON CONFLICT(company_id, store_id) DO UPDATE SET "
        "cursor = COALESCE(excluded.cursor, cursor), "
        "server_time = COALESCE(excluded.server_time, server_time), "
        "last_success_at = excluded.last_success_at, "
        "data_version = data_version + 1",
    [SQ_DATA_VERSION] = "SELECT COALESCE(MAX(data_version), 0) "
                        "FROM sync_state",
    [SQ_INCOMING_CLEAR] = "DELETE FROM temp.sync_incoming",
    [SQ_INCOMING_ADD] = "INSERT INTO temp.sync_incoming (id) VALUES (?1)",
    [SQ_INCOMING_EXISTING] = "SELECT COUNT(*) FROM promotions WHERE id IN "
                             "(SELECT id FROM temp.sync_incoming)",
    [SQ_DELETE_NOT_INCOMING] =
        "DELETE FROM promotions WHERE company_id = ?1 AND id NOT IN "
        "(SELECT id FROM temp.sync_incoming)",
    [SQ_DELETE_INCOMING] = "DELETE FROM promotions WHERE id IN "
                           "(SELECT id FROM temp.sync_incoming)",
    [SQ_DELETE_ID] = "DELETE FROM promotions WHERE id = ?1",
    [SQ_KEEP_CLEAR] = "DELETE FROM temp.sync_keep",
    [SQ_KEEP_FILL] = "INSERT INTO temp.sync_keep (id, last_used_at) "
                     "SELECT id, last_used_at FROM promotions WHERE id IN "
                     "(SELECT id FROM temp.sync_incoming)",
    [SQ_PROMOTION_USES] = "SELECT current_uses FROM promotions WHERE id = ?1",
    [SQ_USAGE_DAY] = "SELECT COUNT(*) FROM promotion_usage WHERE "
                     "promotion_id = ?1 AND usage_date = ?2 AND "
                     "voided_at IS NULL",
    [SQ_USAGE_CUSTOMER] = "SELECT COUNT(*) FROM promotion_usage WHERE "
                          "promotion_id = ?1 AND customer_id = ?2 AND "
                          "voided_at IS NULL",
    [SQ_USAGE_INSERT] =
        "INSERT INTO promotion_usage (promotion_id, promotion_code, "
        "transaction_id, order_number, customer_id, customer_phone, "
        "member_tier, discount_amount, original_amount, final_amount, "
        "brand_id, store_id, used_at, usage_date) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [SQ_USAGE_BUMP] = "UPDATE promotions SET current_uses = "
                      "COALESCE(current_uses, 0) + 1, last_used_at = ?2 "
                      "WHERE id = ?1",
    [SQ_TXN_GET] = "SELECT transaction_id, order_number, store_id, brand_id, "
                   "usage_date, response_json, created_at, voided_at, "
                   "void_response_json FROM pos_transactions "
                   "WHERE transaction_id = ?1",
    [SQ_TXN_INSERT] =
        "INSERT INTO pos_transactions (transaction_id, order_number, "
        "store_id, brand_id, usage_date, response_json, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_VOID_GIVE_BACK] =
        "UPDATE promotions SET current_uses = MAX(COALESCE(current_uses, 0) "
        "- 1, 0) WHERE id IN (SELECT promotion_id FROM promotion_usage "
        "WHERE transaction_id = ?1 AND voided_at IS NULL)",
    [SQ_VOID_MARK] = "UPDATE promotion_usage SET voided_at = ?2 WHERE "
                     "transaction_id = ?1 AND voided_at IS NULL",
    [SQ_VOID_TXN] = "UPDATE pos_transactions SET voided_at = ?2, "
                    "void_response_json = ?3 WHERE transaction_id = ?1",
    [SQ_USAGE_SUMMARY] =
        "SELECT (SELECT current_uses FROM promotions WHERE id = ?1), "
        "COALESCE(SUM(voided_at IS NULL), 0), "
        "COALESCE(SUM(voided_at IS NOT NULL), 0), "
        "COALESCE(SUM(voided_at IS NULL AND usage_date = ?2), 0), "
        "COALESCE(SUM(voided_at IS NULL AND customer_id = ?3), 0), "
        "COALESCE(SUM(CASE WHEN voided_at IS NULL THEN "
        "CAST(ROUND(discount_amount * 100) AS INTEGER) END), 0), "
        "(SELECT COUNT(*) FROM promotions WHERE id = ?1) "
        "FROM promotion_usage WHERE promotion_id = ?1",
};

static pthread_mutex_t *writer_lock_for(sqlite3 *db);

struct sqlite_store *sqlite_store_of(struct store *store)
{
    return (struct sqlite_store *)store;
}

static enum ep_status status_of_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return EP_ERR_DISK_FULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return EP_ERR_DB_BUSY;
    case SQLITE_NOMEM:
        return EP_ERR_NOMEM;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return EP_ERR_IO;
    case SQLITE_CONSTRAINT:
        return EP_ERR_CONFLICT;
    default:
        return EP_ERR_DB;
    }
}

enum ep_status sqlite_fail(struct sqlite_store *s, int rc, const char *what,
                           struct ep_error *err)
{
    const char *detail =
        s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);

    return ep_error_set(err, status_of_rc(rc), NULL, "database: %s: %s", what,
                        detail);
}

sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, enum sqlite_stmt_id id,
                          struct ep_error *err)
{
    int rc;

    assert(id < SQ_COUNT && stmt_sql[id] != NULL);
    if (s->stmts[id] == NULL) {
        rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1,
                                SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            sqlite_fail(s, rc, "prepare", err);
            return NULL;
        }
        return s->stmts[id];
    }
    sqlite3_reset(s->stmts[id]);
    sqlite3_clear_bindings(s->stmts[id]);
    return s->stmts[id];
}

enum ep_status sqlite_exec(struct sqlite_store *s, const char *sql,
                           const char *what, struct ep_error *err)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, what, err);
    return EP_OK;
}

int sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text == NULL)
        return sqlite3_bind_null(stmt, index);
    return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

int sqlite_bind_money(sqlite3_stmt *stmt, int index, int64_t hundredths)
{
    char text[EP_MONEY_TEXT_MAX];

    ep_money_format_fixed(hundredths, text);
    return sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
}

const char *sqlite_column_dup(sqlite3_stmt *stmt, int column,
                              struct ep_arena *arena)
{
    const unsigned char *text;

    if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
        return NULL;
    text = sqlite3_column_text(stmt, column);
    if (text == NULL)
        return NULL;
    return ep_arena_strndup(arena, (const char *)text,
                            (size_t)sqlite3_column_bytes(stmt, column));
}

enum ep_status sqlite_column_money(sqlite3_stmt *stmt, int column, int64_t *out)
{
    const unsigned char *text;

    if (sqlite3_column_type(stmt, column) == SQLITE_INTEGER) {
        *out = sqlite3_column_int64(stmt, column) * 100;
        return EP_OK;
    }
    text = sqlite3_column_text(stmt, column);
    if (text == NULL)
        return EP_ERR_DB;
    if (ep_money_parse_text((const char *)text, out) != EP_OK)
        return EP_ERR_DB;
    return EP_OK;
}

enum ep_status sqlite_step_int(struct sqlite_store *s, sqlite3_stmt *stmt,
                               int64_t *out, const char *what,
                               struct ep_error *err)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
        sqlite3_reset(stmt);
        return EP_OK;
    }
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE) {
        *out = 0;
        return EP_OK;
    }
    return sqlite_fail(s, rc, what, err);
}

enum ep_status sqlite_step_done(struct sqlite_store *s, sqlite3_stmt *stmt,
                                const char *what, struct ep_error *err)
{
    int rc = sqlite3_step(stmt);

    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return EP_OK;
    return sqlite_fail(s, rc, what, err);
}

/* ---- connection ------------------------------------------------------- */

/* Creates the folder that will hold path, if it is missing. */
static enum ep_status make_parent_folder(const char *path, struct ep_error *err)
{
    char folder[1024];
    char *slash;

    if (strlen(path) >= sizeof(folder))
        return ep_error_set(err, EP_ERR_CONFIG, "db", "db: path too long");
    snprintf(folder, sizeof(folder), "%s", path);
    slash = strrchr(folder, '/');
    if (slash == NULL || slash == folder)
        return EP_OK;
    *slash = '\0';
    for (char *p = folder + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(folder, 0750) != 0 && errno != EEXIST)
            return ep_error_set(err, EP_ERR_IO, "db",
                                "db: cannot create %s: %s", folder,
                                strerror(errno));
        *p = '/';
    }
    if (mkdir(folder, 0750) != 0 && errno != EEXIST)
        return ep_error_set(err, EP_ERR_IO, "db", "db: cannot create %s: %s",
                            folder, strerror(errno));
    return EP_OK;
}

static int64_t monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*
 * Waits for another process's lock: sleeps of 1 to 4 ms, with a little
 * jitter, until busy_timeout_ms has passed since the first attempt.
 * SQLite's own handler sleeps up to 100 ms at a time, so a writer that just
 * missed the lock could sleep through many others' commits and starve
 * (seconds under load from several processes).
 */
static int busy_wait(void *ctx, int attempts)
{
    struct sqlite_store *s = ctx;
    long sleep_us = 1000L * (1 + (attempts > 30 ? 3 : attempts / 10));
    struct timespec pause = { 0,
                              (sleep_us + (attempts * 7919L) % 500) * 1000L };

    if (attempts == 0)
        s->busy_since_ms = monotonic_ms();
    else if (monotonic_ms() - s->busy_since_ms >= s->busy_timeout_ms)
        return 0;
    nanosleep(&pause, NULL);
    return 1;
}

static enum ep_status apply_settings(struct sqlite_store *s,
                                     const struct store_options *options,
                                     struct ep_error *err)
{
    char sql[160];
    int timeout =
        options->busy_timeout_ms > 0 ? options->busy_timeout_ms : 5000;

    s->busy_timeout_ms = timeout;
    sqlite3_busy_handler(s->db, busy_wait, s);
    s->writer_lock = writer_lock_for(s->db);
    sqlite3_extended_result_codes(s->db, 1);
    if (!options->read_only &&
        sqlite_exec(s, "PRAGMA journal_mode=WAL", "set WAL", err) != EP_OK)
        return err != NULL ? err->status : EP_ERR_DB;
    snprintf(sql, sizeof(sql),
             "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
             "PRAGMA wal_autocheckpoint=4000; PRAGMA cache_size=-16384; "
             "PRAGMA synchronous=%s",
             options->synchronous_normal ? "NORMAL" : "FULL");
    return sqlite_exec(s, sql, "apply settings", err);
}

static void sqlite_close(struct store *store)
{
    struct sqlite_store *s = sqlite_store_of(store);

    for (int i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    ep_free(s);
}

/* ---- schema ----------------------------------------------------------- */

/* Runs a one-integer query given as text (no parameters). */
static enum ep_status query_int(struct sqlite_store *s, const char *sql,
                                int64_t *out, struct ep_error *err)
{
    sqlite3_stmt *stmt = NULL;
    enum ep_status status;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "read schema version", err);
    status = sqlite_step_int(s, stmt, out, "read schema version", err);
    sqlite3_finalize(stmt);
    return status;
}

static enum ep_status sqlite_schema_version(struct store *store,
                                            int *version_out,
                                            struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    int64_t tables = 0;
    int64_t version = 0;
    enum ep_status status;

    status = query_int(s,
                       "SELECT COUNT(*) FROM sqlite_master WHERE "
                       "type = 'table' AND name = 'schema_migrations'",
                       &tables, err);
    if (status == EP_OK && tables > 0)
        status = query_int(s,
                           "SELECT COALESCE(MAX(version), 0) FROM "
                           "schema_migrations",
                           &version, err);
    if (status == EP_OK)
        *version_out = (int)version;
    return status;
}

static enum ep_status apply_migration(struct sqlite_store *s,
                                      const struct store_migration *m,
                                      struct ep_error *err)
{
    char sql[256];
    char what[96];

    snprintf(what, sizeof(what), "migration %d", m->version);
    if (sqlite_exec(s, m->sql, what, err) != EP_OK)
        return err != NULL ? err->status : EP_ERR_DB;
    snprintf(sql, sizeof(sql),
             "INSERT INTO schema_migrations (version, description, "
             "applied_at) VALUES (%d, '%s', CURRENT_TIMESTAMP); "
             "PRAGMA user_version = %d",
             m->version, m->description, m->version);
    return sqlite_exec(s, sql, what, err);
}

static enum ep_status sqlite_migration_table_ensure(struct store *store,
                                                    struct ep_error *err)
{
    return sqlite_exec(sqlite_store_of(store),
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       "version INTEGER PRIMARY KEY, description TEXT, "
                       "applied_at TIMESTAMP)",
                       "create schema_migrations", err);
}

static enum ep_status sqlite_migration_apply(struct store *store,
                                             const struct store_migration *m,
                                             struct ep_error *err)
{
    return apply_migration(sqlite_store_of(store), m, err);
}

/* ---- write transactions and checks ------------------------------------ */

/*
 * Writers of one process queue on a mutex before BEGIN IMMEDIATE: the next
 * one is woken the moment the lock is free, where SQLite's busy handler
 * would have it sleep and poll (milliseconds under load). Writers in other
 * processes still wait through the busy timeout. Files hash to one of a
 * few mutexes; two files sharing one only queue their writers together.
 */
#define WRITER_LOCKS 16

static pthread_mutex_t writer_locks[WRITER_LOCKS] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};

static pthread_mutex_t *writer_lock_for(sqlite3 *db)
{
    const char *path = sqlite3_db_filename(db, "main");
    unsigned hash = 5381;

    for (const char *p = path ? path : ""; *p != '\0'; p++)
        hash = hash * 33u + (unsigned char)*p;
    return &writer_locks[hash % WRITER_LOCKS];
}

static bool writer_lock_take(struct sqlite_store *s)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += s->busy_timeout_ms / 1000;
    deadline.tv_nsec += (long)(s->busy_timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    s->holds_writer_lock =
        pthread_mutex_timedlock(s->writer_lock, &deadline) == 0;
    return s->holds_writer_lock;
}

static void writer_lock_give(struct sqlite_store *s)
{
    if (s->holds_writer_lock)
        pthread_mutex_unlock(s->writer_lock);
    s->holds_writer_lock = false;
}

enum ep_status sqlite_write_open(struct sqlite_store *s, const char *what,
                                 struct ep_error *err)
{
    enum ep_status status;

    if (!writer_lock_take(s))
        return ep_error_set(err, EP_ERR_DB_BUSY, NULL,
                            "database: %s: another writer of this process "
                            "held the database for %d ms",
                            what, s->busy_timeout_ms);
    status = sqlite_exec(s, "BEGIN IMMEDIATE", what, err);
    if (status != EP_OK)
        writer_lock_give(s);
    return status;
}

enum ep_status sqlite_write_close(struct sqlite_store *s, bool commit,
                                  const char *what, struct ep_error *err)
{
    enum ep_status status = EP_OK;

    if (commit)
        status = sqlite_exec(s, "COMMIT", what, err);
    if ((!commit || status != EP_OK) && sqlite3_get_autocommit(s->db) == 0)
        sqlite_exec(s, "ROLLBACK", what, NULL);
    writer_lock_give(s);
    return status;
}

static enum ep_status sqlite_write_begin(struct store *store,
                                         struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    enum ep_status status;

    assert(!s->in_write);
    status = sqlite_write_open(s, "begin write", err);
    s->in_write = status == EP_OK;
    return status;
}

static enum ep_status sqlite_write_commit(struct store *store,
                                          struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    enum ep_status status;

    assert(s->in_write);
    status = sqlite_write_close(s, true, "commit", err);
    s->in_write = false;
    return status;
}

static void sqlite_write_rollback(struct store *store)
{
    struct sqlite_store *s = sqlite_store_of(store);

    sqlite_write_close(s, false, "rollback", NULL);
    s->in_write = false;
}

static enum ep_status sqlite_read_begin(struct store *store,
                                        struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);

    assert(!s->in_write);
    return sqlite_exec(s, "BEGIN", "begin read", err);
}

static void sqlite_read_end(struct store *store)
{
    struct sqlite_store *s = sqlite_store_of(store);

    if (!s->in_write && sqlite3_get_autocommit(s->db) == 0)
        sqlite_exec(s, "COMMIT", "end read", NULL);
}

static enum ep_status sqlite_integrity_check(struct store *store,
                                             struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = NULL;
    const unsigned char *result;
    enum ep_status status = EP_OK;
    int rc =
        sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return sqlite_fail(s, rc, "integrity_check", err);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        status = sqlite_fail(s, rc, "integrity_check", err);
    } else {
        result = sqlite3_column_text(stmt, 0);
        if (result == NULL || strcmp((const char *)result, "ok") != 0)
            status = ep_error_set(err, EP_ERR_DB, "db", "integrity_check: %s",
                                  result ? (const char *)result : "no answer");
    }
    sqlite3_finalize(stmt);
    return status;
}

static const struct store_ops sqlite_ops = {
    .engine = "sqlite",
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .migrations = store_sqlite_migrations,
    .migration_table_ensure = sqlite_migration_table_ensure,
    .migration_apply = sqlite_migration_apply,
    .promotions_load = sqlite_promotions_load,
    .holidays_load = sqlite_holidays_load,
    .holidays_replace = sqlite_holidays_replace,
    .sync_apply = sqlite_sync_apply,
    .sync_log_insert = sqlite_sync_log_insert,
    .sync_log_recent = sqlite_sync_log_recent,
    .sync_stats_get = sqlite_sync_stats_get,
    .sync_state_get = sqlite_sync_state_get,
    .data_version = sqlite_data_version,
    .write_begin = sqlite_write_begin,
    .write_commit = sqlite_write_commit,
    .write_rollback = sqlite_write_rollback,
    .read_begin = sqlite_read_begin,
    .read_end = sqlite_read_end,
    .usage_counts_get = sqlite_usage_counts_get,
    .usage_insert = sqlite_usage_insert,
    .transaction_get = sqlite_transaction_get,
    .transaction_insert = sqlite_transaction_insert,
    .transaction_void = sqlite_transaction_void,
    .usage_summary_get = sqlite_usage_summary_get,
    .integrity_check = sqlite_integrity_check,
    .backup_to = sqlite_backup_to,
    .restore_from = sqlite_restore_from,
};

enum ep_status store_sqlite_open(const char *path,
                                 const struct store_options *options,
                                 struct store **out, struct ep_error *err)
{
    struct sqlite_store *s = NULL;
    int flags = options->read_only ? SQLITE_OPEN_READONLY
                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    enum ep_status status;
    int rc;

    if (!options->read_only) {
        status = make_parent_folder(path, err);
        if (status != EP_OK)
            return status;
    }
    s = ep_calloc(1, sizeof(*s));
    if (s == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "db", "db: out of memory");
    s->base.ops = &sqlite_ops;
    rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        status = ep_error_set(
            err, status_of_rc(rc), "db", "db: cannot open %s: %s", path,
            s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    status = apply_settings(s, options, err);
    if (status != EP_OK)
        goto fail;
    *out = &s->base;
    return EP_OK;
fail:
    sqlite_close(&s->base);
    return status;
}
