/*
 * sqlite_usage.c - the SQLite backend's usage counts, usage rows, stored
 * checkouts and voids. The writes here run inside the caller's
 * store_write_begin/commit transaction (BEGIN IMMEDIATE), which is what
 * makes check-then-insert safe between terminals.
 */
#include <string.h>

#include "store/sqlite_internal.h"

/* Runs a count statement bound to (promotion_id, second). */
static enum ep_status count_with(struct sqlite_store *s, enum sqlite_stmt_id id,
                                 const char *promotion_id, const char *second,
                                 int64_t *out, struct ep_error *err)
{
    sqlite3_stmt *stmt = sqlite_stmt(s, id, err);

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, promotion_id);
    sqlite_bind_text(stmt, 2, second);
    return sqlite_step_int(s, stmt, out, "count usage", err);
}

enum ep_status
sqlite_usage_counts_get(struct store *store, const char *promotion_id,
                        const char *usage_date, const char *customer_id,
                        struct store_usage_counts *out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    struct store_usage_counts counts = { 0 };
    enum ep_status status;

    status = count_with(s, SQ_PROMOTION_USES, promotion_id, NULL, &counts.total,
                        err);
    if (status == EP_OK && usage_date != NULL)
        status = count_with(s, SQ_USAGE_DAY, promotion_id, usage_date,
                            &counts.day, err);
    if (status == EP_OK && customer_id != NULL)
        status = count_with(s, SQ_USAGE_CUSTOMER, promotion_id, customer_id,
                            &counts.customer, err);
    if (status == EP_OK)
        *out = counts;
    return status;
}

enum ep_status sqlite_usage_insert(struct store *store,
                                   const struct store_usage_row *r,
                                   struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_USAGE_INSERT, err);
    const char *texts[] = { r->promotion_id,   r->promotion_code,
                            r->transaction_id, r->order_number,
                            r->customer_id,    r->customer_phone,
                            r->member_tier };
    enum ep_status status;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    for (int i = 0; i < 7; i++)
        sqlite_bind_text(stmt, i + 1, texts[i]);
    sqlite_bind_money(stmt, 8, r->discount_amount);
    sqlite_bind_money(stmt, 9, r->original_amount);
    sqlite_bind_money(stmt, 10, r->final_amount);
    sqlite_bind_text(stmt, 11, r->brand_id);
    sqlite_bind_text(stmt, 12, r->store_id);
    sqlite_bind_text(stmt, 13, r->used_at);
    sqlite_bind_text(stmt, 14, r->usage_date);
    status = sqlite_step_done(s, stmt, "record usage", err);
    if (status != EP_OK)
        return status;
    stmt = sqlite_stmt(s, SQ_USAGE_BUMP, err);
    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, r->promotion_id);
    sqlite_bind_text(stmt, 2, r->used_at);
    return sqlite_step_done(s, stmt, "count usage", err);
}

enum ep_status sqlite_transaction_get(struct store *store,
                                      const char *transaction_id,
                                      struct ep_arena *arena,
                                      struct store_transaction *out,
                                      bool *found, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_TXN_GET, err);
    const char **fields[] = { &out->transaction_id,    &out->order_number,
                              &out->store_id,          &out->brand_id,
                              &out->usage_date,        &out->response_json,
                              &out->created_at,        &out->voided_at,
                              &out->void_response_json };
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    memset(out, 0, sizeof(*out));
    *found = false;
    sqlite_bind_text(stmt, 1, transaction_id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *found = true;
        for (int i = 0; i < 9; i++)
            *fields[i] = sqlite_column_dup(stmt, i, arena);
        if (out->response_json == NULL)
            rc = SQLITE_NOMEM;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(s, rc, "read checkout", err);
    return EP_OK;
}

enum ep_status sqlite_transaction_insert(struct store *store,
                                         const struct store_transaction *t,
                                         struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_TXN_INSERT, err);
    const char *texts[] = { t->transaction_id, t->order_number,
                            t->store_id,       t->brand_id,
                            t->usage_date,     t->response_json,
                            t->created_at };

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    for (int i = 0; i < 7; i++)
        sqlite_bind_text(stmt, i + 1, texts[i]);
    return sqlite_step_done(s, stmt, "store checkout", err);
}

/* Runs a void statement bound to (transaction_id, voided_at, response). */
static enum ep_status void_step(struct sqlite_store *s, enum sqlite_stmt_id id,
                                const char *transaction_id,
                                const char *voided_at, const char *response,
                                struct ep_error *err)
{
    sqlite3_stmt *stmt = sqlite_stmt(s, id, err);

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, transaction_id);
    if (id != SQ_VOID_GIVE_BACK)
        sqlite_bind_text(stmt, 2, voided_at);
    if (id == SQ_VOID_TXN)
        sqlite_bind_text(stmt, 3, response);
    return sqlite_step_done(s, stmt, "void", err);
}

enum ep_status
sqlite_transaction_void(struct store *store, const char *transaction_id,
                        const char *voided_at, const char *void_response_json,
                        int64_t *voided_rows_out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    enum ep_status status;

    status = void_step(s, SQ_VOID_GIVE_BACK, transaction_id, NULL, NULL, err);
    if (status == EP_OK)
        status =
            void_step(s, SQ_VOID_MARK, transaction_id, voided_at, NULL, err);
    if (status == EP_OK && voided_rows_out != NULL)
        *voided_rows_out = sqlite3_changes64(s->db);
    if (status == EP_OK)
        status = void_step(s, SQ_VOID_TXN, transaction_id, voided_at,
                           void_response_json, err);
    return status;
}

enum ep_status
sqlite_usage_summary_get(struct store *store, const char *promotion_id,
                         const char *usage_date, const char *customer_id,
                         struct store_usage_summary *out, struct ep_error *err)
{
    struct sqlite_store *s = sqlite_store_of(store);
    sqlite3_stmt *stmt = sqlite_stmt(s, SQ_USAGE_SUMMARY, err);
    int rc;

    if (stmt == NULL)
        return err ? err->status : EP_ERR_DB;
    sqlite_bind_text(stmt, 1, promotion_id);
    sqlite_bind_text(stmt, 2, usage_date);
    sqlite_bind_text(stmt, 3, customer_id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->current_uses = sqlite3_column_int64(stmt, 0);
        out->local_uses = sqlite3_column_int64(stmt, 1);
        out->voided_uses = sqlite3_column_int64(stmt, 2);
        out->today_uses = sqlite3_column_int64(stmt, 3);
        out->customer_uses = sqlite3_column_int64(stmt, 4);
        out->discount_total = sqlite3_column_int64(stmt, 5);
        out->promotion_known = sqlite3_column_int64(stmt, 6) > 0;
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW)
        return sqlite_fail(s, rc, "read usage summary", err);
    return EP_OK;
}
