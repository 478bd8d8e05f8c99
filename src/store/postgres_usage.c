/*
 * postgres_usage.c - the PostgreSQL backend's usage counts, usage rows,
 * stored checkouts and voids. The writes here run inside the caller's
 * store_write_begin/commit transaction, which holds the writers' advisory
 * lock: that is what makes check-then-insert safe between terminals and
 * between edge nodes sharing the database. The inserts run in a savepoint,
 * so a unique violation (EP_ERR_CONFLICT) leaves the transaction usable,
 * as on SQLite.
 */
#include <string.h>

#include "common/money.h"
#include "store/postgres_internal.h"

/* Runs a count statement bound to (promotion_id, second). */
static enum ep_status count_with(struct pg_store *s, enum pg_stmt_id id,
                                 const char *promotion_id, const char *second,
                                 int64_t *out, struct ep_error *err)
{
    const char *values[2] = { promotion_id, second };

    return pg_run_int(s, id, id == PG_PROMOTION_USES ? 1 : 2, values, out,
                      "count usage", err);
}

enum ep_status
pg_usage_counts_get(struct store *store, const char *promotion_id,
                    const char *usage_date, const char *customer_id,
                    struct store_usage_counts *out, struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    struct store_usage_counts counts = { 0 };
    enum ep_status status;

    status = count_with(s, PG_PROMOTION_USES, promotion_id, NULL, &counts.total,
                        err);
    if (status == EP_OK && usage_date != NULL)
        status = count_with(s, PG_USAGE_DAY, promotion_id, usage_date,
                            &counts.day, err);
    if (status == EP_OK && customer_id != NULL)
        status = count_with(s, PG_USAGE_CUSTOMER, promotion_id, customer_id,
                            &counts.customer, err);
    if (status == EP_OK)
        *out = counts;
    return status;
}

enum ep_status pg_usage_insert(struct store *store,
                               const struct store_usage_row *r,
                               struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    char money[3][EP_MONEY_TEXT_MAX];
    const char *values[14] = {
        r->promotion_id, r->promotion_code, r->transaction_id, r->order_number,
        r->customer_id,  r->customer_phone, r->member_tier,    money[0],
        money[1],        money[2],          r->brand_id,       r->store_id,
        r->used_at,      r->usage_date,
    };
    const char *bump[2] = { r->promotion_id, r->used_at };
    enum ep_status status;

    ep_money_format_fixed(r->discount_amount, money[0]);
    ep_money_format_fixed(r->original_amount, money[1]);
    ep_money_format_fixed(r->final_amount, money[2]);
    status =
        pg_run_guarded(s, PG_USAGE_INSERT, 14, values, "record usage", err);
    if (status != EP_OK)
        return status;
    return pg_run_done(s, PG_USAGE_BUMP, 2, bump, "count usage", err);
}

enum ep_status pg_transaction_get(struct store *store,
                                  const char *transaction_id,
                                  struct ep_arena *arena,
                                  struct store_transaction *out, bool *found,
                                  struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    const char **fields[] = { &out->transaction_id,    &out->order_number,
                              &out->store_id,          &out->brand_id,
                              &out->usage_date,        &out->response_json,
                              &out->created_at,        &out->voided_at,
                              &out->void_response_json };
    PGresult *res = NULL;
    enum ep_status status;

    memset(out, 0, sizeof(*out));
    *found = false;
    status =
        pg_query(s, PG_TXN_GET, 1, &transaction_id, &res, "read checkout", err);
    if (status != EP_OK)
        return status;
    if (PQntuples(res) > 0) {
        *found = true;
        for (int i = 0; i < 9; i++)
            *fields[i] = pg_value_dup(res, 0, i, arena);
    }
    PQclear(res);
    if (*found && (out->response_json == NULL || out->transaction_id == NULL))
        return ep_error_set(err, EP_ERR_NOMEM, NULL,
                            "database: out of memory reading a checkout");
    return EP_OK;
}

enum ep_status pg_transaction_insert(struct store *store,
                                     const struct store_transaction *t,
                                     struct ep_error *err)
{
    const char *values[7] = { t->transaction_id, t->order_number,
                              t->store_id,       t->brand_id,
                              t->usage_date,     t->response_json,
                              t->created_at };

    return pg_run_guarded(pg_store_of(store), PG_TXN_INSERT, 7, values,
                          "store checkout", err);
}

enum ep_status
pg_transaction_void(struct store *store, const char *transaction_id,
                    const char *voided_at, const char *void_response_json,
                    int64_t *voided_rows_out, struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    const char *values[3] = { transaction_id, voided_at, void_response_json };
    int64_t rows = 0;
    enum ep_status status;

    status = pg_run_done(s, PG_VOID_GIVE_BACK, 1, values, "void", err);
    if (status == EP_OK)
        status = pg_run_changes(s, PG_VOID_MARK, 2, values, &rows, "void", err);
    if (status == EP_OK && voided_rows_out != NULL)
        *voided_rows_out = rows;
    if (status == EP_OK)
        status = pg_run_done(s, PG_VOID_TXN, 3, values, "void", err);
    return status;
}

enum ep_status
pg_usage_summary_get(struct store *store, const char *promotion_id,
                     const char *usage_date, const char *customer_id,
                     struct store_usage_summary *out, struct ep_error *err)
{
    struct pg_store *s = pg_store_of(store);
    const char *values[3] = { promotion_id, usage_date, customer_id };
    PGresult *res = NULL;
    enum ep_status status;

    status = pg_query(s, PG_USAGE_SUMMARY, 3, values, &res,
                      "read usage summary", err);
    if (status != EP_OK)
        return status;
    if (PQntuples(res) != 1 ||
        pg_value_money(res, 0, 5, &out->discount_total) != EP_OK) {
        PQclear(res);
        return ep_error_set(err, EP_ERR_DB, NULL,
                            "database: read usage summary: bad row");
    }
    out->current_uses = pg_value_int(res, 0, 0, 0);
    out->local_uses = pg_value_int(res, 0, 1, 0);
    out->voided_uses = pg_value_int(res, 0, 2, 0);
    out->today_uses = pg_value_int(res, 0, 3, 0);
    out->customer_uses = pg_value_int(res, 0, 4, 0);
    out->promotion_known = pg_value_int(res, 0, 6, 0) > 0;
    PQclear(res);
    return EP_OK;
}
