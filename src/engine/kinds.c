/*
 * kinds.c - what one promotion takes off at its turn, per type (SPEC.md
 * 4.1 step 5), and the at-turn reasons it may fail with.
 *
 * E is the promotion's eligible lines with the amounts left by every
 * promotion before it, kept as a list of line indices so that a turn costs
 * what the promotion touches, not the whole cart. A turn runs: E empty ->
 * no_eligible_items; too few units -> min_quantity_not_met; too little
 * money -> min_purchase_not_met; then the type computes a discount per line
 * of E; the cap (max_discount_amount) applies; nothing taken ->
 * zero_discount.
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

static const struct cart_line *line_of(const struct turn *t, size_t k)
{
    return &t->ctx->cart->lines[t->e[k]];
}

static int64_t left_of(const struct turn *t, size_t k)
{
    return t->pass->lines[t->e[k]].left;
}

static int64_t sum_eligible(const struct turn *t)
{
    int64_t sum = 0;

    for (size_t k = 0; k < t->e_count; k++)
        sum += left_of(t, k);
    return sum;
}

static int64_t units_eligible(const struct turn *t)
{
    int64_t units = 0;

    for (size_t k = 0; k < t->e_count; k++)
        units += line_of(t, k)->quantity;
    return units;
}

static int64_t sum_discounts(const struct turn *t)
{
    int64_t sum = 0;

    for (size_t k = 0; k < t->e_count; k++)
        sum += t->discount[k];
    return sum;
}

/* Allocates total over E in proportion to t->weights. */
static void allocate_over(struct turn *t, int64_t total)
{
    ep_money_allocate(total, t->weights, t->e_count, t->discount, t->shares);
}

/* A transaction-type discount: cap it, then spread it over E by amounts
 * left. */
static void spread_transaction(struct turn *t, int64_t total)
{
    const struct rules *ru = &t->p->rules;

    if (ru->has_cap && total > ru->cap)
        total = ru->cap;
    t->total = total;
    if (t->totals_only)
        return;
    for (size_t k = 0; k < t->e_count; k++)
        t->weights[k] = left_of(t, k);
    allocate_over(t, total);
}

/* Caps a per-line discount: the cap is spread like the discounts were. */
static void cap_per_line(struct turn *t)
{
    const struct rules *ru = &t->p->rules;

    t->total = sum_discounts(t);
    if (!ru->has_cap || t->total <= ru->cap)
        return;
    t->total = ru->cap;
    if (t->totals_only)
        return;
    memcpy(t->weights, t->discount, t->e_count * sizeof(*t->weights));
    allocate_over(t, ru->cap);
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

    const char *parts[] = { "min purchase ", need, ", eligible ", have,
                            ": add ",        add };

    ep_money_format_display(min_purchase, need);
    ep_money_format_display(eligible, have);
    ep_money_format_display(min_purchase - eligible, add);
    fail(o, REASON_MIN_PURCHASE_NOT_MET,
         detail_join(t->ctx->arena, parts, sizeof(parts) / sizeof(parts[0])));
}

/* ---- percent, fixed, fixed_price, tiered ------------------------------ */

static void compute_percent(struct turn *t, int64_t eligible_sum)
{
    int32_t percent = t->p->rules.percent;

    if (t->p->stage != STAGE_ITEM) {
        spread_transaction(t, ep_money_percent_of(eligible_sum, percent));
        return;
    }
    for (size_t k = 0; k < t->e_count; k++)
        t->discount[k] = ep_money_percent_of(left_of(t, k), percent);
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
    for (size_t k = 0; k < t->e_count; k++) {
        int64_t left = left_of(t, k);
        int64_t q = line_of(t, k)->quantity;
        t->discount[k] = ru->amount > left / q ? left : ru->amount * q;
    }
    cap_per_line(t);
}

static void compute_fixed_price(struct turn *t)
{
    int64_t price = t->p->rules.amount;

    for (size_t k = 0; k < t->e_count; k++) {
        int64_t left = left_of(t, k);
        int64_t q = line_of(t, k)->quantity;
        t->discount[k] = price <= left / q ? left - price * q : 0;
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
        total = reached->amount < eligible_sum ? reached->amount : eligible_sum;
    spread_transaction(t, total);
}

/* ---- buy_x_get_y ------------------------------------------------------ */

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
                       (long long)ru->buy_quantity, (long long)ru->get_quantity,
                       (long long)all_units, (long long)missing));
}

/*
 * Picks the n*Y get units, cheapest first, keeping enough units that are
 * in both scopes free for buying (SPEC.md 4.2 item 10). Marks them taken.
 */
static size_t bxgy_pick_get(const struct turn *t, struct unit *units,
                            size_t count, int64_t wanted,
                            int64_t shared_allowed, struct unit *out)
{
    size_t picked = 0;
    int64_t shared_taken = 0;

    units_sort_cheapest(units, count);
    for (size_t k = 0; k < count && (int64_t)picked < wanted; k++) {
        uint32_t e = units[k].entry;
        bool shared = t->in_buy[e] && t->in_get[e];
        if (!t->in_get[e] || (shared && shared_taken >= shared_allowed))
            continue;
        shared_taken += shared;
        units[k].taken = true;
        out[picked++] = units[k];
    }
    return picked;
}

/* Picks the n*X dearest remaining buy units. */
static size_t bxgy_pick_buy(const struct turn *t, struct unit *units,
                            size_t count, int64_t wanted, struct unit *out)
{
    size_t picked = 0;

    units_sort_dearest(units, count);
    for (size_t k = 0; k < count && (int64_t)picked < wanted; k++) {
        if (!units[k].taken && t->in_buy[units[k].entry])
            out[picked++] = units[k];
    }
    return picked;
}

/* Counts free units: in buy lines, in get lines, in both. */
static void bxgy_tally(const struct turn *t, const struct unit *units,
                       size_t count, int64_t *buy, int64_t *get,
                       int64_t *shared)
{
    *buy = *get = *shared = 0;
    for (size_t k = 0; k < count; k++) {
        uint32_t e = units[k].entry;
        *buy += t->in_buy[e];
        *get += t->in_get[e];
        *shared += t->in_buy[e] && t->in_get[e];
    }
}

/* Gives each line round(sum of its get units * percent). */
static void bxgy_discount(struct turn *t, const struct unit *get, size_t count)
{
    memset(t->weights, 0, t->e_count * sizeof(*t->weights));
    for (size_t k = 0; k < count; k++)
        t->weights[get[k].entry] += get[k].amount;
    for (size_t k = 0; k < t->e_count; k++)
        t->discount[k] =
            ep_money_percent_of(t->weights[k], t->p->rules.percent);
    cap_per_line(t);
}

static enum ep_status compute_bxgy(struct turn *t, struct pass_outcome *o)
{
    const struct rules *ru = &t->p->rules;
    struct unit *units = NULL;
    size_t count = 0;
    int64_t buy, get, shared, n, need_shared;
    size_t got;

    if (units_collect(t, &units, &count) != EP_OK)
        return EP_ERR_NOMEM;
    bxgy_tally(t, units, count, &buy, &get, &shared);
    n = bxgy_count(ru, buy, get, (int64_t)count);
    if (n == 0) {
        fail_bxgy_units(t, o, buy, get, (int64_t)count);
        return EP_OK;
    }
    t->consume = ep_arena_alloc(
        t->ctx->arena, (size_t)(n * (ru->buy_quantity + ru->get_quantity)) *
                           sizeof(*t->consume));
    if (t->consume == NULL)
        return EP_ERR_NOMEM;
    need_shared = n * ru->buy_quantity - (buy - shared);
    got =
        bxgy_pick_get(t, units, count, n * ru->get_quantity,
                      shared - (need_shared > 0 ? need_shared : 0), t->consume);
    bxgy_discount(t, t->consume, got);
    t->consume_count =
        got +
        bxgy_pick_buy(t, units, count, n * ru->buy_quantity, t->consume + got);
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
    struct unit *units; /* free units of E, dearest first */
    size_t count;
    unsigned char *fits;  /* per E entry and slot: the line fits */
    bool *used;           /* per unit: in a set already */
    bool *in_set;         /* per unit: in the set being formed */
    size_t *order;        /* slot order for the current set */
    struct unit *members; /* units of all formed sets, set by set */
    size_t member_count;
    int64_t sets; /* complete sets formed */
};

static bool unit_fits(const struct turn *t, const struct bundle_work *w,
                      size_t unit, size_t slot)
{
    return w->fits[w->units[unit].entry * t->p->rules.slot_count + slot];
}

static int64_t free_fitting(const struct turn *t, const struct bundle_work *w,
                            size_t slot)
{
    int64_t n = 0;

    for (size_t k = 0; k < w->count; k++)
        n += !w->used[k] && unit_fits(t, w, k, slot);
    return n;
}

/* Orders the slots by spare units, ascending (ties: slot order). */
static void order_slots(const struct turn *t, struct bundle_work *w,
                        int64_t *spare)
{
    const struct rules *ru = &t->p->rules;

    for (size_t s = 0; s < ru->slot_count; s++) {
        spare[s] = free_fitting(t, w, s) - ru->slots[s].quantity;
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
                         size_t slot, int64_t *set_sum)
{
    int64_t need = t->p->rules.slots[slot].quantity;

    for (size_t k = 0; k < w->count && need > 0; k++) {
        if (w->used[k] || w->in_set[k] || !unit_fits(t, w, k, slot))
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
        int64_t left = fill_slot(t, w, w->order[s], &set_sum);
        if (left > 0) {
            *short_slot = w->order[s];
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
    struct ep_money_share *shares;
};

/* Allocates the set's discount over its units, by unit amount. */
static void discount_set(struct turn *t, const struct set_scratch *x,
                         const struct unit *members, size_t count,
                         int64_t discount)
{
    for (size_t k = 0; k < count; k++)
        x->weights[k] = members[k].amount;
    ep_money_allocate(discount, x->weights, count, x->parts, x->shares);
    for (size_t k = 0; k < count; k++)
        t->discount[members[k].entry] += x->parts[k];
}

static bool unit_before(const struct unit *a, const struct unit *b)
{
    return a->line < b->line || (a->line == b->line && a->place < b->place);
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
        for (size_t b = a;
             b > first && unit_before(&w->members[b], &w->members[b - 1]);
             b--) {
            struct unit tmp = w->members[b];
            w->members[b] = w->members[b - 1];
            w->members[b - 1] = tmp;
        }
    }
}

/* Which lines of E fit which slots; false when none fits any. */
static bool bundle_fits(struct turn *t, unsigned char *fits)
{
    const struct rules *ru = &t->p->rules;
    bool any = false;

    for (size_t k = 0; k < t->e_count; k++) {
        for (size_t s = 0; s < ru->slot_count; s++) {
            fits[k * ru->slot_count + s] =
                slot_fits(&ru->slots[s], line_of(t, k));
            any |= fits[k * ru->slot_count + s] != 0;
        }
    }
    return any;
}

static enum ep_status bundle_work_init(struct turn *t, struct bundle_work *w)
{
    struct ep_arena *arena = t->ctx->arena;
    size_t slots = t->p->rules.slot_count;

    memset(w, 0, sizeof(*w));
    w->fits = ep_arena_alloc(arena, t->e_count * slots + 1);
    if (w->fits == NULL)
        return EP_ERR_NOMEM;
    if (!bundle_fits(t, w->fits)) {
        t->e_count = 0; /* no line of E fits any slot */
        return EP_OK;
    }
    if (units_collect(t, &w->units, &w->count) != EP_OK)
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
    int64_t *spare =
        ep_arena_calloc(t->ctx->arena, ru->slot_count, sizeof(*spare));
    int64_t *sums = ep_arena_calloc(t->ctx->arena, w->count + 1, sizeof(*sums));

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
                 "the items cost no more than the bundle price");
        if (sum < 0 || sum <= ru->amount)
            break;
        sums[w->sets++] = sum;
        keep_set(w);
    }
    *set_sums = sums;
    return EP_OK;
}

static enum ep_status compute_bundle(struct turn *t, struct pass_outcome *o,
                                     struct bundle_work *w)
{
    struct set_scratch x;
    int64_t *sums = NULL;
    size_t per_set;

    if (bundle_form_sets(t, o, w, &sums) != EP_OK)
        return EP_ERR_NOMEM;
    if (o->reason != REASON_APPLIED)
        return EP_OK;
    per_set = w->member_count / (size_t)w->sets;
    x.weights = ep_arena_calloc(t->ctx->arena, per_set, sizeof(*x.weights));
    x.parts = ep_arena_calloc(t->ctx->arena, per_set, sizeof(*x.parts));
    x.shares = ep_arena_calloc(t->ctx->arena, per_set, sizeof(*x.shares));
    if (x.weights == NULL || x.parts == NULL || x.shares == NULL)
        return EP_ERR_NOMEM;
    memset(t->discount, 0, t->e_count * sizeof(*t->discount));
    for (int64_t s = 0; s < w->sets; s++)
        discount_set(t, &x, w->members + (size_t)s * per_set, per_set,
                     sums[s] - t->p->rules.amount);
    t->consume = w->members;
    t->consume_count = w->member_count;
    cap_per_line(t);
    return EP_OK;
}

/* ---- E ---------------------------------------------------------------- */

/*
 * Lists into out the lines of a scope: every line for "all", else the lines
 * its lists named (hits); exclusions removed. Returns the count.
 */
static size_t scope_lines(const struct turn *t, const struct scope *scope,
                          const struct line_list *hits, uint32_t *out)
{
    const struct cart *cart = t->ctx->cart;
    size_t n = 0;

    if (scope->apply_to == APPLY_ALL) {
        for (size_t i = 0; i < t->line_count; i++) {
            if (!scope_excludes(scope, &cart->lines[i]))
                out[n++] = (uint32_t)i;
        }
        return n;
    }
    for (size_t k = 0; k < hits->count; k++) {
        if (!scope_excludes(scope, &cart->lines[hits->lines[k]]))
            out[n++] = hits->lines[k];
    }
    return n;
}

/* E = scope ∪ get_scope for buy_x_get_y, with which side each line is on.
 * Without a get_scope, every line of E buys and gets. */
static void mark_bxgy(struct turn *t)
{
    const struct rules *ru = &t->p->rules;
    size_t buys = t->e_count;
    size_t gets;
    size_t a = 0;
    size_t b = 0;

    if (!ru->has_get_scope) {
        memset(t->in_buy, 1, t->e_count);
        memset(t->in_get, 1, t->e_count);
        return;
    }
    memcpy(t->merge, t->e, buys * sizeof(*t->e));
    gets = scope_lines(t, &ru->get_scope, &t->item->get_hits,
                       t->merge + t->line_count);
    t->e_count = 0;
    while (a < buys || b < gets) {
        uint32_t x = a < buys ? t->merge[a] : UINT32_MAX;
        uint32_t y = b < gets ? t->merge[t->line_count + b] : UINT32_MAX;
        t->in_buy[t->e_count] = x <= y;
        t->in_get[t->e_count] = y <= x;
        t->e[t->e_count++] = x <= y ? x : y;
        a += x <= y;
        b += y <= x;
    }
}

/* ---- a turn ----------------------------------------------------------- */

/* The generic minimums every rule may carry. */
static bool minimums_met(struct turn *t, struct pass_outcome *o,
                         int64_t eligible_sum)
{
    const struct rules *ru = &t->p->rules;
    int64_t units = ru->min_quantity > 0 ? units_eligible(t) : 0;

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
                                   int64_t eligible_sum, struct bundle_work *w)
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
        return compute_bxgy(t, o);
    case KIND_BUNDLE:
        return compute_bundle(t, o, w);
    case KIND_UNSUPPORTED:
        fail(o, REASON_UNSUPPORTED_TYPE, NULL);
        break;
    }
    return EP_OK;
}

enum ep_status kinds_compute(struct turn *t, struct pass_outcome *o,
                             struct ep_error *err)
{
    struct bundle_work w;
    int64_t eligible_sum;
    enum ep_status status = EP_OK;

    memset(o, 0, sizeof(*o));
    t->consume = NULL;
    t->consume_count = 0;
    t->total = 0;
    t->e_count = scope_lines(t, &t->p->scope, &t->item->scope_hits, t->e);
    if (t->p->rules.kind == KIND_BUY_X_GET_Y)
        mark_bxgy(t);
    if (t->p->rules.kind == KIND_BUNDLE)
        status = bundle_work_init(t, &w);
    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "out of memory");
    if (t->e_count == 0) {
        fail(o, REASON_NO_ELIGIBLE_ITEMS, "no item in the cart is eligible");
        return EP_OK;
    }
    memset(t->discount, 0, t->e_count * sizeof(*t->discount));
    eligible_sum = sum_eligible(t);
    o->base_amount = eligible_sum;
    if (!minimums_met(t, o, eligible_sum))
        return EP_OK;
    status = compute_kind(t, o, eligible_sum, &w);
    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "out of memory");
    if (o->reason != REASON_APPLIED)
        return EP_OK;
    o->amount = t->total;
    if (o->amount == 0)
        fail(o, REASON_ZERO_DISCOUNT, "it would take nothing off");
    return EP_OK;
}
