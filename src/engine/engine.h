/*
 * engine.h - the promotion engine: compile promotions once, evaluate carts
 * to the hundredth, and explain every decision (SPEC.md sections 2 and 4).
 *
 * Pure computation: no I/O, no SQL, no clock reading of its own (callers
 * pass "now"), no JSON during evaluation. The pieces:
 *
 *   engine_promotion_validate  checks one promotion record (sync uses it);
 *   promo_set_build            compiles a store's records into an immutable,
 *                              indexed, reference-counted snapshot;
 *   engine_slot                the one mutable pointer: the current snapshot,
 *                              swapped after a sync while evaluations on the
 *                              old one finish;
 *   cart_parse / cart_from_json  reads a POS cart (jansson, at the edge);
 *   engine_evaluate            prices a cart against a snapshot;
 *   eval_result_write_json     writes the SPEC.md section 5 response.
 *
 * Usage limits come in through struct engine_limits, a callback the caller
 * fills from the store, so the engine stays pure.
 *
 * Thread-safety: a promo_set is immutable and may be read by any number of
 * threads; engine_slot operations are thread-safe; everything else works on
 * caller-owned memory (one arena per evaluation).
 */
#ifndef EP_ENGINE_H
#define EP_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/promo_record.h"

/* Why a candidate did not apply, in the order of SPEC.md section 4.1. */
#define ENGINE_REASON_TABLE(X)                                   \
    X(REASON_APPLIED, "applied")                                 \
    X(REASON_UNKNOWN_VOUCHER, "unknown_voucher")                 \
    X(REASON_UNSUPPORTED_TYPE, "unsupported_type")               \
    X(REASON_INACTIVE, "inactive")                               \
    X(REASON_NOT_STARTED, "not_started")                         \
    X(REASON_EXPIRED, "expired")                                 \
    X(REASON_NOT_VALID_TODAY, "not_valid_today")                 \
    X(REASON_HOLIDAY_EXCLUDED, "holiday_excluded")               \
    X(REASON_OUTSIDE_TIME_WINDOW, "outside_time_window")         \
    X(REASON_WRONG_STORE, "wrong_store")                         \
    X(REASON_WRONG_BRAND, "wrong_brand")                         \
    X(REASON_MEMBER_ONLY, "member_only")                         \
    X(REASON_CUSTOMER_TYPE_MISMATCH, "customer_type_mismatch")   \
    X(REASON_TIER_MISMATCH, "tier_mismatch")                     \
    X(REASON_VOUCHER_REQUIRED, "voucher_required")               \
    X(REASON_PAYMENT_REQUIRED, "payment_required")               \
    X(REASON_PAYMENT_METHOD_MISMATCH, "payment_method_mismatch") \
    X(REASON_CUSTOMER_REQUIRED, "customer_required")             \
    X(REASON_USAGE_LIMIT_REACHED, "usage_limit_reached")         \
    X(REASON_DAILY_LIMIT_REACHED, "daily_limit_reached")         \
    X(REASON_CUSTOMER_LIMIT_REACHED, "customer_limit_reached")   \
    X(REASON_NO_ELIGIBLE_ITEMS, "no_eligible_items")             \
    X(REASON_MIN_QUANTITY_NOT_MET, "min_quantity_not_met")       \
    X(REASON_MIN_PURCHASE_NOT_MET, "min_purchase_not_met")       \
    X(REASON_ZERO_DISCOUNT, "zero_discount")                     \
    X(REASON_NOT_COMBINABLE, "not_combinable")

enum engine_reason {
#define ENGINE_REASON_ENUM(name, text) name,
    ENGINE_REASON_TABLE(ENGINE_REASON_ENUM)
#undef ENGINE_REASON_ENUM
        REASON_COUNT
};

/* The reason's name as the API reports it ("min_purchase_not_met"). */
const char *engine_reason_name(enum engine_reason reason);

/* ---- compiling -------------------------------------------------------- */

/*
 * Checks that a promotion record compiles: columns, rules, scope and
 * targeting. An unknown promo_type is valid (it compiles to "unsupported").
 * On failure err names the field ("rules.tiers[1].min_purchase") and what
 * was expected, and its message starts with the promotion's id.
 */
enum ep_status engine_promotion_validate(const struct promo_record *record,
                                         struct ep_error *err);

/* Whom the snapshot serves. Strings are copied into the snapshot. */
struct engine_settings {
    const char *company_id; /* may be NULL */
    const char *store_id;   /* this store; may be NULL (then no store check) */
};

/* Called by promo_set_build for each record it skips as invalid. */
typedef void (*engine_skip_fn)(void *ctx, const struct promo_record *record,
                               const struct ep_error *why);

struct promo_set;

/*
 * Compiles records (and the holiday calendar) into a new snapshot with a
 * reference count of 1. Records that do not compile are skipped and passed
 * to on_skip (may be NULL). The snapshot copies what it keeps; the inputs
 * may be freed afterwards. EP_ERR_NOMEM only.
 */
enum ep_status promo_set_build(const struct promo_record *records, size_t count,
                               const struct holiday_record *holidays,
                               size_t holiday_count,
                               const struct engine_settings *settings,
                               engine_skip_fn on_skip, void *skip_ctx,
                               struct promo_set **out, struct ep_error *err);

/* Adds a reference. */
void promo_set_retain(struct promo_set *set);

/* Drops a reference; the last one frees the snapshot. NULL is a no-op. */
void promo_set_release(struct promo_set *set);

/* Number of promotions in the snapshot (skipped ones excluded). */
size_t promo_set_count(const struct promo_set *set);

/* The record of promotion i, in (stage, priority, code) order. */
const struct promo_record *promo_set_record(const struct promo_set *set,
                                            size_t index);

/* Index of the promotion with this id, or SIZE_MAX. */
size_t promo_set_find_id(const struct promo_set *set, const char *id);

/*
 * Index of the promotion a typed code picks (SPEC.md 4.2 item 3: case and
 * surrounding blanks ignored, this store's first), or SIZE_MAX.
 */
size_t promo_set_find_code(const struct promo_set *set, const char *code);

/*
 * True when promotion index is in force at instant at for brand_id (NULL:
 * any brand): active, within its dates, valid day, not a holiday it
 * excludes, inside its time window, and targeting this store and brand.
 */
bool promo_set_is_active_at(const struct promo_set *set, size_t index,
                            int64_t at, const char *brand_id);

/* ---- the current snapshot --------------------------------------------- */

struct engine_slot;

/* A new, empty slot; NULL when out of memory. */
struct engine_slot *engine_slot_new(void);

/* Frees the slot and drops its snapshot; NULL is a no-op. */
void engine_slot_free(struct engine_slot *slot);

/*
 * Makes set the current snapshot; takes ownership of the caller's
 * reference. The previous snapshot is released (freed when the last
 * evaluation using it lets go).
 */
void engine_slot_adopt(struct engine_slot *slot, struct promo_set *set);

/* The current snapshot with a reference for the caller, or NULL. */
struct promo_set *engine_slot_acquire(struct engine_slot *slot);

/* ---- carts ------------------------------------------------------------ */

#define CART_MAX_LINES    1000
#define CART_MAX_QUANTITY 10000
#define CART_MAX_VOUCHERS 20

struct cart_customer {
    const char *id;          /* may be NULL */
    const char *phone;       /* may be NULL; never logged */
    const char *member_tier; /* may be NULL */
    const char *type;        /* "member", "non_member" or NULL */
    bool is_member;          /* is_member given true */
};

struct cart_line {
    const char *line_id;     /* as sent */
    const char *product_id;  /* may be NULL */
    const char *category_id; /* may be NULL */
    int64_t quantity;        /* 1..CART_MAX_QUANTITY */
    int64_t unit_price;      /* hundredths, >= 0 */
};

/* A cart as a terminal sent it. Strings live in the parse arena. */
struct cart {
    const char *brand_id;       /* required */
    bool has_at;                /* at was given */
    int64_t at;                 /* instant, when has_at */
    const char *transaction_id; /* may be NULL (required by commit) */
    const char *order_number;   /* may be NULL */
    bool has_customer;          /* a customer object was given */
    struct cart_customer customer;
    const char **voucher_codes; /* as typed */
    size_t voucher_count;
    bool has_payment;           /* a payment object was given */
    const char *payment_method; /* may be NULL */
    struct cart_line *lines;
    size_t line_count; /* 1..CART_MAX_LINES */
};

/*
 * Reads a cart from JSON text. Errors are EP_ERR_INVALID with the field
 * named ("lines[2].unit_price"), EP_ERR_TOO_LARGE past the limits above.
 */
enum ep_status cart_parse(const char *text, size_t length,
                          struct ep_arena *arena, struct cart **out,
                          struct ep_error *err);

/* Reads a cart from a parsed JSON object; strings are copied to arena. */
enum ep_status cart_from_json(const json_t *root, struct ep_arena *arena,
                              struct cart **out, struct ep_error *err);

/* ---- evaluation ------------------------------------------------------- */

/* A promotion's uses as the limits count them (SPEC.md section 5). */
struct engine_usage_counts {
    int64_t total;    /* all uses: the CMS's count plus local ones */
    int64_t day;      /* local uses on the given store-local date */
    int64_t customer; /* local uses by the given customer */
};

/*
 * How the engine learns usage counts. counts is called only for a
 * candidate with a limit that reaches the limit checks; usage_date is the
 * promotion's store-local business date ("YYYY-MM-DD"), customer_id may be
 * NULL. A NULL struct engine_limits means every count is 0.
 */
struct engine_limits {
    enum ep_status (*counts)(void *ctx, const struct promo_record *record,
                             const char *usage_date, const char *customer_id,
                             struct engine_usage_counts *out);
    void *ctx;
};

/*
 * What the limit checks make of a promotion's counts: REASON_APPLIED when
 * within every limit, else usage_limit_reached, daily_limit_reached or
 * customer_limit_reached (in that order). The evaluation depends on the
 * counts only through this verdict.
 */
enum engine_reason engine_limit_verdict(const struct promo_record *record,
                                        const struct engine_usage_counts *c);

struct eval_line_promotion {
    const char *code;      /* promotion's code */
    int64_t amount;        /* hundredths taken off this line */
    const char *json_head; /* pre-rendered '{"code":..,"amount":' */
};

struct eval_line {
    int64_t subtotal; /* quantity * unit_price */
    int64_t discount; /* sum of the promotions' amounts */
    int64_t total;    /* subtotal - discount, >= 0 */
    struct eval_line_promotion *promotions;
    size_t promotion_count;
};

struct eval_applied {
    const struct promo_record *record; /* in the snapshot */
    int64_t amount;                    /* hundredths taken off in all */
    int64_t base_amount;               /* eligible amount left at its turn */
    char usage_date[11];   /* business date of this use, "YYYY-MM-DD" */
    const char *json_head; /* pre-rendered opening of its JSON entry */
};

struct eval_not_applied {
    const struct promo_record *record; /* NULL for unknown_voucher */
    const char *code;                  /* stored code, or typed text */
    enum engine_reason reason;
    const char *detail;      /* for the cashier */
    const char *detail_json; /* detail as a JSON string, when the
                                          snapshot made it; else NULL */
    const char *json_head;   /* pre-rendered opening of its JSON
                                          entry; NULL for unknown_voucher */
};

struct eval_result {
    int64_t at;              /* the instant judged */
    char local_date[11];     /* its store-local date */
    int64_t subtotal;        /* sum of line subtotals */
    int64_t discount_total;  /* sum of applied amounts */
    int64_t total;           /* subtotal - discount_total */
    struct eval_line *lines; /* one per cart line, in cart order */
    size_t line_count;
    struct eval_applied *applied; /* in evaluation order */
    size_t applied_count;
    struct eval_not_applied *not_applied;
    size_t not_applied_count;
};

/*
 * Evaluates cart against set at the cart's "at", else at now (seconds since
 * the epoch). Everything is allocated from arena. EP_ERR_NOMEM, or the
 * status the limits callback returned.
 */
enum ep_status engine_evaluate(const struct promo_set *set,
                               const struct cart *cart, int64_t now,
                               const struct engine_limits *limits,
                               struct ep_arena *arena, struct eval_result **out,
                               struct ep_error *err);

/* Writes the /v1/cart/evaluate response object for result. */
void eval_result_write_json(const struct eval_result *result,
                            const struct cart *cart, struct ep_buf *out);

#endif
