/*
 * pass.c - one option of SPEC.md 4.1 step 7 evaluated: its promotions in
 * (stage, priority, code) order, each working on the amounts left by all
 * before it (10% then 10% is 19%), at most once each.
 */
#include <string.h>

#include "engine/internal.h"

static enum ep_status log_discount(struct turn *t, struct pass *pass,
                                   size_t line, int64_t amount)
{
    struct line_discount *grown;

    if (pass->discount_count == pass->discount_capacity) {
        size_t capacity = pass->discount_capacity * 2 + 16;
        grown = ep_arena_alloc(t->ctx->arena, capacity * sizeof(*grown));
        if (grown == NULL)
            return EP_ERR_NOMEM;
        if (pass->discount_count > 0)
            memcpy(grown, pass->discounts,
                   pass->discount_count * sizeof(*grown));
        pass->discounts = grown;
        pass->discount_capacity = capacity;
    }
    pass->discounts[pass->discount_count].line = (uint32_t)line;
    pass->discounts[pass->discount_count].promotion = (uint32_t)t->order_index;
    pass->discounts[pass->discount_count].amount = amount;
    pass->discount_count++;
    return EP_OK;
}

/* Takes the turn's discounts off the lines and consumes its units. */
static enum ep_status apply_turn(struct turn *t, struct pass *pass,
                                 const struct pass_outcome *outcome)
{
    enum ep_status status = EP_OK;

    for (size_t k = 0; status == EP_OK && k < t->e_count; k++) {
        int64_t d = t->discount[k];
        if (d == 0)
            continue;
        pass->lines[t->e[k]].left -= d;
        status = log_discount(t, pass, t->e[k], d);
    }
    for (size_t k = 0; status == EP_OK && k < t->consume_count; k++)
        status = unit_consume(t, &t->consume[k]);
    pass->total += outcome->amount;
    return status;
}

enum ep_status pass_run(struct turn *t, struct pass *pass, struct ep_error *err)
{
    const struct cart *cart = t->ctx->cart;
    enum ep_status status = EP_OK;

    pass->total = 0;
    pass->discount_count = 0;
    for (size_t i = 0; i < cart->line_count; i++) {
        pass->lines[i].left =
            cart->lines[i].quantity * cart->lines[i].unit_price;
        pass->lines[i].used = NULL;
    }
    t->pass = pass;
    t->totals_only = false;
    for (size_t k = 0; status == EP_OK && k < pass->count; k++) {
        struct pass_outcome *outcome = &pass->outcomes[k];
        t->item = pass->order[k];
        t->p = t->item->p;
        t->order_index = k;
        status = kinds_compute(t, outcome, err);
        if (status == EP_OK && outcome->reason == REASON_APPLIED)
            status = apply_turn(t, pass, outcome);
    }
    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "out of memory evaluating");
    return EP_OK;
}
