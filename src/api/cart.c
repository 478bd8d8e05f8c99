/*
 * cart.c - the checkout routes: POST /v1/cart/evaluate (price a cart, no
 * side effects), POST /v1/transactions (record the uses, idempotent by
 * transaction id) and POST /v1/transactions/{transaction_id}/void.
 *
 * Pricing is the engine's and usage counting the usage module's; here we
 * only read the body, pick this thread's database connection and the
 * current snapshot, and count outcomes. Evaluations read the immutable
 * snapshot without locks; every write goes through usage_commit or
 * usage_void, each one database transaction.
 */
#include <jansson.h>
#include <string.h>

#include "api/internal.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "usage/usage.h"

#define TRANSACTION_ID_MAX 128

/* Parses the body as JSON; errors get the invalid_json code. */
static enum ep_status parse_json(struct api_call *call, json_t **out)
{
    const struct api_request *req = call->request;
    json_error_t jerr;

    if (req->body_len == 0) {
        call->error_kind = API_ERR_INVALID_JSON;
        return ep_error_set(&call->err, EP_ERR_INVALID, NULL,
                            "the body is empty: a JSON object is expected");
    }
    ep_mem_failure_reset();
    *out = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (*out != NULL && !ep_mem_failure_seen())
        return EP_OK;
    /* Out of memory, jansson may still return a tree with a string cut
     * short (a transaction id, a product id): it is not the cart sent. */
    if (*out != NULL || ep_mem_failure_seen() ||
        api_json_out_of_memory(&jerr)) {
        json_decref(*out);
        *out = NULL;
        return ep_error_set(&call->err, EP_ERR_NOMEM, NULL, "out of memory");
    }
    call->error_kind = API_ERR_INVALID_JSON;
    return ep_error_set(&call->err, EP_ERR_INVALID, NULL,
                        "not valid JSON: %s (line %d, column %d)", jerr.text,
                        jerr.line, jerr.column);
}

/* Reads the body as a cart (SPEC.md section 5) into the call's arena. */
static enum ep_status parse_cart(struct api_call *call, struct cart **out)
{
    json_t *root = NULL;
    enum ep_status status = parse_json(call, &root);

    if (status != EP_OK)
        return status;
    status = cart_from_json(root, call->arena, out, &call->err);
    json_decref(root);
    return status;
}

enum ep_status api_handle_evaluate(struct api_call *call)
{
    struct cart *cart = NULL;
    struct store *store = NULL;
    struct promo_set *set = NULL;
    struct eval_result *result = NULL;
    enum ep_status status;

    status = parse_cart(call, &cart);
    if (status == EP_OK)
        status = api_call_store(call, &store);
    if (status == EP_OK)
        status = api_call_snapshot(call, &set);
    if (status == EP_OK)
        status = usage_evaluate(store, set, cart, ep_now(), call->arena,
                                &result, &call->err);
    if (status == EP_OK) {
        eval_result_write_json(result, cart, call->out);
        api_metrics_add(&call->server->metrics.evaluations);
    }
    promo_set_release(set);
    return status;
}

/* Commits a parsed cart; *replayed tells a known transaction id. */
static enum ep_status commit_cart(struct api_call *call,
                                  const struct cart *cart, bool *replayed)
{
    struct store *store = NULL;
    struct promo_set *set = NULL;
    enum ep_status status;

    if (cart->transaction_id == NULL)
        return ep_error_set(&call->err, EP_ERR_INVALID, "transaction_id",
                            "transaction_id: required for a checkout");
    status = api_call_store(call, &store);
    if (status == EP_OK)
        status = api_call_snapshot(call, &set);
    if (status == EP_OK)
        status = usage_commit(store, set, cart, call->server->config->store_id,
                              ep_now(), call->arena, call->out, replayed,
                              &call->err);
    promo_set_release(set);
    return status;
}

enum ep_status api_handle_commit(struct api_call *call)
{
    struct api_metrics *metrics = &call->server->metrics;
    struct cart *cart = NULL;
    bool replayed = false;
    enum ep_status status;

    status = parse_cart(call, &cart);
    if (status == EP_OK)
        status = commit_cart(call, cart, &replayed);
    if (status != EP_OK) {
        api_metrics_add(&metrics->commits[API_COMMIT_FAILED]);
        return status;
    }
    call->replayed = replayed;
    api_metrics_add(&metrics->commits[replayed ? API_COMMIT_REPLAYED
                                               : API_COMMIT_COMMITTED]);
    return EP_OK;
}

/* A void may carry a JSON object (a reason, say); it is checked, not kept. */
static enum ep_status check_void_body(struct api_call *call)
{
    json_t *root = NULL;
    enum ep_status status;

    if (call->request->body_len == 0)
        return EP_OK;
    status = parse_json(call, &root);
    if (status == EP_OK && !json_is_object(root))
        status = ep_error_set(&call->err, EP_ERR_INVALID, NULL,
                              "the body must be a JSON object");
    json_decref(root);
    return status;
}

enum ep_status api_handle_void(struct api_call *call)
{
    const char *transaction_id = api_call_param(call, 0);
    struct store *store = NULL;
    enum ep_status status;

    if (strlen(transaction_id) > TRANSACTION_ID_MAX)
        return ep_error_set(&call->err, EP_ERR_INVALID, "transaction_id",
                            "transaction_id: at most %d characters",
                            TRANSACTION_ID_MAX);
    status = check_void_body(call);
    if (status == EP_OK)
        status = api_call_store(call, &store);
    if (status == EP_OK)
        status =
            usage_void(store, transaction_id, ep_now(), call->out, &call->err);
    if (status == EP_OK)
        api_metrics_add(&call->server->metrics.voids);
    return status;
}
