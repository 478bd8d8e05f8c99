/*
 * cart.c - reads a POS cart (the body of /v1/cart/evaluate) from JSON.
 *
 * Every value is checked and every error names its field: "lines[2].
 * quantity: expected a whole number from 1 to 10000". Amounts are numbers
 * in currency units with at most two decimals, read exactly into
 * hundredths. Keys this version does not know are ignored, so a newer POS
 * can send more. The cart's strings are copied into the caller's arena and
 * the JSON is released before evaluation starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/money.h"
#include "engine/internal.h"

#define CART_TEXT_MAX  128
#define CART_MAX_UNITS 100000

static enum ep_status cart_invalid(struct ep_error *err, const char *field,
                                   const char *expected)
{
    return ep_error_set(err, EP_ERR_INVALID, field, "%s: expected %s", field,
                        expected);
}

/*
 * Reads an optional string member into the arena. Absent or null gives
 * NULL; anything else that is not a string of 1..CART_TEXT_MAX characters
 * is an error. A whole number is accepted and kept as its text.
 */
static enum ep_status read_text(const json_t *obj, const char *key,
                                const char *field, bool required,
                                struct ep_arena *arena, const char **out,
                                struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);
    char number[32];
    const char *text;

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? cart_invalid(err, field, "a non-empty string")
                        : EP_OK;
    if (json_is_integer(v)) {
        snprintf(number, sizeof(number), "%lld",
                 (long long)json_integer_value(v));
        text = number;
    } else if (json_is_string(v)) {
        text = json_string_value(v);
    } else {
        return cart_invalid(err, field, "a string");
    }
    if (text[0] == '\0' || strlen(text) > CART_TEXT_MAX ||
        strlen(text) !=
            (json_is_string(v) ? json_string_length(v) : strlen(text)))
        return cart_invalid(err, field, "a string of 1 to 128 characters");
    *out = ep_arena_strdup(arena, text);
    if (*out == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, field, "out of memory");
    return EP_OK;
}

static enum ep_status read_bool(const json_t *obj, const char *key,
                                const char *field, bool *out,
                                struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);

    *out = false;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (!json_is_boolean(v))
        return cart_invalid(err, field, "true or false");
    *out = json_is_true(v);
    return EP_OK;
}

/* Returns the member as an object, NULL when absent or null. */
static enum ep_status read_object(const json_t *root, const char *key,
                                  const json_t **out, struct ep_error *err)
{
    const json_t *v = json_object_get(root, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (!json_is_object(v))
        return cart_invalid(err, key, "an object");
    *out = v;
    return EP_OK;
}

static enum ep_status read_customer(const json_t *root, struct ep_arena *arena,
                                    struct cart *cart, struct ep_error *err)
{
    const json_t *c = NULL;
    struct cart_customer *cu = &cart->customer;
    enum ep_status status = read_object(root, "customer", &c, err);

    if (status != EP_OK || c == NULL)
        return status;
    cart->has_customer = true;
    if (read_text(c, "id", "customer.id", false, arena, &cu->id, err) ||
        read_text(c, "phone", "customer.phone", false, arena, &cu->phone,
                  err) ||
        read_text(c, "member_tier", "customer.member_tier", false, arena,
                  &cu->member_tier, err) ||
        read_text(c, "type", "customer.type", false, arena, &cu->type, err) ||
        read_bool(c, "is_member", "customer.is_member", &cu->is_member, err))
        return EP_ERR_INVALID;
    if (cu->type != NULL && strcmp(cu->type, "member") != 0 &&
        strcmp(cu->type, "non_member") != 0)
        return cart_invalid(err, "customer.type",
                            "\"member\", \"non_member\" or null");
    return EP_OK;
}

static enum ep_status read_payment(const json_t *root, struct ep_arena *arena,
                                   struct cart *cart, struct ep_error *err)
{
    const json_t *p = NULL;
    enum ep_status status = read_object(root, "payment", &p, err);

    if (status != EP_OK || p == NULL)
        return status;
    cart->has_payment = true;
    return read_text(p, "method", "payment.method", false, arena,
                     &cart->payment_method, err);
}

static enum ep_status read_vouchers(const json_t *root, struct ep_arena *arena,
                                    struct cart *cart, struct ep_error *err)
{
    const json_t *v = json_object_get(root, "voucher_codes");
    size_t n;

    if (v == NULL || json_is_null(v))
        return EP_OK;
    n = json_array_size(v);
    if (!json_is_array(v) || n > CART_MAX_VOUCHERS)
        return cart_invalid(err, "voucher_codes",
                            "an array of at most 20 codes");
    cart->voucher_codes =
        ep_arena_calloc(arena, n + 1, sizeof(*cart->voucher_codes));
    if (cart->voucher_codes == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "voucher_codes",
                            "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *code = json_array_get(v, i);
        char field[48];
        snprintf(field, sizeof(field), "voucher_codes[%zu]", i);
        if (!json_is_string(code) || json_string_length(code) == 0 ||
            json_string_length(code) > 64 ||
            strlen(json_string_value(code)) != json_string_length(code))
            return cart_invalid(err, field, "a code of 1 to 64 characters");
        cart->voucher_codes[i] =
            ep_arena_strdup(arena, json_string_value(code));
        if (cart->voucher_codes[i] == NULL)
            return ep_error_set(err, EP_ERR_NOMEM, field, "out of memory");
    }
    cart->voucher_count = n;
    return EP_OK;
}

static enum ep_status read_quantity(const json_t *line, const char *prefix,
                                    int64_t *out, struct ep_error *err)
{
    const json_t *v = json_object_get(line, "quantity");
    char field[64];

    snprintf(field, sizeof(field), "%s.quantity", prefix);
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > CART_MAX_QUANTITY)
        return cart_invalid(err, field, "a whole number from 1 to 10000");
    *out = (int64_t)json_integer_value(v);
    return EP_OK;
}

static enum ep_status read_line(const json_t *line, size_t index,
                                struct ep_arena *arena, struct cart_line *out,
                                struct ep_error *err)
{
    char prefix[32];
    char field[64];
    const json_t *price;

    snprintf(prefix, sizeof(prefix), "lines[%zu]", index);
    if (!json_is_object(line))
        return cart_invalid(err, prefix, "an object");
    snprintf(field, sizeof(field), "%s.line_id", prefix);
    if (read_text(line, "line_id", field, true, arena, &out->line_id, err))
        return EP_ERR_INVALID;
    snprintf(field, sizeof(field), "%s.product_id", prefix);
    if (read_text(line, "product_id", field, true, arena, &out->product_id,
                  err))
        return EP_ERR_INVALID;
    snprintf(field, sizeof(field), "%s.category_id", prefix);
    if (read_text(line, "category_id", field, false, arena, &out->category_id,
                  err) ||
        read_quantity(line, prefix, &out->quantity, err))
        return EP_ERR_INVALID;
    snprintf(field, sizeof(field), "%s.unit_price", prefix);
    price = json_object_get(line, "unit_price");
    if (price == NULL || json_is_null(price))
        return cart_invalid(err, field, "an amount (a number)");
    return ep_money_from_json(price, field, &out->unit_price, err);
}

static int compare_line_ids(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a,
                  **(const char *const *const *)b);
}

/* Rejects a cart whose line ids repeat, naming the later line. */
static enum ep_status check_line_ids(const struct cart *cart,
                                     struct ep_arena *arena,
                                     struct ep_error *err)
{
    const char **ids = ep_arena_calloc(arena, cart->line_count, sizeof(*ids));
    const char ***refs =
        ep_arena_calloc(arena, cart->line_count, sizeof(*refs));

    if (ids == NULL || refs == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "lines", "out of memory");
    for (size_t i = 0; i < cart->line_count; i++) {
        ids[i] = cart->lines[i].line_id;
        refs[i] = &ids[i];
    }
    qsort(refs, cart->line_count, sizeof(*refs), compare_line_ids);
    for (size_t i = 1; i < cart->line_count; i++) {
        if (strcmp(*refs[i], *refs[i - 1]) == 0) {
            size_t later =
                (size_t)((refs[i] > refs[i - 1] ? refs[i] : refs[i - 1]) - ids);
            char field[48];
            snprintf(field, sizeof(field), "lines[%zu].line_id", later);
            return ep_error_set(err, EP_ERR_INVALID, field,
                                "%s: '%s' is used by another line", field,
                                *refs[i]);
        }
    }
    return EP_OK;
}

static enum ep_status read_lines(const json_t *root, struct ep_arena *arena,
                                 struct cart *cart, struct ep_error *err)
{
    const json_t *lines = json_object_get(root, "lines");
    size_t n = json_array_size(lines);
    int64_t units = 0;
    int64_t amount = 0;

    if (!json_is_array(lines) || n == 0)
        return cart_invalid(err, "lines", "a non-empty array of lines");
    if (n > CART_MAX_LINES)
        return ep_error_set(err, EP_ERR_INVALID, "lines",
                            "lines: %zu lines, at most %d are accepted", n,
                            CART_MAX_LINES);
    cart->lines = ep_arena_calloc(arena, n, sizeof(*cart->lines));
    if (cart->lines == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "lines", "out of memory");
    cart->line_count = n;
    for (size_t i = 0; i < n; i++) {
        struct cart_line *line = &cart->lines[i];
        if (read_line(json_array_get(lines, i), i, arena, line, err))
            return err ? err->status : EP_ERR_INVALID;
        units += line->quantity;
        if (line->unit_price > (EP_MONEY_MAX - amount) / line->quantity)
            return ep_error_set(err, EP_ERR_INVALID, "lines",
                                "lines: the cart's amount is too large");
        amount += line->unit_price * line->quantity;
    }
    if (units > CART_MAX_UNITS)
        return ep_error_set(err, EP_ERR_INVALID, "lines",
                            "lines: %lld units, at most %d are accepted",
                            (long long)units, CART_MAX_UNITS);
    return check_line_ids(cart, arena, err);
}

static enum ep_status read_at(const json_t *root, struct cart *cart,
                              struct ep_error *err)
{
    const json_t *v = json_object_get(root, "at");

    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (!json_is_string(v) ||
        ep_time_parse_rfc3339(json_string_value(v), &cart->at) != EP_OK)
        return cart_invalid(err, "at",
                            "an RFC 3339 time with offset, e.g. "
                            "2026-01-30T12:00:00+07:00");
    cart->has_at = true;
    return EP_OK;
}

enum ep_status cart_from_json(const json_t *root, struct ep_arena *arena,
                              struct cart **out, struct ep_error *err)
{
    struct cart *cart;

    if (!json_is_object(root))
        return ep_error_set(err, EP_ERR_INVALID, NULL,
                            "the cart must be a JSON object");
    cart = ep_arena_calloc(arena, 1, sizeof(*cart));
    if (cart == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    if (read_text(root, "brand_id", "brand_id", true, arena, &cart->brand_id,
                  err) ||
        read_at(root, cart, err) ||
        read_text(root, "transaction_id", "transaction_id", false, arena,
                  &cart->transaction_id, err) ||
        read_text(root, "order_number", "order_number", false, arena,
                  &cart->order_number, err) ||
        read_customer(root, arena, cart, err) ||
        read_vouchers(root, arena, cart, err) ||
        read_payment(root, arena, cart, err) ||
        read_lines(root, arena, cart, err))
        return err ? err->status : EP_ERR_INVALID;
    *out = cart;
    return EP_OK;
}

enum ep_status cart_parse(const char *text, size_t length,
                          struct ep_arena *arena, struct cart **out,
                          struct ep_error *err)
{
    json_error_t jerr;
    json_t *root;
    enum ep_status status;

    ep_mem_failure_reset();
    root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && ep_mem_failure_seen())
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    if (root == NULL)
        return ep_error_set(err, EP_ERR_INVALID, NULL,
                            "not valid JSON: %s (line %d, column %d)",
                            jerr.text, jerr.line, jerr.column);
    status = cart_from_json(root, arena, out, err);
    json_decref(root);
    if (ep_mem_failure_seen()) {
        ep_error_clear(err);
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    }
    return status;
}
