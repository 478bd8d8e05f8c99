/*
 * usage.c - usage limits from the store, checkout commits and voids.
 *
 * A commit is one write transaction (store_write_begin: BEGIN IMMEDIATE on
 * SQLite, the store's lock on PostgreSQL): look the transaction id up
 * (replay: return the stored response), evaluate the cart with the limits
 * as they stand inside the transaction, write a usage row per applied
 * promotion (which bumps current_uses), store the response, commit. A
 * failure anywhere rolls everything back, so a checkout is fully recorded
 * or not at all.
 *
 * To keep the write lock short, the cart is first evaluated before the
 * transaction, noting every limit the engine asked about and its verdict
 * (engine_limit_verdict). Inside the transaction those counts are read
 * again: when every verdict is the same, the evaluation inside would be
 * the same (it depends on the counts only through those verdicts) and the
 * first one is used; otherwise the cart is evaluated again, inside.
 */
#include "usage/usage.h"

#include <jansson.h>
#include <string.h>

#include "common/localtime.h"

/* Reads the counts the promotion's limits need, and only those. */
static enum ep_status counts_from_store(void *ctx,
                                        const struct promo_record *record,
                                        const char *usage_date,
                                        const char *customer_id,
                                        struct engine_usage_counts *out)
{
    struct store_usage_counts counts;
    enum ep_status status = store_usage_counts_get(
        ctx, record->id, record->has_max_uses_per_day ? usage_date : NULL,
        record->has_max_uses_per_customer ? customer_id : NULL, &counts, NULL);

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

/* A limit the engine asked about during an evaluation, and its verdict. */
struct limit_probe {
    const struct promo_record *record; /* in the snapshot */
    const char *usage_date;            /* arena copy */
    const char *customer_id;           /* borrowed from the cart */
    enum engine_reason verdict;        /* engine_limit_verdict */
};

/* The probes of one evaluation, recorded by probe_counts. */
struct probe_log {
    struct store *store;
    struct ep_arena *arena;
    struct limit_probe *probes; /* arena */
    size_t count;
    size_t capacity;
};

static enum ep_status probe_add(struct probe_log *log,
                                const struct limit_probe *probe)
{
    struct limit_probe *grown;

    if (log->count == log->capacity) {
        size_t capacity = log->capacity * 2 + 8;
        grown = ep_arena_alloc(log->arena, capacity * sizeof(*grown));
        if (grown == NULL)
            return EP_ERR_NOMEM;
        if (log->count > 0)
            memcpy(grown, log->probes, log->count * sizeof(*grown));
        log->probes = grown;
        log->capacity = capacity;
    }
    log->probes[log->count++] = *probe;
    return EP_OK;
}

/* Reads counts from the store and records the verdict they give. */
static enum ep_status probe_counts(void *ctx, const struct promo_record *record,
                                   const char *usage_date,
                                   const char *customer_id,
                                   struct engine_usage_counts *out)
{
    struct probe_log *log = ctx;
    struct limit_probe probe = { record, NULL, customer_id, REASON_APPLIED };
    enum ep_status status =
        counts_from_store(log->store, record, usage_date, customer_id, out);

    if (status != EP_OK)
        return status;
    probe.usage_date = ep_arena_strdup(log->arena, usage_date);
    probe.verdict = engine_limit_verdict(record, out);
    if (probe.usage_date == NULL)
        return EP_ERR_NOMEM;
    return probe_add(log, &probe);
}

/* True when every recorded verdict still holds in the store now. */
static enum ep_status probes_hold(const struct probe_log *log, bool *hold)
{
    *hold = true;
    for (size_t k = 0; *hold && k < log->count; k++) {
        const struct limit_probe *p = &log->probes[k];
        struct engine_usage_counts counts;
        enum ep_status status = counts_from_store(
            log->store, p->record, p->usage_date, p->customer_id, &counts);
        if (status != EP_OK)
            return status;
        *hold = engine_limit_verdict(p->record, &counts) == p->verdict;
    }
    return EP_OK;
}

enum ep_status usage_evaluate(struct store *store, const struct promo_set *set,
                              const struct cart *cart, int64_t now,
                              struct ep_arena *arena, struct eval_result **out,
                              struct ep_error *err)
{
    struct engine_limits limits;
    enum ep_status status;

    usage_limits_from_store(store, &limits);
    status = store_read_begin(store, err);
    if (status == EP_OK)
        status = engine_evaluate(set, cart, now, &limits, arena, out, err);
    store_read_end(store);
    return status;
}

/* ---- commit ----------------------------------------------------------- */

/* Writes the usage row of one applied promotion. */
static enum ep_status record_use(struct store *store, const struct cart *cart,
                                 const struct eval_applied *a,
                                 const char *store_id, const char *used_at,
                                 struct ep_error *err)
{
    const struct cart_customer *c = cart->has_customer ? &cart->customer : NULL;
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
                                  const struct cart *cart, struct ep_buf *out)
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

/* A checkout being committed. */
struct checkout {
    struct store *store;
    const struct promo_set *set;
    const struct cart *cart;
    const char *store_id;
    int64_t now;
    struct ep_arena *arena;
    struct eval_result *result; /* the evaluation used */
    struct probe_log probes;    /* the limits it asked about */
};

/* Evaluates the cart, recording the limits the engine asks about. */
static enum ep_status checkout_evaluate(struct checkout *c,
                                        struct ep_error *err)
{
    struct engine_limits limits = { probe_counts, &c->probes };

    c->probes.store = c->store;
    c->probes.arena = c->arena;
    c->probes.count = 0;
    return engine_evaluate(c->set, c->cart, c->now, &limits, c->arena,
                           &c->result, err);
}

/* The first evaluation of a commit, before its write lock: in one read
 * transaction, like any evaluation. */
static enum ep_status checkout_evaluate_first(struct checkout *c,
                                              struct ep_error *err)
{
    enum ep_status status = store_read_begin(c->store, err);

    if (status == EP_OK)
        status = checkout_evaluate(c, err);
    store_read_end(c->store);
    return status;
}

/* Writes the evaluation's uses and the checkout, inside the transaction. */
static enum ep_status checkout_record(struct checkout *c,
                                      struct ep_buf *response,
                                      struct ep_error *err)
{
    char used_at[EP_TIMESTAMP_TEXT_MAX];
    struct store_transaction txn;
    enum ep_status status = EP_OK;

    ep_timestamp_format_utc(c->now, used_at);
    for (size_t k = 0; status == EP_OK && k < c->result->applied_count; k++)
        status = record_use(c->store, c->cart, &c->result->applied[k],
                            c->store_id, used_at, err);
    if (status != EP_OK)
        return status;
    memset(&txn, 0, sizeof(txn));
    txn.transaction_id = c->cart->transaction_id;
    txn.order_number = c->cart->order_number;
    txn.store_id = c->store_id;
    txn.brand_id = c->cart->brand_id;
    txn.usage_date = c->result->local_date;
    txn.response_json = response->data;
    txn.created_at = used_at;
    return store_transaction_insert(c->store, &txn, err);
}

static enum ep_status checkout_respond(struct checkout *c,
                                       struct ep_buf *response,
                                       struct ep_error *err)
{
    ep_buf_reset(response);
    write_commit_response(c->result, c->cart, response);
    if (ep_buf_status(response) != EP_OK)
        return ep_error_set(err, ep_buf_status(response), NULL,
                            "the checkout response is too large");
    return EP_OK;
}

/*
 * Inside the transaction: replays a known transaction id, or makes sure
 * the evaluation made before still holds (else evaluates again) and
 * records it.
 */
static enum ep_status checkout_locked(struct checkout *c,
                                      struct ep_buf *response, bool *replayed,
                                      struct ep_error *err)
{
    struct store_transaction stored;
    bool found = false;
    bool hold = false;
    enum ep_status status;

    status = store_transaction_get(c->store, c->cart->transaction_id, c->arena,
                                   &stored, &found, err);
    if (status == EP_OK && found) {
        ep_buf_reset(response);
        ep_buf_puts(response, stored.response_json);
        *replayed = true;
        return ep_buf_status(response);
    }
    if (status == EP_OK)
        status = probes_hold(&c->probes, &hold);
    if (status == EP_OK && !hold)
        status = checkout_evaluate(c, err);
    if (status == EP_OK && !hold)
        status = checkout_respond(c, response, err);
    if (status == EP_OK)
        status = checkout_record(c, response, err);
    return status;
}

enum ep_status usage_commit(struct store *store, const struct promo_set *set,
                            const struct cart *cart, const char *store_id,
                            int64_t now, struct ep_arena *arena,
                            struct ep_buf *response, bool *replayed_out,
                            struct ep_error *err)
{
    struct checkout c = { store, set,   cart, store_id,
                          now,   arena, NULL, { NULL, NULL, NULL, 0, 0 } };
    enum ep_status status;

    *replayed_out = false;
    if (cart->transaction_id == NULL)
        return ep_error_set(err, EP_ERR_INVALID, "transaction_id",
                            "transaction_id: required for a checkout");
    status = checkout_evaluate_first(&c, err);
    if (status == EP_OK)
        status = checkout_respond(&c, response, err);
    if (status == EP_OK)
        status = store_write_begin(store, err);
    if (status != EP_OK)
        return status;
    status = checkout_locked(&c, response, replayed_out, err);
    if (status == EP_OK && *replayed_out) {
        store_write_rollback(store);
        return EP_OK;
    }
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
                              "transaction %s is not known", transaction_id);
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
