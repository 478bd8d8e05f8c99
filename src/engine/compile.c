/*
 * compile.c - turns a promotion record (columns + rules/scope/targeting
 * JSON) into a struct promotion, once, and says exactly what is wrong with
 * one that does not compile.
 *
 * Every error names the field as a path ("rules.tiers[1].min_purchase") and
 * what was expected; the message starts with "promotion <id>: ". JSON is
 * parsed here and nowhere in evaluation. An unknown promo_type compiles to
 * an unsupported promotion: a newer CMS must not break an older edge.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/money.h"
#include "engine/internal.h"

#define FIELD_MAX   EP_ERROR_FIELD_MAX
#define COUNT_MAX   1000000
#define ID_TEXT_MAX 36

struct kind_name {
    const char *promo_type; /* the column */
    const char *rules_type; /* rules.type */
    enum promo_kind kind;
};

static const struct kind_name kind_names[] = {
    { "percent_discount", "percent", KIND_PERCENT },
    { "fixed_discount", "fixed", KIND_FIXED },
    { "fixed_price", "fixed_price", KIND_FIXED_PRICE },
    { "buy_x_get_y", "buy_x_get_y", KIND_BUY_X_GET_Y },
    { "bundle", "bundle", KIND_BUNDLE },
    { "tiered_discount", "tiered", KIND_TIERED },
};

static const char *const day_names[] = { "monday",   "tuesday", "wednesday",
                                         "thursday", "friday",  "saturday",
                                         "sunday" };

/* ---- small JSON readers: each names its field on error ---------------- */

static enum ep_status invalid(struct ep_error *err, const char *field,
                              const char *expected)
{
    return ep_error_set(err, EP_ERR_INVALID, field, "%s: expected %s", field,
                        expected);
}

/*
 * The readers below name a field as prefix + "." + key. The path is only
 * written when there is an error to report: compiling a store's
 * promotions reads tens of thousands of fields that are fine.
 */
static const char *path_of(char out[FIELD_MAX], const char *prefix,
                           const char *key)
{
    snprintf(out, FIELD_MAX, "%s.%s", prefix, key);
    return out;
}

static enum ep_status invalid_at(struct ep_error *err, const char *prefix,
                                 const char *key, const char *expected)
{
    char field[FIELD_MAX];

    return invalid(err, path_of(field, prefix, key), expected);
}

/* Reads an optional money value; null and absent leave *has false. */
static enum ep_status read_money(const json_t *obj, const char *key,
                                 const char *prefix, bool *has, int64_t *out,
                                 struct ep_error *err)
{
    char field[FIELD_MAX];
    const json_t *v = json_object_get(obj, key);

    *has = false;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (ep_money_from_json(v, key, out, NULL) != EP_OK)
        return ep_money_from_json(v, path_of(field, prefix, key), out, err);
    *has = true;
    return EP_OK;
}

/* Reads a money value that must be present. */
static enum ep_status need_money(const json_t *obj, const char *key,
                                 const char *prefix, int64_t *out,
                                 struct ep_error *err)
{
    bool has = false;

    if (read_money(obj, key, prefix, &has, out, err) != EP_OK)
        return EP_ERR_INVALID;
    return has ? EP_OK : invalid_at(err, prefix, key, "an amount (a number)");
}

/* Reads a percent that must be present: 0 < p <= 100, 2 decimals. */
static enum ep_status need_percent(const json_t *obj, const char *key,
                                   const char *prefix, int32_t *out,
                                   struct ep_error *err)
{
    char field[FIELD_MAX];
    const json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return invalid_at(err, prefix, key,
                          "a percent (more than 0, at most 100)");
    if (ep_percent_from_json(v, key, out, NULL) == EP_OK)
        return EP_OK;
    return ep_percent_from_json(v, path_of(field, prefix, key), out, err);
}

/* Reads an optional whole count in [min, COUNT_MAX]. */
static enum ep_status read_count(const json_t *obj, const char *key,
                                 const char *prefix, int64_t min, bool *has,
                                 int64_t *out, struct ep_error *err)
{
    char expected[64];
    const json_t *v = json_object_get(obj, key);

    *has = false;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > COUNT_MAX) {
        snprintf(expected, sizeof(expected), "a whole number from %lld to %d",
                 (long long)min, COUNT_MAX);
        return invalid_at(err, prefix, key, expected);
    }
    *out = (int64_t)json_integer_value(v);
    *has = true;
    return EP_OK;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reports element i of the id array prefix.key as not an id. */
static enum ep_status invalid_id(struct ep_error *err, const char *prefix,
                                 const char *key, size_t i)
{
    char field[FIELD_MAX];
    char at[FIELD_MAX];

    snprintf(at, sizeof(at), "%s[%zu]", path_of(field, prefix, key), i);
    return invalid(err, at, "a non-empty string");
}

/* Reads an array of id strings (prefix.key) into a sorted, deduplicated
 * list. */
static enum ep_status read_id_array(const json_t *v, const char *prefix,
                                    const char *key, struct ep_arena *arena,
                                    struct id_list *out, struct ep_error *err)
{
    size_t n = json_array_size(v);
    size_t kept = 0;
    const char **items;

    out->items = NULL;
    out->count = 0;
    if (!json_is_array(v))
        return invalid_at(err, prefix, key, "an array of ids");
    if (n == 0)
        return EP_OK;
    items = ep_arena_calloc(arena, n, sizeof(*items));
    if (items == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, key, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(v, i);
        if (!json_is_string(item) || json_string_length(item) == 0)
            return invalid_id(err, prefix, key, i);
        items[i] = ep_arena_strdup(arena, json_string_value(item));
        if (items[i] == NULL)
            return ep_error_set(err, EP_ERR_NOMEM, key, "out of memory");
    }
    qsort(items, n, sizeof(*items), compare_strings);
    for (size_t i = 0; i < n; i++) {
        if (kept == 0 || strcmp(items[kept - 1], items[i]) != 0)
            items[kept++] = items[i];
    }
    out->items = items;
    out->count = kept;
    return EP_OK;
}

/* Reads an optional id list member of obj; absent or null: empty. */
static enum ep_status read_id_member(const json_t *obj, const char *key,
                                     const char *prefix, struct ep_arena *arena,
                                     struct id_list *out, struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);

    out->items = NULL;
    out->count = 0;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    return read_id_array(v, prefix, key, arena, out, err);
}

/* Reads "all" or a list of ids. Absent or null: all. */
static enum ep_status read_choice(const json_t *obj, const char *key,
                                  const char *prefix, struct ep_arena *arena,
                                  struct id_choice *out, struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);

    out->all = true;
    out->list.items = NULL;
    out->list.count = 0;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (json_is_string(v) && strcmp(json_string_value(v), "all") == 0)
        return EP_OK;
    if (!json_is_array(v))
        return invalid_at(err, prefix, key, "\"all\" or an array of ids");
    out->all = false;
    return read_id_array(v, prefix, key, arena, &out->list, err);
}

/* Parses JSON text that must hold an object (or be NULL/"null"). */
static enum ep_status parse_object(const char *text, const char *field,
                                   bool required, json_t **out,
                                   struct ep_error *err)
{
    json_error_t jerr;
    json_t *root;

    *out = NULL;
    if (text == NULL)
        return required ? invalid(err, field, "a JSON object") : EP_OK;
    /* No ep_mem_failure_reset here: promotion_compile watches the flag
     * over the whole compile, and jansson may hide a failure (a string
     * one byte short) in a parse that succeeds. */
    root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && ep_mem_failure_seen())
        return ep_error_set(err, EP_ERR_NOMEM, field, "%s: out of memory",
                            field);
    if (root == NULL)
        return ep_error_set(err, EP_ERR_INVALID, field,
                            "%s: not valid JSON: %s (line %d, column %d)",
                            field, jerr.text, jerr.line, jerr.column);
    if (json_is_null(root) && !required) {
        json_decref(root);
        return EP_OK;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return invalid(err, field, "a JSON object");
    }
    *out = root;
    return EP_OK;
}

/* ---- columns ---------------------------------------------------------- */

bool id_list_contains(const struct id_list *list, const char *id)
{
    if (id == NULL || list->count == 0)
        return false;
    return bsearch(&id, list->items, list->count, sizeof(*list->items),
                   compare_strings) != NULL;
}

bool scope_excludes(const struct scope *scope, const struct cart_line *line)
{
    if (scope->exclude_products.count > 0 &&
        id_list_contains(&scope->exclude_products, line->product_id))
        return true;
    return scope->exclude_categories.count > 0 &&
           id_list_contains(&scope->exclude_categories, line->category_id);
}

bool code_key_format(const char *code, char *out, size_t size)
{
    const char *end;
    size_t n;

    if (code == NULL)
        return false;
    while (isspace((unsigned char)*code))
        code++;
    end = code + strlen(code);
    while (end > code && isspace((unsigned char)end[-1]))
        end--;
    n = (size_t)(end - code);
    if (n >= size)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)code[i]);
    out[n] = '\0';
    return true;
}

char *code_key_make(struct ep_arena *arena, const char *code)
{
    char key[CODE_KEY_MAX];

    if (!code_key_format(code, key, sizeof(key)))
        return NULL;
    return ep_arena_strdup(arena, key);
}

static enum ep_status need_text(const char *value, const char *field,
                                size_t max, struct ep_error *err)
{
    char expected[64];

    if (value != NULL && value[0] != '\0' && strlen(value) <= max)
        return EP_OK;
    snprintf(expected, sizeof(expected),
             "a non-empty text of at most %zu characters", max);
    return invalid(err, field, expected);
}

static enum ep_status compile_identity(const struct promo_record *r,
                                       struct ep_error *err)
{
    if (need_text(r->id, "id", ID_TEXT_MAX, err) != EP_OK ||
        need_text(r->code, "code", 50, err) != EP_OK ||
        need_text(r->name, "name", 255, err) != EP_OK ||
        need_text(r->company_id, "company_id", ID_TEXT_MAX, err) != EP_OK ||
        need_text(r->brand_id, "brand_id", ID_TEXT_MAX, err) != EP_OK ||
        need_text(r->store_id, "store_id", ID_TEXT_MAX, err) != EP_OK ||
        need_text(r->compiled_at, "compiled_at", 64, err) != EP_OK)
        return EP_ERR_INVALID;
    if (r->promo_type == NULL || r->promo_type[0] == '\0')
        return invalid(err, "promo_type", "a promotion type");
    for (const char *c = r->code; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20)
            return invalid(err, "code", "printable characters");
    }
    return EP_OK;
}

static enum ep_status compile_stage(const struct promo_record *r,
                                    struct promotion *p, struct ep_error *err)
{
    static const char *const stages[] = { "item_level", "cart_level",
                                          "payment_level" };

    for (int i = 0; i < 3; i++) {
        if (r->execution_stage != NULL &&
            strcmp(r->execution_stage, stages[i]) == 0) {
            p->stage = (enum promo_stage)i;
            return EP_OK;
        }
    }
    if (p->unsupported) {
        p->stage = STAGE_PAYMENT;
        return EP_OK;
    }
    return invalid(err, "execution_stage",
                   "item_level, cart_level or payment_level");
}

static enum ep_status compile_dates(const struct promo_record *r,
                                    struct promotion *p, struct ep_error *err)
{
    if (ep_date_parse(r->start_date, &p->start_date) != EP_OK)
        return invalid(err, "start_date", "a date YYYY-MM-DD");
    if (ep_date_parse(r->end_date, &p->end_date) != EP_OK)
        return invalid(err, "end_date", "a date YYYY-MM-DD");
    if (p->end_date < p->start_date)
        return invalid(err, "end_date", "a date on or after start_date");
    p->has_time_start = r->time_start != NULL && r->time_start[0] != '\0';
    p->has_time_end = r->time_end != NULL && r->time_end[0] != '\0';
    if (p->has_time_start &&
        ep_clock_parse(r->time_start, &p->time_start) != EP_OK)
        return invalid(err, "time_start", "a time HH:MM:SS or null");
    if (p->has_time_end && ep_clock_parse(r->time_end, &p->time_end) != EP_OK)
        return invalid(err, "time_end", "a time HH:MM:SS or null");
    return EP_OK;
}

static enum ep_status compile_valid_days(const struct promo_record *r,
                                         struct promotion *p,
                                         struct ep_error *err)
{
    json_error_t jerr;
    json_t *days;
    enum ep_status status = EP_OK;

    p->valid_days = 0;
    if (r->valid_days_json == NULL)
        return EP_OK;
    days = json_loads(r->valid_days_json, JSON_DECODE_ANY, &jerr);
    if (days == NULL && ep_mem_failure_seen())
        return ep_error_set(err, EP_ERR_NOMEM, "valid_days", "out of memory");
    if (days == NULL || !(json_is_array(days) || json_is_null(days))) {
        json_decref(days);
        return invalid(err, "valid_days", "an array of weekday names or null");
    }
    for (size_t i = 0; status == EP_OK && i < json_array_size(days); i++) {
        const json_t *day = json_array_get(days, i);
        unsigned bit = 0;
        for (unsigned d = 0; d < 7; d++) {
            if (json_is_string(day) &&
                strcmp(json_string_value(day), day_names[d]) == 0)
                bit = 1u << d;
        }
        if (bit == 0) {
            char field[FIELD_MAX];
            snprintf(field, sizeof(field), "valid_days[%zu]", i);
            status = invalid(err, field,
                             "a lowercase English weekday name (monday)");
        }
        p->valid_days |= bit;
    }
    json_decref(days);
    return status;
}

static enum ep_status compile_limits(const struct promo_record *r,
                                     struct ep_error *err)
{
    if (r->has_max_uses && r->max_uses < 0)
        return invalid(err, "max_uses", "a whole number of at least 0");
    if (r->has_max_uses_per_customer && r->max_uses_per_customer < 0)
        return invalid(err, "max_uses_per_customer",
                       "a whole number of at least 0");
    if (r->has_max_uses_per_day && r->max_uses_per_day < 0)
        return invalid(err, "max_uses_per_day", "a whole number of at least 0");
    if (r->current_uses < 0)
        return invalid(err, "current_uses", "a whole number of at least 0");
    return EP_OK;
}

/* ---- scope and targeting ---------------------------------------------- */

static enum ep_status read_apply_to(const char *text, const char *field,
                                    enum apply_to *out, struct ep_error *err)
{
    static const char *const names[] = { "all", "category", "product" };

    for (int i = 0; i < 3; i++) {
        if (text != NULL && strcmp(text, names[i]) == 0) {
            *out = (enum apply_to)i;
            return EP_OK;
        }
    }
    return invalid(err, field, "all, category or product");
}

/* Reads a scope object (may be NULL: everything, per apply_to column). */
static enum ep_status
compile_scope_object(const json_t *obj, const char *prefix,
                     const char *apply_to_default, struct ep_arena *arena,
                     struct scope *s, struct ep_error *err)
{
    char field[FIELD_MAX];
    const json_t *apply = json_object_get(obj, "apply_to");
    const char *apply_text = apply_to_default;

    snprintf(field, sizeof(field), "%s.apply_to", prefix);
    if (apply != NULL && !json_is_null(apply)) {
        if (!json_is_string(apply))
            return invalid(err, field, "all, category or product");
        apply_text = json_string_value(apply);
    }
    if (apply_text == NULL)
        apply_text = "all";
    if (read_apply_to(apply_text, field, &s->apply_to, err) != EP_OK ||
        read_id_member(obj, "categories", prefix, arena, &s->categories, err) !=
            EP_OK ||
        read_id_member(obj, "products", prefix, arena, &s->products, err) !=
            EP_OK ||
        read_id_member(obj, "exclude_categories", prefix, arena,
                       &s->exclude_categories, err) != EP_OK ||
        read_id_member(obj, "exclude_products", prefix, arena,
                       &s->exclude_products, err) != EP_OK)
        return EP_ERR_INVALID;
    return EP_OK;
}

static enum ep_status compile_scope(const struct promo_record *r,
                                    struct ep_arena *arena, struct promotion *p,
                                    struct ep_error *err)
{
    json_t *obj = NULL;
    enum ep_status status =
        parse_object(r->scope_json, "scope", false, &obj, err);

    if (status != EP_OK)
        return status;
    if (r->apply_to != NULL &&
        read_apply_to(r->apply_to, "apply_to", &p->scope.apply_to, err) !=
            EP_OK) {
        json_decref(obj);
        return EP_ERR_INVALID;
    }
    status =
        compile_scope_object(obj, "scope", r->apply_to, arena, &p->scope, err);
    json_decref(obj);
    return status;
}

static enum ep_status read_customer_type(const json_t *obj,
                                         enum customer_type *out,
                                         struct ep_error *err)
{
    const json_t *v = json_object_get(obj, "customer_type");
    const char *text;

    *out = CUSTOMER_ANY;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    text = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(text, "all") == 0)
        *out = CUSTOMER_ANY;
    else if (strcmp(text, "member") == 0)
        *out = CUSTOMER_MEMBER;
    else if (strcmp(text, "non_member") == 0)
        *out = CUSTOMER_NON_MEMBER;
    else
        return invalid(err, "targeting.customer_type",
                       "all, member or non_member");
    return EP_OK;
}

static enum ep_status compile_targeting(const struct promo_record *r,
                                        struct ep_arena *arena,
                                        struct promotion *p,
                                        struct ep_error *err)
{
    struct targeting *t = &p->targeting;
    json_t *obj = NULL;
    const json_t *member_only;
    enum ep_status status =
        parse_object(r->targeting_json, "targeting", false, &obj, err);

    if (status != EP_OK)
        return status;
    member_only = json_object_get(obj, "member_only");
    t->member_only = json_is_true(member_only);
    if (member_only != NULL && !json_is_boolean(member_only) &&
        !json_is_null(member_only))
        status = invalid(err, "targeting.member_only", "true or false");
    if (status == EP_OK)
        status =
            read_choice(obj, "stores", "targeting", arena, &t->stores, err);
    if (status == EP_OK)
        status =
            read_choice(obj, "brands", "targeting", arena, &t->brands, err);
    if (status == EP_OK)
        status = read_customer_type(obj, &t->customer_type, err);
    if (status == EP_OK)
        status = read_choice(obj, "member_tiers", "targeting", arena,
                             &t->member_tiers, err);
    if (status == EP_OK)
        status = read_choice(obj, "payment_methods", "targeting", arena,
                             &t->payment_methods, err);
    json_decref(obj);
    return status;
}

/* ---- rules, per type -------------------------------------------------- */

/* Options every rule may carry: cap, min purchase, min quantity. */
static enum ep_status compile_common_rules(const json_t *obj, struct rules *ru,
                                           struct ep_error *err)
{
    bool has = false;

    if (read_money(obj, "max_discount_amount", "rules", &ru->has_cap, &ru->cap,
                   err) != EP_OK ||
        read_money(obj, "min_purchase", "rules", &has, &ru->min_purchase,
                   err) != EP_OK ||
        read_count(obj, "min_quantity", "rules", 0, &has, &ru->min_quantity,
                   err) != EP_OK)
        return EP_ERR_INVALID;
    return EP_OK;
}

static enum ep_status compile_fixed(const json_t *obj, struct promotion *p,
                                    struct ep_error *err)
{
    const json_t *per = json_object_get(obj, "per");
    struct rules *ru = &p->rules;

    if (need_money(obj, "discount_amount", "rules", &ru->amount, err) != EP_OK)
        return EP_ERR_INVALID;
    if (ru->amount == 0)
        return invalid(err, "rules.discount_amount", "an amount above 0");
    ru->per_unit = p->stage == STAGE_ITEM;
    if (per == NULL || json_is_null(per))
        return EP_OK;
    if (json_is_string(per) && strcmp(json_string_value(per), "unit") == 0)
        ru->per_unit = true;
    else if (json_is_string(per) &&
             strcmp(json_string_value(per), "transaction") == 0)
        ru->per_unit = false;
    else
        return invalid(err, "rules.per", "\"unit\" or \"transaction\"");
    return EP_OK;
}

static enum ep_status compile_buy_x_get_y(const json_t *obj,
                                          struct ep_arena *arena,
                                          struct promotion *p,
                                          struct ep_error *err)
{
    struct rules *ru = &p->rules;
    const json_t *get_scope = json_object_get(obj, "get_scope");
    bool has_buy = false;
    bool has_get = false;

    if (read_count(obj, "buy_quantity", "rules", 1, &has_buy, &ru->buy_quantity,
                   err) != EP_OK ||
        read_count(obj, "get_quantity", "rules", 1, &has_get, &ru->get_quantity,
                   err) != EP_OK)
        return EP_ERR_INVALID;
    if (!has_buy)
        return invalid(err, "rules.buy_quantity",
                       "a whole number of at least 1");
    if (!has_get)
        return invalid(err, "rules.get_quantity",
                       "a whole number of at least 1");
    if (need_percent(obj, "get_discount_percent", "rules", &ru->percent, err) !=
            EP_OK ||
        read_count(obj, "max_applications", "rules", 1,
                   &ru->has_max_applications, &ru->max_applications,
                   err) != EP_OK)
        return EP_ERR_INVALID;
    if (get_scope == NULL || json_is_null(get_scope))
        return EP_OK;
    if (!json_is_object(get_scope))
        return invalid(err, "rules.get_scope", "a scope object");
    ru->has_get_scope = true;
    return compile_scope_object(get_scope, "rules.get_scope", "all", arena,
                                &ru->get_scope, err);
}

static enum ep_status compile_slot(const json_t *item, const char *prefix,
                                   struct ep_arena *arena,
                                   struct bundle_slot *slot,
                                   struct ep_error *err)
{
    bool has = false;
    char field[FIELD_MAX];

    if (!json_is_object(item))
        return invalid(err, prefix,
                       "an object {products|categories, "
                       "quantity}");
    if (read_id_member(item, "products", prefix, arena, &slot->products, err) !=
            EP_OK ||
        read_id_member(item, "categories", prefix, arena, &slot->categories,
                       err) != EP_OK ||
        read_count(item, "quantity", prefix, 1, &has, &slot->quantity, err) !=
            EP_OK)
        return EP_ERR_INVALID;
    snprintf(field, sizeof(field), "%s.quantity", prefix);
    if (!has)
        return invalid(err, field, "a whole number of at least 1");
    snprintf(field, sizeof(field), "%s.products", prefix);
    if (slot->products.count == 0 && slot->categories.count == 0)
        return invalid(err, field, "products or categories to fill the slot");
    return EP_OK;
}

static enum ep_status compile_bundle(const json_t *obj, struct ep_arena *arena,
                                     struct promotion *p, struct ep_error *err)
{
    struct rules *ru = &p->rules;
    const json_t *items = json_object_get(obj, "items");
    size_t n = json_array_size(items);

    if (!json_is_array(items) || n == 0 || n > 50)
        return invalid(err, "rules.items", "an array of 1 to 50 slots");
    ru->slots = ep_arena_calloc(arena, n, sizeof(*ru->slots));
    if (ru->slots == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "rules.items", "out of memory");
    ru->slot_count = n;
    for (size_t i = 0; i < n; i++) {
        char prefix[FIELD_MAX];
        snprintf(prefix, sizeof(prefix), "rules.items[%zu]", i);
        if (compile_slot(json_array_get(items, i), prefix, arena, &ru->slots[i],
                         err) != EP_OK)
            return EP_ERR_INVALID;
    }
    if (need_money(obj, "bundle_price", "rules", &ru->amount, err) != EP_OK)
        return EP_ERR_INVALID;
    return read_count(obj, "max_applications", "rules", 1,
                      &ru->has_max_applications, &ru->max_applications, err);
}

static enum ep_status compile_tier(const json_t *item, const char *prefix,
                                   struct tier *tier, struct ep_error *err)
{
    char field[FIELD_MAX];
    bool has_percent = json_object_get(item, "discount_percent") != NULL &&
                       !json_is_null(json_object_get(item, "discount_percent"));
    bool has_amount = json_object_get(item, "discount_amount") != NULL &&
                      !json_is_null(json_object_get(item, "discount_amount"));

    if (!json_is_object(item))
        return invalid(err, prefix,
                       "an object {min_purchase, "
                       "discount_percent|discount_amount}");
    if (need_money(item, "min_purchase", prefix, &tier->min_purchase, err) !=
        EP_OK)
        return EP_ERR_INVALID;
    snprintf(field, sizeof(field), "%s.discount_percent", prefix);
    if (has_percent == has_amount)
        return invalid(err, field,
                       "exactly one of discount_percent and discount_amount");
    tier->is_percent = has_percent;
    if (has_percent)
        return need_percent(item, "discount_percent", prefix, &tier->percent,
                            err);
    return need_money(item, "discount_amount", prefix, &tier->amount, err);
}

static int compare_tiers(const void *a, const void *b)
{
    const struct tier *x = a;
    const struct tier *y = b;

    return (x->min_purchase > y->min_purchase) -
           (x->min_purchase < y->min_purchase);
}

static enum ep_status compile_tiered(const json_t *obj, struct ep_arena *arena,
                                     struct promotion *p, struct ep_error *err)
{
    struct rules *ru = &p->rules;
    const json_t *tiers = json_object_get(obj, "tiers");
    size_t n = json_array_size(tiers);

    if (!json_is_array(tiers) || n == 0 || n > 50)
        return invalid(err, "rules.tiers", "an array of 1 to 50 tiers");
    ru->tiers = ep_arena_calloc(arena, n, sizeof(*ru->tiers));
    if (ru->tiers == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "rules.tiers", "out of memory");
    ru->tier_count = n;
    for (size_t i = 0; i < n; i++) {
        char prefix[FIELD_MAX];
        snprintf(prefix, sizeof(prefix), "rules.tiers[%zu]", i);
        if (compile_tier(json_array_get(tiers, i), prefix, &ru->tiers[i],
                         err) != EP_OK)
            return EP_ERR_INVALID;
    }
    qsort(ru->tiers, n, sizeof(*ru->tiers), compare_tiers);
    for (size_t i = 1; i < n; i++) {
        if (ru->tiers[i].min_purchase == ru->tiers[i - 1].min_purchase)
            return invalid(err, "rules.tiers",
                           "tiers with different min_purchase amounts");
    }
    return EP_OK;
}

static enum ep_status compile_kind_rules(const json_t *obj,
                                         struct ep_arena *arena,
                                         struct promotion *p,
                                         struct ep_error *err)
{
    struct rules *ru = &p->rules;
    bool has = false;

    switch (ru->kind) {
    case KIND_PERCENT:
        return need_percent(obj, "discount_percent", "rules", &ru->percent,
                            err);
    case KIND_FIXED:
        return compile_fixed(obj, p, err);
    case KIND_FIXED_PRICE:
        if (read_money(obj, "price", "rules", &has, &ru->amount, err) != EP_OK)
            return EP_ERR_INVALID;
        return has ? EP_OK : invalid(err, "rules.price", "an amount");
    case KIND_BUY_X_GET_Y:
        return compile_buy_x_get_y(obj, arena, p, err);
    case KIND_BUNDLE:
        return compile_bundle(obj, arena, p, err);
    case KIND_TIERED:
        return compile_tiered(obj, arena, p, err);
    case KIND_UNSUPPORTED:
        break;
    }
    return EP_OK;
}

/* Finds the kind of the promo_type column (unknown: unsupported). */
static void compile_kind(const struct promo_record *r, struct promotion *p)
{
    p->rules.kind = KIND_UNSUPPORTED;
    p->unsupported = true;
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(r->promo_type, kind_names[i].promo_type) == 0) {
            p->rules.kind = kind_names[i].kind;
            p->unsupported = false;
        }
    }
}

/* Checks that rules.type agrees with the promo_type column. */
static enum ep_status check_rules_type(const struct promo_record *r,
                                       const json_t *rules,
                                       struct ep_error *err)
{
    const json_t *type = json_object_get(rules, "type");
    char expected[96];

    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(r->promo_type, kind_names[i].promo_type) != 0)
            continue;
        if (json_is_string(type) &&
            strcmp(json_string_value(type), kind_names[i].rules_type) == 0)
            return EP_OK;
        snprintf(expected, sizeof(expected), "\"%s\" (promo_type is %s)",
                 kind_names[i].rules_type, r->promo_type);
        return invalid(err, "rules.type", expected);
    }
    return EP_OK;
}

static enum ep_status compile_rules(const struct promo_record *r,
                                    struct ep_arena *arena, struct promotion *p,
                                    struct ep_error *err)
{
    json_t *obj = NULL;
    enum ep_status status =
        parse_object(r->rules_json, "rules", true, &obj, err);

    if (status != EP_OK)
        return status;
    if (!p->unsupported)
        status = check_rules_type(r, obj, err);
    if (status == EP_OK && !p->unsupported)
        status = compile_common_rules(obj, &p->rules, err);
    if (status == EP_OK && !p->unsupported)
        status = compile_kind_rules(obj, arena, p, err);
    json_decref(obj);
    return status;
}

static enum ep_status compile_steps(const struct promo_record *r,
                                    struct ep_arena *arena, struct promotion *p,
                                    struct ep_error *err)
{
    enum ep_status status = compile_identity(r, err);

    if (status == EP_OK) {
        compile_kind(r, p);
        status = compile_stage(r, p, err);
    }
    if (status == EP_OK)
        status = compile_rules(r, arena, p, err);
    if (status == EP_OK)
        status = compile_dates(r, p, err);
    if (status == EP_OK)
        status = compile_valid_days(r, p, err);
    if (status == EP_OK)
        status = compile_limits(r, err);
    if (status == EP_OK)
        status = compile_scope(r, arena, p, err);
    if (status == EP_OK)
        status = compile_targeting(r, arena, p, err);
    return status;
}

enum ep_status promotion_compile(const struct promo_record *record,
                                 struct ep_arena *arena, struct promotion *p,
                                 struct ep_error *err)
{
    enum ep_status status;

    memset(p, 0, sizeof(*p));
    p->record = record;
    p->priority = record->execution_priority;
    ep_mem_failure_reset();
    status = compile_steps(record, arena, p, err);
    if (ep_mem_failure_seen()) {
        /* jansson can hide a failed allocation behind a parse error or a
         * missing member: whatever it said, this was out of memory. */
        ep_error_clear(err);
        status = ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    }
    if (status == EP_OK) {
        p->code_key = code_key_make(arena, record->code);
        if (p->code_key == NULL)
            status = ep_error_set(err, EP_ERR_NOMEM, "code", "out of memory");
    }
    if (status != EP_OK)
        ep_error_prefix_message(
            err, "promotion %s: ", record->id ? record->id : "(no id)");
    return status;
}

enum ep_status engine_promotion_validate(const struct promo_record *record,
                                         struct ep_error *err)
{
    struct ep_arena arena;
    struct promotion p;
    enum ep_status status;

    ep_arena_init(&arena, 4096, (size_t)64 << 20);
    status = promotion_compile(record, &arena, &p, err);
    ep_arena_deinit(&arena);
    return status;
}
