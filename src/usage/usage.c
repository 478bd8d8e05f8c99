/*
 * usage.c - usage limits from the store, checkout commits and voids.
 *
 * A commit is one write transaction (store_write_begin: BEGIN IMMEDIATE on
 * SQLite, the store's lock on PostgreSQL): look the transaction id up
 * (replay: return the stored response), re-evaluate the cart with the
 * limits as they stand inside the transaction, write a usage row per
 * applied promotion (which bumps current_uses), store the response,
 * commit. A failure anywhere rolls everything back, so a checkout is fully
 * recorded or not at all.
 */
#include "usage/usage.h"

#include <jansson.h>
#include <string.h>

#include "common/localtime.h"

static enum ep_status counts_from_store(void *ctx,
                                        const struct promo_record *record,
                                        const char *usage_date,
                                        const char *customer_id,
                                        struct engine_usage_counts *out)
{
    struct store_usage_counts counts;
    enum ep_status status = store_usage_counts_get(
        ctx, record->id, usage_date, customer_id, &counts, NULL);

    if (status != EP_OK)
        return status;
    out->total = counts.total;
    out->day = counts.day;
    out->customer = counts.customer;
    return EP_OK;
}

void usage_limits_from_store(struct store *store, struct engine_limits *out)
{
    out->counts = counts_from_store;
    out->ctx = store;
}

enum ep_status usage_evaluate(struct store *store, const struct promo_set *set,
                              const struct cart *cart, int64_t now,
                              struct ep_arena *arena,
                              struct eval_result **out, struct ep_error *err)
{
    struct engine_limits limits;

    usage_limits_from_store(store, &limits);
    return engine_evaluate(set, cart, now, &limits, arena, out, err);
}

/* ---- commit ----------------------------------------------------------- */

/* Writes the usage row of one applied promotion. */
static enum ep_status record_use(struct store *store, const struct cart *cart,
                                 const struct eval_applied *a,
                                 const char *store_id, const char *used_at,
                                 struct ep_error *err)
{
    const struct cart_customer *c = cart->has_customer ? &cart->customer
                                                       : NULL;
    struct store_usage_row row = {
        .promotion_id = a->record->id,
        .promotion_code = a->record->code,
        .transaction_id = cart->transaction_id,
        .order_number = cart->order_number,
        .customer_id = c ? c->id : NULL,
        .customer_phone = c ? c->phone : NULL,
        .member_tier = c ? c->member_tier : NULL,
        .discount_amount = a->amount,
        .original_amount = a->base_amount,
        .final_amount = a->base_amount - a->amount,
        .brand_id = cart->brand_id,
        .store_id = store_id,
        .used_at = used_at,
        .usage_date = a->usage_date,
    };

    return store_usage_insert(store, &row, err);
}

/* The checkout response: the evaluation with the commit's own fields. */
static void write_commit_response(const struct eval_result *result,
                                  const struct cart *cart,
                                  struct ep_buf *out)
{
    struct ep_buf evaluation;

    ep_buf_init(&evaluation, out->max);
    eval_result_write_json(result, cart, &evaluation);
    ep_buf_puts(out, "{\"committed\":true,\"order_number\":");
    ep_buf_json_string(out, cart->order_number);
    ep_buf_printf(out, ",\"uses_recorded\":%zu,", result->applied_count);
    if (ep_buf_status(&evaluation) == EP_OK && evaluation.len > 1)
        ep_buf_append(out, evaluation.data + 1, evaluation.len - 1);
    else
        out->status = ep_buf_status(&evaluation);
    ep_buf_deinit(&evaluation);
}

/* Evaluates and records a new checkout inside the open transaction. */
static enum ep_status record_checkout(struct store *store,
                                      const struct promo_set *set,
                                      const struct cart *cart,
                                      const char *store_id, int64_t now,
                                      struct ep_arena *arena,
                                      struct ep_buf *response,
                                      struct ep_error *err)
{
    struct eval_result *result = NULL;
    char used_at[EP_TIMESTAMP_TEXT_MAX];
    struct store_transaction txn;
    enum ep_status status;

    status = usage_evaluate(store, set, cart, now, arena, &result, err);
    ep_timestamp_format_utc(now, used_at);
    for (size_t k = 0; status == EP_OK && k < result->applied_count; k++)
        status = record_use(store, cart, &result->applied[k], store_id,
                            used_at, err);
    if (status != EP_OK)
        return status;
    write_commit_response(result, cart, response);
    if (ep_buf_status(response) != EP_OK)
        return ep_error_set(err, ep_buf_status(response), NULL,
                            "the checkout response is too large");
    memset(&txn, 0, sizeof(txn));
    txn.transaction_id = cart->transaction_id;
    txn.order_number = cart->order_number;
    txn.store_id = store_id;
    txn.brand_id = cart->brand_id;
    txn.usage_date = result->local_date;
    txn.response_json = response->data;
    txn.created_at = used_at;
    return store_transaction_insert(store, &txn, err);
}

enum ep_status usage_commit(struct store *store, const struct promo_set *set,
                            const struct cart *cart, const char *store_id,
                            int64_t now, struct ep_arena *arena,
                            struct ep_buf *response, bool *replayed_out,
                            struct ep_error *err)
{
    struct store_transaction stored;
    bool found = false;
    enum ep_status status;

    *replayed_out = false;
    if (cart->transaction_id == NULL)
        return ep_error_set(err, EP_ERR_INVALID, "transaction_id",
                            "transaction_id: required for a checkout");
    status = store_write_begin(store, err);
    if (status != EP_OK)
        return status;
    status = store_transaction_get(store, cart->transaction_id, arena,
                                   &stored, &found, err);
    if (status == EP_OK && found) {
        ep_buf_puts(response, stored.response_json);
        *replayed_out = true;
        store_write_rollback(store);
        return ep_buf_status(response);
    }
    if (status == EP_OK)
        status = record_checkout(store, set, cart, store_id, now, arena,
                                 response, err);
    if (status == EP_OK)
        return store_write_commit(store, err);
    store_write_rollback(store);
    return status;
}

/* ---- void ------------------------------------------------------------- */

/* The number of uses a stored checkout recorded (its applied list). */
static size_t uses_of(const char *response_json)
{
    json_t *root = json_loads(response_json, 0, NULL);
    size_t uses = json_array_size(json_object_get(root, "applied"));

    json_decref(root);
    return uses;
}

static void write_void_response(const char *transaction_id,
                                const char *voided_at, size_t uses,
                                struct ep_buf *out)
{
    ep_buf_puts(out, "{\"transaction_id\":");
    ep_buf_json_string(out, transaction_id);
    ep_buf_puts(out, ",\"voided\":true,\"voided_at\":");
    ep_buf_json_string(out, voided_at);
    ep_buf_printf(out, ",\"uses_returned\":%zu}", uses);
}

/* Voids a stored checkout inside the open transaction. */
static enum ep_status void_checkout(struct store *store,
                                    const struct store_transaction *stored,
                                    int64_t now, struct ep_buf *response,
                                    struct ep_error *err)
{
    char voided_at[EP_TIMESTAMP_TEXT_MAX];
    int64_t rows = 0;

    ep_timestamp_format_utc(now, voided_at);
    write_void_response(stored->transaction_id, voided_at,
                        uses_of(stored->response_json), response);
    if (ep_buf_status(response) != EP_OK)
        return ep_error_set(err, ep_buf_status(response), NULL,
                            "out of memory");
    return store_transaction_void(store, stored->transaction_id, voided_at,
                                  response->data, &rows, err);
}

enum ep_status usage_void(struct store *store, const char *transaction_id,
                          int64_t now, struct ep_buf *response,
                          struct ep_error *err)
{
    struct store_transaction stored;
    struct ep_arena arena;
    bool found = false;
    enum ep_status status;

    ep_arena_init(&arena, 4096, (size_t)64 << 20);
    status = store_write_begin(store, err);
    if (status == EP_OK)
        status = store_transaction_get(store, transaction_id, &arena, &stored,
                                       &found, err);
    if (status == EP_OK && !found)
        status = ep_error_set(err, EP_ERR_NOT_FOUND, "transaction_id",
                              "transaction %s is not known",
                              transaction_id);
    if (status == EP_OK && stored.voided_at != NULL) {
        ep_buf_puts(response, stored.void_response_json
                                  ? stored.void_response_json
                                  : "{}");
        status = ep_buf_status(response);
        store_write_rollback(store);
    } else if (status == EP_OK) {
        status = void_checkout(store, &stored, now, response, err);
        status = status == EP_OK ? store_write_commit(store, err) : status;
    }
    if (status != EP_OK)
        store_write_rollback(store);
    ep_arena_deinit(&arena);
    return status;
}
