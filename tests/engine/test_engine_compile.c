/*
 * test_engine_compile.c - the rule compiler: every promotion that does not
 * validate is refused with its id, the field and what was expected; an
 * unknown type compiles to an unsupported promotion; a snapshot skips the
 * invalid ones and keeps the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/localtime.h"
#include "common/mem.h"
#include "engine/engine.h"

/* A valid promotion with one column or JSON text replaced. */
struct variant {
    const char *what;     /* the column changed */
    const char *value;    /* its new value */
    const char *field;    /* the field the error must name */
    const char *expected; /* words the message must hold */
};

static const struct variant bad[] = {
    { "rules", "{\"type\":\"percent\",\"discount_percent\":0}",
      "rules.discount_percent", "more than 0" },
    { "rules", "{\"type\":\"percent\",\"discount_percent\":12.345}",
      "rules.discount_percent", "2 decimals" },
    { "rules", "{\"type\":\"percent\",\"discount_percent\":101}",
      "rules.discount_percent", "at most 100" },
    { "rules", "{\"type\":\"percent\"}", "rules.discount_percent", "percent" },
    { "rules", "{\"type\":\"fixed\",\"discount_amount\":5}", "rules.type",
      "\"percent\"" },
    { "rules",
      "{\"type\":\"percent\",\"discount_percent\":10,"
      "\"max_discount_amount\":-5}",
      "rules.max_discount_amount", "negative" },
    { "rules",
      "{\"type\":\"percent\",\"discount_percent\":10,"
      "\"min_quantity\":2.5}",
      "rules.min_quantity", "whole number" },
    { "rules", "not json", "rules", "not valid JSON" },
    { "rules", "[1,2]", "rules", "JSON object" },
    { "scope", "{\"apply_to\":\"everything\"}", "scope.apply_to",
      "all, category or product" },
    { "scope", "{\"apply_to\":\"product\",\"products\":\"A\"}",
      "scope.products", "array of ids" },
    { "scope", "{\"apply_to\":\"product\",\"products\":[\"A\",7]}",
      "scope.products[1]", "non-empty string" },
    { "targeting", "{\"stores\":\"some\"}", "targeting.stores",
      "\"all\" or an array" },
    { "targeting", "{\"customer_type\":\"vip\"}", "targeting.customer_type",
      "member" },
    { "targeting", "{\"member_only\":\"yes\"}", "targeting.member_only",
      "true or false" },
    { "valid_days", "[\"funday\"]", "valid_days[0]", "weekday" },
    { "valid_days", "\"monday\"", "valid_days", "array" },
    { "start_date", "2026-02-30", "start_date", "YYYY-MM-DD" },
    { "end_date", "2025-12-31", "end_date", "on or after start_date" },
    { "time_start", "25:00:00", "time_start", "HH:MM:SS" },
    { "execution_stage", "checkout", "execution_stage", "item_level" },
    { "code", "", "code", "non-empty" },
};

static void base_record(struct promo_record *r)
{
    memset(r, 0, sizeof(*r));
    r->id = "P-42";
    r->code = "DSC10";
    r->name = "Diskon 10%";
    r->company_id = "C1";
    r->brand_id = "B1";
    r->store_id = "S1";
    r->promo_type = "percent_discount";
    r->apply_to = "all";
    r->execution_stage = "item_level";
    r->execution_priority = 500;
    r->is_active = true;
    r->is_auto_apply = true;
    r->start_date = "2026-01-01";
    r->end_date = "2026-12-31";
    r->rules_json = "{\"type\":\"percent\",\"discount_percent\":10}";
    r->scope_json = "{\"apply_to\":\"all\"}";
    r->targeting_json = "{}";
    r->compiled_at = "2026-01-01 00:00:00";
}

static void apply_variant(struct promo_record *r, const struct variant *v)
{
    if (strcmp(v->what, "rules") == 0)
        r->rules_json = v->value;
    else if (strcmp(v->what, "scope") == 0)
        r->scope_json = v->value;
    else if (strcmp(v->what, "targeting") == 0)
        r->targeting_json = v->value;
    else if (strcmp(v->what, "valid_days") == 0)
        r->valid_days_json = v->value;
    else if (strcmp(v->what, "start_date") == 0)
        r->start_date = v->value;
    else if (strcmp(v->what, "end_date") == 0)
        r->end_date = v->value;
    else if (strcmp(v->what, "time_start") == 0)
        r->time_start = v->value;
    else if (strcmp(v->what, "execution_stage") == 0)
        r->execution_stage = v->value;
    else if (strcmp(v->what, "code") == 0)
        r->code = v->value;
    else
        fail_msg("unknown variant %s", v->what);
}

static void test_valid_promotion_compiles(void **state)
{
    struct promo_record r;
    struct ep_error err;

    (void)state;
    base_record(&r);
    ep_error_clear(&err);
    assert_int_equal(engine_promotion_validate(&r, &err), EP_OK);
}

static void test_each_bad_field_is_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct promo_record r;
        struct ep_error err;
        base_record(&r);
        apply_variant(&r, &bad[i]);
        ep_error_clear(&err);
        assert_int_equal(engine_promotion_validate(&r, &err), EP_ERR_INVALID);
        if (strcmp(err.field, bad[i].field) != 0 ||
            strstr(err.message, bad[i].expected) == NULL ||
            strncmp(err.message, "promotion P-42: ", 16) != 0)
            fail_msg("%s=%s: got field '%s' message '%s'", bad[i].what,
                     bad[i].value, err.field, err.message);
    }
}

static void test_each_type_validates_its_rules(void **state)
{
    static const struct {
        const char *type;
        const char *rules;
        const char *field;
    } rules[] = {
        { "fixed_discount", "{\"type\":\"fixed\",\"discount_amount\":0}",
          "rules.discount_amount" },
        { "fixed_discount",
          "{\"type\":\"fixed\",\"discount_amount\":5,\"per\":\"item\"}",
          "rules.per" },
        { "fixed_price", "{\"type\":\"fixed_price\"}", "rules.price" },
        { "buy_x_get_y",
          "{\"type\":\"buy_x_get_y\",\"buy_quantity\":0,\"get_quantity\":1,"
          "\"get_discount_percent\":100}",
          "rules.buy_quantity" },
        { "buy_x_get_y",
          "{\"type\":\"buy_x_get_y\",\"buy_quantity\":1,\"get_quantity\":1,"
          "\"get_discount_percent\":100,\"get_scope\":[]}",
          "rules.get_scope" },
        { "bundle", "{\"type\":\"bundle\",\"items\":[],\"bundle_price\":1}",
          "rules.items" },
        { "bundle",
          "{\"type\":\"bundle\",\"items\":[{\"quantity\":1}],"
          "\"bundle_price\":1}",
          "rules.items[0].products" },
        { "bundle",
          "{\"type\":\"bundle\",\"items\":[{\"products\":[\"A\"]}],"
          "\"bundle_price\":1}",
          "rules.items[0].quantity" },
        { "tiered_discount",
          "{\"type\":\"tiered\",\"tiers\":[{\"min_purchase\""
          ":100}]}",
          "rules.tiers[0].discount_percent" },
        { "tiered_discount",
          "{\"type\":\"tiered\",\"tiers\":[{\"min_purchase\":100,"
          "\"discount_amount\":5},{\"min_purchase\":100,"
          "\"discount_percent\":5}]}",
          "rules.tiers" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        struct promo_record r;
        struct ep_error err;
        base_record(&r);
        r.promo_type = rules[i].type;
        r.rules_json = rules[i].rules;
        ep_error_clear(&err);
        assert_int_equal(engine_promotion_validate(&r, &err), EP_ERR_INVALID);
        if (strcmp(err.field, rules[i].field) != 0)
            fail_msg("%s: expected field %s, got %s (%s)", rules[i].rules,
                     rules[i].field, err.field, err.message);
    }
}

static void test_unknown_type_is_unsupported_not_invalid(void **state)
{
    struct promo_record r;
    struct ep_error err;

    (void)state;
    base_record(&r);
    r.promo_type = "cashback_points";
    r.rules_json = "{\"type\":\"cashback_points\",\"points\":5}";
    ep_error_clear(&err);
    assert_int_equal(engine_promotion_validate(&r, &err), EP_OK);
}

static int skipped;

static void count_skip(void *ctx, const struct promo_record *record,
                       const struct ep_error *why)
{
    (void)ctx;
    assert_string_equal(record->id, "BAD");
    assert_string_equal(why->field, "rules.discount_percent");
    skipped++;
}

static void test_snapshot_skips_invalid(void **state)
{
    struct promo_record records[2];
    struct promo_set *set = NULL;
    struct engine_settings settings = { "C1", "S1" };

    (void)state;
    base_record(&records[0]);
    base_record(&records[1]);
    records[1].id = "BAD";
    records[1].code = "BAD";
    records[1].rules_json = "{\"type\":\"percent\",\"discount_percent\":0}";
    skipped = 0;
    assert_int_equal(promo_set_build(records, 2, NULL, 0, &settings, count_skip,
                                     NULL, &set, NULL),
                     EP_OK);
    assert_int_equal(skipped, 1);
    assert_int_equal(promo_set_count(set), 1);
    assert_string_equal(promo_set_record(set, 0)->id, "P-42");
    assert_int_equal(promo_set_find_code(set, "  dsc10 "), 0);
    assert_int_equal(promo_set_find_code(set, "BAD"), SIZE_MAX);
    promo_set_release(set);
}

/* Every allocation of a build fails in turn: a clean error, no leak. */
static void test_build_survives_each_failed_allocation(void **state)
{
    struct promo_record records[3];
    struct engine_settings settings = { "C1", "S1" };
    long failures = 0;

    (void)state;
    for (int i = 0; i < 3; i++)
        base_record(&records[i]);
    records[1].id = "P-2";
    records[1].code = "B2G1";
    records[1].promo_type = "buy_x_get_y";
    records[1].rules_json = "{\"type\":\"buy_x_get_y\",\"buy_quantity\":2,"
                            "\"get_quantity\":1,\"get_discount_percent\":100}";
    records[2].id = "P-3";
    records[2].code = "TIER";
    records[2].execution_stage = "cart_level";
    records[2].promo_type = "tiered_discount";
    records[2].rules_json = "{\"type\":\"tiered\",\"tiers\":[{\"min_purchase\""
                            ":100,\"discount_percent\":5}]}";
    ep_mem_install_json_allocator();
    for (long nth = 1; nth < 100000; nth++) {
        struct promo_set *set = NULL;
        struct ep_error err;
        enum ep_status status;
        ep_error_clear(&err);
        ep_mem_fail_at(nth);
        status = promo_set_build(records, 3, NULL, 0, &settings, NULL, NULL,
                                 &set, &err);
        ep_mem_fail_at(0);
        if (status == EP_OK && promo_set_count(set) == 3) {
            promo_set_release(set);
            break;
        }
        /* Out of memory is never mistaken for an invalid promotion. */
        if (status != EP_ERR_NOMEM || set != NULL)
            fail_msg("allocation %ld: status %d, snapshot %s", nth, (int)status,
                     set ? "built" : "none");
        assert_int_equal(err.status, EP_ERR_NOMEM);
        failures++;
    }
    assert_true(failures > 10);
}

/* Every allocation of a cart parse and an evaluation fails in turn. */
static void test_evaluate_survives_each_failed_allocation(void **state)
{
    static const char cart_text[] =
        "{\"brand_id\":\"B1\",\"at\":\"2026-03-02T10:00:00+07:00\","
        "\"voucher_codes\":[\"NOPE\",\"dsc10\"],\"lines\":["
        "{\"line_id\":\"1\",\"product_id\":\"A\",\"quantity\":3,"
        "\"unit_price\":1000},{\"line_id\":\"2\",\"product_id\":\"B\","
        "\"quantity\":1,\"unit_price\":2500.5}]}";
    struct promo_record records[2];
    struct engine_settings settings = { "C1", "S1" };
    struct promo_set *set = NULL;
    long failures = 0;

    (void)state;
    base_record(&records[0]);
    base_record(&records[1]);
    records[1].id = "P-2";
    records[1].code = "B2G1";
    records[1].promo_type = "buy_x_get_y";
    records[1].rules_json = "{\"type\":\"buy_x_get_y\",\"buy_quantity\":2,"
                            "\"get_quantity\":1,\"get_discount_percent\":100}";
    records[0].is_stackable = true;
    records[1].is_stackable = true;
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
    assert_int_equal(
        promo_set_build(records, 2, NULL, 0, &settings, NULL, NULL, &set, NULL),
        EP_OK);
    ep_mem_install_json_allocator();
    for (long nth = 1; nth < 100000; nth++) {
        struct ep_arena arena;
        struct cart *cart = NULL;
        struct eval_result *result = NULL;
        struct ep_error err;
        enum ep_status status;
        size_t applied;
        ep_arena_init(&arena, 256, 1 << 24);
        ep_error_clear(&err);
        ep_mem_fail_at(nth);
        status = cart_parse(cart_text, strlen(cart_text), &arena, &cart, &err);
        if (status == EP_OK)
            status = engine_evaluate(set, cart, 0, NULL, &arena, &result, &err);
        ep_mem_fail_at(0);
        applied = status == EP_OK ? result->applied_count : 0;
        ep_arena_deinit(&arena);
        if (status == EP_OK) {
            assert_int_equal(applied, 2);
            break;
        }
        if (status != EP_ERR_NOMEM || err.status != EP_ERR_NOMEM)
            fail_msg("allocation %ld: status %d (%s)", nth, (int)status,
                     err.message);
        failures++;
    }
    assert_true(failures > 10);
    promo_set_release(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_promotion_compiles),
        cmocka_unit_test(test_each_bad_field_is_named),
        cmocka_unit_test(test_each_type_validates_its_rules),
        cmocka_unit_test(test_unknown_type_is_unsupported_not_invalid),
        cmocka_unit_test(test_snapshot_skips_invalid),
        cmocka_unit_test(test_build_survives_each_failed_allocation),
        cmocka_unit_test(test_evaluate_survives_each_failed_allocation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
