/*
 * fuzz_rules_compile.c - libFuzzer target: the rules compiler
 * (engine_promotion_validate, promo_set_build) and evaluations of what it
 * accepts.
 *
 * Input: one promotion as fields separated by the byte 0x1F, in this
 * order (a field left out keeps a valid default, so the fuzzer can work on
 * one at a time):
 *
 *   promo_type, rules, scope, targeting, valid_days, execution_stage,
 *   start_date, end_date, time_start, time_end, flags, code
 *
 * flags is a set of letters: a(ctive) u(auto-apply) v(require voucher)
 * m(ember only) s(tackable) h(exclude holidays) l(imits), i(nactive).
 *
 * Checked: the compiler either refuses the promotion with EP_ERR_INVALID,
 * a field named and a message that starts "promotion <id>: ", or accepts
 * it, and then promo_set_build keeps it (validation and build agree), its
 * record writes as JSON that parses, and carts made from its own scope
 * (products and categories it names, its brand, a tier and a payment
 * method it targets), at instants around its dates and times, typed with
 * its code or not, evaluate to results that add up (fuzz_check_result).
 *
 *   fuzz_rules_compile fuzz/corpus/fuzz_rules_compile \
 *       -dict=fuzz/fuzz_rules_compile.dict
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "fuzz_support.h"

#define FIELD_SEPARATOR 0x1f
#define FIELD_COUNT     12
#define IDS_MAX         6
#define INPUT_MAX       ((size_t)64 << 10)
#define BRAND_ID        "4b4c6546-159b-4cd0-96d4-50a763ba12df"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum field {
    F_PROMO_TYPE,
    F_RULES,
    F_SCOPE,
    F_TARGETING,
    F_VALID_DAYS,
    F_STAGE,
    F_START_DATE,
    F_END_DATE,
    F_TIME_START,
    F_TIME_END,
    F_FLAGS,
    F_CODE
};

static const char *const defaults[FIELD_COUNT] = {
    "percent_discount",
    "{\"type\":\"percent\",\"discount_percent\":10}",
    NULL,
    NULL,
    NULL,
    "item_level",
    "2026-01-01",
    "2026-12-31",
    NULL,
    NULL,
    "au",
    "FUZZ10",
};

/* Splits the input into fields (NUL-terminated copies in arena). */
static void split_fields(const uint8_t *data, size_t size,
                         struct ep_arena *arena, const char **fields)
{
    size_t start = 0;
    size_t n = 0;

    for (size_t i = 0; i < FIELD_COUNT; i++)
        fields[i] = defaults[i];
    for (size_t i = 0; i <= size && n < FIELD_COUNT; i++) {
        if (i < size && data[i] != FIELD_SEPARATOR)
            continue;
        fields[n] =
            ep_arena_strndup(arena, (const char *)data + start, i - start);
        FUZZ_CHECK(fields[n] != NULL, "out of memory");
        n++;
        start = i + 1;
    }
}

static void record_from_fields(const char **f, struct promo_record *r)
{
    const char *flags = f[F_FLAGS] != NULL ? f[F_FLAGS] : "";

    memset(r, 0, sizeof(*r));
    r->id = "f0220000-0000-4000-8000-000000000001";
    r->code = f[F_CODE];
    r->name = "fuzz";
    r->company_id = FUZZ_COMPANY_ID;
    r->brand_id = BRAND_ID;
    r->store_id = FUZZ_STORE_ID;
    r->promo_type = f[F_PROMO_TYPE];
    r->apply_to = "all";
    r->execution_stage = f[F_STAGE];
    r->execution_priority = 100;
    r->is_active = strchr(flags, 'i') == NULL;
    r->is_auto_apply = strchr(flags, 'u') != NULL;
    r->require_voucher = strchr(flags, 'v') != NULL;
    r->member_only = strchr(flags, 'm') != NULL;
    r->is_stackable = strchr(flags, 's') != NULL;
    r->exclude_holidays = strchr(flags, 'h') != NULL;
    r->start_date = f[F_START_DATE];
    r->end_date = f[F_END_DATE];
    r->time_start = f[F_TIME_START];
    r->time_end = f[F_TIME_END];
    r->valid_days_json = f[F_VALID_DAYS];
    r->rules_json = f[F_RULES];
    r->scope_json = f[F_SCOPE];
    r->targeting_json = f[F_TARGETING];
    r->has_max_uses = r->has_max_uses_per_day = r->has_max_uses_per_customer =
        strchr(flags, 'l') != NULL;
    r->max_uses = 5;
    r->max_uses_per_day = 2;
    r->max_uses_per_customer = 1;
    r->current_uses = 3;
    r->compiled_at = "2026-01-01 00:00:00";
}

/* ---- carts made from the promotion ------------------------------------ */

/* What the promotion names, to build carts it can apply to. */
struct names {
    const char *ids[IDS_MAX]; /* products and categories; arena */
    size_t id_count;
    const char *tier;    /* a member tier it targets, or NULL */
    const char *payment; /* a payment method it targets, or NULL */
};

static void add_id(struct names *n, const char *id, struct ep_arena *arena)
{
    if (n->id_count >= IDS_MAX || id == NULL || id[0] == '\0' ||
        strlen(id) > 64)
        return;
    for (size_t i = 0; i < n->id_count; i++) {
        if (strcmp(n->ids[i], id) == 0)
            return;
    }
    n->ids[n->id_count] = ep_arena_strdup(arena, id);
    if (n->ids[n->id_count] != NULL)
        n->id_count++;
}

/* Collects the strings of every "products"/"categories" array in v. */
static void collect_ids(const json_t *v, struct names *n,
                        struct ep_arena *arena, int depth)
{
    const char *key;
    const json_t *member;
    size_t i;
    const json_t *item;

    if (depth > 8)
        return;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item) collect_ids(item, n, arena, depth + 1);
        return;
    }
    json_object_foreach((json_t *)v, key, member)
    {
        if ((strcmp(key, "products") == 0 || strcmp(key, "categories") == 0) &&
            json_is_array(member)) {
            json_array_foreach(member, i, item)
                add_id(n, json_string_value(item), arena);
        } else {
            collect_ids(member, n, arena, depth + 1);
        }
    }
}

static const char *first_string(const json_t *targeting, const char *key,
                                struct ep_arena *arena)
{
    const char *text =
        json_string_value(json_array_get(json_object_get(targeting, key), 0));

    return text != NULL && strlen(text) <= 64 ? ep_arena_strdup(arena, text)
                                              : NULL;
}

static void collect_names(const struct promo_record *r, struct names *n,
                          struct ep_arena *arena)
{
    json_t *rules = json_loads(r->rules_json, 0, NULL);
    json_t *scope = r->scope_json ? json_loads(r->scope_json, 0, NULL) : NULL;
    json_t *targeting =
        r->targeting_json ? json_loads(r->targeting_json, 0, NULL) : NULL;

    memset(n, 0, sizeof(*n));
    collect_ids(scope, n, arena, 0);
    collect_ids(rules, n, arena, 0);
    n->tier = first_string(targeting, "member_tiers", arena);
    n->payment = first_string(targeting, "payment_methods", arena);
    json_decref(rules);
    json_decref(scope);
    json_decref(targeting);
}

/* Writes a cart for the promotion as JSON text into out. */
static void write_cart(const struct names *n, const struct promo_record *r,
                       const char *at, unsigned variant, struct ep_buf *out)
{
    ep_buf_reset(out);
    ep_buf_puts(out, "{\"brand_id\":\"" BRAND_ID "\",\"at\":");
    ep_buf_json_string(out, at);
    if (variant & 1u) {
        ep_buf_puts(out, ",\"voucher_codes\":[");
        ep_buf_json_string(out, r->code);
        ep_buf_puts(out, ",\"NOPE\"]");
    }
    if (variant & 2u) {
        ep_buf_puts(out, ",\"customer\":{\"id\":\"cust-1\",\"is_member\":"
                         "true,\"member_tier\":");
        ep_buf_json_string(out, n->tier != NULL ? n->tier : "gold");
        ep_buf_puts(out, "}");
    }
    if (variant & 4u) {
        ep_buf_puts(out, ",\"payment\":{\"method\":");
        ep_buf_json_string(out, n->payment != NULL ? n->payment : "cash");
        ep_buf_puts(out, "}");
    }
    ep_buf_puts(out, ",\"lines\":[{\"line_id\":\"x\",\"product_id\":\"other\","
                     "\"category_id\":\"other\",\"quantity\":1,"
                     "\"unit_price\":12500}");
    for (size_t i = 0; i < n->id_count; i++) {
        ep_buf_printf(out, ",{\"line_id\":\"l%zu\",\"product_id\":", i);
        ep_buf_json_string(out, n->ids[i]);
        ep_buf_puts(out, ",\"category_id\":");
        ep_buf_json_string(out, n->ids[i]);
        ep_buf_printf(out, ",\"quantity\":%u,\"unit_price\":%zu.%02u}",
                      1u + (variant + (unsigned)i) % 5u, 1000 * (i + 1) + 25,
                      (variant * 7u + (unsigned)i) % 100u);
    }
    ep_buf_puts(out, "]}");
}

/* The instants to judge: around the promotion's dates and hours. */
static size_t instants(const struct promo_record *r, char at[][40])
{
    int32_t day = 0;
    size_t n = 0;

    snprintf(at[n++], 40, "2026-03-06T12:00:00+07:00");
    if (ep_date_parse(r->start_date, &day) == EP_OK) {
        char date[EP_DATE_TEXT_MAX];
        ep_date_format(day, date);
        snprintf(at[n++], 40, "%sT%s+07:00", date,
                 r->time_start != NULL && strlen(r->time_start) == 8
                     ? r->time_start
                     : "09:30:00");
        snprintf(at[n++], 40, "%sT23:59:59+07:00", date);
    }
    if (ep_date_parse(r->end_date, &day) == EP_OK) {
        char date[EP_DATE_TEXT_MAX];
        ep_date_format(day + 1, date);
        snprintf(at[n++], 40, "%sT%s+07:00", date,
                 r->time_end != NULL && strlen(r->time_end) == 8 ? r->time_end
                                                                 : "01:00:00");
    }
    return n;
}

static void evaluate_one(const struct promo_set *set, const char *text,
                         size_t length)
{
    struct ep_arena arena;
    struct cart *cart = NULL;
    struct eval_result *result = NULL;
    struct ep_error err = { 0 };

    ep_arena_init(&arena, 1 << 14, (size_t)1 << 28);
    if (cart_parse(text, length, &arena, &cart, &err) == EP_OK) {
        FUZZ_CHECK(engine_evaluate(set, cart, FUZZ_NOW, &fuzz_limits, &arena,
                                   &result, &err) == EP_OK,
                   "evaluate: %s", err.message);
        fuzz_check_result(result, cart);
    }
    ep_arena_deinit(&arena);
}

static void evaluate_around(const struct promo_set *set,
                            const struct promo_record *r,
                            struct ep_arena *arena)
{
    struct names names;
    char at[4][40];
    size_t count = instants(r, at);
    struct ep_buf cart;

    collect_names(r, &names, arena);
    ep_buf_init(&cart, 1 << 20);
    for (size_t i = 0; i < count; i++) {
        for (unsigned variant = 0; variant < 8; variant += 1u + (i > 0)) {
            write_cart(&names, r, at[i], variant, &cart);
            FUZZ_CHECK(ep_buf_status(&cart) == EP_OK, "cart text");
            evaluate_one(set, cart.data, cart.len);
        }
    }
    ep_buf_deinit(&cart);
}

/* ---- the target ------------------------------------------------------- */

static void check_refusal(const struct ep_error *err)
{
    fuzz_check_failure(err->status, err);
    if (err->status == EP_ERR_NOMEM)
        return;
    FUZZ_CHECK(err->status == EP_ERR_INVALID, "refused with %s",
               ep_status_name(err->status));
    FUZZ_CHECK(err->field[0] != '\0', "refused without a field: %s",
               err->message);
    FUZZ_CHECK(strncmp(err->message, "promotion f0220000-", 19) == 0,
               "message does not start with the id: %s", err->message);
}

static void check_accepted(const struct promo_record *r, struct ep_arena *arena)
{
    struct engine_settings settings = { FUZZ_COMPANY_ID, FUZZ_STORE_ID };
    struct promo_set *set = NULL;
    struct ep_error err = { 0 };
    struct ep_buf out;
    json_t *written;

    FUZZ_CHECK(promo_set_build(r, 1, NULL, 0, &settings, NULL, NULL, &set,
                               &err) == EP_OK,
               "build: %s", err.message);
    FUZZ_CHECK(promo_set_count(set) == 1, "validated, but build skipped it");
    ep_buf_init(&out, 1 << 22);
    promo_record_write_json(promo_set_record(set, 0), &out);
    written = json_loadb(out.data, out.len, 0, NULL);
    FUZZ_CHECK(written != NULL, "record JSON does not parse: %s", out.data);
    json_decref(written);
    ep_buf_deinit(&out);
    for (int64_t t = FUZZ_NOW - 86400 * 3; t <= FUZZ_NOW + 86400 * 3;
         t += 3600 * 7)
        (void)promo_set_is_active_at(set, 0, t, BRAND_ID);
    evaluate_around(set, r, arena);
    promo_set_release(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *fields[FIELD_COUNT];
    struct promo_record record;
    struct ep_arena arena;
    struct ep_error err = { 0 };

    if (size > INPUT_MAX)
        return 0;
    fuzz_init();
    ep_arena_init(&arena, 1 << 14, (size_t)1 << 28);
    split_fields(data, size, &arena, fields);
    record_from_fields(fields, &record);
    ep_mem_failure_reset();
    if (engine_promotion_validate(&record, &err) == EP_OK)
        check_accepted(&record, &arena);
    else
        check_refusal(&err);
    ep_arena_deinit(&arena);
    return 0;
}
