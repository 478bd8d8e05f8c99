/*
 * test_api_nodes.c - several edge nodes on one database (SPEC.md section
 * 8): two API servers share it, on SQLite (one file) and, when
 * EDGEPROMO_TEST_PG_URL names a PostgreSQL server, on PostgreSQL (one
 * schema per run). A checkout made on one node is replayed by the other;
 * a per-customer limit holds while both nodes commit for the customer at
 * once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "common/localtime.h"
#include "common/log.h"
#include "common/mem.h"
#include "fixture.h"
#include "support.h"

#define THREADS_PER_NODE   2
#define COMMITS_PER_THREAD 10

static bool use_postgres; /* the group running now */

struct nodes {
    char dir[512];        /* SQLite: the temporary folder */
    char schema[64];      /* PostgreSQL: this test's schema */
    char db[1200];        /* what both servers open */
    struct api_fixture a; /* node A */
    struct api_fixture b; /* node B */
};

/* ---- PostgreSQL: a schema per test ------------------------------------ */

static void pg_exec(const char *sql)
{
    PGconn *conn = PQconnectdb(getenv("EDGEPROMO_TEST_PG_URL"));
    PGresult *res;

    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("PostgreSQL: %s", PQerrorMessage(conn));
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
}

/* The admin URL with search_path set to schema. */
static void pg_url(const char *schema, char *out, size_t size)
{
    const char *base = getenv("EDGEPROMO_TEST_PG_URL");

    snprintf(out, size, "%s%soptions=-csearch_path%%3D%s", base,
             strchr(base, '?') != NULL ? "&" : "?", schema);
}

/* ---- two nodes -------------------------------------------------------- */

static int setup(void **state)
{
    struct nodes *n = calloc(1, sizeof(*n));
    char sync[1024];
    char sql[160];

    if (use_postgres) {
        snprintf(n->schema, sizeof(n->schema), "api_%d_%ld", (int)getpid(),
                 random() % 100000);
        snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", n->schema);
        pg_exec(sql);
        pg_url(n->schema, n->db, sizeof(n->db));
    } else {
        test_tmpdir(n->dir, sizeof(n->dir));
        snprintf(n->db, sizeof(n->db), "%s/edge.db", n->dir);
    }
    test_source_path(FIXTURE_SYNC, sync, sizeof(sync));
    fixture_db_build(n->db, sync, FIXTURE_STORE, FIXTURE_COMPANY);
    fixture_serve(&n->a, NULL, n->db, NULL);
    fixture_serve(&n->b, NULL, n->db, NULL);
    *state = n;
    return 0;
}

static int teardown(void **state)
{
    struct nodes *n = *state;
    char sql[160];

    fixture_stop(&n->a);
    fixture_stop(&n->b);
    if (use_postgres) {
        snprintf(sql, sizeof(sql),
                 "SET client_min_messages = warning; DROP SCHEMA %s CASCADE",
                 n->schema);
        pg_exec(sql);
    } else {
        test_rmdir(n->dir);
    }
    free(n);
    return 0;
}

/* A cart with the HEMAT5K voucher for customer, as transaction id. */
static void voucher_cart(char *out, size_t size, const char *id,
                         const char *customer)
{
    snprintf(out, size,
             "{\"brand_id\":\"B1\",\"at\":\"2026-06-15T12:00:00+07:00\","
             "\"transaction_id\":\"%s\",\"voucher_codes\":[\"HEMAT5K\"],"
             "\"customer\":{\"id\":\"%s\"},\"lines\":[{\"line_id\":\"1\","
             "\"product_id\":\"es-teh\",\"category_id\":\"drinks\","
             "\"quantity\":2,\"unit_price\":8000},{\"line_id\":\"2\","
             "\"product_id\":\"nasi-goreng\",\"category_id\":\"food\","
             "\"quantity\":1,\"unit_price\":25000}]}",
             id, customer);
}

static void test_replay_and_void_across_nodes(void **state)
{
    struct nodes *n = *state;
    struct http_client a;
    struct http_client b;
    struct http_reply first;
    struct http_reply r;
    char cart[1024];
    char header[32];

    http_client_init(&a, n->a.url);
    http_client_init(&b, n->b.url);
    voucher_cart(cart, sizeof(cart), "tx-node-1", "cust-1");
    http_post(&a, "/v1/transactions", cart, &first);
    assert_int_equal(first.status, 200);
    http_post(&b, "/v1/transactions", cart, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, first.body);
    assert_true(
        http_reply_header(&r, "Idempotent-Replayed", header, sizeof(header)));
    http_reply_free(&r);
    http_post(&b, "/v1/transactions/tx-node-1/void", "", &r);
    assert_int_equal(r.status, 200);
    http_reply_free(&r);
    http_get(&a, "/v1/usage/p-hemat5k?customer_id=cust-1", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "customer_uses"), 0);
    assert_int_equal(reply_int(&r, "voided_uses"), 1);
    http_reply_free(&r);
    http_reply_free(&first);
    http_client_deinit(&a);
    http_client_deinit(&b);
}

struct committer {
    const char *base; /* the node's URL */
    int index;        /* thread number */
    int granted;      /* 200s that applied HEMAT5K */
    int failed;       /* answers other than 200 */
};

/* True when the reply's "applied" lists code. */
static bool applied_code(const struct http_reply *r, const char *code)
{
    json_t *applied = json_object_get(r->json, "applied");
    json_t *item;
    size_t i;

    json_array_foreach(applied, i, item)
    {
        const char *text = json_string_value(json_object_get(item, "code"));
        if (text != NULL && strcmp(text, code) == 0)
            return true;
    }
    return false;
}

static void *commit_loop(void *arg)
{
    struct committer *c = arg;
    struct http_client http;
    struct http_reply r;
    char cart[1024];
    char id[64];

    http_client_init(&http, c->base);
    for (int i = 0; i < COMMITS_PER_THREAD; i++) {
        snprintf(id, sizeof(id), "tx-race-%d-%d", c->index, i);
        voucher_cart(cart, sizeof(cart), id, "cust-race");
        http_post(&http, "/v1/transactions", cart, &r);
        if (r.status != 200)
            c->failed++;
        else if (applied_code(&r, "HEMAT5K"))
            c->granted++;
        http_reply_free(&r);
    }
    http_client_deinit(&http);
    return NULL;
}

static void test_customer_limit_holds_across_nodes(void **state)
{
    struct nodes *n = *state;
    struct committer c[2 * THREADS_PER_NODE];
    pthread_t threads[2 * THREADS_PER_NODE];
    struct http_client a;
    struct http_reply r;
    int granted = 0;

    for (int i = 0; i < 2 * THREADS_PER_NODE; i++) {
        c[i] = (struct committer){ i % 2 ? n->b.url : n->a.url, i, 0, 0 };
        pthread_create(&threads[i], NULL, commit_loop, &c[i]);
    }
    for (int i = 0; i < 2 * THREADS_PER_NODE; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(c[i].failed, 0);
        granted += c[i].granted;
    }
    /* HEMAT5K allows 2 uses per customer. */
    assert_int_equal(granted, 2);
    http_client_init(&a, n->a.url);
    http_get(&a, "/v1/usage/p-hemat5k?customer_id=cust-race", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(reply_int(&r, "customer_uses"), 2);
    assert_int_equal(reply_int(&r, "current_uses"), 2);
    http_reply_free(&r);
    http_client_deinit(&a);
}

static int start_sqlite(void **state)
{
    (void)state;
    use_postgres = false;
    return 0;
}

static int start_postgres(void **state)
{
    (void)state;
    use_postgres = true;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_replay_and_void_across_nodes),
        T(test_customer_limit_holds_across_nodes),
#undef T
    };
    const char *pg = getenv("EDGEPROMO_TEST_PG_URL");
    int failures;

    ep_mem_install_json_allocator();
    ep_tz_apply("Asia/Jakarta", NULL);
    ep_log_set_level(EP_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srandom((unsigned)getpid());
    failures = _cmocka_run_group_tests("api nodes [sqlite]", tests,
                                       sizeof(tests) / sizeof(tests[0]),
                                       start_sqlite, NULL);
    if (pg == NULL || pg[0] == '\0') {
        fprintf(stderr, "EDGEPROMO_TEST_PG_URL is not set: PostgreSQL not "
                        "tested\n");
        return failures;
    }
    return failures + _cmocka_run_group_tests("api nodes [postgresql]", tests,
                                              sizeof(tests) / sizeof(tests[0]),
                                              start_postgres, NULL);
}
