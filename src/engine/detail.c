/*
 * detail.c - the sentence a cashier reads when a promotion did not apply.
 *
 * Details are short, in plain English, with amounts in the store's display
 * form ("Rp 17.500") and dates and times as the promotion states them. The
 * details of the checks before evaluation depend on the promotion only, so
 * they are made once per snapshot (promotion_details_build); the at-turn
 * details (minimum purchase and quantity) depend on the cart and are made
 * where those checks run, in kinds.c.
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

const char *detail_join(struct ep_arena *arena, const char *const *parts,
                        size_t count)
{
    size_t len = 0;
    char *text;

    for (size_t i = 0; i < count; i++)
        len += strlen(parts[i]);
    text = ep_arena_alloc(arena, len + 1);
    if (text == NULL)
        return NULL;
    len = 0;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(parts[i]);
        memcpy(text + len, parts[i], n);
        len += n;
    }
    text[len] = '\0';
    return text;
}

/* Joins a list as "a, b or c" into out. */
static void join_list(const struct id_list *list, const char *last_sep,
                      char *out, size_t size)
{
    size_t pos = 0;

    out[0] = '\0';
    for (size_t i = 0; i < list->count && pos < size; i++) {
        const char *sep =
            i == 0 ? "" : (i + 1 == list->count ? last_sep : ", ");
        pos += (size_t)snprintf(out + pos, size - pos, "%s%s", sep,
                                list->items[i]);
    }
}

static const char *const weekday_names[] = { "monday",   "tuesday", "wednesday",
                                             "thursday", "friday",  "saturday",
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

static const char *payment_detail(struct ep_arena *arena,
                                  const struct promotion *p)
{
    return list_detail(arena, "pay with %s to get it",
                       &p->targeting.payment_methods.list);
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

/* The detail of one check before evaluation, or NULL if p cannot fail
 * it in a way worth a sentence of its own. */
static const char *detail_of(struct ep_arena *a, const struct promotion *p,
                             enum engine_reason reason)
{
    const struct promo_record *r = p->record;

    switch (reason) {
    case REASON_UNSUPPORTED_TYPE:
        return detail_format(a, "type %s is not supported by this edge yet",
                             r->promo_type);
    case REASON_INACTIVE:
        return "the promotion is not active";
    case REASON_NOT_STARTED:
        return detail_format(a, "starts %s", r->start_date);
    case REASON_EXPIRED:
        return detail_format(a, "ended %s", r->end_date);
    case REASON_NOT_VALID_TODAY:
        return p->valid_days != 0 ? days_detail(a, p) : NULL;
    case REASON_HOLIDAY_EXCLUDED:
        return "not valid on holidays";
    case REASON_OUTSIDE_TIME_WINDOW:
        return p->has_time_start || p->has_time_end ? window_detail(a, p)
                                                    : NULL;
    case REASON_WRONG_STORE:
        return "not valid in this store";
    case REASON_WRONG_BRAND:
        return "not valid for this brand";
    case REASON_MEMBER_ONLY:
        return "for members only";
    case REASON_CUSTOMER_TYPE_MISMATCH:
        return p->targeting.customer_type == CUSTOMER_MEMBER
                   ? "for members only"
                   : "for non-members only";
    case REASON_TIER_MISMATCH:
        return p->targeting.member_tiers.all
                   ? NULL
                   : list_detail(a, "for %s members only",
                                 &p->targeting.member_tiers.list);
    case REASON_VOUCHER_REQUIRED:
        return detail_format(a, "needs voucher code %s", r->code);
    case REASON_PAYMENT_REQUIRED:
    case REASON_PAYMENT_METHOD_MISMATCH:
        return p->targeting.payment_methods.all ? NULL : payment_detail(a, p);
    case REASON_CUSTOMER_REQUIRED:
    case REASON_USAGE_LIMIT_REACHED:
    case REASON_DAILY_LIMIT_REACHED:
    case REASON_CUSTOMER_LIMIT_REACHED:
        return limit_detail(a, r, reason);
    default:
        return NULL;
    }
}

enum ep_status promotion_details_build(struct ep_arena *arena,
                                       struct promotion *p)
{
    for (int reason = REASON_UNSUPPORTED_TYPE;
         reason <= REASON_CUSTOMER_LIMIT_REACHED; reason++) {
        p->details[reason] = detail_of(arena, p, (enum engine_reason)reason);
        if (p->details[reason] == NULL &&
            (reason == REASON_NOT_STARTED || reason == REASON_EXPIRED))
            return EP_ERR_NOMEM;
    }
    return EP_OK;
}
