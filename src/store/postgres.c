/*
 * postgres.c - the PostgreSQL backend: the connection and its session,
 * prepared statements, SQLSTATE mapping, migrations, write transactions
 * and the integrity check. Promotions and sync live in postgres_sync.c,
 * usage in postgres_usage.c; the schema in schema_postgres.c.
 *
 * Session: TimeZone UTC and DateStyle ISO (instants read back in the form
 * the edge writes them, "YYYY-MM-DD HH:MM:SS"), lock_timeout from
 * busy_timeout_ms, notices dropped (nothing below cli prints).
 *
 * Writers: several edge nodes may share one database. Every writing
 * transaction (checkout, void, sync, holidays, migration) starts with
 * BEGIN and pg_advisory_xact_lock on one key of this program, so writers
 * run one at a time, exactly like BEGIN IMMEDIATE on SQLite, and a check
 * made inside the transaction holds until COMMIT (docs/store.md says why
 * this and not row locks). Readers never take the lock.
 *
 * A lost connection is an error (EP_ERR_IO) for the call that saw it, and
 * the server rolls back whatever transaction was open; the next call
 * outside a transaction reconnects (PQreset) and prepares again.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/money.h"
#include "store/postgres_internal.h"

/*
 * The advisory lock of writers: pg_advisory_xact_lock(classid, objid) with
 * classid "EP01" in ASCII and objid 1. Other programs should not use it.
 */
#define PG_LOCK_CLASS "1162883121"
#define PG_LOCK_WRITE "1"

#define PG_TS(col) "(" col " AT TIME ZONE 'UTC')"

#define PROMOTION_COLUMNS                                                    \
    "id, code, name, description, terms_conditions, company_id, brand_id, "  \
    "store_id, promo_type, apply_to, execution_stage, execution_priority, "  \
    "is_active, is_auto_apply, require_voucher, member_only, is_stackable, " \
    "start_date, end_date, time_start, time_end, valid_days, "               \
    "exclude_holidays, rules_json, scope_json, targeting_json, max_uses, "   \
    "max_uses_per_customer, max_uses_per_day, current_uses, compiled_at, "   \
    "synced_at, last_used_at"

#define PROMOTION_SELECT                                                     \
    "id, code, name, description, terms_conditions, company_id, brand_id, "  \
    "store_id, promo_type, apply_to, execution_stage, execution_priority, "  \
    "is_active, is_auto_apply, require_voucher, member_only, is_stackable, " \
    "start_date, end_date, time_start, time_end, valid_days, "               \
    "exclude_holidays, rules_json, scope_json, targeting_json, max_uses, "   \
    "max_uses_per_customer, max_uses_per_day, current_uses, " PG_TS(         \
        "compiled_at") ", " PG_TS("synced_at") ", " PG_TS("last_used_at")

#define UNREPORTED_USES(id_param)                                          \
    "(SELECT COUNT(*) FROM promotion_usage WHERE promotion_id = " id_param \
    " AND voided_at IS NULL AND reported_at IS NULL)"

static const char *const stmt_sql[PG_COUNT] = {
    [PG_WRITE_LOCK] =
        "SELECT pg_advisory_xact_lock(" PG_LOCK_CLASS ", " PG_LOCK_WRITE ")",
    [PG_SCHEMA_TABLE] = "SELECT COUNT(*) FROM pg_catalog.pg_class c "
                        "WHERE c.oid = to_regclass('schema_migrations')",
    [PG_SCHEMA_VERSION] = "SELECT COALESCE(MAX(version), 0) "
                          "FROM schema_migrations",
    [PG_MIGRATION_RECORD] = "INSERT INTO schema_migrations (version, "
                            "description, applied_at) VALUES ($1::integer, "
                            "$2, CURRENT_TIMESTAMP)",
    [PG_PROMOTIONS_LOAD] = "SELECT " PROMOTION_SELECT " FROM promotions "
                           "ORDER BY id COLLATE \"C\"",
    [PG_PROMOTION_INSERT] =
        "INSERT INTO promotions (" PROMOTION_COLUMNS ") VALUES ($1::text, "
        "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::integer, "
        "$13::boolean, $14::boolean, $15::boolean, $16::boolean, "
        "$17::boolean, $18::date, $19::date, $20::time, $21::time, $22, "
        "$23::boolean, $24, $25, $26, $27::integer, $28::integer, "
        "$29::integer, $30::integer + " UNREPORTED_USES(
            "$1::text") ", "
                        "$31::timestamptz, $32::timestamptz, "
                        "COALESCE($33::timestamptz, "
                        "(SELECT last_used_at FROM pg_temp.sync_keep "
                        "WHERE id = $1::text)))",
    [PG_HOLIDAYS_LOAD] = "SELECT date, name FROM holidays ORDER BY date",
    [PG_HOLIDAY_UPSERT] =
        "INSERT INTO holidays (date, name, source, updated_at) "
        "VALUES ($1::date, $2, $3, CURRENT_TIMESTAMP) ON CONFLICT (date) "
        "DO UPDATE SET name = excluded.name, source = excluded.source, "
        "updated_at = excluded.updated_at",
    [PG_HOLIDAYS_DELETE_SOURCE] = "DELETE FROM holidays WHERE source = $1",
    [PG_SYNC_LOG_INSERT] =
        "INSERT INTO promotion_sync_log (sync_type, sync_status, "
        "promotions_received, promotions_added, promotions_updated, "
        "promotions_deleted, promotions_skipped, company_id, store_id, "
        "error_message, error_details, started_at, completed_at, "
        "duration_seconds, duration_ms, cms_version, edge_version) VALUES "
        "($1, $2, $3::integer, $4::integer, $5::integer, $6::integer, "
        "$7::integer, $8, $9, $10, $11, $12::timestamptz, $13::timestamptz, "
        "$14::integer, $15::bigint, $16, $17)",
    [PG_SYNC_LOG_RECENT] =
        "SELECT id, sync_type, sync_status, promotions_received, "
        "promotions_added, promotions_updated, promotions_deleted, "
        "promotions_skipped, company_id, store_id, error_message, "
        "error_details, " PG_TS("started_at") ", " PG_TS(
            "completed_at") ", "
                            "duration_seconds, duration_ms, cms_version, "
                            "edge_version "
                            "FROM promotion_sync_log WHERE store_id = $1 "
                            "ORDER BY started_at DESC, id DESC LIMIT "
                            "$2::bigint",
    [PG_SYNC_STATS] =
        "SELECT COUNT(*), "
        "COUNT(*) FILTER (WHERE sync_status = 'success'), "
        "COUNT(*) FILTER (WHERE sync_status = 'partial'), "
        "COUNT(*) FILTER (WHERE sync_status = 'failed'), "
        "COALESCE(AVG(duration_seconds), 0), "
        "(SELECT COUNT(*) FROM promotions WHERE store_id = $1) "
        "FROM promotion_sync_log WHERE store_id = $1 AND started_at >= "
        "(((now() AT TIME ZONE 'UTC')::date - $2::integer)::timestamp "
        "AT TIME ZONE 'UTC')",
    [PG_SYNC_STATE_GET] = "SELECT cursor, server_time, " PG_TS(
        "last_success_at") ", "
                           "data_version FROM sync_state WHERE company_id = $1 "
                           "AND store_id = $2",
    [PG_SYNC_STATE_SAVE] =
        "INSERT INTO sync_state (company_id, store_id, cursor, server_time, "
        "last_success_at, data_version) VALUES ($1, $2, $3, $4, "
        "$5::timestamptz, 1) ON CONFLICT (company_id, store_id) DO UPDATE "
        "SET cursor = COALESCE(excluded.cursor, sync_state.cursor), "
        "server_time = COALESCE(excluded.server_time, "
        "sync_state.server_time), "
        "last_success_at = excluded.last_success_at, "
        "data_version = sync_state.data_version + 1",
    [PG_DATA_VERSION] = "SELECT COALESCE(MAX(data_version), 0) "
                        "FROM sync_state",
    [PG_INCOMING_CLEAR] = "DELETE FROM pg_temp.sync_incoming",
    [PG_INCOMING_ADD] = "INSERT INTO pg_temp.sync_incoming (id) VALUES ($1)",
    [PG_INCOMING_EXISTING] = "SELECT COUNT(*) FROM promotions WHERE id IN "
                             "(SELECT id FROM pg_temp.sync_incoming)",
    [PG_DELETE_NOT_INCOMING] =
        "DELETE FROM promotions WHERE company_id = $1 AND id NOT IN "
        "(SELECT id FROM pg_temp.sync_incoming)",
    [PG_DELETE_INCOMING] = "DELETE FROM promotions WHERE id IN "
                           "(SELECT id FROM pg_temp.sync_incoming)",
    [PG_DELETE_ID] = "DELETE FROM promotions WHERE id = $1",
    [PG_KEEP_CLEAR] = "DELETE FROM pg_temp.sync_keep",
    [PG_KEEP_FILL] = "INSERT INTO pg_temp.sync_keep (id, last_used_at) "
                     "SELECT id, last_used_at FROM promotions WHERE id IN "
                     "(SELECT id FROM pg_temp.sync_incoming)",
    [PG_PROMOTION_USES] = "SELECT current_uses FROM promotions WHERE id = $1",
    [PG_USAGE_DAY] = "SELECT COUNT(*) FROM promotion_usage WHERE "
                     "promotion_id = $1 AND usage_date = $2::date AND "
                     "voided_at IS NULL",
    [PG_USAGE_CUSTOMER] = "SELECT COUNT(*) FROM promotion_usage WHERE "
                          "promotion_id = $1 AND customer_id = $2 AND "
                          "voided_at IS NULL",
    [PG_USAGE_INSERT] =
        "INSERT INTO promotion_usage (promotion_id, promotion_code, "
        "transaction_id, order_number, customer_id, customer_phone, "
        "member_tier, discount_amount, original_amount, final_amount, "
        "brand_id, store_id, used_at, usage_date) VALUES ($1, $2, $3, $4, "
        "$5, $6, $7, $8::numeric, $9::numeric, $10::numeric, $11, $12, "
        "$13::timestamptz, $14::date)",
    [PG_USAGE_BUMP] = "UPDATE promotions SET current_uses = "
                      "COALESCE(current_uses, 0) + 1, "
                      "last_used_at = $2::timestamptz WHERE id = $1",
    [PG_TXN_GET] =
        "SELECT transaction_id, order_number, store_id, brand_id, "
        "usage_date, response_json, " PG_TS("created_at") ", " PG_TS(
            "voided_at") ", void_response_json "
                         "FROM pos_transactions WHERE transaction_id = $1",
    [PG_TXN_INSERT] =
        "INSERT INTO pos_transactions (transaction_id, order_number, "
        "store_id, brand_id, usage_date, response_json, created_at) "
        "VALUES ($1, $2, $3, $4, $5::date, $6, $7::timestamptz)",
    [PG_VOID_GIVE_BACK] =
        "UPDATE promotions SET current_uses = "
        "GREATEST(COALESCE(current_uses, 0) - 1, 0) WHERE id IN "
        "(SELECT promotion_id FROM promotion_usage "
        "WHERE transaction_id = $1 AND voided_at IS NULL)",
    [PG_VOID_MARK] = "UPDATE promotion_usage SET voided_at = "
                     "$2::timestamptz WHERE transaction_id = $1 AND "
                     "voided_at IS NULL",
    [PG_VOID_TXN] = "UPDATE pos_transactions SET voided_at = "
                    "$2::timestamptz, void_response_json = $3 "
                    "WHERE transaction_id = $1",
    [PG_USAGE_SUMMARY] =
        "SELECT (SELECT current_uses FROM promotions WHERE id = $1::text), "
        "COUNT(*) FILTER (WHERE voided_at IS NULL), "
        "COUNT(*) FILTER (WHERE voided_at IS NOT NULL), "
        "COUNT(*) FILTER (WHERE voided_at IS NULL AND "
        "usage_date = $2::date), "
        "COUNT(*) FILTER (WHERE voided_at IS NULL AND "
        "customer_id = $3::text), "
        "COALESCE(SUM(discount_amount) FILTER (WHERE voided_at IS NULL), 0), "
        "(SELECT COUNT(*) FROM promotions WHERE id = $1::text) "
        "FROM promotion_usage WHERE promotion_id = $1::text",
};

struct pg_store *pg_store_of(struct store *store)
{
    return (struct pg_store *)store;
}

/* ---- errors ----------------------------------------------------------- */

static bool sqlstate_is(const char *state, const char *prefix)
{
    return state != NULL && strncmp(state, prefix, strlen(prefix)) == 0;
}

/* The status of a SQLSTATE; NULL (no state) is a database error. */
static enum ep_status status_of_sqlstate(const char *state)
{
    static const struct {
        const char *prefix;
        enum ep_status status;
    } map[] = {
        { "53100", EP_ERR_DISK_FULL }, /* disk_full */
        { "53200", EP_ERR_NOMEM },     /* out_of_memory */
        { "08", EP_ERR_IO },           /* connection_exception */
        { "57P01", EP_ERR_IO },        /* admin_shutdown */
        { "57P02", EP_ERR_IO },        /* crash_shutdown */
        { "57P03", EP_ERR_IO },        /* cannot_connect_now */
        { "55P03", EP_ERR_DB_BUSY },   /* lock_not_available */
        { "40001", EP_ERR_DB_BUSY },   /* serialization_failure */
        { "40P01", EP_ERR_DB_BUSY },   /* deadlock_detected */
        { "57014", EP_ERR_DB_BUSY },   /* query_canceled (timeouts) */
        { "23", EP_ERR_CONFLICT },     /* integrity_constraint_violation */
        { "22", EP_ERR_INVALID },      /* data_exception */
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (sqlstate_is(state, map[i].prefix))
            return map[i].status;
    }
    return EP_ERR_DB;
}

/* Copies libpq's message without its trailing newline. */
static void message_of(const char *text, char *out, size_t size)
{
    size_t len;

    snprintf(out, size, "%s",
             text != NULL && text[0] != '\0' ? text
                                             : "no message from the server");
    len = strlen(out);
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
        out[--len] = '\0';
}

enum ep_status pg_fail(struct pg_store *s, const PGresult *res,
                       const char *what, struct ep_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char message[320];

    message_of(primary != NULL ? primary : PQerrorMessage(s->conn), message,
               sizeof(message));
    if (PQstatus(s->conn) == CONNECTION_BAD)
        return ep_error_set(err, EP_ERR_IO, NULL,
                            "database: %s: connection to PostgreSQL lost: %s",
                            what, message);
    return ep_error_set(err, status_of_sqlstate(state), NULL,
                        "database: %s: %s (SQLSTATE %s)", what, message,
                        state != NULL ? state : "none");
}

/* ---- session ---------------------------------------------------------- */

/* libpq prints notices to stderr by default; the store prints nothing. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs one statement with parameters but no preparing (session setup). */
static enum ep_status exec_params(struct pg_store *s, const char *sql, int n,
                                  const char *const *values, const char *what,
                                  struct ep_error *err)
{
    PGresult *res = PQexecParams(s->conn, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    enum ep_status status = EP_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        status = pg_fail(s, res, what, err);
    PQclear(res);
    return status;
}

/* Sets the session up after every (re)connect. */
static enum ep_status setup_session(struct pg_store *s, struct ep_error *err)
{
    char timeout[PG_INT_TEXT_MAX];
    const char *values[1] = { timeout };
    enum ep_status status;

    PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
    memset(s->prepared, 0, sizeof(s->prepared));
    s->temp_ready = false;
    status = pg_exec(s,
                     "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                     "SET IntervalStyle = 'postgres'; "
                     "SET client_min_messages = 'warning'",
                     "set up the session", err);
    pg_int_text(s->lock_timeout_ms, timeout);
    if (status == EP_OK)
        status = exec_params(s,
                             "SELECT set_config('lock_timeout', $1, "
                             "false)",
                             1, values, "set lock_timeout", err);
    if (status == EP_OK && s->read_only)
        status = pg_exec(s, "SET default_transaction_read_only = on",
                         "set read-only", err);
    return status;
}

enum ep_status pg_ensure(struct pg_store *s, struct ep_error *err)
{
    char message[320];

    if (PQstatus(s->conn) == CONNECTION_OK)
        return EP_OK;
    if (s->in_tx)
        return ep_error_set(err, EP_ERR_IO, NULL,
                            "database: connection to PostgreSQL lost inside "
                            "a transaction; it was rolled back");
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        message_of(PQerrorMessage(s->conn), message, sizeof(message));
        return ep_error_set(err, EP_ERR_IO, NULL,
                            "database: cannot reconnect to PostgreSQL: %s",
                            message);
    }
    return setup_session(s, err);
}

/* ---- statements ------------------------------------------------------- */

static enum ep_status prepare(struct pg_store *s, enum pg_stmt_id id,
                              struct ep_error *err)
{
    char name[16];
    PGresult *res;
    enum ep_status status = EP_OK;

    assert(id < PG_COUNT && stmt_sql[id] != NULL);
    if (s->prepared[id])
        return EP_OK;
    snprintf(name, sizeof(name), "ep%d", (int)id);
    res = PQprepare(s->conn, name, stmt_sql[id], 0, NULL);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        status = pg_fail(s, res, "prepare", err);
    else
        s->prepared[id] = true;
    PQclear(res);
    return status;
}

enum ep_status pg_query(struct pg_store *s, enum pg_stmt_id id, int n,
                        const char *const *values, PGresult **res_out,
                        const char *what, struct ep_error *err)
{
    char name[16];
    PGresult *res;
    ExecStatusType st;
    enum ep_status status;

    status = pg_ensure(s, err);
    if (status == EP_OK)
        status = prepare(s, id, err);
    if (status != EP_OK)
        return status;
    snprintf(name, sizeof(name), "ep%d", (int)id);
    res = PQexecPrepared(s->conn, name, n, values, NULL, NULL, 0);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        *res_out = res;
        return EP_OK;
    }
    status = pg_fail(s, res, what, err);
    PQclear(res);
    return status;
}

enum ep_status pg_run_done(struct pg_store *s, enum pg_stmt_id id, int n,
                           const char *const *values, const char *what,
                           struct ep_error *err)
{
    PGresult *res = NULL;
    enum ep_status status = pg_query(s, id, n, values, &res, what, err);

    PQclear(res);
    return status;
}

enum ep_status pg_run_changes(struct pg_store *s, enum pg_stmt_id id, int n,
                              const char *const *values, int64_t *changed_out,
                              const char *what, struct ep_error *err)
{
    PGresult *res = NULL;
    enum ep_status status = pg_query(s, id, n, values, &res, what, err);
    char *end = NULL;

    if (status == EP_OK)
        *changed_out = strtoll(PQcmdTuples(res), &end, 10);
    PQclear(res);
    return status;
}

enum ep_status pg_run_int(struct pg_store *s, enum pg_stmt_id id, int n,
                          const char *const *values, int64_t *out,
                          const char *what, struct ep_error *err)
{
    PGresult *res = NULL;
    enum ep_status status = pg_query(s, id, n, values, &res, what, err);

    if (status == EP_OK)
        *out = PQntuples(res) > 0 ? pg_value_int(res, 0, 0, 0) : 0;
    PQclear(res);
    return status;
}

enum ep_status pg_run_guarded(struct pg_store *s, enum pg_stmt_id id, int n,
                              const char *const *values, const char *what,
                              struct ep_error *err)
{
    enum ep_status status;

    if (!s->in_tx)
        return pg_run_done(s, id, n, values, what, err);
    status = pg_exec(s, "SAVEPOINT ep_statement", what, err);
    if (status != EP_OK)
        return status;
    status = pg_run_done(s, id, n, values, what, err);
    if (status == EP_OK)
        return pg_exec(s, "RELEASE SAVEPOINT ep_statement", what, err);
    pg_exec(s,
            "ROLLBACK TO SAVEPOINT ep_statement; "
            "RELEASE SAVEPOINT ep_statement",
            what, NULL);
    return status;
}

enum ep_status pg_exec(struct pg_store *s, const char *sql, const char *what,
                       struct ep_error *err)
{
    PGresult *res;
    ExecStatusType st;
    enum ep_status status = EP_OK;

    status = pg_ensure(s, err);
    if (status != EP_OK)
        return status;
    res = PQexec(s->conn, sql);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        status = pg_fail(s, res, what, err);
    PQclear(res);
    return status;
}

/* ---- values ----------------------------------------------------------- */

const char *pg_value_dup(const PGresult *res, int row, int column,
                         struct ep_arena *arena)
{
    if (PQgetisnull(res, row, column))
        return NULL;
    return ep_arena_strndup(arena, PQgetvalue(res, row, column),
                            (size_t)PQgetlength(res, row, column));
}

int64_t pg_value_int(const PGresult *res, int row, int column, int64_t fallback)
{
    const char *text;
    char *end = NULL;
    long long value;

    if (PQgetisnull(res, row, column))
        return fallback;
    text = PQgetvalue(res, row, column);
    errno = 0;
    value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return fallback;
    return (int64_t)value;
}

bool pg_value_bool(const PGresult *res, int row, int column)
{
    return !PQgetisnull(res, row, column) &&
           PQgetvalue(res, row, column)[0] == 't';
}

enum ep_status pg_value_money(const PGresult *res, int row, int column,
                              int64_t *out)
{
    if (PQgetisnull(res, row, column))
        return EP_ERR_DB;
    if (ep_money_parse_text(PQgetvalue(res, row, column), out) != EP_OK)
        return EP_ERR_DB;
    return EP_OK;
}

void pg_int_text(int64_t value, char out[PG_INT_TEXT_MAX])
{
    snprintf(out, PG_INT_TEXT_MAX, "%" PRId64, value);
}

bool pg_grow_array(struct ep_arena *arena, void **items, size_t size,
                   size_t *capacity, size_t count)
{
    size_t new_capacity;
    void *grown;

    if (count < *capacity)
        return true;
    new_capacity = *capacity == 0 ? 64 : *capacity * 2;
    grown = ep_arena_calloc(arena, new_capacity, size);
    if (grown == NULL)
        return false;
    if (count > 0)
        memcpy(grown, *items, count * size);
    *items = grown;
    *capacity = new_capacity;
    return true;
}

/* ---- transactions ----------------------------------------------------- */

enum ep_status pg_begin_locked(struct pg_store *s, const char *what,
                               struct ep_error *err)
{
    enum ep_status status;

    assert(!s->in_tx);
    status = pg_exec(s, "BEGIN", what, err);
    if (status != EP_OK)
        return status;
    s->in_tx = true;
    status = pg_run_done(s, PG_WRITE_LOCK, 0, NULL, what, err);
    if (status != EP_OK)
        pg_rollback(s);
    return status;
}

enum ep_status pg_commit(struct pg_store *s, const char *what,
                         struct ep_error *err)
{
    PGresult *res = PQexec(s->conn, "COMMIT");
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    enum ep_status status = EP_OK;

    if (st != PGRES_COMMAND_OK)
        status = pg_fail(s, res, what, err);
    else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
        status = ep_error_set(err, EP_ERR_DB, NULL,
                              "database: %s: the transaction had failed "
                              "and was rolled back",
                              what);
    PQclear(res);
    s->in_tx = false;
    if (status != EP_OK)
        pg_rollback(s);
    return status;
}

void pg_rollback(struct pg_store *s)
{
    PGTransactionStatusType ts = PQtransactionStatus(s->conn);

    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->in_tx = false;
}

static enum ep_status pg_write_begin(struct store *store, struct ep_error *err)
{
    return pg_begin_locked(pg_store_of(store), "begin write", err);
}

static enum ep_status pg_write_commit(struct store *store, struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);

    assert(s->in_tx);
    return pg_commit(s, "commit", err);
}

static void pg_write_rollback(struct store *store)
{
    pg_rollback(pg_store_of(store));
}

/* ---- schema ----------------------------------------------------------- */

static enum ep_status pg_schema_version(struct store *store, int *version_out,
                                        struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    int64_t exists = 0;
    int64_t version = 0;
    enum ep_status status;

    status = pg_run_int(s, PG_SCHEMA_TABLE, 0, NULL, &exists,
                        "read schema version", err);
    if (status == EP_OK && exists > 0)
        status = pg_run_int(s, PG_SCHEMA_VERSION, 0, NULL, &version,
                            "read schema version", err);
    if (status == EP_OK)
        *version_out = (int)version;
    return status;
}

static enum ep_status apply_migration(struct pg_store *s,
                                      const struct store_migration *m,
                                      struct ep_error *err)
{
    char what[48];
    char version[PG_INT_TEXT_MAX];
    const char *values[2] = { version, m->description };
    enum ep_status status;

    snprintf(what, sizeof(what), "migration %d", m->version);
    pg_int_text(m->version, version);
    status = pg_exec(s, m->sql, what, err);
    if (status == EP_OK)
        status = pg_run_done(s, PG_MIGRATION_RECORD, 2, values, what, err);
    return status;
}

static enum ep_status pg_migration_table_ensure(struct store *store,
                                                struct ep_error *err)
{
    return pg_exec(pg_store_of(store),
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   "version INTEGER PRIMARY KEY, description TEXT, "
                   "applied_at TIMESTAMPTZ)",
                   "create schema_migrations", err);
}

static enum ep_status pg_migration_apply(struct store *store,
                                         const struct store_migration *m,
                                         struct ep_error *err)
{
    return apply_migration(pg_store_of(store), m, err);
}

/* ---- integrity -------------------------------------------------------- */

/*
 * PostgreSQL keeps its own files consistent (WAL, checksums); what the edge
 * can check is that every table of its schema reads to the end, that the
 * counters are sane, and, when the amcheck extension is installed and this
 * role may call it, that the B-tree indexes of the schema are consistent.
 */
static const char integrity_scan_v1[] =
    "SELECT (SELECT COUNT(*) FROM promotions WHERE current_uses < 0) + "
    "(SELECT COUNT(*) FROM promotion_usage WHERE discount_amount < 0) + "
    "(SELECT COUNT(*) * 0 FROM promotion_sync_log)";
static const char integrity_scan_v2[] =
    "SELECT (SELECT COUNT(*) * 0 FROM holidays) + "
    "(SELECT COUNT(*) FROM sync_state WHERE data_version < 0) + "
    "(SELECT COUNT(*) * 0 FROM pos_transactions)";
static const char integrity_amcheck[] =
    "SELECT COUNT(*) FROM (SELECT bt_index_check(c.oid::regclass) "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c "
    "ON c.oid = i.indexrelid JOIN pg_catalog.pg_am a ON a.oid = c.relam "
    "WHERE a.amname = 'btree' "
    "AND c.relnamespace = current_schema()::regnamespace) AS checked";

/* Runs constant SQL returning one count; *bad_out gets it. */
static enum ep_status scan_count(struct pg_store *s, const char *sql,
                                 int64_t *out, struct ep_error *err)
{
    PGresult *res = PQexec(s->conn, sql);
    enum ep_status status = EP_OK;

    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
        PQntuples(res) != 1)
        status = pg_fail(s, res, "integrity check", err);
    else
        *out = pg_value_int(res, 0, 0, -1);
    PQclear(res);
    return status;
}

static enum ep_status pg_integrity_check(struct store *store,
                                         struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    int version = 0;
    int64_t bad = 0;
    int64_t extra = 0;
    enum ep_status status = pg_schema_version(store, &version, err);

    if (status == EP_OK && version >= 1)
        status = scan_count(s, integrity_scan_v1, &bad, err);
    if (status == EP_OK && version >= 2)
        status = scan_count(s, integrity_scan_v2, &extra, err);
    if (status == EP_OK && bad + extra != 0)
        return ep_error_set(err, EP_ERR_DB, "db",
                            "integrity_check: %" PRId64 " rows with "
                            "negative counts or amounts",
                            bad + extra);
    if (status == EP_OK)
        status = scan_count(s,
                            "SELECT COUNT(*) FROM pg_catalog.pg_proc p "
                            "WHERE p.proname = 'bt_index_check' AND "
                            "pg_catalog.pg_function_is_visible(p.oid) AND "
                            "has_function_privilege(p.oid, 'EXECUTE')",
                            &extra, err);
    if (status == EP_OK && extra > 0)
        status = scan_count(s, integrity_amcheck, &extra, err);
    return status;
}

/* ---- connection ------------------------------------------------------- */

static void pg_close(struct store *store)
{
    struct pg_store *s = pg_store_of(store);

    PQfinish(s->conn);
    ep_free(s);
}

/* Reads on PostgreSQL are single statements: no transaction to open. */
static enum ep_status pg_read_begin(struct store *store, struct ep_error *err)
{
    (void)store;
    (void)err;
    return EP_OK;
}

static void pg_read_end(struct store *store)
{
    (void)store;
}

static const struct store_ops pg_ops = {
    .engine = "postgresql",
    .close = pg_close,
    .schema_version = pg_schema_version,
    .migrations = store_postgres_migrations,
    .migration_table_ensure = pg_migration_table_ensure,
    .migration_apply = pg_migration_apply,
    .promotions_load = pg_promotions_load,
    .holidays_load = pg_holidays_load,
    .holidays_replace = pg_holidays_replace,
    .sync_apply = pg_sync_apply,
    .sync_log_insert = pg_sync_log_insert,
    .sync_log_recent = pg_sync_log_recent,
    .sync_stats_get = pg_sync_stats_get,
    .sync_state_get = pg_sync_state_get,
    .data_version = pg_data_version,
    .write_begin = pg_write_begin,
    .write_commit = pg_write_commit,
    .write_rollback = pg_write_rollback,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .usage_counts_get = pg_usage_counts_get,
    .usage_insert = pg_usage_insert,
    .transaction_get = pg_transaction_get,
    .transaction_insert = pg_transaction_insert,
    .transaction_void = pg_transaction_void,
    .usage_summary_get = pg_usage_summary_get,
    .integrity_check = pg_integrity_check,
    .backup_to = pg_backup_to,
    .restore_from = pg_restore_from,
};

/*
 * Connects. Our defaults come before the URL in the keyword list, so that
 * a connect_timeout or application_name in the URL wins.
 */
static PGconn *connect_url(const char *conninfo)
{
    const char *const keys[] = { "connect_timeout", "application_name",
                                 "dbname", NULL };
    const char *const values[] = { "10", "edgepromo", conninfo, NULL };

    return PQconnectdbParams(keys, values, 1);
}

/* Refuses a URL libpq cannot read, as a configuration error. */
static enum ep_status check_url(const char *conninfo, struct ep_error *err)
{
    char *parse_error = NULL;
    char message[320];
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &parse_error);

    if (parsed != NULL) {
        PQconninfoFree(parsed);
        return EP_OK;
    }
    message_of(parse_error != NULL ? parse_error : "out of memory", message,
               sizeof(message));
    PQfreemem(parse_error);
    return ep_error_set(err, EP_ERR_CONFIG, "db",
                        "db: not a PostgreSQL URL libpq can read: %s", message);
}

enum ep_status store_postgres_open(const char *conninfo,
                                   const struct store_options *options,
                                   struct store **out, struct ep_error *err)
{
    struct pg_store *s = NULL;
    char message[320];
    enum ep_status status = check_url(conninfo, err);

    if (status != EP_OK)
        return status;
    s = ep_calloc(1, sizeof(*s));
    if (s == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "db", "db: out of memory");
    s->base.ops = &pg_ops;
    s->read_only = options->read_only;
    s->lock_timeout_ms =
        options->busy_timeout_ms > 0 ? options->busy_timeout_ms : 5000;
    s->conn = connect_url(conninfo);
    if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
        message_of(s->conn ? PQerrorMessage(s->conn) : "out of memory", message,
                   sizeof(message));
        status = ep_error_set(err, EP_ERR_IO, "db",
                              "db: cannot connect to PostgreSQL: %s", message);
        goto fail;
    }
    status = setup_session(s, err);
    if (status != EP_OK)
        goto fail;
    *out = &s->base;
    return EP_OK;
fail:
    pg_close(&s->base);
    return status;
}
