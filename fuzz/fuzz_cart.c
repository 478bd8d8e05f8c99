/*
 * fuzz_cart.c - libFuzzer target: the cart request parser (cart_parse, the
 * body of POST /v1/cart/evaluate) and an evaluation of what it accepts.
 *
 * Input: the request body, as a terminal sends it. Checked: the parser
 * either fails with EP_ERR_INVALID / EP_ERR_TOO_LARGE naming a field (or
 * saying the text is not a JSON object) or returns a cart whose every value
 * is in range; an accepted cart evaluated against two fixed snapshots (the
 * example store, a gen-workload store) gives a result whose amounts add up
 * (fuzz_check_result), with and without usage limits.
 *
 *   fuzz_cart fuzz/corpus/fuzz_cart -dict=fuzz/fuzz_cart.dict
 */
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/mem.h"
#include "common/money.h"
#include "engine/engine.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const snapshots[] = {
    "examples/full_sync.json",
    "fuzz/data/workload_full_sync.json",
};

/* A failure names its field, or says what is wrong with the whole text. */
static void check_parse_failure(enum ep_status status,
                                const struct ep_error *err)
{
    fuzz_check_failure(status, err);
    if (status == EP_ERR_NOMEM)
        return;
    FUZZ_CHECK(err->field[0] != '\0' ||
                   strncmp(err->message, "not valid JSON", 14) == 0 ||
                   strcmp(err->message, "the cart must be a JSON object") == 0,
               "error without a field: %s", err->message);
    FUZZ_CHECK(
        err->field[0] == '\0' || strstr(err->message, err->field) != NULL,
        "message '%s' does not name field '%s'", err->message, err->field);
}

static bool text_ok(const char *text, bool required)
{
    if (text == NULL)
        return !required;
    return text[0] != '\0' && strlen(text) <= 128 && fuzz_is_utf8(text);
}

static void check_cart(const struct cart *cart)
{
    int64_t units = 0;

    FUZZ_CHECK(text_ok(cart->brand_id, true), "brand_id");
    FUZZ_CHECK(text_ok(cart->transaction_id, false), "transaction_id");
    FUZZ_CHECK(cart->voucher_count <= CART_MAX_VOUCHERS, "vouchers");
    for (size_t i = 0; i < cart->voucher_count; i++)
        FUZZ_CHECK(cart->voucher_codes[i] != NULL &&
                       cart->voucher_codes[i][0] != '\0',
                   "voucher %zu", i);
    FUZZ_CHECK(cart->line_count >= 1 && cart->line_count <= CART_MAX_LINES,
               "line_count %zu", cart->line_count);
    for (size_t i = 0; i < cart->line_count; i++) {
        const struct cart_line *l = &cart->lines[i];
        FUZZ_CHECK(l->quantity >= 1 && l->quantity <= CART_MAX_QUANTITY,
                   "lines[%zu].quantity %lld", i, (long long)l->quantity);
        FUZZ_CHECK(l->unit_price >= 0 && l->unit_price <= EP_MONEY_MAX,
                   "lines[%zu].unit_price %lld", i, (long long)l->unit_price);
        FUZZ_CHECK(text_ok(l->line_id, true) && text_ok(l->product_id, true) &&
                       text_ok(l->category_id, false),
                   "lines[%zu] ids", i);
        units += l->quantity;
    }
    FUZZ_CHECK(units <= 100000, "units %lld", (long long)units);
}

static void evaluate(const struct promo_set *set, const struct cart *cart,
                     const struct engine_limits *limits)
{
    struct ep_arena arena;
    struct eval_result *result = NULL;
    struct ep_error err = { 0 };
    enum ep_status status;

    ep_arena_init(&arena, 1 << 14, (size_t)1 << 30);
    status =
        engine_evaluate(set, cart, FUZZ_NOW, limits, &arena, &result, &err);
    FUZZ_CHECK(status == EP_OK, "evaluate: %s", err.message);
    fuzz_check_result(result, cart);
    ep_arena_deinit(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ep_arena arena;
    struct cart *cart = NULL;
    struct ep_error err = { 0 };
    enum ep_status status;

    fuzz_init();
    ep_arena_init(&arena, 1 << 14, (size_t)1 << 30);
    ep_mem_failure_reset();
    status = cart_parse((const char *)data, size, &arena, &cart, &err);
    if (status != EP_OK) {
        check_parse_failure(status, &err);
    } else {
        check_cart(cart);
        for (size_t i = 0; i < sizeof(snapshots) / sizeof(snapshots[0]); i++) {
            evaluate(fuzz_snapshot(snapshots[i]), cart, NULL);
            evaluate(fuzz_snapshot(snapshots[i]), cart, &fuzz_limits);
        }
    }
    ep_arena_deinit(&arena);
    return 0;
}
