/* fixture.c - the store fixture of fixture.h, on either engine. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/localtime.h"
#include "support.h"
#include "sync/sync.h"

static void set_default(json_t *p, const char *key, json_t *value)
{
    if (json_object_get(p, key) == NULL)
        json_object_set_new(p, key, value);
    else
        json_decref(value);
}

static void fill_defaults(json_t *p)
{
    char id[96];

    snprintf(id, sizeof(id), "id-%s",
             json_string_value(json_object_get(p, "code")));
    set_default(p, "id", json_string(id));
    set_default(p, "name", json_string("promo"));
    set_default(p, "company_id", json_string(FIXTURE_COMPANY));
    set_default(p, "brand_id", json_string("B1"));
    set_default(p, "store_id", json_string(FIXTURE_STORE));
    set_default(p, "apply_to", json_string("all"));
    set_default(p, "execution_stage", json_string("item_level"));
    set_default(p, "is_auto_apply", json_true());
    set_default(p, "start_date", json_string("2026-01-01"));
    set_default(p, "end_date", json_string("2027-12-31"));
    set_default(p, "compiled_at", json_string("2026-01-01 00:00:00"));
}

static void load_promotions(struct fixture *f, const char *json)
{
    json_t *array = json_loads(json, 0, NULL);
    size_t n = json_array_size(array);
    struct promo_record *records = calloc(n + 1, sizeof(*records));
    struct store_sync_batch batch;
    struct ep_arena arena;
    struct ep_error err;

    assert_non_null(array);
    ep_error_clear(&err);
    ep_arena_init(&arena, 65536, (size_t)1 << 30);
    for (size_t i = 0; i < n; i++) {
        fill_defaults(json_array_get(array, i));
        assert_int_equal(sync_promotion_from_json(json_array_get(array, i),
                                                  &arena, &records[i], &err),
                         EP_OK);
    }
    memset(&batch, 0, sizeof(batch));
    batch.full = true;
    batch.company_id = FIXTURE_COMPANY;
    batch.store_id = FIXTURE_STORE;
    batch.items = records;
    batch.item_count = n;
    batch.synced_at = "2026-01-01 00:00:00";
    assert_int_equal(store_sync_apply(f->store, &batch, NULL, &err), EP_OK);
    ep_arena_deinit(&arena);
    free(records);
    json_decref(array);
}

char *fixture_full_sync_body(const char *promotions_json, const char *token)
{
    json_t *array = json_loads(promotions_json, 0, NULL);
    json_t *body;
    char *text;

    assert_non_null(array);
    for (size_t i = 0; i < json_array_size(array); i++)
        fill_defaults(json_array_get(array, i));
    body = json_pack("{s:{s:o,s:s}}", FIXTURE_STORE, "promotions", array,
                     "sync_token", token);
    assert_non_null(body);
    text = json_dumps(body, JSON_COMPACT);
    assert_non_null(text);
    json_decref(body);
    return text;
}

void fixture_reload(struct fixture *f)
{
    struct ep_config config;
    struct ep_error err;

    promo_set_release(f->set);
    f->set = NULL;
    memset(&config, 0, sizeof(config));
    config.company_id = FIXTURE_COMPANY;
    config.store_id = FIXTURE_STORE;
    ep_error_clear(&err);
    assert_int_equal(sync_snapshot_load(f->store, &config, &f->set, &err),
                     EP_OK);
}

void fixture_open(struct fixture *f, const char *promotions_json)
{
    struct ep_error err;

    memset(f, 0, sizeof(*f));
    ep_error_clear(&err);
    assert_int_equal(ep_tz_apply("Asia/Jakarta", NULL), EP_OK);
    test_engine_db_create(&f->db);
    if (store_open(f->db.url, NULL, &f->store, &err) != EP_OK)
        fail_msg("store_open %s: %s", f->db.url, err.message);
    assert_int_equal(store_migrate(f->store, 0, NULL, &err), EP_OK);
    load_promotions(f, promotions_json);
    fixture_reload(f);
}

void fixture_close(struct fixture *f)
{
    promo_set_release(f->set);
    store_close(f->store);
    test_engine_db_drop(&f->db);
}

struct cart *fixture_cart(const char *json, struct ep_arena *arena)
{
    struct cart *cart = NULL;
    struct ep_error err;

    ep_error_clear(&err);
    if (cart_parse(json, strlen(json), arena, &cart, &err) != EP_OK)
        fail_msg("cart: %s", err.message);
    return cart;
}

char *fixture_sql(const struct fixture *f, const char *sql)
{
    return test_engine_db_sql(&f->db, sql);
}

long fixture_sql_int(const struct fixture *f, const char *sql)
{
    return (long)test_engine_db_sql_int(&f->db, sql);
}

void fixture_check_integrity(const struct fixture *f)
{
    struct store *store = NULL;
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(store_open(f->db.url, NULL, &store, &err), EP_OK);
    if (store_integrity_check(store, &err) != EP_OK)
        fail_msg("integrity check: %s", err.message);
    store_close(store);
}
