/*
 * case_runner.c - runs the engine's data cases: one JSON file per
 * behaviour, holding promotions, a cart and the expected response (a
 * subset). Used by test-engine-cases (tests/data/engine/) and
 * test-engine-doc-examples (tests/data/engine_examples/, the worked examples
 * of docs/engine.md).
 *
 * Case format (defaults filled here keep cases short):
 *   description, timezone ("Asia/Jakarta"), store_id ("S1"), company_id
 *   ("C1"), holidays [], usage {code: {total, day, customer}}, now (RFC 3339
 *   instant used when the cart has no "at"), promotions [P...], cart {...},
 *   expect {...} (matched as a subset: objects by key, arrays by length
 *   and element, numbers by value).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_runner.h"
#include "common/localtime.h"
#include "common/mem.h"
#include "engine/engine.h"
#include "support.h"
#include "sync/sync.h"

#define MAX_CASES 1024

struct case_state {
    char path[1024];
};

/* Fills the defaults of one promotion of a case. */
static void promotion_defaults(json_t *p, const char *company_id,
                               const char *store_id)
{
    const char *code = json_string_value(json_object_get(p, "code"));
    char id[128];
    json_t *scope;

    snprintf(id, sizeof(id), "id-%s", code ? code : "none");
#define SET_DEFAULT(key, value)          \
    if (json_object_get(p, key) == NULL) \
    json_object_set_new(p, key, value)
    SET_DEFAULT("id", json_string(id));
    SET_DEFAULT("name", json_string(code ? code : "none"));
    SET_DEFAULT("company_id", json_string(company_id));
    SET_DEFAULT("brand_id", json_string("B1"));
    SET_DEFAULT("store_id", json_string(store_id));
    SET_DEFAULT("execution_stage", json_string("item_level"));
    SET_DEFAULT("execution_priority", json_integer(500));
    SET_DEFAULT("is_active", json_true());
    SET_DEFAULT("is_auto_apply", json_true());
    SET_DEFAULT("start_date", json_string("2026-01-01"));
    SET_DEFAULT("end_date", json_string("2026-12-31"));
    SET_DEFAULT("valid_days", json_array());
    SET_DEFAULT("scope", json_pack("{s:s}", "apply_to", "all"));
    SET_DEFAULT("targeting", json_object());
    SET_DEFAULT("compiled_at", json_string("2026-01-01 00:00:00"));
    scope = json_object_get(p, "scope");
    if (json_object_get(p, "apply_to") == NULL) {
        const json_t *apply = json_object_get(scope, "apply_to");
        json_object_set_new(p, "apply_to",
                            json_string(json_is_string(apply)
                                            ? json_string_value(apply)
                                            : "all"));
    }
#undef SET_DEFAULT
}

static const char *text_or(const json_t *root, const char *key,
                           const char *fallback)
{
    const char *v = json_string_value(json_object_get(root, key));

    return v != NULL ? v : fallback;
}

/* Usage counts of a case, by promotion code. */
static enum ep_status case_counts(void *ctx, const struct promo_record *r,
                                  const char *usage_date,
                                  const char *customer_id,
                                  struct engine_usage_counts *out)
{
    const json_t *usage = json_object_get(ctx, r->code);

    (void)usage_date;
    (void)customer_id;
    out->total = json_integer_value(json_object_get(usage, "total"));
    out->day = json_integer_value(json_object_get(usage, "day"));
    out->customer = json_integer_value(json_object_get(usage, "customer"));
    return EP_OK;
}

static void fail_skip(void *ctx, const struct promo_record *record,
                      const struct ep_error *why)
{
    (void)ctx;
    fail_msg("promotion %s did not compile: %s (%s)", record->code,
             why->message, why->field);
}

static struct promo_set *build_set(json_t *root, struct ep_arena *arena)
{
    json_t *promotions = json_object_get(root, "promotions");
    const json_t *holidays = json_object_get(root, "holidays");
    size_t n = json_array_size(promotions);
    struct promo_record *records = calloc(n + 1, sizeof(*records));
    struct holiday_record *days =
        calloc(json_array_size(holidays) + 1, sizeof(*days));
    struct engine_settings settings = { text_or(root, "company_id", "C1"),
                                        text_or(root, "store_id", "S1") };
    struct promo_set *set = NULL;
    struct ep_error err;

    ep_error_clear(&err);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(promotions, i);
        promotion_defaults(p, settings.company_id, settings.store_id);
        if (sync_promotion_from_json(p, arena, &records[i], &err) != EP_OK)
            fail_msg("promotions[%zu]: %s", i, err.message);
    }
    for (size_t i = 0; i < json_array_size(holidays); i++)
        days[i].date = json_string_value(
            json_object_get(json_array_get(holidays, i), "date"));
    assert_int_equal(promo_set_build(records, n, days,
                                     json_array_size(holidays), &settings,
                                     fail_skip, NULL, &set, &err),
                     EP_OK);
    free(records);
    free(days);
    return set;
}

/* Evaluates the case's cart; returns the response as parsed JSON. */
static json_t *evaluate_case(json_t *root, const struct promo_set *set,
                             struct ep_arena *arena)
{
    struct engine_limits limits = { case_counts,
                                    json_object_get(root, "usage") };
    struct eval_result *result = NULL;
    struct cart *cart = NULL;
    struct ep_error err;
    struct ep_buf out;
    int64_t now = 0;
    json_t *actual;

    ep_error_clear(&err);
    if (ep_time_parse_rfc3339(text_or(root, "now", "2026-01-30T12:00:00+07:00"),
                              &now) != EP_OK)
        fail_msg("bad 'now'");
    if (cart_from_json(json_object_get(root, "cart"), arena, &cart, &err) !=
        EP_OK)
        fail_msg("cart: %s (%s)", err.message, err.field);
    assert_int_equal(
        engine_evaluate(set, cart, now, &limits, arena, &result, &err), EP_OK);
    ep_buf_init(&out, 16 << 20);
    eval_result_write_json(result, cart, &out);
    assert_int_equal(ep_buf_status(&out), EP_OK);
    actual = json_loads(out.data, 0, NULL);
    if (actual == NULL)
        fail_msg("the engine wrote invalid JSON: %s", out.data);
    ep_buf_deinit(&out);
    return actual;
}

static void run_case(void **state)
{
    struct case_state *cs = *state;
    json_error_t jerr;
    json_t *root = json_load_file(cs->path, 0, &jerr);
    struct ep_arena arena;
    struct promo_set *set;
    json_t *actual;
    bool ok;

    if (root == NULL)
        fail_msg("%s: %s (line %d)", cs->path, jerr.text, jerr.line);
    assert_int_equal(
        ep_tz_apply(text_or(root, "timezone", "Asia/Jakarta"), NULL), EP_OK);
    ep_arena_init(&arena, 64 * 1024, (size_t)1 << 30);
    set = build_set(root, &arena);
    actual = evaluate_case(root, set, &arena);
    ok = test_json_subset(json_object_get(root, "expect"), actual, "expect");
    if (!ok) {
        char *text = json_dumps(actual, JSON_INDENT(1));
        fprintf(stderr, "case %s\nactual: %s\n", cs->path, text);
        free(text);
    }
    json_decref(actual);
    promo_set_release(set);
    ep_arena_deinit(&arena);
    json_decref(root);
    assert_true(ok);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const struct CMUnitTest *)a)->name,
                  ((const struct CMUnitTest *)b)->name);
}

int case_runner_main(const char *folder)
{
    char dir[1024];
    struct CMUnitTest *tests = calloc(MAX_CASES, sizeof(*tests));
    struct case_state *states = calloc(MAX_CASES, sizeof(*states));
    size_t count = 0;
    struct dirent *entry;
    DIR *d;
    int failed;

    test_source_path(folder, dir, sizeof(dir));
    d = opendir(dir);
    if (d == NULL || tests == NULL || states == NULL) {
        fprintf(stderr, "cannot read %s\n", dir);
        return 1;
    }
    while ((entry = readdir(d)) != NULL && count < MAX_CASES) {
        size_t len = strlen(entry->d_name);
        if (len < 6 || strcmp(entry->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(states[count].path, sizeof(states[count].path), "%s/%s", dir,
                 entry->d_name);
        tests[count].name = strdup(entry->d_name);
        tests[count].test_func = run_case;
        tests[count].initial_state = &states[count];
        count++;
    }
    closedir(d);
    qsort(tests, count, sizeof(*tests), compare_names);
    failed = _cmocka_run_group_tests(folder, tests, count, NULL, NULL);
    for (size_t i = 0; i < count; i++)
        free((void *)tests[i].name);
    free(tests);
    free(states);
    return failed;
}
