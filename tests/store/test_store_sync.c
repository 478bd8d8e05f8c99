/*
 * test_store_sync.c - store_sync_apply on both engines: added, updated and
 * deleted counts; a full sync deletes what did not come; codes moving
 * between promotions; current_uses as the CMS's count plus local uses;
 * local columns surviving a re-sync; holidays by source; the cursor and
 * data version; usage rows never touched; failures changing nothing; and
 * every column of a promotion coming back as it went in.
 */
#include "fixture.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

struct loaded {
    struct ep_arena arena;
    struct promo_record *items;
    size_t count;
};

static void load(struct store *store, struct loaded *out)
{
    struct ep_error err;

    ep_error_clear(&err);
    ep_arena_init(&out->arena, 4096, 1 << 22);
    if (store_promotions_load(store, &out->arena, &out->items, &out->count,
                              &err) != EP_OK)
        fail_msg("load: %s", err.message);
}

static const struct promo_record *find(const struct loaded *l, const char *id)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    }
    return NULL;
}

static void apply_ok(struct store *store, const struct store_sync_batch *b,
                     int64_t added, int64_t updated, int64_t deleted)
{
    struct store_sync_counts counts = { -1, -1, -1 };
    struct ep_error err;

    ep_error_clear(&err);
    if (store_sync_apply(store, b, &counts, &err) != EP_OK)
        fail_msg("sync: %s (%s)", err.message, err.field);
    assert_int_equal(counts.added, added);
    assert_int_equal(counts.updated, updated);
    assert_int_equal(counts.deleted, deleted);
}

static void test_full_sync_counts_and_deletes(void **state)
{
    struct test_db *db = *state;
    struct promo_record p[3];
    struct store_sync_batch b;
    struct loaded l;

    fixture_promo(&p[0], "p-a", "A");
    fixture_promo(&p[1], "p-b", "B");
    fixture_promo(&p[2], "p-c", "C");
    fixture_batch(&b, true, p, 3);
    apply_ok(db->store, &b, 3, 0, 0);
    /* B changes, C is gone, D is new. */
    p[1].name = "Diskon baru";
    fixture_promo(&p[2], "p-d", "D");
    fixture_batch(&b, true, p, 3);
    apply_ok(db->store, &b, 1, 2, 1);
    load(db->store, &l);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0].id, "p-a");
    assert_string_equal(l.items[1].name, "Diskon baru");
    assert_string_equal(l.items[2].id, "p-d");
    assert_null(find(&l, "p-c"));
    ep_arena_deinit(&l.arena);
    /* An empty full sync empties the table. */
    fixture_batch(&b, true, NULL, 0);
    apply_ok(db->store, &b, 0, 0, 3);
    load(db->store, &l);
    assert_int_equal(l.count, 0);
    ep_arena_deinit(&l.arena);
}

static void test_full_sync_keeps_other_companies(void **state)
{
    struct test_db *db = *state;
    struct promo_record p[2];
    struct store_sync_batch b;
    struct loaded l;

    fixture_promo(&p[0], "p-a", "A");
    fixture_promo(&p[1], "p-x", "X");
    p[1].company_id = "co-2";
    fixture_batch(&b, false, p, 2);
    apply_ok(db->store, &b, 2, 0, 0);
    fixture_batch(&b, true, p, 0);
    apply_ok(db->store, &b, 0, 0, 1);
    load(db->store, &l);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].id, "p-x");
    ep_arena_deinit(&l.arena);
}

static void test_incremental_sync(void **state)
{
    struct test_db *db = *state;
    struct promo_record p[3];
    const char *deleted[] = { "p-b", "p-unknown" };
    struct store_sync_batch b;
    struct loaded l;

    fixture_promo(&p[0], "p-a", "A");
    fixture_promo(&p[1], "p-b", "B");
    fixture_promo(&p[2], "p-c", "C");
    fixture_batch(&b, true, p, 3);
    apply_ok(db->store, &b, 3, 0, 0);
    p[0].execution_priority = 7;
    fixture_promo(&p[1], "p-e", "E");
    fixture_batch(&b, false, p, 2);
    b.deleted_ids = deleted;
    b.deleted_count = 2;
    apply_ok(db->store, &b, 1, 1, 1);
    load(db->store, &l);
    assert_int_equal(l.count, 3);
    assert_int_equal(find(&l, "p-a")->execution_priority, 7);
    assert_non_null(find(&l, "p-c"));
    assert_non_null(find(&l, "p-e"));
    assert_null(find(&l, "p-b"));
    ep_arena_deinit(&l.arena);
}

static void test_code_moves_inside_one_sync(void **state)
{
    struct test_db *db = *state;
    struct promo_record p[2];
    struct store_sync_batch b;
    struct loaded l;

    fixture_promo(&p[0], "p-a", "HEMAT");
    fixture_batch(&b, true, p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    /* p-b takes HEMAT (and comes first); p-a gets a new code. */
    fixture_promo(&p[0], "p-b", "HEMAT");
    fixture_promo(&p[1], "p-a", "HEMAT2");
    fixture_batch(&b, true, p, 2);
    apply_ok(db->store, &b, 1, 1, 0);
    /* p-a is dropped and p-c takes its code in the same full sync. */
    fixture_promo(&p[0], "p-b", "HEMAT");
    fixture_promo(&p[1], "p-c", "HEMAT2");
    fixture_batch(&b, true, p, 2);
    apply_ok(db->store, &b, 1, 1, 1);
    load(db->store, &l);
    assert_int_equal(l.count, 2);
    assert_string_equal(find(&l, "p-b")->code, "HEMAT");
    assert_string_equal(find(&l, "p-c")->code, "HEMAT2");
    ep_arena_deinit(&l.arena);
}

/* Writes a checkout's use and a voided one and a reported one. */
static void use_three_ways(struct test_db *db)
{
    struct store_usage_row r;
    struct ep_error err;
    int64_t rows = 0;

    ep_error_clear(&err);
    fixture_usage(&r, "p-a", "A", "tx-1", "2026-02-02", "cust-1");
    assert_int_equal(fixture_use(db->store, &r), EP_OK);
    fixture_usage(&r, "p-a", "A", "tx-2", "2026-02-02", "cust-1");
    r.used_at = "2026-02-03 08:00:00";
    assert_int_equal(fixture_use(db->store, &r), EP_OK);
    fixture_usage(&r, "p-a", "A", "tx-3", "2026-02-02", "cust-2");
    r.used_at = "2026-02-03 08:30:00";
    assert_int_equal(fixture_use(db->store, &r), EP_OK);
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    assert_int_equal(store_transaction_void(db->store, "tx-2",
                                            "2026-02-03 09:00:00", "{}", &rows,
                                            &err),
                     EP_OK);
    assert_int_equal(store_write_commit(db->store, &err), EP_OK);
    assert_int_equal(rows, 1);
    fixture_exec(db, "UPDATE promotion_usage SET reported_at = "
                     "'2026-02-03 10:00:00' WHERE transaction_id = 'tx-3'");
}

static void test_current_uses_counts_local_unreported(void **state)
{
    struct test_db *db = *state;
    struct promo_record p;
    struct store_sync_batch b;
    struct loaded l;

    fixture_promo(&p, "p-a", "A");
    p.current_uses = 5;
    fixture_batch(&b, true, &p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    use_three_ways(db);
    load(db->store, &l);
    /* 5 + three uses - one voided. */
    assert_int_equal(l.items[0].current_uses, 7);
    assert_string_equal(l.items[0].last_used_at, "2026-02-03 08:30:00");
    ep_arena_deinit(&l.arena);
    /* The CMS now counts 7; locally only tx-1 is unvoided and unreported. */
    p.current_uses = 7;
    apply_ok(db->store, &b, 0, 1, 0);
    load(db->store, &l);
    assert_int_equal(l.items[0].current_uses, 8);
    assert_string_equal(l.items[0].last_used_at, "2026-02-03 08:30:00");
    assert_string_equal(l.items[0].synced_at, "2026-02-01 06:00:00");
    ep_arena_deinit(&l.arena);
}

static void test_last_used_at_from_cms_wins_when_sent(void **state)
{
    struct test_db *db = *state;
    struct promo_record p;
    struct store_sync_batch b;
    struct store_usage_row r;
    struct loaded l;

    fixture_promo(&p, "p-a", "A");
    fixture_batch(&b, true, &p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    fixture_usage(&r, "p-a", "A", "tx-1", "2026-02-02", NULL);
    assert_int_equal(fixture_use(db->store, &r), EP_OK);
    p.last_used_at = "2026-02-05 01:02:03";
    apply_ok(db->store, &b, 0, 1, 0);
    load(db->store, &l);
    assert_string_equal(l.items[0].last_used_at, "2026-02-05 01:02:03");
    ep_arena_deinit(&l.arena);
}

static void test_usage_survives_delete_and_resend(void **state)
{
    struct test_db *db = *state;
    struct promo_record p;
    struct store_sync_batch b;
    struct store_usage_counts counts;
    struct store_usage_summary sum;
    struct ep_error err;
    struct loaded l;

    ep_error_clear(&err);
    fixture_promo(&p, "p-a", "A");
    p.current_uses = 10;
    fixture_batch(&b, true, &p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    use_three_ways(db);
    fixture_batch(&b, true, NULL, 0);
    apply_ok(db->store, &b, 0, 0, 1);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_usage"),
                     3);
    assert_int_equal(store_usage_summary_get(db->store, "p-a", "2026-02-02",
                                             "cust-1", &sum, &err),
                     EP_OK);
    assert_false(sum.promotion_known);
    assert_int_equal(sum.local_uses, 2);
    assert_int_equal(sum.voided_uses, 1);
    assert_int_equal(sum.customer_uses, 1);
    /* Sent again: the per-customer count and the local use are back. */
    fixture_batch(&b, true, &p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    assert_int_equal(store_usage_counts_get(db->store, "p-a", "2026-02-02",
                                            "cust-1", &counts, &err),
                     EP_OK);
    assert_int_equal(counts.customer, 1);
    assert_int_equal(counts.day, 2);
    assert_int_equal(counts.total, 11);
    load(db->store, &l);
    assert_null(l.items[0].last_used_at);
    ep_arena_deinit(&l.arena);
}

static void holidays_of(struct store *store, char *out, size_t size)
{
    struct holiday_record *h = NULL;
    struct ep_arena arena;
    struct ep_error err;
    size_t count = 0;

    ep_error_clear(&err);
    ep_arena_init(&arena, 1024, 1 << 20);
    assert_int_equal(store_holidays_load(store, &arena, &h, &count, &err),
                     EP_OK);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        strncat(out, h[i].date, size - strlen(out) - 1);
        strncat(out, "=", size - strlen(out) - 1);
        strncat(out, h[i].name ? h[i].name : "NULL", size - strlen(out) - 1);
        strncat(out, ";", size - strlen(out) - 1);
    }
    ep_arena_deinit(&arena);
}

static void test_holidays_replaced_by_source(void **state)
{
    struct test_db *db = *state;
    const struct holiday_record imported[] = {
        { "2026-03-19", "Nyepi" }, { "2026-12-25", "Natal (impor)" }
    };
    const struct holiday_record cms1[] = { { "2026-12-25", "Hari Raya Natal" },
                                           { "2026-08-17", NULL } };
    const struct holiday_record cms2[] = { { "2026-01-01", "Tahun Baru" } };
    struct store_sync_batch b;
    struct ep_error err;
    char text[512];

    ep_error_clear(&err);
    assert_int_equal(
        store_holidays_replace(db->store, "import", imported, 2, &err), EP_OK);
    fixture_batch(&b, true, NULL, 0);
    b.replace_holidays = true;
    b.holidays = cms1;
    b.holiday_count = 2;
    apply_ok(db->store, &b, 0, 0, 0);
    holidays_of(db->store, text, sizeof(text));
    assert_string_equal(text, "2026-03-19=Nyepi;2026-08-17=NULL;"
                              "2026-12-25=Hari Raya Natal;");
    b.holidays = cms2;
    b.holiday_count = 1;
    apply_ok(db->store, &b, 0, 0, 0);
    holidays_of(db->store, text, sizeof(text));
    assert_string_equal(text, "2026-01-01=Tahun Baru;2026-03-19=Nyepi;");
    /* A sync that does not replace holidays leaves them. */
    b.replace_holidays = false;
    apply_ok(db->store, &b, 0, 0, 0);
    holidays_of(db->store, text, sizeof(text));
    assert_string_equal(text, "2026-01-01=Tahun Baru;2026-03-19=Nyepi;");
}

static void state_of(struct store *store, struct ep_arena *arena,
                     struct store_sync_state *out)
{
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(
        store_sync_state_get(store, "co-1", "st-1", arena, out, &err), EP_OK);
}

static void test_cursor_and_data_version(void **state)
{
    struct test_db *db = *state;
    struct store_sync_batch b;
    struct store_sync_state st;
    struct ep_arena arena;
    struct ep_error err;
    int64_t version = -1;

    ep_error_clear(&err);
    ep_arena_init(&arena, 1024, 1 << 20);
    state_of(db->store, &arena, &st);
    assert_null(st.cursor);
    assert_null(st.last_success_at);
    assert_int_equal(st.data_version, 0);
    assert_int_equal(store_data_version(db->store, &version, &err), EP_OK);
    assert_int_equal(version, 0);
    fixture_batch(&b, true, NULL, 0);
    b.cursor = "tok-1";
    b.server_time = "2026-02-01T06:00:00Z";
    apply_ok(db->store, &b, 0, 0, 0);
    state_of(db->store, &arena, &st);
    assert_string_equal(st.cursor, "tok-1");
    assert_string_equal(st.server_time, "2026-02-01T06:00:00Z");
    assert_string_equal(st.last_success_at, "2026-02-01 06:00:00");
    assert_int_equal(st.data_version, 1);
    b.cursor = NULL;
    b.server_time = NULL;
    b.synced_at = "2026-02-01 07:00:00";
    apply_ok(db->store, &b, 0, 0, 0);
    state_of(db->store, &arena, &st);
    assert_string_equal(st.cursor, "tok-1");
    assert_string_equal(st.last_success_at, "2026-02-01 07:00:00");
    assert_int_equal(st.data_version, 2);
    assert_int_equal(store_data_version(db->store, &version, &err), EP_OK);
    assert_int_equal(version, 2);
    ep_arena_deinit(&arena);
}

/* A failed sync: the status, and nothing changed. */
static void apply_fails(struct test_db *db, const struct store_sync_batch *b,
                        enum ep_status expected, const char *field)
{
    const char *dump_sql = "SELECT id, code, name FROM promotions ORDER BY id";
    struct ep_error err;
    int64_t version_before = -1;
    int64_t version_after = -1;
    char *before = fixture_dump(db, dump_sql);
    char *after;

    ep_error_clear(&err);
    assert_int_equal(store_data_version(db->store, &version_before, &err),
                     EP_OK);
    assert_int_equal(store_sync_apply(db->store, b, NULL, &err), expected);
    if (field != NULL)
        assert_string_equal(err.field, field);
    after = fixture_dump(db, dump_sql);
    assert_string_equal(before, after);
    ep_error_clear(&err);
    assert_int_equal(store_data_version(db->store, &version_after, &err),
                     EP_OK);
    assert_int_equal(version_before, version_after);
    free(before);
    free(after);
}

static void test_failed_sync_changes_nothing(void **state)
{
    struct test_db *db = *state;
    struct promo_record p[3];
    struct store_sync_batch b;

    fixture_promo(&p[0], "p-a", "A");
    fixture_batch(&b, true, p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    /* The same id twice. */
    fixture_promo(&p[0], "p-b", "B");
    fixture_promo(&p[1], "p-b", "B2");
    fixture_batch(&b, true, p, 2);
    apply_fails(db, &b, EP_ERR_CONFLICT, NULL);
    /* Two promotions of one store with one code. */
    fixture_promo(&p[1], "p-c", "B");
    fixture_batch(&b, true, p, 2);
    apply_fails(db, &b, EP_ERR_CONFLICT, "promotions[1]");
    /* A date that is not one, and a code too long for its column. */
    fixture_promo(&p[1], "p-c", "C");
    p[1].end_date = "2026-02-30";
    apply_fails(db, &b, EP_ERR_INVALID, "promotions[1].end_date");
    fixture_promo(&p[1], "p-c",
                  "C123456789012345678901234567890123456789012345678901");
    apply_fails(db, &b, EP_ERR_INVALID, "promotions[1].code");
}

static void test_every_column_round_trips(void **state)
{
    struct test_db *db = *state;
    struct promo_record p;
    struct store_sync_batch b;
    const struct promo_record *q;
    struct loaded l;

    fixture_promo(&p, "98c93090-79b3-45f9-84e7-f7b802e5405e", "Kopi\"50%");
    p.name = "Kopi 50% — hari Jumat";
    p.description = "Diskon 'kopi' ☕";
    p.terms_conditions = "S&K berlaku";
    p.promo_type = "some_future_type";
    p.execution_stage = "payment_level";
    p.execution_priority = -3;
    p.is_active = false;
    p.is_auto_apply = false;
    p.require_voucher = p.member_only = p.is_stackable = true;
    p.exclude_holidays = true;
    p.time_start = "22:00:00";
    p.time_end = "02:00:00";
    p.valid_days_json = "[\"friday\",\"saturday\"]";
    p.rules_json = "{\"type\":\"x\",\"n\":[1,2.5,\"é\"]}";
    p.scope_json = NULL;
    p.targeting_json = NULL;
    p.has_max_uses = p.has_max_uses_per_customer = true;
    p.max_uses = 1000000;
    p.max_uses_per_customer = 0;
    p.current_uses = 3;
    fixture_batch(&b, true, &p, 1);
    apply_ok(db->store, &b, 1, 0, 0);
    load(db->store, &l);
    q = &l.items[0];
    assert_string_equal(q->id, p.id);
    assert_string_equal(q->code, p.code);
    assert_string_equal(q->name, p.name);
    assert_string_equal(q->description, p.description);
    assert_string_equal(q->terms_conditions, p.terms_conditions);
    assert_string_equal(q->company_id, "co-1");
    assert_string_equal(q->brand_id, "br-1");
    assert_string_equal(q->store_id, "st-1");
    assert_string_equal(q->promo_type, "some_future_type");
    assert_string_equal(q->apply_to, "all");
    assert_string_equal(q->execution_stage, "payment_level");
    assert_int_equal(q->execution_priority, -3);
    assert_false(q->is_active || q->is_auto_apply);
    assert_true(q->require_voucher && q->member_only && q->is_stackable &&
                q->exclude_holidays);
    assert_string_equal(q->start_date, "2026-01-01");
    assert_string_equal(q->end_date, "2026-12-31");
    assert_string_equal(q->time_start, "22:00:00");
    assert_string_equal(q->time_end, "02:00:00");
    assert_string_equal(q->valid_days_json, p.valid_days_json);
    assert_string_equal(q->rules_json, p.rules_json);
    assert_null(q->scope_json);
    assert_null(q->targeting_json);
    assert_true(q->has_max_uses && q->has_max_uses_per_customer);
    assert_false(q->has_max_uses_per_day);
    assert_int_equal(q->max_uses, 1000000);
    assert_int_equal(q->max_uses_per_customer, 0);
    assert_int_equal(q->current_uses, 3);
    assert_string_equal(q->compiled_at, "2026-01-29 22:55:10");
    assert_string_equal(q->synced_at, "2026-02-01 06:00:00");
    assert_null(q->last_used_at);
    ep_arena_deinit(&l.arena);
}

int main(void)
{
#define T(name) \
    cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_full_sync_counts_and_deletes),
        T(test_full_sync_keeps_other_companies),
        T(test_incremental_sync),
        T(test_code_moves_inside_one_sync),
        T(test_current_uses_counts_local_unreported),
        T(test_last_used_at_from_cms_wins_when_sent),
        T(test_usage_survives_delete_and_resend),
        T(test_holidays_replaced_by_source),
        T(test_cursor_and_data_version),
        T(test_failed_sync_changes_nothing),
        T(test_every_column_round_trips),
    };
#undef T

    return fixture_run("store-sync", tests, sizeof(tests) / sizeof(tests[0]));
}
