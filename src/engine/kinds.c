/*
 * kinds.c - what one promotion takes off at its turn, per type (SPEC.md
 * 4.1 step 5), and the at-turn reasons it may fail with.
 *
 * E is the promotion's eligible lines with the amounts left by every
 * promotion before it. A turn runs: E empty -> no_eligible_items; too few
 * units -> min_quantity_not_met; too little money -> min_purchase_not_met;
 * then the type computes a discount per line of E; the cap
 * (max_discount_amount) applies; nothing taken -> zero_discount.
 *
 * Two shapes of result: "per line" types (item-level percent, fixed per
 * unit, fixed_price, buy_x_get_y, bundle) compute each line's discount and
 * a cap is re-allocated over the lines in proportion to those discounts;
 * "transaction" types (cart/payment-level percent, fixed per transaction,
 * tiered) compute one amount D, cap it, and allocate it over E in
 * proportion to the amounts left.
 *
 * Worked example (percent 10% item level, cap Rp 15.000): lines left
 * 100.000 and 80.000 -> 10.000 + 8.000 = 18.000 > 15.000, so 15.000 is
 * allocated 10:8 -> 8.333,33 and 6.666,67 (the larger remainder gets the
 * extra hundredth).
 */
#include <string.h>

#include "common/money.h"
#include "engine/internal.h"

/* ---- shared pieces ---------------------------------------------------- */

static int64_t sum_eligible(const struct turn *t)
{
    int64_t sum = 0;

    for (size_t i = 0; i < t->line_count; i++) {
        if (t->eligible[i])
            sum += t->pass->lines[i].left;
    }
    return sum;
}

static int64_t units_eligible(const struct turn *t)
{
    int64_t units = 0;

    for (size_t i = 0; i < t->line_count; i++) {
        if (t->eligible[i])
            units += t->ctx->cart->lines[i].quantity;
    }
    return units;
}

static int64_t sum_discounts(const struct turn *t)
{
    int64_t sum = 0;

    for (size_t i = 0; i < t->line_count; i++)
        sum += t->line_discount[i];
    return sum;
}

/* Allocates total over the lines of E with weights (0 outside E). */
static void allocate_over(struct turn *t, int64_t total,
                          const int64_t *weights)
{
    ep_money_allocate(total, weights, t->line_count, t->line_discount,
                      t->scratch);
    for (size_t i = 0; i < t->line_count; i++) {
        if (!t->eligible[i])
            t->line_discount[i] = 0;
    }
}

/* Allocates total over E in proportion to the amounts left. */
static void allocate_by_left(struct turn *t, int64_t total)
{
    for (size_t i = 0; i < t->line_count; i++)
        t->weights[i] = t->eligible[i] ? t->pass->lines[i].left : 0;
    allocate_over(t, total, t->weights);
}

/* A transaction-type discount: cap it, then spread it over E. */
static void spread_transaction(struct turn *t, int64_t total)
{
    const struct rules *ru = &t->p->rules;

    if (ru->has_cap && total > ru->cap)
        total = ru->cap;
    allocate_by_left(t, total);
}

/* Caps a per-line discount: the cap is spread like the discounts were. */
static void cap_per_line(struct turn *t)
{
    const struct rules *ru = &t->p->rules;

    if (!ru->has_cap || sum_discounts(t) <= ru->cap)
        return;
    memcpy(t->weights, t->line_discount,
           t->line_count * sizeof(*t->weights));
    allocate_over(t, ru->cap, t->weights);
}

static void fail(struct pass_outcome *o, enum engine_reason reason,
                 const char *detail)
{
    o->reason = reason;
    o->detail = detail;
}

static void fail_min_purchase(struct turn *t, struct pass_outcome *o,
                              int64_t min_purchase, int64_t eligible)
{
    char need[EP_MONEY_TEXT_MAX];
    char have[EP_MONEY_TEXT_MAX];
    char add[EP_MONEY_TEXT_MAX];

    ep_money_format_display(min_purchase, need);
    ep_money_format_display(eligible, have);
    ep_money_format_display(min_purchase - eligible, add);
    fail(o, REASON_MIN_PURCHASE_NOT_MET,
         detail_format(t->ctx->arena, "min purchase %s, eligible %s: add %s",
                       need, have, add));
}

/* ---- percent, fixed, fixed_price, tiered ------------------------------ */

static void compute_percent(struct turn *t, int64_t eligible_sum)
{
    int32_t percent = t->p->rules.percent;

    if (t->p->stage != STAGE_ITEM) {
        spread_transaction(t, ep_money_percent_of(eligible_sum, percent));
        return;
    }
    for (size_t i = 0; i < t->line_count; i++) {
        t->line_discount[i] =
            t->eligible[i]
                ? ep_money_percent_of(t->pass->lines[i].left, percent)
                : 0;
    }
    cap_per_line(t);
}

static void compute_fixed(struct turn *t, int64_t eligible_sum)
{
    const struct rules *ru = &t->p->rules;

    if (!ru->per_unit) {
        spread_transaction(t, ru->amount < eligible_sum ? ru->amount
                                                        : eligible_sum);
        return;
    }
    for (size_t i = 0; i < t->line_count; i++) {
        int64_t left = t->pass->lines[i].left;
        int64_t q = t->ctx->cart->lines[i].quantity;
        t->line_discount[i] = 0;
        if (t->eligible[i])
            t->line_discount[i] = ru->amount > left / q ? left
                                                        : ru->amount * q;
    }
    cap_per_line(t);
}

static void compute_fixed_price(struct turn *t)
{
    int64_t price = t->p->rules.amount;

    for (size_t i = 0; i < t->line_count; i++) {
        int64_t left = t->pass->lines[i].left;
        int64_t q = t->ctx->cart->lines[i].quantity;
        t->line_discount[i] = 0;
        if (t->eligible[i] && price <= left / q)
            t->line_discount[i] = left - price * q;
    }
    cap_per_line(t);
}

static void compute_tiered(struct turn *t, struct pass_outcome *o,
                           int64_t eligible_sum)
{
    const struct rules *ru = &t->p->rules;
    const struct tier *reached = NULL;
    int64_t total;

    for (size_t k = 0; k < ru->tier_count; k++) {
        if (ru->tiers[k].min_purchase <= eligible_sum)
            reached = &ru->tiers[k];
    }
    if (reached == NULL) {
        fail_min_purchase(t, o, ru->tiers[0].min_purchase, eligible_sum);
        return;
    }
    if (reached->is_percent)
        total = ep_money_percent_of(eligible_sum, reached->percent);
    else
        total = reached->amount < eligible_sum ? reached->amount
                                               : eligible_sum;
    spread_transaction(t, total);
}

/* ---- buy_x_get_y ------------------------------------------------------ */

/* Which lines are in the buy scope and in the get scope. */
struct bxgy_lines {
    bool *buy; /* per line: in scope */
    bool *get; /* per line: in get_scope (or scope without one) */
};

/* The largest n with nX buy, nY get, n(X+Y) units in all. */
static int64_t bxgy_count(const struct rules *ru, int64_t buy_units,
                          int64_t get_units, int64_t all_units)
{
    int64_t n = all_units / (ru->buy_quantity + ru->get_quantity);

    if (buy_units / ru->buy_quantity < n)
        n = buy_units / ru->buy_quantity;
    if (get_units / ru->get_quantity < n)
        n = get_units / ru->get_quantity;
    if (ru->has_max_applications && ru->max_applications < n)
        n = ru->max_applications;
    return n;
}

static void fail_bxgy_units(struct turn *t, struct pass_outcome *o,
                            int64_t buy_units, int64_t get_units,
                            int64_t all_units)
{
    const struct rules *ru = &t->p->rules;
    int64_t missing = ru->buy_quantity + ru->get_quantity - all_units;

    if (ru->buy_quantity - buy_units > missing)
        missing = ru->buy_quantity - buy_units;
    if (ru->get_quantity - get_units > missing)
        missing = ru->get_quantity - get_units;
    fail(o, REASON_MIN_QUANTITY_NOT_MET,
         detail_format(t->ctx->arena,
                       "buy %lld get %lld: %lld eligible unit(s), add %lld",
                       (long long)ru->buy_quantity,
                       (long long)ru->get_quantity, (long long)all_units,
                       (long long)missing));
}

/* Picks the n*Y get units, cheapest first, keeping enough shared units
 * free for buying (SPEC.md 4.2 item 10). Marks them taken. */
static size_t bxgy_pick_get(struct unit *units, size_t count,
                            const struct bxgy_lines *in, int64_t wanted,
                            int64_t shared_allowed, struct unit *out)
{
    size_t picked = 0;
    int64_t shared_taken = 0;

    units_sort_cheapest(units, count);
    for (size_t k = 0; k < count && (int64_t)picked < wanted; k++) {
        bool shared = in->buy[units[k].line] && in->get[units[k].line];
        if (!in->get[units[k].line])
            continue;
        if (shared && shared_taken >= shared_allowed)
            continue;
        shared_taken += shared;
        units[k].taken = true;
        out[picked++] = units[k];
    }
    return picked;
}

/* Picks the n*X dearest remaining buy units. */
static size_t bxgy_pick_buy(struct unit *units, size_t count,
                            const struct bxgy_lines *in, int64_t wanted,
                            struct unit *out)
{
    size_t picked = 0;

    units_sort_dearest(units, count);
    for (size_t k = 0; k < count && (int64_t)picked < wanted; k++) {
        if (!units[k].taken && in->buy[units[k].line])
            out[picked++] = units[k];
    }
    return picked;
}

/* Counts free units: in buy lines, in get lines, in both. */
static void bxgy_tally(const struct unit *units, size_t count,
                       const struct bxgy_lines *in, int64_t *buy,
                       int64_t *get, int64_t *shared)
{
    *buy = *get = *shared = 0;
    for (size_t k = 0; k < count; k++) {
        *buy += in->buy[units[k].line];
        *get += in->get[units[k].line];
        *shared += in->buy[units[k].line] && in->get[units[k].line];
    }
}

/* Gives each line round(sum of its get units * percent). */
static void bxgy_discount(struct turn *t, const struct unit *get,
                          size_t count)
{
    for (size_t i = 0; i < t->line_count; i++)
        t->weights[i] = 0;
    for (size_t k = 0; k < count; k++)
        t->weights[get[k].line] += get[k].amount;
    for (size_t i = 0; i < t->line_count; i++)
        t->line_discount[i] =
            ep_money_percent_of(t->weights[i], t->p->rules.percent);
    cap_per_line(t);
}

static enum ep_status compute_bxgy(struct turn *t, struct pass_outcome *o,
                                   const struct bxgy_lines *in)
{
    const struct rules *ru = &t->p->rules;
    struct unit *units = NULL;
    size_t count = 0;
    int64_t buy, get, shared, n;

    if (units_collect(t, t->eligible, &units, &count) != EP_OK)
        return EP_ERR_NOMEM;
    bxgy_tally(units, count, in, &buy, &get, &shared);
    n = bxgy_count(ru, buy, get, (int64_t)count);
    if (n == 0) {
        fail_bxgy_units(t, o, buy, get, (int64_t)count);
        return EP_OK;
    }
    t->consume = ep_arena_alloc(t->ctx->arena,
                                (size_t)(n * (ru->buy_quantity +
                                              ru->get_quantity)) *
                                    sizeof(*t->consume));
    if (t->consume == NULL)
        return EP_ERR_NOMEM;
    {
        int64_t need_shared = n * ru->buy_quantity - (buy - shared);
        int64_t allowed = shared - (need_shared > 0 ? need_shared : 0);
        size_t got = bxgy_pick_get(units, count, in, n * ru->get_quantity,
                                   allowed, t->consume);
        bxgy_discount(t, t->consume, got);
        t->consume_count = got + bxgy_pick_buy(units, count, in,
                                               n * ru->buy_quantity,
                                               t->consume + got);
    }
    return EP_OK;
}

/* Marks which lines buy and which get; E becomes scope ∪ get_scope. */
static enum ep_status bxgy_mark(struct turn *t, struct bxgy_lines *in)
{
    const struct rules *ru = &t->p->rules;

    in->buy = ep_arena_calloc(t->ctx->arena, t->line_count + 1, sizeof(bool));
    in->get = ep_arena_calloc(t->ctx->arena, t->line_count + 1, sizeof(bool));
    if (in->buy == NULL || in->get == NULL)
        return EP_ERR_NOMEM;
    for (size_t i = 0; i < t->line_count; i++) {
        in->buy[i] = t->eligible[i];
        in->get[i] = ru->has_get_scope
                         ? scope_has_line(&ru->get_scope, t->item->get_lines,
                                          i, &t->ctx->cart->lines[i])
                         : t->eligible[i];
        t->eligible[i] = in->buy[i] || in->get[i];
    }
    return EP_OK;
}

/* ---- bundle ----------------------------------------------------------- */

static bool slot_fits(const struct bundle_slot *slot,
                      const struct cart_line *line)
{
    return id_list_contains(&slot->products, line->product_id) ||
           id_list_contains(&slot->categories, line->category_id);
}

/* State of the sets being formed. */
struct bundle_work {
    struct unit *units;   /* free units of E, dearest first */
    size_t count;
    bool *used;           /* per unit: in a set already */
    bool *in_set;         /* per unit: in the set being formed */
    size_t *order;        /* slot order for the current set */
    struct unit *members; /* units of all formed sets, set by set */
    size_t member_count;
    int64_t sets;         /* complete sets formed */
};

static int64_t free_fitting(const struct turn *t, const struct bundle_work *w,
                            const struct bundle_slot *slot)
{
    int64_t n = 0;

    for (size_t k = 0; k < w->count; k++) {
        if (!w->used[k] &&
            slot_fits(slot, &t->ctx->cart->lines[w->units[k].line]))
            n++;
    }
    return n;
}

/* Orders the slots by spare units, ascending (ties: slot order). */
static void order_slots(const struct turn *t, struct bundle_work *w,
                        int64_t *spare)
{
    const struct rules *ru = &t->p->rules;

    for (size_t s = 0; s < ru->slot_count; s++) {
        spare[s] = free_fitting(t, w, &ru->slots[s]) - ru->slots[s].quantity;
        w->order[s] = s;
    }
    for (size_t a = 1; a < ru->slot_count; a++) {
        for (size_t b = a; b > 0 && spare[w->order[b]] < spare[w->order[b - 1]];
             b--) {
            size_t tmp = w->order[b];
            w->order[b] = w->order[b - 1];
            w->order[b - 1] = tmp;
        }
    }
}

/* Fills one slot with its dearest free fitting units; returns missing. */
static int64_t fill_slot(const struct turn *t, struct bundle_work *w,
                         const struct bundle_slot *slot, int64_t *set_sum)
{
    int64_t need = slot->quantity;

    for (size_t k = 0; k < w->count && need > 0; k++) {
        if (w->used[k] || w->in_set[k] ||
            !slot_fits(slot, &t->ctx->cart->lines[w->units[k].line]))
            continue;
        w->in_set[k] = true;
        *set_sum += w->units[k].amount;
        need--;
    }
    return need;
}

/*
 * Forms one set. Returns the set's amount, or -1 when a slot cannot be
 * filled (*short_slot and *missing say which and by how much).
 */
static int64_t form_set(const struct turn *t, struct bundle_work *w,
                        int64_t *spare, size_t *short_slot, int64_t *missing)
{
    const struct rules *ru = &t->p->rules;
    int64_t set_sum = 0;

    memset(w->in_set, 0, w->count * sizeof(*w->in_set));
    order_slots(t, w, spare);
    for (size_t s = 0; s < ru->slot_count; s++) {
        size_t slot = w->order[s];
        int64_t left = fill_slot(t, w, &ru->slots[slot], &set_sum);
        if (left > 0) {
            *short_slot = slot;
            *missing = left;
            return -1;
        }
    }
    return set_sum;
}

/* Scratch for allocating one set's discount over its units. */
struct set_scratch {
    int64_t *weights;
    int64_t *parts;
    struct ep_money_share *order;
};

/* Allocates the set's discount over its units, by unit amount. */
static void discount_set(struct turn *t, const struct set_scratch *x,
                         const struct unit *members, size_t count,
                         int64_t discount)
{
    for (size_t k = 0; k < count; k++)
        x->weights[k] = members[k].amount;
    ep_money_allocate(discount, x->weights, count, x->parts, x->order);
    for (size_t k = 0; k < count; k++)
        t->line_discount[members[k].line] += x->parts[k];
}

/* Moves the units of the formed set into members, in line/place order. */
static void keep_set(struct bundle_work *w)
{
    size_t first = w->member_count;

    for (size_t k = 0; k < w->count; k++) {
        if (!w->in_set[k])
            continue;
        w->used[k] = true;
        w->members[w->member_count++] = w->units[k];
    }
    for (size_t a = first + 1; a < w->member_count; a++) {
        for (size_t b = a; b > first &&
                           (w->members[b].line < w->members[b - 1].line ||
                            (w->members[b].line == w->members[b - 1].line &&
                             w->members[b].place < w->members[b - 1].place));
             b--) {
            struct unit tmp = w->members[b];
            w->members[b] = w->members[b - 1];
            w->members[b - 1] = tmp;
        }
    }
}

static enum ep_status bundle_work_init(struct turn *t, struct bundle_work *w)
{
    struct ep_arena *arena = t->ctx->arena;
    size_t slots = t->p->rules.slot_count;

    memset(w, 0, sizeof(*w));
    if (units_collect(t, t->eligible, &w->units, &w->count) != EP_OK)
        return EP_ERR_NOMEM;
    units_sort_dearest(w->units, w->count);
    w->used = ep_arena_calloc(arena, w->count + 1, sizeof(*w->used));
    w->in_set = ep_arena_calloc(arena, w->count + 1, sizeof(*w->in_set));
    w->members = ep_arena_alloc(arena, (w->count + 1) * sizeof(*w->members));
    w->order = ep_arena_calloc(arena, slots, sizeof(*w->order));
    if (!w->used || !w->in_set || !w->members || !w->order)
        return EP_ERR_NOMEM;
    return EP_OK;
}

/* Forms every set; on the first one, reports why none forms. */
static enum ep_status bundle_form_sets(struct turn *t, struct pass_outcome *o,
                                       struct bundle_work *w,
                                       int64_t **set_sums)
{
    const struct rules *ru = &t->p->rules;
    int64_t *spare = ep_arena_calloc(t->ctx->arena, ru->slot_count,
                                     sizeof(*spare));
    int64_t *sums = ep_arena_calloc(t->ctx->arena, w->count + 1,
                                    sizeof(*sums));

    if (spare == NULL || sums == NULL)
        return EP_ERR_NOMEM;
    while (!ru->has_max_applications || w->sets < ru->max_applications) {
        size_t short_slot = 0;
        int64_t missing = 0;
        int64_t sum = form_set(t, w, spare, &short_slot, &missing);
        if (sum < 0 && w->sets == 0)
            fail(o, REASON_MIN_QUANTITY_NOT_MET,
                 detail_format(t->ctx->arena,
                               "bundle item %zu needs %lld more unit(s)",
                               short_slot + 1, (long long)missing));
        if (sum >= 0 && sum <= ru->amount && w->sets == 0)
            fail(o, REASON_ZERO_DISCOUNT,
                 detail_format(t->ctx->arena,
                               "the items cost no more than the bundle "
                               "price"));
        if (sum < 0 || sum <= ru->amount)
            break;
        sums[w->sets++] = sum;
        keep_set(w);
    }
    *set_sums = sums;
    return EP_OK;
}

static bool any_line_fits_a_slot(const struct turn *t)
{
    const struct rules *ru = &t->p->rules;

    for (size_t i = 0; i < t->line_count; i++) {
        for (size_t s = 0; t->eligible[i] && s < ru->slot_count; s++) {
            if (slot_fits(&ru->slots[s], &t->ctx->cart->lines[i]))
                return true;
        }
    }
    return false;
}

static enum ep_status compute_bundle(struct turn *t, struct pass_outcome *o)
{
    struct bundle_work w;
    struct set_scratch x;
    int64_t *sums = NULL;
    size_t per_set = 0;

    if (bundle_work_init(t, &w) != EP_OK ||
        bundle_form_sets(t, o, &w, &sums) != EP_OK)
        return EP_ERR_NOMEM;
    if (o->reason != REASON_APPLIED)
        return EP_OK;
    per_set = w.member_count / (size_t)w.sets;
    x.weights = ep_arena_calloc(t->ctx->arena, per_set, sizeof(*x.weights));
    x.parts = ep_arena_calloc(t->ctx->arena, per_set, sizeof(*x.parts));
    x.order = ep_arena_calloc(t->ctx->arena, per_set, sizeof(*x.order));
    if (x.weights == NULL || x.parts == NULL || x.order == NULL)
        return EP_ERR_NOMEM;
    for (int64_t s = 0; s < w.sets; s++)
        discount_set(t, &x, w.members + (size_t)s * per_set, per_set,
                     sums[s] - t->p->rules.amount);
    t->consume = w.members;
    t->consume_count = w.member_count;
    cap_per_line(t);
    return EP_OK;
}

/* ---- a turn ----------------------------------------------------------- */

static void mark_eligible(struct turn *t)
{
    for (size_t i = 0; i < t->line_count; i++)
        t->eligible[i] = scope_has_line(&t->p->scope, t->item->scope_lines,
                                        i, &t->ctx->cart->lines[i]);
}

static bool any_eligible(const struct turn *t)
{
    for (size_t i = 0; i < t->line_count; i++) {
        if (t->eligible[i])
            return true;
    }
    return false;
}

/* The generic minimums every rule may carry. */
static bool minimums_met(struct turn *t, struct pass_outcome *o,
                         int64_t eligible_sum)
{
    const struct rules *ru = &t->p->rules;
    int64_t units = units_eligible(t);

    if (ru->min_quantity > units) {
        fail(o, REASON_MIN_QUANTITY_NOT_MET,
             detail_format(t->ctx->arena,
                           "min quantity %lld, eligible %lld: add %lld",
                           (long long)ru->min_quantity, (long long)units,
                           (long long)(ru->min_quantity - units)));
        return false;
    }
    if (ru->min_purchase > eligible_sum) {
        fail_min_purchase(t, o, ru->min_purchase, eligible_sum);
        return false;
    }
    return true;
}

static enum ep_status compute_kind(struct turn *t, struct pass_outcome *o,
                                   int64_t eligible_sum,
                                   const struct bxgy_lines *in)
{
    switch (t->p->rules.kind) {
    case KIND_PERCENT:
        compute_percent(t, eligible_sum);
        break;
    case KIND_FIXED:
        compute_fixed(t, eligible_sum);
        break;
    case KIND_FIXED_PRICE:
        compute_fixed_price(t);
        break;
    case KIND_TIERED:
        compute_tiered(t, o, eligible_sum);
        break;
    case KIND_BUY_X_GET_Y:
        return compute_bxgy(t, o, in);
    case KIND_BUNDLE:
        return compute_bundle(t, o);
    case KIND_UNSUPPORTED:
        fail(o, REASON_UNSUPPORTED_TYPE, NULL);
        break;
    }
    return EP_OK;
}

/* Marks E; buy_x_get_y also marks its buy and get lines. */
static enum ep_status mark_lines(struct turn *t, struct bxgy_lines *in)
{
    mark_eligible(t);
    if (t->p->rules.kind == KIND_BUY_X_GET_Y)
        return bxgy_mark(t, in);
    if (t->p->rules.kind == KIND_BUNDLE && !any_line_fits_a_slot(t))
        memset(t->eligible, 0, t->line_count * sizeof(*t->eligible));
    return EP_OK;
}

enum ep_status kinds_compute(struct turn *t, struct pass_outcome *o,
                             struct ep_error *err)
{
    struct bxgy_lines in = { NULL, NULL };
    int64_t eligible_sum;
    enum ep_status status;

    memset(o, 0, sizeof(*o));
    memset(t->line_discount, 0, t->line_count * sizeof(*t->line_discount));
    t->consume = NULL;
    t->consume_count = 0;
    status = mark_lines(t, &in);
    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "out of memory");
    if (!any_eligible(t)) {
        fail(o, REASON_NO_ELIGIBLE_ITEMS,
             detail_format(t->ctx->arena, "no item in the cart is eligible"));
        return EP_OK;
    }
    eligible_sum = sum_eligible(t);
    o->base_amount = eligible_sum;
    if (!minimums_met(t, o, eligible_sum))
        return EP_OK;
    status = compute_kind(t, o, eligible_sum, &in);
    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "out of memory");
    if (o->reason != REASON_APPLIED)
        return EP_OK;
    o->amount = sum_discounts(t);
    if (o->amount == 0)
        fail(o, REASON_ZERO_DISCOUNT,
             detail_format(t->ctx->arena, "it would take nothing off"));
    return EP_OK;
}
