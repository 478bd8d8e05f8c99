/*
 * promotions.c - the read-only routes over the snapshot and the usage
 * counts: GET /v1/promotions/active, GET /v1/promotions, GET
 * /v1/promotions/{code} and GET /v1/usage/{promotion_id}.
 *
 * Promotions are written as the CMS sends them (promo_record_write_json),
 * so a terminal reads the same shape from the CMS and from the edge.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "common/localtime.h"

/* A query value, with "" read as absent. */
static const char *query(const struct api_call *call, const char *key)
{
    const char *value = api_call_query(call, key);

    return value != NULL && value[0] != '\0' ? value : NULL;
}

/*
 * Reads ?at= as RFC 3339. A '+' sent unencoded arrives as a blank (query
 * strings decode '+' to ' '), so a blank is read back as '+'.
 */
static enum ep_status query_at(struct api_call *call, int64_t *at)
{
    const char *text = query(call, "at");
    char copy[64];

    *at = ep_now();
    if (text == NULL)
        return EP_OK;
    if (strlen(text) >= sizeof(copy))
        return api_call_bad_query(call, "at", "an RFC 3339 time");
    memcpy(copy, text, strlen(text) + 1);
    for (char *p = copy; *p != '\0'; p++) {
        if (*p == ' ')
            *p = '+';
    }
    if (ep_time_parse_rfc3339(copy, at) != EP_OK)
        return api_call_bad_query(call, "at",
                                  "an RFC 3339 time with an offset, e.g. "
                                  "2026-01-30T12:00:00+07:00");
    return EP_OK;
}

/* Writes the promotions of set for which keep() says yes. */
struct promo_filter {
    int64_t at;           /* active: the instant */
    const char *brand_id; /* active: the brand, or NULL */
    bool active_only;     /* judge promo_set_is_active_at */
    const char *type;     /* list: promo_type, or NULL */
    int auto_apply;       /* list: -1 any, 0 no, 1 yes */
    const char *code;     /* list: the code (case ignored), or NULL */
};

static bool filter_keeps(const struct promo_set *set, size_t i,
                         const struct promo_filter *f)
{
    const struct promo_record *r = promo_set_record(set, i);

    if (f->active_only)
        return promo_set_is_active_at(set, i, f->at, f->brand_id);
    if (f->type != NULL && strcmp(r->promo_type, f->type) != 0)
        return false;
    if (f->code != NULL && strcasecmp(r->code, f->code) != 0)
        return false;
    return f->auto_apply < 0 || (int)r->is_auto_apply == f->auto_apply;
}

static void write_promotions(const struct promo_set *set,
                             const struct promo_filter *f, struct ep_buf *out)
{
    size_t count = 0;

    ep_buf_puts(out, "\"promotions\":[");
    for (size_t i = 0; i < promo_set_count(set); i++) {
        if (!filter_keeps(set, i, f))
            continue;
        if (count++ > 0)
            ep_buf_putc(out, ',');
        promo_record_write_json(promo_set_record(set, i), out);
    }
    ep_buf_printf(out, "],\"count\":%zu}\n", count);
}

enum ep_status api_handle_promotions_active(struct api_call *call)
{
    struct promo_filter filter = { .active_only = true, .auto_apply = -1 };
    struct promo_set *set = NULL;
    char at[EP_TIMESTAMP_TEXT_MAX];
    enum ep_status status;

    filter.brand_id = query(call, "brand_id");
    status = query_at(call, &filter.at);
    if (status == EP_OK)
        status = api_call_snapshot(call, &set);
    if (status != EP_OK)
        return status;
    ep_timestamp_format_rfc3339(filter.at, at);
    ep_buf_puts(call->out, "{\"at\":");
    ep_buf_json_string(call->out, at);
    api_json_member_string(call->out, "brand_id", filter.brand_id);
    ep_buf_putc(call->out, ',');
    write_promotions(set, &filter, call->out);
    promo_set_release(set);
    return EP_OK;
}

/* Reads ?auto_apply= as true/false/1/0; -1 when absent. */
static enum ep_status query_auto_apply(struct api_call *call, int *out)
{
    const char *text = query(call, "auto_apply");

    *out = -1;
    if (text == NULL)
        return EP_OK;
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *out = 1;
    else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *out = 0;
    else
        return api_call_bad_query(call, "auto_apply", "true or false");
    return EP_OK;
}

enum ep_status api_handle_promotions_list(struct api_call *call)
{
    struct promo_filter filter = { .auto_apply = -1 };
    struct promo_set *set = NULL;
    enum ep_status status;

    filter.type = query(call, "type");
    filter.code = query(call, "code");
    status = query_auto_apply(call, &filter.auto_apply);
    if (status == EP_OK)
        status = api_call_snapshot(call, &set);
    if (status != EP_OK)
        return status;
    ep_buf_putc(call->out, '{');
    write_promotions(set, &filter, call->out);
    promo_set_release(set);
    return EP_OK;
}

enum ep_status api_handle_promotion_get(struct api_call *call)
{
    const char *code = api_call_param(call, 0);
    struct promo_set *set = NULL;
    size_t index;
    enum ep_status status = api_call_snapshot(call, &set);

    if (status != EP_OK)
        return status;
    index = promo_set_find_code(set, code);
    if (index == SIZE_MAX)
        status = ep_error_set(&call->err, EP_ERR_NOT_FOUND, "code",
                              "no promotion has the code '%.64s'", code);
    else
        promo_record_write_json(promo_set_record(set, index), call->out);
    if (status == EP_OK)
        ep_buf_putc(call->out, '\n');
    promo_set_release(set);
    return status;
}

/* ---- usage ------------------------------------------------------------ */

static void write_limit(struct ep_buf *out, const char *key, bool has,
                        int64_t limit, int64_t used, bool first)
{
    ep_buf_printf(out, "%s\"%s\":", first ? "" : ",", key);
    if (!has) {
        ep_buf_puts(out, "null");
        return;
    }
    ep_buf_printf(out, "{\"limit\":%lld,\"used\":%lld,\"remaining\":%lld}",
                  (long long)limit, (long long)used,
                  (long long)(limit > used ? limit - used : 0));
}

static void write_limits(const struct promo_record *r,
                         const struct store_usage_summary *s, bool has_customer,
                         struct ep_buf *out)
{
    ep_buf_puts(out, ",\"limits\":");
    if (r == NULL) {
        ep_buf_puts(out, "null");
        return;
    }
    ep_buf_putc(out, '{');
    write_limit(out, "total", r->has_max_uses, r->max_uses, s->current_uses,
                true);
    write_limit(out, "per_day", r->has_max_uses_per_day, r->max_uses_per_day,
                s->today_uses, false);
    write_limit(out, "per_customer",
                r->has_max_uses_per_customer && has_customer,
                r->max_uses_per_customer, s->customer_uses, false);
    ep_buf_putc(out, '}');
}

static void write_usage(const struct api_call *call, const char *date,
                        const struct promo_record *record,
                        const struct store_usage_summary *s, struct ep_buf *out)
{
    const char *customer_id = query(call, "customer_id");

    ep_buf_puts(out, "{\"promotion_id\":");
    ep_buf_json_string(out, api_call_param(call, 0));
    api_json_member_string(out, "code", record ? record->code : NULL);
    api_json_member_string(out, "date", date);
    api_json_member_string(out, "customer_id", customer_id);
    ep_buf_printf(out,
                  ",\"current_uses\":%lld,\"local_uses\":%lld,"
                  "\"voided_uses\":%lld,\"today_uses\":%lld,"
                  "\"customer_uses\":",
                  (long long)s->current_uses, (long long)s->local_uses,
                  (long long)s->voided_uses, (long long)s->today_uses);
    if (customer_id != NULL)
        ep_buf_json_int(out, s->customer_uses);
    else
        ep_buf_puts(out, "null");
    ep_buf_puts(out, ",\"discount_total\":");
    ep_buf_json_money(out, s->discount_total);
    write_limits(record, s, customer_id != NULL, out);
    ep_buf_puts(out, "}\n");
}

/* The snapshot's record of the promotion, or NULL; set may be NULL. */
static const struct promo_record *find_record(const struct promo_set *set,
                                              const char *id)
{
    size_t index = set ? promo_set_find_id(set, id) : SIZE_MAX;

    return index == SIZE_MAX ? NULL : promo_set_record(set, index);
}

enum ep_status api_handle_usage_get(struct api_call *call)
{
    const char *id = api_call_param(call, 0);
    struct store_usage_summary summary;
    struct ep_local_time now;
    char date[EP_DATE_TEXT_MAX];
    struct store *store = NULL;
    struct promo_set *set = engine_slot_acquire(call->server->slot);
    enum ep_status status = api_call_store(call, &store);

    ep_local_time_of(ep_now(), &now);
    ep_date_format(now.date, date);
    memset(&summary, 0, sizeof(summary));
    if (status == EP_OK)
        status = store_usage_summary_get(
            store, id, date, query(call, "customer_id"), &summary, &call->err);
    if (status == EP_OK && !summary.promotion_known &&
        summary.local_uses + summary.voided_uses == 0)
        status = ep_error_set(&call->err, EP_ERR_NOT_FOUND, "promotion_id",
                              "no promotion and no use has the id '%.64s'", id);
    if (status == EP_OK)
        write_usage(call, date, find_record(set, id), &summary, call->out);
    promo_set_release(set);
    return status;
}
