/*
 * test_store_usage.c - usage on both engines: counts per total, day and
 * customer with voided uses left out; checkouts stored, read and voided
 * (twice); one use per (transaction, promotion); money exact to the
 * hundredth; a rolled-back write leaving nothing; the write lock keeping
 * a second writer out; check-then-insert from several threads holding a
 * limit exactly; column widths; and, on PostgreSQL, a connection lost
 * before COMMIT.
 */
#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

static void sync_promotions(struct store *store, const char *const *ids,
                            size_t count, int64_t max_uses)
{
    struct promo_record p[8];
    struct store_sync_batch b;
    struct ep_error err;

    assert_true(count <= 8);
    ep_error_clear(&err);
    for (size_t i = 0; i < count; i++) {
        fixture_promo(&p[i], ids[i], ids[i]);
        p[i].has_max_uses = max_uses > 0;
        p[i].max_uses = max_uses;
    }
    fixture_batch(&b, true, p, count);
    if (store_sync_apply(store, &b, NULL, &err) != EP_OK)
        fail_msg("sync: %s", err.message);
}

static struct store_usage_counts counts_of(struct store *store, const char *id,
                                           const char *date,
                                           const char *customer)
{
    struct store_usage_counts c;
    struct ep_error err;

    ep_error_clear(&err);
    if (store_usage_counts_get(store, id, date, customer, &c, &err) != EP_OK)
        fail_msg("counts: %s", err.message);
    return c;
}

static void use(struct store *store, const char *id, const char *txn,
                const char *date, const char *customer)
{
    struct store_usage_row r;

    fixture_usage(&r, id, id, txn, date, customer);
    assert_int_equal(fixture_use(store, &r), EP_OK);
}

static void void_txn(struct store *store, const char *txn, int64_t rows)
{
    struct ep_error err;
    int64_t voided = -1;

    ep_error_clear(&err);
    assert_int_equal(store_write_begin(store, &err), EP_OK);
    assert_int_equal(store_transaction_void(store, txn, "2026-02-03 00:00:00",
                                            "{\"voided\":true}", &voided, &err),
                     EP_OK);
    assert_int_equal(store_write_commit(store, &err), EP_OK);
    assert_int_equal(voided, rows);
}

static void test_usage_counts(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1", "P2" };
    struct store_usage_counts c;

    sync_promotions(db->store, ids, 2, 0);
    use(db->store, "P1", "t1", "2026-02-01", "cust-1");
    use(db->store, "P1", "t2", "2026-02-01", "cust-2");
    use(db->store, "P1", "t3", "2026-02-02", "cust-1");
    use(db->store, "P1", "t4", "2026-02-02", NULL);
    use(db->store, "P2", "t1", "2026-02-01", "cust-1");
    c = counts_of(db->store, "P1", "2026-02-01", "cust-1");
    assert_int_equal(c.total, 4);
    assert_int_equal(c.day, 2);
    assert_int_equal(c.customer, 2);
    c = counts_of(db->store, "P1", "2026-02-02", NULL);
    assert_int_equal(c.day, 2);
    assert_int_equal(c.customer, 0);
    void_txn(db->store, "t3", 1);
    c = counts_of(db->store, "P1", "2026-02-02", "cust-1");
    assert_int_equal(c.total, 3);
    assert_int_equal(c.day, 1);
    assert_int_equal(c.customer, 1);
    c = counts_of(db->store, "P2", "2026-02-01", "cust-1");
    assert_int_equal(c.total, 1);
    c = counts_of(db->store, "nope", "2026-02-01", "cust-1");
    assert_int_equal(c.total, 0);
    assert_int_equal(c.day, 0);
    assert_int_equal(c.customer, 0);
}

static void insert_checkout(struct store *store, const char *txn)
{
    struct store_transaction t = {
        .transaction_id = txn,
        .order_number = "ORD-7",
        .store_id = "st-1",
        .brand_id = "br-1",
        .usage_date = "2026-02-01",
        .response_json = "{\"committed\":true,\"discount_total\":12.35}",
        .created_at = "2026-02-01 10:11:12",
    };
    struct store_usage_row r;
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(store_write_begin(store, &err), EP_OK);
    fixture_usage(&r, "P1", "P1", txn, "2026-02-01", "cust-1");
    assert_int_equal(store_usage_insert(store, &r, &err), EP_OK);
    fixture_usage(&r, "P2", "P2", txn, "2026-02-01", "cust-1");
    assert_int_equal(store_usage_insert(store, &r, &err), EP_OK);
    assert_int_equal(store_transaction_insert(store, &t, &err), EP_OK);
    if (store_write_commit(store, &err) != EP_OK)
        fail_msg("commit: %s", err.message);
}

static void test_transaction_insert_get_void(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1", "P2" };
    struct store_transaction t;
    struct ep_arena arena;
    struct ep_error err;
    bool found = true;

    ep_error_clear(&err);
    ep_arena_init(&arena, 1024, 1 << 20);
    sync_promotions(db->store, ids, 2, 0);
    assert_int_equal(
        store_transaction_get(db->store, "tx-9", &arena, &t, &found, &err),
        EP_OK);
    assert_false(found);
    insert_checkout(db->store, "tx-9");
    assert_int_equal(
        store_transaction_get(db->store, "tx-9", &arena, &t, &found, &err),
        EP_OK);
    assert_true(found);
    assert_string_equal(t.transaction_id, "tx-9");
    assert_string_equal(t.order_number, "ORD-7");
    assert_string_equal(t.usage_date, "2026-02-01");
    assert_string_equal(t.created_at, "2026-02-01 10:11:12");
    assert_string_equal(t.response_json,
                        "{\"committed\":true,\"discount_total\":12.35}");
    assert_null(t.voided_at);
    assert_null(t.void_response_json);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total, 1);
    void_txn(db->store, "tx-9", 2);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total, 0);
    assert_int_equal(counts_of(db->store, "P2", "2026-02-01", NULL).total, 0);
    assert_int_equal(
        store_transaction_get(db->store, "tx-9", &arena, &t, &found, &err),
        EP_OK);
    assert_string_equal(t.voided_at, "2026-02-03 00:00:00");
    assert_string_equal(t.void_response_json, "{\"voided\":true}");
    /* A second void finds nothing left to give back. */
    void_txn(db->store, "tx-9", 0);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total, 0);
    assert_int_equal(fixture_int(db,
                                 "SELECT COUNT(*) FROM promotion_usage WHERE "
                                 "voided_at IS NOT NULL"),
                     2);
    ep_arena_deinit(&arena);
}

static void test_one_use_per_transaction_and_promotion(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1", "P2" };
    struct store_transaction t = { .transaction_id = "tx-1",
                                   .store_id = "st-1",
                                   .brand_id = "br-1",
                                   .usage_date = "2026-02-01",
                                   .response_json = "{}",
                                   .created_at = "2026-02-01 00:00:00" };
    struct store_usage_row r;
    struct ep_error err;

    ep_error_clear(&err);
    sync_promotions(db->store, ids, 2, 0);
    use(db->store, "P1", "tx-1", "2026-02-01", NULL);
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    fixture_usage(&r, "P1", "P1", "tx-1", "2026-02-01", NULL);
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_ERR_CONFLICT);
    /* The transaction goes on after the refused row, as on SQLite. */
    ep_error_clear(&err);
    fixture_usage(&r, "P2", "P2", "tx-1", "2026-02-01", NULL);
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_OK);
    assert_int_equal(store_transaction_insert(db->store, &t, &err), EP_OK);
    assert_int_equal(store_transaction_insert(db->store, &t, &err),
                     EP_ERR_CONFLICT);
    ep_error_clear(&err);
    assert_int_equal(store_write_commit(db->store, &err), EP_OK);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total, 1);
    assert_int_equal(counts_of(db->store, "P2", "2026-02-01", NULL).total, 1);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM pos_transactions"),
                     1);
}

/* Writes one row of promotion id with the given amounts. */
static void use_amounts(struct store *store, const char *id, const char *txn,
                        int64_t discount, int64_t original)
{
    struct store_usage_row r;

    fixture_usage(&r, id, id, txn, "2026-02-01", NULL);
    r.discount_amount = discount;
    r.original_amount = original;
    r.final_amount = original - discount;
    assert_int_equal(fixture_use(store, &r), EP_OK);
}

static int64_t discount_total(struct store *store, const char *id)
{
    struct store_usage_summary sum;
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(
        store_usage_summary_get(store, id, "2026-02-01", NULL, &sum, &err),
        EP_OK);
    return sum.discount_total;
}

static void test_money_is_exact(void **state)
{
    struct test_db *db = *state;
    const int64_t amounts[] = { 1, 1235, 999999999999, 10, 20, 0, 100 };
    const char *const texts[] = { "0.01", "12.35", "9999999999.99", "0.10",
                                  "0.20", "0.00",  "1.00" };
    const char *const ids[] = { "P1" };
    char txn[32];
    char sql[160];
    char *text;

    sync_promotions(db->store, ids, 1, 0);
    for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
        snprintf(txn, sizeof(txn), "tx-%zu", i);
        use_amounts(db->store, txn, txn, amounts[i], 999999999999);
        assert_int_equal(discount_total(db->store, txn), amounts[i]);
        /* The column holds currency units, as the seed's DECIMAL(15,2). */
        snprintf(sql, sizeof(sql),
                 "SELECT ROUND(discount_amount * 100) FROM "
                 "promotion_usage WHERE transaction_id = '%s'",
                 txn);
        assert_int_equal(fixture_int(db, sql), amounts[i]);
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*) FROM promotion_usage "
                 "WHERE transaction_id = '%s' AND discount_amount = %s",
                 txn, texts[i]);
        assert_int_equal(fixture_int(db, sql), 1);
    }
    snprintf(sql, sizeof(sql),
             "SELECT final_amount FROM promotion_usage "
             "WHERE transaction_id = 'tx-1'");
    text = fixture_text(db, sql);
    assert_string_equal(text, "9999999987.64");
    free(text);
    /* 0.10 + 0.20 is 0.30 exactly, and so are the sums of many. */
    for (int i = 0; i < 30; i++) {
        snprintf(txn, sizeof(txn), "sum-%d", i);
        use_amounts(db->store, "P1", txn, i % 3 == 0 ? 10 : 20, 100);
    }
    assert_int_equal(discount_total(db->store, "P1"), 10 * 10 + 20 * 20);
}

static void test_rollback_leaves_nothing(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1" };
    struct store_transaction t = { .transaction_id = "tx-r",
                                   .store_id = "st-1",
                                   .brand_id = "br-1",
                                   .usage_date = "2026-02-01",
                                   .response_json = "{}",
                                   .created_at = "2026-02-01 00:00:00" };
    const char *dump_sql = "SELECT id, current_uses, last_used_at FROM "
                           "promotions ORDER BY id";
    struct store_usage_row r;
    struct ep_error err;
    char *before;
    char *after;

    ep_error_clear(&err);
    sync_promotions(db->store, ids, 1, 0);
    before = fixture_dump(db, dump_sql);
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    fixture_usage(&r, "P1", "P1", "tx-r", "2026-02-01", "cust-1");
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_OK);
    assert_int_equal(store_transaction_insert(db->store, &t, &err), EP_OK);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", "cust-1").total,
                     1);
    store_write_rollback(db->store);
    store_write_rollback(db->store);
    after = fixture_dump(db, dump_sql);
    assert_string_equal(before, after);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_usage"),
                     0);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM pos_transactions"),
                     0);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", "cust-1").total,
                     0);
    free(before);
    free(after);
}

static void test_write_lock_keeps_second_writer_out(void **state)
{
    struct test_db *db = *state;
    struct store_options options = { .busy_timeout_ms = 200 };
    struct store *other = fixture_open(db, &options);
    struct ep_error err;

    ep_error_clear(&err);
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    assert_int_equal(store_write_begin(other, &err), EP_ERR_DB_BUSY);
    store_write_rollback(other);
    ep_error_clear(&err);
    /* Readers are not kept out. */
    assert_int_equal(counts_of(other, "P1", "2026-02-01", NULL).total, 0);
    assert_int_equal(store_write_commit(db->store, &err), EP_OK);
    assert_int_equal(store_write_begin(other, &err), EP_OK);
    store_write_rollback(other);
    store_close(other);
}

/* ---- several writers ---------------------------------------------------- */

#define RACE_THREADS 4
#define RACE_TRIES   6
#define RACE_LIMIT   9

struct racer {
    const struct test_db *db; /* whose database */
    int number;               /* names the transactions */
    int committed;            /* uses this thread wrote */
    enum ep_status failure;   /* first unexpected status */
};

/* One checkout: under the lock, check the limit, write, commit. */
static enum ep_status race_once(struct store *store, const char *txn,
                                bool *wrote)
{
    struct store_usage_counts c;
    struct store_usage_row r;
    struct ep_error err;
    enum ep_status status;

    ep_error_clear(&err);
    *wrote = false;
    status = store_write_begin(store, &err);
    if (status != EP_OK)
        return status;
    status = store_usage_counts_get(store, "P1", "2026-02-01", NULL, &c, &err);
    if (status == EP_OK && c.total < RACE_LIMIT) {
        fixture_usage(&r, "P1", "P1", txn, "2026-02-01", NULL);
        status = store_usage_insert(store, &r, &err);
        *wrote = status == EP_OK;
    }
    if (status == EP_OK)
        return store_write_commit(store, &err);
    store_write_rollback(store);
    *wrote = false;
    return status;
}

static void *race(void *arg)
{
    struct racer *racer = arg;
    struct store_options options = { .busy_timeout_ms = 30000 };
    struct store *store = NULL;
    struct ep_error err;
    char txn[32];
    bool wrote;

    ep_error_clear(&err);
    if (store_open(racer->db->url, &options, &store, &err) != EP_OK) {
        racer->failure = err.status;
        return NULL;
    }
    for (int i = 0; i < RACE_TRIES && racer->failure == EP_OK; i++) {
        snprintf(txn, sizeof(txn), "race-%d-%d", racer->number, i);
        racer->failure = race_once(store, txn, &wrote);
        racer->committed += wrote ? 1 : 0;
    }
    store_close(store);
    return NULL;
}

static void test_check_then_insert_holds_the_limit(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1" };
    struct racer racers[RACE_THREADS];
    pthread_t threads[RACE_THREADS];
    int total = 0;

    sync_promotions(db->store, ids, 1, RACE_LIMIT);
    for (int i = 0; i < RACE_THREADS; i++) {
        racers[i] = (struct racer){ .db = db, .number = i };
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]),
                         0);
    }
    for (int i = 0; i < RACE_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(racers[i].failure, EP_OK);
        total += racers[i].committed;
    }
    assert_int_equal(total, RACE_LIMIT);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total,
                     RACE_LIMIT);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_usage"),
                     RACE_LIMIT);
}

/* ---- input and failures ------------------------------------------------- */

static void test_widths_are_checked_alike(void **state)
{
    struct test_db *db = *state;
    struct store_usage_row r;
    struct ep_error err;

    ep_error_clear(&err);
    fixture_usage(&r, "P1", "P1", "tx-1", "2026-02-01", NULL);
    r.customer_phone = "+62 812 3456 7890 123";
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_ERR_INVALID);
    assert_string_equal(err.field, "customer_phone");
    ep_error_clear(&err);
    /* Twenty characters of two bytes each fit VARCHAR(20). */
    r.customer_phone = "éééééééééééééééééééé";
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_OK);
    r.transaction_id = "tx-2";
    r.usage_date = "2026-13-01";
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_ERR_INVALID);
    assert_string_equal(err.field, "usage_date");
    store_write_rollback(db->store);
}

static void test_lost_connection_before_commit(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1" };
    struct store_usage_row r;
    struct ep_error err;
    enum ep_status status;

    if (!fixture_is_postgres(db))
        skip();
    ep_error_clear(&err);
    sync_promotions(db->store, ids, 1, 0);
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    fixture_usage(&r, "P1", "P1", "tx-lost", "2026-02-01", NULL);
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_OK);
    fixture_kill_connections(db);
    status = store_write_commit(db->store, &err);
    assert_true(status == EP_ERR_IO || status == EP_ERR_DB);
    assert_true(ep_error_is_set(&err));
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_usage"),
                     0);
    assert_int_equal(fixture_int(db, "SELECT current_uses FROM promotions"), 0);
    /* The next call reconnects. */
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total, 0);
    use(db->store, "P1", "tx-again", "2026-02-01", NULL);
    assert_int_equal(counts_of(db->store, "P1", "2026-02-01", NULL).total, 1);
}

static void test_lost_connection_mid_transaction(void **state)
{
    struct test_db *db = *state;
    const char *const ids[] = { "P1" };
    struct store_usage_row r;
    struct ep_error err;

    if (!fixture_is_postgres(db))
        skip();
    ep_error_clear(&err);
    sync_promotions(db->store, ids, 1, 0);
    assert_int_equal(store_write_begin(db->store, &err), EP_OK);
    fixture_kill_connections(db);
    fixture_usage(&r, "P1", "P1", "tx-lost", "2026-02-01", NULL);
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_ERR_IO);
    ep_error_clear(&err);
    /* Not silently reconnected inside the transaction. */
    fixture_usage(&r, "P1", "P1", "tx-lost-2", "2026-02-01", NULL);
    assert_int_equal(store_usage_insert(db->store, &r, &err), EP_ERR_IO);
    store_write_rollback(db->store);
    assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM promotion_usage"),
                     0);
    use(db->store, "P1", "tx-again", "2026-02-01", NULL);
}

int main(void)
{
#define T(name) \
    cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_usage_counts),
        T(test_transaction_insert_get_void),
        T(test_one_use_per_transaction_and_promotion),
        T(test_money_is_exact),
        T(test_rollback_leaves_nothing),
        T(test_write_lock_keeps_second_writer_out),
        T(test_check_then_insert_holds_the_limit),
        T(test_widths_are_checked_alike),
        T(test_lost_connection_before_commit),
        T(test_lost_connection_mid_transaction),
    };
#undef T

    return fixture_run("store-usage", tests, sizeof(tests) / sizeof(tests[0]));
}
