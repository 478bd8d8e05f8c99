/*
 * test_usage_race.c - usage limits under concurrency and crashes, with
 * real processes on one database, SQLite and PostgreSQL (the same tests).
 *
 * Race: 8 processes x 200 checkouts on a promotion with max_uses 500 and
 * max_uses_per_customer 3, some transaction ids sent twice (by the same
 * process and by another one): exactly 500 uses, no customer over 3, no
 * transaction counted twice.
 *
 * Crash: processes committing in a loop are killed with SIGKILL at random
 * moments; after each round the database is reopened (on SQLite that
 * recovers the WAL; on PostgreSQL the server first finishes with the dead
 * clients' sessions, committing or rolling back) and every checkout is
 * fully recorded or not at all, and the counts equal the rows.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/localtime.h"
#include "fixture.h"
#include "sync/sync.h"
#include "usage/usage.h"

#define PROCESSES 8
#define COMMITS   200
#define CUSTOMERS 300

#define LIMITED                                                       \
    "[{\"code\": \"LIMIT\", \"promo_type\": \"percent_discount\","    \
    "  \"rules\": {\"type\": \"percent\", \"discount_percent\": 10}," \
    "  \"is_stackable\": true, \"max_uses\": 500,"                    \
    "  \"max_uses_per_customer\": 3},"                                \
    " {\"code\": \"FREE\", \"promo_type\": \"fixed_discount\","       \
    "  \"execution_stage\": \"cart_level\", \"is_stackable\": true,"  \
    "  \"rules\": {\"type\": \"fixed\", \"discount_amount\": 500},"   \
    "  \"current_uses\": 7}]"

/* A deterministic customer for a transaction id. */
static unsigned customer_of(const char *txid)
{
    unsigned h = 2166136261u;

    for (const char *p = txid; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % CUSTOMERS;
}

static void format_cart(char *buf, size_t size, const char *txid)
{
    snprintf(buf, size,
             "{\"brand_id\": \"B1\", \"transaction_id\": \"%s\","
             " \"at\": \"2026-03-02T10:00:00+07:00\","
             " \"customer\": {\"id\": \"CUST%u\"},"
             " \"lines\": [{\"line_id\": \"1\", \"product_id\": \"A\","
             " \"category_id\": \"K\", \"quantity\": 1,"
             " \"unit_price\": 20000}]}",
             txid, customer_of(txid));
}

/* One checkout from a child process; false on an unexpected failure. */
static bool child_commit(struct store *store, const struct promo_set *set,
                         const char *txid)
{
    char text[1024];
    struct ep_arena arena;
    struct ep_buf out;
    struct ep_error err;
    struct cart *cart = NULL;
    bool replayed = false;
    enum ep_status status;

    format_cart(text, sizeof(text), txid);
    ep_error_clear(&err);
    ep_arena_init(&arena, 65536, (size_t)1 << 26);
    ep_buf_init(&out, 1 << 20);
    status = cart_parse(text, strlen(text), &arena, &cart, &err);
    if (status == EP_OK)
        status = usage_commit(store, set, cart, FIXTURE_STORE, 1800000000,
                              &arena, &out, &replayed, &err);
    if (status != EP_OK)
        fprintf(stderr, "commit %s: %s\n", txid, err.message);
    ep_buf_deinit(&out);
    ep_arena_deinit(&arena);
    return status == EP_OK;
}

/* The body of a child: its own connection and snapshot, then commits. */
static void child_run(const char *db, int process, int commits, bool forever)
{
    struct store_options options = { .busy_timeout_ms = 30000 };
    struct ep_config config;
    struct store *store = NULL;
    struct promo_set *set = NULL;
    bool ok = true;

    memset(&config, 0, sizeof(config));
    config.company_id = FIXTURE_COMPANY;
    config.store_id = FIXTURE_STORE;
    if (store_open(db, &options, &store, NULL) != EP_OK ||
        sync_snapshot_load(store, &config, &set, NULL) != EP_OK)
        _exit(3);
    for (int k = 0; ok && (forever || k < commits); k++) {
        char txid[64];
        /* Every 10th id is another process's, every 7th a repeat. */
        int owner = k % 10 == 0 ? (process + 1) % PROCESSES : process;
        int number = k % 7 == 6 ? k - 3 : k;
        snprintf(txid, sizeof(txid), "P%d-%d", owner, number);
        ok = child_commit(store, set, txid);
    }
    promo_set_release(set);
    store_close(store);
    _exit(ok ? 0 : 4);
}

static pid_t spawn(const char *db, int process, int commits, bool forever)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0)
        child_run(db, process, commits, forever);
    return pid;
}

/*
 * Checks that each stored checkout has exactly one usage row per promotion
 * its stored response applied. The SQL is the same on both engines; the
 * JSON is read here.
 */
static void check_checkouts_whole(const struct fixture *f)
{
    char *rows = fixture_sql(f, "SELECT (SELECT COUNT(*) FROM promotion_usage"
                                " u WHERE u.transaction_id = "
                                "t.transaction_id), t.response_json FROM "
                                "pos_transactions t");
    char *line = rows;

    while (*line != '\0') {
        char *end = strchr(line, '\n');
        char *bar = strchr(line, '|');
        json_t *response;
        assert_non_null(end);
        assert_non_null(bar);
        *end = '\0';
        response = json_loads(bar + 1, 0, NULL);
        assert_non_null(response);
        assert_int_equal(json_array_size(json_object_get(response, "applied")),
                         strtol(line, NULL, 10));
        json_decref(response);
        line = end + 1;
    }
    free(rows);
}

/* Checks every checkout is whole and every count equals its rows. */
static void check_consistent(const struct fixture *f)
{
    /* Usage rows without their checkout, or checkouts missing rows. */
    assert_int_equal(fixture_sql_int(f,
                                     "SELECT COUNT(*) FROM promotion_usage u "
                                     "WHERE NOT EXISTS (SELECT 1 FROM "
                                     "pos_transactions t WHERE "
                                     "t.transaction_id = u.transaction_id)"),
                     0);
    check_checkouts_whole(f);
    assert_int_equal(fixture_sql_int(f,
                                     "SELECT COUNT(*) FROM promotions p WHERE "
                                     "p.current_uses != (CASE p.code WHEN "
                                     "'FREE' THEN 7 ELSE 0 END) + (SELECT "
                                     "COUNT(*) FROM promotion_usage u WHERE "
                                     "u.promotion_id = p.id AND u.voided_at "
                                     "IS NULL)"),
                     0);
    fixture_check_integrity(f);
}

static void test_race_exact_limits(void **state)
{
    struct fixture f;
    pid_t pids[PROCESSES];
    int status;

    (void)state;
    fixture_open(&f, LIMITED);
    store_close(f.store);
    f.store = NULL;
    for (int i = 0; i < PROCESSES; i++)
        pids[i] = spawn(f.db.url, i, COMMITS, false);
    for (int i = 0; i < PROCESSES; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                         "promotion_usage WHERE "
                                         "promotion_code = 'LIMIT'"),
                     500);
    assert_int_equal(fixture_sql_int(&f, "SELECT current_uses FROM "
                                         "promotions WHERE code = 'LIMIT'"),
                     500);
    assert_int_equal(fixture_sql_int(&f, "SELECT MAX(n) FROM (SELECT "
                                         "COUNT(*) AS n FROM promotion_usage "
                                         "WHERE promotion_code = 'LIMIT' "
                                         "GROUP BY customer_id) AS c") <= 3,
                     1);
    assert_int_equal(fixture_sql_int(&f, "SELECT COUNT(*) - COUNT(DISTINCT "
                                         "transaction_id || promotion_id) "
                                         "FROM promotion_usage"),
                     0);
    /* Every distinct id sent is one checkout. */
    assert_true(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                    "pos_transactions") < PROCESSES * COMMITS);
    check_consistent(&f);
    fixture_close(&f);
}

static void test_kill_during_commits(void **state)
{
    struct fixture f;
    pid_t pids[4];
    unsigned seed = 20261125;

    (void)state;
    fixture_open(&f, LIMITED);
    store_close(f.store);
    f.store = NULL;
    for (int round = 0; round < 12; round++) {
        struct timespec pause = { 0,
                                  (long)(20 + rand_r(&seed) % 180) * 1000000L };
        for (int i = 0; i < 4; i++)
            pids[i] = spawn(f.db.url, (round * 4 + i) % PROCESSES, 0, true);
        nanosleep(&pause, NULL);
        for (int i = 0; i < 4; i++) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
        test_engine_db_wait_clients(&f.db, 0);
        check_consistent(&f);
    }
    assert_true(fixture_sql_int(&f, "SELECT COUNT(*) FROM "
                                    "pos_transactions") > 0);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_race_exact_limits),
        cmocka_unit_test(test_kill_during_commits),
    };

    return test_engines_run("test-usage-race", tests,
                            sizeof(tests) / sizeof(tests[0]));
}
