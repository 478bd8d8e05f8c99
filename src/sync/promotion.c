/*
 * promotion.c - reads one promotion P of the CMS API (SPEC.md section 3)
 * into a promo_record, from the scanner (sync bodies) or from a jansson
 * object (fixtures and tools).
 *
 * P has the seed's column names as keys; rules, scope and targeting are
 * objects (kept as compact JSON text, the *_json columns) and valid_days an
 * array (kept as text). The table below says, once, each key's column,
 * JSON type and whether it is required. Only the shape is judged here;
 * whether the promotion makes sense is the engine's call
 * (engine_promotion_validate). Unknown keys are ignored, so a newer CMS
 * can add some. A key given twice makes the promotion invalid.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "sync/internal.h"

#define PROMOTION_TEXT_MAX 65536 /* longest text column, bytes */

enum column_type {
    COLUMN_TEXT,   /* string or null */
    COLUMN_BOOL,   /* true/false, 0/1 or null (the default) */
    COLUMN_INT,    /* whole number or null */
    COLUMN_OBJECT, /* object or null, kept as JSON text */
    COLUMN_ARRAY   /* array or null, kept as JSON text */
};

struct column {
    const char *key;       /* the JSON key and column name */
    enum column_type type; /* what the value must be */
    bool required;         /* absent or null makes the promotion bad */
    size_t offset;         /* of the field in struct promo_record */
    size_t has_offset;     /* of its has_* flag (COLUMN_INT), or 0 */
};

#define FIELD(key) offsetof(struct promo_record, key)
#define TEXT(key, req)                        \
    {                                         \
#key, COLUMN_TEXT, req, FIELD(key), 0 \
    }
#define FLAG(key)                               \
    {                                           \
#key, COLUMN_BOOL, false, FIELD(key), 0 \
    }
#define COUNT(key, has)                          \
    {                                            \
#key, COLUMN_INT, false, FIELD(key), has \
    }
#define HAS(key) FIELD(has_##key)

/* Sorted by key (bsearch); at most 64 entries (a bit mask of seen keys). */
static const struct column columns[] = {
    TEXT(apply_to, false),
    TEXT(brand_id, true),
    TEXT(code, true),
    TEXT(company_id, true),
    TEXT(compiled_at, true),
    COUNT(current_uses, 0),
    TEXT(description, false),
    TEXT(end_date, true),
    FLAG(exclude_holidays),
    COUNT(execution_priority, 0),
    TEXT(execution_stage, true),
    TEXT(id, true),
    FLAG(is_active),
    FLAG(is_auto_apply),
    FLAG(is_stackable),
    TEXT(last_used_at, false),
    COUNT(max_uses, HAS(max_uses)),
    COUNT(max_uses_per_customer, HAS(max_uses_per_customer)),
    COUNT(max_uses_per_day, HAS(max_uses_per_day)),
    FLAG(member_only),
    TEXT(name, true),
    TEXT(promo_type, true),
    FLAG(require_voucher),
    { "rules", COLUMN_OBJECT, true, FIELD(rules_json), 0 },
    { "scope", COLUMN_OBJECT, false, FIELD(scope_json), 0 },
    TEXT(start_date, true),
    TEXT(store_id, true),
    TEXT(synced_at, false),
    { "targeting", COLUMN_OBJECT, false, FIELD(targeting_json), 0 },
    TEXT(terms_conditions, false),
    TEXT(time_end, false),
    TEXT(time_start, false),
    { "valid_days", COLUMN_ARRAY, false, FIELD(valid_days_json), 0 },
};

#define COLUMN_COUNT (sizeof(columns) / sizeof(columns[0]))

static int compare_key(const void *key, const void *entry)
{
    return strcmp(key, ((const struct column *)entry)->key);
}

static const struct column *column_find(const char *key)
{
    return bsearch(key, columns, COLUMN_COUNT, sizeof(columns[0]), compare_key);
}

static const char *expected_of(enum column_type type)
{
    switch (type) {
    case COLUMN_TEXT:
        return "a string";
    case COLUMN_BOOL:
        return "true or false";
    case COLUMN_INT:
        return "a whole number";
    case COLUMN_OBJECT:
        return "an object";
    default:
        return "an array";
    }
}

/* Marks the promotion bad: key has the wrong type. */
static void wrong_type(const struct column *c, struct ep_error *why)
{
    ep_error_set(why, EP_ERR_INVALID, c->key, "%s: expected %s%s", c->key,
                 expected_of(c->type), c->required ? "" : " or null");
}

/* Parses a JSON number's text as an int64; false if not a whole number. */
static bool parse_whole(const char *text, size_t length, int64_t *out)
{
    bool negative = length > 0 && text[0] == '-';
    uint64_t value = 0;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

    for (size_t i = negative ? 1 : 0; i < length; i++) {
        unsigned digit = (unsigned)(text[i] - '0');
        if (digit > 9 || value > (limit - digit) / 10)
            return false;
        value = value * 10 + digit;
    }
    if (value > (uint64_t)INT64_MAX)
        *out = INT64_MIN;
    else
        *out = negative ? -(int64_t)value : (int64_t)value;
    return true;
}

static enum ep_status read_text(struct json_scan *s, const struct column *c,
                                struct promo_record *r, struct ep_error *why)
{
    char *text = NULL;
    size_t length = 0;

    if (json_scan_string(s, &text, &length) != EP_OK)
        return EP_ERR_INVALID;
    if (length > PROMOTION_TEXT_MAX)
        ep_error_set(why, EP_ERR_INVALID, c->key, "%s: longer than %d bytes",
                     c->key, PROMOTION_TEXT_MAX);
    *(const char **)((char *)r + c->offset) = text;
    return EP_OK;
}

static enum ep_status read_number(struct json_scan *s, const struct column *c,
                                  struct promo_record *r, struct ep_error *why)
{
    char *text = NULL;
    size_t length = 0;
    int64_t value = 0;

    if (json_scan_number(s, &text, &length) != EP_OK)
        return EP_ERR_INVALID;
    if (!parse_whole(text, length, &value) ||
        (c->type == COLUMN_BOOL && value != 0 && value != 1)) {
        wrong_type(c, why);
        return EP_OK;
    }
    if (c->type == COLUMN_BOOL) {
        *(bool *)((char *)r + c->offset) = value == 1;
        return EP_OK;
    }
    *(int64_t *)((char *)r + c->offset) = value;
    if (c->has_offset != 0)
        *(bool *)((char *)r + c->has_offset) = true;
    return EP_OK;
}

/* Reads the value of column c, or marks the promotion bad and skips it. */
static enum ep_status read_column(struct json_scan *s, const struct column *c,
                                  struct promo_record *r, struct ep_error *why)
{
    enum json_kind kind = json_scan_peek(s);

    if (kind == JSON_KIND_NULL)
        return json_scan_literal(s, kind);
    if (c->type == COLUMN_TEXT && kind == JSON_KIND_STRING)
        return read_text(s, c, r, why);
    if ((c->type == COLUMN_INT || c->type == COLUMN_BOOL) &&
        kind == JSON_KIND_NUMBER)
        return read_number(s, c, r, why);
    if (c->type == COLUMN_BOOL &&
        (kind == JSON_KIND_TRUE || kind == JSON_KIND_FALSE)) {
        *(bool *)((char *)r + c->offset) = kind == JSON_KIND_TRUE;
        return json_scan_literal(s, kind);
    }
    if ((c->type == COLUMN_OBJECT && kind == JSON_KIND_OBJECT) ||
        (c->type == COLUMN_ARRAY && kind == JSON_KIND_ARRAY))
        return json_scan_raw(s, (char **)((char *)r + c->offset));
    wrong_type(c, why);
    return json_scan_skip(s);
}

/* A required column that stayed NULL. */
static void check_required(const struct promo_record *r, struct ep_error *why)
{
    for (size_t i = 0; i < COLUMN_COUNT; i++) {
        const struct column *c = &columns[i];
        if (c->required &&
            *(const char *const *)((const char *)r + c->offset) == NULL)
            wrong_type(c, why);
    }
    if (r->id != NULL && r->id[0] == '\0')
        ep_error_set(why, EP_ERR_INVALID, "id", "id: must not be empty");
}

/*
 * apply_to may be left out when scope says it: {"apply_to": "..."}. False
 * when memory ran out: jansson then may drop the member or a byte of it
 * and still return a tree, so its answer cannot be kept.
 */
static bool default_apply_to(struct promo_record *r, struct ep_arena *arena)
{
    json_t *scope;
    const char *apply;
    char *copy;

    if (r->apply_to != NULL)
        return true;
    r->apply_to = "all";
    if (r->scope_json == NULL)
        return true;
    ep_mem_failure_reset();
    scope = json_loads(r->scope_json, 0, NULL);
    apply = json_string_value(json_object_get(scope, "apply_to"));
    copy = apply != NULL ? ep_arena_strdup(arena, apply) : NULL;
    if (copy != NULL)
        r->apply_to = copy;
    json_decref(scope);
    return !ep_mem_failure_seen();
}

static void set_defaults(struct promo_record *r)
{
    memset(r, 0, sizeof(*r));
    r->is_active = true;
    r->execution_priority = 500;
}

/* Reads the members of a promotion object (after its '{'). */
static enum ep_status read_members(struct json_scan *s, struct promo_record *r,
                                   struct ep_error *why)
{
    uint64_t seen = 0;
    bool first = true;
    bool more = true;
    char *key = NULL;
    const struct column *c;

    while (json_scan_member(s, &first, &more, &key) == EP_OK && more) {
        c = column_find(key);
        if (c != NULL && (seen & ((uint64_t)1 << (c - columns))) != 0)
            ep_error_set(why, EP_ERR_INVALID, c->key, "%s: given twice",
                         c->key);
        if (c == NULL || (seen & ((uint64_t)1 << (c - columns))) != 0) {
            if (json_scan_skip(s) != EP_OK)
                break;
            continue;
        }
        seen |= (uint64_t)1 << (c - columns);
        if (read_column(s, c, r, why) != EP_OK)
            break;
    }
    return s->failed ? EP_ERR_INVALID : EP_OK;
}

enum ep_status sync_promotion_scan(struct json_scan *s, struct ep_arena *arena,
                                   struct promo_record *out,
                                   struct ep_error *why)
{
    _Static_assert(COLUMN_COUNT <= 64, "seen mask holds 64 columns");
    set_defaults(out);
    if (json_scan_peek(s) != JSON_KIND_OBJECT) {
        ep_error_set(why, EP_ERR_INVALID, NULL,
                     "a promotion must be a JSON object");
        return json_scan_skip(s);
    }
    if (json_scan_object(s) != EP_OK || read_members(s, out, why) != EP_OK)
        return EP_ERR_INVALID;
    json_scan_settle(s);
    check_required(out, why);
    if (!default_apply_to(out, arena)) {
        s->failed = true;
        return ep_error_set(s->err, EP_ERR_NOMEM, NULL,
                            "out of memory reading the body");
    }
    return EP_OK;
}

enum ep_status sync_promotion_from_json(const json_t *object,
                                        struct ep_arena *arena,
                                        struct promo_record *out,
                                        struct ep_error *err)
{
    char *text;
    char *copy;
    size_t length;
    struct json_scan scan;
    struct ep_error why = { 0 };

    text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                  JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (text == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    length = strlen(text);
    copy = ep_arena_strndup(arena, text, length);
    ep_free(text);
    if (copy == NULL)
        return ep_error_set(err, EP_ERR_NOMEM, NULL, "out of memory");
    json_scan_init(&scan, copy, length, err);
    if (sync_promotion_scan(&scan, arena, out, &why) != EP_OK)
        return err != NULL ? err->status : EP_ERR_INVALID;
    json_scan_settle(&scan);
    if (!ep_error_is_set(&why))
        return EP_OK;
    if (err != NULL)
        *err = why;
    return EP_ERR_INVALID;
}
