/*
 * evaluate.c - prices one cart against a snapshot (SPEC.md 4.1).
 *
 *  1. Candidates: the auto-applied promotions the indexes say can touch the
 *     cart (a product, a category or the brand of the cart), plus the
 *     promotions whose code was typed; a typed code that matches nothing is
 *     reported unknown_voucher.
 *  2. Checks before evaluation, in order; a failure is the reason.
 *  3. Options: S = every stackable candidate together; N = each
 *     non-stackable candidate alone on the original amounts. Each is a pass
 *     (pass.c). The largest discount wins; ties go to the lower lowest
 *     execution_priority, then the lower lowest code, among the promotions
 *     that applied.
 *  4. Reports: applied for the winner's promotions; for every other
 *     candidate its check reason, its at-turn reason, or not_combinable
 *     when it applied in a losing option.
 *
 * Cost: 1 + (non-stackable candidates) passes, each over the cart's lines.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

struct candidate {
    struct pass_item item;       /* the promotion and the lines it names */
    uint32_t index;              /* in the snapshot */
    bool typed;                  /* its code was typed */
    enum engine_reason reason;   /* check before evaluation */
    const char *detail;          /* for a failed check */
    const char *detail_json;     /* the same as a JSON string */
    struct pass_outcome outcome; /* in its option, when checks passed */
};

struct unknown_code {
    const char *typed; /* trimmed, as typed */
};

/* What decides between options: the discount, then the lowest priority
 * and the lowest code among the promotions that applied. */
struct option_key {
    int64_t total;
    int64_t priority;
    const char *code;
};

struct evaluation {
    struct eval_context ctx;
    struct turn turn;             /* scratch for every turn */
    struct candidate *candidates; /* in evaluation order */
    size_t count;
    size_t capacity;              /* entries allocated in candidates */
    struct unknown_code *unknown; /* typed codes matching nothing */
    size_t unknown_count;
    uint32_t *positions;          /* per snapshot promotion: candidate
                                      position + 1, or 0 */
    const struct pass *winner;    /* NULL: nothing applied */
    const char *combinable;       /* detail of not_combinable, made once */
    struct option_key winner_key; /* what the winner is judged by */
    size_t winner_candidate;      /* non-stackable winner, or SIZE_MAX */
};

/* ---- candidates ------------------------------------------------------- */

static const struct index_entry *index_find(const struct index *index,
                                            const char *key)
{
    size_t lo = 0;
    size_t hi = index->count;

    while (key != NULL && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, index->entries[mid].key);
        if (c == 0)
            return &index->entries[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Adds promotion index as a candidate; returns its position + 1, 0 when
 * out of memory. Typed codes are gathered first, so a promotion found again
 * through an index keeps its typed flag. */
static uint32_t add_candidate(struct evaluation *ev, uint32_t index, bool typed)
{
    struct candidate *grown;

    if (ev->positions[index] != 0)
        return ev->positions[index];
    if (ev->count == ev->capacity) {
        size_t capacity = ev->capacity * 2 + 16;
        grown = ep_arena_alloc(ev->ctx.arena, capacity * sizeof(*grown));
        if (grown == NULL)
            return 0;
        if (ev->count > 0)
            memcpy(grown, ev->candidates, ev->count * sizeof(*grown));
        ev->candidates = grown;
        ev->capacity = capacity;
    }
    ev->candidates[ev->count] = (struct candidate){
        .item = { .p = &ev->ctx.set->promotions[index] },
        .index = index,
        .typed = typed,
    };
    ev->positions[index] = (uint32_t)++ev->count;
    return ev->positions[index];
}

/* Notes that a candidate's scope (or get_scope) lists name a line. */
static enum ep_status mark_line(struct evaluation *ev, uint32_t position,
                                size_t line, bool get)
{
    struct candidate *cand = &ev->candidates[position - 1];
    struct line_list *list =
        get ? &cand->item.get_hits : &cand->item.scope_hits;

    if (list->lines == NULL) {
        list->lines = ep_arena_alloc(ev->ctx.arena, ev->ctx.cart->line_count *
                                                        sizeof(*list->lines));
        if (list->lines == NULL)
            return EP_ERR_NOMEM;
    }
    list->lines[list->count++] = (uint32_t)line;
    return EP_OK;
}

/*
 * Takes the promotions of one index entry: auto-applied ones become
 * candidates; for a line (line < SIZE_MAX) the entry names, each candidate
 * learns it names that line.
 */
static enum ep_status add_entry(struct evaluation *ev,
                                const struct index_entry *entry, size_t line)
{
    const struct promotion *all = ev->ctx.set->promotions;
    enum ep_status status = EP_OK;

    for (size_t k = 0; status == EP_OK && entry != NULL && k < entry->count;
         k++) {
        uint32_t index = entry->promotions[k] & ~INDEX_GET_SCOPE;
        bool get = (entry->promotions[k] & INDEX_GET_SCOPE) != 0;
        uint32_t position = ev->positions[index];
        if (position == 0 && !all[index].record->is_auto_apply)
            continue;
        if (position == 0)
            position = add_candidate(ev, index, false);
        if (position == 0)
            return EP_ERR_NOMEM;
        if (line != SIZE_MAX)
            status = mark_line(ev, position, line, get);
    }
    return status;
}

/* Copies a typed code trimmed of surrounding blanks. */
static const char *trimmed_copy(struct ep_arena *arena, const char *text)
{
    size_t n;

    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    n = strlen(text);
    while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' ||
                     text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    return ep_arena_strndup(arena, text, n);
}

/* True when code was typed before position k (in any case). */
static bool typed_before(const struct cart *cart, size_t k)
{
    char key[CODE_KEY_MAX];
    char earlier[CODE_KEY_MAX];

    if (!code_key_format(cart->voucher_codes[k], key, sizeof(key)))
        return false;
    for (size_t j = 0; j < k; j++) {
        if (code_key_format(cart->voucher_codes[j], earlier, sizeof(earlier)) &&
            strcmp(key, earlier) == 0)
            return true;
    }
    return false;
}

static enum ep_status gather_typed(struct evaluation *ev)
{
    const struct cart *cart = ev->ctx.cart;

    for (size_t k = 0; k < cart->voucher_count; k++) {
        size_t index;
        if (typed_before(cart, k))
            continue;
        index = promo_set_find_code(ev->ctx.set, cart->voucher_codes[k]);
        if (index != SIZE_MAX) {
            if (add_candidate(ev, (uint32_t)index, true) == 0)
                return EP_ERR_NOMEM;
            continue;
        }
        ev->unknown[ev->unknown_count].typed =
            trimmed_copy(ev->ctx.arena, cart->voucher_codes[k]);
        if (ev->unknown[ev->unknown_count].typed == NULL)
            return EP_ERR_NOMEM;
        ev->unknown_count++;
    }
    return EP_OK;
}

static int compare_indices(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/*
 * Puts the candidates in evaluation order (the snapshot's order). A few
 * candidates are sorted by index; many are collected by walking the
 * snapshot's positions, which costs one look per promotion.
 */
static enum ep_status order_candidates(struct evaluation *ev)
{
    size_t total = ev->ctx.set->count;
    struct candidate *sorted;
    uint32_t *indices;
    size_t n = 0;

    if (ev->count < 2)
        return EP_OK;
    sorted = ep_arena_alloc(ev->ctx.arena, ev->count * sizeof(*sorted));
    indices = ep_arena_alloc(ev->ctx.arena, ev->count * sizeof(*indices));
    if (sorted == NULL || indices == NULL)
        return EP_ERR_NOMEM;
    if (ev->count * 16 < total) {
        for (size_t c = 0; c < ev->count; c++)
            indices[c] = ev->candidates[c].index;
        qsort(indices, ev->count, sizeof(*indices), compare_indices);
    } else {
        for (uint32_t i = 0; i < total; i++) {
            if (ev->positions[i] != 0)
                indices[n++] = i;
        }
    }
    for (size_t c = 0; c < ev->count; c++)
        sorted[c] = ev->candidates[ev->positions[indices[c]] - 1];
    ev->candidates = sorted;
    return EP_OK;
}

/* Looks one line up in the product and category indexes. */
static enum ep_status gather_line(struct evaluation *ev,
                                  const struct promo_set *set,
                                  const struct cart_line *line, size_t i)
{
    enum ep_status status;

    status = add_entry(ev, index_find(&set->by_product, line->product_id), i);
    if (status == EP_OK)
        status =
            add_entry(ev, index_find(&set->by_category, line->category_id), i);
    return status;
}

static enum ep_status gather_candidates(struct evaluation *ev)
{
    const struct promo_set *set = ev->ctx.set;
    const struct cart *cart = ev->ctx.cart;
    enum ep_status status = gather_typed(ev);

    if (status != EP_OK)
        return status;
    for (size_t i = 0; status == EP_OK && i < cart->line_count; i++)
        status = gather_line(ev, set, &cart->lines[i], i);
    if (status == EP_OK)
        status =
            add_entry(ev, index_find(&set->by_brand, cart->brand_id), SIZE_MAX);
    if (status != EP_OK)
        return status;
    return order_candidates(ev);
}

/* ---- checks ----------------------------------------------------------- */

static enum ep_status check_candidates(struct evaluation *ev,
                                       struct ep_error *err)
{
    for (size_t c = 0; c < ev->count; c++) {
        struct candidate *cand = &ev->candidates[c];
        enum ep_status status = promotion_check(
            &ev->ctx, cand->item.p, cand->typed, &cand->reason, err);
        if (status != EP_OK)
            return status;
        if (cand->reason != REASON_APPLIED) {
            cand->detail = cand->item.p->details[cand->reason];
            cand->detail_json = cand->item.p->details_json[cand->reason];
        }
    }
    return EP_OK;
}

/* ---- options ---------------------------------------------------------- */

static enum ep_status pass_init(struct evaluation *ev, struct pass *pass,
                                size_t capacity)
{
    struct ep_arena *arena = ev->ctx.arena;

    memset(pass, 0, sizeof(*pass));
    pass->order = ep_arena_alloc(arena, (capacity + 1) * sizeof(*pass->order));
    pass->outcomes =
        ep_arena_alloc(arena, (capacity + 1) * sizeof(*pass->outcomes));
    pass->lines =
        ep_arena_calloc(arena, ev->ctx.cart->line_count, sizeof(*pass->lines));
    if (!pass->order || !pass->outcomes || !pass->lines)
        return EP_ERR_NOMEM;
    return EP_OK;
}

static struct option_key pass_key(const struct pass *pass)
{
    struct option_key key = { pass->total, INT64_MAX, NULL };

    for (size_t k = 0; k < pass->count; k++) {
        const struct promotion *p = pass->order[k]->p;
        if (pass->outcomes[k].reason != REASON_APPLIED)
            continue;
        if (p->priority < key.priority)
            key.priority = p->priority;
        if (key.code == NULL || strcmp(p->record->code, key.code) < 0)
            key.code = p->record->code;
    }
    return key;
}

/* True when option a beats option b; an option worth 0 never wins. */
static bool key_beats(const struct option_key *a, const struct option_key *b)
{
    if (a->total == 0)
        return false;
    if (b == NULL || a->total != b->total)
        return b == NULL || a->total > b->total;
    if (a->priority != b->priority)
        return a->priority < b->priority;
    return strcmp(a->code, b->code) < 0;
}

static enum ep_status run_stackable(struct evaluation *ev, struct pass *s,
                                    struct ep_error *err)
{
    enum ep_status status = pass_init(ev, s, ev->count);

    if (status != EP_OK)
        return ep_error_set(err, status, NULL, "out of memory");
    for (size_t c = 0; c < ev->count; c++) {
        struct candidate *cand = &ev->candidates[c];
        if (cand->reason == REASON_APPLIED &&
            cand->item.p->record->is_stackable)
            s->order[s->count++] = &cand->item;
    }
    status = pass_run(&ev->turn, s, err);
    if (status != EP_OK)
        return status;
    for (size_t c = 0, k = 0; c < ev->count; c++) {
        struct candidate *cand = &ev->candidates[c];
        if (cand->reason == REASON_APPLIED &&
            cand->item.p->record->is_stackable)
            cand->outcome = s->outcomes[k++];
    }
    ev->winner_key = pass_key(s);
    if (key_beats(&ev->winner_key, NULL))
        ev->winner = s;
    return EP_OK;
}

/* Judges candidate c alone on the original amounts, totals only. */
static enum ep_status judge_alone(struct evaluation *ev, struct pass *alone,
                                  struct candidate *cand, struct ep_error *err)
{
    struct turn *t = &ev->turn;

    t->pass = alone;
    t->item = &cand->item;
    t->p = cand->item.p;
    t->order_index = 0;
    t->totals_only = true;
    return kinds_compute(t, &cand->outcome, err);
}

/*
 * Runs each non-stackable candidate alone: first only its total (on a pass
 * whose amounts are the cart's own and never change); only a candidate
 * that beats the best option so far runs as a full pass into *best.
 */
static enum ep_status run_alone(struct evaluation *ev, struct pass *alone,
                                struct pass *best, struct ep_error *err)
{
    enum ep_status status = EP_OK;

    for (size_t c = 0; status == EP_OK && c < ev->count; c++) {
        struct candidate *cand = &ev->candidates[c];
        struct option_key key;
        if (cand->reason != REASON_APPLIED ||
            cand->item.p->record->is_stackable)
            continue;
        status = judge_alone(ev, alone, cand, err);
        key = (struct option_key){ cand->outcome.amount, cand->item.p->priority,
                                   cand->item.p->record->code };
        if (status != EP_OK || cand->outcome.reason != REASON_APPLIED ||
            !key_beats(&key, ev->winner ? &ev->winner_key : NULL))
            continue;
        best->order[0] = &cand->item;
        best->count = 1;
        status = pass_run(&ev->turn, best, err);
        ev->winner = best;
        ev->winner_key = key;
        ev->winner_candidate = c;
    }
    return status;
}

/* ---- the result ------------------------------------------------------- */

static bool candidate_won(const struct evaluation *ev, size_t c)
{
    const struct candidate *cand = &ev->candidates[c];

    if (ev->winner == NULL || cand->outcome.reason != REASON_APPLIED)
        return false;
    if (cand->item.p->record->is_stackable)
        return ev->winner_candidate == SIZE_MAX;
    return ev->winner_candidate == c;
}

static enum ep_status build_lines(const struct evaluation *ev,
                                  struct eval_result *r)
{
    const struct cart *cart = ev->ctx.cart;
    const struct pass *w = ev->winner;
    struct ep_arena *arena = ev->ctx.arena;

    r->lines = ep_arena_calloc(arena, cart->line_count, sizeof(*r->lines));
    if (r->lines == NULL)
        return EP_ERR_NOMEM;
    r->line_count = cart->line_count;
    for (size_t i = 0; i < cart->line_count; i++) {
        r->lines[i].subtotal =
            cart->lines[i].quantity * cart->lines[i].unit_price;
        r->subtotal += r->lines[i].subtotal;
    }
    for (size_t d = 0; w != NULL && d < w->discount_count; d++)
        r->lines[w->discounts[d].line].promotion_count++;
    for (size_t i = 0; i < cart->line_count; i++) {
        r->lines[i].promotions =
            ep_arena_calloc(arena, r->lines[i].promotion_count + 1,
                            sizeof(*r->lines[i].promotions));
        if (r->lines[i].promotions == NULL)
            return EP_ERR_NOMEM;
        r->lines[i].promotion_count = 0;
    }
    for (size_t d = 0; w != NULL && d < w->discount_count; d++) {
        struct eval_line *line = &r->lines[w->discounts[d].line];
        const struct promotion *p = w->order[w->discounts[d].promotion]->p;
        line->promotions[line->promotion_count].code = p->record->code;
        line->promotions[line->promotion_count].json_head = p->json_line;
        line->promotions[line->promotion_count++].amount =
            w->discounts[d].amount;
        line->discount += w->discounts[d].amount;
    }
    for (size_t i = 0; i < cart->line_count; i++)
        r->lines[i].total = r->lines[i].subtotal - r->lines[i].discount;
    return EP_OK;
}

static enum ep_status build_applied(const struct evaluation *ev,
                                    struct eval_result *r)
{
    const struct pass *w = ev->winner;

    r->applied = ep_arena_calloc(ev->ctx.arena, (w ? w->count : 0) + 1,
                                 sizeof(*r->applied));
    if (r->applied == NULL)
        return EP_ERR_NOMEM;
    for (size_t k = 0; w != NULL && k < w->count; k++) {
        struct eval_applied *a = &r->applied[r->applied_count];
        if (w->outcomes[k].reason != REASON_APPLIED)
            continue;
        a->record = w->order[k]->p->record;
        a->json_head = w->order[k]->p->json_applied;
        a->amount = w->outcomes[k].amount;
        a->base_amount = w->outcomes[k].base_amount;
        ep_date_format(promotion_business_date(w->order[k]->p, &ev->ctx.local),
                       a->usage_date);
        r->discount_total += a->amount;
        r->applied_count++;
    }
    return EP_OK;
}

/* The detail of not_combinable: what the winning option applied. */
static const char *combinable_detail(struct evaluation *ev)
{
    char codes[160];
    size_t pos = 0;
    const struct pass *w = ev->winner;

    if (ev->combinable != NULL)
        return ev->combinable;
    codes[0] = '\0';
    for (size_t k = 0; k < w->count && pos < sizeof(codes); k++) {
        if (w->outcomes[k].reason != REASON_APPLIED)
            continue;
        pos += (size_t)snprintf(codes + pos, sizeof(codes) - pos, "%s%s",
                                pos == 0 ? "" : ", ",
                                w->order[k]->p->record->code);
    }
    ev->combinable = detail_format(ev->ctx.arena,
                                   "does not combine with %s, which take(s) "
                                   "more off",
                                   codes);
    return ev->combinable;
}

static void report(struct eval_result *r, const struct promotion *p,
                   const char *code, enum engine_reason reason,
                   const char *detail, const char *detail_json)
{
    struct eval_not_applied *n = &r->not_applied[r->not_applied_count++];

    n->record = p != NULL ? p->record : NULL;
    n->json_head = p != NULL ? p->json_not_applied : NULL;
    n->code = code;
    n->reason = reason;
    n->detail = detail;
    n->detail_json = detail_json;
}

static enum ep_status build_not_applied(struct evaluation *ev,
                                        struct eval_result *r)
{
    r->not_applied =
        ep_arena_alloc(ev->ctx.arena, (ev->count + ev->unknown_count + 1) *
                                          sizeof(*r->not_applied));
    if (r->not_applied == NULL)
        return EP_ERR_NOMEM;
    for (size_t c = 0; c < ev->count; c++) {
        const struct candidate *cand = &ev->candidates[c];
        const struct promotion *p = cand->item.p;
        if (cand->reason != REASON_APPLIED)
            report(r, p, p->record->code, cand->reason, cand->detail,
                   cand->detail_json);
        else if (cand->outcome.reason != REASON_APPLIED)
            report(r, p, p->record->code, cand->outcome.reason,
                   cand->outcome.detail, NULL);
        else if (!candidate_won(ev, c))
            report(r, p, p->record->code, REASON_NOT_COMBINABLE,
                   combinable_detail(ev), NULL);
    }
    for (size_t u = 0; u < ev->unknown_count; u++)
        report(r, NULL, ev->unknown[u].typed, REASON_UNKNOWN_VOUCHER,
               detail_format(ev->ctx.arena, "no promotion has code %s",
                             ev->unknown[u].typed),
               NULL);
    return EP_OK;
}

static enum ep_status build_result(struct evaluation *ev,
                                   struct eval_result **out)
{
    struct eval_result *r = ep_arena_calloc(ev->ctx.arena, 1, sizeof(*r));

    if (r == NULL)
        return EP_ERR_NOMEM;
    ep_date_format(ev->ctx.local.date, r->local_date);
    if (build_lines(ev, r) != EP_OK || build_applied(ev, r) != EP_OK ||
        build_not_applied(ev, r) != EP_OK)
        return EP_ERR_NOMEM;
    r->total = r->subtotal - r->discount_total;
    *out = r;
    return EP_OK;
}

/* ---- setup ------------------------------------------------------------ */

static bool customer_is_member(const struct cart *cart)
{
    const char *type = cart->customer.type;

    return cart->has_customer &&
           (cart->customer.is_member ||
            (type != NULL && strcmp(type, "member") == 0));
}

static enum ep_status evaluation_init(struct evaluation *ev,
                                      const struct promo_set *set,
                                      const struct cart *cart,
                                      const struct engine_limits *limits,
                                      struct ep_arena *arena)
{
    size_t n = cart->line_count;
    struct turn *t = &ev->turn;

    memset(ev, 0, sizeof(*ev));
    ev->ctx.set = set;
    ev->ctx.cart = cart;
    ev->ctx.limits = limits;
    ev->ctx.arena = arena;
    ev->ctx.is_member = customer_is_member(cart);
    ev->winner_candidate = SIZE_MAX;
    ev->positions =
        ep_arena_calloc(arena, set->count + 1, sizeof(*ev->positions));
    ev->unknown =
        ep_arena_calloc(arena, cart->voucher_count + 1, sizeof(*ev->unknown));
    t->ctx = &ev->ctx;
    t->line_count = n;
    t->e = ep_arena_alloc(arena, n * sizeof(*t->e));
    t->in_buy = ep_arena_alloc(arena, n);
    t->in_get = ep_arena_alloc(arena, n);
    t->discount = ep_arena_alloc(arena, n * sizeof(*t->discount));
    t->weights = ep_arena_alloc(arena, n * sizeof(*t->weights));
    t->shares = ep_arena_alloc(arena, n * sizeof(*t->shares));
    t->merge = ep_arena_alloc(arena, 2 * n * sizeof(*t->merge));
    if (!ev->positions || !ev->unknown || !t->e || !t->in_buy || !t->in_get ||
        !t->discount || !t->weights || !t->shares || !t->merge)
        return EP_ERR_NOMEM;
    return EP_OK;
}

/* A pass whose lines hold the cart's own amounts, for judging alone. */
static enum ep_status pristine_init(struct evaluation *ev, struct pass *alone)
{
    const struct cart *cart = ev->ctx.cart;
    enum ep_status status = pass_init(ev, alone, 1);

    for (size_t i = 0; status == EP_OK && i < cart->line_count; i++)
        alone->lines[i].left =
            cart->lines[i].quantity * cart->lines[i].unit_price;
    return status;
}

static enum ep_status run_options(struct evaluation *ev, struct ep_error *err)
{
    struct pass *passes = ep_arena_calloc(ev->ctx.arena, 3, sizeof(*passes));
    enum ep_status status;

    if (passes == NULL || pristine_init(ev, &passes[1]) != EP_OK ||
        pass_init(ev, &passes[2], 1) != EP_OK)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    status = run_stackable(ev, &passes[0], err);
    if (status == EP_OK)
        status = run_alone(ev, &passes[1], &passes[2], err);
    return status;
}

enum ep_status engine_evaluate(const struct promo_set *set,
                               const struct cart *cart, int64_t now,
                               const struct engine_limits *limits,
                               struct ep_arena *arena, struct eval_result **out,
                               struct ep_error *err)
{
    struct evaluation ev;
    int64_t at = cart->has_at ? cart->at : now;
    enum ep_status status;

    if (evaluation_init(&ev, set, cart, limits, arena) != EP_OK ||
        gather_candidates(&ev) != EP_OK)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    ep_local_time_of(at, &ev.ctx.local);
    status = check_candidates(&ev, err);
    if (status == EP_OK)
        status = run_options(&ev, err);
    if (status == EP_OK && build_result(&ev, out) != EP_OK)
        status = ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    if (status == EP_OK)
        (*out)->at = at;
    return status;
}
