/*
 * internal.h - what the engine's files share: compiled promotions, the
 * snapshot's layout, and the evaluation state of one option pass.
 *
 * A compiled promotion holds everything evaluation needs as plain values:
 * money in hundredths, percents in hundredths of a percent, dates as day
 * numbers, times as seconds since midnight, weekdays as a bit mask, id
 * lists sorted for binary search. It points at its record (copied into the
 * snapshot's arena) for the names and ids the response repeats.
 */
#ifndef EP_ENGINE_INTERNAL_H
#define EP_ENGINE_INTERNAL_H

#include <stdatomic.h>

#include "common/localtime.h"
#include "common/money.h"
#include "engine/engine.h"

enum promo_kind {
    KIND_PERCENT,
    KIND_FIXED,
    KIND_FIXED_PRICE,
    KIND_BUY_X_GET_Y,
    KIND_BUNDLE,
    KIND_TIERED,
    KIND_UNSUPPORTED
};

enum promo_stage { STAGE_ITEM, STAGE_CART, STAGE_PAYMENT };

enum apply_to { APPLY_ALL, APPLY_CATEGORY, APPLY_PRODUCT };

enum customer_type { CUSTOMER_ANY, CUSTOMER_MEMBER, CUSTOMER_NON_MEMBER };

/* A sorted list of ids (strcmp order); lookups by binary search. */
struct id_list {
    const char **items; /* arena-owned, sorted, no duplicates */
    size_t count;
};

struct scope {
    enum apply_to apply_to;
    struct id_list categories;
    struct id_list products;
    struct id_list exclude_categories;
    struct id_list exclude_products;
};

/* "all", or a list. */
struct id_choice {
    bool all;            /* no restriction */
    struct id_list list; /* when !all; compared case-sensitively */
};

struct targeting {
    struct id_choice stores;          /* all: the store_id column */
    struct id_choice brands;          /* all: the brand_id column */
    bool member_only;                 /* targeting.member_only */
    enum customer_type customer_type; /* all, member, non_member */
    struct id_choice member_tiers;    /* all or tier names */
    struct id_choice payment_methods; /* all or method names */
};

struct tier {
    int64_t min_purchase; /* hundredths */
    bool is_percent;      /* discount_percent, else discount_amount */
    int32_t percent;      /* hundredths of a percent */
    int64_t amount;       /* hundredths */
};

struct bundle_slot {
    struct id_list products;   /* a unit fits if its product is here */
    struct id_list categories; /* ... or its category is here */
    int64_t quantity;          /* units per set */
};

struct rules {
    enum promo_kind kind;
    int32_t percent;      /* percent, buy_x_get_y get_discount_percent */
    int64_t amount;       /* discount_amount, price or bundle_price */
    bool has_cap;         /* max_discount_amount given */
    int64_t cap;          /* max_discount_amount, hundredths */
    int64_t min_purchase; /* hundredths; 0 when none */
    int64_t min_quantity; /* units; 0 when none */
    bool per_unit;        /* fixed: "unit", else "transaction" */
    int64_t buy_quantity; /* buy_x_get_y X */
    int64_t get_quantity; /* buy_x_get_y Y */
    bool has_max_applications;
    int64_t max_applications; /* buy_x_get_y, bundle */
    bool has_get_scope;       /* buy_x_get_y "buy A get B" */
    struct scope get_scope;
    struct bundle_slot *slots; /* bundle items, in order */
    size_t slot_count;
    struct tier *tiers; /* sorted by min_purchase ascending */
    size_t tier_count;
};

struct promotion {
    const struct promo_record *record; /* in the snapshot's arena */
    const char *code_key;              /* code trimmed and lowercased */
    enum promo_stage stage;
    int64_t priority;   /* execution_priority */
    bool unsupported;   /* promo_type unknown to this engine */
    bool shadowed;      /* shares its code with a preferred promotion */
    int32_t start_date; /* day number, inclusive */
    int32_t end_date;   /* day number, inclusive */
    bool has_time_start;
    bool has_time_end;
    int32_t time_start;  /* seconds since midnight */
    int32_t time_end;    /* seconds since midnight */
    unsigned valid_days; /* bit 0 = Monday; 0 = every day */
    struct scope scope;
    struct targeting targeting;
    struct rules rules;
    const char *details[REASON_COUNT];      /* for the checks before evaluation:
                                          fixed per promotion, made once */
    const char *details_json[REASON_COUNT]; /* the same as JSON strings */
    const char *json_applied;               /* '{"promotion_id":..,"amount":' */
    const char *json_not_applied;           /* '{"promotion_id":..,"reason":' */
    const char *json_line;                  /* '{"code":..,"amount":' */
};

/* In by_product and by_category, marks a promotion named by its get_scope
 * (buy_x_get_y "buy A get B") rather than its scope. */
#define INDEX_GET_SCOPE 0x80000000u

/* Index entry: an id and the promotions it can touch. */
struct index_entry {
    const char *key;      /* product, category or brand id */
    uint32_t *promotions; /* indices into set->promotions, some tagged
                               INDEX_GET_SCOPE */
    size_t count;
};

struct index {
    struct index_entry *entries; /* sorted by key */
    size_t count;
};

struct promo_set {
    atomic_long refs;             /* references; freed at 0 */
    struct ep_arena arena;        /* owns everything below */
    struct promotion *promotions; /* sorted by stage, priority, code */
    size_t count;
    const char *store_id;   /* settings; may be NULL */
    const char *company_id; /* settings; may be NULL */
    int32_t *holidays;      /* sorted day numbers */
    size_t holiday_count;
    struct index by_product;  /* scope and get_scope lists, by product */
    struct index by_category; /* scope and get_scope lists, by category */
    struct index by_brand;    /* scope or get_scope "all", by brand */
    uint32_t *by_code;        /* code representatives, by code_key */
    size_t by_code_count;
};

/* ---- compile.c -------------------------------------------------------- */

/* Compiles record into p, allocating from arena. */
enum ep_status promotion_compile(const struct promo_record *record,
                                 struct ep_arena *arena, struct promotion *p,
                                 struct ep_error *err);

/* True when id is in list (binary search). NULL id is never in a list. */
bool id_list_contains(const struct id_list *list, const char *id);

/* True when an exclusion list of scope names the line. */
bool scope_excludes(const struct scope *scope, const struct cart_line *line);

/* Longest code key, NUL included (codes are at most 50 characters). */
#define CODE_KEY_MAX 64

/* Writes code trimmed of blanks and lowercased; false if it does not fit. */
bool code_key_format(const char *code, char *out, size_t size);

/* Lowercased, trimmed copy of a code, in arena; NULL on failure. */
char *code_key_make(struct ep_arena *arena, const char *code);

/* ---- checks.c --------------------------------------------------------- */

/* Facts of one evaluation that every check reads. */
struct eval_context {
    const struct promo_set *set;
    const struct cart *cart;
    const struct engine_limits *limits;
    struct ep_arena *arena;
    struct ep_local_time local; /* the instant on the store's clock */
    bool is_member;             /* customer counts as a member */
};

/* The date a promotion judges the instant by (overnight windows). */
int32_t promotion_business_date(const struct promotion *p,
                                const struct ep_local_time *local);

/*
 * Runs the checks of SPEC.md 4.1 step 2 before evaluation, in order.
 * Returns REASON_APPLIED when all pass. typed: its code was typed.
 */
enum ep_status promotion_check(const struct eval_context *ctx,
                               const struct promotion *p, bool typed,
                               enum engine_reason *reason_out,
                               struct ep_error *err);

/* The validity part of the checks only (dates, days, holidays, window). */
enum engine_reason promotion_check_validity(const struct promo_set *set,
                                            const struct promotion *p,
                                            const struct ep_local_time *local);

/*
 * Makes the cashier's detail of every check before evaluation that p can
 * fail, into p->details (arena memory). Done once per snapshot.
 */
enum ep_status promotion_details_build(struct ep_arena *arena,
                                       struct promotion *p);

/* ---- pass.c / kinds.c: one option evaluated ---------------------------- */

/* Lines named by a promotion's lists in one cart: ascending indices. */
struct line_list {
    uint32_t *lines; /* arena; capacity: the cart's line count */
    size_t count;
};

/* A promotion as a pass sees it: with the cart lines its lists name. */
struct pass_item {
    const struct promotion *p;
    struct line_list scope_hits; /* lines its scope lists name */
    struct line_list get_hits;   /* lines its get_scope lists name */
};

/* One line's state during a pass. */
struct line_state {
    int64_t left;        /* amount left, hundredths */
    unsigned char *used; /* per unit place: consumed; NULL: none yet */
};

/* A discount a promotion gave a line in a pass. */
struct line_discount {
    uint32_t line;
    uint32_t promotion; /* index into the pass's order */
    int64_t amount;
};

/* What happened to one promotion in a pass. */
struct pass_outcome {
    enum engine_reason reason; /* REASON_APPLIED or an at-turn reason */
    int64_t amount;            /* when applied */
    int64_t base_amount;       /* eligible amount left at its turn */
    const char *detail;        /* for at-turn failures */
};

/* A pass: some promotions evaluated in order on the original amounts. */
struct pass {
    const struct pass_item **order; /* the promotions, in order */
    size_t count;
    struct pass_outcome *outcomes;   /* per promotion in order */
    struct line_state *lines;        /* per cart line */
    struct line_discount *discounts; /* log, in application order */
    size_t discount_count;
    size_t discount_capacity;
    int64_t total; /* discount of the pass */
};

/*
 * Scratch space one promotion's turn uses; reused between turns. Arrays
 * indexed "per E entry" run parallel to e (the eligible lines), so a
 * turn's work grows with the lines it touches, not with the cart.
 */
struct turn {
    const struct eval_context *ctx;
    struct pass *pass;
    const struct pass_item *item;
    const struct promotion *p;     /* item->p */
    size_t order_index;            /* p's index in pass->order */
    size_t line_count;             /* lines in the cart */
    uint32_t *e;                   /* E: eligible lines, ascending */
    size_t e_count;                /* entries in e */
    unsigned char *in_buy;         /* per E entry: in scope (bxgy) */
    unsigned char *in_get;         /* per E entry: in get_scope (bxgy) */
    int64_t *discount;             /* per E entry: computed discount */
    int64_t *weights;              /* per E entry scratch */
    struct ep_money_share *shares; /* per E entry allocation scratch */
    uint32_t *merge;               /* scratch for merging line lists */
    struct unit *consume;          /* units to consume if it applies */
    size_t consume_count;
    bool totals_only; /* skip spreading over lines */
    int64_t total;    /* the promotion's discount */
};

/*
 * Runs pass: its promotions in order, each on the amounts the ones before
 * it left, starting from the cart's own amounts. turn carries the
 * evaluation's context and per-line scratch arrays.
 */
enum ep_status pass_run(struct turn *turn, struct pass *pass,
                        struct ep_error *err);

/*
 * Computes promotion t->p's discount per line of E into t->discount, or the
 * at-turn reason it does not apply (with a detail). Units it would consume
 * are listed in t->consume; the pass consumes them only if it applies.
 * With t->totals_only, only the total is wanted (outcome->amount): amounts
 * that would be allocated over lines are not.
 */
enum ep_status kinds_compute(struct turn *t, struct pass_outcome *outcome,
                             struct ep_error *err);

/* ---- units.c ---------------------------------------------------------- */

/* One unit of a cart line at a promotion's turn. */
struct unit {
    uint32_t entry; /* its line's position in E */
    uint32_t line;  /* cart line */
    uint32_t place; /* 0..quantity-1 */
    int64_t amount; /* hundredths */
    bool taken;     /* picked by the current turn (buy_x_get_y) */
};

/* The amount of unit place of a line whose left is split over q places. */
int64_t unit_amount(int64_t left, int64_t quantity, int64_t place);

/*
 * Lists the free (unconsumed) units of the lines of E into arena memory.
 * *count_out gets the number.
 */
enum ep_status units_collect(const struct turn *t, struct unit **out,
                             size_t *count_out);

/* Sorts units cheapest first (ties: earlier line, later place). */
void units_sort_cheapest(struct unit *units, size_t count);

/* Sorts units dearest first (ties: earlier line, earlier place). */
void units_sort_dearest(struct unit *units, size_t count);

/* Marks a unit consumed in the pass. */
enum ep_status unit_consume(struct turn *t, const struct unit *unit);

/* ---- result_json.c ---------------------------------------------------- */

/* Pre-renders the fixed JSON openings of p's response entries. */
enum ep_status promotion_json_build(struct ep_arena *arena,
                                    struct promotion *p);

/* ---- detail.c --------------------------------------------------------- */

/* Concatenates parts into the arena (no formatting: cheap); NULL on
 * failure. */
const char *detail_join(struct ep_arena *arena, const char *const *parts,
                        size_t count);

/* printf into the arena; NULL on failure. */
const char *detail_format(struct ep_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
