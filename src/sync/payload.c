/*
 * payload.c - reads the CMS's sync bodies (SPEC.md section 3) into
 * promotion records and holidays.
 *
 * The shape is checked here: the body is an object of the right form, each
 * promotion P has the seed's columns with the right JSON types, rules is an
 * object, scope and targeting objects or null, valid_days an array or null.
 * rules, scope, targeting and valid_days are kept as compact JSON text,
 * exactly the columns the seed stores. Whether a promotion makes sense is
 * the engine's call (engine_promotion_validate).
 */
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "sync/sync.h"

#define PAYLOAD_TEXT_MAX 65536

static enum ep_status shape_error(struct ep_error *err, const char *field,
                                  const char *expected)
{
    return ep_error_set(err, EP_ERR_INVALID, field, "%s: expected %s", field,
                        expected);
}

/* Copies a string member into the arena; absent/null gives NULL. */
static enum ep_status take_text(const json_t *obj, const char *key,
                                bool required, struct ep_arena *arena,
                                const char **out, struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? shape_error(err, key, "a string") : EP_OK;
    if (!json_is_string(v) || json_string_length(v) > PAYLOAD_TEXT_MAX ||
        strlen(json_string_value(v)) != json_string_length(v))
        return shape_error(err, key, "a string");
    *out = ep_arena_strdup(arena, json_string_value(v));
    return *out != NULL ? EP_OK
                        : ep_error_set(err, EP_ERR_NOMEM, key, "out of memory");
}

/* Reads a boolean member; 0/1 are accepted as the database writes them. */
static enum ep_status take_bool(const json_t *obj, const char *key,
                                bool fallback, bool *out, struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);

    *out = fallback;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return EP_OK;
    }
    if (json_is_integer(v) &&
        (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return EP_OK;
    }
    return shape_error(err, key, "true or false");
}

static enum ep_status take_int(const json_t *obj, const char *key, bool *has,
                               int64_t *out, struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);

    *has = false;
    if (v == NULL || json_is_null(v))
        return EP_OK;
    if (!json_is_integer(v))
        return shape_error(err, key, "a whole number");
    *out = (int64_t)json_integer_value(v);
    *has = true;
    return EP_OK;
}

/* Serializes a JSON member to compact text; kinds limits what is allowed. */
static enum ep_status take_json(const json_t *obj, const char *key,
                                bool required, bool want_array,
                                struct ep_arena *arena, const char **out,
                                struct ep_error *err)
{
    const json_t *v = json_object_get(obj, key);
    char *text;

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return required ? shape_error(err, key, "an object") : EP_OK;
    if (want_array ? !json_is_array(v) : !json_is_object(v))
        return shape_error(err, key, want_array ? "an array or null"
                                                : "an object");
    text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
                             JSON_REAL_PRECISION(15));
    if (text == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, key, "out of memory");
    *out = ep_arena_strdup(arena, text);
    ep_free(text);
    return *out != NULL ? EP_OK
                        : ep_error_set(err, EP_ERR_NOMEM, key, "out of memory");
}

static enum ep_status take_texts(const json_t *obj, struct ep_arena *arena,
                                 struct promo_record *r, struct ep_error *err)
{
    struct text_column {
        const char *key;
        bool required;
        const char **slot;
    } columns[] = {
        { "id", true, &r->id },
        { "code", true, &r->code },
        { "name", true, &r->name },
        { "description", false, &r->description },
        { "terms_conditions", false, &r->terms_conditions },
        { "company_id", true, &r->company_id },
        { "brand_id", true, &r->brand_id },
        { "store_id", true, &r->store_id },
        { "promo_type", true, &r->promo_type },
        { "apply_to", false, &r->apply_to },
        { "execution_stage", true, &r->execution_stage },
        { "start_date", true, &r->start_date },
        { "end_date", true, &r->end_date },
        { "time_start", false, &r->time_start },
        { "time_end", false, &r->time_end },
        { "compiled_at", true, &r->compiled_at },
        { "synced_at", false, &r->synced_at },
        { "last_used_at", false, &r->last_used_at },
    };
    enum ep_status status = EP_OK;

    for (size_t i = 0; status == EP_OK && i < sizeof(columns) /
                                                  sizeof(columns[0]);
         i++)
        status = take_text(obj, columns[i].key, columns[i].required, arena,
                           columns[i].slot, err);
    return status;
}

static enum ep_status take_flags(const json_t *obj, struct promo_record *r,
                                 struct ep_error *err)
{
    if (take_bool(obj, "is_active", true, &r->is_active, err) ||
        take_bool(obj, "is_auto_apply", false, &r->is_auto_apply, err) ||
        take_bool(obj, "require_voucher", false, &r->require_voucher, err) ||
        take_bool(obj, "member_only", false, &r->member_only, err) ||
        take_bool(obj, "is_stackable", false, &r->is_stackable, err) ||
        take_bool(obj, "exclude_holidays", false, &r->exclude_holidays, err))
        return EP_ERR_INVALID;
    return EP_OK;
}

static enum ep_status take_numbers(const json_t *obj, struct promo_record *r,
                                   struct ep_error *err)
{
    bool has = false;

    if (take_int(obj, "execution_priority", &has, &r->execution_priority,
                 err))
        return EP_ERR_INVALID;
    if (!has)
        r->execution_priority = 500;
    if (take_int(obj, "max_uses", &r->has_max_uses, &r->max_uses, err) ||
        take_int(obj, "max_uses_per_customer", &r->has_max_uses_per_customer,
                 &r->max_uses_per_customer, err) ||
        take_int(obj, "max_uses_per_day", &r->has_max_uses_per_day,
                 &r->max_uses_per_day, err) ||
        take_int(obj, "current_uses", &has, &r->current_uses, err))
        return EP_ERR_INVALID;
    if (!has)
        r->current_uses = 0;
    return EP_OK;
}

/* apply_to may be left out when scope says it. */
static void default_apply_to(const json_t *obj, struct ep_arena *arena,
                             struct promo_record *r)
{
    const json_t *scope = json_object_get(obj, "scope");
    const json_t *apply = json_object_get(scope, "apply_to");

    if (r->apply_to != NULL)
        return;
    r->apply_to = json_is_string(apply)
                      ? ep_arena_strdup(arena, json_string_value(apply))
                      : "all";
    if (r->apply_to == NULL)
        r->apply_to = "all";
}

enum ep_status sync_promotion_from_json(const json_t *obj,
                                        struct ep_arena *arena,
                                        struct promo_record *r,
                                        struct ep_error *err)
{
    memset(r, 0, sizeof(*r));
    if (!json_is_object(obj))
        return ep_error_set(err, EP_ERR_INVALID, NULL,
                            "a promotion must be a JSON object");
    if (take_texts(obj, arena, r, err) || take_flags(obj, r, err) ||
        take_numbers(obj, r, err) ||
        take_json(obj, "rules", true, false, arena, &r->rules_json, err) ||
        take_json(obj, "scope", false, false, arena, &r->scope_json, err) ||
        take_json(obj, "targeting", false, false, arena, &r->targeting_json,
                  err) ||
        take_json(obj, "valid_days", false, true, arena, &r->valid_days_json,
                  err))
        return err ? err->status : EP_ERR_INVALID;
    default_apply_to(obj, arena, r);
    return EP_OK;
}

/* ---- bodies ----------------------------------------------------------- */

static enum ep_status parse_root(const char *text, size_t length,
                                 json_t **out, struct ep_error *err)
{
    json_error_t jerr;

    *out = json_loadb(text, length, 0, &jerr);
    if (*out == NULL)
        return ep_error_set(err, EP_ERR_INVALID, NULL,
                            "the body is not valid JSON: %s (line %d, "
                            "column %d)",
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ep_error_set(err, EP_ERR_INVALID, NULL,
                            "the body must be a JSON object");
    }
    return EP_OK;
}

static enum ep_status take_promotions(const json_t *array, const char *field,
                                      struct ep_arena *arena,
                                      struct sync_payload *out,
                                      struct ep_error *err)
{
    const json_t **items;
    size_t n = json_array_size(array);

    if (!json_is_array(array))
        return shape_error(err, field, "an array of promotions");
    items = ep_arena_calloc(arena, n + 1, sizeof(*items));
    if (items == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, field, "out of memory");
    for (size_t i = 0; i < n; i++)
        items[i] = json_array_get(array, i);
    out->promotions = items;
    out->promotion_count = n;
    return EP_OK;
}

static enum ep_status take_holidays(const json_t *store,
                                    struct ep_arena *arena,
                                    struct sync_payload *out,
                                    struct ep_error *err)
{
    const json_t *array = json_object_get(store, "holidays");
    size_t n = json_array_size(array);

    if (array == NULL || json_is_null(array))
        return EP_OK;
    if (!json_is_array(array))
        return shape_error(err, "holidays", "an array of {date, name}");
    out->holidays = ep_arena_calloc(arena, n + 1, sizeof(*out->holidays));
    if (out->holidays == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "holidays", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *h = json_array_get(array, i);
        char field[48];
        snprintf(field, sizeof(field), "holidays[%zu]", i);
        if (!json_is_object(h) ||
            take_text(h, "date", true, arena, &out->holidays[i].date, err) ||
            take_text(h, "name", false, arena, &out->holidays[i].name, err))
            return ep_error_prefix_field(err, field) != EP_OK
                       ? err->status
                       : shape_error(err, field, "an object {date, name}");
    }
    out->holiday_count = n;
    out->has_holidays = true;
    return EP_OK;
}

static enum ep_status take_cursor(const json_t *obj, struct ep_arena *arena,
                                  struct sync_payload *out,
                                  struct ep_error *err)
{
    if (take_text(obj, "sync_token", false, arena, &out->sync_token, err) ||
        take_text(obj, "server_time", false, arena, &out->server_time, err))
        return EP_ERR_INVALID;
    return EP_OK;
}

enum ep_status sync_payload_parse_full(const char *text, size_t length,
                                       const char *store_id,
                                       struct ep_arena *arena,
                                       struct sync_payload *out,
                                       struct ep_error *err)
{
    const json_t *store;
    enum ep_status status;

    memset(out, 0, sizeof(*out));
    status = parse_root(text, length, &out->root, err);
    if (status != EP_OK)
        return status;
    store = json_object_get(out->root, store_id);
    if (!json_is_object(store))
        status = ep_error_set(err, EP_ERR_INVALID, store_id,
                              "the body has no object for store %s",
                              store_id);
    if (status == EP_OK)
        status = take_promotions(json_object_get(store, "promotions"),
                                 "promotions", arena, out, err);
    if (status == EP_OK)
        status = take_holidays(store, arena, out, err);
    if (status == EP_OK)
        status = take_cursor(store, arena, out, err);
    if (status != EP_OK)
        sync_payload_deinit(out);
    return status;
}

static enum ep_status take_deleted(const json_t *root, struct ep_arena *arena,
                                   struct sync_payload *out,
                                   struct ep_error *err)
{
    const json_t *array = json_object_get(root, "deleted");
    size_t n = json_array_size(array);

    if (array == NULL || json_is_null(array))
        return EP_OK;
    if (!json_is_array(array))
        return shape_error(err, "deleted", "an array of promotion ids");
    out->deleted_ids = ep_arena_calloc(arena, n + 1,
                                       sizeof(*out->deleted_ids));
    if (out->deleted_ids == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, "deleted", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *id = json_array_get(array, i);
        char field[48];
        snprintf(field, sizeof(field), "deleted[%zu]", i);
        if (!json_is_string(id) || json_string_length(id) == 0)
            return shape_error(err, field, "a promotion id");
        out->deleted_ids[i] = ep_arena_strdup(arena, json_string_value(id));
        if (out->deleted_ids[i] == NULL)
            return ep_error_set(err, EP_ERR_NOMEM, field, "out of memory");
    }
    out->deleted_count = n;
    return EP_OK;
}

enum ep_status sync_payload_parse_incremental(const char *text, size_t length,
                                              struct ep_arena *arena,
                                              struct sync_payload *out,
                                              struct ep_error *err)
{
    const json_t *updated;
    enum ep_status status;

    memset(out, 0, sizeof(*out));
    status = parse_root(text, length, &out->root, err);
    if (status != EP_OK)
        return status;
    updated = json_object_get(out->root, "updated");
    if (updated != NULL && !json_is_null(updated))
        status = take_promotions(updated, "updated", arena, out, err);
    if (status == EP_OK)
        status = take_deleted(out->root, arena, out, err);
    if (status == EP_OK)
        status = take_cursor(out->root, arena, out, err);
    if (status != EP_OK)
        sync_payload_deinit(out);
    return status;
}

void sync_payload_deinit(struct sync_payload *payload)
{
    if (payload == NULL)
        return;
    json_decref(payload->root);
    payload->root = NULL;
}
