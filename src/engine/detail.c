/*
 * detail.c - the sentence a cashier reads when a promotion did not apply.
 *
 * Details are short, in plain English, with amounts in the store's display
 * form ("Rp 17.500") and dates and times as the promotion states them. The
 * at-turn details (minimum purchase and quantity) are written where those
 * checks run, in kinds.c; this file has the ones for the checks before
 * evaluation, and the formatting helper.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

#define DETAIL_MAX 256

const char *detail_format(struct ep_arena *arena, const char *fmt, ...)
{
    char text[DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return ep_arena_strdup(arena, text);
}

/* Joins a list as "a, b or c" into out. */
static void join_list(const struct id_list *list, const char *last_sep,
                      char *out, size_t size)
{
    size_t pos = 0;

    out[0] = '\0';
    for (size_t i = 0; i < list->count && pos < size; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == list->count ? last_sep
                                                              : ", ");
        pos += (size_t)snprintf(out + pos, size - pos, "%s%s", sep,
                                list->items[i]);
    }
}

static const char *const weekday_names[] = { "monday",   "tuesday",
                                             "wednesday", "thursday",
                                             "friday",   "saturday",
                                             "sunday" };

static const char *days_detail(struct ep_arena *arena,
                               const struct promotion *p)
{
    char days[128];
    size_t pos = 0;

    days[0] = '\0';
    for (int d = 0; d < 7 && pos < sizeof(days); d++) {
        if ((p->valid_days & (1u << d)) == 0)
            continue;
        pos += (size_t)snprintf(days + pos, sizeof(days) - pos, "%s%s",
                                pos == 0 ? "" : ", ", weekday_names[d]);
    }
    return detail_format(arena, "valid on %s only", days);
}

static const char *window_detail(struct ep_arena *arena,
                                 const struct promotion *p)
{
    char from[EP_CLOCK_TEXT_MAX];
    char to[EP_CLOCK_TEXT_MAX];

    ep_clock_format(p->time_start, from);
    ep_clock_format(p->time_end, to);
    if (p->has_time_start && p->has_time_end)
        return detail_format(arena, "valid %.5s-%.5s only", from, to);
    if (p->has_time_start)
        return detail_format(arena, "valid from %.5s", from);
    return detail_format(arena, "valid until %.5s", to);
}

static const char *list_detail(struct ep_arena *arena, const char *fmt,
                               const struct id_list *list)
{
    char joined[160];

    join_list(list, " or ", joined, sizeof(joined));
    return detail_format(arena, fmt, joined);
}

static const char *payment_detail(const struct eval_context *ctx,
                                  const struct promotion *p,
                                  enum engine_reason reason)
{
    char joined[160];

    join_list(&p->targeting.payment_methods.list, " or ", joined,
              sizeof(joined));
    if (reason == REASON_PAYMENT_REQUIRED)
        return detail_format(ctx->arena, "pay with %s to get it", joined);
    return detail_format(ctx->arena, "pay with %s to get it, not %s", joined,
                         ctx->cart->payment_method);
}

static const char *limit_detail(struct ep_arena *arena,
                                const struct promo_record *r,
                                enum engine_reason reason)
{
    switch (reason) {
    case REASON_CUSTOMER_REQUIRED:
        return detail_format(arena,
                             "needs the customer: limited to %lld use(s) "
                             "per customer",
                             (long long)r->max_uses_per_customer);
    case REASON_USAGE_LIMIT_REACHED:
        return detail_format(arena, "all %lld uses are taken",
                             (long long)r->max_uses);
    case REASON_DAILY_LIMIT_REACHED:
        return detail_format(arena, "all %lld uses for today are taken",
                             (long long)r->max_uses_per_day);
    default:
        return detail_format(arena,
                             "the customer has used it %lld time(s), the "
                             "limit",
                             (long long)r->max_uses_per_customer);
    }
}

const char *check_detail(const struct eval_context *ctx,
                         const struct promotion *p, enum engine_reason reason)
{
    struct ep_arena *a = ctx->arena;
    const struct promo_record *r = p->record;

    switch (reason) {
    case REASON_UNSUPPORTED_TYPE:
        return detail_format(a, "type %s is not supported by this edge yet",
                             r->promo_type);
    case REASON_INACTIVE:
        return detail_format(a, "the promotion is not active");
    case REASON_NOT_STARTED:
        return detail_format(a, "starts %s", r->start_date);
    case REASON_EXPIRED:
        return detail_format(a, "ended %s", r->end_date);
    case REASON_NOT_VALID_TODAY:
        return days_detail(a, p);
    case REASON_HOLIDAY_EXCLUDED:
        return detail_format(a, "not valid on holidays");
    case REASON_OUTSIDE_TIME_WINDOW:
        return window_detail(a, p);
    case REASON_WRONG_STORE:
        return detail_format(a, "not valid in this store");
    case REASON_WRONG_BRAND:
        return detail_format(a, "not valid for this brand");
    case REASON_MEMBER_ONLY:
        return detail_format(a, "for members only");
    case REASON_CUSTOMER_TYPE_MISMATCH:
        return detail_format(a, "for %s only",
                             p->targeting.customer_type == CUSTOMER_MEMBER
                                 ? "members"
                                 : "non-members");
    case REASON_TIER_MISMATCH:
        return list_detail(a, "for %s members only",
                           &p->targeting.member_tiers.list);
    case REASON_VOUCHER_REQUIRED:
        return detail_format(a, "needs voucher code %s", r->code);
    case REASON_PAYMENT_REQUIRED:
    case REASON_PAYMENT_METHOD_MISMATCH:
        return payment_detail(ctx, p, reason);
    default:
        return limit_detail(a, r, reason);
    }
}
