/*
 * money.h - money as int64 hundredths of the currency unit, exactly.
 *
 * Amounts arrive as JSON numbers in currency units with at most two
 * decimals (25000, 12.5) and as DECIMAL(15,2) text from the database; both
 * are converted here, exactly, and never travel as double. Percents are
 * kept as hundredths of a percent (17.5% is 1750). Rounding is half up to
 * the hundredth; allocation is by largest remainder so the parts always sum
 * to the whole (SPEC.md section 4.1 step 6). Thread-safe: no state.
 */
#ifndef EP_MONEY_H
#define EP_MONEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Largest amount accepted anywhere: 10^13 units (DECIMAL(15,2) headroom). */
#define EP_MONEY_MAX ((int64_t)1000000000000000)
/* 100% in hundredths of a percent. */
#define EP_PERCENT_FULL 10000
/* Room for the longest amount text, sign and NUL included. */
#define EP_MONEY_TEXT_MAX 32

/*
 * Reads a JSON amount: a number in currency units, at least 0, at most two
 * decimals, at most EP_MONEY_MAX hundredths. field names it in the error.
 */
enum ep_status ep_money_from_json(const json_t *value, const char *field,
                                  int64_t *out, struct ep_error *err);

/*
 * Reads a JSON percent: 0 < p <= 100 with at most two decimals, into
 * hundredths of a percent.
 */
enum ep_status ep_percent_from_json(const json_t *value, const char *field,
                                    int32_t *out, struct ep_error *err);

/*
 * Reads decimal text ("12.5", "-3", "100.00") into hundredths. At most two
 * decimals; EP_ERR_INVALID otherwise.
 */
enum ep_status ep_money_parse_text(const char *text, int64_t *out);

/* Formats as a JSON number in units, shortest exact form: 1250 -> "12.5". */
void ep_money_format(int64_t hundredths, char out[EP_MONEY_TEXT_MAX]);

/* Formats with exactly two decimals for DECIMAL(15,2): 1250 -> "12.50". */
void ep_money_format_fixed(int64_t hundredths, char out[EP_MONEY_TEXT_MAX]);

/*
 * Formats for a cashier, rupiah style: 10000000 -> "Rp 100.000",
 * 1250 -> "Rp 12,50".
 */
void ep_money_format_display(int64_t hundredths, char out[EP_MONEY_TEXT_MAX]);

/* round(amount * percent / 100%), half up; amount >= 0. */
int64_t ep_money_percent_of(int64_t amount, int32_t percent_hundredths);

/* Scratch space for one part of an allocation. */
struct ep_money_share {
    uint64_t remainder; /* of total * weight / W */
    int64_t weight;     /* the part's weight */
    size_t index;       /* the part's position */
};

/*
 * Allocates total over n parts in proportion to weights (all >= 0): each
 * part gets floor(total * w / W), then one hundredth each goes to the
 * largest remainders (ties: larger weight, then earlier part). The parts sum
 * to total. When every weight is 0, the weights count as equal. scratch
 * must hold n entries. 0 <= total, and total <= W unless W is 0.
 */
void ep_money_allocate(int64_t total, const int64_t *weights, size_t n,
                       int64_t *parts_out, struct ep_money_share *scratch);

#endif
