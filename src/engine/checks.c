/*
 * checks.c - the checks a candidate passes before evaluation (SPEC.md 4.1
 * step 2), in their order, and what each failure says to a cashier.
 *
 * Dates are judged on the promotion's business date: the store-local date,
 * except that in the after-midnight part of an overnight window (00:00 to
 * time_end when time_start > time_end) it is the day before, the day the
 * window started (SPEC.md 2 and 4.2 item 7). Times are compared as local
 * wall-clock time.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

int32_t promotion_business_date(const struct promotion *p,
                                const struct ep_local_time *local)
{
    bool overnight =
        p->has_time_start && p->has_time_end && p->time_start > p->time_end;

    if (overnight && local->seconds <= p->time_end)
        return local->date - 1;
    return local->date;
}

static bool inside_window(const struct promotion *p, int32_t seconds)
{
    if (p->has_time_start && p->has_time_end) {
        if (p->time_start <= p->time_end)
            return seconds >= p->time_start && seconds <= p->time_end;
        return seconds >= p->time_start || seconds <= p->time_end;
    }
    if (p->has_time_start)
        return seconds >= p->time_start;
    if (p->has_time_end)
        return seconds <= p->time_end;
    return true;
}

static int compare_days(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a;
    int32_t y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

static bool is_holiday(const struct promo_set *set, int32_t date)
{
    return set->holiday_count > 0 &&
           bsearch(&date, set->holidays, set->holiday_count,
                   sizeof(*set->holidays), compare_days) != NULL;
}

enum engine_reason promotion_check_validity(const struct promo_set *set,
                                            const struct promotion *p,
                                            const struct ep_local_time *local)
{
    int32_t date = promotion_business_date(p, local);

    if (date < p->start_date)
        return REASON_NOT_STARTED;
    if (date > p->end_date)
        return REASON_EXPIRED;
    if (p->valid_days != 0 &&
        (p->valid_days & (1u << ep_date_weekday(date))) == 0)
        return REASON_NOT_VALID_TODAY;
    if (p->record->exclude_holidays && is_holiday(set, date))
        return REASON_HOLIDAY_EXCLUDED;
    if (!inside_window(p, local->seconds))
        return REASON_OUTSIDE_TIME_WINDOW;
    return REASON_APPLIED;
}

/* The store and brand checks (SPEC.md 4.2 item 4). */
static enum engine_reason check_owner(const struct promo_set *set,
                                      const struct promotion *p,
                                      const char *brand_id)
{
    const struct targeting *t = &p->targeting;

    if (set->store_id != NULL &&
        !(t->stores.all ? strcmp(p->record->store_id, set->store_id) == 0
                        : id_list_contains(&t->stores.list, set->store_id)))
        return REASON_WRONG_STORE;
    if (brand_id != NULL &&
        !(t->brands.all ? strcmp(p->record->brand_id, brand_id) == 0
                        : id_list_contains(&t->brands.list, brand_id)))
        return REASON_WRONG_BRAND;
    return REASON_APPLIED;
}

/* Member, customer type and tier (SPEC.md 4.2 item 5). */
static enum engine_reason check_customer(const struct eval_context *ctx,
                                         const struct promotion *p)
{
    const struct targeting *t = &p->targeting;
    const char *tier =
        ctx->cart->has_customer ? ctx->cart->customer.member_tier : NULL;

    if ((p->record->member_only || t->member_only) && !ctx->is_member)
        return REASON_MEMBER_ONLY;
    if (t->customer_type == CUSTOMER_MEMBER && !ctx->is_member)
        return REASON_CUSTOMER_TYPE_MISMATCH;
    if (t->customer_type == CUSTOMER_NON_MEMBER && ctx->is_member)
        return REASON_CUSTOMER_TYPE_MISMATCH;
    if (!t->member_tiers.all &&
        (!ctx->is_member || !id_list_contains(&t->member_tiers.list, tier)))
        return REASON_TIER_MISMATCH;
    return REASON_APPLIED;
}

/* Voucher and payment (SPEC.md 4.2 item 6). */
static enum engine_reason check_trigger(const struct eval_context *ctx,
                                        const struct promotion *p, bool typed)
{
    const struct targeting *t = &p->targeting;
    const char *method =
        ctx->cart->has_payment ? ctx->cart->payment_method : NULL;

    if (p->record->is_auto_apply && p->record->require_voucher && !typed)
        return REASON_VOUCHER_REQUIRED;
    if (!t->payment_methods.all && method == NULL)
        return REASON_PAYMENT_REQUIRED;
    if (!t->payment_methods.all &&
        !id_list_contains(&t->payment_methods.list, method))
        return REASON_PAYMENT_METHOD_MISMATCH;
    return REASON_APPLIED;
}

static const char *customer_id_of(const struct cart *cart)
{
    return cart->has_customer ? cart->customer.id : NULL;
}

/* Usage limits, with counts from the caller. */
static enum ep_status check_limits(const struct eval_context *ctx,
                                   const struct promotion *p,
                                   enum engine_reason *reason,
                                   struct ep_error *err)
{
    const struct promo_record *r = p->record;
    struct engine_usage_counts counts = { 0, 0, 0 };
    char date[EP_DATE_TEXT_MAX];
    enum ep_status status;

    *reason = REASON_APPLIED;
    if (r->has_max_uses_per_customer && customer_id_of(ctx->cart) == NULL) {
        *reason = REASON_CUSTOMER_REQUIRED;
        return EP_OK;
    }
    if (!r->has_max_uses && !r->has_max_uses_per_day &&
        !r->has_max_uses_per_customer)
        return EP_OK;
    if (ctx->limits != NULL && ctx->limits->counts != NULL) {
        ep_date_format(promotion_business_date(p, &ctx->local), date);
        status = ctx->limits->counts(ctx->limits->ctx, r, date,
                                     customer_id_of(ctx->cart), &counts);
        if (status != EP_OK)
            return ep_error_set(err, status, NULL,
                                "reading the usage of promotion %s failed",
                                r->id);
    }
    *reason = engine_limit_verdict(r, &counts);
    return EP_OK;
}

enum engine_reason engine_limit_verdict(const struct promo_record *r,
                                        const struct engine_usage_counts *c)
{
    if (r->has_max_uses && c->total >= r->max_uses)
        return REASON_USAGE_LIMIT_REACHED;
    if (r->has_max_uses_per_day && c->day >= r->max_uses_per_day)
        return REASON_DAILY_LIMIT_REACHED;
    if (r->has_max_uses_per_customer && c->customer >= r->max_uses_per_customer)
        return REASON_CUSTOMER_LIMIT_REACHED;
    return REASON_APPLIED;
}

enum ep_status promotion_check(const struct eval_context *ctx,
                               const struct promotion *p, bool typed,
                               enum engine_reason *reason_out,
                               struct ep_error *err)
{
    enum engine_reason reason = REASON_APPLIED;

    if (p->unsupported)
        reason = REASON_UNSUPPORTED_TYPE;
    else if (!p->record->is_active)
        reason = REASON_INACTIVE;
    if (reason == REASON_APPLIED)
        reason = promotion_check_validity(ctx->set, p, &ctx->local);
    if (reason == REASON_APPLIED)
        reason = check_owner(ctx->set, p, ctx->cart->brand_id);
    if (reason == REASON_APPLIED)
        reason = check_customer(ctx, p);
    if (reason == REASON_APPLIED)
        reason = check_trigger(ctx, p, typed);
    *reason_out = reason;
    if (reason != REASON_APPLIED)
        return EP_OK;
    return check_limits(ctx, p, reason_out, err);
}

bool promo_set_is_active_at(const struct promo_set *set, size_t index,
                            int64_t at, const char *brand_id)
{
    const struct promotion *p;
    struct ep_local_time local;

    if (index >= set->count)
        return false;
    p = &set->promotions[index];
    if (p->unsupported || !p->record->is_active)
        return false;
    ep_local_time_of(at, &local);
    return promotion_check_validity(set, p, &local) == REASON_APPLIED &&
           check_owner(set, p, brand_id) == REASON_APPLIED;
}
