/*
 * test_engine_properties.c - properties that must hold for every cart and
 * promotion set, checked over many generated ones (fixed seeds):
 *
 *  - line discounts sum to discount_total; totals add up;
 *  - no line total and no cart total below zero;
 *  - the same input gives byte-identical output;
 *  - the order of lines changes no amount (per line id);
 *  - adding a line no promotion can touch changes nothing else;
 *  - the best deal is never worse for the customer than any single allowed
 *    combination: all stackable promotions together, or one non-stackable
 *    promotion alone.
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
#include "engine/engine.h"
#include "sync/sync.h"

#define SETS          60
#define CARTS_PER_SET 40
#define PRODUCTS      12
#define CATEGORIES    4

static int distinct_carts; /* carts checked line by line when reordered */

static unsigned next(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static unsigned pick(unsigned *seed, unsigned n)
{
    return next(seed) % n;
}

static void product_name(unsigned p, char *out, size_t size)
{
    snprintf(out, size, "P%u", p);
}

static void category_name(unsigned p, char *out, size_t size)
{
    snprintf(out, size, "K%u", p % CATEGORIES);
}

static json_t *random_scope(unsigned *seed)
{
    char name[16];
    unsigned kind = pick(seed, 3);
    json_t *scope = json_object();

    if (kind == 0) {
        json_t *excluded = json_pack("[s]", "NOWHERE");
        json_object_set_new(scope, "apply_to", json_string("all"));
        if (pick(seed, 3) == 0) {
            category_name(pick(seed, PRODUCTS), name, sizeof(name));
            json_array_append_new(excluded, json_string(name));
        }
        json_object_set_new(scope, "exclude_categories", excluded);
    } else if (kind == 1) {
        category_name(pick(seed, PRODUCTS), name, sizeof(name));
        json_object_set_new(scope, "apply_to", json_string("category"));
        json_object_set_new(scope, "categories", json_pack("[s]", name));
    } else {
        json_t *list = json_array();
        for (unsigned k = 0; k < 1 + pick(seed, 4); k++) {
            product_name(pick(seed, PRODUCTS), name, sizeof(name));
            json_array_append_new(list, json_string(name));
        }
        json_object_set_new(scope, "apply_to", json_string("product"));
        json_object_set_new(scope, "products", list);
    }
    return scope;
}

static json_t *random_rules(unsigned *seed, const char **type,
                            const char **stage)
{
    static const char *const stages[] = { "item_level", "cart_level",
                                          "payment_level" };
    char name[16];

    *stage = stages[pick(seed, 3)];
    switch (pick(seed, 6)) {
    case 0:
        *type = "percent_discount";
        return json_pack("{s:s,s:f,s:o}", "type", "percent", "discount_percent",
                         5.0 + pick(seed, 40) * 1.25, "max_discount_amount",
                         pick(seed, 2) ? json_integer(15000) : json_null());
    case 1:
        *type = "fixed_discount";
        return json_pack("{s:s,s:i,s:i}", "type", "fixed", "discount_amount",
                         500 + pick(seed, 20) * 250, "min_purchase",
                         pick(seed, 2) * 30000);
    case 2:
        *type = "fixed_price";
        *stage = "item_level";
        return json_pack("{s:s,s:i}", "type", "fixed_price", "price",
                         1000 + pick(seed, 30) * 500);
    case 3:
        *type = "buy_x_get_y";
        *stage = "item_level";
        return json_pack("{s:s,s:i,s:i,s:i}", "type", "buy_x_get_y",
                         "buy_quantity", 1 + pick(seed, 3), "get_quantity",
                         1 + pick(seed, 2), "get_discount_percent",
                         pick(seed, 2) ? 100 : 50);
    case 4:
        *type = "bundle";
        *stage = "item_level";
        category_name(pick(seed, PRODUCTS), name, sizeof(name));
        return json_pack("{s:s,s:i,s:[{s:[s],s:i},{s:[s],s:i}]}", "type",
                         "bundle", "bundle_price",
                         10000 + pick(seed, 10) * 1000, "items", "categories",
                         name, "quantity", 1, "categories", "K1", "quantity",
                         1 + pick(seed, 2));
    default:
        *type = "tiered_discount";
        *stage = pick(seed, 2) ? "cart_level" : "payment_level";
        return json_pack("{s:s,s:[{s:i,s:f},{s:i,s:i}]}", "type", "tiered",
                         "tiers", "min_purchase", 20000, "discount_percent",
                         7.5, "min_purchase", 60000, "discount_amount", 9000);
    }
}

static json_t *random_promotion(unsigned *seed, int n)
{
    const char *type = NULL;
    const char *stage = NULL;
    json_t *rules = random_rules(seed, &type, &stage);
    char code[16];
    json_t *p;
    json_t *scope = random_scope(seed);

    if (strcmp(type, "bundle") == 0) {
        json_decref(scope);
        scope = json_pack("{s:s,s:[s]}", "apply_to", "all",
                          "exclude_categories", "NOWHERE");
    }
    snprintf(code, sizeof(code), "C%03d", n);
    p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b,s:b,s:s,"
                  "s:s,s:s,s:o,s:o}",
                  "id", code, "code", code, "name", code, "company_id", "C1",
                  "brand_id", "B1", "store_id", "S1", "promo_type", type,
                  "apply_to", "all", "execution_stage", stage,
                  "execution_priority", (json_int_t)(100 * (1 + pick(seed, 5))),
                  "is_auto_apply", 1, "is_stackable", (int)pick(seed, 2),
                  "start_date", "2026-01-01", "end_date", "2026-12-31",
                  "compiled_at", "2026-01-01 00:00:00", "rules", rules, "scope",
                  scope);
    if (pick(seed, 5) == 0)
        json_object_set_new(p, "targeting",
                            json_pack("{s:[s]}", "payment_methods", "qris"));
    return p;
}

static json_t *random_cart(unsigned *seed)
{
    json_t *lines = json_array();
    char product[16];
    char category[16];
    char id[16];
    unsigned n = 1 + pick(seed, 8);

    for (unsigned i = 0; i < n; i++) {
        unsigned p = pick(seed, PRODUCTS);
        product_name(p, product, sizeof(product));
        category_name(p, category, sizeof(category));
        snprintf(id, sizeof(id), "L%u", i);
        json_array_append_new(
            lines, json_pack("{s:s,s:s,s:s,s:i,s:f}", "line_id", id,
                             "product_id", product, "category_id", category,
                             "quantity", 1 + pick(seed, 4), "unit_price",
                             (double)(500 + pick(seed, 400) * 125) / 10.0));
    }
    return json_pack("{s:s,s:s,s:{s:s},s:o}", "brand_id", "B1", "at",
                     "2026-03-03T12:00:00+07:00", "payment", "method",
                     pick(seed, 2) ? "qris" : "cash", "lines", lines);
}

/* Builds a snapshot of the promotions selected by keep (NULL: all). */
static struct promo_set *build(json_t *promotions, const bool *keep,
                               struct ep_arena *arena)
{
    size_t n = json_array_size(promotions);
    struct promo_record *records = calloc(n + 1, sizeof(*records));
    struct engine_settings settings = { "C1", "S1" };
    struct promo_set *set = NULL;
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        if (keep != NULL && !keep[i])
            continue;
        assert_int_equal(sync_promotion_from_json(json_array_get(promotions, i),
                                                  arena, &records[count++],
                                                  NULL),
                         EP_OK);
    }
    assert_int_equal(promo_set_build(records, count, NULL, 0, &settings, NULL,
                                     NULL, &set, NULL),
                     EP_OK);
    free(records);
    return set;
}

/* Evaluates a cart (JSON) and returns the response text (malloc'd). */
static char *evaluate(const struct promo_set *set, const json_t *cart_json,
                      struct eval_result **result_out, struct ep_arena *arena)
{
    struct cart *cart = NULL;
    struct eval_result *result = NULL;
    struct ep_buf out;

    assert_int_equal(cart_from_json(cart_json, arena, &cart, NULL), EP_OK);
    assert_int_equal(engine_evaluate(set, cart, 0, NULL, arena, &result, NULL),
                     EP_OK);
    ep_buf_init(&out, 1 << 24);
    eval_result_write_json(result, cart, &out);
    if (result_out != NULL)
        *result_out = result;
    return ep_buf_take(&out, NULL);
}

static void check_sums(const struct eval_result *r)
{
    int64_t lines = 0;

    for (size_t i = 0; i < r->line_count; i++) {
        int64_t promos = 0;
        assert_true(r->lines[i].total >= 0);
        assert_int_equal(r->lines[i].total,
                         r->lines[i].subtotal - r->lines[i].discount);
        for (size_t k = 0; k < r->lines[i].promotion_count; k++)
            promos += r->lines[i].promotions[k].amount;
        assert_int_equal(promos, r->lines[i].discount);
        lines += r->lines[i].discount;
    }
    assert_int_equal(lines, r->discount_total);
    assert_true(r->total >= 0);
    assert_int_equal(r->total, r->subtotal - r->discount_total);
}

/* The amounts of a response by line id, as "id=discount;" text. */
static char *amounts_by_line(const char *response)
{
    json_t *root = json_loads(response, 0, NULL);
    json_t *lines = json_object_get(root, "lines");
    char **parts = calloc(json_array_size(lines) + 1, sizeof(*parts));
    char *joined = calloc(1, 64 * (json_array_size(lines) + 1));
    size_t n = json_array_size(lines);

    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(lines, i);
        char *dump = json_dumps(json_object_get(l, "promotions"), JSON_COMPACT);
        parts[i] = calloc(1, strlen(dump) + 64);
        sprintf(parts[i], "%s=%s;",
                json_string_value(json_object_get(l, "line_id")), dump);
        free(dump);
    }
    for (size_t a = 1; a < n; a++) {
        for (size_t b = a; b > 0 && strcmp(parts[b], parts[b - 1]) < 0; b--) {
            char *t = parts[b];
            parts[b] = parts[b - 1];
            parts[b - 1] = t;
        }
    }
    for (size_t i = 0; i < n; i++) {
        joined = realloc(joined, strlen(joined) + strlen(parts[i]) + 1);
        strcat(joined, parts[i]);
        free(parts[i]);
    }
    free(parts);
    json_decref(root);
    return joined;
}

/* discount_total and what each applied promotion took, as text. */
static const char *totals_of(const char *response)
{
    static char text[2][4096];
    static int which;
    json_t *root = json_loads(response, 0, NULL);
    char *applied = json_dumps(json_object_get(root, "applied"), JSON_COMPACT);
    char *t = text[which++ % 2];

    snprintf(t, 4096, "%g %s",
             json_number_value(json_object_get(root, "discount_total")),
             applied);
    free(applied);
    json_decref(root);
    return t;
}

/*
 * True when no two lines share a unit price or a subtotal. Ties between
 * lines go to the earlier line by design (SPEC.md 4.1 steps 4 and 6), so
 * only carts without such ties keep every line's amount when reordered;
 * totals and per-promotion amounts never depend on the order.
 */
static bool has_distinct_prices(const json_t *cart)
{
    const json_t *lines = json_object_get(cart, "lines");

    for (size_t i = 0; i < json_array_size(lines); i++) {
        const json_t *x = json_array_get(lines, i);
        double px = json_number_value(json_object_get(x, "unit_price"));
        double sx =
            px * (double)json_integer_value(json_object_get(x, "quantity"));
        for (size_t k = 0; k < i; k++) {
            const json_t *y = json_array_get(lines, k);
            double py = json_number_value(json_object_get(y, "unit_price"));
            double sy =
                py * (double)json_integer_value(json_object_get(y, "quantity"));
            if (px == py || sx == sy)
                return false;
        }
    }
    return true;
}

static json_t *reversed_lines(const json_t *cart)
{
    json_t *copy = json_deep_copy(cart);
    json_t *lines = json_object_get(copy, "lines");
    json_t *reversed = json_array();

    for (size_t i = json_array_size(lines); i > 0; i--)
        json_array_append(reversed, json_array_get(lines, i - 1));
    json_object_set_new(copy, "lines", reversed);
    return copy;
}

static json_t *with_untouchable_line(const json_t *cart)
{
    json_t *copy = json_deep_copy(cart);

    json_array_append_new(json_object_get(copy, "lines"),
                          json_pack("{s:s,s:s,s:s,s:i,s:i}", "line_id",
                                    "UNTOUCHED", "product_id", "OTHER",
                                    "category_id", "NOWHERE", "quantity", 3,
                                    "unit_price", 12345));
    return copy;
}

/* What a line no promotion touches must not change: the other lines, the
 * discount, applied and not_applied (the UNTOUCHED line is dropped). */
static char *without_untouched(const char *response)
{
    json_t *root = json_loads(response, 0, NULL);
    json_t *lines = json_object_get(root, "lines");
    size_t last = json_array_size(lines) - 1;
    char *text;

    if (strcmp(json_string_value(
                   json_object_get(json_array_get(lines, last), "line_id")),
               "UNTOUCHED") == 0)
        json_array_remove(lines, last);
    json_object_del(root, "subtotal");
    json_object_del(root, "total");
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

static void check_best_deal(json_t *promotions, const json_t *cart,
                            int64_t best, struct ep_arena *arena)
{
    size_t n = json_array_size(promotions);
    bool *keep = calloc(n + 1, sizeof(*keep));
    struct eval_result *r = NULL;
    struct promo_set *set;

    for (size_t i = 0; i < n; i++)
        keep[i] = json_is_true(
            json_object_get(json_array_get(promotions, i), "is_stackable"));
    set = build(promotions, keep, arena);
    free(evaluate(set, cart, &r, arena));
    assert_true(best >= r->discount_total);
    promo_set_release(set);
    for (size_t i = 0; i < n; i++) {
        if (json_is_true(
                json_object_get(json_array_get(promotions, i), "is_stackable")))
            continue;
        memset(keep, 0, n * sizeof(*keep));
        keep[i] = true;
        set = build(promotions, keep, arena);
        free(evaluate(set, cart, &r, arena));
        assert_true(best >= r->discount_total);
        promo_set_release(set);
    }
    free(keep);
}

static void check_cart(json_t *promotions, const struct promo_set *set,
                       const json_t *cart, struct ep_arena *arena)
{
    struct eval_result *r = NULL;
    char *first = evaluate(set, cart, &r, arena);
    char *again = evaluate(set, cart, NULL, arena);
    json_t *reversed = reversed_lines(cart);
    json_t *extended = with_untouchable_line(cart);
    char *turned = evaluate(set, reversed, NULL, arena);
    char *longer = evaluate(set, extended, NULL, arena);
    char *a = amounts_by_line(first);
    char *b = amounts_by_line(turned);
    char *c = without_untouched(longer);
    char *d = without_untouched(first);

    check_sums(r);
    assert_string_equal(first, again);
    assert_string_equal(totals_of(first), totals_of(turned));
    if (has_distinct_prices(cart)) {
        assert_string_equal(a, b);
        distinct_carts++;
    }
    assert_string_equal(c, d);
    check_best_deal(promotions, cart, r->discount_total, arena);
    free(first);
    free(again);
    free(turned);
    free(longer);
    free(a);
    free(b);
    free(c);
    free(d);
    json_decref(reversed);
    json_decref(extended);
}

static void test_properties(void **state)
{
    unsigned seed = 424242;

    (void)state;
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
    for (int s = 0; s < SETS; s++) {
        json_t *promotions = json_array();
        struct ep_arena arena;
        struct promo_set *set;
        ep_arena_init(&arena, 1 << 16, (size_t)1 << 30);
        for (int n = 0; n < 3 + (int)pick(&seed, 10); n++)
            json_array_append_new(promotions, random_promotion(&seed, n));
        set = build(promotions, NULL, &arena);
        for (int c = 0; c < CARTS_PER_SET; c++) {
            json_t *cart = random_cart(&seed);
            check_cart(promotions, set, cart, &arena);
            json_decref(cart);
            ep_arena_reset(&arena);
        }
        promo_set_release(set);
        ep_arena_deinit(&arena);
        json_decref(promotions);
    }
    /* The strong form of the order property ran on enough carts. */
    assert_true(distinct_carts > SETS * CARTS_PER_SET / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_properties),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
