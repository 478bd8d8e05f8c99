/*
 * result_json.c - the /v1/cart/evaluate response (SPEC.md section 5),
 * written straight from an eval_result. Amounts are exact: hundredths are
 * written as currency units ("12.5", "25000"), never through a double.
 */
#include "engine/internal.h"

static const char *const reason_names[] = {
#define ENGINE_REASON_NAME(name, text) text,
    ENGINE_REASON_TABLE(ENGINE_REASON_NAME)
#undef ENGINE_REASON_NAME
};

const char *engine_reason_name(enum engine_reason reason)
{
    if ((unsigned)reason >= REASON_COUNT)
        return "unknown";
    return reason_names[reason];
}

static void write_key(struct ep_buf *out, const char *key)
{
    ep_buf_json_string(out, key);
    ep_buf_putc(out, ':');
}

static void write_money_member(struct ep_buf *out, const char *key,
                               int64_t hundredths)
{
    write_key(out, key);
    ep_buf_json_money(out, hundredths);
}

/* Copies a finished buffer into the arena; NULL on failure. */
static const char *buf_keep(struct ep_arena *arena, struct ep_buf *b)
{
    const char *kept = ep_buf_status(b) == EP_OK
                           ? ep_arena_strndup(arena, b->data, b->len)
                           : NULL;

    ep_buf_deinit(b);
    return kept;
}

/* Renders text as a JSON string into the arena; NULL stays NULL. */
static const char *json_string_keep(struct ep_arena *arena, const char *text)
{
    struct ep_buf b;

    if (text == NULL)
        return NULL;
    ep_buf_init(&b, 64 * 1024);
    ep_buf_json_string(&b, text);
    return buf_keep(arena, &b);
}

enum ep_status promotion_json_build(struct ep_arena *arena, struct promotion *p)
{
    for (int reason = 0; reason < REASON_COUNT; reason++) {
        p->details_json[reason] = json_string_keep(arena, p->details[reason]);
        if (p->details[reason] != NULL && p->details_json[reason] == NULL)
            return EP_ERR_NOMEM;
    }
    const struct promo_record *r = p->record;
    struct ep_buf b;

    ep_buf_init(&b, 64 * 1024);
    ep_buf_puts(&b, "{\"promotion_id\":");
    ep_buf_json_string(&b, r->id);
    ep_buf_puts(&b, ",\"code\":");
    ep_buf_json_string(&b, r->code);
    ep_buf_puts(&b, ",\"reason\":");
    p->json_not_applied = buf_keep(arena, &b);
    ep_buf_init(&b, 64 * 1024);
    ep_buf_puts(&b, "{\"promotion_id\":");
    ep_buf_json_string(&b, r->id);
    ep_buf_puts(&b, ",\"code\":");
    ep_buf_json_string(&b, r->code);
    ep_buf_puts(&b, ",\"name\":");
    ep_buf_json_string(&b, r->name);
    ep_buf_puts(&b, ",\"promo_type\":");
    ep_buf_json_string(&b, r->promo_type);
    ep_buf_puts(&b, ",\"execution_stage\":");
    ep_buf_json_string(&b, r->execution_stage);
    ep_buf_puts(&b, ",\"amount\":");
    p->json_applied = buf_keep(arena, &b);
    ep_buf_init(&b, 1024);
    ep_buf_puts(&b, "{\"code\":");
    ep_buf_json_string(&b, r->code);
    ep_buf_puts(&b, ",\"amount\":");
    p->json_line = buf_keep(arena, &b);
    if (!p->json_not_applied || !p->json_applied || !p->json_line)
        return EP_ERR_NOMEM;
    return EP_OK;
}

static void write_line(const struct cart_line *in, const struct eval_line *l,
                       struct ep_buf *out)
{
    ep_buf_puts(out, "{\"line_id\":");
    ep_buf_json_string(out, in->line_id);
    ep_buf_puts(out, ",\"product_id\":");
    ep_buf_json_string(out, in->product_id);
    ep_buf_puts(out, ",\"quantity\":");
    ep_buf_json_int(out, in->quantity);
    ep_buf_putc(out, ',');
    write_money_member(out, "unit_price", in->unit_price);
    ep_buf_putc(out, ',');
    write_money_member(out, "subtotal", l->subtotal);
    ep_buf_putc(out, ',');
    write_money_member(out, "discount", l->discount);
    ep_buf_putc(out, ',');
    write_money_member(out, "total", l->total);
    ep_buf_puts(out, ",\"promotions\":[");
    for (size_t k = 0; k < l->promotion_count; k++) {
        if (k > 0)
            ep_buf_putc(out, ',');
        ep_buf_puts(out, l->promotions[k].json_head);
        ep_buf_json_money(out, l->promotions[k].amount);
        ep_buf_putc(out, '}');
    }
    ep_buf_puts(out, "]}");
}

static void write_applied(const struct eval_applied *a, struct ep_buf *out)
{
    ep_buf_puts(out, a->json_head);
    ep_buf_json_money(out, a->amount);
    ep_buf_putc(out, '}');
}

static void write_not_applied(const struct eval_not_applied *n,
                              struct ep_buf *out)
{
    if (n->json_head != NULL) {
        ep_buf_puts(out, n->json_head);
    } else {
        ep_buf_puts(out, "{\"promotion_id\":null,\"code\":");
        ep_buf_json_string(out, n->code);
        ep_buf_puts(out, ",\"reason\":");
    }
    ep_buf_putc(out, '"');
    ep_buf_puts(out, engine_reason_name(n->reason));
    ep_buf_putc(out, '"');
    ep_buf_puts(out, ",\"detail\":");
    if (n->detail_json != NULL)
        ep_buf_puts(out, n->detail_json);
    else
        ep_buf_json_string(out, n->detail);
    ep_buf_putc(out, '}');
}

void eval_result_write_json(const struct eval_result *r,
                            const struct cart *cart, struct ep_buf *out)
{
    char at[EP_TIMESTAMP_TEXT_MAX];

    ep_timestamp_format_rfc3339(r->at, at);
    ep_buf_puts(out, "{\"transaction_id\":");
    ep_buf_json_string(out, cart->transaction_id);
    ep_buf_puts(out, ",\"at\":");
    ep_buf_json_string(out, at);
    ep_buf_putc(out, ',');
    write_money_member(out, "subtotal", r->subtotal);
    ep_buf_putc(out, ',');
    write_money_member(out, "discount_total", r->discount_total);
    ep_buf_putc(out, ',');
    write_money_member(out, "total", r->total);
    ep_buf_puts(out, ",\"lines\":[");
    for (size_t i = 0; i < r->line_count; i++) {
        if (i > 0)
            ep_buf_putc(out, ',');
        write_line(&cart->lines[i], &r->lines[i], out);
    }
    ep_buf_puts(out, "],\"applied\":[");
    for (size_t k = 0; k < r->applied_count; k++) {
        if (k > 0)
            ep_buf_putc(out, ',');
        write_applied(&r->applied[k], out);
    }
    ep_buf_puts(out, "],\"not_applied\":[");
    for (size_t k = 0; k < r->not_applied_count; k++) {
        if (k > 0)
            ep_buf_putc(out, ',');
        write_not_applied(&r->not_applied[k], out);
    }
    ep_buf_puts(out, "]}");
}
