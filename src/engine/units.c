/*
 * units.c - the units of a cart line at a promotion's turn (SPEC.md 4.1
 * step 4 and 4.2 item 9).
 *
 * A line of quantity q is q unit places sharing the line's amount left:
 * the first (left mod q) places carry one hundredth more, so unit amounts
 * are whole hundredths and the cheapest units of one line are its last
 * places. buy_x_get_y and bundle consume the units they use; a consumed
 * place stays consumed for the rest of the pass, and later splits still
 * run over all q places.
 *
 * Example: a line of 3 units with 1000 left splits as 334, 333, 333.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

int64_t unit_amount(int64_t left, int64_t quantity, int64_t place)
{
    return left / quantity + (place < left % quantity ? 1 : 0);
}

static bool unit_is_free(const struct line_state *line, int64_t place)
{
    return line->used == NULL || !line->used[place];
}

enum ep_status units_collect(const struct turn *t, struct unit **out,
                             size_t *count_out)
{
    const struct cart *cart = t->ctx->cart;
    size_t count = 0;
    struct unit *units;

    for (size_t k = 0; k < t->e_count; k++)
        count += (size_t)cart->lines[t->e[k]].quantity;
    units = ep_arena_alloc(t->ctx->arena, (count + 1) * sizeof(*units));
    if (units == NULL)
        return EP_ERR_NOMEM;
    count = 0;
    for (size_t k = 0; k < t->e_count; k++) {
        const struct line_state *line = &t->pass->lines[t->e[k]];
        int64_t q = cart->lines[t->e[k]].quantity;
        for (int64_t place = 0; place < q; place++) {
            if (!unit_is_free(line, place))
                continue;
            units[count].entry = (uint32_t)k;
            units[count].line = t->e[k];
            units[count].place = (uint32_t)place;
            units[count].amount = unit_amount(line->left, q, place);
            units[count].taken = false;
            count++;
        }
    }
    *out = units;
    *count_out = count;
    return EP_OK;
}

static int compare_cheapest(const void *a, const void *b)
{
    const struct unit *x = a;
    const struct unit *y = b;

    if (x->amount != y->amount)
        return x->amount < y->amount ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->place < y->place) - (x->place > y->place);
}

static int compare_dearest(const void *a, const void *b)
{
    const struct unit *x = a;
    const struct unit *y = b;

    if (x->amount != y->amount)
        return x->amount > y->amount ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->place > y->place) - (x->place < y->place);
}

/* Sorts with cmp: insertion sort for the short lists carts have (the
 * lists are mostly in order already: units come line by line, places in
 * order), qsort beyond. */
static void units_sort(struct unit *units, size_t count,
                       int (*cmp)(const void *, const void *))
{
    if (count > 96) {
        qsort(units, count, sizeof(*units), cmp);
        return;
    }
    for (size_t a = 1; a < count; a++) {
        struct unit moving = units[a];
        size_t b = a;
        for (; b > 0 && cmp(&moving, &units[b - 1]) < 0; b--)
            units[b] = units[b - 1];
        units[b] = moving;
    }
}

void units_sort_cheapest(struct unit *units, size_t count)
{
    units_sort(units, count, compare_cheapest);
}

void units_sort_dearest(struct unit *units, size_t count)
{
    units_sort(units, count, compare_dearest);
}

enum ep_status unit_consume(struct turn *t, const struct unit *unit)
{
    struct line_state *line = &t->pass->lines[unit->line];
    size_t q = (size_t)t->ctx->cart->lines[unit->line].quantity;

    if (line->used == NULL) {
        line->used = ep_arena_calloc(t->ctx->arena, q, 1);
        if (line->used == NULL)
            return EP_ERR_NOMEM;
    }
    line->used[unit->place] = 1;
    return EP_OK;
}
