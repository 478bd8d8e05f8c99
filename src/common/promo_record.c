/* promo_record.c - the JSON form of a promotion record. */
#include "common/promo_record.h"

static void key(struct ep_buf *out, const char *name, bool first)
{
    if (!first)
        ep_buf_putc(out, ',');
    ep_buf_json_string(out, name);
    ep_buf_putc(out, ':');
}

static void text_field(struct ep_buf *out, const char *name, const char *value)
{
    key(out, name, false);
    ep_buf_json_string(out, value);
}

static void raw_field(struct ep_buf *out, const char *name, const char *json,
                      const char *if_null)
{
    key(out, name, false);
    ep_buf_puts(out, json != NULL ? json : if_null);
}

static void bool_field(struct ep_buf *out, const char *name, bool value)
{
    key(out, name, false);
    ep_buf_json_bool(out, value);
}

static void optional_int_field(struct ep_buf *out, const char *name, bool has,
                               int64_t value)
{
    key(out, name, false);
    if (has)
        ep_buf_json_int(out, value);
    else
        ep_buf_puts(out, "null");
}

void promo_record_write_json(const struct promo_record *p, struct ep_buf *out)
{
    ep_buf_putc(out, '{');
    key(out, "id", true);
    ep_buf_json_string(out, p->id);
    text_field(out, "code", p->code);
    text_field(out, "name", p->name);
    text_field(out, "description", p->description);
    text_field(out, "terms_conditions", p->terms_conditions);
    text_field(out, "company_id", p->company_id);
    text_field(out, "brand_id", p->brand_id);
    text_field(out, "store_id", p->store_id);
    text_field(out, "promo_type", p->promo_type);
    text_field(out, "apply_to", p->apply_to);
    text_field(out, "execution_stage", p->execution_stage);
    key(out, "execution_priority", false);
    ep_buf_json_int(out, p->execution_priority);
    bool_field(out, "is_active", p->is_active);
    bool_field(out, "is_auto_apply", p->is_auto_apply);
    bool_field(out, "require_voucher", p->require_voucher);
    bool_field(out, "member_only", p->member_only);
    bool_field(out, "is_stackable", p->is_stackable);
    text_field(out, "start_date", p->start_date);
    text_field(out, "end_date", p->end_date);
    text_field(out, "time_start", p->time_start);
    text_field(out, "time_end", p->time_end);
    raw_field(out, "valid_days", p->valid_days_json, "null");
    bool_field(out, "exclude_holidays", p->exclude_holidays);
    raw_field(out, "rules", p->rules_json, "null");
    raw_field(out, "scope", p->scope_json, "null");
    raw_field(out, "targeting", p->targeting_json, "null");
    optional_int_field(out, "max_uses", p->has_max_uses, p->max_uses);
    optional_int_field(out, "max_uses_per_customer",
                       p->has_max_uses_per_customer, p->max_uses_per_customer);
    optional_int_field(out, "max_uses_per_day", p->has_max_uses_per_day,
                       p->max_uses_per_day);
    key(out, "current_uses", false);
    ep_buf_json_int(out, p->current_uses);
    text_field(out, "compiled_at", p->compiled_at);
    text_field(out, "synced_at", p->synced_at);
    text_field(out, "last_used_at", p->last_used_at);
    ep_buf_putc(out, '}');
}
