/*
 * test_sync_payload.c - the in-place scanner and the body readers: the
 * records agree with the jansson path on every column, strings decode
 * escapes and UTF-8, JSON text columns are compacted, and malformed text
 * is refused with its line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/mem.h"
#include "fixture.h"

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_json(const char *a, const char *b)
{
    json_t *x = a ? json_loads(a, 0, NULL) : NULL;
    json_t *y = b ? json_loads(b, 0, NULL) : NULL;
    bool same = (x == NULL && y == NULL) || json_equal(x, y);

    json_decref(x);
    json_decref(y);
    return same;
}

static void scanner_agrees_with_jansson(void **state)
{
    size_t length = 0;
    char *body = fake_cms_make_full_body(FIX_STORE_ID, FIX_COMPANY_ID, "A", 0,
                                         200, &length);
    json_t *root = json_loads(body, 0, NULL);
    json_t *list =
        json_object_get(json_object_get(root, FIX_STORE_ID), "promotions");
    struct ep_arena arena;
    struct sync_payload p;
    struct ep_error err = { 0 };

    (void)state;
    ep_arena_init(&arena, 1 << 20, (size_t)1 << 30);
    assert_int_equal(
        sync_payload_parse_full(body, length, FIX_STORE_ID, &arena, &p, &err),
        EP_OK);
    assert_int_equal(p.promotion_count, 200);
    assert_int_equal(p.rejection_count, 0);
    assert_int_equal(p.holiday_count, 1);
    assert_string_equal(p.sync_token, "A-0-200");
    for (size_t i = 0; i < p.promotion_count; i++) {
        struct promo_record r;
        const struct promo_record *s = &p.promotions[i];
        assert_int_equal(
            sync_promotion_from_json(json_array_get(list, i), &arena, &r, &err),
            EP_OK);
        assert_true(same_text(r.id, s->id) && same_text(r.code, s->code) &&
                    same_text(r.name, s->name) &&
                    same_text(r.description, s->description) &&
                    same_text(r.time_start, s->time_start) &&
                    same_text(r.compiled_at, s->compiled_at));
        assert_true(same_json(r.rules_json, s->rules_json) &&
                    same_json(r.scope_json, s->scope_json) &&
                    same_json(r.targeting_json, s->targeting_json) &&
                    same_json(r.valid_days_json, s->valid_days_json));
        assert_true(r.is_auto_apply == s->is_auto_apply &&
                    r.execution_priority == s->execution_priority &&
                    r.has_max_uses_per_customer ==
                        s->has_max_uses_per_customer &&
                    r.max_uses_per_customer == s->max_uses_per_customer);
    }
    json_decref(root);
    ep_arena_deinit(&arena);
    free(body);
}

/* Parses text as a one-promotion incremental body. */
static enum ep_status parse_one(const char *text, struct ep_arena *arena,
                                struct sync_payload *p, struct ep_error *err)
{
    char *copy = ep_arena_strdup(arena, text);

    ep_error_clear(err);
    return sync_payload_parse_incremental(copy, strlen(text), arena, p, err);
}

static void strings_decode_and_json_columns_compact(void **state)
{
    struct ep_arena arena;
    struct sync_payload p;
    struct ep_error err = { 0 };
    const char *text =
        "{ \"updated\" : [ {\"id\": \"P1\", \"code\": \"C\\u00e9\\ud83d"
        "\\ude00\", \"name\": \"say \\\"hi\\\"\\n\\/ok\", \"company_id\": "
        "\"c\", \"brand_id\": \"b\", \"store_id\": \"s\", \"promo_type\": "
        "\"percent_discount\", \"execution_stage\": \"item_level\", "
        "\"start_date\": \"2026-01-01\", \"end_date\": \"2026-12-31\", "
        "\"compiled_at\": \"x\", \"rules\" : {\n  \"type\" : \"percent\" ,"
        "\n  \"note\": \"a b\\u0041\" } , \"valid_days\": [ \"monday\" ,"
        "\"friday\" ], \"is_active\": 0, \"extra\": {\"x\": [1, 2]}} ],"
        " \"deleted\": [\"D1\"] }";

    (void)state;
    ep_arena_init(&arena, 1 << 16, 1 << 24);
    assert_int_equal(parse_one(text, &arena, &p, &err), EP_OK);
    assert_int_equal(p.promotion_count, 1);
    assert_int_equal(p.rejection_count, 0);
    assert_string_equal(p.promotions[0].code, "C\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(p.promotions[0].name, "say \"hi\"\n/ok");
    assert_string_equal(p.promotions[0].rules_json,
                        "{\"type\":\"percent\",\"note\":\"a b\\u0041\"}");
    assert_string_equal(p.promotions[0].valid_days_json,
                        "[\"monday\",\"friday\"]");
    assert_string_equal(p.promotions[0].apply_to, "all");
    assert_false(p.promotions[0].is_active);
    assert_int_equal(p.deleted_count, 1);
    assert_string_equal(p.deleted_ids[0], "D1");
    ep_arena_deinit(&arena);
}

static void wrong_types_reject_one_promotion(void **state)
{
    struct ep_arena arena;
    struct sync_payload p;
    struct ep_error err = { 0 };

    (void)state;
    ep_arena_init(&arena, 1 << 16, 1 << 24);
    assert_int_equal(parse_one("{\"updated\": [{\"id\": \"P1\", \"code\": 7,"
                               " \"code\": \"x\"}, {\"id\": \"P2\", "
                               "\"max_uses\": 1.5}, {\"id\": \"P3\", "
                               "\"is_stackable\": \"yes\"}]}",
                               &arena, &p, &err),
                     EP_OK);
    assert_int_equal(p.promotion_count, 3);
    assert_int_equal(p.rejection_count, 3);
    assert_string_equal(p.rejections[0].id, "P1");
    assert_string_equal(p.rejections[0].field, "code");
    assert_string_equal(p.rejections[1].field, "max_uses");
    assert_string_equal(p.rejections[2].field, "is_stackable");
    ep_arena_deinit(&arena);
}

static void malformed_text_is_refused_with_its_place(void **state)
{
    static const struct {
        const char *text;
        const char *expected;
    } cases[] = {
        { "{\"updated\": [1, 2,]}", "column 19" },
        { "{\"updated\": []}\n  x", "after the document" },
        { "{\"a\": \"\\u0000\"}", "invalid escape" },
        { "{\"a\": \"\xff\"}", "invalid UTF-8" },
        { "{\"a\": \"\\ud800\"}", "invalid escape" },
        { "{\"a\": 01}", "expected ',' or '}'" },
        { "{\"a\": tru}", "invalid literal" },
        { "{\"a\":\n\n \"open", "unterminated string" },
        { "", "empty text" },
        { "[1]", "expected shape" },
        { "{\"updated\": {}}", "updated: expected an array" },
    };
    struct ep_arena arena;
    struct sync_payload p;
    struct ep_error err = { 0 };
    char deep[200];

    (void)state;
    ep_arena_init(&arena, 1 << 16, 1 << 24);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse_one(cases[i].text, &arena, &p, &err),
                         EP_ERR_INVALID);
        if (strstr(err.message, cases[i].expected) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message,
                     cases[i].expected);
    }
    memset(deep, '[', sizeof(deep));
    memcpy(deep, "{\"x\":", 5);
    deep[sizeof(deep) - 1] = '\0';
    assert_int_equal(parse_one(deep, &arena, &p, &err), EP_ERR_INVALID);
    assert_non_null(strstr(err.message, "nesting too deep"));
    ep_arena_deinit(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scanner_agrees_with_jansson),
        cmocka_unit_test(strings_decode_and_json_columns_compact),
        cmocka_unit_test(wrong_types_reject_one_promotion),
        cmocka_unit_test(malformed_text_is_refused_with_its_place),
    };

    ep_mem_install_json_allocator();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
