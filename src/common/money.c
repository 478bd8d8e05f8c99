/*
 * money.c - exact conversions, rounding and largest-remainder allocation.
 *
 * JSON reals: jansson hands a real over as a double. An amount text with at
 * most two decimals is accepted when the double read from it is the double
 * nearest to cents/100 for an integer number of cents: 12.35 passes (its
 * double is the nearest to 1235/100), 12.345 does not. Integers come over
 * exactly as json_integer.
 */
#include "common/money.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 money_u128;

/* Converts a real with at most two decimals to hundredths. */
static bool real_to_hundredths(double value, int64_t *out)
{
    double scaled = value * 100.0;
    double cents;

    if (!isfinite(value) || fabs(scaled) > (double)EP_MONEY_MAX * 10.0)
        return false;
    cents = nearbyint(scaled);
    if (cents / 100.0 != value)
        return false;
    *out = (int64_t)cents;
    return true;
}

/* Reads a JSON number with at most two decimals into hundredths. */
static enum ep_status json_to_hundredths(const json_t *value, const char *field,
                                         int64_t *out, struct ep_error *err)
{
    json_int_t whole;

    if (json_is_integer(value)) {
        whole = json_integer_value(value);
        if (whole > EP_MONEY_MAX / 100 || whole < -EP_MONEY_MAX / 100)
            return ep_error_set(err, EP_ERR_INVALID, field, "%s is too large",
                                field);
        *out = (int64_t)whole * 100;
        return EP_OK;
    }
    if (!json_is_real(value))
        return ep_error_set(err, EP_ERR_INVALID, field, "%s must be a number",
                            field);
    if (!real_to_hundredths(json_real_value(value), out))
        return ep_error_set(err, EP_ERR_INVALID, field,
                            "%s must have at most 2 decimals", field);
    return EP_OK;
}

enum ep_status ep_money_from_json(const json_t *value, const char *field,
                                  int64_t *out, struct ep_error *err)
{
    int64_t hundredths;
    enum ep_status status = json_to_hundredths(value, field, &hundredths, err);

    if (status != EP_OK)
        return status;
    if (hundredths < 0)
        return ep_error_set(err, EP_ERR_INVALID, field,
                            "%s must not be negative", field);
    if (hundredths > EP_MONEY_MAX)
        return ep_error_set(err, EP_ERR_INVALID, field, "%s is too large",
                            field);
    *out = hundredths;
    return EP_OK;
}

enum ep_status ep_percent_from_json(const json_t *value, const char *field,
                                    int32_t *out, struct ep_error *err)
{
    int64_t hundredths;
    enum ep_status status = json_to_hundredths(value, field, &hundredths, err);

    if (status != EP_OK)
        return status;
    if (hundredths <= 0 || hundredths > EP_PERCENT_FULL)
        return ep_error_set(err, EP_ERR_INVALID, field,
                            "%s must be more than 0 and at most 100", field);
    *out = (int32_t)hundredths;
    return EP_OK;
}

/* Reads up to two decimal digits after the point into hundredths. */
static enum ep_status parse_fraction(const char *p, int64_t *cents)
{
    int digits = 0;

    *cents = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (digits == 2) {
            if (*p != '0')
                return EP_ERR_INVALID;
            continue;
        }
        *cents = *cents * 10 + (*p - '0');
        digits++;
    }
    if (*p != '\0')
        return EP_ERR_INVALID;
    if (digits == 1)
        *cents *= 10;
    return EP_OK;
}

enum ep_status ep_money_parse_text(const char *text, int64_t *out)
{
    const char *p = text;
    bool negative = false;
    int64_t whole = 0;
    int64_t cents = 0;

    if (text == NULL)
        return EP_ERR_INVALID;
    if (*p == '-' || *p == '+')
        negative = *p++ == '-';
    if (*p < '0' || *p > '9')
        return EP_ERR_INVALID;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > EP_MONEY_MAX / 100)
            return EP_ERR_INVALID;
    }
    if (*p == '.' && parse_fraction(p + 1, &cents) != EP_OK)
        return EP_ERR_INVALID;
    if (*p != '.' && *p != '\0')
        return EP_ERR_INVALID;
    *out = (whole * 100 + cents) * (negative ? -1 : 1);
    return EP_OK;
}

/* Writes the digits of value at out; returns the number written. */
static size_t write_digits(uint64_t value, char *out)
{
    char reversed[24];
    size_t n = 0;

    do {
        reversed[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = reversed[n - 1 - i];
    return n;
}

void ep_money_format(int64_t hundredths, char out[EP_MONEY_TEXT_MAX])
{
    uint64_t magnitude = hundredths < 0 ? (uint64_t)0 - (uint64_t)hundredths
                                        : (uint64_t)hundredths;
    uint64_t cents = magnitude % 100;
    size_t pos = 0;

    if (hundredths < 0)
        out[pos++] = '-';
    pos += write_digits(magnitude / 100, out + pos);
    if (cents != 0) {
        out[pos++] = '.';
        out[pos++] = (char)('0' + cents / 10);
        if (cents % 10 != 0)
            out[pos++] = (char)('0' + cents % 10);
    }
    out[pos] = '\0';
}

void ep_money_format_fixed(int64_t hundredths, char out[EP_MONEY_TEXT_MAX])
{
    const char *sign = hundredths < 0 ? "-" : "";
    uint64_t magnitude = hundredths < 0 ? (uint64_t)0 - (uint64_t)hundredths
                                        : (uint64_t)hundredths;

    snprintf(out, EP_MONEY_TEXT_MAX, "%s%" PRIu64 ".%02" PRIu64, sign,
             magnitude / 100, magnitude % 100);
}

void ep_money_format_display(int64_t hundredths, char out[EP_MONEY_TEXT_MAX])
{
    char digits[24];
    uint64_t magnitude = hundredths < 0 ? (uint64_t)0 - (uint64_t)hundredths
                                        : (uint64_t)hundredths;
    uint64_t cents = magnitude % 100;
    size_t len = write_digits(magnitude / 100, digits);
    size_t pos = 0;

    if (hundredths < 0)
        out[pos++] = '-';
    memcpy(out + pos, "Rp ", 3);
    pos += 3;
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[pos++] = '.';
        out[pos++] = digits[i];
    }
    if (cents != 0) {
        out[pos++] = ',';
        out[pos++] = (char)('0' + cents / 10);
        out[pos++] = (char)('0' + cents % 10);
    }
    out[pos] = '\0';
}

int64_t ep_money_percent_of(int64_t amount, int32_t percent_hundredths)
{
    money_u128 product =
        (money_u128)(uint64_t)amount * (money_u128)(uint32_t)percent_hundredths;

    return (int64_t)((product + EP_PERCENT_FULL / 2) / EP_PERCENT_FULL);
}

static int64_t sum_weights(const int64_t *weights, size_t n)
{
    int64_t sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += weights[i];
    return sum;
}

/* Largest remainder first; ties: larger weight, then earlier part. */
static int compare_shares(const void *a, const void *b)
{
    const struct ep_money_share *x = a;
    const struct ep_money_share *y = b;

    if (x->remainder != y->remainder)
        return x->remainder > y->remainder ? -1 : 1;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Sorts shares largest first: insertion sort for the few lines of a cart,
 * qsort beyond. */
static void sort_shares(struct ep_money_share *shares, size_t n)
{
    if (n > 64) {
        qsort(shares, n, sizeof(*shares), compare_shares);
        return;
    }
    for (size_t a = 1; a < n; a++) {
        struct ep_money_share moving = shares[a];
        size_t b = a;
        for (; b > 0 && compare_shares(&moving, &shares[b - 1]) < 0; b--)
            shares[b] = shares[b - 1];
        shares[b] = moving;
    }
}

/* Gives one hundredth to each of the k largest shares, by scanning: for
 * a few hundredths this beats sorting all of them. */
static void give_largest(struct ep_money_share *shares, size_t n, size_t k,
                         int64_t *parts_out)
{
    for (size_t round = 0; round < k; round++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (shares[i].index != SIZE_MAX &&
                (best == n || compare_shares(&shares[i], &shares[best]) < 0))
                best = i;
        }
        parts_out[shares[best].index] += 1;
        shares[best].index = SIZE_MAX;
    }
}

void ep_money_allocate(int64_t total, const int64_t *weights, size_t n,
                       int64_t *parts_out, struct ep_money_share *scratch)
{
    int64_t sum = sum_weights(weights, n);
    int64_t left = total;
    bool equal = sum == 0;

    if (n == 0)
        return;
    if (equal)
        sum = (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        int64_t w = equal ? 1 : weights[i];
        money_u128 product = (money_u128)(uint64_t)total * (uint64_t)w;
        parts_out[i] = (int64_t)(product / (uint64_t)sum);
        scratch[i].remainder = (uint64_t)(product % (uint64_t)sum);
        scratch[i].weight = w;
        scratch[i].index = i;
        left -= parts_out[i];
    }
    if (left <= 0)
        return;
    if (left <= 4) {
        give_largest(scratch, n, (size_t)left, parts_out);
        return;
    }
    sort_shares(scratch, n);
    for (size_t k = 0; k < (size_t)left && k < n; k++)
        parts_out[scratch[k].index] += 1;
}
