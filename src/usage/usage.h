/*
 * usage.h - checkout: record each applied promotion's use atomically,
 * exactly once per transaction id, with limits that hold under concurrency;
 * voids that give the uses back; and the limits an evaluation sees.
 *
 * Owns the rules of SPEC.md section 5 on usage: total uses = current_uses
 * (the CMS's count plus this edge's unreported uses), per day = local uses
 * on the promotion's store-local business date, per customer = local uses
 * by the customer id; voided uses do not count. A commit re-evaluates the
 * cart inside one write transaction (store_write_begin), so the limits it
 * checks cannot change before its rows are written.
 *
 * Used by the cli and the api alike. Thread-safety: a function call uses
 * the store it is given; give each thread its own store.
 */
#ifndef EP_USAGE_H
#define EP_USAGE_H

#include <stdbool.h>

#include "common/buf.h"
#include "engine/engine.h"
#include "store/store.h"

/* An engine_limits that reads counts from store (read-only). */
void usage_limits_from_store(struct store *store, struct engine_limits *out);

/*
 * Evaluates cart against set with the usage counts in store, without side
 * effects (POST /v1/cart/evaluate). The result lives in arena.
 */
enum ep_status usage_evaluate(struct store *store, const struct promo_set *set,
                              const struct cart *cart, int64_t now,
                              struct ep_arena *arena, struct eval_result **out,
                              struct ep_error *err);

/*
 * Checkout (POST /v1/transactions): cart->transaction_id is required. In
 * one write transaction: if the transaction id is known, its stored
 * response is written to response and *replayed_out is true (nothing is
 * counted again, even if promotions changed since); otherwise the cart is
 * re-evaluated with the limits as they stand, one promotion_usage row per
 * applied promotion is written, current_uses is bumped, and the response
 * (the evaluation plus "transaction_id", "committed": true) is stored and
 * written to response. store_id is this store (for the rows).
 * EP_ERR_INVALID without a transaction id; store errors roll everything back.
 */
enum ep_status usage_commit(struct store *store, const struct promo_set *set,
                            const struct cart *cart, const char *store_id,
                            int64_t now, struct ep_arena *arena,
                            struct ep_buf *response, bool *replayed_out,
                            struct ep_error *err);

/*
 * Void (POST /v1/transactions/{id}/void): marks the transaction's uses
 * voided and gives them back, in one write transaction, and writes the
 * response. A second void writes the same response and changes nothing.
 * EP_ERR_NOT_FOUND for an unknown transaction id.
 */
enum ep_status usage_void(struct store *store, const char *transaction_id,
                          int64_t now, struct ep_buf *response,
                          struct ep_error *err);

#endif
